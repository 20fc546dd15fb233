/*
** tests/sandbox/testhost.c
** A host for tests only (built as 'ward_testhost', never installed). It
** confines itself with the very code the ward host uses (sandbox/confine.c)
** and then makes ONE call on command, so that a test can watch what each
** layer does to it:
**   ward_testhost [--skip=L,..|--only=L,..] [--pidns] [--require]
**                 [--as=BYTES] CALL [ARG]
** prints "CALL: ok" or "CALL: ENAME" on stdout and exits 0, unless a layer
** kills it first. CALL "report" prints each layer's state, "abi" the
** Landlock ABI it applied. L is a layer name of wd_sbx_layer_name() or
** "ns" (all namespaces); --pidns says the caller started it with
** wd__fork_host (else the pid namespace is missing).
** Two more modes:
**   ward_testhost host ID    a real ward host (the broker execs this); a
**                            host whose id ends in ":sigsys" opens a socket
**                            300 ms after confinement.
**   ward_testhost bench N    time fork to first Lua instruction, N times
**                            unconfined and N times confined.
** Runs in: host (a test stand-in).
*/
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/ptrace.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <uv.h>

#include "lauxlib.h"
#include "lua.h"
#include "lualib.h"

#include "ward/wd_confine.h"
#include "ward/wd_sandbox.h"

#include "../../sandbox/fork_int.h"
#include "../../sandbox/hostmain_int.h"

/* An fd made before confinement, for the calls that need one (as native
** code that escaped Lua would find the link). */
static int pre_fd = -1;
static clockid_t other_clock;

static const char *ename(int e) {
  static char buf[32];
  switch (e) {
#define E(x)                                                                   \
  case x:                                                                      \
    return #x;
    E(EPERM)
    E(EACCES)
    E(ENOENT)
    E(ENOSYS) E(EAGAIN) E(EMFILE) E(ENOMEM) E(ESRCH) E(ECONNREFUSED)
        E(ENETUNREACH) E(EINVAL) E(EFBIG) E(EROFS) E(EADDRNOTAVAIL) E(EBADF)
#undef E
            default : snprintf(buf, sizeof buf, "E%d", e);
    return buf;
  }
}

/* Print to stdout without stdio: a first printf would fstat() the stream,
** a call the seccomp filter does not allow. */
static void say(const char *line) {
  size_t n = strlen(line);
  if (write(1, line, n) != (ssize_t)n) _exit(1);
}

/* A decimal number, or 'def' for NULL or garbage. */
static long num(const char *s, long def) {
  char *end;
  long v;
  if (s == NULL) return def;
  errno = 0;
  v = strtol(s, &end, 10);
  return errno != 0 || end == s || *end != '\0' ? def : v;
}

/* {====== Forbidden (and allowed) calls ====== */

static void *thread_fn(void *ud) {
  return ud;
}

static int sock_addr(const char *call, const char *arg, struct sockaddr_un *un,
                     struct sockaddr_in *in, struct sockaddr **sa,
                     socklen_t *len) {
  memset(un, 0, sizeof *un);
  memset(in, 0, sizeof *in);
  if (strcmp(call, "connect-tcp") == 0 || strcmp(call, "bind-tcp") == 0) {
    in->sin_family = AF_INET;
    in->sin_port = htons((uint16_t)num(arg, 9));
    in->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    *sa = (struct sockaddr *)in;
    *len = sizeof *in;
    return 0;
  }
  if (arg == NULL || strlen(arg) + 2 > sizeof un->sun_path) return -1;
  un->sun_family = AF_UNIX;
  if (strcmp(call, "connect-abstract") == 0)
    memcpy(un->sun_path + 1, arg, strlen(arg)); /* sun_path[0] = '\0' */
  else
    memcpy(un->sun_path, arg, strlen(arg));
  *sa = (struct sockaddr *)un;
  *len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + strlen(arg) +
                     (un->sun_path[0] == '\0' ? 1 : 0));
  return 0;
}

#define NOT_MINE (-2L) /* a call_* function does not know this call */

/* Files and programs. */
static long call_fs(const char *call, const char *arg) {
  const char *path = arg != NULL ? arg : "/etc/passwd";
  long r;
  if (strcmp(call, "open") == 0) return syscall(SYS_open, path, O_RDONLY);
  if (strcmp(call, "openat") == 0)
    return syscall(SYS_openat, AT_FDCWD, path, O_RDONLY);
  if (strcmp(call, "write-path") == 0) {
    r = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    if (r >= 0 && write((int)r, "x", 1) != 1) r = -1;
    return r;
  }
  if (strcmp(call, "execve") == 0) {
    char *argv[] = { (char *)"true", NULL };
    return execve("/bin/true", argv, argv + 1);
  }
  return NOT_MINE;
}

/* Processes, threads, signals, privileges. */
static long call_proc(const char *call, const char *arg) {
  pid_t other = (pid_t)num(arg, 1);
  long r;
  if (strcmp(call, "fork") == 0) {
    if ((r = fork()) == 0) _exit(0);
    return r;
  }
  if (strcmp(call, "thread") == 0) {
    pthread_t t;
    int e = pthread_create(&t, NULL, thread_fn, NULL);
    errno = e;
    return e != 0 ? -1 : 0;
  }
  if (strcmp(call, "clone3") == 0) {
    uint64_t args[11];
    memset(args, 0, sizeof args);
    if ((r = syscall(SYS_clone3, args, sizeof args)) == 0) _exit(0);
    return r;
  }
  if (strcmp(call, "io_uring") == 0) {
    uint8_t params[120];
    memset(params, 0, sizeof params);
    return syscall(SYS_io_uring_setup, 1, params);
  }
  if (strcmp(call, "ptrace") == 0)
    return ptrace(PTRACE_ATTACH, other, NULL, NULL);
  if (strcmp(call, "kill") == 0) return kill(other, 0);
  if (strcmp(call, "tgkill-other") == 0)
    return syscall(SYS_tgkill, other, other, 0);
  if (strcmp(call, "prctl") == 0) return prctl(PR_SET_DUMPABLE, 1);
  if (strcmp(call, "unshare") == 0) return unshare(CLONE_NEWUSER);
  if (strcmp(call, "bpf") == 0) return syscall(SYS_bpf, 0, NULL, 0);
  if (strcmp(call, "abort") == 0) abort();
  return NOT_MINE;
}

/* Memory and fds. */
static long call_mem(const char *call) {
  void *p;
  long r = 0;
  int k;
  if (strcmp(call, "mprotect-exec") == 0) {
    p = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
             -1, 0);
    return p == MAP_FAILED ? -1 : mprotect(p, 4096, PROT_READ | PROT_EXEC);
  }
  if (strcmp(call, "mmap-exec") == 0) {
    p = mmap(NULL, 4096, PROT_READ | PROT_EXEC, MAP_PRIVATE | MAP_ANONYMOUS, -1,
             0);
    return p == MAP_FAILED ? -1 : 0;
  }
  if (strcmp(call, "alloc-big") == 0) {
    /* Past a 64 MiB RLIMIT_AS, within any sane default. */
    p = mmap(NULL, 256u << 20, PROT_READ | PROT_WRITE,
             MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    return p == MAP_FAILED ? -1 : 0;
  }
  if (strcmp(call, "dup") == 0) {
    for (k = 0; k < 1024 && r >= 0; k++)
      r = dup(2);
    return r;
  }
  return NOT_MINE;
}

/* Sockets: 'pre_fd' was made before confinement, "new-*" makes its own. */
static long call_net(const char *call, const char *arg) {
  struct sockaddr_un un;
  struct sockaddr_in in;
  struct sockaddr *sa;
  socklen_t len;
  if (strcmp(call, "socket") == 0) return socket(AF_INET, SOCK_STREAM, 0);
  if (strncmp(call, "new-connect-", 12) == 0) {
    call += 4;
    if (sock_addr(call, arg, &un, &in, &sa, &len) < 0) return NOT_MINE;
    if ((pre_fd = socket(sa->sa_family, SOCK_STREAM, 0)) < 0) return -1;
    return connect(pre_fd, sa, len);
  }
  if (strncmp(call, "connect-", 8) == 0) {
    if (sock_addr(call, arg, &un, &in, &sa, &len) < 0) return NOT_MINE;
    return connect(pre_fd, sa, len);
  }
  if (strcmp(call, "bind-tcp") == 0) {
    if (sock_addr(call, "0", &un, &in, &sa, &len) < 0) return NOT_MINE;
    return bind(pre_fd, sa, len);
  }
  if (strcmp(call, "sendto-addr") == 0) {
    if (sock_addr(call, arg, &un, &in, &sa, &len) < 0) return NOT_MINE;
    return sendto(pre_fd, "x", 1, 0, sa, len);
  }
  return NOT_MINE;
}

/* Calls whose arguments the filter checks, and what a host does anyway. */
static long call_misc(const char *call) {
  struct timespec ts;
  struct itimerval it;
  char b[8];
  if (strcmp(call, "getrandom-random") == 0)
    return getrandom(b, sizeof b, GRND_RANDOM | GRND_NONBLOCK);
  if (strcmp(call, "clock-other") == 0) return clock_gettime(other_clock, &ts);
  if (strcmp(call, "setitimer-real") == 0) {
    memset(&it, 0, sizeof it);
    return setitimer(ITIMER_REAL, &it, NULL);
  }
  if (strcmp(call, "stderr") == 0)
    return fprintf(stderr, "ward_testhost: stderr still works\n") > 0 ? 0 : -1;
  if (strcmp(call, "lua") == 0) {
    /* What a host does all day: allocate, compute, format time, collect. */
    lua_State *L = luaL_newstate();
    int r;
    if (L == NULL) return NOT_MINE;
    luaL_openlibs(L);
    r = luaL_dostring(L, "local t = {} for i = 1, 100000 do t[i] = i * 2 end\n"
                         "local s = string.rep('x', 16 << 20)\n"
                         "assert(#s == 16 << 20 and t[100000] == 200000)\n"
                         "assert(os.date('!%Y', 0) == '1970')\n"
                         "assert(os.time() > 0 and os.clock() >= 0)\n"
                         "collectgarbage()\n");
    if (r != 0) fprintf(stderr, "lua: %s\n", lua_tostring(L, -1));
    lua_close(L);
    return r != 0 ? NOT_MINE : 0;
  }
  return NOT_MINE;
}

/* Make the call 'call'; return 0 or the errno it failed with (EINVAL for
** an unknown call or a broken test). */
static int do_call(const char *call, const char *arg) {
  long r;
  if (strcmp(call, "none") == 0) return 0;
  if ((r = call_fs(call, arg)) == NOT_MINE &&
      (r = call_proc(call, arg)) == NOT_MINE &&
      (r = call_mem(call)) == NOT_MINE &&
      (r = call_net(call, arg)) == NOT_MINE &&
      (r = call_misc(call)) == NOT_MINE)
    return EINVAL;
  return r < 0 ? errno : 0;
}

/* }====== */

/* {====== Options ====== */

static unsigned layer_bits(const char *list) {
  unsigned bits = 0;
  char buf[256], *save = NULL, *t;
  int l;
  snprintf(buf, sizeof buf, "%s", list);
  for (t = strtok_r(buf, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
    if (strcmp(t, "ns") == 0) {
      bits |= 1u << WD_SBX_USER | 1u << WD_SBX_PID | 1u << WD_SBX_NET |
              1u << WD_SBX_IPC | 1u << WD_SBX_UTS | 1u << WD_SBX_MOUNT;
      continue;
    }
    for (l = 0; l < WD_SBX_NLAYERS; l++)
      if (strcmp(t, wd_sbx_layer_name(l)) == 0) bits |= 1u << l;
  }
  return bits;
}

static void make_pre_fd(const char *call) {
  if (strcmp(call, "connect-tcp") == 0 || strcmp(call, "bind-tcp") == 0)
    pre_fd = socket(AF_INET, SOCK_STREAM, 0);
  else if (strcmp(call, "connect-unix") == 0 ||
           strcmp(call, "connect-abstract") == 0)
    pre_fd = socket(AF_UNIX, SOCK_STREAM, 0);
  else if (strcmp(call, "sendto-addr") == 0)
    pre_fd = socket(AF_UNIX, SOCK_DGRAM, 0);
  else if (strcmp(call, "clock-other") == 0 &&
           clock_getcpuclockid(getppid(), &other_clock) != 0)
    other_clock = CLOCK_MONOTONIC;
}

static uint64_t now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* }====== */

/* {====== ward host mode ====== */

static void on_sabotage(uv_timer_t *t) {
  (void)t;
  (void)socket(AF_INET, SOCK_STREAM, 0);
}

/* A host whose id ends in ":sigsys" opens a socket 300 ms into its run,
** as native code that escaped Lua might (by then it serves a process and
** has read everything the broker sent). */
static void sabotage(const char *id, void *loop) {
  static uv_timer_t t;
  size_t n = strlen(id);
  if (n < 7 || strcmp(id + n - 7, ":sigsys") != 0) return;
  uv_timer_init(loop, &t);
  uv_timer_start(&t, on_sabotage, 300, 0);
}

/* }====== */

/* {====== bench mode ====== */

static int by_u64(const void *a, const void *b) {
  uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
  return x < y ? -1 : x > y;
}

/* Start 'self' N times in 'mode' and print the median, min and 90th
** percentile of fork -> first Lua instruction, and of wd_sbx_confine. */
static int bench_mode(const char *self, int n, int confined) {
  uint64_t *start = calloc((size_t)n, sizeof *start);
  uint64_t *conf = calloc((size_t)n, sizeof *conf);
  int i, got = 0, mid, p90;
  if (start == NULL || conf == NULL) {
    free(start);
    free(conf);
    return 1;
  }
  for (i = 0; i < n; i++) {
    uint64_t t0, t[3];
    int fds[2], st, pidns_err = 0;
    pid_t pid;
    if (pipe(fds) != 0) break;
    t0 = now_ns();
    pid = confined ? wd__fork_host(&pidns_err) : fork();
    if (pid == 0) {
      char *argv[5];
      argv[0] = (char *)self;
      argv[1] =
          (char *)(confined ? (pidns_err ? "--skip=pid-namespace" : "--pidns")
                            : "--only=no-new-privs");
      argv[2] = (char *)"--bench-child";
      argv[3] = NULL;
      dup2(fds[1], 1);
      execv(self, argv);
      _exit(127);
    }
    close(fds[1]);
    if (read(fds[0], t, sizeof t) == (ssize_t)sizeof t) {
      start[got] = t[2] - t0;
      conf[got++] = t[1] - t[0];
    }
    close(fds[0]);
    waitpid(pid, &st, 0);
  }
  qsort(start, (size_t)got, sizeof *start, by_u64);
  qsort(conf, (size_t)got, sizeof *conf, by_u64);
  mid = got / 2;
  p90 = got * 9 / 10;
  if (got > 0)
    printf("%-10s n=%d  fork->first Lua: median %7.3f ms  min %7.3f  p90 "
           "%7.3f   of which wd_sbx_confine: median %7.3f ms\n",
           confined ? "confined" : "unconfined", got, (double)start[mid] / 1e6,
           (double)start[0] / 1e6, (double)start[p90] / 1e6,
           (double)conf[mid] / 1e6);
  free(start);
  free(conf);
  return got == n ? 0 : 1;
}

/* }====== */

int main(int argc, char **argv) {
  wd_sbx_opts o;
  wd_sbx_report rep;
  char err[256], line[320];
  const char *call, *arg;
  int i, e, bench_child = 0;
  uint64_t t[3];
  if (argc == 3 && strcmp(argv[1], "host") == 0) {
    wd__sbx_confined_hook = sabotage;
    wd_host_main(argv[2], 3);
  }
  if (argc == 3 && strcmp(argv[1], "bench") == 0)
    return bench_mode(argv[0], (int)num(argv[2], 100), 0) |
           bench_mode(argv[0], (int)num(argv[2], 100), 1);
  memset(&o, 0, sizeof o);
  o.id = "testhost";
  /* Not started by wd__fork_host unless --pidns says so. */
  o.p.pidns_err = ENOTSUP;
  for (i = 1; i < argc && strncmp(argv[i], "--", 2) == 0; i++) {
    if (strncmp(argv[i], "--skip=", 7) == 0)
      o.skip |= layer_bits(argv[i] + 7);
    else if (strncmp(argv[i], "--only=", 7) == 0)
      o.skip |= ~layer_bits(argv[i] + 7) & ((1u << WD_SBX_NLAYERS) - 1);
    else if (strcmp(argv[i], "--pidns") == 0)
      o.p.pidns_err = 0;
    else if (strcmp(argv[i], "--require") == 0)
      o.p.flags |= WD_SBX_REQUIRE_ALL;
    else if (strncmp(argv[i], "--as=", 5) == 0)
      o.p.address_space = strtoull(argv[i] + 5, NULL, 0);
    else if (strcmp(argv[i], "--bench-child") == 0)
      bench_child = 1;
    else
      return 2;
  }
  call = i < argc ? argv[i] : "none";
  arg = i + 1 < argc ? argv[i + 1] : NULL;
  make_pre_fd(call);
  if (bench_child) {
    /* What a host does before its loop, minus the link: then the first
    ** Lua instruction. */
    lua_State *L;
    t[0] = now_ns();
    if (wd_sbx_confine(&o, &rep, err, sizeof err) < 0) _exit(3);
    t[1] = now_ns();
    L = luaL_newstate();
    if (L == NULL || luaL_dostring(L, "return 1") != 0) _exit(4);
    t[2] = now_ns();
    lua_close(L);
    _exit(write(1, t, sizeof t) == (ssize_t)sizeof t ? 0 : 5);
  }
  /* From here on, leave with _exit as the ward host does: exit handlers
  ** (LeakSanitizer's among them) need calls the sandbox refuses. */
  if (wd_sbx_confine(&o, &rep, err, sizeof err) < 0) {
    snprintf(line, sizeof line, "confine: %s\n", err);
    say(line);
    _exit(3);
  }
  if (strcmp(call, "report") == 0) {
    for (i = 0; i < WD_SBX_NLAYERS; i++) {
      snprintf(line, sizeof line, "%s=%s\n", wd_sbx_layer_name(i),
               rep.state[i] == WD_SBX_ON        ? "on"
               : rep.state[i] == WD_SBX_SKIPPED ? "skipped"
                                                : "missing");
      say(line);
    }
    _exit(0);
  }
  if (strcmp(call, "abi") == 0) {
    snprintf(line, sizeof line, "abi: %d\n", rep.landlock_abi);
    say(line);
    _exit(0);
  }
  e = do_call(call, arg);
  snprintf(line, sizeof line, "%s: %s\n", call, e == 0 ? "ok" : ename(e));
  say(line);
  _exit(0);
}
