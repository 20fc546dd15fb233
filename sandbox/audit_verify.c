/*
** sandbox/audit_verify.c
** The audit log verifier behind `ward audit verify`: reads a log once,
** line by line, checks sequence numbers, the BLAKE2b chain, and every
** checkpoint (signature, origin, tree size, Merkle root, the exact bytes
** the writer would have written), and names the first line that is wrong.
** Runs in: broker (and the ward command line).
*/
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sodium.h>

#include "audit_int.h"

/* {====== Reading lines ====== */

typedef struct Rd {
  int fd;
  char *buf;
  size_t cap, len, off;
  int eof;
} Rd;

/*
** Next line in '*p' (without its newline, which '*nl' says was there).
** Returns 1 for a line, 0 at the end, WD_ETOOBIG for a line longer than
** WD_AUDIT_MAXLINE, or -errno.
*/
static int rd_line(Rd *r, const char **p, size_t *n, int *nl) {
  char *e;
  ssize_t got;
  for (;;) {
    e = memchr(r->buf + r->off, '\n', r->len - r->off);
    if (e != NULL || r->eof) break;
    if (r->len - r->off >= WD_AUDIT_MAXLINE) return WD_ETOOBIG;
    if (r->off > 0) { /* keep the partial line at the front */
      memmove(r->buf, r->buf + r->off, r->len - r->off);
      r->len -= r->off;
      r->off = 0;
    }
    do
      got = read(r->fd, r->buf + r->len, r->cap - r->len);
    while (got == -1 && errno == EINTR);
    if (got < 0) return -errno;
    if (got == 0) r->eof = 1;
    r->len += (size_t)got;
  }
  if (e == NULL && r->off == r->len) return 0;
  *p = r->buf + r->off;
  *n = e != NULL ? (size_t)(e - *p) : r->len - r->off;
  *nl = e != NULL;
  r->off += *n + (e != NULL);
  return 1;
}

/* }====== */

/* {====== The JSON of one record ====== */

/*
** The fields the verifier reads; 'has' marks which were present. Strings
** are decoded (escapes resolved) into fixed buffers: a record whose
** fields do not fit is not one the writer makes.
*/
enum {
  F_SEQ = 1,
  F_TIME = 2,
  F_PREV = 4,
  F_KIND = 8,
  F_SIZE = 16,
  F_ROOT = 32,
  F_NOTE = 64
};

typedef struct Rec {
  int has;
  uint64_t seq, size;
  char time[64], prev[80], kind[32], root[64];
  char note[1024];
  size_t notelen;
} Rec;

typedef struct J {
  const char *p, *e;
} J;

static void ws(J *j) {
  while (j->p < j->e &&
         (*j->p == ' ' || *j->p == '\t' || *j->p == '\r' || *j->p == '\n'))
    j->p++;
}

static int hexval(int c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

static int u4(J *j, unsigned *cp) {
  int i, h;
  *cp = 0;
  if (j->e - j->p < 4) return -1;
  for (i = 0; i < 4; i++) {
    if ((h = hexval((unsigned char)*j->p++)) < 0) return -1;
    *cp = *cp << 4 | (unsigned)h;
  }
  return 0;
}

/* Append one byte to 'out' (NULL: discard); -1 when it is full. */
static int put(char *out, size_t cap, size_t *n, unsigned char c) {
  if (out == NULL) return 0;
  if (*n + 1 >= cap) return -1;
  out[(*n)++] = (char)c;
  return 0;
}

static int put_cp(char *out, size_t cap, size_t *n, unsigned cp) {
  if (cp < 0x80) return put(out, cap, n, (unsigned char)cp);
  if (cp < 0x800)
    return put(out, cap, n, (unsigned char)(0xc0 | cp >> 6)) ||
           put(out, cap, n, (unsigned char)(0x80 | (cp & 0x3f)));
  if (cp < 0x10000)
    return put(out, cap, n, (unsigned char)(0xe0 | cp >> 12)) ||
           put(out, cap, n, (unsigned char)(0x80 | (cp >> 6 & 0x3f))) ||
           put(out, cap, n, (unsigned char)(0x80 | (cp & 0x3f)));
  return put(out, cap, n, (unsigned char)(0xf0 | cp >> 18)) ||
         put(out, cap, n, (unsigned char)(0x80 | (cp >> 12 & 0x3f))) ||
         put(out, cap, n, (unsigned char)(0x80 | (cp >> 6 & 0x3f))) ||
         put(out, cap, n, (unsigned char)(0x80 | (cp & 0x3f)));
}

/* A JSON string at 'j->p', decoded into 'out' (NUL-terminated) or skipped. */
static int jstr(J *j, char *out, size_t cap, size_t *outlen) {
  size_t n = 0;
  unsigned cp, lo;
  if (j->p >= j->e || *j->p != '"') return -1;
  j->p++;
  while (j->p < j->e && *j->p != '"') {
    unsigned char c = (unsigned char)*j->p++;
    if (c < 0x20) return -1;
    if (c != '\\') {
      if (put(out, cap, &n, c)) return -1;
      continue;
    }
    if (j->p >= j->e) return -1;
    switch (*j->p++) {
      case '"':
        cp = '"';
        break;
      case '\\':
        cp = '\\';
        break;
      case '/':
        cp = '/';
        break;
      case 'b':
        cp = '\b';
        break;
      case 'f':
        cp = '\f';
        break;
      case 'n':
        cp = '\n';
        break;
      case 'r':
        cp = '\r';
        break;
      case 't':
        cp = '\t';
        break;
      case 'u':
        if (u4(j, &cp)) return -1;
        if (cp >= 0xd800 && cp < 0xdc00) { /* a surrogate pair */
          if (j->e - j->p < 6 || j->p[0] != '\\' || j->p[1] != 'u') return -1;
          j->p += 2;
          if (u4(j, &lo) || lo < 0xdc00 || lo > 0xdfff) return -1;
          cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
        } else if (cp >= 0xdc00 && cp <= 0xdfff) {
          return -1;
        }
        break;
      default:
        return -1;
    }
    if (put_cp(out, cap, &n, cp)) return -1;
  }
  if (j->p >= j->e) return -1;
  j->p++;
  if (out != NULL) out[n] = '\0';
  if (outlen != NULL) *outlen = n;
  return 0;
}

/* An unsigned integer without sign, fraction or leading zeros. */
static int juint(J *j, uint64_t *v) {
  const char *s = j->p;
  *v = 0;
  while (j->p < j->e && *j->p >= '0' && *j->p <= '9') {
    if (*v > (UINT64_MAX - 9) / 10) return -1;
    *v = *v * 10 + (uint64_t)(*j->p++ - '0');
  }
  if (j->p == s || (*s == '0' && j->p - s > 1)) return -1;
  return 0;
}

static int digits(J *j) {
  const char *s = j->p;
  while (j->p < j->e && *j->p >= '0' && *j->p <= '9')
    j->p++;
  return j->p > s ? 0 : -1;
}

/* -?(0|[1-9][0-9]*)(.[0-9]+)?([eE][+-]?[0-9]+)? */
static int jnum(J *j) {
  if (j->p < j->e && *j->p == '-') j->p++;
  if (j->p < j->e && *j->p == '0')
    j->p++;
  else if (digits(j))
    return -1;
  if (j->p < j->e && *j->p == '.' && (j->p++, digits(j))) return -1;
  if (j->p < j->e && (*j->p == 'e' || *j->p == 'E')) {
    j->p++;
    if (j->p < j->e && (*j->p == '+' || *j->p == '-')) j->p++;
    if (digits(j)) return -1;
  }
  return 0;
}

/* Any JSON value, checked for syntax and skipped (nesting is bounded). */
static int jskip(J *j, int depth) {
  char close;
  ws(j);
  if (j->p >= j->e || depth > 64) return -1;
  if (*j->p == '"') return jstr(j, NULL, 0, NULL);
  if (*j->p == '{' || *j->p == '[') {
    close = *j->p == '{' ? '}' : ']';
    j->p++;
    ws(j);
    if (j->p < j->e && *j->p == close) return j->p++, 0;
    for (;;) {
      if (close == '}') {
        ws(j);
        if (jstr(j, NULL, 0, NULL)) return -1;
        ws(j);
        if (j->p >= j->e || *j->p++ != ':') return -1;
      }
      if (jskip(j, depth + 1)) return -1;
      ws(j);
      if (j->p >= j->e) return -1;
      if (*j->p == close) return j->p++, 0;
      if (*j->p++ != ',') return -1;
    }
  }
  if (j->e - j->p >= 4 &&
      (memcmp(j->p, "true", 4) == 0 || memcmp(j->p, "null", 4) == 0))
    return j->p += 4, 0;
  if (j->e - j->p >= 5 && memcmp(j->p, "false", 5) == 0) return j->p += 5, 0;
  return jnum(j);
}

static int field(J *j, Rec *r, const char *key) {
  static const struct {
    const char *name;
    int flag;
  } known[] = {
    { "seq", F_SEQ },   { "time", F_TIME }, { "prev", F_PREV },
    { "kind", F_KIND }, { "size", F_SIZE }, { "root", F_ROOT },
    { "note", F_NOTE },
  };
  size_t i;
  for (i = 0; i < WD_COUNTOF(known) && strcmp(key, known[i].name) != 0; i++) {
  }
  if (i == WD_COUNTOF(known)) return jskip(j, 1);
  if (r->has & known[i].flag) return -1; /* a second "seq" says two things */
  r->has |= known[i].flag;
  switch (known[i].flag) {
    case F_SEQ:
      return juint(j, &r->seq);
    case F_SIZE:
      return juint(j, &r->size);
    case F_TIME:
      return jstr(j, r->time, sizeof r->time, NULL);
    case F_PREV:
      return jstr(j, r->prev, sizeof r->prev, NULL);
    case F_KIND:
      return jstr(j, r->kind, sizeof r->kind, NULL);
    case F_ROOT:
      return jstr(j, r->root, sizeof r->root, NULL);
    default:
      return jstr(j, r->note, sizeof r->note, &r->notelen);
  }
}

/* Parse one line as a JSON object with the fields every record has. */
static int parse_rec(const char *p, size_t n, Rec *r) {
  J j = { p, p + n };
  char key[64];
  memset(r, 0, sizeof *r);
  ws(&j);
  if (j.p >= j.e || *j.p++ != '{') return -1;
  ws(&j);
  if (j.p < j.e && *j.p == '}') return -1;
  for (;;) {
    ws(&j);
    /* Top-level keys are all short: a long one is not a record of ours. */
    if (jstr(&j, key, sizeof key, NULL) != 0) return -1;
    ws(&j);
    if (j.p >= j.e || *j.p++ != ':') return -1;
    ws(&j);
    if (field(&j, r, key) != 0) return -1;
    ws(&j);
    if (j.p >= j.e) return -1;
    if (*j.p == '}') break;
    if (*j.p++ != ',') return -1;
  }
  j.p++;
  ws(&j);
  if (j.p != j.e) return -1;
  return (r->has & (F_SEQ | F_TIME | F_PREV | F_KIND)) ==
                 (F_SEQ | F_TIME | F_PREV | F_KIND)
             ? 0
             : -1;
}

/* }====== */

/* {====== Checkpoints ====== */

typedef struct V {
  const wd_audit_pub *pub;
  char *out;
  size_t outlen;
  uint64_t line; /* current line, 1-based */
  char prev[2 * HASHLEN + 1];
  wd__atree tree;
  uint64_t last_cp; /* line of the last good checkpoint, 0: none */
  uint64_t ncp;
  int last_final;
  wd_buf scratch;
} V;

/* Report "line N: message". Used through bad(), which is WD_EINVAL. */
__attribute__((format(printf, 3, 4))) static void say(V *v, uint64_t line,
                                                      const char *fmt, ...) {
  char m[512];
  va_list ap;
  va_start(ap, fmt);
  /* NOLINTNEXTLINE(clang-analyzer-valist.Uninitialized): clang 14 bug */
  vsnprintf(m, sizeof m, fmt, ap);
  va_end(ap);
  wd_errf(v->out, v->outlen, WD_EINVAL, "line %llu: %s",
                (unsigned long long)line, m);
}

#define bad(...) (say(__VA_ARGS__), WD_EINVAL)

/* Next "\n"-terminated line of 's' (advancing it), or NULL. */
static const char *nextline(const char **s, size_t *n) {
  const char *l = *s, *e = strchr(l, '\n');
  if (e == NULL) return NULL;
  *n = (size_t)(e - l);
  *s = e + 1;
  return l;
}

/*
** Check the note of checkpoint 'r' on line 'v->line': signed by our key,
** origin our key name, size 'r->seq', root and time as in the record, and
** extension lines we know. Sets '*final'. Returns 0 or the report.
*/
static int check_note(V *v, const Rec *r, int *final) {
  const char *s = r->note, *l, *sigs;
  unsigned char sig[4 + crypto_sign_BYTES];
  char want[160], num[24];
  size_t n, textlen, siglen;
  int found = 0, ok = 0;
  if (strlen(r->note) != r->notelen || (sigs = strstr(r->note, "\n\n")) == NULL)
    return bad(v, v->line, "checkpoint note is malformed");
  textlen = (size_t)(sigs - r->note) + 1;
  /* Signature lines: "\u2014 NAME BASE64\n"; ours is name + key id. */
  snprintf(want, sizeof want, "\xe2\x80\x94 %s ", v->pub->name);
  for (s = sigs + 2; (l = nextline(&s, &n)) != NULL;) {
    if (n <= strlen(want) || memcmp(l, want, strlen(want)) != 0) continue;
    if (sodium_base642bin(sig, sizeof sig, l + strlen(want), n - strlen(want),
                          NULL, &siglen, NULL,
                          sodium_base64_VARIANT_ORIGINAL) != 0 ||
        siglen != sizeof sig ||
        ((uint32_t)sig[0] << 24 | (uint32_t)sig[1] << 16 |
         (uint32_t)sig[2] << 8 | sig[3]) != v->pub->id)
      continue;
    found = 1;
    ok = crypto_sign_verify_detached(sig + 4, (const unsigned char *)r->note,
                                     textlen, v->pub->key) == 0;
    break;
  }
  if (!found)
    return bad(v, v->line,
               "checkpoint is not signed by key %s+%08x (wrong key, or a "
               "checkpoint from another log)",
               v->pub->name, (unsigned)v->pub->id);
  if (!ok)
    return bad(v, v->line,
               "checkpoint signature does not verify: the checkpoint was "
               "changed or forged");
  /* The signed text: origin, size, root, then extension lines. */
  s = r->note;
  snprintf(num, sizeof num, "%llu", (unsigned long long)r->seq);
  if ((l = nextline(&s, &n)) == NULL || n != strlen(v->pub->name) ||
      memcmp(l, v->pub->name, n) != 0)
    return bad(v, v->line, "checkpoint origin is not '%s'", v->pub->name);
  if ((l = nextline(&s, &n)) == NULL || n != strlen(num) ||
      memcmp(l, num, n) != 0)
    return bad(v, v->line, "checkpoint tree size is not its sequence number %s",
               num);
  if ((l = nextline(&s, &n)) == NULL || n != strlen(r->root) ||
      memcmp(l, r->root, n) != 0)
    return bad(v, v->line, "checkpoint root differs from its note");
  if ((l = nextline(&s, &n)) == NULL || n != 5 + strlen(r->time) ||
      memcmp(l, "time ", 5) != 0 || memcmp(l + 5, r->time, n - 5) != 0)
    return bad(v, v->line, "checkpoint time differs from its note");
  *final = 0;
  if (s < r->note + textlen) {
    if ((l = nextline(&s, &n)) == NULL || n != 5 || memcmp(l, "final", 5) != 0)
      return bad(v, v->line, "checkpoint note has an unknown line");
    *final = 1;
  }
  if (s != r->note + textlen)
    return bad(v, v->line, "checkpoint note has an unknown line");
  return 0;
}

/*
** A checkpoint: a good note, a root equal to that of every line before
** it, and byte for byte the line the writer makes from those values.
*/
static int check_cp(V *v, const Rec *r, const char *p, size_t n) {
  unsigned char root[HASHLEN];
  char root64[64];
  int final, rc;
  if ((r->has & (F_SIZE | F_ROOT | F_NOTE)) != (F_SIZE | F_ROOT | F_NOTE) ||
      r->size != r->seq)
    return bad(v, v->line, "checkpoint record is malformed");
  if ((rc = check_note(v, r, &final)) != 0) return rc;
  wd__audit_tree_root(&v->tree, root);
  sodium_bin2base64(root64, sizeof root64, root, sizeof root,
                    sodium_base64_VARIANT_ORIGINAL);
  if (strcmp(root64, r->root) != 0) {
    return bad(v, v->line,
               "checkpoint does not match the lines before it: a record "
               "between line %llu and this one was changed, removed, "
               "inserted or reordered",
               (unsigned long long)v->last_cp + 1);
  }
  wd_buf_reset(&v->scratch);
  wd__audit_cp_line(&v->scratch, r->seq, r->time, r->prev, r->root, r->note,
                    r->notelen);
  if (v->scratch.err != 0) return v->scratch.err;
  if (v->scratch.len != n || memcmp(v->scratch.p, p, n) != 0)
    return bad(v, v->line, "checkpoint record has changed or extra fields");
  v->last_cp = v->line;
  v->last_final = final;
  v->ncp++;
  return 0;
}

/* }====== */

/* {====== The walk ====== */

/*
** One line. A broken link (its 'prev' is not the hash of the line before)
** is blamed on the line before when this line's own link to the next one
** holds, else on this line: '*pending' carries that decision one line on.
*/
static int check_line(V *v, const char *p, size_t n, uint64_t *pending) {
  Rec r;
  unsigned long long want = v->line - 1;
  char h[2 * HASHLEN + 1];
  int link, rc;
  if (parse_rec(p, n, &r) != 0)
    return bad(v, v->line, "not a valid audit record");
  link = strcmp(r.prev, v->prev) == 0;
  if (*pending != 0) /* line - 1 was blamed for a broken link */
    return bad(v, link ? v->line - 2 : v->line - 1,
               "record changed (the hash chain breaks after it)");
  if (r.seq != want) {
    if (want > 0 && r.seq == want - 1 && !link) {
      /* Same number as the line before: a copy of it, or a record made
         to fit the chain there (this line's 'prev' still names the
         line before that one). */
      wd__audit_chain_hex(p, n, h);
      if (strcmp(h, v->prev) == 0)
        return bad(v, v->line, "record inserted (a copy of line %llu)", want);
      return bad(v, v->line - 1,
                 "record inserted (the next line has the same sequence "
                 "number %llu)",
                 want - 1);
    }
    return bad(v, v->line,
               r.seq > v->line - 1
                   ? "sequence number %llu, expected %llu: a record before "
                     "this line was removed, or records were reordered"
                   : "sequence number %llu, expected %llu: a record was "
                     "inserted or records were reordered here",
               (unsigned long long)r.seq, want);
  }
  if (strcmp(r.kind, "checkpoint") == 0) {
    rc = check_cp(v, &r, p, n);
    /* A checkpoint vouches for the lines before it: if those are good,
       a broken link is this line's own 'prev'. */
    if (!link)
      return bad(v, rc == 0 ? v->line : v->line - 1,
                 "record changed (the hash chain breaks %s it)",
                 rc == 0 ? "at" : "after");
    if (rc != 0) return rc;
  } else if (!link) {
    if (v->line == 1)
      return bad(v, 1, "record changed (it does not start the chain)");
    *pending = v->line;
  }
  wd__audit_chain_hex(p, n, v->prev);
  wd__audit_tree_add(&v->tree, p, n);
  return 0;
}

static int finish(V *v, uint64_t pending) {
  if (pending != 0)
    return bad(v, pending - 1,
               "record changed (the hash chain breaks after it, or line %llu "
               "was changed)",
               (unsigned long long)pending);
  if (v->line == 0)
    return wd_errf(v->out, v->outlen, WD_EINVAL,
                         "empty log: no checkpoint (truncated, or never "
                         "written)");
  if (v->last_cp == 0)
    return bad(v, 1,
               "this and later records are not covered by a checkpoint "
               "(there is no checkpoint at all): the log was truncated or "
               "not closed");
  if (v->last_cp != v->line)
    return bad(v, v->last_cp + 1,
               "this and later records are not covered by a checkpoint (the "
               "last is at line %llu): the log was truncated or not closed",
               (unsigned long long)v->last_cp);
  if (!v->last_final)
    return bad(v, v->line,
               "the log ends at a checkpoint that is not the closing one: "
               "records after it were removed, or the writer did not "
               "close the log");
  return wd_errf(v->out, v->outlen, 0,
                       "ok: %llu records, %llu checkpoints, signed by %s",
                       (unsigned long long)(v->line - v->ncp),
                       (unsigned long long)v->ncp, v->pub->name);
}

int wd_audit_verify(const char *path, const wd_audit_pub *pub, char *report,
                    size_t len) {
  Rd rd = { -1, NULL, WD_AUDIT_MAXLINE + 65536, 0, 0, 0 };
  V v;
  const char *p = NULL;
  size_t n = 0;
  uint64_t pending = 0;
  int nl = 0, r;
  if (sodium_init() < 0)
    return wd_errf(report, len, WD_EINTERNAL, "%s",
                         "libsodium failed to start");
  memset(&v, 0, sizeof v);
  v.pub = pub;
  v.out = report;
  v.outlen = len;
  memcpy(v.prev, WD_AUDIT_GENESIS, sizeof v.prev);
  wd__audit_tree_init(&v.tree);
  wd_buf_init(&v.scratch, WD_AUDIT_MAXLINE);
  do
    rd.fd = open(path, O_RDONLY | O_CLOEXEC);
  while (rd.fd == -1 && errno == EINTR);
  if (rd.fd == -1) {
    r = wd_errf(report, len, -errno, "%s: %s", path, strerror(errno));
    goto out;
  }
  if ((rd.buf = wd_malloc(rd.cap)) == NULL) {
    r = wd_errf(report, len, WD_ENOMEM, "out of memory");
    goto out;
  }
  while ((r = rd_line(&rd, &p, &n, &nl)) == 1) {
    v.line++;
    if (!nl) {
      r = bad(&v, v.line,
              "incomplete record (no newline): the log was "
              "truncated");
      goto out;
    }
    if ((r = check_line(&v, p, n, &pending)) != 0) goto out;
  }
  if (r == WD_ETOOBIG)
    r = bad(&v, v.line + 1, "record longer than the longest one allowed");
  else if (r < 0)
    r = wd_errf(report, len, r, "%s: %s", path, strerror(-r));
  else
    r = finish(&v, pending);
out:
  if (rd.fd != -1) close(rd.fd);
  wd_free(rd.buf);
  wd_buf_close(&v.scratch);
  return r;
}

/* }====== */
