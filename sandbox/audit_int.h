/*
** sandbox/audit_int.h
** What the audit log writer (audit.c) and its verifier (audit_verify.c)
** share: the Merkle tree frontier, key ids, JSON string escaping, time
** stamps and the exact text of checkpoint notes and checkpoint lines, so
** that the verifier rebuilds byte for byte what the writer wrote.
** Runs in: broker.
*/
#ifndef wd_audit_int_h
#define wd_audit_int_h

#include <stddef.h>
#include <stdint.h>

#include "ward/wd_audit.h"
#include "ward/wd_buf.h"

#define HASHLEN 32 /* BLAKE2b-256 (chain) and SHA-256 (tree) */

/*
** The right edge of an RFC 6962 tree of 'size' leaves: one perfect
** subtree per set bit of 'size', largest first, so 64 slots always do.
*/
typedef struct wd__atree {
  uint64_t size;
  int n;
  unsigned char h[64][HASHLEN];
} wd__atree;

void wd__audit_tree_init(wd__atree *t);
/* Add the leaf whose data is 'p' (SHA-256(0x00 || p)). */
void wd__audit_tree_add(wd__atree *t, const void *p, size_t n);
/* Root hash of the tree (SHA-256 of nothing when it is empty). */
void wd__audit_tree_root(const wd__atree *t, unsigned char out[HASHLEN]);

/* Signed-note key id of an Ed25519 public key named 'name'. */
uint32_t wd__audit_keyid(const char *name, const unsigned char pk[32]);
/* 1 if 'name' can name a key: 1..127 printable ASCII, no space or '+'. */
int wd__audit_name_ok(const char *name, size_t n);

/* BLAKE2b-256 of a line, as 64 lowercase hex digits and a NUL. */
void wd__audit_chain_hex(const void *p, size_t n, char out[2 * HASHLEN + 1]);

/*
** Put 's' as a JSON string: quotes, backslash, control bytes and DEL
** escaped, U+2028/U+2029 escaped, every invalid UTF-8 byte as \ufffd. At
** most 'max' input bytes are written, then "..." (max 0: no limit).
*/
void wd__audit_put_jstr(wd_buf *b, const char *s, size_t n, size_t max);

/* RFC 3339 UTC time with nanoseconds ("2025-01-02T03:04:05.000000001Z"). */
void wd__audit_fmt_time(int64_t ns, char out[64]);

/*
** The signed part of a checkpoint note: origin (the key name), tree size,
** base64 root, "time T", and "final" when 'final' is set; every line
** ends in "\n".
*/
void wd__audit_note_text(wd_buf *b, const char *name, uint64_t size,
                         const char *root64, const char *time, int final);

/* The whole checkpoint line, without its newline. */
void wd__audit_cp_line(wd_buf *b, uint64_t seq, const char *time,
                       const char *prev, const char *root64, const char *note,
                       size_t notelen);

#endif
