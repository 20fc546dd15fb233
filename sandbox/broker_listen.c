/*
** sandbox/broker_listen.c
** The front door's listening sockets (`ward serve --listen`), opened by
** the broker and handed to the gateway: a unix socket made with mode
** 0600 (a stale one left by a ward that is gone is replaced, a live one
** is not), or TCP on a loopback address unless --listen-any.
** Runs in: broker.
*/
#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "broker_int.h"

static int listen_unix(const char *path, int *fdp, char **pathp, char *err,
                       size_t errlen) {
  struct sockaddr_un sa;
  struct stat st;
  mode_t old;
  int fd, r;
  memset(&sa, 0, sizeof sa);
  sa.sun_family = AF_UNIX;
  if (path[0] == '\0' || strlen(path) >= sizeof sa.sun_path) {
    snprintf(err, errlen, "unix:%s: path empty or too long", path);
    return WD_EINVAL;
  }
  memcpy(sa.sun_path, path, strlen(path));
  if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0) goto sys;
  /* A socket left by a ward that is gone is replaced; a live one not. */
  if (lstat(path, &st) == 0) {
    if (!S_ISSOCK(st.st_mode)) {
      close(fd);
      snprintf(err, errlen, "unix:%s: exists and is not a socket", path);
      return WD_EEXIST;
    }
    if (connect(fd, (struct sockaddr *)&sa, sizeof sa) == 0) {
      close(fd);
      snprintf(err, errlen, "unix:%s: another server listens there", path);
      return WD_EEXIST;
    }
    unlink(path);
  }
  old = umask(0177); /* made with mode 0600: no window for others */
  r = bind(fd, (struct sockaddr *)&sa, sizeof sa);
  umask(old);
  if (r != 0 || chmod(path, 0600) != 0 || listen(fd, 128) != 0) goto sys;
  if ((*pathp = wd_strdup(path)) == NULL) {
    close(fd);
    unlink(path);
    snprintf(err, errlen, "out of memory");
    return WD_ENOMEM;
  }
  *fdp = fd;
  return 0;
sys:
  r = -errno;
  snprintf(err, errlen, "unix:%s: %s", path, strerror(errno));
  if (fd >= 0) close(fd);
  return r;
}

static int is_loopback(const struct sockaddr *sa) {
  if (sa->sa_family == AF_INET)
    return (ntohl(((const struct sockaddr_in *)sa)->sin_addr.s_addr) >> 24) ==
           127;
  if (sa->sa_family == AF_INET6)
    return IN6_IS_ADDR_LOOPBACK(&((const struct sockaddr_in6 *)sa)->sin6_addr);
  return 0;
}

static int listen_tcp(const char *spec, int listen_any, int *fdp, char *err,
                      size_t errlen) {
  char host[256];
  const char *port = strrchr(spec, ':');
  struct addrinfo hints, *ai = NULL;
  int fd = -1, one = 1, r;
  size_t hl;
  if (port == NULL || (hl = (size_t)(port - spec)) == 0 ||
      hl >= sizeof host) {
    snprintf(err, errlen, "tcp:%s: HOST:PORT is required", spec);
    return WD_EINVAL;
  }
  memcpy(host, spec, hl);
  host[hl] = '\0';
  if (host[0] == '[' && hl > 2 && host[hl - 1] == ']') {
    memmove(host, host + 1, hl - 2);
    host[hl - 2] = '\0';
  }
  if (strcmp(host, "localhost") == 0) snprintf(host, sizeof host, "127.0.0.1");
  memset(&hints, 0, sizeof hints);
  hints.ai_flags = AI_NUMERICHOST | AI_NUMERICSERV | AI_PASSIVE;
  hints.ai_socktype = SOCK_STREAM;
  if ((r = getaddrinfo(host, port + 1, &hints, &ai)) != 0) {
    snprintf(err, errlen, "tcp:%s: %s", spec, gai_strerror(r));
    return WD_EINVAL;
  }
  if (!is_loopback(ai->ai_addr) && !listen_any) {
    freeaddrinfo(ai);
    snprintf(err, errlen, "tcp:%s: not a loopback address (give "
             "--listen-any to listen on it)", spec);
    return WD_EINVAL;
  }
  if ((fd = socket(ai->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0 ||
      setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) != 0 ||
      bind(fd, ai->ai_addr, ai->ai_addrlen) != 0 || listen(fd, 128) != 0) {
    r = -errno;
    snprintf(err, errlen, "tcp:%s: %s", spec, strerror(errno));
    if (fd >= 0) close(fd);
    freeaddrinfo(ai);
    return r;
  }
  freeaddrinfo(ai);
  *fdp = fd;
  return 0;
}

int wd__brk_listen(const char *spec, int listen_any, int *fd, char **path,
                   char *err, size_t errlen) {
  *fd = -1;
  *path = NULL;
  if (strncmp(spec, "unix:", 5) == 0)
    return listen_unix(spec + 5, fd, path, err, errlen);
  if (strncmp(spec, "tcp:", 4) == 0)
    return listen_tcp(spec + 4, listen_any, fd, err, errlen);
  snprintf(err, errlen, "--listen %s: unix:PATH or tcp:HOST:PORT", spec);
  return WD_EINVAL;
}
