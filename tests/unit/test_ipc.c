/*
** tests/unit/test_ipc.c
** Unit tests for signed frames and payload records (sandbox/ipc.c).
** Runs in: broker and host.
*/
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <sodium.h>

#include "ward/wd_ipc.h"

#define MAXP 1024

/* Keys of one link: broker->host and host->broker. */
static uint8_t k_b2h[32], k_h2b[32];

/* {====== Helpers ====== */

/* Allocation counter, to show that wd_ipc_open allocates nothing. */
static int n_allocs;

static void *count_malloc(size_t n) {
  n_allocs++;
  return malloc(n);
}

static void *count_realloc(void *p, size_t n) {
  n_allocs++;
  return realloc(p, n);
}

/* Fail the 'fail_at'-th allocation from now on (1-based). */
static int alloc_calls, fail_at;

static void *fail_realloc(void *p, size_t n) {
  if (++alloc_calls >= fail_at) return NULL;
  return realloc(p, n);
}

static void *fail_malloc(size_t n) {
  if (++alloc_calls >= fail_at) return NULL;
  return malloc(n);
}

static int restore_allocator(void **state) {
  (void)state;
  wd_replace_allocator(NULL, NULL, NULL);
  return 0;
}

static int setup_keys(void **state) {
  (void)state;
  if (sodium_init() < 0) return -1;
  memset(k_b2h, 0x11, sizeof(k_b2h));
  memset(k_h2b, 0x22, sizeof(k_h2b));
  return 0;
}

/* Broker and host ends of one link. */
typedef struct tlink {
  wd_ipc broker, host;
} tlink;

static void link_open(tlink *l, size_t max_payload) {
  assert_int_equal(wd_ipc_init(&l->broker, k_b2h, k_h2b, max_payload), 0);
  assert_int_equal(wd_ipc_init(&l->host, k_h2b, k_b2h, max_payload), 0);
}

static void link_close(tlink *l) {
  wd_ipc_close(&l->broker);
  wd_ipc_close(&l->host);
}

static void put_u32(uint8_t *p, uint32_t v) {
  int i;
  for (i = 0; i < 4; i++)
    p[i] = (uint8_t)(v >> (8 * i));
}

static void put_u64(uint8_t *p, uint64_t v) {
  put_u32(p, (uint32_t)v);
  put_u32(p + 4, (uint32_t)(v >> 32));
}

/* The tag of frame number 'seq' over 'p', computed one-shot (wd_ipc.h):
** by default Poly1305 under the first 32 bytes of ChaCha20 (link key,
** nonce = seq). */
static void tag(uint8_t out[WD_IPC_TAGLEN], uint64_t seq, const uint8_t *p,
                size_t n, const uint8_t key[32]) {
#if defined(WD_IPC_HMAC)
  (void)seq;
  crypto_auth(out, p, n, key);
#elif defined(WD_IPC_BLAKE2B)
  (void)seq;
  crypto_generichash(out, 32, p, n, key, 32);
#else
  uint8_t nonce[12] = { 0 }, otk[32];
  put_u64(nonce, seq);
  crypto_stream_chacha20_ietf(otk, sizeof otk, nonce, key);
  crypto_onetimeauth_poly1305(out, p, n, otk);
#endif
}

/*
** Build a frame by hand, with any header values, and a valid tag under
** 'key'. 'declared' is the length field; 'len' bytes of 'payload' follow.
** Returns the frame size.
*/
static size_t make_frame(uint8_t *f, uint16_t magic, uint8_t version,
                         uint8_t type, uint32_t flags, uint64_t seq,
                         uint32_t declared, uint32_t reserved,
                         const uint8_t *payload, size_t len,
                         const uint8_t key[32]) {
  f[0] = (uint8_t)magic;
  f[1] = (uint8_t)(magic >> 8);
  f[2] = version;
  f[3] = type;
  put_u32(f + 4, flags);
  put_u64(f + 8, seq);
  put_u32(f + 16, declared);
  put_u32(f + 20, reserved);
  if (len > 0) memcpy(f + 24, payload, len);
  tag(f + 24 + len, seq, f, 24 + len, key);
  return 24 + len + WD_IPC_TAGLEN;
}

/* A well-formed frame from broker to host. */
static size_t good_frame(uint8_t *f, uint64_t seq, const uint8_t *payload,
                         size_t len) {
  return make_frame(f, WD_IPC_MAGIC, WD_IPC_VERSION, 7, 0, seq, (uint32_t)len,
                    0, payload, len, k_b2h);
}

static const uint8_t msg40[40] = "forty bytes of payload for the frame...";

/* }====== */

/* {====== Tags ====== */

/* Tags start from a keyed state made once per key (and, for BLAKE2b, with
** the key block already compressed): every tag must still be exactly the
** one-shot MAC of the frame under the key, at every length around block
** borders; and wd_ipc_seal_parts writes the same frame in three parts. */
static void test_ipc_tags_equal_one_shot_mac_at_every_length(void **state) {
  static const size_t lens[] = { 0,   1,   40,  103, 104, 105,  231, 232,
                                 233, 359, 360, 361, 500, 4000, 65536 };
  static uint8_t payload[65536], want[65536 + WD_IPC_OVERHEAD], hdr[WD_IPC_HDRLEN],
      tg[WD_IPC_TAGLEN];
  tlink l, m;
  wd_buf out;
  size_t i, n;
  uint8_t type;
  const uint8_t *pl;
  size_t plen;
  (void)state;
  for (i = 0; i < sizeof payload; i++) payload[i] = (uint8_t)(i * 7 + 3);
  link_open(&l, sizeof payload);
  link_open(&m, sizeof payload);
  wd_buf_init(&out, 0);
  for (i = 0; i < sizeof lens / sizeof lens[0]; i++) {
    wd_buf_reset(&out);
    assert_int_equal(wd_ipc_seal(&l.broker, 7, payload, lens[i], &out), 0);
    n = good_frame(want, i, payload, lens[i]);
    assert_int_equal(out.len, n);
    assert_memory_equal(out.p, want, n);
    assert_int_equal(wd_ipc_seal_parts(&m.broker, 7, payload, lens[i], hdr, tg),
                     0);
    assert_memory_equal(hdr, want, WD_IPC_HDRLEN);
    assert_memory_equal(tg, want + WD_IPC_HDRLEN + lens[i], WD_IPC_TAGLEN);
    assert_int_equal(wd_ipc_open(&l.host, out.p, out.len, &type, &pl, &plen),
                     0);
    assert_int_equal(plen, lens[i]);
  }
  wd_buf_close(&out);
  link_close(&l);
  link_close(&m);
}

/* }====== */

/* {====== Link state ====== */

static void test_ipc_init_valid_keys_returns_zero_and_zero_seqs(void **state) {
  wd_ipc c;
  (void)state;
  memset(&c, 0xa5, sizeof(c));
  assert_int_equal(wd_ipc_init(&c, k_b2h, k_h2b, MAXP), 0);
  assert_non_null(c.key_tx);
  assert_non_null(c.key_rx);
  assert_memory_equal(c.key_tx, k_b2h, 32);
  assert_memory_equal(c.key_rx, k_h2b, 32);
  assert_true(c.seq_tx == 0 && c.seq_rx == 0);
  assert_int_equal(c.max_payload, MAXP);
  wd_ipc_close(&c);
  assert_null(c.key_tx);
  assert_null(c.key_rx);
}

static void test_ipc_init_equal_keys_returns_einval(void **state) {
  wd_ipc c;
  (void)state;
  assert_int_equal(wd_ipc_init(&c, k_b2h, k_b2h, MAXP), WD_EINVAL);
  assert_null(c.key_tx);
  assert_null(c.key_rx);
  wd_ipc_close(&c);
}

static void test_ipc_init_null_key_returns_einval(void **state) {
  wd_ipc c;
  (void)state;
  assert_int_equal(wd_ipc_init(&c, NULL, k_h2b, MAXP), WD_EINVAL);
  assert_int_equal(wd_ipc_init(&c, k_b2h, NULL, MAXP), WD_EINVAL);
  wd_ipc_close(&c);
}

static void test_ipc_init_max_payload_over_u32_returns_einval(void **state) {
  wd_ipc c;
  (void)state;
  if (SIZE_MAX <= UINT32_MAX) skip();
  assert_int_equal(
      wd_ipc_init(&c, k_b2h, k_h2b, (size_t)WD_IPC_PAYLOAD_LIMIT + 1),
      WD_EINVAL);
  assert_int_equal(wd_ipc_init(&c, k_b2h, k_h2b, SIZE_MAX), WD_EINVAL);
  assert_int_equal(wd_ipc_init(&c, k_b2h, k_h2b, WD_IPC_PAYLOAD_LIMIT), 0);
  wd_ipc_close(&c);
}

static void test_ipc_close_twice_or_null_is_harmless(void **state) {
  wd_ipc c;
  (void)state;
  memset(&c, 0, sizeof(c));
  wd_ipc_close(&c);
  wd_ipc_close(NULL);
  assert_int_equal(wd_ipc_init(&c, k_b2h, k_h2b, MAXP), 0);
  wd_ipc_close(&c);
  wd_ipc_close(&c);
  assert_null(c.key_tx);
}

static void test_ipc_closed_channel_returns_einval(void **state) {
  wd_ipc c;
  wd_buf b;
  uint8_t f[128], type;
  const uint8_t *p;
  size_t n, plen;
  (void)state;
  memset(&c, 0, sizeof(c));
  wd_buf_init(&b, 0);
  assert_int_equal(wd_ipc_seal(&c, 1, msg40, 4, &b), WD_EINVAL);
  n = good_frame(f, 0, msg40, 4);
  assert_int_equal(wd_ipc_open(&c, f, n, &type, &p, &plen), WD_EINVAL);
  wd_buf_close(&b);
}

static void test_ipc_derive_is_deterministic_and_matches_kdf(void **state) {
  uint8_t master[32], a[32], b[32], want[32];
  (void)state;
  memset(master, 0x5a, sizeof(master));
  assert_int_equal(wd_ipc_derive(master, 3, WD_IPC_DIR_TO_BROKER, a), 0);
  assert_int_equal(wd_ipc_derive(master, 3, WD_IPC_DIR_TO_BROKER, b), 0);
  assert_memory_equal(a, b, 32);
  crypto_kdf_derive_from_key(want, 32, 3 * 2 + 1, "wardlink", master);
  assert_memory_equal(a, want, 32);
}

static void test_ipc_derive_distinct_per_host_and_direction(void **state) {
  enum { NH = 64, NK = NH * 2 };
  static uint8_t keys[NK][32];
  uint8_t master[32], other[32], k[32];
  size_t i, j;
  (void)state;
  memset(master, 0x5a, sizeof(master));
  for (i = 0; i < NH; i++) {
    assert_int_equal(wd_ipc_derive(master, i, WD_IPC_DIR_TO_HOST, keys[2 * i]),
                     0);
    assert_int_equal(
        wd_ipc_derive(master, i, WD_IPC_DIR_TO_BROKER, keys[2 * i + 1]), 0);
  }
  for (i = 0; i < NK; i++)
    for (j = i + 1; j < NK; j++)
      assert_memory_not_equal(keys[i], keys[j], 32);
  /* a different master gives different keys */
  memcpy(other, master, sizeof(other));
  other[31] ^= 1;
  assert_int_equal(wd_ipc_derive(other, 0, WD_IPC_DIR_TO_HOST, k), 0);
  assert_memory_not_equal(k, keys[0], 32);
  /* the largest host index still has both directions */
  assert_int_equal(
      wd_ipc_derive(master, (UINT64_MAX - 1) / 2, WD_IPC_DIR_TO_BROKER, k), 0);
}

static void test_ipc_derive_bad_dir_or_index_returns_einval(void **state) {
  uint8_t master[32], k[32];
  (void)state;
  memset(master, 0x5a, sizeof(master));
  assert_int_equal(wd_ipc_derive(master, 0, 2, k), WD_EINVAL);
  assert_int_equal(wd_ipc_derive(master, 0, -1, k), WD_EINVAL);
  assert_int_equal(
      wd_ipc_derive(master, (UINT64_MAX - 1) / 2 + 1, WD_IPC_DIR_TO_HOST, k),
      WD_EINVAL);
  assert_int_equal(wd_ipc_derive(master, UINT64_MAX, WD_IPC_DIR_TO_HOST, k),
                   WD_EINVAL);
}

/* }====== */

/* {====== Seal and open ====== */

static void test_ipc_seal_open_round_trip_returns_payload(void **state) {
  static uint8_t big[MAXP];
  tlink l;
  wd_buf b;
  size_t i, plen;
  uint8_t type;
  const uint8_t *p;
  (void)state;
  for (i = 0; i < sizeof(big); i++)
    big[i] = (uint8_t)(i * 7);
  link_open(&l, MAXP);
  wd_buf_init(&b, 0);
  for (i = 0; i < 5; i++) {
    size_t len = i == 0 ? 0 : i == 4 ? MAXP : i * 100;
    wd_buf_reset(&b);
    assert_int_equal(wd_ipc_seal(&l.broker, (uint8_t)(i + 1), big, len, &b), 0);
    assert_int_equal(b.len, WD_IPC_OVERHEAD + len);
    assert_true(l.broker.seq_tx == i + 1);
    assert_int_equal(wd_ipc_open(&l.host, b.p, b.len, &type, &p, &plen), 0);
    assert_int_equal(type, i + 1);
    assert_int_equal(plen, len);
    assert_ptr_equal(p, b.p + WD_IPC_HDRLEN);
    if (len > 0) assert_memory_equal(p, big, len);
    assert_true(l.host.seq_rx == i + 1);
  }
  /* and the other direction, with its own sequence numbers */
  wd_buf_reset(&b);
  assert_int_equal(wd_ipc_seal(&l.host, 9, msg40, 40, &b), 0);
  assert_int_equal(wd_ipc_open(&l.broker, b.p, b.len, &type, &p, &plen), 0);
  assert_true(l.host.seq_tx == 1 && l.broker.seq_rx == 1);
  wd_buf_close(&b);
  link_close(&l);
}

static void
test_ipc_seal_null_payload_with_zero_len_returns_zero(void **state) {
  tlink l;
  wd_buf b;
  uint8_t type;
  const uint8_t *p;
  size_t plen;
  (void)state;
  link_open(&l, MAXP);
  wd_buf_init(&b, 0);
  assert_int_equal(wd_ipc_seal(&l.broker, 0, NULL, 0, &b), 0);
  assert_int_equal(wd_ipc_open(&l.host, b.p, b.len, &type, &p, &plen), 0);
  assert_int_equal(plen, 0);
  wd_buf_close(&b);
  link_close(&l);
}

static void test_ipc_seal_frame_layout_matches_spec(void **state) {
  tlink l;
  wd_buf b;
  uint8_t f[128];
  size_t n;
  (void)state;
  link_open(&l, MAXP);
  wd_buf_init(&b, 0);
  l.broker.seq_tx = 0x0102030405060708ULL;
  assert_int_equal(wd_ipc_seal(&l.broker, 0xab, msg40, 40, &b), 0);
  n = make_frame(f, 0x5744, WD_IPC_VERSION, 0xab, 0, 0x0102030405060708ULL, 40,
                 0, msg40, 40, k_b2h);
  assert_int_equal(b.len, n);
  assert_int_equal(n, 24 + 40 + WD_IPC_TAGLEN);
  assert_memory_equal(b.p, f, n);
  assert_int_equal(b.p[2], WD_IPC_VERSION);
  b.p[2] = 0x01;
  assert_memory_equal(b.p,
                      "\x44\x57\x01\xab\0\0\0\0"
                      "\x08\x07\x06\x05\x04\x03\x02\x01"
                      "\x28\0\0\0\0\0\0\0",
                      24);
  wd_buf_close(&b);
  link_close(&l);
}

static void test_ipc_seal_appends_frames_to_existing_bytes(void **state) {
  tlink l;
  wd_buf b;
  uint8_t type;
  const uint8_t *p;
  size_t plen, off;
  (void)state;
  link_open(&l, MAXP);
  wd_buf_init(&b, 0);
  wd_buf_put(&b, "xyz", 3);
  assert_int_equal(wd_ipc_seal(&l.broker, 1, msg40, 10, &b), 0);
  assert_int_equal(wd_ipc_seal(&l.broker, 2, msg40, 20, &b), 0);
  assert_memory_equal(b.p, "xyz", 3);
  off = 3;
  assert_int_equal(
      wd_ipc_open(&l.host, b.p + off, WD_IPC_OVERHEAD + 10, &type, &p, &plen),
      0);
  off += WD_IPC_OVERHEAD + 10;
  assert_int_equal(
      wd_ipc_open(&l.host, b.p + off, WD_IPC_OVERHEAD + 20, &type, &p, &plen),
      0);
  assert_int_equal(type, 2);
  assert_int_equal(off + WD_IPC_OVERHEAD + 20, b.len);
  wd_buf_close(&b);
  link_close(&l);
}

static void test_ipc_seal_payload_over_max_returns_etoobig(void **state) {
  static uint8_t big[MAXP + 1];
  tlink l;
  wd_buf b;
  (void)state;
  link_open(&l, MAXP);
  wd_buf_init(&b, 0);
  assert_int_equal(wd_ipc_seal(&l.broker, 1, big, MAXP + 1, &b), WD_ETOOBIG);
  assert_int_equal(b.len, 0);
  assert_int_equal(b.err, 0);
  assert_true(l.broker.seq_tx == 0);
  wd_buf_close(&b);
  link_close(&l);
}

static void test_ipc_seal_into_full_buffer_returns_etoobig(void **state) {
  tlink l;
  wd_buf b;
  (void)state;
  link_open(&l, MAXP);
  wd_buf_init(&b, WD_IPC_OVERHEAD + 39);
  assert_int_equal(wd_ipc_seal(&l.broker, 1, msg40, 40, &b), WD_ETOOBIG);
  assert_int_equal(b.len, 0);
  assert_true(l.broker.seq_tx == 0);
  assert_int_equal(wd_ipc_seal(&l.broker, 1, msg40, 39, &b), 0);
  assert_true(l.broker.seq_tx == 1);
  wd_buf_close(&b);
  link_close(&l);
}

static void test_ipc_seal_into_failed_buffer_returns_its_error(void **state) {
  tlink l;
  wd_buf b;
  (void)state;
  link_open(&l, MAXP);
  wd_buf_init(&b, 2);
  wd_buf_put(&b, "abc", 3);
  assert_int_equal(b.err, WD_ETOOBIG);
  assert_int_equal(wd_ipc_seal(&l.broker, 1, msg40, 0, &b), WD_ETOOBIG);
  assert_true(l.broker.seq_tx == 0);
  wd_buf_close(&b);
  link_close(&l);
}

static void test_ipc_seal_oom_returns_enomem_and_keeps_seq(void **state) {
  static uint8_t big[MAXP];
  tlink l;
  int n;
  (void)state;
  link_open(&l, MAXP);
  /* Fail the 1st, 2nd, ... allocation of the seal until it succeeds. */
  for (n = 1;; n++) {
    wd_buf b;
    uint64_t seq = l.broker.seq_tx;
    int r;
    wd_buf_init(&b, 0);
    wd_buf_put(&b, "x", 1); /* the seal must grow this allocation */
    alloc_calls = 0;
    fail_at = n;
    wd_replace_allocator(fail_malloc, fail_realloc, NULL);
    r = wd_ipc_seal(&l.broker, 1, big, sizeof(big), &b);
    restore_allocator(NULL);
    if (r == 0) {
      assert_true(l.broker.seq_tx == seq + 1);
      assert_int_equal(b.len, 1 + WD_IPC_OVERHEAD + MAXP);
      assert_memory_equal(b.p, "x", 1);
      wd_buf_close(&b);
      break;
    }
    assert_int_equal(r, WD_ENOMEM);
    assert_int_equal(b.len, 1);
    assert_int_equal(b.err, 0);
    assert_true(l.broker.seq_tx == seq);
    wd_buf_close(&b);
  }
  assert_int_equal(n, 2);
  link_close(&l);
}

static void test_ipc_seal_at_last_seq_returns_elimit(void **state) {
  tlink l;
  wd_buf b;
  (void)state;
  link_open(&l, MAXP);
  wd_buf_init(&b, 0);
  l.broker.seq_tx = UINT64_MAX - 1;
  assert_int_equal(wd_ipc_seal(&l.broker, 1, msg40, 4, &b), 0);
  assert_int_equal(wd_ipc_seal(&l.broker, 1, msg40, 4, &b), WD_ELIMIT);
  assert_true(l.broker.seq_tx == UINT64_MAX);
  wd_buf_close(&b);
  link_close(&l);
}

/*
** What wd_ipc_open must return for a valid frame with 'mask' XORed into
** byte 'i' ('plen' payload bytes, max payload MAXP).
*/
static int expected_after_flip(size_t i, uint8_t mask, size_t plen) {
  if (i < 3) return WD_EBADFRAME; /* magic, version */
  if (i == 3) return WD_EBADSIG;  /* type */
  if (i < 8) return WD_EBADFRAME; /* flags */
  if (i < 16) return WD_EBADSIG;  /* seq: the tag covers it */
  if (i < 20) {                   /* length */
    uint32_t n = (uint32_t)plen ^ ((uint32_t)mask << (8 * (i - 16)));
    return n > MAXP ? WD_ETOOBIG : WD_EBADFRAME;
  }
  if (i < 24) return WD_EBADFRAME; /* reserved */
  return WD_EBADSIG;               /* payload, tag */
}

static void
test_ipc_open_flipped_byte_returns_exact_code_and_keeps_seq(void **state) {
  static const uint8_t masks[] = { 0x01, 0x80, 0xff };
  tlink l;
  uint8_t f[256], type = 0xee;
  const uint8_t *p = NULL;
  size_t n, i, k, plen = 999;
  (void)state;
  link_open(&l, MAXP);
  l.host.seq_rx = 5;
  n = good_frame(f, 5, msg40, 40);
  for (i = 0; i < n; i++) {
    for (k = 0; k < WD_COUNTOF(masks); k++) {
      int want = expected_after_flip(i, masks[k], 40), r;
      f[i] ^= masks[k];
      r = wd_ipc_open(&l.host, f, n, &type, &p, &plen);
      f[i] ^= masks[k];
      if (r != want)
        fail_msg("byte %zu ^ 0x%02x: got %s, want %s", i, masks[k],
                 wd_errname(r), wd_errname(want));
      assert_true(l.host.seq_rx == 5);
    }
  }
  /* no failure touched the outputs */
  assert_int_equal(type, 0xee);
  assert_null(p);
  assert_int_equal(plen, 999);
  /* and the untouched frame is still good */
  assert_int_equal(wd_ipc_open(&l.host, f, n, &type, &p, &plen), 0);
  assert_true(l.host.seq_rx == 6);
  link_close(&l);
}

static void test_ipc_open_flipped_tag_byte_returns_ebadsig(void **state) {
  tlink l;
  uint8_t f[256], type;
  const uint8_t *p;
  size_t n, plen;
  (void)state;
  link_open(&l, MAXP);
  n = good_frame(f, 0, msg40, 40);
  f[n - 1] ^= 0x01;
  assert_int_equal(wd_ipc_open(&l.host, f, n, &type, &p, &plen), WD_EBADSIG);
  f[n - 1] ^= 0x01;
  f[n - WD_IPC_TAGLEN] ^= 0x01;
  assert_int_equal(wd_ipc_open(&l.host, f, n, &type, &p, &plen), WD_EBADSIG);
  assert_true(l.host.seq_rx == 0);
  link_close(&l);
}

static void test_ipc_open_same_frame_twice_returns_ereplay(void **state) {
  tlink l;
  wd_buf b;
  uint8_t type;
  const uint8_t *p;
  size_t plen;
  (void)state;
  link_open(&l, MAXP);
  wd_buf_init(&b, 0);
  assert_int_equal(wd_ipc_seal(&l.broker, 1, msg40, 40, &b), 0);
  assert_int_equal(wd_ipc_open(&l.host, b.p, b.len, &type, &p, &plen), 0);
  assert_int_equal(wd_ipc_open(&l.host, b.p, b.len, &type, &p, &plen),
                   WD_EREPLAY);
  assert_true(l.host.seq_rx == 1);
  wd_buf_close(&b);
  link_close(&l);
}

static void test_ipc_open_after_dropped_frame_returns_ereplay(void **state) {
  tlink l;
  wd_buf f0, f1;
  uint8_t type;
  const uint8_t *p;
  size_t plen;
  (void)state;
  link_open(&l, MAXP);
  wd_buf_init(&f0, 0);
  wd_buf_init(&f1, 0);
  assert_int_equal(wd_ipc_seal(&l.broker, 1, msg40, 10, &f0), 0);
  assert_int_equal(wd_ipc_seal(&l.broker, 1, msg40, 11, &f1), 0);
  /* frame 0 is lost: frame 1 leaves a gap */
  assert_int_equal(wd_ipc_open(&l.host, f1.p, f1.len, &type, &p, &plen),
                   WD_EREPLAY);
  assert_true(l.host.seq_rx == 0);
  wd_buf_close(&f0);
  wd_buf_close(&f1);
  link_close(&l);
}

static void test_ipc_open_reordered_frames_returns_ereplay(void **state) {
  tlink l;
  wd_buf f0, f1, f2;
  uint8_t type;
  const uint8_t *p;
  size_t plen;
  (void)state;
  link_open(&l, MAXP);
  wd_buf_init(&f0, 0);
  wd_buf_init(&f1, 0);
  wd_buf_init(&f2, 0);
  assert_int_equal(wd_ipc_seal(&l.broker, 1, msg40, 10, &f0), 0);
  assert_int_equal(wd_ipc_seal(&l.broker, 1, msg40, 11, &f1), 0);
  assert_int_equal(wd_ipc_seal(&l.broker, 1, msg40, 12, &f2), 0);
  assert_int_equal(wd_ipc_open(&l.host, f0.p, f0.len, &type, &p, &plen), 0);
  /* 2 before 1 */
  assert_int_equal(wd_ipc_open(&l.host, f2.p, f2.len, &type, &p, &plen),
                   WD_EREPLAY);
  assert_true(l.host.seq_rx == 1);
  assert_int_equal(wd_ipc_open(&l.host, f1.p, f1.len, &type, &p, &plen), 0);
  /* 0 again after 1 */
  assert_int_equal(wd_ipc_open(&l.host, f0.p, f0.len, &type, &p, &plen),
                   WD_EREPLAY);
  assert_true(l.host.seq_rx == 2);
  wd_buf_close(&f0);
  wd_buf_close(&f1);
  wd_buf_close(&f2);
  link_close(&l);
}

static void
test_ipc_open_truncated_at_every_length_returns_ebadframe(void **state) {
  tlink l;
  uint8_t f[256], type;
  const uint8_t *p;
  size_t n, cut, plen;
  (void)state;
  link_open(&l, MAXP);
  n = good_frame(f, 0, msg40, 40);
  for (cut = 0; cut < n; cut++) {
    int r = wd_ipc_open(&l.host, f, cut, &type, &p, &plen);
    if (r != WD_EBADFRAME) fail_msg("length %zu: got %s", cut, wd_errname(r));
  }
  assert_true(l.host.seq_rx == 0);
  link_close(&l);
}

static void test_ipc_open_trailing_byte_returns_ebadframe(void **state) {
  tlink l;
  uint8_t f[256], type;
  const uint8_t *p;
  size_t n, plen;
  (void)state;
  link_open(&l, MAXP);
  n = good_frame(f, 0, msg40, 40);
  f[n] = 0;
  assert_int_equal(wd_ipc_open(&l.host, f, n + 1, &type, &p, &plen),
                   WD_EBADFRAME);
  assert_true(l.host.seq_rx == 0);
  link_close(&l);
}

static void test_ipc_open_oversized_length_returns_etoobig_without_allocating(
    void **state) {
  tlink l;
  uint8_t f[256], type;
  const uint8_t *p;
  size_t n, plen;
  (void)state;
  link_open(&l, MAXP);
  /* declared 4 GiB - 1 in a 96-byte frame, with a valid tag: the length is
  ** refused before it is compared with the frame size */
  n = make_frame(f, WD_IPC_MAGIC, WD_IPC_VERSION, 1, 0, 0, UINT32_MAX, 0, msg40,
                 40, k_b2h);
  n_allocs = 0;
  wd_replace_allocator(count_malloc, count_realloc, NULL);
  assert_int_equal(wd_ipc_open(&l.host, f, n, &type, &p, &plen), WD_ETOOBIG);
  /* one byte over the maximum */
  n = make_frame(f, WD_IPC_MAGIC, WD_IPC_VERSION, 1, 0, 0, MAXP + 1, 0, msg40,
                 40, k_b2h);
  assert_int_equal(wd_ipc_open(&l.host, f, n, &type, &p, &plen), WD_ETOOBIG);
  /* a bare header-and-tag frame declaring more than the maximum */
  n = make_frame(f, WD_IPC_MAGIC, WD_IPC_VERSION, 1, 0, 0, MAXP + 1, 0, NULL, 0,
                 k_b2h);
  assert_int_equal(wd_ipc_open(&l.host, f, n, &type, &p, &plen), WD_ETOOBIG);
  restore_allocator(NULL);
  assert_int_equal(n_allocs, 0);
  assert_true(l.host.seq_rx == 0);
  link_close(&l);
}

static void test_ipc_open_exactly_max_payload_returns_zero(void **state) {
  static uint8_t big[MAXP], f[MAXP + WD_IPC_OVERHEAD];
  tlink l;
  uint8_t type;
  const uint8_t *p;
  size_t n, plen;
  (void)state;
  link_open(&l, MAXP);
  n = good_frame(f, 0, big, MAXP);
  assert_int_equal(wd_ipc_open(&l.host, f, n, &type, &p, &plen), 0);
  assert_int_equal(plen, MAXP);
  link_close(&l);
}

static void test_ipc_open_wrong_key_returns_ebadsig(void **state) {
  tlink l;
  uint8_t f[256], type, other[32];
  const uint8_t *p;
  size_t n, plen;
  (void)state;
  link_open(&l, MAXP);
  memset(other, 0x33, sizeof(other));
  n = make_frame(f, WD_IPC_MAGIC, WD_IPC_VERSION, 1, 0, 0, 40, 0, msg40, 40,
                 other);
  assert_int_equal(wd_ipc_open(&l.host, f, n, &type, &p, &plen), WD_EBADSIG);
  assert_true(l.host.seq_rx == 0);
  link_close(&l);
}

static void test_ipc_open_reflected_frame_returns_ebadsig(void **state) {
  tlink l;
  wd_buf b;
  uint8_t type;
  const uint8_t *p;
  size_t plen;
  (void)state;
  link_open(&l, MAXP);
  wd_buf_init(&b, 0);
  /* the broker's own frame sent back to it */
  assert_int_equal(wd_ipc_seal(&l.broker, 1, msg40, 40, &b), 0);
  assert_int_equal(wd_ipc_open(&l.broker, b.p, b.len, &type, &p, &plen),
                   WD_EBADSIG);
  wd_buf_close(&b);
  link_close(&l);
}

static void
test_ipc_open_bad_fixed_fields_with_valid_tag_returns_ebadframe(void **state) {
  tlink l;
  uint8_t f[256], type;
  const uint8_t *p;
  size_t n, plen;
  (void)state;
  link_open(&l, MAXP);
  /* unknown magic */
  n = make_frame(f, 0x4457, WD_IPC_VERSION, 1, 0, 0, 40, 0, msg40, 40, k_b2h);
  assert_int_equal(wd_ipc_open(&l.host, f, n, &type, &p, &plen), WD_EBADFRAME);
  /* unknown versions */
  n = make_frame(f, WD_IPC_MAGIC, 0, 1, 0, 0, 40, 0, msg40, 40, k_b2h);
  assert_int_equal(wd_ipc_open(&l.host, f, n, &type, &p, &plen), WD_EBADFRAME);
  n = make_frame(f, WD_IPC_MAGIC, WD_IPC_VERSION + 1, 1, 0, 0, 40, 0, msg40, 40,
                 k_b2h);
  assert_int_equal(wd_ipc_open(&l.host, f, n, &type, &p, &plen), WD_EBADFRAME);
  /* the other MAC's version (1: BLAKE2b or HMAC, 2: Poly1305) */
  n = make_frame(f, WD_IPC_MAGIC, 3 - WD_IPC_VERSION, 1, 0, 0, 40, 0, msg40, 40,
                 k_b2h);
  assert_int_equal(wd_ipc_open(&l.host, f, n, &type, &p, &plen), WD_EBADFRAME);
  /* reserved flags and reserved word */
  n = make_frame(f, WD_IPC_MAGIC, WD_IPC_VERSION, 1, 0x80000000u, 0, 40, 0,
                 msg40, 40, k_b2h);
  assert_int_equal(wd_ipc_open(&l.host, f, n, &type, &p, &plen), WD_EBADFRAME);
  n = make_frame(f, WD_IPC_MAGIC, WD_IPC_VERSION, 1, 0, 0, 40, 1, msg40, 40,
                 k_b2h);
  assert_int_equal(wd_ipc_open(&l.host, f, n, &type, &p, &plen), WD_EBADFRAME);
  assert_true(l.host.seq_rx == 0);
  /* the same frame with the fields right is accepted */
  n = make_frame(f, WD_IPC_MAGIC, WD_IPC_VERSION, 1, 0, 0, 40, 0, msg40, 40,
                 k_b2h);
  assert_int_equal(wd_ipc_open(&l.host, f, n, &type, &p, &plen), 0);
  link_close(&l);
}

static void
test_ipc_open_future_seq_with_valid_tag_returns_ereplay(void **state) {
  tlink l;
  uint8_t f[256], type;
  const uint8_t *p;
  size_t n, plen;
  (void)state;
  link_open(&l, MAXP);
  n = good_frame(f, 1, msg40, 40);
  assert_int_equal(wd_ipc_open(&l.host, f, n, &type, &p, &plen), WD_EREPLAY);
  n = good_frame(f, UINT64_MAX, msg40, 40);
  assert_int_equal(wd_ipc_open(&l.host, f, n, &type, &p, &plen), WD_EREPLAY);
  /* UINT64_MAX is refused even when it is the expected number */
  l.host.seq_rx = UINT64_MAX;
  assert_int_equal(wd_ipc_open(&l.host, f, n, &type, &p, &plen), WD_EREPLAY);
  assert_true(l.host.seq_rx == UINT64_MAX);
  link_close(&l);
}

static void test_ipc_open_order_length_before_size_before_tag(void **state) {
  tlink l;
  uint8_t f[256], type;
  const uint8_t *p;
  size_t n, plen;
  (void)state;
  link_open(&l, MAXP);
  /* bad magic and oversized length and bad tag: the fixed fields first */
  n = make_frame(f, 0, WD_IPC_VERSION, 1, 0, 0, UINT32_MAX, 0, msg40, 40,
                 k_h2b);
  assert_int_equal(wd_ipc_open(&l.host, f, n, &type, &p, &plen), WD_EBADFRAME);
  /* oversized length and bad tag: the length */
  n = make_frame(f, WD_IPC_MAGIC, WD_IPC_VERSION, 1, 0, 0, UINT32_MAX, 0, msg40,
                 40, k_h2b);
  assert_int_equal(wd_ipc_open(&l.host, f, n, &type, &p, &plen), WD_ETOOBIG);
  /* length mismatch and bad tag: the mismatch */
  n = make_frame(f, WD_IPC_MAGIC, WD_IPC_VERSION, 1, 0, 0, 39, 0, msg40, 40,
                 k_h2b);
  assert_int_equal(wd_ipc_open(&l.host, f, n, &type, &p, &plen), WD_EBADFRAME);
  /* bad tag and wrong seq: the tag */
  n = make_frame(f, WD_IPC_MAGIC, WD_IPC_VERSION, 1, 0, 9, 40, 0, msg40, 40,
                 k_h2b);
  assert_int_equal(wd_ipc_open(&l.host, f, n, &type, &p, &plen), WD_EBADSIG);
  link_close(&l);
}

static void test_ipc_peek_len_valid_header_returns_total(void **state) {
  uint8_t f[256];
  size_t total = 0;
  (void)state;
  good_frame(f, 0, msg40, 40);
  assert_int_equal(wd_ipc_peek_len(f, MAXP, &total), 0);
  assert_int_equal(total, WD_IPC_OVERHEAD + 40);
  assert_int_equal(wd_ipc_peek_len(f, 40, &total), 0);
}

static void test_ipc_peek_len_bad_header_returns_code(void **state) {
  uint8_t f[256];
  size_t total = 77;
  (void)state;
  good_frame(f, 0, msg40, 40);
  assert_int_equal(wd_ipc_peek_len(f, 39, &total), WD_ETOOBIG);
  f[0] ^= 1;
  assert_int_equal(wd_ipc_peek_len(f, MAXP, &total), WD_EBADFRAME);
  f[0] ^= 1;
  f[2] = WD_IPC_VERSION + 1;
  assert_int_equal(wd_ipc_peek_len(f, MAXP, &total), WD_EBADFRAME);
  f[2] = WD_IPC_VERSION;
  f[5] = 1;
  assert_int_equal(wd_ipc_peek_len(f, MAXP, &total), WD_EBADFRAME);
  f[5] = 0;
  f[23] = 1;
  assert_int_equal(wd_ipc_peek_len(f, MAXP, &total), WD_EBADFRAME);
  f[23] = 0;
  put_u32(f + 16, UINT32_MAX);
  assert_int_equal(wd_ipc_peek_len(f, MAXP, &total), WD_ETOOBIG);
  assert_int_equal(total, 77);
}

/* }====== */

/* {====== Records ====== */

static void test_ipc_rec_round_trip_returns_each_record(void **state) {
  wd_buf b;
  wd_cur c, body;
  uint8_t t;
  size_t s;
  uint32_t v;
  (void)state;
  wd_buf_init(&b, 0);
  s = wd_ipc_rec_begin(&b, 1);
  assert_int_equal(s, 0);
  wd_buf_put_u32(&b, 0xdeadbeef);
  wd_ipc_rec_end(&b, s);
  s = wd_ipc_rec_begin(&b, 2); /* empty body */
  wd_ipc_rec_end(&b, s);
  s = wd_ipc_rec_begin(&b, 255);
  wd_buf_put_cstr(&b, "hello");
  wd_ipc_rec_end(&b, s);
  assert_int_equal(b.err, 0);
  assert_int_equal(b.len, 5 + 4 + 5 + 5 + 9);
  assert_memory_equal(b.p, "\x01\x04\0\0\0\xef\xbe\xad\xde", 9);
  wd_cur_init(&c, b.p, b.len);
  assert_int_equal(wd_ipc_rec_next(&c, &t, &body), 1);
  assert_int_equal(t, 1);
  assert_int_equal(wd_cur_left(&body), 4);
  assert_int_equal(wd_cur_u32(&body, &v), 0);
  assert_true(v == 0xdeadbeef);
  assert_int_equal(wd_ipc_rec_next(&c, &t, &body), 1);
  assert_int_equal(t, 2);
  assert_int_equal(wd_cur_left(&body), 0);
  assert_int_equal(wd_ipc_rec_next(&c, &t, &body), 1);
  assert_int_equal(t, 255);
  assert_int_equal(wd_cur_left(&body), 9);
  assert_int_equal(wd_ipc_rec_next(&c, &t, &body), 0);
  assert_int_equal(wd_ipc_rec_next(&c, &t, &body), 0);
  wd_buf_close(&b);
}

static void test_ipc_rec_next_empty_payload_returns_zero(void **state) {
  wd_cur c, body;
  uint8_t t;
  (void)state;
  wd_cur_init(&c, NULL, 0);
  assert_int_equal(wd_ipc_rec_next(&c, &t, &body), 0);
}

static void test_ipc_rec_next_truncated_header_returns_ebadframe(void **state) {
  static const uint8_t rec[] = { 0x01, 0x00, 0x00, 0x00, 0x00 };
  wd_cur c, body;
  uint8_t t;
  size_t cut;
  (void)state;
  for (cut = 1; cut < sizeof(rec); cut++) {
    wd_cur_init(&c, rec, cut);
    assert_int_equal(wd_ipc_rec_next(&c, &t, &body), WD_EBADFRAME);
    assert_int_equal(c.off, 0);
  }
  wd_cur_init(&c, rec, sizeof(rec));
  assert_int_equal(wd_ipc_rec_next(&c, &t, &body), 1);
}

static void test_ipc_rec_next_length_past_end_returns_ebadframe(void **state) {
  static const uint8_t recs[] = {
    0x01, 0x02, 0x00, 0x00, 0x00, 'o', 'k',      /* good */
    0x02, 0x04, 0x00, 0x00, 0x00, 'b', 'a', 'd', /* one byte short */
  };
  static const uint8_t huge[] = { 0x01, 0xff, 0xff, 0xff, 0xff, 'x' };
  wd_cur c, body;
  uint8_t t;
  (void)state;
  wd_cur_init(&c, recs, sizeof(recs));
  assert_int_equal(wd_ipc_rec_next(&c, &t, &body), 1);
  assert_int_equal(c.off, 7);
  assert_int_equal(wd_ipc_rec_next(&c, &t, &body), WD_EBADFRAME);
  assert_int_equal(c.off, 7);
  wd_cur_init(&c, huge, sizeof(huge));
  assert_int_equal(wd_ipc_rec_next(&c, &t, &body), WD_EBADFRAME);
  assert_int_equal(c.off, 0);
}

static void test_ipc_rec_body_cursor_cannot_read_next_record(void **state) {
  wd_buf b;
  wd_cur c, body;
  uint8_t t;
  uint64_t v;
  size_t s;
  (void)state;
  wd_buf_init(&b, 0);
  s = wd_ipc_rec_begin(&b, 1);
  wd_buf_put_u32(&b, 7);
  wd_ipc_rec_end(&b, s);
  s = wd_ipc_rec_begin(&b, 2);
  wd_buf_put_u32(&b, 8);
  wd_ipc_rec_end(&b, s);
  wd_cur_init(&c, b.p, b.len);
  assert_int_equal(wd_ipc_rec_next(&c, &t, &body), 1);
  /* a u64 would run into the next record: the body cursor stops it */
  assert_int_equal(wd_cur_u64(&body, &v), WD_EBADFRAME);
  wd_buf_close(&b);
}

static void test_ipc_rec_end_after_error_does_nothing(void **state) {
  wd_buf b;
  size_t s;
  (void)state;
  wd_buf_init(&b, 8);
  s = wd_ipc_rec_begin(&b, 1);
  wd_buf_put_u32(&b, 1); /* 9 bytes > max 8 */
  assert_int_equal(b.err, WD_ETOOBIG);
  wd_ipc_rec_end(&b, s);
  assert_int_equal(b.err, WD_ETOOBIG);
  assert_int_equal(b.len, 5);
  assert_memory_equal(b.p, "\x01\0\0\0\0", 5);
  wd_buf_close(&b);
}

static void test_ipc_rec_end_bad_start_sets_einval(void **state) {
  wd_buf b;
  (void)state;
  wd_buf_init(&b, 0);
  wd_buf_put(&b, "abc", 3);
  wd_ipc_rec_end(&b, 0); /* fewer than 5 bytes since 'start' */
  assert_int_equal(b.err, WD_EINVAL);
  wd_buf_reset(&b);
  wd_buf_put(&b, "abcdefgh", 8);
  wd_ipc_rec_end(&b, 100);
  assert_int_equal(b.err, WD_EINVAL);
  wd_buf_reset(&b);
  wd_buf_put(&b, "abcdefgh", 8);
  wd_ipc_rec_end(&b, SIZE_MAX - 2);
  assert_int_equal(b.err, WD_EINVAL);
  assert_memory_equal(b.p, "abcdefgh", 8);
  wd_buf_close(&b);
}

static void test_ipc_rec_in_sealed_frame_round_trip(void **state) {
  tlink l;
  wd_buf pay, fr;
  wd_cur c, body;
  uint8_t type, t;
  const uint8_t *p;
  size_t plen, s;
  int i, n = 0;
  (void)state;
  link_open(&l, MAXP);
  wd_buf_init(&pay, MAXP);
  wd_buf_init(&fr, 0);
  for (i = 0; i < 10; i++) {
    s = wd_ipc_rec_begin(&pay, (uint8_t)i);
    wd_buf_put_u32(&pay, (uint32_t)i * 3);
    wd_ipc_rec_end(&pay, s);
  }
  assert_int_equal(pay.err, 0);
  assert_int_equal(wd_ipc_seal(&l.broker, 1, pay.p, pay.len, &fr), 0);
  assert_int_equal(wd_ipc_open(&l.host, fr.p, fr.len, &type, &p, &plen), 0);
  wd_cur_init(&c, p, plen);
  while (wd_ipc_rec_next(&c, &t, &body) == 1) {
    uint32_t v;
    assert_int_equal(t, n);
    assert_int_equal(wd_cur_u32(&body, &v), 0);
    assert_true(v == (uint32_t)n * 3);
    n++;
  }
  assert_int_equal(n, 10);
  wd_buf_close(&pay);
  wd_buf_close(&fr);
  link_close(&l);
}

/* }====== */

#define T(f)  cmocka_unit_test(f)
#define TA(f) cmocka_unit_test_teardown(f, restore_allocator)

int main(void) {
  const struct CMUnitTest tests[] = {
    T(test_ipc_tags_equal_one_shot_mac_at_every_length),
    T(test_ipc_init_valid_keys_returns_zero_and_zero_seqs),
    T(test_ipc_init_equal_keys_returns_einval),
    T(test_ipc_init_null_key_returns_einval),
    T(test_ipc_init_max_payload_over_u32_returns_einval),
    T(test_ipc_close_twice_or_null_is_harmless),
    T(test_ipc_closed_channel_returns_einval),
    T(test_ipc_derive_is_deterministic_and_matches_kdf),
    T(test_ipc_derive_distinct_per_host_and_direction),
    T(test_ipc_derive_bad_dir_or_index_returns_einval),
    T(test_ipc_seal_open_round_trip_returns_payload),
    T(test_ipc_seal_null_payload_with_zero_len_returns_zero),
    T(test_ipc_seal_frame_layout_matches_spec),
    T(test_ipc_seal_appends_frames_to_existing_bytes),
    T(test_ipc_seal_payload_over_max_returns_etoobig),
    T(test_ipc_seal_into_full_buffer_returns_etoobig),
    T(test_ipc_seal_into_failed_buffer_returns_its_error),
    TA(test_ipc_seal_oom_returns_enomem_and_keeps_seq),
    T(test_ipc_seal_at_last_seq_returns_elimit),
    T(test_ipc_open_flipped_byte_returns_exact_code_and_keeps_seq),
    T(test_ipc_open_flipped_tag_byte_returns_ebadsig),
    T(test_ipc_open_same_frame_twice_returns_ereplay),
    T(test_ipc_open_after_dropped_frame_returns_ereplay),
    T(test_ipc_open_reordered_frames_returns_ereplay),
    T(test_ipc_open_truncated_at_every_length_returns_ebadframe),
    T(test_ipc_open_trailing_byte_returns_ebadframe),
    TA(test_ipc_open_oversized_length_returns_etoobig_without_allocating),
    T(test_ipc_open_exactly_max_payload_returns_zero),
    T(test_ipc_open_wrong_key_returns_ebadsig),
    T(test_ipc_open_reflected_frame_returns_ebadsig),
    T(test_ipc_open_bad_fixed_fields_with_valid_tag_returns_ebadframe),
    T(test_ipc_open_future_seq_with_valid_tag_returns_ereplay),
    T(test_ipc_open_order_length_before_size_before_tag),
    T(test_ipc_peek_len_valid_header_returns_total),
    T(test_ipc_peek_len_bad_header_returns_code),
    T(test_ipc_rec_round_trip_returns_each_record),
    T(test_ipc_rec_next_empty_payload_returns_zero),
    T(test_ipc_rec_next_truncated_header_returns_ebadframe),
    T(test_ipc_rec_next_length_past_end_returns_ebadframe),
    T(test_ipc_rec_body_cursor_cannot_read_next_record),
    T(test_ipc_rec_end_after_error_does_nothing),
    T(test_ipc_rec_end_bad_start_sets_einval),
    T(test_ipc_rec_in_sealed_frame_round_trip),
  };
  return cmocka_run_group_tests(tests, setup_keys, NULL);
}
