/*
** include/ward/wd_buf.h
** Growable byte buffer (writer) and bounds-checked cursor (reader) used by
** the codec, the frame layer and every wire record. Integers are written
** little-endian; strings as u32 length + bytes.
** Runs in: broker and host.
*/
#ifndef wd_buf_h
#define wd_buf_h

#include <stdint.h>
#include <stddef.h>

#include "ward/wd_common.h"

typedef struct wd_buf {
  uint8_t *p;
  size_t len;
  size_t cap;
  size_t max; /* 0: unlimited; otherwise growing past it fails WD_ETOOBIG */
  int err;    /* sticky: first failure of any put; 0 while all succeeded */
} wd_buf;

/* Caller-owned storage. wd_buf_close frees the bytes (and wipes nothing). */
void wd_buf_init(wd_buf *b, size_t max);
void wd_buf_close(wd_buf *b);
/* Forget the contents, keep the memory. Clears the sticky error. */
void wd_buf_reset(wd_buf *b);
/* Make room for 'n' more bytes. Returns 0, WD_ENOMEM or WD_ETOOBIG. */
int wd_buf_reserve(wd_buf *b, size_t n);
/*
** Appends. On failure they set 'b->err' (first failure wins) and do
** nothing; check 'b->err' once after a sequence of puts.
*/
void wd_buf_put(wd_buf *b, const void *p, size_t n);
void wd_buf_put_u8(wd_buf *b, uint8_t v);
void wd_buf_put_u32(wd_buf *b, uint32_t v);
void wd_buf_put_u64(wd_buf *b, uint64_t v);
void wd_buf_put_str(wd_buf *b, const char *s, size_t n);
void wd_buf_put_cstr(wd_buf *b, const char *s); /* NULL puts "" */
/* Overwrite 4 bytes at 'off' (for back-patched lengths). */
void wd_buf_patch_u32(wd_buf *b, size_t off, uint32_t v);

/* Reader over borrowed bytes. Every get fails (returns WD_EBADFRAME) when
** fewer bytes remain than needed, and then leaves the cursor unchanged. */
typedef struct wd_cur {
  const uint8_t *p;
  size_t len;
  size_t off;
} wd_cur;

void wd_cur_init(wd_cur *c, const void *p, size_t len);
size_t wd_cur_left(const wd_cur *c);
int wd_cur_u8(wd_cur *c, uint8_t *v);
int wd_cur_u32(wd_cur *c, uint32_t *v);
int wd_cur_u64(wd_cur *c, uint64_t *v);
/* Borrow 'n' bytes. */
int wd_cur_bytes(wd_cur *c, size_t n, const uint8_t **p);
/* Borrow a u32-length string (not NUL-terminated). */
int wd_cur_str(wd_cur *c, const char **s, size_t *n);

#endif
