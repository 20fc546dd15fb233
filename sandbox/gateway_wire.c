/*
** sandbox/gateway_wire.c
** The front door's records (GW_INIT, GW_CALL, GW_ANSWER, GW_MSG, GW_END,
** GW_COUNT): one encoder and one decoder each, shared by the broker and
** the gateway, and the hash of a bearer secret.
** Runs in: broker and gateway.
*/
#include <string.h>

#include <sodium.h>

#include "gateway.h"

void wd__gw_put_init(wd_buf *w, const wd_gwinit *g) {
  wd_buf_put_u32(w, g->max_header);
  wd_buf_put_u32(w, g->max_body);
  wd_buf_put_u32(w, g->read_ms);
  wd_buf_put_u32(w, g->idle_ms);
  wd_buf_put_u32(w, g->max_conns);
  wd_buf_put_u32(w, g->max_per_token);
}

int wd__gw_get_init(wd_cur *c, wd_gwinit *g) {
  if (wd_cur_u32(c, &g->max_header) || wd_cur_u32(c, &g->max_body) ||
      wd_cur_u32(c, &g->read_ms) || wd_cur_u32(c, &g->idle_ms) ||
      wd_cur_u32(c, &g->max_conns) || wd_cur_u32(c, &g->max_per_token) ||
      wd_cur_left(c) != 0)
    return WD_EBADFRAME;
  return 0;
}

void wd__gw_put_call(wd_buf *w, const wd_gwcall *q) {
  wd_buf_put_u32(w, q->call);
  wd_buf_put_u8(w, q->kind);
  wd_buf_put_str(w, q->bearer, q->bearerlen);
  wd_buf_put_str(w, q->target, q->targetlen);
  wd_buf_put_str(w, q->host, q->hostlen);
  wd_buf_put_u64(w, q->timeout_ms);
  wd_buf_put_str(w, q->topic, q->topiclen);
  wd_buf_put(w, q->value, q->valuelen);
}

/* A string field without NUL bytes and at most 'max' bytes long. */
static int get_field(wd_cur *c, const char **s, size_t *n, size_t max) {
  if (wd_cur_str(c, s, n) < 0 || *n > max || memchr(*s, '\0', *n) != NULL)
    return WD_EBADFRAME;
  return 0;
}

int wd__gw_get_call(wd_cur *c, wd_gwcall *q) {
  memset(q, 0, sizeof *q);
  if (wd_cur_u32(c, &q->call) || wd_cur_u8(c, &q->kind) ||
      q->kind == 0 || q->kind >= WD_GW_MAX ||
      get_field(c, &q->bearer, &q->bearerlen, WD_GW_BEARER_MAX) ||
      get_field(c, &q->target, &q->targetlen, WD_GW_TARGET_MAX) ||
      get_field(c, &q->host, &q->hostlen, WD_GW_TARGET_MAX) ||
      wd_cur_u64(c, &q->timeout_ms) ||
      get_field(c, &q->topic, &q->topiclen, WD_GW_TARGET_MAX))
    return WD_EBADFRAME;
  q->valuelen = wd_cur_left(c);
  return wd_cur_bytes(c, q->valuelen, &q->value);
}

void wd__gw_put_answer(wd_buf *w, const wd_gwanswer *a) {
  wd_buf_put_u32(w, a->call);
  wd_buf_put_u32(w, a->status);
  wd_buf_put_str(w, a->kind, a->kindlen);
  wd_buf_put_str(w, a->msg, a->msglen);
  wd_buf_put_str(w, a->pid, a->pidlen);
  wd_buf_put(w, a->value, a->valuelen);
}

int wd__gw_get_answer(wd_cur *c, wd_gwanswer *a) {
  memset(a, 0, sizeof *a);
  if (wd_cur_u32(c, &a->call) || wd_cur_u32(c, &a->status) ||
      a->status < 100 || a->status > 599 ||
      wd_cur_str(c, &a->kind, &a->kindlen) ||
      wd_cur_str(c, &a->msg, &a->msglen) ||
      wd_cur_str(c, &a->pid, &a->pidlen))
    return WD_EBADFRAME;
  a->valuelen = wd_cur_left(c);
  return wd_cur_bytes(c, a->valuelen, &a->value);
}

/* The key only separates this use of BLAKE2b from others; it is public. */
static const unsigned char token_key[crypto_generichash_KEYBYTES_MIN] =
    "ward token v1...";

void wd__token_key(const char *secret, size_t n, uint8_t out[32]) {
  crypto_generichash(out, 32, (const unsigned char *)secret, n, token_key,
                     sizeof token_key);
}

void wd__token_hash(const char *secret, size_t n,
                    char out[WD_TOKEN_HASH_LEN]) {
  unsigned char h[32];
  wd__token_key(secret, n, h);
  memcpy(out, "b2:", 3);
  sodium_bin2hex(out + 3, WD_TOKEN_HASH_LEN - 3, h, sizeof h);
  sodium_memzero(h, sizeof h);
}

void wd__gw_put_msg(wd_buf *w, const wd_gwmsg *m) {
  wd_buf_put_u32(w, m->call);
  wd_buf_put_str(w, m->from, m->fromlen);
  wd_buf_put_str(w, m->topic, m->topiclen);
  wd_buf_put(w, m->payload, m->payloadlen);
}

int wd__gw_get_msg(wd_cur *c, wd_gwmsg *m) {
  memset(m, 0, sizeof *m);
  if (wd_cur_u32(c, &m->call) ||
      get_field(c, &m->from, &m->fromlen, WD_GW_TARGET_MAX) ||
      get_field(c, &m->topic, &m->topiclen, WD_GW_TARGET_MAX))
    return WD_EBADFRAME;
  m->payloadlen = wd_cur_left(c);
  if (wd_cur_bytes(c, m->payloadlen, &m->payload) < 0) return WD_EBADFRAME;
  return 0;
}

void wd__gw_put_end(wd_buf *w, const wd_gwend *e) {
  wd_buf_put_u32(w, e->call);
  wd_buf_put_u8(w, e->ok);
  wd_buf_put_str(w, e->kind, e->kindlen);
  wd_buf_put_str(w, e->msg, e->msglen);
}

int wd__gw_get_end(wd_cur *c, wd_gwend *e) {
  memset(e, 0, sizeof *e);
  if (wd_cur_u32(c, &e->call) || wd_cur_u8(c, &e->ok) || e->ok > 1 ||
      get_field(c, &e->kind, &e->kindlen, WD_GW_TARGET_MAX) ||
      get_field(c, &e->msg, &e->msglen, WD_GW_TARGET_MAX) ||
      wd_cur_left(c) != 0)
    return WD_EBADFRAME;
  return 0;
}

void wd__gw_put_count(wd_buf *w, const wd_gwcount *k) {
  uint32_t i;
  wd_buf_put_u32(w, k->n);
  for (i = 0; i < k->n && i < WD_GW_COUNT_CODES; i++) {
    wd_buf_put_u32(w, k->status[i]);
    wd_buf_put_u32(w, k->count[i]);
  }
}

/* The gateway is trusted no more than a host: every bound is checked, and
** a record out of them is a bad frame (the broker kills the gateway). */
int wd__gw_get_count(wd_cur *c, wd_gwcount *k) {
  uint32_t i;
  memset(k, 0, sizeof *k);
  if (wd_cur_u32(c, &k->n) || k->n == 0 || k->n > WD_GW_COUNT_CODES)
    return WD_EBADFRAME;
  for (i = 0; i < k->n; i++)
    if (wd_cur_u32(c, &k->status[i]) || wd_cur_u32(c, &k->count[i]) ||
        k->status[i] < 100 || k->status[i] > 599 ||
        (i > 0 && k->status[i] <= k->status[i - 1]) || k->count[i] == 0 ||
        k->count[i] > WD_GW_COUNT_MAX)
      return WD_EBADFRAME;
  return wd_cur_left(c) == 0 ? 0 : WD_EBADFRAME;
}
