/*
** tests/unit/oom.h
** The failing allocator of the out-of-memory sweeps (Lua's testalloc,
** STYLE.md §10): install it with wd_replace_allocator(oom_malloc,
** oom_realloc, oom_free), set 'fail_at' to k and 'calls' to 0, and the
** k-th allocation fails; 'live' counts blocks not yet freed (when oom_free
** is installed too), so a sweep can assert that a failure leaks nothing.
** Header-only: each test program has its own counters.
*/
#ifndef oom_h
#define oom_h

#include <stdlib.h>

static long fail_at, calls, live;

static void *oom_malloc(size_t n) {
  void *p;
  if (++calls == fail_at) return NULL;
  p = malloc(n);
  if (p != NULL) live++;
  return p;
}

static void *oom_realloc(void *p, size_t n) {
  void *q;
  if (++calls == fail_at) return NULL;
  q = realloc(p, n);
  if (q != NULL && p == NULL) live++;
  return q;
}

static __attribute__((unused)) void oom_free(void *p) {
  if (p != NULL) live--;
  free(p);
}

#endif
