/*
** tests/unit/test_ops.c
** The operation table (include/ward/wd_ops.h) against what is built from
** it and what is written about it: the strict loader's list of actions,
** the request codes on the wire, the actions of a spawn, and the
** permission tables of README.md ("What each call asks") and
** policies/README.md ("What the runtime asks"). A table that names an
** action the operation table lacks, misses one it has, or puts one on
** another resource fails here, naming the file, row and action.
** Runs in: broker and host.
*/
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "ward/wd_ops.h"
#include "ward/wd_policy.h"
#include "ward/wd_proto.h"

#ifndef WD_SOURCE_DIR
#error "WD_SOURCE_DIR names the source tree (CMakeLists.txt)"
#endif

/* {====== Reading a permission table ====== */

/* The words a resource cell must hold for an action of each kind. */
static const char *res_word(int res) {
  switch (res) {
    case WD_RES_PID: return "PID";
    case WD_RES_ENTRY: return "entry id";
    case WD_RES_HOST: return "host id";
    case WD_RES_NAME: return "name";
    case WD_RES_SECURITY: return "`security`";
    case WD_RES_CONTEXT: return "`context`";
    case WD_RES_NAMESPACE: return "namespace";
    default: return NULL;
  }
}

static int word_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
         (c >= '0' && c <= '9') || c == '_' || c == ':';
}

/* Does 'cell' hold 'w' as a word (not inside another, as "name" is in
** "namespace" and in "ns:name")? */
static int has_word(const char *cell, const char *w) {
  size_t n = strlen(w);
  const char *p;
  for (p = strstr(cell, w); p != NULL; p = strstr(p + 1, w))
    if ((p == cell || !word_char(p[-1])) && !word_char(p[n])) return 1;
  return 0;
}

static int act_of(const char *name) {
  int i;
  for (i = 0; i < WD_ACT_MAX; i++)
    if (strcmp(wd_ops_name(i), name) == 0) return i;
  return -1;
}

/* Split table row 'line' at its unescaped '|' into at most 'max' cells
** (copied, trimmed, into 'buf'). Returns the number of cells. */
static int split_row(const char *line, char cells[][512], int max) {
  int n = 0;
  size_t k = 0;
  const char *p = line;
  if (*p == '|') p++;
  for (; *p != '\0' && *p != '\n' && n < max; p++) {
    if (*p == '|' && p[-1] != '\\') {
      while (k > 0 && cells[n][k - 1] == ' ')
        k--;
      cells[n][k] = '\0';
      n++;
      k = 0;
      continue;
    }
    if (k == 0 && *p == ' ') continue;
    if (k < 511) cells[n][k++] = *p;
  }
  return n;
}

/*
** Check the table under the heading holding 'section' in the markdown
** 'text': every backquoted name in its "action"/"actions" column is an
** action of the operation table (".x" after "process.y" is "process.x"),
** and the row's "resource" cell names that action's resource. Marks each
** action met in 'seen'. Returns 0, or -1 with the reason in 'err'.
*/
static int check_table(const char *text, const char *section,
                       unsigned char seen[WD_ACT_MAX], char *err,
                       size_t errlen) {
  char cells[8][512], name[128], prefix[64] = "";
  const char *line = strstr(text, section), *next;
  int ac = -1, rc = -1, row = 0, n, i;
  if (line == NULL) {
    snprintf(err, errlen, "no section '%s'", section);
    return -1;
  }
  /* The first table after the heading. */
  while ((line = strchr(line, '\n')) != NULL && line[1] != '|')
    line++;
  if (line == NULL) {
    snprintf(err, errlen, "no table under '%s'", section);
    return -1;
  }
  for (line++; line != NULL && *line == '|'; line = next, row++) {
    const char *p, *q;
    if ((next = strchr(line, '\n')) != NULL) next++;
    n = split_row(line, cells, 8);
    if (row == 0) {
      for (i = 0; i < n; i++) {
        if (strcmp(cells[i], "action") == 0 || strcmp(cells[i], "actions") == 0)
          ac = i;
        if (strcmp(cells[i], "resource") == 0) rc = i;
      }
      if (ac < 0 || rc < 0) {
        snprintf(err, errlen, "'%s': no action or resource column", section);
        return -1;
      }
    }
    if (row < 2) continue; /* the header and its rule */
    if (n <= ac || n <= rc) {
      snprintf(err, errlen, "'%s' row %d: too few cells", section, row - 1);
      return -1;
    }
    for (p = strchr(cells[ac], '`'); p != NULL; p = strchr(q + 1, '`')) {
      size_t len;
      int act;
      if ((q = strchr(p + 1, '`')) == NULL) break;
      len = (size_t)(q - p - 1);
      if (p[1] == '.')
        snprintf(name, sizeof name, "%s%.*s", prefix, (int)len, p + 1);
      else
        snprintf(name, sizeof name, "%.*s", (int)len, p + 1);
      if (p[1] != '.' && strchr(name, '.') != NULL)
        snprintf(prefix, sizeof prefix, "%.*s",
                 (int)(strchr(name, '.') - name), name);
      if ((act = act_of(name)) < 0) {
        snprintf(err, errlen, "'%s' row %d: '%s' is no action of the "
                 "operation table (wd_ops.h)", section, row - 1, name);
        return -1;
      }
      if (res_word(wd_ops_res(act)) != NULL &&
          !has_word(cells[rc], res_word(wd_ops_res(act)))) {
        snprintf(err, errlen, "'%s' row %d: '%s' is asked on %s, which the "
                 "resource cell '%s' does not name", section, row - 1,
                 name, res_word(wd_ops_res(act)), cells[rc]);
        return -1;
      }
      seen[act] = 1;
    }
  }
  return 0;
}

/* check_table, then: every action of the operation table was met. */
static int check_doc(const char *text, const char *section, char *err,
                     size_t errlen) {
  unsigned char seen[WD_ACT_MAX];
  int i;
  memset(seen, 0, sizeof seen);
  if (check_table(text, section, seen, err, errlen) < 0) return -1;
  for (i = 0; i < WD_ACT_MAX; i++)
    if (!seen[i]) {
      snprintf(err, errlen, "'%s' does not name '%s' (wd_ops.h)", section,
               wd_ops_name(i));
      return -1;
    }
  return 0;
}

static char *slurp(const char *path) {
  FILE *f = fopen(path, "rb");
  char *s;
  long n;
  if (f == NULL) fail_msg("cannot open %s", path);
  fseek(f, 0, SEEK_END);
  n = ftell(f);
  fseek(f, 0, SEEK_SET);
  s = malloc((size_t)n + 1);
  assert_non_null(s);
  assert_int_equal(fread(s, 1, (size_t)n, f), (size_t)n);
  s[n] = '\0';
  fclose(f);
  return s;
}

/* }====== */

static void test_ops_readme_table_names_exactly_the_table(void **state) {
  char err[512];
  char *s = slurp(WD_SOURCE_DIR "/README.md");
  (void)state;
  if (check_doc(s, "### What each call asks", err, sizeof err) < 0)
    fail_msg("README.md: %s", err);
  free(s);
}

static void test_ops_policies_readme_table_names_exactly_the_table(
    void **state) {
  char err[512];
  char *s = slurp(WD_SOURCE_DIR "/policies/README.md");
  (void)state;
  if (check_doc(s, "### What the runtime asks", err, sizeof err) < 0)
    fail_msg("policies/README.md: %s", err);
  free(s);
}

/* The checker itself: a table missing an action, naming one the table
** lacks, or putting one on another resource is refused. */
static void test_ops_doc_check_refuses_a_wrong_table(void **state) {
  char err[512], *doc;
  size_t cap = 65536, len = 0;
  int i;
  (void)state;
  doc = malloc(cap);
  assert_non_null(doc);
  len += (size_t)snprintf(doc + len, cap - len,
                          "## T\n\n| action | resource |\n|---|---|\n");
  for (i = 0; i < WD_ACT_MAX; i++) {
    const char *w = res_word(wd_ops_res(i));
    len += (size_t)snprintf(doc + len, cap - len, "| `%s` | %s |\n",
                            wd_ops_name(i), w ? w : "not decided");
  }
  assert_int_equal(check_doc(doc, "## T", err, sizeof err), 0);
  /* One more row with an unknown action. */
  snprintf(doc + len, cap - len, "| `process.sned` | target PID |\n");
  assert_int_equal(check_doc(doc, "## T", err, sizeof err), -1);
  assert_non_null(strstr(err, "'process.sned' is no action"));
  /* ".spawn.linked" after "process.spawn" is "process.spawn.linked". */
  snprintf(doc + len, cap - len, "| `process.spawn`, `.spawn.linked` | "
                                 "entry id |\n");
  assert_int_equal(check_doc(doc, "## T", err, sizeof err), 0);
  /* An action on another resource than its own. */
  snprintf(doc + len, cap - len, "| `process.send` | entry id `ns:name` |\n");
  assert_int_equal(check_doc(doc, "## T", err, sizeof err), -1);
  assert_non_null(strstr(err, "'process.send' is asked on PID"));
  /* "name" inside "namespace" is not the resource name. */
  snprintf(doc + len, cap - len, "| `process.registry.lookup` | namespace |\n");
  assert_int_equal(check_doc(doc, "## T", err, sizeof err), -1);
  /* The first row gone: its action is missing. */
  snprintf(doc, cap, "## T\n\n| action | resource |\n|---|---|\n"
                     "| `process.spawn` | entry id |\n");
  assert_int_equal(check_doc(doc, "## T", err, sizeof err), -1);
  assert_non_null(strstr(err, "does not name 'process.send'"));
  free(doc);
}

/* The strict loader's list is the operation table's, in its order. */
static void test_ops_policy_actions_are_the_table(void **state) {
  const char *const *a = wd_policy_actions();
  int i;
  (void)state;
  for (i = 0; i < WD_ACT_MAX; i++) {
    assert_non_null(a[i]);
    assert_string_equal(a[i], wd_ops_name(i));
    assert_true(wd_policy_action_known(a[i]));
  }
  assert_null(a[WD_ACT_MAX]);
  assert_null(wd_ops_name(WD_ACT_NONE));
  assert_null(wd_ops_name(WD_ACT_MAX));
}

/* The request codes are on the wire: generating them must not renumber. */
static void test_ops_request_codes_are_stable(void **state) {
  (void)state;
  assert_int_equal(WD_OP_SPAWN, 1);
  assert_int_equal(WD_OP_SEND, 2);
  assert_int_equal(WD_OP_REG, 3);
  assert_int_equal(WD_OP_UNREG, 4);
  assert_int_equal(WD_OP_LOOKUP, 5);
  assert_int_equal(WD_OP_MONITOR, 6);
  assert_int_equal(WD_OP_UNMONITOR, 7);
  assert_int_equal(WD_OP_LINK, 8);
  assert_int_equal(WD_OP_UNLINK, 9);
  assert_int_equal(WD_OP_TERMINATE, 10);
  assert_int_equal(WD_OP_CANCEL, 11);
  assert_int_equal(WD_OP_AUDIT, 12);
  assert_int_equal(WD_OP_UPGRADE, 13);
  assert_int_equal(WD_OP_FORGET, 14);
  assert_int_equal(WD_OP_STATUS, 15);
  assert_int_equal(WD_OP_MAX, 16);
  assert_int_equal(wd_ops_senders(0), 0);
  assert_int_equal(wd_ops_senders(WD_OP_MAX), 0);
  assert_int_equal(wd_ops_senders(WD_OP_FORGET), WD_OPS_BROKER);
  assert_int_equal(wd_ops_senders(WD_OP_STATUS), WD_OPS_BROKER);
  assert_int_equal(wd_ops_senders(WD_OP_AUDIT), WD_OPS_HOST);
  assert_int_equal(wd_ops_act(WD_OP_MONITOR), WD_ACT_MONITOR);
  assert_int_equal(wd_ops_act(WD_OP_UNREG), WD_ACT_UNREGISTER);
  assert_int_equal(wd_ops_act(WD_OP_AUDIT), WD_ACT_NONE);
  assert_int_equal(wd_ops_act(0), WD_ACT_NONE);
}

/* Each spawn variant asks what the seeds' table says, in order. */
static void test_ops_spawn_asks_each_variant(void **state) {
  int a[4];
  (void)state;
  assert_int_equal(wd_ops_spawn_asks(0, a), 2);
  assert_int_equal(a[0], WD_ACT_SPAWN);
  assert_int_equal(a[1], WD_ACT_HOST);
  assert_int_equal(wd_ops_spawn_asks(WD_SPAWN_MONITOR | WD_SPAWN_LINK, a), 4);
  assert_int_equal(a[0], WD_ACT_SPAWN);
  assert_int_equal(a[1], WD_ACT_SPAWN_MONITORED);
  assert_int_equal(a[2], WD_ACT_SPAWN_LINKED);
  assert_int_equal(a[3], WD_ACT_HOST);
  assert_int_equal(wd_ops_spawn_asks(WD_SPAWN_EXEC | WD_SPAWN_NAMED, a), 2);
  assert_int_equal(a[0], WD_ACT_EXEC);
  assert_int_equal(a[1], WD_ACT_HOST);
  assert_int_equal(wd_ops_res(WD_ACT_HOST), WD_RES_HOST);
  assert_int_equal(wd_ops_res(WD_ACT_EXEC), WD_RES_ENTRY);
}

int main(void) {
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_ops_readme_table_names_exactly_the_table),
    cmocka_unit_test(test_ops_policies_readme_table_names_exactly_the_table),
    cmocka_unit_test(test_ops_doc_check_refuses_a_wrong_table),
    cmocka_unit_test(test_ops_policy_actions_are_the_table),
    cmocka_unit_test(test_ops_request_codes_are_stable),
    cmocka_unit_test(test_ops_spawn_asks_each_variant),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
