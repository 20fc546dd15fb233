/*
** tests/unit/test_sandbox_polset.c
** Policy sets from manifests: every security.policy entry compiled, each
** load error named by file, line and column (also an id defined in two
** paths), scope membership by id and group, and the shipped policies/
** (baseline + multi-tenant example) as a table of requests and decisions.
** An OOM sweep over a whole load.
** Runs in: broker.
*/
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "ward/wd_polset.h"

static char err[1024];
static char root[PATH_MAX]; /* the repository */
static char tmpfile_[PATH_MAX], tmpfile2[PATH_MAX];

/* {====== Helpers ====== */

static void init_root(void) {
  const char *p = strstr(__FILE__, "/tests/unit/");
  snprintf(root, sizeof root, "%.*s", p ? (int)(p - __FILE__) : 1,
           p ? __FILE__ : ".");
}

static wd_manifest *load_str(const char *file, const char *text) {
  wd_manifest *m = NULL;
  int r = wd_manifest_load_string(file, text, strlen(text), NULL, &m, err,
                                  sizeof err);
  if (r != 0) fail_msg("manifest: %d %s", r, err);
  return m;
}

static void put_file(char *path, const char *name, const char *text) {
  FILE *f;
  snprintf(path, PATH_MAX, "/tmp/wd_polset_%ld_%s", (long)getpid(), name);
  assert_non_null(f = fopen(path, "w"));
  fputs(text, f);
  fclose(f);
}

static int cleanup(void **state) {
  (void)state;
  wd_replace_allocator(NULL, NULL, NULL);
  if (tmpfile_[0]) unlink(tmpfile_);
  if (tmpfile2[0]) unlink(tmpfile2);
  tmpfile_[0] = tmpfile2[0] = '\0';
  return 0;
}

#define POL(name, extra)                                                       \
  "  - name: " name "\n    kind: security.policy\n    groups: [g]\n"           \
  "    policy:\n      actions: process.send\n      resources: \"*\"\n"         \
  "      effect: allow\n" extra

static const char good[] = "namespace: app\nentries:\n"
                           "  - name: h\n    kind: process.host\n" POL("a", "")
                               POL("b", "      conditions:\n"
                                        "        - {field: actor.id, "
                                        "operator: eq, value: x}\n");

/* }====== */

/* {====== From a manifest ====== */

static void test_polset_from_manifest_compiles_every_policy(void **state) {
  wd_manifest *m = load_str("good.yaml", good);
  wd_policy_set *s = NULL;
  (void)state;
  assert_int_equal(wd_polset_from_manifest(m, &s, err, sizeof err), 0);
  assert_int_equal(wd_policy_set_count(s), 2);
  assert_string_equal(wd_policy_set_id(s, 0), "app:a");
  assert_string_equal(wd_policy_set_id(s, 1), "app:b");
  assert_true(wd_policy_set_has(s, "app:g"));
  wd_policy_set_free(s);
  wd_manifest_free(m);
}

static void test_polset_from_manifest_without_policies_is_empty(void **state) {
  wd_manifest *m = load_str("e.yaml", "namespace: app\nentries:\n"
                                      "  - name: h\n    kind: process.host\n");
  wd_policy_set *s = NULL;
  (void)state;
  assert_int_equal(wd_polset_from_manifest(m, &s, err, sizeof err), 0);
  assert_int_equal(wd_policy_set_count(s), 0);
  wd_policy_set_free(s);
  wd_manifest_free(m);
}

static void test_polset_bad_policy_names_file_line_col(void **state) {
  wd_manifest *m =
      load_str("bad.yaml", "namespace: app\nentries:\n" POL(
                               "a", "      conditions:\n"
                                    "        - {field: actor.id, operator: "
                                    "like, value: x}\n"));
  wd_policy_set *s = (wd_policy_set *)&s;
  (void)state;
  assert_int_equal(wd_polset_from_manifest(m, &s, err, sizeof err), WD_EINVAL);
  assert_string_equal(err, "bad.yaml:11:39: unknown operator 'like'");
  assert_ptr_equal(s, (wd_policy_set *)&s); /* untouched */
  wd_manifest_free(m);
}

static void test_polset_bad_effect_names_file_line_col(void **state) {
  wd_manifest *m = load_str("bad.yaml", "namespace: app\nentries:\n"
                                        "  - name: a\n"
                                        "    kind: security.policy\n"
                                        "    policy:\n"
                                        "      actions: x\n"
                                        "      resources: y\n"
                                        "      effect: permit\n");
  wd_policy_set *s = NULL;
  (void)state;
  assert_int_equal(wd_polset_from_manifest(m, &s, err, sizeof err), WD_EINVAL);
  assert_string_equal(err, "bad.yaml:8:15: policy.effect must be allow or "
                           "deny, not 'permit'");
  assert_null(s);
  wd_manifest_free(m);
}

static void test_polset_add_manifest_twice_is_a_duplicate(void **state) {
  wd_manifest *m = load_str("good.yaml", good);
  wd_policy_set *s = NULL;
  (void)state;
  assert_int_equal(wd_policy_set_new(&s), 0);
  assert_int_equal(wd_polset_add_manifest(s, m, err, sizeof err), 0);
  assert_int_equal(wd_polset_add_manifest(s, m, err, sizeof err), WD_EINVAL);
  assert_string_equal(err, "good.yaml:5:5: policy 'app:a' is already defined "
                           "(first at good.yaml:5:5)");
  wd_policy_set_free(s);
  wd_manifest_free(m);
}

static void test_polset_null_arguments_are_einval(void **state) {
  wd_manifest *m = load_str("good.yaml", good);
  wd_policy_set *s = NULL;
  (void)state;
  assert_int_equal(wd_polset_from_manifest(NULL, &s, err, sizeof err),
                   WD_EINVAL);
  assert_int_equal(wd_polset_add_manifest(NULL, m, err, sizeof err), WD_EINVAL);
  assert_int_equal(wd_polset_load(NULL, 1, NULL, err, sizeof err), WD_EINVAL);
  wd_manifest_free(m);
}

/* }====== */

/* {====== Loading paths ====== */

static void test_polset_load_files_and_dirs(void **state) {
  char dir[PATH_MAX + 64];
  const char *paths[2];
  wd_polset *ps = NULL;
  (void)state;
  put_file(tmpfile_, "good.yaml", good);
  snprintf(dir, sizeof dir, "%s/tests/unit/fixtures/manifest/app", root);
  paths[0] = dir;
  paths[1] = tmpfile_;
  assert_int_equal(wd_polset_load(paths, 2, &ps, err, sizeof err), 0);
  assert_int_equal(ps->nm, 2);
  assert_int_equal(wd_policy_set_count(ps->set), 3);
  assert_non_null(wd_polset_find(ps, "app.security:allow_send"));
  assert_non_null(wd_polset_find(ps, "app:b"));
  assert_null(wd_polset_find(ps, "app:h")); /* a host, not a policy */
  assert_null(wd_polset_find(ps, "app:nope"));
  wd_polset_free(ps);
  wd_polset_free(NULL);
}

static void test_polset_load_same_id_in_two_paths_names_both(void **state) {
  const char *paths[2];
  char want[2 * PATH_MAX + 128];
  wd_polset *ps = NULL;
  (void)state;
  put_file(tmpfile_, "one.yaml", good);
  put_file(tmpfile2, "two.yaml", "namespace: app\nentries:\n" POL("b", ""));
  paths[0] = tmpfile_;
  paths[1] = tmpfile2;
  assert_int_equal(wd_polset_load(paths, 2, &ps, err, sizeof err), WD_EINVAL);
  snprintf(want, sizeof want,
           "%s:3:5: policy 'app:b' is already defined (first at %s:12:5)",
           tmpfile2, tmpfile_);
  assert_string_equal(err, want);
  assert_null(ps);
}

static void test_polset_load_missing_path_is_errno(void **state) {
  const char *paths[1] = { "/nonexistent/policies" };
  wd_polset *ps = NULL;
  (void)state;
  assert_int_equal(wd_polset_load(paths, 1, &ps, err, sizeof err), -ENOENT);
  assert_string_equal(err, "/nonexistent/policies: No such file or directory");
  assert_null(ps);
}

static void test_polset_load_bad_yaml_names_position(void **state) {
  const char *paths[1];
  char want[PATH_MAX + 64];
  wd_polset *ps = NULL;
  (void)state;
  put_file(tmpfile_, "bad.yaml", "namespace: app\nentries:\n  - name: [\n");
  paths[0] = tmpfile_;
  assert_int_equal(wd_polset_load(paths, 1, &ps, err, sizeof err), WD_EINVAL);
  snprintf(want, sizeof want, "%s:", tmpfile_);
  assert_int_equal(strncmp(err, want, strlen(want)), 0);
  assert_null(ps);
}

/* }====== */

/* {====== Scopes ====== */

static void test_polset_in_scope_by_id_and_group(void **state) {
  wd_manifest *m = load_str(
      "s.yaml", "namespace: app\nentries:\n"
                "  - name: p\n    kind: security.policy\n"
                "    groups: [g, other:h]\n"
                "    policy: {actions: x, resources: y, effect: allow}\n"
                "  - name: q\n    kind: security.policy\n"
                "    policy: {actions: x, resources: y, effect: allow}\n");
  const wd_entry *p = wd_manifest_find(m, "app:p"),
                 *q = wd_manifest_find(m, "app:q");
  const char *byid[] = { "app:p" }, *bygroup[] = { "zz", "app:g" },
             *byq[] = { "other:h" }, *none[] = { "g", "app:h", "other:g" };
  (void)state;
  assert_true(wd_polset_in_scope(p, byid, 1));
  assert_true(wd_polset_in_scope(p, bygroup, 2));
  assert_true(wd_polset_in_scope(p, byq, 1));
  assert_false(wd_polset_in_scope(p, none, 3));
  assert_false(wd_polset_in_scope(q, bygroup, 2));
  assert_false(wd_polset_in_scope(p, byid, 0));
  assert_false(wd_polset_in_scope(NULL, byid, 1));
  assert_false(wd_polset_in_scope(wd_manifest_find(m, "app:nope"), byid, 1));
  wd_manifest_free(m);
}

/* }====== */

/* {====== The shipped policies ====== */

static int count_cb_n;

static void count_cb(const wd_plint *f, void *ud) {
  (void)f;
  (void)ud;
  count_cb_n++;
}

typedef struct Row {
  const char *actor, *tenant, *hosts; /* hosts: one host id or NULL */
  const char *scope1, *scope2;
  const char *action, *resource;
  const char *host, *target_host;
  int allow;
} Row;

/* Requests against policies/baseline + policies/examples/multitenant. */
static const Row rows[] = {
  { "tenant-a", "tenant-a", "tenant-a:processes", "baseline:tenant",
    "tenant-a:own", "process.send", "{tenant-a:processes|0x00002}",
    "tenant-a:processes", "tenant-a:processes", 1 },
  { "tenant-a", "tenant-a", "tenant-a:processes", "baseline:tenant",
    "tenant-a:own", "process.send", "{tenant-b:processes|0x00002}",
    "tenant-a:processes", "tenant-b:processes", 0 },
  { "tenant-a", "tenant-a", "tenant-a:processes", "baseline:tenant",
    "tenant-a:own", "process.spawn", "tenant-a.app:worker",
    "tenant-a:processes", "tenant-a:processes", 1 },
  { "tenant-a", "tenant-a", "tenant-a:processes", "baseline:tenant",
    "tenant-a:own", "process.spawn", "tenant-b.app:worker",
    "tenant-a:processes", "tenant-a:processes", 0 },
  { "tenant-a", "tenant-a", "tenant-a:processes", "baseline:tenant",
    "tenant-a:own", "process.spawn", "tenant-ab.app:worker",
    "tenant-a:processes", "tenant-a:processes", 0 },
  { "tenant-a", "tenant-a", "tenant-a:processes", "baseline:tenant",
    "tenant-a:own", "process.host", "tenant-b:processes", "tenant-a:processes",
    "tenant-b:processes", 0 },
  { "tenant-a", "tenant-a", "tenant-a:processes", "baseline:tenant",
    "tenant-a:own", "process.registry.register", "tenant-a.x",
    "tenant-a:processes", NULL, 1 },
  { "tenant-a", "tenant-a", "tenant-a:processes", "baseline:tenant",
    "tenant-a:own", "process.registry.register", "tenant-ab.x",
    "tenant-a:processes", NULL, 0 },
  { "tenant-a", "tenant-a", NULL, "baseline:tenant", "tenant-a:own",
    "process.send", "{tenant-a:processes|0x00002}", "tenant-a:processes",
    "tenant-a:processes", 0 },
  { "tenant-b", "tenant-b", "tenant-b:processes", "baseline:tenant",
    "tenant-b:own", "process.exec", "tenant-b.app:worker", "tenant-b:processes",
    "tenant-b:processes", 0 },
  { "tenant-a", "tenant-a", "tenant-a:processes", "baseline:tenant",
    "tenant-b:own", "process.spawn", "tenant-b.app:worker",
    "tenant-a:processes", "tenant-a:processes", 0 },
};

static void check_row(const wd_polset *ps, const Row *w) {
  wd_pval hosts = wd_pval_str(w->hosts ? w->hosts : "");
  wd_pattr meta[2], attrs[3];
  wd_pval metav, hostlist = wd_pval_list(&hosts, 1);
  const char *names[2] = { w->scope1, w->scope2 };
  wd_scope *sc = NULL;
  wd_preq rq;
  size_t na = 0;
  meta[0].key = "tenant";
  meta[0].val = wd_pval_str(w->tenant);
  meta[1].key = "hosts";
  meta[1].val = hostlist;
  metav = wd_pval_map(meta, w->hosts ? 2 : 1);
  attrs[na].key = "pid";
  attrs[na++].val = wd_pval_str("{x|0x1}");
  attrs[na].key = "host";
  attrs[na++].val = wd_pval_str(w->host);
  if (w->target_host != NULL) {
    attrs[na].key = "target_host";
    attrs[na++].val = wd_pval_str(w->target_host);
  }
  assert_int_equal(wd_scope_new(ps->set, names, 2, &sc, err, sizeof err), 0);
  memset(&rq, 0, sizeof rq);
  rq.actor_id = w->actor;
  rq.actor_meta = &metav;
  rq.action = w->action;
  rq.resource = w->resource;
  rq.attrs = attrs;
  rq.nattrs = na;
  if ((wd_policy_check(sc, &rq, NULL) == WD_POLICY_ALLOW) != w->allow)
    fail_msg("%s %s %s: want %s", w->actor, w->action, w->resource,
             w->allow ? "allow" : "deny");
  wd_scope_release(sc);
}

static void test_polset_shipped_policies_decide_the_table(void **state) {
  char base[PATH_MAX + 32], ex[PATH_MAX + 32];
  const char *paths[2] = { base, ex };
  wd_polset *ps = NULL;
  size_t i;
  (void)state;
  snprintf(base, sizeof base, "%s/policies/baseline", root);
  snprintf(ex, sizeof ex, "%s/policies/examples/multitenant", root);
  assert_int_equal(wd_polset_load(paths, 2, &ps, err, sizeof err), 0);
  count_cb_n = 0;
  assert_int_equal(wd_policy_lint(ps->set, count_cb, NULL), 0);
  assert_int_equal(count_cb_n, 0);
  for (i = 0; i < WD_COUNTOF(rows); i++)
    check_row(ps, &rows[i]);
  wd_polset_free(ps);
}

/* }====== */

/* {====== Out of memory ====== */

#include "oom.h"

static void test_polset_load_oom_sweep_returns_enomem(void **state) {
  char dir[PATH_MAX + 64];
  const char *paths[2];
  wd_polset *ps;
  int r = -1;
  (void)state;
  put_file(tmpfile_, "good.yaml", good);
  snprintf(dir, sizeof dir, "%s/policies/baseline", root);
  paths[0] = dir;
  paths[1] = tmpfile_;
  for (fail_at = 1; r != 0 && fail_at < 100000; fail_at++) {
    calls = 0;
    ps = NULL;
    wd_replace_allocator(oom_malloc, oom_realloc, NULL);
    r = wd_polset_load(paths, 2, &ps, err, sizeof err);
    wd_replace_allocator(NULL, NULL, NULL);
    if (r != 0) {
      if (r != WD_ENOMEM) fail_msg("allocation %ld: %d %s", fail_at, r, err);
      assert_null(ps);
    }
  }
  assert_int_equal(r, 0);
  if (ps != NULL) assert_int_equal(wd_policy_set_count(ps->set), 5);
  wd_polset_free(ps);
}

/* }====== */

#define T(f) cmocka_unit_test_teardown(f, cleanup)

int main(void) {
  const struct CMUnitTest tests[] = {
    T(test_polset_from_manifest_compiles_every_policy),
    T(test_polset_from_manifest_without_policies_is_empty),
    T(test_polset_bad_policy_names_file_line_col),
    T(test_polset_bad_effect_names_file_line_col),
    T(test_polset_add_manifest_twice_is_a_duplicate),
    T(test_polset_null_arguments_are_einval),
    T(test_polset_load_files_and_dirs),
    T(test_polset_load_same_id_in_two_paths_names_both),
    T(test_polset_load_missing_path_is_errno),
    T(test_polset_load_bad_yaml_names_position),
    T(test_polset_in_scope_by_id_and_group),
    T(test_polset_shipped_policies_decide_the_table),
    T(test_polset_load_oom_sweep_returns_enomem),
  };
  init_root();
  return cmocka_run_group_tests(tests, NULL, NULL);
}
