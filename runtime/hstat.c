/*
** runtime/hstat.c
** What a host tells the broker about itself when asked (STATUS, a
** broker -> host request of the operation table): the processes it runs
** (PID, entry, actor, mailbox depth, and the memory and CPU time its VM
** says they use, through 'wd_vm.stat') and its counters per tenant
** (spawns, messages in and out, decisions its engine made). The counters
** are kept where the events happen (actor.c, hsec.c, the VM's send) and
** are bounded: WD_STATUS_TENANTS label sets per host, the rest in
** "_other". The answer is bounded too: at most the 'max' processes the
** broker asks for (it asks WD_HSTAT_PROCS) and WD_HSTAT_BYTES bytes of
** them, and it says how many there were.
**
** Reply body (the REPLY's string):
**   u32 total, u32 listed,
**   listed * (str pid, str entry, str actor, u64 mailbox, u64 mem,
**             u64 cpu_ns),
**   u32 ntenants * (str id, u64 spawns, u64 msgs_in, u64 msgs_out,
**                   u64 allow, u64 deny)
** Runs in: host (sandboxed).
*/
#include <string.h>

#include "host_int.h"

/* The most bytes of process rows in one answer (below the link's bound
** for a record, WD_LINK_REC_MIN). */
#define WD_HSTAT_BYTES (2u << 20)

/* The tenant of 'a' is its actor id ("<id>" or "<id>\0<meta>"). */
static size_t tenant_of(const wd_actor *a, const char **id) {
  const char *nul;
  *id = a->sec_actor != NULL ? a->sec_actor : "";
  if (a->sec_actor == NULL) return 0;
  nul = memchr(a->sec_actor, '\0', a->sec_actorlen);
  return nul != NULL ? (size_t)(nul - a->sec_actor) : a->sec_actorlen;
}

/* Give 'a' (just spawned) its tenant's slot and count the spawn. A tenant
** id longer than the slot holds is cut (the label is then a prefix). */
void wd__hstat_spawned(wd_actor *a) {
  wd_host *h = a->h;
  const char *id;
  size_t n = tenant_of(a, &id);
  int i;
  if (h->nstat == 0) {
    memcpy(h->stat[0].id, "_other", sizeof "_other");
    h->nstat = 1;
  }
  if (n >= WD_STATUS_ID) n = WD_STATUS_ID - 1;
  a->stat_ix = 0;
  for (i = 1; i < h->nstat; i++)
    if (strncmp(h->stat[i].id, id, n) == 0 && h->stat[i].id[n] == '\0') {
      a->stat_ix = i;
      break;
    }
  if (i == h->nstat && h->nstat < WD_STATUS_TENANTS) {
    memcpy(h->stat[i].id, id, n);
    h->stat[i].id[n] = '\0';
    a->stat_ix = h->nstat++;
  }
  h->stat[a->stat_ix].spawns++;
}

static void put_proc(wd_buf *w, const wd_actor *a) {
  const wd_vm *vm = a->h->vm;
  const char *id;
  size_t n = tenant_of(a, &id);
  uint64_t mem = 0, cpu = 0;
  if (vm->stat != NULL) vm->stat(a, &mem, &cpu);
  wd_buf_put_str(w, a->pid, a->pidlen);
  wd_buf_put_cstr(w, a->e != NULL ? a->e->id : "");
  wd_buf_put_str(w, id, n);
  wd_buf_put_u64(w, a->nqueued);
  wd_buf_put_u64(w, mem);
  wd_buf_put_u64(w, cpu);
}

/* STATUS from the broker: body u32 max. Answers at once. */
int wd__hstat_req(wd_host *h, uint32_t req, uint8_t op, wd_cur *body) {
  wd_buf w;
  uint32_t max, total = 0, listed = 0;
  size_t i;
  int t;
  (void)op;
  if (wd_cur_u32(body, &max) < 0 || wd_cur_left(body) != 0)
    return WD_EBADFRAME;
  wd_buf_init(&w, 0);
  wd_buf_put_u32(&w, 0);
  wd_buf_put_u32(&w, 0);
  for (i = 0; i < HOST_BUCKETS; i++) {
    const wd_actor *a;
    for (a = h->buckets[i]; a != NULL; a = a->hnext) {
      if (a->state != A_ALIVE) continue;
      total++;
      if (listed < max && w.len < WD_HSTAT_BYTES) {
        put_proc(&w, a);
        listed++;
      }
    }
  }
  wd_buf_put_u32(&w, (uint32_t)h->nstat);
  for (t = 0; t < h->nstat; t++) {
    const wd_hstat *s = &h->stat[t];
    wd_buf_put_cstr(&w, s->id);
    wd_buf_put_u64(&w, s->spawns);
    wd_buf_put_u64(&w, s->msgs_in);
    wd_buf_put_u64(&w, s->msgs_out);
    wd_buf_put_u64(&w, s->allow);
    wd_buf_put_u64(&w, s->deny);
  }
  if (w.err) {
    wd_buf_close(&w);
    wd__host_reply(h, req, WD_ENOMEM, "out of memory", 13);
    return 0;
  }
  /* The counts go in front, now that they are known. */
  wd_buf_patch_u32(&w, 0, total);
  wd_buf_patch_u32(&w, 4, listed);
  wd__host_reply(h, req, 0, (const char *)w.p, w.len);
  wd_buf_close(&w);
  return 0;
}
