/*
** sandbox/fork.c
** Starting a host process: fork into a new pid namespace (and a user
** namespace that maps our own ids, when that is what the kernel allows).
** Runs in: broker ('ward doctor' and the confinement tests start their
** hosts the same way); the child runs only async-signal-safe code here.
*/
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stddef.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "fork_int.h"

/* Write 'n' bytes of 's' to the file 'path' (async-signal-safe). */
static int put(const char *path, const char *s, size_t n) {
  int fd = open(path, O_WRONLY | O_CLOEXEC), ok;
  if (fd < 0) return -1;
  ok = write(fd, s, n) == (ssize_t)n;
  close(fd);
  return ok ? 0 : -1;
}

/* Map 'id' to itself in the user namespace the calling process was just
** cloned into: "ID ID 1" in 'path' (async-signal-safe). */
static int map_self(const char *path, unsigned id) {
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
  return put(path, b, k);
}

pid_t wd__fork_host(int *pidns_err) {
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
    if (map_self("/proc/self/uid_map", uid) != 0 ||
        put("/proc/self/setgroups", "deny", 4) != 0 ||
        map_self("/proc/self/gid_map", gid) != 0)
      _exit(127);
  }
  if (pid >= 0) {
    *pidns_err = 0;
    return pid;
  }
  *pidns_err = errno;
  return fork();
}
