#!/usr/bin/env bash
# The front door under attack (issue 13 review): a tenant holding a valid
# token for one tenant, and an anonymous client, against ward serve.
# One line per case, then "N passed, N failed".
# Usage: test_attack.sh WARD
set -u
WARD=${1:?usage: test_attack.sh WARD}
DIR=$(cd "$(dirname "$0")" && pwd)
. "$(dirname "$0")/lib.sh"

A='Authorization: Bearer admin:admin-secret-0123456789'
B='Authorization: Bearer bob:bob-secret-0123456789abc'
SOCK=$tmp/ward.sock
LOG=$tmp/audit.log
APP=$tmp/app
cp -r "$DIR/deploy/app" "$APP"

start_server() {
  local i
  rm -f "$SOCK" "$LOG" "$LOG.pub"
  "$WARD" serve -v --audit all --audit-log "$LOG" --listen "unix:$SOCK" \
    --tokens "$DIR/deploy/tokens.yaml" --policy "$DIR/attack/pol.yaml" \
    --deploy-dir "$tmp/deploys" --read-timeout 1s --max-conns-per-token 4 "$@" \
    "$APP" >"$tmp/out" 2>"$tmp/err" &
  SERVER=$!
  await_healthz "$SOCK" && return 0
  echo "server did not start: $(head -c 300 "$tmp/err")"
  return 1
}
broker_alive() {
  if kill -0 "$SERVER" 2>/dev/null &&
     curl -s -m 3 --unix-socket "$SOCK" http://x/healthz | grep -q ok; then
    ok "$1"
  else bad "$1"; fi
}
http() {
  local name=$1 want=$2 re=$3; shift 3
  local got
  got=$(curl -s -m 20 -o "$tmp/body" -w '%{http_code}' --unix-socket "$SOCK" "$@")
  if [ "$got" != "$want" ]; then
    bad "$name: HTTP $got, want $want: $(head -c 400 "$tmp/body")"; return 1
  fi
  if [ -n "$re" ] && ! grep -Eq -- "$re" "$tmp/body"; then
    bad "$name: body does not match /$re/: $(head -c 400 "$tmp/body")"; return 1
  fi
  ok "$name"
}
# raw NAME RE: send stdin as raw bytes to the socket; the reply matches RE.
raw() {
  local name=$1 re=$2
  python3 - "$SOCK" >"$tmp/raw" 2>&1 <&0 <<'PY' &
import socket, sys, time
data = sys.stdin.buffer.read()
s = socket.socket(socket.AF_UNIX); s.settimeout(3); s.connect(sys.argv[1])
s.sendall(data)
out = b""
try:
    while True:
        b = s.recv(65536)
        if not b: break
        out += b
except Exception: pass
sys.stdout.write(out.decode("latin-1"))
PY
  wait $!
  if grep -Eq -- "$re" "$tmp/raw"; then ok "$name"
  else bad "$name: reply does not match /$re/: $(head -c 300 "$tmp/raw")"; fi
}

start_server || { echo "$pass passed, $((fail+1)) failed"; exit 1; }

# {====== A deploy reaches only its own namespace ======
http "bob may not reload the policies before" 403 'policies' \
  -H "$B" -X POST http://x/v1/policies/reload
(cd "$DIR/attack/escalate" && tar cf "$tmp/esc.tar" .)
http "a deploy's policy may not name another namespace's group (422)" 422 \
  'sv:tenant-b' -H "$B" -X PUT --data-binary @"$tmp/esc.tar" \
  http://x/v1/apps/bobns
http "after it bob still may not reload the policies" 403 'policies' \
  -H "$B" -X POST http://x/v1/policies/reload
http "after it bob still may not deploy namespace dp" 403 '' \
  -H "$B" -X PUT --data-binary @"$tmp/esc.tar" http://x/v1/apps/dp
(cd "$DIR/attack/escalate2" && tar cf "$tmp/esc2.tar" .)
http "a deploy's entry may not run with another namespace's group (422)" 422 \
  'sv:admin' -H "$B" -X PUT --data-binary @"$tmp/esc2.tar" \
  http://x/v1/apps/bobns
# }======

# {====== The connections per token (F7) ======
# Each connection's first request carries a throwaway bearer (401, kept
# alive), the second the real one: it must still count against it.
# --max-conns-per-token 4 (start_server below): the 5th and 6th are 429.
python3 - "$SOCK" "$A" >"$tmp/conns" 2>&1 <<'PY'
import socket, sys, time
path, auth = sys.argv[1], sys.argv[2].encode()
keep = []
for i in range(6):
    s = socket.socket(socket.AF_UNIX); s.settimeout(3); s.connect(path)
    s.sendall(b"GET /v1/processes HTTP/1.1\r\nAuthorization: Bearer junk%d:x\r\n\r\n" % i)
    time.sleep(0.1); s.recv(4096)
    s.sendall(b"POST /v1/exec/dp:slow HTTP/1.1\r\n" + auth +
              b"\r\nContent-Length: 0\r\n\r\n")
    keep.append(s)
time.sleep(0.3)
for s in keep:
    s.settimeout(0.2)
    try: print(s.recv(4096).split(b"\r\n")[0].decode())
    except Exception: print("waiting")
PY
n=$(grep -c ' 429 ' "$tmp/conns")
if [ "$n" -eq 2 ]; then ok "a bearer changed on a kept-alive connection still counts (2 of 6 are 429)"
else bad "a bearer changed on a kept-alive connection still counts: $n of 6 are 429: $(tr '\n' ' ' <"$tmp/conns")"; fi
# }======

broker_alive "the broker serves on"
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
