/*
** sandbox/broker_dep_scope.c
** What a deploy of namespace NS may reach: nothing outside NS (SECURITY.md
** F13). The rules hold for the entries of the revision's _index.yaml only;
** the app directory and the --policy files are the operator's and may say
** anything. Each broken rule is one error, FILE:LINE:COL and the rule, and
** the deploy changes nothing.
**
** 1. Names. Its policies bind only groups of NS; its security blocks name
**    only groups and policies of NS.
** 2. Grants. Every resource pattern of its allow policies, as the engine
**    reads it, matches only strings that begin with "NS:" or "{NS:", or is
**    exactly "NS" in a policy whose actions match only ward.deploy, or
**    exactly "context" in one whose actions match only process.context.
** 3. Actors. A security block's actor id is "NS" or begins with "NS:", and
**    the actor has no meta.
** 4. Hosts. A service that gives no actor and scope runs as its host's
**    security.default (sandbox/broker.c 'put_security'): only a host of
**    NS may lend it one. One that gives them must fit its host's ceiling.
**
** Why rule 2 is enough. The resources ward asks (include/ward/wd_ops.h)
** are PIDs "{HOST|0x...}", entry and host ids "ns:name" (a namespace is
** letters, digits, '_', '.', '-': never ':' or '{'), registry names (any
** string), the constants "context", "security", "policies", "status" and
** "api", and a namespace (ward.deploy). A string that begins with "NS:" is
** an entry or a host of NS, or a name, and names that begin with "NS:" are
** NS's by this very rule (no other namespace's deploy can allow them). One
** that begins with "{NS:" is a PID on a host of NS, or such a name: the
** operator declared that host in NS's namespace (a deploy can neither add
** nor change a host), and a host is one security domain.
** No constant and no namespace contains ':'. So an allow within rule 2
** decides only requests on what is NS's, whatever its actions and
** conditions (conditions all must hold: they only narrow an allow).
** Refused, among others: "*", prefixes shorter than "NS:" ("NS*" also
** matches "NSx:e"), other namespaces' ids and PIDs, "{api|..." (every
** token's inbox streams), "api" (opening one), "security" (spawning with
** any actor or scope), "policies", "status". A deny grants nothing: it
** only takes from the holders of NS's groups, so denies are not checked.
**
** Why rule 3. Who holds NS's groups is the operator's choice (tokens,
** hosts' defaults); policies the operator binds to those groups may be
** meant for some actors only (a condition on actor.id or actor.meta). A
** deployed service chooses its actor freely, so it must not be able to be
** one of those: its id is NS's own, and meta, which policies/baseline
** reads as the tenant and its hosts, it may not give at all.
** Runs in: broker.
*/
#include <stdio.h>
#include <string.h>

#include "broker_int.h"
#include "deploy_int.h"
#include "ward/wd_policy.h"
#include "ward/wd_secid.h"

/* Does 's' ('n' bytes) begin with 'lead', then 'ns', then ':'? */
static int begins_ns(const char *s, size_t n, const char *lead,
                     const char *ns) {
  size_t ll = strlen(lead), nl = strlen(ns);
  return n > ll + nl && memcmp(s, lead, ll) == 0 &&
         memcmp(s + ll, ns, nl) == 0 && s[ll + nl] == ':';
}

/* {====== Names (rule 1) ====== */

/* Is 's' (a group or a policy id as written) of namespace 'ns'? An
** unqualified name is: the loader puts it in the namespace of its file. */
static int own_name(const char *s, const char *ns) {
  return strchr(s, ':') == NULL || begins_ns(s, strlen(s), "", ns);
}

static void check_sec_names(const wd_entry *e, const wd_sec *sec,
                            const char *ns, wd_buf *errs) {
  size_t i;
  for (i = 0; i < sec->groups.n; i++)
    if (!own_name(sec->groups.v[i], ns))
      wd__dep_errf(errs, "%s:%d:%d: %s: group '%s' is not of namespace '%s'",
                   e->node->file, e->node->line, e->node->col, e->id,
                   sec->groups.v[i], ns);
  for (i = 0; i < sec->policies.n; i++)
    if (!own_name(sec->policies.v[i], ns))
      wd__dep_errf(errs, "%s:%d:%d: %s: policy '%s' is not of namespace '%s'",
                   e->node->file, e->node->line, e->node->col, e->id,
                   sec->policies.v[i], ns);
}

static void check_policy_groups(const wd_entry *e, const char *ns,
                                wd_buf *errs) {
  size_t j;
  for (j = 0; j < e->u.policy.groupv.n; j++)
    if (!own_name(e->u.policy.groupv.v[j], ns))
      wd__dep_errf(errs, "%s:%d:%d: %s: group '%s' is not of namespace '%s'",
                   e->node->file, e->node->line, e->node->col, e->id,
                   e->u.policy.groupv.v[j], ns);
}

/* }====== */

/* {====== Grants (rule 2) ====== */

/* 1 when every action ward asks that one of the policy's action patterns
** matches is 'only' (or none is); 0 otherwise, and when one cannot be
** read. */
static int acts_only(const wd_scope *sc, size_t nacts, const char *only) {
  const char *const *a;
  wd_ppat p;
  size_t j;
  for (j = 0; j < nacts; j++) {
    if (wd_scope_pattern(sc, 0, 0, j, &p) != 0) return 0;
    for (a = wd_policy_actions(); *a != NULL; a++)
      if (wd_ppat_match(&p, *a) && strcmp(*a, only) != 0) return 0;
  }
  return 1;
}

static int pat_is(const wd_ppat *p, const char *s) {
  return p->kind == WD_PPAT_EXACT && p->len == strlen(s) &&
         memcmp(p->s, s, p->len) == 0;
}

/* Is resource pattern 'p' within NS (rule 2)? An exact string or a prefix
** that begins with "NS:" or "{NS:" matches only strings that do. */
static int res_within(const wd_ppat *p, const char *ns, int deploy_only,
                      int context_only) {
  if (p->kind == WD_PPAT_ANY) return 0;
  return begins_ns(p->s, p->len, "", ns) || begins_ns(p->s, p->len, "{", ns) ||
         (deploy_only && pat_is(p, ns)) ||
         (context_only && pat_is(p, "context"));
}

/* Check the allow policy 'e' of the revision, compiled alone so that the
** engine's own reading of its patterns is judged. A policy that does not
** compile is left to the loader, which reports it (wd__dep_compile).
** Returns 0 or WD_ENOMEM. */
static int check_grants(const wd_entry *e, const char *ns, wd_buf *errs) {
  const wd_node *rn = wd_node_get(e->u.policy.policy, "resources");
  wd_policy_set *t;
  wd_scope *sc = NULL;
  wd_pinfo pi;
  wd_ppat p;
  char err[256];
  const char *id = e->id;
  int r, dep, ctx;
  size_t j;
  if (wd_policy_set_new(&t) != 0) return WD_ENOMEM;
  r = wd_policy_add(t, e->id, e->ns, e->u.policy.policy, NULL, err, sizeof err);
  if (r == 0) r = wd_scope_new(t, &id, 1, &sc, err, sizeof err);
  wd_policy_set_free(t);
  if (r != 0 || rn == NULL) return r == WD_ENOMEM ? r : 0;
  if (wd_scope_policy(sc, 0, &pi) != 0) { /* never: it was just compiled */
    wd__dep_errf(errs, "%s:%d:%d: %s: cannot be checked", e->node->file,
                 e->node->line, e->node->col, e->id);
  } else if (pi.effect == WD_PEFFECT_ALLOW) {
    dep = acts_only(sc, pi.nacts, "ward.deploy");
    ctx = acts_only(sc, pi.nacts, "process.context");
    for (j = 0; j < pi.nress; j++) {
      /* Pattern j is the j-th item as written (policy/load.c 'pats'); one
      ** that cannot be read is refused. */
      const wd_node *at =
          rn->type == WD_NODE_SEQ && j < rn->n ? rn->kids[j] : rn;
      if (wd_scope_pattern(sc, 0, 1, j, &p) == 0 &&
          res_within(&p, ns, dep, ctx))
        continue;
      wd__dep_errf(errs,
                   "%s:%d:%d: %s: resource '%s' is not of namespace '%s' "
                   "(a deployed allow may name only '%s:...' and '{%s:...'"
                   "; '%s' for ward.deploy, 'context' for process.context)",
                   at->file, at->line, at->col, e->id,
                   at->str != NULL ? at->str : "?", ns, ns, ns, ns);
    }
  }
  wd_scope_release(sc);
  return 0;
}

/* }====== */

/* {====== Actors and hosts (rules 3 and 4) ====== */

static void check_actor(const wd_entry *e, const wd_sec *sec, const char *ns,
                        wd_buf *errs) {
  const wd_node *a, *at;
  if (sec->node == NULL || (a = wd_node_get(sec->node, "actor")) == NULL)
    return;
  at = wd_node_get(a, "id");
  if (at == NULL) at = a;
  if (sec->actor_id != NULL && strcmp(sec->actor_id, ns) != 0 &&
      !begins_ns(sec->actor_id, strlen(sec->actor_id), "", ns))
    wd__dep_errf(errs,
                 "%s:%d:%d: %s: actor '%s' is not of namespace '%s' (a "
                 "deployed actor is '%s' or '%s:...')",
                 at->file, at->line, at->col, e->id, sec->actor_id, ns, ns, ns);
  if (sec->actor_meta != NULL)
    wd__dep_errf(errs,
                 "%s:%d:%d: %s: a deployed actor has no meta (policies "
                 "not of namespace '%s' may decide on it)",
                 sec->actor_meta->file, sec->actor_meta->line,
                 sec->actor_meta->col, e->id, ns);
}

/* The host a service starts on, as 'spawn_watched' picks it: its own
** 'host:', its process's, or the app's only host. */
static const wd_entry *service_host(const wd_manifest *m, const wd_entry *e) {
  const wd_service_conf *c = &e->u.svc;
  const wd_entry *h = NULL;
  size_t i, n = 0;
  if (c->host_entry != NULL) return c->host_entry;
  if (c->process_entry != NULL && c->process_entry->u.lua.host_entry != NULL)
    return c->process_entry->u.lua.host_entry;
  for (i = 0; i < m->nentries; i++)
    if (m->entries[i]->kind == WD_KIND_HOST) {
      h = m->entries[i];
      n++;
    }
  return n == 1 ? h : NULL;
}

/* A service that gives its own actor and scope must fit its host's
** ceiling: the broker starts it there without asking the host (and the
** host would be killed for it at its first checked call). Nobody decides
** where a service starts (no process.host), so a deployed one may start
** only on a host of its namespace or on one with a ceiling: a host
** without one takes any actor and scope, and the operator's shared hosts
** must not take a tenant's code unasked. Returns 0 or WD_ENOMEM. */
static int check_ceiling(const wd_manifest *m, const wd_entry *e,
                         const char *ns, wd_buf *errs) {
  const wd_sec *sec = &e->u.svc.sec;
  const wd_entry *h = service_host(m, e);
  wd_ceiling c;
  wd_buf scope;
  char why[300];
  const char *id = sec->actor_id != NULL ? sec->actor_id : "";
  size_t i;
  int fits;
  if (h != NULL && h->u.host.ceiling == NULL &&
      !begins_ns(h->id, strlen(h->id), "", ns)) {
    wd__dep_errf(errs,
                 "%s:%d:%d: %s: it would run on host %s, which is not of "
                 "namespace '%s' and has no security.ceiling (a service "
                 "starts without a process.host decision)",
                 e->node->file, e->node->line, e->node->col, e->id, h->id,
                 ns);
    return 0;
  }
  if (sec->actor_id == NULL && sec->groups.n + sec->policies.n == 0) return 0;
  if (h == NULL || h->u.host.ceiling == NULL) return 0;
  wd__brk_ceiling(&h->u.host, &c);
  /* The scope as it travels: names one a line (broker.c 'put_security'). */
  wd_buf_init(&scope, 0);
  for (i = 0; i < sec->groups.n + sec->policies.n; i++) {
    const char *n = i < sec->groups.n ? sec->groups.v[i]
                                      : sec->policies.v[i - sec->groups.n];
    if (i > 0) wd_buf_put_u8(&scope, '\n');
    wd_buf_put(&scope, n, strlen(n));
  }
  if (scope.err != 0) {
    wd_buf_close(&scope);
    return WD_ENOMEM;
  }
  why[0] = '\0';
  fits = wd_ceiling_fits(&c, id, strlen(id), (const char *)scope.p, scope.len,
                         why, sizeof why);
  wd_buf_close(&scope);
  if (!fits)
    wd__dep_errf(errs, "%s:%d:%d: %s: it would run on host %s, and %s",
                 e->node->file, e->node->line, e->node->col, e->id, h->id, why);
  return 0;
}

static void check_default(const wd_manifest *m, const wd_entry *e,
                          const char *ns, wd_buf *errs) {
  const wd_sec *sec = &e->u.svc.sec;
  const wd_entry *h;
  const wd_sec *d;
  if (sec->actor_id != NULL || sec->groups.n + sec->policies.n > 0) return;
  if ((h = service_host(m, e)) == NULL ||
      begins_ns(h->id, strlen(h->id), "", ns))
    return;
  d = &h->u.host.def;
  if (d->actor_id == NULL && d->groups.n + d->policies.n == 0) return;
  wd__dep_errf(errs,
               "%s:%d:%d: %s: no actor and scope of its own, it would run "
               "as the security.default of host %s, which is not of "
               "namespace '%s' (give it lifecycle.security)",
               e->node->file, e->node->line, e->node->col, e->id, h->id, ns);
}

/* }====== */

int wd__dep_check_scope(const wd_manifest *m, const char *ns, const char *index,
                        wd_buf *errs) {
  size_t i;
  int r;
  for (i = 0; i < m->nentries; i++) {
    const wd_entry *e = m->entries[i];
    /* The revision's own entries: its one _index.yaml. */
    if (e->node == NULL || e->node->file == NULL ||
        strcmp(e->node->file, index) != 0)
      continue;
    switch (e->kind) {
      case WD_KIND_POLICY:
        check_policy_groups(e, ns, errs);
        if ((r = check_grants(e, ns, errs)) < 0) return r;
        break;
      case WD_KIND_LUA:
        check_sec_names(e, &e->u.lua.sec, ns, errs);
        check_actor(e, &e->u.lua.sec, ns, errs);
        break;
      case WD_KIND_SERVICE:
        check_sec_names(e, &e->u.svc.sec, ns, errs);
        check_actor(e, &e->u.svc.sec, ns, errs);
        check_default(m, e, ns, errs);
        if ((r = check_ceiling(m, e, ns, errs)) < 0) return r;
        break;
      default:
        break;
    }
  }
  return errs->err == WD_ENOMEM ? WD_ENOMEM : 0;
}
