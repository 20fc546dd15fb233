/*
** include/ward/wd_host.h
** A host: the actors of one process.host, driven by one scheduler on a
** libuv loop (runtime/host.c and the actor core, runtime/host_int.h). The
** language they run is a VM the host is given (wd_vm: Lua's is
** wd_lua_vm(), include/ward/wd_lua.h). The host talks to the broker only
** through 'wd_host_io' (records queued on the link), and never opens a
** file.
** Runs in: host (sandboxed).
*/
#ifndef wd_host_h
#define wd_host_h

#include <stdint.h>
#include <uv.h>

#include "ward/wd_buf.h"

typedef struct wd_host wd_host;
typedef struct wd_vm wd_vm;

/* How a host emits records: 'begin' returns the buffer to write the body
** into and its start offset; 'end' finishes the record. */
typedef struct wd_host_io {
  void *ud;
  wd_buf *(*begin)(void *ud, uint8_t rtype, size_t *start);
  int (*end)(void *ud, size_t start);
  /* Called when a stopping host has no actor left. */
  void (*empty)(void *ud);
  /* Send what is queued now (before actors run, so that replies already
  ** made are not lost if an actor then crashes the host). */
  void (*flush)(void *ud);
  /* Optional: bytes that wait to leave. Past the host's 'link_queue' the
  ** host runs no process until wd_host_wake. */
  size_t (*backlog)(void *ud);
  /* Optional, called from a signal handler while a process has run for a
  ** while without coming back (a tick of CPU time): send what is queued
  ** if that can be done without blocking, allocating, or touching a
  ** record being written, so that what a process printed is not lost if
  ** its host is killed before the turn ends. */
  void (*urgent)(void *ud);
  /* Optional: big payloads without a copy (wd_link_rx_take and
  ** wd_link_rec_put_own say how). 'take', while the host handles a
  ** record: if the 'n' bytes at 'p' lie in it and its buffer can be
  ** given up with at least 'front' bytes before 'p', returns the start
  ** of that buffer, now the host's (wd_free), else NULL. 'give', while
  ** the host writes a record (between 'begin' and 'end'): its last bytes
  ** are the 'n' bytes at 'buf' + 'off', and 'buf' (a wd_malloc'd block
  ** of 'cap' bytes) is the link's now, on every path. */
  void *(*take)(void *ud, const void *p, size_t n, size_t front);
  void (*give)(void *ud, uint8_t *buf, size_t cap, size_t off, size_t n);
} wd_host_io;

/* Limits, from the process.host entry of the manifest. */
typedef struct wd_hlimits {
  uint64_t memory;        /* Lua heap bytes per actor */
  uint64_t mailbox;       /* queued messages per actor */
  uint64_t max_payload;   /* encoded bytes per message or argument list */
  uint64_t max_processes; /* live actors on the host */
  uint64_t slice_ns;      /* run time before a busy actor is preempted */
  uint64_t cpu_ns;        /* total CPU per actor, 0 = unlimited */
  uint64_t spawn_rate;    /* spawns per second on the host, 0 = unlimited */
  uint64_t mailbox_bytes; /* bytes queued in all mailboxes, 0 = unlimited */
  uint64_t link_queue;    /* bytes of frames waiting for the link before
                             the host stops running processes, 0 = none */
} wd_hlimits;

/* Create a host on 'loop' named 'id', running its actors on 'vm'. The
** INIT record body (see broker.c) is parsed by wd_host_init. Returns 0 or
** a negative code. */
int wd_host_new(uv_loop_t *loop, const char *id, const wd_host_io *io,
                const wd_vm *vm, wd_host **out);
/* Load the INIT record: limits and entries. Returns 0 or WD_EBADFRAME. */
int wd_host_init(wd_host *h, wd_cur *body);
/* One more entry (WD_R_ENTRY: the body of one entry as in INIT), shipped
** on first use. Returns 0, WD_ENOMEM, or WD_EBADFRAME for a malformed
** body or an id the host already holds. */
int wd_host_add_entry(wd_host *h, wd_cur *body);
/* A deploy (WD_R_REVISE: u32 n, n * str id): the entries with these ids
** leave the table (processes running them keep them); the new revisions
** come as ENTRY on first use. Returns 0, WD_ENOMEM or WD_EBADFRAME. */
int wd_host_revise(wd_host *h, wd_cur *body);
/* A policy reload (WD_R_POLICY: the policies section of INIT): replaces
** the policy set, the scopes cache and the ceiling whole, and compiles
** every live process's scope again. Returns 0 or WD_EBADFRAME (nothing
** changed). */
int wd_host_set_policies(wd_host *h, wd_cur *body);
/* A fresh block of PID counters from the broker. */
void wd_host_add_pids(wd_host *h, uint64_t base, uint64_t count);
/* A request from the broker (spawn, send). The host answers with a REPLY
** record through 'io'. Returns 0 or WD_EBADFRAME for a malformed body. */
int wd_host_on_req(wd_host *h, uint32_t req, uint8_t op, wd_cur *body);
/* The broker's answer to one of this host's requests. */
int wd_host_on_reply(wd_host *h, uint32_t req, int32_t status,
                     const char *s, size_t n);
/* An event for a local process (WD_R_EVENT from the broker). */
int wd_host_on_event(wd_host *h, wd_cur *body);
/* Messages across hosts (runtime/flow.c, wd_proto.h): MESH (every host,
** once, after INIT), MSG, CREDIT, GONE and UNNAME from the broker. Each returns 0,
** WD_ENOMEM, or WD_EBADFRAME. */
int wd_host_mesh(wd_host *h, wd_cur *body);
int wd_host_on_msg(wd_host *h, wd_cur *body);
int wd_host_on_credit(wd_host *h, wd_cur *body);
int wd_host_on_gone(wd_host *h, wd_cur *body);
int wd_host_on_unname(wd_host *h, wd_cur *body);
/* Shut down: CANCEL every process with 'deadline_ns' (from now) and end
** the ones left when it passes; io.empty runs when none is left. */
void wd_host_shutdown(wd_host *h, uint64_t deadline_ns);
/* End every actor at once (no Lua runs afterwards) and stop the handles.
** Their close callbacks run on the loop's next turn: turn it once before
** wd_host_free. */
void wd_host_stop(wd_host *h);
void wd_host_free(wd_host *h);
/* Number of live actors. */
size_t wd_host_count(const wd_host *h);
/* The link has room again (io.backlog went down): run processes. */
void wd_host_wake(wd_host *h);

#endif
