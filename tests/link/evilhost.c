/*
** tests/link/evilhost.c
** A fake host for the link tests (built as 'ward_evilhost', never
** installed). The broker execs it in place of one host (WARD_TEST_HOST_ID,
** WARD_TEST_HOST_EXE) as "ward host ID" with the link on fd 3. It takes the
** keys from the first, unsigned datagram, answers like a host would (it
** reads the broker's signed frames and sends heartbeats), and once the
** broker has asked it for its first process it sends one valid frame with a
** benign LOG record ("evil host ID up, mode M"), waits WARD_EVIL_DELAY_MS
** (default 300), then attacks the link as WARD_EVIL_MODE says, and waits
** to be killed. Modes:
**   none        no attack: answers the spawn and serves until STOP
**   flip        a valid frame with byte WARD_EVIL_BYTE xor WARD_EVIL_MASK
**               (default 0xff); "ward_evilhost layout" prints that frame's
**               length, header, payload and tag sizes
**   replay      a valid frame, then the same bytes again
**   drop        seals two frames, sends only the second (a gap)
**   reorder     seals two frames, sends the second, then the first
**   oldmac      a frame of the previous format: version 1, a 32-byte
**               keyed BLAKE2b tag (right key and number)
**   truncate    a valid frame less its last byte
**   short       the first 10 bytes of a valid frame (less than a header)
**   trailing    a valid frame and one stray byte in the same datagram
**   toobig      a frame whose length field is the maximum payload + 1
**   huge        a datagram larger than the largest frame
**   empty       a datagram of zero bytes
**   keys        a second unsigned WD_F_KEYS datagram
**   type        a signed frame of an unknown frame type (7)
**   rtype       a signed frame with an unknown record type (99)
**   rdir        a signed frame with a broker->host record (WD_R_INIT)
**   badrec      a record whose length runs past the payload
**   badbody     a LOG record whose string runs past the record
**   ceiling     a REQ whose caller's actor ('root') is outside the ceiling
**   scope       a REQ whose caller's scope ('lk:admin') is outside it
**   nulscope    a REQ whose scope holds a NUL byte
**   forge       a SEND whose sender PID is one of host lk:good's
**   forgespawn  a SPAWN whose parent PID is one of host lk:good's
**   forgereg    a REG of its own PID whose caller PID is lk:good's
**   topic       a SEND from its own PID to a reserved '@' topic
**   reply       a REPLY to a request the broker never sent
**   msgforge    a MSG (no round trip) whose sender PID is lk:good's
**   msgtopic    a MSG to a reserved '@' topic
**   msgself     a MSG to a PID of its own host (never carried)
**   credit      a CREDIT for a PID of lk:good's (not its own)
**   creditpeer  a CREDIT to host number 100000 (no such host)
**   died        a DIED for a PID of lk:good's, to every host
**   steal       answers the spawn; at the next MONITOR request to it
**               (req K) waits, then answers K and also request K+1, which
**               the broker sent to ANOTHER host (tests/link/app/main.lua)
**   exitflood   4 frames of 1000 EXIT events each from its own PID to
**               lk:good's first process (lk:main), which never monitored
**               it
**   exectheft   answers the spawn; at the next message to it waits
**               WARD_EVIL_DELAY_MS, then sends lk:main an exec result
**               ("forged") from its own PID, which lk:main never exec'd,
**               while lk:main waits in process.exec for a child elsewhere
**   fragorder   the first fragment of a 1 MiB LOG record, then the
**               third (the second is skipped)
**   fragbound   the first fragment of a record of 5 MiB, over what the
**               broker takes from this host (max_payload 1 MiB: 4 MiB)
**   fragnostart a second fragment of a stream never started
**   fragmix     the first fragment of one record, a batch, then the
**               first fragment of another while the first is open
**   exittwice   answers the spawn; answers lk:main's MONITOR of its
**               process and, in the same frame, sends lk:main that
**               process's EXIT twice (the second has no watch left)
**   msgflood    answers the spawn; waits for WARD_EVIL_SINKS (default 1)
**               processes elsewhere to send its process a message on
**               topic "hello" (their PIDs are the senders'), then sends
**               them, in turn, WARD_EVIL_COUNT messages (MSG) of
**               WARD_EVIL_SIZE payload bytes (a codec string) on topic
**               "flood", ignoring credit (wd_proto.h CREDIT)
**   msgbytes    msgflood with other defaults: 2 sinks, 640 messages of
**               32 KiB (20 MiB, 10 MiB to each sink)
**   msgsmall    msgflood with 4 sinks (40,960 messages of 1 byte)
**   msgown      msgflood with 40 sinks, each sent in turn 16 messages of
**               1 byte (its mailbox) and one that brings what it was
**               sent to 64 KiB of cost (WD_FLOW_DEST_OWN, its own share):
**               nothing past the own shares, but more than their window
**   msgdeny     answers the spawn; sends lk:main, in 10 bursts 300 ms
**               apart, WARD_EVIL_COUNT messages (MSG) on topic "denied",
**               which the policies refuse (a lie: the host would have
**               refused them itself), then one message "done" on topic
**               "flooded"; then serves, beating, until STOP
** Modes for a serving ward (tests/serve/test_evilhost.sh), which asks
** for the spawn through the API:
**   badstatus   answers the spawn; at the next STATUS request (GET
**               /metrics, /v1/processes or /v1/hosts) answers it with 3
**               bytes that are no status list
**   inboxevent  answers the spawn; at the next SEND request to it sends
**               an EXIT event from its own PID to the PID the message's
**               topic names (the test sends an inbox stream's PID), then
**               answers the SEND
**   inboxflood  answers the spawn; at the next SEND request to it answers
**               it, then sends WARD_EVIL_FLOOD_MB (default 128) MiB of
**               MSG records of 256 KiB each to the PID the message's
**               topic names (an inbox stream's), far past its credit for
**               host "api" (at most 4 MiB), says "inboxflood: sent N
**               MiB" (LOG) and serves on
** A gateway (run as "ward gateway N" in place of the front door's; it
** ignores the listening sockets):
**   gwcount     a GW_COUNT record within the bounds (404 seven times),
**               waits WARD_EVIL_DELAY_MS, then one out of them as
**               WARD_EVIL_BAD says: "count" (418 2^20 + 1 times),
**               "status" (600), "order" (404 after 418) or "empty" (none)
**   gwack       opens an inbox stream (GW_CALL with the bearer in
**               WARD_EVIL_BEARER), waits WARD_EVIL_DELAY_MS, then sends
**               a GW_ACK as WARD_EVIL_BAD says: "over" (cost 1 for the
**               stream, which was sent nothing), "zero" (cost 0) or
**               "empty" (no stream)
** Diagnostics go to stderr as "evilhost: ..."; at STOP it says which
** entries the broker shipped it ("evilhost: ID: entries: a,b"). Exit status: 0 after STOP
** or end of file, 3 on a bad frame from the broker, 4 when no spawn came,
** 5 when it was not killed within 10 s of the attack, 2 on misuse.
** Runs in: host (a test stand-in; unconfined).
*/
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>

#include "ward/wd_codec.h"
#include "ward/wd_confine.h"
#include "ward/wd_ipc.h"
#include "ward/wd_link.h"
#include "ward/wd_pid.h"
#include "ward/wd_proto.h"

#include "../../sandbox/gateway.h"

#define FD 3

static const char *host_id = "?";
static const char *mode = "none";
static wd_ipc ipc;
static uint8_t *rbuf;
static size_t rcap = WD_LINK_MAX_PAYLOAD + WD_IPC_OVERHEAD;
static uint64_t pid_base;      /* first counter of the PIDS block */
static uint32_t spawn_req;     /* the broker's first SPAWN request */
static int have_spawn;
static uint32_t send_req;      /* the broker's first SEND request */
static int have_send;
static uint32_t mon_req;       /* the broker's first MONITOR request */
static int have_mon;
static uint32_t status_req; /* the broker's first STATUS request */
static int have_status;
static char send_topic[WD_TOPIC_MAX + 1]; /* the topic of that SEND */
/* 'msgflood': the PIDs that said hello to our process. */
#define SINKS_MAX 64
static char sinks[SINKS_MAX][WD_PID_MAX];
static int nsinks;

static void fail(int code, const char *what) __attribute__((noreturn));
static void fail(int code, const char *what) {
  fprintf(stderr, "evilhost: %s: %s\n", host_id, what);
  _exit(code);
}

static uint64_t now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static void xsend(const uint8_t *p, size_t n) {
  ssize_t r;
  do r = send(FD, p, n, MSG_NOSIGNAL);
  while (r == -1 && errno == EINTR);
  if (r != (ssize_t)n) {
    char msg[128];
    snprintf(msg, sizeof msg, "send of %zu bytes: %s", n,
             r < 0 ? strerror(errno) : "short");
    fail(6, msg);
  }
}

/* Seal 'payload' as one frame of 'type' into 'out' (reset first). */
static void seal(uint8_t type, const wd_buf *payload, wd_buf *out) {
  wd_buf_reset(out);
  if (payload->err != 0 ||
      wd_ipc_seal(&ipc, type, payload->p, payload->len, out) < 0)
    fail(2, "cannot seal a frame");
}

static void rec_log(wd_buf *p, const char *text) {
  size_t st = wd_ipc_rec_begin(p, WD_R_LOG);
  wd_buf_put_cstr(p, text);
  wd_ipc_rec_end(p, st);
}

/* Seal and send the records in 'p' as one good frame. */
static void send_batch(wd_buf *p) {
  wd_buf f;
  wd_buf_init(&f, 0);
  seal(WD_F_BATCH, p, &f);
  xsend(f.p, f.len);
  wd_buf_close(&f);
}

static void send_beat(void) {
  wd_buf p;
  size_t st;
  wd_buf_init(&p, 0);
  st = wd_ipc_rec_begin(&p, WD_R_BEAT);
  wd_ipc_rec_end(&p, st);
  send_batch(&p);
  wd_buf_close(&p);
}

static void put_reply(wd_buf *p, uint32_t req, int32_t status,
                      const char *s) {
  size_t st = wd_ipc_rec_begin(p, WD_R_REPLY);
  wd_buf_put_u32(p, req);
  wd_buf_put_u32(p, (uint32_t)status);
  wd_buf_put_cstr(p, s);
  wd_ipc_rec_end(p, st);
}

static void own_pid(char *out, size_t n) {
  wd_pid_format(out, n, host_id, strlen(host_id), pid_base);
}

/* A REQ header as a host writes it: req, op, caller's actor and scope. */
static size_t put_req(wd_buf *p, uint32_t req, uint8_t op, const char *actor,
                      const char *scope, size_t scopelen) {
  size_t st = wd_ipc_rec_begin(p, WD_R_REQ);
  wd_buf_put_u32(p, req);
  wd_buf_put_u8(p, op);
  wd_buf_put_cstr(p, actor);
  wd_buf_put_str(p, scope, scopelen);
  wd_buf_put_cstr(p, "lk:evil"); /* the caller's entry */
  return st;
}

/* The ids of the entries the broker shipped (INIT, then ENTRY records),
** comma-separated: said on stderr at STOP, so the tests can check that a
** host gets no other tenant's code. */
static char shipped[4096];

/* Note one entry (broker.c 'put_entry'); 0 or -1 for a bad shape. */
static int note_entry(wd_cur *c) {
  const char *id, *s;
  size_t il, sl, used = strlen(shipped);
  uint32_t ni, j;
  uint8_t lib;
  if (wd_cur_str(c, &id, &il) || wd_cur_str(c, &s, &sl) ||
      wd_cur_str(c, &s, &sl) || wd_cur_u8(c, &lib) || wd_cur_u32(c, &ni) ||
      wd_cur_str(c, &s, &sl))
    return -1;
  for (j = 0; j < ni * 2; j++)
    if (wd_cur_str(c, &s, &sl)) return -1;
  if (used + il + 2 < sizeof shipped)
    snprintf(shipped + used, sizeof shipped - used, "%s%.*s",
             used ? "," : "", (int)il, id);
  return 0;
}

/* The limits before the entries in INIT (broker.c 'send_init'). */
#define INIT_LIMITS 9

static void note_init(wd_cur *c) {
  uint64_t skip;
  uint32_t n, i;
  for (i = 0; i < INIT_LIMITS; i++)
    if (wd_cur_u64(c, &skip)) fail(3, "bad INIT");
  if (wd_cur_u32(c, &n)) fail(3, "bad INIT");
  for (i = 0; i < n; i++)
    if (note_entry(c) < 0) fail(3, "bad entry in INIT");
}

/* Read what the broker sent, if anything within 'ms'. Returns 0 on a
** timeout, 1 when frames were read; exits at end of file or STOP. */
static int serve(int ms) {
  struct pollfd pfd;
  int got = 0;
  pfd.fd = FD;
  pfd.events = POLLIN;
  for (;;) {
    ssize_t n;
    uint8_t type, rtype;
    const uint8_t *payload;
    size_t plen;
    wd_cur c, body;
    int r;
    pfd.revents = 0;
    r = poll(&pfd, 1, got ? 0 : ms);
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) return got;
    do n = recv(FD, rbuf, rcap, MSG_DONTWAIT);
    while (n == -1 && errno == EINTR);
    if (n == -1 && (errno == EAGAIN || errno == EWOULDBLOCK)) return got;
    if (n <= 0) _exit(0); /* end of file: the broker let go */
    got = 1;
    if (wd_ipc_open(&ipc, rbuf, (size_t)n, &type, &payload, &plen) < 0 ||
        type != WD_F_BATCH)
      fail(3, "bad frame from the broker");
    wd_cur_init(&c, payload, plen);
    while ((r = wd_ipc_rec_next(&c, &rtype, &body)) == 1) {
      uint32_t req;
      uint8_t op;
      uint64_t base;
      switch (rtype) {
        case WD_R_PIDS:
          if (wd_cur_u64(&body, &base) == 0 && pid_base == 0)
            pid_base = base;
          break;
        case WD_R_REQ:
          if (wd_cur_u32(&body, &req) || wd_cur_u8(&body, &op)) break;
          if (op == WD_OP_SPAWN && !have_spawn) {
            spawn_req = req;
            have_spawn = 1;
          } else if (op == WD_OP_SEND && !have_send) {
            const char *x;
            size_t xl;
            send_req = req;
            have_send = 1;
            /* str from, str dest, str topic, bytes payload */
            if (wd_cur_str(&body, &x, &xl) == 0 &&
                wd_cur_str(&body, &x, &xl) == 0 &&
                wd_cur_str(&body, &x, &xl) == 0 && xl < sizeof send_topic) {
              memcpy(send_topic, x, xl);
              send_topic[xl] = '\0';
            }
          } else if (op == WD_OP_STATUS && !have_status) {
            status_req = req;
            have_status = 1;
          } else if (op == WD_OP_MONITOR && !have_mon) {
            mon_req = req;
            have_mon = 1;
          }
          break;
        case WD_R_MSG: { /* a message to our process (no answer wanted) */
          /* str from, str dest, str topic, bytes payload */
          const char *from, *x;
          size_t fl, xl;
          have_send = 1;
          if (wd_cur_str(&body, &from, &fl) == 0 &&
              wd_cur_str(&body, &x, &xl) == 0 &&
              wd_cur_str(&body, &x, &xl) == 0 && xl == 5 &&
              memcmp(x, "hello", 5) == 0 && fl < WD_PID_MAX &&
              nsinks < SINKS_MAX) {
            memcpy(sinks[nsinks], from, fl);
            sinks[nsinks++][fl] = '\0';
          }
          break;
        }
        case WD_R_INIT:
          note_init(&body);
          break;
        case WD_R_ENTRY:
          if (note_entry(&body) < 0) fail(3, "bad ENTRY");
          break;
        case WD_R_STOP:
          fprintf(stderr, "evilhost: %s: entries: %s\n", host_id, shipped);
          _exit(0);
        default:
          break;
      }
    }
    if (r < 0) fail(3, "malformed records from the broker");
  }
}

/* Serve, with a heartbeat every 100 ms, for 'ms' or until '*flag'. */
static void serve_for(uint64_t ms, const int *flag, int beats) {
  uint64_t end = now_ms() + ms, next = 0;
  while ((flag == NULL || !*flag) && now_ms() < end) {
    if (beats && now_ms() >= next) {
      send_beat();
      next = now_ms() + 100;
    }
    serve(20);
  }
}

/* Send one fragment frame [u32 stream | u32 offset | 'n' bytes]; at
** offset 0 the bytes start with the header of a LOG record of 'blen'
** body bytes. */
static void send_frag(uint32_t stream, uint32_t off, size_t n, uint32_t blen) {
  wd_buf p, f;
  wd_buf_init(&p, 0);
  wd_buf_init(&f, 0);
  wd_buf_put_u32(&p, stream);
  wd_buf_put_u32(&p, off);
  if (off == 0) {
    wd_buf_put_u8(&p, WD_R_LOG);
    wd_buf_put_u32(&p, blen);
    wd_buf_put_u32(&p, blen - 4); /* the LOG text's length */
    n -= 9;
  }
  if (wd_buf_reserve(&p, n) < 0) fail(2, "out of memory");
  memset(p.p + p.len, 'x', n);
  p.len += n;
  seal(WD_F_FRAG, &p, &f);
  xsend(f.p, f.len);
  wd_buf_close(&p);
  wd_buf_close(&f);
}

/* The fragment attacks (wd_proto.h WD_F_FRAG). */
static int frag_attack(void) {
  wd_buf p;
  if (strcmp(mode, "fragorder") == 0) {
    send_frag(1, 0, WD_LINK_FRAG, (1u << 20) - 5);
    send_frag(1, 2 * WD_LINK_FRAG, WD_LINK_FRAG, 0);
  } else if (strcmp(mode, "fragbound") == 0) {
    send_frag(1, 0, WD_LINK_FRAG, 5u << 20);
  } else if (strcmp(mode, "fragnostart") == 0) {
    send_frag(1, WD_LINK_FRAG, WD_LINK_FRAG, 0);
  } else if (strcmp(mode, "fragmix") == 0) {
    send_frag(1, 0, WD_LINK_FRAG, (1u << 20) - 5);
    wd_buf_init(&p, 0);
    rec_log(&p, "between");
    send_batch(&p);
    wd_buf_close(&p);
    send_frag(2, 0, WD_LINK_FRAG, (1u << 20) - 5);
  } else {
    return 0;
  }
  return 1;
}

/* The frame "flip" changes a byte of: one LOG record. */
static void flip_payload(wd_buf *p) {
  rec_log(p, "flip");
}

static void attack(void) {
  wd_buf p, f, g;
  char pid[WD_PID_MAX], other[WD_PID_MAX];
  size_t st;
  wd_buf_init(&p, 0);
  wd_buf_init(&f, 0);
  wd_buf_init(&g, 0);
  own_pid(pid, sizeof pid);
  wd_pid_format(other, sizeof other, "lk:good", 7, 1);
  if (frag_attack()) {
    /* done */
  } else if (strcmp(mode, "flip") == 0) {
    const char *e = getenv("WARD_EVIL_BYTE");
    const char *m = getenv("WARD_EVIL_MASK");
    unsigned long i = e ? strtoul(e, NULL, 0) : 0;
    unsigned long mask = m ? strtoul(m, NULL, 0) : 0xff;
    flip_payload(&p);
    seal(WD_F_BATCH, &p, &f);
    if (i >= f.len || mask == 0 || mask > 0xff)
      fail(2, "WARD_EVIL_BYTE past the frame or bad WARD_EVIL_MASK");
    f.p[i] ^= (uint8_t)mask;
    xsend(f.p, f.len);
  } else if (strcmp(mode, "replay") == 0) {
    rec_log(&p, "replayed");
    seal(WD_F_BATCH, &p, &f);
    xsend(f.p, f.len);
    xsend(f.p, f.len);
  } else if (strcmp(mode, "drop") == 0 || strcmp(mode, "reorder") == 0) {
    rec_log(&p, "first");
    seal(WD_F_BATCH, &p, &f);
    wd_buf_reset(&p);
    rec_log(&p, "second");
    seal(WD_F_BATCH, &p, &g);
    xsend(g.p, g.len);
    if (mode[0] == 'r') xsend(f.p, f.len);
  } else if (strcmp(mode, "oldmac") == 0) {
    /* A frame as a host of the previous format would send it: version 1
    ** and a 32-byte keyed BLAKE2b tag, with the right key and number. */
    uint8_t *h;
    rec_log(&p, "old format");
    seal(WD_F_BATCH, &p, &f);
    wd_buf_reset(&g);
    if (wd_buf_reserve(&g, WD_IPC_HDRLEN + p.len + 32) < 0)
      fail(2, "out of memory");
    h = g.p;
    memcpy(h, f.p, WD_IPC_HDRLEN);
    h[2] = 1;
    memcpy(h + WD_IPC_HDRLEN, p.p, p.len);
    crypto_generichash(h + WD_IPC_HDRLEN + p.len, 32, h, WD_IPC_HDRLEN + p.len,
                       ipc.key_tx, 32);
    xsend(h, WD_IPC_HDRLEN + p.len + 32);
  } else if (strcmp(mode, "truncate") == 0) {
    rec_log(&p, "truncated");
    seal(WD_F_BATCH, &p, &f);
    xsend(f.p, f.len - 1);
  } else if (strcmp(mode, "short") == 0) {
    rec_log(&p, "short");
    seal(WD_F_BATCH, &p, &f);
    xsend(f.p, 10);
  } else if (strcmp(mode, "trailing") == 0) {
    rec_log(&p, "trailing");
    seal(WD_F_BATCH, &p, &f);
    wd_buf_put_u8(&f, 0);
    xsend(f.p, f.len);
  } else if (strcmp(mode, "toobig") == 0) {
    rec_log(&p, "too big");
    seal(WD_F_BATCH, &p, &f);
    f.p[16] = (uint8_t)((WD_LINK_MAX_PAYLOAD + 1) & 0xff);
    f.p[17] = (uint8_t)((WD_LINK_MAX_PAYLOAD + 1) >> 8 & 0xff);
    f.p[18] = (uint8_t)((WD_LINK_MAX_PAYLOAD + 1) >> 16 & 0xff);
    f.p[19] = (uint8_t)((WD_LINK_MAX_PAYLOAD + 1) >> 24 & 0xff);
    xsend(f.p, f.len);
  } else if (strcmp(mode, "huge") == 0) {
    /* One byte more than the broker's receive buffer; a header claiming
    ** exactly that payload. The kernel must let it through. */
    size_t n = WD_LINK_MAX_PAYLOAD + WD_IPC_OVERHEAD + 1;
    int sz = (int)(n * 2);
    uint8_t *h = calloc(1, n);
    if (h == NULL) fail(2, "out of memory");
    (void)setsockopt(FD, SOL_SOCKET, SO_SNDBUFFORCE, &sz, sizeof sz);
    rec_log(&p, "huge");
    seal(WD_F_BATCH, &p, &f);
    memcpy(h, f.p, WD_IPC_HDRLEN);
    h[16] = (uint8_t)((WD_LINK_MAX_PAYLOAD + 1) & 0xff);
    h[17] = (uint8_t)((WD_LINK_MAX_PAYLOAD + 1) >> 8 & 0xff);
    h[18] = (uint8_t)((WD_LINK_MAX_PAYLOAD + 1) >> 16 & 0xff);
    h[19] = (uint8_t)((WD_LINK_MAX_PAYLOAD + 1) >> 24 & 0xff);
    xsend(h, n);
    free(h);
  } else if (strcmp(mode, "empty") == 0) {
    xsend((const uint8_t *)"", 0);
  } else if (strcmp(mode, "keys") == 0) {
    uint8_t k[65 + WD_SBX_PARAMS_LEN];
    memset(k, 0x42, sizeof k);
    k[0] = WD_F_KEYS;
    xsend(k, sizeof k);
  } else if (strcmp(mode, "type") == 0) {
    rec_log(&p, "unknown type");
    seal(7, &p, &f);
    xsend(f.p, f.len);
  } else if (strcmp(mode, "rtype") == 0 || strcmp(mode, "rdir") == 0) {
    st = wd_ipc_rec_begin(&p, mode[1] == 't' ? 99 : WD_R_INIT);
    wd_buf_put_cstr(&p, "x");
    wd_ipc_rec_end(&p, st);
    send_batch(&p);
  } else if (strcmp(mode, "badrec") == 0) {
    wd_buf_put_u8(&p, WD_R_LOG);
    wd_buf_put_u32(&p, 1000);
    wd_buf_put_cstr(&p, "x");
    send_batch(&p);
  } else if (strcmp(mode, "badbody") == 0) {
    st = wd_ipc_rec_begin(&p, WD_R_LOG);
    wd_buf_put_u32(&p, 1000); /* a string of 1000 bytes... */
    wd_buf_put(&p, "xyz", 3); /* ...that holds 3 */
    wd_ipc_rec_end(&p, st);
    send_batch(&p);
  } else if (strcmp(mode, "ceiling") == 0 || strcmp(mode, "scope") == 0 ||
             strcmp(mode, "nulscope") == 0 || strcmp(mode, "forge") == 0 ||
             strcmp(mode, "topic") == 0) {
    static const char nul[] = "lk:trusted\0x";
    const char *actor = strcmp(mode, "ceiling") == 0 ? "root" : "evil";
    const char *scope = strcmp(mode, "scope") == 0 ? "lk:admin" : "lk:trusted";
    size_t sl = strcmp(mode, "nulscope") == 0 ? sizeof nul - 1 : strlen(scope);
    st = put_req(&p, 1, WD_OP_SEND, actor,
                 strcmp(mode, "nulscope") == 0 ? nul : scope, sl);
    wd_buf_put_cstr(&p, strcmp(mode, "forge") == 0 ? other : pid);
    wd_buf_put_cstr(&p, other);
    wd_buf_put_cstr(&p, strcmp(mode, "topic") == 0 ? "@exit" : "ping");
    wd_buf_put(&p, "", 0);
    wd_ipc_rec_end(&p, st);
    send_batch(&p);
  } else if (strcmp(mode, "forgespawn") == 0) {
    st = put_req(&p, 1, WD_OP_SPAWN, "evil", "lk:trusted", 10);
    wd_buf_put_cstr(&p, other);         /* parent */
    wd_buf_put_cstr(&p, "lk:canary");   /* entry */
    wd_buf_put_cstr(&p, "lk:good");     /* host */
    wd_buf_put_u32(&p, 0);              /* flags */
    wd_buf_put_cstr(&p, "evil");        /* actor */
    wd_buf_put_cstr(&p, "lk:trusted");  /* scope */
    wd_buf_put_cstr(&p, "");            /* args */
    wd_buf_put_cstr(&p, "");            /* context */
    wd_buf_put_cstr(&p, "");            /* name */
    wd_buf_put_u32(&p, 0);              /* messages */
    wd_ipc_rec_end(&p, st);
    send_batch(&p);
  } else if (strcmp(mode, "forgereg") == 0) {
    st = put_req(&p, 1, WD_OP_REG, "evil", "lk:trusted", 10);
    wd_buf_put_cstr(&p, "evil_name"); /* name */
    wd_buf_put_cstr(&p, pid);         /* the PID to register: its own */
    wd_buf_put_cstr(&p, other);       /* caller: another host's */
    wd_ipc_rec_end(&p, st);
    send_batch(&p);
  } else if (strcmp(mode, "reply") == 0) {
    put_reply(&p, 0x7ffffff0u, 0, "");
    send_batch(&p);
  } else if (strcmp(mode, "msgforge") == 0 || strcmp(mode, "msgtopic") == 0 ||
             strcmp(mode, "msgself") == 0) {
    /* A message without a round trip (MSG): a forged sender, a reserved
    ** topic, a destination on the sending host itself. */
    st = wd_ipc_rec_begin(&p, WD_R_MSG);
    wd_buf_put_cstr(&p, strcmp(mode, "msgforge") == 0 ? other : pid);
    wd_buf_put_cstr(&p, "evil");
    wd_buf_put_cstr(&p, "lk:trusted");
    wd_buf_put_cstr(&p, "lk:victim");
    wd_buf_put_cstr(&p, strcmp(mode, "msgself") == 0 ? pid : other);
    wd_buf_put_cstr(&p, strcmp(mode, "msgtopic") == 0 ? "@exit" : "ping");
    wd_buf_put(&p, "", 0);
    wd_ipc_rec_end(&p, st);
    send_batch(&p);
  } else if (strcmp(mode, "credit") == 0 || strcmp(mode, "creditpeer") == 0) {
    /* Credit for another host's process, or to a host that is none. */
    st = wd_ipc_rec_begin(&p, WD_R_CREDIT);
    wd_buf_put_u32(&p, strcmp(mode, "creditpeer") == 0 ? 100000 : 0);
    wd_buf_put_cstr(&p, strcmp(mode, "credit") == 0 ? other : pid);
    wd_buf_put_u32(&p, 1000);
    wd_buf_put_u64(&p, 1u << 30);
    wd_buf_put_u8(&p, 0);
    wd_ipc_rec_end(&p, st);
    send_batch(&p);
  } else if (strcmp(mode, "died") == 0) {
    /* Another host's process said dead, to every host. */
    st = wd_ipc_rec_begin(&p, WD_R_DIED);
    wd_buf_put_cstr(&p, other);
    wd_buf_put_u64(&p, ~0ull);
    wd_ipc_rec_end(&p, st);
    send_batch(&p);
  } else {
    fail(2, "unknown WARD_EVIL_MODE");
  }
  wd_buf_close(&p);
  wd_buf_close(&f);
  wd_buf_close(&g);
}

/* A codec string (ward/wd_codec.h): short form up to 31 bytes. */
static void codec_str(wd_buf *p, const char *s) {
  size_t n = strlen(s);
  if (n <= 31) {
    wd_buf_put_u8(p, (uint8_t)(0x20 + n));
  } else {
    wd_buf_put_u8(p, 0x05);
    wd_buf_put_u8(p, (uint8_t)n); /* varint: n < 128 here */
  }
  wd_buf_put(p, s, n);
}

/* An event record of 'kind' from 'from' to 'to' whose payload is what a
** host sends: {kind = ..., from = ..., at = 0, result = {value = 'v'}}. */
static void put_event(wd_buf *p, uint8_t kind, const char *from,
                      const char *to, const char *v) {
  size_t st = wd_ipc_rec_begin(p, WD_R_EVENT);
  wd_buf_put_u8(p, kind);
  wd_buf_put_cstr(p, from);
  wd_buf_put_cstr(p, to);
  wd_buf_put_u64(p, 0);
  wd_buf_put_u8(p, 0x10); /* header, no back-references */
  wd_buf_put_u8(p, 1);    /* one value: a table of 4 pairs */
  wd_buf_put_u8(p, 0x06);
  wd_buf_put_u8(p, 0);
  wd_buf_put_u8(p, 4);
  codec_str(p, "kind");
  codec_str(p, kind == WD_EV_LINK_DOWN ? "pid.link.down" : "pid.exit");
  codec_str(p, "from");
  codec_str(p, from);
  codec_str(p, "at");
  wd_buf_put_u8(p, 0x80);
  codec_str(p, "result");
  wd_buf_put_u8(p, 0x06);
  wd_buf_put_u8(p, 0);
  wd_buf_put_u8(p, 1);
  codec_str(p, "value");
  codec_str(p, v);
  wd_ipc_rec_end(p, st);
}

/* 'exitflood': EXIT events to lk:main, which watches nothing here. */
static void exitflood(void) {
  wd_buf p;
  char pid[WD_PID_MAX], other[WD_PID_MAX];
  int i, j;
  own_pid(pid, sizeof pid);
  wd_pid_format(other, sizeof other, "lk:good", 7, 1);
  wd_buf_init(&p, 0);
  for (i = 0; i < 4; i++) {
    wd_buf_reset(&p);
    for (j = 0; j < 1000; j++) put_event(&p, WD_EV_EXIT, pid, other, "flood");
    send_batch(&p);
  }
  wd_buf_close(&p);
}

/* 'exectheft' and 'exittwice': answer the spawn, wait for the request
** that says lk:main is ready, then send it what it never asked for. */
static void answer_then_forge(uint64_t delay) {
  wd_buf p;
  char pid[WD_PID_MAX], other[WD_PID_MAX];
  int twice = strcmp(mode, "exittwice") == 0;
  wd_buf_init(&p, 0);
  own_pid(pid, sizeof pid);
  wd_pid_format(other, sizeof other, "lk:good", 7, 1);
  put_reply(&p, spawn_req, 0, pid);
  send_batch(&p);
  serve_for(10000, twice ? &have_mon : &have_send, 1);
  if (!(twice ? have_mon : have_send)) fail(4, "no trigger request came");
  wd_buf_reset(&p);
  if (twice) {
    /* A real monitor, a real EXIT, and the same EXIT again. */
    put_reply(&p, mon_req, 0, pid);
    put_event(&p, WD_EV_EXIT, pid, other, "first");
    put_event(&p, WD_EV_EXIT, pid, other, "second");
  } else {
    serve_for(delay, NULL, 1);
    put_event(&p, WD_EV_EXEC, pid, other, "forged");
    if (send_req != 0) put_reply(&p, send_req, 0, "");
  }
  send_batch(&p);
  wd_buf_close(&p);
}

/* 'inboxflood': MSG records to the inbox 'send_topic' names, ignoring
** the credit a host holds for the front door (runtime/flow.c). */
static void inbox_flood(void) {
  const char *e = getenv("WARD_EVIL_FLOOD_MB");
  unsigned long mb = e ? strtoul(e, NULL, 10) : 128, i;
  static uint8_t junk[256u << 10];
  char pid[WD_PID_MAX], line[100];
  wd_buf p;
  size_t st;
  own_pid(pid, sizeof pid);
  memset(junk, 'x', sizeof junk);
  wd_buf_init(&p, 0);
  for (i = 0; i < mb * 4; i++) {
    wd_buf_reset(&p);
    st = wd_ipc_rec_begin(&p, WD_R_MSG);
    wd_buf_put_cstr(&p, pid);
    wd_buf_put_cstr(&p, "admin");     /* actor */
    wd_buf_put_cstr(&p, "ev:admin");  /* scope */
    wd_buf_put_cstr(&p, "ev:victim"); /* entry */
    wd_buf_put_cstr(&p, send_topic);  /* dest: the inbox */
    wd_buf_put_cstr(&p, "t");
    wd_buf_put(&p, junk, sizeof junk);
    wd_ipc_rec_end(&p, st);
    send_batch(&p);
    if (i % 16 == 0) {
      send_beat();
      serve(0);
    }
  }
  wd_buf_reset(&p);
  snprintf(line, sizeof line, "inboxflood: sent %lu MiB", mb);
  rec_log(&p, line);
  send_batch(&p);
  wd_buf_close(&p);
  for (;;) serve_for(1000, NULL, 1);
}

/* 'badstatus', 'inboxevent', 'inboxflood' (a serving ward): answer the spawn, wait
** for the broker's STATUS or SEND request (the API calls that ask for it
** may come much later: wait long), then lie. */
static void serve_lie(void) {
  wd_buf p;
  char pid[WD_PID_MAX];
  int status = strcmp(mode, "badstatus") == 0;
  int *flag = status ? &have_status : &have_send;
  wd_buf_init(&p, 0);
  own_pid(pid, sizeof pid);
  put_reply(&p, spawn_req, 0, pid);
  send_batch(&p);
  serve_for(120000, flag, 1);
  if (!*flag) fail(4, status ? "no STATUS request came" : "no SEND came");
  wd_buf_reset(&p);
  if (status) {
    put_reply(&p, status_req, 0, "bad");
  } else {
    if (strcmp(mode, "inboxevent") == 0)
      put_event(&p, WD_EV_EXIT, pid, send_topic, "forged");
    put_reply(&p, send_req, 0, "");
  }
  send_batch(&p);
  wd_buf_close(&p);
  if (strcmp(mode, "inboxflood") == 0) inbox_flood();
}

/* 'steal': a reply to our own request K (a MONITOR), and one to K+1, a
** request the broker carries to another host. */
static void steal(uint64_t delay) {
  wd_buf p;
  char pid[WD_PID_MAX];
  wd_buf_init(&p, 0);
  own_pid(pid, sizeof pid);
  put_reply(&p, spawn_req, 0, pid);
  send_batch(&p);
  serve_for(10000, &have_mon, 1);
  if (!have_mon) fail(4, "steal: no MONITOR request came");
  serve_for(delay, NULL, 1);
  wd_buf_reset(&p);
  put_reply(&p, mon_req, 0, pid);
  put_reply(&p, mon_req + 1, 0, "");
  send_batch(&p);
  wd_buf_close(&p);
}

/* A MSG record from our process to 'dest' on 'topic' whose payload is a
** codec string of 'size' bytes (at least 1 byte of payload in all). */
static void put_msg(wd_buf *p, const char *from, const char *dest,
                    const char *topic, size_t size) {
  uint8_t t[1 + WD_CODEC_VARINT_MAX];
  size_t st = wd_ipc_rec_begin(p, WD_R_MSG);
  wd_buf_put_cstr(p, from);
  wd_buf_put_cstr(p, "evil");       /* the caller's actor */
  wd_buf_put_cstr(p, "lk:trusted"); /* ... scope */
  wd_buf_put_cstr(p, "lk:victim");  /* ... entry */
  wd_buf_put_cstr(p, dest);
  wd_buf_put_cstr(p, topic);
  wd_buf_put_u8(p, WD_CODEC_VERSION); /* one value: a string */
  wd_buf_put_u8(p, 1);
  t[0] = WD_CODEC_T_STR;
  wd_buf_put(p, t, 1 + wd_codec_varint(t + 1, size));
  if (wd_buf_reserve(p, size) < 0) fail(2, "out of memory");
  memset(p->p + p->len, 'f', size);
  p->len += size;
  wd_ipc_rec_end(p, st);
}

static unsigned long env_num(const char *name, unsigned long def) {
  const char *v = getenv(name);
  return v != NULL && *v != '\0' ? strtoul(v, NULL, 0) : def;
}

/* Send the records in 'p' (if any) as one frame; keep reading what the
** broker sends and beating every 100 ms. */
static void flush_beating(wd_buf *p, uint64_t *next_beat) {
  if (p->len > 0) send_batch(p);
  wd_buf_reset(p);
  serve(0);
  if (now_ms() >= *next_beat) {
    send_beat();
    *next_beat = now_ms() + 100;
  }
}

/* 'msgflood': answer the spawn, learn the sinks' PIDs (their hello),
** then send them messages in turn as if credit did not exist. */
static void msgflood(void) {
  int bytes = strcmp(mode, "msgbytes") == 0;
  int small = strcmp(mode, "msgsmall") == 0;
  int own = strcmp(mode, "msgown") == 0;
  unsigned long want =
      env_num("WARD_EVIL_SINKS", bytes ? 2 : small ? 4 : own ? 40 : 1);
  unsigned long count = env_num("WARD_EVIL_COUNT", bytes ? 640 : 40960);
  unsigned long size = env_num("WARD_EVIL_SIZE", bytes ? 32768 : 1);
  uint64_t next_beat = 0, end;
  char pid[WD_PID_MAX];
  unsigned long i;
  wd_buf p;
  if (want < 1 || want > SINKS_MAX) fail(2, "WARD_EVIL_SINKS: 1..64");
  wd_buf_init(&p, 0);
  own_pid(pid, sizeof pid);
  put_reply(&p, spawn_req, 0, pid);
  send_batch(&p);
  wd_buf_reset(&p);
  end = now_ms() + 20000;
  while (nsinks < (int)want && now_ms() < end) serve_for(100, NULL, 1);
  if (nsinks < (int)want) fail(4, "msgflood: the sinks never said hello");
  fprintf(stderr, "evilhost: %s: flooding %d sinks with %lu messages of "
          "%lu bytes\n", host_id, nsinks, count, size);
  for (i = 0; own && i < (unsigned long)nsinks; i++) {
    /* 16 of 133 bytes of cost (a 5-byte payload), then 63,408 (63,280). */
    int k;
    for (k = 0; k < 16; k++) put_msg(&p, pid, sinks[i], "flood", 1);
    put_msg(&p, pid, sinks[i], "flood",
            WD_FLOW_DEST_OWN - 16 * WD_FLOW_COST(5) - WD_FLOW_MSG_COST - 6);
    if (p.len >= (200u << 10)) flush_beating(&p, &next_beat);
  }
  for (i = 0; !own && i < count; i++) {
    put_msg(&p, pid, sinks[i % (unsigned long)nsinks], "flood", size);
    if (p.len >= (200u << 10)) flush_beating(&p, &next_beat);
  }
  flush_beating(&p, &next_beat);
  fprintf(stderr, "evilhost: %s: flood sent\n", host_id);
  wd_buf_close(&p);
}

/* 'msgdeny': messages the policies refuse, in bursts, then "done". */
static void msgdeny(void) {
  unsigned long count = env_num("WARD_EVIL_COUNT", 5000), i;
  uint64_t next_beat = 0;
  char pid[WD_PID_MAX], other[WD_PID_MAX];
  int burst;
  wd_buf p;
  wd_buf_init(&p, 0);
  own_pid(pid, sizeof pid);
  wd_pid_format(other, sizeof other, "lk:good", 7, 1);
  put_reply(&p, spawn_req, 0, pid);
  send_batch(&p);
  wd_buf_reset(&p);
  for (burst = 0, i = 0; burst < 10; burst++) {
    unsigned long upto = count * (unsigned long)(burst + 1) / 10;
    for (; i < upto; i++) {
      put_msg(&p, pid, other, "denied", 1);
      if (p.len >= (200u << 10)) flush_beating(&p, &next_beat);
    }
    flush_beating(&p, &next_beat);
    serve_for(300, NULL, 1);
  }
  put_msg(&p, pid, other, "flooded", 1);
  send_batch(&p);
  wd_buf_close(&p);
}

/* One GW_COUNT record of 'n' (status, count) pairs, written as they are. */
static void put_count(wd_buf *p, uint32_t n, const uint32_t *pairs) {
  size_t st = wd_ipc_rec_begin(p, WD_R_GW_COUNT);
  uint32_t i;
  wd_buf_put_u32(p, n);
  for (i = 0; i < 2 * n; i++)
    wd_buf_put_u32(p, pairs[i]);
  wd_ipc_rec_end(p, st);
}

/* 'gwcount': a gateway's count within the bounds, then one out of them. */
static void gw_lie(uint64_t delay) {
  const char *bad = getenv("WARD_EVIL_BAD") ? getenv("WARD_EVIL_BAD") : "";
  static const uint32_t good[] = { 404, 7 };
  static const uint32_t big[] = { 418, WD_GW_COUNT_MAX + 1 };
  static const uint32_t high[] = { 600, 1 };
  static const uint32_t order[] = { 418, 1, 404, 1 };
  wd_buf p;
  wd_buf_init(&p, 0);
  put_count(&p, 1, good);
  send_batch(&p);
  serve_for(delay, NULL, 1);
  wd_buf_reset(&p);
  if (strcmp(bad, "count") == 0)
    put_count(&p, 1, big);
  else if (strcmp(bad, "status") == 0)
    put_count(&p, 1, high);
  else if (strcmp(bad, "order") == 0)
    put_count(&p, 2, order);
  else if (strcmp(bad, "empty") == 0)
    put_count(&p, 0, NULL);
  else
    fail(2, "unknown WARD_EVIL_BAD");
  send_batch(&p);
  wd_buf_close(&p);
}

/* 'gwack': an acknowledgement of what the broker never sent (GW_ACK). */
static void gw_ack_lie(uint64_t delay) {
  const char *bad = getenv("WARD_EVIL_BAD") ? getenv("WARD_EVIL_BAD") : "";
  const char *bearer = getenv("WARD_EVIL_BEARER") ? getenv("WARD_EVIL_BEARER")
                                                  : "";
  wd_gwcall q;
  wd_buf p, v;
  size_t st;
  wd_buf_init(&v, 0);
  wd_codec_put_header(&v, 0); /* no values */
  memset(&q, 0, sizeof q);
  q.call = 1;
  q.kind = WD_GW_INBOX;
  q.bearer = bearer;
  q.bearerlen = strlen(bearer);
  q.target = q.host = q.topic = "";
  q.value = v.p;
  q.valuelen = v.len;
  wd_buf_init(&p, 0);
  st = wd_ipc_rec_begin(&p, WD_R_GW_CALL);
  wd__gw_put_call(&p, &q);
  wd_ipc_rec_end(&p, st);
  send_batch(&p);
  serve_for(delay, NULL, 1);
  wd_buf_reset(&p);
  st = wd_ipc_rec_begin(&p, WD_R_GW_ACK);
  if (strcmp(bad, "empty") == 0) {
    wd_buf_put_u32(&p, 0);
  } else if (strcmp(bad, "over") == 0 || strcmp(bad, "zero") == 0) {
    wd_buf_put_u32(&p, 1);
    wd_buf_put_u32(&p, 1);
    wd_buf_put_u64(&p, strcmp(bad, "over") == 0 ? 1 : 0);
  } else {
    fail(2, "unknown WARD_EVIL_BAD");
  }
  wd_ipc_rec_end(&p, st);
  send_batch(&p);
  wd_buf_close(&p);
  wd_buf_close(&v);
}

/* "layout": the flip frame's sizes, for the test loop. */
static int layout(void) {
  uint8_t k1[32], k2[32];
  wd_buf p, f;
  memset(k1, 1, sizeof k1);
  memset(k2, 2, sizeof k2);
  if (wd_ipc_init(&ipc, k1, k2, WD_LINK_MAX_PAYLOAD) < 0) return 1;
  wd_buf_init(&p, 0);
  wd_buf_init(&f, 0);
  flip_payload(&p);
  seal(WD_F_BATCH, &p, &f);
  printf("%zu %d %zu %d\n", f.len, WD_IPC_HDRLEN, p.len, WD_IPC_TAGLEN);
  wd_buf_close(&p);
  wd_buf_close(&f);
  wd_ipc_close(&ipc);
  return 0;
}

int main(int argc, char **argv) {
  uint8_t keys[65 + WD_SBX_PARAMS_LEN];
  const char *d = getenv("WARD_EVIL_DELAY_MS");
  uint64_t delay = d ? strtoull(d, NULL, 10) : 300;
  char line[200];
  ssize_t n;
  wd_buf p;
  if (argc == 2 && strcmp(argv[1], "layout") == 0) return layout();
  if (argc != 3 ||
      (strcmp(argv[1], "host") != 0 && strcmp(argv[1], "gateway") != 0)) {
    fprintf(stderr, "usage: ward_evilhost host ID | ward_evilhost gateway N "
                    "| ward_evilhost layout\n");
    return 2;
  }
  host_id = strcmp(argv[1], "host") == 0 ? argv[2] : "gateway";
  if (getenv("WARD_EVIL_MODE") != NULL) mode = getenv("WARD_EVIL_MODE");
  if (sodium_init() < 0) fail(2, "sodium_init");
  if ((rbuf = malloc(rcap)) == NULL) fail(2, "out of memory");
  /* The unsigned first datagram: [WD_F_KEYS][to host][to broker][params]. */
  do n = recv(FD, keys, sizeof keys, 0);
  while (n == -1 && errno == EINTR);
  if (n != (ssize_t)sizeof keys || keys[0] != WD_F_KEYS)
    fail(2, "no keys on the link");
  if (wd_ipc_init(&ipc, keys + 33, keys + 1, WD_LINK_MAX_PAYLOAD) < 0)
    fail(2, "wd_ipc_init");
  sodium_memzero(keys, sizeof keys);
  if (strcmp(mode, "gwcount") == 0 || strcmp(mode, "gwack") == 0) {
    if (strcmp(mode, "gwcount") == 0) gw_lie(delay);
    else gw_ack_lie(delay);
    serve_for(10000, NULL, 0);
    fail(5, "still alive 10 s after the attack");
  }
  /* Behave until the broker asks for a process, then say hello. */
  serve_for(5000, &have_spawn, 1);
  if (!have_spawn) fail(4, "no SPAWN request came");
  wd_buf_init(&p, 0);
  snprintf(line, sizeof line, "evil host %s up, mode %s", host_id, mode);
  rec_log(&p, line);
  send_batch(&p);
  wd_buf_close(&p);
  if (strcmp(mode, "none") == 0) {
    char pid[WD_PID_MAX];
    wd_buf_init(&p, 0);
    own_pid(pid, sizeof pid);
    put_reply(&p, spawn_req, 0, pid);
    send_batch(&p);
    wd_buf_close(&p);
    for (;;) serve_for(1000, NULL, 1);
  }
  if (strcmp(mode, "steal") == 0) {
    steal(delay);
  } else if (strcmp(mode, "exectheft") == 0 ||
             strcmp(mode, "exittwice") == 0) {
    answer_then_forge(delay);
  } else if (strcmp(mode, "exitflood") == 0) {
    serve_for(delay, NULL, 1);
    exitflood();
  } else if (strcmp(mode, "badstatus") == 0 ||
             strcmp(mode, "inboxevent") == 0 ||
             strcmp(mode, "inboxflood") == 0) {
    serve_lie();
  } else if (strcmp(mode, "msgflood") == 0 ||
             strcmp(mode, "msgbytes") == 0 || strcmp(mode, "msgown") == 0 ||
             strcmp(mode, "msgsmall") == 0) {
    msgflood();
  } else if (strcmp(mode, "msgdeny") == 0) {
    /* Not killed for these: it serves until STOP. */
    msgdeny();
    for (;;) serve_for(1000, NULL, 1);
  } else {
    serve_for(delay, NULL, 1);
    attack();
  }
  /* The broker should kill us now; never send another frame. */
  serve_for(10000, NULL, 0);
  fail(5, "still alive 10 s after the attack");
}
