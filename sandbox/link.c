/*
** sandbox/link.c
** Link transport: signed frames over a SOCK_SEQPACKET socket on libuv;
** records too big for a batch go in fragments, between batches, and are
** reassembled on the other end (wd_link.h, wd_proto.h WD_F_FRAG).
** Runs in: broker and host (the same code on both ends).
*/
#include <stdint.h>
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

/* A record that goes in fragments ('frag'), or one that waits behind
** such a record; its bytes are p[off, off + len), 'sent' of them gone,
** in an allocation of 'cap' bytes (0: unknown). */
struct wd_slowrec {
  wd_slowrec *next;
  uint8_t *p;
  size_t off, len, sent, cap;
  uint64_t lane;
  int frag;
};

static uint32_t get_u32(const uint8_t *p) {
  return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
         (uint32_t)p[3] << 24;
}

static void set_u32(uint8_t *p, uint32_t v) {
  p[0] = (uint8_t)v;
  p[1] = (uint8_t)(v >> 8);
  p[2] = (uint8_t)(v >> 16);
  p[3] = (uint8_t)(v >> 24);
}

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
  unsigned ev = (l->paused && !l->peer_gone ? 0u : (unsigned)UV_READABLE) |
                (l->qhead != NULL || l->shead != NULL ? (unsigned)UV_WRITABLE
                                                      : 0u);
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
  if (had && l->shead == NULL && l->on_drain) l->on_drain(l);
  return 0;
}

/* The peer is gone (not a protocol error). */
static int gone(int code) {
  return code == -EPIPE || code == -ECONNRESET || code == -ENOTCONN;
}

static void slow_count(wd_link *l, const wd_slowrec *r, int d);

/* Drop everything waiting to leave: frames, fragment streams, the batch. */
static void discard_output(wd_link *l) {
  wd_frameq *f;
  while ((f = l->qhead) != NULL) {
    l->qhead = f->next;
    wd_free(f);
  }
  l->qtail = NULL;
  l->qbytes = 0;
  l->sealed = 0;
  while (l->shead != NULL) {
    wd_slowrec *r = l->shead;
    l->shead = r->next;
    slow_count(l, r, -1);
    wd_free(r->p);
    wd_free(r);
  }
  l->stail = NULL;
  l->sbytes = 0;
  wd_free(l->ext_buf);
  l->ext_buf = NULL;
  wd_buf_reset(&l->batch);
}

void wd_link_peer_gone(wd_link *l) {
  if (l->failed || l->closing || l->peer_gone) return;
  l->peer_gone = 1;
  discard_output(l);
  if (update_events(l) < 0) link_fail(l, WD_EIO, "poll failed");
}

/* A write failed with 'r': a peer that is gone is not a failure yet (its
** last frames are read first, then its end fails the link); anything
** else fails it now. Returns 0 or 'r'. */
static int write_failed(wd_link *l, int r, const char *why) {
  if (gone(r)) {
    wd_link_peer_gone(l);
    return 0;
  }
  link_fail(l, r, why);
  return r;
}

void wd_link_tune_socket(int fd) {
  int sz = (int)(WD_LINK_MAX_PAYLOAD * 2 + 4096);
  /* The kernel doubles it and counts its own overhead in it: about four
  ** maximum frames, or a few fragments, wait in the socket at most. */
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
  l->max_rec = WD_LINK_REC_MIN;
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

void wd_link_set_max_payload(wd_link *l, uint64_t max_payload) {
  uint64_t m = max_payload > UINT32_MAX - WD_LINK_REC_SLACK
                   ? UINT32_MAX
                   : max_payload + WD_LINK_REC_SLACK;
  l->max_rec = m < WD_LINK_REC_MIN ? WD_LINK_REC_MIN : (size_t)m;
}

size_t wd_link_backlog(const wd_link *l) {
  size_t n = l->qbytes + (l->sealed ? 0 : l->batch.len) + l->sbytes;
  /* The record going now is not counted: the bound is one record more. */
  if (l->shead != NULL && l->shead->frag)
    n -= l->shead->len - l->shead->sent;
  return n;
}

int wd_link_idle(const wd_link *l) {
  return l->qhead == NULL && l->shead == NULL && l->sealed == 0 &&
         l->batch.len == 0;
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
    (void)write_failed(l, r,
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
  if (l->ext_buf != NULL) { /* a record begun and never ended */
    wd_free(l->ext_buf);
    l->ext_buf = NULL;
  }
  batch_open(l);
  l->lane = WD_LINK_LANE_ALL;
  return wd_ipc_rec_begin(&l->batch, rtype);
}

void wd_link_rec_lane(wd_link *l, uint64_t lane) {
  l->lane = lane;
}

uint64_t wd_link_lane_of(const char *s, size_t n) {
  uint64_t h = 14695981039346656037ull; /* FNV-1a */
  size_t i;
  for (i = 0; i < n; i++) h = (h ^ (uint8_t)s[i]) * 1099511628211ull;
  if (h == WD_LINK_LANE_ALL || h == WD_LINK_LANE_FREE) h = 1;
  return h;
}

static unsigned lane_bucket(uint64_t lane) {
  return (unsigned)((lane ^ lane >> 29) % WD_LINK_LANES);
}

/* Must a record of 'lane' wait behind the records in the slow queue? */
static int must_wait(const wd_link *l, uint64_t lane) {
  if (l->shead == NULL) return 0;
  if (l->sbarrier > 0 || lane == WD_LINK_LANE_ALL) return 1;
  if (lane == WD_LINK_LANE_FREE) return 0;
  return l->slanes[lane_bucket(lane)] != 0;
}

static void slow_count(wd_link *l, const wd_slowrec *r, int d) {
  if (r->lane == WD_LINK_LANE_ALL)
    l->sbarrier = (unsigned)((int)l->sbarrier + d);
  else if (r->lane != WD_LINK_LANE_FREE)
    l->slanes[lane_bucket(r->lane)] =
        (uint32_t)((int64_t)l->slanes[lane_bucket(r->lane)] + d);
}

static void slow_append(wd_link *l, wd_slowrec *r) {
  if (l->stail) l->stail->next = r;
  else l->shead = r;
  l->stail = r;
  l->sbytes += r->len;
  slow_count(l, r, 1);
}

/*
** Move the record at 'start' (its 'rlen' bytes end the batch) to the slow
** queue. A big one takes the batch's buffer with it, and the records
** before it (at most a batch) are copied to a new one: the big record is
** never copied. A small one (waiting behind a big one) is copied.
*/
static int to_slow(wd_link *l, size_t start, size_t rlen, uint64_t lane,
                   int frag) {
  wd_slowrec *r = wd_malloc(sizeof *r);
  if (r == NULL) return WD_ENOMEM;
  memset(r, 0, sizeof *r);
  r->lane = lane;
  r->frag = frag;
  r->len = rlen;
  if (frag) {
    wd_buf rest;
    wd_buf_init(&rest, 0);
    if (start > WD_IPC_HDRLEN) {
      wd_buf_put(&rest, l->batch.p, start);
      if (rest.err != 0) {
        wd_buf_close(&rest);
        wd_free(r);
        return WD_ENOMEM;
      }
    }
    r->p = l->batch.p;
    r->off = start;
    r->cap = l->batch.cap;
    l->batch = rest;
  } else {
    if ((r->p = wd_malloc(rlen)) == NULL) {
      wd_free(r);
      return WD_ENOMEM;
    }
    memcpy(r->p, l->batch.p + start, rlen);
    l->batch.len = start;
  }
  if (l->batch.len <= WD_IPC_HDRLEN) l->batch.len = 0;
  slow_append(l, r);
  return 0;
}

/* Do the 'n' bytes at 'p' lie in the record 'l' hands to its owner (its
** body)? */
static int in_rx(const wd_link *l, const void *p, size_t n) {
  uintptr_t a = (uintptr_t)p, b = (uintptr_t)l->rx_rec;
  return l->rx_rec != NULL && a >= b + WD_IPC_RECHDRLEN &&
         a - b <= l->rx_len && n <= l->rx_len - (a - b);
}

void wd_link_rec_put_from(wd_link *l, wd_link *src, const void *p, size_t n) {
  if (src != NULL && l->ext_buf == NULL && l->batch.err == 0 &&
      n > WD_LINK_REC_WHOLE && in_rx(src, p, n)) {
    l->ext_buf = src->rx_rec - WD_LINK_RX_FRONT;
    /* handle_frag's room and slack */
    l->ext_cap = WD_LINK_RX_FRONT + src->rx_len + WD_IPC_TAGLEN;
    l->ext_off = (size_t)((const uint8_t *)p - l->ext_buf);
    l->ext_len = n;
    l->ext_at = l->batch.len;
    src->rx_rec = NULL;
    return;
  }
  wd_buf_put(&l->batch, p, n);
}

void wd_link_rec_put_own(wd_link *l, uint8_t *buf, size_t cap, size_t off,
                         size_t n) {
  if (l->ext_buf == NULL && l->batch.err == 0 && n > WD_LINK_REC_WHOLE &&
      off <= cap && n <= cap - off) {
    l->ext_buf = buf;
    l->ext_cap = cap;
    l->ext_off = off;
    l->ext_len = n;
    l->ext_at = l->batch.len;
    return;
  }
  wd_buf_put(&l->batch, buf + off, n);
  wd_free(buf);
}

void *wd_link_rx_take(wd_link *l, const void *p, size_t n, size_t front) {
  uint8_t *base;
  if (!in_rx(l, p, n) ||
      (size_t)((const uint8_t *)p - l->rx_rec) + WD_LINK_RX_FRONT < front)
    return NULL;
  base = l->rx_rec - WD_LINK_RX_FRONT;
  l->rx_rec = NULL;
  return base;
}

/* The bytes taken by wd_link_rec_put_from cannot be used in place: copy
** them where they belong in the batch, as wd_buf_put would have. */
static void ext_copy(wd_link *l) {
  uint8_t *buf = l->ext_buf;
  wd_buf *w = &l->batch;
  l->ext_buf = NULL;
  if (w->err == 0 && l->ext_at > w->len) w->err = WD_EINVAL;
  if (w->err == 0 && wd_buf_reserve(w, l->ext_len) == 0) {
    memmove(w->p + l->ext_at + l->ext_len, w->p + l->ext_at,
            w->len - l->ext_at);
    memcpy(w->p + l->ext_at, buf + l->ext_off, l->ext_len);
    w->len += l->ext_len;
  }
  wd_free(buf);
}

/*
** End the record at 'start', which goes on with the bytes taken by
** wd_link_rec_put_from: nothing follows them and its 'hl' bytes in the
** batch fit in front of them in their buffer (the record they came in had
** a header at least as long). The head moves there, the length field is
** patched, and the buffer, now holding the whole record, joins the slow
** queue as a record that goes in fragments: forwarding it copies only
** its head.
*/
static int ext_end(wd_link *l, size_t start, uint64_t lane) {
  uint8_t *buf = l->ext_buf, *rec;
  size_t hl = l->batch.len - start, total = hl + l->ext_len;
  wd_slowrec *r = NULL;
  int code = 0;
  l->ext_buf = NULL;
  if (total > l->max_rec || total - WD_IPC_RECHDRLEN > UINT32_MAX)
    code = WD_ETOOBIG;
  else if ((r = wd_malloc(sizeof *r)) == NULL)
    code = WD_ENOMEM;
  if (code == 0) {
    rec = buf + l->ext_off - hl;
    memcpy(rec, l->batch.p + start, hl);
    set_u32(rec + 1, (uint32_t)(total - WD_IPC_RECHDRLEN));
    memset(r, 0, sizeof *r);
    r->p = buf;
    r->off = (size_t)(rec - buf);
    r->cap = l->ext_cap;
    r->len = total;
    r->lane = lane;
    r->frag = 1;
    slow_append(l, r);
  } else {
    wd_free(buf);
  }
  l->batch.len = start <= WD_IPC_HDRLEN ? 0 : start;
  return code;
}

int wd_link_rec_end(wd_link *l, size_t start) {
  uint64_t lane = l->lane;
  size_t rlen;
  int big;
  l->lane = WD_LINK_LANE_ALL;
  if (l->ext_buf != NULL) {
    if (l->batch.err == 0 && start >= WD_IPC_HDRLEN &&
        l->ext_at >= start + WD_IPC_RECHDRLEN &&
        l->ext_at == l->batch.len && l->batch.len - start <= l->ext_off)
      return ext_end(l, start, lane);
    ext_copy(l);
  }
  wd_ipc_rec_end(&l->batch, start);
  if (l->batch.err != 0 || start < WD_IPC_HDRLEN ||
      l->batch.len - start > l->max_rec) {
    int r = l->batch.err == WD_ENOMEM ? WD_ENOMEM : WD_ETOOBIG;
    /* Drop the oversized record but keep the ones before it. */
    l->batch.len = start <= WD_IPC_HDRLEN ? 0 : start;
    l->batch.err = 0;
    return r;
  }
  rlen = l->batch.len - start;
  big = rlen > WD_LINK_REC_WHOLE;
  if (big || must_wait(l, lane)) {
    int r = to_slow(l, start, rlen, lane, big);
    if (r < 0) {
      l->batch.len = start <= WD_IPC_HDRLEN ? 0 : start;
      return r;
    }
    /* Flushed at the end of the turn, as a batch is. */
    return 0;
  }
  if (PAYLOAD_LEN(l) > WD_LINK_MAX_PAYLOAD) {
    /* The record does not fit with the others: seal those first. */
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
  if (l->failed || l->closing || l->peer_gone || l->sealed ||
      l->qhead != NULL ||
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

/* Seal the batch and send it, then the frames waiting before it as the
** socket takes them. Returns 0 or a negative code (the link has failed). */
static int flush_batch(wd_link *l) {
  size_t plen, flen;
  int r;
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
    if (r < 0) return write_failed(l, r, "write failed");
  } else {
    wd_buf_reset(&l->batch);
  }
  if (l->qhead == NULL) return 0;
  r = drain_queue(l);
  return r < 0 ? write_failed(l, r, "write failed") : 0;
}

/* Seal the batch and put it at the end of the frame queue. 0 or a
** negative code (the link has failed). */
static int batch_to_queue(wd_link *l) {
  size_t plen = PAYLOAD_LEN(l), flen = WD_IPC_OVERHEAD + plen;
  int r;
  if ((r = wd_buf_reserve(&l->batch, WD_IPC_TAGLEN)) == 0)
    r = wd_ipc_seal_parts(&l->ipc, WD_F_BATCH, l->batch.p + WD_IPC_HDRLEN,
                          plen, l->batch.p, l->batch.p + WD_IPC_HDRLEN + plen);
  if (r == 0) r = enqueue(l, l->batch.p, flen);
  wd_buf_reset(&l->batch);
  if (r < 0) {
    link_fail(l, r, "cannot seal frame");
    return r;
  }
  l->frames_out++;
  l->bytes_out += flen;
  return 0;
}

/* The head of the slow queue has gone: take it off, and put the records
** that waited behind it into the batch (up to the next big one), in
** order, after what the batch holds (nothing there is of their lanes).
** More than a frame holds may have waited (a process that printed a
** megabyte, then many lines): each full batch goes to the frame queue. */
static void slow_pop(wd_link *l) {
  wd_slowrec *r = l->shead;
  l->shead = r->next;
  if (l->shead == NULL) l->stail = NULL;
  slow_count(l, r, -1);
  wd_free(r->p);
  wd_free(r);
  while ((r = l->shead) != NULL && !r->frag) {
    if (!l->sealed && l->batch.len > WD_IPC_HDRLEN &&
        PAYLOAD_LEN(l) + r->len > WD_LINK_BATCH_SOFT &&
        batch_to_queue(l) < 0)
      return;
    batch_open(l);
    wd_buf_put(&l->batch, r->p, r->len);
    l->sbytes -= r->len;
    l->shead = r->next;
    if (l->shead == NULL) l->stail = NULL;
    slow_count(l, r, -1);
    wd_free(r->p);
    wd_free(r);
  }
}

/* Bytes in front of a fragment's data: the frame and fragment headers. */
#define FRAG_FRONT (WD_IPC_HDRLEN + WD_LINK_FRAG_HDR)

/*
** Send the next fragment of the record at the head of the slow queue:
** [u32 stream | u32 offset | up to WD_LINK_FRAG bytes of the record],
** sent like a frame. Only with no frame waiting before it. A host may
** send only with send(2) (seccomp: no sendmsg), so the frame must be one
** run of bytes; it is built in place around the data when the record's
** buffer has room: the FRAG_FRONT bytes in front of the data are record
** bytes already sent (or, for the first fragment, bytes before the
** record that nothing reads any more: the batch's earlier records were
** copied out, a forwarded record's old head was parsed), and the
** WD_IPC_TAGLEN bytes after it (the next fragment's data, or the slack
** after the record) are kept aside and put back once the frame left or
** was copied into the queue. Otherwise (no room) the frame is built in
** 'fbuf', a copy. Returns 0 or a negative code (the link has failed).
*/
static int slow_step(wd_link *l) {
  wd_slowrec *q = l->shead;
  uint8_t *f, *pl, *data, keep[WD_IPC_TAGLEN];
  size_t n, flen;
  int r, inplace;
  if (q == NULL || !q->frag) return 0;
  memset(keep, 0, sizeof keep);
  n = q->len - q->sent < WD_LINK_FRAG ? q->len - q->sent : WD_LINK_FRAG;
  data = q->p + q->off + q->sent;
  inplace = q->off + q->sent >= FRAG_FRONT && q->cap != 0 &&
            q->off + q->sent + n + WD_IPC_TAGLEN <= q->cap;
  if (!inplace && l->fbuf == NULL &&
      (l->fbuf = wd_malloc(WD_IPC_OVERHEAD + WD_LINK_FRAG_HDR +
                           WD_LINK_FRAG)) == NULL) {
    link_fail(l, WD_ENOMEM, "out of memory");
    return WD_ENOMEM;
  }
  if (q->sent == 0) l->tx_stream++;
  f = inplace ? data - FRAG_FRONT : l->fbuf;
  pl = f + WD_IPC_HDRLEN;
  set_u32(pl, l->tx_stream);
  set_u32(pl + 4, (uint32_t)q->sent);
  if (inplace)
    memcpy(keep, data + n, sizeof keep);
  else
    memcpy(pl + WD_LINK_FRAG_HDR, data, n);
  flen = WD_IPC_OVERHEAD + WD_LINK_FRAG_HDR + n;
  if ((r = wd_ipc_seal_parts(&l->ipc, WD_F_FRAG, pl, WD_LINK_FRAG_HDR + n, f,
                             pl + WD_LINK_FRAG_HDR + n)) < 0) {
    if (inplace) memcpy(data + n, keep, sizeof keep);
    link_fail(l, r, "cannot seal frame");
    return r;
  }
  l->frames_out++;
  l->bytes_out += flen;
  r = send_frame(l, f, flen);
  /* Sealed, so it must leave: it waits in the queue like a frame. */
  if (r == 1 && enqueue(l, f, flen) < 0) r = WD_ENOMEM;
  if (inplace) memcpy(data + n, keep, sizeof keep);
  if (r < 0) /* the stream is gone with the rest if the peer is */
    return write_failed(l, r,
                        r == WD_ENOMEM ? "out of memory" : "write failed");
  q->sent += n;
  l->sbytes -= n;
  if (q->sent == q->len) {
    slow_pop(l);
    if (l->shead == NULL && l->qhead == NULL && l->on_drain) l->on_drain(l);
  }
  return 0;
}

/*
** The batch, then one fragment when no frame waits (the socket took
** everything before it), then the batch again if the fragment ended its
** record and let the records that waited behind it go: at most one
** fragment between two batches.
*/
int wd_link_flush(wd_link *l) {
  int r;
  if (l->failed || l->closing) {
    wd_buf_reset(&l->batch);
    l->qbytes -= l->sealed;
    l->sealed = 0;
    return l->failed ? WD_EIO : 0;
  }
  if (l->peer_gone) { /* nobody reads it */
    discard_output(l);
    return 0;
  }
  if ((r = flush_batch(l)) < 0) return r;
  if (l->shead != NULL && l->qhead == NULL && !l->peer_gone) {
    if ((r = slow_step(l)) < 0) return r;
    if (l->batch.len > WD_IPC_HDRLEN && !l->peer_gone &&
        (r = flush_batch(l)) < 0)
      return r;
  }
  return update_events(l);
}

/*
** A fragment (wd_proto.h WD_F_FRAG): the first of a stream opens it
** (the next stream number, nothing open, a record over WD_LINK_REC_WHOLE
** and within 'max_rec'); each next one carries the next bytes; the last
** completes the record, handed to the owner like any. Anything else is a
** bad frame. Returns 0 or a negative code (the link has failed).
*/
static int handle_frag(wd_link *l, const uint8_t *p, size_t n) {
  uint32_t stream, off;
  size_t dn, want;
  uint8_t *rec;
  wd_cur body;
  int r;
  const char *why = NULL;
  if (n <= WD_LINK_FRAG_HDR) {
    link_fail(l, WD_EBADFRAME, "empty fragment");
    return WD_EBADFRAME;
  }
  stream = get_u32(p);
  off = get_u32(p + 4);
  p += WD_LINK_FRAG_HDR;
  dn = n - WD_LINK_FRAG_HDR;
  if (off == 0) {
    size_t total;
    if (l->rasm != NULL) why = "fragment stream opened while another is open";
    else if (stream != l->rx_stream + 1) why = "fragment stream out of order";
    else if (dn < WD_IPC_RECHDRLEN) why = "first fragment too short";
    if (why != NULL) {
      link_fail(l, WD_EBADFRAME, why);
      return WD_EBADFRAME;
    }
    total = (size_t)get_u32(p + 1) + WD_IPC_RECHDRLEN;
    if (total > l->max_rec) {
      link_fail(l, WD_ETOOBIG, "fragmented record over the maximum");
      return WD_ETOOBIG;
    }
    if (total <= WD_LINK_REC_WHOLE) {
      link_fail(l, WD_EBADFRAME, "fragmented record small enough to go whole");
      return WD_EBADFRAME;
    }
    /* The room in front is its next owner's (WD_LINK_RX_FRONT); the
    ** slack after it lets a forwarded record's last fragment be built
    ** in place (slow_step). */
    if ((l->rasm = wd_malloc(WD_LINK_RX_FRONT + total + WD_IPC_TAGLEN)) ==
        NULL) {
      link_fail(l, WD_ENOMEM, "out of memory");
      return WD_ENOMEM;
    }
    l->rasm += WD_LINK_RX_FRONT;
    l->rasm_len = total;
    l->rasm_got = 0;
    l->rx_stream = stream;
  } else if (l->rasm == NULL || stream != l->rx_stream) {
    link_fail(l, WD_EBADFRAME, "fragment of a stream never started");
    return WD_EBADFRAME;
  } else if (off != l->rasm_got) {
    link_fail(l, WD_EBADFRAME, "fragment out of order");
    return WD_EBADFRAME;
  }
  want = l->rasm_len - l->rasm_got;
  if (want > WD_LINK_FRAG) want = WD_LINK_FRAG;
  if (dn != want) {
    link_fail(l, WD_EBADFRAME, dn > want ? "fragment past its record's end"
                                         : "fragment of the wrong size");
    return WD_EBADFRAME;
  }
  memcpy(l->rasm + l->rasm_got, p, dn);
  l->rasm_got += dn;
  if (l->rasm_got < l->rasm_len) return 0;
  /* Whole: the owner gets it; the buffer is this call's (the owner may
  ** close the link from the callback). */
  rec = l->rasm;
  l->rasm = NULL;
  l->rx_rec = rec; /* the owner may take it (wd_link_rec_put_from) */
  l->rx_len = l->rasm_len;
  wd_cur_init(&body, rec + WD_IPC_RECHDRLEN, l->rasm_len - WD_IPC_RECHDRLEN);
  r = l->on_rec(l, rec[0], &body);
  if (l->rx_rec != NULL) wd_free(l->rx_rec - WD_LINK_RX_FRONT);
  l->rx_rec = NULL;
  if (r < 0) {
    link_fail(l, r, "bad record");
    return r;
  }
  return l->failed || l->closing ? WD_EIO : 0;
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
  if (type == WD_F_FRAG) {
    l->frames_in++;
    return handle_frag(l, payload, plen);
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

int wd_link_feed(wd_link *l, const uint8_t *frame, size_t n) {
  if (l->failed || l->closing) return WD_EIO;
  return handle_frame(l, frame, n);
}

/* recv(2) one frame. A reset (the peer closed with our frames unread) is
** reported once, before what the peer sent last: that is still read. */
static ssize_t recv_frame(wd_link *l) {
  ssize_t n;
  int resets = 0;
  for (;;) {
    n = recv(l->fd, l->rbuf, l->rcap, MSG_DONTWAIT | MSG_TRUNC);
    if (n != -1) return n;
    if (errno == EINTR) continue;
    if (errno != ECONNRESET || resets++ > 0) return -1;
    wd_link_peer_gone(l);
    if (l->failed) return -1;
  }
}

/* Everything the socket still holds (a gone peer's last frames: at most
** a socket buffer), ignoring the per-wakeup bounds and a pause. */
static void read_rest(wd_link *l) {
  while (!l->failed && !l->closing) {
    ssize_t n = recv_frame(l);
    if (n <= 0 || (size_t)n > l->rcap) return;
    if (handle_frame(l, l->rbuf, (size_t)n) < 0) return;
  }
}

static void on_poll(uv_poll_t *h, int status, int events) {
  wd_link *l = h->data;
  size_t got;
  int i;
  /* A peer that died with our frames unread shows as a poll error (a
  ** reset connection): that is the end of the link (code 0), not a bad
  ** frame, so the owner can find out how the peer really ended. What it
  ** sent before it died comes first (libuv polls this fd no more). */
  if (status < 0) {
    read_rest(l);
    link_fail(l, 0, uv_strerror(status));
    return;
  }
  if (events & UV_WRITABLE) {
    int r = drain_queue(l);
    if (r < 0 && write_failed(l, r, "write failed") < 0) return;
    /* The socket has room: the batch so far, then the next fragment. */
    if (l->qhead == NULL && l->shead != NULL && wd_link_flush(l) < 0) return;
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
                       !l->failed && !l->closing &&
                       (!l->paused || l->peer_gone);
       i++) {
    ssize_t n = recv_frame(l);
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
  if (l->closing) return;
  l->closing = 1;
  uv_poll_stop(&l->poll);
  discard_output(l);
  if (l->rasm != NULL) wd_free(l->rasm - WD_LINK_RX_FRONT);
  l->rasm = NULL;
  wd_free(l->fbuf);
  l->fbuf = NULL;
  wd_ipc_close(&l->ipc);
  wd_buf_close(&l->batch);
  wd_free(l->rbuf);
  l->rbuf = NULL;
  if (l->fd >= 0) close(l->fd);
  l->fd = -1;
  uv_close((uv_handle_t *)&l->poll, cb);
}
