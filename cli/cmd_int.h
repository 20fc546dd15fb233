/*
** cli/cmd_int.h
** What the files of 'ward policy' share (cmd_policy.c, cmd_policy_test.c).
** Runs in: the ward command.
*/
#ifndef wd_cmd_int_h
#define wd_cmd_int_h

#include <stddef.h>

#include "ward/wd_policy.h"

/* 'ward policy test ARGS' (argv[0] is the first argument after "test"). */
int wd__cmd_policy_test(int argc, char **argv);

/* Why 'd' came out so: "allowed by a, b", "forbidden by a", "no policy
   matched", "no actor or scope". */
void wd__cmd_policy_why(const wd_pdecision *d, char *out, size_t n);

#endif
