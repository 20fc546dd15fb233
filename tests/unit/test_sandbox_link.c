/*
** tests/unit/test_sandbox_link.c
** The link transport (sandbox/link.c) between two ends on one loop: frames
** the socket cannot take at once wait in order and leave when it can; a
** full socket is never a crash (issue 11: the poll restarted with no
** callback, and the next writable event jumped to address 0).
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
  static uint8_t pad[RECLEN];
  int i;
  (void)state;
  assert_int_equal(uv_loop_init(&loop), 0);
  open_pair(&loop, &a, &b);
  for (i = 0; i < NREC; i++) {
    size_t st = wd_link_rec_begin(&a.l, WD_R_LOG);
    wd_buf_put_u32(&a.l.batch, (uint32_t)i);
    wd_buf_put(&a.l.batch, pad, sizeof pad);
    assert_true(wd_link_rec_end(&a.l, st) >= 0);
    assert_true(wd_link_flush(&a.l) >= 0);
  }
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
  static uint8_t pad[RECLEN];
  int i;
  (void)state;
  assert_int_equal(uv_loop_init(&loop), 0);
  open_pair(&loop, &a, &b);
  for (i = 0; i < NREC; i++) {
    size_t st = wd_link_rec_begin(&a.l, WD_R_LOG);
    wd_buf_put_u32(&a.l.batch, (uint32_t)i);
    wd_buf_put(&a.l.batch, pad, sizeof pad);
    assert_true(wd_link_rec_end(&a.l, st) >= 0);
    assert_true(wd_link_flush(&a.l) >= 0);
    st = wd_link_rec_begin(&b.l, WD_R_LOG);
    wd_buf_put_u32(&b.l.batch, (uint32_t)i);
    wd_buf_put(&b.l.batch, pad, sizeof pad);
    assert_true(wd_link_rec_end(&b.l, st) >= 0);
    assert_true(wd_link_flush(&b.l) >= 0);
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
  size_t st;
  int i;
  (void)state;
  assert_int_equal(uv_loop_init(&loop), 0);
  open_pair(&loop, &a, &b);
  b.l.on_rec = closing_rec;
  st = wd_link_rec_begin(&a.l, WD_R_LOG);
  wd_buf_put_u32(&a.l.batch, 0);
  assert_true(wd_link_rec_end(&a.l, st) >= 0);
  assert_true(wd_link_flush(&a.l) >= 0);
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
    cmocka_unit_test(test_link_closed_in_a_callback_reports_nothing),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
