/*
** include/ward/wd_wire.h
** Wire forms of YAML node trees and policy values, for the link between
** the broker and its hosts (policies and actor meta travel this way), and
** of the SPAWN request: one encoder and one decoder for each, used by both
** sides.
** Runs in: broker and host.
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

/* {====== The SPAWN request ====== */

/* The most messages a spawn-or-signal carries (SpawnBuilder:with_message). */
#define WD_SPAWN_MAXMSGS 64

/* A message queued for the child of a spawn-or-signal. */
typedef struct wd_spawnmsg {
  const char *topic;
  size_t topiclen;
  const uint8_t *payload; /* codec bytes */
  size_t plen;
} wd_spawnmsg;

/*
** The body of a SPAWN request after its op (wd_proto.h), either way: a
** host asks the broker, the broker asks the child's host. Every pointer is
** borrowed: from the caller (to write it) or from the frame (read).
*/
typedef struct wd_spawnrec {
  const char *parent; /* spawner PID, "" for the broker */
  size_t parentlen;
  const char *entry; /* entry id */
  size_t entrylen;
  const char *host; /* host id */
  size_t hostlen;
  uint32_t flags;    /* WD_SPAWN_* */
  const char *actor; /* "<id>" or "<id>\0<meta>" (wd_secid.h) */
  size_t actorlen;
  const char *scope; /* policy groups or ids, newline-separated */
  size_t scopelen;
  const uint8_t *args; /* codec bytes of the arguments, or empty */
  size_t alen;
  const uint8_t *ctx; /* codec bytes of the context table, or empty */
  size_t ctxlen;
  const char *name; /* WD_SPAWN_NAMED: the name, else empty */
  size_t namelen;
  const wd_spawnmsg *msgs; /* queued before the child's first step */
  uint32_t nmsgs;          /* at most WD_SPAWN_MAXMSGS */
} wd_spawnrec;

/* Append the body of SPAWN request 'r'. Errors are left in b->err. */
void wd_wire_put_spawn(wd_buf *b, const wd_spawnrec *r);

/*
** Read the body of a SPAWN request, the whole rest of 'c', into 'r'; its
** messages go to 'msgs' (r->msgs points there). Returns 0 or WD_EBADFRAME:
** truncated, trailing bytes, more than WD_SPAWN_MAXMSGS messages, or a
** message topic that is empty, longer than WD_TOPIC_MAX, holds a NUL or
** starts with '@' (the rules of process.send and with_message, enforced
** on both sides of the link).
*/
int wd_wire_get_spawn(wd_cur *c, wd_spawnrec *r,
                      wd_spawnmsg msgs[WD_SPAWN_MAXMSGS]);

/* }====== */

#endif
