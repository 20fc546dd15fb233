#!/usr/bin/env bash
# Metric label caps (issue 13): /metrics stays bounded however many
# tenants call. 150 tokens, each its own tenant (actor id), exec ob:talk
# once on host ob:a. A host keeps counters for at most WD_STATUS_TENANTS
# (64) tenants, the first row "_other" (wd_proto.h, runtime/hstat.c); the
# broker keeps at most 256 (host, tenant) cells, the first "_other"
# (broker_gw_status.c). The test checks that the tenant labels of each
# series stay within the caps, that the excess folds into "_other", and
# that nothing is lost: every series sums to what the test did.
# One line per case, then "N passed, N failed".
# Usage: test_caps.sh WARD
set -u
WARD=${1:?usage: test_caps.sh WARD}
DIR=$(cd "$(dirname "$0")" && pwd)
. "$(dirname "$0")/lib.sh"
APP=$DIR/obsapp
N=150
SOCK=$tmp/ward.sock
AD='Authorization: Bearer admin:admin-secret-0123456789abcdef'

{
  echo "tokens:"
  echo "  - id: admin"
  echo "    secret_hash: $("$WARD" token hash admin-secret-0123456789abcdef)"
  echo "    actor: {id: ops}"
  echo "    groups: [ob:admin]"
  for i in $(seq -w 1 $N); do
    echo "  - id: t$i"
    echo "    secret_hash: $("$WARD" token hash "secret-t$i-0123456789abcdef")"
    echo "    actor: {id: tenant$i}"
    echo "    groups: [ob:user]"
  done
} >"$tmp/tokens.yaml"

"$WARD" serve --listen "unix:$SOCK" --tokens "$tmp/tokens.yaml" "$APP" \
  >"$tmp/out" 2>"$tmp/err" &
SERVER=$!
await_healthz "$SOCK"

nok=0
for i in $(seq -w 1 $N); do
  code=$(curl -s -m 30 --unix-socket "$SOCK" -o "$tmp/body" -w '%{http_code}' \
    -H "Authorization: Bearer t$i:secret-t$i-0123456789abcdef" \
    -d '{"args": [1], "host": "ob:a"}' http://x/v1/exec/ob:talk)
  [ "$code" = 200 ] && nok=$((nok + 1))
done
check "$N tenants each exec ob:talk once" '[ "$nok" = $N ]' \
  "$nok of $N answered 200; last: $(head -c 200 "$tmp/body")"
code=$(curl -s -m 30 --unix-socket "$SOCK" -o "$tmp/metrics" -w '%{http_code}' \
  -H "$AD" http://x/metrics)
check "GET /metrics: 200" '[ "$code" = 200 ]' "HTTP $code"

# tenants METRIC [HOST]: the distinct tenant labels of METRIC's samples.
tenants() {
  grep "^$1{" "$tmp/metrics" | grep -F "${2:+host=\"$2\"}" |
    grep -o 'tenant="[^"]*"' | sort -u | wc -l
}
# sum METRIC FILTER: the sum of METRIC's samples whose line holds FILTER.
sum() {
  grep "^$1{" "$tmp/metrics" | grep -F "$2" | awk '{ s += $NF } END { print s + 0 }'
}
# value METRIC-AND-LABELS: one sample's value (0 when absent).
value() {
  awk -v k="$1" 'index($0, k " ") == 1 { v = $NF } END { print v + 0 }' "$tmp/metrics"
}

# A host's series: at most 64 tenants, the rest in "_other", none lost.
t=$(tenants ward_spawns_total ob:a)
check "ward_spawns_total{host=ob:a}: $t tenant labels, at most 64" '[ "$t" -le 64 ]'
check "... the tenants past the cap count in \"_other\"" \
  '[ "$(value "ward_spawns_total{host=\"ob:a\",tenant=\"_other\"}")" -gt 0 ]'
check "... and every spawn is counted (the sum is $N)" \
  '[ "$(sum ward_spawns_total "host=\"ob:a\"")" = $N ]' \
  "sum $(sum ward_spawns_total "host=\"ob:a\"")"
check "ward_messages_out_total{host=ob:a}: at most 64 tenants, sum $N" \
  '[ "$(tenants ward_messages_out_total ob:a)" -le 64 ] &&
   [ "$(sum ward_messages_out_total "host=\"ob:a\"")" = $N ]'
# The broker's cells: at most 256 in all, the rest in "_other", none lost.
t=$(grep -c '^ward_broker_decisions_total{.*result="allow"}' "$tmp/metrics")
check "ward_broker_decisions_total: $t (host, tenant) cells, at most 256" '[ "$t" -le 256 ]'
check "... and every allowed exec is counted (at least $N allows)" \
  '[ "$(sum ward_broker_decisions_total "result=\"allow\"")" -ge $N ]'
t=$(tenants ward_gateway_requests_total)
check "ward_gateway_requests_total: $t tenant labels, at most 256" '[ "$t" -le 256 ]'
check "... the tenants past the cap count in \"_other\"" \
  '[ "$(value "ward_gateway_requests_total{tenant=\"_other\",code=\"200\"}")" -gt 0 ]' \
  "$(grep 'ward_gateway_requests_total{tenant="_other"' "$tmp/metrics")"
# (Tenant "" holds the gateway's own answers: the /healthz polls.)
g200=$(grep -v 'tenant=""' "$tmp/metrics" >"$tmp/m2"; grep '^ward_gateway_requests_total{.*code="200"}' "$tmp/m2" |
  awk '{ s += $NF } END { print s + 0 }')
check "... and every exec's 200 is counted (the tenants' sum is $N)" \
  '[ "$g200" = $N ]' "sum $g200"
t=$(grep "^ward_exec_duration_seconds_count{" "$tmp/metrics" | wc -l)
check "ward_exec_duration_seconds: $t series, at most 256" '[ "$t" -le 256 ]'
check "... and every exec is in it (the counts sum to $N)" \
  '[ "$(sum ward_exec_duration_seconds_count "")" = $N ]' \
  "sum $(sum ward_exec_duration_seconds_count "")"
lines=$(wc -l <"$tmp/metrics")
check "/metrics is bounded: $lines lines for $N tenants (at most 64 + 256 label sets a series)" \
  '[ "$lines" -lt 5000 ]'

kill "$SERVER" 2>/dev/null
wait "$SERVER" 2>/dev/null
SERVER=
check "ward ended with no sanitizer report" '! grep -q Sanitizer "$tmp/err"' \
  "$(grep -m1 -A3 Sanitizer "$tmp/err")"

echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
