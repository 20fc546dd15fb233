/*
** include/ward/wd_proto.h
** Records exchanged between the broker and its hosts inside signed frames
** (ARCHITECTURE.md §3). A frame payload is a sequence of records
** [u8 rtype | u32 length | body]; bodies are built with wd_buf puts and read
** with wd_cur gets, so every field is bounds-checked on receipt.
*/
#ifndef wd_proto_h
#define wd_proto_h

/* Frame types (the 'type' byte of a frame header). */
enum {
  WD_F_KEYS = 1, /* broker -> host, unsigned, first frame only: 2 keys */
  WD_F_BATCH = 2 /* a batch of records, signed */
};

/*
** Record types. Direction and body (strings are u32-length prefixed):
**   INIT    b->h  host config, entries; see broker.c 'send_init'
**   PIDS    b->h  u64 base, u32 count: a fresh block of PID counters
**   PIDREQ  h->b  (empty): the host's block is running low
**   PRINT   h->b  str text: script output, written to ward's stdout
**   REQ     both  u32 req, u8 op, op body: a request that wants a REPLY
**   REPLY   both  u32 req, i32 status (0 or WD_E*), str (pid / message)
**   EXIT    h->b  u64 counter, u8 flags, i32 status, str text, bytes res
**   STOP    b->h  (empty): shut down now
**   LOG     h->b  str text: a host diagnostic for ward's stderr
*/
enum {
  WD_R_INIT = 1,
  WD_R_PIDS,
  WD_R_PIDREQ,
  WD_R_PRINT,
  WD_R_REQ,
  WD_R_REPLY,
  WD_R_EXIT,
  WD_R_STOP,
  WD_R_LOG,
  WD_R_MAX
};

/*
** Request operations (WD_R_REQ). Bodies after 'op':
**   SPAWN   str parent, str entry, str host, u32 flags, str actor,
**           str scope, bytes args          -> REPLY str pid
**   SEND    str from, str dest (pid or name), str topic, bytes payload
**                                           -> REPLY (status only)
**   REG     str name, str pid               -> REPLY
**   UNREG   str name                        -> REPLY str "1" | "0"
**   LOOKUP  str name                        -> REPLY str pid
*/
enum {
  WD_OP_SPAWN = 1,
  WD_OP_SEND,
  WD_OP_REG,
  WD_OP_UNREG,
  WD_OP_LOOKUP,
  WD_OP_MAX
};

/* Spawn flags. */
#define WD_SPAWN_ROOT 0x1u /* broker watches the exit (ward run/test) */

/* Exit flags. */
#define WD_EXIT_OK 0x1u      /* returned without error */
#define WD_EXIT_FALSE 0x2u   /* returned a lone false */

#endif
