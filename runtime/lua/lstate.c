/*
** runtime/lua/lstate.c
** Where an actor's lua_State comes from and where it goes: the quota
** allocator, and a pool of the states of ended actors, reset so that
** nothing of the old actor remains, and reused only by an actor of the
** same entry, security actor and scope.
** Runs in: host (sandboxed).
*/
#include <string.h>

#include "lvm_int.h"

/* {====== Allocator with a per-actor quota ====== */

/*
** Small blocks (up to SLAB_MAX bytes: nearly everything Lua allocates)
** come from size classes SLAB_GRAIN bytes apart, carved out of
** SLAB_CHUNK chunks and kept on one free list per class: no header per
** block (Lua passes the old size on free and realloc), no search, no
** coalescing. The classes serve every actor of the process (a host runs
** one thread), so an exiting actor's blocks serve the next spawn. Chunks
** are never given back: a host keeps the peak of its small blocks.
** Larger blocks go to wd_malloc, and so does everything under
** AddressSanitizer, which must see Lua's blocks to check them.
*/
#if defined(__SANITIZE_ADDRESS__)
#define SLAB_MAX 0
#else
#define SLAB_MAX 1024
#endif
#define SLAB_GRAIN    16
#define SLAB_CHUNK    (64 * 1024)
#define SLAB_CLASS(n) (((n)-1) / SLAB_GRAIN)

static struct {
  void *free[1024 / SLAB_GRAIN]; /* per class; next block in its 1st word */
  char *bump, *end;              /* the unused rest of the newest chunk */
  void *chunks;                  /* every chunk, linked by its 1st word */
} g_slab;

static void slab_put(void *p, size_t n) {
  void **head = &g_slab.free[SLAB_CLASS(n)];
  *(void **)p = *head;
  *head = p;
}

static void *slab_get(size_t n) {
  size_t c = SLAB_CLASS(n), sz = (c + 1) * SLAB_GRAIN, left;
  void *p = g_slab.free[c];
  char *k;
  if (p != NULL) {
    g_slab.free[c] = *(void **)p;
    return p;
  }
  left = g_slab.bump != NULL ? (size_t)(g_slab.end - g_slab.bump) : 0;
  if (left < sz) {
    if ((k = wd_malloc(SLAB_CHUNK)) == NULL) return NULL;
    /* The rest of the old chunk is a free block of the class below. */
    if (left >= SLAB_GRAIN)
      slab_put(g_slab.bump, left / SLAB_GRAIN * SLAB_GRAIN);
    *(void **)k = g_slab.chunks;
    g_slab.chunks = k;
    g_slab.bump = k + SLAB_GRAIN;
    g_slab.end = k + SLAB_CHUNK;
  }
  p = g_slab.bump;
  g_slab.bump += sz;
  return p;
}

static void blk_free(void *p, size_t n) {
  if (n <= SLAB_MAX)
    slab_put(p, n);
  else
    wd_free(p);
}

/* Lua assumes that shrinking a block never fails: a shrink that cannot
** move keeps the block, which is large enough for its new size class. */
static void *blk_realloc(void *p, size_t o, size_t n) {
  void *q;
  if (p != NULL && o <= SLAB_MAX && n <= SLAB_MAX &&
      SLAB_CLASS(o) == SLAB_CLASS(n))
    return p;
  if (p != NULL && o > SLAB_MAX && n > SLAB_MAX) {
    q = wd_realloc(p, n);
    return q != NULL || n > o ? q : p;
  }
  q = n <= SLAB_MAX ? slab_get(n) : wd_malloc(n);
  if (q == NULL) return n < o ? p : NULL;
  if (p != NULL) {
    memcpy(q, p, o < n ? o : n);
    blk_free(p, o);
  }
  return q;
}

/* Going over the quota returns NULL: a Lua memory error in that actor.
** The quota counts the sizes Lua asked for. */
__attribute__((noinline)) static void *alloc_slow(actor *a, void *ptr,
                                                  size_t old, size_t nsize) {
  void *p;
  if (nsize > old && a->mem + (nsize - old) > a->mem_limit) {
    a->mem_failed = 1;
    return NULL;
  }
  p = blk_realloc(ptr, old, nsize);
  if (p == NULL) return NULL;
  a->mem = a->mem - old + nsize;
  return p;
}

/* Freeing a block, and a new small block of a class whose free list has
** one, are most of what Lua asks for: they take no call and few
** registers; the rest goes to alloc_slow. */
static void *actor_alloc(void *ud, void *ptr, size_t osize, size_t nsize) {
  actor *a = ud;
  size_t old = ptr ? osize : 0;
  if (nsize == 0) {
    if (ptr != NULL) blk_free(ptr, old);
    a->mem -= old;
    return NULL;
  }
  if (ptr == NULL && nsize <= SLAB_MAX && a->mem + nsize <= a->mem_limit) {
    void **head = &g_slab.free[SLAB_CLASS(nsize)], *p = *head;
    if (p != NULL) {
      *head = *(void **)p;
      a->mem += nsize;
      return p;
    }
  }
  return alloc_slow(a, ptr, old, nsize);
}

/* }====== */

/* {====== The pool of used states ======
**
** Making a state costs more than everything else a spawn does (Lua
** interns its reserved words and metamethod names into each new state,
** and frees them all again in lua_close). So an ended actor's state is
** reset and kept for the next spawn of the same kind:
**
** - Reset: every registry entry goes but the main thread and the keep
**   table (wd__state_keep_get); new empty globals; no hook; then a full
**   collection frees everything the old actor made. What survives is
**   what no script can reach or change: the compiled entry chunk (code
**   this host made; its _ENV is cleared here and set to the new globals
**   at boot), the globals' lazy metatable and the string metatable
**   (lenv.c, wd__env_setup), the main thread, and what Lua holds for any
**   state (its fixed strings). No other type has a metatable: ward sets
**   them only on tables, userdata and strings, and has no debug library.
** - The thread of the old main task (anchored in the keep table, not by
**   a registry reference) is kept too when its function returned
**   (lenv.c, wd__env_task_free): nothing is left on it. A thread that ended
**   with an error or is suspended is never reused.
** - Reuse only by an actor of the same entry, the same security actor
**   (with its meta) and the same scope: even a mistake in the reset could
**   not carry anything across tenants or privileges.
** - The new actor is charged the reset state's bytes, as a fresh state's
**   are; a state that stays large (over POOL_STATE_MAX) is closed, and
**   so is the state of an actor that hit its memory limit.
** - Ended states wait, unreset, on a queue ("dirty"), so that a burst of
**   exits (a cascade through links) is not slowed by their cleanup. They
**   are reset or closed when the host has nothing to run (a slice at a
**   time, wd__state_pool_work), when a spawn wants one, and at once when
**   the waiting and the live ones together are more than the most live
**   at once plus DIRTY_SLACK: a host never holds more states than at its
**   peak (whose memory it has kept anyway, see the allocator) plus that
**   slack.
** - At most POOL_MAX reset states are kept, the most recently ended
**   ones; the oldest is closed to make room.
** - A killed actor's own memory (its subscriptions, queued messages,
**   identity, the actor itself) waits with its state and is freed at its
**   reset (wd__state_release_actor): kills come in cascades.
*/
#define POOL_MAX       64
#define POOL_STATE_MAX (24 * 1024)
#define DIRTY_SLACK    256
#define DIRTY_SEARCH   8   /* newest dirty states a spawn looks at */

static const char keep_key = 0;

/* Push field 'i' of the keep table (nil without one); returns its type. */
int wd__state_keep_get(lua_State *L, int i) {
  if (lua_rawgetp(L, LUA_REGISTRYINDEX, &keep_key) != LUA_TTABLE) {
    lua_pop(L, 1);
    lua_pushnil(L);
    return LUA_TNIL;
  }
  i = lua_rawgeti(L, -1, i);
  lua_remove(L, -2);
  return i;
}

/* Pop a value into field 'i' of the keep table, made on first use. */
void wd__state_keep_set(lua_State *L, int i) {
  if (lua_rawgetp(L, LUA_REGISTRYINDEX, &keep_key) != LUA_TTABLE) {
    lua_pop(L, 1);
    lua_createtable(L, 4, 0);
    lua_pushvalue(L, -1);
    lua_rawsetp(L, LUA_REGISTRYINDEX, &keep_key);
  }
  lua_insert(L, -2);
  lua_rawseti(L, -2, i);
  lua_pop(L, 1);
}

typedef struct slot {
  struct slot *prev, *next;
  lua_State *L;
  int spare_ok;     /* dirty: the main thread in it returned cleanly */
  size_t mem;
  entry *e;
  char *actor;      /* sec_actor bytes (may hold a NUL), NUL, sec_scope */
  size_t actorlen;
  const char *scope;
  actor *zombie;    /* dirty: the ended actor, its memory not yet freed */
} slot;

typedef struct slotq {
  slot *head, *tail; /* oldest, newest */
  size_t n;
} slotq;

#define SLOTS_FREE 64

static struct {
  slotq clean, dirty;
  slot *free;        /* unused slots, linked by 'next' */
  int nfree;
  size_t idle; /* the byte count of states in no actor (unused) */
  wd_pool_stats st;
} g_pool;

void wd__state_pool_stats(wd_pool_stats *out) {
  *out = g_pool.st;
  out->clean = g_pool.clean.n;
  out->dirty = g_pool.dirty.n;
}

static void q_push(slotq *q, slot *s) {
  s->next = NULL;
  s->prev = q->tail;
  if (q->tail) q->tail->next = s;
  else q->head = s;
  q->tail = s;
  q->n++;
}

static void q_remove(slotq *q, slot *s) {
  if (s->prev) s->prev->next = s->next;
  else q->head = s->next;
  if (s->next) s->next->prev = s->prev;
  else q->tail = s->prev;
  q->n--;
}

/* The allocator of a state being reset: counts its bytes in *ud. */
static void *pool_alloc(void *ud, void *ptr, size_t osize, size_t nsize) {
  size_t *mem = ud, old = ptr ? osize : 0;
  void *p;
  if (nsize == 0) {
    if (ptr != NULL) blk_free(ptr, old);
    *mem -= old;
    return NULL;
  }
  if ((p = blk_realloc(ptr, old, nsize)) == NULL) return NULL;
  *mem = *mem - old + nsize;
  return p;
}

static int slot_fits(const slot *s, const actor *a) {
  return s->e == a->c.e && s->actorlen == a->c.sec_actorlen &&
         memcmp(s->actor, a->c.sec_actor, s->actorlen) == 0 &&
         strcmp(s->scope, a->c.sec_scope) == 0;
}

static slot *slot_new(void) {
  slot *s = g_pool.free;
  if (s == NULL) return wd_calloc(1, sizeof *s);
  g_pool.free = s->next;
  g_pool.nfree--;
  memset(s, 0, sizeof *s);
  return s;
}

/* Free what the ended actor of 's' still holds (lrun.c, wd__run_reclaim). */
static void slot_reclaim(slot *s) {
  if (s->zombie != NULL) {
    wd__run_reclaim(s->zombie);
    s->zombie = NULL;
  }
}

static void slot_free(slot *s) {
  slot_reclaim(s);
  if (s->L != NULL) {
    lua_setallocf(s->L, pool_alloc, &g_pool.idle);
    lua_close(s->L);
    g_pool.st.closed++;
  }
  wd_free(s->actor);
  if (g_pool.nfree < SLOTS_FREE) {
    s->next = g_pool.free;
    g_pool.free = s;
    g_pool.nfree++;
  } else {
    wd_free(s);
  }
}

static int reset_keeps(lua_State *L, int k) {
  void *p;
  if (lua_type(L, k) == LUA_TNUMBER)
    return lua_isinteger(L, k) && lua_tointeger(L, k) == LUA_RIDX_MAINTHREAD;
  p = lua_touserdata(L, k);
  return lua_type(L, k) == LUA_TLIGHTUSERDATA && p == (void *)&keep_key;
}

static int reset_p(lua_State *L) {
  int spare_ok = lua_toboolean(L, 1);
  lua_sethook(L, NULL, 0, 0);
  lua_pushnil(L);
  while (lua_next(L, LUA_REGISTRYINDEX)) {
    lua_pop(L, 1);
    if (reset_keeps(L, -1)) continue;
    lua_pushvalue(L, -1);
    lua_pushnil(L);
    lua_rawset(L, LUA_REGISTRYINDEX); /* clearing a field during next */
  }
  if (!spare_ok) { /* the old main thread may not serve the next */
    lua_pushnil(L);
    wd__state_keep_set(L, KEEP_MAIN);
  }
  /* The kept chunk's _ENV still holds the old globals: drop it, so that
  ** the collection frees them (the next boot sets the new ones). */
  if (wd__state_keep_get(L, KEEP_CHUNK) == LUA_TFUNCTION) {
    lua_pushnil(L);
    if (lua_setupvalue(L, -2, 1) == NULL) lua_pop(L, 1);
  }
  lua_pop(L, 1);
  lua_newtable(L);
  lua_rawseti(L, LUA_REGISTRYINDEX, LUA_RIDX_GLOBALS);
  return wd__env_setup(L);
}

/* Reset the dirty state of 's' (see the section head). Returns 0, or -1
** when the state was closed instead (s->L is then NULL). */
static int slot_reset(slot *s) {
  lua_State *L = s->L;
  slot_reclaim(s);
  lua_setallocf(L, pool_alloc, &s->mem);
  lua_settop(L, 0);
  lua_pushcfunction(L, reset_p);
  lua_pushboolean(L, s->spare_ok);
  if (lua_pcall(L, 1, 0, 0) == LUA_OK) {
    /* A full collection leaves the collector paused until the heap has
    ** grown by Lua's pause again: the next actor's boot need not restart
    ** it (LUA_GCRESTART would start a cycle at once). */
    lua_gc(L, LUA_GCCOLLECT);
    lua_setallocf(L, pool_alloc, &g_pool.idle);
    if (s->mem <= POOL_STATE_MAX) return 0;
  }
  lua_setallocf(L, pool_alloc, &g_pool.idle);
  lua_close(L);
  s->L = NULL;
  g_pool.st.closed++;
  return -1;
}

/* Reset the oldest dirty state into the pool, where it takes the place
** of the least recently ended one when the pool is full; or close it. */
static void dirty_one(void) {
  slot *s = g_pool.dirty.head;
  q_remove(&g_pool.dirty, s);
  if (slot_reset(s) < 0) {
    slot_free(s);
    return;
  }
  if (g_pool.clean.n >= POOL_MAX) {
    slot *old = g_pool.clean.head;
    q_remove(&g_pool.clean, old);
    slot_free(old);
  }
  q_push(&g_pool.clean, s);
}

/* Bind the reset state of 's' to 'a' and free 's'. */
static lua_State *slot_take(slot *s, actor *a) {
  lua_State *L = s->L;
  a->mem = s->mem;
  lua_setallocf(L, actor_alloc, a);
  *(actor **)lua_getextraspace(L) = a;
  s->L = NULL;
  slot_free(s);
  return L;
}

/* A pooled state for 'a', bound to it, or NULL: a reset one, else one of
** the newest dirty ones, reset now. */
static lua_State *pool_get(actor *a) {
  slot *s;
  int i;
  for (s = g_pool.clean.tail; s != NULL; s = s->prev)
    if (slot_fits(s, a)) {
      q_remove(&g_pool.clean, s);
      if (s->mem > a->mem_limit) {
        slot_free(s);
        return NULL;
      }
      return slot_take(s, a);
    }
  for (s = g_pool.dirty.tail, i = 0; s != NULL && i < DIRTY_SEARCH;
       s = s->prev, i++)
    if (slot_fits(s, a)) {
      q_remove(&g_pool.dirty, s);
      if (slot_reset(s) < 0 || s->mem > a->mem_limit) {
        slot_free(s);
        return NULL;
      }
      return slot_take(s, a);
    }
  return NULL;
}

/* Queue the state of 'a' (its tasks freed) for reset; returns its slot,
** or NULL when the state was closed. 'ended': the actor is being freed,
** so its identity strings can move to the slot. */
static slot *pool_put(actor *a, lua_State *L, int ended) {
  slot *s;
  if (a->mem_failed || a->c.h->stopping || (s = slot_new()) == NULL) {
    lua_close(L);
    g_pool.st.closed++;
    return NULL;
  }
  s->L = L;
  s->spare_ok = a->spare_ok;
  s->mem = a->mem;
  s->e = a->c.e;
  s->actorlen = a->c.sec_actorlen;
  lua_setallocf(L, pool_alloc, &s->mem);
  *(actor **)lua_getextraspace(L) = NULL;
  if (ended) { /* the block of both moves to the slot */
    s->actor = a->c.sec_actor;
    s->scope = a->c.sec_scope;
    a->c.sec_actor = a->c.sec_scope = NULL;
  } else {
    size_t n = a->c.sec_actorlen + 1 + strlen(a->c.sec_scope) + 1;
    if ((s->actor = wd_malloc(n)) == NULL) {
      slot_free(s);
      return NULL;
    }
    memcpy(s->actor, a->c.sec_actor, n);
    s->scope = s->actor + a->c.sec_actorlen + 1;
  }
  q_push(&g_pool.dirty, s);
  return s;
}

/* At most the host's peak of states, live and waiting, plus the slack. */
static void dirty_bound(wd_host *h) {
  while (g_pool.dirty.n > 0 &&
         g_pool.dirty.n + h->nactors > h->peak_actors + DIRTY_SLACK)
    dirty_one();
}

int wd__state_pool_work(uint64_t budget_ns) {
  uint64_t start;
  if (g_pool.dirty.n == 0) return 0;
  start = uv_hrtime();
  while (g_pool.dirty.n > 0) {
    dirty_one();
    if (uv_hrtime() - start > budget_ns) break;
  }
  return g_pool.dirty.n > 0;
}

/* Close the waiting states of the entries e[0..n) (a host's, being
** freed); with none left at all, free the unused slots too. */
void wd__state_pool_drain(entry *const *e, int n) {
  slotq *qs[2] = { &g_pool.dirty, &g_pool.clean };
  slot *s, *next;
  int i;
  for (i = 0; i < 2; i++)
    for (s = qs[i]->head; s != NULL; s = next) {
      int j;
      next = s->next;
      for (j = 0; j < n && s->e != e[j]; j++) {
      }
      if (j < n) {
        q_remove(qs[i], s);
        slot_free(s);
      }
    }
  if (g_pool.dirty.n == 0 && g_pool.clean.n == 0) {
    while ((s = g_pool.free) != NULL) {
      g_pool.free = s->next;
      wd_free(s);
    }
    g_pool.nfree = 0;
  }
}

/* }====== */

/* {====== An actor's state ====== */

/* A state for 'a': from the pool, or new (empty globals with the lazy
** environment, ARCHITECTURE.md §7). The collector of a new state is
** stopped until the actor is booted (wd__env_boot). */
int wd__state_new(actor *a) {
  lua_State *L;
  int r;
  if ((L = pool_get(a)) != NULL) {
    a->L = L;
    g_pool.st.reused++;
    return 0;
  }
  g_pool.st.made++;
  if ((r = wd__env_harvest()) < 0) return r;
  a->mem = 0;
  if ((L = lua_newstate(actor_alloc, a)) == NULL) return WD_ENOMEM;
  a->L = L;
  /* Every thread of the state copies this: any thread finds its actor. */
  *(actor **)lua_getextraspace(L) = a;
  lua_gc(L, LUA_GCSTOP);
  lua_pushcfunction(L, wd__env_setup);
  if (lua_pcall(L, 0, 0, 0) != LUA_OK) {
    lua_close(L);
    a->L = NULL;
    return WD_ENOMEM;
  }
  return 0;
}

/* The end of the state of 'a', whose tasks are freed: to the pool or
** closed. No Lua of 'a' runs afterwards. 'ended': 'a' is being freed. */
void wd__state_release(actor *a, int ended) {
  lua_State *L = a->L;
  wd_host *h = a->c.h;
  a->L = NULL;
  if (L != NULL) pool_put(a, L, ended);
  a->spare_ok = 0;
  dirty_bound(h);
}

/* The end of 'a' itself (runtime/actor.c, wd__actor_free: nothing reaches
** it any more): its state goes as wd__state_release's, and the rest of its memory
** (wd__actor_reclaim) is freed with the state's reset, or now when the
** state is closed. So a cascade of exits frees nothing on its way. */
void wd__state_release_actor(actor *a) {
  lua_State *L = a->L;
  wd_host *h = a->c.h;
  slot *s = NULL;
  a->L = NULL;
  if (L != NULL) s = pool_put(a, L, 1);
  a->spare_ok = 0;
  if (s != NULL)
    s->zombie = a;
  else
    wd__run_reclaim(a);
  dirty_bound(h);
}

/* }====== */
