/*
** runtime/manifest.c
** The manifest: _index.yaml files of an app directory (and --policy files)
** checked into typed entries, with their Lua sources read under the app
** directory.
** Runs in: broker.
*/
#include <dirent.h>
#include <fcntl.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <linux/openat2.h>

#include "ward/wd_manifest.h"
#include "ward/wd_pid.h"
#include "ward/wd_time.h"

/* Deepest directory nesting walked below an app directory. */
#define MAX_DIR_DEPTH 64

/*
** State of one load. 'who' prefixes messages about the entry being read
** ("entry 'worker'"). Sources are resolved against 'reldir' (the YAML
** file's directory below the root) and opened under 'rootfd'.
*/
typedef struct ctx {
  wd_manifest *m;
  wd_doc *doc;          /* the file being read: arena for derived data */
  const char *ns;       /* its namespace */
  char who[96];         /* "" outside an entry */
  int rootfd;           /* -1: sources are checked but not read */
  const char *rootpath; /* the root as given, for the realpath fallback */
  const char *disp;     /* prefix of paths in messages ("" or "app") */
  const char *reldir;   /* "" or "a/b" */
  const char *const *skip; /* namespaces whose files are left out */
  size_t nskip;
  char *err;
  size_t errlen;
} ctx;

/* {====== Messages ====== */

/*
** Write "FILE:LINE:COL: [entry 'x': ]message" (or "FILE: message" when
** 'line' is 0) into the caller's buffer. Returns 'r'.
*/
__attribute__((format(printf, 6, 7))) static int failx(ctx *c, int r,
                                                       const char *file,
                                                       int line, int col,
                                                       const char *fmt, ...) {
  va_list ap;
  int k;
  if (c->errlen == 0) return r;
  if (line > 0)
    k = snprintf(c->err, c->errlen, "%s:%d:%d: %s%s", file, line, col, c->who,
                 c->who[0] ? ": " : "");
  else
    k = snprintf(c->err, c->errlen, "%s: ", file);
  if (k >= 0 && (size_t)k < c->errlen) {
    va_start(ap, fmt);
    vsnprintf(c->err + k, c->errlen - (size_t)k, fmt, ap);
    va_end(ap);
  }
  return r;
}

/* At node 'n'; returns WD_EINVAL. */
#define fail(c, n, ...)                                                        \
  failx((c), WD_EINVAL, (n)->file, (n)->line, (n)->col, __VA_ARGS__)
/* About a path, with no position; returns 'r'. */
#define fail_path(c, r, path, ...) failx((c), (r), (path), 0, 0, __VA_ARGS__)

static const char *type_name(const wd_node *n) {
  return n->type == WD_NODE_MAP   ? "map"
         : n->type == WD_NODE_SEQ ? "sequence"
                                  : "scalar";
}

/* A printable copy of scalar 'n' for a message. */
#define SHOW_MAX 72
static const char *show(char *buf, const wd_node *n) {
  wd_yaml_excerpt(buf, SHOW_MAX, n->str, n->len);
  return buf;
}

/* }====== */

/* {====== Scalar syntax ====== */

static int is_digit(char ch) {
  return ch >= '0' && ch <= '9';
}

/* Namespaces and entry names: [A-Za-z0-9_.-]+, no NUL. */
static int valid_ident(const wd_node *n) {
  size_t i;
  if (n->len == 0) return 0;
  for (i = 0; i < n->len; i++) {
    char ch = n->str[i];
    if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
          is_digit(ch) || ch == '_' || ch == '.' || ch == '-'))
      return 0;
  }
  return 1;
}

/*
** Byte size: plain digits, or digits and a unit out of B, KB, MB, GB, TB
** (powers of 1000) and KiB, MiB, GiB, TiB (powers of 1024), case ignored,
** with optional spaces between. Returns 0 or -1 (bad syntax, > INT64_MAX).
*/
static int parse_size(const char *s, uint64_t *out) {
  static const char prefixes[] = "kmgt";
  const char *st = s, *p;
  uint64_t v = 0, mul = 1, base;
  int i;
  for (; is_digit(*s); s++) {
    if (v > (UINT64_MAX - 9) / 10) return -1;
    v = v * 10 + (uint64_t)(*s - '0');
  }
  if (s == st) return -1;
  while (*s == ' ')
    s++;
  if (*s != '\0' && strcasecmp(s, "b") != 0) {
    if ((p = strchr(prefixes, *s | 0x20)) == NULL) return -1;
    if (strcasecmp(s + 1, "b") == 0)
      base = 1000;
    else if (strcasecmp(s + 1, "ib") == 0)
      base = 1024;
    else
      return -1;
    for (i = 0; i <= p - prefixes; i++)
      mul *= base;
  }
  if (v > (uint64_t)INT64_MAX / mul) return -1;
  *out = v * mul;
  return 0;
}

/* Decimal integer with optional '-'. Returns 0 or -1. */
static int parse_int(const char *s, int64_t *out) {
  uint64_t v = 0;
  int neg = *s == '-';
  const char *st;
  if (neg || *s == '+') s++;
  for (st = s; is_digit(*s); s++) {
    if (v > ((uint64_t)INT64_MAX + 1 - 9) / 10) return -1;
    v = v * 10 + (uint64_t)(*s - '0');
  }
  if (s == st || *s != '\0') return -1;
  if (v > (uint64_t)INT64_MAX + neg) return -1;
  *out = neg ? (int64_t)(0 - v) : (int64_t)v;
  return 0;
}

/* }====== */

/* {====== Typed values of nodes ====== */

/*
** Each getter checks node 'n' (the value of key 'key', named in messages)
** and returns 0 or WD_EINVAL (message written) or WD_ENOMEM. A NULL 'n'
** (key absent) returns 0 and leaves '*out' alone, so defaults set first
** survive.
*/

static int want_scalar(ctx *c, const wd_node *n, const char *key,
                       const char *what) {
  if (n->type != WD_NODE_SCALAR)
    return fail(c, n, "'%s' must be %s (got a %s)", key, what, type_name(n));
  if (strlen(n->str) != n->len)
    return fail(c, n, "'%s' contains a NUL byte", key);
  return 0;
}

static int want_map(ctx *c, const wd_node *n, const char *key) {
  if (n != NULL && n->type != WD_NODE_MAP)
    return fail(c, n, "'%s' must be a map (got a %s)", key, type_name(n));
  return 0;
}

static int get_str(ctx *c, const wd_node *n, const char *key,
                   const char **out) {
  int r;
  if (n == NULL) return 0;
  if ((r = want_scalar(c, n, key, "a string"))) return r;
  if (n->len == 0) return fail(c, n, "'%s' must not be empty", key);
  *out = n->str;
  return 0;
}

static int get_bool(ctx *c, const wd_node *n, const char *key, int *out) {
  char b[SHOW_MAX];
  int r;
  if (n == NULL) return 0;
  if ((r = want_scalar(c, n, key, "true or false"))) return r;
  if (!strcmp(n->str, "true") || !strcmp(n->str, "True") ||
      !strcmp(n->str, "TRUE"))
    *out = 1;
  else if (!strcmp(n->str, "false") || !strcmp(n->str, "False") ||
           !strcmp(n->str, "FALSE"))
    *out = 0;
  else
    return fail(c, n, "'%s' must be true or false (got '%s')", key, show(b, n));
  return 0;
}

static int get_int(ctx *c, const wd_node *n, const char *key, int64_t min,
                   int64_t *out) {
  char b[SHOW_MAX];
  int64_t v;
  int r;
  if (n == NULL) return 0;
  if ((r = want_scalar(c, n, key, "an integer"))) return r;
  if (parse_int(n->str, &v) < 0)
    return fail(c, n, "'%s' must be an integer (got '%s')", key, show(b, n));
  if (v < min)
    return fail(c, n, "'%s' must be at least %lld (got %lld)", key,
                (long long)min, (long long)v);
  *out = v;
  return 0;
}

static int get_size(ctx *c, const wd_node *n, const char *key, uint64_t *out) {
  char b[SHOW_MAX];
  uint64_t v;
  int r;
  if (n == NULL) return 0;
  if ((r = want_scalar(c, n, key, "a size"))) return r;
  if (parse_size(n->str, &v) < 0)
    return fail(c, n,
                "bad size '%s' for '%s' (expected bytes or a number with a "
                "unit: KB, KiB, MB, MiB, GB, GiB, e.g. 64MiB)",
                show(b, n), key);
  if (v == 0) return fail(c, n, "'%s' must be greater than zero", key);
  *out = v;
  return 0;
}

/* 'positive': zero is refused too (negative durations always are). */
static int get_duration(ctx *c, const wd_node *n, const char *key, int positive,
                        int64_t *out) {
  char b[SHOW_MAX];
  int64_t v;
  int r;
  if (n == NULL) return 0;
  if ((r = want_scalar(c, n, key, "a duration"))) return r;
  if (wd_duration_parse(n->str, n->len, &v) < 0)
    return fail(c, n,
                "bad duration '%s' for '%s' (expected a number with a unit: "
                "ns, us, ms, s, m, h, e.g. 10ms or 1m30s)",
                show(b, n), key);
  if (v < 0 || (positive && v == 0))
    return fail(c, n, "'%s' must be %s (got '%s')", key,
                positive ? "greater than zero" : "zero or more", show(b, n));
  *out = v;
  return 0;
}

static int get_float(ctx *c, const wd_node *n, const char *key, double min,
                     double max, double *out) {
  char b[SHOW_MAX], *end;
  double v;
  int r;
  if (n == NULL) return 0;
  if ((r = want_scalar(c, n, key, "a number"))) return r;
  v = strtod(n->str, &end);
  if (n->len == 0 || *end != '\0' || !isfinite(v) || v < min || v > max)
    return fail(c, n, "'%s' must be a number from %g to %g (got '%s')", key,
                min, max, show(b, n));
  *out = v;
  return 0;
}

/* A sequence of scalars. Items may be empty strings only if 'empty_ok'. */
static int get_strv(ctx *c, const wd_node *n, const char *key, int empty_ok,
                    wd_strv *out) {
  size_t i;
  int r;
  if (n == NULL) return 0;
  if (n->type != WD_NODE_SEQ)
    return fail(c, n, "'%s' must be a sequence of strings (got a %s)", key,
                type_name(n));
  if (n->n > 0) {
    if ((out->v = wd_doc_alloc(c->doc, n->n * sizeof *out->v)) == NULL)
      return WD_ENOMEM;
  }
  for (i = 0; i < n->n; i++) {
    const wd_node *k = n->kids[i];
    if (k->type != WD_NODE_SCALAR)
      return fail(c, k, "'%s' item %zu must be a string (got a %s)", key, i + 1,
                  type_name(k));
    if ((r = want_scalar(c, k, key, "a string"))) return r;
    if (!empty_ok && k->len == 0)
      return fail(c, k, "'%s' item %zu must not be empty", key, i + 1);
    out->v[i] = k->str;
  }
  out->n = n->n;
  return 0;
}

/*
** Every key of map 'n' must be in 'allowed' (NULL-terminated) or, for an
** entry, be 'name' or 'kind'. Keys are compared with their length, so a key
** with an embedded NUL never passes as a known one.
** Message: "unknown <pre>key 'k'<post> (expected one of: a, b)".
*/
static int check_keys(ctx *c, const wd_node *n, const char *const *allowed,
                      int entry, const char *pre, const char *post) {
  char list[512], b[SHOW_MAX];
  size_t i, j, o;
  for (i = 0; i < n->n; i++) {
    const wd_node *k = n->keys[i];
    int ok = entry && (!strcmp(k->str, "name") || !strcmp(k->str, "kind"));
    for (j = 0; !ok && allowed[j] != NULL; j++)
      ok = strlen(allowed[j]) == k->len && !memcmp(allowed[j], k->str, k->len);
    if (ok && strlen(k->str) == k->len) continue;
    for (j = 0, o = 0, list[0] = '\0'; allowed[j] != NULL; j++) {
      int w = snprintf(list + o, sizeof list - o, "%s%s", j ? ", " : "",
                       allowed[j]);
      if (w < 0 || (size_t)w >= sizeof list - o) {
        list[o] = '\0'; /* whole names only */
        break;
      }
      o += (size_t)w;
    }
    return fail(c, k, "unknown %skey '%s'%s (expected one of: %s)", pre,
                show(b, k), post, list);
  }
  return 0;
}

/* 'n' (key 'key', may be absent) must be a map with only 'keys' in it. */
static int want_section(ctx *c, const wd_node *n, const char *key,
                        const char *const *keys) {
  char post[80];
  int r;
  if (n == NULL) return 0;
  if ((r = want_map(c, n, key))) return r;
  snprintf(post, sizeof post, " in '%s'", key);
  return check_keys(c, n, keys, 0, "", post);
}

/* "NS:NAME" for the 'len' bytes of 'name', in the current file's arena. */
static char *make_id(ctx *c, const char *name, size_t len) {
  size_t nl = strlen(c->ns);
  char *id = wd_doc_alloc(c->doc, nl + 1 + len + 1);
  if (id == NULL) return NULL;
  memcpy(id, c->ns, nl);
  id[nl] = ':';
  memcpy(id + nl + 1, name, len);
  id[nl + 1 + len] = '\0';
  return id;
}

/*
** An entry reference: "ns:name" as written, or a bare name meaning the
** namespace of the file that holds the reference.
*/
static int get_ref(ctx *c, const wd_node *n, const char *key,
                   const char **out) {
  const char *s;
  int r;
  if (n == NULL) return 0;
  if ((r = get_str(c, n, key, out))) return r;
  s = n->str;
  if (strchr(s, ':') == NULL && (s = make_id(c, s, n->len)) == NULL)
    return WD_ENOMEM;
  *out = s;
  return 0;
}

/* }====== */

/* {====== Entry kinds ====== */

static const char *const sec_keys[] = { "actor", "groups", "policies", NULL };
static const char *const actor_keys[] = { "id", "meta", NULL };

/* A 'security:' block ('key' names it): actor {id, meta}, groups,
   policies. */
static int parse_sec(ctx *c, const wd_node *n, const char *key, wd_sec *s) {
  char k2[64];
  const wd_node *a;
  int r;
  if (n == NULL) return 0;
  if ((r = want_section(c, n, key, sec_keys))) return r;
  s->node = n;
  if ((a = wd_node_get(n, "actor")) != NULL) {
    snprintf(k2, sizeof k2, "%s.actor", key);
    if ((r = want_section(c, a, k2, actor_keys))) return r;
    if (wd_node_get(a, "id") == NULL)
      return fail(c, a, "'%s' is missing required key 'id'", k2);
    snprintf(k2, sizeof k2, "%s.actor.id", key);
    if ((r = get_str(c, wd_node_get(a, "id"), k2, &s->actor_id))) return r;
    snprintf(k2, sizeof k2, "%s.actor.meta", key);
    if ((r = want_map(c, wd_node_get(a, "meta"), k2))) return r;
    s->actor_meta = wd_node_get(a, "meta");
  }
  snprintf(k2, sizeof k2, "%s.groups", key);
  if ((r = get_strv(c, wd_node_get(n, "groups"), k2, 0, &s->groups))) return r;
  snprintf(k2, sizeof k2, "%s.policies", key);
  return get_strv(c, wd_node_get(n, "policies"), k2, 0, &s->policies);
}

/* process.host */

static const char *const host_keys[] = {
  "host", "restart", "lifecycle", "sandbox", "security", "meta", NULL,
};
static const char *const limit_keys[] = {
  "max_processes", "memory",          "mailbox",       "max_payload",
  "cpu",           "slice",           "turn_deadline", "liveness",
  "request_timeout", "address_space", "spawn_rate",    "max_names",
  "max_watches",   "mailbox_bytes",   "link_queue",    "output_buffer",
  "send_timeout",  "output_rate",     "workers",       "queue_size",
  "local_queue_size", NULL,
};
static const char *const hlife_keys[] = { "auto_start", NULL };
static const char *const sandbox_keys[] = { "require", NULL };
static const char *const hsec_keys[] = { "default", "ceiling", NULL };
static const char *const ceil_keys[] = { "actors", "groups", "policies", NULL };

/* 'max_payload' is a size of at most WD_HOST_MAX_PAYLOAD: a larger one is
** refused here, never clamped later. */
static int get_max_payload(ctx *c, const wd_node *n, uint64_t *out) {
  uint64_t v = *out;
  int r;
  if ((r = get_size(c, n, "host.max_payload", &v))) return r;
  if (v > WD_HOST_MAX_PAYLOAD)
    return fail(c, n, "'host.max_payload' is %llu bytes, over the %llu "
                "(%lluMiB) ward supports", (unsigned long long)v,
                (unsigned long long)WD_HOST_MAX_PAYLOAD,
                (unsigned long long)(WD_HOST_MAX_PAYLOAD >> 20));
  *out = v;
  return 0;
}

/* 'workers', 'queue_size', 'local_queue_size' (Wippy) pass unread. */
static int parse_limits(ctx *c, const wd_node *n, wd_host_limits *l) {
  int r;
  if (n == NULL) return 0;
  if ((r = want_section(c, n, "host", limit_keys))) return r;
#define G(k) wd_node_get(n, k)
  if ((r = get_int(c, G("max_processes"), "host.max_processes", 1,
                   &l->max_processes)) ||
      (r = get_size(c, G("memory"), "host.memory", &l->memory)) ||
      (r = get_int(c, G("mailbox"), "host.mailbox", 1, &l->mailbox)) ||
      (r = get_max_payload(c, G("max_payload"), &l->max_payload)) ||
      (r = get_duration(c, G("cpu"), "host.cpu", 0, &l->cpu_ns)) ||
      (r = get_duration(c, G("slice"), "host.slice", 1, &l->slice_ns)) ||
      (r = get_duration(c, G("turn_deadline"), "host.turn_deadline", 1,
                        &l->turn_deadline_ns)) ||
      (r = get_duration(c, G("liveness"), "host.liveness", 1,
                        &l->liveness_ns)) ||
      (r = get_duration(c, G("request_timeout"), "host.request_timeout", 1,
                        &l->request_ns)) ||
      (r = get_size(c, G("address_space"), "host.address_space",
                    &l->address_space)) ||
      (r = get_int(c, G("spawn_rate"), "host.spawn_rate", 0, &l->spawn_rate)) ||
      (r = get_int(c, G("max_names"), "host.max_names", 0, &l->max_names)) ||
      (r = get_int(c, G("max_watches"), "host.max_watches", 0,
                   &l->max_watches)) ||
      (r = get_size(c, G("mailbox_bytes"), "host.mailbox_bytes",
                    &l->mailbox_bytes)) ||
      (r = get_size(c, G("link_queue"), "host.link_queue", &l->link_queue)) ||
      (r = get_size(c, G("output_buffer"), "host.output_buffer",
                    &l->output_buffer)) ||
      (r = get_duration(c, G("send_timeout"), "host.send_timeout", 1,
                        &l->send_timeout_ns)) ||
      (r = get_size(c, G("output_rate"), "host.output_rate",
                    &l->output_rate)))
    return r;
#undef G
  return 0;
}

static int parse_host_security(ctx *c, const wd_node *n, wd_host_conf *h) {
  const wd_node *ce;
  int r;
  if (n == NULL) return 0;
  if ((r = want_section(c, n, "security", hsec_keys)) ||
      (r = parse_sec(c, wd_node_get(n, "default"), "security.default",
                     &h->def)))
    return r;
  h->security = n;
  if ((ce = wd_node_get(n, "ceiling")) == NULL) return 0;
  if ((r = want_section(c, ce, "security.ceiling", ceil_keys)) ||
      (r = get_strv(c, wd_node_get(ce, "actors"), "security.ceiling.actors", 0,
                    &h->ceil_actors)) ||
      (r = get_strv(c, wd_node_get(ce, "groups"), "security.ceiling.groups", 0,
                    &h->ceil_groups)) ||
      (r = get_strv(c, wd_node_get(ce, "policies"), "security.ceiling.policies",
                    0, &h->ceil_policies)))
    return r;
  h->ceiling = ce;
  return 0;
}

static const wd_host_limits host_defaults = {
  WD_HOST_DEFAULT_MAX_PROCESSES, WD_HOST_DEFAULT_MEMORY,
  WD_HOST_DEFAULT_MAILBOX,       WD_HOST_DEFAULT_MAX_PAYLOAD,
  WD_HOST_DEFAULT_CPU_NS,        WD_HOST_DEFAULT_SLICE_NS,
  WD_HOST_DEFAULT_DEADLINE_NS,   WD_HOST_DEFAULT_ADDRESS_SPACE,
  WD_HOST_DEFAULT_SPAWN_RATE,    WD_HOST_DEFAULT_LIVENESS_NS,
  WD_HOST_DEFAULT_REQUEST_NS,    WD_HOST_DEFAULT_MAX_NAMES,
  WD_HOST_DEFAULT_MAX_WATCHES,   WD_HOST_DEFAULT_MAILBOX_BYTES,
  WD_HOST_DEFAULT_LINK_QUEUE,    WD_HOST_DEFAULT_OUTPUT_BUFFER,
  WD_HOST_DEFAULT_SEND_TIMEOUT_NS, WD_HOST_DEFAULT_OUTPUT_RATE,
};

static int parse_host(ctx *c, wd_entry *e, const wd_node *n) {
  wd_host_conf *h = &e->u.host;
  const wd_node *lc = wd_node_get(n, "lifecycle");
  const wd_node *sb = wd_node_get(n, "sandbox"), *req;
  char b[SHOW_MAX];
  int r;
  h->limits = host_defaults;
  {
    /* Its id is the host part of its PIDs, and the target_host every
    ** policy decision about them sees: it must fit whole. */
    char pid[WD_PID_MAX];
    if (wd_pid_format(pid, sizeof pid, e->id, strlen(e->id), 1) < 0)
      return fail(c, wd_node_get(n, "name"),
                  "a host id is the host part of its PIDs: at most %d bytes, "
                  "no control characters, '{', '|' or '}' (this one has %zu)",
                  WD_PID_HOST_MAX, strlen(e->id));
  }
  if ((r = parse_limits(c, wd_node_get(n, "host"), &h->limits)) ||
      (r = get_bool(c, wd_node_get(n, "restart"), "restart", &h->restart)) ||
      (r = want_section(c, lc, "lifecycle", hlife_keys)) ||
      (r = get_bool(c, wd_node_get(lc, "auto_start"), "lifecycle.auto_start",
                    &h->auto_start)) ||
      (r = want_section(c, sb, "sandbox", sandbox_keys)))
    return r;
  if ((req = wd_node_get(sb, "require")) != NULL) {
    if ((r = want_scalar(c, req, "sandbox.require", "all or none"))) return r;
    if (strcmp(req->str, "all") == 0)
      h->sandbox_require = WD_SANDBOX_ALL;
    else if (strcmp(req->str, "none") == 0)
      h->sandbox_require = WD_SANDBOX_NONE;
    else
      return fail(c, req, "'sandbox.require' must be all or none (got '%s')",
                  show(b, req));
  }
  return parse_host_security(c, wd_node_get(n, "security"), h);
}

/* process.lua and library.lua */

static const char *const lua_keys[] = {
  "source", "method", "modules", "imports", "host", "meta", "security", NULL,
};
static const char *const lib_keys[] = {
  "source", "modules", "imports", "meta", NULL,
};

/*
** Resolve 'path' against 'base' lexically into 'out' (room for both plus
** 2): empty and "." components are dropped, ".." removes the component
** before it. Returns 0, or -1 when a ".." would climb above the root.
*/
static int norm_path(char *out, const char *base, const char *path) {
  const char *parts[2] = { base, path };
  size_t o = 0, i;
  out[0] = '\0';
  for (i = 0; i < 2; i++) {
    const char *s = parts[i];
    while (*s != '\0') {
      size_t len = strcspn(s, "/");
      if (len == 2 && s[0] == '.' && s[1] == '.') {
        char *slash;
        if (o == 0) return -1;
        slash = strrchr(out, '/');
        o = slash ? (size_t)(slash - out) : 0;
        out[o] = '\0';
      } else if (len > 0 && !(len == 1 && s[0] == '.')) {
        if (o > 0) out[o++] = '/';
        memcpy(out + o, s, len);
        o += len;
        out[o] = '\0';
      }
      s += len;
      while (*s == '/')
        s++;
    }
  }
  return 0;
}

static int read_source(ctx *c, wd_lua_conf *lc, const wd_node *n,
                       const char *rel);

/* 'source' of entry 'en': checked always, read when 'rootfd' is open. */
static int parse_source(ctx *c, wd_lua_conf *lc, const wd_node *en) {
  const wd_node *n = wd_node_get(en, "source");
  char b[SHOW_MAX], *rel;
  const char *path;
  int r;
  if (n == NULL)
    return fail(c, en,
                "missing required key 'source' (expected source: "
                "file://NAME.lua)");
  if ((r = get_str(c, n, "source", &lc->source_uri))) return r;
  if (strncmp(n->str, "file://", 7) != 0)
    return fail(c, n,
                "source '%s' must start with file:// (e.g. source: "
                "file://main.lua)",
                show(b, n));
  path = n->str + 7;
  if (*path == '\0') return fail(c, n, "source 'file://' names no file");
  if (*path == '/')
    return fail(c, n,
                "source '%s' is an absolute path (expected a path relative "
                "to the directory of %s)",
                show(b, n), n->file);
  if ((rel = wd_doc_alloc(c->doc, strlen(c->reldir) + n->len + 2)) == NULL)
    return WD_ENOMEM;
  if (norm_path(rel, c->reldir, path) < 0)
    return fail(c, n, "source '%s' escapes the app directory", show(b, n));
  if (rel[0] == '\0')
    return fail(c, n, "source '%s' names a directory, not a file", show(b, n));
  if (c->rootfd < 0) return 0;
  return read_source(c, lc, n, rel);
}

static int parse_imports(ctx *c, wd_lua_conf *lc, const wd_node *n) {
  size_t i;
  int r;
  if (n == NULL) return 0;
  if ((r = want_map(c, n, "imports"))) return r;
  if (n->n == 0) return 0;
  if ((lc->imports = wd_doc_alloc(c->doc, n->n * sizeof *lc->imports)) == NULL)
    return WD_ENOMEM;
  memset(lc->imports, 0, n->n * sizeof *lc->imports);
  for (i = 0; i < n->n; i++) {
    wd_import *im = &lc->imports[i];
    if ((r = get_str(c, n->keys[i], "imports", &im->name)) ||
        (r = get_ref(c, n->kids[i], "imports", &im->id)))
      return r;
    im->node = n->kids[i];
  }
  lc->nimports = n->n;
  return 0;
}

static int parse_lua(ctx *c, wd_entry *e, const wd_node *n) {
  wd_lua_conf *lc = &e->u.lua;
  int r;
  if ((r = parse_source(c, lc, n)) ||
      (r = get_strv(c, wd_node_get(n, "modules"), "modules", 0,
                    &lc->modules)) ||
      (r = parse_imports(c, lc, wd_node_get(n, "imports"))))
    return r;
  if (e->kind == WD_KIND_LIBRARY) return 0;
  lc->method = "main";
  if ((r = get_str(c, wd_node_get(n, "method"), "method", &lc->method)) ||
      (r = get_ref(c, wd_node_get(n, "host"), "host", &lc->host)))
    return r;
  return parse_sec(c, wd_node_get(n, "security"), "security", &lc->sec);
}

/* process.service */

static const char *const svc_keys[] = {
  "process", "host", "input", "lifecycle", "meta", NULL,
};
static const char *const slife_keys[] = {
  "auto_start", "start_timeout", "stop_timeout", "stable_threshold",
  "requires",   "restart",       "security",     NULL,
};
static const char *const restart_keys[] = {
  "initial_delay", "max_delay",    "backoff_factor",
  "jitter",        "max_attempts", NULL,
};

static int parse_restart(ctx *c, const wd_node *n, wd_restart_conf *rc) {
  int r;
  if (n == NULL) return 0;
  if ((r = want_section(c, n, "lifecycle.restart", restart_keys)) ||
      (r = get_duration(c, wd_node_get(n, "initial_delay"),
                        "lifecycle.restart.initial_delay", 0,
                        &rc->initial_delay_ns)) ||
      (r = get_duration(c, wd_node_get(n, "max_delay"),
                        "lifecycle.restart.max_delay", 0, &rc->max_delay_ns)) ||
      (r = get_float(c, wd_node_get(n, "backoff_factor"),
                     "lifecycle.restart.backoff_factor", 1.0, 1000.0,
                     &rc->backoff_factor)) ||
      (r = get_float(c, wd_node_get(n, "jitter"), "lifecycle.restart.jitter",
                     0.0, 1.0, &rc->jitter)) ||
      (r = get_int(c, wd_node_get(n, "max_attempts"),
                   "lifecycle.restart.max_attempts", 0, &rc->max_attempts)))
    return r;
  return 0;
}

static const wd_restart_conf restart_defaults = {
  WD_SVC_DEFAULT_INITIAL_DELAY_NS, WD_SVC_DEFAULT_MAX_DELAY_NS,
  WD_SVC_DEFAULT_BACKOFF_FACTOR, WD_SVC_DEFAULT_JITTER,
  WD_SVC_DEFAULT_MAX_ATTEMPTS
};

/* A missing 'lifecycle' leaves every default (wd_node_get(NULL) is NULL). */
static int parse_service(ctx *c, wd_entry *e, const wd_node *n) {
  wd_service_conf *s = &e->u.svc;
  const wd_node *lc = wd_node_get(n, "lifecycle");
  int r;
  s->start_timeout_ns = WD_SVC_DEFAULT_START_TIMEOUT_NS;
  s->stop_timeout_ns = WD_SVC_DEFAULT_STOP_TIMEOUT_NS;
  s->stable_threshold_ns = WD_SVC_DEFAULT_STABLE_THRESHOLD_NS;
  s->restart = restart_defaults;
  if (wd_node_get(n, "process") == NULL)
    return fail(c, n,
                "missing required key 'process' (expected the id of a "
                "process.lua entry)");
  if ((r = get_ref(c, wd_node_get(n, "process"), "process", &s->process)) ||
      (r = get_ref(c, wd_node_get(n, "host"), "host", &s->host)) ||
      (r = get_strv(c, wd_node_get(n, "input"), "input", 1, &s->input)) ||
      (r = want_section(c, lc, "lifecycle", slife_keys)))
    return r;
  s->lifecycle = lc;
#define G(k) wd_node_get(lc, k)
  if ((r = get_bool(c, G("auto_start"), "lifecycle.auto_start",
                    &s->auto_start)) ||
      (r = get_duration(c, G("start_timeout"), "lifecycle.start_timeout", 1,
                        &s->start_timeout_ns)) ||
      (r = get_duration(c, G("stop_timeout"), "lifecycle.stop_timeout", 1,
                        &s->stop_timeout_ns)) ||
      (r = get_duration(c, G("stable_threshold"), "lifecycle.stable_threshold",
                        0, &s->stable_threshold_ns)) ||
      (r = get_strv(c, G("requires"), "lifecycle.requires", 0, &s->requires)) ||
      (r = parse_restart(c, G("restart"), &s->restart)))
    return r;
  return parse_sec(c, G("security"), "lifecycle.security", &s->sec);
#undef G
}

/* security.policy: the policy loader validates the rest. */

static const char *const policy_keys[] = { "policy", "groups", "meta", NULL };

static int parse_policy(ctx *c, wd_entry *e, const wd_node *n) {
  const wd_node *p = wd_node_get(n, "policy");
  int r;
  if (p == NULL)
    return fail(c, n,
                "missing required key 'policy' (expected a map of actions, "
                "resources, effect and conditions)");
  if ((r = want_map(c, p, "policy")) ||
      (r = get_strv(c, wd_node_get(n, "groups"), "groups", 0,
                    &e->u.policy.groupv)))
    return r;
  e->u.policy.policy = p;
  e->u.policy.groups = wd_node_get(n, "groups");
  return 0;
}

/* }====== */

/* {====== Index of entries by id ====== */

/*
** Arrays of the manifest grow at powers of two: with 'n' items the
** capacity is max(8, the next power of two >= n), so one more item needs
** a larger array exactly when 'n' is 0 or a power of two >= 8.
*/
static int need_grow(size_t n) {
  return n == 0 || (n >= 8 && (n & (n - 1)) == 0);
}

static size_t grown(size_t n) {
  return n == 0 ? 8 : n * 2;
}

struct wd_mindex {
  wd_entry **slots; /* open addressing, linear probing; NULL = free */
  size_t cap;       /* a power of two; at most half full */
  size_t n;
};

static size_t hash_id(const char *s) {
  uint64_t h = 1469598103934665603ull; /* FNV-1a */
  for (; *s != '\0'; s++)
    h = (h ^ (unsigned char)*s) * 1099511628211ull;
  return (size_t)h;
}

static wd_entry **index_slot(wd_entry **slots, size_t cap, const char *id) {
  size_t i = hash_id(id) & (cap - 1);
  while (slots[i] != NULL && strcmp(slots[i]->id, id) != 0)
    i = (i + 1) & (cap - 1);
  return &slots[i];
}

const wd_entry *wd_manifest_find(const wd_manifest *m, const char *id) {
  if (m == NULL || id == NULL || m->index == NULL || m->index->cap == 0)
    return NULL;
  return *index_slot(m->index->slots, m->index->cap, id);
}

/* Add 'e' to the index and the entry list. Returns 0 or WD_ENOMEM. */
static int add_entry(wd_manifest *m, wd_entry *e) {
  wd_mindex *x = m->index;
  size_t i;
  if ((x->n + 1) * 2 > x->cap) {
    size_t cap = x->cap ? x->cap * 2 : 64;
    wd_entry **slots = wd_calloc(cap, sizeof(wd_entry *));
    if (slots == NULL) return WD_ENOMEM;
    for (i = 0; i < x->cap; i++)
      if (x->slots[i] != NULL)
        *index_slot(slots, cap, x->slots[i]->id) = x->slots[i];
    wd_free(x->slots);
    x->slots = slots;
    x->cap = cap;
  }
  if (need_grow(m->nentries) || m->entries == NULL) {
    wd_entry **v =
        wd_realloc(m->entries, grown(m->nentries) * sizeof(wd_entry *));
    if (v == NULL) return WD_ENOMEM;
    m->entries = v;
  }
  *index_slot(x->slots, x->cap, e->id) = e;
  x->n++;
  e->index = m->nentries;
  m->entries[m->nentries++] = e;
  return 0;
}

/* }====== */

/* {====== Files ====== */

static const struct kinddef {
  const char *name;
  wd_kind kind;
  const char *const *keys;
  int (*parse)(ctx *c, wd_entry *e, const wd_node *n);
} kinds[] = {
  { "process.host", WD_KIND_HOST, host_keys, parse_host },
  { "process.lua", WD_KIND_LUA, lua_keys, parse_lua },
  { "library.lua", WD_KIND_LIBRARY, lib_keys, parse_lua },
  { "process.service", WD_KIND_SERVICE, svc_keys, parse_service },
  { "security.policy", WD_KIND_POLICY, policy_keys, parse_policy },
};

#define KIND_LIST                                                              \
  "process.host, process.lua, library.lua, process.service, security.policy"
#define IDENT_CHARS "letters, digits, '_', '.', '-'"

/* The kind of entry 'n', or NULL with the message written. */
static const struct kinddef *parse_kind(ctx *c, const wd_node *n) {
  const wd_node *k = wd_node_get(n, "kind");
  char b[SHOW_MAX];
  size_t i;
  if (k == NULL) {
    fail(c, n, "missing required key 'kind' (expected one of: %s)", KIND_LIST);
    return NULL;
  }
  if (want_scalar(c, k, "kind", "a string")) return NULL;
  for (i = 0; i < WD_COUNTOF(kinds); i++)
    if (strcmp(k->str, kinds[i].name) == 0) return &kinds[i];
  fail(c, k, "unknown kind '%s' (expected one of: %s)", show(b, k), KIND_LIST);
  return NULL;
}

static int parse_meta(ctx *c, wd_entry *e, const wd_node *n) {
  const wd_node *t;
  int r;
  if (n == NULL) return 0;
  if ((r = want_map(c, n, "meta"))) return r;
  e->meta = n;
  if ((t = wd_node_get(n, "type")) == NULL) return 0;
  return get_str(c, t, "meta.type", &e->meta_type);
}

static int parse_entry(ctx *c, size_t idx, const wd_node *n) {
  const struct kinddef *kd;
  const wd_node *nm;
  const wd_entry *dup;
  wd_entry *e;
  char b[SHOW_MAX];
  char *id;
  int r;
  snprintf(c->who, sizeof c->who, "entry #%zu", idx + 1);
  if (n->type != WD_NODE_MAP)
    return fail(c, n, "must be a map with 'name' and 'kind' (got a %s)",
                type_name(n));
  if ((nm = wd_node_get(n, "name")) == NULL)
    return fail(c, n, "missing required key 'name'");
  if ((r = want_scalar(c, nm, "name", "a string"))) return r;
  if (!valid_ident(nm))
    return fail(c, nm, "name '%s' has bad characters (expected %s)",
                show(b, nm), IDENT_CHARS);
  snprintf(c->who, sizeof c->who, "entry '%s'", show(b, nm));
  if ((kd = parse_kind(c, n)) == NULL) return WD_EINVAL;
  if ((r = check_keys(c, n, kd->keys, 1, "", ""))) return r;
  if ((id = make_id(c, nm->str, nm->len)) == NULL) return WD_ENOMEM;
  if ((dup = wd_manifest_find(c->m, id)) != NULL) {
    const wd_node *first = wd_node_get(dup->node, "name");
    return fail(c, nm, "duplicate entry id '%s' (first defined at %s:%d:%d)",
                id, first->file, first->line, first->col);
  }
  if ((e = wd_doc_alloc(c->doc, sizeof *e)) == NULL) return WD_ENOMEM;
  memset(e, 0, sizeof *e);
  e->id = id;
  e->ns = c->ns;
  e->name = nm->str;
  e->kind = kd->kind;
  e->kind_name = kd->name;
  e->node = n;
  if ((r = parse_meta(c, e, wd_node_get(n, "meta")))) return r;
  if ((r = kd->parse(c, e, n))) return r;
  return add_entry(c->m, e);
}

static const char *const top_keys[] = { "version", "namespace", "entries",
                                        NULL };

/* Check one parsed file and add its entries. */
static int load_root(ctx *c, const wd_node *root) {
  const wd_node *ns, *ents, *v;
  wd_node top = { .file = c->doc->file, .line = 1, .col = 1 };
  char b[SHOW_MAX];
  size_t i;
  int r;
  c->who[0] = '\0';
  if (root == NULL)
    return fail(c, &top,
                "file is empty (expected a map with 'namespace' and "
                "'entries')");
  if (root->type != WD_NODE_MAP)
    return fail(c, root,
                "top level must be a map with 'namespace' and 'entries' (got "
                "a %s)",
                type_name(root));
  if ((r = check_keys(c, root, top_keys, 0, "top-level ", ""))) return r;
  if ((v = wd_node_get(root, "version")) != NULL &&
      (r = want_scalar(c, v, "version", "a string")))
    return r;
  if ((ns = wd_node_get(root, "namespace")) == NULL)
    return fail(c, root, "missing required key 'namespace'");
  if ((r = want_scalar(c, ns, "namespace", "a string"))) return r;
  if (!valid_ident(ns))
    return fail(c, ns, "namespace '%s' has bad characters (expected %s)",
                show(b, ns), IDENT_CHARS);
  c->ns = ns->str;
  for (i = 0; i < c->nskip; i++)
    if (strcmp(c->skip[i], ns->str) == 0) return 0; /* deployed elsewhere */
  if ((ents = wd_node_get(root, "entries")) == NULL)
    return fail(c, root, "missing required key 'entries'");
  if (ents->type != WD_NODE_SEQ)
    return fail(c, ents, "'entries' must be a sequence of entries (got a %s)",
                type_name(ents));
  for (i = 0; i < ents->n; i++)
    if ((r = parse_entry(c, i, ents->kids[i]))) return r;
  c->who[0] = '\0';
  return 0;
}

/* Parse 'text' as file 'display' (kept by the manifest) and load it. */
static int load_text(ctx *c, const char *display, const char *text,
                     size_t len) {
  wd_doc *d = NULL, **v;
  int r;
  if (need_grow(c->m->ndocs) || c->m->docs == NULL) {
    v = wd_realloc(c->m->docs, grown(c->m->ndocs) * sizeof(wd_doc *));
    if (v == NULL) return WD_ENOMEM;
    c->m->docs = v;
  }
  if ((r = wd_yaml_parse(display, text, len, &d, c->err, c->errlen))) return r;
  c->m->docs[c->m->ndocs++] = d;
  c->doc = d;
  return load_root(c, d->root);
}

/* }====== */

/* {====== References ====== */

/* Entry id 'id' named by node 'at' ('what' in messages) must be a 'want'. */
static int check_ref(ctx *c, const wd_node *at, const char *what,
                     const char *id, wd_kind want, const wd_entry **out) {
  const wd_entry *t = wd_manifest_find(c->m, id);
  char b[SHOW_MAX];
  wd_yaml_excerpt(b, sizeof b, id, strlen(id));
  if (t == NULL)
    return fail(c, at,
                "%s refers to '%s', which does not exist (expected "
                "a %s)",
                what, b, kinds[want].name);
  if (t->kind != want)
    return fail(c, at, "%s refers to '%s', a %s (expected a %s)", what, b,
                t->kind_name, kinds[want].name);
  *out = t;
  return 0;
}

/*
** Check every reference between entries, now that all files are in:
** imports name library.lua entries, hosts process.host entries, services a
** process.lua. Runs again after each added file (idempotent).
*/
static int resolve(ctx *c) {
  char what[SHOW_MAX + 16], b[SHOW_MAX];
  size_t i, j;
  int r;
  for (i = 0; i < c->m->nentries; i++) {
    wd_entry *e = c->m->entries[i];
    const wd_node *n = e->node;
    wd_yaml_excerpt(b, sizeof b, e->name, strlen(e->name));
    snprintf(c->who, sizeof c->who, "entry '%s'", b);
    if (e->kind == WD_KIND_LUA || e->kind == WD_KIND_LIBRARY) {
      wd_lua_conf *lc = &e->u.lua;
      for (j = 0; j < lc->nimports; j++) {
        wd_import *im = &lc->imports[j];
        wd_yaml_excerpt(b, sizeof b, im->name, strlen(im->name));
        snprintf(what, sizeof what, "import '%s'", b);
        if ((r = check_ref(c, im->node, what, im->id, WD_KIND_LIBRARY,
                           &im->entry)))
          return r;
      }
      if (lc->host != NULL &&
          (r = check_ref(c, wd_node_get(n, "host"), "host", lc->host,
                         WD_KIND_HOST, &lc->host_entry)))
        return r;
    } else if (e->kind == WD_KIND_SERVICE) {
      wd_service_conf *s = &e->u.svc;
      if ((r = check_ref(c, wd_node_get(n, "process"), "process", s->process,
                         WD_KIND_LUA, &s->process_entry)) ||
          (s->host != NULL &&
           (r = check_ref(c, wd_node_get(n, "host"), "host", s->host,
                          WD_KIND_HOST, &s->host_entry))))
        return r;
    }
  }
  c->who[0] = '\0';
  return 0;
}

/* }====== */

/* {====== File system ====== */

/* 'prefix' joined with 'rel' in memory from 'd' (or wd_malloc if NULL). */
static char *join(wd_doc *d, const char *prefix, const char *rel) {
  size_t pl = strlen(prefix), rl = strlen(rel);
  int sep = pl > 0 && prefix[pl - 1] != '/';
  size_t n = pl + (size_t)sep + rl + 1;
  char *s = d ? wd_doc_alloc(d, n) : wd_malloc(n);
  if (s == NULL) return NULL;
  snprintf(s, n, "%s%s%s", prefix, sep ? "/" : "", rel);
  return s;
}

/*
** Open 'rel' (relative, normalised) below directory 'rootfd' without ever
** leaving it: openat2's RESOLVE_BENEATH refuses "..", absolute symlinks and
** symlinks that point outside, atomically. O_NONBLOCK keeps a FIFO from
** blocking the open; callers require a regular file.
** Returns an fd or -errno; -EXDEV means the path leaves the root.
*/
static int open_beneath(int rootfd, const char *rootpath, const char *rel) {
  struct open_how how;
  char full[PATH_MAX], real[PATH_MAX], rroot[PATH_MAX];
  long fd;
  size_t n;
  memset(&how, 0, sizeof how);
  how.flags = O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK;
  how.resolve = RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS;
  do
    fd = syscall(SYS_openat2, rootfd, rel, &how, sizeof how);
  while (fd == -1 && errno == EINTR);
  if (fd >= 0) return (int)fd;
  if (errno != ENOSYS && errno != EPERM) return -errno;
  /*
  ** No openat2 (Linux < 5.6, or a filter forbids it): resolve and compare.
  ** XXX: racy against a concurrent rename inside the tree; the broker
  ** reads the manifest once, at start.
  */
  if (snprintf(full, sizeof full, "%s/%s", rootpath, rel) >= (int)sizeof full)
    return -ENAMETOOLONG;
  if (realpath(rootpath, rroot) == NULL || realpath(full, real) == NULL)
    return -errno;
  n = strlen(rroot);
  if (strcmp(rroot, "/") != 0 &&
      (strncmp(real, rroot, n) != 0 || real[n] != '/'))
    return -EXDEV;
  do
    fd = open(real, (int)how.flags | O_NOFOLLOW);
  while (fd == -1 && errno == EINTR);
  return fd < 0 ? -errno : (int)fd;
}

/*
** Read all of regular file 'fd' (at most 'max' bytes) into memory from 'd'
** (or wd_malloc'ed if NULL, then the caller frees it), NUL-terminated.
** Returns 0, -errno, WD_EINVAL (not a regular file), WD_ETOOBIG,
** WD_ECONFLICT (grew while read) or WD_ENOMEM.
*/
static int read_all(int fd, size_t max, wd_doc *d, char **out, size_t *outlen) {
  struct stat st;
  size_t len = 0, size;
  ssize_t k;
  char *buf, extra;
  int r;
  if (fstat(fd, &st) == -1) return -errno;
  if (!S_ISREG(st.st_mode)) return WD_EINVAL;
  if (st.st_size < 0 || (uint64_t)st.st_size > max) return WD_ETOOBIG;
  size = (size_t)st.st_size;
  buf = d ? wd_doc_alloc(d, size + 1) : wd_malloc(size + 1);
  if (buf == NULL) return WD_ENOMEM;
  while (len < size) {
    do
      k = read(fd, buf + len, size - len);
    while (k == -1 && errno == EINTR);
    if (k < 0) {
      r = -errno;
      goto fail;
    }
    if (k == 0) break;
    len += (size_t)k;
  }
  do
    k = read(fd, &extra, 1);
  while (k == -1 && errno == EINTR);
  if (k != 0) {
    r = k > 0 ? WD_ECONFLICT : -errno;
    goto fail;
  }
  buf[len] = '\0';
  *out = buf;
  *outlen = len;
  return 0;
fail:
  if (d == NULL) wd_free(buf);
  return r;
}

static const char *io_reason(int r) {
  switch (r) {
    case WD_EINVAL:
      return "not a regular file";
    case WD_ETOOBIG:
      return "larger than the 4 MiB limit";
    case WD_ECONFLICT:
      return "changed while being read";
    case -EXDEV:
      return "resolves outside the app directory (through a symlink)";
    default:
      return strerror(-r);
  }
}

static int read_source(ctx *c, wd_lua_conf *lc, const wd_node *n,
                       const char *rel) {
  char b[SHOW_MAX], *buf;
  const char *disp;
  size_t len;
  int fd, r;
  if ((disp = join(c->doc, c->disp, rel)) == NULL) return WD_ENOMEM;
  if ((r = fd = open_beneath(c->rootfd, c->rootpath, rel)) >= 0) {
    r = read_all(fd, WD_MANIFEST_MAX_SOURCE, c->doc, &buf, &len);
    close(fd);
  }
  if (r == WD_ENOMEM) return r;
  if (r == -EXDEV)
    return fail(c, n, "source '%s' %s", show(b, n), io_reason(r));
  if (r < 0)
    return fail(c, n, "cannot read source '%s' (%s): %s", show(b, n), disp,
                io_reason(r));
  lc->source = buf;
  lc->source_len = len;
  lc->source_path = disp;
  return 0;
}

typedef struct pathv {
  char **v;
  size_t n;
} pathv;

static int push_path(pathv *pv, char *p) {
  if (need_grow(pv->n) || pv->v == NULL) {
    char **v = wd_realloc(pv->v, grown(pv->n) * sizeof *v);
    if (v == NULL) return WD_ENOMEM;
    pv->v = v;
  }
  pv->v[pv->n++] = p;
  return 0;
}

/* "DIR: cannot read directory: REASON" for directory 'rel' below the root;
   'why' NULL means strerror(-r). Returns 'r' (or WD_ENOMEM). */
static int dir_fail(ctx *c, int r, const char *rel, const char *why) {
  char *disp = join(NULL, c->disp, rel);
  if (disp == NULL) return WD_ENOMEM;
  r = fail_path(c, r, disp[0] ? disp : ".", "cannot read directory: %s",
                why ? why : strerror(-r));
  wd_free(disp);
  return r;
}

/*
** Collect the paths (relative to the root) of every _index.yaml below
** directory 'fd' (taken over and closed), which is 'rel' below the root.
** Symlinked directories are never entered, so the walk stays in the tree
** and cannot loop; a symlink named _index.yaml is collected and later
** opened with open_beneath like any file.
*/
static int walk(ctx *c, int fd, const char *rel, int depth, pathv *pv) {
  struct dirent *de;
  struct stat st;
  char *child;
  DIR *d;
  int r = 0, cfd;
  if ((d = fdopendir(fd)) == NULL) {
    r = -errno;
    close(fd);
    return dir_fail(c, r, rel, NULL);
  }
  for (;;) {
    errno = 0;
    if ((de = readdir(d)) == NULL) {
      if (errno != 0) r = dir_fail(c, -errno, rel, NULL);
      break;
    }
    if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, "..")) continue;
    if (fstatat(dirfd(d), de->d_name, &st, AT_SYMLINK_NOFOLLOW) == -1) {
      r = dir_fail(c, -errno, rel, NULL);
      break;
    }
    if (!S_ISDIR(st.st_mode) && (strcmp(de->d_name, "_index.yaml") != 0 ||
                                 !(S_ISREG(st.st_mode) || S_ISLNK(st.st_mode))))
      continue;
    if ((child = join(NULL, rel, de->d_name)) == NULL) {
      r = WD_ENOMEM;
      break;
    }
    if (!S_ISDIR(st.st_mode)) {
      if ((r = push_path(pv, child)) == 0) continue;
    } else if (depth == MAX_DIR_DEPTH) {
      r = dir_fail(c, WD_EINVAL, child, "nested deeper than 64 levels");
    } else if ((cfd = openat(dirfd(d), de->d_name,
                             O_RDONLY | O_DIRECTORY | O_NOFOLLOW |
                                 O_CLOEXEC)) == -1) {
      r = dir_fail(c, -errno, child, NULL);
    } else {
      r = walk(c, cfd, child, depth + 1, pv);
    }
    wd_free(child);
    if (r < 0) break;
  }
  closedir(d);
  return r;
}

static int cmp_path(const void *a, const void *b) {
  return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Read and load the _index.yaml at 'rel' below the root. */
static int load_index(ctx *c, const char *rel) {
  char *disp, *reldir = NULL, *text = NULL, *slash;
  size_t len;
  int fd, r;
  if ((disp = join(NULL, c->disp, rel)) == NULL) return WD_ENOMEM;
  if ((fd = open_beneath(c->rootfd, c->rootpath, rel)) < 0) {
    r = fail_path(c, WD_EINVAL, disp, "cannot read: %s", io_reason(fd));
    goto out;
  }
  r = read_all(fd, WD_MANIFEST_MAX_YAML, NULL, &text, &len);
  close(fd);
  if (r < 0) {
    if (r != WD_ENOMEM)
      r = fail_path(c, WD_EINVAL, disp, "cannot read: %s", io_reason(r));
    goto out;
  }
  if ((reldir = wd_strdup(rel)) == NULL) {
    r = WD_ENOMEM;
    goto out;
  }
  slash = strrchr(reldir, '/');
  *(slash ? slash : reldir) = '\0';
  c->reldir = reldir;
  r = load_text(c, disp, text, len);
out:
  wd_free(reldir);
  wd_free(text);
  wd_free(disp);
  return r;
}

/* }====== */

/* {====== Public API ====== */

static wd_manifest *manifest_new(void) {
  wd_manifest *m = wd_calloc(1, sizeof *m);
  if (m == NULL) return NULL;
  if ((m->index = wd_calloc(1, sizeof *m->index)) == NULL) {
    wd_free(m);
    return NULL;
  }
  return m;
}

void wd_manifest_free(wd_manifest *m) {
  size_t i;
  if (m == NULL) return;
  for (i = 0; i < m->ndocs; i++)
    wd_doc_free(m->docs[i]);
  wd_free(m->docs);
  wd_free(m->entries);
  if (m->index != NULL) wd_free(m->index->slots);
  wd_free(m->index);
  wd_free(m);
}

static void ctx_init(ctx *c, wd_manifest *m, char *err, size_t errlen) {
  memset(c, 0, sizeof *c);
  c->m = m;
  c->rootfd = -1;
  c->rootpath = c->disp = c->reldir = "";
  c->err = errlen > 0 ? err : NULL;
  c->errlen = errlen;
  if (errlen > 0) err[0] = '\0';
}

/* Common ending: on failure free 'm', and say "out of memory" for ENOMEM. */
static int finish(ctx *c, int r, wd_manifest *m, wd_manifest **out) {
  if (c->rootfd >= 0) close(c->rootfd);
  if (r == 0) {
    if (out != NULL) *out = m;
    return 0;
  }
  if (out != NULL) wd_manifest_free(m);
  if (r == WD_ENOMEM && c->errlen > 0)
    snprintf(c->err, c->errlen, "out of memory");
  return r;
}

/* Open directory 'path' as the root; "PATH: cannot open ..." on failure. */
static int open_root(ctx *c, const char *path, const char *what) {
  int fd;
  do
    fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  while (fd == -1 && errno == EINTR);
  if (fd == -1)
    return fail_path(c, -errno, path, "cannot open %s: %s", what,
                     strerror(errno));
  c->rootfd = fd;
  c->rootpath = path;
  return 0;
}

static int add_file_x(wd_manifest *m, const char *path, int resolved,
                      char *err, size_t errlen);

/* wd_manifest_load_dir and wd_manifest_load_app: the files of namespaces
** in 'skip' are left out, then 'extra' files added, then references
** resolved once. */
static int load_dir_x(const char *dir, const char *const *skip, size_t nskip,
                      const char *const *extra, size_t nextra,
                      wd_manifest **out, char *err, size_t errlen) {
  wd_manifest *m;
  pathv pv = { NULL, 0 };
  char *disp = NULL;
  size_t i, n;
  ctx c;
  int r, wfd;
  ctx_init(&c, NULL, err, errlen);
  if ((m = manifest_new()) == NULL || (disp = wd_strdup(dir)) == NULL) {
    r = WD_ENOMEM;
    goto out;
  }
  c.m = m;
  c.skip = skip;
  c.nskip = nskip;
  /* Messages say "app/x/_index.yaml" for "app/", "/x/_index.yaml" for "/". */
  for (n = strlen(disp); n > 1 && disp[n - 1] == '/'; n--)
    disp[n - 1] = '\0';
  c.disp = disp;
  if ((r = open_root(&c, dir, "app directory"))) goto out;
  if ((wfd = fcntl(c.rootfd, F_DUPFD_CLOEXEC, 0)) == -1) {
    r = fail_path(&c, -errno, disp, "cannot read directory: %s",
                  strerror(errno));
    goto out;
  }
  if ((r = walk(&c, wfd, "", 0, &pv))) goto out;
  if (pv.n == 0) {
    r = fail_path(&c, WD_EINVAL, disp, "no _index.yaml found below here");
    goto out;
  }
  qsort(pv.v, pv.n, sizeof *pv.v, cmp_path);
  for (i = 0; i < pv.n; i++)
    if ((r = load_index(&c, pv.v[i]))) goto out;
  for (i = 0; i < nextra; i++)
    if ((r = add_file_x(m, extra[i], 0, err, errlen))) goto out;
  r = resolve(&c);
out:
  for (i = 0; i < pv.n; i++)
    wd_free(pv.v[i]);
  wd_free(pv.v);
  r = finish(&c, r, m, out);
  wd_free(disp);
  return r;
}

int wd_manifest_load_dir(const char *dir, wd_manifest **out, char *err,
                         size_t errlen) {
  return load_dir_x(dir, NULL, 0, NULL, 0, out, err, errlen);
}

int wd_manifest_load_app(const char *dir, const char *const *skip,
                         size_t nskip, const char *const *extra,
                         size_t nextra, wd_manifest **out, char *err,
                         size_t errlen) {
  return load_dir_x(dir, skip, nskip, extra, nextra, out, err, errlen);
}

int wd_manifest_add_file(wd_manifest *m, const char *path, char *err,
                         size_t errlen) {
  return add_file_x(m, path, 1, err, errlen);
}

static int add_file_x(wd_manifest *m, const char *path, int resolved,
                      char *err, size_t errlen) {
  const char *slash = strrchr(path, '/');
  char *root = NULL, *text = NULL;
  size_t len = 0;
  ctx c;
  int r, fd;
  ctx_init(&c, m, err, errlen);
  /* Sources are read relative to, and confined to, the file's directory. */
  root = slash ? wd_strndup(path, slash == path ? 1 : (size_t)(slash - path))
               : wd_strdup(".");
  if (root == NULL) {
    r = WD_ENOMEM;
    goto out;
  }
  if ((r = open_root(&c, root, "directory"))) goto out;
  c.disp = slash ? root : "";
  do
    fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
  while (fd == -1 && errno == EINTR);
  if (fd == -1) {
    r = fail_path(&c, -errno, path, "cannot open: %s", strerror(errno));
    goto out;
  }
  r = read_all(fd, WD_MANIFEST_MAX_YAML, NULL, &text, &len);
  close(fd);
  if (r < 0) {
    if (r != WD_ENOMEM)
      r = fail_path(&c, WD_EINVAL, path, "cannot read: %s", io_reason(r));
    goto out;
  }
  if ((r = load_text(&c, path, text, len)) == 0 && resolved) r = resolve(&c);
out:
  wd_free(text);
  r = finish(&c, r, m, NULL);
  wd_free(root);
  return r;
}

int wd_manifest_load_string(const char *file, const char *text, size_t len,
                            const char *basedir, wd_manifest **out, char *err,
                            size_t errlen) {
  wd_manifest *m;
  ctx c;
  int r;
  ctx_init(&c, NULL, err, errlen);
  if ((m = manifest_new()) == NULL) return finish(&c, WD_ENOMEM, m, out);
  c.m = m;
  if (basedir != NULL) {
    if ((r = open_root(&c, basedir, "directory"))) goto out;
    c.disp = basedir;
  }
  if ((r = load_text(&c, file ? file : "-", text, len)) == 0) r = resolve(&c);
out:
  return finish(&c, r, m, out);
}

/* }====== */
