/*
** policy/policy_int.h
** Internals of the policy engine shared by the files of policy/: compiled
** rules and conditions, the string hash map, the scope index, value
** helpers. Never included outside policy/.
*/
#ifndef policy_int_h
#define policy_int_h

#include <regex.h>
#include <stdatomic.h>
#include <stdint.h>

#include "ward/wd_policy.h"

/*
** {======================================================================
** Small helpers
** =======================================================================
*/

/* A bounded string builder over a caller's buffer (no stdio in policy/).
** 'len' counts every byte appended, also those that did not fit. */
typedef struct SBuf {
  char *p;
  size_t cap, len;
} SBuf;

void wd__policy_sb_init(SBuf *b, char *p, size_t cap);
void wd__policy_sb_putn(SBuf *b, const char *s, size_t n);
void wd__policy_sb_puts(SBuf *b, const char *s);
void wd__policy_sb_putint(SBuf *b, long long v);
/* Append a user string for a message: at most 60 bytes, control
** characters and non-ASCII shown as '?', so a message stays one line. */
void wd__policy_sb_putq(SBuf *b, const char *s, size_t n);

/* 64-bit hash of a byte string, and its incremental form (FNV-1a), used
** where every prefix of a string is looked up. */
#define HASH_INIT       UINT64_C(0xcbf29ce484222325)
#define HASH_STEP(h, c) (((h) ^ (uint8_t)(c)) * UINT64_C(0x100000001b3))
uint64_t wd__policy_hash(const void *p, size_t n);

/* Make room in array 'v' (capacity 'cap') for element 'n'; sets 'r' to
** WD_ENOMEM on failure and leaves the array as it was. A macro so each
** array keeps its own element type. */
#define GROW(v, cap, n, r)                                                     \
  do {                                                                         \
    if ((n) >= (cap)) {                                                        \
      size_t nc_ = (cap) != 0 ? (cap)*2 : 4;                                   \
      void *nv_ = wd_realloc((v), nc_ * sizeof *(v));                          \
      if (nv_ == NULL) {                                                       \
        (r) = WD_ENOMEM;                                                       \
      } else {                                                                 \
        (v) = nv_;                                                             \
        (cap) = nc_;                                                           \
      }                                                                        \
    }                                                                          \
  } while (0)

/* }====================================================================== */

/*
** {======================================================================
** Values
** =======================================================================
*/

/* A number as seen by comparisons: exact integers stay exact. */
typedef struct Num {
  int isint;
  int64_t i;
  double d;
} Num;

/* Parse all of s[0..n) as a finite decimal number; 1 if it is one. */
int wd__policy_parse_num(const char *s, size_t n, Num *out);
/* 1 if 'v' is numeric (a number, or a string that parses as one). */
int wd__policy_num(const wd_pval *v, Num *out);
/* -1, 0, 1 for a < b, a == b, a > b; 2 when unordered (NaN). */
int wd__policy_numcmp(const Num *a, const Num *b);
/* String form of a string, number or boolean into 'buf' (32 bytes) or
** pointing into 'v'; 0 for null, lists and maps. */
int wd__policy_strform(const wd_pval *v, char *buf, const char **s, size_t *n);
/* The reference's eq: numbers if both numeric, else string forms. */
int wd__policy_equals(const wd_pval *a, const wd_pval *b);
/* Map lookup of a key given as (p, n). NULL if absent or not a map. */
const wd_pval *wd__policy_mapget(const wd_pval *m, const char *k, size_t n);

/* }====================================================================== */

/*
** {======================================================================
** Compiled rules
** =======================================================================
*/

enum { PAT_ANY, PAT_EXACT, PAT_PREFIX };

/* One action or resource pattern. PREFIX: 's' is the prefix. */
typedef struct Pat {
  int kind;
  char *s;
  size_t len;
} Pat;

enum {
  F_ACTOR_ID,
  F_ACTOR_META, /* path: components after "actor.meta" (may be none) */
  F_META,       /* path: key, then nested components */
  F_ACTION,
  F_RESOURCE,
  F_ATTR, /* path: one component, the whole text (an attribute key) */
};

typedef struct Comp {
  const char *p; /* into Field.text, not NUL-terminated */
  size_t n;
} Comp;

typedef struct Field {
  int kind;
  char *text; /* as written, e.g. "actor.meta.role" */
  Comp *path;
  size_t npath;
} Field;

#define OPS(XX)                                                                \
  XX(EQ, "eq")                                                                 \
  XX(NE, "ne")                                                                 \
  XX(LT, "lt")                                                                 \
  XX(GT, "gt")                                                                 \
  XX(LTE, "lte")                                                               \
  XX(GTE, "gte")                                                               \
  XX(IN, "in")                                                                 \
  XX(NIN, "nin")                                                               \
  XX(EXISTS, "exists")                                                         \
  XX(NEXISTS, "nexists")                                                       \
  XX(CONTAINS, "contains")                                                     \
  XX(NCONTAINS, "ncontains")                                                   \
  XX(MATCHES, "matches")                                                       \
  XX(NMATCHES, "nmatches")

enum {
#define XX(name, text) OP_##name,
  OPS(XX)
#undef XX
      OP__N
};

extern const char *const wd__policy_opnames[OP__N];

typedef struct Cond {
  Field f;
  int op;
  int has_from; /* compare with the field 'from' instead of 'val' */
  Field from;
  wd_pval val; /* owned constant (null when has_from) */
  int plain;   /* 'val' is a string that is not numeric: eq is bytes */
  int want;    /* exists/nexists: the boolean value */
  int has_re;
  regex_t re;
  int line, col; /* where the condition was declared */
} Cond;

/*
** A compiled policy. Immutable once built, shared by the set and by every
** scope that names it, freed with the last reference.
*/
typedef struct Rule {
  atomic_int refs;
  char *id;
  int effect; /* WD_PEFFECT_* */
  Pat *acts;
  size_t nacts;
  Pat *ress;
  size_t nress;
  Cond *conds;
  size_t nconds;
  char **groups; /* qualified group ids */
  size_t ngroups;
  char *file; /* where the policy map was declared */
  int line, col;
} Rule;

/* Compile one entry (see wd_policy_add). The new rule has one reference.
** 'strict': also check its names against what ward asks (actions.c). */
int wd__policy_compile(const char *id, const char *ns, const wd_node *pol,
                       const wd_node *grp, int strict, Rule **out, char *err,
                       size_t errlen);
/* Append why action pattern 'pat' or field 'f' is unknown (actions.c):
** "action 'x' matches no action ward asks (did you mean 'y'?)". */
void wd__policy_action_msg(SBuf *sb, const char *pat);
void wd__policy_field_msg(SBuf *sb, const char *f);
void wd__policy_rule_release(Rule *r);
/* Does pattern 'p' match s[0..n)? */
int wd__policy_pat_match(const Pat *p, const char *s, size_t n);
/* Does rule 'r' match 'rq' (patterns and every condition)? */
int wd__policy_rule_match(const Rule *r, const wd_preq *rq);
/* Only the conditions. */
int wd__policy_conds_hold(const Rule *r, const wd_preq *rq);
/* One condition alone (inspect.c): 1 it holds, 0 it does not. */
int wd__policy_cond_holds(const Cond *c, const wd_preq *rq);
/* The value of field 'f' for 'rq', or NULL when missing or null. 'tmp'
** holds string values made for the action, resource and actor id. */
const wd_pval *wd__policy_resolve(const Field *f, const wd_preq *rq,
                                  wd_pval *tmp);

/* }====================================================================== */

/*
** {======================================================================
** Hash map from borrowed byte strings to pointers
** =======================================================================
*/

typedef struct HEnt {
  const char *k; /* NULL: empty slot */
  size_t n;
  uint64_t h;
  void *v;
} HEnt;

typedef struct HMap {
  HEnt *e;
  size_t cap; /* 0 or a power of two */
  size_t n;
} HMap;

void *wd__policy_hget(const HMap *m, const char *k, size_t n, uint64_t h);
/* Insert or replace. Returns 0 or WD_ENOMEM (map unchanged). */
int wd__policy_hput(HMap *m, const char *k, size_t n, void *v);
void wd__policy_hfree(HMap *m);

/* }====================================================================== */

/*
** {======================================================================
** Sets, scopes, the index
** =======================================================================
*/

typedef struct Group {
  char *name;
  Rule **v;
  size_t n, cap;
} Group;

struct wd_policy_set {
  Rule **v; /* every rule, in order of addition */
  size_t n, cap;
  HMap byid;   /* id -> Rule */
  HMap groups; /* group id -> Group */
  Group **gv;  /* every group, for freeing */
  size_t ngv, gcap;
  int strict; /* check names of new policies (wd_policy_set_strict) */
};

/* Candidate rules for one (action pattern, resource pattern) pair. */
typedef struct Leaf {
  Rule **v;
  size_t n, cap;
} Leaf;

/*
** An index over one string dimension. A lookup of 's' visits 'any', the
** exact entry for 's' and the prefix entry for each prefix of 's' whose
** length is one of 'plens' (ascending), so it touches only entries that
** match. At the action level the values are resource-level Index
** pointers; at the resource level they are Leaf pointers.
*/
typedef struct Index {
  HMap exact;
  HMap prefix;
  uint32_t *plens;
  size_t nplens, plcap;
  void *any;
} Index;

struct wd_scope {
  atomic_int refs;
  uint64_t gen;
  Rule **rules; /* distinct, holding one reference each */
  size_t nrules;
  Index idx;    /* action -> Index(resource) -> Leaf */
  Index **ridx; /* every resource-level Index, for freeing */
  size_t nridx, ridxcap;
  Leaf **leaves; /* every Leaf, for freeing */
  size_t nleaves, leafcap;
  const Field **keyf; /* the distinct fields conditions read (cache key) */
  size_t nkeyf;
};

/* Build and free the index of a scope whose 'rules' are set. */
int wd__policy_index_build(wd_scope *sc);
void wd__policy_index_free(wd_scope *sc);
/* Call 'fn' on every leaf whose (action, resource) patterns match; a rule
** may be reached through more than one leaf. */
typedef void (*LeafFn)(const Leaf *l, void *ud);
void wd__policy_index_walk(const wd_scope *sc, const char *action,
                           const char *resource, LeafFn fn, void *ud);

/* }====================================================================== */

#endif
