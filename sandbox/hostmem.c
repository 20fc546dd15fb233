/*
** sandbox/hostmem.c
** A host's allocator (wd_replace_allocator): glibc's, except that a few
** big blocks freed are kept for the next big allocations.
**
** A block of WD_HOSTMEM_BIG bytes or more comes from a fresh mmap, and
** every page of it is faulted in, and zeroed by the kernel, the first
** time it is written: on the 2-vCPU VM that costs about 25 ms for 64
** MiB, against 4 ms for copying 64 MiB into pages already there. A 64
** MiB message takes several such blocks on its way through a host (the
** link record it is sent in, the reassembled record, the Lua string the
** receiver gets), each in one loop turn (bench/README.md, issue 14).
** glibc cannot keep them: its mmap threshold is 32 MiB at most.
**
** So a freed block of WD_HOSTMEM_BIG bytes or more is kept, if it is no
** larger than twice the host's largest record (wd__hostmem_limit: a
** buffer grown by doubling to hold one), the oldest going first once
** WD_HOSTMEM_SLOTS are kept; an allocation of WD_HOSTMEM_BIG bytes or
** more takes the smallest kept block that holds it. Four, because a 64
** MiB message received leaves up to three such blocks waiting for Lua's
** collector or the next message (the message, its string, the string
** before). What a block holds past the pages the new owner asked for is
** given back to the kernel (MADV_DONTNEED) as it is handed out, so a
** kept block is no bigger in memory than the fresh one it stands for:
** the host's bounds (memory quotas, which count what was asked for,
** mailbox_bytes, link_queue) mean what they meant. What is kept is on
** top of them: at most WD_HOSTMEM_SLOTS * 2 * the largest record (512
** MiB for a max_payload of 64 MiB, 32 MiB for the default 4 MiB), and
** after WD_HOSTMEM_IDLE ticks of the heartbeat (about a second) without
** a big allocation it all goes back to the system.
**
** The first blocks of a burst still come fresh. So when a big allocation
** leaves fewer than WD_HOSTMEM_AHEAD kept blocks that would hold another
** like it, one is made ahead ('spare', in a slot of its own), its pages
** faulted in WD_HOSTMEM_STEP bytes per loop turn (wd__hostmem_step, from
** the host's prepare handle) rather than all at once in the turn that
** needs it: a message coming in fragments, or going out, turns the loop
** every fragment. Done, it is kept like a freed block, and the next is
** made while there are still too few. Two, because a message received
** takes two in one turn (its copy in the mailbox, then its Lua string).
**
** One thread: the host's loop. Nothing here runs from a signal handler.
** Runs in: host (from its main, before it confines itself, then
** sandboxed; madvise and munmap are on its seccomp allow-list).
*/
#include <malloc.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "ward/wd_common.h"
#include "hostmain_int.h"

static struct {
  void *p[WD_HOSTMEM_SLOTS]; /* oldest first */
  size_t n[WD_HOSTMEM_SLOTS];
  unsigned used;
  size_t bytes;
  unsigned idle;  /* ticks since the last big allocation */
  size_t max;     /* largest block kept (0: none) */
  size_t want;    /* a block of this size to make ahead (0: none) */
  uint8_t *spare; /* the one being made, 'spare_n' bytes, 'spare_done' */
  size_t spare_n, spare_done; /* of them faulted in */
} g_keep;

static size_t page_size(void) {
  static size_t ps;
  if (ps == 0) {
    long v = sysconf(_SC_PAGESIZE);
    ps = v > 0 ? (size_t)v : 4096;
  }
  return ps;
}

static void drop(unsigned i) {
  free(g_keep.p[i]);
  g_keep.bytes -= g_keep.n[i];
  g_keep.used--;
  memmove(&g_keep.p[i], &g_keep.p[i + 1],
          (g_keep.used - i) * sizeof g_keep.p[0]);
  memmove(&g_keep.n[i], &g_keep.n[i + 1],
          (g_keep.used - i) * sizeof g_keep.n[0]);
}

/* The smallest kept block of at least 'n' bytes, or WD_HOSTMEM_SLOTS. */
static unsigned fit(size_t n) {
  unsigned i, best = WD_HOSTMEM_SLOTS;
  for (i = 0; i < g_keep.used; i++)
    if (g_keep.n[i] >= n &&
        (best == WD_HOSTMEM_SLOTS || g_keep.n[i] < g_keep.n[best]))
      best = i;
  return best;
}

/* How many kept blocks hold 'n' bytes (the spare too, when it will)? */
static unsigned fits(size_t n) {
  unsigned i, k = g_keep.spare != NULL && g_keep.spare_n >= n;
  for (i = 0; i < g_keep.used; i++)
    k += g_keep.n[i] >= n;
  return k;
}

/* A big allocation of 'n' bytes was made: if too few kept blocks would
** hold another, make them ahead (wd__hostmem_step). */
static void ahead(size_t n) {
  g_keep.idle = 0;
  if (n <= g_keep.max && fits(n) < WD_HOSTMEM_AHEAD && n > g_keep.want)
    g_keep.want = n;
}

/* The smallest kept block of at least 'n' bytes, handed out with its
** pages past the first 'n' bytes given back; NULL if none. */
static void *take(size_t n) {
  unsigned best = fit(n);
  uintptr_t from, to, ps = page_size();
  void *p;
  size_t have;
  if (best == WD_HOSTMEM_SLOTS) return NULL;
  p = g_keep.p[best];
  have = g_keep.n[best];
  g_keep.p[best] = NULL; /* drop() must not free it */
  g_keep.bytes -= have;
  g_keep.used--;
  memmove(&g_keep.p[best], &g_keep.p[best + 1],
          (g_keep.used - best) * sizeof g_keep.p[0]);
  memmove(&g_keep.n[best], &g_keep.n[best + 1],
          (g_keep.used - best) * sizeof g_keep.n[0]);
  /* Whole pages past the first 'n' bytes and within the block. */
  from = ((uintptr_t)p + n + ps - 1) & ~(ps - 1);
  to = ((uintptr_t)p + have) & ~(ps - 1);
  if (to > from) (void)madvise((void *)from, to - from, MADV_DONTNEED);
  return p;
}

/* Keep 'p' ('n' usable bytes) if it may be; 1 if kept. */
static int keep(void *p, size_t n) {
  if (n > g_keep.max) return 0;
  /* The spare being made takes a slot too: never more than SLOTS. */
  while (g_keep.used > 0 &&
         g_keep.used + (g_keep.spare != NULL) >= WD_HOSTMEM_SLOTS)
    drop(0);
  g_keep.p[g_keep.used] = p;
  g_keep.n[g_keep.used] = n;
  g_keep.used++;
  g_keep.bytes += n;
  return 1;
}

static void *hm_malloc(size_t n) {
  void *p;
  if (n < WD_HOSTMEM_BIG) return malloc(n);
  if ((p = take(n)) == NULL) p = malloc(n);
  ahead(n);
  return p;
}

static void hm_free(void *p) {
  size_t n;
  if (p == NULL) return;
  n = malloc_usable_size(p);
  if (n >= WD_HOSTMEM_BIG && keep(p, n)) return;
  free(p);
}

/* Growing into a kept block copies what the old one holds (its usable
** bytes: what the caller wrote is among them). */
static void *hm_realloc(void *p, size_t n) {
  size_t have;
  void *q;
  if (p == NULL) return hm_malloc(n);
  if (n < WD_HOSTMEM_BIG) return realloc(p, n);
  have = malloc_usable_size(p);
  if (have >= n || (q = take(n)) == NULL) {
    q = realloc(p, n);
  } else {
    memcpy(q, p, have);
    hm_free(p);
  }
  if (have < n) ahead(n);
  return q;
}

void wd__hostmem_install(void) {
  wd_replace_allocator(hm_malloc, hm_realloc, hm_free);
}

void wd__hostmem_limit(uint64_t max_rec) {
  unsigned i;
  g_keep.max = max_rec > SIZE_MAX / 16 ? SIZE_MAX / 8 : (size_t)max_rec * 2;
  for (i = g_keep.used; i-- > 0;)
    if (g_keep.n[i] > g_keep.max) drop(i);
  if (g_keep.spare != NULL && g_keep.spare_n > g_keep.max) {
    free(g_keep.spare);
    g_keep.spare = NULL;
  }
  if (g_keep.want > g_keep.max) g_keep.want = 0;
}

void wd__hostmem_step(void) {
  size_t k, ps = page_size();
  if (g_keep.want == 0 && g_keep.spare == NULL) return;
  if (g_keep.spare == NULL) {
    if (fits(g_keep.want) >= WD_HOSTMEM_AHEAD) { /* enough came back */
      g_keep.want = 0;
      return;
    }
    /* A slot of its own: the oldest kept block makes room. */
    if (g_keep.used == WD_HOSTMEM_SLOTS) drop(0);
    g_keep.spare_n = g_keep.want;
    g_keep.spare_done = 0;
    if ((g_keep.spare = malloc(g_keep.spare_n)) == NULL) return;
  }
  k = g_keep.spare_n - g_keep.spare_done;
  if (k > WD_HOSTMEM_STEP) k = WD_HOSTMEM_STEP;
  /* Write to each page: a fault each, and the kernel zeroes it. */
  for (; k > 0; k -= k < ps ? k : ps, g_keep.spare_done += ps)
    g_keep.spare[g_keep.spare_done] = 0;
  if (g_keep.spare_done < g_keep.spare_n) return;
  {
    uint8_t *done = g_keep.spare; /* kept now: no longer a spare */
    g_keep.spare = NULL;
    if (!keep(done, g_keep.spare_n)) free(done);
  }
}

void wd__hostmem_tick(void) {
  if ((g_keep.used == 0 && g_keep.spare == NULL) ||
      ++g_keep.idle < WD_HOSTMEM_IDLE)
    return;
  wd__hostmem_release();
}

void wd__hostmem_release(void) {
  while (g_keep.used > 0)
    drop(g_keep.used - 1);
  free(g_keep.spare);
  g_keep.spare = NULL;
  g_keep.want = 0;
  g_keep.idle = 0;
}

size_t wd__hostmem_kept(void) {
  return g_keep.bytes;
}

unsigned wd__hostmem_blocks(void) {
  return g_keep.used + (g_keep.spare != NULL);
}
