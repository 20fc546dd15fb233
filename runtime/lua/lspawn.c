/*
** runtime/lua/lspawn.c
** Spawning: the one path every spawn takes (module functions, exec and
** the SpawnBuilder), the immutable SpawnBuilder of process.with_context,
** and the 'ctx' module that reads the inherited context values.
** Runs in: host (sandboxed).
*/
#include <string.h>

#include "lvm_int.h"
#include "lcodec.h"
#include "lerrors.h"
#include "ward/wd_proto.h"

#define SPAWNER_MT "ward.spawner"

static task *need_task_spawn(lua_State *L) {
  task *t = wd__chan_task_current(L);
  if (t == NULL || !lua_isyieldable(L))
    luaL_error(L, "spawn: cannot wait for the broker here (inside a "
                  "metamethod or a C call)");
  return t;
}

/* {====== Results ====== */

/* Turn the EXIT event bytes of an exec'd child into its value or
** nil, err. */
static int exec_result(lua_State *L, task *t) {
  char *res = t->w.xres;
  size_t n = t->w.xlen;
  int got;
  t->w.xres = NULL;
  t->w.exec = 0;
  wd_free(t->w.xpid);
  t->w.xpid = NULL;
  got = wd_lcodec_decode(L, (const uint8_t *)res, n);
  wd_free(res);
  if (got != 1 || !lua_istable(L, -1))
    return wd_lerr_pushf(L, WD_EINTERNAL, "exec: malformed result");
  lua_getfield(L, -1, "result");
  lua_getfield(L, -1, "error");
  if (!lua_isnil(L, -1)) {
    lua_pushnil(L);
    lua_insert(L, -2);
    return 2;
  }
  lua_pop(L, 1);
  lua_getfield(L, -1, "value");
  return 1;
}

static int exec_k(lua_State *L, int status, lua_KContext ctx) {
  task *t = wd__chan_task_current(L);
  (void)status;
  (void)ctx;
  t->w.kind = W_NONE;
  if (t->w.xres == NULL) { /* spurious wake: wait on */
    t->w.kind = W_EXEC;
    return wd__chan_block(L, t, exec_k, 0);
  }
  return exec_result(L, t);
}

static int wait_exec(lua_State *L, task *t) {
  if (t->w.xres != NULL) return exec_result(L, t);
  t->w.kind = W_EXEC;
  return wd__chan_block(L, t, exec_k, 0);
}

/* Reply to a remote spawn. ctx bit 0: exec; bit 1: linked. */
static int spawn_k(lua_State *L, int status, lua_KContext ctx) {
  task *t = wd__chan_task_current(L);
  int32_t st = t->w.status;
  const char *pid = t->w.rstr ? t->w.rstr : "";
  size_t pl = t->w.rlen;
  (void)status;
  t->w.kind = W_NONE;
  t->w.done = 0;
  if (st < 0) {
    t->w.exec = 0;
    wd_free(t->w.xres);
    t->w.xres = NULL;
    return wd_lerr_pushf(L, st, "%s", pid[0] ? pid : wd_strerror(st));
  }
  if (pl > 0 && pid[0] == '=') { /* the name was taken: signalled */
    lua_pushlstring(L, pid + 1, pl - 1);
    return 1;
  }
  if (ctx & 1) {
    if (t->w.xpid == NULL) t->w.xpid = wd_strndup(pid, pl);
    if (t->w.xpid != NULL) wd__event_exec_take(t->a, t);
    lua_settop(L, 0);
    return wait_exec(L, t);
  }
  lua_pushlstring(L, pid, pl);
  return 1;
}

/* }====== */

/* Options of a plain spawn: the child inherits the spawner's context,
** actor and scope. */
void wd__spawn_inherit(actor *a, spawnopt *o, uint32_t flags) {
  memset(o, 0, sizeof *o);
  o->flags = flags;
  o->ctx = a->c.ctx;
  o->ctxlen = a->c.ctxlen;
  o->actor = a->c.sec_actor;
  o->actorlen = a->c.sec_actorlen;
  o->scope = a->c.sec_scope;
  o->scopelen = strlen(a->c.sec_scope);
}

/* The permissions of a spawn (the operation table, wd_ops_spawn_asks):
** process.spawn (or process.exec) on the entry, .monitored and .linked
** for those variants, and process.host on the host, for every spawn path.
** The broker asks the same again. */
static int spawn_allowed(lua_State *L, actor *a, const char *id, size_t il,
                         const char *host, size_t hl, uint32_t flags,
                         int exec) {
  char hb[300];
  int ask[4], n, i;
  if (hl >= sizeof hb) return wd_lerr_pushf(L, WD_EINVAL, "invalid host");
  memcpy(hb, host, hl);
  hb[hl] = '\0';
  flags &= ~(uint32_t)WD_SPAWN_EXEC;
  n = wd_ops_spawn_asks(flags | (exec ? WD_SPAWN_EXEC : 0u), ask);
  for (i = 0; i < n; i++) {
    int onhost = wd_ops_res(ask[i]) == WD_RES_HOST;
    if (wd__policy_allow(L, a, wd_ops_name(ask[i]), onhost ? host : id,
                  onhost ? hl : il, hb, NULL))
      return 2;
  }
  return 0;
}

/* A local spawn makes its child runnable, but the child runs only once
** the parent stops. A parent spawning in a loop would otherwise make
** every child, each with a new state, before the first of them runs (a
** slice holds thousands of spawns): after SPAWN_BATCH local spawns in one
** resume the spawning task yields, behind its children in the run queue
** (Erlang charges a spawn reductions to the same effect). Their states
** then end and are reused by the next spawns (lstate.c), instead of a
** host holding every child's state at once. Only the task's own thread
** yields here, never a plain coroutine or a call that cannot yield. */
#define SPAWN_BATCH 32

static int spawned_k(lua_State *L, int status, lua_KContext ctx) {
  (void)L;
  (void)status;
  (void)ctx;
  return 1; /* the PID, left on the stack */
}

/* Spawn 'id' on 'host' with the options 'o' (flags, actor, scope, args,
** context, messages) for actor 'a'. With 'name', spawn-or-signal through
** the broker's registry. With 'exec', wait for the child's result.
** Pushes the results of the Lua call. A spawn on this host may yield
** before it returns, to let the children run (SPAWN_BATCH). */
int wd__spawn_do(lua_State *L, actor *a, const char *id, size_t il,
                 const char *host, size_t hl, const spawnopt *o,
                 const char *name, int exec) {
  wd_host *h = a->c.h;
  spawnopt so = *o;
  task *t = NULL;
  entry *e = NULL;
  wd_buf *b;
  size_t st;
  int r;
  so.parent = a->c.pid;
  so.parentlen = a->c.pidlen;
  so.args = h->scratch.p;
  so.alen = h->scratch.len;
  if (spawn_allowed(L, a, id, il, host, hl, o->flags, exec)) return 2;
  if (exec) so.flags |= WD_SPAWN_EXEC;
  if (name != NULL) so.flags |= WD_SPAWN_NAMED;
  if (name == NULL && hl == h->idlen && memcmp(host, h->id, hl) == 0) {
    /* This host. An entry it does not hold yet goes through the broker,
    ** which decides and ships it (the first time only). */
    char eid[300];
    if (il >= sizeof eid) return wd_lerr_pushf(L, WD_EINVAL, "invalid id");
    memcpy(eid, id, il);
    eid[il] = '\0';
    e = wd__host_entry(h, eid);
    if (e != NULL && e->library)
      return wd_lerr_pushf(L, WD_ENOTFOUND, "entry not found on host %s: %s",
                           h->id, eid);
  }
  if (exec || name != NULL || e == NULL) t = need_task_spawn(L);
  if (e != NULL) {
    char err[512];
    wd_actor *child;
    /* A builder's actor or scope must fit this host's ceiling, as the
    ** broker holds a spawn on another host to that host's. */
    if ((so.actor != a->c.sec_actor || so.scope != a->c.sec_scope) &&
        !wd_ceiling_fits(&h->ceil, so.actor, so.actorlen, so.scope,
                         so.scopelen, err, sizeof err))
      return wd_lerr_pushf(L, WD_EDENIED, "permission denied: %s", err);
    r = wd__actor_spawn(h, e, &so, &child, err, sizeof err);
    if (r < 0) return wd_lerr_pushf(L, r, "spawn %s: %s", e->id, err);
    if (exec) {
      t->w.exec = 1;
      t->w.xpid = wd_strndup(child->pid, child->pidlen);
      lua_settop(L, 0);
      return wait_exec(L, t);
    }
    lua_pushlstring(L, child->pid, child->pidlen);
    if (++a->nspawned >= SPAWN_BATCH && a->running != NULL &&
        a->running->co == L && lua_isyieldable(L)) {
      a->nspawned = 0;
      a->yield_reason = Y_NONE;
      return lua_yieldk(L, 0, 0, spawned_k);
    }
    return 1;
  }
  if ((r = wd__run_request(t, WD_OP_SPAWN, &b, &st)) < 0)
    return wd_lerr_pushf(L, r, "spawn failed");
  if (exec) t->w.exec = 1;
  if (so.flags & WD_SPAWN_LINK) t->w.link_on_reply = 2;
  /* A monitor or exec wait held elsewhere: the broker must hear of this
  ** process's end to have it dropped (FORGET). */
  if (so.flags & (WD_SPAWN_MONITOR | WD_SPAWN_EXEC)) a->c.remote_watch = 1;
  so.entry = id;
  so.entrylen = il;
  so.host = host;
  so.hostlen = hl;
  so.name = name != NULL ? name : "";
  so.namelen = strlen(so.name);
  wd_wire_put_spawn(b, &so);
  if ((r = wd__host_request_end(h, st)) < 0) {
    wd__host_request_cancel(h, t->w.req);
    t->w.kind = W_NONE;
    t->w.exec = 0;
    return wd_lerr_pushf(L, r, "spawn request too large");
  }
  return wd__chan_block(L, t, spawn_k,
                   (exec ? 1 : 0) | ((so.flags & WD_SPAWN_LINK) ? 2 : 0));
}

/* {====== SpawnBuilder ====== */

/* A builder is a userdata whose user value is a table {ctx = table,
** actor = table|nil, scope = table|nil, name = string|nil, msgs = array}.
** Every with_* returns a new builder; the receiver never changes. */

static void copy_table(lua_State *L, int src) {
  src = lua_absindex(L, src);
  lua_newtable(L);
  if (!lua_istable(L, src)) return;
  lua_pushnil(L);
  while (lua_next(L, src)) {
    lua_pushvalue(L, -2);
    lua_insert(L, -2);
    lua_rawset(L, -4);
  }
}

/* Push a new builder copying the fields of the builder at 'from' (0: an
** empty one with the caller's inherited context). Returns the index of
** its field table (left on the stack under the builder). */
static int builder_new(lua_State *L, actor *a, int from) {
  int ft;
  if (from != 0) from = lua_absindex(L, from);
  lua_createtable(L, 0, 5);
  ft = lua_gettop(L);
  if (from != 0) {
    lua_getiuservalue(L, from, 1);
    lua_getfield(L, -1, "ctx");
    copy_table(L, -1);
    lua_setfield(L, ft, "ctx");
    lua_pop(L, 1);
    lua_getfield(L, -1, "msgs");
    copy_table(L, -1);
    lua_setfield(L, ft, "msgs");
    lua_pop(L, 1);
    lua_getfield(L, -1, "actor");
    lua_setfield(L, ft, "actor");
    lua_getfield(L, -1, "scope");
    lua_setfield(L, ft, "scope");
    lua_getfield(L, -1, "name");
    lua_setfield(L, ft, "name");
    lua_pop(L, 1);
  } else {
    if (a->c.ctxlen > 0 &&
        wd_lcodec_decode(L, a->c.ctx, a->c.ctxlen) == 1 && lua_istable(L, -1))
      ; /* the inherited values */
    else {
      lua_settop(L, ft);
      lua_newtable(L);
    }
    lua_setfield(L, ft, "ctx");
    lua_newtable(L);
    lua_setfield(L, ft, "msgs");
  }
  lua_newuserdatauv(L, 0, 1);
  lua_pushvalue(L, ft);
  lua_setiuservalue(L, -2, 1);
  luaL_setmetatable(L, SPAWNER_MT);
  return ft;
}

static void merge_into_ctx(lua_State *L, int ft, int values) {
  values = lua_absindex(L, values);
  lua_getfield(L, ft, "ctx");
  lua_pushnil(L);
  while (lua_next(L, values)) {
    lua_pushvalue(L, -2);
    lua_insert(L, -2);
    lua_rawset(L, -4);
  }
  lua_pop(L, 1);
}

/* process.with_context(values) -> SpawnBuilder */
static int process_with_context(lua_State *L) {
  actor *a = ACTOR(L);
  int ft;
  luaL_checktype(L, 1, LUA_TTABLE);
  if (wd__policy_allow(L, a, wd_ops_name(WD_ACT_CONTEXT), "context", 7, NULL,
                       NULL))
    return 2;
  ft = builder_new(L, a, 0);
  merge_into_ctx(L, ft, 1);
  return 1;
}

static int b_with_context(lua_State *L) {
  int ft;
  luaL_checkudata(L, 1, SPAWNER_MT);
  luaL_checktype(L, 2, LUA_TTABLE);
  if (wd__policy_allow(L, ACTOR(L), wd_ops_name(WD_ACT_CONTEXT), "context", 7,
                       NULL, NULL))
    return 2;
  ft = builder_new(L, ACTOR(L), 1);
  merge_into_ctx(L, ft, 2);
  return 1;
}

static int b_with_actor(lua_State *L) {
  int ft;
  luaL_checkudata(L, 1, SPAWNER_MT);
  luaL_checktype(L, 2, LUA_TTABLE);
  lua_getfield(L, 2, "id");
  if (lua_type(L, -1) != LUA_TSTRING || lua_rawlen(L, -1) == 0)
    return luaL_argerror(L, 2, "actor needs a non-empty string 'id'");
  lua_pop(L, 1);
  if (wd__policy_allow(L, ACTOR(L), wd_ops_name(WD_ACT_SECURITY), "security", 8,
                       NULL, NULL))
    return 2;
  ft = builder_new(L, ACTOR(L), 1);
  copy_table(L, 2);
  lua_setfield(L, ft, "actor");
  return 1;
}

static int b_with_scope(lua_State *L) {
  int ft;
  lua_Integer i, n;
  luaL_checkudata(L, 1, SPAWNER_MT);
  luaL_checktype(L, 2, LUA_TTABLE);
  n = (lua_Integer)lua_rawlen(L, 2);
  for (i = 1; i <= n; i++) {
    if (lua_rawgeti(L, 2, i) != LUA_TSTRING)
      return luaL_argerror(L, 2, "scope is a list of policy group or id "
                                 "strings");
    lua_pop(L, 1);
  }
  if (wd__policy_allow(L, ACTOR(L), wd_ops_name(WD_ACT_SECURITY), "security", 8,
                       NULL, NULL))
    return 2;
  ft = builder_new(L, ACTOR(L), 1);
  copy_table(L, 2);
  lua_setfield(L, ft, "scope");
  return 1;
}

static int b_with_name(lua_State *L) {
  int ft;
  size_t n;
  luaL_checkudata(L, 1, SPAWNER_MT);
  luaL_checklstring(L, 2, &n);
  if (n == 0 || n > 255) return luaL_argerror(L, 2, "name must be 1-255 bytes");
  ft = builder_new(L, ACTOR(L), 1);
  lua_pushvalue(L, 2);
  lua_setfield(L, ft, "name");
  return 1;
}

static int b_with_message(lua_State *L) {
  int ft, n = lua_gettop(L), i;
  size_t tl;
  const char *topic;
  luaL_checkudata(L, 1, SPAWNER_MT);
  topic = luaL_checklstring(L, 2, &tl);
  if (tl == 0) return luaL_argerror(L, 2, "topic cannot be empty");
  if (topic[0] == '@') return luaL_argerror(L, 2, "cannot send to @ topics");
  if (tl > WD_TOPIC_MAX || memchr(topic, '\0', tl) != NULL)
    return luaL_argerror(L, 2, lua_pushfstring(L, "topic longer than %d "
                                               "bytes or holding a NUL byte",
                                               WD_TOPIC_MAX));
  ft = builder_new(L, ACTOR(L), 1);
  lua_getfield(L, ft, "msgs");
  if (lua_rawlen(L, -1) >= 64) return luaL_error(L, "at most 64 messages");
  lua_createtable(L, n - 1, 1);
  for (i = 2; i <= n; i++) {
    lua_pushvalue(L, i);
    lua_rawseti(L, -2, i - 1);
  }
  lua_pushinteger(L, n - 2);
  lua_setfield(L, -2, "n");
  lua_rawseti(L, -2, (lua_Integer)lua_rawlen(L, -2) + 1);
  lua_pop(L, 1);
  lua_settop(L, ft + 1);
  return 1;
}

/* Encode one value or a run of values into a Lua string pushed on the
** stack (so it is anchored while the spawn is assembled). */
static int encode_to_string(lua_State *L, actor *a, int first, int n) {
  char err[256];
  int r;
  wd_buf_reset(&a->c.h->scratch);
  r = wd_lcodec_encode(L, first, n, &a->c.h->scratch,
                      (size_t)a->c.h->lim.max_payload, err, sizeof err);
  if (r < 0) return wd_lerr_pushf(L, r, "%s", err);
  lua_pushlstring(L, (const char *)a->c.h->scratch.p, a->c.h->scratch.len);
  return 0;
}

/* builder:spawn*(id, host, ...) */
static int b_spawn_variant(lua_State *L, uint32_t flags) {
  actor *a = ACTOR(L);
  size_t il, hl, nmsgs, i;
  const char *id, *host, *name = NULL;
  spawnmsg msgs[WD_SPAWN_MAXMSGS];
  spawnopt o;
  int ft, nargs = lua_gettop(L) - 3, base;
  luaL_checkudata(L, 1, SPAWNER_MT);
  id = luaL_checklstring(L, 2, &il);
  host = luaL_checklstring(L, 3, &hl);
  memset(&o, 0, sizeof o);
  o.flags = flags;
  lua_getiuservalue(L, 1, 1);
  ft = lua_gettop(L);
  base = ft;
  /* Context: an encoded table. */
  lua_getfield(L, ft, "ctx");
  if (encode_to_string(L, a, lua_gettop(L), 1)) return 2;
  o.ctx = (const uint8_t *)lua_tolstring(L, -1, &o.ctxlen);
  /* Actor and scope: the builder's, else the caller's. */
  lua_getfield(L, ft, "actor");
  if (lua_istable(L, -1)) {
    wd__security_pack_actor(L, lua_gettop(L));
    o.actor = lua_tolstring(L, -1, &o.actorlen);
  } else {
    o.actor = a->c.sec_actor;
    o.actorlen = a->c.sec_actorlen;
  }
  lua_getfield(L, ft, "scope");
  if (lua_istable(L, -1)) {
    luaL_Buffer sb;
    lua_Integer k, n = (lua_Integer)lua_rawlen(L, -1);
    int sidx = lua_gettop(L);
    luaL_buffinit(L, &sb);
    for (k = 1; k <= n; k++) {
      if (k > 1) luaL_addchar(&sb, '\n');
      lua_rawgeti(L, sidx, k);
      luaL_addvalue(&sb);
    }
    luaL_pushresult(&sb);
    o.scope = lua_tolstring(L, -1, &o.scopelen);
  } else {
    o.scope = a->c.sec_scope;
    o.scopelen = strlen(a->c.sec_scope);
  }
  lua_getfield(L, ft, "name");
  if (lua_type(L, -1) == LUA_TSTRING) name = lua_tostring(L, -1);
  /* Queued messages. */
  lua_getfield(L, ft, "msgs");
  nmsgs = lua_rawlen(L, -1);
  {
    int midx = lua_gettop(L);
    for (i = 0; i < nmsgs && i < 64; i++) {
      int m, cnt;
      lua_rawgeti(L, midx, (lua_Integer)i + 1);
      m = lua_gettop(L);
      lua_getfield(L, m, "n");
      cnt = (int)lua_tointeger(L, -1);
      lua_pop(L, 1);
      lua_rawgeti(L, m, 1);
      msgs[i].topic = lua_tolstring(L, -1, &msgs[i].topiclen);
      {
        int k, first = lua_gettop(L) + 1;
        for (k = 0; k < cnt; k++) lua_rawgeti(L, m, k + 2);
        if (encode_to_string(L, a, first, cnt)) return 2;
        lua_replace(L, first);
        lua_settop(L, first);
      }
      msgs[i].payload = (const uint8_t *)lua_tolstring(L, -1, &msgs[i].plen);
    }
  }
  o.msgs = msgs;
  o.nmsgs = nmsgs;
  /* Arguments last: they stay in the scratch buffer. */
  wd_buf_reset(&a->c.h->scratch);
  if (nargs > 0) {
    char err[256];
    int r = wd_lcodec_encode(L, 4, nargs, &a->c.h->scratch,
                            (size_t)a->c.h->lim.max_payload, err, sizeof err);
    if (r < 0) return wd_lerr_pushf(L, r, "%s", err);
  }
  (void)base;
  return wd__spawn_do(L, a, id, il, host, hl, &o, name, 0);
}

static int b_spawn(lua_State *L) {
  return b_spawn_variant(L, 0);
}

static int b_spawn_monitored(lua_State *L) {
  return b_spawn_variant(L, WD_SPAWN_MONITOR);
}

static int b_spawn_linked(lua_State *L) {
  return b_spawn_variant(L, WD_SPAWN_LINK);
}

static int b_spawn_linked_monitored(lua_State *L) {
  return b_spawn_variant(L, WD_SPAWN_LINK | WD_SPAWN_MONITOR);
}

/* }====== */


/* Add with_context to the process table on top; register the builder's
** metatable. */
void wd__spawn_open(lua_State *L) {
  static const luaL_Reg meth[] = {
    { "with_context", b_with_context },
    { "with_actor", b_with_actor },
    { "with_scope", b_with_scope },
    { "with_name", b_with_name },
    { "with_message", b_with_message },
    { "spawn", b_spawn },
    { "spawn_monitored", b_spawn_monitored },
    { "spawn_linked", b_spawn_linked },
    { "spawn_linked_monitored", b_spawn_linked_monitored },
    { NULL, NULL },
  };
  int i;
  luaL_newmetatable(L, SPAWNER_MT);
  lua_createtable(L, 0, 9);
  for (i = 0; meth[i].name; i++) {
    wd__policy_api(L, meth[i].func);
    lua_setfield(L, -2, meth[i].name);
  }
  lua_setfield(L, -2, "__index");
  lua_pushliteral(L, "process.Spawner");
  lua_setfield(L, -2, "__name");
  lua_pushboolean(L, 0);
  lua_setfield(L, -2, "__metatable");
  lua_pop(L, 1);
  wd__policy_api(L, process_with_context);
  lua_setfield(L, -2, "with_context");
}
