/*
** tests/unit/test_policy_load.c
** Every load error of the policy engine, with its exact
** "file:line:col: message". Links only wd_policy and wd_base.
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
** Loader errors
** =======================================================================
*/


static void test_load_unknown_key_in_policy_is_error(void **st) {
  (void)st;
  assert_string_equal(load_err("{actions: '*', resources: '*',\n"
                               " effect: allow, expression: x}",
                               WD_EINVAL),
                      "t.yaml:2:17: unknown key 'expression' in policy");
}

static void test_load_duplicate_key_is_error(void **st) {
  (void)st;
  assert_string_equal(load_err("{actions: '*', resources: '*', effect: allow,"
                               " effect: deny}",
                               WD_EINVAL),
                      "t.yaml:1:47: duplicate key 'effect' in policy");
}

static void test_load_actions_missing_is_error(void **st) {
  (void)st;
  assert_string_equal(load_err("{resources: '*', effect: allow}", WD_EINVAL),
                      "t.yaml:1:1: policy.actions is missing");
  assert_string_equal(load_err("{actions: '*', effect: allow}", WD_EINVAL),
                      "t.yaml:1:1: policy.resources is missing");
}

static void test_load_actions_wrong_type_is_error(void **st) {
  (void)st;
  assert_string_equal(load_err("{actions: {a: b}, resources: '*', "
                               "effect: allow}",
                               WD_EINVAL),
                      "t.yaml:1:11: policy.actions must be a string or a "
                      "list of strings");
  assert_string_equal(load_err("{actions: [a, [b]], resources: '*', "
                               "effect: allow}",
                               WD_EINVAL),
                      "t.yaml:1:15: policy.actions must be a string or a "
                      "list of strings");
  assert_string_equal(load_err("{actions: '*', resources: null, "
                               "effect: allow}",
                               WD_EINVAL),
                      "t.yaml:1:27: policy.resources must be a string or a "
                      "list of strings");
}

static void test_load_actions_empty_is_error(void **st) {
  (void)st;
  assert_string_equal(
      load_err("{actions: [], resources: '*', effect: allow}", WD_EINVAL),
      "t.yaml:1:11: policy.actions must not be empty");
  assert_string_equal(load_err("{actions: '*', resources: [a, ''], "
                               "effect: allow}",
                               WD_EINVAL),
                      "t.yaml:1:31: policy.resources must not be empty");
}

static void test_load_effect_not_allow_or_deny_is_error(void **st) {
  (void)st;
  assert_string_equal(load_err("{actions: '*', resources: '*', "
                               "effect: permit}",
                               WD_EINVAL),
                      "t.yaml:1:40: policy.effect must be allow or deny, "
                      "not 'permit'");
  assert_string_equal(load_err("{actions: '*', resources: '*'}", WD_EINVAL),
                      "t.yaml:1:1: policy.effect is missing");
  assert_string_equal(load_err("{actions: '*', resources: '*', "
                               "effect: [allow]}",
                               WD_EINVAL),
                      "t.yaml:1:40: policy.effect must be allow or deny, "
                      "not ''");
}

static void test_load_policy_not_map_is_error(void **st) {
  wd_policy_set *s;
  (void)st;
  assert_string_equal(load_err("[a]", WD_EINVAL),
                      "t.yaml:1:1: policy must be a map");
  assert_int_equal(wd_policy_set_new(&s), 0);
  assert_int_equal(add(s, "app:p", NULL, NULL), WD_EINVAL);
  assert_string_equal(g_err, "policy 'app:p' has no policy map");
  assert_int_equal(add(s, "", OKP "}", NULL), WD_EINVAL);
  assert_int_equal(wd_policy_add(NULL, "a", "b", NULL, NULL, NULL, 0),
                   WD_EINVAL);
  wd_policy_set_free(s);
}

static void test_load_conditions_not_list_is_error(void **st) {
  (void)st;
  assert_string_equal(load_err(OKP "conditions: {a: b}}", WD_EINVAL),
                      "t.yaml:1:59: policy.conditions must be a list");
  assert_string_equal(load_err(OKP "conditions: [x]}", WD_EINVAL),
                      "t.yaml:1:60: condition must be a map");
}

static void test_load_unknown_key_in_condition_is_error(void **st) {
  (void)st;
  assert_string_equal(load_err(OKP "conditions: [\n"
                                   "  {field: a, operator: eq, value: 1, "
                                   "note: x}]}",
                               WD_EINVAL),
                      "t.yaml:2:38: unknown key 'note' in condition");
}

static void test_load_unknown_field_is_error(void **st) {
  (void)st;
  assert_string_equal(load_err(OKP "conditions: [\n"
                                   "  {field: actor.name, operator: eq, "
                                   "value: 1}]}",
                               WD_EINVAL),
                      "t.yaml:2:11: unknown field 'actor.name'");
  assert_string_equal(load_err(OKP "conditions: [{field: actor.meta..x, "
                                   "operator: eq, value: 1}]}",
                               WD_EINVAL),
                      "t.yaml:1:68: unknown field 'actor.meta..x'");
  assert_string_equal(load_err(OKP "conditions: [{field: meta, "
                                   "operator: eq, value: 1}]}",
                               WD_EINVAL),
                      "t.yaml:1:68: unknown field 'meta'");
  assert_string_equal(load_err(OKP "conditions: [{field: action.x, "
                                   "operator: eq, value: 1}]}",
                               WD_EINVAL),
                      "t.yaml:1:68: unknown field 'action.x'");
  assert_string_equal(load_err(OKP "conditions: [{field: a, operator: eq, "
                                   "value_from: actor.x}]}",
                               WD_EINVAL),
                      "t.yaml:1:97: unknown field 'actor.x'");
  assert_string_equal(load_err(OKP "conditions: [{operator: eq, "
                                   "value: 1}]}",
                               WD_EINVAL),
                      "t.yaml:1:60: condition.field is missing");
}

static void test_load_unknown_operator_is_error(void **st) {
  (void)st;
  assert_string_equal(load_err(OKP "conditions: [{field: a,\n"
                                   "  operator: equals, value: 1}]}",
                               WD_EINVAL),
                      "t.yaml:2:13: unknown operator 'equals'");
  assert_string_equal(
      load_err(OKP "conditions: [{field: a, value: 1}]}", WD_EINVAL),
      "t.yaml:1:60: condition.operator is missing");
}

static void test_load_missing_value_is_error(void **st) {
  (void)st;
  assert_string_equal(load_err(OKP "conditions: [{field: a, "
                                   "operator: eq}]}",
                               WD_EINVAL),
                      "t.yaml:1:60: condition.value is missing");
  assert_string_equal(load_err(OKP "conditions: [{field: a, operator: eq, "
                                   "value: null}]}",
                               WD_EINVAL),
                      "t.yaml:1:92: condition.value is missing");
  assert_string_equal(load_err(OKP "conditions: [{field: a, operator: eq, "
                                   "value: 1, value_from: b}]}",
                               WD_EINVAL),
                      "t.yaml:1:107: condition has both value and "
                      "value_from");
}

static void test_load_bad_regular_expression_is_error(void **st) {
  const char *e;
  (void)st;
  e = load_err(OKP "conditions: [{field: a, operator: matches, "
                   "value: '(ab'}]}",
               WD_EINVAL);
  assert_true(strncmp(e, "t.yaml:1:97: bad regular expression '(ab': ", 43) ==
              0);
  assert_true(strlen(e) > 43);
  assert_string_equal(load_err(OKP "conditions: [{field: a, operator: "
                                   "nmatches, value_from: b}]}",
                               WD_EINVAL),
                      "t.yaml:1:103: operator 'nmatches' does not take "
                      "value_from");
}

static void test_load_operator_value_type_is_checked(void **st) {
  (void)st;
  assert_string_equal(load_err(OKP "conditions: [{field: a, operator: lt, "
                                   "value: ten}]}",
                               WD_EINVAL),
                      "t.yaml:1:92: operator 'lt' needs a number");
  assert_string_equal(load_err(OKP "conditions: [{field: a, "
                                   "operator: exists, value: yes}]}",
                               WD_EINVAL),
                      "t.yaml:1:96: operator 'exists' needs true or false");
  assert_string_equal(load_err(OKP "conditions: [{field: a, operator: eq, "
                                   "value: [1]}]}",
                               WD_EINVAL),
                      "t.yaml:1:92: operator 'eq' needs a single value");
  assert_string_equal(load_err(OKP "conditions: [{field: a, operator: in, "
                                   "value: {k: 1}}]}",
                               WD_EINVAL),
                      "t.yaml:1:92: operator 'in' needs a list or a single "
                      "value");
  assert_string_equal(load_err(OKP "conditions: [{field: a, "
                                   "operator: exists, value_from: b}]}",
                               WD_EINVAL),
                      "t.yaml:1:101: operator 'exists' does not take "
                      "value_from");
}

static void test_load_groups_wrong_type_is_error(void **st) {
  wd_policy_set *s;
  (void)st;
  assert_int_equal(wd_policy_set_new(&s), 0);
  assert_int_equal(add(s, "app:p", OKP "}", "{a: b}"), WD_EINVAL);
  assert_string_equal(g_err, "t.yaml:1:1: groups must be a list");
  assert_int_equal(add(s, "app:p", OKP "}", "[a, [b]]"), WD_EINVAL);
  assert_string_equal(g_err, "t.yaml:1:5: group must be a non-empty string");
  assert_int_equal(wd_policy_set_count(s), 0);
  wd_policy_set_free(s);
}

static void test_load_message_masks_control_bytes(void **st) {
  (void)st;
  assert_string_equal(load_err("{actions: '*', resources: '*', "
                               "effect: \"al\tlow\"}",
                               WD_EINVAL),
                      "t.yaml:1:40: policy.effect must be allow or deny, "
                      "not 'al?low'");
}

static void test_load_duplicate_id_returns_eexist(void **st) {
  wd_policy_set *s;
  (void)st;
  assert_int_equal(wd_policy_set_new(&s), 0);
  assert_int_equal(add(s, "app:p", OKP "}", NULL), 0);
  assert_int_equal(add(s, "app:p", OKP "}", NULL), WD_EEXIST);
  assert_string_equal(g_err, "t.yaml:1:1: policy 'app:p' is already defined");
  assert_int_equal(wd_policy_set_count(s), 1);
  wd_policy_set_free(s);
}

/* }====================================================================== */

/*
** {======================================================================
** Names: in a strict set (ward's loaders) an action pattern must match an
** action ward asks and a condition field must be one a request has
** =======================================================================
*/

/* Load error of one policy text in a strict set ('want' 0: it loads). */
static const char *strict_err(const char *src, int want) {
  wd_policy_set *s;
  assert_int_equal(wd_policy_set_new(&s), 0);
  wd_policy_set_strict(s, 1);
  g_err[0] = '\0';
  assert_int_equal(add(s, "app:p", src, NULL), want);
  assert_int_equal(wd_policy_set_count(s), want == 0 ? 1 : 0);
  wd_policy_set_free(s);
  return g_err;
}

/* A policy with one condition on 'field' (and value_from 'from'). */
static const char *strict_field(const char *field, const char *from, int want) {
  char src[512];
  if (from != NULL)
    snprintf(src, sizeof src,
             OKP "conditions: [{field: %s, operator: eq, value_from: %s}]}",
             field, from);
  else
    snprintf(src, sizeof src,
             OKP "conditions: [{field: %s, operator: eq, value: x}]}", field);
  return strict_err(src, want);
}

static void test_names_misspelled_action_in_deny_policy_is_error(void **st) {
  (void)st;
  assert_string_equal(
      strict_err("{actions: [process.send,\n  process.terminat], "
                 "resources: '*', effect: deny}",
                 WD_EINVAL),
      "t.yaml:2:3: action 'process.terminat' matches no action ward asks "
      "(did you mean 'process.terminate'?)");
  assert_string_equal(strict_err("{actions: process.sned, resources: '*', "
                                 "effect: allow}",
                                 WD_EINVAL),
                      "t.yaml:1:11: action 'process.sned' matches no action "
                      "ward asks (did you mean 'process.send'?)");
}

static void test_names_prefix_that_matches_nothing_is_error(void **st) {
  (void)st;
  /* The engine reads "proces.*" as "proces*", which would match
  ** "process.send": the check takes the dot at its word. */
  assert_string_equal(strict_err("{actions: 'proces.*', resources: '*', "
                                 "effect: deny}",
                                 WD_EINVAL),
                      "t.yaml:1:11: action 'proces.*' matches no action "
                      "ward asks");
  assert_string_equal(strict_err("{actions: 'net*', resources: '*', "
                                 "effect: deny}",
                                 WD_EINVAL),
                      "t.yaml:1:11: action 'net*' matches no action ward "
                      "asks");
  assert_string_equal(strict_err("{actions: ['*', 'process.*.linked'], "
                                 "resources: '*', effect: deny}",
                                 WD_EINVAL),
                      "t.yaml:1:17: action 'process.*.linked' matches no "
                      "action ward asks ('*' is a wildcard only at the "
                      "end)");
}

static void test_names_wildcards_and_known_actions_load(void **st) {
  const char *const *a = wd_policy_actions();
  char src[256];
  size_t i;
  (void)st;
  strict_err("{actions: ['*', 'process.*', 'process.spawn*', "
             "'process.spawn.*', 'process.registry.*', 'process.*', "
             "'ward.*', 'p*', 'process.registry.register*'], "
             "resources: '*', effect: deny}",
             0);
  assert_non_null(a);
  for (i = 0; a[i] != NULL; i++) {
    snprintf(src, sizeof src, "{actions: %s, resources: '*', effect: deny}",
             a[i]);
    strict_err(src, 0);
  }
}

static void test_names_action_list_has_what_ward_asks(void **st) {
  static const char *const want[] = {
    "process.send",
    "process.spawn",
    "process.spawn.monitored",
    "process.spawn.linked",
    "process.exec",
    "process.host",
    "process.context",
    "process.security",
    "process.monitor",
    "process.unmonitor",
    "process.link",
    "process.unlink",
    "process.cancel",
    "process.terminate",
    "process.upgrade",
    "process.registry.register",
    "process.registry.unregister",
    "process.registry.lookup",
    "process.registry.foreign",
    "ward.deploy",
    "ward.policy.reload",
    "ward.status",
  };
  const char *const *a = wd_policy_actions();
  size_t i, j, n = 0;
  (void)st;
  while (a[n] != NULL)
    n++;
  assert_int_equal(n, sizeof want / sizeof want[0]);
  for (i = 0; i < n; i++) {
    for (j = 0; j < n && strcmp(a[j], want[i]) != 0; j++) {
    }
    if (j == n) fail_msg("'%s' is not in wd_policy_actions()", want[i]);
    assert_true(wd_policy_action_known(want[i]));
  }
  assert_false(wd_policy_action_known("process.terminat"));
  assert_false(wd_policy_action_known("proces.*"));
  assert_false(wd_policy_action_known(""));
  assert_false(wd_policy_action_known(NULL));
  assert_true(wd_policy_action_known("process.registry.*"));
}

static void test_names_misspelled_field_is_error(void **st) {
  (void)st;
  assert_string_equal(strict_field("targt_host", NULL, WD_EINVAL),
                      "t.yaml:1:68: unknown field 'targt_host' (did you "
                      "mean 'target_host'?)");
  assert_string_equal(strict_field("meta.tpic", NULL, WD_EINVAL),
                      "t.yaml:1:68: unknown field 'meta.tpic' (did you mean "
                      "'meta.topic'?)");
  assert_string_equal(strict_field("owner", NULL, WD_EINVAL),
                      "t.yaml:1:68: unknown field 'owner': a request has "
                      "actor.id, actor.meta.*, action, resource and the "
                      "attributes pid, host, target_host, topic, via, token");
  /* Attributes are strings: nothing is below them. */
  assert_string_equal(strict_field("meta.pid.x", NULL, WD_EINVAL),
                      "t.yaml:1:68: unknown field 'meta.pid.x': attribute "
                      "'pid' is a string");
  assert_string_equal(strict_field("target_host", "actor.meta.hosts", 0), "");
  assert_string_equal(strict_field("target_host", "hots", WD_EINVAL),
                      "t.yaml:1:107: unknown field 'hots' (did you mean "
                      "'host'?)");
}

static void test_names_actor_meta_is_open(void **st) {
  (void)st;
  strict_field("actor.meta.anything", NULL, 0);
  strict_field("actor.meta.anything.below.it", NULL, 0);
  strict_field("actor.meta", NULL, 0);
  strict_field("actor.meta.tenant", "actor.meta.other", 0);
}

static void test_names_every_request_field_loads(void **st) {
  static const char *const ok[] = {
    "actor.id",   "action",      "resource",   "pid",
    "host",       "target_host", "topic",      "via",
    "token",      "meta.pid",    "meta.host",  "meta.target_host",
    "meta.topic", "meta.via",    "meta.token",
  };
  const char *const *at = wd_policy_attrs();
  size_t i, n = 0;
  (void)st;
  for (i = 0; i < sizeof ok / sizeof ok[0]; i++) {
    assert_true(wd_policy_field_known(ok[i]));
    strict_field(ok[i], NULL, 0);
  }
  while (at[n] != NULL)
    n++;
  assert_int_equal(n, 6);
  assert_false(wd_policy_field_known("targt_host"));
  assert_false(wd_policy_field_known("actor.name"));
  assert_false(wd_policy_field_known(NULL));
}

/* The engine alone stays generic: its own tests use other vocabularies. */
static void test_names_unchecked_in_a_set_that_is_not_strict(void **st) {
  wd_policy_set *s;
  (void)st;
  assert_int_equal(wd_policy_set_new(&s), 0);
  assert_int_equal(add(s, "app:p",
                       "{actions: network.select, resources: '*', effect: "
                       "allow, conditions: [{field: owner, operator: eq, "
                       "value: x}]}",
                       NULL),
                   0);
  wd_policy_set_strict(s, 1);
  assert_int_equal(add(s, "app:q",
                       "{actions: network.select, resources: '*', effect: "
                       "allow}",
                       NULL),
                   WD_EINVAL);
  wd_policy_set_strict(s, 0);
  assert_int_equal(add(s, "app:q",
                       "{actions: network.select, resources: '*', effect: "
                       "allow}",
                       NULL),
                   0);
  assert_int_equal(wd_policy_set_count(s), 2);
  wd_policy_set_free(s);
  wd_policy_set_strict(NULL, 1); /* no-op */
}

/* A malformed policy reports its malformation first, whatever its names. */
static void test_names_checked_after_the_structure(void **st) {
  (void)st;
  assert_string_equal(
      strict_err("{actions: x, resources: y, effect: permit}", WD_EINVAL),
      "t.yaml:1:36: policy.effect must be allow or deny, "
      "not 'permit'");
}

/* }====================================================================== */

int main(void) {
  const struct CMUnitTest tests[] = {
    cmocka_unit_test_setup(test_load_unknown_key_in_policy_is_error, setup),
    cmocka_unit_test_setup(test_load_duplicate_key_is_error, setup),
    cmocka_unit_test_setup(test_load_actions_missing_is_error, setup),
    cmocka_unit_test_setup(test_load_actions_wrong_type_is_error, setup),
    cmocka_unit_test_setup(test_load_actions_empty_is_error, setup),
    cmocka_unit_test_setup(test_load_effect_not_allow_or_deny_is_error, setup),
    cmocka_unit_test_setup(test_load_policy_not_map_is_error, setup),
    cmocka_unit_test_setup(test_load_conditions_not_list_is_error, setup),
    cmocka_unit_test_setup(test_load_unknown_key_in_condition_is_error, setup),
    cmocka_unit_test_setup(test_load_unknown_field_is_error, setup),
    cmocka_unit_test_setup(test_load_unknown_operator_is_error, setup),
    cmocka_unit_test_setup(test_load_missing_value_is_error, setup),
    cmocka_unit_test_setup(test_load_bad_regular_expression_is_error, setup),
    cmocka_unit_test_setup(test_load_operator_value_type_is_checked, setup),
    cmocka_unit_test_setup(test_load_groups_wrong_type_is_error, setup),
    cmocka_unit_test_setup(test_load_message_masks_control_bytes, setup),
    cmocka_unit_test_setup(test_load_duplicate_id_returns_eexist, setup),
    cmocka_unit_test_setup(test_names_misspelled_action_in_deny_policy_is_error,
                           setup),
    cmocka_unit_test_setup(test_names_prefix_that_matches_nothing_is_error,
                           setup),
    cmocka_unit_test_setup(test_names_wildcards_and_known_actions_load, setup),
    cmocka_unit_test_setup(test_names_action_list_has_what_ward_asks, setup),
    cmocka_unit_test_setup(test_names_misspelled_field_is_error, setup),
    cmocka_unit_test_setup(test_names_actor_meta_is_open, setup),
    cmocka_unit_test_setup(test_names_every_request_field_loads, setup),
    cmocka_unit_test_setup(test_names_unchecked_in_a_set_that_is_not_strict,
                           setup),
    cmocka_unit_test_setup(test_names_checked_after_the_structure, setup),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
