/*
** tests/unit/policy_flow.h
** Shared by the policy tests (header-only, static): a reader of YAML flow
** text into wd_node trees with positions.
*/
#ifndef policy_flow_h
#define policy_flow_h

#include <stdlib.h>
#include <string.h>

#include "ward/wd_node.h"

/*
** A tiny reader of YAML flow syntax ({k: v, ...}, [a, b], 'x', "x",
** plain scalars) into wd_node trees with line and column, so tests can
** write policies as text and check exact error positions. It uses libc
** malloc, not wd_malloc, so allocation-failure sweeps count only the
** engine's allocations.
*/
typedef struct TP {
  const char *s;
  size_t i;
  int line, col;
  const char *file;
  int bad;
} TP;

static void tp_adv(TP *p) {
  if (p->s[p->i] == '\n') {
    p->line++;
    p->col = 1;
  } else {
    p->col++;
  }
  p->i++;
}

static void tp_ws(TP *p) {
  while (p->s[p->i] == ' ' || p->s[p->i] == '\n' || p->s[p->i] == '\t')
    tp_adv(p);
}

static wd_node *tp_new(TP *p, int type) {
  wd_node *n = calloc(1, sizeof *n);
  assert_non_null(n);
  n->type = type;
  n->file = p->file;
  n->line = p->line;
  n->col = p->col;
  return n;
}

static void tp_push(wd_node *n, wd_node *k, wd_node *v) {
  /* NOLINTNEXTLINE(bugprone-sizeof-expression): arrays of pointers */
  n->kids = realloc(n->kids, (n->n + 1) * sizeof *n->kids);
  assert_non_null(n->kids);
  if (k != NULL) {
    /* NOLINTNEXTLINE(bugprone-sizeof-expression): arrays of pointers */
    n->keys = realloc(n->keys, (n->n + 1) * sizeof *n->keys);
    assert_non_null(n->keys);
    n->keys[n->n] = k;
  }
  n->kids[n->n++] = v;
}

static int tp_plain_end(const TP *p) {
  char c = p->s[p->i], d;
  if (c == '\0' || c == ',' || c == ']' || c == '}' || c == '\n') return 1;
  if (c != ':') return 0;
  d = p->s[p->i + 1];
  return d == ' ' || d == '\n' || d == ',' || d == '}' || d == ']' || d == '\0';
}

static wd_node *tp_value(TP *p);

static char *tp_grow(char *buf, size_t cap) {
  char *nb = realloc(buf, cap);
  if (nb == NULL) abort();
  return nb;
}

static wd_node *tp_scalar(TP *p) {
  wd_node *n = tp_new(p, WD_NODE_SCALAR);
  char q = p->s[p->i];
  size_t cap = 16, len = 0;
  char *buf = malloc(cap);
  assert_non_null(buf);
  if (q == '\'' || q == '"') {
    n->quoted = 1;
    tp_adv(p);
    while (p->s[p->i] != '\0' && p->s[p->i] != q) {
      if (len + 2 >= cap) buf = tp_grow(buf, cap *= 2);
      buf[len++] = p->s[p->i];
      tp_adv(p);
    }
    if (p->s[p->i] == q) tp_adv(p);
  } else {
    while (!tp_plain_end(p)) {
      if (len + 2 >= cap) buf = tp_grow(buf, cap *= 2);
      buf[len++] = p->s[p->i];
      tp_adv(p);
    }
    while (len > 0 && buf[len - 1] == ' ')
      len--;
  }
  buf[len] = '\0';
  n->str = buf;
  n->len = len;
  return n;
}

static wd_node *tp_coll(TP *p, int type, char close) {
  wd_node *n = tp_new(p, type), *k = NULL;
  tp_adv(p);
  tp_ws(p);
  while (p->s[p->i] != close && p->s[p->i] != '\0') {
    if (type == WD_NODE_MAP) {
      k = tp_scalar(p);
      tp_ws(p);
      if (p->s[p->i] == ':')
        tp_adv(p);
      else
        p->bad = 1;
      tp_ws(p);
    }
    tp_push(n, k, tp_value(p));
    tp_ws(p);
    if (p->s[p->i] == ',') {
      tp_adv(p);
      tp_ws(p);
    }
  }
  if (p->s[p->i] == close)
    tp_adv(p);
  else
    p->bad = 1;
  return n;
}

static wd_node *tp_value(TP *p) {
  tp_ws(p);
  if (p->s[p->i] == '{') return tp_coll(p, WD_NODE_MAP, '}');
  if (p->s[p->i] == '[') return tp_coll(p, WD_NODE_SEQ, ']');
  return tp_scalar(p);
}

/* Parse 'src' as if it started at line 1, column 1 of file "t.yaml". */
static wd_node *tree(const char *src) {
  TP p;
  wd_node *n;
  p.s = src;
  p.i = 0;
  p.line = 1;
  p.col = 1;
  p.file = "t.yaml";
  p.bad = 0;
  n = tp_value(&p);
  assert_int_equal(p.bad, 0);
  return n;
}

static void tree_free(wd_node *n) {
  size_t i;
  if (n == NULL) return;
  for (i = 0; i < n->n; i++) {
    if (n->keys != NULL) tree_free(n->keys[i]);
    tree_free(n->kids[i]);
  }
  free(n->keys);
  free(n->kids);
  free(n->str);
  free(n);
}

#endif
