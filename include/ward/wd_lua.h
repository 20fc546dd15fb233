/*
** include/ward/wd_lua.h
** The Lua VM of a host (runtime/lua/): each actor its own lua_State,
** given to wd_host_new (include/ward/wd_host.h).
** Runs in: host (sandboxed).
*/
#ifndef wd_lua_h
#define wd_lua_h

#include "ward/wd_host.h"

/* Lua's VM for wd_host_new. */
const wd_vm *wd_lua_vm(void);

#endif
