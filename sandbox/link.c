/*
** sandbox/link.c
** Link transport: signed frames over a SOCK_SEQPACKET socket on libuv.
** Runs in: broker and host (the same code on both ends).
*/
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "ward/wd_link.h"
#include "ward/wd_proto.h"

struct wd_frameq {
  wd_frameq *next;
  size_t len;
  uint8_t data[];
};

/* The link failed: stop it and tell its owner, once. A link its owner has
** closed (maybe from inside a callback, killing the peer) is the owner's
** no more: nobody is told (the owner may have a new link by now). */
static void link_fail(wd_link *l, int code, const char *why) {
  if (l->failed || l->closing) return;
  l->failed = 1;
  if (!l->closing) uv_poll_stop(&l->poll);
  if (l->on_fail) l->on_fail(l, code, why);
}

static void on_poll(uv_poll_t *h, int status, int events);

/* Poll for what the link needs now: frames to read unless paused, room
** to write while frames wait. uv_poll_start also sets the callback: it
** must be given every time (a NULL one is called on the next event). */
static int update_events(wd_link *l) {
  unsigned ev = (l->paused ? 0u : (unsigned)UV_READABLE) |
                (l->qhead != NULL ? (unsigned)UV_WRITABLE : 0u);
  if (l->failed || l->closing) return 0;
  if (ev == l->events) return 0;
  l->events = ev;
  if (ev == 0) return uv_poll_stop(&l->poll) == 0 ? 0 : WD_EIO;
  return uv_poll_start(&l->poll, (int)ev, on_poll) == 0 ? 0 : WD_EIO;
}

/* Write queued frames until the socket would block. Returns 0 (all
** gone), 1 (the socket is full) or a negative errno. */
static int drain_queue(wd_link *l) {
  int had = l->qhead != NULL;
  while (l->qhead != NULL) {
    wd_frameq *f = l->qhead;
    ssize_t n;
    do n = send(l->fd, f->data, f->len, MSG_DONTWAIT | MSG_NOSIGNAL);
    while (n == -1 && errno == EINTR);
    if (n == -1) {
      if (errno == EAGAIN || errno == EWOULDBLOCK) return 1;
      return -errno;
    }
    l->qhead = f->next;
    if (l->qhead == NULL) l->qtail = NULL;
    l->qbytes -= f->len;
    wd_free(f);
  }
  if (had && l->on_drain) l->on_drain(l);
  return 0;
}

/* The peer is gone (not a protocol error). */
static int gone(int code) {
  return code == -EPIPE || code == -ECONNRESET || code == -ENOTCONN;
}

void wd_link_tune_socket(int fd) {
  int sz = (int)(WD_LINK_MAX_PAYLOAD * 2 + 4096);
  /* SO_*BUFFORCE works for root; fall back to the capped variants. */
  if (setsockopt(fd, SOL_SOCKET, SO_SNDBUFFORCE, &sz, sizeof sz) != 0)
    (void)setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &sz, sizeof sz);
  if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &sz, sizeof sz) != 0)
    (void)setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &sz, sizeof sz);
}

int wd_link_init(uv_loop_t *loop, wd_link *l, int fd, const uint8_t ktx[32],
                 const uint8_t krx[32]) {
  int r;
  memset(l, 0, sizeof *l);
  l->fd = fd;
  wd_buf_init(&l->batch, 0);
  l->rcap = WD_LINK_MAX_PAYLOAD + WD_IPC_OVERHEAD;
  l->rbuf = wd_malloc(l->rcap);
  if (l->rbuf == NULL) return WD_ENOMEM;
  if ((r = wd_ipc_init(&l->ipc, ktx, krx, WD_LINK_MAX_PAYLOAD)) < 0) {
    wd_free(l->rbuf);
    return r;
  }
  if (uv_poll_init(loop, &l->poll, fd) != 0) {
    wd_ipc_close(&l->ipc);
    wd_free(l->rbuf);
    return WD_EIO;
  }
  l->poll.data = l;
  l->events = UV_READABLE;
  uv_poll_start(&l->poll, UV_READABLE, on_poll);
  return 0;
}

size_t wd_link_backlog(const wd_link *l) {
  return l->qbytes + (l->sealed ? 0 : l->batch.len);
}

void wd_link_pause(wd_link *l, int on) {
  if (l->paused == !!on) return;
  l->paused = !!on;
  if (update_events(l) < 0) link_fail(l, WD_EIO, "poll failed");
}

/*
** The batch is the frame being built: a non-empty batch starts with
** WD_IPC_HDRLEN bytes left for the header, and wd_link_flush seals it in
** place (header in front, tag appended) and sends it from there, so a
** frame is copied only when the socket cannot take it at once.
*/
#define PAYLOAD_LEN(l) ((l)->batch.len - WD_IPC_HDRLEN)

static int enqueue(wd_link *l, const uint8_t *frame, size_t len);
static int send_frame(wd_link *l, const uint8_t *frame, size_t len);

/* A frame that wd_link_flush_nowait sealed in the batch but could not
** send leaves now, or joins the queue: it goes before anything newer. */
static void settle_sealed(wd_link *l) {
  size_t flen = l->sealed;
  int r;
  if (flen == 0) return;
  l->sealed = 0;
  l->qbytes -= flen;
  r = l->qhead == NULL ? send_frame(l, l->batch.p, flen) : 1;
  if (r == 1 && enqueue(l, l->batch.p, flen) < 0) r = WD_ENOMEM;
  wd_buf_reset(&l->batch);
  if (r < 0)
    link_fail(l, gone(r) ? 0 : r,
              r == WD_ENOMEM ? "out of memory" : "write failed");
  else if (r == 1)
    (void)update_events(l);
}

/* Room for the header of a new batch. */
static void batch_open(wd_link *l) {
  static const uint8_t room[WD_IPC_HDRLEN];
  if (l->sealed) settle_sealed(l);
  if (l->batch.len == 0) wd_buf_put(&l->batch, room, sizeof room);
}

size_t wd_link_rec_begin(wd_link *l, uint8_t rtype) {
  batch_open(l);
  return wd_ipc_rec_begin(&l->batch, rtype);
}

int wd_link_rec_end(wd_link *l, size_t start) {
  wd_ipc_rec_end(&l->batch, start);
  if (l->batch.err != 0 || start < WD_IPC_HDRLEN ||
      l->batch.len - start > WD_LINK_MAX_PAYLOAD) {
    /* Drop the oversized record but keep the ones before it. */
    l->batch.len = start < WD_IPC_HDRLEN ? 0 : start;
    l->batch.err = 0;
    return WD_ETOOBIG;
  }
  if (PAYLOAD_LEN(l) > WD_LINK_MAX_PAYLOAD) {
    /* The record does not fit with the others: seal those first. */
    size_t rlen = l->batch.len - start;
    uint8_t *tmp = wd_malloc(rlen);
    if (tmp == NULL) return WD_ENOMEM;
    memcpy(tmp, l->batch.p + start, rlen);
    l->batch.len = start;
    wd_link_flush(l);
    batch_open(l);
    wd_buf_put(&l->batch, tmp, rlen);
    wd_free(tmp);
  }
  if (PAYLOAD_LEN(l) >= WD_LINK_BATCH_SOFT) return wd_link_flush(l);
  return 0;
}

/* Queue a copy of a sealed frame the socket did not take. */
static int enqueue(wd_link *l, const uint8_t *frame, size_t len) {
  wd_frameq *f = wd_malloc(sizeof *f + len);
  if (f == NULL) return WD_ENOMEM;
  f->next = NULL;
  f->len = len;
  memcpy(f->data, frame, len);
  if (l->qtail) l->qtail->next = f;
  else l->qhead = f;
  l->qtail = f;
  l->qbytes += len;
  return 0;
}

/* Send one datagram. Returns 0 (sent whole), 1 (the socket is full) or a
** negative errno. */
static int send_frame(wd_link *l, const uint8_t *frame, size_t len) {
  ssize_t n;
  do n = send(l->fd, frame, len, MSG_DONTWAIT | MSG_NOSIGNAL);
  while (n == -1 && errno == EINTR);
  if (n == -1) {
    if (errno == EAGAIN || errno == EWOULDBLOCK) return 1;
    return -errno;
  }
  return 0;
}

int wd_link_flush_nowait(wd_link *l) {
  size_t plen, flen;
  int r, saved = errno;
  if (l->failed || l->closing || l->sealed || l->qhead != NULL ||
      l->batch.len <= WD_IPC_HDRLEN || l->batch.err != 0 ||
      l->batch.cap - l->batch.len < WD_IPC_TAGLEN)
    return 0;
  plen = PAYLOAD_LEN(l);
  flen = WD_IPC_OVERHEAD + plen;
  if (wd_ipc_seal_parts(&l->ipc, WD_F_BATCH, l->batch.p + WD_IPC_HDRLEN, plen,
                        l->batch.p, l->batch.p + WD_IPC_HDRLEN + plen) < 0)
    return 0;
  l->frames_out++;
  l->bytes_out += flen;
  r = send_frame(l, l->batch.p, flen);
  errno = saved;
  if (r == 0) {
    l->batch.len = 0;
    return 1;
  }
  /* Sealed, so it must leave (the sequence number is spent): it waits in
  ** the batch, and an error is the next flush's to report. */
  l->batch.len = flen;
  l->sealed = flen;
  l->qbytes += flen;
  return 0;
}

int wd_link_flush(wd_link *l) {
  size_t plen, flen;
  int r;
  if (l->failed || l->closing) {
    wd_buf_reset(&l->batch);
    l->qbytes -= l->sealed;
    l->sealed = 0;
    return l->failed ? WD_EIO : 0;
  }
  if (l->sealed) {
    settle_sealed(l);
    if (l->failed) return WD_EIO;
  }
  if (l->batch.len > WD_IPC_HDRLEN) {
    plen = PAYLOAD_LEN(l);
    flen = WD_IPC_OVERHEAD + plen;
    if ((r = wd_buf_reserve(&l->batch, WD_IPC_TAGLEN)) == 0)
      r = wd_ipc_seal_parts(&l->ipc, WD_F_BATCH, l->batch.p + WD_IPC_HDRLEN,
                            plen, l->batch.p,
                            l->batch.p + WD_IPC_HDRLEN + plen);
    if (r < 0) {
      wd_buf_reset(&l->batch);
      link_fail(l, r, "cannot seal frame");
      return r;
    }
    l->frames_out++;
    l->bytes_out += flen;
    /* Frames leave in order: straight from the batch only when none waits
    ** before it. */
    r = l->qhead == NULL ? send_frame(l, l->batch.p, flen) : 1;
    if (r == 1 && enqueue(l, l->batch.p, flen) < 0) {
      wd_buf_reset(&l->batch);
      link_fail(l, WD_ENOMEM, "out of memory");
      return WD_ENOMEM;
    }
    wd_buf_reset(&l->batch);
    if (r < 0) {
      link_fail(l, gone(r) ? 0 : r, "write failed");
      return r;
    }
  } else {
    wd_buf_reset(&l->batch);
  }
  if (l->qhead == NULL) return 0;
  r = drain_queue(l);
  if (r < 0) {
    link_fail(l, gone(r) ? 0 : r, "write failed");
    return r;
  }
  return update_events(l);
}

/* Verify one datagram and hand its records to the owner. */
static int handle_frame(wd_link *l, const uint8_t *p, size_t n) {
  uint8_t type;
  const uint8_t *payload;
  size_t plen;
  wd_cur c, body;
  uint8_t rtype;
  int r;
  if ((r = wd_ipc_open(&l->ipc, p, n, &type, &payload, &plen)) < 0) {
    link_fail(l, r, wd_strerror(r));
    return r;
  }
  if (type != WD_F_BATCH) {
    link_fail(l, WD_EBADFRAME, "unknown frame type");
    return WD_EBADFRAME;
  }
  l->frames_in++;
  wd_cur_init(&c, payload, plen);
  while ((r = wd_ipc_rec_next(&c, &rtype, &body)) == 1) {
    if ((r = l->on_rec(l, rtype, &body)) < 0) {
      link_fail(l, r, "bad record");
      return r;
    }
    if (l->failed || l->closing) return WD_EIO;
  }
  if (r < 0) link_fail(l, r, "malformed record");
  return r;
}

static void on_poll(uv_poll_t *h, int status, int events) {
  wd_link *l = h->data;
  size_t got;
  int i;
  /* A peer that died with frames unread shows as a poll error or a reset
  ** connection: that is the end of the link (code 0), not a bad frame, so
  ** the owner can find out how the peer really ended. */
  if (status < 0) {
    link_fail(l, 0, uv_strerror(status));
    return;
  }
  if (events & UV_WRITABLE) {
    int r = drain_queue(l);
    if (r < 0) {
      link_fail(l, gone(r) ? 0 : r, "write failed");
      return;
    }
    if (update_events(l) < 0) {
      link_fail(l, WD_EIO, "poll failed");
      return;
    }
  }
  if (!(events & UV_READABLE)) return;
  /* Bounded per wakeup, in frames and in bytes (at least one frame), so
  ** that one busy peer cannot starve the others, nor one peer's big
  ** frames the small ones of the others: the poll is level-triggered, so
  ** what is left comes back on the next turn of the loop, after the
  ** other links had theirs. A pause from a record stops reading after
  ** its frame. */
  for (i = 0, got = 0; i < WD_LINK_READ_FRAMES && got < WD_LINK_BATCH_SOFT &&
                       !l->failed && !l->closing && !l->paused;
       i++) {
    ssize_t n;
    do n = recv(l->fd, l->rbuf, l->rcap, MSG_DONTWAIT | MSG_TRUNC);
    while (n == -1 && errno == EINTR);
    if (n == -1) {
      if (errno == EAGAIN || errno == EWOULDBLOCK) return;
      link_fail(l, gone(-errno) ? 0 : -errno, "read failed");
      return;
    }
    if (n == 0) {
      link_fail(l, 0, "end of file");
      return;
    }
    if ((size_t)n > l->rcap) {
      link_fail(l, WD_ETOOBIG, "frame larger than the maximum");
      return;
    }
    got += (size_t)n;
    if (handle_frame(l, l->rbuf, (size_t)n) < 0) return;
  }
}

void wd_link_close(wd_link *l, uv_close_cb cb) {
  wd_frameq *f;
  if (l->closing) return;
  l->closing = 1;
  uv_poll_stop(&l->poll);
  while ((f = l->qhead) != NULL) {
    l->qhead = f->next;
    wd_free(f);
  }
  l->qtail = NULL;
  l->qbytes = 0;
  l->sealed = 0;
  wd_ipc_close(&l->ipc);
  wd_buf_close(&l->batch);
  wd_free(l->rbuf);
  l->rbuf = NULL;
  if (l->fd >= 0) close(l->fd);
  l->fd = -1;
  uv_close((uv_handle_t *)&l->poll, cb);
}
