/*
** bench/star.c
** The floor of W2 across hosts in ward's star: round trips per second of
** a 64-byte message from A through a relay R to B and back (four hops, as
** host -> broker -> host -> broker -> host), over AF_UNIX SOCK_SEQPACKET
** socketpairs, no framing, no MAC, no work. A and B block in recv; R
** polls both sockets and, after a message, keeps polling without sleeping
** for SPIN_US microseconds (yielding between polls) before it sleeps in
** poll(2), as ward's broker does (sandbox/broker.c wd_broker_run). The
** processes are not pinned, as ward's are not. Prints "FIGURE <rt/s>".
** Runs in: a development tool (bench/run.sh builds and runs it).
**
**   cc -O2 -o star bench/star.c && ./star [N [SPIN_US]]
*/
#define _GNU_SOURCE
#include <poll.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static double now_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void must(int ok, const char *what) {
  if (!ok) {
    perror(what);
    exit(1);
  }
}

/* B: echo every message back. */
static void echo(int fd) {
  char buf[64];
  for (;;) {
    ssize_t n = recv(fd, buf, sizeof buf, 0);
    if (n <= 0) _exit(0);
    must(send(fd, buf, (size_t)n, 0) == n, "send");
  }
}

/* R: forward what one side sends to the other, spinning 'spin' seconds
** after each message before it sleeps. */
static void relay(int a, int b, double spin) {
  char buf[64];
  double last = 0;
  for (;;) {
    int moved = 0, i;
    int fds[2] = {a, b};
    for (i = 0; i < 2; i++) {
      ssize_t n = recv(fds[i], buf, sizeof buf, MSG_DONTWAIT);
      if (n == 0) _exit(0);
      if (n > 0) {
        must(send(fds[1 - i], buf, (size_t)n, 0) == n, "send");
        moved = 1;
      }
    }
    if (moved) {
      last = now_s();
    } else if (now_s() - last < spin) {
      sched_yield();
    } else {
      struct pollfd p[2] = {{a, POLLIN, 0}, {b, POLLIN, 0}};
      (void)poll(p, 2, -1);
    }
  }
}

int main(int argc, char **argv) {
  long n = argc > 1 ? atol(argv[1]) : 100000, i;
  double spin = (argc > 2 ? atof(argv[2]) : 100) / 1e6;
  int ar[2], rb[2];
  char buf[64];
  pid_t pr, pb;
  double t0 = 0, t1;
  memset(buf, 'x', sizeof buf);
  must(socketpair(AF_UNIX, SOCK_SEQPACKET, 0, ar) == 0, "socketpair");
  must(socketpair(AF_UNIX, SOCK_SEQPACKET, 0, rb) == 0, "socketpair");
  must((pb = fork()) >= 0, "fork");
  if (pb == 0) {
    close(ar[0]);
    close(ar[1]);
    close(rb[0]);
    echo(rb[1]);
  }
  must((pr = fork()) >= 0, "fork");
  if (pr == 0) {
    close(ar[0]);
    close(rb[1]);
    relay(ar[1], rb[0], spin);
  }
  close(ar[1]);
  close(rb[0]);
  close(rb[1]);
  for (i = 0; i < n + 1000; i++) {
    if (i == 1000) t0 = now_s(); /* after a warm-up */
    must(send(ar[0], buf, 64, 0) == 64, "send");
    must(recv(ar[0], buf, 64, 0) == 64, "recv");
  }
  t1 = now_s();
  close(ar[0]);
  waitpid(pr, NULL, 0);
  waitpid(pb, NULL, 0);
  printf("FIGURE %.0f\n", (double)n / (t1 - t0));
  return 0;
}
