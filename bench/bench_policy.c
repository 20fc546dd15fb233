/*
** bench/bench_policy.c
** Decisions per second and nanoseconds per decision of the policy engine
** for scopes of 1, 100, 1,000 and 10,000 policies (half with conditions),
** through the index (uncached), through a per-process cache, and by the
** plain scan for comparison. Standalone: no CMake target.
**
** Build and run (from the repository root):
**   cc -O2 -D_GNU_SOURCE -Iinclude bench/bench_policy.c policy/[a-z]*.c \
**     runtime/common.c runtime/buf.c runtime/node.c -o bench_policy
**   ./bench_policy
**
** The policy mix imitates a multi-tenant manifest: per-tenant allows on
** exact entry ids and PID prefixes, a few wide "process.*" and "*"
** policies, one deny in five; conditions read actor meta, the topic and the
** caller's pid (eq, in, matches, exists). Requests are drawn from the same
** tenants, so some match and some do not.
*/
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ward/wd_policy.h"

static uint64_t g_rng = 88172645463325252ULL;

static uint32_t rnd(uint32_t n) {
  g_rng ^= g_rng << 13;
  g_rng ^= g_rng >> 7;
  g_rng ^= g_rng << 17;
  return (uint32_t)(g_rng % n);
}

/* {====== Node trees built by hand (policy/ takes wd_node, not YAML) ====== */

static void *xrealloc(void *p, size_t n) {
  if ((p = realloc(p, n)) == NULL) abort();
  return p;
}

static wd_node *scalar(const char *s) {
  wd_node *n = xrealloc(NULL, sizeof *n);
  memset(n, 0, sizeof *n);
  n->type = WD_NODE_SCALAR;
  n->file = "bench";
  n->line = n->col = 1;
  if ((n->str = strdup(s)) == NULL) abort();
  n->len = strlen(s);
  return n;
}

static wd_node *coll(int type) {
  wd_node *n = xrealloc(NULL, sizeof *n);
  memset(n, 0, sizeof *n);
  n->type = type;
  n->file = "bench";
  n->line = n->col = 1;
  return n;
}

/* Append 'v' to a sequence, or 'key: v' to a map. */
static void add_kid(wd_node *m, const char *key, wd_node *v) {
  /* NOLINTNEXTLINE(bugprone-sizeof-expression): arrays of pointers */
  m->kids = xrealloc(m->kids, (m->n + 1) * sizeof *m->kids);
  if (m->type == WD_NODE_MAP && key != NULL) {
    /* NOLINTNEXTLINE(bugprone-sizeof-expression): arrays of pointers */
    m->keys = xrealloc(m->keys, (m->n + 1) * sizeof *m->keys);
    m->keys[m->n] = scalar(key);
  }
  m->kids[m->n++] = v;
}

static wd_node *cond(const char *f, const char *op, wd_node *v) {
  wd_node *c = coll(WD_NODE_MAP);
  add_kid(c, "field", scalar(f));
  add_kid(c, "operator", scalar(op));
  add_kid(c, "value", v);
  return c;
}

static void node_free(wd_node *n) {
  size_t i;
  if (n == NULL) return;
  for (i = 0; i < n->n; i++) {
    if (n->keys != NULL) node_free(n->keys[i]);
    node_free(n->kids[i]);
  }
  free(n->keys);
  free(n->kids);
  free(n->str);
  free(n);
}

/* }====================================================================== */

static const char *const k_actions[] = {
  "process.send",
  "process.spawn",
  "process.spawn.linked",
  "process.spawn.monitored",
  "process.link",
  "process.unlink",
  "process.monitor",
  "process.terminate",
  "process.cancel",
  "process.host",
  "process.registry.register",
  "process.exec",
};
#define NACT ((uint32_t)(sizeof k_actions / sizeof k_actions[0]))

static unsigned ntenants(size_t n) {
  return n / 10 > 0 ? (unsigned)(n / 10) : 1;
}

static wd_node *gen_policy(size_t i, size_t n) {
  wd_node *p = coll(WD_NODE_MAP), *conds;
  unsigned t = (unsigned)(i % ntenants(n));
  char buf[96];
  uint32_t r = rnd(100);
  if (r < 80)
    add_kid(p, "actions", scalar(k_actions[rnd(NACT)]));
  else if (r < 92)
    add_kid(p, "actions", scalar("process.spawn*"));
  else if (r < 99)
    add_kid(p, "actions", scalar("process.*"));
  else
    add_kid(p, "actions", scalar("*"));
  r = rnd(100);
  if (r < 50) {
    snprintf(buf, sizeof buf, "{tenant%u:processes|*", t);
  } else if (r < 95) {
    snprintf(buf, sizeof buf, "tenant%u:worker%u", t, rnd(8));
  } else {
    snprintf(buf, sizeof buf, "*");
  }
  add_kid(p, "resources", scalar(buf));
  add_kid(p, "effect", scalar(rnd(5) == 0 ? "deny" : "allow"));
  /* A policy on every resource is always about one tenant's actors. */
  if (i % 2 == 1 || buf[0] == '*') {
    conds = coll(WD_NODE_SEQ);
    snprintf(buf, sizeof buf, "tenant%u", t);
    add_kid(conds, NULL, cond("actor.meta.tenant", "eq", scalar(buf)));
    switch (rnd(3)) {
      case 0: {
        wd_node *l = coll(WD_NODE_SEQ);
        add_kid(l, NULL, scalar("admin"));
        add_kid(l, NULL, scalar("ops"));
        add_kid(conds, NULL, cond("actor.meta.role", "in", l));
        break;
      }
      case 1:
        add_kid(conds, NULL, cond("topic", "matches", scalar("^orders[.]")));
        break;
      default:
        add_kid(conds, NULL, cond("meta.pid", "exists", scalar("true")));
        break;
    }
    add_kid(p, "conditions", conds);
  }
  return p;
}

/* A request from tenant 't'. */
typedef struct Req {
  wd_preq rq;
  wd_pattr meta[2];
  wd_pval metav;
  wd_pattr attrs[3];
  char actor[32], tenant[32], res[64], pid[64];
} Req;

static void gen_req(Req *r, size_t n) {
  static const char *const roles[] = { "admin", "ops", "user" };
  static const char *const topics[] = { "orders.new", "invoices", "ping" };
  unsigned t = rnd(ntenants(n));
  memset(r, 0, sizeof *r);
  snprintf(r->actor, sizeof r->actor, "user%u@tenant%u", rnd(50), t);
  snprintf(r->tenant, sizeof r->tenant, "tenant%u", t);
  snprintf(r->pid, sizeof r->pid, "{tenant%u:processes|0x%05x}", t, rnd(64));
  if (rnd(2))
    snprintf(r->res, sizeof r->res, "{tenant%u:processes|0x%05x}", t,
             rnd(4096));
  else
    snprintf(r->res, sizeof r->res, "tenant%u:worker%u", t, rnd(10));
  r->meta[0].key = "tenant";
  r->meta[0].val = wd_pval_str(r->tenant);
  r->meta[1].key = "role";
  r->meta[1].val = wd_pval_str(roles[rnd(3)]);
  r->metav = wd_pval_map(r->meta, 2);
  r->attrs[0].key = "pid";
  r->attrs[0].val = wd_pval_str(r->pid);
  r->attrs[1].key = "host";
  r->attrs[1].val = wd_pval_str("app:processes");
  r->attrs[2].key = "topic";
  r->attrs[2].val = wd_pval_str(topics[rnd(3)]);
  r->rq.actor_id = r->actor;
  r->rq.actor_meta = &r->metav;
  r->rq.action = k_actions[rnd(NACT)];
  r->rq.resource = r->res;
  r->rq.attrs = r->attrs;
  r->rq.nattrs = 3;
}

static double now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

#define NREQ    4096
#define WORKSET 64 /* distinct requests one process repeats */

enum { UNCACHED, CACHED, SCAN };

/* Median over 5 runs of ns per decision; the share allowed and, cached,
** the hit rate. */
static double measure(int mode, const wd_scope *sc, Req *reqs, long iters,
                      int *allows, double *hitrate) {
  double runs[5], t0, tmp;
  int k, i, j;
  long it;
  wd_pcache *c = NULL;
  volatile int sink = 0;
  if (mode == CACHED && wd_pcache_new(256, &c) != 0) abort();
  for (k = 0; k < 5; k++) {
    t0 = now();
    for (it = 0; it < iters; it++) {
      const wd_preq *rq =
          mode == CACHED ? &reqs[it % WORKSET].rq : &reqs[it % NREQ].rq;
      int r = mode == UNCACHED ? wd_policy_check(sc, rq, NULL)
              : mode == CACHED ? wd_pcache_check(c, sc, rq, NULL)
                               : wd_policy_check_scan(sc, rq, NULL);
      sink += r == 0;
    }
    runs[k] = (now() - t0) * 1e9 / (double)iters;
  }
  for (i = 0; i < 5; i++)
    for (j = i + 1; j < 5; j++)
      if (runs[j] < runs[i]) {
        tmp = runs[i];
        runs[i] = runs[j];
        runs[j] = tmp;
      }
  if (allows != NULL) *allows = sink / 5;
  *hitrate = 0;
  if (c != NULL) {
    uint64_t hits, misses;
    wd_pcache_stats(c, &hits, &misses);
    *hitrate = 100.0 * (double)hits / (double)(hits + misses);
  }
  wd_pcache_free(c);
  return runs[2];
}

int main(void) {
  static const size_t sizes[] = { 1, 100, 1000, 10000 };
  static Req reqs[NREQ];
  size_t si;
  printf("%-9s %-9s %12s %12s %8s\n", "policies", "mode", "ns/decision",
         "decisions/s", "allowed");
  for (si = 0; si < sizeof sizes / sizeof sizes[0]; si++) {
    size_t n = sizes[si], i;
    wd_policy_set *s;
    wd_scope *sc;
    char id[32], err[256];
    const char **names = malloc(n * sizeof *names);
    const char *modes[] = { "uncached", "cached", "scan" };
    int m;
    if (wd_policy_set_new(&s) != 0) abort();
    for (i = 0; i < n; i++) {
      wd_node *p = gen_policy(i, n);
      snprintf(id, sizeof id, "bench:p%zu", i);
      if (wd_policy_add(s, id, "bench", p, NULL, err, sizeof err) != 0) {
        fprintf(stderr, "%s\n", err);
        abort();
      }
      node_free(p);
      names[i] = wd_policy_set_id(s, i);
    }
    if (wd_scope_new(s, names, n, &sc, err, sizeof err) != 0) abort();
    for (i = 0; i < NREQ; i++)
      gen_req(&reqs[i], n);
    for (m = UNCACHED; m <= SCAN; m++) {
      long iters = m == SCAN ? (long)(2000000 / (n + 10)) + 1000 : 2000000;
      int allows;
      double hr, ns = measure(m, sc, reqs, iters, &allows, &hr);
      printf("%-9zu %-9s %12.1f %12.0f %7.1f%%", n, modes[m], ns, 1e9 / ns,
             100.0 * allows / (double)iters);
      if (m == CACHED) printf("  (hits %.2f%%)", hr);
      printf("\n");
    }
    wd_scope_release(sc);
    wd_policy_set_free(s);
    free(names);
  }
  return 0;
}
