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
C='Authorization: Bearer carol:carol-secret-0123456789abcd'
SOCK=$tmp/ward.sock
LOG=$tmp/audit.log
APP=$tmp/app
cp -r "$DIR/deploy/app" "$APP"
# Namespace bobns (bob deploys it; carol's token is in its group team) and
# an operator's host ops:h with a default actor and scope.
cp -r "$DIR/attack/app/." "$APP/"
# The shared host sv:a's ceiling admits bobns's group too.
sed -i 's/groups: \[sv:admin, sv:tenant-b\]/groups: [sv:admin, sv:tenant-b, bobns:team]/' \
  "$APP/sv/_index.yaml"

start_server() {
  local i
  rm -f "$SOCK" "$LOG" "$LOG.pub"
  "$WARD" serve -v --audit all --audit-log "$LOG" --listen "unix:$SOCK" \
    --tokens "$DIR/attack/tokens.yaml" --policy "$DIR/attack/pol.yaml" \
    --policy "$DIR/attack/pol-bobns.yaml" \
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

# {====== A deploy grants nothing outside its namespace ======
# Carol's token is in group bobns:team, which the operator made; bob
# deploys bobns. Whatever a deploy of bobns allows group team, carol gets:
# it may allow only resources of bobns, and its code may run only as
# actors of bobns.
# deploy_tree NAME: $tmp/dep/NAME.tar from the _index.yaml on stdin (with
# hello.lua beside it).
deploy_tree() {
  local d=$tmp/dep/$1
  mkdir -p "$d"
  cat >"$d/_index.yaml"
  echo 'return function() return "bobns hello, deployed" end' >"$d/hello.lua"
  (cd "$d" && tar cf "$tmp/dep/$1.tar" .)
}
# refused NAME TAR RE: the deploy is 422 naming RE, and nothing changed:
# no revision of bobns on disk, carol still may not exec dp:other, and
# bobns:hello is still the app directory's.
refused() {
  http "$1 (422)" 422 "$3" -H "$B" -X PUT --data-binary @"$tmp/dep/$2.tar" \
    http://x/v1/apps/bobns
  if ls "$tmp/deploys/bobns" 2>/dev/null | grep -Eq '^([0-9]+|current)$'; then
    bad "$1: nothing changed: revisions on disk: $(ls "$tmp/deploys/bobns" | tr '\n' ' ')"
  else ok "$1: nothing changed (no revision of bobns on disk)"; fi
  http "$1: after it carol still may not exec dp:other" 403 '' \
    -H "$C" -X POST http://x/v1/exec/dp:other
  http "$1: after it bobns:hello is still the app directory's" 200 \
    'the app directory' -H "$C" -X POST http://x/v1/exec/bobns:hello
}
http "carol may exec bobns:hello before any deploy" 200 'the app directory' \
  -H "$C" -X POST http://x/v1/exec/bobns:hello
http "carol may not exec dp:other before any deploy" 403 '' \
  -H "$C" -X POST http://x/v1/exec/dp:other
http "carol may exec dp:hello (the operator's --policy file of namespace bobns)" \
  200 '"result"' -H "$C" -X POST http://x/v1/exec/dp:hello
deploy_tree star <<'YAML'
namespace: bobns
entries:
  - name: star
    kind: security.policy
    policy: {actions: [process.exec], resources: "*", effect: allow}
    groups: [team]
YAML
refused "a deploy's policy may not allow resources \"*\"" star \
  "_index.yaml:[0-9]+:[0-9]+: bobns:star: resource '\\*' is not of namespace 'bobns'"
deploy_tree foreign <<'YAML'
namespace: bobns
entries:
  - name: theirs
    kind: security.policy
    policy: {actions: [process.exec], resources: [bobns:hello, dp:other], effect: allow}
    groups: [team]
YAML
refused "a deploy's policy may not allow another namespace's entry" foreign \
  "_index.yaml:[0-9]+:[0-9]+: bobns:theirs: resource 'dp:other' is not of namespace 'bobns'"
deploy_tree prefix <<'YAML'
namespace: bobns
entries:
  - name: prefix
    kind: security.policy
    policy: {actions: [process.exec], resources: ["bobns*"], effect: allow}
    groups: [team]
YAML
refused "a deploy's policy may not allow a prefix wider than 'bobns:' (bobns* also matches bobnsx:...)" \
  prefix "bobns:prefix: resource 'bobns\\*' is not of namespace 'bobns'"
deploy_tree secy <<'YAML'
namespace: bobns
entries:
  - name: secy
    kind: security.policy
    policy: {actions: [process.security, process.host], resources: [security, "{api|*", api], effect: allow}
    groups: [team]
YAML
refused "a deploy's policy may not allow process.security, inbox PIDs or host api" \
  secy "resource 'security' is not of namespace.*resource '\\{api\\|\\*' is not of.*resource 'api' is not of"
deploy_tree actor <<'YAML'
namespace: bobns
entries:
  - name: x
    kind: process.lua
    source: file://hello.lua
    host: sv:a
    security:
      actor: {id: admin}
      groups: [bobns:team]
YAML
refused "a deploy's entry may not run as another actor id (admin)" actor \
  "_index.yaml:[0-9]+:[0-9]+: bobns:x: actor 'admin' is not of namespace 'bobns'"
deploy_tree meta <<'YAML'
namespace: bobns
entries:
  - name: x
    kind: process.lua
    source: file://hello.lua
    host: sv:a
  - name: svc
    kind: process.service
    process: bobns:x
    host: sv:a
    lifecycle:
      security:
        actor: {id: bobns:svc, meta: {role: support}}
        groups: [bobns:team]
YAML
refused "a deploy's service may not give its actor meta" meta \
  "_index.yaml:[0-9]+:[0-9]+: bobns:svc: a deployed actor has no meta"
deploy_tree hostdef <<'YAML'
namespace: bobns
entries:
  - name: x
    kind: process.lua
    source: file://hello.lua
    host: ops:h
  - name: svc
    kind: process.service
    process: bobns:x
    host: ops:h
    lifecycle: {auto_start: true}
YAML
refused "a deploy's service may not run with the default of another namespace's host" \
  hostdef "_index.yaml:[0-9]+:[0-9]+: bobns:svc: .*ops:h"
deploy_tree ceiling <<'YAML'
namespace: bobns
entries:
  - name: x
    kind: process.lua
    source: file://hello.lua
    host: ops:h
  - name: svc
    kind: process.service
    process: bobns:x
    host: ops:h
    lifecycle:
      auto_start: true
      security:
        actor: {id: bobns:svc}
        groups: [bobns:team]
YAML
refused "a deploy's service may not run on a host outside its ceiling" \
  ceiling "_index.yaml:[0-9]+:[0-9]+: bobns:svc: it would run on host ops:h, and actor 'bobns:svc' is outside the host's ceiling"
deploy_tree noceiling <<'YAML'
namespace: bobns
entries:
  - name: x
    kind: process.lua
    source: file://hello.lua
    host: ops:open
  - name: svc
    kind: process.service
    process: bobns:x
    host: ops:open
    lifecycle:
      auto_start: true
      security:
        actor: {id: bobns:svc}
        groups: [bobns:team]
YAML
refused "a deploy's service may not start on another namespace's host that has no ceiling" \
  noceiling "_index.yaml:[0-9]+:[0-9]+: bobns:svc: it would run on host ops:open, which is not of namespace 'bobns' and has no security.ceiling"
deploy_tree own <<'YAML'
namespace: bobns
entries:
  - name: hello
    kind: process.lua
    source: file://hello.lua
    host: sv:a
  - name: hi
    kind: process.lua
    source: file://hello.lua
    host: sv:a
    security:
      actor: {id: bobns:runner}
      groups: [bobns:team]
  - name: me
    kind: process.lua
    source: file://hello.lua
    host: sv:a
    security:
      actor: {id: bobns}
      policies: [bobns:team-exec]
  - name: team-exec
    kind: security.policy
    policy:
      actions: [process.exec, process.spawn, process.send, process.registry.lookup]
      resources: ["bobns:*", "{bobns:*", bobns:hi]
      effect: allow
    groups: [team]
  - name: team-context
    kind: security.policy
    policy: {actions: [process.context], resources: [context], effect: allow}
    groups: [team]
  - name: team-redeploy
    kind: security.policy
    policy: {actions: [ward.deploy], resources: [bobns], effect: allow}
    groups: [team]
  - name: no-terminate
    kind: security.policy
    policy: {actions: [process.terminate], resources: "*", effect: deny}
    groups: [team]
YAML
http "a deploy within its namespace is 200 (resources bobns:*, {bobns:*, context, ward.deploy on bobns; actors bobns, bobns:runner; a deny on *)" \
  200 '"revision":"1"' -H "$B" -X PUT --data-binary @"$tmp/dep/own.tar" \
  http://x/v1/apps/bobns
http "the deployed grant works: carol may exec bobns:hi" 200 'deployed' \
  -H "$C" -X POST http://x/v1/exec/bobns:hi
http "after it carol still may not exec dp:other" 403 '' \
  -H "$C" -X POST http://x/v1/exec/dp:other
http "after it the operator's --policy file of namespace bobns still grants dp:hello" \
  200 '"result"' -H "$C" -X POST http://x/v1/exec/dp:hello
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
