/*
** tests/unit/test_errors.c
** Error objects and the `errors` module. (An error object as the first
** argument of a string function is lenv.c's: tests/lua/test_errors.lua.)
** Runs in: host (sandboxed).
*/
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>
#include <lauxlib.h>
#include <lua.h>
#include <lualib.h>

#include "ward/wd_common.h"
#include "../../runtime/lua/lerrors.h"

/* {====== Helpers ====== */

static int setup(void **state) {
  lua_State *L = luaL_newstate();
  assert_non_null(L);
  luaL_openlibs(L);
  assert_int_equal(wd_lerr_open(L), 1);
  lua_setglobal(L, "errors");
  *state = L;
  return 0;
}

static int teardown(void **state) {
  lua_close(*state);
  return 0;
}

/* The kind of the error object at 'idx', or NULL if it is not one.
** Borrowed from the object's fields, which keep it alive. */
static const char *kind_of(lua_State *L, int idx) {
  const char *k;
  if (!wd_lerr_is(L, idx)) return NULL;
  idx = lua_absindex(L, idx);
  wd_lerr_unpack(L, idx); /* kind, message, retryable, details, stack */
  k = lua_tostring(L, -5);
  lua_pop(L, 5);
  return k;
}

/* Run a chunk that must succeed (its asserts are the test). */
static void ok(lua_State *L, const char *code) {
  int top = lua_gettop(L);
  if (luaL_dostring(L, code) != LUA_OK)
    fail_msg("lua: %s", lua_tostring(L, -1));
  lua_settop(L, top);
}

/* Run a chunk that must raise an error whose text contains 'want'. */
static void raises(lua_State *L, const char *code, const char *want) {
  const char *msg;
  int top = lua_gettop(L);
  if (luaL_dostring(L, code) == LUA_OK) fail_msg("no error from: %s", code);
  msg = lua_tostring(L, -1);
  if (msg == NULL || strstr(msg, want) == NULL)
    fail_msg("error '%s' lacks '%s'", msg ? msg : "(non-string)", want);
  lua_settop(L, top);
}

/* Call the Lua function 'fn' (global) with the value on top. */
static void check_top(lua_State *L, const char *code) {
  if (luaL_loadstring(L, code) != LUA_OK)
    fail_msg("load: %s", lua_tostring(L, -1));
  lua_insert(L, -2);
  if (lua_pcall(L, 1, 0, 0) != LUA_OK)
    fail_msg("check: %s", lua_tostring(L, -1));
}

/* }====== */

static void test_errors_constants_have_reference_values(void **state) {
  ok(*state, "assert(errors.NOT_FOUND == 'NotFound')\n"
             "assert(errors.ALREADY_EXISTS == 'AlreadyExists')\n"
             "assert(errors.INVALID == 'Invalid')\n"
             "assert(errors.PERMISSION_DENIED == 'PermissionDenied')\n"
             "assert(errors.UNAVAILABLE == 'Unavailable')\n"
             "assert(errors.INTERNAL == 'Internal')\n"
             "assert(errors.CANCELED == 'Canceled')\n"
             "assert(errors.CONFLICT == 'Conflict')\n"
             "assert(errors.TIMEOUT == 'Timeout')\n"
             "assert(errors.RATE_LIMITED == 'RateLimited')\n"
             "assert(errors.LIMIT_EXCEEDED == 'LimitExceeded')\n"
             "assert(errors.UNKNOWN == '')\n");
}

static void test_errors_new_with_string_gives_unknown_kind(void **state) {
  ok(*state, "local e = errors.new('boom')\n"
             "assert(type(e) == 'userdata')\n"
             "assert(e:kind() == '' and e:message() == 'boom')\n"
             "assert(e:retryable() == nil and e:details() == nil)\n"
             "assert(type(e:stack()) == 'string')\n");
}

static void test_errors_new_with_table_sets_every_field(void **state) {
  ok(*state, "local d = {id = 3}\n"
             "local e = errors.new{message = 'm', kind = errors.CONFLICT,"
             " retryable = true, details = d}\n"
             "assert(e:kind() == 'Conflict' and e:message() == 'm')\n"
             "assert(e:retryable() == true and e:details().id == 3)\n"
             "local f = errors.new{message = 'n', retryable = false}\n"
             "assert(f:kind() == '' and f:retryable() == false)\n");
}

static void test_errors_new_with_bad_input_raises(void **state) {
  lua_State *L = *state;
  raises(L, "errors.new(42)", "string or table expected");
  raises(L, "errors.new()", "string or table expected");
  raises(L, "errors.new{message = 1}", "field 'message' must be a string");
  raises(L, "errors.new{}", "field 'message' must be a string, got nil");
  raises(L, "errors.new{message = 'm', kind = 5}",
         "field 'kind' must be a string");
  raises(L, "errors.new{message = 'm', retryable = 'yes'}",
         "field 'retryable' must be a boolean or nil");
  raises(L, "errors.new{message = 'm', details = 'x'}",
         "field 'details' must be a table or nil");
}

static void test_errors_wrap_prefixes_message_and_keeps_fields(void **state) {
  ok(*state, "local e = errors.new{message = 'disk', kind = errors.TIMEOUT,"
             " retryable = true, details = {n = 1}}\n"
             "local w = errors.wrap(e, 'saving')\n"
             "assert(w:message() == 'saving: disk')\n"
             "assert(w:kind() == 'Timeout' and w:retryable() == true)\n"
             "assert(w:details() == e:details())\n"
             "assert(w:stack() == e:stack())\n"
             "assert(e:message() == 'disk')\n");
}

static void test_errors_wrap_of_string_gives_unknown_kind(void **state) {
  ok(*state, "local w = errors.wrap('bad thing', 'ctx')\n"
             "assert(type(w) == 'userdata' and w:kind() == '')\n"
             "assert(w:message() == 'ctx: bad thing')\n"
             "assert(errors.wrap(nil, 'ctx') == nil)\n");
  raises(*state, "errors.wrap({}, 'ctx')", "error or string expected");
  raises(*state, "errors.wrap('x')", "bad argument #2");
}

static void test_errors_is_compares_kind_only_for_errors(void **state) {
  ok(*state, "local e = errors.new{message = 'x', kind = errors.NOT_FOUND}\n"
             "assert(errors.is(e, errors.NOT_FOUND) == true)\n"
             "assert(errors.is(e, errors.INVALID) == false)\n"
             "assert(errors.is('NotFound', errors.NOT_FOUND) == false)\n"
             "assert(errors.is(nil, errors.NOT_FOUND) == false)\n"
             "assert(errors.is(e) == false)\n"
             "assert(errors.is(errors.new('u'), errors.UNKNOWN) == true)\n");
}

static void test_errors_tostring_and_concat_use_message(void **state) {
  ok(*state, "local e = errors.new('oops')\n"
             "assert(tostring(e) == 'oops')\n"
             "assert('a: ' .. e == 'a: oops' and e .. '!' == 'oops!')\n"
             "assert(1 .. e == '1oops' and e .. 2.5 == 'oops2.5')\n"
             "assert(e .. e == 'oopsoops')\n"
             "assert(('%s'):format(e) == 'oops')\n");
  raises(*state, "return errors.new('x') .. {}",
         "attempt to concatenate a table value");
}

static void test_errors_eq_compares_kind_and_message(void **state) {
  ok(*state, "local a = errors.new{message = 'm', kind = 'Invalid'}\n"
             "local b = errors.new{message = 'm', kind = 'Invalid'}\n"
             "local c = errors.new{message = 'm', kind = 'Timeout'}\n"
             "assert(a == b and a ~= c and a ~= errors.new('m'))\n"
             "assert(not rawequal(a, b))\n"
             "assert(a ~= io.stdout)\n");
}

static void test_errors_metatable_is_locked(void **state) {
  ok(*state, "local e = errors.new('x')\n"
             "assert(getmetatable(e) == 'locked')\n"
             "assert(not pcall(setmetatable, e, {}))\n");
}

static void test_errors_methods_on_wrong_self_raise(void **state) {
  raises(*state, "local e = errors.new('x'); return e.kind({})",
         "ward.error expected");
}

static void test_errors_call_stack_lists_frames(void **state) {
  ok(*state,
     "local function inner() local e = errors.new('deep') return e end\n"
     "local function outer() local e = inner() return e end\n"
     "local e = outer()\n"
     "local cs = errors.call_stack(e)\n"
     "assert(cs.thread == 'main' and #cs.frames >= 2)\n"
     "local f = cs.frames[1]\n"
     "assert(type(f.source) == 'string' and f.line == 1)\n"
     "assert(f.name == 'inner', f.name)\n"
     "assert(cs.frames[2].name == 'outer' and cs.frames[2].line == 2)\n"
     "assert(errors.call_stack('x') == nil)\n");
}

static void test_errors_call_stack_without_stack_has_no_frames(void **state) {
  lua_State *L = *state;
  wd_lerr_push(L, "Invalid", "no stack", 0);
  check_top(L, "local e = ...\n"
               "assert(e:stack() == nil)\n"
               "local cs = errors.call_stack(e)\n"
               "assert(cs.thread == 'main' and #cs.frames == 0)\n");
}

static void test_errors_push_sets_tristate_retryable(void **state) {
  lua_State *L = *state;
  wd_lerr_push(L, NULL, "a", -1);
  wd_lerr_push(L, "Timeout", "b", 0);
  wd_lerr_push(L, "Unavailable", "c", 1);
  assert_true(wd_lerr_is(L, -1));
  assert_string_equal(kind_of(L, -3), "");
  assert_string_equal(wd_lerr_message(L, -2), "b");
  assert_string_equal(kind_of(L, -1), "Unavailable");
  if (luaL_loadstring(L, "local a, b, c = ...\n"
                         "assert(a:retryable() == nil)\n"
                         "assert(b:retryable() == false)\n"
                         "assert(c:retryable() == true)\n") != LUA_OK)
    fail();
  lua_insert(L, -4);
  if (lua_pcall(L, 3, 0, 0) != LUA_OK) fail_msg("%s", lua_tostring(L, -1));
}

static void test_errors_pushf_returns_nil_and_formatted_error(void **state) {
  lua_State *L = *state;
  int top = lua_gettop(L);
  assert_int_equal(wd_lerr_pushf(L, WD_EINVAL, "topic %s #%d", "x", 3), 2);
  assert_int_equal(lua_gettop(L), top + 2);
  assert_true(lua_isnil(L, -2));
  assert_string_equal(kind_of(L, -1), "Invalid");
  assert_string_equal(wd_lerr_message(L, -1), "topic x #3");
  check_top(L, "assert((...):retryable() == false)");
  lua_pop(L, 1);
  wd_lerr_pushf(L, WD_EMBOXFULL, "full");
  check_top(L, "local e = ... assert(e:retryable() == true)\n"
               "assert(e:kind() == errors.LIMIT_EXCEEDED)");
  wd_lerr_pushf(L, WD_EUNAVAIL, "later");
  check_top(L, "assert((...):retryable() == true)");
  wd_lerr_pushf(L, WD_ENOACTOR, "process not found");
  check_top(L, "assert(errors.is(..., errors.NOT_FOUND))");
  lua_settop(L, top);
}

static void test_errors_pushf_long_message_is_not_truncated(void **state) {
  lua_State *L = *state;
  char big[1000];
  memset(big, 'q', sizeof big - 1);
  big[sizeof big - 1] = '\0';
  wd_lerr_pushf(L, WD_EINTERNAL, "<%s>", big);
  assert_int_equal(strlen(wd_lerr_message(L, -1)), sizeof big + 1);
  assert_int_equal(wd_lerr_message(L, -1)[0], '<');
  lua_pop(L, 2);
}

static void test_errors_from_value_converts_any_error_value(void **state) {
  lua_State *L = *state;
  int top = lua_gettop(L);
  wd_lerr_push(L, "Canceled", "c", 0);
  assert_int_equal(wd_lerr_from_value(L, -1), 1);
  assert_true(lua_rawequal(L, -1, -2));
  lua_pushliteral(L, "file:1: boom");
  wd_lerr_from_value(L, -1);
  assert_string_equal(kind_of(L, -1), "");
  assert_string_equal(wd_lerr_message(L, -1), "file:1: boom");
  lua_pushinteger(L, 42);
  wd_lerr_from_value(L, -1);
  assert_string_equal(wd_lerr_message(L, -1), "42");
  assert_true(lua_isinteger(L, -2)); /* the original is not converted */
  lua_newtable(L);
  wd_lerr_from_value(L, -1);
  assert_string_equal(wd_lerr_message(L, -1),
                      "(error object is a table value)");
  lua_pushnil(L);
  wd_lerr_from_value(L, -1);
  assert_string_equal(wd_lerr_message(L, -1), "(error object is a nil value)");
  lua_settop(L, top);
}

static void test_errors_inspectors_on_non_errors_return_null(void **state) {
  lua_State *L = *state;
  lua_pushliteral(L, "x");
  lua_newuserdatauv(L, 8, 0);
  assert_false(wd_lerr_is(L, -2));
  assert_false(wd_lerr_is(L, -1));
  assert_null(kind_of(L, -2));
  assert_null(wd_lerr_message(L, -1));
  lua_pop(L, 2);
}

static void test_errors_module_table_is_plain(void **state) {
  ok(*state, "assert(type(errors) == 'table')\n"
             "assert(type(errors.new) == 'function')\n"
             "assert(type(errors.call_stack) == 'function')\n");
}

#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)

int main(void) {
  const struct CMUnitTest tests[] = {
    T(test_errors_constants_have_reference_values),
    T(test_errors_new_with_string_gives_unknown_kind),
    T(test_errors_new_with_table_sets_every_field),
    T(test_errors_new_with_bad_input_raises),
    T(test_errors_wrap_prefixes_message_and_keeps_fields),
    T(test_errors_wrap_of_string_gives_unknown_kind),
    T(test_errors_is_compares_kind_only_for_errors),
    T(test_errors_tostring_and_concat_use_message),
    T(test_errors_eq_compares_kind_and_message),
    T(test_errors_metatable_is_locked),
    T(test_errors_methods_on_wrong_self_raise),
    T(test_errors_call_stack_lists_frames),
    T(test_errors_call_stack_without_stack_has_no_frames),
    T(test_errors_push_sets_tristate_retryable),
    T(test_errors_pushf_returns_nil_and_formatted_error),
    T(test_errors_pushf_long_message_is_not_truncated),
    T(test_errors_from_value_converts_any_error_value),
    T(test_errors_inspectors_on_non_errors_return_null),
    T(test_errors_module_table_is_plain),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
