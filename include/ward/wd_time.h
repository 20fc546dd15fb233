/*
** include/ward/wd_time.h
** Durations in Go time.ParseDuration / Duration.String syntax.
** Runs in: broker and host.
*/
#ifndef wd_time_h
#define wd_time_h

#include <stddef.h>
#include <stdint.h>

#include "ward/wd_common.h"

/* Buffer size that holds any formatted duration and its NUL. */
#define WD_DURATION_MAX 33

/*
** Parse the 'len' bytes at 's' as Go's time.ParseDuration does: an
** optional sign, then one or more decimal numbers, each with an optional
** fraction and a unit: "ns", "us", "µs" (U+00B5 or U+03BC), "ms", "s",
** "m", "h" ("1.5h", "2h45m", "-.5s"); "0" alone (signed or not) needs no
** unit. Fractions are rounded towards zero to whole nanoseconds. Stores the
** value in '*ns' and returns 0, or returns WD_EINVAL (empty, no digits,
** missing or unknown unit, or outside int64 nanoseconds) and leaves '*ns'
** untouched. Never reads past 'len'.
*/
WD_API int wd_duration_parse(const char *s, size_t len, int64_t *ns);

/*
** Write 'ns' as Go's Duration.String does ("1.5s", "100ms", "2h45m0s",
** "1µs", "0s") to 'out' with a terminating NUL. Returns the length
** (without the NUL) or WD_ETOOBIG if 'outlen' is too small ('out' then
** holds an empty string if 'outlen' > 0). WD_DURATION_MAX always fits.
*/
WD_API int wd_duration_format(int64_t ns, char *out, size_t outlen);

#endif
