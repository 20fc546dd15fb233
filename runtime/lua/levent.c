/*
** runtime/lua/levent.c
** Events in Lua: the EXIT, LINK_DOWN and CANCEL events of a Lua value
** (an exit's value or error), and the result of an exec'd child handed to
** the task that waits for it.
** Runs in: host (sandboxed).
*/
#include <stdio.h>
#include <string.h>

#include "lvm_int.h"
#include "lcodec.h"
#include "lerrors.h"

/* {====== Building events ====== */

/* The event written without a Lua table (wd__life_event_c) when its
** value is none or a scalar: the ending actor's state is not touched.
** Returns 0, or < 0 when the value needs the Lua path (a table, an error
** object, a string near the size limit). */
static int event_c(wd_buf *out, const char *from, size_t fl,
                   const char *kind, uint64_t deadline_ns, lua_State *L,
                   int vidx, int ok) {
  int vt = vidx != 0 ? lua_type(L, vidx) : LUA_TNIL;
  wd_codec_val v;
  v.type = WD_CODEC_V_NONE;
  if (vt == LUA_TBOOLEAN) {
    v.type = WD_CODEC_V_BOOL;
    v.b = lua_toboolean(L, vidx);
  } else if (vt == LUA_TSTRING) {
    v.type = WD_CODEC_V_STR;
    v.s = lua_tolstring(L, vidx, &v.len);
    if (out->max != 0 && v.len + 128 > out->max) return WD_ETOOBIG;
  } else if (vt == LUA_TNUMBER && lua_isinteger(L, vidx)) {
    v.type = WD_CODEC_V_INT;
    v.i = (int64_t)lua_tointeger(L, vidx);
  } else if (vt == LUA_TNUMBER) {
    v.type = WD_CODEC_V_NUM;
    v.n = (double)lua_tonumber(L, vidx);
  } else if (vt != LUA_TNIL) {
    return WD_EINVAL;
  }
  return wd_codec_put_event(out, kind, from, fl, wd_codec_now_s(),
                            deadline_ns, ok, &v);
}

/* Encode an event table {kind, from, at, result = {value | error}} (or,
** for CANCEL, {kind, from, at, deadline}) into 'out', within 'out->max'
** bytes (0: no limit). The value is at 'vidx' (0: none). Runs no script
** code. Returns 0 or a negative code. */
int wd__event_build(lua_State *L, const char *from, size_t fl,
                    const char *kind, int vidx, int ok, uint64_t deadline_ns,
                    wd_buf *out) {
  char err[160];
  int top = lua_gettop(L), r;
  if (event_c(out, from, fl, kind, deadline_ns, L, vidx, ok) == 0)
    return 0;
  if (vidx != 0) vidx = lua_absindex(L, vidx);
  if (!lua_checkstack(L, 8)) return WD_ENOMEM;
  lua_createtable(L, 0, 4);
  lua_pushstring(L, kind);
  lua_setfield(L, -2, "kind");
  lua_pushlstring(L, from, fl);
  lua_setfield(L, -2, "from");
  lua_pushinteger(L, (lua_Integer)wd_codec_now_s());
  lua_setfield(L, -2, "at");
  if (deadline_ns != 0 || strcmp(kind, "pid.cancel") == 0) {
    lua_pushinteger(L, (lua_Integer)(deadline_ns / 1000000000u));
    lua_setfield(L, -2, "deadline");
  } else {
    lua_createtable(L, 0, 1);
    if (vidx != 0) {
      lua_pushvalue(L, vidx);
      lua_setfield(L, -2, ok ? "value" : "error");
    }
    lua_setfield(L, -2, "result");
  }
  wd_buf_reset(out);
  r = wd_lcodec_encode(L, lua_gettop(L), 1, out, out->max, err, sizeof err);
  if (r < 0 && vidx != 0) {
    /* The result cannot cross (a function, say): report why instead. */
    lua_getfield(L, -1, "result");
    lua_pushnil(L);
    lua_setfield(L, -2, ok ? "value" : "error");
    wd_lerr_push(L, wd_errkind(r), err, 0);
    lua_setfield(L, -2, "error");
    lua_pop(L, 1);
    wd_buf_reset(out);
    r = wd_lcodec_encode(L, lua_gettop(L), 1, out, out->max, err, sizeof err);
  }
  lua_settop(L, top);
  return r < 0 ? r : 0;
}

/* }====== */

/* {====== Exec results ====== */

/* The task of 'a' waiting for the exec of exactly 'from', if any: its
** child's PID is known ('xpid'), or is in the spawn reply that has
** arrived but not yet been seen by the task (a result may follow its
** reply in the same frame). A task whose reply has not arrived waits for
** no PID yet: a result then is not for it (the child's host answers the
** spawn before the child runs, and the broker keeps the order). */
static task *exec_waiter(actor *a, const char *from, size_t fl) {
  task *t;
  for (t = a->tasks; t != NULL; t = t->anext) {
    const char *pid = t->w.xpid;
    size_t pl = pid != NULL ? strlen(pid) : 0;
    if (!t->w.exec || t->w.xres != NULL) continue;
    if (pid == NULL && t->w.kind == W_REPLY && t->w.done && t->w.status >= 0 &&
        t->w.rstr != NULL) {
      pid = t->w.rstr;
      pl = t->w.rlen;
    }
    if (pid != NULL && pl == fl && memcmp(pid, from, fl) == 0) return t;
  }
  return NULL;
}

/* {------ Exec results before their spawn's reply ------
** A child on this host that the broker spawned (its entry was shipped
** on first use) may end before the spawn's reply has come back through
** the broker: its result is kept on the parent until the reply names the
** child. Only a child on this host is kept (an event from another host
** follows the reply, the broker keeps the order), and only while a task
** of the parent waits for an exec's spawn reply, one result per such
** task. */

struct xearly {
  struct xearly *next;
  size_t pidlen, len;
  char pid[WD_PID_MAX];
  uint8_t data[];
};

/* Tasks of 'a' waiting for the reply to an exec's spawn. */
static int exec_unnamed(actor *a) {
  task *t;
  int n = 0;
  for (t = a->tasks; t != NULL; t = t->anext)
    if (t->w.exec && t->w.xpid == NULL && t->w.xres == NULL) n++;
  return n;
}

static void exec_early_keep(actor *a, const char *from, size_t fl,
                            const uint8_t *p, size_t n) {
  struct xearly *x;
  int kept = 0;
  for (x = a->xearly; x != NULL; x = x->next) kept++;
  if (fl >= WD_PID_MAX || kept >= exec_unnamed(a)) return;
  if ((x = wd_malloc(sizeof *x + (n ? n : 1))) == NULL) return;
  x->pidlen = fl;
  memcpy(x->pid, from, fl);
  x->len = n;
  if (n) memcpy(x->data, p, n);
  x->next = a->xearly;
  a->xearly = x;
}

void wd__event_exec_take(actor *a, task *t) {
  struct xearly **pp, *x;
  size_t pl = t->w.xpid ? strlen(t->w.xpid) : 0;
  if (t->w.xres != NULL) return;
  for (pp = &a->xearly; (x = *pp) != NULL; pp = &x->next)
    if (x->pidlen == pl && memcmp(x->pid, t->w.xpid, pl) == 0) {
      *pp = x->next;
      t->w.xres = wd_malloc(x->len ? x->len : 1);
      if (t->w.xres != NULL) {
        memcpy(t->w.xres, x->data, x->len);
        t->w.xlen = x->len;
      }
      wd_free(x);
      return;
    }
}

void wd__event_exec_free(actor *a) {
  struct xearly *x;
  while ((x = a->xearly) != NULL) {
    a->xearly = x->next;
    wd_free(x);
  }
}

/* }------ */

/* The result of exec'd child 'from' (an EXEC event) for 'a'. */
void wd__event_exec(wd_actor *wa, const char *from, size_t fl,
                    const uint8_t *p, size_t n) {
  actor *a = VM(wa);
  task *t = exec_waiter(a, from, fl);
  if (t == NULL) {
    int local;
    uint64_t counter;
    wd__host_pid_is_local(wa->h, from, fl, &local, &counter);
    if (local == 1) exec_early_keep(a, from, fl, p, n);
    return;
  }
  t->w.xres = wd_malloc(n ? n : 1);
  if (t->w.xres == NULL) return;
  memcpy(t->w.xres, p, n);
  t->w.xlen = n;
  if (t->w.kind == W_EXEC) wd__run_ready(t);
}

/* }====== */
