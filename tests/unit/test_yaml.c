/*
** tests/unit/test_yaml.c
** YAML reader: the tree it builds and every construct it refuses, with the
** exact position of each refusal.
** Runs in: broker.
*/
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "ward/wd_yaml.h"

static char err[512];

static int parse(const char *text, wd_doc **d) {
  *d = NULL;
  return wd_yaml_parse("t.yaml", text, strlen(text), d, err, sizeof err);
}

/* Parse 'text', expect WD_EINVAL and message 'want'. */
static void refuse(const char *text, const char *want) {
  wd_doc *d;
  assert_int_equal(parse(text, &d), WD_EINVAL);
  assert_null(d);
  assert_string_equal(err, want);
}

static void
test_yaml_parse_map_seq_scalars_builds_tree_with_positions(void **state) {
  const char *text = "a: 1\n"
                     "b:\n"
                     "  - x\n"
                     "  - 'y'\n"
                     "c: {d: \"z\", e: [1, 2]}\n"
                     "f: |\n"
                     "  block\n";
  const wd_node *b, *c, *e;
  wd_doc *d;
  (void)state;
  assert_int_equal(parse(text, &d), 0);
  assert_non_null(d->root);
  assert_string_equal(d->file, "t.yaml");
  assert_int_equal(d->root->type, WD_NODE_MAP);
  assert_int_equal(d->root->n, 4);
  assert_int_equal(d->root->line, 1);
  assert_int_equal(d->root->col, 1);
  assert_string_equal(wd_node_str(wd_node_get(d->root, "a")), "1");
  assert_int_equal(wd_node_get(d->root, "a")->quoted, 0);
  assert_int_equal(wd_node_get(d->root, "a")->col, 4);
  b = wd_node_get(d->root, "b");
  assert_int_equal(b->type, WD_NODE_SEQ);
  assert_int_equal(b->n, 2);
  assert_int_equal(b->line, 3);
  assert_int_equal(b->col, 3);
  assert_string_equal(b->kids[0]->str, "x");
  assert_int_equal(b->kids[0]->quoted, 0);
  assert_string_equal(b->kids[1]->str, "y");
  assert_int_equal(b->kids[1]->quoted, 1);
  assert_int_equal(b->kids[1]->line, 4);
  assert_int_equal(b->kids[1]->col, 5);
  c = wd_node_get(d->root, "c");
  assert_int_equal(c->type, WD_NODE_MAP);
  assert_int_equal(c->line, 5);
  assert_int_equal(c->col, 4);
  assert_int_equal(wd_node_get(c, "d")->quoted, 1);
  assert_ptr_equal(wd_node_get(c, "d")->file, d->file);
  e = wd_node_get(c, "e");
  assert_int_equal(e->type, WD_NODE_SEQ);
  assert_int_equal(e->n, 2);
  assert_string_equal(e->kids[1]->str, "2");
  assert_int_equal(e->kids[1]->col, 20);
  assert_string_equal(wd_node_str(wd_node_get(d->root, "f")), "block\n");
  assert_int_equal(wd_node_get(d->root, "f")->quoted, 1);
  assert_string_equal(d->root->keys[3]->str, "f");
  assert_int_equal(d->root->keys[3]->line, 6);
  wd_doc_free(d);
}

static void test_yaml_parse_embedded_nul_keeps_length(void **state) {
  const wd_node *v;
  wd_doc *d;
  (void)state;
  assert_int_equal(parse("k: \"a\\0b\"\n", &d), 0);
  v = wd_node_get(d->root, "k");
  assert_int_equal(v->len, 3);
  assert_memory_equal(v->str, "a\0b", 4);
  wd_doc_free(d);
}

static void test_yaml_parse_empty_inputs_give_null_root(void **state) {
  static const char *const texts[] = { "", "# only a comment\n", "---\n",
                                       "--- \n...\n", "\n\n" };
  wd_doc *d;
  size_t i;
  (void)state;
  for (i = 0; i < sizeof texts / sizeof texts[0]; i++) {
    assert_int_equal(parse(texts[i], &d), 0);
    assert_non_null(d);
    assert_null(d->root);
    wd_doc_free(d);
  }
}

static void test_yaml_parse_null_text_gives_null_root(void **state) {
  wd_doc *d = NULL;
  (void)state;
  assert_int_equal(wd_yaml_parse("t", NULL, 0, &d, err, sizeof err), 0);
  assert_null(d->root);
  wd_doc_free(d);
}

static void test_yaml_parse_quoted_empty_root_is_a_scalar(void **state) {
  wd_doc *d;
  (void)state;
  assert_int_equal(parse("''\n", &d), 0);
  assert_non_null(d->root);
  assert_int_equal(d->root->type, WD_NODE_SCALAR);
  assert_int_equal(d->root->len, 0);
  wd_doc_free(d);
}

static void test_yaml_parse_anchor_on_map_is_refused_at_anchor(void **state) {
  (void)state;
  refuse("a: 1\nb: &x\n  c: 2\n",
         "t.yaml:2:4: anchors (&x) are not allowed: write the value out in "
         "full");
}

static void test_yaml_parse_anchor_on_scalar_is_refused(void **state) {
  (void)state;
  refuse("- &lol ha\n",
         "t.yaml:1:3: anchors (&lol) are not allowed: write the value out in "
         "full");
}

static void test_yaml_parse_anchor_on_seq_is_refused(void **state) {
  (void)state;
  refuse("k: &s [1, 2]\n",
         "t.yaml:1:4: anchors (&s) are not allowed: write the value out in "
         "full");
}

/* The alias comes first here, so the alias itself is what is refused. */
static void test_yaml_parse_alias_is_refused_at_alias(void **state) {
  (void)state;
  refuse("a: 1\nb: *x\n",
         "t.yaml:2:4: aliases (*x) are not allowed: write the value out in "
         "full");
}

static void
test_yaml_parse_billion_laughs_is_refused_at_first_anchor(void **state) {
  (void)state;
  refuse("a: &a [\"lol\",\"lol\"]\nb: &b [*a,*a]\nc: [*b,*b]\n",
         "t.yaml:1:4: anchors (&a) are not allowed: write the value out in "
         "full");
}

static void test_yaml_parse_merge_key_alias_is_refused(void **state) {
  (void)state;
  refuse("x:\n  <<: *base\n",
         "t.yaml:2:7: aliases (*base) are not allowed: write the value out in "
         "full");
}

static void test_yaml_parse_tag_is_refused(void **state) {
  (void)state;
  refuse("a: !!str 1\n",
         "t.yaml:1:4: tags are not allowed (write a plain or quoted value)");
  refuse("a: !custom {b: 1}\n",
         "t.yaml:1:4: tags are not allowed (write a plain or quoted value)");
  refuse("a: ! x\n",
         "t.yaml:1:4: tags are not allowed (write a plain or quoted value)");
}

static void test_yaml_parse_duplicate_key_names_both_places(void **state) {
  (void)state;
  refuse("a: 1\nb: 2\na: 3\n",
         "t.yaml:3:1: duplicate key 'a' (first at line 1, column 1)");
}

static void
test_yaml_parse_duplicate_key_quoted_and_plain_is_refused(void **state) {
  (void)state;
  refuse("x:\n  k: 1\n  'k': 2\n",
         "t.yaml:3:3: duplicate key 'k' (first at line 2, column 3)");
}

static void test_yaml_parse_duplicate_key_in_flow_map_is_refused(void **state) {
  (void)state;
  refuse("{a: 1, b: 2, a: 3}\n",
         "t.yaml:1:14: duplicate key 'a' (first at line 1, column 2)");
}

/* Several duplicates: the first repeat in document order is reported. */
static void test_yaml_parse_many_keys_reports_first_repeat(void **state) {
  char text[8192];
  size_t o = 0;
  int i;
  (void)state;
  for (i = 0; i < 200; i++)
    o += (size_t)snprintf(text + o, sizeof text - o, "k%d: %d\n", i, i);
  snprintf(text + o, sizeof text - o, "k150: x\nk7: y\nk150: z\n");
  refuse(text, "t.yaml:201:1: duplicate key 'k150' (first at line 151, "
               "column 1)");
}

static void
test_yaml_parse_duplicate_key_with_control_chars_is_escaped(void **state) {
  (void)state;
  refuse("\"a\\e[31m\": 1\n\"a\\e[31m\": 2\n",
         "t.yaml:2:1: duplicate key 'a?[31m' (first at line 1, column 1)");
}

static void test_yaml_parse_seq_as_key_is_refused(void **state) {
  (void)state;
  refuse("? [a, b]\n: 1\n",
         "t.yaml:1:3: map keys must be scalars (this key is a sequence)");
}

static void test_yaml_parse_map_as_key_is_refused(void **state) {
  (void)state;
  refuse("x: {{a: 1}: 2}\n",
         "t.yaml:1:5: map keys must be scalars (this key is a map)");
}

static char *nested(int depth) {
  char *s = malloc((size_t)depth * 2 + 2);
  int i;
  for (i = 0; i < depth; i++)
    s[i] = '[';
  for (i = 0; i < depth; i++)
    s[depth + i] = ']';
  s[2 * depth] = '\n';
  s[2 * depth + 1] = '\0';
  return s;
}

static void test_yaml_parse_nesting_64_is_accepted(void **state) {
  char *s = nested(WD_YAML_MAX_DEPTH);
  wd_doc *d;
  (void)state;
  assert_int_equal(parse(s, &d), 0);
  wd_doc_free(d);
  free(s);
}

static void test_yaml_parse_nesting_65_is_refused_at_65th(void **state) {
  char *s = nested(WD_YAML_MAX_DEPTH + 1);
  (void)state;
  refuse(s, "t.yaml:1:65: nesting deeper than 64 levels of sequences and "
            "maps");
  free(s);
}

static void test_yaml_parse_deep_nesting_stops_early(void **state) {
  char *s = nested(100000);
  (void)state;
  refuse(s, "t.yaml:1:65: nesting deeper than 64 levels of sequences and "
            "maps");
  free(s);
}

static void test_yaml_parse_second_document_is_refused(void **state) {
  (void)state;
  refuse("a: 1\n---\nb: 2\n", "t.yaml:2:1: a second document is not allowed "
                              "(one document per file)");
  refuse("--- a\n--- b\n", "t.yaml:2:1: a second document is not allowed "
                           "(one document per file)");
}

static void test_yaml_parse_syntax_error_has_position(void **state) {
  (void)state;
  refuse("a: b: c\n",
         "t.yaml:1:5: invalid YAML: mapping values are not allowed in this "
         "context");
  refuse("a: [1, 2\n",
         "t.yaml:2:1: invalid YAML: did not find expected ',' or ']' (while "
         "parsing a flow sequence at line 1, column 4)");
}

static void test_yaml_parse_control_char_is_refused_at_offset(void **state) {
  (void)state;
  refuse("a: 1\nb: \x01\n",
         "t.yaml:2:4: invalid YAML: control characters are not allowed");
}

static void test_yaml_parse_bad_utf8_is_refused(void **state) {
  (void)state;
  refuse("a: \xff\n", "t.yaml:1:4: invalid YAML: invalid leading UTF-8 "
                      "octet");
}

static void test_yaml_parse_null_file_name_reads_dash(void **state) {
  wd_doc *d = NULL;
  (void)state;
  assert_int_equal(wd_yaml_parse(NULL, "a: *x", 5, &d, err, sizeof err),
                   WD_EINVAL);
  assert_string_equal(err, "-:1:4: aliases (*x) are not allowed: write the "
                           "value out in full");
}

static void test_yaml_parse_with_no_err_buffer_still_fails(void **state) {
  wd_doc *d = NULL;
  (void)state;
  assert_int_equal(wd_yaml_parse("t", "a: *x", 5, &d, NULL, 0), WD_EINVAL);
  assert_null(d);
}

static void test_yaml_parse_long_message_is_truncated(void **state) {
  char small[16];
  wd_doc *d = NULL;
  (void)state;
  assert_int_equal(wd_yaml_parse("t.yaml", "a: *x", 5, &d, small, sizeof small),
                   WD_EINVAL);
  assert_string_equal(small, "t.yaml:1:4: ali");
}

static void test_yaml_excerpt_replaces_and_truncates(void **state) {
  char b[8];
  (void)state;
  wd_yaml_excerpt(b, sizeof b, "ab\ncd", 5);
  assert_string_equal(b, "ab?cd");
  wd_yaml_excerpt(b, sizeof b, "abcdefghij", 10);
  assert_string_equal(b, "abcd...");
  wd_yaml_excerpt(b, sizeof b, "abcdefg", 7);
  assert_string_equal(b, "abcdefg");
  wd_yaml_excerpt(b, sizeof b, "", 0);
  assert_string_equal(b, "");
}

static void test_doc_alloc_large_and_small_requests(void **state) {
  wd_doc *d;
  char *big, *small;
  (void)state;
  assert_int_equal(parse("a: 1\n", &d), 0);
  big = wd_doc_alloc(d, 100000);
  small = wd_doc_alloc(d, 3);
  assert_non_null(big);
  assert_non_null(small);
  assert_int_equal((uintptr_t)big % 16, 0);
  assert_int_equal((uintptr_t)small % 16, 0);
  memset(big, 'x', 100000);
  memcpy(small, "ok", 3);
  assert_string_equal(wd_node_str(wd_node_get(d->root, "a")), "1");
  assert_null(wd_doc_alloc(d, SIZE_MAX));
  wd_doc_free(d);
  wd_doc_free(NULL);
}

/* {====== OOM sweep ====== */

#include "oom.h"

static void
test_yaml_parse_oom_at_each_allocation_returns_enomem(void **state) {
  char text[4096];
  size_t o = 0;
  wd_doc *d;
  int i, r;
  (void)state;
  for (i = 0; i < 40; i++)
    o += (size_t)snprintf(text + o, sizeof text - o,
                          "k%d: [a, {b: 'c', d: [1, 2, 3]}, \"%d\"]\n", i, i);
  for (fail_at = 1;; fail_at++) {
    calls = live = 0;
    d = NULL;
    wd_replace_allocator(oom_malloc, oom_realloc, oom_free);
    r = wd_yaml_parse("t.yaml", text, o, &d, err, sizeof err);
    if (r == 0) wd_doc_free(d);
    wd_replace_allocator(NULL, NULL, NULL);
    assert_int_equal(live, 0);
    if (r == 0) break;
    assert_int_equal(r, WD_ENOMEM);
    assert_null(d);
    assert_string_equal(err, "t.yaml: out of memory");
  }
  assert_true(fail_at > 5);
}

/* }====== */

int main(void) {
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(
        test_yaml_parse_map_seq_scalars_builds_tree_with_positions),
    cmocka_unit_test(test_yaml_parse_embedded_nul_keeps_length),
    cmocka_unit_test(test_yaml_parse_empty_inputs_give_null_root),
    cmocka_unit_test(test_yaml_parse_null_text_gives_null_root),
    cmocka_unit_test(test_yaml_parse_quoted_empty_root_is_a_scalar),
    cmocka_unit_test(test_yaml_parse_anchor_on_map_is_refused_at_anchor),
    cmocka_unit_test(test_yaml_parse_anchor_on_scalar_is_refused),
    cmocka_unit_test(test_yaml_parse_anchor_on_seq_is_refused),
    cmocka_unit_test(test_yaml_parse_alias_is_refused_at_alias),
    cmocka_unit_test(test_yaml_parse_billion_laughs_is_refused_at_first_anchor),
    cmocka_unit_test(test_yaml_parse_merge_key_alias_is_refused),
    cmocka_unit_test(test_yaml_parse_tag_is_refused),
    cmocka_unit_test(test_yaml_parse_duplicate_key_names_both_places),
    cmocka_unit_test(test_yaml_parse_duplicate_key_quoted_and_plain_is_refused),
    cmocka_unit_test(test_yaml_parse_duplicate_key_in_flow_map_is_refused),
    cmocka_unit_test(test_yaml_parse_many_keys_reports_first_repeat),
    cmocka_unit_test(
        test_yaml_parse_duplicate_key_with_control_chars_is_escaped),
    cmocka_unit_test(test_yaml_parse_seq_as_key_is_refused),
    cmocka_unit_test(test_yaml_parse_map_as_key_is_refused),
    cmocka_unit_test(test_yaml_parse_nesting_64_is_accepted),
    cmocka_unit_test(test_yaml_parse_nesting_65_is_refused_at_65th),
    cmocka_unit_test(test_yaml_parse_deep_nesting_stops_early),
    cmocka_unit_test(test_yaml_parse_second_document_is_refused),
    cmocka_unit_test(test_yaml_parse_syntax_error_has_position),
    cmocka_unit_test(test_yaml_parse_control_char_is_refused_at_offset),
    cmocka_unit_test(test_yaml_parse_bad_utf8_is_refused),
    cmocka_unit_test(test_yaml_parse_null_file_name_reads_dash),
    cmocka_unit_test(test_yaml_parse_with_no_err_buffer_still_fails),
    cmocka_unit_test(test_yaml_parse_long_message_is_truncated),
    cmocka_unit_test(test_yaml_excerpt_replaces_and_truncates),
    cmocka_unit_test(test_doc_alloc_large_and_small_requests),
    cmocka_unit_test(test_yaml_parse_oom_at_each_allocation_returns_enomem),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
