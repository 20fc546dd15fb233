/*
** cli/cmd_audit.c
** 'ward audit keygen DIR' and 'ward audit verify FILE [--key PUBFILE]':
** make the Ed25519 key pair that signs audit log checkpoints, and check a
** log (format in include/ward/wd_audit.h).
** Exit status: 0 success, 1 the job failed (a log that does not verify,
** a key that already exists), 2 bad usage or unreadable input.
** Runs in: the ward command (broker side).
*/
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

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
  char keybuf[4096], report[1024];
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
  if (key == NULL) {
    if ((size_t)snprintf(keybuf, sizeof keybuf, "%s.pub", file) >=
        sizeof keybuf) {
      fprintf(stderr, "ward audit verify: %s: path too long\n", file);
      return 2;
    }
    key = keybuf;
  }
  if (wd_audit_pub_load(key, &pub, report, sizeof report) < 0) {
    fprintf(stderr, "ward audit verify: %s\n", report);
    return 2;
  }
  r = wd_audit_verify(file, &pub, report, sizeof report);
  if (r == 0 || r == WD_EINVAL) {
    printf("%s: %s\n", file, report);
    return r == 0 ? 0 : 1;
  }
  fprintf(stderr, "ward audit verify: %s\n", report);
  return 2;
}

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
  fprintf(stderr, "ward audit: unknown command '%s'\n%s", argv[0], usage_audit);
  return 2;
}
