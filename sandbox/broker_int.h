/*
** sandbox/broker_int.h
** Internal structures of the broker, shared by broker.c (hosts, links,
** routing, registry) and broker_life.c (lifecycle across hosts, host
** death events, supervised services).
** Runs in: broker.
*/
#ifndef broker_int_h
#define broker_int_h

#include <sys/types.h>
#include <uv.h>

#include "ward/wd_link.h"
#include "ward/wd_pid.h"
#include "ward/wd_sandbox.h"
#include "ward/wd_secid.h"

#define PID_BLOCK 65536u
#define FWD_BUCKETS 256

/* The actor and scope a host claims for the caller of a request. */
typedef struct brk_caller {
  const char *actor;  /* "<id>" or "<id>\0<meta>" (borrowed) */
  size_t actorlen;
  const char *scope;  /* newline-separated names (borrowed) */
  size_t scopelen;
  char id[256];       /* the actor id alone */
  char entry[256];    /* the caller's entry, as its host says (for the
                         audit log only; never decided on) */
} brk_caller;

struct fwd;

/* Messages that host 'from' has in flight to process 'counter' of host
** 'to' (broker_msg.c): carried to it (MSG) and not given back (CREDIT),
** counted against the credit the sender holds (WD_FLOW_*, wd_proto.h).
** 'msgs' and 'bytes' are the sender's current incarnation's; 'omsgs' and
** 'obytes' those its earlier incarnations left in flight when they went
** down. A host gives credit back in the order it took the messages, so
** credit pays the earlier ones first, and that part goes to nobody.
** In the table 'wd_broker.fl' by (from, to, counter), and on the lists
** of both hosts; freed once nothing is in flight, or when 'to' goes
** down (what was in flight to it is gone). 'to' is 'nhosts' for an inbox
** stream of the front door (MESH's last peer, host "api"): what waits for
** its window at the broker (broker_inbox.c), on 'wd_broker.fl_api'. */
typedef struct brk_fl {
  struct brk_fl *next;           /* hash chain */
  struct brk_fl *onext, **oprev; /* host 'from''s list */
  struct brk_fl *inext, **iprev; /* host 'to''s list */
  uint64_t hash;
  uint64_t counter;
  int from, to;
  uint64_t msgs, bytes;
  uint64_t omsgs, obytes;
} brk_fl;

/* Messages from one host that the broker dropped for one cause, said on
** stderr at most once a second (a lying host could otherwise fill it):
** the first at once, the count of the others with the last one's words
** when a second has passed (broker_msg.c). */
enum { BRK_DROP_DENIED, BRK_DROP_UNREAD, BRK_DROP_NOMEM, BRK_DROP_CAUSES };
typedef struct brk_drop {
  uint64_t n;                    /* dropped, not said yet */
  uint64_t next;                 /* uv_now before which no line goes */
  char why[300];                 /* the last one's cause */
  char route[2 * WD_PID_MAX + 16]; /* "from A to B" */
} brk_drop;

/* A host. Liveness (on_watchdog) is judged on the watch clock
** ('wd_broker.wclock'): 'alive' is the last time the host showed a sign of
** life (a heartbeat, frames the broker has not read yet, CPU time spent,
** or being runnable); 'liveness' of the watch clock past it, the host is
** killed. Requests carried to it wait in 'rq_head'..'rq_tail', oldest
** first, each until its request_timeout. */
typedef struct hslot {
  wd_broker *b;
  const brk_caller *cur; /* the caller of the request being handled */
  const wd_entry *he;
  const char *id;
  size_t idlen;
  int up;           /* link usable */
  pid_t pid;        /* 0 when no OS process */
  pid_t ospid;      /* the OS process of this (or the last) incarnation */
  uint64_t beat;    /* uv_now of the last heartbeat (or of the start) */
  int64_t cpu_mark; /* its CPU ms when it went silent, -1 while beating */
  uint64_t alive;   /* watch clock at its last sign of life */
  int64_t cpu_last; /* its CPU ms at the last look while silent, or -1 */
  int beaten;       /* a heartbeat came from this incarnation */
  uint64_t first_beat; /* watch clock of that first heartbeat */
  struct fwd *rq_head, *rq_tail; /* requests it has not answered */
  int nlate;        /* requests it answers after their deadline */
  wd_link *link;
  size_t out_bytes; /* what it printed that waits for stdout */
  int out_paused;   /* its link is not read until that drains */
  int64_t out_tokens; /* bytes it may still print now (output_rate) */
  uint64_t out_stamp; /* uv_now of the last refill */
  int out_slow;     /* its link is not read: over its output_rate */
  int out_told;     /* stderr said so once */
  char why[200];
  uint64_t gone_below; /* PIDs under this counter are of a dead
                          incarnation (set at the host's death) */
  struct name *names;  /* the names its processes hold (broker_reg.c) */
  size_t nnames;       /* ... how many: at most host.max_names */
  size_t nwatches;     /* cross-host watches its processes hold (the
                          broker's records): at most host.max_watches */
  brk_fl *fl_out;      /* what it has in flight to others' processes */
  brk_fl *fl_in;       /* what others have in flight to its processes */
  uint64_t *fl_peer;   /* bytes its current incarnation has in flight to
                          each host and to the inbox streams (the last),
                          all processes together, past each process's
                          own share (WD_FLOW_PAST of the 'bytes' of its
                          'fl_out'), then (from index nhosts + 1) within
                          them (WD_FLOW_OWN); NULL before its first */
  uint64_t fl_own_in;  /* what all hosts have in flight to it within
                          its processes' own shares (its link_queue
                          bound grows by it) */
  brk_drop drops[BRK_DROP_CAUSES];
} hslot;

/* A request carried to host 'target' and not answered yet. A request
** past its deadline was answered with Timeout; it stays (FWD_LATE) only so
** that the host's late answer is known and dropped. A request whose
** caller's host died stays too (origin FWD_NOBODY): its answer goes to
** nobody, and is no forgery. */
#define FWD_NOBODY (-2)
#define FWD_GW (-3) /* origin: the front door (broker_gw.c) */
#define FWD_STATUS (-4) /* origin: a status request (broker_gw_status.c) */
#define FWD_WAIT 0 /* in its target's queue, under a deadline */
#define FWD_LATE 1 /* answered with Timeout; not queued */

typedef struct fwd {
  struct fwd *next;
  struct fwd *qprev, *qnext; /* FWD_WAIT: the target's queue */
  uint32_t breq;
  int origin;       /* host slot index, -1: the broker, FWD_NOBODY */
  uint32_t oreq;
  int target;
  int state;        /* FWD_WAIT or FWD_LATE */
  uint64_t sent;    /* watch clock when it was carried */
  wd_root_cb cb;    /* origin -1: a root spawn */
  void (*on_pid)(wd_broker *, void *, const char *, size_t); /* ... and
                       its PID, once the host made it (or NULL) */
  void *ud;
  uint8_t op;       /* the request carried */
  uint32_t flags;   /* spawn flags */
  char *who;        /* MONITOR/LINK/SPAWN: the watching PID */
  char *name;       /* a name reserved by a named spawn */
  int svc;          /* a service start: index + 1 */
  uint64_t mark;    /* UNLINK: xwtab.seq when it was carried */
  int by_name;      /* UNLINK: the caller named a registered name */
  int quiet;        /* the broker's own request: nobody to answer */
} fwd;

/* A monitor, link or exec watch between processes on different hosts, as
** the broker recorded it: when it carried the MONITOR, LINK or SPAWN that
** made it and the target's host said yes (wd__brk_after_reply). Events
** between hosts travel only along these (wd__brk_on_event): an EXIT needs
** a monitor of the receiver on the sender, an exec result an exec watch,
** LINK_DOWN and UNLINKED a link. Each record is in three hash chains of
** 'xwtab': by (watcher, target), by target and by watcher, so that an
** event costs one lookup and an exit what the exiting process held.
** Invariants: monitor and exec records go away with the one event they
** allow (or their target's exit, or a host's death); a link allows one
** event from each side ('done'), and goes once both sides are done. */
typedef struct xwatch {
  struct xwatch *pnext, **pprev; /* pair chain */
  struct xwatch *tnext, **tprev; /* target chain */
  struct xwatch *wnext, **wprev; /* watcher chain */
  uint32_t ph, th, wh;   /* hashes of the pair, target, watcher */
  int type;              /* WD_WATCH_* (wd_proto.h) */
  char *watcher;
  int wslot;
  char *target;
  int tslot;
  int cslot;             /* link: the host whose reply made it last */
  uint64_t seq;          /* link: xwtab.seq when it was made last */
  unsigned done;         /* link: XW_WDONE | XW_TDONE, a side is over */
  int forgetting;        /* monitor, exec: its watcher ended, FORGET sent */
} xwatch;

#define XW_WDONE 1u /* the watcher sent its event (or exited) */
#define XW_TDONE 2u /* the target sent its event (or exited) */

typedef struct xwtab {
  xwatch **pair, **tgt, **wat; /* 'mask' + 1 buckets each, or NULL */
  size_t mask;
  size_t n;                    /* records */
  uint64_t seq;                /* counts link records made and UNLINKs */
  uint32_t seed;
} xwtab;

/* A supervised process.service. */
typedef struct svc {
  const wd_entry *e;
  int running;      /* a process is up (or starting) */
  int slot;
  uint64_t counter;
  int attempts;     /* restarts since the last stable run */
  uint64_t started; /* uv_now of the last start */
  int given_up;
  int redeploy;     /* a deploy stopped it: start it again at its end */
} svc;

typedef struct root {
  struct root *next;
  int slot;
  uint64_t counter;
  wd_root_cb cb;    /* NULL for a service */
  void *ud;
  int svc;          /* a service: index + 1 */
} root;

/* A registered name (broker_reg.c). Every name is in the table by name;
** a held one (not a reservation) also in the table by owner (host slot
** and PID counter) and on its host's list. */
typedef struct name {
  struct name *next;            /* by-name chain */
  struct name *onext, **oprev;  /* by-owner chain */
  struct name *snext, **sprev;  /* its host's list */
  uint32_t h, oh;               /* hashes of the name, of the owner */
  char *name;
  char *pid;                    /* "" for a reservation */
  int slot;                     /* -1 for a reservation */
  uint64_t counter;
  uint64_t cached;              /* bit i: host i looked it up (UNNAME) */
} name;

/* A deadline in a brk_dlheap (broker_dl.c): 'at' (a loop time, ms), then
** 'seq', order them. The owner embeds it and sets both before adding. */
typedef struct brk_dl {
  uint64_t at, seq;
  size_t pos; /* index in its heap plus one; 0: in none */
} brk_dl;

typedef struct brk_dlheap {
  brk_dl **d; /* d[0] is the earliest */
  size_t n, cap;
} brk_dlheap;

typedef struct btimer {
  uv_timer_t h;
  struct btimer *next, *prev;
  wd_broker *b;
  void (*cb)(wd_broker *, void *, int);
  void *ud;
} btimer;

/* How long the broker polls without sleeping after a message between
** hosts (wd_broker_run); 0 sleeps at once. A build option for benchmarks. */
#ifndef WD_BROKER_SPIN_US
#define WD_BROKER_SPIN_US 100
#endif

struct wd_broker {
  uv_loop_t loop;
  unsigned long work; /* MSG records from hosts (wd_broker_run) */
  const wd_manifest *m;
  wd_broker_opts o;
  hslot *hosts;
  int nhosts;
  unsigned char *shipped; /* per host, per manifest entry: sent to it */
  unsigned char *master;
  uint64_t next_pid;
  uint64_t next_index;
  fwd *fwd[FWD_BUCKETS];
  uint32_t next_breq;
  root *roots;
  name **names;         /* by name, 'nmask' + 1 buckets (or NULL) */
  name **owners;        /* by owner, as many */
  size_t nmask, nnames;
  uv_signal_t sigchld;
  uv_prepare_t flush;
  uv_timer_t killer;
  uv_timer_t watchdog;
  uv_signal_t sigint, sigterm, sighup;
  int signals_on;
  uint64_t wclock;     /* watch clock, ms: uv_now, but a late watchdog
                          tick adds at most two periods (a broker that
                          was stopped or starved has read nothing) */
  uint64_t wd_last;    /* uv_now of the last watchdog tick */
  struct btimer *timers;
  pid_t dying[64];     /* host processes killed but not yet reaped */
  int ndying;
  int stopping;
  int closed;
  struct wd_policy_set *pset;
  struct wd_scopes *scopes;
  struct wd_pcache *pcache;
  char pdigest[65];       /* of the policy set (wd_polset_digest) */
  const struct wd_manifest *pm; /* where the policies came from: 'm', or
                           the manifest of the last reload or deploy */
  struct brk_dep *dep;  /* reloads and deploys (broker_reload.c) */
  struct wd_audit *audit;
  xwtab xw;            /* cross-host watches (broker_life.c) */
  svc *svcs;
  int nsvcs;
  struct brk_out *out; /* standard output (broker_out.c) */
  struct brk_gw *gw;   /* the front door, or NULL (broker_gw.c) */
  struct brk_stat *stat; /* its counters, or NULL (broker_gw_status.c) */
  struct brk_inbox *inbox; /* inbox streams, or NULL (broker_inbox.c) */
  const uint8_t *exit_res; /* during a root's callback: its result's */
  size_t exit_reslen;      /* codec bytes (may be empty) */
  brk_fl **fl;             /* messages in flight (broker_msg.c): 'flmask'
                              + 1 buckets, or NULL */
  size_t flmask, nfl;
  unsigned char flkey[16]; /* keys its hash (crypto_shorthash) */
  brk_fl *fl_api;          /* ... those to the inbox streams */
};

typedef struct brk_out brk_out;


/* broker.c */
wd_buf *wd__brk_rec(hslot *s, uint8_t rtype, size_t *start);
/* Finish a record begun with wd__brk_rec: 0, or WD_ETOOBIG / WD_ENOMEM
** (the record was dropped; see wd_link_rec_end). */
int wd__brk_rec_done(hslot *s, size_t start);
void wd__brk_reply(hslot *s, uint32_t req, int32_t status, const char *fmt,
                   ...) __attribute__((format(printf, 4, 5)));
hslot *wd__brk_slot_by_id(wd_broker *b, const char *id, size_t n);
int wd__brk_owns(hslot *s, const char *pid, size_t n, uint64_t *counter);
int wd__brk_own_pid(hslot *s, const char *pid, size_t n, uint64_t *counter,
                    const char *why);
fwd *wd__brk_fwd_new(wd_broker *b, int origin, uint32_t oreq, int target);
void wd__brk_fwd_free(fwd *f);
void wd__brk_name_settle(wd_broker *b, const char *nm, const char *pid,
                         size_t pl, int slot);
void wd__brk_answer(wd_broker *b, fwd *f, int32_t status, const char *s,
                    size_t n);
int wd__brk_spawn_service(wd_broker *b, int idx, char *err, size_t errlen);
/* Spawn entry 'e' on host 't' (up) as a root process with this actor
** ("<id>" or "<id>\0<meta>") and scope (newline-separated) and argument
** codec bytes; 'cb' when it ends or cannot start, 'on_pid' (may be NULL)
** once it runs. Nothing is checked here: the caller has decided. */
int wd__brk_spawn_as(wd_broker *b, const wd_entry *e, hslot *t,
                     const char *actor, size_t al, const char *scope,
                     size_t sl, const uint8_t *args, size_t alen,
                     wd_root_cb cb,
                     void (*on_pid)(wd_broker *, void *, const char *, size_t),
                     void *ud, int svcno);

int wd__brk_refuse_full(hslot *s, uint32_t req, hslot *t);
int wd__brk_allow(hslot *s, uint32_t req, const char *pid, size_t pl,
                  const char *action, const char *res, size_t rl,
                  const char *target_host, const char *topic);

/* broker_out.c */
int wd__brk_out_open(wd_broker *b);
void wd__brk_out_put(wd_broker *b, int slot, const char *s, size_t n);
void wd__brk_out_flush(wd_broker *b);
void wd__brk_out_stop(wd_broker *b);
void wd__brk_out_drain(wd_broker *b);
void wd__brk_out_free(wd_broker *b);

int wd__brk_on_rec(wd_link *l, uint8_t rtype, wd_cur *body);
void wd__brk_fwd_unqueue(wd_broker *b, fwd *f);
void wd__brk_maybe_finish(wd_broker *b);

/* broker_host.c */
int wd__brk_entry_on_host(const wd_entry *e, const hslot *s);
void wd__brk_ship(hslot *s, const wd_entry *e, wd_buf *w, uint32_t *n);
void wd__brk_send_pids(hslot *s);
void wd__brk_on_sigchld(uv_signal_t *h, int sig);
int wd__brk_host_ensure(wd_broker *b, hslot *s, char *err, size_t errlen);
void wd__brk_host_down(hslot *s, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* broker_reg.c */
name *wd__brk_name_get(wd_broker *b, const char *nm, size_t n);
int wd__brk_name_put(wd_broker *b, const char *nm, size_t nl,
                     const char *pid, size_t pl, int slot, uint64_t counter);
void wd__brk_name_drop(wd_broker *b, name *x);
void wd__brk_names_release(wd_broker *b, int slot, uint64_t counter,
                           int all);
void wd__brk_names_free(wd_broker *b);
int wd__brk_name_room(const hslot *s);
int wd__brk_req_registry(hslot *s, uint32_t req, uint8_t op, wd_cur *c);
int wd__brk_may_lookup(hslot *s, uint32_t req, const char *pid, size_t pl,
                       const char *nm, size_t nl);
const char *wd__brk_resolve(hslot *s, uint32_t req, const char *pid,
                            size_t pl, const char *dest, size_t *dl,
                            int *answered);

/* broker_sec.c */
int wd__brk_sec_open(wd_broker *b, char *err, size_t errlen);
int wd__brk_sec_close(wd_broker *b);
void wd__brk_sec_put_init(hslot *s, wd_buf *w);
void wd__brk_sec_event(wd_broker *b, int kind, const char *host, long ospid,
                       const char *reason);
int wd__brk_sec_caller(hslot *s, wd_cur *c, brk_caller *who);
int wd__brk_sec_fits(hslot *s, const char *actor, size_t al,
                     const char *scope, size_t sl, char *why, size_t whylen);
int wd__brk_sec_check(hslot *s, const brk_caller *who, const char *pid,
                      size_t pl, const char *action, const char *resource,
                      size_t rl, const char *target_host, const char *topic,
                      char *why, size_t whylen);
int wd__brk_sec_audit_req(hslot *s, uint32_t req, uint8_t op, wd_cur *c);

/* broker_reload.c: changing a serving ward. 'errs' gets every error,
** one "FILE:LINE:COL: message" a line. */
int wd__brk_reload(wd_broker *b, const char *via, wd_buf *errs,
                   char digest[65]);
void wd__brk_reload_free(wd_broker *b);
/* broker_gw_deploy.c: a namespace's new revision, as the gateway sent
** it (wd__gw_put_files). Returns 0 with the revision in 'rev', or
** WD_EINVAL (errors in 'errs'), WD_EUNAVAIL, WD_ENOMEM. */
int wd__brk_deploy(wd_broker *b, const char *ns, const uint8_t *files,
                   size_t n, wd_buf *errs, char *rev, size_t revlen);

/* broker_gw.c (the front door) */
void wd__brk_gw_answer(wd_broker *b, fwd *f, int32_t status, const char *s,
                       size_t n);
int wd__brk_gw_reaped(wd_broker *b, pid_t pid, int status);
void wd__brk_gw_stop(wd_broker *b);
void wd__brk_gw_free(wd_broker *b);

/* broker_gw_status.c (observing a serving ward): counters, kept only
** while ward serves, and the status requests to the hosts */
void wd__brk_stat_decision(wd_broker *b, int slot, const char *tenant,
                           int allowed);
void wd__brk_stat_gw_code(wd_broker *b, const char *tenant, int status);
/* A GW_COUNT record of the gateway (its own answers): counted with no
** tenant; 0, or WD_EBADFRAME (out of bounds: the gateway is killed). */
int wd__brk_stat_gw_count(wd_broker *b, wd_cur *body);
void wd__brk_stat_exec(wd_broker *b, int slot, const char *tenant,
                       uint64_t ms);
void wd__brk_stat_restart(wd_broker *b, int slot);
/* Ask every host that is up (STATUS) for API call 'serial' of 'kind'
** (WD_GW_PS, _HOSTS, _METRICS); the answer goes through
** wd__brk_gw_status_done, never from inside this call. */
int wd__brk_stat_start(wd_broker *b, int kind, uint64_t serial);
int wd__brk_stat_check(const char *s, size_t n);
void wd__brk_stat_reply(wd_broker *b, fwd *f, int32_t status, const char *s,
                        size_t n);
void wd__brk_stat_free(wd_broker *b);
/* broker_dl.c: a binary heap of deadlines. _add returns 0 or WD_ENOMEM
** (then 'd' is in no heap); _del takes 'd' out when it is in 'h'; _free
** frees the array, not the deadlines. */
int wd__brk_dl_add(brk_dlheap *h, brk_dl *d);
void wd__brk_dl_del(brk_dlheap *h, brk_dl *d);
void wd__brk_dl_free(brk_dlheap *h);
/* broker_gw.c: the answer of status call 'serial' (value: codec bytes). */
void wd__brk_gw_status_done(wd_broker *b, uint64_t serial, int status,
                            const uint8_t *val, size_t vlen);
/* broker_gw.c, for broker_inbox.c: call 'serial' of the front door */
int wd__brk_gw_decide(wd_broker *b, uint64_t serial, const char *action,
                      const char *res, size_t rl, const char *target_host,
                      char *why, size_t whylen);
void wd__brk_gw_reply(wd_broker *b, uint64_t serial, int32_t code,
                      const char *msg, const char *pid);
/* The gateway's link and incarnation, or NULL when it is down. */
wd_link *wd__brk_gw_link(wd_broker *b, uint64_t *gen);
/* Open the listening socket of --listen 'spec' ("unix:PATH" or
** "tcp:HOST:PORT", loopback only unless 'listen_any'): sets *fd, and
** *path (to unlink at the end) for a unix socket. 0 or a negative code
** with the reason in 'err' (broker_listen.c). */
/* A host's ceiling, borrowed from its manifest entry (broker_sec.c). */
void wd__brk_ceiling(const wd_host_conf *hc, wd_ceiling *c);
int wd__brk_listen(const char *spec, int listen_any, int *fd, char **path,
                   char *err, size_t errlen);

/* broker_inbox.c (inbox streams: processes of host "api") */
int wd__brk_inbox_is(const char *pid, size_t n);
void wd__brk_inbox_open(wd_broker *b, uint64_t serial, uint32_t call,
                        uint64_t gen, const char *tok, const char *nm,
                        size_t nl);
int wd__brk_inbox_deliver(wd_broker *b, const char *from, size_t fl,
                          const char *pid, size_t pl, const char *topic,
                          size_t tl, const uint8_t *p, size_t n, char *msg,
                          size_t msglen);
/* broker_msg.c: messages across hosts without a round trip */
void wd__brk_send_mesh(hslot *s);
int wd__brk_on_msg(hslot *s, wd_cur *c);
int wd__brk_on_credit(hslot *s, wd_cur *c);
int wd__brk_on_died(hslot *s, wd_cur *c);
void wd__brk_gone_host(hslot *s);
void wd__brk_unname(wd_broker *b, const name *x);
/* Give host 's' back the credit of one message of 'n' payload bytes to
** 'dest' (WD_FLOW_COST(n); 'flag': WD_CREDIT_DEAD when it is gone). */
void wd__brk_credit_back(hslot *s, const char *dest, size_t dl, size_t n,
                         uint8_t flag);
/* Host 's' went down: what it had in flight becomes its earlier
** incarnation's, what others had in flight to it is forgotten, and what
** it had dropped and not said yet is said. */
void wd__brk_flow_down(hslot *s);
void wd__brk_flow_free(wd_broker *b);
/* A message of 'n' payload bytes from host 's' waits at the broker for the
** window of inbox 'counter' (broker_inbox.c): it is in flight until it
** leaves (wd__brk_flow_left). 0, or WD_ENOMEM (it was not counted: it may
** not wait). */
int wd__brk_flow_wait(hslot *s, uint64_t counter, size_t n);
/* It left (carried, or dropped with its inbox): returns 1 when its credit
** goes back to host 'slot', 0 when it was an earlier incarnation's. */
int wd__brk_flow_left(wd_broker *b, int slot, uint64_t counter, size_t n);
/* Say the drops of every host (or of host 'only') that are due (a second
** after the last line), or all of them ('all': the host went down, the
** broker ends). */
void wd__brk_drops_say(wd_broker *b, hslot *only, int all);

int wd__brk_inbox_send(hslot *s, uint32_t req, const char *from, size_t fl,
                       const char *pid, size_t pl, const char *topic,
                       size_t tl, const uint8_t *p, size_t n);
int wd__brk_inbox_life(hslot *s, uint32_t req, uint8_t op, const char *from,
                       size_t fl, const char *pid, size_t pl);
int wd__brk_inbox_kill(wd_broker *b, const char *pid, size_t pl);
int wd__brk_inbox_event(hslot *s, int kind, const char *from, size_t fl,
                        const char *to, size_t tl);
void wd__brk_inbox_forget(wd_broker *b, const char *pid, size_t n);
void wd__brk_inbox_host_down(wd_broker *b, int slot);
int wd__brk_inbox_on_end(wd_broker *b, uint64_t gen, wd_cur *body);
/* MSG from host 's' to inbox 'pid', decided by the caller (broker_msg.c):
** carried within the inbox's window, or kept until GW_ACK makes room;
** the sender's credit comes back as it leaves. */
void wd__brk_inbox_msg(hslot *s, const char *from, size_t fl,
                       const char *pid, size_t pl, const char *topic,
                       size_t tl, const uint8_t *p, size_t n);
/* GW_ACK from the gateway of incarnation 'gen'; WD_EBADFRAME: a lie. */
int wd__brk_inbox_on_ack(wd_broker *b, uint64_t gen, wd_cur *body);
/* MESH's entry for the front door (broker_msg.c): max_payload and
** link_queue (0: no window for the peer, WD_FLOW_API_*) of host "api". */
void wd__brk_inbox_mesh(wd_buf *w);
void wd__brk_inbox_gw_down(wd_broker *b);
void wd__brk_inbox_free(wd_broker *b);

/* broker_life.c */
int wd__brk_req_life(hslot *s, uint32_t req, uint8_t op, wd_cur *c);
int wd__brk_on_event(hslot *s, wd_cur *c);
void wd__brk_watch_add(wd_broker *b, int type, const char *watcher,
                       size_t wl, const char *target, size_t tl);
void wd__brk_watch_forget(wd_broker *b, const char *pid, size_t n);
int wd__brk_watch_room(hslot *s, uint32_t req);
void wd__brk_watch_host_down(wd_broker *b, int slot, const char *why);
void wd__brk_after_reply(wd_broker *b, fwd *f, int32_t status,
                         const char *s, size_t n);
void wd__brk_svc_start_all(wd_broker *b);
void wd__brk_svc_exited(wd_broker *b, int slot, uint64_t counter, int ok,
                        const char *text);
void wd__brk_free_life(wd_broker *b);
/* Start service 'idx' now (a deploy's new or restarted service). */
void wd__brk_svc_restart(wd_broker *b, int idx);

#endif
