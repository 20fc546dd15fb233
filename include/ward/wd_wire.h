/*
** include/ward/wd_wire.h
** Wire forms of YAML node trees and policy values, for the link between
** the broker and its hosts (policies and actor meta travel this way).
*/
#ifndef wd_wire_h
#define wd_wire_h

#include "ward/wd_buf.h"
#include "ward/wd_node.h"
#include "ward/wd_policy.h"

/* Append node tree 'n' (NULL allowed) to 'b'. */
void wd_wire_put_node(wd_buf *b, const wd_node *n);
/* Read a tree written by wd_wire_put_node; nodes name 'file' (borrowed).
** '*out' is NULL for an absent tree. Returns 0, WD_EBADFRAME or
** WD_ENOMEM (nothing allocated then). Free with wd_wire_node_free. */
int wd_wire_get_node(wd_cur *c, const char *file, wd_node **out);
void wd_wire_node_free(wd_node *n);

/* Append value 'v'; read one back as an owned value (wd_pval_clear). */
void wd_wire_put_pval(wd_buf *b, const wd_pval *v);
int wd_wire_get_pval(wd_cur *c, wd_pval *out);

#endif
