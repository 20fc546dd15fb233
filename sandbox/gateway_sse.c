/*
** sandbox/gateway_sse.c
** Inbox streams, gateway side (GET /v1/inbox): once the broker has opened
** an inbox process (broker_inbox.c), its connection becomes a stream of
** Server-Sent Events: "ready" with the PID, then "message" for each
** GW_MSG, a comment line when idle, and "exit" when the broker ends it.
** What a turn queues for a stream leaves in one write at the end of the
** turn. What has been written is acknowledged to the broker (GW_ACK, in
** the cost of the messages: WD_GW_SSE_COST), which carries at most a
** window of it to a stream: so a client is sent what it reads, and its
** senders are slowed, not dropped, while it is behind. A client that
** takes nothing for WD_GW_SSE_STALL_MS while bytes wait for it, or falls
** WD_GW_SSE_QUEUE_MAX bytes behind (a broker that ignored the window, or
** one message bigger than it), is dropped with an "error" event
** (LimitExceeded) and the broker told (GW_END), so the gateway never
** holds more than that per stream.
** Runs in: gateway (sandboxed).
*/
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <uv.h>

#include "ward/wd_link.h"
#include "ward/wd_proto.h"

#include "gateway.h"

typedef struct sse {
  struct sse *next;
  uv_stream_t *s;      /* borrowed from the gateway's connection */
  uint32_t call;
  void (*on_gone)(void *);
  void *ud;
  wd_buf out;          /* queued this turn */
  uint64_t cost;       /* of the messages in 'out' */
  uint64_t acked;      /* written, not yet acknowledged to the broker */
  uint64_t moved;      /* uv_now when bytes last left for the client
                          (or a write began with nothing waiting) */
  uint64_t pushed;     /* bytes handed to uv_write, in all */
  uint64_t seen;       /* pushed - write_queue_size at the last check */
  int wrote;           /* written since the last keep-alive tick */
  int over;            /* ended: nothing more is queued */
} sse;

typedef struct swreq {
  uv_write_t w;
  uint32_t call;
  int last;            /* the stream closes once this has gone */
  uint64_t cost;       /* of the messages it carries */
  char *data;
} swreq;

static struct {
  sse *list;
  wd_link *link;
  uv_loop_t *loop;
  uv_timer_t keepalive, stall;
  int timer_on;
  int acks;            /* streams with 'acked' to tell */
} S;

static sse *by_call(uint32_t call) {
  sse *x;
  for (x = S.list; x != NULL; x = x->next)
    if (x->call == call) return x;
  return NULL;
}

static void unlist(sse *x) {
  sse **pp;
  for (pp = &S.list; *pp != NULL; pp = &(*pp)->next)
    if (*pp == x) {
      *pp = x->next;
      return;
    }
}

static void end_to_broker(uint32_t call, int ok, const char *kind,
                          const char *msg) {
  wd_gwend e;
  size_t st = wd_link_rec_begin(S.link, WD_R_GW_END);
  memset(&e, 0, sizeof e);
  e.call = call;
  e.ok = (uint8_t)ok;
  e.kind = kind;
  e.kindlen = strlen(kind);
  e.msg = msg;
  e.msglen = strlen(msg);
  wd__gw_put_end(&S.link->batch, &e);
  (void)wd_link_rec_end(S.link, st);
}

static void on_written(uv_write_t *w, int status) {
  swreq *q = (swreq *)w;
  sse *x = by_call(q->call);
  if (x != NULL && status == 0) {
    x->moved = uv_now(S.loop);
    if (q->cost > 0 && !x->over) {
      if (x->acked == 0) S.acks++;
      x->acked += q->cost;
    }
  }
  if (q->last && x != NULL) x->on_gone(x->ud);
  free(q->data);
  free(q);
}

/* Write what 'x' queued; 'last': close the stream once it has gone. */
static void push(sse *x, int last) {
  swreq *q;
  uv_buf_t b;
  if (x->out.len == 0 && !last) return;
  if ((q = calloc(1, sizeof *q)) == NULL ||
      (q->data = malloc(x->out.len ? x->out.len : 1)) == NULL) {
    free(q);
    x->on_gone(x->ud);
    return;
  }
  memcpy(q->data, x->out.p, x->out.len);
  q->call = x->call;
  q->last = last;
  q->cost = x->cost;
  x->cost = 0;
  if (x->s->write_queue_size == 0) x->moved = uv_now(S.loop);
  x->pushed += x->out.len;
  b = uv_buf_init(q->data, (unsigned)x->out.len);
  wd_buf_reset(&x->out);
  x->wrote = 1;
  if (uv_write(&q->w, x->s, &b, 1, on_written) < 0) {
    free(q->data);
    free(q);
    x->on_gone(x->ud);
  }
}

static void put_event(sse *x, const char *ev, json_t *j) {
  char *s = json_dumps(j, JSON_COMPACT);
  json_decref(j);
  wd_buf_put(&x->out, "event: ", 7);
  wd_buf_put(&x->out, ev, strlen(ev));
  wd_buf_put(&x->out, "\ndata: ", 7);
  if (s != NULL) wd_buf_put(&x->out, s, strlen(s));
  wd_buf_put(&x->out, "\n\n", 2);
  free(s);
}

/* The stream's end, told the client in an event of kind 'ev'. */
static void finish(sse *x, const char *ev, int ok, const char *kind,
                   size_t kl, const char *msg, size_t ml) {
  x->over = 1;
  wd_buf_reset(&x->out); /* what a slow client has not taken is dropped */
  x->out.err = 0;
  x->cost = 0;
  put_event(x, ev,
            ok ? json_pack("{sb}", "ok", 1)
               : json_pack("{sbs{ss%ss%}}", "ok", 0, "error", "kind", kind,
                           kl, "message", msg, ml));
  push(x, 1);
}

static void on_keepalive(uv_timer_t *t) {
  sse *x;
  (void)t;
  for (x = S.list; x != NULL; x = x->next) {
    if (!x->wrote && !x->over) {
      wd_buf_put(&x->out, ": keep-alive\n\n", 14);
      push(x, 0);
    }
    x->wrote = 0;
  }
}

/* A client that took nothing for WD_GW_SSE_STALL_MS while bytes waited
** for it (the window full: its senders wait) is dropped. What it took is
** what left the write queue, also of a write not yet complete (one big
** message read slowly). */
static void on_stall_check(uv_timer_t *t) {
  static const char why[] = "the client fell behind: it read nothing for "
                            "5 s with messages waiting (stream dropped)";
  uint64_t now = uv_now(t->loop);
  sse *x, *next;
  for (x = S.list; x != NULL; x = next) {
    uint64_t done;
    next = x->next;
    done = x->pushed - (uint64_t)x->s->write_queue_size;
    if (done != x->seen) {
      x->seen = done;
      x->moved = now;
    }
    if (x->over || x->s->write_queue_size == 0 ||
        now - x->moved < WD_GW_SSE_STALL_MS)
      continue;
    end_to_broker(x->call, 0, "LimitExceeded", why);
    finish(x, "error", 0, "LimitExceeded", strlen("LimitExceeded"), why,
           sizeof why - 1);
  }
}

static void on_alloc(uv_handle_t *h, size_t hint, uv_buf_t *b) {
  static char buf[4096];
  (void)h;
  (void)hint;
  *b = uv_buf_init(buf, sizeof buf);
}

/* A stream only reads to see its client leave; what it sends is dropped. */
static void on_read(uv_stream_t *s, ssize_t n, const uv_buf_t *b) {
  sse *x;
  (void)b;
  if (n >= 0) return;
  for (x = S.list; x != NULL; x = x->next)
    if (x->s == s) {
      x->on_gone(x->ud);
      return;
    }
}

int wd__gw_sse_open(struct wd_link *l, struct uv_stream_s *s, uint32_t call,
                    const char *pid, size_t pl, void (*on_gone)(void *),
                    void *ud) {
  static const char head[] =
      "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\n"
      "Cache-Control: no-store\r\nConnection: close\r\n\r\n";
  sse *x = calloc(1, sizeof *x);
  S.link = l;
  if (x == NULL) {
    end_to_broker(call, 0, "Internal", "out of memory");
    return WD_ENOMEM;
  }
  if (!S.timer_on) {
    S.loop = s->loop;
    uv_timer_init(s->loop, &S.keepalive);
    uv_unref((uv_handle_t *)&S.keepalive);
    uv_timer_start(&S.keepalive, on_keepalive, WD_GW_SSE_KEEPALIVE_MS,
                   WD_GW_SSE_KEEPALIVE_MS);
    uv_timer_init(s->loop, &S.stall);
    uv_unref((uv_handle_t *)&S.stall);
    uv_timer_start(&S.stall, on_stall_check, WD_GW_SSE_STALL_MS / 5,
                   WD_GW_SSE_STALL_MS / 5);
    S.timer_on = 1;
  }
  x->s = s;
  x->moved = uv_now(s->loop);
  x->call = call;
  x->on_gone = on_gone;
  x->ud = ud;
  wd_buf_init(&x->out, WD_GW_SSE_QUEUE_MAX + 4096);
  wd_buf_put(&x->out, head, sizeof head - 1);
  put_event(x, "ready", json_pack("{ss%}", "pid", pid, pl));
  x->next = S.list;
  S.list = x;
  uv_read_start(s, on_alloc, on_read);
  push(x, 0);
  return 0;
}

void wd__gw_sse_closed(uint32_t call) {
  sse *x = by_call(call);
  if (x == NULL) return;
  unlist(x);
  if (x->acked > 0) S.acks--;
  if (!x->over) end_to_broker(call, 1, "", "");
  wd_buf_close(&x->out);
  free(x);
}

static void on_msg(const wd_gwmsg *m) {
  sse *x = by_call(m->call);
  json_t *v = NULL, *j;
  char err[300];
  if (x == NULL || x->over) return; /* ended: the broker learns of it */
  if (wd__gw_json_get(m->payload, m->payloadlen, &v, err, sizeof err) < 0)
    j = json_pack("{ss%ss%ss}", "topic", m->topic, m->topiclen, "from",
                  m->from, m->fromlen, "error", err);
  else
    j = json_pack("{ss%ss%so}", "topic", m->topic, m->topiclen, "from",
                  m->from, m->fromlen, "payload", v);
  put_event(x, "message", j);
  x->cost += WD_GW_SSE_COST(m->fromlen, m->topiclen, m->payloadlen);
  /* A client this far behind is dropped, so nothing grows without bound. */
  if (x->out.err || x->out.len + x->s->write_queue_size > WD_GW_SSE_QUEUE_MAX) {
    static const char why[] = "the client fell too far behind (more than "
                              "4 MiB unread): stream dropped";
    end_to_broker(x->call, 0, "LimitExceeded", why);
    finish(x, "error", 0, "LimitExceeded", strlen("LimitExceeded"), why,
           sizeof why - 1);
  }
}

int wd__gw_sse_rec(uint8_t rtype, wd_cur *body) {
  wd_gwmsg m;
  wd_gwend e;
  sse *x;
  if (rtype == WD_R_GW_MSG) {
    if (wd__gw_get_msg(body, &m) < 0) return WD_EBADFRAME;
    on_msg(&m);
    return 0;
  }
  if (wd__gw_get_end(body, &e) < 0) return WD_EBADFRAME;
  if ((x = by_call(e.call)) != NULL && !x->over)
    finish(x, "exit", e.ok, e.kind, e.kindlen, e.msg, e.msglen);
  return 0;
}

/* GW_ACK: what each stream wrote since the last one. */
static void ack_to_broker(void) {
  size_t st = 0, at = 0;
  uint32_t n = 0;
  sse *x;
  for (x = S.list; x != NULL; x = x->next) {
    if (x->acked == 0) continue;
    if (n == 0) {
      st = wd_link_rec_begin(S.link, WD_R_GW_ACK);
      at = S.link->batch.len;
      wd_buf_put_u32(&S.link->batch, 0);
    }
    wd_buf_put_u32(&S.link->batch, x->call);
    wd_buf_put_u64(&S.link->batch, x->acked);
    x->acked = 0;
    if (++n == WD_GW_ACK_MAX) {
      wd_buf_patch_u32(&S.link->batch, at, n);
      (void)wd_link_rec_end(S.link, st);
      n = 0;
    }
  }
  if (n > 0) {
    wd_buf_patch_u32(&S.link->batch, at, n);
    (void)wd_link_rec_end(S.link, st);
  }
  S.acks = 0;
}

void wd__gw_sse_flush(void) {
  sse *x;
  for (x = S.list; x != NULL; x = x->next)
    if (!x->over) push(x, 0);
  if (S.acks > 0) ack_to_broker();
}
