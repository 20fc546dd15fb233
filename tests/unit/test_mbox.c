/*
** tests/unit/test_mbox.c
** Messages and bounded mailboxes.
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
  wd_mbox_init(&q, 0);
  for (i = 0; i < 10; i++) assert_int_equal(wd_mbox_push(&q, mk("t", i)), 0);
  assert_int_equal(q.count, 10);
  for (i = 0; i < 10; i++) {
    wd_msg *m = wd_mbox_pop(&q);
    assert_non_null(m);
    assert_int_equal(m->payload[0], i);
    wd_msg_free(m);
  }
  assert_null(wd_mbox_pop(&q));
  assert_int_equal(q.count, 0);
  assert_null(q.head);
  assert_null(q.tail);
}

static void test_mbox_push_when_full_returns_emboxfull(void **state) {
  wd_mbox q;
  wd_msg *m;
  (void)state;
  wd_mbox_init(&q, 2);
  assert_int_equal(wd_mbox_push(&q, mk("a", 1)), 0);
  assert_int_equal(wd_mbox_push(&q, mk("b", 2)), 0);
  m = mk("c", 3);
  assert_int_equal(wd_mbox_push(&q, m), WD_EMBOXFULL);
  /* The caller still owns a refused message; nothing was dropped. */
  assert_int_equal(q.count, 2);
  wd_mbox_push_force(&q, m);
  assert_int_equal(q.count, 3);
  wd_mbox_clear(&q);
  assert_int_equal(q.count, 0);
}

static void test_mbox_remove_head_middle_tail(void **state) {
  wd_mbox q;
  wd_msg *a, *b, *c;
  (void)state;
  wd_mbox_init(&q, 0);
  wd_mbox_push(&q, a = mk("a", 1));
  wd_mbox_push(&q, b = mk("b", 2));
  wd_mbox_push(&q, c = mk("c", 3));
  wd_mbox_remove(&q, a, b); /* middle */
  assert_ptr_equal(a->next, c);
  wd_msg_free(b);
  wd_mbox_remove(&q, a, c); /* tail */
  assert_ptr_equal(q.tail, a);
  wd_msg_free(c);
  wd_mbox_remove(&q, NULL, a); /* head, now empty */
  assert_null(q.head);
  assert_null(q.tail);
  assert_int_equal(q.count, 0);
  wd_msg_free(a);
}

static void test_mbox_clear_on_empty_is_noop(void **state) {
  wd_mbox q;
  (void)state;
  wd_mbox_init(&q, 5);
  wd_mbox_clear(&q);
  assert_int_equal(q.count, 0);
  wd_msg_free(NULL);
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

/* The byte bound: a message that would take the queue past it is refused
** and stays the caller's; one that fits exactly is taken. */
static void test_mbox_push_past_byte_bound_returns_emboxfull(void **state) {
  wd_mbox q;
  wd_msg *a = mkn(1000), *b = mkn(1000), *c;
  (void)state;
  wd_mbox_init(&q, 0);
  wd_mbox_bound(&q, wd_msg_size(a) * 2, NULL);
  assert_int_equal(wd_mbox_push(&q, a), 0);
  assert_int_equal(wd_mbox_push(&q, b), 0);
  assert_int_equal(q.bytes, wd_msg_size(a) * 2);
  c = mkn(0);
  assert_int_equal(wd_mbox_push(&q, c), WD_EMBOXFULL);
  assert_int_equal(q.count, 2);
  /* Popping makes room again. */
  wd_msg_free(wd_mbox_pop(&q));
  assert_int_equal(q.bytes, wd_msg_size(b));
  assert_int_equal(wd_mbox_push(&q, c), 0);
  wd_mbox_clear(&q);
  assert_int_equal(q.bytes, 0);
  assert_int_equal(q.count, 0);
}

static void test_mbox_message_larger_than_bound_is_refused(void **state) {
  wd_mbox q;
  wd_msg *m = mkn(4096);
  (void)state;
  wd_mbox_init(&q, 0);
  wd_mbox_bound(&q, 4096, NULL);
  assert_int_equal(wd_mbox_room(&q, m), WD_EMBOXFULL);
  assert_int_equal(wd_mbox_push(&q, m), WD_EMBOXFULL);
  assert_int_equal(q.count, 0);
  wd_msg_free(m);
}

/* Queues sharing a total (a host's mailboxes): the total's byte bound
** counts all of them, whichever queue a message goes to; a forced push is
** counted too, and every way out (pop, remove, clear) gives the bytes
** back. */
static void test_mbox_shared_total_bounds_every_queue(void **state) {
  wd_mtotal t = { 0, 0, 0 };
  wd_mbox q1, q2;
  wd_msg *a = mkn(500), *b = mkn(500), *c = mkn(500), *d;
  size_t one = wd_msg_size(a);
  (void)state;
  t.max_bytes = one * 2;
  wd_mbox_init(&q1, 0);
  wd_mbox_init(&q2, 0);
  wd_mbox_bound(&q1, 0, &t);
  wd_mbox_bound(&q2, 0, &t);
  assert_int_equal(wd_mbox_push(&q1, a), 0);
  assert_int_equal(wd_mbox_push(&q2, b), 0);
  assert_int_equal(t.bytes, one * 2);
  assert_int_equal(t.count, 2);
  assert_int_equal(wd_mbox_push(&q1, c), WD_EMBOXFULL);
  assert_int_equal(wd_mbox_push(&q2, c), WD_EMBOXFULL);
  /* An event that must not be refused goes in and is counted. */
  wd_mbox_push_force(&q2, c);
  assert_int_equal(t.bytes, one * 3);
  wd_mbox_remove(&q2, b, c);
  wd_msg_free(c);
  assert_int_equal(t.bytes, one * 2);
  /* Moving a message between queues of one total changes nothing. */
  d = wd_mbox_pop(&q1);
  assert_int_equal(t.bytes, one);
  wd_mbox_push_force(&q2, d);
  assert_int_equal(t.bytes, one * 2);
  assert_int_equal(q2.count, 2);
  assert_int_equal(q1.bytes, 0);
  wd_mbox_clear(&q2);
  assert_int_equal(t.bytes, 0);
  assert_int_equal(t.count, 0);
}

/* The count bound holds as before, and bounds of 0 mean none. */
static void test_mbox_zero_bounds_mean_none(void **state) {
  wd_mtotal t = { 0, 0, 0 };
  wd_mbox q;
  int i;
  (void)state;
  wd_mbox_init(&q, 0);
  wd_mbox_bound(&q, 0, &t);
  for (i = 0; i < 100; i++)
    assert_int_equal(wd_mbox_push(&q, mkn(4096)), 0);
  assert_int_equal(t.count, 100);
  wd_mbox_clear(&q);
  assert_int_equal(t.bytes, 0);
}

int main(void) {
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_msg_new_copies_all_fields),
    cmocka_unit_test(test_msg_new_empty_fields_are_empty_strings),
    cmocka_unit_test(test_msg_new_out_of_memory_returns_null),
    cmocka_unit_test(test_mbox_fifo_order),
    cmocka_unit_test(test_mbox_push_when_full_returns_emboxfull),
    cmocka_unit_test(test_mbox_remove_head_middle_tail),
    cmocka_unit_test(test_mbox_clear_on_empty_is_noop),
    cmocka_unit_test(test_msg_size_counts_struct_and_strings),
    cmocka_unit_test(test_mbox_push_past_byte_bound_returns_emboxfull),
    cmocka_unit_test(test_mbox_message_larger_than_bound_is_refused),
    cmocka_unit_test(test_mbox_shared_total_bounds_every_queue),
    cmocka_unit_test(test_mbox_zero_bounds_mean_none),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
