/*
** include/ward/wd_mbox.h
** Messages and FIFO queues of them. A message owns its sender,
** topic and encoded payload in one allocation; the payload stays encoded
** until the receiver asks for it (wd_codec), so nothing from one actor's
** heap is ever shared with another.
*/
#ifndef wd_mbox_h
#define wd_mbox_h

#include <stddef.h>
#include <stdint.h>

#include "ward/wd_common.h"

typedef struct wd_msg wd_msg;
struct wd_msg {
  wd_msg *next;
  const char *from;     /* sender PID text ("" when unknown) */
  const char *topic;
  const uint8_t *payload; /* codec bytes */
  uint32_t fromlen, topiclen, plen;
  uint32_t kind;        /* WD_MSG_* */
};

enum { WD_MSG_USER = 0, WD_MSG_EVENT = 1 };

/* One allocation holding the struct and copies of the three byte strings.
** Returns NULL only for out of memory. */
wd_msg *wd_msg_new(const char *from, size_t fromlen, const char *topic,
                   size_t topiclen, const uint8_t *payload, size_t plen);
void wd_msg_free(wd_msg *m);
/* The bytes 'm' holds in memory (its one allocation): what a queue
** charges for it. */
size_t wd_msg_size(const wd_msg *m);

/* What several queues hold together, and its bound in bytes (0: none):
** the queues of one process share one, counted in turn ('up') in their
** host's, so that a bound counts the host's queued bytes whichever of its
** processes they wait for. A total that others are counted in also counts
** what each of them holds past its first 'floor' bytes ('over'): a host
** bounds that, and each process holds its first bytes on its own. The
** queues only count; whoever accepts a message checks the bounds
** (runtime/actor.c). */
typedef struct wd_mtotal {
  size_t count, bytes;
  size_t max_bytes;
  size_t floor;             /* of each total counted in this one */
  size_t over;              /* what those hold past their 'floor' */
  struct wd_mtotal *up;     /* counted in this one too, or NULL */
} wd_mtotal;

/* A FIFO of messages. Invariants: 'count' and 'bytes' are those of the
** messages queued; every message queued is also in 'total' (when set)
** and in every total above it. */
typedef struct wd_mbox {
  wd_msg *head, *tail;
  size_t count, bytes;
  wd_mtotal *total;   /* shared total, or NULL */
} wd_mbox;

/* An empty queue counted in 'total' (NULL: none). */
void wd_mbox_init(wd_mbox *q, wd_mtotal *total);
/* Append 'm' (the queue owns it now). */
void wd_mbox_push(wd_mbox *q, wd_msg *m);
/* Remove and return the oldest message, or NULL when empty. */
wd_msg *wd_mbox_pop(wd_mbox *q);
/* Free every queued message. */
void wd_mbox_clear(wd_mbox *q);

#endif
