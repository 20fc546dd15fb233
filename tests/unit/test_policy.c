/*
** tests/unit/test_policy.c
** Unit tests of the policy engine: values, patterns, every operator on
** present, missing and mistyped fields, value_from, deny-overrides, the
** fail-closed cases, every loader error with its exact position, scopes,
** explanations, the cache, the linter and allocation-failure sweeps.
** Links only wd_policy and wd_base.
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

#include "policy_fixture.h"

/*
** {======================================================================
** Values
** =======================================================================
*/

static wd_pval val_of(const char *src) {
  wd_node *n = tree(src);
  wd_pval v;
  assert_int_equal(wd_pval_from_node(n, &v), 0);
  tree_free(n);
  return v;
}

static void test_pval_from_node_unquoted_number_text_is_number(void **st) {
  wd_pval v;
  (void)st;
  v = val_of("12");
  assert_int_equal(v.type, WD_PVAL_INT);
  assert_int_equal(v.u.i, 12);
  v = val_of("-9223372036854775808");
  assert_int_equal(v.type, WD_PVAL_INT);
  assert_true(v.u.i == INT64_MIN);
  v = val_of("-1.5e3");
  assert_int_equal(v.type, WD_PVAL_NUM);
  assert_true(v.u.n == -1500.0);
  v = val_of(".5");
  assert_int_equal(v.type, WD_PVAL_NUM);
  v = val_of("9223372036854775808"); /* too big for int64: a double */
  assert_int_equal(v.type, WD_PVAL_NUM);
}

static void test_pval_from_node_quoted_number_stays_string(void **st) {
  wd_pval v;
  (void)st;
  v = val_of("'12'");
  assert_int_equal(v.type, WD_PVAL_STR);
  assert_int_equal(v.u.s.len, 2);
  assert_memory_equal(v.u.s.p, "12", 2);
  wd_pval_clear(&v);
  v = val_of("\"true\"");
  assert_int_equal(v.type, WD_PVAL_STR);
  wd_pval_clear(&v);
}

static void test_pval_from_node_keywords_are_bool_and_null(void **st) {
  wd_pval v;
  (void)st;
  v = val_of("true");
  assert_int_equal(v.type, WD_PVAL_BOOL);
  assert_int_equal(v.u.b, 1);
  v = val_of("false");
  assert_int_equal(v.type, WD_PVAL_BOOL);
  assert_int_equal(v.u.b, 0);
  assert_int_equal(val_of("null").type, WD_PVAL_NULL);
  assert_int_equal(val_of("~").type, WD_PVAL_NULL);
  v = val_of("1e999"); /* overflows: not a finite number, so a string */
  assert_int_equal(v.type, WD_PVAL_STR);
  wd_pval_clear(&v);
  v = val_of("1.2.3");
  assert_int_equal(v.type, WD_PVAL_STR);
  wd_pval_clear(&v);
}

static void test_pval_from_node_builds_lists_and_maps(void **st) {
  wd_pval v, c;
  (void)st;
  v = val_of("{a: [1, x, {b: true}], c: null}");
  assert_int_equal(v.type, WD_PVAL_MAP);
  assert_int_equal(v.u.map.n, 2);
  assert_string_equal(v.u.map.v[0].key, "a");
  assert_int_equal(v.u.map.v[0].val.type, WD_PVAL_LIST);
  assert_int_equal(v.u.map.v[0].val.u.list.n, 3);
  assert_int_equal(v.u.map.v[0].val.u.list.v[2].type, WD_PVAL_MAP);
  assert_int_equal(v.u.map.v[1].val.type, WD_PVAL_NULL);
  assert_int_equal(wd_pval_copy(&v, &c), 0);
  assert_int_equal(c.u.map.v[0].val.u.list.v[1].type, WD_PVAL_STR);
  assert_memory_equal(c.u.map.v[0].val.u.list.v[1].u.s.p, "x", 1);
  wd_pval_clear(&v);
  wd_pval_clear(&c);
  assert_int_equal(c.type, WD_PVAL_NULL);
  wd_pval_clear(NULL);
}

static void test_pval_from_node_too_deep_returns_einval(void **st) {
  char src[200];
  wd_node *n;
  wd_pval v;
  int i;
  (void)st;
  for (i = 0; i < 40; i++)
    src[i] = '[';
  for (i = 0; i < 40; i++)
    src[40 + i] = ']';
  src[80] = '\0';
  n = tree(src);
  assert_int_equal(wd_pval_from_node(n, &v), WD_EINVAL);
  assert_int_equal(v.type, WD_PVAL_NULL);
  tree_free(n);
  assert_int_equal(wd_pval_from_node(NULL, &v), WD_EINVAL);
}

/* }====================================================================== */

/*
** {======================================================================
** Patterns
** =======================================================================
*/

static void test_pattern_star_matches_everything(void **st) {
  (void)st;
  assert_true(pat("'*'", "'*'", "process.send", "x"));
  assert_true(pat("'*'", "'*'", "", ""));
}

static void test_pattern_exact_matches_only_itself(void **st) {
  (void)st;
  assert_true(pat("process.send", "r", "process.send", "r"));
  assert_false(pat("process.send", "r", "process.sen", "r"));
  assert_false(pat("process.send", "r", "process.send2", "r"));
  assert_false(pat("process.send", "r", "process.send", "r2"));
}

static void test_pattern_dot_star_matches_prefix_before_dot(void **st) {
  (void)st;
  assert_true(pat("'process.*'", "'*'", "process.send", "x"));
  assert_true(pat("'process.*'", "'*'", "process", "x"));
  /* As in the reference: the prefix is "process", so this matches too. */
  assert_true(pat("'process.*'", "'*'", "processes.list", "x"));
  assert_false(pat("'process.*'", "'*'", "proc", "x"));
  assert_false(pat("'process.*'", "'*'", "network.select", "x"));
}

static void test_pattern_trailing_star_matches_prefix(void **st) {
  (void)st;
  assert_true(pat("'process.spawn*'", "'*'", "process.spawn", "x"));
  assert_true(pat("'process.spawn*'", "'*'", "process.spawn.linked", "x"));
  assert_false(pat("'process.spawn*'", "'*'", "process.spaw", "x"));
  assert_true(pat("'*'", "'{app:*'", "a", "{app:processes|0x1}"));
  assert_false(pat("'*'", "'{app:*'", "a", "{tenant:processes|0x1}"));
}

static void test_pattern_list_matches_if_any_item_matches(void **st) {
  (void)st;
  assert_true(
      pat("[process.send, 'process.link*']", "[a, b]", "process.linked", "b"));
  assert_true(
      pat("[process.send, 'process.link*']", "[a, b]", "process.send", "a"));
  assert_false(
      pat("[process.send, 'process.link*']", "[a, b]", "process.send", "c"));
  assert_false(
      pat("[process.send, 'process.link*']", "[a, b]", "process.exec", "a"));
}

static void test_pattern_star_inside_is_literal(void **st) {
  (void)st;
  assert_true(pat("'a*b'", "'*'", "a*b", "x"));
  assert_false(pat("'a*b'", "'*'", "axb", "x"));
  assert_true(pat("'.*'", "'*'", ".x", "x")); /* ".*" alone: prefix "." */
  assert_false(pat("'.*'", "'*'", "x", "x"));
}

/* }====================================================================== */

/*
** {======================================================================
** Operators
** =======================================================================
*/

static void test_op_eq_equal_string_holds_other_fails(void **st) {
  (void)st;
  assert_true(holds("{field: actor.meta.role, operator: eq, value: admin}"));
  assert_false(holds("{field: actor.meta.role, operator: eq, value: user}"));
  assert_true(holds("{field: actor.id, operator: eq, value: 'user:alice'}"));
  assert_true(holds("{field: action, operator: eq, value: process.send}"));
  assert_true(holds("{field: resource, operator: eq, "
                    "value: '{app:processes|0x0002a}'}"));
}

static void test_op_eq_numeric_sides_compare_as_numbers(void **st) {
  (void)st;
  assert_true(holds("{field: actor.meta.level, operator: eq, value: 5}"));
  assert_true(holds("{field: actor.meta.level, operator: eq, value: 5.0}"));
  assert_true(holds("{field: actor.meta.level, operator: eq, value: '5'}"));
  assert_true(holds("{field: actor.meta.level, operator: eq, value: '05'}"));
  assert_true(holds("{field: actor.meta.score, operator: eq, value: 7.50}"));
  assert_true(holds("{field: actor.meta.ratio, operator: eq, value: .25}"));
  assert_false(holds("{field: actor.meta.level, operator: eq, value: 6}"));
}

static void test_op_eq_non_numeric_compares_as_string(void **st) {
  (void)st;
  /* A number never equals a non-numeric string; booleans are "true". */
  assert_false(holds("{field: actor.meta.level, operator: eq, value: five}"));
  assert_false(holds("{field: actor.meta.role, operator: eq, value: 0}"));
  assert_false(holds("{field: actor.meta.role, operator: eq, value: Admin}"));
}

static void test_op_eq_on_missing_or_null_or_list_field_fails(void **st) {
  (void)st;
  assert_false(holds("{field: actor.meta.nope, operator: eq, value: x}"));
  assert_false(holds("{field: nothing, operator: eq, value: null_text}"));
  assert_false(holds("{field: actor.meta.tags, operator: eq, value: a}"));
  assert_false(holds("{field: map, operator: eq, value: k}"));
}

static void test_op_ne_different_holds_missing_fails(void **st) {
  (void)st;
  assert_true(holds("{field: actor.meta.role, operator: ne, value: user}"));
  assert_false(holds("{field: actor.meta.role, operator: ne, value: admin}"));
  assert_false(holds("{field: actor.meta.level, operator: ne, value: '5.0'}"));
  /* Missing: false, although "not equal" would read true. */
  assert_false(holds("{field: actor.meta.nope, operator: ne, value: x}"));
  assert_false(holds("{field: nothing, operator: ne, value: x}"));
  /* A list equals nothing, so it is "not equal" to a string. */
  assert_true(holds("{field: actor.meta.tags, operator: ne, value: a}"));
}

static void test_op_lt_gt_numbers_compare(void **st) {
  (void)st;
  assert_true(holds("{field: actor.meta.level, operator: lt, value: 6}"));
  assert_false(holds("{field: actor.meta.level, operator: lt, value: 5}"));
  assert_true(holds("{field: actor.meta.level, operator: lte, value: 5}"));
  assert_true(holds("{field: actor.meta.level, operator: gt, value: 4.5}"));
  assert_false(holds("{field: actor.meta.level, operator: gt, value: 5}"));
  assert_true(holds("{field: actor.meta.level, operator: gte, value: 5}"));
  assert_false(holds("{field: actor.meta.level, operator: gte, value: 5.01}"));
  assert_true(holds("{field: count, operator: lt, value: '10'}"));
}

static void test_op_lt_gt_numeric_string_field_compares(void **st) {
  (void)st;
  assert_true(holds("{field: actor.meta.score, operator: gt, value: 7}"));
  assert_true(holds("{field: actor.meta.score, operator: lt, value: 8}"));
  /* As numbers, not as strings: "7.5" < "10" is false as text. */
  assert_true(holds("{field: actor.meta.score, operator: lt, value: 10}"));
}

static void test_op_lt_gt_non_numeric_field_fails_both_ways(void **st) {
  (void)st;
  assert_false(holds("{field: actor.meta.role, operator: lt, value: 10}"));
  assert_false(holds("{field: actor.meta.role, operator: gte, value: 10}"));
  assert_false(holds("{field: actor.meta.tags, operator: gt, value: 0}"));
  assert_false(holds("{field: actor.meta.nope, operator: lt, value: 10}"));
  assert_false(holds("{field: actor.meta.nope, operator: gte, value: 10}"));
}

static void test_op_in_list_member_holds(void **st) {
  (void)st;
  assert_true(holds("{field: actor.meta.role, operator: in, "
                    "value: [user, admin]}"));
  assert_false(holds("{field: actor.meta.role, operator: in, "
                     "value: [user, guest]}"));
  assert_true(holds("{field: actor.meta.level, operator: in, "
                    "value: [1, '5', 9]}"));
  assert_true(holds("{field: actor.meta.role, operator: in, value: admin}"));
  assert_false(holds("{field: actor.meta.role, operator: in, value: []}"));
}

static void test_op_nin_non_member_holds_missing_fails(void **st) {
  (void)st;
  assert_true(holds("{field: actor.meta.role, operator: nin, "
                    "value: [user, guest]}"));
  assert_false(holds("{field: actor.meta.role, operator: nin, "
                     "value: [admin]}"));
  assert_true(holds("{field: actor.meta.role, operator: nin, value: []}"));
  assert_false(holds("{field: actor.meta.nope, operator: in, value: [x]}"));
  assert_false(holds("{field: actor.meta.nope, operator: nin, value: [x]}"));
}

static void test_op_exists_present_holds_missing_fails(void **st) {
  (void)st;
  assert_true(holds("{field: actor.meta.role, operator: exists, value: true}"));
  assert_false(holds("{field: actor.meta.x, operator: exists, value: true}"));
  assert_true(holds("{field: actor.meta.x, operator: exists, value: false}"));
  assert_false(holds("{field: nothing, operator: exists, value: true}"));
  assert_true(holds("{field: actor.meta, operator: exists, value: true}"));
  assert_true(holds("{field: meta.map.k, operator: exists, value: true}"));
  assert_false(holds("{field: meta.map.k.z, operator: exists, value: true}"));
}

static void test_op_nexists_missing_holds_present_fails(void **st) {
  (void)st;
  assert_true(holds("{field: actor.meta.x, operator: nexists, value: true}"));
  assert_false(holds("{field: pid, operator: nexists, value: true}"));
  assert_true(holds("{field: pid, operator: nexists, value: false}"));
  assert_true(holds("{field: nothing, operator: nexists, value: true}"));
}

static void test_op_exists_without_value_means_true(void **st) {
  (void)st;
  assert_true(holds("{field: pid, operator: exists}"));
  assert_false(holds("{field: actor.meta.x, operator: exists}"));
  assert_true(holds("{field: actor.meta.x, operator: nexists}"));
  assert_false(holds("{field: pid, operator: nexists}"));
}

static void test_op_contains_substring_and_list_member(void **st) {
  (void)st;
  assert_true(holds("{field: topic, operator: contains, value: orders}"));
  assert_false(holds("{field: topic, operator: contains, value: invoices}"));
  assert_true(holds("{field: topic, operator: contains, value: ''}"));
  assert_true(holds("{field: actor.meta.tags, operator: contains, value: b}"));
  assert_false(holds("{field: actor.meta.tags, operator: contains, "
                     "value: c}"));
  assert_true(holds("{field: list, operator: contains, value: '42'}"));
  /* A number's text: 3 contains "3". */
  assert_true(holds("{field: count, operator: contains, value: 3}"));
}

static void test_op_ncontains_missing_or_map_fails(void **st) {
  (void)st;
  assert_true(holds("{field: topic, operator: ncontains, value: invoices}"));
  assert_false(holds("{field: topic, operator: ncontains, value: orders}"));
  assert_true(holds("{field: actor.meta.tags, operator: ncontains, "
                    "value: c}"));
  assert_false(holds("{field: actor.meta.nope, operator: contains, "
                     "value: x}"));
  assert_false(holds("{field: actor.meta.nope, operator: ncontains, "
                     "value: x}"));
  /* A map is neither text nor a list: an error, false both ways. */
  assert_false(holds("{field: map, operator: contains, value: k}"));
  assert_false(holds("{field: map, operator: ncontains, value: k}"));
}

static void test_op_matches_regex_searches_field(void **st) {
  (void)st;
  assert_true(holds("{field: pid, operator: matches, "
                    "value: '^[{]app:[a-z]+[|]0x[0-9a-f]+[}]$'}"));
  assert_true(holds("{field: topic, operator: matches, value: 'ders'}"));
  assert_false(holds("{field: topic, operator: matches, value: '^ders'}"));
  assert_true(holds("{field: count, operator: matches, value: '^[0-9]+$'}"));
  assert_true(holds("{field: actor.meta.role, operator: nmatches, "
                    "value: '^user'}"));
  assert_false(holds("{field: actor.meta.role, operator: nmatches, "
                     "value: 'adm'}"));
}

static void test_op_matches_missing_or_list_fails_both_ways(void **st) {
  (void)st;
  assert_false(holds("{field: actor.meta.nope, operator: matches, "
                     "value: '.*'}"));
  assert_false(holds("{field: actor.meta.nope, operator: nmatches, "
                     "value: 'x'}"));
  assert_false(holds("{field: actor.meta.tags, operator: matches, "
                     "value: 'a'}"));
  assert_false(holds("{field: actor.meta.tags, operator: nmatches, "
                     "value: 'zzz'}"));
}

static void test_op_value_from_compares_two_fields(void **st) {
  (void)st;
  assert_true(holds("{field: owner, operator: eq, value_from: actor.id}"));
  assert_false(holds("{field: topic, operator: eq, value_from: actor.id}"));
  assert_true(holds("{field: topic, operator: ne, value_from: actor.id}"));
  assert_true(holds("{field: actor.meta.nested.team, operator: eq, "
                    "value_from: meta.map.k}") == 0);
  assert_true(holds("{field: actor.meta.level, operator: gt, "
                    "value_from: count}"));
  assert_true(holds("{field: actor.meta.role, operator: in, "
                    "value_from: actor.meta.tags}") == 0);
  assert_true(holds("{field: actor.meta.tags, operator: contains, "
                    "value_from: meta.map.k}") == 0);
}

static void test_op_value_from_missing_fails_every_operator(void **st) {
  (void)st;
  assert_false(holds("{field: owner, operator: eq, value_from: nope}"));
  assert_false(holds("{field: owner, operator: ne, value_from: nope}"));
  assert_false(holds("{field: owner, operator: nin, value_from: nope}"));
  assert_false(holds("{field: owner, operator: ncontains, "
                     "value_from: nothing}"));
}

static void test_op_fields_resolve_nested_and_flat_paths(void **st) {
  (void)st;
  assert_true(holds("{field: actor.meta.nested.team, operator: eq, "
                    "value: blue}"));
  assert_true(holds("{field: meta.map.k, operator: eq, value: v}"));
  assert_true(holds("{field: meta.pid, operator: eq, "
                    "value: '{app:processes|0x00001}'}"));
  assert_true(holds("{field: pid, operator: eq, "
                    "value: '{app:processes|0x00001}'}"));
  assert_false(holds("{field: actor.meta.role.x, operator: exists, "
                     "value: true}"));
}

static void test_op_all_conditions_must_hold(void **st) {
  (void)st;
  assert_true(holds("{field: actor.meta.role, operator: eq, value: admin},"
                    "{field: count, operator: gte, value: 3}"));
  assert_false(holds("{field: actor.meta.role, operator: eq, value: admin},"
                     "{field: count, operator: gt, value: 3}"));
}

/* }====================================================================== */

/*
** {======================================================================
** Decisions
** =======================================================================
*/

static void test_decide_matching_deny_overrides_allow(void **st) {
  wd_policy_set *s;
  wd_scope *sc;
  wd_pdecision d;
  char line[128];
  (void)st;
  assert_int_equal(wd_policy_set_new(&s), 0);
  assert_int_equal(add(s, "app.sec:a",
                       "{actions: '*', resources: '*', "
                       "effect: allow}",
                       NULL),
                   0);
  assert_int_equal(add(s, "app.sec:no_send",
                       "{actions: process.send, "
                       "resources: '*', effect: deny}",
                       NULL),
                   0);
  sc = scope_all(s);
  assert_int_equal(check(sc, &g_rq, &d), WD_EDENIED);
  assert_int_equal(d.reason, WD_REASON_DENIED_BY_POLICY);
  assert_int_equal(d.nids, 1);
  assert_string_equal(d.ids[0], "app.sec:no_send");
  assert_int_equal(wd_policy_explain(&d, line, sizeof line), 34);
  assert_string_equal(line, "deny: forbidden by app.sec:no_send");
  g_rq.action = "process.link";
  assert_int_equal(check(sc, &g_rq, &d), 0);
  assert_int_equal(d.reason, WD_REASON_ALLOWED);
  assert_string_equal(d.ids[0], "app.sec:a");
  wd_policy_explain(&d, line, sizeof line);
  assert_string_equal(line, "allow: app.sec:a");
  wd_scope_release(sc);
  wd_policy_set_free(s);
}

static void test_decide_conditional_deny_applies_only_when_true(void **st) {
  wd_policy_set *s;
  wd_scope *sc;
  wd_pdecision d;
  (void)st;
  assert_int_equal(wd_policy_set_new(&s), 0);
  assert_int_equal(add(s, "app:a",
                       "{actions: '*', resources: '*', "
                       "effect: allow}",
                       NULL),
                   0);
  assert_int_equal(add(s, "app:d",
                       "{actions: '*', resources: '*', "
                       "effect: deny, conditions: [{field: actor.meta.role,"
                       " operator: eq, value: guest}]}",
                       NULL),
                   0);
  sc = scope_all(s);
  assert_int_equal(check(sc, &g_rq, &d), 0);
  g_meta[0].val = wd_pval_str("guest");
  assert_int_equal(check(sc, &g_rq, &d), WD_EDENIED);
  assert_string_equal(d.ids[0], "app:d");
  wd_scope_release(sc);
  wd_policy_set_free(s);
}

static void test_decide_no_match_denies_with_no_ids(void **st) {
  wd_policy_set *s;
  wd_scope *sc;
  wd_pdecision d;
  char line[64];
  (void)st;
  assert_int_equal(wd_policy_set_new(&s), 0);
  assert_int_equal(add(s, "app:a",
                       "{actions: process.spawn, "
                       "resources: '*', effect: allow}",
                       NULL),
                   0);
  sc = scope_all(s);
  assert_int_equal(check(sc, &g_rq, &d), WD_EDENIED);
  assert_int_equal(d.reason, WD_REASON_NO_MATCH);
  assert_int_equal(d.nids, 0);
  wd_policy_explain(&d, line, sizeof line);
  assert_string_equal(line, "deny: no policy matched");
  wd_scope_release(sc);
  wd_policy_set_free(s);
}

static void test_decide_empty_scope_denies(void **st) {
  wd_policy_set *s;
  wd_scope *sc;
  wd_pdecision d;
  (void)st;
  assert_int_equal(wd_policy_set_new(&s), 0);
  assert_int_equal(wd_scope_new(s, NULL, 0, &sc, g_err, sizeof g_err), 0);
  assert_int_equal(wd_scope_count(sc), 0);
  assert_int_equal(check(sc, &g_rq, &d), WD_EDENIED);
  assert_int_equal(d.reason, WD_REASON_NO_MATCH);
  wd_scope_release(sc);
  wd_policy_set_free(s);
}

static void test_decide_no_actor_or_no_scope_denies(void **st) {
  wd_policy_set *s;
  wd_scope *sc;
  wd_pdecision d;
  char line[64];
  (void)st;
  assert_int_equal(wd_policy_set_new(&s), 0);
  assert_int_equal(add(s, "app:a",
                       "{actions: '*', resources: '*', "
                       "effect: allow}",
                       NULL),
                   0);
  sc = scope_all(s);
  assert_int_equal(check(sc, &g_rq, NULL), 0);
  assert_int_equal(check(NULL, &g_rq, &d), WD_EDENIED);
  assert_int_equal(d.reason, WD_REASON_NO_ACTOR_OR_SCOPE);
  wd_policy_explain(&d, line, sizeof line);
  assert_string_equal(line, "deny: no actor or scope");
  g_rq.actor_id = NULL;
  assert_int_equal(check(sc, &g_rq, &d), WD_EDENIED);
  assert_int_equal(d.reason, WD_REASON_NO_ACTOR_OR_SCOPE);
  g_rq.actor_id = "user:alice";
  g_rq.action = NULL;
  assert_int_equal(check(sc, &g_rq, &d), WD_EDENIED);
  assert_int_equal(d.reason, WD_REASON_BAD_REQUEST);
  g_rq.action = "process.send";
  g_rq.attrs = NULL;
  assert_int_equal(check(sc, &g_rq, &d), WD_EDENIED);
  assert_int_equal(d.reason, WD_REASON_BAD_REQUEST);
  assert_int_equal(check(sc, NULL, &d), WD_EDENIED);
  assert_int_equal(d.reason, WD_REASON_BAD_REQUEST);
  wd_scope_release(sc);
  wd_policy_set_free(s);
}

static void test_decide_ids_are_smallest_eight_deduplicated(void **st) {
  wd_policy_set *s;
  wd_scope *sc;
  wd_pdecision d;
  char id[32], line[512];
  int i;
  (void)st;
  assert_int_equal(wd_policy_set_new(&s), 0);
  for (i = 11; i >= 0; i--) {
    snprintf(id, sizeof id, "app:d%02d", i);
    /* Two patterns that both match reach the rule twice. */
    assert_int_equal(add(s, id,
                         "{actions: ['*', process.send, 'process.*'],"
                         " resources: ['*', '{app:*'], effect: deny}",
                         NULL),
                     0);
  }
  sc = scope_all(s);
  assert_int_equal(check(sc, &g_rq, &d), WD_EDENIED);
  assert_int_equal(d.nids, 8);
  assert_int_equal(d.more, 1);
  assert_string_equal(d.ids[0], "app:d00");
  assert_string_equal(d.ids[7], "app:d07");
  wd_policy_explain(&d, line, sizeof line);
  assert_string_equal(line, "deny: forbidden by app:d00, app:d01, app:d02, "
                            "app:d03, app:d04, app:d05, app:d06, app:d07, "
                            "...");
  wd_scope_release(sc);
  wd_policy_set_free(s);
}

static void test_explain_truncates_like_snprintf(void **st) {
  wd_pdecision d;
  char line[8];
  (void)st;
  memset(&d, 0, sizeof d);
  d.effect = WD_PEFFECT_DENY;
  d.reason = WD_REASON_NO_MATCH;
  assert_int_equal(wd_policy_explain(&d, line, sizeof line), 23);
  assert_string_equal(line, "deny: n");
  assert_int_equal(wd_policy_explain(&d, NULL, 0), 23);
  assert_int_equal(wd_policy_explain(NULL, line, sizeof line), WD_EINVAL);
  assert_string_equal(wd_policy_reason(WD_REASON_ALLOWED), "allowed");
  assert_string_equal(wd_policy_reason(99), "unknown reason");
}

/* }====================================================================== */

/*
** {======================================================================
** Sets and scopes
** =======================================================================
*/

static void test_scope_group_names_are_qualified_by_namespace(void **st) {
  wd_policy_set *s;
  wd_scope *sc;
  const char *names[1];
  (void)st;
  assert_int_equal(wd_policy_set_new(&s), 0);
  assert_int_equal(add(s, "app:a", OKP "}", "[default, 'other:g', default]"),
                   0);
  assert_int_equal(add(s, "app:b", OKP "}", "[default]"), 0);
  assert_true(wd_policy_set_has(s, "app:default"));
  assert_true(wd_policy_set_has(s, "other:g"));
  assert_true(wd_policy_set_has(s, "app:a"));
  assert_false(wd_policy_set_has(s, "default"));
  assert_false(wd_policy_set_has(NULL, "app:a"));
  names[0] = "app:default";
  assert_int_equal(wd_scope_new(s, names, 1, &sc, g_err, sizeof g_err), 0);
  assert_int_equal(wd_scope_count(sc), 2);
  wd_scope_release(sc);
  names[0] = "other:g";
  assert_int_equal(wd_scope_new(s, names, 1, &sc, g_err, sizeof g_err), 0);
  assert_int_equal(wd_scope_count(sc), 1);
  wd_scope_release(sc);
  wd_policy_set_free(s);
}

static void test_scope_unqualified_group_without_namespace_fails(void **st) {
  wd_policy_set *s;
  wd_node *p = tree(OKP "}"), *g = tree("[x]");
  (void)st;
  assert_int_equal(wd_policy_set_new(&s), 0);
  assert_int_equal(wd_policy_add(s, "app:p", NULL, p, g, g_err, sizeof g_err),
                   WD_EINVAL);
  assert_string_equal(g_err, "t.yaml:1:2: group 'x' needs a namespace");
  tree_free(p);
  tree_free(g);
  wd_policy_set_free(s);
}

static void test_scope_unknown_name_returns_enotfound(void **st) {
  wd_policy_set *s;
  wd_scope *sc = (wd_scope *)1;
  const char *names[2] = { "app:a", "app:nope" };
  (void)st;
  assert_int_equal(wd_policy_set_new(&s), 0);
  assert_int_equal(add(s, "app:a", OKP "}", NULL), 0);
  assert_int_equal(wd_scope_new(s, names, 2, &sc, g_err, sizeof g_err),
                   WD_ENOTFOUND);
  assert_null(sc);
  assert_string_equal(g_err, "unknown policy or group 'app:nope'");
  names[1] = NULL;
  assert_int_equal(wd_scope_new(s, names, 2, &sc, NULL, 0), WD_EINVAL);
  assert_int_equal(wd_scope_new(NULL, names, 1, &sc, NULL, 0), WD_EINVAL);
  assert_int_equal(wd_scope_new(s, NULL, 1, &sc, NULL, 0), WD_EINVAL);
  wd_policy_set_free(s);
}

static void test_scope_name_and_group_overlap_counts_once(void **st) {
  wd_policy_set *s;
  wd_scope *sc;
  wd_pdecision d;
  const char *names[4] = { "app:a", "app:g", "app:a", "app:g" };
  (void)st;
  assert_int_equal(wd_policy_set_new(&s), 0);
  assert_int_equal(add(s, "app:a", OKP "}", "[g]"), 0);
  assert_int_equal(wd_scope_new(s, names, 4, &sc, g_err, sizeof g_err), 0);
  assert_int_equal(wd_scope_count(sc), 1);
  assert_int_equal(check(sc, &g_rq, &d), 0);
  assert_int_equal(d.nids, 1);
  wd_scope_release(sc);
  wd_policy_set_free(s);
}

static void test_scope_outlives_set_and_refcounts(void **st) {
  wd_policy_set *s;
  wd_scope *sc, *sc2;
  wd_pdecision d;
  (void)st;
  assert_int_equal(wd_policy_set_new(&s), 0);
  assert_int_equal(add(s, "app:a", OKP "}", NULL), 0);
  sc = scope_all(s);
  wd_policy_set_free(s);
  assert_ptr_equal(wd_scope_grab(sc), sc);
  wd_scope_release(sc);
  assert_int_equal(check(sc, &g_rq, &d), 0);
  assert_string_equal(d.ids[0], "app:a");
  assert_int_equal(wd_policy_set_new(&s), 0);
  sc2 = scope_all(s);
  assert_true(wd_scope_gen(sc2) > wd_scope_gen(sc));
  assert_int_equal(wd_scope_gen(NULL), 0);
  wd_scope_release(sc2);
  wd_scope_release(sc);
  wd_scope_release(NULL);
  wd_policy_set_free(s);
  wd_policy_set_free(NULL);
}

static void test_set_lists_ids_in_order(void **st) {
  wd_policy_set *s;
  (void)st;
  assert_int_equal(wd_policy_set_new(&s), 0);
  assert_int_equal(add(s, "app:b", OKP "}", NULL), 0);
  assert_int_equal(add(s, "app:a", OKP "}", NULL), 0);
  assert_int_equal(wd_policy_set_count(s), 2);
  assert_string_equal(wd_policy_set_id(s, 0), "app:b");
  assert_string_equal(wd_policy_set_id(s, 1), "app:a");
  assert_null(wd_policy_set_id(s, 2));
  assert_int_equal(wd_policy_set_count(NULL), 0);
  assert_int_equal(wd_policy_set_new(NULL), WD_EINVAL);
  wd_policy_set_free(s);
}

/* }====================================================================== */

/*
** {======================================================================
** Cache
** =======================================================================
*/

static void test_cache_hit_returns_same_decision(void **st) {
  wd_policy_set *s;
  wd_scope *sc;
  wd_pcache *c;
  wd_pdecision a, b;
  uint64_t hits, misses;
  (void)st;
  assert_int_equal(wd_policy_set_new(&s), 0);
  assert_int_equal(add(s, "app:a",
                       OKP "conditions: [{field: "
                           "actor.meta.role, operator: eq, value: admin}]}",
                       NULL),
                   0);
  sc = scope_all(s);
  assert_int_equal(wd_pcache_new(0, &c), 0);
  assert_int_equal(wd_pcache_check(c, sc, &g_rq, &a), 0);
  assert_int_equal(wd_pcache_check(c, sc, &g_rq, &b), 0);
  assert_memory_equal(&a, &b, sizeof a);
  wd_pcache_stats(c, &hits, &misses);
  assert_int_equal(hits, 1);
  assert_int_equal(misses, 1);
  /* A field the conditions read is part of the key. */
  g_meta[0].val = wd_pval_str("guest");
  assert_int_equal(wd_pcache_check(c, sc, &g_rq, &b), WD_EDENIED);
  assert_int_equal(b.reason, WD_REASON_NO_MATCH);
  /* One they do not read is not: same entry. */
  g_meta[0].val = wd_pval_str("admin");
  g_attrs[0].val = wd_pval_str("{app:processes|0x00099}");
  assert_int_equal(wd_pcache_check(c, sc, &g_rq, NULL), 0);
  wd_pcache_stats(c, &hits, &misses);
  assert_int_equal(hits, 2);
  assert_int_equal(misses, 2);
  wd_pcache_clear(c);
  assert_int_equal(wd_pcache_check(c, sc, &g_rq, NULL), 0);
  wd_pcache_stats(c, &hits, NULL);
  assert_int_equal(hits, 2);
  wd_pcache_free(c);
  wd_scope_release(sc);
  wd_policy_set_free(s);
}

static void test_cache_new_scope_generation_never_hits(void **st) {
  wd_policy_set *s;
  wd_scope *sc, *sc2;
  wd_pcache *c;
  wd_pdecision d;
  uint64_t hits;
  (void)st;
  assert_int_equal(wd_policy_set_new(&s), 0);
  assert_int_equal(add(s, "app:a", OKP "}", NULL), 0);
  sc = scope_all(s);
  assert_int_equal(wd_pcache_new(1, &c), 0);
  assert_int_equal(wd_pcache_check(c, sc, &g_rq, &d), 0);
  wd_scope_release(sc);
  /* A reload: same request, a new scope in which it is denied. */
  assert_int_equal(add(s, "app:d",
                       "{actions: '*', resources: '*', "
                       "effect: deny}",
                       NULL),
                   0);
  sc2 = scope_all(s);
  assert_int_equal(wd_pcache_check(c, sc2, &g_rq, &d), WD_EDENIED);
  assert_string_equal(d.ids[0], "app:d");
  wd_pcache_stats(c, &hits, NULL);
  assert_int_equal(hits, 0);
  wd_pcache_free(c);
  wd_scope_release(sc2);
  wd_policy_set_free(s);
}

static void test_cache_fail_closed_cases_are_not_cached(void **st) {
  wd_policy_set *s;
  wd_scope *sc;
  wd_pcache *c;
  wd_pdecision d;
  uint64_t hits, misses;
  char big[2048];
  (void)st;
  assert_int_equal(wd_policy_set_new(&s), 0);
  assert_int_equal(add(s, "app:a", OKP "}", NULL), 0);
  sc = scope_all(s);
  assert_int_equal(wd_pcache_new(4, &c), 0);
  assert_int_equal(wd_pcache_check(c, NULL, &g_rq, &d), WD_EDENIED);
  assert_int_equal(d.reason, WD_REASON_NO_ACTOR_OR_SCOPE);
  g_rq.actor_id = NULL;
  assert_int_equal(wd_pcache_check(c, sc, &g_rq, &d), WD_EDENIED);
  g_rq.actor_id = "user:alice";
  /* A key too long for the cache: decided uncached, same answer. */
  memset(big, 'r', sizeof big - 1);
  big[sizeof big - 1] = '\0';
  g_rq.resource = big;
  assert_int_equal(wd_pcache_check(c, sc, &g_rq, &d), 0);
  assert_int_equal(wd_pcache_check(c, sc, &g_rq, &d), 0);
  wd_pcache_stats(c, &hits, &misses);
  assert_int_equal(hits + misses, 0);
  assert_int_equal(wd_pcache_check(NULL, sc, &g_rq, &d), 0);
  wd_pcache_free(c);
  assert_int_equal(wd_pcache_new(((size_t)1 << 20) + 1, &c), WD_EINVAL);
  assert_null(c);
  assert_int_equal(wd_pcache_new(8, NULL), WD_EINVAL);
  wd_pcache_free(NULL);
  wd_scope_release(sc);
  wd_policy_set_free(s);
}

/* }====================================================================== */

/*
** {======================================================================
** Lint
** =======================================================================
*/

typedef struct Found {
  int n;
  int kind[8];
  char id[8][32];
  char msg[8][200];
} Found;

static void lint_cb(const wd_plint *f, void *ud) {
  Found *fd = ud;
  if (fd->n < 8) {
    fd->kind[fd->n] = f->kind;
    snprintf(fd->id[fd->n], sizeof fd->id[0], "%s", f->id);
    snprintf(fd->msg[fd->n], sizeof fd->msg[0], "%s:%d:%d: %s", f->file,
             f->line, f->col, f->msg);
  }
  fd->n++;
}

static Found lint_one(const char *conds) {
  wd_policy_set *s;
  Found fd;
  char src[600];
  int r;
  memset(&fd, 0, sizeof fd);
  snprintf(src, sizeof src, OKP "conditions: [%s]}", conds);
  assert_int_equal(wd_policy_set_new(&s), 0);
  if (add(s, "app:p", src, NULL) != 0) fail_msg("%s", g_err);
  r = wd_policy_lint(s, lint_cb, &fd);
  assert_int_equal(r, fd.n);
  wd_policy_set_free(s);
  return fd;
}

static void test_lint_eq_two_values_never_matches(void **st) {
  Found fd;
  (void)st;
  fd = lint_one("{field: r, operator: eq, value: a},"
                "{field: r, operator: eq, value: b}");
  assert_int_equal(fd.n, 1);
  assert_int_equal(fd.kind[0], WD_PLINT_NEVER_MATCH);
  assert_string_equal(fd.msg[0], "t.yaml:1:1: never matches: 'r' eq a and "
                                 "eq b");
  fd = lint_one("{field: r, operator: eq, value: 5},"
                "{field: r, operator: eq, value: '5.0'}");
  assert_int_equal(fd.n, 0);
}

static void test_lint_exists_and_nexists_never_matches(void **st) {
  Found fd;
  (void)st;
  fd = lint_one("{field: r, operator: nexists, value: true},"
                "{field: r, operator: eq, value: b}");
  assert_int_equal(fd.n, 1);
  fd = lint_one("{field: r, operator: exists, value: false},"
                "{field: r, operator: nexists, value: true}");
  assert_int_equal(fd.n, 0);
  fd = lint_one("{field: action, operator: exists, value: false}");
  assert_int_equal(fd.n, 1);
}

static void test_lint_disjoint_bounds_never_match(void **st) {
  Found fd;
  (void)st;
  fd = lint_one("{field: n, operator: lt, value: 1},"
                "{field: n, operator: gt, value: 5}");
  assert_int_equal(fd.n, 1);
  assert_string_equal(fd.msg[0], "t.yaml:1:1: never matches: 'n' lt 1 and "
                                 "gt 5");
  fd = lint_one("{field: n, operator: lt, value: 5},"
                "{field: n, operator: gte, value: 5}");
  assert_int_equal(fd.n, 1);
  fd = lint_one("{field: n, operator: lte, value: 5},"
                "{field: n, operator: gte, value: 5}");
  assert_int_equal(fd.n, 0);
  fd = lint_one("{field: n, operator: eq, value: 3},"
                "{field: n, operator: gt, value: 3}");
  assert_int_equal(fd.n, 1);
  fd = lint_one("{field: n, operator: eq, value: 3},"
                "{field: m, operator: gt, value: 3}");
  assert_int_equal(fd.n, 0);
}

static void test_lint_eq_against_ne_in_nin(void **st) {
  Found fd;
  (void)st;
  fd = lint_one("{field: r, operator: eq, value: a},"
                "{field: r, operator: ne, value: a}");
  assert_int_equal(fd.n, 1);
  fd = lint_one("{field: r, operator: in, value: [b, c]},"
                "{field: r, operator: eq, value: a}");
  assert_int_equal(fd.n, 1);
  fd = lint_one("{field: r, operator: eq, value: a},"
                "{field: r, operator: nin, value: [a]}");
  assert_int_equal(fd.n, 1);
  fd = lint_one("{field: r, operator: eq, value: a},"
                "{field: r, operator: in, value: [a, b]}");
  assert_int_equal(fd.n, 0);
  fd = lint_one("{field: action, operator: eq, value: process.exec}");
  assert_int_equal(fd.n, 0); /* actions is '*' */
}

static void test_lint_action_eq_outside_patterns_never_matches(void **st) {
  wd_policy_set *s;
  Found fd;
  (void)st;
  memset(&fd, 0, sizeof fd);
  assert_int_equal(wd_policy_set_new(&s), 0);
  assert_int_equal(add(s, "app:p",
                       "{actions: 'process.*', resources: '*', "
                       "effect: allow, conditions: [{field: "
                       "action, operator: eq, value: network}]}",
                       NULL),
                   0);
  assert_int_equal(add(s, "app:q",
                       "{actions: 'process.*', resources: '*', "
                       "effect: allow, conditions: [{field: "
                       "action, operator: eq, value: "
                       "process.send}]}",
                       NULL),
                   0);
  assert_int_equal(wd_policy_lint(s, lint_cb, &fd), 1);
  assert_string_equal(fd.id[0], "app:p");
  assert_string_equal(fd.msg[0], "t.yaml:1:1: never matches: 'action' eq "
                                 "network is outside its patterns");
  wd_policy_set_free(s);
}

static void test_lint_allow_under_unconditional_deny_is_shadowed(void **st) {
  wd_policy_set *s;
  Found fd;
  (void)st;
  memset(&fd, 0, sizeof fd);
  assert_int_equal(wd_policy_set_new(&s), 0);
  assert_int_equal(add(s, "app:send",
                       "{actions: [process.send, "
                       "'process.link*'], resources: '{app:*', "
                       "effect: allow}",
                       "[g]"),
                   0);
  assert_int_equal(add(s, "app:nope",
                       "{actions: 'process.*', "
                       "resources: '*', effect: deny}",
                       "[g, h]"),
                   0);
  /* Not shadowed: another group, a condition, a wider allow. */
  assert_int_equal(add(s, "app:x",
                       "{actions: process.send, resources: '*',"
                       " effect: allow}",
                       "[other]"),
                   0);
  assert_int_equal(add(s, "app:y",
                       "{actions: '*', resources: '*', "
                       "effect: allow}",
                       "[g]"),
                   0);
  assert_int_equal(add(s, "app:cd",
                       "{actions: '*', resources: '*', "
                       "effect: deny, conditions: [{field: a, operator: "
                       "exists, value: true}]}",
                       "[other]"),
                   0);
  assert_int_equal(wd_policy_lint(s, lint_cb, &fd), 1);
  assert_int_equal(fd.kind[0], WD_PLINT_SHADOWED);
  assert_string_equal(fd.id[0], "app:send");
  assert_string_equal(fd.msg[0], "t.yaml:1:1: allow is always overridden by "
                                 "unconditional deny 'app:nope'");
  assert_int_equal(wd_policy_lint(NULL, lint_cb, &fd), WD_EINVAL);
  assert_int_equal(wd_policy_lint(s, NULL, &fd), WD_EINVAL);
  wd_policy_set_free(s);
}

/* }====================================================================== */

/*
** {======================================================================
** Allocation failures
** =======================================================================
*/

static long g_budget = -1, g_live;

static void *fail_malloc(size_t n) {
  void *p;
  if (g_budget == 0) return NULL;
  if (g_budget > 0) g_budget--;
  p = malloc(n);
  if (p != NULL) g_live++;
  return p;
}

static void *fail_realloc(void *o, size_t n) {
  void *p;
  if (g_budget == 0) return NULL;
  if (g_budget > 0) g_budget--;
  p = realloc(o, n);
  if (p != NULL && o == NULL) g_live++;
  return p;
}

static void fail_free(void *p) {
  if (p != NULL) g_live--;
  free(p);
}

static const char *k_big =
    "{actions: [process.send, 'process.link*', '*'], resources: "
    "['{app:*', x, '*'], effect: allow, conditions: ["
    "{field: actor.meta.role, operator: in, value: [a, b, {c: d}]},"
    "{field: meta.x.y, operator: matches, value: '^a+$'},"
    "{field: topic, operator: eq, value_from: actor.meta.t}]}";

static void test_oom_every_allocation_failure_returns_enomem(void **st) {
  wd_node *p = tree(k_big), *g = tree("[g1, g2, 'x:g3']");
  wd_policy_set *s = NULL;
  wd_scope *sc = NULL;
  wd_pcache *c = NULL;
  const char *names[3] = { "app:g1", "x:g3", "app:p2" };
  long i;
  int r, steps = 0;
  (void)st;
  wd_replace_allocator(fail_malloc, fail_realloc, fail_free);
  /* wd_policy_set_new + two adds */
  for (i = 0;; i++) {
    g_live = 0;
    g_budget = i;
    r = wd_policy_set_new(&s);
    if (r == 0) r = wd_policy_add(s, "app:p1", "app", p, g, NULL, 0);
    if (r == 0) r = wd_policy_add(s, "app:p2", "app", p, g, NULL, 0);
    if (r == 0) break;
    assert_int_equal(r, WD_ENOMEM);
    wd_policy_set_free(s);
    s = NULL;
    assert_int_equal(g_live, 0);
    steps++;
  }
  /* scopes */
  for (i = 0;; i++) {
    g_budget = i;
    r = wd_scope_new(s, names, 3, &sc, NULL, 0);
    if (r == 0) break;
    assert_int_equal(r, WD_ENOMEM);
    assert_null(sc);
    steps++;
  }
  /* cache: creation, then a store that may fail and still decides */
  for (i = 0;; i++) {
    g_budget = i;
    r = wd_pcache_new(8, &c);
    if (r == 0) break;
    assert_int_equal(r, WD_ENOMEM);
    steps++;
  }
  g_budget = 0;
  assert_int_equal(wd_pcache_check(c, sc, &g_rq, NULL),
                   wd_policy_check(sc, &g_rq, NULL));
  g_budget = -1;
  wd_pcache_free(c);
  wd_scope_release(sc);
  wd_policy_set_free(s);
  assert_int_equal(g_live, 0);
  wd_replace_allocator(NULL, NULL, NULL);
  assert_true(steps > 20);
  tree_free(p);
  tree_free(g);
}

/* }====================================================================== */

int main(void) {
  const struct CMUnitTest tests[] = {
    cmocka_unit_test_setup(test_pval_from_node_unquoted_number_text_is_number,
                           setup),
    cmocka_unit_test_setup(test_pval_from_node_quoted_number_stays_string,
                           setup),
    cmocka_unit_test_setup(test_pval_from_node_keywords_are_bool_and_null,
                           setup),
    cmocka_unit_test_setup(test_pval_from_node_builds_lists_and_maps, setup),
    cmocka_unit_test_setup(test_pval_from_node_too_deep_returns_einval, setup),
    cmocka_unit_test_setup(test_pattern_star_matches_everything, setup),
    cmocka_unit_test_setup(test_pattern_exact_matches_only_itself, setup),
    cmocka_unit_test_setup(test_pattern_dot_star_matches_prefix_before_dot,
                           setup),
    cmocka_unit_test_setup(test_pattern_trailing_star_matches_prefix, setup),
    cmocka_unit_test_setup(test_pattern_list_matches_if_any_item_matches,
                           setup),
    cmocka_unit_test_setup(test_pattern_star_inside_is_literal, setup),
    cmocka_unit_test_setup(test_op_eq_equal_string_holds_other_fails, setup),
    cmocka_unit_test_setup(test_op_eq_numeric_sides_compare_as_numbers, setup),
    cmocka_unit_test_setup(test_op_eq_non_numeric_compares_as_string, setup),
    cmocka_unit_test_setup(test_op_eq_on_missing_or_null_or_list_field_fails,
                           setup),
    cmocka_unit_test_setup(test_op_ne_different_holds_missing_fails, setup),
    cmocka_unit_test_setup(test_op_lt_gt_numbers_compare, setup),
    cmocka_unit_test_setup(test_op_lt_gt_numeric_string_field_compares, setup),
    cmocka_unit_test_setup(test_op_lt_gt_non_numeric_field_fails_both_ways,
                           setup),
    cmocka_unit_test_setup(test_op_in_list_member_holds, setup),
    cmocka_unit_test_setup(test_op_nin_non_member_holds_missing_fails, setup),
    cmocka_unit_test_setup(test_op_exists_present_holds_missing_fails, setup),
    cmocka_unit_test_setup(test_op_exists_without_value_means_true, setup),
    cmocka_unit_test_setup(test_op_nexists_missing_holds_present_fails, setup),
    cmocka_unit_test_setup(test_op_contains_substring_and_list_member, setup),
    cmocka_unit_test_setup(test_op_ncontains_missing_or_map_fails, setup),
    cmocka_unit_test_setup(test_op_matches_regex_searches_field, setup),
    cmocka_unit_test_setup(test_op_matches_missing_or_list_fails_both_ways,
                           setup),
    cmocka_unit_test_setup(test_op_value_from_compares_two_fields, setup),
    cmocka_unit_test_setup(test_op_value_from_missing_fails_every_operator,
                           setup),
    cmocka_unit_test_setup(test_op_fields_resolve_nested_and_flat_paths, setup),
    cmocka_unit_test_setup(test_op_all_conditions_must_hold, setup),
    cmocka_unit_test_setup(test_decide_matching_deny_overrides_allow, setup),
    cmocka_unit_test_setup(test_decide_conditional_deny_applies_only_when_true,
                           setup),
    cmocka_unit_test_setup(test_decide_no_match_denies_with_no_ids, setup),
    cmocka_unit_test_setup(test_decide_empty_scope_denies, setup),
    cmocka_unit_test_setup(test_decide_no_actor_or_no_scope_denies, setup),
    cmocka_unit_test_setup(test_decide_ids_are_smallest_eight_deduplicated,
                           setup),
    cmocka_unit_test_setup(test_explain_truncates_like_snprintf, setup),
    cmocka_unit_test_setup(test_scope_group_names_are_qualified_by_namespace,
                           setup),
    cmocka_unit_test_setup(test_scope_unqualified_group_without_namespace_fails,
                           setup),
    cmocka_unit_test_setup(test_scope_unknown_name_returns_enotfound, setup),
    cmocka_unit_test_setup(test_scope_name_and_group_overlap_counts_once,
                           setup),
    cmocka_unit_test_setup(test_scope_outlives_set_and_refcounts, setup),
    cmocka_unit_test_setup(test_set_lists_ids_in_order, setup),
    cmocka_unit_test_setup(test_cache_hit_returns_same_decision, setup),
    cmocka_unit_test_setup(test_cache_new_scope_generation_never_hits, setup),
    cmocka_unit_test_setup(test_cache_fail_closed_cases_are_not_cached, setup),
    cmocka_unit_test_setup(test_lint_eq_two_values_never_matches, setup),
    cmocka_unit_test_setup(test_lint_exists_and_nexists_never_matches, setup),
    cmocka_unit_test_setup(test_lint_disjoint_bounds_never_match, setup),
    cmocka_unit_test_setup(test_lint_eq_against_ne_in_nin, setup),
    cmocka_unit_test_setup(test_lint_action_eq_outside_patterns_never_matches,
                           setup),
    cmocka_unit_test_setup(test_lint_allow_under_unconditional_deny_is_shadowed,
                           setup),
    cmocka_unit_test_setup(test_oom_every_allocation_failure_returns_enomem,
                           setup),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
