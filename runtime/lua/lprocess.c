/*
** runtime/lua/lprocess.c
** The 'process' global: identity, send, spawn, topics and the inbox,
** Message objects, and the name registry. Local targets are served in
** the host; everything else goes to the broker as a request and the
** calling task waits for the reply.
** Runs in: host (sandboxed).
*/
#include <string.h>

#include "lvm_int.h"
#include "lcodec.h"
#include "lerrors.h"
#include "ward/wd_proto.h"
#include "ward/wd_time.h"

#define MSG_MT "ward.message"

/* {====== Helpers ====== */

/* Is 'pid' (len) a PID of this host? Sets *counter. -1: not a PID. */
static int pid_local(wd_host *h, const char *pid, size_t len,
                     uint64_t *counter) {
  const char *hid;
  size_t hl;
  if (wd_pid_parse(pid, len, &hid, &hl, counter) < 0) return -1;
  return hl == h->idlen && memcmp(hid, h->id, hl) == 0;
}

/* Encode the values at first..top into the host scratch buffer, after
** 'front' bytes of room ('scratch_front': a send to another host, whose
** record's head may go there, wd__host_put_payload; the room is not
** cleared: the link writes a head there and sends nothing before it).
** On failure pushes nil, err and returns 2; 0 on success. */
static int encode_room(lua_State *L, actor *a, int first, size_t front) {
  wd_host *h = a->c.h;
  char err[256];
  int n = lua_gettop(L) - first + 1, r;
  wd_buf_reset(&h->scratch);
  h->scratch_front = 0;
  if (n <= 0) return 0;
  if (front > 0) {
    if (wd_buf_reserve(&h->scratch, front) < 0)
      return luaL_error(L, "not enough memory");
    h->scratch.len = h->scratch_front = front;
  }
  r = wd_lcodec_encode(L, first, n, &h->scratch, (size_t)h->lim.max_payload,
                      err, sizeof err);
  if (r < 0) return wd_lerr_pushf(L, r, "%s", err);
  return 0;
}

static int encode_args(lua_State *L, actor *a, int first) {
  return encode_room(L, a, first, 0);
}

/* The running task, or raise: a call that waits needs a task context. */
static task *need_task(lua_State *L, const char *fn) {
  task *t = wd__chan_task_current(L);
  if (t == NULL || !lua_isyieldable(L))
    luaL_error(L, "%s: cannot wait for the broker here (inside a "
                  "metamethod or a C call)", fn);
  return t;
}

/* Continuations for requests (lifecycle ones too: a remote link records
** this side when the reply arrives, wd_host_on_reply). ctx: 0 -> true;
** 1 -> the reply string; 2 -> boolean "1"/"0"; 3 -> the reply string, a
** PID the name at 1 was looked up to, which the host keeps. */
static int reply_k(lua_State *L, int status, lua_KContext ctx) {
  task *t = wd__chan_task_current(L);
  int32_t st = t->w.status;
  (void)status;
  t->w.kind = W_NONE;
  t->w.done = 0;
  if (st < 0) {
    const char *m = t->w.rstr ? t->w.rstr : wd_strerror(st);
    return wd_lerr_pushf(L, st, "%s", m);
  }
  switch ((int)ctx) {
    case 3: /* a lookup: this host keeps the name (runtime/flow.c) */
      if (t->w.rstr != NULL && t->w.rlen > 0 && lua_type(L, 1) == LUA_TSTRING) {
        size_t nl;
        const char *name = lua_tolstring(L, 1, &nl);
        wd__flow_name_put(ACTOR(L)->c.h, t->w.nm_epoch, name, nl, t->w.rstr,
                          t->w.rlen);
      }
      /* fall through */
    case 1:
      lua_pushlstring(L, t->w.rstr ? t->w.rstr : "", t->w.rlen);
      break;
    case 2:
      lua_pushboolean(L, t->w.rlen == 1 && t->w.rstr[0] == '1');
      break;
    default:
      lua_pushboolean(L, 1);
  }
  return 1;
}

static int wait_reply(lua_State *L, task *t, wd_host *h, size_t start,
                      int kind) {
  int r = wd__host_request_end(h, start);
  if (r < 0) {
    /* The record did not fit a frame: forget the request. */
    wd__host_request_cancel(h, t->w.req);
    t->w.kind = W_NONE;
    return wd_lerr_pushf(L, r, "request too large");
  }
  return wd__chan_block(L, t, reply_k, kind);
}

/* }====== */

/* {====== Identity ====== */

/* process.pid() -> string */
static int process_pid(lua_State *L) {
  actor *a = ACTOR(L);
  lua_pushlstring(L, a->c.pid, a->c.pidlen);
  return 1;
}

/* process.id() -> the running entry's id */
static int process_id(lua_State *L) {
  actor *a = ACTOR(L);
  lua_pushstring(L, a->c.e->id);
  return 1;
}

/* }====== */

/* {====== send ====== */

/* The task a send may suspend, or NULL where it cannot wait (outside a
** task, inside a metamethod or a C call): there a full mailbox fails at
** once. */
static task *send_task(lua_State *L) {
  task *t = wd__chan_task_current(L);
  return t != NULL && lua_isyieldable(L) ? t : NULL;
}

/* The send of task 't' is over (runtime/flow.c): its outcome, or its
** send_timeout passed first. Argument 1 is still the destination. */
static int send_k(lua_State *L, int status, lua_KContext ctx) {
  task *t = wd__chan_task_current(L);
  actor *a = ACTOR(L);
  int32_t st = t->w.sw.status;
  const char *dest = lua_tostring(L, 1);
  (void)status;
  (void)ctx;
  if (t->w.sleep != NULL) {
    wd__time_tmr_stop(t->w.sleep);
    t->w.sleep = NULL;
  }
  t->w.done = 0;
  if (st == WD_SW_WAIT) {
    wd__flow_cancel(&t->w.sw);
    t->w.kind = W_NONE;
    return wd_lerr_pushf(L, WD_EMBOXFULL, "mailbox full: %s (no room within "
                         "the send_timeout of %llu ms)", dest ? dest : "?",
                         (unsigned long long)(a->c.h->send_timeout_ns /
                                              1000000));
  }
  t->w.kind = W_NONE;
  if (st == WD_ENOTFOUND || st == WD_ENOACTOR)
    return wd_lerr_pushf(L, WD_ENOTFOUND, "process not found: %s",
                         dest ? dest : "?");
  if (st == WD_EUNAVAIL)
    return wd_lerr_pushf(L, st, "send failed: the host of %s went down",
                         dest ? dest : "?");
  if (st < 0) return wd_lerr_pushf(L, st, "send failed");
  wd__hstat_out(&a->c);
  lua_pushboolean(L, 1);
  return 1;
}

/* Suspend 't' until its send is over or send_timeout passes. */
static int send_wait(lua_State *L, actor *a, task *t) {
  uint64_t ns = a->c.h->send_timeout_ns;
  t->w.kind = W_SEND;
  t->w.done = 0;
  if (ns != 0) {
    t->w.sleep = wd__time_wake_after(a, t, ns > INT64_MAX ? INT64_MAX
                                                          : (int64_t)ns);
    if (t->w.sleep == NULL) {
      wd__flow_cancel(&t->w.sw);
      t->w.kind = W_NONE;
      return luaL_error(L, "not enough memory");
    }
  }
  return wd__chan_block(L, t, send_k, 0);
}

static int process_send(lua_State *L);

/* May a send of 'n' bytes by 'a' wait? Not when the messages of its sends
** that wait already hold its memory limit: they are outside its Lua
** state, and would let one process keep any amount of its host's memory
** (a task per send, one string shared by all). One may always wait. */
static int may_wait(const actor *a, size_t n) {
  return a->c.swait_bytes == 0 ||
         (a->c.swait_bytes <= a->mem_limit &&
          n <= a->mem_limit - a->c.swait_bytes);
}

static int hoard_error(lua_State *L, const char *dest) {
  return wd_lerr_pushf(L, WD_EMBOXFULL, "mailbox full: %s (and the sends of "
                       "this process that wait hold its memory limit)", dest);
}

/* A name nobody holds, or one the caller may not look up: the same
** answer, so that a send by name is no oracle. */
static int no_such_name(lua_State *L, const char *name, size_t n) {
  return wd_lerr_pushf(L, WD_ENOTFOUND, "could not resolve '%.*s' as PID "
                       "or registered name", (int)n, name);
}

/* The send again with the name at 1 replaced by its PID. */
static int send_to_pid(lua_State *L, const char *pid, size_t pl) {
  lua_pushlstring(L, pid, pl);
  lua_replace(L, 1);
  return process_send(L);
}

/* The broker answered the LOOKUP of a send by name (the name is at 1). */
static int send_name_k(lua_State *L, int status, lua_KContext ctx) {
  task *t = wd__chan_task_current(L);
  actor *a = ACTOR(L);
  int32_t st = t->w.status;
  size_t nl;
  const char *name = lua_tolstring(L, 1, &nl);
  char pid[WD_PID_MAX];
  size_t pl = t->w.rlen;
  (void)status;
  t->w.kind = W_NONE;
  t->w.done = 0;
  if (st == WD_ENOTFOUND || st == WD_EDENIED || st == WD_EINVAL)
    return no_such_name(L, name, nl);
  if (st < 0)
    return wd_lerr_pushf(L, st, "%s", t->w.rstr ? t->w.rstr : wd_strerror(st));
  if (t->w.rstr == NULL || pl == 0 || pl >= sizeof pid)
    return no_such_name(L, name, nl);
  memcpy(pid, t->w.rstr, pl);
  wd__flow_name_put(a->c.h, (unsigned)ctx, name, nl, pid, pl);
  return send_to_pid(L, pid, pl);
}

/* A send to registered name 'name': by the PID this host looked it up
** to (runtime/flow.c; the broker tells the host when that changes), or
** after a LOOKUP, whose answer the host keeps. Either way the caller must
** be allowed process.registry.lookup on the name, as a lookup would. */
static int send_by_name(lua_State *L, actor *a, const char *name, size_t nl) {
  wd_host *h = a->c.h;
  size_t pl, st;
  const char *cached;
  char pid[WD_PID_MAX];
  task *t;
  wd_buf *b;
  int r;
  if (nl == 0 || nl > 255 || memchr(name, '\0', nl) != NULL)
    return no_such_name(L, name, nl);
  if ((cached = wd__flow_name_get(h, name, nl, &pl)) == NULL) {
    t = need_task(L, "process.send");
    if ((r = wd__run_request(t, WD_OP_LOOKUP, &b, &st)) < 0)
      return wd_lerr_pushf(L, r, "send failed");
    wd_buf_put_str(b, name, nl);
    wd_buf_put_str(b, a->c.pid, a->c.pidlen);
    if ((r = wd__host_request_end(h, st)) < 0) {
      wd__host_request_cancel(h, t->w.req);
      t->w.kind = W_NONE;
      return wd_lerr_pushf(L, r, "request too large");
    }
    return wd__chan_block(L, t, send_name_k,
                          (lua_KContext)wd__flow_name_epoch(h));
  }
  memcpy(pid, cached, pl);
  if (wd__policy_allow(L, a, wd_ops_name(WD_ACT_LOOKUP), name, nl, NULL,
                       NULL)) {
    const char *m = wd_lerr_message(L, -1);
    if (m != NULL && strncmp(m, "permission denied", 17) == 0) {
      lua_pop(L, 2);
      return no_such_name(L, name, nl);
    }
    return 2;
  }
  return send_to_pid(L, pid, pl);
}

/* process.send(dest, topic, ...) -> true | nil, err  [-(2+n), +1|2, e] */
static int process_send(lua_State *L) {
  actor *a = ACTOR(L);
  wd_host *h = a->c.h;
  size_t dl, tl, st;
  const char *dest, *topic;
  const uint8_t *pl;
  size_t pn;
  uint64_t counter, limit = 0;
  task *t;
  int r, hoard;
  if (lua_gettop(L) < 2)
    return wd_lerr_pushf(L, WD_EINVAL, "send requires at least destination "
                                       "and topic arguments");
  dest = luaL_checklstring(L, 1, &dl);
  topic = luaL_checklstring(L, 2, &tl);
  if (tl == 0) return wd_lerr_pushf(L, WD_EINVAL, "topic cannot be empty");
  if (topic[0] == '@')
    return wd_lerr_pushf(L, WD_EINVAL, "cannot send to @ topics");
  if (tl > WD_TOPIC_MAX || memchr(topic, '\0', tl) != NULL)
    return wd_lerr_pushf(L, WD_EINVAL, "topic longer than %d bytes or "
                                       "holding a NUL byte", WD_TOPIC_MAX);
  r = pid_local(h, dest, dl, &counter);
  if (r < 0)
    return send_by_name(L, a, dest, dl);
  /* To another host, the payload may go to the link as it is, its
  ** record's head in front of it. */
  if (encode_room(L, a, 3, r == 0 ? WD_HOST_SEND_FRONT : 0)) return 2;
  pl = h->scratch.p != NULL ? h->scratch.p + h->scratch_front : NULL;
  pn = h->scratch.len - h->scratch_front;
  /* A PID is checked here; a name only the broker can resolve, and it
  ** checks the resolved PID. */
  if (r >= 0 &&
      wd__policy_allow_pid(L, a, wd_ops_name(WD_ACT_SEND), dest, dl, topic))
    return 2;
  if (r == 1) {
    actor *to = VM(wd__actor_find(h, counter));
    wd_msg *m;
    if (to == NULL || to->c.state != A_ALIVE)
      return wd_lerr_pushf(L, WD_ENOTFOUND, "process not found: %s", dest);
    m = wd_msg_new(a->c.pid, a->c.pidlen, topic, tl, h->scratch.p,
                   h->scratch.len);
    if (m == NULL) return luaL_error(L, "not enough memory");
    t = send_task(L);
    hoard = t != NULL && !may_wait(a, h->scratch.len);
    r = wd__flow_local(&a->c, &to->c, m, t && !hoard ? &t->w.sw : NULL, t);
    if (r == WD_FLOW_WAIT) return send_wait(L, a, t);
    if (r < 0) {
      wd_msg_free(m);
      if (r == WD_EMBOXFULL && hoard) return hoard_error(L, dest);
      if (r == WD_EMBOXFULL)
        return wd_lerr_pushf(L, r, "mailbox full: %s", dest);
      return wd_lerr_pushf(L, WD_ENOTFOUND, "process not found: %s", dest);
    }
    wd__hstat_out(&a->c);
    lua_pushboolean(L, 1);
    return 1;
  }
  if (r == 0) { /* another host's: no round trip (runtime/flow.c) */
    t = send_task(L);
    hoard = t != NULL && !may_wait(a, pn);
    r = wd__flow_remote(&a->c, dest, dl, topic, tl, pl, pn,
                        t && !hoard ? &t->w.sw : NULL, t, &limit);
    switch (r) {
      case 0:
        wd__hstat_out(&a->c);
        lua_pushboolean(L, 1);
        return 1;
      case WD_FLOW_WAIT:
        return send_wait(L, a, t);
      case WD_FLOW_REQ: /* not a host's: the broker answers */
        break;
      case WD_ETOOBIG:
        return wd_lerr_pushf(L, r, "payload too large (%zu bytes, limit "
                             "%llu on the receiving host)", pn,
                             (unsigned long long)limit);
      case WD_ENOTFOUND:
        return wd_lerr_pushf(L, r, "process not found: %s", dest);
      case WD_EMBOXFULL:
        if (hoard) return hoard_error(L, dest);
        return wd_lerr_pushf(L, r, "mailbox full: %s (no credit left, and "
                             "a send cannot wait here)", dest);
      default:
        return wd_lerr_pushf(L, r, "send failed");
    }
  }
  {
    wd_buf *b;
    t = need_task(L, "process.send");
    if ((r = wd__run_request(t, WD_OP_SEND, &b, &st)) < 0)
      return wd_lerr_pushf(L, r, "send failed");
    wd_buf_put_str(b, a->c.pid, a->c.pidlen);
    wd_buf_put_str(b, dest, dl);
    wd_buf_put_str(b, topic, tl);
    wd__host_put_payload(h, b, pl, pn);
    wd__hstat_out(&a->c);
    return wait_reply(L, t, h, st, 0);
  }
}

/* }====== */

/* {====== spawn ====== */

/* process.spawn*(id, host, ...) -> pid | nil, err. 'flags' picks the
** variant: WD_SPAWN_MONITOR and/or WD_SPAWN_LINK. */
static int spawn_variant(lua_State *L, uint32_t flags, const char *fn) {
  actor *a = ACTOR(L);
  size_t il, hl;
  const char *id, *host;
  spawnopt o;
  if (lua_gettop(L) < 2)
    return wd_lerr_pushf(L, WD_EINVAL, "%s requires at least id and host "
                                       "arguments", fn);
  id = luaL_checklstring(L, 1, &il);
  host = luaL_checklstring(L, 2, &hl);
  if (encode_args(L, a, 3)) return 2;
  wd__spawn_inherit(a, &o, flags);
  return wd__spawn_do(L, a, id, il, host, hl, &o, NULL, 0);
}

static int process_spawn(lua_State *L) {
  return spawn_variant(L, 0, "spawn");
}

static int process_spawn_monitored(lua_State *L) {
  return spawn_variant(L, WD_SPAWN_MONITOR, "spawn_monitored");
}

static int process_spawn_linked(lua_State *L) {
  return spawn_variant(L, WD_SPAWN_LINK, "spawn_linked");
}

static int process_spawn_linked_monitored(lua_State *L) {
  return spawn_variant(L, WD_SPAWN_LINK | WD_SPAWN_MONITOR,
                       "spawn_linked_monitored");
}

/* process.exec(id, host, ...) -> the child's value | nil, err */
static int process_exec(lua_State *L) {
  actor *a = ACTOR(L);
  size_t il, hl;
  const char *id, *host;
  spawnopt o;
  if (lua_gettop(L) < 2)
    return wd_lerr_pushf(L, WD_EINVAL, "exec requires at least id and "
                                       "host arguments");
  id = luaL_checklstring(L, 1, &il);
  host = luaL_checklstring(L, 2, &hl);
  if (memchr(id, ':', il) == NULL)
    return wd_lerr_pushf(L, WD_EINVAL, "invalid process ID format "
                                       "(namespace:name required): %s", id);
  if (encode_args(L, a, 3)) return 2;
  wd__spawn_inherit(a, &o, WD_SPAWN_EXEC);
  return wd__spawn_do(L, a, id, il, host, hl, &o, NULL, 1);
}

/* }====== */

/* {====== Lifecycle: monitors, links, terminate, cancel ====== */

/* Send a lifecycle request for 'dest' (a PID on another host, or a name
** the broker resolves) and wait for the answer. */
static int life_remote(lua_State *L, actor *a, uint8_t op, const char *fn,
                       const char *dest, size_t dl, uint64_t deadline,
                       const wd_buf *payload) {
  wd_host *h = a->c.h;
  task *t = need_task(L, fn);
  wd_buf *b;
  size_t st;
  int r;
  if ((r = wd__run_request(t, op, &b, &st)) < 0)
    return wd_lerr_pushf(L, r, "%s failed", fn);
  wd_buf_put_str(b, a->c.pid, a->c.pidlen);
  wd_buf_put_str(b, dest, dl);
  if (op == WD_OP_CANCEL) {
    wd_buf_put_u64(b, deadline);
    wd_buf_put(b, payload->p, payload->len);
  }
  r = wd__host_request_end(h, st);
  if (r < 0) {
    wd__host_request_cancel(h, t->w.req);
    t->w.kind = W_NONE;
    return wd_lerr_pushf(L, r, "%s failed", fn);
  }
  /* What the reply must do, once the request is on its way: add the
  ** link; by a name, drop this side when the reply names the PID
  ** (runtime/life.c). */
  if (op == WD_OP_LINK) t->w.link_on_reply = 1;
  if (op == WD_OP_UNLINK) t->w.unlink_on_reply = 1;
  /* Its end must reach the broker, which then has the target's host drop
  ** the monitor (FORGET). */
  if (op == WD_OP_MONITOR) a->c.remote_watch = 1;
  lua_settop(L, 1);
  return wd__chan_block(L, t, reply_k, 0);
}

/* The local target of 'dest', or NULL; *remote says whether it is
** another host's PID or a name. */
static actor *life_target(lua_State *L, actor *a, const char *fn,
                          const char **dest, size_t *dl, int *remote) {
  int local;
  uint64_t counter;
  if (lua_gettop(L) < 1 || lua_isnil(L, 1)) {
    *dest = NULL;
    return NULL;
  }
  *dest = luaL_checklstring(L, 1, dl);
  (void)fn;
  wd__host_pid_is_local(a->c.h, *dest, *dl, &local, &counter);
  *remote = local != 1;
  return local == 1 ? VM(wd__actor_find(a->c.h, counter)) : NULL;
}

static int life_is_pid(actor *a, const char *dest, size_t dl) {
  uint64_t counter;
  return pid_local(a->c.h, dest, dl, &counter) >= 0;
}

static int life_call(lua_State *L, uint8_t op, const char *fn) {
  actor *a = ACTOR(L);
  const char *dest;
  size_t dl;
  int remote = 0, r;
  actor *t = life_target(L, a, fn, &dest, &dl, &remote);
  if (dest == NULL)
    return wd_lerr_pushf(L, WD_EINVAL, "%s requires a destination argument",
                         fn);
  if (life_is_pid(a, dest, dl) &&
      wd__policy_allow_pid(L, a, wd_ops_name(wd_ops_act(op)), dest, dl, NULL))
    return 2;
  if (remote) return life_remote(L, a, op, fn, dest, dl, 0, NULL);
  if (t == NULL || t->c.killed) {
    if (op == WD_OP_UNMONITOR || op == WD_OP_UNLINK) {
      lua_pushboolean(L, 1);
      return 1;
    }
    return wd_lerr_pushf(L, WD_ENOTFOUND, "process not found: %s", dest);
  }
  switch (op) {
    case WD_OP_MONITOR:
      if (t == a)
        return wd_lerr_pushf(L, WD_EINVAL, "a process cannot monitor itself");
      r = wd__life_watch_add(&t->c, WD_WATCH_MONITOR, a->c.pid, a->c.pidlen);
      if (r == WD_EEXIST)
        return wd_lerr_pushf(L, WD_EEXIST, "already monitoring %s", dest);
      if (r < 0) return wd_lerr_pushf(L, r, "monitor failed");
      break;
    case WD_OP_UNMONITOR:
      wd__life_watch_del(&t->c, WD_WATCH_MONITOR, a->c.pid, a->c.pidlen);
      break;
    case WD_OP_LINK:
      if (t == a)
        return wd_lerr_pushf(L, WD_EINVAL, "a process cannot link to itself");
      wd__life_watch_add(&t->c, WD_WATCH_LINK, a->c.pid, a->c.pidlen);
      wd__life_watch_add(&a->c, WD_WATCH_LINK, t->c.pid, t->c.pidlen);
      break;
    case WD_OP_UNLINK:
      wd__life_watch_del(&t->c, WD_WATCH_LINK, a->c.pid, a->c.pidlen);
      wd__life_watch_del(&a->c, WD_WATCH_LINK, t->c.pid, t->c.pidlen);
      break;
    default: /* WD_OP_TERMINATE */
      wd__life_kill(&t->c, "process terminated");
      if (t == a) {
        /* Terminating yourself: no more of your Lua runs. */
        task *tk = need_task(L, fn);
        return wd__chan_block(L, tk, reply_k, 0);
      }
  }
  lua_pushboolean(L, 1);
  return 1;
}

/* process.monitor(dest) -> true | nil, err */
static int process_monitor(lua_State *L) {
  return life_call(L, WD_OP_MONITOR, "monitor");
}

static int process_unmonitor(lua_State *L) {
  return life_call(L, WD_OP_UNMONITOR, "unmonitor");
}

static int process_link(lua_State *L) {
  return life_call(L, WD_OP_LINK, "link");
}

static int process_unlink(lua_State *L) {
  actor *a = ACTOR(L);
  size_t dl;
  /* Drop this side at once, whatever the other side answers; but only
  ** once the unlink is allowed (a denied call changes nothing). */
  if (lua_type(L, 1) == LUA_TSTRING) {
    const char *d = lua_tolstring(L, 1, &dl);
    if (life_is_pid(a, d, dl) &&
        wd__policy_allow_pid(L, a, wd_ops_name(WD_ACT_UNLINK), d, dl, NULL))
      return 2;
    wd__life_watch_del(&a->c, WD_WATCH_LINK, d, dl);
  }
  return life_call(L, WD_OP_UNLINK, "unlink");
}

/* process.terminate(dest) -> true | nil, err  (asynchronous) */
static int process_terminate(lua_State *L) {
  return life_call(L, WD_OP_TERMINATE, "terminate");
}

/* process.cancel(dest [, deadline]) -> true | nil, err. The deadline is
** a duration string or milliseconds; ward enforces it: a target still
** alive when it passes is terminated. */
static int process_cancel(lua_State *L) {
  actor *a = ACTOR(L);
  const char *dest;
  size_t dl;
  int remote = 0, r;
  uint64_t deadline = 0;
  actor *t;
  if (!lua_isnoneornil(L, 2)) {
    int64_t ns;
    if (lua_type(L, 2) == LUA_TSTRING) {
      size_t sl;
      const char *s = lua_tolstring(L, 2, &sl);
      if (wd_duration_parse(s, sl, &ns) < 0)
        return wd_lerr_pushf(L, WD_EINVAL, "invalid duration format: %s", s);
    } else if (lua_isinteger(L, 2)) {
      lua_Integer ms = lua_tointeger(L, 2);
      if (ms < 0)
        return wd_lerr_pushf(L, WD_EINVAL, "deadline must not be negative");
      /* Saturate: a deadline centuries away is no deadline to speak of. */
      ns = ms > INT64_MAX / 1000000 ? INT64_MAX : (int64_t)ms * 1000000;
    } else {
      return wd_lerr_pushf(L, WD_EINVAL, "deadline must be either a "
                                         "duration string or milliseconds "
                                         "number");
    }
    if (ns < 0)
      return wd_lerr_pushf(L, WD_EINVAL, "deadline must not be negative");
    deadline = wd__host_now_ns() + (uint64_t)ns; /* < 2^64: no wrap */
  }
  lua_settop(L, 1);
  t = life_target(L, a, "cancel", &dest, &dl, &remote);
  if (dest == NULL)
    return wd_lerr_pushf(L, WD_EINVAL, "cancel requires at least "
                                       "destination argument");
  if (life_is_pid(a, dest, dl) &&
      wd__policy_allow_pid(L, a, wd_ops_name(WD_ACT_CANCEL), dest, dl, NULL))
    return 2;
  if (!remote && (t == NULL || t->c.killed))
    return wd_lerr_pushf(L, WD_ENOTFOUND, "process not found: %s", dest);
  r = wd__event_build(L, a->c.pid, a->c.pidlen, "pid.cancel", 0, 1, deadline,
                      &a->c.h->scratch);
  if (r < 0) return wd_lerr_pushf(L, r, "cancel failed");
  if (remote)
    return life_remote(L, a, WD_OP_CANCEL, "cancel", dest, dl, deadline,
                       &a->c.h->scratch);
  /* A CANCEL is queued like a message: refused when the mailbox is full. */
  if (wd__actor_room(&t->c, a->c.pidlen + 7 + a->c.h->scratch.len) < 0)
    return wd_lerr_pushf(L, WD_EMBOXFULL, "mailbox full: %s", dest);
  wd__life_event_in(a->c.h, WD_EV_CANCEL, a->c.pid, a->c.pidlen, t->c.pid,
                    t->c.pidlen, deadline, a->c.h->scratch.p,
                    a->c.h->scratch.len);
  lua_pushboolean(L, 1);
  return 1;
}

/* process.get_options() -> {trap_links = bool} */
static int process_get_options(lua_State *L) {
  actor *a = ACTOR(L);
  lua_createtable(L, 0, 1);
  lua_pushboolean(L, a->c.trap_links);
  lua_setfield(L, -2, "trap_links");
  return 1;
}

/* process.set_options({trap_links = bool}) -> true | false, err */
static int process_set_options(lua_State *L) {
  actor *a = ACTOR(L);
  if (!lua_istable(L, 1)) {
    lua_pushboolean(L, 0);
    wd_lerr_pushf(L, WD_EINVAL, "options parameter must be a table");
    lua_remove(L, -2);
    return 2;
  }
  lua_pushnil(L);
  while (lua_next(L, 1)) {
    const char *k = lua_type(L, -2) == LUA_TSTRING ? lua_tostring(L, -2)
                                                   : NULL;
    if (k != NULL && strcmp(k, "trap_links") == 0) {
      if (!lua_isboolean(L, -1)) {
        lua_pushboolean(L, 0);
        wd_lerr_pushf(L, WD_EINVAL, "trap_links must be a boolean");
        lua_remove(L, -2);
        return 2;
      }
      a->c.trap_links = lua_toboolean(L, -1);
    } else {
      lua_pushboolean(L, 0);
      if (k != NULL)
        wd_lerr_pushf(L, WD_EINVAL, "option %s is not supported", k);
      else
        wd_lerr_pushf(L, WD_EINVAL, "option keys must be strings");
      lua_remove(L, -2);
      return 2;
    }
    lua_pop(L, 1);
  }
  lua_pushboolean(L, 1);
  return 1;
}

/* Drop a pending upgrade (its request failed). */
static void upgrade_forget(actor *a) {
  wd_free(a->upg_entry);
  wd_free(a->upg_args);
  a->upg_entry = NULL;
  a->upg_args = NULL;
  a->upg_alen = 0;
}

/* The broker's answer to UPGRADE: the entry is now on this host. */
static int upgrade_k(lua_State *L, int status, lua_KContext ctx) {
  task *t = wd__chan_task_current(L);
  actor *a = ACTOR(L);
  int32_t st = t->w.status;
  (void)status;
  (void)ctx;
  t->w.kind = W_NONE;
  t->w.done = 0;
  if (st < 0) {
    upgrade_forget(a);
    return wd_lerr_pushf(L, st, "%s",
                         t->w.rstr ? t->w.rstr : wd_strerror(st));
  }
  a->yield_reason = Y_UPGRADE;
  return lua_yield(L, 0);
}

/* process.upgrade(id | nil, ...): restart on the new (or same) entry with
** the arguments, keeping PID, mailbox, names, links and monitors. Another
** entry is decided as process.upgrade on its id (the same one needs
** nothing); one this host does not hold yet is asked of the broker, which
** decides again and ships it. */
static int process_upgrade(lua_State *L) {
  actor *a = ACTOR(L);
  wd_host *h = a->c.h;
  const char *id = NULL;
  size_t il = 0, st;
  entry *e = NULL;
  task *t;
  wd_buf *b;
  int r;
  if (!lua_isnil(L, 1)) id = luaL_checklstring(L, 1, &il);
  if (id != NULL) {
    if (il == 0 || il >= 300 || memchr(id, '\0', il) != NULL)
      return wd_lerr_pushf(L, WD_EINVAL, "upgrade: invalid entry id");
    if (wd__policy_allow(L, a, wd_ops_name(WD_ACT_UPGRADE), id, il, h->id,
                         NULL))
      return 2;
    e = wd__host_entry(h, id);
    if (e != NULL && e->library)
      return wd_lerr_pushf(L, WD_ENOTFOUND, "upgrade: entry not found on "
                                            "host %s: %s", h->id, id);
  }
  if (encode_args(L, a, 2)) return 2;
  t = need_task(L, "upgrade");
  wd_free(a->upg_entry);
  wd_free(a->upg_args);
  a->upg_entry = id ? wd_strdup(id) : NULL;
  a->upg_args = wd_malloc(h->scratch.len ? h->scratch.len : 1);
  a->upg_alen = h->scratch.len;
  if (a->upg_args == NULL || (id != NULL && a->upg_entry == NULL))
    return luaL_error(L, "not enough memory");
  memcpy(a->upg_args, h->scratch.p, h->scratch.len);
  if (id == NULL || e != NULL) {
    a->yield_reason = Y_UPGRADE;
    return lua_yield(L, 0);
  }
  if ((r = wd__run_request(t, WD_OP_UPGRADE, &b, &st)) < 0) {
    upgrade_forget(a);
    return wd_lerr_pushf(L, r, "upgrade failed");
  }
  wd_buf_put_str(b, a->c.pid, a->c.pidlen);
  wd_buf_put_str(b, id, il);
  if ((r = wd__host_request_end(h, st)) < 0) {
    wd__host_request_cancel(h, t->w.req);
    t->w.kind = W_NONE;
    upgrade_forget(a);
    return wd_lerr_pushf(L, r, "upgrade request too large");
  }
  return wd__chan_block(L, t, upgrade_k, 0);
}


/* }====== */

/* {====== Topics, inbox, Message objects ====== */

/* A Message object: a userdata holding topic and sender PID (their Lua
** strings are made only when asked for), the payload its user value. */
typedef struct msgud {
  size_t topiclen, fromlen;
  char data[]; /* topic, then sender */
} msgud;

static const char msg_key = 0; /* registry key of the Message metatable */

static int message_tostring(lua_State *L);
static int message_topic(lua_State *L);
static int message_from(lua_State *L);
static int message_payload(lua_State *L);

/* Push the Message metatable, made on first use. */
static void push_msg_meta(lua_State *L) {
  static const luaL_Reg msg_meth[] = {
    { "topic", message_topic },
    { "from", message_from },
    { "payload", message_payload },
    { NULL, NULL },
  };
  if (lua_rawgetp(L, LUA_REGISTRYINDEX, &msg_key) != LUA_TNIL) return;
  lua_pop(L, 1);
  lua_createtable(L, 0, 4);
  luaL_newlib(L, msg_meth);
  lua_setfield(L, -2, "__index");
  lua_pushcfunction(L, message_tostring);
  lua_setfield(L, -2, "__tostring");
  lua_pushboolean(L, 0);
  lua_setfield(L, -2, "__metatable");
  lua_pushliteral(L, MSG_MT);
  lua_setfield(L, -2, "__name");
  lua_pushvalue(L, -1);
  lua_rawsetp(L, LUA_REGISTRYINDEX, &msg_key);
}

int wd__process_msg_push(lua_State *L, actor *a, wd_msg *m, int msgmode) {
  int base = lua_gettop(L), n;
  msgud *u;
  (void)a;
  if (m->kind == WD_MSG_EVENT)
    n = wd_lcodec_decode_event(L, m->payload, m->plen);
  else
    n = wd_lcodec_decode(L, m->payload, m->plen);
  if (n < 0) n = 0;
  if (n == 0)
    lua_pushnil(L);
  else if (n > 1) {
    int i;
    lua_createtable(L, n, 0);
    for (i = 1; i <= n; i++) {
      lua_pushvalue(L, base + i);
      lua_rawseti(L, -2, i);
    }
    lua_replace(L, base + 1);
    lua_settop(L, base + 1);
  }
  if (!msgmode) return 1;
  u = lua_newuserdatauv(L, sizeof *u + m->topiclen + m->fromlen, 1);
  u->topiclen = m->topiclen;
  u->fromlen = m->fromlen;
  memcpy(u->data, m->topic, m->topiclen);
  if (m->fromlen > 0) memcpy(u->data + m->topiclen, m->from, m->fromlen);
  lua_insert(L, -2);
  lua_setiuservalue(L, -2, 1);
  push_msg_meta(L);
  lua_setmetatable(L, -2);
  return 1;
}

static msgud *checkmsg(lua_State *L) {
  msgud *u = lua_touserdata(L, 1);
  int ok = 0;
  if (u != NULL && lua_getmetatable(L, 1)) {
    push_msg_meta(L);
    ok = lua_rawequal(L, -1, -2);
    lua_pop(L, 2);
  }
  if (!ok) luaL_typeerror(L, 1, MSG_MT);
  return u;
}

static int message_topic(lua_State *L) {
  msgud *u = checkmsg(L);
  lua_pushlstring(L, u->data, u->topiclen);
  return 1;
}

/* msg:from() -> sender PID, or nil when the sender is unknown. */
static int message_from(lua_State *L) {
  msgud *u = checkmsg(L);
  if (u->fromlen > 0)
    lua_pushlstring(L, u->data + u->topiclen, u->fromlen);
  else
    lua_pushnil(L);
  return 1;
}

/* msg:payload() -> the data: nil, the value, or an array of values. */
static int message_payload(lua_State *L) {
  checkmsg(L);
  lua_getiuservalue(L, 1, 1);
  return 1;
}

static int message_tostring(lua_State *L) {
  message_topic(L);
  lua_pushfstring(L, "process.Message{topic=%s}", lua_tostring(L, -1));
  return 1;
}

static sub *sub_find(actor *a, const char *topic) {
  sub *s;
  for (s = a->c.subs; s != NULL; s = s->next)
    if (topic == NULL ? s->topic == NULL
                      : (s->topic != NULL && strcmp(s->topic, topic) == 0))
      return s;
  return NULL;
}

/* Subscribe 'topic' (NULL: the inbox); pushes the channel. */
static void subscribe(lua_State *L, actor *a, const char *topic,
                      int msgmode) {
  sub *s = sub_find(a, topic);
  chan *ch;
  if (s != NULL) {
    lua_rawgeti(L, LUA_REGISTRYINDEX, s->chref);
    return;
  }
  /* The channel first: it may raise, and nothing is held yet. */
  ch = wd__chan_new(L, a, CH_SUB, 0);
  s = wd_calloc(1, sizeof *s);
  if (s != NULL && topic != NULL && (s->topic = wd_strdup(topic)) == NULL) {
    wd_free(s);
    s = NULL;
  }
  if (s == NULL) luaL_error(L, "not enough memory");
  s->ch = ch;
  s->ch->sub = s;
  s->msgmode = msgmode;
  wd__actor_mbox_init(&a->c, &s->q);
  lua_pushvalue(L, -1);
  s->chref = luaL_ref(L, LUA_REGISTRYINDEX);
  s->next = a->c.subs;
  a->c.subs = s;
  if (topic == NULL) a->c.inbox = s;
  wd__actor_reroute(&a->c, NULL);
}

/* process.listen(topic [, {message = bool}]) -> channel | nil, err */
static int process_listen(lua_State *L) {
  actor *a = ACTOR(L);
  size_t tl;
  const char *topic = luaL_checklstring(L, 1, &tl);
  int msgmode = 0;
  if (tl == 0) return wd_lerr_pushf(L, WD_EINVAL, "topic cannot be empty");
  if (topic[0] == '@')
    return wd_lerr_pushf(L, WD_EINVAL, "cannot listen to @ topics");
  if (memchr(topic, '\0', tl) != NULL)
    return wd_lerr_pushf(L, WD_EINVAL, "topic contains a NUL byte");
  if (tl > WD_TOPIC_MAX)
    return wd_lerr_pushf(L, WD_EINVAL, "topic longer than %d bytes",
                         WD_TOPIC_MAX);
  if (lua_istable(L, 2)) {
    lua_getfield(L, 2, "message");
    msgmode = lua_toboolean(L, -1);
    lua_pop(L, 1);
  } else if (!lua_isnoneornil(L, 2)) {
    return wd_lerr_pushf(L, WD_EINVAL, "listen options must be a table");
  }
  subscribe(L, a, topic, msgmode);
  return 1;
}

/* process.events() -> channel of event tables (EXIT, LINK_DOWN, CANCEL) */
static int process_events(lua_State *L) {
  subscribe(L, ACTOR(L), "@events", 0);
  return 1;
}

/* process.inbox() -> channel of Message objects */
static int process_inbox(lua_State *L) {
  subscribe(L, ACTOR(L), NULL, 1);
  return 1;
}

/* process.unlisten(ch) -> true | false, err */
static int process_unlisten(lua_State *L) {
  actor *a = ACTOR(L);
  sub **pp, *s;
  for (pp = &a->c.subs; (s = *pp) != NULL; pp = &s->next)
    if (lua_touserdata(L, 1) == s->ch) break;
  if (s == NULL) {
    lua_pushboolean(L, 0);
    wd_lerr_pushf(L, WD_ENOTFOUND, "channel not found");
    lua_remove(L, -2);
    return 2;
  }
  *pp = s->next;
  if (a->c.inbox == s) a->c.inbox = NULL;
  s->ch->sub = NULL;
  s->ch->closed = 1;
  wd__chan_notify(s->ch);
  wd__actor_reroute(&a->c, s);
  luaL_unref(L, LUA_REGISTRYINDEX, s->chref);
  wd_free(s->topic);
  wd_free(s);
  lua_pushboolean(L, 1);
  return 1;
}

/* }====== */

/* {====== Registry ====== */

/* process.registry.register(name [, pid]) -> true | nil, err. A name for
** another process than the caller also needs process.registry.foreign on
** its PID. */
static int registry_register(lua_State *L) {
  actor *a = ACTOR(L);
  wd_host *h = a->c.h;
  size_t nl, pl, st;
  const char *name = luaL_checklstring(L, 1, &nl);
  const char *pid = luaL_optlstring(L, 2, a->c.pid, &pl);
  uint64_t counter;
  actor *target;
  task *t;
  wd_buf *b;
  int r;
  if (nl == 0 || nl > 255 || memchr(name, '\0', nl) != NULL)
    return wd_lerr_pushf(L, WD_EINVAL, "invalid name");
  if (wd__policy_allow(L, a, wd_ops_name(WD_ACT_REGISTER), name, nl, NULL,
                       NULL))
    return 2;
  r = pid_local(h, pid, pl, &counter);
  if (r < 0) return wd_lerr_pushf(L, WD_EINVAL, "invalid pid: %s", pid);
  if (!(r == 1 && counter == a->c.counter) &&
      wd__policy_allow_pid(L, a, wd_ops_name(WD_ACT_FOREIGN), pid, pl, NULL))
    return 2;
  if (r == 0)
    return wd_lerr_pushf(L, WD_EDENIED, "cannot register a process of "
                                        "another host: %s", pid);
  target = VM(wd__actor_find(h, counter));
  if (target == NULL)
    return wd_lerr_pushf(L, WD_ENOTFOUND, "process not found: %s", pid);
  t = need_task(L, "process.registry.register");
  /* From now on the broker must hear of the exit, to release the name. */
  target->c.has_names = 1;
  if ((r = wd__run_request(t, WD_OP_REG, &b, &st)) < 0)
    return wd_lerr_pushf(L, r, "register failed");
  wd_buf_put_str(b, name, nl);
  wd_buf_put_str(b, pid, pl);
  wd_buf_put_str(b, a->c.pid, a->c.pidlen);
  return wait_reply(L, t, h, st, 0);
}

static int registry_simple(lua_State *L, uint8_t op, int kind,
                           const char *fn) {
  actor *a = ACTOR(L);
  wd_host *h = a->c.h;
  size_t nl, st;
  const char *name = luaL_checklstring(L, 1, &nl);
  task *t;
  wd_buf *b;
  int r;
  if (nl == 0 || nl > 255)
    return wd_lerr_pushf(L, WD_EINVAL, "invalid name");
  if (wd__policy_allow(L, a, wd_ops_name(wd_ops_act(op)), name, nl, NULL, NULL))
    return 2;
  t = need_task(L, fn);
  if ((r = wd__run_request(t, op, &b, &st)) < 0)
    return wd_lerr_pushf(L, r, "%s failed", fn);
  wd_buf_put_str(b, name, nl);
  wd_buf_put_str(b, a->c.pid, a->c.pidlen); /* the caller, for the re-check */
  t->w.nm_epoch = wd__flow_name_epoch(h);
  return wait_reply(L, t, h, st, kind);
}

/* process.registry.lookup(name) -> pid | nil, err. Needs
** process.registry.lookup on the name: PermissionDenied otherwise, held
** or not. (A call by name does not resolve here: the broker does, and
** answers a name the caller may not look up as one nobody holds.) */
static int registry_lookup(lua_State *L) {
  return registry_simple(L, WD_OP_LOOKUP, 3, "process.registry.lookup");
}

/* process.registry.unregister(name) -> true | false (not registered) */
static int registry_unregister(lua_State *L) {
  return registry_simple(L, WD_OP_UNREG, 2, "process.registry.unregister");
}

/* }====== */

/* {====== The process table, built lazily ======
**
** An actor that uses two functions of 'process' should not pay for the
** other thirty. The table starts empty; its metatable resolves a name on
** first use (a light C function: the bindings find their actor with
** ACTOR) and stores it. Anything else a script does with the table
** (writes to it, iterates it with pairs, reads a name that is not a
** plain function, takes or sets its metatable) first builds all of it
** and drops that metatable. The convention shared with lenv.c: a lazy
** table's metatable holds, at the key 'registry' (a table no script can
** reach), the function that builds the whole table. */

static const luaL_Reg process_funcs[] = {
  { "pid", process_pid },
  { "id", process_id },
  { "send", process_send },
  { "spawn", process_spawn },
  { "spawn_monitored", process_spawn_monitored },
  { "spawn_linked", process_spawn_linked },
  { "spawn_linked_monitored", process_spawn_linked_monitored },
  { "exec", process_exec },
  { "monitor", process_monitor },
  { "unmonitor", process_unmonitor },
  { "link", process_link },
  { "unlink", process_unlink },
  { "terminate", process_terminate },
  { "cancel", process_cancel },
  { "get_options", process_get_options },
  { "set_options", process_set_options },
  { "upgrade", process_upgrade },
  { "events", process_events },
  { "listen", process_listen },
  { "unlisten", process_unlisten },
  { "inbox", process_inbox },
  { NULL, NULL },
};

static void push_registry(lua_State *L) {
  static const luaL_Reg reg_funcs[] = {
    { "register", registry_register },
    { "lookup", registry_lookup },
    { "unregister", registry_unregister },
    { NULL, NULL },
  };
  const luaL_Reg *f;
  lua_createtable(L, 0, 4);
  for (f = reg_funcs; f->name != NULL; f++) {
    wd__policy_api(L, f->func);
    lua_setfield(L, -2, f->name);
  }
  lua_pushinteger(L, 0);
  lua_setfield(L, -2, "LOCAL");
}

static void push_event(lua_State *L) {
  lua_createtable(L, 0, 3);
  lua_pushliteral(L, "pid.exit");
  lua_setfield(L, -2, "EXIT");
  lua_pushliteral(L, "pid.link.down");
  lua_setfield(L, -2, "LINK_DOWN");
  lua_pushliteral(L, "pid.cancel");
  lua_setfield(L, -2, "CANCEL");
}

/* Build every field of the process table at 't' not there yet; drop its
** lazy metatable first, so that the stores below are plain. */
static void p_build(lua_State *L, int t) {
  const luaL_Reg *f;
  t = lua_absindex(L, t);
  lua_pushnil(L);
  lua_setmetatable(L, t);
  for (f = process_funcs; f->name != NULL; f++) {
    if (lua_getfield(L, t, f->name) == LUA_TNIL) {
      wd__policy_api(L, f->func);
      lua_setfield(L, t, f->name);
    }
    lua_pop(L, 1);
  }
  if (lua_getfield(L, t, "registry") == LUA_TNIL) {
    push_registry(L);
    wd__env_readonly(L);
    lua_setfield(L, t, "registry");
  }
  if (lua_getfield(L, t, "event") == LUA_TNIL) {
    push_event(L);
    wd__env_readonly(L);
    lua_setfield(L, t, "event");
  }
  lua_pop(L, 2);
  lua_pushvalue(L, t);
  wd__spawn_open(L);
  lua_pop(L, 1);
}

static int p_fill(lua_State *L) {
  p_build(L, 1);
  return 0;
}

/* __index: a function of process_funcs, else the whole table. */
static int p_index(lua_State *L) {
  const luaL_Reg *f;
  size_t len;
  const char *k =
      lua_type(L, 2) == LUA_TSTRING ? lua_tolstring(L, 2, &len) : NULL;
  lua_settop(L, 2);
  for (f = process_funcs; k != NULL && f->name != NULL; f++)
    if (strcmp(k, f->name) == 0 && strlen(k) == len) {
      wd__policy_api(L, f->func);
      lua_pushvalue(L, 2);
      lua_pushvalue(L, 3);
      lua_rawset(L, 1);
      return 1;
    }
  p_build(L, 1);
  lua_rawget(L, 1);
  return 1;
}

static int p_newindex(lua_State *L) {
  p_build(L, 1);
  lua_settop(L, 3);
  lua_rawset(L, 1);
  return 0;
}

/* next(t, k) as Lua's, for p_pairs. */
static int p_next(lua_State *L) {
  luaL_checktype(L, 1, LUA_TTABLE);
  lua_settop(L, 2);
  if (lua_next(L, 1)) return 2;
  lua_pushnil(L);
  return 1;
}

static int p_pairs(lua_State *L) {
  p_build(L, 1);
  lua_pushcfunction(L, p_next);
  lua_pushvalue(L, 1);
  lua_pushnil(L);
  return 3;
}

/* Pushes the process table (lazy, see above). The Message metatable is
** made on first use. */
int luaopen_ward_process(lua_State *L) {
  static const luaL_Reg meta[] = {
    { "__index", p_index },
    { "__newindex", p_newindex },
    { "__pairs", p_pairs },
    { NULL, NULL },
  };
  lua_newtable(L);
  lua_createtable(L, 0, 4);
  luaL_setfuncs(L, meta, 0);
  lua_pushvalue(L, LUA_REGISTRYINDEX);
  lua_pushcfunction(L, p_fill);
  lua_rawset(L, -3);
  lua_setmetatable(L, -2);
  return 1;
}

/* }====== */
