/*
** runtime/lua/lpolicy.c
** The host's side of the policy engine: the policies the broker shipped,
** each process's actor and scope, and the check every process.* call
** makes before it has any effect (deny by default, ARCHITECTURE.md §5).
** Denials (and, with `--audit all`, every decision) are reported to the
** broker for its audit log.
** Runs in: host (sandboxed).
*/
#include <stdio.h>
#include <string.h>

#include "lhost.h"
#include "lerrors.h"
#include "ward/wd_proto.h"
#include "ward/wd_secid.h"
#include "ward/wd_wire.h"

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

/* The policies section of INIT: u8 audit mode, u32 n, n * (str id,
** str ns, str file, node policy, node groups); then the host's ceiling:
** u8 on, and three lists (actor patterns, groups, policy ids). */
int wd__sec_init(wd_host *h, wd_cur *c) {
  uint8_t mode;
  uint32_t n, i;
  int r;
  if (wd_cur_u8(c, &mode) < 0 || wd_cur_u32(c, &n) < 0 || n > 1000000)
    return WD_EBADFRAME;
  h->audit_mode = mode;
  if ((r = wd_policy_set_new(&h->pset)) < 0) return r;
  if ((r = wd_pcache_new(4096, &h->pcache)) < 0) return r;
  if ((r = wd_scopes_new(h->pset, &h->scopes)) < 0) return r;
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
    r = wd_policy_add(h->pset, ids, nss, pol, groups, err, sizeof err);
    wd_wire_node_free(pol);
    wd_wire_node_free(groups);
    if (r < 0) return WD_EBADFRAME;
  }
  if (wd_cur_u8(c, &mode) < 0) return WD_EBADFRAME;
  h->ceil.on = mode != 0;
  if ((r = get_strv(c, &h->ceil.actors, &h->ceil.nactors)) < 0 ||
      (r = get_strv(c, &h->ceil.groups, &h->ceil.ngroups)) < 0 ||
      (r = get_strv(c, &h->ceil.policies, &h->ceil.npolicies)) < 0)
    return r;
  return 0;
}

void wd__sec_free(wd_host *h) {
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
int wd__sec_bind(actor *a, const spawnopt *o) {
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

void wd__sec_unbind(actor *a) {
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
int wd__sec_decide(actor *a, const char *action, const char *resource,
                   size_t rlen, const char *target_host, const char *topic,
                   char *why, size_t whylen) {
  wd_host *h = a->h;
  wd_seccheck c;
  wd_pdecision d;
  int r;
  wd_sec_request(&c, a->sec_actor, &a->meta, action, resource, rlen, a->pid,
                 a->pidlen, h->id, h->idlen, target_host, topic);
  r = wd_sec_decide(&c, a->scope, h->pcache, &d);
  if (why != NULL) wd_policy_explain(&d, why, whylen);
  return r;
}

/* The host part of a PID, or NULL. */
const char *wd__sec_host_of(const char *pid, size_t len, char *out,
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

static int memo_hit(actor *a, const char *action, const char *resource,
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

static void memo_keep(actor *a, const char *action, const char *resource,
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

/* {====== Decisions that must be logged first ======
** With `--audit deny` (denials) or `--audit all` (every decision), a
** decision has no effect until the broker has written it to the audit
** log: the check sends it as a request and the task waits. When the
** answer comes, the API call runs again from its start with the same
** arguments (every API function goes through api_call, which keeps
** them), and this time the check finds its decision among those already
** logged for the call. The arguments are kept aside, as the function
** may have changed its stack before the check. If the broker could not
** write it, the call fails with Unavailable and has no effect (fail
** closed). Decisions from many actors in one loop turn travel to the
** broker in one frame. Decisions already logged for the call are found by
** action and a 64-bit hash of resource, target host and topic (a call
** makes at most four checks). */

static int api_call(lua_State *L) {
  lua_CFunction f = lua_tocfunction(L, lua_upvalueindex(1));
  task *t = wd__task_current(L);
  /* Only a yieldable call can wait; a nested one (inside a metamethod or
  ** a C call) leaves the state of the call around it alone. */
  if (t != NULL && lua_isyieldable(L)) {
    int i, n = lua_gettop(L);
    if (t->audit_args == 0) {
      lua_createtable(L, n, 0);
      t->audit_args = luaL_ref(L, LUA_REGISTRYINDEX);
    }
    lua_rawgeti(L, LUA_REGISTRYINDEX, t->audit_args);
    for (i = 1; i <= n; i++) {
      lua_pushvalue(L, i);
      lua_rawseti(L, -2, i);
    }
    lua_pop(L, 1);
    t->audit_nargs = n;
    t->nlogged = 0;
  }
  return f(L);
}

/* Push API function 'f': through api_call when decisions are logged. */
void wd__push_api(lua_State *L, lua_CFunction f) {
  lua_pushcfunction(L, f);
  if (ACTOR(L)->h->audit_mode != 0) lua_pushcclosure(L, api_call, 1);
}

/* The broker's answer: remember it, run the call again. */
static int logged_k(lua_State *L, int status, lua_KContext ctx) {
  task *t = wd__task_current(L);
  lua_CFunction f = lua_tocfunction(L, lua_upvalueindex(1));
  int i;
  (void)status;
  (void)ctx;
  t->logged[t->nlogged - 1].status = t->w.status < 0 ? t->w.status : 0;
  t->w.kind = W_NONE;
  t->w.done = 0;
  lua_settop(L, 0);
  lua_rawgeti(L, LUA_REGISTRYINDEX, t->audit_args);
  for (i = 1; i <= t->audit_nargs; i++) lua_rawgeti(L, 1, i);
  lua_remove(L, 1);
  return f(L);
}

static uint64_t fnv(uint64_t h, const char *s, size_t n) {
  size_t i;
  for (i = 0; i < n; i++)
    h = (h ^ (unsigned char)s[i]) * 0x100000001b3ULL;
  return (h ^ 0xff) * 0x100000001b3ULL; /* end of field */
}

/* Returns the broker's answer for this decision (0 written, < 0 not), or
** sends it and waits (does not return). */
static int32_t log_first(lua_State *L, actor *a, const wd_seccheck *c,
                         const wd_pdecision *d, const char *action,
                         const char *resource, size_t rlen,
                         const char *target_host, const char *topic) {
  wd_host *h = a->h;
  task *t = wd__task_current(L);
  uint64_t key = 0xcbf29ce484222325ULL;
  size_t st, i;
  wd_buf *b;
  key = fnv(key, resource, rlen);
  key = fnv(key, target_host ? target_host : "",
            target_host ? strlen(target_host) + 1 : 0);
  key = fnv(key, topic ? topic : "", topic ? strlen(topic) + 1 : 0);
  /* Only the yieldable call that api_call entered last may wait or use
  ** what was logged for it: a nested call (in a metamethod or a C call)
  ** is not yieldable, and must not reuse the decisions of the call
  ** around it. */
  if (t == NULL || !lua_isyieldable(L) ||
      lua_tocfunction(L, lua_upvalueindex(1)) == NULL)
    return 1;
  for (i = 0; i < (size_t)t->nlogged; i++)
    if (t->logged[i].action == action && t->logged[i].key == key)
      return t->logged[i].status;
  if (t->nlogged == (int)(sizeof t->logged / sizeof t->logged[0]))
    return WD_EUNAVAIL;
  if (wd__host_request(h, t, WD_OP_AUDIT, &b, &st) < 0) return WD_EUNAVAIL;
  wd_buf_put_cstr(b, c->rq.action);
  wd_buf_put_cstr(b, c->rq.resource);
  wd_buf_put_u8(b, (uint8_t)d->effect);
  wd_buf_put_cstr(b, wd_policy_reason(d->reason));
  wd_buf_put_u32(b, (uint32_t)c->rq.nattrs);
  for (i = 0; i < c->rq.nattrs; i++) {
    wd_buf_put_cstr(b, c->rq.attrs[i].key);
    wd_buf_put_str(b, c->rq.attrs[i].val.u.s.p, c->rq.attrs[i].val.u.s.len);
  }
  wd_buf_put_u32(b, (uint32_t)d->nids);
  for (i = 0; i < d->nids; i++)
    wd_buf_put_cstr(b, d->ids[i]);
  if (wd__host_request_end(h, st) < 0) {
    wd__host_request_cancel(h, t->w.req);
    t->w.kind = W_NONE;
    return WD_EUNAVAIL;
  }
  t->logged[t->nlogged].action = action;
  t->logged[t->nlogged].key = key;
  t->logged[t->nlogged].status = WD_EUNAVAIL;
  t->nlogged++;
  return wd__block(L, t, logged_k, 0);
}

/* }====== */

/* Check before any effect; on denial push nil, err (PermissionDenied,
** naming action and resource; Unavailable when the decision had to be
** logged and could not be) and return 2, else return 0. */
int wd__allow(lua_State *L, actor *a, const char *action, const char *resource,
              size_t rlen, const char *target_host, const char *topic) {
  wd_host *h = a->h;
  wd_seccheck c;
  wd_pdecision d;
  char why[300];
  int memo = h->audit_mode != 2, r;
#ifdef WD_BENCH_NOCHECK /* bench/check_cost.sh only: see CMakeLists.txt */
  if (memo) return 0;
#endif
  if (memo && memo_hit(a, action, resource, rlen, target_host, topic)) return 0;
  wd_sec_request(&c, a->sec_actor, &a->meta, action, resource, rlen, a->pid,
                 a->pidlen, h->id, h->idlen, target_host, topic);
  r = wd_sec_decide(&c, a->scope, h->pcache, &d);
  if (h->audit_mode == 2 || (h->audit_mode == 1 && r != WD_POLICY_ALLOW)) {
    int32_t st =
        log_first(L, a, &c, &d, action, resource, rlen, target_host, topic);
    if (st == 1)
      return wd_lerr_pushf(L, WD_EUNAVAIL,
                           "%s on %.*s: the decision must "
                           "be logged first, which cannot wait here (inside "
                           "a metamethod or a C call)",
                           action, (int)rlen, resource);
    if (st < 0)
      return wd_lerr_pushf(L, WD_EUNAVAIL,
                           "%s on %.*s: the audit log "
                           "cannot be written",
                           action, (int)rlen, resource);
  }
  if (r == WD_POLICY_ALLOW) {
    if (memo) memo_keep(a, action, resource, rlen, target_host, topic);
    return 0;
  }
  wd_policy_explain(&d, why, sizeof why);
  return wd_lerr_pushf(L, WD_EDENIED, "permission denied: %s on %.*s (%s)",
                       action, (int)rlen, resource, why);
}

/* Check 'action' on a target PID: the target host comes from the PID. */
int wd__allow_pid(lua_State *L, actor *a, const char *action, const char *pid,
                  size_t len, const char *topic) {
  char hb[300];
  return wd__allow(L, a, action, pid, len,
                   wd__sec_host_of(pid, len, hb, sizeof hb), topic);
}

/* }====== */
