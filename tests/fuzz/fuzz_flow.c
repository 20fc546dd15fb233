/*
** tests/fuzz/fuzz_flow.c
** libFuzzer target for the host side of messages across hosts without a
** round trip (runtime/flow.c; wd_proto.h MESH .. UNNAME): a host "fz"
** with a fake VM and no Lua (as tests/unit/test_core.c drives the actor
** core), given INIT (two entries, a small mailbox) and a MESH of three
** hosts (itself one of them, at a place the input picks), with a few
** actors. The rest of the input is a program of operations: the five
** records from the broker (MSG, CREDIT, GONE, UNNAME, and MESH again),
** with raw bodies or bodies built mostly valid from the input (PIDs of
** the three hosts with small counters, the live actors' PIDs, valid
** topics, small or lying credits), interleaved with what the VM would
** do: sends to other hosts (wd__flow_remote) and on this host
** (wd__flow_local), with a wait (a static wd_swait per task) or
** without, messages taken (wd__flow_taken), waits timed out
** (wd__flow_cancel), names looked up (wd__flow_name_put/get), actors
** that end, spawn or are killed, credit flushed and loop turns. A record
** the host refuses ends the program, as it ends the host (the link
** fails). Then the host is stopped and freed: ASan's leak check sees
** what it left.
**
** Checked after every operation, or as the host writes a record: every
** record the host writes is well formed (MSG from one of its processes
** to another host's PID, CREDIT for one of its PIDs to another host,
** DIED, ...); a task's wd_swait is linked (in a queue and on its
** sender's list) iff its status is WD_SW_WAIT, and the VM hears that a
** send is over only when it is; every waiter of a credit entry points
** back at it; no credit entry is kept with nothing in flight and nothing
** waiting, past its window, or holding more than was ever sent (an
** underflow would show there); every actor with something waiting for
** room is on the host's blocked list and every actor on it is alive;
** nothing that fits waits for room while nothing is queued on the host
** (no take would ever let it in; a process's own bytes count); every
** message accepted from another host is credited back exactly once
** (flushed, pending or still parked: msgs and bytes); one sender's
** messages to one destination leave (MSG) and arrive (local) in the
** order they were sent; a dead PID stays
** known; a name released (UNNAME) is forgotten and a name kept gives
** its PID; and every MSG the host writes passes the broker's test of its
** credit (sandbox/broker_msg.c 'past_credit') on what the broker would
** count: messages sent less the credit it passed on, per destination and
** per host, forgotten for a host that went down (GONE with its id); as
** long as every credit fed is one the broker would pass on, at most what
** it counts (a larger one, a lie the broker never passes, ends that
** check for the run); bytes are counted as the windows count them
** (WD_FLOW_COST), each destination's first WD_FLOW_DEST_OWN in the
** window of own shares, the rest in the shared one (wd_flow_peer_ok).
** Sources: run_short.sh, which builds flow.c with a window of 4
** messages and 256 bytes (a message counting 16 bytes past its payload,
** a destination's own share 48 bytes: two of the smallest) so that waits
** for credit come within reach, and each process's own mailbox bytes at
** 160 (WD_MAILBOX_OWN, about two messages) so that waits for the host's
** bytes do.
** FUZZ_FLOW_TRACE=1 prints the operations and records of a run.
** Runs in: host (a host in the fuzzer's process).
**
** Build and run (from the repository root):
**   clang -g -O1 -fsanitize=fuzzer,address,undefined -D_GNU_SOURCE \
**     -Iinclude -Iruntime -DWD_FLOW_WIN_MSGS=4 -DWD_FLOW_WIN_BYTES=256 \
**     -DWD_FLOW_PEER_MIN=64 -DWD_FLOW_MSG_COST=16 -DWD_FLOW_DEST_OWN=48 \
**     -DWD_MAILBOX_OWN=160 \
**     tests/fuzz/fuzz_flow.c runtime/[a-z]*.c policy/[a-z]*.c \
**     -luv -lyaml -lm -o fuzz_flow
**   ./fuzz_flow -max_total_time=60 tests/fuzz/corpus/flow
*/
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <uv.h>

#include "host_int.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(x)                                                         \
  do {                                                                   \
    if (!(x)) {                                                          \
      fprintf(stderr, "fuzz_flow.c:%d: check failed: %s\n", __LINE__, #x); \
      abort();                                                           \
    }                                                                    \
  } while (0)

#define NACT 6   /* actor slots */
#define NTASK 2  /* tasks per actor that may wait in a send */
#define NPEER 3
#define NORD 128 /* (sender, destination) pairs whose order is checked */
#define HOST_MAXP 256 /* the host's own max_payload */
#define NBK 1024     /* destinations the broker's count follows */

/* {====== The input ====== */

typedef struct input {
  const uint8_t *p;
  size_t n;
} input;

static uint8_t byte(input *in) {
  uint8_t b;
  if (in->n == 0) return 0;
  b = *in->p++;
  in->n--;
  return b;
}

static uint32_t u32in(input *in) {
  uint32_t v = byte(in);
  v = v << 8 | byte(in);
  v = v << 8 | byte(in);
  return v << 8 | byte(in);
}

/* Up to 'max' raw bytes of the input. */
static const uint8_t *take(input *in, size_t max, size_t *n) {
  const uint8_t *p = in->p;
  size_t k = byte(in) % (max + 1);
  if (k > in->n) k = in->n;
  in->p += k;
  in->n -= k;
  *n = k;
  return p;
}

/* }====== */

/* {====== The run's state ====== */

static uv_loop_t loop;
static int trace; /* FUZZ_FLOW_TRACE set: the records and operations */
static const char *const hid[NPEER] = {"fz", "p1", "p2"};
static const char *const topics[] = {"t", "u", "news", "@events", "x:y"};
static const char *const names[] = {"svc", "db", "log", "n4"};

static struct {
  wd_host *h;
  wd_buf out;        /* one record at a time, checked at io_end */
  uint32_t self;     /* our place in the MESH */
  uint64_t slot[NACT];     /* counter of the actor in each slot, 0: none */
  wd_swait sw[NACT][NTASK];
  char tok[NACT][NTASK];   /* the tasks: only their addresses matter */
  int done[NACT][NTASK];   /* send_done told this task its send is over */
  uint64_t in_msgs, in_bytes;   /* accepted from other hosts */
  uint64_t cr_msgs, cr_bytes;   /* credited back in CREDIT records */
  uint64_t out_msgs, out_bytes; /* sent to other hosts (MSG records) */
  unsigned nm_inserts;          /* names kept anew: ring places taken */
  uint32_t seq;
  struct ord {
    uint64_t key;
    uint32_t seq;
  } ord[NORD];
  int nord;
  char nm_pid[4][WD_PID_MAX]; /* the PID each name was last kept with */
  size_t nm_len[4];           /* 0: not kept, or released */
  int in_record;
  /* The broker's count of what this host has in flight. */
  struct bk {
    char pid[WD_PID_MAX];
    size_t len;
    uint64_t msgs, bytes;
  } bk[NBK];
  int nbk;
  uint64_t bk_past[NPEER]; /* bytes, all destinations of a host together,
                              past their own shares (WD_FLOW_PAST) */
  uint64_t bk_own[NPEER];  /* ... and within them (WD_FLOW_OWN) */
  int bk_off;              /* a credit the broker would not pass on came */
} st;

static uint64_t fnv(uint64_t h, const void *p, size_t n) {
  const uint8_t *s = p;
  size_t i;
  for (i = 0; i < n; i++) h = (h ^ s[i]) * 1099511628211ull;
  return h;
}

/* One sender's messages to one destination keep their order. */
static void order_check(const char *from, size_t fl, const char *to,
                        size_t tl, uint32_t seq) {
  uint64_t k = fnv(fnv(14695981039346656037ull, from, fl), "|", 1);
  int i;
  k = fnv(k, to, tl);
  for (i = 0; i < st.nord; i++)
    if (st.ord[i].key == k) {
      CHECK(seq > st.ord[i].seq);
      st.ord[i].seq = seq;
      return;
    }
  if (st.nord < NORD) {
    st.ord[st.nord].key = k;
    st.ord[st.nord++].seq = seq;
  }
}

/* Our payloads: "SQ" and a sequence number, then filler. */
static size_t payload(uint8_t *buf, size_t n) {
  uint32_t s = ++st.seq;
  size_t i;
  if (n < 6) n = 6;
  buf[0] = 'S';
  buf[1] = 'Q';
  memcpy(buf + 2, &s, 4);
  for (i = 6; i < n; i++) buf[i] = (uint8_t)i;
  return n;
}

static int our_payload(const uint8_t *p, size_t n, uint32_t *seq) {
  if (n < 6 || p[0] != 'S' || p[1] != 'Q') return 0;
  memcpy(seq, p + 2, 4);
  return 1;
}

/* The host of PID 's' among the MESH, or -1. */
static int mesh_of(const char *s, size_t n) {
  const char *h;
  size_t hl;
  uint64_t c;
  uint32_t i;
  if (wd_pid_parse(s, n, &h, &hl, &c) < 0) return -1;
  for (i = 0; i < st.h->npeers; i++)
    if (st.h->peers[i].id != NULL && st.h->peers[i].idlen == hl &&
        memcmp(st.h->peers[i].id, h, hl) == 0)
      return (int)i;
  return -1;
}

static wd_actor *actor_at(int i) {
  wd_actor *a;
  if (st.slot[i] == 0) return NULL;
  a = wd__actor_find(st.h, st.slot[i]);
  return a != NULL && a->state == A_ALIVE ? a : NULL;
}

/* {------ The broker's count ------ */

static struct bk *bk_find(const char *pid, size_t n) {
  int i;
  for (i = 0; i < st.nbk; i++)
    if (st.bk[i].len == n && memcmp(st.bk[i].pid, pid, n) == 0)
      return &st.bk[i];
  return NULL;
}

/* 'x' (of host 'peer') counts 'bytes' in flight: the host's counts
** follow, as the broker's fl_set. */
static void bk_set(struct bk *x, int peer, uint64_t bytes) {
  st.bk_past[peer] += WD_FLOW_PAST(bytes) - WD_FLOW_PAST(x->bytes);
  st.bk_own[peer] += WD_FLOW_OWN(bytes) - WD_FLOW_OWN(x->bytes);
  x->bytes = bytes;
}

static void bk_drop(struct bk *x, int peer) {
  bk_set(x, peer, 0); /* written off, as the host's out_free */
  *x = st.bk[--st.nbk];
}

/* The host wrote a MSG of 'pl' payload bytes to 'dest' of host 'peer':
** the broker would let it through (an honest host is never killed). */
static void bk_msg(const char *dest, size_t dl, int peer, size_t pl) {
  uint64_t win = st.h->peers[peer].win;
  uint64_t n = WD_FLOW_COST(pl);
  struct bk *x;
  if (st.bk_off) return;
  if ((x = bk_find(dest, dl)) == NULL) {
    if (st.nbk == NBK) {
      st.bk_off = 1;
      return;
    }
    x = &st.bk[st.nbk++];
    memcpy(x->pid, dest, dl);
    x->len = dl;
    x->msgs = x->bytes = 0;
  }
  CHECK(x->msgs < WD_FLOW_WIN_MSGS);
  CHECK(x->msgs == 0 || x->bytes + n <= WD_FLOW_WIN_BYTES);
  CHECK(wd_flow_peer_ok(win, st.bk_past[peer], st.bk_own[peer], x->bytes, n));
  x->msgs++;
  bk_set(x, peer, x->bytes + n);
  /* What the own shares hold stays within their window (the broker's
  ** test relies on it, and its queue's bound, SECURITY.md V15). */
  CHECK(win == 0 || st.bk_own[peer] <= win);
}

/* A CREDIT or a GONE record ('b') for the host: count it as the broker
** would have, or stop counting. */
static void bk_record(uint8_t type, const wd_buf *b) {
  const char *s, *h;
  size_t n, hl;
  uint32_t msgs;
  uint64_t bytes, c;
  struct bk *x;
  wd_cur cur;
  int i, peer;
  wd_cur_init(&cur, b->p, b->len);
  if (st.bk_off || wd_cur_str(&cur, &s, &n) < 0) return;
  if (type == WD_R_GONE) {
    if (wd_pid_parse(s, n, &h, &hl, &c) == 0) return; /* a process */
    for (peer = 0; peer < (int)st.h->npeers; peer++)
      if (st.h->peers[peer].idlen == n &&
          memcmp(st.h->peers[peer].id, s, n) == 0)
        break;
    if (peer == (int)st.h->npeers || (uint32_t)peer == st.self) return;
    for (i = st.nbk - 1; i >= 0; i--)
      if (mesh_of(st.bk[i].pid, st.bk[i].len) == peer) bk_drop(&st.bk[i], peer);
    st.bk_past[peer] = st.bk_own[peer] = 0;
    return;
  }
  if (wd_cur_u32(&cur, &msgs) < 0 || wd_cur_u64(&cur, &bytes) < 0) return;
  x = bk_find(s, n);
  if (msgs == 0 && bytes == 0) return;
  if (x == NULL || msgs > x->msgs || bytes > x->bytes) {
    st.bk_off = 1; /* more than the broker counts: it never passes that */
    return;
  }
  peer = mesh_of(s, n);
  x->msgs -= msgs;
  bk_set(x, peer, x->bytes - bytes);
  if (x->msgs == 0) bk_drop(x, peer);
}

/* }------ */

/* }====== */

/* {====== The fake VM ====== */

static int fake_boot(wd_actor *a, const uint8_t *args, size_t alen, char *err,
                     size_t errlen) {
  (void)a;
  (void)args;
  (void)alen;
  (void)err;
  (void)errlen;
  return 0;
}

/* As lrun.c's vm_run: a killed actor ends before anything of it runs. */
static int fake_run(wd_actor *a) {
  if (a->killed) {
    wd__actor_end_error(a, "Internal", a->kill_msg);
    return WD_RUN_ENDED;
  }
  return WD_RUN_IDLE;
}

static void fake_notify(struct chan *ch) {
  (void)ch;
}

static void fake_release(wd_actor *a, int later) {
  (void)later;
  wd__actor_reclaim(a);
}

static void fake_exec_result(wd_actor *a, const char *from, size_t fl,
                             const uint8_t *p, size_t n) {
  (void)a;
  (void)from;
  (void)fl;
  (void)p;
  (void)n;
}

static void fake_reply(wd_actor *a, struct task *t, uint32_t req,
                       int32_t status, const char *s, size_t n) {
  (void)a;
  (void)t;
  (void)req;
  (void)status;
  (void)s;
  (void)n;
}

static int fake_idle(wd_host *h, uint64_t budget_ns) {
  (void)h;
  (void)budget_ns;
  return 0;
}

static unsigned long fake_ticks(void) {
  return 0;
}

static void fake_configure(wd_host *h) {
  (void)h;
}

static void fake_host_free(wd_host *h) {
  (void)h;
}

/* A send is over: only a task of this actor that waited, and is no more. */
static void fake_send_done(wd_actor *a, struct task *t) {
  int i, j;
  for (i = 0; i < NACT; i++)
    for (j = 0; j < NTASK; j++)
      if (t == (struct task *)(void *)&st.tok[i][j]) {
        wd_swait *w = &st.sw[i][j];
        CHECK(st.slot[i] == a->counter);
        CHECK(a->state == A_ALIVE);
        CHECK(w->a == a && w->t == t);
        CHECK(w->status != WD_SW_WAIT && w->q == NULL && w->m == NULL);
        CHECK(w->aprev == NULL);
        CHECK(!st.done[i][j]);
        st.done[i][j] = 1;
        return;
      }
  CHECK(!"send_done for a task that never waited");
}

static const wd_vm fake_vm = {
  .actor_size = sizeof(wd_actor),
  .boot = fake_boot,
  .run = fake_run,
  .notify = fake_notify,
  .release = fake_release,
  .exec_result = fake_exec_result,
  .reply = fake_reply,
  .idle = fake_idle,
  .ticks = fake_ticks,
  .configure = fake_configure,
  .host_free = fake_host_free,
  .send_done = fake_send_done,
};

/* }====== */

/* {====== The fake io: each record is checked as it ends ====== */

static wd_buf *io_begin(void *ud, uint8_t rtype, size_t *start) {
  (void)ud;
  CHECK(!st.in_record); /* records do not nest */
  st.in_record = 1;
  wd_buf_reset(&st.out);
  *start = 0;
  wd_buf_put_u8(&st.out, rtype);
  wd_buf_put_u32(&st.out, 0);
  return &st.out;
}

/* 'pid' is a PID of this host. */
static void own_pid(const char *s, size_t n) {
  const char *h;
  size_t hl;
  uint64_t c;
  CHECK(wd_pid_parse(s, n, &h, &hl, &c) == 0);
  CHECK(hl == 2 && memcmp(h, "fz", 2) == 0);
}

static void check_record(uint8_t t, wd_cur *c) {
  const char *s, *dest, *from;
  size_t n, dl, fl;
  const uint8_t *p;
  uint32_t u, peer, msgs;
  uint64_t v, bytes;
  uint8_t flag;
  uint32_t seq;
  int di;
  switch (t) {
    case WD_R_MSG: /* from, actor, scope, entry, dest, topic, payload */
      CHECK(wd_cur_str(c, &from, &fl) == 0);
      own_pid(from, fl);
      CHECK(wd_cur_str(c, &s, &n) == 0);
      CHECK(wd_cur_str(c, &s, &n) == 0);
      CHECK(wd_cur_str(c, &s, &n) == 0);
      CHECK(n == 1 && (s[0] == 'e' || s[0] == 'f'));
      CHECK(wd_cur_str(c, &dest, &dl) == 0);
      di = mesh_of(dest, dl);
      CHECK(di >= 0 && (uint32_t)di != st.self);
      CHECK(wd_cur_str(c, &s, &n) == 0);
      CHECK(n >= 1 && n <= WD_TOPIC_MAX && s[0] != '@');
      n = wd_cur_left(c);
      CHECK(wd_cur_bytes(c, n, &p) == 0);
      CHECK(n <= st.h->peers[di].max_payload);
      CHECK(our_payload(p, n, &seq));
      order_check(from, fl, dest, dl, seq);
      bk_msg(dest, dl, di, n);
      st.out_msgs++;
      st.out_bytes += WD_FLOW_COST(n);
      break;
    case WD_R_CREDIT: /* u32 peer, str dest, u32 msgs, u64 bytes, u8 flag */
      CHECK(wd_cur_u32(c, &peer) == 0);
      CHECK(peer < st.h->npeers && peer != st.self);
      CHECK(wd_cur_str(c, &dest, &dl) == 0);
      own_pid(dest, dl);
      CHECK(wd_cur_u32(c, &msgs) == 0 && msgs >= 1);
      CHECK(wd_cur_u64(c, &bytes) == 0);
      CHECK(wd_cur_u8(c, &flag) == 0 && (flag & ~WD_CREDIT_DEAD) == 0);
      CHECK(wd_cur_left(c) == 0);
      st.cr_msgs += msgs;
      st.cr_bytes += bytes;
      break;
    case WD_R_DIED: /* str pid, u64 peers */
      CHECK(wd_cur_str(c, &s, &n) == 0);
      own_pid(s, n);
      CHECK(wd_cur_u64(c, &v) == 0 && v != 0);
      CHECK(wd_cur_left(c) == 0);
      break;
    case WD_R_EXIT: /* u64 counter, u8 flags, i32 status, str, bytes */
      CHECK(wd_cur_u64(c, &v) == 0 && wd_cur_u8(c, &flag) == 0 &&
            wd_cur_u32(c, &u) == 0 && wd_cur_str(c, &s, &n) == 0);
      break;
    case WD_R_EVENT: /* u8 kind, str from, str to, u64, bytes */
      CHECK(wd_cur_u8(c, &flag) == 0 && wd_cur_str(c, &s, &n) == 0 &&
            wd_cur_str(c, &s, &n) == 0 && wd_cur_u64(c, &v) == 0);
      break;
    case WD_R_PIDREQ:
      CHECK(wd_cur_left(c) == 0);
      break;
    case WD_R_LOG:
    case WD_R_PRINT:
      CHECK(wd_cur_str(c, &s, &n) == 0 && wd_cur_left(c) == 0);
      break;
    case WD_R_REQ:
    case WD_R_REPLY:
      break;
    default:
      CHECK(!"a record a host never writes");
  }
}

static int io_end(void *ud, size_t start) {
  wd_cur c;
  uint8_t t;
  uint32_t len;
  (void)ud;
  CHECK(st.in_record && start == 0);
  st.in_record = 0;
  CHECK(st.out.err == 0);
  wd_buf_patch_u32(&st.out, 1, (uint32_t)(st.out.len - 5));
  wd_cur_init(&c, st.out.p, st.out.len);
  CHECK(wd_cur_u8(&c, &t) == 0 && wd_cur_u32(&c, &len) == 0);
  CHECK(len == wd_cur_left(&c));
  check_record(t, &c);
  return 0;
}

static void io_empty(void *ud) {
  (void)ud;
}

/* }====== */

/* {====== Invariants ====== */

static void check_swq(const wd_swq *q, const wd_out *o) {
  const wd_swait *w, *prev = NULL;
  for (w = q->head; w != NULL; prev = w, w = w->next) {
    CHECK(w->q == q && w->prev == prev);
    CHECK(w->status == WD_SW_WAIT && w->m != NULL && w->out == o);
    CHECK(w->aprev != NULL && *w->aprev == w);
    CHECK(w->a->state == A_ALIVE);
  }
  CHECK(q->tail == prev);
}

static void check_all(void) {
  wd_host *h = st.h;
  uint64_t parked_msgs = 0, parked_bytes = 0, pend_msgs = 0, pend_bytes = 0;
  size_t nout = 0;
  wd_actor *a, **pp;
  int i, j;
  CHECK(!st.in_record);
  /* The tasks' waits. */
  for (i = 0; i < NACT; i++)
    for (j = 0; j < NTASK; j++) {
      const wd_swait *w = &st.sw[i][j];
      int waiting = w->status == WD_SW_WAIT;
      CHECK(waiting == (w->q != NULL));
      CHECK(waiting == (w->aprev != NULL));
      CHECK(waiting == (w->m != NULL));
      if (waiting) {
        CHECK(actor_at(i) != NULL && w->a == actor_at(i));
        CHECK(!st.done[i][j]);
      }
    }
  /* Credit entries. */
  for (i = 0; i < WD_OUT_BUCKETS; i++) {
    const wd_out *o;
    for (o = h->out[i]; o != NULL; o = o->next) {
      nout++;
      CHECK(o->hash % WD_OUT_BUCKETS == (uint32_t)i);
      CHECK(o->msgs > 0 || o->wq.head != NULL); /* else freed */
      /* An underflow would show here: a lying peer may hand back fewer
      ** bytes than messages (its own loss), never more than was sent. */
      CHECK(o->msgs <= WD_FLOW_WIN_MSGS && o->msgs <= st.out_msgs);
      CHECK(o->bytes <= st.out_bytes);
      CHECK(mesh_of(o->key, o->keylen) >= 0);
      check_swq(&o->wq, o);
    }
  }
  CHECK(nout == h->nout);
  /* Peer windows: what is in flight to a peer is what its destinations
  ** have in flight; a destination whose next sender the peer's window
  ** stops, its own window allowing it, is on the peer's list (else
  ** nothing would wake it; one its own window stops is woken by its own
  ** credit, and listed then if the peer's window still stops it). */
  for (i = 0; i < (int)h->npeers; i++) {
    uint64_t past = 0, own = 0;
    const wd_out *o;
    int b;
    for (b = 0; b < WD_OUT_BUCKETS; b++)
      for (o = h->out[b]; o != NULL; o = o->next)
        if (o->peer == i) {
          const wd_peer *pe = &h->peers[i];
          past += WD_FLOW_PAST(o->bytes);
          own += WD_FLOW_OWN(o->bytes);
          uint64_t n =
              WD_FLOW_COST(o->wq.head != NULL ? o->wq.head->m->plen : 0);
          int own_ok = o->msgs < WD_FLOW_WIN_MSGS &&
                       (o->msgs == 0 || o->bytes + n <= WD_FLOW_WIN_BYTES);
          if (o->wq.head != NULL && own_ok &&
              !wd_flow_peer_ok(pe->win, pe->past, pe->own, o->bytes, n))
            CHECK(o->pprev != NULL);
        }
    CHECK(past == h->peers[i].past && own == h->peers[i].own);
  }
  /* Actors: their queues and the blocked list. */
  for (i = 0; i < HOST_BUCKETS; i++)
    for (a = h->buckets[i]; a != NULL; a = a->hnext) {
      const wd_park *k, *last = NULL;
      CHECK(a->state == A_ALIVE);
      for (k = a->park_head; k != NULL; last = k, k = k->next)
        if (k->peer != h->self) {
          parked_msgs++;
          parked_bytes += WD_FLOW_COST(k->m->plen);
        }
      CHECK(a->park_tail == last);
      check_swq(&a->sendq, NULL);
      if (a->park_head != NULL || a->sendq.head != NULL)
        CHECK(a->bprev != NULL);
      /* Nothing queued on the host: nothing can be taken to make room, so
      ** nothing may wait that fits (what an end freed was tried). */
      if (h->mq.count == 0 && a->park_head != NULL)
        CHECK(wd_msg_size(a->park_head->m) > h->mq.max_bytes + h->mq.floor);
      if (h->mq.count == 0 && a->sendq.head != NULL)
        CHECK(wd_msg_size(a->sendq.head->m) > h->mq.max_bytes + h->mq.floor);
    }
  for (pp = &h->blocked; (a = *pp) != NULL; pp = &a->bnext) {
    CHECK(a->bprev == pp);
    CHECK(a->state == A_ALIVE && wd__actor_find(h, a->counter) == a);
  }
  /* Every message accepted from another host is credited once. */
  for (i = 0; i < h->ncred; i++) {
    pend_msgs += h->cred[i].msgs;
    pend_bytes += h->cred[i].bytes;
  }
  CHECK(st.in_msgs == st.cr_msgs + pend_msgs + parked_msgs);
  CHECK(st.in_bytes == st.cr_bytes + pend_bytes + parked_bytes);
}

/* }====== */

/* {====== Setting up ====== */

static void put_entry(wd_buf *b, const char *id) {
  wd_buf_put_cstr(b, id);
  wd_buf_put_cstr(b, "@e.lua");
  wd_buf_put_cstr(b, "main");
  wd_buf_put_u8(b, 0); /* not a library */
  wd_buf_put_u32(b, 0);
  wd_buf_put_cstr(b, "");
}

static int host_open(input *in) {
  wd_host_io io;
  wd_buf b;
  wd_cur c;
  uint8_t k = byte(in);
  uint32_t i, order[NPEER] = {0, 1, 2};
  int r;
  memset(&io, 0, sizeof io);
  io.begin = io_begin;
  io.end = io_end;
  io.empty = io_empty;
  CHECK(wd_host_new(&loop, "fz", &io, &fake_vm, &st.h) == 0);
  wd_buf_init(&b, 0);
  wd_buf_put_u64(&b, 1u << 20);            /* memory */
  wd_buf_put_u64(&b, 1 + k % 4);           /* mailbox */
  wd_buf_put_u64(&b, HOST_MAXP);           /* max_payload */
  wd_buf_put_u64(&b, NACT);                /* max_processes */
  wd_buf_put_u64(&b, 10000000);            /* slice_ns */
  wd_buf_put_u64(&b, 0);                   /* cpu_ns */
  wd_buf_put_u64(&b, 0);                   /* spawn_rate */
  wd_buf_put_u64(&b, k & 4 ? 200 + (k >> 3) * 24u : 0); /* mailbox_bytes */
  wd_buf_put_u64(&b, 0);                   /* link_queue */
  wd_buf_put_u32(&b, 2);
  put_entry(&b, "e");
  put_entry(&b, "f");
  wd_buf_put_u8(&b, 0);  /* audit off */
  wd_buf_put_u32(&b, 0); /* no policies */
  wd_buf_put_u8(&b, 0);  /* no ceiling */
  wd_buf_put_u32(&b, 0);
  wd_buf_put_u32(&b, 0);
  wd_buf_put_u32(&b, 0);
  CHECK(b.err == 0);
  wd_cur_init(&c, b.p, b.len);
  CHECK(wd_host_init(st.h, &c) == 0);
  wd_host_add_pids(st.h, 1, 1u << 20);
  /* MESH: the three hosts in an order the input picks. */
  k = byte(in);
  if (k % 3 != 0) {
    order[0] = k % 3;
    order[k % 3] = 0;
  }
  if (k & 8) {
    uint32_t x = order[1];
    order[1] = order[2];
    order[2] = x;
  }
  wd_buf_reset(&b);
  wd_buf_put_u64(&b, 1000000000);
  for (i = 0; i < NPEER; i++)
    if (order[i] == 0) st.self = i;
  wd_buf_put_u32(&b, st.self);
  wd_buf_put_u32(&b, NPEER);
  for (i = 0; i < NPEER; i++) {
    wd_buf_put_cstr(&b, hid[order[i]]);
    wd_buf_put_u64(&b, order[i] == 0 ? HOST_MAXP : 8 + byte(in) % 120);
    /* link_queue: none, or a small one whose share binds (the window is
    ** built small, run_short.sh: WD_FLOW_PEER_MIN) */
    k = byte(in);
    wd_buf_put_u64(&b, k & 1 ? 0 : (uint64_t)(k >> 1) * 16);
  }
  CHECK(b.err == 0);
  wd_cur_init(&c, b.p, b.len);
  r = wd_host_mesh(st.h, &c);
  wd_buf_close(&b);
  CHECK(r == 0);
  return 0;
}

static void spawn_at(int i, const char *entry) {
  spawnopt o;
  char err[256];
  wd_actor *a = NULL;
  int j;
  if (actor_at(i) != NULL) return;
  for (j = 0; j < NTASK; j++) {
    CHECK(st.sw[i][j].status != WD_SW_WAIT);
    memset(&st.sw[i][j], 0, sizeof st.sw[i][j]);
    st.done[i][j] = 0;
  }
  memset(&o, 0, sizeof o);
  o.parent = "";
  o.actor = "";
  o.scope = "";
  o.args = (const uint8_t *)"i";
  o.alen = 1;
  if (wd__actor_spawn(st.h, wd__host_entry(st.h, entry), &o, &a, err,
                      sizeof err) == 0)
    st.slot[i] = a->counter;
  else
    st.slot[i] = 0;
  if (trace) fprintf(stderr, "spawn %d: %s\n", i, st.slot[i] ? "ok" : err);
}

/* }====== */

/* {====== Records from the broker ====== */

/* A PID of host 'host' (an index into hid[]) with a small counter, one of
** our actors' when 'host' is us and 'b' says so. */
static size_t make_pid(char *out, int host, uint8_t b) {
  uint64_t counter = 1 + (b >> 2) % 12;
  int r;
  if (host == 0 && (b & 2) && st.slot[(b >> 2) % NACT] != 0)
    counter = st.slot[(b >> 2) % NACT];
  r = wd_pid_format(out, WD_PID_MAX, hid[host], strlen(hid[host]), counter);
  CHECK(r > 0);
  return (size_t)r;
}

/* Hand the host one record; returns what the host said. */
static int feed(uint8_t type, const wd_buf *b) {
  wd_cur c;
  int r;
  const char *from = NULL, *s;
  size_t fl = 0, n;
  CHECK(b->err == 0);
  wd_cur_init(&c, b->p, b->len);
  if (type == WD_R_MSG) { /* note who sent it, to count its credit */
    wd_cur p = c;
    if (wd_cur_str(&p, &from, &fl) || wd_cur_str(&p, &s, &n)) from = NULL;
  }
  /* The broker counts a credit as it passes it on, before the host has
  ** it (and may send more at once); a record the host refuses ends it. */
  if (type == WD_R_CREDIT || type == WD_R_GONE) bk_record(type, b);
  switch (type) {
    case WD_R_MSG:
      r = wd_host_on_msg(st.h, &c);
      break;
    case WD_R_CREDIT:
      r = wd_host_on_credit(st.h, &c);
      break;
    case WD_R_GONE:
      r = wd_host_on_gone(st.h, &c);
      break;
    case WD_R_UNNAME:
      r = wd_host_on_unname(st.h, &c);
      break;
    default:
      r = wd_host_mesh(st.h, &c);
      CHECK(r != 0); /* only once */
      break;
  }
  if (r == 0 && type == WD_R_MSG) {
    int pi = mesh_of(from, fl);
    CHECK(pi >= 0);
    if ((uint32_t)pi != st.h->self) {
      const uint8_t *pl;
      wd_cur q = c;
      st.in_msgs++;
      /* The payload: what is left after the three strings. */
      wd_cur_init(&q, b->p, b->len);
      CHECK(wd_cur_str(&q, &s, &n) == 0 && wd_cur_str(&q, &s, &n) == 0 &&
            wd_cur_str(&q, &s, &n) == 0);
      n = wd_cur_left(&q);
      CHECK(wd_cur_bytes(&q, n, &pl) == 0);
      st.in_bytes += WD_FLOW_COST(n);
    }
  }
  if (trace)
    fprintf(stderr, "record %u: %d\n", type, r);
  return r;
}

static int op_raw(input *in) {
  static const uint8_t types[] = {WD_R_MSG, WD_R_CREDIT, WD_R_GONE,
                                  WD_R_UNNAME, WD_R_MESH};
  uint8_t t = types[byte(in) % 5];
  const uint8_t *p;
  size_t n;
  wd_buf b;
  int r;
  p = take(in, 96, &n);
  wd_buf_init(&b, 0);
  wd_buf_put(&b, p, n);
  r = feed(t, &b);
  wd_buf_close(&b);
  return r;
}

static int op_msg(input *in) {
  char from[WD_PID_MAX], dest[WD_PID_MAX];
  uint8_t k = byte(in), pb[64];
  size_t fl, dl, n;
  const uint8_t *p;
  const char *topic = topics[k % 5];
  wd_buf b;
  int r;
  fl = make_pid(from, 1 + (k >> 3) % 2, byte(in));
  if ((k & 0xc0) == 0xc0) fl = make_pid(from, 0, byte(in)); /* from us */
  dl = make_pid(dest, 0, byte(in) | 2);
  if ((k & 0x30) == 0x30) dl = make_pid(dest, 1 + k % 2, byte(in));
  wd_buf_init(&b, 0);
  wd_buf_put_str(&b, from, fl);
  wd_buf_put_str(&b, dest, dl);
  if (k & 0x20 && (k & 7) == 7)
    wd_buf_put_str(&b, "", 0); /* no topic */
  else
    wd_buf_put_cstr(&b, topic);
  n = byte(in);
  if (n & 0x80) { /* the input's bytes */
    n &= 0x7f;
    if (n > in->n) n = in->n;
    p = in->p;
    in->p += n;
    in->n -= n;
    wd_buf_put(&b, p, n);
  } else {
    n = payload(pb, n % sizeof pb);
    wd_buf_put(&b, pb, n);
  }
  r = feed(WD_R_MSG, &b);
  wd_buf_close(&b);
  return r;
}

static int op_credit(input *in) {
  char dest[WD_PID_MAX];
  uint8_t k = byte(in);
  size_t dl = make_pid(dest, (int)(k % 3), byte(in));
  uint32_t msgs = k & 0x40 ? u32in(in) : (uint32_t)(k >> 3 & 3);
  uint64_t bytes = k & 0x80 ? (uint64_t)u32in(in) << (k & 31)
                            : (uint64_t)byte(in);
  wd_buf b;
  int r;
  wd_buf_init(&b, 0);
  wd_buf_put_str(&b, dest, dl);
  wd_buf_put_u32(&b, msgs);
  wd_buf_put_u64(&b, bytes);
  wd_buf_put_u8(&b, (k & 0x20) ? byte(in) : 0);
  r = feed(WD_R_CREDIT, &b);
  if (r == 0 && (k & 0x20) && (b.p[b.len - 1] & WD_CREDIT_DEAD))
    CHECK(wd__flow_dead_has(st.h, dest, dl));
  wd_buf_close(&b);
  return r;
}

static int op_gone(input *in) {
  char pid[WD_PID_MAX];
  uint8_t k = byte(in);
  size_t n;
  wd_buf b;
  int r, isid = (k & 3) == 3;
  if (isid) {
    const char *s = hid[k >> 2 & 1 ? 2 : 1];
    if ((k & 0x30) == 0x30) s = "fz";
    n = strlen(s);
    memcpy(pid, s, n);
  } else {
    n = make_pid(pid, (int)(k % 3), byte(in));
  }
  wd_buf_init(&b, 0);
  wd_buf_put_str(&b, pid, n);
  r = feed(WD_R_GONE, &b);
  wd_buf_close(&b);
  if (r == 0 && !isid) CHECK(wd__flow_dead_has(st.h, pid, n));
  if (r == 0 && isid) { /* nothing waits for that host any more */
    int i;
    for (i = 0; i < WD_OUT_BUCKETS; i++) {
      const wd_out *o;
      for (o = st.h->out[i]; o != NULL; o = o->next) {
        const char *h;
        size_t hl;
        uint64_t c;
        CHECK(wd_pid_parse(o->key, o->keylen, &h, &hl, &c) == 0);
        CHECK(hl != n || memcmp(h, pid, n) != 0);
      }
    }
  }
  return r;
}

static int op_unname(input *in) {
  uint8_t k = byte(in) % 4;
  wd_buf b;
  size_t pl;
  int r;
  wd_buf_init(&b, 0);
  wd_buf_put_cstr(&b, names[k]);
  r = feed(WD_R_UNNAME, &b);
  wd_buf_close(&b);
  if (r == 0) {
    CHECK(wd__flow_name_get(st.h, names[k], strlen(names[k]), &pl) == NULL);
    st.nm_len[k] = 0;
  }
  return r;
}

/* }====== */

/* {====== What the VM does ====== */

/* A name looked up (LOOKUP's answer), then every name checked. */
static void op_name(input *in) {
  uint8_t k = byte(in);
  char pid[WD_PID_MAX];
  size_t n = make_pid(pid, (int)(k >> 2) % 3, byte(in)), pl;
  int i;
  if (st.nm_len[k % 4] == 0) st.nm_inserts++;
  wd__flow_name_put(st.h, wd__flow_name_epoch(st.h), names[k % 4],
                    strlen(names[k % 4]), pid, n);
  memcpy(st.nm_pid[k % 4], pid, n);
  st.nm_len[k % 4] = n;
  for (i = 0; i < 4; i++) {
    const char *got = wd__flow_name_get(st.h, names[i], strlen(names[i]), &pl);
    if (st.nm_len[i] == 0) {
      CHECK(got == NULL);
    } else {
      /* The oldest goes once the ring is round: 4 names fill it only
      ** after WD_NM_MAX of them were kept anew. */
      CHECK(got != NULL || st.nm_inserts > WD_NM_MAX);
      if (got != NULL)
        CHECK(pl == st.nm_len[i] && memcmp(got, st.nm_pid[i], pl) == 0);
    }
  }
}

/* A free task of slot 'i', or -1. */
static int free_task(int i, uint8_t b) {
  int j = b % NTASK;
  if (st.sw[i][j].status == WD_SW_WAIT) j = (j + 1) % NTASK;
  return st.sw[i][j].status == WD_SW_WAIT ? -1 : j;
}

/* k: the sender's slot, the topic; f: wait (bit 0), the task (bit 1),
** the host (bit 2; bits 2-4 all set: this host's, not for flow_remote). */
static void op_send_remote(input *in) {
  uint8_t k = byte(in), f = byte(in), pb[160];
  int i = k % NACT, j = -1, host = 1 + (f >> 2 & 1), r;
  wd_actor *a = actor_at(i);
  char dest[WD_PID_MAX];
  size_t dl, n;
  uint64_t limit = 0;
  const char *topic = topics[(k >> 4) % 5];
  if (topic[0] == '@') topic = "t"; /* the VM refuses these */
  if (a == NULL) return;
  if ((f & 0x1c) == 0x1c) host = 0; /* to this host: not for flow_remote */
  dl = make_pid(dest, host, byte(in));
  n = payload(pb, byte(in) % sizeof pb);
  if (f & 1) j = free_task(i, f >> 1);
  if (j >= 0) {
    memset(&st.sw[i][j], 0, sizeof st.sw[i][j]);
    st.done[i][j] = 0;
  }
  r = wd__flow_remote(a, dest, dl, topic, strlen(topic), pb, n,
                      j >= 0 ? &st.sw[i][j] : NULL,
                      j >= 0 ? (struct task *)(void *)&st.tok[i][j] : NULL,
                      &limit);
  if (host == 0) CHECK(r == WD_FLOW_REQ);
  if (r == WD_FLOW_WAIT) CHECK(j >= 0 && st.sw[i][j].status == WD_SW_WAIT);
  else if (j >= 0) CHECK(st.sw[i][j].status != WD_SW_WAIT);
  if (r == WD_ETOOBIG) CHECK(limit < n);
  if (r == WD_EMBOXFULL) CHECK(j < 0);
  if (wd__flow_dead_has(st.h, dest, dl) && host != 0)
    CHECK(r == WD_ENOTFOUND);
}

/* k: the sender's slot, the receiver's; f: wait (bit 0), the task (bit
** 1), the topic. */
static void op_send_local(input *in) {
  uint8_t k = byte(in), f = byte(in), pb[64];
  int i = k % NACT, to = (k >> 3) % NACT, j = -1, r;
  wd_actor *a = actor_at(i), *b = actor_at(to);
  const char *topic = topics[(f >> 2) % 3];
  wd_msg *m;
  size_t n;
  if (a == NULL || b == NULL) return;
  n = payload(pb, byte(in) % sizeof pb);
  if (f & 1) j = free_task(i, f >> 1);
  if (j >= 0) {
    memset(&st.sw[i][j], 0, sizeof st.sw[i][j]);
    st.done[i][j] = 0;
  }
  m = wd_msg_new(a->pid, a->pidlen, topic, strlen(topic), pb, n);
  if (m == NULL) return;
  r = wd__flow_local(a, b, m, j >= 0 ? &st.sw[i][j] : NULL,
                     j >= 0 ? (struct task *)(void *)&st.tok[i][j] : NULL);
  if (r < 0) wd_msg_free(m);
  if (r == WD_FLOW_WAIT) CHECK(j >= 0 && st.sw[i][j].status == WD_SW_WAIT);
  else CHECK(r == 0 || r == WD_EMBOXFULL);
}

/* The actor of slot 'i' takes a message (as a channel's receive does). */
static void op_take(input *in) {
  uint8_t k = byte(in);
  wd_actor *a = actor_at(k % NACT);
  wd_msg *m;
  uint32_t seq;
  if (a == NULL || (m = wd_mbox_pop(&a->pending)) == NULL) return;
  CHECK(a->nqueued > 0);
  a->nqueued--;
  wd__flow_taken(a);
  if (m->fromlen > 0 && mesh_of(m->from, m->fromlen) == (int)st.self &&
      our_payload(m->payload, m->plen, &seq))
    order_check(m->from, m->fromlen, a->pid, a->pidlen, seq);
  wd_msg_free(m);
}

static void op_cancel(input *in) {
  uint8_t k = byte(in);
  wd__flow_cancel(&st.sw[k % NACT][(k >> 3) % NTASK]);
}

static int event_none(void *ud, const char *kind, wd_buf *out) {
  const wd_actor *a = ud;
  wd_codec_val v;
  memset(&v, 0, sizeof v);
  v.type = WD_CODEC_V_NONE;
  return wd__life_event_c(out, a->pid, a->pidlen, kind, 0, &v);
}

/* A normal end, as lrun.c's finish makes it. */
static void end_ok(wd_actor *a) {
  wd__actor_leave(a);
  wd__life_exit(a, 1, event_none, a);
  wd__actor_done(a, 0);
}

static void op_end(input *in) {
  uint8_t k = byte(in);
  int i = k % NACT;
  wd_actor *a = actor_at(i);
  if (a == NULL) {
    spawn_at(i, k & 8 ? "f" : "e");
    return;
  }
  switch ((k >> 3) % 3) {
    case 0:
      end_ok(a);
      break;
    case 1:
      wd__actor_end_error(a, "Internal", "boom");
      break;
    default:
      wd__life_kill(a, "stop"); /* ends on the next turn */
      break;
  }
}

/* }====== */

int LLVMFuzzerInitialize(int *argc, char ***argv) {
  (void)argc;
  (void)argv;
  if (uv_loop_init(&loop) != 0) abort();
  trace = getenv("FUZZ_FLOW_TRACE") != NULL;
  wd_buf_init(&st.out, 0);
  return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  input in;
  int i, r = 0, ops = 0;
  wd_buf keep = st.out;
  memset(&st, 0, sizeof st);
  st.out = keep;
  in.p = data;
  in.n = size;
  host_open(&in);
  for (i = 0; i < 4; i++) spawn_at(i, "e");
  check_all();
  while (in.n > 0 && r == 0 && ops++ < 2000) {
    uint8_t op = byte(&in);
    if (trace) fprintf(stderr, "op %d\n", op % 16);
    switch (op % 16) {
      case 0:
        r = op_raw(&in);
        break;
      case 1:
      case 2:
        r = op_msg(&in);
        break;
      case 3:
        r = op_credit(&in);
        break;
      case 4:
        r = op_gone(&in);
        break;
      case 5:
        r = op_unname(&in);
        break;
      case 6:
        op_name(&in);
        break;
      case 7:
      case 8:
        op_send_remote(&in);
        break;
      case 9:
        op_send_local(&in);
        break;
      case 10:
      case 11:
        op_take(&in);
        break;
      case 12:
        op_cancel(&in);
        break;
      case 13:
        op_end(&in);
        break;
      case 14:
        wd__flow_flush(st.h);
        break;
      default:
        uv_run(&loop, UV_RUN_NOWAIT); /* the host's turn */
        break;
    }
    check_all();
  }
  /* A refused record ends the host, as its link does. */
  wd_host_stop(st.h);
  uv_run(&loop, UV_RUN_NOWAIT); /* the handles' close callbacks */
  for (i = 0; i < NACT; i++) {
    int j;
    for (j = 0; j < NTASK; j++) CHECK(st.sw[i][j].status != WD_SW_WAIT);
  }
  wd_host_free(st.h);
  CHECK(!uv_loop_alive(&loop));
  st.h = NULL;
  return 0;
}
