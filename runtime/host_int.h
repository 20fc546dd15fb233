/*
** runtime/host_int.h
** The actor core of a host, without Lua: the actor table and run queue,
** delivery into mailboxes, links, monitors and exec watches, the exit
** events they produce, kills, the requests in flight at the broker, and
** each process's actor and scope. The VM (runtime/lua/) keeps everything
** that is Lua (states, tasks, channels, timers) and is driven through
** 'wd_vm' (below), the way skynet drives its modules.
**
** Layers: host.c (the public API of include/ward/wd_host.h, records to
** the broker, entries, PIDs), actor.c (table, spawn, delivery, end),
** sched.c (run queue, one loop turn), life.c (watches, kills, events),
** hsec.c (actor, scope, decisions). No file here includes a Lua header:
** the runtime library is built without Lua's include directory.
** Runs in: host (sandboxed).
*/
#ifndef host_int_h
#define host_int_h

#include <stdint.h>
#include <uv.h>

#include "ward/wd_buf.h"
#include "ward/wd_codec.h"
#include "ward/wd_host.h"
#include "ward/wd_mbox.h"
#include "ward/wd_pid.h"
#include "ward/wd_policy.h"
#include "ward/wd_proto.h"
#include "ward/wd_secid.h"
#include "ward/wd_wire.h"

typedef struct wd_actor wd_actor;
typedef struct wd_entry wd_entry;
typedef struct wd_sub wd_sub;
typedef struct wd_watch wd_watch;
typedef struct wd_swait wd_swait;
typedef struct wd_out wd_out;
typedef struct wd_park wd_park;
struct chan; /* the VM's channel of a subscription (opaque here) */
struct task; /* the VM's task waiting for a reply (opaque here) */

/* An entry the broker shipped: its source, compiled by the VM. */
struct wd_entry {
  char *id;
  char *chunkname; /* "@path/to/file.lua", for error positions */
  char *source;
  size_t srclen;
  char *method;    /* "" for libraries */
  int library;
  char **imports;  /* pairs: local name, entry id */
  int nimports;
  char *bytecode;  /* stripped dump made by this host's VM, or NULL */
  size_t bclen;
};

/* A subscription: the messages of one topic (or the inbox: topic NULL)
** wait in 'q' until the VM's channel 'ch' takes them. */
struct wd_sub {
  wd_sub *next;
  char *topic;
  struct chan *ch;
  int chref;       /* the VM's: its reference to 'ch' */
  int msgmode;     /* the VM's: how a message is presented */
  wd_mbox q;
};

/* Who learns of an actor's exit: kept on the actor that exits (monitors,
** exec callers) and on both ends of a link. 'pid' is the other side;
** 'type' is a WD_WATCH_* (wd_proto.h). */
struct wd_watch {
  wd_watch *next;           /* on the target's list ('watches') */
  wd_watch *hnext, **hprev; /* a monitor or exec wait of a watcher on this
                               host: on its 'held' list too */
  wd_actor *owner;          /* the target, whose list holds it */
  int type;
  size_t pidlen;
  char pid[WD_PID_MAX];
};

/* A send that waits for room (flow.c): in the receiver's 'sendq' (this
** host) or in the credit entry of its destination (another host). The
** VM's task holds it; the sender's 'swaits' list holds it too. */
typedef struct wd_swq {
  wd_swait *head, *tail;
} wd_swq;

#define WD_SW_WAIT 1
struct wd_swait {
  wd_swait *next, *prev;     /* in 'q' */
  wd_swq *q;                 /* where it waits; NULL: not waiting */
  wd_swait *anext, **aprev;  /* the sender's list */
  wd_actor *a;               /* the sender */
  struct task *t;            /* its task */
  wd_msg *m;                 /* the message, owned while it waits */
  wd_out *out;               /* another host's destination: its entry */
  size_t bytes;              /* what it counts in the sender's swait_bytes */
  int32_t status;            /* WD_SW_WAIT, then 0 or a negative code */
};

/* Credit toward one destination on another host (flow.c). */
struct wd_out {
  wd_out *next;
  uint32_t hash;
  uint32_t msgs;             /* in flight */
  uint64_t bytes;
  wd_swq wq;                 /* senders waiting for credit */
  int peer;                  /* the destination's host (MESH number) */
  wd_out *pnext, **pprev;    /* on its peer's 'blocked' list: senders
                                wait for the peer's window, not its own */
  size_t keylen;
  char key[WD_PID_MAX];
};

/* A message from another host that found the mailbox full: it waits
** with its credit (flow.c). */
struct wd_park {
  wd_park *next;
  wd_msg *m;
  uint32_t peer;
};

/* Another host as this one knows it (MESH). */
typedef struct wd_peer {
  char *id;
  size_t idlen;
  uint64_t max_payload;
  uint64_t win;              /* each window of this host towards it, all
                                destinations together (0: no bound) */
  uint32_t dmsgs;            /* ... and to each of its processes */
  uint64_t dbytes;
  uint64_t past;             /* in flight past the destinations' own
                                shares (WD_FLOW_PAST) ... */
  uint64_t own;              /* ... and within them (WD_FLOW_OWN) */
  wd_out *blocked, **btail;  /* destinations waiting for that window */
} wd_peer;

/* A dead PID this host remembers (flow.c). */
typedef struct wd_dead {
  struct wd_dead *next;
  uint32_t hash;
  uint8_t len;
  char pid[WD_PID_MAX];
} wd_dead;

/* A registered name this host looked up, and its PID (flow.c). */
typedef struct wd_nm {
  struct wd_nm *next;
  uint32_t hash;
  uint8_t len, pidlen;
  char name[256];
  char pid[WD_PID_MAX];
} wd_nm;

/* Credit to return to host 'peer' for 'pid' (flow.c). */
typedef struct wd_cred {
  uint32_t peer;
  uint32_t msgs;
  uint64_t bytes;
  uint8_t flag;
  size_t pidlen;
  char pid[WD_PID_MAX];
} wd_cred;

/* The bytes each process's mailbox may hold on its own, past the host's
** mailbox_bytes (which bounds what they all hold past these): a process
** that holds little always has room for a small message, however much
** the others hold (actor.c 'room_for'). A test may build the runtime
** with less (tests/fuzz/fuzz_flow.c). */
#ifndef WD_MAILBOX_OWN
#define WD_MAILBOX_OWN ((size_t)64 << 10)
#endif

#define WD_OUT_BUCKETS 1024
#define WD_DEAD_MAX 4096
#define WD_DEAD_BUCKETS 4096
#define WD_CRED_MAX 64
#define WD_NM_MAX 1024
#define WD_NM_BUCKETS 1024

enum { A_ALIVE, A_DEAD };

/* An actor as the core knows it. The VM's actor starts with one (its
** first member), and 'wd_vm.actor_size' says how large the whole is:
** one allocation per process. */
struct wd_actor {
  wd_host *h;
  uint64_t counter;
  int state;            /* A_ALIVE, A_DEAD */
  int queued;           /* 0; 1 on the run queue; 2 on the late list */
  wd_actor *rnext, *rprev; /* run queue or late list (sched.c) */
  wd_actor *hnext;      /* host hash chain (actor.c) */
  wd_entry *e;
  size_t pidlen;
  char pid[WD_PID_MAX];
  /* Delivery (actor.c). */
  wd_mbox pending;      /* messages no subscription took yet (every queue
                           of the actor counts in 'mq', and that in h->mq) */
  wd_mtotal mq;         /* what its queues hold */
  size_t nqueued;       /* all undelivered messages, pending and subs */
  wd_sub *subs;
  wd_sub *inbox;
  /* Life (life.c). */
  wd_watch *watches;
  wd_watch *held;       /* its monitors and exec waits on this host's
                           processes (their watches), gone with it */
  int remote_watch;     /* a watch names another host: tell the broker */
  int trap_links;
  int report_exit;      /* the broker watches it (root) */
  int has_names;
  int killed;           /* set: end it with 'kill_msg', no more Lua */
  char kill_msg[96];
  uv_timer_t *killer;   /* a cancel deadline, or NULL */
  int npend;            /* requests at the broker (h->pend) */
  /* Security (hsec.c). */
  char *sec_actor;      /* actor as it travels: "<id>\0<meta>" (id alone
                           when no meta); inherited by children */
  size_t sec_actorlen;
  char *sec_scope;      /* newline-separated policy names, inherited (in
                           the block of sec_actor) */
  wd_pval meta;         /* the actor's meta (owned) */
  wd_scope *scope;      /* compiled scope (host cache), NULL: deny all */
  struct memo *memo;    /* the last allowed checks, or NULL */
  unsigned memo_next;
  uint8_t *ctx;         /* context values (codec bytes of a table) */
  size_t ctxlen;
  int stat_ix;          /* its tenant's counters (hstat.c): h->stat[] */
  /* Flow (flow.c). */
  wd_swq sendq;         /* senders of this host waiting for room */
  wd_park *park_head, *park_tail; /* other hosts' messages waiting */
  wd_actor *bnext, **bprev; /* on h->blocked while either waits */
  wd_swait *swaits;     /* its own sends that wait */
  size_t swait_bytes;   /* the bytes of their messages */
  uint64_t talkers;     /* bit i: host i sent it messages (DIED) */
};

/* What a spawn carries: the SPAWN record (wd_wire.h), decoded or to be
** encoded, one layout on both sides. */
typedef wd_spawnmsg spawnmsg;
typedef wd_spawnrec spawnopt;

/* What 'wd_vm.run' did: the actor ended (and is freed), has nothing
** ready, used up its slice (preempted), or has more ready to run. */
enum { WD_RUN_ENDED, WD_RUN_IDLE, WD_RUN_SLICE, WD_RUN_MORE };

/* The VM: what the core asks of the language side. */
struct wd_vm {
  size_t actor_size;    /* bytes of the VM's actor (>= sizeof wd_actor) */
  /* Give 'a' (in the table, its identity bound) a state running its
  ** entry with the codec bytes 'args'. On failure nothing of the VM's is
  ** left, and 'err' says why. */
  int (*boot)(wd_actor *a, const uint8_t *args, size_t alen, char *err,
              size_t errlen);
  /* Run 'a' (taken off the run queue) until a task blocks, yields or
  ** ends: a WD_RUN_*. A killed actor ends here (wd__actor_end_error). */
  int (*run)(wd_actor *a);
  /* A message was queued on a subscription of channel 'ch'. */
  void (*notify)(struct chan *ch);
  /* 'a' is out of the table and its core parts are released: free its
  ** tasks, timers and state, then its memory (wd__actor_reclaim), now or,
  ** with 'later', when its state is reset. */
  void (*release)(wd_actor *a, int later);
  /* The result of an exec'd child 'from' arrived for 'a' (EVENT EXEC). */
  void (*exec_result)(wd_actor *a, const char *from, size_t fl,
                      const uint8_t *p, size_t n);
  /* The broker's answer to a request that task 't' of 'a' made. */
  void (*reply)(wd_actor *a, struct task *t, uint32_t req, int32_t status,
                const char *s, size_t n);
  /* Housekeeping while nothing runs, within 'budget_ns': 1 if more is
  ** left to do. */
  int (*idle)(wd_host *h, uint64_t budget_ns);
  /* Ticks of CPU time so far (a turn ends when it moves). */
  unsigned long (*ticks)(void);
  /* The limits arrived (INIT); the host is being freed. */
  void (*configure)(wd_host *h);
  void (*host_free)(wd_host *h);
  /* What 'a' uses now: bytes of its state, CPU time so far (hstat.c). */
  void (*stat)(const wd_actor *a, uint64_t *mem, uint64_t *cpu_ns);
  /* The send task 't' of 'a' waited for is over (its wd_swait says how). */
  void (*send_done)(wd_actor *a, struct task *t);
};

/* Counters of one tenant (an actor id) on a host (hstat.c). Slot 0 takes
** the tenants past the first WD_STATUS_TENANTS - 1 ("_other", wd_proto.h),
** so the label sets stay bounded. */
typedef struct wd_hstat {
  char id[WD_STATUS_ID];
  uint64_t spawns, msgs_in, msgs_out, allow, deny;
} wd_hstat;

typedef struct pend {
  struct pend *next;
  uint32_t req;
  wd_actor *a;
  struct task *t;
} pend;

#define HOST_BUCKETS 4096
#define PEND_BUCKETS 256

struct wd_host {
  uv_loop_t *loop;
  const wd_vm *vm;
  void *vmdata;         /* the VM's, per host */
  char *id;
  size_t idlen;
  wd_host_io io;
  wd_hlimits lim;
  wd_entry **entries;   /* what the broker shipped: INIT, then ENTRY */
  int nentries, centries;
  wd_entry *elast;      /* the entry wd__host_entry found last */
  wd_entry **retired;   /* replaced by a deploy (REVISE), still run */
  int nretired;
  wd_actor *buckets[HOST_BUCKETS];
  size_t nactors;
  size_t peak_actors;   /* the most live at once */
  wd_actor *rq_head, *rq_tail;
  wd_actor *rq_late, *rq_late_tail; /* preempted: each turn runs the
                           actors that woke (the run queue), then the
                           oldest of these for a slice (sched.c) */
  uv_idle_t idle;
  int idle_on;
  uint64_t pid_next, pid_end, pid_next_base, pid_next_end;
  int pid_requested;
  pend *pend[PEND_BUCKETS];
  uint32_t next_req;
  wd_mtotal mq;         /* what every mailbox of the host holds: bounded
                           by lim.mailbox_bytes past each process's first
                           WD_MAILBOX_OWN bytes (its 'over', actor.c) */
  wd_buf scratch;       /* codec output for one send; for a send to
                           another host, after 'scratch_front' bytes of
                           room (wd__host_put_payload) */
  size_t scratch_front;
  wd_buf evbuf[2];      /* an exit's EXIT and LINK_DOWN events (life.c) */
  wd_policy_set *pset;  /* the policies the broker shipped */
  struct wd_scopes *scopes; /* compiled scopes by scope string */
  wd_pcache *pcache;
  int audit_mode;       /* 0 off, 1 denials, 2 every decision */
  wd_ceiling ceil;      /* this host's ceiling (owned strings) */
  int stopping;
  double spawn_tokens;  /* spawn_rate bucket */
  uint64_t spawn_last;
  wd_hstat stat[WD_STATUS_TENANTS]; /* per tenant (hstat.c) */
  int nstat;
  /* Flow (flow.c). */
  wd_peer *peers;       /* every host (MESH), NULL before it came */
  uint32_t npeers, self, peer_last;
  uint64_t send_timeout_ns;
  wd_out *out[WD_OUT_BUCKETS];
  size_t nout;
  wd_dead *dead_ring[WD_DEAD_MAX];
  unsigned dead_next;
  wd_dead *dead_tab[WD_DEAD_BUCKETS];
  wd_cred cred[WD_CRED_MAX];
  int ncred;
  wd_nm *nm_ring[WD_NM_MAX]; /* names looked up, the oldest goes first */
  unsigned nm_next;
  wd_nm *nm_tab[WD_NM_BUCKETS];
  unsigned nm_epoch;    /* UNNAME records taken so far */
  wd_actor *blocked;    /* actors with senders or messages waiting */
  wd_actor **btail;     /* its last 'bnext' (NULL: &blocked) */
};

/* host.c */
uint64_t wd__host_now_ns(void);
wd_entry *wd__host_entry(wd_host *h, const char *id);
/* Start a request record for task 't' of 'a' and remember who waits for
** the reply; the body follows the caller's actor and scope. */
int wd__host_request(wd_host *h, wd_actor *a, struct task *t, uint8_t op,
                     uint32_t *req, wd_buf **body, size_t *start);
int wd__host_request_end(wd_host *h, size_t start);
void wd__host_request_cancel(wd_host *h, uint32_t req);
/* Drop the requests of 'a' in flight: their replies will find no one. */
void wd__host_request_drop(wd_host *h, wd_actor *a);
void wd__host_reply(wd_host *h, uint32_t req, int32_t status, const char *s,
                    size_t n);
/* Room before an encoded send in 'scratch' (wd__host_put_payload): the
** head of a MSG or REQ record, and a fragment frame's, fit in it. */
#define WD_HOST_SEND_FRONT 2048u
/* A payload this big goes into a record or message without a copy when
** it can (below). */
#define WD_HOST_NOCOPY_MIN (256u << 10)
/* Append payload 'p' ('n' bytes) to the record being written in 'b' (what
** io.begin returned), as its last bytes. When they are the send encoded
** in 'scratch' after 'scratch_front' bytes of room, and big, the link
** takes the scratch buffer (io.give) instead of a copy, and 'scratch'
** starts again empty. Errors are the batch's, as for wd_buf_put. */
void wd__host_put_payload(wd_host *h, wd_buf *b, const uint8_t *p, size_t n);
/* wd_msg_new for a payload 'p' ('n' bytes) that lies in the record the
** host is handling: when it is big and the link gives up that record's
** buffer (io.take), the message is made inside it, in front of the
** payload, which is not copied. Either way one allocation that
** wd_msg_free frees, and wd_msg_size (what the queues count) is the
** same. NULL only for out of memory. */
wd_msg *wd__host_msg_new(wd_host *h, const char *from, size_t fl,
                         const char *topic, size_t tl, const uint8_t *p,
                         size_t n);
void wd__host_exit_record(wd_actor *a, uint32_t flags, int32_t status,
                          const wd_buf *text, const wd_buf *res);
int wd__host_next_counter(wd_host *h, uint64_t *out);
void wd__host_cancel_all(wd_host *h, uint64_t deadline_ns);
void wd__host_pid_is_local(wd_host *h, const char *pid, size_t len,
                           int *local, uint64_t *counter);

/* actor.c */
wd_actor *wd__actor_find(wd_host *h, uint64_t counter);
int wd__actor_spawn(wd_host *h, wd_entry *e, const spawnopt *o,
                    wd_actor **out, char *err, size_t errlen);
void wd__actor_mbox_init(wd_actor *a, wd_mbox *q);
int wd__actor_room(wd_actor *a, size_t bytes);
int wd__actor_route(wd_actor *a, wd_msg *m, int force);
void wd__actor_reroute(wd_actor *a, wd_sub *from);
int wd__actor_deliver(wd_actor *to, wd_msg *m);
/* Writes the event of kind "pid.exit" or "pid.link.down" into 'out'. */
typedef int (*wd_event_fn)(void *ud, const char *kind, wd_buf *out);
/* The end of 'a' (reference §3.3), in three steps: it leaves the table
** (nothing new reaches it), its watchers are told (wd__life_exit), it is
** freed: with 'later' its memory goes with its VM state's reset (kills
** come in cascades through links, which then free nothing on their way),
** else now. */
void wd__actor_leave(wd_actor *a);
void wd__actor_done(wd_actor *a, int later);
/* End 'a' with an error of 'kind' made in C (limits, kills) that the
** broker need not hear of: the events are written in C and its state is
** released untouched. */
void wd__actor_end_error(wd_actor *a, const char *kind, const char *msg);
/* What wd__actor_done does but the empty host's notice (wd_host_stop). */
void wd__actor_free(wd_actor *a, int later);
/* Free what an ended actor still holds, then the actor (the VM calls it
** from its release, after freeing its own parts). What waits for room on
** the host may get into mailboxes before it returns (wd__flow_freed). */
void wd__actor_reclaim(wd_actor *a);

/* sched.c */
void wd__sched_ready(wd_actor *a);
void wd__sched_remove(wd_actor *a);
void wd__sched_wake(wd_host *h);
void wd__sched_init(wd_host *h);
void wd__sched_stop(wd_host *h);

/* life.c */
int wd__life_watch_add(wd_actor *a, int type, const char *pid, size_t len);
int wd__life_watch_del(wd_actor *a, int type, const char *pid, size_t len);
void wd__life_watch_free_all(wd_actor *a);
void wd__life_kill(wd_actor *a, const char *msg);
int wd__life_kill_at(wd_actor *a, int64_t ns);
void wd__life_unlinked(wd_actor *a, const char *pid, size_t len);
void wd__life_exit(wd_actor *a, int ok, wd_event_fn build, void *ud);
/* The event of an error made in C, or of no value, as 'build' would. */
int wd__life_event_c(wd_buf *out, const char *from, size_t fl,
                     const char *kind, uint64_t deadline_ns,
                     const wd_codec_val *v);
void wd__life_event_in(wd_host *h, int kind, const char *from, size_t fl,
                       const char *to, size_t tl, uint64_t deadline,
                       const uint8_t *p, size_t n);
void wd__life_event_out(wd_host *h, int kind, const char *from, size_t fl,
                        const char *to, size_t tl, uint64_t deadline,
                        const uint8_t *p, size_t n);
int wd__life_req(wd_host *h, uint32_t req, uint8_t op, wd_cur *c);

/* flow.c */
/* wd__flow_remote and wd__flow_local: the send waits (WD_FLOW_WAIT), or
** goes through the broker as a request (WD_FLOW_REQ: no such peer). */
#define WD_FLOW_WAIT 1
#define WD_FLOW_REQ 2
/* Send to 'to' on this host: 0 delivered, WD_FLOW_WAIT (with 'w' and 't':
** 'w' owns 'm' now), or a negative code ('m' still the caller's). Without
** 'w' a full mailbox is WD_EMBOXFULL at once. */
int wd__flow_local(wd_actor *from, wd_actor *to, wd_msg *m, wd_swait *w,
                   struct task *t);
/* Send to 'dest' on another host: 0 sent, WD_FLOW_WAIT, WD_FLOW_REQ, or a
** negative code (WD_ETOOBIG sets '*limit', the receiver's max_payload). */
int wd__flow_remote(wd_actor *a, const char *dest, size_t dl,
                    const char *topic, size_t tl, const uint8_t *p, size_t n,
                    wd_swait *w, struct task *t, uint64_t *limit);
/* 'w' stops waiting (its timeout, its task's end); a no-op if it is not. */
void wd__flow_cancel(wd_swait *w);
/* 'a' took a message: room for what waits. */
void wd__flow_room(wd_actor *a);
static inline void wd__flow_taken(wd_actor *a) {
  if (a->h->blocked != NULL) wd__flow_room(a);
}
/* Queued bytes of the host went without a take (an ended actor's, freed
** with it): every actor that waits for room gets a try, once each. */
void wd__flow_freed(wd_host *h);
void wd__flow_leave(wd_actor *a);
void wd__flow_free(wd_actor *a);
void wd__flow_before_event(wd_actor *a, const char *from, size_t fl);
void wd__flow_flush(wd_host *h);
void wd__flow_host_free(wd_host *h);
int wd__flow_dead_has(wd_host *h, const char *pid, size_t n);
void wd__flow_dead_add(wd_host *h, const char *pid, size_t n);
/* The PID a name was looked up to (NULL: not known), and keeping one
** looked up when wd__flow_name_epoch was 'epoch' (not kept if a release
** came in since: the answer may be the one released). */
const char *wd__flow_name_get(wd_host *h, const char *name, size_t n,
                              size_t *pidlen);
unsigned wd__flow_name_epoch(const wd_host *h);
void wd__flow_name_put(wd_host *h, unsigned epoch, const char *name, size_t n,
                       const char *pid, size_t pidlen);

/* hstat.c: counters per tenant, and the STATUS request (wd_proto.h) */
void wd__hstat_spawned(wd_actor *a);
static inline void wd__hstat_in(wd_actor *a) {
  a->h->stat[a->stat_ix].msgs_in++;
}
static inline void wd__hstat_out(wd_actor *a) {
  a->h->stat[a->stat_ix].msgs_out++;
}
static inline void wd__hstat_decided(wd_actor *a, int allowed) {
  if (allowed)
    a->h->stat[a->stat_ix].allow++;
  else
    a->h->stat[a->stat_ix].deny++;
}
int wd__hstat_req(wd_host *h, uint32_t req, uint8_t op, wd_cur *body);

/* hsec.c */
int wd__hsec_init(wd_host *h, wd_cur *c);
int wd__hsec_reload(wd_host *h, wd_cur *c);
void wd__hsec_free(wd_host *h);
int wd__hsec_bind(wd_actor *a, const spawnopt *o);
void wd__hsec_unbind(wd_actor *a);
int wd__hsec_decide(wd_actor *a, const char *action, const char *resource,
                    size_t rlen, const char *target_host, const char *topic,
                    char *why, size_t whylen);
const char *wd__hsec_host_of(const char *pid, size_t len, char *out,
                             size_t outlen);
int wd__hsec_memo_hit(wd_actor *a, const char *action, const char *resource,
                      size_t rlen, const char *target_host, const char *topic);
void wd__hsec_memo_keep(wd_actor *a, const char *action, const char *resource,
                        size_t rlen, const char *target_host,
                        const char *topic);

#endif
