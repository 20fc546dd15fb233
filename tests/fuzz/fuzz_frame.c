/*
** tests/fuzz/fuzz_frame.c
** libFuzzer target for the frame layer: wd_ipc_open, wd_ipc_peek_len,
** payload record iteration, and the link's fragment reassembly
** (wd_link_feed), with fixed keys.
** Runs in: broker and host.
**
** Build and run (from the repository root):
**   clang -g -O1 -fsanitize=fuzzer,address,undefined -Iinclude \
**     -D_GNU_SOURCE tests/fuzz/fuzz_frame.c sandbox/ipc.c sandbox/link.c \
**     runtime/buf.c runtime/common.c -lsodium -luv -o fuzz_frame
**   ./fuzz_frame -max_total_time=60 tests/fuzz/corpus/frame
**
** The first input byte picks a mode (low three bits):
**   0  the rest is a frame off the wire: wd_ipc_open, and on success walk
**      its records. Mutations rarely get past the tag, so this mode
**      exercises the checks in front of the tag.
**   1  the rest is a payload: seal it, open it (must succeed and round
**      trip), then walk its records, one level deep into each body. This
**      is how the record parser gets past the MAC.
**   2  byte 1-2 pick a position, byte 3 a mask; the rest is a payload:
**      seal it, change that one byte of the frame, and open must fail.
**   3  as 0, but through wd_ipc_peek_len first, as a stream reader would.
**   4-7 a sequence of frames for a link (wd_link_feed), sealed with the
**      right keys and numbers so they get past the MAC: each is an 8-byte
**      descriptor [u8 kind (bit 0: batch, else fragment) | u8 stream |
**      u8 offset in fragments | u8 size (0: WD_LINK_FRAG, else that many
**      KiB) | u16 literal bytes | u16 unused] and the literal bytes; the
**      rest of a fragment's size is filled. A batch frame's payload is
**      the literal bytes. Stops at the first failure; a record handed
**      over must lie within the bound. The first few records handed
**      over are forwarded to a second link (wd_link_rec_put_from), which
**      takes a big one's buffer instead of copying it.
*/
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sys/socket.h>

#include "ward/wd_ipc.h"
#include "ward/wd_link.h"
#include "ward/wd_proto.h"

#define MAXP 65536

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static wd_ipc tx, rx;
static wd_buf frame;

static void setup(void) {
  static int done;
  uint8_t k1[32], k2[32];
  if (done) return;
  memset(k1, 0x11, sizeof(k1));
  memset(k2, 0x22, sizeof(k2));
  if (wd_ipc_init(&tx, k1, k2, MAXP) != 0 ||
      wd_ipc_init(&rx, k2, k1, MAXP) != 0)
    abort();
  wd_buf_init(&frame, 0);
  done = 1;
}

/* Touch every byte a record claims, so ASan sees any overread. */
static unsigned consume(wd_cur *body) {
  const uint8_t *p;
  unsigned sum = 0;
  size_t i, n = wd_cur_left(body);
  if (wd_cur_bytes(body, n, &p) != 0) abort();
  for (i = 0; i < n; i++)
    sum += p[i];
  return sum;
}

/* Walk the records of a payload; 'depth' > 0 also walks each body. */
static unsigned walk(const uint8_t *p, size_t n, int depth) {
  wd_cur c, body;
  uint8_t rtype;
  unsigned sum = 0;
  int r;
  wd_cur_init(&c, p, n);
  while ((r = wd_ipc_rec_next(&c, &rtype, &body)) == 1) {
    if (body.p < p || body.p + body.len > p + n) abort();
    sum += rtype;
    if (depth > 0) sum += walk(body.p, body.len, depth - 1);
    sum += consume(&body);
  }
  if (r != 0 && r != WD_EBADFRAME) abort();
  return sum;
}

static void open_raw(const uint8_t *data, size_t size) {
  const uint8_t *payload;
  uint8_t type;
  size_t plen;
  int r;
  rx.seq_rx = 0;
  r = wd_ipc_open(&rx, data, size, &type, &payload, &plen);
  if (r == 0) {
    if (rx.seq_rx != 1) abort();
    (void)walk(payload, plen, 1);
  } else if (rx.seq_rx != 0) {
    abort();
  }
}

static void open_stream(const uint8_t *data, size_t size) {
  size_t total;
  if (size < WD_IPC_HDRLEN) return;
  if (wd_ipc_peek_len(data, MAXP, &total) != 0) return;
  if (total < WD_IPC_OVERHEAD || total > MAXP + WD_IPC_OVERHEAD) abort();
  open_raw(data, total < size ? total : size);
}

static void round_trip(const uint8_t *data, size_t size) {
  const uint8_t *payload;
  uint8_t type;
  size_t plen;
  tx.seq_tx = rx.seq_rx = 0;
  wd_buf_reset(&frame);
  if (size > MAXP) size = MAXP;
  if (wd_ipc_seal(&tx, 5, data, size, &frame) != 0) abort();
  if (wd_ipc_open(&rx, frame.p, frame.len, &type, &payload, &plen) != 0 ||
      type != 5 || plen != size || memcmp(payload, data, size) != 0)
    abort();
  (void)walk(payload, plen, 1);
}

static void tamper(const uint8_t *data, size_t size) {
  const uint8_t *payload;
  uint8_t type, mask;
  size_t plen, pos;
  if (size < 4) return;
  pos = (size_t)data[1] << 8 | data[2];
  mask = data[3] ? data[3] : 1;
  data += 4;
  size -= 4;
  tx.seq_tx = rx.seq_rx = 0;
  wd_buf_reset(&frame);
  if (wd_ipc_seal(&tx, 5, data, size, &frame) != 0) abort();
  frame.p[pos % frame.len] ^= mask;
  if (wd_ipc_open(&rx, frame.p, frame.len, &type, &payload, &plen) == 0)
    abort();
  if (rx.seq_rx != 0) abort();
}

static size_t max_seen;

/* Records handed over are also forwarded to this link, as the broker
** does (wd_link_rec_put_from: a big one's buffer is taken, not copied);
** it never sends, and is closed with the input's link. At most
** FWD_MAX per input, to bound what it holds. */
static wd_link *fwd_link;
static int fwd_n;
#define FWD_MAX 4

static void forward(wd_link *l, uint8_t rtype, wd_cur body) {
  const uint8_t *p;
  size_t n = wd_cur_left(&body), st;
  if (fwd_link == NULL || fwd_n++ >= FWD_MAX) return;
  if (wd_cur_bytes(&body, n, &p) != 0) abort();
  st = wd_link_rec_begin(fwd_link, rtype);
  wd_buf_put_u32(&fwd_link->batch, (uint32_t)n);
  wd_link_rec_put_from(fwd_link, l, p, n);
  (void)wd_link_rec_end(fwd_link, st);
  if (fwd_link->ext_buf != NULL) abort();
}

static int link_rec(wd_link *l, uint8_t rtype, wd_cur *body) {
  wd_cur whole;
  if (wd_cur_left(body) + WD_IPC_RECHDRLEN > l->max_rec) abort();
  if (wd_cur_left(body) > max_seen) max_seen = wd_cur_left(body);
  whole = *body;
  (void)consume(body);
  /* Last: a taken buffer is the forwarding link's (wd_link.h). */
  forward(l, rtype, whole);
  return 0;
}

static void link_fail_cb(wd_link *l, int code, const char *why) {
  (void)l;
  (void)why;
  if (code >= 0) abort();
}

static void feed_link(const uint8_t *data, size_t size) {
  static uv_loop_t loop;
  static int loop_ok;
  static uint8_t k1[32], k2[32];
  static uint8_t *piece;
  wd_link l, fl;
  wd_ipc seal_tx;
  wd_buf p, f;
  int sv[2], fv[2];
  if (!loop_ok) {
    if (uv_loop_init(&loop) != 0) abort();
    memset(k1, 0x33, sizeof k1);
    memset(k2, 0x44, sizeof k2);
    if ((piece = malloc(WD_LINK_FRAG + 64)) == NULL) abort();
    loop_ok = 1;
  }
  if (socketpair(AF_UNIX, SOCK_SEQPACKET, 0, sv) != 0) abort();
  if (wd_link_init(&loop, &l, sv[0], k2, k1) != 0) abort();
  close(sv[1]);
  l.on_rec = link_rec;
  l.on_fail = link_fail_cb;
  wd_link_set_max_payload(&l, 0); /* WD_LINK_REC_MIN */
  if (socketpair(AF_UNIX, SOCK_SEQPACKET, 0, fv) != 0) abort();
  if (wd_link_init(&loop, &fl, fv[0], k1, k2) != 0) abort();
  close(fv[1]);
  fl.on_rec = link_rec;
  fl.on_fail = link_fail_cb;
  fwd_link = &fl;
  fwd_n = 0;
  if (wd_ipc_init(&seal_tx, k1, k2, WD_LINK_MAX_PAYLOAD) != 0) abort();
  wd_buf_init(&p, 0);
  wd_buf_init(&f, 0);
  while (size >= 8 && !l.failed) {
    size_t lit = (size_t)data[4] | (size_t)data[5] << 8, want;
    int batch = data[0] & 1;
    want = data[3] == 0 ? WD_LINK_FRAG : (size_t)data[3] << 10;
    wd_buf_reset(&p);
    wd_buf_reset(&f);
    if (!batch) {
      wd_buf_put_u32(&p, data[1]);
      wd_buf_put_u32(&p, (uint32_t)data[2] * WD_LINK_FRAG);
    }
    data += 8;
    size -= 8;
    if (lit > size) lit = size;
    wd_buf_put(&p, data, lit);
    data += lit;
    size -= lit;
    if (!batch && lit < want) {
      memset(piece, 0x61, want - lit);
      wd_buf_put(&p, piece, want - lit);
    }
    if (p.err != 0 || wd_ipc_seal(&seal_tx, batch ? WD_F_BATCH : WD_F_FRAG,
                                  p.p, p.len, &f) != 0)
      break;
    (void)wd_link_feed(&l, f.p, f.len);
  }
  if (l.rasm != NULL && l.rasm_got >= l.rasm_len) abort();
  wd_buf_close(&p);
  wd_buf_close(&f);
  wd_ipc_close(&seal_tx);
  wd_link_close(&l, NULL);
  fwd_link = NULL;
  wd_link_close(&fl, NULL);
  uv_run(&loop, UV_RUN_NOWAIT);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  setup();
  if (size == 0) return 0;
  if (data[0] & 4) {
    feed_link(data + 1, size - 1);
    return 0;
  }
  switch (data[0] & 3) {
    case 0:
      open_raw(data + 1, size - 1);
      break;
    case 1:
      round_trip(data + 1, size - 1);
      break;
    case 2:
      tamper(data, size);
      break;
    default:
      open_stream(data + 1, size - 1);
      break;
  }
  return 0;
}
