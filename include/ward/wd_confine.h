/*
** include/ward/wd_confine.h
** Confinement of a host process (ARCHITECTURE.md §1): the layers, the
** parameters the broker hands a host with its keys, the confinement call,
** and 'ward doctor'.
*/
#ifndef wd_confine_h
#define wd_confine_h

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <unistd.h>

#include <sched.h>

/* ** Layers ** */

/*
** The layers, in the order a host applies them. Each is either on, missing
** (the kernel or the environment does not give it: reported, fatal under
** --require-sandbox=all) or skipped (test hosts only).
*/
#define WD_SBX_LAYER_MAP(XX)                                                   \
  XX(USER, "user-namespace")                                                   \
  XX(PID, "pid-namespace")                                                     \
  XX(NET, "net-namespace")                                                     \
  XX(IPC, "ipc-namespace")                                                     \
  XX(UTS, "uts-namespace")                                                     \
  XX(MOUNT, "mount-namespace")                                                 \
  XX(RLIMITS, "rlimits")                                                       \
  XX(PRCTL, "no-new-privs")                                                    \
  XX(LANDLOCK, "landlock")                                                     \
  XX(SECCOMP, "seccomp")

typedef enum wd_sbx_layer {
#define XX(name, str) WD_SBX_##name,
  WD_SBX_LAYER_MAP(XX)
#undef XX
      WD_SBX_NLAYERS
} wd_sbx_layer;

enum { WD_SBX_OFF = 0, WD_SBX_ON, WD_SBX_MISSING, WD_SBX_SKIPPED };

/* --require-sandbox=all needs at least this Landlock ABI (scoped signals
** and abstract unix sockets). */
#define WD_SBX_MIN_LANDLOCK_ABI 6

/* What a confinement did, layer by layer. */
typedef struct wd_sbx_report {
  unsigned char state[WD_SBX_NLAYERS]; /* WD_SBX_ON, _MISSING, _SKIPPED */
  char why[WD_SBX_NLAYERS][120];       /* for MISSING and SKIPPED */
  int landlock_abi;                    /* 0: none */
  int nrules;                          /* seccomp allow-list lines loaded */
} wd_sbx_report;

/* ** Parameters: broker -> host, after the two keys of the first frame ** */

#define WD_SBX_REQUIRE_ALL 1u /* every layer, Landlock ABI >= 6: else die */

/*
** The first (unsigned) frame on a host's link is
**   [u8 WD_F_KEYS][32 rx key][32 tx key][WD_SBX_PARAMS_LEN params]
** with the params little-endian: u64 address_space (RLIMIT_AS, 0: leave
** it), u64 cpu_seconds (RLIMIT_CPU, 0: none), u32 flags (WD_SBX_*),
** i32 pidns_err (0: the broker started the host as the first process of a
** new pid namespace; else the errno that prevented it).
*/
#define WD_SBX_PARAMS_LEN 24

typedef struct wd_sbx_params {
  uint64_t address_space;
  uint64_t cpu_seconds;
  uint32_t flags;
  int32_t pidns_err;
} wd_sbx_params;

static inline void wd_sbx_params_put(uint8_t *out, const wd_sbx_params *p) {
  int i;
  for (i = 0; i < 8; i++)
    out[i] = (uint8_t)(p->address_space >> (8 * i));
  for (i = 0; i < 8; i++)
    out[8 + i] = (uint8_t)(p->cpu_seconds >> (8 * i));
  for (i = 0; i < 4; i++)
    out[16 + i] = (uint8_t)(p->flags >> (8 * i));
  for (i = 0; i < 4; i++)
    out[20 + i] = (uint8_t)((uint32_t)p->pidns_err >> (8 * i));
}

static inline void wd_sbx_params_get(const uint8_t *in, wd_sbx_params *p) {
  uint32_t e = 0;
  int i;
  p->address_space = p->cpu_seconds = 0;
  p->flags = 0;
  for (i = 7; i >= 0; i--)
    p->address_space = p->address_space << 8 | in[i];
  for (i = 7; i >= 0; i--)
    p->cpu_seconds = p->cpu_seconds << 8 | in[8 + i];
  for (i = 3; i >= 0; i--)
    p->flags = p->flags << 8 | in[16 + i];
  for (i = 3; i >= 0; i--)
    e = e << 8 | in[20 + i];
  p->pidns_err = (int32_t)e;
}

/* ** Confinement (Runs in: host, pre-sandbox) ** */

typedef struct wd_sbx_opts {
  const char *id;  /* host id, for "ward host ID: ..." messages */
  wd_sbx_params p; /* from the broker */
  unsigned skip;   /* (1u << WD_SBX_*) layers not to apply: test hosts only;
                      the ward host always passes 0 */
  int quiet;       /* 1: do not print missing layers to stderr (doctor) */
  /* The gateway (sandbox/gateway.c) only; 0 and NULL for a host: */
  const char *allow;      /* the seccomp allow-list text (NULL: host.allow) */
  const char *allow_name; /* its file name, for messages */
  unsigned extra_fds;     /* fds it may open beyond those it has (accept) */
} wd_sbx_opts;

/*
** Confine the calling process, in this order: user namespace (as uid/gid
** 65534 when started as root) and the pid namespace the broker gave,
** net/ipc/uts/mount namespaces (the mount namespace gets an empty,
** read-only root) -> rlimits -> no_new_privs, not dumpable, parent-death
** SIGKILL -> Landlock (no filesystem, no TCP, scoped signals and abstract
** sockets) -> the seccomp allow-list of policies/seccomp/host.allow
** (default KILL_PROCESS). Must be called single-threaded, with every fd
** the host keeps already open, before any Lua runs.
** A layer the kernel lacks is written to stderr as "ward host ID: sandbox
** layer X unavailable: why" (unless 'quiet') and recorded in 'rep' (may be
** NULL); with WD_SBX_REQUIRE_ALL it is fatal. Returns 0, or a negative
** code with a message in 'err' when a step failed or a required layer is
** missing: the caller must then die without running anything else (the
** process may be half confined).
*/
int wd_sbx_confine(const wd_sbx_opts *o, wd_sbx_report *rep, char *err,
                   size_t errlen);

/* Name of a layer ("landlock"), or "?" for a bad index. */
const char *wd_sbx_layer_name(int layer);

/* Landlock ABI of the running kernel: >= 1, or -errno (ENOSYS, EOPNOTSUPP
** when built in but disabled). */
int wd_sbx_landlock_abi(void);

/*
** Parse the built-in allow-list and resolve every name for this
** architecture, without the kernel. Returns the number of rules, or a
** negative code with a message naming the line in 'err'. Used by tests and
** 'ward doctor'.
*/
int wd_sbx_seccomp_check(char *err, size_t errlen);

/* The allow-list text compiled into the binary (policies/seccomp/): the
** hosts' and the gateway's. */
const char *wd_sbx_seccomp_text(void);
const char *wd_sbx_seccomp_gateway_text(void);

/*
** Test hook: when set (only test hosts set it), the ward host main calls it
** once right after confinement, before its loop runs, with its host id and
** its 'uv_loop_t *'. NULL in 'ward'.
*/
extern void (*wd__sbx_confined_hook)(const char *id, void *loop);

/* ** Starting a host (Runs in: broker, between fork and exec) ** */

/* Write 'n' bytes of 's' to the file 'path' (async-signal-safe). */
static inline int wd_sbx__put(const char *path, const char *s, size_t n) {
  int fd = open(path, O_WRONLY | O_CLOEXEC), ok;
  if (fd < 0) return -1;
  ok = write(fd, s, n) == (ssize_t)n;
  close(fd);
  return ok ? 0 : -1;
}

/* Map 'id' to itself in the user namespace the calling process was just
** cloned into: "ID ID 1" in 'path' (async-signal-safe). */
static inline int wd_sbx__map_self(const char *path, unsigned id) {
  char d[12], b[32];
  size_t n = 0, k = 0, j;
  int twice;
  do
    d[n++] = (char)('0' + id % 10);
  while ((id /= 10) != 0);
  for (twice = 0; twice < 2; twice++) {
    for (j = n; j > 0; j--)
      b[k++] = d[j - 1];
    b[k++] = ' ';
  }
  b[k++] = '1';
  b[k++] = '\n';
  return wd_sbx__put(path, b, k);
}

/*
** fork(), but the child is the first process (pid 1) of a new pid
** namespace when the kernel allows it. CLONE_NEWPID needs CAP_SYS_ADMIN:
** without it, the child also gets a new user namespace that maps only our
** own uid and gid (so that the host can nest its own user namespace in
** it). Falls back to a plain fork with the reason in '*pidns_err' (0 when
** the namespace was made). Returns like fork. The child may only call
** async-signal-safe functions before execve.
*/
static inline pid_t wd_sbx_fork_host(int *pidns_err) {
  unsigned uid = (unsigned)geteuid(), gid = (unsigned)getegid();
  pid_t pid;
  /* A raw clone without a new stack behaves like fork; the glibc wrapper
  ** wants a stack and a function, and fork() cannot take CLONE_NEWPID. */
  pid = (pid_t)syscall(SYS_clone, (unsigned long)(CLONE_NEWPID | SIGCHLD), 0UL,
                       0UL, 0UL, 0UL);
  if (pid < 0 && errno == EPERM)
    pid = (pid_t)syscall(
        SYS_clone, (unsigned long)(CLONE_NEWUSER | CLONE_NEWPID | SIGCHLD), 0UL,
        0UL, 0UL, 0UL);
  else
    uid = (unsigned)-1;
  if (pid == 0 && uid != (unsigned)-1) {
    /* Unmapped, the host could not make a user namespace of its own. */
    if (wd_sbx__map_self("/proc/self/uid_map", uid) != 0 ||
        wd_sbx__put("/proc/self/setgroups", "deny", 4) != 0 ||
        wd_sbx__map_self("/proc/self/gid_map", gid) != 0)
      _exit(127);
  }
  if (pid >= 0) {
    *pidns_err = 0;
    return pid;
  }
  *pidns_err = errno;
  return fork();
}

/* ** ward doctor (Runs in: broker side, the 'ward' command) ** */

/* 'ward doctor': print each layer and whether this kernel and this user
** get it. Exit status 0 if every layer is available, 1 otherwise, 2 for
** bad usage. */
int wd_cmd_doctor(int argc, char **argv);

#endif
