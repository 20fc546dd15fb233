/*
** include/ward/wd_yaml.h
** YAML text to a wd_node tree (libyaml event API), restricted to the plain
** subset ward's files need: scalars, sequences and maps, one document.
** Refused, each with "FILE:LINE:COL: message": anchors and aliases (an
** alias can expand a small file into an exponential tree, "billion
** laughs"), tags, duplicate map keys, non-scalar map keys, nesting deeper
** than WD_YAML_MAX_DEPTH and a second document.
*/
#ifndef wd_yaml_h
#define wd_yaml_h

#include <stddef.h>

#include "ward/wd_common.h"
#include "ward/wd_node.h"

/* Deepest nesting of sequences and maps accepted (the root map is 1). */
#define WD_YAML_MAX_DEPTH 64

typedef struct wd_doc_blk wd_doc_blk; /* private: arena block */

/*
** A parsed document. Every node, string and array of the tree lives in the
** document's arena and is released at once by wd_doc_free, so a wd_node *
** stays valid exactly as long as its wd_doc.
*/
typedef struct wd_doc {
  wd_node *root;     /* NULL for an empty document (no content at all) */
  char *file;        /* owned copy of the name given; every node's 'file' */
  wd_doc_blk *arena; /* private */
} wd_doc;

/*
** Parse 'len' bytes of 'text' (UTF-8, -16 with BOM) read from 'file' (a name
** for messages only; NULL reads as "-"). On success stores a new document
** in '*out' (free it with wd_doc_free) and returns 0. A scalar's 'quoted' is
** 1 for every non-plain style ('x', "x", | and >), since none of those is
** subject to type resolution. A stream with no document, or a document with
** no content, gives 'root' NULL.
** Returns WD_EINVAL with "FILE:LINE:COL: message" in 'err' (1-based line and
** column), or WD_ENOMEM (err "out of memory"); '*out' is untouched on
** failure. 'err' may be NULL when 'errlen' is 0. Calls back nothing.
*/
int wd_yaml_parse(const char *file, const char *text, size_t len, wd_doc **out,
                  char *err, size_t errlen);

/* Free a document and every node in it. wd_doc_free(NULL) does nothing. */
void wd_doc_free(wd_doc *d);

/*
** Allocate 'n' bytes owned by document 'd', aligned for any type, released
** by wd_doc_free (never individually). Lets a consumer (the manifest) keep
** data derived from the tree with the same lifetime as the tree.
** Returns NULL only on out of memory.
*/
void *wd_doc_alloc(wd_doc *d, size_t n);

/*
** Copy 's' ('len' bytes, NULs allowed) into 'dst' for use inside an error
** message: printable ASCII is kept, every other byte becomes '?', and text
** that does not fit in 'dstlen' - 1 bytes ends with "...". Terminals never
** see control characters from a file this way. 'dstlen' must be >= 4.
*/
void wd_yaml_excerpt(char *dst, size_t dstlen, const char *s, size_t len);

#endif
