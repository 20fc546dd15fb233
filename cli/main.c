/*
** cli/main.c
** The 'ward' command: run an app, run its tests, and (internal) be a host.
** main() is in cli/ward.c.
** Exit status: 0 success, 1 the job failed, 2 bad usage or bad input.
** Runs in: broker (and, for 'ward host', the host before it confines).
*/
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cmd_int.h"
#include "ward/wd_cli.h"
#include "ward/wd_confine.h"
#include "ward/wd_manifest.h"
#include "ward/wd_sandbox.h"
#include "ward/wd_time.h"

static const char usage_main[] =
    "usage: ward COMMAND [OPTIONS] [ARGS]\n"
    "\n"
    "ward runs untrusted Lua 5.4 scripts as actors, one confined OS process\n"
    "per process.host, behind a broker that checks and routes everything.\n"
    "\n"
    "commands:\n"
    "  run APPDIR ENTRY [ARG...]   run ENTRY of the app, print its result\n"
    "  test APPDIR                 run every entry with meta.type: test\n"
    "  serve APPDIR                run the app's services until SIGTERM;\n"
    "                              with --listen, serve the HTTP API too\n"
    "  ctl exec|spawn|send|kill ...   call a serving ward's API\n"
    "  top                         a live view of a serving ward\n"
    "  token hash SECRET           the hash of an API secret to store\n"
    "  policy check|eval|explain|test|permissions|diff ...\n"
    "                              audit and test policies\n"
    "  audit keygen|verify ...     audit log keys and verification\n"
    "  doctor                      which sandbox layers this kernel gives\n"
    "  help [COMMAND]              show help for a command\n"
    "\n"
    "options:\n"
    "  -h, --help                  show this help\n"
    "  --version                   print the version\n"
    "\n"
    "Run 'ward COMMAND --help' for the options of a command.\n";

static const char usage_run[] =
    "usage: ward run [OPTIONS] APPDIR ENTRY [ARG...]\n"
    "\n"
    "Load every _index.yaml below APPDIR, start the broker, spawn ENTRY (an\n"
    "entry id such as app:main) with the ARGs as strings, wait for it to\n"
    "exit and print its result value. Script output (print) goes to stdout,\n"
    "ward's own diagnostics to stderr.\n"
    "\n"
    "options:\n"
    "  --host HOST        run ENTRY on this process.host (default: the\n"
    "                     entry's 'host:' field, or the app's only host)\n"
    "  --policy FILE      add the entries of a policy file (repeatable)\n"
    "  --actor ID         security actor of ENTRY (default: the entry's\n"
    "                     'security: {actor}'); children inherit it\n"
    "  --scope NAME       policy group or policy id in ENTRY's scope\n"
    "                     (repeatable; default: the entry's 'security:')\n"
    "  --audit deny|all   write an audit log of denials (or every decision)\n"
    "  --audit-log FILE   the audit log (JSON Lines, hash chain, signed\n"
    "                     checkpoints; check it with 'ward audit verify')\n"
    "  --audit-key FILE   sign with this secret key (ward audit keygen);\n"
    "                     default: a key for this run, public half in\n"
    "                     FILE.pub\n"
    "  --shutdown-timeout DURATION\n"
    "                     when ENTRY exits, every other process gets CANCEL\n"
    "                     with this deadline, then is terminated (5s)\n"
    "  -v, --verbose      log host starts and stops to stderr\n"
    "  --require-sandbox=all\n"
    "                     fail a host that cannot apply every confinement\n"
    "                     layer (namespaces, rlimits, Landlock ABI >= 6,\n"
    "                     seccomp); without it a missing layer is logged\n"
    "  -h, --help         show this help\n"
    "\n"
    "Services with lifecycle.auto_start start before ENTRY.\n"
    "SIGTERM or SIGINT shuts down as when ENTRY exits (CANCEL with the\n"
    "shutdown deadline, then terminate); a second one kills the hosts at\n"
    "once. SIGHUP is logged and ignored.\n"
    "\n"
    "exit status: 0 ENTRY returned without error; 1 it raised an error,\n"
    "returned nil plus an error, or returned false; 2 bad usage or a bad\n"
    "manifest (the message names file, line and column).\n";

static const char usage_test[] =
    "usage: ward test [OPTIONS] APPDIR\n"
    "\n"
    "Run every process.lua entry whose meta.type is 'test', one at a time in\n"
    "id order. A test passes when its function returns without an error and\n"
    "without a false result. Prints one line per test and a closing line\n"
    "'N passed, N failed'.\n"
    "\n"
    "options:\n"
    "  --filter TEXT      run only tests whose id contains TEXT (a filter\n"
    "                     that matches no test is an error, exit 2)\n"
    "  --junit FILE       also write a JUnit XML report to FILE (checked\n"
    "                     before any test runs; classname, timestamp,\n"
    "                     and what each test printed in <system-out>)\n"
    "  --timeout SECONDS  fail a test that runs longer (default 30); its\n"
    "                     host is killed and restarted for the next test\n"
    "  --shutdown-timeout DURATION\n"
    "                     CANCEL deadline for processes left at the end\n"
    "  -v, --verbose      log host starts and stops to stderr\n"
    "  -h, --help         show this help\n"
    "\n"
    "exit status: 0 all passed; 1 a test failed; 2 bad usage or manifest.\n";

/* --shutdown-timeout DURATION ("5s", "500ms"). */
static int parse_timeout(const char *s, uint64_t *ns) {
  int64_t v;
  if (wd_duration_parse(s, strlen(s), &v) < 0 || v <= 0) {
    fprintf(stderr, "ward: --shutdown-timeout takes a duration such as 5s "
                    "or 500ms, not '%s'\n", s);
    return -1;
  }
  *ns = (uint64_t)v;
  return 0;
}

/* A usage error of 'ward CMD': "MSG" or "MSG 'ARG'", then the command's
** usage. Returns the exit status for bad usage. */
static int usage_error(const char *cmd, const char *usage, const char *msg,
                       const char *arg) {
  if (arg != NULL)
    fprintf(stderr, "ward %s: %s '%s'\n%s", cmd, msg, arg, usage);
  else
    fprintf(stderr, "ward %s: %s\n%s", cmd, msg, usage);
  return 2;
}

static int is_help(const char *a) {
  return strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0;
}

static int load(const char *dir, const char *const *policies, int npol,
                wd_manifest **m) {
  char err[1024];
  int i, r = wd_manifest_load_dir(dir, m, err, sizeof err);
  if (r < 0) {
    if (r == WD_EINVAL) fprintf(stderr, "ward: %s\n", err);
    else fprintf(stderr, "ward: %s: %s\n", dir, err[0] ? err : strerror(-r));
    return 2;
  }
  for (i = 0; i < npol; i++) {
    if ((r = wd_manifest_add_file(*m, policies[i], err, sizeof err)) < 0) {
      fprintf(stderr, "ward: %s\n", err[0] ? err : strerror(-r));
      wd_manifest_free(*m);
      return 2;
    }
  }
  return 0;
}

/* {====== Options shared by run, test and serve ====== */

/* What the commands that start a broker have in common. */
typedef struct cliopts {
  wd_broker_opts o;
  wd__cli_hook hook; /* NULL in ward itself (see cmd_int.h) */
  const char *policies[64];
  int npol;
  const char *scope[64];
} cliopts;

static int too_many(const char *cmd, const char *what) {
  fprintf(stderr, "ward %s: too many %s\n", cmd, what);
  return -1;
}

/* A shared option at argv[*i] (moving *i past its value). Returns 1 when
** consumed, 0 when not a shared option, -1 after printing an error.
** 'actors' says whether --actor/--scope are accepted. */
static int shared_opt(int argc, char **argv, int *i, cliopts *c,
                      const char *cmd, int actors) {
  const char *a = argv[*i];
  if (strcmp(a, "-v") == 0 || strcmp(a, "--verbose") == 0) {
    c->o.verbose = 1;
    return 1;
  }
  if (strcmp(a, "--require-sandbox=all") == 0) {
    c->o.require_sandbox = 1;
    return 1;
  }
  if (*i + 1 >= argc) return 0;
  if (strcmp(a, "--policy") == 0) {
    if (c->npol == 64) return too_many(cmd, "--policy files");
    c->policies[c->npol++] = argv[++*i];
  } else if (strcmp(a, "--shutdown-timeout") == 0) {
    if (parse_timeout(argv[++*i], &c->o.shutdown_ns) < 0) return -1;
  } else if (strcmp(a, "--audit") == 0) {
    const char *v = argv[++*i];
    if (strcmp(v, "deny") == 0) c->o.audit_mode = 1;
    else if (strcmp(v, "all") == 0) c->o.audit_mode = 2;
    else {
      fprintf(stderr, "ward: --audit takes deny or all, not '%s'\n", v);
      return -1;
    }
  } else if (strcmp(a, "--audit-log") == 0) {
    c->o.audit_log = argv[++*i];
  } else if (strcmp(a, "--audit-key") == 0) {
    c->o.audit_key = argv[++*i];
  } else if (actors && strcmp(a, "--actor") == 0) {
    c->o.actor = argv[++*i];
  } else if (actors && strcmp(a, "--scope") == 0) {
    if (c->o.nscope == 64) return too_many(cmd, "--scope names");
    c->scope[c->o.nscope++] = argv[++*i];
  } else {
    return 0;
  }
  return 1;
}

/* Load the app and start a broker with the options. Returns 0, or the
** exit status (2) after printing why. */
static int start(cliopts *c, const char *dir, wd_manifest **m,
                 wd_broker **b) {
  char err[1024];
  int code;
  if (c->o.audit_mode != 0 && c->o.audit_log == NULL) {
    fprintf(stderr, "ward: --audit needs --audit-log FILE\n");
    return 2;
  }
  if ((code = load(dir, c->policies, c->npol, m)) != 0) return code;
  c->o.exe = "/proc/self/exe";
  c->o.scope = c->scope;
  c->o.appdir = dir;
  c->o.policy_files = c->policies;
  c->o.npolicy_files = (size_t)c->npol;
  if (c->hook != NULL) c->hook(&c->o);
  if (wd_broker_new(*m, &c->o, b, err, sizeof err) < 0) {
    fprintf(stderr, "ward: %s\n", err);
    wd_manifest_free(*m);
    return 2;
  }
  return 0;
}

/* }====== */

/* {====== ward run ====== */

typedef struct runres {
  int done, ok, is_false;
  char *text;
} runres;

static void run_done(wd_broker *b, void *ud, int ok, int is_false,
                     const char *text) {
  runres *r = ud;
  r->done = 1;
  r->ok = ok;
  r->is_false = is_false;
  r->text = strdup(text);
  wd_broker_stop(b);
}

static int cmd_run(int argc, char **argv, wd__cli_hook hook) {
  const char *host = NULL;
  int i, code, r;
  wd_manifest *m;
  wd_broker *b;
  cliopts opts;
  runres res;
  char err[1024];
  memset(&opts, 0, sizeof opts);
  opts.hook = hook;
  for (i = 0; i < argc && argv[i][0] == '-'; i++) {
    if ((r = shared_opt(argc, argv, &i, &opts, "run", 1)) != 0) {
      if (r < 0) return 2;
    } else if (is_help(argv[i])) {
      fputs(usage_run, stdout);
      return 0;
    } else if (strcmp(argv[i], "--host") == 0 && i + 1 < argc) {
      host = argv[++i];
    } else {
      return usage_error("run", usage_run, "unknown option", argv[i]);
    }
  }
  if (argc - i < 2) {
    return usage_error("run", usage_run, "APPDIR and ENTRY are required",
                       NULL);
  }
  if ((code = start(&opts, argv[i], &m, &b)) != 0) return code;
  memset(&res, 0, sizeof res);
  wd_broker_stop_on_signals(b);
  wd_broker_start_services(b);
  if (wd_broker_spawn_root(b, argv[i + 1], host,
                           (const char *const *)argv + i + 2, argc - i - 2,
                           run_done, &res, err, sizeof err) < 0) {
    fprintf(stderr, "ward: %s\n", err);
    wd_broker_stop(b);
    wd_broker_run(b);
    wd_broker_free(b);
    wd_manifest_free(m);
    return 2;
  }
  wd_broker_run(b);
  code = 1;
  if (res.done && res.ok && !res.is_false) {
    if (res.text && res.text[0] != '\0') printf("%s\n", res.text);
    code = 0;
  } else if (res.done && res.is_false) {
    fprintf(stderr, "ward: %s returned false\n", argv[i + 1]);
  } else {
    fprintf(stderr, "ward: %s failed: %s\n", argv[i + 1],
            res.text ? res.text : "no result");
  }
  fflush(stdout);
  free(res.text);
  wd_broker_free(b);
  wd_manifest_free(m);
  return code;
}

/* }====== */

/* {====== ward test ====== */

typedef struct tcase {
  const char *id;
  int ok;
  double secs;
  char *msg;
} tcase;

typedef struct tsuite {
  tcase *cases;
  void *root; /* the running test's root (its callback's 'ud') */
  int n, cur, gen;
  int passed, failed;
  unsigned timeout_s;
  struct timespec t0;
  wd__capture *cap; /* --junit: what each test prints */
} tsuite;

static double since(const struct timespec *t0) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (double)(t.tv_sec - t0->tv_sec) +
         (double)(t.tv_nsec - t0->tv_nsec) / 1e9;
}

static void test_next(wd_broker *b, tsuite *s);

/* The mark that ends test 'idx''s output for the JUnit report, or "". */
static const char *end_mark(const tsuite *s, int idx, char *buf, size_t n) {
  buf[0] = '\0';
  if (s->cap != NULL) wd__capture_mark(s->cap, 0, idx, buf, n);
  return buf;
}

static void test_finish(wd_broker *b, tsuite *s, int ok, const char *msg) {
  tcase *c = &s->cases[s->cur];
  char em[64];
  c->ok = ok;
  c->secs = since(&s->t0);
  c->msg = ok ? NULL : strdup(msg);
  /* Through the broker's output, after what the test printed. */
  if (ok) {
    s->passed++;
    wd_broker_printf(b, "%sok     %s (%.0f ms)\n",
                     end_mark(s, s->cur, em, sizeof em), c->id,
                     c->secs * 1000);
  } else {
    s->failed++;
    wd_broker_printf(b, "%sFAIL   %s (%.0f ms): %s\n",
                     end_mark(s, s->cur, em, sizeof em), c->id,
                     c->secs * 1000, msg);
  }
  s->cur++;
  s->gen++;
  test_next(b, s);
}

typedef struct tref {
  tsuite *s;
  int gen;
} tref;

static void test_done(wd_broker *b, void *ud, int ok, int is_false,
                      const char *text) {
  tref *r = ud;
  tsuite *s = r->s;
  int gen = r->gen;
  free(r);
  if (gen != s->gen) return; /* already timed out */
  if (ok && is_false) test_finish(b, s, 0, "returned false");
  else test_finish(b, s, ok, text);
}

static void test_timeout(wd_broker *b, void *ud, int fired) {
  tref *r = ud;
  tsuite *s = r->s;
  int gen = r->gen;
  char msg[128], em[64];
  free(r);
  if (!fired || gen != s->gen) return;
  snprintf(msg, sizeof msg, "timed out after %u s", s->timeout_s);
  /* The test's host is killed (no other); the next spawn there starts a
  ** fresh one. */
  s->gen++;
  {
    tcase *c = &s->cases[s->cur];
    c->ok = 0;
    c->secs = since(&s->t0);
    c->msg = strdup(msg);
    s->failed++;
    wd_broker_printf(b, "%sFAIL   %s (%.0f ms): %s\n",
                     end_mark(s, s->cur, em, sizeof em), c->id,
                     c->secs * 1000, msg);
  }
  s->cur++;
  wd_broker_kill_root_host(b, s->root, "test timed out");
  test_next(b, s);
}

static void test_next(wd_broker *b, tsuite *s) {
  char err[1024];
  tref *r, *t;
  if (s->cur >= s->n) {
    wd_broker_stop(b);
    return;
  }
  clock_gettime(CLOCK_MONOTONIC, &s->t0);
  r = malloc(sizeof *r);
  t = malloc(sizeof *t);
  if (r == NULL || t == NULL) {
    free(r);
    free(t);
    test_finish(b, s, 0, "out of memory");
    return;
  }
  r->s = t->s = s;
  r->gen = t->gen = s->gen;
  s->root = r;
  if (s->cap != NULL) {
    char bm[64];
    wd__capture_mark(s->cap, 1, s->cur, bm, sizeof bm);
    wd_broker_printf(b, "%s", bm);
  }
  if (wd_broker_spawn_root(b, s->cases[s->cur].id, NULL, NULL, 0, test_done,
                           r, err, sizeof err) < 0) {
    free(r);
    free(t);
    test_finish(b, s, 0, err);
    return;
  }
  wd_broker_after(b, (uint64_t)s->timeout_s * 1000, test_timeout, t);
}

/* The JUnit report (cli/cmd_junit.c): classname is the test's
** namespace, name its id, system-out what it printed. */
static int write_junit(const char *path, const char *dir, const tsuite *s,
                       time_t start) {
  wd__jcase *jc = calloc((size_t)s->n + 1, sizeof *jc);
  char (*ns)[256] = calloc((size_t)s->n + 1, sizeof *ns);
  char suite[4096];
  int i, r = -1;
  if (jc == NULL || ns == NULL) goto out;
  for (i = 0; i < s->n; i++) {
    const char *id = s->cases[i].id, *colon = strchr(id, ':');
    snprintf(ns[i], sizeof ns[i], "%.*s",
             (int)(colon ? (size_t)(colon - id) : strlen(id)), id);
    jc[i].classname = ns[i];
    jc[i].name = id;
    jc[i].secs = s->cases[i].secs;
    jc[i].ok = s->cases[i].ok;
    jc[i].msg = s->cases[i].msg;
    jc[i].out = wd__capture_out(s->cap, i, &jc[i].outlen);
  }
  snprintf(suite, sizeof suite, "ward test %s", dir);
  r = wd__junit_write("test", path, suite, jc, (size_t)s->n, start);
out:
  free(jc);
  free(ns);
  return r;
}

static int by_id(const void *a, const void *b) {
  return strcmp(((const tcase *)a)->id, ((const tcase *)b)->id);
}

/* CI: a report that cannot be written fails before anything runs; what
** each test prints is captured for it from here on. 0 or 2. */
static int junit_begin(const char *junit, tsuite *s) {
  int r;
  if (wd__junit_check_path("test", junit) != 0) return 2;
  if ((r = wd__capture_start(&s->cap)) != 0) {
    fprintf(stderr, "ward test: cannot capture test output: %s\n",
            wd_strerror(r));
    return 2;
  }
  return 0;
}

/* The tests of the app (process.lua with meta.type test) whose id
** contains 'filter' (NULL: all), in id order. 0, or -1 out of memory. */
static int select_tests(const wd_manifest *m, const char *filter, tsuite *s) {
  size_t k;
  s->cases = calloc(m->nentries + 1, sizeof *s->cases);
  if (s->cases == NULL) return -1;
  for (k = 0; k < m->nentries; k++) {
    const wd_entry *e = m->entries[k];
    if (e->kind != WD_KIND_LUA || e->meta_type == NULL ||
        strcmp(e->meta_type, "test") != 0)
      continue;
    if (filter != NULL && strstr(e->id, filter) == NULL) continue;
    s->cases[s->n++].id = e->id;
  }
  qsort(s->cases, (size_t)s->n, sizeof *s->cases, by_id);
  return 0;
}

/* After the run: the closing line and the JUnit report. The exit code. */
static int test_report(const char *junit, const char *dir, tsuite *s,
                       time_t started) {
  int code;
  wd__capture_stop(s->cap);
  printf("%d passed, %d failed\n", s->passed, s->failed);
  code = s->failed > 0 || s->passed + s->failed < s->n ? 1 : 0;
  if (junit != NULL && write_junit(junit, dir, s, started) < 0) code = 1;
  wd__capture_free(s->cap);
  s->cap = NULL;
  return code;
}

/* CI: a --filter that selects nothing is a mistake, not a pass. */
static int no_match(wd_broker *b, wd_manifest *m, tsuite *s,
                    const char *filter, const char *dir) {
  wd_broker_stop(b);
  wd_broker_run(b);
  wd_broker_free(b);
  wd_manifest_free(m);
  wd__capture_free(s->cap);
  free(s->cases);
  fprintf(stderr, "ward test: --filter '%s' matches no test of %s\n", filter,
          dir);
  return 2;
}

static int cmd_test(int argc, char **argv, wd__cli_hook hook) {
  const char *filter = NULL, *junit = NULL;
  time_t started;
  int i, code, r;
  unsigned timeout_s = 30;
  wd_manifest *m;
  wd_broker *b;
  cliopts opts;
  tsuite s;
  memset(&opts, 0, sizeof opts);
  opts.hook = hook;
  for (i = 0; i < argc && argv[i][0] == '-'; i++) {
    if ((r = shared_opt(argc, argv, &i, &opts, "test", 0)) != 0) {
      if (r < 0) return 2;
    } else if (is_help(argv[i])) {
      fputs(usage_test, stdout);
      return 0;
    } else if (strcmp(argv[i], "--filter") == 0 && i + 1 < argc) {
      filter = argv[++i];
    } else if (strcmp(argv[i], "--junit") == 0 && i + 1 < argc) {
      junit = argv[++i];
    } else if (strcmp(argv[i], "--timeout") == 0 && i + 1 < argc) {
      char *end;
      unsigned long v = strtoul(argv[++i], &end, 10);
      if (*end != '\0' || v == 0 || v > 86400) {
        fprintf(stderr, "ward test: --timeout takes seconds (1-86400)\n");
        return 2;
      }
      timeout_s = (unsigned)v;
    } else {
      return usage_error("test", usage_test, "unknown option", argv[i]);
    }
  }
  if (argc - i != 1) {
    return usage_error("test", usage_test, "one APPDIR is required", NULL);
  }
  memset(&s, 0, sizeof s);
  if (junit != NULL && junit_begin(junit, &s) != 0) return 2;
  started = time(NULL);
  if ((code = start(&opts, argv[i], &m, &b)) != 0) {
    wd__capture_free(s.cap);
    return code;
  }
  s.timeout_s = timeout_s;
  if (select_tests(m, filter, &s) != 0) return 1;
  if (filter != NULL && s.n == 0)
    return no_match(b, m, &s, filter, argv[i]);
  wd_broker_stop_on_signals(b);
  wd_broker_start_services(b);
  test_next(b, &s);
  wd_broker_run(b);
  code = test_report(junit, argv[i], &s, started);
  for (i = 0; i < s.n; i++) free(s.cases[i].msg);
  free(s.cases);
  wd_broker_free(b);
  wd_manifest_free(m);
  return code;
}

/* {====== ward serve ====== */

static const char usage_serve[] =
    "usage: ward serve [OPTIONS] APPDIR\n"
    "\n"
    "Start every process.service of the app with lifecycle.auto_start and\n"
    "supervise them (failed ones restart with backoff until their\n"
    "max_attempts) until SIGTERM or SIGINT; then every process gets CANCEL\n"
    "with the shutdown deadline and is terminated when it passes (a second\n"
    "signal kills the hosts at once). SIGHUP reloads the policies (the\n"
    "app's and the --policy files, read again; an error changes nothing).\n"
    "\n"
    "options:\n"
    "  --policy FILE      add the entries of a policy file (repeatable)\n"
    "  --shutdown-timeout DURATION   CANCEL deadline at shutdown (5s)\n"
    "  --audit deny|all   write an audit log of denials (or every decision)\n"
    "  --audit-log FILE   the audit log (JSON Lines, hash chain, signed\n"
    "                     checkpoints; check it with 'ward audit verify')\n"
    "  --audit-key FILE   sign with this secret key (ward audit keygen);\n"
    "                     default: a key for this run, public half in\n"
    "                     FILE.pub\n"
    "  -v, --verbose      log host starts and stops to stderr\n"
    "  -h, --help         show this help\n"
    "\n"
    "the front door (HTTP/1.1 + JSON API, see README.md \"Serving\"):\n"
    "  --listen unix:PATH | tcp:HOST:PORT   listen there (repeatable); a\n"
    "                     unix socket gets mode 0600; TCP only on loopback\n"
    "  --listen-any       allow TCP on an address that is not loopback\n"
    "  --tokens FILE      the API tokens (YAML; 'ward token hash SECRET')\n"
    "  --max-header BYTES (8192)  --max-body BYTES (1048576)\n"
    "  --read-timeout DURATION (10s)  --idle-timeout DURATION (60s)\n"
    "  --max-conns N (256)  --max-conns-per-token N (32)\n"
    "  --deploy-dir DIR   keep deployed revisions there (PUT /v1/apps/NS):\n"
    "                     DIR/NS/REV/, the current one and two before it;\n"
    "                     a restart comes up with each namespace's last\n"
    "                     revision; without it deploys are refused\n"
    "\n"
    "exit status: 0 after a clean shutdown; 2 bad usage or manifest.\n";

/* A serve option of the front door at argv[*i]. Returns 1 when consumed,
** 0 when not one, -1 after printing an error. */
static int serve_opt(int argc, char **argv, int *i, wd_serve_opts *s) {
  const char *a = argv[*i], *v;
  char *end;
  unsigned long n;
  int64_t ns;
  if (strcmp(a, "--listen-any") == 0) {
    s->listen_any = 1;
    return 1;
  }
  if (*i + 1 >= argc) return 0;
  v = argv[*i + 1];
  if (strcmp(a, "--listen") == 0) {
    if (s->nlisten == (int)WD_COUNTOF(s->listen)) {
      fprintf(stderr, "ward serve: too many --listen\n");
      return -1;
    }
    s->listen[s->nlisten++] = v;
  } else if (strcmp(a, "--tokens") == 0) {
    s->tokens = v;
  } else if (strcmp(a, "--read-timeout") == 0 ||
             strcmp(a, "--idle-timeout") == 0) {
    if (wd_duration_parse(v, strlen(v), &ns) < 0 || ns < 1000000 ||
        ns > 3600000000000LL) {
      fprintf(stderr, "ward serve: %s takes a duration from 1ms to 1h, not "
              "'%s'\n", a, v);
      return -1;
    }
    if (a[2] == 'r') s->read_ms = (uint32_t)(ns / 1000000);
    else s->idle_ms = (uint32_t)(ns / 1000000);
  } else if (strcmp(a, "--max-header") == 0 || strcmp(a, "--max-body") == 0 ||
             strcmp(a, "--max-conns") == 0 ||
             strcmp(a, "--max-conns-per-token") == 0) {
    n = strtoul(v, &end, 10);
    if (*v == '\0' || *end != '\0' || n == 0 || n > (64ul << 20) ||
        (strncmp(a, "--max-conns", 11) == 0 && n > 4096)) {
      fprintf(stderr, "ward serve: %s: bad number '%s'\n", a, v);
      return -1;
    }
    if (strcmp(a, "--max-header") == 0) s->max_header = (uint32_t)n;
    else if (strcmp(a, "--max-body") == 0) s->max_body = (uint32_t)n;
    else if (strcmp(a, "--max-conns") == 0) s->max_conns = (uint32_t)n;
    else s->max_per_token = (uint32_t)n;
  } else {
    return 0;
  }
  ++*i;
  return 1;
}

static int cmd_serve(int argc, char **argv, wd__cli_hook hook) {
  int i, code, r;
  wd_manifest *m;
  wd_broker *b;
  cliopts opts;
  wd_serve_opts so;
  char err[1024];
  memset(&opts, 0, sizeof opts);
  memset(&so, 0, sizeof so);
  so.max_header = 8192;
  so.max_body = 1u << 20;
  so.read_ms = 10000;
  so.idle_ms = 60000;
  so.max_conns = 256;
  so.max_per_token = 32;
  so.max_inflight = 64;
  opts.hook = hook;
  for (i = 0; i < argc && argv[i][0] == '-'; i++) {
    if (strcmp(argv[i], "--deploy-dir") == 0 && i + 1 < argc) {
      opts.o.deploy_dir = argv[++i];
    } else if ((r = shared_opt(argc, argv, &i, &opts, "serve", 0)) != 0 ||
               (r = serve_opt(argc, argv, &i, &so)) != 0) {
      if (r < 0) return 2;
    } else if (is_help(argv[i])) {
      fputs(usage_serve, stdout);
      return 0;
    } else {
      return usage_error("serve", usage_serve, "unknown option", argv[i]);
    }
  }
  if (argc - i != 1) {
    return usage_error("serve", usage_serve, "one APPDIR is required", NULL);
  }
  if ((so.nlisten > 0) != (so.tokens != NULL))
    return usage_error("serve", usage_serve,
                       "--listen and --tokens go together", NULL);
  if ((code = start(&opts, argv[i], &m, &b)) != 0) return code;
  wd_broker_restore_deploys(b);
  if (so.nlisten > 0 && wd_broker_serve(b, &so, err, sizeof err) < 0) {
    fprintf(stderr, "ward: %s\n", err);
    wd_broker_stop(b);
    wd_broker_run(b);
    wd_broker_free(b);
    wd_manifest_free(m);
    return 2;
  }
  wd_broker_stop_on_signals(b);
  wd_broker_start_services(b);
  wd_broker_run(b);
  wd_broker_free(b);
  wd_manifest_free(m);
  return 0;
}

/* }====== */

/* The ward command (cli/ward.c calls it with no hook). */
int wd__cli_main(int argc, char **argv, wd__cli_hook hook) {
  if (argc < 2) {
    fputs(usage_main, stderr);
    return 2;
  }
  if (strcmp(argv[1], "host") == 0 && argc == 3) wd_host_main(argv[2], 3);
  if (strcmp(argv[1], "compile") == 0 && argc == 2) wd__cmd_compile();
  if (strcmp(argv[1], "gateway") == 0 && argc == 3)
    wd_gateway_main(atoi(argv[2]));
  if (is_help(argv[1])) {
    fputs(usage_main, stdout);
    return 0;
  }
  if (strcmp(argv[1], "--version") == 0 || strcmp(argv[1], "version") == 0) {
    printf("ward %s\n", WD_VERSION);
    return 0;
  }
  if (strcmp(argv[1], "help") == 0) {
    if (argc > 2 && strcmp(argv[2], "run") == 0) fputs(usage_run, stdout);
    else if (argc > 2 && strcmp(argv[2], "test") == 0)
      fputs(usage_test, stdout);
    else if (argc > 2 && strcmp(argv[2], "serve") == 0)
      fputs(usage_serve, stdout);
    else if (argc > 2 && (strcmp(argv[2], "policy") == 0 ||
                          strcmp(argv[2], "audit") == 0)) {
      char help[] = "--help";
      char *hv[] = { help, NULL };
      return strcmp(argv[2], "policy") == 0 ? wd_cmd_policy(1, hv)
                                            : wd_cmd_audit(1, hv);
    }
    else fputs(usage_main, stdout);
    return 0;
  }
  if (strcmp(argv[1], "run") == 0) return cmd_run(argc - 2, argv + 2, hook);
  if (strcmp(argv[1], "test") == 0)
    return cmd_test(argc - 2, argv + 2, hook);
  if (strcmp(argv[1], "serve") == 0)
    return cmd_serve(argc - 2, argv + 2, hook);
  if (strcmp(argv[1], "policy") == 0) return wd_cmd_policy(argc - 2, argv + 2);
  if (strcmp(argv[1], "doctor") == 0) return wd_cmd_doctor(argc - 1, argv + 1);
  if (strcmp(argv[1], "audit") == 0) return wd_cmd_audit(argc - 2, argv + 2);
  if (strcmp(argv[1], "token") == 0) return wd__cmd_token(argc - 2, argv + 2);
  if (strcmp(argv[1], "ctl") == 0) return wd__cmd_ctl(argc - 2, argv + 2);
  if (strcmp(argv[1], "top") == 0) return wd__cmd_top(argc - 2, argv + 2);
  fprintf(stderr, "ward: unknown command '%s'\n%s", argv[1], usage_main);
  return 2;
}
