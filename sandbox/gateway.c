/*
** sandbox/gateway.c
** The gateway process ('ward gateway'): the front door's untrusted half.
** It takes the listening sockets the broker opened, confines itself like
** a host (with its own seccomp allow-list, policies/seccomp/gateway.allow),
** then parses HTTP/1.1 (llhttp, keep-alive) and JSON (jansson), turns
** each API request into a GW_CALL to the broker and the GW_ANSWER into a
** response. It decides nothing: the bearer credential goes to the broker
** as it came, and the broker checks it, the caller's rights and every
** field again. Requests are bounded in header and body bytes, must arrive
** whole within the read deadline, and a kept-alive connection may idle
** only so long; connections are bounded in all and per bearer.
** Runs in: gateway (pre-sandbox until confine() returns, then sandboxed).
*/
#include <ctype.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <jansson.h>
#include <llhttp.h>
#include <sodium.h>

#include "ward/wd_codec.h"
#include "ward/wd_confine.h"
#include "ward/wd_link.h"
#include "ward/wd_proto.h"
#include "ward/wd_sandbox.h"
#include "ward/wd_time.h"

#include "gateway.h"

#define MAX_LISTEN 8
#define AUTH_MAX WD_GW_BEARER_MAX
#define URL_MAX 2048
/* The most connections a gateway may be told to take (GW_INIT). */
#define MAX_CONNS 4096
/* Slots of the table of calls waiting for the broker (a power of two, at
** least twice MAX_CONNS: a connection has one call at a time). */
#define CALL_SLOTS (2 * MAX_CONNS)
/* Bytes a client may send ahead while its request is answered (parked)
** before the gateway stops reading it; the rest waits in the socket. */
#define PARK_MAX 65536

/* Connections with one bearer: keyed by a hash of it (no secret kept):
** SipHash-128 under a key drawn at start, so no client can make two
** bearers share a count, at a quarter of the cost of BLAKE2b. */
typedef struct tokslot {
  unsigned char key[16];
  uint32_t n;
} tokslot;

typedef struct gw gw;

typedef struct conn {
  union {
    uv_tcp_t tcp;
    uv_pipe_t pipe;
    uv_stream_t s;
    uv_handle_t h;
  } u;
  uv_timer_t timer;   /* checks 'deadline' (see 'on_timer') */
  uint64_t deadline;  /* uv_now when the request being read must be
                         whole, or when an idle connection closes; none
                         while parked */
  llhttp_t parser;
  gw *g;
  struct conn *next, *prev;
  wd_buf url, auth, body, pending;
  char field[32];
  size_t fieldlen;
  int field_auth;     /* the header being read is Authorization */
  int field_expect;   /* ... is Expect */
  int expect;         /* Expect: 100-continue was asked */
  size_t hbytes;      /* request line and header bytes so far */
  int limit;          /* 413 or 431 once a bound is passed */
  int reading;        /* a request has begun: the read deadline runs */
  int busy;           /* a call waits for the broker */
  int parked;         /* a whole request is being answered: what the
                         client sends meanwhile waits in 'pending',
                         unparsed (pipelining) */
  int rstop;          /* reading stopped: 'pending' is full, or an error
                         is being answered */
  int eof;            /* the client ended its side while parked: close
                         once what it sent has been answered */
  int feeding;        /* inside 'serve': an answer written at once sets
                         'again' instead of starting the next request
                         (no recursion through pipelined requests) */
  int again;          /* the answer went out: serve the next request */
  uint32_t call;
  int kind;           /* WD_GW_* of the call that waits */
  int keep;           /* keep-alive after this response */
  int closing;
  int open;           /* handles to close: 2 (stream, timer) */
  int sse;            /* an inbox stream now (gateway_sse.c) */
  tokslot *tok;
} conn;

struct gw {
  uv_loop_t loop;
  wd_link link;
  uv_prepare_t flush;
  uv_timer_t beat;    /* WD_R_BEAT every WD_HEARTBEAT_MS (liveness) */
  union {
    uv_tcp_t tcp;
    uv_pipe_t pipe;
    uv_stream_t s;
  } lis[MAX_LISTEN];
  int nlis;
  int istcp[MAX_LISTEN];
  wd_gwinit lim;
  llhttp_settings_t settings;
  conn *conns;
  uint32_t nconns;
  uint32_t next_call;
  tokslot *toks;      /* 'lim.max_conns' slots */
  unsigned char tokkey[crypto_shorthash_siphashx24_KEYBYTES];
  conn *calls[CALL_SLOTS]; /* the busy connections by 'call' (linear
                              probing; NULL: free) */
  wd_gwcount own;     /* answers given without the broker, not yet
                         reported (GW_COUNT) */
};

static void die(const char *what) __attribute__((noreturn));
static void die(const char *what) {
  fprintf(stderr, "ward gateway: %s\n", what);
  _exit(111);
}

/* {====== Calls waiting for the broker ====== */

/* The busy connections are found by call number when the answer comes,
** in constant time whatever the number of connections. */

static void call_add(gw *g, conn *c) {
  uint32_t i = c->call & (CALL_SLOTS - 1);
  while (g->calls[i] != NULL)
    i = (i + 1) & (CALL_SLOTS - 1);
  g->calls[i] = c;
}

static uint32_t call_slot(gw *g, uint32_t call) {
  uint32_t i = call & (CALL_SLOTS - 1);
  while (g->calls[i] != NULL && g->calls[i]->call != call)
    i = (i + 1) & (CALL_SLOTS - 1);
  return i;
}

static conn *call_get(gw *g, uint32_t call) {
  return g->calls[call_slot(g, call)];
}

/* Remove the entry of 'c', if it has one; the entries after it in its
** run move back so that every lookup still finds its own (no
** tombstones). */
static void call_del(gw *g, conn *c) {
  uint32_t i = call_slot(g, c->call), j = i, k;
  if (g->calls[i] != c) return;
  g->calls[i] = NULL;
  for (;;) {
    j = (j + 1) & (CALL_SLOTS - 1);
    if (g->calls[j] == NULL) return;
    k = g->calls[j]->call & (CALL_SLOTS - 1);
    /* The entry at j may fill the hole at i unless its home k lies
    ** cyclically in (i, j]. */
    if (i <= j ? (i < k && k <= j) : (i < k || k <= j)) continue;
    g->calls[i] = g->calls[j];
    g->calls[j] = NULL;
    i = j;
  }
}

/* }====== */

/* {====== Responses ====== */

static const char *reason(int status) {
  switch (status) {
    case 200: return "OK";
    case 201: return "Created";
    case 400: return "Bad Request";
    case 401: return "Unauthorized";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 408: return "Request Timeout";
    case 413: return "Content Too Large";
    case 422: return "Unprocessable Content";
    case 429: return "Too Many Requests";
    case 431: return "Request Header Fields Too Large";
    case 503: return "Service Unavailable";
    case 504: return "Gateway Timeout";
    default: return status < 500 ? "Client Error" : "Server Error";
  }
}

typedef struct wreq {
  uv_write_t w;
  conn *c;
  char *data;
} wreq;

static void conn_close(conn *c);
static void conn_next(conn *c);

/* The response has gone out whole: close, or read the next request. */
static void written(conn *c) {
  if (!c->keep) {
    conn_close(c);
    return;
  }
  if (c->feeding)
    c->again = 1;
  else
    conn_next(c);
}

static void on_written(uv_write_t *w, int status) {
  wreq *q = (wreq *)w;
  conn *c = q->c;
  free(q->data);
  free(q);
  if (c->closing) return;
  if (status < 0) {
    conn_close(c);
    return;
  }
  written(c);
}

/* Report the answers the gateway gave itself (GW_COUNT). */
static void own_flush(gw *g) {
  size_t st;
  if (g->own.n == 0) return;
  st = wd_link_rec_begin(&g->link, WD_R_GW_COUNT);
  wd__gw_put_count(&g->link.batch, &g->own);
  (void)wd_link_rec_end(&g->link, st);
  g->own.n = 0;
}

/* Count an answer of 'status' the broker never saw (it counts its own):
** ward_gateway_requests_total shows every request that came in. */
static void own_count(gw *g, int status) {
  wd_gwcount *k = &g->own;
  uint32_t i, j;
  if (status < 100 || status > 599) return;
  for (i = 0; i < k->n && k->status[i] < (uint32_t)status; i++) {
  }
  if (i < k->n && k->status[i] == (uint32_t)status &&
      k->count[i] < WD_GW_COUNT_MAX) {
    k->count[i]++;
    return;
  }
  if ((i < k->n && k->status[i] == (uint32_t)status) ||
      k->n == WD_GW_COUNT_CODES) {
    own_flush(g); /* full: report what there is, start again */
    i = 0;
  }
  for (j = k->n; j > i; j--) {
    k->status[j] = k->status[j - 1];
    k->count[j] = k->count[j - 1];
  }
  k->status[i] = (uint32_t)status;
  k->count[i] = 1;
  k->n++;
}

/* Append the NUL-terminated 's' to head[*n] (HEAD_MAX bytes at most). */
#define HEAD_MAX 512
static void head_put(char *head, size_t *n, const char *s) {
  size_t l = strlen(s);
  if (l > HEAD_MAX - *n) l = HEAD_MAX - *n;
  /* NOLINTNEXTLINE(bugprone-not-null-terminated-result): bytes, no NUL */
  memcpy(head + *n, s, l);
  *n += l;
}

/* The status line and headers of a response of 'blen' bytes. */
static size_t head_of(char *head, int status, const char *ctype, size_t blen,
                      int keep) {
  char num[24], *p = num + sizeof num;
  size_t n = 0;
  *--p = '\0';
  do *--p = (char)('0' + blen % 10);
  while ((blen /= 10) != 0);
  head_put(head, &n, "HTTP/1.1 ");
  head[n++] = (char)('0' + status / 100 % 10);
  head[n++] = (char)('0' + status / 10 % 10);
  head[n++] = (char)('0' + status % 10);
  head[n++] = ' ';
  head_put(head, &n, reason(status));
  head_put(head, &n, "\r\nContent-Type: ");
  head_put(head, &n, ctype);
  head_put(head, &n, "\r\nContent-Length: ");
  head_put(head, &n, p);
  head_put(head, &n, keep ? "\r\n\r\n" : "\r\nConnection: close\r\n\r\n");
  return n;
}

/* Send a response; the connection reads its next request (or closes)
** once it has gone out. A connection that is not 'busy' has no call at
** the broker: the answer is the gateway's own, and counted. The response
** is written at once when the socket takes it (nearly always): no copy,
** no request to complete on a later turn (libuv's completion of a write
** also re-arms the poll, an epoll_ctl call); what the socket does not
** take is copied and queued. */
static void respond(conn *c, int status, const char *ctype, const char *body,
                    size_t blen) {
  wreq *q;
  char head[HEAD_MAX + 16];
  size_t hl, rest, done;
  uv_buf_t b[2];
  int n;
  if (c->closing) return;
  if (!c->busy) own_count(c->g, status);
  hl = head_of(head, status, ctype, blen, c->keep);
  b[0] = uv_buf_init(head, (unsigned)hl);
  b[1] = uv_buf_init((char *)body, (unsigned)blen);
  n = uv_try_write(&c->u.s, b, blen ? 2 : 1);
  if (n == UV_EAGAIN) n = 0;
  if (n < 0) {
    conn_close(c);
    return;
  }
  done = (size_t)n;
  if (done == hl + blen) {
    written(c);
    return;
  }
  rest = hl + blen - done;
  q = malloc(sizeof *q);
  if (q == NULL || (q->data = malloc(rest)) == NULL) {
    free(q);
    conn_close(c);
    return;
  }
  if (done < hl) {
    memcpy(q->data, head + done, hl - done);
    if (blen) memcpy(q->data + hl - done, body, blen);
  } else {
    memcpy(q->data, body + (done - hl), rest);
  }
  q->c = c;
  b[0] = uv_buf_init(q->data, (unsigned)rest);
  if (uv_write(&q->w, &c->u.s, b, 1, on_written) < 0) {
    free(q->data);
    free(q);
    conn_close(c);
  }
}

static void respond_json(conn *c, int status, json_t *j) {
  char *s = j != NULL ? json_dumps(j, JSON_COMPACT) : NULL;
  json_decref(j);
  if (s == NULL) {
    static const char oom[] =
        "{\"error\":{\"kind\":\"Internal\",\"message\":\"out of memory\"}}";
    respond(c, 500, "application/json", oom, sizeof oom - 1);
    return;
  }
  respond(c, status, "application/json", s, strlen(s));
  free(s);
}

/* Answer {"<key>":<v>} (taking 'v'), written by jansson straight into
** a buffer behind the key: no object to build, no string to allocate
** for an answer of up to a few hundred bytes; the same text as
** respond_json's. */
static void respond_member(conn *c, int status, const char *key, json_t *v) {
  static const size_t flags = JSON_COMPACT | JSON_ENCODE_ANY;
  char buf[512], *p = buf;
  size_t kl = strlen(key), pre = kl + 4, n = 0, cap = sizeof buf;
  if (v != NULL && pre < cap) {
    n = json_dumpb(v, buf + pre, cap - pre - 1, flags);
    if (n > cap - pre - 1 && (p = malloc(pre + n + 1)) != NULL)
      n = json_dumpb(v, p + pre, n, flags);
  }
  json_decref(v);
  if (n == 0 || p == NULL) {
    static const char oom[] =
        "{\"error\":{\"kind\":\"Internal\",\"message\":\"out of memory\"}}";
    respond(c, 500, "application/json", oom, sizeof oom - 1);
    return;
  }
  p[0] = '{';
  p[1] = '"';
  /* NOLINTNEXTLINE(bugprone-not-null-terminated-result): bytes, no NUL */
  memcpy(p + 2, key, kl);
  p[kl + 2] = '"';
  p[kl + 3] = ':';
  p[pre + n] = '}';
  respond(c, status, "application/json", p, pre + n + 1);
  if (p != buf) free(p);
}

static void respond_error(conn *c, int status, const char *kind,
                          const char *msg) {
  respond_json(c, status,
               json_pack("{s{ssss}}", "error", "kind", kind, "message", msg));
}

/* }====== */

/* {====== Connections ====== */

static void on_handle_closed(uv_handle_t *h) {
  conn *c = h->data;
  if (--c->open > 0) return;
  wd_buf_close(&c->url);
  wd_buf_close(&c->auth);
  wd_buf_close(&c->body);
  wd_buf_close(&c->pending);
  free(c);
}

static void conn_close(conn *c) {
  gw *g = c->g;
  if (c->closing) return;
  c->closing = 1;
  if (c->tok != NULL) c->tok->n--;
  if (c->busy) call_del(g, c);
  if (c->sse) wd__gw_sse_closed(c->call);
  if (c->prev != NULL)
    c->prev->next = c->next;
  else
    g->conns = c->next;
  if (c->next != NULL) c->next->prev = c->prev;
  g->nconns--;
  uv_close(&c->u.h, on_handle_closed);
  uv_close((uv_handle_t *)&c->timer, on_handle_closed);
}

/* The period of the connections' timers: the shorter deadline. */
static uint64_t tick_of(const gw *g) {
  uint32_t ms =
      g->lim.read_ms < g->lim.idle_ms ? g->lim.read_ms : g->lim.idle_ms;
  return ms > 0 ? ms : 1;
}

/*
** A connection's timer fires at least once a tick and checks its
** deadline then. A deadline only ever moves to a time after the timer's
** (a tick or more from now), so moving it, twice a request, costs no
** timer operation; a parked connection has none.
*/
static void on_timer(uv_timer_t *t) {
  conn *c = t->data;
  uint64_t now = uv_now(&c->g->loop), tick = tick_of(c->g);
  if (c->closing || c->sse) return;
  if (c->parked || now < c->deadline) {
    uint64_t left = c->parked ? tick : c->deadline - now;
    uv_timer_start(&c->timer, on_timer, left < tick ? left : tick, 0);
    return;
  }
  /* A request that did not arrive whole in time: 408, then close. */
  if (c->reading) {
    c->keep = 0;
    c->parked = 1; /* what comes now is never parsed */
    respond_error(c, 408, "Timeout", "the request did not arrive in time");
  } else {
    conn_close(c);
  }
}

static void req_reset(conn *c) {
  wd_buf_reset(&c->url);
  wd_buf_reset(&c->auth);
  wd_buf_reset(&c->body);
  c->fieldlen = 0;
  c->field_auth = 0;
  c->field_expect = 0;
  c->expect = 0;
  c->hbytes = 0;
  c->limit = 0;
}

/* }====== */

/* {====== HTTP parsing (llhttp callbacks) ====== */

static conn *of(llhttp_t *p) {
  return p->data;
}

static int head_bytes(conn *c, size_t n) {
  c->hbytes += n;
  if (c->hbytes > c->g->lim.max_header) {
    c->limit = 431;
    return -1;
  }
  return 0;
}

static int on_msg_begin(llhttp_t *p) {
  req_reset(of(p));
  return 0;
}

static int on_url(llhttp_t *p, const char *at, size_t n) {
  conn *c = of(p);
  if (head_bytes(c, n) < 0) return -1;
  wd_buf_put(&c->url, at, n);
  return c->url.err ? (c->limit = 414, -1) : 0;
}

static int on_field(llhttp_t *p, const char *at, size_t n) {
  conn *c = of(p);
  if (head_bytes(c, n) < 0) return -1;
  if (c->fieldlen + n < sizeof c->field) memcpy(c->field + c->fieldlen, at, n);
  c->fieldlen += n;
  return 0;
}

static int on_field_done(llhttp_t *p) {
  conn *c = of(p);
  c->field_auth = c->fieldlen == 13 && strncasecmp(c->field, "authorization",
                                                   13) == 0;
  c->field_expect = c->fieldlen == 6 && strncasecmp(c->field, "expect", 6) == 0;
  c->fieldlen = 0;
  return 0;
}

static int on_value(llhttp_t *p, const char *at, size_t n) {
  conn *c = of(p);
  if (head_bytes(c, n) < 0) return -1;
  if (c->field_expect && n >= 12 && strncasecmp(at, "100-continue", 12) == 0)
    c->expect = 1;
  if (c->field_auth) {
    wd_buf_put(&c->auth, at, n);
    if (c->auth.err) {
      c->limit = 431;
      return -1;
    }
  }
  return 0;
}

static int on_headers_done(llhttp_t *p) {
  conn *c = of(p);
  if (p->content_length > c->g->lim.max_body &&
      (p->flags & F_CONTENT_LENGTH)) {
    c->limit = 413;
    return -1;
  }
  /* A client that waits for "100 Continue" before its body gets it at
  ** once (a best effort: a full socket buffer only makes it wait). */
  if (c->expect) {
    static const char cont[] = "HTTP/1.1 100 Continue\r\n\r\n";
    uv_buf_t b = uv_buf_init((char *)cont, sizeof cont - 1);
    (void)uv_try_write(&c->u.s, &b, 1);
  }
  return 0;
}

static int on_body(llhttp_t *p, const char *at, size_t n) {
  conn *c = of(p);
  wd_buf_put(&c->body, at, n);
  if (c->body.err) {
    c->limit = 413;
    return -1;
  }
  return 0;
}

static int on_msg_done(llhttp_t *p) {
  (void)p;
  return HPE_PAUSED; /* handled between two executes (feed) */
}

/* }====== */

/* {====== Requests ====== */

/* Percent-decode one path segment into 'out' (NUL-terminated). Returns
** its length, or -1 (bad escape, a NUL byte, too long). */
static int unescape(const char *s, size_t n, char *out, size_t outlen) {
  size_t i, k = 0;
  for (i = 0; i < n; i++) {
    int ch = (unsigned char)s[i];
    if (ch == '%') {
      char hex[3];
      if (i + 2 >= n) return -1;
      hex[0] = s[i + 1];
      hex[1] = s[i + 2];
      hex[2] = '\0';
      if (!isxdigit((unsigned char)hex[0]) || !isxdigit((unsigned char)hex[1]))
        return -1;
      ch = (int)strtol(hex, NULL, 16);
      i += 2;
    }
    if (ch == 0 || k + 1 >= outlen) return -1;
    out[k++] = (char)ch;
  }
  out[k] = '\0';
  return (int)k;
}

/* The bearer credential of "Authorization: Bearer X", or "" (the broker
** answers 401 and logs it). */
static void bearer_of(conn *c, const char **s, size_t *n) {
  const char *a = (const char *)c->auth.p;
  size_t l = c->auth.len;
  *s = "";
  *n = 0;
  if (l > 7 && strncasecmp(a, "Bearer ", 7) == 0) {
    a += 7;
    l -= 7;
    while (l > 0 && *a == ' ') a++, l--;
    while (l > 0 && a[l - 1] == ' ') l--;
    *s = a;
    *n = l;
  }
}

/* Count this connection against its bearer; 0, or -1 when the bearer has
** 'max_per_token' connections already (the connection then counts for
** no bearer: it is closed after the 429). */
static int count_bearer(conn *c, const char *s, size_t n) {
  gw *g = c->g;
  unsigned char key[16];
  uint32_t i;
  tokslot *free_slot = NULL;
  if (n == 0) return 0;
  crypto_shorthash_siphashx24(key, (const unsigned char *)s, n, g->tokkey);
  /* A kept-alive connection counts against the bearer of its latest
  ** request: one that changes it (a throwaway bearer first, the real
  ** one after) moves to the new bearer's count. */
  if (c->tok != NULL) {
    if (memcmp(c->tok->key, key, sizeof key) == 0) return 0;
    c->tok->n--;
    c->tok = NULL;
  }
  for (i = 0; i < g->lim.max_conns; i++) {
    tokslot *t = &g->toks[i];
    if (t->n > 0 && memcmp(t->key, key, sizeof key) == 0) {
      if (t->n >= g->lim.max_per_token) return -1;
      t->n++;
      c->tok = t;
      return 0;
    }
    if (t->n == 0 && free_slot == NULL) free_slot = t;
  }
  if (free_slot == NULL) return -1;
  memcpy(free_slot->key, key, sizeof key);
  free_slot->n = 1;
  c->tok = free_slot;
  return 0;
}

/* Fill the body fields of 'q' from the JSON body; the value bytes go to
** 'val'. Returns 0, or answers 400 and returns -1. */
static int parse_body(conn *c, wd_gwcall *q, wd_buf *val) {
  json_t *j = NULL, *x;
  json_error_t je;
  const char *k;
  char err[300];
  int64_t ns;
  if (c->body.len == 0 && q->kind != WD_GW_SEND) {
    /* No body: no arguments. The call still goes to the broker. */
    wd_codec_put_header(val, 0);
    goto put;
  }
  j = json_loadb((const char *)c->body.p, c->body.len, JSON_REJECT_DUPLICATES,
                 &je);
  if (j == NULL) {
    snprintf(err, sizeof err, "bad JSON at line %d column %d: %s", je.line,
             je.column, je.text);
    goto bad;
  }
  if (!json_is_object(j)) {
    snprintf(err, sizeof err, "the body must be a JSON object");
    goto bad;
  }
  json_object_foreach(j, k, x) {
    int ok = 1;
    if (q->kind == WD_GW_SEND)
      ok = strcmp(k, "topic") == 0 || strcmp(k, "payload") == 0;
    else
      ok = strcmp(k, "args") == 0 || strcmp(k, "host") == 0 ||
           strcmp(k, "timeout") == 0;
    if (!ok) {
      snprintf(err, sizeof err, "unknown field '%.100s'", k);
      goto bad;
    }
  }
  if (q->kind == WD_GW_SEND) {
    x = json_object_get(j, "topic");
    if (!json_is_string(x) || json_string_length(x) == 0) {
      snprintf(err, sizeof err, "topic: a non-empty string is required");
      goto bad;
    }
    q->topic = json_string_value(x);
    q->topiclen = json_string_length(x);
    if (q->topiclen > WD_TOPIC_MAX || memchr(q->topic, 0, q->topiclen)) {
      snprintf(err, sizeof err, "topic: too long or holding a NUL byte");
      goto bad;
    }
    x = json_object_get(j, "payload");
    wd_codec_put_header(val, 1);
    if (x == NULL)
      wd_codec_put_nil(val);
    else if (wd__gw_json_put(val, x, err, sizeof err) < 0)
      goto bad;
  } else {
    size_t i;
    x = json_object_get(j, "args");
    if (x != NULL && !json_is_array(x)) {
      snprintf(err, sizeof err, "args: an array is required");
      goto bad;
    }
    wd_codec_put_header(val, x ? (unsigned)json_array_size(x) : 0);
    for (i = 0; x != NULL && i < json_array_size(x); i++) {
      char e2[256];
      if (wd__gw_json_put(val, json_array_get(x, i), e2, sizeof e2) < 0) {
        snprintf(err, sizeof err, "args[%zu]: %s", i, e2);
        goto bad;
      }
    }
    x = json_object_get(j, "host");
    if (x != NULL) {
      if (!json_is_string(x) || json_string_length(x) > WD_GW_TARGET_MAX ||
          memchr(json_string_value(x), 0, json_string_length(x))) {
        snprintf(err, sizeof err, "host: a host id string is required");
        goto bad;
      }
      q->host = json_string_value(x);
      q->hostlen = json_string_length(x);
    }
    x = json_object_get(j, "timeout");
    if (x != NULL) {
      if (!json_is_string(x) ||
          wd_duration_parse(json_string_value(x), json_string_length(x),
                            &ns) < 0 || ns <= 0) {
        snprintf(err, sizeof err, "timeout: a duration such as \"5s\" is "
                                  "required");
        goto bad;
      }
      q->timeout_ms = (uint64_t)ns / 1000000u;
      if (q->timeout_ms == 0) q->timeout_ms = 1;
    }
  }
  if (val->err) {
    snprintf(err, sizeof err, "the values are too large");
    goto bad;
  }
  /* 'q' borrows strings of 'j': the record is written before it goes. */
put:
  {
    size_t st = wd_link_rec_begin(&c->g->link, WD_R_GW_CALL);
    q->value = val->p;
    q->valuelen = val->len;
    wd__gw_put_call(&c->g->link.batch, q);
    if (wd_link_rec_end(&c->g->link, st) < 0) {
      snprintf(err, sizeof err, "the request is too large");
      goto bad;
    }
  }
  json_decref(j);
  return 0;
bad:
  json_decref(j);
  respond_error(c, 400, "Invalid", err);
  return -1;
}

/* A whole request has arrived: route it. */
static void handle(conn *c) {
  const char *path = (const char *)c->url.p, *seg;
  size_t plen = c->url.len, prefix = 0;
  int method = llhttp_get_method(&c->parser);
  wd_gwcall q;
  char target[WD_GW_TARGET_MAX + 1];
  wd_buf val;
  int k;
  const char *q_mark = memchr(path, '?', plen);
  if (q_mark != NULL) plen = (size_t)(q_mark - path);
  c->keep = llhttp_should_keep_alive(&c->parser);
  memset(&q, 0, sizeof q);
  q.host = q.topic = "";
  if (plen == 8 && memcmp(path, "/healthz", 8) == 0) {
    if (method != HTTP_GET)
      respond_error(c, 405, "Invalid", "GET only");
    else
      respond(c, 200, "text/plain", "ok\n", 3);
    return;
  }
  /* GET /v1/processes, /v1/hosts, /metrics (gateway_status.c). */
  if ((k = wd__gw_status_route(path, plen, method)) < 0) {
    respond_error(c, 405, "Invalid", "method not allowed on this path");
    return;
  }
  if (k > 0) {
    q.kind = (uint8_t)k;
    target[0] = '\0';
    goto routed;
  }
  if (plen == 9 && memcmp(path, "/v1/inbox", 9) == 0) {
    /* An inbox stream; its only parameter: name=N (percent-encoded). */
    const char *qs = q_mark != NULL ? q_mark + 1 : "";
    size_t ql = q_mark != NULL ? c->url.len - plen - 1 : 0;
    target[0] = '\0';
    if (method != HTTP_GET) {
      respond_error(c, 405, "Invalid", "GET only");
      return;
    }
    if (ql > 0 && (ql < 6 || memcmp(qs, "name=", 5) != 0 ||
                   memchr(qs, '&', ql) != NULL ||
                   unescape(qs + 5, ql - 5, target, sizeof target) <= 0)) {
      respond_error(c, 400, "Invalid", "the only parameter is name=N");
      return;
    }
    q.kind = WD_GW_INBOX;
    goto routed;
  }
  {
    static const struct {
      const char *p;
      int kind, method;
    } routes[] = {
      { "/v1/exec/", WD_GW_EXEC, HTTP_POST },
      { "/v1/spawn/", WD_GW_SPAWN, HTTP_POST },
      { "/v1/send/", WD_GW_SEND, HTTP_POST },
      { "/v1/processes/", WD_GW_KILL, HTTP_DELETE },
      { "/v1/policies/", WD_GW_RELOAD, HTTP_POST },
      { "/v1/apps/", WD_GW_DEPLOY, HTTP_PUT },
    };
    size_t i;
    for (i = 0; i < WD_COUNTOF(routes); i++) {
      prefix = strlen(routes[i].p);
      if (plen > prefix && memcmp(path, routes[i].p, prefix) == 0) break;
    }
    if (i == WD_COUNTOF(routes)) {
      respond_error(c, 404, "NotFound", "no such endpoint");
      return;
    }
    if (method != routes[i].method) {
      respond_error(c, 405, "Invalid", "method not allowed on this path");
      return;
    }
    q.kind = (uint8_t)routes[i].kind;
  }
  seg = path + prefix;
  if (memchr(seg, '/', plen - prefix) != NULL ||
      unescape(seg, plen - prefix, target, sizeof target) <= 0) {
    respond_error(c, 400, "Invalid", "bad path segment");
    return;
  }
  if (q.kind == WD_GW_RELOAD && strcmp(target, "reload") != 0) {
    respond_error(c, 404, "NotFound", "no such endpoint");
    return;
  }
routed:
  q.target = target;
  q.targetlen = strlen(target);
  bearer_of(c, &q.bearer, &q.bearerlen);
  if (q.bearerlen > WD_GW_BEARER_MAX) q.bearerlen = 0;
  if (count_bearer(c, q.bearer, q.bearerlen) < 0) {
    c->keep = 0;
    respond_error(c, 429, "LimitExceeded",
                  "too many connections with this token");
    return;
  }
  q.call = ++c->g->next_call;
  wd_buf_init(&val, WD_LINK_REC_MIN - WD_LINK_REC_SLACK);
  if (q.kind == WD_GW_DEPLOY) {
    char err[300];
    int st = wd__gw_read_tar(c->body.p, c->body.len, &val, err, sizeof err);
    if (st != 0) {
      wd_buf_close(&val);
      if (st == 413) c->keep = 0;
      respond_error(c, st, st == 413 ? "LimitExceeded" : "Invalid", err);
      return;
    }
  }
  if (q.kind == WD_GW_KILL || q.kind == WD_GW_INBOX || k > 0 ||
      q.kind == WD_GW_RELOAD || q.kind == WD_GW_DEPLOY) {
    if (c->body.len != 0 && q.kind != WD_GW_DEPLOY) {
      wd_buf_close(&val);
      respond_error(c, 400, "Invalid", "this request takes no body");
      return;
    }
    if (q.kind != WD_GW_DEPLOY) wd_codec_put_header(&val, 0);
    {
      size_t st = wd_link_rec_begin(&c->g->link, WD_R_GW_CALL);
      q.value = val.p;
      q.valuelen = val.len;
      wd__gw_put_call(&c->g->link.batch, &q);
      (void)wd_link_rec_end(&c->g->link, st);
    }
  } else if (parse_body(c, &q, &val) < 0) {
    wd_buf_close(&val);
    return;
  }
  wd_buf_close(&val);
  c->busy = 1;
  c->call = q.call;
  c->kind = q.kind;
  call_add(c->g, c);
}

/* Give 'n' bytes to the parser: a whole request is handled (the rest
** waits in 'pending'); a bad one is answered and the connection closed. */
static void feed(conn *c, const char *data, size_t n) {
  llhttp_errno_t e;
  if (n == 0 || c->closing) return;
  if (!c->reading) {
    c->reading = 1;
    c->deadline = uv_now(&c->g->loop) + c->g->lim.read_ms;
  }
  e = llhttp_execute(&c->parser, data, n);
  if (e == HPE_PAUSED) {
    const char *pos = llhttp_get_error_pos(&c->parser);
    size_t used = pos != NULL ? (size_t)(pos - data) : n;
    wd_buf_reset(&c->pending);
    if (used < n) wd_buf_put(&c->pending, data + used, n - used);
    if (c->pending.err) {
      conn_close(c);
      return;
    }
    /* The connection goes on reading while it is answered: a client
    ** that waits for its answer sends nothing meanwhile, and stopping
    ** and restarting the read would cost two epoll_ctl calls a request.
    ** What a pipelining client sends waits in 'pending' (park). */
    c->parked = 1;
    handle(c);
    return;
  }
  if (e == HPE_OK) return;
  c->keep = 0;
  c->parked = 1;
  c->rstop = 1;
  uv_read_stop(&c->u.s);
  if (c->limit == 413)
    respond_error(c, 413, "LimitExceeded", "request body too large");
  else if (c->limit == 431 || c->limit == 414)
    respond_error(c, 431, "LimitExceeded", "request headers too large");
  else
    respond_error(c, 400, "Invalid", llhttp_errno_name(e));
}

static void on_alloc(uv_handle_t *h, size_t hint, uv_buf_t *b);
static void on_read(uv_stream_t *s, ssize_t n, const uv_buf_t *b);

/* Feed 'n' bytes; answers written at once set 'again' meanwhile. */
static void serve(conn *c, const char *data, size_t n) {
  c->feeding = 1;
  feed(c, data, n);
  c->feeding = 0;
}

/* After a response: the next request of a kept-alive connection, from
** what the client sent ahead first, and so on while those are answered
** at once (a loop, not a recursion). A client that ended its side is
** closed once nothing it sent is left to answer. */
static void conn_next(conn *c) {
  wd_buf rest;
  do {
    c->again = 0;
    c->busy = 0;
    c->reading = 0;
    c->parked = 0;
    req_reset(c);
    llhttp_resume(&c->parser);
    c->deadline = uv_now(&c->g->loop) + c->g->lim.idle_ms;
    rest = c->pending;
    wd_buf_init(&c->pending, c->pending.max);
    if (c->rstop && !c->eof) {
      if (uv_read_start(&c->u.s, on_alloc, on_read) != 0) {
        wd_buf_close(&rest);
        conn_close(c);
        return;
      }
      c->rstop = 0;
    }
    serve(c, (const char *)rest.p, rest.len);
    wd_buf_close(&rest);
  } while (c->again && !c->closing);
  if (c->eof && !c->parked) conn_close(c);
}

/* Bytes that came while the connection is parked: kept for after the
** answer. Past PARK_MAX the gateway stops reading (the client waits). */
static void park(conn *c, const char *data, size_t n) {
  wd_buf_put(&c->pending, data, n);
  if (c->pending.err) {
    conn_close(c);
    return;
  }
  if (c->pending.len >= PARK_MAX && !c->rstop) {
    uv_read_stop(&c->u.s);
    c->rstop = 1;
  }
}

static void on_alloc(uv_handle_t *h, size_t hint, uv_buf_t *b) {
  static char buf[65536];
  (void)h;
  (void)hint;
  *b = uv_buf_init(buf, sizeof buf);
}

static void on_read(uv_stream_t *s, ssize_t n, const uv_buf_t *b) {
  conn *c = s->data;
  if (n == UV_EOF && c->parked && !c->closing) {
    /* Half-closed while being answered: the answer still goes out, and
    ** what was sent before the end (libuv reads no more). */
    c->eof = 1;
    c->rstop = 1;
    return;
  }
  if (n < 0) {
    conn_close(c);
    return;
  }
  if (c->parked) {
    park(c, b->base, (size_t)n);
    return;
  }
  serve(c, b->base, (size_t)n);
  if (c->again && !c->closing) conn_next(c);
}

static void on_conn(uv_stream_t *server, int status) {
  gw *g = server->data;
  int i = (int)(((char *)server - (char *)g->lis) / sizeof g->lis[0]);
  conn *c;
  if (status < 0) return;
  c = calloc(1, sizeof *c);
  if (c == NULL) return;
  c->g = g;
  if (g->istcp[i])
    uv_tcp_init(&g->loop, &c->u.tcp);
  else
    uv_pipe_init(&g->loop, &c->u.pipe, 0);
  c->u.s.data = c;
  uv_timer_init(&g->loop, &c->timer);
  c->timer.data = c;
  c->open = 2;
  c->next = g->conns;
  if (g->conns) g->conns->prev = c;
  g->conns = c;
  g->nconns++;
  wd_buf_init(&c->url, URL_MAX);
  wd_buf_init(&c->auth, AUTH_MAX);
  wd_buf_init(&c->body, g->lim.max_body);
  wd_buf_init(&c->pending, (size_t)g->lim.max_header + g->lim.max_body + 65536);
  llhttp_init(&c->parser, HTTP_REQUEST, &g->settings);
  c->parser.data = c;
  if (uv_accept(server, &c->u.s) < 0) {
    conn_close(c);
    return;
  }
  if (g->nconns > g->lim.max_conns) {
    c->keep = 0;
    respond_error(c, 503, "Unavailable", "too many connections");
    return;
  }
  c->deadline = uv_now(&g->loop) + g->lim.idle_ms;
  uv_timer_start(&c->timer, on_timer, tick_of(g), 0);
  uv_read_start(&c->u.s, on_alloc, on_read);
}

/* }====== */

/* {====== The link ====== */

static void sse_gone(void *ud) {
  conn_close(ud);
}

/* The answer to a reload or deploy: its value as the body ({"digest"},
** {"namespace", "revision"}), or an error whose message lists every
** error one a line, also given as the array "errors". Returns 0 when the
** answer is of another shape (answered as any other). */
static int on_change_answer(conn *c, const wd_gwanswer *a) {
  json_t *j = NULL, *errs;
  char err[300];
  size_t i, start = 0;
  if (a->status < 400) {
    if (a->valuelen == 0 ||
        wd__gw_json_get(a->value, a->valuelen, &j, err, sizeof err) < 0)
      return 0;
    respond_json(c, (int)a->status, j);
    return 1;
  }
  if (a->status != 422 || (errs = json_array()) == NULL) return 0;
  for (i = 0; i <= a->msglen; i++)
    if (i == a->msglen || a->msg[i] == '\n') {
      json_t *s = i > start ? json_stringn(a->msg + start, i - start) : NULL;
      if (s != NULL) json_array_append_new(errs, s);
      start = i + 1;
    }
  for (i = a->msglen; i > 0 && a->msg[i - 1] == '\n'; i--) {
  }
  j = json_pack("{s{ss%ss%so}}", "error", "kind", a->kind, a->kindlen,
                "message", a->msg, i, "errors", errs);
  if (j == NULL) return 0;
  respond_json(c, (int)a->status, j);
  return 1;
}

static void on_answer(gw *g, const wd_gwanswer *a) {
  conn *c;
  json_t *j = NULL;
  char err[300];
  c = call_get(g, a->call);
  if (c == NULL || c->sse) return; /* the client has gone */
  call_del(g, c); /* answered once */
  if ((c->kind == WD_GW_RELOAD || c->kind == WD_GW_DEPLOY) &&
      on_change_answer(c, a))
    return;
  if (c->kind == WD_GW_INBOX && a->status == 200 && a->pidlen > 0) {
    /* From now on the stream reads with gateway_sse.c's callbacks. */
    uv_read_stop(&c->u.s);
    c->rstop = 1;
    if (wd__gw_sse_open(&g->link, &c->u.s, c->call, a->pid, a->pidlen,
                        sse_gone, c) == 0)
      c->sse = 1;
    else
      conn_close(c);
    return;
  }
  if (c->kind >= WD_GW_PS && c->kind <= WD_GW_METRICS && a->status == 200) {
    char *body;
    size_t blen;
    const char *ctype;
    if (wd__gw_status_body(c->kind, a->value, a->valuelen, &body, &blen,
                           &ctype) < 0)
      respond_error(c, 500, "Internal", "a status answer that JSON cannot "
                                        "hold");
    else
      respond(c, 200, ctype, body, blen);
    free(body);
    return;
  }
  if (a->status >= 400 && a->valuelen > 0 &&
      wd__gw_json_get(a->value, a->valuelen, &j, err, sizeof err) == 0) {
    /* A process's error: its error object ({"kind", "message"}) or the
    ** value it raised, as the message. */
    json_t *e;
    if (json_is_object(j) && json_is_string(json_object_get(j, "kind")) &&
        json_string_length(json_object_get(j, "kind")) == 0)
      json_object_set_new(j, "kind", json_string("Internal"));
    if (json_is_object(j) && json_is_string(json_object_get(j, "kind")) &&
        json_is_string(json_object_get(j, "message")))
      e = json_pack("{so}", "error", j);
    else if (json_is_string(j))
      e = json_pack("{s{ss%so}}", "error", "kind", a->kind, a->kindlen,
                    "message", j);
    else {
      json_decref(j);
      e = json_pack("{s{ss%ss%}}", "error", "kind", a->kind, a->kindlen,
                    "message", a->msg, a->msglen);
    }
    j = e;
  } else if (a->status >= 400) {
    j = json_pack("{s{ss%ss%}}", "error", "kind", a->kind, a->kindlen,
                  "message", a->msg, a->msglen);
    if (j == NULL) /* not UTF-8: a message from a script */
      j = json_pack("{s{ssss}}", "error", "kind", "Internal", "message",
                    "(an error message that is not UTF-8)");
  } else if (a->pidlen > 0) {
    j = json_pack("{ss%}", "pid", a->pid, a->pidlen);
  } else if (a->valuelen > 0) {
    json_t *v;
    int r = wd__gw_json_get(a->value, a->valuelen, &v, err, sizeof err);
    if (r < 0) {
      char msg[400];
      snprintf(msg, sizeof msg, "result: %s", err);
      respond_error(c, 422, "Invalid", msg);
      return;
    }
    respond_member(c, (int)a->status, "result", v);
    return;
  } else {
    j = json_pack("{sb}", "ok", 1);
  }
  respond_json(c, (int)a->status, j);
}

static int on_rec(wd_link *l, uint8_t rtype, wd_cur *body) {
  gw *g = l->data;
  wd_gwanswer a;
  switch (rtype) {
    case WD_R_GW_INIT:
      if (wd__gw_get_init(body, &g->lim) < 0 || g->lim.max_conns == 0 ||
          g->lim.max_conns > MAX_CONNS)
        return WD_EBADFRAME;
      return 0;
    case WD_R_GW_ANSWER:
      if (wd__gw_get_answer(body, &a) < 0) return WD_EBADFRAME;
      on_answer(g, &a);
      return 0;
    case WD_R_GW_MSG:
    case WD_R_GW_END:
      return wd__gw_sse_rec(rtype, body);
    default:
      return WD_EBADFRAME;
  }
}

static void on_fail(wd_link *l, int code, const char *why) {
  (void)l;
  if (code != 0) fprintf(stderr, "ward gateway: link: %s\n", why);
  _exit(code == 0 ? 0 : 112);
}

/* A heartbeat, as a host's (sandbox/hostmain.c 'on_beat'): the broker
** kills a gateway silent past its liveness (broker_gw.c 'gw_watch'). */
static void on_beat(uv_timer_t *t) {
  gw *g = t->data;
  size_t st = wd_link_rec_begin(&g->link, WD_R_BEAT);
  wd_link_rec_lane(&g->link, WD_LINK_LANE_FREE);
  (void)wd_link_rec_end(&g->link, st);
  wd_link_flush(&g->link);
}

static void on_prepare(uv_prepare_t *p) {
  gw *g = p->data;
  own_flush(g);
  wd__gw_sse_flush();
  wd_link_flush(&g->link);
}

/* }====== */

/* {====== Start-up and confinement ====== */

static void read_keys(int fd, uint8_t rx[32], uint8_t tx[32],
                      wd_sbx_params *p) {
  uint8_t buf[65 + WD_SBX_PARAMS_LEN];
  ssize_t n;
  do n = recv(fd, buf, sizeof buf, 0);
  while (n == -1 && errno == EINTR);
  if (n != (ssize_t)sizeof buf || buf[0] != WD_F_KEYS)
    die("no keys on the link");
  memcpy(rx, buf + 1, 32);
  memcpy(tx, buf + 33, 32);
  wd_sbx_params_get(buf + 65, p);
  sodium_memzero(buf, sizeof buf);
}

static void listeners(gw *g, int n) {
  int i;
  for (i = 0; i < n; i++) {
    int fd = 4 + i, dom = 0;
    socklen_t sl = sizeof dom;
    if (getsockopt(fd, SOL_SOCKET, SO_DOMAIN, &dom, &sl) != 0)
      die("a listening socket is missing");
    g->istcp[i] = dom != AF_UNIX;
    if (g->istcp[i]) {
      if (uv_tcp_init(&g->loop, &g->lis[i].tcp) != 0 ||
          uv_tcp_open(&g->lis[i].tcp, fd) != 0)
        die("tcp listener");
    } else if (uv_pipe_init(&g->loop, &g->lis[i].pipe, 0) != 0 ||
               uv_pipe_open(&g->lis[i].pipe, fd) != 0) {
      die("unix listener");
    }
    g->lis[i].s.data = g;
    if (uv_listen(&g->lis[i].s, 128, on_conn) != 0) die("listen");
  }
  g->nlis = n;
}

void wd_gateway_main(int nlisten) {
  static gw g;
  uint8_t rx[32], tx[32];
  wd_sbx_params params;
  wd_sbx_opts o;
  char err[256];
  if (sodium_init() < 0) die("sodium_init");
  if (nlisten < 1 || nlisten > MAX_LISTEN) die("bad listener count");
  prctl(PR_SET_NAME, "ward gateway");
  if (prctl(PR_SET_PDEATHSIG, SIGKILL) != 0) die("PR_SET_PDEATHSIG");
  if (getppid() == 1) die("broker already gone");
  if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) die("PR_SET_NO_NEW_PRIVS");
  if (prctl(PR_SET_DUMPABLE, 0) != 0) die("PR_SET_DUMPABLE");
  if (close_range((unsigned)(4 + nlisten), ~0u, 0) != 0) die("close_range");
  close(0);
  close(1);
  signal(SIGPIPE, SIG_IGN);
  read_keys(3, rx, tx, &params);
  memset(&g, 0, sizeof g);
  /* Defaults until GW_INIT (the broker sends it first). */
  g.lim.max_header = 8192;
  g.lim.max_body = 1u << 20;
  g.lim.read_ms = 10000;
  g.lim.idle_ms = 60000;
  g.lim.max_conns = 256;
  g.lim.max_per_token = 32;
  g.toks = calloc(MAX_CONNS, sizeof *g.toks);
  if (g.toks == NULL) die("out of memory");
  if (uv_loop_init(&g.loop) != 0) die("uv_loop_init");
  if (wd_link_init(&g.loop, &g.link, 3, tx, rx) < 0) die("link");
  sodium_memzero(rx, sizeof rx);
  sodium_memzero(tx, sizeof tx);
  g.link.data = &g;
  g.link.on_rec = on_rec;
  g.link.on_fail = on_fail;
  uv_prepare_init(&g.loop, &g.flush);
  g.flush.data = &g;
  uv_prepare_start(&g.flush, on_prepare);
  uv_timer_init(&g.loop, &g.beat);
  g.beat.data = &g;
  uv_timer_start(&g.beat, on_beat, 0, WD_HEARTBEAT_MS);
  llhttp_settings_init(&g.settings);
  g.settings.on_message_begin = on_msg_begin;
  g.settings.on_url = on_url;
  g.settings.on_header_field = on_field;
  g.settings.on_header_field_complete = on_field_done;
  g.settings.on_header_value = on_value;
  g.settings.on_headers_complete = on_headers_done;
  g.settings.on_body = on_body;
  g.settings.on_message_complete = on_msg_done;
  listeners(&g, nlisten);
  /* jansson seeds its hash function on first use from /dev/urandom,
  ** which a confined gateway cannot open: seed it now. */
  json_object_seed(randombytes_random() | 1u);
  randombytes_buf(g.tokkey, sizeof g.tokkey);
  memset(&o, 0, sizeof o);
  o.id = "gateway";
  o.p = params;
  o.allow = wd_sbx_seccomp_gateway_text();
  o.allow_name = "gateway.allow";
  o.extra_fds = MAX_CONNS + 16;
  if (wd_sbx_confine(&o, NULL, err, sizeof err) < 0) die(err);
  uv_run(&g.loop, UV_RUN_DEFAULT);
  _exit(0);
}

/* }====== */
