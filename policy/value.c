/*
** policy/value.c
** Values (wd_pval): owned trees from nodes, copies, and the comparisons
** the condition operators are built on; plus the small string builder and
** hash the rest of policy/ uses.
** Runs in: broker and host. Pure: no I/O.
*/
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "policy_int.h"

/*
** {======================================================================
** String builder and hash
** =======================================================================
*/

void wd__policy_sb_init(SBuf *b, char *p, size_t cap) {
  b->p = p;
  b->cap = p != NULL ? cap : 0;
  b->len = 0;
  if (b->cap > 0) b->p[0] = '\0';
}

void wd__policy_sb_putn(SBuf *b, const char *s, size_t n) {
  /* Copy what fits, keep a NUL, but count everything: like snprintf. */
  if (b->len + 1 < b->cap) {
    size_t room = b->cap - 1 - b->len;
    size_t k = n < room ? n : room;
    memcpy(b->p + b->len, s, k);
    b->p[b->len + k] = '\0';
  }
  b->len += n;
}

void wd__policy_sb_puts(SBuf *b, const char *s) {
  wd__policy_sb_putn(b, s, strlen(s));
}

void wd__policy_sb_putint(SBuf *b, long long v) {
  char tmp[24];
  size_t i = sizeof tmp;
  unsigned long long u =
      v < 0 ? 0ULL - (unsigned long long)v : (unsigned long long)v;
  do {
    tmp[--i] = (char)('0' + u % 10);
    u /= 10;
  } while (u != 0);
  if (v < 0) tmp[--i] = '-';
  wd__policy_sb_putn(b, tmp + i, sizeof tmp - i);
}

void wd__policy_sb_putq(SBuf *b, const char *s, size_t n) {
  size_t i;
  char c;
  for (i = 0; i < n && i < 60; i++) {
    c = s[i];
    /* Keep messages on one printable line whatever a policy file holds. */
    if ((unsigned char)c < 0x20 || (unsigned char)c >= 0x7f) c = '?';
    wd__policy_sb_putn(b, &c, 1);
  }
  if (n > 60) wd__policy_sb_puts(b, "...");
}

uint64_t wd__policy_hash(const void *p, size_t n) {
  const uint8_t *s = p;
  uint64_t h = HASH_INIT;
  size_t i;
  for (i = 0; i < n; i++)
    h = HASH_STEP(h, s[i]);
  return h;
}

/* }====================================================================== */

/*
** {======================================================================
** Numbers and comparisons
** =======================================================================
*/

static int isdig(char c) {
  return c >= '0' && c <= '9';
}

/*
** Grammar: [+-]? (D+ ('.' D*)? | '.' D+) ([eE] [+-]? D+)?. Integers that
** fit stay int64; everything else goes through strtod and must be finite
** (so an overflowing "1e999" is a string, not infinity: that keeps eq
** transitive, which the linter relies on). Texts of 128 bytes or more are
** not numbers. strtod assumes the "C" locale, as ward never sets another.
*/
int wd__policy_parse_num(const char *s, size_t n, Num *out) {
  char buf[128];
  size_t i = 0, digs = 0, fdigs = 0;
  int isint = 1, neg = 0;
  uint64_t u = 0;
  if (n == 0 || n >= sizeof buf) return 0;
  if (s[i] == '+' || s[i] == '-') neg = s[i++] == '-';
  for (; i < n && isdig(s[i]); i++)
    digs++;
  if (i < n && s[i] == '.') {
    isint = 0;
    for (i++; i < n && isdig(s[i]); i++)
      fdigs++;
  }
  if (digs + fdigs == 0) return 0;
  if (i < n && (s[i] == 'e' || s[i] == 'E')) {
    size_t e0;
    isint = 0;
    i++;
    if (i < n && (s[i] == '+' || s[i] == '-')) i++;
    for (e0 = i; i < n && isdig(s[i]); i++) {
    }
    if (i == e0) return 0;
  }
  if (i != n) return 0;
  if (isint) {
    size_t k = (s[0] == '+' || s[0] == '-') ? 1 : 0;
    for (; k < n; k++) {
      unsigned d = (unsigned)(s[k] - '0');
      if (u > (UINT64_MAX - d) / 10) break;
      u = u * 10 + d;
    }
    if (k == n && u <= (uint64_t)INT64_MAX + (uint64_t)neg) {
      out->isint = 1;
      out->i = neg ? (int64_t)(0 - u) : (int64_t)u;
      out->d = (double)out->i;
      return 1;
    }
  }
  memcpy(buf, s, n);
  buf[n] = '\0';
  out->isint = 0;
  out->i = 0;
  out->d = strtod(buf, NULL);
  return isfinite(out->d) ? 1 : 0;
}

int wd__policy_num(const wd_pval *v, Num *out) {
  switch (v->type) {
    case WD_PVAL_INT:
      out->isint = 1;
      out->i = v->u.i;
      out->d = (double)v->u.i;
      return 1;
    case WD_PVAL_NUM:
      out->isint = 0;
      out->i = 0;
      out->d = v->u.n;
      return 1;
    case WD_PVAL_STR:
      /* Cheap rejection first: most strings (pids, names) are not numbers. */
      if (v->u.s.len == 0) return 0;
      if (!isdig(v->u.s.p[0]) && v->u.s.p[0] != '-' && v->u.s.p[0] != '+' &&
          v->u.s.p[0] != '.')
        return 0;
      return wd__policy_parse_num(v->u.s.p, v->u.s.len, out);
    default:
      return 0;
  }
}

int wd__policy_numcmp(const Num *a, const Num *b) {
  double x, y;
  if (a->isint && b->isint) return (a->i > b->i) - (a->i < b->i);
  x = a->d;
  y = b->d;
  if (x < y) return -1;
  if (x > y) return 1;
  if (x == y) return 0;
  return 2;
}

/* Shortest "%.Ng" form that reads back as the same double. */
static size_t fmtnum(double d, char *buf) {
  static const char *const fmts[] = {
    "%.1g",  "%.2g",  "%.3g",  "%.4g",  "%.5g",  "%.6g",
    "%.7g",  "%.8g",  "%.9g",  "%.10g", "%.11g", "%.12g",
    "%.13g", "%.14g", "%.15g", "%.16g", "%.17g",
  };
  size_t k;
  for (k = 0; k < WD_COUNTOF(fmts); k++) {
    strfromd(buf, 32, fmts[k], d);
    if (!isfinite(d) || strtod(buf, NULL) == d) break;
  }
  return strlen(buf);
}

int wd__policy_strform(const wd_pval *v, char *buf, const char **s, size_t *n) {
  switch (v->type) {
    case WD_PVAL_STR:
      *s = v->u.s.p;
      *n = v->u.s.len;
      return 1;
    case WD_PVAL_BOOL:
      *s = v->u.b ? "true" : "false";
      *n = v->u.b ? 4 : 5;
      return 1;
    case WD_PVAL_INT: {
      SBuf b;
      wd__policy_sb_init(&b, buf, 32);
      wd__policy_sb_putint(&b, (long long)v->u.i);
      *s = buf;
      *n = b.len;
      return 1;
    }
    case WD_PVAL_NUM:
      *n = fmtnum(v->u.n, buf);
      *s = buf;
      return 1;
    default:
      return 0;
  }
}

int wd__policy_equals(const wd_pval *a, const wd_pval *b) {
  Num x, y;
  char ba[32], bb[32];
  const char *sa, *sb;
  size_t na, nb;
  if (a->type == WD_PVAL_STR && b->type == WD_PVAL_STR) {
    /* Identical strings are equal either way; else only as numbers. */
    if (a->u.s.len == b->u.s.len && memcmp(a->u.s.p, b->u.s.p, a->u.s.len) == 0)
      return 1;
    return wd__policy_num(a, &x) && wd__policy_num(b, &y) &&
           wd__policy_numcmp(&x, &y) == 0;
  }
  if (wd__policy_num(a, &x) && wd__policy_num(b, &y))
    return wd__policy_numcmp(&x, &y) == 0;
  if (!wd__policy_strform(a, ba, &sa, &na) ||
      !wd__policy_strform(b, bb, &sb, &nb))
    return 0;
  return na == nb && memcmp(sa, sb, na) == 0;
}

const wd_pval *wd__policy_mapget(const wd_pval *m, const char *k, size_t n) {
  size_t i;
  if (m == NULL || m->type != WD_PVAL_MAP) return NULL;
  for (i = 0; i < m->u.map.n; i++) {
    const char *key = m->u.map.v[i].key;
    /* First byte inline: most keys differ there; n > 0 for every path. */
    if (key != NULL && key[0] == k[0] && strncmp(key, k, n) == 0 &&
        key[n] == '\0')
      return &m->u.map.v[i].val;
  }
  return NULL;
}

/* }====================================================================== */

/*
** {======================================================================
** Owned values
** =======================================================================
*/

void wd_pval_clear(wd_pval *v) {
  size_t i;
  if (v == NULL) return;
  switch (v->type) {
    case WD_PVAL_STR:
      wd_free((void *)v->u.s.p);
      break;
    case WD_PVAL_LIST:
      for (i = 0; i < v->u.list.n; i++)
        wd_pval_clear((wd_pval *)&v->u.list.v[i]);
      wd_free((void *)v->u.list.v);
      break;
    case WD_PVAL_MAP:
      for (i = 0; i < v->u.map.n; i++) {
        wd_pattr *e = (wd_pattr *)&v->u.map.v[i];
        wd_free((void *)e->key);
        wd_pval_clear(&e->val);
      }
      wd_free((void *)v->u.map.v);
      break;
    default:
      break;
  }
  *v = wd_pval_null();
}

static int setstr(wd_pval *out, const char *p, size_t n) {
  char *s = wd_malloc(n + 1);
  if (s == NULL) return WD_ENOMEM;
  if (n > 0) memcpy(s, p, n);
  s[n] = '\0';
  *out = wd_pval_strn(s, n);
  return 0;
}

static int copy(const wd_pval *src, wd_pval *dst, int depth) {
  size_t i;
  int r;
  *dst = wd_pval_null();
  if (depth > WD_PVAL_MAXDEPTH) return WD_EINVAL;
  switch (src->type) {
    case WD_PVAL_STR:
      return setstr(dst, src->u.s.p, src->u.s.len);
    case WD_PVAL_LIST: {
      wd_pval *v = wd_calloc(src->u.list.n, sizeof *v);
      if (v == NULL) return WD_ENOMEM;
      *dst = wd_pval_list(v, 0);
      for (i = 0; i < src->u.list.n; i++) {
        if ((r = copy(&src->u.list.v[i], &v[i], depth + 1)) != 0) goto fail;
        dst->u.list.n = i + 1;
      }
      return 0;
    }
    case WD_PVAL_MAP: {
      wd_pattr *v = wd_calloc(src->u.map.n, sizeof *v);
      if (v == NULL) return WD_ENOMEM;
      *dst = wd_pval_map(v, 0);
      for (i = 0; i < src->u.map.n; i++) {
        const char *k = src->u.map.v[i].key;
        if ((v[i].key = wd_strdup(k != NULL ? k : "")) == NULL) {
          r = WD_ENOMEM;
          goto fail;
        }
        dst->u.map.n = i + 1;
        if ((r = copy(&src->u.map.v[i].val, &v[i].val, depth + 1)) != 0)
          goto fail;
      }
      return 0;
    }
    case WD_PVAL_BOOL:
    case WD_PVAL_INT:
    case WD_PVAL_NUM:
      *dst = *src;
      return 0;
    default:
      return 0;
  }
fail:
  wd_pval_clear(dst);
  return r;
}

int wd_pval_copy(const wd_pval *src, wd_pval *dst) {
  if (dst == NULL) return WD_EINVAL;
  if (src == NULL) {
    *dst = wd_pval_null();
    return WD_EINVAL;
  }
  return copy(src, dst, 0);
}

static int scalar(const wd_node *n, wd_pval *out) {
  Num num;
  if (!n->quoted) {
    if (n->len == 0 || strcmp(n->str, "null") == 0 ||
        strcmp(n->str, "~") == 0) {
      *out = wd_pval_null();
      return 0;
    }
    if (strcmp(n->str, "true") == 0 || strcmp(n->str, "false") == 0) {
      *out = wd_pval_bool(n->str[0] == 't');
      return 0;
    }
    if (wd__policy_parse_num(n->str, n->len, &num)) {
      *out = num.isint ? wd_pval_int(num.i) : wd_pval_num(num.d);
      return 0;
    }
  }
  return setstr(out, n->str, n->len);
}

static int from_node(const wd_node *n, wd_pval *out, int depth) {
  size_t i;
  int r;
  *out = wd_pval_null();
  if (n == NULL || depth > WD_PVAL_MAXDEPTH) return WD_EINVAL;
  switch (n->type) {
    case WD_NODE_SCALAR:
      if (n->str == NULL) return WD_EINVAL;
      return scalar(n, out);
    case WD_NODE_SEQ: {
      wd_pval *v = wd_calloc(n->n, sizeof *v);
      if (v == NULL) return WD_ENOMEM;
      *out = wd_pval_list(v, 0);
      for (i = 0; i < n->n; i++) {
        if ((r = from_node(n->kids[i], &v[i], depth + 1)) != 0) goto fail;
        out->u.list.n = i + 1;
      }
      return 0;
    }
    case WD_NODE_MAP: {
      wd_pattr *v = wd_calloc(n->n, sizeof *v);
      if (v == NULL) return WD_ENOMEM;
      *out = wd_pval_map(v, 0);
      for (i = 0; i < n->n; i++) {
        const wd_node *k = n->keys[i];
        if (k == NULL || k->type != WD_NODE_SCALAR || k->str == NULL) {
          r = WD_EINVAL;
          goto fail;
        }
        if ((v[i].key = wd_strdup(k->str)) == NULL) {
          r = WD_ENOMEM;
          goto fail;
        }
        out->u.map.n = i + 1;
        if ((r = from_node(n->kids[i], &v[i].val, depth + 1)) != 0) goto fail;
      }
      return 0;
    }
    default:
      return WD_EINVAL;
  }
fail:
  wd_pval_clear(out);
  return r;
}

int wd_pval_from_node(const wd_node *n, wd_pval *out) {
  if (out == NULL) return WD_EINVAL;
  return from_node(n, out, 0);
}

/* }====================================================================== */
