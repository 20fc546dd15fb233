#!/usr/bin/env bash
# Inbox streams (GET /v1/inbox, issue 13): an outside client as a receiver,
# through a real socket with curl. One line per case, then the counts.
# Usage: test_inbox.sh WARD
set -u
WARD=${1:?usage: test_inbox.sh WARD}
DIR=$(cd "$(dirname "$0")" && pwd)
. "$(dirname "$0")/lib.sh"
STREAMS=
cleanup_extra() {
  for p in $STREAMS; do kill "$p" 2>/dev/null; done
}
A='Authorization: Bearer alice:alice-secret-0123456789'
B='Authorization: Bearer bob:bob-secret-0123456789abc'
SOCK=$tmp/ward.sock
"$WARD" serve -v --audit all --audit-log "$tmp/audit.log" --listen "unix:$SOCK" \
  --tokens "$DIR/inbox_tokens.yaml" "$DIR/inbox_app" >"$tmp/out" 2>"$tmp/err" &
SERVER=$!
await_healthz "$SOCK"
c() { curl -s -g -m 20 --unix-socket "$SOCK" "$@"; }
# open NAME-QUERY FILE: an inbox stream in the background; sets PIDOF.
open() {
  curl -s -g -N -m 60 --unix-socket "$SOCK" -H "$A" "http://x/v1/inbox$1" >"$2" &
  STREAMS="$STREAMS $!"; LAST=$!
  for i in $(seq 1 1200); do grep -q '^data: {"pid"' "$2" && break; sleep 0.05; done
  PIDOF=$(grep -o '{api|0x[0-9a-f]*}' "$2" | head -1)
}
exec_on() { # exec_on HOST DEST N TAG
  c -H "$A" -d "{\"args\":[\"$2\",$3,\"$4\"],\"host\":\"$1\"}" http://x/v1/exec/ib:sendn
}

# 1. 401 and 403.
code=$(c -o /dev/null -w '%{http_code}' http://x/v1/inbox)
[ "$code" = 401 ] && ok "no token: 401" || bad "no token: $code"
code=$(c -o "$tmp/b" -w '%{http_code}' -H "$B" http://x/v1/inbox)
[ "$code" = 403 ] && grep -q 'process.host' "$tmp/b" && ok "token without process.host on api: 403" \
  || bad "bob: $code $(cat "$tmp/b")"

# 2. ready event, then messages from scripts on two hosts, by PID and by name.
open '?name=box' "$tmp/s1"; P1=$PIDOF
[ -n "$P1" ] && grep -q '^event: ready' "$tmp/s1" && ok "ready event with pid $P1" || bad "no ready: $(cat "$tmp/s1")"
r1=$(exec_on ib:a "$P1" 200 a); r2=$(exec_on ib:b box 200 b)
[ "$r1" = '{"result":200}' ] && [ "$r2" = '{"result":200}' ] && ok "scripts on ib:a (by PID) and ib:b (by name) sent" \
  || bad "exec: $r1 $r2"
sleep 0.5
na=$(grep -c '"tag":"a"' "$tmp/s1"); nb=$(grep -c '"tag":"b"' "$tmp/s1")
[ "$na" = 200 ] && [ "$nb" = 200 ] && ok "inbox received 200 + 200 messages" || bad "received a=$na b=$nb"
grep -q '"from":"{ib:a|' "$tmp/s1" && grep -q '"from":"{ib:b|' "$tmp/s1" && ok "from names the sender on each host" || bad "from"
ord() { grep "\"tag\":\"$1\"" "$tmp/s1" | grep -o '"i":[0-9]*' | cut -d: -f2 | tr '\n' ' '; }
[ "$(ord a)" = "$(seq 1 200 | tr '\n' ' ')" ] && [ "$(ord b)" = "$(seq 1 200 | tr '\n' ' ')" ] \
  && ok "order per sender kept" || bad "order"

# 3. The name is taken while the stream lives.
code=$(c -o /dev/null -w '%{http_code}' -H "$A" 'http://x/v1/inbox?name=box')
[ "$code" = 409 ] && ok "a second inbox with the name: 409" || bad "dup name: $code"
r=$(c -H "$A" -d '{"args":["box"]}' http://x/v1/exec/ib:reg)
echo "$r" | grep -q 'already' && ok "a script cannot register the name" || bad "reg while held: $r"

# 4. A monitor gets EXIT when the client leaves; the name is free after.
c -H "$A" -d "{\"args\":[\"$P1\"]}" http://x/v1/spawn/ib:watch >/dev/null
for i in $(seq 1 1200); do grep -q "watch: monitoring" "$tmp/out" && break; sleep 0.05; done
kill "$LAST"
for i in $(seq 1 1200); do grep -q "watch: exit $P1" "$tmp/out" && break; sleep 0.05; done
grep -q "watch: exit $P1 nil" "$tmp/out" && ok "monitor on ib:a got EXIT (normal) when the client left" \
  || bad "no EXIT: $(grep watch "$tmp/out")"
r=$(c -H "$A" -d '{"args":["box"]}' http://x/v1/exec/ib:reg)
[ "$r" = '{"result":true}' ] && ok "the name is free again" || bad "name after: $r"
r=$(exec_on ib:a "$P1" 1 late)
echo "$r" | grep -q NotFound && ok "a send to the ended inbox: NotFound" || bad "send after end: $r"

# 5. A slow reader is bounded: a client that never reads is dropped.
python3 - "$SOCK" >"$tmp/slow" 2>&1 <<'PY' &
import socket, sys, time
s = socket.socket(socket.AF_UNIX); s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
s.connect(sys.argv[1])
s.sendall(b"GET /v1/inbox?name=slow HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer alice:alice-secret-0123456789\r\n\r\n")
print(s.recv(300).decode(errors="replace"), flush=True)
time.sleep(25)
PY
STREAMS="$STREAMS $!"
for i in $(seq 1 1200); do grep -q '{api|' "$tmp/slow" && break; sleep 0.05; done
P2=$(grep -o '{api|0x[0-9a-f]*}' "$tmp/slow" | head -1)
c -H "$A" -d "{\"args\":[\"$P2\"]}" http://x/v1/spawn/ib:watch >/dev/null
sleep 0.5
for k in 1 2 3 4 5 6; do exec_on ib:b slow 20000 s >/dev/null; done
for i in $(seq 1 1200); do grep -q "watch: exit $P2" "$tmp/out" && break; sleep 0.1; done
grep -q "watch: exit $P2 .*behind" "$tmp/out" && ok "a slow reader is dropped (monitor sees LimitExceeded)" \
  || bad "slow reader: $(grep "$P2" "$tmp/out" "$tmp/err" | tail -3)"

# 6. A client that reads, however slowly, loses nothing: the broker sends
# it what it has read (the window) and its senders on two hosts wait.
# (Before, the gateway dropped a client 1 MiB behind: every send had been
# accepted, most messages were lost.)
python3 - "$SOCK" >"$tmp/slowok" 2>&1 <<'PY' &
import socket, sys, time, re
s = socket.socket(socket.AF_UNIX); s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 16384)
s.connect(sys.argv[1])
s.sendall(b"GET /v1/inbox?name=slowok HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer alice:alice-secret-0123456789\r\n\r\n")
buf, got, last, bad, end = b"", 0, {}, 0, time.time() + 120
while got < 40000 and time.time() < end:
    d = s.recv(16384)
    if not d: break
    buf += d
    *lines, buf = buf.split(b"\n")
    for l in lines:
        if l.startswith(b"data: {\"pid\""): print("ready", l.decode(), flush=True)
        if l.startswith(b"event: error") or l.startswith(b"event: exit"): print("ended", l.decode(), flush=True)
        m = re.search(rb'"i":(\d+),"tag":"([^"]+)"|"tag":"([^"]+)","i":(\d+)', l)
        if m:
            i, t = (int(m.group(1)), m.group(2)) if m.group(1) else (int(m.group(4)), m.group(3))
            if i != last.get(t, 0) + 1: bad += 1
            last[t] = i; got += 1
    time.sleep(0.02)
print("got", got, "out-of-order", bad, flush=True)
PY
SLOW=$!; STREAMS="$STREAMS $SLOW"
for i in $(seq 1 1200); do grep -q '^ready' "$tmp/slowok" && break; sleep 0.05; done
for h in ib:a ib:b; do
  c -m 120 -H "$A" -d "{\"args\":[\"slowok\",20000,\"$h\"],\"host\":\"$h\",\"timeout\":\"110s\"}" \
    http://x/v1/exec/ib:sendn >"$tmp/slowok.$h" &
done
wait %- 2>/dev/null; wait "$SLOW" 2>/dev/null
for h in ib:a ib:b; do for i in $(seq 1 1200); do [ -s "$tmp/slowok.$h" ] && break; sleep 0.1; done; done
if [ "$(cat "$tmp/slowok.ib:a")" = '{"result":20000}' ] && [ "$(cat "$tmp/slowok.ib:b")" = '{"result":20000}' ]; then
  ok "a slow client's senders on two hosts wait: every send succeeds"
else bad "slow client's senders: $(cat "$tmp/slowok.ib:a") $(cat "$tmp/slowok.ib:b")"; fi
grep -qx 'got 40000 out-of-order 0' "$tmp/slowok" && ! grep -q '^ended' "$tmp/slowok" \
  && ok "a slow client that reads gets all 40000 messages, in order per sender, and is not dropped" \
  || bad "slow client: $(grep -v '^ready' "$tmp/slowok" | head -c 300)"

# 7. The stall check drops a client that takes nothing for 5 s; one that
# reads steadily (40 KB/s) while one big message (500 KB) is written to
# it takes something all along and is not dropped: it gets the message
# and the next one.
python3 - "$SOCK" >"$tmp/steady" 2>&1 <<'PY' &
import socket, sys, time
s = socket.socket(socket.AF_UNIX); s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
s.connect(sys.argv[1])
s.sendall(b"GET /v1/inbox?name=steady HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer alice:alice-secret-0123456789\r\n\r\n")
buf, got, end, t0, ready = b"", 0, time.time() + 40, time.time(), False
while time.time() < end:
    d = s.recv(2048)
    if not d: break
    got += len(d); buf = (buf + d)[-400:]
    if not ready and b'"pid"' in buf: print("ready", flush=True); ready = True
    if b"event: error" in buf or b"event: exit" in buf:
        print("ended after %.1f s, %d bytes read: %s" % (time.time() - t0, got, buf[buf.find(b"event: e"):].decode(errors="replace")), flush=True); break
    if b'"tag":"after"' in buf: print("got after", flush=True); break
    time.sleep(0.05)
print("read", got, flush=True)
PY
STEADY=$!; STREAMS="$STREAMS $STEADY"
for i in $(seq 1 1200); do grep -q '^ready' "$tmp/steady" && break; sleep 0.05; done
r1=$(c -m 60 -H "$A" -d '{"args":["steady",500000],"host":"ib:a"}' http://x/v1/exec/ib:big)
r2=$(c -m 60 -H "$A" -d '{"args":["steady",1,"after"],"host":"ib:a","timeout":"50s"}' http://x/v1/exec/ib:sendn)
wait "$STEADY" 2>/dev/null
grep -q '^got after' "$tmp/steady" && ! grep -q '^ended' "$tmp/steady" \
  && ok "a client reading 40 KB/s through a 500 KB message is not dropped: it gets the next one" \
  || bad "steady reader dropped: $r1 $r2 $(grep -v '^ready' "$tmp/steady" | head -c 400)"

# 9. One inbox's slow client holds up only the senders to it: a host
# whose process has used up its credit for that inbox (its client reads
# nothing) still has credit for another inbox. Sends from a sort
# comparator cannot wait, so each fails at once when there is no credit:
# no timing. (All inboxes were one peer, host "api", for a host's credit:
# its window there was shared by every outside client.) A server of its
# own without --audit all: a decision to be logged cannot wait there.
SOCK2=$tmp/ward2.sock
"$WARD" serve --listen "unix:$SOCK2" --tokens "$DIR/inbox_tokens.yaml" \
  "$DIR/inbox_app" >"$tmp/out2" 2>"$tmp/err2" &
SERVER2=$!
await_healthz "$SOCK2"
python3 - "$SOCK2" >"$tmp/hol" 2>&1 <<'PY' &
import socket, sys, time
s = socket.socket(socket.AF_UNIX); s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
s.connect(sys.argv[1])
s.sendall(b"GET /v1/inbox HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer alice:alice-secret-0123456789\r\n\r\n")
print("ready", s.recv(300).decode(errors="replace").replace("\n", " "), flush=True)
time.sleep(30)
PY
HOL=$!; STREAMS="$STREAMS $HOL"
curl -s -g -N -m 60 --unix-socket "$SOCK2" -H "$A" "http://x/v1/inbox" >"$tmp/quick" &
STREAMS="$STREAMS $!"
for i in $(seq 1 1200); do grep -q '{api|' "$tmp/hol" && grep -q '{api|' "$tmp/quick" && break; sleep 0.05; done
PH=$(grep -o '{api|0x[0-9a-f]*}' "$tmp/hol" | head -1)
PQ=$(grep -o '{api|0x[0-9a-f]*}' "$tmp/quick" | head -1)
r=$(curl -s -g -m 60 --unix-socket "$SOCK2" -H "$A" \
  -d "{\"args\":[\"$PH\",\"$PQ\"],\"host\":\"ib:a\",\"timeout\":\"50s\"}" http://x/v1/exec/ib:holq)
if echo "$r" | grep -q '"quick":true' && echo "$r" | grep -q '"why":".*mailbox full'; then
  ok "a host out of credit for one slow inbox still sends to another at once ($r)"
else bad "a host out of credit for one inbox: $r"; fi
kill "$HOL" "$SERVER2" 2>/dev/null
wait "$SERVER2" 2>/dev/null

# 10. A message within the inbox's max_payload (512 KiB) reaches a client
# that reads at once, whatever its bytes: 200,000 control bytes (1.2 MB
# in the stream) and the message after it.
open '?name=ctl' "$tmp/ctl"; CTL=$LAST
r=$(c -m 30 -H "$A" -d '{"args":["ctl",200000],"host":"ib:b"}' http://x/v1/exec/ib:ctl)
for i in $(seq 1 200); do grep -q '"topic":"after"\|^event: e' "$tmp/ctl" && break; sleep 0.05; done
grep -q '"topic":"ctl"' "$tmp/ctl" && grep -q '"topic":"after"' "$tmp/ctl" && ! grep -q '^event: e' "$tmp/ctl" \
  && ok "a 200 KB message of control bytes and the next reach a client that reads at once" \
  || bad "a 200 KB message of control bytes (exec: $r): $(grep -a '^event\|error' "$tmp/ctl" | tr '\n' ' ' | head -c 300)"
kill "$CTL" 2>/dev/null

# 8. A message small as bytes whose tables are shared (each level holds
# the one below twice) is no bigger in the stream than its cost says:
# the gateway neither spends seconds writing it out nor dies of it, and
# another stream (another client's) lives on.
open '?name=other' "$tmp/other"; OTHER=$LAST
open '?name=dag' "$tmp/dag"
r=$(c -m 60 -H "$A" -d '{"args":["dag",26],"host":"ib:b"}' http://x/v1/exec/ib:dag)
t=$(c -m 30 -o /dev/null -w '%{time_total}' http://x/healthz)
sleep 6
if grep -q '^ward: gateway: ' "$tmp/err"; then
  bad "a 26-level shared table sent to an inbox: $(grep '^ward: gateway: ' "$tmp/err" | head -2 | tr '\n' ' ') (exec: $r)"
else ok "a 26-level shared table sent to an inbox: the gateway lives (exec: $r, healthz in $t s)"; fi
kill -0 "$OTHER" 2>/dev/null && ! grep -q '^event: e' "$tmp/other" \
  && ok "... and another client's stream is still open" \
  || bad "another client's stream ended: $(tail -c 200 "$tmp/other")"

rss=$(ps -o rss= -p "$(pgrep -f 'ward gateway' -P $SERVER | head -1)" 2>/dev/null || echo 0)
echo "       (gateway rss after: ${rss} KiB)"

echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
