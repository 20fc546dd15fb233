/*
** sandbox/polset.c
** Policy sets from manifests: compile every security.policy entry of one
** or more manifests into a wd_policy_set, and load the paths that
** `ward policy ...` takes (app directories or policy files).
** Runs in: broker.
*/
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ward/wd_polset.h"

/*
** One id defined twice (in two files of a directory the manifest already
** refuses that; across two paths it reaches the policy set): name both
** entries.
*/
static int dup_error(const wd_manifest *const *mv, size_t nm, const wd_entry *e,
                     char *err, size_t errlen) {
  const wd_entry *first = NULL;
  size_t i;
  for (i = 0; i < nm && first == NULL; i++)
    first = wd_manifest_find(mv[i], e->id);
  if (first == NULL || first->node == NULL) first = e;
  return wd_errf(err, errlen, WD_EINVAL,
              "%s:%d:%d: policy '%s' is already defined (first at %s:%d:%d)",
              e->node->file, e->node->line, e->node->col, e->id,
              first->node->file, first->node->line, first->node->col);
}

static int add_all(wd_policy_set *s, const wd_manifest *const *mv, size_t nm,
                   char *err, size_t errlen) {
  const wd_manifest *m = mv[nm - 1];
  size_t i;
  int r;
  if (err != NULL && errlen > 0) err[0] = '\0';
  wd_policy_set_strict(s, 1);
  for (i = 0; i < m->nentries; i++) {
    const wd_entry *e = m->entries[i];
    if (e->kind != WD_KIND_POLICY) continue;
    r = wd_policy_add(s, e->id, e->ns, e->u.policy.policy, e->u.policy.groups,
                      err, errlen);
    if (r == WD_EEXIST) return dup_error(mv, nm, e, err, errlen);
    if (r == WD_ENOMEM) return wd_errf(err, errlen, r, "out of memory");
    if (r != 0) return r;
  }
  return 0;
}

int wd_polset_add_manifest(wd_policy_set *s, const wd_manifest *m, char *err,
                           size_t errlen) {
  if (s == NULL || m == NULL)
    return wd_errf(err, errlen, WD_EINVAL, "no policy set or manifest");
  return add_all(s, &m, 1, err, errlen);
}

int wd_polset_from_manifest(const wd_manifest *m, wd_policy_set **out,
                            char *err, size_t errlen) {
  wd_policy_set *s;
  int r;
  if (m == NULL) return wd_errf(err, errlen, WD_EINVAL, "no manifest");
  if (wd_policy_set_new(&s) != 0)
    return wd_errf(err, errlen, WD_ENOMEM, "out of memory");
  if ((r = add_all(s, &m, 1, err, errlen)) != 0) {
    wd_policy_set_free(s);
    return r;
  }
  *out = s;
  return 0;
}

/* Read a YAML file whole (at most WD_MANIFEST_MAX_YAML bytes). */
static int read_yaml(const char *path, char **text, size_t *len, char *err,
                     size_t errlen) {
  char *buf = NULL;
  size_t n = 0, cap = 0;
  ssize_t got;
  int fd, r = 0;
  do
    fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
  while (fd == -1 && errno == EINTR);
  if (fd == -1)
    return wd_errf(err, errlen, -errno, "%s: %s", path, strerror(errno));
  for (;;) {
    if (n == cap) {
      char *nb;
      if (cap > WD_MANIFEST_MAX_YAML) {
        r = wd_errf(err, errlen, WD_EINVAL, "%s: %s", path,
                 "file too large for a manifest");
        break;
      }
      cap = cap ? cap * 2 : 8192;
      if ((nb = wd_realloc(buf, cap + 1)) == NULL) {
        r = wd_errf(err, errlen, WD_ENOMEM, "out of memory");
        break;
      }
      buf = nb;
    }
    do
      got = read(fd, buf + n, cap - n);
    while (got == -1 && errno == EINTR);
    if (got < 0) {
      r = wd_errf(err, errlen, -errno, "%s: %s", path, strerror(errno));
      break;
    }
    if (got == 0) break;
    n += (size_t)got;
  }
  close(fd);
  if (r != 0) {
    wd_free(buf);
    return r;
  }
  if (buf == NULL && (buf = wd_malloc(1)) == NULL)
    return wd_errf(err, errlen, WD_ENOMEM, "out of memory");
  buf[n] = '\0';
  *text = buf;
  *len = n;
  return 0;
}

static int load_one(const char *path, wd_manifest **m, char *err,
                    size_t errlen) {
  struct stat st;
  char *text = NULL;
  size_t len = 0;
  int r;
  if (stat(path, &st) == -1) {
    r = -errno;
    return wd_errf(err, errlen, r, "%s: %s", path, strerror(-r));
  }
  if (S_ISDIR(st.st_mode)) return wd_manifest_load_dir(path, m, err, errlen);
  if ((r = read_yaml(path, &text, &len, err, errlen)) != 0) return r;
  r = wd_manifest_load_string(path, text, len, NULL, m, err, errlen);
  wd_free(text);
  return r;
}

int wd_polset_load(const char *const *paths, size_t n, wd_polset **out,
                   char *err, size_t errlen) {
  wd_polset *ps;
  size_t i;
  int r = 0;
  if (paths == NULL && n > 0) return wd_errf(err, errlen, WD_EINVAL, "no paths");
  if ((ps = wd_calloc(1, sizeof *ps)) == NULL ||
      /* NOLINTNEXTLINE(bugprone-sizeof-expression): array of pointers */
      (n > 0 && (ps->mv = wd_calloc(n, sizeof *ps->mv)) == NULL) ||
      wd_policy_set_new(&ps->set) != 0) {
    wd_polset_free(ps);
    return wd_errf(err, errlen, WD_ENOMEM, "out of memory");
  }
  for (i = 0; i < n && r == 0; i++) {
    if ((r = load_one(paths[i], &ps->mv[i], err, errlen)) != 0) break;
    ps->nm = i + 1;
    r = add_all(ps->set, (const wd_manifest *const *)ps->mv, ps->nm, err,
                errlen);
  }
  if (r != 0) {
    wd_polset_free(ps);
    return r;
  }
  *out = ps;
  return 0;
}

void wd_polset_free(wd_polset *ps) {
  size_t i;
  if (ps == NULL) return;
  for (i = 0; ps->mv != NULL && i < ps->nm; i++)
    wd_manifest_free(ps->mv[i]);
  wd_free(ps->mv);
  wd_policy_set_free(ps->set);
  wd_free(ps);
}

const wd_entry *wd_polset_find(const wd_polset *ps, const char *id) {
  const wd_entry *e;
  size_t i;
  for (i = 0; i < ps->nm; i++)
    if ((e = wd_manifest_find(ps->mv[i], id)) != NULL &&
        e->kind == WD_KIND_POLICY)
      return e;
  return NULL;
}

/* {====== References from security blocks ====== */

/* The item of sequence 'key' in map 'blk' that says 'name', else 'blk'. */
static const wd_node *item(const wd_node *blk, const char *key,
                           const char *name) {
  const wd_node *seq = blk != NULL ? wd_node_get(blk, key) : NULL;
  size_t i;
  for (i = 0; seq != NULL && seq->type == WD_NODE_SEQ && i < seq->n; i++)
    if (seq->kids[i]->str != NULL && strcmp(seq->kids[i]->str, name) == 0)
      return seq->kids[i];
  return blk;
}

/* Names of the lists 'groups' and 'policies' of block 'blk' (what: "scope"
** or "ceiling") that 's' does not have. */
static int refs(const wd_policy_set *s, const wd_entry *e, const wd_node *blk,
                const wd_strv *groups, const wd_strv *policies,
                const char *what, wd_polset_ref_cb cb, void *ud) {
  const wd_strv *lists[2] = { groups, policies };
  static const char *const keys[2] = { "groups", "policies" };
  char msg[1024], q[512];
  const wd_node *at;
  size_t i, j;
  int n = 0, len;
  for (i = 0; i < 2; i++)
    for (j = 0; j < lists[i]->n; j++) {
      const char *name = lists[i]->v[j];
      if (wd_policy_set_has(s, name)) continue;
      n++;
      if (cb == NULL) continue;
      len = snprintf(msg, sizeof msg,
                     "%s names '%s', which is no policy or group", what, name);
      /* A bare name is looked up as written: say so when the qualified
      ** one exists, as that is what the author most likely meant. */
      snprintf(q, sizeof q, "%s:%s", e->ns, name);
      if (len > 0 && (size_t)len < sizeof msg && strchr(name, ':') == NULL &&
          wd_policy_set_has(s, q))
        snprintf(msg + len, sizeof msg - (size_t)len,
                 " (names are used as written: did you mean '%s'?)", q);
      at = item(blk, keys[i], name);
      cb(at != NULL ? at : e->node, e->id, msg, ud);
    }
  return n;
}

int wd_polset_check_refs(const wd_policy_set *s, const wd_manifest *m,
                         wd_polset_ref_cb cb, void *ud) {
  size_t i;
  int n = 0;
  if (s == NULL || m == NULL) return 0;
  for (i = 0; i < m->nentries; i++) {
    const wd_entry *e = m->entries[i];
    const wd_sec *sec = NULL;
    if (e->kind == WD_KIND_LUA) sec = &e->u.lua.sec;
    if (e->kind == WD_KIND_SERVICE) sec = &e->u.svc.sec;
    if (e->kind == WD_KIND_HOST) sec = &e->u.host.def;
    if (sec != NULL)
      n += refs(s, e, sec->node, &sec->groups, &sec->policies, "scope", cb, ud);
    if (e->kind == WD_KIND_HOST)
      n += refs(s, e, e->u.host.ceiling, &e->u.host.ceil_groups,
                &e->u.host.ceil_policies, "ceiling", cb, ud);
  }
  return n;
}

/* }====== */

/* Group 'g' of an entry of namespace 'ns' is 'name' ("ns:g" when bare). */
static int group_is(const char *ns, const char *g, const char *name) {
  size_t nsn = strlen(ns);
  if (strchr(g, ':') != NULL) return strcmp(g, name) == 0;
  return strncmp(name, ns, nsn) == 0 && name[nsn] == ':' &&
         strcmp(name + nsn + 1, g) == 0;
}

int wd_polset_in_scope(const wd_entry *e, const char *const *names, size_t n) {
  size_t i, j;
  if (e == NULL || e->kind != WD_KIND_POLICY) return 0;
  for (i = 0; i < n; i++) {
    if (strcmp(names[i], e->id) == 0) return 1;
    for (j = 0; j < e->u.policy.groupv.n; j++)
      if (group_is(e->ns, e->u.policy.groupv.v[j], names[i])) return 1;
  }
  return 0;
}
