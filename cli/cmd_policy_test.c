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

#include "cmd_int.h"
#include "ward/wd_polset.h"
#include "ward/wd_yaml.h"

#define MAXNAMES 64

static const char usage_test[] =
    "usage: ward policy test FILE\n"
    "\n"
    "Run the policy tests of FILE, a YAML map:\n"
    "  policies: [PATH, ...]        relative to FILE's directory\n"
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
    "expected ...') and a closing line 'N passed, N failed'.\n"
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
} Case;

static int parse_case(const wd_node *n, Case *c) {
  static const char *const known[] = {
    "name",  "actor",  "scope", "action", "resource",
    "attrs", "expect", "by",    NULL,
  };
  static const char *const actor_keys[] = { "id", "meta", NULL };
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
    if (is_scalar(actor)) {
      c->actor_id = actor;
      return 0;
    }
    if (actor->type != WD_NODE_MAP) return bad(actor, "actor must be a map");
    if ((r = keys_ok(actor, actor_keys)) != 0) return r;
    c->actor_id = wd_node_get(actor, "id");
    c->meta = wd_node_get(actor, "meta");
    if (!is_scalar(c->actor_id)) return bad(actor, "actor needs an 'id'");
    if (c->meta != NULL && c->meta->type != WD_NODE_MAP)
      return bad(c->meta, "actor meta must be a map");
  }
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

/* Run one case: 0 passed, 1 failed, 2 bad input. */
static int run_case(const wd_polset *ps, const wd_node *n) {
  const char *scope[MAXNAMES], *by[MAXNAMES];
  size_t nscope, nby, i;
  wd_pval meta = wd_pval_null(), attrs = wd_pval_null();
  wd_scope *sc = NULL;
  wd_pdecision d;
  wd_preq rq;
  char err[1024], w[1024];
  int r, allow;
  Case c;
  if ((r = parse_case(n, &c)) != 0 ||
      (r = names(c.scope, "scope", scope, &nscope)) != 0 ||
      (r = names(c.by, "by", by, &nby)) != 0)
    return r;
  if ((c.meta != NULL && wd_pval_from_node(c.meta, &meta) != 0) ||
      (c.attrs != NULL && wd_pval_from_node(c.attrs, &attrs) != 0)) {
    r = bad(c.meta ? c.meta : c.attrs, "value nested too deeply");
    goto out;
  }
  if (nscope > 0 &&
      wd_scope_new(ps->set, scope, nscope, &sc, err, sizeof err) != 0) {
    r = bad(c.scope, "%s", err);
    goto out;
  }
  memset(&rq, 0, sizeof rq);
  rq.actor_id = c.actor_id ? c.actor_id->str : NULL;
  rq.actor_meta = &meta;
  rq.action = c.action->str;
  rq.resource = c.resource->str;
  if (attrs.type == WD_PVAL_MAP) {
    rq.attrs = attrs.u.map.v;
    rq.nattrs = attrs.u.map.n;
  }
  allow = wd_policy_check(sc, &rq, &d) == WD_POLICY_ALLOW;
  wd__cmd_policy_why(&d, w, sizeof w);
  r = allow != (strcmp(c.expect->str, "allow") == 0) ||
      (c.by != NULL && !same_ids(&d, by, nby));
  if (r == 0) {
    printf("ok     %s\n", c.name->str);
  } else {
    printf("FAIL   %s: got %s (%s), expected %s", c.name->str,
           allow ? "allow" : "deny", w, c.expect->str);
    for (i = 0; i < nby; i++)
      printf("%s%s", i == 0 ? " by " : ", ", by[i]);
    printf("  [%s:%d]\n", n->file, n->line);
  }
out:
  wd_scope_release(sc);
  wd_pval_clear(&meta);
  wd_pval_clear(&attrs);
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

static int run_file(const char *file, const wd_doc *doc) {
  static const char *const known[] = { "policies", "cases", NULL };
  const wd_node *root = doc->root, *cases;
  wd_polset *ps = NULL;
  int r, passed = 0, failed = 0;
  size_t i;
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
  if ((r = load_paths(file, wd_node_get(root, "policies"), &ps)) != 0) return r;
  for (i = 0; i < cases->n; i++) {
    if ((r = run_case(ps, cases->kids[i])) == 2) break;
    if (r == 0)
      passed++;
    else
      failed++;
  }
  wd_polset_free(ps);
  if (r == 2) return 2;
  printf("%d passed, %d failed\n", passed, failed);
  return failed > 0 ? 1 : 0;
}

int wd__cmd_policy_test(int argc, char **argv) {
  const char *file = NULL;
  char *text = NULL, err[1024];
  wd_doc *doc;
  size_t len = 0, cap = 0;
  FILE *f;
  int i, r;
  for (i = 0; i < argc; i++) {
    if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0) {
      fputs(usage_test, stdout);
      return 0;
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
  r = run_file(file, doc);
  wd_doc_free(doc);
  wd_free(text);
  return r;
}
