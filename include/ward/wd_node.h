/*
** include/ward/wd_node.h
** A parsed YAML document as a plain tree of nodes, each remembering the
** file, line and column it came from, so every later consumer (manifest,
** policy loader, policy tests) can name the exact place of an error.
** Pure data: no I/O here (the YAML reader lives in runtime/yaml.c).
*/
#ifndef wd_node_h
#define wd_node_h

#include <stddef.h>

#include "ward/wd_common.h"

enum { WD_NODE_SCALAR, WD_NODE_SEQ, WD_NODE_MAP };

typedef struct wd_node wd_node;
struct wd_node {
  int type;          /* WD_NODE_* */
  const char *file;  /* borrowed: owned by the document (wd_doc) */
  int line, col;     /* 1-based position of the node's first character */
  /* SCALAR: NUL-terminated text (also holds embedded NULs: see 'len').
     'quoted' is 1 when the scalar was written quoted ('x' or "x"), so a
     quoted "123" stays a string. */
  char *str;
  size_t len;
  int quoted;
  /* SEQ: 'n' children in 'kids'. MAP: 'n' pairs, keys[i] -> kids[i]
     (keys are SCALAR nodes; duplicate keys are a load error). */
  size_t n;
  wd_node **keys;
  wd_node **kids;
};

/* Map lookup by key text; NULL if absent or 'm' is not a map. */
const wd_node *wd_node_get(const wd_node *m, const char *key);
/* Scalar text or NULL if 'n' is NULL or not a scalar. */
const char *wd_node_str(const wd_node *n);

#endif
