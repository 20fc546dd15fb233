/*
** policy/index.c
** The string hash map and the scope index: action -> resource -> rules.
** Each level keeps exact patterns in a hash map, prefix patterns in a
** second map probed once per distinct prefix length, and "*" apart, so a
** check visits only the leaves whose patterns match and never scans
** policies that cannot apply.
** Runs in: broker and host. Pure: no I/O.
*/
#include <string.h>

#include "policy_int.h"

/*
** {======================================================================
** Hash map (open addressing, linear probing, load <= 1/2)
** =======================================================================
*/

void *wd__policy_hget(const HMap *m, const char *k, size_t n, uint64_t h) {
  size_t mask, i;
  if (m->cap == 0) return NULL;
  mask = m->cap - 1;
  for (i = (size_t)h & mask; m->e[i].k != NULL; i = (i + 1) & mask) {
    const HEnt *e = &m->e[i];
    if (e->h == h && e->n == n && memcmp(e->k, k, n) == 0) return e->v;
  }
  return NULL;
}

static void place(HEnt *e, size_t cap, const HEnt *x) {
  size_t i = (size_t)x->h & (cap - 1);
  while (e[i].k != NULL)
    i = (i + 1) & (cap - 1);
  e[i] = *x;
}

int wd__policy_hput(HMap *m, const char *k, size_t n, void *v) {
  uint64_t h = wd__policy_hash(k, n);
  size_t i;
  HEnt x;
  if (m->cap != 0) {
    size_t mask = m->cap - 1;
    for (i = (size_t)h & mask; m->e[i].k != NULL; i = (i + 1) & mask) {
      if (m->e[i].h == h && m->e[i].n == n && memcmp(m->e[i].k, k, n) == 0) {
        m->e[i].v = v;
        return 0;
      }
    }
  }
  if ((m->n + 1) * 2 > m->cap) {
    size_t cap = m->cap != 0 ? m->cap * 2 : 8;
    HEnt *e = wd_calloc(cap, sizeof *e);
    if (e == NULL) return WD_ENOMEM;
    for (i = 0; i < m->cap; i++)
      if (m->e[i].k != NULL) place(e, cap, &m->e[i]);
    wd_free(m->e);
    m->e = e;
    m->cap = cap;
  }
  x.k = k;
  x.n = n;
  x.h = h;
  x.v = v;
  place(m->e, m->cap, &x);
  m->n++;
  return 0;
}

void wd__policy_hfree(HMap *m) {
  wd_free(m->e);
  m->e = NULL;
  m->cap = m->n = 0;
}

/* }====================================================================== */

/*
** {======================================================================
** Building
** =======================================================================
*/

static int add_plen(Index *ix, uint32_t len) {
  size_t i;
  int r = 0;
  for (i = 0; i < ix->nplens && ix->plens[i] < len; i++) {
  }
  if (i < ix->nplens && ix->plens[i] == len) return 0;
  GROW(ix->plens, ix->plcap, ix->nplens, r);
  if (r != 0) return r;
  memmove(ix->plens + i + 1, ix->plens + i,
          (ix->nplens - i) * sizeof *ix->plens);
  ix->plens[i] = len;
  ix->nplens++;
  return 0;
}

/* A new child: a resource Index under the action level, else a Leaf. Both
** are recorded in the scope first, so a later failure frees them. */
static void *child_new(wd_scope *sc, int leaf) {
  int r = 0;
  if (leaf) {
    Leaf *l;
    /* NOLINTNEXTLINE(bugprone-sizeof-expression): arrays of pointers */
    GROW(sc->leaves, sc->leafcap, sc->nleaves, r);
    if (r != 0 || (l = wd_calloc(1, sizeof *l)) == NULL) return NULL;
    sc->leaves[sc->nleaves++] = l;
    return l;
  } else {
    Index *ix;
    /* NOLINTNEXTLINE(bugprone-sizeof-expression): arrays of pointers */
    GROW(sc->ridx, sc->ridxcap, sc->nridx, r);
    if (r != 0 || (ix = wd_calloc(1, sizeof *ix)) == NULL) return NULL;
    sc->ridx[sc->nridx++] = ix;
    return ix;
  }
}

static void *slot(wd_scope *sc, Index *ix, const Pat *p, int leaf) {
  HMap *m = p->kind == PAT_EXACT ? &ix->exact : &ix->prefix;
  void *c;
  if (p->kind == PAT_ANY) {
    if (ix->any == NULL) ix->any = child_new(sc, leaf);
    return ix->any;
  }
  if ((c = wd__policy_hget(m, p->s, p->len, wd__policy_hash(p->s, p->len))))
    return c;
  if (p->len > UINT32_MAX || (c = child_new(sc, leaf)) == NULL ||
      wd__policy_hput(m, p->s, p->len, c) != 0)
    return NULL;
  if (p->kind == PAT_PREFIX && add_plen(ix, (uint32_t)p->len) != 0) return NULL;
  return c;
}

static int leaf_push(Leaf *l, Rule *r) {
  /* A rule reaches a leaf once per (action, resource) pattern pair; keep
  ** one copy when the same pair repeats. */
  int e = 0;
  if (l->n > 0 && l->v[l->n - 1] == r) return 0;
  /* NOLINTNEXTLINE(bugprone-sizeof-expression): arrays of pointers */
  GROW(l->v, l->cap, l->n, e);
  if (e != 0) return e;
  l->v[l->n++] = r;
  return 0;
}

int wd__policy_index_build(wd_scope *sc) {
  size_t i, a, b;
  for (i = 0; i < sc->nrules; i++) {
    Rule *r = sc->rules[i];
    for (a = 0; a < r->nacts; a++) {
      Index *ri = slot(sc, &sc->idx, &r->acts[a], 0);
      if (ri == NULL) return WD_ENOMEM;
      for (b = 0; b < r->nress; b++) {
        Leaf *l = slot(sc, ri, &r->ress[b], 1);
        if (l == NULL || leaf_push(l, r) != 0) return WD_ENOMEM;
      }
    }
  }
  return 0;
}

static void index_close(Index *ix) {
  wd__policy_hfree(&ix->exact);
  wd__policy_hfree(&ix->prefix);
  wd_free(ix->plens);
}

void wd__policy_index_free(wd_scope *sc) {
  size_t i;
  for (i = 0; i < sc->nleaves; i++) {
    wd_free(sc->leaves[i]->v);
    wd_free(sc->leaves[i]);
  }
  for (i = 0; i < sc->nridx; i++) {
    index_close(sc->ridx[i]);
    wd_free(sc->ridx[i]);
  }
  index_close(&sc->idx);
  wd_free(sc->leaves);
  wd_free(sc->ridx);
}

/* }====================================================================== */

/*
** {======================================================================
** Lookup
** =======================================================================
*/

typedef void (*ChildFn)(void *child, void *ud);

/*
** Visit every child of 'ix' whose pattern matches 's': "*", the prefixes
** of 's' of each indexed length, then 's' itself. One pass computes the
** hash of every prefix (FNV-1a is incremental).
*/
static void walk(const Index *ix, const char *s, ChildFn fn, void *ud) {
  uint64_t h = HASH_INIT;
  size_t i, k = 0;
  void *c;
  if (ix->any != NULL) fn(ix->any, ud);
  for (i = 0;; i++) {
    if (k < ix->nplens && ix->plens[k] == i) {
      if ((c = wd__policy_hget(&ix->prefix, s, i, h)) != NULL) fn(c, ud);
      k++;
    }
    if (s[i] == '\0') break;
    /* Nothing left to find: no exact map and no longer prefix. */
    if (k == ix->nplens && ix->exact.n == 0) return;
    h = HASH_STEP(h, s[i]);
  }
  if ((c = wd__policy_hget(&ix->exact, s, i, h)) != NULL) fn(c, ud);
}

typedef struct Walk {
  const char *resource;
  LeafFn fn;
  void *ud;
} Walk;

static void on_leaf(void *c, void *ud) {
  Walk *w = ud;
  w->fn(c, w->ud);
}

static void on_ridx(void *c, void *ud) {
  Walk *w = ud;
  walk(c, w->resource, on_leaf, w);
}

void wd__policy_index_walk(const wd_scope *sc, const char *action,
                           const char *resource, LeafFn fn, void *ud) {
  Walk w;
  w.resource = resource;
  w.fn = fn;
  w.ud = ud;
  walk(&sc->idx, action, on_ridx, &w);
}

/* }====================================================================== */
