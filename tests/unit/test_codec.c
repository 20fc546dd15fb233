/*
** tests/unit/test_codec.c
** Payload codec: round trips, sharing and cycles, refusals, limits, and
** hostile input (truncation, corruption, huge counts).
** Runs in: host (sandboxed).
** Set WD_WRITE_CORPUS=<dir> to also write the fuzzer's seed inputs there.
*/
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <lauxlib.h>
#include <lua.h>
#include <lualib.h>

#include "ward/wd_buf.h"
#include "ward/wd_codec.h"
#include "ward/wd_common.h"
#include "../../runtime/lua/lcodec.h"
#include "../../runtime/lua/lerrors.h"

/* {====== Helpers ====== */

static lua_State *newstate(void) {
  lua_State *L = luaL_newstate();
  assert_non_null(L);
  luaL_openlibs(L);
  wd_lerr_open(L);
  lua_setglobal(L, "errors");
  return L;
}

static int setup(void **state) {
  *state = newstate();
  return 0;
}

static int teardown(void **state) {
  lua_close(*state);
  return 0;
}

/* Run 'code' and leave its results on the stack; returns their count. */
static int eval(lua_State *L, const char *code) {
  int top = lua_gettop(L);
  if (luaL_dostring(L, code) != LUA_OK)
    fail_msg("lua: %s", lua_tostring(L, -1));
  return lua_gettop(L) - top;
}

/* Call the chunk 'check' with the 'n' values on top as its arguments;
** fails the test if it raises. Pops the values. */
static void check(lua_State *L, int n, const char *code) {
  if (luaL_loadstring(L, code) != LUA_OK)
    fail_msg("load: %s", lua_tostring(L, -1));
  lua_insert(L, -n - 1);
  if (lua_pcall(L, n, 0, 0) != LUA_OK)
    fail_msg("check: %s", lua_tostring(L, -1));
}

/* Encode the results of 'values', appending to 'b'; returns the encode
** result and leaves the stack as it was. */
static int encode_code(lua_State *L, const char *values, wd_buf *b, size_t max,
                       char *err, size_t errlen) {
  int top = lua_gettop(L), n, r;
  n = eval(L, values);
  r = wd_lcodec_encode(L, top + 1, n, b, max, err, errlen);
  assert_int_equal(lua_gettop(L), top + n);
  lua_settop(L, top);
  return r;
}

/* Encode 'values', decode them, and run 'code' on the decoded values. */
static void roundtrip(lua_State *L, const char *values, const char *code) {
  wd_buf b;
  char err[256];
  int top = lua_gettop(L), n, r;

  wd_buf_init(&b, 0);
  n = eval(L, values);
  r = wd_lcodec_encode(L, top + 1, n, &b, 0, err, sizeof err);
  if (r < 0) fail_msg("encode: %s", err);
  assert_int_equal(r, n);
  lua_settop(L, top);
  assert_int_equal(wd_codec_count(b.p, b.len), n);
  r = wd_lcodec_decode(L, b.p, b.len);
  assert_int_equal(r, n);
  assert_int_equal(lua_gettop(L), top + n);
  check(L, n, code);
  assert_int_equal(lua_gettop(L), top);
  wd_buf_close(&b);
}

/* A value using every tag: the base for hostile-input tests. */
static const char *const rich =
    "local t = {1, 2.5, 'short', string.rep('L', 40), true, false,"
    "  -7, 300, math.mininteger, {x = 1}}\n"
    "t.self = t; t.shared = t[10]; t[t[10]] = 'table key'\n"
    "local e = errors.new{message = 'boom', kind = errors.NOT_FOUND,"
    "  retryable = false, details = {code = 4}}\n"
    "return t, e, nil, e, 'tail'";

/* }====== */

/* {====== Round trips ====== */

static void test_codec_scalars_round_trip_exactly(void **state) {
  roundtrip(*state,
            "return nil, true, false, 0, 127, 128, -1, math.maxinteger,"
            " math.mininteger, 0.5, -0.0, 1/0, -1/0, 0/0, 1e308, '',"
            " 'abc', '\\0x\\0', string.rep('y', 31), string.rep('z', 32),"
            " string.rep('w', 100000)",
            "local a = table.pack(...)\n"
            "assert(a.n == 21)\n"
            "assert(a[1] == nil and a[2] == true and a[3] == false)\n"
            "assert(a[4] == 0 and a[5] == 127 and a[6] == 128)\n"
            "assert(a[7] == -1 and a[8] == math.maxinteger)\n"
            "assert(a[9] == math.mininteger and a[10] == 0.5)\n"
            "assert(1/a[11] == -1/0 and a[12] == 1/0 and a[13] == -1/0)\n"
            "assert(a[14] ~= a[14] and a[15] == 1e308 and a[16] == '')\n"
            "assert(a[17] == 'abc' and a[18] == '\\0x\\0')\n"
            "assert(a[19] == string.rep('y', 31))\n"
            "assert(a[20] == string.rep('z', 32))\n"
            "assert(a[21] == string.rep('w', 100000))\n");
}

static void test_codec_integer_and_float_are_kept_apart(void **state) {
  roundtrip(*state, "return 1, 1.0, -3, -3.0, 2^53, {[1] = 1.0, [2.5] = 2}",
            "local a, b, c, d, e, t = ...\n"
            "assert(math.type(a) == 'integer' and math.type(b) == 'float')\n"
            "assert(math.type(c) == 'integer' and math.type(d) == 'float')\n"
            "assert(math.type(e) == 'float')\n"
            "assert(math.type(t[1]) == 'float' and t[2.5] == 2)\n");
}

static void test_codec_nested_tables_round_trip(void **state) {
  roundtrip(*state,
            "return {1, 2, 3, n = {a = {b = {c = 'deep'}}}, [true] = 'T',"
            " [-5] = 'neg', [100] = 'far', [2.5] = 'f', ['a b'] = 1},"
            " {}, {1, 2, nil, 4}",
            "local t, e, h = ...\n"
            "assert(#t == 3 and t[3] == 3 and t.n.a.b.c == 'deep')\n"
            "assert(t[true] == 'T' and t[-5] == 'neg' and t[100] == 'far')\n"
            "assert(t[2.5] == 'f' and t['a b'] == 1 and next(e) == nil)\n"
            "assert(h[1] == 1 and h[2] == 2 and h[3] == nil and h[4] == 4)\n");
}

static void test_codec_cycle_is_preserved(void **state) {
  roundtrip(*state,
            "local t = {name = 'root'}; t.self = t\n"
            "local a, b = {}, {}; a.b = b; b.a = a\n"
            "return t, a",
            "local t, a = ...\n"
            "assert(t.self == t and t.name == 'root')\n"
            "assert(a.b.a == a and a.b ~= a)\n");
}

static void test_codec_shared_refs_decode_to_same_table(void **state) {
  roundtrip(*state,
            "local a = {1}; local k = {}\n"
            "return {a, a, [k] = k}, a, a",
            "local t, x, y = ...\n"
            "assert(t[1] == t[2] and t[1] == x and x == y and x[1] == 1)\n"
            "local k = next(t, 2)\n"
            "for key, v in pairs(t) do\n"
            "  if type(key) == 'table' then assert(key == v) end\n"
            "end\n");
}

static void test_codec_many_shared_tables_keep_sharing(void **state) {
  /* More objects than the encoder tracks without its visited table. */
  roundtrip(*state,
            "local list = {}\n"
            "for i = 1, 40 do list[i] = {i = i} end\n"
            "for i = 1, 40 do list[i].next = list[i % 40 + 1] end\n"
            "local e = errors.new('e')\n"
            "return list, list[40], list[17], e, {e, e}",
            "local list, last, mid, e, pair = ...\n"
            "assert(#list == 40 and list[40] == last and list[17] == mid)\n"
            "for i = 1, 40 do\n"
            "  assert(list[i].i == i and list[i].next == list[i % 40 + 1])\n"
            "end\n"
            "assert(rawequal(pair[1], e) and rawequal(pair[2], e))\n");
}

static void test_codec_table_keys_of_every_type_round_trip(void **state) {
  roundtrip(*state,
            "local e = errors.new('k')\n"
            "return {[false] = 1, [0] = 2, [-1.5] = 3, [e] = 4, [''] = 5}, e",
            "local t, e = ...\n"
            "assert(t[false] == 1 and t[0] == 2 and t[-1.5] == 3)\n"
            "assert(t[e] == 4 and t[''] == 5)\n");
}

/* The array part is the border-free prefix 1..n wherever Lua keeps those
** keys (the encoder reads them in one lua_next pass when they come first,
** and with lua_rawgeti when some are in the hash part): a table whose
** t[i] = i for i in 1..narr, with 'nhash' other keys, encodes to the
** header {T_TAB, narr, nhash} followed by the integers 1..narr. */
static void array_prefix(lua_State *L, const char *code, int narr, int nhash) {
  wd_buf b;
  char err[256];
  int i;
  wd_buf_init(&b, 0);
  assert_int_equal(encode_code(L, code, &b, 0, err, sizeof err), 1);
  assert_true(b.len >= 5 + (size_t)narr);
  assert_int_equal(b.p[2], WD_CODEC_T_TAB);
  assert_int_equal(b.p[3], narr);
  assert_int_equal(b.p[4], nhash);
  for (i = 1; i <= narr; i++) assert_int_equal(b.p[4 + i], WD_CODEC_T_SINT + i);
  wd_buf_close(&b);
}

static void test_codec_array_prefix_wherever_lua_keeps_it(void **state) {
  lua_State *L = *state;
  wd_buf b;
  char err[256];
  array_prefix(L, "return {1, 2, 3}", 3, 0);
  array_prefix(L, "return {}", 0, 0);
  array_prefix(L, "return {x = 1, y = 2}", 0, 2);
  array_prefix(L, "return {1, 2, 3, x = 1, [5] = 5}", 3, 2);
  /* 1 in the hash part, among the other keys (a free node, no rehash). */
  array_prefix(L, "local t = {x = 1, y = 2, z = 3}; t[1] = 1; return t", 1, 3);
  /* 1..2 in the array part, 3 in the hash part. */
  array_prefix(L, "local t = {1, 2, x = 1, y = 2, z = 3}; t[3] = 3; return t",
               3, 3);
  array_prefix(L, "local t = {1, 2, x = 1, y = 2, z = 3}; t[3] = 3; t.y = nil;"
                  " t[4] = 4; return t", 4, 2);
  /* Built backwards: every key in the hash part. */
  array_prefix(L, "local t = {}; for i = 40, 1, -1 do t[i] = i end; t.x = 0;"
                  " return t", 40, 1);
  roundtrip(L, "local t = {1, 2, x = 1, y = 2, z = 3}; t[3] = 3; return t",
            "local t = ...\n"
            "assert(#t == 3 and t[3] == 3 and t.x == 1 and t.z == 3)\n");
  /* A refused element of the prefix in the hash part is named by index. */
  wd_buf_init(&b, 0);
  assert_int_equal(encode_code(L, "local t = {1, 2, x = 1, y = 2, z = 3};"
                                  " t[3] = print; return t",
                               &b, 0, err, sizeof err),
                   WD_EINVAL);
  assert_non_null(strstr(err, "(at payload[1][3])"));
  assert_int_equal(b.len, 0);
  wd_buf_close(&b);
}

static void test_codec_error_object_round_trips(void **state) {
  roundtrip(
      *state,
      "return errors.new{message = 'gone', kind = errors.NOT_FOUND,"
      " retryable = true, details = {id = 7, tags = {'a'}}},"
      " errors.new('plain'), errors.new{message = 'm', retryable = false}",
      "local a, b, c = ...\n"
      "assert(type(a) == 'userdata' and errors.is(a, errors.NOT_FOUND))\n"
      "assert(a:message() == 'gone' and a:retryable() == true)\n"
      "assert(a:details().id == 7 and a:details().tags[1] == 'a')\n"
      "assert(type(a:stack()) == 'string')\n"
      "assert(tostring(b) == 'plain' and b:kind() == '')\n"
      "assert(b:retryable() == nil and b:details() == nil)\n"
      "assert(c:retryable() == false)\n");
}

static void test_codec_error_in_its_own_details_is_preserved(void **state) {
  roundtrip(*state,
            "local d = {}\n"
            "local e = errors.new{message = 'self', details = d}\n"
            "d.err = e; d.me = d\n"
            "return e, e",
            "local e, f = ...\n"
            "assert(rawequal(e, f) and rawequal(e:details().err, e))\n"
            "assert(e:details().me == e:details())\n");
}

static void test_codec_metatable_is_not_copied(void **state) {
  roundtrip(*state,
            "return setmetatable({x = 1}, {__index = function() return 9 end})",
            "local t = ...\n"
            "assert(getmetatable(t) == nil and t.x == 1 and t.y == nil)\n");
}

static void test_codec_zero_values_encode_header_only(void **state) {
  lua_State *L = *state;
  wd_buf b;
  int top = lua_gettop(L);
  wd_buf_init(&b, 0);
  assert_int_equal(wd_lcodec_encode(L, 1, 0, &b, 0, NULL, 0), 0);
  assert_int_equal(b.len, 2);
  assert_int_equal(wd_codec_count(b.p, b.len), 0);
  assert_int_equal(wd_lcodec_decode(L, b.p, b.len), 0);
  assert_int_equal(lua_gettop(L), top);
  wd_buf_close(&b);
}

static void test_codec_encode_appends_after_existing_bytes(void **state) {
  lua_State *L = *state;
  wd_buf b;
  char err[128];
  wd_buf_init(&b, 0);
  wd_buf_put(&b, "HDR", 3);
  lua_pushinteger(L, 5);
  assert_int_equal(wd_lcodec_encode(L, -1, 1, &b, 0, err, sizeof err), 1);
  lua_pop(L, 1);
  assert_memory_equal(b.p, "HDR", 3);
  assert_int_equal(wd_lcodec_decode(L, b.p + 3, b.len - 3), 1);
  assert_int_equal(lua_tointeger(L, -1), 5);
  lua_pop(L, 1);
  wd_buf_close(&b);
}

/* }====== */

/* {====== Refusals and limits ====== */

/* Encode 'values', expect 'code' and the message 'msg' exactly. */
static void refused(lua_State *L, const char *values, int code,
                    const char *msg) {
  wd_buf b;
  char err[256];
  wd_buf_init(&b, 0);
  wd_buf_put(&b, "keep", 4);
  assert_int_equal(encode_code(L, values, &b, 0, err, sizeof err), code);
  assert_string_equal(err, msg);
  assert_int_equal(b.len, 4);
  assert_memory_equal(b.p, "keep", 4);
  assert_int_equal(b.err, 0);
  wd_buf_close(&b);
}

static void test_codec_function_is_refused_with_path(void **state) {
  refused(*state, "return 1, {handler = function() end}", WD_EINVAL,
          "cannot send function (at payload[2].handler)");
  refused(*state, "return print", WD_EINVAL,
          "cannot send function (at payload[1])");
}

static void test_codec_function_deep_inside_names_full_path(void **state) {
  refused(*state, "return {a = {b = {1, 2, {['x y'] = {[7] = {f = print}}}}}}",
          WD_EINVAL,
          "cannot send function (at payload[1].a.b[3][\"x y\"][7].f)");
  refused(*state, "return errors.new{message = 'm', details = {cb = print}}",
          WD_EINVAL, "cannot send function (at payload[1]:details().cb)");
}

static void test_codec_function_as_key_is_refused(void **state) {
  refused(*state, "return {sub = {[print] = 1}}", WD_EINVAL,
          "cannot send function as a table key (at payload[1].sub)");
}

static void test_codec_coroutine_is_refused(void **state) {
  refused(*state, "return {co = coroutine.create(print)}", WD_EINVAL,
          "cannot send thread (at payload[1].co)");
}

static void test_codec_userdata_is_refused_naming_its_type(void **state) {
  refused(*state, "return true, {io.stdout}", WD_EINVAL,
          "cannot send userdata 'FILE*' (at payload[2][1])");
}

static void test_codec_light_userdata_is_refused(void **state) {
  lua_State *L = *state;
  wd_buf b;
  char err[128];
  wd_buf_init(&b, 0);
  lua_pushlightuserdata(L, &b);
  assert_int_equal(wd_lcodec_encode(L, -1, 1, &b, 0, err, sizeof err),
                   WD_EINVAL);
  assert_string_equal(err, "cannot send light userdata (at payload[1])");
  assert_int_equal(b.len, 0);
  lua_pop(L, 1);
  wd_buf_close(&b);
}

static void test_codec_refusal_leaves_buffer_and_stack_unchanged(void **state) {
  lua_State *L = *state;
  wd_buf b;
  int top = lua_gettop(L);
  wd_buf_init(&b, 0);
  wd_buf_put(&b, "abc", 3);
  assert_int_equal(encode_code(L, "return {1, 2, {3, print}}", &b, 0, NULL, 0),
                   WD_EINVAL);
  assert_int_equal(b.len, 3);
  assert_memory_equal(b.p, "abc", 3);
  assert_int_equal(b.err, 0);
  assert_int_equal(lua_gettop(L), top);
  wd_buf_close(&b);
}

static void test_codec_depth_128_passes_and_129_is_refused(void **state) {
  lua_State *L = *state;
#define NEST "local t = 'leaf' for i = 1, %d do t = {t} end return t"
#define NEST_CYCLE                                                             \
  "local r = {} local t = r for i = 1, %d do t[1] = {} t = t[1] end "          \
  "t[1] = r return r"
  char code[128], err[128];
  wd_buf b;
  int top = lua_gettop(L);

  wd_buf_init(&b, 0);
  snprintf(code, sizeof code, NEST, WD_CODEC_MAXDEPTH);
  assert_int_equal(encode_code(L, code, &b, 0, err, sizeof err), 1);
  assert_int_equal(wd_lcodec_decode(L, b.p, b.len), 1);
  lua_settop(L, top);
  snprintf(code, sizeof code, NEST, WD_CODEC_MAXDEPTH + 1);
  wd_buf_reset(&b);
  assert_int_equal(encode_code(L, code, &b, 0, err, sizeof err), WD_EINVAL);
  assert_string_equal(err, "payload nested too deeply");
  assert_int_equal(lua_gettop(L), top);
  /* A reference back to the root at level 129 adds no nesting. */
  snprintf(code, sizeof code, NEST_CYCLE, WD_CODEC_MAXDEPTH - 1);
  wd_buf_reset(&b);
  assert_int_equal(encode_code(L, code, &b, 0, err, sizeof err), 1);
  assert_int_equal(wd_lcodec_decode(L, b.p, b.len), 1);
  lua_settop(L, top);
  wd_buf_close(&b);
}

static void test_codec_decode_deeper_than_128_is_badframe(void **state) {
  lua_State *L = *state;
  uint8_t q[2 + 3 * 129 + 1];
  size_t n = 0;
  int top = lua_gettop(L), i;

  q[n++] = 0x10;
  q[n++] = 1;
  for (i = 0; i < 129; i++) { /* table with one array item, no pairs */
    q[n++] = 0x06;
    q[n++] = 1;
    q[n++] = 0;
  }
  q[n++] = 0x80;
  assert_int_equal(wd_lcodec_decode(L, q, n), WD_EBADFRAME);
  assert_int_equal(lua_gettop(L), top);
  /* Drop the outermost table: 128 levels decode. */
  q[3] = 0x10;
  q[4] = 1;
  assert_int_equal(wd_lcodec_decode(L, q + 3, n - 3), 1);
  lua_settop(L, top);
}

static void test_codec_size_limit_boundary(void **state) {
  lua_State *L = *state;
  static const char *const v = "return {string.rep('x', 1000), 1, 2}";
  char err[128];
  wd_buf b;
  size_t full;

  wd_buf_init(&b, 0);
  assert_int_equal(encode_code(L, v, &b, 0, err, sizeof err), 1);
  full = b.len;
  wd_buf_reset(&b);
  assert_int_equal(encode_code(L, v, &b, full, err, sizeof err), 1);
  assert_int_equal(b.len, full);
  wd_buf_reset(&b);
  assert_int_equal(encode_code(L, v, &b, full - 1, err, sizeof err),
                   WD_ETOOBIG);
  {
    char want[128];
    snprintf(want, sizeof want, "payload too large (%zu bytes, limit %zu)",
             full, full - 1);
    assert_string_equal(err, want);
  }
  assert_int_equal(b.len, 0);
  assert_int_equal(b.err, 0);
  wd_buf_close(&b);
}

static void test_codec_buffer_max_gives_etoobig(void **state) {
  lua_State *L = *state;
  char err[128];
  wd_buf b;
  wd_buf_init(&b, 64);
  assert_int_equal(
      encode_code(L, "return string.rep('x', 100)", &b, 0, err, sizeof err),
      WD_ETOOBIG);
  assert_int_equal(b.len, 0);
  assert_int_equal(b.err, 0);
  wd_buf_close(&b);
}

static void test_codec_sticky_buffer_error_is_returned(void **state) {
  lua_State *L = *state;
  char err[128];
  wd_buf b;
  wd_buf_init(&b, 0);
  b.err = WD_ENOMEM;
  lua_pushinteger(L, 1);
  assert_int_equal(wd_lcodec_encode(L, -1, 1, &b, 0, err, sizeof err),
                   WD_ENOMEM);
  assert_int_equal(wd_lcodec_encode(L, -1, -1, &b, 0, err, sizeof err),
                   WD_EINVAL);
  lua_pop(L, 1);
  wd_buf_close(&b);
}

/* Fail the n-th allocation of 'b' (wd_malloc and friends). */
static int fail_at, alloc_count;

static void *fail_realloc(void *p, size_t n) {
  if (++alloc_count == fail_at) return NULL;
  return realloc(p, n);
}

static void *fail_malloc(size_t n) {
  if (++alloc_count == fail_at) return NULL;
  return malloc(n);
}

static void test_codec_encode_oom_sweep_returns_enomem(void **state) {
  lua_State *L = *state;
  char err[128];
  wd_buf b;
  int r, top = lua_gettop(L);

  eval(L, "return {string.rep('a', 300), string.rep('b', 3000)}");
  for (fail_at = 1;; fail_at++) {
    alloc_count = 0;
    wd_buf_init(&b, 0);
    wd_replace_allocator(fail_malloc, fail_realloc, NULL);
    r = wd_lcodec_encode(L, -1, 1, &b, 0, err, sizeof err);
    wd_replace_allocator(NULL, NULL, NULL);
    if (r >= 0) {
      wd_buf_close(&b);
      break;
    }
    assert_int_equal(r, WD_ENOMEM);
    assert_string_equal(err, "out of memory");
    assert_int_equal(b.len, 0);
    wd_buf_close(&b);
  }
  assert_true(fail_at > 1);
  lua_settop(L, top);
}

/* }====== */

/* {====== Hostile input ====== */

static void test_codec_every_truncation_is_badframe(void **state) {
  lua_State *L = *state;
  wd_buf b;
  size_t n;
  int top = lua_gettop(L);

  wd_buf_init(&b, 0);
  assert_true(encode_code(L, rich, &b, 0, NULL, 0) == 5);
  assert_int_equal(wd_lcodec_decode(L, b.p, b.len), 5);
  lua_settop(L, top);
  for (n = 0; n < b.len; n++) {
    assert_int_equal(wd_lcodec_decode(L, b.p, n), WD_EBADFRAME);
    assert_int_equal(lua_gettop(L), top);
  }
  wd_buf_close(&b);
}

static void test_codec_trailing_byte_is_badframe(void **state) {
  lua_State *L = *state;
  wd_buf b;
  int top = lua_gettop(L);
  wd_buf_init(&b, 0);
  assert_int_equal(encode_code(L, rich, &b, 0, NULL, 0), 5);
  wd_buf_put_u8(&b, 0x00);
  assert_int_equal(wd_lcodec_decode(L, b.p, b.len), WD_EBADFRAME);
  assert_int_equal(lua_gettop(L), top);
  wd_buf_close(&b);
}

static void test_codec_every_byte_corruption_is_safe(void **state) {
  lua_State *L = *state;
  static const uint8_t flips[] = { 0x00, 0x01, 0x02, 0x06, 0x07,
                                   0x08, 0x7f, 0x80, 0xff };
  wd_buf b;
  uint8_t *p;
  size_t i, j;
  int top = lua_gettop(L), r, ok = 0, bad = 0, v;

  wd_buf_init(&b, 0);
  assert_int_equal(encode_code(L, rich, &b, 0, NULL, 0), 5);
  p = malloc(b.len);
  assert_non_null(p);
  for (i = 0; i < b.len; i++) {
    for (v = 0; v < 256 + (int)sizeof flips; v++) {
      memcpy(p, b.p, b.len);
      /* Every value at this byte, plus the interesting tags again. */
      p[i] = v < 256 ? (uint8_t)v : flips[v - 256];
      r = wd_lcodec_decode(L, p, b.len);
      if (r >= 0) {
        assert_int_equal(lua_gettop(L), top + r);
        ok++;
      } else {
        assert_int_equal(r, WD_EBADFRAME);
        assert_int_equal(lua_gettop(L), top);
        bad++;
      }
      lua_settop(L, top);
    }
    for (j = 0; j < 8; j++) { /* bit flips */
      memcpy(p, b.p, b.len);
      p[i] ^= (uint8_t)(1u << j);
      r = wd_lcodec_decode(L, p, b.len);
      assert_true(r == WD_EBADFRAME || r >= 0);
      lua_settop(L, top);
    }
  }
  assert_true(ok > 0 && bad > 0);
  free(p);
  wd_buf_close(&b);
}

/* Decode hand-written bytes, expect 'want'. */
static void expect(lua_State *L, const uint8_t *p, size_t n, int want) {
  int top = lua_gettop(L);
  assert_int_equal(wd_lcodec_decode(L, p, n), want);
  if (want < 0)
    assert_int_equal(lua_gettop(L), top);
  else
    assert_int_equal(lua_gettop(L), top + want);
  lua_settop(L, top);
}

static void test_codec_huge_declared_counts_are_badframe(void **state) {
  lua_State *L = *state;
  /* 2^63 values announced. */
  static const uint8_t count[] = { 0x10, 0xff, 0xff, 0xff, 0xff, 0xff,
                                   0xff, 0xff, 0xff, 0x7f, 0x80 };
  /* One value announced, 3 bytes left, but the header says 5. */
  static const uint8_t few[] = { 0x10, 0x05, 0x80, 0x80, 0x80 };
  /* String of length 2^32 with 2 bytes. */
  static const uint8_t str[] = { 0x10, 0x01, 0x05, 0x80, 0x80,
                                 0x80, 0x80, 0x10, 'a',  'b' };
  /* Table announcing 2^31 array items. */
  static const uint8_t arr[] = { 0x10, 0x01, 0x06, 0x80, 0x80,
                                 0x80, 0x80, 0x08, 0x00, 0x80 };
  /* Table announcing 1 array item and 100 hash pairs. */
  static const uint8_t hash[] = { 0x10, 0x01, 0x06, 0x01, 0x64, 0x80, 0x80 };
  /* Nested claims: each fits alone, together they exceed the input. */
  static const uint8_t nested[] = { 0x10, 0x01, 0x06, 0x04, 0x00, 0x06,
                                    0x04, 0x00, 0x80, 0x80, 0x80, 0x80 };
  /* 11-byte varint. */
  static const uint8_t longv[] = { 0x10, 0x01, 0x03, 0xff, 0xff, 0xff, 0xff,
                                   0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01 };
  /* 10-byte varint whose last byte carries bits past 2^64. */
  static const uint8_t ovf[] = { 0x10, 0x01, 0x03, 0xff, 0xff, 0xff, 0xff,
                                 0xff, 0xff, 0xff, 0xff, 0xff, 0x02 };
  /* 10-byte varint at the maximum: fine (zigzag of mininteger). */
  static const uint8_t maxv[] = { 0x10, 0x01, 0x03, 0xff, 0xff, 0xff, 0xff,
                                  0xff, 0xff, 0xff, 0xff, 0xff, 0x01 };

  expect(L, count, sizeof count, WD_EBADFRAME);
  expect(L, few, sizeof few, WD_EBADFRAME);
  expect(L, str, sizeof str, WD_EBADFRAME);
  expect(L, arr, sizeof arr, WD_EBADFRAME);
  expect(L, hash, sizeof hash, WD_EBADFRAME);
  expect(L, nested, sizeof nested, WD_EBADFRAME);
  expect(L, longv, sizeof longv, WD_EBADFRAME);
  expect(L, ovf, sizeof ovf, WD_EBADFRAME);
  expect(L, maxv, sizeof maxv, 1);
  assert_int_equal(wd_codec_count(count, sizeof count), WD_EBADFRAME);
}

static void test_codec_bad_references_are_badframe(void **state) {
  lua_State *L = *state;
  /* A reference without the header flag. */
  static const uint8_t noflag[] = { 0x10, 0x02, 0x06, 0x00, 0x00, 0x07, 0x00 };
  /* A reference to an object not yet numbered. */
  static const uint8_t ahead[] = { 0x11, 0x02, 0x06, 0x00, 0x00, 0x07, 0x01 };
  /* A good reference. */
  static const uint8_t good[] = { 0x11, 0x02, 0x06, 0x00, 0x00, 0x07, 0x00 };
  /* An error object whose details are a reference to itself. */
  static const uint8_t selfdet[] = { 0x11, 0x01, 0x08, 0x20, 0x21,
                                     'm',  0x00, 0x07, 0x00, 0x00 };
  expect(L, noflag, sizeof noflag, WD_EBADFRAME);
  expect(L, ahead, sizeof ahead, WD_EBADFRAME);
  expect(L, good, sizeof good, 2);
  expect(L, selfdet, sizeof selfdet, WD_EBADFRAME);
}

static void test_codec_invalid_keys_and_tags_are_badframe(void **state) {
  lua_State *L = *state;
  static const uint8_t nilkey[] = { 0x10, 0x01, 0x06, 0x00, 0x01, 0x00, 0x80 };
  static const uint8_t nankey[] = { 0x10, 0x01, 0x06, 0x00, 0x01,
                                    0x04, 0x00, 0x00, 0x00, 0x00,
                                    0x00, 0x00, 0xf8, 0x7f, 0x80 };
  static const uint8_t nilval[] = { 0x10, 0x01, 0x06, 0x00, 0x01, 0x80, 0x00 };
  static const uint8_t nilarr[] = { 0x10, 0x01, 0x06, 0x01, 0x00, 0x00 };
  static const uint8_t badtag[] = { 0x10, 0x01, 0x09 };
  static const uint8_t badver[] = { 0x20, 0x01, 0x80 };
  static const uint8_t errkind[] = { 0x10, 0x01, 0x08, 0x80,
                                     0x20, 0x00, 0x00, 0x00 };
  static const uint8_t floatkey1[] = { 0x10, 0x01, 0x06, 0x00, 0x01,
                                       0x04, 0x00, 0x00, 0x00, 0x00,
                                       0x00, 0x00, 0xf0, 0x3f, 0x80 };
  expect(L, nilkey, sizeof nilkey, WD_EBADFRAME);
  expect(L, nankey, sizeof nankey, WD_EBADFRAME);
  expect(L, nilval, sizeof nilval, WD_EBADFRAME);
  expect(L, nilarr, sizeof nilarr, WD_EBADFRAME);
  expect(L, badtag, sizeof badtag, WD_EBADFRAME);
  expect(L, badver, sizeof badver, WD_EBADFRAME);
  expect(L, errkind, sizeof errkind, WD_EBADFRAME);
  /* A float key 1.0 is stored as integer 1, as Lua itself does. */
  expect(L, floatkey1, sizeof floatkey1, 1);
  expect(L, NULL, 0, WD_EBADFRAME);
}

static void test_codec_count_reads_header_only(void **state) {
  static const uint8_t two[] = { 0x10, 0x02, 0x80, 0x81 };
  static const uint8_t lies[] = { 0x10, 0x02, 0x80, 0x09 };
  (void)state;
  assert_int_equal(wd_codec_count(two, sizeof two), 2);
  assert_int_equal(wd_codec_count(lies, sizeof lies), 2);
  assert_int_equal(wd_codec_count(two, 1), WD_EBADFRAME);
  assert_int_equal(wd_codec_count(two, 3), WD_EBADFRAME);
  assert_int_equal(wd_codec_count(NULL, 0), WD_EBADFRAME);
}

/* Allocator with a byte quota, as each actor has. */
static size_t quota_used, quota_max;

static void *quota_alloc(void *ud, void *p, size_t osize, size_t nsize) {
  (void)ud;
  if (p == NULL) osize = 0;
  if (nsize == 0) {
    quota_used -= osize;
    free(p);
    return NULL;
  }
  if (nsize > osize && quota_used + (nsize - osize) > quota_max) return NULL;
  p = realloc(p, nsize);
  if (p != NULL) quota_used += nsize - osize;
  return p;
}

static int decode_cb(lua_State *L) {
  size_t n;
  const char *s = lua_tolstring(L, 1, &n);
  return wd_lcodec_decode(L, (const uint8_t *)s, n);
}

static void test_codec_decode_over_quota_raises_memory_error(void **state) {
  lua_State *L = *state, *Q;
  wd_buf b;
  int r;

  wd_buf_init(&b, 0);
  assert_int_equal(encode_code(L,
                               "local t = {} for i = 1, 50000 do"
                               " t[i] = {i} end return t",
                               &b, 0, NULL, 0),
                   1);
  quota_used = 0;
  quota_max = 1 << 20;
  Q = lua_newstate(quota_alloc, NULL);
  assert_non_null(Q);
  lua_pushcfunction(Q, decode_cb);
  lua_pushlstring(Q, (const char *)b.p, b.len);
  r = lua_pcall(Q, 1, 0, 0);
  assert_int_equal(r, LUA_ERRMEM);
  lua_close(Q);
  assert_int_equal(quota_used, 0);
  wd_buf_close(&b);
}

/* }====== */

/* {====== Seed corpus for tests/fuzz ====== */

static void write_seed(const char *dir, const char *name, const wd_buf *b) {
  char path[512];
  FILE *f;
  snprintf(path, sizeof path, "%s/%s", dir, name);
  f = fopen(path, "wb");
  assert_non_null(f);
  assert_int_equal(fwrite(b->p, 1, b->len, f), b->len);
  fclose(f);
}

static void test_codec_seed_corpus_encodes(void **state) {
  static const char *const seeds[][2] = {
    { "scalars", "return nil, true, false, 0, -1, 300, 1.5, 'hi'" },
    { "string_long", "return string.rep('abc', 30)" },
    { "array", "return {1, 2, 3, 'four', {5}}" },
    { "hash", "return {topic = 'x', n = 1, f = 0.25, [true] = false}" },
    { "cycle", "local t = {} t.self = t t[t] = t return t" },
    { "shared", "local a = {1} return {a, a, k = a}, a" },
    { "error", "return errors.new{message = 'm', kind = 'NotFound',"
               " retryable = true, details = {id = 1}}" },
    { "error_self", "local d = {} local e = errors.new{message = 'x',"
                    " details = d} d.e = e return e" },
    { "rich", NULL },
  };
  lua_State *L = *state;
  const char *dir = getenv("WD_WRITE_CORPUS");
  wd_buf b;
  size_t i;

  wd_buf_init(&b, 0);
  for (i = 0; i < WD_COUNTOF(seeds); i++) {
    const char *code = seeds[i][1] != NULL ? seeds[i][1] : rich;
    wd_buf_reset(&b);
    assert_true(encode_code(L, code, &b, 0, NULL, 0) >= 0);
    assert_true(wd_lcodec_decode(L, b.p, b.len) >= 0);
    lua_settop(L, 0);
    if (dir != NULL) write_seed(dir, seeds[i][0], &b);
  }
  wd_buf_close(&b);
}

/* {====== Writing by hand ====== */

/* The hand writer produces exactly the bytes wd_lcodec_encode does. */
static void test_codec_hand_writer_matches_encoder(void **state) {
  lua_State *L = *state;
  static const int64_t ints[] = { 0,    1,       127,       128,      -1,
                                  -300, 1 << 20, INT64_MAX, INT64_MIN };
  wd_buf a, b;
  char err[128], code[128];
  size_t i;
  wd_buf_init(&a, 0);
  wd_buf_init(&b, 0);
  for (i = 0; i < sizeof ints / sizeof ints[0]; i++) {
    wd_buf_reset(&a);
    wd_buf_reset(&b);
    snprintf(code, sizeof code,
             "return nil, true, false, math.tointeger(%s%lld), 2.5, 'short', "
             "string.rep('x', 40)",
             ints[i] == INT64_MIN ? "-9223372036854775807 - " : "",
             ints[i] == INT64_MIN ? 1LL : (long long)ints[i]);
    assert_int_equal(encode_code(L, code, &a, 0, err, sizeof err), 7);
    wd_codec_put_header(&b, 7);
    wd_codec_put_nil(&b);
    wd_codec_put_bool(&b, 1);
    wd_codec_put_bool(&b, 0);
    wd_codec_put_int(&b, ints[i]);
    wd_codec_put_num(&b, 2.5);
    wd_codec_put_str(&b, "short", 5);
    wd_codec_put_str(&b, "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx", 40);
    assert_int_equal(a.len, b.len);
    assert_memory_equal(a.p, b.p, a.len);
  }
  /* A table with one pair and an error object (retryable false). */
  wd_buf_reset(&a);
  wd_buf_reset(&b);
  /* (An error made in C, as the kills make it: no details, no stack.) */
  lua_createtable(L, 0, 1);
  wd_lerr_push(L, "NotFound", "gone", 0);
  lua_setfield(L, -2, "k");
  assert_int_equal(
      wd_lcodec_encode(L, lua_gettop(L), 1, &a, 0, err, sizeof err), 1);
  lua_pop(L, 1);
  wd_codec_put_header(&b, 1);
  wd_codec_put_table(&b, 0, 1);
  wd_codec_put_str(&b, "k", 1);
  wd_codec_put_error(&b, "NotFound", "gone", 0);
  assert_int_equal(a.len, b.len);
  assert_memory_equal(a.p, b.p, a.len);
  /* And it decodes to the same error. */
  assert_int_equal(wd_lcodec_decode(L, b.p, b.len), 1);
  check(L, 1,
        "local t = ...; assert(t.k:kind() == 'NotFound' and t.k:message() == "
        "'gone' and t.k:retryable() == false)");
  wd_buf_close(&a);
  wd_buf_close(&b);
}

/* The bytes of an event as runtime/life.c writes them: {kind, from, at,
** result = {} | {<rkey> = value}} or, with 'deadline', {kind, from, at,
** deadline}. 'put' writes the value (NULL: an empty result). */
typedef void (*put_fn)(wd_buf *b);
static void put_true(wd_buf *b) { wd_codec_put_bool(b, 1); }
static void put_false(wd_buf *b) { wd_codec_put_bool(b, 0); }
static void put_zero(wd_buf *b) { wd_codec_put_int(b, 0); }
static void put_neg(wd_buf *b) { wd_codec_put_int(b, -5); }
static void put_big(wd_buf *b) { wd_codec_put_int(b, INT64_MIN); }
static void put_flt(wd_buf *b) { wd_codec_put_num(b, 2.5); }
static void put_nan(wd_buf *b) { wd_codec_put_num(b, 0.0 / 0.0); }
static void put_str(wd_buf *b) { wd_codec_put_str(b, "done", 4); }
static void put_long(wd_buf *b) {
  wd_codec_put_str(b, "a string longer than thirty-one bytes", 37);
}
static void put_err(wd_buf *b) { wd_codec_put_error(b, "Internal", "x", 0); }

static void event_bytes(wd_buf *b, const char *kind, const char *from,
                        const char *rkey, put_fn put, int64_t deadline) {
  wd_buf_reset(b);
  wd_codec_put_header(b, 1);
  wd_codec_put_table(b, 0, 4);
  wd_codec_put_str(b, "kind", 4);
  wd_codec_put_str(b, kind, strlen(kind));
  wd_codec_put_str(b, "from", 4);
  wd_codec_put_str(b, from, strlen(from));
  wd_codec_put_str(b, "at", 2);
  wd_codec_put_int(b, 1763800000);
  if (deadline) {
    wd_codec_put_str(b, "deadline", 8);
    wd_codec_put_int(b, deadline);
    return;
  }
  wd_codec_put_str(b, "result", 6);
  wd_codec_put_table(b, 0, put != NULL);
  if (put == NULL) return;
  wd_codec_put_str(b, rkey, strlen(rkey));
  put(b);
}

/* Decode p[0..n) with both readers: the same result code, and the same
** values (deep equality, integers and floats apart, NaN equal to NaN). */
static void both_readers_agree(lua_State *L, const uint8_t *p, size_t n) {
  int top = lua_gettop(L), r1, r2;
  r1 = wd_lcodec_decode(L, p, n);
  r2 = wd_lcodec_decode_event(L, p, n);
  assert_int_equal(r1, r2);
  if (r1 <= 0) {
    assert_int_equal(lua_gettop(L), top);
    return;
  }
  assert_int_equal(r1, 1);
  check(L, 2,
        "local a, b = ...\n"
        "local function eq(x, y)\n"
        "  if type(x) ~= type(y) or math.type(x) ~= math.type(y) then\n"
        "    return false end\n"
        "  if type(x) == 'number' and x ~= x then return y ~= y end\n"
        "  if type(x) ~= 'table' then\n"
        "    if errors.is(x) then return tostring(x) == tostring(y) end\n"
        "    return x == y end\n"
        "  for k, v in pairs(x) do if not eq(v, y[k]) then return false end end\n"
        "  for k in pairs(y) do if x[k] == nil then return false end end\n"
        "  return true\n"
        "end\n"
        "assert(eq(a, b), 'the event readers disagree')");
  assert_int_equal(lua_gettop(L), top);
}

/* wd_codec_put_event_head writes what the separate writers write, with
** short and long strings and small, large and negative times. */
static void test_codec_event_head_matches_writers(void **state) {
  static const char *const strs[] = { "pid.exit", "{app:a|0x00012}",
                                      "a string longer than thirty-one bytes",
                                      "" };
  static const int64_t ats[] = { 0, 127, 128, 1763800000, INT64_MAX, -1 };
  wd_buf a, b;
  size_t k, f, t;
  (void)state;
  wd_buf_init(&a, 0);
  wd_buf_init(&b, 0);
  for (k = 0; k < 4; k++)
    for (f = 0; f < 4; f++)
      for (t = 0; t < sizeof ats / sizeof ats[0]; t++) {
        wd_buf_reset(&a);
        wd_buf_reset(&b);
        wd_codec_put_event_head(&a, strs[k], strlen(strs[k]), strs[f],
                                strlen(strs[f]), ats[t]);
        wd_codec_put_header(&b, 1);
        wd_codec_put_table(&b, 0, 4);
        wd_codec_put_str(&b, "kind", 4);
        wd_codec_put_str(&b, strs[k], strlen(strs[k]));
        wd_codec_put_str(&b, "from", 4);
        wd_codec_put_str(&b, strs[f], strlen(strs[f]));
        wd_codec_put_str(&b, "at", 2);
        wd_codec_put_int(&b, ats[t]);
        assert_int_equal(a.len, b.len);
        assert_memory_equal(a.p, b.p, a.len);
      }
  wd_buf_close(&a);
  wd_buf_close(&b);
}

/* The event reader (wd_lcodec_decode_event) gives what the general decoder
** gives, for every value an event can carry, for layouts it leaves to the
** decoder, and for every truncation and a trailing byte. */
static void test_codec_event_reader_matches_decoder(void **state) {
  lua_State *L = *state;
  static const put_fn puts[] = { NULL,    put_true, put_false, put_zero,
                                 put_neg, put_big,  put_flt,   put_nan,
                                 put_str, put_long, put_err };
  static const char *const kinds[] = { "pid.exit", "pid.link.down",
                                       "pid.custom" };
  const char *pid = "{app:a|0x00012}";
  const char *longpid = "{a-host-name-that-is-rather-long|0x00012}";
  wd_buf b;
  size_t i, k, n;
  wd_buf_init(&b, 0);
  for (k = 0; k < 3; k++)
    for (i = 0; i < sizeof puts / sizeof puts[0]; i++) {
      event_bytes(&b, kinds[k], pid, "value", puts[i], 0);
      both_readers_agree(L, b.p, b.len);
      event_bytes(&b, kinds[k], pid, "error", puts[i], 0);
      both_readers_agree(L, b.p, b.len);
      event_bytes(&b, kinds[k], longpid, "value", puts[i], 0);
      both_readers_agree(L, b.p, b.len);
    }
  event_bytes(&b, "pid.cancel", pid, NULL, NULL, 1763800005);
  both_readers_agree(L, b.p, b.len);
  /* Every prefix of an event, and the event with a byte more. */
  event_bytes(&b, "pid.exit", pid, "value", put_str, 0);
  for (n = 0; n < b.len; n++) both_readers_agree(L, b.p, n);
  wd_buf_put_u8(&b, 0);
  both_readers_agree(L, b.p, b.len);
  /* Keys in another order: left to the decoder. */
  wd_buf_reset(&b);
  wd_codec_put_header(&b, 1);
  wd_codec_put_table(&b, 0, 4);
  wd_codec_put_str(&b, "from", 4);
  wd_codec_put_str(&b, pid, strlen(pid));
  wd_codec_put_str(&b, "kind", 4);
  wd_codec_put_str(&b, "pid.exit", 8);
  wd_codec_put_str(&b, "at", 2);
  wd_codec_put_int(&b, 1);
  wd_codec_put_str(&b, "result", 6);
  wd_codec_put_table(&b, 0, 0);
  both_readers_agree(L, b.p, b.len);
  wd_buf_close(&b);
}

/* wd_codec_put_event writes the event the separate writers write, for
** each kind of value, an error made in C, no value and a cancel; past
** out->max it fails with WD_ETOOBIG and leaves 'out' empty, no error set. */
static void test_codec_put_event_matches_writers(void **state) {
  static const put_fn puts[] = { put_true, put_neg, put_flt, put_long,
                                 put_err };
  wd_codec_val v[5];
  const char *pid = "{app:a|0x00012}";
  const char *s = "a string longer than thirty-one bytes";
  wd_buf a, b;
  size_t i;
  (void)state;
  memset(v, 0, sizeof v);
  v[0].type = WD_CODEC_V_BOOL;
  v[0].b = 1;
  v[1].type = WD_CODEC_V_INT;
  v[1].i = -5;
  v[2].type = WD_CODEC_V_NUM;
  v[2].n = 2.5;
  v[3].type = WD_CODEC_V_STR;
  v[3].s = s;
  v[3].len = strlen(s);
  v[4].type = WD_CODEC_V_ERR;
  v[4].ekind = "Internal";
  v[4].s = "x";
  wd_buf_init(&a, 0);
  wd_buf_init(&b, 0);
  for (i = 0; i < 5; i++) {
    wd_buf_put_u8(&a, 0xee); /* reset first: this byte goes */
    assert_int_equal(wd_codec_put_event(&a, "pid.exit", pid, strlen(pid),
                                        1763800000, 0, i != 4, &v[i]),
                     0);
    event_bytes(&b, "pid.exit", pid, i != 4 ? "value" : "error", puts[i], 0);
    assert_int_equal(a.len, b.len);
    assert_memory_equal(a.p, b.p, a.len);
  }
  assert_int_equal(wd_codec_put_event(&a, "pid.link.down", pid, strlen(pid),
                                      1763800000, 0, 1, NULL),
                   0);
  event_bytes(&b, "pid.link.down", pid, "value", NULL, 0);
  assert_int_equal(a.len, b.len);
  assert_memory_equal(a.p, b.p, a.len);
  assert_int_equal(wd_codec_put_event(&a, "pid.cancel", pid, strlen(pid),
                                      1763800000, 1763800005000000000u, 1,
                                      NULL),
                   0);
  event_bytes(&b, "pid.cancel", pid, NULL, NULL, 1763800005);
  assert_int_equal(a.len, b.len);
  assert_memory_equal(a.p, b.p, a.len);
  a.max = 16;
  assert_int_equal(wd_codec_put_event(&a, "pid.exit", pid, strlen(pid),
                                      1763800000, 0, 1, &v[3]),
                   WD_ETOOBIG);
  assert_int_equal(a.len, 0);
  assert_int_equal(a.err, 0);
  wd_buf_close(&a);
  wd_buf_close(&b);
}

/* }====== */

#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)

int main(void) {
  const struct CMUnitTest tests[] = {
    T(test_codec_scalars_round_trip_exactly),
    T(test_codec_integer_and_float_are_kept_apart),
    T(test_codec_nested_tables_round_trip),
    T(test_codec_cycle_is_preserved),
    T(test_codec_shared_refs_decode_to_same_table),
    T(test_codec_many_shared_tables_keep_sharing),
    T(test_codec_table_keys_of_every_type_round_trip),
    T(test_codec_array_prefix_wherever_lua_keeps_it),
    T(test_codec_error_object_round_trips),
    T(test_codec_error_in_its_own_details_is_preserved),
    T(test_codec_metatable_is_not_copied),
    T(test_codec_zero_values_encode_header_only),
    T(test_codec_encode_appends_after_existing_bytes),
    T(test_codec_function_is_refused_with_path),
    T(test_codec_function_deep_inside_names_full_path),
    T(test_codec_function_as_key_is_refused),
    T(test_codec_coroutine_is_refused),
    T(test_codec_userdata_is_refused_naming_its_type),
    T(test_codec_light_userdata_is_refused),
    T(test_codec_refusal_leaves_buffer_and_stack_unchanged),
    T(test_codec_depth_128_passes_and_129_is_refused),
    T(test_codec_decode_deeper_than_128_is_badframe),
    T(test_codec_size_limit_boundary),
    T(test_codec_buffer_max_gives_etoobig),
    T(test_codec_sticky_buffer_error_is_returned),
    T(test_codec_encode_oom_sweep_returns_enomem),
    T(test_codec_every_truncation_is_badframe),
    T(test_codec_trailing_byte_is_badframe),
    T(test_codec_every_byte_corruption_is_safe),
    T(test_codec_huge_declared_counts_are_badframe),
    T(test_codec_bad_references_are_badframe),
    T(test_codec_invalid_keys_and_tags_are_badframe),
    T(test_codec_count_reads_header_only),
    T(test_codec_decode_over_quota_raises_memory_error),
    T(test_codec_seed_corpus_encodes),
    T(test_codec_hand_writer_matches_encoder),
    T(test_codec_event_reader_matches_decoder),
    T(test_codec_event_head_matches_writers),
    T(test_codec_put_event_matches_writers),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
