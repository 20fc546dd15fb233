/*
** runtime/lua/lcodec.h
** Payload codec: the one way a Lua value crosses actors (message payloads,
** spawn arguments, exit results): Lua values <-> bytes. The format, and
** the writers and reader that need no lua_State, are in ward/wd_codec.h
** (runtime/codec.c). ARCHITECTURE.md §7.
** Runs in: host (sandboxed).
*/
#ifndef lcodec_h
#define lcodec_h

#include <stddef.h>
#include <stdint.h>

#include <lua.h>

#include "ward/wd_buf.h"
#include "ward/wd_codec.h"

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
int wd_lcodec_encode(lua_State *L, int first, int n, wd_buf *b, size_t maxlen,
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
int wd_lcodec_decode(lua_State *L, const uint8_t *p, size_t len);
/* The same for the bytes of an event, faster for the layout
** wd_codec_put_event writes when the value is none or a scalar. */
int wd_lcodec_decode_event(lua_State *L, const uint8_t *p, size_t len);

#endif
