/*
** sandbox/broker_gw_deploy.c
** A deploy (PUT /v1/apps/{namespace}), broker side. Until it lands, a
** deploy is refused (503) after its ward.deploy decision.
** Runs in: broker.
*/
#include <stdio.h>

#include "broker_int.h"
#include "deploy_int.h"

int wd__brk_deploy(wd_broker *b, const char *ns, const uint8_t *files,
                   size_t n, wd_buf *errs, char *rev, size_t revlen) {
  (void)b, (void)ns, (void)files, (void)n, (void)rev, (void)revlen;
  wd__dep_errf(errs, "deploys are not implemented yet");
  return WD_EUNAVAIL;
}
