/*
** include/ward/wd_proto.h
** Records exchanged between the broker and its hosts inside signed frames
** (ARCHITECTURE.md §3). A frame payload is a sequence of records
** [u8 rtype | u32 length | body]; bodies are built with wd_buf puts and read
** with wd_cur gets, so every field is bounds-checked on receipt.
** Runs in: broker and host.
*/
#ifndef wd_proto_h
#define wd_proto_h

#include <stdint.h>

/* Frame types (the 'type' byte of a frame header). */
enum {
  WD_F_KEYS = 1,  /* broker -> host, unsigned, first frame only: 2 keys */
  WD_F_BATCH = 2, /* a batch of records, signed */
  WD_F_FRAG = 3   /* a fragment of one record, signed */
};

/*
** Fragments (WD_F_FRAG). A record [u8 rtype | u32 length | body] longer
** than WD_LINK_REC_WHOLE (64 KiB) is cut into fragment frames, each
** signed and numbered in the link's one sequence like any frame:
**   u32 stream   1, 2, 3, ... per direction: each record its own
**   u32 offset   of the fragment's first byte in the record
**   bytes        WD_LINK_FRAG (256 KiB) of the record, or the rest
** Concatenated, the bytes are the record; its header is in the first.
** A receiver holds one stream at a time: a first fragment (offset 0)
** opens stream last + 1 while none is open, for a record over
** WD_LINK_REC_WHOLE and within its bound (the host's max_payload plus
** WD_LINK_REC_SLACK, at least WD_LINK_REC_MIN); each next fragment
** carries the next bytes at the next offset; the last completes the
** record, handled like a record of a batch. Batch frames may come
** between fragments. Anything else (a stream out of order or opened
** while one is open, a fragment of a stream never started, a gap, an
** overlap, a wrong size, a record over the bound or small enough to go
** whole) is a bad frame: the link fails, and the broker kills the host.
*/

/*
** Record types. Direction and body (strings are u32-length prefixed):
**   INIT    b->h  host config, the entries pinned to the host and their
**                 imports; see broker.c 'send_init'
**   ENTRY   b->h  one more entry, as in INIT: the broker ships an entry
**                 not pinned to the host (and its imports) on the first
**                 spawn or upgrade onto the host that it allowed
**   PIDS    b->h  u64 base, u32 count: a fresh block of PID counters
**   PIDREQ  h->b  (empty): the host's block is running low
**   PRINT   h->b  str text: script output, written to ward's stdout
**   REQ     both  u32 req, u8 op, op body: a request that wants a REPLY
**   REPLY   both  u32 req, i32 status (0 or WD_E*), str (pid / message)
**   EXIT    h->b  u64 counter, u8 flags, i32 status, str text, bytes res;
**                 after every EVENT of that process's end (the broker then
**                 forgets its watches)
**   STOP    b->h  u64 deadline_ns: CANCEL every process with this
**                 deadline, terminate the rest at it, then exit
**   LOG     h->b  str text: a host diagnostic for ward's stderr
**   EVENT   both  u8 kind, str from, str to, u64 deadline, bytes payload:
**                 a lifecycle event for process 'to' (one way)
**   AUDIT   h->b  str actor, str action, str resource, u8 effect,
**                 str reason, u32 n * (str key, str value) attributes,
**                 u32 n * str policy id: a decision made in the host
**
**   BEAT    h->b  (empty): the host's loop came round (see
**                 WD_HEARTBEAT_MS; the broker's turn-deadline watchdog)
**
** The front door's gateway (sandbox/gateway.h, ARCHITECTURE.md §12) speaks
** the same frames with three records of its own, each with one encoder
** and one decoder (sandbox/gateway_wire.c). A host that sends one, or a
** gateway that sends any other (but BEAT, as a host's: the broker kills a
** gateway silent past its liveness, sandbox/broker_gw.c), is killed (bad
** frame).
**   GW_INIT   b->g  u32 max_header, u32 max_body, u32 read_ms,
**                   u32 idle_ms, u32 max_conns, u32 max_per_token
**   GW_CALL   g->b  u32 call, u8 kind (WD_GW_*), str bearer, str target,
**                   str host, u64 timeout_ms, str topic, bytes value
**   GW_ANSWER b->g  u32 call, u32 http status, str kind, str message,
**                   str pid, bytes value (a result, codec bytes)
**   GW_MSG    b->g  u32 call, str from, str topic, bytes payload: a message
**                   for the inbox stream of call 'call' (sandbox/
**                   broker_inbox.c, gateway_sse.c)
**   GW_END    both  u32 call, u8 ok, str kind, str message: that inbox
**                   stream is over (the client left, or the broker ended
**                   its process)
**   GW_COUNT  g->b  u32 n, n * (u32 http status, u32 count): answers the
**                   gateway gave itself since its last GW_COUNT, without
**                   asking the broker (malformed HTTP, bad JSON, sizes,
**                   unknown paths); statuses 100..599 in rising order,
**                   n <= WD_GW_COUNT_CODES, 1 <= count <= WD_GW_COUNT_MAX
**                   (sandbox/gateway.h); the broker counts them in
**                   ward_gateway_requests_total with no tenant
**   GW_ACK    g->b  u32 n, n * (u32 call, u64 cost): what each inbox
**                   stream wrote to its client since the last GW_ACK, in
**                   the cost of its GW_MSGs (WD_GW_SSE_COST); the broker
**                   carries an inbox's next messages as those come back
**                   (its window, broker_inbox.c). 1 <= n <=
**                   WD_GW_ACK_MAX; a cost over what is in flight, or 0,
**                   is a lie
**
** Changing a serving ward (sandbox/broker_reload.c, broker_gw_deploy.c):
**   POLICY    b->h  the policies section of INIT (audit mode, policies,
**                   ceiling): a reload; the host swaps its set whole
**   REVISE    b->h  u32 n, n * str id: entries a deploy replaced; the
**                   host drops them (running processes keep theirs) and
**                   gets the new revisions as ENTRY on first use
**
** Messages across hosts without a round trip (runtime/flow.c, sandbox/
** broker_msg.c; README "Sends across hosts"):
**   MESH    b->h  u64 send_timeout_ns, u32 self, u32 n, n * (str host id,
**                 u64 max_payload, u64 link_queue): every host, in the
**                 broker's order (a host's number in it is its 'peer'
**                 index); after INIT. What a host has in flight to
**                 another, all destinations together, past each one's
**                 own share (WD_FLOW_DEST_OWN) stays within that host's
**                 link_queue / n (at least 1 MiB; runtime/flow.c,
**                 WD_FLOW_PEER_WIN), and so do the own shares, so the
**                 broker's queue towards a host never reaches its
**                 link_queue and what the own shares hold with honest
**                 senders. The
**                 last peer is the front door's inbox streams, host "api"
**                 (sandbox/broker_inbox.c), whose processes the broker
**                 holds
**   MSG     h->b  str from, str actor, str scope, str entry (the caller,
**                 as a REQ carries it), str dest (a PID of another host),
**                 str topic, bytes payload: a message that wants no
**                 answer; the sending host holds credit for 'dest'
**                 (WD_FLOW_*: the broker counts it, and a host that sends
**                 past it lies)
**   MSG     b->h  str from, str dest, str topic, bytes payload: the same,
**                 checked again, for a process of this host
**   CREDIT  h->b  u32 peer, str dest, u32 msgs, u64 bytes, u8 flag: the
**                 messages of host 'peer' to 'dest' that left the
**                 network (entered the mailbox, or dropped); flag
**                 WD_CREDIT_DEAD: 'dest' is gone
**   CREDIT  b->h  str dest, u32 msgs, u64 bytes, u8 flag: for the sender
**   DIED    h->b  str pid, u64 peers: 'pid' (of this host) ended; bit i of
**                 'peers' set: host i sent it messages (bit 63: a host
**                 numbered 63 or more did)
**   GONE    b->h  str pid: that process has ended (DIED, or its host went
**                 down: then str is the host id alone)
**   UNNAME  b->h  str name: a name this host looked up (LOOKUP) is no
**                 longer held by the PID it was told; it forgets it. Sent
**                 before the answer to whatever changed the name, so no
**                 one can know of the change before the host does
**
** A REQ from a host carries the caller's actor and scope right after the
** op (str actor, str scope), so the broker can re-check it and hold the
** host to its ceiling; a REQ from the broker does not.
*/
enum {
  WD_R_INIT = 1,
  WD_R_PIDS,
  WD_R_PIDREQ,
  WD_R_PRINT,
  WD_R_REQ,
  WD_R_REPLY,
  WD_R_EXIT,
  WD_R_STOP,
  WD_R_LOG,
  WD_R_EVENT,
  WD_R_BEAT,
  WD_R_ENTRY,
  WD_R_GW_INIT,
  WD_R_GW_CALL,
  WD_R_GW_ANSWER,
  WD_R_GW_MSG,
  WD_R_GW_END,
  WD_R_POLICY,
  WD_R_REVISE,
  WD_R_MESH,
  WD_R_MSG,
  WD_R_CREDIT,
  WD_R_DIED,
  WD_R_GONE,
  WD_R_UNNAME,
  /* The gateway's (issue 13, front door): */
  WD_R_GW_COUNT,
  WD_R_GW_ACK,
  WD_R_MAX
};

/*
** Request operations (WD_R_REQ): the codes WD_OP_*, who may send each and
** what it asks are the operation table, WD_OP_MAP in wd_ops.h (included
** at the end of this file). Bodies after 'op':
**   SPAWN   str parent, str entry, str host, u32 flags, str actor,
**           str scope, str args, str ctx, str name, u32 nmsgs,
**           nmsgs * (str topic, str payload)
**                                           -> REPLY str pid
**           (one encoder and decoder, both sides: wd_wire_put_spawn,
**           wd_wire_get_spawn in wd_wire.h)
**   SEND    str from, str dest (pid or name), str topic, bytes payload
**                                           -> REPLY (status only)
**   REG     str name, str pid, str caller   -> REPLY
**   UNREG   str name, str caller            -> REPLY str "1" | "0"
**   LOOKUP  str name, str caller            -> REPLY str pid
**           (caller: the PID making the call, of the sending host)
**   MONITOR, UNMONITOR, LINK, UNLINK, TERMINATE
**           str from, str dest              -> REPLY (status only)
**   CANCEL  str from, str dest, u64 deadline (unix ns, 0 none)
**                                           -> REPLY (status only)
**   UPGRADE str caller, str entry       -> REPLY (status only)
**           the caller may become 'entry' (process.upgrade), which the
**           host does not hold: the broker checks it, ships the entry
**           (ENTRY, before the REPLY) and answers
**   FORGET  str watcher, str target    -> REPLY str target
**           broker -> host only: 'watcher' (another host's process) has
**           ended; its monitor and exec wait on 'target' go
**   AUDIT   str action, str resource, u8 effect, str reason,
**           u32 n, n * (str key, str value), u32 n, n * str policy
**           a decision the host made for the caller, logged before it
**           has any effect
**                                           -> REPLY (status only)
**   STATUS  u32 max                     -> REPLY bytes (a status list)
**           broker -> host only: what runs on the host (at most 'max'
**           processes and 2 MiB of them) and its
**           counters per tenant; see runtime/hstat.c for the layout
** SPAWN with WD_SPAWN_NAMED uses the name and messages (without it they
**   are empty), and its REPLY string is "<pid>" or "=<pid>" when the name
**   was taken (spawn-or-signal: the messages went to the holder instead).
*/
/* The longest topic, in bytes. Hosts and the broker refuse a longer one
** (and one holding a NUL byte) with Invalid before any policy decision,
** so both decide on the same bytes. Host ids, the other strings decided
** on, are at most WD_PID_HOST_MAX bytes (wd_pid.h; the manifest refuses
** longer ones). */
#define WD_TOPIC_MAX 255

/* STATUS answers: a host keeps counters for at most this many tenants
** (actor ids, cut to WD_STATUS_ID - 1 bytes); the first row is "_other",
** where the tenants past them count. */
#define WD_STATUS_TENANTS 64
#define WD_STATUS_ID 128

/* A host sends WD_R_BEAT this often while its loop turns. */
#define WD_HEARTBEAT_MS 100

/* CREDIT flags. */
#define WD_CREDIT_DEAD 0x1u  /* the destination is gone: NotFound now */

/* Credit for messages across hosts (MSG): what a host may have in flight
** (sent, and not given back by CREDIT) to one process of another host:
** WD_FLOW_WIN_MSGS messages and WD_FLOW_WIN_BYTES bytes (one message
** always, whatever its size); and to one host, all its processes
** together, two windows of WD_FLOW_PEER_WIN(that host's link_queue,
** number of hosts) bytes each (0: no bound), as MESH lets the sender work
** out. A message counts WD_FLOW_COST(its payload's length) bytes, in the
** windows and in CREDIT: its payload and WD_FLOW_MSG_COST, about what it
** takes at the receiver besides (its wd_msg and wd_park, sender PID and
** topic, allocator headers), so that a window of small messages is
** bounded in memory too. Of what a host has in flight to one process,
** the first WD_FLOW_DEST_OWN bytes are that destination's own share
** (WD_FLOW_OWN) and count in the host's window of own shares; only what
** is past them (WD_FLOW_PAST) counts in its shared window, where one
** message always may go (wd_flow_peer_ok). So a destination that holds
** little in flight takes a small message at once, whatever the others
** hold (messages waiting at the receiving host for processes that never
** read, a 64 MiB message), as long as the own shares of the host's other
** destinations there have not used up their window (a window's worth of
** destinations that each hold 64 KiB). Hosts keep to it (runtime/flow.c);
** the broker counts and kills a host that does not (sandbox/broker_msg.c),
** and lets its queue towards a host grow past link_queue by what the
** own shares hold (at most a window of each other host: twice
** link_queue in all). A test may build runtime/flow.c alone with smaller
** windows (tests/fuzz/fuzz_flow.c). */
#ifndef WD_FLOW_WIN_MSGS
#define WD_FLOW_WIN_MSGS 4096u
#endif
#ifndef WD_FLOW_WIN_BYTES
#define WD_FLOW_WIN_BYTES (16ull << 20)
#endif
#ifndef WD_FLOW_PEER_MIN
#define WD_FLOW_PEER_MIN (1ull << 20)
#endif
#ifndef WD_FLOW_MSG_COST
#define WD_FLOW_MSG_COST 128u
#endif
/* 64 KiB, as a mailbox's own share (WD_MAILBOX_OWN): what fits in it in
** flight, an idle process's mailbox takes at once; a message of up to
** 64 KiB crosses the link in one piece (larger ones in fragments). */
#ifndef WD_FLOW_DEST_OWN
#define WD_FLOW_DEST_OWN (64ull << 10)
#endif
#if WD_FLOW_DEST_OWN > WD_FLOW_PEER_MIN
#error "WD_FLOW_DEST_OWN must fit in the smallest window of own shares"
#endif
#define WD_FLOW_COST(n) ((uint64_t)(n) + (uint64_t)WD_FLOW_MSG_COST)
#define WD_FLOW_OWN(b)                                                   \
  ((uint64_t)(b) < (uint64_t)WD_FLOW_DEST_OWN ? (uint64_t)(b)            \
                                              : (uint64_t)WD_FLOW_DEST_OWN)
#define WD_FLOW_PAST(b) ((uint64_t)(b) - WD_FLOW_OWN(b))
/* The front door's inbox streams (MESH's last peer, host id "api"): a
** window of its own for each stream, smaller (what waits for a slow
** client waits in the broker), and none for the peer as a whole (MESH
** gives it link_queue 0): one slow client holds up only the sends to it. */
#define WD_FLOW_API_ID "api"
#define WD_FLOW_API_MSGS 1024u
#define WD_FLOW_API_BYTES (1ull << 20)
#define WD_FLOW_PEER_WIN(lq, n)                                          \
  ((uint64_t)(lq) == 0 ? 0                                               \
   : (uint64_t)(lq) / (n) > (uint64_t)WD_FLOW_PEER_MIN                   \
       ? (uint64_t)(lq) / (n)                                            \
       : (uint64_t)WD_FLOW_PEER_MIN)

/* May a message of cost 'c' go to a destination that has 'b' bytes in
** flight, as far as the windows towards its host allow ('win' each, 0:
** no bound)? The sender has 'past' bytes in flight there past its
** destinations' own shares and 'own' bytes within them. Host and broker
** ask it alike (runtime/flow.c, sandbox/broker_msg.c); with the broker's
** counts never above the sender's (each destination's 'b', and so 'past'
** and 'own'), what the sender may send the broker lets through: more
** bytes in flight to a destination put at least as much of a message
** past its own share and no more into it, and 'own' never exceeds 'win'
** (WD_FLOW_DEST_OWN <= WD_FLOW_PEER_MIN). */
static inline int wd_flow_peer_ok(uint64_t win, uint64_t past, uint64_t own,
                                  uint64_t b, uint64_t c) {
  uint64_t dpast = WD_FLOW_PAST(b + c) - WD_FLOW_PAST(b);
  uint64_t down = WD_FLOW_OWN(b + c) - WD_FLOW_OWN(b);
  if (win == 0) return 1;
  return (dpast == 0 || past == 0 || past + dpast <= win) &&
         (down == 0 || own + down <= win);
}

/* Event kinds (WD_R_EVENT). */
enum {
  WD_EV_EXIT = 1,    /* to a monitor */
  WD_EV_LINK_DOWN,   /* to a linked process, abnormal exit */
  WD_EV_UNLINKED,    /* to a linked process, normal exit: drop the link */
  WD_EV_CANCEL,      /* cancel request, optional deadline */
  WD_EV_EXEC         /* result to a process.exec caller */
};

/* Watch kinds: who learns of a process's exit. A host keeps them on its
** actors (runtime/life.c), the broker its cross-host records of them
** (sandbox/broker_life.c). A monitor and an exec wait hear of the
** target's exit; a link's two ends hear of each other's. */
enum {
  WD_WATCH_MONITOR = 1, /* EXIT to the watcher */
  WD_WATCH_LINK,        /* LINK_DOWN (abnormal exit) or UNLINKED, both ways */
  WD_WATCH_EXEC         /* EXEC, the result, to a process.exec caller */
};

/* Spawn flags. */
#define WD_SPAWN_ROOT 0x1u    /* broker watches the exit (ward run/test) */
#define WD_SPAWN_MONITOR 0x2u /* the parent monitors the child */
#define WD_SPAWN_LINK 0x4u    /* the parent and the child are linked */
#define WD_SPAWN_EXEC 0x8u    /* the parent waits for the result (exec) */
#define WD_SPAWN_NAMED 0x10u  /* spawn-or-signal with a name, messages */
#define WD_SPAWN_SERVICE 0x20u /* a supervised service (broker watches) */

/* Exit flags. */
#define WD_EXIT_OK 0x1u      /* returned without error */
#define WD_EXIT_FALSE 0x2u   /* returned a lone false */

/* Last: wd_ops.h uses the spawn flags above. */
#include "ward/wd_ops.h"

#endif
