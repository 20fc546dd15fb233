/*
** bench/bench_mac.c
** Nanoseconds per frame tag for the MACs the link may use (Poly1305 under
** a ChaCha20-made key, the default; keyed BLAKE2b-256; HMAC-SHA-512-256)
** called one-shot, and for the link's own
** tag as sandbox/ipc.c computes it (from a keyed state made once per key):
** sealing a frame (wd_ipc_seal_parts: header and tag, no copy) and opening
** it (wd_ipc_open: tag check in constant time). Inputs of 64 B and 64 KiB
** to the MAC (for the link rows: header + payload). Median of several
** runs. Needs libsodium and ward's frame code.
** Runs in: broker and host (a development tool; not part of either).
**
** Build and run (from the repository root; add -DWD_IPC_BLAKE2B or
** -DWD_IPC_HMAC to measure the link rows with that build of ipc.c):
**   cc -std=c11 -O2 -D_GNU_SOURCE -Iinclude bench/bench_mac.c \
**      sandbox/ipc.c runtime/buf.c runtime/common.c -lsodium -o bench_mac
**   ./bench_mac
*/
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sodium.h>

#include "ward/wd_ipc.h"

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

/* The link's default: a one-time Poly1305 key from ChaCha20 (nonce 0
** here; the link uses the frame's sequence number), then Poly1305. */
static void mac_poly1305(unsigned char *tag, const unsigned char *p, size_t n,
                         const unsigned char *key) {
  unsigned char nonce[12] = { 0 }, otk[32];
  crypto_stream_chacha20_ietf(otk, sizeof otk, nonce, key);
  crypto_onetimeauth_poly1305(tag, p, n, otk);
}

/* The link: one sealing end and one opening end, keyed at first use. */
static wd_ipc tx, rx;
static unsigned char frame[WD_IPC_HDRLEN + 65536 + WD_IPC_TAGLEN];

static void link_keys(const unsigned char *key) {
  unsigned char other[32];
  size_t i;
  if (tx.key_tx != NULL) return;
  for (i = 0; i < sizeof other; i++)
    other[i] = (unsigned char)(key[i] ^ 0x5c);
  if (wd_ipc_init(&tx, key, other, 65536) < 0 ||
      wd_ipc_init(&rx, other, key, 65536) < 0)
    abort();
}

/* 'n' bytes of MAC input: a frame header and n - 24 bytes of payload. */
static void mac_link_seal(unsigned char *tag, const unsigned char *p,
                          size_t n, const unsigned char *key) {
  link_keys(key);
  if (wd_ipc_seal_parts(&tx, 1, p, n - WD_IPC_HDRLEN, frame, tag) < 0)
    abort();
}

/* Open a frame of 'n' bytes of MAC input, sealed once beforehand (the
** receiver's sequence number is wound back each time, which does not
** change the work). */
static void mac_link_open(unsigned char *tag, const unsigned char *p,
                          size_t n, const unsigned char *key) {
  static size_t sealed;
  const uint8_t *pl;
  size_t plen;
  uint8_t type;
  link_keys(key);
  if (sealed != n) {
    tx.seq_tx = 0;
    memcpy(frame + WD_IPC_HDRLEN, p, n - WD_IPC_HDRLEN);
    if (wd_ipc_seal_parts(&tx, 1, frame + WD_IPC_HDRLEN, n - WD_IPC_HDRLEN,
                          frame, frame + n) < 0)
      abort();
    sealed = n;
  }
  rx.seq_rx = 0;
  if (wd_ipc_open(&rx, frame, n + WD_IPC_TAGLEN, &type, &pl, &plen) < 0)
    abort();
  tag[0] = type;
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
    { "ChaCha20 key + Poly1305 (onetimeauth)", mac_poly1305 },
#if defined(WD_IPC_HMAC)
    { "link seal, HMAC (wd_ipc_seal_parts)", mac_link_seal },
    { "link open, HMAC (wd_ipc_open)", mac_link_open },
#elif defined(WD_IPC_BLAKE2B)
    { "link seal, BLAKE2b (wd_ipc_seal_parts)", mac_link_seal },
    { "link open, BLAKE2b (wd_ipc_open)", mac_link_open },
#else
    { "link seal (wd_ipc_seal_parts)", mac_link_seal },
    { "link open (wd_ipc_open)", mac_link_open },
#endif
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
  wd_ipc_close(&tx);
  wd_ipc_close(&rx);
  return 0;
}
