/*
** include/ward/wd_secid.h
** Security identities as they travel: a scope is a newline-separated list
** of policy group or policy ids; an actor is "<id>" or "<id>\0<meta>" with
** the meta as a wire pval (wd_wire.h). Both the broker and the hosts
** compile scopes once and share them between the processes that carry the
** same scope string.
*/
#ifndef wd_secid_h
#define wd_secid_h

#include <stddef.h>

#include "ward/wd_policy.h"

typedef struct wd_scopes wd_scopes;

/* A cache of compiled scopes over 'set' (borrowed; must outlive it). */
int wd_scopes_new(const wd_policy_set *set, wd_scopes **out);
void wd_scopes_free(wd_scopes *c);
/* The compiled scope for a scope string, or NULL when it is empty or
** names an unknown policy or group (a NULL scope denies everything).
** Borrowed from the cache. */
wd_scope *wd_scopes_get(wd_scopes *c, const char *key, size_t len);
/* Split a travelling actor: '*meta' gets an owned value (null when there
** is none or it is malformed; release with wd_pval_clear). Returns the id
** length (the id is the first bytes of 'packed'). */
size_t wd_actor_unpack(const char *packed, size_t len, wd_pval *meta);

/* One process.* check: the request and the storage it borrows. */
typedef struct wd_seccheck {
  wd_pattr attrs[4];
  wd_preq rq;
  char res[512];
} wd_seccheck;

/* Build the request for 'action' on 'resource' by actor 'actor_id' (NULL
** or "": none) with 'meta', made by process 'pid' of host 'host'; the
** attributes are pid, host, and target_host and topic when not NULL.
** Everything but the resource (copied, truncated to 511 bytes) stays
** borrowed. */
void wd_sec_request(wd_seccheck *c, const char *actor_id,
                    const wd_pval *meta, const char *action,
                    const char *resource, size_t rlen, const char *pid,
                    size_t pl, const char *host, size_t hl,
                    const char *target_host, const char *topic);
/* Decide it: no scope or no actor denies; otherwise through 'cache'.
** Returns WD_POLICY_ALLOW or WD_EDENIED and fills 'd'. */
int wd_sec_decide(const wd_seccheck *c, const wd_scope *sc,
                  wd_pcache *cache, wd_pdecision *d);

/* A host's security ceiling: the actor id patterns (fnmatch) and the
** policy groups and ids its processes may have. 'on' 0: no ceiling. */
typedef struct wd_ceiling {
  int on;
  const char *const *actors, *const *groups, *const *policies;
  size_t nactors, ngroups, npolicies;
} wd_ceiling;

/* Does a travelling actor ("<id>" or "<id>\0<meta>") and scope fit the
** ceiling? Returns 1, or 0 with the reason in 'why'. */
int wd_ceiling_fits(const wd_ceiling *c, const char *actor, size_t al,
                    const char *scope, size_t sl, char *why, size_t whylen);

#endif
