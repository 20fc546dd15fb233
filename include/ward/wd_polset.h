/*
** include/ward/wd_polset.h
** Policy sets built from manifests: every `security.policy` entry of an
** app directory or policy file compiled into one wd_policy_set, with
** every error naming "FILE:LINE:COL". Used by the broker at start and on
** reload, and by `ward policy check|eval|explain|test`.
** Runs in: broker (loading reads files; building from a manifest does not).
*/
#ifndef wd_polset_h
#define wd_polset_h

#include <stddef.h>

#include "ward/wd_common.h"
#include "ward/wd_manifest.h"
#include "ward/wd_policy.h"

/*
** Compile every security.policy entry of 'm', in manifest order, into a
** new set in '*out' (free it with wd_policy_set_free). The set is strict
** (wd_policy_set_strict): an action pattern that matches no action ward
** asks, or a condition field no request has, is a load error. Returns 0;
** WD_EINVAL with "FILE:LINE:COL: message" in 'err' (a bad policy, or an
** id defined twice); WD_ENOMEM. '*out' is untouched on failure. The set
** does not keep 'm'.
*/
WD_API int wd_polset_from_manifest(const wd_manifest *m, wd_policy_set **out,
                                   char *err, size_t errlen);

/* The same, adding to an existing set 's', which this makes strict. On
   failure 's' keeps the policies added before the bad one: treat it as
   failed and free it. */
WD_API int wd_polset_add_manifest(wd_policy_set *s, const wd_manifest *m,
                                  char *err, size_t errlen);

/*
** Policies loaded from paths: each path is a directory (every _index.yaml
** below it, as `ward run` reads an app) or one YAML file of entries (as
** `--policy FILE`; Lua sources it names are checked but not read). The
** manifests stay loaded so tools can point at the YAML of each policy.
** The set is strict, as wd_polset_from_manifest makes it.
*/
typedef struct wd_polset {
  wd_policy_set *set;
  wd_manifest **mv; /* one per path, in order */
  size_t nm;
} wd_polset;

/*
** Load 'n' paths into a new wd_polset in '*out'. Returns 0; WD_EINVAL
** ("FILE:LINE:COL: message" in 'err'); -errno when a path cannot be read
** ("PATH: reason"); WD_ENOMEM. '*out' is untouched on failure.
*/
WD_API int wd_polset_load(const char *const *paths, size_t n, wd_polset **out,
                          char *err, size_t errlen);
/* Free the set and the manifests. NULL does nothing. */
WD_API void wd_polset_free(wd_polset *ps);

/*
** The digest of the security.policy entries of the 'n' manifests 'mv':
** lowercase hex BLAKE2b-256 over each policy (in the order of their ids)
** as id, namespace, and the content of its policy and groups (values and
** their structure; not the files, lines or comments). Two loads of the
** same policies have the same digest wherever they sit; any change in a
** rule, a condition or a group changes it. The broker writes it into
** every audit record; `ward policy explain --from-log` compares it.
** Returns 0, or WD_ENOMEM ('out' is then "").
*/
#define WD_POLSET_DIGEST_HEX 65
WD_API int wd_polset_digest(const wd_manifest *const *mv, size_t n,
                            char out[WD_POLSET_DIGEST_HEX]);

/*
** One policy or group name of a security block that 's' does not have:
** 'at' is the list item that names it (file, line, col), 'id' the entry
** whose block it is, 'msg' one line without position or id, e.g. "scope
** names 'app:x', which is no policy or group". All borrowed for the call.
*/
typedef void (*wd_polset_ref_cb)(const wd_node *at, const char *id,
                                 const char *msg, void *ud);

/*
** Check every name the security blocks of 'm' give (process.lua
** `security:`, process.service `lifecycle.security`, a host's
** `security.default` and `security.ceiling` groups and policies)
** against 's', exactly as the runtime resolves them (wd_scope_new takes
** names as written: a bare "g" is never the group "ns:g"). An unknown
** name would make every call of the process denied ("no actor or
** scope"), or a ceiling that admits nothing real. Calls 'cb' once per
** unknown name, synchronously, in manifest order; returns how many there
** were (0: all known). Call it once every policy is in 's', --policy
** files included.
*/
WD_API int wd_polset_check_refs(const wd_policy_set *s, const wd_manifest *m,
                                wd_polset_ref_cb cb, void *ud);

/*
** The security.policy entry with id 'id' in any manifest of 'ps', or
** NULL. Borrowed from 'ps'.
*/
WD_API const wd_entry *wd_polset_find(const wd_polset *ps, const char *id);

/*
** 1 if scope names 'names' (policy ids or group ids, as wd_scope_new takes
** them) take in policy entry 'e': by its id, or by one of its groups (a
** group without ':' belongs to the entry's namespace). Else 0.
*/
WD_API int wd_polset_in_scope(const wd_entry *e, const char *const *names,
                              size_t n);

#endif
