/*
** runtime/lua/lerrors.c
** Error objects (userdata with a locked metatable) and the `errors` module.
** Runs in: host (sandboxed).
*/
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <lauxlib.h>
#include <lua.h>

#include "ward/wd_common.h"
#include "lerrors.h"

/* Kind constants of the `errors` module (reference §6, plus LIMIT_EXCEEDED
** for ward's quotas). */
static const char *const kind_names[][2] = {
  { "NOT_FOUND", "NotFound" },
  { "ALREADY_EXISTS", "AlreadyExists" },
  { "INVALID", "Invalid" },
  { "PERMISSION_DENIED", "PermissionDenied" },
  { "UNAVAILABLE", "Unavailable" },
  { "INTERNAL", "Internal" },
  { "CANCELED", "Canceled" },
  { "CONFLICT", "Conflict" },
  { "TIMEOUT", "Timeout" },
  { "RATE_LIMITED", "RateLimited" },
  { "LIMIT_EXCEEDED", "LimitExceeded" },
  { "UNKNOWN", "" },
};

/* {====== Object layout ====== */

static void pushmeta(lua_State *L);

/* Pop the fields table on top and push an error object holding it. */
static void wrapfields(lua_State *L) {
  lua_newuserdatauv(L, 0, 1);
  lua_insert(L, -2);
  lua_setiuservalue(L, -2, 1);
  pushmeta(L);
  lua_setmetatable(L, -2);
}

/* Pop the message string on top; push a fields table with 'kind' and it. */
static void newfields(lua_State *L, const char *kind) {
  lua_createtable(L, 0, 5);
  lua_insert(L, -2);
  lua_setfield(L, -2, "message");
  lua_pushstring(L, kind != NULL ? kind : "");
  lua_setfield(L, -2, "kind");
}

static void pushbool3(lua_State *L, int v) {
  if (v < 0)
    lua_pushnil(L);
  else
    lua_pushboolean(L, v);
}

/* Push field 'f' of the error object at 'idx' (known to be one). */
static int pushfield(lua_State *L, int idx, const char *f) {
  int t;
  lua_getiuservalue(L, idx, 1);
  t = lua_getfield(L, -1, f);
  lua_remove(L, -2);
  return t;
}

int wd_lerr_is(lua_State *L, int idx) {
  return luaL_testudata(L, idx, WD_LERR_META) != NULL;
}

/* The string field 'f' of an error object, borrowed from its fields table,
** which the object keeps alive. */
static const char *strfield(lua_State *L, int idx, const char *f) {
  const char *s;
  if (!wd_lerr_is(L, idx)) return NULL;
  pushfield(L, idx, f);
  s = lua_tostring(L, -1);
  lua_pop(L, 1);
  return s;
}

const char *wd_lerr_message(lua_State *L, int idx) {
  return strfield(L, idx, "message");
}

/* }====== */

/* {====== Methods and metamethods ====== */

static int err_field(lua_State *L, const char *f) {
  luaL_checkudata(L, 1, WD_LERR_META);
  pushfield(L, 1, f);
  return 1;
}

/* err:kind() -> string  [-0, +1, -] */
static int err_kind(lua_State *L) {
  return err_field(L, "kind");
}

/* err:message() -> string  [-0, +1, -] */
static int err_message(lua_State *L) {
  return err_field(L, "message");
}

/* err:retryable() -> true | false | nil  [-0, +1, -] */
static int err_retryable(lua_State *L) {
  return err_field(L, "retryable");
}

/* err:details() -> table | nil  [-0, +1, -] */
static int err_details(lua_State *L) {
  return err_field(L, "details");
}

/* err:stack() -> string | nil  [-0, +1, -] */
static int err_stack(lua_State *L) {
  return err_field(L, "stack");
}

/* Push the text an operand of '..' contributes; raise as Lua does for a
** value that cannot be concatenated. */
static void pushtext(lua_State *L, int idx) {
  int t = lua_type(L, idx);
  if (t == LUA_TSTRING || t == LUA_TNUMBER)
    lua_pushvalue(L, idx); /* lua_concat converts numbers itself */
  else if (wd_lerr_is(L, idx))
    pushfield(L, idx, "message");
  else
    luaL_error(L, "attempt to concatenate a %s value", luaL_typename(L, idx));
}

/* a .. b with an error object on either side  [-0, +1, e] */
static int err_concat(lua_State *L) {
  pushtext(L, 1);
  pushtext(L, 2);
  lua_concat(L, 2);
  return 1;
}

/* Two error objects are equal when kind and message are. [-0, +1, -] */
static int err_eq(lua_State *L) {
  int eq = 0;
  if (wd_lerr_is(L, 1) && wd_lerr_is(L, 2)) {
    pushfield(L, 1, "kind");
    pushfield(L, 2, "kind");
    pushfield(L, 1, "message");
    pushfield(L, 2, "message");
    eq = lua_rawequal(L, -4, -3) && lua_rawequal(L, -2, -1);
  }
  lua_pushboolean(L, eq);
  return 1;
}

/* tostring(err) is the message. [-0, +1, -] */
static int err_tostring(lua_State *L) {
  return err_field(L, "message");
}

static const luaL_Reg err_meth[] = {
  { "kind", err_kind },           { "message", err_message },
  { "retryable", err_retryable }, { "details", err_details },
  { "stack", err_stack },         { NULL, NULL },
};

static const luaL_Reg err_metameth[] = {
  { "__concat", err_concat },
  { "__eq", err_eq },
  { "__tostring", err_tostring },
  { NULL, NULL },
};

/* Push the error metatable, creating it on first use. '__metatable' hides
** it from getmetatable (and setmetatable cannot touch a userdata), so a
** script can neither read nor replace the methods of error objects. */
static void pushmeta(lua_State *L) {
  if (luaL_getmetatable(L, WD_LERR_META) != LUA_TNIL) return;
  lua_pop(L, 1);
  luaL_newmetatable(L, WD_LERR_META); /* also sets __name */
  luaL_setfuncs(L, err_metameth, 0);
  luaL_newlib(L, err_meth);
  lua_setfield(L, -2, "__index");
  lua_pushliteral(L, "locked");
  lua_setfield(L, -2, "__metatable");
}

/* }====== */

/* {====== Building from C ====== */

void wd_lerr_push(lua_State *L, const char *kind, const char *msg,
                  int retryable) {
  lua_pushstring(L, msg != NULL ? msg : "");
  newfields(L, kind);
  pushbool3(L, retryable);
  lua_setfield(L, -2, "retryable");
  wrapfields(L);
}

int wd_lerr_pushf(lua_State *L, int code, const char *fmt, ...) {
  char small[256];
  char *big;
  va_list ap, ap2;
  int n;

  lua_pushnil(L);
  va_start(ap, fmt);
  va_copy(ap2, ap);
  n = vsnprintf(small, sizeof small, fmt, ap);
  va_end(ap);
  if (n < 0) { /* an encoding error: push an empty message */
    n = 0;
    small[0] = '\0';
  }
  if ((size_t)n < sizeof small) {
    lua_pushlstring(L, small, (size_t)n);
  } else {
    /* A long message: format into Lua-managed memory so a memory error
    ** raised below leaks nothing (va_end is a no-op on our targets, so
    ** skipping it on that longjmp is harmless). */
    big = lua_newuserdatauv(L, (size_t)n + 1, 0);
    vsnprintf(big, (size_t)n + 1, fmt, ap2);
    lua_pushlstring(L, big, (size_t)n);
    lua_remove(L, -2);
  }
  va_end(ap2);
  newfields(L, wd_errkind(code));
  lua_pushboolean(L, code == WD_EMBOXFULL || code == WD_EUNAVAIL);
  lua_setfield(L, -2, "retryable");
  wrapfields(L);
  return 2;
}

int wd_lerr_from_value(lua_State *L, int idx) {
  idx = lua_absindex(L, idx);
  switch (lua_type(L, idx)) {
    case LUA_TSTRING:
      lua_pushvalue(L, idx);
      break;
    case LUA_TNUMBER:
      lua_pushvalue(L, idx);
      lua_tolstring(L, -1, NULL); /* converts the copy only */
      break;
    default:
      if (wd_lerr_is(L, idx)) {
        lua_pushvalue(L, idx);
        return 1;
      }
      lua_pushfstring(L, "(error object is a %s value)", luaL_typename(L, idx));
      break;
  }
  newfields(L, "");
  wrapfields(L);
  return 1;
}

void wd_lerr_unpack(lua_State *L, int idx) {
  int t;
  lua_getiuservalue(L, idx, 1);
  t = lua_gettop(L);
  lua_getfield(L, t, "kind");
  lua_getfield(L, t, "message");
  lua_getfield(L, t, "retryable");
  lua_getfield(L, t, "details");
  lua_getfield(L, t, "stack");
  lua_remove(L, t);
}

void wd_lerr_newraw(lua_State *L) {
  lua_pushliteral(L, "");
  newfields(L, "");
  wrapfields(L);
}

void wd_lerr_setfields(lua_State *L, int idx) {
  idx = lua_absindex(L, idx);
  lua_getiuservalue(L, idx, 1);
  lua_insert(L, -6);
  lua_setfield(L, -6, "stack");
  lua_setfield(L, -5, "details");
  lua_setfield(L, -4, "retryable");
  lua_setfield(L, -3, "message");
  lua_setfield(L, -2, "kind");
  lua_pop(L, 1);
}

/* }====== */

/* {====== The errors module ====== */

/* Store a traceback of the caller of the running C function as 'stack' in
** the fields table on top. */
static void setstack(lua_State *L) {
  luaL_traceback(L, L, NULL, 1);
  lua_setfield(L, -2, "stack");
}

/* Copy field 'f' of the table 'from' into the table on top, checking its
** type against 'ok' (a bit set of 1 << LUA_T*). */
static void checkfield(lua_State *L, int from, const char *f, int ok,
                       const char *what) {
  int t = lua_getfield(L, from, f);
  if (!(ok & (1 << t))) {
    lua_pushfstring(L, "field '%s' must be %s, got %s", f, what,
                    luaL_typename(L, -1));
    luaL_argerror(L, from, lua_tostring(L, -1));
  }
  lua_setfield(L, -2, f);
}

/* errors.new(msg | {message=, kind=, retryable=, details=}) -> err
** [-0, +1, e] */
static int errors_new(lua_State *L) {
  int t = lua_type(L, 1);
  if (t == LUA_TSTRING) {
    lua_pushvalue(L, 1);
    newfields(L, "");
  } else if (t == LUA_TTABLE) {
    lua_createtable(L, 0, 5);
    checkfield(L, 1, "message", 1 << LUA_TSTRING, "a string");
    if (lua_getfield(L, 1, "kind") == LUA_TNIL) {
      lua_pop(L, 1);
      lua_pushliteral(L, "");
      lua_setfield(L, -2, "kind");
    } else {
      lua_pop(L, 1);
      checkfield(L, 1, "kind", 1 << LUA_TSTRING, "a string");
    }
    checkfield(L, 1, "retryable", (1 << LUA_TNIL) | (1 << LUA_TBOOLEAN),
               "a boolean or nil");
    checkfield(L, 1, "details", (1 << LUA_TNIL) | (1 << LUA_TTABLE),
               "a table or nil");
  } else {
    return luaL_typeerror(L, 1, "string or table");
  }
  setstack(L);
  wrapfields(L);
  return 1;
}

/* errors.wrap(err | string | nil, context) -> err | nil  [-0, +1, e]
** Wrapping nil gives nil, so `return errors.wrap(err, "x")` passes success
** through. */
static int errors_wrap(lua_State *L) {
  int t = lua_type(L, 1);
  luaL_checkstring(L, 2);
  if (t == LUA_TNIL || t == LUA_TNONE) {
    lua_pushnil(L);
    return 1;
  }
  if (t == LUA_TSTRING) {
    lua_pushvalue(L, 2);
    lua_pushliteral(L, ": ");
    lua_pushvalue(L, 1);
    lua_concat(L, 3);
    newfields(L, "");
    setstack(L);
  } else if (wd_lerr_is(L, 1)) {
    lua_pushvalue(L, 2);
    lua_pushliteral(L, ": ");
    pushfield(L, 1, "message");
    lua_concat(L, 3);
    lua_createtable(L, 0, 5);
    lua_insert(L, -2);
    lua_setfield(L, -2, "message");
    pushfield(L, 1, "kind");
    lua_setfield(L, -2, "kind");
    pushfield(L, 1, "retryable");
    lua_setfield(L, -2, "retryable");
    pushfield(L, 1, "details");
    lua_setfield(L, -2, "details");
    if (pushfield(L, 1, "stack") == LUA_TNIL) {
      lua_pop(L, 1);
      setstack(L);
    } else {
      lua_setfield(L, -2, "stack");
    }
  } else {
    return luaL_typeerror(L, 1, "error or string");
  }
  wrapfields(L);
  return 1;
}

/* errors.is(err, kind) -> boolean; false for anything not an error.
** [-0, +1, -] */
static int errors_is(lua_State *L) {
  int r = 0;
  if (wd_lerr_is(L, 1) && lua_type(L, 2) == LUA_TSTRING) {
    pushfield(L, 1, "kind");
    r = lua_rawequal(L, -1, 2);
  }
  lua_pushboolean(L, r);
  return 1;
}

/* Parse one traceback line "\tsource:line: in what" into a frame table
** {source=, line=, name=} appended to the frames table on top. Other lines
** (the header, "...", tail calls) are skipped. */
static void parseline(lua_State *L, const char *p, const char *e, int *n) {
  const char *in, *c, *q1, *q2;
  lua_Integer line = 0;
  int digits = 0;

  while (p < e && *p == '\t')
    p++;
  in = memmem(p, (size_t)(e - p), ": in ", 5);
  if (in == NULL) return;
  lua_createtable(L, 0, 3);
  c = memrchr(p, ':', (size_t)(in - p));
  if (c != NULL && c + 1 < in) {
    const char *d;
    for (d = c + 1; d < in && *d >= '0' && *d <= '9'; d++)
      if (line < 100000000) line = line * 10 + (*d - '0');
    digits = d == in;
  }
  if (digits) {
    lua_pushlstring(L, p, (size_t)(c - p));
    lua_setfield(L, -2, "source");
    lua_pushinteger(L, line);
    lua_setfield(L, -2, "line");
  } else {
    lua_pushlstring(L, p, (size_t)(in - p));
    lua_setfield(L, -2, "source");
  }
  p = in + 5;
  q1 = memchr(p, '\'', (size_t)(e - p));
  q2 = q1 != NULL ? memrchr(q1 + 1, '\'', (size_t)(e - q1 - 1)) : NULL;
  if (q2 != NULL) {
    p = q1 + 1;
    e = q2;
  } else if ((size_t)(e - p) > 9 && memcmp(p, "function ", 9) == 0) {
    p += 9;
  }
  lua_pushlstring(L, p, (size_t)(e - p));
  lua_setfield(L, -2, "name");
  lua_rawseti(L, -2, ++*n);
}

/* errors.call_stack(err) -> {thread = "main", frames = {...}} | nil
** [-0, +1, m] */
static int errors_call_stack(lua_State *L) {
  const char *s, *p, *e, *eol;
  size_t len;
  int n = 0;
  if (!wd_lerr_is(L, 1)) {
    lua_pushnil(L);
    return 1;
  }
  lua_createtable(L, 0, 2);
  lua_pushliteral(L, "main");
  lua_setfield(L, -2, "thread");
  lua_newtable(L);
  if (pushfield(L, 1, "stack") == LUA_TSTRING) {
    s = lua_tolstring(L, -1, &len);
    lua_insert(L, -2); /* keep the string below the frames table */
    for (p = s, e = s + len; p < e; p = eol < e ? eol + 1 : e) {
      eol = memchr(p, '\n', (size_t)(e - p));
      if (eol == NULL) eol = e;
      parseline(L, p, eol, &n);
    }
    lua_remove(L, -2);
  } else {
    lua_pop(L, 1);
  }
  lua_setfield(L, -2, "frames");
  return 1;
}

static const luaL_Reg errors_funcs[] = {
  { "new", errors_new }, { "wrap", errors_wrap },
  { "is", errors_is },   { "call_stack", errors_call_stack },
  { NULL, NULL },
};

/* The error metatable is made when the first error object is. */
int wd_lerr_open(lua_State *L) {
  size_t i;
  lua_createtable(L, 0,
                  (int)(WD_COUNTOF(errors_funcs) + WD_COUNTOF(kind_names)));
  luaL_setfuncs(L, errors_funcs, 0);
  for (i = 0; i < WD_COUNTOF(kind_names); i++) {
    lua_pushstring(L, kind_names[i][1]);
    lua_setfield(L, -2, kind_names[i][0]);
  }
  return 1;
}

/* }====== */
