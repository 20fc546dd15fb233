/*
** sandbox/broker_inbox.c
** Inbox streams (GET /v1/inbox, ARCHITECTURE.md §12): an outside client as
** a receiver. Each open stream is a process of the pseudo-host "api" (a
** host id no manifest can name: see HOST_ID): its PID is drawn from the broker-wide
** counters like any other, so it is never reused. The gateway holds the
** HTTP side; the broker holds the process: its token, its name, the
** monitors and links of scripts on it. A send to an "api" PID is decided
** as any send and carried to the gateway (GW_MSG); the stream's end (the
** client left, GW_END; the broker ended it; the gateway died) takes the
** exit path of a host's process: EXIT to monitors, UNLINKED or LINK_DOWN
** to linked processes, its name released.
** Flow: hosts send to an inbox as to another host's process (MSG, no
** round trip; "api" is the last peer of MESH), holding credit for it
** (WD_FLOW_API_*: each stream its own, none shared by the streams).
** Each inbox has a window at the gateway: at most WD_INBOX_WINDOW of cost
** (WD_GW_SSE_COST) carried and not yet written to its client (GW_ACK
** gives it back). A message past the window waits here, in order, with
** its sender's credit: so a client that reads slowly slows its senders
** as a full mailbox does, and nothing accepted is dropped while it
** reads. What waits is bounded by the senders' credit, which the broker
** holds them to (a message waiting here is in flight, broker_msg.c), what
** the gateway holds by the window.
** Bounds: WD_INBOX_PER_TOKEN streams per token, WD_INBOX_MAX in all; a
** send by request (by name, before its first lookup) finds the inbox
** full (MailboxFull) while the gateway's link holds WD_INBOX_LINK_MAX
** bytes unsent or messages wait for the window; the gateway drops a
** stream whose client takes nothing for WD_GW_SSE_STALL_MS, or falls
** WD_GW_SSE_QUEUE_MAX bytes behind.
** Runs in: broker.
*/
#include <stdio.h>
#include <string.h>

#include "ward/wd_codec.h"
#include "ward/wd_ops.h"
#include "ward/wd_pid.h"
#include "ward/wd_policy.h"
#include "ward/wd_proto.h"

#include "broker_int.h"
#include "gateway.h"

/* Every host id is an entry id, "namespace:name", so no manifest can
** name a host "api" (no ':'): the id is the front door's alone. */
#define HOST_ID "api"
#define HOST_IDLEN 3
#define BUCKETS 256
#define WD_INBOX_PER_TOKEN 8
#define WD_INBOX_MAX 1024
#define WD_INBOX_LINK_MAX (8u << 20)
/* An inbox's window at the gateway, in cost (above). */
#define WD_INBOX_WINDOW WD_GW_SSE_WINDOW

/* A message that waits for its inbox's window, with its sender's credit. */
typedef struct iq {
  struct iq *next;
  int slot;             /* the sending host */
  uint64_t cost;
  size_t fl, tl, n;
  char *from, *topic;   /* in the same allocation */
  uint8_t *payload;
} iq;

/* A monitor or link of a script's process on an inbox. */
typedef struct iwatch {
  struct iwatch *next;
  int type;  /* WD_WATCH_MONITOR or WD_WATCH_LINK */
  int slot;  /* the watcher's host */
  char *pid;
} iwatch;

typedef struct inbox {
  struct inbox *next;   /* hash chain by counter */
  uint64_t counter;
  char pid[WD_PID_MAX];
  size_t pidlen;
  uint32_t call;        /* the gateway's number for the stream */
  uint64_t gen;         /* ... of that gateway incarnation */
  char tok[129];        /* the token that opened it */
  char *name;           /* its registered name, or NULL */
  iwatch *watches;
  uint64_t inflight;    /* cost carried to the gateway, not acknowledged */
  iq *qhead, *qtail;    /* waiting for the window, in order */
} inbox;

typedef struct brk_inbox {
  inbox *tab[BUCKETS];
  size_t n;
  size_t nwatches;      /* in all inboxes: 0 spares the exit hooks a look */
} brk_inbox;

/* {====== The table ====== */

int wd__brk_inbox_is(const char *pid, size_t n) {
  const char *hid;
  size_t hl;
  uint64_t counter;
  return wd_pid_parse(pid, n, &hid, &hl, &counter) == 0 && hl == HOST_IDLEN &&
         memcmp(hid, HOST_ID, HOST_IDLEN) == 0;
}

static inbox *find(wd_broker *b, const char *pid, size_t n) {
  const char *hid;
  size_t hl;
  uint64_t counter;
  inbox *x;
  if (b->inbox == NULL || wd_pid_parse(pid, n, &hid, &hl, &counter) < 0)
    return NULL;
  for (x = b->inbox->tab[counter % BUCKETS]; x != NULL; x = x->next)
    if (x->counter == counter) return x;
  return NULL;
}

static inbox *by_call(wd_broker *b, uint64_t gen, uint32_t call) {
  size_t i;
  inbox *x;
  if (b->inbox == NULL) return NULL;
  for (i = 0; i < BUCKETS; i++)
    for (x = b->inbox->tab[i]; x != NULL; x = x->next)
      if (x->call == call && x->gen == gen) return x;
  return NULL;
}

static void unhook(wd_broker *b, inbox *x) {
  inbox **pp = &b->inbox->tab[x->counter % BUCKETS];
  while (*pp != x) pp = &(*pp)->next;
  *pp = x->next;
  b->inbox->n--;
}

/* }====== */

/* {====== The window ====== */

/* Message 'q' leaves: host 's' gets back its credit ('flag':
** WD_CREDIT_DEAD when the inbox has gone), unless the sender's
** incarnation has ended (the broker counted it as in flight till now,
** broker_msg.c). */
static void credit_of(wd_broker *b, const inbox *x, const iq *q,
                      uint8_t flag) {
  hslot *s = &b->hosts[q->slot];
  if (wd__brk_flow_left(b, q->slot, x->counter, q->n) && s->up)
    wd__brk_credit_back(s, x->pid, x->pidlen, q->n, flag);
}

/* GW_MSG to the gateway for inbox 'x', charged to its window. */
static int carry(wd_broker *b, inbox *x, const char *from, size_t fl,
                 const char *topic, size_t tl, const uint8_t *p, size_t n) {
  uint64_t gen;
  wd_link *l = wd__brk_gw_link(b, &gen);
  wd_gwmsg m;
  size_t st;
  if (l == NULL || gen != x->gen) return WD_ENOTFOUND;
  memset(&m, 0, sizeof m);
  m.call = x->call;
  m.from = from;
  m.fromlen = fl;
  m.topic = topic;
  m.topiclen = tl;
  m.payload = p;
  m.payloadlen = n;
  st = wd_link_rec_begin(l, WD_R_GW_MSG);
  wd__gw_put_msg(&l->batch, &m);
  if (wd_link_rec_end(l, st) < 0) return WD_ENOMEM;
  x->inflight += WD_GW_SSE_COST(fl, tl, n);
  return 0;
}

/* May a message of cost 'cost' go to the gateway now? One always may. */
static int room(const inbox *x, uint64_t cost) {
  return x->inflight == 0 || x->inflight + cost <= WD_INBOX_WINDOW;
}

/* Carry what waits while the window has room. */
static void pump(wd_broker *b, inbox *x) {
  iq *q;
  while ((q = x->qhead) != NULL && room(x, q->cost)) {
    int r = carry(b, x, q->from, q->fl, q->topic, q->tl, q->payload, q->n);
    x->qhead = q->next;
    if (x->qhead == NULL) x->qtail = NULL;
    credit_of(b, x, q, r == WD_ENOTFOUND ? WD_CREDIT_DEAD : 0);
    wd_free(q);
  }
}

/* The inbox ends: what waits goes, its senders told the PID is dead. */
static void drop_queue(wd_broker *b, inbox *x) {
  iq *q;
  while ((q = x->qhead) != NULL) {
    x->qhead = q->next;
    credit_of(b, x, q, WD_CREDIT_DEAD);
    wd_free(q);
  }
  x->qtail = NULL;
}

void wd__brk_inbox_msg(hslot *s, const char *from, size_t fl,
                       const char *pid, size_t pl, const char *topic,
                       size_t tl, const uint8_t *p, size_t n) {
  wd_broker *b = s->b;
  inbox *x = find(b, pid, pl);
  uint64_t gen, cost = WD_GW_SSE_COST(fl, tl, n);
  iq *q;
  if (x == NULL || wd__brk_gw_link(b, &gen) == NULL || gen != x->gen) {
    wd__brk_credit_back(s, pid, pl, n, WD_CREDIT_DEAD);
    return;
  }
  if (x->qhead == NULL && room(x, cost)) {
    int r = carry(b, x, from, fl, topic, tl, p, n);
    wd__brk_credit_back(s, pid, pl, n, r == WD_ENOTFOUND ? WD_CREDIT_DEAD : 0);
    return;
  }
  if ((q = wd_malloc(sizeof *q + fl + tl + n + 1)) == NULL ||
      wd__brk_flow_wait(s, x->counter, n) < 0) {
    wd_free(q);
    wd__brk_credit_back(s, pid, pl, n, 0); /* as if lost on the way */
    return;
  }
  q->next = NULL;
  q->slot = (int)(s - b->hosts);
  q->cost = cost;
  q->fl = fl;
  q->tl = tl;
  q->n = n;
  q->from = (char *)(q + 1);
  q->topic = q->from + fl;
  q->payload = (uint8_t *)q->topic + tl;
  memcpy(q->from, from, fl);
  memcpy(q->topic, topic, tl);
  if (n > 0) memcpy(q->payload, p, n);
  if (x->qtail != NULL) x->qtail->next = q;
  else x->qhead = q;
  x->qtail = q;
}

void wd__brk_inbox_mesh(wd_buf *w) {
  wd_buf_put_str(w, HOST_ID, HOST_IDLEN);
  wd_buf_put_u64(w, WD_GW_INBOX_MAX_PAYLOAD); /* as wd__brk_inbox_deliver */
  wd_buf_put_u64(w, 0); /* a window per stream only: WD_FLOW_API_* */
}

int wd__brk_inbox_on_ack(wd_broker *b, uint64_t gen, wd_cur *body) {
  uint32_t n, i, call;
  uint64_t cost;
  inbox *x;
  if (wd_cur_u32(body, &n) || n == 0 || n > WD_GW_ACK_MAX)
    return WD_EBADFRAME;
  for (i = 0; i < n; i++) {
    if (wd_cur_u32(body, &call) || wd_cur_u64(body, &cost) || cost == 0)
      return WD_EBADFRAME;
    if ((x = by_call(b, gen, call)) == NULL) continue; /* ended here */
    if (cost > x->inflight) return WD_EBADFRAME; /* never sent: a lie */
    x->inflight -= cost;
    pump(b, x);
  }
  return wd_cur_left(body) == 0 ? 0 : WD_EBADFRAME;
}

/* }====== */

/* {====== Ending ====== */

static void event_to(wd_broker *b, int kind, const char *from, size_t fl,
                     const char *to, const wd_buf *payload) {
  const char *hid;
  size_t hl, st;
  uint64_t counter;
  hslot *t;
  wd_buf *w;
  if (wd_pid_parse(to, strlen(to), &hid, &hl, &counter) < 0) return;
  t = wd__brk_slot_by_id(b, hid, hl);
  if (t == NULL || !t->up || counter < t->gone_below) return;
  w = wd__brk_rec(t, WD_R_EVENT, &st);
  wd_buf_put_u8(w, (uint8_t)kind);
  wd_buf_put_str(w, from, fl);
  wd_buf_put_cstr(w, to);
  wd_buf_put_u64(w, 0);
  if (payload != NULL) wd_buf_put(w, payload->p, payload->len);
  wd__brk_rec_done(t, st);
}

/*
** Inbox 'x' has ended, normally ('ok': its client left) or with error
** 'kind'/'why'. Tell the gateway (unless it said so itself), then every
** watcher as a host tells them of a process's exit (runtime/life.c
** 'wd__life_exit'): EXIT to monitors, UNLINKED (normal) or LINK_DOWN to
** linked processes; release its name; free it.
*/
static void end(wd_broker *b, inbox *x, int ok, const char *kind,
                const char *why, int tell_gw) {
  wd_codec_val v;
  wd_buf ex, ld;
  iwatch *w;
  uint64_t gen;
  wd_link *l;
  unhook(b, x);
  drop_queue(b, x);
  if (tell_gw && (l = wd__brk_gw_link(b, &gen)) != NULL && gen == x->gen) {
    wd_gwend e;
    size_t st = wd_link_rec_begin(l, WD_R_GW_END);
    memset(&e, 0, sizeof e);
    e.call = x->call;
    e.ok = (uint8_t)ok;
    e.kind = ok ? "" : kind;
    e.kindlen = strlen(e.kind);
    e.msg = ok ? "" : why;
    e.msglen = strlen(e.msg);
    wd__gw_put_end(&l->batch, &e);
    (void)wd_link_rec_end(l, st);
  }
  memset(&v, 0, sizeof v);
  v.type = ok ? WD_CODEC_V_NONE : WD_CODEC_V_ERR;
  v.ekind = kind;
  v.s = why;
  wd_buf_init(&ex, 0);
  wd_buf_init(&ld, 0);
  if (x->watches != NULL) {
    (void)wd_codec_put_event(&ex, "pid.exit", x->pid, x->pidlen,
                             wd_codec_now_s(), 0, ok, &v);
    (void)wd_codec_put_event(&ld, "pid.link.down", x->pid, x->pidlen,
                             wd_codec_now_s(), 0, ok, &v);
  }
  while ((w = x->watches) != NULL) {
    x->watches = w->next;
    b->inbox->nwatches--;
    if (w->type == WD_WATCH_MONITOR)
      event_to(b, WD_EV_EXIT, x->pid, x->pidlen, w->pid, &ex);
    else if (ok)
      event_to(b, WD_EV_UNLINKED, x->pid, x->pidlen, w->pid, NULL);
    else
      event_to(b, WD_EV_LINK_DOWN, x->pid, x->pidlen, w->pid, &ld);
    wd_free(w->pid);
    wd_free(w);
  }
  wd_buf_close(&ex);
  wd_buf_close(&ld);
  if (x->name != NULL) {
    name *nx = wd__brk_name_get(b, x->name, strlen(x->name));
    if (nx != NULL && strcmp(nx->pid, x->pid) == 0) wd__brk_name_drop(b, nx);
    wd_free(x->name);
  }
  if (b->o.verbose)
    fprintf(stderr, "ward: inbox %s (token %s) ended: %s\n", x->pid, x->tok,
            ok ? "the client left" : why);
  wd_free(x);
}

/* }====== */

/* {====== Opening ====== */

/*
** GET /v1/inbox?name=N for the token 'tok' (authenticated by the caller):
** an inbox is a process placed on host "api", so it asks what every spawn
** asks of its host, process.host on "api"; a name asks
** process.registry.register on it, as a script's register does. Both are
** decided and audited (via: api, token: <id>). Answers 200 with the PID,
** or 403, 409 (the name is taken), 429 (too many inboxes).
*/
void wd__brk_inbox_open(wd_broker *b, uint64_t serial, uint32_t call,
                        uint64_t gen, const char *tok, const char *nm,
                        size_t nl) {
  char why[300], msg[1200];
  const char *asked = "process.host on api";
  size_t i, mine = 0;
  inbox *x;
  int r;
  if (b->inbox == NULL &&
      (b->inbox = wd_calloc(1, sizeof *b->inbox)) == NULL) {
    wd__brk_gw_reply(b, serial, WD_ENOMEM, "out of memory", NULL);
    return;
  }
  r = wd__brk_gw_decide(b, serial, wd_ops_name(WD_ACT_HOST), HOST_ID,
                        HOST_IDLEN, HOST_ID, why, sizeof why);
  if (r == WD_POLICY_ALLOW && nl > 0 &&
      (asked = "process.registry.register on the name") != NULL)
    r = wd__brk_gw_decide(b, serial, wd_ops_name(WD_ACT_REGISTER), nm, nl,
                          NULL, why, sizeof why);
  if (r != WD_POLICY_ALLOW) {
    snprintf(msg, sizeof msg, "permission denied: %s (%s)",
             asked, why);
    wd__brk_gw_reply(b, serial, r == WD_EUNAVAIL ? WD_EUNAVAIL : WD_EDENIED,
                     msg, NULL);
    return;
  }
  for (i = 0; i < BUCKETS; i++)
    for (x = b->inbox->tab[i]; x != NULL; x = x->next)
      mine += strcmp(x->tok, tok) == 0;
  if (mine >= WD_INBOX_PER_TOKEN || b->inbox->n >= WD_INBOX_MAX) {
    snprintf(msg, sizeof msg, "too many inbox streams (%d per token, %d in "
             "all)", WD_INBOX_PER_TOKEN, WD_INBOX_MAX);
    wd__brk_gw_reply(b, serial, WD_ELIMIT, msg, NULL);
    return;
  }
  if (nl > 0 && wd__brk_name_get(b, nm, nl) != NULL) {
    snprintf(msg, sizeof msg, "name '%.*s' is already registered", (int)nl,
             nm);
    wd__brk_gw_reply(b, serial, WD_EEXIST, msg, NULL);
    return;
  }
  if ((x = wd_calloc(1, sizeof *x)) == NULL ||
      (nl > 0 && (x->name = wd_strndup(nm, nl)) == NULL)) {
    wd_free(x);
    wd__brk_gw_reply(b, serial, WD_ENOMEM, "out of memory", NULL);
    return;
  }
  /* A counter of its own from the broker-wide sequence: never reused. */
  x->counter = b->next_pid++;
  if (wd_pid_format(x->pid, sizeof x->pid, HOST_ID, HOST_IDLEN,
                    x->counter) < 0 ||
      (nl > 0 && wd__brk_name_put(b, nm, nl, x->pid, strlen(x->pid), -1,
                                  x->counter) < 0)) {
    wd_free(x->name);
    wd_free(x);
    wd__brk_gw_reply(b, serial, WD_ENOMEM, "out of memory", NULL);
    return;
  }
  x->pidlen = strlen(x->pid);
  x->call = call;
  x->gen = gen;
  snprintf(x->tok, sizeof x->tok, "%s", tok);
  x->next = b->inbox->tab[x->counter % BUCKETS];
  b->inbox->tab[x->counter % BUCKETS] = x;
  b->inbox->n++;
  wd__brk_gw_reply(b, serial, 0, NULL, x->pid);
}

/* }====== */

/* {====== Messages and lifecycle requests ====== */

/* Carry a message (already decided) to inbox 'pid'. Returns 0, or
** WD_ENOTFOUND, WD_EMBOXFULL, WD_ETOOBIG with a message in 'msg'. */
int wd__brk_inbox_deliver(wd_broker *b, const char *from, size_t fl,
                          const char *pid, size_t pl, const char *topic,
                          size_t tl, const uint8_t *p, size_t n, char *msg,
                          size_t msglen) {
  inbox *x = find(b, pid, pl);
  uint64_t gen;
  wd_link *l = wd__brk_gw_link(b, &gen);
  int r;
  if (x == NULL || l == NULL || gen != x->gen) {
    snprintf(msg, msglen, "process not found: %.*s", (int)pl, pid);
    return WD_ENOTFOUND;
  }
  if (n > WD_GW_INBOX_MAX_PAYLOAD) {
    snprintf(msg, msglen, "payload too large (%zu bytes, limit %u for an "
             "inbox)", n, WD_GW_INBOX_MAX_PAYLOAD);
    return WD_ETOOBIG;
  }
  /* The gateway or the client is not keeping up (or messages wait for
  ** the window, which this one must not overtake): the inbox is full, as
  ** a mailbox is. */
  if (wd_link_backlog(l) >= WD_INBOX_LINK_MAX || x->qhead != NULL ||
      !room(x, WD_GW_SSE_COST(fl, tl, n))) {
    snprintf(msg, msglen, "mailbox full: inbox %s (its client is behind)",
             x->pid);
    return WD_EMBOXFULL;
  }
  if ((r = carry(b, x, from, fl, topic, tl, p, n)) < 0)
    snprintf(msg, msglen, "%s",
             r == WD_ENOMEM ? "out of memory" : "process not found");
  return r;
}

/* SEND from host 's' to inbox 'pid', decided by the caller (broker.c
** 'req_send'): answered here at once. */
int wd__brk_inbox_send(hslot *s, uint32_t req, const char *from, size_t fl,
                       const char *pid, size_t pl, const char *topic,
                       size_t tl, const uint8_t *p, size_t n) {
  char msg[300];
  int r = wd__brk_inbox_deliver(s->b, from, fl, pid, pl, topic, tl, p, n, msg,
                                sizeof msg);
  if (r < 0)
    wd__brk_reply(s, req, r, "%s", msg);
  else
    wd__brk_reply(s, req, 0, "%s", "");
  return 0;
}

static iwatch *watch_find(inbox *x, int type, const char *w, size_t wl,
                          iwatch ***pp) {
  iwatch **q;
  for (q = &x->watches; *q != NULL; q = &(*q)->next)
    if ((*q)->type == type && strlen((*q)->pid) == wl &&
        memcmp((*q)->pid, w, wl) == 0) {
      if (pp != NULL) *pp = q;
      return *q;
    }
  return NULL;
}

static void watch_drop(wd_broker *b, iwatch **pp) {
  iwatch *w = *pp;
  *pp = w->next;
  b->inbox->nwatches--;
  wd_free(w->pid);
  wd_free(w);
}

/*
** MONITOR, UNMONITOR, LINK, UNLINK, TERMINATE, CANCEL from host 's' on
** inbox 'pid' (resolved by the caller): decided like any (target_host
** "api"), answered here. A terminate or cancel ends the inbox with an
** error, as it ends a script's process.
*/
int wd__brk_inbox_life(hslot *s, uint32_t req, uint8_t op, const char *from,
                       size_t fl, const char *pid, size_t pl) {
  wd_broker *b = s->b;
  inbox *x = find(b, pid, pl);
  int type = op == WD_OP_LINK || op == WD_OP_UNLINK ? WD_WATCH_LINK
                                                   : WD_WATCH_MONITOR;
  iwatch *w, **pp;
  if (x == NULL) {
    if (op == WD_OP_UNMONITOR || op == WD_OP_UNLINK)
      wd__brk_reply(s, req, 0, "%.*s", (int)pl, pid);
    else
      wd__brk_reply(s, req, WD_ENOTFOUND, "process not found: %.*s", (int)pl,
                    pid);
    return 0;
  }
  if (wd__brk_allow(s, req, from, fl, wd_ops_name(wd_ops_act(op)), pid, pl,
                    HOST_ID, NULL))
    return 0;
  switch (op) {
    case WD_OP_MONITOR:
    case WD_OP_LINK:
      if (watch_find(x, type, from, fl, NULL) == NULL) {
        if (!wd__brk_watch_room(s, req)) return 0;
        if ((w = wd_calloc(1, sizeof *w)) == NULL ||
            (w->pid = wd_strndup(from, fl)) == NULL) {
          wd_free(w);
          wd__brk_reply(s, req, WD_ENOMEM, "out of memory");
          return 0;
        }
        w->type = type;
        w->slot = (int)(s - b->hosts);
        w->next = x->watches;
        x->watches = w;
        b->inbox->nwatches++;
      }
      break;
    case WD_OP_UNMONITOR:
    case WD_OP_UNLINK:
      if (watch_find(x, type, from, fl, &pp) != NULL) watch_drop(b, pp);
      break;
    default: /* TERMINATE, CANCEL */
      wd__brk_reply(s, req, 0, "%s", x->pid);
      end(b, x, 0, "Terminated", "terminated", 1);
      return 0;
  }
  wd__brk_reply(s, req, 0, "%s", x->pid);
  return 0;
}

/* DELETE /v1/processes/{pid} on inbox 'pid', decided by the caller
** (broker_gw.c 'req_kill'): ends it as a script's terminate does.
** Returns 0, or WD_ENOTFOUND (no such inbox, or it has ended). */
int wd__brk_inbox_kill(wd_broker *b, const char *pid, size_t pl) {
  inbox *x = find(b, pid, pl);
  if (x == NULL) return WD_ENOTFOUND;
  end(b, x, 0, "Terminated", "terminated", 1);
  return 0;
}

/*
** An event from 'from' (a process of host 's') to inbox 'to'. Only a link
** carries one: LINK_DOWN ends the inbox with an error (a linked process
** failed), UNLINKED drops the link. An EXIT or exec result to an inbox is
** a forgery (an inbox watches nothing): returns -1, the caller kills the
** host. A link already gone (the inbox ended meanwhile) drops it quietly.
*/
int wd__brk_inbox_event(hslot *s, int kind, const char *from, size_t fl,
                        const char *to, size_t tl) {
  wd_broker *b = s->b;
  inbox *x = find(b, to, tl);
  iwatch **pp;
  char why[WD_PID_MAX + 64];
  if (kind != WD_EV_LINK_DOWN && kind != WD_EV_UNLINKED) return -1;
  if (x == NULL || watch_find(x, WD_WATCH_LINK, from, fl, &pp) == NULL)
    return 0;
  watch_drop(b, pp);
  if (kind == WD_EV_LINK_DOWN) {
    snprintf(why, sizeof why, "linked process %.*s failed", (int)fl, from);
    end(b, x, 0, "LinkDown", why, 1);
  }
  return 0;
}

/* 'pid' exited (its events were sent before): its watches on inboxes go. */
void wd__brk_inbox_forget(wd_broker *b, const char *pid, size_t n) {
  size_t i;
  inbox *x;
  iwatch **pp;
  if (b->inbox == NULL || b->inbox->nwatches == 0) return;
  /* XXX: looks at every inbox's watches; fine for WD_INBOX_MAX streams
  ** with few watchers each, a by-watcher index if that changes. */
  for (i = 0; i < BUCKETS; i++)
    for (x = b->inbox->tab[i]; x != NULL; x = x->next)
      for (pp = &x->watches; *pp != NULL;)
        if (strlen((*pp)->pid) == n && memcmp((*pp)->pid, pid, n) == 0)
          watch_drop(b, pp);
        else
          pp = &(*pp)->next;
}

/* Host 'slot' died: its processes' monitors on inboxes go; an inbox
** linked to one of them ends (LINK_DOWN, as from a live host). */
void wd__brk_inbox_host_down(wd_broker *b, int slot) {
  size_t i;
  inbox *x, *next;
  iwatch **pp;
  if (b->inbox == NULL || b->inbox->nwatches == 0) return;
  for (i = 0; i < BUCKETS; i++)
    for (x = b->inbox->tab[i]; x != NULL; x = next) {
      int down = 0;
      next = x->next;
      for (pp = &x->watches; *pp != NULL;)
        if ((*pp)->slot == slot) {
          down |= (*pp)->type == WD_WATCH_LINK;
          watch_drop(b, pp);
        } else {
          pp = &(*pp)->next;
        }
      if (down) end(b, x, 0, "LinkDown", "a linked process's host died", 1);
    }
}

/* }====== */

/* {====== The gateway's side ====== */

/* GW_END from gateway incarnation 'gen': the client left (ok 1) or the
** gateway dropped the stream (a slow reader). */
int wd__brk_inbox_on_end(wd_broker *b, uint64_t gen, wd_cur *body) {
  wd_gwend e;
  inbox *x;
  char kind[64], why[300];
  if (wd__gw_get_end(body, &e) < 0) return WD_EBADFRAME;
  if ((x = by_call(b, gen, e.call)) == NULL) return 0; /* ended here */
  snprintf(kind, sizeof kind, "%.*s", (int)e.kindlen, e.kind);
  snprintf(why, sizeof why, "%.*s", (int)e.msglen, e.msg);
  end(b, x, e.ok, kind[0] ? kind : "Internal", why, 0);
  return 0;
}

/* The gateway went down: every stream with it. */
void wd__brk_inbox_gw_down(wd_broker *b) {
  size_t i;
  if (b->inbox == NULL) return;
  for (i = 0; i < BUCKETS; i++)
    while (b->inbox->tab[i] != NULL)
      end(b, b->inbox->tab[i], 0, "Internal", "the gateway went down", 0);
}

void wd__brk_inbox_free(wd_broker *b) {
  size_t i;
  if (b->inbox == NULL) return;
  for (i = 0; i < BUCKETS; i++)
    while (b->inbox->tab[i] != NULL) {
      inbox *x = b->inbox->tab[i];
      iwatch *w;
      unhook(b, x);
      while ((w = x->watches) != NULL) {
        x->watches = w->next;
        wd_free(w->pid);
        wd_free(w);
      }
      while (x->qhead != NULL) {
        iq *q = x->qhead;
        x->qhead = q->next;
        wd_free(q);
      }
      wd_free(x->name);
      wd_free(x);
    }
  wd_free(b->inbox);
  b->inbox = NULL;
}

/* }====== */
