/*
** runtime/lua/ltime.c
** The 'time' module: sleep, after, timer, ticker, now, parse_duration, and
** Time / Duration values. Integers are nanoseconds (reference §9.2).
** Runs in: host (sandboxed).
*/
#include <string.h>
#include <time.h>

#include "lvm_int.h"
#include "lerrors.h"
#include "ward/wd_time.h"

#define TIME_MT "ward.time"
#define DUR_MT "ward.duration"
#define TIMER_MT "ward.timer"

typedef struct tval {
  int64_t ns;
} tval;

typedef struct timerud {
  tmr *t;        /* NULL once stopped or fired (one-shot) */
  chan *ch;
  int repeat;
} timerud;

/* {====== Values ====== */

void wd__time_push(lua_State *L, int64_t ns) {
  tval *v = lua_newuserdatauv(L, sizeof *v, 0);
  v->ns = ns;
  luaL_setmetatable(L, TIME_MT);
}

static void dur_push(lua_State *L, int64_t ns) {
  tval *v = lua_newuserdatauv(L, sizeof *v, 0);
  v->ns = ns;
  luaL_setmetatable(L, DUR_MT);
}

/* A duration argument: string ("5s"), integer nanoseconds or Duration.
** Returns 0 or WD_EINVAL. */
static int get_duration(lua_State *L, int idx, int64_t *ns) {
  tval *d;
  size_t len;
  const char *s;
  switch (lua_type(L, idx)) {
    case LUA_TNUMBER:
      if (!lua_isinteger(L, idx)) {
        lua_Number n = lua_tonumber(L, idx);
        if (!(n >= -9.2e18 && n <= 9.2e18)) return WD_EINVAL;
        *ns = (int64_t)n;
        return 0;
      }
      *ns = (int64_t)lua_tointeger(L, idx);
      return 0;
    case LUA_TSTRING:
      s = lua_tolstring(L, idx, &len);
      return wd_duration_parse(s, len, ns);
    case LUA_TUSERDATA:
      if ((d = luaL_testudata(L, idx, DUR_MT)) != NULL) {
        *ns = d->ns;
        return 0;
      }
      return WD_EINVAL;
    default:
      return WD_EINVAL;
  }
}

static int64_t now_ns(void) {
  return (int64_t)wd__host_now_ns();
}

/* }====== */

/* {====== Timers ====== */

static void tmr_closed(uv_handle_t *h) {
  wd_free(h->data);
}

static void tmr_unlink(tmr *t) {
  actor *a = t->a;
  tmr **pp;
  if (a == NULL) return;
  for (pp = &a->timers; *pp != NULL; pp = &(*pp)->next)
    if (*pp == t) {
      *pp = t->next;
      break;
    }
}

/* Stop and release 't'. Safe from its own callback. */
void wd__time_tmr_stop(tmr *t) {
  actor *a = t->a;
  if (uv_is_closing((uv_handle_t *)&t->h)) return;
  uv_timer_stop(&t->h);
  tmr_unlink(t);
  if (a != NULL && a->c.state == A_ALIVE && t->chref != LUA_NOREF)
    luaL_unref(a->L, LUA_REGISTRYINDEX, t->chref);
  t->chref = LUA_NOREF;
  t->a = NULL;
  uv_close((uv_handle_t *)&t->h, tmr_closed);
}

static void on_timer(uv_timer_t *h) {
  tmr *t = h->data;
  actor *a = t->a;
  if (a == NULL || a->c.state != A_ALIVE) return;
  if (t->t != NULL) {
    task *tk = t->t;
    tk->w.sleep = NULL;
    tk->w.done = 1;
    wd__time_tmr_stop(t);
    wd__run_ready(tk);
    return;
  }
  t->ch->fired = 1;
  t->ch->fired_at = now_ns();
  wd__chan_notify(t->ch);
  if (!t->repeat) wd__time_tmr_stop(t);
}

static tmr *tmr_start(actor *a, int64_t ns, int repeat) {
  tmr *t = wd_calloc(1, sizeof *t);
  uint64_t ms;
  if (t == NULL) return NULL;
  uv_timer_init(a->c.h->loop, &t->h);
  t->h.data = t;
  t->a = a;
  t->chref = LUA_NOREF;
  t->repeat = repeat;
  t->next = a->timers;
  a->timers = t;
  /* Round up to whole milliseconds without overflowing near INT64_MAX. */
  ms = ns <= 0 ? 0 : (uint64_t)(ns / 1000000) + (ns % 1000000 != 0);
  uv_timer_start(&t->h, on_timer, ms, repeat ? (ms ? ms : 1) : 0);
  return t;
}

/* }====== */

/* {====== Module functions ====== */

static int sleep_k(lua_State *L, int status, lua_KContext ctx) {
  task *t = wd__chan_task_current(L);
  (void)status;
  (void)ctx;
  t->w.kind = W_NONE;
  t->w.done = 0;
  return 0;
}

tmr *wd__time_wake_after(actor *a, task *t, int64_t ns) {
  tmr *x = tmr_start(a, ns, 0);
  if (x != NULL) x->t = t;
  return x;
}

/* time.sleep(d)  [-1, +0|2, e] */
static int time_sleep(lua_State *L) {
  actor *a = ACTOR(L);
  task *t;
  int64_t ns;
  if (get_duration(L, 1, &ns) < 0)
    return wd_lerr_pushf(L, WD_EINVAL, "time.sleep: invalid duration");
  t = wd__chan_task_current(L);
  if (t == NULL || !lua_isyieldable(L))
    return luaL_error(L, "time.sleep: cannot block here");
  t->w.kind = W_SLEEP;
  t->w.done = 0;
  t->w.sleep = tmr_start(a, ns, 0);
  if (t->w.sleep == NULL) return luaL_error(L, "not enough memory");
  t->w.sleep->t = t;
  return wd__chan_block(L, t, sleep_k, 0);
}

static int timer_new(lua_State *L, const char *fn, int kind) {
  actor *a = ACTOR(L);
  int64_t ns;
  chan *ch;
  tmr *t;
  if (get_duration(L, 1, &ns) < 0)
    return wd_lerr_pushf(L, WD_EINVAL, "%s: invalid duration", fn);
  if (ns <= 0)
    return wd_lerr_pushf(L, WD_EINVAL, "%s: duration must be > 0", fn);
  ch = wd__chan_new(L, a, CH_TIMER, 0);
  t = tmr_start(a, ns, kind == 2);
  if (t == NULL) return luaL_error(L, "not enough memory");
  t->ch = ch;
  lua_pushvalue(L, -1);
  t->chref = luaL_ref(L, LUA_REGISTRYINDEX);
  if (kind == 0) return 1; /* time.after: the channel itself */
  {
    timerud *u = lua_newuserdatauv(L, sizeof *u, 1);
    u->t = t;
    u->ch = ch;
    u->repeat = kind == 2;
    lua_pushvalue(L, -2);
    lua_setiuservalue(L, -2, 1);
    luaL_setmetatable(L, TIMER_MT);
  }
  return 1;
}

/* time.after(d) -> channel | nil, err */
static int time_after(lua_State *L) {
  return timer_new(L, "time.after", 0);
}

/* time.timer(d) -> Timer | nil, err */
static int time_timer(lua_State *L) {
  return timer_new(L, "time.timer", 1);
}

/* time.ticker(d) -> Ticker | nil, err */
static int time_ticker(lua_State *L) {
  return timer_new(L, "time.ticker", 2);
}

/* Is the tmr of 'u' still armed? (A fired one-shot is released.) */
static int timer_armed(lua_State *L, timerud *u) {
  actor *a = ACTOR(L);
  tmr *t;
  for (t = a->timers; t != NULL; t = t->next)
    if (t == u->t) return 1;
  u->t = NULL;
  return 0;
}

static int timer_channel(lua_State *L) {
  luaL_checkudata(L, 1, TIMER_MT);
  lua_getiuservalue(L, 1, 1);
  return 1;
}

/* timer:stop() -> true if it was still armed. */
static int timer_stop(lua_State *L) {
  timerud *u = luaL_checkudata(L, 1, TIMER_MT);
  int armed = timer_armed(L, u);
  if (armed) wd__time_tmr_stop(u->t);
  u->t = NULL;
  lua_pushboolean(L, armed);
  return 1;
}

/* timer:reset(d) -> true */
static int timer_reset(lua_State *L) {
  timerud *u = luaL_checkudata(L, 1, TIMER_MT);
  actor *a = ACTOR(L);
  int64_t ns;
  tmr *t;
  if (get_duration(L, 2, &ns) < 0 || ns <= 0)
    return wd_lerr_pushf(L, WD_EINVAL, "timer:reset: invalid duration");
  if (timer_armed(L, u)) wd__time_tmr_stop(u->t);
  u->ch->fired = 0;
  t = tmr_start(a, ns, u->repeat);
  if (t == NULL) return luaL_error(L, "not enough memory");
  t->ch = u->ch;
  lua_getiuservalue(L, 1, 1);
  t->chref = luaL_ref(L, LUA_REGISTRYINDEX);
  u->t = t;
  lua_pushboolean(L, 1);
  return 1;
}

static int time_now(lua_State *L) {
  wd__time_push(L, now_ns());
  return 1;
}

/* time.parse_duration(s) -> Duration | nil, err */
static int time_parse_duration(lua_State *L) {
  size_t len;
  const char *s = luaL_checklstring(L, 1, &len);
  int64_t ns;
  if (wd_duration_parse(s, len, &ns) < 0)
    return wd_lerr_pushf(L, WD_EINVAL, "invalid duration: %s", s);
  dur_push(L, ns);
  return 1;
}

/* }====== */

/* {====== Time and Duration methods ====== */

static int64_t checkt(lua_State *L, int idx) {
  return ((tval *)luaL_checkudata(L, idx, TIME_MT))->ns;
}

static int t_unix(lua_State *L) {
  lua_pushinteger(L, checkt(L, 1) / 1000000000);
  return 1;
}

static int t_unix_nano(lua_State *L) {
  lua_pushinteger(L, checkt(L, 1));
  return 1;
}

static int t_sub(lua_State *L) {
  int64_t d;
  if (__builtin_sub_overflow(checkt(L, 1), checkt(L, 2), &d))
    return luaL_error(L, "time difference out of range");
  dur_push(L, d);
  return 1;
}

static int t_add(lua_State *L) {
  int64_t ns;
  int64_t base = checkt(L, 1), sum;
  if (get_duration(L, 2, &ns) < 0) return luaL_argerror(L, 2, "duration");
  /* Saturating: a time past the end of int64 nanoseconds stays there. */
  if (__builtin_add_overflow(base, ns, &sum)) sum = ns > 0 ? INT64_MAX
                                                           : INT64_MIN;
  wd__time_push(L, sum);
  return 1;
}

static int t_before(lua_State *L) {
  lua_pushboolean(L, checkt(L, 1) < checkt(L, 2));
  return 1;
}

static int t_after(lua_State *L) {
  lua_pushboolean(L, checkt(L, 1) > checkt(L, 2));
  return 1;
}

static int t_eq(lua_State *L) {
  lua_pushboolean(L, checkt(L, 1) == checkt(L, 2));
  return 1;
}

static int t_lt(lua_State *L) {
  return t_before(L);
}

/* time:format([strftime layout]) -> string, UTC; default RFC 3339. */
static int t_format(lua_State *L) {
  int64_t ns = checkt(L, 1);
  const char *fmt = luaL_optstring(L, 2, "%Y-%m-%dT%H:%M:%SZ");
  time_t secs = (time_t)(ns / 1000000000);
  struct tm tm;
  char out[256];
  size_t n;
  gmtime_r(&secs, &tm);
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wformat-nonliteral"
  /* The layout is the script's choice by design (os.date does the same). */
  n = strftime(out, sizeof out, fmt, &tm);
#pragma GCC diagnostic pop
  lua_pushlstring(L, out, n);
  return 1;
}

static int t_tostring(lua_State *L) {
  lua_settop(L, 1);
  return t_format(L);
}

static int64_t checkd(lua_State *L, int idx) {
  return ((tval *)luaL_checkudata(L, idx, DUR_MT))->ns;
}

static int d_nanoseconds(lua_State *L) {
  lua_pushinteger(L, checkd(L, 1));
  return 1;
}

static int d_microseconds(lua_State *L) {
  lua_pushinteger(L, checkd(L, 1) / 1000);
  return 1;
}

static int d_milliseconds(lua_State *L) {
  lua_pushinteger(L, checkd(L, 1) / 1000000);
  return 1;
}

static int d_seconds(lua_State *L) {
  lua_pushnumber(L, (lua_Number)checkd(L, 1) / 1e9);
  return 1;
}

static int d_minutes(lua_State *L) {
  lua_pushnumber(L, (lua_Number)checkd(L, 1) / 60e9);
  return 1;
}

static int d_hours(lua_State *L) {
  lua_pushnumber(L, (lua_Number)checkd(L, 1) / 3600e9);
  return 1;
}

static int d_tostring(lua_State *L) {
  char out[WD_DURATION_MAX + 8];
  if (wd_duration_format(checkd(L, 1), out, sizeof out) < 0)
    return luaL_error(L, "duration out of range");
  lua_pushstring(L, out);
  return 1;
}

static int d_eq(lua_State *L) {
  lua_pushboolean(L, checkd(L, 1) == checkd(L, 2));
  return 1;
}

static int d_lt(lua_State *L) {
  lua_pushboolean(L, checkd(L, 1) < checkd(L, 2));
  return 1;
}

static int d_le(lua_State *L) {
  lua_pushboolean(L, checkd(L, 1) <= checkd(L, 2));
  return 1;
}

/* }====== */

/* Light C functions: the bindings find their actor with ACTOR. */
static void newmeta(lua_State *L, const char *name, const luaL_Reg *meth,
                    const luaL_Reg *metameth) {
  luaL_newmetatable(L, name);
  lua_newtable(L);
  luaL_setfuncs(L, meth, 0);
  lua_setfield(L, -2, "__index");
  for (; metameth->name; metameth++) {
    lua_pushcfunction(L, metameth->func);
    lua_setfield(L, -2, metameth->name);
  }
  lua_pushboolean(L, 0);
  lua_setfield(L, -2, "__metatable");
  lua_pop(L, 1);
}

int luaopen_ward_time(lua_State *L) {
  static const luaL_Reg funcs[] = {
    { "sleep", time_sleep },
    { "after", time_after },
    { "timer", time_timer },
    { "ticker", time_ticker },
    { "now", time_now },
    { "parse_duration", time_parse_duration },
    { NULL, NULL },
  };
  static const luaL_Reg time_meth[] = {
    { "unix", t_unix },
    { "unix_nano", t_unix_nano },
    { "sub", t_sub },
    { "add", t_add },
    { "before", t_before },
    { "after", t_after },
    { "equal", t_eq },
    { "format", t_format },
    { NULL, NULL },
  };
  static const luaL_Reg time_mm[] = {
    { "__tostring", t_tostring },
    { "__eq", t_eq },
    { "__lt", t_lt },
    { NULL, NULL },
  };
  static const luaL_Reg dur_meth[] = {
    { "nanoseconds", d_nanoseconds },
    { "microseconds", d_microseconds },
    { "milliseconds", d_milliseconds },
    { "seconds", d_seconds },
    { "minutes", d_minutes },
    { "hours", d_hours },
    { NULL, NULL },
  };
  static const luaL_Reg dur_mm[] = {
    { "__tostring", d_tostring },
    { "__eq", d_eq },
    { "__lt", d_lt },
    { "__le", d_le },
    { NULL, NULL },
  };
  static const luaL_Reg timer_meth[] = {
    { "channel", timer_channel },
    { "response", timer_channel },
    { "stop", timer_stop },
    { "reset", timer_reset },
    { NULL, NULL },
  };
  static const luaL_Reg none[] = { { NULL, NULL } };
  static const struct {
    const char *name;
    lua_Integer v;
  } consts[] = {
    { "NANOSECOND", 1 },
    { "MICROSECOND", 1000 },
    { "MILLISECOND", 1000000 },
    { "SECOND", 1000000000 },
    { "MINUTE", 60000000000 },
    { "HOUR", 3600000000000 },
  };
  size_t i;
  newmeta(L, TIME_MT, time_meth, time_mm);
  newmeta(L, DUR_MT, dur_meth, dur_mm);
  newmeta(L, TIMER_MT, timer_meth, none);
  lua_createtable(L, 0, 12);
  luaL_setfuncs(L, funcs, 0);
  for (i = 0; i < WD_COUNTOF(consts); i++) {
    lua_pushinteger(L, consts[i].v);
    lua_setfield(L, -2, consts[i].name);
  }
  return 1;
}
