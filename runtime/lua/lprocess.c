/*
** runtime/lua/lprocess.c
** The 'process' global: identity, send, spawn, topics and the inbox,
** Message objects, and the name registry. Local targets are served in
** the host; everything else goes to the broker as a request and the
** calling task waits for the reply.
** Runs in: host (sandboxed).
*/
#include <string.h>

#include "lhost.h"
#include "lcodec.h"
#include "lerrors.h"
#include "ward/wd_proto.h"

#define MSG_MT "ward.message"

/* {====== Helpers ====== */

/* Is 'pid' (len) a PID of this host? Sets *counter. -1: not a PID. */
static int pid_local(wd_host *h, const char *pid, size_t len,
                     uint64_t *counter) {
  const char *hid;
  size_t hl;
  if (wd_pid_parse(pid, len, &hid, &hl, counter) < 0) return -1;
  return hl == h->idlen && memcmp(hid, h->id, hl) == 0;
}

/* Encode the values at first..top into the host scratch buffer. On
** failure pushes nil, err and returns 2; 0 on success. */
static int encode_args(lua_State *L, actor *a, int first) {
  wd_host *h = a->h;
  char err[256];
  int n = lua_gettop(L) - first + 1, r;
  wd_buf_reset(&h->scratch);
  if (n <= 0) return 0;
  r = wd_codec_encode(L, first, n, &h->scratch, (size_t)h->lim.max_payload,
                      err, sizeof err);
  if (r < 0) return wd_lerr_pushf(L, r, "%s", err);
  return 0;
}

/* The running task, or raise: a call that waits needs a task context. */
static task *need_task(lua_State *L, const char *fn) {
  task *t = wd__task_current(L);
  if (t == NULL || !lua_isyieldable(L))
    luaL_error(L, "%s: cannot wait for the broker here (inside a "
                  "metamethod or a C call)", fn);
  return t;
}

/* Continuations for requests. ctx: 0 -> true; 1 -> the reply string;
** 2 -> boolean "1"/"0". */
static int reply_k(lua_State *L, int status, lua_KContext ctx) {
  task *t = wd__task_current(L);
  int32_t st = t->w.status;
  (void)status;
  t->w.kind = W_NONE;
  t->w.done = 0;
  if (st < 0) {
    const char *m = t->w.rstr ? t->w.rstr : wd_strerror(st);
    return wd_lerr_pushf(L, st, "%s", m);
  }
  switch ((int)ctx) {
    case 1:
      lua_pushlstring(L, t->w.rstr ? t->w.rstr : "", t->w.rlen);
      break;
    case 2:
      lua_pushboolean(L, t->w.rlen == 1 && t->w.rstr[0] == '1');
      break;
    default:
      lua_pushboolean(L, 1);
  }
  return 1;
}

static int wait_reply(lua_State *L, task *t, wd_host *h, size_t start,
                      int kind) {
  int r = wd__host_request_end(h, start);
  if (r < 0) {
    /* The record did not fit a frame: forget the request. */
    wd__host_request_cancel(h, t->w.req);
    t->w.kind = W_NONE;
    return wd_lerr_pushf(L, r, "request too large");
  }
  return wd__block(L, t, reply_k, kind);
}

/* }====== */

/* {====== Identity ====== */

/* process.pid() -> string */
static int process_pid(lua_State *L) {
  actor *a = ACTOR(L);
  lua_pushlstring(L, a->pid, a->pidlen);
  return 1;
}

/* process.id() -> the running entry's id */
static int process_id(lua_State *L) {
  actor *a = ACTOR(L);
  lua_pushstring(L, a->e->id);
  return 1;
}

/* }====== */

/* {====== send ====== */

/* process.send(dest, topic, ...) -> true | nil, err  [-(2+n), +1|2, e] */
static int process_send(lua_State *L) {
  actor *a = ACTOR(L);
  wd_host *h = a->h;
  size_t dl, tl, st;
  const char *dest, *topic;
  uint64_t counter;
  int r;
  if (lua_gettop(L) < 2)
    return wd_lerr_pushf(L, WD_EINVAL, "send requires at least destination "
                                       "and topic arguments");
  dest = luaL_checklstring(L, 1, &dl);
  topic = luaL_checklstring(L, 2, &tl);
  if (tl == 0) return wd_lerr_pushf(L, WD_EINVAL, "topic cannot be empty");
  if (topic[0] == '@')
    return wd_lerr_pushf(L, WD_EINVAL, "cannot send to @ topics");
  if (encode_args(L, a, 3)) return 2;
  r = pid_local(h, dest, dl, &counter);
  if (r == 1) {
    actor *to = wd__host_find(h, counter);
    wd_msg *m;
    if (to == NULL)
      return wd_lerr_pushf(L, WD_ENOTFOUND, "process not found: %s", dest);
    m = wd_msg_new(a->pid, a->pidlen, topic, tl, h->scratch.p,
                   h->scratch.len);
    if (m == NULL) return luaL_error(L, "not enough memory");
    if ((r = wd__host_deliver(h, to, m)) < 0) {
      wd_msg_free(m);
      return wd_lerr_pushf(L, r, "mailbox full: %s", dest);
    }
    lua_pushboolean(L, 1);
    return 1;
  }
  {
    task *t = need_task(L, "process.send");
    wd_buf *b;
    if ((r = wd__host_request(h, t, WD_OP_SEND, &b, &st)) < 0)
      return wd_lerr_pushf(L, r, "send failed");
    wd_buf_put_str(b, a->pid, a->pidlen);
    wd_buf_put_str(b, dest, dl);
    wd_buf_put_str(b, topic, tl);
    wd_buf_put(b, h->scratch.p, h->scratch.len);
    return wait_reply(L, t, h, st, 0);
  }
}

/* }====== */

/* {====== spawn ====== */

/* process.spawn(id, host, ...) -> pid | nil, err */
static int process_spawn(lua_State *L) {
  actor *a = ACTOR(L);
  wd_host *h = a->h;
  size_t il, hl, st;
  const char *id, *host;
  int r;
  if (lua_gettop(L) < 2)
    return wd_lerr_pushf(L, WD_EINVAL, "spawn requires at least id and "
                                       "host arguments");
  id = luaL_checklstring(L, 1, &il);
  host = luaL_checklstring(L, 2, &hl);
  if (encode_args(L, a, 3)) return 2;
  if (hl == h->idlen && memcmp(host, h->id, hl) == 0) {
    entry *e = wd__host_entry(h, id);
    actor *child;
    char err[512];
    spawnopt o;
    if (e == NULL || e->library)
      return wd_lerr_pushf(L, WD_ENOTFOUND, "entry not found on host %s: %s",
                           h->id, id);
    o.parent = a->pid;
    o.parentlen = a->pidlen;
    o.actor = a->sec_actor;
    o.actorlen = strlen(a->sec_actor);
    o.scope = a->sec_scope;
    o.scopelen = strlen(a->sec_scope);
    o.args = h->scratch.p;
    o.alen = h->scratch.len;
    o.flags = 0;
    r = wd__host_spawn_local(h, e, &o, &child, err, sizeof err);
    if (r < 0) return wd_lerr_pushf(L, r, "spawn %s: %s", id, err);
    lua_pushlstring(L, child->pid, child->pidlen);
    return 1;
  }
  {
    task *t = need_task(L, "process.spawn");
    wd_buf *b;
    if ((r = wd__host_request(h, t, WD_OP_SPAWN, &b, &st)) < 0)
      return wd_lerr_pushf(L, r, "spawn failed");
    wd_buf_put_str(b, a->pid, a->pidlen);
    wd_buf_put_str(b, id, il);
    wd_buf_put_str(b, host, hl);
    wd_buf_put_u32(b, 0);
    /* The child inherits the spawner's actor and scope. */
    wd_buf_put_cstr(b, a->sec_actor);
    wd_buf_put_cstr(b, a->sec_scope);
    wd_buf_put(b, h->scratch.p, h->scratch.len);
    return wait_reply(L, t, h, st, 1);
  }
}

/* }====== */

/* {====== Topics, inbox, Message objects ====== */

int wd__msg_push(lua_State *L, actor *a, wd_msg *m, int msgmode) {
  int base = lua_gettop(L), n;
  (void)a;
  n = wd_codec_decode(L, m->payload, m->plen);
  if (n < 0) n = 0;
  if (n == 0) lua_pushnil(L);
  else if (n > 1) {
    int i;
    lua_createtable(L, n, 0);
    for (i = 1; i <= n; i++) {
      lua_pushvalue(L, base + i);
      lua_rawseti(L, -2, i);
    }
    lua_replace(L, base + 1);
    lua_settop(L, base + 1);
  }
  if (!msgmode) return 1;
  lua_createtable(L, 0, 3);
  lua_insert(L, -2);
  lua_setfield(L, -2, "payload");
  lua_pushlstring(L, m->topic, m->topiclen);
  lua_setfield(L, -2, "topic");
  if (m->fromlen > 0) {
    lua_pushlstring(L, m->from, m->fromlen);
    lua_setfield(L, -2, "from");
  }
  lua_newuserdatauv(L, 0, 1);
  lua_insert(L, -2);
  lua_setiuservalue(L, -2, 1);
  luaL_setmetatable(L, MSG_MT);
  return 1;
}

static int msg_field(lua_State *L, const char *k) {
  luaL_checkudata(L, 1, MSG_MT);
  lua_getiuservalue(L, 1, 1);
  lua_getfield(L, -1, k);
  return 1;
}

static int message_topic(lua_State *L) {
  return msg_field(L, "topic");
}

/* msg:from() -> sender PID, or nil when the sender is unknown. */
static int message_from(lua_State *L) {
  return msg_field(L, "from");
}

/* msg:payload() -> the data: nil, the value, or an array of values. */
static int message_payload(lua_State *L) {
  return msg_field(L, "payload");
}

static int message_tostring(lua_State *L) {
  msg_field(L, "topic");
  lua_pushfstring(L, "process.Message{topic=%s}", lua_tostring(L, -1));
  return 1;
}

static sub *sub_find(actor *a, const char *topic) {
  sub *s;
  for (s = a->subs; s != NULL; s = s->next)
    if (topic == NULL ? s->topic == NULL
                      : (s->topic != NULL && strcmp(s->topic, topic) == 0))
      return s;
  return NULL;
}

/* Subscribe 'topic' (NULL: the inbox); pushes the channel. */
static void subscribe(lua_State *L, actor *a, const char *topic,
                      int msgmode) {
  sub *s = sub_find(a, topic);
  chan *ch;
  if (s != NULL) {
    lua_rawgeti(L, LUA_REGISTRYINDEX, s->chref);
    return;
  }
  /* The channel first: it may raise, and nothing is held yet. */
  ch = wd__chan_new(L, a, CH_SUB, 0);
  s = wd_calloc(1, sizeof *s);
  if (s != NULL && topic != NULL && (s->topic = wd_strdup(topic)) == NULL) {
    wd_free(s);
    s = NULL;
  }
  if (s == NULL) luaL_error(L, "not enough memory");
  s->ch = ch;
  s->ch->sub = s;
  s->msgmode = msgmode;
  wd_mbox_init(&s->q, 0);
  lua_pushvalue(L, -1);
  s->chref = luaL_ref(L, LUA_REGISTRYINDEX);
  s->next = a->subs;
  a->subs = s;
  if (topic == NULL) a->inbox = s;
  wd__actor_reroute(a, NULL);
}

/* process.listen(topic [, {message = bool}]) -> channel | nil, err */
static int process_listen(lua_State *L) {
  actor *a = ACTOR(L);
  size_t tl;
  const char *topic = luaL_checklstring(L, 1, &tl);
  int msgmode = 0;
  if (tl == 0) return wd_lerr_pushf(L, WD_EINVAL, "topic cannot be empty");
  if (topic[0] == '@')
    return wd_lerr_pushf(L, WD_EINVAL, "cannot listen to @ topics");
  if (memchr(topic, '\0', tl) != NULL)
    return wd_lerr_pushf(L, WD_EINVAL, "topic contains a NUL byte");
  if (lua_istable(L, 2)) {
    lua_getfield(L, 2, "message");
    msgmode = lua_toboolean(L, -1);
    lua_pop(L, 1);
  } else if (!lua_isnoneornil(L, 2)) {
    return wd_lerr_pushf(L, WD_EINVAL, "listen options must be a table");
  }
  subscribe(L, a, topic, msgmode);
  return 1;
}

/* process.inbox() -> channel of Message objects */
static int process_inbox(lua_State *L) {
  subscribe(L, ACTOR(L), NULL, 1);
  return 1;
}

/* process.unlisten(ch) -> true | false, err */
static int process_unlisten(lua_State *L) {
  actor *a = ACTOR(L);
  sub **pp, *s;
  for (pp = &a->subs; (s = *pp) != NULL; pp = &s->next)
    if (lua_touserdata(L, 1) == s->ch) break;
  if (s == NULL) {
    lua_pushboolean(L, 0);
    wd_lerr_pushf(L, WD_ENOTFOUND, "channel not found");
    lua_remove(L, -2);
    return 2;
  }
  *pp = s->next;
  if (a->inbox == s) a->inbox = NULL;
  s->ch->sub = NULL;
  s->ch->closed = 1;
  wd__chan_notify(s->ch);
  wd__actor_reroute(a, s);
  luaL_unref(L, LUA_REGISTRYINDEX, s->chref);
  wd_free(s->topic);
  wd_free(s);
  lua_pushboolean(L, 1);
  return 1;
}

/* }====== */

/* {====== Registry ====== */

/* process.registry.register(name [, pid]) -> true | nil, err */
static int registry_register(lua_State *L) {
  actor *a = ACTOR(L);
  wd_host *h = a->h;
  size_t nl, pl, st;
  const char *name = luaL_checklstring(L, 1, &nl);
  const char *pid = luaL_optlstring(L, 2, a->pid, &pl);
  uint64_t counter;
  actor *target;
  task *t;
  wd_buf *b;
  int r;
  if (nl == 0 || nl > 255 || memchr(name, '\0', nl) != NULL)
    return wd_lerr_pushf(L, WD_EINVAL, "invalid name");
  r = pid_local(h, pid, pl, &counter);
  if (r < 0) return wd_lerr_pushf(L, WD_EINVAL, "invalid pid: %s", pid);
  if (r == 0)
    return wd_lerr_pushf(L, WD_EDENIED, "cannot register a process of "
                                        "another host: %s", pid);
  target = wd__host_find(h, counter);
  if (target == NULL)
    return wd_lerr_pushf(L, WD_ENOTFOUND, "process not found: %s", pid);
  t = need_task(L, "process.registry.register");
  /* From now on the broker must hear of the exit, to release the name. */
  target->has_names = 1;
  if ((r = wd__host_request(h, t, WD_OP_REG, &b, &st)) < 0)
    return wd_lerr_pushf(L, r, "register failed");
  wd_buf_put_str(b, name, nl);
  wd_buf_put_str(b, pid, pl);
  return wait_reply(L, t, h, st, 0);
}

static int registry_simple(lua_State *L, uint8_t op, int kind,
                           const char *fn) {
  actor *a = ACTOR(L);
  wd_host *h = a->h;
  size_t nl, st;
  const char *name = luaL_checklstring(L, 1, &nl);
  task *t;
  wd_buf *b;
  int r;
  if (nl == 0 || nl > 255)
    return wd_lerr_pushf(L, WD_EINVAL, "invalid name");
  t = need_task(L, fn);
  if ((r = wd__host_request(h, t, op, &b, &st)) < 0)
    return wd_lerr_pushf(L, r, "%s failed", fn);
  wd_buf_put_str(b, name, nl);
  return wait_reply(L, t, h, st, kind);
}

/* process.registry.lookup(name) -> pid | nil, err */
static int registry_lookup(lua_State *L) {
  return registry_simple(L, WD_OP_LOOKUP, 1, "process.registry.lookup");
}

/* process.registry.unregister(name) -> true | false (not registered) */
static int registry_unregister(lua_State *L) {
  return registry_simple(L, WD_OP_UNREG, 2, "process.registry.unregister");
}

/* }====== */

static void setfuncs(lua_State *L, const luaL_Reg *l, actor *a) {
  for (; l->name != NULL; l++) {
    lua_pushlightuserdata(L, a);
    lua_pushcclosure(L, l->func, 1);
    lua_setfield(L, -2, l->name);
  }
}

/* Expects the actor (light userdata) on top; pushes the process table. */
int luaopen_ward_process(lua_State *L) {
  static const luaL_Reg funcs[] = {
    { "pid", process_pid },
    { "id", process_id },
    { "send", process_send },
    { "spawn", process_spawn },
    { "listen", process_listen },
    { "unlisten", process_unlisten },
    { "inbox", process_inbox },
    { NULL, NULL },
  };
  static const luaL_Reg reg_funcs[] = {
    { "register", registry_register },
    { "lookup", registry_lookup },
    { "unregister", registry_unregister },
    { NULL, NULL },
  };
  static const luaL_Reg msg_meth[] = {
    { "topic", message_topic },
    { "from", message_from },
    { "payload", message_payload },
    { NULL, NULL },
  };
  actor *a = lua_touserdata(L, -1);
  luaL_newmetatable(L, MSG_MT);
  lua_newtable(L);
  setfuncs(L, msg_meth, a);
  lua_setfield(L, -2, "__index");
  lua_pushcfunction(L, message_tostring);
  lua_setfield(L, -2, "__tostring");
  lua_pushboolean(L, 0);
  lua_setfield(L, -2, "__metatable");
  lua_pop(L, 1);
  lua_createtable(L, 0, 16);
  setfuncs(L, funcs, a);
  lua_createtable(L, 0, 4);
  setfuncs(L, reg_funcs, a);
  lua_pushinteger(L, 0);
  lua_setfield(L, -2, "LOCAL");
  lua_setfield(L, -2, "registry");
  return 1;
}
