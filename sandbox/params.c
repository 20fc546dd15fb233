/*
** sandbox/params.c
** The confinement parameters a broker hands a host or gateway it forks
** (wd_sbx_params, include/ward/wd_confine.h), as fixed little-endian
** bytes: written in the broker, read by the child before it confines
** itself. No dependency but the header, so fuzz targets can link it.
** Runs in: broker (put) and host or gateway, pre-sandbox (get).
*/
#include <stdint.h>

#include "ward/wd_confine.h"

void wd_sbx_params_put(uint8_t *out, const wd_sbx_params *p) {
  int i;
  for (i = 0; i < 8; i++)
    out[i] = (uint8_t)(p->address_space >> (8 * i));
  for (i = 0; i < 8; i++)
    out[8 + i] = (uint8_t)(p->cpu_seconds >> (8 * i));
  for (i = 0; i < 4; i++)
    out[16 + i] = (uint8_t)(p->flags >> (8 * i));
  for (i = 0; i < 4; i++)
    out[20 + i] = (uint8_t)((uint32_t)p->pidns_err >> (8 * i));
}

void wd_sbx_params_get(const uint8_t *in, wd_sbx_params *p) {
  uint32_t e = 0;
  int i;
  p->address_space = p->cpu_seconds = 0;
  p->flags = 0;
  for (i = 7; i >= 0; i--)
    p->address_space = p->address_space << 8 | in[i];
  for (i = 7; i >= 0; i--)
    p->cpu_seconds = p->cpu_seconds << 8 | in[8 + i];
  for (i = 3; i >= 0; i--)
    p->flags = p->flags << 8 | in[16 + i];
  for (i = 3; i >= 0; i--)
    e = e << 8 | in[20 + i];
  p->pidns_err = (int32_t)e;
}
