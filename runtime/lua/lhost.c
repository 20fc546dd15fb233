/*
** runtime/lua/lhost.c
** The host: actor table, scheduler on libuv, spawning, exits, local message
** delivery, and the requests a host keeps in flight at the broker.
** Runs in: host (sandboxed).
*/
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "lhost.h"
#include "lcodec.h"
#include "lerrors.h"
#include "ward/wd_proto.h"

/* {====== Actor table and run queue ====== */

static size_t bucket_of(uint64_t c) {
  return (size_t)(c * 0x9E3779B97F4A7C15ull >> 52) % HOST_BUCKETS;
}

actor *wd__host_find(wd_host *h, uint64_t counter) {
  actor *a = h->buckets[bucket_of(counter)];
  while (a != NULL && a->counter != counter) a = a->hnext;
  return a;
}

static void table_remove(wd_host *h, actor *a) {
  actor **pp = &h->buckets[bucket_of(a->counter)];
  while (*pp != NULL && *pp != a) pp = &(*pp)->hnext;
  if (*pp == a) *pp = a->hnext;
  h->nactors--;
}

static void rq_push(wd_host *h, actor *a) {
  if (a->queued || a->state != A_ALIVE) return;
  a->queued = 1;
  a->rnext = NULL;
  a->rprev = h->rq_tail;
  if (h->rq_tail) h->rq_tail->rnext = a;
  else h->rq_head = a;
  h->rq_tail = a;
}

static void rq_remove(wd_host *h, actor *a) {
  if (!a->queued) return;
  if (a->queued == 2) { /* on the late list (rq_defer) */
    if (a->rprev) a->rprev->rnext = a->rnext;
    else h->rq_late = a->rnext;
    if (a->rnext) a->rnext->rprev = a->rprev;
    else h->rq_late_tail = a->rprev;
  } else {
    if (a->rprev) a->rprev->rnext = a->rnext;
    else h->rq_head = a->rnext;
    if (a->rnext) a->rnext->rprev = a->rprev;
    else h->rq_tail = a->rprev;
  }
  a->queued = 0;
  a->rnext = a->rprev = NULL;
}

/* Put 'a', preempted, at the end of the late list: the actors that wake
** meanwhile run before it (a busy actor never stands between two that
** talk), and the late ones take their slices in turn, one a turn (see
** on_idle). Waking one of its tasks meanwhile leaves it there (rq_push
** sees it queued). */
static void rq_defer(wd_host *h, actor *a) {
  rq_remove(h, a);
  if (a->state != A_ALIVE) return;
  a->queued = 2;
  a->rnext = NULL;
  a->rprev = h->rq_late_tail;
  if (h->rq_late_tail) h->rq_late_tail->rnext = a;
  else h->rq_late = a;
  h->rq_late_tail = a;
}

static void on_idle(uv_idle_t *idle);

static void wake_loop(wd_host *h) {
  if (!h->idle_on && (h->rq_head != NULL || h->rq_late != NULL)) {
    uv_idle_start(&h->idle, on_idle);
    h->idle_on = 1;
  }
}

/* Make 't' runnable. Idempotent. */
void wd__host_ready(task *t) {
  actor *a = t->a;
  if (t->ready || a->state != A_ALIVE) return;
  t->ready = 1;
  t->next = NULL;
  if (a->rtail) a->rtail->next = t;
  else a->rhead = t;
  a->rtail = t;
  rq_push(a->h, a);
  wake_loop(a->h);
}

uint64_t wd__host_now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* }====== */

/* {====== Records to the broker ====== */

static wd_buf *rec_begin(wd_host *h, uint8_t rtype, size_t *start) {
  return h->io.begin(h->io.ud, rtype, start);
}

static void rec_end(wd_host *h, size_t start) {
  (void)h->io.end(h->io.ud, start);
}

static void send_reply(wd_host *h, uint32_t req, int32_t status,
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

/* Start a request record and remember which task waits for the reply. */
int wd__host_request(wd_host *h, task *t, uint8_t op, wd_buf **body,
                     size_t *start) {
  pend *p = wd_malloc(sizeof *p);
  wd_buf *b;
  if (p == NULL) return WD_ENOMEM;
  if (++h->next_req == 0) h->next_req = 1;
  p->req = h->next_req;
  p->t = t;
  t->a->npend++;
  p->next = h->pend[p->req % PEND_BUCKETS];
  h->pend[p->req % PEND_BUCKETS] = p;
  t->w.kind = W_REPLY;
  t->w.req = p->req;
  t->w.done = 0;
  b = rec_begin(h, WD_R_REQ, start);
  wd_buf_put_u32(b, p->req);
  wd_buf_put_u8(b, op);
  /* Who asks: the broker re-checks the request against this actor and
  ** scope, and holds the host to its ceiling. */
  wd_buf_put_str(b, t->a->sec_actor, t->a->sec_actorlen);
  wd_buf_put_cstr(b, t->a->sec_scope);
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
      p->t->a->npend--;
      return p;
    }
    pp = &p->next;
  }
  return NULL;
}

/* }====== */

/* {====== PIDs ====== */

static int next_counter(wd_host *h, uint64_t *out) {
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

/* {====== Spawning ====== */

entry *wd__host_entry(wd_host *h, const char *id) {
  int i;
  if (h->elast != NULL && strcmp(h->elast->id, id) == 0) return h->elast;
  for (i = 0; i < h->nentries; i++)
    if (strcmp(h->entries[i]->id, id) == 0) return h->elast = h->entries[i];
  return NULL;
}

/* Set up what must exist before the child's first step: the parent's
** monitor, link or exec watch, the queued messages, the name flag. */
static void spawn_relations(wd_host *h, actor *a, const spawnopt *o) {
  size_t i;
  if (o->flags & WD_SPAWN_MONITOR)
    wd__watch_add(a, WD_WATCH_MONITOR, o->parent, o->parentlen);
  if (o->flags & WD_SPAWN_EXEC)
    wd__watch_add(a, WD_WATCH_EXEC, o->parent, o->parentlen);
  if (o->flags & WD_SPAWN_LINK) {
    int local;
    uint64_t counter;
    actor *p;
    wd__watch_add(a, WD_WATCH_LINK, o->parent, o->parentlen);
    /* A parent on this host gets its side now; a remote parent's host
    ** adds it when the reply arrives. */
    wd__pid_is_local(h, o->parent, o->parentlen, &local, &counter);
    if (local == 1 && (p = wd__host_find(h, counter)) != NULL)
      wd__watch_add(p, WD_WATCH_LINK, a->pid, a->pidlen);
  }
  if (o->flags & WD_SPAWN_NAMED) a->has_names = 1;
  for (i = 0; i < o->nmsgs; i++) {
    wd_msg *m = wd_msg_new("", 0, o->msgs[i].topic, o->msgs[i].topiclen,
                           o->msgs[i].payload, o->msgs[i].plen);
    if (m == NULL) continue;
    a->nqueued++;
    wd__actor_route(a, m, 1);
  }
}

/* A token bucket of 'spawn_rate' tokens a second, holding at most one
** second's worth: take one, or say there is none. */
static int spawn_token(wd_host *h) {
  uint64_t now = uv_hrtime();
  double rate = (double)h->lim.spawn_rate;
  if (h->spawn_last == 0) h->spawn_tokens = rate;
  else h->spawn_tokens += (double)(now - h->spawn_last) * rate / 1e9;
  if (h->spawn_tokens > rate) h->spawn_tokens = rate;
  h->spawn_last = now;
  if (h->spawn_tokens < 1.0) return 0;
  h->spawn_tokens -= 1.0;
  return 1;
}

int wd__host_spawn_local(wd_host *h, entry *e, const spawnopt *o,
                         actor **out, char *err, size_t errlen) {
  actor *a;
  int r;
  size_t b;
  if (errlen > 0) { /* what a failure below without a message means */
    size_t n = sizeof "out of memory" < errlen ? sizeof "out of memory"
                                               : errlen;
    memcpy(err, "out of memory", n - 1);
    err[n - 1] = '\0';
  }
  if (h->stopping) {
    snprintf(err, errlen, "host %s is stopping", h->id);
    return WD_EUNAVAIL;
  }
  if (e->library) {
    snprintf(err, errlen, "%s is a library, not a process", e->id);
    return WD_EINVAL;
  }
  if (h->lim.max_processes && h->nactors >= h->lim.max_processes) {
    snprintf(err, errlen, "max processes limit exceeded (%llu on host %s)",
             (unsigned long long)h->lim.max_processes, h->id);
    return WD_ELIMIT;
  }
  if (h->lim.spawn_rate && !spawn_token(h)) {
    snprintf(err, errlen, "spawn rate limit exceeded (%llu per second on "
             "host %s)", (unsigned long long)h->lim.spawn_rate, h->id);
    return WD_ELIMIT;
  }
  a = wd_calloc(1, sizeof *a);
  if (a == NULL) return WD_ENOMEM;
  if ((r = next_counter(h, &a->counter)) < 0) {
    snprintf(err, errlen, "no PIDs left on host %s, retry", h->id);
    wd_free(a);
    return r;
  }
  a->h = h;
  a->e = e;
  a->mem_limit = (size_t)h->lim.memory;
  a->state = A_ALIVE;
  a->report_exit = (o->flags & WD_SPAWN_ROOT) != 0;
  if (o->ctxlen > 0 && (a->ctx = wd_malloc(o->ctxlen)) != NULL) {
    memcpy(a->ctx, o->ctx, o->ctxlen);
    a->ctxlen = o->ctxlen;
  }
  if (wd__sec_bind(a, o) < 0 || (o->ctxlen > 0 && a->ctx == NULL)) {
    wd__sec_unbind(a);
    wd_free(a->ctx);
    wd_free(a);
    return WD_ENOMEM;
  }
  r = wd_pid_format(a->pid, sizeof a->pid, h->id, h->idlen, a->counter);
  if (r < 0) {
    wd__sec_unbind(a);
    wd_free(a->ctx);
    wd_free(a);
    return r;
  }
  a->pidlen = (size_t)r;
  wd__mbox_init(a, &a->pending);
  if ((r = wd__env_new(a)) < 0) {
    wd__sec_unbind(a);
    wd_free(a->ctx);
    wd_free(a);
    return r;
  }
  b = bucket_of(a->counter);
  a->hnext = h->buckets[b];
  h->buckets[b] = a;
  if (++h->nactors > h->peak_actors) h->peak_actors = h->nactors;
  if ((r = wd__env_boot(a, o->args, o->alen, err, errlen)) < 0) {
    table_remove(h, a);
    wd__env_release(a, 1);
    wd__sec_unbind(a);
    wd_free(a->ctx);
    wd_free(a);
    return r;
  }
  spawn_relations(h, a, o);
  *out = a;
  return 0;
}

/* }====== */

/* {====== Exits ====== */

/* Rendering a result is bounded whatever the value: each table is shown
** once (a table met again, shared or in a cycle, shows as <shared>), at
** most RENDER_DEPTH levels deep, and rendering stops after RENDER_NODES
** values or RENDER_BYTES of text ("..."). A small DAG of shared subtables
** once took its host seconds (issue 11). */
#define RENDER_DEPTH 8
#define RENDER_NODES 20000
#define RENDER_BYTES (64u << 10)

typedef struct rstate {
  wd_buf *b;
  int seen;     /* stack index of the set of tables shown */
  size_t nodes; /* values left to show */
  int cut;      /* the budget ran out: "..." written */
} rstate;

static void render(lua_State *L, int idx, rstate *r, int depth);

typedef struct skey {
  const char *s;
  size_t n;
} skey;

static int skey_cmp(const void *x, const void *y) {
  const skey *a = x, *c = y;
  int r = memcmp(a->s, c->s, a->n < c->n ? a->n : c->n);
  return r != 0 ? r : (a->n > c->n) - (a->n < c->n);
}

/* Is the budget spent? Says so once, in the text. */
static int render_spent(rstate *r) {
  if (r->cut) return 1;
  if (r->nodes > 0 && r->b->len < RENDER_BYTES) return 0;
  wd_buf_put(r->b, "...", 3);
  r->cut = 1;
  return 1;
}

/* The non-array entries of the table at 'idx': string keys in sorted
** order (so output is stable), then the other keys. */
static void render_keys(lua_State *L, int idx, lua_Integer len, rstate *r,
                        int depth, int first) {
  wd_buf *b = r->b;
  skey keys[64];
  size_t nk = 0, i;
  int top = lua_gettop(L);
  lua_pushnil(L);
  while (lua_next(L, idx)) {
    lua_pop(L, 1);
    if (lua_type(L, -1) == LUA_TSTRING && nk < WD_COUNTOF(keys)) {
      keys[nk].s = lua_tolstring(L, -1, &keys[nk].n);
      nk++;
    }
  }
  qsort(keys, nk, sizeof *keys, skey_cmp);
  for (i = 0; i < nk && !r->cut; i++) {
    if (!first) wd_buf_put(b, ", ", 2);
    first = 0;
    wd_buf_put(b, keys[i].s, keys[i].n);
    wd_buf_put(b, " = ", 3);
    lua_pushlstring(L, keys[i].s, keys[i].n);
    lua_rawget(L, idx);
    render(L, -1, r, depth + 1);
    lua_pop(L, 1);
  }
  /* Everything else (and string keys past the first 64). */
  lua_pushnil(L);
  while (!r->cut && lua_next(L, idx)) {
    int skip = lua_isinteger(L, -2) && lua_tointeger(L, -2) >= 1 &&
               lua_tointeger(L, -2) <= len;
    if (lua_type(L, -2) == LUA_TSTRING) {
      const char *k = lua_tostring(L, -2);
      for (i = 0; i < nk && !skip; i++)
        if (keys[i].s == k) skip = 1;
    }
    if (!skip) {
      if (!first) wd_buf_put(b, ", ", 2);
      first = 0;
      wd_buf_put_u8(b, '[');
      render(L, -2, r, depth + 1);
      wd_buf_put(b, "] = ", 4);
      render(L, -1, r, depth + 1);
    }
    lua_pop(L, 1);
  }
  lua_settop(L, top); /* a cut leaves a key behind */
}

/* Render a result value for people (ward run prints it). */
static void render(lua_State *L, int idx, rstate *r, int depth) {
  wd_buf *b = r->b;
  size_t n;
  const char *s;
  idx = lua_absindex(L, idx);
  if (render_spent(r)) return;
  r->nodes--;
  switch (lua_type(L, idx)) {
    case LUA_TTABLE: {
      int first = 1;
      lua_Integer i, len = (lua_Integer)lua_rawlen(L, idx);
      if (depth > RENDER_DEPTH || !lua_checkstack(L, 4)) {
        wd_buf_put(b, "{...}", 5);
        return;
      }
      lua_pushvalue(L, idx);
      if (lua_rawget(L, r->seen) != LUA_TNIL) {
        lua_pop(L, 1);
        wd_buf_put(b, "<shared>", 8);
        return;
      }
      lua_pop(L, 1);
      lua_pushvalue(L, idx);
      lua_pushboolean(L, 1);
      lua_rawset(L, r->seen);
      wd_buf_put_u8(b, '{');
      for (i = 1; i <= len && !r->cut; i++) {
        if (!first) wd_buf_put(b, ", ", 2);
        first = 0;
        lua_rawgeti(L, idx, i);
        render(L, -1, r, depth + 1);
        lua_pop(L, 1);
      }
      if (!r->cut) render_keys(L, idx, len, r, depth, first);
      if (!r->cut) wd_buf_put_u8(b, '}');
      return;
    }
    case LUA_TSTRING:
      s = lua_tolstring(L, idx, &n);
      if (n > RENDER_BYTES) n = RENDER_BYTES;
      if (depth > 0) wd_buf_put_u8(b, '"');
      wd_buf_put(b, s, n);
      if (depth > 0) wd_buf_put_u8(b, '"');
      return;
    default:
      if (wd_lerr_is(L, idx)) {
        s = wd_lerr_message(L, idx);
        if (s != NULL) wd_buf_put(b, s, strlen(s));
        return;
      }
      /* No metamethods: rendering runs no script code. */
      if (lua_type(L, idx) == LUA_TNUMBER) {
        lua_pushvalue(L, idx);
        s = lua_tolstring(L, -1, &n);
        wd_buf_put(b, s, n);
        lua_pop(L, 1);
      } else if (lua_type(L, idx) == LUA_TBOOLEAN) {
        s = lua_toboolean(L, idx) ? "true" : "false";
        wd_buf_put(b, s, strlen(s));
      } else {
        s = luaL_typename(L, idx);
        wd_buf_put(b, s, strlen(s));
      }
  }
}

/* Render the value at 'vidx' into 'b', within the bounds above. */
static void render_value(lua_State *L, int vidx, wd_buf *b) {
  rstate r;
  int top = lua_gettop(L);
  vidx = lua_absindex(L, vidx);
  if (!lua_checkstack(L, 8)) return;
  lua_newtable(L);
  r.b = b;
  r.seen = lua_gettop(L);
  r.nodes = RENDER_NODES;
  r.cut = 0;
  render(L, vidx, &r, 0);
  lua_settop(L, top);
}

/* Runs outside any protected call, so it runs no script code (render uses
** no metamethods) and lifts the quota of the ending actor: the only error
** left is a real out-of-memory, which takes the host down (contained). */
static void report_exit(actor *a, uint32_t flags, int32_t status,
                        lua_State *L, int vidx) {
  wd_host *h = a->h;
  wd_buf text, res;
  size_t st;
  wd_buf *b;
  char err[128];
  a->mem_limit = SIZE_MAX;
  wd_buf_init(&text, RENDER_BYTES + 4096);
  wd_buf_init(&res, (size_t)h->lim.max_payload);
  /* The text and the value matter only to the broker's own watch (ward
  ** run, ward test, services); names and remote watchers need the exit. */
  if (vidx != 0 && a->report_exit) {
    render_value(L, vidx, &text);
    if (wd_codec_encode(L, vidx, 1, &res, (size_t)h->lim.max_payload, err,
                        sizeof err) < 0)
      wd_buf_reset(&res);
  }
  b = rec_begin(h, WD_R_EXIT, &st);
  wd_buf_put_u64(b, a->counter);
  wd_buf_put_u8(b, (uint8_t)flags);
  wd_buf_put_u32(b, (uint32_t)status);
  wd_buf_put_str(b, (const char *)text.p, text.err ? 0 : text.len);
  wd_buf_put_str(b, (const char *)res.p, res.err ? 0 : res.len);
  rec_end(h, st);
  wd_buf_close(&text);
  wd_buf_close(&res);
}

/* The end of 'a': nothing reaches it afterwards, no Lua of it runs. What
** must stop now stops (timers, tasks, requests). With 'later', the rest
** of its memory goes with its state's reset (a kill: kills come in
** cascades through links, which then free nothing on their way); else
** now (a normal end: its memory is still in the cache, and the next spawn
** takes it). */
static void actor_free(actor *a, int later) {
  wd_host *h = a->h;
  tmr *t;
  int i;
  if (a->state == A_ALIVE) table_remove(h, a);
  a->state = A_DEAD;
  rq_remove(h, a);
  wd__watch_free_all(a);
  /* Requests in flight: their replies will find no task. */
  for (i = 0; a->npend > 0 && i < PEND_BUCKETS; i++) {
    pend **pp = &h->pend[i];
    while (*pp != NULL) {
      pend *p = *pp;
      if (p->t->a == a) {
        *pp = p->next;
        a->npend--;
        wd_free(p);
      } else {
        pp = &p->next;
      }
    }
  }
  /* Tasks first: a sleeping task owns its timer. */
  while (a->tasks != NULL) wd__task_free(a->tasks);
  while ((t = a->timers) != NULL) {
    a->timers = t->next;
    wd__tmr_stop(t);
  }
  if (later) { /* 'a' may be gone when this returns */
    wd__env_release_actor(a);
    return;
  }
  wd__env_release(a, 1);
  wd__actor_reclaim(a);
}

/* Free what an ended actor still holds: its subscriptions and queued
** messages, its identity, context and upgrade, itself. Nothing refers to
** it any more (actor_free). */
void wd__actor_reclaim(actor *a) {
  sub *s;
  while ((s = a->subs) != NULL) {
    a->subs = s->next;
    wd_mbox_clear(&s->q);
    wd_free(s->topic);
    wd_free(s);
  }
  wd_mbox_clear(&a->pending);
  wd_msg_free(a->decoding);
  wd__sec_unbind(a);
  wd_free(a->ctx);
  wd_free(a->upg_entry);
  wd_free(a->upg_args);
  wd__exec_early_free(a);
  wd_free(a);
}

/* The common end of every actor: leave the table so nothing new reaches
** it, tell the watchers, report to the broker when it watches (root,
** names, watchers on other hosts), free. The value or error is at 'vidx'.
** The report comes after the events: the broker takes it to mean that
** this process sends nothing more, and forgets its watches
** (broker_life.c, wd__brk_watch_forget). */
static void finish(actor *a, lua_State *L, uint32_t flags, int vidx) {
  wd_host *h = a->h;
  a->mem_limit = SIZE_MAX; /* room to describe the end */
  table_remove(h, a);
  a->state = A_DEAD;
  wd__life_exit(a, L, (flags & WD_EXIT_OK) != 0, vidx, NULL, NULL);
  if (a->report_exit || a->has_names || a->remote_watch)
    report_exit(a, flags, 0, L, vidx);
  actor_free(a, 0);
  if (h->stopping && h->nactors == 0 && h->io.empty) h->io.empty(h->io.ud);
}

/* Main returned 'nres' values on top of 'co' (reference §3.3). */
static void finish_ok(actor *a, lua_State *co, int nres) {
  int base = lua_gettop(co) - nres + 1;
  uint32_t flags = WD_EXIT_OK;
  int vidx = 0;
  a->mem_limit = SIZE_MAX;
  if (nres >= 2 && (lua_type(co, base + 1) == LUA_TSTRING ||
                    wd_lerr_is(co, base + 1))) {
    if (lua_type(co, base + 1) == LUA_TSTRING)
      wd_lerr_push(co, "Internal", lua_tostring(co, base + 1), 0);
    else
      lua_pushvalue(co, base + 1);
    flags = 0;
    vidx = lua_gettop(co);
  } else if (nres >= 1) {
    vidx = base;
    if (lua_type(co, base) == LUA_TBOOLEAN && !lua_toboolean(co, base))
      flags |= WD_EXIT_FALSE;
  }
  finish(a, co, flags, vidx);
}

static void finish_err(actor *a, lua_State *co, int status) {
  a->mem_limit = SIZE_MAX;
  if (status == LUA_ERRMEM) {
    char m[96];
    snprintf(m, sizeof m, "memory limit exceeded (%llu bytes)",
             (unsigned long long)a->h->lim.memory);
    wd_lerr_push(co, "LimitExceeded", m, 0);
  } else if (!wd_lerr_is(co, -1)) {
    wd_lerr_from_value(co, -1);
  }
  finish(a, co, 0, lua_gettop(co));
}

/* End 'a' with an error of 'kind' made here (limits, kills). When the
** broker need not hear of it, the events are written in C and the state
** is released untouched: a kill cascading through a chain of links makes
** no Lua object in any of the dying states. */
static void finish_msg(actor *a, const char *kind, const char *msg) {
  wd_host *h = a->h;
  a->mem_limit = SIZE_MAX;
  if (a->report_exit || a->has_names || a->remote_watch) {
    lua_settop(a->L, 0);
    wd_lerr_push(a->L, kind, msg, 0);
    finish(a, a->L, 0, lua_gettop(a->L));
    return;
  }
  table_remove(h, a);
  a->state = A_DEAD;
  wd__life_exit(a, NULL, 0, 0, kind, msg);
  actor_free(a, 1);
  if (h->stopping && h->nactors == 0 && h->io.empty) h->io.empty(h->io.ud);
}

/* }====== */

/* {====== Scheduler ====== */

static task *pop_task(actor *a) {
  task *t = a->rhead;
  if (t == NULL) return NULL;
  a->rhead = t->next;
  if (a->rhead == NULL) a->rtail = NULL;
  t->next = NULL;
  t->ready = 0;
  return t;
}

static void task_done(actor *a, task *t) {
  (void)a;
  wd__task_free(t);
}

/* Run one task of 'a' until it blocks, yields or ends. Returns 0 when
** the actor ended (and is freed), 2 when it was preempted, else 1. */
static int run_one(actor *a) {
  task *t = pop_task(a);
  int st, nres = 0, nargs;
  if (a->killed) {
    finish_msg(a, "Internal", a->kill_msg);
    return 0;
  }
  if (t == NULL) return 1;
  a->yield_reason = Y_NONE;
  nargs = lua_gettop(t->co);
  if (lua_status(t->co) == LUA_YIELD) nargs = 0;
  else nargs -= 1; /* first run: function + arguments */
  a->running = t;
  wd__preempt_enter(a, t->co);
  st = lua_resume(t->co, NULL, nargs, &nres);
  wd__preempt_leave();
  a->running = NULL;
  /* Over its CPU budget, or too long inside a C call (lenv.c): it yielded
  ** or its error unwound to here, and it is never resumed. */
  if (a->doomed) {
    char m[sizeof a->doom_msg];
    memcpy(m, a->doom_msg, sizeof m);
    finish_msg(a, "LimitExceeded", m);
    return 0;
  }
  if (a->killed) { /* it terminated itself */
    finish_msg(a, "Internal", a->kill_msg);
    return 0;
  }
  if (a->yield_reason == Y_UPGRADE) {
    char err[512];
    lua_pop(t->co, nres);
    if (wd__env_upgrade(a, err, sizeof err) < 0) {
      finish_msg(a, "Internal", err);
      return 0;
    }
    return 1;
  }
  if (st == LUA_YIELD) {
    lua_pop(t->co, nres);
    if (a->yield_reason != Y_BLOCK) wd__host_ready(t);
    return a->yield_reason == Y_PREEMPT ? 2 : 1;
  }
  if (st == LUA_OK) {
    if (!t->is_main) {
      lua_pop(t->co, nres);
      task_done(a, t);
      return 1;
    }
    finish_ok(a, t->co, nres);
    return 0;
  }
  finish_err(a, t->co, st);
  return 0;
}

/* Is the link to the broker backed up past 'link_queue'? Then the host's
** processes wait (what they would send has nowhere to go but this host's
** memory) until it drains and wd_host_wake runs them again. */
static int backed_up(wd_host *h) {
  return h->lim.link_queue != 0 && h->io.backlog != NULL &&
         h->io.backlog(h->io.ud) >= h->lim.link_queue;
}

void wd_host_wake(wd_host *h) {
  wake_loop(h);
}

/* One turn: first the actors that woke (the run queue), in order, each
** until it blocks or yields, for at most a preemption tick (a quarter
** slice of CPU, lenv.c); then, unless one of them was preempted (it
** goes late), the oldest preempted actor for its slice. Then back to the
** loop (I/O, timers, the heartbeat). So a busy actor delays the I/O of
** its neighbours by at most a slice and a tick, and never stands between
** two actors that talk: what wakes runs first. The late ones still get a
** slice every turn, however busy the others keep the run queue. What the
** woken actors wrote (an echo's answer) is flushed before a late actor
** takes its slice. Checking the tick counter costs a load per run. */
static void on_idle(uv_idle_t *idle) {
  wd_host *h = idle->data;
  unsigned long t0 = wd__preempt_ticks();
  actor *a;
  int r;
  if (h->io.flush) h->io.flush(h->io.ud);
  if (backed_up(h)) {
    uv_idle_stop(&h->idle);
    h->idle_on = 0;
    return;
  }
  while ((a = h->rq_head) != NULL) {
    rq_remove(h, a);
    r = run_one(a);
    if (r == 2) { /* it took a slice: the turn is over */
      rq_defer(h, a);
      return;
    }
    if (r && a->rhead != NULL) rq_push(h, a);
    if (wd__preempt_ticks() != t0) break;
  }
  if ((a = h->rq_late) != NULL) {
    if (h->io.flush) h->io.flush(h->io.ud);
    rq_remove(h, a);
    r = run_one(a);
    if (r == 2) rq_defer(h, a);
    else if (r && a->rhead != NULL) rq_push(h, a);
    return;
  }
  /* Nothing to run: reset or close the states of ended actors, a slice
  ** at a time (lstate.c). */
  if (h->rq_head == NULL && h->rq_late == NULL &&
      !wd__env_pool_work(1000000) && h->idle_on) {
    uv_idle_stop(&h->idle);
    h->idle_on = 0;
  }
}

/* }====== */

/* {====== Delivery ====== */

/* An empty queue of 'a': every queue of an actor counts in its host's
** total, whose byte bound is the host's 'mailbox_bytes'. */
void wd__mbox_init(actor *a, wd_mbox *q) {
  wd_mbox_init(q, 0);
  wd_mbox_bound(q, 0, &a->h->mq);
}

/* Is there room in the mailbox of 'a' for one more message taking 'size'
** bytes (wd_msg_size)? Returns 0 or WD_EMBOXFULL: 'a' holds 'mailbox'
** messages, or the host's mailboxes would hold more than 'mailbox_bytes'. */
static int room_for(actor *a, size_t size) {
  const wd_mtotal *t = &a->h->mq;
  if (a->h->lim.mailbox && a->nqueued >= a->h->lim.mailbox) return WD_EMBOXFULL;
  if (t->max_bytes != 0 &&
      (size > t->max_bytes || t->bytes > t->max_bytes - size))
    return WD_EMBOXFULL;
  return 0;
}

/* The same for a message whose strings and payload take 'bytes' (an event
** before it is made). */
int wd__actor_room(actor *a, size_t bytes) {
  return room_for(a, bytes + sizeof(wd_msg) + 2);
}

/* Route 'm' into a subscription or the pending queue of 'a' (reference
** §2.3): exact topic, else the inbox unless the topic starts with '@',
** else pending until a subscription appears. Unless 'force', 'm' is new:
** it must fit the actor's count bound and the host's byte bound (the
** bytes of every queued message count against the host, so a process
** that never reads cannot take its host past its limits), and it is
** counted. With 'force' it is never refused: a message moved between
** queues, or one accepted already (the caller counts it). */
int wd__actor_route(actor *a, wd_msg *m, int force) {
  sub *s;
  if (!force && room_for(a, wd_msg_size(m)) < 0) return WD_EMBOXFULL;
  for (s = a->subs; s != NULL; s = s->next)
    if (s->topic != NULL && strcmp(s->topic, m->topic) == 0) break;
  if (s == NULL && m->topic[0] != '@') s = a->inbox;
  if (!force) a->nqueued++;
  if (s == NULL) {
    wd_mbox_push_force(&a->pending, m);
    return 0;
  }
  wd_mbox_push_force(&s->q, m);
  wd__chan_notify(s->ch);
  return 0;
}

/* Move messages that are now better routed (after a subscribe or an
** unsubscribe of 'from') into place, keeping their order. */
void wd__actor_reroute(actor *a, sub *from) {
  wd_mbox old = a->pending;
  wd_msg *m;
  wd__mbox_init(a, &a->pending);
  if (from != NULL) {
    while ((m = wd_mbox_pop(&from->q)) != NULL) wd__actor_route(a, m, 1);
  }
  while ((m = wd_mbox_pop(&old)) != NULL) wd__actor_route(a, m, 1);
}

int wd__host_deliver(wd_host *h, actor *to, wd_msg *m) {
  (void)h;
  if (to == NULL || to->state != A_ALIVE) return WD_ENOACTOR;
  return wd__actor_route(to, m, 0);
}

/* }====== */

/* {====== Public API ====== */

int wd_host_new(uv_loop_t *loop, const char *id, const wd_host_io *io,
                wd_host **out) {
  wd_host *h = wd_calloc(1, sizeof *h);
  if (h == NULL) return WD_ENOMEM;
  h->loop = loop;
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
  wd_buf_init(&h->scratch, 0);
  wd_buf_init(&h->evbuf[0], 0);
  wd_buf_init(&h->evbuf[1], 0);
  uv_idle_init(loop, &h->idle);
  h->idle.data = h;
  wd__preempt_start();
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

static void entry_free(entry *e) {
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
static int entry_read(wd_cur *c, entry **out) {
  entry *e = wd_calloc(1, sizeof *e);
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
  entry *e;
  int r = entry_read(c, &e);
  if (r == 0 && wd__host_entry(h, e->id) != NULL) r = WD_EBADFRAME;
  if (r == 0 && h->nentries == h->centries) {
    int n = h->centries ? h->centries * 2 : 16;
    entry **v = n <= 200000 ? wd_realloc(h->entries, (size_t)n * sizeof *v)
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
  wd__preempt_config(h->lim.slice_ns);
  h->mq.max_bytes =
      h->lim.mailbox_bytes > SIZE_MAX ? SIZE_MAX : (size_t)h->lim.mailbox_bytes;
  return wd__sec_init(h, c);
}

/* Parse the body of a SPAWN request after its op (wd_wire_get_spawn) into
** 'o' and the entry id. Messages are kept in 'msgs'. */
static int parse_spawn(wd_cur *c, spawnopt *o, const char **eid, size_t *el,
                       spawnmsg msgs[WD_SPAWN_MAXMSGS]) {
  wd_spawnrec q;
  if (wd_wire_get_spawn(c, &q, msgs) < 0) return WD_EBADFRAME;
  o->parent = q.parent;
  o->parentlen = q.parentlen;
  o->actor = q.actor;
  o->actorlen = q.actorlen;
  o->scope = q.scope;
  o->scopelen = q.scopelen;
  o->args = q.args;
  o->alen = q.alen;
  o->ctx = q.ctx;
  o->ctxlen = q.ctxlen;
  o->msgs = q.msgs;
  o->nmsgs = q.nmsgs;
  o->flags = q.flags;
  *eid = q.entry;
  *el = q.entrylen;
  return 0;
}

/* Spawn request from the broker: reply with the PID or an error. */
static int req_spawn(wd_host *h, uint32_t req, wd_cur *c) {
  const char *eid;
  size_t el;
  char id[512], err[512];
  spawnmsg msgs[WD_SPAWN_MAXMSGS];
  spawnopt o;
  entry *e;
  actor *a;
  int r;
  if (parse_spawn(c, &o, &eid, &el, msgs) < 0) return WD_EBADFRAME;
  if (el >= sizeof id) {
    send_reply(h, req, WD_EINVAL, "entry id too long", 17);
    return 0;
  }
  memcpy(id, eid, el);
  id[el] = '\0';
  e = wd__host_entry(h, id);
  if (e == NULL) {
    int n = snprintf(err, sizeof err, "entry not found on host %s: %s",
                     h->id, id);
    send_reply(h, req, WD_ENOTFOUND, err, (size_t)n);
    return 0;
  }
  r = wd__host_spawn_local(h, e, &o, &a, err, sizeof err);
  if (r < 0) {
    send_reply(h, req, r, err, strlen(err));
    return 0;
  }
  send_reply(h, req, 0, a->pid, a->pidlen);
  return 0;
}

/* Send request from the broker: deliver to a local actor. */
static int req_send(wd_host *h, uint32_t req, wd_cur *c) {
  const char *from, *dest, *topic, *hid;
  size_t fl, dl, tl, hl, plen;
  const uint8_t *payload;
  uint64_t counter;
  actor *a;
  wd_msg *m;
  int r;
  if (wd_cur_str(c, &from, &fl) || wd_cur_str(c, &dest, &dl) ||
      wd_cur_str(c, &topic, &tl))
    return WD_EBADFRAME;
  plen = wd_cur_left(c);
  if (wd_cur_bytes(c, plen, &payload) < 0) return WD_EBADFRAME;
  if (wd_pid_parse(dest, dl, &hid, &hl, &counter) < 0 || hl != h->idlen ||
      memcmp(hid, h->id, hl) != 0) {
    send_reply(h, req, WD_EINVAL, "bad destination", 15);
    return 0;
  }
  a = wd__host_find(h, counter);
  if (a == NULL || a->state != A_ALIVE) {
    send_reply(h, req, WD_ENOTFOUND, "process not found", 17);
    return 0;
  }
  m = wd_msg_new(from, fl, topic, tl, payload, plen);
  if (m == NULL) {
    send_reply(h, req, WD_ENOMEM, "out of memory", 13);
    return 0;
  }
  if ((r = wd__host_deliver(h, a, m)) < 0) {
    wd_msg_free(m);
    send_reply(h, req, r, "mailbox full", 12);
    return 0;
  }
  if (req != 0) send_reply(h, req, 0, "", 0);
  return 0;
}

int wd_host_on_req(wd_host *h, uint32_t req, uint8_t op, wd_cur *body) {
  switch (op) {
    case WD_OP_SPAWN:
      return req_spawn(h, req, body);
    case WD_OP_SEND:
      return req_send(h, req, body);
    case WD_OP_MONITOR:
    case WD_OP_UNMONITOR:
    case WD_OP_LINK:
    case WD_OP_UNLINK:
    case WD_OP_TERMINATE:
    case WD_OP_CANCEL:
    case WD_OP_FORGET:
      return wd__host_req_life(h, op, body, req);
    default:
      host_log(h, "unexpected request op %u", op);
      return WD_EBADFRAME;
  }
}

int wd_host_on_reply(wd_host *h, uint32_t req, int32_t status,
                     const char *s, size_t n) {
  pend *p = pend_take(h, req);
  task *t;
  if (p == NULL) return 0; /* the waiting actor is gone */
  t = p->t;
  wd_free(p);
  if (t->w.kind != W_REPLY || t->w.req != req) return 0;
  t->w.status = status;
  /* The link must exist before any event that follows this reply in the
  ** same frame (a linked child that fails at once). */
  if (t->w.link_on_reply && status >= 0 && n > 0 && s[0] != '=') {
    int local;
    uint64_t counter;
    /* A linked child on this host got both sides when it was made (2: the
    ** reply to a spawn). */
    wd__pid_is_local(h, s, n, &local, &counter);
    if (t->w.link_on_reply == 1 || local != 1)
      wd__watch_add(t->a, WD_WATCH_LINK, s, n);
  }
  if (t->w.unlink_on_reply && status >= 0 && n > 0)
    wd__life_unlinked(t->a, s, n);
  t->w.link_on_reply = 0;
  t->w.unlink_on_reply = 0;
  wd_free(t->w.rstr);
  t->w.rstr = wd_strndup(s, n);
  t->w.rlen = t->w.rstr ? n : 0;
  t->w.done = 1;
  wd__host_ready(t);
  return 0;
}

/* CANCEL every actor with a deadline; the kill timers end the rest. */
void wd__host_cancel_all(wd_host *h, uint64_t deadline_ns) {
  uint64_t at = wd__host_now_ns() + deadline_ns;
  int i;
  for (i = 0; i < HOST_BUCKETS; i++) {
    actor *a;
    for (a = h->buckets[i]; a != NULL; a = a->hnext) {
      size_t limit = a->mem_limit;
      int r;
      /* No script code runs here; the quota is lifted just for this. */
      a->mem_limit = SIZE_MAX;
      r = wd__event_build(a->L, "{|}", 3, "pid.cancel", 0, 1, at,
                          &h->scratch);
      a->mem_limit = limit;
      if (r == 0)
        wd__event_in(h, WD_EV_CANCEL, "{|}", 3, a->pid, a->pidlen, at,
                     h->scratch.p, h->scratch.len);
      else
        wd__actor_kill(a, "host shutdown");
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

size_t wd_host_count(const wd_host *h) {
  return h->nactors;
}

void wd_host_stop(wd_host *h) {
  int i;
  h->stopping = 1;
  for (i = 0; i < HOST_BUCKETS; i++)
    while (h->buckets[i] != NULL) actor_free(h->buckets[i], 0);
  if (h->idle_on) uv_idle_stop(&h->idle);
  h->idle_on = 0;
  if (!uv_is_closing((uv_handle_t *)&h->idle))
    uv_close((uv_handle_t *)&h->idle, NULL);
}

void wd_host_free(wd_host *h) {
  int i;
  if (h == NULL) return;
  /* The pool's states refer to their entries: drain them first. */
  wd__env_pool_drain(h->entries, h->nentries);
  for (i = 0; i < h->nentries; i++) entry_free(h->entries[i]);
  wd_free(h->entries);
  for (i = 0; i < PEND_BUCKETS; i++)
    while (h->pend[i] != NULL) {
      pend *p = h->pend[i];
      h->pend[i] = p->next;
      wd_free(p);
    }
  if (h->compiler) lua_close(h->compiler);
  wd__sec_free(h);
  wd_free(h->boot_bc);
  wd_buf_close(&h->scratch);
  wd_buf_close(&h->evbuf[0]);
  wd_buf_close(&h->evbuf[1]);
  wd_free(h->id);
  wd_free(h);
}

/* }====== */
