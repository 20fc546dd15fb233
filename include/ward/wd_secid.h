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

#endif
