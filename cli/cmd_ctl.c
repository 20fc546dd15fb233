/*
** cli/cmd_ctl.c
** 'ward ctl': a client of a serving ward's HTTP API (ward serve --listen),
** for people and shell scripts. One request per run over a unix socket or
** TCP, the answer's JSON body printed on standard output. The response is
** parsed with llhttp, the request body built with jansson.
** Exit status: 0 a 2xx answer; 1 an error answer or no server; 2 bad usage.
** Runs in: the ward command.
*/
#include <ctype.h>
#include <dirent.h>
#include <fcntl.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <archive.h>
#include <archive_entry.h>
#include <jansson.h>
#include <llhttp.h>

#include "cmd_int.h"
#include "ward/wd_common.h"

static const char usage_ctl[] =
    "usage: ward ctl [--connect ADDR] [--token-file FILE] COMMAND ...\n"
    "\n"
    "commands:\n"
    "  exec ENTRY [--host H] [--timeout D] [ARG...]   run ENTRY, wait, print\n"
    "                     {\"result\": ...}\n"
    "  spawn ENTRY [--host H] [ARG...]   start ENTRY, print {\"pid\": ...}\n"
    "  send DEST TOPIC [PAYLOAD]   send to a PID or registered name\n"
    "  kill PID           terminate a process\n"
    "  ps                 the processes running: {\"processes\": [...]}\n"
    "  hosts              the hosts: {\"hosts\": [...]}\n"
    "  metrics            the counters, Prometheus text format\n"
    "  deploy NS DIR      deploy DIR (its _index.yaml and sources) as the\n"
    "                     new revision of namespace NS; print {\"namespace\",\n"
    "                     \"revision\"} or every error\n"
    "  reload             reload the policies; print {\"digest\"}\n"
    "\n"
    "An ARG or PAYLOAD that is JSON (1, 2.5, true, null, \"s\", [..], {..})\n"
    "is sent as that value, anything else as a string.\n"
    "\n"
    "options:\n"
    "  --connect unix:PATH|tcp:HOST:PORT   the server (default: $WARD_CONNECT)\n"
    "  --token-file FILE  its first line is the token ID:SECRET (default:\n"
    "                     $WARD_TOKEN)\n"
    "\n"
    "exit status: 0 success; 1 the server answered an error (or none); 2 bad\n"
    "usage.\n";

static int usage(const char *msg) {
  fprintf(stderr, "ward ctl: %s\n%s", msg, usage_ctl);
  return 2;
}

/* {====== The connection ====== */

static int dial(const char *addr) {
  int fd;
  if (strncmp(addr, "unix:", 5) == 0) {
    struct sockaddr_un sa;
    memset(&sa, 0, sizeof sa);
    sa.sun_family = AF_UNIX;
    if (strlen(addr + 5) >= sizeof sa.sun_path) return -1;
    strcpy(sa.sun_path, addr + 5);
    fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd >= 0 && connect(fd, (struct sockaddr *)&sa, sizeof sa) == 0)
      return fd;
  } else if (strncmp(addr, "tcp:", 4) == 0) {
    char host[256];
    const char *port = strrchr(addr + 4, ':');
    struct addrinfo hints, *ai = NULL;
    size_t hl;
    if (port == NULL || (hl = (size_t)(port - addr - 4)) >= sizeof host)
      return -1;
    memcpy(host, addr + 4, hl);
    host[hl] = '\0';
    memset(&hints, 0, sizeof hints);
    hints.ai_socktype = SOCK_STREAM;
    if (getaddrinfo(host, port + 1, &hints, &ai) != 0) return -1;
    fd = socket(ai->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd >= 0 && connect(fd, ai->ai_addr, ai->ai_addrlen) == 0) {
      freeaddrinfo(ai);
      return fd;
    }
    freeaddrinfo(ai);
  } else {
    return -1;
  }
  if (fd >= 0) close(fd);
  return -1;
}

typedef struct resp {
  int done;
  char *body;
  size_t len;
} resp;

static int on_body(llhttp_t *p, const char *at, size_t n) {
  resp *r = p->data;
  char *nb = realloc(r->body, r->len + n + 1);
  if (nb == NULL) return -1;
  memcpy(nb + r->len, at, n);
  r->body = nb;
  r->len += n;
  r->body[r->len] = '\0';
  return 0;
}

static int on_done(llhttp_t *p) {
  ((resp *)p->data)->done = 1;
  return 0;
}

/* Send one request and print the answer's body (or, with 'keep', hand
** it back there: the caller frees keep->body). Returns the status (0
** when none came). */
static int roundtrip(const char *addr, const char *method, const char *path,
                     const char *token, const char *body, size_t bl,
                     const char *ctype, resp *keep) {
  llhttp_t p;
  llhttp_settings_t st;
  resp r;
  char head[4096], buf[65536];
  int fd, hl;
  ssize_t n;
  if ((fd = dial(addr)) < 0) {
    if (keep == NULL)
      fprintf(stderr, "ward ctl: cannot connect to %s\n", addr);
    return 0;
  }
  hl = snprintf(head, sizeof head,
                "%s %s HTTP/1.1\r\nHost: ward\r\nConnection: close\r\n"
                "%s%s%s"
                "Content-Type: %s\r\nContent-Length: %zu\r\n\r\n",
                method, path, token ? "Authorization: Bearer " : "",
                token ? token : "", token ? "\r\n" : "",
                ctype != NULL ? ctype : "application/json", bl);
  if (hl <= 0 || (size_t)hl >= sizeof head ||
      write(fd, head, (size_t)hl) != hl ||
      (bl && write(fd, body, bl) != (ssize_t)bl)) {
    fprintf(stderr, "ward ctl: cannot send the request\n");
    close(fd);
    return 0;
  }
  llhttp_settings_init(&st);
  st.on_body = on_body;
  st.on_message_complete = on_done;
  llhttp_init(&p, HTTP_RESPONSE, &st);
  memset(&r, 0, sizeof r);
  p.data = &r;
  while (!r.done && (n = read(fd, buf, sizeof buf)) > 0)
    if (llhttp_execute(&p, buf, (size_t)n) != HPE_OK) break;
  if (!r.done) llhttp_finish(&p);
  close(fd);
  if (!r.done) {
    if (keep == NULL)
      fprintf(stderr, "ward ctl: no answer from %s\n", addr);
    free(r.body);
    return 0;
  }
  if (keep != NULL) {
    *keep = r;
    return p.status_code;
  }
  if (r.len > 0) {
    fwrite(r.body, 1, r.len, stdout);
    if (r.body[r.len - 1] != '\n') putchar('\n');
  }
  free(r.body);
  return p.status_code;
}

int wd__ctl_get(const char *addr, const char *path, const char *token,
                char **body, size_t *len) {
  resp r;
  int st;
  memset(&r, 0, sizeof r);
  st = roundtrip(addr, "GET", path, token, NULL, 0, NULL, &r);
  *body = r.body;
  *len = r.len;
  return st;
}

/* }====== */

/* {====== Deploy: a directory as a tar archive (libarchive) ====== */

typedef struct tarbuf {
  char *p;
  size_t len, cap;
} tarbuf;

static la_ssize_t tar_write(struct archive *a, void *ud, const void *p,
                            size_t n) {
  tarbuf *t = ud;
  (void)a;
  if (t->len + n > t->cap) {
    size_t cap = (t->len + n) * 2;
    char *np = realloc(t->p, cap);
    if (np == NULL) return -1;
    t->p = np;
    t->cap = cap;
  }
  memcpy(t->p + t->len, p, n);
  t->len += n;
  return (la_ssize_t)n;
}

/* Add the regular files below 'dir' + 'rel' to 'a' (sorted, so that the
** same directory makes the same archive). Symlinks and special files are
** refused: the server would refuse them too. Returns 0 or -1. */
static int tar_dir(struct archive *a, const char *dir, const char *rel,
                   int depth) {
  struct dirent **names;
  char full[4096], child[2048];
  int n, i, r = 0;
  snprintf(full, sizeof full, "%s%s%s", dir, rel[0] ? "/" : "", rel);
  if (depth > 32 || (n = scandir(full, &names, NULL, alphasort)) < 0) {
    fprintf(stderr, "ward ctl: %s: cannot read the directory\n", full);
    return -1;
  }
  for (i = 0; i < n; i++) {
    const char *nm = names[i]->d_name;
    struct stat st;
    char path[8192];
    if (r == 0 && strcmp(nm, ".") != 0 && strcmp(nm, "..") != 0) {
      snprintf(child, sizeof child, "%s%s%s", rel, rel[0] ? "/" : "", nm);
      snprintf(path, sizeof path, "%s/%s", dir, child);
      if (lstat(path, &st) != 0) {
        fprintf(stderr, "ward ctl: %s: cannot read\n", path);
        r = -1;
      } else if (S_ISDIR(st.st_mode)) {
        r = tar_dir(a, dir, child, depth + 1);
      } else if (!S_ISREG(st.st_mode)) {
        fprintf(stderr, "ward ctl: %s: not a regular file\n", path);
        r = -1;
      } else {
        struct archive_entry *e = archive_entry_new();
        FILE *f = fopen(path, "rb");
        char buf[65536];
        size_t k;
        archive_entry_set_pathname(e, child);
        archive_entry_set_filetype(e, AE_IFREG);
        archive_entry_set_perm(e, 0644);
        archive_entry_set_size(e, st.st_size);
        if (f == NULL || archive_write_header(a, e) != ARCHIVE_OK) r = -1;
        while (r == 0 && (k = fread(buf, 1, sizeof buf, f)) > 0)
          if (archive_write_data(a, buf, k) != (la_ssize_t)k) r = -1;
        if (r < 0)
          fprintf(stderr, "ward ctl: %s: %s\n", path,
                  f == NULL ? "cannot open" : archive_error_string(a));
        if (f != NULL) fclose(f);
        archive_entry_free(e);
      }
    }
    free(names[i]);
  }
  free(names);
  return r;
}

/* The files below 'dir' as a ustar archive in '*t'. Returns 0 or -1. */
static int make_tar(const char *dir, tarbuf *t) {
  struct archive *a = archive_write_new();
  int r;
  memset(t, 0, sizeof *t);
  if (a == NULL || archive_write_set_format_ustar(a) != ARCHIVE_OK ||
      archive_write_open(a, t, NULL, tar_write, NULL) != ARCHIVE_OK) {
    fprintf(stderr, "ward ctl: cannot make an archive\n");
    if (a != NULL) archive_write_free(a);
    return -1;
  }
  r = tar_dir(a, dir, "", 0);
  if (archive_write_close(a) != ARCHIVE_OK) r = -1;
  archive_write_free(a);
  return r;
}

/* }====== */

/* A path segment, percent-encoded but for the unreserved characters. */
static void escape(const char *s, char *out, size_t outlen) {
  size_t k = 0;
  for (; *s && k + 4 < outlen; s++) {
    unsigned char ch = (unsigned char)*s;
    if (isalnum(ch) || strchr("-._~:", ch) != NULL)
      out[k++] = (char)ch;
    else
      k += (size_t)snprintf(out + k, outlen - k, "%%%02X", ch);
  }
  out[k] = '\0';
}

/* An argument: its JSON value, or the string itself. */
static json_t *arg_value(const char *a) {
  json_t *v = json_loads(a, JSON_DECODE_ANY, NULL);
  return v != NULL ? v : json_string(a);
}

char *wd__ctl_token(const char *file) {
  static char line[1024];
  FILE *f;
  if (file == NULL) {
    const char *e = getenv("WARD_TOKEN");
    return e != NULL ? strncpy(line, e, sizeof line - 1) : NULL;
  }
  if ((f = fopen(file, "re")) == NULL) return NULL;
  if (fgets(line, sizeof line, f) == NULL) line[0] = '\0';
  fclose(f);
  line[strcspn(line, "\r\n")] = '\0';
  return line;
}

int wd__cmd_ctl(int argc, char **argv) {
  const char *addr = getenv("WARD_CONNECT"), *tfile = NULL, *cmd, *method;
  char path[2048], seg[1024], *token, *body = NULL;
  const char *ctype = "application/json";
  size_t bl = 0;
  json_t *j = NULL;
  int i = 0, status;
  for (; i < argc && argv[i][0] == '-'; i++) {
    if ((strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0)) {
      fputs(usage_ctl, stdout);
      return 0;
    } else if (strcmp(argv[i], "--connect") == 0 && i + 1 < argc) {
      addr = argv[++i];
    } else if (strcmp(argv[i], "--token-file") == 0 && i + 1 < argc) {
      tfile = argv[++i];
    } else {
      return usage("unknown option");
    }
  }
  if (i >= argc) return usage("a command is required");
  if (addr == NULL) return usage("--connect (or $WARD_CONNECT) is required");
  if ((token = wd__ctl_token(tfile)) == NULL && tfile != NULL) {
    fprintf(stderr, "ward ctl: %s: cannot read the token\n", tfile);
    return 2;
  }
  cmd = argv[i++];
  if (strcmp(cmd, "exec") == 0 || strcmp(cmd, "spawn") == 0) {
    json_t *args = json_array();
    if (i >= argc) return usage("an ENTRY is required");
    escape(argv[i++], seg, sizeof seg);
    j = json_object();
    for (; i < argc; i++) {
      if (strcmp(argv[i], "--host") == 0 && i + 1 < argc)
        json_object_set_new(j, "host", json_string(argv[++i]));
      else if (strcmp(argv[i], "--timeout") == 0 && i + 1 < argc &&
               cmd[0] == 'e')
        json_object_set_new(j, "timeout", json_string(argv[++i]));
      else
        json_array_append_new(args, arg_value(argv[i]));
    }
    json_object_set_new(j, "args", args);
    snprintf(path, sizeof path, "/v1/%s/%s", cmd, seg);
    method = "POST";
  } else if (strcmp(cmd, "send") == 0) {
    if (argc - i < 2 || argc - i > 3)
      return usage("send DEST TOPIC [PAYLOAD]");
    escape(argv[i], seg, sizeof seg);
    j = json_pack("{ss}", "topic", argv[i + 1]);
    if (argc - i == 3)
      json_object_set_new(j, "payload", arg_value(argv[i + 2]));
    snprintf(path, sizeof path, "/v1/send/%s", seg);
    method = "POST";
  } else if (strcmp(cmd, "kill") == 0) {
    if (argc - i != 1) return usage("kill PID");
    escape(argv[i], seg, sizeof seg);
    snprintf(path, sizeof path, "/v1/processes/%s", seg);
    method = "DELETE";
  } else if (strcmp(cmd, "ps") == 0 || strcmp(cmd, "hosts") == 0 ||
             strcmp(cmd, "metrics") == 0) {
    if (argc - i != 0) return usage("ps, hosts and metrics take no arguments");
    snprintf(path, sizeof path, "%s",
             cmd[0] == 'p'   ? "/v1/processes"
             : cmd[0] == 'h' ? "/v1/hosts"
                             : "/metrics");
    method = "GET";
  } else if (strcmp(cmd, "reload") == 0) {
    if (argc - i != 0) return usage("reload takes no argument");
    snprintf(path, sizeof path, "/v1/policies/reload");
    method = "POST";
  } else if (strcmp(cmd, "deploy") == 0) {
    tarbuf t;
    if (argc - i != 2) return usage("deploy NAMESPACE DIR");
    escape(argv[i], seg, sizeof seg);
    if (make_tar(argv[i + 1], &t) < 0) {
      free(t.p);
      return 2;
    }
    snprintf(path, sizeof path, "/v1/apps/%s", seg);
    method = "PUT";
    body = t.p;
    bl = t.len;
    ctype = "application/x-tar";
  } else {
    return usage("unknown command");
  }
  if (j != NULL && (body = json_dumps(j, JSON_COMPACT)) == NULL) {
    json_decref(j);
    fprintf(stderr, "ward ctl: out of memory\n");
    return 1;
  }
  if (j != NULL) bl = strlen(body);
  json_decref(j);
  status = roundtrip(addr, method, path, token, body, bl, ctype, NULL);
  free(body);
  return status >= 200 && status < 300 ? 0 : 1;
}
