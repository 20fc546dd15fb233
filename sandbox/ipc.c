/*
** sandbox/ipc.c
** Signed, sequence-numbered frames for the broker<->host link, and the
** records batched inside a frame's payload. No I/O: the caller moves bytes.
** Runs in: broker and host.
*/
#include <string.h>

#include <sodium.h>

#include "ward/wd_ipc.h"

/* Header field offsets (see the wire format in wd_ipc.h). */
#define OFF_MAGIC    0
#define OFF_VERSION  2
#define OFF_TYPE     3
#define OFF_FLAGS    4
#define OFF_SEQ      8
#define OFF_LENGTH   16
#define OFF_RESERVED 20

/*
** The MAC. Both ends of a link must agree on it, so it is a build-time
** choice rather than a negotiated one: nothing an attacker sends can pick
** a weaker one.
*/
#if defined(WD_IPC_HMAC) && defined(WD_IPC_BLAKE2B)
#error "WD_IPC_HMAC and WD_IPC_BLAKE2B: choose one MAC"
#endif
#ifdef WD_IPC_POLY1305
_Static_assert(crypto_onetimeauth_poly1305_BYTES == WD_IPC_TAGLEN, "tag size");
_Static_assert(crypto_stream_chacha20_ietf_KEYBYTES == WD_IPC_KEYLEN,
               "key size");
_Static_assert(crypto_onetimeauth_poly1305_KEYBYTES == 32, "one-time key");
_Static_assert(crypto_stream_chacha20_ietf_NONCEBYTES == 12, "nonce size");
#elif defined(WD_IPC_HMAC)
_Static_assert(crypto_auth_BYTES == WD_IPC_TAGLEN, "tag size");
_Static_assert(crypto_auth_KEYBYTES == WD_IPC_KEYLEN, "key size");
#else
_Static_assert(crypto_generichash_BYTES == WD_IPC_TAGLEN, "tag size");
_Static_assert(crypto_generichash_KEYBYTES_MIN <= WD_IPC_KEYLEN &&
                   WD_IPC_KEYLEN <= crypto_generichash_KEYBYTES_MAX,
               "key size");
#endif
_Static_assert(crypto_kdf_KEYBYTES == WD_IPC_KEYLEN, "kdf master size");
_Static_assert(crypto_kdf_CONTEXTBYTES == 8, "kdf context size");

/*
** !!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!
** WD_IPC_NOMAC: FOR bench/mac_cost.sh ONLY. NEVER USE IT ANYWHERE ELSE.
** It turns the signed link into an UNAUTHENTICATED one: seal writes an
** all-zero tag and open neither computes nor checks the tag, so anything
** that can write to a host's socket can forge any frame, and a host can
** forge frames to the broker. Every other check (header, length, exact
** sequence number) stays, so the only difference from a normal build is
** the cost of the MAC, which is what bench/mac_cost.sh measures.
** CMake sets it only with -DWD_BENCH_NOMAC=ON (which prints a warning)
** and refuses it passed any other way; the #error below refuses it
** without that option's companion definition.
** !!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!
*/
#ifdef WD_IPC_NOMAC
#ifndef WD_BENCH_NOMAC
#error "WD_IPC_NOMAC removes the link's MAC: benchmark builds only (cmake -DWD_BENCH_NOMAC=ON, bench/mac_cost.sh)"
#endif
#if defined(WD_IPC_HMAC) || defined(WD_IPC_BLAKE2B)
#error "WD_IPC_NOMAC and a MAC choice together make no sense"
#endif
#endif

/*
** The MAC (wd_ipc.h). By default, Poly1305 under a one-time key per
** frame: ChaCha20 keyed with the link key, nonce the frame's sequence
** number, gives the 32-byte Poly1305 key (the first half of its first
** block), and Poly1305 tags header and payload. This is the authenticator
** of ChaCha20-Poly1305 (RFC 8439 poly1305_key_gen) and of NaCl's
** secretbox, with nothing encrypted: the link needs integrity, not
** secrecy (both ends are ours, and the socket is private to them).
** Why not BLAKE2b any more: a byte crossing hosts is tagged four times
** (host out, broker in, broker out, host in), and keyed BLAKE2b hashes
** about 0.75 GB/s on these machines against about 5 GB/s for Poly1305
** (bench/bench_mac.c): with BLAKE2b the broker alone spent 2.6 ns per
** byte on tags, more than the whole budget of 400 MB/s across hosts.
** Security: Poly1305 is a one-time MAC (a forgery succeeds with
** probability at most 8 * ceil(L / 16) / 2^106 for L bytes tagged: under
** 2^-88 for the largest frame, and the first failure kills the sender's
** link); each one-time key is used
** once because the sender never seals two frames with one sequence
** number under one link key (seq_tx only grows, UINT64_MAX is never sent,
** and every host incarnation has new keys). A receiver may compute tags
** for any sequence number an attacker writes in a header: that is a
** verification query, which the AEAD security of ChaCha20-Poly1305
** allows in any number.
** The sequence number is also in the tagged header and checked after
** the tag, so a replayed frame is still WD_EREPLAY.
**
** With WD_IPC_BLAKE2B or WD_IPC_HMAC the keyed part of the MAC is
** computed once per key, not once per frame: wd_ipc_init keeps a MAC
** state that has absorbed the key ('mac_tx' and 'mac_rx', guarded like
** the keys), and each tag starts from a copy of it.
** The tags are exactly those of crypto_generichash (or crypto_auth) with
** the key; only the work is shared.
**   HMAC: crypto_auth_hmacsha512256_init hashes the padded key into both
**   inner and outer states, so a copy skips two SHA-512 compressions.
**   BLAKE2b: crypto_generichash_init only buffers the key block (libsodium
**   compresses a block once more input follows it), so a plain copy would
**   still compress the key block for every tag: for a frame under 104
**   payload bytes that is half the work. precompress() below makes the
**   state hold the key block already compressed and an empty buffer; that
**   needs libsodium's state layout, so it is checked field by field and
**   then by tags computed both ways, and any mismatch keeps the plain
**   (slower, always correct) state.
*/
#ifndef WD_IPC_NOMAC
#ifdef WD_IPC_POLY1305
/* The state kept per key is the ChaCha20 key itself. */
typedef struct mac_state {
  uint8_t key[WD_IPC_KEYLEN];
} mac_state;

static void set_u64(uint8_t *p, uint64_t v);

static int mac_init(mac_state *s, const uint8_t key[WD_IPC_KEYLEN]) {
  memcpy(s->key, key, WD_IPC_KEYLEN);
  return 0;
}

/* Tag over 'a' then 'b' (either may be empty) for the frame numbered
** 'seq', under the link key in 'k'. The one-time key and the Poly1305
** state are wiped (libsodium's final wipes the state too). */
static void mac2(uint8_t tag[WD_IPC_TAGLEN], uint64_t seq, const uint8_t *a,
                 size_t na, const uint8_t *b, size_t nb, const void *k) {
  const mac_state *m = k;
  crypto_onetimeauth_poly1305_state s;
  uint8_t nonce[crypto_stream_chacha20_ietf_NONCEBYTES];
  uint8_t otk[crypto_onetimeauth_poly1305_KEYBYTES];
  memset(nonce, 0, sizeof nonce);
  set_u64(nonce, seq);
  crypto_stream_chacha20_ietf(otk, sizeof otk, nonce, m->key);
  crypto_onetimeauth_poly1305_init(&s, otk);
  if (na > 0) crypto_onetimeauth_poly1305_update(&s, a, na);
  if (nb > 0) crypto_onetimeauth_poly1305_update(&s, b, nb);
  crypto_onetimeauth_poly1305_final(&s, tag);
  sodium_memzero(otk, sizeof otk);
  sodium_memzero(&s, sizeof s);
}
#else /* WD_IPC_BLAKE2B or WD_IPC_HMAC */
#ifdef WD_IPC_HMAC
typedef crypto_auth_hmacsha512256_state mac_state;
#else
typedef crypto_generichash_state mac_state;
#endif

static int mac_init(mac_state *s, const uint8_t key[WD_IPC_KEYLEN]) {
#ifdef WD_IPC_HMAC
  return crypto_auth_hmacsha512256_init(s, key, WD_IPC_KEYLEN);
#else
  return crypto_generichash_init(s, key, WD_IPC_KEYLEN, WD_IPC_TAGLEN);
#endif
}

static void mac_update(mac_state *s, const uint8_t *p, size_t n) {
#ifdef WD_IPC_HMAC
  crypto_auth_hmacsha512256_update(s, p, n);
#else
  crypto_generichash_update(s, p, n);
#endif
}

/* libsodium wipes the secret parts of 's' (chaining values and buffer). */
static void mac_final(mac_state *s, uint8_t tag[WD_IPC_TAGLEN]) {
#ifdef WD_IPC_HMAC
  crypto_auth_hmacsha512256_final(s, tag);
#else
  crypto_generichash_final(s, tag, WD_IPC_TAGLEN);
#endif
}

/* Tag over 'a' then 'b' (either may be empty), from the keyed state 'k'.
** 'na' + 'nb' >= 1: a precompressed BLAKE2b state must not tag nothing
** (every frame has a header, so it never does). */
static void mac2(uint8_t tag[WD_IPC_TAGLEN], uint64_t seq, const uint8_t *a,
                 size_t na, const uint8_t *b, size_t nb, const void *k) {
  mac_state s;
  (void)seq; /* in the tagged header already */
  memcpy(&s, k, sizeof s);
  if (na > 0) mac_update(&s, a, na);
  if (nb > 0) mac_update(&s, b, nb);
  mac_final(&s, tag);
}

#ifndef WD_IPC_HMAC
/*
** libsodium 1.0.x lays a BLAKE2b state out as h[8] t[2] f[2] buf[256]
** buflen (u64 words, native byte order). These offsets are only trusted
** after precompress() has seen them behave as expected.
*/
#define B2_OFF_T      64
#define B2_OFF_F      80
#define B2_OFF_BUF    96
#define B2_BUFBYTES   256
#define B2_OFF_BUFLEN 352
#define B2_BLOCK      128
_Static_assert(sizeof(mac_state) >= B2_OFF_BUFLEN + sizeof(size_t),
               "BLAKE2b state smaller than expected");

static uint64_t b2_u64(const mac_state *s, size_t off) {
  uint64_t v;
  memcpy(&v, (const uint8_t *)s + off, sizeof v);
  return v;
}

static size_t b2_buflen(const mac_state *s) {
  size_t v;
  memcpy(&v, (const uint8_t *)s + B2_OFF_BUFLEN, sizeof v);
  return v;
}

/* Is 's' a fresh keyed state: nothing compressed, only the key block
** buffered, no final flag? */
static int b2_fresh(const mac_state *s) {
  return b2_u64(s, B2_OFF_T) == 0 && b2_u64(s, B2_OFF_T + 8) == 0 &&
         b2_u64(s, B2_OFF_F) == 0 && b2_u64(s, B2_OFF_F + 8) == 0 &&
         b2_buflen(s) == B2_BLOCK;
}

/*
** Turn 'st', fresh from mac_init with 'key', into the same state with the
** key block compressed: feed it B2_BLOCK + 1 filler bytes (libsodium then
** compresses the key block and buffers the filler) and drop the filler
** from the buffer. Keeps 'st' unchanged unless every check passes: the
** fields hold what they must before and after, and tags from the result
** equal crypto_generichash's with 'key' on inputs around block borders.
*/
static void precompress(mac_state *st, const uint8_t key[WD_IPC_KEYLEN]) {
  static const size_t lens[] = { 1,   23,  24,  127, 128, 129,
                                 255, 256, 257, 385, 600 };
  static const uint8_t filler[B2_BLOCK + 1];
  uint8_t msg[600], want[WD_IPC_TAGLEN], got[WD_IPC_TAGLEN];
  mac_state s;
  size_t i, zero = 0;
  int ok;
  memcpy(&s, st, sizeof s);
  ok = b2_fresh(&s);
  if (ok) {
    mac_update(&s, filler, sizeof filler);
    ok = b2_u64(&s, B2_OFF_T) == B2_BLOCK && b2_u64(&s, B2_OFF_T + 8) == 0 &&
         b2_u64(&s, B2_OFF_F) == 0 && b2_buflen(&s) == sizeof filler;
  }
  if (ok) {
    memcpy((uint8_t *)&s + B2_OFF_BUFLEN, &zero, sizeof zero);
    sodium_memzero((uint8_t *)&s + B2_OFF_BUF, B2_BUFBYTES);
    for (i = 0; i < sizeof msg; i++)
      msg[i] = (uint8_t)(i * 131 + 7);
    for (i = 0; ok && i < sizeof lens / sizeof lens[0]; i++) {
      crypto_generichash(want, sizeof want, msg, lens[i], key, WD_IPC_KEYLEN);
      mac2(got, 0, msg, lens[i], NULL, 0, &s);
      ok = sodium_memcmp(want, got, sizeof want) == 0;
    }
  }
  if (ok) memcpy(st, &s, sizeof s);
  sodium_memzero(&s, sizeof s);
  sodium_memzero(want, sizeof want);
  sodium_memzero(got, sizeof got);
}
#endif /* !WD_IPC_HMAC */
#endif /* WD_IPC_POLY1305 */
#endif /* !WD_IPC_NOMAC */

static uint32_t get_u32(const uint8_t *p) {
  return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
         (uint32_t)p[3] << 24;
}

static uint64_t get_u64(const uint8_t *p) {
  return (uint64_t)get_u32(p) | (uint64_t)get_u32(p + 4) << 32;
}

static void set_u32(uint8_t *p, uint32_t v) {
  int i;
  for (i = 0; i < 4; i++)
    p[i] = (uint8_t)(v >> (8 * i));
}

static void set_u64(uint8_t *p, uint64_t v) {
  set_u32(p, (uint32_t)v);
  set_u32(p + 4, (uint32_t)(v >> 32));
}

/* sodium_init may run any number of times and from any thread. */
static int sodium_ready(void) {
  return sodium_init() < 0 ? WD_EINTERNAL : 0;
}

/* Copy a key into its own guarded, read-only allocation, and keep the
** keyed MAC state made from it the same way. */
static int key_new(unsigned char **out, void **state,
                   const uint8_t key[WD_IPC_KEYLEN]) {
  unsigned char *k = sodium_malloc(WD_IPC_KEYLEN);
  if (k == NULL) return WD_ENOMEM;
  memcpy(k, key, WD_IPC_KEYLEN);
  sodium_mprotect_readonly(k);
  *out = k;
#ifndef WD_IPC_NOMAC
  {
    mac_state *s = sodium_malloc(sizeof *s);
    if (s == NULL) return WD_ENOMEM;
    *state = s;
    if (mac_init(s, key) != 0) return WD_EINTERNAL;
#ifdef WD_IPC_BLAKE2B
    precompress(s, key);
#endif
    sodium_mprotect_readonly(s);
  }
#else
  (void)state;
#endif
  return 0;
}

static void key_free(unsigned char **k, void **state) {
  if (*state != NULL) {
#ifndef WD_IPC_NOMAC
    sodium_mprotect_readwrite(*state);
    sodium_memzero(*state, sizeof(mac_state));
#endif
    sodium_free(*state);
    *state = NULL;
  }
  if (*k == NULL) return;
  sodium_mprotect_readwrite(*k);
  sodium_memzero(*k, WD_IPC_KEYLEN);
  sodium_free(*k);
  *k = NULL;
}

int wd_ipc_init(wd_ipc *c, const uint8_t key_tx[32], const uint8_t key_rx[32],
                size_t max_payload) {
  int r;
  memset(c, 0, sizeof(*c));
  if (key_tx == NULL || key_rx == NULL) return WD_EINVAL;
  /* The length field is a u32, and a whole frame must fit in a size_t. */
  if (max_payload > WD_IPC_PAYLOAD_LIMIT ||
      max_payload > SIZE_MAX - WD_IPC_OVERHEAD)
    return WD_EINVAL;
  if ((r = sodium_ready()) < 0) return r;
  /* One key for both directions would let a peer's frame be reflected back
  ** to it and accepted as the other side's. */
  if (sodium_memcmp(key_tx, key_rx, WD_IPC_KEYLEN) == 0) return WD_EINVAL;
  if ((r = key_new(&c->key_tx, &c->mac_tx, key_tx)) < 0 ||
      (r = key_new(&c->key_rx, &c->mac_rx, key_rx)) < 0)
    goto fail;
  c->max_payload = max_payload;
  return 0;
fail:
  wd_ipc_close(c);
  return r;
}

void wd_ipc_close(wd_ipc *c) {
  if (c == NULL) return;
  key_free(&c->key_tx, &c->mac_tx);
  key_free(&c->key_rx, &c->mac_rx);
  c->seq_tx = c->seq_rx = 0;
}

int wd_ipc_derive(const uint8_t master[32], uint64_t host_index, int dir,
                  uint8_t out[32]) {
  int r;
  if (dir != WD_IPC_DIR_TO_HOST && dir != WD_IPC_DIR_TO_BROKER)
    return WD_EINVAL;
  if (host_index > (UINT64_MAX - 1) / 2) return WD_EINVAL;
  if ((r = sodium_ready()) < 0) return r;
  if (crypto_kdf_derive_from_key(out, WD_IPC_KEYLEN,
                                 host_index * 2 + (uint64_t)dir, "wardlink",
                                 master) != 0)
    return WD_EINTERNAL;
  return 0;
}

/* The checks of wd_ipc_seal that must pass before anything is written. */
static int seal_check(const wd_ipc *c, size_t len) {
  if (c->key_tx == NULL) return WD_EINVAL;
  if (len > c->max_payload) return WD_ETOOBIG;
  /* Never send seq UINT64_MAX: the next one would wrap to 0 and make every
  ** old frame acceptable again. wd_ipc_open refuses it too. */
  if (c->seq_tx == UINT64_MAX) return WD_ELIMIT;
  return 0;
}

/* Write the header of the next frame and its tag over 'hdr' and 'payload',
** then count the frame. seal_check passed. */
static void seal_frame(wd_ipc *c, uint8_t type, const uint8_t *payload,
                       size_t len, uint8_t *hdr, uint8_t *tag) {
  hdr[OFF_MAGIC] = (uint8_t)(WD_IPC_MAGIC & 0xff);
  hdr[OFF_MAGIC + 1] = (uint8_t)(WD_IPC_MAGIC >> 8);
  hdr[OFF_VERSION] = WD_IPC_VERSION;
  hdr[OFF_TYPE] = type;
  set_u32(hdr + OFF_FLAGS, 0);
  set_u64(hdr + OFF_SEQ, c->seq_tx);
  set_u32(hdr + OFF_LENGTH, (uint32_t)len);
  set_u32(hdr + OFF_RESERVED, 0);
#ifdef WD_IPC_NOMAC /* bench/mac_cost.sh only: see the top of this file */
  (void)payload;
  memset(tag, 0, WD_IPC_TAGLEN);
#else
  mac2(tag, c->seq_tx, hdr, WD_IPC_HDRLEN, payload, len, c->mac_tx);
#endif
  c->seq_tx++;
}

int wd_ipc_seal(wd_ipc *c, uint8_t type, const uint8_t *payload, size_t len,
                wd_buf *out) {
  uint8_t *f;
  int r;
  if (c->key_tx == NULL) return WD_EINVAL;
  if (out->err != 0) return out->err;
  if ((r = seal_check(c, len)) < 0) return r;
  /* Reserve the whole frame first so that failure leaves 'out' untouched.
  ** 'len' <= 'max_payload' <= SIZE_MAX - overhead (wd_ipc_init). */
  if ((r = wd_buf_reserve(out, WD_IPC_OVERHEAD + len)) < 0) return r;
  f = out->p + out->len;
  if (len > 0) memcpy(f + WD_IPC_HDRLEN, payload, len);
  seal_frame(c, type, f + WD_IPC_HDRLEN, len, f, f + WD_IPC_HDRLEN + len);
  out->len += WD_IPC_OVERHEAD + len;
  return 0;
}

int wd_ipc_seal_parts(wd_ipc *c, uint8_t type, const uint8_t *payload,
                      size_t len, uint8_t hdr[WD_IPC_HDRLEN],
                      uint8_t tag[WD_IPC_TAGLEN]) {
  int r;
  if ((r = seal_check(c, len)) < 0) return r;
  seal_frame(c, type, payload, len, hdr, tag);
  return 0;
}

/*
** Checks 1 and 2 of wd_ipc_open: the fixed fields, then the declared
** length against the maximum, before anything trusts that length.
*/
static int check_header(const uint8_t *h, size_t max_payload, size_t *plen) {
  uint32_t n;
  if (h[OFF_MAGIC] != (WD_IPC_MAGIC & 0xff) ||
      h[OFF_MAGIC + 1] != (WD_IPC_MAGIC >> 8) ||
      h[OFF_VERSION] != WD_IPC_VERSION || get_u32(h + OFF_FLAGS) != 0 ||
      get_u32(h + OFF_RESERVED) != 0)
    return WD_EBADFRAME;
  n = get_u32(h + OFF_LENGTH);
  if (n > max_payload) return WD_ETOOBIG;
  *plen = n;
  return 0;
}

int wd_ipc_peek_len(const uint8_t hdr[24], size_t max_payload, size_t *total) {
  size_t n;
  int r;
  if ((r = check_header(hdr, max_payload, &n)) < 0) return r;
  /* 'n' <= UINT32_MAX, so this cannot wrap where size_t has 64 bits; on a
  ** 32-bit size_t refuse rather than wrap. */
  if (n > SIZE_MAX - WD_IPC_OVERHEAD) return WD_ETOOBIG;
  *total = n + WD_IPC_OVERHEAD;
  return 0;
}

int wd_ipc_open(wd_ipc *c, const uint8_t *frame, size_t len, uint8_t *type,
                const uint8_t **payload, size_t *plen) {
#ifndef WD_IPC_NOMAC
  uint8_t tag[WD_IPC_TAGLEN];
#endif
  uint64_t seq;
  size_t n;
  int r;
  if (c->key_rx == NULL) return WD_EINVAL;
  if (len < WD_IPC_OVERHEAD) return WD_EBADFRAME;
  if ((r = check_header(frame, c->max_payload, &n)) < 0) return r;
  /* Exactly one frame: neither truncated nor followed by stray bytes. */
  if (n != len - WD_IPC_OVERHEAD) return WD_EBADFRAME;
#ifndef WD_IPC_NOMAC /* bench/mac_cost.sh only: no tag check at all */
  mac2(tag, get_u64(frame + OFF_SEQ), frame, WD_IPC_HDRLEN + n, NULL, 0,
       c->mac_rx);
#ifdef WD_IPC_POLY1305
  r = crypto_verify_16(tag, frame + WD_IPC_HDRLEN + n);
#else
  r = crypto_verify_32(tag, frame + WD_IPC_HDRLEN + n);
#endif
  sodium_memzero(tag, sizeof(tag));
  if (r != 0) return WD_EBADSIG;
#endif
  /* Only now is the sequence number the peer's: any other value means a
  ** replayed, reordered or dropped frame. UINT64_MAX is never sent. */
  seq = get_u64(frame + OFF_SEQ);
  if (seq != c->seq_rx || seq == UINT64_MAX) return WD_EREPLAY;
  c->seq_rx++;
  *type = frame[OFF_TYPE];
  *payload = frame + WD_IPC_HDRLEN;
  *plen = n;
  return 0;
}

size_t wd_ipc_rec_begin(wd_buf *b, uint8_t rtype) {
  size_t start = b->len;
  wd_buf_put_u8(b, rtype);
  wd_buf_put_u32(b, 0);
  return start;
}

void wd_ipc_rec_end(wd_buf *b, size_t start) {
  size_t n;
  if (b->err != 0) return;
  if (start > b->len || b->len - start < WD_IPC_RECHDRLEN) {
    b->err = WD_EINVAL;
    return;
  }
  n = b->len - start - WD_IPC_RECHDRLEN;
  if (n > UINT32_MAX) {
    b->err = WD_ETOOBIG;
    return;
  }
  wd_buf_patch_u32(b, start + 1, (uint32_t)n);
}

int wd_ipc_rec_next(wd_cur *c, uint8_t *rtype, wd_cur *body) {
  size_t save = c->off;
  const uint8_t *p;
  uint32_t n;
  uint8_t t;
  if (wd_cur_left(c) == 0) return 0;
  if (wd_cur_u8(c, &t) < 0 || wd_cur_u32(c, &n) < 0 ||
      wd_cur_bytes(c, n, &p) < 0) {
    c->off = save;
    return WD_EBADFRAME;
  }
  *rtype = t;
  wd_cur_init(body, p, n);
  return 1;
}
