/*
** runtime/sched.c
** The scheduler: the run queue of a host's actors and one loop turn
** (libuv's idle callback), which has the VM run each actor that woke.
** Runs in: host (sandboxed).
*/
#include "host_int.h"

static void rq_push(wd_host *h, wd_actor *a) {
  if (a->queued || a->state != A_ALIVE) return;
  a->queued = 1;
  a->rnext = NULL;
  a->rprev = h->rq_tail;
  if (h->rq_tail) h->rq_tail->rnext = a;
  else h->rq_head = a;
  h->rq_tail = a;
}

void wd__sched_remove(wd_actor *a) {
  wd_host *h = a->h;
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
** on_idle). Waking it meanwhile leaves it there (rq_push sees it
** queued). */
static void rq_defer(wd_host *h, wd_actor *a) {
  wd__sched_remove(a);
  if (a->state != A_ALIVE) return;
  a->queued = 2;
  a->rnext = NULL;
  a->rprev = h->rq_late_tail;
  if (h->rq_late_tail) h->rq_late_tail->rnext = a;
  else h->rq_late = a;
  h->rq_late_tail = a;
}

static void on_idle(uv_idle_t *idle);

void wd__sched_wake(wd_host *h) {
  if (!h->idle_on &&
      (h->rq_head != NULL || h->rq_late != NULL || h->ncred != 0)) {
    uv_idle_start(&h->idle, on_idle);
    h->idle_on = 1;
  }
}

/* 'a' has something to run (a task of it woke, or it was killed).
** Idempotent. */
void wd__sched_ready(wd_actor *a) {
  rq_push(a->h, a);
  wd__sched_wake(a->h);
}

/* Is the link to the broker backed up past 'link_queue'? Then the host's
** processes wait (what they would send has nowhere to go but this host's
** memory) until it drains and wd_host_wake runs them again. */
static int backed_up(wd_host *h) {
  return h->lim.link_queue != 0 && h->io.backlog != NULL &&
         h->io.backlog(h->io.ud) >= h->lim.link_queue;
}

/* Run 'a' (off the queue) and put it where its outcome says. Returns 1
** when it used up its slice: the turn is over. */
static int run(wd_host *h, wd_actor *a) {
  int r = h->vm->run(a);
  if (r == WD_RUN_SLICE) {
    rq_defer(h, a);
    return 1;
  }
  if (r == WD_RUN_MORE) rq_push(h, a);
  return 0;
}

/* One turn: first the actors that woke (the run queue), in order, each
** until it blocks or yields, for at most a preemption tick (a quarter
** slice of CPU, runtime/lua/lpreempt.c); then, unless one of them was
** preempted (it goes late), the oldest preempted actor for its slice.
** Then back to the loop (I/O, timers, the heartbeat). So a busy actor
** delays the I/O of its neighbours by at most a slice and a tick, and
** never stands between two actors that talk: what wakes runs first. The
** late ones still get a slice every turn, however busy the others keep
** the run queue. What the woken actors wrote (an echo's answer) is
** flushed before a late actor takes its slice. Checking the tick counter
** costs a call per run. */
static void on_idle(uv_idle_t *idle) {
  wd_host *h = idle->data;
  unsigned long t0 = h->vm->ticks();
  wd_actor *a;
  if (h->ncred != 0) wd__flow_flush(h); /* credit back to other hosts */
  if (h->io.flush) h->io.flush(h->io.ud);
  if (backed_up(h)) {
    uv_idle_stop(&h->idle);
    h->idle_on = 0;
    return;
  }
  while ((a = h->rq_head) != NULL) {
    wd__sched_remove(a);
    if (run(h, a)) return;
    if (h->vm->ticks() != t0) break;
  }
  if ((a = h->rq_late) != NULL) {
    if (h->io.flush) h->io.flush(h->io.ud);
    wd__sched_remove(a);
    (void)run(h, a);
    return;
  }
  /* Nothing to run: the VM's housekeeping, a slice at a time. Credit
  ** that what ran gave back goes at the next turn, which comes: other
  ** hosts' senders may wait for nothing else. */
  if (h->rq_head == NULL && h->rq_late == NULL && h->ncred == 0 &&
      !h->vm->idle(h, 1000000) && h->idle_on) {
    uv_idle_stop(&h->idle);
    h->idle_on = 0;
  }
}

void wd__sched_init(wd_host *h) {
  uv_idle_init(h->loop, &h->idle);
  h->idle.data = h;
}

void wd__sched_stop(wd_host *h) {
  if (h->idle_on) uv_idle_stop(&h->idle);
  h->idle_on = 0;
  if (!uv_is_closing((uv_handle_t *)&h->idle))
    uv_close((uv_handle_t *)&h->idle, NULL);
}
