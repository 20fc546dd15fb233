/*
** cli/cmd_policy_perm.c
** 'ward policy permissions PATH... --actor ID --scope NAME...': what one
** actor with one scope may do, for every action of the operation table.
** Computed from the compiled policies (wd_scope_policy and friends), not
** by sampling requests: a policy applies to an action when one of its
** action patterns matches it and every condition that reads only the
** actor (or the action) holds for this actor; what is left are the
** resource patterns and the conditions on the resource and attributes,
** which hold or not per call. Denies that apply carve exceptions out.
** Runs in: the ward command (broker side).
*/
#include <stdio.h>
#include <string.h>

#include "cmd_int.h"
#include "ward/wd_ops.h"

static const char usage_perm[] =
    "usage: ward policy permissions PATH... --actor ID [--meta K=V]...\n"
    "                               --scope NAME... [--json]\n"
    "\n"
    "For every action ward asks (the operation table), what this actor with\n"
    "this scope may be allowed: the resource patterns of each allow policy\n"
    "that applies, the conditions that must still hold on each call (on\n"
    "the resource and the attributes), and the deny policies that carve\n"
    "exceptions out, each with its id and file:line. A policy applies when\n"
    "one of its actions matches and its conditions on the actor hold for\n"
    "this actor. Patterns are shown as the engine reads them: '*', an exact\n"
    "string, or a prefix ending in '*' ('p.*' is the prefix 'p').\n"
    "\n"
    "options:\n"
    "  --actor ID         actor id\n"
    "  --meta K=V         actor meta (repeatable; V in brackets is a list)\n"
    "  --scope NAME       policy group or policy id in scope (repeatable)\n"
    "  --json             one JSON object for tools\n"
    "  -h, --help         show this help\n"
    "\n"
    "exit status: 0 listed; 2 bad usage or an invalid policy.\n";

/* {====== Output helpers shared with diff ====== */

void wd__cmd_json_str(FILE *f, const char *s, size_t n) {
  size_t i;
  fputc('"', f);
  for (i = 0; i < n; i++) {
    unsigned char c = (unsigned char)s[i];
    if (c == '"' || c == '\\')
      fprintf(f, "\\%c", c);
    else if (c < 0x20 || c == 0x7f)
      fprintf(f, "\\u%04x", c);
    else
      fputc(c, f);
  }
  fputc('"', f);
}

void wd__cmd_json_val(FILE *f, const wd_pval *v) {
  size_t i;
  switch (v->type) {
    case WD_PVAL_NULL:
      fputs("null", f);
      break;
    case WD_PVAL_BOOL:
      fputs(v->u.b ? "true" : "false", f);
      break;
    case WD_PVAL_INT:
      fprintf(f, "%lld", (long long)v->u.i);
      break;
    case WD_PVAL_NUM:
      fprintf(f, "%.17g", v->u.n);
      break;
    case WD_PVAL_STR:
      wd__cmd_json_str(f, v->u.s.p, v->u.s.len);
      break;
    case WD_PVAL_LIST:
      fputc('[', f);
      for (i = 0; i < v->u.list.n; i++) {
        if (i > 0) fputc(',', f);
        wd__cmd_json_val(f, &v->u.list.v[i]);
      }
      fputc(']', f);
      break;
    default:
      fputc('{', f);
      for (i = 0; i < v->u.map.n; i++) {
        if (i > 0) fputc(',', f);
        wd__cmd_json_str(f, v->u.map.v[i].key, strlen(v->u.map.v[i].key));
        fputc(':', f);
        wd__cmd_json_val(f, &v->u.map.v[i].val);
      }
      fputc('}', f);
      break;
  }
}

void wd__cmd_put_pat(FILE *f, const wd_ppat *p) {
  if (p->kind == WD_PPAT_ANY)
    fputc('*', f);
  else
    fprintf(f, "%.*s%s", (int)p->len, p->s,
            p->kind == WD_PPAT_PREFIX ? "*" : "");
}

/* }====== */

/* The actor's value of 'field' (actor.id or actor.meta[.path]), or NULL. */
static const wd_pval *actor_value(const wd_preq *rq, const char *field,
                                  wd_pval *tmp) {
  const wd_pval *v = rq->actor_meta;
  size_t i, n;
  if (strcmp(field, "actor.id") == 0) {
    if (rq->actor_id == NULL) return NULL;
    *tmp = wd_pval_str(rq->actor_id);
    return tmp;
  }
  if (strncmp(field, "actor.meta", 10) != 0) return NULL;
  field += 10;
  while (v != NULL && *field == '.') {
    n = strcspn(++field, ".");
    if (v->type != WD_PVAL_MAP) return NULL;
    for (i = 0; i < v->u.map.n; i++)
      if (strlen(v->u.map.v[i].key) == n &&
          memcmp(v->u.map.v[i].key, field, n) == 0)
        break;
    v = i < v->u.map.n ? &v->u.map.v[i].val : NULL;
    field += n;
  }
  return v != NULL && v->type != WD_PVAL_NULL ? v : NULL;
}

/*
** Does policy 'i' apply to 'rq' (its action and actor): an action
** pattern matches and every condition reading only the actor and the
** action holds? 1 or 0.
*/
static int applies(const wd_scope *sc, size_t i, const wd_preq *rq) {
  wd_pinfo pi;
  wd_ppat p;
  wd_pcond c;
  size_t j;
  wd_scope_policy(sc, i, &pi);
  for (j = 0; j < pi.nacts; j++)
    if (wd_scope_pattern(sc, i, 0, j, &p) == 0 && wd_ppat_match(&p, rq->action))
      break;
  if (j == pi.nacts) return 0;
  for (j = 0; j < pi.nconds; j++) {
    wd_scope_cond(sc, i, j, &c);
    if ((c.reads & ~(WD_PREADS_ACTOR | WD_PREADS_ACTION)) == 0 &&
        !wd_scope_cond_holds(sc, i, j, rq))
      return 0;
  }
  return 1;
}

static int residual(const wd_pcond *c) {
  return (c->reads & ~(WD_PREADS_ACTOR | WD_PREADS_ACTION)) != 0;
}

/* The id of a deny that applies to 'rq' on every resource with no
** condition left ("*", no residual condition), or NULL. */
static const char *total_deny(const wd_scope *sc, const wd_preq *rq) {
  size_t i, j, n = wd_scope_count(sc);
  wd_pinfo pi;
  wd_ppat p;
  wd_pcond c;
  for (i = 0; i < n; i++) {
    int any = 0, cond = 0;
    wd_scope_policy(sc, i, &pi);
    if (pi.effect != WD_PEFFECT_DENY || !applies(sc, i, rq)) continue;
    for (j = 0; j < pi.nress; j++)
      if (wd_scope_pattern(sc, i, 1, j, &p) == 0 && p.kind == WD_PPAT_ANY)
        any = 1;
    for (j = 0; j < pi.nconds; j++)
      if (wd_scope_cond(sc, i, j, &c) == 0 && residual(&c)) cond = 1;
    if (any && !cond) return pi.id;
  }
  return NULL;
}

/* {====== Text ====== */

static void text_cond(const wd_pcond *c, const wd_preq *rq) {
  const wd_pval *v;
  wd_pval tmp;
  printf("        %s %s ", c->field, c->op);
  if (c->from != NULL) {
    fputs(c->from, stdout);
    if ((v = actor_value(rq, c->from, &tmp)) != NULL) {
      fputs(" (= ", stdout);
      wd__cmd_policy_put_val(stdout, v);
      fputc(')', stdout);
    } else if (strncmp(c->from, "actor.", 6) == 0) {
      fputs(" (missing: never holds)", stdout);
    }
  } else if (c->value != NULL) {
    wd__cmd_policy_put_val(stdout, c->value);
  } else {
    fputs(c->want ? "true" : "false", stdout);
  }
  printf("  [line %d]\n", c->line);
}

static void text_policy(const wd_scope *sc, size_t i, const wd_preq *rq) {
  wd_pinfo pi;
  wd_ppat p;
  wd_pcond c;
  size_t j, k = 0;
  wd_scope_policy(sc, i, &pi);
  printf("  %-6s ", pi.effect == WD_PEFFECT_ALLOW ? "allow" : "except");
  for (j = 0; j < pi.nress; j++) {
    if (j > 0) fputs(", ", stdout);
    wd_scope_pattern(sc, i, 1, j, &p);
    wd__cmd_put_pat(stdout, &p);
  }
  printf("  by %s  [%s:%d]\n", pi.id, pi.file, pi.line);
  for (j = 0; j < pi.nconds; j++) {
    wd_scope_cond(sc, i, j, &c);
    if (!residual(&c)) continue;
    if (k++ == 0)
      printf("      %s\n",
             pi.effect == WD_PEFFECT_ALLOW ? "if all hold:" : "when all hold:");
    text_cond(&c, rq);
  }
}

static void text_action(const wd_scope *sc, wd_preq *rq) {
  size_t i, n = wd_scope_count(sc), nallow = 0;
  const char *all;
  for (i = 0; i < n; i++) {
    wd_pinfo pi;
    wd_scope_policy(sc, i, &pi);
    if (pi.effect == WD_PEFFECT_ALLOW && applies(sc, i, rq)) nallow++;
  }
  if (nallow == 0) {
    printf("%s: nothing (no allow applies)\n", rq->action);
    return;
  }
  if ((all = total_deny(sc, rq)) != NULL)
    printf("%s: nothing (%s denies every resource)\n", rq->action, all);
  else
    printf("%s:\n", rq->action);
  for (int eff = WD_PEFFECT_ALLOW; eff >= WD_PEFFECT_DENY; eff--)
    for (i = 0; i < n; i++) {
      wd_pinfo pi;
      wd_scope_policy(sc, i, &pi);
      if (pi.effect == eff && applies(sc, i, rq)) text_policy(sc, i, rq);
    }
}

/* }====== */

/* {====== JSON ====== */

static void json_policy(const wd_scope *sc, size_t i) {
  wd_pinfo pi;
  wd_ppat p;
  wd_pcond c;
  size_t j, k = 0;
  wd_scope_policy(sc, i, &pi);
  fputs("{\"id\":", stdout);
  wd__cmd_json_str(stdout, pi.id, strlen(pi.id));
  fputs(",\"file\":", stdout);
  wd__cmd_json_str(stdout, pi.file, strlen(pi.file));
  printf(",\"line\":%d,\"col\":%d,\"resources\":[", pi.line, pi.col);
  for (j = 0; j < pi.nress; j++) {
    wd_scope_pattern(sc, i, 1, j, &p);
    printf("%s{\"kind\":\"%s\",\"pattern\":", j > 0 ? "," : "",
           p.kind == WD_PPAT_ANY     ? "any"
           : p.kind == WD_PPAT_EXACT ? "exact"
                                     : "prefix");
    wd__cmd_json_str(stdout, p.s, p.len);
    fputc('}', stdout);
  }
  fputs("],\"conditions\":[", stdout);
  for (j = 0; j < pi.nconds; j++) {
    wd_scope_cond(sc, i, j, &c);
    if (!residual(&c)) continue;
    printf("%s{\"field\":", k++ > 0 ? "," : "");
    wd__cmd_json_str(stdout, c.field, strlen(c.field));
    printf(",\"operator\":\"%s\"", c.op);
    if (c.from != NULL) {
      fputs(",\"value_from\":", stdout);
      wd__cmd_json_str(stdout, c.from, strlen(c.from));
    } else if (c.value != NULL) {
      fputs(",\"value\":", stdout);
      wd__cmd_json_val(stdout, c.value);
    } else {
      printf(",\"value\":%s", c.want ? "true" : "false");
    }
    printf(",\"line\":%d,\"col\":%d}", c.line, c.col);
  }
  fputs("]}", stdout);
}

static void json_action(const wd_scope *sc, wd_preq *rq, int first) {
  size_t i, n = wd_scope_count(sc), k;
  const char *all = total_deny(sc, rq);
  int eff;
  printf("%s{\"action\":\"%s\",\"denied_always_by\":", first ? "" : ",",
         rq->action);
  if (all != NULL)
    wd__cmd_json_str(stdout, all, strlen(all));
  else
    fputs("null", stdout);
  for (eff = WD_PEFFECT_ALLOW; eff >= WD_PEFFECT_DENY; eff--) {
    printf(",\"%s\":[", eff == WD_PEFFECT_ALLOW ? "allow" : "deny");
    for (i = 0, k = 0; i < n; i++) {
      wd_pinfo pi;
      wd_scope_policy(sc, i, &pi);
      if (pi.effect != eff || !applies(sc, i, rq)) continue;
      if (k++ > 0) fputc(',', stdout);
      json_policy(sc, i);
    }
    fputc(']', stdout);
  }
  fputc('}', stdout);
}

/* }====== */

int wd__cmd_policy_perm(int argc, char **argv) {
  const char *const *acts = wd_policy_actions();
  wd_polset *ps = NULL;
  wd_scope *sc = NULL;
  wd__reqargs *q = wd_calloc(1, sizeof *q);
  wd_preq rq;
  char err[1024];
  size_t i;
  int r;
  if (q == NULL) return 2;
  r = wd__cmd_policy_args(q, "permissions", usage_perm, argc, argv,
                          WD_REQARGS_JSON);
  if (r != 0) goto out;
  if (q->actor == NULL || q->nscope == 0) {
    fprintf(stderr,
            "ward policy permissions: --actor and --scope are required "
            "(without them every request is denied)\n%s",
            usage_perm);
    r = 2;
    goto out;
  }
  if ((r = wd__cmd_policy_load("permissions", q->paths, q->npaths, &ps)) != 0)
    goto out;
  if (wd_scope_new(ps->set, q->scope, q->nscope, &sc, err, sizeof err) != 0) {
    fprintf(stderr, "ward policy permissions: %s\n", err);
    r = 2;
    goto out;
  }
  memset(&rq, 0, sizeof rq);
  rq.actor_id = q->actor;
  rq.actor_meta = &q->metav;
  rq.resource = "";
  if (q->json) {
    fputs("{\"actor\":{\"id\":", stdout);
    wd__cmd_json_str(stdout, q->actor, strlen(q->actor));
    fputs(",\"meta\":", stdout);
    wd__cmd_json_val(stdout, &q->metav);
    fputs("},\"scope\":[", stdout);
    for (i = 0; i < q->nscope; i++) {
      if (i > 0) fputc(',', stdout);
      wd__cmd_json_str(stdout, q->scope[i], strlen(q->scope[i]));
    }
    fputs("],\"actions\":[", stdout);
  } else {
    printf("actor %s ", q->actor);
    wd__cmd_policy_put_val(stdout, &q->metav);
    printf("\nscope ");
    for (i = 0; i < q->nscope; i++)
      printf("%s%s", i > 0 ? ", " : "", q->scope[i]);
    printf(" (%zu %s)\n", wd_scope_count(sc),
           wd_scope_count(sc) == 1 ? "policy" : "policies");
  }
  for (i = 0; acts[i] != NULL; i++) {
    rq.action = acts[i];
    if (q->json)
      json_action(sc, &rq, i == 0);
    else
      text_action(sc, &rq);
  }
  if (q->json) fputs("]}\n", stdout);
  r = 0;
out:
  wd_scope_release(sc);
  wd_polset_free(ps);
  wd__cmd_policy_args_clear(q);
  wd_free(q);
  return r < 0 ? 0 : r;
}
