/*
** sandbox/broker_life.c
** Lifecycle across hosts, as the broker sees it: carrying monitor, link,
** terminate and cancel requests; forwarding EXIT / LINK_DOWN / exec events
** between hosts; remembering every watch that crosses hosts so that a
** host's death becomes EXIT and LINK_DOWN for the watchers on the others;
** and supervising process.service entries (restart with backoff, give up
** after the attempt limit).
** Runs in: broker.
*/
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lauxlib.h"

#include "broker_int.h"
#include "../runtime/lua/lerrors.h"
#include "../runtime/lua/lhost.h"
#include "ward/wd_pid.h"
#include "ward/wd_proto.h"

/* {====== Cross-host watches ====== */

static int slot_of(wd_broker *b, const char *pid, size_t n) {
  const char *hid;
  size_t hl;
  uint64_t counter;
  hslot *s;
  if (wd_pid_parse(pid, n, &hid, &hl, &counter) < 0) return -1;
  s = wd__brk_slot_by_id(b, hid, hl);
  return s ? (int)(s - b->hosts) : -1;
}

void wd__brk_watch_add(wd_broker *b, int type, const char *watcher, size_t wl,
                       const char *target, size_t tl) {
  int ws = slot_of(b, watcher, wl), ts = slot_of(b, target, tl);
  xwatch *x;
  /* Same host: that host's death takes both ends; nothing to remember. */
  if (ws < 0 || ts < 0 || ws == ts) return;
  x = wd_calloc(1, sizeof *x);
  if (x == NULL) return;
  x->type = type;
  x->watcher = wd_strndup(watcher, wl);
  x->target = wd_strndup(target, tl);
  if (x->watcher == NULL || x->target == NULL) {
    wd_free(x->watcher);
    wd_free(x->target);
    wd_free(x);
    return;
  }
  x->wslot = ws;
  x->tslot = ts;
  x->next = b->xw;
  b->xw = x;
}

static void watch_free(xwatch *x) {
  wd_free(x->watcher);
  wd_free(x->target);
  wd_free(x);
}

static int eq(const char *a, const char *b, size_t bl) {
  return strlen(a) == bl && memcmp(a, b, bl) == 0;
}

/* Drop watches of one kind between two PIDs (either direction for links). */
static void watch_del(wd_broker *b, int type, const char *w, size_t wl,
                      const char *t, size_t tl) {
  xwatch **pp = &b->xw;
  while (*pp != NULL) {
    xwatch *x = *pp;
    if (x->type == type &&
        ((eq(x->watcher, w, wl) && eq(x->target, t, tl)) ||
         (type == WT_LINK && eq(x->watcher, t, tl) && eq(x->target, w, wl)))) {
      *pp = x->next;
      watch_free(x);
    } else {
      pp = &x->next;
    }
  }
}

/* 'pid' has exited: none of its watches matter any more. */
void wd__brk_watch_forget(wd_broker *b, const char *pid, size_t n) {
  xwatch **pp = &b->xw;
  while (*pp != NULL) {
    xwatch *x = *pp;
    if (eq(x->watcher, pid, n) || eq(x->target, pid, n)) {
      *pp = x->next;
      watch_free(x);
    } else {
      pp = &x->next;
    }
  }
}

static void event_to_host(wd_broker *b, int kind, const char *from,
                          const char *to, const wd_buf *payload) {
  hslot *t;
  wd_buf *w;
  size_t st;
  int ts = slot_of(b, to, strlen(to));
  if (ts < 0) return;
  t = &b->hosts[ts];
  if (!t->up) return;
  w = wd__brk_rec(t, WD_R_EVENT, &st);
  wd_buf_put_u8(w, (uint8_t)kind);
  wd_buf_put_cstr(w, from);
  wd_buf_put_cstr(w, to);
  wd_buf_put_u64(w, 0);
  if (payload) wd_buf_put(w, payload->p, payload->len);
  wd__brk_rec_done(t, st);
}

/* Host 'slot' died: every process on it ended with an error naming the
** cause. Its monitors and exec callers elsewhere get EXIT, the processes
** linked to its processes get LINK_DOWN, and processes of the dead host
** that were linked to live ones count as failed for those too. */
void wd__brk_watch_host_down(wd_broker *b, int slot, const char *why) {
  lua_State *L = b->enc;
  xwatch **pp = &b->xw;
  char msg[300];
  snprintf(msg, sizeof msg, "host %s died: %s", b->hosts[slot].id, why);
  while (*pp != NULL) {
    xwatch *x = *pp;
    const char *dead, *alive;
    int kind;
    wd_buf ev;
    if (x->tslot == slot) {
      dead = x->target;
      alive = x->watcher;
    } else if (x->wslot == slot && x->type == WT_LINK) {
      dead = x->watcher;
      alive = x->target;
    } else if (x->wslot == slot) { /* a dead watcher: nothing to tell */
      *pp = x->next;
      watch_free(x);
      continue;
    } else {
      pp = &x->next;
      continue;
    }
    kind = x->type == WT_LINK   ? WD_EV_LINK_DOWN
           : x->type == WT_EXEC ? WD_EV_EXEC
                                : WD_EV_EXIT;
    wd_buf_init(&ev, 0);
    lua_settop(L, 0);
    wd_lerr_push(L, "Internal", msg, 0);
    if (wd__event_build(L, dead, strlen(dead),
                        kind == WD_EV_LINK_DOWN ? "pid.link.down" : "pid.exit",
                        1, 0, 0, &ev) == 0)
      event_to_host(b, kind, dead, alive, &ev);
    wd_buf_close(&ev);
    lua_settop(L, 0);
    *pp = x->next;
    watch_free(x);
  }
}

/* }====== */

/* {====== Requests and events from hosts ====== */

/* MONITOR, UNMONITOR, LINK, UNLINK, TERMINATE, CANCEL from host 's'. */
int wd__brk_req_life(hslot *s, uint32_t req, uint8_t op, wd_cur *c) {
  wd_broker *b = s->b;
  const char *from, *dest, *given;
  size_t fl, dl, gl, rest;
  uint64_t counter, deadline = 0;
  const uint8_t *payload = NULL;
  int ts, answered;
  fwd *f;
  wd_buf *w;
  size_t st;
  if (wd_cur_str(c, &from, &fl) || wd_cur_str(c, &dest, &dl))
    return WD_EBADFRAME;
  if (op == WD_OP_CANCEL && wd_cur_u64(c, &deadline)) return WD_EBADFRAME;
  rest = wd_cur_left(c);
  if (wd_cur_bytes(c, rest, &payload) < 0) return WD_EBADFRAME;
  if (!wd__brk_owns(s, from, fl, &counter)) {
    wd__brk_host_down(s, "lifecycle request for a PID not of this host");
    return WD_EBADFRAME;
  }
  given = dest;
  gl = dl;
  /* A name the caller may not look up is one nobody holds. */
  dest = wd__brk_resolve(s, req, from, fl, dest, &dl, &answered);
  if (answered) return 0;
  ts = dest ? slot_of(b, dest, dl) : -1;
  if (ts < 0 || !b->hosts[ts].up) {
    if (op == WD_OP_UNMONITOR || op == WD_OP_UNLINK)
      wd__brk_reply(s, req, 0, "%.*s", (int)gl, given);
    else if (dest == NULL)
      wd__brk_reply(s, req, WD_ENOTFOUND,
                    "could not resolve '%.*s' as PID "
                    "or registered name",
                    (int)gl, given);
    else
      wd__brk_reply(s, req, WD_ENOTFOUND, "process not found: %.*s", (int)dl,
                    dest);
    return 0;
  }
  {
    static const char *const actions[] = {
      [WD_OP_MONITOR] = "process.monitor",
      [WD_OP_UNMONITOR] = "process.unmonitor",
      [WD_OP_LINK] = "process.link",
      [WD_OP_UNLINK] = "process.unlink",
      [WD_OP_TERMINATE] = "process.terminate",
      [WD_OP_CANCEL] = "process.cancel",
    };
    char th[300];
    snprintf(th, sizeof th, "%s", b->hosts[ts].id);
    if (wd__brk_allow(s, req, from, fl, actions[op], dest, dl, th, NULL))
      return 0;
  }
  if (wd__brk_refuse_full(s, req, &b->hosts[ts])) return 0;
  if (op == WD_OP_UNMONITOR) watch_del(b, WT_MONITOR, from, fl, dest, dl);
  if (op == WD_OP_UNLINK) watch_del(b, WT_LINK, from, fl, dest, dl);
  f = wd__brk_fwd_new(b, (int)(s - b->hosts), req, ts);
  if (f == NULL) return WD_ENOMEM;
  f->op = op;
  f->who = wd_strndup(from, fl);
  w = wd__brk_rec(&b->hosts[ts], WD_R_REQ, &st);
  wd_buf_put_u32(w, f->breq);
  wd_buf_put_u8(w, op);
  wd_buf_put_str(w, from, fl);
  wd_buf_put_str(w, dest, dl);
  if (op == WD_OP_CANCEL) {
    wd_buf_put_u64(w, deadline);
    wd_buf_put(w, payload, rest);
  }
  wd__brk_rec_done(&b->hosts[ts], st);
  return 0;
}

/* The answer to a carried request arrived (or its host died): remember
** the watches it created, settle a reserved name. */
void wd__brk_after_reply(wd_broker *b, fwd *f, int32_t status, const char *s,
                         size_t n) {
  int ok = status >= 0 && !(n > 0 && s[0] == '=');
  if (f->op == WD_OP_SPAWN && f->name != NULL)
    wd__brk_name_settle(b, f->name, ok ? s : NULL, n, f->target);
  if (!ok || f->who == NULL) return;
  switch (f->op) {
    case WD_OP_MONITOR:
      wd__brk_watch_add(b, WT_MONITOR, f->who, strlen(f->who), s, n);
      break;
    case WD_OP_LINK:
      wd__brk_watch_add(b, WT_LINK, f->who, strlen(f->who), s, n);
      break;
    case WD_OP_SPAWN:
      if (f->flags & WD_SPAWN_MONITOR)
        wd__brk_watch_add(b, WT_MONITOR, f->who, strlen(f->who), s, n);
      if (f->flags & WD_SPAWN_LINK)
        wd__brk_watch_add(b, WT_LINK, f->who, strlen(f->who), s, n);
      if (f->flags & WD_SPAWN_EXEC)
        wd__brk_watch_add(b, WT_EXEC, f->who, strlen(f->who), s, n);
      break;
    default:
      break;
  }
}

/* An event from host 's' for a process elsewhere. The sender must be one
** of its own processes; a CANCEL never travels this way (it is a request
** the broker checks). */
int wd__brk_on_event(hslot *s, wd_cur *c) {
  wd_broker *b = s->b;
  uint8_t kind;
  const char *from, *to;
  size_t fl, tl, n, st;
  uint64_t deadline, counter;
  const uint8_t *p;
  int ts;
  wd_buf *w;
  if (wd_cur_u8(c, &kind) || wd_cur_str(c, &from, &fl) ||
      wd_cur_str(c, &to, &tl) || wd_cur_u64(c, &deadline))
    return WD_EBADFRAME;
  n = wd_cur_left(c);
  if (wd_cur_bytes(c, n, &p) < 0) return WD_EBADFRAME;
  if (!wd__brk_owns(s, from, fl, &counter) ||
      (kind != WD_EV_EXIT && kind != WD_EV_LINK_DOWN &&
       kind != WD_EV_UNLINKED && kind != WD_EV_EXEC)) {
    wd__brk_host_down(s, "forged or unknown event");
    return WD_EBADFRAME;
  }
  ts = slot_of(b, to, tl);
  if (ts < 0 || !b->hosts[ts].up) return 0; /* its watcher is gone */
  w = wd__brk_rec(&b->hosts[ts], WD_R_EVENT, &st);
  wd_buf_put_u8(w, kind);
  wd_buf_put_str(w, from, fl);
  wd_buf_put_str(w, to, tl);
  wd_buf_put_u64(w, 0);
  wd_buf_put(w, p, n);
  wd__brk_rec_done(&b->hosts[ts], st);
  return 0;
}

/* }====== */

/* {====== Services ====== */

static void svc_start(wd_broker *b, int idx) {
  svc *v = &b->svcs[idx];
  char err[300];
  if (b->stopping || v->running || v->given_up) return;
  v->started = uv_now(&b->loop);
  v->running = 1;
  if (wd__brk_spawn_service(b, idx, err, sizeof err) < 0) {
    v->running = 0;
    fprintf(stderr, "ward: service %s: cannot start: %s\n", v->e->id, err);
  }
}

static void svc_timer(wd_broker *b, void *ud, int fired) {
  int idx = (int)(intptr_t)ud;
  if (fired && idx < b->nsvcs) svc_start(b, idx);
}

void wd_broker_start_services(wd_broker *b) {
  size_t i;
  int n = 0;
  if (b->svcs == NULL) {
    for (i = 0; i < b->m->nentries; i++)
      if (b->m->entries[i]->kind == WD_KIND_SERVICE) n++;
    b->svcs = wd_calloc((size_t)(n ? n : 1), sizeof *b->svcs);
    if (b->svcs == NULL) return;
    for (i = 0; i < b->m->nentries; i++)
      if (b->m->entries[i]->kind == WD_KIND_SERVICE)
        b->svcs[b->nsvcs++].e = b->m->entries[i];
  }
  for (n = 0; n < b->nsvcs; n++)
    if (b->svcs[n].e->u.svc.auto_start) svc_start(b, n);
}

/* A service process ended ('ok': normally). A normal exit is final; a
** failure restarts it after the backoff delay, until 'max_attempts'
** restarts in a row have failed (a run longer than 'stable_threshold'
** resets the count). */
void wd__brk_svc_exited(wd_broker *b, int slot, uint64_t idx, int ok,
                        const char *text) {
  svc *v;
  const wd_restart_conf *rc;
  double delay;
  uint64_t ran;
  (void)slot;
  if (idx >= (uint64_t)b->nsvcs) return;
  v = &b->svcs[idx];
  rc = &v->e->u.svc.restart;
  v->running = 0;
  if (b->stopping) return;
  if (ok) {
    fprintf(stderr, "ward: service %s exited\n", v->e->id);
    return;
  }
  ran = uv_now(&b->loop) - v->started;
  if ((int64_t)ran * 1000000 >= v->e->u.svc.stable_threshold_ns)
    v->attempts = 0;
  v->attempts++;
  if (rc->max_attempts > 0 && v->attempts > rc->max_attempts) {
    v->given_up = 1;
    fprintf(stderr,
            "ward: service %s failed: %s; giving up after %d "
            "restarts\n",
            v->e->id, text, v->attempts - 1);
    return;
  }
  delay = (double)rc->initial_delay_ns *
          pow(rc->backoff_factor, (double)(v->attempts - 1));
  if (delay > (double)rc->max_delay_ns) delay = (double)rc->max_delay_ns;
  delay *= 1.0 + rc->jitter * ((double)(rand() % 2001) / 1000.0 - 1.0);
  if (delay < 0) delay = 0;
  fprintf(stderr, "ward: service %s failed: %s; restart %d in %.0f ms\n",
          v->e->id, text, v->attempts, delay / 1e6);
  wd_broker_after(b, (uint64_t)(delay / 1e6), svc_timer, (void *)(intptr_t)idx);
}

/* }====== */

void wd__brk_free_life(wd_broker *b) {
  while (b->xw != NULL) {
    xwatch *x = b->xw;
    b->xw = x->next;
    watch_free(x);
  }
  wd_free(b->svcs);
  b->svcs = NULL;
  if (b->enc) lua_close(b->enc);
  b->enc = NULL;
}
