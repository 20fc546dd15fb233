/*
** tests/unit/test_core.c
** The actor core (runtime/host_int.h) driven by a fake VM, with no Lua at
** all: the fake's actor is a wd_actor and a few counters, and the fake
** records what the core asks of it (boot, run, notify, release, reply,
** exec result). A real uv loop turns the scheduler; the host's records
** go into a buffer.
** Runs in: tests (a host in the test process).
*/
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <uv.h>

#include "host_int.h"

/* {====== The fake VM ====== */

/* What a run of an actor does: nothing (it waits), or end it. */
enum { RUN_IDLE, RUN_END_OK, RUN_END_ERR };

typedef struct fact {
  wd_actor c;
  int on_run; /* RUN_* */
  int runs;
} fact;

/* What the core asked, over every actor (an ended one is freed). */
static struct {
  int boots, runs, notifies, releases, released_later, replies, execs;
  int configured, freed;
  struct chan *notified;
  wd_actor *reply_a;
  struct task *reply_t;
  uint32_t reply_req;
  int32_t reply_status;
  char reply_s[64];
  wd_actor *exec_a;
  char exec_from[WD_PID_MAX];
  size_t exec_fl, exec_n;
} fv;

/* The spawn argument's first byte: 'r' asks to run at once, 'i' waits
** (runs only when woken), 'F' fails. */
static int fake_boot(wd_actor *a, const uint8_t *args, size_t alen, char *err,
                     size_t errlen) {
  fv.boots++;
  if (alen > 0 && args[0] == 'F') {
    snprintf(err, errlen, "boot failed");
    return WD_EINVAL;
  }
  if (alen > 0 && args[0] == 'r') wd__sched_ready(a);
  return 0;
}

static int event_none(void *ud, const char *kind, wd_buf *out) {
  const wd_actor *a = ud;
  wd_codec_val v;
  memset(&v, 0, sizeof v);
  v.type = WD_CODEC_V_NONE;
  return wd__life_event_c(out, a->pid, a->pidlen, kind, 0, &v);
}

/* A normal end, as lrun.c's finish makes it (no report). */
static void end_ok(wd_actor *a) {
  wd__actor_leave(a);
  wd__life_exit(a, 1, event_none, a);
  wd__actor_done(a, 0);
}

/* As lrun.c's vm_run: a killed actor ends before anything of it runs. */
static int fake_run(wd_actor *a) {
  fact *f = (fact *)a;
  fv.runs++;
  f->runs++;
  if (a->killed) {
    wd__actor_end_error(a, "Internal", a->kill_msg);
    return WD_RUN_ENDED;
  }
  if (f->on_run == RUN_END_OK) {
    end_ok(a);
    return WD_RUN_ENDED;
  }
  if (f->on_run == RUN_END_ERR) {
    wd__actor_end_error(a, "Internal", "boom");
    return WD_RUN_ENDED;
  }
  return WD_RUN_IDLE;
}

static void fake_notify(struct chan *ch) {
  fv.notifies++;
  fv.notified = ch;
}

/* No state to reset: the memory goes now, 'later' or not. */
static void fake_release(wd_actor *a, int later) {
  fv.releases++;
  fv.released_later += later != 0;
  wd__actor_reclaim(a);
}

static void fake_exec_result(wd_actor *a, const char *from, size_t fl,
                             const uint8_t *p, size_t n) {
  (void)p;
  fv.execs++;
  fv.exec_a = a;
  assert_true(fl < sizeof fv.exec_from);
  memcpy(fv.exec_from, from, fl);
  fv.exec_fl = fl;
  fv.exec_n = n;
}

static void fake_reply(wd_actor *a, struct task *t, uint32_t req,
                       int32_t status, const char *s, size_t n) {
  fv.replies++;
  fv.reply_a = a;
  fv.reply_t = t;
  fv.reply_req = req;
  fv.reply_status = status;
  assert_true(n < sizeof fv.reply_s);
  memcpy(fv.reply_s, s, n);
  fv.reply_s[n] = '\0';
}

static int fake_idle(wd_host *h, uint64_t budget_ns) {
  (void)h;
  (void)budget_ns;
  return 0;
}

static unsigned long fake_ticks(void) {
  return 0; /* a turn never ends early */
}

static void fake_configure(wd_host *h) {
  (void)h;
  fv.configured++;
}

static void fake_host_free(wd_host *h) {
  (void)h;
  fv.freed++;
}

static const wd_vm fake_vm = {
  .actor_size = sizeof(fact),
  .boot = fake_boot,
  .run = fake_run,
  .notify = fake_notify,
  .release = fake_release,
  .exec_result = fake_exec_result,
  .reply = fake_reply,
  .idle = fake_idle,
  .ticks = fake_ticks,
  .configure = fake_configure,
  .host_free = fake_host_free,
};

/* }====== */

/* {====== A host in this process ====== */

typedef struct rig {
  uv_loop_t loop;
  wd_host *h;
  wd_buf out; /* records the host wrote: u8 type, u32 length, body */
  int empties;
} rig;

static wd_buf *io_begin(void *ud, uint8_t rtype, size_t *start) {
  rig *r = ud;
  *start = r->out.len;
  wd_buf_put_u8(&r->out, rtype);
  wd_buf_put_u32(&r->out, 0);
  return &r->out;
}

static int io_end(void *ud, size_t start) {
  rig *r = ud;
  wd_buf_patch_u32(&r->out, start + 1, (uint32_t)(r->out.len - start - 5));
  return 0;
}

static void io_empty(void *ud) {
  rig *r = ud;
  r->empties++;
}

/* The first record of 'type' at or after '*off' (advanced past it): 1
** with its body, 0 when there is none. */
static int find_rec(rig *r, size_t *off, uint8_t type, wd_cur *body) {
  while (*off < r->out.len) {
    wd_cur c;
    uint8_t t;
    uint32_t len;
    const uint8_t *p;
    wd_cur_init(&c, r->out.p + *off, r->out.len - *off);
    assert_int_equal(wd_cur_u8(&c, &t), 0);
    assert_int_equal(wd_cur_u32(&c, &len), 0);
    assert_int_equal(wd_cur_bytes(&c, len, &p), 0);
    *off += 5 + len;
    if (t == type) {
      wd_cur_init(body, p, len);
      return 1;
    }
  }
  return 0;
}

/* A host "ct" with the entry "e", a mailbox of 'mailbox' messages and at
** most 'maxproc' processes; no policies, no ceiling. */
static void rig_open(rig *r, uint64_t mailbox, uint64_t maxproc) {
  wd_host_io io;
  wd_buf init;
  wd_cur c;
  memset(r, 0, sizeof *r);
  memset(&fv, 0, sizeof fv);
  assert_int_equal(uv_loop_init(&r->loop), 0);
  wd_buf_init(&r->out, 0);
  memset(&io, 0, sizeof io);
  io.ud = r;
  io.begin = io_begin;
  io.end = io_end;
  io.empty = io_empty;
  assert_int_equal(wd_host_new(&r->loop, "ct", &io, &fake_vm, &r->h), 0);
  wd_buf_init(&init, 0);
  wd_buf_put_u64(&init, 1u << 20);  /* memory */
  wd_buf_put_u64(&init, mailbox);   /* mailbox */
  wd_buf_put_u64(&init, 4u << 20);  /* max_payload */
  wd_buf_put_u64(&init, maxproc);   /* max_processes */
  wd_buf_put_u64(&init, 10000000);  /* slice_ns */
  wd_buf_put_u64(&init, 0);         /* cpu_ns */
  wd_buf_put_u64(&init, 0);         /* spawn_rate */
  wd_buf_put_u64(&init, 64u << 20); /* mailbox_bytes */
  wd_buf_put_u64(&init, 0);         /* link_queue */
  wd_buf_put_u32(&init, 1);
  wd_buf_put_cstr(&init, "e");      /* id */
  wd_buf_put_cstr(&init, "@e.lua"); /* chunk name */
  wd_buf_put_cstr(&init, "main");   /* method */
  wd_buf_put_u8(&init, 0);          /* not a library */
  wd_buf_put_u32(&init, 0);         /* no imports */
  wd_buf_put_cstr(&init, "");       /* source: the fake runs none */
  wd_buf_put_u8(&init, 0);          /* audit off */
  wd_buf_put_u32(&init, 0);         /* no policies */
  wd_buf_put_u8(&init, 0);          /* no ceiling */
  wd_buf_put_u32(&init, 0);         /* its actors, groups, policies */
  wd_buf_put_u32(&init, 0);
  wd_buf_put_u32(&init, 0);
  assert_int_equal(init.err, 0);
  wd_cur_init(&c, init.p, init.len);
  assert_int_equal(wd_host_init(r->h, &c), 0);
  wd_buf_close(&init);
  assert_int_equal(fv.configured, 1);
  wd_host_add_pids(r->h, 1, 1u << 20);
}

static void rig_close(rig *r) {
  wd_host_stop(r->h);
  uv_run(&r->loop, UV_RUN_NOWAIT); /* the handles' close callbacks */
  wd_host_free(r->h);
  assert_int_equal(fv.freed, 1);
  assert_int_equal(uv_loop_close(&r->loop), 0);
  wd_buf_close(&r->out);
}

/* Spawn "e" with the argument 'mode' (fake_boot), as the broker would
** ("" parent) or for 'parent' with 'flags'. */
static int spawn_for(rig *r, const char *mode, const wd_actor *parent,
                     uint32_t flags, wd_actor **out) {
  spawnopt o;
  char err[256];
  memset(&o, 0, sizeof o);
  o.parent = parent != NULL ? parent->pid : "";
  o.parentlen = parent != NULL ? parent->pidlen : 0;
  o.actor = "";
  o.scope = "";
  o.args = (const uint8_t *)mode;
  o.alen = strlen(mode);
  o.flags = flags;
  return wd__actor_spawn(r->h, wd__host_entry(r->h, "e"), &o, out, err,
                         sizeof err);
}

static wd_actor *spawn(rig *r, const char *mode) {
  wd_actor *a = NULL;
  assert_int_equal(spawn_for(r, mode, NULL, 0, &a), 0);
  assert_non_null(a);
  return a;
}

/* Is the actor of 'counter' still in the table? */
static wd_actor *alive(rig *r, uint64_t counter) {
  return wd__actor_find(r->h, counter);
}

static void deliver(wd_actor *to, const char *topic, int expect) {
  wd_msg *m =
      wd_msg_new("ct|x", 4, topic, strlen(topic), (const uint8_t *)"p", 1);
  int rc;
  assert_non_null(m);
  rc = wd__actor_deliver(to, m);
  assert_int_equal(rc, expect);
  if (rc < 0) wd_msg_free(m); /* refused: still the caller's */
}

static int has_bytes(const wd_msg *m, const char *s) {
  size_t n = strlen(s), i;
  for (i = 0; i + n <= m->plen; i++)
    if (memcmp(m->payload + i, s, n) == 0) return 1;
  return 0;
}

/* The last message waiting in 'q'. */
static const wd_msg *last(const wd_mbox *q) {
  return q->tail;
}

/* Link 'a' and 'b' both ways, as process.link does for local processes. */
static void link2(wd_actor *a, wd_actor *b) {
  assert_int_equal(wd__life_watch_add(a, WD_WATCH_LINK, b->pid, b->pidlen), 0);
  assert_int_equal(wd__life_watch_add(b, WD_WATCH_LINK, a->pid, a->pidlen), 0);
}

/* }====== */

/* {====== Spawning and running ====== */

static void test_spawn_boots_and_queues_only_when_the_vm_asks(void **state) {
  rig r;
  wd_actor *a, *b;
  (void)state;
  rig_open(&r, 1000, 1000);
  a = spawn(&r, "i");
  assert_int_equal(fv.boots, 1);
  assert_int_equal(wd_host_count(r.h), 1);
  assert_int_equal(a->state, A_ALIVE);
  assert_int_equal(a->queued, 0);
  assert_null(r.h->rq_head);
  uv_run(&r.loop, UV_RUN_NOWAIT);
  assert_int_equal(fv.runs, 0); /* it never asked */
  wd__sched_ready(a);
  assert_int_equal(a->queued, 1);
  assert_ptr_equal(r.h->rq_head, a);
  uv_run(&r.loop, UV_RUN_NOWAIT);
  assert_int_equal(fv.runs, 1);
  assert_int_equal(((fact *)a)->runs, 1);
  assert_int_equal(a->queued, 0); /* WD_RUN_IDLE: off the queue */
  /* One whose boot asks to run is queued by the spawn. */
  b = spawn(&r, "r");
  assert_int_equal(fv.boots, 2);
  assert_int_equal(b->queued, 1);
  assert_ptr_equal(r.h->rq_head, b);
  uv_run(&r.loop, UV_RUN_NOWAIT);
  assert_int_equal(((fact *)b)->runs, 1);
  assert_int_equal(((fact *)a)->runs, 1);
  rig_close(&r);
}

static void test_boot_failure_leaves_no_actor(void **state) {
  rig r;
  wd_actor *a = NULL;
  (void)state;
  rig_open(&r, 1000, 1000);
  assert_int_equal(spawn_for(&r, "F", NULL, 0, &a), WD_EINVAL);
  assert_null(a);
  assert_int_equal(fv.boots, 1);
  assert_int_equal(fv.releases, 0); /* the VM left nothing to release */
  assert_int_equal(wd_host_count(r.h), 0);
  assert_null(r.h->rq_head);
  rig_close(&r);
}

static void test_run_that_ends_frees_the_actor(void **state) {
  rig r;
  wd_actor *a;
  uint64_t ca;
  (void)state;
  rig_open(&r, 1000, 1000);
  a = spawn(&r, "r");
  ca = a->counter;
  ((fact *)a)->on_run = RUN_END_OK;
  uv_run(&r.loop, UV_RUN_NOWAIT);
  assert_int_equal(fv.runs, 1);
  assert_null(alive(&r, ca));
  assert_int_equal(wd_host_count(r.h), 0);
  assert_int_equal(fv.releases, 1);
  assert_int_equal(fv.released_later, 0); /* a normal end: now */
  assert_int_equal(r.empties, 0);         /* not stopping */
  rig_close(&r);
}

/* }====== */

/* {====== Delivery ====== */

static void test_message_without_subscription_waits_in_pending(void **state) {
  rig r;
  wd_actor *a;
  (void)state;
  rig_open(&r, 1000, 1000);
  a = spawn(&r, "i");
  deliver(a, "hello", 0);
  assert_int_equal(a->pending.count, 1);
  assert_int_equal(a->nqueued, 1);
  assert_string_equal(last(&a->pending)->topic, "hello");
  assert_int_equal(last(&a->pending)->kind, WD_MSG_USER);
  assert_int_equal(fv.notifies, 0);
  assert_int_equal(r.h->mq.count, 1);
  rig_close(&r);
}

static void test_message_on_subscription_notifies_its_channel(void **state) {
  static int chan_token; /* the VM's channel: only its address matters */
  struct chan *ch = (struct chan *)(void *)&chan_token;
  rig r;
  wd_actor *a;
  wd_sub *s;
  (void)state;
  rig_open(&r, 1000, 1000);
  a = spawn(&r, "i");
  s = wd_calloc(1, sizeof *s);
  assert_non_null(s);
  s->topic = wd_strdup("news");
  assert_non_null(s->topic);
  s->ch = ch;
  wd__actor_mbox_init(a, &s->q);
  s->next = a->subs;
  a->subs = s;
  deliver(a, "news", 0);
  assert_int_equal(fv.notifies, 1);
  assert_ptr_equal(fv.notified, ch);
  assert_int_equal(s->q.count, 1);
  assert_int_equal(a->pending.count, 0);
  /* Another topic, no inbox: it waits in pending, nobody is told. */
  deliver(a, "other", 0);
  assert_int_equal(fv.notifies, 1);
  assert_int_equal(a->pending.count, 1);
  assert_int_equal(a->nqueued, 2);
  rig_close(&r); /* the subscription goes with the actor */
}

static void test_mailbox_bound_refuses_messages_but_not_events(void **state) {
  rig r;
  wd_actor *m, *t;
  (void)state;
  rig_open(&r, 2, 1000);
  m = spawn(&r, "i");
  t = spawn(&r, "i");
  assert_int_equal(wd__life_watch_add(t, WD_WATCH_MONITOR, m->pid, m->pidlen),
                   0);
  deliver(m, "a", 0);
  deliver(m, "b", 0);
  deliver(m, "c", WD_EMBOXFULL);
  assert_int_equal(m->nqueued, 2);
  assert_int_equal(wd__actor_room(m, 10), WD_EMBOXFULL);
  wd__actor_end_error(t, "Internal", "boom");
  assert_int_equal(m->pending.count, 3);
  assert_int_equal(m->nqueued, 3);
  assert_string_equal(last(&m->pending)->topic, "@events");
  assert_int_equal(last(&m->pending)->kind, WD_MSG_EVENT);
  rig_close(&r);
}

/* }====== */

/* {====== Links, monitors, exec watches ====== */

static void test_link_error_end_gives_survivor_link_down(void **state) {
  rig r;
  wd_actor *a, *b;
  const wd_msg *ev;
  (void)state;
  rig_open(&r, 1000, 1000);
  a = spawn(&r, "i");
  b = spawn(&r, "i");
  link2(a, b);
  b->trap_links = 1;
  wd__actor_end_error(a, "Internal", "boom");
  assert_int_equal(wd_host_count(r.h), 1);
  assert_int_equal(b->pending.count, 1);
  ev = last(&b->pending);
  assert_string_equal(ev->topic, "@events");
  assert_int_equal(ev->kind, WD_MSG_EVENT);
  assert_true(has_bytes(ev, "pid.link.down"));
  assert_true(has_bytes(ev, "boom"));
  assert_null(b->watches); /* its side of the link is gone */
  assert_int_equal(b->killed, 0);
  assert_int_equal(fv.released_later, 1); /* an end made in C: later */
  rig_close(&r);
}

static void test_link_error_end_kills_survivor_not_trapping(void **state) {
  rig r;
  wd_actor *a, *b;
  uint64_t cb;
  (void)state;
  rig_open(&r, 1000, 1000);
  a = spawn(&r, "i");
  b = spawn(&r, "i");
  cb = b->counter;
  link2(a, b);
  wd__actor_end_error(a, "Internal", "boom");
  assert_int_equal(b->pending.count, 0);
  assert_int_equal(b->killed, 1);
  assert_string_equal(b->kill_msg, "linked process failed");
  assert_int_equal(b->queued, 1);
  uv_run(&r.loop, UV_RUN_NOWAIT);
  assert_null(alive(&r, cb));
  assert_int_equal(wd_host_count(r.h), 0);
  rig_close(&r);
}

static void test_link_ok_end_only_removes_the_link(void **state) {
  rig r;
  wd_actor *a, *b;
  (void)state;
  rig_open(&r, 1000, 1000);
  a = spawn(&r, "r");
  b = spawn(&r, "i");
  link2(a, b);
  b->trap_links = 1;
  ((fact *)a)->on_run = RUN_END_OK;
  uv_run(&r.loop, UV_RUN_NOWAIT);
  assert_int_equal(wd_host_count(r.h), 1);
  assert_int_equal(b->pending.count, 0);
  assert_int_equal(b->nqueued, 0);
  assert_null(b->watches);
  assert_int_equal(b->killed, 0);
  assert_int_equal(b->queued, 0);
  rig_close(&r);
}

static void test_monitor_gets_exit_event(void **state) {
  rig r;
  wd_actor *m, *t;
  const wd_msg *ev;
  (void)state;
  rig_open(&r, 1000, 1000);
  m = spawn(&r, "i");
  assert_int_equal(spawn_for(&r, "r", m, WD_SPAWN_MONITOR, &t), 0);
  assert_non_null(t->watches);
  assert_ptr_equal(m->held, t->watches); /* the watcher holds it */
  ((fact *)t)->on_run = RUN_END_OK;
  uv_run(&r.loop, UV_RUN_NOWAIT);
  assert_int_equal(wd_host_count(r.h), 1);
  assert_int_equal(m->pending.count, 1);
  ev = last(&m->pending);
  assert_string_equal(ev->topic, "@events");
  assert_int_equal(ev->kind, WD_MSG_EVENT);
  assert_true(has_bytes(ev, "pid.exit"));
  assert_null(m->held);
  rig_close(&r);
}

static void test_exec_watch_hands_result_to_the_vm(void **state) {
  rig r;
  wd_actor *w, *t;
  char tpid[WD_PID_MAX];
  size_t tl;
  (void)state;
  rig_open(&r, 1000, 1000);
  w = spawn(&r, "i");
  assert_int_equal(spawn_for(&r, "i", w, WD_SPAWN_EXEC, &t), 0);
  tl = t->pidlen;
  memcpy(tpid, t->pid, tl);
  wd__actor_end_error(t, "Internal", "boom");
  assert_int_equal(fv.execs, 1);
  assert_ptr_equal(fv.exec_a, w);
  assert_int_equal(fv.exec_fl, tl);
  assert_memory_equal(fv.exec_from, tpid, tl);
  assert_true(fv.exec_n > 0);
  assert_int_equal(w->pending.count, 0); /* not a message */
  rig_close(&r);
}

/* }====== */

/* {====== Kills ====== */

static void test_kill_ends_the_actor_on_its_next_run(void **state) {
  rig r;
  wd_actor *a, *m;
  uint64_t ca;
  (void)state;
  rig_open(&r, 1000, 1000);
  m = spawn(&r, "i");
  a = spawn(&r, "i");
  ca = a->counter;
  assert_int_equal(wd__life_watch_add(a, WD_WATCH_MONITOR, m->pid, m->pidlen),
                   0);
  wd__life_kill(a, "stop");
  assert_int_equal(a->killed, 1);
  assert_int_equal(a->queued, 1);
  assert_ptr_equal(alive(&r, ca), a); /* not at once */
  uv_run(&r.loop, UV_RUN_NOWAIT);
  assert_int_equal(fv.runs, 1);
  assert_null(alive(&r, ca));
  assert_int_equal(fv.releases, 1);
  assert_int_equal(m->pending.count, 1);
  assert_true(has_bytes(last(&m->pending), "stop"));
  rig_close(&r);
}

static void test_kill_at_zero_kills_on_the_next_turn(void **state) {
  rig r;
  wd_actor *a, *x;
  uint64_t ca;
  (void)state;
  rig_open(&r, 1000, 1000);
  a = spawn(&r, "i");
  ca = a->counter;
  assert_int_equal(wd__life_kill_at(a, 0), 0);
  assert_int_equal(a->killed, 0); /* a timer, not at once */
  uv_run(&r.loop, UV_RUN_NOWAIT);
  x = alive(&r, ca);
  assert_true(x == NULL || x->killed);
  uv_run(&r.loop, UV_RUN_NOWAIT);
  assert_null(alive(&r, ca));
  assert_int_equal(fv.releases, 1);
  rig_close(&r);
}

static void test_kill_at_earlier_deadline_wins(void **state) {
  rig r;
  wd_actor *a, *b;
  uint64_t ca, cb;
  int turns;
  (void)state;
  rig_open(&r, 1000, 1000);
  a = spawn(&r, "i");
  b = spawn(&r, "i");
  ca = a->counter;
  cb = b->counter;
  /* Later first, then earlier: the earlier replaces it. */
  assert_int_equal(wd__life_kill_at(a, 3600 * 1000000000ll), 0);
  assert_int_equal(wd__life_kill_at(a, 20 * 1000000ll), 0);
  assert_true(uv_timer_get_due_in(a->killer) <= 20);
  /* Earlier first, then later: the earlier stays. */
  assert_int_equal(wd__life_kill_at(b, 20 * 1000000ll), 0);
  assert_int_equal(wd__life_kill_at(b, 3600 * 1000000000ll), 0);
  assert_true(uv_timer_get_due_in(b->killer) <= 20);
  /* Both end within a second: the hour never comes into it. */
  for (turns = 0; turns < 1000 && wd_host_count(r.h) > 0; turns++) {
    uv_run(&r.loop, UV_RUN_NOWAIT);
    uv_sleep(1);
  }
  assert_null(alive(&r, ca));
  assert_null(alive(&r, cb));
  assert_int_equal(fv.releases, 2);
  rig_close(&r);
}

/* }====== */

/* {====== Requests and replies ====== */

/* Start a request of 'a' for task 't'; returns its number. */
static uint32_t request(rig *r, wd_actor *a, struct task *t) {
  uint32_t req = 0;
  wd_buf *b;
  size_t st;
  assert_int_equal(wd__host_request(r->h, a, t, WD_OP_SEND, &req, &b, &st), 0);
  wd_buf_put_cstr(b, "body");
  assert_int_equal(wd__host_request_end(r->h, st), 0);
  assert_true(req != 0);
  return req;
}

static void test_reply_reaches_the_vm_with_its_task(void **state) {
  static int task_token; /* the VM's task: only its address matters */
  struct task *t = (struct task *)(void *)&task_token;
  rig r;
  wd_actor *a;
  size_t off = 0;
  wd_cur c;
  uint32_t req, rq;
  uint8_t op;
  (void)state;
  rig_open(&r, 1000, 1000);
  a = spawn(&r, "i");
  req = request(&r, a, t);
  assert_int_equal(a->npend, 1);
  assert_true(find_rec(&r, &off, WD_R_REQ, &c));
  assert_int_equal(wd_cur_u32(&c, &rq), 0);
  assert_int_equal(rq, req);
  assert_int_equal(wd_cur_u8(&c, &op), 0);
  assert_int_equal(op, WD_OP_SEND);
  assert_int_equal(wd_host_on_reply(r.h, req, 7, "done", 4), 0);
  assert_int_equal(fv.replies, 1);
  assert_ptr_equal(fv.reply_a, a);
  assert_ptr_equal(fv.reply_t, t);
  assert_int_equal(fv.reply_req, req);
  assert_int_equal(fv.reply_status, 7);
  assert_string_equal(fv.reply_s, "done");
  assert_int_equal(a->npend, 0);
  /* A second reply to the same request finds nobody. */
  assert_int_equal(wd_host_on_reply(r.h, req, 0, "", 0), 0);
  assert_int_equal(fv.replies, 1);
  rig_close(&r);
}

static void test_reply_for_an_ended_actor_reaches_nobody(void **state) {
  static int task_token;
  struct task *t = (struct task *)(void *)&task_token;
  rig r;
  wd_actor *a;
  uint32_t req;
  (void)state;
  rig_open(&r, 1000, 1000);
  a = spawn(&r, "i");
  req = request(&r, a, t);
  wd__actor_end_error(a, "Internal", "boom");
  assert_int_equal(wd_host_count(r.h), 0);
  assert_int_equal(wd_host_on_reply(r.h, req, 0, "late", 4), 0);
  assert_int_equal(fv.replies, 0);
  rig_close(&r);
}

/* }====== */

/* {====== Limits ====== */

static void test_max_processes_refuses_a_spawn(void **state) {
  rig r;
  wd_actor *a = NULL;
  wd_buf body;
  wd_cur c;
  wd_spawnrec q;
  size_t off;
  uint32_t req, status;
  const char *s;
  size_t n;
  (void)state;
  rig_open(&r, 1000, 2);
  (void)spawn(&r, "i");
  (void)spawn(&r, "i");
  assert_int_equal(spawn_for(&r, "i", NULL, 0, &a), WD_ELIMIT);
  assert_null(a);
  assert_int_equal(fv.boots, 2); /* refused before the VM saw it */
  assert_int_equal(wd_host_count(r.h), 2);
  /* The same through the broker's SPAWN: the reply says why. */
  memset(&q, 0, sizeof q);
  q.parent = "";
  q.entry = "e";
  q.entrylen = 1;
  q.host = "ct";
  q.hostlen = 2;
  q.actor = "";
  q.scope = "";
  q.args = (const uint8_t *)"i";
  q.alen = 1;
  q.ctx = (const uint8_t *)"";
  q.name = "";
  wd_buf_init(&body, 0);
  wd_wire_put_spawn(&body, &q);
  assert_int_equal(body.err, 0);
  off = r.out.len;
  wd_cur_init(&c, body.p, body.len);
  assert_int_equal(wd_host_on_req(r.h, 41, WD_OP_SPAWN, &c), 0);
  wd_buf_close(&body);
  assert_true(find_rec(&r, &off, WD_R_REPLY, &c));
  assert_int_equal(wd_cur_u32(&c, &req), 0);
  assert_int_equal(req, 41);
  assert_int_equal(wd_cur_u32(&c, &status), 0);
  assert_int_equal((int32_t)status, WD_ELIMIT);
  assert_int_equal(wd_cur_str(&c, &s, &n), 0);
  assert_true(n >= 13 && memcmp(s, "max processes", 13) == 0);
  assert_int_equal(fv.boots, 2);
  rig_close(&r);
}

/* }====== */

/* {====== Flow: room made by an end ====== */

/* Hand the record in 'b' to 'fn' as if it came from the broker: it must
** take it. Closes 'b'. */
static void feed(rig *r, wd_buf *b, int (*fn)(wd_host *, wd_cur *)) {
  wd_cur c;
  assert_int_equal(b->err, 0);
  wd_cur_init(&c, b->p, b->len);
  assert_int_equal(fn(r->h, &c), 0);
  wd_buf_close(b);
}

/* MESH for the rig: "ct" (us, number 0) and "pb" (number 1), whose
** link_queue is 'lq'. */
static void rig_mesh_lq(rig *r, uint64_t lq) {
  wd_buf b;
  wd_buf_init(&b, 0);
  wd_buf_put_u64(&b, 0);       /* send_timeout_ns */
  wd_buf_put_u32(&b, 0);       /* self */
  wd_buf_put_u32(&b, 2);
  wd_buf_put_cstr(&b, "ct");
  wd_buf_put_u64(&b, 4u << 20);
  wd_buf_put_u64(&b, 64u << 20); /* link_queue */
  wd_buf_put_cstr(&b, "pb");
  wd_buf_put_u64(&b, 4u << 20);
  wd_buf_put_u64(&b, lq);
  feed(r, &b, wd_host_mesh);
}

static void rig_mesh(rig *r) {
  rig_mesh_lq(r, 64u << 20);
}

/* MSG from the broker: from {pb|0x00001} to 'to'. */
static void msg_in(rig *r, const wd_actor *to) {
  wd_buf b;
  wd_buf_init(&b, 0);
  wd_buf_put_cstr(&b, "{pb|0x00001}");
  wd_buf_put_str(&b, to->pid, to->pidlen);
  wd_buf_put_cstr(&b, "t");
  wd_buf_put(&b, "pp", 2);
  feed(r, &b, wd_host_on_msg);
}

/* The host's mailbox bytes are full of what one process never read; a
** message from another host for a second process parks, and a sender of
** this host waits. When the first process ends, its bytes go: what
** waited for them gets in, though nobody takes a message afterwards, and
** the other host gets its credit back. (Only a take used to try them.) */
static void test_end_that_frees_mailbox_bytes_lets_waiters_in(void **state) {
  static int task_token;
  struct task *t = (struct task *)(void *)&task_token;
  static wd_swait w;
  rig r;
  wd_actor *x, *y, *z;
  wd_msg *m;
  size_t off;
  wd_cur c;
  uint32_t peer, msgs;
  const char *s;
  size_t n;
  int i;
  (void)state;
  rig_open(&r, 1000, 1000);
  rig_mesh(&r);
  r.h->mq.max_bytes = 1000;
  r.h->mq.floor = 0; /* no bytes of their own: the host's alone */
  x = spawn(&r, "i");
  y = spawn(&r, "i");
  z = spawn(&r, "i");
  for (i = 0; i < 100; i++) {
    m = wd_msg_new("ct|x", 4, "a", 1, (const uint8_t *)"p", 1);
    assert_non_null(m);
    if (wd__actor_deliver(x, m) < 0) {
      wd_msg_free(m);
      break;
    }
  }
  assert_true(i > 0 && i < 100); /* the host's bytes are full */
  msg_in(&r, y);
  assert_non_null(y->park_head);
  m = wd_msg_new(z->pid, z->pidlen, "b", 1, (const uint8_t *)"q", 1);
  assert_non_null(m);
  memset(&w, 0, sizeof w);
  assert_int_equal(wd__flow_local(z, y, m, &w, t), WD_FLOW_WAIT);
  assert_int_equal(w.status, WD_SW_WAIT);
  wd__actor_end_error(x, "Internal", "boom");
  assert_null(y->park_head);
  assert_null(y->sendq.head);
  assert_int_equal(y->pending.count, 2);
  assert_int_equal(w.status, 0);
  assert_null(r.h->blocked);
  off = r.out.len;
  wd__flow_flush(r.h);
  assert_true(find_rec(&r, &off, WD_R_CREDIT, &c));
  assert_int_equal(wd_cur_u32(&c, &peer), 0);
  assert_int_equal(peer, 1);
  assert_int_equal(wd_cur_str(&c, &s, &n), 0);
  assert_int_equal(n, y->pidlen);
  assert_memory_equal(s, y->pid, n);
  assert_int_equal(wd_cur_u32(&c, &msgs), 0);
  assert_int_equal(msgs, 1);
  rig_close(&r);
}

/* Fill 'a' with one-byte messages until one is refused; returns how many
** it took. */
static int fill(wd_actor *a) {
  int i;
  for (i = 0;; i++) {
    wd_msg *m = wd_msg_new("ct|x", 4, "a", 1, (const uint8_t *)"p", 1);
    assert_non_null(m);
    if (wd__actor_deliver(a, m) < 0) {
      wd_msg_free(m);
      return i;
    }
  }
}

/* Two processes that never read take the host's mailbox bytes and their
** own; a third, which holds nothing, still takes a message of this host
** and one of another host at once (neither waits): its own bytes are its
** own. The host holds at most mailbox_bytes past each one's own. */
static void test_processes_that_never_read_leave_others_their_own_bytes(
    void **state) {
  static int task_token;
  struct task *t = (struct task *)(void *)&task_token;
  static wd_swait w;
  rig r;
  wd_actor *x, *y, *z;
  wd_msg *m;
  size_t one;
  (void)state;
  rig_open(&r, 100000, 1000);
  rig_mesh(&r);
  m = wd_msg_new("ct|x", 4, "a", 1, (const uint8_t *)"p", 1);
  assert_non_null(m);
  one = wd_msg_size(m);
  wd_msg_free(m);
  r.h->mq.max_bytes = 1000;
  r.h->mq.floor = 4 * one; /* four such messages each */
  x = spawn(&r, "i");
  y = spawn(&r, "i");
  z = spawn(&r, "i");
  assert_int_equal(fill(x), 4 + 1000 / one);
  assert_int_equal(fill(y), 4);
  assert_true(r.h->mq.over <= 1000);
  m = wd_msg_new(x->pid, x->pidlen, "b", 1, (const uint8_t *)"q", 1);
  assert_non_null(m);
  memset(&w, 0, sizeof w);
  assert_int_equal(wd__flow_local(x, z, m, &w, t), 0);
  msg_in(&r, z);
  assert_null(z->park_head);
  assert_int_equal(z->pending.count, 2);
  assert_null(r.h->blocked);
  msg_in(&r, y); /* past its own and the host's: waits */
  assert_non_null(y->park_head);
  assert_true(r.h->mq.bytes <= 1000 + 3 * r.h->mq.floor);
  rig_close(&r);
}

/* {====== Flow: what is in flight stays counted ====== */

/* A record from the broker: CREDIT (str dest, u32 msgs, u64 bytes, u8
** flag) or GONE (str pid or host id). */
static void credit_in(rig *r, const char *dest, uint32_t msgs, uint64_t bytes,
                      uint8_t flag) {
  wd_buf b;
  wd_buf_init(&b, 0);
  wd_buf_put_cstr(&b, dest);
  wd_buf_put_u32(&b, msgs);
  wd_buf_put_u64(&b, bytes);
  wd_buf_put_u8(&b, flag);
  feed(r, &b, wd_host_on_credit);
}

static void gone_in(rig *r, const char *what) {
  wd_buf b;
  wd_buf_init(&b, 0);
  wd_buf_put_cstr(&b, what);
  feed(r, &b, wd_host_on_gone);
}

/* A send of 'n' bytes from 'a' to 'dest' that may not wait. */
static int send_remote(wd_actor *a, const char *dest, size_t n) {
  static uint8_t blob[3u << 20];
  uint64_t limit = 0;
  return wd__flow_remote(a, dest, strlen(dest), "t", 1, blob, n, NULL, NULL,
                         &limit);
}

/* The broker counts what a host has in flight until the credit comes
** back, and kills one that sends past it (sandbox/broker_msg.c). So a
** host that learns that a process is dead (a dead credit for one
** message, or GONE) keeps counting what else it sent it until that
** comes back too (dead): it does not spend the room on another process
** of that host. Only when the host went down is it written off (the
** broker forgets it then). The windows towards "pb" are 1 MiB here; of
** what each process has in flight, the first 64 KiB count in the window
** of own shares (WD_FLOW_DEST_OWN), only the rest in the shared one. */
static void test_dead_destination_keeps_its_messages_in_flight(void **state) {
  static const char *d1 = "{pb|0x00010}", *d2 = "{pb|0x00011}";
  const size_t half = (512u << 10) - WD_FLOW_MSG_COST; /* costs 512 KiB */
  rig r;
  wd_actor *a;
  (void)state;
  rig_open(&r, 1000, 1000);
  rig_mesh_lq(&r, 2u << 20);
  a = spawn(&r, "i");
  assert_int_equal(send_remote(a, d1, half), 0);
  assert_int_equal(send_remote(a, d1, half), 0);
  assert_int_equal(r.h->peers[1].past, (1u << 20) - WD_FLOW_DEST_OWN);
  /* 136 KiB past d2's own share: the window is full. */
  assert_int_equal(send_remote(a, d2, 200u << 10), WD_EMBOXFULL);
  /* The first message found d1 dead; the second is still on its way. */
  credit_in(&r, d1, 1, 512u << 10, WD_CREDIT_DEAD);
  assert_int_equal(send_remote(a, d1, 1), WD_ENOTFOUND);
  assert_int_equal(send_remote(a, d2, 700u << 10), WD_EMBOXFULL);
  assert_int_equal(send_remote(a, d2, half), 0);
  /* GONE for d2: its message stays counted too. */
  gone_in(&r, d2);
  assert_int_equal(send_remote(a, "{pb|0x00012}", 200u << 10), WD_EMBOXFULL);
  credit_in(&r, d1, 1, 512u << 10, WD_CREDIT_DEAD);
  credit_in(&r, d2, 1, 512u << 10, WD_CREDIT_DEAD);
  assert_int_equal(r.h->peers[1].past, 0);
  assert_int_equal(r.h->peers[1].own, 0);
  assert_int_equal(r.h->nout, 0);
  /* The host went down: what was in flight to it is written off. */
  assert_int_equal(send_remote(a, "{pb|0x00013}", 600u << 10), 0);
  assert_int_equal(send_remote(a, "{pb|0x00014}", 600u << 10), WD_EMBOXFULL);
  gone_in(&r, "pb");
  assert_int_equal(r.h->peers[1].past, 0);
  assert_int_equal(r.h->peers[1].own, 0);
  assert_int_equal(r.h->nout, 0);
  rig_close(&r);
}

/* A message counts 128 bytes (WD_FLOW_MSG_COST) past its payload in
** the windows towards a host: 1-byte messages to three processes of "pb"
** (a shared window of 1 MiB, each process's first 64 KiB its own) stop
** at (1 MiB + 3 * 64 KiB) / 129 in all, not at 4,096 to each (the window
** per process); a message taken from "pb" gives back its payload and
** 128. */
static void test_small_messages_count_their_cost_in_the_window(void **state) {
  static const char *d[] = { "{pb|0x00010}", "{pb|0x00011}", "{pb|0x00012}" };
  rig r;
  wd_actor *a, *y;
  size_t off;
  wd_cur c;
  uint32_t peer, msgs;
  uint64_t bytes;
  const char *s;
  size_t n, sent = 0;
  int i, k;
  (void)state;
  rig_open(&r, 1000, 1000);
  rig_mesh_lq(&r, 2u << 20);
  a = spawn(&r, "i");
  y = spawn(&r, "i");
  for (i = 0; i < 3; i++)
    for (k = 0; k < 4096 && send_remote(a, d[i], 1) == 0; k++) sent++;
  assert_int_equal(sent, ((1u << 20) + 3 * WD_FLOW_DEST_OWN) / 129);
  assert_int_equal(r.h->peers[1].past, sent * 129 - 3 * WD_FLOW_DEST_OWN);
  assert_int_equal(r.h->peers[1].own, 3 * WD_FLOW_DEST_OWN);
  assert_int_equal(send_remote(a, d[2], 1), WD_EMBOXFULL);
  credit_in(&r, d[1], 1, 129, 0);
  assert_int_equal(send_remote(a, d[2], 1), 0);
  msg_in(&r, y); /* a payload of 2 */
  off = r.out.len;
  wd__flow_flush(r.h);
  assert_true(find_rec(&r, &off, WD_R_CREDIT, &c));
  assert_int_equal(wd_cur_u32(&c, &peer), 0);
  assert_int_equal(wd_cur_str(&c, &s, &n), 0);
  assert_int_equal(wd_cur_u32(&c, &msgs), 0);
  assert_int_equal(msgs, 1);
  assert_int_equal(wd_cur_u64(&c, &bytes), 0);
  assert_int_equal(bytes, 2 + 128);
  rig_close(&r);
}

/* Issue 14: a destination that holds little in flight is not held up by
** what the others hold. A 3 MiB message to d[0] goes (one message always
** may) and fills the shared window towards "pb" (1 MiB) with what is past
** d[0]'s own 64 KiB; a second one to d[0] waits, but d[1] still takes
** small messages at once, within its own 64 KiB (WD_FLOW_DEST_OWN), and
** only past them waits too. The own shares have a window of their own
** (1 MiB: 16 processes' 64 KiB): a message to the 17th process that
** holds its whole share waits, until credit comes back to one of them. */
static void test_a_destination_holds_its_own_share_in_flight(void **state) {
  const size_t own = WD_FLOW_DEST_OWN - WD_FLOW_MSG_COST; /* costs 64 KiB */
  char d[18][16];
  rig r;
  wd_actor *a;
  size_t k;
  int i;
  (void)state;
  for (i = 0; i < 18; i++) snprintf(d[i], sizeof d[i], "{pb|0x%05x}", 16 + i);
  rig_open(&r, 1000, 1000);
  rig_mesh_lq(&r, 2u << 20);
  a = spawn(&r, "i");
  assert_int_equal(send_remote(a, d[0], 3u << 20), 0);
  assert_int_equal(send_remote(a, d[0], 1), WD_EMBOXFULL);
  for (k = 0; send_remote(a, d[1], 1) == 0; k++) continue;
  assert_int_equal(k, WD_FLOW_DEST_OWN / 129);
  credit_in(&r, d[1], (uint32_t)k, k * 129, 0);
  assert_int_equal(r.h->peers[1].past,
                   (3u << 20) + WD_FLOW_MSG_COST - WD_FLOW_DEST_OWN);
  credit_in(&r, d[0], 1, (3u << 20) + WD_FLOW_MSG_COST, 0);
  /* Own shares: 16 processes hold 64 KiB each, the window of own shares. */
  for (i = 1; i <= 16; i++) assert_int_equal(send_remote(a, d[i], own), 0);
  assert_int_equal(r.h->peers[1].past, 0);
  assert_int_equal(r.h->peers[1].own, 16 * WD_FLOW_DEST_OWN);
  assert_int_equal(send_remote(a, d[17], 1), WD_EMBOXFULL);
  /* ... past its own share a process counts in the shared window. */
  assert_int_equal(send_remote(a, d[1], 1), 0);
  credit_in(&r, d[2], 1, WD_FLOW_DEST_OWN, 0);
  assert_int_equal(send_remote(a, d[17], 1), 0);
  rig_close(&r);
}

/* }====== */

int main(void) {
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_spawn_boots_and_queues_only_when_the_vm_asks),
    cmocka_unit_test(test_boot_failure_leaves_no_actor),
    cmocka_unit_test(test_run_that_ends_frees_the_actor),
    cmocka_unit_test(test_message_without_subscription_waits_in_pending),
    cmocka_unit_test(test_message_on_subscription_notifies_its_channel),
    cmocka_unit_test(test_mailbox_bound_refuses_messages_but_not_events),
    cmocka_unit_test(test_link_error_end_gives_survivor_link_down),
    cmocka_unit_test(test_link_error_end_kills_survivor_not_trapping),
    cmocka_unit_test(test_link_ok_end_only_removes_the_link),
    cmocka_unit_test(test_monitor_gets_exit_event),
    cmocka_unit_test(test_exec_watch_hands_result_to_the_vm),
    cmocka_unit_test(test_kill_ends_the_actor_on_its_next_run),
    cmocka_unit_test(test_kill_at_zero_kills_on_the_next_turn),
    cmocka_unit_test(test_kill_at_earlier_deadline_wins),
    cmocka_unit_test(test_reply_reaches_the_vm_with_its_task),
    cmocka_unit_test(test_reply_for_an_ended_actor_reaches_nobody),
    cmocka_unit_test(test_max_processes_refuses_a_spawn),
    cmocka_unit_test(test_end_that_frees_mailbox_bytes_lets_waiters_in),
    cmocka_unit_test(
        test_processes_that_never_read_leave_others_their_own_bytes),
    cmocka_unit_test(test_dead_destination_keeps_its_messages_in_flight),
    cmocka_unit_test(test_small_messages_count_their_cost_in_the_window),
    cmocka_unit_test(test_a_destination_holds_its_own_share_in_flight),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
