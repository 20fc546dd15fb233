/*
** include/ward/wd_pid.h
** Text form of process ids: {<host id>|0x<hex counter>}.
** Runs in: broker and host.
*/
#ifndef wd_pid_h
#define wd_pid_h

#include <stddef.h>
#include <stdint.h>

#include "ward/wd_common.h"

/*
** A PID string is "{" host "|0x" counter "}", e.g. {app:processes|0x0002a}.
** 'host' is the id of the process.host entry: 1..WD_PID_HOST_MAX bytes, no
** control characters (bytes below 0x20, and 0x7f) and none of '{' '|' '}'
** (':' and '.' are fine). 'counter' is written in lowercase hex with at
** least 5 digits and no other leading zeros, so every PID has exactly one
** spelling and PIDs can be compared as strings.
*/
#define WD_PID_HOST_MAX   255
#define WD_PID_MIN_DIGITS 5
/* Buffer size that holds any PID string and its NUL (276 + 1 needed). */
#define WD_PID_MAX 300

/*
** Write the PID of 'counter' on 'host' ('hostlen' bytes) to 'out' with a
** terminating NUL. Returns its length (without the NUL), WD_EINVAL if
** 'host' is not a valid host id, or WD_ETOOBIG if 'outlen' is too small
** ('out' then holds an empty string if 'outlen' > 0). A buffer of
** WD_PID_MAX bytes is always large enough.
*/
WD_API int wd_pid_format(char *out, size_t outlen, const char *host,
                         size_t hostlen, uint64_t counter);

/*
** Parse the 'len' bytes at 's' (no NUL needed; an embedded NUL is an
** error) as a PID in exactly the form wd_pid_format writes. On success
** returns 0, points '*host' into 's' (borrowed) with '*hostlen' bytes and
** stores the counter; on failure returns WD_EINVAL and leaves the outputs
** untouched.
*/
WD_API int wd_pid_parse(const char *s, size_t len, const char **host,
                        size_t *hostlen, uint64_t *counter);

#endif
