/*
** runtime/lua/lrun.c
** Running actors in Lua: the VM the actor core drives (wd_lua_vm: boot,
** run, notify, release, replies and exec results), a task resumed until
** it blocks, yields or ends, and an actor's end told in Lua values.
** Runs in: host (sandboxed).
*/
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lvm_int.h"
#include "lcodec.h"
#include "lerrors.h"

/* {====== Tasks ====== */

void wd__run_ready(task *t) {
  actor *a = t->a;
  if (t->ready || a->c.state != A_ALIVE) return;
  t->ready = 1;
  t->next = NULL;
  if (a->rtail) a->rtail->next = t;
  else a->rhead = t;
  a->rtail = t;
  wd__sched_ready(&a->c);
}

int wd__run_request(task *t, uint8_t op, wd_buf **body, size_t *start) {
  actor *a = t->a;
  int r = wd__host_request(a->c.h, &a->c, t, op, &t->w.req, body, start);
  if (r < 0) return r;
  t->w.kind = W_REPLY;
  t->w.done = 0;
  return 0;
}

/* }====== */

/* {====== Exits ====== */

/* Rendering a result is bounded whatever the value: each table is shown
** once (a table met again, shared or in a cycle, shows as <shared>), at
** most RENDER_DEPTH levels deep, and rendering stops after RENDER_NODES
** values or RENDER_BYTES of text ("..."). A small DAG of shared subtables
** once took its host seconds (issue 11). */
#define RENDER_DEPTH 8
#define RENDER_NODES 20000
#define RENDER_BYTES (64u << 10)

typedef struct rstate {
  wd_buf *b;
  int seen;     /* stack index of the set of tables shown */
  size_t nodes; /* values left to show */
  int cut;      /* the budget ran out: "..." written */
} rstate;

static void render(lua_State *L, int idx, rstate *r, int depth);

typedef struct skey {
  const char *s;
  size_t n;
} skey;

static int skey_cmp(const void *x, const void *y) {
  const skey *a = x, *c = y;
  int r = memcmp(a->s, c->s, a->n < c->n ? a->n : c->n);
  return r != 0 ? r : (a->n > c->n) - (a->n < c->n);
}

/* Is the budget spent? Says so once, in the text. */
static int render_spent(rstate *r) {
  if (r->cut) return 1;
  if (r->nodes > 0 && r->b->len < RENDER_BYTES) return 0;
  wd_buf_put(r->b, "...", 3);
  r->cut = 1;
  return 1;
}

/* The non-array entries of the table at 'idx': string keys in sorted
** order (so output is stable), then the other keys. */
static void render_keys(lua_State *L, int idx, lua_Integer len, rstate *r,
                        int depth, int first) {
  wd_buf *b = r->b;
  skey keys[64];
  size_t nk = 0, i;
  int top = lua_gettop(L);
  lua_pushnil(L);
  while (lua_next(L, idx)) {
    lua_pop(L, 1);
    if (lua_type(L, -1) == LUA_TSTRING && nk < WD_COUNTOF(keys)) {
      keys[nk].s = lua_tolstring(L, -1, &keys[nk].n);
      nk++;
    }
  }
  qsort(keys, nk, sizeof *keys, skey_cmp);
  for (i = 0; i < nk && !r->cut; i++) {
    if (!first) wd_buf_put(b, ", ", 2);
    first = 0;
    wd_buf_put(b, keys[i].s, keys[i].n);
    wd_buf_put(b, " = ", 3);
    lua_pushlstring(L, keys[i].s, keys[i].n);
    lua_rawget(L, idx);
    render(L, -1, r, depth + 1);
    lua_pop(L, 1);
  }
  /* Everything else (and string keys past the first 64). */
  lua_pushnil(L);
  while (!r->cut && lua_next(L, idx)) {
    int skip = lua_isinteger(L, -2) && lua_tointeger(L, -2) >= 1 &&
               lua_tointeger(L, -2) <= len;
    if (lua_type(L, -2) == LUA_TSTRING) {
      const char *k = lua_tostring(L, -2);
      for (i = 0; i < nk && !skip; i++)
        if (keys[i].s == k) skip = 1;
    }
    if (!skip) {
      if (!first) wd_buf_put(b, ", ", 2);
      first = 0;
      wd_buf_put_u8(b, '[');
      render(L, -2, r, depth + 1);
      wd_buf_put(b, "] = ", 4);
      render(L, -1, r, depth + 1);
    }
    lua_pop(L, 1);
  }
  lua_settop(L, top); /* a cut leaves a key behind */
}

/* Render a result value for people (ward run prints it). */
static void render(lua_State *L, int idx, rstate *r, int depth) {
  wd_buf *b = r->b;
  size_t n;
  const char *s;
  idx = lua_absindex(L, idx);
  if (render_spent(r)) return;
  r->nodes--;
  switch (lua_type(L, idx)) {
    case LUA_TTABLE: {
      int first = 1;
      lua_Integer i, len = (lua_Integer)lua_rawlen(L, idx);
      if (depth > RENDER_DEPTH || !lua_checkstack(L, 4)) {
        wd_buf_put(b, "{...}", 5);
        return;
      }
      lua_pushvalue(L, idx);
      if (lua_rawget(L, r->seen) != LUA_TNIL) {
        lua_pop(L, 1);
        wd_buf_put(b, "<shared>", 8);
        return;
      }
      lua_pop(L, 1);
      lua_pushvalue(L, idx);
      lua_pushboolean(L, 1);
      lua_rawset(L, r->seen);
      wd_buf_put_u8(b, '{');
      for (i = 1; i <= len && !r->cut; i++) {
        if (!first) wd_buf_put(b, ", ", 2);
        first = 0;
        lua_rawgeti(L, idx, i);
        render(L, -1, r, depth + 1);
        lua_pop(L, 1);
      }
      if (!r->cut) render_keys(L, idx, len, r, depth, first);
      if (!r->cut) wd_buf_put_u8(b, '}');
      return;
    }
    case LUA_TSTRING:
      s = lua_tolstring(L, idx, &n);
      if (n > RENDER_BYTES) n = RENDER_BYTES;
      if (depth > 0) wd_buf_put_u8(b, '"');
      wd_buf_put(b, s, n);
      if (depth > 0) wd_buf_put_u8(b, '"');
      return;
    default:
      if (wd_lerr_is(L, idx)) {
        s = wd_lerr_message(L, idx);
        if (s != NULL) wd_buf_put(b, s, strlen(s));
        return;
      }
      /* No metamethods: rendering runs no script code. */
      if (lua_type(L, idx) == LUA_TNUMBER) {
        lua_pushvalue(L, idx);
        s = lua_tolstring(L, -1, &n);
        wd_buf_put(b, s, n);
        lua_pop(L, 1);
      } else if (lua_type(L, idx) == LUA_TBOOLEAN) {
        s = lua_toboolean(L, idx) ? "true" : "false";
        wd_buf_put(b, s, strlen(s));
      } else {
        s = luaL_typename(L, idx);
        wd_buf_put(b, s, strlen(s));
      }
  }
}

/* Render the value at 'vidx' into 'b', within the bounds above. */
static void render_value(lua_State *L, int vidx, wd_buf *b) {
  rstate r;
  int top = lua_gettop(L);
  vidx = lua_absindex(L, vidx);
  if (!lua_checkstack(L, 8)) return;
  lua_newtable(L);
  r.b = b;
  r.seen = lua_gettop(L);
  r.nodes = RENDER_NODES;
  r.cut = 0;
  render(L, vidx, &r, 0);
  lua_settop(L, top);
}

/* The exit of 'a' with the value at 'vidx' of 'L' (0: none), for the
** broker: as text and as codec bytes. Runs outside any protected call, so
** it runs no script code (render uses no metamethods) and lifts the quota
** of the ending actor: the only error left is a real out-of-memory, which
** takes the host down (contained). */
static void report_exit(actor *a, uint32_t flags, lua_State *L, int vidx) {
  wd_host *h = a->c.h;
  wd_buf text, res;
  char err[128];
  a->mem_limit = SIZE_MAX;
  wd_buf_init(&text, RENDER_BYTES + 4096);
  wd_buf_init(&res, (size_t)h->lim.max_payload);
  /* The text and the value matter only to the broker's own watch (ward
  ** run, ward test, services); names and remote watchers need the exit. */
  if (vidx != 0 && a->c.report_exit) {
    render_value(L, vidx, &text);
    if (wd_lcodec_encode(L, vidx, 1, &res, (size_t)h->lim.max_payload, err,
                        sizeof err) < 0)
      wd_buf_reset(&res);
  }
  wd__host_exit_record(&a->c, flags, 0, &text, &res);
  wd_buf_close(&text);
  wd_buf_close(&res);
}

typedef struct luaev {
  actor *a;
  lua_State *L;
  int vidx, ok;
} luaev;

static int event_lua(void *ud, const char *kind, wd_buf *out) {
  const luaev *e = ud;
  return wd__event_build(e->L, e->a->c.pid, e->a->c.pidlen, kind, e->vidx,
                         e->ok, 0, out);
}

/* The common end of every actor but those wd__actor_end_error ends: it
** leaves the table so nothing new reaches it, its watchers are told, the
** broker gets its report when it watches (root, names, watchers on other
** hosts), it is freed. The value or error is at 'vidx'. The report comes
** after the events: the broker takes it to mean that this process sends
** nothing more, and forgets its watches (broker_life.c). */
static void finish(actor *a, lua_State *L, uint32_t flags, int vidx) {
  luaev e;
  a->mem_limit = SIZE_MAX; /* room to describe the end */
  e.a = a;
  e.L = L;
  e.vidx = vidx;
  e.ok = (flags & WD_EXIT_OK) != 0;
  wd__actor_leave(&a->c);
  wd__life_exit(&a->c, e.ok, event_lua, &e);
  if (a->c.report_exit || a->c.has_names || a->c.remote_watch)
    report_exit(a, flags, L, vidx);
  wd__actor_done(&a->c, 0);
}

/* Main returned 'nres' values on top of 'co' (reference §3.3). */
static void finish_ok(actor *a, lua_State *co, int nres) {
  int base = lua_gettop(co) - nres + 1;
  uint32_t flags = WD_EXIT_OK;
  int vidx = 0;
  a->mem_limit = SIZE_MAX;
  if (nres >= 2 && (lua_type(co, base + 1) == LUA_TSTRING ||
                    wd_lerr_is(co, base + 1))) {
    if (lua_type(co, base + 1) == LUA_TSTRING)
      wd_lerr_push(co, "Internal", lua_tostring(co, base + 1), 0);
    else
      lua_pushvalue(co, base + 1);
    flags = 0;
    vidx = lua_gettop(co);
  } else if (nres >= 1) {
    vidx = base;
    if (lua_type(co, base) == LUA_TBOOLEAN && !lua_toboolean(co, base))
      flags |= WD_EXIT_FALSE;
  }
  finish(a, co, flags, vidx);
}

static void finish_err(actor *a, lua_State *co, int status) {
  a->mem_limit = SIZE_MAX;
  if (status == LUA_ERRMEM) {
    char m[96];
    snprintf(m, sizeof m, "memory limit exceeded (%llu bytes)",
             (unsigned long long)a->c.h->lim.memory);
    wd_lerr_push(co, "LimitExceeded", m, 0);
  } else if (!wd_lerr_is(co, -1)) {
    wd_lerr_from_value(co, -1);
  }
  finish(a, co, 0, lua_gettop(co));
}

/* End 'a' with an error of 'kind' made here (limits, kills). When the
** broker need not hear of it, the events are written in C and the state
** is released untouched: a kill cascading through a chain of links makes
** no Lua object in any of the dying states. */
static void finish_msg(actor *a, const char *kind, const char *msg) {
  a->mem_limit = SIZE_MAX;
  if (a->c.report_exit || a->c.has_names || a->c.remote_watch) {
    lua_settop(a->L, 0);
    wd_lerr_push(a->L, kind, msg, 0);
    finish(a, a->L, 0, lua_gettop(a->L));
    return;
  }
  wd__actor_end_error(&a->c, kind, msg);
}

/* }====== */

/* {====== Running ====== */

static task *pop_task(actor *a) {
  task *t = a->rhead;
  if (t == NULL) return NULL;
  a->rhead = t->next;
  if (a->rhead == NULL) a->rtail = NULL;
  t->next = NULL;
  t->ready = 0;
  return t;
}

/* Run one task of 'a' until it blocks, yields or ends (wd_vm.run). */
static int vm_run(wd_actor *wa) {
  actor *a = VM(wa);
  task *t = pop_task(a);
  int st, nres = 0, nargs;
  if (a->c.killed) {
    finish_msg(a, "Internal", a->c.kill_msg);
    return WD_RUN_ENDED;
  }
  if (t == NULL) return WD_RUN_IDLE;
  a->yield_reason = Y_NONE;
  nargs = lua_gettop(t->co);
  if (lua_status(t->co) == LUA_YIELD) nargs = 0;
  else nargs -= 1; /* first run: function + arguments */
  a->running = t;
  a->nspawned = 0;
  wd__preempt_enter(a, t->co);
  st = lua_resume(t->co, NULL, nargs, &nres);
  wd__preempt_leave();
  a->running = NULL;
  /* Over its CPU budget, or too long inside a C call (lpreempt.c): it
  ** yielded or its error unwound to here, and it is never resumed. */
  if (a->doomed) {
    char m[sizeof a->doom_msg];
    memcpy(m, a->doom_msg, sizeof m);
    finish_msg(a, "LimitExceeded", m);
    return WD_RUN_ENDED;
  }
  if (a->c.killed) { /* it terminated itself */
    finish_msg(a, "Internal", a->c.kill_msg);
    return WD_RUN_ENDED;
  }
  if (a->yield_reason == Y_UPGRADE) {
    char err[512];
    lua_pop(t->co, nres);
    if (wd__env_upgrade(a, err, sizeof err) < 0) {
      finish_msg(a, "Internal", err);
      return WD_RUN_ENDED;
    }
    return a->rhead != NULL ? WD_RUN_MORE : WD_RUN_IDLE;
  }
  if (st == LUA_YIELD) {
    lua_pop(t->co, nres);
    if (a->yield_reason != Y_BLOCK) wd__run_ready(t);
    if (a->yield_reason == Y_PREEMPT) return WD_RUN_SLICE;
    return a->rhead != NULL ? WD_RUN_MORE : WD_RUN_IDLE;
  }
  if (st == LUA_OK) {
    if (!t->is_main) {
      lua_pop(t->co, nres);
      wd__env_task_free(t);
      return a->rhead != NULL ? WD_RUN_MORE : WD_RUN_IDLE;
    }
    finish_ok(a, t->co, nres);
    return WD_RUN_ENDED;
  }
  finish_err(a, t->co, st);
  return WD_RUN_ENDED;
}

/* }====== */

/* {====== The rest of wd_lua_vm ====== */

static int vm_boot(wd_actor *wa, const uint8_t *args, size_t alen, char *err,
                   size_t errlen) {
  actor *a = VM(wa);
  int r;
  a->mem_limit = (size_t)wa->h->lim.memory;
  if ((r = wd__state_new(a)) < 0) return r;
  if ((r = wd__env_boot(a, args, alen, err, errlen)) < 0) {
    wd__state_release(a, 1);
    return r;
  }
  return 0;
}

static void vm_notify(struct chan *ch) {
  wd__chan_notify(ch);
}

void wd__run_reclaim(actor *a) {
  wd_msg_free(a->decoding);
  wd_free(a->upg_entry);
  wd_free(a->upg_args);
  wd__event_exec_free(a);
  wd__actor_reclaim(&a->c);
}

static void vm_release(wd_actor *wa, int later) {
  actor *a = VM(wa);
  tmr *t;
  /* Tasks first: a sleeping task owns its timer. */
  while (a->tasks != NULL) wd__env_task_free(a->tasks);
  while ((t = a->timers) != NULL) {
    a->timers = t->next;
    wd__time_tmr_stop(t);
  }
  if (later) { /* 'a' may be gone when this returns */
    wd__state_release_actor(a);
    return;
  }
  wd__state_release(a, 1);
  wd__run_reclaim(a);
}

/* The broker answered the request task 't' of 'a' waits for. */
static void vm_reply(wd_actor *wa, struct task *t, uint32_t req,
                     int32_t status, const char *s, size_t n) {
  wd_host *h = wa->h;
  if (t->w.kind != W_REPLY || t->w.req != req) return;
  t->w.status = status;
  /* The link must exist before any event that follows this reply in the
  ** same frame (a linked child that fails at once). */
  if (t->w.link_on_reply && status >= 0 && n > 0 && s[0] != '=') {
    int local;
    uint64_t counter;
    /* A linked child on this host got both sides when it was made (2: the
    ** reply to a spawn). */
    wd__host_pid_is_local(h, s, n, &local, &counter);
    if (t->w.link_on_reply == 1 || local != 1)
      wd__life_watch_add(wa, WD_WATCH_LINK, s, n);
  }
  if (t->w.unlink_on_reply && status >= 0 && n > 0)
    wd__life_unlinked(wa, s, n);
  t->w.link_on_reply = 0;
  t->w.unlink_on_reply = 0;
  wd_free(t->w.rstr);
  t->w.rstr = wd_strndup(s, n);
  t->w.rlen = t->w.rstr ? n : 0;
  t->w.done = 1;
  wd__run_ready(t);
}

/* Reset or close the states of ended actors, within the budget. */
static int vm_idle(wd_host *h, uint64_t budget_ns) {
  (void)h;
  return wd__state_pool_work(budget_ns);
}

static void vm_configure(wd_host *h) {
  wd__preempt_config(h->lim.slice_ns);
}

static void vm_host_free(wd_host *h) {
  vmhost *v = h->vmdata;
  /* The pool's states refer to their entries: drain them first. */
  wd__state_pool_drain(h->entries, h->nentries);
  if (v != NULL) {
    if (v->compiler) lua_close(v->compiler);
    wd_free(v);
    h->vmdata = NULL;
  }
}

/* What 'a' uses: the bytes its allocator holds, its CPU time. */
static void vm_stat(const wd_actor *a, uint64_t *mem, uint64_t *cpu_ns) {
  const actor *x = (const actor *)a;
  *mem = x->mem;
  *cpu_ns = x->cpu_ns;
}

/* A send that task 't' of 'a' waited for is over (runtime/flow.c): its
** continuation reads how from t->w.sw. */
static void vm_send_done(wd_actor *wa, struct task *t) {
  (void)wa;
  if (t->w.kind != W_SEND) return;
  if (t->w.sleep != NULL) {
    wd__time_tmr_stop(t->w.sleep);
    t->w.sleep = NULL;
  }
  t->w.done = 1;
  wd__run_ready(t);
}

static const wd_vm lua_vm = {
    sizeof(actor), vm_boot,  vm_run,       vm_notify,    vm_release,
    wd__event_exec, vm_reply, vm_idle, wd__preempt_ticks, vm_configure,
    vm_host_free,   vm_stat,  vm_send_done,
};

const wd_vm *wd_lua_vm(void) {
  wd__preempt_start();
  return &lua_vm;
}

/* }====== */
