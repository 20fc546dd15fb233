/*
** sandbox/broker_life.c
** Lifecycle across hosts, as the broker sees it: carrying monitor, link,
** terminate and cancel requests; remembering every watch that crosses
** hosts, so that EXIT / LINK_DOWN / UNLINKED / exec events pass between
** hosts only along a watch the receiver holds on the sender (a host that
** sends any other is killed: it may run a script's native code), and so
** that a host's death becomes EXIT and LINK_DOWN for the watchers on the
** others; and supervising process.service entries (restart with backoff,
** give up after the attempt limit).
** Runs in: broker.
*/
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "broker_int.h"
#include "ward/wd_codec.h"
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

static int eq(const char *a, const char *b, size_t bl) {
  return strlen(a) == bl && memcmp(a, b, bl) == 0;
}

/* FNV-1a, seeded per broker. */
static uint32_t hash_pid(const xwtab *t, const char *s, size_t n) {
  uint32_t h = 2166136261u ^ t->seed;
  size_t i;
  for (i = 0; i < n; i++) {
    h ^= (unsigned char)s[i];
    h *= 16777619u;
  }
  return h;
}

static uint32_t hash_pair(uint32_t wh, uint32_t th) {
  return (wh * 0x9e3779b1u) ^ th;
}

#define LINK_IN(x, head, nx, pv)                                               \
  do {                                                                         \
    if (((x)->nx = *(head)) != NULL) (x)->nx->pv = &(x)->nx;                   \
    *(head) = (x);                                                             \
    (x)->pv = (head);                                                          \
  } while (0)

#define LINK_OUT(x, nx, pv)                                                    \
  do {                                                                         \
    if ((x)->nx != NULL) (x)->nx->pv = (x)->pv;                                \
    *(x)->pv = (x)->nx;                                                        \
  } while (0)

static void tab_insert(xwtab *t, xwatch *x) {
  LINK_IN(x, &t->pair[x->ph & t->mask], pnext, pprev);
  LINK_IN(x, &t->tgt[x->th & t->mask], tnext, tprev);
  LINK_IN(x, &t->wat[x->wh & t->mask], wnext, wprev);
}

/* Make room for one more record: the buckets at least as many as the
** records. Returns 0 or WD_ENOMEM (the table is left as it was). */
static int tab_grow(xwtab *t) {
  size_t nb = t->pair == NULL ? 256 : (t->mask + 1) * 2, i;
  xwatch **pair, **tgt, **wat, *all = NULL, *x;
  if (t->pair != NULL && t->n < t->mask + 1) return 0;
  pair = wd_calloc(nb, sizeof(xwatch *));
  tgt = wd_calloc(nb, sizeof(xwatch *));
  wat = wd_calloc(nb, sizeof(xwatch *));
  if (pair == NULL || tgt == NULL || wat == NULL) {
    wd_free(pair);
    wd_free(tgt);
    wd_free(wat);
    return WD_ENOMEM;
  }
  if (t->pair == NULL) t->seed = (uint32_t)uv_hrtime();
  /* Every record is in exactly one pair chain: collect them there. */
  for (i = 0; t->pair != NULL && i <= t->mask; i++)
    while ((x = t->pair[i]) != NULL) {
      t->pair[i] = x->pnext;
      x->pnext = all;
      all = x;
    }
  wd_free(t->pair);
  wd_free(t->tgt);
  wd_free(t->wat);
  t->pair = pair;
  t->tgt = tgt;
  t->wat = wat;
  t->mask = nb - 1;
  while ((x = all) != NULL) {
    all = x->pnext;
    tab_insert(t, x);
  }
  return 0;
}

static void watch_free(wd_broker *b, xwatch *x) {
  LINK_OUT(x, pnext, pprev);
  LINK_OUT(x, tnext, tprev);
  LINK_OUT(x, wnext, wprev);
  b->xw.n--;
  b->hosts[x->wslot].nwatches--;
  wd_free(x->watcher);
  wd_free(x->target);
  wd_free(x);
}

/* The record of 'type' with exactly this watcher and target, or NULL. */
static xwatch *watch_find(wd_broker *b, int type, const char *w, size_t wl,
                          const char *t, size_t tl) {
  xwtab *tab = &b->xw;
  xwatch *x;
  if (tab->pair == NULL) return NULL;
  x = tab->pair[hash_pair(hash_pid(tab, w, wl), hash_pid(tab, t, tl)) &
                tab->mask];
  for (; x != NULL; x = x->pnext)
    if (x->type == type && eq(x->watcher, w, wl) && eq(x->target, t, tl))
      return x;
  return NULL;
}

/* The link between 'p' and 'q', whichever asked for it, or NULL. */
static xwatch *link_find(wd_broker *b, const char *p, size_t pl, const char *q,
                         size_t ql) {
  xwatch *x = watch_find(b, WD_WATCH_LINK, p, pl, q, ql);
  return x != NULL ? x : watch_find(b, WD_WATCH_LINK, q, ql, p, pl);
}

/* Remember a watch the target's host has just confirmed. A link made
** again (from either side) renews the record instead of adding one. */
void wd__brk_watch_add(wd_broker *b, int type, const char *watcher, size_t wl,
                       const char *target, size_t tl) {
  int ws = slot_of(b, watcher, wl), ts = slot_of(b, target, tl);
  xwtab *t = &b->xw;
  xwatch *x;
  /* Same host: that host's death takes both ends; nothing to remember. */
  if (ws < 0 || ts < 0 || ws == ts) return;
  x = type == WD_WATCH_LINK ? link_find(b, watcher, wl, target, tl)
                      : watch_find(b, type, watcher, wl, target, tl);
  if (x != NULL) {
    x->cslot = ts;
    x->seq = ++t->seq;
    x->done = 0;
    return;
  }
  if (tab_grow(t) < 0 || (x = wd_calloc(1, sizeof *x)) == NULL) return;
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
  x->cslot = ts;
  x->seq = ++t->seq;
  x->wh = hash_pid(t, watcher, wl);
  x->th = hash_pid(t, target, tl);
  x->ph = hash_pair(x->wh, x->th);
  tab_insert(t, x);
  t->n++;
  b->hosts[ws].nwatches++;
}

/* May host 's' hold one more cross-host watch (host.max_watches)? A
** request that would make one is refused with LimitExceeded when not
** (answered here; returns 0). Watches in flight may pass it by as many
** requests as wait. */
int wd__brk_watch_room(hslot *s, uint32_t req) {
  int64_t max = s->he->u.host.limits.max_watches;
  if (max <= 0 || s->nwatches < (size_t)max) return 1;
  wd__brk_reply(s, req, WD_ELIMIT, "watch quota of host %s reached (%lld "
                "monitors, links and exec waits on other hosts, "
                "host.max_watches)", s->id, (long long)max);
  return 0;
}

/* Side 'side' of link 'x' is over; the record goes once both are. */
static void link_done(wd_broker *b, xwatch *x, unsigned side) {
  x->done |= side;
  if (x->done == (XW_WDONE | XW_TDONE)) watch_free(b, x);
}

/* The watcher of monitor or exec watch 'x' has ended: its target's host
** drops the watch (FORGET), and the record goes when it says so. Until
** then the record stays: an EXIT already on its way still passes. */
static void forget(wd_broker *b, xwatch *x) {
  hslot *t = &b->hosts[x->tslot];
  fwd *f;
  wd_buf *w;
  size_t st;
  x->forgetting = 1;
  if (!t->up || (f = wd__brk_fwd_new(b, -1, 0, x->tslot)) == NULL) return;
  f->op = WD_OP_FORGET;
  f->quiet = 1;
  f->who = wd_strdup(x->watcher);
  w = wd__brk_rec(t, WD_R_REQ, &st);
  wd_buf_put_u32(w, f->breq);
  wd_buf_put_u8(w, WD_OP_FORGET);
  wd_buf_put_cstr(w, x->watcher);
  wd_buf_put_cstr(w, x->target);
  wd__brk_rec_done(t, st);
}

/* 'pid' has exited and its host has sent all of its events (a host sends
** WD_R_EXIT after them, wd_proto.h). Its monitors and
** exec watches are over; its side of each link is. Monitors and exec
** watches it held on others stay until their targets' events: those hosts
** still hold them.
** Costs what 'pid' held (two hash chains). */
void wd__brk_watch_forget(wd_broker *b, const char *pid, size_t n) {
  xwtab *t = &b->xw;
  xwatch *x, *next;
  uint32_t h;
  wd__brk_inbox_forget(b, pid, n); /* its watches on inbox streams */
  if (t->pair == NULL) return;
  h = hash_pid(t, pid, n);
  for (x = t->tgt[h & t->mask]; x != NULL; x = next) {
    next = x->tnext;
    if (x->th != h || !eq(x->target, pid, n)) continue;
    if (x->type == WD_WATCH_LINK)
      link_done(b, x, XW_TDONE);
    else
      watch_free(b, x);
  }
  for (x = t->wat[h & t->mask]; x != NULL; x = next) {
    next = x->wnext;
    if (x->wh != h || !eq(x->watcher, pid, n)) continue;
    if (x->type == WD_WATCH_LINK)
      link_done(b, x, XW_WDONE);
    else if (!x->forgetting)
      forget(b, x);
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

/* The event host 'slot' would have sent along 'x' had it not died, or 0
** for none; sets '*dead' and '*alive'. */
static int death_event(const xwatch *x, int slot, const char **dead,
                       const char **alive) {
  if (x->tslot == slot && !(x->done & XW_TDONE)) {
    *dead = x->target;
    *alive = x->watcher;
    if (x->type == WD_WATCH_LINK) return (x->done & XW_WDONE) ? 0 : WD_EV_LINK_DOWN;
    return x->type == WD_WATCH_EXEC ? WD_EV_EXEC : WD_EV_EXIT;
  }
  if (x->wslot == slot && x->type == WD_WATCH_LINK && !(x->done & XW_WDONE) &&
      !(x->done & XW_TDONE)) {
    *dead = x->watcher;
    *alive = x->target;
    return WD_EV_LINK_DOWN;
  }
  return 0; /* a dead watcher of a monitor or exec: nothing to tell */
}

/* Host 'slot' died: every process on it ended with an error naming the
** cause. Its monitors and exec callers elsewhere get EXIT, the processes
** linked to its processes get LINK_DOWN, and processes of the dead host
** that were linked to live ones count as failed for those too. Its PIDs
** so far are now of a dead incarnation: events to them go nowhere. Looks
** at every record (a host's death is rare). */
void wd__brk_watch_host_down(wd_broker *b, int slot, const char *why) {
  xwtab *t = &b->xw;
  char msg[300];
  wd_codec_val err;
  size_t i;
  b->hosts[slot].gone_below = b->next_pid;
  wd__brk_inbox_host_down(b, slot); /* its watches on inbox streams */
  if (t->pair == NULL) return;
  snprintf(msg, sizeof msg, "host %s died: %s", b->hosts[slot].id, why);
  memset(&err, 0, sizeof err);
  err.type = WD_CODEC_V_ERR;
  err.ekind = "Internal";
  err.s = msg;
  for (i = 0; i <= t->mask; i++) {
    xwatch *x, *next;
    for (x = t->pair[i]; x != NULL; x = next) {
      const char *dead = NULL, *alive = NULL;
      int kind;
      wd_buf ev;
      next = x->pnext;
      if (x->tslot != slot && x->wslot != slot) continue;
      kind = death_event(x, slot, &dead, &alive);
      if (kind != 0) {
        wd_buf_init(&ev, 0);
        if (wd_codec_put_event(&ev,
                               kind == WD_EV_LINK_DOWN ? "pid.link.down"
                                                       : "pid.exit",
                               dead, strlen(dead), wd_codec_now_s(), 0, 0,
                               &err) == 0)
          event_to_host(b, kind, dead, alive, &ev);
        wd_buf_close(&ev);
      }
      watch_free(b, x);
    }
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
  if (wd__brk_own_pid(s, from, fl, &counter,
                      "lifecycle request for a PID not of this host") < 0)
    return WD_EBADFRAME;
  given = dest;
  gl = dl;
  /* A name the caller may not look up is one nobody holds. */
  dest = wd__brk_resolve(s, req, from, fl, dest, &dl, &answered);
  if (answered) return 0;
  if (dest != NULL && wd__brk_inbox_is(dest, dl)) /* broker_inbox.c */
    return wd__brk_inbox_life(s, req, op, from, fl, dest, dl);
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
    char th[300];
    snprintf(th, sizeof th, "%s", b->hosts[ts].id);
    if (wd__brk_allow(s, req, from, fl, wd_ops_name(wd_ops_act(op)), dest, dl,
                      th, NULL))
      return 0;
  }
  if ((op == WD_OP_MONITOR || op == WD_OP_LINK) && ts != (int)(s - b->hosts) &&
      !wd__brk_watch_room(s, req))
    return 0;
  if (wd__brk_refuse_full(s, req, &b->hosts[ts])) return 0;
  /* UNMONITOR and UNLINK take the watch off when the target's host has
  ** (wd__brk_after_reply): until then it may still send along it. */
  f = wd__brk_fwd_new(b, (int)(s - b->hosts), req, ts);
  if (f == NULL) return WD_ENOMEM;
  f->op = op;
  f->who = wd_strndup(from, fl);
  if (op == WD_OP_UNLINK) {
    f->mark = ++b->xw.seq;
    f->by_name = gl != dl || memcmp(given, dest, dl) != 0;
  }
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

/* The unlink 'f' (of 'who' and 's') is done on the target's host: the
** target's side is gone, unless the link was made again meanwhile by a
** LINK the other way (its record then has a later 'seq', confirmed by
** the unlinker's host; a record the target's host confirmed came before
** this reply on the same link). An unlink by PID dropped the caller's
** side before it asked; by a name, the caller's host drops it when the
** reply comes and says so with an UNLINKED (runtime/life.c). */
static void unlinked(wd_broker *b, const fwd *f, const char *s, size_t n) {
  xwatch *x = link_find(b, f->who, strlen(f->who), s, n);
  if (x == NULL || (x->cslot != f->target && x->seq >= f->mark)) return;
  if (!f->by_name)
    watch_free(b, x);
  else
    link_done(b, x, eq(x->target, s, n) ? XW_TDONE : XW_WDONE);
}

/* The answer to a carried request arrived (or its host died): remember
** the watches it created, forget those it removed, settle a reserved
** name. */
void wd__brk_after_reply(wd_broker *b, fwd *f, int32_t status, const char *s,
                         size_t n) {
  int ok = status >= 0 && !(n > 0 && s[0] == '=');
  xwatch *x;
  if (f->op == WD_OP_SPAWN && f->name != NULL)
    wd__brk_name_settle(b, f->name, ok ? s : NULL, n, f->target);
  if (!ok || f->who == NULL) return;
  switch (f->op) {
    case WD_OP_MONITOR:
      wd__brk_watch_add(b, WD_WATCH_MONITOR, f->who, strlen(f->who), s, n);
      break;
    case WD_OP_LINK:
      wd__brk_watch_add(b, WD_WATCH_LINK, f->who, strlen(f->who), s, n);
      break;
    case WD_OP_UNMONITOR:
      /* The target's host dropped it before answering. */
      x = watch_find(b, WD_WATCH_MONITOR, f->who, strlen(f->who), s, n);
      if (x != NULL) watch_free(b, x);
      break;
    case WD_OP_FORGET:
      x = watch_find(b, WD_WATCH_MONITOR, f->who, strlen(f->who), s, n);
      if (x != NULL) watch_free(b, x);
      x = watch_find(b, WD_WATCH_EXEC, f->who, strlen(f->who), s, n);
      if (x != NULL) watch_free(b, x);
      break;
    case WD_OP_UNLINK:
      unlinked(b, f, s, n);
      break;
    case WD_OP_SPAWN:
      if (f->flags & WD_SPAWN_MONITOR)
        wd__brk_watch_add(b, WD_WATCH_MONITOR, f->who, strlen(f->who), s, n);
      if (f->flags & WD_SPAWN_LINK)
        wd__brk_watch_add(b, WD_WATCH_LINK, f->who, strlen(f->who), s, n);
      if (f->flags & WD_SPAWN_EXEC)
        wd__brk_watch_add(b, WD_WATCH_EXEC, f->who, strlen(f->who), s, n);
      break;
    default:
      break;
  }
}

/* May 'from' (of host 's') send event 'kind' to 'to'? Only along a watch
** the broker recorded: an EXIT along a monitor of 'to' on 'from', an exec
** result along an exec watch, LINK_DOWN and UNLINKED along a link, once
** per watch (once per side for a link). Uses the watch up. Returns 1 to
** pass it on, 0 to drop it quietly, or -1 after killing the host for a
** forgery. */
static int event_allowed(hslot *s, int kind, const char *from, size_t fl,
                         const char *to, size_t tl) {
  wd_broker *b = s->b;
  int ts = slot_of(b, to, tl);
  const char *hid;
  size_t hl;
  uint64_t counter;
  xwatch *x;
  /* A watcher on a dead host, or on a dead incarnation of a host, is
  ** gone; its watches went with it, and the sender cannot know yet. */
  if (ts >= 0 &&
      (!b->hosts[ts].up || (wd_pid_parse(to, tl, &hid, &hl, &counter) == 0 &&
                            counter < b->hosts[ts].gone_below)))
    return 0;
  switch (kind) {
    case WD_EV_EXIT:
    case WD_EV_EXEC:
      x = watch_find(b, kind == WD_EV_EXIT ? WD_WATCH_MONITOR : WD_WATCH_EXEC, to, tl, from,
                     fl);
      if (x == NULL) {
        wd__brk_host_down(s, "forged event: %s",
                          kind == WD_EV_EXIT
                              ? "EXIT without a monitor"
                              : "exec result without an exec wait");
        return -1;
      }
      watch_free(b, x);
      return 1;
    default: { /* WD_EV_LINK_DOWN, WD_EV_UNLINKED */
      unsigned side, other;
      x = link_find(b, from, fl, to, tl);
      side = x != NULL && eq(x->watcher, from, fl) ? XW_WDONE : XW_TDONE;
      if (x == NULL || (x->done & side)) {
        wd__brk_host_down(s, "forged event: %s without a link",
                          kind == WD_EV_LINK_DOWN ? "LINK_DOWN" : "UNLINKED");
        return -1;
      }
      other = x->done & ~side;
      link_done(b, x, side);
      /* The other side is over already (it exited, or dropped its end
      ** on this side's event): nobody is left to tell. */
      return other == 0;
    }
  }
}

/* An event from host 's' for a process elsewhere. The sender must be one
** of its own processes, and hold a watch of the receiver that the broker
** recorded (event_allowed); a CANCEL never travels this way (it is a
** request the broker checks). */
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
  /* After a kill the link is closed and the rest of the frame dropped
  ** (link.c). Answer 0, not an error: the link would report the error as
  ** a second failure of this slot, which may hold a new incarnation by
  ** then (host death answers a root spawn, whose callback may start the
  ** host again). */
  if (wd__brk_own_pid(s, from, fl, &counter, "forged or unknown event") < 0)
    return 0;
  if (kind != WD_EV_EXIT && kind != WD_EV_LINK_DOWN &&
      kind != WD_EV_UNLINKED && kind != WD_EV_EXEC) {
    wd__brk_host_down(s, "forged or unknown event");
    return 0;
  }
  if (wd__brk_inbox_is(to, tl)) { /* to an inbox stream (broker_inbox.c) */
    if (wd__brk_inbox_event(s, kind, from, fl, to, tl) < 0)
      wd__brk_host_down(s, "forged event: to an inbox");
    return 0;
  }
  if (event_allowed(s, kind, from, fl, to, tl) <= 0) return 0;
  ts = slot_of(b, to, tl);
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

void wd__brk_svc_restart(wd_broker *b, int idx) {
  if (idx >= 0 && idx < b->nsvcs) svc_start(b, idx);
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
  if (v->redeploy) { /* stopped by a deploy: the new code starts */
    v->redeploy = 0;
    v->attempts = 0;
    fprintf(stderr, "ward: service %s restarts with its new revision\n",
            v->e->id);
    svc_start(b, (int)idx);
    return;
  }
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
  xwtab *t = &b->xw;
  size_t i;
  for (i = 0; t->pair != NULL && i <= t->mask; i++)
    while (t->pair[i] != NULL)
      watch_free(b, t->pair[i]);
  wd_free(t->pair);
  wd_free(t->tgt);
  wd_free(t->wat);
  memset(t, 0, sizeof *t);
  wd_free(b->svcs);
  b->svcs = NULL;
}
