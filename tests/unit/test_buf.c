/*
** tests/unit/test_buf.c
** Unit tests for the byte buffer (wd_buf) and bounds-checked reader
** (wd_cur).
** Runs in: broker and host.
*/
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "ward/wd_buf.h"

/* {====== Failing allocator ====== */

/* Fail the 'fail_at'-th allocation from now on (1-based); 0 never fails. */
static int alloc_calls, fail_at;

static void *t_malloc(size_t n) {
  if (fail_at != 0 && ++alloc_calls >= fail_at) return NULL;
  return malloc(n);
}

static void *t_realloc(void *p, size_t n) {
  if (fail_at != 0 && ++alloc_calls >= fail_at) return NULL;
  return realloc(p, n);
}

static void fail_allocs_from(int n) {
  alloc_calls = 0;
  fail_at = n;
  wd_replace_allocator(t_malloc, t_realloc, NULL);
}

static int restore_allocator(void **state) {
  (void)state;
  fail_at = 0;
  wd_replace_allocator(NULL, NULL, NULL);
  return 0;
}

/* }====== */

/* {====== Writer ====== */

static void test_buf_init_sets_empty_state(void **state) {
  wd_buf b;
  (void)state;
  memset(&b, 0xa5, sizeof(b));
  wd_buf_init(&b, 77);
  assert_null(b.p);
  assert_int_equal(b.len, 0);
  assert_int_equal(b.cap, 0);
  assert_int_equal(b.max, 77);
  assert_int_equal(b.err, 0);
  wd_buf_close(&b);
}

static void test_buf_close_frees_and_keeps_max(void **state) {
  wd_buf b;
  (void)state;
  wd_buf_init(&b, 100);
  wd_buf_put(&b, "abc", 3);
  wd_buf_close(&b);
  assert_null(b.p);
  assert_int_equal(b.len, 0);
  assert_int_equal(b.max, 100);
  wd_buf_close(&b); /* twice is harmless */
  assert_null(b.p);
}

static void test_buf_reset_keeps_memory_and_clears_error(void **state) {
  wd_buf b;
  uint8_t *p;
  (void)state;
  wd_buf_init(&b, 4);
  wd_buf_put(&b, "abcd", 4);
  wd_buf_put_u8(&b, 1);
  assert_int_equal(b.err, WD_ETOOBIG);
  p = b.p;
  wd_buf_reset(&b);
  assert_int_equal(b.len, 0);
  assert_int_equal(b.err, 0);
  assert_ptr_equal(b.p, p);
  wd_buf_put(&b, "x", 1);
  assert_int_equal(b.err, 0);
  assert_memory_equal(b.p, "x", 1);
  wd_buf_close(&b);
}

static void test_buf_reserve_grows_capacity(void **state) {
  wd_buf b;
  (void)state;
  wd_buf_init(&b, 0);
  assert_int_equal(wd_buf_reserve(&b, 0), 0);
  assert_int_equal(wd_buf_reserve(&b, 1000), 0);
  assert_true(b.cap >= 1000);
  assert_int_equal(b.len, 0);
  wd_buf_close(&b);
}

static void test_buf_reserve_past_max_returns_etoobig(void **state) {
  wd_buf b;
  (void)state;
  wd_buf_init(&b, 10);
  assert_int_equal(wd_buf_reserve(&b, 10), 0);
  assert_true(b.cap <= 10);
  assert_int_equal(wd_buf_reserve(&b, 11), WD_ETOOBIG);
  /* reserve reports, it does not poison the buffer */
  assert_int_equal(b.err, 0);
  wd_buf_close(&b);
}

static void test_buf_reserve_size_overflow_returns_etoobig(void **state) {
  wd_buf b;
  (void)state;
  wd_buf_init(&b, 0);
  wd_buf_put(&b, "ab", 2);
  assert_int_equal(wd_buf_reserve(&b, SIZE_MAX), WD_ETOOBIG);
  assert_int_equal(wd_buf_reserve(&b, SIZE_MAX - 1), WD_ETOOBIG);
  wd_buf_close(&b);
}

static void test_buf_reserve_oom_returns_enomem(void **state) {
  wd_buf b;
  (void)state;
  wd_buf_init(&b, 0);
  fail_allocs_from(1);
  assert_int_equal(wd_buf_reserve(&b, 16), WD_ENOMEM);
  assert_null(b.p);
  assert_int_equal(b.cap, 0);
  restore_allocator(NULL);
  wd_buf_close(&b);
}

static void test_buf_put_appends_bytes(void **state) {
  wd_buf b;
  size_t i;
  (void)state;
  wd_buf_init(&b, 0);
  wd_buf_put(&b, "hello ", 6);
  wd_buf_put(&b, NULL, 0);
  wd_buf_put(&b, "world", 5);
  assert_int_equal(b.err, 0);
  assert_int_equal(b.len, 11);
  assert_memory_equal(b.p, "hello world", 11);
  /* growing past the first allocation keeps the contents */
  for (i = 0; i < 1000; i++)
    wd_buf_put_u8(&b, (uint8_t)i);
  assert_int_equal(b.len, 1011);
  assert_memory_equal(b.p, "hello world", 11);
  assert_int_equal(b.p[11 + 999], (uint8_t)999);
  wd_buf_close(&b);
}

static void
test_buf_put_to_exact_max_then_one_more_returns_etoobig(void **state) {
  wd_buf b;
  (void)state;
  wd_buf_init(&b, 8);
  wd_buf_put_u64(&b, 1);
  assert_int_equal(b.err, 0);
  assert_int_equal(b.len, 8);
  wd_buf_put_u8(&b, 2);
  assert_int_equal(b.err, WD_ETOOBIG);
  assert_int_equal(b.len, 8);
  wd_buf_close(&b);
}

static void test_buf_put_after_error_is_ignored(void **state) {
  wd_buf b;
  (void)state;
  wd_buf_init(&b, 4);
  wd_buf_put(&b, "abc", 3);
  wd_buf_put(&b, "de", 2); /* too big: sets the sticky error */
  assert_int_equal(b.err, WD_ETOOBIG);
  wd_buf_put(&b, "x", 1); /* would fit, but the buffer is poisoned */
  wd_buf_put_u8(&b, 1);
  wd_buf_put_u32(&b, 1);
  wd_buf_put_u64(&b, 1);
  wd_buf_put_str(&b, "x", 1);
  wd_buf_put_cstr(&b, "x");
  assert_int_equal(b.len, 3);
  assert_int_equal(b.err, WD_ETOOBIG);
  wd_buf_close(&b);
}

static void test_buf_put_first_error_wins(void **state) {
  wd_buf b;
  (void)state;
  wd_buf_init(&b, 4);
  fail_allocs_from(1);
  wd_buf_put_u8(&b, 1);
  assert_int_equal(b.err, WD_ENOMEM);
  restore_allocator(NULL);
  wd_buf_put(&b, "too big", 7);
  assert_int_equal(b.err, WD_ENOMEM);
  wd_buf_close(&b);
}

static void test_buf_put_oom_at_each_allocation_returns_enomem(void **state) {
  int n;
  (void)state;
  /* Each growth is one allocation; fail the 1st, 2nd, ... until it
  ** succeeds. */
  for (n = 1;; n++) {
    wd_buf b;
    int i;
    wd_buf_init(&b, 0);
    fail_allocs_from(n);
    for (i = 0; i < 4096; i++)
      wd_buf_put_u32(&b, (uint32_t)i);
    restore_allocator(NULL);
    if (b.err == 0) {
      assert_int_equal(b.len, (size_t)4 * 4096);
      wd_buf_close(&b);
      break;
    }
    assert_int_equal(b.err, WD_ENOMEM);
    assert_true(b.len < (size_t)4 * 4096);
    wd_buf_close(&b);
  }
  assert_true(n > 2);
}

static void test_buf_put_integers_are_little_endian(void **state) {
  static const uint8_t want[] = {
    0x01,                                           /* u8 */
    0x07, 0x06, 0x05, 0x04,                         /* u32 */
    0x0f, 0x0e, 0x0d, 0x0c, 0x0b, 0x0a, 0x09, 0x08, /* u64 */
    0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, /* u64 max */
  };
  wd_buf b;
  (void)state;
  wd_buf_init(&b, 0);
  wd_buf_put_u8(&b, 0x01);
  wd_buf_put_u32(&b, 0x04050607);
  wd_buf_put_u64(&b, 0x08090a0b0c0d0e0fULL);
  wd_buf_put_u64(&b, UINT64_MAX);
  assert_int_equal(b.err, 0);
  assert_int_equal(b.len, sizeof(want));
  assert_memory_equal(b.p, want, sizeof(want));
  wd_buf_close(&b);
}

static void test_buf_put_str_writes_length_then_bytes(void **state) {
  wd_buf b;
  (void)state;
  wd_buf_init(&b, 0);
  wd_buf_put_str(&b, "abc", 3);
  wd_buf_put_str(&b, NULL, 0);
  assert_int_equal(b.err, 0);
  assert_int_equal(b.len, 11);
  assert_memory_equal(b.p, "\x03\0\0\0abc\0\0\0\0", 11);
  wd_buf_close(&b);
}

static void test_buf_put_str_over_u32_returns_etoobig(void **state) {
  wd_buf b;
  (void)state;
  if (SIZE_MAX <= UINT32_MAX) skip();
  wd_buf_init(&b, 0);
  /* The length is refused before a single byte of 's' is read. */
  wd_buf_put_str(&b, "x", (size_t)UINT32_MAX + 1);
  assert_int_equal(b.err, WD_ETOOBIG);
  assert_int_equal(b.len, 0);
  wd_buf_close(&b);
}

static void test_buf_put_cstr_null_writes_empty_string(void **state) {
  wd_buf b;
  (void)state;
  wd_buf_init(&b, 0);
  wd_buf_put_cstr(&b, "hi");
  wd_buf_put_cstr(&b, NULL);
  wd_buf_put_cstr(&b, "");
  assert_int_equal(b.err, 0);
  assert_int_equal(b.len, 14);
  assert_memory_equal(b.p, "\x02\0\0\0hi\0\0\0\0\0\0\0\0", 14);
  wd_buf_close(&b);
}

static void test_buf_patch_u32_overwrites_in_place(void **state) {
  wd_buf b;
  (void)state;
  wd_buf_init(&b, 0);
  wd_buf_put(&b, "ABCDEFGH", 8);
  wd_buf_patch_u32(&b, 2, 0x31323334);
  assert_memory_equal(b.p, "AB4321GH", 8);
  wd_buf_patch_u32(&b, 4, 0x35363738); /* last 4 bytes */
  assert_memory_equal(b.p, "AB438765", 8);
  assert_int_equal(b.len, 8);
  wd_buf_close(&b);
}

static void test_buf_patch_u32_past_end_does_nothing(void **state) {
  wd_buf b;
  (void)state;
  wd_buf_init(&b, 0);
  wd_buf_put(&b, "ABCDEFGH", 8);
  wd_buf_patch_u32(&b, 5, 0x31323334);
  wd_buf_patch_u32(&b, 8, 0x31323334);
  wd_buf_patch_u32(&b, 100, 0x31323334);
  assert_memory_equal(b.p, "ABCDEFGH", 8);
  assert_int_equal(b.len, 8);
  assert_int_equal(b.err, 0);
  wd_buf_close(&b);
}

static void test_buf_patch_u32_after_error_does_nothing(void **state) {
  wd_buf b;
  (void)state;
  wd_buf_init(&b, 8);
  wd_buf_put(&b, "ABCDEFGH", 8);
  wd_buf_put_u8(&b, 0);
  assert_int_equal(b.err, WD_ETOOBIG);
  wd_buf_patch_u32(&b, 0, 0x31323334);
  assert_memory_equal(b.p, "ABCDEFGH", 8);
  wd_buf_close(&b);
}

/* }====== */

/* {====== Reader ====== */

static const uint8_t le_bytes[] = {
  0x01,                                           /* u8 */
  0x03, 0x02,                                     /* two more u8 */
  0x07, 0x06, 0x05, 0x04,                         /* u32 */
  0x0f, 0x0e, 0x0d, 0x0c, 0x0b, 0x0a, 0x09, 0x08, /* u64 */
};

static void test_cur_init_and_left_track_offset(void **state) {
  wd_cur c;
  const uint8_t *p;
  (void)state;
  wd_cur_init(&c, le_bytes, sizeof(le_bytes));
  assert_ptr_equal(c.p, le_bytes);
  assert_int_equal(c.off, 0);
  assert_int_equal(wd_cur_left(&c), 15);
  assert_int_equal(wd_cur_bytes(&c, 4, &p), 0);
  assert_int_equal(wd_cur_left(&c), 11);
  wd_cur_init(&c, NULL, 0);
  assert_int_equal(wd_cur_left(&c), 0);
}

static void test_cur_integers_read_little_endian(void **state) {
  wd_cur c;
  uint8_t a, b[2];
  uint32_t d;
  uint64_t e;
  (void)state;
  wd_cur_init(&c, le_bytes, sizeof(le_bytes));
  assert_int_equal(wd_cur_u8(&c, &a), 0);
  assert_int_equal(wd_cur_u8(&c, &b[0]), 0);
  assert_int_equal(wd_cur_u8(&c, &b[1]), 0);
  assert_int_equal(wd_cur_u32(&c, &d), 0);
  assert_int_equal(wd_cur_u64(&c, &e), 0);
  assert_int_equal(a, 0x01);
  assert_int_equal(b[0], 0x03);
  assert_int_equal(b[1], 0x02);
  assert_int_equal(d, 0x04050607);
  assert_true(e == 0x08090a0b0c0d0e0fULL);
  assert_int_equal(wd_cur_left(&c), 0);
}

static void
test_cur_read_past_end_returns_ebadframe_and_keeps_offset(void **state) {
  wd_cur c;
  uint8_t a = 0xaa;
  uint32_t d = 0xaaaaaaaa;
  uint64_t e = 0xaaaaaaaaaaaaaaaaULL;
  const uint8_t *p = NULL;
  const char *s = NULL;
  size_t n = 99;
  (void)state;
  /* 3 bytes left after the first: too few for u32/u64, enough for u8s */
  wd_cur_init(&c, le_bytes, 4);
  assert_int_equal(wd_cur_u8(&c, &a), 0);
  assert_int_equal(wd_cur_u32(&c, &d), WD_EBADFRAME);
  assert_int_equal(c.off, 1);
  assert_int_equal(wd_cur_u64(&c, &e), WD_EBADFRAME);
  assert_int_equal(c.off, 1);
  assert_int_equal(wd_cur_bytes(&c, 4, &p), WD_EBADFRAME);
  assert_int_equal(wd_cur_bytes(&c, SIZE_MAX, &p), WD_EBADFRAME);
  assert_int_equal(c.off, 1);
  assert_int_equal(wd_cur_str(&c, &s, &n), WD_EBADFRAME);
  assert_int_equal(c.off, 1);
  /* failed reads leave the outputs alone */
  assert_true(d == 0xaaaaaaaa && e == 0xaaaaaaaaaaaaaaaaULL);
  assert_null(p);
  assert_null(s);
  assert_int_equal(n, 99);
  assert_int_equal(wd_cur_u8(&c, &a), 0);
  assert_int_equal(wd_cur_u8(&c, &a), 0);
  assert_int_equal(wd_cur_u8(&c, &a), 0);
  assert_int_equal(wd_cur_left(&c), 0);
  assert_int_equal(wd_cur_u8(&c, &a), WD_EBADFRAME);
  assert_int_equal(c.off, 4);
}

static void test_cur_bytes_borrows_and_allows_zero(void **state) {
  wd_cur c;
  const uint8_t *p = NULL;
  (void)state;
  wd_cur_init(&c, le_bytes, sizeof(le_bytes));
  assert_int_equal(wd_cur_bytes(&c, 0, &p), 0);
  assert_ptr_equal(p, le_bytes);
  assert_int_equal(wd_cur_bytes(&c, 15, &p), 0);
  assert_ptr_equal(p, le_bytes);
  assert_int_equal(wd_cur_bytes(&c, 0, &p), 0);
  assert_ptr_equal(p, le_bytes + 15);
  assert_int_equal(wd_cur_bytes(&c, 1, &p), WD_EBADFRAME);
}

static void test_cur_str_reads_what_put_str_wrote(void **state) {
  wd_buf b;
  wd_cur c;
  const char *s;
  size_t n;
  (void)state;
  wd_buf_init(&b, 0);
  wd_buf_put_cstr(&b, "hello");
  wd_buf_put_str(&b, "", 0);
  assert_int_equal(b.err, 0);
  wd_cur_init(&c, b.p, b.len);
  assert_int_equal(wd_cur_str(&c, &s, &n), 0);
  assert_int_equal(n, 5);
  assert_memory_equal(s, "hello", 5);
  assert_int_equal(wd_cur_str(&c, &s, &n), 0);
  assert_int_equal(n, 0);
  assert_int_equal(wd_cur_left(&c), 0);
  wd_buf_close(&b);
}

static void
test_cur_str_length_past_end_returns_ebadframe_and_keeps_offset(void **state) {
  static const uint8_t bad[] = { 0x06, 0, 0, 0, 'h', 'e', 'l', 'l', 'o' };
  static const uint8_t huge[] = { 0xff, 0xff, 0xff, 0xff, 'x' };
  wd_cur c;
  const char *s;
  size_t n;
  (void)state;
  wd_cur_init(&c, bad, sizeof(bad));
  assert_int_equal(wd_cur_str(&c, &s, &n), WD_EBADFRAME);
  assert_int_equal(c.off, 0);
  wd_cur_init(&c, huge, sizeof(huge));
  assert_int_equal(wd_cur_str(&c, &s, &n), WD_EBADFRAME);
  assert_int_equal(c.off, 0);
  /* a length prefix cut short */
  wd_cur_init(&c, bad, 3);
  assert_int_equal(wd_cur_str(&c, &s, &n), WD_EBADFRAME);
  assert_int_equal(c.off, 0);
}

/* }====== */

int main(void) {
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_buf_init_sets_empty_state),
    cmocka_unit_test(test_buf_close_frees_and_keeps_max),
    cmocka_unit_test(test_buf_reset_keeps_memory_and_clears_error),
    cmocka_unit_test(test_buf_reserve_grows_capacity),
    cmocka_unit_test(test_buf_reserve_past_max_returns_etoobig),
    cmocka_unit_test(test_buf_reserve_size_overflow_returns_etoobig),
    cmocka_unit_test_teardown(test_buf_reserve_oom_returns_enomem,
                              restore_allocator),
    cmocka_unit_test(test_buf_put_appends_bytes),
    cmocka_unit_test(test_buf_put_to_exact_max_then_one_more_returns_etoobig),
    cmocka_unit_test(test_buf_put_after_error_is_ignored),
    cmocka_unit_test_teardown(test_buf_put_first_error_wins, restore_allocator),
    cmocka_unit_test_teardown(
        test_buf_put_oom_at_each_allocation_returns_enomem, restore_allocator),
    cmocka_unit_test(test_buf_put_integers_are_little_endian),
    cmocka_unit_test(test_buf_put_str_writes_length_then_bytes),
    cmocka_unit_test(test_buf_put_str_over_u32_returns_etoobig),
    cmocka_unit_test(test_buf_put_cstr_null_writes_empty_string),
    cmocka_unit_test(test_buf_patch_u32_overwrites_in_place),
    cmocka_unit_test(test_buf_patch_u32_past_end_does_nothing),
    cmocka_unit_test(test_buf_patch_u32_after_error_does_nothing),
    cmocka_unit_test(test_cur_init_and_left_track_offset),
    cmocka_unit_test(test_cur_integers_read_little_endian),
    cmocka_unit_test(test_cur_read_past_end_returns_ebadframe_and_keeps_offset),
    cmocka_unit_test(test_cur_bytes_borrows_and_allows_zero),
    cmocka_unit_test(test_cur_str_reads_what_put_str_wrote),
    cmocka_unit_test(
        test_cur_str_length_past_end_returns_ebadframe_and_keeps_offset),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
