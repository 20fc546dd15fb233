/*
** sandbox/broker_dl.c
** Deadlines in a binary min-heap, ordered by time, then by a sequence
** number: the front door times out all its execs with one timer armed
** for the earliest (broker_gw.c). Adding and taking out cost O(log n)
** and no system call; the heap holds pointers into its owners' structs.
** Runs in: broker.
*/
#include "broker_int.h"

static int less(const brk_dl *a, const brk_dl *b) {
  return a->at != b->at ? a->at < b->at : a->seq < b->seq;
}

static void put(brk_dlheap *h, size_t i, brk_dl *d) {
  h->d[i] = d;
  d->pos = i + 1;
}

static void up(brk_dlheap *h, size_t i) {
  brk_dl *d = h->d[i];
  while (i > 0 && less(d, h->d[(i - 1) / 2])) {
    put(h, i, h->d[(i - 1) / 2]);
    i = (i - 1) / 2;
  }
  put(h, i, d);
}

static void down(brk_dlheap *h, size_t i) {
  brk_dl *d = h->d[i];
  size_t k;
  while ((k = 2 * i + 1) < h->n) {
    if (k + 1 < h->n && less(h->d[k + 1], h->d[k])) k++;
    if (!less(h->d[k], d)) break;
    put(h, i, h->d[k]);
    i = k;
  }
  put(h, i, d);
}

int wd__brk_dl_add(brk_dlheap *h, brk_dl *d) {
  if (h->n == h->cap) {
    size_t cap = h->cap ? 2 * h->cap : 64;
    /* NOLINTNEXTLINE(bugprone-sizeof-expression): array of pointers */
    brk_dl **p = wd_realloc(h->d, cap * sizeof *p);
    if (p == NULL) {
      d->pos = 0;
      return WD_ENOMEM;
    }
    h->d = p;
    h->cap = cap;
  }
  h->d[h->n++] = d;
  up(h, h->n - 1);
  return 0;
}

void wd__brk_dl_del(brk_dlheap *h, brk_dl *d) {
  size_t i = d->pos;
  brk_dl *last;
  if (i == 0 || i > h->n || h->d[i - 1] != d) return;
  d->pos = 0;
  last = h->d[--h->n];
  if (--i < h->n) { /* the last one fills the hole, then finds its place */
    h->d[i] = last;
    up(h, i);
    down(h, last->pos - 1);
  }
}

void wd__brk_dl_free(brk_dlheap *h) {
  wd_free(h->d);
  h->d = NULL;
  h->n = h->cap = 0;
}
