/*
** cli/cmd_int.h
** What the files of the ward command share: the command itself (main.c,
** for cli/ward.c and the test binary tests/link/testhooks.c) and the
** parts of 'ward policy' (cmd_policy.c, cmd_policy_test.c).
** Runs in: the ward command.
*/
#ifndef wd_cmd_int_h
#define wd_cmd_int_h

#include <stddef.h>
#include <stdio.h>
#include <time.h>

#include "ward/wd_policy.h"
#include "ward/wd_polset.h"
#include "ward/wd_sandbox.h"

/* Changes the broker options of run, test and serve just before the
** broker starts. Only a test binary has one (tests/link/testhooks.c,
** built with -DWD_TEST_HOOKS=ON); ward itself passes NULL. */
typedef void (*wd__cli_hook)(wd_broker_opts *o);

/* The ward command: 'ward ARGS' with argv[0] the program. Returns the exit
** status; 'ward host ID' does not return. */
int wd__cli_main(int argc, char **argv, wd__cli_hook hook);

/* 'ward token hash SECRET' (cmd_token.c) and 'ward ctl ...' (cmd_ctl.c),
** argv[0] the first argument after the command. Return the exit status. */
int wd__cmd_token(int argc, char **argv);
int wd__cmd_ctl(int argc, char **argv);
/* GET 'path' of the server at 'addr' (unix:PATH or tcp:HOST:PORT) with
** the bearer 'token' (may be NULL): the HTTP status (0: no answer), the
** body in '*body' (malloc'd, NUL-terminated, or NULL; the caller frees). */
int wd__ctl_get(const char *addr, const char *path, const char *token,
                char **body, size_t *len);
/* The token ID:SECRET: the first line of 'file', or $WARD_TOKEN when
** 'file' is NULL; NULL when there is none. A static buffer. */
char *wd__ctl_token(const char *file);
/* 'ward top' (cmd_top.c): a live view of a serving ward through its API. */
int wd__cmd_top(int argc, char **argv);
/* 'ward compile' (cli/cmd_compile.c): a deploy's Lua syntax check, started
** by the broker. Never returns. */
void wd__cmd_compile(void) __attribute__((noreturn));

/* 'ward policy test ARGS' (argv[0] is the first argument after "test"). */
int wd__cmd_policy_test(int argc, char **argv);

/* Why 'd' came out so: "allowed by a, b", "forbidden by a", "no policy
   matched", "no actor or scope". */
void wd__cmd_policy_why(const wd_pdecision *d, char *out, size_t n);

int wd_cmd_doctor(int argc, char **argv); /* doctor.c: 'ward doctor' */

/* The public key of audit log 'log': 'key', or LOG.pub when NULL
** (cmd_audit.c). Returns 0, or 2 after printing "ward CMD: why". */
struct wd_audit_pub;
int wd__cmd_audit_key(const char *cmd, const char *log, const char *key,
                      struct wd_audit_pub *pub);

/* {====== JUnit XML reports (cmd_junit.c) ====== */

/* One test in a report. 'out' (may be NULL) is what it printed. */
typedef struct wd__jcase {
  const char *classname, *name;
  double secs;
  int ok;
  const char *msg; /* the failure message, when !ok */
  const char *out;
  size_t outlen;
} wd__jcase;

/* Check before anything runs that a report can be written at 'path' (its
** directory exists and is writable; 'path' is no directory). Returns 0,
** or 2 after printing "ward CMD: --junit PATH: why". */
int wd__junit_check_path(const char *cmd, const char *path);
/* Write the report: a <testsuite> named 'suite' started at 'start'.
** Returns 0, or -1 after printing why. */
int wd__junit_write(const char *cmd, const char *path, const char *suite,
                    const wd__jcase *c, size_t n, time_t start);

/* }====== */

/* {====== What each test printed (cmd_capture.c) ====== */

typedef struct wd__capture wd__capture;

/* Make fd 1 a pipe whose bytes a thread copies to the real standard
** output, keeping those between the marks of each test. Call before the
** broker starts (it opens fd 1 then). Returns 0, or a negative code with
** nothing changed. */
int wd__capture_start(wd__capture **out);
/* The begin (begin != 0) or end mark of test 'idx', into 'buf' (48
** bytes): print it through the broker's output (wd_broker_printf). */
void wd__capture_mark(const wd__capture *c, int begin, int idx, char *buf,
                      size_t n);
/* After the broker has run: fd 1 is the real standard output again and
** everything printed has been copied. */
void wd__capture_stop(wd__capture *c);
/* What test 'idx' printed (not NUL-terminated), borrowed from 'c'. */
const char *wd__capture_out(const wd__capture *c, int idx, size_t *len);
/* Stop if needed and free. NULL does nothing. */
void wd__capture_free(wd__capture *c);

/* }====== */

/* {====== Shared by the 'ward policy' commands (cmd_policy*.c) ====== */

#define WD_CMD_MAXARGS 64

/* A request, or an actor and scope, from the command line: PATH...
** --actor ID --meta K=V... --scope NAME... [--action A --resource R
** --attr K=V...] [--json]. Strings are borrowed from argv. */
typedef struct wd__reqargs {
  const char *paths[WD_CMD_MAXARGS];
  size_t npaths;
  const char *actor, *action, *resource;
  const char *scope[WD_CMD_MAXARGS];
  size_t nscope;
  wd_pattr meta[WD_CMD_MAXARGS], attrs[WD_CMD_MAXARGS];
  size_t nmeta, nattrs;
  wd_pval owned[2 * WD_CMD_MAXARGS]; /* parsed lists, freed at the end */
  size_t nowned;
  wd_pval metav;
  int json; /* --json */
} wd__reqargs;

#define WD_REQARGS_REQUEST 0x1u /* --action and --resource are required */
#define WD_REQARGS_JSON    0x2u /* --json is an option */

/* Parse 'argv' into 'q'. Returns 0; -1 after printing the help; 2 after
** a usage error (printed). Clear 'q' with wd__cmd_policy_args_clear in
** every case. */
int wd__cmd_policy_args(wd__reqargs *q, const char *cmd, const char *usage,
                        int argc, char **argv, unsigned flags);
void wd__cmd_policy_args_clear(wd__reqargs *q);

/* Load policy paths; on failure print "ward policy CMD: error" and
** return 2. */
int wd__cmd_policy_load(const char *cmd, const char *const *paths, size_t n,
                        wd_polset **ps);

/* A value as compact YAML flow ("{a: 1, b: [x, \"y z\"]}"). */
void wd__cmd_policy_put_val(FILE *f, const wd_pval *v);
/* A JSON string, and a value as JSON. */
void wd__cmd_json_str(FILE *f, const char *s, size_t n);
void wd__cmd_json_val(FILE *f, const wd_pval *v);
/* A pattern as the engine reads it: "*", "exact" or "prefix*". */
void wd__cmd_put_pat(FILE *f, const wd_ppat *p);

/* 'ward policy permissions ARGS' (cmd_policy_perm.c). */
int wd__cmd_policy_perm(int argc, char **argv);
/* 'ward policy diff ARGS' (cmd_policy_diff.c). */
int wd__cmd_policy_diff(int argc, char **argv);

/* }====== */

#endif
