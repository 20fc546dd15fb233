/*
** runtime/lua/lsecurity.c
** The 'security' module: read-only views of the running process's actor
** and scope, which every process carries and its children inherit.
** Runs in: host (sandboxed).
*/
#include <string.h>

#include "lhost.h"

/* security.actor() -> {id = string} | nil  (a fresh copy each call) */
static int security_actor(lua_State *L) {
  actor *a = ACTOR(L);
  if (a->sec_actor == NULL || a->sec_actor[0] == '\0') {
    lua_pushnil(L);
    return 1;
  }
  lua_createtable(L, 0, 2);
  lua_pushstring(L, a->sec_actor);
  lua_setfield(L, -2, "id");
  lua_newtable(L);
  lua_setfield(L, -2, "meta");
  return 1;
}

/* security.scope() -> {name, ...} | nil  (a fresh copy each call) */
static int security_scope(lua_State *L) {
  actor *a = ACTOR(L);
  const char *p = a->sec_scope, *nl;
  int i = 0;
  if (p == NULL || p[0] == '\0') {
    lua_pushnil(L);
    return 1;
  }
  lua_newtable(L);
  for (;;) {
    nl = strchr(p, '\n');
    lua_pushlstring(L, p, nl ? (size_t)(nl - p) : strlen(p));
    lua_rawseti(L, -2, ++i);
    if (nl == NULL) break;
    p = nl + 1;
  }
  return 1;
}

int luaopen_ward_security(lua_State *L) {
  static const luaL_Reg funcs[] = {
    { "actor", security_actor },
    { "scope", security_scope },
    { NULL, NULL },
  };
  actor *a = wd__actor_of(L);
  int i;
  lua_createtable(L, 0, 4);
  for (i = 0; funcs[i].name; i++) {
    lua_pushlightuserdata(L, a);
    lua_pushcclosure(L, funcs[i].func, 1);
    lua_setfield(L, -2, funcs[i].name);
  }
  return 1;
}
