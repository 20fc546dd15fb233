/*
** include/ward/wd_ipc.h
** Signed frames for the broker<->host link, and the records batched inside
** a frame's payload. Transport-independent: bytes in, bytes out.
** Runs in: broker and host.
*/
#ifndef wd_ipc_h
#define wd_ipc_h

#include <stddef.h>
#include <stdint.h>

#include "ward/wd_buf.h"
#include "ward/wd_common.h"

/*
** Wire format (all integers little-endian):
**
**   offset  size  field
**        0     2  magic    WD_IPC_MAGIC
**        2     1  version  WD_IPC_VERSION
**        3     1  type     frame type, chosen by the caller
**        4     4  flags    reserved, must be 0
**        8     8  seq      0, 1, 2, ... per direction, no gaps
**       16     4  length   payload bytes that follow the header
**       20     4  reserved must be 0
**       24     n  payload
**     24+n     t  tag      MAC over bytes [0, 24+n), t = WD_IPC_TAGLEN
**
** The tag is, by default (version 2), Poly1305 (16 bytes) under a
** one-time key that ChaCha20 makes from the link key and the frame's
** sequence number: the first 32 bytes of crypto_stream_chacha20_ietf with
** nonce = seq (u64 little-endian, then 4 zero bytes), as NaCl's secretbox
** and RFC 8439 make Poly1305 keys. A sender never seals two frames with
** one sequence number under one key, so no one-time key is used twice.
** Built with WD_IPC_BLAKE2B it is keyed BLAKE2b-256 (crypto_generichash,
** 32 bytes, version 1), with WD_IPC_HMAC HMAC-SHA-512-256 (crypto_auth,
** 32 bytes, version 1). Both ends must be built with the same choice.
**
** On a SOCK_SEQPACKET link one datagram carries exactly one frame. On a
** stream, read WD_IPC_HDRLEN bytes, call wd_ipc_peek_len, then read the
** rest of the frame.
*/
#define WD_IPC_MAGIC   0x5744
#define WD_IPC_HDRLEN  24
#if defined(WD_IPC_HMAC) || defined(WD_IPC_BLAKE2B)
#define WD_IPC_VERSION 1
#define WD_IPC_TAGLEN  32
#else
#define WD_IPC_POLY1305 1
#define WD_IPC_VERSION 2
#define WD_IPC_TAGLEN  16
#endif
#define WD_IPC_KEYLEN  32
/* Bytes a frame adds around its payload. */
#define WD_IPC_OVERHEAD (WD_IPC_HDRLEN + WD_IPC_TAGLEN)
/* The length field is 32 bits wide, so no payload can be longer. */
#define WD_IPC_PAYLOAD_LIMIT UINT32_MAX

/* Key directions for wd_ipc_derive. */
#define WD_IPC_DIR_TO_HOST   0 /* broker -> host */
#define WD_IPC_DIR_TO_BROKER 1 /* host -> broker */

/* Record header inside a payload: u8 rtype | u32 body length. */
#define WD_IPC_RECHDRLEN 5

/*
** One end of a link. Caller-owned storage (wd_ipc_init/wd_ipc_close).
** Invariants: 'key_tx' and 'key_rx' are WD_IPC_KEYLEN-byte sodium_malloc'd
** buffers, read-only between init and close, and never equal (a shared key
** would let a peer's own frames be reflected back to it and accepted).
** 'mac_tx' and 'mac_rx' are the MAC states keyed with them (sodium_malloc'd,
** read-only, wiped on close; as secret as the keys), from which every tag
** starts, so that no frame pays for absorbing the key again.
** 'seq_tx' is the sequence number of the next frame sealed; 'seq_rx' that
** of the next frame accepted. 'max_payload' bounds both directions.
*/
typedef struct wd_ipc {
  unsigned char *key_tx, *key_rx;
  void *mac_tx, *mac_rx;
  uint64_t seq_tx, seq_rx;
  size_t max_payload;
} wd_ipc;

/* ** Link state ** */

/*
** Initialise 'c' with copies of the two keys and the MAC states keyed with
** them (sodium_malloc'd, so the caller may wipe its own copies at once)
** and both sequence numbers at 0.
** 'max_payload' (at most WD_IPC_PAYLOAD_LIMIT; 0 allows only empty
** payloads) bounds what wd_ipc_seal sends and wd_ipc_open accepts.
** Returns 0, WD_EINVAL (NULL key, equal keys, 'max_payload' too large),
** WD_ENOMEM, or WD_EINTERNAL (libsodium failed to initialise). On failure
** 'c' holds no memory and wd_ipc_close on it is harmless.
*/
WD_API int wd_ipc_init(wd_ipc *c, const uint8_t key_tx[32],
                       const uint8_t key_rx[32], size_t max_payload);

/*
** Wipe (sodium_memzero) and free both keys and both MAC states. Safe on a
** zeroed, failed or already closed 'c', and on NULL.
*/
WD_API void wd_ipc_close(wd_ipc *c);

/*
** Derive the key for one host and direction from the broker's master key:
** crypto_kdf_derive_from_key with context "wardlink" and subkey id
** 'host_index' * 2 + 'dir'. 'dir' is WD_IPC_DIR_TO_HOST or
** WD_IPC_DIR_TO_BROKER. Deterministic; writes 32 bytes to 'out'.
** Returns 0 or WD_EINVAL (bad 'dir', 'host_index' too large for the id).
** The caller wipes 'out' with sodium_memzero when done with it.
*/
WD_API int wd_ipc_derive(const uint8_t master[32], uint64_t host_index, int dir,
                         uint8_t out[32]);

/* ** Frames ** */

/*
** Append one whole frame of 'type' carrying 'len' bytes of 'payload'
** (which may be NULL when 'len' is 0, and must not point into 'out') to
** 'out', tagged with 'key_tx' and numbered 'seq_tx', then increment
** 'seq_tx'. Returns 0, WD_ETOOBIG ('len' > 'max_payload', or 'out' would
** grow past its own max), WD_ENOMEM, WD_ELIMIT (sequence numbers
** exhausted), WD_EINVAL (closed 'c'), or the sticky error already in
** 'out'. On failure 'out' and 'seq_tx' are unchanged.
*/
WD_API int wd_ipc_seal(wd_ipc *c, uint8_t type, const uint8_t *payload,
                       size_t len, wd_buf *out);

/*
** wd_ipc_seal without copying the payload: write the header to 'hdr' and
** the tag to 'tag'; the frame is 'hdr' | 'payload' | 'tag' (the link keeps
** room for the header before its batch and seals it in place). Same
** checks, errors and sequence numbering as wd_ipc_seal.
*/
WD_API int wd_ipc_seal_parts(wd_ipc *c, uint8_t type, const uint8_t *payload,
                             size_t len, uint8_t hdr[WD_IPC_HDRLEN],
                             uint8_t tag[WD_IPC_TAGLEN]);

/*
** Check one received frame of exactly 'len' bytes, in this order:
**   1. 'len' >= WD_IPC_OVERHEAD, magic, version, flags and reserved
**      fields valid                                     else WD_EBADFRAME
**   2. declared payload length <= 'max_payload'         else WD_ETOOBIG
**   3. declared length == 'len' - WD_IPC_OVERHEAD       else WD_EBADFRAME
**   4. tag, compared in constant time                   else WD_EBADSIG
**   5. seq == 'seq_rx' (no replay, reorder or gap)      else WD_EREPLAY
** Then increment 'seq_rx', store the frame type in '*type', and return 0
** with '*payload' (borrowed from 'frame', valid as long as it is) and
** '*plen' describing the payload. A failing call changes neither 'seq_rx'
** nor the outputs; the caller must then treat the link as hostile and
** close it. Allocates nothing. Also returns WD_EINVAL on a closed 'c'.
*/
WD_API int wd_ipc_open(wd_ipc *c, const uint8_t *frame, size_t len,
                       uint8_t *type, const uint8_t **payload, size_t *plen);

/*
** For stream transports: validate a frame header (checks 1 and 2 of
** wd_ipc_open, without the total length) and store the whole frame length,
** header and tag included, in '*total', so the caller can bound a read
** before allocating for it. Returns 0, WD_EBADFRAME or WD_ETOOBIG.
** The tag is not checked here: wd_ipc_open on the whole frame still must.
*/
WD_API int wd_ipc_peek_len(const uint8_t hdr[24], size_t max_payload,
                           size_t *total);

/* ** Records inside a payload ** */

/*
** A payload is a sequence of records [u8 rtype | u32 body length | body].
** Writing: start = wd_ipc_rec_begin(b, t); wd_buf_put...(b, ...);
** wd_ipc_rec_end(b, start); then check 'b->err' once.
*/

/*
** Append a record header with a placeholder length and return its offset,
** to be passed to wd_ipc_rec_end. On a write failure 'b->err' is set (as
** for every wd_buf_put) and the returned offset is meaningless.
*/
WD_API size_t wd_ipc_rec_begin(wd_buf *b, uint8_t rtype);

/*
** Back-patch the length of the record that wd_ipc_rec_begin started at
** 'start' to cover everything appended since. Does nothing if 'b->err' is
** set; sets it to WD_ETOOBIG if the body exceeds UINT32_MAX bytes, or to
** WD_EINVAL if 'start' is not a record header inside 'b'.
*/
WD_API void wd_ipc_rec_end(wd_buf *b, size_t start);

/*
** Read the next record from 'c'. Returns 1 with '*rtype' and a cursor
** '*body' over its body (borrowing the same bytes as 'c'), 0 at the clean
** end of the payload, or WD_EBADFRAME on a truncated record header or a
** body length beyond the payload; on 0 or failure 'c' is unchanged.
*/
WD_API int wd_ipc_rec_next(wd_cur *c, uint8_t *rtype, wd_cur *body);

#endif
