/*
** runtime/codec.c
** Payload codec bytes without Lua (format in wd_codec.h): hand writers for
** values and lifecycle events, and the header reader. The broker writes
** its events and spawn arguments with them, the hosts the events of an
** ending actor whose value is a scalar.
** Runs in: broker and host.
*/
#include <limits.h>
#include <string.h>
#include <time.h>

#include "ward/wd_codec.h"

#define VERSION    WD_CODEC_VERSION
#define F_REFS     WD_CODEC_F_REFS
#define SSTR_MAX   WD_CODEC_SSTR_MAX
#define SINT_MAX   WD_CODEC_SINT_MAX
#define VARINT_MAX WD_CODEC_VARINT_MAX

/* {====== Writing by hand ====== */

static void w_tagv(wd_buf *b, uint8_t tag, uint64_t v) {
  uint8_t t[1 + VARINT_MAX];
  t[0] = tag;
  wd_buf_put(b, t, 1 + wd_codec_varint(t + 1, v));
}

void wd_codec_put_header(wd_buf *b, unsigned count) {
  w_tagv(b, VERSION, count);
}

void wd_codec_put_nil(wd_buf *b) {
  wd_buf_put_u8(b, WD_CODEC_T_NIL);
}

void wd_codec_put_bool(wd_buf *b, int v) {
  wd_buf_put_u8(b, v ? WD_CODEC_T_TRUE : WD_CODEC_T_FALSE);
}

void wd_codec_put_int(wd_buf *b, int64_t v) {
  uint64_t u = (uint64_t)v;
  if (v >= 0 && v <= SINT_MAX)
    wd_buf_put_u8(b, (uint8_t)(WD_CODEC_T_SINT | v));
  else
    w_tagv(b, WD_CODEC_T_INT, (u << 1) ^ (0 - (u >> 63)));
}

void wd_codec_put_num(wd_buf *b, double d) {
  uint8_t t[9];
  wd_codec_flt(t, d);
  wd_buf_put(b, t, 9);
}

void wd_codec_put_str(wd_buf *b, const char *s, size_t n) {
  if (n <= SSTR_MAX)
    wd_buf_put_u8(b, (uint8_t)(WD_CODEC_T_SSTR + n));
  else
    w_tagv(b, WD_CODEC_T_STR, (uint64_t)n);
  wd_buf_put(b, s, n);
}

void wd_codec_put_table(wd_buf *b, uint64_t narr, uint64_t nhash) {
  uint8_t t[1 + 2 * VARINT_MAX];
  size_t n;
  t[0] = WD_CODEC_T_TAB;
  n = 1 + wd_codec_varint(t + 1, narr);
  n += wd_codec_varint(t + n, nhash);
  wd_buf_put(b, t, n);
}

/* A short string (n <= SSTR_MAX) at t; returns its length in bytes. */
static size_t sstr_at(uint8_t *t, const char *s, size_t n) {
  t[0] = (uint8_t)(WD_CODEC_T_SSTR + n);
  memcpy(t + 1, s, n);
  return 1 + n;
}

/* One write when the strings are short, as they are. */
void wd_codec_put_event_head(wd_buf *b, const char *kind, size_t kl,
                             const char *from, size_t fl, int64_t at) {
  uint8_t t[16 + 2 * SSTR_MAX + VARINT_MAX];
  size_t n = 0;
  if (kl > SSTR_MAX || fl > SSTR_MAX || at < 0) {
    wd_codec_put_header(b, 1);
    wd_codec_put_table(b, 0, 4);
    wd_codec_put_str(b, "kind", 4);
    wd_codec_put_str(b, kind, kl);
    wd_codec_put_str(b, "from", 4);
    wd_codec_put_str(b, from, fl);
    wd_codec_put_str(b, "at", 2);
    wd_codec_put_int(b, at);
    return;
  }
  t[n++] = VERSION;
  t[n++] = 1;
  t[n++] = WD_CODEC_T_TAB;
  t[n++] = 0;
  t[n++] = 4;
  n += sstr_at(t + n, "kind", 4);
  n += sstr_at(t + n, kind, kl);
  n += sstr_at(t + n, "from", 4);
  n += sstr_at(t + n, from, fl);
  n += sstr_at(t + n, "at", 2);
  if (at <= SINT_MAX) {
    t[n++] = (uint8_t)(WD_CODEC_T_SINT | at);
  } else {
    t[n++] = WD_CODEC_T_INT;
    n += wd_codec_varint(t + n, (uint64_t)at << 1);
  }
  wd_buf_put(b, t, n);
}

void wd_codec_put_error(wd_buf *b, const char *kind, const char *msg,
                        int retryable) {
  wd_buf_put_u8(b, WD_CODEC_T_ERR);
  wd_codec_put_str(b, kind, strlen(kind));
  wd_codec_put_str(b, msg, strlen(msg));
  if (retryable < 0)
    wd_codec_put_nil(b);
  else
    wd_codec_put_bool(b, retryable);
  wd_codec_put_nil(b);
  wd_codec_put_nil(b);
}

/* }====== */

/* {====== Events ====== */

static void put_key(wd_buf *b, const char *k) {
  wd_codec_put_str(b, k, strlen(k));
}

static void put_val(wd_buf *b, const wd_codec_val *v) {
  switch (v->type) {
    case WD_CODEC_V_BOOL:
      wd_codec_put_bool(b, v->b);
      break;
    case WD_CODEC_V_INT:
      wd_codec_put_int(b, v->i);
      break;
    case WD_CODEC_V_NUM:
      wd_codec_put_num(b, v->n);
      break;
    case WD_CODEC_V_STR:
      wd_codec_put_str(b, v->s, v->len);
      break;
    default:
      wd_codec_put_error(b, v->ekind, v->s, 0);
  }
}

int wd_codec_put_event(wd_buf *out, const char *kind, const char *from,
                       size_t fl, int64_t at, uint64_t deadline_ns, int ok,
                       const wd_codec_val *v) {
  wd_buf_reset(out);
  wd_codec_put_event_head(out, kind, strlen(kind), from, fl, at);
  if (deadline_ns != 0 || strcmp(kind, "pid.cancel") == 0) {
    put_key(out, "deadline");
    wd_codec_put_int(out, (int64_t)(deadline_ns / 1000000000u));
  } else {
    put_key(out, "result");
    if (v == NULL || v->type == WD_CODEC_V_NONE) {
      wd_codec_put_table(out, 0, 0);
    } else {
      wd_codec_put_table(out, 0, 1);
      put_key(out, ok ? "value" : "error");
      put_val(out, v);
    }
  }
  if (out->err != 0) {
    int r = out->err;
    wd_buf_reset(out);
    out->err = 0;
    return r;
  }
  return 0;
}

int64_t wd_codec_now_s(void) {
  struct timespec ts;
  if (clock_gettime(CLOCK_REALTIME_COARSE, &ts) != 0)
    clock_gettime(CLOCK_REALTIME, &ts);
  return (int64_t)ts.tv_sec;
}

/* }====== */

int wd_codec_count(const uint8_t *p, size_t len) {
  wd_cur c;
  uint8_t h;
  uint64_t count;
  wd_cur_init(&c, p, len);
  if (wd_cur_u8(&c, &h) < 0 || (h & ~F_REFS) != VERSION ||
      wd_codec_get_varint(&c, &count) < 0 || count > wd_cur_left(&c) ||
      count > INT_MAX)
    return WD_EBADFRAME;
  return (int)count;
}
