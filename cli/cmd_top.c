/*
** cli/cmd_top.c
** 'ward top': a live terminal view of a serving ward through its API
** (GET /v1/hosts, /v1/processes and /metrics, so the token needs
** ward.status): the hosts, the busiest processes (by CPU, memory or
** mailbox depth: keys c, m, b), and denials and spawns per second from
** the counters' change between two refreshes. Redrawn every second; q
** quits. --once draws one screen without the terminal's raw mode.
** Runs in: the ward command.
*/
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "cmd_int.h"
#include "ward/wd_common.h"

static const char usage_top[] =
    "usage: ward top [--connect ADDR] [--token-file FILE] [--once]\n"
    "  a live view of a serving ward (its token needs ward.status);\n"
    "  keys: q quits; c, m, b sort the processes by CPU, memory, mailbox\n";

#define TOP_ROWS 15

typedef struct proc {
  const char *pid, *entry, *host, *actor;
  double cpu, mem, mbox;
} proc;

static int sort_key; /* 0 cpu, 1 memory, 2 mailbox */

static double key_of(const proc *p) {
  return sort_key == 0 ? p->cpu : sort_key == 1 ? p->mem : p->mbox;
}

static int by_key(const void *a, const void *b) {
  double x = key_of(a), y = key_of(b);
  return x < y ? 1 : x > y ? -1 : 0;
}

/* The sum of the samples of the metrics text whose line starts with
** 'prefix' and holds 'has' (may be NULL). */
static double msum(const char *text, const char *prefix, const char *has) {
  double sum = 0;
  const char *l = text;
  size_t pl = strlen(prefix);
  while (l != NULL && *l) {
    const char *e = strchr(l, '\n');
    size_t n = e ? (size_t)(e - l) : strlen(l);
    if (n > pl && strncmp(l, prefix, pl) == 0) {
      char line[1024];
      snprintf(line, sizeof line, "%.*s", (int)n, l);
      if (has == NULL || strstr(line, has) != NULL) {
        const char *sp = strrchr(line, ' ');
        if (sp != NULL) sum += strtod(sp + 1, NULL);
      }
    }
    l = e ? e + 1 : NULL;
  }
  return sum;
}

static json_t *get_json(const char *addr, const char *path, const char *tok,
                        int *status) {
  char *body = NULL;
  size_t len = 0;
  json_t *j = NULL;
  *status = wd__ctl_get(addr, path, tok, &body, &len);
  if (body != NULL) j = json_loadb(body, len, 0, NULL);
  free(body);
  return j;
}

/* Draw one screen; returns 0, or 1 when the server cannot be read. */
static int draw(const char *addr, const char *tok, double *last_deny,
                double *last_spawn, double *last_t) {
  int st1, st2, st3;
  json_t *hosts = get_json(addr, "/v1/hosts", tok, &st1);
  json_t *ps = get_json(addr, "/v1/processes", tok, &st2);
  char *mtext = NULL;
  size_t mlen, i, n = 0;
  json_t *x, *arr;
  proc *rows = NULL;
  struct timespec ts;
  double now, deny, spawn;
  char clock[16];
  time_t tt = time(NULL);
  st3 = wd__ctl_get(addr, "/metrics", tok, &mtext, &mlen);
  strftime(clock, sizeof clock, "%H:%M:%S", localtime(&tt));
  printf("\033[H\033[2J");
  printf("ward top  %s  %s  (q quits; sort: c cpu, m memory, b mailbox)\n",
         addr, clock);
  if (st1 != 200 || st2 != 200 || st3 != 200) {
    printf("\nthe server answered %d %d %d: %s\n", st1, st2, st3,
           st1 == 403 || st2 == 403 || st3 == 403
               ? "permission denied (ward.status)"
           : st1 == 401 ? "not authenticated (token)"
           : st1 == 0   ? "no answer"
                        : "error");
    json_decref(hosts);
    json_decref(ps);
    free(mtext);
    fflush(stdout);
    return 1;
  }
  clock_gettime(CLOCK_MONOTONIC, &ts);
  now = (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
  deny = msum(mtext, "ward_broker_decisions_total{", "result=\"deny\"") +
         msum(mtext, "ward_host_decisions_deny_total{", NULL);
  spawn = msum(mtext, "ward_spawns_total{", NULL);
  arr = json_object_get(ps, "processes");
  printf("processes: %lld", (long long)json_integer_value(
                                json_object_get(ps, "total")));
  if (*last_t > 0 && now > *last_t)
    printf("   spawns/s: %.1f   denials/s: %.1f\n",
           (spawn - *last_spawn) / (now - *last_t),
           (deny - *last_deny) / (now - *last_t));
  else
    printf("   spawns/s: -   denials/s: -\n");
  *last_deny = deny;
  *last_spawn = spawn;
  *last_t = now;
  printf("\n%-16s %-11s %8s %9s %9s\n", "HOST", "STATE", "PID", "RESTARTS",
         "PROCESSES");
  json_array_foreach(json_object_get(hosts, "hosts"), i, x) {
    printf("%-16s %-11s %8lld %9lld %9lld\n",
           json_string_value(json_object_get(x, "id")),
           json_string_value(json_object_get(x, "state")),
           (long long)json_integer_value(json_object_get(x, "pid")),
           (long long)json_integer_value(json_object_get(x, "restarts")),
           (long long)json_integer_value(json_object_get(x, "processes")));
  }
  if (json_array_size(arr) > 0)
    rows = calloc(json_array_size(arr), sizeof *rows);
  json_array_foreach(arr, i, x) {
    if (rows == NULL) break;
    rows[n].pid = json_string_value(json_object_get(x, "pid"));
    rows[n].entry = json_string_value(json_object_get(x, "entry"));
    rows[n].host = json_string_value(json_object_get(x, "host"));
    rows[n].actor = json_string_value(json_object_get(x, "actor"));
    rows[n].cpu = json_number_value(json_object_get(x, "cpu_ms"));
    rows[n].mem = json_number_value(json_object_get(x, "memory"));
    rows[n].mbox = json_number_value(json_object_get(x, "mailbox"));
    n++;
  }
  if (n > 0) qsort(rows, n, sizeof *rows, by_key);
  printf("\nbusiest processes (by %s)\n",
         sort_key == 0 ? "cpu" : sort_key == 1 ? "memory" : "mailbox");
  printf("%-24s %-16s %-10s %-10s %10s %10s %8s\n", "PID", "ENTRY", "HOST",
         "ACTOR", "CPU ms", "MEMORY", "MAILBOX");
  for (i = 0; i < n && i < TOP_ROWS; i++)
    printf("%-24s %-16s %-10s %-10s %10.1f %10.0f %8.0f\n",
           rows[i].pid ? rows[i].pid : "?", rows[i].entry ? rows[i].entry : "?",
           rows[i].host ? rows[i].host : "?",
           rows[i].actor ? rows[i].actor : "?", rows[i].cpu, rows[i].mem,
           rows[i].mbox);
  fflush(stdout);
  free(rows);
  json_decref(hosts);
  json_decref(ps);
  free(mtext);
  return 0;
}

int wd__cmd_top(int argc, char **argv) {
  const char *addr = getenv("WARD_CONNECT"), *tfile = NULL;
  char *tok;
  int i, once = 0, raw = 0, r = 0;
  struct termios old, t;
  double last_deny = 0, last_spawn = 0, last_t = 0;
  for (i = 0; i < argc; i++) {
    if (strcmp(argv[i], "--connect") == 0 && i + 1 < argc) {
      addr = argv[++i];
    } else if (strcmp(argv[i], "--token-file") == 0 && i + 1 < argc) {
      tfile = argv[++i];
    } else if (strcmp(argv[i], "--once") == 0) {
      once = 1;
    } else if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0) {
      fputs(usage_top, stdout);
      return 0;
    } else {
      fprintf(stderr, "ward top: unknown option %s\n%s", argv[i], usage_top);
      return 2;
    }
  }
  if (addr == NULL) {
    fprintf(stderr, "ward top: --connect (or $WARD_CONNECT) is required\n");
    return 2;
  }
  if ((tok = wd__ctl_token(tfile)) == NULL && tfile != NULL) {
    fprintf(stderr, "ward top: %s: cannot read the token\n", tfile);
    return 2;
  }
  if (once) return draw(addr, tok, &last_deny, &last_spawn, &last_t);
  if (isatty(0) && tcgetattr(0, &old) == 0) {
    t = old;
    t.c_lflag &= (tcflag_t) ~(ICANON | ECHO);
    t.c_cc[VMIN] = 0;
    t.c_cc[VTIME] = 0;
    raw = tcsetattr(0, TCSANOW, &t) == 0;
  }
  for (;;) {
    struct pollfd pf = { 0, POLLIN, 0 };
    char ch;
    r = draw(addr, tok, &last_deny, &last_spawn, &last_t);
    if (poll(&pf, 1, 1000) > 0) {
      ssize_t n = read(0, &ch, 1);
      if (n <= 0 || ch == 'q' || ch == 'Q') break;
      if (ch == 'c') sort_key = 0;
      if (ch == 'm') sort_key = 1;
      if (ch == 'b') sort_key = 2;
    }
  }
  if (raw) tcsetattr(0, TCSANOW, &old);
  printf("\n");
  return r;
}
