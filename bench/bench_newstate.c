/*
** bench/bench_newstate.c
** What a spawn would cost at least if each actor got a new lua_State:
** making and closing an empty state (lua_newstate + lua_close, Lua's own
** work: the string table, the metamethod names and reserved words
** interned, the registry). ward reuses the states of ended actors
** (runtime/lua/lstate.c) to stay under it. Prints "FIGURE <states per
** second>" (median of 5 runs of N).
** Built by bench/run.sh: cc -O2 bench_newstate.c $(pkg-config lua5.4).
*/
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "lua.h"

static void *alloc(void *ud, void *p, size_t o, size_t n) {
  (void)ud;
  (void)o;
  if (n == 0) {
    free(p);
    return NULL;
  }
  return realloc(p, n);
}

static int cmp(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

int main(int argc, char **argv) {
  int n = argc > 1 ? atoi(argv[1]) : 200000, r, i;
  double rate[5];
  for (r = 0; r < 5; r++) {
    struct timespec a, b;
    clock_gettime(CLOCK_MONOTONIC, &a);
    for (i = 0; i < n; i++) {
      lua_State *L = lua_newstate(alloc, NULL);
      if (L == NULL) return 1;
      lua_close(L);
    }
    clock_gettime(CLOCK_MONOTONIC, &b);
    rate[r] = n / ((double)(b.tv_sec - a.tv_sec) +
                   (double)(b.tv_nsec - a.tv_nsec) / 1e9);
  }
  qsort(rate, 5, sizeof rate[0], cmp);
  printf("FIGURE %.0f\n", rate[2]);
  return 0;
}
