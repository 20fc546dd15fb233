/*
** runtime/lua/lcodec.c
** Payload codec: Lua values <-> bytes (format in ward/wd_codec.h; the
** Lua-free writers are in runtime/codec.c).
** Runs in: host (sandboxed).
*/
#include <limits.h>
#include <stdio.h>
#include <string.h>

#include <lauxlib.h>
#include <lua.h>

#include "ward/wd_buf.h"
#include "ward/wd_codec.h"
#include "ward/wd_common.h"
#include "lcodec.h"
#include "lerrors.h"

#define VERSION  WD_CODEC_VERSION
#define F_REFS   WD_CODEC_F_REFS
#define T_NIL    WD_CODEC_T_NIL
#define T_FALSE  WD_CODEC_T_FALSE
#define T_TRUE   WD_CODEC_T_TRUE
#define T_INT    WD_CODEC_T_INT
#define T_FLT    WD_CODEC_T_FLT
#define T_STR    WD_CODEC_T_STR
#define T_TAB    WD_CODEC_T_TAB
#define T_REF    WD_CODEC_T_REF
#define T_ERR    WD_CODEC_T_ERR
#define T_SSTR   WD_CODEC_T_SSTR
#define T_SINT   WD_CODEC_T_SINT
#define SSTR_MAX WD_CODEC_SSTR_MAX
#define SINT_MAX WD_CODEC_SINT_MAX

#define VARINT_MAX WD_CODEC_VARINT_MAX
#define NSMALL     16 /* objects the encoder tracks without a Lua table */

/* {====== Encoder ====== */

/*
** Encoder state: lives on the C stack, so a memory error raised by L
** (longjmp) leaks nothing. Everything temporary on the Lua side is on L's
** stack above 'visited'.
*/
typedef struct enc {
  lua_State *L;
  wd_buf *b;
  size_t start; /* b->len at entry: the sequence begins here */
  size_t lim;   /* bytes the sequence may take: 'max', or SIZE_MAX */
  size_t size;  /* once 'over': bytes of the sequence, counted on */
  size_t max;   /* 0: no limit */
  int stop;     /* over the limit or 'b' failed: put() only counts */
  int over;     /* the sequence passed 'max' */
  /* Objects met so far, numbered 0, 1, ... in order: the first NSMALL by
  ** address in 'small' (lua_topointer; they stay alive, being reachable
  ** from the values encoded), the rest in a Lua table at stack slot
  ** 'visited' (nil until needed), so small payloads allocate nothing. */
  const void *small[NSMALL];
  int visited;
  lua_Integer nobj; /* tables and error objects numbered so far */
  int refs;         /* a back-reference was written */
  int wantpath;     /* the failure names a place in the payload */
  char *err;
  size_t errlen;
  /* Path of the failing value, built right to left while unwinding. */
  char path[160];
  size_t ppos;
  int ptrunc;
} enc;

static int fail(enc *e, int code, const char *msg) {
  if (e->err != NULL && e->errlen > 0) snprintf(e->err, e->errlen, "%s", msg);
  return code;
}

/* Is there room in 'b' and under the limit for 'n' more bytes, with
** nothing failed yet? Then they may be written at b->p + b->len. While
** not 'stop', the sequence's size is b->len - start. */
static int room(const enc *e, size_t n) {
  const wd_buf *b = e->b;
  return !e->stop && b->cap - b->len >= n && n <= e->lim - (b->len - e->start);
}

/* put() when room() says no: grow 'b', or pass the limit and from then
** on only count, so the final error can say how large the payload is. */
static void put_slow(enc *e, const void *p, size_t n) {
  wd_buf *b = e->b;
  if (!e->stop) {
    if (n > e->lim - (b->len - e->start)) {
      e->size = b->len - e->start;
      e->over = e->stop = 1;
    } else {
      wd_buf_put(b, p, n);
      if (b->err != 0) e->stop = 1;
      return;
    }
  }
  if (e->over) e->size = n > SIZE_MAX - e->size ? SIZE_MAX : e->size + n;
}

/* Copy 'n' bytes; short ones (keys, tags) without a call to memcpy. */
static void copy(uint8_t *d, const void *p, size_t n) {
  const uint8_t *s = p;
  if (n > 16) {
    memcpy(d, s, n);
    return;
  }
  while (n-- > 0) *d++ = *s++;
}

/* Append 'n' bytes. */
static void put(enc *e, const void *p, size_t n) {
  wd_buf *b = e->b;
  if (room(e, n)) {
    copy(b->p + b->len, p, n);
    b->len += n;
  } else
    put_slow(e, p, n);
}

static void put1(enc *e, uint8_t v) {
  wd_buf *b = e->b;
  if (room(e, 1))
    b->p[b->len++] = v;
  else
    put_slow(e, &v, 1);
}

/* Write 'tag' followed by a varint. */
static void put_tagv(enc *e, uint8_t tag, uint64_t v) {
  uint8_t t[1 + VARINT_MAX];
  t[0] = tag;
  put(e, t, 1 + wd_codec_varint(t + 1, v));
}

static void prepend(enc *e, const char *s, size_t n) {
  if (e->ptrunc) return;
  if (n > e->ppos) {
    e->ptrunc = 1;
    return;
  }
  e->ppos -= n;
  memcpy(e->path + e->ppos, s, n);
}

static int isident(const char *s, size_t n) {
  size_t i;
  if (n == 0 || n > 40 || (s[0] >= '0' && s[0] <= '9')) return 0;
  for (i = 0; i < n; i++) {
    unsigned char c = (unsigned char)s[i];
    if (!(c == '_' || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
          (c >= '0' && c <= '9')))
      return 0;
  }
  return 1;
}

/* Prepend the path segment for the key at 'k': .name, [3], ["a b"]... */
static void prepend_key(enc *e, int k) {
  lua_State *L = e->L;
  char seg[64];
  const char *s;
  size_t n, i;
  int len = 0;

  switch (lua_type(L, k)) {
    case LUA_TNUMBER:
      if (lua_isinteger(L, k))
        len =
            snprintf(seg, sizeof seg, "[%lld]", (long long)lua_tointeger(L, k));
      else
        len = snprintf(seg, sizeof seg, "[%.14g]", (double)lua_tonumber(L, k));
      break;
    case LUA_TSTRING:
      s = lua_tolstring(L, k, &n);
      if (isident(s, n)) {
        len = snprintf(seg, sizeof seg, ".%.*s", (int)n, s);
        break;
      }
      len = snprintf(seg, sizeof seg, "[\"%.*s%s\"]", (int)(n > 24 ? 24 : n), s,
                     n > 24 ? "..." : "");
      /* The path ends up in logs: keep it printable. */
      for (i = 2; i < (size_t)len && i < sizeof seg; i++)
        if ((unsigned char)seg[i] < 0x20 || (unsigned char)seg[i] >= 0x7f)
          seg[i] = '?';
      break;
    case LUA_TBOOLEAN:
      len = snprintf(seg, sizeof seg, "[%s]",
                     lua_toboolean(L, k) ? "true" : "false");
      break;
    default:
      len = snprintf(seg, sizeof seg, "[%s]", luaL_typename(L, k));
      break;
  }
  if (len > 0) prepend(e, seg, (size_t)len < sizeof seg ? (size_t)len : 0);
}

/* Refuse the value at 'idx', naming its type. */
static int refuse(enc *e, int idx, int iskey) {
  lua_State *L = e->L;
  const char *as = iskey ? " as a table key" : "";
  int mt;
  e->wantpath = 1;
  if (e->err == NULL || e->errlen == 0) return WD_EINVAL;
  switch (lua_type(L, idx)) {
    case LUA_TLIGHTUSERDATA:
      snprintf(e->err, e->errlen, "cannot send light userdata%s", as);
      break;
    case LUA_TUSERDATA:
      /* Name the kind of userdata (e.g. 'ward.channel') when it has one;
      ** luaL_getmetafield reads raw, so no script code runs here. */
      if ((mt = luaL_getmetafield(L, idx, "__name")) == LUA_TSTRING)
        snprintf(e->err, e->errlen, "cannot send userdata '%s'%s",
                 lua_tostring(L, -1), as);
      else
        snprintf(e->err, e->errlen, "cannot send userdata%s", as);
      if (mt != LUA_TNIL) lua_pop(L, 1);
      break;
    default:
      snprintf(e->err, e->errlen, "cannot send %s%s", luaL_typename(L, idx),
               as);
      break;
  }
  return WD_EINVAL;
}

/*
** Number the table or error object at 'idx' or, if it was met before, write
** a reference to it. Returns 1 when a reference was written, 0 when the
** object is new and its contents must follow.
*/
static int seen(enc *e, int idx) {
  lua_State *L = e->L;
  const void *p = lua_topointer(L, idx);
  lua_Integer i, nsmall = e->nobj < NSMALL ? e->nobj : NSMALL;

  for (i = 0; i < nsmall; i++)
    if (e->small[i] == p) goto ref;
  if (e->nobj < NSMALL) {
    e->small[e->nobj++] = p;
    return 0;
  }
  if (lua_isnil(L, e->visited)) {
    lua_createtable(L, 0, NSMALL);
    lua_replace(L, e->visited);
  } else {
    lua_pushvalue(L, idx);
    if (lua_rawget(L, e->visited) == LUA_TNUMBER) {
      i = lua_tointeger(L, -1);
      lua_pop(L, 1);
      goto ref;
    }
    lua_pop(L, 1);
  }
  lua_pushvalue(L, idx);
  lua_pushinteger(L, e->nobj++);
  lua_rawset(L, e->visited);
  return 0;
ref:
  put_tagv(e, T_REF, (uint64_t)i);
  e->refs = 1;
  return 1;
}

static int enc_value(enc *e, int idx, int depth, int iskey);

static size_t varint_len(uint64_t v) {
  size_t n = 1;
  while (v >= 0x80) {
    v >>= 7;
    n++;
  }
  return n;
}

/* Write the header of the table whose contents were appended after the
** HDR_GUESS bytes at 'pos' (b->len was 'pos' before them): in place when
** it fits there (counts under 128, the common case), else after moving
** the contents. Only counts once the limit is passed or 'b' failed. */
#define HDR_GUESS 3
static void put_table_header(enc *e, size_t pos, uint64_t narr,
                             uint64_t nhash) {
  wd_buf *b = e->b;
  uint8_t hdr[1 + 2 * VARINT_MAX];
  size_t n, len;
  uint8_t zero[2 * VARINT_MAX] = { 0 };
  if (narr < 0x80 && nhash < 0x80) {
    if (e->stop) return;
    b->p[pos + 1] = (uint8_t)narr;
    b->p[pos + 2] = (uint8_t)nhash;
    return;
  }
  n = 1 + varint_len(narr) + varint_len(nhash);
  put(e, zero, n - HDR_GUESS);
  if (e->stop) return;
  hdr[0] = T_TAB;
  len = 1 + wd_codec_varint(hdr + 1, narr);
  wd_codec_varint(hdr + len, nhash);
  memmove(b->p + pos + n, b->p + pos + HDR_GUESS,
          b->len - (n - HDR_GUESS) - (pos + HDR_GUESS));
  memcpy(b->p + pos, hdr, n);
}

/* Name the array element 'i' in the path of a refused value. */
static int elem_failed(enc *e, lua_Integer i, int r) {
  char seg[32];
  int len = snprintf(seg, sizeof seg, "[%lld]", (long long)i);
  prepend(e, seg, (size_t)len);
  return r;
}

/* Encode the pair key, value at top+1, top+2 into the hash part; the
** stack is left at top+1 (the key, for lua_next). */
static int enc_pair(enc *e, int top, int depth) {
  lua_State *L = e->L;
  int r;
  /* A refused key names the table; a refused value names its key. */
  if ((r = enc_value(e, top + 1, depth + 1, 1)) < 0) {
    lua_settop(L, top);
    return r;
  }
  if ((r = enc_value(e, top + 2, depth + 1, 0)) < 0) {
    prepend_key(e, top + 1);
    lua_settop(L, top);
    return r;
  }
  lua_settop(L, top + 1);
  return 0;
}

/* Table: its border-free prefix 1..narr as the array part, every other
** pair, in lua_next order, in the hash part. 'depth' is the nesting level
** of its parent. The contents are written first, behind room for the
** header, which needs both counts.
** One lua_next pass in the common case: the array part comes first in
** lua_next order, so keys 1, 2, ... met in order from the start are the
** prefix, as long as the key after the last of them is absent (else the
** prefix goes on in the hash part: it is read with lua_rawgeti, and the
** rest walked again, skipping it). The bytes are those of the two
** passes either way. */
static int enc_table(enc *e, int t, int depth) {
  lua_State *L = e->L;
  lua_Integer narr = 0, nhash = 0, k;
  static const uint8_t guess[HDR_GUESS] = { T_TAB, 0, 0 };
  size_t pos;
  int top, r, inorder = 1;

  if (!lua_checkstack(L, 5)) return fail(e, WD_ENOMEM, "out of memory");
  if (seen(e, t)) return 0; /* a reference adds no nesting */
  if (depth >= WD_CODEC_MAXDEPTH)
    return fail(e, WD_EINVAL, "payload nested too deeply");
  pos = e->b->len;
  put(e, guess, HDR_GUESS);
  top = lua_gettop(L);
  lua_pushnil(L);
  while (lua_next(L, t)) {
    if (inorder) {
      if (lua_isinteger(L, top + 1) && lua_tointeger(L, top + 1) == narr + 1) {
        r = enc_value(e, top + 2, depth + 1, 0);
        narr++;
        if (r < 0) {
          lua_settop(L, top);
          return elem_failed(e, narr, r);
        }
        lua_settop(L, top + 1);
        continue;
      }
      inorder = 0;
      if (lua_rawgeti(L, t, narr + 1) != LUA_TNIL) {
        lua_settop(L, top);
        goto longer;
      }
      lua_pop(L, 1);
    }
    if ((r = enc_pair(e, top, depth)) < 0) return r;
    nhash++;
  }
  put_table_header(e, pos, (uint64_t)narr, (uint64_t)nhash);
  return 0;
longer: /* the prefix goes on past narr, outside lua_next's first keys */
  while (lua_rawgeti(L, t, narr + 1) != LUA_TNIL) {
    r = enc_value(e, top + 1, depth + 1, 0);
    lua_settop(L, top);
    narr++;
    if (r < 0) return elem_failed(e, narr, r);
  }
  lua_settop(L, top);
  lua_pushnil(L);
  while (lua_next(L, t)) {
    if (lua_isinteger(L, top + 1) &&
        (k = lua_tointeger(L, top + 1)) >= 1 && k <= narr) {
      lua_settop(L, top + 1);
      continue;
    }
    if ((r = enc_pair(e, top, depth)) < 0) return r;
    nhash++;
  }
  put_table_header(e, pos, (uint64_t)narr, (uint64_t)nhash);
  return 0;
}

/* Error object: its five fields in order (see wd_codec.h). */
static int enc_error(enc *e, int idx, int depth) {
  lua_State *L = e->L;
  uint8_t tag = T_ERR;
  int f, r, top;

  if (!lua_checkstack(L, 8)) return fail(e, WD_ENOMEM, "out of memory");
  if (seen(e, idx)) return 0;
  if (depth >= WD_CODEC_MAXDEPTH)
    return fail(e, WD_EINVAL, "payload nested too deeply");
  put(e, &tag, 1);
  wd_lerr_unpack(L, idx);
  top = lua_gettop(L);
  for (f = top - 4; f <= top; f++) {
    if ((r = enc_value(e, f, depth + 1, 0)) < 0) {
      if (f == top - 1) prepend(e, ":details()", 10);
      lua_pop(L, 5);
      return r;
    }
  }
  lua_pop(L, 5);
  return 0;
}

/* Encode the value at the absolute index 'idx'. Integers, strings and
** tables first, by tests rather than a jump table: they are nearly every
** value, and a type that changes from value to value (key, value, key,
** ...) predicts better so. */
static int enc_value(enc *e, int idx, int depth, int iskey) {
  lua_State *L = e->L;
  uint8_t t[1 + SSTR_MAX];
  const char *s;
  size_t n;
  int type = lua_type(L, idx);

  if (type == LUA_TNUMBER) {
    if (lua_isinteger(L, idx)) {
      lua_Integer i = lua_tointeger(L, idx);
      uint64_t u = (uint64_t)i;
      if (i >= 0 && i <= SINT_MAX)
        put1(e, (uint8_t)(T_SINT | i));
      else
        put_tagv(e, T_INT, (u << 1) ^ (0 - (u >> 63)));
    } else {
      wd_codec_flt(t, (double)lua_tonumber(L, idx));
      put(e, t, 9);
    }
    return 0;
  }
  if (type == LUA_TSTRING) {
    s = lua_tolstring(L, idx, &n);
    if (n <= SSTR_MAX && room(e, 1 + n)) {
      uint8_t *d = e->b->p + e->b->len;
      d[0] = (uint8_t)(T_SSTR + n);
      copy(d + 1, s, n);
      e->b->len += 1 + n;
    } else if (n <= SSTR_MAX) {
      t[0] = (uint8_t)(T_SSTR + n);
      memcpy(t + 1, s, n);
      put_slow(e, t, 1 + n);
    } else {
      put_tagv(e, T_STR, (uint64_t)n);
      put(e, s, n);
    }
    return 0;
  }
  if (type == LUA_TTABLE) return enc_table(e, idx, depth);
  switch (type) {
    case LUA_TNIL:
      put1(e, T_NIL);
      return 0;
    case LUA_TBOOLEAN:
      put1(e, lua_toboolean(L, idx) ? T_TRUE : T_FALSE);
      return 0;
    case LUA_TUSERDATA:
      if (wd_lerr_is(L, idx)) return enc_error(e, idx, depth);
      return refuse(e, idx, iskey);
    default:
      return refuse(e, idx, iskey);
  }
}

int wd_lcodec_encode(lua_State *L, int first, int n, wd_buf *b, size_t maxlen,
                    char *err, size_t errlen) {
  enc e;
  uint8_t hdr[1 + VARINT_MAX];
  int i, r = 0;
  size_t len;

  if (err != NULL && errlen > 0) err[0] = '\0';
  /* Field by field: 'small' and 'path' are read only below 'nobj' and
  ** from 'ppos' on, so the ~400 bytes need no clearing per send. */
  e.L = L;
  e.b = b;
  e.start = b != NULL ? b->len : 0;
  e.size = 0;
  e.max = maxlen;
  e.lim = maxlen != 0 ? maxlen : SIZE_MAX;
  e.stop = 0;
  e.over = 0;
  e.visited = 0;
  e.nobj = 0;
  e.refs = 0;
  e.wantpath = 0;
  e.err = err;
  e.errlen = errlen;
  e.ppos = sizeof e.path;
  e.ptrunc = 0;
  if (n < 0 || b == NULL) return fail(&e, WD_EINVAL, "invalid arguments");
  if (b->err != 0) return fail(&e, b->err, wd_strerror(b->err));
  if (!lua_checkstack(L, 8)) return fail(&e, WD_ENOMEM, "out of memory");
  first = lua_absindex(L, first);
  lua_pushnil(L); /* the visited table, made at the first table */
  e.visited = lua_gettop(L);

  hdr[0] = VERSION;
  put(&e, hdr, 1 + wd_codec_varint(hdr + 1, (uint64_t)n));
  for (i = 0; i < n; i++) {
    if ((r = enc_value(&e, first + i, 0, 0)) < 0) {
      if (e.wantpath && err != NULL && (len = strlen(err)) + 1 < errlen)
        snprintf(err + len, errlen - len, " (at payload[%d]%s%.*s)", i + 1,
                 e.ptrunc ? "..." : "", (int)(sizeof e.path - e.ppos),
                 e.path + e.ppos);
      break;
    }
  }
  lua_settop(L, e.visited - 1);
  if (r == 0 && b->err != 0)
    r = fail(&e, b->err,
             b->err == WD_ENOMEM ? "out of memory" : "payload too large");
  if (r == 0 && e.over) {
    r = WD_ETOOBIG;
    if (err != NULL && errlen > 0)
      snprintf(err, errlen, "payload too large (%zu bytes, limit %zu)", e.size,
               e.max);
  }
  if (r < 0) {
    b->len = e.start;
    b->err = 0;
    return r;
  }
  if (e.refs) b->p[e.start] |= F_REFS;
  return n;
}

/* }====== */

/* {====== Decoder ====== */

/*
** Decoder state. 'need' counts the values announced but not yet started
** (each takes at least one byte); it never exceeds the bytes left, which
** bounds every preallocation by the input size, even across nesting.
*/
typedef struct dec {
  lua_State *L;
  wd_cur c;
  int refs;         /* stack slot of the numbered objects, 0 if none */
  lua_Integer nobj; /* objects numbered so far */
  uint64_t need;
} dec;

#define BAD WD_EBADFRAME

/* What dec_value pushed (>= 0), so that dec_table checks keys and values
** without asking L. */
enum { V_OTHER, V_NIL, V_NAN };

static int rd_u8(dec *d, uint8_t *v) {
  if (d->c.off >= d->c.len) return BAD;
  *v = d->c.p[d->c.off++];
  return 0;
}

/* wd_cur_left and wd_cur_bytes, inline: the decoder reads every value
** with them. */
static size_t left(const dec *d) {
  return d->c.len - d->c.off;
}

static int rd_bytes(dec *d, size_t n, const uint8_t **p) {
  if (n > left(d)) return BAD;
  *p = d->c.p + d->c.off;
  d->c.off += n;
  return 0;
}

static int rd_varint(dec *d, uint64_t *v) {
  return wd_codec_get_varint(&d->c, v);
}

/* Announce 'n' more values; fails when the bytes left cannot hold them. */
static int announce(dec *d, uint64_t n) {
  uint64_t rest = left(d);
  if (n > rest || d->need > rest - n) return BAD;
  d->need += n;
  return 0;
}

/* Number the object on top, so later references can name it. */
static void number(dec *d) {
  if (d->refs != 0) {
    lua_pushvalue(d->L, -1);
    lua_rawseti(d->L, d->refs, ++d->nobj);
  }
}

static int dec_value(dec *d, int depth);

static int dec_table(dec *d, int depth) {
  lua_State *L = d->L;
  uint64_t narr, nhash, i;
  int t, r;

  if (depth >= WD_CODEC_MAXDEPTH) return BAD;
  if (rd_varint(d, &narr) < 0 || rd_varint(d, &nhash) < 0) return BAD;
  if (narr > INT_MAX || nhash > INT_MAX / 2 || announce(d, narr + 2 * nhash))
    return BAD;
  if (!lua_checkstack(L, 4)) return BAD;
  lua_createtable(L, (int)narr, (int)nhash);
  t = lua_gettop(L);
  number(d);
  for (i = 1; i <= narr; i++) {
    if ((r = dec_value(d, depth + 1)) < 0) return r;
    if (r == V_NIL) return BAD;
    lua_rawseti(L, t, (lua_Integer)i);
  }
  for (i = 0; i < nhash; i++) {
    /* lua_rawset would raise on a nil or NaN key; the encoder never
    ** writes them. */
    if ((r = dec_value(d, depth + 1)) < 0) return r;
    if (r != V_OTHER) return BAD;
    if ((r = dec_value(d, depth + 1)) < 0) return r;
    if (r == V_NIL) return BAD;
    lua_rawset(L, t);
  }
  return V_OTHER;
}

static int dec_error(dec *d, int depth) {
  lua_State *L = d->L;
  int e, f, r;

  if (depth >= WD_CODEC_MAXDEPTH) return BAD;
  if (announce(d, 5) < 0 || !lua_checkstack(L, 8)) return BAD;
  wd_lerr_newraw(L);
  e = lua_gettop(L);
  number(d);
  for (f = 0; f < 5; f++)
    if ((r = dec_value(d, depth + 1)) < 0) return r;
  if (lua_type(L, e + 1) != LUA_TSTRING || lua_type(L, e + 2) != LUA_TSTRING ||
      !(lua_isnil(L, e + 3) || lua_isboolean(L, e + 3)) ||
      !(lua_isnil(L, e + 4) || lua_istable(L, e + 4)) ||
      !(lua_isnil(L, e + 5) || lua_type(L, e + 5) == LUA_TSTRING))
    return BAD;
  wd_lerr_setfields(L, e);
  return V_OTHER;
}

/* Push one value; returns V_* or a negative code. */
static int dec_value(dec *d, int depth) {
  lua_State *L = d->L;
  const uint8_t *p;
  uint64_t u;
  uint8_t tag;
  int i;

  if (rd_u8(d, &tag) < 0) return BAD;
  d->need--; /* >= 1: announce() counted this value */
  if (tag >= T_SINT) {
    lua_pushinteger(L, tag - T_SINT);
    return 0;
  }
  if (tag >= T_SSTR && tag <= T_SSTR + SSTR_MAX) {
    if (rd_bytes(d, (size_t)(tag - T_SSTR), &p) < 0) return BAD;
    lua_pushlstring(L, (const char *)p, (size_t)(tag - T_SSTR));
    return 0;
  }
  switch (tag) {
    case T_NIL:
      lua_pushnil(L);
      return V_NIL;
    case T_FALSE:
    case T_TRUE:
      lua_pushboolean(L, tag == T_TRUE);
      return 0;
    case T_INT:
      if (rd_varint(d, &u) < 0) return BAD;
      lua_pushinteger(L, (lua_Integer)((u >> 1) ^ (0 - (u & 1))));
      return 0;
    case T_FLT: {
      double x;
      if (rd_bytes(d, 8, &p) < 0) return BAD;
      for (u = 0, i = 0; i < 8; i++)
        u |= (uint64_t)p[i] << (8 * i);
      memcpy(&x, &u, sizeof x);
      lua_pushnumber(L, (lua_Number)x);
      return x != x ? V_NAN : V_OTHER;
    }
    case T_STR:
      if (rd_varint(d, &u) < 0 || u > left(d) ||
          rd_bytes(d, (size_t)u, &p) < 0)
        return BAD;
      lua_pushlstring(L, (const char *)p, (size_t)u);
      return 0;
    case T_TAB:
      return dec_table(d, depth);
    case T_REF:
      if (d->refs == 0 || rd_varint(d, &u) < 0 || u >= (uint64_t)d->nobj)
        return BAD;
      lua_rawgeti(L, d->refs, (lua_Integer)u + 1);
      return 0;
    case T_ERR:
      return dec_error(d, depth);
    default:
      return BAD;
  }
}

/* Read the header; on success 'count' values follow. */
static int rd_header(dec *d, uint64_t *count, int *refs) {
  uint8_t h;
  if (rd_u8(d, &h) < 0 || (h & ~F_REFS) != VERSION || rd_varint(d, count) < 0 ||
      *count > left(d) || *count > INT_MAX)
    return BAD;
  *refs = h & F_REFS;
  return 0;
}

int wd_lcodec_decode(lua_State *L, const uint8_t *p, size_t len) {
  dec d;
  uint64_t count, i;
  int base = lua_gettop(L), refs, r = 0;

  memset(&d, 0, sizeof d);
  d.L = L;
  wd_cur_init(&d.c, p, len);
  if (rd_header(&d, &count, &refs) < 0) return BAD;
  if (count > (uint64_t)(INT_MAX - 16) || !lua_checkstack(L, (int)count + 16))
    return WD_ETOOBIG;
  d.need = count;
  if (refs) {
    lua_newtable(L);
    d.refs = lua_gettop(L);
  }
  for (i = 0; i < count && r >= 0; i++)
    r = dec_value(&d, 0);
  if (r >= 0 && wd_cur_left(&d.c) != 0) r = BAD;
  if (r < 0) {
    lua_settop(L, base);
    return r;
  }
  if (refs) lua_remove(L, d.refs);
  return (int)count;
}

/* {====== Events as wd_codec_put_event writes them ======
** An event whose value is none or a scalar has one layout: {kind, from,
** at, result = {} | {value|error = scalar}} or {kind, from, at,
** deadline}, in that order. It is read here without the general decoder
** (the keys are pushed from C literals, which Lua finds without hashing
** them); anything else goes to wd_lcodec_decode. */

/* The short string 'lit' at the cursor: consumed, 1; else 0. */
static int rd_lit(dec *d, const char *lit, size_t n) {
  const uint8_t *p = d->c.p + d->c.off;
  if (left(d) < 1 + n || p[0] != T_SSTR + n ||
      memcmp(p + 1, lit, n) != 0)
    return 0;
  d->c.off += 1 + n;
  return 1;
}

#define RD_LIT(d, s) rd_lit((d), "" s, sizeof(s) - 1)

/* A scalar at the cursor, kept to be pushed later: 1, or 0 for anything
** else (consumed either way). */
typedef struct scalar {
  uint8_t tag;
  lua_Integer i;
  double f;
  const uint8_t *s;
  size_t n;
} scalar;

static int rd_scalar(dec *d, scalar *v) {
  uint64_t u;
  int k;
  if (rd_u8(d, &v->tag) < 0) return 0;
  if (v->tag >= T_SINT) {
    v->i = v->tag - T_SINT;
    v->tag = T_INT;
    return 1;
  }
  if (v->tag >= T_SSTR && v->tag <= T_SSTR + SSTR_MAX) {
    v->n = (size_t)(v->tag - T_SSTR);
    v->tag = T_SSTR;
    return rd_bytes(d, v->n, &v->s) == 0;
  }
  switch (v->tag) {
    case T_FALSE:
    case T_TRUE:
      return 1;
    case T_INT:
      if (rd_varint(d, &u) < 0) return 0;
      v->i = (lua_Integer)((u >> 1) ^ (0 - (u & 1)));
      return 1;
    case T_FLT:
      if (rd_bytes(d, 8, &v->s) < 0) return 0;
      for (u = 0, k = 0; k < 8; k++)
        u |= (uint64_t)v->s[k] << (8 * k);
      memcpy(&v->f, &u, sizeof v->f);
      return v->f == v->f; /* NaN: let the decoder refuse it */
    default:
      return 0;
  }
}

static void push_scalar(lua_State *L, const scalar *v) {
  switch (v->tag) {
    case T_INT: lua_pushinteger(L, v->i); break;
    case T_FLT: lua_pushnumber(L, (lua_Number)v->f); break;
    case T_SSTR: lua_pushlstring(L, (const char *)v->s, v->n); break;
    default: lua_pushboolean(L, v->tag == T_TRUE);
  }
}

int wd_lcodec_decode_event(lua_State *L, const uint8_t *p, size_t len) {
  static const char *const kinds[] = { "pid.exit", "pid.link.down",
                                       "pid.cancel", NULL };
  dec d;
  uint8_t tag;
  uint64_t count, narr, nhash, nres = 0;
  scalar kind, from, at, last, val;
  int cancel, ok = 0, i;
  memset(&d, 0, sizeof d);
  wd_cur_init(&d.c, p, len);
  if (rd_u8(&d, &tag) < 0 || tag != VERSION || rd_varint(&d, &count) < 0 ||
      count != 1 || rd_u8(&d, &tag) < 0 || tag != T_TAB ||
      rd_varint(&d, &narr) < 0 || narr != 0 || rd_varint(&d, &nhash) < 0 ||
      nhash != 4 || !RD_LIT(&d, "kind") || !rd_scalar(&d, &kind) ||
      kind.tag != T_SSTR || !RD_LIT(&d, "from") || !rd_scalar(&d, &from) ||
      from.tag != T_SSTR || !RD_LIT(&d, "at") || !rd_scalar(&d, &at) ||
      at.tag != T_INT)
    return wd_lcodec_decode(L, p, len);
  if ((cancel = RD_LIT(&d, "deadline")) != 0) {
    if (!rd_scalar(&d, &last) || last.tag != T_INT)
      return wd_lcodec_decode(L, p, len);
  } else if (!RD_LIT(&d, "result") || rd_u8(&d, &tag) < 0 || tag != T_TAB ||
             rd_varint(&d, &narr) < 0 || narr != 0 ||
             rd_varint(&d, &nres) < 0 || nres > 1 ||
             (nres == 1 && !(ok = RD_LIT(&d, "value")) &&
              !RD_LIT(&d, "error")) ||
             (nres == 1 && !rd_scalar(&d, &val))) {
    return wd_lcodec_decode(L, p, len);
  }
  if (wd_cur_left(&d.c) != 0) return wd_lcodec_decode(L, p, len);
  lua_createtable(L, 0, 4);
  for (i = 0; kinds[i] != NULL; i++)
    if (strlen(kinds[i]) == kind.n && memcmp(kinds[i], kind.s, kind.n) == 0)
      break;
  if (kinds[i] != NULL)
    lua_pushstring(L, kinds[i]);
  else
    push_scalar(L, &kind);
  lua_setfield(L, -2, "kind");
  push_scalar(L, &from);
  lua_setfield(L, -2, "from");
  push_scalar(L, &at);
  lua_setfield(L, -2, "at");
  if (cancel) {
    push_scalar(L, &last);
    lua_setfield(L, -2, "deadline");
    return 1;
  }
  lua_createtable(L, 0, (int)nres);
  if (nres == 1) {
    push_scalar(L, &val);
    lua_setfield(L, -2, ok ? "value" : "error");
  }
  lua_setfield(L, -2, "result");
  return 1;
}

/* }====== */

/* }====== */
