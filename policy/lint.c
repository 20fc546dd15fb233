/*
** policy/lint.c
** Static analysis of a policy set for `ward policy check`: allows that a
** deny always overrides, and policies whose conditions contradict each
** other. Only certain findings are reported (no guesses): each rule below
** is sound for the evaluation semantics of policy/match.c.
** Runs in: broker. Pure: no I/O.
*/
#include <string.h>

#include "policy_int.h"

typedef struct Lint {
  wd_plint_cb cb;
  void *ud;
  int n;
} Lint;

static void report(Lint *L, int kind, const Rule *r, const Rule *other,
                   const char *m) {
  wd_plint f;
  f.kind = kind;
  f.id = r->id;
  f.other = other != NULL ? other->id : NULL;
  f.file = r->file;
  f.line = r->line;
  f.col = r->col;
  f.msg = m;
  L->cb(&f, L->ud);
  L->n++;
}

/*
** {======================================================================
** Contradictory conditions
** =======================================================================
*/

/* Does the condition hold only when its field is present? */
static int needs_present(const Cond *c) {
  if (c->op == OP_EXISTS) return c->want;
  if (c->op == OP_NEXISTS) return !c->want;
  return 1;
}

static void put_val(SBuf *b, const wd_pval *v) {
  char buf[32];
  const char *s;
  size_t n, i;
  if (v->type == WD_PVAL_LIST) {
    wd__policy_sb_puts(b, "[");
    for (i = 0; i < v->u.list.n && i < 4; i++) {
      if (i > 0) wd__policy_sb_puts(b, ", ");
      put_val(b, &v->u.list.v[i]);
    }
    wd__policy_sb_puts(b, i < v->u.list.n ? ", ...]" : "]");
  } else if (wd__policy_strform(v, buf, &s, &n)) {
    wd__policy_sb_putq(b, s, n);
  } else {
    wd__policy_sb_puts(b, v->type == WD_PVAL_NULL ? "null" : "{...}");
  }
}

static void put_cond(SBuf *b, const Cond *c) {
  wd__policy_sb_puts(b, wd__policy_opnames[c->op]);
  wd__policy_sb_puts(b, " ");
  put_val(b, &c->val);
}

/* One side of a numeric interval that a condition imposes on its field. */
typedef struct Bound {
  int has_lo, has_hi, lo_strict, hi_strict;
  Num lo, hi;
} Bound;

/* 1 if 'c' confines its field to an interval of numbers. */
static int bound(const Cond *c, Bound *b) {
  Num x;
  memset(b, 0, sizeof *b);
  if (!wd__policy_num(&c->val, &x)) return 0;
  switch (c->op) {
    case OP_EQ:
      b->has_lo = b->has_hi = 1;
      b->lo = b->hi = x;
      return 1;
    case OP_GT:
    case OP_GTE:
      b->has_lo = 1;
      b->lo = x;
      b->lo_strict = c->op == OP_GT;
      return 1;
    case OP_LT:
    case OP_LTE:
      b->has_hi = 1;
      b->hi = x;
      b->hi_strict = c->op == OP_LT;
      return 1;
    default:
      return 0;
  }
}

/* Is there no number above 'lo' and below 'hi'? */
static int empty(const Num *lo, int ls, const Num *hi, int hs) {
  int r = wd__policy_numcmp(lo, hi);
  return r == 1 || (r == 0 && (ls || hs));
}

static int disjoint(const Bound *a, const Bound *b) {
  return (a->has_lo && b->has_hi &&
          empty(&a->lo, a->lo_strict, &b->hi, b->hi_strict)) ||
         (b->has_lo && a->has_hi &&
          empty(&b->lo, b->lo_strict, &a->hi, a->hi_strict));
}

static int in_list(const wd_pval *v, const wd_pval *l) {
  size_t i;
  if (l->type != WD_PVAL_LIST) return wd__policy_equals(v, l);
  for (i = 0; i < l->u.list.n; i++)
    if (wd__policy_equals(v, &l->u.list.v[i])) return 1;
  return 0;
}

/*
** Can 'a' and 'b' (same field, constant values) never both hold? eq is
** transitive on the values the loader builds (numbers are finite), which
** makes the eq rules sound; intervals on a line meet pairwise iff they all
** meet, so pairs suffice for lt/gt/lte/gte.
*/
static int contradict(const Cond *a, const Cond *b) {
  Bound x, y;
  const Cond *t;
  if (needs_present(a) != needs_present(b)) return 1;
  if (!needs_present(a)) return 0;
  if (b->op == OP_EQ && a->op != OP_EQ) {
    t = a;
    a = b;
    b = t;
  }
  if (a->op == OP_EQ) {
    if (b->op == OP_EQ && !wd__policy_equals(&a->val, &b->val)) return 1;
    if (b->op == OP_NE && wd__policy_equals(&a->val, &b->val)) return 1;
    if (b->op == OP_IN && !in_list(&a->val, &b->val)) return 1;
    if (b->op == OP_NIN && in_list(&a->val, &b->val)) return 1;
  }
  return bound(a, &x) && bound(b, &y) && disjoint(&x, &y);
}

/* A condition that fails on its own, whatever the request. */
static int hopeless(const Rule *r, const Cond *c) {
  size_t i;
  const Pat *p;
  size_t np;
  /* The action, the resource and (once past the actor check) the actor id
  ** are always present. */
  if (!needs_present(c) && (c->f.kind == F_ACTION || c->f.kind == F_RESOURCE ||
                            c->f.kind == F_ACTOR_ID))
    return 1;
  if (c->op != OP_EQ || c->has_from || c->val.type != WD_PVAL_STR ||
      (c->f.kind != F_ACTION && c->f.kind != F_RESOURCE))
    return 0;
  p = c->f.kind == F_ACTION ? r->acts : r->ress;
  np = c->f.kind == F_ACTION ? r->nacts : r->nress;
  for (i = 0; i < np; i++)
    if (wd__policy_pat_match(&p[i], c->val.u.s.p, c->val.u.s.len)) return 0;
  return 1;
}

static void never_match(Lint *L, const Rule *r) {
  char m[320];
  SBuf b;
  size_t i, j;
  wd__policy_sb_init(&b, m, sizeof m);
  for (i = 0; i < r->nconds; i++) {
    const Cond *a = &r->conds[i];
    if (a->has_from) continue;
    if (hopeless(r, a)) {
      wd__policy_sb_puts(&b, "never matches: '");
      wd__policy_sb_puts(&b, a->f.text);
      wd__policy_sb_puts(&b, "' ");
      put_cond(&b, a);
      wd__policy_sb_puts(&b, a->op == OP_EQ ? " is outside its patterns"
                                            : " is always present");
      report(L, WD_PLINT_NEVER_MATCH, r, NULL, m);
      return;
    }
    for (j = 0; j < i; j++) {
      const Cond *c = &r->conds[j];
      if (c->has_from || strcmp(a->f.text, c->f.text) != 0) continue;
      if (!contradict(c, a)) continue;
      wd__policy_sb_puts(&b, "never matches: '");
      wd__policy_sb_puts(&b, a->f.text);
      wd__policy_sb_puts(&b, "' ");
      put_cond(&b, c);
      wd__policy_sb_puts(&b, " and ");
      put_cond(&b, a);
      report(L, WD_PLINT_NEVER_MATCH, r, NULL, m);
      return;
    }
  }
}

/* }====================================================================== */

/*
** {======================================================================
** Allows always overridden
** =======================================================================
*/

/* Does pattern 'q' match every string 'p' matches? */
static int covers(const Pat *q, const Pat *p) {
  if (q->kind == PAT_ANY) return 1;
  if (p->kind == PAT_ANY) return 0;
  if (q->kind == PAT_EXACT)
    return p->kind == PAT_EXACT && p->len == q->len &&
           memcmp(p->s, q->s, q->len) == 0;
  return p->len >= q->len && memcmp(p->s, q->s, q->len) == 0;
}

static int covers_all(const Pat *q, size_t nq, const Pat *p, size_t np) {
  size_t i, j;
  for (i = 0; i < np; i++) {
    for (j = 0; j < nq && !covers(&q[j], &p[i]); j++) {
    }
    if (j == nq) return 0;
  }
  return 1;
}

static int in_groups(const Rule *a, const Rule *d) {
  size_t i, j;
  for (i = 0; i < a->ngroups; i++) {
    for (j = 0; j < d->ngroups && strcmp(a->groups[i], d->groups[j]) != 0;
         j++) {
    }
    if (j == d->ngroups) return 0;
  }
  return 1;
}

/*
** 'a' is shadowed by an unconditional deny 'd' that covers all its actions
** and resources and belongs to every group of 'a': any scope that takes
** 'a' through a group takes 'd', and then 'd' matches whenever 'a' does.
** (An allow in no group can be named alone in a scope: never reported.)
*/
static void shadowed(Lint *L, const wd_policy_set *s, const Rule *a) {
  char m[320];
  SBuf b;
  size_t i;
  if (a->effect != WD_PEFFECT_ALLOW || a->ngroups == 0) return;
  for (i = 0; i < s->n; i++) {
    const Rule *d = s->v[i];
    if (d->effect != WD_PEFFECT_DENY || d->nconds > 0 || !in_groups(a, d) ||
        !covers_all(d->acts, d->nacts, a->acts, a->nacts) ||
        !covers_all(d->ress, d->nress, a->ress, a->nress))
      continue;
    wd__policy_sb_init(&b, m, sizeof m);
    wd__policy_sb_puts(&b,
                       "allow is always overridden by unconditional deny '");
    wd__policy_sb_puts(&b, d->id);
    wd__policy_sb_puts(&b, "'");
    report(L, WD_PLINT_SHADOWED, a, d, m);
    return;
  }
}

/* }====================================================================== */

int wd_policy_lint(const wd_policy_set *s, wd_plint_cb cb, void *ud) {
  Lint L;
  size_t i;
  if (s == NULL || cb == NULL) return WD_EINVAL;
  L.cb = cb;
  L.ud = ud;
  L.n = 0;
  for (i = 0; i < s->n; i++) {
    never_match(&L, s->v[i]);
    shadowed(&L, s, s->v[i]);
  }
  return L.n;
}
