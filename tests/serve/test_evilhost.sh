#!/usr/bin/env bash
# Hosts and gateways that lie to a serving ward (issue 13): a host's
# malformed STATUS answer, an EVENT it forges to an inbox stream's PID and
# messages it sends an inbox stream past its credit are fatal for that
# host only; a gateway's GW_COUNT (the answers it gave
# itself) out of its bounds is fatal for the gateway, which is restarted,
# and one within them moves only the counters of no tenant. ward_testhooks serves tests/serve/evilapp with host
# ev:evil played by ward_evilhost (tests/link/evilhost.c) in a mode of
# WARD_EVIL_MODE; the test checks that the broker kills and reports that
# host with the exact reason, audits its death, and keeps serving: the
# API answers, the honest host ev:good runs, an inbox stream the forged
# EXIT named is still open and receives. For the gateway, the first
# incarnation is ward_evilhost (mode gwcount), the next ones the real one.
# One line per case, then "N passed, N failed".
# Usage: test_evilhost.sh WARD_TESTHOOKS EVILHOST
set -u
WARD=${1:?usage: test_evilhost.sh WARD_TESTHOOKS EVILHOST}
EVIL=${2:?usage: test_evilhost.sh WARD_TESTHOOKS EVILHOST}
DIR=$(cd "$(dirname "$0")" && pwd)
. "$(dirname "$0")/lib.sh"
APP=$DIR/evilapp
STREAM=
cleanup_extra() {
  [ -n "$STREAM" ] && kill "$STREAM" 2>/dev/null
}
A='Authorization: Bearer admin:admin-secret-0123456789'
SOCK=$tmp/ward.sock
LOG=$tmp/audit.log

# start MODE: serve the app with ev:evil attacking in MODE. The broker
# gives a host no environment: a wrapper sets WARD_EVIL_MODE.
start() {
  local i
  {
    echo '#!/bin/sh'
    printf "export WARD_EVIL_MODE='%s'\n" "$1"
    printf "exec '%s' \"\$@\"\n" "$EVIL"
  } >"$tmp/evil.sh"
  chmod +x "$tmp/evil.sh"
  rm -f "$SOCK" "$LOG" "$LOG.pub"
  WARD_TEST_HOST_ID=ev:evil WARD_TEST_HOST_EXE=$tmp/evil.sh \
    "$WARD" serve -v --audit deny --audit-log "$LOG" --listen "unix:$SOCK" \
    --tokens "$APP/tokens.yaml" "$APP" >"$tmp/out" 2>"$tmp/err" &
  SERVER=$!
  await_healthz "$SOCK" && return 0
  echo "server did not start: $(head -c 300 "$tmp/err")"
  return 1
}
# stop NAME: end the server; in a sanitizer build nothing may be reported.
stop() {
  kill "$SERVER" 2>/dev/null
  wait "$SERVER" 2>/dev/null
  SERVER=
  if grep -q 'Sanitizer' "$tmp/err"; then
    bad "$1: a sanitizer report: $(grep -m1 -A3 'Sanitizer' "$tmp/err")"
  else ok "$1: ward ended with no sanitizer report"; fi
}
c() { curl -s -g -m 30 --unix-socket "$SOCK" "$@"; }
# http NAME CODE BODY-RE CURL-ARGS...
http() {
  local name=$1 want=$2 re=$3 got; shift 3
  got=$(c -o "$tmp/body" -w '%{http_code}' "$@")
  if [ "$got" != "$want" ]; then
    bad "$name: HTTP $got, want $want: $(head -c 300 "$tmp/body")"; return 1
  fi
  if [ -n "$re" ] && ! grep -Eq -- "$re" "$tmp/body"; then
    bad "$name: body does not match /$re/: $(head -c 300 "$tmp/body")"; return 1
  fi
  ok "$name"
}

# carries_on CASE N: after CASE's liar is dealt with, ev:good still
# answers an exec of [N] with N and the broker lives; the case's stream
# (if any) is closed and its server stopped.
carries_on() {
  http "$1: ev:good answers after" 200 "\"result\":$2" \
    -H "$A" -d "{\"args\":[$2]}" http://x/v1/exec/ev:hello
  kill -0 "$SERVER" 2>/dev/null && ok "$1: the broker lives on" || bad "$1: the broker died"
  [ -n "${STREAM:-}" ] && kill "$STREAM" 2>/dev/null
  STREAM=
  stop "$1"
}
# wait_err RE: until the server's stderr has a line matching RE (60 s).
wait_err() {
  local i
  for i in $(seq 1 1200); do grep -Eq -- "$1" "$tmp/err" && return 0; sleep 0.05; done
  return 1
}
# killed MODE REASON: ev:evil was reported with exactly REASON and no other
# host was; its death is in the audit log.
killed() {
  if ! wait_err "^ward: host ev:evil: "; then
    bad "$1: ev:evil was not reported: $(head -c 400 "$tmp/err")"
  elif ! grep -qxF "ward: host ev:evil: $2" "$tmp/err"; then
    bad "$1: stderr lacks 'ward: host ev:evil: $2': $(grep '^ward: host ' "$tmp/err" | head -c 400)"
  elif grep '^ward: host .*: ' "$tmp/err" | grep -v 'started (pid' |
       grep -qv '^ward: host ev:evil: '; then
    bad "$1: other hosts were reported: $(grep '^ward: host ' "$tmp/err" | head -c 400)"
  else
    ok "$1: ev:evil killed ($2), no other host reported"
  fi
  for i in $(seq 1 200); do grep -q '"kind":"host_death".*"host":"ev:evil"' "$LOG" && break; sleep 0.05; done
  if grep -q '"kind":"host_death".*"host":"ev:evil"' "$LOG"; then
    ok "$1: the death of ev:evil is audited"
  else bad "$1: no host_death of ev:evil in the audit log"; fi
}

# {====== A malformed STATUS answer ======
start badstatus || { echo "$pass passed, $((fail+1)) failed"; exit 1; }
http "badstatus: a process on ev:evil" 201 '"pid"' \
  -H "$A" -X POST http://x/v1/spawn/ev:victim
http "badstatus: ev:good answers before" 200 '"result":1' \
  -H "$A" -d '{"args":[1]}' http://x/v1/exec/ev:hello
grep -q 'evil host ev:evil up, mode badstatus' "$tmp/err" &&
  ok "badstatus: the evil host is up" || bad "badstatus: no evil host: $(head -c 300 "$tmp/err")"
http "badstatus: GET /metrics (ev:evil lies in its answer) is answered" 200 \
  '^ward_host_up\{host="ev:good"\} 1$' -H "$A" http://x/metrics
killed badstatus "malformed STATUS answer"
http "badstatus: /metrics answers after, ev:evil down" 200 \
  '^ward_host_up\{host="ev:evil"\} 0$' -H "$A" http://x/metrics
http "badstatus: /v1/hosts answers" 200 '"id":"ev:good","pid":[1-9]' \
  -H "$A" http://x/v1/hosts
carries_on badstatus 2
# }======

# {====== An EXIT forged to an inbox stream ======
start inboxevent || { echo "$pass passed, $((fail+1)) failed"; exit 1; }
curl -s -g -N -m 120 --unix-socket "$SOCK" -H "$A" http://x/v1/inbox >"$tmp/stream" &
STREAM=$!
for i in $(seq 1 1200); do grep -q '^data: {"pid"' "$tmp/stream" && break; sleep 0.05; done
IB=$(grep -o '{api|0x[0-9a-f]*}' "$tmp/stream" | head -1)
[ -n "$IB" ] && ok "inboxevent: an inbox stream $IB" || bad "inboxevent: no inbox: $(cat "$tmp/stream")"
http "inboxevent: a process on ev:evil" 201 '"pid"' \
  -H "$A" -X POST http://x/v1/spawn/ev:victim
EV=$(grep -o '{ev:evil|0x[0-9a-f]*}' "$tmp/body" | head -1)
# The message's topic tells ev:evil the inbox's PID; it answers with an
# EXIT from its process to the inbox, which watches nothing.
c -o "$tmp/sendbody" -H "$A" -d "{\"topic\":\"$IB\",\"payload\":1}" \
  "http://x/v1/send/$EV" >/dev/null
killed inboxevent "forged event: to an inbox"
if grep -q '^event: error\|"kind":"pid.exit"\|forged' "$tmp/stream"; then
  bad "inboxevent: the stream saw the forgery: $(tail -c 300 "$tmp/stream")"
else ok "inboxevent: the inbox stream got nothing of the forged EXIT"; fi
http "inboxevent: the inbox still takes a message" 200 '"ok":true' \
  -H "$A" -d '{"topic":"t","payload":"after"}' "http://x/v1/send/$IB"
for i in $(seq 1 1200); do grep -q '"after"' "$tmp/stream" && break; sleep 0.05; done
grep -q '^event: message' "$tmp/stream" && grep -q '"after"' "$tmp/stream" &&
  ok "inboxevent: ... and the stream delivers it" ||
  bad "inboxevent: stream: $(tail -c 300 "$tmp/stream")"
carries_on inboxevent 3
# }======

# {====== MSG to an inbox past the host's credit ======
# ev:evil ignores its credit for the front door (host "api": at most
# 4 MiB in flight, runtime/flow.c) and sends 128 MiB of MSG records to an
# inbox stream whose client reads slowly (the window is full): what waits
# in the broker is "bounded by the senders' credit" (broker_inbox.c), so
# either the host is killed as lying or the broker holds a few MiB. The
# broker counts what waits for an inbox against the sender's credit: it
# kills ev:evil at the first message past its window towards "api"
# (4 MiB / 3 peers), audited; the inbox still takes messages.
start inboxflood || { echo "$pass passed, $((fail+1)) failed"; exit 1; }
curl -s -g -N -m 120 --limit-rate 2k --unix-socket "$SOCK" -H "$A" http://x/v1/inbox >"$tmp/stream" &
STREAM=$!
for i in $(seq 1 1200); do grep -q '^data: {"pid"' "$tmp/stream" && break; sleep 0.05; done
IB=$(grep -o '{api|0x[0-9a-f]*}' "$tmp/stream" | head -1)
http "inboxflood: a process on ev:evil" 201 '"pid"' \
  -H "$A" -X POST http://x/v1/spawn/ev:victim
EV=$(grep -o '{ev:evil|0x[0-9a-f]*}' "$tmp/body" | head -1)
hwm0=$(awk '/^VmHWM/ {print $2}' "/proc/$SERVER/status")
c -o "$tmp/sendbody" -H "$A" -d "{\"topic\":\"$IB\",\"payload\":1}" \
  "http://x/v1/send/$EV" >/dev/null
wait_err 'inboxflood: sent|^ward: host ev:evil: [^e]' || true
sleep 0.5
hwm1=$(awk '/^VmHWM/ {print $2}' "/proc/$SERVER/status")
grow=$(( (hwm1 - hwm0) / 1024 ))
if [ "$grow" -lt 48 ]; then
  ok "inboxflood: the broker's memory stays bounded (peak grew by $grow MiB)"
else bad "inboxflood: the broker holds what ev:evil sent past its credit: peak grew by $grow MiB for 128 MiB sent"; fi
r='message past its credit: [0-9]+ bytes in flight to \{api\|0x[0-9a-f]+\}, 262272 more'  # 256 KiB and WD_FLOW_MSG_COST
if grep -qxE "ward: host ev:evil: $r" "$tmp/err"; then
  ok "inboxflood: ev:evil killed ($(grep -oE "$r" "$tmp/err"))"
else bad "inboxflood: stderr lacks 'ward: host ev:evil: $r': $(grep '^ward: host ev:evil: ' "$tmp/err" | head -c 400)"; fi
for i in $(seq 1 200); do grep -q '"kind":"host_death","reason":"message past its credit' "$LOG" && break; sleep 0.05; done
grep -q '"kind":"host_death","reason":"message past its credit: .*"host":"ev:evil"' "$LOG" &&
  ok "inboxflood: the death of ev:evil is audited" || bad "inboxflood: no host_death of ev:evil naming the credit"
http "inboxflood: the inbox still takes a message" 200 '"ok":true' \
  -H "$A" -d '{"topic":"t","payload":"after"}' "http://x/v1/send/$IB"
carries_on inboxflood 5
# }======

# {====== A gateway's GW_COUNT out of its bounds ======
# gw BAD [MODE]: serve with a gateway that first reports 404 seven times
# (within the bounds), then a GW_COUNT as BAD says (MODE gwcount); or
# opens an inbox stream and acknowledges as BAD says (MODE gwack); later
# gateways are real.
gw() {
  local i
  rm -f "$tmp/gw.once"
  {
    echo '#!/bin/sh'
    printf "if [ -e '%s' ]; then exec '%s' \"\$@\"; fi\n" "$tmp/gw.once" "$WARD"
    printf ": >'%s'\n" "$tmp/gw.once"
    printf "export WARD_EVIL_MODE=%s WARD_EVIL_BAD='%s' WARD_EVIL_DELAY_MS=200\n" "${2:-gwcount}" "$1"
    printf "export WARD_EVIL_BEARER='%s'\n" "${A#Authorization: Bearer }"
    printf "exec '%s' \"\$@\"\n" "$EVIL"
  } >"$tmp/gw.sh"
  chmod +x "$tmp/gw.sh"
  rm -f "$SOCK" "$LOG" "$LOG.pub"
  WARD_TEST_HOST_ID=gateway WARD_TEST_HOST_EXE=$tmp/gw.sh \
    "$WARD" serve -v --audit deny --audit-log "$LOG" --listen "unix:$SOCK" \
    --tokens "$APP/tokens.yaml" "$APP" >"$tmp/out" 2>"$tmp/err" &
  SERVER=$!
  await_healthz "$SOCK" && return 0
  echo "server did not start: $(head -c 300 "$tmp/err")"
  return 1
}
for v in count status order empty; do
  gw "$v" || { bad "gwcount $v: no gateway served"; stop "gwcount $v"; continue; }
  if grep -qx 'ward: gateway: bad frame (bad record): killed' "$tmp/err" &&
     grep -q '^ward: gateway: restarted' "$tmp/err"; then
    ok "gwcount $v: the gateway is killed (bad frame) and restarted"
  else bad "gwcount $v: $(grep '^ward: gateway' "$tmp/err" | head -c 400)"; fi
  grep -q '"kind":"host_death".*"host":"gateway"' "$LOG" &&
    ok "gwcount $v: its death is audited" || bad "gwcount $v: no host_death of the gateway"
  http "gwcount $v: the restarted gateway serves /metrics" 200 'ward_gateway_requests_total' \
    -H "$A" http://x/metrics
  n404=$(grep -F 'ward_gateway_requests_total{tenant="",code="404"}' "$tmp/body" | awk '{print $NF}')
  other=$(grep -c 'ward_gateway_requests_total{.*code="other"}' "$tmp/body")
  if [ "${n404:-0}" = 7 ] && [ "$other" = 0 ] &&
     [ "$(grep -c '^ward_gateway_requests_total{' "$tmp/body")" -le 2 ]; then
    ok "gwcount $v: only the report within the bounds counts, with no tenant"
  else bad "gwcount $v: $(grep '^ward_gateway_requests_total' "$tmp/body" | tr '\n' ' ')"; fi
  http "gwcount $v: ev:good answers" 200 '"result":4' \
    -H "$A" -d '{"args":[4]}' http://x/v1/exec/ev:hello
  stop "gwcount $v"
done
# }======

# {====== A gateway's GW_ACK of what it was never sent ======
for v in over zero empty; do
  gw "$v" gwack || { bad "gwack $v: no gateway served"; stop "gwack $v"; continue; }
  if grep -qx 'ward: gateway: bad frame (bad record): killed' "$tmp/err" &&
     grep -q '^ward: gateway: restarted' "$tmp/err"; then
    ok "gwack $v: the gateway is killed (bad frame) and restarted"
  else bad "gwack $v: $(grep '^ward: gateway' "$tmp/err" | head -c 400)"; fi
  grep -q '"kind":"host_death".*"host":"gateway"' "$LOG" &&
    ok "gwack $v: its death is audited" || bad "gwack $v: no host_death of the gateway"
  http "gwack $v: ev:good answers" 200 '"result":4' \
    -H "$A" -d '{"args":[4]}' http://x/v1/exec/ev:hello
  stop "gwack $v"
done
# }======

echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
