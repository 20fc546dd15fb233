/*
** bench/bench_mac.c
** Nanoseconds per frame tag for the two MACs the link may use (keyed
** BLAKE2b-256, HMAC-SHA-512-256), on small and large inputs. Median of
** several runs. Standalone: needs only libsodium.
** Runs in: broker and host (a development tool; not part of either).
**
** Build and run (from the repository root):
**   cc -std=c11 -O2 -D_GNU_SOURCE bench/bench_mac.c -lsodium -o bench_mac
**   ./bench_mac
*/
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sodium.h>

#define RUNS 11

static volatile unsigned char sink;

typedef void (*mac_fn)(unsigned char *tag, const unsigned char *p, size_t n,
                       const unsigned char *key);

static void mac_blake2b(unsigned char *tag, const unsigned char *p, size_t n,
                        const unsigned char *key) {
  crypto_generichash(tag, 32, p, n, key, 32);
}

static void mac_hmac(unsigned char *tag, const unsigned char *p, size_t n,
                     const unsigned char *key) {
  crypto_auth(tag, p, n, key);
}

static double now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

static int cmp_double(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

/* Median over RUNS runs of the mean cost of one tag, in ns. */
static double bench(mac_fn f, const unsigned char *p, size_t n,
                    const unsigned char *key, long iters) {
  double t[RUNS];
  unsigned char tag[32];
  int r;
  long i;
  for (i = 0; i < iters / 10; i++)
    f(tag, p, n, key); /* warm up */
  for (r = 0; r < RUNS; r++) {
    double t0 = now_ns();
    for (i = 0; i < iters; i++) {
      f(tag, p, n, key);
      sink ^= tag[0];
    }
    t[r] = (now_ns() - t0) / (double)iters;
  }
  qsort(t, RUNS, sizeof(t[0]), cmp_double);
  return t[RUNS / 2];
}

int main(void) {
  static const struct {
    const char *name;
    mac_fn f;
  } macs[] = {
    { "keyed BLAKE2b-256 (crypto_generichash)", mac_blake2b },
    { "HMAC-SHA-512-256 (crypto_auth)", mac_hmac },
  };
  static const struct {
    size_t n;
    long iters;
  } sizes[] = {
    { 64, 200000 },
    { 65536, 500 },
  };
  unsigned char key[32], *buf;
  size_t m, s;
  if (sodium_init() < 0) return 1;
  buf = malloc(65536);
  if (buf == NULL) return 1;
  randombytes_buf(key, sizeof(key));
  randombytes_buf(buf, 65536);
  printf("libsodium %s, median of %d runs\n", sodium_version_string(), RUNS);
  printf("%-40s %10s %12s %10s\n", "mac", "input", "ns/tag", "MB/s");
  for (m = 0; m < sizeof(macs) / sizeof(macs[0]); m++) {
    for (s = 0; s < sizeof(sizes) / sizeof(sizes[0]); s++) {
      double ns = bench(macs[m].f, buf, sizes[s].n, key, sizes[s].iters);
      printf("%-40s %10zu %12.1f %10.1f\n", macs[m].name, sizes[s].n, ns,
             (double)sizes[s].n / ns * 1e3);
    }
  }
  free(buf);
  return 0;
}
