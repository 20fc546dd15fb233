/*
** include/ward/wd_audit.h
** The tamper-evident audit log (ARCHITECTURE.md §6): JSON Lines written by
** the broker, each record linked to the one before it by a BLAKE2b hash,
** all of them leaves of an RFC 6962 Merkle tree whose root is signed with
** Ed25519 every N records and at close, as a C2SP tlog-checkpoint in the
** signed-note format, so tools outside ward (Go's golang.org/x/mod/sumdb
** note and tlog packages, for one) can check the log too.
** Runs in: broker (the only process that opens files).
**
** Format, one record per line ("\n"-terminated, at most WD_AUDIT_MAXLINE
** bytes), keys always in this order, absent values left out:
**   {"seq":0,"time":"2025-01-02T03:04:05.123456789Z","prev":"<64 hex>",
**    "kind":"decision","actor":"tenant-a","meta":{"tier":"gold"},
**    "scope":["app:tenants"],"action":"process.send",
**    "resource":"{app:p|0x00001}","attrs":{"pid":"..."},"effect":"deny",
**    "reason":"no policy matched","policies":["ns:p"],"pid":"...",
**    "host":"app:p","entry":"app:worker","digest":"<64 hex>"}
**   A decision record carries the whole request (actor with its meta, the
**   scope, action, resource, attributes), the decision and the policies
**   that made it, the caller's entry and host, and the digest of the
**   policy set in force (wd_polset_digest): enough to replay it (`ward
**   policy explain --from-log`). A policy_load record carries the digest.
** - 'seq' counts lines from 0, with no gap; 'prev' is the lowercase hex
**   BLAKE2b-256 of the bytes of the line before (without its newline); the
**   first record's 'prev' is WD_AUDIT_GENESIS.
** - Merkle tree: leaf i is line i (without newline, checkpoints included),
**   leaf hash SHA-256(0x00 || line), node SHA-256(0x01 || left || right)
**   (RFC 6962 §2.1; Go's tlog.RecordHash/NodeHash).
** - A checkpoint is a line of its own:
**   {"seq":N,"time":T,"prev":P,"kind":"checkpoint","size":N,
**    "root":"<base64>","note":"<signed note>"}
**   where the note commits to the N lines before it:
**     <key name>\n<N>\n<base64 root>\ntime <T>\n[final\n]\n
**     \u2014 <key name> <base64(4-byte key id || 64-byte Ed25519 sig)>\n
**   The first three lines are a C2SP tlog-checkpoint (origin = key name);
**   "time" and "final" are extension lines, "final" only on the one that
**   wd_audit_close writes, so a log cut short after a checkpoint is told
**   apart from a closed one.
** - Keys are Go signed-note keys: the public key file holds
**   "<name>+<8 hex key id>+<base64(0x01 || 32-byte public key)>\n" (a
**   note.Verifier string), the secret one
**   "PRIVATE+KEY+<name>+<8 hex key id>+<base64(0x01 || 32-byte seed)>\n".
**   The key id is the first 4 bytes (big-endian) of
**   SHA-256(name || "\n" || 0x01 || public key).
*/
#ifndef wd_audit_h
#define wd_audit_h

#include <stddef.h>
#include <stdint.h>

#include "ward/wd_common.h"
#include "ward/wd_policy.h"

/* Records between two checkpoints when nothing else is set. */
#define WD_AUDIT_DEFAULT_INTERVAL 1000
/* Longest record line accepted by the verifier, newline included. The
   writer keeps under it by cutting long strings (WD_AUDIT_MAXSTR bytes,
   then "...") and writing at most WD_AUDIT_MAXATTRS attributes. */
#define WD_AUDIT_MAXLINE  (1u << 20)
#define WD_AUDIT_MAXSTR   1024
#define WD_AUDIT_MAXATTRS 64
/* 'prev' of the first record: 64 zeros. */
#define WD_AUDIT_GENESIS                                                       \
  "0000000000000000000000000000000000000000000000000000000000000000"
/* Key name of keys made by wd_audit_open without a key file. */
#define WD_AUDIT_DEFAULT_NAME "ward-audit"

#define WD_AUDIT_KIND_MAP(XX)                                                  \
  XX(DECISION, "decision")                                                     \
  XX(HOST_START, "host_start")                                                 \
  XX(HOST_DEATH, "host_death")                                                 \
  XX(POLICY_LOAD, "policy_load")                                               \
  XX(CHECKPOINT, "checkpoint")

enum {
#define XX(name, text) WD_AUDIT_##name,
  WD_AUDIT_KIND_MAP(XX)
#undef XX
};

typedef struct wd_audit wd_audit;

/*
** One record to append. Everything is borrowed for the call; NULL strings
** and empty lists are left out of the line. 'effect' (WD_PEFFECT_*) is
** written for WD_AUDIT_DECISION only. 'reason' is free text: the policy
** reason ("no policy matched"), a host's cause of death, a file name.
** 'pid' is a PID string (the caller's, or the OS pid of a host), 'host' a
** host id. 'time_ns' is
** nanoseconds since the Unix epoch, 0 for now.
*/
typedef struct wd_audit_rec {
  int kind; /* WD_AUDIT_*, not WD_AUDIT_CHECKPOINT */
  const char *actor;
  const wd_pval *meta;  /* the actor's meta (a map), or NULL */
  const char *scope;    /* newline-separated policy and group names */
  size_t scopelen;
  const char *action;
  const char *resource;
  const wd_pattr *attrs;
  size_t nattrs;
  int effect;
  const char *reason;
  const char *const *policies;
  size_t npolicies;
  const char *pid;
  const char *host;
  const char *entry;    /* the caller's entry */
  const char *digest;   /* of the policy set in force (hex) */
  int64_t time_ns;
} wd_audit_rec;

/* ** Keys ** */

/*
** Make an Ed25519 key pair named 'name' (non-empty, printable ASCII, no
** space or '+') and write the secret key to 'secpath' (created with mode
** 0600, never overwritten) and the public key to 'pubpath' (mode 0644,
** replaced). Both must be regular files (or new): WD_EINVAL for a
** symlink, FIFO or device. Returns 0; WD_EINVAL (bad name, not a regular
** file); WD_EEXIST ('secpath' exists); -errno; message in 'err'
** (NUL-terminated when errlen > 0).
*/
WD_API int wd_audit_keygen(const char *name, const char *secpath,
                           const char *pubpath, char *err, size_t errlen);

/* A parsed public key (no secrets: plain caller-owned storage). */
typedef struct wd_audit_pub {
  char name[128];
  uint32_t id;
  unsigned char key[32];
} wd_audit_pub;

/*
** Read a public key file (the verifier string above, one line). Returns 0,
** -errno (unreadable) or WD_EINVAL (malformed, or the key id does not
** match the key), with a message in 'err'.
*/
WD_API int wd_audit_pub_load(const char *path, wd_audit_pub *out, char *err,
                             size_t errlen);

/* ** Writing ** */

/*
** Start a new log at 'path'. The file is created with mode 0600; an
** existing file is used only when it is an empty regular file (ward never
** appends to, or truncates, an old log). A symlink (never followed), FIFO
** (never waited on), device (/dev/null would keep nothing) or socket is
** refused. 'keyfile' names the secret key to sign with; NULL makes a
** fresh key pair for this log, which signs only in memory and is wiped at
** close, and writes its public key to "<path>.pub" (a regular file too).
** Returns 0 and the log in '*out'; WD_EEXIST (a non-empty log is there);
** WD_EINVAL (not a regular file; bad key file: not a regular file,
** malformed, or readable by group or others); -errno; WD_ENOMEM. Messages
** go to 'err', naming the path. Nothing is written to the log until the
** first append.
*/
WD_API int wd_audit_open(const char *path, const char *keyfile, wd_audit **out,
                         char *err, size_t errlen);

/* Records between automatic checkpoints (0 restores the default). */
WD_API void wd_audit_set_interval(wd_audit *a, uint64_t n);

/*
** Append 'r' as one line with one write(2), and then a checkpoint when
** the interval is reached. Returns 0, or a negative code when the record
** (or its checkpoint) could not be written in full: -ENOSPC, -EIO, ...;
** WD_EINVAL for a bad kind. A failed write is sticky: every later append,
** checkpoint and close returns the same code, because the log may end in
** a partial line. The caller must then fail closed: refuse the request
** the record was about with WD_EUNAVAIL. Not thread-safe.
*/
WD_API int wd_audit_append(wd_audit *a, const wd_audit_rec *r);

/*
** Write a signed checkpoint over every line so far and fdatasync the
** file. Returns 0 or the sticky write error.
*/
WD_API int wd_audit_checkpoint(wd_audit *a);

/* Lines written so far, checkpoints included. */
WD_API uint64_t wd_audit_count(const wd_audit *a);

/*
** Write the final checkpoint, fdatasync, close the file, wipe the key and
** free 'a' (always, also when it returns an error). Returns 0 or the
** sticky write error. NULL: returns 0.
*/
WD_API int wd_audit_close(wd_audit *a);

/*
** Fill 'r' from a policy request and its decision (kind DECISION). 'pid'
** and 'host' stay NULL: the request's attributes already carry them; set
** them for records about a process or host that the attributes do not
** name. Everything stays borrowed from 'rq' and 'd' (and the scope behind
** 'd').
*/
WD_API void wd_audit_rec_decision(wd_audit_rec *r, const wd_preq *rq,
                                  const wd_pdecision *d);

/* ** Verifying ** */

/*
** Check the log at 'path' against 'pub': sequence numbers, the hash
** chain, every checkpoint's signature, tree size and root, and that the
** log ends with the final checkpoint. Returns 0 for an intact, closed log
** ('report': "ok: N records, K checkpoints, signed by NAME"); WD_EINVAL
** with 'report' naming the first bad line ("line 7: record changed: ...")
** for a record changed, removed, inserted or reordered, a bad or foreign
** signature, or a log truncated or not closed; -errno when the log cannot
** be read; WD_ENOMEM. Reads the file once, with memory independent of its
** length.
*/
WD_API int wd_audit_verify(const char *path, const wd_audit_pub *pub,
                           char *report, size_t len);

/*
** The same walk, calling 'cb' with each line (1-based number, bytes
** without the newline) once it is known good: once the next line links
** to it by its hash (the last line: at the end of the file). Checkpoint
** lines are passed too. A non-zero return from 'cb' stops the walk and is
** returned. A bad line stops it before that line is passed; the result
** and 'report' are then wd_audit_verify's. A log that is good but not
** closed (its last lines are not yet under a checkpoint) passes every
** line and returns WD_EINVAL with that report.
*/
typedef int (*wd_audit_walk_fn)(void *ud, uint64_t line, const char *p,
                                size_t n);
WD_API int wd_audit_walk(const char *path, const wd_audit_pub *pub,
                         wd_audit_walk_fn cb, void *ud, char *report,
                         size_t len);

/*
** Top-level key 'key' of record 'p' ('n' bytes, one JSON object): returns
** 1 when present (a string value decoded into 'out', at most 'cap' bytes
** with the NUL; another value leaves 'out' ""; '*raw' and '*rawlen', when
** not NULL, point at the value's JSON text), 0 when absent, -1 for a line
** that is not such an object or a string too long for 'out'.
*/
WD_API int wd_audit_field(const char *p, size_t n, const char *key, char *out,
                          size_t cap, const char **raw, size_t *rawlen);

#endif
