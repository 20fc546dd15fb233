/*
** runtime/pid.c
** Text form of process ids: {<host id>|0x<hex counter>}.
** Runs in: broker and host.
*/
#include <string.h>

#include "ward/wd_pid.h"

static const char hexdigits[] = "0123456789abcdef";

/*
** A host id is what sits between '{' and '|'. Refusing the delimiters keeps
** parsing unambiguous; refusing control characters keeps PIDs safe to put
** in logs and error messages as they are.
*/
static int host_valid(const char *h, size_t n) {
  size_t i;
  if (n == 0 || n > WD_PID_HOST_MAX) return 0;
  for (i = 0; i < n; i++) {
    unsigned char ch = (unsigned char)h[i];
    if (ch < 0x20 || ch == 0x7f || ch == '{' || ch == '|' || ch == '}')
      return 0;
  }
  return 1;
}

int wd_pid_format(char *out, size_t outlen, const char *host, size_t hostlen,
                  uint64_t counter) {
  char digits[16];
  size_t nd = 0, total, i;
  char *p;
  if (host == NULL || !host_valid(host, hostlen)) return WD_EINVAL;
  do {
    digits[nd++] = hexdigits[counter & 0xf];
    counter >>= 4;
  } while (counter != 0);
  while (nd < WD_PID_MIN_DIGITS)
    digits[nd++] = '0';
  total = 1 + hostlen + 3 + nd + 1; /* "{" host "|0x" digits "}" */
  if (outlen < total + 1) {
    if (outlen > 0) out[0] = '\0';
    return WD_ETOOBIG;
  }
  p = out;
  *p++ = '{';
  memcpy(p, host, hostlen);
  p += hostlen;
  *p++ = '|';
  *p++ = '0';
  *p++ = 'x';
  for (i = nd; i > 0; i--)
    *p++ = digits[i - 1];
  *p++ = '}';
  *p = '\0';
  return (int)total;
}

/* Value of a lowercase hex digit, or -1. */
static int hexval(char ch) {
  if (ch >= '0' && ch <= '9') return ch - '0';
  if (ch >= 'a' && ch <= 'f') return ch - 'a' + 10;
  return -1;
}

int wd_pid_parse(const char *s, size_t len, const char **host, size_t *hostlen,
                 uint64_t *counter) {
  const char *pipe, *d;
  size_t hn, nd, i;
  uint64_t v = 0;
  /* Shortest form: "{h|0x00000}". */
  if (s == NULL || len < 11 || s[0] != '{' || s[len - 1] != '}')
    return WD_EINVAL;
  pipe = memchr(s + 1, '|', len - 2);
  if (pipe == NULL) return WD_EINVAL;
  hn = (size_t)(pipe - (s + 1));
  if (!host_valid(s + 1, hn)) return WD_EINVAL;
  /* What follows the pipe: "0x" digits "}". */
  d = pipe + 1;
  if ((size_t)(s + len - d) < 3 || d[0] != '0' || d[1] != 'x') return WD_EINVAL;
  d += 2;
  nd = (size_t)(s + len - 1 - d);
  /* One spelling per PID: at least 5 digits, and leading zeros only as
  ** padding up to 5. */
  if (nd < WD_PID_MIN_DIGITS || nd > 16) return WD_EINVAL;
  if (nd > WD_PID_MIN_DIGITS && d[0] == '0') return WD_EINVAL;
  for (i = 0; i < nd; i++) {
    int x = hexval(d[i]);
    if (x < 0) return WD_EINVAL;
    v = v << 4 | (uint64_t)x;
  }
  *host = s + 1;
  *hostlen = hn;
  *counter = v;
  return 0;
}
