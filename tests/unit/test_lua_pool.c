/*
** tests/unit/test_lua_pool.c
** The pool of used Lua states (runtime/lua/lstate.c), driven through a
** host in this process: a state is reused only by the same entry,
** security actor and scope, nothing of the old actor survives the reset,
** a state that hit its memory limit is closed, and freeing the host
** leaves the pool empty. Also the watches an ended process held: none is
** left on their targets.
** Runs in: tests (a host in the test process).
*/
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <lauxlib.h>
#include <lua.h>
#include <uv.h>

#include "ward/wd_buf.h"
#include "ward/wd_common.h"
#include "ward/wd_lua.h"
#include "ward/wd_pid.h"
#include "ward/wd_policy.h"
#include "ward/wd_proto.h"
#include "ward/wd_wire.h"
#include "../../runtime/lua/lcodec.h"
#include "../../runtime/lua/lvm_int.h"

/* {====== Entries ====== */

/* The library entry A imports: its table is the module's own, so a
** script can change it. */
static const char lib_src[] = "return { count = 0 }\n";

/*
** Entry A (and B, the same text under another id). The spawn argument
** says what a run does:
**   "check"  report what this state holds
**   "dirty"  leave as much behind as a script can, then report
**   "boom"   leave as much behind, then end with an error
**   "hog"    allocate until the memory limit ends it
**   "spin"   leave as much behind, then loop until the CPU budget ends it
** The report: the id of a new table, the global 'leak' read raw, an
** undefined global, the library's count, the heap in KB, the chunk-level
** global 'x', the calls of this chunk's main, every key of _G.
*/
static const char a_src[] =
  "_ENV.x = (_ENV.x or 0) + 1\n"
  "local runs = 0\n"
  "\n"
  "local function globals()\n"
  "  local nxt, G, out = next, _G, {}\n"
  "  local k = nxt(G)\n"
  "  while k ~= nil do\n"
  "    out[#out + 1] = k\n"
  "    k = nxt(G, k)\n"
  "  end\n"
  "  return out\n"
  "end\n"
  "\n"
  "local function report()\n"
  "  local r = { id = tostring({}) }\n"
  "  r.leak = tostring(rawget(_G, 'leak'))\n"
  "  r.ghost = tostring(ghostly)\n"
  "  r.count = require('lib').count\n"
  "  r.mem = collectgarbage('count')\n"
  "  r.x = x\n"
  "  r.runs = runs\n"
  "  r.keys = globals()\n"
  "  return r\n"
  "end\n"
  "\n"
  "local function dirty()\n"
  "  leak = 'secret'\n"
  "  leaktab = { 1, 2, 3, nested = { 'deep' } }\n"
  "  leakfn = function() return leak end\n"
  "  leakco = coroutine.create(function() coroutine.yield(1) end)\n"
  "  assert(coroutine.resume(leakco))\n"
  "  assert(coroutine.status(leakco) == 'suspended')\n"
  "  for _ = 1, 5 do tostring({}) end\n"
  "  local big = {}\n"
  "  for i = 1, 1000 do\n"
  "    big[i] = string.rep(string.char(65 + i % 26), 1000) .. i\n"
  "  end\n"
  "  bigtab = big\n"
  "  require('lib').count = 5\n"
  "  setmetatable(_G, { __index = function(_, k)\n"
  "    return 'ghost:' .. k\n"
  "  end })\n"
  "end\n"
  "\n"
  "local function deep(n)\n"
  "  if n == 0 then error('boom') end\n"
  "  return deep(n - 1) + 1\n"
  "end\n"
  "\n"
  "local function main(mode)\n"
  "  runs = runs + 1\n"
  "  if mode == 'dirty' then\n"
  "    dirty()\n"
  "  elseif mode == 'boom' then\n"
  "    dirty()\n"
  "    deep(20)\n"
  "  elseif mode == 'spin' then\n"
  "    dirty()\n"
  "    while true do end\n"
  "  elseif mode == 'hog' then\n"
  "    local t, i = {}, 0\n"
  "    while true do\n"
  "      i = i + 1\n"
  "      t[i] = string.rep('m', 4096) .. i\n"
  "    end\n"
  "  end\n"
  "  return report()\n"
  "end\n"
  "\n"
  "return { main = main }\n";

/* Main yields for ever: keeps the host's run queue busy. */
static const char spin_src[] =
  "return { main = function()\n"
  "  while true do coroutine.yield() end\n"
  "end }\n";

/* The globals a report may find in _G: Lua's and ward's built-in names
** (resolved lazily: only those a run used are there) and the chunk's x. */
static const char *const allowed_globals[] = {
  "_G",       "_VERSION", "assert",       "channel", "collectgarbage",
  "coroutine", "error",   "errors",       "getmetatable", "ipairs",
  "load",     "math",     "next",         "os",      "pairs",
  "pcall",    "print",    "process",      "rawequal", "rawget",
  "rawlen",   "rawset",   "require",      "select",  "setmetatable",
  "string",   "table",    "tonumber",     "tostring", "type",
  "utf8",     "warn",     "xpcall",       "x",       NULL,
};

/* What a "dirty" or "boom" run sets in _G. */
static const char *const dirty_globals[] = {
  "leak", "leaktab", "leakfn", "leakco", "bigtab", NULL,
};

/* }====== */

/* {====== A host in this process ====== */

#define WAIT_MAX 200000 /* loop turns before a wait fails */

typedef struct rig {
  uv_loop_t loop;
  wd_host *h;
  wd_buf out;     /* records the host wrote: u8 type, u32 length, body */
  uint32_t req;   /* the last request number used */
  size_t backlog; /* what io.backlog says waits on the link */
} rig;

typedef struct exitrec {
  uint8_t flags;
  int32_t status;
  char *text;     /* NUL-terminated copy */
  uint8_t *res;   /* codec bytes of the result */
  size_t reslen;
} exitrec;

static wd_buf *io_begin(void *ud, uint8_t rtype, size_t *start) {
  rig *r = ud;
  *start = r->out.len;
  wd_buf_put_u8(&r->out, rtype);
  wd_buf_put_u32(&r->out, 0);
  return &r->out;
}

static int io_end(void *ud, size_t start) {
  rig *r = ud;
  wd_buf_patch_u32(&r->out, start + 1, (uint32_t)(r->out.len - start - 5));
  return 0;
}

static size_t io_backlog(void *ud) {
  rig *r = ud;
  return r->backlog;
}

/* The record at '*off' (advanced past it): 1 with its type and body, 0
** when there is none yet. */
static int next_rec(rig *r, size_t *off, uint8_t *type, wd_cur *body) {
  wd_cur c;
  uint32_t len;
  const uint8_t *p;
  assert_int_equal(r->out.err, 0);
  if (*off >= r->out.len) return 0;
  wd_cur_init(&c, r->out.p + *off, r->out.len - *off);
  assert_int_equal(wd_cur_u8(&c, type), 0);
  assert_int_equal(wd_cur_u32(&c, &len), 0);
  assert_int_equal(wd_cur_bytes(&c, len, &p), 0);
  wd_cur_init(body, p, len);
  *off += 5 + len;
  return 1;
}

static void put_entry(wd_buf *b, const char *id, const char *src, int lib,
                      const char *import) {
  char chunk[64];
  snprintf(chunk, sizeof chunk, "@%s.lua", id);
  wd_buf_put_cstr(b, id);
  wd_buf_put_cstr(b, chunk);
  wd_buf_put_cstr(b, lib ? "" : "main");
  wd_buf_put_u8(b, (uint8_t)lib);
  wd_buf_put_u32(b, import != NULL ? 1 : 0);
  wd_buf_put_cstr(b, src);
  if (import != NULL) {
    wd_buf_put_cstr(b, import); /* local name */
    wd_buf_put_cstr(b, import); /* entry id */
  }
}

/* A host "pt" with entries lib, a, b, spin and the heap limit 'memory'
** per actor; no policies, no ceiling. */
static void rig_open_cpu(rig *r, uint64_t memory, uint64_t cpu_ns) {
  wd_host_io io;
  wd_buf init;
  wd_cur c;
  wd_pool_stats st;
  memset(r, 0, sizeof *r);
  /* Every earlier host was freed, and freeing a host drains the pool. */
  wd__state_pool_stats(&st);
  assert_int_equal(st.clean, 0);
  assert_int_equal(st.dirty, 0);
  assert_int_equal(uv_loop_init(&r->loop), 0);
  wd_buf_init(&r->out, 0);
  memset(&io, 0, sizeof io);
  io.ud = r;
  io.begin = io_begin;
  io.end = io_end;
  io.backlog = io_backlog;
  assert_int_equal(wd_host_new(&r->loop, "pt", &io, wd_lua_vm(), &r->h), 0);
  wd_buf_init(&init, 0);
  wd_buf_put_u64(&init, memory);
  wd_buf_put_u64(&init, 1000);      /* mailbox */
  wd_buf_put_u64(&init, 4u << 20);  /* max_payload */
  wd_buf_put_u64(&init, 1000);      /* max_processes */
  wd_buf_put_u64(&init, 10000000);  /* slice_ns */
  wd_buf_put_u64(&init, cpu_ns);    /* cpu_ns */
  wd_buf_put_u64(&init, 0);         /* spawn_rate */
  wd_buf_put_u64(&init, 64u << 20); /* mailbox_bytes */
  wd_buf_put_u64(&init, 1u << 20);  /* link_queue */
  wd_buf_put_u32(&init, 4);
  put_entry(&init, "lib", lib_src, 1, NULL);
  put_entry(&init, "a", a_src, 0, "lib");
  put_entry(&init, "b", a_src, 0, "lib");
  put_entry(&init, "spin", spin_src, 0, NULL);
  wd_buf_put_u8(&init, 0);  /* audit off */
  wd_buf_put_u32(&init, 0); /* no policies */
  wd_buf_put_u8(&init, 0);  /* no ceiling */
  wd_buf_put_u32(&init, 0); /* its actors, groups, policies */
  wd_buf_put_u32(&init, 0);
  wd_buf_put_u32(&init, 0);
  assert_int_equal(init.err, 0);
  wd_cur_init(&c, init.p, init.len);
  assert_int_equal(wd_host_init(r->h, &c), 0);
  wd_buf_close(&init);
  wd_host_add_pids(r->h, 1, 1u << 20);
}

static void rig_open(rig *r, uint64_t memory) {
  rig_open_cpu(r, memory, 0);
}

/* Stop and free the host (the pool is drained), close the loop. */
static void rig_close(rig *r) {
  if (r->h == NULL) return;
  wd_host_stop(r->h);
  uv_run(&r->loop, UV_RUN_NOWAIT); /* the idle handle's close */
  wd_host_free(r->h);
  r->h = NULL;
  assert_int_equal(uv_loop_close(&r->loop), 0);
  wd_buf_close(&r->out);
}

/* Spawn 'eid' for 'parent' ("" for the broker) with 'flags' (WD_SPAWN_ROOT:
** its exit is reported; WD_SPAWN_MONITOR, _EXEC: the parent watches it),
** the argument 'mode', the security actor 'who' ('alen' bytes) and
** 'scope'. Returns the counter of its PID. */
static uint64_t spawn_child(rig *r, const char *parent, const char *eid,
                            const char *who, size_t alen, const char *scope,
                            const char *mode, uint32_t flags) {
  wd_buf body, args;
  wd_spawnrec q;
  wd_cur c;
  size_t off = r->out.len;
  uint8_t type;
  uint32_t req, status;
  const char *s, *hid;
  size_t n, hl;
  uint64_t counter;
  wd_buf_init(&args, 0);
  wd_codec_put_header(&args, 1);
  wd_codec_put_str(&args, mode, strlen(mode));
  wd_buf_init(&body, 0);
  memset(&q, 0, sizeof q);
  q.parent = parent; /* "": the broker */
  q.parentlen = strlen(parent);
  q.entry = eid;
  q.entrylen = strlen(eid);
  q.host = "pt";
  q.hostlen = 2;
  q.flags = flags;
  q.actor = who;
  q.actorlen = alen;
  q.scope = scope;
  q.scopelen = strlen(scope);
  q.args = args.p;
  q.alen = args.len;
  q.ctx = (const uint8_t *)""; /* no context, no name, no messages */
  q.name = "";
  wd_wire_put_spawn(&body, &q);
  assert_int_equal(args.err, 0);
  assert_int_equal(body.err, 0);
  wd_cur_init(&c, body.p, body.len);
  assert_int_equal(wd_host_on_req(r->h, ++r->req, WD_OP_SPAWN, &c), 0);
  wd_buf_close(&body);
  wd_buf_close(&args);
  for (;;) {
    if (!next_rec(r, &off, &type, &c)) fail_msg("no reply to the spawn");
    if (type != WD_R_REPLY) continue;
    assert_int_equal(wd_cur_u32(&c, &req), 0);
    if (req != r->req) continue;
    assert_int_equal(wd_cur_u32(&c, &status), 0);
    assert_int_equal(wd_cur_str(&c, &s, &n), 0);
    if (status != 0) fail_msg("spawn %s: %.*s", eid, (int)n, s);
    assert_int_equal(wd_pid_parse(s, n, &hid, &hl, &counter), 0);
    return counter;
  }
}

static uint64_t spawn_flags(rig *r, const char *eid, const char *who,
                            size_t alen, const char *scope, const char *mode,
                            uint32_t flags) {
  return spawn_child(r, "", eid, who, alen, scope, mode, flags);
}

static uint64_t spawn_as(rig *r, const char *eid, const char *who,
                         size_t alen, const char *scope, const char *mode) {
  return spawn_flags(r, eid, who, alen, scope, mode, WD_SPAWN_ROOT);
}

static uint64_t spawn(rig *r, const char *eid, const char *who,
                      const char *scope, const char *mode) {
  return spawn_as(r, eid, who, strlen(who), scope, mode);
}

/* Turn the loop until the EXIT of 'counter' arrives; copy it to 'e'. */
static void wait_exit(rig *r, uint64_t counter, exitrec *e) {
  size_t off = 0;
  int i;
  for (i = 0; i < WAIT_MAX; i++) {
    uint8_t type;
    wd_cur c;
    uint64_t who;
    const char *s;
    size_t n;
    while (next_rec(r, &off, &type, &c)) {
      if (type != WD_R_EXIT) continue;
      assert_int_equal(wd_cur_u64(&c, &who), 0);
      if (who != counter) continue;
      assert_int_equal(wd_cur_u8(&c, &e->flags), 0);
      assert_int_equal(wd_cur_u32(&c, (uint32_t *)&e->status), 0);
      assert_int_equal(wd_cur_str(&c, &s, &n), 0);
      e->text = malloc(n + 1);
      assert_non_null(e->text);
      memcpy(e->text, s, n);
      e->text[n] = '\0';
      assert_int_equal(wd_cur_str(&c, &s, &n), 0);
      e->res = malloc(n + 1);
      assert_non_null(e->res);
      memcpy(e->res, s, n);
      e->reslen = n;
      return;
    }
    uv_run(&r->loop, UV_RUN_NOWAIT);
  }
  fail_msg("no exit of actor %llu", (unsigned long long)counter);
}

static void exit_free(exitrec *e) {
  free(e->text);
  free(e->res);
}

/* Turn the loop until no ended state waits for its reset. */
static void settle(rig *r) {
  wd_pool_stats st;
  int i;
  for (i = 0; i < WAIT_MAX; i++) {
    wd__state_pool_stats(&st);
    if (st.dirty == 0) return;
    uv_run(&r->loop, UV_RUN_NOWAIT);
  }
  fail_msg("dirty states were never reset");
}

/* Run 'eid' with 'mode' to a successful end, let the host go idle. */
static void run_ok(rig *r, const char *eid, const char *who,
                   const char *scope, const char *mode) {
  exitrec e;
  uint64_t id = spawn(r, eid, who, scope, mode);
  wait_exit(r, id, &e);
  if (!(e.flags & WD_EXIT_OK)) fail_msg("%s failed: %s", eid, e.text);
  exit_free(&e);
  settle(r);
}

/* }====== */

/* {====== Reports ====== */

/* A decoded report: the table on top of its own state. */
typedef struct report {
  lua_State *L;
} report;

static void report_open(report *p, const exitrec *e) {
  p->L = luaL_newstate();
  assert_non_null(p->L);
  if (!(e->flags & WD_EXIT_OK)) fail_msg("run failed: %s", e->text);
  assert_int_equal(wd_lcodec_decode(p->L, e->res, e->reslen), 1);
  assert_int_equal(lua_type(p->L, -1), LUA_TTABLE);
}

static void report_close(report *p) {
  lua_close(p->L);
}

static const char *rstr(report *p, const char *field) {
  const char *s;
  lua_getfield(p->L, 1, field);
  if (lua_type(p->L, -1) != LUA_TSTRING)
    fail_msg("report.%s is a %s", field, luaL_typename(p->L, -1));
  s = lua_tostring(p->L, -1);
  lua_pop(p->L, 1); /* still anchored by the report */
  return s;
}

static double rnum(report *p, const char *field) {
  double n;
  lua_getfield(p->L, 1, field);
  if (lua_type(p->L, -1) != LUA_TNUMBER)
    fail_msg("report.%s is a %s", field, luaL_typename(p->L, -1));
  n = (double)lua_tonumber(p->L, -1);
  lua_pop(p->L, 1);
  return n;
}

static int in_list(const char *const *list, const char *s) {
  for (; *list != NULL; list++)
    if (strcmp(*list, s) == 0) return 1;
  return 0;
}

/* Whether _G held 'name' when the report was made. */
static int has_global(report *p, const char *name) {
  int found = 0;
  lua_Integer i;
  lua_getfield(p->L, 1, "keys");
  assert_int_equal(lua_type(p->L, -1), LUA_TTABLE);
  for (i = 1; lua_rawgeti(p->L, -1, i) != LUA_TNIL; i++) {
    if (lua_type(p->L, -1) == LUA_TSTRING &&
        strcmp(lua_tostring(p->L, -1), name) == 0)
      found = 1;
    lua_pop(p->L, 1);
  }
  lua_pop(p->L, 2);
  return found;
}

/* A run on a fresh or reset state: none of what a dirty run left is
** there, and _G holds only built-in names and the chunk's own x. */
static void assert_clean(report *p) {
  const char *const *g;
  lua_Integer i;
  assert_string_equal(rstr(p, "id"), "table: #1");
  assert_string_equal(rstr(p, "leak"), "nil");
  assert_string_equal(rstr(p, "ghost"), "nil");
  assert_int_equal((int)rnum(p, "count"), 0);
  assert_int_equal((int)rnum(p, "x"), 1);
  assert_int_equal((int)rnum(p, "runs"), 1);
  if (rnum(p, "mem") >= 200.0)
    fail_msg("heap of a reset state: %.1f KB", rnum(p, "mem"));
  for (g = dirty_globals; *g != NULL; g++)
    if (has_global(p, *g)) fail_msg("global %s survived", *g);
  lua_getfield(p->L, 1, "keys");
  for (i = 1; lua_rawgeti(p->L, -1, i) != LUA_TNIL; i++) {
    if (lua_type(p->L, -1) != LUA_TSTRING)
      fail_msg("a %s key in _G", luaL_typename(p->L, -1));
    if (!in_list(allowed_globals, lua_tostring(p->L, -1)))
      fail_msg("unexpected global %s", lua_tostring(p->L, -1));
    lua_pop(p->L, 1);
  }
  lua_pop(p->L, 2);
  assert_true(i > 1); /* the list is not empty: x at least */
}

/* The report of a dirty run: what it left is really there. */
static void assert_dirty(report *p) {
  assert_string_equal(rstr(p, "id"), "table: #6");
  assert_string_equal(rstr(p, "leak"), "secret");
  assert_string_equal(rstr(p, "ghost"), "ghost:ghostly");
  assert_int_equal((int)rnum(p, "count"), 5);
  assert_int_equal((int)rnum(p, "x"), 1);
  if (rnum(p, "mem") <= 1000.0)
    fail_msg("a dirty run holds only %.1f KB", rnum(p, "mem"));
  assert_true(has_global(p, "leak"));
  assert_true(has_global(p, "bigtab"));
  assert_true(has_global(p, "leakco"));
}

/* Spawn a check run of 'eid' and assert it is clean. */
static void check_clean(rig *r, const char *eid, const char *who,
                        const char *scope) {
  exitrec e;
  report p;
  wait_exit(r, spawn(r, eid, who, scope, "check"), &e);
  report_open(&p, &e);
  assert_clean(&p);
  report_close(&p);
  exit_free(&e);
}

/* }====== */

/* {====== Tests ====== */

static int setup(void **state) {
  rig *r = calloc(1, sizeof *r);
  if (r == NULL) return -1;
  *state = r;
  return 0;
}

static int teardown(void **state) {
  rig *r = *state;
  rig_close(r);
  free(r);
  return 0;
}

/* Since 's0' the pool made 'made' new states and reused 'reused'; the
** stats now go to 'now' (if not NULL). */
static void assert_since(const wd_pool_stats *s0, size_t made,
                         size_t reused, wd_pool_stats *now) {
  wd_pool_stats s1;
  wd__state_pool_stats(&s1);
  assert_int_equal(s1.made - s0->made, made);
  assert_int_equal(s1.reused - s0->reused, reused);
  if (now != NULL) *now = s1;
}

static void test_pool_reuse_happens(void **state) {
  rig *r = *state;
  wd_pool_stats s0, s1, s2;
  rig_open(r, 64u << 20);
  wd__state_pool_stats(&s0);
  run_ok(r, "a", "t", "", "check");
  assert_since(&s0, 1, 0, &s1);
  assert_int_equal(s1.clean, 1); /* reset while the host was idle */
  assert_int_equal(s1.dirty, 0);
  check_clean(r, "a", "t", "");
  assert_since(&s1, 0, 1, &s2);
  assert_int_equal(s2.closed - s1.closed, 0);
  settle(r);
  wd__state_pool_stats(&s2);
  assert_int_equal(s2.clean, 1); /* and back after its second actor */
}

static void test_pool_nothing_survives(void **state) {
  rig *r = *state;
  wd_pool_stats s0, s1;
  exitrec e;
  report p;
  rig_open(r, 64u << 20);
  wd__state_pool_stats(&s0);
  wait_exit(r, spawn(r, "a", "t", "", "dirty"), &e);
  report_open(&p, &e);
  assert_dirty(&p);
  report_close(&p);
  exit_free(&e);
  settle(r);
  wd__state_pool_stats(&s1);
  if (s1.clean != 1) /* the dirty state was reset, not closed */
    fail_msg("the dirty run's state was not kept: clean %zu, closed +%zu",
             s1.clean, s1.closed - s0.closed);
  check_clean(r, "a", "t", "");
  assert_since(&s0, 1, 1, NULL);
}

static void test_pool_identity_separates(void **state) {
  rig *r = *state;
  wd_pool_stats s0, s1;
  wd_buf blue, red;
  wd_pval v;
  exitrec e;
  report p;
  rig_open(r, 64u << 20);
  run_ok(r, "a", "t", "", "check");
  /* Another actor, another scope, another entry: each a new state. */
  {
    static const char *const kinds[][3] = {
      { "a", "u", "" }, { "a", "t", "other" }, { "b", "t", "" },
    };
    size_t k;
    for (k = 0; k < 3; k++) {
      wd__state_pool_stats(&s0);
      check_clean(r, kinds[k][0], kinds[k][1], kinds[k][2]);
      settle(r);
      assert_since(&s0, 1, 0, &s1);
    }
  }
  /* The same id with another meta is another actor. */
  wd_buf_init(&blue, 0);
  wd_buf_init(&red, 0);
  wd_buf_put(&blue, "t", 2); /* "t\0" then the meta */
  wd_buf_put(&red, "t", 2);
  v = wd_pval_str("blue");
  wd_wire_put_pval(&blue, &v);
  v = wd_pval_str("red");
  wd_wire_put_pval(&red, &v);
  assert_int_equal(blue.err, 0);
  assert_int_equal(red.err, 0);
  s0 = s1;
  wait_exit(r, spawn_as(r, "a", (const char *)blue.p, blue.len, "", "check"),
            &e);
  exit_free(&e);
  settle(r);
  wd__state_pool_stats(&s1);
  assert_int_equal(s1.made - s0.made, 1);
  s0 = s1;
  wait_exit(r, spawn_as(r, "a", (const char *)red.p, red.len, "", "check"),
            &e);
  report_open(&p, &e);
  assert_clean(&p);
  report_close(&p);
  exit_free(&e);
  settle(r);
  assert_since(&s0, 1, 0, &s1);
  wd_buf_close(&blue);
  wd_buf_close(&red);
  /* Every kind so far waits in the pool: the first one is still there. */
  assert_int_equal(s1.clean, 6);
  s0 = s1;
  check_clean(r, "a", "t", "");
  assert_since(&s0, 0, 1, NULL);
}

/* Wait for actor 'id' to end with an error whose text holds 'what', then
** let the host go idle. */
static void expect_failure(rig *r, uint64_t id, const char *what) {
  exitrec e;
  wait_exit(r, id, &e);
  assert_false(e.flags & WD_EXIT_OK);
  if (strstr(e.text, what) == NULL) fail_msg("exit text: %s", e.text);
  exit_free(&e);
  settle(r);
}

static void test_pool_error_exit_reuses_state_not_thread(void **state) {
  rig *r = *state;
  wd_pool_stats s0, s1;
  rig_open(r, 64u << 20);
  wd__state_pool_stats(&s0);
  expect_failure(r, spawn(r, "a", "t", "", "boom"), "boom");
  wd__state_pool_stats(&s1);
  if (s1.clean != 1 || s1.closed != s0.closed)
    fail_msg("the failed run's state was not kept: clean %zu, closed +%zu",
             s1.clean, s1.closed - s0.closed);
  /* The errored thread still holds its frames: a next actor given it
  ** could not run at all. This one runs, and finds nothing. */
  check_clean(r, "a", "t", "");
  assert_since(&s0, 1, 1, NULL);
  /* A clean end gives the state back once more. */
  settle(r);
  check_clean(r, "a", "t", "");
  wd__state_pool_stats(&s1);
  assert_int_equal(s1.reused - s0.reused, 2);
}

static void test_pool_memory_failure_closes(void **state) {
  rig *r = *state;
  wd_pool_stats s0, s1;
  rig_open(r, 1u << 20);
  run_ok(r, "a", "t", "", "check");
  wd__state_pool_stats(&s0);
  assert_int_equal(s0.clean, 1);
  expect_failure(r, spawn(r, "a", "t", "", "hog"), "memory limit exceeded");
  wd__state_pool_stats(&s1);
  assert_int_equal(s1.reused - s0.reused, 1); /* the hog had the state */
  assert_int_equal(s1.closed - s0.closed, 1); /* and it was closed */
  assert_int_equal(s1.clean, 0);
  assert_int_equal(s1.dirty, 0);
  s0 = s1;
  check_clean(r, "a", "t", "");
  assert_since(&s0, 1, 0, NULL);
}

static void test_pool_drain(void **state) {
  rig *r = *state;
  wd_pool_stats s0, s1;
  exitrec e;
  uint64_t id;
  int i;
  rig_open(r, 64u << 20);
  run_ok(r, "a", "c", "", "check"); /* one clean state */
  /* With the spinner queued the host is never idle: the next exit
  ** leaves its state dirty. */
  id = spawn(r, "a", "d", "", "check");
  (void)spawn(r, "spin", "d", "", "x");
  wait_exit(r, id, &e);
  assert_true(e.flags & WD_EXIT_OK);
  exit_free(&e);
  for (i = 0; i < 3; i++) uv_run(&r->loop, UV_RUN_NOWAIT);
  wd__state_pool_stats(&s0);
  assert_int_equal(s0.clean, 1);
  assert_int_equal(s0.dirty, 1);
  assert_int_equal(wd_host_count(r->h), 1);
  rig_close(r);
  wd__state_pool_stats(&s1);
  assert_int_equal(s1.clean, 0);
  assert_int_equal(s1.dirty, 0);
  /* The spinner's live state, the dirty one, the clean one. */
  assert_int_equal(s1.closed - s0.closed, 3);
}

/* }====== */

/* Turn the loop until the host has 'n' actors (at most a few seconds). */
static void wait_count(rig *r, size_t n) {
  int i;
  for (i = 0; i < 200000 && wd_host_count(r->h) != n; i++)
    uv_run(&r->loop, UV_RUN_NOWAIT);
  assert_int_equal(wd_host_count(r->h), n);
}

/* A killed actor (here: at its CPU budget; not a root, whose end the
** broker hears of through another path) leaves its memory to be freed
** with its state's reset (runtime/actor.c, wd__actor_free): the reset
** happens when the host is idle, the state is reused, and nothing of the actor is
** left (valgrind: nothing leaked, nothing freed twice). */
static void test_pool_killed_actor_freed_with_reset(void **state) {
  rig *r = *state;
  wd_pool_stats s0, s1;
  rig_open_cpu(r, 64u << 20, 30000000); /* 30 ms of CPU each */
  wd__state_pool_stats(&s0);
  (void)spawn_flags(r, "a", "t", 1, "", "spin", 0);
  wait_count(r, 0);
  settle(r);
  wd__state_pool_stats(&s1);
  assert_int_equal(s1.made - s0.made, 1);
  assert_int_equal(s1.clean, 1);
  assert_int_equal(s1.dirty, 0);
  check_clean(r, "a", "t", "");
  wd__state_pool_stats(&s1);
  assert_int_equal(s1.reused - s0.reused, 1);
}

/* A killed actor whose state is still waiting when the host is freed:
** the drain frees its memory too. */
static void test_pool_killed_actor_freed_by_drain(void **state) {
  rig *r = *state;
  wd_pool_stats s0;
  rig_open_cpu(r, 64u << 20, 30000000);
  /* The yielding spinner keeps the run queue busy (and uses little CPU)
  ** after the looping one is killed, so its state stays waiting. */
  (void)spawn_flags(r, "spin", "t", 1, "", "x", 0);
  (void)spawn_flags(r, "a", "t", 1, "", "spin", 0);
  wait_count(r, 1);
  wd__state_pool_stats(&s0);
  assert_int_equal(s0.dirty, 1);
  rig_close(r); /* the teardown's check: clean == dirty == 0 */
}

/* {====== Watches ======
** A watcher that ends takes its monitors and exec waits off their targets
** (runtime/life.c): a target that outlives many watchers holds none of them. */

static size_t watches_on(rig *r, uint64_t counter) {
  wd_actor *a = wd__actor_find(r->h, counter);
  watch *w;
  size_t n = 0;
  assert_non_null(a);
  for (w = a->watches; w != NULL; w = w->next) n++;
  return n;
}

static void watcher_ends(rig *r, uint32_t flags) {
  char wpid[WD_PID_MAX];
  uint64_t target[3], watcher;
  exitrec e;
  int i;
  rig_open(r, 64u << 20);
  watcher = spawn(r, "spin", "t", "", "x");
  assert_true(wd_pid_format(wpid, sizeof wpid, "pt", 2, watcher) > 0);
  for (i = 0; i < 3; i++) {
    target[i] = spawn_child(r, wpid, "spin", "t", 1, "", "x", flags);
    assert_int_equal(watches_on(r, target[i]), 1);
  }
  wd__life_kill(wd__actor_find(r->h, watcher), "watcher ends");
  wait_exit(r, watcher, &e);
  exit_free(&e);
  for (i = 0; i < 3; i++) assert_int_equal(watches_on(r, target[i]), 0);
  rig_close(r);
}

static void test_watch_monitors_go_with_their_watcher(void **state) {
  watcher_ends(*state, WD_SPAWN_MONITOR);
}

static void test_watch_exec_waits_go_with_their_watcher(void **state) {
  watcher_ends(*state, WD_SPAWN_EXEC);
}

/* A target that ends first leaves nothing on its watcher either. */
static void test_watch_target_ends_first(void **state) {
  rig *r = *state;
  char wpid[WD_PID_MAX];
  uint64_t watcher, target;
  rig_open(r, 64u << 20);
  watcher = spawn(r, "spin", "t", "", "x");
  assert_true(wd_pid_format(wpid, sizeof wpid, "pt", 2, watcher) > 0);
  target = spawn_child(r, wpid, "a", "t", 1, "", "check", WD_SPAWN_MONITOR);
  wait_count(r, 1);
  assert_null(wd__actor_find(r->h, target));
  assert_null(wd__actor_find(r->h, watcher)->held);
  rig_close(r);
}

/* }====== */

/* A host whose link to the broker is backed up past its link_queue runs no
** process until wd_host_wake (issue 11): what they would send could only
** pile up in the host's memory. */
static void test_host_waits_while_its_link_is_backed_up(void **state) {
  rig *r = *state;
  exitrec e;
  uint64_t id;
  size_t off = 0;
  uint8_t type;
  wd_cur c;
  int i;
  rig_open(r, 64u << 20);
  r->backlog = 2u << 20;
  id = spawn(r, "a", "t", "", "check");
  for (i = 0; i < 1000; i++)
    uv_run(&r->loop, UV_RUN_NOWAIT);
  while (next_rec(r, &off, &type, &c))
    assert_int_not_equal(type, WD_R_EXIT);
  r->backlog = (1u << 20) - 1; /* under the bound: it runs once woken */
  wd_host_wake(r->h);
  wait_exit(r, id, &e);
  assert_true(e.flags & WD_EXIT_OK);
  exit_free(&e);
}

#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)

int main(void) {
  const struct CMUnitTest tests[] = {
    T(test_pool_reuse_happens),
    T(test_pool_nothing_survives),
    T(test_pool_identity_separates),
    T(test_pool_error_exit_reuses_state_not_thread),
    T(test_pool_memory_failure_closes),
    T(test_pool_drain),
    T(test_pool_killed_actor_freed_with_reset),
    T(test_pool_killed_actor_freed_by_drain),
    T(test_watch_monitors_go_with_their_watcher),
    T(test_watch_exec_waits_go_with_their_watcher),
    T(test_watch_target_ends_first),
    T(test_host_waits_while_its_link_is_backed_up),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
