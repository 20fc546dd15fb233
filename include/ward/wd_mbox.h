/*
** include/ward/wd_mbox.h
** Messages and bounded FIFO queues of them. A message owns its sender,
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

/* A FIFO of messages. 'limit' bounds the count (0: no bound). */
typedef struct wd_mbox {
  wd_msg *head, *tail;
  size_t count;
  size_t limit;
} wd_mbox;

void wd_mbox_init(wd_mbox *q, size_t limit);
/* Append. Takes ownership of 'm' on success only; returns 0 or
** WD_EMBOXFULL (the caller still owns 'm'). */
int wd_mbox_push(wd_mbox *q, wd_msg *m);
/* Append ignoring the limit (for re-routing messages already accepted). */
void wd_mbox_push_force(wd_mbox *q, wd_msg *m);
/* Remove and return the oldest message, or NULL when empty. */
wd_msg *wd_mbox_pop(wd_mbox *q);
/* Unlink 'm' whose predecessor is 'prev' (NULL for the head). */
void wd_mbox_remove(wd_mbox *q, wd_msg *prev, wd_msg *m);
/* Free every queued message. */
void wd_mbox_clear(wd_mbox *q);

#endif
