/*
** cli/cmd_policy.c
** 'ward policy check|eval|explain|test': the tools for people who write
** and audit policies. check loads, validates and lints; eval decides one
** request and says why; explain also walks every policy in scope; test
** runs a YAML table of requests and expected decisions.
** Exit status: 0 success (eval: allow), 1 the job failed (eval: deny; a
** failed test; check --strict with warnings), 2 bad usage or bad input.
** Runs in: the ward command (broker side).
*/
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd_int.h"
#include "ward/wd_cli.h"
#include "ward/wd_audit.h"
#include "ward/wd_polset.h"
#include "ward/wd_yaml.h"

#define MAXARGS WD_CMD_MAXARGS

static const char usage_policy[] =
    "usage: ward policy COMMAND [OPTIONS] ARGS\n"
    "\n"
    "commands:\n"
    "  check PATH...              load, validate and lint policies\n"
    "  eval PATH... REQUEST       decide one request: allow or deny, and why\n"
    "  explain PATH... REQUEST    eval, then every policy in scope and why\n"
    "                             it matched or not\n"
    "  test FILE                  run a YAML table of requests and expected\n"
    "                             decisions\n"
    "  permissions PATH... ACTOR  what an actor with a scope may do, per\n"
    "                             action\n"
    "  diff OLD NEW               which requests change decision between\n"
    "                             two policy sets\n"
    "\n"
    "A PATH is an app directory (every _index.yaml below it) or one YAML\n"
    "file of entries; security.policy entries are the policies.\n"
    "Run 'ward policy COMMAND --help' for the options of a command.\n";

static const char usage_check[] =
    "usage: ward policy check [--strict] PATH...\n"
    "\n"
    "Load every security.policy entry of the PATHs and report errors with\n"
    "file, line and column (exit 2). Then warn, one line each, about allow\n"
    "policies that a deny always overrides, policies whose conditions can\n"
    "never all hold, and scopes and host ceilings in the manifest that\n"
    "name no policy or group of the PATHs ('ward run' refuses those).\n"
    "An action pattern that matches no action ward asks, or a condition\n"
    "field that no request has, is an error, as in 'ward run'.\n"
    "\n"
    "options:\n"
    "  --strict           exit 1 when there are warnings\n"
    "  -h, --help         show this help\n"
    "\n"
    "exit status: 0 valid; 1 warnings with --strict; 2 bad usage or an\n"
    "invalid policy.\n";

static const char usage_eval[] =
    "usage: ward policy eval PATH... --actor ID [--meta K=V]... --scope "
    "NAME...\n"
    "                        --action ACTION --resource RESOURCE [--attr "
    "K=V]...\n"
    "\n"
    "Decide one request with the policies of the PATHs and print 'allow' or\n"
    "'deny' and why: the ids of the deciding policies, and whether a deny\n"
    "was forbidden by a policy or not permitted because no policy matched.\n"
    "\n"
    "options:\n"
    "  --actor ID         actor id (no actor: everything is denied)\n"
    "  --meta K=V         actor meta (repeatable)\n"
    "  --scope NAME       policy group or policy id in scope (repeatable)\n"
    "  --action ACTION    e.g. process.send\n"
    "  --resource R       e.g. a PID, an entry id, a host id, a name\n"
    "  --attr K=V         request attribute: pid, host, target_host, topic\n"
    "                     (repeatable)\n"
    "  -h, --help         show this help\n"
    "\n"
    "V is a string; a V in brackets is a list ('hosts=[a:p, b:p]').\n"
    "exit status: 0 allow; 1 deny; 2 bad usage or an invalid policy.\n";

static const char usage_explain[] =
    "usage: ward policy explain PATH... (the options of 'ward policy eval')\n"
    "       ward policy explain --from-log LOG:N [--key PUBFILE] PATH...\n"
    "                                      (or --policies PATH...)\n"
    "\n"
    "As eval, then the request and every policy in scope, one line each:\n"
    "whether it matched, and if not, the first part that did not (its\n"
    "actions, its resources, or which condition, with the value the\n"
    "condition saw).\n"
    "\n"
    "--from-log LOG:N takes the request from decision record N (its line\n"
    "number, as 'ward audit show' prints it) of audit log LOG: the actor\n"
    "with its meta, the scope, action, resource and attributes the record\n"
    "carries, after checking the log up to that line (--key PUBFILE, default\n"
    "LOG.pub). It is decided with the policies of PATH... (those in force\n"
    "now, or the old set to replay the record exactly), and says whether\n"
    "they are the ones the record was decided with (its policy-set digest)\n"
    "and whether the decision is the same.\n"
    "\n"
    "exit status: 0 allow; 1 deny; 2 bad usage or an invalid policy, or a\n"
    "record that is not a decision or does not verify.\n";

static int is_help(const char *a) {
  return strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0;
}

/* {====== Shared: loading, values, decisions ====== */

int wd__cmd_policy_load(const char *cmd, const char *const *paths, size_t n,
                        wd_polset **ps) {
  char err[1024];
  if (wd_polset_load(paths, n, ps, err, sizeof err) != 0) {
    fprintf(stderr, "ward policy %s: %s\n", cmd, err);
    return 2;
  }
  return 0;
}

/* Print a value as compact YAML flow ("{a: 1, b: [x, \"y z\"]}"). */
void wd__cmd_policy_put_val(FILE *f, const wd_pval *v) {
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
      fputc('"', f);
      for (i = 0; i < v->u.s.len; i++) {
        unsigned char c = (unsigned char)v->u.s.p[i];
        if (c == '"' || c == '\\')
          fprintf(f, "\\%c", c);
        else if (c < 0x20 || c == 0x7f)
          fprintf(f, "\\x%02x", c);
        else
          fputc(c, f);
      }
      fputc('"', f);
      break;
    case WD_PVAL_LIST:
      fputc('[', f);
      for (i = 0; i < v->u.list.n; i++) {
        if (i > 0) fputs(", ", f);
        wd__cmd_policy_put_val(f, &v->u.list.v[i]);
      }
      fputc(']', f);
      break;
    default:
      fputc('{', f);
      for (i = 0; i < v->u.map.n; i++) {
        fprintf(f, "%s%s: ", i > 0 ? ", " : "", v->u.map.v[i].key);
        wd__cmd_policy_put_val(f, &v->u.map.v[i].val);
      }
      fputc('}', f);
      break;
  }
}

/* "allowed by a, b" | "forbidden by a" | "no policy matched" | ... */
void wd__cmd_policy_why(const wd_pdecision *d, char *out, size_t n) {
  size_t i, len;
  if (d->nids == 0) {
    snprintf(out, n, "%s", wd_policy_reason(d->reason));
    return;
  }
  len =
      (size_t)snprintf(out, n, "%s by ",
                       d->effect == WD_PEFFECT_ALLOW ? "allowed" : "forbidden");
  for (i = 0; i < d->nids && len < n; i++)
    len += (size_t)snprintf(out + len, n - len, "%s%s", i > 0 ? ", " : "",
                            d->ids[i]);
  if (d->more && len < n) snprintf(out + len, n - len, ", ...");
}

/* The line eval prints: "allow: allowed by x", "deny: not permitted (...)". */
static void put_decision(const wd_pdecision *d) {
  char w[1024];
  wd__cmd_policy_why(d, w, sizeof w);
  if (d->effect == WD_PEFFECT_ALLOW || d->reason == WD_REASON_DENIED_BY_POLICY)
    printf("%s: %s\n", d->effect == WD_PEFFECT_ALLOW ? "allow" : "deny", w);
  else
    printf("deny: not permitted (%s)\n", w);
}

/* }====== */

/* {====== ward policy check ====== */

typedef struct Lint {
  int n;
} Lint;

static void lint_cb(const wd_plint *f, void *ud) {
  Lint *l = ud;
  l->n++;
  printf("%s:%d:%d: warning: %s: %s\n", f->file ? f->file : "?", f->line,
         f->col, f->id, f->msg);
}

/* A scope or ceiling in the manifest naming nothing the policy set has
** (wd_polset_check_refs). `ward run` refuses it; here the other half of
** the policies may be in a path not given, so it is a warning. */
static void ref_cb(const wd_node *at, const char *id, const char *msg,
                   void *ud) {
  (void)ud;
  printf("%s:%d:%d: warning: %s: %s\n", at->file ? at->file : "?", at->line,
         at->col, id, msg);
}

static int cmd_check(int argc, char **argv) {
  const char *paths[MAXARGS];
  size_t np = 0, i, k;
  int strict = 0, r, nwarn;
  wd_polset *ps;
  Lint l = { 0 };
  for (i = 0; i < (size_t)argc; i++) {
    if (is_help(argv[i])) {
      fputs(usage_check, stdout);
      return 0;
    } else if (strcmp(argv[i], "--strict") == 0) {
      strict = 1;
    } else if (argv[i][0] == '-') {
      fprintf(stderr, "ward policy check: unknown option '%s'\n%s", argv[i],
              usage_check);
      return 2;
    } else if (np == MAXARGS) {
      fprintf(stderr, "ward policy check: too many paths\n");
      return 2;
    } else {
      paths[np++] = argv[i];
    }
  }
  if (np == 0) {
    fprintf(stderr, "ward policy check: a PATH is required\n%s", usage_check);
    return 2;
  }
  if ((r = wd__cmd_policy_load("check", paths, np, &ps)) != 0) return r;
  if ((r = wd_policy_lint(ps->set, lint_cb, &l)) < 0) {
    fprintf(stderr, "ward policy check: %s\n", wd_strerror(r));
    wd_polset_free(ps);
    return 2;
  }
  nwarn = l.n;
  for (k = 0; k < ps->nm; k++)
    nwarn += wd_polset_check_refs(ps->set, ps->mv[k], ref_cb, NULL);
  printf("%zu policies, %d warning%s\n", wd_policy_set_count(ps->set), nwarn,
         nwarn == 1 ? "" : "s");
  wd_polset_free(ps);
  return strict && nwarn > 0 ? 1 : 0;
}

/* }====== */

/* {====== Requests from the command line ====== */

typedef wd__reqargs Req;

void wd__cmd_policy_args_clear(Req *q) {
  size_t i;
  for (i = 0; i < q->nowned; i++)
    wd_pval_clear(&q->owned[i]);
}

/* "K=V" into one pair; V in brackets is a YAML flow list. */
static int kv(Req *q, const char *cmd, char *arg, wd_pattr *out) {
  char *eq = strchr(arg, '='), err[512];
  wd_doc *d = NULL;
  int r;
  if (eq == NULL || eq == arg) {
    fprintf(stderr, "ward policy %s: '%s' is not KEY=VALUE\n", cmd, arg);
    return 2;
  }
  *eq = '\0';
  out->key = arg;
  out->val = wd_pval_str(eq + 1);
  if (eq[1] != '[') return 0;
  if (wd_yaml_parse(arg, eq + 1, strlen(eq + 1), &d, err, sizeof err) != 0 ||
      d->root == NULL || d->root->type != WD_NODE_SEQ) {
    wd_doc_free(d);
    fprintf(stderr, "ward policy %s: %s=%s: not a list ([a, b])\n", cmd, arg,
            eq + 1);
    return 2;
  }
  r = wd_pval_from_node(d->root, &q->owned[q->nowned]);
  wd_doc_free(d);
  if (r != 0) {
    fprintf(stderr, "ward policy %s: %s: %s\n", cmd, arg, wd_strerror(r));
    return 2;
  }
  out->val = q->owned[q->nowned++];
  return 0;
}

int wd__cmd_policy_args(Req *q, const char *cmd, const char *usage, int argc,
                        char **argv, unsigned flags) {
  int i, r;
  memset(q, 0, sizeof *q);
  for (i = 0; i < argc; i++) {
    const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
    if (is_help(a)) {
      fputs(usage, stdout);
      return -1;
    }
    if (a[0] != '-') {
      if (q->npaths == MAXARGS) goto many;
      q->paths[q->npaths++] = a;
      continue;
    }
    if ((flags & WD_REQARGS_JSON) && strcmp(a, "--json") == 0) {
      q->json = 1;
      continue;
    }
    if (v == NULL) {
      fprintf(stderr, "ward policy %s: '%s' needs a value\n%s", cmd, a, usage);
      return 2;
    }
    i++;
    if (strcmp(a, "--actor") == 0) {
      q->actor = v;
    } else if (strcmp(a, "--action") == 0) {
      q->action = v;
    } else if (strcmp(a, "--resource") == 0) {
      q->resource = v;
    } else if (strcmp(a, "--scope") == 0) {
      if (q->nscope == MAXARGS) goto many;
      q->scope[q->nscope++] = v;
    } else if (strcmp(a, "--meta") == 0 || strcmp(a, "--attr") == 0) {
      int meta = a[2] == 'm';
      if ((meta ? q->nmeta : q->nattrs) == MAXARGS) goto many;
      r = kv(q, cmd, argv[i],
             meta ? &q->meta[q->nmeta++] : &q->attrs[q->nattrs++]);
      if (r != 0) return r;
    } else {
      fprintf(stderr, "ward policy %s: unknown option '%s'\n%s", cmd, a, usage);
      return 2;
    }
  }
  if ((flags & WD_REQARGS_REQUEST) == 0) {
    if (q->npaths == 0) {
      fprintf(stderr, "ward policy %s: a PATH is required\n%s", cmd, usage);
      return 2;
    }
    if (q->action != NULL || q->resource != NULL || q->nattrs > 0) {
      fprintf(stderr,
              "ward policy %s: --action, --resource and --attr are not "
              "options of this command\n%s",
              cmd, usage);
      return 2;
    }
  } else if (q->npaths == 0 || q->action == NULL || q->resource == NULL) {
    fprintf(stderr,
            "ward policy %s: PATH, --action and --resource are "
            "required\n%s",
            cmd, usage);
    return 2;
  }
  q->metav = wd_pval_map(q->meta, q->nmeta);
  return 0;
many:
  fprintf(stderr, "ward policy %s: too many arguments\n", cmd);
  return 2;
}

/* }====== */

/* {====== ward policy explain: why each policy matched or not ====== */

static char s_actions[] = "actions", s_resources[] = "resources",
            s_effect[] = "effect", s_conditions[] = "conditions",
            s_star[] = "*", s_allow[] = "allow", s_file[] = "(explain)";

static wd_node scalar(char *s) {
  wd_node n;
  memset(&n, 0, sizeof n);
  n.type = WD_NODE_SCALAR;
  n.file = s_file;
  n.str = s;
  n.len = strlen(s);
  return n;
}

/*
** Does one part of a policy match? A policy of that part alone (its
** actions, or its resources, or one condition, the rest "*") decided by
** the engine itself, so explain can never disagree with check. 1, 0, or
** -1 when the part does not compile on its own.
*/
static int part(const wd_node *acts, const wd_node *ress, const wd_node *cond,
                const wd_preq *rq) {
  wd_node k[4], v[4], seq, map, star = scalar(s_star);
  wd_node *kp[4], *vp[4], *cp = (wd_node *)cond;
  const char *id = "x";
  wd_policy_set *s = NULL;
  wd_scope *sc = NULL;
  int i, r = -1;
  k[0] = scalar(s_actions);
  k[1] = scalar(s_resources);
  k[2] = scalar(s_effect);
  k[3] = scalar(s_conditions);
  v[0] = acts ? *acts : star;
  v[1] = ress ? *ress : star;
  v[2] = scalar(s_allow);
  memset(&seq, 0, sizeof seq);
  seq.type = WD_NODE_SEQ;
  seq.n = 1;
  seq.kids = &cp;
  v[3] = seq;
  for (i = 0; i < 4; i++) {
    kp[i] = &k[i];
    vp[i] = &v[i];
  }
  memset(&map, 0, sizeof map);
  map.type = WD_NODE_MAP;
  map.n = cond ? 4 : 3;
  map.keys = kp;
  map.kids = vp;
  if (wd_policy_set_new(&s) == 0 &&
      wd_policy_add(s, id, "explain", &map, NULL, NULL, 0) == 0 &&
      wd_scope_new(s, &id, 1, &sc, NULL, 0) == 0)
    r = wd_policy_check(sc, rq, NULL) == WD_POLICY_ALLOW;
  wd_scope_release(sc);
  wd_policy_set_free(s);
  return r;
}

/* Entry 'k' ('n' bytes) of map 'v', or NULL. */
static const wd_pval *mapget(const wd_pval *v, const char *k, size_t n) {
  size_t i;
  if (v == NULL || v->type != WD_PVAL_MAP) return NULL;
  for (i = 0; i < v->u.map.n; i++)
    if (strlen(v->u.map.v[i].key) == n && memcmp(v->u.map.v[i].key, k, n) == 0)
      return &v->u.map.v[i].val;
  return NULL;
}

/*
** The value condition field 'f' sees in 'rq' (NULL: missing), resolved as
** the engine does: actor.meta.<path>, meta.<attr>.<path>, or a bare
** attribute name taken whole.
*/
static const wd_pval *resolve(const char *f, const wd_preq *rq, wd_pval *tmp) {
  const wd_pval *v;
  size_t n;
  *tmp = wd_pval_map(rq->attrs, rq->nattrs);
  if (strcmp(f, "action") == 0) return *tmp = wd_pval_str(rq->action), tmp;
  if (strcmp(f, "resource") == 0) return *tmp = wd_pval_str(rq->resource), tmp;
  if (strcmp(f, "actor.id") == 0)
    return rq->actor_id ? (*tmp = wd_pval_str(rq->actor_id), tmp) : NULL;
  if (strncmp(f, "actor.meta", 10) == 0) {
    v = rq->actor_meta;
    f += 10;
  } else if (strncmp(f, "meta.", 5) == 0) {
    v = tmp;
    f += 4;
  } else {
    v = mapget(tmp, f, strlen(f));
    f = "";
  }
  while (v != NULL && *f == '.') {
    n = strcspn(++f, ".");
    v = mapget(v, f, n);
    f += n;
  }
  return v != NULL && v->type != WD_PVAL_NULL ? v : NULL;
}

/* A node as the policy file wrote it, in flow style. */
static void put_node(const wd_node *n) {
  size_t i;
  if (n == NULL) return;
  if (n->type == WD_NODE_SCALAR) {
    printf(n->quoted ? "\"%s\"" : "%s", n->str);
    return;
  }
  putchar(n->type == WD_NODE_SEQ ? '[' : '{');
  for (i = 0; i < n->n; i++) {
    if (i > 0) fputs(", ", stdout);
    if (n->type == WD_NODE_MAP) printf("%s: ", n->keys[i]->str);
    put_node(n->kids[i]);
  }
  putchar(n->type == WD_NODE_SEQ ? ']' : '}');
}

static void explain_policy(const wd_polset *ps, const char *id,
                           const wd_preq *rq) {
  const wd_entry *e = wd_polset_find(ps, id);
  const wd_node *p = e ? e->u.policy.policy : NULL, *conds, *c, *fld;
  const char *eff = p ? wd_node_str(wd_node_get(p, "effect")) : NULL;
  const wd_pval *v;
  wd_pval tmp;
  size_t i;
  if (p == NULL) return;
  conds = wd_node_get(p, "conditions");
  if (part(wd_node_get(p, "actions"), NULL, NULL, rq) != 1) {
    printf("  no     %-5s  %s: action '%s' is not one of ", eff, id,
           rq->action);
    put_node(wd_node_get(p, "actions"));
  } else if (part(NULL, wd_node_get(p, "resources"), NULL, rq) != 1) {
    printf("  no     %-5s  %s: resource '%s' is not one of ", eff, id,
           rq->resource);
    put_node(wd_node_get(p, "resources"));
  } else {
    for (i = 0; conds && conds->type == WD_NODE_SEQ && i < conds->n; i++)
      if (part(NULL, NULL, conds->kids[i], rq) != 1) break;
    if (conds == NULL || conds->type != WD_NODE_SEQ || i == conds->n) {
      printf("  MATCH  %-5s  %s", eff, id);
    } else {
      c = conds->kids[i];
      fld = wd_node_get(c, "field");
      printf("  no     %-5s  %s: condition %zu is false: ", eff, id, i + 1);
      put_node(fld);
      printf(" %s ", wd_node_str(wd_node_get(c, "operator")));
      put_node(wd_node_get(c, "value") ? wd_node_get(c, "value")
                                       : wd_node_get(c, "value_from"));
      if (fld != NULL && fld->type == WD_NODE_SCALAR) {
        printf(" (%s ", fld->str);
        if ((v = resolve(fld->str, rq, &tmp)) == NULL) {
          fputs("is missing", stdout);
        } else {
          fputs("is ", stdout);
          wd__cmd_policy_put_val(stdout, v);
        }
        putchar(')');
      }
    }
  }
  printf("  [%s:%d:%d]\n", e->node->file, e->node->line, e->node->col);
}

static void explain(const wd_polset *ps, const Req *q, const wd_preq *rq,
                    const wd_scope *sc) {
  wd_pval attrs = wd_pval_map(q->attrs, q->nattrs);
  size_t i, k;
  printf("request:\n  actor     %s", q->actor ? q->actor : "(none)");
  if (q->nmeta > 0) {
    putchar(' ');
    wd__cmd_policy_put_val(stdout, &q->metav);
  }
  printf("\n  action    %s\n  resource  %s\n  attrs     ", q->action,
         q->resource);
  wd__cmd_policy_put_val(stdout, &attrs);
  printf("\nscope:     ");
  for (i = 0; i < q->nscope; i++)
    printf("%s%s", i > 0 ? ", " : "", q->scope[i]);
  printf("%s(%zu %s)\n", q->nscope > 0 ? " " : "", sc ? wd_scope_count(sc) : 0,
         sc && wd_scope_count(sc) == 1 ? "policy" : "policies");
  if (q->actor == NULL || q->nscope == 0) {
    printf("  (without an actor and a scope every request is denied)\n");
    return;
  }
  for (k = 0; k < ps->nm; k++)
    for (i = 0; i < ps->mv[k]->nentries; i++) {
      const wd_entry *e = ps->mv[k]->entries[i];
      if (wd_polset_in_scope(e, q->scope, q->nscope))
        explain_policy(ps, e->id, rq);
    }
}

/* }====== */

/* {====== A request from an audit log record ====== */

typedef struct fromlog {
  uint64_t want;          /* the line */
  char *line;             /* its bytes, once found */
  size_t len;
} fromlog;

static int grab_line(void *ud, uint64_t line, const char *p, size_t n) {
  fromlog *f = ud;
  if (line != f->want) return 0;
  if ((f->line = wd_malloc(n + 1)) == NULL) return WD_ENOMEM;
  memcpy(f->line, p, n);
  f->line[n] = '\0';
  f->len = n;
  return 1; /* stop: found */
}

/* What a record gives a request (the strings and values it holds). */
typedef struct logreq {
  char actor[256], action[128], resource[1100], effect[8], digest[80];
  wd_doc *doc[3];         /* meta, scope, attrs */
  wd_pval meta, attrs;
  const char *scope[WD_CMD_MAXARGS];
  size_t nscope;
} logreq;

static void logreq_clear(logreq *l) {
  int i;
  wd_pval_clear(&l->meta);
  wd_pval_clear(&l->attrs);
  for (i = 0; i < 3; i++) wd_doc_free(l->doc[i]);
}

/* The JSON value of 'key' (JSON is YAML) as a node of a new document. */
static const wd_node *json_node(const fromlog *f, const char *key,
                                wd_doc **doc) {
  const char *raw;
  size_t rl;
  char err[256];
  if (wd_audit_field(f->line, f->len, key, NULL, 0, &raw, &rl) != 1)
    return NULL;
  if (wd_yaml_parse(key, raw, rl, doc, err, sizeof err) != 0) return NULL;
  return (*doc)->root;
}

/* Read decision record LOG:N into 'l' and 'q' (actor, meta, scope,
** action, resource, attributes). Returns 0 or 2 after printing why. */
static int read_record(const char *spec, const char *key, logreq *l,
                       wd__reqargs *q) {
  char logpath[4096], report[1024], kind[32];
  const char *colon = strrchr(spec, ':');
  const wd_node *n;
  fromlog f;
  wd_audit_pub pub;
  char *end;
  size_t i;
  int r;
  memset(&f, 0, sizeof f);
  if (colon == NULL || colon == spec || (size_t)(colon - spec) >= sizeof logpath ||
      (f.want = strtoull(colon + 1, &end, 10)) == 0 || *end != '\0') {
    fprintf(stderr, "ward policy explain: --from-log '%s': not LOG:N (N the "
            "line of a record, from 1)\n", spec);
    return 2;
  }
  memcpy(logpath, spec, (size_t)(colon - spec));
  logpath[colon - spec] = '\0';
  if (wd__cmd_audit_key("policy explain", logpath, key, &pub) != 0) return 2;
  r = wd_audit_walk(logpath, &pub, grab_line, &f, report, sizeof report);
  if (f.line == NULL) {
    if (r == 0 || (r == WD_EINVAL && strstr(report, "checkpoint") != NULL &&
                   strncmp(report, "line", 4) != 0))
      fprintf(stderr, "ward policy explain: %s: no line %llu\n", logpath,
              (unsigned long long)f.want);
    else
      fprintf(stderr, "ward policy explain: %s: %s\n", logpath, report);
    return 2;
  }
  kind[0] = '\0';
  (void)wd_audit_field(f.line, f.len, "kind", kind, sizeof kind, NULL, NULL);
  if (strcmp(kind, "decision") != 0) {
    fprintf(stderr, "ward policy explain: %s:%llu: a %s record, not a "
            "decision\n", logpath, (unsigned long long)f.want,
            kind[0] ? kind : "malformed");
    wd_free(f.line);
    return 2;
  }
  if (wd_audit_field(f.line, f.len, "actor", l->actor, sizeof l->actor, NULL,
                     NULL) != 1)
    l->actor[0] = '\0';
  if (wd_audit_field(f.line, f.len, "action", l->action, sizeof l->action,
                     NULL, NULL) != 1 ||
      wd_audit_field(f.line, f.len, "resource", l->resource,
                     sizeof l->resource, NULL, NULL) != 1) {
    fprintf(stderr, "ward policy explain: %s:%llu: the record has no action "
            "or resource (written before records carried requests whole?)\n",
            logpath, (unsigned long long)f.want);
    wd_free(f.line);
    return 2;
  }
  (void)wd_audit_field(f.line, f.len, "effect", l->effect, sizeof l->effect,
                       NULL, NULL);
  if (wd_audit_field(f.line, f.len, "digest", l->digest, sizeof l->digest,
                     NULL, NULL) != 1)
    l->digest[0] = '\0';
  l->meta = wd_pval_null();
  l->attrs = wd_pval_null();
  if ((n = json_node(&f, "meta", &l->doc[0])) != NULL &&
      wd_pval_from_node(n, &l->meta) != 0)
    l->meta = wd_pval_null();
  if ((n = json_node(&f, "scope", &l->doc[1])) != NULL &&
      n->type == WD_NODE_SEQ)
    for (i = 0; i < n->n && l->nscope < WD_CMD_MAXARGS; i++)
      if (n->kids[i]->type == WD_NODE_SCALAR)
        l->scope[l->nscope++] = n->kids[i]->str;
  if ((n = json_node(&f, "attrs", &l->doc[2])) != NULL &&
      (wd_pval_from_node(n, &l->attrs) != 0 || l->attrs.type != WD_PVAL_MAP))
    l->attrs = wd_pval_null();
  wd_free(f.line);
  q->actor = l->actor[0] ? l->actor : NULL;
  q->action = l->action;
  q->resource = l->resource;
  memcpy(q->scope, l->scope, l->nscope * sizeof l->scope[0]);
  q->nscope = l->nscope;
  q->metav = l->meta;
  q->nmeta = l->meta.type == WD_PVAL_MAP ? l->meta.u.map.n : 0;
  q->nattrs = 0;
  if (l->attrs.type == WD_PVAL_MAP)
    for (i = 0; i < l->attrs.u.map.n && i < WD_CMD_MAXARGS; i++)
      q->attrs[q->nattrs++] = l->attrs.u.map.v[i];
  return 0;
}

/* What the replay is: the record, whether the policies are those it was
** decided with, and whether the decision is the same ('r' 0 allow). */
static void from_log_header(const wd_polset *ps, const char *spec,
                            const logreq *l, int r) {
  char now[WD_POLSET_DIGEST_HEX];
  const char *was = strcmp(l->effect, "allow") == 0 ? "allow" : "deny";
  if (wd_polset_digest((const wd_manifest *const *)ps->mv, ps->nm, now) != 0)
    now[0] = '\0';
  printf("record %s: %s (logged)\n", spec, was);
  if (l->digest[0] == '\0')
    printf("policies: the record names no policy-set digest\n");
  else if (strcmp(now, l->digest) == 0)
    printf("policies: the set the record was decided with (digest %.16s)\n",
           now);
  else
    printf("policies: NOT the set the record was decided with (record %.16s, "
           "these %.16s): pass the old policies to replay it exactly\n",
           l->digest, now);
  if ((r == 0) != (strcmp(was, "allow") == 0))
    printf("decision: CHANGED, %s now\n", r == 0 ? "allow" : "deny");
  else
    printf("decision: the same\n");
}

/* Split 'ward policy explain --from-log LOG:N [--key PUB] PATH...'. */
static int parse_from_log(int argc, char **argv, const char **spec,
                          const char **key, wd__reqargs *q) {
  int i;
  for (i = 0; i < argc; i++) {
    const char *a = argv[i];
    if (is_help(a)) {
      fputs(usage_explain, stdout);
      return -1;
    }
    if ((strcmp(a, "--from-log") == 0 || strcmp(a, "--key") == 0) &&
        i + 1 < argc) {
      *(a[2] == 'f' ? spec : key) = argv[++i];
    } else if (strcmp(a, "--policies") == 0 && i + 1 < argc) {
      if (q->npaths < WD_CMD_MAXARGS) q->paths[q->npaths++] = argv[++i];
    } else if (a[0] == '-') {
      fprintf(stderr, "ward policy explain: with --from-log the request comes "
              "from the record; '%s' is not an option here\n%s", a,
              usage_explain);
      return 2;
    } else if (q->npaths < WD_CMD_MAXARGS) {
      q->paths[q->npaths++] = a;
    }
  }
  if (*spec == NULL || q->npaths == 0) {
    fprintf(stderr, "ward policy explain: --from-log LOG:N and PATH... are "
            "required\n%s", usage_explain);
    return 2;
  }
  return 0;
}

static int has_from_log(int argc, char **argv) {
  int i;
  for (i = 0; i < argc; i++)
    if (strcmp(argv[i], "--from-log") == 0) return 1;
  return 0;
}

/* }====== */

/* {====== ward policy eval / explain ====== */

static int cmd_eval(int argc, char **argv, int long_form) {
  const char *cmd = long_form ? "explain" : "eval";
  wd_polset *ps = NULL;
  wd_scope *sc = NULL;
  wd_pdecision d;
  wd_preq rq;
  char err[1024];
  Req *q = wd_calloc(1, sizeof *q);
  logreq *l = NULL;
  const char *spec = NULL, *key = NULL;
  int r;
  if (q == NULL) return 2;
  if (long_form && has_from_log(argc, argv)) {
    if ((l = wd_calloc(1, sizeof *l)) == NULL) {
      r = 2;
      goto out;
    }
    if ((r = parse_from_log(argc, argv, &spec, &key, q)) != 0 ||
        (r = read_record(spec, key, l, q)) != 0)
      goto out;
  } else {
    r = wd__cmd_policy_args(q, cmd, long_form ? usage_explain : usage_eval,
                            argc, argv, WD_REQARGS_REQUEST);
    if (r != 0) goto out;
  }
  if ((r = wd__cmd_policy_load(cmd, q->paths, q->npaths, &ps)) != 0) goto out;
  if (q->nscope > 0 &&
      wd_scope_new(ps->set, q->scope, q->nscope, &sc, err, sizeof err) != 0) {
    fprintf(stderr, "ward policy %s: %s\n", cmd, err);
    r = 2;
    goto out;
  }
  memset(&rq, 0, sizeof rq);
  rq.actor_id = q->actor;
  rq.actor_meta = &q->metav;
  rq.action = q->action;
  rq.resource = q->resource;
  rq.attrs = q->attrs;
  rq.nattrs = q->nattrs;
  r = wd_policy_check(sc, &rq, &d) == WD_POLICY_ALLOW ? 0 : 1;
  if (l != NULL) from_log_header(ps, spec, l, r);
  put_decision(&d);
  if (long_form) explain(ps, q, &rq, sc);
out:
  if (l != NULL) {
    /* q's meta and attributes are l's */
    q->metav = wd_pval_null();
    logreq_clear(l);
    wd_free(l);
  }
  wd_scope_release(sc);
  wd_polset_free(ps);
  wd__cmd_policy_args_clear(q);
  wd_free(q);
  return r < 0 ? 0 : r;
}

/* }====== */

int wd_cmd_policy(int argc, char **argv) {
  if (argc < 1) {
    fputs(usage_policy, stderr);
    return 2;
  }
  if (is_help(argv[0])) {
    fputs(usage_policy, stdout);
    return 0;
  }
  if (strcmp(argv[0], "check") == 0) return cmd_check(argc - 1, argv + 1);
  if (strcmp(argv[0], "eval") == 0) return cmd_eval(argc - 1, argv + 1, 0);
  if (strcmp(argv[0], "explain") == 0) return cmd_eval(argc - 1, argv + 1, 1);
  if (strcmp(argv[0], "test") == 0)
    return wd__cmd_policy_test(argc - 1, argv + 1);
  if (strcmp(argv[0], "permissions") == 0)
    return wd__cmd_policy_perm(argc - 1, argv + 1);
  if (strcmp(argv[0], "diff") == 0)
    return wd__cmd_policy_diff(argc - 1, argv + 1);
  fprintf(stderr, "ward policy: unknown command '%s'\n%s", argv[0],
          usage_policy);
  return 2;
}
