/*
** cli/cmd_token.c
** 'ward token hash SECRET': print the hash a tokens file stores for an API
** bearer secret (ward serve --tokens; README.md "Serving"). With '-' the
** secret is read from the first line of standard input, so that it need
** not appear in a process list.
** Runs in: the ward command.
*/
#include <stdio.h>
#include <string.h>

#include <sodium.h>

#include "../sandbox/gateway.h"
#include "cmd_int.h"

static const char usage_token[] =
    "usage: ward token hash SECRET|-\n"
    "\n"
    "Print the hash to store as 'secret_hash' in a tokens file (ward serve\n"
    "--tokens). Clients send 'Authorization: Bearer ID:SECRET'. With '-',\n"
    "the secret is the first line of standard input.\n"
    "\n"
    "exit status: 0 printed; 2 bad usage.\n";

int wd__cmd_token(int argc, char **argv) {
  char line[1024], hash[WD_TOKEN_HASH_LEN];
  const char *secret;
  size_t n;
  if (argc == 1 && (strcmp(argv[0], "-h") == 0 ||
                    strcmp(argv[0], "--help") == 0)) {
    fputs(usage_token, stdout);
    return 0;
  }
  if (argc != 2 || strcmp(argv[0], "hash") != 0) {
    fputs(usage_token, stderr);
    return 2;
  }
  if (sodium_init() < 0) return 1;
  secret = argv[1];
  if (strcmp(secret, "-") == 0) {
    if (fgets(line, sizeof line, stdin) == NULL) {
      fprintf(stderr, "ward token: no secret on standard input\n");
      return 2;
    }
    line[strcspn(line, "\r\n")] = '\0';
    secret = line;
  }
  n = strlen(secret);
  if (n < 16) {
    fprintf(stderr, "ward token: a secret has at least 16 characters "
                    "(try: head -c 24 /dev/urandom | base64)\n");
    sodium_memzero(line, sizeof line);
    return 2;
  }
  wd__token_hash(secret, n, hash);
  sodium_memzero(line, sizeof line);
  printf("%s\n", hash);
  return 0;
}
