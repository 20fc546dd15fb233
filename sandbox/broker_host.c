/*
** sandbox/broker_host.c
** The broker's hosts, from birth to death: the code a host may hold (the
** entries pinned to it in INIT, the others shipped on first use), starting
** a host OS process with its keys and its confinement parameters, and a
** host's death: killing it, failing every request waiting on it, telling
** the watchers of its processes, releasing its names, restarting it.
** Runs in: broker.
*/
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <sodium.h>

#include "ward/wd_audit.h"
#include "ward/wd_confine.h"
#include "ward/wd_link.h"
#include "ward/wd_pid.h"
#include "ward/wd_proto.h"
#include "ward/wd_sandbox.h"

#include "broker_int.h"
#include "fork_int.h"

/* {====== Starting hosts ====== */

static void put_entry(wd_buf *w, const wd_entry *e) {
  const wd_lua_conf *l = &e->u.lua;
  char chunk[1024];
  size_t i;
  snprintf(chunk, sizeof chunk, "@%s", l->source_path ? l->source_path : e->id);
  wd_buf_put_cstr(w, e->id);
  wd_buf_put_cstr(w, chunk);
  wd_buf_put_cstr(w, e->kind == WD_KIND_LUA ? l->method : "");
  wd_buf_put_u8(w, e->kind == WD_KIND_LIBRARY);
  wd_buf_put_u32(w, (uint32_t)l->nimports);
  wd_buf_put_str(w, l->source ? l->source : "", l->source_len);
  for (i = 0; i < l->nimports; i++) {
    wd_buf_put_cstr(w, l->imports[i].name);
    wd_buf_put_cstr(w, l->imports[i].id);
  }
}

/* May entry 'e' run on host 's'? A process.lua pinned to a host runs only
** there; one without 'host:' anywhere. */
int wd__brk_entry_on_host(const wd_entry *e, const hslot *s) {
  if (e->kind != WD_KIND_LUA) return 0;
  return e->u.lua.host == NULL || strcmp(e->u.lua.host, s->id) == 0;
}

/* {------ Shipping sources ------
** A host holds only the sources it needs: the entries pinned to it (in
** INIT) and the entries whose spawn or upgrade onto it the broker has
** allowed (ENTRY records, on first use), each with its imports. Records
** on a link keep their order, so the source arrives before the request
** that needs it. A restarted host starts again from INIT. */

static unsigned char *shipped_of(const hslot *s) {
  const wd_broker *b = s->b;
  return b->shipped + (size_t)(s - b->hosts) * b->m->nentries;
}

/* Put 'e' and then every import it still lacks: into 'w' (INIT, counting
** in *n) or, with 'w' NULL, as ENTRY records of their own. */
void wd__brk_ship(hslot *s, const wd_entry *e, wd_buf *w, uint32_t *n) {
  unsigned char *done = shipped_of(s);
  size_t i, st = 0;
  if (done[e->index]) return;
  done[e->index] = 1;
  if (w == NULL) {
    put_entry(wd__brk_rec(s, WD_R_ENTRY, &st), e);
    wd__brk_rec_done(s, st);
  } else {
    put_entry(w, e);
    (*n)++;
  }
  for (i = 0; i < e->u.lua.nimports; i++)
    if (e->u.lua.imports[i].entry != NULL)
      wd__brk_ship(s, e->u.lua.imports[i].entry, w, n);
}

/* }------ */

static void send_init(hslot *s) {
  const wd_host_limits *lim = &s->he->u.host.limits;
  const wd_manifest *m = s->b->m;
  size_t st, i, pos;
  uint32_t n = 0;
  wd_buf *w = wd__brk_rec(s, WD_R_INIT, &st);
  memset(shipped_of(s), 0, m->nentries);
  wd_buf_put_u64(w, lim->memory);
  wd_buf_put_u64(w, (uint64_t)lim->mailbox);
  /* As written (at most WD_HOST_MAX_PAYLOAD, the manifest says): a big
  ** message crosses the link in fragments. */
  wd_buf_put_u64(w, lim->max_payload);
  wd_buf_put_u64(w, (uint64_t)lim->max_processes);
  wd_buf_put_u64(w, (uint64_t)lim->slice_ns);
  wd_buf_put_u64(w, (uint64_t)lim->cpu_ns);
  wd_buf_put_u64(w, (uint64_t)lim->spawn_rate);
  wd_buf_put_u64(w, lim->mailbox_bytes);
  wd_buf_put_u64(w, lim->link_queue);
  pos = w->len;
  wd_buf_put_u32(w, 0);
  for (i = 0; i < m->nentries; i++) {
    const wd_entry *e = m->entries[i];
    if (e->kind == WD_KIND_LUA && e->u.lua.host != NULL &&
        strcmp(e->u.lua.host, s->id) == 0)
      wd__brk_ship(s, e, w, &n);
  }
  wd_buf_patch_u32(w, pos, n);
  wd__brk_sec_put_init(s, w);
  wd__brk_rec_done(s, st);
}

void wd__brk_send_pids(hslot *s) {
  size_t st;
  wd_buf *w = wd__brk_rec(s, WD_R_PIDS, &st);
  wd_buf_put_u64(w, s->b->next_pid);
  wd_buf_put_u64(w, PID_BLOCK);
  s->b->next_pid += PID_BLOCK;
  wd__brk_rec_done(s, st);
}

static void on_fail(wd_link *l, int code, const char *why);

/* The environment a host gets: nothing of the broker's (a host needs no
** configuration from its environment), except the sanitizers' settings
** in a sanitizer build. */
static char **host_env(void) {
  static char *env[8];
  int n = 0;
#ifdef WD_ASAN
  extern char **environ;
  int i;
  for (i = 0; environ[i] != NULL && n < 7; i++)
    if (strncmp(environ[i], "ASAN_", 5) == 0 ||
        strncmp(environ[i], "UBSAN_", 6) == 0 ||
        strncmp(environ[i], "LSAN_", 5) == 0)
      env[n++] = environ[i];
#endif
  env[n] = NULL;
  return env;
}

/* The program a host runs: ward itself, except that a test binary may
** put a misbehaving test host (never installed) in place of one host:
** 'test_host' and 'test_exe' are set only by tests/link/testhooks.c
** (ward_testhooks, built with -DWD_TEST_HOOKS=ON); ward never reads the
** environment for them. */
static const char *host_exe(wd_broker *b, const hslot *s) {
  if (b->o.test_host != NULL && b->o.test_exe != NULL &&
      strcmp(b->o.test_host, s->id) == 0)
    return b->o.test_exe;
  return b->o.exe;
}

static int host_start(wd_broker *b, hslot *s, char *err, size_t errlen) {
  int sv[2], r;
  uint8_t keys[65 + WD_SBX_PARAMS_LEN];
  uint64_t index = b->next_index++;
  pid_t pid;
  char **env = host_env();
  wd_sbx_params sp;
  /* What the host needs to confine itself (wd_confine.h): every layer
  ** is required when the host says so, or when --require-sandbox=all is
  ** given and the host does not say 'none'. */
  memset(&sp, 0, sizeof sp);
  sp.address_space = s->he->u.host.limits.address_space;
  if (s->he->u.host.sandbox_require == WD_SANDBOX_ALL ||
      (b->o.require_sandbox &&
       s->he->u.host.sandbox_require != WD_SANDBOX_NONE))
    sp.flags |= WD_SBX_REQUIRE_ALL;
  if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) != 0) {
    snprintf(err, errlen, "socketpair: %s", strerror(errno));
    return -errno;
  }
  wd_link_tune_socket(sv[0]);
  wd_link_tune_socket(sv[1]);
  keys[0] = WD_F_KEYS;
  wd_ipc_derive(b->master, index, WD_IPC_DIR_TO_HOST, keys + 1);
  wd_ipc_derive(b->master, index, WD_IPC_DIR_TO_BROKER, keys + 33);
  fflush(stdout);
  fflush(stderr);
  pid = wd__fork_host(&sp.pidns_err);
  if (pid < 0) {
    snprintf(err, errlen, "fork: %s", strerror(errno));
    close(sv[0]);
    close(sv[1]);
    sodium_memzero(keys, sizeof keys);
    return WD_EUNAVAIL;
  }
  if (pid == 0) {
    char *argv[4];
    argv[0] = (char *)"ward";
    argv[1] = (char *)"host";
    argv[2] = (char *)s->id;
    argv[3] = NULL;
    sodium_memzero(keys, sizeof keys);
    /* Armed before exec, so the host dies with us even before it runs. */
    if (prctl(PR_SET_PDEATHSIG, SIGKILL) != 0) _exit(127);
    if (dup2(sv[1], 3) != 3) _exit(127);
    execve(host_exe(b, s), argv, env);
    _exit(127);
  }
  close(sv[1]);
  s->pid = pid;
  s->ospid = pid;
  s->why[0] = '\0';
  wd_sbx_params_put(keys + 65, &sp);
  do
    r = (int)send(sv[0], keys, sizeof keys, MSG_NOSIGNAL);
  while (r == -1 && errno == EINTR);
  s->link = wd_calloc(1, sizeof *s->link);
  if (r != (int)sizeof keys || s->link == NULL ||
      wd_link_init(&b->loop, s->link, sv[0], keys + 1, keys + 33) < 0) {
    sodium_memzero(keys, sizeof keys);
    snprintf(err, errlen, "cannot set up the link to host %s", s->id);
    kill(pid, SIGKILL);
    wd_free(s->link);
    s->link = NULL;
    close(sv[0]);
    return WD_EUNAVAIL;
  }
  sodium_memzero(keys, sizeof keys);
  s->link->data = s;
  s->link->on_rec = wd__brk_on_rec;
  s->link->on_fail = on_fail;
  wd_link_set_max_payload(s->link, s->he->u.host.limits.max_payload);
  /* What the last incarnation printed still waits past its bounds. */
  if (s->out_paused || s->out_slow) wd_link_pause(s->link, 1);
  s->up = 1;
  s->beat = uv_now(&b->loop);
  s->cpu_mark = -1;
  s->alive = b->wclock;
  s->cpu_last = -1;
  s->beaten = 0;
  s->nlate = 0;
  send_init(s);
  wd__brk_send_mesh(s);
  wd__brk_send_pids(s);
  wd__brk_sec_event(b, WD_AUDIT_HOST_START, s->id, (long)pid, "started");
  if (b->o.verbose)
    fprintf(stderr, "ward: host %s started (pid %d)\n", s->id, (int)pid);
  return 0;
}

int wd__brk_host_ensure(wd_broker *b, hslot *s, char *err, size_t errlen) {
  if (s->up) return 0;
  if (b->stopping) {
    snprintf(err, errlen, "ward is shutting down");
    return WD_EUNAVAIL;
  }
  if (s->pid != 0) {
    /* The last incarnation is dead to us but not reaped yet. */
    if (b->ndying == (int)WD_COUNTOF(b->dying)) {
      snprintf(err, errlen, "host %s is restarting", s->id);
      return WD_EUNAVAIL;
    }
    b->dying[b->ndying++] = s->pid;
    s->pid = 0;
  }
  return host_start(b, s, err, errlen);
}

/* }====== */

/* {====== Host death ====== */

/* A host with 'restart: true' comes back (new keys, new PIDs). */
static void restart_host(wd_broker *b, void *ud, int fired) {
  hslot *s = ud;
  char err[200];
  if (!fired || b->stopping || s->up) return;
  if (wd__brk_host_ensure(b, s, err, sizeof err) < 0)
    fprintf(stderr, "ward: host %s: restart failed: %s\n", s->id, err);
  else {
    wd__brk_stat_restart(b, (int)(s - b->hosts));
    fprintf(stderr, "ward: host %s: restarted\n", s->id);
  }
}

static void link_closed(uv_handle_t *h) {
  wd_free(h->data);
}

/* Take host 's' down: kill it, fail everything that waits on it. */
void wd__brk_host_down(hslot *s, const char *fmt, ...) {
  wd_broker *b = s->b;
  int idx = (int)(s - b->hosts), i;
  char why[200];
  va_list ap;
  root **rp;
  fwd *doomed = NULL;
  va_start(ap, fmt);
  vsnprintf(why, sizeof why, fmt, ap);
  va_end(ap);
  if (s->up) wd__brk_drops_say(b, s, 1); /* what it had dropped, first */
  if (s->up && !b->stopping) fprintf(stderr, "ward: host %s: %s\n", s->id, why);
  if (s->why[0] == '\0') snprintf(s->why, sizeof s->why, "%s", why);
  /* 's->pid' is 0 once the process is reaped: log the one that died. */
  if (s->up)
    wd__brk_sec_event(b, WD_AUDIT_HOST_DEATH, s->id, (long)s->ospid, why);
  if (s->pid > 0) kill(s->pid, SIGKILL);
  if (s->link != NULL) {
    s->link->poll.data = s->link;
    wd_link_close(s->link, link_closed);
    s->link = NULL;
  }
  if (!s->up) return;
  s->up = 0;
  wd__brk_flow_down(s);
  wd__brk_gone_host(s);
  /* Requests to it fail (those already answered late are forgotten);
  ** requests from it go on, answered to nobody: their targets are honest
  ** and will answer. The failed ones are taken out first, because their
  ** callbacks may carry new requests (even to this host, restarted). */
  for (i = 0; i < FWD_BUCKETS; i++) {
    fwd **pp = &b->fwd[i];
    while (*pp != NULL) {
      fwd *f = *pp;
      if (f->target == idx) {
        *pp = f->next;
        wd__brk_fwd_unqueue(b, f);
        f->next = doomed;
        doomed = f;
      } else {
        if (f->origin == idx) f->origin = FWD_NOBODY;
        pp = &f->next;
      }
    }
  }
  s->nlate = 0;
  while (doomed != NULL) {
    fwd *f = doomed;
    doomed = f->next;
    if (f->state == FWD_WAIT) {
      char msg[300];
      int n = snprintf(msg, sizeof msg, "host %s died: %s", s->id, why);
      wd__brk_after_reply(b, f, WD_EUNAVAIL, msg, (size_t)n);
      wd__brk_answer(b, f, WD_EUNAVAIL, msg, (size_t)n);
    }
    wd__brk_fwd_free(f);
  }
  wd__brk_names_release(b, idx, 0, 1);
  wd__brk_watch_host_down(b, idx, why);
  rp = &b->roots;
  while (*rp != NULL) {
    root *r = *rp;
    if (r->slot == idx) {
      char msg[300];
      *rp = r->next;
      snprintf(msg, sizeof msg, "host %s died: %s", s->id, why);
      if (r->svc)
        wd__brk_svc_exited(b, idx, (uint64_t)(r->svc - 1), 0, msg);
      else
        r->cb(b, r->ud, 0, 0, msg);
      wd_free(r);
    } else {
      rp = &r->next;
    }
  }
  if (s->he->u.host.restart && !b->stopping)
    wd_broker_after(b, 50, restart_host, s);
}

/* Why did host process 'pid' end? Waits at most ~50 ms for it to exit
** (an end of file on the link usually means it is exiting); a host that
** closed its link but lives on is killed. Reaps it: sets *reaped. */
static void death_cause(pid_t pid, char *out, size_t outlen, int *reaped) {
  int st, i;
  *reaped = 0;
  for (i = 0; i < 50; i++) {
    pid_t r = waitpid(pid, &st, WNOHANG);
    if (r == pid) {
      *reaped = 1;
      if (WIFSIGNALED(st))
        snprintf(out, outlen, "crashed: killed by signal %d (%s)", WTERMSIG(st),
                 strsignal(WTERMSIG(st)));
      else
        snprintf(out, outlen, "exited with status %d", WEXITSTATUS(st));
      return;
    }
    usleep(1000);
  }
  snprintf(out, outlen, "closed its link: killed");
}

static void on_fail(wd_link *l, int code, const char *why) {
  hslot *s = l->data;
  if (code == 0) {
    char cause[sizeof s->why];
    int reaped = 0;
    if (s->pid > 0)
      death_cause(s->pid, cause, sizeof cause, &reaped);
    else /* reaped already (on_sigchld): how it ended */
      snprintf(cause, sizeof cause, "%s",
               s->why[0] != '\0' ? s->why : "closed its link");
    if (reaped) s->pid = 0;
    wd__brk_host_down(s, "%s", cause);
    wd__brk_maybe_finish(s->b);
  } else {
    wd__brk_host_down(s, "bad frame (%s): killed", why);
  }
}

void wd__brk_on_sigchld(uv_signal_t *h, int sig) {
  wd_broker *b = h->data;
  int st, i;
  pid_t pid;
  (void)sig;
  while ((pid = waitpid(-1, &st, WNOHANG)) > 0) {
    for (i = 0; i < b->ndying; i++)
      if (b->dying[i] == pid) b->dying[i] = b->dying[--b->ndying];
    if (wd__brk_gw_reaped(b, pid, st)) continue;
    for (i = 0; i < b->nhosts; i++) {
      hslot *s = &b->hosts[i];
      char cause[160];
      if (s->pid != pid) continue;
      s->pid = 0;
      if (WIFSIGNALED(st))
        snprintf(cause, sizeof cause, "crashed: killed by signal %d (%s)",
                 WTERMSIG(st), strsignal(WTERMSIG(st)));
      else
        snprintf(cause, sizeof cause, "exited with status %d", WEXITSTATUS(st));
      /* What it sent last (its processes' exits, what they printed) may
      ** still be in the socket: the link reads it even if paused, and its
      ** end of file takes the host down after those frames (on_fail),
      ** with this cause. */
      if (s->up && s->link != NULL && !s->link->failed) {
        if (s->why[0] == '\0') snprintf(s->why, sizeof s->why, "%s", cause);
        wd_link_peer_gone(s->link);
        continue;
      }
      wd__brk_host_down(s, "%s", cause);
    }
  }
  wd__brk_maybe_finish(b);
}

/* }====== */
