/*
** bench/sockpair.c
** Baseline for W2 across hosts: round trips per second of a 64-byte
** message bounced between two processes over an AF_UNIX SOCK_SEQPACKET
** socketpair (the transport of ward's broker<->host links), blocking
** send/recv, no framing, no MAC. Prints "FIGURE <round trips/s>".
** Runs in: a development tool (bench/run.sh builds and runs it).
**
**   cc -O2 -o sockpair bench/sockpair.c && ./sockpair [N [CPU0 CPU1]]
**
** With CPU0 and CPU1 each process is pinned to that CPU (0 0: both on one
** CPU, every hand-off is a local wake-up; 0 1: every hand-off wakes the
** other CPU). Unpinned, the kernel's placement makes the figure bimodal
** on small VMs, so bench/run.sh pins.
*/
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sched.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static double now_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void xfer(int fd, char *buf, int send_first) {
  ssize_t n;
  if (send_first) {
    if (send(fd, buf, 64, 0) != 64) { perror("send"); exit(1); }
    if ((n = recv(fd, buf, 64, 0)) != 64) { perror("recv"); exit(1); }
  } else {
    if ((n = recv(fd, buf, 64, 0)) != 64) { perror("recv"); exit(1); }
    if (send(fd, buf, 64, 0) != 64) { perror("send"); exit(1); }
  }
}

static void pin(int cpu) {
  cpu_set_t set;
  if (cpu < 0) return;
  CPU_ZERO(&set);
  CPU_SET(cpu, &set);
  if (sched_setaffinity(0, sizeof set, &set) != 0) perror("sched_setaffinity");
}

int main(int argc, char **argv) {
  long n = argc > 1 ? atol(argv[1]) : 200000, i;
  int cpu0 = argc > 3 ? atoi(argv[2]) : -1, cpu1 = argc > 3 ? atoi(argv[3]) : -1;
  int sv[2];
  char buf[64];
  pid_t pid;
  double t0, t1;
  memset(buf, 'x', sizeof buf);
  if (socketpair(AF_UNIX, SOCK_SEQPACKET, 0, sv) != 0) {
    perror("socketpair");
    return 1;
  }
  pid = fork();
  if (pid < 0) {
    perror("fork");
    return 1;
  }
  if (pid == 0) {
    pin(cpu1);
    close(sv[0]);
    for (i = 0; i < n + 1000; i++) xfer(sv[1], buf, 0);
    _exit(0);
  }
  pin(cpu0);
  close(sv[1]);
  for (i = 0; i < 1000; i++) xfer(sv[0], buf, 1); /* warm up */
  t0 = now_s();
  for (i = 0; i < n; i++) xfer(sv[0], buf, 1);
  t1 = now_s();
  waitpid(pid, NULL, 0);
  printf("FIGURE %.0f\n", (double)n / (t1 - t0));
  return 0;
}
