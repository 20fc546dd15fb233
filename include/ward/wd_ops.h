/*
** include/ward/wd_ops.h
** The operation table, written once: every action ward asks the policy
** engine and what it is asked on, and every request between a host and
** the broker with the action it needs, who may send it and the broker's
** handler (OpenSSH monitor.c's mon_dispatch is the model). Used by the
** host bindings (runtime/lua), the broker's dispatch (sandbox/broker.c),
** the strict policy loader's list of actions (policy/actions.c), and
** tests/unit/test_ops.c, which fails when the permission tables of
** README.md ("What each call asks") and policies/README.md ("What the
** runtime asks") name other actions than this table, or other resources.
** Runs in: broker and host.
*/
#ifndef wd_ops_h
#define wd_ops_h

#include <stddef.h>
#include <stdint.h>

#include "ward/wd_proto.h" /* the spawn flags; it includes this file last */

/* Who asks an action, or sends a request: a host, for a caller of its
** own; the broker (which re-checks what crosses hosts); the front door
** (ARCHITECTURE.md §12), not built yet: its actions are listed so that a
** policy naming them loads under --strict. */
#define WD_OPS_HOST   0x1u
#define WD_OPS_BROKER 0x2u
#define WD_OPS_DOOR   0x4u
#define WD_OPS_BOTH   (WD_OPS_HOST | WD_OPS_BROKER)

/* What an action is asked on (its resource). */
enum {
  WD_RES_NONE,     /* not decided yet (the front door) */
  WD_RES_PID,      /* the target PID, "{host|0x...}" */
  WD_RES_ENTRY,    /* an entry id, "ns:name" */
  WD_RES_HOST,     /* a host id, where a spawn goes */
  WD_RES_NAME,     /* a registered name */
  WD_RES_SECURITY, /* the string "security" */
  WD_RES_CONTEXT,  /* the string "context" */
  WD_RES_NAMESPACE /* a namespace */
};

/*
** Actions: XX(id, name, resource, who asks). WD_ACT_<id> is its code,
** wd_ops_name() its name.
*/
#define WD_ACTION_MAP(XX)                                                      \
  XX(SEND, "process.send", WD_RES_PID, WD_OPS_BOTH)                            \
  XX(SPAWN, "process.spawn", WD_RES_ENTRY, WD_OPS_BOTH)                        \
  XX(SPAWN_MONITORED, "process.spawn.monitored", WD_RES_ENTRY, WD_OPS_BOTH)    \
  XX(SPAWN_LINKED, "process.spawn.linked", WD_RES_ENTRY, WD_OPS_BOTH)          \
  XX(EXEC, "process.exec", WD_RES_ENTRY, WD_OPS_BOTH)                          \
  XX(HOST, "process.host", WD_RES_HOST, WD_OPS_BOTH)                           \
  XX(CONTEXT, "process.context", WD_RES_CONTEXT, WD_OPS_HOST)                  \
  XX(SECURITY, "process.security", WD_RES_SECURITY, WD_OPS_BOTH)               \
  XX(MONITOR, "process.monitor", WD_RES_PID, WD_OPS_BOTH)                      \
  XX(UNMONITOR, "process.unmonitor", WD_RES_PID, WD_OPS_BOTH)                  \
  XX(LINK, "process.link", WD_RES_PID, WD_OPS_BOTH)                            \
  XX(UNLINK, "process.unlink", WD_RES_PID, WD_OPS_BOTH)                        \
  XX(CANCEL, "process.cancel", WD_RES_PID, WD_OPS_BOTH)                        \
  XX(TERMINATE, "process.terminate", WD_RES_PID, WD_OPS_BOTH)                  \
  XX(UPGRADE, "process.upgrade", WD_RES_ENTRY, WD_OPS_BOTH)                    \
  XX(REGISTER, "process.registry.register", WD_RES_NAME, WD_OPS_BOTH)          \
  XX(UNREGISTER, "process.registry.unregister", WD_RES_NAME, WD_OPS_BOTH)      \
  XX(LOOKUP, "process.registry.lookup", WD_RES_NAME, WD_OPS_BOTH)              \
  XX(FOREIGN, "process.registry.foreign", WD_RES_PID, WD_OPS_BOTH)             \
  XX(DEPLOY, "ward.deploy", WD_RES_NAMESPACE, WD_OPS_DOOR)                     \
  XX(POLICY_RELOAD, "ward.policy.reload", WD_RES_NONE, WD_OPS_DOOR)            \
  XX(STATUS, "ward.status", WD_RES_NONE, WD_OPS_DOOR)

/* clang-format off */
enum {
  WD_ACT_NONE = -1, /* a request that asks nothing */
#define XX(id, name, res, who) WD_ACT_##id,
  WD_ACTION_MAP(XX)
#undef XX
  WD_ACT_MAX
};
/* clang-format on */

/*
** Requests (WD_R_REQ, bodies in wd_proto.h), in the order of their codes:
** XX(op, action, who sends it, broker handler). 'action' is what the
** caller needs, checked by the host and again by the broker (a spawn asks
** more: wd_ops_spawn_asks; a register for another PID also FOREIGN).
** A request the broker gets from a host goes to the handler (in
** sandbox/broker*.c), of type int (*)(hslot *, uint32_t req, uint8_t op,
** wd_cur *body); one a host may not send (WD_OPS_HOST missing) is a bad
** frame, fatal for the host. A host takes from the broker only those
** marked WD_OPS_BROKER (runtime/host.c wd_host_on_req).
*/
#define WD_OP_MAP(XX)                                                          \
  XX(SPAWN, SPAWN, WD_OPS_BOTH, req_spawn)                             \
  XX(SEND, SEND, WD_OPS_BOTH, req_send)                                \
  XX(REG, REGISTER, WD_OPS_HOST, wd__brk_req_registry)                         \
  XX(UNREG, UNREGISTER, WD_OPS_HOST, wd__brk_req_registry)                     \
  XX(LOOKUP, LOOKUP, WD_OPS_HOST, wd__brk_req_registry)                        \
  XX(MONITOR, MONITOR, WD_OPS_BOTH, wd__brk_req_life)                          \
  XX(UNMONITOR, UNMONITOR, WD_OPS_BOTH, wd__brk_req_life)                      \
  XX(LINK, LINK, WD_OPS_BOTH, wd__brk_req_life)                                \
  XX(UNLINK, UNLINK, WD_OPS_BOTH, wd__brk_req_life)                            \
  XX(TERMINATE, TERMINATE, WD_OPS_BOTH, wd__brk_req_life)                      \
  XX(CANCEL, CANCEL, WD_OPS_BOTH, wd__brk_req_life)                            \
  XX(AUDIT, NONE, WD_OPS_HOST, wd__brk_sec_audit_req)                          \
  XX(UPGRADE, UPGRADE, WD_OPS_HOST, req_upgrade)                       \
  XX(FORGET, NONE, WD_OPS_BROKER, NULL)                                        \
  XX(STATUS, NONE, WD_OPS_BROKER, NULL)

/* clang-format off */
enum {
  WD_OP_INVALID = 0, /* no request has code 0 */
#define XX(op, act, who, fn) WD_OP_##op,
  WD_OP_MAP(XX)
#undef XX
  WD_OP_MAX
};
/* clang-format on */

/* The name of action 'act' (WD_ACT_*), or NULL. A constant folds. */
static inline const char *wd_ops_name(int act) {
  switch (act) {
#define XX(id, name, res, who)                                                 \
  case WD_ACT_##id:                                                            \
    return name;
    WD_ACTION_MAP(XX)
#undef XX
    default:
      return NULL;
  }
}

/* The resource kind (WD_RES_*) action 'act' is asked on. */
static inline int wd_ops_res(int act) {
  switch (act) {
#define XX(id, name, res, who)                                                 \
  case WD_ACT_##id:                                                            \
    return res;
    WD_ACTION_MAP(XX)
#undef XX
    default:
      return WD_RES_NONE;
  }
}

/* The action request 'op' needs (WD_ACT_*), or WD_ACT_NONE. */
static inline int wd_ops_act(int op) {
  switch (op) {
#define XX(o, act, who, fn)                                                    \
  case WD_OP_##o:                                                              \
    return WD_ACT_##act;
    WD_OP_MAP(XX)
#undef XX
    default:
      return WD_ACT_NONE;
  }
}

/* Who may send request 'op' (WD_OPS_*), 0 for an unknown code. */
static inline unsigned wd_ops_senders(int op) {
  switch (op) {
#define XX(o, act, who, fn)                                                    \
  case WD_OP_##o:                                                              \
    return who;
    WD_OP_MAP(XX)
#undef XX
    default:
      return 0;
  }
}

/*
** The actions a spawn with 'flags' (WD_SPAWN_*, wd_proto.h) asks, in the
** order they are checked: process.exec (WD_SPAWN_EXEC) or process.spawn,
** then process.spawn.monitored and process.spawn.linked for those
** variants, all on the entry id; then process.host on the host id. (A
** child with another actor or scope also asks process.security; one with
** a context, process.context, when the SpawnBuilder is made.) Writes them
** to 'out' and returns how many (at most 4).
*/
static inline int wd_ops_spawn_asks(uint32_t flags, int out[4]) {
  int n = 0;
  out[n++] = (flags & WD_SPAWN_EXEC) ? WD_ACT_EXEC : WD_ACT_SPAWN;
  if (flags & WD_SPAWN_MONITOR) out[n++] = WD_ACT_SPAWN_MONITORED;
  if (flags & WD_SPAWN_LINK) out[n++] = WD_ACT_SPAWN_LINKED;
  out[n++] = WD_ACT_HOST;
  return n;
}

#endif
