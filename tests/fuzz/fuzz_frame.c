/*
** tests/fuzz/fuzz_frame.c
** libFuzzer target for the frame layer: wd_ipc_open, wd_ipc_peek_len and
** payload record iteration, with fixed keys.
** Runs in: broker and host.
**
** Build and run (from the repository root):
**   clang -g -O1 -fsanitize=fuzzer,address,undefined -Iinclude \
**     -D_GNU_SOURCE tests/fuzz/fuzz_frame.c sandbox/ipc.c runtime/buf.c \
**     runtime/common.c -lsodium -o fuzz_frame
**   ./fuzz_frame -max_total_time=60 tests/fuzz/corpus/frame
**
** The first input byte picks a mode (low two bits):
**   0  the rest is a frame off the wire: wd_ipc_open, and on success walk
**      its records. Mutations rarely get past the tag, so this mode
**      exercises the checks in front of the tag.
**   1  the rest is a payload: seal it, open it (must succeed and round
**      trip), then walk its records, one level deep into each body. This
**      is how the record parser gets past the MAC.
**   2  byte 1-2 pick a position, byte 3 a mask; the rest is a payload:
**      seal it, change that one byte of the frame, and open must fail.
**   3  as 0, but through wd_ipc_peek_len first, as a stream reader would.
*/
#include <stdlib.h>
#include <string.h>

#include "ward/wd_ipc.h"

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

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  setup();
  if (size == 0) return 0;
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
