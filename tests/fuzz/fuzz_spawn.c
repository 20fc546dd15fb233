/*
** tests/fuzz/fuzz_spawn.c
** libFuzzer target for the SPAWN record decoder (wd_wire_get_spawn), which
** the broker runs on every spawn request from a host and a host on every
** spawn the broker carries to it. Arbitrary bytes must decode or fail with
** WD_EBADFRAME; whatever decodes must keep every pointer inside the input,
** obey the documented rules (at most WD_SPAWN_MAXMSGS messages, topics of
** 1..WD_TOPIC_MAX bytes without NUL or a leading '@'), and be the one
** encoding of its record: wd_wire_put_spawn writes the input back byte for
** byte, and the record without its last byte or with one byte more does
** not decode. Sources: run_short.sh.
** Runs in: broker and host.
**
** Build and run (from the repository root):
**   clang -g -O1 -fsanitize=fuzzer,address,undefined -Iinclude \
**     -D_GNU_SOURCE tests/fuzz/fuzz_spawn.c runtime/wire.c runtime/buf.c \
**     runtime/common.c policy/value.c -lm -o fuzz_spawn
**   ./fuzz_spawn -max_total_time=60 tests/fuzz/corpus/spawn
**
** Seeds: corpus/spawn/, written by the encoder itself:
**   WD_WRITE_CORPUS=tests/fuzz/corpus/spawn ./fuzz_spawn
** writes them (valid records, and a few that each break one rule) and
** exits without fuzzing.
*/
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ward/wd_buf.h"
#include "ward/wd_proto.h"
#include "ward/wd_wire.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static wd_buf out;

/* {====== Checks ====== */

/* 'p' ('n' bytes) lies inside the input; touch every byte for ASan. */
static unsigned inside(const uint8_t *data, size_t size, const void *p,
                       size_t n) {
  const uint8_t *q = p;
  unsigned sum = 0;
  size_t i;
  if (n > size || q < data || q > data + size - n) abort();
  for (i = 0; i < n; i++)
    sum += q[i];
  return sum;
}

/* What a decoded record must satisfy. */
static void check(const uint8_t *data, size_t size, const wd_spawnrec *r,
                  const wd_spawnmsg *msgs) {
  volatile unsigned sum = 0;
  uint32_t i;
  sum += inside(data, size, r->parent, r->parentlen);
  sum += inside(data, size, r->entry, r->entrylen);
  sum += inside(data, size, r->host, r->hostlen);
  sum += inside(data, size, r->actor, r->actorlen);
  sum += inside(data, size, r->scope, r->scopelen);
  sum += inside(data, size, r->args, r->alen);
  sum += inside(data, size, r->ctx, r->ctxlen);
  sum += inside(data, size, r->name, r->namelen);
  if (r->msgs != msgs || r->nmsgs > WD_SPAWN_MAXMSGS) abort();
  for (i = 0; i < r->nmsgs; i++) {
    const wd_spawnmsg *m = &r->msgs[i];
    sum += inside(data, size, m->topic, m->topiclen);
    sum += inside(data, size, m->payload, m->plen);
    if (m->topiclen == 0 || m->topiclen > WD_TOPIC_MAX ||
        m->topic[0] == '@' || memchr(m->topic, '\0', m->topiclen) != NULL)
      abort();
  }
  (void)sum;
}

static int decode(const uint8_t *p, size_t n, wd_spawnrec *r,
                  wd_spawnmsg msgs[WD_SPAWN_MAXMSGS]) {
  wd_cur c;
  int st;
  wd_cur_init(&c, p, n);
  st = wd_wire_get_spawn(&c, r, msgs);
  if (st != 0 && st != WD_EBADFRAME) abort();
  return st;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  wd_spawnmsg msgs[WD_SPAWN_MAXMSGS];
  wd_spawnrec r;
  uint8_t *more;
  if (decode(data, size, &r, msgs) != 0) return 0;
  check(data, size, &r, msgs);
  /* The one encoding: written back byte for byte. */
  wd_buf_reset(&out);
  wd_wire_put_spawn(&out, &r);
  if (out.err != 0 || out.len != size || memcmp(out.p, data, size) != 0)
    abort();
  /* Cut or lengthened by one byte, it is not a record. (A copy of exactly
  ** size - 1 bytes, so that ASan sees a read past the cut.) */
  if (size > 0) {
    uint8_t *less = malloc(size - 1 ? size - 1 : 1);
    if (less == NULL) abort();
    memcpy(less, data, size - 1);
    if (decode(less, size - 1, &r, msgs) == 0) abort();
    free(less);
  }
  if ((more = malloc(size + 1)) == NULL) abort();
  memcpy(more, data, size);
  more[size] = 0;
  if (decode(more, size + 1, &r, msgs) == 0) abort();
  free(more);
  return 0;
}

/* }====== */

/* {====== Seeds (WD_WRITE_CORPUS=DIR) ====== */

static const char *seed_dir;

/* Encode 'r' into the file 'name' of the seed directory. */
static void seed(const char *name, const wd_spawnrec *r, const char *tail,
                 size_t taillen) {
  char path[4096];
  FILE *f;
  wd_buf_reset(&out);
  wd_wire_put_spawn(&out, r);
  wd_buf_put(&out, tail, taillen);
  snprintf(path, sizeof path, "%s/%s", seed_dir, name);
  if (out.err != 0 || (f = fopen(path, "wb")) == NULL ||
      fwrite(out.p, 1, out.len, f) != out.len || fclose(f) != 0) {
    fprintf(stderr, "fuzz_spawn: cannot write %s\n", path);
    exit(1);
  }
}

static void base(wd_spawnrec *r) {
  memset(r, 0, sizeof *r);
  r->parent = "{app:h|0x00002}";
  r->parentlen = strlen(r->parent);
  r->entry = "app:worker";
  r->entrylen = strlen(r->entry);
  r->host = "app:h";
  r->hostlen = strlen(r->host);
  r->actor = "tenant\0{meta}";
  r->actorlen = 13;
  r->scope = "g1\ng2";
  r->scopelen = 5;
  r->args = (const uint8_t *)"\x01\x00\x00\x00\x03\x02";
  r->alen = 6;
  r->ctx = (const uint8_t *)"";
  r->name = "";
}

static void write_seeds(void) {
  static char topics[WD_SPAWN_MAXMSGS + 1][4];
  static wd_spawnmsg many[WD_SPAWN_MAXMSGS + 1];
  char longtopic[WD_TOPIC_MAX + 1];
  wd_spawnmsg two[2] = {
    { "hello", 5, (const uint8_t *)"\x01\x00\x00\x00\x05", 5 },
    { "work", 4, (const uint8_t *)"", 0 },
  };
  wd_spawnrec r;
  int i;
  for (i = 0; i <= WD_SPAWN_MAXMSGS; i++) {
    snprintf(topics[i], sizeof topics[i], "t%d", i);
    many[i].topic = topics[i];
    many[i].topiclen = strlen(topics[i]);
  }
  memset(longtopic, 'x', sizeof longtopic);

  /* Valid records. */
  memset(&r, 0, sizeof r);
  r.parent = r.entry = r.host = r.actor = r.scope = r.name = "";
  seed("empty_fields", &r, NULL, 0);
  base(&r);
  r.parent = "";
  r.parentlen = 0;
  r.flags = WD_SPAWN_ROOT;
  seed("root", &r, NULL, 0);
  base(&r);
  r.flags = WD_SPAWN_MONITOR | WD_SPAWN_LINK | WD_SPAWN_EXEC;
  seed("watched", &r, NULL, 0);
  base(&r);
  r.flags = WD_SPAWN_NAMED | WD_SPAWN_MONITOR;
  r.name = "svc";
  r.namelen = 3;
  r.msgs = two;
  r.nmsgs = 2;
  seed("named_two_msgs", &r, NULL, 0);
  r.msgs = many;
  r.nmsgs = WD_SPAWN_MAXMSGS;
  seed("named_max_msgs", &r, NULL, 0);
  two[0].topic = longtopic;
  two[0].topiclen = WD_TOPIC_MAX;
  r.msgs = two;
  r.nmsgs = 2;
  seed("topic_max", &r, NULL, 0);

  /* Records that break one rule each. */
  r.nmsgs = 2;
  seed("bad_trailing_byte", &r, "", 1);
  two[0].topiclen = WD_TOPIC_MAX + 1;
  seed("bad_topic_too_long", &r, NULL, 0);
  two[0].topic = "@exit";
  two[0].topiclen = 5;
  seed("bad_topic_at", &r, NULL, 0);
  two[0].topic = "a\0b";
  two[0].topiclen = 3;
  seed("bad_topic_nul", &r, NULL, 0);
  two[0].topiclen = 0;
  seed("bad_topic_empty", &r, NULL, 0);
  r.msgs = many;
  r.nmsgs = WD_SPAWN_MAXMSGS + 1;
  seed("bad_too_many_msgs", &r, NULL, 0);
}

int LLVMFuzzerInitialize(int *argc, char ***argv) {
  (void)argc;
  (void)argv;
  wd_buf_init(&out, 0);
  if ((seed_dir = getenv("WD_WRITE_CORPUS")) != NULL) {
    write_seeds();
    exit(0);
  }
  return 0;
}

/* }====== */
