/*
** tests/unit/test_sandbox_audit.c
** The audit log: a written log verifies, and every kind of tampering is
** caught and named by line: each byte and each field of a record, a
** checkpoint, a dropped, swapped, duplicated or crafted record, a chain
** rewritten without the key, a truncated tail, a foreign signature, the
** wrong key. Writes that fail (disk full) are errors that stick. Keys,
** JSON escaping, the Merkle root and signature checked independently of
** the writer (as an outside tool would), and an OOM sweep.
** Runs in: broker.
*/
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <signal.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>
#include <sodium.h>

#include "ward/wd_audit.h"

static char tmpdir[PATH_MAX], logp[PATH_MAX + 16], keyp[PATH_MAX + 16],
    pubp[PATH_MAX + 16], err[1024], report[1024];

/* {====== Helpers ====== */

static int rm_cb(const char *p, const struct stat *st, int flag,
                 struct FTW *f) {
  (void)st;
  (void)flag;
  (void)f;
  return remove(p);
}

static int setup(void **state) {
  (void)state;
  strcpy(tmpdir, "/tmp/wd_audit_XXXXXX");
  assert_non_null(mkdtemp(tmpdir));
  snprintf(logp, sizeof logp, "%s/audit.log", tmpdir);
  snprintf(keyp, sizeof keyp, "%s/audit.key", tmpdir);
  snprintf(pubp, sizeof pubp, "%s/audit.pub", tmpdir);
  assert_int_equal(wd_audit_keygen("test.log", keyp, pubp, err, sizeof err), 0);
  return 0;
}

static int teardown(void **state) {
  (void)state;
  wd_replace_allocator(NULL, NULL, NULL);
  nftw(tmpdir, rm_cb, 16, FTW_DEPTH | FTW_PHYS);
  return 0;
}

static const char *const policies[] = { "baseline:own", "t:x" };

/* Record i: every field set, so each can be tampered with. */
static void rec(wd_audit_rec *r, wd_pattr attrs[3], int i) {
  static char actor[32];
  memset(r, 0, sizeof *r);
  snprintf(actor, sizeof actor, "tenant-%c", 'a' + i % 26);
  attrs[0].key = "pid";
  attrs[0].val = wd_pval_str("{app:p|0x00001}");
  attrs[1].key = "host";
  attrs[1].val = wd_pval_str("app:p");
  attrs[2].key = "n";
  attrs[2].val = wd_pval_int(i);
  r->kind = WD_AUDIT_DECISION;
  r->actor = actor;
  r->action = "process.send";
  r->resource = "{app:q|0x00002}";
  r->attrs = attrs;
  r->nattrs = 3;
  r->effect = i % 2 ? WD_PEFFECT_ALLOW : WD_PEFFECT_DENY;
  r->reason = i % 2 ? "allowed" : "forbidden by policy";
  r->policies = policies;
  r->npolicies = 2;
  r->pid = "{app:p|0x00001}";
  r->host = "app:p";
  r->time_ns = 1700000000123456789LL + i;
}

/* A closed log of 'n' records with a checkpoint every 'every'. */
static void write_log(int n, uint64_t every) {
  wd_audit *a;
  wd_audit_rec r;
  wd_pattr attrs[3];
  int i;
  assert_int_equal(wd_audit_open(logp, keyp, &a, err, sizeof err), 0);
  wd_audit_set_interval(a, every);
  for (i = 0; i < n; i++) {
    rec(&r, attrs, i);
    assert_int_equal(wd_audit_append(a, &r), 0);
  }
  assert_int_equal(wd_audit_close(a), 0);
}

/* The log as lines (each with its newline); free with free_lines. */
typedef struct Lines {
  char *v[64];
  int n;
} Lines;

static void read_lines(Lines *l) {
  char buf[8192];
  FILE *f = fopen(logp, "r");
  assert_non_null(f);
  l->n = 0;
  while (fgets(buf, sizeof buf, f) != NULL) {
    assert_true(l->n < 64);
    l->v[l->n++] = strdup(buf);
  }
  fclose(f);
}

static void write_lines(const Lines *l) {
  FILE *f = fopen(logp, "w");
  int i;
  assert_non_null(f);
  for (i = 0; i < l->n; i++)
    fputs(l->v[i], f);
  fclose(f);
}

static void free_lines(Lines *l) {
  int i;
  for (i = 0; i < l->n; i++)
    free(l->v[i]);
  l->n = 0;
}

static int verify(void) {
  wd_audit_pub pub;
  assert_int_equal(wd_audit_pub_load(pubp, &pub, err, sizeof err), 0);
  return wd_audit_verify(logp, &pub, report, sizeof report);
}

/* Verification fails naming line 'line' ("line N: ..."). */
static void expect_bad(int line, const char *what) {
  char want[32];
  int r = verify();
  snprintf(want, sizeof want, "line %d: ", line);
  if (r != WD_EINVAL || strncmp(report, want, strlen(want)) != 0)
    fail_msg("%s: got %d '%s', want '%s...'", what, r, report, want);
}

/* }====== */

/* {====== Intact logs ====== */

#define FIRST                                                                  \
  "{\"seq\":0,\"time\":\"2023-11-14T22:13:20.123456789Z\",\"prev\":"           \
  "\"" WD_AUDIT_GENESIS "\",\"kind\":\"decision\","

static void test_audit_closed_log_verifies(void **state) {
  Lines l;
  (void)state;
  write_log(10, 4);
  assert_int_equal(verify(), 0);
  assert_string_equal(report, "ok: 10 records, 3 checkpoints, signed by "
                              "test.log");
  read_lines(&l);
  assert_int_equal(l.n, 13); /* checkpoints after 4 and 8, and at close */
  assert_non_null(strstr(l.v[4], "\"kind\":\"checkpoint\",\"size\":4,"));
  assert_non_null(strstr(l.v[12], "final\\n"));
  assert_null(strstr(l.v[4], "final\\n"));
  assert_int_equal(strncmp(l.v[0], FIRST, strlen(FIRST)), 0);
  free_lines(&l);
}

static void test_audit_empty_log_closed_verifies(void **state) {
  (void)state;
  write_log(0, 0);
  assert_int_equal(verify(), 0);
  assert_string_equal(report, "ok: 0 records, 1 checkpoints, signed by "
                              "test.log");
}

#define SECOND                                                                 \
  "{\"seq\":1,\"time\":\"2023-11-14T22:13:20.123456790Z\",\"prev\":\""

static void test_audit_record_line_has_every_field(void **state) {
  Lines l;
  (void)state;
  write_log(2, 0);
  read_lines(&l);
  assert_int_equal(strncmp(l.v[1], SECOND, strlen(SECOND)), 0);
  assert_string_equal(
      l.v[1] + strlen(SECOND) + 64,
      "\",\"kind\":\"decision\",\"actor\":\"tenant-b\",\"action\":\"process."
      "send\",\"resource\":\"{app:q|0x00002}\",\"attrs\":{\"pid\":\"{app:p|"
      "0x00001}\",\"host\":\"app:p\",\"n\":1},\"effect\":\"allow\",\"reason\""
      ":\"allowed\",\"policies\":[\"baseline:own\",\"t:x\"],\"pid\":\"{app:p|"
      "0x00001}\",\"host\":\"app:p\"}\n");
  free_lines(&l);
}

/* The log carries everything an outside tool needs: recompute the RFC
   6962 root with SHA-256 and check the Ed25519 note signature with the
   Go key id, without any of the writer's code. */
static void mth(unsigned char out[32], char **lines, int n) {
  unsigned char buf[1 + 64], l[32], r[32];
  int k = 1;
  if (n == 1) {
    size_t len = strlen(lines[0]) - 1; /* without the newline */
    crypto_hash_sha256_state st;
    buf[0] = 0;
    crypto_hash_sha256_init(&st);
    crypto_hash_sha256_update(&st, buf, 1);
    crypto_hash_sha256_update(&st, (unsigned char *)lines[0], len);
    crypto_hash_sha256_final(&st, out);
    return;
  }
  while (k * 2 < n)
    k *= 2;
  mth(l, lines, k);
  mth(r, lines + k, n - k);
  buf[0] = 1;
  memcpy(buf + 1, l, 32);
  memcpy(buf + 33, r, 32);
  crypto_hash_sha256(out, buf, sizeof buf);
}

static void test_audit_checkpoint_is_a_standard_signed_note(void **state) {
  unsigned char root[32], sig[68], alg = 1;
  crypto_hash_sha256_state st;
  char root64[64], want[128], *note, *p, *s;
  wd_audit_pub pub;
  size_t siglen;
  Lines l;
  (void)state;
  write_log(5, 0);
  read_lines(&l);
  mth(root, l.v, 5);
  sodium_bin2base64(root64, sizeof root64, root, 32,
                    sodium_base64_VARIANT_ORIGINAL);
  /* The note as JSON-escaped in the last line. */
  assert_non_null(p = strstr(l.v[5], "\"note\":\""));
  note = strdup(p + 8);
  for (p = s = note; *s != '"'; s++) {
    if (*s == '\\' && s[1] == 'n')
      *p++ = '\n', s++;
    else
      *p++ = *s;
  }
  *p = '\0';
  snprintf(want, sizeof want, "test.log\n5\n%s\ntime ", root64);
  if (strncmp(note, want, strlen(want)) != 0)
    fail_msg("note '%s', want '%s'", note, want);
  assert_non_null(p = strstr(note, "\nfinal\n\n\xe2\x80\x94 test.log "));
  *strchr(p + 21, '\n') = '\0';
  assert_int_equal(sodium_base642bin(sig, sizeof sig, p + 21, strlen(p + 21),
                                     NULL, &siglen, NULL,
                                     sodium_base64_VARIANT_ORIGINAL),
                   0);
  assert_int_equal(siglen, 68);
  assert_int_equal(wd_audit_pub_load(pubp, &pub, err, sizeof err), 0);
  /* Go note key id: SHA-256("test.log\n" 0x01 key)[0:4], big-endian. */
  crypto_hash_sha256_init(&st);
  crypto_hash_sha256_update(&st, (const unsigned char *)"test.log\n", 9);
  crypto_hash_sha256_update(&st, &alg, 1);
  crypto_hash_sha256_update(&st, pub.key, 32);
  crypto_hash_sha256_final(&st, root);
  assert_memory_equal(sig, root, 4);
  assert_int_equal(crypto_sign_verify_detached(sig + 4, (unsigned char *)note,
                                               (size_t)(p - note) + 7, pub.key),
                   0);
  free(note);
  free_lines(&l);
}

/* }====== */

/* {====== Tampering ====== */

/* Every field of record line 3 (seq 2), changed in place. */
static void test_audit_tamper_each_field_names_the_record(void **state) {
  static const char *const fields[] = {
    "\"seq\":",    "\"time\":",   "\"prev\":",     "\"kind\":",
    "\"actor\":",  "\"action\":", "\"resource\":", "\"attrs\":",
    "\"effect\":", "\"reason\":", "\"policies\":", "\"pid\":",
    "\"host\":",
  };
  Lines l;
  size_t i;
  char *p, *save;
  (void)state;
  write_log(8, 4);
  read_lines(&l);
  for (i = 0; i < WD_COUNTOF(fields); i++) {
    save = strdup(l.v[2]);
    assert_non_null(p = strstr(l.v[2], fields[i]));
    p += strlen(fields[i]);
    while (*p == '"' || *p == '{' || *p == '[')
      p++;
    if (*p >= '0' && *p <= '9')
      *p = (char)('0' + (*p - '0' + 5) % 10);
    else
      *p = *p == 'a' ? 'b' : 'a';
    write_lines(&l);
    expect_bad(3, fields[i]);
    free(l.v[2]);
    l.v[2] = save;
  }
  write_lines(&l);
  assert_int_equal(verify(), 0);
  free_lines(&l);
}

/* Each byte of a record, of a middle checkpoint and of the final one. */
static void test_audit_flip_any_byte_names_the_line(void **state) {
  static const int lines[] = { 1, 3, 5, 6, 10, 11 };
  Lines l;
  size_t i, k, len;
  (void)state;
  write_log(8, 4); /* lines: 4 records, cp, 4 records, cp, final cp */
  read_lines(&l);
  assert_int_equal(l.n, 11);
  for (i = 0; i < WD_COUNTOF(lines); i++) {
    char *line = l.v[lines[i] - 1];
    len = strlen(line) - 1;
    for (k = 0; k < len; k++) {
      line[k] ^= 1;
      write_lines(&l);
      expect_bad(lines[i], line);
      line[k] ^= 1;
    }
  }
  free_lines(&l);
}

static void test_audit_drop_record_names_its_place(void **state) {
  Lines l;
  (void)state;
  write_log(8, 4);
  read_lines(&l);
  free(l.v[2]);
  memmove(l.v + 2, l.v + 3, (size_t)(l.n - 3) * sizeof *l.v);
  l.n--;
  write_lines(&l);
  expect_bad(3, "dropped");
  assert_non_null(strstr(report, "removed"));
  free_lines(&l);
}

static void test_audit_swap_records_names_the_first(void **state) {
  Lines l;
  char *t;
  (void)state;
  write_log(8, 4);
  read_lines(&l);
  t = l.v[6];
  l.v[6] = l.v[7];
  l.v[7] = t;
  write_lines(&l);
  expect_bad(7, "swapped");
  free_lines(&l);
}

static void test_audit_duplicate_record_names_the_copy(void **state) {
  Lines l;
  (void)state;
  write_log(8, 4);
  read_lines(&l);
  memmove(l.v + 3, l.v + 2, (size_t)(l.n - 2) * sizeof *l.v);
  l.v[3] = strdup(l.v[2]);
  l.n++;
  write_lines(&l);
  expect_bad(4, "duplicated");
  assert_non_null(strstr(report, "inserted"));
  free_lines(&l);
}

/* A record made to fit the chain (right seq and prev) before line 3. */
static void test_audit_crafted_insert_names_it(void **state) {
  char fake[512], h[65];
  unsigned char bin[32];
  Lines l;
  (void)state;
  write_log(8, 4);
  read_lines(&l);
  crypto_generichash(bin, 32, (unsigned char *)l.v[1], strlen(l.v[1]) - 1, NULL,
                     0);
  sodium_bin2hex(h, sizeof h, bin, 32);
  snprintf(fake, sizeof fake,
           "{\"seq\":2,\"time\":\"2023-11-14T22:13:20.123456791Z\",\"prev\":"
           "\"%s\",\"kind\":\"decision\",\"actor\":\"mallory\"}\n",
           h);
  memmove(l.v + 3, l.v + 2, (size_t)(l.n - 2) * sizeof *l.v);
  l.v[2] = strdup(fake);
  l.n++;
  write_lines(&l);
  expect_bad(3, "crafted insert");
  free_lines(&l);
}

/* Change line 2 and recompute every later 'prev': only the signed
   Merkle root can tell, at the first checkpoint after it. */
static void test_audit_rewritten_chain_fails_at_checkpoint(void **state) {
  unsigned char bin[32];
  char h[65], *p;
  Lines l;
  int i;
  (void)state;
  write_log(8, 4);
  read_lines(&l);
  assert_non_null(p = strstr(l.v[1], "tenant-b"));
  p[7] = 'z';
  for (i = 2; i < l.n; i++) {
    crypto_generichash(bin, 32, (unsigned char *)l.v[i - 1],
                       strlen(l.v[i - 1]) - 1, NULL, 0);
    sodium_bin2hex(h, sizeof h, bin, 32);
    assert_non_null(p = strstr(l.v[i], "\"prev\":\""));
    memcpy(p + 8, h, 64);
  }
  write_lines(&l);
  expect_bad(5, "rewritten chain");
  assert_non_null(strstr(report, "between line 1 and this one"));
  free_lines(&l);
}

static void test_audit_truncation_is_detected(void **state) {
  Lines l;
  int full;
  (void)state;
  write_log(8, 4);
  read_lines(&l);
  full = l.n;
  /* Without the closing checkpoint. */
  l.n = full - 1;
  write_lines(&l);
  expect_bad(10, "no final checkpoint");
  assert_non_null(strstr(report, "not the closing one"));
  /* Cut right after the first checkpoint. */
  l.n = 5;
  write_lines(&l);
  expect_bad(5, "cut after a checkpoint");
  /* Records after the last checkpoint. */
  l.n = 7;
  write_lines(&l);
  expect_bad(6, "tail not covered");
  assert_non_null(strstr(report, "not covered by a checkpoint"));
  /* Half a line. */
  l.n = full;
  l.v[full - 1][20] = '\0';
  write_lines(&l);
  expect_bad(11, "partial line");
  assert_non_null(strstr(report, "incomplete"));
  /* Nothing at all. */
  l.n = 0;
  write_lines(&l);
  assert_int_equal(verify(), WD_EINVAL);
  assert_non_null(strstr(report, "empty log"));
  l.n = full;
  free_lines(&l);
}

/* A log whose checkpoints another key signed, even one of the same name. */
static void test_audit_foreign_key_is_refused(void **state) {
  char key2[PATH_MAX + 16], pub2[PATH_MAX + 16];
  wd_audit_pub pub;
  (void)state;
  snprintf(key2, sizeof key2, "%s/k2.key", tmpdir);
  snprintf(pub2, sizeof pub2, "%s/k2.pub", tmpdir);
  assert_int_equal(wd_audit_keygen("test.log", key2, pub2, err, sizeof err), 0);
  write_log(8, 4);
  /* Verified with the wrong key. */
  assert_int_equal(wd_audit_pub_load(pub2, &pub, err, sizeof err), 0);
  assert_int_equal(wd_audit_verify(logp, &pub, report, sizeof report),
                   WD_EINVAL);
  assert_int_equal(strncmp(report,
                           "line 5: checkpoint is not signed by key "
                           "test.log+",
                           47),
                   0);
  /* Forged: a whole log signed by another key, checked with ours. */
  assert_int_equal(unlink(logp), 0);
  assert_int_equal(unlink(keyp), 0);
  assert_int_equal(rename(key2, keyp), 0);
  write_log(3, 0);
  expect_bad(4, "forged");
}

/* }====== */

/* {====== Writing: failures, keys, escaping ====== */

static void test_audit_failed_write_fails_append_and_sticks(void **state) {
  struct rlimit old, lim;
  void (*oldh)(int);
  wd_audit *a;
  wd_audit_rec r;
  wd_pattr attrs[3];
  int r1, r2, r3, r4;
  uint64_t n;
  (void)state;
  assert_int_equal(wd_audit_open(logp, keyp, &a, err, sizeof err), 0);
  /* A file size limit of 0 fails every write (EFBIG, as a full disk does
  ** with ENOSPC); both are restored before any assertion. */
  assert_int_equal(getrlimit(RLIMIT_FSIZE, &old), 0);
  lim = old;
  lim.rlim_cur = 0;
  oldh = signal(SIGXFSZ, SIG_IGN);
  assert_int_equal(setrlimit(RLIMIT_FSIZE, &lim), 0);
  rec(&r, attrs, 0);
  r1 = wd_audit_append(a, &r);
  r2 = wd_audit_append(a, &r);
  r3 = wd_audit_checkpoint(a);
  n = wd_audit_count(a);
  r4 = wd_audit_close(a);
  setrlimit(RLIMIT_FSIZE, &old);
  signal(SIGXFSZ, oldh);
  assert_int_equal(r1, -EFBIG);
  assert_int_equal(r2, -EFBIG);
  assert_int_equal(r3, -EFBIG);
  assert_int_equal(n, 0);
  assert_int_equal(r4, -EFBIG);
}

static void test_audit_interval_one_checkpoints_every_record(void **state) {
  wd_audit *a;
  wd_audit_rec r;
  wd_pattr attrs[3];
  (void)state;
  assert_int_equal(wd_audit_open(logp, keyp, &a, err, sizeof err), 0);
  wd_audit_set_interval(a, 1);
  rec(&r, attrs, 0);
  assert_int_equal(wd_audit_append(a, &r), 0);
  assert_int_equal(wd_audit_count(a), 2); /* record and checkpoint */
  assert_int_equal(wd_audit_checkpoint(a), 0);
  assert_int_equal(wd_audit_close(a), 0);
}

/* The log is a new or empty regular file: never written through a
** symlink, not even to a file that would do. */
static void test_audit_open_refuses_a_symlink(void **state) {
  char target[PATH_MAX + 16];
  wd_audit *a = NULL;
  int fd;
  (void)state;
  snprintf(target, sizeof target, "%s/target", tmpdir);
  assert_int_equal(symlink(target, logp), 0);
  assert_int_equal(wd_audit_open(logp, keyp, &a, err, sizeof err), WD_EINVAL);
  assert_null(a);
  assert_non_null(strstr(err, "audit.log: a symbolic link"));
  assert_int_equal(access(target, F_OK), -1); /* not created through it */
  assert_true((fd = open(target, O_WRONLY | O_CREAT, 0600)) >= 0);
  close(fd);
  assert_int_equal(wd_audit_open(logp, keyp, &a, err, sizeof err), WD_EINVAL);
  assert_null(a);
}

/* A FIFO is refused at once, with or without a reader (start-up used to
** wait for one); alarm() turns a regression into a failure, not a hang. */
static void test_audit_open_refuses_a_fifo_without_waiting(void **state) {
  wd_audit *a = NULL;
  int r1, r2, rd;
  (void)state;
  assert_int_equal(mkfifo(logp, 0600), 0);
  alarm(10);
  r1 = wd_audit_open(logp, keyp, &a, err, sizeof err);
  alarm(0);
  assert_int_equal(r1, WD_EINVAL);
  assert_non_null(strstr(err, "audit.log: not a regular file"));
  assert_true((rd = open(logp, O_RDONLY | O_NONBLOCK)) >= 0);
  alarm(10);
  r2 = wd_audit_open(logp, keyp, &a, err, sizeof err);
  alarm(0);
  close(rd);
  assert_int_equal(r2, WD_EINVAL);
  assert_non_null(strstr(err, "audit.log: not a regular file"));
  assert_null(a);
}

/* /dev/null would take every record and keep none. */
static void test_audit_open_refuses_dev_null(void **state) {
  wd_audit *a = NULL;
  (void)state;
  assert_int_equal(wd_audit_open("/dev/null", keyp, &a, err, sizeof err),
                   WD_EINVAL);
  assert_non_null(strstr(err, "/dev/null: not a regular file"));
  assert_null(a);
}

/* "<log>.pub" and the secret key are regular files too, never waited on. */
static void test_audit_open_refuses_fifo_key_files(void **state) {
  char pub[PATH_MAX + 32], key[PATH_MAX + 32];
  wd_audit *a = NULL;
  int r1, r2;
  (void)state;
  snprintf(pub, sizeof pub, "%s.pub", logp);
  snprintf(key, sizeof key, "%s/fifo.key", tmpdir);
  assert_int_equal(mkfifo(pub, 0600), 0);
  assert_int_equal(mkfifo(key, 0600), 0);
  alarm(10);
  r1 = wd_audit_open(logp, NULL, &a, err, sizeof err);
  alarm(0);
  assert_int_equal(r1, WD_EINVAL);
  assert_non_null(strstr(err, "audit.log.pub: not a regular file"));
  alarm(10);
  r2 = wd_audit_open(logp, key, &a, err, sizeof err);
  alarm(0);
  assert_int_equal(r2, WD_EINVAL);
  assert_non_null(strstr(err, "must be a regular file"));
  assert_null(a);
}

static void test_audit_open_refuses_an_old_log(void **state) {
  wd_audit *a = NULL;
  (void)state;
  write_log(1, 0);
  assert_int_equal(wd_audit_open(logp, keyp, &a, err, sizeof err), WD_EEXIST);
  assert_null(a);
  assert_non_null(strstr(err, "a log is already there"));
}

static void test_audit_open_without_key_writes_pub(void **state) {
  char pub[PATH_MAX + 32];
  wd_audit_pub p;
  wd_audit *a;
  wd_audit_rec r;
  wd_pattr attrs[3];
  (void)state;
  assert_int_equal(wd_audit_open(logp, NULL, &a, err, sizeof err), 0);
  rec(&r, attrs, 0);
  assert_int_equal(wd_audit_append(a, &r), 0);
  assert_int_equal(wd_audit_close(a), 0);
  snprintf(pub, sizeof pub, "%s.pub", logp);
  assert_int_equal(wd_audit_pub_load(pub, &p, err, sizeof err), 0);
  assert_string_equal(p.name, WD_AUDIT_DEFAULT_NAME);
  assert_int_equal(wd_audit_verify(logp, &p, report, sizeof report), 0);
}

static void test_audit_open_bad_key_files(void **state) {
  wd_audit *a = NULL;
  FILE *f;
  (void)state;
  assert_int_equal(chmod(keyp, 0644), 0);
  assert_int_equal(wd_audit_open(logp, keyp, &a, err, sizeof err), WD_EINVAL);
  assert_non_null(strstr(err, "chmod 600"));
  assert_int_equal(chmod(keyp, 0600), 0);
  assert_non_null(f = fopen(keyp, "w"));
  fputs("PRIVATE+KEY+x+00000000+AQ==\n", f);
  fclose(f);
  assert_int_equal(wd_audit_open(logp, keyp, &a, err, sizeof err), WD_EINVAL);
  assert_non_null(strstr(err, "not a ward audit secret key"));
  assert_int_equal(wd_audit_open(logp, "/nonexistent/k", &a, err, sizeof err),
                   -ENOENT);
  assert_null(a);
}

static void test_audit_keygen_errors(void **state) {
  char p2[PATH_MAX + 16];
  (void)state;
  snprintf(p2, sizeof p2, "%s/x.pub", tmpdir);
  assert_int_equal(wd_audit_keygen("test.log", keyp, p2, err, sizeof err),
                   WD_EEXIST);
  assert_int_equal(wd_audit_keygen("a b", p2, p2, err, sizeof err), WD_EINVAL);
  assert_int_equal(wd_audit_keygen("a+b", p2, p2, err, sizeof err), WD_EINVAL);
  assert_int_equal(wd_audit_keygen("", p2, p2, err, sizeof err), WD_EINVAL);
  assert_int_equal(wd_audit_keygen(NULL, p2, p2, err, sizeof err), WD_EINVAL);
}

static void test_audit_pub_load_errors(void **state) {
  wd_audit_pub p;
  FILE *f;
  char text[256];
  (void)state;
  assert_int_equal(wd_audit_pub_load("/nonexistent", &p, err, sizeof err),
                   -ENOENT);
  assert_int_equal(wd_audit_pub_load(keyp, &p, err, sizeof err), WD_EINVAL);
  /* A key id that does not belong to the key. */
  assert_non_null(f = fopen(pubp, "r"));
  assert_non_null(fgets(text, sizeof text, f));
  fclose(f);
  text[strlen("test.log+")] = text[strlen("test.log+")] == '0' ? '1' : '0';
  assert_non_null(f = fopen(pubp, "w"));
  fputs(text, f);
  fclose(f);
  assert_int_equal(wd_audit_pub_load(pubp, &p, err, sizeof err), WD_EINVAL);
  assert_non_null(strstr(err, "key id does not match"));
  assert_int_equal(wd_audit_verify("/nonexistent", &p, report, sizeof report),
                   -ENOENT);
}

static void test_audit_json_escapes_every_string(void **state) {
  wd_audit *a;
  wd_audit_rec r;
  char big[3000];
  const char *line;
  Lines l;
  (void)state;
  memset(&r, 0, sizeof r);
  r.kind = WD_AUDIT_HOST_DEATH;
  r.actor = "q\"b\\s/\n\t\r\x01\x7f";
  r.action = "bad \xff\xc0\xaf \xed\xa0\x80 ok \xc3\xa9 \xe2\x80\xa8";
  memset(big, 'x', sizeof big - 1);
  big[sizeof big - 1] = '\0';
  r.reason = big;
  r.time_ns = 1;
  assert_int_equal(wd_audit_open(logp, keyp, &a, err, sizeof err), 0);
  assert_int_equal(wd_audit_append(a, &r), 0);
  r.kind = WD_AUDIT_CHECKPOINT;
  assert_int_equal(wd_audit_append(a, &r), WD_EINVAL);
  assert_int_equal(wd_audit_append(a, NULL), WD_EINVAL);
  assert_int_equal(wd_audit_close(a), 0);
  assert_int_equal(verify(), 0);
  read_lines(&l);
  assert_int_equal(l.n, 2);
  line = l.n > 0 ? l.v[0] : "";
  assert_non_null(strstr(line, "\"time\":\"1970-01-01T00:00:00.000000001Z\""));
  assert_non_null(strstr(line, "\"kind\":\"host_death\","));
  assert_non_null(strstr(line, "\"actor\":\"q\\\"b\\\\s/\\n\\t\\r\\u0001"
                               "\\u007f\","));
  assert_non_null(strstr(line, "\"action\":\"bad \\ufffd\\ufffd\\ufffd "
                               "\\ufffd\\ufffd\\ufffd ok \xc3\xa9 "
                               "\\u2028\","));
  assert_null(strstr(line, "\"effect\""));
  assert_non_null(strstr(line, "xxxx...\"}"));
  assert_true(strlen(line) < 1400);
  free_lines(&l);
}

static void test_audit_rec_decision_copies_the_decision(void **state) {
  wd_pattr attrs[1];
  wd_pdecision d;
  wd_audit_rec r;
  wd_preq rq;
  (void)state;
  attrs[0].key = "pid";
  attrs[0].val = wd_pval_str("{a:b|0x1}");
  memset(&rq, 0, sizeof rq);
  rq.actor_id = "alice";
  rq.action = "process.spawn";
  rq.resource = "app:x";
  rq.attrs = attrs;
  rq.nattrs = 1;
  memset(&d, 0, sizeof d);
  d.effect = WD_PEFFECT_DENY;
  d.reason = WD_REASON_DENIED_BY_POLICY;
  d.nids = 1;
  d.ids[0] = "app:no";
  wd_audit_rec_decision(&r, &rq, &d);
  assert_int_equal(r.kind, WD_AUDIT_DECISION);
  assert_string_equal(r.actor, "alice");
  assert_string_equal(r.action, "process.spawn");
  assert_string_equal(r.resource, "app:x");
  assert_ptr_equal(r.attrs, attrs);
  assert_int_equal(r.effect, WD_PEFFECT_DENY);
  assert_string_equal(r.reason, "forbidden by policy");
  assert_int_equal(r.npolicies, 1);
  assert_string_equal(r.policies[0], "app:no");
  assert_null(r.pid);
}

/* }====== */

/* {====== Out of memory ====== */

#include "oom.h"

static void test_audit_oom_sweep_fails_cleanly(void **state) {
  wd_audit *a;
  wd_audit_rec r;
  wd_pattr attrs[3];
  wd_audit_pub pub;
  int rc, done = 0;
  (void)state;
  assert_int_equal(wd_audit_pub_load(pubp, &pub, err, sizeof err), 0);
  for (fail_at = 1; !done && fail_at < 100; fail_at++) {
    unlink(logp);
    calls = 0;
    wd_replace_allocator(oom_malloc, oom_realloc, NULL);
    rc = wd_audit_open(logp, keyp, &a, err, sizeof err);
    if (rc == 0) {
      rec(&r, attrs, 0);
      rc = wd_audit_append(a, &r);
      if (rc == 0)
        rc = wd_audit_close(a);
      else
        wd_audit_close(a);
    }
    if (rc == 0) rc = wd_audit_verify(logp, &pub, report, sizeof report);
    wd_replace_allocator(NULL, NULL, NULL);
    if (rc == 0)
      done = 1;
    else if (rc != WD_ENOMEM)
      fail_msg("allocation %ld: %d %s %s", fail_at, rc, err, report);
  }
  assert_true(done);
  assert_int_equal(wd_audit_verify(logp, &pub, report, sizeof report), 0);
}

/* }====== */

#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)

int main(void) {
  const struct CMUnitTest tests[] = {
    T(test_audit_closed_log_verifies),
    T(test_audit_empty_log_closed_verifies),
    T(test_audit_record_line_has_every_field),
    T(test_audit_checkpoint_is_a_standard_signed_note),
    T(test_audit_tamper_each_field_names_the_record),
    T(test_audit_flip_any_byte_names_the_line),
    T(test_audit_drop_record_names_its_place),
    T(test_audit_swap_records_names_the_first),
    T(test_audit_duplicate_record_names_the_copy),
    T(test_audit_crafted_insert_names_it),
    T(test_audit_rewritten_chain_fails_at_checkpoint),
    T(test_audit_truncation_is_detected),
    T(test_audit_foreign_key_is_refused),
    T(test_audit_failed_write_fails_append_and_sticks),
    T(test_audit_interval_one_checkpoints_every_record),
    T(test_audit_open_refuses_a_symlink),
    T(test_audit_open_refuses_a_fifo_without_waiting),
    T(test_audit_open_refuses_dev_null),
    T(test_audit_open_refuses_fifo_key_files),
    T(test_audit_open_refuses_an_old_log),
    T(test_audit_open_without_key_writes_pub),
    T(test_audit_open_bad_key_files),
    T(test_audit_keygen_errors),
    T(test_audit_pub_load_errors),
    T(test_audit_json_escapes_every_string),
    T(test_audit_rec_decision_copies_the_decision),
    T(test_audit_oom_sweep_fails_cleanly),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
