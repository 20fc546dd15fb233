/*
** include/ward/wd_sandbox.h
** The broker (trusted: reads the manifest and sources, starts one host OS
** process per process.host, routes every request between hosts, keeps the
** name registry) and the host main (the other side of each link).
*/
#ifndef wd_sandbox_h
#define wd_sandbox_h

#include <stdint.h>

#include "ward/wd_manifest.h"

typedef struct wd_broker wd_broker;

/* Called when a root process (spawned with wd_broker_spawn_root) ends or
** cannot start. 'ok': 1 returned without error, 0 failed; 'is_false': it
** returned a lone false; 'text' the rendered result or the error message
** (NUL-terminated, borrowed for the call). */
typedef void (*wd_root_cb)(wd_broker *b, void *ud, int ok, int is_false,
                           const char *text);

typedef struct wd_broker_opts {
  const char *exe;      /* path of the ward binary to exec for hosts */
  int verbose;
  /* --actor and --scope: actor id and policy groups/ids of the processes
  ** spawned by wd_broker_spawn_root (ENTRY), never of services; NULL and 0
  ** for the entry's own 'security:'. */
  const char *actor;
  const char *const *scope;
  size_t nscope;
  uint64_t shutdown_ns; /* CANCEL deadline at shutdown (0: 5 s) */
  int audit_mode;       /* 0 no log, 1 denials, 2 every decision */
  const char *audit_log;
  const char *audit_key; /* secret key file, or NULL: a key per run */
  int require_sandbox;  /* --require-sandbox=all: a missing layer is fatal */
  /* Test binaries only (tests/link/testhooks.c): host 'test_host' runs
  ** the program 'test_exe' instead of 'exe'. ward never sets them. */
  const char *test_host;
  const char *test_exe;
  /* Where the app came from, read again by a policy reload (SIGHUP,
  ** POST /v1/policies/reload) and a deploy: the app directory and the
  ** --policy files. NULL: reloads are refused. */
  const char *appdir;
  const char *const *policy_files;
  size_t npolicy_files;
  /* --deploy-dir: where the broker keeps the revisions deploys write
  ** (DIR/NAMESPACE/REVISION/); NULL: deploys are refused. */
  const char *deploy_dir;
} wd_broker_opts;

/* Takes no ownership of 'm' (it must outlive the broker). Compiles the
** policies and opens the audit log; errors (naming file, line and column
** for a bad policy) go to 'err'. */
int wd_broker_new(const wd_manifest *m, const wd_broker_opts *o,
                  wd_broker **out, char *err, size_t errlen);
/* ward serve, before the loop runs: each namespace under --deploy-dir
** comes up with its last deployed revision (DIR/NS/current names it),
** checked whole as a deploy is. One that fails to load is named with its
** errors on stderr, and the app directory's files serve that namespace.
** Does nothing without --deploy-dir. */
void wd_broker_restore_deploys(wd_broker *b);
/* Spawn 'entry' on 'host' with string arguments; 'cb' runs once. Returns 0
** or a negative code with a message in 'err' (nothing started then). */
int wd_broker_spawn_root(wd_broker *b, const char *entry, const char *host,
                         const char *const *args, int nargs, wd_root_cb cb,
                         void *ud, char *err, size_t errlen);
/* Run the loop until wd_broker_stop has finished, then write out what
** waits for standard output (blocking). */
int wd_broker_run(wd_broker *b);
/* Put a line of ward's own on standard output, after what scripts printed
** so far, without blocking the broker (during wd_broker_run). */
void wd_broker_printf(wd_broker *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* Ask every host to stop: every process gets CANCEL with the shutdown
** deadline and is terminated when it passes; the loop ends when all hosts
** have exited. */
void wd_broker_stop(wd_broker *b);
/* SIGINT and SIGTERM stop the broker (wd_broker_stop); a second one kills
** the hosts at once. SIGHUP is logged and ignored (the hook for a policy
** reload). Once the broker has finished, the three wait until exit. */
void wd_broker_stop_on_signals(wd_broker *b);
/* Start every process.service with lifecycle.auto_start. */
void wd_broker_start_services(wd_broker *b);
/* Kill the host OS process of 'host', or of every host when 'host' is
** NULL. */
void wd_broker_kill_host(wd_broker *b, const char *host, const char *why);
/* Kill the host OS process that runs the root process spawned with 'ud'
** (wd_broker_spawn_root), also while its spawn waits for an answer; other
** hosts are untouched. Does nothing once that process has ended. Its
** callback runs (failed, naming 'why') before this returns. */
void wd_broker_kill_root_host(wd_broker *b, void *ud, const char *why);
/* Start a one-shot timer on the broker loop: 'cb(b, ud, 1)' after 'ms',
** or 'cb(b, ud, 0)' if the broker shuts down first (free 'ud' then). */
void wd_broker_after(wd_broker *b, uint64_t ms,
                     void (*cb)(wd_broker *, void *, int), void *ud);
void wd_broker_free(wd_broker *b);

/* The front door (ARCHITECTURE.md §12, sandbox/broker_gw.c): 'ward serve
** --listen'. */
typedef struct wd_serve_opts {
  const char *listen[8]; /* "unix:PATH" or "tcp:HOST:PORT" */
  int nlisten;
  int listen_any;        /* TCP on an address that is not loopback */
  const char *tokens;    /* the tokens file (YAML) */
  uint32_t max_header;   /* request line and headers, bytes (431) */
  uint32_t max_body;     /* body, bytes (413) */
  uint32_t read_ms;      /* a request arrives whole within it (408) */
  uint32_t idle_ms;      /* a kept-alive connection idles at most so long */
  uint32_t max_conns;    /* connections at once (503) */
  uint32_t max_per_token; /* connections at once per bearer (429) */
  uint32_t max_inflight; /* requests in flight per token (429) */
} wd_serve_opts;

/* Read the tokens file, open the listening sockets (a unix socket with
** mode 0600; TCP on a loopback address unless 'listen_any') and start the
** gateway process, which the broker restarts whenever it dies. Returns 0,
** or a negative code with a message in 'err' (a tokens file error names
** FILE:LINE:COL). Call after wd_broker_new, before wd_broker_run. */
int wd_broker_serve(wd_broker *b, const wd_serve_opts *o, char *err,
                    size_t errlen);

/* Main of the gateway process ('ward gateway N', sandbox/gateway.c): fd 3
** is its link, fds 4 .. 4 + N - 1 the listening sockets. Never returns. */
void wd_gateway_main(int nlisten) __attribute__((noreturn));

/* Host process main: 'fd' is the link to the broker. Never returns. */
void wd_host_main(const char *id, int fd) __attribute__((noreturn));

#endif
