/*
** runtime/life.c
** Lifecycle: monitors, links and exec watchers, the EXIT / LINK_DOWN /
** CANCEL events they produce, kills (terminate, linked failure, cancel
** deadline), and events and requests arriving from other hosts.
** Runs in: host (sandboxed).
*/
#include <stdio.h>
#include <string.h>

#include "host_int.h"

/* {====== Watches ====== */

static wd_watch *watch_find(wd_actor *a, int type, const char *pid, size_t len) {
  wd_watch *w;
  for (w = a->watches; w != NULL; w = w->next)
    if (w->type == type && w->pidlen == len && memcmp(w->pid, pid, len) == 0)
      return w;
  return NULL;
}

/* A monitor or exec wait whose watcher is on this host is also on the
** watcher's 'held' list, so that the watcher's end takes it off its
** target (a dead watcher's monitors used to stay on a long-lived target
** for ever, and each new monitor scanned them). */
static void hold(wd_actor *target, wd_watch *w) {
  int local;
  uint64_t counter;
  wd_actor *by;
  w->owner = target;
  if (w->type == WD_WATCH_LINK) return; /* a link's end tells the other side */
  wd__host_pid_is_local(target->h, w->pid, w->pidlen, &local, &counter);
  if (local != 1 || (by = wd__actor_find(target->h, counter)) == NULL ||
      by->state != A_ALIVE)
    return;
  w->hnext = by->held;
  if (by->held != NULL) by->held->hprev = &w->hnext;
  w->hprev = &by->held;
  by->held = w;
}

static void unhold(wd_watch *w) {
  if (w->hprev == NULL) return;
  *w->hprev = w->hnext;
  if (w->hnext != NULL) w->hnext->hprev = w->hprev;
  w->hprev = NULL;
  w->hnext = NULL;
}

/* Add a watch on 'a'. Returns 0, WD_EEXIST (already there), WD_EINVAL. */
int wd__life_watch_add(wd_actor *a, int type, const char *pid, size_t len) {
  wd_watch *w;
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
  wd__host_pid_is_local(a->h, pid, len, &local, &counter);
  if (local == 0) a->remote_watch = 1;
  return 0;
}

int wd__life_watch_del(wd_actor *a, int type, const char *pid, size_t len) {
  wd_watch **pp;
  for (pp = &a->watches; *pp != NULL; pp = &(*pp)->next) {
    wd_watch *w = *pp;
    if (w->type == type && w->pidlen == len && memcmp(w->pid, pid, len) == 0) {
      *pp = w->next;
      unhold(w);
      wd_free(w);
      return 1;
    }
  }
  return 0;
}

void wd__life_watch_free_all(wd_actor *a) {
  wd_watch *w;
  while ((w = a->watches) != NULL) {
    a->watches = w->next;
    unhold(w);
    wd_free(w);
  }
  while ((w = a->held) != NULL) {
    wd_watch **pp;
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
void wd__life_unlinked(wd_actor *a, const char *pid, size_t len) {
  int local;
  uint64_t counter;
  wd__host_pid_is_local(a->h, pid, len, &local, &counter);
  if (wd__life_watch_del(a, WD_WATCH_LINK, pid, len) && local == 0)
    wd__life_event_out(a->h, WD_EV_UNLINKED, a->pid, a->pidlen, pid, len, 0, NULL,
                  0);
}

/* }====== */

/* {====== Kills ====== */

/* End 'a' at the next safe point with error 'msg': no more of its Lua
** runs. Deferred, so a cascade through many links is a loop, not a
** recursion. */
void wd__life_kill(wd_actor *a, const char *msg) {
  size_t n;
  if (a->state != A_ALIVE || a->killed) return;
  a->killed = 1;
  n = strlen(msg);
  if (n >= sizeof a->kill_msg) n = sizeof a->kill_msg - 1;
  memcpy(a->kill_msg, msg, n);
  a->kill_msg[n] = '\0';
  /* The VM sees the kill before it resumes anything of 'a'. */
  wd__sched_ready(a);
}

static void on_killer(uv_timer_t *t) {
  wd_actor *a = t->data;
  uv_timer_stop(t);
  wd__life_kill(a, "cancel deadline passed");
}

/* A cancel deadline: terminate 'a' after 'ns' unless it ended first. The
** earliest of its deadlines holds. */
int wd__life_kill_at(wd_actor *a, int64_t ns) {
  uint64_t ms;
  if (a->killer == NULL) {
    if ((a->killer = wd_malloc(sizeof *a->killer)) == NULL) return WD_ENOMEM;
    uv_timer_init(a->h->loop, a->killer);
    a->killer->data = a;
  }
  /* Round up to whole milliseconds without overflowing near INT64_MAX. */
  ms = ns <= 0 ? 0 : (uint64_t)(ns / 1000000) + (ns % 1000000 != 0);
  if (uv_is_active((uv_handle_t *)a->killer) &&
      uv_timer_get_due_in(a->killer) <= ms)
    return 0;
  uv_timer_start(a->killer, on_killer, ms, 0);
  return 0;
}

/* }====== */

/* {====== Events ====== */

/* The event {kind, from, at, result = {value | error}} (or, for CANCEL,
** {kind, from, at, deadline}) whose value 'v' is none, a scalar, or an
** error made in C, written without a VM. Returns 0 or a negative code. */
int wd__life_event_c(wd_buf *out, const char *from, size_t fl,
                     const char *kind, uint64_t deadline_ns,
                     const wd_codec_val *v) {
  return wd_codec_put_event(out, kind, from, fl, wd_codec_now_s(),
                            deadline_ns, v->type != WD_CODEC_V_ERR, v);
}

/* Send an event to a process on another host through the broker. */
void wd__life_event_out(wd_host *h, int kind, const char *from, size_t fl,
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

static int event_in(wd_actor *a, int kind, const char *from, size_t fl,
                    uint64_t deadline, const uint8_t *p, size_t n);

static void event_to(wd_host *h, int kind, wd_actor *a, const wd_watch *w,
                     const wd_buf *b) {
  int local;
  uint64_t counter;
  wd_actor *to;
  wd__host_pid_is_local(h, w->pid, w->pidlen, &local, &counter);
  if (local == 1) {
    if ((to = wd__actor_find(h, counter)) != NULL && to->state == A_ALIVE)
      event_in(to, kind, a->pid, a->pidlen, 0, b ? b->p : NULL,
               b ? b->len : 0);
  } else if (local == 0)
    wd__life_event_out(h, kind, a->pid, a->pidlen, w->pid, w->pidlen, 0,
                  b ? b->p : NULL, b ? b->len : 0);
}

/* 'a' is ending: tell every watcher (reference §3.3-§3.4). EXIT to each
** monitor and exec caller; LINK_DOWN to each linked process if the exit
** is abnormal ('ok' 0), else just drop the link. 'build' writes the
** event of each kind, once, when a watcher needs it. The actor must
** already be out of the host's table. */
void wd__life_exit(wd_actor *a, int ok, wd_event_fn build, void *ud) {
  wd_host *h = a->h;
  wd_buf *ex = &h->evbuf[0], *ld = &h->evbuf[1];
  wd_watch *w;
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
      if (!have_ld) have_ld = build(ud, "pid.link.down", ld) == 0;
      if (have_ld) event_to(h, WD_EV_LINK_DOWN, a, w, ld);
      continue;
    }
    if (!have_ex) have_ex = build(ud, "pid.exit", ex) == 0;
    if (have_ex)
      event_to(h, w->type == WD_WATCH_EXEC ? WD_EV_EXEC : WD_EV_EXIT, a, w, ex);
  }
  wd__life_watch_free_all(a);
  for (i = 0; i < 2; i++) /* keep small buffers only */
    if (h->evbuf[i].cap > 4096) wd_buf_close(&h->evbuf[i]);
}

/* }====== */

/* {====== Events arriving ====== */

/* Events queued to one process, beyond its mailbox: a legitimate event
** follows a watch its receiver holds (the broker checks each one that
** crosses hosts, broker_life.c), so this is a backstop, not the guard. */
#define EVENTS_OVER_MAILBOX 65536u

static void route_event(wd_actor *a, const char *from, size_t fl, const uint8_t *p,
                        size_t n) {
  wd_msg *m;
  /* Events are never refused for a full mailbox: they must not be lost.
  ** Past the bound the receiver cannot keep up with what it watches; it
  ** ends with an error saying so (its own watchers learn of it), rather
  ** than lose an event without a word or grow without end. */
  if (a->h->lim.mailbox != 0 &&
      a->nqueued >= a->h->lim.mailbox + EVENTS_OVER_MAILBOX) {
    wd__life_kill(a, "event queue limit exceeded");
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
void wd__life_event_in(wd_host *h, int kind, const char *from, size_t fl,
                  const char *to, size_t tl, uint64_t deadline,
                  const uint8_t *p, size_t n) {
  int local;
  uint64_t counter;
  wd_actor *a;
  wd__host_pid_is_local(h, from, fl, &local, &counter);
  /* A process of another host that ended: a send to it fails at once. */
  if (local == 0 && (kind == WD_EV_EXIT || kind == WD_EV_LINK_DOWN))
    wd__flow_dead_add(h, from, fl);
  wd__host_pid_is_local(h, to, tl, &local, &counter);
  if (local != 1 || (a = wd__actor_find(h, counter)) == NULL ||
      a->state != A_ALIVE)
    return; /* the watcher is gone: nobody to tell */
  if (a->park_head != NULL && kind != WD_EV_UNLINKED)
    wd__flow_before_event(a, from, fl);
  if (!event_in(a, kind, from, fl, deadline, p, n) || a->killed) return;
  wd__host_pid_is_local(h, from, fl, &local, &counter);
  if (local == 0)
    wd__life_event_out(h, WD_EV_UNLINKED, a->pid, a->pidlen, from, fl, 0, NULL, 0);
}

/* An event for 'a' (alive, on this host). Returns 1 when it took a link
** of 'a' off, else 0. */
static int event_in(wd_actor *a, int kind, const char *from, size_t fl,
                    uint64_t deadline, const uint8_t *p, size_t n) {
  switch (kind) {
    case WD_EV_EXIT:
      route_event(a, from, fl, p, n);
      return 0;
    case WD_EV_UNLINKED:
      return wd__life_watch_del(a, WD_WATCH_LINK, from, fl);
    case WD_EV_LINK_DOWN:
      if (!wd__life_watch_del(a, WD_WATCH_LINK, from, fl)) return 0; /* unlinked since */
      if (a->trap_links) route_event(a, from, fl, p, n);
      else wd__life_kill(a, "linked process failed");
      return 1;
    case WD_EV_CANCEL:
      route_event(a, from, fl, p, n);
      if (deadline != 0) {
        uint64_t now = wd__host_now_ns();
        wd__life_kill_at(a, deadline > now ? (int64_t)(deadline - now) : 0);
      }
      return 0;
    case WD_EV_EXEC:
      a->h->vm->exec_result(a, from, fl, p, n);
      return 0;
    default:
      return 0;
  }
}

/* }====== */

/* {====== Requests from other hosts ====== */

/* MONITOR .. CANCEL carried by the broker: 'from' is on another host. */
int wd__life_req(wd_host *h, uint32_t req, uint8_t op, wd_cur *c) {
  const char *from, *dest;
  size_t fl, dl, n;
  uint64_t counter, deadline = 0;
  const uint8_t *p = NULL;
  int local, r = 0;
  wd_actor *a;
  if (wd_cur_str(c, &from, &fl) || wd_cur_str(c, &dest, &dl))
    return WD_EBADFRAME;
  if (op == WD_OP_CANCEL && wd_cur_u64(c, &deadline)) return WD_EBADFRAME;
  n = wd_cur_left(c);
  if (wd_cur_bytes(c, n, &p) < 0) return WD_EBADFRAME;
  wd__host_pid_is_local(h, dest, dl, &local, &counter);
  a = local == 1 ? wd__actor_find(h, counter) : NULL;
  if (a == NULL || a->state != A_ALIVE || a->killed) {
    if (op != WD_OP_UNMONITOR && op != WD_OP_UNLINK && op != WD_OP_FORGET)
      r = WD_ENOTFOUND;
  } else {
    switch (op) {
      case WD_OP_MONITOR:
        r = wd__life_watch_add(a, WD_WATCH_MONITOR, from, fl);
        break;
      case WD_OP_UNMONITOR:
        wd__life_watch_del(a, WD_WATCH_MONITOR, from, fl);
        break;
      case WD_OP_FORGET: /* 'from' (another host's) has ended */
        wd__life_watch_del(a, WD_WATCH_MONITOR, from, fl);
        wd__life_watch_del(a, WD_WATCH_EXEC, from, fl);
        break;
      case WD_OP_LINK:
        r = wd__life_watch_add(a, WD_WATCH_LINK, from, fl);
        if (r == WD_EEXIST) r = 0; /* linking twice is fine */
        break;
      case WD_OP_UNLINK:
        wd__life_watch_del(a, WD_WATCH_LINK, from, fl);
        break;
      case WD_OP_TERMINATE:
        wd__life_kill(a, "process terminated");
        break;
      case WD_OP_CANCEL: /* refused when the mailbox is full */
        if ((r = wd__actor_room(a, fl + 7 + n)) == 0)
          wd__life_event_in(h, WD_EV_CANCEL, from, fl, dest, dl, deadline, p, n);
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
