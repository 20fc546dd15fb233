/*
** tests/unit/test_manifest.c
** Manifest loading: a good multi-file app, then one test per error
** message, each asserting the full "file:line:col: message", and an OOM
** sweep over a whole load.
** Runs in: broker.
*/
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "ward/wd_manifest.h"

static char err[1024];
static char fixtures[PATH_MAX]; /* .../tests/unit/fixtures/manifest */
static char tmpdir[PATH_MAX];
static char oldcwd[PATH_MAX];

/* {====== Helpers ====== */

static void init_fixtures(void) {
  const char *slash = strrchr(__FILE__, '/');
  int n = slash ? (int)(slash - __FILE__) : 1;
  snprintf(fixtures, sizeof fixtures, "%.*s/fixtures/manifest", n,
           slash ? __FILE__ : ".");
}

/* Each file-system test runs in a fresh temporary directory (the cwd). */
static int setup_tmp(void **state) {
  (void)state;
  assert_non_null(getcwd(oldcwd, sizeof oldcwd));
  strcpy(tmpdir, "/tmp/wd_manifest_XXXXXX");
  assert_non_null(mkdtemp(tmpdir));
  assert_int_equal(chdir(tmpdir), 0);
  return 0;
}

static int rm_cb(const char *p, const struct stat *st, int flag,
                 struct FTW *f) {
  (void)st;
  (void)flag;
  (void)f;
  return remove(p);
}

static int teardown_tmp(void **state) {
  (void)state;
  assert_int_equal(chdir(oldcwd), 0);
  nftw(tmpdir, rm_cb, 16, FTW_DEPTH | FTW_PHYS);
  return 0;
}

/* Write 'text' to 'rel' below the cwd, creating its directories. */
static void put(const char *rel, const char *text) {
  char path[PATH_MAX], *s;
  FILE *f;
  snprintf(path, sizeof path, "%s", rel);
  for (s = strchr(path, '/'); s != NULL; s = strchr(s + 1, '/')) {
    *s = '\0';
    mkdir(path, 0755);
    *s = '/';
  }
  assert_non_null(f = fopen(path, "w"));
  fputs(text, f);
  fclose(f);
}

static wd_manifest *load_str(const char *text, int want) {
  wd_manifest *m = NULL;
  int r = wd_manifest_load_string("t.yaml", text, strlen(text), NULL, &m, err,
                                  sizeof err);
  if (r != want) fail_msg("got %d (%s), want %d", r, err, want);
  if (r != 0) assert_null(m);
  return m;
}

static void str_error(const char *text, const char *want) {
  load_str(text, WD_EINVAL);
  assert_string_equal(err, want);
}

/* Load 'dir', expect success, free it; returns a dummy non-NULL. */
static const void *load_dir_ok(const char *dir) {
  wd_manifest *m = NULL;
  int r = wd_manifest_load_dir(dir, &m, err, sizeof err);
  if (r != 0) fail_msg("got %d (%s)", r, err);
  wd_manifest_free(m);
  return dir;
}

static void dir_error(const char *dir, int code, const char *want) {
  wd_manifest *m = NULL;
  int r = wd_manifest_load_dir(dir, &m, err, sizeof err);
  if (r != code) fail_msg("got %d (%s), want %d", r, err, code);
  assert_null(m);
  assert_string_equal(err, want);
}

#define HEAD "namespace: app\nentries:\n"
#define LUA(name, src)                                                         \
  "  - name: " name "\n    kind: process.lua\n    source: " src "\n"

/* }====== */

/* {====== A good app ====== */

static void test_manifest_load_dir_good_app_loads_every_file(void **state) {
  char dir[PATH_MAX + 8], path[PATH_MAX + 32];
  const wd_entry *e, *w, *lib, *svc, *pol, *sh;
  wd_manifest *m = NULL;
  const wd_host_conf *h;
  (void)state;
  snprintf(dir, sizeof dir, "%s/app", fixtures);
  assert_int_equal(wd_manifest_load_dir(dir, &m, err, sizeof err), 0);
  assert_string_equal(err, "");
  assert_int_equal(m->ndocs, 4);
  assert_int_equal(m->nentries, 6);
  /* Sorted file order, entries in file order. */
  assert_string_equal(m->entries[0]->id, "app:processes");
  assert_string_equal(m->entries[1]->id, "app:worker");
  assert_string_equal(m->entries[2]->id, "app:worker_service");
  assert_string_equal(m->entries[3]->id, "app.lib:util");
  assert_string_equal(m->entries[4]->id, "app.procs:shared");
  assert_string_equal(m->entries[5]->id, "app.security:allow_send");
  snprintf(path, sizeof path, "%s/_index.yaml", dir);
  assert_string_equal(m->entries[0]->node->file, path);

  /* process.host */
  assert_non_null(e = wd_manifest_find(m, "app:processes"));
  assert_int_equal(e->kind, WD_KIND_HOST);
  assert_string_equal(e->kind_name, "process.host");
  assert_string_equal(e->ns, "app");
  assert_string_equal(e->name, "processes");
  assert_int_equal(e->node->line, 4);
  assert_int_equal(e->node->col, 5);
  h = &e->u.host;
  assert_int_equal(h->limits.max_processes, 500);
  assert_int_equal(h->limits.memory, 32u << 20);
  assert_int_equal(h->limits.mailbox, 1000);
  assert_int_equal(h->limits.max_payload, WD_HOST_DEFAULT_MAX_PAYLOAD);
  assert_int_equal(h->limits.cpu_ns, 30000000000ll);
  assert_int_equal(h->limits.slice_ns, 5000000);
  assert_int_equal(h->limits.turn_deadline_ns, WD_HOST_DEFAULT_DEADLINE_NS);
  assert_int_equal(h->limits.address_space, 1ull << 30);
  assert_int_equal(h->limits.spawn_rate, 0);
  assert_int_equal(h->restart, 1);
  assert_int_equal(h->auto_start, 1);
  assert_int_equal(h->sandbox_require, WD_SANDBOX_ALL);
  assert_non_null(h->security);
  assert_string_equal(h->def.actor_id, "app:default");
  assert_string_equal(wd_node_str(wd_node_get(h->def.actor_meta, "role")),
                      "worker");
  assert_int_equal(h->def.groups.n, 1);
  assert_string_equal(h->def.groups.v[0], "app:workers");
  assert_int_equal(h->def.policies.n, 0);
  assert_non_null(h->ceiling);
  assert_int_equal(h->ceil_actors.n, 1);
  assert_string_equal(h->ceil_actors.v[0], "app:*");
  assert_string_equal(h->ceil_groups.v[0], "app:workers");
  assert_string_equal(h->ceil_policies.v[0], "app.security:allow_send");

  /* process.lua, with imports, host shorthand, meta, security */
  assert_non_null(w = wd_manifest_find(m, "app:worker"));
  assert_non_null(lib = wd_manifest_find(m, "app.lib:util"));
  assert_int_equal(w->kind, WD_KIND_LUA);
  assert_string_equal(w->u.lua.source_uri, "file://worker.lua");
  snprintf(path, sizeof path, "%s/worker.lua", dir);
  assert_string_equal(w->u.lua.source_path, path);
  assert_non_null(strstr(w->u.lua.source, "return { run = run }"));
  assert_int_equal(w->u.lua.source_len, strlen(w->u.lua.source));
  assert_string_equal(w->u.lua.method, "run");
  assert_int_equal(w->u.lua.modules.n, 1);
  assert_string_equal(w->u.lua.modules.v[0], "time");
  assert_int_equal(w->u.lua.nimports, 1);
  assert_string_equal(w->u.lua.imports[0].name, "util");
  assert_string_equal(w->u.lua.imports[0].id, "app.lib:util");
  assert_ptr_equal(w->u.lua.imports[0].entry, lib);
  assert_string_equal(w->u.lua.host, "app:processes");
  assert_ptr_equal(w->u.lua.host_entry, e);
  assert_string_equal(w->meta_type, "test");
  assert_string_equal(wd_node_str(wd_node_get(w->meta, "comment")), "a worker");
  assert_string_equal(w->u.lua.sec.actor_id, "app:worker");
  assert_null(w->u.lua.sec.actor_meta);
  assert_string_equal(w->u.lua.sec.policies.v[0], "app.security:allow_send");

  /* library.lua */
  assert_int_equal(lib->kind, WD_KIND_LIBRARY);
  assert_null(lib->u.lua.method);
  assert_null(lib->u.lua.host);
  assert_null(lib->meta_type);
  assert_string_equal(lib->u.lua.source,
                      "local function twice(x) return 2 * x end\n"
                      "return { twice = twice }\n");

  /* process.service with parsed lifecycle and defaults */
  assert_non_null(svc = wd_manifest_find(m, "app:worker_service"));
  assert_int_equal(svc->kind, WD_KIND_SERVICE);
  assert_ptr_equal(svc->u.svc.process_entry, w);
  assert_ptr_equal(svc->u.svc.host_entry, e);
  assert_int_equal(svc->u.svc.input.n, 3);
  assert_string_equal(svc->u.svc.input.v[1], "2");
  assert_string_equal(svc->u.svc.input.v[2], "");
  assert_int_equal(svc->u.svc.auto_start, 1);
  assert_int_equal(svc->u.svc.start_timeout_ns, 90000000000ll);
  assert_int_equal(svc->u.svc.stop_timeout_ns, WD_SVC_DEFAULT_STOP_TIMEOUT_NS);
  assert_int_equal(svc->u.svc.stable_threshold_ns,
                   WD_SVC_DEFAULT_STABLE_THRESHOLD_NS);
  assert_string_equal(svc->u.svc.requires.v[0], "app:processes");
  assert_int_equal(svc->u.svc.restart.initial_delay_ns, 500000000);
  assert_int_equal(svc->u.svc.restart.max_delay_ns, 90000000000ll);
  assert_true(svc->u.svc.restart.backoff_factor == 1.5);
  assert_true(svc->u.svc.restart.jitter == 0.2);
  assert_int_equal(svc->u.svc.restart.max_attempts, 3);
  assert_string_equal(svc->u.svc.sec.actor_id, "service:worker");
  assert_string_equal(svc->u.svc.sec.groups.v[0], "app:workers");

  /* a source one directory up, still inside the app */
  assert_non_null(sh = wd_manifest_find(m, "app.procs:shared"));
  snprintf(path, sizeof path, "%s/worker.lua", dir);
  assert_string_equal(sh->u.lua.source_path, path);
  assert_string_equal(sh->u.lua.source, w->u.lua.source);
  assert_string_equal(sh->u.lua.method, "main");
  assert_null(sh->meta);

  /* security.policy: raw nodes */
  assert_non_null(pol = wd_manifest_find(m, "app.security:allow_send"));
  assert_int_equal(pol->kind, WD_KIND_POLICY);
  assert_string_equal(wd_node_str(wd_node_get(pol->u.policy.policy, "effect")),
                      "allow");
  assert_int_equal(pol->u.policy.groups->type, WD_NODE_SEQ);
  assert_string_equal(pol->u.policy.groupv.v[0], "workers");
  wd_manifest_free(m);
}

static void test_manifest_add_file_adds_policy_entries(void **state) {
  char dir[PATH_MAX + 8], path[PATH_MAX + 32];
  wd_manifest *m = NULL;
  const wd_entry *e;
  (void)state;
  snprintf(dir, sizeof dir, "%s/app", fixtures);
  snprintf(path, sizeof path, "%s/policies/ops.yaml", fixtures);
  assert_int_equal(wd_manifest_load_dir(dir, &m, err, sizeof err), 0);
  assert_int_equal(wd_manifest_add_file(m, path, err, sizeof err), 0);
  assert_int_equal(m->nentries, 7);
  assert_non_null(e = wd_manifest_find(m, "ops:deny_exec"));
  assert_ptr_equal(m->entries[6], e);
  assert_string_equal(e->node->file, path);
  assert_string_equal(wd_node_str(wd_node_get(e->u.policy.policy, "effect")),
                      "deny");
  /* The same file twice: every id is a duplicate. */
  assert_int_equal(wd_manifest_add_file(m, path, err, sizeof err), WD_EINVAL);
  assert_non_null(strstr(err, ":3:11: entry 'deny_exec': duplicate entry id "
                              "'ops:deny_exec' (first defined at "));
  wd_manifest_free(m);
}

static void test_manifest_add_file_missing_file_returns_errno(void **state) {
  wd_manifest *m = load_str("namespace: app\nentries: []\n", 0);
  (void)state;
  assert_int_equal(
      wd_manifest_add_file(m, "/nonexistent/p.yaml", err, sizeof err), -ENOENT);
  assert_string_equal(err, "/nonexistent: cannot open directory: No such file "
                           "or directory");
  wd_manifest_free(m);
}

static void
test_manifest_load_string_without_basedir_reads_no_source(void **state) {
  wd_manifest *m = load_str(HEAD LUA("w", "file://w.lua"), 0);
  const wd_entry *e = wd_manifest_find(m, "app:w");
  (void)state;
  assert_non_null(e);
  assert_string_equal(e->u.lua.source_uri, "file://w.lua");
  assert_null(e->u.lua.source);
  assert_null(e->u.lua.source_path);
  assert_string_equal(e->u.lua.method, "main");
  assert_null(wd_manifest_find(m, "app:nope"));
  assert_null(wd_manifest_find(m, "w"));
  assert_null(wd_manifest_find(NULL, "app:w"));
  wd_manifest_free(m);
  wd_manifest_free(NULL);
}

static void test_manifest_load_string_with_basedir_reads_source(void **state) {
  const char *text = HEAD LUA("w", "file://./sub/../w.lua");
  wd_manifest *m = NULL;
  const wd_entry *e;
  (void)state;
  put("base/w.lua", "return {}\n");
  assert_int_equal(wd_manifest_load_string("t.yaml", text, strlen(text), "base",
                                           &m, err, sizeof err),
                   0);
  e = wd_manifest_find(m, "app:w");
  assert_string_equal(e->u.lua.source, "return {}\n");
  assert_int_equal(e->u.lua.source_len, 10);
  assert_string_equal(e->u.lua.source_path, "base/w.lua");
  wd_manifest_free(m);
}

/* The queue bounds of issue 11: sizes, and zero is refused like any size. */
static void test_manifest_host_queue_bounds_are_sizes(void **state) {
  wd_manifest *m = load_str(HEAD "  - {name: h, kind: process.host, host: "
                                 "{mailbox_bytes: 8MiB, link_queue: 2MiB, "
                                 "output_buffer: 64KiB}}\n",
                            0);
  const wd_host_conf *h = &wd_manifest_find(m, "app:h")->u.host;
  (void)state;
  assert_int_equal(h->limits.mailbox_bytes, 8u << 20);
  assert_int_equal(h->limits.link_queue, 2u << 20);
  assert_int_equal(h->limits.output_buffer, 64u << 10);
  wd_manifest_free(m);
  str_error(HEAD "  - {name: h, kind: process.host, host: {link_queue: 0}}\n",
            "t.yaml:3:54: entry 'h': 'host.link_queue' must be greater than "
            "zero");
}

/* max_payload up to what ward supports (WD_HOST_MAX_PAYLOAD, 64 MiB) is
** taken as written; more is an error naming the line, never a clamp. */
static void test_manifest_host_max_payload_up_to_the_maximum(void **state) {
  wd_manifest *m = load_str(HEAD "  - {name: h, kind: process.host, host: "
                                 "{max_payload: 64MiB}}\n",
                            0);
  const wd_host_conf *h = &wd_manifest_find(m, "app:h")->u.host;
  (void)state;
  assert_int_equal(h->limits.max_payload, 64u << 20);
  assert_int_equal(WD_HOST_MAX_PAYLOAD, 64u << 20);
  wd_manifest_free(m);
  str_error(HEAD "  - {name: h, kind: process.host,\n"
                 "     host: {max_payload: 67108865}}\n",
            "t.yaml:4:26: entry 'h': 'host.max_payload' is 67108865 bytes, "
            "over the 67108864 (64MiB) ward supports");
  str_error(HEAD "  - {name: h, kind: process.host, host: {max_payload: 1GiB}}\n",
            "t.yaml:3:55: entry 'h': 'host.max_payload' is 1073741824 bytes, "
            "over the 67108864 (64MiB) ward supports");
}

static void test_manifest_host_without_options_gets_defaults(void **state) {
  wd_manifest *m = load_str(HEAD "  - {name: h, kind: process.host}\n", 0);
  const wd_host_conf *h = &wd_manifest_find(m, "app:h")->u.host;
  (void)state;
  assert_int_equal(h->limits.max_processes, 100000);
  assert_int_equal(h->limits.memory, 64u << 20);
  assert_int_equal(h->limits.mailbox, 100000);
  assert_int_equal(h->limits.max_payload, 1u << 20);
  assert_int_equal(h->limits.cpu_ns, 0);
  assert_int_equal(h->limits.slice_ns, 10000000);
  assert_int_equal(h->limits.turn_deadline_ns, 2000000000);
  assert_int_equal(h->limits.liveness_ns, 5000000000ll);
  assert_int_equal(h->limits.request_ns, 10000000000ll);
  assert_int_equal(h->limits.address_space, 4ull << 30);
  assert_int_equal(h->limits.spawn_rate, 0);
  assert_int_equal(h->limits.mailbox_bytes, 64u << 20);
  assert_int_equal(h->limits.link_queue, 64u << 20);
  assert_int_equal(h->limits.output_buffer, 1u << 20);
  assert_int_equal(h->restart, 0);
  assert_int_equal(h->auto_start, 0);
  assert_int_equal(h->sandbox_require, WD_SANDBOX_UNSET);
  assert_null(h->security);
  assert_null(h->def.actor_id);
  assert_null(h->ceiling);
  wd_manifest_free(m);
}

static void
test_manifest_service_without_lifecycle_gets_defaults(void **state) {
  wd_manifest *m = load_str(
      HEAD LUA(
          "p",
          "file://p.lua") "  - {name: s, kind: process.service, process: p}\n",
      0);
  const wd_service_conf *s = &wd_manifest_find(m, "app:s")->u.svc;
  (void)state;
  assert_string_equal(s->process, "app:p");
  assert_null(s->host);
  assert_null(s->lifecycle);
  assert_int_equal(s->auto_start, 0);
  assert_int_equal(s->start_timeout_ns, 10000000000ll);
  assert_int_equal(s->restart.initial_delay_ns, 1000000000);
  assert_int_equal(s->restart.max_delay_ns, 90000000000ll);
  assert_true(s->restart.backoff_factor == 2.0);
  assert_true(s->restart.jitter == 0.1);
  assert_int_equal(s->restart.max_attempts, 0);
  wd_manifest_free(m);
}

static void test_manifest_durations_parse_go_syntax(void **state) {
  static const struct {
    const char *text;
    int64_t ns;
  } cases[] = {
    { "1ns", 1 },
    { "1.5us", 1500 },
    { "2\xc2\xb5s", 2000 },
    { "3\xce\xbcs", 3000 },
    { "10ms", 10000000 },
    { ".5s", 500000000 },
    { "1.s", 1000000000 },
    { "1h2m3.5s", 3723500000000ll },
    { "1.000000001s", 1000000001 },
    { "1.0000000019s", 1000000001 },
    { "2562047h47m16.854775807s", INT64_MAX },
    { "9223372036854775807ns", INT64_MAX },
    { "+1s", 1000000000 },
    { "1m30s", 90000000000ll },
  };
  char text[256];
  wd_manifest *m;
  size_t i;
  (void)state;
  for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    snprintf(text, sizeof text,
             HEAD "  - {name: h, kind: process.host, host: {slice: '%s'}}\n",
             cases[i].text);
    m = load_str(text, 0);
    assert_int_equal(wd_manifest_find(m, "app:h")->u.host.limits.slice_ns,
                     cases[i].ns);
    wd_manifest_free(m);
  }
}

static void test_manifest_bad_durations_are_refused(void **state) {
  static const char *const bad[] = {
    "10",
    "1x",
    "s",
    "1.5",
    ".s",
    "1h-2m",
    "",
    "1 s",
    "1e3s",
    "2562047h47m16.854775808s",
    "99999999999999999999h",
  };
  char text[256];
  size_t i;
  (void)state;
  for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    snprintf(text, sizeof text,
             HEAD "  - {name: h, kind: process.host, host: {cpu: '%s'}}\n",
             bad[i]);
    load_str(text, WD_EINVAL);
    assert_non_null(strstr(err, "bad duration"));
  }
}

static void test_manifest_sizes_parse_units(void **state) {
  static const struct {
    const char *text;
    uint64_t bytes;
  } cases[] = {
    { "123", 123 },
    { "64MiB", 64ull << 20 },
    { "64MB", 64000000 },
    { "512KiB", 512 << 10 },
    { "1GiB", 1ull << 30 },
    { "2 gb", 2000000000 },
    { "7b", 7 },
    { "1TiB", 1ull << 40 },
    { "3kb", 3000 },
  };
  char text[256];
  wd_manifest *m;
  size_t i;
  (void)state;
  for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    snprintf(text, sizeof text,
             HEAD "  - {name: h, kind: process.host, host: {memory: %s}}\n",
             cases[i].text);
    m = load_str(text, 0);
    assert_int_equal(wd_manifest_find(m, "app:h")->u.host.limits.memory,
                     cases[i].bytes);
    wd_manifest_free(m);
  }
}

/* A symlinked directory is never entered, even if it holds an _index. */
static void test_manifest_load_dir_skips_symlinked_directories(void **state) {
  wd_manifest *m = NULL;
  (void)state;
  put("app/_index.yaml", HEAD LUA("w", "file://w.lua"));
  put("app/w.lua", "return {}\n");
  put("outside/_index.yaml", "namespace: evil\nentries: []\n");
  assert_int_equal(symlink("../outside", "app/linked"), 0);
  assert_int_equal(wd_manifest_load_dir("app/", &m, err, sizeof err), 0);
  assert_int_equal(m->ndocs, 1);
  assert_int_equal(m->nentries, 1);
  assert_string_equal(m->entries[0]->u.lua.source_path, "app/w.lua");
  assert_string_equal(m->entries[0]->node->file, "app/_index.yaml");
  wd_manifest_free(m);
}

/* A symlink inside the app pointing inside the app is fine. */
static void test_manifest_source_symlink_inside_app_is_read(void **state) {
  wd_manifest *m = NULL;
  (void)state;
  put("app/_index.yaml", HEAD LUA("w", "file://link.lua"));
  put("app/real/w.lua", "return 1\n");
  assert_int_equal(symlink("real/w.lua", "app/link.lua"), 0);
  assert_int_equal(wd_manifest_load_dir("app", &m, err, sizeof err), 0);
  assert_string_equal(m->entries[0]->u.lua.source, "return 1\n");
  wd_manifest_free(m);
}

static void test_manifest_entries_may_be_empty(void **state) {
  wd_manifest *m = load_str("namespace: app\nentries: []\n", 0);
  (void)state;
  assert_int_equal(m->nentries, 0);
  wd_manifest_free(m);
}

/* }====== */

/* {====== File-level errors ====== */

static void test_manifest_top_level_not_a_map_is_refused(void **state) {
  (void)state;
  str_error("- a\n- b\n", "t.yaml:1:1: top level must be a map with "
                          "'namespace' and 'entries' (got a sequence)");
}

static void test_manifest_empty_file_is_refused(void **state) {
  (void)state;
  str_error("# nothing\n", "t.yaml:1:1: file is empty (expected a map with "
                           "'namespace' and 'entries')");
}

static void test_manifest_yaml_error_is_passed_through(void **state) {
  (void)state;
  str_error("namespace: &a app\n", "t.yaml:1:12: anchors (&a) are not "
                                   "allowed: write the value out in full");
}

static void test_manifest_missing_namespace_is_refused(void **state) {
  (void)state;
  str_error("version: 1\nentries: []\n",
            "t.yaml:1:1: missing required key 'namespace'");
}

static void test_manifest_bad_namespace_characters_are_refused(void **state) {
  (void)state;
  str_error("namespace: 'a:b'\nentries: []\n",
            "t.yaml:1:12: namespace 'a:b' has bad characters (expected "
            "letters, digits, '_', '.', '-')");
}

/* A host's id is the host part of its PIDs and the target_host of every
** decision about them: one too long for a PID is refused at load, so no
** buffer on either side ever cuts it. */
static void test_manifest_host_id_too_long_for_a_pid_is_refused(void **state) {
  char y[700], want[300];
  char name[260];
  (void)state;
  memset(name, 'h', 254);
  name[254] = '\0'; /* "a:" + 254 = 256 bytes, one over */
  snprintf(y, sizeof y, "namespace: a\nentries:\n  - {name: %s, kind: "
           "process.host}\n", name);
  snprintf(want, sizeof want, "t.yaml:3:12: entry '%.68s...': a host id is "
           "the host part of its PIDs: at most 255 bytes, no control "
           "characters, '{', '|' or '}' (this one has 256)", name);
  str_error(y, want);
  name[253] = '\0'; /* 255 bytes: fine */
  snprintf(y, sizeof y, "namespace: a\nentries:\n  - {name: %s, kind: "
           "process.host}\n", name);
  wd_manifest_free(load_str(y, 0));
}

static void test_manifest_namespace_not_a_string_is_refused(void **state) {
  (void)state;
  str_error("namespace: [a]\nentries: []\n",
            "t.yaml:1:12: 'namespace' must be a string (got a sequence)");
}

static void test_manifest_unknown_top_level_key_is_refused(void **state) {
  (void)state;
  str_error("namespace: app\nentires: []\n",
            "t.yaml:2:1: unknown top-level key 'entires' (expected one of: "
            "version, namespace, entries)");
}

static void test_manifest_missing_entries_is_refused(void **state) {
  (void)state;
  str_error("namespace: app\n", "t.yaml:1:1: missing required key 'entries'");
}

static void test_manifest_entries_not_a_list_is_refused(void **state) {
  (void)state;
  str_error("namespace: app\nentries:\n  w: {}\n",
            "t.yaml:3:3: 'entries' must be a sequence of entries (got a map)");
}

static void test_manifest_entry_not_a_map_is_refused(void **state) {
  (void)state;
  str_error(HEAD "  - {name: a, kind: library.lua, source: 'file://a'}\n"
                 "  - just text\n",
            "t.yaml:4:5: entry #2: must be a map with 'name' and 'kind' (got "
            "a scalar)");
}

/* }====== */

/* {====== Entry errors ====== */

static void test_manifest_missing_name_is_refused(void **state) {
  (void)state;
  str_error(HEAD "  - kind: process.lua\n",
            "t.yaml:3:5: entry #1: missing required key 'name'");
}

static void test_manifest_bad_name_characters_are_refused(void **state) {
  (void)state;
  str_error(HEAD "  - name: bad name\n    kind: process.lua\n",
            "t.yaml:3:11: entry #1: name 'bad name' has bad characters "
            "(expected letters, digits, '_', '.', '-')");
}

static void test_manifest_name_with_nul_is_refused(void **state) {
  (void)state;
  str_error(HEAD "  - name: \"a\\0b\"\n    kind: process.lua\n",
            "t.yaml:3:11: entry #1: 'name' contains a NUL byte");
}

static void test_manifest_missing_kind_is_refused(void **state) {
  (void)state;
  str_error(HEAD "  - name: w\n",
            "t.yaml:3:5: entry 'w': missing required key 'kind' (expected "
            "one of: process.host, process.lua, library.lua, "
            "process.service, security.policy)");
}

static void test_manifest_unknown_kind_is_refused(void **state) {
  (void)state;
  str_error(HEAD "  - name: w\n    kind: process.wasm\n",
            "t.yaml:4:11: entry 'w': unknown kind 'process.wasm' (expected "
            "one of: process.host, process.lua, library.lua, "
            "process.service, security.policy)");
}

static void test_manifest_unknown_entry_key_is_refused(void **state) {
  (void)state;
  str_error(HEAD "  - name: worker\n    kind: process.lua\n"
                 "    sorce: file://w.lua\n",
            "t.yaml:5:5: entry 'worker': unknown key 'sorce' (expected one "
            "of: source, method, modules, imports, host, meta, security)");
}

static void test_manifest_method_on_library_is_unknown_key(void **state) {
  (void)state;
  str_error(HEAD
            "  - name: l\n    kind: library.lua\n    source: file://l.lua\n"
            "    method: main\n",
            "t.yaml:6:5: entry 'l': unknown key 'method' (expected one of: "
            "source, modules, imports, meta)");
}

static void test_manifest_unknown_host_option_is_refused(void **state) {
  (void)state;
  str_error(HEAD "  - name: h\n    kind: process.host\n    host:\n"
                 "      memroy: 1MiB\n",
            "t.yaml:6:7: entry 'h': unknown key 'memroy' in 'host' (expected "
            "one of: max_processes, memory, mailbox, max_payload, cpu, slice, "
            "turn_deadline, liveness, request_timeout, address_space, "
            "spawn_rate, max_names, max_watches, mailbox_bytes, link_queue, "
            "output_buffer, send_timeout, output_rate, workers, queue_size, "
            "local_queue_size)");
}

static void test_manifest_duplicate_id_in_one_file_names_both(void **state) {
  (void)state;
  str_error(HEAD LUA("w", "file://a.lua") LUA("w", "file://b.lua"),
            "t.yaml:6:11: entry 'w': duplicate entry id 'app:w' (first "
            "defined at t.yaml:3:11)");
}

static void test_manifest_duplicate_id_across_files_names_both(void **state) {
  (void)state;
  put("app/_index.yaml", HEAD LUA("w", "file://w.lua"));
  put("app/w.lua", "return {}\n");
  put("app/z/_index.yaml", "namespace: app\nentries:\n  - {name: w, kind: "
                           "process.host}\n");
  dir_error("app", WD_EINVAL,
            "app/z/_index.yaml:3:12: entry 'w': duplicate entry id 'app:w' "
            "(first defined at app/_index.yaml:3:11)");
}

static void test_manifest_missing_source_is_refused(void **state) {
  (void)state;
  str_error(HEAD "  - name: w\n    kind: process.lua\n",
            "t.yaml:3:5: entry 'w': missing required key 'source' (expected "
            "source: file://NAME.lua)");
}

static void test_manifest_source_without_file_scheme_is_refused(void **state) {
  (void)state;
  str_error(HEAD LUA("w", "w.lua"),
            "t.yaml:5:13: entry 'w': source 'w.lua' must start with file:// "
            "(e.g. source: file://main.lua)");
}

static void test_manifest_source_absolute_path_is_refused(void **state) {
  (void)state;
  str_error(HEAD LUA("w", "file:///etc/passwd"),
            "t.yaml:5:13: entry 'w': source 'file:///etc/passwd' is an "
            "absolute path (expected a path relative to the directory of "
            "t.yaml)");
}

static void test_manifest_source_escaping_with_dotdot_is_refused(void **state) {
  (void)state;
  str_error(HEAD LUA("w", "file://a/../../w.lua"),
            "t.yaml:5:13: entry 'w': source 'file://a/../../w.lua' escapes "
            "the app directory");
}

/* From a subdirectory, one '..' is fine and two leave the app. */
static void test_manifest_source_escaping_from_subdir_is_refused(void **state) {
  (void)state;
  put("app/_index.yaml", "namespace: app\nentries: []\n");
  put("app/w.lua", "return {}\n");
  put("app/sub/_index.yaml", "namespace: sub\nentries:\n"
                             "  - {name: ok, kind: library.lua, source: "
                             "'file://../w.lua'}\n"
                             "  - {name: bad, kind: library.lua, source: "
                             "'file://../../w.lua'}\n");
  dir_error("app", WD_EINVAL,
            "app/sub/_index.yaml:4:44: entry 'bad': source "
            "'file://../../w.lua' escapes the app directory");
}

static void test_manifest_source_symlink_escaping_is_refused(void **state) {
  (void)state;
  put("app/_index.yaml", HEAD LUA("w", "file://w.lua"));
  put("secret.lua", "return 'secret'\n");
  assert_int_equal(symlink("../secret.lua", "app/w.lua"), 0);
  dir_error("app", WD_EINVAL,
            "app/_index.yaml:5:13: entry 'w': source 'file://w.lua' resolves "
            "outside the app directory (through a symlink)");
}

static void test_manifest_source_absolute_symlink_is_refused(void **state) {
  (void)state;
  put("app/_index.yaml", HEAD LUA("w", "file://w.lua"));
  assert_int_equal(symlink("/etc/passwd", "app/w.lua"), 0);
  dir_error("app", WD_EINVAL,
            "app/_index.yaml:5:13: entry 'w': source 'file://w.lua' resolves "
            "outside the app directory (through a symlink)");
}

static void test_manifest_index_symlink_escaping_is_refused(void **state) {
  (void)state;
  put("app/real/_index.yaml", "namespace: app\nentries: []\n");
  put("evil.yaml", "namespace: evil\nentries: []\n");
  assert_int_equal(symlink("../../evil.yaml", "app/real2_index"), 0);
  assert_int_equal(mkdir("app/x", 0755), 0);
  assert_int_equal(symlink("../../evil.yaml", "app/x/_index.yaml"), 0);
  dir_error("app", WD_EINVAL,
            "app/x/_index.yaml: cannot read: resolves outside the app "
            "directory (through a symlink)");
}

static void test_manifest_missing_source_file_is_refused(void **state) {
  (void)state;
  put("app/_index.yaml", HEAD LUA("w", "file://nope.lua"));
  dir_error("app", WD_EINVAL,
            "app/_index.yaml:5:13: entry 'w': cannot read source "
            "'file://nope.lua' (app/nope.lua): No such file or directory");
}

static void test_manifest_source_directory_is_refused(void **state) {
  (void)state;
  put("app/_index.yaml", HEAD LUA("w", "file://d"));
  assert_int_equal(mkdir("app/d", 0755), 0);
  dir_error("app", WD_EINVAL,
            "app/_index.yaml:5:13: entry 'w': cannot read source 'file://d' "
            "(app/d): not a regular file");
}

static void test_manifest_source_fifo_does_not_block(void **state) {
  (void)state;
  put("app/_index.yaml", HEAD LUA("w", "file://f"));
  assert_int_equal(mkfifo("app/f", 0600), 0);
  dir_error("app", WD_EINVAL,
            "app/_index.yaml:5:13: entry 'w': cannot read source 'file://f' "
            "(app/f): not a regular file");
}

static void test_manifest_source_over_4mib_is_refused(void **state) {
  int fd;
  (void)state;
  put("app/_index.yaml", HEAD LUA("w", "file://big.lua"));
  assert_true((fd = open("app/big.lua", O_WRONLY | O_CREAT, 0644)) >= 0);
  assert_int_equal(ftruncate(fd, WD_MANIFEST_MAX_SOURCE + 1), 0);
  close(fd);
  dir_error("app", WD_EINVAL,
            "app/_index.yaml:5:13: entry 'w': cannot read source "
            "'file://big.lua' (app/big.lua): larger than the 4 MiB limit");
}

static void test_manifest_source_of_exactly_4mib_is_read(void **state) {
  wd_manifest *m = NULL;
  int fd;
  (void)state;
  put("app/_index.yaml", HEAD LUA("w", "file://big.lua"));
  assert_true((fd = open("app/big.lua", O_WRONLY | O_CREAT, 0644)) >= 0);
  assert_int_equal(ftruncate(fd, WD_MANIFEST_MAX_SOURCE), 0);
  close(fd);
  assert_int_equal(wd_manifest_load_dir("app", &m, err, sizeof err), 0);
  assert_int_equal(m->entries[0]->u.lua.source_len, WD_MANIFEST_MAX_SOURCE);
  wd_manifest_free(m);
}

static void test_manifest_bad_duration_is_refused(void **state) {
  (void)state;
  str_error(HEAD "  - name: h\n    kind: process.host\n    host:\n"
                 "      slice: 10 parsecs\n",
            "t.yaml:6:14: entry 'h': bad duration '10 parsecs' for "
            "'host.slice' (expected a number with a unit: ns, us, ms, s, m, "
            "h, e.g. 10ms or 1m30s)");
}

static void test_manifest_zero_slice_is_refused(void **state) {
  (void)state;
  str_error(HEAD "  - {name: h, kind: process.host, host: {slice: 0}}\n",
            "t.yaml:3:49: entry 'h': 'host.slice' must be greater than zero "
            "(got '0')");
}

static void test_manifest_liveness_and_request_timeout_are_read(void **state) {
  wd_manifest *m = load_str(HEAD "  - {name: h, kind: process.host, host: "
                                 "{liveness: 1500ms, request_timeout: 2s}}\n",
                            0);
  const wd_host_limits *l = &wd_manifest_find(m, "app:h")->u.host.limits;
  (void)state;
  assert_int_equal(l->liveness_ns, 1500000000ll);
  assert_int_equal(l->request_ns, 2000000000ll);
  wd_manifest_free(m);
}

static void test_manifest_zero_liveness_is_refused(void **state) {
  (void)state;
  str_error(HEAD "  - {name: h, kind: process.host, host: {liveness: 0}}\n",
            "t.yaml:3:52: entry 'h': 'host.liveness' must be greater than "
            "zero (got '0')");
}

static void test_manifest_negative_duration_is_refused(void **state) {
  (void)state;
  str_error(HEAD "  - {name: h, kind: process.host, host: {cpu: -1s}}\n",
            "t.yaml:3:47: entry 'h': 'host.cpu' must be zero or more (got "
            "'-1s')");
}

/* The manifest reads durations with wd_duration_parse (runtime/duration.c),
** so -2^63 ns is a duration (a negative one), not bad syntax. */
static void test_manifest_most_negative_duration_is_negative(void **state) {
  (void)state;
  str_error(HEAD "  - {name: h, kind: process.host, host: {cpu: "
                 "-9223372036854775808ns}}\n",
            "t.yaml:3:47: entry 'h': 'host.cpu' must be zero or more (got "
            "'-9223372036854775808ns')");
}

static void test_manifest_bad_memory_size_is_refused(void **state) {
  (void)state;
  str_error(HEAD "  - name: h\n    kind: process.host\n    host:\n"
                 "      memory: 64 parsecs\n",
            "t.yaml:6:15: entry 'h': bad size '64 parsecs' for 'host.memory' "
            "(expected bytes or a number with a unit: KB, KiB, MB, MiB, GB, "
            "GiB, e.g. 64MiB)");
}

static void test_manifest_huge_memory_size_is_refused(void **state) {
  (void)state;
  str_error(HEAD "  - {name: h, kind: process.host, host: {memory: 9EiB}}\n",
            "t.yaml:3:50: entry 'h': bad size '9EiB' for 'host.memory' "
            "(expected bytes or a number with a unit: KB, KiB, MB, MiB, GB, "
            "GiB, e.g. 64MiB)");
  str_error(HEAD "  - {name: h, kind: process.host, host: {memory: "
                 "9000000TiB}}\n",
            "t.yaml:3:50: entry 'h': bad size '9000000TiB' for 'host.memory' "
            "(expected bytes or a number with a unit: KB, KiB, MB, MiB, GB, "
            "GiB, e.g. 64MiB)");
}

static void test_manifest_bad_integer_is_refused(void **state) {
  (void)state;
  str_error(HEAD "  - {name: h, kind: process.host, host: {mailbox: 1e3}}\n",
            "t.yaml:3:51: entry 'h': 'host.mailbox' must be an integer (got "
            "'1e3')");
  str_error(HEAD "  - {name: h, kind: process.host, host: {mailbox: 0}}\n",
            "t.yaml:3:51: entry 'h': 'host.mailbox' must be at least 1 (got "
            "0)");
}

static void test_manifest_bad_bool_is_refused(void **state) {
  (void)state;
  str_error(HEAD "  - {name: h, kind: process.host, restart: yes}\n",
            "t.yaml:3:44: entry 'h': 'restart' must be true or false (got "
            "'yes')");
}

static void test_manifest_bad_sandbox_require_is_refused(void **state) {
  (void)state;
  str_error(HEAD "  - {name: h, kind: process.host, sandbox: {require: some}}"
                 "\n",
            "t.yaml:3:54: entry 'h': 'sandbox.require' must be all or none "
            "(got 'some')");
}

static void test_manifest_bad_jitter_is_refused(void **state) {
  (void)state;
  str_error(
      HEAD LUA("p", "file://p.lua") "  - name: s\n    kind: process.service\n  "
                                    "  process: p\n"
                                    "    lifecycle: {restart: {jitter: 1.5}}\n",
      "t.yaml:9:35: entry 's': 'lifecycle.restart.jitter' must be a "
      "number from 0 to 1 (got '1.5')");
}

static void test_manifest_import_of_non_library_is_refused(void **state) {
  (void)state;
  str_error(
      HEAD LUA("other", "file://o.lua") "  - name: w\n    kind: process.lua\n  "
                                        "  source: file://w.lua\n"
                                        "    imports:\n      util: app:other\n",
      "t.yaml:10:13: entry 'w': import 'util' refers to 'app:other', a "
      "process.lua (expected a library.lua)");
}

static void test_manifest_import_of_missing_entry_is_refused(void **state) {
  (void)state;
  str_error(HEAD
            "  - name: w\n    kind: process.lua\n    source: file://w.lua\n"
            "    imports: {util: lib:util}\n",
            "t.yaml:6:21: entry 'w': import 'util' refers to 'lib:util', "
            "which does not exist (expected a library.lua)");
}

/* Imports are checked after every file is in, so order does not matter. */
static void test_manifest_import_of_later_library_is_accepted(void **state) {
  wd_manifest *m = load_str(HEAD "  - name: w\n    kind: process.lua\n"
                                 "    source: file://w.lua\n"
                                 "    imports: {u: l}\n"
                                 "  - {name: l, kind: library.lua, source: "
                                 "'file://l.lua'}\n",
                            0);
  (void)state;
  assert_ptr_equal(wd_manifest_find(m, "app:w")->u.lua.imports[0].entry,
                   wd_manifest_find(m, "app:l"));
  wd_manifest_free(m);
}

static void test_manifest_host_reference_to_non_host_is_refused(void **state) {
  (void)state;
  str_error(HEAD
            "  - {name: lib, kind: library.lua, source: 'file://l.lua'}\n"
            "  - name: w\n    kind: process.lua\n    source: file://w.lua\n"
            "    host: app:lib\n",
            "t.yaml:7:11: entry 'w': host refers to 'app:lib', a library.lua "
            "(expected a process.host)");
}

static void test_manifest_host_reference_to_missing_is_refused(void **state) {
  (void)state;
  str_error(HEAD "  - {name: s, kind: process.service, process: app:s2, "
                 "host: nowhere}\n"
                 "  - {name: s2, kind: process.lua, source: 'file://s.lua'}\n",
            "t.yaml:3:61: entry 's': host refers to 'app:nowhere', which does "
            "not exist (expected a process.host)");
}

static void test_manifest_service_process_must_be_process_lua(void **state) {
  (void)state;
  str_error(HEAD "  - {name: h, kind: process.host}\n"
                 "  - {name: s, kind: process.service, process: h}\n",
            "t.yaml:4:47: entry 's': process refers to 'app:h', a "
            "process.host (expected a process.lua)");
}

static void test_manifest_service_without_process_is_refused(void **state) {
  (void)state;
  str_error(HEAD "  - {name: s, kind: process.service}\n",
            "t.yaml:3:5: entry 's': missing required key 'process' (expected "
            "the id of a process.lua entry)");
}

static void test_manifest_policy_must_be_a_map(void **state) {
  (void)state;
  str_error(HEAD "  - {name: p, kind: security.policy, policy: [allow]}\n",
            "t.yaml:3:46: entry 'p': 'policy' must be a map (got a "
            "sequence)");
  str_error(HEAD "  - {name: p, kind: security.policy, groups: [a]}\n",
            "t.yaml:3:5: entry 'p': missing required key 'policy' (expected "
            "a map of actions, resources, effect and conditions)");
}

static void test_manifest_security_actor_without_id_is_refused(void **state) {
  (void)state;
  str_error(
      HEAD LUA("w", "file://w.lua") "    security: {actor: {meta: {a: 1}}}\n",
      "t.yaml:6:23: entry 'w': 'security.actor' is missing required "
      "key 'id'");
}

static void test_manifest_security_unknown_key_is_refused(void **state) {
  (void)state;
  str_error(HEAD LUA("w", "file://w.lua") "    security: {group: [a]}\n",
            "t.yaml:6:16: entry 'w': unknown key 'group' in 'security' "
            "(expected one of: actor, groups, policies)");
}

static void test_manifest_modules_not_strings_is_refused(void **state) {
  (void)state;
  str_error(HEAD LUA("w", "file://w.lua") "    modules: [time, [x]]\n",
            "t.yaml:6:21: entry 'w': 'modules' item 2 must be a string (got "
            "a sequence)");
  str_error(HEAD LUA("w", "file://w.lua") "    modules: time\n",
            "t.yaml:6:14: entry 'w': 'modules' must be a sequence of strings "
            "(got a scalar)");
}

static void test_manifest_meta_not_a_map_is_refused(void **state) {
  (void)state;
  str_error(HEAD LUA("w", "file://w.lua") "    meta: test\n",
            "t.yaml:6:11: entry 'w': 'meta' must be a map (got a scalar)");
  str_error(HEAD LUA("w", "file://w.lua") "    meta: {type: [a]}\n",
            "t.yaml:6:18: entry 'w': 'meta.type' must be a string (got a "
            "sequence)");
}

static void test_manifest_unknown_key_with_nul_is_refused(void **state) {
  (void)state;
  str_error(HEAD LUA("w", "file://w.lua") "    \"host\\0x\": h\n",
            "t.yaml:6:5: entry 'w': unknown key 'host?x' (expected one of: "
            "source, method, modules, imports, host, meta, security)");
}

static void test_manifest_dir_without_index_is_refused(void **state) {
  (void)state;
  put("app/notes.yaml", "a: 1\n");
  dir_error("app", WD_EINVAL, "app: no _index.yaml found below here");
}

static void test_manifest_missing_dir_returns_enoent(void **state) {
  (void)state;
  dir_error("nope", -ENOENT,
            "nope: cannot open app directory: No such file "
            "or directory");
}

static void test_manifest_unreadable_subdir_is_reported(void **state) {
  (void)state;
  if (geteuid() == 0) skip(); /* root reads every directory */
  put("app/_index.yaml", "namespace: app\nentries: []\n");
  assert_int_equal(mkdir("app/locked", 0), 0);
  dir_error("app", -EACCES,
            "app/locked: cannot read directory: Permission "
            "denied");
  chmod("app/locked", 0755);
}

static void test_manifest_directories_nested_65_deep_are_refused(void **state) {
  char path[512] = "app", want[600];
  int i;
  (void)state;
  put("app/_index.yaml", "namespace: app\nentries: []\n");
  for (i = 0; i < 64; i++) {
    strcat(path, "/d");
    assert_int_equal(mkdir(path, 0755), 0);
  }
  assert_non_null(load_dir_ok("app")); /* 64 levels below the app: fine */
  strcat(path, "/d");
  assert_int_equal(mkdir(path, 0755), 0);
  snprintf(want, sizeof want,
           "%s: cannot read directory: nested deeper than 64 levels", path);
  dir_error("app", WD_EINVAL, want);
}

static void test_manifest_first_error_in_sorted_order_wins(void **state) {
  (void)state;
  put("app/b/_index.yaml", "namespace: b\nbad: 1\n");
  put("app/a/_index.yaml", "namespace: a\nworse: 1\n");
  dir_error("app", WD_EINVAL,
            "app/a/_index.yaml:2:1: unknown top-level key 'worse' (expected "
            "one of: version, namespace, entries)");
}

/* }====== */

/* {====== OOM sweep ====== */

#include "oom.h"

static void
test_manifest_load_oom_at_each_allocation_returns_enomem(void **state) {
  char dir[PATH_MAX + 8], pol[PATH_MAX + 32];
  wd_manifest *m;
  int r;
  (void)state;
  snprintf(dir, sizeof dir, "%s/app", fixtures);
  snprintf(pol, sizeof pol, "%s/policies/ops.yaml", fixtures);
  for (fail_at = 1;; fail_at++) {
    calls = live = 0;
    m = NULL;
    wd_replace_allocator(oom_malloc, oom_realloc, oom_free);
    r = wd_manifest_load_dir(dir, &m, err, sizeof err);
    if (r == 0) {
      r = wd_manifest_add_file(m, pol, err, sizeof err);
      wd_manifest_free(m);
    }
    wd_replace_allocator(NULL, NULL, NULL);
    assert_int_equal(live, 0);
    if (r == 0) break;
    if (r != WD_ENOMEM) fail_msg("k=%ld: %d %s", fail_at, r, err);
    assert_string_equal(err, "out of memory");
  }
  assert_true(fail_at > 20);
}

/* }====== */

#define T(f) cmocka_unit_test_setup_teardown(f, setup_tmp, teardown_tmp)

int main(void) {
  const struct CMUnitTest tests[] = {
    T(test_manifest_load_dir_good_app_loads_every_file),
    T(test_manifest_add_file_adds_policy_entries),
    T(test_manifest_add_file_missing_file_returns_errno),
    T(test_manifest_load_string_without_basedir_reads_no_source),
    T(test_manifest_load_string_with_basedir_reads_source),
    T(test_manifest_host_without_options_gets_defaults),
    T(test_manifest_host_queue_bounds_are_sizes),
    T(test_manifest_host_max_payload_up_to_the_maximum),
    T(test_manifest_service_without_lifecycle_gets_defaults),
    T(test_manifest_durations_parse_go_syntax),
    T(test_manifest_bad_durations_are_refused),
    T(test_manifest_sizes_parse_units),
    T(test_manifest_load_dir_skips_symlinked_directories),
    T(test_manifest_source_symlink_inside_app_is_read),
    T(test_manifest_entries_may_be_empty),
    T(test_manifest_top_level_not_a_map_is_refused),
    T(test_manifest_empty_file_is_refused),
    T(test_manifest_yaml_error_is_passed_through),
    T(test_manifest_missing_namespace_is_refused),
    T(test_manifest_bad_namespace_characters_are_refused),
    T(test_manifest_host_id_too_long_for_a_pid_is_refused),
    T(test_manifest_namespace_not_a_string_is_refused),
    T(test_manifest_unknown_top_level_key_is_refused),
    T(test_manifest_missing_entries_is_refused),
    T(test_manifest_entries_not_a_list_is_refused),
    T(test_manifest_entry_not_a_map_is_refused),
    T(test_manifest_missing_name_is_refused),
    T(test_manifest_bad_name_characters_are_refused),
    T(test_manifest_name_with_nul_is_refused),
    T(test_manifest_missing_kind_is_refused),
    T(test_manifest_unknown_kind_is_refused),
    T(test_manifest_unknown_entry_key_is_refused),
    T(test_manifest_method_on_library_is_unknown_key),
    T(test_manifest_unknown_host_option_is_refused),
    T(test_manifest_duplicate_id_in_one_file_names_both),
    T(test_manifest_duplicate_id_across_files_names_both),
    T(test_manifest_missing_source_is_refused),
    T(test_manifest_source_without_file_scheme_is_refused),
    T(test_manifest_source_absolute_path_is_refused),
    T(test_manifest_source_escaping_with_dotdot_is_refused),
    T(test_manifest_source_escaping_from_subdir_is_refused),
    T(test_manifest_source_symlink_escaping_is_refused),
    T(test_manifest_source_absolute_symlink_is_refused),
    T(test_manifest_index_symlink_escaping_is_refused),
    T(test_manifest_missing_source_file_is_refused),
    T(test_manifest_source_directory_is_refused),
    T(test_manifest_source_fifo_does_not_block),
    T(test_manifest_source_over_4mib_is_refused),
    T(test_manifest_source_of_exactly_4mib_is_read),
    T(test_manifest_bad_duration_is_refused),
    T(test_manifest_zero_slice_is_refused),
    T(test_manifest_liveness_and_request_timeout_are_read),
    T(test_manifest_zero_liveness_is_refused),
    T(test_manifest_negative_duration_is_refused),
    T(test_manifest_most_negative_duration_is_negative),
    T(test_manifest_bad_memory_size_is_refused),
    T(test_manifest_huge_memory_size_is_refused),
    T(test_manifest_bad_integer_is_refused),
    T(test_manifest_bad_bool_is_refused),
    T(test_manifest_bad_sandbox_require_is_refused),
    T(test_manifest_bad_jitter_is_refused),
    T(test_manifest_import_of_non_library_is_refused),
    T(test_manifest_import_of_missing_entry_is_refused),
    T(test_manifest_import_of_later_library_is_accepted),
    T(test_manifest_host_reference_to_non_host_is_refused),
    T(test_manifest_host_reference_to_missing_is_refused),
    T(test_manifest_service_process_must_be_process_lua),
    T(test_manifest_service_without_process_is_refused),
    T(test_manifest_policy_must_be_a_map),
    T(test_manifest_security_actor_without_id_is_refused),
    T(test_manifest_security_unknown_key_is_refused),
    T(test_manifest_modules_not_strings_is_refused),
    T(test_manifest_meta_not_a_map_is_refused),
    T(test_manifest_unknown_key_with_nul_is_refused),
    T(test_manifest_dir_without_index_is_refused),
    T(test_manifest_missing_dir_returns_enoent),
    T(test_manifest_unreadable_subdir_is_reported),
    T(test_manifest_directories_nested_65_deep_are_refused),
    T(test_manifest_first_error_in_sorted_order_wins),
    T(test_manifest_load_oom_at_each_allocation_returns_enomem),
  };
  init_fixtures();
  return cmocka_run_group_tests(tests, NULL, NULL);
}
