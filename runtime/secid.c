/*
** runtime/secid.c
** Compiled-scope cache and the travelling form of actors.
** Runs in: broker and host.
*/
#include <fnmatch.h>
#include <stdio.h>
#include <string.h>

#include "ward/wd_secid.h"
#include "ward/wd_wire.h"

typedef struct scopec {
  struct scopec *next;
  char *key;
  size_t len;
  wd_scope *sc;
} scopec;

struct wd_scopes {
  const wd_policy_set *set;
  scopec *head;
};

int wd_scopes_new(const wd_policy_set *set, wd_scopes **out) {
  wd_scopes *c = wd_calloc(1, sizeof *c);
  if (c == NULL) return WD_ENOMEM;
  c->set = set;
  *out = c;
  return 0;
}

void wd_scopes_free(wd_scopes *c) {
  scopec *s;
  if (c == NULL) return;
  while ((s = c->head) != NULL) {
    c->head = s->next;
    if (s->sc) wd_scope_release(s->sc);
    wd_free(s->key);
    wd_free(s);
  }
  wd_free(c);
}

wd_scope *wd_scopes_get(wd_scopes *c, const char *key, size_t len) {
  scopec *s;
  const char *names[256];
  char *copy, *p;
  size_t n = 0;
  wd_scope *sc = NULL;
  if (c == NULL || len == 0) return NULL;
  for (s = c->head; s != NULL; s = s->next)
    if (s->len == len && memcmp(s->key, key, len) == 0) return s->sc;
  if ((copy = wd_strndup(key, len)) == NULL) return NULL;
  for (p = copy; p != NULL && n < 256;) {
    char *nl = strchr(p, '\n');
    if (nl) *nl = '\0';
    if (*p) names[n++] = p;
    p = nl ? nl + 1 : NULL;
  }
  if (wd_scope_new(c->set, names, n, &sc, NULL, 0) < 0) sc = NULL;
  wd_free(copy);
  s = wd_calloc(1, sizeof *s);
  if (s == NULL || (s->key = wd_strndup(key, len)) == NULL) {
    wd_free(s);
    if (sc) wd_scope_release(sc);
    return NULL;
  }
  s->len = len;
  s->sc = sc;
  s->next = c->head;
  c->head = s;
  return sc;
}

size_t wd_actor_unpack(const char *packed, size_t len, wd_pval *meta) {
  const char *nul = memchr(packed, '\0', len);
  size_t idlen = nul ? (size_t)(nul - packed) : len;
  *meta = wd_pval_null();
  if (nul != NULL && idlen + 1 < len) {
    wd_cur c;
    wd_cur_init(&c, packed + idlen + 1, len - idlen - 1);
    if (wd_wire_get_pval(&c, meta) < 0) *meta = wd_pval_null();
  }
  return idlen;
}

void wd_sec_request(wd_seccheck *c, const char *actor_id,
                    const wd_pval *meta, const char *action,
                    const char *resource, size_t rlen, const char *pid,
                    size_t pl, const char *host, size_t hl,
                    const char *target_host, const char *topic) {
  size_t n = 0;
  if (rlen >= sizeof c->res) rlen = sizeof c->res - 1;
  memcpy(c->res, resource, rlen);
  c->res[rlen] = '\0';
  c->attrs[n].key = "pid";
  c->attrs[n++].val = wd_pval_strn(pid, pl);
  c->attrs[n].key = "host";
  c->attrs[n++].val = wd_pval_strn(host, hl);
  if (target_host != NULL) {
    c->attrs[n].key = "target_host";
    c->attrs[n++].val = wd_pval_str(target_host);
  }
  if (topic != NULL) {
    c->attrs[n].key = "topic";
    c->attrs[n++].val = wd_pval_str(topic);
  }
  memset(&c->rq, 0, sizeof c->rq);
  c->rq.actor_id = actor_id != NULL && actor_id[0] ? actor_id : NULL;
  c->rq.actor_meta = meta;
  c->rq.action = action;
  c->rq.resource = c->res;
  c->rq.attrs = c->attrs;
  c->rq.nattrs = n;
}

int wd_sec_decide(const wd_seccheck *c, const wd_scope *sc,
                  wd_pcache *cache, wd_pdecision *d) {
  memset(d, 0, sizeof *d);
  if (sc == NULL || c->rq.actor_id == NULL)
    return wd_policy_check(NULL, &c->rq, d);
  return wd_pcache_check(cache, sc, &c->rq, d);
}

/* {====== Ceilings ====== */

static int in_list(const char *const *v, size_t n, const char *s, size_t l) {
  size_t i;
  for (i = 0; i < n; i++)
    if (strlen(v[i]) == l && memcmp(v[i], s, l) == 0) return 1;
  return 0;
}

int wd_ceiling_fits(const wd_ceiling *c, const char *actor, size_t al,
                    const char *scope, size_t sl, char *why, size_t whylen) {
  const char *nul = memchr(actor, '\0', al);
  const char *p = scope, *end = scope + sl;
  size_t idlen = nul ? (size_t)(nul - actor) : al, i;
  char id[256];
  int ok = 0;
  if (!c->on) return 1;
  if (idlen >= sizeof id) {
    snprintf(why, whylen, "actor id too long");
    return 0;
  }
  memcpy(id, actor, idlen);
  id[idlen] = '\0';
  if (idlen > 0) {
    for (i = 0; i < c->nactors && !ok; i++)
      ok = fnmatch(c->actors[i], id, 0) == 0;
    if (!ok) {
      snprintf(why, whylen, "actor '%s' is outside the host's ceiling", id);
      return 0;
    }
  }
  while (p < end) {
    const char *nl = memchr(p, '\n', (size_t)(end - p));
    size_t n = nl ? (size_t)(nl - p) : (size_t)(end - p);
    if (n > 0 && !in_list(c->groups, c->ngroups, p, n) &&
        !in_list(c->policies, c->npolicies, p, n)) {
      snprintf(why, whylen, "scope name '%.*s' is outside the host's "
                            "ceiling", (int)n, p);
      return 0;
    }
    p += n + 1;
  }
  return 1;
}

/* }====== */
