/*
** sandbox/broker_out.c
** What scripts print, on its way to the broker's standard output. The
** broker never blocks on it: output waits in one FIFO of chunks, in the
** order the broker received it (so it is never reordered within a host,
** and a line printed before a message was sent comes before what the
** receiver prints about it), and is written whenever the descriptor takes
** more. What waits for one host is bounded by its 'output_buffer': the
** broker stops reading a host over it (wd_link_pause) until its output has
** drained to half of it, so that host waits and no other does. It may
** also print at most its 'output_rate' bytes a second (a token bucket of
** one output_buffer): past it the broker stops reading it until it may
** again, so a print flood takes a bounded share of the broker, which the
** other tenants' messages share. When the loop ends, what is left is
** written out, blocking: nothing accepted is lost.
** Runs in: broker.
*/
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "broker_int.h"

#define CHUNK (64u << 10)

typedef struct ochunk {
  struct ochunk *next;
  int slot;   /* host slot, -1 for the broker's own lines */
  size_t len; /* bytes in 'data' */
  size_t off; /* bytes of them written */
  size_t cap;
  char data[];
} ochunk;

/* How output reaches the descriptor. */
enum {
  OUT_POLL, /* a non-blocking pipe, FIFO, terminal: poll for room */
  OUT_SOCK, /* a socket: send(MSG_DONTWAIT), poll for room */
  OUT_SYNC, /* a file or a device that cannot be polled: plain writes */
};

struct brk_out {
  uv_poll_t poll;
  int fd;
  int mode;
  int own_fd;     /* 'fd' is a descriptor of our own, closed at the end */
  int restore_fl; /* fd 1's flags to put back, or -1 */
  int poll_init;  /* 'poll' initialised (on first need) */
  int polling;    /* waiting for room */
  int dead;       /* the reader is gone: output is dropped */
  ochunk *head, *tail;
};

/* {====== Set up ====== */

/*
** A descriptor for standard output on which a write never blocks,
** without changing what others share: O_NONBLOCK is a flag of the open
** file description, which the shell and other programs on the same pipe
** or terminal hold too, so a pipe, FIFO or terminal is opened again
** through /proc (a description of our own, as libuv does for ttys). A
** socket takes MSG_DONTWAIT per call; a regular file never blocks for
** long. Only when /proc cannot be used is fd 1's own flag set, and put
** back at the end.
*/
int wd__brk_out_open(wd_broker *b) {
  brk_out *o = wd_calloc(1, sizeof *o);
  struct stat st;
  int fd, fl;
  if (o == NULL) return WD_ENOMEM;
  o->fd = STDOUT_FILENO;
  o->restore_fl = -1;
  b->out = o;
  if (fstat(STDOUT_FILENO, &st) != 0) {
    o->dead = 1; /* no standard output: nothing to write to */
    return 0;
  }
  if (S_ISREG(st.st_mode) || S_ISBLK(st.st_mode)) {
    o->mode = OUT_SYNC;
    return 0;
  }
  if (S_ISSOCK(st.st_mode)) {
    o->mode = OUT_SOCK;
    return 0;
  }
  o->mode = OUT_POLL;
  fd = open("/proc/self/fd/1", O_WRONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
  if (fd >= 0) {
    o->fd = fd;
    o->own_fd = 1;
    return 0;
  }
  if ((fl = fcntl(STDOUT_FILENO, F_GETFL)) >= 0 &&
      fcntl(STDOUT_FILENO, F_SETFL, fl | O_NONBLOCK) == 0)
    o->restore_fl = fl;
  else
    o->mode = OUT_SYNC;
  return 0;
}

/* }====== */

/* {====== Accounting per host ====== */

static uint64_t limit_of(const hslot *s) {
  return s->he->u.host.limits.output_buffer;
}

/* Read host 's' or not, as its two bounds say. */
static void set_paused(hslot *s) {
  if (s->up && s->link != NULL)
    wd_link_pause(s->link, s->out_paused || s->out_slow);
}

/* The rate's bucket holds at most one output_buffer (or 1 MiB). */
static int64_t burst_of(const hslot *s) {
  uint64_t max = limit_of(s);
  return (int64_t)(max != 0 && max < (1ull << 40) ? max : 1u << 20);
}

/* Refill the bucket of 's' for the time since the last refill. */
static void refill(wd_broker *b, hslot *s) {
  uint64_t now = uv_now(&b->loop), rate = s->he->u.host.limits.output_rate;
  int64_t burst = burst_of(s);
  if (s->out_stamp == 0) {
    s->out_stamp = now;
    s->out_tokens = burst;
    return;
  }
  if (now > s->out_stamp) {
    uint64_t add = (now - s->out_stamp) * (rate / 1000 ? rate / 1000 : 1);
    s->out_tokens = add >= (uint64_t)(burst - s->out_tokens)
                        ? burst
                        : s->out_tokens + (int64_t)add;
    s->out_stamp = now;
  }
}

static void rate_resume(wd_broker *b, void *ud, int fired) {
  hslot *s = ud;
  if (!fired) return;
  refill(b, s);
  if (s->out_tokens < 0) { /* not yet (a clock step): again */
    uint64_t rate = s->he->u.host.limits.output_rate;
    wd_broker_after(b, (uint64_t)(-s->out_tokens) * 1000 / rate + 1,
                    rate_resume, s);
    return;
  }
  s->out_slow = 0;
  set_paused(s);
}

/* 'n' more bytes of host 's' wait: past its output_buffer, or past its
** output_rate, stop reading it. */
static void charge(wd_broker *b, hslot *s, size_t n) {
  uint64_t max = limit_of(s), rate = s->he->u.host.limits.output_rate;
  s->out_bytes += n;
  if (!s->out_paused && max != 0 && s->out_bytes >= max) {
    s->out_paused = 1;
    set_paused(s);
  }
  if (rate == 0) return;
  refill(b, s);
  s->out_tokens -= (int64_t)n;
  if (s->out_tokens < 0 && !s->out_slow) {
    s->out_slow = 1;
    set_paused(s);
    if (!s->out_told) {
      s->out_told = 1;
      fprintf(stderr, "ward: host %s: printing faster than its output_rate "
              "(%llu bytes/s): it waits\n", s->id, (unsigned long long)rate);
    }
    wd_broker_after(b, (uint64_t)(-s->out_tokens) * 1000 / rate + 1,
                    rate_resume, s);
  }
}

/* 'n' bytes of host 's' are out: read it again once half its bound is
** free (not at once, so that a host printing steadily is paused and
** resumed a few times per buffer rather than per write). */
static void release(hslot *s, size_t n) {
  s->out_bytes -= n;
  if (s->out_paused && s->out_bytes <= limit_of(s) / 2) {
    s->out_paused = 0;
    set_paused(s);
  }
}

/* }====== */

/* {====== Writing ====== */

static void on_room(uv_poll_t *h, int status, int events);

/* Drop everything queued: the reader went away. */
static void drop_all(wd_broker *b) {
  brk_out *o = b->out;
  ochunk *c;
  o->dead = 1;
  while ((c = o->head) != NULL) {
    o->head = c->next;
    if (c->slot >= 0) release(&b->hosts[c->slot], c->len - c->off);
    wd_free(c);
  }
  o->tail = NULL;
}

/* Wait for room ('on') or stop waiting. Without a poll handle (a
** descriptor epoll refuses), writes are tried on the next turn instead. */
static void want_room(wd_broker *b, int on) {
  brk_out *o = b->out;
  if (o->polling == on || b->closed) return;
  if (on && !o->poll_init) {
    if (uv_poll_init(&b->loop, &o->poll, o->fd) != 0) {
      o->mode = OUT_SYNC;
      return;
    }
    o->poll.data = b;
    o->poll_init = 1;
  }
  if (!o->poll_init) return;
  if (on) {
    if (uv_poll_start(&o->poll, UV_WRITABLE, on_room) != 0) {
      o->mode = OUT_SYNC;
      return;
    }
  } else {
    uv_poll_stop(&o->poll);
  }
  o->polling = on;
}

/* Write from the front until the descriptor is full ('block' 0) or all
** is out. Returns 1 when some is left. */
static int write_some(wd_broker *b, int block) {
  brk_out *o = b->out;
  ochunk *c;
  while ((c = o->head) != NULL) {
    size_t k = c->len - c->off;
    ssize_t n;
    if (o->mode == OUT_SOCK) do
        n = send(o->fd, c->data + c->off, k,
                 MSG_NOSIGNAL | (block ? 0 : MSG_DONTWAIT));
      while (n == -1 && errno == EINTR);
    else
      do
        n = write(o->fd, c->data + c->off, k);
      while (n == -1 && errno == EINTR);
    if (n < 0) {
      if (errno == EAGAIN || errno == EWOULDBLOCK) return 1;
      drop_all(b); /* EPIPE and the like: nobody will read it */
      return 0;
    }
    c->off += (size_t)n;
    if (c->slot >= 0) release(&b->hosts[c->slot], (size_t)n);
    if (c->off < c->len) continue;
    o->head = c->next;
    if (o->head == NULL) o->tail = NULL;
    wd_free(c);
  }
  return 0;
}

void wd__brk_out_flush(wd_broker *b) {
  brk_out *o = b->out;
  if (o == NULL || o->head == NULL || o->polling) return;
  if (write_some(b, 0) && o->mode != OUT_SYNC) want_room(b, 1);
}

static void on_room(uv_poll_t *h, int status, int events) {
  wd_broker *b = h->data;
  (void)events;
  if (status < 0) { /* the reader is gone */
    want_room(b, 0);
    drop_all(b);
    return;
  }
  if (!write_some(b, 0)) want_room(b, 0);
}

/* }====== */

/* {====== Queueing ====== */

void wd__brk_out_put(wd_broker *b, int slot, const char *s, size_t n) {
  brk_out *o = b->out;
  ochunk *c;
  if (o == NULL || o->dead || n == 0) return;
  c = o->tail;
  if (c == NULL || c->slot != slot || c->cap - c->len < n) {
    size_t cap = n > CHUNK ? n : CHUNK;
    if ((c = wd_malloc(sizeof *c + cap)) == NULL) return; /* dropped */
    c->next = NULL;
    c->slot = slot;
    c->len = c->off = 0;
    c->cap = cap;
    if (o->tail)
      o->tail->next = c;
    else
      o->head = c;
    o->tail = c;
  }
  memcpy(c->data + c->len, s, n);
  c->len += n;
  if (slot >= 0) charge(b, &b->hosts[slot], n);
}

void wd_broker_printf(wd_broker *b, const char *fmt, ...) {
  char line[4096];
  va_list ap;
  int n;
  va_start(ap, fmt);
  n = vsnprintf(line, sizeof line, fmt, ap);
  va_end(ap);
  if (n < 0) return;
  if ((size_t)n >= sizeof line) n = (int)sizeof line - 1;
  wd__brk_out_put(b, -1, line, (size_t)n);
}

/* }====== */

/* {====== The end ====== */

static void poll_closed(uv_handle_t *h) {
  (void)h;
}

void wd__brk_out_stop(wd_broker *b) {
  brk_out *o = b->out;
  if (o == NULL || !o->poll_init) return;
  o->polling = 0;
  o->poll_init = 0;
  uv_close((uv_handle_t *)&o->poll, poll_closed);
}

/* Write what is left, blocking: a descriptor of our own is made blocking
** (nobody else has it), fd 1's flags are put back. Bounded by what was
** accepted, each host's share by its output_buffer. */
void wd__brk_out_drain(wd_broker *b) {
  brk_out *o = b->out;
  int fl;
  if (o == NULL) return;
  if (o->own_fd && (fl = fcntl(o->fd, F_GETFL)) >= 0)
    (void)fcntl(o->fd, F_SETFL, fl & ~O_NONBLOCK);
  if (o->restore_fl >= 0) {
    (void)fcntl(STDOUT_FILENO, F_SETFL, o->restore_fl);
    o->restore_fl = -1;
  }
  while (o->head != NULL && !o->dead)
    if (write_some(b, 1)) drop_all(b); /* still EAGAIN: not ours to fix */
}

void wd__brk_out_free(wd_broker *b) {
  brk_out *o = b->out;
  ochunk *c;
  if (o == NULL) return;
  while ((c = o->head) != NULL) {
    o->head = c->next;
    wd_free(c);
  }
  if (o->restore_fl >= 0) (void)fcntl(STDOUT_FILENO, F_SETFL, o->restore_fl);
  if (o->own_fd) close(o->fd);
  wd_free(o);
  b->out = NULL;
}

/* }====== */
