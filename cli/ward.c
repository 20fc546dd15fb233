/*
** cli/ward.c
** main() of the ward command, with no test hook: this binary never reads
** a test-only switch (the link tests use ward_testhooks instead, built
** from tests/link/testhooks.c only with -DWD_TEST_HOOKS=ON).
** Runs in: broker (and, for 'ward host', the host before it confines).
*/
#include "cmd_int.h"

int main(int argc, char **argv) {
  return wd__cli_main(argc, argv, NULL);
}
