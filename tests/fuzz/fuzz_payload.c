/*
** tests/fuzz/fuzz_payload.c
** libFuzzer target for the payload decoder: arbitrary bytes must decode or
** fail with WD_EBADFRAME, leaving the stack balanced; whatever decodes must
** encode again and decode to as many values; the event reader
** (wd_lcodec_decode_event) must agree with the decoder. Seeds:
** corpus/payload/ (written by WD_WRITE_CORPUS=<dir> test_codec; event_*
** by hand, in the layout wd_codec_put_event writes). Sources: run_short.sh.
** Runs in: host (sandboxed).
*/
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include <lauxlib.h>
#include <lua.h>

#include "ward/wd_buf.h"
#include "ward/wd_common.h"
#include "../../runtime/lua/lcodec.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static lua_State *L;
static wd_buf out;

/* Decode the string argument (with the event reader if the second
** argument is true); returns the result code, then the values. Runs under
** lua_pcall so a memory error cannot escape. */
static int decode(lua_State *S) {
  size_t n;
  const char *p = lua_tolstring(S, 1, &n);
  int ev = lua_toboolean(S, 2), r;
  lua_settop(S, 1);
  r = ev ? wd_lcodec_decode_event(S, (const uint8_t *)p, n)
         : wd_lcodec_decode(S, (const uint8_t *)p, n);
  lua_pushinteger(S, r);
  lua_replace(S, 1);
  return lua_gettop(S);
}

/* The event reader agrees with the decoder: the same result code and
** as many values, which encode again. (Not to as many bytes: shared
** tables are written once and referred to after, so the length depends
** on the order a table's keys are visited in, which is the state's
** history; a fuzz run in one state found two equal values writing 2
** different lengths.) */
static void event_reader_agrees(const uint8_t *data, size_t size, int r,
                                size_t enclen) {
  char err[256];
  int n;
  lua_settop(L, 0);
  lua_pushcfunction(L, decode);
  lua_pushlstring(L, (const char *)data, size);
  lua_pushboolean(L, 1);
  if (lua_pcall(L, 2, LUA_MULTRET, 0) != LUA_OK) abort();
  n = lua_gettop(L) - 1;
  if (lua_tointeger(L, 1) != r || (r < 0 ? n != 0 : n != r)) abort();
  if (r <= 0) return;
  wd_buf_reset(&out);
  if (wd_lcodec_encode(L, 2, n, &out, 0, err, sizeof err) != n) abort();
  (void)enclen;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  char err[256];
  int top, r, n, i;

  if (L == NULL) {
    L = luaL_newstate();
    if (L == NULL) abort();
    wd_buf_init(&out, 0);
  }
  lua_settop(L, 0);
  lua_pushcfunction(L, decode);
  lua_pushlstring(L, (const char *)data, size);
  if (lua_pcall(L, 1, LUA_MULTRET, 0) != LUA_OK) abort();
  r = (int)lua_tointeger(L, 1);
  n = lua_gettop(L) - 1;
  if (r < 0) {
    if (r != WD_EBADFRAME || n != 0) abort();
    event_reader_agrees(data, size, r, 0);
    return 0;
  }
  if (r != n || wd_codec_count(data, size) != n) abort();

  /* Whatever decoded is a valid payload: it must encode again. */
  wd_buf_reset(&out);
  if (wd_lcodec_encode(L, 2, n, &out, 0, err, sizeof err) != n) abort();
  top = lua_gettop(L);
  lua_pushcfunction(L, decode);
  lua_pushlstring(L, (const char *)out.p, out.len);
  if (lua_pcall(L, 1, LUA_MULTRET, 0) != LUA_OK) abort();
  if (lua_tointeger(L, top + 1) != n || lua_gettop(L) != top + 1 + n) abort();
  /* Scalars survive exactly (tables and errors get new identities). */
  for (i = 0; i < n; i++) {
    int a = 2 + i, b = top + 2 + i;
    if (lua_type(L, a) != lua_type(L, b)) abort();
    if (lua_type(L, a) == LUA_TNUMBER &&
        lua_isinteger(L, a) != lua_isinteger(L, b))
      abort();
    if (lua_type(L, a) != LUA_TTABLE && lua_type(L, a) != LUA_TUSERDATA &&
        !lua_rawequal(L, a, b) && lua_tonumber(L, a) == lua_tonumber(L, a))
      abort(); /* NaN is the one value not equal to itself */
  }
  {
    size_t enclen = out.len;
    lua_settop(L, 0);
    /* 'out' is the re-encoding of the decoder's values. */
    event_reader_agrees(data, size, r, enclen);
  }
  lua_settop(L, 0);
  return 0;
}
