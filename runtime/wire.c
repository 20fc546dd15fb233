/*
** runtime/wire.c
** Wire forms of YAML node trees (policies shipped from the broker to its
** hosts, which parse no YAML), of policy values (an actor's meta) and of
** the SPAWN request.
** Runs in: broker and host.
*/
#include <string.h>

#include "ward/wd_proto.h"
#include "ward/wd_wire.h"

/* {====== Nodes ====== */

void wd_wire_put_node(wd_buf *b, const wd_node *n) {
  size_t i;
  if (n == NULL) {
    wd_buf_put_u8(b, 0xff);
    return;
  }
  wd_buf_put_u8(b, (uint8_t)n->type);
  wd_buf_put_u32(b, (uint32_t)n->line);
  wd_buf_put_u32(b, (uint32_t)n->col);
  if (n->type == WD_NODE_SCALAR) {
    wd_buf_put_u8(b, (uint8_t)(n->quoted != 0));
    wd_buf_put_str(b, n->str, n->len);
    return;
  }
  wd_buf_put_u32(b, (uint32_t)n->n);
  for (i = 0; i < n->n; i++) {
    if (n->type == WD_NODE_MAP) wd_wire_put_node(b, n->keys[i]);
    wd_wire_put_node(b, n->kids[i]);
  }
}

void wd_wire_node_free(wd_node *n) {
  size_t i;
  if (n == NULL) return;
  for (i = 0; i < n->n; i++) {
    if (n->keys) wd_wire_node_free(n->keys[i]);
    if (n->kids) wd_wire_node_free(n->kids[i]);
  }
  wd_free(n->keys);
  wd_free(n->kids);
  wd_free(n->str);
  wd_free(n);
}

static int get_node(wd_cur *c, const char *file, int depth, wd_node **out) {
  uint8_t type, q;
  uint32_t line, col, n, i;
  const char *s;
  size_t len;
  wd_node *x;
  *out = NULL;
  if (wd_cur_u8(c, &type) < 0) return WD_EBADFRAME;
  if (type == 0xff) return 0;
  if (type > WD_NODE_MAP || depth > 64 || wd_cur_u32(c, &line) < 0 ||
      wd_cur_u32(c, &col) < 0)
    return WD_EBADFRAME;
  x = wd_calloc(1, sizeof *x);
  if (x == NULL) return WD_ENOMEM;
  x->type = type;
  x->file = file;
  x->line = (int)line;
  x->col = (int)col;
  *out = x;
  if (type == WD_NODE_SCALAR) {
    if (wd_cur_u8(c, &q) < 0 || wd_cur_str(c, &s, &len) < 0)
      return WD_EBADFRAME;
    x->quoted = q;
    x->len = len;
    x->str = wd_strndup(s, len);
    return x->str ? 0 : WD_ENOMEM;
  }
  /* Each child needs at least 1 byte: bound the count before allocating. */
  if (wd_cur_u32(c, &n) < 0 || n > wd_cur_left(c)) return WD_EBADFRAME;
  x->kids = wd_calloc(n ? n : 1, sizeof *x->kids);
  if (type == WD_NODE_MAP) x->keys = wd_calloc(n ? n : 1, sizeof *x->keys);
  if (x->kids == NULL || (type == WD_NODE_MAP && x->keys == NULL))
    return WD_ENOMEM;
  for (i = 0; i < n; i++) {
    int r;
    x->n = i + 1;
    if (type == WD_NODE_MAP) {
      if ((r = get_node(c, file, depth + 1, &x->keys[i])) < 0) return r;
      if (x->keys[i] == NULL || x->keys[i]->type != WD_NODE_SCALAR)
        return WD_EBADFRAME;
    }
    if ((r = get_node(c, file, depth + 1, &x->kids[i])) < 0) return r;
    if (x->kids[i] == NULL) return WD_EBADFRAME;
  }
  return 0;
}

int wd_wire_get_node(wd_cur *c, const char *file, wd_node **out) {
  int r = get_node(c, file, 0, out);
  if (r < 0) {
    wd_wire_node_free(*out);
    *out = NULL;
  }
  return r;
}

/* }====== */

/* {====== Policy values ====== */

void wd_wire_put_pval(wd_buf *b, const wd_pval *v) {
  size_t i;
  wd_buf_put_u8(b, (uint8_t)v->type);
  switch (v->type) {
    case WD_PVAL_BOOL:
      wd_buf_put_u8(b, (uint8_t)v->u.b);
      break;
    case WD_PVAL_INT:
      wd_buf_put_u64(b, (uint64_t)v->u.i);
      break;
    case WD_PVAL_NUM: {
      uint64_t bits;
      memcpy(&bits, &v->u.n, sizeof bits);
      wd_buf_put_u64(b, bits);
      break;
    }
    case WD_PVAL_STR:
      wd_buf_put_str(b, v->u.s.p, v->u.s.len);
      break;
    case WD_PVAL_LIST:
      wd_buf_put_u32(b, (uint32_t)v->u.list.n);
      for (i = 0; i < v->u.list.n; i++) wd_wire_put_pval(b, &v->u.list.v[i]);
      break;
    case WD_PVAL_MAP:
      wd_buf_put_u32(b, (uint32_t)v->u.map.n);
      for (i = 0; i < v->u.map.n; i++) {
        wd_buf_put_cstr(b, v->u.map.v[i].key);
        wd_wire_put_pval(b, &v->u.map.v[i].val);
      }
      break;
    default:
      break;
  }
}

static int get_pval(wd_cur *c, int depth, wd_pval *v) {
  uint8_t t, bv;
  uint64_t u;
  uint32_t n, i;
  const char *s;
  size_t len;
  memset(v, 0, sizeof *v);
  v->type = WD_PVAL_NULL;
  if (depth > WD_PVAL_MAXDEPTH || wd_cur_u8(c, &t) < 0) return WD_EBADFRAME;
  switch (t) {
    case WD_PVAL_NULL:
      return 0;
    case WD_PVAL_BOOL:
      if (wd_cur_u8(c, &bv) < 0) return WD_EBADFRAME;
      v->type = t;
      v->u.b = bv != 0;
      return 0;
    case WD_PVAL_INT:
    case WD_PVAL_NUM:
      if (wd_cur_u64(c, &u) < 0) return WD_EBADFRAME;
      v->type = t;
      if (t == WD_PVAL_INT) v->u.i = (int64_t)u;
      else memcpy(&v->u.n, &u, sizeof u);
      return 0;
    case WD_PVAL_STR: {
      char *p;
      if (wd_cur_str(c, &s, &len) < 0) return WD_EBADFRAME;
      if ((p = wd_strndup(s, len)) == NULL) return WD_ENOMEM;
      v->type = t;
      v->u.s.p = p;
      v->u.s.len = len;
      return 0;
    }
    case WD_PVAL_LIST: {
      wd_pval *items;
      if (wd_cur_u32(c, &n) < 0 || n > wd_cur_left(c)) return WD_EBADFRAME;
      items = wd_calloc(n ? n : 1, sizeof *items);
      if (items == NULL) return WD_ENOMEM;
      v->type = t;
      v->u.list.v = items;
      for (i = 0; i < n; i++) {
        int r;
        v->u.list.n = i + 1;
        if ((r = get_pval(c, depth + 1, &items[i])) < 0) return r;
      }
      return 0;
    }
    case WD_PVAL_MAP: {
      wd_pattr *items;
      if (wd_cur_u32(c, &n) < 0 || n > wd_cur_left(c)) return WD_EBADFRAME;
      items = wd_calloc(n ? n : 1, sizeof *items);
      if (items == NULL) return WD_ENOMEM;
      v->type = t;
      v->u.map.v = items;
      for (i = 0; i < n; i++) {
        int r;
        v->u.map.n = i + 1;
        if (wd_cur_str(c, &s, &len) < 0 || memchr(s, '\0', len) != NULL)
          return WD_EBADFRAME;
        if ((items[i].key = wd_strndup(s, len)) == NULL) return WD_ENOMEM;
        if ((r = get_pval(c, depth + 1, &items[i].val)) < 0) return r;
      }
      return 0;
    }
    default:
      return WD_EBADFRAME;
  }
}

int wd_wire_get_pval(wd_cur *c, wd_pval *out) {
  int r = get_pval(c, 0, out);
  if (r < 0) wd_pval_clear(out);
  return r;
}

/* }====== */

/* {====== The SPAWN request ====== */

void wd_wire_put_spawn(wd_buf *b, const wd_spawnrec *r) {
  uint32_t i;
  wd_buf_put_str(b, r->parent, r->parentlen);
  wd_buf_put_str(b, r->entry, r->entrylen);
  wd_buf_put_str(b, r->host, r->hostlen);
  wd_buf_put_u32(b, r->flags);
  wd_buf_put_str(b, r->actor, r->actorlen);
  wd_buf_put_str(b, r->scope, r->scopelen);
  wd_buf_put_str(b, (const char *)r->args, r->alen);
  wd_buf_put_str(b, (const char *)r->ctx, r->ctxlen);
  wd_buf_put_str(b, r->name, r->namelen);
  wd_buf_put_u32(b, r->nmsgs);
  for (i = 0; i < r->nmsgs; i++) {
    wd_buf_put_str(b, r->msgs[i].topic, r->msgs[i].topiclen);
    wd_buf_put_str(b, (const char *)r->msgs[i].payload, r->msgs[i].plen);
  }
}

int wd_wire_get_spawn(wd_cur *c, wd_spawnrec *r,
                      wd_spawnmsg msgs[WD_SPAWN_MAXMSGS]) {
  const char *args, *ctx, *p;
  uint32_t i;
  if (wd_cur_str(c, &r->parent, &r->parentlen) ||
      wd_cur_str(c, &r->entry, &r->entrylen) ||
      wd_cur_str(c, &r->host, &r->hostlen) || wd_cur_u32(c, &r->flags) ||
      wd_cur_str(c, &r->actor, &r->actorlen) ||
      wd_cur_str(c, &r->scope, &r->scopelen) ||
      wd_cur_str(c, &args, &r->alen) || wd_cur_str(c, &ctx, &r->ctxlen) ||
      wd_cur_str(c, &r->name, &r->namelen) || wd_cur_u32(c, &r->nmsgs) ||
      r->nmsgs > WD_SPAWN_MAXMSGS)
    return WD_EBADFRAME;
  r->args = (const uint8_t *)args;
  r->ctx = (const uint8_t *)ctx;
  for (i = 0; i < r->nmsgs; i++) {
    wd_spawnmsg *m = &msgs[i];
    if (wd_cur_str(c, &m->topic, &m->topiclen) || wd_cur_str(c, &p, &m->plen) ||
        m->topiclen == 0 || m->topic[0] == '@' || m->topiclen > WD_TOPIC_MAX ||
        memchr(m->topic, '\0', m->topiclen) != NULL)
      return WD_EBADFRAME;
    m->payload = (const uint8_t *)p;
  }
  r->msgs = msgs;
  return wd_cur_left(c) == 0 ? 0 : WD_EBADFRAME;
}

/* }====== */
