/*
** runtime/host.c
** A host (include/ward/wd_host.h): made, given its entries and limits,
** answering the broker's requests, replies and events, stopped. The
** records it sends the broker, and the requests it keeps in flight there.
** Runs in: host (sandboxed).
*/
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "host_int.h"
#include "ward/wd_ops.h"

uint64_t wd__host_now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

void wd__host_pid_is_local(wd_host *h, const char *pid, size_t len,
                           int *local, uint64_t *counter) {
  const char *hid;
  size_t hl;
  *local = -1;
  if (wd_pid_parse(pid, len, &hid, &hl, counter) < 0) return;
  *local = hl == h->idlen && memcmp(hid, h->id, hl) == 0;
}

/* {====== Records to the broker ====== */

static wd_buf *rec_begin(wd_host *h, uint8_t rtype, size_t *start) {
  return h->io.begin(h->io.ud, rtype, start);
}

static void rec_end(wd_host *h, size_t start) {
  (void)h->io.end(h->io.ud, start);
}

void wd__host_reply(wd_host *h, uint32_t req, int32_t status,
                       const char *s, size_t n) {
  size_t st;
  wd_buf *b;
  if (req == 0) return; /* nobody waits (a message from the broker) */
  b = rec_begin(h, WD_R_REPLY, &st);
  wd_buf_put_u32(b, req);
  wd_buf_put_u32(b, (uint32_t)status);
  wd_buf_put_str(b, s, n);
  rec_end(h, st);
}

void wd__host_put_payload(wd_host *h, wd_buf *b, const uint8_t *p,
                          size_t n) {
  wd_buf *s = &h->scratch;
  uint8_t *buf;
  size_t cap, off = h->scratch_front;
  if (h->io.give != NULL && n >= WD_HOST_NOCOPY_MIN && b->err == 0 &&
      s->p != NULL && off <= s->len && p == s->p + off &&
      n == s->len - off) {
    buf = s->p;
    cap = s->cap;
    wd_buf_init(s, s->max); /* the link's now */
    h->scratch_front = 0;
    h->io.give(h->io.ud, buf, cap, off, n);
    return;
  }
  wd_buf_put(b, p, n);
}

wd_msg *wd__host_msg_new(wd_host *h, const char *from, size_t fl,
                         const char *topic, size_t tl, const uint8_t *p,
                         size_t n) {
  char names[WD_PID_MAX + WD_TOPIC_MAX];
  size_t front = sizeof(wd_msg) + fl + tl + 2;
  wd_msg *m;
  char *s;
  /* 'from' and 'topic' may lie in the buffer before 'p': kept aside
  ** before the message is written over them. */
  if (h->io.take == NULL || n < WD_HOST_NOCOPY_MIN || n > UINT32_MAX ||
      fl > WD_PID_MAX || tl > WD_TOPIC_MAX)
    return wd_msg_new(from, fl, topic, tl, p, n);
  memcpy(names, from, fl);
  memcpy(names + fl, topic, tl);
  if ((m = h->io.take(h->io.ud, p, n, front)) == NULL)
    return wd_msg_new(from, fl, topic, tl, p, n);
  s = (char *)(m + 1);
  m->next = NULL;
  m->kind = WD_MSG_USER;
  m->from = s;
  memcpy(s, names, fl);
  s[fl] = '\0';
  s += fl + 1;
  m->topic = s;
  memcpy(s, names + fl, tl);
  s[tl] = '\0';
  m->payload = p;
  m->fromlen = (uint32_t)fl;
  m->topiclen = (uint32_t)tl;
  m->plen = (uint32_t)n;
  return m;
}

static void host_log(wd_host *h, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static void host_log(wd_host *h, const char *fmt, ...) {
  char msg[512];
  va_list ap;
  size_t st;
  wd_buf *b;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  b = rec_begin(h, WD_R_LOG, &st);
  wd_buf_put_cstr(b, msg);
  rec_end(h, st);
}

/* Start a request record for task 't' of 'a' and remember who waits for
** the reply (its number in 'req'). */
int wd__host_request(wd_host *h, wd_actor *a, struct task *t, uint8_t op,
                     uint32_t *req, wd_buf **body, size_t *start) {
  pend *p = wd_malloc(sizeof *p);
  wd_buf *b;
  if (p == NULL) return WD_ENOMEM;
  if (++h->next_req == 0) h->next_req = 1;
  p->req = h->next_req;
  p->a = a;
  p->t = t;
  a->npend++;
  p->next = h->pend[p->req % PEND_BUCKETS];
  h->pend[p->req % PEND_BUCKETS] = p;
  *req = p->req;
  b = rec_begin(h, WD_R_REQ, start);
  wd_buf_put_u32(b, p->req);
  wd_buf_put_u8(b, op);
  /* Who asks: the broker re-checks the request against this actor and
  ** scope, and holds the host to its ceiling. */
  wd_buf_put_str(b, a->sec_actor, a->sec_actorlen);
  wd_buf_put_cstr(b, a->sec_scope);
  wd_buf_put_cstr(b, a->e->id); /* for the audit log */
  *body = b;
  return 0;
}

int wd__host_request_end(wd_host *h, size_t start) {
  return h->io.end(h->io.ud, start);
}

static pend *pend_take(wd_host *h, uint32_t req);

void wd__host_request_cancel(wd_host *h, uint32_t req) {
  wd_free(pend_take(h, req));
}

static pend *pend_take(wd_host *h, uint32_t req) {
  pend **pp = &h->pend[req % PEND_BUCKETS];
  while (*pp != NULL) {
    pend *p = *pp;
    if (p->req == req) {
      *pp = p->next;
      p->a->npend--;
      return p;
    }
    pp = &p->next;
  }
  return NULL;
}

void wd__host_request_drop(wd_host *h, wd_actor *a) {
  int i;
  for (i = 0; a->npend > 0 && i < PEND_BUCKETS; i++) {
    pend **pp = &h->pend[i];
    while (*pp != NULL) {
      pend *p = *pp;
      if (p->a == a) {
        *pp = p->next;
        a->npend--;
        wd_free(p);
      } else {
        pp = &p->next;
      }
    }
  }
}

/* The report of an ended actor the broker watches: its exit as text (for
** ward run and ward test) and as codec bytes. */
void wd__host_exit_record(wd_actor *a, uint32_t flags, int32_t status,
                          const wd_buf *text, const wd_buf *res) {
  wd_host *h = a->h;
  size_t st;
  wd_buf *b = rec_begin(h, WD_R_EXIT, &st);
  wd_buf_put_u64(b, a->counter);
  wd_buf_put_u8(b, (uint8_t)flags);
  wd_buf_put_u32(b, (uint32_t)status);
  wd_buf_put_str(b, (const char *)text->p, text->err ? 0 : text->len);
  wd_buf_put_str(b, (const char *)res->p, res->err ? 0 : res->len);
  rec_end(h, st);
}

/* }====== */

/* {====== PIDs ====== */

int wd__host_next_counter(wd_host *h, uint64_t *out) {
  if (h->pid_next >= h->pid_end) {
    if (h->pid_next_base == h->pid_next_end) return WD_EUNAVAIL;
    h->pid_next = h->pid_next_base;
    h->pid_end = h->pid_next_end;
    h->pid_next_base = h->pid_next_end = 0;
    h->pid_requested = 0;
  }
  *out = h->pid_next++;
  /* Ask for the next block early, so spawns never wait for it. */
  if (!h->pid_requested && h->pid_next_base == h->pid_next_end &&
      h->pid_end - h->pid_next < 8192) {
    size_t st;
    h->pid_requested = 1;
    (void)rec_begin(h, WD_R_PIDREQ, &st);
    rec_end(h, st);
  }
  return 0;
}

void wd_host_add_pids(wd_host *h, uint64_t base, uint64_t count) {
  if (h->pid_next >= h->pid_end) {
    h->pid_next = base;
    h->pid_end = base + count;
    h->pid_requested = 0;
  } else {
    h->pid_next_base = base;
    h->pid_next_end = base + count;
  }
}

/* }====== */

/* {====== Entries ====== */

wd_entry *wd__host_entry(wd_host *h, const char *id) {
  int i;
  if (h->elast != NULL && strcmp(h->elast->id, id) == 0) return h->elast;
  for (i = 0; i < h->nentries; i++)
    if (strcmp(h->entries[i]->id, id) == 0) return h->elast = h->entries[i];
  return NULL;
}

/* }====== */

/* {====== Public API ====== */

int wd_host_new(uv_loop_t *loop, const char *id, const wd_host_io *io,
                const wd_vm *vm, wd_host **out) {
  wd_host *h = wd_calloc(1, sizeof *h);
  if (h == NULL) return WD_ENOMEM;
  h->loop = loop;
  h->vm = vm;
  h->id = wd_strdup(id);
  if (h->id == NULL) {
    wd_free(h);
    return WD_ENOMEM;
  }
  h->idlen = strlen(id);
  h->io = *io;
  h->lim.memory = 64u << 20;
  h->lim.mailbox = 100000;
  h->lim.max_payload = 4u << 20;
  h->lim.max_processes = 100000;
  h->lim.slice_ns = 10000000;
  h->lim.mailbox_bytes = 64u << 20;
  h->mq.max_bytes = 64u << 20;
  h->mq.floor = WD_MAILBOX_OWN; /* each process's own bytes (actor.c) */
  wd_buf_init(&h->scratch, 0);
  wd_buf_init(&h->evbuf[0], 0);
  wd_buf_init(&h->evbuf[1], 0);
  wd__sched_init(h);
  *out = h;
  return 0;
}

static int get_str(wd_cur *c, char **out) {
  const char *s;
  size_t n;
  int r;
  if ((r = wd_cur_str(c, &s, &n)) < 0) return r;
  if (memchr(s, '\0', n) != NULL) return WD_EBADFRAME;
  *out = wd_strndup(s, n);
  return *out ? 0 : WD_ENOMEM;
}

static void entry_free(wd_entry *e) {
  int j;
  wd_free(e->id);
  wd_free(e->chunkname);
  wd_free(e->source);
  wd_free(e->method);
  wd_free(e->bytecode);
  if (e->imports)
    for (j = 0; j < e->nimports * 2; j++) wd_free(e->imports[j]);
  wd_free(e->imports);
  wd_free(e);
}

/* Read one entry (see broker.c 'put_entry') into a new entry. */
static int entry_read(wd_cur *c, wd_entry **out) {
  wd_entry *e = wd_calloc(1, sizeof *e);
  const char *s;
  size_t sl;
  uint32_t ni, j;
  uint8_t lib;
  *out = e;
  if (e == NULL) return WD_ENOMEM;
  if (get_str(c, &e->id) || get_str(c, &e->chunkname) ||
      get_str(c, &e->method) || wd_cur_u8(c, &lib) || wd_cur_u32(c, &ni) ||
      ni > 1000 || wd_cur_str(c, &s, &sl) < 0)
    return WD_EBADFRAME;
  if ((e->source = wd_strndup(s, sl)) == NULL) return WD_ENOMEM;
  e->srclen = sl;
  e->library = lib != 0;
  e->imports = wd_calloc(ni * 2 + 1, sizeof(char *));
  if (e->imports == NULL) return WD_ENOMEM;
  e->nimports = (int)ni;
  for (j = 0; j < ni * 2; j++)
    if (get_str(c, &e->imports[j])) return WD_EBADFRAME;
  return 0;
}

/* Read one entry and add it to the host's table: ids are unique (the
** broker ships an entry once per host start). */
static int entry_add(wd_host *h, wd_cur *c) {
  wd_entry *e;
  int r = entry_read(c, &e);
  if (r == 0 && wd__host_entry(h, e->id) != NULL) r = WD_EBADFRAME;
  if (r == 0 && h->nentries == h->centries) {
    int n = h->centries ? h->centries * 2 : 16;
    wd_entry **v = n <= 200000 ? wd_realloc(h->entries, (size_t)n * sizeof *v)
                            : NULL;
    if (v == NULL) r = WD_ENOMEM;
    else {
      h->entries = v;
      h->centries = n;
    }
  }
  if (r < 0) {
    if (e != NULL) entry_free(e);
    return r;
  }
  h->entries[h->nentries++] = e;
  return 0;
}

int wd_host_add_entry(wd_host *h, wd_cur *c) {
  int r = entry_add(h, c);
  if (r == 0 && wd_cur_left(c) != 0) r = WD_EBADFRAME;
  return r;
}

/*
** A REVISE record (a deploy): u32 n, n * str id. Each entry the host holds
** with one of these ids leaves its table, so that the next spawn or
** upgrade onto the host gets the new revision (the broker ships it, as
** ENTRY, before the request that needs it). Processes that run an old
** revision keep it: a retired entry lives as long as the host.
*/
int wd_host_revise(wd_host *h, wd_cur *c) {
  uint32_t n, i;
  if (wd_cur_u32(c, &n) < 0 || n > 100000) return WD_EBADFRAME;
  for (i = 0; i < n; i++) {
    char id[512];
    const char *s;
    size_t l;
    int k;
    if (wd_cur_str(c, &s, &l) < 0 || l >= sizeof id ||
        memchr(s, '\0', l) != NULL)
      return WD_EBADFRAME;
    memcpy(id, s, l);
    id[l] = '\0';
    for (k = 0; k < h->nentries; k++)
      if (strcmp(h->entries[k]->id, id) == 0) break;
    if (k == h->nentries) continue;
    {
      wd_entry **v = wd_realloc(h->retired,
                                (size_t)(h->nretired + 1) * sizeof *v);
      if (v == NULL) return WD_ENOMEM;
      h->retired = v;
    }
    h->retired[h->nretired++] = h->entries[k];
    h->entries[k] = h->entries[--h->nentries];
    h->elast = NULL;
  }
  return wd_cur_left(c) == 0 ? 0 : WD_EBADFRAME;
}

int wd_host_set_policies(wd_host *h, wd_cur *c) {
  return wd__hsec_reload(h, c);
}

int wd_host_init(wd_host *h, wd_cur *c) {
  uint32_t n, i;
  int r = 0;
  r = r || wd_cur_u64(c, &h->lim.memory) || wd_cur_u64(c, &h->lim.mailbox) ||
      wd_cur_u64(c, &h->lim.max_payload) ||
      wd_cur_u64(c, &h->lim.max_processes) || wd_cur_u64(c, &h->lim.slice_ns) ||
      wd_cur_u64(c, &h->lim.cpu_ns) || wd_cur_u64(c, &h->lim.spawn_rate) ||
      wd_cur_u64(c, &h->lim.mailbox_bytes) ||
      wd_cur_u64(c, &h->lim.link_queue) || wd_cur_u32(c, &n);
  if (r) return WD_EBADFRAME;
  if (n > 100000) return WD_EBADFRAME;
  for (i = 0; i < n; i++)
    if ((r = entry_add(h, c)) < 0) return r;
  if (h->lim.slice_ns == 0) h->lim.slice_ns = 10000000;
  h->vm->configure(h);
  h->mq.max_bytes =
      h->lim.mailbox_bytes > SIZE_MAX ? SIZE_MAX : (size_t)h->lim.mailbox_bytes;
  return wd__hsec_init(h, c);
}

/* Spawn request from the broker: reply with the PID or an error. */
static int req_spawn(wd_host *h, uint32_t req, uint8_t op, wd_cur *c) {
  char id[512], err[512];
  spawnmsg msgs[WD_SPAWN_MAXMSGS];
  spawnopt o;
  wd_entry *e;
  wd_actor *a;
  int r;
  (void)op;
  if (wd_wire_get_spawn(c, &o, msgs) < 0) return WD_EBADFRAME;
  if (o.entrylen >= sizeof id) {
    wd__host_reply(h, req, WD_EINVAL, "entry id too long", 17);
    return 0;
  }
  memcpy(id, o.entry, o.entrylen);
  id[o.entrylen] = '\0';
  e = wd__host_entry(h, id);
  if (e == NULL) {
    int n = snprintf(err, sizeof err, "entry not found on host %s: %s",
                     h->id, id);
    wd__host_reply(h, req, WD_ENOTFOUND, err, (size_t)n);
    return 0;
  }
  r = wd__actor_spawn(h, e, &o, &a, err, sizeof err);
  if (r < 0) {
    wd__host_reply(h, req, r, err, strlen(err));
    return 0;
  }
  wd__host_reply(h, req, 0, a->pid, a->pidlen);
  return 0;
}

/* Send request from the broker: deliver to a local actor. */
static int req_send(wd_host *h, uint32_t req, uint8_t op, wd_cur *c) {
  const char *from, *dest, *topic, *hid;
  size_t fl, dl, tl, hl, plen;
  const uint8_t *payload;
  uint64_t counter;
  wd_actor *a;
  wd_msg *m;
  int r;
  (void)op;
  if (wd_cur_str(c, &from, &fl) || wd_cur_str(c, &dest, &dl) ||
      wd_cur_str(c, &topic, &tl))
    return WD_EBADFRAME;
  plen = wd_cur_left(c);
  if (wd_cur_bytes(c, plen, &payload) < 0) return WD_EBADFRAME;
  if (wd_pid_parse(dest, dl, &hid, &hl, &counter) < 0 || hl != h->idlen ||
      memcmp(hid, h->id, hl) != 0) {
    wd__host_reply(h, req, WD_EINVAL, "bad destination", 15);
    return 0;
  }
  /* This host's own limit, whatever the sender's (the broker checks it
  ** too). */
  if (plen > h->lim.max_payload) {
    char why[96];
    int n = snprintf(why, sizeof why, "payload too large (%zu bytes, limit "
                     "%llu)", plen, (unsigned long long)h->lim.max_payload);
    wd__host_reply(h, req, WD_ETOOBIG, why, (size_t)n);
    return 0;
  }
  a = wd__actor_find(h, counter);
  if (a == NULL || a->state != A_ALIVE) {
    wd__host_reply(h, req, WD_ENOTFOUND, "process not found", 17);
    return 0;
  }
  m = wd__host_msg_new(h, from, fl, topic, tl, payload, plen);
  if (m == NULL) {
    wd__host_reply(h, req, WD_ENOMEM, "out of memory", 13);
    return 0;
  }
  if ((r = wd__actor_deliver(a, m)) < 0) {
    wd_msg_free(m);
    wd__host_reply(h, req, r, "mailbox full", 12);
    return 0;
  }
  if (req != 0) wd__host_reply(h, req, 0, "", 0);
  return 0;
}

/* What a host does with each request the broker may send it (WD_OPS_BROKER
** in the operation table, include/ward/wd_ops.h). */
typedef int (*req_fn)(wd_host *h, uint32_t req, uint8_t op, wd_cur *body);
static const req_fn host_req[WD_OP_MAX] = {
    [WD_OP_SPAWN] = req_spawn,        [WD_OP_SEND] = req_send,
    [WD_OP_MONITOR] = wd__life_req,   [WD_OP_UNMONITOR] = wd__life_req,
    [WD_OP_LINK] = wd__life_req,      [WD_OP_UNLINK] = wd__life_req,
    [WD_OP_TERMINATE] = wd__life_req, [WD_OP_CANCEL] = wd__life_req,
    [WD_OP_FORGET] = wd__life_req,    [WD_OP_STATUS] = wd__hstat_req,
};

int wd_host_on_req(wd_host *h, uint32_t req, uint8_t op, wd_cur *body) {
  if (op >= WD_OP_MAX || !(wd_ops_senders(op) & WD_OPS_BROKER) ||
      host_req[op] == NULL) {
    host_log(h, "unexpected request op %u", op);
    return WD_EBADFRAME;
  }
  return host_req[op](h, req, op, body);
}

int wd_host_on_reply(wd_host *h, uint32_t req, int32_t status,
                     const char *s, size_t n) {
  pend *p = pend_take(h, req);
  wd_actor *a;
  struct task *t;
  if (p == NULL) return 0; /* the waiting actor is gone */
  a = p->a;
  t = p->t;
  wd_free(p);
  h->vm->reply(a, t, req, status, s, n);
  return 0;
}

/* An event for a process of this host (WD_R_EVENT from the broker). */
int wd_host_on_event(wd_host *h, wd_cur *c) {
  uint8_t kind;
  const char *from, *to;
  size_t fl, tl, n;
  uint64_t deadline;
  const uint8_t *p;
  if (wd_cur_u8(c, &kind) || wd_cur_str(c, &from, &fl) ||
      wd_cur_str(c, &to, &tl) || wd_cur_u64(c, &deadline))
    return WD_EBADFRAME;
  n = wd_cur_left(c);
  if (wd_cur_bytes(c, n, &p) < 0) return WD_EBADFRAME;
  if (kind < WD_EV_EXIT || kind > WD_EV_EXEC) return WD_EBADFRAME;
  wd__life_event_in(h, kind, from, fl, to, tl, deadline, p, n);
  return 0;
}


/* CANCEL every actor with a deadline; the kill timers end the rest. */
void wd__host_cancel_all(wd_host *h, uint64_t deadline_ns) {
  uint64_t at = wd__host_now_ns() + deadline_ns;
  int i;
  for (i = 0; i < HOST_BUCKETS; i++) {
    wd_actor *a;
    for (a = h->buckets[i]; a != NULL; a = a->hnext) {
      wd_codec_val none;
      none.type = WD_CODEC_V_NONE;
      wd_buf_reset(&h->scratch);
      if (wd__life_event_c(&h->scratch, "{|}", 3, "pid.cancel", at, &none) == 0)
        wd__life_event_in(h, WD_EV_CANCEL, "{|}", 3, a->pid, a->pidlen, at,
                     h->scratch.p, h->scratch.len);
      else
        wd__life_kill(a, "host shutdown");
    }
  }
}

void wd_host_shutdown(wd_host *h, uint64_t deadline_ns) {
  h->stopping = 1;
  if (h->nactors == 0) {
    if (h->io.empty) h->io.empty(h->io.ud);
    return;
  }
  wd__host_cancel_all(h, deadline_ns);
}

void wd_host_wake(wd_host *h) {
  wd__sched_wake(h);
}

size_t wd_host_count(const wd_host *h) {
  return h->nactors;
}

void wd_host_stop(wd_host *h) {
  int i;
  h->stopping = 1;
  for (i = 0; i < HOST_BUCKETS; i++)
    while (h->buckets[i] != NULL) wd__actor_free(h->buckets[i], 0);
  wd__sched_stop(h);
}

void wd_host_free(wd_host *h) {
  int i;
  if (h == NULL) return;
  /* The VM's states refer to their entries: free it first. */
  h->vm->host_free(h);
  for (i = 0; i < h->nentries; i++) entry_free(h->entries[i]);
  wd_free(h->entries);
  for (i = 0; i < h->nretired; i++) entry_free(h->retired[i]);
  wd_free(h->retired);
  for (i = 0; i < PEND_BUCKETS; i++)
    while (h->pend[i] != NULL) {
      pend *p = h->pend[i];
      h->pend[i] = p->next;
      wd_free(p);
    }
  wd__hsec_free(h);
  wd__flow_host_free(h);
  wd_buf_close(&h->scratch);
  wd_buf_close(&h->evbuf[0]);
  wd_buf_close(&h->evbuf[1]);
  wd_free(h->id);
  wd_free(h);
}

/* }====== */
