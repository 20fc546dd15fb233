/*
** sandbox/broker_sec.c
** The broker's own policy engine and audit log. It never trusts a
** decision made in a host: every request it carries is checked again
** against the caller's actor and scope, which must stay inside the
** sending host's ceiling (a claim outside it is fatal for that host).
** Denials, and with `--audit all` every decision, go to the audit log; a
** decision that cannot be logged is refused (fail closed).
** Runs in: broker.
*/
#include <stdio.h>
#include <string.h>

#include "broker_int.h"
#include "ward/wd_audit.h"
#include "ward/wd_pid.h"
#include "ward/wd_polset.h"
#include "ward/wd_secid.h"
#include "ward/wd_wire.h"

/* {====== Set-up ====== */

typedef struct firstref {
  char *err;
  size_t errlen;
  int n;
} firstref;

/* Keep the first unknown name as the error: "FILE:LINE:COL: ID: MSG". */
static void first_ref(const wd_node *at, const char *id, const char *msg,
                      void *ud) {
  firstref *f = ud;
  if (f->n++ > 0) return;
  snprintf(f->err, f->errlen, "%s:%d:%d: %s: %s", at->file ? at->file : "?",
           at->line, at->col, id, msg);
}

/*
** Every policy or group a security block, a host ceiling or --scope
** names must exist once every policy is loaded (the manifest holds the
** --policy files too): an unknown name would deny every call of the
** process ("no actor or scope") or admit nothing real, and almost always
** is a typo. Returns 0 or WD_EINVAL with the first one in 'err'.
*/
static int check_names(wd_broker *b, char *err, size_t errlen) {
  firstref f = { err, errlen, 0 };
  size_t i;
  for (i = 0; i < b->o.nscope; i++)
    if (!wd_policy_set_has(b->pset, b->o.scope[i])) {
      snprintf(err, errlen, "--scope names '%s', which is no policy or group",
               b->o.scope[i]);
      return WD_EINVAL;
    }
  if (wd_polset_check_refs(b->pset, b->m, first_ref, &f) > 0) return WD_EINVAL;
  return 0;
}

int wd__brk_sec_open(wd_broker *b, char *err, size_t errlen) {
  int r;
  if ((r = wd_polset_from_manifest(b->m, &b->pset, err, errlen)) < 0 ||
      (r = check_names(b, err, errlen)) < 0)
    return r;
  b->pm = b->m;
  if ((r = wd_polset_digest(&b->m, 1, b->pdigest)) < 0 ||
      (r = wd_scopes_new(b->pset, &b->scopes)) < 0 ||
      (r = wd_pcache_new(4096, &b->pcache)) < 0) {
    snprintf(err, errlen, "out of memory");
    return r;
  }
  if (b->o.audit_mode != 0) {
    wd_audit_rec rec;
    char why[64];
    if ((r = wd_audit_open(b->o.audit_log, b->o.audit_key, &b->audit, err,
                           errlen)) < 0)
      return r;
    memset(&rec, 0, sizeof rec);
    rec.kind = WD_AUDIT_POLICY_LOAD;
    snprintf(why, sizeof why, "%zu policies",
             wd_policy_set_count(b->pset));
    rec.reason = why;
    rec.digest = b->pdigest;
    if ((r = wd_audit_append(b->audit, &rec)) < 0) {
      snprintf(err, errlen, "%s: cannot write: %s", b->o.audit_log,
               strerror(-r));
      return r;
    }
  }
  return 0;
}

int wd__brk_sec_close(wd_broker *b) {
  int r = 0;
  if (b->audit != NULL) r = wd_audit_close(b->audit);
  b->audit = NULL;
  wd_pcache_free(b->pcache);
  wd_scopes_free(b->scopes);
  wd_policy_set_free(b->pset);
  b->pcache = NULL;
  b->scopes = NULL;
  b->pset = NULL;
  return r;
}

void wd__brk_ceiling(const wd_host_conf *hc, wd_ceiling *c) {
  c->on = hc->ceiling != NULL;
  c->actors = hc->ceil_actors.v;
  c->nactors = hc->ceil_actors.n;
  c->groups = hc->ceil_groups.v;
  c->ngroups = hc->ceil_groups.n;
  c->policies = hc->ceil_policies.v;
  c->npolicies = hc->ceil_policies.n;
}

static void put_strv(wd_buf *w, const char *const *v, size_t n) {
  size_t i;
  wd_buf_put_u32(w, (uint32_t)n);
  for (i = 0; i < n; i++) wd_buf_put_cstr(w, v[i]);
}

/* The policies section of host 's''s INIT record (see lpolicy.c): the
** audit mode, the policies, and the host's ceiling, which the host holds
** its own spawns to. */
void wd__brk_sec_put_init(hslot *s, wd_buf *w) {
  wd_broker *b = s->b;
  wd_ceiling c;
  size_t i, pos = 0;
  uint32_t n = 0;
  const wd_manifest *pm = b->pm != NULL ? b->pm : b->m;
  wd_buf_put_u8(w, (uint8_t)b->o.audit_mode);
  pos = w->len;
  wd_buf_put_u32(w, 0);
  for (i = 0; i < pm->nentries; i++) {
    const wd_entry *e = pm->entries[i];
    if (e->kind != WD_KIND_POLICY) continue;
    wd_buf_put_cstr(w, e->id);
    wd_buf_put_cstr(w, e->ns);
    wd_buf_put_cstr(w, e->node ? e->node->file : "");
    wd_wire_put_node(w, e->u.policy.policy);
    wd_wire_put_node(w, e->u.policy.groups);
    n++;
  }
  wd_buf_patch_u32(w, pos, n);
  wd__brk_ceiling(&s->he->u.host, &c);
  wd_buf_put_u8(w, (uint8_t)c.on);
  put_strv(w, c.actors, c.nactors);
  put_strv(w, c.groups, c.ngroups);
  put_strv(w, c.policies, c.npolicies);
}

/* A host, its OS process and an event for the log (start, death). */
void wd__brk_sec_event(wd_broker *b, int kind, const char *host, long ospid,
                       const char *reason) {
  wd_audit_rec rec;
  char pid[32];
  if (b->audit == NULL) return;
  memset(&rec, 0, sizeof rec);
  rec.kind = kind;
  rec.host = host;
  snprintf(pid, sizeof pid, "%ld", ospid);
  rec.pid = pid;
  rec.reason = reason;
  if (wd_audit_append(b->audit, &rec) < 0)
    fprintf(stderr, "ward: audit log: cannot write a %s record\n",
            kind == WD_AUDIT_HOST_START ? "host start" : "host death");
}

/* }====== */

/* {====== Callers and the ceiling ====== */

/* May a process with this actor and scope run on host 's'? (A spawn that
** sets them for its child is denied otherwise.) A host without a ceiling
** may hold any (a single-tenant host). */
int wd__brk_sec_fits(hslot *s, const char *actor, size_t al,
                     const char *scope, size_t sl, char *why, size_t whylen) {
  wd_ceiling c;
  wd__brk_ceiling(&s->he->u.host, &c);
  return wd_ceiling_fits(&c, actor, al, scope, sl, why, whylen);
}

/* Read the caller's actor and scope from a REQ header and hold the host
** to its ceiling. Returns 0, or WD_EBADFRAME after taking the host down. */
int wd__brk_sec_caller(hslot *s, wd_cur *c, brk_caller *who) {
  char why[300];
  size_t idlen;
  const char *entry;
  size_t el;
  if (wd_cur_str(c, &who->actor, &who->actorlen) ||
      wd_cur_str(c, &who->scope, &who->scopelen) ||
      wd_cur_str(c, &entry, &el))
    return WD_EBADFRAME;
  if (el >= sizeof who->entry || memchr(entry, '\0', el) != NULL) {
    wd__brk_host_down(s, "malformed entry id in a request");
    return WD_EBADFRAME;
  }
  memcpy(who->entry, entry, el);
  who->entry[el] = '\0';
  idlen = memchr(who->actor, '\0', who->actorlen)
              ? strlen(who->actor)
              : who->actorlen;
  if (idlen >= sizeof who->id || memchr(who->scope, '\0', who->scopelen)) {
    wd__brk_host_down(s, "malformed actor or scope");
    return WD_EBADFRAME;
  }
  memcpy(who->id, who->actor, idlen);
  who->id[idlen] = '\0';
  if (!wd__brk_sec_fits(s, who->actor, who->actorlen, who->scope,
                        who->scopelen, why, sizeof why)) {
    wd__brk_host_down(s, "%s", why);
    return WD_EBADFRAME;
  }
  return 0;
}

/* }====== */

/* {====== Decisions ====== */

static void log_decision(wd_broker *b, const brk_caller *who,
                         const char *host, const wd_preq *rq,
                         const wd_pdecision *d, int *failed) {
  wd_audit_rec rec;
  if (b->audit == NULL) return;
  if (b->o.audit_mode == 1 && d->effect == WD_PEFFECT_ALLOW) return;
  wd_audit_rec_decision(&rec, rq, d);
  rec.scope = who->scope;
  rec.scopelen = who->scopelen;
  rec.entry = who->entry[0] ? who->entry : NULL;
  rec.host = host;
  rec.digest = b->pdigest;
  if (wd_audit_append(b->audit, &rec) < 0) *failed = 1;
}

/* Decide 'action' on 'resource' for the caller 'who' (process 'pid' of
** host 's'). Returns WD_POLICY_ALLOW, WD_EDENIED, or WD_EUNAVAIL when the
** decision had to be logged and could not be. */
int wd__brk_sec_check(hslot *s, const brk_caller *who, const char *pid,
                      size_t pl, const char *action, const char *resource,
                      size_t rl, const char *target_host, const char *topic,
                      char *why, size_t whylen) {
  wd_broker *b = s->b;
  wd_seccheck c;
  wd_pdecision d;
  wd_pval meta;
  int r, failed = 0;
  wd_scope *sc = wd_scopes_get(b->scopes, who->scope, who->scopelen);
  (void)wd_actor_unpack(who->actor, who->actorlen, &meta);
  wd_sec_request(&c, who->id, &meta, action, resource, rl, pid, pl, s->id,
                 s->idlen, target_host, topic);
  r = wd_sec_decide(&c, sc, b->pcache, &d);
  wd__brk_stat_decision(b, (int)(s - b->hosts), who->id,
                        r == WD_POLICY_ALLOW);
  wd_policy_explain(&d, why, whylen);
  log_decision(b, who, s->id, &c.rq, &d, &failed);
  wd_pval_clear(&meta);
  if (failed) {
    snprintf(why, whylen, "the audit log cannot be written");
    return WD_EUNAVAIL;
  }
  return r;
}

/* An AUDIT request from host 's': a decision it made for its caller,
** which has no effect until it is logged. The actor in the record is the
** caller the request names (held to the host's ceiling), not a claim of
** the body. Answers 0 once written, Unavailable when it cannot be. */
int wd__brk_sec_audit_req(hslot *s, uint32_t req, uint8_t op, wd_cur *c) {
  wd_broker *b = s->b;
  const char *f[3]; /* action, resource, reason */
  size_t fl[3], i;
  uint8_t effect;
  uint32_t na, np;
  wd_pattr attrs[8];
  const char *ids[16];
  char abuf[8][300];
  char sbuf[3][300], ibuf[16][300];
  wd_audit_rec rec;
  wd_pval meta;
  int r;
  (void)op;
  if (wd_cur_str(c, &f[0], &fl[0]) || wd_cur_str(c, &f[1], &fl[1]) ||
      wd_cur_u8(c, &effect) || wd_cur_str(c, &f[2], &fl[2]) ||
      wd_cur_u32(c, &na) || na > 8 || effect > WD_PEFFECT_ALLOW)
    return WD_EBADFRAME;
  for (i = 0; i < na; i++) {
    const char *k, *v;
    size_t kl, vl;
    if (wd_cur_str(c, &k, &kl) || wd_cur_str(c, &v, &vl) ||
        kl >= sizeof abuf[i])
      return WD_EBADFRAME;
    memcpy(abuf[i], k, kl);
    abuf[i][kl] = '\0';
    attrs[i].key = abuf[i];
    attrs[i].val = wd_pval_strn(v, vl);
  }
  if (wd_cur_u32(c, &np) || np > 16) return WD_EBADFRAME;
  for (i = 0; i < np; i++) {
    const char *p;
    size_t l;
    if (wd_cur_str(c, &p, &l) || l >= sizeof ibuf[i]) return WD_EBADFRAME;
    memcpy(ibuf[i], p, l);
    ibuf[i][l] = '\0';
    ids[i] = ibuf[i];
  }
  for (i = 0; i < 3; i++) {
    if (fl[i] >= sizeof sbuf[i]) return WD_EBADFRAME;
    memcpy(sbuf[i], f[i], fl[i]);
    sbuf[i][fl[i]] = '\0';
  }
  if (b->audit == NULL) {
    wd__brk_reply(s, req, 0, "%s", "");
    return 0;
  }
  memset(&rec, 0, sizeof rec);
  (void)wd_actor_unpack(s->cur->actor, s->cur->actorlen, &meta);
  rec.kind = WD_AUDIT_DECISION;
  rec.actor = s->cur->id[0] ? s->cur->id : NULL;
  rec.meta = &meta;
  rec.scope = s->cur->scope;
  rec.scopelen = s->cur->scopelen;
  rec.entry = s->cur->entry[0] ? s->cur->entry : NULL;
  rec.digest = b->pdigest;
  rec.action = sbuf[0];
  rec.resource = sbuf[1];
  rec.effect = effect;
  rec.reason = sbuf[2];
  rec.attrs = attrs;
  rec.nattrs = na;
  rec.policies = ids;
  rec.npolicies = np;
  rec.host = s->id;
  r = wd_audit_append(b->audit, &rec);
  wd_pval_clear(&meta);
  if (r < 0) {
    fprintf(stderr, "ward: audit log: cannot write a decision of host %s\n",
            s->id);
    wd__brk_reply(s, req, WD_EUNAVAIL, "the audit log cannot be written");
    return 0;
  }
  wd__brk_reply(s, req, 0, "%s", "");
  return 0;
}

/* }====== */
