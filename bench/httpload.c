/* httpload: a small closed-loop HTTP/1.1 load generator for
 * bench/ingress.sh, for what wrk cannot reach: a unix socket. C
 * keep-alive connections each send the same request, wait for the whole
 * answer (Content-Length), and send it again, for D seconds.
 *   httpload unix:PATH|tcp:IP:PORT CONNS SECONDS REQUEST-FILE
 * prints: REQS <n> NON2XX <n> ERRORS <n> SECS <s> RPS <r> P50US <us> P99US <us>
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

typedef struct { int fd; size_t sent, got; double t0; char buf[65536]; } conn;
static char *req; static size_t reqlen;
static struct sockaddr_storage sa; static socklen_t salen; static int fam;
static double now(void) { struct timespec t; clock_gettime(CLOCK_MONOTONIC, &t); return t.tv_sec + t.tv_nsec / 1e9; }
static double *lat; static size_t nlat, caplat;
static long non2xx, errs;
static int cmpd(const void *a, const void *b) { double x = *(const double *)a, y = *(const double *)b; return (x > y) - (x < y); }

static int dial(int ep, conn *c) {
  c->fd = socket(fam, SOCK_STREAM | SOCK_NONBLOCK, 0);
  if (c->fd < 0 || (connect(c->fd, (struct sockaddr *)&sa, salen) < 0 && errno != EINPROGRESS)) return -1;
  c->sent = c->got = 0; c->t0 = now();
  struct epoll_event ev = { .events = EPOLLIN | EPOLLOUT, .data.ptr = c };
  return epoll_ctl(ep, EPOLL_CTL_ADD, c->fd, &ev);
}
static void restart(int ep, conn *c) { errs++; epoll_ctl(ep, EPOLL_CTL_DEL, c->fd, NULL); close(c->fd); if (dial(ep, c) < 0) { perror("connect"); exit(1); } }

int main(int argc, char **argv) {
  if (argc != 5) { fprintf(stderr, "usage: httpload unix:PATH|tcp:IP:PORT CONNS SECONDS REQUEST-FILE\n"); return 2; }
  if (!strncmp(argv[1], "unix:", 5)) {
    struct sockaddr_un *u = (struct sockaddr_un *)&sa; u->sun_family = fam = AF_UNIX;
    snprintf(u->sun_path, sizeof u->sun_path, "%s", argv[1] + 5); salen = sizeof *u;
  } else if (!strncmp(argv[1], "tcp:", 4)) {
    struct sockaddr_in *i = (struct sockaddr_in *)&sa; char host[64]; int port;
    if (sscanf(argv[1] + 4, "%63[^:]:%d", host, &port) != 2) return 2;
    i->sin_family = fam = AF_INET; i->sin_port = htons(port); inet_pton(AF_INET, host, &i->sin_addr); salen = sizeof *i;
  } else return 2;
  int n = atoi(argv[2]); double secs = atof(argv[3]);
  FILE *f = fopen(argv[4], "rb"); if (!f) { perror(argv[4]); return 2; }
  req = malloc(65536); reqlen = fread(req, 1, 65536, f); fclose(f);
  int ep = epoll_create1(0);
  conn *cs = calloc(n, sizeof *cs);
  for (int i = 0; i < n; i++) if (dial(ep, &cs[i]) < 0) { perror("connect"); return 1; }
  double start = now(), end = start + secs;
  struct epoll_event evs[256];
  while (now() < end) {
    int k = epoll_wait(ep, evs, 256, 100);
    for (int j = 0; j < k; j++) {
      conn *c = evs[j].data.ptr;
      if (c->sent < reqlen) {
        ssize_t w = write(c->fd, req + c->sent, reqlen - c->sent);
        if (w < 0) { if (errno != EAGAIN) restart(ep, c); continue; }
        c->sent += w;
        if (c->sent == reqlen) { struct epoll_event ev = { .events = EPOLLIN, .data.ptr = c }; epoll_ctl(ep, EPOLL_CTL_MOD, c->fd, &ev); }
        continue;
      }
      ssize_t r = read(c->fd, c->buf + c->got, sizeof c->buf - 1 - c->got);
      if (r <= 0) { if (r < 0 && errno == EAGAIN) continue; restart(ep, c); continue; }
      c->got += r; c->buf[c->got] = 0;
      char *h = strstr(c->buf, "\r\n\r\n"); if (!h) continue;
      char *cl = strcasestr(c->buf, "\r\ncontent-length:");
      size_t want = (h - c->buf) + 4 + (cl && cl < h ? strtoul(cl + 17, NULL, 10) : 0);
      if (c->got < want) continue;
      double t = now();
      if (strncmp(c->buf + 9, "200", 3)) non2xx++;
      if (nlat == caplat) { caplat = caplat ? caplat * 2 : 65536; lat = realloc(lat, caplat * sizeof *lat); }
      lat[nlat++] = t - c->t0;
      c->got = 0; c->sent = 0; c->t0 = t;
      struct epoll_event ev = { .events = EPOLLOUT, .data.ptr = c }; epoll_ctl(ep, EPOLL_CTL_MOD, c->fd, &ev);
    }
  }
  double el = now() - start;
  qsort(lat, nlat, sizeof *lat, cmpd);
  printf("REQS %zu NON2XX %ld ERRORS %ld SECS %.2f RPS %.0f P50US %.0f P99US %.0f\n", nlat, non2xx, errs, el,
         nlat / el, nlat ? lat[nlat / 2] * 1e6 : 0, nlat ? lat[(size_t)(nlat * 0.99)] * 1e6 : 0);
  return 0;
}
