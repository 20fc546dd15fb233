/*
** runtime/yaml.c
** YAML reader: libyaml events to a wd_node tree in a per-document arena.
** Runs in: broker.
*/
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <yaml.h>

#include "ward/wd_yaml.h"

/* {====== Arena ====== */

/*
** A document's memory is a list of blocks; allocations are bump-pointer
** inside the head block. A request larger than a standard block gets a
** block of its own, linked behind the head so the head keeps serving small
** requests.
*/
struct wd_doc_blk {
  wd_doc_blk *next;
  size_t used, cap; /* bytes of payload in use / available */
};

#define ALIGN       16
#define BLK_HDR     ((sizeof(wd_doc_blk) + ALIGN - 1) & ~(size_t)(ALIGN - 1))
#define BLK_SIZE    8192 /* payload of a standard block */
#define BLK_DATA(b) ((char *)(b) + BLK_HDR)

void *wd_doc_alloc(wd_doc *d, size_t n) {
  wd_doc_blk *b = d->arena;
  void *p;
  if (n > SIZE_MAX - BLK_HDR - ALIGN) return NULL;
  n = (n + ALIGN - 1) & ~(size_t)(ALIGN - 1);
  if (n == 0) n = ALIGN;
  if (b == NULL || b->cap - b->used < n) {
    size_t cap = n > BLK_SIZE ? n : BLK_SIZE;
    wd_doc_blk *nb = wd_malloc(BLK_HDR + cap);
    if (nb == NULL) return NULL;
    nb->used = 0;
    nb->cap = cap;
    if (b != NULL && cap > BLK_SIZE) {
      /* Oversized: keep the current head for small requests. */
      nb->next = b->next;
      b->next = nb;
    } else {
      nb->next = b;
      d->arena = nb;
    }
    b = nb;
  }
  p = BLK_DATA(b) + b->used;
  b->used += n;
  return p;
}

void wd_doc_free(wd_doc *d) {
  wd_doc_blk *b, *next;
  if (d == NULL) return;
  for (b = d->arena; b != NULL; b = next) {
    next = b->next;
    wd_free(b);
  }
  wd_free(d->file);
  wd_free(d);
}

/* }====== */

void wd_yaml_excerpt(char *dst, size_t dstlen, const char *s, size_t len) {
  size_t i, o = 0;
  for (i = 0; i < len; i++) {
    unsigned char c = (unsigned char)s[i];
    if (o + 1 >= dstlen) break;
    if (c >= 0x20 && c < 0x7f)
      dst[o++] = s[i];
    else
      dst[o++] = '?';
  }
  if (i < len) {
    /* Truncated: end in "..." (room for it is guaranteed by dstlen >= 4). */
    o = dstlen - 4;
    memcpy(dst + o, "...", 3);
    o += 3;
  }
  dst[o] = '\0';
}

/* {====== Tree building ====== */

/*
** One open collection. 'items' collects the children in a growable array
** (map: key, value, key, value...) and is copied into the arena when the
** collection ends, so the arena never holds dead copies.
*/
typedef struct frame {
  wd_node *node;
  wd_node **items;
  size_t n, cap;
} frame;

typedef struct builder {
  wd_doc *doc;
  wd_node *root;
  int ndocs;
  int depth; /* open collections on 'stack' */
  frame stack[WD_YAML_MAX_DEPTH];
  char *err;
  size_t errlen;
} builder;

__attribute__((format(printf, 4, 5))) static int
fail(builder *b, size_t line, size_t col, const char *fmt, ...) {
  va_list ap;
  int k;
  if (b->errlen == 0) return WD_EINVAL;
  k = snprintf(b->err, b->errlen, "%s:%zu:%zu: ", b->doc->file, line + 1,
               col + 1);
  if (k >= 0 && (size_t)k < b->errlen) {
    va_start(ap, fmt);
    vsnprintf(b->err + k, b->errlen - (size_t)k, fmt, ap);
    va_end(ap);
  }
  return WD_EINVAL;
}

static const char *type_name(int type) {
  return type == WD_NODE_MAP   ? "map"
         : type == WD_NODE_SEQ ? "sequence"
                               : "scalar";
}

static wd_node *new_node(builder *b, int type, const yaml_mark_t *m) {
  wd_node *n = wd_doc_alloc(b->doc, sizeof *n);
  if (n == NULL) return NULL;
  memset(n, 0, sizeof *n);
  n->type = type;
  n->file = b->doc->file;
  /* libyaml marks are 0-based and columns count characters. */
  n->line = m->line >= (size_t)INT32_MAX ? INT32_MAX : (int)m->line + 1;
  n->col = m->column >= (size_t)INT32_MAX ? INT32_MAX : (int)m->column + 1;
  return n;
}

/* Anchors and tags can appear on any node; both are refused. */
static int check_props(builder *b, const yaml_event_t *ev,
                       const yaml_char_t *anchor, const yaml_char_t *tag) {
  const yaml_mark_t *m = &ev->start_mark;
  char show[40];
  if (anchor != NULL) {
    wd_yaml_excerpt(show, sizeof show, (const char *)anchor,
                    strlen((const char *)anchor));
    return fail(b, m->line, m->column,
                "anchors (&%s) are not allowed: write the value out in full",
                show);
  }
  if (tag != NULL)
    return fail(b, m->line, m->column,
                "tags are not allowed (write a plain or quoted value)");
  return 0;
}

/*
** Attach 'n' to the open collection (or make it the root). A node that
** would become a map key must be a scalar.
*/
static int attach(builder *b, wd_node *n) {
  frame *f;
  if (b->depth == 0) {
    b->root = n;
    return 0;
  }
  f = &b->stack[b->depth - 1];
  if (f->node->type == WD_NODE_MAP && f->n % 2 == 0 &&
      n->type != WD_NODE_SCALAR)
    return fail(b, (size_t)n->line - 1, (size_t)n->col - 1,
                "map keys must be scalars (this key is a %s)",
                type_name(n->type));
  if (f->n == f->cap) {
    size_t cap = f->cap ? f->cap * 2 : 8;
    wd_node **items;
    if (cap > SIZE_MAX / sizeof(wd_node *)) return WD_ENOMEM;
    items = wd_realloc(f->items, cap * sizeof(wd_node *));
    if (items == NULL) return WD_ENOMEM;
    f->items = items;
    f->cap = cap;
  }
  f->items[f->n++] = n;
  return 0;
}

static int on_scalar(builder *b, const yaml_event_t *ev) {
  const yaml_mark_t *m = &ev->start_mark;
  size_t len = ev->data.scalar.length;
  wd_node *n;
  int r;
  if ((r = check_props(b, ev, ev->data.scalar.anchor, ev->data.scalar.tag)))
    return r;
  if ((n = new_node(b, WD_NODE_SCALAR, m)) == NULL) return WD_ENOMEM;
  if (len == SIZE_MAX || (n->str = wd_doc_alloc(b->doc, len + 1)) == NULL)
    return WD_ENOMEM;
  memcpy(n->str, ev->data.scalar.value, len);
  n->str[len] = '\0';
  n->len = len;
  n->quoted = ev->data.scalar.style != YAML_PLAIN_SCALAR_STYLE;
  return attach(b, n);
}

static int on_start(builder *b, const yaml_event_t *ev, int type) {
  const yaml_mark_t *m = &ev->start_mark;
  const yaml_char_t *anchor, *tag;
  wd_node *n;
  int r;
  if (type == WD_NODE_MAP) {
    anchor = ev->data.mapping_start.anchor;
    tag = ev->data.mapping_start.tag;
  } else {
    anchor = ev->data.sequence_start.anchor;
    tag = ev->data.sequence_start.tag;
  }
  if ((r = check_props(b, ev, anchor, tag))) return r;
  if (b->depth == WD_YAML_MAX_DEPTH)
    return fail(b, m->line, m->column,
                "nesting deeper than %d levels of sequences and maps",
                WD_YAML_MAX_DEPTH);
  if ((n = new_node(b, type, m)) == NULL) return WD_ENOMEM;
  if ((r = attach(b, n))) return r;
  b->stack[b->depth].node = n;
  b->stack[b->depth].items = NULL;
  b->stack[b->depth].n = b->stack[b->depth].cap = 0;
  b->depth++;
  return 0;
}

typedef struct keyref {
  const wd_node *key;
  size_t idx;
} keyref;

static int keyref_cmp(const void *pa, const void *pb) {
  const keyref *a = pa, *b = pb;
  size_t n = a->key->len < b->key->len ? a->key->len : b->key->len;
  int c = memcmp(a->key->str, b->key->str, n);
  if (c != 0) return c;
  if (a->key->len != b->key->len) return a->key->len < b->key->len ? -1 : 1;
  return a->idx < b->idx ? -1 : a->idx > b->idx;
}

/*
** Report the first key (in document order) that repeats an earlier one.
** Sorting keeps this O(n log n) for large maps; ties are ordered by
** position, so equal neighbours are (earlier, later).
*/
static int check_dups(builder *b, wd_node *m) {
  keyref *v;
  size_t i, best = SIZE_MAX, first = 0;
  char show[72];
  if (m->n < 2) return 0;
  if (m->n > SIZE_MAX / sizeof *v) return WD_ENOMEM;
  if ((v = wd_malloc(m->n * sizeof *v)) == NULL) return WD_ENOMEM;
  for (i = 0; i < m->n; i++) {
    v[i].key = m->keys[i];
    v[i].idx = i;
  }
  qsort(v, m->n, sizeof *v, keyref_cmp);
  for (i = 1; i < m->n; i++) {
    const wd_node *x = v[i - 1].key, *y = v[i].key;
    if (x->len == y->len && memcmp(x->str, y->str, x->len) == 0 &&
        v[i].idx < best) {
      best = v[i].idx;
      first = v[i - 1].idx;
    }
  }
  wd_free(v);
  if (best == SIZE_MAX) return 0;
  wd_yaml_excerpt(show, sizeof show, m->keys[best]->str, m->keys[best]->len);
  return fail(b, (size_t)m->keys[best]->line - 1,
              (size_t)m->keys[best]->col - 1,
              "duplicate key '%s' (first at line %d, column %d)", show,
              m->keys[first]->line, m->keys[first]->col);
}

/* Close the innermost collection: move its children into the arena. */
static int on_end(builder *b) {
  frame *f = &b->stack[b->depth - 1];
  wd_node *n = f->node;
  size_t i;
  int r = 0;
  if (n->type == WD_NODE_SEQ) {
    n->n = f->n;
    if (f->n > 0) {
      n->kids = wd_doc_alloc(b->doc, f->n * sizeof(wd_node *));
      if (n->kids == NULL) return WD_ENOMEM;
      memcpy(n->kids, f->items, f->n * sizeof(wd_node *));
    }
  } else {
    /* libyaml only ends a map after a value, so 'f->n' is even. */
    n->n = f->n / 2;
    if (n->n > 0) {
      n->keys = wd_doc_alloc(b->doc, n->n * sizeof(wd_node *));
      n->kids = wd_doc_alloc(b->doc, n->n * sizeof(wd_node *));
      if (n->keys == NULL || n->kids == NULL) return WD_ENOMEM;
      for (i = 0; i < n->n; i++) {
        n->keys[i] = f->items[2 * i];
        n->kids[i] = f->items[2 * i + 1];
      }
      r = check_dups(b, n);
    }
  }
  wd_free(f->items);
  f->items = NULL;
  b->depth--;
  return r;
}

static int on_event(builder *b, const yaml_event_t *ev) {
  const yaml_mark_t *m = &ev->start_mark;
  const char *a;
  char show[40];
  switch (ev->type) {
    case YAML_DOCUMENT_START_EVENT:
      if (b->ndocs++ > 0)
        return fail(b, m->line, m->column,
                    "a second document is not allowed (one document per "
                    "file)");
      return 0;
    case YAML_ALIAS_EVENT:
      a = (const char *)ev->data.alias.anchor;
      wd_yaml_excerpt(show, sizeof show, a, strlen(a));
      return fail(b, m->line, m->column,
                  "aliases (*%s) are not allowed: write the value out in full",
                  show);
    case YAML_SCALAR_EVENT:
      return on_scalar(b, ev);
    case YAML_SEQUENCE_START_EVENT:
      return on_start(b, ev, WD_NODE_SEQ);
    case YAML_MAPPING_START_EVENT:
      return on_start(b, ev, WD_NODE_MAP);
    case YAML_SEQUENCE_END_EVENT:
    case YAML_MAPPING_END_EVENT:
      return on_end(b);
    default:
      return 0;
  }
}

/* }====== */

/* Line and column (0-based) of byte 'off' of 'text'. */
static void offset_pos(const char *text, size_t len, size_t off, size_t *line,
                       size_t *col) {
  size_t i;
  *line = *col = 0;
  for (i = 0; i < off && i < len; i++) {
    if (text[i] == '\n') {
      (*line)++;
      *col = 0;
    } else {
      (*col)++;
    }
  }
}

static int syntax_error(builder *b, const yaml_parser_t *p, const char *text,
                        size_t len) {
  size_t line = p->problem_mark.line, col = p->problem_mark.column;
  const char *problem = p->problem ? p->problem : "syntax error";
  if (p->error == YAML_MEMORY_ERROR) return WD_ENOMEM;
  if (p->error == YAML_READER_ERROR) {
    /* Reader errors carry a byte offset instead of a mark. */
    offset_pos(text, len, p->problem_offset, &line, &col);
    return fail(b, line, col, "invalid YAML: %s", problem);
  }
  if (p->context != NULL)
    return fail(b, line, col, "invalid YAML: %s (%s at line %zu, column %zu)",
                problem, p->context, p->context_mark.line + 1,
                p->context_mark.column + 1);
  return fail(b, line, col, "invalid YAML: %s", problem);
}

int wd_yaml_parse(const char *file, const char *text, size_t len, wd_doc **out,
                  char *err, size_t errlen) {
  yaml_parser_t p;
  yaml_event_t ev;
  builder *b = NULL;
  wd_doc *d = NULL;
  int r = WD_ENOMEM, done = 0, i;

  if (errlen > 0) err[0] = '\0';
  if (file == NULL) file = "-";
  if (text == NULL) len = 0; /* libyaml asserts on a NULL input */
  if (!yaml_parser_initialize(&p)) goto nomem;
  /* The builder holds the whole depth stack; keep it off the C stack. */
  if ((b = wd_calloc(1, sizeof *b)) == NULL ||
      (d = wd_calloc(1, sizeof *d)) == NULL ||
      (d->file = wd_strdup(file)) == NULL)
    goto out;
  b->doc = d;
  b->err = err;
  b->errlen = errlen;
  yaml_parser_set_input_string(&p, (const unsigned char *)(len ? text : ""),
                               len);
  while (!done) {
    if (!yaml_parser_parse(&p, &ev)) {
      r = syntax_error(b, &p, text, len);
      goto out;
    }
    r = on_event(b, &ev);
    done = ev.type == YAML_STREAM_END_EVENT;
    yaml_event_delete(&ev);
    if (r != 0) goto out;
  }
  /* A document with no content is one empty plain scalar. */
  if (b->root != NULL && b->root->type == WD_NODE_SCALAR && !b->root->quoted &&
      b->root->len == 0)
    b->root = NULL;
  d->root = b->root;
  *out = d;
  d = NULL;
  r = 0;
out:
  if (b != NULL)
    for (i = 0; i < b->depth; i++)
      wd_free(b->stack[i].items);
  wd_free(b);
  wd_doc_free(d);
  yaml_parser_delete(&p);
  if (r == WD_ENOMEM) goto nomem;
  return r;
nomem:
  if (errlen > 0) snprintf(err, errlen, "%s: out of memory", file);
  return WD_ENOMEM;
}
