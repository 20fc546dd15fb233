/*
** runtime/lua/lhost.h
** Internal structures of a host: actors (one lua_State each), their tasks
** (Lua threads driven by the scheduler), channels, subscriptions, timers
** and the requests a host has in flight at the broker.
** Runs in: host (sandboxed).
*/
#ifndef lhost_h
#define lhost_h

#include <uv.h>

#include "lua.h"
#include "lauxlib.h"

#include "ward/wd_buf.h"
#include "ward/wd_lua.h"
#include "ward/wd_mbox.h"
#include "ward/wd_pid.h"
#include "ward/wd_policy.h"
#include "ward/wd_proto.h"
#include "ward/wd_secid.h"
#include "ward/wd_wire.h"

typedef struct actor actor;
typedef struct task task;
typedef struct chan chan;
typedef struct waiter waiter;
typedef struct sub sub;
typedef struct tmr tmr;
typedef struct entry entry;
typedef struct watch watch;

/* Who learns of an actor's exit: kept on the actor that exits (monitors,
** exec callers) and on both ends of a link. 'pid' is the other side;
** 'type' is a WD_WATCH_* (wd_proto.h). */

struct watch {
  watch *next;            /* on the target's list ('watches') */
  watch *hnext, **hprev;  /* a monitor or exec wait of a watcher on this
                             host: on its 'held' list too */
  actor *owner;           /* the target, whose list holds it */
  int type;
  size_t pidlen;
  char pid[WD_PID_MAX];
};

/* An entry the broker shipped: its source, compiled lazily to bytecode. */
struct entry {
  char *id;
  char *chunkname; /* "@path/to/file.lua", for error positions */
  char *source;
  size_t srclen;
  char *method;    /* "" for libraries */
  int library;
  char **imports;  /* pairs: local name, entry id */
  int nimports;
  char *bytecode;  /* stripped dump made by this host, or NULL */
  size_t bclen;
};

/* Why a task stopped: set just before it yields. */
enum { Y_NONE, Y_BLOCK, Y_PREEMPT, Y_DOOM, Y_UPGRADE };

/* What a blocked task waits for. */
enum { W_NONE, W_CHAN, W_SLEEP, W_REPLY, W_EXEC };

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

struct sub {
  sub *next;
  char *topic;
  chan *ch;
  int chref;
  int msgmode;
  wd_mbox q;
};

struct tmr {
  uv_timer_t h;
  actor *a;        /* NULL once detached (actor gone) */
  tmr *next;       /* actor's list */
  task *t;         /* sleep: the task to wake */
  int killer;      /* cancel deadline: terminate the actor when it fires */
  chan *ch;        /* after/timer/ticker: the channel to fill */
  int chref;
  int repeat;
};

enum { A_ALIVE, A_DEAD };

struct actor {
  wd_host *h;
  uint64_t counter;
  char pid[WD_PID_MAX];
  size_t pidlen;
  entry *e;
  lua_State *L;
  size_t mem, mem_limit;
  int mem_failed;
  task *main;
  task *tasks;          /* every task, for cleanup */
  task *rhead, *rtail;
  actor *rnext, *rprev; /* host run queue */
  int queued;
  actor *hnext;         /* host hash chain */
  int state;
  int yield_reason;
  task *running;        /* task being resumed right now */
  uint64_t cpu_ns;      /* CPU it used, charged at each tick (lenv.c) */
  int doomed;           /* set: over its CPU budget, or too long inside a
                           C call; no more Lua of it runs (lenv.c) */
  char doom_msg[128];
  wd_mbox pending;      /* messages no subscription took yet (every
                           queue of the actor counts in h->mq) */
  wd_msg *decoding;     /* message being decoded (freed if that raises) */
  size_t nqueued;       /* all undelivered messages, pending and subs */
  sub *subs;
  sub *inbox;
  tmr *timers;
  int report_exit;
  int has_names;
  char *sec_actor;      /* actor as it travels: "<id>\0<meta>" (id alone
                           when no meta); inherited by children */
  size_t sec_actorlen;
  char *sec_scope;      /* newline-separated policy names, inherited (in
                           the block of sec_actor) */
  wd_pval meta;         /* the actor's meta (owned) */
  wd_scope *scope;      /* compiled scope (host cache), NULL: deny all */
  struct memo *memo;    /* the last allowed checks (lpolicy.c), or NULL */
  unsigned memo_next;
  uint8_t *ctx;         /* context values (codec bytes of a table) */
  size_t ctxlen;
  watch *watches;
  watch *held;          /* its monitors and exec waits on this host's
                           processes (their watches), gone with it */
  int remote_watch;     /* a watch names another host: tell the broker */
  int trap_links;
  int killed;           /* set: end the actor with 'kill_msg', no more Lua */
  char kill_msg[96];
  int upgrading;
  char *upg_entry;      /* NULL: same entry */
  uint8_t *upg_args;
  size_t upg_alen;
  int ntasks;
  int npend;            /* requests at the broker (h->pend) */
  int spare_ok;         /* its main thread returned: the next may use it */
  int loaded_ref;       /* require cache */
  struct xearly *xearly; /* exec results of children on this host that
                           came before their spawn's reply (llife.c) */
};

typedef struct pend {
  struct pend *next;
  uint32_t req;
  task *t;
} pend;

#define HOST_BUCKETS 4096
#define PEND_BUCKETS 256

struct wd_host {
  uv_loop_t *loop;
  char *id;
  size_t idlen;
  wd_host_io io;
  wd_hlimits lim;
  entry **entries;      /* what the broker shipped: INIT, then ENTRY */
  int nentries, centries;
  entry *elast;         /* the entry wd__host_entry found last */
  actor *buckets[HOST_BUCKETS];
  size_t nactors;
  size_t peak_actors;   /* the most live at once */
  actor *rq_head, *rq_tail;
  actor *rq_late, *rq_late_tail; /* preempted: each turn runs the actors
                           that woke (the run queue), then the oldest of
                           these for a slice (lhost.c, on_idle) */
  uv_idle_t idle;
  int idle_on;
  uint64_t pid_next, pid_end, pid_next_base, pid_next_end;
  int pid_requested;
  pend *pend[PEND_BUCKETS];
  uint32_t next_req;
  wd_mtotal mq;         /* what every mailbox of the host holds, bounded
                           by lim.mailbox_bytes */
  wd_buf scratch;       /* codec output for one send */
  wd_buf evbuf[2];      /* an exit's EXIT and LINK_DOWN events (llife.c) */
  lua_State *compiler;  /* scratch state that compiles entries */
  wd_policy_set *pset;  /* the policies the broker shipped */
  struct wd_scopes *scopes; /* compiled scopes by scope string */
  wd_pcache *pcache;
  int audit_mode;       /* 0 off, 1 denials, 2 every decision */
  wd_ceiling ceil;      /* this host's ceiling (owned strings) */
  char *boot_bc;
  size_t boot_len;
  int stopping;
  double spawn_tokens;  /* spawn_rate bucket */
  uint64_t spawn_last;
};

/* lhost.c */
actor *wd__host_find(wd_host *h, uint64_t counter);
void wd__actor_reclaim(actor *a);
/* What a spawn carries besides the entry. Strings need not be
** NUL-terminated. A queued message is the SPAWN record's (wd_wire.h). */
typedef wd_spawnmsg spawnmsg;

typedef struct spawnopt {
  const char *parent;   /* spawner PID, "" for the broker */
  size_t parentlen;
  const char *actor;    /* security actor id, "" for none */
  size_t actorlen;
  const char *scope;    /* policy groups or ids, newline-separated */
  size_t scopelen;
  const uint8_t *args;  /* codec bytes of the arguments */
  size_t alen;
  const uint8_t *ctx;   /* codec bytes of the context table, or empty */
  size_t ctxlen;
  const spawnmsg *msgs; /* queued before the child's first step */
  size_t nmsgs;
  uint32_t flags;       /* WD_SPAWN_* */
} spawnopt;

int wd__host_spawn_local(wd_host *h, entry *e, const spawnopt *o,
                         actor **out, char *err, size_t errlen);
void wd__host_request_cancel(wd_host *h, uint32_t req);
entry *wd__host_entry(wd_host *h, const char *id);
int wd__host_deliver(wd_host *h, actor *to, wd_msg *m);
void wd__host_ready(task *t);
int wd__host_request(wd_host *h, task *t, uint8_t op, wd_buf **body,
                     size_t *start);
int wd__host_request_end(wd_host *h, size_t start);
actor *wd__actor_of(lua_State *L);
int wd__actor_route(actor *a, wd_msg *m, int force);
int wd__actor_room(actor *a, size_t bytes);
void wd__mbox_init(actor *a, wd_mbox *q);
void wd__actor_reroute(actor *a, sub *from);
uint64_t wd__host_now_ns(void);

/* lpolicy.c */
int wd__sec_init(wd_host *h, wd_cur *c);
void wd__sec_free(wd_host *h);
int wd__sec_bind(actor *a, const spawnopt *o);
void wd__sec_unbind(actor *a);
int wd__sec_decide(actor *a, const char *action, const char *resource,
                   size_t rlen, const char *target_host, const char *topic,
                   char *why, size_t whylen);
const char *wd__sec_host_of(const char *pid, size_t len, char *out,
                            size_t outlen);
int wd__allow(lua_State *L, actor *a, const char *action,
              const char *resource, size_t rlen, const char *target_host,
              const char *topic);
void wd__push_api(lua_State *L, lua_CFunction f);
int wd__allow_pid(lua_State *L, actor *a, const char *action,
                  const char *pid, size_t len, const char *topic);

/* llife.c */
int wd__watch_add(actor *a, int type, const char *pid, size_t len);
int wd__watch_del(actor *a, int type, const char *pid, size_t len);
void wd__actor_kill(actor *a, const char *msg);
void wd__life_unlinked(actor *a, const char *pid, size_t len);
/* Task 't' of 'a' now knows its exec'd child (t->w.xpid): take the
** child's result if it came before (a child on this host spawned through
** the broker may end before the spawn's reply is back). */
void wd__exec_early_take(actor *a, task *t);
/* Free every watch on 'a' and take every watch 'a' held off its target
** ('a' is ending). */
void wd__watch_free_all(actor *a);
/* Free what wd__exec_early_take never took ('a' is ending). */
void wd__exec_early_free(actor *a);
void wd__life_exit(actor *a, lua_State *L, int ok, int vidx,
                   const char *ekind, const char *emsg);
void wd__event_in(wd_host *h, int kind, const char *from, size_t fl,
                  const char *to, size_t tl, uint64_t deadline,
                  const uint8_t *p, size_t n);
void wd__event_out(wd_host *h, int kind, const char *from, size_t fl,
                   const char *to, size_t tl, uint64_t deadline,
                   const uint8_t *p, size_t n);
int wd__event_build(lua_State *L, const char *from, size_t fl,
                    const char *kind, int vidx, int ok, uint64_t deadline_ns,
                    wd_buf *out);
void wd__pid_is_local(wd_host *h, const char *pid, size_t len, int *local,
                      uint64_t *counter);
int wd__host_req_life(wd_host *h, uint8_t op, wd_cur *c, uint32_t req);
void wd__host_cancel_all(wd_host *h, uint64_t deadline_ns);

/* lstate.c */
/* What a reset state keeps (lstate.c), in one registry table: the
** compiled chunk, the entry it is for, the globals' lazy metatable
** (lenv.c), the thread of the main task. */
enum { KEEP_CHUNK = 1, KEEP_ENTRY, KEEP_GMETA, KEEP_MAIN };
int wd__keep_get(lua_State *L, int i);
void wd__keep_set(lua_State *L, int i);
int wd__env_new(actor *a);
void wd__env_release(actor *a, int ended);
void wd__env_release_actor(actor *a);
int wd__env_pool_work(uint64_t budget_ns);
/* What the pool did (for tests): states made new, states reused, states
** closed instead of kept; reset ones waiting, ended ones waiting. */
typedef struct wd_pool_stats {
  size_t made, reused, closed, clean, dirty;
} wd_pool_stats;
void wd__env_pool_stats(wd_pool_stats *out);
void wd__env_pool_drain(entry *const *e, int n);

/* lenv.c */
task *wd__task_new(actor *a, lua_State *L);
task *wd__task_new_main(actor *a, lua_State *L);
void wd__task_free(task *t);
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
/* lenv.c: pcall, xpcall, resume and wrapped coroutines pass yields */
int wd__env_passes_yields(lua_CFunction f);
int wd__env_compile(wd_host *h, entry *e, char *err, size_t errlen);

/* lchannel.c */
int luaopen_ward_channel(lua_State *L);
chan *wd__chan_new(lua_State *L, actor *a, int kind, int cap);
void wd__chan_notify(chan *ch);
void wd__chan_close(lua_State *L, chan *ch);
void wd__wait_clear(task *t);
int wd__block(lua_State *L, task *t, lua_KFunction k, lua_KContext ctx);
task *wd__task_current(lua_State *L);

/* lprocess.c */
int luaopen_ward_process(lua_State *L);
int wd__msg_push(lua_State *L, actor *a, wd_msg *m, int msgmode);

/* lspawn.c */
int luaopen_ward_ctx(lua_State *L);
void wd__spawn_inherit(actor *a, spawnopt *o, uint32_t flags);
void wd__spawn_open(lua_State *L);
void wd__readonly(lua_State *L);
int wd__spawn_do(lua_State *L, actor *a, const char *id, size_t il,
                 const char *host, size_t hl, const spawnopt *o,
                 const char *name, int exec);

/* lsecurity.c */
int luaopen_ward_security(lua_State *L);
void wd__sec_pack_actor(lua_State *L, int idx);

/* ltime.c */
void wd__time_push(lua_State *L, int64_t ns);
int luaopen_ward_time(lua_State *L);
void wd__tmr_stop(tmr *t);
int wd__tmr_killer(actor *a, int64_t ns);

/* The actor of any thread of its state (lenv.c stores it in the extra
** space, which every new thread copies), so bindings need no upvalue. */
#define ACTOR(L) (*(actor **)lua_getextraspace(L))

#endif
