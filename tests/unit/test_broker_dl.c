/*
** tests/unit/test_broker_dl.c
** The broker's heap of deadlines (sandbox/broker_dl.c), which times out
** the front door's execs with one timer: the earliest deadline is always
** on top (ties go by sequence number), under random adds and removals
** from anywhere, against a plain scan of what is in; a removal of one
** that is not in is harmless.
** Runs in: broker.
*/
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "../../sandbox/broker_int.h"

#define N 500

static uint64_t rnd_state = 88172645463325252ull;

static uint64_t rnd(void) { /* xorshift64 */
  rnd_state ^= rnd_state << 13;
  rnd_state ^= rnd_state >> 7;
  rnd_state ^= rnd_state << 17;
  return rnd_state;
}

/* The earliest of the deadlines in 'in' (by scan), or NULL. */
static brk_dl *earliest(brk_dl *d, const int *in) {
  brk_dl *best = NULL;
  int i;
  for (i = 0; i < N; i++)
    if (in[i] && (best == NULL || d[i].at < best->at ||
                  (d[i].at == best->at && d[i].seq < best->seq)))
      best = &d[i];
  return best;
}

static void test_dl_random(void **state) {
  static brk_dl d[N];
  static int in[N];
  brk_dlheap h;
  size_t n = 0;
  int step, i;
  (void)state;
  memset(&h, 0, sizeof h);
  memset(d, 0, sizeof d);
  for (step = 0; step < 20000; step++) {
    i = (int)(rnd() % N);
    if (!in[i]) {
      d[i].at = rnd() % 50; /* many ties */
      d[i].seq = (uint64_t)step;
      assert_int_equal(wd__brk_dl_add(&h, &d[i]), 0);
      in[i] = 1;
      n++;
    } else if (rnd() % 3 == 0) { /* the top goes, as a deadline passes */
      brk_dl *e = earliest(d, in);
      assert_ptr_equal(h.d[0], e);
      wd__brk_dl_del(&h, e);
      in[e - d] = 0;
      n--;
    } else {
      wd__brk_dl_del(&h, &d[i]);
      in[i] = 0;
      n--;
    }
    assert_int_equal(h.n, n);
    if (n > 0) assert_ptr_equal(h.d[0], earliest(d, in));
    /* Removing one that is not in changes nothing. */
    for (i = 0; i < N && in[i]; i++) {
    }
    if (i < N) {
      wd__brk_dl_del(&h, &d[i]);
      assert_int_equal(h.n, n);
    }
  }
  /* Drained in order. */
  while (h.n > 0) {
    brk_dl *e = earliest(d, in);
    assert_ptr_equal(h.d[0], e);
    assert_int_equal(e->pos, 1);
    wd__brk_dl_del(&h, e);
    assert_int_equal(e->pos, 0);
    in[e - d] = 0;
  }
  wd__brk_dl_free(&h);
}

int main(void) {
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_dl_random),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
