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

#include "ward/wd_policy.h"
#include "ward/wd_sandbox.h"

/* Changes the broker options of run, test and serve just before the
** broker starts. Only a test binary has one (tests/link/testhooks.c,
** built with -DWD_TEST_HOOKS=ON); ward itself passes NULL. */
typedef void (*wd__cli_hook)(wd_broker_opts *o);

/* The ward command: 'ward ARGS' with argv[0] the program. Returns the exit
** status; 'ward host ID' does not return. */
int wd__cli_main(int argc, char **argv, wd__cli_hook hook);

/* 'ward policy test ARGS' (argv[0] is the first argument after "test"). */
int wd__cmd_policy_test(int argc, char **argv);

/* Why 'd' came out so: "allowed by a, b", "forbidden by a", "no policy
   matched", "no actor or scope". */
void wd__cmd_policy_why(const wd_pdecision *d, char *out, size_t n);

int wd_cmd_doctor(int argc, char **argv); /* doctor.c: 'ward doctor' */

#endif
