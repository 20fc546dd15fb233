/*
** policy/policy.c
** Policy sets, scopes and decisions: the public face of the engine.
** A set owns compiled rules by id and by group; a scope takes references
** on the rules it names and indexes them; a check walks the index and
** combines matches with deny-overrides.
** Runs in: broker and host. Pure: no I/O.
*/
#include <limits.h>
#include <string.h>

#include "policy_int.h"

/* Generation numbers of scopes: never reused while the process lives, so
** a cache entry made for a freed scope can never hit for a new one. */
static atomic_uint_fast64_t g_scope_gen;

static uint64_t hstr(const char *s) {
  return wd__policy_hash(s, strlen(s));
}

/*
** {======================================================================
** Policy sets
** =======================================================================
*/

int wd_policy_set_new(wd_policy_set **out) {
  if (out == NULL) return WD_EINVAL;
  if ((*out = wd_calloc(1, sizeof **out)) == NULL) return WD_ENOMEM;
  return 0;
}

void wd_policy_set_free(wd_policy_set *s) {
  size_t i;
  if (s == NULL) return;
  for (i = 0; i < s->n; i++)
    wd__policy_rule_release(s->v[i]);
  for (i = 0; i < s->ngv; i++) {
    wd_free(s->gv[i]->name);
    wd_free(s->gv[i]->v);
    wd_free(s->gv[i]);
  }
  wd__policy_hfree(&s->byid);
  wd__policy_hfree(&s->groups);
  wd_free(s->v);
  wd_free(s->gv);
  wd_free(s);
}

static const Group *group_get(const wd_policy_set *s, const char *name) {
  const Group *g = wd__policy_hget(&s->groups, name, strlen(name), hstr(name));
  /* A group is created before the rule that needs it is committed; if
  ** that add then failed, the group stays empty and does not exist. */
  return (g != NULL && g->n > 0) ? g : NULL;
}

/* Find or create group 'name' with room for one more rule. */
static Group *group_reserve(wd_policy_set *s, const char *name) {
  Group *g = wd__policy_hget(&s->groups, name, strlen(name), hstr(name));
  int r = 0;
  if (g == NULL) {
    /* NOLINTNEXTLINE(bugprone-sizeof-expression): arrays of pointers */
    GROW(s->gv, s->gcap, s->ngv, r);
    if (r != 0 || (g = wd_calloc(1, sizeof *g)) == NULL) return NULL;
    if ((g->name = wd_strdup(name)) == NULL ||
        wd__policy_hput(&s->groups, g->name, strlen(name), g) != 0) {
      wd_free(g->name);
      wd_free(g);
      return NULL;
    }
    s->gv[s->ngv++] = g;
  }
  /* NOLINTNEXTLINE(bugprone-sizeof-expression): arrays of pointers */
  GROW(g->v, g->cap, g->n, r);
  return r == 0 ? g : NULL;
}

int wd_policy_add(wd_policy_set *s, const char *id, const char *ns,
                  const wd_node *policy, const wd_node *groups, char *err,
                  size_t errlen) {
  Rule *rule;
  size_t i;
  int r = 0;
  if (err != NULL && errlen > 0) err[0] = '\0';
  if (s == NULL || id == NULL || id[0] == '\0') return WD_EINVAL;
  if ((r = wd__policy_compile(id, ns, policy, groups, s->strict, &rule, err,
                              errlen)))
    return r;
  if (wd__policy_hget(&s->byid, id, strlen(id), hstr(id)) != NULL) {
    SBuf sb;
    wd__policy_sb_init(&sb, err, errlen);
    wd__policy_sb_puts(&sb, rule->file);
    wd__policy_sb_puts(&sb, ":");
    wd__policy_sb_putint(&sb, rule->line);
    wd__policy_sb_puts(&sb, ":");
    wd__policy_sb_putint(&sb, rule->col);
    wd__policy_sb_puts(&sb, ": policy '");
    wd__policy_sb_putq(&sb, id, strlen(id));
    wd__policy_sb_puts(&sb, "' is already defined");
    r = WD_EEXIST;
    goto fail;
  }
  /* Reserve every slot first, then commit: nothing below can fail. */
  /* NOLINTNEXTLINE(bugprone-sizeof-expression): arrays of pointers */
  GROW(s->v, s->cap, s->n, r);
  if (r != 0) goto fail;
  for (i = 0; i < rule->ngroups; i++)
    if (group_reserve(s, rule->groups[i]) == NULL) {
      r = WD_ENOMEM;
      goto fail;
    }
  if ((r = wd__policy_hput(&s->byid, rule->id, strlen(rule->id), rule)) != 0)
    goto fail;
  s->v[s->n++] = rule;
  for (i = 0; i < rule->ngroups; i++) {
    const char *g = rule->groups[i];
    Group *gr = wd__policy_hget(&s->groups, g, strlen(g), hstr(g));
    gr->v[gr->n++] = rule;
  }
  return 0;
fail:
  if (r == WD_ENOMEM && err != NULL && errlen > 0) {
    SBuf sb;
    wd__policy_sb_init(&sb, err, errlen);
    wd__policy_sb_puts(&sb, "out of memory");
  }
  wd__policy_rule_release(rule);
  return r;
}

void wd_policy_set_strict(wd_policy_set *s, int on) {
  if (s != NULL) s->strict = on != 0;
}

size_t wd_policy_set_count(const wd_policy_set *s) {
  return s != NULL ? s->n : 0;
}

const char *wd_policy_set_id(const wd_policy_set *s, size_t i) {
  return (s != NULL && i < s->n) ? s->v[i]->id : NULL;
}

int wd_policy_set_has(const wd_policy_set *s, const char *name) {
  if (s == NULL || name == NULL) return 0;
  return wd__policy_hget(&s->byid, name, strlen(name), hstr(name)) != NULL ||
         group_get(s, name) != NULL;
}

/* }====================================================================== */

/*
** {======================================================================
** Scopes
** =======================================================================
*/

static void scope_free(wd_scope *sc) {
  size_t i;
  for (i = 0; i < sc->nrules; i++)
    wd__policy_rule_release(sc->rules[i]);
  wd__policy_index_free(sc);
  wd_free(sc->rules);
  wd_free(sc->keyf);
  wd_free(sc);
}

static int scope_push(wd_scope *sc, size_t *cap, HMap *seen, Rule *r) {
  int e = 0;
  if (wd__policy_hget(seen, r->id, strlen(r->id), hstr(r->id)) != NULL)
    return 0;
  /* NOLINTNEXTLINE(bugprone-sizeof-expression): arrays of pointers */
  GROW(sc->rules, *cap, sc->nrules, e);
  if (e != 0 || wd__policy_hput(seen, r->id, strlen(r->id), r) != 0)
    return WD_ENOMEM;
  atomic_fetch_add(&r->refs, 1);
  sc->rules[sc->nrules++] = r;
  return 0;
}

/*
** The fields a decision can depend on besides the action and resource:
** every field and value_from of every condition. They make the cache key.
*/
static int keyfields(wd_scope *sc) {
  HMap seen = { 0 };
  size_t i, j, k, cap = 0;
  int r = 0;
  for (i = 0; i < sc->nrules && r == 0; i++) {
    const Rule *rule = sc->rules[i];
    for (j = 0; j < rule->nconds && r == 0; j++) {
      const Cond *c = &rule->conds[j];
      for (k = 0; k < 2 && r == 0; k++) {
        const Field *f = k == 0 ? &c->f : &c->from;
        if (k == 1 && !c->has_from) continue;
        if (f->kind == F_ACTION || f->kind == F_RESOURCE) continue;
        if (wd__policy_hget(&seen, f->text, strlen(f->text), hstr(f->text)))
          continue;
        /* NOLINTNEXTLINE(bugprone-sizeof-expression): arrays of pointers */
        GROW(sc->keyf, cap, sc->nkeyf, r);
        if (r == 0)
          r = wd__policy_hput(&seen, f->text, strlen(f->text), (void *)f);
        if (r == 0) sc->keyf[sc->nkeyf++] = f;
      }
    }
  }
  wd__policy_hfree(&seen);
  return r;
}

static int unknown(char *err, size_t errlen, const char *name) {
  SBuf sb;
  wd__policy_sb_init(&sb, err, errlen);
  wd__policy_sb_puts(&sb, "unknown policy or group '");
  wd__policy_sb_putq(&sb, name, strlen(name));
  wd__policy_sb_puts(&sb, "'");
  return WD_ENOTFOUND;
}

int wd_scope_new(const wd_policy_set *s, const char *const *names, size_t n,
                 wd_scope **out, char *err, size_t errlen) {
  wd_scope *sc;
  HMap seen = { 0 };
  size_t i, j, cap = 0;
  int r = 0;
  if (err != NULL && errlen > 0) err[0] = '\0';
  if (out == NULL) return WD_EINVAL;
  *out = NULL;
  if (s == NULL || (names == NULL && n > 0)) return WD_EINVAL;
  if ((sc = wd_calloc(1, sizeof *sc)) == NULL) return WD_ENOMEM;
  atomic_init(&sc->refs, 1);
  for (i = 0; i < n && r == 0; i++) {
    const char *name = names[i];
    Rule *rule;
    const Group *g;
    if (name == NULL) {
      r = WD_EINVAL;
      break;
    }
    rule = wd__policy_hget(&s->byid, name, strlen(name), hstr(name));
    g = group_get(s, name);
    if (rule == NULL && g == NULL) {
      r = unknown(err, errlen, name);
      break;
    }
    if (rule != NULL) r = scope_push(sc, &cap, &seen, rule);
    for (j = 0; g != NULL && j < g->n && r == 0; j++)
      r = scope_push(sc, &cap, &seen, g->v[j]);
  }
  wd__policy_hfree(&seen);
  if (r == 0) r = wd__policy_index_build(sc);
  if (r == 0) r = keyfields(sc);
  if (r != 0) {
    scope_free(sc);
    return r;
  }
  sc->gen = atomic_fetch_add(&g_scope_gen, 1) + 1;
  *out = sc;
  return 0;
}

wd_scope *wd_scope_grab(wd_scope *sc) {
  if (sc != NULL) atomic_fetch_add(&sc->refs, 1);
  return sc;
}

void wd_scope_release(wd_scope *sc) {
  if (sc != NULL && atomic_fetch_sub(&sc->refs, 1) == 1) scope_free(sc);
}

size_t wd_scope_count(const wd_scope *sc) {
  return sc != NULL ? sc->nrules : 0;
}

uint64_t wd_scope_gen(const wd_scope *sc) {
  return sc != NULL ? sc->gen : 0;
}

/* }====================================================================== */

/*
** {======================================================================
** Decisions
** =======================================================================
*/

/* The deciding rules: the WD_PDECISION_MAXIDS smallest ids, deduplicated,
** so neither policy order nor a rule reached twice changes the record. */
typedef struct Top {
  const Rule *v[WD_PDECISION_MAXIDS];
  size_t n;
  int more;
} Top;

typedef struct Acc {
  const wd_preq *rq;
  Top deny, allow;
} Acc;

static void top_add(Top *t, const Rule *r) {
  size_t i;
  for (i = 0; i < t->n; i++)
    if (t->v[i] == r) return;
  if (t->n == WD_PDECISION_MAXIDS) {
    t->more = 1;
    if (strcmp(r->id, t->v[t->n - 1]->id) > 0) return;
    t->n--;
  }
  for (i = t->n; i > 0 && strcmp(r->id, t->v[i - 1]->id) < 0; i--)
    t->v[i] = t->v[i - 1];
  t->v[i] = r;
  t->n++;
}

static void consider(Acc *a, const Rule *r) {
  /* Once a deny matched, allows cannot change the outcome: skip them. */
  if (r->effect == WD_PEFFECT_ALLOW && a->deny.n > 0) return;
  if (r->nconds > 0 && !wd__policy_conds_hold(r, a->rq)) return;
  top_add(r->effect == WD_PEFFECT_DENY ? &a->deny : &a->allow, r);
}

static void on_leaf(const Leaf *l, void *ud) {
  size_t i;
  for (i = 0; i < l->n; i++)
    consider(ud, l->v[i]);
}

static int decide(int effect, int reason, const Top *t, wd_pdecision *d) {
  size_t i;
  if (d != NULL) {
    memset(d, 0, sizeof *d);
    d->effect = effect;
    d->reason = reason;
    if (t != NULL) {
      for (i = 0; i < t->n; i++)
        d->ids[i] = t->v[i]->id;
      d->nids = t->n;
      d->more = t->more;
    }
  }
  return effect == WD_PEFFECT_ALLOW ? WD_POLICY_ALLOW : WD_EDENIED;
}

/* Deny-by-default for anything incomplete. 0 if the request can go on. */
static int precheck(const wd_scope *sc, const wd_preq *rq, wd_pdecision *d) {
  if (rq == NULL || rq->action == NULL || rq->resource == NULL ||
      (rq->nattrs > 0 && rq->attrs == NULL))
    return decide(WD_PEFFECT_DENY, WD_REASON_BAD_REQUEST, NULL, d);
  if (sc == NULL || rq->actor_id == NULL)
    return decide(WD_PEFFECT_DENY, WD_REASON_NO_ACTOR_OR_SCOPE, NULL, d);
  return 0;
}

static int finish(const Acc *a, wd_pdecision *d) {
  if (a->deny.n > 0)
    return decide(WD_PEFFECT_DENY, WD_REASON_DENIED_BY_POLICY, &a->deny, d);
  if (a->allow.n > 0)
    return decide(WD_PEFFECT_ALLOW, WD_REASON_ALLOWED, &a->allow, d);
  return decide(WD_PEFFECT_DENY, WD_REASON_NO_MATCH, NULL, d);
}

int wd_policy_check(const wd_scope *sc, const wd_preq *rq, wd_pdecision *d) {
  Acc a;
  int r;
  if ((r = precheck(sc, rq, d)) != 0) return r;
  memset(&a, 0, sizeof a);
  a.rq = rq;
  wd__policy_index_walk(sc, rq->action, rq->resource, on_leaf, &a);
  return finish(&a, d);
}

int wd_policy_check_scan(const wd_scope *sc, const wd_preq *rq,
                         wd_pdecision *d) {
  Acc a;
  size_t i;
  int r;
  if ((r = precheck(sc, rq, d)) != 0) return r;
  memset(&a, 0, sizeof a);
  a.rq = rq;
  for (i = 0; i < sc->nrules; i++) {
    const Rule *rule = sc->rules[i];
    if (rule->effect == WD_PEFFECT_ALLOW && a.deny.n > 0) continue;
    if (wd__policy_rule_match(rule, rq))
      top_add(rule->effect == WD_PEFFECT_DENY ? &a.deny : &a.allow, rule);
  }
  return finish(&a, d);
}

const char *wd_policy_reason(int reason) {
  switch (reason) {
#define XX(name, msg)                                                          \
  case WD_REASON_##name:                                                       \
    return msg;
    WD_REASON_MAP(XX)
#undef XX
    default:
      return "unknown reason";
  }
}

int wd_policy_explain(const wd_pdecision *d, char *out, size_t outlen) {
  SBuf sb;
  size_t i;
  if (d == NULL || (out == NULL && outlen > 0)) return WD_EINVAL;
  wd__policy_sb_init(&sb, out, outlen);
  if (d->effect == WD_PEFFECT_ALLOW) {
    wd__policy_sb_puts(&sb, "allow: ");
    if (d->nids == 0) wd__policy_sb_puts(&sb, wd_policy_reason(d->reason));
  } else if (d->reason == WD_REASON_DENIED_BY_POLICY && d->nids > 0) {
    wd__policy_sb_puts(&sb, "deny: forbidden by ");
  } else {
    wd__policy_sb_puts(&sb, "deny: ");
    wd__policy_sb_puts(&sb, wd_policy_reason(d->reason));
  }
  for (i = 0; i < d->nids && i < WD_PDECISION_MAXIDS; i++) {
    if (i > 0) wd__policy_sb_puts(&sb, ", ");
    wd__policy_sb_puts(&sb, d->ids[i] != NULL ? d->ids[i] : "?");
  }
  if (d->nids > 0 && d->more) wd__policy_sb_puts(&sb, ", ...");
  return sb.len > INT_MAX ? INT_MAX : (int)sb.len;
}

/* }====================================================================== */
