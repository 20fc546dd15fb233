/*
** runtime/lua/lpreempt.c
** Preemption of busy actors: a CPU-time tick charges the running actor,
** arms a hook past its slice, and ends it (uncatchably) past its budget
** or past the grace of a C call that calls back into Lua.
** Runs in: host (sandboxed).
*/
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>

#include "lvm_int.h"
#include "lerrors.h"

/* {====== Preemption ======
** A virtual-time interval timer ticks only while the host burns CPU,
** asking for four ticks per slice (lim.slice_ns; at least every 250 us, at
** most every 2.5 ms). The kernel may tick less often than asked (once per
** jiffy, 4 ms at HZ=250), so each tick reads the thread's CPU clock and
** charges what passed since the last tick to the actor running: to its
** total ('cpu_ns', against its budget) and to the resume in progress
** ('g_run_ns'). A resume that has used its slice has overstayed it: the
** tick arms a count hook on the running thread (lua_sethook is safe in a
** signal handler). The first tick of a resume also charges what ran
** before it since the previous tick, so a resume is preempted after
** between a slice less one tick and a slice plus one tick. No hook is set
** otherwise, so the common path pays nothing.
**
** At the next Lua instruction the hook yields when it can. It cannot
** inside a C function that called back into Lua (a table.sort comparator,
** a string.gsub callback, an import's top level, a __tostring called by
** tostring): there it swaps the count hook for a return hook, which fires
** when a function returns and, once the thread can yield again (the C
** call has returned), brings the count hook back so the actor yields at
** its next instruction. The rule for such a C call: it may run a grace
** past the slice (twenty slices, at least 200 ms: 210 ms by default; the
** host's turn deadline must be well above slice and grace). Past that,
** or past the actor's CPU budget, the actor is doomed: 'a->doomed' is
** set with the reason, and from then on the hook never lets it run
** another instruction. Where the thread can yield it yields, and the
** scheduler ends the actor by not resuming it; where it cannot, the hook
** raises an error (with the count hook left armed) to unwind the C call.
** Nothing can catch that error and go on: pcall and xpcall raise it
** again for a doomed actor, as they do a memory error, coroutine.resume
** passes it up, and any Lua code that would run on the way (a message
** handler, a __close handler) raises it again at its first instruction.
** The broker's turn deadline stays for C code that never calls back into
** Lua (a pattern bomb). */
static actor *volatile g_actor;
static lua_State *volatile g_L;
static volatile unsigned long g_ticks; /* every tick: turns (runtime/sched.c) */
static volatile uint64_t g_run_ns;      /* CPU of the resume in progress */
static uint64_t g_cpu_last;             /* the CPU clock at the last tick */
static uint64_t g_tick_ns = 2500000, g_slice_ns = 10000000,
                g_grace_ns = 200000000;

#define TICK_MIN_NS 250000u
#define TICK_MAX_NS 2500000u
#define GRACE_SLICES 20u
#define GRACE_MIN_NS 200000000u


static int over_budget(actor *a) {
  return a->c.h->lim.cpu_ns && a->cpu_ns >= a->c.h->lim.cpu_ns;
}

/* The host's CPU time (user and system), in ns; async-signal-safe. */
static uint64_t cpu_now(void) {
  struct timespec ts;
  if (clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts) != 0) return 0;
  return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* The name of the C function that keeps 'L' from yielding, as its call
** site names it ("sort", "gsub", "require"; "" when C code called it,
** as pcall(table.sort, ...) does), skipping pcall and resume, which pass
** yields through. Called once per doomed actor. */
static const char *boundary_name(lua_State *L, char *buf, size_t n) {
  lua_Debug ar;
  int lvl;
  for (lvl = 0; lvl < 200 && lua_getstack(L, lvl, &ar); lvl++) {
    lua_CFunction f;
    if (!lua_getinfo(L, "Snf", &ar)) continue;
    f = lua_tocfunction(L, -1);
    lua_pop(L, 1);
    if (strcmp(ar.what, "C") != 0 || wd__env_passes_yields(f)) continue;
    if (ar.name == NULL) break;
    snprintf(buf, n, " (%s)", ar.name);
    return buf;
  }
  return "";
}

/* Doom 'a' (running on 'L') with the reason: its budget, or a C call
** that outlasted the grace. */
static void doom(actor *a, lua_State *L) {
  char name[40];
  if (a->doomed) return;
  a->doomed = 1;
  if (over_budget(a))
    snprintf(a->doom_msg, sizeof a->doom_msg, "cpu budget exceeded (%.3f s)",
             (double)a->c.h->lim.cpu_ns / 1e9);
  else
    snprintf(a->doom_msg, sizeof a->doom_msg,
             "preempted inside a C call%s past %llu ms",
             boundary_name(L, name, sizeof name),
             (unsigned long long)((g_slice_ns + g_grace_ns) / 1000000));
}

static void preempt_hook(lua_State *L, lua_Debug *ar);

/* Raise the doomed actor's error on 'L', which cannot yield, leaving the
** count hook armed on it so no Lua code runs on after a catch. */
int wd__preempt_doom_raise(lua_State *L, actor *a) {
  if (lua_gethookmask(L) != LUA_MASKCOUNT)
    lua_sethook(L, preempt_hook, LUA_MASKCOUNT, 1);
  wd_lerr_push(L, "LimitExceeded", a->doom_msg, 0);
  return lua_error(L);
}

/* 'L' cannot yield now: doom the actor past its grace or budget, else
** wait with a return hook for the C call to return. */
void wd__preempt_cannot_yield(lua_State *L, actor *a) {
  if (a->doomed || g_run_ns >= g_slice_ns + g_grace_ns || over_budget(a)) {
    doom(a, L);
    wd__preempt_doom_raise(L, a); /* does not return */
    return;
  }
  if (lua_gethookmask(L) != LUA_MASKRET)
    lua_sethook(L, preempt_hook, LUA_MASKRET, 0);
}

static void preempt_hook(lua_State *L, lua_Debug *ar) {
  actor *a = g_actor;
  if (a == NULL) {
    lua_sethook(L, NULL, 0, 0);
    return;
  }
  if (!lua_isyieldable(L)) {
    wd__preempt_cannot_yield(L, a);
    return;
  }
  /* A return hook that finds the thread able to yield: the C call is
  ** over (or returning); yield at the next instruction. */
  if (ar->event != LUA_HOOKCOUNT) {
    lua_sethook(L, preempt_hook, LUA_MASKCOUNT, 1);
    return;
  }
  lua_sethook(L, NULL, 0, 0);
  if (over_budget(a)) doom(a, L);
  a->yield_reason = a->doomed ? Y_DOOM : Y_PREEMPT;
  lua_yield(L, 0);
}

static void on_tick(int sig) {
  lua_State *L = g_L;
  actor *a = g_actor;
  uint64_t now = cpu_now(), d = now > g_cpu_last ? now - g_cpu_last : 0, n;
  int mask;
  (void)sig;
  g_cpu_last = now;
  g_ticks++;
  if (L == NULL || a == NULL) return;
  a->cpu_ns += d;
  g_run_ns = n = g_run_ns + d;
  if (n < g_slice_ns && !over_budget(a)) return;
  /* A long run may never come back (a C function looping until the turn
  ** deadline kills the host): send what it printed so far now. */
  if (a->c.h->io.urgent) a->c.h->io.urgent(a->c.h->io.ud);
  /* lua_sethook walks every call frame of the thread to set its trap: on
  ** a stack 200,000 calls deep that takes longer than a tick, so never
  ** arm a count hook that is armed already, and leave a thread waiting
  ** with a return hook for its C call to return until its grace is
  ** over. A thread with a return hook that can yield again left its C
  ** call by an error (no return event): arm the count hook. */
  mask = lua_gethookmask(L);
  if ((mask & LUA_MASKCOUNT) ||
      ((mask & LUA_MASKRET) && !lua_isyieldable(L) &&
       n < g_slice_ns + g_grace_ns && !over_budget(a)))
    return;
  lua_sethook(L, preempt_hook, LUA_MASKCOUNT, 1);
}

static void set_timer(void) {
  struct itimerval it;
  it.it_interval.tv_sec = (time_t)(g_tick_ns / 1000000000u);
  it.it_interval.tv_usec = (suseconds_t)(g_tick_ns % 1000000000u / 1000);
  it.it_value = it.it_interval;
  setitimer(ITIMER_VIRTUAL, &it, NULL);
}

void wd__preempt_start(void) {
  static int started;
  struct sigaction sa;
  if (started) return;
  started = 1;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_tick;
  sa.sa_flags = SA_RESTART;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGVTALRM, &sa, NULL);
  g_cpu_last = cpu_now();
  set_timer();
}

void wd__preempt_config(uint64_t slice_ns) {
  uint64_t tick;
  if (slice_ns == 0 || slice_ns == g_slice_ns) return;
  tick = slice_ns / 4;
  if (tick < TICK_MIN_NS) tick = TICK_MIN_NS;
  if (tick > TICK_MAX_NS) tick = TICK_MAX_NS;
  /* INIT is read by the loop, never during a resume: no tick charges an
  ** actor while the numbers change. */
  g_tick_ns = tick;
  g_slice_ns = slice_ns;
  g_grace_ns = slice_ns * GRACE_SLICES > GRACE_MIN_NS
                   ? slice_ns * GRACE_SLICES
                   : GRACE_MIN_NS;
  set_timer();
}

unsigned long wd__preempt_ticks(void) {
  return g_ticks;
}

void wd__preempt_enter(actor *a, lua_State *co) {
  g_run_ns = 0;
  g_actor = a;
  g_L = co;
}

void wd__preempt_leave(void) {
  g_L = NULL;
  g_actor = NULL;
}

/* }====== */

/* The thread that resumes a coroutine becomes, and stops being, the one
** the tick preempts: returns the one before 'co'. */
lua_State *wd__preempt_swap(lua_State *co) {
  lua_State *prev = g_L;
  g_L = co;
  return prev;
}

/* A coroutine ended or yielded by itself while a preemption was due: the
** thread 'L' that resumed it is preempted at its next instruction. */
void wd__preempt_due(lua_State *L) {
  if (g_run_ns >= g_slice_ns &&
      !(lua_gethookmask(L) & (LUA_MASKCOUNT | LUA_MASKRET)))
    lua_sethook(L, preempt_hook, LUA_MASKCOUNT, 1);
}
