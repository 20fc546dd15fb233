/*
** tests/fuzz/fuzz_policy.c
** libFuzzer target for the policy loader and engine. A tiny deterministic
** decoder turns the input bytes into wd_node trees (mostly policy-shaped,
** with words from a dictionary, sometimes raw bytes), loads up to four
** policies, then checks requests built from the remaining bytes and aborts
** when the index disagrees with the plain scan, the cache with the
** uncached check, or a decision with its own invariants.
**
** Build and run (from the repository root):
**   clang -g -O1 -fsanitize=fuzzer,address,undefined -D_GNU_SOURCE \
**     -Iinclude tests/fuzz/fuzz_policy.c policy/[a-z]*.c runtime/common.c \
**     runtime/buf.c runtime/node.c -o fuzz_policy
**   mkdir -p corpus && ./fuzz_policy -max_total_time=60 corpus \
**     tests/fuzz/corpus/policy
*/
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ward/wd_policy.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

typedef struct In {
  const uint8_t *p;
  size_t n, i;
} In;

/* Next byte, or 0 when the input is exhausted (so decoding terminates). */
static uint8_t byte(In *in) {
  return in->i < in->n ? in->p[in->i++] : 0;
}

static const char *const k_words[] = {
  "*",
  "process.*",
  "process.send",
  "process.spawn*",
  "a*",
  ".*",
  "a.*",
  "allow",
  "deny",
  "permit",
  "eq",
  "ne",
  "lt",
  "gt",
  "lte",
  "gte",
  "in",
  "nin",
  "exists",
  "nexists",
  "contains",
  "ncontains",
  "matches",
  "nmatches",
  "actor.id",
  "actor.meta.role",
  "actor.meta",
  "actor.meta.a.b",
  "meta.topic",
  "meta.m.k",
  "topic",
  "pid",
  "action",
  "resource",
  "actor",
  "meta",
  "actor.x",
  "true",
  "false",
  "null",
  "~",
  "",
  "1",
  "5",
  "-2.5",
  "1e999",
  "007",
  "(ab",
  "^a+$",
  "[[:alpha:]]+",
  "a|b",
  "x{2,3}",
  "field",
  "operator",
  "value",
  "value_from",
  "actions",
  "resources",
  "effect",
  "conditions",
  "app:g",
  "g",
  "admin",
  "{app:p|0x1}",
  "orders",
};
static const char *const k_pkeys[] = {
  "actions", "resources", "effect", "conditions", "x",
};
static const char *const k_ckeys[] = {
  "field", "operator", "value", "value_from", "y",
};

static wd_node *node_new(int type, In *in) {
  wd_node *n = calloc(1, sizeof *n);
  if (n == NULL) abort();
  n->type = type;
  n->file = "fuzz.yaml";
  n->line = 1 + (int)(in->i / 16);
  n->col = 1 + (int)(in->i % 16);
  return n;
}

static wd_node *scalar_of(In *in, const char *s, size_t len) {
  wd_node *n = node_new(WD_NODE_SCALAR, in);
  if ((n->str = malloc(len + 1)) == NULL) abort();
  memcpy(n->str, s, len);
  n->str[len] = '\0';
  n->len = len;
  return n;
}

static wd_node *word(In *in) {
  uint8_t b = byte(in);
  const char *w = k_words[b % WD_COUNTOF(k_words)];
  wd_node *n = scalar_of(in, w, strlen(w));
  n->quoted = (b & 0x80) != 0;
  return n;
}

static void push(wd_node *m, wd_node *k, wd_node *v) {
  /* NOLINTNEXTLINE(bugprone-sizeof-expression): arrays of pointers */
  wd_node **kids = realloc(m->kids, (m->n + 1) * sizeof *kids);
  if (kids == NULL) abort();
  m->kids = kids;
  if (m->type == WD_NODE_MAP) {
    /* NOLINTNEXTLINE(bugprone-sizeof-expression): arrays of pointers */
    wd_node **keys = realloc(m->keys, (m->n + 1) * sizeof *keys);
    if (keys == NULL) abort();
    m->keys = keys;
    m->keys[m->n] = k;
  }
  m->kids[m->n++] = v;
}

static wd_node *any(In *in, int depth);

/* A map whose keys come mostly from 'keys' (policy or condition keys). */
static wd_node *keyed(In *in, int depth, const char *const *keys,
                      size_t nkeys) {
  wd_node *m = node_new(WD_NODE_MAP, in);
  size_t i, cnt = byte(in) % 6;
  for (i = 0; i < cnt; i++) {
    uint8_t b = byte(in);
    wd_node *k = (b & 0xe0) == 0xe0
                     ? word(in)
                     : scalar_of(in, keys[b % nkeys], strlen(keys[b % nkeys]));
    push(m, k, any(in, depth + 1));
  }
  return m;
}

static wd_node *any(In *in, int depth) {
  uint8_t b = byte(in);
  size_t i, cnt;
  wd_node *n;
  if (depth > 6) b = 0;
  switch (b % 8) {
    case 4: { /* raw bytes, NULs included */
      size_t len = byte(in) % 24;
      char buf[24];
      for (i = 0; i < len; i++)
        buf[i] = (char)byte(in);
      n = scalar_of(in, buf, len);
      n->quoted = (b & 0x80) != 0;
      return n;
    }
    case 5:
      n = node_new(WD_NODE_SEQ, in);
      cnt = byte(in) % 5;
      for (i = 0; i < cnt; i++)
        push(n, NULL, any(in, depth + 1));
      return n;
    case 6:
      return keyed(in, depth, k_ckeys, WD_COUNTOF(k_ckeys));
    case 7:
      return keyed(in, depth, k_pkeys, WD_COUNTOF(k_pkeys));
    default:
      return word(in);
  }
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

static void lint_cb(const wd_plint *f, void *ud) {
  (void)ud;
  if (f->id == NULL || f->msg == NULL || f->file == NULL) abort();
}

static void same(const wd_pdecision *a, const wd_pdecision *b) {
  size_t i;
  if (a->effect != b->effect || a->reason != b->reason || a->nids != b->nids ||
      a->more != b->more)
    abort();
  for (i = 0; i < a->nids; i++)
    if (strcmp(a->ids[i], b->ids[i]) != 0) abort();
  if ((a->reason == WD_REASON_ALLOWED ||
       a->reason == WD_REASON_DENIED_BY_POLICY) != (a->nids > 0))
    abort();
}

static const char *str_of(In *in) {
  return k_words[byte(in) % WD_COUNTOF(k_words)];
}

static void requests(In *in, const wd_scope *sc, wd_pcache *c) {
  wd_pattr inner[1], meta[3], attrs[4];
  wd_pval metav, list[2];
  int k;
  for (k = 0; k < 16 && in->i < in->n; k++) {
    wd_preq rq;
    wd_pdecision a, b, d;
    char line[256];
    int ra, rb, rc;
    list[0] = wd_pval_str(str_of(in));
    list[1] = wd_pval_int((int8_t)byte(in));
    inner[0].key = "b";
    inner[0].val = wd_pval_str(str_of(in));
    meta[0].key = "role";
    meta[0].val = wd_pval_str(str_of(in));
    meta[1].key = "a";
    meta[1].val = wd_pval_map(inner, 1);
    meta[2].key = str_of(in);
    meta[2].val = wd_pval_list(list, 2);
    metav = wd_pval_map(meta, 3);
    attrs[0].key = "pid";
    attrs[0].val = wd_pval_str(str_of(in));
    attrs[1].key = "topic";
    attrs[1].val = wd_pval_str(str_of(in));
    attrs[2].key = str_of(in);
    attrs[2].val = wd_pval_num((double)(int8_t)byte(in) / 4);
    attrs[3].key = "m";
    attrs[3].val = wd_pval_map(inner, 1);
    rq.actor_id = (byte(in) & 7) ? str_of(in) : NULL;
    rq.actor_meta = &metav;
    rq.action = str_of(in);
    rq.resource = str_of(in);
    rq.attrs = attrs;
    rq.nattrs = byte(in) % 5;
    ra = wd_policy_check(sc, &rq, &a);
    rb = wd_policy_check_scan(sc, &rq, &b);
    rc = wd_pcache_check(c, sc, &rq, &d);
    if (ra != rb || ra != rc) abort();
    if (ra != (a.effect == WD_PEFFECT_ALLOW ? 0 : WD_EDENIED)) abort();
    same(&a, &b);
    same(&a, &d);
    if (wd_policy_explain(&a, line, sizeof line) < 0) abort();
  }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  In in;
  wd_policy_set *s;
  wd_scope *sc;
  wd_pcache *c;
  const char *names[8];
  char err[160], ids[4][16];
  size_t nn = 0, k, np;
  in.p = data;
  in.n = size;
  in.i = 0;
  if (wd_policy_set_new(&s) != 0 || wd_pcache_new(4, &c) != 0) abort();
  np = 1 + byte(&in) % 4;
  for (k = 0; k < np; k++) {
    uint8_t b = byte(&in);
    /* Mostly policy-shaped maps, sometimes anything. */
    wd_node *pol =
        (b & 3) ? keyed(&in, 1, k_pkeys, WD_COUNTOF(k_pkeys)) : any(&in, 1);
    wd_node *grp = (b & 4) ? any(&in, 4) : NULL;
    wd_pval v;
    int r;
    memcpy(ids[k], "app:p0", 7);
    ids[k][5] = (char)('0' + (b & 8 ? 0 : k)); /* sometimes a duplicate id */
    r = wd_policy_add(s, ids[k], (b & 16) ? NULL : "app", pol, grp, err,
                      sizeof err);
    if (r != 0 && r != WD_EINVAL && r != WD_EEXIST) abort();
    if (memchr(err, '\0', sizeof err) == NULL) abort();
    if (r != 0 && err[0] == '\0') abort();
    if (r == 0) names[nn++] = ids[k];
    if (wd_pval_from_node(pol, &v) == 0) {
      wd_pval v2;
      if (wd_pval_copy(&v, &v2) != 0) abort();
      wd_pval_clear(&v2);
    }
    wd_pval_clear(&v);
    node_free(pol);
    node_free(grp);
  }
  if (wd_policy_set_has(s, "app:g")) names[nn++] = "app:g";
  if (wd_policy_set_has(s, "app:p0")) names[nn++] = "app:p0";
  if (wd_scope_new(s, names, nn, &sc, err, sizeof err) != 0) abort();
  if (wd_policy_lint(s, lint_cb, NULL) < 0) abort();
  wd_policy_set_free(s);
  requests(&in, sc, c);
  wd_scope_release(sc);
  wd_pcache_free(c);
  return 0;
}
