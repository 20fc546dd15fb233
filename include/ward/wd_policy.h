/*
** include/ward/wd_policy.h
** The policy engine: values, policy sets compiled from `security.policy`
** entries, immutable refcounted scopes indexed by action and resource,
** decisions that explain themselves, a per-process decision cache and a
** linter for `ward policy check`.
** Pure: no I/O, no Lua, no libuv. Runs in: broker and host.
**
** Semantics (reference/wippy-semantics.md §8, ARCHITECTURE.md §5):
** - A policy matches a request when one of its action patterns matches the
**   action, one of its resource patterns matches the resource and every
**   condition holds. Patterns: "*" matches everything; "p.*" and "p*" match
**   every string starting with "p" (note: "process.*" also matches
**   "processes", as in the reference); anything else matches exactly.
** - Deny overrides: any matching deny denies; else any matching allow
**   allows; else deny. No actor or no scope denies: there is no permissive
**   mode. Policy order and duplicates never change a decision.
** - A condition on a missing (or null) field is false, whatever its
**   operator, except exists/nexists. So is a condition whose value_from
**   field is missing, and any condition whose operands have the wrong type
**   (the reference's "evaluation error"): in particular a negated operator
**   (ne, nin, ncontains, nmatches) on a wrong type is false, not true.
** - "Numeric" means a number, or a string that parses completely as a finite
**   decimal number ("12", "-1.5e3"). eq/ne compare as numbers when both
**   sides are numeric, else as strings (booleans as "true"/"false",
**   numbers in their shortest round-trip form); lists and maps equal
**   nothing. lt/gt/lte/gte need both sides numeric.
*/
#ifndef wd_policy_h
#define wd_policy_h

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "ward/wd_common.h"
#include "ward/wd_node.h"

/*
** {======================================================================
** Values: actor meta, request attributes and condition constants
** =======================================================================
*/

enum {
  WD_PVAL_NULL,
  WD_PVAL_BOOL,
  WD_PVAL_INT, /* int64_t */
  WD_PVAL_NUM, /* double */
  WD_PVAL_STR,
  WD_PVAL_LIST,
  WD_PVAL_MAP,
};

typedef struct wd_pval wd_pval;
typedef struct wd_pattr wd_pattr;

/*
** A value either borrows all its storage (built with the wd_pval_* inline
** builders below, typically on the stack for one check) or owns all of it
** (built by wd_pval_from_node or wd_pval_copy, released by wd_pval_clear).
** Never mix the two in one tree. Strings carry a length and need not be
** NUL-terminated; map keys are NUL-terminated C strings.
*/
struct wd_pval {
  int type; /* WD_PVAL_* */
  union {
    int b;
    int64_t i;
    double n;
    struct {
      const char *p;
      size_t len;
    } s;
    struct {
      const wd_pval *v;
      size_t n;
    } list;
    struct {
      const wd_pattr *v;
      size_t n;
    } map;
  } u;
};

/* One attribute of a request, or one entry of a map value. */
struct wd_pattr {
  const char *key;
  wd_pval val;
};

/* Borrowing builders: no allocation, the result points into the inputs. */
static inline wd_pval wd_pval_null(void) {
  wd_pval v;
  memset(&v, 0, sizeof v);
  v.type = WD_PVAL_NULL;
  return v;
}
static inline wd_pval wd_pval_bool(int b) {
  wd_pval v = wd_pval_null();
  v.type = WD_PVAL_BOOL;
  v.u.b = b != 0;
  return v;
}
static inline wd_pval wd_pval_int(int64_t i) {
  wd_pval v = wd_pval_null();
  v.type = WD_PVAL_INT;
  v.u.i = i;
  return v;
}
static inline wd_pval wd_pval_num(double n) {
  wd_pval v = wd_pval_null();
  v.type = WD_PVAL_NUM;
  v.u.n = n;
  return v;
}
static inline wd_pval wd_pval_strn(const char *p, size_t len) {
  wd_pval v = wd_pval_null();
  v.type = WD_PVAL_STR;
  v.u.s.p = p;
  v.u.s.len = len;
  return v;
}
static inline wd_pval wd_pval_str(const char *s) {
  return wd_pval_strn(s, strlen(s));
}
static inline wd_pval wd_pval_list(const wd_pval *items, size_t n) {
  wd_pval v = wd_pval_null();
  v.type = WD_PVAL_LIST;
  v.u.list.v = items;
  v.u.list.n = n;
  return v;
}
static inline wd_pval wd_pval_map(const wd_pattr *kv, size_t n) {
  wd_pval v = wd_pval_null();
  v.type = WD_PVAL_MAP;
  v.u.map.v = kv;
  v.u.map.n = n;
  return v;
}

/* Deepest nesting wd_pval_from_node and wd_pval_copy accept. */
#define WD_PVAL_MAXDEPTH 32

/*
** Build an owned value from a node tree. A scalar is: a string when it was
** quoted; else null for "null", "~" or ""; a boolean for "true"/"false";
** an integer or a double when its whole text is a decimal number; else a
** string. Sequences become lists, maps become maps.
** Returns 0, WD_EINVAL (NULL node, a map key that is not a scalar, or
** nesting deeper than WD_PVAL_MAXDEPTH) or WD_ENOMEM; on failure '*out' is
** null and nothing is allocated.
*/
WD_API int wd_pval_from_node(const wd_node *n, wd_pval *out);
/* Deep owned copy of any value. Returns 0, WD_EINVAL (too deep), WD_ENOMEM. */
WD_API int wd_pval_copy(const wd_pval *src, wd_pval *dst);
/* Free an owned value and make it null. NULL does nothing. */
WD_API void wd_pval_clear(wd_pval *v);

/* }====================================================================== */

/*
** {======================================================================
** Policy sets: compiled security.policy entries, by id and by group
** =======================================================================
*/

typedef struct wd_policy_set wd_policy_set;

/* Returns 0 or WD_ENOMEM. */
WD_API int wd_policy_set_new(wd_policy_set **out);
/* Drops the set's references; scopes made from it stay valid. NULL: no-op. */
WD_API void wd_policy_set_free(wd_policy_set *s);

/*
** Compile one `security.policy` entry with id 'id' (e.g. "app.sec:p")
** declared in namespace 'ns'. 'policy' is the entry's `policy:` map
** (actions, resources, effect, conditions); 'groups' its `groups:` list
** or NULL. A group name without ':' is qualified as "<ns>:<group>".
** Returns 0; WD_EINVAL for a load error, with "FILE:LINE:COL: message" in
** 'err' (positions from the nodes); WD_EEXIST when 'id' is already in the
** set; WD_ENOMEM. On failure the set is unchanged. The nodes are not kept.
** 'err' may be NULL; it is always NUL-terminated when errlen > 0.
*/
WD_API int wd_policy_add(wd_policy_set *s, const char *id, const char *ns,
                         const wd_node *policy, const wd_node *groups,
                         char *err, size_t errlen);

/*
** Make 's' strict (on != 0) or not, for the policies added from now on. A
** strict set refuses, as load errors (WD_EINVAL, "FILE:LINE:COL: ..."),
** an action pattern that matches no action ward asks
** (wd_policy_action_known) and a condition field or value_from that no
** request has (wd_policy_field_known). A new set is not strict: the
** engine itself takes any vocabulary (its own tests use made-up actions
** and attributes). ward's loaders (wd_polset_*) make theirs strict; a
** host recompiling what its broker checked need not. NULL: no-op.
*/
WD_API void wd_policy_set_strict(wd_policy_set *s, int on);

/* Number of policies, and the id of the i-th (in order of addition). */
WD_API size_t wd_policy_set_count(const wd_policy_set *s);
WD_API const char *wd_policy_set_id(const wd_policy_set *s, size_t i);
/* 1 if 'name' is a policy id or a group id of the set, else 0. */
WD_API int wd_policy_set_has(const wd_policy_set *s, const char *name);

/* }====================================================================== */

/*
** {======================================================================
** What ward asks: its actions and the attributes of its requests
** =======================================================================
*/

/*
** Every action ward's runtime, broker and front door ask the engine
** about, as a static NULL-terminated array: process.send,
** process.spawn[.monitored|.linked], process.exec, process.host,
** process.context, process.security, process.monitor, process.unmonitor,
** process.link, process.unlink, process.cancel, process.terminate,
** process.upgrade, process.registry.register|unregister|lookup|foreign,
** ward.deploy, ward.policy.reload, ward.status: the actions of the
** operation table (WD_ACTION_MAP in ward/wd_ops.h), in its order.
** Borrowed, valid forever.
*/
WD_API const char *const *wd_policy_actions(void);
/*
** The attributes a request may carry, as a static NULL-terminated array:
** pid, host, target_host, topic, via, token. All strings.
*/
WD_API const char *const *wd_policy_attrs(void);

/*
** 1 if action pattern 'pat' can match an action of wd_policy_actions():
** "*"; an action itself; "p*" when an action starts with "p"; "p.*" when
** an action is "p" or starts with "p.". That last rule is stricter than
** matching, which reads "p.*" as "p*": "proces.*" is a typo, not a
** pattern meant to cover "process.send". 0 otherwise, and for NULL.
*/
WD_API int wd_policy_action_known(const char *pat);
/*
** 1 if condition field 'f' is one a request has: "action", "resource",
** "actor.id", "actor.meta" and every "actor.meta.<path>" (the meta is
** open), an attribute of wd_policy_attrs() by its bare name or as
** "meta.<attr>" (with no path below it: attributes are strings). 0
** otherwise, and for NULL.
*/
WD_API int wd_policy_field_known(const char *f);

/* }====================================================================== */

/*
** {======================================================================
** Scopes: immutable, refcounted, indexed sets of policies
** =======================================================================
*/

typedef struct wd_scope wd_scope;

/*
** Compile the policies named by 'names' (policy ids or group ids; a name
** that is both contributes both) into a new scope with one reference.
** n == 0 gives the empty scope, which denies everything.
** Returns 0, WD_ENOTFOUND (an unknown name, named in 'err'), WD_EINVAL
** (NULL set or name) or WD_ENOMEM. The scope keeps the compiled policies
** alive after the set is freed. Each scope gets a new generation number,
** never reused in this process, which invalidates decision caches.
*/
WD_API int wd_scope_new(const wd_policy_set *s, const char *const *names,
                        size_t n, wd_scope **out, char *err, size_t errlen);
/* Add a reference and return 'sc'. Thread-safe. */
WD_API wd_scope *wd_scope_grab(wd_scope *sc);
/* Drop a reference; the last one frees the scope. NULL: no-op. */
WD_API void wd_scope_release(wd_scope *sc);
/* Number of distinct policies in the scope; its generation number. */
WD_API size_t wd_scope_count(const wd_scope *sc);
WD_API uint64_t wd_scope_gen(const wd_scope *sc);

/* }====================================================================== */

/*
** {======================================================================
** Requests and decisions
** =======================================================================
*/

/*
** Everything a decision may depend on. All borrowed for the duration of
** the call. 'actor_meta' may be NULL (no meta); a non-map meta has no
** keys. The attributes always include "pid" (the caller) and, where they
** apply, "host", "target_host" and "topic" (the front door adds "via"
** and "token"), all strings: see wd_policy_attrs.
*/
typedef struct wd_preq {
  const char *actor_id;
  const wd_pval *actor_meta;
  const char *action;
  const char *resource;
  const wd_pattr *attrs;
  size_t nattrs;
} wd_preq;

#define WD_POLICY_ALLOW 0 /* the non-error result of a check */

enum { WD_PEFFECT_DENY, WD_PEFFECT_ALLOW };

/* Why a decision came out as it did. */
#define WD_REASON_MAP(XX)                                                      \
  XX(ALLOWED, "allowed")                                                       \
  XX(DENIED_BY_POLICY, "forbidden by policy")                                  \
  XX(NO_MATCH, "no policy matched")                                            \
  XX(NO_ACTOR_OR_SCOPE, "no actor or scope")                                   \
  XX(BAD_REQUEST, "malformed request")

enum {
#define XX(name, msg) WD_REASON_##name,
  WD_REASON_MAP(XX)
#undef XX
};

#define WD_PDECISION_MAXIDS 8

/*
** 'ids' are the deciding policies: the matching denies on a deny by policy,
** the matching allows on an allow, none otherwise. When more than
** WD_PDECISION_MAXIDS decided, 'ids' holds the smallest ids (byte order),
** so the record never depends on policy order, and 'more' is 1. The id
** strings are borrowed from the scope: valid while it lives.
*/
typedef struct wd_pdecision {
  int effect; /* WD_PEFFECT_* */
  int reason; /* WD_REASON_* */
  size_t nids;
  int more;
  const char *ids[WD_PDECISION_MAXIDS];
} wd_pdecision;

/*
** Decide 'rq' in 'sc' through the scope's index. Returns WD_POLICY_ALLOW
** or WD_EDENIED; a NULL scope, request, actor id, action or resource is a
** deny. Fills 'd' when it is not NULL. Never calls wd_malloc (regexec may
** use libc's heap) and never fails otherwise; thread-safe on a shared
** scope.
*/
WD_API int wd_policy_check(const wd_scope *sc, const wd_preq *rq,
                           wd_pdecision *d);
/*
** The same decision by a plain scan of every policy of the scope, with no
** index: the reference the index is tested against. Same contract.
*/
WD_API int wd_policy_check_scan(const wd_scope *sc, const wd_preq *rq,
                                wd_pdecision *d);

/*
** Write one line explaining 'd' into 'out', e.g.
** "deny: forbidden by app.sec:no_terminate", "deny: no policy matched",
** "allow: app.sec:a, app.sec:b". Returns the length of the whole line
** (as snprintf: the output was truncated if it is >= outlen) or WD_EINVAL.
*/
WD_API int wd_policy_explain(const wd_pdecision *d, char *out, size_t outlen);
/* Static name of a WD_REASON_* value ("no policy matched"). */
WD_API const char *wd_policy_reason(int reason);

/* }====================================================================== */

/*
** {======================================================================
** Inspection: what the policies of a scope say, for the auditor's tools
** (ward policy permissions, diff, test --coverage)
** =======================================================================
*/

/* One policy of a scope. Strings are borrowed from the scope. */
typedef struct wd_pinfo {
  const char *id;
  int effect;       /* WD_PEFFECT_* */
  const char *file; /* where its policy map was declared */
  int line, col;
  size_t nacts, nress, nconds;
} wd_pinfo;

/* An action or resource pattern as the engine reads it: "*" (ANY), a
** string matched exactly, or a prefix ("p.*" and "p*" are both the
** prefix "p"). 's' is not NUL-terminated for PREFIX. */
enum { WD_PPAT_ANY, WD_PPAT_EXACT, WD_PPAT_PREFIX };
typedef struct wd_ppat {
  int kind;
  const char *s;
  size_t len;
} wd_ppat;

/* What a condition reads (its field and its value_from). */
#define WD_PREADS_ACTOR    0x1u /* actor.id, actor.meta[.<path>] */
#define WD_PREADS_ACTION   0x2u
#define WD_PREADS_RESOURCE 0x4u
#define WD_PREADS_ATTRS    0x8u /* a request attribute (bare or meta.) */

typedef struct wd_pcond {
  const char *field;    /* as written, e.g. "actor.meta.tenant" */
  const char *op;       /* "eq", "in", "matches", ... */
  const wd_pval *value; /* the constant; NULL with value_from, and for
                           exists/nexists (see 'want') */
  const char *from;     /* the value_from field as written, or NULL */
  int want;             /* exists/nexists: the boolean they test */
  int regex;            /* matches/nmatches: truth can only be sampled */
  unsigned reads;       /* WD_PREADS_* */
  int line, col;        /* where the condition was declared */
} wd_pcond;

/*
** Policy 'i' of scope 'sc' (0 <= i < wd_scope_count), in the order the
** scope took them in. Returns 0 or WD_EINVAL (NULL, out of range).
*/
WD_API int wd_scope_policy(const wd_scope *sc, size_t i, wd_pinfo *out);
/* Its action (resource == 0) or resource (resource != 0) pattern 'j'.
** Returns 0 or WD_EINVAL. */
WD_API int wd_scope_pattern(const wd_scope *sc, size_t i, int resource,
                            size_t j, wd_ppat *out);
/* 1 if pattern 'p' matches NUL-terminated 's', else 0. */
WD_API int wd_ppat_match(const wd_ppat *p, const char *s);
/* Its condition 'j'. Returns 0 or WD_EINVAL. Borrowed from the scope. */
WD_API int wd_scope_cond(const wd_scope *sc, size_t i, size_t j, wd_pcond *out);
/*
** Does condition 'j' of policy 'i' hold for 'rq', exactly as the engine
** decides it inside a check (a missing field fails closed)? 1 or 0; 0 for
** a bad index or NULL. 'rq' needs only what the condition reads; a NULL
** action or resource is read as "".
*/
WD_API int wd_scope_cond_holds(const wd_scope *sc, size_t i, size_t j,
                               const wd_preq *rq);

/* }====================================================================== */

/*
** {======================================================================
** Decision cache: one per process, never shared between threads
** =======================================================================
*/

typedef struct wd_pcache wd_pcache;

/*
** A 4-way set-associative LRU cache of 'nslots' decisions (rounded up to
** a power of two, at least 4; 0 means 64). Returns 0, WD_EINVAL (more
** than 2^20 slots) or WD_ENOMEM.
*/
WD_API int wd_pcache_new(size_t nslots, wd_pcache **out);
WD_API void wd_pcache_free(wd_pcache *c);
/* Forget every entry (a reload does not need this: see wd_scope_gen). */
WD_API void wd_pcache_clear(wd_pcache *c);
/*
** wd_policy_check through the cache: same result and same 'd'. The key is
** the action, the resource and the values of every field the scope's
** conditions read, compared in full (a hash collision is never a hit), so
** a hit returns exactly what an uncached check would. Entries of another
** scope generation never hit. Requests whose key exceeds an internal bound
** are decided uncached. May allocate on a miss; if that fails, the check
** still happens and the result is just not stored.
*/
WD_API int wd_pcache_check(wd_pcache *c, const wd_scope *sc, const wd_preq *rq,
                           wd_pdecision *d);
/* Hits and misses so far (either may be NULL). */
WD_API void wd_pcache_stats(const wd_pcache *c, uint64_t *hits,
                            uint64_t *misses);

/* }====================================================================== */

/*
** {======================================================================
** Static analysis (ward policy check)
** =======================================================================
*/

enum {
  WD_PLINT_SHADOWED,    /* an allow always overridden by a deny */
  WD_PLINT_NEVER_MATCH, /* conditions that can never all hold */
};

typedef struct wd_plint {
  int kind;          /* WD_PLINT_* */
  const char *id;    /* the policy reported */
  const char *other; /* SHADOWED: the deny that overrides it; else NULL */
  const char *file;  /* where 'id' was declared */
  int line, col;
  const char *msg; /* one line, without position */
} wd_plint;

typedef void (*wd_plint_cb)(const wd_plint *finding, void *ud);

/*
** Report (a) allows whose every action and resource is covered by an
** unconditional deny that is in every group the allow is in (so every
** scope that takes the allow by group takes the deny too), and (b)
** policies whose conditions contradict each other (eq A and eq B; exists
** and nexists; lt 1 and gt 5; eq 3 and lt 1; ...). Calls 'cb' once per
** finding, synchronously, in a deterministic order; everything it gets is
** borrowed for the call. Returns the number of findings or WD_ENOMEM
** (WD_EINVAL for a NULL set or callback).
*/
WD_API int wd_policy_lint(const wd_policy_set *s, wd_plint_cb cb, void *ud);

/* }====================================================================== */

#endif
