/*
** cli/doctor.c
** 'ward doctor': which confinement layers this kernel and this user give a
** host. A probe process is started the way the broker starts a host
** (wd__fork_host) and confines itself with the host's own code
** (sandbox/confine.c), so what is printed is what a host would get.
** Runs in: broker (the 'ward' command; the probe child is a host stand-in).
*/
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <unistd.h>

#include "ward/wd_common.h"
#include "ward/wd_confine.h"
#include "ward/wd_manifest.h"

#include "../sandbox/fork_int.h"
#include "cmd_int.h"

static const char usage_doctor[] =
    "usage: ward doctor\n"
    "Print each sandbox layer a host applies and whether this kernel (and\n"
    "this user) provides it. Exit 0 if every layer is available, so that\n"
    "--require-sandbox=all would start hosts; 1 otherwise.\n";

/* What the probe sends back: its report and, if confinement failed, why. */
typedef struct probe {
  wd_sbx_report rep;
  int code;
  char err[256];
} probe;

/* Confine a probe process as a host would be and read its report. Returns
** 0, or -1 with a message in 'err' if the probe died or said nothing. */
static int run_probe(probe *pr, char *err, size_t errlen) {
  int fds[2], st, pidns_err = 0;
  ssize_t n;
  pid_t pid;
  if (pipe(fds) != 0) {
    snprintf(err, errlen, "pipe: %s", strerror(errno));
    return -1;
  }
  fflush(stdout);
  fflush(stderr);
  pid = wd__fork_host(&pidns_err);
  if (pid < 0) {
    snprintf(err, errlen, "fork: %s", strerror(errno));
    close(fds[0]);
    close(fds[1]);
    return -1;
  }
  if (pid == 0) {
    wd_sbx_opts o;
    probe p;
    close(fds[0]);
    memset(&o, 0, sizeof o);
    memset(&p, 0, sizeof p);
    o.id = "doctor";
    o.quiet = 1;
    o.p.address_space = WD_HOST_DEFAULT_ADDRESS_SPACE;
    o.p.pidns_err = pidns_err;
    p.code = wd_sbx_confine(&o, &p.rep, p.err, sizeof p.err);
    /* Confined now (or half): only write and exit are left. */
    _exit(write(fds[1], &p, sizeof p) == (ssize_t)sizeof p ? 0 : 1);
  }
  close(fds[1]);
  do
    n = read(fds[0], pr, sizeof *pr);
  while (n == -1 && errno == EINTR);
  close(fds[0]);
  while (waitpid(pid, &st, 0) == -1 && errno == EINTR) {
  }
  if (n != (ssize_t)sizeof *pr) {
    if (WIFSIGNALED(st))
      snprintf(err, errlen, "the probe host was killed by signal %d (%s)",
               WTERMSIG(st), strsignal(WTERMSIG(st)));
    else
      snprintf(err, errlen, "the probe host exited with status %d",
               WIFEXITED(st) ? WEXITSTATUS(st) : -1);
    return -1;
  }
  return 0;
}

/* One line of detail for a layer that is on. */
static void detail(int l, const wd_sbx_report *r, char *out, size_t n) {
  *out = '\0';
  switch (l) {
    case WD_SBX_USER:
      snprintf(out, n, "%s",
               geteuid() == 0 ? "host runs as uid/gid 65534"
                              : "host keeps your uid");
      break;
    case WD_SBX_PID:
      snprintf(out, n, "host is pid 1 of its own namespace");
      break;
    case WD_SBX_MOUNT:
      snprintf(out, n, "empty read-only root");
      break;
    case WD_SBX_RLIMITS:
      snprintf(out, n,
               "AS from the manifest, NPROC/CORE/FSIZE/MEMLOCK 0, "
               "NOFILE = fds in use");
      break;
    case WD_SBX_PRCTL:
      snprintf(out, n, "+ not dumpable, parent-death SIGKILL");
      break;
    case WD_SBX_LANDLOCK:
      snprintf(out, n,
               "ABI %d: no files, no TCP, scoped signals and "
               "abstract sockets",
               r->landlock_abi);
      break;
    case WD_SBX_SECCOMP:
      snprintf(out, n, "%d-rule allow-list, default KILL_PROCESS", r->nrules);
      break;
    default:
      break;
  }
}

/* 'ward doctor': print each layer and whether this kernel and this user
** get it. Exit status 0 if every layer is available, 1 otherwise, 2 for
** bad usage. */
int wd_cmd_doctor(int argc, char **argv) {
  struct utsname u;
  probe pr;
  char err[256], more[128];
  const char *state;
  int l, abi, all = 1, nrules;
  if (argc > 1 &&
      (strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0)) {
    fputs(usage_doctor, stdout);
    return 0;
  }
  if (argc > 1) {
    fprintf(stderr, "ward doctor: unexpected argument '%s'\n%s", argv[1],
            usage_doctor);
    return 2;
  }
  if (uname(&u) != 0) memset(&u, 0, sizeof u);
  abi = wd_sbx_landlock_abi();
  nrules = wd_sbx_seccomp_check(err, sizeof err);
  printf("ward doctor: kernel %s %s, uid %d, Landlock ABI %d, "
         "seccomp allow-list %s%d rules\n",
         u.release, u.machine, (int)geteuid(), abi < 0 ? 0 : abi,
         nrules < 0 ? "BROKEN: " : "", nrules < 0 ? 0 : nrules);
  if (nrules < 0) printf("  allow-list: %s\n", err);
  memset(&pr, 0, sizeof pr);
  if (run_probe(&pr, err, sizeof err) < 0) {
    printf("  cannot probe: %s\n", err);
    return 1;
  }
  for (l = 0; l < WD_SBX_NLAYERS; l++) {
    int on = pr.rep.state[l] == WD_SBX_ON;
    if (pr.rep.state[l] == WD_SBX_MISSING) {
      snprintf(more, sizeof more, "%s", pr.rep.why[l]);
    } else if (on) {
      detail(l, &pr.rep, more, sizeof more);
    } else {
      /* Not reached: confinement stopped at an earlier failure. */
      snprintf(more, sizeof more, "not tried");
    }
    if (pr.rep.state[l] != WD_SBX_ON) all = 0;
    state =
        on ? "available"
        : pr.rep.state[l] == WD_SBX_MISSING
            ? (l == WD_SBX_LANDLOCK && pr.rep.landlock_abi > 0 ? "partial"
                                                               : "unavailable")
            : "unknown";
    if (*more)
      printf("  %-16s %-12s %s\n", wd_sbx_layer_name(l), state, more);
    else
      printf("  %-16s %s\n", wd_sbx_layer_name(l), state);
  }
  if (pr.code < 0) printf("  confinement failed: %s\n", pr.err);
  printf("--require-sandbox=all: %s\n", all && pr.code == 0
                                            ? "hosts would start"
                                            : "hosts would refuse to start");
  return all && pr.code == 0 && nrules >= 0 ? 0 : 1;
}
