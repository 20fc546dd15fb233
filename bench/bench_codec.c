/*
** bench/bench_codec.c
** What the payload codec costs per message, without the rest of a send:
** wd_lcodec_encode of one value from one state and wd_lcodec_decode of
** its bytes into another, for W2's table ({seq = i, tag = "ping",
** xs = {1, 2, 3}}) and a few other shapes. Prints ns per encode and per
** decode (the best of 5 runs of N each; plain Lua states with the C
** allocator, not an actor's, so a little slower than in a host). Not run
** by bench/run.sh. Build against a built tree (here build-bench/):
**   cc -O2 -Iinclude -Iruntime -Iruntime/lua $(pkg-config --cflags lua5.4) \
**     bench/bench_codec.c build-bench/libwd_lua.a build-bench/libwd_runtime.a \
**     build-bench/libwd_policy.a build-bench/libwd_base.a \
**     $(pkg-config --variable=libdir lua5.4)/liblua5.4.a -luv -lsodium -lm \
**     -ldl -o /tmp/bench_codec && /tmp/bench_codec [N]
*/
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include <lauxlib.h>
#include <lua.h>
#include <lualib.h>

#include "ward/wd_buf.h"
#include "lcodec.h"

static double now(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static const struct {
  const char *name, *code;
} shapes[] = {
  { "W2 table", "return {seq = 12345, tag = 'ping', xs = {1, 2, 3}}" },
  { "integer", "return 12345" },
  { "array of 16", "local t = {} for i = 1, 16 do t[i] = i end return t" },
  { "record of 8",
    "return {a = 1, b = 'two', c = 3.5, d = true, e = 5, f = 'six', g = 7,"
    " h = {}}" },
};

int main(int argc, char **argv) {
  int n = argc > 1 ? atoi(argv[1]) : 1000000, i, k, run, r = 0;
  lua_State *L = luaL_newstate(), *R = luaL_newstate();
  wd_buf b;
  char err[256];
  if (L == NULL || R == NULL || n <= 0) return 1;
  wd_buf_init(&b, 0);
  for (k = 0; k < (int)(sizeof shapes / sizeof shapes[0]); k++) {
    double best_e = 1e9, best_d = 1e9, t0, t1, t2;
    lua_settop(L, 0);
    if (luaL_dostring(L, shapes[k].code) != LUA_OK) return 1;
    for (run = 0; run < 5; run++) {
      t0 = now();
      for (i = 0; i < n; i++) {
        wd_buf_reset(&b);
        r = wd_lcodec_encode(L, 1, 1, &b, 0, err, sizeof err);
      }
      t1 = now();
      for (i = 0; i < n && r == 1; i++) {
        r = wd_lcodec_decode(R, b.p, b.len);
        lua_settop(R, 0);
      }
      t2 = now();
      if (r != 1) {
        fprintf(stderr, "%s: %d %s\n", shapes[k].name, r, err);
        return 1;
      }
      if (t1 - t0 < best_e) best_e = t1 - t0;
      if (t2 - t1 < best_d) best_d = t2 - t1;
    }
    printf("%-12s %3zu bytes  encode %6.1f ns  decode %6.1f ns\n",
           shapes[k].name, b.len, best_e / n * 1e9, best_d / n * 1e9);
  }
  wd_buf_close(&b);
  lua_close(L);
  lua_close(R);
  return 0;
}
