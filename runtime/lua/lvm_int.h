/*
** runtime/lua/lvm_int.h
** The Lua VM of a host: actors as the VM knows them (a core actor,
** runtime/host_int.h, with a lua_State), their tasks (Lua threads the VM
** resumes), channels and timers, and the functions of the VM's files.
** Runs in: host (sandboxed).
*/
#ifndef lvm_int_h
#define lvm_int_h

#include <uv.h>

#include "lua.h"
#include "lauxlib.h"

#include "host_int.h"
#include "ward/wd_lua.h"
#include "ward/wd_secid.h"

typedef struct actor actor;
typedef struct task task;
typedef struct chan chan;
typedef struct waiter waiter;
typedef struct tmr tmr;
typedef wd_sub sub;
typedef wd_entry entry;
typedef wd_watch watch;

/* Why a task stopped: set just before it yields. */
enum { Y_NONE, Y_BLOCK, Y_PREEMPT, Y_DOOM, Y_UPGRADE };

/* What a blocked task waits for. */
enum { W_NONE, W_CHAN, W_SLEEP, W_REPLY, W_EXEC, W_SEND };

struct waiter {
  task *t;
  chan *ch;
  waiter *prev, *next; /* in the channel's queue */
  int idx;             /* case index (0 for plain send/receive) */
  int is_send;
  int valref;          /* LUA_NOREF, or the value a blocked sender offers */
};

typedef struct wait {
  int kind;
  int link_on_reply; /* 1 link(): add the link at once; 2 a linked spawn:
                        add it unless the child is here (it has both) */
  int unlink_on_reply; /* unlink(): drop the link at once (by a name, the
                          reply names the PID) */
  int exec;        /* waiting for a process.exec result (xpid, xres) */
  char *xpid;      /* the exec'd child, once known */
  char *xres;      /* its EXIT event bytes, once arrived */
  size_t xlen;
  int nw;
  waiter *w;       /* nw waiters, one per case */
  waiter one;      /* storage for a single case */
  int done;        /* a peer completed the operation for us */
  int fired;       /* case index that completed */
  int closed;      /* completed because the channel closed */
  int valref;      /* value handed to a blocked receiver */
  tmr *sleep;
  uint32_t req;    /* W_REPLY */
  int32_t status;
  char *rstr;
  size_t rlen;
  wd_swait sw;     /* W_SEND: a send waiting for room (runtime/flow.c) */
  unsigned nm_epoch; /* a LOOKUP: wd__flow_name_epoch when it was asked */
} wait;

struct task {
  actor *a;
  lua_State *co;
  int ref;
  task *next;      /* actor's ready list */
  task *anext, *aprev; /* all tasks of the actor */
  int ready;
  int is_main;
  wait w;
  /* With an audit log, a decision that must be logged waits for the
  ** broker to write it, then the API call runs again from its start
  ** (lpolicy.c): its arguments (a registry reference to a table; 0 for
  ** none yet) and their count, and the decisions already logged for this
  ** call with the broker's answer. */
  int audit_args;
  int audit_nargs;
  int nlogged;
  struct {
    const char *action;  /* a string literal: compared by address */
    uint64_t key;        /* hash of resource, target host and topic */
    int32_t status;      /* 0 written, < 0 the broker could not */
  } logged[6];
};

enum { CH_LUA, CH_SUB, CH_TIMER };

struct chan {
  int kind;
  actor *a;
  int cap;
  int closed;
  int count, head; /* ring in the user value table (CH_LUA) */
  waiter *recvq, *sendq;
  sub *sub;        /* CH_SUB */
  int fired;       /* CH_TIMER: a tick is waiting to be received */
  int64_t fired_at;
};

struct tmr {
  uv_timer_t h;
  actor *a;        /* NULL once detached (actor gone) */
  tmr *next;       /* actor's list */
  task *t;         /* sleep: the task to wake */
  chan *ch;        /* after/timer/ticker: the channel to fill */
  int chref;
  int repeat;
};

/* An actor: the core's part first (so a wd_actor * of it is this), then
** the VM's. */
struct actor {
  wd_actor c;
  lua_State *L;
  size_t mem, mem_limit;
  int mem_failed;
  task *main;
  task *tasks;          /* every task, for cleanup */
  task *rhead, *rtail;  /* ready to run */
  int yield_reason;
  task *running;        /* task being resumed right now */
  unsigned nspawned;    /* local spawns since this resume began (lspawn.c) */
  uint64_t cpu_ns;      /* CPU it used, charged at each tick (lpreempt.c) */
  int doomed;           /* set: over its CPU budget, or too long inside a
                           C call; no more Lua of it runs (lpreempt.c) */
  char doom_msg[128];
  wd_msg *decoding;     /* message being decoded (freed if that raises) */
  tmr *timers;
  int upgrading;
  char *upg_entry;      /* NULL: same entry */
  uint8_t *upg_args;
  size_t upg_alen;
  int ntasks;
  int spare_ok;         /* its main thread returned: the next may use it */
  int loaded_ref;       /* require cache */
  struct xearly *xearly; /* exec results of children on this host that
                           came before their spawn's reply (levent.c) */
};

/* The VM's actor of a core one. */
#define VM(wa) ((actor *)(wa))

/* What the VM keeps per host (wd_host.vmdata). */
typedef struct vmhost {
  lua_State *compiler;  /* scratch state that compiles entries */
} vmhost;

/* lrun.c: running actors (the functions of wd_lua_vm) */
/* Make 't' runnable. Idempotent. */
void wd__run_ready(task *t);
/* Start a request to the broker for 't', which then waits for the reply
** (wd__host_request). */
int wd__run_request(task *t, uint8_t op, wd_buf **body, size_t *start);
/* Free the VM's parts of an ended actor, then the rest (wd__actor_reclaim). */
void wd__run_reclaim(actor *a);

/* lpolicy.c */
int wd__policy_allow(lua_State *L, actor *a, const char *action,
              const char *resource, size_t rlen, const char *target_host,
              const char *topic);
void wd__policy_api(lua_State *L, lua_CFunction f);
int wd__policy_allow_pid(lua_State *L, actor *a, const char *action,
                  const char *pid, size_t len, const char *topic);

/* levent.c */
/* Encode an event table {kind, from, at, result = {value | error}} (or,
** for CANCEL, {kind, from, at, deadline}) into 'out', within 'out->max'
** bytes (0: no limit). The value is at 'vidx' (0: none). Runs no script
** code. Returns 0 or a negative code. */
int wd__event_build(lua_State *L, const char *from, size_t fl,
                    const char *kind, int vidx, int ok, uint64_t deadline_ns,
                    wd_buf *out);
/* The result of exec'd child 'from' for 'a' (wd_vm.exec_result). */
void wd__event_exec(wd_actor *wa, const char *from, size_t fl,
                    const uint8_t *p, size_t n);
/* Task 't' of 'a' now knows its exec'd child (t->w.xpid): take the
** child's result if it came before (a child on this host spawned through
** the broker may end before the spawn's reply is back). */
void wd__event_exec_take(actor *a, task *t);
/* Free what wd__event_exec_take never took ('a' is ending). */
void wd__event_exec_free(actor *a);

/* lstate.c */
/* What a reset state keeps (lstate.c), in one registry table: the
** compiled chunk, the entry it is for, the globals' lazy metatable
** (lenv.c), the thread of the main task. */
enum { KEEP_CHUNK = 1, KEEP_ENTRY, KEEP_GMETA, KEEP_MAIN };
int wd__state_keep_get(lua_State *L, int i);
void wd__state_keep_set(lua_State *L, int i);
int wd__state_new(actor *a);
void wd__state_release(actor *a, int ended);
void wd__state_release_actor(actor *a);
int wd__state_pool_work(uint64_t budget_ns);
/* What the pool did (for tests): states made new, states reused, states
** closed instead of kept; reset ones waiting, ended ones waiting. */
typedef struct wd_pool_stats {
  size_t made, reused, closed, clean, dirty;
} wd_pool_stats;
void wd__state_pool_stats(wd_pool_stats *out);
void wd__state_pool_drain(entry *const *e, int n);

/* lenv.c */
/* pcall, xpcall, resume and wrapped coroutines pass yields */
int wd__env_passes_yields(lua_CFunction f);
int wd__env_compile(wd_host *h, entry *e, char *err, size_t errlen);
void wd__env_readonly(lua_State *L);
actor *wd__env_actor_of(lua_State *L);
task *wd__env_task_new(actor *a, lua_State *L);
task *wd__env_task_new_main(actor *a, lua_State *L);
void wd__env_task_free(task *t);
int wd__env_harvest(void);
int wd__env_setup(lua_State *L);
int wd__env_upgrade(actor *a, char *err, size_t errlen);
int wd__env_boot(actor *a, const uint8_t *args, size_t alen, char *err,
                 size_t errlen);
/* lpreempt.c */
void wd__preempt_start(void);
void wd__preempt_config(uint64_t slice_ns);
unsigned long wd__preempt_ticks(void);
void wd__preempt_enter(actor *a, lua_State *co);
void wd__preempt_leave(void);
int wd__preempt_doom_raise(lua_State *L, actor *a);
void wd__preempt_cannot_yield(lua_State *L, actor *a);
lua_State *wd__preempt_swap(lua_State *co);
void wd__preempt_due(lua_State *L);

/* lchannel.c */
int luaopen_ward_channel(lua_State *L);
chan *wd__chan_new(lua_State *L, actor *a, int kind, int cap);
void wd__chan_notify(chan *ch);
void wd__chan_close(lua_State *L, chan *ch);
void wd__chan_wait_clear(task *t);
int wd__chan_block(lua_State *L, task *t, lua_KFunction k, lua_KContext ctx);
task *wd__chan_task_current(lua_State *L);

/* lprocess.c */
int luaopen_ward_process(lua_State *L);
int wd__process_msg_push(lua_State *L, actor *a, wd_msg *m, int msgmode);

/* lctx.c */
int luaopen_ward_ctx(lua_State *L);

/* lspawn.c */
void wd__spawn_inherit(actor *a, spawnopt *o, uint32_t flags);
void wd__spawn_open(lua_State *L);
int wd__spawn_do(lua_State *L, actor *a, const char *id, size_t il,
                 const char *host, size_t hl, const spawnopt *o,
                 const char *name, int exec);

/* lsecurity.c */
int luaopen_ward_security(lua_State *L);
void wd__security_pack_actor(lua_State *L, int idx);

/* ltime.c */
void wd__time_push(lua_State *L, int64_t ns);
int luaopen_ward_time(lua_State *L);
void wd__time_tmr_stop(tmr *t);
/* Wake 't' after 'ns' (its w.sleep, as time.sleep): NULL out of memory. */
tmr *wd__time_wake_after(actor *a, task *t, int64_t ns);

/* The actor of any thread of its state (lenv.c stores it in the extra
** space, which every new thread copies), so bindings need no upvalue. */
#define ACTOR(L) (*(actor **)lua_getextraspace(L))

#endif
