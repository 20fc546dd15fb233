/*
** tests/link/testhooks.c
** ward_testhooks: the ward command with the link tests' switch, for tests
** only (built with -DWD_TEST_HOOKS=ON, never installed). When
** WARD_TEST_HOST_ID and WARD_TEST_HOST_EXE are both set, the broker execs
** the program WARD_TEST_HOST_EXE in place of host WARD_TEST_HOST_ID
** (test_link.sh puts ward_evilhost there). The ward binary has no such
** switch: cli/ward.c passes no hook (tests/cli/test_cli.sh checks that it
** ignores these variables and does not even contain their names).
** Runs in: broker.
*/
#include <stdlib.h>

#include "../../cli/cmd_int.h"

static void test_hook(wd_broker_opts *o) {
  o->test_host = getenv("WARD_TEST_HOST_ID");
  o->test_exe = getenv("WARD_TEST_HOST_EXE");
}

int main(int argc, char **argv) {
  return wd__cli_main(argc, argv, test_hook);
}
