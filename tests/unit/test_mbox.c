/*
** tests/unit/test_mbox.c
** Messages and mailboxes (the bound is the actor's: tests/unit/test_lua_pool.c
** and tests/avail).
*/
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "ward/wd_mbox.h"

static wd_msg *mk(const char *topic, int n) {
  uint8_t p[4] = { (uint8_t)n, 0, 0, 0 };
  return wd_msg_new("{h|0x00001}", 11, topic, strlen(topic), p, sizeof p);
}

static void test_msg_new_copies_all_fields(void **state) {
  uint8_t payload[3] = { 1, 2, 3 };
  wd_msg *m = wd_msg_new("from", 4, "topic", 5, payload, 3);
  (void)state;
  assert_non_null(m);
  assert_string_equal(m->from, "from");
  assert_string_equal(m->topic, "topic");
  assert_int_equal(m->plen, 3);
  assert_memory_equal(m->payload, payload, 3);
  assert_int_equal(m->fromlen, 4);
  assert_int_equal(m->topiclen, 5);
  assert_null(m->next);
  wd_msg_free(m);
}

static void test_msg_new_empty_fields_are_empty_strings(void **state) {
  wd_msg *m = wd_msg_new(NULL, 0, NULL, 0, NULL, 0);
  (void)state;
  assert_non_null(m);
  assert_string_equal(m->from, "");
  assert_string_equal(m->topic, "");
  assert_int_equal(m->plen, 0);
  wd_msg_free(m);
}

static int fail_after;
static void *failing_malloc(size_t n) {
  if (fail_after-- <= 0) return NULL;
  return malloc(n);
}

static void test_msg_new_out_of_memory_returns_null(void **state) {
  (void)state;
  fail_after = 0;
  wd_replace_allocator(failing_malloc, NULL, NULL);
  assert_null(mk("t", 1));
  wd_replace_allocator(NULL, NULL, NULL);
}

static void test_mbox_fifo_order(void **state) {
  wd_mbox q;
  int i;
  (void)state;
  wd_mbox_init(&q, NULL);
  for (i = 0; i < 10; i++) wd_mbox_push(&q, mk("t", i));
  assert_int_equal(q.count, 10);
  for (i = 0; i < 10; i++) {
    wd_msg *m = wd_mbox_pop(&q);
    assert_non_null(m);
    assert_int_equal(m->payload[0], i);
    wd_msg_free(m);
  }
  assert_null(wd_mbox_pop(&q));
  assert_int_equal(q.count, 0);
  assert_int_equal(q.bytes, 0);
}

static void test_mbox_clear_on_empty_is_noop(void **state) {
  wd_mbox q;
  (void)state;
  wd_mbox_init(&q, NULL);
  wd_mbox_clear(&q);
  assert_null(q.head);
  assert_null(q.tail);
  assert_int_equal(q.count, 0);
}

static wd_msg *mkn(size_t plen) {
  static uint8_t p[4096];
  return wd_msg_new("{h|0x00001}", 11, "t", 1, p, plen);
}

static void test_msg_size_counts_struct_and_strings(void **state) {
  wd_msg *m = mkn(100);
  (void)state;
  assert_int_equal(wd_msg_size(m), sizeof *m + 11 + 1 + 100 + 2);
  wd_msg_free(m);
}

/* Queues sharing a total (a host's mailboxes) count every message in it,
** whichever queue it goes to, and every way out (pop, clear) gives its
** bytes back; moving a message between two of them changes nothing. */
static void test_mbox_shared_total_counts_every_queue(void **state) {
  wd_mtotal t;
  wd_mbox q1, q2;
  wd_msg *a = mkn(500), *b = mkn(700), *d;
  size_t sa = wd_msg_size(a), sb = wd_msg_size(b);
  (void)state;
  memset(&t, 0, sizeof t);
  wd_mbox_init(&q1, &t);
  wd_mbox_init(&q2, &t);
  wd_mbox_push(&q1, a);
  wd_mbox_push(&q2, b);
  assert_int_equal(t.bytes, sa + sb);
  assert_int_equal(t.count, 2);
  assert_int_equal(q1.bytes, sa);
  assert_int_equal(q2.bytes, sb);
  d = wd_mbox_pop(&q1);
  assert_ptr_equal(d, a);
  assert_int_equal(t.bytes, sb);
  wd_mbox_push(&q2, d);
  assert_int_equal(t.bytes, sa + sb);
  assert_int_equal(q2.count, 2);
  assert_int_equal(q1.bytes, 0);
  wd_mbox_clear(&q2);
  assert_int_equal(t.bytes, 0);
  assert_int_equal(t.count, 0);
}

/* A process's total counted in its host's: the host counts every byte
** and, in 'over', what each process holds past its 'floor'; every way out
** gives it back. */
static void test_mbox_host_counts_bytes_past_each_floor(void **state) {
  wd_mtotal host, p1, p2;
  wd_mbox q1, q2, q3;
  wd_msg *a = mkn(500), *b = mkn(500), *c = mkn(500), *d;
  size_t n = wd_msg_size(a);
  (void)state;
  memset(&host, 0, sizeof host);
  memset(&p1, 0, sizeof p1);
  memset(&p2, 0, sizeof p2);
  host.floor = n + n / 2; /* one message and a half */
  p1.up = p2.up = &host;
  wd_mbox_init(&q1, &p1);
  wd_mbox_init(&q2, &p1);
  wd_mbox_init(&q3, &p2);
  wd_mbox_push(&q1, a);
  assert_int_equal(host.over, 0);
  wd_mbox_push(&q2, b); /* p1: two messages, half of one past */
  assert_int_equal(p1.bytes, 2 * n);
  assert_int_equal(host.bytes, 2 * n);
  assert_int_equal(host.count, 2);
  assert_int_equal(host.over, n / 2 + (n & 1));
  wd_mbox_push(&q3, c); /* p2 within its floor */
  assert_int_equal(host.over, n / 2 + (n & 1));
  assert_int_equal(host.bytes, 3 * n);
  d = wd_mbox_pop(&q1);
  assert_ptr_equal(d, a);
  assert_int_equal(host.over, 0);
  wd_mbox_push(&q3, d); /* p2 past its floor now */
  assert_int_equal(host.over, n / 2 + (n & 1));
  assert_int_equal(p2.count, 2);
  wd_mbox_clear(&q3);
  wd_mbox_clear(&q2);
  assert_int_equal(host.over, 0);
  assert_int_equal(host.bytes, 0);
  assert_int_equal(host.count, 0);
  assert_int_equal(p1.bytes + p2.bytes, 0);
}

int main(void) {
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_msg_new_copies_all_fields),
    cmocka_unit_test(test_msg_new_empty_fields_are_empty_strings),
    cmocka_unit_test(test_msg_new_out_of_memory_returns_null),
    cmocka_unit_test(test_mbox_fifo_order),
    cmocka_unit_test(test_mbox_clear_on_empty_is_noop),
    cmocka_unit_test(test_msg_size_counts_struct_and_strings),
    cmocka_unit_test(test_mbox_shared_total_counts_every_queue),
    cmocka_unit_test(test_mbox_host_counts_bytes_past_each_floor),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
