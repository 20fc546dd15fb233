/*
** cli/cmd_junit.c
** JUnit XML reports for CI, one shape for 'ward test --junit' and 'ward
** policy test --junit': a <testsuite> with name, tests, failures,
** errors, skipped, time and timestamp; a <testcase> per test with
** classname, name and time, a <failure message> when it failed and what
** it printed in <system-out>. The report's path is checked before
** anything runs, so a CI job never runs its tests for nothing.
** Runs in: the ward command.
*/
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cmd_int.h"

int wd__junit_check_path(const char *cmd, const char *path) {
  char dir[PATH_MAX];
  const char *slash = strrchr(path, '/');
  struct stat st;
  if (path[0] == '\0') {
    fprintf(stderr, "ward %s: --junit needs a file name\n", cmd);
    return 2;
  }
  if (stat(path, &st) == 0 && S_ISDIR(st.st_mode)) {
    fprintf(stderr, "ward %s: --junit %s: is a directory\n", cmd, path);
    return 2;
  }
  if (slash == NULL)
    snprintf(dir, sizeof dir, ".");
  else if (slash == path)
    snprintf(dir, sizeof dir, "/");
  else
    snprintf(dir, sizeof dir, "%.*s", (int)(slash - path), path);
  if (stat(dir, &st) != 0) {
    fprintf(stderr, "ward %s: --junit %s: directory %s: %s\n", cmd, path, dir,
            strerror(errno));
    return 2;
  }
  if (!S_ISDIR(st.st_mode)) {
    fprintf(stderr, "ward %s: --junit %s: %s is not a directory\n", cmd, path,
            dir);
    return 2;
  }
  if (access(dir, W_OK) != 0 ||
      (access(path, F_OK) == 0 && access(path, W_OK) != 0)) {
    fprintf(stderr, "ward %s: --junit %s: not writable: %s\n", cmd, path,
            strerror(errno));
    return 2;
  }
  return 0;
}

/* Text for an attribute or element: the five XML escapes; control
** characters (not allowed in XML 1.0) and invalid bytes as '?'. */
static void esc(FILE *f, const char *s, size_t n) {
  size_t i;
  for (i = 0; i < n; i++) {
    unsigned char c = (unsigned char)s[i];
    switch (c) {
      case '<':
        fputs("&lt;", f);
        break;
      case '>':
        fputs("&gt;", f);
        break;
      case '&':
        fputs("&amp;", f);
        break;
      case '"':
        fputs("&quot;", f);
        break;
      case '\'':
        fputs("&apos;", f);
        break;
      default:
        if ((c < 0x20 && c != '\n' && c != '\t' && c != '\r') || c == 0x7f ||
            c >= 0x80)
          fputc('?', f);
        else
          fputc(c, f);
    }
  }
}

static void esc0(FILE *f, const char *s) {
  if (s != NULL) esc(f, s, strlen(s));
}

int wd__junit_write(const char *cmd, const char *path, const char *suite,
                    const wd__jcase *c, size_t n, time_t start) {
  FILE *f = fopen(path, "w");
  size_t i, failed = 0;
  double total = 0;
  char ts[32];
  struct tm tm;
  if (f == NULL) {
    fprintf(stderr, "ward %s: cannot write %s: %s\n", cmd, path,
            strerror(errno));
    return -1;
  }
  for (i = 0; i < n; i++) {
    total += c[i].secs;
    failed += !c[i].ok;
  }
  gmtime_r(&start, &tm);
  strftime(ts, sizeof ts, "%Y-%m-%dT%H:%M:%SZ", &tm);
  fputs("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuite name=\"", f);
  esc0(f, suite);
  fprintf(f,
          "\" tests=\"%zu\" failures=\"%zu\" errors=\"0\" skipped=\"0\" "
          "time=\"%.3f\" timestamp=\"%s\">\n",
          n, failed, total, ts);
  for (i = 0; i < n; i++) {
    fputs("  <testcase name=\"", f);
    esc0(f, c[i].name);
    fputs("\" classname=\"", f);
    esc0(f, c[i].classname);
    fprintf(f, "\" time=\"%.3f\">\n", c[i].secs);
    if (!c[i].ok) {
      fputs("    <failure message=\"", f);
      esc0(f, c[i].msg);
      fputs("\"/>\n", f);
    }
    fputs("    <system-out>", f);
    if (c[i].out != NULL) esc(f, c[i].out, c[i].outlen);
    fputs("</system-out>\n  </testcase>\n", f);
  }
  fputs("</testsuite>\n", f);
  if (ferror(f) | (fclose(f) != 0)) {
    fprintf(stderr, "ward %s: cannot write %s\n", cmd, path);
    return -1;
  }
  return 0;
}
