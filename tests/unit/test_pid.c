/*
** tests/unit/test_pid.c
** Unit tests for PID strings (runtime/pid.c) and Go-style durations
** (runtime/duration.c).
** Runs in: broker and host.
*/
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <string.h>
#include <cmocka.h>

#include "ward/wd_pid.h"
#include "ward/wd_time.h"

/* {====== PIDs ====== */

static void test_pid_format_pads_counter_to_five_digits(void **state) {
  char out[WD_PID_MAX];
  (void)state;
  assert_int_equal(wd_pid_format(out, sizeof(out), "app:processes", 13, 42),
                   23);
  assert_string_equal(out, "{app:processes|0x0002a}");
  assert_int_equal(wd_pid_format(out, sizeof(out), "h", 1, 0), 11);
  assert_string_equal(out, "{h|0x00000}");
  assert_int_equal(wd_pid_format(out, sizeof(out), "h", 1, 0xfffff), 11);
  assert_string_equal(out, "{h|0xfffff}");
  assert_int_equal(wd_pid_format(out, sizeof(out), "h", 1, 0x100000), 12);
  assert_string_equal(out, "{h|0x100000}");
  assert_int_equal(wd_pid_format(out, sizeof(out), "a.b:c", 5, UINT64_MAX), 26);
  assert_string_equal(out, "{a.b:c|0xffffffffffffffff}");
}

static void test_pid_format_uses_only_hostlen_bytes(void **state) {
  char out[WD_PID_MAX];
  (void)state;
  assert_int_equal(wd_pid_format(out, sizeof(out), "hostXYZ", 4, 1), 14);
  assert_string_equal(out, "{host|0x00001}");
}

static void test_pid_format_longest_host_fits_wd_pid_max(void **state) {
  char host[WD_PID_HOST_MAX];
  char out[WD_PID_MAX];
  int n;
  (void)state;
  memset(host, 'h', sizeof(host));
  n = wd_pid_format(out, sizeof(out), host, sizeof(host), UINT64_MAX);
  assert_int_equal(n, 1 + WD_PID_HOST_MAX + 3 + 16 + 1);
  assert_true((size_t)n < WD_PID_MAX);
  assert_int_equal(strlen(out), (size_t)n);
}

static void test_pid_format_small_buffer_returns_etoobig(void **state) {
  char out[12];
  (void)state;
  /* "{h|0x00000}" is 11 bytes plus the NUL */
  memset(out, 'x', sizeof(out));
  assert_int_equal(wd_pid_format(out, 11, "h", 1, 0), WD_ETOOBIG);
  assert_int_equal(out[0], '\0');
  assert_int_equal(out[1], 'x'); /* nothing else written */
  assert_int_equal(wd_pid_format(out, 0, "h", 1, 0), WD_ETOOBIG);
  assert_int_equal(wd_pid_format(out, 12, "h", 1, 0), 11);
  assert_string_equal(out, "{h|0x00000}");
}

static void test_pid_format_bad_host_returns_einval(void **state) {
  static const struct {
    const char *host;
    size_t len;
  } bad[] = {
    { "", 0 },     { "a|b", 3 },  { "a{b", 3 },    { "a}b", 3 },
    { "a\nb", 3 }, { "a\0b", 3 }, { "a\177b", 3 }, { "\x1f", 1 },
  };
  char host[WD_PID_HOST_MAX + 1];
  char out[WD_PID_MAX];
  size_t i;
  (void)state;
  for (i = 0; i < WD_COUNTOF(bad); i++)
    assert_int_equal(
        wd_pid_format(out, sizeof(out), bad[i].host, bad[i].len, 1), WD_EINVAL);
  assert_int_equal(wd_pid_format(out, sizeof(out), NULL, 0, 1), WD_EINVAL);
  memset(host, 'h', sizeof(host));
  assert_int_equal(wd_pid_format(out, sizeof(out), host, sizeof(host), 1),
                   WD_EINVAL);
}

static void test_pid_parse_valid_returns_host_and_counter(void **state) {
  static const char s[] = "{app:processes|0x0002a}";
  const char *host;
  size_t hostlen;
  uint64_t counter;
  (void)state;
  assert_int_equal(wd_pid_parse(s, strlen(s), &host, &hostlen, &counter), 0);
  assert_ptr_equal(host, s + 1);
  assert_int_equal(hostlen, 13);
  assert_memory_equal(host, "app:processes", 13);
  assert_true(counter == 42);
}

static void test_pid_parse_non_ascii_host_is_accepted(void **state) {
  static const char s[] = "{t\xc3\xa9:p|0x00001}";
  const char *host;
  size_t hostlen;
  uint64_t counter;
  (void)state;
  assert_int_equal(wd_pid_parse(s, strlen(s), &host, &hostlen, &counter), 0);
  assert_int_equal(hostlen, 5);
}

static void test_pid_format_parse_round_trip_preserves_values(void **state) {
  static const uint64_t counters[] = {
    0,
    1,
    0xf,
    0x10,
    0xffff,
    0x10000,
    0xfffff,
    0x100000,
    0xffffff,
    0x1000000,
    0xffffffff,
    0x100000000,
    0x123456789abcdefULL,
    UINT64_MAX - 1,
    UINT64_MAX,
  };
  static const char *hosts[] = { "h", "app:processes", "a.b.c:d-e_f",
                                 "tenant-b:processes" };
  char out[WD_PID_MAX], again[WD_PID_MAX];
  size_t i, j;
  (void)state;
  for (i = 0; i < WD_COUNTOF(hosts); i++) {
    for (j = 0; j < WD_COUNTOF(counters); j++) {
      const char *host;
      size_t hostlen;
      uint64_t counter;
      int n = wd_pid_format(out, sizeof(out), hosts[i], strlen(hosts[i]),
                            counters[j]);
      assert_true(n > 0);
      assert_int_equal(wd_pid_parse(out, (size_t)n, &host, &hostlen, &counter),
                       0);
      assert_int_equal(hostlen, strlen(hosts[i]));
      assert_memory_equal(host, hosts[i], hostlen);
      assert_true(counter == counters[j]);
      /* and back: one spelling per PID */
      assert_int_equal(
          wd_pid_format(again, sizeof(again), host, hostlen, counter), n);
      assert_string_equal(again, out);
    }
  }
}

static void test_pid_parse_malformed_returns_einval(void **state) {
  static const char *bad[] = {
    "",
    "{",
    "}",
    "{}",
    "{|}",
    "app|0x00001",               /* no braces */
    "{app|0x00001",              /* no closing brace */
    "app|0x00001}",              /* no opening brace */
    "[app|0x00001]",             /* wrong brackets */
    "{app:0x00001}",             /* no pipe */
    "{app|proc|0x00001}",        /* two pipes (legacy 3-part form) */
    "{app|0x000|01}",            /* pipe among the digits */
    "{app|00001}",               /* no 0x */
    "{app|0X00001}",             /* uppercase X */
    "{app|x00001}",              /* no 0 */
    "{app|0x}",                  /* no digits */
    "{app|0x0001}",              /* fewer than 5 digits */
    "{app|0x1}",                 /* fewer than 5 digits */
    "{app|0x00000g}",            /* non-hex */
    "{app|0x0000 1}",            /* space */
    "{app|0x-0001}",             /* sign */
    "{app|0x0002A}",             /* uppercase hex */
    "{app|0xABCDEF}",            /* uppercase hex */
    "{app|0x000001}",            /* leading zero beyond the padding */
    "{app|0x0000000000000001}",  /* leading zeros, 16 digits */
    "{app|0x10000000000000000}", /* 17 hex digits */
    "{app|0x00000000000000001}", /* 17 hex digits, zeros */
    "{|0x00001}",                /* empty host */
    "{a{b|0x00001}",             /* brace in host */
    "{a}b|0x00001}",             /* brace in host */
    "{a\tb|0x00001}",            /* control character in host */
    "{a\x7f|0x00001}",           /* DEL in host */
    " {app|0x00001}",            /* leading space */
    "{app|0x00001} ",            /* trailing space */
    "{app|0x00001}}",            /* extra brace */
    "{{app|0x00001}",            /* extra brace */
  };
  const char *host = NULL;
  size_t hostlen = 7, i;
  uint64_t counter = 7;
  (void)state;
  for (i = 0; i < WD_COUNTOF(bad); i++) {
    int r = wd_pid_parse(bad[i], strlen(bad[i]), &host, &hostlen, &counter);
    if (r != WD_EINVAL) fail_msg("accepted or wrong code for \"%s\"", bad[i]);
  }
  /* outputs are untouched on failure */
  assert_null(host);
  assert_int_equal(hostlen, 7);
  assert_true(counter == 7);
  assert_int_equal(wd_pid_parse(NULL, 0, &host, &hostlen, &counter), WD_EINVAL);
}

static void test_pid_parse_embedded_nul_returns_einval(void **state) {
  static const char s1[] = "{ap\0p|0x00001}";
  static const char s2[] = "{app|0x000\0001}";
  static const char s3[] = "{app|0x00001}\0";
  const char *host;
  size_t hostlen;
  uint64_t counter;
  (void)state;
  assert_int_equal(wd_pid_parse(s1, sizeof(s1) - 1, &host, &hostlen, &counter),
                   WD_EINVAL);
  assert_int_equal(wd_pid_parse(s2, sizeof(s2) - 1, &host, &hostlen, &counter),
                   WD_EINVAL);
  /* the terminating NUL is not part of the PID */
  assert_int_equal(wd_pid_parse(s3, sizeof(s3) - 1, &host, &hostlen, &counter),
                   WD_EINVAL);
  assert_int_equal(wd_pid_parse(s3, sizeof(s3) - 2, &host, &hostlen, &counter),
                   0);
}

static void test_pid_parse_overlong_host_returns_einval(void **state) {
  char s[WD_PID_MAX + 16];
  const char *host;
  size_t hostlen;
  uint64_t counter;
  (void)state;
  /* 255 bytes of host is the limit, 256 is over it */
  s[0] = '{';
  memset(s + 1, 'h', WD_PID_HOST_MAX);
  memcpy(s + 1 + WD_PID_HOST_MAX, "|0x00001}", 10);
  assert_int_equal(
      wd_pid_parse(s, 1 + WD_PID_HOST_MAX + 9, &host, &hostlen, &counter), 0);
  assert_int_equal(hostlen, WD_PID_HOST_MAX);
  memset(s + 1, 'h', WD_PID_HOST_MAX + 1);
  memcpy(s + 2 + WD_PID_HOST_MAX, "|0x00001}", 10);
  assert_int_equal(
      wd_pid_parse(s, 2 + WD_PID_HOST_MAX + 9, &host, &hostlen, &counter),
      WD_EINVAL);
}

static void test_pid_parse_honours_len_not_nul(void **state) {
  static const char s[] = "{app|0x00001}garbage";
  const char *host;
  size_t hostlen;
  uint64_t counter;
  (void)state;
  assert_int_equal(wd_pid_parse(s, 13, &host, &hostlen, &counter), 0);
  assert_int_equal(wd_pid_parse(s, 12, &host, &hostlen, &counter), WD_EINVAL);
  assert_int_equal(wd_pid_parse(s, strlen(s), &host, &hostlen, &counter),
                   WD_EINVAL);
}

/* }====== */

/* {====== Durations ====== */

#define NS  INT64_C(1)
#define US  (1000 * NS)
#define MS  (1000 * US)
#define SEC (1000 * MS)
#define MIN (60 * SEC)
#define HR  (60 * MIN)

/* Go's own table (time_test.go parseDurationTests), plus a few more. */
static const struct {
  const char *s;
  int64_t ns;
} valid_durations[] = {
  { "0", 0 },
  { "5s", 5 * SEC },
  { "30s", 30 * SEC },
  { "1478s", 1478 * SEC },
  { "-5s", -5 * SEC },
  { "+5s", 5 * SEC },
  { "-0", 0 },
  { "+0", 0 },
  { "0s", 0 },
  { "0.0ns", 0 },
  { "5.0s", 5 * SEC },
  { "5.6s", 5 * SEC + 600 * MS },
  { "5.s", 5 * SEC },
  { ".5s", 500 * MS },
  { "1.0s", 1 * SEC },
  { "1.00s", 1 * SEC },
  { "1.004s", 1 * SEC + 4 * MS },
  { "1.0040s", 1 * SEC + 4 * MS },
  { "100.00100s", 100 * SEC + 1 * MS },
  { "10ns", 10 * NS },
  { "11us", 11 * US },
  { "12\xc2\xb5s", 12 * US }, /* U+00B5 */
  { "12\xce\xbcs", 12 * US }, /* U+03BC */
  { "13ms", 13 * MS },
  { "14s", 14 * SEC },
  { "15m", 15 * MIN },
  { "16h", 16 * HR },
  { "100ms", 100 * MS },
  { "1.5h", 90 * MIN },
  { "2h45m", 2 * HR + 45 * MIN },
  { "3h30m", 3 * HR + 30 * MIN },
  { "10.5s4m", 4 * MIN + 10 * SEC + 500 * MS },
  { "-2m3.4s", -(2 * MIN + 3 * SEC + 400 * MS) },
  { "1h2m3s4ms5us6ns", HR + 2 * MIN + 3 * SEC + 4 * MS + 5 * US + 6 * NS },
  { "39h9m14.425s", 39 * HR + 9 * MIN + 14 * SEC + 425 * MS },
  { "1.5ns", 1 }, /* fractions of a nanosecond are dropped */
  { "-1.5ns", -1 },
  { "1s1s", 2 * SEC }, /* repeated units add up */
  { "52763797000ns", 52763797000 * NS },
  { "0.3333333333333333333h", 20 * MIN },
  { "9007199254740993ns", (INT64_C(1) << 53) + 1 },
  { "9223372036854775807ns", INT64_MAX },
  { "9223372036854775.807us", INT64_MAX },
  { "9223372036s854ms775us807ns", INT64_MAX },
  { "-9223372036854775808ns", INT64_MIN },
  { "-9223372036854775.808us", INT64_MIN },
  { "-9223372036s854ms775us808ns", INT64_MIN },
  { "-2562047h47m16.854775808s", INT64_MIN },
  { "2562047h47m16.854775807s", INT64_MAX },
  { "0.100000000000000000000h", 6 * MIN },
  { "0.830103483285477580700h", 49 * MIN + 48 * SEC + 372539827 * NS },
  { "1m30s", 90 * SEC },
  { "1m30.5s", 90 * SEC + 500 * MS },
  { "2562047h", 2562047 * HR },
  { "-2562047h", -2562047 * HR },
  { "9223372036s854775807ns", INT64_MAX },
  { "-9223372036s854775808ns", INT64_MIN },
};

static const char *invalid_durations[] = {
  "",
  "3",   /* missing unit */
  "00",  /* only a lone "0" may omit the unit */
  "1s2", /* missing unit on the last term */
  "-",
  "+",
  "--1s",
  "+-1s",
  "s",
  ".",
  "-.",
  ".s",
  "+.s",
  "1d",  /* unknown unit */
  "1S",  /* units are case-sensitive */
  "1 s", /* no spaces */
  "1s ",
  " 1s",
  "1h-2m", /* "h-" is not a unit */
  "1sec",
  "1..5s",
  "1.5.s",
  "\xc2\xb5s",
  "1\xc2s", /* half a micro sign */
  "1\xb5s",
  "\x85\x85",
  "\377fff",
  "hello \377fff world",
  "\xef\xbf\xbd",
  "9223372036854775810ns", /* overflow */
  "9223372036854775808ns",
  "-9223372036854775809ns",
  "9223372036854776us",
  "3000000h",
  "9223372036854775.808us",
  "9223372036854ms775us808ns",
  "99999999999999999999999s",
  "2562047h47m16.854775808s",
  "-2562047h47m16.854775809s", /* one past -2^63 */
  "2562048h",                  /* overflow in the multiplication */
  "-2562048h",
  "9223372036854775807ns1ns",  /* overflow in the sum */
  "18446744073709551616ns",    /* 2^64: overflow in the digits */
};

static void test_duration_parse_valid_table_gives_exact_ns(void **state) {
  size_t i;
  (void)state;
  for (i = 0; i < WD_COUNTOF(valid_durations); i++) {
    int64_t ns = 12345;
    int r = wd_duration_parse(valid_durations[i].s,
                              strlen(valid_durations[i].s), &ns);
    if (r != 0 || ns != valid_durations[i].ns)
      fail_msg("\"%s\": r=%d ns=%lld, want %lld", valid_durations[i].s, r,
               (long long)ns, (long long)valid_durations[i].ns);
  }
}

static void test_duration_parse_invalid_table_returns_einval(void **state) {
  size_t i;
  (void)state;
  for (i = 0; i < WD_COUNTOF(invalid_durations); i++) {
    int64_t ns = 12345;
    int r = wd_duration_parse(invalid_durations[i],
                              strlen(invalid_durations[i]), &ns);
    if (r != WD_EINVAL || ns != 12345)
      fail_msg("\"%s\": r=%d ns=%lld", invalid_durations[i], r, (long long)ns);
  }
}

static void test_duration_parse_honours_len_and_embedded_nul(void **state) {
  static const char s[] = "15ms\0"
                          "3h";
  int64_t ns = 0;
  (void)state;
  assert_int_equal(wd_duration_parse(s, 4, &ns), 0);
  assert_true(ns == 15 * MS);
  assert_int_equal(wd_duration_parse(s, 3, &ns), 0); /* "15m" */
  assert_true(ns == 15 * MIN);
  assert_int_equal(wd_duration_parse(s, sizeof(s) - 1, &ns), WD_EINVAL);
  assert_int_equal(wd_duration_parse(s, 0, &ns), WD_EINVAL);
  assert_int_equal(wd_duration_parse(NULL, 0, &ns), WD_EINVAL);
}

/* Go's own table (time_test.go durationTests), plus a few more. */
static const struct {
  const char *s;
  int64_t ns;
} formatted_durations[] = {
  { "0s", 0 },
  { "1ns", 1 * NS },
  { "-1ns", -1 * NS },
  { "999ns", 999 * NS },
  { "1\xc2\xb5s", 1 * US },
  { "1.1\xc2\xb5s", 1100 * NS },
  { "2.2ms", 2200 * US },
  { "100ms", 100 * MS },
  { "999.999999ms", SEC - 1 },
  { "1s", SEC },
  { "1.5s", 1500 * MS },
  { "3.3s", 3300 * MS },
  { "-3.3s", -3300 * MS },
  { "1m0s", MIN },
  { "4m5s", 4 * MIN + 5 * SEC },
  { "4m5.001s", 4 * MIN + 5001 * MS },
  { "1h0m0s", HR },
  { "2h45m0s", 2 * HR + 45 * MIN },
  { "5h6m7.001s", 5 * HR + 6 * MIN + 7001 * MS },
  { "8m0.000000001s", 8 * MIN + 1 * NS },
  { "2562047h47m16.854775807s", INT64_MAX },
  { "-2562047h47m16.854775808s", INT64_MIN },
};

static void test_duration_format_table_matches_go(void **state) {
  char out[WD_DURATION_MAX];
  size_t i;
  (void)state;
  for (i = 0; i < WD_COUNTOF(formatted_durations); i++) {
    int n = wd_duration_format(formatted_durations[i].ns, out, sizeof(out));
    assert_int_equal(n, (int)strlen(formatted_durations[i].s));
    assert_string_equal(out, formatted_durations[i].s);
  }
}

static void test_duration_format_parse_round_trip_preserves_ns(void **state) {
  static const int64_t values[] = {
    0,
    1,
    -1,
    999,
    1000,
    1001,
    999999,
    1000000,
    123456789,
    SEC,
    SEC + 1,
    59 * SEC,
    61 * SEC + 5,
    HR - 1,
    25 * HR + 1,
    INT64_MAX,
    INT64_MIN,
    INT64_MIN + 1,
  };
  char out[WD_DURATION_MAX];
  size_t i;
  (void)state;
  for (i = 0; i < WD_COUNTOF(values); i++) {
    int64_t ns;
    int n = wd_duration_format(values[i], out, sizeof(out));
    assert_true(n > 0);
    assert_int_equal(wd_duration_parse(out, (size_t)n, &ns), 0);
    assert_true(ns == values[i]);
  }
}

static void test_duration_format_small_buffer_returns_etoobig(void **state) {
  char out[8];
  (void)state;
  memset(out, 'x', sizeof(out));
  /* "100ms" needs 6 bytes with its NUL */
  assert_int_equal(wd_duration_format(100 * MS, out, 5), WD_ETOOBIG);
  assert_int_equal(out[0], '\0');
  assert_int_equal(out[1], 'x');
  assert_int_equal(wd_duration_format(100 * MS, out, 0), WD_ETOOBIG);
  assert_int_equal(wd_duration_format(100 * MS, out, 6), 5);
  assert_string_equal(out, "100ms");
}

/* }====== */

int main(void) {
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_pid_format_pads_counter_to_five_digits),
    cmocka_unit_test(test_pid_format_uses_only_hostlen_bytes),
    cmocka_unit_test(test_pid_format_longest_host_fits_wd_pid_max),
    cmocka_unit_test(test_pid_format_small_buffer_returns_etoobig),
    cmocka_unit_test(test_pid_format_bad_host_returns_einval),
    cmocka_unit_test(test_pid_parse_valid_returns_host_and_counter),
    cmocka_unit_test(test_pid_parse_non_ascii_host_is_accepted),
    cmocka_unit_test(test_pid_format_parse_round_trip_preserves_values),
    cmocka_unit_test(test_pid_parse_malformed_returns_einval),
    cmocka_unit_test(test_pid_parse_embedded_nul_returns_einval),
    cmocka_unit_test(test_pid_parse_overlong_host_returns_einval),
    cmocka_unit_test(test_pid_parse_honours_len_not_nul),
    cmocka_unit_test(test_duration_parse_valid_table_gives_exact_ns),
    cmocka_unit_test(test_duration_parse_invalid_table_returns_einval),
    cmocka_unit_test(test_duration_parse_honours_len_and_embedded_nul),
    cmocka_unit_test(test_duration_format_table_matches_go),
    cmocka_unit_test(test_duration_format_parse_round_trip_preserves_ns),
    cmocka_unit_test(test_duration_format_small_buffer_returns_etoobig),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
