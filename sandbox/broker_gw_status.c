/*
** sandbox/broker_gw_status.c
** Observing a serving ward (ARCHITECTURE.md §12): GET /v1/processes,
** GET /v1/hosts and GET /metrics, broker side. broker_gw.c has decided
** ward.status for the caller (all or nothing: a token allowed it sees
** every tenant's processes and counters) and hands the request here. The
** broker asks each host that is up what it runs (STATUS, a request of
** the operation table only the broker sends; the host answers at once
** with at most WD_STAT_PROCS processes and says how many it had), waits
** for every answer (a host that dies or times out answers Unavailable
** and is shown without processes), and answers the gateway with a value
** (processes, hosts) or the Prometheus text (metrics).
**
** Counters are kept where the events happen: hosts count spawns,
** messages and their own decisions (runtime/hstat.c) and report them
** with the STATUS answer; the broker counts here its decisions (API
** requests and what crosses hosts), host restarts, exec durations and
** the answers it gave the gateway, by HTTP code. They exist only while
** ward serves (--listen), one cell per (host, tenant), at most
** WD_STAT_CELLS; later pairs share the cell of tenant "_other".
** Runs in: broker.
*/
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "ward/wd_codec.h"
#include "ward/wd_link.h"
#include "ward/wd_manifest.h"
#include "ward/wd_proto.h"

#include "broker_int.h"
#include "deploy_int.h"
#include "gateway.h"

#define WD_STAT_CELLS 256
#define WD_STAT_PROCS 10000u /* per host, per answer */
#define TENANT_MAX 128
/* The rows of processes one answer holds: below the link's bound for a
** record (WD_LINK_REC_MIN), with room for the rest. */
#define PS_BYTES (3u << 20)

/* Exec durations (seconds): the histogram's upper bounds. */
static const double exec_le[] = { 0.001, 0.005, 0.01, 0.05, 0.1,
                                  0.5,   1,     5,    30 };
#define NLE (sizeof exec_le / sizeof exec_le[0])

/* The HTTP codes the broker and the gateway answer with; the rest count
** as "other" (so a lying gateway adds no series). */
static const int codes[] = { 200, 201, 400, 401, 403, 404, 405, 408,
                             413, 422, 429, 431, 500, 503, 504 };
#define NCODES (sizeof codes / sizeof codes[0])

typedef struct cell {
  int slot; /* host index; -1: the gateway (API decisions, answers) */
  char tenant[TENANT_MAX];
  uint64_t allow, deny;
  uint64_t exec_n, exec_b[NLE];
  double exec_sum;
  uint64_t code[NCODES + 1];
} cell;

/* A status request waiting for its hosts. */
typedef struct collect {
  struct collect *next;
  uint64_t id;
  uint64_t serial; /* the API call (broker_gw.c) */
  int kind;        /* WD_GW_PS, WD_GW_HOSTS or WD_GW_METRICS */
  int waiting;
  int *got;        /* per host: 0 not asked, 1 asked, 2 answered */
  wd_buf *ans;     /* per host: its answer's bytes (status >= 0) */
} collect;

typedef struct brk_stat {
  cell cells[WD_STAT_CELLS];
  int ncells;
  uint64_t *restarts; /* per host */
  collect *pending;
  uint64_t next_id;
} brk_stat;

/* {====== Counters ====== */

static brk_stat *stat_of(wd_broker *b) {
  brk_stat *st = b->stat;
  if (b->gw == NULL) return NULL; /* not serving: nothing is counted */
  if (st != NULL) return st;
  if ((st = wd_calloc(1, sizeof *st)) == NULL) return NULL;
  st->restarts = wd_calloc((size_t)(b->nhosts ? b->nhosts : 1),
                           sizeof *st->restarts);
  if (st->restarts == NULL) {
    wd_free(st);
    return NULL;
  }
  st->cells[0].slot = -2; /* "_other" on any host */
  memcpy(st->cells[0].tenant, "_other", sizeof "_other");
  st->ncells = 1;
  b->stat = st;
  return st;
}

static cell *cell_of(wd_broker *b, int slot, const char *tenant) {
  brk_stat *st = stat_of(b);
  size_t n = tenant != NULL ? strlen(tenant) : 0;
  int i;
  if (st == NULL) return NULL;
  if (n >= TENANT_MAX) n = TENANT_MAX - 1;
  for (i = 1; i < st->ncells; i++)
    if (st->cells[i].slot == slot &&
        strncmp(st->cells[i].tenant, tenant, n) == 0 &&
        st->cells[i].tenant[n] == '\0')
      return &st->cells[i];
  if (st->ncells == WD_STAT_CELLS) return &st->cells[0];
  st->cells[i].slot = slot;
  if (n > 0) memcpy(st->cells[i].tenant, tenant, n);
  st->cells[i].tenant[n] = '\0';
  st->ncells++;
  return &st->cells[i];
}

void wd__brk_stat_decision(wd_broker *b, int slot, const char *tenant,
                           int allowed) {
  cell *c = cell_of(b, slot, tenant);
  if (c == NULL) return;
  if (allowed)
    c->allow++;
  else
    c->deny++;
}

void wd__brk_stat_gw_code(wd_broker *b, const char *tenant, int status) {
  cell *c = cell_of(b, -1, tenant);
  size_t i;
  if (c == NULL) return;
  for (i = 0; i < NCODES && codes[i] != status; i++) continue;
  c->code[i]++;
}

/* The gateway's own answers: it may lie about how many, but it can only
** move the counters of no tenant, within the bounds the decoder checks
** (and only while serving: 'b->stat' is made on the first count). */
int wd__brk_stat_gw_count(wd_broker *b, wd_cur *body) {
  wd_gwcount k;
  cell *c;
  uint32_t i;
  size_t j;
  if (wd__gw_get_count(body, &k) < 0) return WD_EBADFRAME;
  if ((c = cell_of(b, -1, "")) == NULL) return 0;
  for (i = 0; i < k.n; i++) {
    for (j = 0; j < NCODES && codes[j] != (int)k.status[i]; j++)
      continue;
    c->code[j] += k.count[i];
  }
  return 0;
}

void wd__brk_stat_exec(wd_broker *b, int slot, const char *tenant,
                       uint64_t ms) {
  cell *c = cell_of(b, slot, tenant);
  double s = (double)ms / 1000.0;
  size_t i;
  if (c == NULL) return;
  c->exec_n++;
  c->exec_sum += s;
  for (i = 0; i < NLE; i++)
    if (s <= exec_le[i]) c->exec_b[i]++;
}

void wd__brk_stat_restart(wd_broker *b, int slot) {
  brk_stat *st = stat_of(b);
  if (st != NULL && slot >= 0 && slot < b->nhosts) st->restarts[slot]++;
}

static void collect_free(collect *x) {
  wd_free(x->got);
  if (x->ans != NULL) {
    wd_free(x->ans);
  }
  wd_free(x);
}

void wd__brk_stat_free(wd_broker *b) {
  brk_stat *st = b->stat;
  int i;
  if (st == NULL) return;
  while (st->pending != NULL) {
    collect *x = st->pending;
    st->pending = x->next;
    for (i = 0; i < b->nhosts; i++) wd_buf_close(&x->ans[i]);
    collect_free(x);
  }
  wd_free(st->restarts);
  wd_free(st);
  b->stat = NULL;
}

/* }====== */

/* {====== Reading the hosts' answers ====== */

/* One process row of a host's answer. */
typedef struct prow {
  const char *pid, *entry, *actor;
  size_t pidlen, entrylen, actorlen;
  uint64_t mailbox, mem, cpu_ns;
} prow;

typedef struct trow {
  const char *id;
  size_t idlen;
  uint64_t spawns, in, out, allow, deny;
} trow;

static int get_prow(wd_cur *c, prow *p) {
  return wd_cur_str(c, &p->pid, &p->pidlen) ||
                 wd_cur_str(c, &p->entry, &p->entrylen) ||
                 wd_cur_str(c, &p->actor, &p->actorlen) ||
                 wd_cur_u64(c, &p->mailbox) || wd_cur_u64(c, &p->mem) ||
                 wd_cur_u64(c, &p->cpu_ns)
             ? WD_EBADFRAME
             : 0;
}

static int get_trow(wd_cur *c, trow *t) {
  return wd_cur_str(c, &t->id, &t->idlen) || wd_cur_u64(c, &t->spawns) ||
                 wd_cur_u64(c, &t->in) || wd_cur_u64(c, &t->out) ||
                 wd_cur_u64(c, &t->allow) || wd_cur_u64(c, &t->deny)
             ? WD_EBADFRAME
             : 0;
}

/* Check a host's answer whole; a malformed one is a bad frame (the host
** is killed, as for any record it gets wrong). */
static int check_answer(const uint8_t *p, size_t n, uint32_t *total,
                        uint32_t *listed) {
  wd_cur c;
  uint32_t i, nt;
  prow pr;
  trow tr;
  wd_cur_init(&c, p, n);
  if (wd_cur_u32(&c, total) || wd_cur_u32(&c, listed) || *listed > *total ||
      *listed > WD_STAT_PROCS)
    return WD_EBADFRAME;
  for (i = 0; i < *listed; i++)
    if (get_prow(&c, &pr) < 0) return WD_EBADFRAME;
  if (wd_cur_u32(&c, &nt) || nt > WD_STATUS_TENANTS) return WD_EBADFRAME;
  for (i = 0; i < nt; i++)
    if (get_trow(&c, &tr) < 0) return WD_EBADFRAME;
  return wd_cur_left(&c) == 0 ? 0 : WD_EBADFRAME;
}

/* Strings from hosts and tokens go out printable: JSON wants UTF-8 and
** Prometheus labels want no quotes or backslashes. */
static void put_clean(wd_buf *w, const char *s, size_t n, int label) {
  size_t i;
  for (i = 0; i < n; i++) {
    unsigned char ch = (unsigned char)s[i];
    if (ch < 0x20 || ch >= 0x7f || (label && (ch == '"' || ch == '\\')))
      ch = '?';
    wd_buf_put_u8(w, ch);
  }
}

static void codec_clean(wd_buf *w, const char *s, size_t n) {
  wd_buf t;
  wd_buf_init(&t, 0);
  put_clean(&t, s, n, 0);
  wd_codec_put_str(w, t.p ? (const char *)t.p : "", t.len);
  wd_buf_close(&t);
}

static void codec_key(wd_buf *w, const char *k) {
  wd_codec_put_str(w, k, strlen(k));
}

/* }====== */

/* {====== Answers: processes, hosts ====== */

static void answer_ps(wd_broker *b, collect *x, wd_buf *out) {
  wd_buf rows;
  uint64_t total = 0, nrows = 0;
  int s, truncated = 0;
  wd_buf_init(&rows, 0);
  for (s = 0; s < b->nhosts; s++) {
    wd_cur c;
    uint32_t t, listed, i;
    if (x->got[s] != 2 || x->ans[s].len == 0) continue;
    wd_cur_init(&c, x->ans[s].p, x->ans[s].len);
    (void)wd_cur_u32(&c, &t);
    (void)wd_cur_u32(&c, &listed);
    total += t;
    if (listed < t) truncated = 1;
    for (i = 0; i < listed; i++) {
      prow p;
      (void)get_prow(&c, &p);
      if (rows.len > PS_BYTES) {
        truncated = 1;
        break;
      }
      wd_codec_put_table(&rows, 0, 7);
      codec_key(&rows, "pid");
      codec_clean(&rows, p.pid, p.pidlen);
      codec_key(&rows, "entry");
      codec_clean(&rows, p.entry, p.entrylen);
      codec_key(&rows, "host");
      codec_clean(&rows, b->hosts[s].id, b->hosts[s].idlen);
      codec_key(&rows, "actor");
      codec_clean(&rows, p.actor, p.actorlen);
      codec_key(&rows, "mailbox");
      wd_codec_put_int(&rows, (int64_t)p.mailbox);
      codec_key(&rows, "memory");
      wd_codec_put_int(&rows, (int64_t)p.mem);
      codec_key(&rows, "cpu_ms");
      wd_codec_put_num(&rows, (double)p.cpu_ns / 1e6);
      nrows++;
    }
  }
  wd_codec_put_header(out, 1);
  wd_codec_put_table(out, 0, 4);
  codec_key(out, "processes");
  wd_codec_put_table(out, nrows, 0);
  wd_buf_put(out, rows.p, rows.len);
  codec_key(out, "total");
  wd_codec_put_int(out, (int64_t)total);
  codec_key(out, "truncated");
  wd_codec_put_bool(out, truncated);
  codec_key(out, "limit");
  wd_codec_put_int(out, (int64_t)WD_STAT_PROCS);
  wd_buf_close(&rows);
}

static const char *host_state(wd_broker *b, int s) {
  const hslot *h = &b->hosts[s];
  if (h->up) return "up";
  if (h->ospid != 0 && h->he->u.host.restart && !b->stopping)
    return "restarting";
  return "down";
}

static void answer_hosts(wd_broker *b, collect *x, wd_buf *out) {
  brk_stat *st = b->stat;
  int s;
  wd_codec_put_header(out, 1);
  wd_codec_put_table(out, 0, 1);
  codec_key(out, "hosts");
  wd_codec_put_table(out, (uint64_t)b->nhosts, 0);
  for (s = 0; s < b->nhosts; s++) {
    uint32_t t = 0;
    wd_codec_put_table(out, 0, 5);
    codec_key(out, "id");
    codec_clean(out, b->hosts[s].id, b->hosts[s].idlen);
    codec_key(out, "pid");
    wd_codec_put_int(out, b->hosts[s].up ? (int64_t)b->hosts[s].ospid : 0);
    codec_key(out, "state");
    codec_key(out, host_state(b, s));
    codec_key(out, "restarts");
    wd_codec_put_int(out, st ? (int64_t)st->restarts[s] : 0);
    codec_key(out, "processes");
    if (x->got[s] == 2 && x->ans[s].len >= 4) {
      wd_cur c;
      wd_cur_init(&c, x->ans[s].p, x->ans[s].len);
      (void)wd_cur_u32(&c, &t);
    }
    wd_codec_put_int(out, (int64_t)t);
  }
}

/* }====== */

/* {====== Answers: metrics (Prometheus text format 0.0.4) ====== */

static void mput(wd_buf *w, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static void mput(wd_buf *w, const char *fmt, ...) {
  char line[512];
  va_list ap;
  int n;
  va_start(ap, fmt);
  n = vsnprintf(line, sizeof line, fmt, ap);
  va_end(ap);
  if (n > 0) wd_buf_put(w, line, (size_t)n < sizeof line ? (size_t)n
                                                         : sizeof line - 1);
}

static void head(wd_buf *w, const char *metric, const char *type,
                 const char *help) {
  mput(w, "# HELP %s %s\n# TYPE %s %s\n", metric, help, metric, type);
}

/* '{host="H",tenant="T"' (no closing brace). */
static void labels(wd_buf *w, const char *host, size_t hl, const char *t,
                   size_t tl) {
  mput(w, "{host=\"");
  put_clean(w, host, hl, 1);
  mput(w, "\",tenant=\"");
  put_clean(w, t, tl, 1);
  mput(w, "\"");
}

/* What one host said per tenant, summed with its listed processes. */
typedef struct agg {
  trow t;
  uint64_t procs, mailbox, mem;
} agg;

static int host_aggs(collect *x, int s, agg *a, int max) {
  wd_cur c;
  uint32_t total, listed, nt, i;
  int n = 0, k;
  prow *rows = NULL;
  if (x->got[s] != 2 || x->ans[s].len == 0) return 0;
  wd_cur_init(&c, x->ans[s].p, x->ans[s].len);
  (void)wd_cur_u32(&c, &total);
  (void)wd_cur_u32(&c, &listed);
  rows = wd_calloc(listed ? listed : 1, sizeof *rows);
  if (rows == NULL) return 0;
  for (i = 0; i < listed; i++) (void)get_prow(&c, &rows[i]);
  (void)wd_cur_u32(&c, &nt);
  for (i = 0; i < nt && n < max; i++) {
    memset(&a[n], 0, sizeof a[n]);
    (void)get_trow(&c, &a[n].t);
    n++;
  }
  /* A process counts for its tenant's row, or "_other" (row 0). */
  for (i = 0; i < listed && n > 0; i++) {
    size_t al = rows[i].actorlen < WD_STATUS_ID - 1 ? rows[i].actorlen
                                                   : WD_STATUS_ID - 1;
    for (k = n - 1; k > 0; k--)
      if (a[k].t.idlen == al && memcmp(a[k].t.id, rows[i].actor, al) == 0)
        break;
    a[k].procs++;
    a[k].mailbox += rows[i].mailbox;
    a[k].mem += rows[i].mem;
  }
  wd_free(rows);
  return n;
}

#define HOST_METRIC(metric, type, help, field)                                   \
  do {                                                                         \
    head(out, metric, type, help);                                             \
    for (s = 0; s < b->nhosts; s++) {                                          \
      agg *a = aggs + (size_t)s * WD_STATUS_TENANTS;                        \
      for (k = 0; k < naggs[s]; k++) {                                         \
        mput(out, "%s", metric);                                               \
        labels(out, b->hosts[s].id, b->hosts[s].idlen, a[k].t.id,              \
               a[k].t.idlen);                                                  \
        mput(out, "} %llu\n", (unsigned long long)(field));                    \
      }                                                                        \
    }                                                                          \
  } while (0)

static const char *cell_host(wd_broker *b, const cell *c, size_t *n) {
  const char *h = c->slot >= 0 ? b->hosts[c->slot].id
                  : c->slot == -1 ? "gateway"
                                  : "_other";
  *n = c->slot >= 0 ? b->hosts[c->slot].idlen : strlen(h);
  return h;
}

static void cell_metrics(wd_broker *b, wd_buf *out) {
  brk_stat *st = b->stat;
  int i;
  size_t j, hl;
  const char *h;
  if (st == NULL) return;
  head(out, "ward_broker_decisions_total", "counter",
       "Policy decisions the broker made (API requests, calls across "
       "hosts), by result.");
  for (i = 0; i < st->ncells; i++) {
    const cell *c = &st->cells[i];
    h = cell_host(b, c, &hl);
    mput(out, "ward_broker_decisions_total");
    labels(out, h, hl, c->tenant, strlen(c->tenant));
    mput(out, ",result=\"allow\"} %llu\n", (unsigned long long)c->allow);
    mput(out, "ward_broker_decisions_total");
    labels(out, h, hl, c->tenant, strlen(c->tenant));
    mput(out, ",result=\"deny\"} %llu\n", (unsigned long long)c->deny);
  }
  head(out, "ward_exec_duration_seconds", "histogram",
       "Time from an API exec request to its process's end.");
  for (i = 0; i < st->ncells; i++) {
    const cell *c = &st->cells[i];
    if (c->exec_n == 0) continue;
    h = cell_host(b, c, &hl);
    for (j = 0; j < NLE; j++) {
      mput(out, "ward_exec_duration_seconds_bucket");
      labels(out, h, hl, c->tenant, strlen(c->tenant));
      mput(out, ",le=\"%g\"} %llu\n", exec_le[j],
           (unsigned long long)c->exec_b[j]);
    }
    mput(out, "ward_exec_duration_seconds_bucket");
    labels(out, h, hl, c->tenant, strlen(c->tenant));
    mput(out, ",le=\"+Inf\"} %llu\n", (unsigned long long)c->exec_n);
    mput(out, "ward_exec_duration_seconds_sum");
    labels(out, h, hl, c->tenant, strlen(c->tenant));
    mput(out, "} %.6f\n", c->exec_sum);
    mput(out, "ward_exec_duration_seconds_count");
    labels(out, h, hl, c->tenant, strlen(c->tenant));
    mput(out, "} %llu\n", (unsigned long long)c->exec_n);
  }
  head(out, "ward_gateway_requests_total", "counter",
       "API requests answered (by the broker, or by the gateway itself: "
       "those count with no tenant), by HTTP code.");
  /* The gateway's cells, and cell 0 ("_other"), where the tenants past
  ** the cap count. */
  for (i = 0; i < st->ncells; i++) {
    const cell *c = &st->cells[i];
    if (c->slot != -1 && i != 0) continue;
    for (j = 0; j <= NCODES; j++) {
      if (c->code[j] == 0) continue;
      mput(out, "ward_gateway_requests_total{tenant=\"");
      put_clean(out, c->tenant, strlen(c->tenant), 1);
      if (j < NCODES)
        mput(out, "\",code=\"%d\"} %llu\n", codes[j],
             (unsigned long long)c->code[j]);
      else
        mput(out, "\",code=\"other\"} %llu\n",
             (unsigned long long)c->code[j]);
    }
  }
}

static void answer_metrics(wd_broker *b, collect *x, wd_buf *res) {
  agg *aggs;
  int *naggs, s, k;
  wd_buf t, *out = &t;
  aggs = wd_calloc((size_t)(b->nhosts ? b->nhosts : 1) *
                       WD_STATUS_TENANTS, sizeof *aggs);
  naggs = wd_calloc((size_t)(b->nhosts ? b->nhosts : 1), sizeof *naggs);
  wd_buf_init(&t, 0);
  if (aggs != NULL && naggs != NULL) {
    for (s = 0; s < b->nhosts; s++)
      naggs[s] = host_aggs(x, s, aggs + (size_t)s * WD_STATUS_TENANTS,
                           WD_STATUS_TENANTS);
    head(out, "ward_host_up", "gauge", "1 if the host process is up.");
    for (s = 0; s < b->nhosts; s++) {
      mput(out, "ward_host_up{host=\"");
      put_clean(out, b->hosts[s].id, b->hosts[s].idlen, 1);
      mput(out, "\"} %d\n", b->hosts[s].up ? 1 : 0);
    }
    head(out, "ward_host_restarts_total", "counter",
         "Times the host was restarted after it died.");
    for (s = 0; s < b->nhosts; s++) {
      mput(out, "ward_host_restarts_total{host=\"");
      put_clean(out, b->hosts[s].id, b->hosts[s].idlen, 1);
      mput(out, "\"} %llu\n",
           b->stat ? (unsigned long long)b->stat->restarts[s] : 0ull);
    }
    HOST_METRIC("ward_processes", "gauge",
                "Processes running (of those the host listed).", a[k].procs);
    HOST_METRIC("ward_spawns_total", "counter", "Processes spawned.",
                a[k].t.spawns);
    HOST_METRIC("ward_messages_in_total", "counter",
                "Messages delivered to a mailbox.", a[k].t.in);
    HOST_METRIC("ward_messages_out_total", "counter", "Messages sent.",
                a[k].t.out);
    HOST_METRIC("ward_host_decisions_allow_total", "counter",
                "Policy decisions a host made that allowed.", a[k].t.allow);
    HOST_METRIC("ward_host_decisions_deny_total", "counter",
                "Policy decisions a host made that denied.", a[k].t.deny);
    HOST_METRIC("ward_mailbox_depth", "gauge",
                "Messages waiting in the processes' mailboxes.",
                a[k].mailbox);
    HOST_METRIC("ward_memory_bytes", "gauge",
                "Bytes the processes' Lua states hold.", a[k].mem);
    cell_metrics(b, out);
    head(out, "ward_deploy_revisions_held", "gauge",
         "Deployed revisions the broker holds in memory: the current "
         "one, and an earlier one while a service of it still runs.");
    mput(out, "ward_deploy_revisions_held %d\n", wd__brk_dep_held(b));
  }
  wd_codec_put_header(res, 1);
  wd_codec_put_str(res, t.p ? (const char *)t.p : "", t.len);
  if (t.err) res->err = t.err;
  wd_buf_close(&t);
  wd_free(aggs);
  wd_free(naggs);
}

/* }====== */

/* {====== Asking the hosts ====== */

static void finish(wd_broker *b, collect *x) {
  brk_stat *st = b->stat;
  collect **pp;
  wd_buf out;
  int s;
  for (pp = &st->pending; *pp != NULL; pp = &(*pp)->next)
    if (*pp == x) {
      *pp = x->next;
      break;
    }
  wd_buf_init(&out, 0);
  if (x->kind == WD_GW_PS)
    answer_ps(b, x, &out);
  else if (x->kind == WD_GW_HOSTS)
    answer_hosts(b, x, &out);
  else
    answer_metrics(b, x, &out);
  if (out.err)
    wd__brk_gw_status_done(b, x->serial, 500, NULL, 0);
  else
    wd__brk_gw_status_done(b, x->serial, 200, out.p, out.len);
  wd_buf_close(&out);
  for (s = 0; s < b->nhosts; s++) wd_buf_close(&x->ans[s]);
  collect_free(x);
}

static collect *collect_find(wd_broker *b, uint64_t id) {
  collect *x;
  if (b->stat == NULL) return NULL;
  for (x = b->stat->pending; x != NULL; x = x->next)
    if (x->id == id) return x;
  return NULL;
}

static void finish_later(wd_broker *b, void *ud, int fired) {
  collect *x = collect_find(b, (uint64_t)(uintptr_t)ud);
  if (fired && x != NULL) finish(b, x); /* else wd__brk_stat_free frees */
}

int wd__brk_stat_start(wd_broker *b, int kind, uint64_t serial) {
  brk_stat *st = stat_of(b);
  collect *x;
  int s;
  if (st == NULL || (x = wd_calloc(1, sizeof *x)) == NULL) return WD_ENOMEM;
  x->got = wd_calloc((size_t)(b->nhosts ? b->nhosts : 1), sizeof *x->got);
  x->ans = wd_calloc((size_t)(b->nhosts ? b->nhosts : 1), sizeof *x->ans);
  if (x->got == NULL || x->ans == NULL) {
    collect_free(x);
    return WD_ENOMEM;
  }
  x->id = ++st->next_id;
  x->serial = serial;
  x->kind = kind;
  x->next = st->pending;
  st->pending = x;
  for (s = 0; s < b->nhosts; s++) {
    hslot *t = &b->hosts[s];
    size_t at;
    wd_buf *w;
    fwd *f;
    wd_buf_init(&x->ans[s], 0);
    if (!t->up) continue;
    if ((f = wd__brk_fwd_new(b, FWD_STATUS, 0, s)) == NULL) continue;
    f->op = WD_OP_STATUS;
    f->ud = (void *)(uintptr_t)x->id;
    w = wd__brk_rec(t, WD_R_REQ, &at);
    wd_buf_put_u32(w, f->breq);
    wd_buf_put_u8(w, WD_OP_STATUS);
    wd_buf_put_u32(w, WD_STAT_PROCS);
    wd__brk_rec_done(t, at);
    x->got[s] = 1;
    x->waiting++;
  }
  /* Answered in a later turn, never from inside the call. */
  if (x->waiting == 0)
    wd_broker_after(b, 0, finish_later, (void *)(uintptr_t)x->id);
  return 0;
}

int wd__brk_stat_check(const char *s, size_t n) {
  uint32_t total, listed;
  return check_answer((const uint8_t *)s, n, &total, &listed);
}

/* A host answered STATUS (checked: wd__brk_stat_check), or failed to
** (died, timed out): it is shown without processes. */
void wd__brk_stat_reply(wd_broker *b, fwd *f, int32_t status, const char *s,
                        size_t n) {
  collect *x = collect_find(b, (uint64_t)(uintptr_t)f->ud);
  if (x == NULL || f->target < 0 || f->target >= b->nhosts ||
      x->got[f->target] != 1)
    return;
  x->got[f->target] = 2;
  if (status >= 0) wd_buf_put(&x->ans[f->target], s, n);
  if (--x->waiting == 0) finish(b, x);
}

/* }====== */
