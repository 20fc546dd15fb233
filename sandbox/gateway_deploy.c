/*
** sandbox/gateway_deploy.c
** A deploy's upload, gateway side: the body of PUT /v1/apps/{namespace}
** is a tar archive, read here with libarchive from memory (the gateway
** has no files) into a bounded list of (path, content) that goes to the
** broker in the GW_CALL's value. Everything that could place a file
** outside the revision's directory or make it something other than a
** plain file is refused here, and the broker checks every path again
** (broker_gw_deploy.c): absolute paths, '..', links, devices.
** Runs in: gateway (sandboxed) and broker (wd__gw_path_ok).
*/
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include <archive.h>
#include <archive_entry.h>

#include "gateway.h"

int wd__gw_path_ok(const char *s, size_t n) {
  size_t i, start = 0;
  if (n == 0 || n > WD_DEPLOY_MAX_PATH || s[0] == '/') return 0;
  for (i = 0; i <= n; i++) {
    if (i < n && s[i] != '/') {
      unsigned char ch = (unsigned char)s[i];
      if (ch < 0x20 || ch == 0x7f) return 0;
      continue;
    }
    /* A component is s[start..i): never empty, '.' or '..'. */
    if (i == start || (i - start == 1 && s[start] == '.') ||
        (i - start == 2 && s[start] == '.' && s[start + 1] == '.'))
      return 0;
    start = i + 1;
  }
  return 1;
}

static int fail(char *err, size_t errlen, int status, const char *what,
                const char *path) {
  if (path != NULL)
    snprintf(err, errlen, "%s: %.*s", what, WD_DEPLOY_MAX_PATH, path);
  else
    snprintf(err, errlen, "%s", what);
  return status;
}

int wd__gw_read_tar(const uint8_t *p, size_t n, wd_buf *out, char *err,
                    size_t errlen) {
  struct archive *a = archive_read_new();
  struct archive_entry *e;
  size_t count_pos, total = 0, nent = 0;
  uint32_t nfiles = 0;
  int r = 0, st;
  if (a == NULL) return fail(err, errlen, 503, "out of memory", NULL);
  archive_read_support_format_tar(a);
  archive_read_support_format_gnutar(a);
  if (n == 0 || archive_read_open_memory(a, p, n) != ARCHIVE_OK) {
    archive_read_free(a);
    return fail(err, errlen, 400, "the body is not a tar archive", NULL);
  }
  count_pos = out->len;
  wd_buf_put_u32(out, 0);
  while ((st = archive_read_next_header(a, &e)) == ARCHIVE_OK) {
    const char *path = archive_entry_pathname(e);
    mode_t type = archive_entry_filetype(e);
    la_int64_t size = archive_entry_size(e);
    size_t pl;
    if (++nent > WD_DEPLOY_MAX_FILES) {
      r = fail(err, errlen, 413, "too many entries in the archive", NULL);
      break;
    }
    if (path == NULL) {
      r = fail(err, errlen, 400, "an entry without a path", NULL);
      break;
    }
    /* "./x" as tar writes it is "x". */
    while (path[0] == '.' && path[1] == '/')
      path += 2;
    pl = strlen(path);
    if (type == AE_IFDIR) {
      while (pl > 0 && path[pl - 1] == '/')
        pl--;
      if (pl == 0 || (pl == 1 && path[0] == '.')) continue;
      if (!wd__gw_path_ok(path, pl)) {
        r = fail(err, errlen, 400, "bad path (absolute, '..' or too long)",
                 path);
        break;
      }
      continue;
    }
    if (archive_entry_hardlink(e) != NULL || type == AE_IFLNK) {
      r = fail(err, errlen, 400, "links are refused", path);
      break;
    }
    if (type != AE_IFREG) {
      r = fail(err, errlen, 400, "only regular files and directories", path);
      break;
    }
    if (!wd__gw_path_ok(path, pl)) {
      r = fail(err, errlen, 400, "bad path (absolute, '..' or too long)", path);
      break;
    }
    if (size < 0 || (uint64_t)size > WD_DEPLOY_MAX_BYTES - total) {
      r = fail(err, errlen, 413, "the files are larger than a deploy may be",
               NULL);
      break;
    }
    total += (size_t)size;
    wd_buf_put_str(out, path, pl);
    {
      /* The length first, then the bytes as libarchive gives them. */
      size_t got = 0;
      wd_buf_put_u32(out, (uint32_t)size);
      if (wd_buf_reserve(out, (size_t)size) < 0) {
        r = fail(err, errlen, 413, "the files are too large", NULL);
        break;
      }
      while (got < (size_t)size) {
        la_ssize_t k =
            archive_read_data(a, out->p + out->len, (size_t)size - got);
        if (k <= 0) break;
        out->len += (size_t)k;
        got += (size_t)k;
      }
      if (got != (size_t)size) {
        r = fail(err, errlen, 400, "a truncated archive", path);
        break;
      }
    }
    nfiles++;
  }
  if (r == 0 && st != ARCHIVE_EOF)
    r = fail(err, errlen, 400,
             archive_error_string(a) != NULL ? archive_error_string(a)
                                             : "a malformed archive",
             NULL);
  archive_read_free(a);
  if (r == 0 && out->err)
    r = fail(err, errlen, 413, "the files are too large", NULL);
  if (r == 0 && nfiles == 0)
    r = fail(err, errlen, 400, "the archive holds no file", NULL);
  if (r == 0) wd_buf_patch_u32(out, count_pos, nfiles);
  return r;
}
