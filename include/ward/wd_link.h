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

/*
** Records and frames. A record of at most WD_LINK_REC_WHOLE bytes goes
** whole in a batch frame (WD_F_BATCH) with the others of its loop turn. A
** larger one goes as a stream of fragment frames (WD_F_FRAG, wd_proto.h),
** each signed and numbered like any frame, sent one at a time between
** batches: a big message never holds up the small ones behind it.
** Ordering: each record has a lane (wd_link_rec_lane; the sending process
** for messages and requests). A record waits behind an earlier record of
** its lane still going in fragments, and behind any earlier barrier
** (WD_LINK_LANE_ALL, the default); records of other lanes overtake it.
*/
/* Largest frame payload: a batch seals once past WD_LINK_BATCH_SOFT, so
** at most that plus one whole record; a fragment is WD_LINK_FRAG bytes
** and its header. One SOCK_SEQPACKET datagram carries one frame. */
#define WD_LINK_MAX_PAYLOAD (512u << 10)
/* Records up to this many bytes (header included) go whole. */
#define WD_LINK_REC_WHOLE (64u << 10)
/* Bytes of the record in each fragment but the last. */
#define WD_LINK_FRAG (256u << 10)
/* A fragment frame's payload: u32 stream, u32 offset, then the bytes. */
#define WD_LINK_FRAG_HDR 8
/* The largest record either end accepts is a host's max_payload plus
** this (the record's other fields: PIDs, topic, request number), and
** never less than WD_LINK_REC_MIN (INIT and ENTRY carry sources). */
#define WD_LINK_REC_SLACK (64u << 10)
#define WD_LINK_REC_MIN (4u << 20)
/* Bytes allocated in front of a record reassembled from fragments: room
** for what its new owner lays in front of its bytes (a forwarded
** record's new head, wd_link_rec_put_from; a host's message header,
** wd_link_rx_take). */
#define WD_LINK_RX_FRONT 64u
/* A batch is sealed early once it grows past this. */
#define WD_LINK_BATCH_SOFT (256u << 10)
/* Frames read per wakeup at most (and WD_LINK_BATCH_SOFT bytes). */
#define WD_LINK_READ_FRAMES 64
/* Lanes: 0 is a barrier (ordered after everything before it, everything
** after it is ordered after it); WD_LINK_LANE_FREE is ordered after
** barriers only (replies, heartbeats); any other value is ordered after
** the barriers and the records of that lane. */
#define WD_LINK_LANE_ALL 0u
#define WD_LINK_LANE_FREE UINT64_MAX
/* Buckets counting the lanes of waiting records: a record whose lane
** shares a bucket with a waiting one waits too (order is never lost). */
#define WD_LINK_LANES 1024

typedef struct wd_link wd_link;
typedef struct wd_frameq wd_frameq;
typedef struct wd_slowrec wd_slowrec;

/* Called for each record of each good frame. 'body' is valid only during
** the call. Returning a negative code fails the link (bad record shape). */
typedef int (*wd_link_rec_cb)(wd_link *l, uint8_t rtype, wd_cur *body);
/* Called once when the link fails: a bad frame (code WD_EBADSIG, WD_EREPLAY,
** WD_EBADFRAME, WD_ETOOBIG), end of file (0) or an I/O error. The link is
** already stopped; the callee decides what to do with the peer. */
typedef void (*wd_link_fail_cb)(wd_link *l, int code, const char *why);
/* Called when every frame that waited for the socket has gone out and no
** record waits for fragments. */
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
  wd_slowrec *shead; /* records that go in fragments, and those that wait
                     ** behind one (same lane, or a barrier), in order;
                     ** the head is the one going, when it is a big one */
  wd_slowrec *stail;
  size_t sbytes;     /* their bytes not sent yet */
  unsigned sbarrier; /* barriers among them */
  uint32_t slanes[WD_LINK_LANES]; /* their lanes, counted by bucket */
  uint64_t lane;     /* the lane of the record being built */
  uint32_t tx_stream; /* the last fragment stream opened, each way */
  uint32_t rx_stream;
  uint8_t *rasm;     /* the record being reassembled (NULL: none), of */
  size_t rasm_len;   /* this many bytes, */
  size_t rasm_got;   /* this many received */
  uint8_t *rx_rec;   /* during 'on_rec' of a record that came in
                     ** fragments: the record, WD_LINK_RX_FRONT bytes
                     ** into its allocation, until the owner takes it
                     ** (wd_link_rec_put_from, wd_link_rx_take); NULL
                     ** otherwise */
  size_t rx_len;     /* its bytes */
  uint8_t *ext_buf;  /* when not NULL, the record being built goes on with
                     ** 'ext_len' bytes at 'ext_buf' + 'ext_off', a
                     ** received record's buffer this link now owns;
                     ** 'ext_at' is where in 'batch' they belong */
  size_t ext_off, ext_len, ext_at;
  size_t ext_cap;    /* the bytes allocated at 'ext_buf' */
  size_t max_rec;    /* largest record sent or accepted */
  uint8_t *fbuf;     /* a fragment frame that cannot be built in place
                     ** in its record's buffer (allocated with the
                     ** first such) */
  uint8_t *rbuf;     /* one receive buffer of the maximum frame size */
  size_t rcap;
  wd_link_rec_cb on_rec;
  wd_link_fail_cb on_fail;
  wd_link_drain_cb on_drain; /* optional */
  void *data;        /* the owner (broker host slot or host) */
  int failed;
  int closing;
  int paused;        /* the owner reads no frame (wd_link_pause) */
  int peer_gone;     /* the peer closed its end: what it sent is still
                     ** read (whatever a pause says), nothing more is
                     ** written; the end of its frames fails the link */
  unsigned events;   /* UV_READABLE | UV_WRITABLE currently polled */
  uint64_t frames_in, frames_out, bytes_out;
};

/* Start polling 'fd' (already non-blocking is not required). Keys are
** copied (into sodium_malloc'd memory by wd_ipc) and may be wiped by the
** caller afterwards. Returns 0 or a negative code. */
int wd_link_init(uv_loop_t *loop, wd_link *l, int fd, const uint8_t ktx[32],
                 const uint8_t krx[32]);
/* The largest record either way: 'max_payload' (a host's) plus
** WD_LINK_REC_SLACK, at least WD_LINK_REC_MIN. A larger record is refused
** by wd_link_rec_end, and one announced by the peer fails the link. */
void wd_link_set_max_payload(wd_link *l, uint64_t max_payload);
/* Begin a record; returns its start offset for wd_link_rec_end. Write the
** body with wd_buf_put_* on 'l->batch'. Its lane is WD_LINK_LANE_ALL
** unless wd_link_rec_lane says otherwise before wd_link_rec_end. */
size_t wd_link_rec_begin(wd_link *l, uint8_t rtype);
/* The lane of the record being built (see above). */
void wd_link_rec_lane(wd_link *l, uint64_t lane);
/* A lane for a PID (or any string): never WD_LINK_LANE_ALL or _FREE. */
uint64_t wd_link_lane_of(const char *s, size_t n);
/* Append 'n' bytes at 'p' to the record being built, as its last bytes.
** When they lie inside the record that 'src' (any link, 'l' included) is
** handing to its owner, one that came in fragments, and are over
** WD_LINK_REC_WHOLE, they are not copied: 'l' takes that record's buffer
** from 'src' (which then frees it no more) and wd_link_rec_end lays the
** new record out inside it, in front of those bytes, to be sent from
** there. This is how the broker forwards a big message without copying
** it. Otherwise (or with 'src' NULL) it copies, as wd_buf_put. Errors
** are the batch's, as for wd_buf_put. After the call, read nothing of
** the record 'src' handed over ('p' and the body's other bytes): 'l' may
** have freed or sent it already, e.g. in wd_link_rec_end. */
void wd_link_rec_put_from(wd_link *l, wd_link *src, const void *p, size_t n);
/* Append the 'n' bytes at 'buf' + 'off' to the record being built, as
** its last bytes, taking ownership of 'buf' (a wd_malloc'd block of 'cap'
** bytes) on every path: when 'off' leaves room for the record's head in
** front of them, wd_link_rec_end lays the head there and the record is
** sent from 'buf' (as for wd_link_rec_put_from), else they are copied
** and 'buf' freed. Only for 'n' over WD_LINK_REC_WHOLE (smaller ones are
** copied at once). The caller reads and writes 'buf' no more. */
void wd_link_rec_put_own(wd_link *l, uint8_t *buf, size_t cap, size_t off,
                         size_t n);
/* During 'on_rec' of a record that came in fragments, when the 'n' bytes
** at 'p' lie in it and at least 'front' bytes of its buffer lie before
** 'p': the buffer becomes the caller's (free it with wd_free), who may
** write anywhere in it before 'p' ('p' itself and the record's other
** bytes stay as they are), and its start is returned. NULL otherwise
** (the record came whole, or was taken already): the link keeps it. */
void *wd_link_rx_take(wd_link *l, const void *p, size_t n, size_t front);
/* Finish a record. Returns 0, WD_ETOOBIG if the record is over the
** link's maximum (the record is removed again), or WD_ENOMEM. A record
** over WD_LINK_REC_WHOLE, or one that must wait behind one, leaves the
** batch for the queue of fragment streams. May flush when the batch is
** big. */
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
/* Bytes waiting to leave: sealed frames, the batch being built, and the
** records waiting for fragments but the one going now (so a bound on it
** is that bound plus one record). */
size_t wd_link_backlog(const wd_link *l);
/* Has everything gone (no frame, record or batch waits)? */
int wd_link_idle(const wd_link *l);
/* Stop ('on' 1) or resume ('on' 0) reading frames: the peer's frames wait
** in the socket, then in the peer's own queue. Stopping takes effect after
** the frame being handled. Idempotent. */
void wd_link_pause(wd_link *l, int on);
/* The peer is gone (its process was reaped): read what it sent last,
** even while paused, and write nothing more; the owner's on_fail (code 0)
** follows its last frame. A write that finds the peer gone does the same:
** a peer's last frames (its processes' exits) are never lost to it. */
void wd_link_peer_gone(wd_link *l);
/* Hand one datagram to the link as if read from its socket: verify it,
** reassemble fragments, call 'on_rec' for each whole record (the frame
** fuzzer; the link reads its socket itself). Returns 0 or the negative
** code the link failed with. */
int wd_link_feed(wd_link *l, const uint8_t *frame, size_t n);
/* Stop the link and close the fd; 'cb' runs when libuv released the
** handle (free the owner there). Wipes the keys. */
void wd_link_close(wd_link *l, uv_close_cb cb);
/* Set SO_SNDBUF/SO_RCVBUF so that a maximum frame fits a datagram, and
** no more than a few frames wait in the socket: what waits there is
** ahead of any small record, whatever the link's own order. */
void wd_link_tune_socket(int fd);

#endif
