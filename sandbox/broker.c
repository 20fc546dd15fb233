/*
** sandbox/broker.c
** The broker: starts one host OS process per process.host on demand,
** signs every frame to it, routes requests between hosts, keeps the name
** registry and reports root processes' exits (hosts are started and
** buried in broker_host.c). It never trusts a host: every field
** of every record is checked, and a host that lies (a sender PID that is
** not its own, a reply to a request it was never sent) is killed.
** Runs in: broker.
*/
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <sodium.h>

#include "ward/wd_codec.h"
#include "ward/wd_link.h"
#include "ward/wd_pid.h"
#include "ward/wd_proto.h"
#include "ward/wd_sandbox.h"

#include "broker_int.h"
#include "ward/wd_audit.h"
#include "ward/wd_wire.h"


/* {====== Small tables ====== */


/* A request to host 'target', about to be written to it: it waits at the
** end of that host's queue, where its deadline is watched. */
fwd *wd__brk_fwd_new(wd_broker *b, int origin, uint32_t oreq, int target) {
  hslot *t = &b->hosts[target];
  fwd *f = wd_calloc(1, sizeof *f);
  if (f == NULL) return NULL;
  if (++b->next_breq == 0) b->next_breq = 1;
  f->breq = b->next_breq;
  f->origin = origin;
  f->oreq = oreq;
  f->target = target;
  f->state = FWD_WAIT;
  f->sent = b->wclock;
  f->next = b->fwd[f->breq % FWD_BUCKETS];
  b->fwd[f->breq % FWD_BUCKETS] = f;
  f->qprev = t->rq_tail;
  if (t->rq_tail != NULL)
    t->rq_tail->qnext = f;
  else
    t->rq_head = f;
  t->rq_tail = f;
  return f;
}

/* Take 'f' out of its target's queue (it is answered, or late). */
void wd__brk_fwd_unqueue(wd_broker *b, fwd *f) {
  hslot *t = &b->hosts[f->target];
  if (f->state != FWD_WAIT) return;
  if (f->qprev != NULL)
    f->qprev->qnext = f->qnext;
  else
    t->rq_head = f->qnext;
  if (f->qnext != NULL)
    f->qnext->qprev = f->qprev;
  else
    t->rq_tail = f->qprev;
  f->qprev = f->qnext = NULL;
}

void wd__brk_fwd_free(fwd *f) {
  if (f == NULL) return;
  wd_free(f->who);
  wd_free(f->name);
  wd_free(f);
}

static fwd *fwd_find(wd_broker *b, uint32_t breq) {
  fwd *f = b->fwd[breq % FWD_BUCKETS];
  while (f != NULL && f->breq != breq) f = f->next;
  return f;
}

static fwd *fwd_take(wd_broker *b, uint32_t breq) {
  fwd **pp = &b->fwd[breq % FWD_BUCKETS];
  while (*pp != NULL) {
    fwd *f = *pp;
    if (f->breq == breq) {
      *pp = f->next;
      return f;
    }
    pp = &f->next;
  }
  return NULL;
}

hslot *wd__brk_slot_by_id(wd_broker *b, const char *id, size_t n) {
  int i;
  for (i = 0; i < b->nhosts; i++)
    if (b->hosts[i].idlen == n && memcmp(b->hosts[i].id, id, n) == 0)
      return &b->hosts[i];
  return NULL;
}

/* }====== */

/* {====== Records to hosts ====== */

wd_buf *wd__brk_rec(hslot *s, uint8_t rtype, size_t *start) {
  *start = wd_link_rec_begin(s->link, rtype);
  return &s->link->batch;
}

/* The lane of the record at 'start' (wd_link.h): a message is ordered
** with the other records of its sender (a REQ SEND: u32 req, u8 op, str
** from, ...), replies and PID blocks with nothing; anything else is a
** barrier, ordered with everything (events after the messages before
** them). */
static uint64_t rec_lane(const wd_link *l, size_t start) {
  wd_cur c;
  uint8_t rt, op;
  uint32_t u;
  const char *from;
  size_t n;
  wd_cur_init(&c, l->batch.p + start, l->batch.len - start);
  if (wd_cur_u8(&c, &rt) || wd_cur_u32(&c, &u)) return WD_LINK_LANE_ALL;
  if (rt == WD_R_REPLY || rt == WD_R_PIDS || rt == WD_R_CREDIT)
    return WD_LINK_LANE_FREE;
  if (rt == WD_R_MSG) /* str from, ... */
    return wd_cur_str(&c, &from, &n) ? WD_LINK_LANE_ALL
                                     : wd_link_lane_of(from, n);
  if (rt != WD_R_REQ || wd_cur_u32(&c, &u) || wd_cur_u8(&c, &op) ||
      op != WD_OP_SEND || wd_cur_str(&c, &from, &n))
    return WD_LINK_LANE_ALL;
  return wd_link_lane_of(from, n);
}

int wd__brk_rec_done(hslot *s, size_t start) {
  if (start < s->link->batch.len)
    wd_link_rec_lane(s->link, rec_lane(s->link, start));
  return wd_link_rec_end(s->link, start);
}

/* Is host 't' not reading (its link queue holds its 'link_queue' bytes)?
** Then a request towards it is refused at once with Unavailable instead of
** queued, so that the broker does not grow with what other hosts send to
** a host that does not read, and only the senders are refused. What the
** broker owes a host (replies, events, exits) still goes out: it is
** bounded by the requests that were accepted. Answers request 'req' of
** host 's' and returns 1 when refused, else 0. */
int wd__brk_refuse_full(hslot *s, uint32_t req, hslot *t) {
  uint64_t max = t->he->u.host.limits.link_queue;
  if (t->link == NULL || max == 0 || wd_link_backlog(t->link) < max) return 0;
  wd__brk_reply(s, req, WD_EUNAVAIL, "host %s is not reading (link queue full)",
                t->id);
  return 1;
}

void wd__brk_reply(hslot *s, uint32_t req, int32_t status, const char *fmt,
                   ...) {
  char msg[600];
  va_list ap;
  size_t st;
  wd_buf *w;
  if (!s->up) return;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  w = wd__brk_rec(s, WD_R_REPLY, &st);
  wd_buf_put_u32(w, req);
  wd_buf_put_u32(w, (uint32_t)status);
  wd_buf_put_cstr(w, msg);
  wd__brk_rec_done(s, st);
}

/* Answer the origin of a carried request (a host or a root callback). */
void wd__brk_answer(wd_broker *b, fwd *f, int32_t status, const char *s,
                    size_t n) {
  if (f->quiet) return;
  if (f->origin == FWD_NOBODY) return; /* its caller's host died */
  if (f->origin == FWD_GW) { /* a request of the front door */
    wd__brk_gw_answer(b, f, status, s, n);
    return;
  }
  if (f->origin == FWD_STATUS) { /* a status request (broker_gw_status.c) */
    wd__brk_stat_reply(b, f, status, s, n);
    return;
  }
  if (f->origin >= 0) {
    hslot *o = &b->hosts[f->origin];
    size_t st;
    wd_buf *w;
    if (!o->up) return;
    w = wd__brk_rec(o, WD_R_REPLY, &st);
    wd_buf_put_u32(w, f->oreq);
    wd_buf_put_u32(w, (uint32_t)status);
    wd_buf_put_str(w, s, n);
    wd__brk_rec_done(o, st);
    return;
  }
  if (status < 0) {
    char msg[600];
    snprintf(msg, sizeof msg, "%.*s", (int)n, s);
    if (f->svc)
      wd__brk_svc_exited(b, -1, (uint64_t)(f->svc - 1), 0, msg);
    else
      f->cb(b, f->ud, 0, 0, msg);
  } else {
    const char *hid;
    size_t hl;
    uint64_t counter;
    root *r = wd_calloc(1, sizeof *r);
    if (r == NULL || wd_pid_parse(s, n, &hid, &hl, &counter) < 0) {
      wd_free(r);
      if (f->svc)
        wd__brk_svc_exited(b, -1, (uint64_t)(f->svc - 1), 0, "bad PID");
      else
        f->cb(b, f->ud, 0, 0, "bad PID from host");
      return;
    }
    if (f->on_pid != NULL) f->on_pid(b, f->ud, s, n);
    r->slot = f->target;
    r->counter = counter;
    r->cb = f->cb;
    r->ud = f->ud;
    r->svc = f->svc;
    r->next = b->roots;
    b->roots = r;
  }
}

/* }====== */

/* {====== Requests from hosts ====== */

static int get_str(wd_cur *c, const char **s, size_t *n) {
  return wd_cur_str(c, s, n);
}

/* Is 'pid' a PID of host 's'? */
int wd__brk_owns(hslot *s, const char *pid, size_t n, uint64_t *counter) {
  const char *hid;
  size_t hl;
  if (wd_pid_parse(pid, n, &hid, &hl, counter) < 0) return 0;
  return hl == s->idlen && memcmp(hid, s->id, hl) == 0;
}

/*
** The PID a host names as the caller of its request, or as the sender of
** its event, must be one of its own: another host's PID (or no PID) is a
** forgery, and the host is taken down with 'why' (a bad frame is fatal
** for its host only). Returns 0 with the PID's counter in '*counter', or
** WD_EBADFRAME once the host is down.
*/
int wd__brk_own_pid(hslot *s, const char *pid, size_t n, uint64_t *counter,
                    const char *why) {
  if (wd__brk_owns(s, pid, n, counter)) return 0;
  wd__brk_host_down(s, "%s", why);
  return WD_EBADFRAME;
}

/* Deliver a message from the broker (no sender) to 'pid'; nobody waits
** for the answer. */
static void send_anon(wd_broker *b, const char *pid, size_t pl,
                      const char *topic, size_t tl, const uint8_t *p,
                      size_t n) {
  const char *hid;
  size_t hl, st;
  uint64_t counter;
  hslot *t;
  wd_buf *w;
  if (wd_pid_parse(pid, pl, &hid, &hl, &counter) < 0) return;
  t = wd__brk_slot_by_id(b, hid, hl);
  if (t == NULL || !t->up) return;
  w = wd__brk_rec(t, WD_R_REQ, &st);
  wd_buf_put_u32(w, 0);
  wd_buf_put_u8(w, WD_OP_SEND);
  wd_buf_put_str(w, "", 0);
  wd_buf_put_str(w, pid, pl);
  wd_buf_put_str(w, topic, tl);
  wd_buf_put(w, p, n);
  wd__brk_rec_done(t, st);
}

/* Write a SPAWN request to host 't' for 'f'. */
static void put_spawn(hslot *t, fwd *f, const wd_spawnrec *q) {
  size_t st;
  wd_buf *w = wd__brk_rec(t, WD_R_REQ, &st);
  wd_buf_put_u32(w, f->breq);
  wd_buf_put_u8(w, WD_OP_SPAWN);
  wd_wire_put_spawn(w, q);
  wd__brk_rec_done(t, st);
}

/* Spawn-or-signal: the name is taken, so the queued messages go to its
** holder and the answer is "=<holder PID>". */
static void signal_holder(wd_broker *b, hslot *s, uint32_t req,
                          const wd_spawnrec *q, const name *x) {
  uint32_t i;
  const char *hid;
  size_t hl;
  uint64_t counter;
  hslot *to;
  if (q->nmsgs > 0 &&
      wd_pid_parse(x->pid, strlen(x->pid), &hid, &hl, &counter) == 0 &&
      (to = wd__brk_slot_by_id(b, hid, hl)) != NULL &&
      wd__brk_refuse_full(s, req, to))
    return;
  for (i = 0; i < q->nmsgs; i++)
    send_anon(b, x->pid, strlen(x->pid), q->msgs[i].topic, q->msgs[i].topiclen,
              q->msgs[i].payload, q->msgs[i].plen);
  wd__brk_reply(s, req, 0, "=%s", x->pid);
}

/* May the caller send every queued message of 'q' to the holder 'x'?
** Answers the request and returns 0 when not. */
static int signal_allowed(hslot *s, uint32_t req, const wd_spawnrec *q,
                          const name *x) {
  const char *hid;
  size_t hl;
  uint64_t counter;
  char th[WD_PID_HOST_MAX + 1], tp[WD_TOPIC_MAX + 1];
  uint32_t i;
  if (wd_pid_parse(x->pid, strlen(x->pid), &hid, &hl, &counter) < 0)
    return 0;
  snprintf(th, sizeof th, "%.*s", (int)hl, hid);
  for (i = 0; i < q->nmsgs; i++) {
    snprintf(tp, sizeof tp, "%.*s", (int)q->msgs[i].topiclen, q->msgs[i].topic);
    if (wd__brk_allow(s, req, q->parent, q->parentlen, wd_ops_name(WD_ACT_SEND),
                      x->pid, strlen(x->pid), th, tp))
      return 0;
  }
  return 1;
}

static int req_spawn(hslot *s, uint32_t req, uint8_t op, wd_cur *c) {
  wd_broker *b = s->b;
  const wd_entry *e;
  wd_spawnrec q;
  wd_spawnmsg msgs[WD_SPAWN_MAXMSGS];
  hslot *t;
  uint64_t counter;
  char id[300], err[300];
  fwd *f;
  (void)op;
  if (wd_wire_get_spawn(c, &q, msgs) < 0) return WD_EBADFRAME;
  if (wd__brk_own_pid(s, q.parent, q.parentlen, &counter,
                      "spawn request with a parent PID not of this host") < 0)
    return WD_EBADFRAME;
  q.flags &= ~(uint32_t)(WD_SPAWN_ROOT | WD_SPAWN_SERVICE);
  if (q.entrylen >= sizeof id || memchr(q.entry, '\0', q.entrylen) != NULL) {
    wd__brk_reply(s, req, WD_EINVAL, "invalid entry id");
    return 0;
  }
  memcpy(id, q.entry, q.entrylen);
  id[q.entrylen] = '\0';
  e = wd_manifest_find(b->m, id);
  if (e == NULL || e->kind != WD_KIND_LUA) {
    wd__brk_reply(s, req, WD_ENOTFOUND, "entry not found: %s", id);
    return 0;
  }
  t = wd__brk_slot_by_id(b, q.host, q.hostlen);
  if (t == NULL) {
    wd__brk_reply(s, req, WD_ENOTFOUND, "host not found: %.*s", (int)q.hostlen,
                  q.host);
    return 0;
  }
  if (!wd__brk_entry_on_host(e, t)) {
    wd__brk_reply(s, req, WD_ENOTFOUND, "entry %s runs on host %s, not %s", id,
                  e->u.lua.host, t->id);
    return 0;
  }
  {
    char th[300];
    int ask[4], n, i;
    snprintf(th, sizeof th, "%s", t->id);
    /* What the host asked (the operation table, wd_ops_spawn_asks). */
    n = wd_ops_spawn_asks(q.flags, ask);
    for (i = 0; i < n; i++) {
      int onhost = wd_ops_res(ask[i]) == WD_RES_HOST;
      if (wd__brk_allow(s, req, q.parent, q.parentlen, wd_ops_name(ask[i]),
                        onhost ? q.host : q.entry,
                        onhost ? q.hostlen : q.entrylen, th, NULL))
        return 0;
    }
    /* A child with another actor or scope than its spawner's. */
    if ((q.actorlen != s->cur->actorlen ||
         memcmp(q.actor, s->cur->actor, q.actorlen) != 0 ||
         q.scopelen != s->cur->scopelen ||
         memcmp(q.scope, s->cur->scope, q.scopelen) != 0) &&
        wd__brk_allow(s, req, q.parent, q.parentlen,
                      wd_ops_name(WD_ACT_SECURITY), "security", 8, th, NULL))
      return 0;
    /* A watch of the child from another host counts against the
    ** spawner's host's quota. */
    if ((q.flags & (WD_SPAWN_MONITOR | WD_SPAWN_LINK | WD_SPAWN_EXEC)) &&
        t != s && !wd__brk_watch_room(s, req))
      return 0;
    /* The child's actor and scope must fit the target host's ceiling. */
    {
      char why[300];
      if (!wd__brk_sec_fits(t, q.actor, q.actorlen, q.scope, q.scopelen, why,
                            sizeof why)) {
        wd__brk_reply(s, req, WD_EDENIED, "permission denied: %s", why);
        return 0;
      }
    }
  }
  if (q.flags & WD_SPAWN_NAMED) {
    name *x;
    int vis;
    if (q.namelen == 0 || q.namelen > 255 ||
        memchr(q.name, '\0', q.namelen) != NULL) {
      wd__brk_reply(s, req, WD_EINVAL, "invalid name");
      return 0;
    }
    /* Spawn-or-signal registers the name, or sends to its holder: the
    ** caller needs the rights for what it ends up doing. A holder it may
    ** not look up is not signalled: the name is taken, as a register
    ** would say (and only to a caller that may register it). */
    vis = wd__brk_may_lookup(s, req, q.parent, q.parentlen, q.name, q.namelen);
    if (vis < 0) return 0;
    x = wd__brk_name_get(b, q.name, q.namelen);
    if (vis && x != NULL && x->pid[0] != '\0') {
      if (!signal_allowed(s, req, &q, x)) return 0;
      signal_holder(b, s, req, &q, x);
      return 0;
    }
    if (wd__brk_allow(s, req, q.parent, q.parentlen,
                      wd_ops_name(WD_ACT_REGISTER), q.name, q.namelen, NULL,
                      NULL))
      return 0;
    /* The child's host will hold the name. */
    if (!wd__brk_name_room(t)) {
      wd__brk_reply(s, req, WD_ELIMIT, "name quota of host %s reached "
                    "(host.max_names)", t->id);
      return 0;
    }
    if (x != NULL && x->pid[0] != '\0') {
      wd__brk_reply(s, req, WD_EEXIST, "name already registered: %.*s",
                    (int)q.namelen, q.name);
      return 0;
    }
    if (x != NULL) {
      wd__brk_reply(s, req, WD_EUNAVAIL,
                    "name %.*s is being registered, "
                    "retry",
                    (int)q.namelen, q.name);
      return 0;
    }
  }
  if (wd__brk_host_ensure(b, t, err, sizeof err) < 0) {
    wd__brk_reply(s, req, WD_EUNAVAIL, "%s", err);
    return 0;
  }
  if (wd__brk_refuse_full(s, req, t)) return 0;
  f = wd__brk_fwd_new(b, (int)(s - b->hosts), req, (int)(t - b->hosts));
  if (f == NULL) return WD_ENOMEM;
  f->op = WD_OP_SPAWN;
  f->flags = q.flags;
  f->who = wd_strndup(q.parent, q.parentlen);
  if (q.flags & WD_SPAWN_NAMED) {
    /* Reserve the name until the child exists: nobody else takes it. */
    f->name = wd_strndup(q.name, q.namelen);
    if (f->name != NULL) wd__brk_name_put(b, q.name, q.namelen, "", 0, -1, 0);
  }
  wd__brk_ship(t, e, NULL, NULL);
  put_spawn(t, f, &q);
  return 0;
}

static int req_send(hslot *s, uint32_t req, uint8_t op, wd_cur *c) {
  wd_broker *b = s->b;
  const char *from, *dest, *topic, *hid;
  size_t fl, dl, tl, hl, rest;
  const uint8_t *payload;
  uint64_t counter;
  hslot *t;
  fwd *f;
  size_t st;
  wd_buf *w;
  (void)op;
  if (get_str(c, &from, &fl) || get_str(c, &dest, &dl) ||
      get_str(c, &topic, &tl))
    return WD_EBADFRAME;
  rest = wd_cur_left(c);
  if (wd_cur_bytes(c, rest, &payload) < 0) return WD_EBADFRAME;
  if (wd__brk_own_pid(s, from, fl, &counter,
                      "message with a sender PID not of this host") < 0)
    return WD_EBADFRAME;
  if (tl == 0 || topic[0] == '@') {
    wd__brk_host_down(s, "message to a reserved topic");
    return WD_EBADFRAME;
  }
  if (tl > WD_TOPIC_MAX || memchr(topic, '\0', tl) != NULL) {
    /* A host refuses these itself; decide nothing on a cut copy. */
    wd__brk_reply(s, req, WD_EINVAL, "topic longer than %d bytes or holding "
                  "a NUL byte", WD_TOPIC_MAX);
    return 0;
  }
  {
    const char *given = dest;
    size_t gl = dl;
    int answered;
    /* A name the sender may not look up is one nobody holds. */
    if ((dest = wd__brk_resolve(s, req, from, fl, dest, &dl, &answered)) ==
        NULL) {
      if (!answered)
        wd__brk_reply(s, req, WD_ENOTFOUND,
                      "could not resolve '%.*s' as PID or registered name",
                      (int)gl, given);
      return 0;
    }
  }
  if (wd_pid_parse(dest, dl, &hid, &hl, &counter) < 0) return WD_EINTERNAL;
  {
    char th[WD_PID_HOST_MAX + 1], tp[WD_TOPIC_MAX + 1];
    snprintf(th, sizeof th, "%.*s", (int)hl, hid);
    snprintf(tp, sizeof tp, "%.*s", (int)tl, topic);
    if (wd__brk_allow(s, req, from, fl, wd_ops_name(WD_ACT_SEND), dest, dl, th,
                      tp))
      return 0;
  }
  if (wd__brk_inbox_is(dest, dl)) /* an inbox stream (broker_inbox.c) */
    return wd__brk_inbox_send(s, req, from, fl, dest, dl, topic, tl, payload,
                              rest);
  t = wd__brk_slot_by_id(b, hid, hl);
  if (t == NULL) {
    wd__brk_reply(s, req, WD_ENOTFOUND, "process not found: host unknown");
    return 0;
  }
  if (!t->up) {
    wd__brk_reply(s, req, WD_ENOTFOUND, "process not found: %.*s", (int)dl,
                  dest);
    return 0;
  }
  /* The receiving host's own max_payload, as a send on that host gets. */
  if (rest > t->he->u.host.limits.max_payload) {
    wd__brk_reply(s, req, WD_ETOOBIG, "payload too large (%zu bytes, limit "
                  "%llu on host %s)", rest,
                  (unsigned long long)t->he->u.host.limits.max_payload, t->id);
    return 0;
  }
  if (wd__brk_refuse_full(s, req, t)) return 0;
  f = wd__brk_fwd_new(b, (int)(s - b->hosts), req, (int)(t - b->hosts));
  if (f == NULL) return WD_ENOMEM;
  w = wd__brk_rec(t, WD_R_REQ, &st);
  wd_buf_put_u32(w, f->breq);
  wd_buf_put_u8(w, WD_OP_SEND);
  wd_buf_put_str(w, from, fl);
  wd_buf_put_str(w, dest, dl);
  wd_buf_put_str(w, topic, tl);
  /* The payload is not copied when it came in fragments (wd_link.h). */
  wd_link_rec_put_from(t->link, s->link, payload, rest);
  wd__brk_rec_done(t, st);
  return 0;
}


/* UPGRADE: a process of host 's' may become entry 'eid', which that host
** does not hold: decided again here, then shipped before the answer. */
static int req_upgrade(hslot *s, uint32_t req, uint8_t op, wd_cur *c) {
  wd_broker *b = s->b;
  const char *caller, *eid;
  size_t cl, el;
  uint64_t counter;
  const wd_entry *e;
  char id[300];
  (void)op;
  if (get_str(c, &caller, &cl) || get_str(c, &eid, &el) ||
      wd_cur_left(c) != 0)
    return WD_EBADFRAME;
  if (wd__brk_own_pid(s, caller, cl, &counter,
                      "upgrade request for a PID not of this host") < 0)
    return WD_EBADFRAME;
  if (el == 0 || el >= sizeof id || memchr(eid, '\0', el) != NULL) {
    wd__brk_reply(s, req, WD_EINVAL, "upgrade: invalid entry id");
    return 0;
  }
  memcpy(id, eid, el);
  id[el] = '\0';
  if (wd__brk_allow(s, req, caller, cl, wd_ops_name(WD_ACT_UPGRADE), eid, el,
                    s->id, NULL))
    return 0;
  e = wd_manifest_find(b->m, id);
  if (e == NULL || e->kind != WD_KIND_LUA) {
    wd__brk_reply(s, req, WD_ENOTFOUND, "upgrade: entry not found: %s", id);
    return 0;
  }
  if (!wd__brk_entry_on_host(e, s)) {
    wd__brk_reply(s, req, WD_ENOTFOUND, "upgrade: entry %s runs on host %s, "
                  "not %s", id, e->u.lua.host, s->id);
    return 0;
  }
  wd__brk_ship(s, e, NULL, NULL);
  wd__brk_reply(s, req, 0, "%s", "");
  return 0;
}

/* The spawn of a root process or a service on host 's' was answered after
** its deadline, when its callback had already been told it failed: end
** the child ('pid'), which nobody watches (a service would otherwise run
** twice once it is started again). */
static void end_late_root(hslot *s, const char *pid, size_t pl) {
  wd_broker *b = s->b;
  uint64_t counter;
  size_t st;
  wd_buf *w;
  fwd *f;
  if (!wd__brk_owns(s, pid, pl, &counter)) return;
  f = wd__brk_fwd_new(b, FWD_NOBODY, 0, (int)(s - b->hosts));
  if (f == NULL) return;
  f->op = WD_OP_TERMINATE;
  w = wd__brk_rec(s, WD_R_REQ, &st);
  wd_buf_put_u32(w, f->breq);
  wd_buf_put_u8(w, WD_OP_TERMINATE);
  wd_buf_put_str(w, "", 0);
  wd_buf_put_str(w, pid, pl);
  wd__brk_rec_done(s, st);
}

static int on_reply(hslot *s, wd_cur *c) {
  wd_broker *b = s->b;
  uint32_t breq, status;
  const char *str;
  size_t n;
  fwd *f;
  if (wd_cur_u32(c, &breq) || wd_cur_u32(c, &status) || get_str(c, &str, &n))
    return WD_EBADFRAME;
  /* Check before taking: a host that answers another host's request
  ** must not make that request disappear. */
  f = fwd_find(b, breq);
  if (f == NULL || f->target != (int)(s - b->hosts)) {
    wd__brk_host_down(s, "reply to a request it was never sent");
    return WD_EBADFRAME;
  }
  if (f->origin == FWD_STATUS && (int32_t)status >= 0 &&
      wd__brk_stat_check(str, n) < 0) {
    wd__brk_host_down(s, "malformed STATUS answer");
    return WD_EBADFRAME;
  }
  f = fwd_take(b, breq);
  if (f->state == FWD_LATE) {
    /* Its caller was told it timed out: a late answer, dropped. */
    s->nlate--;
    if ((f->cb != NULL || f->svc != 0) && (int32_t)status >= 0 && n > 0 &&
        str[0] != '=')
      end_late_root(s, str, n);
  } else if (f->origin == FWD_NOBODY) {
    /* Its caller's host died: only a name reserved for the child is
    ** settled, as it would have been. */
    int ok = (int32_t)status >= 0 && !(n > 0 && str[0] == '=');
    wd__brk_fwd_unqueue(b, f);
    if (f->op == WD_OP_SPAWN && f->name != NULL)
      wd__brk_name_settle(b, f->name, ok ? str : NULL, n, f->target);
  } else {
    wd__brk_fwd_unqueue(b, f);
    wd__brk_after_reply(b, f, (int32_t)status, str, n);
    wd__brk_answer(b, f, (int32_t)status, str, n);
  }
  wd__brk_fwd_free(f);
  return 0;
}

static int on_exit_rec(hslot *s, wd_cur *c) {
  wd_broker *b = s->b;
  uint64_t counter;
  uint8_t flags;
  uint32_t status;
  const char *text, *res;
  size_t tl, rl;
  root **pp;
  if (wd_cur_u64(c, &counter) || wd_cur_u8(c, &flags) ||
      wd_cur_u32(c, &status) || get_str(c, &text, &tl) || get_str(c, &res, &rl))
    return WD_EBADFRAME;
  wd__brk_names_release(b, (int)(s - b->hosts), counter, 0);
  {
    char pid[WD_PID_MAX];
    int pl = wd_pid_format(pid, sizeof pid, s->id, s->idlen, counter);
    if (pl > 0) wd__brk_watch_forget(b, pid, (size_t)pl);
  }
  for (pp = &b->roots; *pp != NULL; pp = &(*pp)->next) {
    root *r = *pp;
    if (r->slot == (int)(s - b->hosts) && r->counter == counter) {
      char *t = wd_strndup(text, tl);
      *pp = r->next;
      if (b->o.verbose)
        fprintf(stderr, "ward: %s process ended; the broker holds %zu "
                "cross-host watches\n", r->svc ? "service" : "root",
                b->xw.n);
      if (r->svc)
        wd__brk_svc_exited(b, r->slot, (uint64_t)(r->svc - 1),
                           (flags & WD_EXIT_OK) != 0, t ? t : "");
      else {
        /* The result's codec bytes, for the callback only (broker_gw.c). */
        b->exit_res = (const uint8_t *)res;
        b->exit_reslen = rl;
        r->cb(b, r->ud, (flags & WD_EXIT_OK) != 0, (flags & WD_EXIT_FALSE) != 0,
              t ? t : "");
        b->exit_res = NULL;
        b->exit_reslen = 0;
      }
      wd_free(t);
      wd_free(r);
      break;
    }
  }
  return 0;
}

/* Re-check 'action' on 'res' for the caller of the current request of
** host 's' (process 'pid'). Returns 0 when allowed; otherwise answers the
** request with PermissionDenied (or Unavailable when the audit log cannot
** be written) and returns 1. */
int wd__brk_allow(hslot *s, uint32_t req, const char *pid, size_t pl,
                  const char *action, const char *res, size_t rl,
                  const char *target_host, const char *topic) {
  char why[300];
  int r = wd__brk_sec_check(s, s->cur, pid, pl, action, res, rl,
                            target_host, topic, why, sizeof why);
  if (r == WD_POLICY_ALLOW) return 0;
  if (r == WD_EUNAVAIL)
    wd__brk_reply(s, req, WD_EUNAVAIL, "%s: %s", action, why);
  else
    wd__brk_reply(s, req, WD_EDENIED, "permission denied: %s on %.*s (%s)",
                  action, (int)rl, res, why);
  return 1;
}

/* The broker's dispatch of requests from hosts: the operation table
** (WD_OP_MAP, ward/wd_ops.h). Deny by default: a request a host may not
** send, or an unknown code, is a bad frame. */
typedef int (*req_fn)(hslot *s, uint32_t req, uint8_t op, wd_cur *c);

static const struct {
  unsigned senders; /* WD_OPS_* */
  req_fn fn;
} req_table[WD_OP_MAX] = {
#define XX(op, act, who, fn) [WD_OP_##op] = { who, fn },
  WD_OP_MAP(XX)
#undef XX
};

/* A request from host 's' whose caller ('s->cur') is known. */
static int dispatch_req(hslot *s, uint32_t req, uint8_t op, wd_cur *body) {
  if (op >= WD_OP_MAX || !(req_table[op].senders & WD_OPS_HOST) ||
      req_table[op].fn == NULL)
    return WD_EBADFRAME;
  return req_table[op].fn(s, req, op, body);
}

int wd__brk_on_rec(wd_link *l, uint8_t rtype, wd_cur *body) {
  hslot *s = l->data;
  uint32_t req;
  uint8_t op;
  const char *str;
  size_t n;
  if (rtype == WD_R_MSG) s->b->work++; /* wd_broker_run spins */
  switch (rtype) {
    case WD_R_PIDREQ:
      wd__brk_send_pids(s);
      return 0;
    case WD_R_PRINT:
      if (get_str(body, &str, &n)) return WD_EBADFRAME;
      wd__brk_out_put(s->b, (int)(s - s->b->hosts), str, n);
      return 0;
    case WD_R_LOG:
      if (get_str(body, &str, &n)) return WD_EBADFRAME;
      fprintf(stderr, "ward: host %s: %.*s\n", s->id, (int)n, str);
      return 0;
    case WD_R_REQ: {
      brk_caller who;
      int r;
      if (wd_cur_u32(body, &req) || wd_cur_u8(body, &op)) return WD_EBADFRAME;
      if (wd__brk_sec_caller(s, body, &who) < 0) return WD_EBADFRAME;
      s->cur = &who;
      r = dispatch_req(s, req, op, body);
      s->cur = NULL;
      return r;
    }
    case WD_R_BEAT:
      s->beat = uv_now(&s->b->loop);
      s->cpu_mark = -1;
      s->alive = s->b->wclock;
      if (!s->beaten) {
        s->beaten = 1;
        s->first_beat = s->b->wclock;
      }
      return 0;
    case WD_R_EVENT:
      return wd__brk_on_event(s, body);
    case WD_R_REPLY:
      return on_reply(s, body);
    case WD_R_EXIT:
      return on_exit_rec(s, body);
    case WD_R_MSG:
      return wd__brk_on_msg(s, body);
    case WD_R_CREDIT:
      return wd__brk_on_credit(s, body);
    case WD_R_DIED:
      return wd__brk_on_died(s, body);
    default:
      return WD_EBADFRAME;
  }
}

/* }====== */

/* {====== Loop ====== */

static void on_prepare(uv_prepare_t *p) {
  wd_broker *b = p->data;
  int i;
  for (i = 0; i < b->nhosts; i++)
    if (b->hosts[i].up) wd_link_flush(b->hosts[i].link);
  wd__brk_out_flush(b);
}

static void btimer_closed(uv_handle_t *h) {
  wd_free(h->data);
}

void wd__brk_maybe_finish(wd_broker *b) {
  int i;
  if (!b->stopping || b->closed || b->ndying > 0) return;
  /* Every host has exited and its link has been read to the end. */
  for (i = 0; i < b->nhosts; i++)
    if (b->hosts[i].pid != 0 || b->hosts[i].up) return;
  b->closed = 1;
  wd__brk_drops_say(b, NULL, 1);
  while (b->timers != NULL) {
    btimer *x = b->timers;
    b->timers = x->next;
    uv_close((uv_handle_t *)&x->h, btimer_closed);
    x->cb(b, x->ud, 0);
  }
  if (b->signals_on) {
    sigset_t late;
    uv_close((uv_handle_t *)&b->sigint, NULL);
    uv_close((uv_handle_t *)&b->sigterm, NULL);
    uv_close((uv_handle_t *)&b->sighup, NULL);
    /* Closing them restored the default actions, which end the process:
    ** from here to its exit, a late signal waits (and is dropped at exit)
    ** instead of cutting off the audit log's closing checkpoint. */
    sigemptyset(&late);
    sigaddset(&late, SIGINT);
    sigaddset(&late, SIGTERM);
    sigaddset(&late, SIGHUP);
    sigprocmask(SIG_BLOCK, &late, NULL);
  }
  uv_close((uv_handle_t *)&b->sigchld, NULL);
  uv_close((uv_handle_t *)&b->flush, NULL);
  uv_close((uv_handle_t *)&b->killer, NULL);
  uv_close((uv_handle_t *)&b->watchdog, NULL);
  wd__brk_out_stop(b);
}

/* {------ Watchdog ------
** Every WD_HEARTBEAT_MS the broker looks at each host: the turn deadline
** (CPU time), liveness (wall clock) and the deadlines of the requests it
** carried to it. Wall-clock judgements use the watch clock ('wclock'), so
** a broker that was itself stopped or starved for a while has only lost
** time on it, and never mistakes what it has not read yet for silence. */

/* A host may owe this many answers past their deadline (each keeps a
** small record until the answer comes, so that it is known and dropped);
** one more and it is killed as unresponsive. */
#define LATE_MAX 4096

/* CPU time (user + system) of process 'pid' in milliseconds, or -1; its
** state (R running or runnable, S sleeping, T stopped, ...) in '*state'. */
static int64_t proc_cpu(pid_t pid, char *state) {
  char path[64], buf[512], *p;
  unsigned long ut, st;
  ssize_t n;
  int fd;
  snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
  if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0) return -1;
  n = read(fd, buf, sizeof buf - 1);
  close(fd);
  if (n <= 0) return -1;
  buf[n] = '\0';
  /* Fields after the command name (which may hold spaces): skip to ')'. */
  if ((p = strrchr(buf, ')')) == NULL ||
      sscanf(p + 2, "%c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu", state,
             &ut, &st) != 3)
    return -1;
  return (int64_t)(ut + st) * 1000 / sysconf(_SC_CLK_TCK);
}

/* The turn deadline: a host whose loop has not come round (no heartbeat)
** while it burned more CPU than its manifest's turn_deadline is stuck in
** a C function or a finalizer: kill it and report it unresponsive.
** Counting the host's CPU time, not the wall clock, means a host that the
** kernel merely did not schedule (a loaded machine) is never killed. */
static void turn_deadline(hslot *s, uint64_t now) {
  int64_t limit = s->he->u.host.limits.turn_deadline_ns / 1000000, cpu;
  char state;
  if (limit <= 0) return;
  if (now - s->beat <= (uint64_t)limit) {
    s->cpu_mark = -1;
    return;
  }
  if ((cpu = proc_cpu(s->pid, &state)) < 0) return;
  if (s->cpu_mark < 0) {
    s->cpu_mark = cpu; /* silent for too long: start counting its CPU */
    return;
  }
  if (cpu - s->cpu_mark > limit)
    wd__brk_host_down(s, "unresponsive: its loop did not come back within "
                         "%lld ms of CPU time (turn deadline): killed",
                      (long long)limit);
}

/* Are frames from 's' waiting to be read? Then the host has spoken and
** the broker is behind (a backlog, or a broker that was not running). */
static int unread(const hslot *s) {
  int n = 0;
  return s->link != NULL && ioctl(s->link->fd, FIONREAD, &n) == 0 && n > 0;
}

/* Liveness: a host that has shown no sign of life for its 'liveness' of
** watch clock is stopped (SIGSTOP), blocked in a system call, or not run
** by the kernel at all: kill it and report it like any dead host. Signs of
** life: a heartbeat, frames not read yet, CPU time spent since the last
** look, being runnable. A host busy in Lua or in C is running, so it is
** never killed here: its turn deadline governs it. */
static void liveness(wd_broker *b, hslot *s) {
  int64_t limit = s->he->u.host.limits.liveness_ns / 1000000, cpu;
  char state = '?';
  if (b->wclock - s->alive <= 2 * WD_HEARTBEAT_MS) {
    s->cpu_last = -1; /* beating: nothing to look at */
    return;
  }
  if (unread(s)) {
    s->alive = b->wclock;
    return;
  }
  cpu = proc_cpu(s->pid, &state);
  if (state == 'R' || (cpu >= 0 && s->cpu_last >= 0 && cpu != s->cpu_last))
    s->alive = b->wclock;
  s->cpu_last = cpu;
  if (b->wclock - s->alive >= (uint64_t)limit)
    wd__brk_host_down(s, "unresponsive: no heartbeat for %lld ms "
                         "(liveness): killed",
                      (long long)limit);
}

/* Request deadlines: a request carried to 's' that has had no answer for
** the host's request_timeout fails for its caller with Timeout; the
** record stays, FWD_LATE, until the late answer comes (on_reply drops
** it). The clock starts when the host first beats (a host slow to start
** is liveness's business). It does not wait for frames not read yet: an
** answer stuck behind a host's own flood of frames is late. */
static void deadlines(wd_broker *b, hslot *s) {
  uint64_t limit = (uint64_t)(s->he->u.host.limits.request_ns / 1000000);
  fwd *f;
  if (!s->beaten) return;
  while (s->up && (f = s->rq_head) != NULL) {
    uint64_t from = f->sent > s->first_beat ? f->sent : s->first_beat;
    fwd copy;
    char msg[300];
    int n;
    if (b->wclock - from < limit) break;
    /* The caller is answered from a copy: the record itself is only the
    ** late answer's mark from now on, and is not touched after the
    ** callbacks (which may carry new requests). */
    wd__brk_fwd_unqueue(b, f);
    copy = *f;
    f->state = FWD_LATE; /* 'cb' and 'svc' still say it started a root */
    f->origin = FWD_NOBODY;
    f->who = f->name = NULL;
    s->nlate++;
    n = snprintf(msg, sizeof msg,
                 "host %s did not answer within %llu ms (request_timeout)",
                 s->id, (unsigned long long)limit);
    wd__brk_after_reply(b, &copy, WD_ETIMEOUT, msg, (size_t)n);
    wd__brk_answer(b, &copy, WD_ETIMEOUT, msg, (size_t)n);
    wd_free(copy.who);
    wd_free(copy.name);
    if (s->up && s->nlate > LATE_MAX)
      wd__brk_host_down(s, "unresponsive: %d requests unanswered past their "
                           "deadline: killed",
                        s->nlate);
  }
}

static void on_watchdog(uv_timer_t *t) {
  wd_broker *b = t->data;
  uint64_t now = uv_now(&b->loop), dt = now - b->wd_last;
  int i;
  b->wd_last = now;
  b->wclock += dt < 2 * WD_HEARTBEAT_MS ? dt : 2 * WD_HEARTBEAT_MS;
  for (i = 0; i < b->nhosts; i++) {
    hslot *s = &b->hosts[i];
    if (!s->up || s->pid <= 0) continue;
    turn_deadline(s, now);
    if (s->up) liveness(b, s);
    if (s->up) deadlines(b, s);
  }
  wd__brk_drops_say(b, NULL, 0);
}

/* }------ */

static void on_killer(uv_timer_t *t) {
  wd_broker *b = t->data;
  int i;
  for (i = 0; i < b->nhosts; i++)
    if (b->hosts[i].pid > 0) kill(b->hosts[i].pid, SIGKILL);
  for (i = 0; i < b->ndying; i++)
    kill(b->dying[i], SIGKILL);
}

void wd_broker_stop(wd_broker *b) {
  int i;
  if (b->stopping) return;
  b->stopping = 1;
  wd__brk_gw_stop(b);
  for (i = 0; i < b->nhosts; i++) {
    hslot *s = &b->hosts[i];
    if (s->up) {
      size_t st;
      wd_buf *w = wd__brk_rec(s, WD_R_STOP, &st);
      wd_buf_put_u64(w, b->o.shutdown_ns);
      wd__brk_rec_done(s, st);
      wd_link_flush(s->link);
    }
  }
  /* Hosts end their processes at the deadline; kill what is left later. */
  uv_timer_start(&b->killer, on_killer, b->o.shutdown_ns / 1000000 + 2000, 0);
  wd__brk_maybe_finish(b);
}

int wd_broker_new(const wd_manifest *m, const wd_broker_opts *o,
                  wd_broker **out, char *err, size_t errlen) {
  wd_broker *b;
  size_t i;
  int n = 0, r;
  snprintf(err, errlen, "out of memory");
  if (sodium_init() < 0) return WD_EINTERNAL;
  b = wd_calloc(1, sizeof *b);
  if (b == NULL) return WD_ENOMEM;
  b->m = m;
  b->o = *o;
  b->next_pid = 1;
  for (i = 0; i < m->nentries; i++)
    if (m->entries[i]->kind == WD_KIND_HOST) n++;
  b->hosts = wd_calloc((size_t)(n ? n : 1), sizeof *b->hosts);
  b->shipped = wd_calloc((size_t)(n ? n : 1) * (m->nentries ? m->nentries : 1),
                         1);
  b->master = sodium_malloc(32);
  if (b->o.shutdown_ns == 0) b->o.shutdown_ns = 5000000000ull;
  if (b->hosts == NULL || b->shipped == NULL || b->master == NULL) {
    wd_free(b->shipped);
    wd_free(b->hosts);
    if (b->master) sodium_free(b->master);
    wd_free(b);
    return WD_ENOMEM;
  }
  if ((r = wd__brk_sec_open(b, err, errlen)) < 0 ||
      (r = wd__brk_out_open(b)) < 0) {
    wd__brk_out_free(b);
    wd__brk_sec_close(b);
    wd_free(b->shipped);
    wd_free(b->hosts);
    sodium_free(b->master);
    wd_free(b);
    return r;
  }
  randombytes_buf(b->master, 32);
  for (i = 0; i < m->nentries; i++) {
    const wd_entry *e = m->entries[i];
    if (e->kind != WD_KIND_HOST) continue;
    b->hosts[b->nhosts].b = b;
    b->hosts[b->nhosts].he = e;
    b->hosts[b->nhosts].id = e->id;
    b->hosts[b->nhosts].idlen = strlen(e->id);
    b->nhosts++;
  }
  uv_loop_init(&b->loop);
  uv_signal_init(&b->loop, &b->sigchld);
  b->sigchld.data = b;
  uv_signal_start(&b->sigchld, wd__brk_on_sigchld, SIGCHLD);
  uv_prepare_init(&b->loop, &b->flush);
  b->flush.data = b;
  uv_prepare_start(&b->flush, on_prepare);
  uv_timer_init(&b->loop, &b->killer);
  b->killer.data = b;
  uv_timer_init(&b->loop, &b->watchdog);
  b->watchdog.data = b;
  b->wd_last = uv_now(&b->loop);
  uv_timer_start(&b->watchdog, on_watchdog, WD_HEARTBEAT_MS, WD_HEARTBEAT_MS);
  uv_unref((uv_handle_t *)&b->watchdog);
  signal(SIGPIPE, SIG_IGN);
  /* A file size limit must fail an audit write (EFBIG: fail closed), not
  ** kill the broker. */
  signal(SIGXFSZ, SIG_IGN);
  *out = b;
  return 0;
}

/* The actor and scope of a root process: for the command line's ENTRY
** ('cli' set), --actor and --scope when given; otherwise (and always for
** a service) 'sec', the entry's or service's 'security:' block. The scope
** travels as newline-separated group and policy names. */
static void put_security(wd_buf *w, wd_broker *b, const wd_sec *sec,
                         const hslot *t, int cli) {
  const char *actor = cli ? b->o.actor : NULL;
  size_t nscope = cli ? b->o.nscope : 0;
  size_t i, pos;
  /* An entry without its own security block gets its host's default. */
  if (sec->actor_id == NULL && sec->groups.n + sec->policies.n == 0)
    sec = &t->he->u.host.def;
  if (actor != NULL) {
    wd_buf_put_cstr(w, actor);
  } else {
    /* The actor travels as "<id>\0<meta>" (wd_secid.h). */
    size_t apos = w->len;
    wd_pval meta;
    wd_buf_put_u32(w, 0);
    if (sec->actor_id != NULL)
      wd_buf_put(w, sec->actor_id, strlen(sec->actor_id));
    if (sec->actor_meta != NULL &&
        wd_pval_from_node(sec->actor_meta, &meta) == 0) {
      wd_buf_put_u8(w, 0);
      wd_wire_put_pval(w, &meta);
      wd_pval_clear(&meta);
    }
    wd_buf_patch_u32(w, apos, (uint32_t)(w->len - apos - 4));
  }
  pos = w->len;
  wd_buf_put_u32(w, 0);
  if (nscope > 0) {
    for (i = 0; i < nscope; i++) {
      if (i > 0) wd_buf_put_u8(w, '\n');
      wd_buf_put(w, b->o.scope[i], strlen(b->o.scope[i]));
    }
  } else {
    for (i = 0; i < sec->groups.n + sec->policies.n; i++) {
      const char *n = i < sec->groups.n ? sec->groups.v[i]
                                        : sec->policies.v[i - sec->groups.n];
      if (i > 0) wd_buf_put_u8(w, '\n');
      wd_buf_put(w, n, strlen(n));
    }
  }
  wd_buf_patch_u32(w, pos, (uint32_t)(w->len - pos - 4));
}

/* Encode string arguments with the payload codec's Lua-free writers
** (any number: nothing is pushed on a Lua stack). */
static int encode_args(const char *const *args, int nargs, wd_buf *out) {
  int i;
  if (nargs == 0) return 0;
  wd_codec_put_header(out, (unsigned)nargs);
  for (i = 0; i < nargs; i++)
    wd_codec_put_str(out, args[i], strlen(args[i]));
  return out->err != 0 ? WD_ENOMEM : 0;
}

/* Spawn 'e' as a process the broker watches: a root (callback) or a
** service ('svcno', its index + 1). 'sec' gives its actor and scope; the
** command line's --actor and --scope replace them for a root only (they
** are ENTRY's, and a service keeps what its manifest gives it). */
static int spawn_watched(wd_broker *b, const wd_entry *e, const char *host,
                         const wd_sec *sec, const char *const *args, int nargs,
                         wd_root_cb cb, void *ud, int svcno, char *err,
                         size_t errlen) {
  hslot *t;
  wd_buf enc, sbuf;
  wd_cur sc;
  const char *actor, *scope;
  size_t al, sl;
  int r;
  if (host == NULL) host = e->u.lua.host;
  if (host == NULL && b->nhosts == 1) host = b->hosts[0].id;
  if (host == NULL) {
    snprintf(err, errlen,
             "%s: the app has %d hosts; say which with --host "
             "or a 'host:' field on the entry",
             e->id, b->nhosts);
    return WD_EINVAL;
  }
  t = wd__brk_slot_by_id(b, host, strlen(host));
  if (t == NULL) {
    snprintf(err, errlen, "host not found: %s", host);
    return WD_ENOTFOUND;
  }
  if (!wd__brk_entry_on_host(e, t)) {
    snprintf(err, errlen, "entry %s runs on host %s, not %s", e->id,
             e->u.lua.host, host);
    return WD_EINVAL;
  }
  if ((r = wd__brk_host_ensure(b, t, err, errlen)) < 0) return r;
  wd_buf_init(&enc, 0);
  if ((r = encode_args(args, nargs, &enc)) < 0) {
    snprintf(err, errlen, "cannot encode the arguments");
    wd_buf_close(&enc);
    return r;
  }
  /* The actor and scope, as two strings read back from 'sbuf'. */
  wd_buf_init(&sbuf, 0);
  put_security(&sbuf, b, sec, t, svcno == 0);
  wd_cur_init(&sc, sbuf.p, sbuf.len);
  if (sbuf.err != 0 || wd_cur_str(&sc, &actor, &al) < 0 ||
      wd_cur_str(&sc, &scope, &sl) < 0)
    r = WD_ENOMEM;
  else
    r = wd__brk_spawn_as(b, e, t, actor, al, scope, sl, enc.p, enc.len, cb,
                         NULL, ud, svcno);
  wd_buf_close(&sbuf);
  wd_buf_close(&enc);
  return r;
}

/* Spawn 'e' on host 't' (started) as a root with this actor and scope
** and these argument bytes: see broker_int.h. */
int wd__brk_spawn_as(wd_broker *b, const wd_entry *e, hslot *t,
                     const char *actor, size_t al, const char *scope,
                     size_t sl, const uint8_t *args, size_t alen,
                     wd_root_cb cb,
                     void (*on_pid)(wd_broker *, void *, const char *, size_t),
                     void *ud, int svcno) {
  wd_spawnrec q;
  fwd *f = wd__brk_fwd_new(b, -1, 0, (int)(t - b->hosts));
  if (f == NULL) return WD_ENOMEM;
  f->op = WD_OP_SPAWN;
  f->cb = cb;
  f->on_pid = on_pid;
  f->ud = ud;
  f->svc = svcno;
  wd__brk_ship(t, e, NULL, NULL);
  memset(&q, 0, sizeof q);
  q.actor = actor;
  q.actorlen = al;
  q.scope = scope;
  q.scopelen = sl;
  q.parent = ""; /* the broker */
  q.entry = e->id;
  q.entrylen = strlen(e->id);
  q.host = t->id;
  q.hostlen = t->idlen;
  q.flags = WD_SPAWN_ROOT;
  q.args = alen ? args : NULL;
  q.alen = alen;
  q.ctx = (const uint8_t *)""; /* no context, no name, no messages */
  q.name = "";
  put_spawn(t, f, &q);
  return 0;
}

int wd_broker_spawn_root(wd_broker *b, const char *entry, const char *host,
                         const char *const *args, int nargs, wd_root_cb cb,
                         void *ud, char *err, size_t errlen) {
  const wd_entry *e = wd_manifest_find(b->m, entry);
  if (e == NULL || e->kind != WD_KIND_LUA) {
    snprintf(err, errlen, "%s: no process.lua entry with this id", entry);
    return WD_ENOTFOUND;
  }
  return spawn_watched(b, e, host, &e->u.lua.sec, args, nargs, cb, ud, 0, err,
                       errlen);
}

int wd__brk_spawn_service(wd_broker *b, int idx, char *err, size_t errlen) {
  const wd_entry *se = b->svcs[idx].e;
  const wd_service_conf *c = &se->u.svc;
  const wd_entry *pe = c->process_entry;
  return spawn_watched(b, pe, c->host, &c->sec, c->input.v, (int)c->input.n,
                       NULL, NULL, idx + 1, err, errlen);
}

/* {------ Signals ------ */

/* SIGINT and SIGTERM: a graceful shutdown, as when ENTRY exits (every
** process gets CANCEL with the shutdown deadline and is terminated when it
** passes; then the hosts exit and the audit log gets its closing
** checkpoint). A second one does not wait for the deadline: the hosts are
** killed at once, and ward still closes the log. */
static void on_stop_signal(uv_signal_t *h, int sig) {
  wd_broker *b = h->data;
  if (b->stopping) {
    fprintf(stderr, "ward: %s: killing the hosts now\n", strsignal(sig));
    on_killer(&b->killer);
    return;
  }
  fprintf(stderr, "ward: %s: shutting down\n", strsignal(sig));
  wd_broker_stop(b);
}

/* What SIGHUP asks for: a policy reload (broker_reload.c): everything is
** loaded and checked first, and an error changes nothing. It never ends
** ward. */
static void reload(wd_broker *b) {
  wd_buf errs;
  char dg[65];
  wd_buf_init(&errs, 1u << 16);
  if (wd__brk_reload(b, "signal", &errs, dg) == 0)
    fprintf(stderr, "ward: SIGHUP: policies reloaded (digest %s)\n", dg);
  else
    fprintf(stderr, "ward: SIGHUP: reload failed, nothing changed:\n%.*s",
            (int)errs.len, errs.p ? (const char *)errs.p : "");
  wd_buf_close(&errs);
}

static void on_hup_signal(uv_signal_t *h, int sig) {
  (void)sig;
  reload(h->data);
}

void wd_broker_stop_on_signals(wd_broker *b) {
  if (b->signals_on) return;
  b->signals_on = 1;
  uv_signal_init(&b->loop, &b->sigint);
  uv_signal_init(&b->loop, &b->sigterm);
  uv_signal_init(&b->loop, &b->sighup);
  b->sigint.data = b->sigterm.data = b->sighup.data = b;
  uv_signal_start(&b->sigint, on_stop_signal, SIGINT);
  uv_signal_start(&b->sigterm, on_stop_signal, SIGTERM);
  uv_signal_start(&b->sighup, on_hup_signal, SIGHUP);
}

/* }------ */

/* The loop. After a turn that carried a message between hosts (MSG)
** the broker polls without sleeping for WD_BROKER_SPIN_US, yielding the
** CPU between polls, and sleeps in the poll again only when that long
** passes with no message: as an Erlang scheduler spins before it sleeps.
** A message between two hosts wakes three processes in turn (host,
** broker, host), and on a VM a wake-up costs several times the work of
** the hop; the broker, in every hop, is the one likely to get the answer
** soon. This costs at most WD_BROKER_SPIN_US of CPU per message that
** arrives alone, and nothing while messages keep coming (the broker is
** busy then) or none come. Other records do not make it spin: with the
** front door's execs (spawn, exit, reply) spinning cost about 4 % of
** the requests a second on 2 CPUs shared with the client, the gateway
** and the host. The hosts, the tenants' processes, never spin (tried: it
** added nothing once the broker does; bench/README.md). */
int wd_broker_run(wd_broker *b) {
  const uint64_t spin = (uint64_t)WD_BROKER_SPIN_US * 1000;
  int r;
  for (;;) {
    unsigned long seen = b->work;
    uint64_t last;
    if ((r = uv_run(&b->loop, UV_RUN_ONCE)) == 0) break;
    if (b->work == seen) continue;
    last = uv_hrtime();
    for (;;) {
      uint64_t now;
      seen = b->work;
      if ((r = uv_run(&b->loop, UV_RUN_NOWAIT)) == 0) break;
      now = uv_hrtime();
      if (b->work != seen) last = now;
      else if (now - last >= spin) break;
      else sched_yield();
    }
    if (r == 0) break;
  }
  wd__brk_out_drain(b);
  return r;
}

void wd_broker_kill_host(wd_broker *b, const char *host, const char *why) {
  int i;
  for (i = 0; i < b->nhosts; i++) {
    hslot *s = &b->hosts[i];
    if (host != NULL && strcmp(host, s->id) != 0) continue;
    if (s->up) wd__brk_host_down(s, "%s", why);
  }
}

void wd_broker_kill_root_host(wd_broker *b, void *ud, const char *why) {
  root *r;
  fwd *f;
  int i, slot = -1;
  for (r = b->roots; r != NULL && slot < 0; r = r->next)
    if (r->cb != NULL && r->ud == ud) slot = r->slot;
  /* Not started yet: its spawn waits for the host's answer. */
  for (i = 0; i < FWD_BUCKETS && slot < 0; i++)
    for (f = b->fwd[i]; f != NULL && slot < 0; f = f->next)
      if (f->origin == -1 && f->state == FWD_WAIT && f->cb != NULL &&
          f->ud == ud)
        slot = f->target;
  if (slot >= 0 && b->hosts[slot].up)
    wd__brk_host_down(&b->hosts[slot], "%s", why);
}

static void on_btimer(uv_timer_t *t) {
  btimer *x = t->data;
  wd_broker *b = x->b;
  if (x->prev)
    x->prev->next = x->next;
  else
    b->timers = x->next;
  if (x->next) x->next->prev = x->prev;
  uv_close((uv_handle_t *)&x->h, btimer_closed);
  x->cb(b, x->ud, 1);
}

void wd_broker_after(wd_broker *b, uint64_t ms,
                     void (*cb)(wd_broker *, void *, int), void *ud) {
  btimer *x = wd_calloc(1, sizeof *x);
  if (x == NULL) return;
  x->b = b;
  x->cb = cb;
  x->ud = ud;
  x->next = b->timers;
  if (b->timers) b->timers->prev = x;
  b->timers = x;
  uv_timer_init(&b->loop, &x->h);
  x->h.data = x;
  uv_timer_start(&x->h, on_btimer, ms, 0);
}

void wd_broker_free(wd_broker *b) {
  int i;
  if (b == NULL) return;
  wd__brk_gw_free(b);
  wd__brk_inbox_free(b);
  for (i = 0; i < FWD_BUCKETS; i++)
    while (b->fwd[i] != NULL) {
      fwd *f = b->fwd[i];
      b->fwd[i] = f->next;
      wd__brk_fwd_free(f);
    }
  while (b->roots != NULL) {
    root *r = b->roots;
    b->roots = r->next;
    wd_free(r);
  }
  wd__brk_free_life(b);
  wd__brk_flow_free(b);
  if (wd__brk_sec_close(b) < 0)
    fprintf(stderr, "ward: audit log: the final checkpoint could not be "
                    "written\n");
  wd__brk_names_free(b);
  wd__brk_reload_free(b);
  uv_loop_close(&b->loop);
  wd__brk_out_free(b);
  sodium_free(b->master);
  wd_free(b->shipped);
  wd_free(b->hosts);
  wd_free(b);
}

/* }====== */
