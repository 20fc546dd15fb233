/*
** include/ward/wd_confine.h
** Confinement of a host process (ARCHITECTURE.md §1): the layers, the
** parameters the broker hands a host with its keys, and the call with
** which a host confines itself (sandbox/confine.c).
** Runs in: host (pre-sandbox); the broker writes the parameters
** (wd_sbx_params_put), and 'ward doctor' also uses the layer names, the
** Landlock ABI probe and the allow-list check.
*/
#ifndef wd_confine_h
#define wd_confine_h

#include <stddef.h>
#include <stdint.h>

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

/* Write 'p' as the WD_SBX_PARAMS_LEN bytes at 'out' (the broker). */
void wd_sbx_params_put(uint8_t *out, const wd_sbx_params *p);

/* Read the WD_SBX_PARAMS_LEN bytes at 'in' into 'p' (the host). Every byte
** string is a valid encoding; the host checks nothing further. */
void wd_sbx_params_get(const uint8_t *in, wd_sbx_params *p);

/* ** Confinement (Runs in: host, pre-sandbox) ** */

typedef struct wd_sbx_opts {
  const char *id;  /* host id, for "ward host ID: ..." messages */
  wd_sbx_params p; /* from the broker */
  unsigned skip;   /* (1u << WD_SBX_*) layers not to apply: test hosts only;
                      the ward host always passes 0 */
  int quiet;       /* 1: do not print missing layers to stderr (doctor) */
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

/* The allow-list text compiled into the binary (policies/seccomp/). */
const char *wd_sbx_seccomp_text(void);

#endif
