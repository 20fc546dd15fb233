/*
** sandbox/broker_reload.c
** Changing a serving ward without a restart (ARCHITECTURE.md §12): a
** policy reload (SIGHUP, POST /v1/policies/reload) and what a deploy
** shares with it. The app is read again from disk as the broker has it
** (the app directory, each deployed namespace from its revision under
** --deploy-dir, the --policy files), every security.policy entry is
** compiled, and every name a security block or --scope gives is checked
** against the new set, all before anything changes: a set with an error
** changes nothing, and every error is reported as FILE:LINE:COL. Then the
** broker swaps its set, scopes cache and decision cache at once, logs a
** policy_load record with the old and the new digest, and sends every
** host that is up a POLICY record (hosts swap theirs whole; a host that
** starts later gets the new set in INIT).
** Runs in: broker.
*/
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "broker_int.h"
#include "deploy_int.h"
#include "ward/wd_audit.h"
#include "ward/wd_polset.h"
#include "ward/wd_proto.h"
#include "ward/wd_secid.h"

/* At most this many errors are listed; the rest are counted. */
#define MAX_ERRORS 64

/* {====== Errors ====== */

void wd__dep_errf(wd_buf *errs, const char *fmt, ...) {
  char line[1024];
  va_list ap;
  int n;
  size_t i, k = 0;
  for (i = 0; i < errs->len; i++)
    if (errs->p[i] == '\n') k++;
  if (k > MAX_ERRORS) return;
  va_start(ap, fmt);
  n = vsnprintf(line, sizeof line, fmt, ap);
  va_end(ap);
  if (n < 0) return;
  if (k == MAX_ERRORS) n = snprintf(line, sizeof line, "(more errors)");
  /* One error a line: a message never spans two. */
  for (i = 0; i < (size_t)n && i < sizeof line - 1; i++)
    if (line[i] == '\n') line[i] = ' ';
  wd_buf_put(errs, line, strlen(line));
  wd_buf_put_u8(errs, '\n');
}

/* }====== */

/* {====== The state ====== */

static brk_dep *dep_of(wd_broker *b) {
  if (b->dep == NULL) b->dep = wd_calloc(1, sizeof *b->dep);
  return b->dep;
}

/* Keep manifest 'm' until the broker ends: hosts, services and running
** processes' entries point into the manifests they were made from. */
int wd__dep_keep(wd_broker *b, wd_manifest *m) {
  brk_dep *d = dep_of(b);
  wd_manifest **v;
  if (d == NULL) return WD_ENOMEM;
  v = wd_realloc(d->kept, (d->nkept + 1) * sizeof *v);
  if (v == NULL) return WD_ENOMEM;
  d->kept = v;
  d->kept[d->nkept++] = m;
  return 0;
}

void wd__brk_reload_free(wd_broker *b) {
  brk_dep *d = b->dep;
  size_t i;
  if (d == NULL) return;
  for (i = 0; i < d->nkept; i++)
    wd_manifest_free(d->kept[i]);
  wd_free(d->kept);
  wd_manifest_free(d->polm);
  for (i = 0; i < d->nns; i++) {
    wd_free(d->ns[i].name);
    wd_free(d->ns[i].index);
  }
  wd_free(d->ns);
  wd_free(d);
  b->dep = NULL;
}

/*
** The app as this broker serves it, read from disk: the app directory
** without the namespaces deployed since (and without 'ns'), then each
** deployed namespace's current revision (for 'ns': 'index' instead), then
** the --policy files. Returns 0 and a new manifest in '*out', or an error
** (WD_EINVAL: its FILE:LINE:COL message in 'errs').
*/
int wd__dep_load(wd_broker *b, const char *ns, const char *index,
                 wd_manifest **out, wd_buf *errs) {
  brk_dep *d = b->dep;
  const char *skip[WD_DEP_MAX_NS + 1], *extra[WD_DEP_MAX_NS + 1 + 64];
  size_t nskip = 0, nextra = 0, i;
  char err[1024];
  int r;
  if (b->o.appdir == NULL) {
    wd__dep_errf(errs, "ward was not started from an app directory");
    return WD_EUNAVAIL;
  }
  for (i = 0; d != NULL && i < d->nns; i++) {
    skip[nskip++] = d->ns[i].name;
    if (ns == NULL || strcmp(ns, d->ns[i].name) != 0)
      extra[nextra++] = d->ns[i].index;
  }
  if (ns != NULL) {
    for (i = 0; i < nskip && strcmp(skip[i], ns) != 0; i++) {
    }
    if (i == nskip) skip[nskip++] = ns;
    extra[nextra++] = index;
  }
  for (i = 0; i < b->o.npolicy_files && nextra < WD_COUNTOF(extra); i++)
    extra[nextra++] = b->o.policy_files[i];
  r = wd_manifest_load_app(b->o.appdir, skip, nskip, extra, nextra, out, err,
                           sizeof err);
  if (r < 0) wd__dep_errf(errs, "%s", err[0] ? err : "cannot load the app");
  return r < 0 ? (r == WD_ENOMEM ? r : WD_EINVAL) : 0;
}

/* }====== */

/* {====== Compiling and installing a policy set ====== */

static void ref_err(const wd_node *at, const char *id, const char *msg,
                    void *ud) {
  wd__dep_errf(ud, "%s:%d:%d: %s: %s", at->file ? at->file : "?", at->line,
               at->col, id, msg);
}

/*
** Compile every security.policy entry of 'pm' into a new strict set, and
** check every name the security blocks of 'code' (and --scope) give
** against it. Every error goes to 'errs'; returns 0 with the set in
** '*out', or WD_EINVAL / WD_ENOMEM ('*out' untouched).
*/
int wd__dep_compile(wd_broker *b, const wd_manifest *pm,
                    const wd_manifest *code, wd_policy_set **out,
                    wd_buf *errs) {
  wd_policy_set *s;
  size_t i, before = errs->len;
  if (wd_policy_set_new(&s) != 0) return WD_ENOMEM;
  wd_policy_set_strict(s, 1);
  for (i = 0; i < pm->nentries; i++) {
    const wd_entry *e = pm->entries[i];
    char err[1024];
    int r;
    if (e->kind != WD_KIND_POLICY) continue;
    err[0] = '\0';
    r = wd_policy_add(s, e->id, e->ns, e->u.policy.policy, e->u.policy.groups,
                      err, sizeof err);
    if (r == WD_ENOMEM) {
      wd_policy_set_free(s);
      return r;
    }
    if (r == WD_EEXIST)
      wd__dep_errf(errs, "%s:%d:%d: policy '%s' is already defined",
                   e->node->file, e->node->line, e->node->col, e->id);
    else if (r != 0)
      wd__dep_errf(errs, "%s", err);
  }
  /* A bad policy would make every name of it unknown: say it once. */
  if (errs->len == before) {
    for (i = 0; i < b->o.nscope; i++)
      if (!wd_policy_set_has(s, b->o.scope[i]))
        wd__dep_errf(errs, "--scope names '%s', which is no policy or group",
                     b->o.scope[i]);
    (void)wd_polset_check_refs(s, code, ref_err, errs);
  }
  if (errs->len != before || errs->err) {
    wd_policy_set_free(s);
    return errs->err == WD_ENOMEM ? WD_ENOMEM : WD_EINVAL;
  }
  *out = s;
  return 0;
}

/* The policy_load record of a reload or deploy: the new digest, and the
** old one as attribute old_digest. */
static int audit_load(wd_broker *b, const char *via, const char *olddg,
                      const char *newdg, size_t npol) {
  wd_audit_rec rec;
  wd_pattr attrs[2];
  char why[96];
  if (b->audit == NULL) return 0;
  attrs[0].key = "old_digest";
  attrs[0].val = wd_pval_str(olddg);
  attrs[1].key = "via";
  attrs[1].val = wd_pval_str(via);
  snprintf(why, sizeof why, "reload: %zu policies", npol);
  memset(&rec, 0, sizeof rec);
  rec.kind = WD_AUDIT_POLICY_LOAD;
  rec.reason = why;
  rec.attrs = attrs;
  rec.nattrs = 2;
  rec.digest = newdg;
  if (wd_audit_append(b->audit, &rec) < 0) {
    fprintf(stderr, "ward: audit log: cannot write a policy_load record\n");
    return WD_EUNAVAIL;
  }
  return 0;
}

/*
** Make 's' (compiled from 'pm', which the broker keeps) the broker's
** policy set and send it to every host that is up. The log first: a swap
** that cannot be logged does not happen (WD_EUNAVAIL; 's' is freed).
*/
int wd__dep_install(wd_broker *b, const wd_manifest *pm, wd_policy_set *s,
                    const char *via, char digest[65]) {
  struct wd_scopes *sc = NULL;
  struct wd_pcache *pc = NULL;
  char dg[WD_POLSET_DIGEST_HEX];
  int i, r;
  if (wd_polset_digest(&pm, 1, dg) < 0 || wd_scopes_new(s, &sc) < 0 ||
      wd_pcache_new(4096, &pc) < 0) {
    wd_scopes_free(sc);
    wd_pcache_free(pc);
    wd_policy_set_free(s);
    return WD_ENOMEM;
  }
  if ((r = audit_load(b, via, b->pdigest, dg, wd_policy_set_count(s))) < 0) {
    wd_scopes_free(sc);
    wd_pcache_free(pc);
    wd_policy_set_free(s);
    return r;
  }
  /* Nothing of the old set is kept: decide() and wd__brk_sec_check look
  ** the scope up on each call, and the caches go with it. */
  wd_pcache_free(b->pcache);
  wd_scopes_free(b->scopes);
  wd_policy_set_free(b->pset);
  b->pset = s;
  b->scopes = sc;
  b->pcache = pc;
  b->pm = pm;
  memcpy(b->pdigest, dg, sizeof dg);
  memcpy(digest, dg, sizeof dg);
  for (i = 0; i < b->nhosts; i++) {
    hslot *h = &b->hosts[i];
    size_t st;
    if (!h->up || h->link == NULL) continue;
    wd__brk_sec_put_init(h, wd__brk_rec(h, WD_R_POLICY, &st));
    wd__brk_rec_done(h, st);
  }
  return 0;
}

/* }====== */

void wd__dep_drop_polm(wd_broker *b) {
  if (b->dep == NULL) return;
  wd_manifest_free(b->dep->polm);
  b->dep->polm = NULL;
}

int wd__brk_reload(wd_broker *b, const char *via, wd_buf *errs,
                   char digest[65]) {
  wd_manifest *m = NULL;
  wd_policy_set *s = NULL;
  int r;
  if (dep_of(b) == NULL) return WD_ENOMEM;
  if ((r = wd__dep_load(b, NULL, NULL, &m, errs)) < 0) return r;
  if ((r = wd__dep_compile(b, m, b->m, &s, errs)) < 0) {
    wd_manifest_free(m);
    return r;
  }
  if ((r = wd__dep_install(b, m, s, via, digest)) < 0) {
    wd_manifest_free(m);
    return r;
  }
  /* The hosts have their copy; the last reload's manifest is unused. */
  wd__dep_drop_polm(b);
  b->dep->polm = m;
  return 0;
}
