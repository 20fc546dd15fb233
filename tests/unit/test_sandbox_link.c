/*
** tests/unit/test_sandbox_link.c
** The link transport (sandbox/link.c) between two ends on one loop: frames
** the socket cannot take at once wait in order and leave when it can; a
** full socket is never a crash (issue 11: the poll restarted with no
** callback, and the next writable event jumped to address 0). The queue's
** bytes are counted for its owner to bound; reading can be paused; one
** wakeup reads a bounded amount; a frame sealed from a signal handler
** leaves first.
** Runs in: test.
*/
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>

#include <cmocka.h>
#include <sodium.h>

#include "ward/wd_link.h"
#include "ward/wd_proto.h"

#define NREC 48
/* 60 KiB: whole records (at most WD_LINK_REC_WHOLE), one frame each; a
** few fill any default socket. Bigger ones go in fragments (below). */
#define RECLEN (60u << 10)

typedef struct end {
  wd_link l;
  int got;        /* records received */
  int in_order;   /* each carried the number of the one expected */
  int failed;
  int drained; /* on_drain calls */
  const char *why; /* of the failure */
  int code;
  uint32_t seen[64]; /* the numbers of the records received, in order */
  int nseen;
  int intact;        /* every big body held its pattern */
} end;

static int on_rec(wd_link *l, uint8_t rtype, wd_cur *body) {
  end *e = l->data;
  uint32_t k;
  if (rtype != WD_R_LOG || wd_cur_u32(body, &k) < 0) return WD_EBADFRAME;
  if (k != (uint32_t)e->got) e->in_order = 0;
  e->got++;
  return 0;
}

static void on_fail(wd_link *l, int code, const char *why) {
  end *e = l->data;
  e->code = code;
  e->why = why;
  e->failed = 1;
}

static void on_drain(wd_link *l) {
  end *e = l->data;
  e->drained++;
}

/* One record of 'len' bytes of padding numbered 'k', sealed at once. */
static void put_rec(end *e, uint32_t k, size_t len) {
  static uint8_t pad[RECLEN];
  size_t st = wd_link_rec_begin(&e->l, WD_R_LOG);
  wd_buf_put_u32(&e->l.batch, k);
  wd_buf_put(&e->l.batch, pad, len);
  assert_int_equal(wd_link_rec_end(&e->l, st), 0);
  assert_int_equal(wd_link_flush(&e->l), 0);
}

static void open_pair(uv_loop_t *loop, end *a, end *b) {
  int sv[2];
  uint8_t k1[32], k2[32];
  assert_int_equal(sodium_init() >= 0, 1);
  randombytes_buf(k1, sizeof k1);
  randombytes_buf(k2, sizeof k2);
  assert_int_equal(socketpair(AF_UNIX, SOCK_SEQPACKET, 0, sv), 0);
  memset(a, 0, sizeof *a);
  memset(b, 0, sizeof *b);
  assert_int_equal(wd_link_init(loop, &a->l, sv[0], k1, k2), 0);
  assert_int_equal(wd_link_init(loop, &b->l, sv[1], k2, k1), 0);
  a->l.data = a;
  b->l.data = b;
  a->l.on_rec = b->l.on_rec = on_rec;
  a->l.on_fail = b->l.on_fail = on_fail;
  a->l.on_drain = b->l.on_drain = on_drain;
  a->in_order = b->in_order = 1;
}

static void close_pair(uv_loop_t *loop, end *a, end *b) {
  wd_link_close(&a->l, NULL);
  wd_link_close(&b->l, NULL);
  uv_run(loop, UV_RUN_NOWAIT);
  assert_int_equal(uv_loop_close(loop), 0);
}

/* More than the socket holds is written in one turn: the rest waits in
** the queue, the link polls for writability, and every record arrives
** whole and in order once the loop turns. */
static void test_link_full_socket_queues_and_drains_in_order(void **state) {
  uv_loop_t loop;
  end a, b;
  int i;
  (void)state;
  assert_int_equal(uv_loop_init(&loop), 0);
  open_pair(&loop, &a, &b);
  for (i = 0; i < NREC; i++)
    put_rec(&a, (uint32_t)i, RECLEN);
  assert_non_null(a.l.qhead); /* the socket really was full */
  assert_true(a.l.events & UV_WRITABLE);
  for (i = 0; i < 10000 && b.got < NREC && !a.failed && !b.failed; i++)
    uv_run(&loop, UV_RUN_ONCE);
  assert_int_equal(a.failed, 0);
  assert_int_equal(b.failed, 0);
  assert_int_equal(b.got, NREC);
  assert_int_equal(b.in_order, 1);
  assert_null(a.l.qhead);
  assert_int_equal(a.l.events, UV_READABLE);
  close_pair(&loop, &a, &b);
}

/* Both ends full at once, each writing while the other does: the poll
** callbacks keep both moving. */
static void test_link_both_ends_full_drain(void **state) {
  uv_loop_t loop;
  end a, b;
  int i;
  (void)state;
  assert_int_equal(uv_loop_init(&loop), 0);
  open_pair(&loop, &a, &b);
  for (i = 0; i < NREC; i++) {
    put_rec(&a, (uint32_t)i, RECLEN);
    put_rec(&b, (uint32_t)i, RECLEN);
  }
  for (i = 0; i < 10000 && (a.got < NREC || b.got < NREC) && !a.failed &&
              !b.failed;
       i++)
    uv_run(&loop, UV_RUN_ONCE);
  assert_int_equal(a.failed + b.failed, 0);
  assert_int_equal(a.got, NREC);
  assert_int_equal(b.got, NREC);
  assert_int_equal(a.in_order + b.in_order, 2);
  close_pair(&loop, &a, &b);
}

/* The queue's bytes are what waits in it; they go back to 0 as it drains,
** and the owner hears of the drain. */
static void test_link_queue_bytes_counted_and_drained(void **state) {
  uv_loop_t loop;
  end a, b;
  int i;
  (void)state;
  assert_int_equal(uv_loop_init(&loop), 0);
  open_pair(&loop, &a, &b);
  assert_int_equal(wd_link_backlog(&a.l), 0);
  for (i = 0; i < NREC; i++)
    put_rec(&a, (uint32_t)i, RECLEN);
  assert_non_null(a.l.qhead);
  assert_true(a.l.qbytes > 0);
  assert_true(a.l.qbytes <= (size_t)NREC * (RECLEN + 1024));
  assert_int_equal(wd_link_backlog(&a.l), a.l.qbytes);
  assert_int_equal(a.drained, 0);
  for (i = 0; i < 10000 && b.got < NREC && !a.failed && !b.failed; i++)
    uv_run(&loop, UV_RUN_ONCE);
  assert_int_equal(b.got, NREC);
  assert_int_equal(a.l.qbytes, 0);
  assert_int_equal(a.drained, 1);
  close_pair(&loop, &a, &b);
}

/* A paused end reads nothing: the peer's frames wait in the socket and
** then in the peer's queue; resumed, it gets every record, in order. */
static void test_link_pause_stops_reading_until_resumed(void **state) {
  uv_loop_t loop;
  end a, b;
  int i;
  (void)state;
  assert_int_equal(uv_loop_init(&loop), 0);
  open_pair(&loop, &a, &b);
  wd_link_pause(&b.l, 1);
  wd_link_pause(&b.l, 1); /* twice is once */
  assert_int_equal(b.l.events, 0);
  for (i = 0; i < NREC; i++)
    put_rec(&a, (uint32_t)i, RECLEN);
  for (i = 0; i < 50; i++)
    uv_run(&loop, UV_RUN_NOWAIT);
  assert_int_equal(b.got, 0);
  assert_true(a.l.qbytes > 0); /* the socket is full: a's queue holds */
  wd_link_pause(&b.l, 0);
  assert_int_equal(b.l.events, UV_READABLE);
  for (i = 0; i < 10000 && b.got < NREC && !a.failed && !b.failed; i++)
    uv_run(&loop, UV_RUN_ONCE);
  assert_int_equal(a.failed + b.failed, 0);
  assert_int_equal(b.got, NREC);
  assert_int_equal(b.in_order, 1);
  close_pair(&loop, &a, &b);
}

/* One wakeup reads at most WD_LINK_BATCH_SOFT bytes (at least a frame)
** and WD_LINK_READ_FRAMES frames: the rest waits for the next turn. */
static void test_link_one_wakeup_reads_a_bounded_amount(void **state) {
  uv_loop_t loop;
  end a, b;
  int i;
  (void)state;
  assert_int_equal(uv_loop_init(&loop), 0);
  open_pair(&loop, &a, &b);
  /* Room for all of them in the socket, as on a real link. */
  wd_link_tune_socket(a.l.fd);
  wd_link_tune_socket(b.l.fd);
  /* Big frames: reading stops once the bytes read reach
  ** WD_LINK_BATCH_SOFT. */
  for (i = 0; i < 8; i++)
    put_rec(&a, (uint32_t)i, RECLEN);
  assert_null(a.l.qhead);
  uv_run(&loop, UV_RUN_NOWAIT);
  assert_int_equal(b.got, (WD_LINK_BATCH_SOFT + RECLEN - 1) / RECLEN);
  for (i = 0; i < 100 && b.got < 8; i++)
    uv_run(&loop, UV_RUN_NOWAIT);
  assert_int_equal(b.got, 8);
  /* Small frames: WD_LINK_READ_FRAMES per wakeup. */
  for (i = 8; i < 8 + 100; i++)
    put_rec(&a, (uint32_t)i, 16);
  uv_run(&loop, UV_RUN_NOWAIT);
  assert_int_equal(b.got, 8 + WD_LINK_READ_FRAMES);
  for (i = 0; i < 100 && b.got < 108; i++)
    uv_run(&loop, UV_RUN_NOWAIT);
  assert_int_equal(b.got, 108);
  assert_int_equal(b.in_order, 1);
  close_pair(&loop, &a, &b);
}

/* wd_link_flush_nowait sends the batch when the socket takes it; with a
** frame waiting before it, it sends nothing; when the socket is full the
** frame stays sealed and leaves first once there is room. */
static void test_link_flush_nowait_keeps_order(void **state) {
  uv_loop_t loop;
  end a, b;
  static uint8_t junk[RECLEN], sink[RECLEN + 1024];
  size_t st;
  int i, njunk = 0;
  ssize_t n;
  (void)state;
  assert_int_equal(uv_loop_init(&loop), 0);
  open_pair(&loop, &a, &b);
  /* Empty batch: nothing to do. */
  assert_int_equal(wd_link_flush_nowait(&a.l), 0);
  st = wd_link_rec_begin(&a.l, WD_R_LOG);
  wd_buf_put_u32(&a.l.batch, 0);
  assert_int_equal(wd_link_rec_end(&a.l, st), 0);
  assert_int_equal(wd_link_flush_nowait(&a.l), 1);
  assert_int_equal(a.l.batch.len, 0);
  for (i = 0; i < 100 && b.got < 1; i++)
    uv_run(&loop, UV_RUN_NOWAIT);
  assert_int_equal(b.got, 1);
  /* Fill the socket behind the link's back; b reads none of it yet. */
  wd_link_pause(&b.l, 1);
  while (send(a.l.fd, junk, sizeof junk, MSG_DONTWAIT) > 0)
    njunk++;
  assert_true(njunk > 0);
  st = wd_link_rec_begin(&a.l, WD_R_LOG);
  wd_buf_put_u32(&a.l.batch, 1);
  assert_int_equal(wd_link_rec_end(&a.l, st), 0);
  assert_int_equal(wd_link_flush_nowait(&a.l), 0);
  assert_true(a.l.sealed > 0);
  assert_int_equal(a.l.qbytes, a.l.sealed);
  assert_int_equal(wd_link_flush_nowait(&a.l), 0); /* sealed already */
  /* The junk goes; the next record settles the sealed frame first. */
  for (i = 0; i < njunk; i++) {
    n = recv(b.l.fd, sink, sizeof sink, MSG_DONTWAIT);
    assert_int_equal(n, (ssize_t)sizeof junk);
  }
  put_rec(&a, 2, 16);
  assert_int_equal(a.l.sealed, 0);
  assert_int_equal(a.l.qbytes, 0);
  wd_link_pause(&b.l, 0);
  for (i = 0; i < 100 && b.got < 3; i++)
    uv_run(&loop, UV_RUN_NOWAIT);
  assert_int_equal(b.failed, 0);
  assert_int_equal(b.got, 3);
  assert_int_equal(b.in_order, 1);
  close_pair(&loop, &a, &b);
}

/* An owner that closes the link from inside a record callback (the
** broker killing a host for a bad record) and says the record was bad:
** the link is its owner's no more, so the failure callback must not run
** (it would take the host's next incarnation down). */
static int closing_rec(wd_link *l, uint8_t rtype, wd_cur *body) {
  (void)rtype;
  (void)body;
  wd_link_close(l, NULL);
  return WD_EBADFRAME;
}

static void test_link_closed_in_a_callback_reports_nothing(void **state) {
  uv_loop_t loop;
  end a, b;
  int i;
  (void)state;
  assert_int_equal(uv_loop_init(&loop), 0);
  open_pair(&loop, &a, &b);
  b.l.on_rec = closing_rec;
  put_rec(&a, 0, 16);
  for (i = 0; i < 100 && !b.l.closing; i++) uv_run(&loop, UV_RUN_ONCE);
  assert_true(b.l.closing);
  assert_int_equal(b.failed, 0);
  wd_link_close(&a.l, NULL);
  uv_run(&loop, UV_RUN_NOWAIT);
  assert_int_equal(uv_loop_close(&loop), 0);
}

/* {====== A peer that goes ====== */

/*
** A peer that sent its last records and went: they are read and handed
** over before the owner hears of the end (code 0), whatever tells it the
** peer is gone first. A host's last frames hold its processes' exits:
** before this, a broker that wrote to a host that had just exited, or
** whose socket was reset because the host left frames unread, took the
** host down at once, and its root's exit was lost ("host died: exited
** with status 0"; avail.live, under load).
*/
enum { GONE_RESET, GONE_WRITE, GONE_PAUSED };

static void peer_sends_then_goes(int how) {
  uv_loop_t loop;
  end a, b;
  int i;
  assert_int_equal(uv_loop_init(&loop), 0);
  open_pair(&loop, &a, &b);
  for (i = 0; i < 8; i++)
    put_rec(&b, (uint32_t)i, 1024);
  /* Frames b never reads: its close resets a's socket. */
  if (how == GONE_RESET) put_rec(&a, 0, 16);
  wd_link_close(&b.l, NULL);
  if (how == GONE_WRITE) {
    /* Writing to the gone peer is no failure of its own: what the peer
    ** sent is still read. */
    size_t st = wd_link_rec_begin(&a.l, WD_R_LOG);
    wd_buf_put_u32(&a.l.batch, 0);
    assert_int_equal(wd_link_rec_end(&a.l, st), 0);
    assert_int_equal(wd_link_flush(&a.l), 0);
    assert_int_equal(a.failed, 0);
    assert_true(wd_link_idle(&a.l)); /* nothing more goes to it */
  }
  if (how == GONE_PAUSED) {
    /* A pause holds a live peer's frames; a gone peer's are read. */
    wd_link_pause(&a.l, 1);
    wd_link_peer_gone(&a.l);
  }
  for (i = 0; i < 1000 && !a.failed; i++) uv_run(&loop, UV_RUN_ONCE);
  assert_int_equal(a.failed, 1);
  assert_int_equal(a.code, 0);
  assert_int_equal(a.got, 8);
  assert_int_equal(a.in_order, 1);
  wd_link_close(&a.l, NULL);
  uv_run(&loop, UV_RUN_NOWAIT);
  assert_int_equal(uv_loop_close(&loop), 0);
}

static void test_link_reset_by_peer_reads_its_last_frames(void **state) {
  (void)state;
  peer_sends_then_goes(GONE_RESET);
}

static void test_link_write_to_gone_peer_reads_its_last_frames(void **state) {
  (void)state;
  peer_sends_then_goes(GONE_WRITE);
}

static void test_link_paused_gone_peer_reads_its_last_frames(void **state) {
  (void)state;
  peer_sends_then_goes(GONE_PAUSED);
}

/* }====== */

/* {====== Fragments ====== */

/* Records numbered k whose bodies after k are the bytes (k + i) & 0xff:
** the receiver checks them and notes the order. */
static int on_rec_pat(wd_link *l, uint8_t rtype, wd_cur *body) {
  end *e = l->data;
  uint32_t k;
  const uint8_t *p;
  size_t n, i;
  if (rtype != WD_R_LOG || wd_cur_u32(body, &k) < 0) return WD_EBADFRAME;
  n = wd_cur_left(body);
  if (wd_cur_bytes(body, n, &p) < 0) return WD_EBADFRAME;
  for (i = 0; i < n; i++)
    if (p[i] != (uint8_t)(k + i)) e->intact = 0;
  if (e->nseen < 64) e->seen[e->nseen++] = k;
  e->got++;
  return 0;
}

static void put_pat(end *e, uint32_t k, size_t len, uint64_t lane) {
  size_t st = wd_link_rec_begin(&e->l, WD_R_LOG), i;
  wd_buf_put_u32(&e->l.batch, k);
  assert_int_equal(wd_buf_reserve(&e->l.batch, len), 0);
  for (i = 0; i < len; i++) e->l.batch.p[e->l.batch.len + i] = (uint8_t)(k + i);
  e->l.batch.len += len;
  wd_link_rec_lane(&e->l, lane);
  assert_int_equal(wd_link_rec_end(&e->l, st), 0);
  assert_int_equal(wd_link_flush(&e->l), 0);
}

static int pos_of(const end *e, uint32_t k) {
  int i;
  for (i = 0; i < e->nseen; i++)
    if (e->seen[i] == k) return i;
  return -1;
}

static void open_pat(uv_loop_t *loop, end *a, end *b) {
  assert_int_equal(uv_loop_init(loop), 0);
  open_pair(loop, a, b);
  wd_link_tune_socket(a->l.fd);
  wd_link_tune_socket(b->l.fd);
  a->l.on_rec = b->l.on_rec = on_rec_pat;
  a->intact = b->intact = 1;
  wd_link_set_max_payload(&a->l, 64u << 20);
  wd_link_set_max_payload(&b->l, 64u << 20);
}

/* A 64 MiB record crosses in fragments and arrives whole and intact; the
** sender's queue counts it as the one record going (backlog 0). */
static void test_link_big_record_arrives_whole(void **state) {
  uv_loop_t loop;
  end a, b;
  int i;
  (void)state;
  open_pat(&loop, &a, &b);
  put_pat(&a, 7, (64u << 20) - 8, 5);
  assert_non_null(a.l.shead);
  assert_int_equal(wd_link_backlog(&a.l), 0);
  for (i = 0; i < 100000 && b.got < 1 && !a.failed && !b.failed; i++)
    uv_run(&loop, UV_RUN_ONCE);
  assert_int_equal(a.failed + b.failed, 0);
  assert_int_equal(b.got, 1);
  assert_int_equal(b.intact, 1);
  assert_true(a.l.frames_out >= (64u << 20) / WD_LINK_FRAG);
  assert_true(wd_link_idle(&a.l));
  assert_null(b.l.rasm);
  close_pair(&loop, &a, &b);
}

/* Small records of other lanes overtake a big one going in fragments;
** one of its own lane, and a barrier, wait behind it. */
static void test_link_small_records_overtake_a_big_one(void **state) {
  uv_loop_t loop;
  end a, b;
  int i;
  (void)state;
  open_pat(&loop, &a, &b);
  put_pat(&a, 1000, 16u << 20, 11);      /* 64 fragments */
  put_pat(&a, 1001, 100, 11);            /* its lane: waits */
  put_pat(&a, 1002, 100, WD_LINK_LANE_FREE); /* overtakes */
  for (i = 0; i < 10; i++) {
    put_pat(&a, (uint32_t)i, 100, 22);  /* another lane: overtakes */
    uv_run(&loop, UV_RUN_ONCE);
  }
  put_pat(&a, 1003, 100, WD_LINK_LANE_ALL); /* a barrier: waits */
  put_pat(&a, 1004, 100, 22);               /* behind the barrier */
  for (i = 0; i < 100000 && b.got < 15 && !a.failed && !b.failed; i++)
    uv_run(&loop, UV_RUN_ONCE);
  assert_int_equal(a.failed + b.failed, 0);
  assert_int_equal(b.got, 15);
  assert_int_equal(b.intact, 1);
  for (i = 0; i < 10; i++) {
    assert_true(pos_of(&b, (uint32_t)i) < pos_of(&b, 1000));
    if (i > 0)
      assert_true(pos_of(&b, (uint32_t)i - 1) < pos_of(&b, (uint32_t)i));
  }
  assert_true(pos_of(&b, 1002) < pos_of(&b, 1000));
  assert_int_equal(pos_of(&b, 1001), pos_of(&b, 1000) + 1);
  assert_true(pos_of(&b, 1003) > pos_of(&b, 1000));
  assert_int_equal(pos_of(&b, 1004), pos_of(&b, 1003) + 1);
  close_pair(&loop, &a, &b);
}

/* A record over the link's maximum is refused by the sender; one the
** receiver's smaller maximum does not allow fails the link. */
static void test_link_record_over_the_maximum(void **state) {
  uv_loop_t loop;
  end a, b;
  size_t st;
  int i;
  (void)state;
  open_pat(&loop, &a, &b);
  wd_link_set_max_payload(&a.l, 1u << 20); /* WD_LINK_REC_MIN: 4 MiB */
  assert_int_equal(a.l.max_rec, WD_LINK_REC_MIN);
  st = wd_link_rec_begin(&a.l, WD_R_LOG);
  assert_int_equal(wd_buf_reserve(&a.l.batch, 5u << 20), 0);
  a.l.batch.len += 5u << 20;
  assert_int_equal(wd_link_rec_end(&a.l, st), WD_ETOOBIG);
  assert_int_equal(a.l.batch.len, 0);
  assert_true(wd_link_idle(&a.l));
  wd_link_set_max_payload(&a.l, 64u << 20);
  wd_link_set_max_payload(&b.l, 1u << 20);
  put_pat(&a, 3, 5u << 20, 5);
  for (i = 0; i < 1000 && !b.failed; i++) uv_run(&loop, UV_RUN_ONCE);
  assert_int_equal(b.failed, 1);
  assert_int_equal(b.code, WD_ETOOBIG);
  assert_int_equal(b.got, 0);
  close_pair(&loop, &a, &b);
}

/* Send a fragment frame [stream | offset | n bytes] sealed with a's keys
** (a sends nothing else), the first one carrying a record header of body
** length 'blen'. */
static void raw_frag(end *a, uint32_t stream, uint32_t off, size_t n,
                     uint32_t blen) {
  wd_buf f, p;
  wd_buf_init(&f, 0);
  wd_buf_init(&p, 0);
  wd_buf_put_u32(&p, stream);
  wd_buf_put_u32(&p, off);
  if (off == 0) {
    wd_buf_put_u8(&p, WD_R_LOG);
    wd_buf_put_u32(&p, blen);
    n -= 5;
  }
  assert_int_equal(wd_buf_reserve(&p, n), 0);
  memset(p.p + p.len, 0, n);
  p.len += n;
  assert_int_equal(wd_ipc_seal(&a->l.ipc, WD_F_FRAG, p.p, p.len, &f), 0);
  assert_int_equal(send(a->l.fd, f.p, f.len, 0), (ssize_t)f.len);
  wd_buf_close(&f);
  wd_buf_close(&p);
}

/* A batch frame with one small record numbered 'k', sealed the same way. */
static void raw_batch(end *a, uint32_t k) {
  wd_buf f, p;
  size_t st;
  wd_buf_init(&f, 0);
  wd_buf_init(&p, 0);
  st = wd_ipc_rec_begin(&p, WD_R_LOG);
  wd_buf_put_u32(&p, k);
  wd_ipc_rec_end(&p, st);
  assert_int_equal(wd_ipc_seal(&a->l.ipc, WD_F_BATCH, p.p, p.len, &f), 0);
  assert_int_equal(send(a->l.fd, f.p, f.len, 0), (ssize_t)f.len);
  wd_buf_close(&f);
  wd_buf_close(&p);
}

static void run_until_failed(uv_loop_t *loop, end *b) {
  int i;
  for (i = 0; i < 200 && !b->failed; i++) uv_run(loop, UV_RUN_NOWAIT);
}

#define F WD_LINK_FRAG
#define BIG ((uint32_t)(3 * F / 2 - 5)) /* a record of 1.5 fragments */

/* The right stream by hand: two fragments with a batch between them. */
static void test_link_frag_by_hand_with_a_batch_between(void **state) {
  uv_loop_t loop;
  end a, b;
  (void)state;
  open_pat(&loop, &a, &b);
  raw_frag(&a, 1, 0, F, BIG);
  raw_batch(&a, 0);
  raw_frag(&a, 1, F, F / 2, 0);
  run_until_failed(&loop, &b);
  assert_int_equal(b.failed, 0);
  assert_int_equal(b.got, 2);
  assert_int_equal(b.seen[0], 0);
  close_pair(&loop, &a, &b);
}

typedef void (*attack_fn)(end *a);

static void attack_never_started(end *a) { raw_frag(a, 1, F, F / 2, 0); }
static void attack_out_of_order(end *a) {
  raw_frag(a, 1, 0, F, 3 * F);
  raw_frag(a, 1, 2 * F, F, 0);
}
static void attack_past_the_bound(end *a) { raw_frag(a, 1, 0, F, 65u << 20); }
static void attack_second_stream_open(end *a) {
  raw_frag(a, 1, 0, F, BIG);
  raw_batch(a, 0);
  raw_frag(a, 2, 0, F, BIG);
}
static void attack_stream_skipped(end *a) { raw_frag(a, 2, 0, F, BIG); }
static void attack_small_in_fragments(end *a) { raw_frag(a, 1, 0, 1024, 1019); }
static void attack_past_the_end(end *a) {
  raw_frag(a, 1, 0, F, BIG);
  raw_frag(a, 1, F, F, 0);
}
static void attack_short_fragment(end *a) {
  raw_frag(a, 1, 0, F, BIG);
  raw_frag(a, 1, F, 100, 0);
}
static void attack_wrong_stream(end *a) {
  raw_frag(a, 1, 0, F, BIG);
  raw_frag(a, 3, F, F / 2, 0);
}

/* Each bad fragment fails the link with its reason, nothing delivered. */
static void test_link_bad_fragments_fail_the_link(void **state) {
  static const struct {
    attack_fn fn;
    int code;
    const char *why;
  } t[] = {
    {attack_never_started, WD_EBADFRAME, "fragment of a stream never started"},
    {attack_out_of_order, WD_EBADFRAME, "fragment out of order"},
    {attack_past_the_bound, WD_ETOOBIG, "fragmented record over the maximum"},
    {attack_second_stream_open, WD_EBADFRAME,
     "fragment stream opened while another is open"},
    {attack_stream_skipped, WD_EBADFRAME, "fragment stream out of order"},
    {attack_small_in_fragments, WD_EBADFRAME,
     "fragmented record small enough to go whole"},
    {attack_past_the_end, WD_EBADFRAME, "fragment past its record's end"},
    {attack_short_fragment, WD_EBADFRAME, "fragment of the wrong size"},
    {attack_wrong_stream, WD_EBADFRAME, "fragment of a stream never started"},
  };
  size_t i;
  (void)state;
  for (i = 0; i < sizeof t / sizeof t[0]; i++) {
    uv_loop_t loop;
    end a, b;
    open_pat(&loop, &a, &b);
    wd_link_set_max_payload(&b.l, 1u << 20);
    t[i].fn(&a);
    run_until_failed(&loop, &b);
    assert_int_equal(b.failed, 1);
    assert_int_equal(b.code, t[i].code);
    assert_string_equal(b.why, t[i].why);
    assert_true(b.got <= 1); /* a batch between may arrive */
    close_pair(&loop, &a, &b);
  }
}

/* }====== */

/* {====== Forwarding without a copy (wd_link_rec_put_from) ====== */

/*
** Records [u32 k | u32 pad | u32 tail | pad bytes | body | tail bytes]:
** the body's bytes are (k + i) & 0xff, the pad's and tail's 0xee. The
** middle end (b, like the broker) forwards each record to c with a pad
** of its own and, when asked, a tail after the body; d checks them.
*/
typedef struct fwd {
  wd_link *to;     /* where b forwards */
  uint32_t pad;    /* the pad b writes */
  uint32_t tail;   /* the tail b writes after the body */
  int taken;       /* records whose buffer b's link gave away */
  int end_code;    /* what the last wd_link_rec_end returned */
  int abandon;     /* begin and put, never end (then end the next) */
} fwd;

static fwd fw;

static int get_fmt(wd_cur *body, uint32_t *k, const uint8_t **p, size_t *n) {
  uint32_t pad, tail;
  const uint8_t *x;
  if (wd_cur_u32(body, k) || wd_cur_u32(body, &pad) ||
      wd_cur_u32(body, &tail) || wd_cur_bytes(body, pad, &x) ||
      wd_cur_left(body) < tail)
    return WD_EBADFRAME;
  *n = wd_cur_left(body) - tail;
  if (wd_cur_bytes(body, *n, p) || wd_cur_bytes(body, tail, &x))
    return WD_EBADFRAME;
  return 0;
}

static void put_fmt_head(wd_buf *w, uint32_t k, uint32_t pad, uint32_t tail) {
  wd_buf_put_u32(w, k);
  wd_buf_put_u32(w, pad);
  wd_buf_put_u32(w, tail);
  while (pad-- > 0) wd_buf_put_u8(w, 0xee);
}

static int on_rec_forward(wd_link *l, uint8_t rtype, wd_cur *body) {
  uint32_t k, i;
  const uint8_t *p;
  size_t n, st;
  if (rtype != WD_R_LOG || get_fmt(body, &k, &p, &n) < 0) return WD_EBADFRAME;
  st = wd_link_rec_begin(fw.to, WD_R_LOG);
  put_fmt_head(&fw.to->batch, k, fw.pad, fw.tail);
  wd_link_rec_put_from(fw.to, l, p, n);
  if (l->rx_rec == NULL && fw.to->ext_buf != NULL) fw.taken++;
  for (i = 0; i < fw.tail; i++) wd_buf_put_u8(&fw.to->batch, 0xee);
  if (fw.abandon) {
    fw.abandon = 0;
    return 0;
  }
  wd_link_rec_lane(fw.to, 5);
  fw.end_code = wd_link_rec_end(fw.to, st);
  return 0;
}

static int on_rec_check(wd_link *l, uint8_t rtype, wd_cur *body) {
  end *e = l->data;
  uint32_t k;
  const uint8_t *p;
  size_t n, i;
  if (rtype != WD_R_LOG || get_fmt(body, &k, &p, &n) < 0) return WD_EBADFRAME;
  for (i = 0; i < n; i++)
    if (p[i] != (uint8_t)(k + i)) e->intact = 0;
  if (e->nseen < 64) e->seen[e->nseen++] = k;
  e->got++;
  return 0;
}

/* a sends record k: body of 'len' bytes after a pad of 'pad'. */
static void put_fmt(end *e, uint32_t k, uint32_t pad, size_t len) {
  size_t st = wd_link_rec_begin(&e->l, WD_R_LOG), i;
  put_fmt_head(&e->l.batch, k, pad, 0);
  assert_int_equal(wd_buf_reserve(&e->l.batch, len), 0);
  for (i = 0; i < len; i++) e->l.batch.p[e->l.batch.len + i] = (uint8_t)(k + i);
  e->l.batch.len += len;
  wd_link_rec_lane(&e->l, 5);
  assert_int_equal(wd_link_rec_end(&e->l, st), 0);
  assert_int_equal(wd_link_flush(&e->l), 0);
}

/* a -> b forwards -> c -> d: run until d has 'want' records. */
static void run_fwd(uv_loop_t *loop, end *a, end *b, end *c, end *d,
                    int want) {
  int i;
  for (i = 0; i < 100000 && d->got < want && !a->failed && !b->failed &&
              !c->failed && !d->failed;
       i++) {
    uv_run(loop, UV_RUN_NOWAIT);
    assert_true(wd_link_flush(&c->l) == 0);
  }
  if (a->failed + b->failed + c->failed + d->failed)
    print_error("failed: a %d b %d c %d d %d: %s\n", a->failed, b->failed,
                c->failed, d->failed,
                d->why ? d->why : c->why ? c->why : b->why ? b->why : "");
  assert_int_equal(a->failed + b->failed + c->failed + d->failed, 0);
}

static void open_fwd(uv_loop_t *loop, end *a, end *b, end *c, end *d) {
  open_pat(loop, a, b);
  open_pair(loop, c, d);
  wd_link_tune_socket(c->l.fd);
  wd_link_tune_socket(d->l.fd);
  wd_link_set_max_payload(&c->l, 64u << 20);
  wd_link_set_max_payload(&d->l, 64u << 20);
  b->l.on_rec = on_rec_forward;
  d->l.on_rec = on_rec_check;
  d->intact = 1;
  memset(&fw, 0, sizeof fw);
  fw.to = &c->l;
}

static void close_fwd(uv_loop_t *loop, end *a, end *b, end *c, end *d) {
  wd_link_close(&c->l, NULL);
  wd_link_close(&d->l, NULL);
  close_pair(loop, a, b);
}

/*
** A record that came in fragments is forwarded from its own buffer when
** the new head fits where the old one was; otherwise (a longer head, or
** bytes after the taken ones) it is copied, and arrives the same. A
** whole record is always copied. Each arrives intact, in order.
*/
static void test_link_forward_big_record_without_copy(void **state) {
  uv_loop_t loop;
  end a, b, c, d;
  (void)state;
  open_fwd(&loop, &a, &b, &c, &d);
  fw.pad = 16;
  put_fmt(&a, 1, 64, 8u << 20); /* head fits: taken */
  run_fwd(&loop, &a, &b, &c, &d, 1);
  assert_int_equal(fw.taken, 1);
  assert_int_equal(fw.end_code, 0);
  fw.pad = 64;
  put_fmt(&a, 2, 64, 3u << 20); /* the same length: taken */
  run_fwd(&loop, &a, &b, &c, &d, 2);
  assert_int_equal(fw.taken, 2);
  fw.pad = 65;
  put_fmt(&a, 3, 64, 3u << 20); /* one byte longer: taken, then copied */
  run_fwd(&loop, &a, &b, &c, &d, 3);
  fw.pad = 0;
  fw.tail = 7;
  put_fmt(&a, 4, 64, 3u << 20); /* bytes after the body: copied */
  run_fwd(&loop, &a, &b, &c, &d, 4);
  fw.tail = 0;
  put_fmt(&a, 5, 0, 1000); /* whole: copied */
  run_fwd(&loop, &a, &b, &c, &d, 5);
  assert_int_equal(fw.taken, 4);
  assert_null(c.l.ext_buf);
  assert_int_equal(d.got, 5);
  assert_int_equal(d.intact, 1);
  assert_int_equal(d.seen[0] * 10000 + d.seen[1] * 1000 + d.seen[2] * 100 +
                       d.seen[3] * 10 + d.seen[4],
                   12345);
  assert_true(wd_link_idle(&c.l));
  close_fwd(&loop, &a, &b, &c, &d);
}

/* A forwarded record over the next link's maximum is refused there
** (WD_ETOOBIG, the taken buffer freed); a link closed while a record
** being built holds a taken buffer frees it (ASan checks the leaks). */
static void test_link_forward_refused_or_closed(void **state) {
  uv_loop_t loop;
  end a, b, c, d;
  (void)state;
  open_fwd(&loop, &a, &b, &c, &d);
  wd_link_set_max_payload(&c.l, 1u << 20); /* 4 MiB + ... at least */
  put_fmt(&a, 1, 8, 5u << 20);
  run_fwd(&loop, &a, &b, &c, &d, 0);
  while (b.l.rasm != NULL || fw.end_code == 0) uv_run(&loop, UV_RUN_ONCE);
  assert_int_equal(fw.end_code, WD_ETOOBIG);
  assert_int_equal(fw.taken, 1);
  assert_null(c.l.ext_buf);
  assert_true(wd_link_idle(&c.l));
  wd_link_set_max_payload(&c.l, 64u << 20);
  fw.abandon = 1;
  put_fmt(&a, 2, 8, 1u << 20); /* begun, never ended */
  while (fw.taken < 2) uv_run(&loop, UV_RUN_ONCE);
  assert_non_null(c.l.ext_buf);
  close_fwd(&loop, &a, &b, &c, &d); /* frees it */
}

/* }====== */

/* {====== Buffers handed over (wd_link_rx_take, wd_link_rec_put_own) ====== */

static struct {
  size_t front;  /* what on_rec_take asks for */
  int taken;     /* records whose buffer it got */
  int refused;   /* records it asked for and did not get */
  int intact;    /* every body held its pattern, also after the writes */
} tk;

/* Take the buffer of a pattern record (on_rec_pat's), write all over it
** in front of the body, check the body, free it. */
static int on_rec_take(wd_link *l, uint8_t rtype, wd_cur *body) {
  uint32_t k;
  const uint8_t *p;
  uint8_t *base;
  size_t n, i;
  if (rtype != WD_R_LOG || wd_cur_u32(body, &k) < 0) return WD_EBADFRAME;
  n = wd_cur_left(body);
  if (wd_cur_bytes(body, n, &p) < 0) return WD_EBADFRAME;
  if ((base = wd_link_rx_take(l, p, n, tk.front)) == NULL) {
    tk.refused++;
  } else {
    tk.taken++;
    assert_true(p - base >= (ptrdiff_t)tk.front);
    assert_null(wd_link_rx_take(l, p, n, 0)); /* once */
    memset(base, 0xab, (size_t)(p - base));
  }
  for (i = 0; i < n; i++)
    if (p[i] != (uint8_t)(k + i)) tk.intact = 0;
  wd_free(base);
  ((end *)l->data)->got++;
  return 0;
}

/* The receiver takes a record that came in fragments, with the room it
** asked for in front of the body; one asking for more room than there
** is, or a record that came whole, stays the link's. */
static void test_link_rx_take(void **state) {
  uv_loop_t loop;
  end a, b;
  (void)state;
  open_pat(&loop, &a, &b);
  b.l.on_rec = on_rec_take;
  memset(&tk, 0, sizeof tk);
  tk.intact = 1;
  tk.front = WD_LINK_RX_FRONT + WD_IPC_RECHDRLEN + 4; /* all there is */
  put_pat(&a, 1, 3u << 20, 5);
  while (b.got < 1 && !a.failed && !b.failed) uv_run(&loop, UV_RUN_ONCE);
  tk.front++;
  put_pat(&a, 2, 3u << 20, 5);
  while (b.got < 2 && !a.failed && !b.failed) uv_run(&loop, UV_RUN_ONCE);
  tk.front = 0;
  put_pat(&a, 3, 1000, 5); /* whole */
  while (b.got < 3 && !a.failed && !b.failed) uv_run(&loop, UV_RUN_ONCE);
  assert_int_equal(a.failed + b.failed, 0);
  assert_int_equal(tk.taken, 1);
  assert_int_equal(tk.refused, 2);
  assert_int_equal(tk.intact, 1);
  close_pair(&loop, &a, &b);
}

/* a sends record k whose body is 'n' pattern bytes at 'off' in a buffer
** of its own, given to the link. Returns whether the link kept the buffer
** (to send from it, or to copy it at the record's end). */
static int put_own(end *e, uint32_t k, size_t off, size_t n) {
  uint8_t *buf = wd_malloc(off + n);
  size_t st, i;
  int kept;
  assert_non_null(buf);
  memset(buf, 0xee, off);
  for (i = 0; i < n; i++) buf[off + i] = (uint8_t)(k + i);
  st = wd_link_rec_begin(&e->l, WD_R_LOG);
  wd_buf_put_u32(&e->l.batch, k);
  wd_link_rec_put_own(&e->l, buf, off + n, off, n);
  kept = e->l.ext_buf == buf;
  wd_link_rec_lane(&e->l, 5);
  assert_int_equal(wd_link_rec_end(&e->l, st), 0);
  assert_null(e->l.ext_buf);
  return kept;
}

/*
** A record whose body the sender gives the link goes from that buffer
** when its head fits in front of the body (and a fragment frame's head,
** to be built in place); with less room, or a body small enough to go
** whole, it is copied (the buffer freed: ASan checks). Each arrives
** intact, in order.
*/
static void test_link_rec_put_own(void **state) {
  uv_loop_t loop;
  end a, b;
  int i;
  (void)state;
  open_pat(&loop, &a, &b);
  assert_true(put_own(&a, 1, 64, 5u << 20)); /* sent from it */
  assert_int_equal(wd_link_flush(&a.l), 0);
  assert_true(put_own(&a, 2, 4, 5u << 20)); /* no room: copied at the end */
  assert_false(put_own(&a, 3, 0, 1000));    /* whole: copied at once */
  assert_int_equal(wd_link_flush(&a.l), 0);
  for (i = 0; i < 100000 && b.got < 3 && !a.failed && !b.failed; i++)
    uv_run(&loop, UV_RUN_ONCE);
  assert_int_equal(a.failed + b.failed, 0);
  assert_int_equal(b.got, 3);
  assert_int_equal(b.intact, 1);
  assert_int_equal(b.seen[0] * 100 + b.seen[1] * 10 + b.seen[2], 123);
  close_pair(&loop, &a, &b);
}

/* }====== */

int main(void) {
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_link_full_socket_queues_and_drains_in_order),
    cmocka_unit_test(test_link_both_ends_full_drain),
    cmocka_unit_test(test_link_queue_bytes_counted_and_drained),
    cmocka_unit_test(test_link_pause_stops_reading_until_resumed),
    cmocka_unit_test(test_link_one_wakeup_reads_a_bounded_amount),
    cmocka_unit_test(test_link_flush_nowait_keeps_order),
    cmocka_unit_test(test_link_closed_in_a_callback_reports_nothing),
    cmocka_unit_test(test_link_reset_by_peer_reads_its_last_frames),
    cmocka_unit_test(test_link_write_to_gone_peer_reads_its_last_frames),
    cmocka_unit_test(test_link_paused_gone_peer_reads_its_last_frames),
    cmocka_unit_test(test_link_big_record_arrives_whole),
    cmocka_unit_test(test_link_small_records_overtake_a_big_one),
    cmocka_unit_test(test_link_record_over_the_maximum),
    cmocka_unit_test(test_link_frag_by_hand_with_a_batch_between),
    cmocka_unit_test(test_link_bad_fragments_fail_the_link),
    cmocka_unit_test(test_link_forward_big_record_without_copy),
    cmocka_unit_test(test_link_forward_refused_or_closed),
    cmocka_unit_test(test_link_rx_take),
    cmocka_unit_test(test_link_rec_put_own),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
