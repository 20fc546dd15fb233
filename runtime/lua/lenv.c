/*
** runtime/lua/lenv.c
** An actor's Lua environment: the sandbox of ARCHITECTURE.md §7 (nothing
** more), require, print, the boot of the entry function and tasks. (Its
** state and the quota allocator are lstate.c's; preemption is
** lpreempt.c's.)
** Runs in: host (sandboxed).
*/
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>

#include "lualib.h"

#include "lvm_int.h"
#include "lcodec.h"
#include "lerrors.h"
#include "ward/wd_proto.h"


/* {====== Tasks ====== */

static task *task_link(actor *a, task *t) {
  t->anext = a->tasks;
  if (a->tasks) a->tasks->aprev = t;
  a->tasks = t;
  a->ntasks++;
  return t;
}

/* A new task on a new thread of 'a', anchored in the registry. */
task *wd__env_task_new(actor *a, lua_State *L) {
  task *t = wd_calloc(1, sizeof *t);
  if (t == NULL) luaL_error(L, "not enough memory");
  t->a = a;
  t->w.valref = LUA_NOREF;
  t->co = lua_newthread(L);
  t->ref = luaL_ref(L, LUA_REGISTRYINDEX);
  return task_link(a, t);
}

/* The main task of 'a', on the thread anchored in the keep table
** (lstate.c): the main thread of the state's last actor when it is left
** there (clean: see wd__env_task_free), else a new one. */
task *wd__env_task_new_main(actor *a, lua_State *L) {
  task *t = wd_calloc(1, sizeof *t);
  if (t == NULL) luaL_error(L, "not enough memory");
  t->a = a;
  t->w.valref = LUA_NOREF;
  t->ref = LUA_NOREF;
  t->is_main = 1;
  if (wd__state_keep_get(L, KEEP_MAIN) == LUA_TTHREAD) {
    t->co = lua_tothread(L, -1);
    lua_pop(L, 1);
    *(actor **)lua_getextraspace(t->co) = a;
  } else {
    lua_pop(L, 1);
    t->co = lua_newthread(L);
    wd__state_keep_set(L, KEEP_MAIN);
  }
  return task_link(a, t);
}

void wd__env_task_free(task *t) {
  actor *a = t->a;
  lua_Debug ar;
  wd__chan_wait_clear(t);
  /* The main thread of an ended actor whose function returned (no call
  ** left on it, status OK) can serve the next state's main task: it
  ** stays in the keep table (lstate.c drops any other). */
  if (t->is_main && a->c.state == A_DEAD && lua_status(t->co) == LUA_OK &&
      !lua_getstack(t->co, 0, &ar)) {
    lua_settop(t->co, 0);
    lua_sethook(t->co, NULL, 0, 0);
    a->spare_ok = 1;
  }
  wd_free(t->w.rstr);
  t->w.rstr = NULL;
  if (t->aprev) t->aprev->anext = t->anext;
  else a->tasks = t->anext;
  if (t->anext) t->anext->aprev = t->aprev;
  if (a->c.state == A_ALIVE && t->is_main) {
    lua_pushnil(a->L);
    wd__state_keep_set(a->L, KEEP_MAIN);
  }
  if (a->c.state == A_ALIVE) {
    luaL_unref(a->L, LUA_REGISTRYINDEX, t->ref);
    if (t->audit_args != 0)
      luaL_unref(a->L, LUA_REGISTRYINDEX, t->audit_args);
  }
  if (a->main == t) a->main = NULL;
  a->ntasks--;
  wd_free(t);
}

/* }====== */

/* {====== Base library replacements ====== */

/* print(...) -> nothing: the text goes to the broker, then ward's stdout. */
/* {====== No addresses ======
** Lua shows a table, function, coroutine or userdata without __tostring
** by its address ("table: 0x55d0c8a0"), which tells a script where its
** host's heap is. ward shows an id instead: the n-th such object this
** actor has shown ("table: #3"; the same object keeps its id), in
** tostring, print and string.format's %s; %p is refused. */

static const char ids_key = 0;

/* The id of the object at 'idx': a weak-keyed table in the registry maps
** each object shown to its number; its [true] holds the last number. */
static lua_Integer object_id(lua_State *L, int idx) {
  lua_Integer id;
  if (lua_rawgetp(L, LUA_REGISTRYINDEX, &ids_key) != LUA_TTABLE) {
    lua_pop(L, 1);
    lua_newtable(L);
    lua_createtable(L, 0, 1);
    lua_pushliteral(L, "k");
    lua_setfield(L, -2, "__mode");
    lua_setmetatable(L, -2);
    lua_pushvalue(L, -1);
    lua_rawsetp(L, LUA_REGISTRYINDEX, &ids_key);
  }
  lua_pushvalue(L, idx);
  if (lua_rawget(L, -2) == LUA_TNUMBER) {
    id = lua_tointeger(L, -1);
    lua_pop(L, 2);
    return id;
  }
  lua_pop(L, 1);
  lua_pushboolean(L, 1);
  lua_rawget(L, -2);
  id = lua_tointeger(L, -1) + 1;
  lua_pop(L, 1);
  lua_pushboolean(L, 1);
  lua_pushinteger(L, id);
  lua_rawset(L, -3);
  lua_pushvalue(L, idx);
  lua_pushinteger(L, id);
  lua_rawset(L, -3);
  lua_pop(L, 1);
  return id;
}

static int shows_address(lua_State *L, int idx) {
  switch (lua_type(L, idx)) {
    case LUA_TTABLE:
    case LUA_TFUNCTION:
    case LUA_TTHREAD:
    case LUA_TUSERDATA:
    case LUA_TLIGHTUSERDATA:
      return 1;
    default:
      return 0;
  }
}

/* luaL_tolstring, with an id where Lua would show an address. Pushes the
** string. */
static const char *env_tolstring(lua_State *L, int idx, size_t *len) {
  int tt;
  idx = lua_absindex(L, idx);
  if (!shows_address(L, idx)) return luaL_tolstring(L, idx, len);
  if (luaL_getmetafield(L, idx, "__tostring") != LUA_TNIL) {
    lua_pop(L, 1);
    return luaL_tolstring(L, idx, len); /* calls it */
  }
  tt = luaL_getmetafield(L, idx, "__name");
  lua_pushfstring(L, "%s: #%I",
                  tt == LUA_TSTRING ? lua_tostring(L, -1)
                                    : luaL_typename(L, idx),
                  (LUAI_UACINT)object_id(L, idx));
  if (tt != LUA_TNIL) lua_remove(L, -2);
  return lua_tolstring(L, -1, len);
}

static int env_tostring(lua_State *L) {
  luaL_checkany(L, 1);
  env_tolstring(L, 1, NULL);
  return 1;
}

/* }====== */

/* What print writes travels as PRINT records of at most PRINT_CHUNK bytes
** each (the broker writes their bytes as they come, so a line split over
** several is still one line): a print of any length fits the link. */
#define PRINT_CHUNK (1u << 20)

typedef struct prec {
  wd_host *h;
  wd_buf *b;
  size_t st, lenpos, before;
} prec;

static void prec_open(prec *r) {
  r->b = r->h->io.begin(r->h->io.ud, WD_R_PRINT, &r->st);
  r->lenpos = r->b->len;
  wd_buf_put_u32(r->b, 0);
  r->before = r->b->len;
}

static void prec_close(prec *r) {
  wd_buf_patch_u32(r->b, r->lenpos, (uint32_t)(r->b->len - r->before));
  (void)r->h->io.end(r->h->io.ud, r->st);
}

static void prec_put(prec *r, const char *s, size_t n) {
  while (n > 0) {
    size_t room = PRINT_CHUNK - (r->b->len - r->before);
    size_t k = n < room ? n : room;
    if (room == 0) {
      prec_close(r);
      prec_open(r);
      continue;
    }
    wd_buf_put(r->b, s, k);
    s += k;
    n -= k;
  }
}

static int env_print(lua_State *L) {
  actor *a = ACTOR(L);
  int n = lua_gettop(L), i;
  size_t len;
  prec r;
  /* Every argument becomes text first: a __tostring may raise, and no
  ** Lua may run inside a record (a half-written record is a bad frame,
  ** for which the broker kills the host). */
  luaL_checkstack(L, n, "too many arguments to print");
  for (i = 1; i <= n; i++)
    env_tolstring(L, i, NULL);
  r.h = a->c.h;
  prec_open(&r);
  for (i = 1; i <= n; i++) {
    const char *s = lua_tolstring(L, n + i, &len);
    if (i > 1) prec_put(&r, "\t", 1);
    prec_put(&r, s, len);
  }
  prec_put(&r, "\n", 1);
  prec_close(&r);
  return 0;
}

/* load(text [, name [, mode [, env]]]): source text only, never binary. */
static int env_load(lua_State *L) {
  size_t len;
  const char *s = lua_tolstring(L, 1, &len);
  const char *name = luaL_optstring(L, 2, s);
  int env = lua_gettop(L) >= 4 ? 4 : 0;
  int st;
  if (s == NULL)
    return luaL_argerror(L, 1, "source text expected (reader functions "
                               "and binary chunks are not allowed)");
  st = luaL_loadbufferx(L, s, len, name, "t");
  if (st != LUA_OK) {
    lua_pushnil(L);
    lua_insert(L, -2);
    return 2;
  }
  if (env) {
    lua_pushvalue(L, env);
    if (!lua_setupvalue(L, -2, 1)) lua_pop(L, 1);
  }
  return 1;
}

/* collectgarbage("count") only: scripts may not drive the collector. */
static int env_collectgarbage(lua_State *L) {
  const char *opt = luaL_optstring(L, 1, "count");
  if (strcmp(opt, "count") != 0)
    return luaL_error(L, "collectgarbage: only \"count\" is allowed");
  lua_pushnumber(L, (lua_Number)lua_gc(L, LUA_GCCOUNT, 0) +
                        (lua_Number)lua_gc(L, LUA_GCCOUNTB, 0) / 1024.0);
  return 1;
}

static void unlazy(lua_State *L, int idx);
static void push_string_meta(lua_State *L);

/* setmetatable(t, mt) as Lua's, but refusing finalizers: a __gc runs
** with hooks off. */
static int env_setmetatable(lua_State *L) {
  int t = lua_type(L, 2);
  if (t == LUA_TTABLE) {
    lua_pushliteral(L, "__gc");
    if (lua_rawget(L, 2) != LUA_TNIL)
      return luaL_error(L, "setmetatable: __gc metamethods are not allowed");
    lua_pop(L, 1);
  }
  luaL_checktype(L, 1, LUA_TTABLE);
  luaL_argexpected(L, t == LUA_TNIL || t == LUA_TTABLE, 2, "nil or table");
  unlazy(L, 1);
  if (luaL_getmetafield(L, 1, "__metatable") != LUA_TNIL)
    return luaL_error(L, "cannot change a protected metatable");
  lua_settop(L, 2);
  lua_setmetatable(L, 1);
  return 1;
}

/* getmetatable(v) as Lua's; the lazy parts of the environment are built
** before a script can see their metatables. */
static int env_getmetatable(lua_State *L) {
  luaL_checkany(L, 1);
  if (lua_type(L, 1) == LUA_TSTRING) {
    push_string_meta(L);
    return 1;
  }
  unlazy(L, 1);
  if (!lua_getmetatable(L, 1)) {
    lua_pushnil(L);
    return 1;
  }
  luaL_getmetafield(L, 1, "__metatable");
  return 1;
}

/* pcall and xpcall never catch a memory error (over quota ends the
** actor) nor the error that ends a doomed actor (see Preemption). */
static int finish_pcall(lua_State *L, int status, lua_KContext extra) {
  if (status != LUA_OK && status != LUA_YIELD) {
    if (status == LUA_ERRMEM || ACTOR(L)->doomed) return lua_error(L);
    lua_pushboolean(L, 0);
    lua_pushvalue(L, -2);
    return 2;
  }
  return lua_gettop(L) - (int)extra;
}

static int env_pcall(lua_State *L) {
  int status;
  luaL_checkany(L, 1);
  lua_pushboolean(L, 1);
  lua_insert(L, 1);
  status = lua_pcallk(L, lua_gettop(L) - 2, LUA_MULTRET, 0, 0, finish_pcall);
  return finish_pcall(L, status, 0);
}

static int env_xpcall(lua_State *L) {
  int status, n = lua_gettop(L);
  luaL_checktype(L, 2, LUA_TFUNCTION);
  lua_pushboolean(L, 1);
  lua_pushvalue(L, 1);
  lua_rotate(L, 3, 2);
  status = lua_pcallk(L, n - 2, LUA_MULTRET, 2, 2, finish_pcall);
  return finish_pcall(L, status, 2);
}

/* }====== */

/* {====== coroutine: resume that lets ward's own yields pass through ====== */

/* A blocking call or a preemption inside a plain coroutine yields the
** coroutine; resume notices (a 'yield_reason' is set) and yields its own
** thread too, up to the scheduler. When the task is resumed, the
** continuation resumes the inner coroutine again. */
static int resume_k(lua_State *L, int status, lua_KContext ctx);

static int do_resume(lua_State *L, int narg, int wrap) {
  actor *a = ACTOR(L);
  lua_State *co = lua_tothread(L, 1);
  lua_State *prev;
  int status, nres;
  if (co == NULL) return luaL_typeerror(L, 1, "coroutine");
  if (co != L && lua_status(co) == LUA_OK && lua_gettop(co) == 0) {
    lua_pushliteral(L, "cannot resume dead coroutine");
    goto fail;
  }
  if (!lua_checkstack(co, narg)) {
    lua_pushliteral(L, "too many arguments to resume");
    goto fail;
  }
  lua_xmove(L, co, narg);
  prev = wd__preempt_swap(co);
  status = lua_resume(co, L, narg, &nres);
  (void)wd__preempt_swap(prev);
  /* Doomed inside 'co' (it yielded or raised): pass the end up, never
  ** the values or the error as the script's. */
  if (a->doomed) {
    if (status == LUA_YIELD || status == LUA_OK) lua_pop(co, nres);
    if (!lua_isyieldable(L)) return wd__preempt_doom_raise(L, a);
    lua_sethook(L, NULL, 0, 0);
    a->yield_reason = Y_DOOM;
    return lua_yield(L, 0);
  }
  if (status == LUA_YIELD && a->yield_reason != Y_NONE) {
    lua_pop(co, nres);
    lua_settop(L, 1);
    if (lua_isyieldable(L)) return lua_yieldk(L, 0, wrap, resume_k);
    /* Cannot pass the yield up (C boundary): blocking here is an error;
    ** a preemption waits for the C call to return (or for the grace to
    ** pass: then the actor is doomed). */
    if (a->yield_reason == Y_BLOCK) {
      a->yield_reason = Y_NONE;
      return luaL_error(L, "attempt to block across a C-call boundary");
    }
    a->yield_reason = Y_NONE;
    wd__preempt_cannot_yield(L, a);
    return do_resume(L, 0, wrap);
  }
  /* 'co' ended or yielded by itself while a preemption was due: the
  ** thread that resumed it is preempted at its next instruction. */
  wd__preempt_due(L);
  if (status == LUA_OK || status == LUA_YIELD) {
    if (!lua_checkstack(L, nres + 1)) {
      lua_pop(co, nres);
      lua_pushliteral(L, "too many results to resume");
      goto fail;
    }
    lua_xmove(co, L, nres);
    if (wrap) return nres;
    lua_pushboolean(L, 1);
    lua_insert(L, -(nres + 1));
    return nres + 1;
  }
  lua_xmove(co, L, 1); /* error object */
  if (status == LUA_ERRMEM) return lua_error(L);
  if (wrap) {
    lua_resetthread(co);
    if (lua_type(L, -1) == LUA_TSTRING) {
      luaL_where(L, 1);
      lua_insert(L, -2);
      lua_concat(L, 2);
    }
    return lua_error(L);
  }
  goto fail;
fail:
  if (wrap) return lua_error(L);
  lua_pushboolean(L, 0);
  lua_insert(L, -2);
  return 2;
}

static int resume_k(lua_State *L, int status, lua_KContext ctx) {
  (void)status;
  lua_settop(L, 1);
  return do_resume(L, 0, (int)ctx);
}

static int co_resume(lua_State *L) {
  return do_resume(L, lua_gettop(L) - 1, 0);
}

static int co_wrapped(lua_State *L) {
  lua_pushvalue(L, lua_upvalueindex(1));
  lua_insert(L, 1);
  return do_resume(L, lua_gettop(L) - 1, 1);
}

static int co_wrap(lua_State *L) {
  lua_State *co;
  luaL_checktype(L, 1, LUA_TFUNCTION);
  co = lua_newthread(L);
  lua_pushvalue(L, 1);
  lua_xmove(L, co, 1);
  lua_pushcclosure(L, co_wrapped, 1);
  return 1;
}

/* coroutine.spawn(fn, ...): a managed coroutine of this process. */
static int co_spawn(lua_State *L) {
  actor *a = ACTOR(L);
  int n = lua_gettop(L);
  task *t;
  luaL_checktype(L, 1, LUA_TFUNCTION);
  t = wd__env_task_new(a, L);
  lua_xmove(L, t->co, 0);
  lua_pushvalue(L, 1);
  lua_xmove(L, t->co, 1);
  if (n > 1) {
    lua_rotate(L, 2, 0);
    lua_checkstack(t->co, n);
    {
      int i;
      for (i = 2; i <= n; i++) {
        lua_pushvalue(L, i);
        lua_xmove(L, t->co, 1);
      }
    }
  }
  wd__run_ready(t);
  return 0;
}

/* }====== */

/* Does C function 'f' pass ward's yields through (pcall, xpcall, resume,
** a wrapped coroutine)? Preemption names the C call that keeps a thread
** from yielding, skipping these (lpreempt.c). */
int wd__env_passes_yields(lua_CFunction f) {
  return f == env_pcall || f == env_xpcall || f == co_resume ||
         f == co_wrapped;
}

/* {====== require ====== */

static int load_entry(lua_State *L, actor *a, entry *e);

static int env_require(lua_State *L) {
  actor *a = ACTOR(L);
  const char *name = luaL_checkstring(L, 1);
  int i;
  if (lua_getfield(L, LUA_REGISTRYINDEX, "ward.loaded") == LUA_TNIL) {
    lua_pop(L, 1);
    lua_newtable(L);
    lua_pushvalue(L, -1);
    lua_setfield(L, LUA_REGISTRYINDEX, "ward.loaded");
  }
  if (lua_getfield(L, -1, name) != LUA_TNIL) return 1;
  lua_pop(L, 1);
  if (strcmp(name, "time") == 0) {
    luaopen_ward_time(L);
    wd__env_readonly(L);
  } else if (strcmp(name, "security") == 0) {
    luaopen_ward_security(L);
    wd__env_readonly(L);
  } else if (strcmp(name, "ctx") == 0) {
    luaopen_ward_ctx(L);
    wd__env_readonly(L);
  } else if (strcmp(name, "process") == 0 || strcmp(name, "channel") == 0 ||
             strcmp(name, "errors") == 0) {
    lua_getglobal(L, name);
  } else {
    entry *lib = NULL;
    for (i = 0; i < a->c.e->nimports; i++)
      if (strcmp(a->c.e->imports[2 * i], name) == 0)
        lib = wd__host_entry(a->c.h, a->c.e->imports[2 * i + 1]);
    if (lib == NULL)
      return luaL_error(L, "module '%s' not found: require takes the "
                           "built-in modules (time, security, ctx) and the "
                           "entry's "
                           "imports", name);
    if (load_entry(L, a, lib) != LUA_OK) return lua_error(L);
    lua_call(L, 0, 1);
    if (lua_isnil(L, -1)) {
      lua_pop(L, 1);
      lua_pushboolean(L, 1);
    }
  }
  lua_pushvalue(L, -1);
  lua_setfield(L, -3, name);
  return 1;
}

/* }====== */

/* {====== Compiling entries ====== */

static int dump_writer(lua_State *L, const void *p, size_t sz, void *ud) {
  (void)L;
  wd_buf_put(ud, p, sz);
  return ((wd_buf *)ud)->err;
}

/* Compile 'src' once per host into bytecode that this host made
** itself (the only binary chunks ever loaded). */
static int compile(wd_host *h, const char *src, size_t len, const char *name,
                   char **bc, size_t *bclen, char *err, size_t errlen) {
  vmhost *v = h->vmdata;
  wd_buf b;
  lua_State *L;
  if (v == NULL && (v = h->vmdata = wd_calloc(1, sizeof *v)) == NULL)
    return WD_ENOMEM;
  if (v->compiler == NULL && (v->compiler = luaL_newstate()) == NULL)
    return WD_ENOMEM;
  L = v->compiler;
  if (luaL_loadbufferx(L, src, len, name, "t") != LUA_OK) {
    snprintf(err, errlen, "%s", lua_tostring(L, -1));
    lua_settop(L, 0);
    return WD_EINVAL;
  }
  wd_buf_init(&b, 0);
  /* Keep line info: error messages name file and line. */
  if (lua_dump(L, dump_writer, &b, 0) != 0 || b.err) {
    lua_settop(L, 0);
    wd_buf_close(&b);
    return WD_ENOMEM;
  }
  lua_settop(L, 0);
  lua_gc(L, LUA_GCCOLLECT, 0);
  *bc = (char *)b.p;
  *bclen = b.len;
  return 0;
}

int wd__env_compile(wd_host *h, entry *e, char *err, size_t errlen) {
  if (e->bytecode != NULL) return 0;
  return compile(h, e->source, e->srclen, e->chunkname, &e->bytecode,
                 &e->bclen, err, errlen);
}

/* Push the compiled chunk of 'e' or an error message. */
static int load_entry(lua_State *L, actor *a, entry *e) {
  char err[512];
  if (wd__env_compile(a->c.h, e, err, sizeof err) < 0) {
    lua_pushstring(L, err);
    return LUA_ERRSYNTAX;
  }
  return luaL_loadbufferx(L, e->bytecode, e->bclen, e->chunkname, "b");
}

/* }====== */

/* {====== Read-only library tables ======
** Every library table a script can reach (string, table, math, utf8,
** coroutine, os, process and its registry and event tables, channel,
** errors, time, security, ctx, and the string metatable) is an empty
** proxy: reads go through its __index to the library, writes fail, its
** metatable is protected, pairs lists the library, and rawset refuses it.
** So no script can change a function another part of its own code
** relies on (a library is per actor anyway, never shared). */

static lua_CFunction base_rawset, base_next;

static int ro_newindex(lua_State *L) {
  if (lua_type(L, 2) == LUA_TSTRING)
    return luaL_error(L, "attempt to modify a read-only library table "
                         "(field '%s')", lua_tostring(L, 2));
  return luaL_error(L, "attempt to modify a read-only library table");
}

/* Push the library behind the read-only view at 'idx' (its metatable's
** __index, read raw), or nil. */
static void ro_lib(lua_State *L, int idx) {
  if (!lua_getmetatable(L, idx)) {
    lua_pushnil(L);
    return;
  }
  lua_pushliteral(L, "__index");
  lua_rawget(L, -2);
  lua_remove(L, -2);
}

/* The iterator of pairs(view): next over the library, which it reaches
** through the view, so that no script ever holds the library itself (the
** state pairs returns is the view). */
static int ro_next(lua_State *L) {
  lua_settop(L, 2);
  ro_lib(L, 1);
  if (!lua_istable(L, -1)) return 0;
  lua_pushvalue(L, 2);
  if (lua_next(L, -2)) return 2;
  lua_pushnil(L);
  return 1;
}

/* pairs(view): the library's fields. */
static int ro_pairs(lua_State *L) {
  lua_settop(L, 1);
  ro_lib(L, 1);
  if (lua_istable(L, -1)) unlazy(L, -1);
  lua_pushcfunction(L, ro_next);
  lua_pushvalue(L, 1);
  lua_pushnil(L);
  return 3;
}

static int is_readonly(lua_State *L, int idx) {
  int ro;
  if (!lua_getmetatable(L, idx)) return 0;
  lua_pushliteral(L, "__newindex");
  lua_rawget(L, -2);
  ro = lua_tocfunction(L, -1) == ro_newindex;
  lua_pop(L, 2);
  return ro;
}

/* Replace the table on top with a read-only view of it. */
void wd__env_readonly(lua_State *L) {
  int lib = lua_gettop(L);
  lua_createtable(L, 0, 0);
  lua_createtable(L, 0, 4);
  lua_pushvalue(L, lib);
  lua_setfield(L, -2, "__index");
  lua_pushcfunction(L, ro_newindex);
  lua_setfield(L, -2, "__newindex");
  lua_pushcfunction(L, ro_pairs);
  lua_setfield(L, -2, "__pairs");
  lua_pushliteral(L, "read-only");
  lua_setfield(L, -2, "__metatable");
  lua_setmetatable(L, -2);
  lua_replace(L, lib);
}

/* rawset(t, k, v) as Lua's, refusing a library table. */
static int env_rawset(lua_State *L) {
  luaL_checktype(L, 1, LUA_TTABLE);
  if (is_readonly(L, 1))
    return luaL_error(L, "rawset: a library table is read-only");
  return base_rawset(L);
}

/* }====== */

/* {====== Building the environment ====== */

/*
** A new state holds only what every actor needs: empty globals whose
** metatable resolves a name on its first use (then stores it, so the
** next use is a plain table read), and the string metatable, whose
** __index is the string table, filled on its first use. Lua's own
** functions are taken once per process from a scratch state: a C
** function is the same code in every state, and a light C function (one
** without upvalues) costs a state no memory. ward's bindings find their
** actor through the extra space (ACTOR), so they need no upvalues
** either. Whatever a script does with a lazy table (assigns a built-in
** name, takes its metatable, iterates it with pairs, sets a metatable)
** first builds all of it and drops the lazy metatable, so a script sees
** the same environment as if everything had been opened at once; only
** rawget, rawset and next on such a table (_G, process) can tell a name
** not used yet.
*/

/* Lua's own functions that actors use unchanged, by name. */
static const char *const str_names[] = {
  "byte",    "char",  "find",   "format", "gmatch",   "gsub",
  "len",     "lower", "match",  "pack",   "packsize", "rep",
  "reverse", "sub",   "unpack", "upper",  NULL, /* not "dump" */
};
static const char *const strmeta_names[] = {
  "__add", "__sub", "__mul", "__mod", "__pow", "__div", "__idiv", "__unm", NULL,
};
static const char *const os_names[] = { "time", "clock", "date", "difftime",
                                        NULL };
static lua_CFunction str_fns[16], strmeta_fns[8], os_fns[4];

/* The functions of the string library that take an error object as
** their first argument as its message. */
static int str_call(lua_State *L, int i) {
  if (lua_type(L, 1) != LUA_TSTRING && wd_lerr_is(L, 1)) {
    wd_lerr_unpack(L, 1);
    lua_copy(L, -4, 1); /* the message */
    lua_pop(L, 5);
  }
  return str_fns[i](L);
}

#define STR_WRAP(name, i)                                                      \
  static int str_##name(lua_State *L) {                                        \
    return str_call(L, i);                                                     \
  }
STR_WRAP(byte, 0)
STR_WRAP(find, 2)
/* string.format: %s shows an id where Lua would show an address (the
** argument is converted first), and %p is refused. */
static int str_format(lua_State *L) {
  size_t fl;
  const char *f, *e;
  int arg = 1;
  if (lua_type(L, 1) != LUA_TSTRING) return str_call(L, 3);
  f = lua_tolstring(L, 1, &fl);
  e = f + fl;
  while (f < e) {
    char conv;
    if (*f++ != '%') continue;
    if (f < e && *f == '%') {
      f++;
      continue;
    }
    arg++;
    while (f < e && memchr("-+ #0", *f, 5) != NULL) f++;
    while (f < e && *f >= '0' && *f <= '9') f++;
    if (f < e && *f == '.')
      for (f++; f < e && *f >= '0' && *f <= '9'; f++) continue;
    if (f >= e) break;
    conv = *f++;
    if (conv == 'p')
      return luaL_error(L, "bad argument #%d to 'format' (%%p would show "
                           "an address)", arg);
    if (conv == 's' && arg <= lua_gettop(L) && shows_address(L, arg)) {
      env_tolstring(L, arg, NULL);
      lua_replace(L, arg);
    }
  }
  return str_call(L, 3);
}
STR_WRAP(gmatch, 4)
STR_WRAP(gsub, 5)
STR_WRAP(len, 6)
STR_WRAP(lower, 7)
STR_WRAP(match, 8)
STR_WRAP(rep, 11)
STR_WRAP(sub, 13)
STR_WRAP(upper, 15)

static const lua_CFunction str_wrapped[16] = {
  str_byte, NULL,      str_find,  str_format, str_gmatch, str_gsub,
  str_len,  str_lower, str_match, NULL,       NULL,       str_rep,
  NULL,     str_sub,   NULL,      str_upper,
};

/* Fill the string table at 's' (lazy until now) and make it plain. */
static void fill_string(lua_State *L, int s) {
  int i;
  s = lua_absindex(L, s);
  for (i = 0; str_names[i] != NULL; i++) {
    lua_pushcfunction(L, str_wrapped[i] ? str_wrapped[i] : str_fns[i]);
    lua_setfield(L, s, str_names[i]);
  }
  lua_pushnil(L);
  lua_setmetatable(L, s);
}

/* __index of the string table before its first use (a method call on a
** string). */
static int s_index(lua_State *L) {
  fill_string(L, 1);
  lua_settop(L, 2);
  lua_rawget(L, 1);
  return 1;
}

/* The string library as scripts see it: a read-only view of the string
** table (the __index of the string metatable), filled. One per state,
** made on first use. */
static const char strlib_key = 0, strmeta_key = 0;

static int open_string(lua_State *L) {
  if (lua_rawgetp(L, LUA_REGISTRYINDEX, &strlib_key) != LUA_TNIL) return 1;
  lua_pop(L, 1);
  lua_pushliteral(L, "");
  lua_getmetatable(L, -1);
  lua_pushliteral(L, "__index");
  lua_rawget(L, -2);
  if (lua_getmetatable(L, -1)) {
    lua_pop(L, 1);
    fill_string(L, -1);
  }
  wd__env_readonly(L);
  lua_pushvalue(L, -1);
  lua_rawsetp(L, LUA_REGISTRYINDEX, &strlib_key);
  return 1;
}

/* getmetatable(any string): a read-only copy of the string metatable
** whose __index is the read-only string library. */
static void push_string_meta(lua_State *L) {
  int i;
  if (lua_rawgetp(L, LUA_REGISTRYINDEX, &strmeta_key) != LUA_TNIL) return;
  lua_pop(L, 1);
  lua_createtable(L, 0, 9);
  for (i = 0; strmeta_names[i] != NULL; i++) {
    lua_pushcfunction(L, strmeta_fns[i]);
    lua_setfield(L, -2, strmeta_names[i]);
  }
  open_string(L);
  lua_setfield(L, -2, "__index");
  wd__env_readonly(L);
  lua_pushvalue(L, -1);
  lua_rawsetp(L, LUA_REGISTRYINDEX, &strmeta_key);
}

static int open_coroutine(lua_State *L) {
  static const luaL_Reg co_funcs[] = {
    { "resume", co_resume },
    { "spawn", co_spawn },
    { "wrap", co_wrap },
    { NULL, NULL },
  };
  luaopen_coroutine(L);
  luaL_setfuncs(L, co_funcs, 0);
  return 1;
}

/* A time-only os. */
static int open_os(lua_State *L) {
  int i;
  lua_createtable(L, 0, 4);
  for (i = 0; os_names[i] != NULL; i++) {
    lua_pushcfunction(L, os_fns[i]);
    lua_setfield(L, -2, os_names[i]);
  }
  return 1;
}

static int g_pairs(lua_State *L);

/* The globals, sorted by name. G_BASE: Lua's base function of that name;
** G_LIB: 'f' pushes the library table. Base without dofile and loadfile. */
enum { G_FN, G_BASE, G_LIB, G_SELF, G_VERSION };

typedef struct gdef {
  const char *name;
  int kind;
  lua_CFunction f;
} gdef;

static gdef gdefs[] = {
  { "_G", G_SELF, NULL },
  { "_VERSION", G_VERSION, NULL },
  { "assert", G_BASE, NULL },
  { "channel", G_LIB, luaopen_ward_channel },
  { "collectgarbage", G_FN, env_collectgarbage },
  { "coroutine", G_LIB, open_coroutine },
  { "error", G_BASE, NULL },
  { "errors", G_LIB, wd_lerr_open },
  { "getmetatable", G_FN, env_getmetatable },
  { "ipairs", G_BASE, NULL },
  { "load", G_FN, env_load },
  { "math", G_LIB, luaopen_math },
  { "next", G_BASE, NULL },
  { "os", G_LIB, open_os },
  { "pairs", G_BASE, NULL },
  { "pcall", G_FN, env_pcall },
  { "print", G_FN, env_print },
  { "process", G_LIB, luaopen_ward_process },
  { "rawequal", G_BASE, NULL },
  { "rawget", G_BASE, NULL },
  { "rawlen", G_BASE, NULL },
  { "rawset", G_FN, env_rawset },
  { "require", G_FN, env_require },
  { "select", G_BASE, NULL },
  { "setmetatable", G_FN, env_setmetatable },
  { "string", G_LIB, open_string },
  { "table", G_LIB, luaopen_table },
  { "tonumber", G_BASE, NULL },
  { "tostring", G_FN, env_tostring },
  { "type", G_BASE, NULL },
  { "utf8", G_LIB, luaopen_utf8 },
  { "warn", G_BASE, NULL },
  { "xpcall", G_FN, env_xpcall },
};

#define NGDEFS ((int)(sizeof gdefs / sizeof gdefs[0]))

/* The definition of the global named by the value at 'k', or NULL. */
static const gdef *gfind(lua_State *L, int k) {
  size_t len;
  const char *s;
  int lo = 0, hi = NGDEFS - 1;
  if (lua_type(L, k) != LUA_TSTRING) return NULL;
  s = lua_tolstring(L, k, &len);
  while (lo <= hi) {
    int mid = (lo + hi) / 2;
    int c = strcmp(s, gdefs[mid].name);
    if (c == 0) return strlen(s) == len ? &gdefs[mid] : NULL;
    if (c < 0)
      hi = mid - 1;
    else
      lo = mid + 1;
  }
  return NULL;
}

/* Push the value of global 'g'. */
static void gpush(lua_State *L, const gdef *g) {
  int top = lua_gettop(L);
  switch (g->kind) {
    case G_SELF:
      lua_pushglobaltable(L);
      break;
    case G_VERSION:
      lua_pushliteral(L, LUA_VERSION);
      break;
    case G_LIB:
      g->f(L);
      if (lua_gettop(L) > top + 1) {
        lua_replace(L, top + 1);
        lua_settop(L, top + 1);
      }
      if (!is_readonly(L, -1)) wd__env_readonly(L);
      break;
    default:
      lua_pushcfunction(L, g->f);
  }
}

/* __index of the globals: resolve a built-in name and keep it. */
static int g_index(lua_State *L) {
  const gdef *g = gfind(L, 2);
  if (g == NULL) return 0;
  lua_settop(L, 2);
  gpush(L, g);
  lua_pushvalue(L, 2);
  lua_pushvalue(L, 3);
  lua_rawset(L, 1);
  return 1;
}

/* Build every global not resolved yet into the globals at 'idx' and drop
** their lazy metatable. */
static void g_fill(lua_State *L, int idx) {
  int i;
  idx = lua_absindex(L, idx);
  lua_pushnil(L);
  lua_setmetatable(L, idx);
  for (i = 0; i < NGDEFS; i++) {
    lua_pushstring(L, gdefs[i].name);
    if (lua_rawget(L, idx) == LUA_TNIL) {
      lua_pushstring(L, gdefs[i].name);
      gpush(L, &gdefs[i]);
      lua_rawset(L, idx);
    }
    lua_pop(L, 1);
  }
}

/* __newindex of the globals (a name that is not there): a built-in name
** being assigned (maybe nil) makes the globals plain first, so that the
** assignment sticks. */
static int g_newindex(lua_State *L) {
  lua_settop(L, 3);
  if (gfind(L, 2) != NULL) g_fill(L, 1);
  lua_rawset(L, 1);
  return 0;
}

/* __pairs of the globals: pairs(_G) sees every global; the iterator is
** Lua's next, as pairs gives for any table. */
static int g_pairs(lua_State *L) {
  lua_settop(L, 1);
  g_fill(L, 1);
  lua_pushcfunction(L, base_next);
  lua_pushvalue(L, 1);
  lua_pushnil(L);
  return 3;
}

static int g_fillf(lua_State *L) {
  g_fill(L, 1);
  return 0;
}

/* The builder of the lazy table at 'idx' (pushed), or nothing (returns
** 0). A lazy table's metatable holds it at the key 'registry', a table
** no script can reach (the convention lprocess.c follows too). Reads
** raw: runs no script. */
static int lazy_builder(lua_State *L, int idx) {
  idx = lua_absindex(L, idx);
  if (lua_type(L, idx) != LUA_TTABLE || !lua_getmetatable(L, idx)) return 0;
  lua_pushvalue(L, LUA_REGISTRYINDEX);
  if (lua_rawget(L, -2) == LUA_TFUNCTION) {
    lua_remove(L, -2);
    return 1;
  }
  lua_pop(L, 2);
  return 0;
}

/* If the table at 'idx' is lazy, build all of it now. */
static void unlazy(lua_State *L, int idx) {
  idx = lua_absindex(L, idx);
  if (lazy_builder(L, idx)) {
    lua_pushvalue(L, idx);
    lua_call(L, 1, 0);
  }
}

/* Take Lua's own functions once per process (see the section head). */
static int harvest_p(lua_State *L) {
  int i;
  luaL_checkversion(L);
  lua_pushcfunction(L, luaopen_base);
  lua_call(L, 0, 1);
  lua_getfield(L, -1, "rawset");
  lua_getfield(L, -2, "next");
  if ((base_rawset = lua_tocfunction(L, -2)) == NULL ||
      (base_next = lua_tocfunction(L, -1)) == NULL)
    return luaL_error(L, "rawset");
  lua_pop(L, 2);
  for (i = 0; i < NGDEFS; i++) {
    if (gdefs[i].kind != G_BASE) continue;
    lua_getfield(L, -1, gdefs[i].name);
    gdefs[i].f = lua_tocfunction(L, -1);
    lua_pop(L, 1);
    if (gdefs[i].f == NULL) return luaL_error(L, "%s", gdefs[i].name);
  }
  lua_pushcfunction(L, luaopen_string);
  lua_call(L, 0, 1);
  for (i = 0; str_names[i] != NULL; i++) {
    lua_getfield(L, -1, str_names[i]);
    if ((str_fns[i] = lua_tocfunction(L, -1)) == NULL)
      return luaL_error(L, "%s", str_names[i]);
    lua_pop(L, 1);
  }
  lua_pushliteral(L, "");
  lua_getmetatable(L, -1);
  for (i = 0; strmeta_names[i] != NULL; i++) {
    lua_getfield(L, -1, strmeta_names[i]);
    if ((strmeta_fns[i] = lua_tocfunction(L, -1)) == NULL)
      return luaL_error(L, "%s", strmeta_names[i]);
    lua_pop(L, 1);
  }
  lua_pushcfunction(L, luaopen_os);
  lua_call(L, 0, 1);
  for (i = 0; os_names[i] != NULL; i++) {
    lua_getfield(L, -1, os_names[i]);
    if ((os_fns[i] = lua_tocfunction(L, -1)) == NULL)
      return luaL_error(L, "%s", os_names[i]);
    lua_pop(L, 1);
  }
  return 0;
}

int wd__env_harvest(void) {
  static int done;
  lua_State *L;
  int st;
  if (done) return 0;
  if ((L = luaL_newstate()) == NULL) return WD_ENOMEM;
  lua_pushcfunction(L, harvest_p);
  st = lua_pcall(L, 0, 0, 0);
  lua_close(L);
  if (st != LUA_OK) return WD_ENOMEM;
  done = 1;
  return 0;
}

/* The globals get the lazy metatable; a new state also gets that
** metatable and the string metatable made. A state reset for reuse
** (lstate.c) keeps both: no script can reach either (getmetatable and
** setmetatable build a lazy table before touching its metatable, and
** show strings a read-only copy), so they are as the state made them. */
int wd__env_setup(lua_State *L) {
  static const luaL_Reg g_meta[] = {
    { "__index", g_index },
    { "__newindex", g_newindex },
    { "__pairs", g_pairs },
    { NULL, NULL },
  };
  int i;
  lua_pushglobaltable(L);
  if (wd__state_keep_get(L, KEEP_GMETA) == LUA_TTABLE) {
    lua_setmetatable(L, -2);
    lua_pop(L, 1);
    return 0;
  }
  lua_pop(L, 1);
  lua_createtable(L, 0, 4);
  luaL_setfuncs(L, g_meta, 0);
  lua_pushvalue(L, LUA_REGISTRYINDEX);
  lua_pushcfunction(L, g_fillf);
  lua_rawset(L, -3);
  lua_pushvalue(L, -1);
  wd__state_keep_set(L, KEEP_GMETA);
  lua_setmetatable(L, -2);
  lua_pop(L, 1);
  /* The string metatable luaopen_string makes, with an empty __index. */
  lua_pushliteral(L, "");
  lua_createtable(L, 0, 9);
  for (i = 0; strmeta_names[i] != NULL; i++) {
    lua_pushcfunction(L, strmeta_fns[i]);
    lua_setfield(L, -2, strmeta_names[i]);
  }
  lua_newtable(L);
  lua_createtable(L, 0, 1);
  lua_pushcfunction(L, s_index);
  lua_setfield(L, -2, "__index");
  lua_setmetatable(L, -2);
  lua_setfield(L, -2, "__index");
  lua_setmetatable(L, -2);
  lua_pop(L, 1);
  return 0;
}

actor *wd__env_actor_of(lua_State *L) {
  return *(actor **)lua_getextraspace(L);
}


/*
** The main task's function, in C so that no state loads a boot chunk:
** run the entry's chunk; its function is what the chunk returned, or
** that table's field 'method'; call it with the decoded spawn arguments
** and return what it returns. Stack: chunk, spawn arguments (codec
** bytes, or nil for none). Continuations, so that the entry may block
** and be preempted.
*/
static int boot_done(lua_State *L, int status, lua_KContext ctx) {
  (void)status;
  return lua_gettop(L) - (int)ctx;
}

static int boot_run(lua_State *L, int status, lua_KContext ctx) {
  entry *e = ACTOR(L)->c.e;
  size_t len = 0;
  const uint8_t *args = NULL;
  int n = 0, fidx;
  if (lua_type(L, 2) == LUA_TSTRING)
    args = (const uint8_t *)lua_tolstring(L, 2, &len);
  (void)status;
  (void)ctx;
  /* 3: what the chunk returned */
  if (lua_type(L, 3) == LUA_TTABLE)
    lua_getfield(L, 3, e->method);
  else
    lua_pushvalue(L, 3);
  fidx = lua_gettop(L);
  if (lua_type(L, fidx) != LUA_TFUNCTION) {
    lua_pushfstring(L,
                    "entry %s: the script must return a function or a "
                    "table with a function '%s'",
                    e->id, e->method);
    return lua_error(L);
  }
  if (len > 0 && (n = wd_lcodec_decode(L, args, len)) < 0)
    return luaL_error(L, "corrupt spawn arguments");
  lua_callk(L, n, LUA_MULTRET, fidx - 1, boot_done);
  return boot_done(L, LUA_OK, fidx - 1);
}

static int boot_main(lua_State *L) {
  lua_settop(L, 2);
  lua_pushvalue(L, 1);
  lua_callk(L, 0, 1, 0, boot_run);
  return boot_run(L, LUA_OK, 0);
}

typedef struct bootargs {
  actor *a;
  const uint8_t *args;
  size_t alen;
  char err[512];
} bootargs;

/* Push the compiled chunk of the entry of 'a' (LUA_OK) or an error
** message. A state keeps the last chunk it loaded (lstate.c keeps it
** across a reset): a state from the pool has it already, with its _ENV
** set to the new globals here. */
static int push_chunk(lua_State *L, actor *a) {
  int st, top = lua_gettop(L);
  if (wd__state_keep_get(L, KEEP_ENTRY) == LUA_TLIGHTUSERDATA &&
      lua_touserdata(L, -1) == (void *)a->c.e &&
      wd__state_keep_get(L, KEEP_CHUNK) == LUA_TFUNCTION) {
    lua_remove(L, top + 1);
    lua_pushglobaltable(L);
    if (lua_setupvalue(L, -2, 1) == NULL) lua_pop(L, 1);
    return LUA_OK;
  }
  lua_settop(L, top);
  if ((st = load_entry(L, a, a->c.e)) != LUA_OK) return st;
  lua_pushvalue(L, -1);
  wd__state_keep_set(L, KEEP_CHUNK);
  lua_pushlightuserdata(L, a->c.e);
  wd__state_keep_set(L, KEEP_ENTRY);
  return LUA_OK;
}

static int env_boot_p(lua_State *L) {
  bootargs *ba = lua_touserdata(L, 1);
  actor *a = ba->a;
  task *t = wd__env_task_new_main(a, L);
  a->main = t;
  lua_pushcfunction(t->co, boot_main);
  if (push_chunk(t->co, a) != LUA_OK) {
    snprintf(ba->err, sizeof ba->err, "%s", lua_tostring(t->co, -1));
    return luaL_error(L, "%s", ba->err);
  }
  if (ba->alen > 0 && wd_codec_count(ba->args, ba->alen) != 0)
    lua_pushlstring(t->co, (const char *)ba->args, ba->alen);
  else
    lua_pushnil(t->co); /* no arguments */
  return 0;
}

int wd__env_boot(actor *a, const uint8_t *args, size_t alen, char *err,
                 size_t errlen) {
  lua_State *L = a->L;
  bootargs ba;
  int st;
  ba.a = a;
  ba.args = args;
  ba.alen = alen;
  ba.err[0] = '\0';
  lua_pushcfunction(L, env_boot_p);
  lua_pushlightuserdata(L, &ba);
  st = lua_pcall(L, 1, 0, 0);
  if (st != LUA_OK) {
    if (st == LUA_ERRMEM)
      snprintf(err, errlen, "memory limit (%zu bytes) too small to start",
               a->mem_limit);
    else
      snprintf(err, errlen, "%s", ba.err[0] ? ba.err : lua_tostring(L, -1));
    lua_pop(L, 1);
    while (a->tasks) wd__env_task_free(a->tasks);
    return st == LUA_ERRMEM ? WD_ELIMIT : WD_EINVAL;
  }
  /* A new state's collector was stopped while the environment and the
  ** code were built (wd__state_new): nothing of it is garbage yet. */
  if (!lua_gc(L, LUA_GCISRUNNING)) lua_gc(L, LUA_GCRESTART);
  wd__run_ready(a->main);
  return 0;
}

/* }====== */

/* {====== Upgrade ====== */

/* Restart 'a' on its pending upgrade entry (or the same one) with the
** pending arguments, in a fresh Lua state. PID, mailbox, names, links,
** monitors and cancel deadlines stay; subscriptions, coroutines and
** timers of the old code go (their queued messages return to the
** mailbox, in order). Returns 0 or a negative code with 'err'. */
int wd__env_upgrade(actor *a, char *err, size_t errlen) {
  wd_host *h = a->c.h;
  entry *e = a->c.e;
  sub *s;
  tmr *tm;
  wd_mbox keep;
  wd_msg *m;
  int r;
  if (a->upg_entry != NULL) e = wd__host_entry(h, a->upg_entry);
  if (e == NULL || e->library) {
    snprintf(err, errlen, "upgrade: entry not found: %s", a->upg_entry);
    return WD_ENOTFOUND;
  }
  /* The old code's requests in flight: their answers reach nobody (they
  ** used to find the freed task). */
  wd__host_request_drop(h, &a->c);
  while (a->tasks != NULL) wd__env_task_free(a->tasks);
  a->rhead = a->rtail = NULL;
  while ((tm = a->timers) != NULL) {
    a->timers = tm->next;
    wd__time_tmr_stop(tm);
  }
  wd__actor_mbox_init(&a->c, &keep);
  while ((s = a->c.subs) != NULL) {
    a->c.subs = s->next;
    while ((m = wd_mbox_pop(&s->q)) != NULL) wd_mbox_push(&keep, m);
    wd_free(s->topic);
    wd_free(s);
  }
  a->c.inbox = NULL;
  while ((m = wd_mbox_pop(&a->c.pending)) != NULL) wd_mbox_push(&keep, m);
  a->c.pending = keep;
  wd__state_release(a, 0);
  a->c.e = e;
  a->mem = 0;
  a->mem_limit = (size_t)h->lim.memory;
  if ((r = wd__state_new(a)) < 0) {
    snprintf(err, errlen, "upgrade: cannot create a new state");
    return r;
  }
  r = wd__env_boot(a, a->upg_args, a->upg_alen, err, errlen);
  wd_free(a->upg_entry);
  wd_free(a->upg_args);
  a->upg_entry = NULL;
  a->upg_args = NULL;
  a->upg_alen = 0;
  return r;
}

/* }====== */
