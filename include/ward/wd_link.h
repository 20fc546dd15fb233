/*
** include/ward/wd_link.h
** One end of a broker<->host link: a SOCK_SEQPACKET socket on a libuv loop,
** carrying signed, sequence-numbered frames (wd_ipc) that batch records.
** Records queued during a loop turn go out as one frame when the turn ends
** (wd_link_flush from a prepare handle), so batching adds no latency to a
** lone message. Frames the socket cannot take wait in a queue whose bytes
** the owner reads ('qbytes') to bound it; the owner may stop reading
** (wd_link_pause) to make the peer wait. Each wakeup reads at most
** WD_LINK_READ_FRAMES frames and WD_LINK_BATCH_SOFT bytes (at least one
** frame), so one busy peer or one big frame cannot starve the others.
*/
#ifndef wd_link_h
#define wd_link_h

#include <uv.h>

#include "ward/wd_buf.h"
#include "ward/wd_ipc.h"

/* Largest frame payload on a link, and largest single record body. A
** frame is one SOCK_SEQPACKET datagram, and Linux carries unix datagrams
** only up to about 4 MiB + 64 KiB (measured: 4,263,616 bytes), so a frame
** stays under 4 MiB; the largest message payload leaves room for the
** record around it. */
#define WD_LINK_MAX_PAYLOAD ((4u << 20) - 4096u)
#define WD_LINK_MAX_MESSAGE ((4u << 20) - 65536u)
/* A batch is sealed early once it grows past this. */
#define WD_LINK_BATCH_SOFT (256u << 10)
/* Frames read per wakeup at most (and WD_LINK_BATCH_SOFT bytes). */
#define WD_LINK_READ_FRAMES 64

typedef struct wd_link wd_link;
typedef struct wd_frameq wd_frameq;

/* Called for each record of each good frame. 'body' is valid only during
** the call. Returning a negative code fails the link (bad record shape). */
typedef int (*wd_link_rec_cb)(wd_link *l, uint8_t rtype, wd_cur *body);
/* Called once when the link fails: a bad frame (code WD_EBADSIG, WD_EREPLAY,
** WD_EBADFRAME, WD_ETOOBIG), end of file (0) or an I/O error. The link is
** already stopped; the callee decides what to do with the peer. */
typedef void (*wd_link_fail_cb)(wd_link *l, int code, const char *why);
/* Called when every frame that waited for the socket has gone out. */
typedef void (*wd_link_drain_cb)(wd_link *l);

struct wd_link {
  uv_poll_t poll;
  int fd;
  wd_ipc ipc;
  wd_buf batch;      /* the frame being built: when not empty, room for
                     ** the header, then the records of the current
                     ** turn; sealed and sent in place */
  wd_frameq *qhead;  /* sealed frames the socket did not take yet */
  wd_frameq *qtail;
  size_t qbytes;     /* their bytes, and those of a frame 'sealed' */
  size_t sealed;     /* when not 0: 'batch' holds a frame of this length
                     ** that wd_link_flush_nowait sealed but could not
                     ** send; it leaves first, before any new record */
  uint8_t *rbuf;     /* one receive buffer of the maximum frame size */
  size_t rcap;
  wd_link_rec_cb on_rec;
  wd_link_fail_cb on_fail;
  wd_link_drain_cb on_drain; /* optional */
  void *data;        /* the owner (broker host slot or host) */
  int failed;
  int closing;
  int paused;        /* the owner reads no frame (wd_link_pause) */
  unsigned events;   /* UV_READABLE | UV_WRITABLE currently polled */
  uint64_t frames_in, frames_out, bytes_out;
};

/* Start polling 'fd' (already non-blocking is not required). Keys are
** copied (into sodium_malloc'd memory by wd_ipc) and may be wiped by the
** caller afterwards. Returns 0 or a negative code. */
int wd_link_init(uv_loop_t *loop, wd_link *l, int fd, const uint8_t ktx[32],
                 const uint8_t krx[32]);
/* Begin a record; returns its start offset for wd_link_rec_end. Write the
** body with wd_buf_put_* on 'l->batch'. */
size_t wd_link_rec_begin(wd_link *l, uint8_t rtype);
/* Finish a record. Returns 0, or WD_ETOOBIG if the record cannot fit a
** frame (the record is removed again). May flush when the batch is big. */
int wd_link_rec_end(wd_link *l, size_t start);
/* Seal the pending batch into a frame and write as much as the socket
** takes. Returns 0 or a negative code (the link then has failed). */
int wd_link_flush(wd_link *l);
/* Seal the pending batch and send it if the socket takes it at once and
** no frame waits before it. Allocates nothing and calls into nothing but
** the MAC and send(2), so a signal handler may call it, provided that it
** did not interrupt code working on this link: a frame the socket does
** not take stays sealed in the batch and leaves first on the next
** wd_link_flush or record. Returns 1 (sent), 0 (nothing sent). */
int wd_link_flush_nowait(wd_link *l);
/* Bytes waiting to leave: sealed frames, and the batch being built. */
size_t wd_link_backlog(const wd_link *l);
/* Stop ('on' 1) or resume ('on' 0) reading frames: the peer's frames wait
** in the socket, then in the peer's own queue. Stopping takes effect after
** the frame being handled. Idempotent. */
void wd_link_pause(wd_link *l, int on);
/* Stop the link and close the fd; 'cb' runs when libuv released the
** handle (free the owner there). Wipes the keys. */
void wd_link_close(wd_link *l, uv_close_cb cb);
/* Raise SO_SNDBUF/SO_RCVBUF so that a maximum frame fits a datagram. */
void wd_link_tune_socket(int fd);

#endif
