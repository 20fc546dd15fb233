/*
** tests/serve/evilgw.c
** ward_evilgw: a lying gateway for tests/serve/test_serve.sh only (never
** installed). ward_testhooks runs it in place of the gateway. It takes
** the keys like a gateway, then sends a frame with no valid MAC: the
** broker must kill it (bad frame), report it and start another.
** Runs in: gateway (a fake one).
*/
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

int main(void) {
  unsigned char buf[256];
  memset(buf, 0x5a, sizeof buf);
  if (recv(3, buf, sizeof buf, 0) <= 0) return 1;
  memset(buf, 0x5a, sizeof buf);
  (void)send(3, buf, 100, 0);
  pause();
  return 0;
}
