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
#define RECLEN (200u << 10) /* 200 KiB: a few fill any default socket */

typedef struct end {
  wd_link l;
  int got;        /* records received */
  int in_order;   /* each carried the number of the one expected */
  int failed;
  int drained; /* on_drain calls */
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
  (void)code;
  (void)why;
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
  for (i = 0; i < 4; i++)
    put_rec(&a, (uint32_t)i, RECLEN);
  assert_null(a.l.qhead);
  uv_run(&loop, UV_RUN_NOWAIT);
  assert_int_equal(b.got, (WD_LINK_BATCH_SOFT + RECLEN - 1) / RECLEN);
  for (i = 0; i < 100 && b.got < 4; i++)
    uv_run(&loop, UV_RUN_NOWAIT);
  assert_int_equal(b.got, 4);
  /* Small frames: WD_LINK_READ_FRAMES per wakeup. */
  for (i = 4; i < 4 + 100; i++)
    put_rec(&a, (uint32_t)i, 16);
  uv_run(&loop, UV_RUN_NOWAIT);
  assert_int_equal(b.got, 4 + WD_LINK_READ_FRAMES);
  for (i = 0; i < 100 && b.got < 104; i++)
    uv_run(&loop, UV_RUN_NOWAIT);
  assert_int_equal(b.got, 104);
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

int main(void) {
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_link_full_socket_queues_and_drains_in_order),
    cmocka_unit_test(test_link_both_ends_full_drain),
    cmocka_unit_test(test_link_queue_bytes_counted_and_drained),
    cmocka_unit_test(test_link_pause_stops_reading_until_resumed),
    cmocka_unit_test(test_link_one_wakeup_reads_a_bounded_amount),
    cmocka_unit_test(test_link_flush_nowait_keeps_order),
    cmocka_unit_test(test_link_closed_in_a_callback_reports_nothing),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
