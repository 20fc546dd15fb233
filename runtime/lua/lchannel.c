/*
** runtime/lua/lchannel.c
** Channels (Go-like, process-local), select with first-ready priority, and
** the blocking machinery every waiting call uses: a task registers waiters,
** yields to the scheduler, and its continuation finishes the call.
** Runs in: host (sandboxed).
*/
#include <string.h>

#include "lvm_int.h"
#include "lerrors.h"

#define CHAN_MT "ward.channel"
#define CASE_MT "ward.case"

typedef struct cas {
  chan *ch;
  int is_send;
} cas;

/* {====== Waiters ====== */

static void q_append(waiter **q, waiter *w) {
  waiter *p = *q;
  w->next = NULL;
  if (p == NULL) {
    w->prev = NULL;
    *q = w;
    return;
  }
  while (p->next != NULL) p = p->next;
  p->next = w;
  w->prev = p;
}

static void q_remove(waiter **q, waiter *w) {
  if (w->prev) w->prev->next = w->next;
  else if (*q == w) *q = w->next;
  if (w->next) w->next->prev = w->prev;
  w->prev = w->next = NULL;
}

/* Can the references of 't' still be released in its state? */
static int task_alive(task *t) {
  return t->a->c.state == A_ALIVE && t->a->L != NULL;
}

/* Unregister every waiter of 't' and forget what it waited for. */
void wd__chan_wait_clear(task *t) {
  wait *w = &t->w;
  int i;
  for (i = 0; i < w->nw; i++) {
    waiter *x = &w->w[i];
    if (x->ch != NULL) q_remove(x->is_send ? &x->ch->sendq : &x->ch->recvq, x);
    if (x->valref != LUA_NOREF && task_alive(t))
      luaL_unref(t->a->L, LUA_REGISTRYINDEX, x->valref);
    x->valref = LUA_NOREF;
    x->ch = NULL;
  }
  if (w->w != NULL && w->w != &w->one) wd_free(w->w);
  w->w = NULL;
  w->nw = 0;
  if (w->sleep != NULL) {
    wd__time_tmr_stop(w->sleep);
    w->sleep = NULL;
  }
  if (w->kind == W_SEND) wd__flow_cancel(&w->sw);
  if (w->kind != W_REPLY && w->valref != LUA_NOREF && task_alive(t))
    luaL_unref(t->a->L, LUA_REGISTRYINDEX, w->valref);
  if (w->kind != W_REPLY) w->valref = LUA_NOREF;
  if (w->kind != W_REPLY) w->kind = W_NONE;
}

/* A peer finished the operation of waiter 'x' for its task. */
static void complete(waiter *x, int valref, int closed) {
  task *t = x->t;
  int fired = x->idx;
  /* The offered value of a completed send moved to the receiver. */
  if (x->is_send) x->valref = LUA_NOREF;
  wd__chan_wait_clear(t);
  t->w.kind = W_CHAN;
  t->w.done = 1;
  t->w.fired = fired;
  t->w.closed = closed;
  t->w.valref = valref;
  wd__run_ready(t);
}

/* New data or a close on a channel whose readers must look again. */
void wd__chan_notify(chan *ch) {
  while (ch->recvq != NULL) {
    task *t = ch->recvq->t;
    wd__chan_wait_clear(t);
    t->w.kind = W_CHAN;
    t->w.done = 0;
    wd__run_ready(t);
  }
}

task *wd__chan_task_current(lua_State *L) {
  actor *a = ACTOR(L);
  return a->running;
}

/* Yield the running task until a peer wakes it; 'k' finishes the call. */
int wd__chan_block(lua_State *L, task *t, lua_KFunction k, lua_KContext ctx) {
  t->a->yield_reason = Y_BLOCK;
  return lua_yieldk(L, 0, ctx, k);
}

/* }====== */

/* {====== Channel core ====== */

/* Registry keys of the two metatables, made on first use: a lookup by
** address hashes a pointer, where one by name (luaL_checkudata) interns
** the name first. The channel methods hold the channel metatable as
** upvalue 1 and check their argument against it, which touches nothing
** but the argument and the running closure (a ring of a thousand actors
** would otherwise read a thousand cold registries). */
static const char chan_key = 0, case_key = 0;

static int channel_send(lua_State *L);
static int channel_receive(lua_State *L);
static int channel_close(lua_State *L);
static int channel_case_send(lua_State *L);
static int channel_case_receive(lua_State *L);
static int channel_tostring(lua_State *L);

static void push_chan_meta(lua_State *L) {
  static const luaL_Reg meth[] = {
    { "send", channel_send },
    { "receive", channel_receive },
    { "close", channel_close },
    { "case_send", channel_case_send },
    { "case_receive", channel_case_receive },
    { NULL, NULL },
  };
  int i;
  if (lua_rawgetp(L, LUA_REGISTRYINDEX, &chan_key) != LUA_TNIL) return;
  lua_pop(L, 1);
  lua_createtable(L, 0, 4);
  lua_createtable(L, 0, 5);
  for (i = 0; meth[i].name != NULL; i++) {
    lua_pushvalue(L, -2);
    lua_pushcclosure(L, meth[i].func, 1);
    lua_setfield(L, -2, meth[i].name);
  }
  lua_setfield(L, -2, "__index");
  lua_pushvalue(L, -1);
  lua_pushcclosure(L, channel_tostring, 1);
  lua_setfield(L, -2, "__tostring");
  lua_pushliteral(L, "channel");
  lua_setfield(L, -2, "__metatable");
  lua_pushliteral(L, CHAN_MT);
  lua_setfield(L, -2, "__name");
  lua_pushvalue(L, -1);
  lua_rawsetp(L, LUA_REGISTRYINDEX, &chan_key);
}

static void push_case_meta(lua_State *L) {
  if (lua_rawgetp(L, LUA_REGISTRYINDEX, &case_key) != LUA_TNIL) return;
  lua_pop(L, 1);
  lua_createtable(L, 0, 2);
  lua_pushliteral(L, "case");
  lua_setfield(L, -2, "__metatable");
  lua_pushliteral(L, CASE_MT);
  lua_setfield(L, -2, "__name");
  lua_pushvalue(L, -1);
  lua_rawsetp(L, LUA_REGISTRYINDEX, &case_key);
}

/* The case at 'idx' (its metatable is the one at 'case_key'), or NULL. */
static cas *testcase(lua_State *L, int idx) {
  cas *c = lua_touserdata(L, idx);
  int ok;
  if (c == NULL || !lua_getmetatable(L, idx)) return NULL;
  lua_rawgetp(L, LUA_REGISTRYINDEX, &case_key);
  ok = lua_rawequal(L, -1, -2);
  lua_pop(L, 2);
  return ok ? c : NULL;
}

chan *wd__chan_new(lua_State *L, actor *a, int kind, int cap) {
  chan *ch = lua_newuserdatauv(L, sizeof *ch, 1);
  memset(ch, 0, sizeof *ch);
  ch->kind = kind;
  ch->a = a;
  ch->cap = cap < 0 ? 0 : cap;
  if (kind == CH_LUA) {
    lua_createtable(L, cap > 0 && cap < 64 ? cap : 0, 0);
    lua_setiuservalue(L, -2, 1);
  }
  push_chan_meta(L);
  lua_setmetatable(L, -2);
  return ch;
}

/* The channel at 'idx'; only for the functions push_chan_meta makes. */
static chan *checkchan(lua_State *L, int idx) {
  chan *ch = lua_touserdata(L, idx);
  int ok = 0;
  if (ch != NULL && lua_getmetatable(L, idx)) {
    ok = lua_rawequal(L, -1, lua_upvalueindex(1));
    lua_pop(L, 1);
  }
  if (!ok) luaL_typeerror(L, idx, CHAN_MT);
  return ch;
}

static int ready_recv(chan *ch) {
  switch (ch->kind) {
    case CH_LUA:
      return ch->count > 0 || ch->sendq != NULL || ch->closed;
    case CH_SUB:
      return ch->closed || (ch->sub != NULL && ch->sub->q.count > 0);
    default:
      return ch->fired || ch->closed;
  }
}

static int ready_send(chan *ch) {
  return ch->closed || ch->recvq != NULL || ch->count < ch->cap;
}

/* Push ring slot values: the user value table of the channel at 'ci'. */
static void ring_put(lua_State *L, int ci, chan *ch, int vidx) {
  vidx = lua_absindex(L, vidx);
  lua_getiuservalue(L, ci, 1);
  lua_pushvalue(L, vidx);
  lua_rawseti(L, -2, (ch->head + ch->count) % ch->cap + 1);
  lua_pop(L, 1);
  ch->count++;
}

static void ring_take(lua_State *L, int ci, chan *ch) {
  lua_getiuservalue(L, ci, 1);
  lua_rawgeti(L, -1, ch->head + 1);
  lua_pushnil(L);
  lua_rawseti(L, -3, ch->head + 1);
  lua_remove(L, -2);
  ch->head = (ch->head + 1) % ch->cap;
  ch->count--;
}

/* Receive from a ready channel at stack index 'ci': pushes value, ok. */
static void do_recv(lua_State *L, int ci, chan *ch) {
  ci = lua_absindex(L, ci);
  switch (ch->kind) {
    case CH_LUA:
      if (ch->count > 0) {
        ring_take(L, ci, ch);
        if (ch->sendq != NULL) {
          waiter *s = ch->sendq;
          lua_rawgeti(L, LUA_REGISTRYINDEX, s->valref);
          ring_put(L, ci, ch, -1);
          lua_pop(L, 1);
          luaL_unref(L, LUA_REGISTRYINDEX, s->valref);
          s->valref = LUA_NOREF;
          complete(s, LUA_NOREF, 0);
        }
        lua_pushboolean(L, 1);
      } else if (ch->sendq != NULL) {
        waiter *s = ch->sendq;
        lua_rawgeti(L, LUA_REGISTRYINDEX, s->valref);
        luaL_unref(L, LUA_REGISTRYINDEX, s->valref);
        s->valref = LUA_NOREF;
        complete(s, LUA_NOREF, 0);
        lua_pushboolean(L, 1);
      } else {
        lua_pushnil(L);
        lua_pushboolean(L, 0);
      }
      return;
    case CH_SUB:
      if (ch->sub != NULL && ch->sub->q.count > 0) {
        wd_msg *m = wd_mbox_pop(&ch->sub->q);
        actor *a = ch->a;
        a->c.nqueued--;
        wd__flow_taken(&a->c);
        /* A memory error while decoding ends the actor: 'decoding' lets
        ** actor_free release the message then. */
        a->decoding = m;
        wd__process_msg_push(L, a, m, ch->sub->msgmode);
        a->decoding = NULL;
        wd_msg_free(m);
        lua_pushboolean(L, 1);
      } else {
        lua_pushnil(L);
        lua_pushboolean(L, 0);
      }
      return;
    default:
      if (ch->fired) {
        ch->fired = 0;
        wd__time_push(L, ch->fired_at);
        lua_pushboolean(L, 1);
      } else {
        lua_pushnil(L);
        lua_pushboolean(L, 0);
      }
  }
}

/* Send the value at 'vidx' on a ready channel at 'ci'. */
static void do_send(lua_State *L, int ci, chan *ch, int vidx) {
  ci = lua_absindex(L, ci);
  if (ch->closed) luaL_error(L, "send on closed channel");
  if (ch->kind != CH_LUA)
    luaL_error(L, "cannot send on a subscription or timer channel");
  if (ch->recvq != NULL) {
    lua_pushvalue(L, vidx);
    complete(ch->recvq, luaL_ref(L, LUA_REGISTRYINDEX), 0);
    return;
  }
  ring_put(L, ci, ch, vidx);
}

void wd__chan_close(lua_State *L, chan *ch) {
  if (ch->closed) return;
  ch->closed = 1;
  while (ch->sendq != NULL) {
    waiter *s = ch->sendq;
    if (s->valref != LUA_NOREF) luaL_unref(L, LUA_REGISTRYINDEX, s->valref);
    s->valref = LUA_NOREF;
    complete(s, LUA_NOREF, 1);
  }
  while (ch->recvq != NULL) complete(ch->recvq, LUA_NOREF, 1);
}

/* }====== */

/* {====== Select ====== */

/* Stack layout while selecting: 1 = cases table, 2 = has default. The
** result table is {channel = ch, value = v, ok = bool} or
** {default = true, ok = true}. */
static void push_result(lua_State *L, int ci, int vidx, int ok) {
  ci = lua_absindex(L, ci);
  vidx = lua_absindex(L, vidx);
  lua_createtable(L, 0, 3);
  lua_pushvalue(L, ci);
  lua_setfield(L, -2, "channel");
  lua_pushvalue(L, vidx);
  lua_setfield(L, -2, "value");
  lua_pushboolean(L, ok);
  lua_setfield(L, -2, "ok");
}

/* Get case i (1-based) of the cases table at 1: pushes the case's channel
** userdata and value (nil for receives); returns the case or NULL. */
static cas *get_case(lua_State *L, lua_Integer i) {
  cas *c;
  lua_rawgeti(L, 1, i);
  c = testcase(L, -1);
  if (c == NULL) {
    lua_pop(L, 1);
    return NULL;
  }
  lua_getiuservalue(L, -1, 1); /* channel */
  lua_getiuservalue(L, -2, 2); /* value */
  lua_remove(L, -3);
  return c;
}

static int select_k(lua_State *L, int status, lua_KContext ctx);

/* 'mode' 0: channel.select; 1: a blocking ch:send (returns true). */
static int select_try(lua_State *L, int allow_default, int mode) {
  lua_Integer i, n = (lua_Integer)lua_rawlen(L, 1);
  task *t;
  int nw = 0, k;
  for (i = 1; i <= n; i++) {
    cas *c = get_case(L, i);
    if (c == NULL) continue;
    if (c->is_send ? ready_send(c->ch) : ready_recv(c->ch)) {
      int ci = lua_gettop(L) - 1;
      if (c->is_send) {
        do_send(L, ci, c->ch, ci + 1);
        if (mode == 1) {
          lua_pushboolean(L, 1);
          return 1;
        }
        push_result(L, ci, ci + 1, 1);
      } else {
        do_recv(L, ci, c->ch);
        push_result(L, ci, -2, lua_toboolean(L, -1));
      }
      return 1;
    }
    lua_pop(L, 2);
    nw++;
  }
  if (allow_default) {
    lua_createtable(L, 0, 2);
    lua_pushboolean(L, 1);
    lua_setfield(L, -2, "default");
    lua_pushboolean(L, 1);
    lua_setfield(L, -2, "ok");
    return 1;
  }
  if (nw == 0) return luaL_error(L, "select: no cases to wait on");
  t = wd__chan_task_current(L);
  if (t == NULL || !lua_isyieldable(L))
    return luaL_error(L, "select: cannot block here");
  t->w.w = nw == 1 ? &t->w.one : wd_calloc((size_t)nw, sizeof(waiter));
  if (t->w.w == NULL) return luaL_error(L, "not enough memory");
  t->w.nw = nw;
  t->w.kind = W_CHAN;
  t->w.done = 0;
  for (i = 1, k = 0; i <= n; i++) {
    cas *c = get_case(L, i);
    waiter *x;
    if (c == NULL) continue;
    x = &t->w.w[k++];
    x->t = t;
    x->ch = c->ch;
    x->idx = (int)i;
    x->is_send = c->is_send;
    x->valref = LUA_NOREF;
    if (c->is_send) {
      x->valref = luaL_ref(L, LUA_REGISTRYINDEX);
      q_append(&c->ch->sendq, x);
    } else {
      lua_pop(L, 1);
      q_append(&c->ch->recvq, x);
    }
    lua_pop(L, 1);
  }
  lua_settop(L, 2);
  return wd__chan_block(L, t, select_k, mode);
}

static int select_k(lua_State *L, int status, lua_KContext ctx) {
  task *t = wd__chan_task_current(L);
  (void)status;
  lua_settop(L, 2);
  if (t->w.kind == W_CHAN && t->w.done) {
    int fired = t->w.fired, closed = t->w.closed, ref = t->w.valref;
    cas *c;
    t->w.valref = LUA_NOREF;
    t->w.kind = W_NONE;
    t->w.done = 0;
    c = get_case(L, fired);
    if (c == NULL) return luaL_error(L, "select: cases changed while waiting");
    if (c->is_send) {
      if (closed) return luaL_error(L, "send on closed channel");
      if (ctx == 1) {
        lua_pushboolean(L, 1);
        return 1;
      }
      push_result(L, -2, -1, 1);
      return 1;
    }
    lua_pop(L, 1);
    if (ref != LUA_NOREF) {
      lua_rawgeti(L, LUA_REGISTRYINDEX, ref);
      luaL_unref(L, LUA_REGISTRYINDEX, ref);
    } else {
      lua_pushnil(L);
    }
    push_result(L, -2, -1, !closed);
    return 1;
  }
  t->w.kind = W_NONE;
  return select_try(L, 0, (int)ctx);
}

/* channel.select(cases [, default]) -> result table  [-1|2, +1, e] */
static int channel_select(lua_State *L) {
  int dflt;
  luaL_checktype(L, 1, LUA_TTABLE);
  lua_getfield(L, 1, "default");
  dflt = lua_toboolean(L, -1) || lua_toboolean(L, 2);
  lua_settop(L, 1);
  lua_pushboolean(L, dflt);
  return select_try(L, dflt, 0);
}

/* }====== */

/* {====== Channel methods ====== */

/* Build a one-case select from a method call and run it. */
/* Push a case for the channel at 1 (and, to send, the value at 2). */
static int make_case(lua_State *L, int is_send) {
  cas *c;
  checkchan(L, 1);
  c = lua_newuserdatauv(L, sizeof *c, 2);
  c->ch = lua_touserdata(L, 1);
  c->is_send = is_send;
  lua_pushvalue(L, 1);
  lua_setiuservalue(L, -2, 1);
  if (is_send) {
    lua_pushvalue(L, 2);
    lua_setiuservalue(L, -2, 2);
  }
  push_case_meta(L);
  lua_setmetatable(L, -2);
  return 1;
}

static int single(lua_State *L, int is_send) {
  lua_settop(L, is_send ? 2 : 1);
  lua_createtable(L, 1, 0);
  make_case(L, is_send);
  lua_rawseti(L, -2, 1);
  lua_replace(L, 1);
  lua_settop(L, 1);
  lua_pushboolean(L, 0);
  return select_try(L, 0, 1);
}

static int recv_k(lua_State *L, int status, lua_KContext ctx);

/* Receive from 'ch', the checked channel at 1 (the only slot). */
static int receive_on(lua_State *L, chan *ch) {
  task *t;
  if (ready_recv(ch)) {
    do_recv(L, 1, ch);
    return 2;
  }
  t = wd__chan_task_current(L);
  if (t == NULL || !lua_isyieldable(L))
    return luaL_error(L, "receive: cannot block here");
  t->w.w = &t->w.one;
  t->w.nw = 1;
  t->w.kind = W_CHAN;
  t->w.done = 0;
  t->w.one.t = t;
  t->w.one.ch = ch;
  t->w.one.idx = 1;
  t->w.one.is_send = 0;
  t->w.one.valref = LUA_NOREF;
  q_append(&ch->recvq, &t->w.one);
  return wd__chan_block(L, t, recv_k, 0);
}

/* ch:receive() -> value, ok  [-1, +2, e] */
static int channel_receive(lua_State *L) {
  chan *ch = checkchan(L, 1);
  lua_settop(L, 1);
  return receive_on(L, ch);
}

static int recv_k(lua_State *L, int status, lua_KContext ctx) {
  task *t = wd__chan_task_current(L);
  (void)status;
  (void)ctx;
  lua_settop(L, 1);
  if (t->w.kind == W_CHAN && t->w.done) {
    int ref = t->w.valref, closed = t->w.closed;
    t->w.valref = LUA_NOREF;
    t->w.kind = W_NONE;
    t->w.done = 0;
    if (ref != LUA_NOREF) {
      lua_rawgeti(L, LUA_REGISTRYINDEX, ref);
      luaL_unref(L, LUA_REGISTRYINDEX, ref);
    } else {
      lua_pushnil(L);
    }
    lua_pushboolean(L, !closed);
    return 2;
  }
  t->w.kind = W_NONE;
  /* Woken to look again: slot 1 still holds the channel checked before. */
  return receive_on(L, lua_touserdata(L, 1));
}

/* ch:send(v) -> true  [-2, +1, e] */
static int channel_send(lua_State *L) {
  chan *ch = checkchan(L, 1);
  if (lua_gettop(L) < 2) lua_pushnil(L);
  lua_settop(L, 2);
  if (ch->kind != CH_LUA)
    return luaL_error(L, "cannot send on a subscription or timer channel");
  if (ch->closed) return luaL_error(L, "send on closed channel");
  if (ready_send(ch)) {
    do_send(L, 1, ch, 2);
    lua_pushboolean(L, 1);
    return 1;
  }
  return single(L, 1);
}

/* ch:close() -> true; closing twice is a no-op. */
static int channel_close(lua_State *L) {
  chan *ch = checkchan(L, 1);
  if (ch->kind == CH_SUB)
    return luaL_error(L, "close a subscription with process.unlisten");
  wd__chan_close(L, ch);
  lua_pushboolean(L, 1);
  return 1;
}


static int channel_case_send(lua_State *L) {
  return make_case(L, 1);
}

static int channel_case_receive(lua_State *L) {
  return make_case(L, 0);
}

static int channel_tostring(lua_State *L) {
  chan *ch = checkchan(L, 1);
  lua_pushfstring(L, "channel{cap=%d, len=%d%s}", ch->cap, ch->count,
                  ch->closed ? ", closed" : "");
  return 1;
}

/* channel.new([n]) -> channel */
static int channel_new(lua_State *L) {
  lua_Integer n = luaL_optinteger(L, 1, 0);
  if (n > 1000000) return luaL_argerror(L, 1, "buffer size too large");
  wd__chan_new(L, ACTOR(L), CH_LUA, n < 0 ? 0 : (int)n);
  return 1;
}

/* }====== */

/* Pushes the channel table; the metatables are made on first use. */
int luaopen_ward_channel(lua_State *L) {
  static const luaL_Reg funcs[] = {
    { "new", channel_new },
    { "select", channel_select },
    { NULL, NULL },
  };
  luaL_newlib(L, funcs);
  return 1;
}
