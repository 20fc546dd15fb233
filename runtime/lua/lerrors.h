/*
** runtime/lua/lerrors.h
** Error objects and the Lua `errors` module (reference §6).
** Runs in: host (sandboxed).
*/
#ifndef lerrors_h
#define lerrors_h

#include <lua.h>

/*
** An error object is a full userdata (type(err) == "userdata") whose one
** user value is a table { kind, message, retryable, details, stack }:
**   kind       string ("" for errors.UNKNOWN)
**   message    string
**   retryable  true, false or nil (unspecified)
**   details    table or nil
**   stack      string (a luaL_traceback text) or nil
** Its metatable lives in the registry under WD_LERR_META; getmetatable(err)
** returns "locked". Scripts cannot reach the user value (no debug library),
** so an error object is immutable once built.
*/
#define WD_LERR_META "ward.error"

/* {====== Module ====== */

/*
** Push the `errors` module table: the kind constants and new, wrap, is,
** call_stack. Also registers the error metatable. The table is a plain
** table; the caller freezes library tables. [-0, +1, m]
*/
int wd_lerr_open(lua_State *L);

/* }====== */

/* {====== Building error objects from C ====== */

/*
** Push a new error object. 'kind' NULL means "". 'retryable' is -1 (nil),
** 0 (false) or 1 (true). No details, no stack. [-0, +1, m]
*/
void wd_lerr_push(lua_State *L, const char *kind, const char *msg,
                  int retryable);

/*
** Push nil and an error object of kind wd_errkind(code) with a printf
** formatted message; retryable is true for WD_EMBOXFULL and WD_EUNAVAIL,
** false otherwise. Returns 2, so a binding can end with
** `return wd_lerr_pushf(L, WD_EINVAL, "topic cannot be empty");`.
** [-0, +2, m]
*/
int wd_lerr_pushf(lua_State *L, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/*
** Push an error object made from the Lua error value at 'idx' (what a
** failed lua_pcall left): an error object is pushed as is; a string or a
** number becomes an error of kind "" with that text; any other value gets
** the message "(error object is a <type> value)". Never calls metamethods,
** so it cannot run script code. Returns 1. [-0, +1, m]
*/
int wd_lerr_from_value(lua_State *L, int idx);

/* }====== */

/* {====== Inspecting error objects ====== */

/* 1 if the value at 'idx' is an error object, else 0. [-0, +0, -] */
int wd_lerr_is(lua_State *L, int idx);

/*
** Message of the error object at 'idx'; NULL if it is not one.
** Borrowed: valid while the object stays reachable (e.g. on the stack).
** [-0, +0, -]
*/
const char *wd_lerr_message(lua_State *L, int idx);

/* }====== */

/* {====== Codec support (lcodec.c only) ====== */

/*
** Push the five fields of the error object at 'idx' in order: kind,
** message, retryable, details, stack (nil where absent). The caller has
** checked wd_lerr_is and made room for 5 slots. [-0, +5, -]
*/
void wd_lerr_unpack(lua_State *L, int idx);

/*
** Push a blank error object (kind "", message ""). The codec creates it
** first so that a back-reference inside its details can name it, then
** fills it with wd_lerr_setfields. [-0, +1, m]
*/
void wd_lerr_newraw(lua_State *L);

/*
** Pop kind, message, retryable, details, stack (pushed in that order) and
** store them into the error object at 'idx', which must come from
** wd_lerr_newraw and not yet be visible to scripts. The caller has checked
** the types (string, string, nil|boolean, nil|table, nil|string).
** [-5, +0, m]
*/
void wd_lerr_setfields(lua_State *L, int idx);

/* }====== */

#endif
