/*
** runtime/mbox.c
** Messages and FIFO mailboxes: each queue counts its messages and
** their bytes, and adds them to the total it shares with other queues
** (a process's), and that to the total above it (its host's).
** Runs in: host (sandboxed).
*/
#include <string.h>

#include "ward/wd_mbox.h"

wd_msg *wd_msg_new(const char *from, size_t fromlen, const char *topic,
                   size_t topiclen, const uint8_t *payload, size_t plen) {
  wd_msg *m;
  char *p;
  if (fromlen > UINT32_MAX || topiclen > UINT32_MAX || plen > UINT32_MAX)
    return NULL;
  m = wd_malloc(sizeof *m + fromlen + topiclen + plen + 2);
  if (m == NULL) return NULL;
  p = (char *)(m + 1);
  m->next = NULL;
  m->kind = WD_MSG_USER;
  m->from = p;
  if (fromlen) memcpy(p, from, fromlen);
  p[fromlen] = '\0';
  p += fromlen + 1;
  m->topic = p;
  if (topiclen) memcpy(p, topic, topiclen);
  p[topiclen] = '\0';
  p += topiclen + 1;
  m->payload = (const uint8_t *)p;
  if (plen) memcpy(p, payload, plen);
  m->fromlen = (uint32_t)fromlen;
  m->topiclen = (uint32_t)topiclen;
  m->plen = (uint32_t)plen;
  return m;
}

void wd_msg_free(wd_msg *m) {
  wd_free(m);
}

size_t wd_msg_size(const wd_msg *m) {
  return sizeof *m + (size_t)m->fromlen + m->topiclen + m->plen + 2;
}

void wd_mbox_init(wd_mbox *q, wd_mtotal *total) {
  q->head = q->tail = NULL;
  q->count = q->bytes = 0;
  q->total = total;
}

/* What 'bytes' hold past 'floor'. */
static size_t past(size_t bytes, size_t floor) {
  return bytes > floor ? bytes - floor : 0;
}

/* Add (dir 1) or take away (dir -1) 'm' from the counts of 'q' and of
** every total above it. */
static void account(wd_mbox *q, const wd_msg *m, int dir) {
  size_t n = wd_msg_size(m), was;
  wd_mtotal *t;
  if (dir > 0) {
    q->count++;
    q->bytes += n;
  } else {
    q->count--;
    q->bytes -= n;
  }
  for (t = q->total; t != NULL; t = t->up) {
    was = t->bytes;
    if (dir > 0) {
      t->count++;
      t->bytes += n;
    } else {
      t->count--;
      t->bytes -= n;
    }
    if (t->up != NULL)
      t->up->over = t->up->over - past(was, t->up->floor) +
                    past(t->bytes, t->up->floor);
  }
}

void wd_mbox_push(wd_mbox *q, wd_msg *m) {
  m->next = NULL;
  if (q->tail) q->tail->next = m;
  else q->head = m;
  q->tail = m;
  account(q, m, 1);
}

wd_msg *wd_mbox_pop(wd_mbox *q) {
  wd_msg *m = q->head;
  if (m == NULL) return NULL;
  q->head = m->next;
  if (q->head == NULL) q->tail = NULL;
  account(q, m, -1);
  m->next = NULL;
  return m;
}

void wd_mbox_clear(wd_mbox *q) {
  wd_msg *m;
  while ((m = wd_mbox_pop(q)) != NULL) wd_msg_free(m);
}
