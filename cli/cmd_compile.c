/*
** cli/cmd_compile.c
** 'ward compile' (not for people: the broker starts it for a deploy,
** sandbox/broker_gw_deploy.c): compiles tenants' Lua sources so that the
** broker, which has no Lua, learns whether a new revision parses. Fd 3 is
** a socket to the broker: first the confinement parameters, then
** u32 n, n * (str chunkname, str source); the answer is u32 n,
** n * str message ("" when the source compiled). It confines itself like
** a host (namespaces, rlimits, no_new_privs, Landlock, the host's seccomp
** allow-list) before it reads a source, and it runs nothing it compiles.
** Runs in: compile child (pre-sandbox until confined, then sandboxed).
*/
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <lauxlib.h>
#include <lua.h>
#include <lualib.h>

#include "cmd_int.h"
#include "ward/wd_buf.h"
#include "ward/wd_confine.h"

/* The most it reads: the sources of one deploy and their names. */
#define IN_MAX (8u << 20)

static void die(const char *what) __attribute__((noreturn));
static void die(const char *what) {
  fprintf(stderr, "ward compile: %s\n", what);
  _exit(111);
}

static int read_full(int fd, void *p, size_t n) {
  size_t got = 0;
  while (got < n) {
    ssize_t k = recv(fd, (char *)p + got, n - got, 0);
    if (k < 0 && errno == EINTR) continue;
    if (k <= 0) return -1;
    got += (size_t)k;
  }
  return 0;
}

void wd__cmd_compile(void) {
  uint8_t params[WD_SBX_PARAMS_LEN];
  wd_sbx_opts o;
  wd_buf in, out;
  wd_cur c;
  uint32_t n, i;
  char err[256], buf[65536];
  lua_State *L;
  prctl(PR_SET_NAME, "ward compile");
  if (prctl(PR_SET_PDEATHSIG, SIGKILL) != 0) die("PR_SET_PDEATHSIG");
  if (close_range(4, ~0u, 0) != 0) die("close_range");
  close(0);
  close(1);
  if (read_full(3, params, sizeof params) < 0) die("no parameters");
  memset(&o, 0, sizeof o);
  o.id = "compile";
  wd_sbx_params_get(params, &o.p);
  o.quiet = 1;
  if (wd_sbx_confine(&o, NULL, err, sizeof err) < 0) die(err);
  /* Confined: now the tenant's bytes. */
  wd_buf_init(&in, IN_MAX);
  for (;;) {
    ssize_t k = recv(3, buf, sizeof buf, 0);
    if (k < 0 && errno == EINTR) continue;
    if (k <= 0) break;
    wd_buf_put(&in, buf, (size_t)k);
    if (in.err) die("input too large");
  }
  wd_cur_init(&c, in.p, in.len);
  if (wd_cur_u32(&c, &n) < 0 || n > 100000) die("malformed input");
  if ((L = luaL_newstate()) == NULL) die("out of memory");
  wd_buf_init(&out, 0);
  wd_buf_put_u32(&out, n);
  for (i = 0; i < n; i++) {
    const char *name, *src;
    size_t nl, sl;
    char chunk[1100];
    if (wd_cur_str(&c, &name, &nl) < 0 || wd_cur_str(&c, &src, &sl) < 0 ||
        nl >= sizeof chunk)
      die("malformed input");
    memcpy(chunk, name, nl);
    chunk[nl] = '\0';
    /* Text only, as a host loads it: never a binary chunk. */
    if (luaL_loadbufferx(L, src, sl, chunk, "t") != LUA_OK) {
      size_t ml;
      const char *msg = lua_tolstring(L, -1, &ml);
      wd_buf_put_str(&out, msg ? msg : "syntax error", msg ? ml : 12);
    } else {
      wd_buf_put_str(&out, "", 0);
    }
    lua_settop(L, 0);
  }
  if (out.err) die("out of memory");
  for (i = 0; i < out.len;) {
    ssize_t k = send(3, out.p + i, out.len - i, MSG_NOSIGNAL);
    if (k < 0 && errno == EINTR) continue;
    if (k <= 0) die("cannot answer");
    i += (uint32_t)k;
  }
  _exit(0);
}
