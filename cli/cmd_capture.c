/*
** cli/cmd_capture.c
** What each test printed, for the <system-out> of 'ward test --junit'.
** Scripts print through the broker, which writes to file descriptor 1
** from its loop. While capturing, fd 1 is a pipe: a thread copies every
** byte to the real standard output as it comes (nothing is held back,
** so a CI log shows the run live) and keeps the bytes that came between
** a test's begin and end marks. The marks are written through the
** broker's own output (wd_broker_printf), so they keep their place among
** what scripts printed; they carry a random nonce and never reach the
** real standard output.
** Runs in: the ward command (broker side).
*/
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sodium.h>

#include "cmd_int.h"

#define MARK_MAX 48
#define SEP      '\x1e' /* ASCII record separator: starts and ends a mark */

typedef struct Buf {
  char *p;
  size_t n, cap;
} Buf;

struct wd__capture {
  int real;   /* the real standard output (a dup of fd 1) */
  int rd, wr; /* the pipe */
  pthread_t th;
  int started;
  char nonce[17];
  int cur; /* the test whose output comes now, or -1 */
  int done;
  Buf *outs; /* grown by the reader; read by others only after stop */
  int n;
};

static void buf_put(Buf *b, const char *p, size_t n) {
  if (b->n + n > b->cap) {
    size_t nc = b->cap ? b->cap : 256;
    char *np;
    while (nc < b->n + n)
      nc *= 2;
    if ((np = wd_realloc(b->p, nc)) == NULL) return; /* drop, keep running */
    b->p = np;
    b->cap = nc;
  }
  memcpy(b->p + b->n, p, n);
  b->n += n;
}

static void put_real(wd__capture *c, const char *p, size_t n) {
  while (n > 0) {
    ssize_t w = write(c->real, p, n);
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) return; /* standard output gone: keep capturing */
    p += w;
    n -= (size_t)w;
  }
}

static void pass(wd__capture *c, const char *p, size_t n) {
  if (n == 0) return;
  put_real(c, p, n);
  if (c->cur >= 0 && c->cur < c->n) buf_put(&c->outs[c->cur], p, n);
}

/* Is p[0..n) a mark "SEP WDJ<nonce><B|E|Q><index>" of ours? */
static int is_mark(const wd__capture *c, const char *p, size_t n) {
  size_t k = 3 + 16;
  return n >= k + 3 && memcmp(p + 1, "WDJ", 3) == 0 &&
         memcmp(p + 4, c->nonce, 16) == 0 &&
         (p[k + 1] == 'B' || p[k + 1] == 'E' || p[k + 1] == 'Q');
}

/* Act on a mark (is_mark): a test's output begins or ends, or the
** capture is over. */
static int mark(wd__capture *c, const char *p) {
  size_t k = 3 + 16;
  switch (p[k + 1]) {
    case 'B':
      c->cur = (int)strtol(p + k + 2, NULL, 10);
      if (c->cur >= c->n && c->cur < 1000000) {
        Buf *nv = wd_realloc(c->outs, ((size_t)c->cur + 1) * sizeof *nv);
        if (nv != NULL) {
          memset(nv + c->n, 0,
                 ((size_t)c->cur + 1 - (size_t)c->n) * sizeof *nv);
          c->outs = nv;
          c->n = c->cur + 1;
        }
      }
      return 1;
    case 'E':
      c->cur = -1;
      return 1;
    case 'Q':
      c->done = 1;
      return 1;
    default:
      return 0;
  }
}

static void *reader(void *ud) {
  wd__capture *c = ud;
  char buf[8192 + MARK_MAX];
  size_t have = 0;
  while (!c->done) {
    ssize_t r = read(c->rd, buf + have, sizeof buf - have - MARK_MAX);
    size_t i = 0, start = 0, end;
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) break;
    have += (size_t)r;
    while (i < have && !c->done) {
      if (buf[i] != SEP) {
        i++;
        continue;
      }
      for (end = i + 1; end < have && end - i < MARK_MAX && buf[end] != SEP;
           end++) {
      }
      if (end == have && end - i < MARK_MAX) break; /* a mark cut short */
      if (end < have && buf[end] == SEP && is_mark(c, buf + i, end - i)) {
        pass(c, buf + start, i - start); /* what came before the mark */
        mark(c, buf + i);
        start = i = end + 1;
      } else {
        i++;
      }
    }
    if (c->done) i = have;
    pass(c, buf + start, i - start);
    memmove(buf, buf + i, have - i);
    have -= i;
  }
  pass(c, buf, have);
  return NULL;
}

int wd__capture_start(wd__capture **out) {
  wd__capture *c = wd_calloc(1, sizeof *c);
  unsigned char rnd[8];
  int fds[2], i;
  *out = NULL;
  if (c == NULL) return WD_ENOMEM;
  c->cur = -1;
  randombytes_buf(rnd, sizeof rnd);
  for (i = 0; i < 8; i++)
    snprintf(c->nonce + (size_t)2 * (size_t)i, 3, "%02x", rnd[i]);
  fflush(stdout);
  if ((c->real = dup(STDOUT_FILENO)) < 0 || pipe(fds) != 0) {
    int e = -errno;
    if (c->real >= 0) close(c->real);
    wd_free(c);
    return e;
  }
  c->rd = fds[0];
  c->wr = fds[1];
  if (dup2(c->wr, STDOUT_FILENO) < 0 ||
      pthread_create(&c->th, NULL, reader, c) != 0) {
    (void)dup2(c->real, STDOUT_FILENO);
    close(fds[0]);
    close(fds[1]);
    close(c->real);
    wd_free(c);
    return WD_EUNAVAIL;
  }
  c->started = 1;
  *out = c;
  return 0;
}

void wd__capture_mark(const wd__capture *c, int begin, int idx, char *buf,
                      size_t n) {
  snprintf(buf, n, "%cWDJ%s%c%d%c", SEP, c->nonce, begin ? 'B' : 'E', idx, SEP);
}

void wd__capture_stop(wd__capture *c) {
  char q[MARK_MAX];
  if (c == NULL || !c->started) return;
  fflush(stdout);
  snprintf(q, sizeof q, "%cWDJ%sQ0%c", SEP, c->nonce, SEP);
  put_real(&(wd__capture){ .real = STDOUT_FILENO }, q, strlen(q));
  /* fd 1 is the real standard output again; the reader stops at the
  ** closing mark even if a host still holds the pipe. */
  (void)dup2(c->real, STDOUT_FILENO);
  close(c->wr);
  pthread_join(c->th, NULL);
  close(c->rd);
  close(c->real);
  c->started = 0;
}

const char *wd__capture_out(const wd__capture *c, int idx, size_t *len) {
  if (c == NULL || idx < 0 || idx >= c->n) {
    *len = 0;
    return NULL;
  }
  *len = c->outs[idx].n;
  return c->outs[idx].p;
}

void wd__capture_free(wd__capture *c) {
  int i;
  if (c == NULL) return;
  wd__capture_stop(c);
  for (i = 0; i < c->n; i++)
    wd_free(c->outs[i].p);
  wd_free(c->outs);
  wd_free(c);
}
