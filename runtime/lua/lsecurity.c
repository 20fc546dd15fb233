/*
** runtime/lua/lsecurity.c
** The 'security' module: read-only views of the running process's actor
** and scope (which every process carries and its children inherit), and
** security.can to ask the policy engine without acting.
** Runs in: host (sandboxed).
*/
#include <string.h>

#include "lvm_int.h"
#include "ward/wd_wire.h"

/* {====== Values between Lua and the policy engine ====== */

static void push_pval(lua_State *L, const wd_pval *v, int depth) {
  size_t i;
  luaL_checkstack(L, 4, "actor meta too deep");
  switch (v->type) {
    case WD_PVAL_BOOL:
      lua_pushboolean(L, v->u.b);
      break;
    case WD_PVAL_INT:
      lua_pushinteger(L, (lua_Integer)v->u.i);
      break;
    case WD_PVAL_NUM:
      lua_pushnumber(L, (lua_Number)v->u.n);
      break;
    case WD_PVAL_STR:
      lua_pushlstring(L, v->u.s.p, v->u.s.len);
      break;
    case WD_PVAL_LIST:
      lua_createtable(L, (int)v->u.list.n, 0);
      for (i = 0; i < v->u.list.n && depth < WD_PVAL_MAXDEPTH; i++) {
        push_pval(L, &v->u.list.v[i], depth + 1);
        lua_rawseti(L, -2, (lua_Integer)i + 1);
      }
      break;
    case WD_PVAL_MAP:
      lua_createtable(L, 0, (int)v->u.map.n);
      for (i = 0; i < v->u.map.n && depth < WD_PVAL_MAXDEPTH; i++) {
        push_pval(L, &v->u.map.v[i].val, depth + 1);
        lua_setfield(L, -2, v->u.map.v[i].key);
      }
      break;
    default:
      lua_pushnil(L);
  }
}

/* Write the Lua value at 'idx' as a wire pval: booleans, numbers,
** strings, arrays (1..n) and string-keyed tables; anything else is
** null. */
static void put_lua(lua_State *L, int idx, wd_buf *b, int depth) {
  idx = lua_absindex(L, idx);
  switch (lua_type(L, idx)) {
    case LUA_TBOOLEAN:
      wd_buf_put_u8(b, WD_PVAL_BOOL);
      wd_buf_put_u8(b, (uint8_t)lua_toboolean(L, idx));
      return;
    case LUA_TNUMBER:
      if (lua_isinteger(L, idx)) {
        wd_buf_put_u8(b, WD_PVAL_INT);
        wd_buf_put_u64(b, (uint64_t)lua_tointeger(L, idx));
      } else {
        double d = (double)lua_tonumber(L, idx);
        uint64_t bits;
        memcpy(&bits, &d, sizeof bits);
        wd_buf_put_u8(b, WD_PVAL_NUM);
        wd_buf_put_u64(b, bits);
      }
      return;
    case LUA_TSTRING: {
      size_t n;
      const char *s = lua_tolstring(L, idx, &n);
      wd_buf_put_u8(b, WD_PVAL_STR);
      wd_buf_put_str(b, s, n);
      return;
    }
    case LUA_TTABLE: {
      lua_Integer n = (lua_Integer)lua_rawlen(L, idx), i;
      uint32_t count = 0;
      size_t pos;
      if (depth >= WD_PVAL_MAXDEPTH) break;
      luaL_checkstack(L, 4, "actor meta too deep");
      if (n > 0) {
        wd_buf_put_u8(b, WD_PVAL_LIST);
        wd_buf_put_u32(b, (uint32_t)n);
        for (i = 1; i <= n; i++) {
          lua_rawgeti(L, idx, i);
          put_lua(L, -1, b, depth + 1);
          lua_pop(L, 1);
        }
        return;
      }
      wd_buf_put_u8(b, WD_PVAL_MAP);
      pos = b->len;
      wd_buf_put_u32(b, 0);
      lua_pushnil(L);
      while (lua_next(L, idx)) {
        if (lua_type(L, -2) == LUA_TSTRING) {
          size_t kl;
          const char *k = lua_tolstring(L, -2, &kl);
          if (memchr(k, '\0', kl) == NULL) {
            wd_buf_put_str(b, k, kl);
            put_lua(L, -1, b, depth + 1);
            count++;
          }
        }
        lua_pop(L, 1);
      }
      wd_buf_patch_u32(b, pos, count);
      return;
    }
    default:
      break;
  }
  wd_buf_put_u8(b, WD_PVAL_NULL);
}

/* Push the travelling form of an actor table {id = s, meta = t}:
** "<id>\0<meta>" (see lpolicy.c). */
void wd__security_pack_actor(lua_State *L, int idx) {
  wd_buf b;
  size_t n;
  const char *id;
  idx = lua_absindex(L, idx);
  lua_getfield(L, idx, "id");
  id = lua_tolstring(L, -1, &n);
  wd_buf_init(&b, 1u << 20);
  wd_buf_put(&b, id, n);
  lua_getfield(L, idx, "meta");
  if (lua_istable(L, -1)) {
    wd_buf_put_u8(&b, 0);
    put_lua(L, -1, &b, 0);
  }
  lua_pop(L, 2);
  if (b.err) {
    wd_buf_close(&b);
    luaL_error(L, "actor meta too large");
  }
  lua_pushlstring(L, (const char *)b.p, b.len);
  wd_buf_close(&b);
}

/* }====== */

/* security.actor() -> {id = string, meta = table} | nil  (a fresh copy) */
static int security_actor(lua_State *L) {
  actor *a = ACTOR(L);
  if (a->c.sec_actor == NULL || a->c.sec_actor[0] == '\0') {
    lua_pushnil(L);
    return 1;
  }
  lua_createtable(L, 0, 2);
  lua_pushstring(L, a->c.sec_actor);
  lua_setfield(L, -2, "id");
  if (a->c.meta.type == WD_PVAL_MAP) push_pval(L, &a->c.meta, 0);
  else lua_newtable(L);
  lua_setfield(L, -2, "meta");
  return 1;
}

/* security.scope() -> {name, ...} | nil  (a fresh copy each call) */
static int security_scope(lua_State *L) {
  actor *a = ACTOR(L);
  const char *p = a->c.sec_scope, *nl;
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

/* security.can(action, resource [, attrs]) -> bool: what a call would be
** decided, without making it (and without an audit record). Only the
** attributes 'target_host' and 'topic' can be supplied; 'pid' and 'host'
** are always the caller's. */
static int security_can(lua_State *L) {
  actor *a = ACTOR(L);
  size_t rl;
  const char *action = luaL_checkstring(L, 1);
  const char *resource = luaL_checklstring(L, 2, &rl);
  const char *th = NULL, *topic = NULL;
  int r;
  if (lua_istable(L, 3)) {
    lua_getfield(L, 3, "target_host");
    th = lua_tostring(L, -1);
    lua_getfield(L, 3, "topic");
    topic = lua_tostring(L, -1);
  }
  r = wd__hsec_decide(&a->c, action, resource, rl, th, topic, NULL, 0);
  lua_pushboolean(L, r == WD_POLICY_ALLOW);
  return 1;
}

int luaopen_ward_security(lua_State *L) {
  static const luaL_Reg funcs[] = {
    { "actor", security_actor },
    { "scope", security_scope },
    { "can", security_can },
    { NULL, NULL },
  };
  actor *a = wd__env_actor_of(L);
  int i;
  lua_createtable(L, 0, 4);
  for (i = 0; funcs[i].name; i++) {
    lua_pushlightuserdata(L, a);
    lua_pushcclosure(L, funcs[i].func, 1);
    lua_setfield(L, -2, funcs[i].name);
  }
  return 1;
}
