/*
** cli/cmd_policy_test.c
** 'ward policy test FILE': security regression tests for policies. FILE
** is a YAML map of the policy paths to load and a table of requests with
** the decision each must get; one line per case, then "N passed, N
** failed". Malformed input names file, line and column (exit 2).
** Runs in: the ward command (broker side).
*/
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "cmd_int.h"
#include "ward/wd_polset.h"
#include "ward/wd_yaml.h"

#define MAXNAMES 64

static const char usage_test[] =
    "usage: ward policy test [--junit OUT] [--coverage] FILE\n"
    "\n"
    "Run the policy tests of FILE, a YAML map:\n"
    "  policies: [PATH, ...]        relative to FILE's directory\n"
    "  defaults:                    optional: what a case leaves out\n"
    "    actor: {id: tenant-a, meta: {tenant: tenant-a}}\n"
    "    scope: [baseline:tenant]\n"
    "    attrs: {host: tenant-a:processes}   # merged key by key\n"
    "  cases:\n"
    "    - name: tenant a may not signal tenant b\n"
    "      actor: {id: tenant-a, meta: {tenant: tenant-a}}\n"
    "      scope: [baseline:tenant]\n"
    "      action: process.send\n"
    "      resource: \"{tenant-b:processes|0x00001}\"\n"
    "      attrs: {pid: \"{tenant-a:processes|0x00002}\"}\n"
    "      expect: deny              # allow | deny\n"
    "      by: [baseline:x]          # optional: the deciding policy ids\n"
    "Prints one line per case ('ok     NAME' or 'FAIL   NAME: got ...,\n"
    "expected ...') and a closing line 'N passed, N failed'. A case's\n"
    "actor and scope replace the defaults'; its attrs are merged over\n"
    "them. An action that is not one ward asks is an error.\n"
    "\n"
    "options:\n"
    "  --junit OUT        also write a JUnit XML report to OUT (its\n"
    "                     directory is checked before any case runs)\n"
    "  --coverage         then list every policy no case reached (its\n"
    "                     actions on its resources) and every condition\n"
    "                     no case made true, or false\n"
    "  -h, --help         show this help\n"
    "\n"
    "exit status: 0 all passed; 1 a case failed; 2 bad usage or bad input.\n";

/*
** Report "FILE:LINE:COL: message" for node 'n'. Used through bad(), which
** is 2 (bad input) as an expression, so every caller's status is plain.
*/
__attribute__((format(printf, 2, 3))) static void say(const wd_node *n,
                                                      const char *fmt, ...) {
  va_list ap;
  fprintf(stderr, "ward policy test: %s:%d:%d: ", n->file, n->line, n->col);
  va_start(ap, fmt);
  /* NOLINTNEXTLINE(clang-analyzer-valist.Uninitialized): clang 14 bug */
  vfprintf(stderr, fmt, ap);
  va_end(ap);
  fputc('\n', stderr);
}

#define bad(...) (say(__VA_ARGS__), 2)

/* Every key of map 'm' is one of 'known' (NULL-terminated). */
static int keys_ok(const wd_node *m, const char *const *known) {
  size_t i, j;
  for (i = 0; i < m->n; i++) {
    for (j = 0; known[j] != NULL && strcmp(m->keys[i]->str, known[j]) != 0;
         j++) {
    }
    if (known[j] == NULL)
      return bad(m->keys[i], "unknown key '%s'", m->keys[i]->str);
  }
  return 0;
}

static int is_scalar(const wd_node *n) {
  return n != NULL && n->type == WD_NODE_SCALAR && n->str[0] != '\0';
}

/* A scalar or a list of scalars into 'out' (at most MAXNAMES). */
static int names(const wd_node *n, const char *what, const char **out,
                 size_t *nout) {
  size_t i;
  *nout = 0;
  if (n == NULL) return 0;
  if (is_scalar(n)) {
    out[(*nout)++] = n->str;
    return 0;
  }
  if (n->type != WD_NODE_SEQ || n->n > MAXNAMES)
    return bad(n, "%s must be a name or a list of at most %d names", what,
               MAXNAMES);
  for (i = 0; i < n->n; i++) {
    if (!is_scalar(n->kids[i]))
      return bad(n->kids[i], "%s must be a list of names", what);
    out[(*nout)++] = n->kids[i]->str;
  }
  return 0;
}

typedef struct Case {
  const wd_node *node, *name, *actor_id, *meta, *scope, *action, *resource,
      *attrs, *expect, *by;
  int has_actor; /* the case says 'actor:' (else the default's) */
} Case;

/* 'actor:' as a scalar id or a map {id, meta}. */
static int parse_actor(const wd_node *actor, const wd_node **id,
                       const wd_node **meta) {
  static const char *const actor_keys[] = { "id", "meta", NULL };
  int r;
  *id = *meta = NULL;
  if (is_scalar(actor)) {
    *id = actor;
    return 0;
  }
  if (actor->type != WD_NODE_MAP) return bad(actor, "actor must be a map");
  if ((r = keys_ok(actor, actor_keys)) != 0) return r;
  *id = wd_node_get(actor, "id");
  *meta = wd_node_get(actor, "meta");
  if (!is_scalar(*id)) return bad(actor, "actor needs an 'id'");
  if (*meta != NULL && (*meta)->type != WD_NODE_MAP)
    return bad(*meta, "actor meta must be a map");
  return 0;
}

static int parse_case(const wd_node *n, Case *c) {
  static const char *const known[] = {
    "name",  "actor",  "scope", "action", "resource",
    "attrs", "expect", "by",    NULL,
  };
  const wd_node *actor;
  int r;
  memset(c, 0, sizeof *c);
  c->node = n;
  if (n->type != WD_NODE_MAP) return bad(n, "a case must be a map");
  if ((r = keys_ok(n, known)) != 0) return r;
  c->name = wd_node_get(n, "name");
  c->scope = wd_node_get(n, "scope");
  c->action = wd_node_get(n, "action");
  c->resource = wd_node_get(n, "resource");
  c->attrs = wd_node_get(n, "attrs");
  c->expect = wd_node_get(n, "expect");
  c->by = wd_node_get(n, "by");
  if (!is_scalar(c->name)) return bad(n, "a case needs a 'name'");
  if (!is_scalar(c->action) || !is_scalar(c->resource))
    return bad(n, "case '%s' needs 'action' and 'resource'", c->name->str);
  if (!is_scalar(c->expect) || (strcmp(c->expect->str, "allow") != 0 &&
                                strcmp(c->expect->str, "deny") != 0))
    return bad(c->expect ? c->expect : n,
               "case '%s' needs 'expect: allow' or 'expect: deny'",
               c->name->str);
  if (c->attrs != NULL && c->attrs->type != WD_NODE_MAP)
    return bad(c->attrs, "attrs must be a map");
  if ((actor = wd_node_get(n, "actor")) != NULL) {
    c->has_actor = 1;
    return parse_actor(actor, &c->actor_id, &c->meta);
  }
  return 0;
}

/* The 'defaults:' block: actor, scope, attrs. */
typedef struct Defaults {
  const wd_node *actor_id, *meta, *scope, *attrs;
} Defaults;

static int parse_defaults(const wd_node *n, Defaults *d) {
  static const char *const known[] = { "actor", "scope", "attrs", NULL };
  const wd_node *actor;
  int r;
  memset(d, 0, sizeof *d);
  if (n == NULL) return 0;
  if (n->type != WD_NODE_MAP) return bad(n, "defaults must be a map");
  if ((r = keys_ok(n, known)) != 0) return r;
  d->scope = wd_node_get(n, "scope");
  d->attrs = wd_node_get(n, "attrs");
  if (d->attrs != NULL && d->attrs->type != WD_NODE_MAP)
    return bad(d->attrs, "attrs must be a map");
  if ((actor = wd_node_get(n, "actor")) != NULL)
    return parse_actor(actor, &d->actor_id, &d->meta);
  return 0;
}

/* The deciding ids are exactly the set 'by' names. */
static int same_ids(const wd_pdecision *d, const char *const *by, size_t n) {
  size_t i, j;
  if (d->more || d->nids != n) return 0;
  for (i = 0; i < n; i++) {
    for (j = 0; j < d->nids && strcmp(by[i], d->ids[j]) != 0; j++) {
    }
    if (j == d->nids) return 0;
  }
  return 1;
}

/* {====== Coverage ====== */

/* Every policy of the set, and which conditions cases made true (bit 1)
** and false (bit 2), among the cases that reached the policy (asked one
** of its actions on one of its resources). */
typedef struct Cov {
  wd_scope *all;
  unsigned char *reached;
  unsigned char **cf;
  size_t n;
} Cov;

static void cov_free(Cov *cv) {
  size_t i;
  if (cv == NULL) return;
  for (i = 0; i < cv->n && cv->cf != NULL; i++)
    wd_free(cv->cf[i]);
  wd_free(cv->cf);
  wd_free(cv->reached);
  wd_scope_release(cv->all);
}

static int cov_init(Cov *cv, const wd_policy_set *set) {
  size_t n = wd_policy_set_count(set), i;
  const char **ids = wd_calloc(n + 1, sizeof *ids);
  int r = WD_ENOMEM;
  memset(cv, 0, sizeof *cv);
  if (ids == NULL) return r;
  for (i = 0; i < n; i++)
    ids[i] = wd_policy_set_id(set, i);
  if ((r = wd_scope_new(set, ids, n, &cv->all, NULL, 0)) != 0) goto out;
  cv->n = wd_scope_count(cv->all);
  r = WD_ENOMEM;
  if ((cv->reached = wd_calloc(cv->n + 1, 1)) == NULL ||
      (cv->cf = wd_calloc(cv->n + 1, sizeof *cv->cf)) == NULL)
    goto out;
  for (i = 0; i < cv->n; i++) {
    wd_pinfo pi;
    wd_scope_policy(cv->all, i, &pi);
    if ((cv->cf[i] = wd_calloc(pi.nconds + 1, 1)) == NULL) goto out;
  }
  r = 0;
out:
  wd_free(ids);
  return r;
}

static int pats_match(const wd_scope *sc, size_t i, int res, size_t n,
                      const char *s) {
  size_t j;
  wd_ppat p;
  for (j = 0; j < n; j++)
    if (wd_scope_pattern(sc, i, res, j, &p) == 0 && wd_ppat_match(&p, s))
      return 1;
  return 0;
}

static void cov_case(Cov *cv, const wd_scope *sc, const wd_preq *rq) {
  size_t i, j, k, n = wd_scope_count(sc);
  if (cv == NULL || sc == NULL || rq->actor_id == NULL) return;
  for (i = 0; i < n; i++) {
    wd_pinfo pi, pk;
    wd_scope_policy(sc, i, &pi);
    if (!pats_match(sc, i, 0, pi.nacts, rq->action) ||
        !pats_match(sc, i, 1, pi.nress, rq->resource))
      continue;
    for (k = 0; k < cv->n; k++)
      if (wd_scope_policy(cv->all, k, &pk) == 0 && strcmp(pk.id, pi.id) == 0)
        break;
    if (k == cv->n) continue;
    cv->reached[k] = 1;
    for (j = 0; j < pi.nconds; j++)
      cv->cf[k][j] |= wd_scope_cond_holds(sc, i, j, rq) ? 1 : 2;
  }
}

static void put_cond(const wd_pcond *c) {
  printf("%s %s ", c->field, c->op);
  if (c->from != NULL)
    fputs(c->from, stdout);
  else if (c->value != NULL)
    wd__cmd_policy_put_val(stdout, c->value);
  else
    fputs(c->want ? "true" : "false", stdout);
}

static void cov_report(const Cov *cv) {
  size_t i, j, np = 0, no = 0, nout = 0;
  for (i = 0; i < cv->n; i++) {
    wd_pinfo pi;
    wd_scope_policy(cv->all, i, &pi);
    np += cv->reached[i];
    nout += 2 * pi.nconds;
    for (j = 0; j < pi.nconds; j++)
      no += (cv->cf[i][j] & 1) + ((cv->cf[i][j] >> 1) & 1);
  }
  printf("coverage: %zu of %zu policies reached, %zu of %zu condition "
         "outcomes (true and false)\n",
         np, cv->n, no, nout);
  for (i = 0; i < cv->n; i++) {
    wd_pinfo pi;
    wd_scope_policy(cv->all, i, &pi);
    if (!cv->reached[i]) {
      printf("  not reached: %s: no case asks its actions on its resources "
             "[%s:%d]\n",
             pi.id, pi.file, pi.line);
      continue;
    }
    for (j = 0; j < pi.nconds; j++) {
      wd_pcond c;
      if (cv->cf[i][j] == 3) continue;
      wd_scope_cond(cv->all, i, j, &c);
      printf("  never %s: %s condition %zu: ",
             cv->cf[i][j] == 0  ? "evaluated"
             : cv->cf[i][j] & 1 ? "false"
                                : "true",
             pi.id, j + 1);
      put_cond(&c);
      printf(" [%s:%d]\n", pi.file, c.line);
    }
  }
}

/* }====== */

/* {====== Running cases ====== */

typedef struct Run {
  const char *file;
  const wd_polset *ps;
  Defaults def;
  Cov *cov;      /* --coverage, else NULL */
  wd__jcase *jc; /* --junit: one per case run */
  size_t njc;
} Run;

/* Merge attrs 'd' (defaults) and 'c' (the case's) into 'out' (room for
** both): the case's keys win. Returns the count. */
static size_t merge(const wd_pval *d, const wd_pval *c, wd_pattr *out) {
  size_t i, j, n = 0;
  if (d->type == WD_PVAL_MAP)
    for (i = 0; i < d->u.map.n; i++) {
      for (j = 0; c->type == WD_PVAL_MAP && j < c->u.map.n; j++)
        if (strcmp(c->u.map.v[j].key, d->u.map.v[i].key) == 0) break;
      if (c->type != WD_PVAL_MAP || j == c->u.map.n) out[n++] = d->u.map.v[i];
    }
  if (c->type == WD_PVAL_MAP)
    for (i = 0; i < c->u.map.n; i++)
      out[n++] = c->u.map.v[i];
  return n;
}

static int known_action(const char *a) {
  const char *const *v = wd_policy_actions();
  for (; *v != NULL; v++)
    if (strcmp(*v, a) == 0) return 1;
  return 0;
}

static double now(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

/* Keep a case's result for the JUnit report (--junit). */
static void record(Run *run, const char *name, int ok, const char *line,
                   size_t len, double secs) {
  wd__jcase *j;
  char *copy;
  if (run->jc == NULL) return;
  j = &run->jc[run->njc++];
  if ((copy = wd_malloc(len + 1)) != NULL) memcpy(copy, line, len + 1);
  j->classname = run->file;
  j->name = name;
  j->secs = secs;
  j->ok = ok;
  j->out = copy;
  j->outlen = copy != NULL ? len : 0;
  j->msg = ok ? NULL : j->out;
}

/* The result line of a case into 'line': "ok     NAME" or "FAIL   NAME:
** got ..., expected ... [FILE:LINE]". Returns its length. */
static size_t result_line(char *line, size_t cap, const Case *c,
                          const wd_node *n, int failed, int allow,
                          const char *why, const char *const *by, size_t nby) {
  size_t i, len;
  if (!failed) {
    len = (size_t)snprintf(line, cap, "ok     %s\n", c->name->str);
    return len < cap ? len : cap - 1;
  }
  len = (size_t)snprintf(line, cap, "FAIL   %s: got %s (%s), expected %s",
                         c->name->str, allow ? "allow" : "deny", why,
                         c->expect->str);
  for (i = 0; i < nby && len < cap; i++)
    len += (size_t)snprintf(line + len, cap - len, "%s%s",
                            i == 0 ? " by " : ", ", by[i]);
  if (len < cap)
    len += (size_t)snprintf(line + len, cap - len, "  [%s:%d]\n", n->file,
                            n->line);
  return len < cap ? len : cap - 1;
}

/* Run one case: 0 passed, 1 failed, 2 bad input. */
static int run_case(Run *run, const wd_node *n) {
  const char *scope[MAXNAMES], *by[MAXNAMES];
  size_t nscope, nby, len;
  wd_pval meta = wd_pval_null(), attrs = wd_pval_null(),
          dattrs = wd_pval_null();
  wd_pattr *av = NULL;
  wd_scope *sc = NULL;
  wd_pdecision d;
  wd_preq rq;
  char err[1024], w[1024], line[2048];
  const wd_node *actor_id, *metan, *scopen;
  double t0 = now();
  int r, allow;
  Case c;
  if ((r = parse_case(n, &c)) != 0) return r;
  actor_id = c.has_actor ? c.actor_id : run->def.actor_id;
  metan = c.has_actor ? c.meta : run->def.meta;
  scopen = c.scope != NULL ? c.scope : run->def.scope;
  if ((r = names(scopen, "scope", scope, &nscope)) != 0 ||
      (r = names(c.by, "by", by, &nby)) != 0)
    return r;
  if ((metan != NULL && wd_pval_from_node(metan, &meta) != 0) ||
      (c.attrs != NULL && wd_pval_from_node(c.attrs, &attrs) != 0) ||
      (run->def.attrs != NULL &&
       wd_pval_from_node(run->def.attrs, &dattrs) != 0)) {
    r = bad(metan     ? metan
            : c.attrs ? c.attrs
                      : run->def.attrs,
            "value nested too deeply");
    goto out;
  }
  if (nscope > 0 &&
      wd_scope_new(run->ps->set, scope, nscope, &sc, err, sizeof err) != 0) {
    r = bad(scopen, "%s", err);
    goto out;
  }
  if (!known_action(c.action->str)) {
    r = bad(c.action,
            "case '%s': unknown action '%s' (not one ward asks: see "
            "include/ward/wd_ops.h)",
            c.name->str, c.action->str);
    goto out;
  }
  av = wd_calloc((attrs.type == WD_PVAL_MAP ? attrs.u.map.n : 0) +
                     (dattrs.type == WD_PVAL_MAP ? dattrs.u.map.n : 0) + 1,
                 sizeof *av);
  if (av == NULL) {
    r = bad(n, "out of memory");
    goto out;
  }
  memset(&rq, 0, sizeof rq);
  rq.actor_id = actor_id ? actor_id->str : NULL;
  rq.actor_meta = &meta;
  rq.action = c.action->str;
  rq.resource = c.resource->str;
  rq.attrs = av;
  rq.nattrs = merge(&dattrs, &attrs, av);
  allow = wd_policy_check(sc, &rq, &d) == WD_POLICY_ALLOW;
  cov_case(run->cov, sc, &rq);
  wd__cmd_policy_why(&d, w, sizeof w);
  r = allow != (strcmp(c.expect->str, "allow") == 0) ||
      (c.by != NULL && !same_ids(&d, by, nby));
  len = result_line(line, sizeof line, &c, n, r != 0, allow, w, by, nby);
  fputs(line, stdout);
  record(run, c.name->str, r == 0, line, len, now() - t0);
out:
  wd_free(av);
  wd_scope_release(sc);
  wd_pval_clear(&meta);
  wd_pval_clear(&attrs);
  wd_pval_clear(&dattrs);
  return r;
}

/* Load the 'policies:' paths, each relative to the test file. */
static int load_paths(const char *file, const wd_node *pol, wd_polset **ps) {
  const char *rel[MAXNAMES], *paths[MAXNAMES];
  char buf[MAXNAMES][PATH_MAX], err[1024];
  const char *slash = strrchr(file, '/');
  int dirlen = slash ? (int)(slash - file) : 0;
  size_t n, i;
  int r;
  if ((r = names(pol, "policies", rel, &n)) != 0) return r;
  for (i = 0; i < n; i++) {
    if (rel[i][0] == '/' || slash == NULL)
      snprintf(buf[i], sizeof buf[i], "%s", rel[i]);
    else
      snprintf(buf[i], sizeof buf[i], "%.*s/%s", dirlen, file, rel[i]);
    paths[i] = buf[i];
  }
  if (wd_polset_load(paths, n, ps, err, sizeof err) != 0) {
    fprintf(stderr, "ward policy test: %s\n", err);
    return 2;
  }
  return 0;
}

static int run_file(const char *file, const wd_doc *doc, const char *junit,
                    int coverage) {
  static const char *const known[] = { "policies", "defaults", "cases", NULL };
  const wd_node *root = doc->root, *cases;
  wd_polset *ps = NULL;
  Run run;
  Cov cov;
  int r, passed = 0, failed = 0;
  time_t start = time(NULL);
  char suite[PATH_MAX + 32];
  size_t i;
  memset(&run, 0, sizeof run);
  memset(&cov, 0, sizeof cov);
  run.file = file;
  if (root == NULL || root->type != WD_NODE_MAP) {
    fprintf(stderr,
            "ward policy test: %s: expected a map with 'policies' "
            "and 'cases'\n",
            file);
    return 2;
  }
  if ((r = keys_ok(root, known)) != 0) return r;
  cases = wd_node_get(root, "cases");
  if (cases == NULL || cases->type != WD_NODE_SEQ)
    return bad(cases ? cases : root, "'cases' must be a list");
  if (wd_node_get(root, "policies") == NULL)
    return bad(root, "missing 'policies' (paths of the policies to test)");
  if ((r = parse_defaults(wd_node_get(root, "defaults"), &run.def)) != 0)
    return r;
  if ((r = load_paths(file, wd_node_get(root, "policies"), &ps)) != 0) return r;
  run.ps = ps;
  if (coverage) {
    if (cov_init(&cov, ps->set) != 0) {
      fprintf(stderr, "ward policy test: out of memory\n");
      r = 2;
      goto out;
    }
    run.cov = &cov;
  }
  if (junit != NULL &&
      (run.jc = wd_calloc(cases->n + 1, sizeof *run.jc)) == NULL) {
    fprintf(stderr, "ward policy test: out of memory\n");
    r = 2;
    goto out;
  }
  for (i = 0; i < cases->n; i++) {
    if ((r = run_case(&run, cases->kids[i])) == 2) break;
    if (r == 0)
      passed++;
    else
      failed++;
  }
  if (r == 2) goto out;
  printf("%d passed, %d failed\n", passed, failed);
  if (coverage) cov_report(&cov);
  r = failed > 0 ? 1 : 0;
  snprintf(suite, sizeof suite, "ward policy test %s", file);
  if (junit != NULL &&
      wd__junit_write("policy test", junit, suite, run.jc, run.njc, start) != 0)
    r = 1;
out:
  for (i = 0; i < run.njc; i++)
    wd_free((char *)run.jc[i].out);
  wd_free(run.jc);
  if (coverage) cov_free(&cov);
  wd_polset_free(ps);
  return r;
}

int wd__cmd_policy_test(int argc, char **argv) {
  const char *file = NULL, *junit = NULL;
  char *text = NULL, err[1024];
  int coverage = 0;
  wd_doc *doc;
  size_t len = 0, cap = 0;
  FILE *f;
  int i, r;
  for (i = 0; i < argc; i++) {
    if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0) {
      fputs(usage_test, stdout);
      return 0;
    }
    if (strcmp(argv[i], "--coverage") == 0) {
      coverage = 1;
      continue;
    }
    if (strcmp(argv[i], "--junit") == 0 && i + 1 < argc) {
      junit = argv[++i];
      continue;
    }
    if (argv[i][0] == '-' || file != NULL) {
      fprintf(stderr, "ward policy test: unexpected '%s'\n%s", argv[i],
              usage_test);
      return 2;
    }
    file = argv[i];
  }
  if (file == NULL) {
    fprintf(stderr, "ward policy test: FILE is required\n%s", usage_test);
    return 2;
  }
  if (junit != NULL && wd__junit_check_path("policy test", junit) != 0)
    return 2;
  if ((f = fopen(file, "r")) == NULL) {
    fprintf(stderr, "ward policy test: %s: %s\n", file, strerror(errno));
    return 2;
  }
  while (!feof(f) && !ferror(f) && len <= WD_MANIFEST_MAX_YAML) {
    char *nt = cap - len < 4096 ? wd_realloc(text, cap += 65536) : text;
    if (nt == NULL) break;
    text = nt;
    len += fread(text + len, 1, cap - len, f);
  }
  r = ferror(f) || text == NULL || len > WD_MANIFEST_MAX_YAML;
  fclose(f);
  if (r) {
    fprintf(stderr, "ward policy test: %s: cannot read (or too large)\n", file);
    wd_free(text);
    return 2;
  }
  if (wd_yaml_parse(file, text, len, &doc, err, sizeof err) != 0) {
    fprintf(stderr, "ward policy test: %s\n", err);
    wd_free(text);
    return 2;
  }
  r = run_file(file, doc, junit, coverage);
  wd_doc_free(doc);
  wd_free(text);
  return r;
}
