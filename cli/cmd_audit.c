/*
** cli/cmd_audit.c
** 'ward audit keygen DIR', 'ward audit verify FILE [--key PUBFILE]' and
** 'ward audit show FILE [filters]': make the Ed25519 key pair that signs
** audit log checkpoints, check a log, and read one, checking it as it goes
** (format in include/ward/wd_audit.h).
** Exit status: 0 success, 1 the job failed (a log that does not verify,
** a key that already exists), 2 bad usage or unreadable input.
** Runs in: the ward command (broker side).
*/
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "cmd_int.h"
#include "ward/wd_audit.h"
#include "ward/wd_cli.h"

static const char usage_audit[] =
    "usage: ward audit COMMAND [OPTIONS] ARGS\n"
    "\n"
    "The audit log is JSON Lines: one record per decision or event, each\n"
    "holding the BLAKE2b hash of the record before it, with an Ed25519-signed\n"
    "checkpoint (a C2SP tlog-checkpoint over a Merkle tree of the records)\n"
    "every 1000 records and at close.\n"
    "\n"
    "commands:\n"
    "  keygen DIR          write a key pair: DIR/audit.key, DIR/audit.pub\n"
    "  verify FILE         check a log against its public key\n"
    "  show FILE           print the records (filtered), checking the log\n"
    "\n"
    "Run 'ward audit COMMAND --help' for the options of a command.\n";

static const char usage_keygen[] =
    "usage: ward audit keygen [--name NAME] DIR\n"
    "\n"
    "Make an Ed25519 key pair for signing audit logs (ward run --audit-key).\n"
    "Writes DIR/audit.key, the secret key (mode 0600; an existing one is\n"
    "never replaced), and DIR/audit.pub, the public key that 'ward audit\n"
    "verify --key' takes. Both are Go signed-note keys, so tools outside\n"
    "ward can check the checkpoints too. DIR is created (mode 0700) if it\n"
    "does not exist.\n"
    "\n"
    "options:\n"
    "  --name NAME        key name and checkpoint origin (default\n"
    "                     ward-audit; no spaces or '+')\n"
    "  -h, --help         show this help\n"
    "\n"
    "exit status: 0 written; 1 DIR/audit.key exists or cannot be written;\n"
    "2 bad usage.\n";

static const char usage_verify[] =
    "usage: ward audit verify [--key PUBFILE] FILE\n"
    "\n"
    "Check an audit log: sequence numbers, the hash chain, every\n"
    "checkpoint's signature and Merkle root, and that the log ends with its\n"
    "closing checkpoint. Prints 'FILE: ok: ...' or 'FILE: line N: what is\n"
    "wrong', naming the first record that was changed, removed, inserted or\n"
    "reordered, or where a truncated log ends.\n"
    "\n"
    "options:\n"
    "  --key PUBFILE      public key (default FILE.pub)\n"
    "  -h, --help         show this help\n"
    "\n"
    "exit status: 0 intact; 1 tampered, truncated or not closed; 2 bad\n"
    "usage, or the log or key cannot be read.\n";

static const char usage_show[] =
    "usage: ward audit show [OPTIONS] FILE\n"
    "\n"
    "Print the records of an audit log, one line each (or JSON Lines with\n"
    "--json), checking the log as it reads: a record is printed once the\n"
    "hash chain vouches for it, and the first record that was changed,\n"
    "removed, inserted or reordered stops the listing, named on stderr.\n"
    "Records after the last signed checkpoint (a log still being written)\n"
    "are printed with a warning. Checkpoint lines are not printed.\n"
    "\n"
    "options:\n"
    "  --key PUBFILE      public key (default FILE.pub)\n"
    "  --denied           decisions that denied only\n"
    "  --actor ID         records of this actor only\n"
    "  --action A         records of this action only\n"
    "  --since TIME       records at or after TIME, --until TIME before it\n"
    "                     (RFC 3339 in UTC as the log writes it, or a\n"
    "                     prefix of it: 2026-12-07, 2026-12-07T18:30)\n"
    "  --json             the records as they are in the log\n"
    "  -h, --help         show this help\n"
    "\n"
    "Text lines: LINE TIME KIND, then for a decision EFFECT ACTOR ACTION\n"
    "RESOURCE (REASON) [POLICIES] entry=ENTRY; for other kinds host, pid,\n"
    "reason.\n"
    "\n"
    "exit status: 0 listed (a log not yet closed included); 1 the log is\n"
    "tampered with (the records before the bad one are printed); 2 bad\n"
    "usage, or the log or key cannot be read.\n";

int wd__cmd_audit_key(const char *cmd, const char *log, const char *key,
                      wd_audit_pub *pub) {
  char buf[4200], err[1024];
  if (key == NULL) {
    if ((size_t)snprintf(buf, sizeof buf, "%s.pub", log) >= sizeof buf) {
      fprintf(stderr, "ward %s: %s: path too long\n", cmd, log);
      return 2;
    }
    key = buf;
  }
  if (wd_audit_pub_load(key, pub, err, sizeof err) < 0) {
    fprintf(stderr, "ward %s: %s\n", cmd, err);
    return 2;
  }
  return 0;
}

static int is_help(const char *a) {
  return strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0;
}

static int cmd_keygen(int argc, char **argv) {
  const char *name = WD_AUDIT_DEFAULT_NAME, *dir = NULL;
  char sec[4096], pub[4096], err[1024];
  int i, r;
  for (i = 0; i < argc; i++) {
    if (is_help(argv[i])) {
      fputs(usage_keygen, stdout);
      return 0;
    } else if (strcmp(argv[i], "--name") == 0 && i + 1 < argc) {
      name = argv[++i];
    } else if (argv[i][0] == '-') {
      fprintf(stderr, "ward audit keygen: unknown option '%s'\n%s", argv[i],
              usage_keygen);
      return 2;
    } else if (dir == NULL) {
      dir = argv[i];
    } else {
      fprintf(stderr, "ward audit keygen: one DIR only\n%s", usage_keygen);
      return 2;
    }
  }
  if (dir == NULL) {
    fprintf(stderr, "ward audit keygen: DIR is required\n%s", usage_keygen);
    return 2;
  }
  if ((size_t)snprintf(sec, sizeof sec, "%s/audit.key", dir) >= sizeof sec ||
      (size_t)snprintf(pub, sizeof pub, "%s/audit.pub", dir) >= sizeof pub) {
    fprintf(stderr, "ward audit keygen: %s: path too long\n", dir);
    return 2;
  }
  if (mkdir(dir, 0700) == -1 && errno != EEXIST) {
    fprintf(stderr, "ward audit keygen: %s: %s\n", dir, strerror(errno));
    return 1;
  }
  if ((r = wd_audit_keygen(name, sec, pub, err, sizeof err)) < 0) {
    fprintf(stderr, "ward audit keygen: %s\n", err);
    return r == WD_EINVAL ? 2 : 1;
  }
  printf("wrote %s (secret, keep it) and %s\n", sec, pub);
  return 0;
}

static int cmd_verify(int argc, char **argv) {
  const char *key = NULL, *file = NULL;
  char report[1024];
  wd_audit_pub pub;
  int i, r;
  for (i = 0; i < argc; i++) {
    if (is_help(argv[i])) {
      fputs(usage_verify, stdout);
      return 0;
    } else if (strcmp(argv[i], "--key") == 0 && i + 1 < argc) {
      key = argv[++i];
    } else if (argv[i][0] == '-') {
      fprintf(stderr, "ward audit verify: unknown option '%s'\n%s", argv[i],
              usage_verify);
      return 2;
    } else if (file == NULL) {
      file = argv[i];
    } else {
      fprintf(stderr, "ward audit verify: one FILE only\n%s", usage_verify);
      return 2;
    }
  }
  if (file == NULL) {
    fprintf(stderr, "ward audit verify: FILE is required\n%s", usage_verify);
    return 2;
  }
  if (wd__cmd_audit_key("audit verify", file, key, &pub) != 0) return 2;
  r = wd_audit_verify(file, &pub, report, sizeof report);
  if (r == 0 || r == WD_EINVAL) {
    printf("%s: %s\n", file, report);
    return r == 0 ? 0 : 1;
  }
  fprintf(stderr, "ward audit verify: %s\n", report);
  return 2;
}

/* {====== show ====== */

typedef struct show {
  int denied, json;
  const char *actor, *action, *since, *until;
  unsigned long shown;
} show;

/* A string field of a record into 'out' ("" when absent or too long). */
static void fld(const char *p, size_t n, const char *key, char *out,
                size_t cap) {
  if (wd_audit_field(p, n, key, out, cap, NULL, NULL) != 1) out[0] = '\0';
}

/* TIME at or after the prefix 'since' (a prefix compares as its start). */
static int time_before(const char *t, const char *bound) {
  return strncmp(t, bound, strlen(bound)) < 0;
}

static int show_one(void *ud, uint64_t line, const char *p, size_t n) {
  show *o = ud;
  char kind[32], time[64], actor[256], action[128], effect[8];
  char resource[1100], reason[1100], entry[256], host[256], pid[64];
  const char *pol = NULL;
  size_t pl = 0;
  fld(p, n, "kind", kind, sizeof kind);
  if (strcmp(kind, "checkpoint") == 0) return 0;
  fld(p, n, "time", time, sizeof time);
  fld(p, n, "actor", actor, sizeof actor);
  fld(p, n, "action", action, sizeof action);
  fld(p, n, "effect", effect, sizeof effect);
  if (o->denied && strcmp(effect, "deny") != 0) return 0;
  if (o->actor != NULL && strcmp(actor, o->actor) != 0) return 0;
  if (o->action != NULL && strcmp(action, o->action) != 0) return 0;
  if (o->since != NULL && time_before(time, o->since)) return 0;
  if (o->until != NULL && !time_before(time, o->until)) return 0;
  o->shown++;
  if (o->json) {
    printf("%.*s\n", (int)n, p);
    return 0;
  }
  fld(p, n, "resource", resource, sizeof resource);
  fld(p, n, "reason", reason, sizeof reason);
  fld(p, n, "host", host, sizeof host);
  fld(p, n, "pid", pid, sizeof pid);
  fld(p, n, "entry", entry, sizeof entry);
  if (strcmp(kind, "decision") == 0) {
    (void)wd_audit_field(p, n, "policies", NULL, 0, &pol, &pl);
    printf("%llu %s decision %s %s %s %s (%s) %.*s%s%s\n",
           (unsigned long long)line, time, effect, actor[0] ? actor : "-",
           action, resource, reason, pol != NULL ? (int)pl : 2,
           pol != NULL ? pol : "[]",
           entry[0] ? " entry=" : "", entry);
  } else {
    printf("%llu %s %s%s%s%s%s%s%s\n", (unsigned long long)line, time, kind,
           host[0] ? " host=" : "", host, pid[0] ? " pid=" : "", pid,
           reason[0] ? " " : "", reason);
  }
  return 0;
}

static int cmd_show(int argc, char **argv) {
  const char *key = NULL, *file = NULL;
  char report[1024];
  wd_audit_pub pub;
  show o;
  int i, r;
  memset(&o, 0, sizeof o);
  for (i = 0; i < argc; i++) {
    const char *a = argv[i];
    int more = i + 1 < argc;
    if (is_help(a)) {
      fputs(usage_show, stdout);
      return 0;
    } else if (strcmp(a, "--denied") == 0) {
      o.denied = 1;
    } else if (strcmp(a, "--json") == 0) {
      o.json = 1;
    } else if (more && strcmp(a, "--key") == 0) {
      key = argv[++i];
    } else if (more && strcmp(a, "--actor") == 0) {
      o.actor = argv[++i];
    } else if (more && strcmp(a, "--action") == 0) {
      o.action = argv[++i];
    } else if (more && strcmp(a, "--since") == 0) {
      o.since = argv[++i];
    } else if (more && strcmp(a, "--until") == 0) {
      o.until = argv[++i];
    } else if (a[0] == '-') {
      fprintf(stderr, "ward audit show: unknown option or missing value "
              "'%s'\n%s", a, usage_show);
      return 2;
    } else if (file == NULL) {
      file = a;
    } else {
      fprintf(stderr, "ward audit show: one FILE only\n%s", usage_show);
      return 2;
    }
  }
  if (file == NULL) {
    fprintf(stderr, "ward audit show: FILE is required\n%s", usage_show);
    return 2;
  }
  if (wd__cmd_audit_key("audit show", file, key, &pub) != 0) return 2;
  r = wd_audit_walk(file, &pub, show_one, &o, report, sizeof report);
  fflush(stdout);
  if (r == 0) return 0;
  if (r == WD_EINVAL && (strstr(report, "not covered by a checkpoint") ||
                        strstr(report, "not the closing one"))) {
    fprintf(stderr, "ward audit show: %s: warning: %s\n", file, report);
    return 0;
  }
  if (r == WD_EINVAL) {
    fprintf(stderr, "ward audit show: %s: %s\n", file, report);
    return 1;
  }
  fprintf(stderr, "ward audit show: %s\n", report);
  return 2;
}

/* }====== */

int wd_cmd_audit(int argc, char **argv) {
  if (argc < 1) {
    fputs(usage_audit, stderr);
    return 2;
  }
  if (is_help(argv[0])) {
    fputs(usage_audit, stdout);
    return 0;
  }
  if (strcmp(argv[0], "keygen") == 0) return cmd_keygen(argc - 1, argv + 1);
  if (strcmp(argv[0], "verify") == 0) return cmd_verify(argc - 1, argv + 1);
  if (strcmp(argv[0], "show") == 0) return cmd_show(argc - 1, argv + 1);
  fprintf(stderr, "ward audit: unknown command '%s'\n%s", argv[0], usage_audit);
  return 2;
}
