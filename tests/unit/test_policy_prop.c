/*
** tests/unit/test_policy_prop.c
** Property tests of the policy engine over random policy sets and random
** requests (fixed seed, tens of thousands of decisions): the empty scope
** denies everything; the index agrees with the plain scan and with an
** oracle built from one-policy scopes; adding policies is monotone as
** deny-overrides requires; order and duplicates change nothing; the cache
** returns exactly the uncached decisions. Links only wd_policy and wd_base.
*/
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "ward/wd_policy.h"

#include "policy_flow.h"

static char g_err[512];

/* Add policy 'src' (flow YAML of the `policy:` map) with groups 'grp'. */
static int add(wd_policy_set *s, const char *id, const char *src,
               const char *grp) {
  wd_node *p = tree(src), *g = tree(grp);
  int r = wd_policy_add(s, id, "app", p, g, g_err, sizeof g_err);
  tree_free(p);
  tree_free(g);
  return r;
}

/*
** {======================================================================
** Random policies and requests (fixed seed)
** =======================================================================
*/

static uint64_t g_rng = UINT64_C(0x9e3779b97f4a7c15);

static uint32_t rnd(uint32_t n) {
  g_rng ^= g_rng << 13;
  g_rng ^= g_rng >> 7;
  g_rng ^= g_rng << 17;
  return (uint32_t)(g_rng % n);
}

#define PICK(a) ((a)[rnd((uint32_t)WD_COUNTOF(a))])

static const char *const k_actions[] = {
  "process.send",
  "process.spawn",
  "process.spawn.linked",
  "process.link",
  "process.terminate",
  "network.select",
  "process.registry.register",
  "a",
  "ab",
  "processes.list",
};
static const char *const k_apats[] = {
  "'*'",
  "'process.*'",
  "'process.spawn*'",
  "'process.registry.*'",
  "'net*'",
  "'a*'",
  "'process.s*'",
  "process.send",
  "process.spawn",
  "process.link",
  "network.select",
  "a",
  "'process.send.*'",
};
static const char *const k_resources[] = {
  "{app:p|0x1}", "{app:p|0x2}", "{tenant:p|0x1}",
  "app:main",    "app:worker",  "security",
  "context",     "x",           "app.x",
};
static const char *const k_rpats[] = {
  "'*'",           "'{app:*'", "'{tenant:*'",
  "'app:*'",       "'app.*'",  "'{app:p|0x*'",
  "'{app:p|0x1}'", "app:main", "security",
  "context",       "x",
};
static const char *const k_fields[] = {
  "actor.id",
  "actor.meta.role",
  "actor.meta.level",
  "actor.meta.tags",
  "actor.meta.org.team",
  "meta.topic",
  "topic",
  "pid",
  "host",
  "count",
  "missing",
  "action",
  "resource",
  "actor.meta",
};
static const char *const k_scalars[] = {
  "admin",
  "user",
  "guest",
  "blue",
  "orders",
  "'{app:p|0x1}'",
  "1",
  "3",
  "5",
  "10",
  "'5'",
  "2.5",
  "true",
  "'user:alice'",
  "process.send",
  "''",
};
static const char *const k_lists[] = {
  "[admin, user]",   "[1, 5, '10']",         "[blue, red]", "[]",
  "['{app:p|0x1}']", "[orders.new, orders]",
};
static const char *const k_nums[] = { "0", "1", "3", "5", "5.5", "10", "-1" };
static const char *const k_regex[] = {
  "'^adm'", "'p[|]0x'", "'^[0-9]+$'", "o", "'^user:(alice|bob)$'", "'e$'",
};
static const char *const k_ops[] = {
  "eq",  "ne",     "lt",      "gt",       "lte",       "gte",     "in",
  "nin", "exists", "nexists", "contains", "ncontains", "matches", "nmatches",
};

/* One random, always valid condition as flow YAML. */
static void gen_cond(char *b, size_t n) {
  const char *f = PICK(k_fields), *op = PICK(k_ops);
  if (strcmp(op, "exists") == 0 || strcmp(op, "nexists") == 0) {
    snprintf(b, n, "{field: %s, operator: %s, value: %s}", f, op,
             rnd(4) ? "true" : "false");
  } else if (strcmp(op, "matches") == 0 || strcmp(op, "nmatches") == 0) {
    snprintf(b, n, "{field: %s, operator: %s, value: %s}", f, op,
             PICK(k_regex));
  } else if (rnd(6) == 0) {
    snprintf(b, n, "{field: %s, operator: %s, value_from: %s}", f, op,
             PICK(k_fields));
  } else if (op[0] == 'l' || op[0] == 'g') {
    snprintf(b, n, "{field: %s, operator: %s, value: %s}", f, op, PICK(k_nums));
  } else if ((strcmp(op, "in") == 0 || strcmp(op, "nin") == 0) && rnd(3)) {
    snprintf(b, n, "{field: %s, operator: %s, value: %s}", f, op,
             PICK(k_lists));
  } else {
    snprintf(b, n, "{field: %s, operator: %s, value: %s}", f, op,
             PICK(k_scalars));
  }
}

static void gen_pats(char *b, size_t n, const char *const *v, size_t nv) {
  size_t k = 1 + rnd(3), i, len;
  if (rnd(3) != 0) {
    snprintf(b, n, "%s", v[rnd((uint32_t)nv)]);
    return;
  }
  len = (size_t)snprintf(b, n, "[");
  for (i = 0; i < k; i++)
    len += (size_t)snprintf(b + len, n - len, "%s%s", i ? ", " : "",
                            v[rnd((uint32_t)nv)]);
  snprintf(b + len, n - len, "]");
}

/* A random policy; 'effect' is "allow", "deny" or NULL for random. */
static void gen_policy(char *b, size_t n, const char *effect) {
  char acts[200], ress[200], c[200];
  size_t len, i, nc = rnd(4) == 0 ? 0 : rnd(3);
  gen_pats(acts, sizeof acts, k_apats, WD_COUNTOF(k_apats));
  gen_pats(ress, sizeof ress, k_rpats, WD_COUNTOF(k_rpats));
  if (effect == NULL) effect = rnd(5) < 3 ? "allow" : "deny";
  len = (size_t)snprintf(b, n,
                         "{actions: %s, resources: %s, effect: %s, "
                         "conditions: [",
                         acts, ress, effect);
  for (i = 0; i < nc; i++) {
    gen_cond(c, sizeof c);
    len += (size_t)snprintf(b + len, n - len, "%s%s", i ? ", " : "", c);
  }
  snprintf(b + len, n - len, "]}");
}

/* Storage for one random request. */
typedef struct Req {
  wd_preq rq;
  wd_pval tags[3];
  wd_pattr org[1];
  wd_pattr meta[4];
  wd_pval metav;
  wd_pattr attrs[5];
} Req;

static void gen_req(Req *r) {
  static const char *const ids[] = { "user:alice", "user:bob", "admin" };
  static const char *const roles[] = { "admin", "user", "guest", "5" };
  static const char *const topics[] = { "orders", "orders.new", "blue", "" };
  static const char *const pids[] = { "{app:p|0x1}", "{tenant:p|0x7}" };
  size_t nm = 0, na = 0, i, nt = rnd(4);
  memset(r, 0, sizeof *r);
  for (i = 0; i < nt; i++)
    r->tags[i] = wd_pval_str(PICK(roles));
  r->org[0].key = "team";
  r->org[0].val = wd_pval_str(rnd(2) ? "blue" : "red");
  if (rnd(4)) {
    r->meta[nm].key = "role";
    r->meta[nm++].val = wd_pval_str(PICK(roles));
  }
  if (rnd(4)) {
    r->meta[nm].key = "level";
    r->meta[nm++].val =
        rnd(3) ? wd_pval_int((int64_t)rnd(12) - 1) : wd_pval_str(PICK(k_nums));
  }
  if (rnd(2)) {
    r->meta[nm].key = "tags";
    r->meta[nm++].val = wd_pval_list(r->tags, nt);
  }
  if (rnd(2)) {
    r->meta[nm].key = "org";
    r->meta[nm++].val = wd_pval_map(r->org, 1);
  }
  r->metav = wd_pval_map(r->meta, nm);
  if (rnd(5)) {
    r->attrs[na].key = "pid";
    r->attrs[na++].val = wd_pval_str(PICK(pids));
  }
  if (rnd(2)) {
    r->attrs[na].key = "topic";
    r->attrs[na++].val = wd_pval_str(PICK(topics));
  }
  if (rnd(2)) {
    r->attrs[na].key = "host";
    r->attrs[na++].val = wd_pval_str(rnd(2) ? "app:p" : "tenant:p");
  }
  if (rnd(2)) {
    r->attrs[na].key = "count";
    r->attrs[na++].val =
        rnd(2) ? wd_pval_int((int64_t)rnd(12)) : wd_pval_num(rnd(20) / 2.0);
  }
  r->rq.actor_id = rnd(10) ? PICK(ids) : NULL;
  r->rq.actor_meta = rnd(8) ? &r->metav : NULL;
  r->rq.action = PICK(k_actions);
  r->rq.resource = PICK(k_resources);
  r->rq.attrs = r->attrs;
  r->rq.nattrs = na;
}

/* A set of 'n' random policies "app:pNNN", each in 0-2 random groups. */
static wd_policy_set *gen_set(size_t n, char (*srcs)[1200], char (*grps)[64]) {
  wd_policy_set *s;
  size_t i;
  char id[32];
  assert_int_equal(wd_policy_set_new(&s), 0);
  for (i = 0; i < n; i++) {
    uint32_t g = rnd(4);
    gen_policy(srcs[i], sizeof srcs[0], NULL);
    snprintf(grps[i], sizeof grps[0], "%s",
             g == 0   ? "[]"
             : g == 1 ? "[g0]"
             : g == 2 ? "[g1, g2]"
                      : "[g2]");
    snprintf(id, sizeof id, "app:p%03zu", i);
    if (add(s, id, srcs[i], grps[i]) != 0) fail_msg("%s: %s", srcs[i], g_err);
  }
  return s;
}

static wd_scope *scope_of(const wd_policy_set *s, size_t from, size_t to) {
  const char *names[256];
  wd_scope *sc;
  size_t i;
  assert_true(to - from <= 256);
  for (i = from; i < to; i++)
    names[i - from] = wd_policy_set_id(s, i);
  assert_int_equal(wd_scope_new(s, names, to - from, &sc, g_err, sizeof g_err),
                   0);
  return sc;
}

static void same(const wd_pdecision *a, const wd_pdecision *b) {
  size_t i;
  assert_int_equal(a->effect, b->effect);
  assert_int_equal(a->reason, b->reason);
  assert_int_equal(a->nids, b->nids);
  assert_int_equal(a->more, b->more);
  for (i = 0; i < a->nids; i++)
    assert_string_equal(a->ids[i], b->ids[i]);
}

/* The record's own invariants. */
static void sane(int rc, const wd_pdecision *d) {
  assert_int_equal(rc, d->effect == WD_PEFFECT_ALLOW ? 0 : WD_EDENIED);
  switch (d->reason) {
    case WD_REASON_ALLOWED:
      assert_int_equal(d->effect, WD_PEFFECT_ALLOW);
      assert_true(d->nids >= 1);
      break;
    case WD_REASON_DENIED_BY_POLICY:
      assert_int_equal(d->effect, WD_PEFFECT_DENY);
      assert_true(d->nids >= 1);
      break;
    default:
      assert_int_equal(d->effect, WD_PEFFECT_DENY);
      assert_int_equal(d->nids, 0);
  }
}

static int decide(const wd_scope *sc, const Req *r, wd_pdecision *d) {
  int rc = wd_policy_check(sc, &r->rq, d);
  sane(rc, d);
  return rc;
}

/* }====================================================================== */

static char g_srcs[256][1200];
static char g_grps[256][64];

#define NSETS 60
#define NREQS 300

static void test_prop_empty_scope_denies_everything(void **st) {
  wd_policy_set *s;
  wd_scope *sc;
  wd_pdecision d;
  Req r;
  int i;
  (void)st;
  s = gen_set(40, g_srcs, g_grps);
  assert_int_equal(wd_scope_new(s, NULL, 0, &sc, NULL, 0), 0);
  for (i = 0; i < 5000; i++) {
    gen_req(&r);
    assert_int_equal(decide(sc, &r, &d), WD_EDENIED);
    assert_int_equal(d.reason, r.rq.actor_id != NULL
                                   ? WD_REASON_NO_MATCH
                                   : WD_REASON_NO_ACTOR_OR_SCOPE);
  }
  wd_scope_release(sc);
  wd_policy_set_free(s);
}

/*
** The index against the plain scan, and both against an oracle built from
** one-policy scopes (which policies match alone) combined by hand with
** deny-overrides and the smallest-ids rule.
*/
static void test_prop_index_equals_scan_and_oracle(void **st) {
  wd_scope *one[256];
  int k, i, checks = 0, seen[8] = { 0 };
  (void)st;
  for (k = 0; k < NSETS; k++) {
    size_t n = 1 + rnd(120), j;
    wd_policy_set *s = gen_set(n, g_srcs, g_grps);
    wd_scope *sc = scope_of(s, 0, n);
    for (j = 0; j < n; j++)
      one[j] = scope_of(s, j, j + 1);
    for (i = 0; i < NREQS; i++) {
      wd_pdecision a, b, o;
      const char *deny[256], *allow[256];
      size_t nd = 0, na = 0, m;
      Req r;
      int ra, rb;
      gen_req(&r);
      ra = decide(sc, &r, &a);
      seen[a.reason]++;
      rb = wd_policy_check_scan(sc, &r.rq, &b);
      assert_int_equal(ra, rb);
      same(&a, &b);
      if (r.rq.actor_id == NULL) continue;
      for (j = 0; j < n; j++) {
        if (wd_policy_check(one[j], &r.rq, &o) == 0)
          allow[na++] = wd_policy_set_id(s, j);
        else if (o.reason == WD_REASON_DENIED_BY_POLICY)
          deny[nd++] = wd_policy_set_id(s, j);
      }
      /* ids were added in ascending order, so the first 8 are smallest */
      if (nd > 0) {
        assert_int_equal(a.reason, WD_REASON_DENIED_BY_POLICY);
        assert_int_equal(a.nids, nd < 8 ? nd : 8);
        assert_int_equal(a.more, nd > 8);
        for (m = 0; m < a.nids && m < nd; m++)
          assert_string_equal(a.ids[m], deny[m]);
      } else if (na > 0) {
        assert_int_equal(a.reason, WD_REASON_ALLOWED);
        assert_int_equal(a.nids, na < 8 ? na : 8);
        assert_int_equal(a.more, na > 8);
        for (m = 0; m < a.nids && m < na; m++)
          assert_string_equal(a.ids[m], allow[m]);
      } else {
        assert_int_equal(a.reason, WD_REASON_NO_MATCH);
      }
      checks++;
    }
    for (j = 0; j < n; j++)
      wd_scope_release(one[j]);
    wd_scope_release(sc);
    wd_policy_set_free(s);
  }
  assert_true(checks > 10000);
  /* Every outcome occurs often: the comparison is not vacuous. */
  for (i = 0; i <= WD_REASON_NO_ACTOR_OR_SCOPE; i++)
    assert_true(seen[i] > 1000);
}

/*
** Adding a policy never turns a deny by a matching deny into an allow;
** adding a deny never turns any deny into an allow; adding an allow never
** turns an allow into a deny.
*/
static void test_prop_adding_policies_is_monotone(void **st) {
  int k, i, flips = 0;
  (void)st;
  for (k = 0; k < NSETS; k++) {
    size_t n = 2 + rnd(80);
    wd_policy_set *s = gen_set(n, g_srcs, g_grps);
    wd_scope *small = scope_of(s, 0, n - 1), *big = scope_of(s, 0, n);
    /* the effect of the added policy, read back from its source text */
    int last_is_deny = strstr(g_srcs[n - 1], "effect: deny") != NULL;
    for (i = 0; i < NREQS; i++) {
      wd_pdecision a, b;
      Req r;
      gen_req(&r);
      decide(small, &r, &a);
      decide(big, &r, &b);
      if (a.reason == WD_REASON_DENIED_BY_POLICY)
        assert_int_equal(b.reason, WD_REASON_DENIED_BY_POLICY);
      if (last_is_deny && a.effect == WD_PEFFECT_DENY)
        assert_int_equal(b.effect, WD_PEFFECT_DENY);
      if (!last_is_deny && a.effect == WD_PEFFECT_ALLOW)
        assert_int_equal(b.effect, WD_PEFFECT_ALLOW);
      flips += a.effect != b.effect;
    }
    wd_scope_release(small);
    wd_scope_release(big);
    wd_policy_set_free(s);
  }
  assert_true(flips > 0); /* the property was exercised, not vacuous */
}

/* Shuffling the order of addition and of names, and naming policies more
** than once (by id and through their groups), changes no decision. */
static void test_prop_shuffle_and_duplicates_change_nothing(void **st) {
  int k, i;
  (void)st;
  for (k = 0; k < NSETS; k++) {
    size_t n = 1 + rnd(100), j, perm[256], nn = 0;
    wd_policy_set *s = gen_set(n, g_srcs, g_grps), *s2;
    wd_scope *sc = scope_of(s, 0, n), *sc2;
    const char *names[600];
    char id[32];
    for (j = 0; j < n; j++)
      perm[j] = j;
    for (j = n; j > 1; j--) {
      size_t t = rnd((uint32_t)j), x = perm[j - 1];
      perm[j - 1] = perm[t];
      perm[t] = x;
    }
    assert_int_equal(wd_policy_set_new(&s2), 0);
    for (j = 0; j < n; j++) {
      snprintf(id, sizeof id, "app:p%03zu", perm[j]);
      assert_int_equal(add(s2, id, g_srcs[perm[j]], g_grps[perm[j]]), 0);
    }
    if (wd_policy_set_has(s2, "app:g2")) names[nn++] = "app:g2";
    for (j = 0; j < n; j++) {
      names[nn++] = wd_policy_set_id(s2, j);
      if (rnd(3) == 0) names[nn++] = wd_policy_set_id(s2, rnd((uint32_t)n));
    }
    if (wd_policy_set_has(s2, "app:g0")) names[nn++] = "app:g0";
    if (wd_policy_set_has(s2, "app:g2")) names[nn++] = "app:g2";
    assert_int_equal(wd_scope_new(s2, names, nn, &sc2, g_err, sizeof g_err), 0);
    assert_int_equal(wd_scope_count(sc2), n);
    wd_policy_set_free(s2); /* the scope keeps its policies */
    for (i = 0; i < NREQS; i++) {
      wd_pdecision a, b;
      Req r;
      gen_req(&r);
      assert_int_equal(decide(sc, &r, &a), decide(sc2, &r, &b));
      same(&a, &b);
    }
    wd_scope_release(sc2);
    wd_scope_release(sc);
    wd_policy_set_free(s);
  }
}

/* A small cache (many evictions) over a pool of repeated requests gives
** exactly the uncached decisions, across two scopes sharing the cache. */
static void test_prop_cache_equals_uncached(void **st) {
  static Req pool[64];
  uint64_t hits = 0, misses = 0;
  int k, i;
  (void)st;
  for (k = 0; k < NSETS / 2; k++) {
    size_t n = 1 + rnd(100);
    wd_policy_set *s = gen_set(n, g_srcs, g_grps);
    wd_scope *sc = scope_of(s, 0, n), *sc2 = scope_of(s, 0, (n + 1) / 2);
    wd_pcache *c;
    assert_int_equal(wd_pcache_new(16, &c), 0);
    for (i = 0; i < (int)WD_COUNTOF(pool); i++)
      gen_req(&pool[i]);
    for (i = 0; i < 2000; i++) {
      const Req *r = &pool[rnd(WD_COUNTOF(pool))];
      const wd_scope *use = rnd(4) ? sc : sc2;
      wd_pdecision a, b;
      int ra = wd_policy_check(use, &r->rq, &a);
      int rb = wd_pcache_check(c, use, &r->rq, &b);
      assert_int_equal(ra, rb);
      same(&a, &b);
    }
    wd_pcache_stats(c, &hits, &misses);
    assert_true(hits > 0 && misses > 0);
    wd_pcache_free(c);
    wd_scope_release(sc2);
    wd_scope_release(sc);
    wd_policy_set_free(s);
  }
}

int main(void) {
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_prop_empty_scope_denies_everything),
    cmocka_unit_test(test_prop_index_equals_scan_and_oracle),
    cmocka_unit_test(test_prop_adding_policies_is_monotone),
    cmocka_unit_test(test_prop_shuffle_and_duplicates_change_nothing),
    cmocka_unit_test(test_prop_cache_equals_uncached),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
