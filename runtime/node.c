/*
** runtime/node.c
** Lookups on the plain YAML node tree.
** Runs in: broker and host.
*/
#include <string.h>

#include "ward/wd_node.h"

const wd_node *wd_node_get(const wd_node *m, const char *key) {
  size_t i;
  if (m == NULL || m->type != WD_NODE_MAP) return NULL;
  for (i = 0; i < m->n; i++)
    if (strcmp(m->keys[i]->str, key) == 0) return m->kids[i];
  return NULL;
}

const char *wd_node_str(const wd_node *n) {
  return (n != NULL && n->type == WD_NODE_SCALAR) ? n->str : NULL;
}
