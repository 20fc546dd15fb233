/*
** runtime/actor.c
** Actors as the core knows them: the table of a host's live actors,
** spawning (limits, PID, identity, what must exist before the first
** step), delivery into mailboxes and subscriptions, and the end.
** Runs in: host (sandboxed).
*/
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "host_int.h"

/* {====== Actor table ====== */

static size_t bucket_of(uint64_t c) {
  return (size_t)(c * 0x9E3779B97F4A7C15ull >> 52) % HOST_BUCKETS;
}

wd_actor *wd__actor_find(wd_host *h, uint64_t counter) {
  wd_actor *a = h->buckets[bucket_of(counter)];
  while (a != NULL && a->counter != counter) a = a->hnext;
  return a;
}

static void table_insert(wd_host *h, wd_actor *a) {
  size_t b = bucket_of(a->counter);
  a->hnext = h->buckets[b];
  h->buckets[b] = a;
  if (++h->nactors > h->peak_actors) h->peak_actors = h->nactors;
}

static void table_remove(wd_host *h, wd_actor *a) {
  wd_actor **pp = &h->buckets[bucket_of(a->counter)];
  while (*pp != NULL && *pp != a) pp = &(*pp)->hnext;
  if (*pp == a) *pp = a->hnext;
  h->nactors--;
}

/* }====== */

/* {====== Spawning ====== */

/* Set up what must exist before the child's first step: the parent's
** monitor, link or exec watch, the queued messages, the name flag. */
static void spawn_relations(wd_host *h, wd_actor *a, const spawnopt *o) {
  size_t i;
  if (o->flags & WD_SPAWN_MONITOR)
    wd__life_watch_add(a, WD_WATCH_MONITOR, o->parent, o->parentlen);
  if (o->flags & WD_SPAWN_EXEC)
    wd__life_watch_add(a, WD_WATCH_EXEC, o->parent, o->parentlen);
  if (o->flags & WD_SPAWN_LINK) {
    int local;
    uint64_t counter;
    wd_actor *p;
    wd__life_watch_add(a, WD_WATCH_LINK, o->parent, o->parentlen);
    /* A parent on this host gets its side now; a remote parent's host
    ** adds it when the reply arrives. */
    wd__host_pid_is_local(h, o->parent, o->parentlen, &local, &counter);
    if (local == 1 && (p = wd__actor_find(h, counter)) != NULL)
      wd__life_watch_add(p, WD_WATCH_LINK, a->pid, a->pidlen);
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

/* Undo what wd__actor_spawn made before its VM state. */
static void spawn_undo(wd_actor *a) {
  wd__hsec_unbind(a);
  wd_free(a->ctx);
  wd_free(a);
}

int wd__actor_spawn(wd_host *h, wd_entry *e, const spawnopt *o,
                    wd_actor **out, char *err, size_t errlen) {
  wd_actor *a;
  int r;
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
  a = wd_calloc(1, h->vm->actor_size);
  if (a == NULL) return WD_ENOMEM;
  if ((r = wd__host_next_counter(h, &a->counter)) < 0) {
    snprintf(err, errlen, "no PIDs left on host %s, retry", h->id);
    wd_free(a);
    return r;
  }
  a->h = h;
  a->e = e;
  a->state = A_ALIVE;
  a->report_exit = (o->flags & WD_SPAWN_ROOT) != 0;
  if (o->ctxlen > 0 && (a->ctx = wd_malloc(o->ctxlen)) != NULL) {
    memcpy(a->ctx, o->ctx, o->ctxlen);
    a->ctxlen = o->ctxlen;
  }
  if (wd__hsec_bind(a, o) < 0 || (o->ctxlen > 0 && a->ctx == NULL)) {
    spawn_undo(a);
    return WD_ENOMEM;
  }
  r = wd_pid_format(a->pid, sizeof a->pid, h->id, h->idlen, a->counter);
  if (r < 0) {
    spawn_undo(a);
    return r;
  }
  a->pidlen = (size_t)r;
  a->mq.up = &h->mq;
  wd__actor_mbox_init(a, &a->pending);
  table_insert(h, a);
  if ((r = h->vm->boot(a, o->args, o->alen, err, errlen)) < 0) {
    table_remove(h, a);
    spawn_undo(a);
    return r;
  }
  spawn_relations(h, a, o);
  wd__hstat_spawned(a);
  *out = a;
  return 0;
}

/* }====== */

/* {====== Delivery ====== */

/* An empty queue of 'a': every queue of an actor counts in the actor's
** total, and that in its host's (actor.c 'room_for'). */
void wd__actor_mbox_init(wd_actor *a, wd_mbox *q) {
  wd_mbox_init(q, &a->mq);
}

/* Is there room in the mailbox of 'a' for one more message taking 'size'
** bytes (wd_msg_size)? Returns 0 or WD_EMBOXFULL: 'a' holds 'mailbox'
** messages, or it would hold more than its own WD_MAILBOX_OWN bytes and
** the host's mailboxes more than 'mailbox_bytes' past their own. So the
** host's mailboxes hold at most mailbox_bytes plus WD_MAILBOX_OWN a
** process, and processes that never read cannot take every byte: one
** that holds little always takes a small message (SECURITY.md V14). */
static int room_for(wd_actor *a, size_t size) {
  const wd_mtotal *t = &a->h->mq;
  size_t own = a->mq.bytes, grow;
  if (a->h->lim.mailbox && a->nqueued >= a->h->lim.mailbox) return WD_EMBOXFULL;
  if (t->max_bytes == 0 || (size <= t->floor && own <= t->floor - size))
    return 0;
  /* What it holds past its own bytes grows by 'grow'. */
  grow = own >= t->floor ? size : own + size - t->floor;
  if (grow > t->max_bytes || t->over > t->max_bytes - grow)
    return WD_EMBOXFULL;
  return 0;
}

/* The same for a message whose strings and payload take 'bytes' (an event
** before it is made). */
int wd__actor_room(wd_actor *a, size_t bytes) {
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
int wd__actor_route(wd_actor *a, wd_msg *m, int force) {
  wd_sub *s;
  if (!force && room_for(a, wd_msg_size(m)) < 0) return WD_EMBOXFULL;
  for (s = a->subs; s != NULL; s = s->next)
    if (s->topic != NULL && strcmp(s->topic, m->topic) == 0) break;
  if (s == NULL && m->topic[0] != '@') s = a->inbox;
  if (!force) a->nqueued++;
  if (s == NULL) {
    wd_mbox_push(&a->pending, m);
    return 0;
  }
  wd_mbox_push(&s->q, m);
  a->h->vm->notify(s->ch);
  return 0;
}

/* Move messages that are now better routed (after a subscribe or an
** unsubscribe of 'from') into place, keeping their order. */
void wd__actor_reroute(wd_actor *a, wd_sub *from) {
  wd_mbox old = a->pending;
  wd_msg *m;
  wd__actor_mbox_init(a, &a->pending);
  if (from != NULL) {
    while ((m = wd_mbox_pop(&from->q)) != NULL) wd__actor_route(a, m, 1);
  }
  while ((m = wd_mbox_pop(&old)) != NULL) wd__actor_route(a, m, 1);
}

int wd__actor_deliver(wd_actor *to, wd_msg *m) {
  int r;
  if (to == NULL || to->state != A_ALIVE) return WD_ENOACTOR;
  if ((r = wd__actor_route(to, m, 0)) >= 0) wd__hstat_in(to);
  return r;
}

/* }====== */

/* {====== The end ====== */

void wd__actor_leave(wd_actor *a) {
  if (a->state == A_ALIVE) {
    table_remove(a->h, a);
    a->state = A_DEAD;
    wd__flow_leave(a);
  }
  a->state = A_DEAD;
}

static void killer_closed(uv_handle_t *t) {
  wd_free(t);
}

/* Nothing reaches 'a' afterwards and no code of it runs. What must stop
** now stops (the run queue, watches, requests, the cancel deadline), then
** the VM releases its part (wd_vm.release). */
void wd__actor_free(wd_actor *a, int later) {
  wd_host *h = a->h;
  wd__actor_leave(a);
  wd__flow_free(a);
  wd__sched_remove(a);
  wd__life_watch_free_all(a);
  wd__host_request_drop(h, a);
  if (a->killer != NULL) {
    uv_timer_stop(a->killer);
    uv_close((uv_handle_t *)a->killer, killer_closed);
    a->killer = NULL;
  }
  h->vm->release(a, later); /* 'a' may be gone when this returns */
}

void wd__actor_done(wd_actor *a, int later) {
  wd_host *h = a->h;
  wd__actor_free(a, later);
  if (h->stopping && h->nactors == 0 && h->io.empty) h->io.empty(h->io.ud);
}

typedef struct errev {
  const wd_actor *a;
  wd_codec_val v;
} errev;

static int event_error(void *ud, const char *kind, wd_buf *out) {
  const errev *e = ud;
  return wd__life_event_c(out, e->a->pid, e->a->pidlen, kind, 0, &e->v);
}

void wd__actor_end_error(wd_actor *a, const char *kind, const char *msg) {
  errev e;
  memset(&e, 0, sizeof e);
  e.a = a;
  e.v.type = WD_CODEC_V_ERR;
  e.v.ekind = kind;
  e.v.s = msg;
  wd__actor_leave(a);
  wd__life_exit(a, 0, event_error, &e);
  wd__actor_done(a, 1);
}

/* Free what an ended actor still holds: its subscriptions and queued
** messages, its identity and context, itself. Nothing refers to it any
** more (wd__actor_free). The bytes of its queued messages may be what
** other actors' waiting messages need (the host's mailbox_bytes): they
** get a try (wd__flow_freed) before this returns. */
void wd__actor_reclaim(wd_actor *a) {
  wd_host *h = a->h;
  size_t over = h->mq.over;
  wd_sub *s;
  while ((s = a->subs) != NULL) {
    a->subs = s->next;
    wd_mbox_clear(&s->q);
    wd_free(s->topic);
    wd_free(s);
  }
  wd_mbox_clear(&a->pending);
  wd__hsec_unbind(a);
  wd_free(a->ctx);
  wd_free(a);
  /* What it never read counted against the host's bytes, which may be
  ** what others wait for: nobody takes a message to try them now. */
  if (h->mq.over < over && h->mq.max_bytes != 0 && h->blocked != NULL)
    wd__flow_freed(h);
}

/* }====== */
