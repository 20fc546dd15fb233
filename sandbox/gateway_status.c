/*
** sandbox/gateway_status.c
** Observing a serving ward, gateway side: the routes GET /v1/processes,
** GET /v1/hosts and GET /metrics (each a GW_CALL with an empty target and
** no values; the broker decides ward.status and asks the hosts, see
** broker_gw_status.c), and the bodies of their answers: the broker's
** value as JSON as it is (not under "result"), or for /metrics the
** Prometheus text it wrote.
** Runs in: gateway.
*/
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <llhttp.h>

#include "gateway.h"

int wd__gw_status_route(const char *path, size_t n, int method) {
  static const struct {
    const char *p;
    int kind;
  } routes[] = {
    { "/v1/processes", WD_GW_PS },
    { "/v1/hosts", WD_GW_HOSTS },
    { "/metrics", WD_GW_METRICS },
  };
  size_t i;
  for (i = 0; i < sizeof routes / sizeof routes[0]; i++)
    if (n == strlen(routes[i].p) && memcmp(path, routes[i].p, n) == 0)
      return method == HTTP_GET ? routes[i].kind : -405;
  return 0;
}

int wd__gw_status_body(int kind, const uint8_t *val, size_t vlen,
                       char **body, size_t *blen, const char **ctype) {
  json_t *j = NULL;
  char err[200];
  *body = NULL;
  if (wd__gw_json_get(val, vlen, &j, err, sizeof err) < 0) return WD_EINVAL;
  if (kind == WD_GW_METRICS) {
    if (!json_is_string(j)) {
      json_decref(j);
      return WD_EINVAL;
    }
    *blen = json_string_length(j);
    if ((*body = malloc(*blen + 1)) != NULL)
      memcpy(*body, json_string_value(j), *blen);
    *ctype = "text/plain; version=0.0.4";
  } else {
    if (!json_is_object(j)) {
      json_decref(j);
      return WD_EINVAL;
    }
    *body = json_dumps(j, JSON_COMPACT);
    *blen = *body != NULL ? strlen(*body) : 0;
    *ctype = "application/json";
  }
  json_decref(j);
  return *body != NULL ? 0 : WD_ENOMEM;
}
