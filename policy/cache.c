/*
** policy/cache.c
** Per-process decision cache.
** Runs in: broker and host. Pure: no I/O. Not thread-safe: one per
** process (actor), like its mailbox.
**
** Why a hit is always right. A decision of a scope is a function of the
** rules (fixed for the scope: scopes are immutable, and each one has a
** generation number that no other scope in this process ever gets), of the
** action and the resource, and of the values of the fields its conditions
** read: every 'field' and every 'value_from' (the scope lists them in
** 'keyf'). Nothing else reaches evaluation: no clock, no counter, no state
** between checks (regexec is pure). The key is exactly those inputs,
** serialised without loss (type tags, lengths, integer and double bits),
** and a lookup compares the whole key, not just its hash, plus the
** generation. So equal keys mean equal inputs mean equal decisions, and
** neither a hash collision (accidental or crafted by a script choosing
** resource names) nor a reload (a new scope, a new generation) can return
** a stale or foreign decision. A missing actor id or a malformed request is
** never cached: it is denied before any lookup.
**
** Inputs that no condition reads (say "pid" when no condition names it)
** are left out of the key, so requests that differ only there share an
** entry. Keys longer than KEYMAX (very long names, big meta values read
** whole) are decided uncached.
*/
#include <string.h>

#include "policy_int.h"

#define KEYMAX   1024
#define MAXSLOTS ((size_t)1 << 20)
#define WAYS     4 /* slots per set: hot requests rarely evict each other */

typedef struct Slot {
  uint64_t gen; /* 0: empty (scopes start at 1) */
  uint64_t hash;
  uint8_t *key;
  size_t keylen, keycap;
  uint64_t used; /* 'tick' of the last hit or store, for LRU */
  int rc;
  wd_pdecision d;
} Slot;

struct wd_pcache {
  Slot *s;
  size_t nslots;
  size_t mask; /* of set numbers: nslots / WAYS - 1 */
  uint64_t tick;
  uint64_t hits, misses;
};

int wd_pcache_new(size_t nslots, wd_pcache **out) {
  wd_pcache *c;
  size_t n = 1;
  if (out == NULL) return WD_EINVAL;
  *out = NULL;
  if (nslots == 0) nslots = 64;
  if (nslots > MAXSLOTS) return WD_EINVAL;
  while (n < nslots || n < WAYS)
    n <<= 1;
  if ((c = wd_calloc(1, sizeof *c)) == NULL) return WD_ENOMEM;
  if ((c->s = wd_calloc(n, sizeof *c->s)) == NULL) {
    wd_free(c);
    return WD_ENOMEM;
  }
  c->nslots = n;
  c->mask = n / WAYS - 1;
  *out = c;
  return 0;
}

void wd_pcache_free(wd_pcache *c) {
  size_t i;
  if (c == NULL) return;
  for (i = 0; i < c->nslots; i++)
    wd_free(c->s[i].key);
  wd_free(c->s);
  wd_free(c);
}

void wd_pcache_clear(wd_pcache *c) {
  size_t i;
  if (c == NULL) return;
  for (i = 0; i < c->nslots; i++)
    c->s[i].gen = 0;
}

void wd_pcache_stats(const wd_pcache *c, uint64_t *hits, uint64_t *misses) {
  if (hits != NULL) *hits = c != NULL ? c->hits : 0;
  if (misses != NULL) *misses = c != NULL ? c->misses : 0;
}

/*
** {======================================================================
** Keys
** =======================================================================
*/

typedef struct Key {
  uint8_t b[KEYMAX];
  size_t n;
  int over; /* did not fit */
} Key;

static void put(Key *k, const void *p, size_t n) {
  if (k->over || n > KEYMAX - k->n) {
    k->over = 1;
    return;
  }
  memcpy(k->b + k->n, p, n);
  k->n += n;
}

static void put_u8(Key *k, uint8_t v) {
  put(k, &v, 1);
}

static void put_str(Key *k, const char *p, size_t n) {
  uint32_t len = (uint32_t)n;
  if (n > KEYMAX) {
    k->over = 1;
    return;
  }
  put(k, &len, sizeof len);
  put(k, p, n);
}

/* Tag, then payload; lists and maps by count. Depth is bounded by the
** key size: each level adds at least a tag byte. */
static void put_val(Key *k, const wd_pval *v, int depth) {
  size_t i;
  if (depth > WD_PVAL_MAXDEPTH) k->over = 1;
  if (k->over) return;
  put_u8(k, (uint8_t)(v->type + 1));
  switch (v->type) {
    case WD_PVAL_BOOL:
      put_u8(k, (uint8_t)(v->u.b != 0));
      break;
    case WD_PVAL_INT:
      put(k, &v->u.i, sizeof v->u.i);
      break;
    case WD_PVAL_NUM:
      put(k, &v->u.n, sizeof v->u.n);
      break;
    case WD_PVAL_STR:
      put_str(k, v->u.s.p, v->u.s.len);
      break;
    case WD_PVAL_LIST:
      put(k, &v->u.list.n, sizeof v->u.list.n);
      for (i = 0; i < v->u.list.n && !k->over; i++)
        put_val(k, &v->u.list.v[i], depth + 1);
      break;
    case WD_PVAL_MAP:
      put(k, &v->u.map.n, sizeof v->u.map.n);
      for (i = 0; i < v->u.map.n && !k->over; i++) {
        const char *key = v->u.map.v[i].key;
        put_str(k, key != NULL ? key : "", key != NULL ? strlen(key) : 0);
        put_u8(k, key != NULL);
        put_val(k, &v->u.map.v[i].val, depth + 1);
      }
      break;
    default:
      break;
  }
}

static int make_key(const wd_scope *sc, const wd_preq *rq, Key *k) {
  size_t i;
  k->n = 0;
  k->over = 0;
  put_str(k, rq->action, strlen(rq->action));
  put_str(k, rq->resource, strlen(rq->resource));
  for (i = 0; i < sc->nkeyf && !k->over; i++) {
    wd_pval tmp;
    const wd_pval *v = wd__policy_resolve(sc->keyf[i], rq, &tmp);
    if (v == NULL)
      put_u8(k, 0); /* missing: no value tag is 0 */
    else
      put_val(k, v, 0);
  }
  return k->over ? -1 : 0;
}

/* Word-at-a-time multiply-xorshift hash; only spreads slots (every hit
** is confirmed by comparing the whole key). */
static uint64_t khash(const uint8_t *p, size_t n) {
  uint64_t h = UINT64_C(0x9e3779b97f4a7c15) ^ n, w;
  for (; n >= 8; p += 8, n -= 8) {
    memcpy(&w, p, 8);
    h = (h ^ w) * UINT64_C(0xbf58476d1ce4e5b9);
    h ^= h >> 31;
  }
  w = 0;
  memcpy(&w, p, n);
  h = (h ^ w) * UINT64_C(0x94d049bb133111eb);
  return h ^ (h >> 29);
}

/* }====================================================================== */

static void store(Slot *s, uint64_t gen, uint64_t h, const Key *k, int rc,
                  const wd_pdecision *d) {
  if (s->keycap < k->n) {
    uint8_t *nk = wd_realloc(s->key, k->n);
    if (nk == NULL) { /* keep going uncached; the slot is now empty */
      s->gen = 0;
      return;
    }
    s->key = nk;
    s->keycap = k->n;
  }
  memcpy(s->key, k->b, k->n);
  s->keylen = k->n;
  s->gen = gen;
  s->hash = h;
  s->rc = rc;
  s->d = *d;
}

int wd_pcache_check(wd_pcache *c, const wd_scope *sc, const wd_preq *rq,
                    wd_pdecision *d) {
  Key k;
  wd_pdecision tmp;
  uint64_t h;
  Slot *set, *victim;
  int rc, w;
  /* Anything wd_policy_check denies up front is never cached. */
  if (c == NULL || sc == NULL || rq == NULL || rq->actor_id == NULL ||
      rq->action == NULL || rq->resource == NULL ||
      (rq->nattrs > 0 && rq->attrs == NULL) || make_key(sc, rq, &k) != 0)
    return wd_policy_check(sc, rq, d);
  h = khash(k.b, k.n);
  set = &c->s[(h & c->mask) * WAYS];
  victim = &set[0];
  c->tick++;
  for (w = 0; w < WAYS; w++) {
    Slot *s = &set[w];
    if (s->gen == sc->gen && s->hash == h && s->keylen == k.n &&
        memcmp(s->key, k.b, k.n) == 0) {
      c->hits++;
      s->used = c->tick;
      if (d != NULL) *d = s->d;
      return s->rc;
    }
    /* Replace an entry of another generation first, else the LRU one. */
    if (victim->gen == sc->gen && (s->gen != sc->gen || s->used < victim->used))
      victim = s;
  }
  c->misses++;
  rc = wd_policy_check(sc, rq, &tmp);
  store(victim, sc->gen, h, &k, rc, &tmp);
  victim->used = c->tick;
  if (d != NULL) *d = tmp;
  return rc;
}
