/*
** sandbox/broker_gw_deploy.c
** A deploy (PUT /v1/apps/{namespace}), broker side. The gateway read the
** tar and sent its files (gateway_deploy.c); here every path is checked
** again, the files are written as a new revision under --deploy-dir
** (DIR/NAMESPACE/REVISION/, never the app directory), and the whole app
** is loaded as it would be with that revision: the manifest, every
** policy (and every name a security block gives), what the revision may
** reach (nothing outside its namespace: broker_dep_scope.c), and every
** Lua source of the namespace compiled. The broker has no Lua, and the
** sources are the tenant's: they are compiled by 'ward compile', a child
** that the broker starts like a host (a fresh exec, so nothing of the
** broker's memory, its keys included, is in it) and that confines itself
** with the host's seccomp allow-list before it reads a byte. Only when
** all of it passes does anything change: the policies are swapped as by
** a reload, the broker's manifest becomes the new one, hosts drop the
** entries the deploy replaced (REVISE; new spawns get the new revision as
** ENTRY on first use, running processes keep their code), and the
** namespace's services restart (CANCEL with their stop timeout, then a
** start with the new code). On any error the revision's directory is
** removed and nothing changed; the answer lists every error.
** Runs in: broker.
*/
#include <dirent.h>
#include <fcntl.h>
#include <ftw.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "broker_int.h"
#include "deploy_int.h"
#include "fork_int.h"
#include "gateway.h"
#include "ward/wd_confine.h"
#include "ward/wd_pid.h"
#include "ward/wd_proto.h"
#include "ward/wd_wire.h"

/* The longest 'ward compile' may take for one deploy. */
#define COMPILE_MS      10000
#define COMPILE_OUT_MAX (1u << 20)
/* On disk, the revisions of a namespace kept before its current one (a
** restart and a reload read only the current one; these are for the
** operator: what ran before, to look at or deploy again). */
#define KEEP_EARLIER 2

/* {====== The revision on disk ====== */

static int ns_ok(const char *ns) {
  size_t i, n = strlen(ns);
  if (n == 0 || n > 64) return 0;
  for (i = 0; i < n; i++)
    if (!((ns[i] >= 'a' && ns[i] <= 'z') || (ns[i] >= 'A' && ns[i] <= 'Z') ||
          (ns[i] >= '0' && ns[i] <= '9') || strchr("_.-", ns[i]) != NULL))
      return 0;
  return ns[0] != '.';
}

/* mkdir that is content when the directory is there already. */
static int mkdir_ok(const char *p) {
  return mkdir(p, 0700) == 0 || errno == EEXIST ? 0 : -errno;
}

/* The next revision of 'ns': one more than any under DIR/NS. */
static uint64_t next_rev(const char *nsdir) {
  DIR *d = opendir(nsdir);
  struct dirent *de;
  uint64_t max = 0;
  if (d == NULL) return 1;
  while ((de = readdir(d)) != NULL) {
    char *end;
    unsigned long long v = strtoull(de->d_name, &end, 10);
    if (*end == '\0' && de->d_name[0] != '\0' && v > max) max = v;
  }
  closedir(d);
  return max + 1;
}

static int rm_one(const char *p, const struct stat *st, int flag,
                  struct FTW *f) {
  (void)st, (void)f;
  return flag == FTW_DP ? rmdir(p) : unlink(p);
}

static void rm_tree(const char *dir) {
  (void)nftw(dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

/* Write file 'path' (checked) with 'n' bytes below the new directory
** 'root' (made by us, mode 0700: nothing in it but what we write). */
static int put_file(int dfd, const char *path, size_t pl, const char *p,
                    size_t n) {
  char rel[WD_DEPLOY_MAX_PATH + 1];
  size_t i;
  ssize_t w;
  int fd;
  memcpy(rel, path, pl);
  rel[pl] = '\0';
  for (i = 0; i < pl; i++)
    if (rel[i] == '/') {
      rel[i] = '\0';
      if (mkdirat(dfd, rel, 0700) != 0 && errno != EEXIST) return -errno;
      rel[i] = '/';
    }
  fd = openat(dfd, rel, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
              0600);
  if (fd < 0) return -errno;
  while (n > 0) {
    do
      w = write(fd, p, n);
    while (w < 0 && errno == EINTR);
    if (w <= 0) {
      close(fd);
      return w < 0 ? -errno : WD_EUNAVAIL;
    }
    p += w;
    n -= (size_t)w;
  }
  return close(fd) == 0 ? 0 : -errno;
}

/* Check the files of the record (u32 n, n * (str path, str content)) and
** write them under 'revdir'. Every bad path is an error of 'errs'. */
static int write_rev(const char *revdir, const uint8_t *files, size_t n,
                     wd_buf *errs) {
  wd_cur c;
  uint32_t nf, i, j;
  const char *paths[WD_DEPLOY_MAX_FILES];
  size_t pls[WD_DEPLOY_MAX_FILES];
  int dfd, r = 0, index = 0;
  wd_cur_init(&c, files, n);
  if (wd_cur_u32(&c, &nf) < 0 || nf == 0 || nf > WD_DEPLOY_MAX_FILES) {
    wd__dep_errf(errs, "the archive holds no file, or too many");
    return WD_EINVAL;
  }
  if ((dfd = open(revdir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0) {
    wd__dep_errf(errs, "%s: %s", revdir, strerror(errno));
    return WD_EUNAVAIL;
  }
  for (i = 0; i < nf && r == 0; i++) {
    const char *p, *data;
    size_t dl;
    if (wd_cur_str(&c, &paths[i], &pls[i]) < 0 ||
        wd_cur_str(&c, &data, &dl) < 0) {
      r = WD_EBADFRAME;
      break;
    }
    p = paths[i];
    if (!wd__gw_path_ok(p, pls[i]) || memchr(p, '\0', pls[i]) != NULL) {
      r = WD_EBADFRAME; /* the gateway checked it: it lies */
      break;
    }
    for (j = 0; j < i; j++)
      if (pls[j] == pls[i] && memcmp(paths[j], p, pls[i]) == 0) break;
    if (j < i) {
      wd__dep_errf(errs, "%.*s: twice in the archive", (int)pls[i], p);
      r = WD_EINVAL;
      break;
    }
    if (pls[i] == 11 && memcmp(p, "_index.yaml", 11) == 0) {
      index = 1;
    } else if ((pls[i] > 11 &&
                memcmp(p + pls[i] - 12, "/_index.yaml", 12) == 0)) {
      wd__dep_errf(errs, "%.*s: a namespace has one _index.yaml, at the top",
                   (int)pls[i], p);
      r = WD_EINVAL;
      break;
    }
    if ((r = put_file(dfd, p, pls[i], data, dl)) < 0) {
      wd__dep_errf(errs, "%s/%.*s: %s", revdir, (int)pls[i], p, strerror(-r));
      r = WD_EUNAVAIL;
    }
  }
  close(dfd);
  if (r == 0 && wd_cur_left(&c) != 0) r = WD_EBADFRAME;
  if (r == WD_EBADFRAME) wd__dep_errf(errs, "a malformed list of files");
  if (r == 0 && !index) {
    wd__dep_errf(errs, "_index.yaml: the archive has none at its top");
    r = WD_EINVAL;
  }
  return r == WD_EBADFRAME ? WD_EINVAL : r;
}

/* }====== */

/* {====== Compiling the sources: 'ward compile' ====== */

/* Write all of 'p' to 'fd' (blocking). */
static int write_all(int fd, const uint8_t *p, size_t n) {
  while (n > 0) {
    ssize_t w = send(fd, p, n, MSG_NOSIGNAL);
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) return -1;
    p += w;
    n -= (size_t)w;
  }
  return 0;
}

/*
** Compile every process.lua and library.lua source of namespace 'ns' of
** 'm' in a confined child; each syntax error goes to 'errs' as Lua says
** it ("FILE:LINE: message": Lua's parser gives no column). Returns 0 (the
** sources compile), WD_EINVAL, or WD_EUNAVAIL (the child failed).
*/
static int compile_all(wd_broker *b, const wd_manifest *m, const char *ns,
                       wd_buf *errs) {
  wd_buf req, out;
  wd_sbx_params sp;
  uint8_t params[WD_SBX_PARAMS_LEN];
  const wd_entry *which[4096];
  uint32_t n = 0, i;
  int sv[2], r = 0, st;
  pid_t pid;
  uint64_t t0;
  wd_cur c;
  static char *env[] = { NULL };
  wd_buf_init(&req, 0);
  wd_buf_put_u32(&req, 0);
  for (i = 0; i < m->nentries && n < WD_COUNTOF(which); i++) {
    const wd_entry *e = m->entries[i];
    char chunk[1100];
    if ((e->kind != WD_KIND_LUA && e->kind != WD_KIND_LIBRARY) ||
        strcmp(e->ns, ns) != 0 || e->u.lua.source == NULL)
      continue;
    snprintf(chunk, sizeof chunk, "@%s",
             e->u.lua.source_path ? e->u.lua.source_path : e->id);
    wd_buf_put_cstr(&req, chunk);
    wd_buf_put_str(&req, e->u.lua.source, e->u.lua.source_len);
    which[n++] = e;
  }
  if (n == 0 || req.err) {
    wd_buf_close(&req);
    return req.err ? WD_ENOMEM : 0;
  }
  wd_buf_patch_u32(&req, 0, n);
  memset(&sp, 0, sizeof sp);
  sp.address_space = 1ull << 30;
  if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0) {
    wd_buf_close(&req);
    wd__dep_errf(errs, "cannot compile the sources: %s", strerror(errno));
    return WD_EUNAVAIL;
  }
  fflush(stdout);
  fflush(stderr);
  pid = wd__fork_host(&sp.pidns_err);
  if (pid == 0) {
    char *argv[3];
    int hi;
    argv[0] = (char *)"ward";
    argv[1] = (char *)"compile";
    argv[2] = NULL;
    if (prctl(PR_SET_PDEATHSIG, SIGKILL) != 0) _exit(127);
    if ((hi = fcntl(sv[1], F_DUPFD, 64)) < 0 || dup2(hi, 3) != 3) _exit(127);
    execve(b->o.exe, argv, env);
    _exit(127);
  }
  close(sv[1]);
  if (pid < 0) {
    close(sv[0]);
    wd_buf_close(&req);
    wd__dep_errf(errs, "cannot compile the sources: fork failed");
    return WD_EUNAVAIL;
  }
  wd_sbx_params_put(params, &sp);
  wd_buf_init(&out, COMPILE_OUT_MAX);
  if (write_all(sv[0], params, sizeof params) < 0 ||
      write_all(sv[0], req.p, req.len) < 0)
    r = WD_EUNAVAIL;
  shutdown(sv[0], SHUT_WR);
  wd_buf_close(&req);
  /* Its answer, within the deadline. XXX: the broker's loop waits for it
  ** (a few ms for a few sources; at most COMPILE_MS). */
  t0 = uv_hrtime() / 1000000u;
  while (r == 0) {
    struct pollfd pf = { sv[0], POLLIN, 0 };
    uint8_t buf[65536];
    ssize_t k;
    uint64_t now = uv_hrtime() / 1000000u;
    if (now - t0 >= COMPILE_MS) {
      r = WD_ETIMEOUT;
      break;
    }
    if (poll(&pf, 1, (int)(COMPILE_MS - (now - t0))) <= 0) continue;
    k = recv(sv[0], buf, sizeof buf, 0);
    if (k < 0 && errno == EINTR) continue;
    if (k <= 0) break;
    wd_buf_put(&out, buf, (size_t)k);
    if (out.err) r = WD_ETOOBIG;
  }
  close(sv[0]);
  kill(pid, SIGKILL);
  while (waitpid(pid, &st, 0) < 0 && errno == EINTR) {
  }
  /* u32 n, n * str message ("" when it compiled). */
  wd_cur_init(&c, out.p, out.len);
  if (r == 0) {
    uint32_t k;
    if (wd_cur_u32(&c, &k) < 0 || k != n) r = WD_EUNAVAIL;
    for (i = 0; r == 0 && i < n; i++) {
      const char *s;
      size_t sl;
      if (wd_cur_str(&c, &s, &sl) < 0) {
        r = WD_EUNAVAIL;
      } else if (sl > 0) {
        wd__dep_errf(errs, "%.*s", (int)(sl > 900 ? 900 : sl), s);
        r = WD_EINVAL;
      }
    }
    /* Every error, not only the first: go on after one. */
    if (r == WD_EINVAL) {
      for (; i < n; i++) {
        const char *s;
        size_t sl;
        if (wd_cur_str(&c, &s, &sl) < 0) break;
        if (sl > 0) wd__dep_errf(errs, "%.*s", (int)(sl > 900 ? 900 : sl), s);
      }
    }
  }
  wd_buf_close(&out);
  if (r != 0 && r != WD_EINVAL) {
    wd__dep_errf(errs, "the sources could not be compiled (ward compile %s)",
                 r == WD_ETIMEOUT ? "timed out" : "failed");
    r = WD_EUNAVAIL;
  }
  return r;
}

/* }====== */

/* {====== Checks of the whole app ====== */

/* The hosts are the broker's: a deploy may not add, drop or change one
** (that takes a restart). Compared as the nodes the manifest read. */
static void check_hosts(wd_broker *b, const wd_manifest *m, wd_buf *errs) {
  size_t i, nh = 0;
  int k;
  for (i = 0; i < m->nentries; i++) {
    const wd_entry *e = m->entries[i];
    const wd_entry *old;
    wd_buf x, y;
    if (e->kind != WD_KIND_HOST) continue;
    nh++;
    old = wd_manifest_find(b->m, e->id);
    if (old == NULL || old->kind != WD_KIND_HOST) {
      wd__dep_errf(errs,
                   "%s:%d:%d: host %s is new: hosts change only with "
                   "a restart",
                   e->node->file, e->node->line, e->node->col, e->id);
      continue;
    }
    wd_buf_init(&x, 0);
    wd_buf_init(&y, 0);
    wd_wire_put_node(&x, e->node);
    wd_wire_put_node(&y, old->node);
    if (x.len != y.len || memcmp(x.p, y.p, x.len) != 0)
      wd__dep_errf(errs,
                   "%s:%d:%d: host %s changed: hosts change only with "
                   "a restart",
                   e->node->file, e->node->line, e->node->col, e->id);
    wd_buf_close(&x);
    wd_buf_close(&y);
  }
  for (k = 0; k < b->nhosts; k++)
    if (wd_manifest_find(m, b->hosts[k].id) == NULL)
      wd__dep_errf(errs, "host %s is gone: hosts change only with a restart",
                   b->hosts[k].id);
  (void)nh;
}

/* The _index.yaml of the revision must be namespace 'ns'. */
static void check_ns(const wd_manifest *m, const char *index, const char *ns,
                     wd_buf *errs) {
  size_t i;
  for (i = 0; i < m->ndocs; i++) {
    const wd_node *top = m->docs[i]->root, *v;
    if (strcmp(m->docs[i]->file, index) != 0 || top == NULL) continue;
    v = wd_node_get(top, "namespace");
    if (v != NULL && wd_node_str(v) != NULL && strcmp(v->str, ns) != 0)
      wd__dep_errf(errs, "%s:%d:%d: namespace '%s' in a deploy of '%s'",
                   v->file, v->line, v->col, v->str, ns);
  }
}

/* }====== */

/* {====== Installing the new revision ====== */

/* Was entry id 'id' changed by the deploy of 'ns'? Its own entries, and
** any entry that imports a changed one (its host must get the import's
** new revision with it). */
static int changed(const wd_manifest *m, const char *ns, const wd_entry *e,
                   int depth) {
  size_t j;
  if (strcmp(e->ns, ns) == 0) return 1;
  if (depth > 16 || (e->kind != WD_KIND_LUA && e->kind != WD_KIND_LIBRARY))
    return 0;
  for (j = 0; j < e->u.lua.nimports; j++) {
    const wd_entry *x = e->u.lua.imports[j].entry;
    if (x != NULL && changed(m, ns, x, depth + 1)) return 1;
  }
  return 0;
}

/* The broker's code becomes 'm': the shipped table again (unchanged
** entries keep what hosts hold), REVISE to every host that is up. */
static int swap_code(wd_broker *b, wd_manifest *m, const char *ns) {
  const wd_manifest *old = b->m;
  unsigned char *sh;
  size_t i;
  int k;
  sh = wd_calloc(
      (size_t)(b->nhosts ? b->nhosts : 1) * (m->nentries ? m->nentries : 1), 1);
  if (sh == NULL) return WD_ENOMEM;
  for (k = 0; k < b->nhosts; k++)
    for (i = 0; i < m->nentries; i++) {
      const wd_entry *e = m->entries[i], *o;
      if (changed(m, ns, e, 0) || (o = wd_manifest_find(old, e->id)) == NULL)
        continue;
      sh[(size_t)k * m->nentries + i] =
          b->shipped[(size_t)k * old->nentries + o->index];
    }
  for (k = 0; k < b->nhosts; k++) {
    hslot *h = &b->hosts[k];
    size_t st, pos;
    uint32_t n = 0;
    wd_buf *w;
    if (!h->up || h->link == NULL) continue;
    w = wd__brk_rec(h, WD_R_REVISE, &st);
    pos = w->len;
    wd_buf_put_u32(w, 0);
    for (i = 0; i < old->nentries; i++)
      if (changed(old, ns, old->entries[i], 0) &&
          b->shipped[(size_t)k * old->nentries + i]) {
        wd_buf_put_cstr(w, old->entries[i]->id);
        n++;
      }
    for (i = 0; i < m->nentries; i++)
      if (changed(m, ns, m->entries[i], 0) &&
          wd_manifest_find(old, m->entries[i]->id) == NULL) {
        wd_buf_put_cstr(w, m->entries[i]->id);
        n++;
      }
    wd_buf_patch_u32(w, pos, n);
    wd__brk_rec_done(h, st);
  }
  wd_free(b->shipped);
  b->shipped = sh;
  b->m = m;
  return 0;
}

static uint64_t unix_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* Services: each points at its entry in 'm'; the namespace's own restart
** (a running one gets CANCEL with its stop timeout and starts again with
** the new code when it has ended, wd__brk_svc_exited), new ones join. */
static void swap_services(wd_broker *b, const wd_manifest *m, const char *ns) {
  size_t i;
  int k, n0 = b->nsvcs;
  if (b->svcs == NULL) return; /* not started: they start from 'm' */
  for (k = 0; k < n0; k++) {
    svc *v = &b->svcs[k];
    const wd_entry *e = wd_manifest_find(m, v->e->id);
    root *r;
    int mine = strcmp(v->e->ns, ns) == 0;
    if (e != NULL && e->kind == WD_KIND_SERVICE)
      v->e = e;
    else
      v->given_up = 1; /* gone from the app: it stops for good */
    if (!mine) continue;
    v->attempts = 0;
    for (r = b->roots; r != NULL; r = r->next)
      if (r->svc == k + 1) break;
    if (r != NULL && b->hosts[r->slot].up) {
      hslot *t = &b->hosts[r->slot];
      char pid[WD_PID_MAX];
      size_t st;
      wd_buf *w;
      fwd *f = wd__brk_fwd_new(b, FWD_NOBODY, 0, r->slot);
      if (f == NULL) continue;
      f->op = WD_OP_CANCEL;
      f->quiet = 1;
      wd_pid_format(pid, sizeof pid, t->id, t->idlen, r->counter);
      v->redeploy = !v->given_up;
      w = wd__brk_rec(t, WD_R_REQ, &st);
      wd_buf_put_u32(w, f->breq);
      wd_buf_put_u8(w, WD_OP_CANCEL);
      wd_buf_put_str(w, "", 0);
      wd_buf_put_cstr(w, pid);
      wd_buf_put_u64(w, unix_ns() + (uint64_t)v->e->u.svc.stop_timeout_ns);
      wd__brk_rec_done(t, st);
    } else if (!v->given_up && !v->running && v->e->u.svc.auto_start) {
      v->given_up = 0;
      wd__brk_svc_restart(b, k);
    }
  }
  for (i = 0; i < m->nentries; i++) {
    const wd_entry *e = m->entries[i];
    svc *nv;
    for (k = 0; k < b->nsvcs; k++)
      if (strcmp(b->svcs[k].e->id, e->id) == 0) break;
    if (e->kind != WD_KIND_SERVICE || k < b->nsvcs) continue;
    nv = wd_realloc(b->svcs, (size_t)(b->nsvcs + 1) * sizeof *nv);
    if (nv == NULL) return;
    b->svcs = nv;
    memset(&b->svcs[b->nsvcs], 0, sizeof *nv);
    b->svcs[b->nsvcs].e = e;
    b->nsvcs++;
    if (e->u.svc.auto_start) wd__brk_svc_restart(b, b->nsvcs - 1);
  }
}

/* }====== */

/* {====== What the broker keeps ====== */

/* A service the app no longer has, once nothing runs of it: the entry it
** pointed at went with its revision. swap_services finds no entry of its
** id and leaves it given up; svc_start never starts it again. */
static const wd_entry gone_svc = { .id = "",
                                   .ns = "",
                                   .name = "",
                                   .kind = WD_KIND_SERVICE,
                                   .kind_name = "process.service" };

static int holds(const wd_manifest *m, const wd_entry *e) {
  return e != NULL && e->id != NULL && e->id[0] != '\0' &&
         wd_manifest_find(m, e->id) == e;
}

/*
** Free the manifests of earlier deploys that nothing uses. The broker
** ships code only from its manifest ('b->m'); its policies come from
** 'b->pm' (the same one after a deploy). Processes in the hosts hold
** their own copy of their code. What else points into an earlier
** manifest is a service of it: one that still runs (a deploy CANCELs
** it, or a namespace's service that left the app directory) keeps its
** manifest until a later deploy finds it ended; one that has ended is
** given up for good and points at 'gone_svc' from then on.
*/
static void trim_kept(wd_broker *b) {
  brk_dep *d = b->dep;
  size_t i, j;
  int k;
  if (d == NULL) return;
  for (i = 0; i < d->nkept;) {
    wd_manifest *m = d->kept[i];
    int pinned = m == b->m || m == b->pm;
    for (k = 0; !pinned && k < b->nsvcs; k++)
      if (b->svcs[k].running && holds(m, b->svcs[k].e)) pinned = 1;
    if (pinned) {
      i++;
      continue;
    }
    for (k = 0; k < b->nsvcs; k++)
      if (holds(m, b->svcs[k].e)) {
        b->svcs[k].e = &gone_svc;
        b->svcs[k].given_up = 1;
      }
    wd_manifest_free(m);
    for (j = i + 1; j < d->nkept; j++)
      d->kept[j - 1] = d->kept[j];
    d->nkept--;
  }
}

int wd__brk_dep_held(const wd_broker *b) {
  return b->dep != NULL ? (int)b->dep->nkept : 0;
}

static int cmp_u64(const void *x, const void *y) {
  uint64_t a = *(const uint64_t *)x, c = *(const uint64_t *)y;
  return a < c ? -1 : a > c;
}

/* Is 's' a revision's name: digits only, no leading zero? */
static int rev_name(const char *s, uint64_t *rv) {
  char *end;
  unsigned long long v;
  if (s[0] < '1' || s[0] > '9' || strlen(s) > 19) return 0;
  v = strtoull(s, &end, 10);
  if (*end != '\0') return 0;
  *rv = v;
  return 1;
}

/*
** Remove from 'nsdir' every revision but 'cur' and the KEEP_EARLIER
** highest below it: what a restart or a reload reads is the current one
** (its 'current' file names it); the earlier ones stay only for the
** operator to look at or deploy again by hand. A revision above 'cur'
** is what a broker that died during a deploy left.
*/
static void trim_disk(const char *nsdir, uint64_t cur) {
  DIR *dir = opendir(nsdir);
  struct dirent *de;
  uint64_t *v = NULL, rv;
  size_t n = 0, cap = 0, i, below = 0;
  char p[2200];
  if (dir == NULL) return;
  while ((de = readdir(dir)) != NULL) {
    if (!rev_name(de->d_name, &rv)) continue;
    if (n == cap) {
      uint64_t *nv = wd_realloc(v, (cap = cap ? cap * 2 : 16) * sizeof *v);
      if (nv == NULL) break;
      v = nv;
    }
    v[n++] = rv;
  }
  closedir(dir);
  if (n > 0) qsort(v, n, sizeof *v, cmp_u64);
  for (i = n; i-- > 0;) {
    if (v[i] == cur || (v[i] < cur && below++ < KEEP_EARLIER)) continue;
    snprintf(p, sizeof p, "%s/%llu", nsdir, (unsigned long long)v[i]);
    rm_tree(p);
  }
  wd_free(v);
}

/* 'nsdir/current' names the revision in force (a restart loads it):
** written to 'current.tmp' before anything changes, renamed after. */
static int current_prepare(const char *nsdir, uint64_t rv) {
  char p[2200], line[32];
  int fd, n, r = 0;
  snprintf(p, sizeof p, "%s/current.tmp", nsdir);
  n = snprintf(line, sizeof line, "%llu\n", (unsigned long long)rv);
  fd = open(p, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0600);
  if (fd < 0) return -errno;
  if (write(fd, line, (size_t)n) != n || fsync(fd) != 0) r = -errno;
  if (close(fd) != 0 && r == 0) r = -errno;
  if (r < 0) unlink(p);
  return r < 0 ? r : 0;
}

static int current_commit(const char *nsdir) {
  char a[2200], c[2200];
  snprintf(a, sizeof a, "%s/current.tmp", nsdir);
  snprintf(c, sizeof c, "%s/current", nsdir);
  return rename(a, c) == 0 ? 0 : -errno;
}

static void current_drop(const char *nsdir) {
  char a[2200];
  snprintf(a, sizeof a, "%s/current.tmp", nsdir);
  (void)unlink(a);
}

/* The revision 'nsdir/current' names: 0 and '*rv', or a negative code. */
static int current_read(const char *nsdir, uint64_t *rv) {
  char p[2200], line[32];
  ssize_t k;
  int fd;
  snprintf(p, sizeof p, "%s/current", nsdir);
  if ((fd = open(p, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)) < 0) return -errno;
  k = read(fd, line, sizeof line - 1);
  close(fd);
  if (k <= 1 || line[k - 1] != '\n') return WD_EINVAL;
  line[k - 1] = '\0';
  return rev_name(line, rv) ? 0 : WD_EINVAL;
}

/* }====== */

/*
** Make revision 'rv' of 'ns' (its files in 'revdir') the broker's code,
** checked whole first: the app loaded with it, its namespace and names,
** the hosts, the policies, every source compiled. Returns 0, or an error
** with every reason in 'errs' (nothing changed, but see the XXX).
*/
static int install_rev(wd_broker *b, const char *ns, uint64_t rv,
                       const char *revdir, const char *via, wd_buf *errs) {
  char index[2200], dg[65];
  char *nsname = NULL, *ix = NULL;
  wd_manifest *m = NULL;
  wd_policy_set *s = NULL;
  brk_dep *d;
  size_t i;
  int r;
  if (b->dep == NULL && (b->dep = wd_calloc(1, sizeof *b->dep)) == NULL)
    return WD_ENOMEM;
  d = b->dep;
  snprintf(index, sizeof index, "%s/_index.yaml", revdir);
  /* Everything is checked, every error collected, before any change. */
  if ((r = wd__dep_load(b, ns, index, &m, errs)) == 0) {
    size_t before = errs->len;
    check_ns(m, index, ns, errs);
    if ((r = wd__dep_check_scope(m, ns, index, errs)) == WD_ENOMEM) goto fail;
    check_hosts(b, m, errs);
    if ((r = wd__dep_compile(b, m, m, &s, errs)) == WD_ENOMEM) goto fail;
    r = compile_all(b, m, ns, errs);
    if (r == 0 && errs->len != before) r = WD_EINVAL;
    if (r == 0 && s == NULL) r = WD_EINVAL;
  }
  if (r == 0 && d->nns >= WD_DEP_MAX_NS) {
    for (i = 0; i < d->nns && strcmp(d->ns[i].name, ns) != 0; i++) {
    }
    if (i == d->nns) {
      wd__dep_errf(errs, "too many namespaces deployed");
      r = WD_EUNAVAIL;
    }
  }
  if (r < 0) goto fail;
  /* Room for its record first: from here on it changes, policies first
  ** (a swap that cannot be logged changes nothing), then the code. */
  for (i = 0; i < d->nns && strcmp(d->ns[i].name, ns) != 0; i++) {
  }
  {
    depns *v = wd_realloc(d->ns, (d->nns + 1) * sizeof *v);
    if (v == NULL || (nsname = wd_strdup(ns)) == NULL ||
        (ix = wd_strdup(index)) == NULL) {
      if (v != NULL) d->ns = v;
      r = WD_ENOMEM;
      goto fail;
    }
    d->ns = v;
  }
  if ((r = wd__dep_keep(b, m)) < 0) goto fail;
  if ((r = wd__dep_install(b, m, s, via, dg)) < 0) {
    s = NULL;
    wd__dep_errf(errs, "the audit log cannot be written");
    goto fail_kept;
  }
  s = NULL;
  if ((r = swap_code(b, m, ns)) < 0) {
    /* XXX: the policies of the new revision are in force already. */
    wd__dep_errf(errs, "out of memory");
    goto fail_kept;
  }
  swap_services(b, m, ns);
  wd__dep_drop_polm(b);
  if (i == d->nns) {
    d->ns[d->nns++].name = nsname;
    d->ns[i].index = NULL;
    nsname = NULL;
  }
  wd_free(d->ns[i].index);
  d->ns[i].index = ix;
  d->ns[i].rev = rv;
  wd_free(nsname);
  trim_kept(b);
  return 0;
fail:
  wd_policy_set_free(s);
  wd_manifest_free(m);
fail_kept:
  wd_free(nsname);
  wd_free(ix);
  return r;
}

int wd__brk_deploy(wd_broker *b, const char *ns, const uint8_t *files, size_t n,
                   wd_buf *errs, char *rev, size_t revlen) {
  char nsdir[2048], revdir[2100];
  uint64_t rv;
  int r;
  if (b->o.deploy_dir == NULL) {
    wd__dep_errf(errs, "deploys need 'ward serve --deploy-dir DIR'");
    return WD_EUNAVAIL;
  }
  if (!ns_ok(ns)) {
    wd__dep_errf(errs, "'%s' is no namespace name", ns);
    return WD_EINVAL;
  }
  snprintf(nsdir, sizeof nsdir, "%s/%s", b->o.deploy_dir, ns);
  if ((r = mkdir_ok(b->o.deploy_dir)) < 0 || (r = mkdir_ok(nsdir)) < 0) {
    wd__dep_errf(errs, "%s: %s", nsdir, strerror(-r));
    return WD_EUNAVAIL;
  }
  rv = next_rev(nsdir);
  snprintf(revdir, sizeof revdir, "%s/%llu", nsdir, (unsigned long long)rv);
  if (mkdir(revdir, 0700) != 0) {
    wd__dep_errf(errs, "%s: %s", revdir, strerror(errno));
    return WD_EUNAVAIL;
  }
  if ((r = current_prepare(nsdir, rv)) < 0) {
    wd__dep_errf(errs, "%s/current.tmp: %s", nsdir, strerror(-r));
    rm_tree(revdir);
    return WD_EUNAVAIL;
  }
  if ((r = write_rev(revdir, files, n, errs)) < 0 ||
      (r = install_rev(b, ns, rv, revdir, "deploy", errs)) < 0) {
    current_drop(nsdir);
    rm_tree(revdir);
    return r;
  }
  /* In force: a restart loads it (a failed rename leaves the earlier
  ** one named, and says so). */
  if ((r = current_commit(nsdir)) < 0)
    fprintf(stderr,
            "ward: %s/current: %s: a restart would not load "
            "revision %llu\n",
            nsdir, strerror(-r), (unsigned long long)rv);
  else
    trim_disk(nsdir, rv);
  snprintf(rev, revlen, "%llu", (unsigned long long)rv);
  fprintf(stderr, "ward: deployed %s revision %llu (%s)\n", ns,
          (unsigned long long)rv, revdir);
  return 0;
}

static int cmp_str(const void *x, const void *y) {
  return strcmp(*(const char *const *)x, *(const char *const *)y);
}

/*
** At start: each namespace under --deploy-dir comes up with the revision
** its 'current' file names, loaded and checked whole as a deploy is (in
** the order of their names; each is checked with those before it). One
** that does not load is named on stderr with every error, and the app
** directory's own files serve that namespace; its revision stays on
** disk for the operator to look at.
*/
void wd_broker_restore_deploys(wd_broker *b) {
  char *names[WD_DEP_MAX_NS];
  size_t n = 0, i;
  DIR *dir;
  struct dirent *de;
  if (b->o.deploy_dir == NULL || (dir = opendir(b->o.deploy_dir)) == NULL)
    return;
  while ((de = readdir(dir)) != NULL && n < WD_COUNTOF(names))
    if (ns_ok(de->d_name) && (names[n] = wd_strdup(de->d_name)) != NULL) n++;
  closedir(dir);
  qsort(names, n, sizeof *names, cmp_str);
  for (i = 0; i < n; i++) {
    char nsdir[2048], revdir[2100];
    uint64_t rv = 0;
    wd_buf errs;
    int r;
    snprintf(nsdir, sizeof nsdir, "%s/%s", b->o.deploy_dir, names[i]);
    if ((r = current_read(nsdir, &rv)) < 0) {
      if (r != -ENOENT && r != -ENOTDIR)
        fprintf(stderr,
                "ward: %s: %s/current: %s; serving the app's own "
                "files for %s\n",
                names[i], nsdir,
                r == WD_EINVAL ? "not a revision number" : strerror(-r),
                names[i]);
      wd_free(names[i]);
      continue;
    }
    snprintf(revdir, sizeof revdir, "%s/%llu", nsdir, (unsigned long long)rv);
    wd_buf_init(&errs, 1u << 16);
    if ((r = install_rev(b, names[i], rv, revdir, "restore", &errs)) == 0)
      fprintf(stderr, "ward: restored %s revision %llu (%s)\n", names[i],
              (unsigned long long)rv, revdir);
    else
      fprintf(stderr,
              "ward: %s: cannot restore revision %llu (%s); "
              "serving the app's own files for %s:\n%.*s",
              names[i], (unsigned long long)rv, revdir, names[i], (int)errs.len,
              errs.p ? (const char *)errs.p : "");
    wd_buf_close(&errs);
    wd_free(names[i]);
  }
}
