/*
** sandbox/gateway.h
** The front door (ARCHITECTURE.md §12): what the broker and the gateway
** process share. The gateway parses HTTP (llhttp) and JSON (jansson) from
** outside and speaks the signed link to the broker with three records
** (wd_proto.h): GW_INIT (broker -> gateway, its limits), GW_CALL (gateway
** -> broker, one API request) and GW_ANSWER (broker -> gateway, its
** answer). Each record has one encoder and one decoder, here, used by
** both sides. The gateway is trusted no more than a host: the broker
** decodes every GW_CALL with bounds checks and decides it again.
** Runs in: broker and gateway.
*/
#ifndef gateway_h
#define gateway_h

#include <stddef.h>
#include <stdint.h>

#include "ward/wd_buf.h"

/* What a GW_CALL asks (the API rows of milestone 1). */
enum {
  WD_GW_EXEC = 1, /* POST /v1/exec/{entry}: spawn, wait for the exit */
  WD_GW_SPAWN,    /* POST /v1/spawn/{entry}: spawn, answer the PID */
  WD_GW_SEND,     /* POST /v1/send/{dest}: process.send */
  WD_GW_KILL,     /* DELETE /v1/processes/{pid}: process.terminate */
  WD_GW_PS,       /* GET /v1/processes: ward.status (gateway_status.c) */
  WD_GW_HOSTS,    /* GET /v1/hosts: ward.status */
  WD_GW_METRICS,  /* GET /metrics: ward.status, Prometheus text */
  WD_GW_INBOX,    /* GET /v1/inbox?name=N: an inbox stream (target N) */
  WD_GW_RELOAD,   /* POST /v1/policies/reload: ward.policy.reload */
  WD_GW_DEPLOY,   /* PUT /v1/apps/{namespace}: ward.deploy; 'value' is
                     the files (wd__gw_put_files), not codec bytes */
  WD_GW_MAX
};

/* Bounds of the fields of a GW_CALL: longer is a bad frame. */
#define WD_GW_BEARER_MAX 512
#define WD_GW_TARGET_MAX 512
/* The longest exec may wait (and the default when no timeout is given). */
#define WD_GW_TIMEOUT_MAX_MS 300000u
#define WD_GW_TIMEOUT_DEF_MS 30000u

/* The gateway's limits (GW_INIT). */
typedef struct wd_gwinit {
  uint32_t max_header;    /* bytes of request line + headers: else 431 */
  uint32_t max_body;      /* bytes of body: else 413 */
  uint32_t read_ms;       /* a request must arrive whole within this */
  uint32_t idle_ms;       /* a kept-alive connection may idle this long */
  uint32_t max_conns;     /* connections at once, in all */
  uint32_t max_per_token; /* connections at once with one bearer */
} wd_gwinit;

/* One API request (GW_CALL). Strings are borrowed from the record (or
** from the caller when encoding); 'value' is payload codec bytes: the
** arguments (EXEC, SPAWN: a sequence of any length) or the message
** (SEND: a sequence of one value). */
typedef struct wd_gwcall {
  uint32_t call;       /* the gateway's number for it */
  uint8_t kind;        /* WD_GW_* */
  const char *bearer;  /* the Authorization credential: "ID:SECRET" */
  size_t bearerlen;
  const char *target;  /* entry id, destination (PID or name), or PID */
  size_t targetlen;
  const char *host;    /* EXEC, SPAWN: "" for the default host */
  size_t hostlen;
  uint64_t timeout_ms; /* EXEC: 0 for the default */
  const char *topic;   /* SEND */
  size_t topiclen;
  const uint8_t *value;
  size_t valuelen;
} wd_gwcall;

/* The broker's answer (GW_ANSWER): an HTTP status and either an error
** (kind, message), a PID, a result value (codec bytes, a sequence of one)
** or nothing ({"ok": true}). */
typedef struct wd_gwanswer {
  uint32_t call;
  uint32_t status;
  const char *kind;
  size_t kindlen;
  const char *msg;
  size_t msglen;
  const char *pid;
  size_t pidlen;
  const uint8_t *value;
  size_t valuelen;
} wd_gwanswer;

/* Encoders append the record body to 'w' (errors stay in w->err);
** decoders read a whole body and return 0, or WD_EBADFRAME for a body of
** the wrong shape or out of bounds (the other side is then killed). */
void wd__gw_put_init(wd_buf *w, const wd_gwinit *g);
int wd__gw_get_init(wd_cur *c, wd_gwinit *g);
void wd__gw_put_call(wd_buf *w, const wd_gwcall *q);
int wd__gw_get_call(wd_cur *c, wd_gwcall *q);
void wd__gw_put_answer(wd_buf *w, const wd_gwanswer *a);
int wd__gw_get_answer(wd_cur *c, wd_gwanswer *a);

/* An inbox stream's message (GW_MSG) and end (GW_END). Strings are
** borrowed as in wd_gwcall. */
typedef struct wd_gwmsg {
  uint32_t call;
  const char *from, *topic;
  size_t fromlen, topiclen;
  const uint8_t *payload; /* codec bytes, a sequence of one value */
  size_t payloadlen;
} wd_gwmsg;

typedef struct wd_gwend {
  uint32_t call;
  uint8_t ok;             /* 1: a normal end (the client left) */
  const char *kind, *msg; /* an error's kind and message, else "" */
  size_t kindlen, msglen;
} wd_gwend;

/* The answers the gateway gave itself (GW_COUNT): at most
** WD_GW_COUNT_CODES statuses, each at most WD_GW_COUNT_MAX times a
** record (the gateway sends one each loop turn it answered any). */
#define WD_GW_COUNT_CODES 32
#define WD_GW_COUNT_MAX   (1u << 20)

typedef struct wd_gwcount {
  uint32_t n;
  uint32_t status[WD_GW_COUNT_CODES]; /* 100..599, rising */
  uint32_t count[WD_GW_COUNT_CODES];  /* 1..WD_GW_COUNT_MAX */
} wd_gwcount;

void wd__gw_put_count(wd_buf *w, const wd_gwcount *k);
int wd__gw_get_count(wd_cur *c, wd_gwcount *k);
/* What a GW_MSG costs an inbox's window (sandbox/broker_inbox.c), in
** bytes: at least what its event takes in the stream (JSON escapes a
** byte in at most 6), so a window of cost never holds more than its
** bytes at the gateway. */
#define WD_GW_SSE_COST(fl, tl, n) \
  (6u * ((uint64_t)(fl) + (uint64_t)(tl) + (uint64_t)(n)) + 64u)
/* Streams in one GW_ACK at most. */
#define WD_GW_ACK_MAX 1024u

void wd__gw_put_msg(wd_buf *w, const wd_gwmsg *m);
int wd__gw_get_msg(wd_cur *c, wd_gwmsg *m);
void wd__gw_put_end(wd_buf *w, const wd_gwend *e);
int wd__gw_get_end(wd_cur *c, wd_gwend *e);

/* {====== Inbox streams (sandbox/gateway_sse.c; gateway only) ====== */

struct uv_stream_s;
struct wd_link;
/* The largest message to an inbox stream (its codec bytes). */
#define WD_GW_INBOX_MAX_PAYLOAD (512u << 10)
/* What the broker carries to a stream and the gateway has not written
** yet, at most (in WD_GW_SSE_COST; sandbox/broker_inbox.c). */
#define WD_GW_SSE_WINDOW (512u << 10)
/* An SSE client may fall this far behind (bytes not yet written to its
** socket) before its stream is dropped with an error event: a full window
** and one message of the largest size written out with every byte
** escaped (6 x), so the honest flow never reaches it. */
#define WD_GW_SSE_QUEUE_MAX (4u << 20)
/* A comment line goes to an idle stream this often. */
#define WD_GW_SSE_KEEPALIVE_MS 15000u
/* A stream with bytes waiting that its client has taken none of for this
** long is dropped with an error event (LimitExceeded). */
#define WD_GW_SSE_STALL_MS 5000u

/*
** The broker opened inbox 'pid' for call 'call' on stream 's': write the
** response head and the ready event, and from now on read 's' only to
** see the client leave. 'on_gone(ud)' runs once when the stream must be
** closed (the client left, it fell too far behind, or the broker ended
** it); the gateway then closes 's' and calls wd__gw_sse_closed. Returns
** 0, or WD_ENOMEM (nothing changed; the caller answers 500).
*/
int wd__gw_sse_open(struct wd_link *l, struct uv_stream_s *s, uint32_t call,
                    const char *pid, size_t pl, void (*on_gone)(void *),
                    void *ud);
/* The stream of 'call' is being closed by the gateway: tell the broker
** (GW_END, unless the broker ended it) and forget it. */
void wd__gw_sse_closed(uint32_t call);
/* A GW_MSG or GW_END record from the broker; WD_EBADFRAME if malformed. */
int wd__gw_sse_rec(uint8_t rtype, wd_cur *body);
/* Once per loop turn: write what the turn queued to each stream. */
void wd__gw_sse_flush(void);

/* }====== */

/* {====== JSON <-> codec (sandbox/gateway_json.c; gateway only) ====== */

struct json_t;

/*
** Append JSON value 'v' to 'out' as one codec value: objects -> tables
** with string keys (a null member is left out), arrays -> sequences (a
** null element is a hole: the table gets the other indices), integers
** stay integers, reals floats. Returns 0, or WD_EINVAL with "PATH: why"
** in 'err' (too deep), or the error of 'out'.
*/
int wd__gw_json_put(wd_buf *out, const struct json_t *v, char *err,
                    size_t errlen);
/*
** Decode the first value of the codec sequence p[0..n) into a new JSON
** value in '*out': nil -> null, tables with string keys -> objects,
** sequences -> arrays, error objects -> {"kind", "message"}. A value JSON
** cannot hold (a cycle, a key that is neither a string nor part of a
** sequence, a float NaN or infinity, a string that is not UTF-8) is
** WD_EINVAL with "PATH: why" in 'err'; malformed bytes WD_EBADFRAME.
*/
int wd__gw_json_get(const uint8_t *p, size_t n, struct json_t **out,
                    char *err, size_t errlen);

/* }====== */

/* {====== Status routes (sandbox/gateway_status.c; gateway only) ====== */

/* The WD_GW_PS, _HOSTS or _METRICS of the path p[0..n) with 'method' (an
** llhttp method), -405 for another method on one of them, 0 for another
** path. */
int wd__gw_status_route(const char *path, size_t n, int method);
/*
** The body of a 200 answer to a status call of 'kind': the broker's value
** (codec bytes) as a JSON object, or for WD_GW_METRICS its text. Sets
** '*body' (malloc'd, the caller frees), '*blen' and '*ctype'. Returns 0,
** WD_EINVAL (a value of the wrong shape) or WD_ENOMEM.
*/
int wd__gw_status_body(int kind, const uint8_t *val, size_t vlen,
                       char **body, size_t *blen, const char **ctype);
/* {====== Deploys (sandbox/gateway_deploy.c, broker_gw_deploy.c) ====== */

/* Bounds of a deploy: the files together (the record must fit the link's
** bound with room to spare), how many entries the archive may hold, the
** longest path. */
#define WD_DEPLOY_MAX_BYTES (3u << 20)
#define WD_DEPLOY_MAX_FILES 256
#define WD_DEPLOY_MAX_PATH 200

/*
** Read tar archive p[0..n) (plain tar: ustar, pax or GNU; no compression)
** from memory, in the gateway, and append its regular files to 'out' as
** u32 count, count * (str path, str content). Directories are skipped.
** Returns 0; or an HTTP status with a message in 'err': 400 for a
** malformed archive, an absolute path, a '..' component, a symlink, a
** hard link, a device or FIFO, a path over WD_DEPLOY_MAX_PATH or twice;
** 413 for more than WD_DEPLOY_MAX_FILES entries or WD_DEPLOY_MAX_BYTES.
*/
int wd__gw_read_tar(const uint8_t *p, size_t n, wd_buf *out, char *err,
                    size_t errlen);

/* A path a deploy may hold: relative, printable, no '..', '.' or empty
** component, at most WD_DEPLOY_MAX_PATH bytes. Both sides check it. */
int wd__gw_path_ok(const char *s, size_t n);

/* }====== */

/* {====== Tokens (sandbox/broker_gw.c; the ward command) ====== */

/* "b2:" + 64 hex digits + NUL. */
#define WD_TOKEN_HASH_LEN 68
/* The hash of a bearer secret that a tokens file stores: keyed BLAKE2b-256
** (a fixed, public key: domain separation only; secrets are high-entropy,
** so no slow hash is needed). */
void wd__token_hash(const char *secret, size_t n,
                    char out[WD_TOKEN_HASH_LEN]);
/* The same hash as its 32 bytes (the broker compares these). */
void wd__token_key(const char *secret, size_t n, uint8_t out[32]);

/* }====== */

#endif
