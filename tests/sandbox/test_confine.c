/*
** tests/sandbox/test_confine.c
** Each confinement layer, one forbidden call at a time: the test forks and
** execs ward_testhost (tests/sandbox/testhost.c), which confines itself
** with sandbox/confine.c and makes the call, and asserts the exact outcome:
** killed by SIGSYS (seccomp), or the errno of the layer that stops it when
** the layers below it are left out. Then a real ward host: confined before
** any Lua, and its death by SIGSYS reported by the broker.
** Never installs anything in this process (STYLE.md §10).
** Runs in: broker (test driver).
*/
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "ward/wd_confine.h"
#include "ward/wd_manifest.h"
#include "ward/wd_sandbox.h"

#include "../../sandbox/fork_int.h"

#ifndef WD_TESTHOST
#define WD_TESTHOST "./ward_testhost"
#endif
#ifndef WD_WARD
#define WD_WARD "./ward"
#endif
#ifndef WD_SANDBOX_APP
#define WD_SANDBOX_APP "tests/sandbox/app"
#endif

#define FULL NULL /* every layer */

/* {====== Running the test host ====== */

/* The number at the start of 's' (0 if none). */
static long num(const char *s) {
  return strtol(s, NULL, 10);
}

typedef struct run {
  int status;     /* as from waitpid */
  char out[2048]; /* its stdout, NUL-terminated */
  int pidns_err;  /* from wd__fork_host when asked for a pid namespace */
} run;

/* Run ward_testhost with the options in 'opt' (space-separated, or NULL),
** 'call' and 'arg' (may be NULL); with 'pidns', start it in a new pid
** namespace as the broker does. */
static void run_host(run *r, const char *opt, const char *call, const char *arg,
                     int pidns) {
  int fds[2];
  size_t n = 0;
  ssize_t k;
  pid_t pid;
  memset(r, 0, sizeof *r);
  assert_int_equal(pipe(fds), 0);
  pid = pidns ? wd__fork_host(&r->pidns_err) : fork();
  assert_true(pid >= 0);
  if (pid == 0) {
    char *argv[12], opts[256], *save = NULL, *t;
    int i = 0, dn = open("/dev/null", O_RDWR);
    argv[i++] = (char *)WD_TESTHOST;
    if (pidns && r->pidns_err == 0) argv[i++] = (char *)"--pidns";
    snprintf(opts, sizeof opts, "%s", opt != NULL ? opt : "");
    for (t = strtok_r(opts, " ", &save); t != NULL && i < 8;
         t = strtok_r(NULL, " ", &save))
      argv[i++] = t;
    argv[i++] = (char *)call;
    if (arg != NULL) argv[i++] = (char *)arg;
    argv[i] = NULL;
    dup2(fds[1], 1);
    if (getenv("WD_TEST_VERBOSE") == NULL) dup2(dn, 2);
    dup2(dn, 0);
    close(fds[0]);
    execv(WD_TESTHOST, argv);
    _exit(127);
  }
  close(fds[1]);
  while (n < sizeof r->out - 1 &&
         (k = read(fds[0], r->out + n, sizeof r->out - 1 - n)) > 0)
    n += (size_t)k;
  r->out[n] = '\0';
  close(fds[0]);
  assert_int_equal(waitpid(pid, &r->status, 0), pid);
}

/* Sanitizer builds load no seccomp filter (ASan needs other calls): the
** tests that expect SIGSYS are skipped there, visibly. */
static void need_seccomp(void) {
#ifdef WD_ASAN
  print_message("SKIPPED: no seccomp in a sanitizer build (WD_ASAN)\n");
  skip();
#endif
}

/* 'call' under 'opt' is killed by SIGSYS before it prints anything. */
static void expect_sigsys(const char *opt, const char *call, const char *arg) {
  run r;
  need_seccomp();
  run_host(&r, opt, call, arg, 0);
  if (!WIFSIGNALED(r.status) || WTERMSIG(r.status) != SIGSYS)
    fail_msg("%s %s: expected SIGSYS, got status 0x%x, output '%s'", call,
             arg ? arg : "", r.status, r.out);
  assert_string_equal(r.out, "");
}

/* 'call' under 'opt' returns and prints "call: want". */
static void expect_result(const char *opt, const char *call, const char *arg,
                          const char *want) {
  char line[128];
  run r;
  run_host(&r, opt, call, arg, 0);
  snprintf(line, sizeof line, "%s: %s\n", call, want);
  if (!WIFEXITED(r.status) || WEXITSTATUS(r.status) != 0)
    fail_msg("%s under %s: status 0x%x, output '%s'", call,
             opt ? opt : "all layers", r.status, r.out);
  assert_string_equal(r.out, line);
}

/* }====== */

/* {====== Fixtures: things to reach for ====== */

static char tmpdir[64];
static char upath[128];  /* a listening pathname unix socket */
static char aname[64];   /* a listening abstract unix socket */
static char tcpport[16]; /* a listening TCP port on 127.0.0.1 */
static char mypid[16];
static int ufd = -1, afd = -1, tfd = -1;

static int listen_unix(const char *name, int abstract) {
  struct sockaddr_un un;
  socklen_t len;
  int fd = socket(AF_UNIX, SOCK_STREAM, 0);
  if (fd < 0) return -1;
  memset(&un, 0, sizeof un);
  un.sun_family = AF_UNIX;
  memcpy(un.sun_path + (abstract ? 1 : 0), name, strlen(name));
  len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + strlen(name) +
                    (abstract ? 1 : 0));
  if (bind(fd, (struct sockaddr *)&un, len) != 0 || listen(fd, 4) != 0) {
    close(fd);
    return -1;
  }
  return fd;
}

static int setup(void **state) {
  struct sockaddr_in in;
  socklen_t len = sizeof in;
  (void)state;
  snprintf(tmpdir, sizeof tmpdir, "/tmp/wd_confine.XXXXXX");
  if (mkdtemp(tmpdir) == NULL) return -1;
  chmod(tmpdir, 0777); /* a host drops to nobody */
  snprintf(upath, sizeof upath, "%s/sock", tmpdir);
  snprintf(aname, sizeof aname, "wd_confine.%d", (int)getpid());
  snprintf(mypid, sizeof mypid, "%d", (int)getpid());
  ufd = listen_unix(upath, 0);
  chmod(upath, 0777);
  afd = listen_unix(aname, 1);
  tfd = socket(AF_INET, SOCK_STREAM, 0);
  memset(&in, 0, sizeof in);
  in.sin_family = AF_INET;
  in.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (ufd < 0 || afd < 0 || tfd < 0 ||
      bind(tfd, (struct sockaddr *)&in, sizeof in) != 0 || listen(tfd, 4) ||
      getsockname(tfd, (struct sockaddr *)&in, &len) != 0)
    return -1;
  snprintf(tcpport, sizeof tcpport, "%d", ntohs(in.sin_port));
  return 0;
}

static int teardown(void **state) {
  char p[160];
  (void)state;
  close(ufd);
  close(afd);
  close(tfd);
  unlink(upath);
  snprintf(p, sizeof p, "%s/out", tmpdir);
  unlink(p);
  rmdir(tmpdir);
  return 0;
}

/* }====== */

/* {====== All layers: seccomp kills every forbidden call ====== */

static void test_all_socket_is_killed_by_sigsys(void **state) {
  (void)state;
  expect_sigsys(FULL, "socket", NULL);
}

static void test_all_open_and_openat_are_killed_by_sigsys(void **state) {
  (void)state;
  expect_sigsys(FULL, "open", "/etc/passwd");
  expect_sigsys(FULL, "openat", "/etc/passwd");
}

static void test_all_write_to_path_is_killed_by_sigsys(void **state) {
  char p[160];
  (void)state;
  snprintf(p, sizeof p, "%s/out", tmpdir);
  expect_sigsys(FULL, "write-path", p);
  assert_int_equal(access(p, F_OK), -1);
}

static void test_all_execve_is_killed_by_sigsys(void **state) {
  (void)state;
  expect_sigsys(FULL, "execve", NULL);
}

static void test_all_fork_and_threads_are_killed_by_sigsys(void **state) {
  (void)state;
  expect_sigsys(FULL, "fork", NULL);
  /* pthread_create: clone3 answers ENOSYS, the clone fallback kills. */
  expect_sigsys(FULL, "thread", NULL);
}

static void test_all_ptrace_is_killed_by_sigsys(void **state) {
  (void)state;
  expect_sigsys(FULL, "ptrace", mypid);
}

static void test_all_kill_of_another_process_is_killed_by_sigsys(void **s) {
  (void)s;
  expect_sigsys(FULL, "kill", mypid);
  expect_sigsys(FULL, "tgkill-other", mypid);
}

static void test_all_exec_mappings_are_killed_by_sigsys(void **state) {
  (void)state;
  expect_sigsys(FULL, "mprotect-exec", NULL);
  expect_sigsys(FULL, "mmap-exec", NULL);
}

static void test_all_connect_is_killed_by_sigsys(void **state) {
  (void)state;
  expect_sigsys(FULL, "connect-unix", upath);
  expect_sigsys(FULL, "connect-abstract", aname);
  expect_sigsys(FULL, "connect-tcp", tcpport);
  expect_sigsys(FULL, "bind-tcp", NULL);
  expect_sigsys(FULL, "sendto-addr", upath);
}

static void test_all_argument_filters_kill_forbidden_arguments(void **s) {
  (void)s;
  expect_sigsys(FULL, "getrandom-random", NULL);
  expect_sigsys(FULL, "clock-other", NULL);
  expect_sigsys(FULL, "setitimer-real", NULL);
}

static void test_all_privilege_calls_are_killed_by_sigsys(void **state) {
  (void)state;
  expect_sigsys(FULL, "prctl", NULL);
  expect_sigsys(FULL, "unshare", NULL);
  expect_sigsys(FULL, "bpf", NULL);
  expect_sigsys(FULL, "dup", NULL);
}

static void test_all_clone3_and_io_uring_answer_enosys(void **state) {
  (void)state;
  need_seccomp();
  expect_result(FULL, "clone3", NULL, "ENOSYS");
  expect_result(FULL, "io_uring", NULL, "ENOSYS");
}

static void test_all_lua_and_stderr_still_work(void **state) {
  (void)state;
  expect_result(FULL, "lua", NULL, "ok");
  expect_result(FULL, "stderr", NULL, "ok");
}

static void test_all_abort_dies_by_sigabrt_not_sigsys(void **state) {
  run r;
  (void)state;
  run_host(&r, FULL, "abort", NULL, 0);
#ifdef WD_ASAN
  /* ASan reports the abort and exits non-zero itself. */
  assert_true(WIFSIGNALED(r.status) || WEXITSTATUS(r.status) != 0);
  return;
#endif
  assert_true(WIFSIGNALED(r.status));
  assert_int_equal(WTERMSIG(r.status), SIGABRT);
  /* As pid 1 of its namespace the host ignores its own SIGABRT; glibc's
  ** abort then faults on purpose: still dead, still not SIGSYS. */
  run_host(&r, FULL, "abort", NULL, 1);
  assert_true(WIFSIGNALED(r.status));
  assert_int_not_equal(WTERMSIG(r.status), SIGSYS);
}

static void test_all_layers_are_on_with_require(void **state) {
  run r;
  (void)state;
  run_host(&r, "--require", "report", NULL, 1);
  if (r.pidns_err != 0) {
    print_message("SKIPPED pid namespace: clone(CLONE_NEWPID): %s\n",
                  strerror(r.pidns_err));
    skip();
  }
#ifdef WD_ASAN
  /* A sanitizer build lacks seccomp and RLIMIT_AS: --require refuses. */
  assert_true(WIFEXITED(r.status) && WEXITSTATUS(r.status) == 3);
  assert_non_null(strstr(r.out, "unavailable"));
#else
  if (!WIFEXITED(r.status) || WEXITSTATUS(r.status) != 0)
    fail_msg("status 0x%x: %s", r.status, r.out);
  assert_string_equal(r.out,
                      "user-namespace=on\npid-namespace=on\nnet-namespace=on\n"
                      "ipc-namespace=on\nuts-namespace=on\n"
                      "mount-namespace=on\nrlimits=on\nno-new-privs=on\n"
                      "landlock=on\nseccomp=on\n");
#endif
}

static void test_require_fails_on_a_missing_layer(void **state) {
  run r;
  (void)state;
  /* Without --pidns the test host has no pid namespace: missing. */
  run_host(&r, "--require", "none", NULL, 0);
  assert_true(WIFEXITED(r.status));
  assert_int_equal(WEXITSTATUS(r.status), 3);
  assert_non_null(strstr(r.out, "pid-namespace unavailable"));
}

/* }====== */

/* {====== Landlock alone: EACCES / EPERM ====== */

#define LL "--only=landlock"

static void test_landlock_denies_files_with_eacces(void **state) {
  char p[160];
  (void)state;
  snprintf(p, sizeof p, "%s/out", tmpdir);
  expect_result(LL, "openat", "/etc/passwd", "EACCES");
  expect_result(LL, "open", "/etc/passwd", "EACCES");
  expect_result(LL, "write-path", p, "EACCES");
  expect_result(LL, "execve", NULL, "EACCES");
  assert_int_equal(access(p, F_OK), -1);
}

static void test_landlock_denies_tcp_with_eacces(void **state) {
  (void)state;
  expect_result(LL, "connect-tcp", tcpport, "EACCES");
  expect_result(LL, "bind-tcp", NULL, "EACCES");
}

static void test_landlock_scopes_signals_and_abstract_sockets(void **s) {
  run r;
  int abi;
  (void)s;
  /* Asked of the test host: this process may run under valgrind, which
  ** does not know the Landlock calls. */
  run_host(&r, LL, "abi", NULL, 0);
  abi = strncmp(r.out, "abi: ", 5) == 0 ? (int)num(r.out + 5) : 0;
  if (abi < 6) {
    print_message("SKIPPED: Landlock ABI %d < 6\n", abi);
    skip();
  }
  expect_result(LL, "kill", mypid, "EPERM");
  expect_result(LL, "connect-abstract", aname, "EPERM");
}

/* Landlock below ABI 9 does not cover pathname unix sockets, nor socket()
** itself: the mount namespace and seccomp do. */
static void test_landlock_alone_lets_pathname_unix_connect(void **state) {
  (void)state;
  expect_result(LL, "connect-unix", upath, "ok");
  expect_result(LL, "socket", NULL, "ok");
}

/* }====== */

/* {====== Namespaces alone ====== */

static void test_mount_namespace_has_an_empty_root(void **state) {
  (void)state;
  expect_result("--only=ns", "openat", "/etc/passwd", "ENOENT");
  expect_result("--only=ns", "connect-unix", upath, "ENOENT");
  expect_result("--only=ns", "execve", NULL, "ENOENT");
}

/* A socket made after confinement lives in the empty net namespace; one
** made before (as the link was) keeps the namespace it was made in. */
static void test_net_namespace_has_no_network(void **state) {
  (void)state;
  expect_result("--only=ns", "new-connect-tcp", tcpport, "ENETUNREACH");
  expect_result("--only=ns", "new-connect-abstract", aname, "ECONNREFUSED");
  expect_result("--only=ns", "connect-tcp", tcpport, "ok");
}

static void test_pid_namespace_hides_other_processes(void **state) {
  char want[32];
  run r;
  (void)state;
  run_host(&r, "--only=pid-namespace", "kill", mypid, 1);
  if (r.pidns_err != 0) {
    print_message("SKIPPED: clone(CLONE_NEWPID): %s\n", strerror(r.pidns_err));
    skip();
  }
  snprintf(want, sizeof want, "kill: ESRCH\n");
  assert_true(WIFEXITED(r.status) && WEXITSTATUS(r.status) == 0);
  assert_string_equal(r.out, want);
}

/* }====== */

/* {====== rlimits alone ====== */

static void test_rlimits_stop_fork_fds_files_and_memory(void **state) {
  char p[160];
  (void)state;
  snprintf(p, sizeof p, "%s/out", tmpdir);
  /* RLIMIT_NPROC 0 binds only a non-root uid: the user layer drops root. */
  expect_result("--only=user-namespace,rlimits", "fork", NULL, "EAGAIN");
  expect_result("--only=rlimits", "dup", NULL, "EMFILE");
  expect_result("--only=rlimits", "write-path", p, "EFBIG");
  unlink(p);
#ifndef WD_ASAN
  expect_result("--only=rlimits --as=67108864", "alloc-big", NULL, "ENOMEM");
#endif
}

/* }====== */

/* {====== The allow-list ====== */

static void test_allowlist_parses_and_every_name_resolves(void **state) {
  char err[256];
  int n;
  (void)state;
  n = wd_sbx_seccomp_check(err, sizeof err);
  if (n < 0) fail_msg("%s", err);
  assert_true(n >= 20 && n <= 60);
  /* Never on the list, whatever edits come. */
  assert_null(strstr(wd_sbx_seccomp_text(), "\nsocket"));
  assert_null(strstr(wd_sbx_seccomp_text(), "\nexecve"));
  assert_null(strstr(wd_sbx_seccomp_text(), "\nclone "));
  assert_null(strstr(wd_sbx_seccomp_text(), "\nopenat"));
}

static void test_params_round_trip(void **state) {
  wd_sbx_params a, b;
  uint8_t buf[WD_SBX_PARAMS_LEN];
  (void)state;
  a.address_space = 0x123456789abcdef0ull;
  a.cpu_seconds = 7;
  a.flags = WD_SBX_REQUIRE_ALL;
  a.pidns_err = -EPERM;
  wd_sbx_params_put(buf, &a);
  wd_sbx_params_get(buf, &b);
  assert_true(b.address_space == a.address_space);
  assert_true(b.cpu_seconds == 7);
  assert_int_equal(b.flags, WD_SBX_REQUIRE_ALL);
  assert_int_equal(b.pidns_err, -EPERM);
}

/* }====== */

/* {====== A real ward host ====== */

static int read_status(pid_t pid, const char *key, char *out, size_t n) {
  char path[64], line[256];
  FILE *f;
  int found = 0;
  snprintf(path, sizeof path, "/proc/%d/status", (int)pid);
  if ((f = fopen(path, "r")) == NULL) return 0;
  while (!found && fgets(line, sizeof line, f) != NULL)
    if (strncmp(line, key, strlen(key)) == 0 && line[strlen(key)] == ':') {
      snprintf(out, n, "%s",
               line + strlen(key) + 1 + strspn(line + strlen(key) + 1, " \t"));
      out[strcspn(out, "\n")] = '\0';
      found = 1;
    }
  fclose(f);
  return found;
}

/* Has host 'p' finished confining itself? With seccomp, its filter is the
** last step; without (ASan), its rlimits come after the namespaces. */
static int confined(pid_t p) {
#ifndef WD_ASAN
  char v[64];
  return read_status(p, "Seccomp", v, sizeof v) && strcmp(v, "2") == 0;
#else
  char path[64], line[256];
  FILE *f;
  int done = 0;
  snprintf(path, sizeof path, "/proc/%d/limits", (int)p);
  if ((f = fopen(path, "r")) == NULL) return 0;
  while (fgets(line, sizeof line, f) != NULL)
    if (strncmp(line, "Max processes", 13) == 0)
      done = num(line + strspn(line, "Max processes ")) == 0;
  fclose(f);
  return done;
#endif
}

/* The first child of 'parent' to be confined within 'ms'. */
static pid_t find_child(pid_t parent, int ms) {
  int t;
  for (t = 0; t < ms; t += 10) {
    DIR *d = opendir("/proc");
    struct dirent *e;
    pid_t found = 0;
    char v[64];
    while (d != NULL && (e = readdir(d)) != NULL && found == 0) {
      pid_t p = (pid_t)num(e->d_name);
      if (p > 0 && read_status(p, "PPid", v, sizeof v) &&
          num(v) == (long)parent && confined(p))
        found = p;
    }
    if (d != NULL) closedir(d);
    if (found) return found;
    usleep(10000);
  }
  return 0;
}

static void test_real_host_is_confined_before_lua_runs(void **state) {
  char v[64], a[64], b[64], path[64];
  pid_t ward, host;
  int st, n = 0, fds[2];
  DIR *d;
  struct dirent *e;
  char out[64];
  ssize_t k;
  (void)state;
  assert_int_equal(pipe(fds), 0);
  ward = fork();
  assert_true(ward >= 0);
  if (ward == 0) {
    dup2(fds[1], 1);
    close(fds[0]);
    execl(WD_WARD, "ward", "run", "--host", "sbx:h", WD_SANDBOX_APP, "sbx:wait",
          "1500ms", (char *)NULL);
    _exit(127);
  }
  close(fds[1]);
  host = find_child(ward, 1000);
  assert_true(host > 0);
  /* Seccomp 2 was part of finding it. */
  assert_true(read_status(host, "NoNewPrivs", v, sizeof v));
  assert_string_equal(v, "1");
#ifndef WD_ASAN
  assert_true(read_status(host, "Seccomp_filters", v, sizeof v));
  assert_string_equal(v, "1");
#endif
  if (geteuid() == 0) {
    assert_true(read_status(host, "Uid", v, sizeof v));
    assert_int_equal(num(v), 65534);
    /* NSpid: its pid here, then 1 in its own pid namespace. */
    assert_true(read_status(host, "NSpid", v, sizeof v));
    assert_string_equal(strchr(v, '\t') ? strchr(v, '\t') + 1 : "", "1");
  }
  snprintf(path, sizeof path, "/proc/%d/ns/net", (int)host);
  memset(a, 0, sizeof a);
  memset(b, 0, sizeof b);
  assert_true(readlink(path, a, sizeof a - 1) > 0);
  assert_true(readlink("/proc/self/ns/net", b, sizeof b - 1) > 0);
  assert_string_not_equal(a, b);
  /* Its root is an empty directory. */
  snprintf(path, sizeof path, "/proc/%d/root", (int)host);
  if ((d = opendir(path)) != NULL) {
    while ((e = readdir(d)) != NULL)
      if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0) n++;
    closedir(d);
    assert_int_equal(n, 0);
  }
  k = read(fds[0], out, sizeof out - 1);
  out[k > 0 ? k : 0] = '\0';
  close(fds[0]);
  assert_int_equal(waitpid(ward, &st, 0), ward);
  assert_true(WIFEXITED(st));
  assert_int_equal(WEXITSTATUS(st), 0);
  assert_string_equal(out, "true\n");
}

typedef struct rootres {
  int done, ok;
  char text[300];
} rootres;

static void root_done(wd_broker *b, void *ud, int ok, int is_false,
                      const char *text) {
  rootres *r = ud;
  (void)is_false;
  r->done = 1;
  r->ok = ok;
  snprintf(r->text, sizeof r->text, "%s", text);
  wd_broker_stop(b);
}

static void give_up(wd_broker *b, void *ud, int fired) {
  (void)ud;
  if (fired) wd_broker_stop(b);
}

/* A host that makes a forbidden call is killed by SIGSYS, and the broker
** says so to whoever waits on it. */
static void test_broker_reports_a_host_killed_by_sigsys(void **state) {
  wd_manifest *m = NULL;
  wd_broker_opts o;
  wd_broker *b = NULL;
  rootres res;
  char err[256];
  (void)state;
  need_seccomp();
  if (wd_manifest_load_dir(WD_SANDBOX_APP, &m, err, sizeof err) < 0)
    fail_msg("%s", err);
  memset(&o, 0, sizeof o);
  o.exe = WD_TESTHOST;
  if (wd_broker_new(m, &o, &b, err, sizeof err) < 0) fail_msg("%s", err);
  memset(&res, 0, sizeof res);
  if (wd_broker_spawn_root(b, "sbx:wait", "sbx:sigsys", NULL, 0, root_done,
                           &res, err, sizeof err) < 0)
    fail_msg("%s", err);
  wd_broker_after(b, 5000, give_up, NULL);
  wd_broker_run(b);
  wd_broker_free(b);
  wd_manifest_free(m);
  assert_true(res.done);
  assert_false(res.ok);
  if (strstr(res.text, "signal 31") == NULL)
    fail_msg("broker said: %s", res.text);
}

/* }====== */

int main(void) {
  const struct CMUnitTest tests[] = {
#define T(f) cmocka_unit_test(f)
    T(test_allowlist_parses_and_every_name_resolves),
    T(test_params_round_trip),
    T(test_all_socket_is_killed_by_sigsys),
    T(test_all_open_and_openat_are_killed_by_sigsys),
    T(test_all_write_to_path_is_killed_by_sigsys),
    T(test_all_execve_is_killed_by_sigsys),
    T(test_all_fork_and_threads_are_killed_by_sigsys),
    T(test_all_ptrace_is_killed_by_sigsys),
    T(test_all_kill_of_another_process_is_killed_by_sigsys),
    T(test_all_exec_mappings_are_killed_by_sigsys),
    T(test_all_connect_is_killed_by_sigsys),
    T(test_all_argument_filters_kill_forbidden_arguments),
    T(test_all_privilege_calls_are_killed_by_sigsys),
    T(test_all_clone3_and_io_uring_answer_enosys),
    T(test_all_lua_and_stderr_still_work),
    T(test_all_abort_dies_by_sigabrt_not_sigsys),
    T(test_all_layers_are_on_with_require),
    T(test_require_fails_on_a_missing_layer),
    T(test_landlock_denies_files_with_eacces),
    T(test_landlock_denies_tcp_with_eacces),
    T(test_landlock_scopes_signals_and_abstract_sockets),
    T(test_landlock_alone_lets_pathname_unix_connect),
    T(test_mount_namespace_has_an_empty_root),
    T(test_net_namespace_has_no_network),
    T(test_pid_namespace_hides_other_processes),
    T(test_rlimits_stop_fork_fds_files_and_memory),
    T(test_real_host_is_confined_before_lua_runs),
    T(test_broker_reports_a_host_killed_by_sigsys),
#undef T
  };
  return cmocka_run_group_tests(tests, setup, teardown);
}
