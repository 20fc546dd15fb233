#!/usr/bin/env bash
# The gateway's liveness and DELETE on an inbox stream's PID, through a
# real socket with curl (tests/serve/inbox_app, inbox_tokens.yaml).
# 1. A stopped gateway (SIGSTOP) misses its heartbeats: the broker kills
#    it (host_death, host "gateway", reason naming liveness), restarts it,
#    and /healthz answers again; a request in flight on it fails cleanly.
# 2. DELETE /v1/processes/{api|0x...} is process.terminate on the inbox:
#    403 for a token not allowed, 200 for one allowed (its monitor gets
#    EXIT with an error, the stream gets "event: exit"), 404 for an
#    unknown inbox PID.
# Only generous upper bounds on timing. One line per case, then counts.
# Usage: test_gwlive.sh WARD
set -u
WARD=${1:?usage: test_gwlive.sh WARD}
DIR=$(cd "$(dirname "$0")" && pwd)
. "$(dirname "$0")/lib.sh"
STREAMS=
GW=
cleanup_extra() {
  [ -n "$GW" ] && kill -CONT "$GW" 2>/dev/null
  for p in $STREAMS; do kill "$p" 2>/dev/null; done
}
A='Authorization: Bearer alice:alice-secret-0123456789'
B='Authorization: Bearer bob:bob-secret-0123456789abc'
SOCK=$tmp/ward.sock
"$WARD" serve -v --audit all --audit-log "$tmp/audit.log" --listen "unix:$SOCK" \
  --tokens "$DIR/inbox_tokens.yaml" "$DIR/inbox_app" >"$tmp/out" 2>"$tmp/err" &
SERVER=$!
healthy() { curl -s -m 1 --unix-socket "$SOCK" http://x/healthz >/dev/null 2>&1; }
await_healthz "$SOCK"
c() { curl -s -g -m 20 --unix-socket "$SOCK" "$@"; }
gateway_pid() {
  grep -o 'gateway started (pid [0-9]*)' "$tmp/err" | tail -1 | grep -o '[0-9]*'
}

# 1. A stopped gateway is noticed, killed, audited and restarted.
GW=$(gateway_pid)
if [ -z "$GW" ]; then bad "no gateway pid in: $(cat "$tmp/err")"; else
  # A request in flight when it stops (an inbox stream, watched by a
  # script): its client's connection ends, its monitor gets an EXIT.
  : >"$tmp/s0"
  curl -s -g -N -m 120 --unix-socket "$SOCK" -H "$A" "http://x/v1/inbox?name=live" >"$tmp/s0" &
  INF=$!
  for i in $(seq 1 200); do grep -q '^data: {"pid"' "$tmp/s0" && break; sleep 0.05; done
  P0=$(grep -o '{api|0x[0-9a-f]*}' "$tmp/s0" | head -1)
  c -H "$A" -d "{\"args\":[\"$P0\"]}" http://x/v1/spawn/ib:watch >/dev/null
  for i in $(seq 1 200); do grep -q "watch: monitoring $P0" "$tmp/out" && break; sleep 0.05; done
  kill -STOP "$GW"
  new=
  for i in $(seq 1 600); do
    n=$(gateway_pid)
    if [ -n "$n" ] && [ "$n" != "$GW" ]; then new=$n; break; fi
    sleep 0.1
  done
  if [ -n "$new" ]; then ok "a stopped gateway is replaced (pid $GW -> $new)"
  else bad "no new gateway within 60 s: $(tail -3 "$tmp/err")"; kill -CONT "$GW"; fi
  up=
  for i in $(seq 1 60); do healthy && { up=1; break; }; sleep 0.1; done
  [ -n "$up" ] && ok "/healthz answers again" || bad "/healthz after restart"
  if kill -0 "$GW" 2>/dev/null && [ "$(ps -o stat= -p "$GW" 2>/dev/null | cut -c1)" != Z ]; then
    bad "the stopped gateway $GW is still alive"
  else ok "the stopped gateway was killed"; fi
  GW=
  if grep '"kind":"host_death"' "$tmp/audit.log" | grep '"host":"gateway"' | grep -q 'liveness'; then
    ok "audited: host_death, host gateway, reason names liveness"
  else bad "no host_death for the gateway: $(grep host_death "$tmp/audit.log" | tail -2)"; fi
  grep -q 'gateway: unresponsive.*liveness' "$tmp/err" && ok "stderr says why" \
    || bad "stderr: $(grep gateway "$tmp/err" | tail -3)"
  for i in $(seq 1 100); do kill -0 "$INF" 2>/dev/null || break; sleep 0.1; done
  kill -0 "$INF" 2>/dev/null && { bad "the stream in flight still hangs"; kill "$INF"; } \
    || ok "the stream in flight ended (its connection closed)"
  for i in $(seq 1 100); do grep -q "watch: exit $P0" "$tmp/out" && break; sleep 0.1; done
  if grep "watch: exit $P0" "$tmp/out" | grep -qv "watch: exit $P0 nil"; then
    ok "its monitor got EXIT with an error: $(grep "watch: exit $P0" "$tmp/out")"
  else bad "monitor of the stream in flight: $(grep watch "$tmp/out" | tail -2)"; fi
  r=$(c -H "$A" -d '{"args":["nobody",1,"x"],"host":"ib:a"}' http://x/v1/exec/ib:sendn)
  echo "$r" | grep -q '"result"\|"error"' && ok "requests work on the new gateway: $r" \
    || bad "after restart: $r"
fi

# 2. DELETE /v1/processes/{inbox pid}.
: >"$tmp/s1"
curl -s -g -N -m 60 --unix-socket "$SOCK" -H "$A" "http://x/v1/inbox?name=del" >"$tmp/s1" &
STREAMS="$STREAMS $!"
for i in $(seq 1 200); do grep -q '^data: {"pid"' "$tmp/s1" && break; sleep 0.05; done
P1=$(grep -o '{api|0x[0-9a-f]*}' "$tmp/s1" | head -1)
[ -n "$P1" ] && ok "inbox open: $P1" || bad "no inbox: $(cat "$tmp/s1")"
c -H "$A" -d "{\"args\":[\"$P1\"]}" http://x/v1/spawn/ib:watch >/dev/null
for i in $(seq 1 200); do grep -q "watch: monitoring $P1" "$tmp/out" && break; sleep 0.05; done
code=$(c -o "$tmp/d" -w '%{http_code}' -X DELETE -H "$B" "http://x/v1/processes/$P1")
[ "$code" = 403 ] && ok "DELETE by a token not allowed: 403" || bad "bob DELETE: $code $(cat "$tmp/d")"
grep -q '^event: exit' "$tmp/s1" && bad "the stream ended on a denied DELETE" || ok "a denied DELETE leaves the stream"
code=$(c -o "$tmp/d" -w '%{http_code}' -X DELETE -H "$A" "http://x/v1/processes/$P1")
[ "$code" = 200 ] && ok "DELETE by a token allowed: 200" || bad "alice DELETE: $code $(cat "$tmp/d")"
for i in $(seq 1 200); do grep -q '^event: exit' "$tmp/s1" && break; sleep 0.05; done
grep -q '^event: exit' "$tmp/s1" && ok "the stream got event: exit" || bad "no exit event: $(tail -3 "$tmp/s1")"
for i in $(seq 1 200); do grep -q "watch: exit $P1" "$tmp/out" && break; sleep 0.05; done
if grep "watch: exit $P1" "$tmp/out" | grep -qv "watch: exit $P1 nil"; then
  ok "its monitor got EXIT with an error: $(grep "watch: exit $P1" "$tmp/out")"
else bad "monitor: $(grep watch "$tmp/out" | tail -2)"; fi
grep '"action":"process.terminate"' "$tmp/audit.log" | grep -q "$P1" \
  && ok "decided as process.terminate on the inbox PID" || bad "no process.terminate decision on $P1"
code=$(c -o "$tmp/d" -w '%{http_code}' -X DELETE -H "$A" "http://x/v1/processes/$P1")
[ "$code" = 404 ] && ok "DELETE of the ended inbox: 404" || bad "again: $code $(cat "$tmp/d")"
code=$(c -o "$tmp/d" -w '%{http_code}' -X DELETE -H "$A" "http://x/v1/processes/{api|0x7fffffff}")
[ "$code" = 404 ] && ok "DELETE of an unknown inbox PID: 404" || bad "unknown: $code $(cat "$tmp/d")"

echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
