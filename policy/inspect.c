/*
** policy/inspect.c
** Read-only views of the compiled policies of a scope: ids, positions,
** patterns and conditions, and one condition decided on its own. They
** let the auditor's tools (ward policy permissions, diff, test
** --coverage) work from what the engine compiled, never from a second
** reading of the YAML, so they cannot disagree with a check.
** Runs in: the ward command. Pure: no I/O, no allocation.
*/
#include <string.h>

#include "policy_int.h"

static const Rule *rule_at(const wd_scope *sc, size_t i) {
  return sc != NULL && i < sc->nrules ? sc->rules[i] : NULL;
}

int wd_scope_policy(const wd_scope *sc, size_t i, wd_pinfo *out) {
  const Rule *r = rule_at(sc, i);
  if (r == NULL || out == NULL) return WD_EINVAL;
  out->id = r->id;
  out->effect = r->effect;
  out->file = r->file;
  out->line = r->line;
  out->col = r->col;
  out->nacts = r->nacts;
  out->nress = r->nress;
  out->nconds = r->nconds;
  return 0;
}

int wd_scope_pattern(const wd_scope *sc, size_t i, int resource, size_t j,
                     wd_ppat *out) {
  const Rule *r = rule_at(sc, i);
  const Pat *p;
  if (r == NULL || out == NULL || j >= (resource ? r->nress : r->nacts))
    return WD_EINVAL;
  p = resource ? &r->ress[j] : &r->acts[j];
  out->kind = p->kind == PAT_ANY     ? WD_PPAT_ANY
              : p->kind == PAT_EXACT ? WD_PPAT_EXACT
                                     : WD_PPAT_PREFIX;
  out->s = p->kind == PAT_ANY ? "*" : p->s;
  out->len = p->kind == PAT_ANY ? 1 : p->len;
  return 0;
}

int wd_ppat_match(const wd_ppat *p, const char *s) {
  size_t n;
  if (p == NULL || s == NULL) return 0;
  n = strlen(s);
  switch (p->kind) {
    case WD_PPAT_ANY:
      return 1;
    case WD_PPAT_EXACT:
      return p->len == n && memcmp(p->s, s, n) == 0;
    default:
      return n >= p->len && memcmp(p->s, s, p->len) == 0;
  }
}

static unsigned reads(const Field *f) {
  switch (f->kind) {
    case F_ACTOR_ID:
    case F_ACTOR_META:
      return WD_PREADS_ACTOR;
    case F_ACTION:
      return WD_PREADS_ACTION;
    case F_RESOURCE:
      return WD_PREADS_RESOURCE;
    default:
      return WD_PREADS_ATTRS;
  }
}

int wd_scope_cond(const wd_scope *sc, size_t i, size_t j, wd_pcond *out) {
  const Rule *r = rule_at(sc, i);
  const Cond *c;
  if (r == NULL || out == NULL || j >= r->nconds) return WD_EINVAL;
  c = &r->conds[j];
  memset(out, 0, sizeof *out);
  out->field = c->f.text;
  out->op = wd__policy_opnames[c->op];
  out->from = c->has_from ? c->from.text : NULL;
  out->want = c->want;
  out->value =
      c->has_from || c->op == OP_EXISTS || c->op == OP_NEXISTS ? NULL : &c->val;
  out->regex = c->op == OP_MATCHES || c->op == OP_NMATCHES;
  out->reads = reads(&c->f) | (c->has_from ? reads(&c->from) : 0);
  out->line = c->line;
  out->col = c->col;
  return 0;
}

int wd_scope_cond_holds(const wd_scope *sc, size_t i, size_t j,
                        const wd_preq *rq) {
  const Rule *r = rule_at(sc, i);
  wd_preq q;
  if (r == NULL || rq == NULL || j >= r->nconds) return 0;
  q = *rq;
  if (q.action == NULL) q.action = "";
  if (q.resource == NULL) q.resource = "";
  return wd__policy_cond_holds(&r->conds[j], &q);
}
