/*
** runtime/hsec.c
** The host's side of the policy engine: the policies the broker shipped,
** each process's actor and scope, and the decision every process.* call
** asks for before it has any effect (deny by default, ARCHITECTURE.md
** §5). The VM's bindings ask it (runtime/lua/lpolicy.c) and report
** denials to the broker's audit log.
** Runs in: host (sandboxed).
*/
#include <stdio.h>
#include <string.h>

#include "host_int.h"
#include "ward/wd_secid.h"

/* {====== Loading ====== */

/* One list of the ceiling: u32 n, n * str. */
static int get_strv(wd_cur *c, const char *const **out, size_t *nout) {
  uint32_t n, i;
  char **v;
  if (wd_cur_u32(c, &n) < 0 || n > 4096) return WD_EBADFRAME;
  if ((v = wd_calloc(n + 1, sizeof *v)) == NULL) return WD_ENOMEM;
  *out = (const char *const *)v;
  *nout = 0;
  for (i = 0; i < n; i++) {
    const char *s;
    size_t l;
    if (wd_cur_str(c, &s, &l) < 0 || memchr(s, '\0', l) != NULL)
      return WD_EBADFRAME;
    if ((v[i] = wd_strndup(s, l)) == NULL) return WD_ENOMEM;
    *nout = i + 1;
  }
  return 0;
}

static void free_strv(const char *const *v, size_t n) {
  size_t i;
  for (i = 0; i < n; i++) wd_free((void *)(uintptr_t)v[i]);
  wd_free((void *)(uintptr_t)v);
}

/* What the policies section of INIT (or a POLICY record) holds, read
** whole before any of it replaces what the host has. */
typedef struct hpol {
  int mode;
  wd_policy_set *pset;
  wd_pcache *pcache;
  struct wd_scopes *scopes;
  wd_ceiling ceil;
} hpol;

static void hpol_free(hpol *p) {
  free_strv(p->ceil.actors, p->ceil.nactors);
  free_strv(p->ceil.groups, p->ceil.ngroups);
  free_strv(p->ceil.policies, p->ceil.npolicies);
  wd_scopes_free(p->scopes);
  wd_pcache_free(p->pcache);
  wd_policy_set_free(p->pset);
  memset(p, 0, sizeof *p);
}

/* The policies section: u8 audit mode, u32 n, n * (str id, str ns, str
** file, node policy, node groups); then the host's ceiling: u8 on, and
** three lists (actor patterns, groups, policy ids). On failure 'p' holds
** what was read: free it with hpol_free. */
static int hpol_read(wd_cur *c, hpol *p) {
  uint8_t mode;
  uint32_t n, i;
  int r;
  memset(p, 0, sizeof *p);
  if (wd_cur_u8(c, &mode) < 0 || wd_cur_u32(c, &n) < 0 || n > 1000000)
    return WD_EBADFRAME;
  p->mode = mode;
  if ((r = wd_policy_set_new(&p->pset)) < 0) return r;
  if ((r = wd_pcache_new(4096, &p->pcache)) < 0) return r;
  if ((r = wd_scopes_new(p->pset, &p->scopes)) < 0) return r;
  for (i = 0; i < n; i++) {
    const char *id, *ns, *file;
    size_t il, nl, fl;
    char ids[300], nss[300], err[300];
    wd_node *pol = NULL, *groups = NULL;
    if (wd_cur_str(c, &id, &il) || wd_cur_str(c, &ns, &nl) ||
        wd_cur_str(c, &file, &fl) || il >= sizeof ids || nl >= sizeof nss)
      return WD_EBADFRAME;
    memcpy(ids, id, il);
    ids[il] = '\0';
    memcpy(nss, ns, nl);
    nss[nl] = '\0';
    if ((r = wd_wire_get_node(c, "(shipped policy)", &pol)) < 0) return r;
    if ((r = wd_wire_get_node(c, "(shipped policy)", &groups)) < 0) {
      wd_wire_node_free(pol);
      return r;
    }
    /* The broker compiled the same policies already: a failure here
    ** means a malformed frame. */
    r = wd_policy_add(p->pset, ids, nss, pol, groups, err, sizeof err);
    wd_wire_node_free(pol);
    wd_wire_node_free(groups);
    if (r < 0) return WD_EBADFRAME;
  }
  if (wd_cur_u8(c, &mode) < 0) return WD_EBADFRAME;
  p->ceil.on = mode != 0;
  if ((r = get_strv(c, &p->ceil.actors, &p->ceil.nactors)) < 0 ||
      (r = get_strv(c, &p->ceil.groups, &p->ceil.ngroups)) < 0 ||
      (r = get_strv(c, &p->ceil.policies, &p->ceil.npolicies)) < 0)
    return r;
  return 0;
}

/* Make 'p' the host's policies (taking it over); the old ones go to 'p'. */
static void hpol_swap(wd_host *h, hpol *p) {
  hpol old;
  old.mode = h->audit_mode;
  old.pset = h->pset;
  old.pcache = h->pcache;
  old.scopes = h->scopes;
  old.ceil = h->ceil;
  h->audit_mode = p->mode;
  h->pset = p->pset;
  h->pcache = p->pcache;
  h->scopes = p->scopes;
  h->ceil = p->ceil;
  *p = old;
}

int wd__hsec_init(wd_host *h, wd_cur *c) {
  hpol p;
  int r = hpol_read(c, &p);
  if (r == 0) hpol_swap(h, &p);
  hpol_free(&p);
  return r;
}

/*
** A POLICY record (a reload): the same section as INIT's, read whole
** first (a malformed one changes nothing: the link fails). Then every
** live process's scope is compiled again against the new set and its
** memo of allowed checks forgotten, so no decision of the old set
** outlives the swap; the old set goes last.
*/
int wd__hsec_reload(wd_host *h, wd_cur *c) {
  hpol p;
  size_t i;
  int r = hpol_read(c, &p);
  if (r < 0 || wd_cur_left(c) != 0) {
    hpol_free(&p);
    return r < 0 ? r : WD_EBADFRAME;
  }
  hpol_swap(h, &p);
  for (i = 0; i < HOST_BUCKETS; i++) {
    wd_actor *a;
    for (a = h->buckets[i]; a != NULL; a = a->hnext) {
      wd_free(a->memo);
      a->memo = NULL;
      if (a->sec_scope != NULL)
        a->scope = wd_scopes_get(h->scopes, a->sec_scope, strlen(a->sec_scope));
    }
  }
  hpol_free(&p);
  return 0;
}

void wd__hsec_free(wd_host *h) {
  free_strv(h->ceil.actors, h->ceil.nactors);
  free_strv(h->ceil.groups, h->ceil.ngroups);
  free_strv(h->ceil.policies, h->ceil.npolicies);
  memset(&h->ceil, 0, sizeof h->ceil);
  wd_scopes_free(h->scopes);
  wd_pcache_free(h->pcache);
  wd_policy_set_free(h->pset);
  h->scopes = NULL;
  h->pcache = NULL;
  h->pset = NULL;
}

/* Give 'a' the actor and scope of its spawn. The actor travels as
** "<id>\0<meta as wire pval>" (no meta: just the id). */
int wd__hsec_bind(wd_actor *a, const spawnopt *o) {
  a->meta = wd_pval_null();
  /* One block: the actor, a NUL, the scope, a NUL. */
  a->sec_actor = wd_malloc(o->actorlen + o->scopelen + 2);
  if (a->sec_actor == NULL) return WD_ENOMEM;
  memcpy(a->sec_actor, o->actor, o->actorlen);
  a->sec_actor[o->actorlen] = '\0';
  a->sec_scope = a->sec_actor + o->actorlen + 1;
  memcpy(a->sec_scope, o->scope, o->scopelen);
  a->sec_scope[o->scopelen] = '\0';
  a->sec_actorlen = o->actorlen;
  (void)wd_actor_unpack(o->actor, o->actorlen, &a->meta);
  a->scope = wd_scopes_get(a->h->scopes, o->scope, o->scopelen);
  return 0;
}

void wd__hsec_unbind(wd_actor *a) {
  wd_free(a->memo);
  a->memo = NULL;
  wd_free(a->sec_actor); /* and the scope, in the same block */
  wd_pval_clear(&a->meta);
  a->sec_actor = a->sec_scope = NULL;
}

/* }====== */

/* {====== Checks ====== */

/* Decide 'action' on 'resource' for 'a', without logging it. Returns
** WD_POLICY_ALLOW or WD_EDENIED, with the explanation in 'why'. */
int wd__hsec_decide(wd_actor *a, const char *action, const char *resource,
                   size_t rlen, const char *target_host, const char *topic,
                   char *why, size_t whylen) {
  wd_host *h = a->h;
  wd_seccheck c;
  wd_pdecision d;
  int r;
  wd_sec_request(&c, a->sec_actor, &a->meta, action, resource, rlen, a->pid,
                 a->pidlen, h->id, h->idlen, target_host, topic);
  r = wd_sec_decide(&c, a->scope, h->pcache, &d);
  wd__hstat_decided(a, r == WD_POLICY_ALLOW);
  if (why != NULL) wd_policy_explain(&d, why, whylen);
  return r;
}

/* The host part of a PID, or NULL. */
const char *wd__hsec_host_of(const char *pid, size_t len, char *out,
                            size_t outlen) {
  const char *hid;
  size_t hl;
  uint64_t counter;
  if (wd_pid_parse(pid, len, &hid, &hl, &counter) < 0 || hl >= outlen)
    return NULL;
  memcpy(out, hid, hl);
  out[hl] = '\0';
  return out;
}

/* The last allowed requests of an actor, repeated: a decision depends
** only on the actor, its scope and the request, and the first two never
** change, so the same action on the same resource, target host and topic
** is allowed again without the engine (the hot cases: a conversation, a
** spawn loop with its three checks). Never used when every decision must
** be audited. A few slots, allocated on the first allowed check. */
#define MEMO_SLOTS 4
#define MEMO_KEY 192

struct memo {
  const char *action; /* a string literal: compared by address */
  uint16_t rlen, tlen, hlen;
  uint8_t has; /* 1: topic, 2: target host */
  char key[MEMO_KEY]; /* resource, topic, target host */
};

int wd__hsec_memo_hit(wd_actor *a, const char *action, const char *resource,
                    size_t rlen, const char *target_host, const char *topic) {
  size_t tl, hl;
  int i;
  if (a->memo == NULL) return 0;
  tl = topic ? strlen(topic) : 0;
  hl = target_host ? strlen(target_host) : 0;
  for (i = 0; i < MEMO_SLOTS; i++) {
    const struct memo *m = &a->memo[i];
    if (m->action == action && m->rlen == rlen && m->tlen == tl &&
        m->hlen == hl &&
        m->has == ((topic != NULL) | (target_host != NULL) << 1) &&
        memcmp(m->key, resource, rlen) == 0 &&
        memcmp(m->key + rlen, topic ? topic : "", tl) == 0 &&
        memcmp(m->key + rlen + tl, target_host ? target_host : "", hl) == 0)
      return 1;
  }
  return 0;
}

void wd__hsec_memo_keep(wd_actor *a, const char *action, const char *resource,
                      size_t rlen, const char *target_host,
                      const char *topic) {
  size_t tl = topic ? strlen(topic) : 0;
  size_t hl = target_host ? strlen(target_host) : 0;
  struct memo *m;
  if (rlen + tl + hl > MEMO_KEY) return;
  if (a->memo == NULL &&
      (a->memo = wd_calloc(MEMO_SLOTS, sizeof *a->memo)) == NULL)
    return;
  m = &a->memo[a->memo_next++ % MEMO_SLOTS];
  m->action = action;
  m->rlen = (uint16_t)rlen;
  m->tlen = (uint16_t)tl;
  m->hlen = (uint16_t)hl;
  m->has = (uint8_t)((topic != NULL) | (target_host != NULL) << 1);
  memcpy(m->key, resource, rlen);
  if (tl) memcpy(m->key + rlen, topic, tl);
  if (hl) memcpy(m->key + rlen + tl, target_host, hl);
}

/* }====== */
