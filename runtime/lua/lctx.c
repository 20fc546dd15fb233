/*
** runtime/lua/lctx.c
** The ctx module: the context values a process inherited from its
** spawner (SpawnBuilder:with_context), read-only.
** Runs in: host (sandboxed).
*/
#include "lvm_int.h"
#include "lcodec.h"

/* ctx.get(key) -> the inherited context value, or nil */
static int ctx_get(lua_State *L) {
  actor *a = ACTOR(L);
  luaL_checkany(L, 1);
  if (a->c.ctxlen == 0 || wd_lcodec_decode(L, a->c.ctx, a->c.ctxlen) != 1 ||
      !lua_istable(L, -1)) {
    lua_pushnil(L);
    return 1;
  }
  lua_pushvalue(L, 1);
  lua_rawget(L, -2);
  return 1;
}

/* ctx.all() -> a copy of every context value */
static int ctx_all(lua_State *L) {
  actor *a = ACTOR(L);
  if (a->c.ctxlen == 0 || wd_lcodec_decode(L, a->c.ctx, a->c.ctxlen) != 1 ||
      !lua_istable(L, -1))
    lua_newtable(L);
  return 1;
}

int luaopen_ward_ctx(lua_State *L) {
  actor *a = wd__env_actor_of(L);
  lua_createtable(L, 0, 2);
  lua_pushlightuserdata(L, a);
  lua_pushcclosure(L, ctx_get, 1);
  lua_setfield(L, -2, "get");
  lua_pushlightuserdata(L, a);
  lua_pushcclosure(L, ctx_all, 1);
  lua_setfield(L, -2, "all");
  return 1;
}
