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

#include "lvm_int.h"
#include "lerrors.h"
#include "ward/wd_proto.h"
#include "ward/wd_secid.h"
#include "ward/wd_wire.h"

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
  task *t = wd__chan_task_current(L);
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
void wd__policy_api(lua_State *L, lua_CFunction f) {
  lua_pushcfunction(L, f);
  if (ACTOR(L)->c.h->audit_mode != 0) lua_pushcclosure(L, api_call, 1);
}

/* The broker's answer: remember it, run the call again. */
static int logged_k(lua_State *L, int status, lua_KContext ctx) {
  task *t = wd__chan_task_current(L);
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
  wd_host *h = a->c.h;
  task *t = wd__chan_task_current(L);
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
  if (wd__run_request(t, WD_OP_AUDIT, &b, &st) < 0) return WD_EUNAVAIL;
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
  return wd__chan_block(L, t, logged_k, 0);
}

/* }====== */

/* Check before any effect; on denial push nil, err (PermissionDenied,
** naming action and resource; Unavailable when the decision had to be
** logged and could not be) and return 2, else return 0. */
int wd__policy_allow(lua_State *L, actor *a, const char *action,
                     const char *resource, size_t rlen, const char *target_host,
                     const char *topic) {
  wd_host *h = a->c.h;
  wd_seccheck c;
  wd_pdecision d;
  char why[300];
  int memo = h->audit_mode != 2, r;
#ifdef WD_BENCH_NOCHECK /* bench/check_cost.sh only: see CMakeLists.txt */
  if (memo) return 0;
#endif
  if (memo &&
      wd__hsec_memo_hit(&a->c, action, resource, rlen, target_host, topic))
    return 0;
  wd_sec_request(&c, a->c.sec_actor, &a->c.meta, action, resource, rlen,
                 a->c.pid, a->c.pidlen, h->id, h->idlen, target_host, topic);
  r = wd_sec_decide(&c, a->c.scope, h->pcache, &d);
  wd__hstat_decided(&a->c, r == WD_POLICY_ALLOW);
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
    if (memo)
      wd__hsec_memo_keep(&a->c, action, resource, rlen, target_host, topic);
    return 0;
  }
  wd_policy_explain(&d, why, sizeof why);
  return wd_lerr_pushf(L, WD_EDENIED, "permission denied: %s on %.*s (%s)",
                       action, (int)rlen, resource, why);
}

/* Check 'action' on a target PID: the target host comes from the PID. */
int wd__policy_allow_pid(lua_State *L, actor *a, const char *action,
                         const char *pid, size_t len, const char *topic) {
  char hb[300];
  return wd__policy_allow(L, a, action, pid, len,
                   wd__hsec_host_of(pid, len, hb, sizeof hb), topic);
}

/* }====== */
