/*
** sandbox/hostmain.c
** Main of a host OS process: take the link keys, set up the loop and the
** link, confine itself (sandbox/confine.c), then run the actors of one
** process.host on a libuv loop, talking only to the broker.
** Runs in: host (pre-sandbox until wd_sbx_confine returns, then sandboxed).
*/
#include <malloc.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <sodium.h>

#include "ward/wd_confine.h"
#include "ward/wd_link.h"
#include "ward/wd_lua.h"
#include "ward/wd_proto.h"
#include "ward/wd_sandbox.h"
#include "hostmain_int.h"

typedef struct hostctx {
  uv_loop_t loop;
  wd_link link;
  wd_host *host;
  uv_prepare_t flush;
  uv_timer_t beat;
  const char *id;
  int inited;
  int exiting;                /* leave once the link has drained */
  volatile sig_atomic_t busy; /* a record is being written (io_begin to
                                 io_end) or the link flushed: the tick's
                                 urgent flush must not touch it */
} hostctx;

static void die(const char *id, const char *what) __attribute__((noreturn));
static void die(const char *id, const char *what) {
  fprintf(stderr, "ward host %s: %s\n", id, what);
  _exit(111);
}

/* The link is the host's own business but for the tick's urgent flush,
** which runs in a signal handler: 'busy' brackets every other use. (A
** record left half-written by an error would leave it set until the next
** record: the urgent flush then waits, which is safe.) */
static void enter(hostctx *c) {
  c->busy = 1;
  atomic_signal_fence(memory_order_seq_cst);
}

static void leave(hostctx *c) {
  atomic_signal_fence(memory_order_seq_cst);
  c->busy = 0;
}

static wd_buf *io_begin(void *ud, uint8_t rtype, size_t *start) {
  hostctx *c = ud;
  enter(c);
  *start = wd_link_rec_begin(&c->link, rtype);
  return &c->link.batch;
}

/* The lane of the record at 'start' (wd_link.h): a message is ordered
** with the other records of its sender (a REQ SEND: u32 req, u8 op, str
** actor, str scope, str from, ...), replies and heartbeats with nothing;
** anything else is a barrier, ordered with everything. */
static uint64_t rec_lane(const wd_link *l, size_t start) {
  wd_cur c;
  uint8_t rt, op;
  uint32_t u;
  const char *s;
  size_t n;
  wd_cur_init(&c, l->batch.p + start, l->batch.len - start);
  if (wd_cur_u8(&c, &rt) || wd_cur_u32(&c, &u)) return WD_LINK_LANE_ALL;
  if (rt == WD_R_REPLY || rt == WD_R_BEAT || rt == WD_R_PIDREQ ||
      rt == WD_R_CREDIT)
    return WD_LINK_LANE_FREE;
  if (rt == WD_R_MSG) /* str from, ... */
    return wd_cur_str(&c, &s, &n) ? WD_LINK_LANE_ALL : wd_link_lane_of(s, n);
  if (rt != WD_R_REQ || wd_cur_u32(&c, &u) || wd_cur_u8(&c, &op) ||
      op != WD_OP_SEND || wd_cur_str(&c, &s, &n) || wd_cur_str(&c, &s, &n) ||
      wd_cur_str(&c, &s, &n))
    return WD_LINK_LANE_ALL;
  return wd_link_lane_of(s, n);
}

static int io_end(void *ud, size_t start) {
  hostctx *c = ud;
  int r;
  if (start < c->link.batch.len)
    wd_link_rec_lane(&c->link, rec_lane(&c->link, start));
  r = wd_link_rec_end(&c->link, start);
  leave(c);
  return r;
}

static void *io_take(void *ud, const void *p, size_t n, size_t front) {
  hostctx *c = ud;
  return wd_link_rx_take(&c->link, p, n, front);
}

static void io_give(void *ud, uint8_t *buf, size_t cap, size_t off,
                    size_t n) {
  hostctx *c = ud;
  wd_link_rec_put_own(&c->link, buf, cap, off, n);
}

static size_t io_backlog(void *ud) {
  hostctx *c = ud;
  return wd_link_backlog(&c->link);
}

/* From the SIGVTALRM handler (lenv.c), while a process runs. */
static void io_urgent(void *ud) {
  hostctx *c = ud;
  if (!c->busy) (void)wd_link_flush_nowait(&c->link);
}

static void on_drain(wd_link *l) {
  hostctx *c = l->data;
  if (c->exiting && wd_link_idle(l)) _exit(0);
  wd_host_wake(c->host);
}

static int on_rec(wd_link *l, uint8_t rtype, wd_cur *body) {
  hostctx *c = l->data;
  uint32_t req, status;
  uint64_t base, count;
  uint8_t op;
  const char *s;
  size_t n;
  if (!c->inited && rtype != WD_R_INIT) return WD_EBADFRAME;
  switch (rtype) {
    case WD_R_INIT: {
      /* INIT starts u64 memory, u64 mailbox, u64 max_payload: the link
      ** takes records of the host's own max_payload from now on. */
      wd_cur peek = *body;
      if (c->inited) return WD_EBADFRAME;
      c->inited = 1;
      if (wd_cur_u64(&peek, &base) || wd_cur_u64(&peek, &base) ||
          wd_cur_u64(&peek, &base))
        return WD_EBADFRAME;
      wd_link_set_max_payload(&c->link, base);
      wd__hostmem_limit(c->link.max_rec);
      return wd_host_init(c->host, body);
    }
    case WD_R_ENTRY:
      return wd_host_add_entry(c->host, body);
    case WD_R_POLICY:
      return wd_host_set_policies(c->host, body);
    case WD_R_REVISE:
      return wd_host_revise(c->host, body);
    case WD_R_PIDS:
      if (wd_cur_u64(body, &base) || wd_cur_u64(body, &count))
        return WD_EBADFRAME;
      wd_host_add_pids(c->host, base, count);
      return 0;
    case WD_R_REQ:
      if (wd_cur_u32(body, &req) || wd_cur_u8(body, &op)) return WD_EBADFRAME;
      return wd_host_on_req(c->host, req, op, body);
    case WD_R_REPLY:
      if (wd_cur_u32(body, &req) || wd_cur_u32(body, &status) ||
          wd_cur_str(body, &s, &n))
        return WD_EBADFRAME;
      return wd_host_on_reply(c->host, req, (int32_t)status, s, n);
    case WD_R_STOP:
      if (wd_cur_u64(body, &base)) return WD_EBADFRAME;
      wd_host_shutdown(c->host, base);
      return 0;
    case WD_R_EVENT:
      return wd_host_on_event(c->host, body);
    case WD_R_MESH:
      return wd_host_mesh(c->host, body);
    case WD_R_MSG:
      return wd_host_on_msg(c->host, body);
    case WD_R_CREDIT:
      return wd_host_on_credit(c->host, body);
    case WD_R_GONE:
      return wd_host_on_gone(c->host, body);
    case WD_R_UNNAME:
      return wd_host_on_unname(c->host, body);
    default:
      return WD_EBADFRAME;
  }
}

/* A heartbeat leaves at once: it must not wait in the batch behind a
** loop turn that runs actors for a while. */
static void on_beat(uv_timer_t *t) {
  hostctx *c = t->data;
  size_t st = wd_link_rec_begin(&c->link, WD_R_BEAT);
  wd_link_rec_lane(&c->link, WD_LINK_LANE_FREE);
  (void)wd_link_rec_end(&c->link, st);
  wd_link_flush(&c->link);
  wd__hostmem_tick();
}

static void io_flush(void *ud) {
  hostctx *c = ud;
  enter(c);
  wd_link_flush(&c->link);
  leave(c);
}

/* Shutting down and no actor left: say goodbye and go, once everything
** queued has gone (what processes printed last, their exits). */
static void io_empty(void *ud) {
  hostctx *c = ud;
  enter(c);
  wd_link_flush(&c->link);
  leave(c);
  if (wd_link_idle(&c->link)) _exit(0);
  c->exiting = 1; /* on_drain leaves */
}

static void on_fail(wd_link *l, int code, const char *why) {
  hostctx *c = l->data;
  /* The broker went away or spoke nonsense: nothing left to serve. */
  if (code != 0) fprintf(stderr, "ward host %s: link: %s\n", c->id, why);
  _exit(code == 0 ? 0 : 112);
}

static void on_prepare(uv_prepare_t *p) {
  hostctx *c = p->data;
  wd_link_flush(&c->link);
  wd__hostmem_step();
}

/* Read the unsigned first frame: [u8 WD_F_KEYS][32 rx key][32 tx key]
** [confinement parameters] (wd_confine.h). */
static void read_keys(const char *id, int fd, uint8_t rx[32], uint8_t tx[32],
                      wd_sbx_params *p) {
  uint8_t buf[65 + WD_SBX_PARAMS_LEN];
  ssize_t n;
  do n = recv(fd, buf, sizeof buf, 0);
  while (n == -1 && errno == EINTR);
  if (n != (ssize_t)sizeof buf || buf[0] != WD_F_KEYS)
    die(id, "no keys on the link");
  memcpy(rx, buf + 1, 32);
  memcpy(tx, buf + 33, 32);
  wd_sbx_params_get(buf + 65, p);
  sodium_memzero(buf, sizeof buf);
}

/* What every host gives up at once, before it reads anything. The full
** confinement follows in confine(), once every fd the host keeps is open. */
static void drop_basics(const char *id, int fd) {
  if (prctl(PR_SET_PDEATHSIG, SIGKILL) != 0) die(id, "PR_SET_PDEATHSIG");
  if (getppid() == 1) die(id, "broker already gone");
  if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0)
    die(id, "PR_SET_NO_NEW_PRIVS");
  if (prctl(PR_SET_DUMPABLE, 0) != 0) die(id, "PR_SET_DUMPABLE");
  /* Only the link and stderr stay open. */
  if (fd != 3 && dup2(fd, 3) != 3) die(id, "dup2");
  if (close_range(4, ~0u, 0) != 0) die(id, "close_range");
  close(0);
  close(1);
}

void (*wd__sbx_confined_hook)(const char *id, void *loop);

/* Confine the host (each step fatal) before its loop runs, that is before
** the INIT record, the first Lua source and the first Lua instruction. */
static void confine(const char *id, const wd_sbx_params *p, uv_loop_t *loop) {
  wd_sbx_opts o;
  char err[256];
  memset(&o, 0, sizeof o);
  o.id = id;
  o.p = *p;
  if (wd_sbx_confine(&o, NULL, err, sizeof err) < 0) die(id, err);
  if (wd__sbx_confined_hook != NULL) wd__sbx_confined_hook(id, loop);
}

/*
** A message of a few MiB is allocated and freed several times on its way
** through a host (the reassembled record, the mailbox copy, the Lua
** string). With glibc's defaults each of those comes from a fresh mmap
** or from heap that free() just gave back, so every page of it is
** faulted in again: page faults were about a quarter of a receiving
** host's time with 1 MiB messages, and keeping the memory took 1 MiB
** messages across hosts from about 540 to about 830 MB/s (bench/README.md).
** So blocks under 4 MiB come from the heap, and up to 32 MiB of freed
** heap stays in the host for the next ones. Bigger blocks (a 64 MiB
** message) are mapped by glibc, and a few of them are kept when freed
** (sandbox/hostmem.c, bounded). The memory quota (the Lua allocator's)
** counts what is allocated, not what glibc or hostmem.c keeps.
*/
#define HOST_MMAP_THRESHOLD (4 << 20)
#define HOST_TRIM_THRESHOLD (32 << 20)

void wd_host_main(const char *id, int fd) {
  static hostctx c;
  uint8_t rx[32], tx[32];
  wd_sbx_params params;
  wd_host_io io;
  (void)mallopt(M_MMAP_THRESHOLD, HOST_MMAP_THRESHOLD);
  (void)mallopt(M_TRIM_THRESHOLD, HOST_TRIM_THRESHOLD);
  wd__hostmem_install();
  if (sodium_init() < 0) die(id, "sodium_init");
  drop_basics(id, fd);
  fd = 3;
  read_keys(id, fd, rx, tx, &params);
  memset(&c, 0, sizeof c);
  c.id = id;
  if (uv_loop_init(&c.loop) != 0) die(id, "uv_loop_init");
  if (wd_link_init(&c.loop, &c.link, fd, tx, rx) < 0) die(id, "link");
  sodium_memzero(rx, sizeof rx);
  sodium_memzero(tx, sizeof tx);
  c.link.data = &c;
  c.link.on_rec = on_rec;
  c.link.on_fail = on_fail;
  c.link.on_drain = on_drain;
  io.ud = &c;
  io.begin = io_begin;
  io.end = io_end;
  io.empty = io_empty;
  io.flush = io_flush;
  io.backlog = io_backlog;
  io.urgent = io_urgent;
  io.take = io_take;
  io.give = io_give;
  if (wd_host_new(&c.loop, id, &io, wd_lua_vm(), &c.host) < 0) die(id, "host");
  uv_prepare_init(&c.loop, &c.flush);
  c.flush.data = &c;
  uv_prepare_start(&c.flush, on_prepare);
  /* A heartbeat every loop turn that reaches timers: the broker kills a
  ** host whose heartbeat stops for longer than its turn deadline while it
  ** burns CPU (a C function that never returns, which no count hook can
  ** interrupt), or for longer than its liveness while it does not run
  ** (stopped, or blocked). */
  uv_timer_init(&c.loop, &c.beat);
  c.beat.data = &c;
  uv_timer_start(&c.beat, on_beat, 0, WD_HEARTBEAT_MS);
  uv_unref((uv_handle_t *)&c.beat);
  confine(id, &params, &c.loop);
  uv_run(&c.loop, UV_RUN_DEFAULT);
  _exit(0);
}
