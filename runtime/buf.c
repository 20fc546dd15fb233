/*
** runtime/buf.c
** Growable byte buffer and bounds-checked reader.
** Runs in: broker and host.
*/
#include <string.h>

#include "ward/wd_buf.h"

void wd_buf_init(wd_buf *b, size_t max) {
  b->p = NULL;
  b->len = b->cap = 0;
  b->max = max;
  b->err = 0;
}

void wd_buf_close(wd_buf *b) {
  wd_free(b->p);
  wd_buf_init(b, b->max);
}

void wd_buf_reset(wd_buf *b) {
  b->len = 0;
  b->err = 0;
}

int wd_buf_reserve(wd_buf *b, size_t n) {
  size_t need, cap;
  uint8_t *p;
  if (n > SIZE_MAX - b->len) return WD_ETOOBIG;
  need = b->len + n;
  if (b->max != 0 && need > b->max) return WD_ETOOBIG;
  if (need <= b->cap) return 0;
  cap = b->cap ? b->cap : 256;
  while (cap < need) cap = cap > SIZE_MAX / 2 ? need : cap * 2;
  if (b->max != 0 && cap > b->max) cap = b->max;
  p = wd_realloc(b->p, cap);
  if (p == NULL) return WD_ENOMEM;
  b->p = p;
  b->cap = cap;
  return 0;
}

void wd_buf_put(wd_buf *b, const void *p, size_t n) {
  int r;
  if (b->err != 0) return;
  if ((r = wd_buf_reserve(b, n)) < 0) {
    b->err = r;
    return;
  }
  if (n > 0) memcpy(b->p + b->len, p, n);
  b->len += n;
}

void wd_buf_put_u8(wd_buf *b, uint8_t v) {
  wd_buf_put(b, &v, 1);
}

void wd_buf_put_u32(wd_buf *b, uint32_t v) {
  uint8_t t[4];
  int i;
  for (i = 0; i < 4; i++) t[i] = (uint8_t)(v >> (8 * i));
  wd_buf_put(b, t, 4);
}

void wd_buf_put_u64(wd_buf *b, uint64_t v) {
  uint8_t t[8];
  int i;
  for (i = 0; i < 8; i++) t[i] = (uint8_t)(v >> (8 * i));
  wd_buf_put(b, t, 8);
}

void wd_buf_put_str(wd_buf *b, const char *s, size_t n) {
  if (n > UINT32_MAX) {
    if (b->err == 0) b->err = WD_ETOOBIG;
    return;
  }
  wd_buf_put_u32(b, (uint32_t)n);
  wd_buf_put(b, s, n);
}

void wd_buf_put_cstr(wd_buf *b, const char *s) {
  if (s == NULL) s = "";
  wd_buf_put_str(b, s, strlen(s));
}

void wd_buf_patch_u32(wd_buf *b, size_t off, uint32_t v) {
  int i;
  if (b->err != 0 || off > b->len || b->len - off < 4) return;
  for (i = 0; i < 4; i++) b->p[off + i] = (uint8_t)(v >> (8 * i));
}

void wd_cur_init(wd_cur *c, const void *p, size_t len) {
  c->p = p;
  c->len = len;
  c->off = 0;
}

size_t wd_cur_left(const wd_cur *c) {
  return c->len - c->off;
}

int wd_cur_bytes(wd_cur *c, size_t n, const uint8_t **p) {
  if (n > wd_cur_left(c)) return WD_EBADFRAME;
  *p = c->p + c->off;
  c->off += n;
  return 0;
}

static int get_le(wd_cur *c, int n, uint64_t *v) {
  const uint8_t *p;
  uint64_t x = 0;
  int i;
  if (wd_cur_bytes(c, (size_t)n, &p) < 0) return WD_EBADFRAME;
  for (i = 0; i < n; i++) x |= (uint64_t)p[i] << (8 * i);
  *v = x;
  return 0;
}

int wd_cur_u8(wd_cur *c, uint8_t *v) {
  uint64_t x;
  int r = get_le(c, 1, &x);
  if (r == 0) *v = (uint8_t)x;
  return r;
}

int wd_cur_u32(wd_cur *c, uint32_t *v) {
  uint64_t x;
  int r = get_le(c, 4, &x);
  if (r == 0) *v = (uint32_t)x;
  return r;
}

int wd_cur_u64(wd_cur *c, uint64_t *v) {
  return get_le(c, 8, v);
}

int wd_cur_str(wd_cur *c, const char **s, size_t *n) {
  size_t save = c->off;
  uint32_t len;
  const uint8_t *p;
  if (wd_cur_u32(c, &len) < 0) return WD_EBADFRAME;
  if (wd_cur_bytes(c, len, &p) < 0) {
    c->off = save;
    return WD_EBADFRAME;
  }
  *s = (const char *)p;
  *n = len;
  return 0;
}
