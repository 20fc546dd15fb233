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
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
