/*
** bench/sched_floor.c
** The kernel scheduler's floor for bench/neighbours.sh: what a round trip
** between processes costs on this machine while other processes spin,
** measured like the ward victim's (one round trip at a time, GAP apart,
** p50/p99 of N). No ward, no Lua: if a ward target is missed here too,
** the kernel (or the machine) makes it unreachable.
** Runs in: a development tool (bench/neighbours.sh builds and runs it).
**
**   cc -O2 -o sched_floor bench/sched_floor.c
**   ./sched_floor N GAP_US SPINNERS NICE RELAY CPU
**
** The pinger sends 64 bytes over an AF_UNIX SOCK_SEQPACKET socketpair
** (the transport of ward's links) to an echo process, which answers; with
** RELAY 1 both directions go through a third process (as ward's broker
** sits between two hosts). SPINNERS processes run `for (;;)` at nice
** NICE (0-19) meanwhile. CPU >= 0 pins every process to that CPU (the
** kernel's counterpart of ward's "same host": one CPU shared with a hog);
** -1 leaves placement to the kernel. Prints
**   FIGURE <p50 ms> <p99 ms> <max ms>
** Every child dies with the parent (PR_SET_PDEATHSIG) and within 120 s
** (alarm) whatever happens.
*/
#define _GNU_SOURCE
#include <errno.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define MSG 64
#define MAX_KIDS 16

static pid_t kids[MAX_KIDS];
static int nkids;

static long long now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (long long)ts.tv_sec * 1000000000ll + ts.tv_nsec;
}

static void pin(int cpu) {
  cpu_set_t set;
  if (cpu < 0) return;
  CPU_ZERO(&set);
  CPU_SET(cpu, &set);
  if (sched_setaffinity(0, sizeof set, &set) != 0) perror("sched_setaffinity");
}

static void xsend(int fd, const char *buf) {
  if (send(fd, buf, MSG, 0) != MSG) _exit(1);
}

static void xrecv(int fd, char *buf) {
  ssize_t n;
  do n = recv(fd, buf, MSG, 0);
  while (n < 0 && errno == EINTR);
  if (n != MSG) _exit(1);
}

/* Fork a child that runs fn(arg) and never returns into main. */
static void child(int cpu, void (*fn)(int, int), int a, int b) {
  pid_t p = fork();
  if (p < 0) {
    perror("fork");
    exit(1);
  }
  if (p == 0) {
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    alarm(120);
    pin(cpu);
    fn(a, b);
    _exit(0);
  }
  kids[nkids++] = p;
}

static void spin(int nice_level, int unused) {
  volatile unsigned long x = 0;
  (void)unused;
  if (nice_level) setpriority(PRIO_PROCESS, 0, nice_level);
  for (;;) x++;
}

static void echo(int fd, int unused) {
  char buf[MSG];
  (void)unused;
  for (;;) {
    xrecv(fd, buf);
    xsend(fd, buf);
  }
}

/* Forward each message from 'a' to 'b' and the answer back. */
static void relay(int a, int b) {
  char buf[MSG];
  for (;;) {
    xrecv(a, buf);
    xsend(b, buf);
    xrecv(b, buf);
    xsend(a, buf);
  }
}

static int cmp_ll(const void *x, const void *y) {
  long long a = *(const long long *)x, b = *(const long long *)y;
  return (a > b) - (a < b);
}

int main(int argc, char **argv) {
  int n, gap_us, spinners, nice_level, use_relay, cpu, i;
  int p2e[2], r2e[2];
  int fd;
  char buf[MSG];
  long long *t;
  struct timespec gap;
  if (argc != 7) {
    fprintf(stderr, "usage: sched_floor N GAP_US SPINNERS NICE RELAY CPU\n");
    return 2;
  }
  n = atoi(argv[1]);
  gap_us = atoi(argv[2]);
  spinners = atoi(argv[3]);
  nice_level = atoi(argv[4]);
  use_relay = atoi(argv[5]);
  cpu = atoi(argv[6]);
  if (n < 1 || gap_us < 0 || spinners < 0 || spinners > MAX_KIDS - 2 ||
      nice_level < 0 || nice_level > 19) {
    fprintf(stderr, "sched_floor: bad arguments\n");
    return 2;
  }
  alarm(120);
  memset(buf, 'x', sizeof buf);
  if (socketpair(AF_UNIX, SOCK_SEQPACKET, 0, p2e) != 0) {
    perror("socketpair");
    return 1;
  }
  if (use_relay) {
    if (socketpair(AF_UNIX, SOCK_SEQPACKET, 0, r2e) != 0) {
      perror("socketpair");
      return 1;
    }
    child(cpu, echo, r2e[1], 0);
    child(cpu, relay, p2e[1], r2e[0]);
  } else {
    child(cpu, echo, p2e[1], 0);
  }
  fd = p2e[0];
  for (i = 0; i < spinners; i++) child(cpu, spin, nice_level, 0);
  pin(cpu);
  t = calloc((size_t)n, sizeof *t);
  if (t == NULL) return 1;
  gap.tv_sec = gap_us / 1000000;
  gap.tv_nsec = (long)(gap_us % 1000000) * 1000;
  usleep(100000); /* the spinners are running */
  for (i = 0; i < 200; i++) { /* warm-up */
    xsend(fd, buf);
    xrecv(fd, buf);
  }
  for (i = 0; i < n; i++) {
    long long t0 = now_ns();
    xsend(fd, buf);
    xrecv(fd, buf);
    t[i] = now_ns() - t0;
    if (gap_us) nanosleep(&gap, NULL);
  }
  for (i = 0; i < nkids; i++) kill(kids[i], SIGKILL);
  for (i = 0; i < nkids; i++) waitpid(kids[i], NULL, 0);
  qsort(t, (size_t)n, sizeof *t, cmp_ll);
  printf("FIGURE %.3f %.3f %.3f\n", t[(n - 1) / 2] / 1e6,
         t[(99 * n + 99) / 100 - 1] / 1e6, t[n - 1] / 1e6);
  free(t);
  return 0;
}
