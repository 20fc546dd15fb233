/*
** policy/load.c
** Compile one `security.policy` entry (a wd_node tree) into a Rule:
** patterns, fields, operators, constant values and regular expressions,
** each checked here so that evaluation never meets a malformed policy.
** Every error names the file, line and column of the offending node.
** Runs in: broker and host. Pure: no I/O.
*/
#include <stdlib.h>
#include <string.h>

#include "policy_int.h"

typedef struct Ld {
  char *err;
  size_t errlen;
} Ld;

/*
** Write "FILE:LINE:COL: <a><q><b>" (q quoted by the caller's a/b, shown
** with control bytes masked) and return WD_EINVAL.
*/
static void where(SBuf *sb, const wd_node *at) {
  if (at == NULL) return;
  wd__policy_sb_puts(sb, at->file != NULL ? at->file : "?");
  wd__policy_sb_puts(sb, ":");
  wd__policy_sb_putint(sb, at->line);
  wd__policy_sb_puts(sb, ":");
  wd__policy_sb_putint(sb, at->col);
  wd__policy_sb_puts(sb, ": ");
}

static int lerr(Ld *L, const wd_node *at, const char *a, const char *q,
                size_t qn, const char *b) {
  SBuf sb;
  wd__policy_sb_init(&sb, L->err, L->errlen);
  where(&sb, at);
  wd__policy_sb_puts(&sb, a);
  if (q != NULL) wd__policy_sb_putq(&sb, q, qn);
  if (b != NULL) wd__policy_sb_puts(&sb, b);
  return WD_EINVAL;
}

static int msg(Ld *L, const wd_node *at, const char *m) {
  return lerr(L, at, m, NULL, 0, NULL);
}

static int oom(Ld *L) {
  return lerr(L, NULL, "out of memory", NULL, 0, NULL), WD_ENOMEM;
}

/* Text of a scalar node with no NUL inside, else NULL. */
static const char *text(const wd_node *n) {
  if (n == NULL || n->type != WD_NODE_SCALAR || n->str == NULL) return NULL;
  if (memchr(n->str, '\0', n->len) != NULL) return NULL;
  return n->str;
}

/* An unquoted null scalar ("", "~", "null"), which YAML reads as no value. */
static int isnull(const wd_node *n) {
  const char *s = text(n);
  return s != NULL && !n->quoted &&
         (s[0] == '\0' || strcmp(s, "~") == 0 || strcmp(s, "null") == 0);
}

static int keyis(const wd_node *k, const char *name) {
  return k->len == strlen(name) && memcmp(k->str, name, k->len) == 0;
}

/*
** Check a map's keys against 'known' (NULL-terminated): each must be a
** scalar, known, and appear once. 'what' names the map in messages.
*/
static int check_keys(Ld *L, const wd_node *m, const char *const *known,
                      const char *what) {
  size_t i, j;
  for (i = 0; i < m->n; i++) {
    const wd_node *k = m->keys[i];
    if (text(k) == NULL) return msg(L, k != NULL ? k : m, "bad map key");
    for (j = 0; known[j] != NULL && !keyis(k, known[j]); j++) {
    }
    if (known[j] == NULL)
      return lerr(L, k, "unknown key '", k->str, k->len, what);
    for (j = 0; j < i; j++)
      if (m->keys[j]->len == k->len &&
          memcmp(m->keys[j]->str, k->str, k->len) == 0)
        return lerr(L, k, "duplicate key '", k->str, k->len, what);
  }
  return 0;
}

static const wd_node *get(const wd_node *m, const char *key) {
  size_t i;
  for (i = 0; i < m->n; i++)
    if (keyis(m->keys[i], key)) return m->kids[i];
  return NULL;
}

/*
** {======================================================================
** Patterns
** =======================================================================
*/

static int pat_one(Ld *L, const wd_node *n, Pat *p, const char *name) {
  const char *s = text(n);
  size_t len;
  if (s == NULL || isnull(n))
    return lerr(L, n, "policy.", name, strlen(name),
                " must be a string or a list of strings");
  len = n->len;
  if (len == 0)
    return lerr(L, n, "policy.", name, strlen(name), " must not be empty");
  /* The reference's matchesPattern: "*", then "p.*", then "p*". */
  if (len == 1 && s[0] == '*') {
    p->kind = PAT_ANY;
    len = 0;
  } else if (len > 2 && s[len - 2] == '.' && s[len - 1] == '*') {
    p->kind = PAT_PREFIX;
    len -= 2;
  } else if (len > 1 && s[len - 1] == '*') {
    p->kind = PAT_PREFIX;
    len -= 1;
  } else {
    p->kind = PAT_EXACT;
  }
  if ((p->s = wd_strndup(s, len)) == NULL) return oom(L);
  p->len = len;
  return 0;
}

static int pats(Ld *L, const wd_node *pol, const char *name, Pat **out,
                size_t *nout) {
  const wd_node *n = get(pol, name);
  size_t i, cnt;
  int r;
  if (n == NULL)
    return lerr(L, pol, "policy.", name, strlen(name), " is missing");
  if (n->type == WD_NODE_MAP)
    return lerr(L, n, "policy.", name, strlen(name),
                " must be a string or a list of strings");
  cnt = n->type == WD_NODE_SEQ ? n->n : 1;
  if (cnt == 0)
    return lerr(L, n, "policy.", name, strlen(name), " must not be empty");
  if ((*out = wd_calloc(cnt, sizeof **out)) == NULL) return oom(L);
  for (i = 0; i < cnt; i++) {
    r = pat_one(L, n->type == WD_NODE_SEQ ? n->kids[i] : n, &(*out)[i], name);
    if (r != 0) return r;
    *nout = i + 1;
  }
  return 0;
}

/* }====================================================================== */

/*
** {======================================================================
** Fields and conditions
** =======================================================================
*/

/* Split text after 'skip' bytes into '.'-separated, non-empty parts. */
static int split(Field *f, size_t skip) {
  const char *s = f->text + skip, *dot;
  size_t n = 1, i;
  for (dot = s; (dot = strchr(dot, '.')) != NULL; dot++)
    n++;
  if ((f->path = wd_calloc(n, sizeof *f->path)) == NULL) return WD_ENOMEM;
  for (i = 0; i < n; i++) {
    dot = strchr(s, '.');
    f->path[i].p = s;
    f->path[i].n = dot != NULL ? (size_t)(dot - s) : strlen(s);
    f->npath = i + 1;
    if (f->path[i].n == 0) return WD_EINVAL;
    s = dot != NULL ? dot + 1 : s;
  }
  return 0;
}

static int field(Ld *L, const wd_node *n, Field *f, const char *what) {
  const char *s = text(n);
  int r = 0;
  if (s == NULL || isnull(n))
    return lerr(L, n, "condition.", what, strlen(what), " must be a string");
  if ((f->text = wd_strdup(s)) == NULL) return oom(L);
  if (strcmp(s, "action") == 0) {
    f->kind = F_ACTION;
  } else if (strcmp(s, "resource") == 0) {
    f->kind = F_RESOURCE;
  } else if (strcmp(s, "actor.id") == 0) {
    f->kind = F_ACTOR_ID;
  } else if (strcmp(s, "actor.meta") == 0) {
    f->kind = F_ACTOR_META;
  } else if (strncmp(s, "actor.meta.", 11) == 0) {
    f->kind = F_ACTOR_META;
    r = split(f, 11);
  } else if (strncmp(s, "meta.", 5) == 0) {
    f->kind = F_META;
    r = split(f, 5);
  } else if (s[0] == '\0' || strcmp(s, "meta") == 0 ||
             strcmp(s, "actor") == 0 || strncmp(s, "actor.", 6) == 0 ||
             strncmp(s, "action.", 7) == 0 || strncmp(s, "resource.", 9) == 0) {
    /* Paths the reference resolves to errors or to surprising values. */
    r = WD_EINVAL;
  } else {
    /* One component: the whole text, so lookups need no strlen. */
    f->kind = F_ATTR;
    if ((f->path = wd_calloc(1, sizeof *f->path)) == NULL) return oom(L);
    f->path[0].p = f->text;
    f->path[0].n = n->len;
    f->npath = 1;
  }
  if (r == WD_ENOMEM) return oom(L);
  if (r != 0) return lerr(L, n, "unknown field '", s, n->len, "'");
  return 0;
}

static int opcode(const char *s) {
  int i;
  for (i = 0; i < OP__N; i++)
    if (strcmp(s, wd__policy_opnames[i]) == 0) return i;
  return -1;
}

static int opmsg(Ld *L, const wd_node *at, const Cond *c, const char *m) {
  const char *op = wd__policy_opnames[c->op];
  return lerr(L, at, "operator '", op, strlen(op), m);
}

static int regex(Ld *L, const wd_node *vn, Cond *c) {
  char ebuf[128];
  const char *s = text(vn);
  int r;
  if (s == NULL || vn->type != WD_NODE_SCALAR)
    return opmsg(L, vn, c, "' needs a string value");
  if ((r = regcomp(&c->re, s, REG_EXTENDED | REG_NOSUB)) != 0) {
    SBuf sb;
    char m[192];
    regerror(r, NULL, ebuf, sizeof ebuf);
    wd__policy_sb_init(&sb, m, sizeof m);
    wd__policy_sb_puts(&sb, "': ");
    wd__policy_sb_puts(&sb, ebuf);
    return lerr(L, vn, "bad regular expression '", s, vn->len, m);
  }
  c->has_re = 1;
  return 0;
}

/* Check the constant against what the operator can use. */
static int check_value(Ld *L, const wd_node *vn, Cond *c) {
  Num num;
  int t = c->val.type;
  c->plain = t == WD_PVAL_STR && !wd__policy_num(&c->val, &num);
  switch (c->op) {
    case OP_EXISTS:
    case OP_NEXISTS:
      if (t != WD_PVAL_BOOL) return opmsg(L, vn, c, "' needs true or false");
      c->want = c->val.u.b;
      return 0;
    case OP_MATCHES:
    case OP_NMATCHES:
      return regex(L, vn, c);
    case OP_LT:
    case OP_GT:
    case OP_LTE:
    case OP_GTE:
      if (!wd__policy_num(&c->val, &num))
        return opmsg(L, vn, c, "' needs a number");
      return 0;
    case OP_IN:
    case OP_NIN:
      if (t == WD_PVAL_MAP)
        return opmsg(L, vn, c, "' needs a list or a single value");
      return 0;
    default:
      if (t == WD_PVAL_MAP || t == WD_PVAL_LIST)
        return opmsg(L, vn, c, "' needs a single value");
      return 0;
  }
}

static int cond(Ld *L, const wd_node *n, Cond *c) {
  static const char *const known[] = {
    "field", "operator", "value", "value_from", NULL,
  };
  const wd_node *fn, *on, *vn, *from;
  const char *s;
  int r;
  if (n == NULL || n->type != WD_NODE_MAP)
    return msg(L, n, "condition must be a map");
  c->line = n->line;
  c->col = n->col;
  if ((r = check_keys(L, n, known, "' in condition")) != 0) return r;
  fn = get(n, "field");
  on = get(n, "operator");
  vn = get(n, "value");
  from = get(n, "value_from");
  if (fn == NULL) return msg(L, n, "condition.field is missing");
  if ((r = field(L, fn, &c->f, "field")) != 0) return r;
  if (on == NULL) return msg(L, n, "condition.operator is missing");
  if ((s = text(on)) == NULL || (c->op = opcode(s)) < 0)
    return lerr(L, on, "unknown operator '", s != NULL ? s : "",
                s != NULL ? on->len : 0, "'");
  if (vn != NULL && from != NULL)
    return msg(L, from, "condition has both value and value_from");
  if (from != NULL) {
    if (c->op == OP_EXISTS || c->op == OP_NEXISTS || c->op == OP_MATCHES ||
        c->op == OP_NMATCHES)
      return opmsg(L, from, c, "' does not take value_from");
    c->has_from = 1;
    return field(L, from, &c->from, "value_from");
  }
  /* exists/nexists alone mean "value: true". */
  if (vn == NULL && (c->op == OP_EXISTS || c->op == OP_NEXISTS)) {
    c->want = 1;
    return 0;
  }
  if (vn == NULL || isnull(vn))
    return msg(L, vn != NULL ? vn : n, "condition.value is missing");
  if ((r = wd_pval_from_node(vn, &c->val)) == WD_ENOMEM) return oom(L);
  if (r != 0) return msg(L, vn, "condition.value is nested too deeply");
  return check_value(L, vn, c);
}

static int conds(Ld *L, const wd_node *pol, Rule *rule) {
  const wd_node *n = get(pol, "conditions");
  size_t i;
  int r;
  if (n == NULL || isnull(n)) return 0;
  if (n->type != WD_NODE_SEQ)
    return msg(L, n, "policy.conditions must be a list");
  if ((rule->conds = wd_calloc(n->n, sizeof *rule->conds)) == NULL)
    return oom(L);
  for (i = 0; i < n->n; i++) {
    rule->nconds = i + 1;
    if ((r = cond(L, n->kids[i], &rule->conds[i])) != 0) return r;
  }
  return 0;
}

/* }====================================================================== */

static int effect(Ld *L, const wd_node *pol, Rule *rule) {
  const wd_node *n = get(pol, "effect");
  const char *s;
  if (n == NULL) return msg(L, pol, "policy.effect is missing");
  s = text(n);
  if (s != NULL && strcmp(s, "allow") == 0) {
    rule->effect = WD_PEFFECT_ALLOW;
  } else if (s != NULL && strcmp(s, "deny") == 0) {
    rule->effect = WD_PEFFECT_DENY;
  } else {
    return lerr(L, n, "policy.effect must be allow or deny, not '",
                s != NULL ? s : "", s != NULL ? n->len : 0, "'");
  }
  return 0;
}

static int groups(Ld *L, const wd_node *g, const char *ns, Rule *rule) {
  size_t i, j, nsn = ns != NULL ? strlen(ns) : 0;
  if (g == NULL || isnull(g)) return 0;
  if (g->type != WD_NODE_SEQ) return msg(L, g, "groups must be a list");
  if ((rule->groups = wd_calloc(g->n, sizeof *rule->groups)) == NULL)
    return oom(L);
  for (i = 0; i < g->n; i++) {
    const wd_node *k = g->kids[i];
    const char *s = text(k);
    char *q;
    if (s == NULL || isnull(k))
      return msg(L, k != NULL ? k : g, "group must be a non-empty string");
    if (strchr(s, ':') != NULL) {
      q = wd_strdup(s);
    } else {
      if (nsn == 0)
        return lerr(L, k, "group '", s, k->len, "' needs a namespace");
      if ((q = wd_malloc(nsn + 1 + k->len + 1)) != NULL) {
        memcpy(q, ns, nsn);
        q[nsn] = ':';
        memcpy(q + nsn + 1, s, k->len + 1);
      }
    }
    if (q == NULL) return oom(L);
    for (j = 0; j < rule->ngroups && strcmp(rule->groups[j], q) != 0; j++) {
    }
    if (j < rule->ngroups) { /* listed twice: keep one */
      wd_free(q);
      continue;
    }
    rule->groups[rule->ngroups++] = q;
  }
  return 0;
}

/*
** {======================================================================
** Names: what ward asks (strict sets only)
** =======================================================================
*/

/*
** Every action pattern must match an action ward asks and every field
** (and value_from) must be one a request has: a name that can never be
** asked makes a rule that never applies, and a deny that never applies
** allows what it was written to forbid. Runs after the structure is
** checked, so the nodes are well-formed and a malformed policy reports
** its malformation first.
*/
static int names(Ld *L, const wd_node *pol) {
  const wd_node *a = get(pol, "actions"), *cs = get(pol, "conditions");
  const wd_node *n;
  size_t i, k, cnt = a->type == WD_NODE_SEQ ? a->n : 1;
  SBuf sb;
  for (i = 0; i < cnt; i++) {
    n = a->type == WD_NODE_SEQ ? a->kids[i] : a;
    if (wd_policy_action_known(n->str)) continue;
    wd__policy_sb_init(&sb, L->err, L->errlen);
    where(&sb, n);
    wd__policy_action_msg(&sb, n->str);
    return WD_EINVAL;
  }
  for (i = 0; cs != NULL && cs->type == WD_NODE_SEQ && i < cs->n; i++)
    for (k = 0; k < 2; k++) {
      n = get(cs->kids[i], k == 0 ? "field" : "value_from");
      if (n == NULL || wd_policy_field_known(n->str)) continue;
      wd__policy_sb_init(&sb, L->err, L->errlen);
      where(&sb, n);
      wd__policy_field_msg(&sb, n->str);
      return WD_EINVAL;
    }
  return 0;
}

/* }====================================================================== */

static void field_free(Field *f) {
  wd_free(f->text);
  wd_free(f->path);
}

static void rule_free(Rule *r) {
  size_t i;
  if (r == NULL) return;
  for (i = 0; i < r->nacts; i++)
    wd_free(r->acts[i].s);
  for (i = 0; i < r->nress; i++)
    wd_free(r->ress[i].s);
  for (i = 0; i < r->nconds; i++) {
    Cond *c = &r->conds[i];
    field_free(&c->f);
    field_free(&c->from);
    wd_pval_clear(&c->val);
    if (c->has_re) regfree(&c->re);
  }
  for (i = 0; i < r->ngroups; i++)
    wd_free(r->groups[i]);
  wd_free(r->acts);
  wd_free(r->ress);
  wd_free(r->conds);
  wd_free(r->groups);
  wd_free(r->id);
  wd_free(r->file);
  wd_free(r);
}

void wd__policy_rule_release(Rule *r) {
  if (r != NULL && atomic_fetch_sub(&r->refs, 1) == 1) rule_free(r);
}

int wd__policy_compile(const char *id, const char *ns, const wd_node *pol,
                       const wd_node *grp, int strict, Rule **out, char *err,
                       size_t errlen) {
  static const char *const known[] = {
    "actions", "resources", "effect", "conditions", NULL,
  };
  Ld L;
  Rule *rule;
  int r;
  L.err = err;
  L.errlen = errlen;
  *out = NULL;
  if (err != NULL && errlen > 0) err[0] = '\0';
  if (pol == NULL)
    return lerr(&L, grp, "policy '", id, strlen(id), "' has no policy map");
  if (pol->type != WD_NODE_MAP) return msg(&L, pol, "policy must be a map");
  if ((rule = wd_calloc(1, sizeof *rule)) == NULL) return oom(&L);
  atomic_init(&rule->refs, 1);
  rule->line = pol->line;
  rule->col = pol->col;
  if ((rule->id = wd_strdup(id)) == NULL ||
      (rule->file = wd_strdup(pol->file != NULL ? pol->file : "?")) == NULL) {
    r = oom(&L);
    goto fail;
  }
  if ((r = check_keys(&L, pol, known, "' in policy")) != 0 ||
      (r = pats(&L, pol, "actions", &rule->acts, &rule->nacts)) != 0 ||
      (r = pats(&L, pol, "resources", &rule->ress, &rule->nress)) != 0 ||
      (r = effect(&L, pol, rule)) != 0 || (r = conds(&L, pol, rule)) != 0 ||
      (r = groups(&L, grp, ns, rule)) != 0 ||
      (strict && (r = names(&L, pol)) != 0))
    goto fail;
  *out = rule;
  return 0;
fail:
  rule_free(rule);
  return r;
}
