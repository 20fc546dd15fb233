#!/usr/bin/env bash
# Changing a serving ward without a restart (issue 13): policy reloads
# (POST /v1/policies/reload, SIGHUP, ward ctl reload) and deploys
# (PUT /v1/apps/NS, ward ctl deploy), through a real socket with curl.
# One line per case, then "N passed, N failed".
# Usage: test_deploy.sh WARD
set -u
WARD=${1:?usage: test_deploy.sh WARD}
DIR=$(cd "$(dirname "$0")" && pwd)/deploy
TOKENS=$DIR/tokens.yaml
pass=0 fail=0
tmp=$(mktemp -d)
SERVER=
cleanup() {
  [ -n "$SERVER" ] && kill "$SERVER" 2>/dev/null && wait "$SERVER" 2>/dev/null
  rm -rf "$tmp"
}
trap cleanup EXIT
ok() { echo "ok     $1"; pass=$((pass+1)); }
bad() { echo "FAIL   $1"; fail=$((fail+1)); }

A='Authorization: Bearer admin:admin-secret-0123456789'
B='Authorization: Bearer bob:bob-secret-0123456789abc'
SOCK=$tmp/ward.sock
LOG=$tmp/audit.log
APP=$tmp/app
POL=$tmp/pol.yaml

# The app is copied: reloads read it again from disk, and tests change it.
cp -r "$DIR/app" "$APP"
cat >"$POL" <<'YAML'
namespace: pol
entries:
  - name: extra
    kind: security.policy
    policy: {actions: [process.exec], resources: [dp:other], effect: deny}
    groups: [extra]
YAML

start_server() {
  local i
  rm -f "$SOCK" "$LOG" "$LOG.pub"
  "$WARD" serve -v --audit all --audit-log "$LOG" --listen "unix:$SOCK" \
    --tokens "$TOKENS" --policy "$POL" --deploy-dir "$tmp/deploys" "$@" \
    "$APP" >"$tmp/out" 2>"$tmp/err" &
  SERVER=$!
  for i in $(seq 1 100); do
    curl -s -m 1 --unix-socket "$SOCK" http://x/healthz >/dev/null 2>&1 && return 0
    sleep 0.05
  done
  echo "server did not start: $(head -c 300 "$tmp/err")"
  return 1
}

# http NAME CODE BODY-RE CURL-ARGS...: one request, its status and body.
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
# The body of the last request matches RE (a second assertion on it).
body_has() {
  if grep -Eq -- "$2" "$tmp/body"; then ok "$1"
  else bad "$1: body does not match /$2/: $(head -c 400 "$tmp/body")"; fi
}
# The number of policy_load records in the audit log.
loads() { grep -c '"kind":"policy_load"' "$LOG"; }

start_server || { echo "$pass passed, $((fail+1)) failed"; exit 1; }

# {====== Policy reloads ======
http "before a reload bob may exec dp:hello" 200 '"result":"v1"' \
  -H "$B" -X POST http://x/v1/exec/dp:hello
http "before a reload bob may not exec dp:other" 403 'no policy matched' \
  -H "$B" -X POST http://x/v1/exec/dp:other
http "reload without ward.policy.reload is 403" 403 'permission denied: policies' \
  -H "$B" -X POST http://x/v1/policies/reload
old=$(grep -o '"digest":"[0-9a-f]*"' "$LOG" | head -1 | cut -d'"' -f4)
sed -i 's/resources: \[dp:hello\]/resources: [dp:hello, dp:other]/' "$APP/sv/_index.yaml"
n0=$(loads)
http "reload answers 200 with the new digest" 200 '^\{"digest":"[0-9a-f]{64}"\}$' \
  -H "$A" -X POST http://x/v1/policies/reload
new=$(grep -o '[0-9a-f]\{64\}' "$tmp/body")
if [ -n "$new" ] && [ "$new" != "$old" ]; then ok "a changed policy changes the digest"
else bad "digest $new, before $old"; fi
http "after the reload bob may exec dp:other (a new policy changed a decision)" \
  200 '"result":"v1"' -H "$B" -X POST http://x/v1/exec/dp:other
if [ "$(loads)" -eq $((n0 + 1)) ] &&
   tail -n 20 "$LOG" | grep '"kind":"policy_load"' | tail -1 |
     grep -q "\"old_digest\":\"$old\".*\"digest\":\"$new\""; then
  ok "the audit log has a policy_load record with the old and the new digest"
else bad "policy_load record: $(grep policy_load "$LOG" | tail -1)"; fi

# A broken set: two errors in two files, each named; nothing changes.
cp "$POL" "$tmp/pol.good"
cp "$APP/sv/_index.yaml" "$tmp/sv.good"
echo "  - {name: broken, kind: security.policy, policy: {actions: nope.x, resources: '*', effect: allow}}" >>"$POL"
sed -i 's/effect: allow}$/effect: maybe}/' "$APP/sv/_index.yaml"
n0=$(loads)
http "a broken policy set is 422" 422 'pol.yaml:7:[0-9]+: action .nope.x.' \
  -H "$A" -X POST http://x/v1/policies/reload
body_has "the 422 names every error as file:line:col" \
  '"errors":\[[^]]*sv/_index.yaml:[0-9]+:[0-9]+:[^]]*pol.yaml:7:[0-9]+'
if [ "$(loads)" -eq "$n0" ]; then ok "a failed reload writes no policy_load record"
else bad "a failed reload logged a policy_load"; fi
http "a failed reload changes nothing (bob still may exec dp:other)" 200 \
  '"result":"v1"' -H "$B" -X POST http://x/v1/exec/dp:other
cp "$tmp/pol.good" "$POL"
cp "$tmp/sv.good" "$APP/sv/_index.yaml"

# SIGHUP: the deny of pol:extra given to bob's scope by a changed group.
sed -i 's/groups: \[extra\]/groups: [sv:tenant-b]/' "$POL"
n0=$(loads)
kill -HUP "$SERVER"
for i in $(seq 1 50); do [ "$(loads)" -gt "$n0" ] && break; sleep 0.05; done
if grep -q 'SIGHUP: policies reloaded (digest [0-9a-f]\{64\})' "$tmp/err" &&
   grep '"kind":"policy_load"' "$LOG" | tail -1 | grep -q '"via":"signal"'; then
  ok "SIGHUP reloads the policies and logs it"
else bad "SIGHUP: $(tail -n 3 "$tmp/err")"; fi
http "after SIGHUP the --policy file's deny holds" 403 'dp:other' \
  -H "$B" -X POST http://x/v1/exec/dp:other
echo "  - {name: broken, kind: security.policy, policy: {actions: nope.x, resources: '*', effect: allow}}" >>"$POL"
kill -HUP "$SERVER"
for i in $(seq 1 50); do grep -q 'reload failed' "$tmp/err" && break; sleep 0.05; done
if grep -A1 'SIGHUP: reload failed, nothing changed' "$tmp/err" | grep -q 'pol.yaml:7:'; then
  ok "a SIGHUP with a broken set names the error and changes nothing"
else bad "SIGHUP broken: $(tail -n 3 "$tmp/err")"; fi
cp "$tmp/pol.good" "$POL"
if "$WARD" ctl --connect "unix:$SOCK" --token-file <(echo admin:admin-secret-0123456789) \
     reload >"$tmp/o" 2>&1 && grep -Eq '^\{"digest":"[0-9a-f]{64}"\}$' "$tmp/o"; then
  ok "ward ctl reload prints the digest"
else bad "ward ctl reload: $(head -c 300 "$tmp/o")"; fi
http "after ctl reload the deny is gone again" 200 '"result":"v1"' \
  -H "$B" -X POST http://x/v1/exec/dp:other
# }======

echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
