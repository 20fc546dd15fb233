/*
** tests/fuzz/fuzz_http.c
** libFuzzer target for the gateway's request parsing (sandbox/gateway.c):
** the real llhttp callbacks with their bounds, routing, percent-decoding,
** the JSON body and its conversion to codec bytes, over a real connection
** (a socketpair) and a real link. It includes gateway.c itself to reach
** its static functions; confinement is stubbed (never called).
** Runs in: gateway.
**
** Build and run (from the repository root): see run_short.sh 'sources'.
**   ./fuzz_http -max_total_time=60 tests/fuzz/corpus/http
**
** The first input byte picks a mode (low bit):
**   0  the rest is bytes from a client, fed in two pieces (byte 1 says
**      where to cut), as a connection would read them;
**   1  the rest is a result's codec bytes: wd__gw_json_get, and on success
**      back through wd__gw_json_put.
*/
#include "../../sandbox/gateway.c"

/* The gateway's main is not run here. */
int wd_sbx_confine(const wd_sbx_opts *o, wd_sbx_report *rep, char *err,
                   size_t errlen) {
  (void)o;
  (void)rep;
  (void)err;
  (void)errlen;
  return WD_EUNAVAIL;
}

const char *wd_sbx_seccomp_gateway_text(void) {
  return "";
}

static gw G;
static int client_fd = -1, peer_fd = -1;

static void setup(void) {
  static int done;
  int sv[2], r;
  uint8_t k[32], k2[32];
  if (done) return;
  done = 1;
  if (sodium_init() < 0) abort();
  memset(k, 7, sizeof k);
  memset(k2, 9, sizeof k2); /* the two directions' keys differ */
  memset(&G, 0, sizeof G);
  uv_loop_init(&G.loop);
  if (socketpair(AF_UNIX, SOCK_SEQPACKET, 0, sv) != 0) abort();
  if ((r = wd_link_init(&G.loop, &G.link, sv[0], k, k2)) < 0) {
    fprintf(stderr, "wd_link_init: %s\n", wd_strerror(r));
    abort();
  }
  peer_fd = sv[1];
  G.link.data = &G;
  G.link.on_rec = on_rec;
  G.link.on_fail = on_fail;
  G.lim.max_header = 8192;
  G.lim.max_body = 1u << 16;
  G.lim.read_ms = 10000;
  G.lim.idle_ms = 60000;
  G.lim.max_conns = 64;
  G.lim.max_per_token = 8;
  G.toks = calloc(MAX_CONNS, sizeof *G.toks);
  llhttp_settings_init(&G.settings);
  G.settings.on_message_begin = on_msg_begin;
  G.settings.on_url = on_url;
  G.settings.on_header_field = on_field;
  G.settings.on_header_field_complete = on_field_done;
  G.settings.on_header_value = on_value;
  G.settings.on_headers_complete = on_headers_done;
  G.settings.on_body = on_body;
  G.settings.on_message_complete = on_msg_done;
  json_object_seed(1);
}

/* A connection as on_conn makes one, on one end of a socketpair. */
static conn *new_conn(void) {
  int sv[2];
  conn *c = calloc(1, sizeof *c);
  if (c == NULL || socketpair(AF_UNIX, SOCK_STREAM, 0, sv) != 0) abort();
  client_fd = sv[1];
  c->g = &G;
  uv_pipe_init(&G.loop, &c->u.pipe, 0);
  uv_pipe_open(&c->u.pipe, sv[0]);
  c->u.s.data = c;
  uv_timer_init(&G.loop, &c->timer);
  c->timer.data = c;
  c->open = 2;
  c->next = G.conns;
  if (G.conns) G.conns->prev = c;
  G.conns = c;
  G.nconns++;
  wd_buf_init(&c->url, URL_MAX);
  wd_buf_init(&c->auth, AUTH_MAX);
  wd_buf_init(&c->body, G.lim.max_body);
  wd_buf_init(&c->pending, (size_t)G.lim.max_header + G.lim.max_body + 65536);
  llhttp_init(&c->parser, HTTP_REQUEST, &G.settings);
  c->parser.data = c;
  return c;
}

/* Bytes read from the client, as on_read hands them on. */
static void client_read(conn *c, const char *p, size_t n) {
  uv_buf_t b = uv_buf_init((char *)p, (unsigned)n);
  if (c->closing || n == 0) return;
  on_read(&c->u.s, (ssize_t)n, &b);
}

static void drain(int fd) {
  char buf[65536];
  while (recv(fd, buf, sizeof buf, MSG_DONTWAIT) > 0) {
  }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  setup();
  if (size < 2) return 0;
  if ((data[0] & 1) == 0) {
    conn *c = new_conn();
    size_t cut = data[1] % (size - 1);
    client_read(c, (const char *)data + 2, cut);
    client_read(c, (const char *)data + 2 + cut, size - 2 - cut);
    /* Let writes go out, then end the connection. */
    uv_run(&G.loop, UV_RUN_NOWAIT);
    /* Still open (a response may have closed it already)? */
    {
      conn *x;
      for (x = G.conns; x != NULL && x != c; x = x->next) {
      }
      if (x != NULL) conn_close(c);
    }
    while (uv_run(&G.loop, UV_RUN_NOWAIT) != 0 && G.conns != NULL) {
    }
    uv_run(&G.loop, UV_RUN_NOWAIT);
    wd_link_flush(&G.link);
    drain(peer_fd);
    close(client_fd);
  } else {
    json_t *j = NULL;
    char err[300];
    if (wd__gw_json_get(data + 1, size - 1, &j, err, sizeof err) == 0) {
      wd_buf b;
      wd_buf_init(&b, 1u << 20);
      (void)wd__gw_json_put(&b, j, err, sizeof err);
      wd_buf_close(&b);
      json_decref(j);
    }
  }
  return 0;
}
