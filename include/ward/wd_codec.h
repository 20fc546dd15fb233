/*
** include/ward/wd_codec.h
** Payload codec bytes without Lua: the format, hand writers for values and
** events, and the header reader. The Lua encoder and decoder
** (runtime/lua/lcodec.h) write and read the same bytes. ARCHITECTURE.md §7.
** Runs in: broker and host.
*/
#ifndef wd_codec_h
#define wd_codec_h

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "ward/wd_buf.h"
#include "ward/wd_common.h"

/*
** What crosses: nil, booleans, integers and floats (kept apart, so
** math.type survives), strings (any bytes), tables and error objects
** (kind, message, retryable, details, stack). A table or error object met
** twice is written once and then referred to, so decoding recreates the
** same sharing and cycles. Metatables are NOT copied: a decoded table is a
** plain table, whatever metatable (and __index, __pairs, ...) the sender's
** had; encoding reads tables raw. Functions, threads, light userdata and
** full userdata other than error objects are refused (WD_EINVAL).
**
** Byte format (version 1). varint = unsigned LEB128, at most 10 bytes,
** value < 2^64; zigzag maps signed n to (n << 1) ^ (n >> 63).
**
**   sequence := header count:varint value{count}
**   header   := 0x10 | 0x01 if the sequence holds any back-reference
**   value    :=
**     0x00                          nil
**     0x01 / 0x02                   false / true
**     0x03 zigzag-varint            integer
**     0x04 b0..b7                   float, IEEE-754 binary64, little-endian
**     0x05 len:varint bytes{len}    string
**     0x20+n bytes{n}               string of 0 <= n <= 31 bytes
**     0x80+v                        integer 0 <= v <= 127
**     0x06 narr:varint nhash:varint value{narr} (key value){nhash}
**                                   table: t[1..narr] (none nil), then the
**                                   other pairs; keys never nil or NaN
**     0x07 i:varint                 the i-th table or error object of the
**                                   sequence (0-based, in order of first
**                                   appearance)
**     0x08 kind message retryable details stack
**                                   error object: string, string,
**                                   nil|boolean, nil|table (or a reference
**                                   to one), nil|string
**   Any other tag byte is malformed.
** Each table and error object is numbered when its tag is met, before its
** contents, so a reference inside it may name it (cycles). Nesting (tables
** and error objects, keys included) is limited to WD_CODEC_MAXDEPTH.
*/
#define WD_CODEC_MAXDEPTH 128

#define WD_CODEC_VERSION 0x10 /* header byte, high nibble */
#define WD_CODEC_F_REFS  0x01 /* header flag: back-references inside */

#define WD_CODEC_T_NIL      0x00
#define WD_CODEC_T_FALSE    0x01
#define WD_CODEC_T_TRUE     0x02
#define WD_CODEC_T_INT      0x03
#define WD_CODEC_T_FLT      0x04
#define WD_CODEC_T_STR      0x05
#define WD_CODEC_T_TAB      0x06
#define WD_CODEC_T_REF      0x07
#define WD_CODEC_T_ERR      0x08
#define WD_CODEC_T_SSTR     0x20 /* 0x20..0x3f: short string, length in tag */
#define WD_CODEC_T_SINT     0x80 /* 0x80..0xff: integer 0..127 in the tag */
#define WD_CODEC_SSTR_MAX   31
#define WD_CODEC_SINT_MAX   127
#define WD_CODEC_VARINT_MAX 10 /* bytes of the longest varint */

/*
** Write 'v' as a varint at 'p' (room for WD_CODEC_VARINT_MAX bytes).
** Returns the bytes written. Inline: the Lua encoder calls it per value.
*/
static inline size_t wd_codec_varint(uint8_t *p, uint64_t v) {
  size_t n = 0;
  while (v >= 0x80) {
    p[n++] = (uint8_t)(v | 0x80);
    v >>= 7;
  }
  p[n++] = (uint8_t)v;
  return n;
}

/* Write a float's 9 bytes at 't': the tag, then IEEE-754 binary64
** little-endian. */
static inline void wd_codec_flt(uint8_t t[9], double d) {
  uint64_t u;
  int i;
  memcpy(&u, &d, sizeof u);
  t[0] = WD_CODEC_T_FLT;
  for (i = 0; i < 8; i++)
    t[1 + i] = (uint8_t)(u >> (8 * i));
}

/*
** Read a varint at the cursor into '*v'. Returns 0, or WD_EBADFRAME
** (truncated, or a value of 2^64 or more); the cursor is then somewhere
** inside it. Inline: the Lua decoder calls it per value.
*/
static inline int wd_codec_get_varint(wd_cur *c, uint64_t *v) {
  uint64_t x = 0;
  unsigned shift = 0;
  uint8_t byte;
  for (;;) {
    if (c->off >= c->len) return WD_EBADFRAME;
    byte = c->p[c->off++];
    if (shift == 63 && byte > 1) return WD_EBADFRAME; /* over 64 bits */
    x |= (uint64_t)(byte & 0x7f) << shift;
    if (!(byte & 0x80)) break;
    shift += 7;
  }
  *v = x;
  return 0;
}

/* {====== Writing by hand ====== */

/*
** Writing a sequence without a lua_State: exactly the bytes the Lua
** encoder (wd_lcodec_encode, runtime/lua/lcodec.c) writes for the same
** values. A header for 'count' values, then each value in order; a
** table's 'narr' array values, then 'nhash' key/value pairs. An error object: kind, message, retryable
** (< 0: nil), no details, no stack. Errors are left in b->err (sticky, as
** for every wd_buf put). Any process may call them.
*/
WD_API void wd_codec_put_header(wd_buf *b, unsigned count);
WD_API void wd_codec_put_nil(wd_buf *b);
WD_API void wd_codec_put_bool(wd_buf *b, int v);
WD_API void wd_codec_put_int(wd_buf *b, int64_t v);
WD_API void wd_codec_put_num(wd_buf *b, double v);
WD_API void wd_codec_put_str(wd_buf *b, const char *s, size_t n);
WD_API void wd_codec_put_table(wd_buf *b, uint64_t narr, uint64_t nhash);
WD_API void wd_codec_put_error(wd_buf *b, const char *kind, const char *msg,
                               int retryable);
/*
** The head of every event: the header of one value, a table of four
** pairs, then kind, from and at (the layout wd_lcodec_decode_event reads
** fast). The fourth pair follows: "result" or "deadline".
*/
WD_API void wd_codec_put_event_head(wd_buf *b, const char *kind, size_t kl,
                                    const char *from, size_t fl, int64_t at);

/* }====== */

/* {====== Events ====== */

/* The value an event carries, when it is none, a scalar, or an error made
** in C (kind 'ekind', message 's'; retryable false, no details, no
** stack). Strings are borrowed for the call. */
enum {
  WD_CODEC_V_NONE,
  WD_CODEC_V_BOOL,
  WD_CODEC_V_INT,
  WD_CODEC_V_NUM,
  WD_CODEC_V_STR,
  WD_CODEC_V_ERR
};

typedef struct wd_codec_val {
  int type;          /* WD_CODEC_V_* */
  int b;             /* BOOL */
  int64_t i;         /* INT */
  double n;          /* NUM */
  const char *s;     /* STR (the bytes), ERR (the message, NUL-ended) */
  size_t len;        /* STR */
  const char *ekind; /* ERR: the kind, NUL-ended */
} wd_codec_val;

/*
** Reset 'out', then write the lifecycle event {kind, from, at, result =
** {} | {value | error = v}}, "value" when 'ok', "error" otherwise, or,
** when 'kind' is "pid.cancel" or 'deadline_ns' is not 0, {kind, from, at,
** deadline = deadline_ns in whole seconds} ('v' unused). 'v' NULL is
** WD_CODEC_V_NONE. 'at' is wall-clock seconds (wd_codec_now_s). The bytes
** are those the Lua encoder writes for the same table with its pairs in
** that order. Returns 0, or the error of 'out' (WD_ENOMEM, WD_ETOOBIG past
** out->max), and then leaves 'out' empty with no error set.
*/
WD_API int wd_codec_put_event(wd_buf *out, const char *kind, const char *from,
                              size_t fl, int64_t at, uint64_t deadline_ns,
                              int ok, const wd_codec_val *v);

/* Wall-clock seconds for the 'at' of an event: the coarse clock (a few ms
** of resolution) is enough and cheaper. */
WD_API int64_t wd_codec_now_s(void);

/* }====== */

/* {====== Reading ====== */

/*
** Number of top-level values of the sequence in p[0..len), read from its
** header only (the Lua decoder still validates the rest), or WD_EBADFRAME.
*/
WD_API int wd_codec_count(const uint8_t *p, size_t len);

/* }====== */

#endif
