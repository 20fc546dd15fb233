/*
** sandbox/confine.c
** Confinement of a host process, layer by layer, in the order of
** ARCHITECTURE.md §1: namespaces -> rlimits -> prctl -> Landlock ->
** seccomp. Each step is fatal when it fails; a layer the kernel does not
** give is reported (and fatal under --require-sandbox=all), never skipped
** in silence.
** Runs in: host (pre-sandbox); wd_sbx_layer_name, wd_sbx_landlock_abi
** and wd_sbx_seccomp_check also in the ward command ('ward doctor'). (The
** parameters the broker hands over are sandbox/params.c's.)
*/
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <linux/landlock.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/random.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include <seccomp.h>

#include "ward/wd_common.h"
#include "ward/wd_confine.h"

/* Generated at configure time from policies/seccomp/host.allow. */
#include "wd_seccomp_gateway.h"
#include "wd_seccomp_host.h"

/* The uid and gid a host started as root runs as. */
#define NOBODY 65534

/* {====== Landlock constants the installed headers (ABI 2) lack ====== */

#ifndef LANDLOCK_ACCESS_FS_TRUNCATE
#define LANDLOCK_ACCESS_FS_TRUNCATE (1ULL << 14) /* ABI 3 */
#endif
#ifndef LANDLOCK_ACCESS_FS_IOCTL_DEV
#define LANDLOCK_ACCESS_FS_IOCTL_DEV (1ULL << 15) /* ABI 5 */
#endif
#ifndef LANDLOCK_ACCESS_NET_BIND_TCP
#define LANDLOCK_ACCESS_NET_BIND_TCP    (1ULL << 0) /* ABI 4 */
#define LANDLOCK_ACCESS_NET_CONNECT_TCP (1ULL << 1)
#endif
#ifndef LANDLOCK_SCOPE_ABSTRACT_UNIX_SOCKET
#define LANDLOCK_SCOPE_ABSTRACT_UNIX_SOCKET (1ULL << 0) /* ABI 6 */
#define LANDLOCK_SCOPE_SIGNAL               (1ULL << 1)
#endif

/* struct landlock_ruleset_attr as of ABI 6; older kernels take a prefix
** of it ('size' says how much). */
typedef struct ll_attr {
  uint64_t handled_access_fs;
  uint64_t handled_access_net; /* ABI 4 */
  uint64_t scoped;             /* ABI 6 */
} ll_attr;

/* Every filesystem right the kernel of 'abi' knows. ABI 1 rights are bits
** 0..12. XXX: ABI 9 adds LANDLOCK_ACCESS_FS_RESOLVE_UNIX (pathname unix
** sockets); until it is defined here, the empty mount root covers them. */
static uint64_t ll_fs_rights(int abi) {
  uint64_t r = (LANDLOCK_ACCESS_FS_MAKE_SYM << 1) - 1;
  if (abi >= 2) r |= LANDLOCK_ACCESS_FS_REFER;
  if (abi >= 3) r |= LANDLOCK_ACCESS_FS_TRUNCATE;
  if (abi >= 5) r |= LANDLOCK_ACCESS_FS_IOCTL_DEV;
  return r;
}

/* }====== */

/* {====== Reporting ====== */

typedef struct ctx {
  const wd_sbx_opts *o;
  wd_sbx_report *rep;
  char *err;
  size_t errlen;
} ctx;

static const char *const layer_names[] = {
#define XX(name, str) str,
  WD_SBX_LAYER_MAP(XX)
#undef XX
};

const char *wd_sbx_layer_name(int layer) {
  if (layer < 0 || layer >= WD_SBX_NLAYERS) return "?";
  return layer_names[layer];
}

static int fail(ctx *c, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static int fail(ctx *c, int code, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(c->err, c->errlen, fmt, ap);
  va_end(ap);
  return code;
}

/* Layer 'l' is missing for the reason 'fmt': report it, and fail when
** every layer is required. */
static int missing(ctx *c, int l, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static int missing(ctx *c, int l, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(c->rep->why[l], sizeof c->rep->why[l], fmt, ap);
  va_end(ap);
  c->rep->state[l] = WD_SBX_MISSING;
  if (!c->o->quiet)
    fprintf(stderr, "ward host %s: sandbox layer %s unavailable: %s\n",
            c->o->id, layer_names[l], c->rep->why[l]);
  if (c->o->p.flags & WD_SBX_REQUIRE_ALL)
    return fail(c, WD_EUNAVAIL,
                "sandbox layer %s unavailable: %s (--require-sandbox=all)",
                layer_names[l], c->rep->why[l]);
  return 0;
}

/* Is layer 'l' to be skipped (test hosts)? 1 or 0; a negative code when
** every layer is required. Records it. */
static int skipped(ctx *c, int l) {
  if (!(c->o->skip & (1u << l))) return 0;
  c->rep->state[l] = WD_SBX_SKIPPED;
  snprintf(c->rep->why[l], sizeof c->rep->why[l], "skipped (test host)");
  if (c->o->p.flags & WD_SBX_REQUIRE_ALL) {
    return fail(c, WD_EUNAVAIL,
                "sandbox layer %s skipped (--require-sandbox=all)",
                layer_names[l]);
  }
  return 1;
}

/* }====== */

/* {====== Namespaces ====== */

/* A host started as root runs as nobody: then RLIMIT_NPROC binds (the
** kernel exempts uid 0) and an escape from every layer is not root. */
static int drop_root(ctx *c) {
  gid_t g = NOBODY;
  if (geteuid() != 0) return 0;
  if (setgroups(1, &g) != 0 || setresgid(NOBODY, NOBODY, NOBODY) != 0 ||
      setresuid(NOBODY, NOBODY, NOBODY) != 0)
    return fail(c, -errno, "cannot drop root: %s", strerror(errno));
  if (geteuid() != NOBODY || getegid() != NOBODY)
    return fail(c, WD_EINTERNAL, "cannot drop root");
  /* A change of credentials clears the parent-death signal. */
  if (prctl(PR_SET_PDEATHSIG, SIGKILL) != 0)
    return fail(c, -errno, "PR_SET_PDEATHSIG: %s", strerror(errno));
  return 0;
}

/*
** Give the mount namespace an empty, read-only tmpfs as its root (the
** bubblewrap way: pivot_root(".", ".") then detach the old root), so no
** path the host could name exists: this also covers pathname unix sockets,
** which Landlock below ABI 9 does not.
*/
static int empty_root(ctx *c) {
  static const char *const dirs[] = { "/tmp", "/mnt", "/proc", "/dev" };
  const char *dir = NULL;
  struct stat st;
  size_t i;
  if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) != 0)
    return fail(c, -errno, "mount namespace: make / private: %s",
                strerror(errno));
  for (i = 0; i < WD_COUNTOF(dirs) && dir == NULL; i++)
    if (stat(dirs[i], &st) == 0 && S_ISDIR(st.st_mode)) dir = dirs[i];
  if (dir == NULL)
    return fail(c, WD_EINTERNAL, "mount namespace: no mount point");
  if (mount("ward", dir, "tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC,
            "size=4k,nr_inodes=2,mode=0500") != 0)
    return fail(c, -errno, "mount namespace: tmpfs: %s", strerror(errno));
  if (chdir(dir) != 0 || syscall(SYS_pivot_root, ".", ".") != 0 ||
      umount2(".", MNT_DETACH) != 0 || chdir("/") != 0)
    return fail(c, -errno, "mount namespace: pivot_root: %s", strerror(errno));
  if (mount(NULL, "/", NULL,
            MS_REMOUNT | MS_BIND | MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC,
            NULL) != 0)
    return fail(c, -errno, "mount namespace: read-only root: %s",
                strerror(errno));
  return 0;
}

static int step_namespaces(ctx *c) {
  static const struct {
    int layer, flag;
  } ns[] = {
    { WD_SBX_NET, CLONE_NEWNET },
    { WD_SBX_IPC, CLONE_NEWIPC },
    { WD_SBX_UTS, CLONE_NEWUTS },
    { WD_SBX_MOUNT, CLONE_NEWNS },
  };
  size_t i;
  int r, k;
  /* The pid namespace is made by the broker (a process cannot move itself
  ** into one): here we only check that we are its first process. */
  if ((k = skipped(c, WD_SBX_PID)) < 0) return k;
  if (!k) {
    if (c->o->p.pidns_err != 0) {
      if ((r = missing(c, WD_SBX_PID, "the broker could not clone it: %s",
                       strerror(c->o->p.pidns_err))) < 0)
        return r;
    } else if (getpid() != 1) {
      return fail(c, WD_EINTERNAL, "pid namespace: not its first process");
    } else {
      c->rep->state[WD_SBX_PID] = WD_SBX_ON;
    }
  }
  if ((k = skipped(c, WD_SBX_USER)) < 0) return k;
  if (!k) {
    if ((r = drop_root(c)) < 0) return r;
    if (unshare(CLONE_NEWUSER) == 0)
      c->rep->state[WD_SBX_USER] = WD_SBX_ON;
    else if ((r = missing(c, WD_SBX_USER, "unshare(CLONE_NEWUSER): %s",
                          strerror(errno))) < 0)
      return r;
  }
  /* Without a user namespace, these work only for a privileged host. */
  for (i = 0; i < WD_COUNTOF(ns); i++) {
    if ((k = skipped(c, ns[i].layer)) < 0) return k;
    if (k) continue;
    if (unshare(ns[i].flag) == 0)
      c->rep->state[ns[i].layer] = WD_SBX_ON;
    else if ((r = missing(c, ns[i].layer, "unshare: %s", strerror(errno))) < 0)
      return r;
  }
  if (c->rep->state[WD_SBX_MOUNT] == WD_SBX_ON) return empty_root(c);
  return 0;
}

/* }====== */

/* {====== Resource limits ====== */

/* Set both limits of 'res' to 'v', or to the hard limit if that is lower
** (only a privileged process may raise it). */
static int limit(ctx *c, int res, const char *name, rlim_t v) {
  struct rlimit rl;
  if (getrlimit(res, &rl) != 0)
    return fail(c, -errno, "getrlimit(%s): %s", name, strerror(errno));
  if (rl.rlim_max != RLIM_INFINITY && rl.rlim_max < v) v = rl.rlim_max;
  rl.rlim_cur = rl.rlim_max = v;
  if (setrlimit(res, &rl) != 0)
    return fail(c, -errno, "setrlimit(%s): %s", name, strerror(errno));
  return 0;
}

/* The fds the host has (the highest open one below 256, plus one) and one
** spare for the Landlock ruleset, closed again before seccomp: the host can
** open at most one more fd, and after seccomp none. */
static rlim_t fds_in_use(void) {
  int fd, top = 2;
  for (fd = 3; fd < 256; fd++)
    if (fcntl(fd, F_GETFD) != -1) top = fd;
  return (rlim_t)top + 2;
}

static int step_rlimits(ctx *c) {
  const wd_sbx_params *p = &c->o->p;
  struct sigaction sa;
  int r = 0;
  if ((r = skipped(c, WD_SBX_RLIMITS)) != 0) return r < 0 ? r : 0;
  /* An inherited stderr may be a regular file: a write past the limit then
  ** fails with EFBIG instead of killing the host with SIGXFSZ. */
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = SIG_IGN;
  if (sigaction(SIGXFSZ, &sa, NULL) != 0)
    return fail(c, -errno, "sigaction(SIGXFSZ): %s", strerror(errno));
  if ((r = limit(c, RLIMIT_NPROC, "RLIMIT_NPROC", 0)) < 0 ||
      (r = limit(c, RLIMIT_CORE, "RLIMIT_CORE", 0)) < 0 ||
      (r = limit(c, RLIMIT_FSIZE, "RLIMIT_FSIZE", 0)) < 0 ||
      (r = limit(c, RLIMIT_MEMLOCK, "RLIMIT_MEMLOCK", 0)) < 0 ||
      (r = limit(c, RLIMIT_MSGQUEUE, "RLIMIT_MSGQUEUE", 0)) < 0 ||
      (r = limit(c, RLIMIT_NOFILE, "RLIMIT_NOFILE",
                  fds_in_use() + c->o->extra_fds)) < 0)
    return r;
  if (p->cpu_seconds != 0 &&
      (r = limit(c, RLIMIT_CPU, "RLIMIT_CPU", (rlim_t)p->cpu_seconds)) < 0)
    return r;
#ifdef WD_ASAN
  /* ASan reserves terabytes of shadow address space at start-up. */
  c->rep->state[WD_SBX_RLIMITS] = WD_SBX_ON;
  return missing(c, WD_SBX_RLIMITS,
                 "RLIMIT_AS not set in a sanitizer build (WD_ASAN); the "
                 "other limits are set");
#else
  if (p->address_space != 0 &&
      (r = limit(c, RLIMIT_AS, "RLIMIT_AS", (rlim_t)p->address_space)) < 0)
    return r;
  c->rep->state[WD_SBX_RLIMITS] = WD_SBX_ON;
  return 0;
#endif
}

/* }====== */

/* {====== prctl ====== */

static int step_prctl(ctx *c, pid_t ppid) {
  if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0)
    return fail(c, -errno, "PR_SET_NO_NEW_PRIVS: %s", strerror(errno));
  if (prctl(PR_SET_DUMPABLE, 0) != 0)
    return fail(c, -errno, "PR_SET_DUMPABLE: %s", strerror(errno));
  if (prctl(PR_SET_PDEATHSIG, SIGKILL) != 0)
    return fail(c, -errno, "PR_SET_PDEATHSIG: %s", strerror(errno));
  /* Had the broker died before the signal was armed, we would have a new
  ** parent (in a pid namespace the parent is always 0: the link's end of
  ** file covers that case). */
  if (getppid() != ppid) return fail(c, WD_EUNAVAIL, "the broker is gone");
  c->rep->state[WD_SBX_PRCTL] = WD_SBX_ON;
  return 0;
}

/* }====== */

/* {====== Landlock ====== */

int wd_sbx_landlock_abi(void) {
  long abi = syscall(SYS_landlock_create_ruleset, NULL, 0,
                     LANDLOCK_CREATE_RULESET_VERSION);
  return abi < 0 ? -errno : (int)abi;
}

/*
** A ruleset that handles every right the kernel knows and grants none:
** no file may be opened, created or executed, no TCP port bound or
** connected, no signal sent and no abstract unix socket reached outside
** the host's own domain.
*/
static int step_landlock(ctx *c) {
  ll_attr a;
  size_t size;
  int abi, fd, r;
  if ((r = skipped(c, WD_SBX_LANDLOCK)) != 0) return r < 0 ? r : 0;
  abi = wd_sbx_landlock_abi();
  if (abi < 0)
    return missing(c, WD_SBX_LANDLOCK, "%s",
                   abi == -ENOSYS       ? "kernel built without Landlock"
                   : abi == -EOPNOTSUPP ? "Landlock disabled at boot (lsm=)"
                                        : strerror(-abi));
  c->rep->landlock_abi = abi;
  memset(&a, 0, sizeof a);
  a.handled_access_fs = ll_fs_rights(abi);
  size = sizeof a.handled_access_fs;
  if (abi >= 4) {
    a.handled_access_net =
        LANDLOCK_ACCESS_NET_BIND_TCP | LANDLOCK_ACCESS_NET_CONNECT_TCP;
    size = offsetof(ll_attr, scoped);
  }
  if (abi >= 6) {
    a.scoped = LANDLOCK_SCOPE_ABSTRACT_UNIX_SOCKET | LANDLOCK_SCOPE_SIGNAL;
    size = sizeof a;
  }
  fd = (int)syscall(SYS_landlock_create_ruleset, &a, size, 0);
  if (fd < 0)
    return fail(c, -errno, "landlock_create_ruleset: %s", strerror(errno));
  r = (int)syscall(SYS_landlock_restrict_self, fd, 0);
  if (r != 0) r = -errno;
  close(fd);
  if (r != 0) return fail(c, r, "landlock_restrict_self: %s", strerror(-r));
  c->rep->state[WD_SBX_LANDLOCK] = WD_SBX_ON;
  if (abi < WD_SBX_MIN_LANDLOCK_ABI)
    return missing(c, WD_SBX_LANDLOCK, "ABI %d < %d: applied, but without %s",
                   abi, WD_SBX_MIN_LANDLOCK_ABI,
                   abi < 4 ? "TCP rules or signal/abstract-socket scoping"
                           : "signal/abstract-socket scoping");
  return 0;
}

/* }====== */

/* {====== seccomp allow-list ====== */

/* Symbols a condition may use (besides numbers). "SELF" is the host's pid
** when the filter is built. */
static const struct {
  const char *name;
  uint64_t v;
} syms[] = {
  { "PROT_EXEC", PROT_EXEC },
  { "GRND_RANDOM", GRND_RANDOM },
  { "ITIMER_VIRTUAL", ITIMER_VIRTUAL },
  { "CLOCK_BOOTTIME", CLOCK_BOOTTIME },
};

static const struct {
  const char *name;
  int v;
} errnos[] = {
  { "ENOSYS", ENOSYS },
  { "EPERM", EPERM },
  { "EACCES", EACCES },
};

static int sym_value(const char *s, uint64_t *v) {
  size_t i;
  char *end;
  if (strcmp(s, "SELF") == 0) {
    *v = (uint64_t)getpid();
    return 0;
  }
  for (i = 0; i < WD_COUNTOF(syms); i++)
    if (strcmp(s, syms[i].name) == 0) {
      *v = syms[i].v;
      return 0;
    }
  if (!isdigit((unsigned char)*s)) return -1;
  errno = 0;
  *v = strtoull(s, &end, 0);
  return errno != 0 || *end != '\0' ? -1 : 0;
}

/* Parse one condition "aN OP V" or "aN&MASK==V", written without spaces. */
static int parse_cond(char *t, struct scmp_arg_cmp *cmp) {
  static const struct {
    const char *s;
    enum scmp_compare op;
  } ops[] = {
    { "==", SCMP_CMP_EQ }, { "!=", SCMP_CMP_NE }, { "<=", SCMP_CMP_LE },
    { ">=", SCMP_CMP_GE }, { "<", SCMP_CMP_LT },  { ">", SCMP_CMP_GT },
  };
  char *p, *mask = NULL;
  size_t i, n;
  uint64_t m = 0, v;
  if (t[0] != 'a' || t[1] < '0' || t[1] > '5') return -1;
  memset(cmp, 0, sizeof *cmp);
  cmp->arg = (unsigned)(t[1] - '0');
  p = t + 2;
  if (*p == '&') mask = ++p;
  /* The operator is the first run of "=!<>" after the argument/mask. */
  n = strcspn(p, "=!<>");
  if (p[n] == '\0') return -1;
  for (i = 0; i < WD_COUNTOF(ops); i++)
    if (strncmp(p + n, ops[i].s, strlen(ops[i].s)) == 0) break;
  if (i == WD_COUNTOF(ops)) return -1;
  if (mask != NULL) {
    if (ops[i].op != SCMP_CMP_EQ) return -1;
    p[n] = '\0';
    if (sym_value(mask, &m) < 0) return -1;
  }
  if (sym_value(p + n + strlen(ops[i].s), &v) < 0) return -1;
  if (mask != NULL) {
    cmp->op = SCMP_CMP_MASKED_EQ;
    cmp->datum_a = m;
    cmp->datum_b = v;
  } else {
    if (n != 0) return -1; /* garbage between aN and the operator */
    cmp->op = ops[i].op;
    cmp->datum_a = v;
  }
  return 0;
}

/* Parse one line into 'sc' (-1: blank), its action and conditions. */
static int parse_line(char *line, int *sc, uint32_t *action,
                      struct scmp_arg_cmp *cmp, unsigned *ncmp) {
  char *save = NULL, *t;
  size_t i;
  *sc = -1;
  *ncmp = 0;
  *action = SCMP_ACT_ALLOW;
  if ((t = strchr(line, '#')) != NULL) *t = '\0';
  if ((t = strtok_r(line, " \t\r", &save)) == NULL) return 0;
  *sc = seccomp_syscall_resolve_name(t);
  if (*sc == __NR_SCMP_ERROR) return -1;
  while ((t = strtok_r(NULL, " \t\r", &save)) != NULL) {
    if (strcmp(t, "->") == 0) {
      if ((t = strtok_r(NULL, " \t\r", &save)) == NULL) return -1;
      for (i = 0; i < WD_COUNTOF(errnos); i++)
        if (strcmp(t, errnos[i].name) == 0) break;
      if (i == WD_COUNTOF(errnos) || strtok_r(NULL, " \t\r", &save) != NULL)
        return -1;
      *action = SCMP_ACT_ERRNO((uint32_t)errnos[i].v);
      return 0;
    }
    if (*ncmp == 6 || parse_cond(t, &cmp[*ncmp]) < 0) return -1;
    (*ncmp)++;
  }
  return 0;
}

/* Parse the compiled-in allow-list and, when 'f' is not NULL, add each
** rule to it. Returns the number of rules or a negative code with the
** failing line in the message. */
static int add_rules(ctx *c, scmp_filter_ctx f) {
  const char *text = c->o->allow ? c->o->allow : wd_sbx_seccomp_text();
  const char *name = c->o->allow_name ? c->o->allow_name : "host.allow";
  char line[256];
  int lineno = 0, nrules = 0, r;
  while (*text != '\0') {
    size_t n = strcspn(text, "\n");
    struct scmp_arg_cmp cmp[6];
    unsigned ncmp;
    uint32_t action;
    int sc;
    lineno++;
    if (n >= sizeof line)
      return fail(c, WD_EINVAL, "%s:%d: line too long", name, lineno);
    memcpy(line, text, n);
    line[n] = '\0';
    text += n;
    if (*text == '\n') text++;
    if (parse_line(line, &sc, &action, cmp, &ncmp) < 0)
      return fail(c, WD_EINVAL, "%s:%d: bad line", name, lineno);
    if (sc == -1) continue;
    if (f != NULL && (r = seccomp_rule_add_array(f, action, sc, ncmp, cmp)) < 0)
      return fail(c, r, "%s:%d: %s", name, lineno, strerror(-r));
    nrules++;
  }
  return nrules;
}

#ifndef WD_ASAN
/* Build the filter into '*out': the allow-list, then KILL_PROCESS for any
** other call and for a foreign architecture. Returns the number of rules
** or a negative code. */
static int build_filter(ctx *c, scmp_filter_ctx *out) {
  scmp_filter_ctx f;
  int n, r;
  f = seccomp_init(SCMP_ACT_KILL_PROCESS);
  if (f == NULL) return fail(c, WD_EUNAVAIL, "seccomp_init failed");
  r = seccomp_attr_set(f, SCMP_FLTATR_ACT_BADARCH, SCMP_ACT_KILL_PROCESS);
  if (r < 0) {
    seccomp_release(f);
    return fail(c, r, "seccomp: bad-arch action: %s", strerror(-r));
  }
  if ((n = add_rules(c, f)) < 0) {
    seccomp_release(f);
    return n;
  }
  *out = f;
  return n;
}
#endif

const char *wd_sbx_seccomp_text(void) {
  return wd_seccomp_host_allow;
}

const char *wd_sbx_seccomp_gateway_text(void) {
  return wd_seccomp_gateway_allow;
}

int wd_sbx_seccomp_check(char *err, size_t errlen) {
  wd_sbx_opts o;
  wd_sbx_report rep;
  ctx c;
  memset(&o, 0, sizeof o);
  o.id = "?";
  c.o = &o;
  c.rep = &rep;
  c.err = err;
  c.errlen = errlen;
  return add_rules(&c, NULL);
}

static int step_seccomp(ctx *c) {
  int r;
  if ((r = skipped(c, WD_SBX_SECCOMP)) != 0) return r < 0 ? r : 0;
#ifdef WD_ASAN
  /* ASan needs calls the filter forbids (OpenSSH README.privsep). */
  return missing(c, WD_SBX_SECCOMP, "sanitizer build (WD_ASAN)");
#else
  {
    scmp_filter_ctx f = NULL;
    int n;
    if (prctl(PR_GET_SECCOMP) < 0)
      return missing(c, WD_SBX_SECCOMP, "kernel built without seccomp");
    if (seccomp_api_get() < 3)
      return missing(c, WD_SBX_SECCOMP,
                     "kernel or libseccomp without SECCOMP_RET_KILL_PROCESS");
    if ((n = build_filter(c, &f)) < 0) return n;
    r = seccomp_load(f);
    seccomp_release(f);
    if (r < 0) return fail(c, r, "seccomp_load: %s", strerror(-r));
    c->rep->nrules = n;
    c->rep->state[WD_SBX_SECCOMP] = WD_SBX_ON;
    return 0;
  }
#endif
}

/* }====== */

int wd_sbx_confine(const wd_sbx_opts *o, wd_sbx_report *rep, char *err,
                   size_t errlen) {
  wd_sbx_report local;
  pid_t ppid = getppid();
  ctx c;
  int r;
  c.o = o;
  memset(&local, 0, sizeof local);
  c.rep = rep != NULL ? rep : &local;
  c.err = err;
  c.errlen = errlen;
  memset(c.rep, 0, sizeof *c.rep);
  /* glibc's strftime re-reads /etc/localtime on every call unless TZ names
  ** a zone it has already loaded: settle it now, while files exist. */
  if (setenv("TZ", "UTC0", 1) != 0)
    return fail(&c, WD_ENOMEM, "setenv(TZ) failed");
  tzset();
  if ((r = step_namespaces(&c)) < 0 || (r = step_rlimits(&c)) < 0 ||
      (r = step_prctl(&c, ppid)) < 0 || (r = step_landlock(&c)) < 0 ||
      (r = step_seccomp(&c)) < 0)
    return r;
  return 0;
}
