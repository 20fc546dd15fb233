/*
** runtime/duration.c
** Durations in Go time.ParseDuration / Duration.String syntax, so scripts
** written for the reference runtime read and print the same strings.
** Runs in: broker and host.
*/
#include <string.h>

#include "ward/wd_time.h"

#define BIT63 ((uint64_t)1 << 63)

static const struct {
  const char *name;
  size_t len;
  uint64_t ns;
} units[] = {
  { "ns", 2, 1 },           { "us", 2, 1000 },
  { "\xc2\xb5s", 3, 1000 }, /* U+00B5 MICRO SIGN */
  { "\xce\xbcs", 3, 1000 }, /* U+03BC GREEK SMALL LETTER MU */
  { "ms", 2, 1000000 },     { "s", 1, 1000000000 },
  { "m", 1, 60000000000 },  { "h", 1, 3600000000000 },
};

static int isdigit_(char ch) {
  return ch >= '0' && ch <= '9';
}

/*
** Digits before the point: [0-9]*. Fails past 2^63, the largest
** magnitude an int64 can take (negative).
*/
static int leading_int(const char *s, size_t len, size_t *i, uint64_t *out) {
  uint64_t x = 0;
  for (; *i < len && isdigit_(s[*i]); (*i)++) {
    if (x > BIT63 / 10) return WD_EINVAL;
    x = x * 10 + (uint64_t)(s[*i] - '0');
    if (x > BIT63) return WD_EINVAL;
  }
  *out = x;
  return 0;
}

/*
** Digits after the point: [0-9]*. Never fails: past 63 bits it stops
** adding precision and skips the remaining digits, as Go does.
*/
static void leading_fraction(const char *s, size_t len, size_t *i,
                             uint64_t *out, double *scale) {
  uint64_t x = 0, y;
  int overflow = 0;
  *scale = 1;
  for (; *i < len && isdigit_(s[*i]); (*i)++) {
    if (overflow) continue;
    if (x > (BIT63 - 1) / 10) {
      overflow = 1;
      continue;
    }
    y = x * 10 + (uint64_t)(s[*i] - '0');
    if (y > BIT63) {
      overflow = 1;
      continue;
    }
    x = y;
    *scale *= 10;
  }
  *out = x;
}

/* Nanoseconds per 'n' bytes of unit name, or 0 if unknown. */
static uint64_t unit_ns(const char *u, size_t n) {
  size_t k;
  for (k = 0; k < WD_COUNTOF(units); k++)
    if (units[k].len == n && memcmp(units[k].name, u, n) == 0)
      return units[k].ns;
  return 0;
}

/*
** One "<number><unit>" term starting at '*i'; adds its magnitude to '*d'.
** Mirrors the loop body of Go's time.ParseDuration, including its use of
** float64 for the fraction (exact to the nanosecond for every unit).
*/
static int term(const char *s, size_t len, size_t *i, uint64_t *d) {
  uint64_t v, f = 0, unit;
  double scale = 1;
  size_t start, u;
  int pre, post = 0;
  if (!(s[*i] == '.' || isdigit_(s[*i]))) return WD_EINVAL;
  start = *i;
  if (leading_int(s, len, i, &v) < 0) return WD_EINVAL;
  pre = *i != start;
  if (*i < len && s[*i] == '.') {
    (*i)++;
    start = *i;
    leading_fraction(s, len, i, &f, &scale);
    post = *i != start;
  }
  if (!pre && !post) return WD_EINVAL; /* ".s", "-.s" */
  /* The unit runs to the next digit or point. */
  for (u = *i; *i < len && s[*i] != '.' && !isdigit_(s[*i]); (*i)++) {
  }
  if (*i == u) return WD_EINVAL; /* missing unit */
  if ((unit = unit_ns(s + u, *i - u)) == 0) return WD_EINVAL;
  if (v > BIT63 / unit) return WD_EINVAL;
  v *= unit;
  if (f > 0) {
    v += (uint64_t)((double)f * ((double)unit / scale));
    if (v > BIT63) return WD_EINVAL;
  }
  *d += v;
  if (*d > BIT63) return WD_EINVAL;
  return 0;
}

int wd_duration_parse(const char *s, size_t len, int64_t *ns) {
  uint64_t d = 0;
  size_t i = 0;
  int neg = 0;
  if (s == NULL) return WD_EINVAL;
  if (len > 0 && (s[0] == '-' || s[0] == '+')) {
    neg = s[0] == '-';
    i = 1;
  }
  if (len - i == 1 && s[i] == '0') {
    *ns = 0;
    return 0;
  }
  if (i == len) return WD_EINVAL;
  while (i < len)
    if (term(s, len, &i, &d) < 0) return WD_EINVAL;
  if (neg) {
    /* -2^63 is representable; build it without signed overflow. */
    *ns = d == BIT63 ? INT64_MIN : -(int64_t)d;
    return 0;
  }
  if (d > BIT63 - 1) return WD_EINVAL;
  *ns = (int64_t)d;
  return 0;
}

/*
** Write the fraction v / 10^prec (".12345") right-aligned ending at 'w',
** without trailing zeros, and without the point when it is zero. Returns
** the new start; '*v' becomes the integer part.
*/
static char *fmt_frac(char *w, uint64_t *v, int prec) {
  int i, print = 0;
  for (i = 0; i < prec; i++) {
    uint64_t digit = *v % 10;
    print = print || digit != 0;
    if (print) *--w = (char)('0' + digit);
    *v /= 10;
  }
  if (print) *--w = '.';
  return w;
}

static char *fmt_int(char *w, uint64_t v) {
  do {
    *--w = (char)('0' + v % 10);
    v /= 10;
  } while (v > 0);
  return w;
}

int wd_duration_format(int64_t ns, char *out, size_t outlen) {
  char buf[WD_DURATION_MAX];
  char *end = buf + sizeof(buf), *w = end;
  uint64_t u = (uint64_t)ns;
  int neg = ns < 0;
  size_t n;
  if (neg) u = -u; /* unsigned negation also handles INT64_MIN */
  if (u < 1000000000) {
    /* Under a second: the largest unit that keeps an integer part. */
    int prec;
    *--w = 's';
    if (u == 0) {
      *--w = '0';
    } else {
      if (u < 1000) {
        prec = 0;
        *--w = 'n';
      } else if (u < 1000000) {
        prec = 3;
        *--w = '\xb5'; /* "µ" is U+00B5, two bytes */
        *--w = '\xc2';
      } else {
        prec = 6;
        *--w = 'm';
      }
      w = fmt_frac(w, &u, prec);
      w = fmt_int(w, u);
    }
  } else {
    *--w = 's';
    w = fmt_frac(w, &u, 9);
    w = fmt_int(w, u % 60); /* whole seconds */
    u /= 60;
    if (u > 0) {
      *--w = 'm';
      w = fmt_int(w, u % 60);
      u /= 60;
      /* Stop at hours: days are not all the same length. */
      if (u > 0) {
        *--w = 'h';
        w = fmt_int(w, u);
      }
    }
  }
  if (neg) *--w = '-';
  n = (size_t)(end - w);
  if (outlen < n + 1) {
    if (outlen > 0) out[0] = '\0';
    return WD_ETOOBIG;
  }
  memcpy(out, w, n);
  out[n] = '\0';
  return (int)n;
}
