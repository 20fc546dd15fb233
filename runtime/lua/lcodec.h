/*
** runtime/lua/lcodec.h
** Payload codec: the one way a Lua value crosses actors (message payloads,
** spawn arguments, exit results). ARCHITECTURE.md §7.
** Runs in: host (sandboxed).
*/
#ifndef lcodec_h
#define lcodec_h

#include <stddef.h>
#include <stdint.h>

#include <lua.h>

#include "ward/wd_buf.h"

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

/*
** Encode the 'n' values at stack slots first..first+n-1 as one sequence
** appended to 'b'. 'maxlen' bounds the bytes this call appends (0: no
** limit besides b->max). Returns 'n' (>= 0), or a negative code with a
** NUL-terminated message in 'err' (truncated to 'errlen'; 'err' may be
** NULL):
**   WD_EINVAL   a value cannot be sent: "cannot send function (at
**               payload[2].handler)"; or "payload nested too deeply";
**               or n < 0
**   WD_ETOOBIG  "payload too large (N bytes, limit M)", or b->max reached
**   WD_ENOMEM   'b' could not grow
** On failure 'b' is as it was before the call. If b->err is already set
** it is returned and nothing is written.
** Raises only a memory error of L itself (its temporary visited table); it
** holds no C memory then, but 'b' may hold a partial sequence: reset it.
** Uses up to 5 stack slots per nesting level; leaves the stack as it was.
*/
int wd_codec_encode(lua_State *L, int first, int n, wd_buf *b, size_t maxlen,
                    char *err, size_t errlen);

/*
** Decode the whole sequence in p[0..len) and push its values. Returns the
** number of values pushed (>= 0), or, with nothing pushed:
**   WD_EBADFRAME  malformed, truncated, corrupted, trailing bytes, a bad
**                 back-reference, nesting deeper than WD_CODEC_MAXDEPTH,
**                 or counts the remaining bytes could not hold
**   WD_ETOOBIG    the values would not fit on L's stack (LUAI_MAXSTACK)
** Safe on arbitrary bytes. Tables are preallocated only for counts the
** remaining input could hold, so the memory used is O(len). May raise a
** memory error (the actor's quota); that is the only Lua error.
*/
int wd_codec_decode(lua_State *L, const uint8_t *p, size_t len);
/* The same for the bytes of an event (llife.c), faster for the layout
** llife.c writes when the value is none or a scalar. */
int wd_codec_decode_event(lua_State *L, const uint8_t *p, size_t len);

/*
** Number of top-level values of the sequence in p[0..len), read from its
** header only (wd_codec_decode still validates the rest), or WD_EBADFRAME.
** Does not touch any lua_State.
*/
int wd_codec_count(const uint8_t *p, size_t len);

/*
** Writing a sequence by hand, without a lua_State: exactly the bytes
** wd_codec_encode writes for the same values. A header for 'count' values,
** then each value in order; a table's 'narr' array values, then 'nhash'
** key/value pairs. An error object: kind, message, retryable (< 0: nil),
** no details, no stack. Errors are left in b->err.
*/
void wd_codec_put_header(wd_buf *b, unsigned count);
void wd_codec_put_nil(wd_buf *b);
void wd_codec_put_bool(wd_buf *b, int v);
void wd_codec_put_int(wd_buf *b, int64_t v);
void wd_codec_put_num(wd_buf *b, double v);
void wd_codec_put_str(wd_buf *b, const char *s, size_t n);
void wd_codec_put_table(wd_buf *b, uint64_t narr, uint64_t nhash);
void wd_codec_put_event_head(wd_buf *b, const char *kind, size_t kl,
                             const char *from, size_t fl, int64_t at);
void wd_codec_put_error(wd_buf *b, const char *kind, const char *msg,
                        int retryable);

#endif
