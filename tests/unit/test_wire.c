/*
** tests/unit/test_wire.c
** Unit tests for the SPAWN request record (runtime/wire.c): the one
** encoder and decoder both sides of the link use.
** Runs in: broker and host.
*/
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "ward/wd_proto.h"
#include "ward/wd_wire.h"

static wd_spawnmsg two[2] = {
  { "hello", 5, (const uint8_t *)"\x10\x01\x81", 3 },
  { "t", 1, (const uint8_t *)"", 0 },
};

static void fill(wd_spawnrec *q) {
  memset(q, 0, sizeof *q);
  q->parent = "{a:h|0x00001}";
  q->parentlen = strlen(q->parent);
  q->entry = "app:child";
  q->entrylen = strlen(q->entry);
  q->host = "a:h";
  q->hostlen = 3;
  q->flags = WD_SPAWN_NAMED | WD_SPAWN_MONITOR;
  q->actor = "tenant\0{meta}";
  q->actorlen = 13;
  q->scope = "g1\ng2";
  q->scopelen = 5;
  q->args = (const uint8_t *)"\x10\x00";
  q->alen = 2;
  q->ctx = (const uint8_t *)"";
  q->name = "svc";
  q->namelen = 3;
  q->msgs = two;
  q->nmsgs = 2;
}

static int decode(const wd_buf *b, size_t len, wd_spawnrec *q,
                  wd_spawnmsg *msgs) {
  wd_cur c;
  wd_cur_init(&c, b->p, len);
  return wd_wire_get_spawn(&c, q, msgs);
}

#define SAME(a, al, b, bl)                                                     \
  do {                                                                         \
    assert_int_equal((al), (bl));                                              \
    assert_memory_equal((a), (b), (al));                                       \
  } while (0)

/* What is written is read back, field by field, in the documented order
** (wd_proto.h): parent, entry, host, flags, actor, scope, args, ctx,
** name, the count and the messages. */
static void test_wire_spawn_round_trips_in_proto_order(void **state) {
  wd_spawnrec q, r;
  wd_spawnmsg msgs[WD_SPAWN_MAXMSGS];
  wd_buf b;
  wd_cur c;
  const char *s;
  size_t n;
  uint32_t u;
  (void)state;
  fill(&q);
  wd_buf_init(&b, 0);
  wd_wire_put_spawn(&b, &q);
  assert_int_equal(b.err, 0);
  assert_int_equal(decode(&b, b.len, &r, msgs), 0);
  SAME(r.parent, r.parentlen, q.parent, q.parentlen);
  SAME(r.entry, r.entrylen, q.entry, q.entrylen);
  SAME(r.host, r.hostlen, q.host, q.hostlen);
  assert_int_equal(r.flags, q.flags);
  SAME(r.actor, r.actorlen, q.actor, q.actorlen);
  SAME(r.scope, r.scopelen, q.scope, q.scopelen);
  SAME(r.args, r.alen, q.args, q.alen);
  assert_int_equal(r.ctxlen, 0);
  SAME(r.name, r.namelen, q.name, q.namelen);
  assert_int_equal(r.nmsgs, 2);
  assert_ptr_equal(r.msgs, msgs);
  SAME(r.msgs[0].topic, r.msgs[0].topiclen, "hello", 5);
  SAME(r.msgs[0].payload, r.msgs[0].plen, "\x10\x01\x81", 3);
  SAME(r.msgs[1].topic, r.msgs[1].topiclen, "t", 1);
  assert_int_equal(r.msgs[1].plen, 0);
  /* The layout, read by hand. */
  wd_cur_init(&c, b.p, b.len);
  assert_int_equal(wd_cur_str(&c, &s, &n), 0);
  SAME(s, n, q.parent, q.parentlen);
  assert_int_equal(wd_cur_str(&c, &s, &n), 0);
  assert_int_equal(wd_cur_str(&c, &s, &n), 0);
  assert_int_equal(wd_cur_u32(&c, &u), 0);
  assert_int_equal(u, q.flags);
  for (u = 0; u < 5; u++)
    assert_int_equal(wd_cur_str(&c, &s, &n), 0);
  SAME(s, n, "svc", 3);
  assert_int_equal(wd_cur_u32(&c, &u), 0);
  assert_int_equal(u, 2);
  wd_buf_close(&b);
}

/* Every truncation, and a byte more, is a bad frame. */
static void test_wire_spawn_truncated_or_longer_is_badframe(void **state) {
  wd_spawnrec q, r;
  wd_spawnmsg msgs[WD_SPAWN_MAXMSGS];
  wd_buf b;
  size_t n;
  (void)state;
  fill(&q);
  wd_buf_init(&b, 0);
  wd_wire_put_spawn(&b, &q);
  for (n = 0; n < b.len; n++)
    assert_int_equal(decode(&b, n, &r, msgs), WD_EBADFRAME);
  wd_buf_put_u8(&b, 0);
  assert_int_equal(decode(&b, b.len, &r, msgs), WD_EBADFRAME);
  wd_buf_close(&b);
}

/* A queued message's topic follows process.send's rules on both sides:
** not empty, not an '@' topic, at most WD_TOPIC_MAX bytes, no NUL. */
static void test_wire_spawn_bad_topics_are_badframe(void **state) {
  static char longest[WD_TOPIC_MAX + 1];
  struct {
    const char *t;
    size_t n;
    int want;
  } cases[] = {
    { "", 0, WD_EBADFRAME },
    { "@exit", 5, WD_EBADFRAME },
    { "a\0b", 3, WD_EBADFRAME },
    { longest, WD_TOPIC_MAX + 1, WD_EBADFRAME },
    { longest, WD_TOPIC_MAX, 0 },
    { "a@", 2, 0 },
  };
  wd_spawnrec q, r;
  wd_spawnmsg m, msgs[WD_SPAWN_MAXMSGS];
  wd_buf b;
  size_t i;
  (void)state;
  memset(longest, 'x', sizeof longest);
  wd_buf_init(&b, 0);
  for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    fill(&q);
    m.topic = cases[i].t;
    m.topiclen = cases[i].n;
    m.payload = (const uint8_t *)"";
    m.plen = 0;
    q.msgs = &m;
    q.nmsgs = 1;
    wd_buf_reset(&b);
    wd_wire_put_spawn(&b, &q);
    assert_int_equal(decode(&b, b.len, &r, msgs), cases[i].want);
  }
  wd_buf_close(&b);
}

/* At most WD_SPAWN_MAXMSGS messages. */
static void test_wire_spawn_65_messages_is_badframe(void **state) {
  wd_spawnmsg many[WD_SPAWN_MAXMSGS + 1], msgs[WD_SPAWN_MAXMSGS];
  wd_spawnrec q, r;
  wd_buf b;
  size_t i;
  (void)state;
  for (i = 0; i <= WD_SPAWN_MAXMSGS; i++)
    many[i] = two[1];
  fill(&q);
  q.msgs = many;
  q.nmsgs = WD_SPAWN_MAXMSGS;
  wd_buf_init(&b, 0);
  wd_wire_put_spawn(&b, &q);
  assert_int_equal(decode(&b, b.len, &r, msgs), 0);
  assert_int_equal(r.nmsgs, WD_SPAWN_MAXMSGS);
  q.nmsgs = WD_SPAWN_MAXMSGS + 1;
  wd_buf_reset(&b);
  wd_wire_put_spawn(&b, &q);
  assert_int_equal(decode(&b, b.len, &r, msgs), WD_EBADFRAME);
  wd_buf_close(&b);
}

int main(void) {
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_wire_spawn_round_trips_in_proto_order),
    cmocka_unit_test(test_wire_spawn_truncated_or_longer_is_badframe),
    cmocka_unit_test(test_wire_spawn_bad_topics_are_badframe),
    cmocka_unit_test(test_wire_spawn_65_messages_is_badframe),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
