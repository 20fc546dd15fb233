/*
** tests/unit/test_sandbox_hostmem.c
** The host's allocator (sandbox/hostmem.c): big blocks freed are kept
** within their bounds (count, size, time) and handed out again, with
** what the new owner did not ask for given back to the kernel.
** Runs in: test.
*/
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cmocka.h>

#include "ward/wd_common.h"
#include "../../sandbox/hostmain_int.h"

#define MIB (1u << 20)

static int setup(void **state) {
  (void)state;
  wd__hostmem_install();
  wd__hostmem_limit(64u * MIB);
  return 0;
}

static int teardown(void **state) {
  (void)state;
  wd__hostmem_release();
  wd__hostmem_limit(0);
  wd_replace_allocator(NULL, NULL, NULL);
  return 0;
}

/* Pages of [p, p + n) resident. */
static size_t resident(void *p, size_t n) {
  size_t ps = (size_t)sysconf(_SC_PAGESIZE), i, k = 0;
  uintptr_t a = (uintptr_t)p & ~(ps - 1);
  size_t len = (uintptr_t)p + n - a, np = (len + ps - 1) / ps;
  unsigned char *v = malloc(np);
  assert_non_null(v);
  assert_int_equal(mincore((void *)a, len, v), 0);
  for (i = 0; i < np; i++)
    k += v[i] & 1;
  free(v);
  return k;
}

/* A big block freed comes back for the next big allocation that fits;
** small ones are glibc's alone. */
static void test_hostmem_keeps_and_reuses(void **state) {
  uint8_t *p, *q;
  (void)state;
  p = wd_malloc(8 * MIB);
  assert_non_null(p);
  memset(p, 1, 8 * MIB);
  wd_free(p);
  assert_true(wd__hostmem_kept() >= 8 * MIB);
  q = wd_malloc(16 * MIB); /* does not fit */
  assert_ptr_not_equal(q, p);
  assert_true(wd__hostmem_kept() >= 8 * MIB);
  wd_free(q);             /* kept too */
  q = wd_malloc(6 * MIB); /* the smallest that fits */
  assert_ptr_equal(q, p);
  wd_free(q);
  q = wd_malloc(MIB); /* small: not from the kept ones */
  assert_ptr_not_equal(q, p);
  wd_free(q);
  assert_true(wd__hostmem_kept() >= 24 * MIB);
}

/* What the new owner did not ask for goes back to the kernel. */
static void test_hostmem_trims_what_is_not_asked_for(void **state) {
  uint8_t *p, *q;
  (void)state;
  p = wd_malloc(32 * MIB);
  assert_non_null(p);
  memset(p, 1, 32 * MIB);
  wd_free(p);
  q = wd_malloc(5 * MIB);
  assert_ptr_equal(q, p);
  assert_true(resident(q, 5 * MIB) >= 5 * MIB / 4096 - 1);
  assert_true(resident(q + 6 * MIB, 26 * MIB - 4096) == 0);
  assert_int_equal(q[5 * MIB - 1], 1); /* what it asked for is as it was */
  wd_free(q);
}

/* Growing into a kept block keeps the bytes. */
static void test_hostmem_realloc_into_kept_block(void **state) {
  uint8_t *p, *k;
  size_t i;
  (void)state;
  p = wd_realloc(NULL, 4 * MIB + 1);
  assert_non_null(p);
  for (i = 0; i < 4 * MIB + 1; i += 4099)
    p[i] = (uint8_t)i;
  k = wd_malloc(40 * MIB);
  assert_non_null(k);
  wd_free(k);
  p = wd_realloc(p, 20 * MIB);
  assert_ptr_equal(p, k);
  for (i = 0; i < 4 * MIB + 1; i += 4099)
    assert_int_equal(p[i], (uint8_t)i);
  p = wd_realloc(p, 30 * MIB); /* it holds that: glibc's realloc */
  assert_non_null(p);
  for (i = 0; i < 4 * MIB + 1; i += 4099)
    assert_int_equal(p[i], (uint8_t)i);
  wd_free(p);
}

/* At most WD_HOSTMEM_SLOTS blocks, none over twice the limit; the limit
** drops those over it; idle ticks give everything back. */
static void test_hostmem_bounds(void **state) {
  void *p[WD_HOSTMEM_SLOTS + 2];
  unsigned i;
  (void)state;
  wd__hostmem_release();
  for (i = 0; i < WD_HOSTMEM_SLOTS + 2; i++) {
    p[i] = wd_malloc(5 * MIB);
    assert_non_null(p[i]);
  }
  for (i = 0; i < WD_HOSTMEM_SLOTS + 2; i++)
    wd_free(p[i]);
  assert_true(wd__hostmem_kept() <= WD_HOSTMEM_SLOTS * 6 * MIB);
  assert_true(wd__hostmem_kept() >= WD_HOSTMEM_SLOTS * 5 * MIB);
  wd__hostmem_release();
  assert_int_equal(wd__hostmem_kept(), 0);
  wd_free(wd_malloc(129 * MIB)); /* over 2 * 64 MiB */
  assert_int_equal(wd__hostmem_kept(), 0);
  wd_free(wd_malloc(100 * MIB));
  assert_true(wd__hostmem_kept() >= 100 * MIB);
  wd__hostmem_limit(8 * MIB);
  assert_int_equal(wd__hostmem_kept(), 0);
  wd__hostmem_limit(64 * MIB);
  wd_free(wd_malloc(5 * MIB));
  for (i = 0; i + 1 < WD_HOSTMEM_IDLE; i++)
    wd__hostmem_tick();
  assert_true(wd__hostmem_kept() > 0);
  wd__hostmem_tick();
  assert_int_equal(wd__hostmem_kept(), 0);
}

/* A big allocation that leaves no kept block like it has one made ahead,
** a step per loop turn; then the next one like it finds its pages there. */
static void test_hostmem_makes_one_ahead(void **state) {
  uint8_t *p, *q;
  unsigned i;
  (void)state;
  wd__hostmem_release();
  p = wd_malloc(8 * MIB);
  assert_non_null(p);
  assert_int_equal(wd__hostmem_kept(), 0);
  for (i = 0; i < 8 * MIB / WD_HOSTMEM_STEP - 1; i++) {
    wd__hostmem_step();
    assert_int_equal(wd__hostmem_kept(), 0);
  }
  wd__hostmem_step();
  assert_true(wd__hostmem_kept() >= 8 * MIB);
  q = wd_malloc(8 * MIB);
  assert_ptr_not_equal(q, p);
  assert_true(resident(q, 8 * MIB) >= 8 * MIB / 4096 - 1);
  wd_free(p);
  wd_free(q);
  wd__hostmem_step(); /* wanted, but one came back: none made */
  assert_true(wd__hostmem_kept() >= 16 * MIB);
  q = wd_malloc(8 * MIB);
  p = wd_malloc(8 * MIB);
  for (i = 0; i < 8 * MIB / WD_HOSTMEM_STEP; i++)
    wd__hostmem_step();
  assert_true(wd__hostmem_kept() >= 8 * MIB);
  wd_free(p);
  wd_free(q);
  assert_true(wd__hostmem_kept() >= 24 * MIB);
  assert_true(wd__hostmem_kept() <= WD_HOSTMEM_SLOTS * 9 * MIB);
}

/* The block made ahead takes a slot while it is made: blocks freed
** meanwhile push the oldest out, never past WD_HOSTMEM_SLOTS in all. */
static void test_hostmem_spare_counts_as_a_slot(void **state) {
  void *p[WD_HOSTMEM_SLOTS];
  void *big;
  unsigned i;
  (void)state;
  wd__hostmem_release();
  for (i = 0; i < WD_HOSTMEM_SLOTS; i++) {
    p[i] = wd_malloc(5 * MIB);
    assert_non_null(p[i]);
  }
  big = wd_malloc(20 * MIB); /* no kept block holds it: one is wanted */
  assert_non_null(big);
  wd__hostmem_step();        /* the spare is begun, not done */
  assert_true(wd__hostmem_blocks() >= 1);
  for (i = 0; i < WD_HOSTMEM_SLOTS; i++) {
    wd_free(p[i]);
    assert_true(wd__hostmem_blocks() <= WD_HOSTMEM_SLOTS);
  }
  wd_free(big);
  assert_true(wd__hostmem_blocks() <= WD_HOSTMEM_SLOTS);
  for (i = 0; i < 20 * MIB / WD_HOSTMEM_STEP; i++) {
    wd__hostmem_step();
    assert_true(wd__hostmem_blocks() <= WD_HOSTMEM_SLOTS);
  }
  wd__hostmem_release();
  assert_int_equal(wd__hostmem_blocks(), 0);
}

int main(void) {
  const struct CMUnitTest tests[] = {
    cmocka_unit_test_setup_teardown(test_hostmem_keeps_and_reuses, setup,
                                    teardown),
    cmocka_unit_test_setup_teardown(test_hostmem_trims_what_is_not_asked_for,
                                    setup, teardown),
    cmocka_unit_test_setup_teardown(test_hostmem_realloc_into_kept_block, setup,
                                    teardown),
    cmocka_unit_test_setup_teardown(test_hostmem_bounds, setup, teardown),
    cmocka_unit_test_setup_teardown(test_hostmem_makes_one_ahead, setup,
                                    teardown),
    cmocka_unit_test_setup_teardown(test_hostmem_spare_counts_as_a_slot, setup,
                                    teardown),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
