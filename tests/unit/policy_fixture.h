/*
** tests/unit/policy_fixture.h
** Fixtures of the policy unit tests (header-only): adding policies from
** flow text, loader error strings, scopes. Each test file uses some.
*/
#ifndef policy_fixture_h
#define policy_fixture_h

#include "policy_flow.h"
#include "ward/wd_policy.h"

#define WD_TEST_UNUSED __attribute__((unused))

/* The start of a policy that allows everything; tests add conditions. */
#define OKP "{actions: '*', resources: '*', effect: allow, "

/*
** {======================================================================
** Fixtures
** =======================================================================
*/

static WD_TEST_UNUSED char g_err[512];

/* Add policy 'src' (flow YAML of the `policy:` map) with groups 'grp'. */
static WD_TEST_UNUSED int add(wd_policy_set *s, const char *id, const char *src,
               const char *grp) {
  wd_node *p = src != NULL ? tree(src) : NULL;
  wd_node *g = grp != NULL ? tree(grp) : NULL;
  int r = wd_policy_add(s, id, "app", p, g, g_err, sizeof g_err);
  tree_free(p);
  tree_free(g);
  return r;
}

/* Load error of one policy text. */
static WD_TEST_UNUSED const char *load_err(const char *src, int want) {
  wd_policy_set *s;
  assert_int_equal(wd_policy_set_new(&s), 0);
  assert_int_equal(add(s, "app:p", src, NULL), want);
  assert_int_equal(wd_policy_set_count(s), 0);
  wd_policy_set_free(s);
  return g_err;
}

/* A scope of every policy of 's', by id. */
static WD_TEST_UNUSED wd_scope *scope_all(const wd_policy_set *s) {
  const char *names[64];
  wd_scope *sc;
  size_t i, n = wd_policy_set_count(s);
  assert_true(n <= 64);
  for (i = 0; i < n; i++)
    names[i] = wd_policy_set_id(s, i);
  assert_int_equal(wd_scope_new(s, names, n, &sc, g_err, sizeof g_err), 0);
  return sc;
}

/* Check through the index, and assert that the scan agrees. */
static WD_TEST_UNUSED int check(const wd_scope *sc, const wd_preq *rq, wd_pdecision *d) {
  wd_pdecision a, b;
  size_t i;
  int ra = wd_policy_check(sc, rq, &a), rb = wd_policy_check_scan(sc, rq, &b);
  assert_int_equal(ra, rb);
  assert_int_equal(a.effect, b.effect);
  assert_int_equal(a.reason, b.reason);
  assert_int_equal(a.nids, b.nids);
  assert_int_equal(a.more, b.more);
  for (i = 0; i < a.nids; i++)
    assert_string_equal(a.ids[i], b.ids[i]);
  assert_int_equal(ra, a.effect == WD_PEFFECT_ALLOW ? 0 : WD_EDENIED);
  if (d != NULL) *d = a;
  return ra;
}

/* The standard request: rich actor meta and attributes. */
static WD_TEST_UNUSED wd_pval g_tags[2], g_alist[2];
static WD_TEST_UNUSED wd_pattr g_nested[1], g_meta[6], g_amap[1], g_attrs[8];
static WD_TEST_UNUSED wd_pval g_metav;
static WD_TEST_UNUSED wd_preq g_rq;

static WD_TEST_UNUSED void req_init(void) {
  g_tags[0] = wd_pval_str("a");
  g_tags[1] = wd_pval_str("b");
  g_nested[0].key = "team";
  g_nested[0].val = wd_pval_str("blue");
  g_meta[0].key = "role";
  g_meta[0].val = wd_pval_str("admin");
  g_meta[1].key = "level";
  g_meta[1].val = wd_pval_int(5);
  g_meta[2].key = "tags";
  g_meta[2].val = wd_pval_list(g_tags, 2);
  g_meta[3].key = "nested";
  g_meta[3].val = wd_pval_map(g_nested, 1);
  g_meta[4].key = "score";
  g_meta[4].val = wd_pval_str("7.5");
  g_meta[5].key = "ratio";
  g_meta[5].val = wd_pval_num(0.25);
  g_metav = wd_pval_map(g_meta, 6);
  g_alist[0] = wd_pval_str("x");
  g_alist[1] = wd_pval_int(42);
  g_amap[0].key = "k";
  g_amap[0].val = wd_pval_str("v");
  g_attrs[0].key = "pid";
  g_attrs[0].val = wd_pval_str("{app:processes|0x00001}");
  g_attrs[1].key = "topic";
  g_attrs[1].val = wd_pval_str("orders.new");
  g_attrs[2].key = "host";
  g_attrs[2].val = wd_pval_str("app:processes");
  g_attrs[3].key = "count";
  g_attrs[3].val = wd_pval_int(3);
  g_attrs[4].key = "list";
  g_attrs[4].val = wd_pval_list(g_alist, 2);
  g_attrs[5].key = "map";
  g_attrs[5].val = wd_pval_map(g_amap, 1);
  g_attrs[6].key = "nothing";
  g_attrs[6].val = wd_pval_null();
  g_attrs[7].key = "owner";
  g_attrs[7].val = wd_pval_str("user:alice");
  memset(&g_rq, 0, sizeof g_rq);
  g_rq.actor_id = "user:alice";
  g_rq.actor_meta = &g_metav;
  g_rq.action = "process.send";
  g_rq.resource = "{app:processes|0x0002a}";
  g_rq.attrs = g_attrs;
  g_rq.nattrs = 8;
}

static WD_TEST_UNUSED int setup(void **state) {
  (void)state;
  req_init();
  return 0;
}

/* Does an allow-everything policy with the one condition 'cond' allow the
** standard request? */
static WD_TEST_UNUSED int holds(const char *cond) {
  char src[512];
  wd_policy_set *s;
  wd_scope *sc;
  int r;
  snprintf(src, sizeof src,
           "{actions: '*', resources: '*', effect: allow, conditions: [%s]}",
           cond);
  assert_int_equal(wd_policy_set_new(&s), 0);
  if (add(s, "app:p", src, NULL) != 0) fail_msg("load: %s", g_err);
  sc = scope_all(s);
  r = check(sc, &g_rq, NULL);
  wd_scope_release(sc);
  wd_policy_set_free(s);
  return r == 0;
}

/* Does a policy with these actions/resources patterns match (action,
** resource)? */
static WD_TEST_UNUSED int pat(const char *acts, const char *ress, const char *action,
               const char *resource) {
  char src[512];
  wd_policy_set *s;
  wd_scope *sc;
  wd_preq rq = g_rq;
  int r;
  snprintf(src, sizeof src, "{actions: %s, resources: %s, effect: allow}", acts,
           ress);
  assert_int_equal(wd_policy_set_new(&s), 0);
  if (add(s, "app:p", src, NULL) != 0) fail_msg("load: %s", g_err);
  sc = scope_all(s);
  rq.action = action;
  rq.resource = resource;
  r = check(sc, &rq, NULL);
  wd_scope_release(sc);
  wd_policy_set_free(s);
  return r == 0;
}

/* }====================================================================== */

#endif
