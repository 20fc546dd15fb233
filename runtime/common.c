/*
** runtime/common.c
** Status code names, error messages and the replaceable allocator.
** Runs in: broker and host.
*/
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ward/wd_common.h"

static wd_malloc_fn g_malloc = malloc;
static wd_realloc_fn g_realloc = realloc;
static wd_free_fn g_free = free;

int wd_errf(char *err, size_t errlen, int code, const char *fmt, ...) {
  va_list ap;
  if (err != NULL && errlen > 0) {
    va_start(ap, fmt);
    /* NOLINTNEXTLINE(clang-analyzer-valist.Uninitialized): clang 14 bug */
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
  }
  return code;
}

const char *wd_strerror(int code) {
  switch (code) {
#define XX(name, value, kind, msg)                                           \
  case WD_##name:                                                            \
    return msg;
    WD_ERRNO_MAP(XX)
#undef XX
    default:
      return "unknown error";
  }
}

const char *wd_errkind(int code) {
  switch (code) {
#define XX(name, value, kind, msg)                                           \
  case WD_##name:                                                            \
    return kind;
    WD_ERRNO_MAP(XX)
#undef XX
    default:
      return "Internal";
  }
}

const char *wd_errname(int code) {
  switch (code) {
#define XX(name, value, kind, msg)                                           \
  case WD_##name:                                                            \
    return "WD_" #name;
    WD_ERRNO_MAP(XX)
#undef XX
    default:
      return "WD_UNKNOWN";
  }
}

void *wd_malloc(size_t n) {
  return g_malloc(n ? n : 1);
}

void *wd_calloc(size_t n, size_t size) {
  void *p;
  if (size != 0 && n > SIZE_MAX / size) return NULL;
  p = g_malloc(n * size != 0 ? n * size : 1);
  if (p != NULL) memset(p, 0, n * size);
  return p;
}

void *wd_realloc(void *p, size_t n) {
  return g_realloc(p, n ? n : 1);
}

void wd_free(void *p) {
  int saved = errno;
  if (p != NULL) g_free(p);
  errno = saved;
}

char *wd_strndup(const char *s, size_t n) {
  char *d = wd_malloc(n + 1);
  if (d == NULL) return NULL;
  memcpy(d, s, n);
  d[n] = '\0';
  return d;
}

char *wd_strdup(const char *s) {
  return wd_strndup(s, strlen(s));
}

void wd_replace_allocator(wd_malloc_fn m, wd_realloc_fn r, wd_free_fn f) {
  g_malloc = m ? m : malloc;
  g_realloc = r ? r : realloc;
  g_free = f ? f : free;
}
