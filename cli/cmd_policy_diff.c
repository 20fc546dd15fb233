/*
** cli/cmd_policy_diff.c
** 'ward policy diff OLD NEW [--app APPDIR]': which requests change
** decision between two policy sets, so that CI can gate a policy change.
**
** The requests: every actor and scope the app declares (entries,
** services, host defaults; without --app every group and ungrouped
** policy of either set as a scope, with the actor ids and meta the
** conditions name), every action of the operation table, as resources
** the app's entries, hosts, namespaces and PIDs on its hosts plus the
** resource patterns of the policies (a prefix "p" that none of the
** app's resources has gives "p", "px", "p.x" and "p:x"), and for each attribute or meta key a condition reads, the
** values that make each condition true and false (its constants, the
** values of the field it is compared with, a value no policy names, and
** the key missing). Each request is decided by both sets with the engine
** itself. A regular expression cannot be enumerated this way: a policy
** whose decision turns on one is reported as a sample.
** Exit status: 0 nothing changes, 1 something does, 2 bad usage or input.
** Runs in: the ward command (broker side).
*/
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd_int.h"
#include "ward/wd_ops.h"

#define MAXPATHS WD_CMD_MAXARGS
#define MAXDIMS  16
#define MAXCONDS 512
#define MAXREQS  200000 /* requests per actor, scope and action */

static const char usage_diff[] =
    "usage: ward policy diff OLD NEW [--app APPDIR] [--base PATH]... "
    "[--json]\n"
    "\n"
    "Decide the same requests with the policies of OLD and of NEW (each an\n"
    "app directory or a YAML file) and print every request whose decision\n"
    "changes, one line each: actor, scope, action, resource, attributes,\n"
    "old -> new, and the policies that decide each side.\n"
    "\n"
    "The requests: every actor and scope the app declares (with --app;\n"
    "without it, each group and ungrouped policy of either set as a scope,\n"
    "with the actor ids and meta the conditions name); every action ward\n"
    "asks; the app's entries, hosts and PIDs and the policies' resource\n"
    "patterns as resources; attribute and meta values that make each\n"
    "condition true and false, and missing. A condition with a regular\n"
    "expression (matches, nmatches) cannot be enumerated: the result is\n"
    "then a sample, and the policies concerned are named.\n"
    "\n"
    "options:\n"
    "  --app APPDIR       the app whose actors, scopes and resources to use\n"
    "  --base PATH        policies loaded on both sides (repeatable)\n"
    "  --json             one JSON object for tools\n"
    "  -h, --help         show this help\n"
    "\n"
    "exit status: 0 no decision changes; 1 some decision changes; 2 bad\n"
    "usage or an invalid policy.\n";

/* {====== Values: owned, deduplicated ====== */

typedef struct Vals {
  wd_pval *v;
  size_t n, cap;
} Vals;

static int same(const wd_pval *a, const wd_pval *b) {
  size_t i;
  if (a->type != b->type) return 0;
  switch (a->type) {
    case WD_PVAL_NULL:
      return 1;
    case WD_PVAL_BOOL:
      return a->u.b == b->u.b;
    case WD_PVAL_INT:
      return a->u.i == b->u.i;
    case WD_PVAL_NUM:
      return a->u.n == b->u.n;
    case WD_PVAL_STR:
      return a->u.s.len == b->u.s.len &&
             memcmp(a->u.s.p, b->u.s.p, a->u.s.len) == 0;
    case WD_PVAL_LIST:
      if (a->u.list.n != b->u.list.n) return 0;
      for (i = 0; i < a->u.list.n; i++)
        if (!same(&a->u.list.v[i], &b->u.list.v[i])) return 0;
      return 1;
    default:
      if (a->u.map.n != b->u.map.n) return 0;
      for (i = 0; i < a->u.map.n; i++)
        if (strcmp(a->u.map.v[i].key, b->u.map.v[i].key) != 0 ||
            !same(&a->u.map.v[i].val, &b->u.map.v[i].val))
          return 0;
      return 1;
  }
}

/* Out of memory: the command goes on with what it has and then fails
** with exit 2 (a partial diff must never pass a CI gate). The command is
** single-threaded; this flag is its only state outside the Diff. */
static int oom_seen;

static void oom(void) {
  oom_seen = 1;
}

/* Add a copy of 'v' unless an equal value is there. */
static void vals_add(Vals *s, const wd_pval *v) {
  size_t i;
  for (i = 0; i < s->n; i++)
    if (same(&s->v[i], v)) return;
  if (s->n == s->cap) {
    size_t nc = s->cap ? s->cap * 2 : 8;
    wd_pval *nv = wd_realloc(s->v, nc * sizeof *nv);
    if (nv == NULL) {
      oom();
      return;
    }
    s->v = nv;
    s->cap = nc;
  }
  if (wd_pval_copy(v, &s->v[s->n]) != 0) {
    oom();
    return;
  }
  s->n++;
}

static void vals_str(Vals *s, const char *p, size_t n) {
  wd_pval v = wd_pval_strn(p, n);
  vals_add(s, &v);
}

static void vals_clear(Vals *s) {
  size_t i;
  for (i = 0; i < s->n; i++)
    wd_pval_clear(&s->v[i]);
  wd_free(s->v);
  memset(s, 0, sizeof *s);
}

/* }====== */

/* {====== Subjects: an actor (fixed, or enumerated) and a scope ====== */

typedef struct Subject {
  const char *actor; /* NULL: enumerate ids from the conditions */
  wd_pval meta;      /* owned; the app's actor meta */
  const char *scope[MAXPATHS];
  size_t nscope;
} Subject;

typedef struct Subjects {
  Subject *v;
  size_t n, cap;
  char **owned; /* qualified group names made here */
  size_t nowned, ocap;
} Subjects;

static const char *keep(Subjects *ss, char *s) {
  if (ss->nowned == ss->ocap) {
    size_t nc = ss->ocap ? ss->ocap * 2 : 16;
    char **nv = wd_realloc(ss->owned, nc * sizeof *nv);
    if (nv == NULL) {
      wd_free(s);
      oom();
      return NULL;
    }
    ss->owned = nv;
    ss->ocap = nc;
  }
  return ss->owned[ss->nowned++] = s;
}

static int subj_same(const Subject *a, const Subject *b) {
  size_t i;
  if ((a->actor == NULL) != (b->actor == NULL) || a->nscope != b->nscope)
    return 0;
  if (a->actor != NULL &&
      (strcmp(a->actor, b->actor) != 0 || !same(&a->meta, &b->meta)))
    return 0;
  for (i = 0; i < a->nscope; i++)
    if (strcmp(a->scope[i], b->scope[i]) != 0) return 0;
  return 1;
}

/* Add 'sb' (taking its meta) unless it is there. */
static void subj_add(Subjects *ss, Subject *sb) {
  size_t i;
  for (i = 0; i < ss->n; i++)
    if (subj_same(&ss->v[i], sb)) {
      wd_pval_clear(&sb->meta);
      return;
    }
  if (ss->n == ss->cap) {
    size_t nc = ss->cap ? ss->cap * 2 : 8;
    Subject *nv = wd_realloc(ss->v, nc * sizeof *nv);
    if (nv == NULL) {
      wd_pval_clear(&sb->meta);
      {
        oom();
        return;
      }
    }
    ss->v = nv;
    ss->cap = nc;
  }
  ss->v[ss->n++] = *sb;
}

static void subj_sec(Subjects *ss, const wd_sec *sec) {
  Subject sb;
  size_t i;
  if (sec->actor_id == NULL || sec->groups.n + sec->policies.n == 0) return;
  memset(&sb, 0, sizeof sb);
  sb.actor = sec->actor_id;
  sb.meta = wd_pval_null();
  if (sec->actor_meta != NULL &&
      wd_pval_from_node(sec->actor_meta, &sb.meta) != 0) {
    oom();
    return;
  }
  for (i = 0; i < sec->groups.n && sb.nscope < MAXPATHS; i++)
    sb.scope[sb.nscope++] = sec->groups.v[i];
  for (i = 0; i < sec->policies.n && sb.nscope < MAXPATHS; i++)
    sb.scope[sb.nscope++] = sec->policies.v[i];
  subj_add(ss, &sb);
}

/* Every security block of the app that has an actor and a scope. */
static void subjects_app(Subjects *ss, const wd_manifest *m) {
  size_t i;
  for (i = 0; i < m->nentries; i++) {
    const wd_entry *e = m->entries[i];
    if (e->kind == WD_KIND_LUA)
      subj_sec(ss, &e->u.lua.sec);
    else if (e->kind == WD_KIND_SERVICE)
      subj_sec(ss, &e->u.svc.sec);
    else if (e->kind == WD_KIND_HOST)
      subj_sec(ss, &e->u.host.def);
  }
}

/* Each group and each ungrouped policy of a set, alone, as a scope. */
static void subjects_sets(Subjects *ss, const wd_polset *ps) {
  size_t k, i, j;
  for (k = 0; k < ps->nm; k++)
    for (i = 0; i < ps->mv[k]->nentries; i++) {
      const wd_entry *e = ps->mv[k]->entries[i];
      Subject sb;
      if (e->kind != WD_KIND_POLICY) continue;
      memset(&sb, 0, sizeof sb);
      sb.meta = wd_pval_null();
      sb.nscope = 1;
      if (e->u.policy.groupv.n == 0) {
        sb.scope[0] = e->id;
        subj_add(ss, &sb);
      }
      for (j = 0; j < e->u.policy.groupv.n; j++) {
        const char *g = e->u.policy.groupv.v[j];
        char *q;
        if (strchr(g, ':') != NULL) {
          sb.scope[0] = g;
        } else {
          size_t n = strlen(e->ns) + strlen(g) + 2;
          if ((q = wd_malloc(n)) == NULL) {
            oom();
            return;
          }
          snprintf(q, n, "%s:%s", e->ns, g);
          if ((sb.scope[0] = keep(ss, q)) == NULL) return;
        }
        subj_add(ss, &sb);
      }
    }
}

static void subjects_free(Subjects *ss) {
  size_t i;
  for (i = 0; i < ss->n; i++)
    wd_pval_clear(&ss->v[i].meta);
  for (i = 0; i < ss->nowned; i++)
    wd_free(ss->owned[i]);
  wd_free(ss->v);
  wd_free(ss->owned);
}

/* }====== */

/* {====== Dimensions of one (subject, action): what the requests vary ====== */

enum { D_ACTOR, D_META, D_ATTR, D_RES, D_FIXED, D_IGNORE, D_OPAQUE };

typedef struct Dim {
  int kind; /* D_ACTOR, D_META, D_ATTR */
  char key[64];
  Vals vals;
  size_t cur; /* odometer position */
} Dim;

/* A reference to one policy of one of the two scopes. */
typedef struct RRef {
  const wd_scope *sc;
  size_t i;
} RRef;

typedef struct Space {
  Dim dims[MAXDIMS];
  size_t ndims;
  Vals res;
  RRef rules[MAXCONDS];
  size_t nrules;
  const char *sampled[MAXCONDS]; /* policy ids whose regex was sampled */
  size_t nsampled;
} Space;

/*
** What field 'f' is for the enumeration: the actor's id or a meta key
** (fixed when the subject has an actor, else a dimension), a request
** attribute, the resource, the action (enumerated anyway), or something
** this does not enumerate (a nested path: D_OPAQUE, reported as sample).
*/
static int classify(const char *f, int fixed, const char **key) {
  *key = NULL;
  if (strcmp(f, "action") == 0) return D_IGNORE;
  if (strcmp(f, "resource") == 0) return D_RES;
  if (strcmp(f, "actor.id") == 0) return fixed ? D_FIXED : D_ACTOR;
  if (strncmp(f, "actor.meta", 10) == 0) {
    if (fixed) return D_FIXED;
    if (f[10] != '.' || strchr(f + 11, '.') != NULL) return D_OPAQUE;
    *key = f + 11;
    return D_META;
  }
  if (strncmp(f, "meta.", 5) == 0) f += 5;
  if (strchr(f, '.') != NULL) return D_OPAQUE;
  *key = f;
  return D_ATTR;
}

static Vals *dim(Space *sp, int kind, const char *key) {
  size_t i;
  Dim *d;
  if (kind == D_RES) return &sp->res;
  if (key == NULL) key = "id";
  for (i = 0; i < sp->ndims; i++)
    if (sp->dims[i].kind == kind && strcmp(sp->dims[i].key, key) == 0)
      return &sp->dims[i].vals;
  if (sp->ndims == MAXDIMS || strlen(key) >= sizeof d->key) return NULL;
  d = &sp->dims[sp->ndims++];
  memset(d, 0, sizeof *d);
  d->kind = kind;
  snprintf(d->key, sizeof d->key, "%s", key);
  return &d->vals;
}

static void sampled(Space *sp, const char *id) {
  size_t i;
  for (i = 0; i < sp->nsampled; i++)
    if (strcmp(sp->sampled[i], id) == 0) return;
  if (sp->nsampled < MAXCONDS) sp->sampled[sp->nsampled++] = id;
}

/* The fixed actor's value of 'f' (actor.id, actor.meta[.path]). */
static const wd_pval *actor_val(const Subject *sb, const char *f,
                                wd_pval *tmp) {
  const wd_pval *v = &sb->meta;
  size_t i, n;
  if (strcmp(f, "actor.id") == 0) {
    *tmp = wd_pval_str(sb->actor);
    return tmp;
  }
  f += 10;
  while (v != NULL && *f == '.') {
    n = strcspn(++f, ".");
    if (v->type != WD_PVAL_MAP) return NULL;
    for (i = 0; i < v->u.map.n; i++)
      if (strlen(v->u.map.v[i].key) == n &&
          memcmp(v->u.map.v[i].key, f, n) == 0)
        break;
    v = i < v->u.map.n ? &v->u.map.v[i].val : NULL;
    f += n;
  }
  return v != NULL && v->type != WD_PVAL_NULL ? v : NULL;
}

/* 'v' and, for a list, each of its items. */
static void add_spread(Vals *to, const wd_pval *v) {
  size_t i;
  if (v->type == WD_PVAL_LIST)
    for (i = 0; i < v->u.list.n; i++)
      vals_add(to, &v->u.list.v[i]);
  else
    vals_add(to, v);
}

/* Values of a field that make condition (op, v) true and false. */
static void witnesses(Vals *to, const char *op, const wd_pval *v) {
  wd_pval w;
  if (strcmp(op, "lt") == 0 || strcmp(op, "gt") == 0 ||
      strcmp(op, "lte") == 0 || strcmp(op, "gte") == 0) {
    if (v->type == WD_PVAL_INT) {
      w = wd_pval_int(v->u.i - 1);
      vals_add(to, &w);
      w = wd_pval_int(v->u.i + 1);
      vals_add(to, &w);
    } else if (v->type == WD_PVAL_NUM) {
      w = wd_pval_num(v->u.n - 1);
      vals_add(to, &w);
      w = wd_pval_num(v->u.n + 1);
      vals_add(to, &w);
    }
    vals_add(to, v);
    return;
  }
  if (strcmp(op, "contains") == 0 || strcmp(op, "ncontains") == 0) {
    w = wd_pval_list(v, 1);
    vals_add(to, &w);
  }
  add_spread(to, v);
}

/* A request attribute's or meta key's seed when nothing names a value. */
static const char s_seed[] = "v1", s_other[] = "other";

typedef struct Cross {
  Vals *a, *b; /* field and value_from */
  int in;      /* in/nin: 'b' holds lists */
} Cross;

/* Collect every value the conditions of the rules name. */
static void collect(Space *sp, const Subject *sb, Cross *cx, size_t *ncx) {
  size_t r, j;
  int fixed = sb->actor != NULL;
  for (r = 0; r < sp->nrules; r++) {
    const wd_scope *sc = sp->rules[r].sc;
    size_t i = sp->rules[r].i;
    wd_pinfo pi;
    wd_scope_policy(sc, i, &pi);
    for (j = 0; j < pi.nconds; j++) {
      wd_pcond c;
      const char *k1, *k2;
      int t1, t2;
      Vals *a, *b;
      wd_pval tmp;
      const wd_pval *fv;
      wd_scope_cond(sc, i, j, &c);
      t1 = classify(c.field, fixed, &k1);
      if (c.regex) sampled(sp, pi.id);
      if (t1 == D_OPAQUE) sampled(sp, pi.id);
      a = (t1 <= D_RES) ? dim(sp, t1, k1) : NULL;
      if (c.from == NULL) {
        if (a != NULL && c.value != NULL && !c.regex)
          witnesses(a, c.op, c.value);
        continue;
      }
      t2 = classify(c.from, fixed, &k2);
      if (t2 == D_OPAQUE) sampled(sp, pi.id);
      b = (t2 <= D_RES) ? dim(sp, t2, k2) : NULL;
      if (a != NULL && t2 == D_FIXED && (fv = actor_val(sb, c.from, &tmp)))
        add_spread(a, fv);
      else if (b != NULL && t1 == D_FIXED &&
               (fv = actor_val(sb, c.field, &tmp)))
        add_spread(b, fv);
      else if (a != NULL && b != NULL && *ncx < MAXCONDS) {
        cx[*ncx].a = a;
        cx[*ncx].b = b;
        cx[*ncx].in = strcmp(c.op, "in") == 0 || strcmp(c.op, "nin") == 0;
        (*ncx)++;
      }
    }
  }
}

/* Make the values of compared fields meet: a value of one is tried in
** the other (in a one-item list for in/nin). */
static void cross(Cross *cx, size_t ncx) {
  size_t k, i, n, pass;
  wd_pval w;
  for (pass = 0; pass < 2; pass++)
    for (k = 0; k < ncx; k++) {
      Vals *a = cx[k].a, *b = cx[k].b;
      if (a->n == 0 && b->n == 0) vals_str(a, s_seed, strlen(s_seed));
      for (i = 0, n = b->n; i < n; i++)
        if (b->v[i].type != WD_PVAL_NULL) add_spread(a, &b->v[i]);
      for (i = 0, n = a->n; i < n; i++) {
        if (a->v[i].type == WD_PVAL_NULL || a->v[i].type == WD_PVAL_LIST)
          continue;
        if (cx[k].in) {
          w = wd_pval_list(&a->v[i], 1);
          vals_add(b, &w);
        } else {
          vals_add(b, &a->v[i]);
        }
      }
    }
}

/* }====== */

/* {====== The app's resources ====== */

typedef struct App {
  const wd_manifest *m;
  Vals byres[WD_RES_NAMESPACE + 1];
  Vals hosts;
} App;

static void app_init(App *a, const wd_manifest *m) {
  size_t i;
  char buf[512];
  memset(a, 0, sizeof *a);
  a->m = m;
  if (m == NULL) return;
  vals_str(&a->byres[WD_RES_SECURITY], "security", 8);
  vals_str(&a->byres[WD_RES_CONTEXT], "context", 7);
  for (i = 0; i < m->nentries; i++) {
    const wd_entry *e = m->entries[i];
    int n;
    vals_str(&a->byres[WD_RES_NAMESPACE], e->ns, strlen(e->ns));
    if (e->kind == WD_KIND_LUA)
      vals_str(&a->byres[WD_RES_ENTRY], e->id, strlen(e->id));
    if (e->kind != WD_KIND_HOST) continue;
    vals_str(&a->byres[WD_RES_HOST], e->id, strlen(e->id));
    vals_str(&a->hosts, e->id, strlen(e->id));
    n = snprintf(buf, sizeof buf, "{%s|0x00002}", e->id);
    if (n > 0 && (size_t)n < sizeof buf)
      vals_str(&a->byres[WD_RES_PID], buf, (size_t)n);
  }
}

static void app_free(App *a) {
  size_t i;
  for (i = 0; i <= WD_RES_NAMESPACE; i++)
    vals_clear(&a->byres[i]);
  vals_clear(&a->hosts);
}

/* The resources of action 'act': the app's of its kind, the patterns of
** the rules (a prefix "p": "p", "px", "p.x", "p:x"), and one no policy
** names. */
static void resources(Space *sp, const App *app, int act) {
  static const char *const tails[] = { "", "x", ".x", ":x" };
  int kind = wd_ops_res(act);
  size_t r, j, t, i;
  char buf[512];
  if (app->m != NULL)
    for (i = 0; i < app->byres[kind].n; i++)
      vals_add(&sp->res, &app->byres[kind].v[i]);
  for (r = 0; r < sp->nrules; r++) {
    wd_pinfo pi;
    wd_scope_policy(sp->rules[r].sc, sp->rules[r].i, &pi);
    for (j = 0; j < pi.nress; j++) {
      wd_ppat p;
      wd_scope_pattern(sp->rules[r].sc, sp->rules[r].i, 1, j, &p);
      if (p.kind == WD_PPAT_EXACT) vals_str(&sp->res, p.s, p.len);
      if (p.kind != WD_PPAT_PREFIX) continue;
      /* The app's own resources under the prefix stand for it; else
      ** try the prefix itself and three strings beyond it. */
      for (i = 0; i < sp->res.n; i++)
        if (sp->res.v[i].type == WD_PVAL_STR && sp->res.v[i].u.s.len >= p.len &&
            memcmp(sp->res.v[i].u.s.p, p.s, p.len) == 0)
          break;
      if (i < sp->res.n) continue;
      for (t = 0; t < 4; t++) {
        int n = snprintf(buf, sizeof buf, "%.*s%s", (int)p.len, p.s, tails[t]);
        if (n > 0 && (size_t)n < sizeof buf) vals_str(&sp->res, buf, (size_t)n);
      }
    }
  }
  if (kind == WD_RES_PID)
    vals_str(&sp->res, "{other|0x00002}", 15);
  else
    vals_str(&sp->res, s_other, strlen(s_other));
}

/* }====== */

/* {====== Deciding and reporting ====== */

typedef struct Diff {
  wd_polset *old, *new;
  App app;
  int json;
  size_t compared, changes, widen, narrow, capped;
  const char *sampled[MAXCONDS];
  size_t nsampled;
} Diff;

/* The scope 'sb' names in set 'ps', only by names it has; NULL (deny
** everything) when it has none of them. */
static wd_scope *scope_in(const wd_polset *ps, const Subject *sb) {
  const char *names[MAXPATHS];
  size_t i, n = 0;
  wd_scope *sc = NULL;
  for (i = 0; i < sb->nscope; i++)
    if (wd_policy_set_has(ps->set, sb->scope[i])) names[n++] = sb->scope[i];
  if (n > 0 && wd_scope_new(ps->set, names, n, &sc, NULL, 0) != 0) {
    oom(); /* names it has: only memory can fail */
    sc = NULL;
  }
  return sc;
}

static void put_side(FILE *f, const wd_pdecision *d) {
  char w[1024];
  wd__cmd_policy_why(d, w, sizeof w);
  fputs(w, f);
}

static void report(Diff *df, const Subject *sb, const wd_preq *rq,
                   const wd_pval *meta, const wd_pdecision *o,
                   const wd_pdecision *n) {
  wd_pval attrs = wd_pval_map(rq->attrs, rq->nattrs);
  const char *from = o->effect == WD_PEFFECT_ALLOW ? "allow" : "deny";
  const char *to = n->effect == WD_PEFFECT_ALLOW ? "allow" : "deny";
  size_t i;
  char w[1024];
  df->changes++;
  if (n->effect == WD_PEFFECT_ALLOW)
    df->widen++;
  else
    df->narrow++;
  if (!df->json) {
    printf("%s ", rq->actor_id);
    wd__cmd_policy_put_val(stdout, meta);
    fputs(" [", stdout);
    for (i = 0; i < sb->nscope; i++)
      printf("%s%s", i > 0 ? ", " : "", sb->scope[i]);
    printf("] %s ", rq->action);
    {
      wd_pval r = wd_pval_str(rq->resource);
      wd__cmd_policy_put_val(stdout, &r);
    }
    putchar(' ');
    wd__cmd_policy_put_val(stdout, &attrs);
    printf(": %s -> %s (old: ", from, to);
    put_side(stdout, o);
    fputs("; new: ", stdout);
    put_side(stdout, n);
    fputs(")\n", stdout);
    return;
  }
  printf("%s{\"actor\":{\"id\":", df->changes > 1 ? "," : "");
  wd__cmd_json_str(stdout, rq->actor_id, strlen(rq->actor_id));
  fputs(",\"meta\":", stdout);
  wd__cmd_json_val(stdout, meta);
  fputs("},\"scope\":[", stdout);
  for (i = 0; i < sb->nscope; i++) {
    if (i > 0) fputc(',', stdout);
    wd__cmd_json_str(stdout, sb->scope[i], strlen(sb->scope[i]));
  }
  printf("],\"action\":\"%s\",\"resource\":", rq->action);
  wd__cmd_json_str(stdout, rq->resource, strlen(rq->resource));
  fputs(",\"attrs\":", stdout);
  wd__cmd_json_val(stdout, &attrs);
  printf(",\"old\":\"%s\",\"new\":\"%s\",\"old_by\":", from, to);
  wd__cmd_policy_why(o, w, sizeof w);
  wd__cmd_json_str(stdout, w, strlen(w));
  fputs(",\"new_by\":", stdout);
  wd__cmd_policy_why(n, w, sizeof w);
  wd__cmd_json_str(stdout, w, strlen(w));
  fputc('}', stdout);
}

/* Decide every combination of the dimensions' values (an odometer). */
static void enumerate(Diff *df, const Subject *sb, Space *sp, const char *act,
                      const wd_scope *oldsc, const wd_scope *newsc) {
  wd_pattr attrs[MAXDIMS], meta[MAXDIMS];
  wd_pval metav;
  wd_preq rq;
  wd_pdecision o, n;
  size_t i, r, k, count = 0;
  for (i = 0; i < sp->ndims; i++)
    sp->dims[i].cur = 0;
  for (;;) {
    size_t na = 0, nm = 0;
    memset(&rq, 0, sizeof rq);
    rq.actor_id = sb->actor;
    rq.action = act;
    for (i = 0; i < sp->ndims; i++) {
      const Dim *d = &sp->dims[i];
      const wd_pval *v = &d->vals.v[d->cur];
      if (d->kind == D_ACTOR) {
        rq.actor_id = v->u.s.p; /* strings made NUL-terminated below */
      } else if (v->type != WD_PVAL_NULL) {
        wd_pattr *to = d->kind == D_META ? &meta[nm++] : &attrs[na++];
        to->key = d->key;
        to->val = *v;
      }
    }
    metav = sb->actor != NULL ? sb->meta : wd_pval_map(meta, nm);
    rq.actor_meta = &metav;
    rq.attrs = attrs;
    rq.nattrs = na;
    for (r = 0; r < sp->res.n; r++) {
      if (sp->res.v[r].type != WD_PVAL_STR) continue;
      rq.resource = sp->res.v[r].u.s.p;
      wd_policy_check(oldsc, &rq, &o);
      wd_policy_check(newsc, &rq, &n);
      df->compared++;
      if (o.effect != n.effect) report(df, sb, &rq, &metav, &o, &n);
    }
    if (++count >= MAXREQS / (sp->res.n ? sp->res.n : 1)) {
      df->capped++;
      break;
    }
    for (k = 0; k < sp->ndims; k++) {
      if (++sp->dims[k].cur < sp->dims[k].vals.n) break;
      sp->dims[k].cur = 0;
    }
    if (k == sp->ndims) break;
  }
}

/* Every string value of a Vals ends in NUL: wd_pval_copy makes strings
** NUL-terminated copies, which the request's C strings rely on. */

static void rules_of(Space *sp, const wd_scope *sc, const char *act) {
  size_t i, j, n = wd_scope_count(sc);
  for (i = 0; i < n && sp->nrules < MAXCONDS; i++) {
    wd_pinfo pi;
    wd_scope_policy(sc, i, &pi);
    for (j = 0; j < pi.nacts; j++) {
      wd_ppat p;
      wd_scope_pattern(sc, i, 0, j, &p);
      if (wd_ppat_match(&p, act)) break;
    }
    if (j == pi.nacts) continue;
    sp->rules[sp->nrules].sc = sc;
    sp->rules[sp->nrules++].i = i;
  }
}

static void diff_action(Diff *df, const Subject *sb, int act,
                        const wd_scope *oldsc, const wd_scope *newsc) {
  const char *name = wd_ops_name(act);
  Space *sp = wd_calloc(1, sizeof *sp);
  Cross cx[MAXCONDS];
  size_t ncx = 0, i, k;
  wd_pval nul = wd_pval_null();
  if (sp == NULL) {
    oom();
    return;
  }
  if (oldsc) rules_of(sp, oldsc, name);
  if (newsc) rules_of(sp, newsc, name);
  if (sp->nrules > 0) {
    collect(sp, sb, cx, &ncx);
    resources(sp, &df->app, act);
    if (df->app.m != NULL)
      for (i = 0; i < sp->ndims; i++)
        if (sp->dims[i].kind == D_ATTR &&
            (strcmp(sp->dims[i].key, "host") == 0 ||
             strcmp(sp->dims[i].key, "target_host") == 0))
          for (k = 0; k < df->app.hosts.n; k++)
            vals_add(&sp->dims[i].vals, &df->app.hosts.v[k]);
    cross(cx, ncx);
    if (sb->actor == NULL) (void)dim(sp, D_ACTOR, NULL);
    for (i = 0; i < sp->ndims; i++) {
      Dim *d = &sp->dims[i];
      size_t j;
      /* Keep actor ids strings; attributes and meta also missing. */
      if (d->kind == D_ACTOR) {
        for (j = 0; j < d->vals.n; j++)
          if (d->vals.v[j].type != WD_PVAL_STR) {
            wd_pval_clear(&d->vals.v[j]);
            d->vals.v[j] = d->vals.v[--d->vals.n];
            j--;
          }
        vals_str(&d->vals, "anyone", 6);
      } else {
        vals_str(&d->vals, s_other, strlen(s_other));
        vals_add(&d->vals, &nul);
      }
    }
    enumerate(df, sb, sp, name, oldsc, newsc);
    for (i = 0; i < sp->nsampled; i++) {
      for (k = 0; k < df->nsampled; k++)
        if (strcmp(df->sampled[k], sp->sampled[i]) == 0) break;
      if (k == df->nsampled && k < MAXCONDS)
        df->sampled[df->nsampled++] = sp->sampled[i];
    }
  }
  for (i = 0; i < sp->ndims; i++)
    vals_clear(&sp->dims[i].vals);
  vals_clear(&sp->res);
  wd_free(sp);
}

/* }====== */

static int load_side(const char *const *base, size_t nbase, const char *path,
                     wd_polset **ps) {
  const char *paths[MAXPATHS + 1];
  size_t i;
  for (i = 0; i < nbase; i++)
    paths[i] = base[i];
  paths[nbase] = path;
  return wd__cmd_policy_load("diff", paths, nbase + 1, ps);
}

static int by_str(const void *a, const void *b) {
  return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* The closing line (or the JSON totals) and the sample notes. */
static void summary(Diff *df, size_t nsubj) {
  size_t i;
  qsort(df->sampled, df->nsampled, sizeof *df->sampled, by_str);
  if (df->json) {
    printf("],\"compared\":%zu,\"changed\":%zu,\"widened\":%zu,"
           "\"narrowed\":%zu,\"sample_policies\":[",
           df->compared, df->changes, df->widen, df->narrow);
    for (i = 0; i < df->nsampled; i++) {
      if (i > 0) fputc(',', stdout);
      wd__cmd_json_str(stdout, df->sampled[i], strlen(df->sampled[i]));
    }
    printf("],\"capped\":%s}\n", df->capped ? "true" : "false");
  } else {
    printf("%zu requests for %zu actor%s and scope%s, %zu change%s (%zu "
           "widen%s, %zu narrow%s)\n",
           df->compared, nsubj, nsubj == 1 ? "" : "s", nsubj == 1 ? "" : "s",
           df->changes, df->changes == 1 ? "" : "s", df->widen,
           df->widen == 1 ? "s" : "", df->narrow, df->narrow == 1 ? "s" : "");
    if (df->nsampled > 0) {
      fputs("sample: regular expressions or nested fields are not "
            "enumerated; the result is a sample for ",
            stdout);
      for (i = 0; i < df->nsampled; i++)
        printf("%s%s", i > 0 ? ", " : "", df->sampled[i]);
      putchar('\n');
    }
    if (df->capped > 0)
      printf("sample: %zu actor/action spaces were cut at %d requests\n",
             df->capped, MAXREQS);
  }
}

/* The command line: OLD NEW [--app DIR] [--base PATH]... [--json].
** Returns 0, -1 after --help, 2 after a usage error. */
typedef struct Args {
  const char *pos[2], *base[MAXPATHS], *appdir;
  size_t npos, nbase;
  int json;
} Args;

static int parse_args(int argc, char **argv, Args *g) {
  int i;
  memset(g, 0, sizeof *g);
  for (i = 0; i < argc; i++) {
    const char *a = argv[i];
    if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
      fputs(usage_diff, stdout);
      return -1;
    } else if (strcmp(a, "--json") == 0) {
      g->json = 1;
    } else if (strcmp(a, "--app") == 0 && i + 1 < argc) {
      g->appdir = argv[++i];
    } else if (strcmp(a, "--base") == 0 && i + 1 < argc) {
      if (g->nbase == MAXPATHS) {
        fputs("ward policy diff: too many --base paths\n", stderr);
        return 2;
      }
      g->base[g->nbase++] = argv[++i];
    } else if (a[0] == '-') {
      fprintf(stderr, "ward policy diff: unknown option '%s'\n%s", a,
              usage_diff);
      return 2;
    } else if (g->npos == 2) {
      fprintf(stderr, "ward policy diff: unexpected '%s'\n%s", a, usage_diff);
      return 2;
    } else {
      g->pos[g->npos++] = a;
    }
  }
  if (g->npos != 2) {
    fprintf(stderr, "ward policy diff: OLD and NEW are required\n%s",
            usage_diff);
    return 2;
  }
  return 0;
}

int wd__cmd_policy_diff(int argc, char **argv) {
  wd_manifest *m = NULL;
  Subjects ss;
  Diff df;
  Args g;
  char err[1024];
  size_t s;
  int r, act;
  memset(&ss, 0, sizeof ss);
  memset(&df, 0, sizeof df);
  if ((r = parse_args(argc, argv, &g)) != 0) return r < 0 ? 0 : r;
  df.json = g.json;
  r = 2;
  if (load_side(g.base, g.nbase, g.pos[0], &df.old) != 0 ||
      load_side(g.base, g.nbase, g.pos[1], &df.new) != 0)
    goto out;
  if (g.appdir != NULL &&
      wd_manifest_load_dir(g.appdir, &m, err, sizeof err) != 0) {
    fprintf(stderr, "ward policy diff: %s\n", err);
    goto out;
  }
  app_init(&df.app, m);
  if (m != NULL) {
    subjects_app(&ss, m);
  } else {
    subjects_sets(&ss, df.old);
    subjects_sets(&ss, df.new);
  }
  if (df.json) fputs("{\"changes\":[", stdout);
  for (s = 0; s < ss.n; s++) {
    wd_scope *o = scope_in(df.old, &ss.v[s]), *n = scope_in(df.new, &ss.v[s]);
    for (act = 0; act < WD_ACT_MAX; act++)
      diff_action(&df, &ss.v[s], act, o, n);
    wd_scope_release(o);
    wd_scope_release(n);
  }
  summary(&df, ss.n);
  r = df.changes > 0 ? 1 : 0;
  if (oom_seen) {
    fputs("ward policy diff: out of memory: the result is incomplete\n",
          stderr);
    r = 2;
  }
out:
  app_free(&df.app);
  subjects_free(&ss);
  wd_manifest_free(m);
  wd_polset_free(df.old);
  wd_polset_free(df.new);
  return r;
}
