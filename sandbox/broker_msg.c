/*
** sandbox/broker_msg.c
** Messages across hosts without a round trip (wd_proto.h MESH .. GONE;
** the hosts' side is runtime/flow.c). A host sends MSG and goes on; the
** broker checks it as it checks a SEND request (the sender PID is the
** host's, the topic is valid, the caller may send it there: decided again
** on the actor and scope the record carries, audited), then carries it
** to the receiving host. What it cannot carry it drops and gives back
** the sender's credit (CREDIT, flagged dead where the process or its host
** is gone). Credit the receiving host returns goes to the sending host;
** DIED becomes GONE to the hosts that sent the process messages, and a
** host that goes down becomes GONE (its id) to every other.
**
** A host is not trusted to keep to its credit: a message that finds its
** mailbox full waits at the receiving host, so one that sent past it
** would make a neighbour hold what it likes. The broker counts what each
** host has in flight (carried, and not given back) to each process and
** to each host, and kills a host at its first message past the credit it
** holds (WD_FLOW_*; a message counts its payload and WD_FLOW_MSG_COST,
** WD_FLOW_COST; towards a host, what each process has in flight within
** its own share, WD_FLOW_DEST_OWN, counts in a window of its own, and
** only what is past it in the shared one: wd_flow_peer_ok). It needs
** no slack for credit and messages crossing: it counts a message when
** the message reaches it, after the sender counted it, and a credit when
** it passes the credit on, before the sender has it, so an honest
** sender's count is never below the broker's.
** What would break that is handled where it happens: a receiving host
** that went down (what was in flight to it is forgotten by both, and a
** message to a PID of its dead incarnation is given back here, dead,
** not carried to its next one); a sender that went down (what it left in
** flight is its earlier incarnation's: credit pays that first and goes
** to nobody, so its next incarnation, which knows nothing of it, gets
** exactly the credit for what it sent itself); a process known dead (the
** sender keeps counting what it sent it until the dead credit comes back,
** runtime/flow.c). The cost: one table lookup per MSG and per CREDIT,
** and an entry per (sender, process) with something in flight.
**
** The queue towards a host is bounded (SECURITY.md V15): past its
** link_queue, plus what all hosts have in flight to its processes within
** their own shares (at most a window of each other host: less than
** link_queue again, unless WD_FLOW_PEER_MIN binds), a message to it is
** dropped, as if its process had died on the way. Honest senders never
** reach it: what they have in flight past the own shares is within their
** shared windows, together less than link_queue (but for one message
** past a window each, SECURITY.md "Not yet (V22)").
**
** What the broker drops is said on stderr counted, at most once a second
** per sending host and cause.
** Runs in: broker.
*/
#include <stdio.h>
#include <string.h>

#include <sodium.h>

#include "ward/wd_common.h"
#include "ward/wd_ops.h"
#include "ward/wd_pid.h"
#include "ward/wd_policy.h"
#include "ward/wd_proto.h"

#include "broker_int.h"
#include "gateway.h"

/* MESH to host 's', after its INIT: every host, its own number, then the
** front door. */
void wd__brk_send_mesh(hslot *s) {
  wd_broker *b = s->b;
  size_t st;
  int i;
  wd_buf *w = wd__brk_rec(s, WD_R_MESH, &st);
  wd_buf_put_u64(w, (uint64_t)s->he->u.host.limits.send_timeout_ns);
  wd_buf_put_u32(w, (uint32_t)(s - b->hosts));
  wd_buf_put_u32(w, (uint32_t)b->nhosts + 1);
  for (i = 0; i < b->nhosts; i++) {
    wd_buf_put_str(w, b->hosts[i].id, b->hosts[i].idlen);
    wd_buf_put_u64(w, b->hosts[i].he->u.host.limits.max_payload);
    wd_buf_put_u64(w, b->hosts[i].he->u.host.limits.link_queue);
  }
  wd__brk_inbox_mesh(w); /* the last: the front door's inbox streams */
  wd__brk_rec_done(s, st);
}

/* {====== Drops said on stderr ======
** A host that lies can make the broker drop messages as fast as it sends
** them: each cause is said at once, then counted and said again with the
** count at most once a second (the watchdog says what is due), and what
** is left when the host goes down or the broker ends. */

static void drop_say(hslot *s, brk_drop *d, uint64_t now) {
  if (d->n == 0) return;
  fprintf(stderr, "ward: host %s: %llu message%s dropped: %s (%s%s)\n", s->id,
          (unsigned long long)d->n, d->n == 1 ? "" : "s", d->why,
          d->n == 1 ? "" : "the last ", d->route);
  d->n = 0;
  d->next = now + 1000;
}

/* A message from 'from' to 'dest' sent by host 's' was dropped for
** 'cause', said 'why'. */
static void drop_note(hslot *s, int cause, const char *from, size_t fl,
                      const char *dest, size_t dl, const char *why) {
  brk_drop *d = &s->drops[cause];
  uint64_t now = uv_now(&s->b->loop);
  d->n++;
  snprintf(d->why, sizeof d->why, "%s", why);
  snprintf(d->route, sizeof d->route, "from %.*s to %.*s", (int)fl, from,
           (int)dl, dest);
  if (now >= d->next) drop_say(s, d, now);
}

void wd__brk_drops_say(wd_broker *b, hslot *only, int all) {
  uint64_t now = uv_now(&b->loop);
  int i, k;
  for (i = 0; i < b->nhosts; i++) {
    hslot *s = &b->hosts[i];
    if (only != NULL && s != only) continue;
    for (k = 0; k < BRK_DROP_CAUSES; k++)
      if (all || now >= s->drops[k].next) drop_say(s, &s->drops[k], now);
  }
}

/* }====== */

/* {====== Credit in flight ====== */

/* Keyed (SipHash), so that a host cannot pick PIDs that share a chain. */
static uint64_t fl_hash(const wd_broker *b, int from, int to,
                        uint64_t counter) {
  unsigned char in[16], out[crypto_shorthash_BYTES];
  uint32_t f = (uint32_t)from, t = (uint32_t)to;
  uint64_t h;
  memcpy(in, &counter, 8);
  memcpy(in + 8, &f, 4);
  memcpy(in + 12, &t, 4);
  crypto_shorthash(out, in, sizeof in, b->flkey);
  memcpy(&h, out, sizeof h);
  return h;
}

/* Rehash into 'cap' buckets (a power of two). 0, or WD_ENOMEM with the
** table as it was. */
static int fl_resize(wd_broker *b, size_t cap) {
  brk_fl **nt = wd_calloc(cap, sizeof *nt), *x, *next;
  size_t i;
  if (nt == NULL) return WD_ENOMEM;
  for (i = 0; b->fl != NULL && i <= b->flmask; i++)
    for (x = b->fl[i]; x != NULL; x = next) {
      next = x->next;
      x->next = nt[x->hash & (cap - 1)];
      nt[x->hash & (cap - 1)] = x;
    }
  wd_free(b->fl);
  b->fl = nt;
  b->flmask = cap - 1;
  return 0;
}

static brk_fl *fl_find(wd_broker *b, int from, int to, uint64_t counter) {
  uint64_t h;
  brk_fl *x;
  if (b->fl == NULL) return NULL;
  h = fl_hash(b, from, to, counter);
  for (x = b->fl[h & b->flmask]; x != NULL; x = x->next)
    if (x->hash == h && x->counter == counter && x->from == from &&
        x->to == to)
      return x;
  return NULL;
}

/* An empty entry for (from, to, counter), in the table and on both
** hosts' lists; NULL when out of memory. The buckets are at least as
** many as the entries. */
static brk_fl *fl_new(wd_broker *b, int from, int to, uint64_t counter) {
  hslot *f = &b->hosts[from];
  brk_fl *x, **head, **in = to == b->nhosts ? &b->fl_api : &b->hosts[to].fl_in;
  if (b->fl == NULL) {
    crypto_shorthash_keygen(b->flkey);
    if (fl_resize(b, 256) < 0) return NULL;
  } else if (b->nfl > b->flmask) {
    (void)fl_resize(b, (b->flmask + 1) * 2); /* else longer chains */
  }
  if ((x = wd_calloc(1, sizeof *x)) == NULL) return NULL;
  x->hash = fl_hash(b, from, to, counter);
  x->counter = counter;
  x->from = from;
  x->to = to;
  head = &b->fl[x->hash & b->flmask];
  x->next = *head;
  *head = x;
  if ((x->onext = f->fl_out) != NULL) f->fl_out->oprev = &x->onext;
  x->oprev = &f->fl_out;
  f->fl_out = x;
  if ((x->inext = *in) != NULL) (*in)->iprev = &x->inext;
  x->iprev = in;
  *in = x;
  b->nfl++;
  return x;
}

/* 'x' counts 'bytes' in flight instead of x->bytes: its sender's counts
** towards its host follow, past the process's own share and within it
** (WD_FLOW_PAST, WD_FLOW_OWN), and the receiving host's own shares. */
static void fl_set(wd_broker *b, brk_fl *x, uint64_t bytes) {
  uint64_t *peer = b->hosts[x->from].fl_peer;
  uint64_t was = WD_FLOW_OWN(x->bytes), now = WD_FLOW_OWN(bytes);
  if (peer != NULL) {
    peer[x->to] = peer[x->to] - WD_FLOW_PAST(x->bytes) + WD_FLOW_PAST(bytes);
    peer[b->nhosts + 1 + x->to] = peer[b->nhosts + 1 + x->to] - was + now;
  }
  if (x->to < b->nhosts)
    b->hosts[x->to].fl_own_in = b->hosts[x->to].fl_own_in - was + now;
  x->bytes = bytes;
}

/* Take 'x' out of everything and free it: what it still counts in flight
** leaves the sender's count towards its host. The buckets shrink when
** they are eight times the entries. */
static void fl_drop(wd_broker *b, brk_fl *x) {
  brk_fl **pp = &b->fl[x->hash & b->flmask];
  while (*pp != x) pp = &(*pp)->next;
  *pp = x->next;
  if ((*x->oprev = x->onext) != NULL) x->onext->oprev = x->oprev;
  if ((*x->iprev = x->inext) != NULL) x->inext->iprev = x->iprev;
  fl_set(b, x, 0);
  wd_free(x);
  b->nfl--;
  if (b->flmask >= 256 && b->nfl < (b->flmask + 1) / 8)
    (void)fl_resize(b, (b->flmask + 1) / 2);
}

/* Free 'x' once nothing is in flight to it. */
static void fl_settle(wd_broker *b, brk_fl *x) {
  if (x->msgs == 0 && x->omsgs == 0) fl_drop(b, x);
}

/* Credit for '*msgs' messages of '*bytes' to 'x' came back: it pays what
** the sender's earlier incarnations left in flight first (the receiving
** host takes messages and gives credit in order, and those came first),
** then the current one's, at most what that has in flight. Leaves in
** '*msgs' and '*bytes' what goes to the sender. */
static void fl_pay(wd_broker *b, brk_fl *x, uint64_t *msgs,
                   uint64_t *bytes) {
  uint64_t m = *msgs, n = *bytes, paid;
  if (x->omsgs > 0) {
    paid = n < x->obytes ? n : x->obytes;
    if (m < x->omsgs) {
      x->omsgs -= m;
      x->obytes -= paid;
      m = n = 0;
    } else {
      m -= x->omsgs;
      n -= paid;
      x->omsgs = x->obytes = 0;
    }
  }
  if (m > x->msgs) m = x->msgs;
  if (n > x->bytes) n = x->bytes;
  x->msgs -= m;
  fl_set(b, x, x->bytes - n);
  *msgs = m;
  *bytes = n;
  fl_settle(b, x);
}

/* Did host 's' send a message of 'n' payload bytes to 'dest' (a process
** of host number 'to', 'nhosts' for an inbox stream, with 'x' in flight
** to it, or NULL) past the credit it holds? Then says why into 'why'.
** The same test as the sender's (runtime/flow.c 'out_ok', with the
** window MESH gave it, the message counting WD_FLOW_COST(n)): with the
** broker's counts never above the sender's, an honest host never fails
** it. */
static int past_credit(const hslot *s, int to, const brk_fl *x,
                       const char *dest, size_t dl, size_t n, char *why,
                       size_t whylen) {
  const wd_broker *b = s->b;
  int api = to == b->nhosts;
  const char *tid = api ? WD_FLOW_API_ID : b->hosts[to].id;
  uint64_t lq = api ? 0 : b->hosts[to].he->u.host.limits.link_queue;
  uint64_t win = WD_FLOW_PEER_WIN(lq, (uint64_t)b->nhosts + 1); /* MESH */
  uint64_t past = s->fl_peer != NULL ? s->fl_peer[to] : 0;
  uint64_t own = s->fl_peer != NULL ? s->fl_peer[b->nhosts + 1 + to] : 0;
  uint64_t xb = x != NULL ? x->bytes : 0;
  uint64_t wmsgs = api ? WD_FLOW_API_MSGS : WD_FLOW_WIN_MSGS;
  uint64_t wbytes = api ? WD_FLOW_API_BYTES : WD_FLOW_WIN_BYTES;
  uint64_t c = WD_FLOW_COST(n);
  if (x != NULL && x->msgs >= wmsgs) {
    snprintf(why, whylen, "message past its credit: %llu messages in flight "
             "to %.*s", (unsigned long long)x->msgs, (int)dl, dest);
    return 1;
  }
  if (x != NULL && x->msgs > 0 && x->bytes + c > wbytes) {
    snprintf(why, whylen, "message past its credit: %llu bytes in flight to "
             "%.*s, %llu more", (unsigned long long)x->bytes, (int)dl, dest,
             (unsigned long long)c);
    return 1;
  }
  if (!wd_flow_peer_ok(win, past, own, xb, c)) {
    uint64_t dpast = WD_FLOW_PAST(xb + c) - WD_FLOW_PAST(xb);
    if (dpast > 0 && past > 0 && past + dpast > win)
      snprintf(why, whylen, "message past its credit: %llu bytes in flight "
               "to host %s, %llu more (window %llu)",
               (unsigned long long)past, tid, (unsigned long long)dpast,
               (unsigned long long)win);
    else
      snprintf(why, whylen, "message past its credit: %llu bytes in flight "
               "to host %s within its processes' own shares, %llu more "
               "(window %llu)", (unsigned long long)own, tid,
               (unsigned long long)(WD_FLOW_OWN(xb + c) - WD_FLOW_OWN(xb)),
               (unsigned long long)win);
    return 1;
  }
  return 0;
}

void wd__brk_flow_down(hslot *s) {
  wd_broker *b = s->b;
  int si = (int)(s - b->hosts), i;
  brk_fl *x;
  for (x = s->fl_out; x != NULL; x = x->onext) {
    x->omsgs += x->msgs;
    x->obytes += x->bytes;
    x->msgs = 0;
    fl_set(b, x, 0);
  }
  if (s->fl_peer != NULL)
    memset(s->fl_peer, 0, 2 * ((size_t)b->nhosts + 1) * sizeof *s->fl_peer);
  while ((x = s->fl_in) != NULL) fl_drop(b, x);
  for (i = 0; i < b->nhosts; i++)
    if (b->hosts[i].fl_peer != NULL)
      b->hosts[i].fl_peer[si] = b->hosts[i].fl_peer[b->nhosts + 1 + si] = 0;
  s->fl_own_in = 0;
}

void wd__brk_flow_free(wd_broker *b) {
  int i;
  while (b->fl_api != NULL) fl_drop(b, b->fl_api);
  for (i = 0; i < b->nhosts; i++) {
    hslot *s = &b->hosts[i];
    while (s->fl_in != NULL) fl_drop(b, s->fl_in);
    wd_free(s->fl_peer);
    s->fl_peer = NULL;
  }
  wd_free(b->fl);
  b->fl = NULL;
  b->flmask = b->nfl = 0;
  sodium_memzero(b->flkey, sizeof b->flkey);
}

/* Room for the counts of host 's' towards every host and the inbox
** streams: 0, or WD_ENOMEM. */
static int fl_peers(hslot *s) {
  if (s->fl_peer == NULL)
    s->fl_peer = wd_calloc(2 * ((size_t)s->b->nhosts + 1), sizeof *s->fl_peer);
  return s->fl_peer != NULL ? 0 : WD_ENOMEM;
}

int wd__brk_flow_wait(hslot *s, uint64_t counter, size_t n) {
  wd_broker *b = s->b;
  int from = (int)(s - b->hosts);
  brk_fl *x;
  if (fl_peers(s) < 0) return WD_ENOMEM;
  if ((x = fl_find(b, from, b->nhosts, counter)) == NULL &&
      (x = fl_new(b, from, b->nhosts, counter)) == NULL)
    return WD_ENOMEM;
  x->msgs++;
  fl_set(b, x, x->bytes + WD_FLOW_COST(n));
  return 0;
}

int wd__brk_flow_left(wd_broker *b, int slot, uint64_t counter, size_t n) {
  brk_fl *x = fl_find(b, slot, b->nhosts, counter);
  uint64_t m = 1, nb = WD_FLOW_COST(n);
  if (x == NULL) return 0;
  fl_pay(b, x, &m, &nb);
  return m == 1;
}

/* }====== */

/* {====== Records ====== */

void wd__brk_credit_back(hslot *s, const char *dest, size_t dl, size_t n,
                         uint8_t flag) {
  size_t st;
  wd_buf *w;
  if (!s->up) return;
  w = wd__brk_rec(s, WD_R_CREDIT, &st);
  wd_buf_put_str(w, dest, dl);
  wd_buf_put_u32(w, 1);
  wd_buf_put_u64(w, WD_FLOW_COST(n));
  wd_buf_put_u8(w, flag);
  wd__brk_rec_done(s, st);
}

/* Carry the message of 's' (its fields; 'x' counts what is in flight to
** 'dest') to host 't', and count it. */
static void carry(hslot *s, hslot *t, brk_fl *x, const char *from, size_t fl,
                  const char *dest, size_t dl, const char *topic, size_t tl,
                  const uint8_t *p, size_t n) {
  wd_broker *b = s->b;
  char f[WD_PID_MAX], d[WD_PID_MAX], why[100];
  size_t st;
  wd_buf *w;
  int r;
  /* Both PIDs parsed: shorter than WD_PID_MAX. */
  memcpy(f, from, fl);
  memcpy(d, dest, dl);
  w = wd__brk_rec(t, WD_R_MSG, &st);
  wd_buf_put_str(w, from, fl);
  wd_buf_put_str(w, dest, dl);
  wd_buf_put_str(w, topic, tl);
  /* The payload is not copied when it came in fragments (wd_link.h):
  ** nothing of the received record may be read after this. */
  wd_link_rec_put_from(t->link, s->link, p, n);
  r = wd__brk_rec_done(t, st);
  if (!t->up) return; /* its link failed in the write: 'x' went with it */
  if (r < 0) {
    fl_settle(b, x);
    snprintf(why, sizeof why, "the broker could not queue it for host %s "
             "(%s)", t->id, wd_strerror(r));
    drop_note(s, BRK_DROP_NOMEM, f, fl, d, dl, why);
    wd__brk_credit_back(s, d, dl, n, 0);
  } else if (!s->up) { /* it went down meanwhile: its last incarnation's */
    x->omsgs++;
    x->obytes += WD_FLOW_COST(n);
  } else {
    x->msgs++;
    fl_set(b, x, x->bytes + WD_FLOW_COST(n));
  }
}

/* MSG from host 's' (wd_proto.h). */
int wd__brk_on_msg(hslot *s, wd_cur *c) {
  wd_broker *b = s->b;
  brk_caller who;
  const char *from, *dest, *topic, *hid;
  const uint8_t *p;
  size_t fl, dl, tl, hl, n;
  uint64_t counter;
  char th[WD_PID_HOST_MAX + 1], tp[WD_TOPIC_MAX + 1], why[300];
  hslot *t;
  brk_fl *x;
  int r, to;
  if (wd_cur_str(c, &from, &fl) || wd__brk_sec_caller(s, c, &who) < 0 ||
      wd_cur_str(c, &dest, &dl) || wd_cur_str(c, &topic, &tl))
    return WD_EBADFRAME;
  n = wd_cur_left(c);
  if (wd_cur_bytes(c, n, &p) < 0) return WD_EBADFRAME;
  if (wd__brk_own_pid(s, from, fl, &counter,
                      "message with a sender PID not of this host") < 0)
    return WD_EBADFRAME;
  /* The host refuses all of these itself: one that sends them lies. */
  if (tl == 0 || topic[0] == '@' || tl > WD_TOPIC_MAX ||
      memchr(topic, '\0', tl) != NULL ||
      wd_pid_parse(dest, dl, &hid, &hl, &counter) < 0 ||
      (((t = wd__brk_slot_by_id(b, hid, hl)) == NULL || t == s) &&
       !wd__brk_inbox_is(dest, dl))) {
    wd__brk_host_down(s, "malformed message record");
    return WD_EBADFRAME;
  }
  /* So would one past its credit, whatever becomes of the message. */
  to = t == NULL ? b->nhosts : (int)(t - b->hosts); /* else an inbox */
  x = fl_find(b, (int)(s - b->hosts), to, counter);
  if (past_credit(s, to, x, dest, dl, n, why, sizeof why)) {
    wd__brk_host_down(s, "%s", why);
    return WD_EBADFRAME;
  }
  snprintf(th, sizeof th, "%.*s", (int)hl, hid);
  snprintf(tp, sizeof tp, "%.*s", (int)tl, topic);
  r = wd__brk_sec_check(s, &who, from, fl, wd_ops_name(WD_ACT_SEND), dest, dl,
                        th, tp, why, sizeof why);
  if (r != WD_POLICY_ALLOW) {
    /* The host decided the same and allowed it: policies changed on the
    ** way (a reload). The decision is in the audit log. */
    drop_note(s, BRK_DROP_DENIED, from, fl, dest, dl, why);
    wd__brk_credit_back(s, dest, dl, n, 0);
    return 0;
  }
  if (t == NULL) { /* an inbox stream's (broker_inbox.c) */
    if (n > WD_GW_INBOX_MAX_PAYLOAD) {
      wd__brk_host_down(s, "message over the inbox's max_payload");
      return WD_EBADFRAME;
    }
    wd__brk_inbox_msg(s, from, fl, dest, dl, topic, tl, p, n);
    return 0;
  }
  /* Its host is down, or this PID is of an incarnation of it that died:
  ** the process is gone (the sender learns it from the credit). */
  if (!t->up || counter < t->gone_below) {
    wd__brk_credit_back(s, dest, dl, n, WD_CREDIT_DEAD);
    return 0;
  }
  if (n > t->he->u.host.limits.max_payload) {
    wd__brk_host_down(s, "message over the receiver's max_payload");
    return WD_EBADFRAME;
  }
  /* The credit bounds what is in flight; past the link's bound (and what
  ** the processes' own shares let the senders have in flight besides)
  ** the receiving host is not reading (its liveness will tell): the
  ** message goes as if its process had died on the way (SECURITY.md
  ** V15). */
  if (t->he->u.host.limits.link_queue != 0 &&
      wd_link_backlog(t->link) >=
          t->he->u.host.limits.link_queue + t->fl_own_in) {
    snprintf(why, sizeof why, "host %s is not reading", t->id);
    drop_note(s, BRK_DROP_UNREAD, from, fl, dest, dl, why);
    wd__brk_credit_back(s, dest, dl, n, 0);
    return 0;
  }
  if (fl_peers(s) < 0)
    x = NULL;
  else if (x == NULL)
    x = fl_new(b, (int)(s - b->hosts), (int)(t - b->hosts), counter);
  if (x == NULL) { /* it could not be counted: it does not go */
    drop_note(s, BRK_DROP_NOMEM, from, fl, dest, dl,
              "the broker is out of memory");
    wd__brk_credit_back(s, dest, dl, n, 0);
    return 0;
  }
  carry(s, t, x, from, fl, dest, dl, topic, tl, p, n);
  return 0;
}

/* CREDIT from host 's': u32 peer, str dest (its process), u32 msgs, u64
** bytes, u8 flag; to host 'peer', but only what that host has in flight
** to 'dest' (a lying host cannot hand another more credit than the
** broker counts, which would get it killed). */
int wd__brk_on_credit(hslot *s, wd_cur *c) {
  wd_broker *b = s->b;
  uint32_t peer, msgs;
  uint64_t bytes, counter, m = 0, nb = 0;
  uint8_t flag;
  const char *dest;
  size_t dl, st;
  brk_fl *x;
  hslot *t;
  wd_buf *w;
  if (wd_cur_u32(c, &peer) || wd_cur_str(c, &dest, &dl) ||
      wd_cur_u32(c, &msgs) || wd_cur_u64(c, &bytes) || wd_cur_u8(c, &flag) ||
      wd_cur_left(c) != 0 || peer >= (uint32_t)b->nhosts)
    return WD_EBADFRAME;
  if (wd__brk_own_pid(s, dest, dl, &counter,
                      "credit for a PID not of this host") < 0)
    return WD_EBADFRAME;
  t = &b->hosts[peer];
  if (t == s) return 0;
  if ((x = fl_find(b, (int)peer, (int)(s - b->hosts), counter)) != NULL) {
    m = msgs;
    nb = bytes;
    fl_pay(b, x, &m, &nb);
  }
  if (!t->up || (m == 0 && nb == 0 && !(flag & WD_CREDIT_DEAD))) return 0;
  w = wd__brk_rec(t, WD_R_CREDIT, &st);
  wd_buf_put_str(w, dest, dl);
  wd_buf_put_u32(w, (uint32_t)m);
  wd_buf_put_u64(w, nb);
  wd_buf_put_u8(w, flag & WD_CREDIT_DEAD);
  wd__brk_rec_done(t, st);
  return 0;
}

static void gone_to(hslot *t, const char *s, size_t n) {
  size_t st;
  wd_buf *w;
  if (!t->up) return;
  w = wd__brk_rec(t, WD_R_GONE, &st);
  wd_buf_put_str(w, s, n);
  wd__brk_rec_done(t, st);
}

/* DIED from host 's': str pid (its process), u64 peers. */
int wd__brk_on_died(hslot *s, wd_cur *c) {
  wd_broker *b = s->b;
  const char *pid;
  size_t pl;
  uint64_t mask, counter;
  int i;
  if (wd_cur_str(c, &pid, &pl) || wd_cur_u64(c, &mask) ||
      wd_cur_left(c) != 0)
    return WD_EBADFRAME;
  if (wd__brk_own_pid(s, pid, pl, &counter,
                      "DIED for a PID not of this host") < 0)
    return WD_EBADFRAME;
  for (i = 0; i < b->nhosts; i++)
    if (&b->hosts[i] != s && (mask & (1ull << (i < 63 ? i : 63))))
      gone_to(&b->hosts[i], pid, pl);
  return 0;
}

/* Host 's' went down: every PID of it is dead for the others. */
void wd__brk_gone_host(hslot *s) {
  wd_broker *b = s->b;
  int i;
  for (i = 0; i < b->nhosts; i++)
    if (&b->hosts[i] != s) gone_to(&b->hosts[i], s->id, s->idlen);
}

/* Name 'x' is being released: the hosts that looked it up forget it. */
void wd__brk_unname(wd_broker *b, const name *x) {
  size_t st, n = strlen(x->name);
  int i;
  for (i = 0; x->cached != 0 && i < b->nhosts; i++) {
    hslot *t = &b->hosts[i];
    wd_buf *w;
    if (!(x->cached & (1ull << (i < 63 ? i : 63))) || !t->up) continue;
    w = wd__brk_rec(t, WD_R_UNNAME, &st);
    wd_buf_put_str(w, x->name, n);
    wd__brk_rec_done(t, st);
  }
}

/* }====== */
