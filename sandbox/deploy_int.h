/*
** sandbox/deploy_int.h
** What a policy reload (broker_reload.c) and a deploy (broker_gw_deploy.c)
** share: the broker's record of deployed namespaces and of the manifests
** it loaded since it started.
** Runs in: broker.
*/
#ifndef deploy_int_h
#define deploy_int_h

#include "ward/wd_buf.h"
#include "ward/wd_manifest.h"
#include "ward/wd_policy.h"

/* The most namespaces deployed into one ward. */
#define WD_DEP_MAX_NS 256

/* A namespace deployed since the start: its revision and the path of
** the _index.yaml of that revision under --deploy-dir. */
typedef struct depns {
  char *name;
  char *index;
  uint64_t rev;
} depns;

typedef struct brk_dep {
  depns *ns;
  size_t nns;
  /* Manifests made code of the broker by a deploy: the current one
  ** ('b->m'), and an earlier one only while a service started from it
  ** still runs (broker_gw_deploy.c 'trim_kept' frees the rest after
  ** each deploy). */
  wd_manifest **kept;
  size_t nkept;
  /* The manifest of the last reload (its policies only are used); the
  ** next reload or deploy frees it. */
  wd_manifest *polm;
} brk_dep;

/* Append one error line to 'errs' (at most 64 are listed). */
void wd__dep_errf(wd_buf *errs, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
int wd__dep_keep(wd_broker *b, wd_manifest *m);
int wd__dep_load(wd_broker *b, const char *ns, const char *index,
                 wd_manifest **out, wd_buf *errs);
int wd__dep_compile(wd_broker *b, const wd_manifest *pm,
                    const wd_manifest *code, wd_policy_set **out, wd_buf *errs);
int wd__dep_install(wd_broker *b, const wd_manifest *pm, wd_policy_set *s,
                    const char *via, char digest[65]);
/*
** Check that the entries of a revision of 'ns' (those of its _index.yaml,
** 'index') reach nothing outside 'ns' (broker_dep_scope.c): every broken
** rule goes to 'errs' as FILE:LINE:COL. Returns 0 or WD_ENOMEM.
*/
int wd__dep_check_scope(const wd_manifest *m, const char *ns, const char *index,
                        wd_buf *errs);
/* The last reload's manifest is no longer needed (a deploy replaced it). */
void wd__dep_drop_polm(wd_broker *b);
/* How many deployed revisions' manifests the broker holds (a gauge of
** /metrics; broker_gw_deploy.c). */
int wd__brk_dep_held(const wd_broker *b);

#endif
