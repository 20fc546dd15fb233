/*
** include/ward/wd_common.h
** Status codes, error kinds and the replaceable allocator shared by every
** layer of ward.
*/
#ifndef wd_common_h
#define wd_common_h

#include <errno.h>
#include <stddef.h>
#include <stdint.h>

#define WD_API __attribute__((visibility("default")))

/*
** Status codes: 0 or positive is success, negative is failure. System errors
** are -errno; ward's own codes start at -4000. Each code maps to one of the
** error kinds of the seeds' error table (the strings scripts see from
** err:kind()).
**   XX(name, value, kind, message)
*/
#define WD_ERRNO_MAP(XX)                                                     \
  XX(ENOMEM, -ENOMEM, "Internal", "out of memory")                           \
  XX(EIO, -EIO, "Internal", "i/o error")                                     \
  XX(EINVAL, -4000, "Invalid", "invalid argument")                           \
  XX(ENOTFOUND, -4001, "NotFound", "not found")                              \
  XX(EEXIST, -4002, "AlreadyExists", "already exists")                       \
  XX(EDENIED, -4003, "PermissionDenied", "permission denied")                \
  XX(EUNAVAIL, -4004, "Unavailable", "unavailable")                          \
  XX(EINTERNAL, -4005, "Internal", "internal error")                         \
  XX(ECANCELED, -4006, "Canceled", "canceled")                               \
  XX(ETIMEOUT, -4007, "Timeout", "timed out")                                \
  XX(ELIMIT, -4008, "LimitExceeded", "limit exceeded")                       \
  XX(EMBOXFULL, -4009, "LimitExceeded", "mailbox full")                      \
  XX(ETOOBIG, -4010, "LimitExceeded", "too big")                             \
  XX(EBADFRAME, -4011, "Internal", "malformed frame")                        \
  XX(EBADSIG, -4012, "Internal", "bad frame signature")                      \
  XX(EREPLAY, -4013, "Internal", "frame out of sequence")                    \
  XX(ENOACTOR, -4014, "NotFound", "process not found")                       \
  XX(ECONFLICT, -4015, "Conflict", "conflict")

enum {
#define XX(name, value, kind, msg) WD_##name = (value),
  WD_ERRNO_MAP(XX)
#undef XX
};

/* Human-readable message for a status code ("unknown error" otherwise). */
const char *wd_strerror(int code);
/* Error kind string for a status code, as errors.<KIND> constants hold. */
const char *wd_errkind(int code);
/* Symbolic name ("WD_EINVAL") of a status code. */
const char *wd_errname(int code);
/* Write the message 'fmt' into 'err' (when 'err' is not NULL and 'errlen'
** not 0) and return 'code': `return wd_errf(err, errlen, WD_EINVAL, ...)`. */
__attribute__((format(printf, 4, 5))) int wd_errf(char *err, size_t errlen,
                                                  int code, const char *fmt,
                                                  ...);

/*
** All C allocation goes through these so tests can inject failures.
** wd_free keeps errno. wd_strdup returns NULL only on out of memory.
*/
typedef void *(*wd_malloc_fn)(size_t);
typedef void *(*wd_realloc_fn)(void *, size_t);
typedef void (*wd_free_fn)(void *);

void *wd_malloc(size_t n);
void *wd_calloc(size_t n, size_t size);
void *wd_realloc(void *p, size_t n);
void wd_free(void *p);
char *wd_strdup(const char *s);
char *wd_strndup(const char *s, size_t n);
/* Replace the allocator (NULL arguments restore the libc ones). */
void wd_replace_allocator(wd_malloc_fn m, wd_realloc_fn r, wd_free_fn f);

#define WD_COUNTOF(a) (sizeof(a) / sizeof((a)[0]))

#endif
