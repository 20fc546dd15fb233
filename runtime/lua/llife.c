/*
** runtime/lua/llife.c
** Lifecycle: monitors, links and exec watchers, the EXIT / LINK_DOWN /
** CANCEL events they produce, deferred kills (terminate, linked failure,
** cancel deadline), and events arriving from other hosts.
** Runs in: host (sandboxed).
*/
#include <stdio.h>
#include <string.h>

#include "lhost.h"
#include "lcodec.h"
#include "lerrors.h"
#include "ward/wd_proto.h"

/* {====== Watches ====== */

void wd__pid_is_local(wd_host *h, const char *pid, size_t len, int *local,
                      uint64_t *counter) {
  const char *hid;
  size_t hl;
  *local = -1;
  if (wd_pid_parse(pid, len, &hid, &hl, counter) < 0) return;
  *local = hl == h->idlen && memcmp(hid, h->id, hl) == 0;
}

static watch *watch_find(actor *a, int type, const char *pid, size_t len) {
  watch *w;
  for (w = a->watches; w != NULL; w = w->next)
    if (w->type == type && w->pidlen == len && memcmp(w->pid, pid, len) == 0)
      return w;
  return NULL;
}

/* A monitor or exec wait whose watcher is on this host is also on the
** watcher's 'held' list, so that the watcher's end takes it off its
** target (a dead watcher's monitors used to stay on a long-lived target
** for ever, and each new monitor scanned them). */
static void hold(actor *target, watch *w) {
  int local;
  uint64_t counter;
  actor *by;
  w->owner = target;
  if (w->type == WD_WATCH_LINK) return; /* a link's end tells the other side */
  wd__pid_is_local(target->h, w->pid, w->pidlen, &local, &counter);
  if (local != 1 || (by = wd__host_find(target->h, counter)) == NULL ||
      by->state != A_ALIVE)
    return;
  w->hnext = by->held;
  if (by->held != NULL) by->held->hprev = &w->hnext;
  w->hprev = &by->held;
  by->held = w;
}

static void unhold(watch *w) {
  if (w->hprev == NULL) return;
  *w->hprev = w->hnext;
  if (w->hnext != NULL) w->hnext->hprev = w->hprev;
  w->hprev = NULL;
  w->hnext = NULL;
}

/* Add a watch on 'a'. Returns 0, WD_EEXIST (already there), WD_EINVAL. */
int wd__watch_add(actor *a, int type, const char *pid, size_t len) {
  watch *w;
  int local;
  uint64_t counter;
  if (len >= WD_PID_MAX) return WD_EINVAL;
  if (watch_find(a, type, pid, len) != NULL) return WD_EEXIST;
  w = wd_calloc(1, sizeof *w);
  if (w == NULL) return WD_ENOMEM;
  w->type = type;
  w->pidlen = len;
  memcpy(w->pid, pid, len);
  w->next = a->watches;
  a->watches = w;
  hold(a, w);
  wd__pid_is_local(a->h, pid, len, &local, &counter);
  if (local == 0) a->remote_watch = 1;
  return 0;
}

int wd__watch_del(actor *a, int type, const char *pid, size_t len) {
  watch **pp;
  for (pp = &a->watches; *pp != NULL; pp = &(*pp)->next) {
    watch *w = *pp;
    if (w->type == type && w->pidlen == len && memcmp(w->pid, pid, len) == 0) {
      *pp = w->next;
      unhold(w);
      wd_free(w);
      return 1;
    }
  }
  return 0;
}

void wd__watch_free_all(actor *a) {
  watch *w;
  while ((w = a->watches) != NULL) {
    a->watches = w->next;
    unhold(w);
    wd_free(w);
  }
  while ((w = a->held) != NULL) {
    watch **pp;
    unhold(w);
    for (pp = &w->owner->watches; *pp != NULL && *pp != w; pp = &(*pp)->next) {
    }
    if (*pp == w) *pp = w->next;
    wd_free(w);
  }
}

/* An unlink of 'a' from the process 'pid' of another host is done (the
** reply names the PID, also when the call named a registered name): drop
** this side if it is still there, and tell the broker, which holds a link
** until both sides are over (broker_life.c). A side dropped before the
** request (an unlink by PID) needs no word: the broker saw the request. */
void wd__life_unlinked(actor *a, const char *pid, size_t len) {
  int local;
  uint64_t counter;
  wd__pid_is_local(a->h, pid, len, &local, &counter);
  if (wd__watch_del(a, WD_WATCH_LINK, pid, len) && local == 0)
    wd__event_out(a->h, WD_EV_UNLINKED, a->pid, a->pidlen, pid, len, 0, NULL,
                  0);
}

/* }====== */

/* {====== Kills ====== */

/* End 'a' at the next safe point with error 'msg': no more of its Lua
** runs. Deferred, so a cascade through many links is a loop, not a
** recursion. */
void wd__actor_kill(actor *a, const char *msg) {
  task *t;
  size_t n;
  if (a->state != A_ALIVE || a->killed) return;
  a->killed = 1;
  n = strlen(msg);
  if (n >= sizeof a->kill_msg) n = sizeof a->kill_msg - 1;
  memcpy(a->kill_msg, msg, n);
  a->kill_msg[n] = '\0';
  /* Any task will do to get the actor scheduled; the scheduler sees the
  ** kill before resuming it. */
  t = a->main != NULL ? a->main : a->tasks;
  if (t != NULL && !t->ready) wd__host_ready(t);
}

/* }====== */

/* {====== Building and sending events ====== */

/* The event written without a Lua table (wd_codec_put_event), when its
** value is none, a scalar, or an error made in C ('ekind', 'emsg'): an
** ending actor's state is not touched. Returns 0, or < 0 when the value
** needs the Lua path (a table, an error object, a string near the size
** limit). */
static int event_c(wd_buf *out, const char *from, size_t fl,
                   const char *kind, uint64_t deadline_ns, lua_State *L,
                   int vidx, int ok, const char *ekind, const char *emsg) {
  int vt = vidx != 0 ? lua_type(L, vidx) : LUA_TNIL;
  wd_codec_val v;
  v.type = WD_CODEC_V_NONE;
  if (ekind != NULL) {
    v.type = WD_CODEC_V_ERR;
    v.ekind = ekind;
    v.s = emsg;
  } else if (vt == LUA_TBOOLEAN) {
    v.type = WD_CODEC_V_BOOL;
    v.b = lua_toboolean(L, vidx);
  } else if (vt == LUA_TSTRING) {
    v.type = WD_CODEC_V_STR;
    v.s = lua_tolstring(L, vidx, &v.len);
    if (out->max != 0 && v.len + 128 > out->max) return WD_ETOOBIG;
  } else if (vt == LUA_TNUMBER && lua_isinteger(L, vidx)) {
    v.type = WD_CODEC_V_INT;
    v.i = (int64_t)lua_tointeger(L, vidx);
  } else if (vt == LUA_TNUMBER) {
    v.type = WD_CODEC_V_NUM;
    v.n = (double)lua_tonumber(L, vidx);
  } else if (vt != LUA_TNIL) {
    return WD_EINVAL;
  }
  return wd_codec_put_event(out, kind, from, fl, wd_codec_now_s(),
                            deadline_ns, ok, &v);
}

/* Encode an event table {kind, from, at, result = {value | error}} (or,
** for CANCEL, {kind, from, at, deadline}) into 'out', within 'out->max'
** bytes (0: no limit). The value is at 'vidx' (0: none). Runs no script
** code. Returns 0 or a negative code. */
int wd__event_build(lua_State *L, const char *from, size_t fl,
                    const char *kind, int vidx, int ok, uint64_t deadline_ns,
                    wd_buf *out) {
  char err[160];
  int top = lua_gettop(L), r;
  if (event_c(out, from, fl, kind, deadline_ns, L, vidx, ok, NULL, NULL) == 0)
    return 0;
  if (vidx != 0) vidx = lua_absindex(L, vidx);
  if (!lua_checkstack(L, 8)) return WD_ENOMEM;
  lua_createtable(L, 0, 4);
  lua_pushstring(L, kind);
  lua_setfield(L, -2, "kind");
  lua_pushlstring(L, from, fl);
  lua_setfield(L, -2, "from");
  lua_pushinteger(L, (lua_Integer)wd_codec_now_s());
  lua_setfield(L, -2, "at");
  if (deadline_ns != 0 || strcmp(kind, "pid.cancel") == 0) {
    lua_pushinteger(L, (lua_Integer)(deadline_ns / 1000000000u));
    lua_setfield(L, -2, "deadline");
  } else {
    lua_createtable(L, 0, 1);
    if (vidx != 0) {
      lua_pushvalue(L, vidx);
      lua_setfield(L, -2, ok ? "value" : "error");
    }
    lua_setfield(L, -2, "result");
  }
  wd_buf_reset(out);
  r = wd_codec_encode(L, lua_gettop(L), 1, out, out->max, err, sizeof err);
  if (r < 0 && vidx != 0) {
    /* The result cannot cross (a function, say): report why instead. */
    lua_getfield(L, -1, "result");
    lua_pushnil(L);
    lua_setfield(L, -2, ok ? "value" : "error");
    wd_lerr_push(L, wd_errkind(r), err, 0);
    lua_setfield(L, -2, "error");
    lua_pop(L, 1);
    wd_buf_reset(out);
    r = wd_codec_encode(L, lua_gettop(L), 1, out, out->max, err, sizeof err);
  }
  lua_settop(L, top);
  return r < 0 ? r : 0;
}

/* Send an event to a process on another host through the broker. */
void wd__event_out(wd_host *h, int kind, const char *from, size_t fl,
                   const char *to, size_t tl, uint64_t deadline,
                   const uint8_t *p, size_t n) {
  size_t st;
  wd_buf *b = h->io.begin(h->io.ud, WD_R_EVENT, &st);
  wd_buf_put_u8(b, (uint8_t)kind);
  wd_buf_put_str(b, from, fl);
  wd_buf_put_str(b, to, tl);
  wd_buf_put_u64(b, deadline);
  wd_buf_put(b, p, n);
  (void)h->io.end(h->io.ud, st);
}

static int event_in(actor *a, int kind, const char *from, size_t fl,
                    uint64_t deadline, const uint8_t *p, size_t n);

static void event_to(wd_host *h, int kind, actor *a, const watch *w,
                     const wd_buf *b) {
  int local;
  uint64_t counter;
  actor *to;
  wd__pid_is_local(h, w->pid, w->pidlen, &local, &counter);
  if (local == 1) {
    if ((to = wd__host_find(h, counter)) != NULL && to->state == A_ALIVE)
      event_in(to, kind, a->pid, a->pidlen, 0, b ? b->p : NULL,
               b ? b->len : 0);
  } else if (local == 0)
    wd__event_out(h, kind, a->pid, a->pidlen, w->pid, w->pidlen, 0,
                  b ? b->p : NULL, b ? b->len : 0);
}

/* 'a' is ending: tell every watcher (reference §3.3-§3.4). EXIT to each
** monitor and exec caller; LINK_DOWN to each linked process if the exit
** is abnormal, else just drop the link. The value or error is at 'vidx'
** of 'L', or, with 'ekind', is an error of that kind and message 'emsg'
** made in C (then L is not used). The actor must already be out of the
** host's table. */
void wd__life_exit(actor *a, lua_State *L, int ok, int vidx,
                   const char *ekind, const char *emsg) {
  wd_host *h = a->h;
  wd_buf *ex = &h->evbuf[0], *ld = &h->evbuf[1];
  watch *w;
  int have_ex = 0, have_ld = 0, i;
  /* An exit value travels like a message: at most max_payload bytes (a
  ** larger one is replaced by an error saying so). The host's two event
  ** buffers serve every exit (this never runs inside another). */
  for (i = 0; i < 2; i++) {
    h->evbuf[i].max = (size_t)h->lim.max_payload;
    wd_buf_reset(&h->evbuf[i]);
  }
  for (w = a->watches; w != NULL; w = w->next) {
    if (w->type == WD_WATCH_LINK && ok) {
      event_to(h, WD_EV_UNLINKED, a, w, NULL);
      continue;
    }
    if (w->type == WD_WATCH_LINK) {
      if (!have_ld)
        have_ld = ekind != NULL
                      ? event_c(ld, a->pid, a->pidlen, "pid.link.down", 0,
                                NULL, 0, 0, ekind, emsg) == 0
                      : wd__event_build(L, a->pid, a->pidlen, "pid.link.down",
                                        vidx, ok, 0, ld) == 0;
      if (have_ld) event_to(h, WD_EV_LINK_DOWN, a, w, ld);
      continue;
    }
    if (!have_ex)
      have_ex = ekind != NULL
                    ? event_c(ex, a->pid, a->pidlen, "pid.exit", 0, NULL, 0,
                              0, ekind, emsg) == 0
                    : wd__event_build(L, a->pid, a->pidlen, "pid.exit", vidx,
                                      ok, 0, ex) == 0;
    if (have_ex)
      event_to(h, w->type == WD_WATCH_EXEC ? WD_EV_EXEC : WD_EV_EXIT, a, w, ex);
  }
  wd__watch_free_all(a);
  for (i = 0; i < 2; i++) /* keep small buffers only */
    if (h->evbuf[i].cap > 4096) wd_buf_close(&h->evbuf[i]);
}

/* }====== */

/* {====== Events arriving ====== */

/* The task of 'a' waiting for the exec of exactly 'from', if any: its
** child's PID is known ('xpid'), or is in the spawn reply that has
** arrived but not yet been seen by the task (a result may follow its
** reply in the same frame). A task whose reply has not arrived waits for
** no PID yet: a result then is not for it (the child's host answers the
** spawn before the child runs, and the broker keeps the order). */
static task *exec_waiter(actor *a, const char *from, size_t fl) {
  task *t;
  for (t = a->tasks; t != NULL; t = t->anext) {
    const char *pid = t->w.xpid;
    size_t pl = pid != NULL ? strlen(pid) : 0;
    if (!t->w.exec || t->w.xres != NULL) continue;
    if (pid == NULL && t->w.kind == W_REPLY && t->w.done && t->w.status >= 0 &&
        t->w.rstr != NULL) {
      pid = t->w.rstr;
      pl = t->w.rlen;
    }
    if (pid != NULL && pl == fl && memcmp(pid, from, fl) == 0) return t;
  }
  return NULL;
}

/* {------ Exec results before their spawn's reply ------
** A child on this host that the broker spawned (its entry was shipped
** on first use) may end before the spawn's reply has come back through
** the broker: its result is kept on the parent until the reply names the
** child. Only a child on this host is kept (an event from another host
** follows the reply, the broker keeps the order), and only while a task
** of the parent waits for an exec's spawn reply, one result per such
** task. */

struct xearly {
  struct xearly *next;
  size_t pidlen, len;
  char pid[WD_PID_MAX];
  uint8_t data[];
};

/* Tasks of 'a' waiting for the reply to an exec's spawn. */
static int exec_unnamed(actor *a) {
  task *t;
  int n = 0;
  for (t = a->tasks; t != NULL; t = t->anext)
    if (t->w.exec && t->w.xpid == NULL && t->w.xres == NULL) n++;
  return n;
}

static void exec_early_keep(actor *a, const char *from, size_t fl,
                            const uint8_t *p, size_t n) {
  struct xearly *x;
  int kept = 0;
  for (x = a->xearly; x != NULL; x = x->next) kept++;
  if (fl >= WD_PID_MAX || kept >= exec_unnamed(a)) return;
  if ((x = wd_malloc(sizeof *x + (n ? n : 1))) == NULL) return;
  x->pidlen = fl;
  memcpy(x->pid, from, fl);
  x->len = n;
  if (n) memcpy(x->data, p, n);
  x->next = a->xearly;
  a->xearly = x;
}

void wd__exec_early_take(actor *a, task *t) {
  struct xearly **pp, *x;
  size_t pl = t->w.xpid ? strlen(t->w.xpid) : 0;
  if (t->w.xres != NULL) return;
  for (pp = &a->xearly; (x = *pp) != NULL; pp = &x->next)
    if (x->pidlen == pl && memcmp(x->pid, t->w.xpid, pl) == 0) {
      *pp = x->next;
      t->w.xres = wd_malloc(x->len ? x->len : 1);
      if (t->w.xres != NULL) {
        memcpy(t->w.xres, x->data, x->len);
        t->w.xlen = x->len;
      }
      wd_free(x);
      return;
    }
}

void wd__exec_early_free(actor *a) {
  struct xearly *x;
  while ((x = a->xearly) != NULL) {
    a->xearly = x->next;
    wd_free(x);
  }
}

/* }------ */

/* Events queued to one process, beyond its mailbox: a legitimate event
** follows a watch its receiver holds (the broker checks each one that
** crosses hosts, broker_life.c), so this is a backstop, not the guard. */
#define EVENTS_OVER_MAILBOX 65536u

static void route_event(actor *a, const char *from, size_t fl, const uint8_t *p,
                        size_t n) {
  wd_msg *m;
  /* Events are never refused for a full mailbox: they must not be lost.
  ** Past the bound the receiver cannot keep up with what it watches; it
  ** ends with an error saying so (its own watchers learn of it), rather
  ** than lose an event without a word or grow without end. */
  if (a->h->lim.mailbox != 0 &&
      a->nqueued >= a->h->lim.mailbox + EVENTS_OVER_MAILBOX) {
    wd__actor_kill(a, "event queue limit exceeded");
    return;
  }
  if ((m = wd_msg_new(from, fl, "@events", 7, p, n)) == NULL) return;
  m->kind = WD_MSG_EVENT;
  a->nqueued++;
  wd__actor_route(a, m, 1);
}

/* An event from another host, through the broker. When it ends a link
** and the receiver lives on, the receiver's side is gone too: say so with
** an UNLINKED back, so that the broker can forget the link (it keeps a
** link until both sides are over: either may send its event while the
** other's is on its way). A receiver that dies of it tells the broker
** by its exit. */
void wd__event_in(wd_host *h, int kind, const char *from, size_t fl,
                  const char *to, size_t tl, uint64_t deadline,
                  const uint8_t *p, size_t n) {
  int local;
  uint64_t counter;
  actor *a;
  wd__pid_is_local(h, to, tl, &local, &counter);
  if (local != 1 || (a = wd__host_find(h, counter)) == NULL ||
      a->state != A_ALIVE)
    return; /* the watcher is gone: nobody to tell */
  if (!event_in(a, kind, from, fl, deadline, p, n) || a->killed) return;
  wd__pid_is_local(h, from, fl, &local, &counter);
  if (local == 0)
    wd__event_out(h, WD_EV_UNLINKED, a->pid, a->pidlen, from, fl, 0, NULL, 0);
}

/* An event for 'a' (alive, on this host). Returns 1 when it took a link
** of 'a' off, else 0. */
static int event_in(actor *a, int kind, const char *from, size_t fl,
                    uint64_t deadline, const uint8_t *p, size_t n) {
  task *t;
  switch (kind) {
    case WD_EV_EXIT:
      route_event(a, from, fl, p, n);
      return 0;
    case WD_EV_UNLINKED:
      return wd__watch_del(a, WD_WATCH_LINK, from, fl);
    case WD_EV_LINK_DOWN:
      if (!wd__watch_del(a, WD_WATCH_LINK, from, fl)) return 0; /* unlinked since */
      if (a->trap_links) route_event(a, from, fl, p, n);
      else wd__actor_kill(a, "linked process failed");
      return 1;
    case WD_EV_CANCEL:
      route_event(a, from, fl, p, n);
      if (deadline != 0) {
        uint64_t now = wd__host_now_ns();
        wd__tmr_killer(a, deadline > now ? (int64_t)(deadline - now) : 0);
      }
      return 0;
    case WD_EV_EXEC:
      if ((t = exec_waiter(a, from, fl)) == NULL) {
        int local;
        uint64_t counter;
        wd__pid_is_local(a->h, from, fl, &local, &counter);
        if (local == 1) exec_early_keep(a, from, fl, p, n);
        return 0;
      }
      t->w.xres = wd_malloc(n ? n : 1);
      if (t->w.xres == NULL) return 0;
      memcpy(t->w.xres, p, n);
      t->w.xlen = n;
      if (t->w.kind == W_EXEC) wd__host_ready(t);
      return 0;
    default:
      return 0;
  }
}

int wd_host_on_event(wd_host *h, wd_cur *c) {
  uint8_t kind;
  const char *from, *to;
  size_t fl, tl, n;
  uint64_t deadline;
  const uint8_t *p;
  if (wd_cur_u8(c, &kind) || wd_cur_str(c, &from, &fl) ||
      wd_cur_str(c, &to, &tl) || wd_cur_u64(c, &deadline))
    return WD_EBADFRAME;
  n = wd_cur_left(c);
  if (wd_cur_bytes(c, n, &p) < 0) return WD_EBADFRAME;
  if (kind < WD_EV_EXIT || kind > WD_EV_EXEC) return WD_EBADFRAME;
  wd__event_in(h, kind, from, fl, to, tl, deadline, p, n);
  return 0;
}

/* }====== */

/* {====== Requests from other hosts ====== */

/* MONITOR .. CANCEL carried by the broker: 'from' is on another host. */
int wd__host_req_life(wd_host *h, uint8_t op, wd_cur *c, uint32_t req) {
  const char *from, *dest;
  size_t fl, dl, n;
  uint64_t counter, deadline = 0;
  const uint8_t *p = NULL;
  int local, r = 0;
  actor *a;
  if (wd_cur_str(c, &from, &fl) || wd_cur_str(c, &dest, &dl))
    return WD_EBADFRAME;
  if (op == WD_OP_CANCEL && wd_cur_u64(c, &deadline)) return WD_EBADFRAME;
  n = wd_cur_left(c);
  if (wd_cur_bytes(c, n, &p) < 0) return WD_EBADFRAME;
  wd__pid_is_local(h, dest, dl, &local, &counter);
  a = local == 1 ? wd__host_find(h, counter) : NULL;
  if (a == NULL || a->state != A_ALIVE || a->killed) {
    if (op != WD_OP_UNMONITOR && op != WD_OP_UNLINK && op != WD_OP_FORGET)
      r = WD_ENOTFOUND;
  } else {
    switch (op) {
      case WD_OP_MONITOR:
        r = wd__watch_add(a, WD_WATCH_MONITOR, from, fl);
        break;
      case WD_OP_UNMONITOR:
        wd__watch_del(a, WD_WATCH_MONITOR, from, fl);
        break;
      case WD_OP_FORGET: /* 'from' (another host's) has ended */
        wd__watch_del(a, WD_WATCH_MONITOR, from, fl);
        wd__watch_del(a, WD_WATCH_EXEC, from, fl);
        break;
      case WD_OP_LINK:
        r = wd__watch_add(a, WD_WATCH_LINK, from, fl);
        if (r == WD_EEXIST) r = 0; /* linking twice is fine */
        break;
      case WD_OP_UNLINK:
        wd__watch_del(a, WD_WATCH_LINK, from, fl);
        break;
      case WD_OP_TERMINATE:
        wd__actor_kill(a, "process terminated");
        break;
      case WD_OP_CANCEL: /* refused when the mailbox is full */
        if ((r = wd__actor_room(a, fl + 7 + n)) == 0)
          wd__event_in(h, WD_EV_CANCEL, from, fl, dest, dl, deadline, p, n);
        break;
      default:
        return WD_EBADFRAME;
    }
  }
  {
    size_t st;
    const char *m = r == WD_ENOTFOUND ? "process not found"
                    : r == WD_EEXIST  ? "already monitoring"
                    : r < 0           ? wd_strerror(r)
                                      : NULL;
    wd_buf *b = h->io.begin(h->io.ud, WD_R_REPLY, &st);
    wd_buf_put_u32(b, req);
    wd_buf_put_u32(b, (uint32_t)r);
    /* Success answers with the target's PID (the caller may have named
    ** it by a registered name). */
    if (m != NULL) wd_buf_put_cstr(b, m);
    else wd_buf_put_str(b, dest, dl);
    (void)h->io.end(h->io.ud, st);
  }
  return 0;
}

/* }====== */
