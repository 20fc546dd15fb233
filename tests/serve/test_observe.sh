#!/usr/bin/env bash
# Observing a serving ward (issue 13): GET /v1/processes, /v1/hosts and
# /metrics through a real socket, their errors (401, 403), the counters
# checked against what the test did, the Prometheus text parsed line by
# line, ward ctl ps|hosts|metrics, and ward top under tmux (what the
# screen shows). One line per case, then "N passed, N failed".
# Usage: test_observe.sh WARD
set -u
WARD=${1:?usage: test_observe.sh WARD}
DIR=$(cd "$(dirname "$0")" && pwd)
. "$(dirname "$0")/lib.sh"
APP=$DIR/obsapp
TOKENS=$DIR/obstokens.yaml
TMUX_SOCK=$tmp/tmux
cleanup_extra() {
  tmux -S "$TMUX_SOCK" kill-server 2>/dev/null
}

AD='Authorization: Bearer admin:admin-secret-0123456789abcdef'
US='Authorization: Bearer user:user-secret-0123456789abcdef'
SOCK=$tmp/ward.sock
echo 'admin:admin-secret-0123456789abcdef' >"$tmp/admin.tok"
echo 'user:user-secret-0123456789abcdef' >"$tmp/user.tok"

"$WARD" serve -v --listen "unix:$SOCK" --tokens "$TOKENS" "$APP" \
  >"$tmp/out" 2>"$tmp/err" &
SERVER=$!
await_healthz "$SOCK"

# get PATH [HEADER]: the body in $tmp/body, the status in $code.
get() {
  code=$(curl -s -m 10 --unix-socket "$SOCK" -o "$tmp/body" -w '%{http_code}' \
    ${2:+-H "$2"} "http://x$1")
}
post() {
  code=$(curl -s -m 20 --unix-socket "$SOCK" -o "$tmp/body" -w '%{http_code}' \
    -H "$US" -X POST -d "$2" "http://x$1")
}
# metric NAME-AND-LABELS: its value in the last /metrics (0 when absent).
metric() {
  awk -v k="$1" 'index($0, k " ") == 1 { v = $NF } END { print v + 0 }' \
    "$tmp/metrics"
}
metrics() { get /metrics "$AD"; cp "$tmp/body" "$tmp/metrics"; }

# {====== Errors: 401 without a token, 403 without ward.status ======
for p in /v1/processes /v1/hosts /metrics; do
  get "$p"
  check "$p without a token: 401" '[ "$code" = 401 ]' "HTTP $code"
  get "$p" 'Authorization: Bearer admin:wrong'
  check "$p with a wrong secret: 401" '[ "$code" = 401 ]' "HTTP $code"
  get "$p" "$US"
  check "$p for a token without ward.status: 403" \
    '[ "$code" = 403 ] && grep -q PermissionDenied "$tmp/body"' \
    "HTTP $code $(head -c 200 "$tmp/body")"
done
code=$(curl -s --unix-socket "$SOCK" -o /dev/null -w '%{http_code}' -X POST \
  -H "$AD" http://x/v1/hosts)
check "POST /v1/hosts: 405" '[ "$code" = 405 ]' "HTTP $code"
# }======

# {====== Processes and spawns ======
metrics
sp0=$(metric 'ward_spawns_total{host="ob:a",tenant="acme"}')
N=5
for i in $(seq 1 $N); do post /v1/spawn/ob:idle '{"host": "ob:a"}'; done
check "spawned $N processes" '[ "$code" = 201 ]' "HTTP $code"
get /v1/processes "$AD"
check "GET /v1/processes: 200" '[ "$code" = 200 ]' "HTTP $code"
n=$(jq '[.processes[] | select(.entry == "ob:idle" and .actor == "acme" and
  .host == "ob:a")] | length' "$tmp/body")
check "/v1/processes lists the $N processes (pid, entry, host, actor)" \
  '[ "$n" = $N ]' "$n: $(head -c 300 "$tmp/body")"
check "/v1/processes: each with pid, mailbox, memory > 0, cpu_ms" \
  '[ "$(jq "[.processes[] | select((.pid | startswith(\"{ob:a|\")) and
     .mailbox == 0 and .memory > 0 and .cpu_ms >= 0)] | length" "$tmp/body")" = $N ]'
check "/v1/processes: the total and the per-host limit" \
  '[ "$(jq -c "[.total, .truncated, .limit]" "$tmp/body")" = "[$N,false,10000]" ]' \
  "$(jq -c '[.total, .truncated, .limit]' "$tmp/body")"
metrics
sp1=$(metric 'ward_spawns_total{host="ob:a",tenant="acme"}')
check "ward_spawns_total moved by $N" '[ $((sp1 - sp0)) = $N ]' "$sp0 -> $sp1"
check "ward_processes{ob:a, acme} = $N" \
  '[ "$(metric "ward_processes{host=\"ob:a\",tenant=\"acme\"}")" = $N ]'
check "ward_memory_bytes{ob:a, acme} > 0" \
  '[ "$(metric "ward_memory_bytes{host=\"ob:a\",tenant=\"acme\"}")" -gt 0 ]'
# }======

# {====== Messages, decisions, exec durations, answers by code ======
in0=$(metric 'ward_messages_in_total{host="ob:a",tenant="acme"}')
out0=$(metric 'ward_messages_out_total{host="ob:a",tenant="acme"}')
dn0=$(metric 'ward_host_decisions_deny_total{host="ob:a",tenant="acme"}')
ex0=$(metric 'ward_exec_duration_seconds_count{host="ob:a",tenant="acme"}')
c403=$(metric 'ward_gateway_requests_total{tenant="acme",code="403"}')
c200=$(metric 'ward_gateway_requests_total{tenant="acme",code="200"}')
bd0=$(metric 'ward_broker_decisions_total{host="gateway",tenant="acme",result="deny"}')
post /v1/exec/ob:talk '{"args": [7], "host": "ob:a"}'
check "exec ob:talk 7" '[ "$code" = 200 ] && grep -q "\"result\":7" "$tmp/body"' \
  "HTTP $code $(head -c 200 "$tmp/body")"
post /v1/exec/ob:denied '{"args": [3], "host": "ob:a"}'
check "exec ob:denied 3 (three denials on the host)" \
  '[ "$code" = 200 ] && grep -q "\"result\":3" "$tmp/body"' \
  "HTTP $code $(head -c 200 "$tmp/body")"
get /metrics "$US" # one more 403, one more broker denial
metrics
check "ward_messages_out_total moved by 7" \
  '[ $(( $(metric "ward_messages_out_total{host=\"ob:a\",tenant=\"acme\"}") - out0 )) = 7 ]'
check "ward_messages_in_total moved by 7" \
  '[ $(( $(metric "ward_messages_in_total{host=\"ob:a\",tenant=\"acme\"}") - in0 )) = 7 ]'
check "ward_host_decisions_deny_total moved by 3" \
  '[ $(( $(metric "ward_host_decisions_deny_total{host=\"ob:a\",tenant=\"acme\"}") - dn0 )) = 3 ]'
check "ward_exec_duration_seconds_count moved by 2" \
  '[ $(( $(metric "ward_exec_duration_seconds_count{host=\"ob:a\",tenant=\"acme\"}") - ex0 )) = 2 ]'
check "ward_exec_duration_seconds: +Inf bucket = count" \
  '[ "$(metric "ward_exec_duration_seconds_bucket{host=\"ob:a\",tenant=\"acme\",le=\"+Inf\"}")" = "$(metric "ward_exec_duration_seconds_count{host=\"ob:a\",tenant=\"acme\"}")" ]'
check "ward_gateway_requests_total{acme, 200} moved by 2" \
  '[ $(( $(metric "ward_gateway_requests_total{tenant=\"acme\",code=\"200\"}") - c200 )) = 2 ]'
check "ward_gateway_requests_total{acme, 403} moved by 1" \
  '[ $(( $(metric "ward_gateway_requests_total{tenant=\"acme\",code=\"403\"}") - c403 )) = 1 ]'
check "ward_broker_decisions_total{gateway, acme, deny} moved by 1" \
  '[ $(( $(metric "ward_broker_decisions_total{host=\"gateway\",tenant=\"acme\",result=\"deny\"}") - bd0 )) = 1 ]'
check "401s counted with no tenant" \
  '[ "$(metric "ward_gateway_requests_total{tenant=\"\",code=\"401\"}")" -ge 6 ]'
# }======

# {====== Answers the gateway gives itself ======
# Requests the gateway refuses without asking the broker (malformed HTTP,
# bad JSON, oversized headers or body, an unknown path, a wrong method)
# count too, with no tenant: the gateway reports its answers' codes to
# the broker (GW_COUNT), which checks and bounds what it is told.
gw_codes="400 404 405 413 431"
metrics
for c in $gw_codes; do
  eval "g0_$c=\$(metric 'ward_gateway_requests_total{tenant=\"\",code=\"$c\"}')"
done
python3 - "$SOCK" <<'PY' >"$tmp/raw"
import socket, sys
s = socket.socket(socket.AF_UNIX); s.connect(sys.argv[1]); s.settimeout(20)
s.sendall(b"GARBAGE / HTTP/9.9\r\n\r\n")
print(s.recv(200).split(b"\r\n")[0].decode())
PY
check "malformed HTTP: 400 from the gateway" 'grep -q "^HTTP/1.1 400" "$tmp/raw"' \
  "$(cat "$tmp/raw")"
post /v1/exec/ob:talk '{"args": ['
check "bad JSON: 400" '[ "$code" = 400 ]' "HTTP $code"
get /nope "$US"
check "an unknown path: 404" '[ "$code" = 404 ]' "HTTP $code"
code=$(curl -s --unix-socket "$SOCK" -o /dev/null -w '%{http_code}' -X DELETE \
  -H "$AD" http://x/metrics)
check "DELETE /metrics: 405" '[ "$code" = 405 ]' "HTTP $code"
code=$(curl -s -m 20 --unix-socket "$SOCK" -o /dev/null -w '%{http_code}' \
  -H "$US" -H "X-Big: $(head -c 9000 /dev/zero | tr '\0' a)" http://x/v1/hosts)
check "headers over --max-header: 431" '[ "$code" = 431 ]' "HTTP $code"
head -c 1100000 /dev/zero | tr '\0' ' ' >"$tmp/bigbody"
code=$(curl -s -m 20 --unix-socket "$SOCK" -o /dev/null -w '%{http_code}' \
  -H "$US" -X POST --data-binary @"$tmp/bigbody" http://x/v1/exec/ob:talk)
check "a body over --max-body: 413" '[ "$code" = 413 ]' "HTTP $code"
# The reports come with the gateway's next loop turn: wait for them.
want_400=2 want_404=1 want_405=1 want_413=1 want_431=1
for _ in $(seq 1 600); do
  metrics
  short=
  for c in $gw_codes; do
    eval "w=\$want_$c g0=\$g0_$c"
    [ $(( $(metric "ward_gateway_requests_total{tenant=\"\",code=\"$c\"}") - g0 )) -ge "$w" ] || short=1
  done
  [ -z "$short" ] && break
  sleep 0.1
done
for c in $gw_codes; do
  eval "w=\$want_$c g0=\$g0_$c"
  check "ward_gateway_requests_total{tenant=\"\", $c} moved by $w (the gateway's own)" \
    '[ $(( $(metric "ward_gateway_requests_total{tenant=\"\",code=\"$c\"}") - g0 )) = "$w" ]' \
    "$(grep 'ward_gateway_requests_total{tenant=""' "$tmp/metrics" | tr '\n' ' ')"
done
# }======

# {====== The Prometheus text, line by line ======
badl=$(grep -Ev '^# (HELP|TYPE) [a-zA-Z_:][a-zA-Z0-9_:]* .+$' "$tmp/metrics" |
  grep -Ev '^[a-zA-Z_:][a-zA-Z0-9_:]*(\{([a-zA-Z_][a-zA-Z0-9_]*="[^"\\]*",?)*\})? -?[0-9.e+-]+$' |
  head -3)
check "every /metrics line is '# HELP', '# TYPE' or 'name{labels} value'" \
  '[ -z "$badl" ] && [ -s "$tmp/metrics" ]' "$badl"
check "/metrics: each metric has a TYPE before its samples" \
  '[ -z "$(awk "/^# TYPE/ { t[\$3] = 1; next } /^#/ { next }
    { n = \$1; sub(/\\{.*/, \"\", n); b = n; sub(/_(bucket|sum|count)\$/, \"\", b)
      if (!(n in t) && !(b in t)) print n }" "$tmp/metrics")" ]'
# }======

# {====== Hosts: state, pid, restarts ======
get /v1/hosts "$AD"
check "GET /v1/hosts: 200" '[ "$code" = 200 ]' "HTTP $code"
check "/v1/hosts: ob:a up with a pid, no restarts, $N+ processes" \
  '[ "$(jq -c ".hosts[] | select(.id == \"ob:a\") | [.state, (.pid > 0), .restarts, (.processes >= $N)]" "$tmp/body")" = "[\"up\",true,0,true]" ]' \
  "$(head -c 300 "$tmp/body")"
check "/v1/hosts: ob:b down (never started), no pid" \
  '[ "$(jq -c ".hosts[] | select(.id == \"ob:b\") | [.state, .pid]" "$tmp/body")" = "[\"down\",0]" ]'
hpid=$(jq '.hosts[] | select(.id == "ob:a") | .pid' "$tmp/body")
kill -9 "$hpid"
for _ in $(seq 1 1200); do
  get /v1/hosts "$AD"
  [ "$(jq -r '.hosts[] | select(.id == "ob:a") | .state' "$tmp/body")" = up ] &&
    [ "$(jq '.hosts[] | select(.id == "ob:a") | .pid' "$tmp/body")" != "$hpid" ] &&
    break
  sleep 0.1
done
check "a killed host comes back: up, a new pid, restarts 1, no processes" \
  '[ "$(jq -c ".hosts[] | select(.id == \"ob:a\") | [.state, .pid != $hpid, .restarts, .processes]" "$tmp/body")" = "[\"up\",true,1,0]" ]' \
  "$(head -c 300 "$tmp/body")"
metrics
check "ward_host_restarts_total{ob:a} = 1" \
  '[ "$(metric "ward_host_restarts_total{host=\"ob:a\"}")" = 1 ]'
# }======

# {====== ward ctl ps | hosts | metrics ======
C="--connect unix:$SOCK"
"$WARD" ctl $C --token-file "$tmp/admin.tok" ps >"$tmp/o"; st=$?
check "ward ctl ps: exit 0, JSON with processes" \
  '[ $st = 0 ] && jq -e ".processes" "$tmp/o" >/dev/null'
"$WARD" ctl $C --token-file "$tmp/admin.tok" hosts >"$tmp/o"; st=$?
check "ward ctl hosts: exit 0, both hosts" \
  '[ $st = 0 ] && [ "$(jq -c "[.hosts[].id]" "$tmp/o")" = "[\"ob:a\",\"ob:b\"]" ]'
"$WARD" ctl $C --token-file "$tmp/admin.tok" metrics >"$tmp/o"; st=$?
check "ward ctl metrics: exit 0, Prometheus text" \
  '[ $st = 0 ] && grep -q "^# TYPE ward_spawns_total counter" "$tmp/o"'
"$WARD" ctl $C --token-file "$tmp/user.tok" ps >"$tmp/o" 2>&1; st=$?
check "ward ctl ps without ward.status: exit 1, the 403 error" \
  '[ $st = 1 ] && grep -q PermissionDenied "$tmp/o"'
"$WARD" ctl $C ps extra >/dev/null 2>&1; st=$?
check "ward ctl ps with an argument: exit 2" '[ $st = 2 ]'
# }======

# {====== ward top under tmux ======
post /v1/spawn/ob:hog '{"args": [50], "host": "ob:a"}'
hog=$(jq -r .pid "$tmp/body")
for _ in $(seq 1 1200); do # its loops are done when its mailbox is full
  get /v1/processes "$AD"
  [ "$(jq ".processes[] | select(.pid == \"$hog\") | .mailbox" "$tmp/body")" = 50 ] && break
  sleep 0.1
done
screen() { tmux -S "$TMUX_SOCK" capture-pane -p -t top; }
# wait_screen RE: until the screen shows RE (at most 10 s).
wait_screen() {
  for _ in $(seq 1 1200); do screen | grep -Eq -- "$1" && return 0; sleep 0.1; done
  return 1
}
tmux -S "$TMUX_SOCK" new-session -d -s top -x 160 -y 50 \
  "$WARD top --connect unix:$SOCK --token-file $tmp/admin.tok; echo top-exited \$?; sleep 30"
check "ward top shows the hosts" \
  'wait_screen "^ob:a +up +[0-9]+ +1 +1" && screen | grep -Eq "^ob:b +down"' \
  "$(screen | head -12)"
check "ward top: the busiest process by CPU is the hog" \
  'wait_screen "by cpu" && screen | grep -A2 "^PID" | sed -n 2p | grep -qF "$hog"' \
  "$(screen | tail -8)"
check "ward top shows spawns/s and denials/s (a number from the 2nd screen)" \
  'wait_screen "spawns/s: [0-9.]+ +denials/s: [0-9.]+"' "$(screen | head -3)"
tmux -S "$TMUX_SOCK" send-keys -t top b
check "ward top: b sorts by mailbox, the hog (50) first" \
  'wait_screen "by mailbox" && screen | grep -A2 "^PID" | sed -n 2p | grep -Eq "ob:hog .* 50$"' \
  "$(screen | tail -8)"
tmux -S "$TMUX_SOCK" send-keys -t top m
check "ward top: m sorts by memory" 'wait_screen "by memory"'
tmux -S "$TMUX_SOCK" send-keys -t top q
check "ward top: q quits (exit 0)" 'wait_screen "^top-exited 0"' "$(screen | tail -5)"
"$WARD" top --once --connect "unix:$SOCK" --token-file "$tmp/user.tok" >"$tmp/o"; st=$?
check "ward top without ward.status: says so, exit 1" \
  '[ $st = 1 ] && grep -q "permission denied (ward.status)" "$tmp/o"'
# }======

echo "$pass passed, $fail failed"
[ "$fail" = 0 ]
