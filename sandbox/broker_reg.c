/*
** sandbox/broker_reg.c
** The broker's name registry: names are global across hosts, held by one
** PID each, released when their process exits or its host dies; a named
** spawn reserves its name until the child exists. Registry requests are
** re-checked against the caller's scope, and a name resolves for a caller
** only if it may look it up (process.registry.lookup): to any other
** caller it is a name nobody holds, whatever the call.
** Runs in: broker.
*/
#include <string.h>

#include "broker_int.h"
#include "ward/wd_pid.h"
#include "ward/wd_policy.h"
#include "ward/wd_proto.h"

#define get_str wd_cur_str

/* {====== The tables ======
** Names by name, and held names by owner (host slot and PID counter):
** two hash tables of the same size, grown together as names come, so a
** lookup costs a short chain whatever other tenants hold, and a
** process's end costs what it held. A host's names are also on its own
** list (its death, its quota). A reservation is in the first table only. */

static uint32_t hash_str(const char *s, size_t n) {
  uint32_t h = 2166136261u;
  size_t i;
  for (i = 0; i < n; i++)
    h = (h ^ (uint8_t)s[i]) * 16777619u;
  return h;
}

static uint32_t hash_owner(int slot, uint64_t counter) {
  uint64_t k = (counter ^ ((uint64_t)(uint32_t)slot << 40)) *
               0x9e3779b97f4a7c15ull;
  return (uint32_t)(k >> 32);
}

static void owner_link(wd_broker *b, name *x) {
  name **head = &b->owners[x->oh & b->nmask];
  hslot *s = &b->hosts[x->slot];
  x->onext = *head;
  if (*head != NULL) (*head)->oprev = &x->onext;
  x->oprev = head;
  *head = x;
  x->snext = s->names;
  if (s->names != NULL) s->names->sprev = &x->snext;
  x->sprev = &s->names;
  s->names = x;
  s->nnames++;
}

static void owner_unlink(wd_broker *b, name *x) {
  if (x->oprev == NULL) return; /* a reservation */
  *x->oprev = x->onext;
  if (x->onext != NULL) x->onext->oprev = x->oprev;
  *x->sprev = x->snext;
  if (x->snext != NULL) x->snext->sprev = x->sprev;
  x->oprev = x->sprev = NULL;
  b->hosts[x->slot].nnames--;
}

/* Room for one more name: double both tables past one name a bucket. */
static int grow(wd_broker *b) {
  size_t cap = b->names != NULL ? (b->nmask + 1) * 2 : 1024, i;
  name **nt, **ot;
  if (b->names != NULL && b->nnames < b->nmask + 1) return 0;
  nt = wd_calloc(cap, sizeof *nt);
  ot = wd_calloc(cap, sizeof *ot);
  if (nt == NULL || ot == NULL) {
    wd_free(nt);
    wd_free(ot);
    return b->names != NULL ? 0 : WD_ENOMEM; /* longer chains, still right */
  }
  for (i = 0; b->names != NULL && i <= b->nmask; i++) {
    name *x, *next;
    for (x = b->names[i]; x != NULL; x = next) {
      next = x->next;
      x->next = nt[x->h & (cap - 1)];
      nt[x->h & (cap - 1)] = x;
    }
    for (x = b->owners[i]; x != NULL; x = next) {
      name **head = &ot[x->oh & (cap - 1)];
      next = x->onext;
      x->onext = *head;
      if (*head != NULL) (*head)->oprev = &x->onext;
      x->oprev = head;
      *head = x;
    }
  }
  wd_free(b->names);
  wd_free(b->owners);
  b->names = nt;
  b->owners = ot;
  b->nmask = cap - 1;
  return 0;
}

static name **name_find(wd_broker *b, const char *nm, size_t n) {
  static name *none;
  name **pp;
  uint32_t h = hash_str(nm, n);
  none = NULL;
  if (b->names == NULL) return &none;
  pp = &b->names[h & b->nmask];
  while (*pp != NULL && ((*pp)->h != h || strlen((*pp)->name) != n ||
                         memcmp((*pp)->name, nm, n) != 0))
    pp = &(*pp)->next;
  return pp;
}

static void name_free(name *x) {
  wd_free(x->name);
  wd_free(x->pid);
  wd_free(x);
}

/* Take 'x' out of every table and free it. */
void wd__brk_name_drop(wd_broker *b, name *x) {
  name **pp = &b->names[x->h & b->nmask];
  while (*pp != x) pp = &(*pp)->next;
  *pp = x->next;
  owner_unlink(b, x);
  b->nnames--;
  wd__brk_unname(b, x);
  name_free(x);
}

/* Release every name held by (slot, counter), or by any process of the
** slot when 'all' is set (slot -1 and 'all': every name, reservations
** too, as the broker ends). */
void wd__brk_names_release(wd_broker *b, int slot, uint64_t counter, int all) {
  name *x;
  uint32_t oh;
  if (b->names == NULL) return;
  /* A drop tells the hosts that looked the name up (UNNAME), and a write
  ** to a host whose link has failed takes that host down at once, which
  ** releases its names too: so after each drop the walk starts again
  ** from the head, never from a pointer it kept. */
  if (all) {
    while ((x = b->hosts[slot].names) != NULL) wd__brk_name_drop(b, x);
    return;
  }
  oh = hash_owner(slot, counter);
again:
  for (x = b->owners[oh & b->nmask]; x != NULL; x = x->onext)
    if (x->slot == slot && x->counter == counter) {
      wd__brk_name_drop(b, x);
      goto again;
    }
}

void wd__brk_names_free(wd_broker *b) {
  size_t i;
  for (i = 0; b->names != NULL && i <= b->nmask; i++)
    while (b->names[i] != NULL) wd__brk_name_drop(b, b->names[i]);
  wd_free(b->names);
  wd_free(b->owners);
  b->names = b->owners = NULL;
  b->nnames = 0;
}

/* The name registry entry of 'nm' (NULL: none). A reservation by a named
** spawn in flight has an empty PID. */
name *wd__brk_name_get(wd_broker *b, const char *nm, size_t n) {
  return *name_find(b, nm, n);
}

/* Add 'nm' for 'pid' (slot, counter), or as a reservation (pid "", slot
** -1). */
int wd__brk_name_put(wd_broker *b, const char *nm, size_t nl, const char *pid,
                     size_t pl, int slot, uint64_t counter) {
  name *x;
  if (grow(b) < 0 || (x = wd_calloc(1, sizeof *x)) == NULL) return WD_ENOMEM;
  if ((x->name = wd_strndup(nm, nl)) == NULL ||
      (x->pid = wd_strndup(pid, pl)) == NULL) {
    name_free(x);
    return WD_ENOMEM;
  }
  x->h = hash_str(nm, nl);
  x->slot = slot;
  x->counter = counter;
  x->next = b->names[x->h & b->nmask];
  b->names[x->h & b->nmask] = x;
  b->nnames++;
  if (slot >= 0) {
    x->oh = hash_owner(slot, counter);
    owner_link(b, x);
  }
  return 0;
}

/* A named spawn finished: the reservation of 'nm' becomes the child's
** name ('pid'), or goes away (NULL: the spawn failed or signalled). */
void wd__brk_name_settle(wd_broker *b, const char *nm, const char *pid,
                         size_t pl, int slot) {
  name *x = *name_find(b, nm, strlen(nm));
  const char *hid;
  size_t hl;
  uint64_t counter;
  char *copy;
  if (x == NULL || x->pid[0] != '\0') return;
  if (pid == NULL || wd_pid_parse(pid, pl, &hid, &hl, &counter) < 0 ||
      (copy = wd_strndup(pid, pl)) == NULL) {
    wd__brk_name_drop(b, x);
    return;
  }
  wd_free(x->pid);
  x->pid = copy;
  x->slot = slot;
  x->counter = counter;
  x->oh = hash_owner(slot, counter);
  owner_link(b, x);
}

/* May host 's' hold one more name (host.max_names)? */
int wd__brk_name_room(const hslot *s) {
  int64_t max = s->he->u.host.limits.max_names;
  return max <= 0 || s->nnames < (size_t)max;
}

/* }====== */

/* May the caller 'pid' (of host 's') look the name 'nm' up? A quiet
** check: decided and logged like any other (wd__brk_sec_check), but a
** denial answers nothing, so that the caller can be answered as if the
** name were free. It never depends on whether the name is held: decide
** it before reading the registry. 1: yes; 0: no; -1: the decision could
** not be logged, and the request was answered Unavailable. */
int wd__brk_may_lookup(hslot *s, uint32_t req, const char *pid, size_t pl,
                       const char *nm, size_t nl) {
  char why[300];
  int r = wd__brk_sec_check(s, s->cur, pid, pl, wd_ops_name(WD_ACT_LOOKUP), nm,
                            nl, NULL, NULL, why, sizeof why);
  if (r == WD_EUNAVAIL) {
    wd__brk_reply(s, req, WD_EUNAVAIL, "process.registry.lookup: %s", why);
    return -1;
  }
  return r == WD_POLICY_ALLOW;
}

/* Resolve a destination for the caller 'pid' of host 's': a PID as is,
** or a registered name's PID if the caller may look the name up. NULL:
** no such name, or one it may not look up (the same answer, so no call
** by name is an oracle), or *answered is set: the request was answered
** (Unavailable). */
const char *wd__brk_resolve(hslot *s, uint32_t req, const char *pid, size_t pl,
                            const char *dest, size_t *dl, int *answered) {
  const char *hid;
  size_t hl;
  uint64_t counter;
  name *x;
  int may;
  *answered = 0;
  if (wd_pid_parse(dest, *dl, &hid, &hl, &counter) == 0) return dest;
  may = wd__brk_may_lookup(s, req, pid, pl, dest, *dl);
  if (may < 0) *answered = 1;
  if (may <= 0) return NULL;
  x = wd__brk_name_get(s->b, dest, *dl);
  if (x == NULL || x->pid[0] == '\0') return NULL;
  *dl = strlen(x->pid);
  return x->pid;
}

/* Is 'pid' the caller's own PID ('cc' on host 's')? */
static int is_caller(hslot *s, const char *pid, size_t pl, uint64_t cc) {
  uint64_t counter;
  return wd__brk_owns(s, pid, pl, &counter) && counter == cc;
}


int wd__brk_req_registry(hslot *s, uint32_t req, uint8_t op, wd_cur *c) {
  wd_broker *b = s->b;
  const char *nm, *pid;
  size_t nl, pl;
  uint64_t counter;
  name **pp;
  const char *caller;
  size_t cl;
  uint64_t cc;
  if (get_str(c, &nm, &nl)) return WD_EBADFRAME;
  if (op == WD_OP_REG && get_str(c, &pid, &pl)) return WD_EBADFRAME;
  /* The caller's PID: the policy's 'pid' attribute, as in the host. */
  if (get_str(c, &caller, &cl)) return WD_EBADFRAME;
  if (wd__brk_own_pid(s, caller, cl, &cc,
                      "registry request from a PID not of this host") < 0)
    return WD_EBADFRAME;
  if (nl == 0 || nl > 255 || memchr(nm, '\0', nl) != NULL) {
    wd__brk_reply(s, req, WD_EINVAL, "invalid name");
    return 0;
  }
  pp = name_find(b, nm, nl);
  switch (op) {
    case WD_OP_REG:
      if (wd__brk_allow(s, req, caller, cl, wd_ops_name(WD_ACT_REGISTER), nm,
                        nl, NULL, NULL))
        return 0;
      /* A name for another process: process.registry.foreign on it. */
      if (!is_caller(s, pid, pl, cc)) {
        char th[300];
        const char *hid;
        size_t hl;
        const char *tp = NULL;
        if (wd_pid_parse(pid, pl, &hid, &hl, &counter) == 0 && hl < sizeof th) {
          memcpy(th, hid, hl);
          th[hl] = '\0';
          tp = th;
        }
        if (wd__brk_allow(s, req, caller, cl, wd_ops_name(WD_ACT_FOREIGN), pid,
                          pl, tp, NULL))
          return 0;
      }
      if (!wd__brk_owns(s, pid, pl, &counter)) {
        wd__brk_reply(s, req, WD_EDENIED,
                      "cannot register a process of another "
                      "host");
        return 0;
      }
      if (*pp != NULL) {
        if (strlen((*pp)->pid) == pl && memcmp((*pp)->pid, pid, pl) == 0)
          wd__brk_reply(s, req, 0, "%s", "");
        else
          wd__brk_reply(s, req, WD_EEXIST, "name already registered: %.*s",
                        (int)nl, nm);
        return 0;
      }
      if (!wd__brk_name_room(s)) {
        wd__brk_reply(s, req, WD_ELIMIT, "name quota of host %s reached "
                      "(host.max_names)", s->id);
        return 0;
      }
      if (wd__brk_name_put(b, nm, nl, pid, pl, (int)(s - b->hosts),
                           counter) < 0) {
        wd__brk_reply(s, req, WD_ENOMEM, "out of memory");
        return 0;
      }
      wd__brk_reply(s, req, 0, "%s", "");
      return 0;
    case WD_OP_UNREG:
      if (wd__brk_allow(s, req, caller, cl, wd_ops_name(WD_ACT_UNREGISTER), nm,
                        nl, NULL, NULL))
        return 0;
      if (*pp == NULL || (*pp)->pid[0] == '\0') {
        wd__brk_reply(s, req, 0, "0");
        return 0;
      }
      if ((*pp)->slot != (int)(s - b->hosts)) {
        wd__brk_reply(s, req, WD_EDENIED,
                      "name belongs to a process of another "
                      "host: %.*s",
                      (int)nl, nm);
        return 0;
      }
      wd__brk_name_drop(b, *pp);
      wd__brk_reply(s, req, 0, "1");
      return 0;
    default:
      /* The lookup itself is the permission asked: PermissionDenied,
      ** decided before the registry is read (held or not, the same). */
      if (wd__brk_allow(s, req, caller, cl, wd_ops_name(WD_ACT_LOOKUP), nm, nl,
                        NULL, NULL))
        return 0;
      if (*pp == NULL || (*pp)->pid[0] == '\0')
        wd__brk_reply(s, req, WD_ENOTFOUND, "name not registered");
      else {
        /* Its host may keep it now: it hears of the release (UNNAME). */
        int i = (int)(s - b->hosts);
        (*pp)->cached |= 1ull << (i < 63 ? i : 63);
        wd__brk_reply(s, req, 0, "%s", (*pp)->pid);
      }
      return 0;
  }
}
