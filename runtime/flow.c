/*
** runtime/flow.c
** Flow control: what a send does when the receiver cannot take it yet,
** and messages to other hosts without a round trip (README "Sends
** across hosts", wd_proto.h MESH .. GONE).
**
** Within a host, a send to a full mailbox waits in the receiver's send
** queue (its 'sendq'), the message in hand, until the receiver takes a
** message (wd__flow_room hands the waiting messages over in order) or
** the sender's send_timeout passes (the VM's timer; then LimitExceeded).
** When the bound that stops it is the host's (mailbox_bytes), a take by
** any actor gives one waiting receiver a try, and an actor's end, which
** frees what it never read, gives every one a try (wd__flow_freed).
**
** Across hosts, a send is a MSG record and returns at once, within the
** sender host's credit for that destination: at most FLOW_WIN_MSGS
** messages and FLOW_WIN_BYTES bytes in flight, each message counting its
** payload and WD_FLOW_MSG_COST (WD_FLOW_API_* for an inbox
** stream of the front door; one message in flight is always allowed,
** whatever its size), and within its windows towards the
** receiving host, all destinations together (each its share of that
** host's link_queue: honest senders never fill the broker's queue
** towards a host, where the broker would drop): a destination's first
** WD_FLOW_DEST_OWN bytes in flight count in the window of own shares,
** what it has past them in the shared window (wd_flow_peer_ok), so a
** destination that holds little in flight is not held up by the others
** (processes that never read, a 64 MiB message). The receiving host
** returns credit (CREDIT) when a message enters the mailbox, or is
** dropped because its process is gone; a message that finds the mailbox
** full waits there ('park') and its credit with it. So a fast producer is slowed where it
** runs, nothing accepted is dropped for lack of room, and a congested
** destination holds up only the senders to it. Each host keeps the PIDs
** it knows are dead (DIED, GONE, a dead-flagged credit, an EXIT event),
** so a send to one fails at once. The broker counts what each host has
** in flight against the same windows and kills a host that sends past
** them (sandbox/broker_msg.c): so what was sent stays counted here until
** its credit comes back, also to a process known dead (its host gives it
** back, flagged dead), and is forgotten only when the receiving host goes
** down, as the broker forgets it then.
** Runs in: host (sandboxed).
*/
#include <string.h>

#include "host_int.h"

/* Credit per (sending host, destination), and per (sending host,
** receiving host): WD_FLOW_* (wd_proto.h), which the broker holds hosts
** to. A test may build this file with a smaller window
** (tests/fuzz/fuzz_flow.c does, to reach waits for credit within a short
** input). */
#define FLOW_WIN_MSGS ((uint32_t)WD_FLOW_WIN_MSGS)
#define FLOW_WIN_BYTES ((uint64_t)WD_FLOW_WIN_BYTES)

static uint32_t hash_str(const char *s, size_t n) {
  uint32_t h = 2166136261u;
  size_t i;
  for (i = 0; i < n; i++) h = (h ^ (uint8_t)s[i]) * 16777619u;
  return h;
}

/* {====== Waiting senders ====== */

static void swq_push(wd_swq *q, wd_swait *w) {
  w->next = NULL;
  w->prev = q->tail;
  if (q->tail) q->tail->next = w;
  else q->head = w;
  q->tail = w;
  w->q = q;
}

static void swq_remove(wd_swait *w) {
  wd_swq *q = w->q;
  if (q == NULL) return;
  if (w->prev) w->prev->next = w->next;
  else q->head = w->next;
  if (w->next) w->next->prev = w->prev;
  else q->tail = w->prev;
  w->next = w->prev = NULL;
  w->q = NULL;
}

/* 'w' of sender 'a' starts waiting in 'q', owning 'm'. */
static void wait_start(wd_actor *a, wd_swait *w, struct task *t, wd_swq *q,
                       wd_msg *m, wd_out *o) {
  w->a = a;
  w->t = t;
  w->m = m;
  w->out = o;
  w->status = WD_SW_WAIT;
  w->bytes = wd_msg_size(m);
  a->swait_bytes += w->bytes;
  swq_push(q, w);
  w->anext = a->swaits;
  if (a->swaits != NULL) a->swaits->aprev = &w->anext;
  w->aprev = &a->swaits;
  a->swaits = w;
}

/* 'w' stops waiting with 'status'; its message goes (sent or dropped). */
static void wait_end(wd_swait *w, int32_t status) {
  w->a->swait_bytes -= w->bytes;
  w->bytes = 0;
  swq_remove(w);
  if (w->aprev != NULL) {
    *w->aprev = w->anext;
    if (w->anext != NULL) w->anext->aprev = w->aprev;
    w->aprev = NULL;
    w->anext = NULL;
  }
  wd_msg_free(w->m);
  w->m = NULL;
  w->out = NULL;
  w->status = status;
}

/* End 'w' and wake its task. */
static void wait_done(wd_swait *w, int32_t status) {
  wd_actor *a = w->a;
  struct task *t = w->t;
  wait_end(w, status);
  if (a->state == A_ALIVE && a->h->vm->send_done != NULL)
    a->h->vm->send_done(a, t);
}

static void out_settle(wd_host *h, wd_out *o);

void wd__flow_cancel(wd_swait *w) {
  wd_out *o = w->out;
  wd_host *h;
  if (w->status != WD_SW_WAIT) return;
  h = w->a->h;
  wait_end(w, WD_ETIMEOUT);
  if (o != NULL) out_settle(h, o);
}

/* }====== */

/* {====== Dead PIDs ====== */

int wd__flow_dead_has(wd_host *h, const char *pid, size_t n) {
  uint32_t hv = hash_str(pid, n);
  wd_dead *d;
  for (d = h->dead_tab[hv % WD_DEAD_BUCKETS]; d != NULL; d = d->next)
    if (d->hash == hv && d->len == n && memcmp(d->pid, pid, n) == 0) return 1;
  return 0;
}

static void dead_unlink(wd_host *h, wd_dead *d) {
  wd_dead **pp = &h->dead_tab[d->hash % WD_DEAD_BUCKETS];
  while (*pp != d) pp = &(*pp)->next;
  *pp = d->next;
}

/* Remember that 'pid' is dead; the oldest of WD_DEAD_MAX goes. */
void wd__flow_dead_add(wd_host *h, const char *pid, size_t n) {
  wd_dead *d;
  if (n >= WD_PID_MAX || wd__flow_dead_has(h, pid, n)) return;
  d = h->dead_ring[h->dead_next];
  if (d != NULL) dead_unlink(h, d);
  else if ((d = wd_malloc(sizeof *d)) == NULL) return;
  h->dead_ring[h->dead_next] = d;
  h->dead_next = (h->dead_next + 1) % WD_DEAD_MAX;
  d->hash = hash_str(pid, n);
  d->len = (uint8_t)n;
  memcpy(d->pid, pid, n);
  d->next = h->dead_tab[d->hash % WD_DEAD_BUCKETS];
  h->dead_tab[d->hash % WD_DEAD_BUCKETS] = d;
}

/* }====== */

/* {====== Names looked up ======
** A send by name resolves here after the first: the host keeps the PIDs
** of the names it looked up (LOOKUP), and the broker tells it (UNNAME)
** when one of them is released, before anything that follows from the
** release can reach the host. The oldest of WD_NM_MAX goes first. */

static wd_nm *nm_find(wd_host *h, const char *name, size_t n, uint32_t hv) {
  wd_nm *x;
  for (x = h->nm_tab[hv % WD_NM_BUCKETS]; x != NULL; x = x->next)
    if (x->hash == hv && x->len == n && memcmp(x->name, name, n) == 0)
      return x;
  return NULL;
}

static void nm_unlink(wd_host *h, wd_nm *x) {
  wd_nm **pp = &h->nm_tab[x->hash % WD_NM_BUCKETS];
  while (*pp != x) pp = &(*pp)->next;
  *pp = x->next;
  x->len = 0; /* a free node, still in the ring */
}

const char *wd__flow_name_get(wd_host *h, const char *name, size_t n,
                              size_t *pidlen) {
  wd_nm *x;
  if (n == 0 || n > 255) return NULL;
  if ((x = nm_find(h, name, n, hash_str(name, n))) == NULL) return NULL;
  *pidlen = x->pidlen;
  return x->pid;
}

unsigned wd__flow_name_epoch(const wd_host *h) { return h->nm_epoch; }

/* The answer to a LOOKUP reaches the host before the process that asked
** resumes, and an UNNAME that follows the answer may come in between: then
** the answer may be the name released, and it is not kept ('epoch', taken
** when the LOOKUP went out, is behind). */
void wd__flow_name_put(wd_host *h, unsigned epoch, const char *name, size_t n,
                       const char *pid, size_t pidlen) {
  uint32_t hv = hash_str(name, n);
  wd_nm *x;
  if (epoch != h->nm_epoch || n == 0 || n > 255 || pidlen >= WD_PID_MAX)
    return;
  if ((x = nm_find(h, name, n, hv)) == NULL) {
    x = h->nm_ring[h->nm_next];
    if (x != NULL && x->len != 0) nm_unlink(h, x);
    else if (x == NULL && (x = wd_malloc(sizeof *x)) == NULL) return;
    h->nm_ring[h->nm_next] = x;
    h->nm_next = (h->nm_next + 1) % WD_NM_MAX;
    x->hash = hv;
    x->len = (uint8_t)n;
    memcpy(x->name, name, n);
    x->next = h->nm_tab[hv % WD_NM_BUCKETS];
    h->nm_tab[hv % WD_NM_BUCKETS] = x;
  }
  x->pidlen = (uint8_t)pidlen;
  memcpy(x->pid, pid, pidlen);
}

/* UNNAME from the broker: str name. */
int wd_host_on_unname(wd_host *h, wd_cur *c) {
  const char *s;
  size_t n;
  wd_nm *x;
  if (wd_cur_str(c, &s, &n) || wd_cur_left(c) != 0 || n == 0 || n > 255)
    return WD_EBADFRAME;
  h->nm_epoch++;
  if ((x = nm_find(h, s, n, hash_str(s, n))) != NULL) nm_unlink(h, x);
  return 0;
}

/* }====== */

/* {====== Peers ====== */

/* The MESH record (wd_proto.h). */
int wd_host_mesh(wd_host *h, wd_cur *c) {
  uint64_t to, lq;
  uint32_t self, n, i;
  if (h->peers != NULL) return WD_EBADFRAME; /* once */
  if (wd_cur_u64(c, &to) || wd_cur_u32(c, &self) || wd_cur_u32(c, &n) ||
      n == 0 || n > 100000 || self >= n)
    return WD_EBADFRAME;
  if ((h->peers = wd_calloc(n, sizeof *h->peers)) == NULL) return WD_ENOMEM;
  h->npeers = n;
  h->self = self;
  h->send_timeout_ns = to;
  for (i = 0; i < n; i++) {
    const char *s;
    size_t l;
    if (wd_cur_str(c, &s, &l) || l == 0 || l > WD_PID_HOST_MAX ||
        memchr(s, '\0', l) != NULL ||
        wd_cur_u64(c, &h->peers[i].max_payload) || wd_cur_u64(c, &lq))
      return WD_EBADFRAME;
    /* Every host may fill its share of the receiver's link_queue. */
    h->peers[i].win = WD_FLOW_PEER_WIN(lq, n);
    /* Each destination its window: an inbox stream's is smaller. */
    if (l == sizeof WD_FLOW_API_ID - 1 && memcmp(s, WD_FLOW_API_ID, l) == 0) {
      h->peers[i].dmsgs = WD_FLOW_API_MSGS;
      h->peers[i].dbytes = WD_FLOW_API_BYTES;
    } else {
      h->peers[i].dmsgs = FLOW_WIN_MSGS;
      h->peers[i].dbytes = FLOW_WIN_BYTES;
    }
    h->peers[i].btail = &h->peers[i].blocked;
    if ((h->peers[i].id = wd_strndup(s, l)) == NULL) return WD_ENOMEM;
    h->peers[i].idlen = l;
  }
  if (h->peers[self].idlen != h->idlen ||
      memcmp(h->peers[self].id, h->id, h->idlen) != 0)
    return WD_EBADFRAME;
  return wd_cur_left(c) == 0 ? 0 : WD_EBADFRAME;
}

/* The number of the host of 'pid' among the peers, or -1. */
static int peer_of(wd_host *h, const char *pid, size_t n) {
  const char *hid;
  size_t hl;
  uint64_t counter;
  uint32_t i;
  if (wd_pid_parse(pid, n, &hid, &hl, &counter) < 0) return -1;
  if (h->peer_last < h->npeers && h->peers[h->peer_last].idlen == hl &&
      memcmp(h->peers[h->peer_last].id, hid, hl) == 0)
    return (int)h->peer_last;
  for (i = 0; i < h->npeers; i++)
    if (h->peers[i].idlen == hl && memcmp(h->peers[i].id, hid, hl) == 0) {
      h->peer_last = i;
      return (int)i;
    }
  return -1;
}

/* }====== */

/* {====== Credit toward other hosts ====== */

static wd_out *out_find(wd_host *h, const char *key, size_t n, uint32_t hv) {
  wd_out *o;
  for (o = h->out[hv % WD_OUT_BUCKETS]; o != NULL; o = o->next)
    if (o->hash == hv && o->keylen == n && memcmp(o->key, key, n) == 0)
      return o;
  return NULL;
}

/* 'o' waits for its peer's window: on the peer's list, once. */
static void peer_block(wd_host *h, wd_out *o) {
  wd_peer *pe = &h->peers[o->peer];
  if (o->pprev != NULL) return;
  o->pnext = NULL;
  o->pprev = pe->btail;
  *pe->btail = o;
  pe->btail = &o->pnext;
}

static void peer_unblock(wd_host *h, wd_out *o) {
  wd_peer *pe = &h->peers[o->peer];
  if (o->pprev == NULL) return;
  *o->pprev = o->pnext;
  if (o->pnext != NULL) o->pnext->pprev = o->pprev;
  else pe->btail = o->pprev;
  o->pnext = NULL;
  o->pprev = NULL;
}

/* 'o' has 'bytes' in flight instead of o->bytes: its peer's counts
** follow (WD_FLOW_OWN, WD_FLOW_PAST). */
static void out_set(wd_host *h, wd_out *o, uint64_t bytes) {
  wd_peer *pe = &h->peers[o->peer];
  pe->past = pe->past - WD_FLOW_PAST(o->bytes) + WD_FLOW_PAST(bytes);
  pe->own = pe->own - WD_FLOW_OWN(o->bytes) + WD_FLOW_OWN(bytes);
  o->bytes = bytes;
}

/* 'bytes' of what was in flight to 'o' have left the network. */
static void out_less(wd_host *h, wd_out *o, uint64_t bytes) {
  out_set(h, o, bytes > o->bytes ? 0 : o->bytes - bytes);
}

static void out_free(wd_host *h, wd_out *o) {
  wd_out **pp = &h->out[o->hash % WD_OUT_BUCKETS];
  while (*pp != o) pp = &(*pp)->next;
  *pp = o->next;
  h->nout--;
  peer_unblock(h, o);
  out_less(h, o, o->bytes);
  wd_free(o);
}

/* Free 'o' once nothing is in flight or waiting for it. */
static void out_settle(wd_host *h, wd_out *o) {
  if (o->msgs == 0 && o->wq.head == NULL) out_free(h, o);
}

/* Is it the peer's windows that stop the next message to 'o', of 'n'
** payload bytes? It counts WD_FLOW_COST(n), as the broker counts it. */
static int peer_full(const wd_host *h, const wd_out *o, size_t n) {
  const wd_peer *pe = &h->peers[o->peer];
  return !wd_flow_peer_ok(pe->win, pe->past, pe->own, o->bytes,
                          WD_FLOW_COST(n));
}

/* May one more message of 'n' payload bytes go to 'o'? Its own window
** (one message in flight always may), then its peer's. */
static int out_ok(const wd_host *h, const wd_out *o, size_t n) {
  const wd_peer *pe = &h->peers[o->peer];
  uint64_t c = WD_FLOW_COST(n);
  return o->msgs < pe->dmsgs && (o->msgs == 0 || o->bytes + c <= pe->dbytes) &&
         !peer_full(h, o, n);
}

/* Write the MSG record of 'a' (wd_proto.h) and charge it to 'o'. */
static int msg_out(wd_actor *a, wd_out *o, const char *topic, size_t tl,
                   const uint8_t *p, size_t n) {
  wd_host *h = a->h;
  size_t st;
  wd_buf *b = h->io.begin(h->io.ud, WD_R_MSG, &st);
  wd_buf_put_str(b, a->pid, a->pidlen);
  /* Who sends: the broker decides again on this actor and scope. */
  wd_buf_put_str(b, a->sec_actor, a->sec_actorlen);
  wd_buf_put_cstr(b, a->sec_scope);
  wd_buf_put_cstr(b, a->e->id);
  wd_buf_put_str(b, o->key, o->keylen);
  wd_buf_put_str(b, topic, tl);
  wd__host_put_payload(h, b, p, n); /* the encoded send, uncopied */
  if (h->io.end(h->io.ud, st) < 0) return WD_ENOMEM;
  o->msgs++;
  out_set(h, o, o->bytes + WD_FLOW_COST(n));
  return 0;
}

int wd__flow_remote(wd_actor *a, const char *dest, size_t dl,
                    const char *topic, size_t tl, const uint8_t *p, size_t n,
                    wd_swait *w, struct task *t, uint64_t *limit) {
  wd_host *h = a->h;
  int peer = peer_of(h, dest, dl);
  uint32_t hv;
  wd_out *o;
  wd_msg *m;
  int r;
  if (peer < 0 || (uint32_t)peer == h->self) return WD_FLOW_REQ;
  if (wd__flow_dead_has(h, dest, dl)) return WD_ENOTFOUND;
  if (n > h->peers[peer].max_payload) {
    *limit = h->peers[peer].max_payload;
    return WD_ETOOBIG;
  }
  hv = hash_str(dest, dl);
  if ((o = out_find(h, dest, dl, hv)) == NULL) {
    if ((o = wd_calloc(1, sizeof *o)) == NULL) return WD_ENOMEM;
    o->hash = hv;
    o->peer = peer;
    o->keylen = dl;
    memcpy(o->key, dest, dl);
    o->next = h->out[hv % WD_OUT_BUCKETS];
    h->out[hv % WD_OUT_BUCKETS] = o;
    h->nout++;
  }
  if (o->wq.head == NULL && out_ok(h, o, n)) {
    r = msg_out(a, o, topic, tl, p, n);
    out_settle(h, o);
    return r;
  }
  if (w == NULL) {
    out_settle(h, o);
    return WD_EMBOXFULL;
  }
  if ((m = wd_msg_new(a->pid, a->pidlen, topic, tl, p, n)) == NULL) {
    out_settle(h, o);
    return WD_ENOMEM;
  }
  wait_start(a, w, t, &o->wq, m, o);
  if (peer_full(h, o, n)) peer_block(h, o);
  return WD_FLOW_WAIT;
}

/* Send what waits for 'o' while its credit allows; if the peer's window
** is what stops it, it waits on the peer's list. */
static void out_pump(wd_host *h, wd_out *o) {
  wd_swait *w;
  while ((w = o->wq.head) != NULL && out_ok(h, o, w->m->plen)) {
    wd_msg *m = w->m;
    int r = msg_out(w->a, o, m->topic, m->topiclen, m->payload, m->plen);
    wait_done(w, r);
  }
  if (w != NULL && peer_full(h, o, w->m->plen)) peer_block(h, o);
}

/* Room in peer 'i''s window: the destinations waiting for it go, in
** turn, while it lasts. */
static void peer_pump(wd_host *h, int i) {
  wd_peer *pe = &h->peers[i];
  wd_out *o;
  while ((o = pe->blocked) != NULL) {
    wd_swait *w = o->wq.head;
    peer_unblock(h, o);
    if (w == NULL) continue;
    if (peer_full(h, o, w->m->plen)) { /* still no room: first in line */
      peer_block(h, o);
      if (pe->blocked != o) { /* put it back at the front */
        peer_unblock(h, o);
        o->pnext = pe->blocked;
        o->pprev = &pe->blocked;
        if (pe->blocked != NULL) pe->blocked->pprev = &o->pnext;
        else pe->btail = &o->pnext;
        pe->blocked = o;
      }
      return;
    }
    out_pump(h, o);
    out_settle(h, o);
  }
}

/* Every waiter of 'o' fails with 'why' (NotFound, or Unavailable when
** the host went down); 'o' goes once settled. What is in flight to it
** stays counted until the receiving host gives it back (each message
** there is credited, dead: the broker counts it until then, so a host
** that forgot it here could send past what the broker allows it), unless
** that host went down ('gone'): then nothing comes back, and the broker
** forgot it too. */
static void out_dead(wd_host *h, wd_out *o, int why, int gone) {
  wd_swait *w;
  wd__flow_dead_add(h, o->key, o->keylen);
  while ((w = o->wq.head) != NULL) wait_done(w, why);
  if (gone) {
    o->msgs = 0;
    out_less(h, o, o->bytes);
  }
  out_settle(h, o);
}

/* CREDIT from the broker: str dest, u32 msgs, u64 bytes, u8 flag. */
int wd_host_on_credit(wd_host *h, wd_cur *c) {
  const char *dest;
  size_t dl;
  uint32_t msgs;
  uint64_t bytes;
  uint8_t flag;
  wd_out *o;
  int peer;
  if (wd_cur_str(c, &dest, &dl) || wd_cur_u32(c, &msgs) ||
      wd_cur_u64(c, &bytes) || wd_cur_u8(c, &flag) || wd_cur_left(c) != 0)
    return WD_EBADFRAME;
  if (flag & WD_CREDIT_DEAD) wd__flow_dead_add(h, dest, dl);
  if ((o = out_find(h, dest, dl, hash_str(dest, dl))) == NULL) return 0;
  peer = o->peer;
  o->msgs = msgs > o->msgs ? 0 : o->msgs - msgs;
  out_less(h, o, bytes);
  if (flag & WD_CREDIT_DEAD) {
    out_dead(h, o, WD_ENOTFOUND, 0);
  } else {
    out_pump(h, o);
    out_settle(h, o);
  }
  peer_pump(h, peer);
  return 0;
}

/* GONE from the broker: str pid, or a host id (every PID of that host
** incarnation is dead). */
int wd_host_on_gone(wd_host *h, wd_cur *c) {
  const char *s, *hid;
  size_t n, hl;
  uint64_t counter;
  wd_out *o;
  int i;
  if (wd_cur_str(c, &s, &n) || wd_cur_left(c) != 0 || n == 0)
    return WD_EBADFRAME;
  if (wd_pid_parse(s, n, &hid, &hl, &counter) == 0) {
    wd__flow_dead_add(h, s, n);
    if ((o = out_find(h, s, n, hash_str(s, n))) != NULL) {
      int peer = o->peer;
      out_dead(h, o, WD_ENOTFOUND, 0);
      peer_pump(h, peer);
    }
    return 0;
  }
  for (i = 0; i < WD_OUT_BUCKETS; i++) {
    wd_out *next;
    for (o = h->out[i]; o != NULL; o = next) {
      next = o->next;
      if (wd_pid_parse(o->key, o->keylen, &hid, &hl, &counter) == 0 &&
          hl == n && memcmp(hid, s, n) == 0)
        out_dead(h, o, WD_EUNAVAIL, 1);
    }
  }
  return 0;
}

/* }====== */

/* {====== Credit back to the senders ====== */

/* Return credit for one message of host 'peer' to 'dest' of 'n' payload
** bytes, WD_FLOW_COST(n) (flushed at the next turn, wd__flow_flush,
** merged with the others to the same place). */
static void credit(wd_host *h, uint32_t peer, const char *dest, size_t dl,
                   size_t n, uint8_t flag) {
  uint64_t bytes = WD_FLOW_COST(n);
  int i;
  wd_cred *x;
  if (h->stopping) return; /* the broker tells the others (GONE) */
  if (peer >= h->npeers || peer == h->self || dl >= WD_PID_MAX) return;
  for (i = h->ncred - 1; i >= 0 && i >= h->ncred - 8; i--) {
    x = &h->cred[i];
    if (x->peer == peer && x->flag == flag && x->pidlen == dl &&
        memcmp(x->pid, dest, dl) == 0) {
      x->msgs++;
      x->bytes += bytes;
      return;
    }
  }
  if (h->ncred == WD_CRED_MAX) wd__flow_flush(h);
  x = &h->cred[h->ncred++];
  x->peer = peer;
  x->flag = flag;
  x->msgs = 1;
  x->bytes = bytes;
  x->pidlen = dl;
  memcpy(x->pid, dest, dl);
  wd__sched_wake(h);
}

void wd__flow_flush(wd_host *h) {
  int i;
  for (i = 0; i < h->ncred; i++) {
    const wd_cred *x = &h->cred[i];
    size_t st;
    wd_buf *b = h->io.begin(h->io.ud, WD_R_CREDIT, &st);
    wd_buf_put_u32(b, x->peer);
    wd_buf_put_str(b, x->pid, x->pidlen);
    wd_buf_put_u32(b, x->msgs);
    wd_buf_put_u64(b, x->bytes);
    wd_buf_put_u8(b, x->flag);
    (void)h->io.end(h->io.ud, st);
  }
  h->ncred = 0;
}

/* }====== */

/* {====== Receiving ====== */

/* Actors with something waiting for room: any message taken on the host
** may free the bytes they wait for. */
static void blocked_add(wd_actor *a) {
  wd_host *h = a->h;
  if (a->bprev != NULL) return;
  if (h->btail == NULL) h->btail = &h->blocked;
  a->bnext = NULL;
  a->bprev = h->btail;
  *h->btail = a;
  h->btail = &a->bnext;
}

static void blocked_del(wd_actor *a) {
  if (a->bprev == NULL) return;
  *a->bprev = a->bnext;
  if (a->bnext != NULL) a->bnext->bprev = a->bprev;
  else a->h->btail = a->bprev;
  a->bprev = NULL;
  a->bnext = NULL;
}

static void park_push(wd_actor *a, wd_park *p) {
  p->next = NULL;
  if (a->park_tail) a->park_tail->next = p;
  else a->park_head = p;
  a->park_tail = p;
  blocked_add(a);
}

/* MSG from the broker: str from, str dest, str topic, bytes payload. */
int wd_host_on_msg(wd_host *h, wd_cur *c) {
  const char *from, *dest, *topic, *hid;
  char d[WD_PID_MAX];
  size_t fl, dl, tl, hl, n;
  const uint8_t *p;
  uint64_t counter;
  wd_actor *a;
  wd_msg *m;
  int peer;
  if (wd_cur_str(c, &from, &fl) || wd_cur_str(c, &dest, &dl) ||
      wd_cur_str(c, &topic, &tl))
    return WD_EBADFRAME;
  n = wd_cur_left(c);
  if (wd_cur_bytes(c, n, &p) < 0) return WD_EBADFRAME;
  if (dl >= WD_PID_MAX || wd_pid_parse(dest, dl, &hid, &hl, &counter) < 0 ||
      hl != h->idlen || memcmp(hid, h->id, hl) != 0 ||
      (peer = peer_of(h, from, fl)) < 0 || tl == 0 || tl > WD_TOPIC_MAX)
    return WD_EBADFRAME;
  a = wd__actor_find(h, counter);
  /* The broker checked the receiver's max_payload: over it is a lie. */
  if (n > h->lim.max_payload) return WD_EBADFRAME;
  if (a == NULL || a->state != A_ALIVE) {
    credit(h, (uint32_t)peer, dest, dl, n, WD_CREDIT_DEAD);
    return 0;
  }
  a->talkers |= 1ull << (peer < 63 ? peer : 63);
  /* A big one is made in the record's buffer, uncopied: its header goes
  ** over the record's bytes before 'p', 'dest' among them, so the credit
  ** names a copy of it (shorter than WD_PID_MAX, checked above). */
  memcpy(d, dest, dl);
  if ((m = wd__host_msg_new(h, from, fl, topic, tl, p, n)) == NULL)
    return WD_ENOMEM;
  if (a->park_head == NULL && wd__actor_deliver(a, m) == 0) {
    credit(h, (uint32_t)peer, d, dl, n, 0);
    return 0;
  }
  {
    wd_park *k = wd_malloc(sizeof *k);
    if (k == NULL) {
      wd_msg_free(m);
      return WD_ENOMEM;
    }
    k->m = m;
    k->peer = (uint32_t)peer;
    park_push(a, k);
  }
  return 0;
}

/* Move what waits for room into the mailbox of 'a', in order: messages
** from other hosts first, then this host's senders. */
static void room(wd_actor *a) {
  wd_park *k;
  wd_swait *w;
  while ((k = a->park_head) != NULL) {
    if (wd__actor_deliver(a, k->m) < 0) return;
    a->park_head = k->next;
    if (a->park_head == NULL) a->park_tail = NULL;
    credit(a->h, k->peer, a->pid, a->pidlen, k->m->plen, 0);
    wd_free(k);
  }
  while ((w = a->sendq.head) != NULL) {
    wd_msg *m = w->m;
    if (wd__actor_deliver(a, m) < 0) return;
    w->m = NULL;
    wait_done(w, 0);
  }
  blocked_del(a);
}

void wd__flow_room(wd_actor *a) {
  wd_host *h = a->h;
  if (a->bprev != NULL) room(a);
  /* The host's bytes may be what the others wait for: try one, in turn
  ** (still blocked, it goes to the end of the list). */
  if (h->blocked != NULL && h->blocked != a) {
    wd_actor *b = h->blocked;
    blocked_del(b);
    room(b);
    if (b->park_head != NULL || b->sendq.head != NULL) blocked_add(b);
  }
}

/* room() takes 'b' off the list only once nothing of it waits, and
** touches no other actor's place in it. */
void wd__flow_freed(wd_host *h) {
  wd_actor *b, *next;
  if (h->stopping) return;
  for (b = h->blocked; b != NULL; b = next) {
    next = b->bnext;
    room(b);
  }
}

/* An event from 'from' (its exit, a link going down, a cancel, an exec's
** result) is about to reach 'a': what 'from' sent it before, accepted
** and waiting here for room, goes into the mailbox first, past its
** bounds as the event does, so that the event does not overtake it (a
** process's messages come before its lifecycle operations). */
void wd__flow_before_event(wd_actor *a, const char *from, size_t fl) {
  wd_park **pp = &a->park_head, *k, *last = NULL;
  while ((k = *pp) != NULL) {
    wd_msg *m = k->m;
    if (m->fromlen != fl || memcmp(m->from, from, fl) != 0) {
      last = k;
      pp = &k->next;
      continue;
    }
    *pp = k->next;
    a->nqueued++;
    (void)wd__actor_route(a, m, 1);
    wd__hstat_in(a);
    credit(a->h, k->peer, a->pid, a->pidlen, m->plen, 0);
    wd_free(k);
  }
  a->park_tail = last;
  if (a->park_head == NULL && a->sendq.head == NULL) blocked_del(a);
}

int wd__flow_local(wd_actor *from, wd_actor *to, wd_msg *m, wd_swait *w,
                   struct task *t) {
  int r;
  if (to->sendq.head == NULL && to->park_head == NULL &&
      (r = wd__actor_deliver(to, m)) != WD_EMBOXFULL)
    return r;
  if (to->state != A_ALIVE) return WD_ENOACTOR;
  if (w == NULL) return WD_EMBOXFULL;
  wait_start(from, w, t, &to->sendq, m, NULL);
  blocked_add(to);
  return WD_FLOW_WAIT;
}

/* 'a' leaves the table: who waits to send to it fails (NotFound), what
** other hosts sent it goes back as dead credit, the hosts that sent it
** anything hear that it died (DIED, before its exit's events). */
void wd__flow_leave(wd_actor *a) {
  wd_host *h = a->h;
  wd_park *k;
  wd_swait *w;
  while ((k = a->park_head) != NULL) {
    a->park_head = k->next;
    credit(h, k->peer, a->pid, a->pidlen, k->m->plen, WD_CREDIT_DEAD);
    wd_msg_free(k->m);
    wd_free(k);
  }
  a->park_tail = NULL;
  while ((w = a->sendq.head) != NULL) wait_done(w, WD_ENOTFOUND);
  blocked_del(a);
  if (a->talkers != 0 && !h->stopping) {
    size_t st;
    wd_buf *b = h->io.begin(h->io.ud, WD_R_DIED, &st);
    wd_buf_put_str(b, a->pid, a->pidlen);
    wd_buf_put_u64(b, a->talkers);
    (void)h->io.end(h->io.ud, st);
    a->talkers = 0;
  }
}

/* 'a' is being freed: its own sends stop waiting, their messages go. */
void wd__flow_free(wd_actor *a) {
  wd_host *h = a->h;
  while (a->swaits != NULL) {
    wd_swait *w = a->swaits;
    wd_out *o = w->out;
    wait_end(w, WD_ENOACTOR);
    if (o != NULL) out_settle(h, o);
  }
}

void wd__flow_host_free(wd_host *h) {
  int i;
  for (i = 0; i < WD_OUT_BUCKETS; i++)
    while (h->out[i] != NULL) {
      wd_out *o = h->out[i];
      h->out[i] = o->next;
      wd_free(o);
    }
  for (i = 0; i < WD_DEAD_MAX; i++) wd_free(h->dead_ring[i]);
  for (i = 0; i < WD_NM_MAX; i++) wd_free(h->nm_ring[i]);
  for (i = 0; i < (int)h->npeers; i++) wd_free(h->peers[i].id);
  wd_free(h->peers);
}

/* }====== */
