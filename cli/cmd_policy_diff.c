/*
** cli/cmd_policy_diff.c
** 'ward policy diff OLD NEW': stub.
*/
#include "cmd_int.h"

int wd__cmd_policy_diff(int argc, char **argv) {
  (void)argc;
  (void)argv;
  return 2;
}
