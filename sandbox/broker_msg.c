/*
** sandbox/broker_msg.c
** Messages across hosts without a round trip (wd_proto.h MESH .. GONE;
** the hosts' side is runtime/flow.c). A host sends MSG and goes on; the
** broker checks it as it checks a SEND request (the sender PID is the
** host's, the topic is valid, the caller may send it there: decided again
** on the actor and scope the record carries, audited), then carries it
** to the receiving host. What it cannot carry it drops and gives back
** the sender's credit (CREDIT, flagged dead where the process or its host
** is gone). Credit the receiving host returns goes to the sending host;
** DIED becomes GONE to the hosts that sent the process messages, and a
** host that goes down becomes GONE (its id) to every other.
** Runs in: broker.
*/
#include <stdio.h>
#include <string.h>

#include "ward/wd_ops.h"
#include "ward/wd_pid.h"
#include "ward/wd_policy.h"
#include "ward/wd_proto.h"

#include "broker_int.h"
#include "gateway.h"

/* MESH to host 's', after its INIT: every host, its own number, then the
** front door. */
void wd__brk_send_mesh(hslot *s) {
  wd_broker *b = s->b;
  size_t st;
  int i;
  wd_buf *w = wd__brk_rec(s, WD_R_MESH, &st);
  wd_buf_put_u64(w, (uint64_t)s->he->u.host.limits.send_timeout_ns);
  wd_buf_put_u32(w, (uint32_t)(s - b->hosts));
  wd_buf_put_u32(w, (uint32_t)b->nhosts + 1);
  for (i = 0; i < b->nhosts; i++) {
    wd_buf_put_str(w, b->hosts[i].id, b->hosts[i].idlen);
    wd_buf_put_u64(w, b->hosts[i].he->u.host.limits.max_payload);
    wd_buf_put_u64(w, b->hosts[i].he->u.host.limits.link_queue);
  }
  wd__brk_inbox_mesh(w); /* the last: the front door's inbox streams */
  wd__brk_rec_done(s, st);
}

void wd__brk_credit_back(hslot *s, const char *dest, size_t dl, size_t n,
                         uint8_t flag) {
  size_t st;
  wd_buf *w;
  if (!s->up) return;
  w = wd__brk_rec(s, WD_R_CREDIT, &st);
  wd_buf_put_str(w, dest, dl);
  wd_buf_put_u32(w, 1);
  wd_buf_put_u64(w, n);
  wd_buf_put_u8(w, flag);
  wd__brk_rec_done(s, st);
}

/* MSG from host 's' (wd_proto.h). */
int wd__brk_on_msg(hslot *s, wd_cur *c) {
  wd_broker *b = s->b;
  brk_caller who;
  const char *from, *dest, *topic, *hid;
  const uint8_t *p;
  size_t fl, dl, tl, hl, n, st;
  uint64_t counter;
  char th[WD_PID_HOST_MAX + 1], tp[WD_TOPIC_MAX + 1], why[300];
  hslot *t;
  wd_buf *w;
  int r;
  if (wd_cur_str(c, &from, &fl) || wd__brk_sec_caller(s, c, &who) < 0 ||
      wd_cur_str(c, &dest, &dl) || wd_cur_str(c, &topic, &tl))
    return WD_EBADFRAME;
  n = wd_cur_left(c);
  if (wd_cur_bytes(c, n, &p) < 0) return WD_EBADFRAME;
  if (wd__brk_own_pid(s, from, fl, &counter,
                      "message with a sender PID not of this host") < 0)
    return WD_EBADFRAME;
  /* The host refuses all of these itself: one that sends them lies. */
  if (tl == 0 || topic[0] == '@' || tl > WD_TOPIC_MAX ||
      memchr(topic, '\0', tl) != NULL ||
      wd_pid_parse(dest, dl, &hid, &hl, &counter) < 0 ||
      (((t = wd__brk_slot_by_id(b, hid, hl)) == NULL || t == s) &&
       !wd__brk_inbox_is(dest, dl))) {
    wd__brk_host_down(s, "malformed message record");
    return WD_EBADFRAME;
  }
  snprintf(th, sizeof th, "%.*s", (int)hl, hid);
  snprintf(tp, sizeof tp, "%.*s", (int)tl, topic);
  r = wd__brk_sec_check(s, &who, from, fl, wd_ops_name(WD_ACT_SEND), dest, dl,
                        th, tp, why, sizeof why);
  if (r != WD_POLICY_ALLOW) {
    /* The host decided the same and allowed it: policies changed on the
    ** way (a reload). The decision is in the audit log. */
    fprintf(stderr, "ward: host %s: message from %.*s to %.*s dropped: %s\n",
            s->id, (int)fl, from, (int)dl, dest, why);
    wd__brk_credit_back(s, dest, dl, n, 0);
    return 0;
  }
  if (t == NULL) { /* an inbox stream's (broker_inbox.c) */
    if (n > WD_GW_INBOX_MAX_PAYLOAD) {
      wd__brk_host_down(s, "message over the inbox's max_payload");
      return WD_EBADFRAME;
    }
    wd__brk_inbox_msg(s, from, fl, dest, dl, topic, tl, p, n);
    return 0;
  }
  if (!t->up) {
    wd__brk_credit_back(s, dest, dl, n, WD_CREDIT_DEAD);
    return 0;
  }
  if (n > t->he->u.host.limits.max_payload) {
    wd__brk_host_down(s, "message over the receiver's max_payload");
    return WD_EBADFRAME;
  }
  /* The credit bounds what is in flight; past the link's bound the
  ** receiving host is not reading (its liveness will tell): the message
  ** goes as if its process had died on the way (SECURITY.md V15). */
  if (t->he->u.host.limits.link_queue != 0 &&
      wd_link_backlog(t->link) >= t->he->u.host.limits.link_queue) {
    fprintf(stderr, "ward: host %s: message from %.*s dropped: host %s is "
            "not reading\n", s->id, (int)fl, from, t->id);
    wd__brk_credit_back(s, dest, dl, n, 0);
    return 0;
  }
  w = wd__brk_rec(t, WD_R_MSG, &st);
  wd_buf_put_str(w, from, fl);
  wd_buf_put_str(w, dest, dl);
  wd_buf_put_str(w, topic, tl);
  /* The payload is not copied when it came in fragments (wd_link.h):
  ** nothing of the received record may be read after this. */
  wd_link_rec_put_from(t->link, s->link, p, n);
  wd__brk_rec_done(t, st);
  return 0;
}

/* CREDIT from host 's': u32 peer, str dest (its process), u32 msgs, u64
** bytes, u8 flag; to host 'peer'. */
int wd__brk_on_credit(hslot *s, wd_cur *c) {
  wd_broker *b = s->b;
  uint32_t peer, msgs;
  uint64_t bytes, counter;
  uint8_t flag;
  const char *dest;
  size_t dl, st;
  hslot *t;
  wd_buf *w;
  if (wd_cur_u32(c, &peer) || wd_cur_str(c, &dest, &dl) ||
      wd_cur_u32(c, &msgs) || wd_cur_u64(c, &bytes) || wd_cur_u8(c, &flag) ||
      wd_cur_left(c) != 0 || peer >= (uint32_t)b->nhosts)
    return WD_EBADFRAME;
  if (wd__brk_own_pid(s, dest, dl, &counter,
                      "credit for a PID not of this host") < 0)
    return WD_EBADFRAME;
  t = &b->hosts[peer];
  if (!t->up || t == s) return 0;
  w = wd__brk_rec(t, WD_R_CREDIT, &st);
  wd_buf_put_str(w, dest, dl);
  wd_buf_put_u32(w, msgs);
  wd_buf_put_u64(w, bytes);
  wd_buf_put_u8(w, flag & WD_CREDIT_DEAD);
  wd__brk_rec_done(t, st);
  return 0;
}

static void gone_to(hslot *t, const char *s, size_t n) {
  size_t st;
  wd_buf *w;
  if (!t->up) return;
  w = wd__brk_rec(t, WD_R_GONE, &st);
  wd_buf_put_str(w, s, n);
  wd__brk_rec_done(t, st);
}

/* DIED from host 's': str pid (its process), u64 peers. */
int wd__brk_on_died(hslot *s, wd_cur *c) {
  wd_broker *b = s->b;
  const char *pid;
  size_t pl;
  uint64_t mask, counter;
  int i;
  if (wd_cur_str(c, &pid, &pl) || wd_cur_u64(c, &mask) ||
      wd_cur_left(c) != 0)
    return WD_EBADFRAME;
  if (wd__brk_own_pid(s, pid, pl, &counter,
                      "DIED for a PID not of this host") < 0)
    return WD_EBADFRAME;
  for (i = 0; i < b->nhosts; i++)
    if (&b->hosts[i] != s && (mask & (1ull << (i < 63 ? i : 63))))
      gone_to(&b->hosts[i], pid, pl);
  return 0;
}

/* Host 's' went down: every PID of it is dead for the others. */
void wd__brk_gone_host(hslot *s) {
  wd_broker *b = s->b;
  int i;
  for (i = 0; i < b->nhosts; i++)
    if (&b->hosts[i] != s) gone_to(&b->hosts[i], s->id, s->idlen);
}

/* Name 'x' is being released: the hosts that looked it up forget it. */
void wd__brk_unname(wd_broker *b, const name *x) {
  size_t st, n = strlen(x->name);
  int i;
  for (i = 0; x->cached != 0 && i < b->nhosts; i++) {
    hslot *t = &b->hosts[i];
    wd_buf *w;
    if (!(x->cached & (1ull << (i < 63 ? i : 63))) || !t->up) continue;
    w = wd__brk_rec(t, WD_R_UNNAME, &st);
    wd_buf_put_str(w, x->name, n);
    wd__brk_rec_done(t, st);
  }
}
