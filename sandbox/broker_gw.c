/*
** sandbox/broker_gw.c
** The front door, broker side (ARCHITECTURE.md §12): the tokens file, the
** gateway process (started, confined, killed and
** restarted like a host) and every API request it carries. The gateway is
** trusted no more than a host: it only forwards what a client sent. Here
** the bearer credential is checked against the tokens file (which only
** the broker reads), the caller becomes the token's actor with its scope,
** every request is decided by the broker's policy engine with the same
** permission table as a script's call, plus the attributes via: api and
** token: <id>, and audited. A gateway that sends a bad frame is killed,
** reported and restarted. The listening sockets: broker_listen.c.
** Runs in: broker.
*/
#include <ctype.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <sodium.h>

#include "ward/wd_audit.h"
#include "ward/wd_codec.h"
#include "ward/wd_confine.h"
#include "ward/wd_link.h"
#include "ward/wd_pid.h"
#include "ward/wd_polset.h"
#include "ward/wd_proto.h"
#include "ward/wd_secid.h"
#include "ward/wd_wire.h"
#include "ward/wd_yaml.h"

#include "broker_int.h"
#include "fork_int.h"
#include "gateway.h"

#define MAX_LISTEN 8

typedef struct gwtoken {
  char *id;
  uint8_t key[32]; /* the secret_hash's 32 bytes (ward token hash) */
  char *actor; /* "<id>" or "<id>\0<meta>" (wd_secid.h) */
  size_t actorlen;
  char *scope; /* newline-separated groups and policies */
  size_t scopelen;
  char *actor_id;
  uint32_t inflight;
  /* The secret that last matched 'key', as its SipHash-128 under the
  ** broker's random 'sipkey' (see 'authenticate'); 'seen' 0: none yet. */
  uint8_t sip[crypto_shorthash_siphashx24_BYTES];
  int seen;
} gwtoken;

/* An API request the broker is working on. Requests carried to hosts and
** root processes name it by 'serial' (never by pointer): an answer for a
** request that is gone (its gateway died) finds nothing and is dropped. */
typedef struct gwcall {
  struct gwcall *next, *prev;
  uint64_t serial;
  uint32_t call;  /* the gateway's number */
  uint64_t gen;   /* the gateway incarnation that asked */
  gwtoken *tok;
  int kind;
  int answered;   /* (an unanswered call is in 'bycall' too) */
  int slot;       /* EXEC: the host of its process */
  char pid[WD_PID_MAX];
  brk_dl dl;             /* EXEC: its deadline, until it passes */
  uint64_t t0;           /* uv_now when it came */
  const char *tenant;    /* its token's actor id, once authenticated */
} gwcall;

/* An open-addressing table (linear probing, at most half full) from a
** key to a call: a lookup costs the same whatever the number of calls in
** flight. It holds pointers only; the list 'calls' owns the calls. */
typedef struct callmap {
  gwcall **slot;
  size_t cap;   /* 0 or a power of two */
  size_t n;
  int by_call;  /* keyed by 'call', else by 'serial' */
} callmap;

typedef struct brk_gw {
  wd_broker *b;
  wd_serve_opts o;
  int fds[MAX_LISTEN];
  char *paths[MAX_LISTEN]; /* unix sockets to unlink at the end */
  int nfds;
  gwtoken *toks;
  size_t ntoks;
  wd_doc *doc;
  pid_t pid;
  pid_t ospid;
  uint64_t gen;
  wd_link *link;
  int up;
  char why[200];
  uint64_t started;
  int restarts;
  gwcall *calls;
  uint8_t sipkey[crypto_shorthash_siphashx24_KEYBYTES]; /* drawn at start */
  callmap byserial;   /* every call */
  callmap bycall;     /* the calls not answered yet, by the gateway's
                         number (one still in use is a bad frame) */
  uint64_t next_serial;
  brk_dlheap dl;      /* the EXEC calls' deadlines */
  uv_timer_t dltimer; /* armed for the earliest of them at most */
  int dlon;           /* 'dltimer' is armed (for 'dlarmed') */
  int dlinit;
  uint64_t dlarmed;
  uv_prepare_t flush; /* sends what the turn wrote to the gateway */
  int flushing;
  uv_timer_t watch;   /* liveness: 'gw_watch' every WD_HEARTBEAT_MS */
  int watching;
  uint64_t wclock;    /* its watch clock, ms (as broker.c's 'wclock') */
  uint64_t wlast;     /* uv_now of the last tick */
  uint64_t alive;     /* watch clock of its last sign of life */
  int beaten;         /* a heartbeat came from this incarnation */
} brk_gw;

/* The gateway's liveness, as a host's default (wd_manifest 'liveness'):
** silent this long, it is killed and restarted. Until its first heartbeat
** (exec and confinement) it gets twice as long. */
#define GW_LIVENESS_MS 5000

/* {====== Tokens ====== */

static int tok_err(char *err, size_t errlen, const wd_node *n,
                   const char *fmt, ...) __attribute__((format(printf, 4, 5)));
static int tok_err(char *err, size_t errlen, const wd_node *n,
                   const char *fmt, ...) {
  char msg[300];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  snprintf(err, errlen, "%s:%d:%d: %s", n->file ? n->file : "?", n->line,
           n->col, msg);
  return WD_EINVAL;
}

static int id_ok(const char *s) {
  size_t i;
  if (s[0] == '\0' || strlen(s) > 128) return 0;
  for (i = 0; s[i]; i++)
    if (!(isalnum((unsigned char)s[i]) || strchr("_.-", s[i]) != NULL))
      return 0;
  return 1;
}

/* A list of policy groups or ids, appended to the scope 'w'. */
static int put_names(wd_broker *b, const wd_node *seq, wd_buf *w,
                     char *err, size_t errlen) {
  size_t i;
  if (seq == NULL) return 0;
  if (seq->type != WD_NODE_SEQ)
    return tok_err(err, errlen, seq, "a list of names is required");
  for (i = 0; i < seq->n; i++) {
    const wd_node *x = seq->kids[i];
    if (x->type != WD_NODE_SCALAR || x->len == 0 ||
        memchr(x->str, '\n', x->len) != NULL)
      return tok_err(err, errlen, x, "a policy or group name is required");
    if (!wd_policy_set_has(b->pset, x->str))
      return tok_err(err, errlen, x, "'%s' is no policy or group", x->str);
    if (w->len > 0) wd_buf_put_u8(w, '\n');
    wd_buf_put(w, x->str, x->len);
  }
  return 0;
}

static int load_token(brk_gw *g, const wd_node *n, gwtoken *t, char *err,
                      size_t errlen) {
  static const char *const keys[] = { "id", "secret_hash", "actor", "groups",
                                      "policies" };
  const wd_node *id, *hash, *actor, *aid, *meta;
  wd_buf w;
  size_t i, k;
  if (n->type != WD_NODE_MAP)
    return tok_err(err, errlen, n, "a token must be a map");
  for (i = 0; i < n->n; i++) {
    for (k = 0; k < WD_COUNTOF(keys); k++)
      if (strcmp(n->keys[i]->str, keys[k]) == 0) break;
    if (k == WD_COUNTOF(keys))
      return tok_err(err, errlen, n->keys[i], "unknown field '%s'",
                     n->keys[i]->str);
  }
  id = wd_node_get(n, "id");
  hash = wd_node_get(n, "secret_hash");
  actor = wd_node_get(n, "actor");
  if (wd_node_str(id) == NULL || !id_ok(id->str))
    return tok_err(err, errlen, id ? id : n,
                   "id: letters, digits, '_', '.' or '-' (at most 128)");
  for (i = 0; i < g->ntoks; i++)
    if (strcmp(g->toks[i].id, id->str) == 0)
      return tok_err(err, errlen, id, "token '%s' is listed twice", id->str);
  if (wd_node_str(hash) == NULL || hash->len != WD_TOKEN_HASH_LEN - 1 ||
      strncmp(hash->str, "b2:", 3) != 0 ||
      strspn(hash->str + 3, "0123456789abcdef") != WD_TOKEN_HASH_LEN - 4)
    return tok_err(err, errlen, hash ? hash : n,
                   "secret_hash: b2: and 64 hex digits (ward token hash)");
  if (actor == NULL || actor->type != WD_NODE_MAP ||
      wd_node_str(aid = wd_node_get(actor, "id")) == NULL || aid->len == 0 ||
      aid->len > 200)
    return tok_err(err, errlen, actor ? actor : n,
                   "actor: a map with an id is required");
  for (i = 0; i < actor->n; i++)
    if (strcmp(actor->keys[i]->str, "id") != 0 &&
        strcmp(actor->keys[i]->str, "meta") != 0)
      return tok_err(err, errlen, actor->keys[i], "unknown field '%s'",
                     actor->keys[i]->str);
  memset(t, 0, sizeof *t);
  t->id = wd_strdup(id->str);
  t->actor_id = wd_strdup(aid->str);
  /* 64 hex digits, checked above: this cannot fail. */
  (void)sodium_hex2bin(t->key, sizeof t->key, hash->str + 3,
                       WD_TOKEN_HASH_LEN - 4, NULL, NULL, NULL);
  /* The actor travels as "<id>\0<meta>", as a process's does. */
  wd_buf_init(&w, 0);
  wd_buf_put(&w, aid->str, aid->len);
  if ((meta = wd_node_get(actor, "meta")) != NULL) {
    wd_pval pv;
    if (meta->type != WD_NODE_MAP || wd_pval_from_node(meta, &pv) != 0) {
      wd_buf_close(&w);
      return tok_err(err, errlen, meta, "actor.meta: a map is required");
    }
    wd_buf_put_u8(&w, 0);
    wd_wire_put_pval(&w, &pv);
    wd_pval_clear(&pv);
  }
  t->actor = (char *)w.p;
  t->actorlen = w.len;
  wd_buf_init(&w, 0);
  if (put_names(g->b, wd_node_get(n, "groups"), &w, err, errlen) < 0 ||
      put_names(g->b, wd_node_get(n, "policies"), &w, err, errlen) < 0) {
    wd_buf_close(&w);
    return WD_EINVAL;
  }
  if (w.len == 0) wd_buf_put_u8(&w, 0), w.len = 0;
  t->scope = (char *)w.p;
  t->scopelen = w.len;
  if (t->id == NULL || t->actor_id == NULL || t->actor == NULL ||
      t->scope == NULL) {
    snprintf(err, errlen, "out of memory");
    return WD_ENOMEM;
  }
  return 0;
}

static void free_tokens(brk_gw *g) {
  size_t i;
  for (i = 0; i < g->ntoks; i++) {
    wd_free(g->toks[i].id);
    wd_free(g->toks[i].actor_id);
    wd_free(g->toks[i].actor);
    wd_free(g->toks[i].scope);
    sodium_memzero(g->toks[i].sip, sizeof g->toks[i].sip);
  }
  wd_free(g->toks);
  g->toks = NULL;
  g->ntoks = 0;
}

/* Read the tokens file: {tokens: [{id, secret_hash, actor: {id, meta},
** groups, policies}]}. Errors name FILE:LINE:COL. */
static int load_tokens(brk_gw *g, const char *path, char *err,
                       size_t errlen) {
  FILE *f = fopen(path, "re");
  char *text = NULL;
  size_t len = 0, i;
  const wd_node *list;
  int r;
  if (f == NULL) {
    snprintf(err, errlen, "%s: %s", path, strerror(errno));
    return -errno;
  }
  text = wd_malloc(1u << 20);
  if (text != NULL) len = fread(text, 1, 1u << 20, f);
  if (text == NULL || !feof(f)) {
    fclose(f);
    wd_free(text);
    snprintf(err, errlen, "%s: unreadable or larger than 1 MiB", path);
    return WD_EINVAL;
  }
  fclose(f);
  r = wd_yaml_parse(path, text, len, &g->doc, err, errlen);
  wd_free(text);
  if (r < 0) return r;
  if (g->doc->root == NULL || g->doc->root->type != WD_NODE_MAP ||
      (list = wd_node_get(g->doc->root, "tokens")) == NULL ||
      list->type != WD_NODE_SEQ) {
    snprintf(err, errlen, "%s:1:1: a map with a list 'tokens' is required",
             path);
    return WD_EINVAL;
  }
  for (i = 0; i < g->doc->root->n; i++)
    if (strcmp(g->doc->root->keys[i]->str, "tokens") != 0)
      return tok_err(err, errlen, g->doc->root->keys[i],
                     "unknown field '%s'", g->doc->root->keys[i]->str);
  g->toks = wd_calloc(list->n ? list->n : 1, sizeof *g->toks);
  if (g->toks == NULL) return WD_ENOMEM;
  for (i = 0; i < list->n; i++) {
    /* A token that fails is counted too, so free_tokens frees what it
    ** made (its slot is zeroed until it is filled). */
    r = load_token(g, list->kids[i], &g->toks[g->ntoks], err, errlen);
    g->ntoks++;
    if (r < 0) return r;
  }
  return 0;
}

/* }====== */

/* {====== Decisions and the audit log ====== */

/* Write a record; 0, or WD_EUNAVAIL when the log cannot be written. */
static int audit(wd_broker *b, const wd_audit_rec *rec) {
  if (b->audit == NULL) return 0;
  if (wd_audit_append(b->audit, rec) < 0) {
    fprintf(stderr, "ward: audit log: cannot write an API decision\n");
    return WD_EUNAVAIL;
  }
  return 0;
}

/* A credential that names no token (or the wrong secret): denied and
** logged with the token id it claimed, never the secret. */
static int audit_auth(brk_gw *g, const char *claimed, const char *why) {
  wd_audit_rec rec;
  wd_pattr attrs[2];
  attrs[0].key = "via";
  attrs[0].val = wd_pval_str("api");
  attrs[1].key = "token";
  attrs[1].val = wd_pval_str(claimed);
  memset(&rec, 0, sizeof rec);
  rec.kind = WD_AUDIT_DECISION;
  rec.action = "api.authenticate";
  rec.resource = claimed;
  rec.attrs = attrs;
  rec.nattrs = 2;
  rec.effect = WD_PEFFECT_DENY;
  rec.reason = why;
  rec.host = "gateway";
  return audit(g->b, &rec);
}

/* Decide 'action' on 'res' for token 't' (attributes pid "", host
** "gateway", target_host and topic when given, via: api, token: <id>).
** Returns WD_POLICY_ALLOW, WD_EDENIED, or WD_EUNAVAIL (not logged). */
static int decide(brk_gw *g, const gwtoken *t, const char *action,
                  const char *res, size_t rl, const char *target_host,
                  const char *topic, char *why, size_t whylen) {
  wd_broker *b = g->b;
  wd_seccheck c;
  wd_pdecision d;
  wd_pval meta;
  wd_pattr attrs[8];
  wd_audit_rec rec;
  size_t i;
  int r;
  wd_scope *sc = wd_scopes_get(b->scopes, t->scope, t->scopelen);
  (void)wd_actor_unpack(t->actor, t->actorlen, &meta);
  wd_sec_request(&c, t->actor_id, &meta, action, res, rl, "", 0, "gateway", 7,
                 target_host, topic);
  for (i = 0; i < c.rq.nattrs; i++) attrs[i] = c.rq.attrs[i];
  attrs[i].key = "via";
  attrs[i++].val = wd_pval_str("api");
  attrs[i].key = "token";
  attrs[i++].val = wd_pval_str(t->id);
  c.rq.attrs = attrs;
  c.rq.nattrs = i;
  r = wd_sec_decide(&c, sc, b->pcache, &d);
  wd__brk_stat_decision(b, -1, t->actor_id, r == WD_POLICY_ALLOW);
  wd_policy_explain(&d, why, whylen);
  if (b->audit != NULL &&
      (b->o.audit_mode == 2 || d.effect != WD_PEFFECT_ALLOW)) {
    wd_audit_rec_decision(&rec, &c.rq, &d);
    rec.host = "gateway";
    rec.scope = t->scope;
    rec.scopelen = t->scopelen;
    rec.digest = b->pdigest;
    if (audit(b, &rec) < 0) {
      snprintf(why, whylen, "the audit log cannot be written");
      r = WD_EUNAVAIL;
    }
  }
  wd_pval_clear(&meta);
  return r;
}

/* }====== */

/* {====== Answers ====== */

static int http_of(int32_t code) {
  switch (code) {
    case WD_EDENIED: return 403;
    case WD_ENOTFOUND:
    case WD_ENOACTOR: return 404;
    case WD_EINVAL: return 400;
    case WD_EEXIST: return 409;
    case WD_ETIMEOUT: return 504;
    case WD_ELIMIT:
    case WD_EMBOXFULL:
    case WD_ETOOBIG: return 429;
    case WD_EUNAVAIL: return 503;
    default: return 500;
  }
}

/* {====== Calls in flight ====== */

static uint64_t map_key(const callmap *m, const gwcall *c) {
  return m->by_call ? c->call : c->serial;
}

static size_t map_home(const callmap *m, uint64_t k) {
  return (size_t)((k * 0x9E3779B97F4A7C15ull) >> 32) & (m->cap - 1);
}

/* The slot of key 'k', or the free slot where it would go. */
static size_t map_slot(const callmap *m, uint64_t k) {
  size_t i = map_home(m, k);
  while (m->slot[i] != NULL && map_key(m, m->slot[i]) != k)
    i = (i + 1) & (m->cap - 1);
  return i;
}

static gwcall *map_get(const callmap *m, uint64_t k) {
  return m->cap == 0 ? NULL : m->slot[map_slot(m, k)];
}

/* Add 'c' (its key is not in 'm'). Returns 0 or WD_ENOMEM. */
static int map_add(callmap *m, gwcall *c) {
  if (2 * (m->n + 1) > m->cap) {
    size_t cap = m->cap ? 2 * m->cap : 64, i, old = m->cap;
    gwcall **was = m->slot;
    /* NOLINTNEXTLINE(bugprone-sizeof-expression): array of pointers */
    if ((m->slot = wd_calloc(cap, sizeof *m->slot)) == NULL) {
      m->slot = was;
      return WD_ENOMEM;
    }
    m->cap = cap;
    for (i = 0; i < old; i++)
      if (was[i] != NULL) m->slot[map_slot(m, map_key(m, was[i]))] = was[i];
    wd_free(was);
  }
  m->slot[map_slot(m, map_key(m, c))] = c;
  m->n++;
  return 0;
}

/* Remove 'c' if it is there; the entries after it in its run move back
** so that every lookup still finds its own (no tombstones). */
static void map_del(callmap *m, const gwcall *c) {
  size_t i, j, h;
  if (m->cap == 0 || m->slot[i = map_slot(m, map_key(m, c))] != c) return;
  m->slot[i] = NULL;
  m->n--;
  for (j = i;;) {
    j = (j + 1) & (m->cap - 1);
    if (m->slot[j] == NULL) return;
    h = map_home(m, map_key(m, m->slot[j]));
    /* The entry at j may fill the hole at i unless its home h lies
    ** cyclically in (i, j]. */
    if (i <= j ? (i < h && h <= j) : (i < h || h <= j)) continue;
    m->slot[i] = m->slot[j];
    m->slot[j] = NULL;
    i = j;
  }
}

static gwcall *call_find(brk_gw *g, uint64_t serial) {
  if (g == NULL) return NULL;
  return map_get(&g->byserial, serial);
}

/* }====== */

/* {====== Exec deadlines ======
** One timer serves every exec: the calls wait in a heap by deadline (then
** serial: the order in which they came; broker_dl.c), and 'dltimer' is
** armed for the earliest. A call that ends leaves the heap, not the
** timer: armed for a deadline that is gone, it fires for nothing and is
** armed for the next one (it is never later than the earliest). An empty
** heap stops it, so an idle broker holds no armed timer, as before. A
** deadline is a loop time, uv_now + ms at the request, as a timer
** started then counts: a call times out in the same loop turn as it did
** with a timer of its own.
*/
static void exec_timeout(brk_gw *g, gwcall *c);

#define DL_CALL(d) ((gwcall *)(void *)((char *)(d)-offsetof(gwcall, dl)))

static void dl_fire(uv_timer_t *t);

/* Arm the timer for the earliest deadline, unless it fires by then. */
static void dl_arm(brk_gw *g) {
  uint64_t now = uv_now(&g->b->loop), at;
  if (g->dl.n == 0) return;
  at = g->dl.d[0]->at;
  if (g->dlon && g->dlarmed <= at) return;
  g->dlon = 1;
  g->dlarmed = at;
  uv_timer_start(&g->dltimer, dl_fire, at > now ? at - now : 0, 0);
}

static void dl_fire(uv_timer_t *t) {
  brk_gw *g = t->data;
  uint64_t now = uv_now(&g->b->loop);
  g->dlon = 0;
  while (g->dl.n > 0 && g->dl.d[0]->at <= now) {
    gwcall *c = DL_CALL(g->dl.d[0]);
    wd__brk_dl_del(&g->dl, &c->dl);
    exec_timeout(g, c);
  }
  dl_arm(g);
}

static void dl_del(brk_gw *g, gwcall *c) {
  wd__brk_dl_del(&g->dl, &c->dl);
  if (g->dl.n == 0 && g->dlon) {
    uv_timer_stop(&g->dltimer);
    g->dlon = 0;
  }
}

/* }====== */

static void call_free(brk_gw *g, gwcall *c) {
  if (c->prev != NULL)
    c->prev->next = c->next;
  else
    g->calls = c->next;
  if (c->next != NULL) c->next->prev = c->prev;
  map_del(&g->byserial, c);
  map_del(&g->bycall, c);
  if (c->tok != NULL && c->tok->inflight > 0) c->tok->inflight--;
  dl_del(g, c);
  wd_free(c);
}

/* Send the answer for 'c' (once) to the gateway that asked. */
static void answer(brk_gw *g, gwcall *c, int status, const char *kind,
                   const char *msg, const char *pid, const uint8_t *val,
                   size_t vlen) {
  wd_gwanswer a;
  size_t st;
  if (c->answered) return;
  c->answered = 1;
  map_del(&g->bycall, c); /* its number is free again */
  wd__brk_stat_gw_code(g->b, c->tenant ? c->tenant : "", status);
  if (c->tok != NULL && c->tok->inflight > 0) c->tok->inflight--;
  c->tok = NULL;
  if (!g->up || c->gen != g->gen) return;
  memset(&a, 0, sizeof a);
  a.call = c->call;
  a.status = (uint32_t)status;
  a.kind = kind ? kind : "";
  a.kindlen = strlen(a.kind);
  a.msg = msg ? msg : "";
  a.msglen = strlen(a.msg);
  a.pid = pid ? pid : "";
  a.pidlen = strlen(a.pid);
  a.value = val;
  a.valuelen = vlen;
  st = wd_link_rec_begin(g->link, WD_R_GW_ANSWER);
  wd__gw_put_answer(&g->link->batch, &a);
  (void)wd_link_rec_end(g->link, st);
}

static void answer_code(brk_gw *g, gwcall *c, int32_t code, const char *msg) {
  answer(g, c, http_of(code), wd_errkind(code), msg, NULL, NULL, 0);
}

/* A request carried to a host for the front door was answered. */
void wd__brk_gw_answer(wd_broker *b, fwd *f, int32_t status, const char *s,
                       size_t n) {
  brk_gw *g = b->gw;
  gwcall *c = call_find(g, (uint64_t)(uintptr_t)f->ud);
  char msg[300];
  if (c == NULL) return;
  if (status >= 0) {
    answer(g, c, 200, NULL, NULL, NULL, NULL, 0);
  } else {
    snprintf(msg, sizeof msg, "%.*s", (int)n, s);
    answer_code(g, c, status, msg);
  }
  call_free(g, c);
}

/* }====== */

/* {====== Requests to hosts ====== */

/* TERMINATE 'pid' on host 't' for call 'c' (answered through
** wd__brk_gw_answer), or for nobody ('c' NULL). */
static int terminate(brk_gw *g, gwcall *c, hslot *t, const char *pid,
                     size_t pl) {
  wd_broker *b = g->b;
  size_t st;
  wd_buf *w;
  fwd *f = wd__brk_fwd_new(b, c ? FWD_GW : FWD_NOBODY, 0, (int)(t - b->hosts));
  if (f == NULL) return WD_ENOMEM;
  f->op = WD_OP_TERMINATE;
  f->ud = c ? (void *)(uintptr_t)c->serial : NULL;
  f->quiet = c == NULL;
  w = wd__brk_rec(t, WD_R_REQ, &st);
  wd_buf_put_u32(w, f->breq);
  wd_buf_put_u8(w, WD_OP_TERMINATE);
  wd_buf_put_str(w, "", 0);
  wd_buf_put_str(w, pid, pl);
  wd__brk_rec_done(t, st);
  return 0;
}

/* The host of PID 'pid' when it is up; NULL otherwise. */
static hslot *host_of(wd_broker *b, const char *pid, size_t pl, char *th,
                      size_t thlen) {
  const char *hid;
  size_t hl;
  uint64_t counter;
  hslot *t;
  if (wd_pid_parse(pid, pl, &hid, &hl, &counter) < 0) return NULL;
  snprintf(th, thlen, "%.*s", (int)hl, hid);
  t = wd__brk_slot_by_id(b, hid, hl);
  return t != NULL && t->up ? t : NULL;
}

/* An exec's process ended (or could not start). */
static void exec_done(wd_broker *b, void *ud, int ok, int is_false,
                      const char *text) {
  brk_gw *g = b->gw;
  gwcall *c = call_find(g, (uint64_t)(uintptr_t)ud);
  (void)is_false;
  if (c == NULL) return;
  if (c->kind == WD_GW_EXEC && c->pid[0] != '\0' && c->tenant != NULL)
    wd__brk_stat_exec(b, c->slot, c->tenant, uv_now(&b->loop) - c->t0);
  if (c->pid[0] == '\0') /* it never ran */
    answer(g, c, 503, "Unavailable", text, NULL, NULL, 0);
  else if (c->kind == WD_GW_EXEC && ok)
    answer(g, c, 200, NULL, NULL, NULL, b->exit_res, b->exit_reslen);
  else if (c->kind == WD_GW_EXEC)
    answer(g, c, 422, "Internal", text, NULL, b->exit_res, b->exit_reslen);
  call_free(g, c);
}

static void exec_pid(wd_broker *b, void *ud, const char *pid, size_t n) {
  brk_gw *g = b->gw;
  gwcall *c = call_find(g, (uint64_t)(uintptr_t)ud);
  char th[WD_PID_HOST_MAX + 1];
  hslot *t;
  if (c == NULL || n >= sizeof c->pid) return;
  memcpy(c->pid, pid, n);
  c->pid[n] = '\0';
  if (c->kind == WD_GW_SPAWN) {
    /* Answered: its end concerns nobody here. */
    answer(g, c, 201, NULL, NULL, c->pid, NULL, 0);
    call_free(g, c);
  } else if (c->answered && (t = host_of(b, pid, n, th, sizeof th)) != NULL) {
    /* It timed out before it even ran. */
    (void)terminate(g, NULL, t, pid, n);
  }
}

/* The deadline of exec call 'c' passed (dl_fire). */
static void exec_timeout(brk_gw *g, gwcall *c) {
  char th[WD_PID_HOST_MAX + 1];
  hslot *t;
  answer(g, c, 504, "Timeout", "the process did not finish in time", NULL,
         NULL, 0);
  /* The process goes; its end (exec_done) frees the call. */
  if (c->pid[0] != '\0' &&
      (t = host_of(g->b, c->pid, strlen(c->pid), th, sizeof th)) != NULL)
    (void)terminate(g, NULL, t, c->pid, strlen(c->pid));
}

/* EXEC and SPAWN: process.exec (or process.spawn) on the entry and
** process.host on its host, the ceiling of that host, then a root
** process with the token's actor and scope. */
static void req_spawn(brk_gw *g, gwcall *c, const wd_gwcall *q) {
  wd_broker *b = g->b;
  const wd_entry *e;
  char id[WD_GW_TARGET_MAX + 1], host[WD_GW_TARGET_MAX + 1], why[300],
      msg[1200];
  int act = q->kind == WD_GW_EXEC ? WD_ACT_EXEC : WD_ACT_SPAWN, r;
  hslot *t;
  uint64_t ms;
  snprintf(id, sizeof id, "%.*s", (int)q->targetlen, q->target);
  e = wd_manifest_find(b->m, id);
  if (q->hostlen > 0)
    snprintf(host, sizeof host, "%.*s", (int)q->hostlen, q->host);
  else if (e != NULL && e->kind == WD_KIND_LUA && e->u.lua.host != NULL)
    snprintf(host, sizeof host, "%s", e->u.lua.host);
  else if (b->nhosts == 1)
    snprintf(host, sizeof host, "%s", b->hosts[0].id);
  else
    host[0] = '\0';
  /* Decided before it is looked up: no answer tells a caller that may
  ** not run it whether an entry exists. */
  r = decide(g, c->tok, wd_ops_name(act), id, strlen(id), host[0] ? host : NULL,
             NULL, why, sizeof why);
  if (r == WD_POLICY_ALLOW && host[0] != '\0')
    r = decide(g, c->tok, wd_ops_name(WD_ACT_HOST), host, strlen(host), host,
               NULL, why, sizeof why);
  if (r != WD_POLICY_ALLOW) {
    snprintf(msg, sizeof msg, "permission denied: %s (%s)", id, why);
    answer_code(g, c, r == WD_EUNAVAIL ? WD_EUNAVAIL : WD_EDENIED, msg);
    return;
  }
  if (e == NULL || e->kind != WD_KIND_LUA) {
    snprintf(msg, sizeof msg, "no process.lua entry with id %s", id);
    answer_code(g, c, WD_ENOTFOUND, msg);
    return;
  }
  if (host[0] == '\0') {
    snprintf(msg, sizeof msg, "%s: the app has %d hosts; say which with "
             "\"host\"", id, b->nhosts);
    answer_code(g, c, WD_EINVAL, msg);
    return;
  }
  if ((t = wd__brk_slot_by_id(b, host, strlen(host))) == NULL) {
    snprintf(msg, sizeof msg, "host not found: %s", host);
    answer_code(g, c, WD_ENOTFOUND, msg);
    return;
  }
  if (!wd__brk_entry_on_host(e, t)) {
    snprintf(msg, sizeof msg, "entry %s runs on host %s, not %s", id,
             e->u.lua.host, host);
    answer_code(g, c, WD_EINVAL, msg);
    return;
  }
  if (!wd__brk_sec_fits(t, c->tok->actor, c->tok->actorlen, c->tok->scope,
                        c->tok->scopelen, why, sizeof why)) {
    snprintf(msg, sizeof msg, "permission denied: %s", why);
    answer_code(g, c, WD_EDENIED, msg);
    return;
  }
  if ((r = wd__brk_host_ensure(b, t, why, sizeof why)) < 0) {
    answer_code(g, c, WD_EUNAVAIL, why);
    return;
  }
  c->slot = (int)(t - b->hosts);
  if (q->kind == WD_GW_EXEC) {
    ms = q->timeout_ms ? q->timeout_ms : WD_GW_TIMEOUT_DEF_MS;
    if (ms > WD_GW_TIMEOUT_MAX_MS) ms = WD_GW_TIMEOUT_MAX_MS;
    c->dl.at = uv_now(&b->loop) + ms;
    c->dl.seq = c->serial;
    if (wd__brk_dl_add(&g->dl, &c->dl) < 0) {
      answer_code(g, c, WD_ENOMEM, "out of memory");
      return;
    }
    dl_arm(g);
  }
  r = wd__brk_spawn_as(b, e, t, c->tok->actor, c->tok->actorlen, c->tok->scope,
                       c->tok->scopelen, q->value, q->valuelen, exec_done,
                       exec_pid, (void *)(uintptr_t)c->serial, 0);
  if (r < 0) {
    answer_code(g, c, r, "cannot spawn");
    c->slot = -1;
  }
}

/* SEND: process.send on the PID (a name is resolved first, when the
** caller may look it up: otherwise it is a name nobody holds). */
static void req_send(brk_gw *g, gwcall *c, const wd_gwcall *q) {
  wd_broker *b = g->b;
  char dest[WD_GW_TARGET_MAX + 1], th[WD_PID_HOST_MAX + 1],
      tp[WD_TOPIC_MAX + 1], why[300], msg[1200];
  const char *hid, *pid = dest;
  size_t hl;
  uint64_t counter;
  hslot *t;
  fwd *f;
  wd_buf *w;
  size_t st;
  int r;
  snprintf(dest, sizeof dest, "%.*s", (int)q->targetlen, q->target);
  if (q->topiclen == 0 || q->topic[0] == '@' || q->topiclen > WD_TOPIC_MAX) {
    answer_code(g, c, WD_EINVAL, "topic: empty, reserved ('@') or too long");
    return;
  }
  snprintf(tp, sizeof tp, "%.*s", (int)q->topiclen, q->topic);
  if (wd_pid_parse(dest, strlen(dest), &hid, &hl, &counter) < 0) {
    name *x;
    r = decide(g, c->tok, wd_ops_name(WD_ACT_LOOKUP), dest, strlen(dest),
               NULL, NULL, why, sizeof why);
    x = r == WD_POLICY_ALLOW ? wd__brk_name_get(b, dest, strlen(dest)) : NULL;
    if (r == WD_EUNAVAIL) {
      answer_code(g, c, WD_EUNAVAIL, why);
      return;
    }
    if (x == NULL || x->pid[0] == '\0') {
      snprintf(msg, sizeof msg, "could not resolve '%s' as PID or registered "
               "name", dest);
      answer_code(g, c, WD_ENOTFOUND, msg);
      return;
    }
    pid = x->pid;
  }
  t = host_of(b, pid, strlen(pid), th, sizeof th);
  r = decide(g, c->tok, wd_ops_name(WD_ACT_SEND), pid, strlen(pid), th, tp,
             why, sizeof why);
  if (r != WD_POLICY_ALLOW) {
    snprintf(msg, sizeof msg, "permission denied: process.send on %s (%s)",
             pid, why);
    answer_code(g, c, r == WD_EUNAVAIL ? WD_EUNAVAIL : WD_EDENIED, msg);
    return;
  }
  if (t == NULL && wd__brk_inbox_is(pid, strlen(pid))) {
    r = wd__brk_inbox_deliver(b, "", 0, pid, strlen(pid), q->topic,
                              q->topiclen, q->value, q->valuelen, msg,
                              sizeof msg);
    if (r < 0)
      answer_code(g, c, r, msg);
    else
      answer(g, c, 200, NULL, NULL, NULL, NULL, 0);
    return;
  }
  if (t == NULL) {
    snprintf(msg, sizeof msg, "process not found: %s", pid);
    answer_code(g, c, WD_ENOTFOUND, msg);
    return;
  }
  if (t->he->u.host.limits.link_queue != 0 &&
      wd_link_backlog(t->link) >= t->he->u.host.limits.link_queue) {
    snprintf(msg, sizeof msg, "host %s is not reading (link queue full)",
             t->id);
    answer_code(g, c, WD_EUNAVAIL, msg);
    return;
  }
  if ((f = wd__brk_fwd_new(b, FWD_GW, 0, (int)(t - b->hosts))) == NULL) {
    answer_code(g, c, WD_ENOMEM, "out of memory");
    return;
  }
  f->op = WD_OP_SEND;
  f->ud = (void *)(uintptr_t)c->serial;
  w = wd__brk_rec(t, WD_R_REQ, &st);
  wd_buf_put_u32(w, f->breq);
  wd_buf_put_u8(w, WD_OP_SEND);
  wd_buf_put_str(w, "", 0);
  wd_buf_put_str(w, pid, strlen(pid));
  wd_buf_put_str(w, q->topic, q->topiclen);
  wd_buf_put(w, q->value, q->valuelen);
  wd__brk_rec_done(t, st);
}

/* KILL: process.terminate on the PID. */
static void req_kill(brk_gw *g, gwcall *c, const wd_gwcall *q) {
  char pid[WD_GW_TARGET_MAX + 1], th[WD_PID_HOST_MAX + 1], why[300],
      msg[1200];
  hslot *t;
  int r;
  int inbox;
  snprintf(pid, sizeof pid, "%.*s", (int)q->targetlen, q->target);
  inbox = wd__brk_inbox_is(pid, strlen(pid));
  /* An inbox's terminate is decided as a script's is (target_host api). */
  r = decide(g, c->tok, wd_ops_name(WD_ACT_TERMINATE), pid, strlen(pid),
             inbox ? "api" : NULL, NULL, why, sizeof why);
  if (r != WD_POLICY_ALLOW) {
    snprintf(msg, sizeof msg, "permission denied: process.terminate on %s "
             "(%s)", pid, why);
    answer_code(g, c, r == WD_EUNAVAIL ? WD_EUNAVAIL : WD_EDENIED, msg);
    return;
  }
  if (inbox) { /* ends it with an error, as a script's terminate does */
    if (wd__brk_inbox_kill(g->b, pid, strlen(pid)) == 0) {
      answer(g, c, 200, NULL, NULL, NULL, NULL, 0);
    } else {
      snprintf(msg, sizeof msg, "process not found: %s", pid);
      answer_code(g, c, WD_ENOTFOUND, msg);
    }
    return;
  }
  if ((t = host_of(g->b, pid, strlen(pid), th, sizeof th)) == NULL) {
    snprintf(msg, sizeof msg, "process not found: %s", pid);
    answer_code(g, c, WD_ENOTFOUND, msg);
    return;
  }
  if (terminate(g, c, t, pid, strlen(pid)) < 0)
    answer_code(g, c, WD_ENOMEM, "out of memory");
}

/* GET /v1/processes, /v1/hosts, /metrics: ward.status on "status", all
** or nothing (a token allowed it sees every tenant); the hosts are asked
** in broker_gw_status.c, which answers through wd__brk_gw_status_done. */
static void req_status(brk_gw *g, gwcall *c) {
  char why[300], msg[1200];
  int r = decide(g, c->tok, wd_ops_name(WD_ACT_STATUS), "status", 6, NULL,
                 NULL, why, sizeof why);
  if (r != WD_POLICY_ALLOW) {
    snprintf(msg, sizeof msg, "permission denied: status (%s)", why);
    answer_code(g, c, r == WD_EUNAVAIL ? WD_EUNAVAIL : WD_EDENIED, msg);
    return;
  }
  c->slot = 0; /* not answered yet: on_call keeps it */
  if (wd__brk_stat_start(g->b, c->kind, c->serial) < 0) {
    answer_code(g, c, WD_ENOMEM, "out of memory");
    c->slot = -1;
  }
}

void wd__brk_gw_status_done(wd_broker *b, uint64_t serial, int status,
                            const uint8_t *val, size_t vlen) {
  brk_gw *g = b->gw;
  gwcall *c = call_find(g, serial);
  if (c == NULL) return;
  if (status == 200)
    answer(g, c, 200, NULL, NULL, NULL, val, vlen);
  else
    answer_code(g, c, WD_ENOMEM, "out of memory");
  call_free(g, c);
}

/* {====== For inbox streams (broker_inbox.c) ====== */

int wd__brk_gw_decide(wd_broker *b, uint64_t serial, const char *action,
                      const char *res, size_t rl, const char *target_host,
                      char *why, size_t whylen) {
  gwcall *c = call_find(b->gw, serial);
  if (c == NULL || c->tok == NULL) return WD_EDENIED;
  return decide(b->gw, c->tok, action, res, rl, target_host, NULL, why,
                whylen);
}

void wd__brk_gw_reply(wd_broker *b, uint64_t serial, int32_t code,
                      const char *msg, const char *pid) {
  gwcall *c = call_find(b->gw, serial);
  if (c == NULL) return;
  if (code < 0)
    answer_code(b->gw, c, code, msg);
  else
    answer(b->gw, c, 200, NULL, NULL, pid, NULL, 0);
}

wd_link *wd__brk_gw_link(wd_broker *b, uint64_t *gen) {
  brk_gw *g = b->gw;
  if (g == NULL || !g->up || g->link == NULL) return NULL;
  *gen = g->gen;
  return g->link;
}

/* }====== */

/* RELOAD and DEPLOY: ward.policy.reload on "policies", ward.deploy on
** the namespace, then the change itself (broker_reload.c,
** broker_gw_deploy.c), which checks everything before it changes
** anything. Answers {"digest"} or {"namespace", "revision"}; 422 with
** every error, one a line of the message. */
static void req_change(brk_gw *g, gwcall *c, const wd_gwcall *q) {
  int reload = q->kind == WD_GW_RELOAD, r;
  char res[WD_GW_TARGET_MAX + 1], why[300], msg[1200], out[80];
  wd_buf errs, val;
  if (reload)
    snprintf(res, sizeof res, "policies");
  else
    snprintf(res, sizeof res, "%.*s", (int)q->targetlen, q->target);
  r = decide(g, c->tok, wd_ops_name(reload ? WD_ACT_POLICY_RELOAD
                                           : WD_ACT_DEPLOY),
             res, strlen(res), NULL, NULL, why, sizeof why);
  if (r != WD_POLICY_ALLOW) {
    snprintf(msg, sizeof msg, "permission denied: %s (%s)", res, why);
    answer_code(g, c, r == WD_EUNAVAIL ? WD_EUNAVAIL : WD_EDENIED, msg);
    return;
  }
  wd_buf_init(&errs, 1u << 16);
  if (reload)
    r = wd__brk_reload(g->b, "api", &errs, out);
  else
    r = wd__brk_deploy(g->b, res, q->value, q->valuelen, &errs, out,
                       sizeof out);
  if (r == 0) {
    wd_buf_init(&val, 0);
    wd_codec_put_header(&val, 1);
    wd_codec_put_table(&val, 0, reload ? 1 : 2);
    if (!reload) {
      wd_codec_put_str(&val, "namespace", 9);
      wd_codec_put_str(&val, res, strlen(res));
    }
    wd_codec_put_str(&val, reload ? "digest" : "revision", reload ? 6 : 8);
    wd_codec_put_str(&val, out, strlen(out));
    answer(g, c, 200, NULL, NULL, NULL, val.p, val.len);
    wd_buf_close(&val);
  } else {
    wd_buf_put_u8(&errs, 0);
    answer(g, c, r == WD_EINVAL ? 422 : http_of(r),
           r == WD_EINVAL ? "Invalid" : wd_errkind(r),
           errs.p ? (const char *)errs.p : "", NULL, NULL, 0);
  }
  wd_buf_close(&errs);
}

/* {====== Requests from the gateway ====== */

/* Does 'secret' match token 't'? Its BLAKE2b hash (the tokens file's)
** costs two BLAKE2b blocks, a fifth of the broker's work on an exec, and
** a client sends the same secret on every request: once a secret has
** matched, its SipHash-128 under a key drawn at start, never shown to
** anyone, stands for it, and a secret whose SipHash equals it passes
** (a wrong secret would have to hit 128 unknown bits). Anything else
** gets the full hash; every request's secret is checked either way. */
static int secret_ok(brk_gw *g, gwtoken *t, const char *secret, size_t n) {
  uint8_t sip[crypto_shorthash_siphashx24_BYTES], key[32];
  int r;
  crypto_shorthash_siphashx24(sip, (const unsigned char *)secret, n, g->sipkey);
  if (t->seen && sodium_memcmp(sip, t->sip, sizeof sip) == 0) {
    r = 1;
  } else {
    wd__token_key(secret, n, key);
    r = sodium_memcmp(key, t->key, sizeof key) == 0;
    sodium_memzero(key, sizeof key);
    if (r) {
      memcpy(t->sip, sip, sizeof sip);
      t->seen = 1;
    }
  }
  sodium_memzero(sip, sizeof sip);
  return r;
}

/* The token of a bearer credential "ID:SECRET", or NULL after answering
** 401 and logging the id it claimed. */
static gwtoken *authenticate(brk_gw *g, gwcall *c, const wd_gwcall *q) {
  const char *colon = memchr(q->bearer, ':', q->bearerlen);
  char claimed[129];
  const char *why;
  size_t i, il = colon ? (size_t)(colon - q->bearer) : 0;
  gwtoken *t = NULL;
  /* What it claimed, printable, without the secret. */
  for (i = 0; i < il && i < sizeof claimed - 1; i++)
    claimed[i] = isalnum((unsigned char)q->bearer[i]) ||
                         strchr("_.-", q->bearer[i]) != NULL
                     ? q->bearer[i]
                     : '?';
  claimed[i] = '\0';
  if (q->bearerlen == 0) {
    why = "no token";
  } else if (colon == NULL) {
    why = "malformed token (ID:SECRET)";
  } else {
    for (i = 0; i < g->ntoks && t == NULL; i++)
      if (strlen(g->toks[i].id) == il &&
          memcmp(g->toks[i].id, q->bearer, il) == 0)
        t = &g->toks[i];
    why = t == NULL ? "unknown token" : "wrong secret";
    if (t != NULL) {
      if (secret_ok(g, t, colon + 1, q->bearerlen - il - 1)) return t;
      t = NULL;
    }
  }
  if (audit_auth(g, claimed, why) < 0)
    answer_code(g, c, WD_EUNAVAIL, "the audit log cannot be written");
  else /* the client learns not whether the id exists; the log does */
    answer(g, c, 401, "PermissionDenied",
           q->bearerlen == 0 ? "no token" : "invalid token", NULL, NULL, 0);
  return NULL;
}

static int on_call(brk_gw *g, wd_cur *body) {
  wd_gwcall q;
  gwcall *c;
  if (wd__gw_get_call(body, &q) < 0) return WD_EBADFRAME;
  /* The values must be codec bytes of the right count (a deploy's are
  ** files, read with bounds in broker_gw_deploy.c). */
  if ((q.kind != WD_GW_DEPLOY && wd_codec_count(q.value, q.valuelen) < 0) ||
      (q.kind == WD_GW_SEND && wd_codec_count(q.value, q.valuelen) != 1))
    return WD_EBADFRAME;
  /* (gw_down frees every call: those here are this gateway's.) */
  if (map_get(&g->bycall, q.call) != NULL)
    return WD_EBADFRAME; /* a number still in use */
  if ((c = wd_calloc(1, sizeof *c)) == NULL) return WD_ENOMEM;
  c->serial = ++g->next_serial;
  c->call = q.call;
  c->gen = g->gen;
  c->kind = q.kind;
  c->slot = -1;
  if (map_add(&g->byserial, c) < 0 || map_add(&g->bycall, c) < 0) {
    map_del(&g->byserial, c);
    wd_free(c);
    return WD_ENOMEM;
  }
  c->next = g->calls;
  if (g->calls != NULL) g->calls->prev = c;
  g->calls = c;
  c->t0 = uv_now(&g->b->loop);
  if ((c->tok = authenticate(g, c, &q)) == NULL) {
    call_free(g, c);
    return 0;
  }
  c->tenant = c->tok->actor_id;
  if (c->tok->inflight >= g->o.max_inflight) {
    c->tok = NULL;
    answer_code(g, c, WD_ELIMIT, "too many requests in flight for this token");
    call_free(g, c);
    return 0;
  }
  c->tok->inflight++;
  switch (q.kind) {
    case WD_GW_EXEC:
    case WD_GW_SPAWN:
      req_spawn(g, c, &q);
      break;
    case WD_GW_SEND:
      req_send(g, c, &q);
      break;
    case WD_GW_PS:
    case WD_GW_HOSTS:
    case WD_GW_METRICS:
      req_status(g, c);
      break;
    case WD_GW_INBOX:
      wd__brk_inbox_open(g->b, c->serial, c->call, c->gen, c->tok->id,
                         q.target, q.targetlen);
      break;
    case WD_GW_RELOAD:
    case WD_GW_DEPLOY:
      req_change(g, c, &q);
      break;
    default:
      req_kill(g, c, &q);
      break;
  }
  /* Answered at once (refused): done. Else an answer or exit comes. */
  if (c->answered && c->slot < 0) call_free(g, c);
  return 0;
}

static int gw_on_rec(wd_link *l, uint8_t rtype, wd_cur *body) {
  brk_gw *g = l->data;
  g->alive = g->wclock; /* any record is a sign of life */
  if (rtype == WD_R_BEAT) {
    g->beaten = 1;
    return 0;
  }
  if (rtype == WD_R_GW_CALL) return on_call(g, body);
  if (rtype == WD_R_GW_END) return wd__brk_inbox_on_end(g->b, g->gen, body);
  if (rtype == WD_R_GW_COUNT) return wd__brk_stat_gw_count(g->b, body);
  if (rtype == WD_R_GW_ACK) return wd__brk_inbox_on_ack(g->b, g->gen, body);
  return WD_EBADFRAME;
}

/* }====== */

/* {====== The gateway process ====== */

static void gw_start(wd_broker *b, void *ud, int fired);

static void link_closed(uv_handle_t *h) {
  wd_free(h->data);
}

/* Take the gateway down: kill it, forget what it asked (its clients'
** connections went with it), restart it after a pause. */
static void gw_down(brk_gw *g, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static void gw_down(brk_gw *g, const char *fmt, ...) {
  wd_broker *b = g->b;
  char why[200];
  va_list ap;
  uint64_t delay;
  va_start(ap, fmt);
  vsnprintf(why, sizeof why, fmt, ap);
  va_end(ap);
  if (!g->up) return;
  g->up = 0;
  if (!b->stopping) fprintf(stderr, "ward: gateway: %s\n", why);
  wd__brk_sec_event(b, WD_AUDIT_HOST_DEATH, "gateway", (long)g->ospid, why);
  if (g->pid > 0) {
    kill(g->pid, SIGKILL);
    if (b->ndying < (int)WD_COUNTOF(b->dying)) b->dying[b->ndying++] = g->pid;
    g->pid = 0;
  }
  if (g->link != NULL) {
    g->link->poll.data = g->link;
    wd_link_close(g->link, link_closed);
    g->link = NULL;
  }
  wd__brk_inbox_gw_down(b); /* its inbox streams end */
  /* Exec requests in flight end: nobody waits for their result. */
  while (g->calls != NULL) {
    gwcall *c = g->calls;
    char th[WD_PID_HOST_MAX + 1];
    hslot *t;
    if (c->kind == WD_GW_EXEC && !c->answered && c->pid[0] != '\0' &&
        (t = host_of(b, c->pid, strlen(c->pid), th, sizeof th)) != NULL)
      (void)terminate(g, NULL, t, c->pid, strlen(c->pid));
    call_free(g, c);
  }
  if (b->stopping) return;
  if (uv_now(&b->loop) - g->started > 10000) g->restarts = 0;
  delay = 50u << (g->restarts < 6 ? g->restarts : 6);
  g->restarts++;
  wd_broker_after(b, delay, gw_start, g);
}

static void gw_on_fail(wd_link *l, int code, const char *why) {
  brk_gw *g = l->data;
  int i, st;
  /* An end of file usually means it is dying: wait ~50 ms for the cause
  ** (as broker_host.c does for a host). */
  for (i = 0; code == 0 && g->pid > 0 && i < 50; i++) {
    if (waitpid(g->pid, &st, WNOHANG) == g->pid) {
      wd__brk_gw_reaped(g->b, g->pid, st);
      break;
    }
    usleep(1000);
  }
  if (code == 0)
    gw_down(g, "%s", g->why[0] ? g->why : "closed its link");
  else
    gw_down(g, "bad frame (%s): killed", why);
}

int wd__brk_gw_reaped(wd_broker *b, pid_t pid, int st) {
  brk_gw *g = b->gw;
  if (g == NULL || pid != g->pid || pid <= 0) return 0;
  g->pid = 0;
  if (WIFSIGNALED(st))
    snprintf(g->why, sizeof g->why, "crashed: killed by signal %d (%s)",
             WTERMSIG(st), strsignal(WTERMSIG(st)));
  else
    snprintf(g->why, sizeof g->why, "exited with status %d",
             WEXITSTATUS(st));
  /* What it sent last is read first (even if reading was paused); the
  ** end of file takes it down. */
  if (g->up && (g->link == NULL || g->link->failed)) gw_down(g, "%s", g->why);
  else if (g->link != NULL) wd_link_peer_gone(g->link);
  return 1;
}

/* The program of the gateway: ward itself, or (test binaries only, see
** broker_host.c 'host_exe') a test program in place of host "gateway". */
static const char *gw_exe(wd_broker *b) {
  if (b->o.test_host != NULL && b->o.test_exe != NULL &&
      strcmp(b->o.test_host, "gateway") == 0)
    return b->o.test_exe;
  return b->o.exe;
}

static int gw_spawn(brk_gw *g, char *err, size_t errlen) {
  wd_broker *b = g->b;
  int sv[2], r, i;
  uint8_t keys[65 + WD_SBX_PARAMS_LEN];
  uint64_t index = b->next_index++;
  pid_t pid;
  wd_sbx_params sp;
  wd_gwinit gi;
  size_t st;
  static char *env[] = { NULL };
  char nl[8];
  memset(&sp, 0, sizeof sp);
  sp.address_space = 1ull << 30;
  if (b->o.require_sandbox) sp.flags |= WD_SBX_REQUIRE_ALL;
  if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) != 0) {
    snprintf(err, errlen, "socketpair: %s", strerror(errno));
    return -errno;
  }
  wd_link_tune_socket(sv[0]);
  wd_link_tune_socket(sv[1]);
  keys[0] = WD_F_KEYS;
  wd_ipc_derive(b->master, index, WD_IPC_DIR_TO_HOST, keys + 1);
  wd_ipc_derive(b->master, index, WD_IPC_DIR_TO_BROKER, keys + 33);
  snprintf(nl, sizeof nl, "%d", g->nfds);
  fflush(stdout);
  fflush(stderr);
  pid = wd__fork_host(&sp.pidns_err);
  if (pid < 0) {
    snprintf(err, errlen, "fork: %s", strerror(errno));
    close(sv[0]);
    close(sv[1]);
    sodium_memzero(keys, sizeof keys);
    return WD_EUNAVAIL;
  }
  if (pid == 0) {
    char *argv[4];
    int hi[MAX_LISTEN + 1];
    argv[0] = (char *)"ward";
    argv[1] = (char *)"gateway";
    argv[2] = nl;
    argv[3] = NULL;
    sodium_memzero(keys, sizeof keys);
    if (prctl(PR_SET_PDEATHSIG, SIGKILL) != 0) _exit(127);
    /* Out of the way first, then in place: link 3, listeners 4.. */
    if ((hi[0] = fcntl(sv[1], F_DUPFD, 64)) < 0) _exit(127);
    for (i = 0; i < g->nfds; i++)
      if ((hi[i + 1] = fcntl(g->fds[i], F_DUPFD, 64)) < 0) _exit(127);
    for (i = 0; i <= g->nfds; i++)
      if (dup2(hi[i], 3 + i) != 3 + i) _exit(127);
    execve(gw_exe(b), argv, env);
    _exit(127);
  }
  close(sv[1]);
  g->pid = g->ospid = pid;
  g->why[0] = '\0';
  wd_sbx_params_put(keys + 65, &sp);
  do
    r = (int)send(sv[0], keys, sizeof keys, MSG_NOSIGNAL);
  while (r == -1 && errno == EINTR);
  g->link = wd_calloc(1, sizeof *g->link);
  if (r != (int)sizeof keys || g->link == NULL ||
      wd_link_init(&b->loop, g->link, sv[0], keys + 1, keys + 33) < 0) {
    sodium_memzero(keys, sizeof keys);
    snprintf(err, errlen, "cannot set up the link to the gateway");
    kill(pid, SIGKILL);
    wd_free(g->link);
    g->link = NULL;
    close(sv[0]);
    return WD_EUNAVAIL;
  }
  sodium_memzero(keys, sizeof keys);
  g->link->data = g;
  g->link->on_rec = gw_on_rec;
  g->link->on_fail = gw_on_fail;
  g->up = 1;
  g->gen++;
  g->started = uv_now(&b->loop);
  g->alive = g->wclock;
  g->beaten = 0;
  gi.max_header = g->o.max_header;
  gi.max_body = g->o.max_body;
  gi.read_ms = g->o.read_ms;
  gi.idle_ms = g->o.idle_ms;
  gi.max_conns = g->o.max_conns;
  gi.max_per_token = g->o.max_per_token;
  st = wd_link_rec_begin(g->link, WD_R_GW_INIT);
  wd__gw_put_init(&g->link->batch, &gi);
  (void)wd_link_rec_end(g->link, st);
  wd__brk_sec_event(b, WD_AUDIT_HOST_START, "gateway", (long)pid, "started");
  if (b->o.verbose)
    fprintf(stderr, "ward: gateway started (pid %d)\n", (int)pid);
  return 0;
}

static void gw_start(wd_broker *b, void *ud, int fired) {
  brk_gw *g = ud;
  char err[200];
  if (!fired || b->stopping || g->up) return;
  if (gw_spawn(g, err, sizeof err) < 0) {
    fprintf(stderr, "ward: gateway: restart failed: %s\n", err);
    wd_broker_after(b, 1000, gw_start, g);
  } else {
    fprintf(stderr, "ward: gateway: restarted\n");
  }
}

/*
** Liveness (as broker.c 'liveness' for a host): every WD_HEARTBEAT_MS the
** watch clock advances (at most 2 heartbeats a tick, so a broker that was
** itself stopped or starved does not blame the gateway); a gateway with no
** record (a heartbeat or any other) for GW_LIVENESS_MS of it is stopped
** or stuck: killed (host_death), its calls and streams end, restarted.
*/
static void gw_watch(uv_timer_t *t) {
  brk_gw *g = t->data;
  uint64_t now = uv_now(&g->b->loop), dt = now - g->wlast, limit;
  g->wlast = now;
  g->wclock += dt < 2 * WD_HEARTBEAT_MS ? dt : 2 * WD_HEARTBEAT_MS;
  if (!g->up || g->pid <= 0 || g->b->stopping) return;
  limit = g->beaten ? GW_LIVENESS_MS : 2 * GW_LIVENESS_MS;
  if (g->wclock - g->alive > limit)
    gw_down(g, "unresponsive: no heartbeat for %llu ms (liveness): killed",
            (unsigned long long)(g->wclock - g->alive));
}

void wd__brk_gw_stop(wd_broker *b) {
  brk_gw *g = b->gw;
  if (g == NULL) return;
  if (g->watching) uv_close((uv_handle_t *)&g->watch, NULL);
  g->watching = 0;
  gw_down(g, "ward is shutting down");
  if (g->dlinit) uv_close((uv_handle_t *)&g->dltimer, NULL);
  g->dlinit = 0;
  if (g->flushing) uv_close((uv_handle_t *)&g->flush, NULL);
  g->flushing = 0;
}

/* Like the hosts' links, the gateway's is flushed once per loop turn. */
static void on_flush(uv_prepare_t *p) {
  brk_gw *g = p->data;
  if (g->up && g->link != NULL) wd_link_flush(g->link);
}

void wd__brk_gw_free(wd_broker *b) {
  brk_gw *g = b->gw;
  int i;
  if (g == NULL) return;
  wd__brk_stat_free(b);
  while (g->calls != NULL) call_free(g, g->calls);
  wd_free(g->byserial.slot);
  wd_free(g->bycall.slot);
  wd__brk_dl_free(&g->dl);
  for (i = 0; i < g->nfds; i++) {
    close(g->fds[i]);
    if (g->paths[i] != NULL) unlink(g->paths[i]);
    wd_free(g->paths[i]);
  }
  free_tokens(g);
  sodium_memzero(g->sipkey, sizeof g->sipkey);
  wd_doc_free(g->doc);
  wd_free(g);
  b->gw = NULL;
}

/* }====== */

int wd_broker_serve(wd_broker *b, const wd_serve_opts *o, char *err,
                    size_t errlen) {
  brk_gw *g;
  int i, r;
  if (o->nlisten < 1 || o->nlisten > MAX_LISTEN) {
    snprintf(err, errlen, "--listen: 1 to %d addresses", MAX_LISTEN);
    return WD_EINVAL;
  }
  if (o->tokens == NULL) {
    snprintf(err, errlen, "--listen needs --tokens FILE");
    return WD_EINVAL;
  }
  if ((g = wd_calloc(1, sizeof *g)) == NULL) return WD_ENOMEM;
  g->bycall.by_call = 1;
  randombytes_buf(g->sipkey, sizeof g->sipkey);
  g->b = b;
  g->o = *o;
  b->gw = g;
  if ((r = load_tokens(g, o->tokens, err, errlen)) < 0) goto fail;
  for (i = 0; i < o->nlisten; i++) {
    r = wd__brk_listen(o->listen[i], o->listen_any, &g->fds[g->nfds],
                       &g->paths[g->nfds], err, errlen);
    if (r < 0) goto fail;
    g->nfds++;
  }
  if ((r = gw_spawn(g, err, errlen)) < 0) goto fail;
  uv_prepare_init(&b->loop, &g->flush);
  g->flush.data = g;
  uv_prepare_start(&g->flush, on_flush);
  uv_unref((uv_handle_t *)&g->flush);
  g->flushing = 1;
  uv_timer_init(&b->loop, &g->watch);
  g->watch.data = g;
  g->wlast = uv_now(&b->loop);
  uv_timer_start(&g->watch, gw_watch, WD_HEARTBEAT_MS, WD_HEARTBEAT_MS);
  uv_unref((uv_handle_t *)&g->watch);
  g->watching = 1;
  uv_timer_init(&b->loop, &g->dltimer);
  g->dltimer.data = g;
  g->dlinit = 1;
  return 0;
fail:
  wd__brk_gw_free(b);
  return r;
}
