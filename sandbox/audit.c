/*
** sandbox/audit.c
** The audit log writer: JSON Lines records in a BLAKE2b hash chain, an
** RFC 6962 Merkle tree over them, and Ed25519-signed C2SP checkpoints
** every N records and at close (format in wd_audit.h). Also the key files
** and the helpers the verifier (audit_verify.c) shares.
** Runs in: broker.
*/
#include <fcntl.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>

#include "audit_int.h"

_Static_assert(crypto_generichash_BYTES == HASHLEN, "chain hash size");
_Static_assert(crypto_hash_sha256_BYTES == HASHLEN, "tree hash size");
_Static_assert(crypto_sign_PUBLICKEYBYTES == 32, "ed25519 public key");
_Static_assert(crypto_sign_SEEDBYTES == 32, "ed25519 seed");

/* {====== Shared helpers ====== */

void wd__audit_tree_init(wd__atree *t) {
  memset(t, 0, sizeof *t);
}

static void node_hash(unsigned char out[HASHLEN], const unsigned char *l,
                      const unsigned char *r) {
  crypto_hash_sha256_state st;
  unsigned char one = 1;
  crypto_hash_sha256_init(&st);
  crypto_hash_sha256_update(&st, &one, 1);
  crypto_hash_sha256_update(&st, l, HASHLEN);
  crypto_hash_sha256_update(&st, r, HASHLEN);
  crypto_hash_sha256_final(&st, out);
}

/*
** A new leaf closes one perfect subtree for each trailing 1 bit of the old
** size: merge them from the right, as a binary counter carries.
*/
void wd__audit_tree_add(wd__atree *t, const void *p, size_t n) {
  crypto_hash_sha256_state st;
  unsigned char h[HASHLEN], zero = 0;
  uint64_t s = t->size;
  crypto_hash_sha256_init(&st);
  crypto_hash_sha256_update(&st, &zero, 1);
  crypto_hash_sha256_update(&st, p, n);
  crypto_hash_sha256_final(&st, h);
  for (; s & 1; s >>= 1)
    node_hash(h, t->h[--t->n], h);
  memcpy(t->h[t->n++], h, HASHLEN);
  t->size++;
}

/* RFC 6962 MTH: the right edge folded from the smallest subtree up. */
void wd__audit_tree_root(const wd__atree *t, unsigned char out[HASHLEN]) {
  int i;
  if (t->n == 0) {
    crypto_hash_sha256(out, (const unsigned char *)"", 0);
    return;
  }
  memcpy(out, t->h[t->n - 1], HASHLEN);
  for (i = t->n - 2; i >= 0; i--)
    node_hash(out, t->h[i], out);
}

uint32_t wd__audit_keyid(const char *name, const unsigned char pk[32]) {
  crypto_hash_sha256_state st;
  unsigned char h[HASHLEN], alg = 1;
  crypto_hash_sha256_init(&st);
  crypto_hash_sha256_update(&st, (const unsigned char *)name, strlen(name));
  crypto_hash_sha256_update(&st, (const unsigned char *)"\n", 1);
  crypto_hash_sha256_update(&st, &alg, 1);
  crypto_hash_sha256_update(&st, pk, 32);
  crypto_hash_sha256_final(&st, h);
  return (uint32_t)h[0] << 24 | (uint32_t)h[1] << 16 | (uint32_t)h[2] << 8 |
         h[3];
}

int wd__audit_name_ok(const char *name, size_t n) {
  size_t i;
  if (n == 0 || n > 127) return 0;
  for (i = 0; i < n; i++)
    if (name[i] <= ' ' || name[i] >= 0x7f || name[i] == '+') return 0;
  return 1;
}

void wd__audit_chain_hex(const void *p, size_t n, char out[2 * HASHLEN + 1]) {
  unsigned char h[HASHLEN];
  crypto_generichash(h, HASHLEN, p, n, NULL, 0);
  sodium_bin2hex(out, 2 * HASHLEN + 1, h, HASHLEN);
}

/* Length of the valid UTF-8 sequence at 's' (RFC 3629), or 0. */
static size_t utf8_len(const unsigned char *s, size_t n) {
  unsigned char c = s[0], lo = 0x80, hi = 0xbf;
  size_t len, i;
  if (c >= 0xc2 && c <= 0xdf)
    len = 2;
  else if (c >= 0xe0 && c <= 0xef)
    len = 3;
  else if (c >= 0xf0 && c <= 0xf4)
    len = 4;
  else
    return 0;
  if (c == 0xe0)
    lo = 0xa0; /* overlong */
  else if (c == 0xed)
    hi = 0x9f; /* surrogates */
  else if (c == 0xf0)
    lo = 0x90; /* overlong */
  else if (c == 0xf4)
    hi = 0x8f; /* above U+10FFFF */
  if (n < len || s[1] < lo || s[1] > hi) return 0;
  for (i = 2; i < len; i++)
    if ((s[i] & 0xc0) != 0x80) return 0;
  return len;
}

void wd__audit_put_jstr(wd_buf *b, const char *s, size_t n, size_t max) {
  static const char hex[] = "0123456789abcdef";
  const unsigned char *u = (const unsigned char *)s;
  size_t i = 0, run, len;
  int cut = max > 0 && n > max;
  if (cut) n = max;
  wd_buf_put_u8(b, '"');
  while (i < n) {
    /* Copy the longest run of bytes that need no escape at once. */
    for (run = i; run < n && u[run] >= 0x20 && u[run] < 0x7f && u[run] != '"' &&
                  u[run] != '\\';
         run++) {
    }
    wd_buf_put(b, u + i, run - i);
    if ((i = run) == n) break;
    if (u[i] == '"' || u[i] == '\\') {
      char e[2] = { '\\', (char)u[i] };
      wd_buf_put(b, e, 2);
      i++;
    } else if (u[i] == '\n' || u[i] == '\t' || u[i] == '\r') {
      wd_buf_put(b, u[i] == '\n' ? "\\n" : u[i] == '\t' ? "\\t" : "\\r", 2);
      i++;
    } else if (u[i] < 0x80) { /* other controls and DEL */
      char e[6] = { '\\', 'u', '0', '0', hex[u[i] >> 4], hex[u[i] & 15] };
      wd_buf_put(b, e, 6);
      i++;
    } else if ((len = utf8_len(u + i, n - i)) == 0) {
      wd_buf_put(b, "\\ufffd", 6);
      i++;
    } else if (len == 3 && u[i] == 0xe2 && u[i + 1] == 0x80 &&
               (u[i + 2] == 0xa8 || u[i + 2] == 0xa9)) {
      /* Line and paragraph separators end lines for some readers. */
      wd_buf_put(b, u[i + 2] == 0xa8 ? "\\u2028" : "\\u2029", 6);
      i += 3;
    } else {
      wd_buf_put(b, u + i, len);
      i += len;
    }
  }
  if (cut) wd_buf_put(b, "...", 3);
  wd_buf_put_u8(b, '"');
}

void wd__audit_fmt_time(int64_t ns, char out[64]) {
  struct tm tm;
  time_t s = (time_t)(ns / 1000000000);
  long frac = (long)(ns % 1000000000);
  if (frac < 0) {
    frac += 1000000000;
    s--;
  }
  if (gmtime_r(&s, &tm) == NULL) memset(&tm, 0, sizeof tm);
  snprintf(out, 64, "%04d-%02d-%02dT%02d:%02d:%02d.%09ldZ", tm.tm_year + 1900,
           tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, frac);
}

static void put_u64(wd_buf *b, uint64_t v) {
  char tmp[24];
  int n = snprintf(tmp, sizeof tmp, "%llu", (unsigned long long)v);
  wd_buf_put(b, tmp, (size_t)n);
}

void wd__audit_note_text(wd_buf *b, const char *name, uint64_t size,
                         const char *root64, const char *time, int final) {
  wd_buf_put(b, name, strlen(name));
  wd_buf_put_u8(b, '\n');
  put_u64(b, size);
  wd_buf_put_u8(b, '\n');
  wd_buf_put(b, root64, strlen(root64));
  wd_buf_put(b, "\ntime ", 6);
  wd_buf_put(b, time, strlen(time));
  wd_buf_put_u8(b, '\n');
  if (final) wd_buf_put(b, "final\n", 6);
}

void wd__audit_cp_line(wd_buf *b, uint64_t seq, const char *time,
                       const char *prev, const char *root64, const char *note,
                       size_t notelen) {
  wd_buf_put(b, "{\"seq\":", 7);
  put_u64(b, seq);
  wd_buf_put(b, ",\"time\":", 8);
  wd__audit_put_jstr(b, time, strlen(time), 0);
  wd_buf_put(b, ",\"prev\":", 8);
  wd__audit_put_jstr(b, prev, strlen(prev), 0);
  wd_buf_put(b, ",\"kind\":\"checkpoint\",\"size\":", 28);
  put_u64(b, seq);
  wd_buf_put(b, ",\"root\":", 8);
  wd__audit_put_jstr(b, root64, strlen(root64), 0);
  wd_buf_put(b, ",\"note\":", 8);
  wd__audit_put_jstr(b, note, notelen, 0);
  wd_buf_put_u8(b, '}');
}

/* }====== */

/* {====== Key files ====== */

/* Secret key: sodium_malloc'd, so it is guarded and wiped on free. */
typedef struct Key {
  char name[128];
  uint32_t id;
  unsigned char pk[32];
  unsigned char sk[crypto_sign_SECRETKEYBYTES];
} Key;

static void key_free(Key *k) {
  if (k != NULL) sodium_free(k);
}

/* Read a small file whole; 'buf' gets a NUL. Returns its length or -errno. */
static ssize_t slurp(int fd, char *buf, size_t cap) {
  size_t len = 0;
  ssize_t r;
  for (;;) {
    do
      r = read(fd, buf + len, cap - 1 - len);
    while (r == -1 && errno == EINTR);
    if (r < 0) return -errno;
    if (r == 0 || (len += (size_t)r) == cap - 1) break;
  }
  buf[len] = '\0';
  return (ssize_t)len;
}

/*
** Parse "<name>+<8 hex>+<base64(0x01 || 32 bytes)>" (one line, with or
** without its newline) into name, id and the 32 key bytes.
*/
static int parse_keytext(const char *s, char *name, uint32_t *id,
                         unsigned char key[32]) {
  const char *p1 = strchr(s, '+'), *p2, *end;
  unsigned char raw[33];
  size_t rawlen, n;
  char hex[9];
  if (p1 == NULL || (p2 = strchr(p1 + 1, '+')) == NULL) return WD_EINVAL;
  for (end = p2 + 1; *end != '\0' && *end != '\n'; end++) {
  }
  if (*end == '\n' && end[1] != '\0') return WD_EINVAL;
  if (!wd__audit_name_ok(s, (size_t)(p1 - s)) || p2 - p1 != 9) return WD_EINVAL;
  memcpy(name, s, (size_t)(p1 - s));
  name[p1 - s] = '\0';
  memcpy(hex, p1 + 1, 8);
  hex[8] = '\0';
  n = strspn(hex, "0123456789abcdef");
  if (n != 8) return WD_EINVAL;
  *id = (uint32_t)strtoul(hex, NULL, 16);
  if (sodium_base642bin(raw, sizeof raw, p2 + 1, (size_t)(end - p2 - 1), NULL,
                        &rawlen, NULL, sodium_base64_VARIANT_ORIGINAL) != 0 ||
      rawlen != 33 || raw[0] != 1) {
    sodium_memzero(raw, sizeof raw);
    return WD_EINVAL;
  }
  memcpy(key, raw + 1, 32);
  sodium_memzero(raw, sizeof raw);
  return 0;
}

/* "<name>+<8 hex>+<base64(0x01 || key)>\n" into 'out' (>= 256 bytes). */
static void format_keytext(char *out, const char *prefix, const char *name,
                           uint32_t id, const unsigned char key[32]) {
  unsigned char raw[33];
  char b64[64];
  raw[0] = 1;
  memcpy(raw + 1, key, 32);
  sodium_bin2base64(b64, sizeof b64, raw, sizeof raw,
                    sodium_base64_VARIANT_ORIGINAL);
  snprintf(out, 256, "%s%s+%08x+%s\n", prefix, name, (unsigned)id, b64);
  sodium_memzero(raw, sizeof raw);
  sodium_memzero(b64, sizeof b64);
}

static int write_all(int fd, const void *p, size_t n) {
  const char *c = p;
  ssize_t r;
  while (n > 0) {
    do
      r = write(fd, c, n);
    while (r == -1 && errno == EINTR);
    if (r < 0) return -errno;
    if (r == 0) return -EIO;
    c += r;
    n -= (size_t)r;
  }
  return 0;
}

/*
** Open 'path' for writing ('flags' added), as a regular file only. Not
** through a symlink (O_NOFOLLOW), and not a FIFO, device or socket: a
** FIFO would block the open until a reader comes (O_NONBLOCK keeps it
** from waiting: without a reader the open fails with ENXIO, with one the
** type check refuses it) and /dev/null would keep nothing. O_NONBLOCK is
** cleared once the descriptor is known to be a regular file. Returns the
** fd, or a negative code with the path and the reason in 'err'. (O_NOCTTY:
** opening a terminal must not make it ours.)
*/
static int open_regular(const char *path, int flags, mode_t mode, char *err,
                        size_t errlen) {
  static const char must[] = "audit logs and keys are written only to "
                             "regular files";
  struct stat st;
  int fd, fl, e;
  do
    fd = open(path,
              O_WRONLY | O_CREAT | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK |
                  O_NOCTTY | flags,
              mode);
  while (fd == -1 && errno == EINTR);
  if (fd == -1) {
    e = errno;
    if (e == ELOOP && lstat(path, &st) == 0 && S_ISLNK(st.st_mode))
      return wd_errf(err, errlen, WD_EINVAL, "%s: a symbolic link (%s)",
                           path, must);
    if (e == ENXIO)
      return wd_errf(err, errlen, WD_EINVAL,
                           "%s: not a regular file (%s)", path, must);
    return wd_errf(err, errlen, -e, "%s: %s", path, strerror(e));
  }
  if (fstat(fd, &st) == -1) goto fail;
  if (!S_ISREG(st.st_mode)) {
    close(fd);
    return wd_errf(err, errlen, WD_EINVAL, "%s: not a regular file (%s)",
                         path, must);
  }
  if ((fl = fcntl(fd, F_GETFL)) == -1 ||
      fcntl(fd, F_SETFL, fl & ~O_NONBLOCK) == -1)
    goto fail;
  return fd;
fail:
  e = errno;
  close(fd);
  return wd_errf(err, errlen, -e, "%s: %s", path, strerror(e));
}

static int write_file(const char *path, int flags, mode_t mode,
                      const char *text, char *err, size_t errlen) {
  int fd, r;
  if ((fd = open_regular(path, flags, mode, err, errlen)) < 0) return fd;
  r = write_all(fd, text, strlen(text));
  if (close(fd) == -1 && r == 0) r = -errno;
  if (r < 0) return wd_errf(err, errlen, r, "%s: %s", path, strerror(-r));
  return 0;
}

static int write_pub(const Key *k, const char *path, char *err, size_t errlen) {
  char text[256];
  format_keytext(text, "", k->name, k->id, k->pk);
  return write_file(path, O_TRUNC, 0644, text, err, errlen);
}

static int key_new(const char *name, Key **out) {
  Key *k = sodium_malloc(sizeof *k);
  if (k == NULL) return WD_ENOMEM;
  snprintf(k->name, sizeof k->name, "%s", name);
  crypto_sign_keypair(k->pk, k->sk);
  k->id = wd__audit_keyid(k->name, k->pk);
  *out = k;
  return 0;
}

int wd_audit_keygen(const char *name, const char *secpath, const char *pubpath,
                    char *err, size_t errlen) {
  Key *k;
  char text[256];
  int r;
  if (sodium_init() < 0)
    return wd_errf(err, errlen, WD_EINTERNAL, "%s",
                         "libsodium failed to start");
  if (name == NULL || !wd__audit_name_ok(name, strlen(name)))
    return wd_errf(err, errlen, WD_EINVAL,
                         "bad key name (1 to 127 printable characters, no "
                         "space or '+')");
  if ((r = key_new(name, &k)) < 0)
    return wd_errf(err, errlen, r, "out of memory");
  /* The seed is the first half of libsodium's secret key. */
  format_keytext(text, "PRIVATE+KEY+", k->name, k->id, k->sk);
  r = write_file(secpath, O_EXCL, 0600, text, err, errlen);
  sodium_memzero(text, sizeof text);
  if (r == -EEXIST) {
    r = wd_errf(err, errlen, WD_EEXIST,
                      "%s: already exists (a secret key is never replaced)",
                      secpath);
  } else if (r == 0) {
    r = write_pub(k, pubpath, err, errlen);
  }
  key_free(k);
  return r;
}

/*
** Load a secret key file. Like ssh, refuse one that group or others can
** read: a signing key anyone can read proves nothing. Only a regular file:
** O_NONBLOCK keeps the open of a FIFO from waiting for a writer, and the
** type check then refuses it (reads of a regular file never block).
*/
static int key_load(const char *path, Key **out, char *err, size_t errlen) {
  char text[512], name[128];
  unsigned char seed[32];
  uint32_t id;
  struct stat st;
  ssize_t n;
  int fd, r;
  Key *k;
  do
    fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
  while (fd == -1 && errno == EINTR);
  if (fd == -1)
    return wd_errf(err, errlen, -errno, "%s: %s", path, strerror(errno));
  if (fstat(fd, &st) == -1 || !S_ISREG(st.st_mode) || (st.st_mode & 077)) {
    close(fd);
    return wd_errf(err, errlen, WD_EINVAL,
                         "%s: a secret key must be a regular file that only "
                         "its owner can read (chmod 600)",
                         path);
  }
  n = slurp(fd, text, sizeof text);
  close(fd);
  if (n < 0)
    return wd_errf(err, errlen, (int)n, "%s: %s", path,
                         strerror((int)-n));
  r = strncmp(text, "PRIVATE+KEY+", 12) != 0
          ? WD_EINVAL
          : parse_keytext(text + 12, name, &id, seed);
  if (r == 0) {
    if ((k = sodium_malloc(sizeof *k)) == NULL) {
      r = WD_ENOMEM;
    } else {
      memcpy(k->name, name, sizeof name);
      crypto_sign_seed_keypair(k->pk, k->sk, seed);
      k->id = wd__audit_keyid(k->name, k->pk);
      if (k->id != id) { /* the file does not hold what it says */
        key_free(k);
        r = WD_EINVAL;
      } else {
        *out = k;
      }
    }
  }
  sodium_memzero(text, sizeof text);
  sodium_memzero(seed, sizeof seed);
  if (r == WD_EINVAL)
    return wd_errf(err, errlen, r,
                         "%s: not a ward audit secret key "
                         "(PRIVATE+KEY+NAME+ID+KEY)",
                         path);
  return r == 0 ? 0 : wd_errf(err, errlen, r, "out of memory");
}

int wd_audit_pub_load(const char *path, wd_audit_pub *out, char *err,
                      size_t errlen) {
  char text[512];
  ssize_t n;
  int fd;
  if (sodium_init() < 0)
    return wd_errf(err, errlen, WD_EINTERNAL, "%s",
                         "libsodium failed to start");
  do
    fd = open(path, O_RDONLY | O_CLOEXEC);
  while (fd == -1 && errno == EINTR);
  if (fd == -1)
    return wd_errf(err, errlen, -errno, "%s: %s", path, strerror(errno));
  n = slurp(fd, text, sizeof text);
  close(fd);
  if (n < 0)
    return wd_errf(err, errlen, (int)n, "%s: %s", path,
                         strerror((int)-n));
  if (parse_keytext(text, out->name, &out->id, out->key) != 0)
    return wd_errf(err, errlen, WD_EINVAL,
                         "%s: not a ward audit public key (NAME+ID+KEY)", path);
  if (wd__audit_keyid(out->name, out->key) != out->id)
    return wd_errf(err, errlen, WD_EINVAL,
                         "%s: the key id does not match the key", path);
  return 0;
}

/* }====== */

/* {====== Writer ====== */

/*
** Invariants: 'seq' lines are in the file, each complete; 'prev' is the
** chain hash of the last of them and 'tree' has them all as leaves. They
** advance only after a line was written in full. Once 'err' is set the
** file may end in a partial line, so nothing is ever written again.
*/
struct wd_audit {
  int fd;
  int err;           /* sticky write error */
  uint64_t seq;      /* lines written */
  uint64_t since;    /* records since the last checkpoint */
  uint64_t interval; /* records between checkpoints */
  char prev[2 * HASHLEN + 1];
  wd__atree tree;
  Key *key;
  wd_buf line;
};

int wd_audit_open(const char *path, const char *keyfile, wd_audit **out,
                  char *err, size_t errlen) {
  wd_audit *a;
  struct stat st;
  char pub[4096];
  int r;
  if (sodium_init() < 0)
    return wd_errf(err, errlen, WD_EINTERNAL, "%s",
                         "libsodium failed to start");
  if ((a = wd_calloc(1, sizeof *a)) == NULL)
    return wd_errf(err, errlen, WD_ENOMEM, "out of memory");
  a->fd = -1;
  a->interval = WD_AUDIT_DEFAULT_INTERVAL;
  memcpy(a->prev, WD_AUDIT_GENESIS, sizeof a->prev);
  wd__audit_tree_init(&a->tree);
  wd_buf_init(&a->line, WD_AUDIT_MAXLINE - 1);
  if (keyfile != NULL) {
    r = key_load(keyfile, &a->key, err, errlen);
  } else if ((r = key_new(WD_AUDIT_DEFAULT_NAME, &a->key)) < 0) {
    r = wd_errf(err, errlen, r, "out of memory");
  } else if (snprintf(pub, sizeof pub, "%s.pub", path) >= (int)sizeof pub) {
    r = wd_errf(err, errlen, WD_EINVAL, "%s: path too long", path);
  }
  if (r < 0) goto fail;
  /* A new or empty regular file, so that every record is kept where the
  ** verifier will read it (not a symlink, FIFO or /dev/null). */
  if ((r = open_regular(path, O_APPEND, 0600, err, errlen)) < 0) goto fail;
  a->fd = r;
  if (fstat(a->fd, &st) == 0 && st.st_size > 0) {
    r = wd_errf(err, errlen, WD_EEXIST,
                      "%s: a log is already there (ward starts a new log "
                      "in a new file)",
                      path);
    goto fail;
  }
  if (keyfile == NULL && (r = write_pub(a->key, pub, err, errlen)) < 0)
    goto fail;
  *out = a;
  return 0;
fail:
  if (a->fd != -1) close(a->fd);
  key_free(a->key);
  wd_buf_close(&a->line);
  wd_free(a);
  return r;
}

void wd_audit_set_interval(wd_audit *a, uint64_t n) {
  a->interval = n != 0 ? n : WD_AUDIT_DEFAULT_INTERVAL;
}

uint64_t wd_audit_count(const wd_audit *a) {
  return a->seq;
}

static int64_t now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* Write the line in 'a->line' (no newline yet) and advance the state. */
static int emit(wd_audit *a) {
  int r;
  wd_buf_put_u8(&a->line, '\n');
  if (a->line.err != 0) return a->line.err;
  if ((r = write_all(a->fd, a->line.p, a->line.len)) < 0) return a->err = r;
  wd__audit_chain_hex(a->line.p, a->line.len - 1, a->prev);
  wd__audit_tree_add(&a->tree, a->line.p, a->line.len - 1);
  a->seq++;
  return 0;
}

/*
** fdatasync makes every line so far durable. A file that cannot be synced
** (EINVAL, EROFS: a file system without it) needs nothing more.
*/
static int sync_file(wd_audit *a) {
  int r;
  do
    r = fdatasync(a->fd);
  while (r == -1 && errno == EINTR);
  if (r == -1 && errno != EINVAL && errno != EROFS) return a->err = -errno;
  return 0;
}

static int write_checkpoint(wd_audit *a, int final) {
  unsigned char root[HASHLEN], sig[4 + crypto_sign_BYTES];
  char root64[64], sig64[128], time[64];
  wd_buf note;
  int r;
  if (a->err != 0) return a->err;
  wd__audit_tree_root(&a->tree, root);
  sodium_bin2base64(root64, sizeof root64, root, sizeof root,
                    sodium_base64_VARIANT_ORIGINAL);
  wd__audit_fmt_time(now_ns(), time);
  wd_buf_init(&note, 0);
  wd__audit_note_text(&note, a->key->name, a->seq, root64, time, final);
  if ((r = note.err) != 0) {
    wd_buf_close(&note);
    return r;
  }
  sig[0] = (unsigned char)(a->key->id >> 24);
  sig[1] = (unsigned char)(a->key->id >> 16);
  sig[2] = (unsigned char)(a->key->id >> 8);
  sig[3] = (unsigned char)a->key->id;
  crypto_sign_detached(sig + 4, NULL, note.p, note.len, a->key->sk);
  sodium_bin2base64(sig64, sizeof sig64, sig, sizeof sig,
                    sodium_base64_VARIANT_ORIGINAL);
  /* Signature line: "\n" after the text, then U+2014, name, signature. */
  wd_buf_put(&note, "\n\xe2\x80\x94 ", 5);
  wd_buf_put(&note, a->key->name, strlen(a->key->name));
  wd_buf_put_u8(&note, ' ');
  wd_buf_put(&note, sig64, strlen(sig64));
  wd_buf_put_u8(&note, '\n');
  wd_buf_reset(&a->line);
  wd__audit_cp_line(&a->line, a->seq, time, a->prev, root64,
                    (const char *)note.p, note.len);
  r = note.err != 0 ? note.err : emit(a);
  wd_buf_close(&note);
  if (r == 0 && (r = sync_file(a)) == 0) a->since = 0;
  return r;
}

int wd_audit_checkpoint(wd_audit *a) {
  return write_checkpoint(a, 0);
}

static void put_key(wd_buf *b, const char *key) {
  wd_buf_put_u8(b, ',');
  wd__audit_put_jstr(b, key, strlen(key), 0);
  wd_buf_put_u8(b, ':');
}

static void put_field(wd_buf *b, const char *key, const char *val) {
  if (val == NULL) return;
  put_key(b, key);
  wd__audit_put_jstr(b, val, strlen(val), WD_AUDIT_MAXSTR);
}

static void put_pval(wd_buf *b, const wd_pval *v, int depth) {
  char tmp[40];
  size_t i;
  if (depth > WD_PVAL_MAXDEPTH) {
    wd_buf_put(b, "\"...\"", 5);
    return;
  }
  switch (v->type) {
    case WD_PVAL_BOOL:
      wd_buf_put(b, v->u.b ? "true" : "false", v->u.b ? 4 : 5);
      break;
    case WD_PVAL_INT:
      wd_buf_put(b, tmp,
                 (size_t)snprintf(tmp, sizeof tmp, "%lld", (long long)v->u.i));
      break;
    case WD_PVAL_NUM:
      /* JSON has no NaN or infinity. */
      if (!isfinite(v->u.n))
        wd_buf_put(b, "null", 4);
      else
        wd_buf_put(b, tmp, (size_t)snprintf(tmp, sizeof tmp, "%.17g", v->u.n));
      break;
    case WD_PVAL_STR:
      wd__audit_put_jstr(b, v->u.s.p, v->u.s.len, WD_AUDIT_MAXSTR);
      break;
    case WD_PVAL_LIST:
      wd_buf_put_u8(b, '[');
      for (i = 0; i < v->u.list.n && i < WD_AUDIT_MAXATTRS; i++) {
        if (i > 0) wd_buf_put_u8(b, ',');
        put_pval(b, &v->u.list.v[i], depth + 1);
      }
      wd_buf_put_u8(b, ']');
      break;
    case WD_PVAL_MAP:
      wd_buf_put_u8(b, '{');
      for (i = 0; i < v->u.map.n && i < WD_AUDIT_MAXATTRS; i++) {
        const char *k = v->u.map.v[i].key != NULL ? v->u.map.v[i].key : "";
        if (i > 0) wd_buf_put_u8(b, ',');
        wd__audit_put_jstr(b, k, strlen(k), WD_AUDIT_MAXSTR);
        wd_buf_put_u8(b, ':');
        put_pval(b, &v->u.map.v[i].val, depth + 1);
      }
      wd_buf_put_u8(b, '}');
      break;
    default:
      wd_buf_put(b, "null", 4);
      break;
  }
}

static void format_rec(wd_audit *a, const wd_audit_rec *r, int with_attrs) {
  static const char *const kinds[] = {
#define XX(name, text) text,
    WD_AUDIT_KIND_MAP(XX)
#undef XX
  };
  wd_buf *b = &a->line;
  wd_pval m;
  size_t i;
  char time[64];
  wd_buf_reset(b);
  wd_buf_put(b, "{\"seq\":", 7);
  put_u64(b, a->seq);
  wd__audit_fmt_time(r->time_ns != 0 ? r->time_ns : now_ns(), time);
  put_field(b, "time", time);
  put_field(b, "prev", a->prev);
  put_field(b, "kind", kinds[r->kind]);
  put_field(b, "actor", r->actor);
  put_field(b, "action", r->action);
  put_field(b, "resource", r->resource);
  if (r->nattrs > 0) {
    put_key(b, "attrs");
    if (with_attrs) {
      m = wd_pval_map(r->attrs, r->nattrs);
      put_pval(b, &m, 0);
    } else {
      wd_buf_put(b, "\"(too large)\"", 13);
    }
  }
  if (r->kind == WD_AUDIT_DECISION)
    put_field(b, "effect", r->effect == WD_PEFFECT_ALLOW ? "allow" : "deny");
  put_field(b, "reason", r->reason);
  if (r->npolicies > 0) {
    put_key(b, "policies");
    wd_buf_put_u8(b, '[');
    for (i = 0; i < r->npolicies && i < WD_AUDIT_MAXATTRS; i++) {
      const char *p = r->policies[i] != NULL ? r->policies[i] : "";
      if (i > 0) wd_buf_put_u8(b, ',');
      wd__audit_put_jstr(b, p, strlen(p), WD_AUDIT_MAXSTR);
    }
    wd_buf_put_u8(b, ']');
  }
  put_field(b, "pid", r->pid);
  put_field(b, "host", r->host);
  wd_buf_put_u8(b, '}');
}

int wd_audit_append(wd_audit *a, const wd_audit_rec *r) {
  int rc;
  if (a->err != 0) return a->err;
  if (r == NULL || r->kind < 0 || r->kind >= WD_AUDIT_CHECKPOINT)
    return WD_EINVAL;
  format_rec(a, r, 1);
  /* Deeply nested attributes can outgrow a line: keep the record. */
  if (a->line.err == WD_ETOOBIG) format_rec(a, r, 0);
  if ((rc = emit(a)) < 0) return rc;
  if (++a->since >= a->interval) return write_checkpoint(a, 0);
  return 0;
}

int wd_audit_close(wd_audit *a) {
  int r;
  if (a == NULL) return 0;
  r = write_checkpoint(a, 1);
  if (close(a->fd) == -1 && r == 0 && errno != EINTR) r = -errno;
  key_free(a->key);
  wd_buf_close(&a->line);
  wd_free(a);
  return r;
}

void wd_audit_rec_decision(wd_audit_rec *r, const wd_preq *rq,
                           const wd_pdecision *d) {
  memset(r, 0, sizeof *r);
  r->kind = WD_AUDIT_DECISION;
  r->actor = rq->actor_id;
  r->action = rq->action;
  r->resource = rq->resource;
  r->attrs = rq->attrs;
  r->nattrs = rq->nattrs;
  r->effect = d->effect;
  r->reason = wd_policy_reason(d->reason);
  r->policies = d->ids;
  r->npolicies = d->nids;
}

/* }====== */
