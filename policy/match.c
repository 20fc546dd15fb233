/*
** policy/match.c
** Matching one compiled rule against one request: action and resource
** patterns, field lookup, and the fourteen condition operators.
** Runs in: broker and host. Pure: no I/O, no allocation.
*/
#include <string.h>

#include "policy_int.h"

const char *const wd__policy_opnames[OP__N] = {
#define XX(name, text) text,
  OPS(XX)
#undef XX
};

int wd__policy_pat_match(const Pat *p, const char *s, size_t n) {
  switch (p->kind) {
    case PAT_ANY:
      return 1;
    case PAT_EXACT:
      return p->len == n && memcmp(p->s, s, n) == 0;
    default:
      return n >= p->len && memcmp(p->s, s, p->len) == 0;
  }
}

static const wd_pval *attr_get(const wd_preq *rq, const char *k, size_t n) {
  size_t i;
  for (i = 0; i < rq->nattrs; i++) {
    const char *key = rq->attrs[i].key;
    if (key != NULL && key[0] == k[0] && strncmp(key, k, n) == 0 &&
        key[n] == '\0')
      return &rq->attrs[i].val;
  }
  return NULL;
}

static const wd_pval *path_get(const wd_pval *v, const Comp *c, size_t n) {
  size_t i;
  for (i = 0; i < n && v != NULL; i++)
    v = wd__policy_mapget(v, c[i].p, c[i].n);
  return v;
}

const wd_pval *wd__policy_resolve(const Field *f, const wd_preq *rq,
                                  wd_pval *tmp) {
  const wd_pval *v = NULL;
  switch (f->kind) {
    case F_ACTION:
      *tmp = wd_pval_str(rq->action);
      return tmp;
    case F_RESOURCE:
      *tmp = wd_pval_str(rq->resource);
      return tmp;
    case F_ACTOR_ID:
      if (rq->actor_id == NULL) return NULL;
      *tmp = wd_pval_str(rq->actor_id);
      return tmp;
    case F_ACTOR_META:
      v = path_get(rq->actor_meta, f->path, f->npath);
      break;
    case F_META:
      v = attr_get(rq, f->path[0].p, f->path[0].n);
      v = path_get(v, f->path + 1, f->npath - 1);
      break;
    default:
      v = attr_get(rq, f->path[0].p, f->path[0].n);
      break;
  }
  /* A null value counts as missing, as in the reference (nil field). */
  return (v != NULL && v->type != WD_PVAL_NULL) ? v : NULL;
}

/* in: membership in a list, or equality with a single value. */
static int op_in(const wd_pval *f, const wd_pval *v) {
  size_t i;
  if (v->type == WD_PVAL_MAP) return -1;
  if (v->type != WD_PVAL_LIST) return wd__policy_equals(f, v);
  for (i = 0; i < v->u.list.n; i++)
    if (wd__policy_equals(f, &v->u.list.v[i])) return 1;
  return 0;
}

/* contains: substring of the string forms, else membership in a list. */
static int op_contains(const wd_pval *f, const wd_pval *v) {
  char bf[32], bv[32];
  const char *sf, *sv;
  size_t nf, nv, i;
  if (wd__policy_strform(f, bf, &sf, &nf) &&
      wd__policy_strform(v, bv, &sv, &nv))
    return nv == 0 || memmem(sf, nf, sv, nv) != NULL;
  if (f->type != WD_PVAL_LIST) return -1;
  for (i = 0; i < f->u.list.n; i++)
    if (wd__policy_equals(&f->u.list.v[i], v)) return 1;
  return 0;
}

static int op_matches(const Cond *c, const wd_pval *f) {
  char bf[32];
  const char *sf;
  size_t nf;
  regmatch_t m[1];
  if (!c->has_re || !wd__policy_strform(f, bf, &sf, &nf)) return -1;
#ifdef REG_STARTEND
  /* REG_STARTEND: the string has a length and may hold NUL bytes. */
  m[0].rm_so = 0;
  m[0].rm_eo = (regoff_t)nf;
  return regexec(&c->re, sf, 1, m, REG_STARTEND) == 0;
#else
  {
    /* Without it regexec needs a C string: copy short ones, refuse the
    ** rest (and any with a NUL inside) as an evaluation error. */
    char tmp[512];
    (void)m;
    if (nf >= sizeof tmp || memchr(sf, '\0', nf) != NULL) return -1;
    memcpy(tmp, sf, nf);
    tmp[nf] = '\0';
    return regexec(&c->re, tmp, 0, NULL, 0) == 0;
  }
#endif
}

/* 1 true, 0 false, -1 an evaluation error (wrong types). */
static int apply(const Cond *c, const wd_pval *f, const wd_pval *v) {
  Num x, y;
  int r;
  /* Fast path of the commonest condition, a string field against a
  ** non-numeric string constant: then they are equal exactly when their
  ** bytes are (the numeric rule needs both sides numeric). */
  if ((c->op == OP_EQ || c->op == OP_NE) && c->plain && !c->has_from &&
      f->type == WD_PVAL_STR) {
    r = f->u.s.len == v->u.s.len && memcmp(f->u.s.p, v->u.s.p, v->u.s.len) == 0;
    return c->op == OP_EQ ? r : !r;
  }
  switch (c->op) {
    case OP_EQ:
      return wd__policy_equals(f, v);
    case OP_NE:
      return !wd__policy_equals(f, v);
    case OP_LT:
    case OP_GT:
    case OP_LTE:
    case OP_GTE:
      if (!wd__policy_num(f, &x) || !wd__policy_num(v, &y)) return -1;
      r = wd__policy_numcmp(&x, &y);
      if (r == 2) return 0;
      return c->op == OP_LT    ? r < 0
             : c->op == OP_GT  ? r > 0
             : c->op == OP_LTE ? r <= 0
                               : r >= 0;
    case OP_IN:
      return op_in(f, v);
    case OP_NIN:
      r = op_in(f, v);
      return r < 0 ? r : !r;
    case OP_CONTAINS:
      return op_contains(f, v);
    case OP_NCONTAINS:
      r = op_contains(f, v);
      return r < 0 ? r : !r;
    case OP_MATCHES:
      return op_matches(c, f);
    case OP_NMATCHES:
      r = op_matches(c, f);
      return r < 0 ? r : !r;
    default:
      return -1;
  }
}

static int cond_holds(const Cond *c, const wd_preq *rq) {
  wd_pval t1, t2;
  const wd_pval *f = wd__policy_resolve(&c->f, rq, &t1), *v;
  if (c->op == OP_EXISTS) return (f != NULL) == c->want;
  if (c->op == OP_NEXISTS) return (f == NULL) == c->want;
  if (f == NULL) return 0;
  /* A missing value_from field fails the condition for every operator
  ** (the reference would make "ne" true here; a missing operand should
  ** never satisfy a condition). */
  v = c->has_from ? wd__policy_resolve(&c->from, rq, &t2) : &c->val;
  if (v == NULL) return 0;
  return apply(c, f, v) == 1;
}

int wd__policy_cond_holds(const Cond *c, const wd_preq *rq) {
  return cond_holds(c, rq);
}

int wd__policy_conds_hold(const Rule *r, const wd_preq *rq) {
  size_t i;
  for (i = 0; i < r->nconds; i++)
    if (!cond_holds(&r->conds[i], rq)) return 0;
  return 1;
}

int wd__policy_rule_match(const Rule *r, const wd_preq *rq) {
  size_t i, na = strlen(rq->action), nr = strlen(rq->resource);
  for (i = 0; i < r->nacts; i++)
    if (wd__policy_pat_match(&r->acts[i], rq->action, na)) break;
  if (i == r->nacts) return 0;
  for (i = 0; i < r->nress; i++)
    if (wd__policy_pat_match(&r->ress[i], rq->resource, nr)) break;
  if (i == r->nress) return 0;
  return wd__policy_conds_hold(r, rq);
}
