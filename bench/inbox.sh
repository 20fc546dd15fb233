#!/usr/bin/env bash
# Inbox stream delivery rate (issue 13; target >= 100,000 messages/s):
# a script on each of two hosts sends N messages to one inbox stream read
# by curl; prints messages/s from the first exec to the last message read.
# Figures are printed, never asserted. Usage: bench/inbox.sh [BUILD] [N]
set -u
B=${1:-build}; N=${2:-200000}
D=$(cd "$(dirname "$0")/.." && pwd)/tests/serve
tmp=$(mktemp -d); trap 'kill $SP $CP 2>/dev/null; wait 2>/dev/null; rm -rf $tmp' EXIT
A='Authorization: Bearer alice:alice-secret-0123456789'
"$B/ward" serve --listen "unix:$tmp/s" --tokens "$D/inbox_tokens.yaml" "$D/inbox_app" >/dev/null 2>&1 &
SP=$!
for i in $(seq 1 100); do curl -s --unix-socket "$tmp/s" http://x/healthz >/dev/null && break; sleep 0.05; done
curl -s -N --unix-socket "$tmp/s" -H "$A" http://x/v1/inbox >"$tmp/o" &
CP=$!
for i in $(seq 1 100); do grep -q pid "$tmp/o" && break; sleep 0.05; done
P=$(grep -o '{api|0x[0-9a-f]*}' "$tmp/o")
t0=$(date +%s.%N)
for h in ib:a ib:b; do
  curl -s -g --unix-socket "$tmp/s" -H "$A" -d "{\"args\":[\"$P\",$((N/2)),\"$h\"],\"host\":\"$h\"}" http://x/v1/exec/ib:sendn >"$tmp/r$h" &
done
wait %3 %4 2>/dev/null
while [ "$(grep -c '^event: message' "$tmp/o")" -lt "$N" ]; do
  sleep 0.01
  [ "$(echo "$(date +%s.%N) - $t0 > 60" | bc)" = 1 ] && break
done
t1=$(date +%s.%N)
got=$(grep -c '^event: message' "$tmp/o")
echo "inbox: $got of $N messages in $(echo "$t1 - $t0" | bc) s: $(echo "$got / ($t1 - $t0)" | bc) messages/s (target >= 100000)"
