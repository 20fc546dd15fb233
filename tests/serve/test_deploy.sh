#!/usr/bin/env bash
# Changing a serving ward without a restart (issue 13): policy reloads
# (POST /v1/policies/reload, SIGHUP, ward ctl reload) and deploys
# (PUT /v1/apps/NS, ward ctl deploy), through a real socket with curl.
# One line per case, then "N passed, N failed".
# Usage: test_deploy.sh WARD
set -u
WARD=${1:?usage: test_deploy.sh WARD}
DIR=$(cd "$(dirname "$0")" && pwd)/deploy
. "$(dirname "$0")/lib.sh"
TOKENS=$DIR/tokens.yaml

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
  await_healthz "$SOCK" && return 0
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
for i in $(seq 1 1200); do [ "$(loads)" -gt "$n0" ] && break; sleep 0.05; done
if grep -q 'SIGHUP: policies reloaded (digest [0-9a-f]\{64\})' "$tmp/err" &&
   grep '"kind":"policy_load"' "$LOG" | tail -1 | grep -q '"via":"signal"'; then
  ok "SIGHUP reloads the policies and logs it"
else bad "SIGHUP: $(tail -n 3 "$tmp/err")"; fi
http "after SIGHUP the --policy file's deny holds" 403 'dp:other' \
  -H "$B" -X POST http://x/v1/exec/dp:other
echo "  - {name: broken, kind: security.policy, policy: {actions: nope.x, resources: '*', effect: allow}}" >>"$POL"
kill -HUP "$SERVER"
for i in $(seq 1 1200); do grep -q 'reload failed' "$tmp/err" && break; sleep 0.05; done
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

# {====== Deploys ======
CTL=("$WARD" ctl --connect "unix:$SOCK" --token-file "$tmp/admin.tok")
echo admin:admin-secret-0123456789 >"$tmp/admin.tok"
http "before a deploy dp:hello is revision 1 of the app directory" 200 \
  '"result":"v1"' -H "$A" -X POST http://x/v1/exec/dp:hello
# A process that runs across the deploy keeps its code.
curl -s -m 20 --unix-socket "$SOCK" -H "$A" -X POST http://x/v1/exec/dp:slow \
  >"$tmp/slow1" &
SLOW=$!
sleep 0.5
(cd "$DIR/v2" && tar cf "$tmp/v2.tar" .)
http "a deploy without ward.deploy is 403" 403 'permission denied: dp' \
  -H "$B" -X PUT --data-binary @"$tmp/v2.tar" http://x/v1/apps/dp
if "${CTL[@]}" deploy dp "$DIR/v2" >"$tmp/o" 2>&1 &&
   grep -Eq '^\{"namespace":"dp","revision":"1"\}$' "$tmp/o"; then
  ok "ward ctl deploy answers the namespace and the revision"
else bad "ward ctl deploy: $(head -c 300 "$tmp/o")"; fi
if [ -f "$tmp/deploys/dp/1/_index.yaml" ] && [ -f "$tmp/deploys/dp/1/lib/hello.lua" ]; then
  ok "the revision is kept under --deploy-dir (DIR/dp/1), not in the app directory"
else bad "no revision under $tmp/deploys/dp/1"; fi
for i in $(seq 1 1200); do grep -q 'ticker v2' "$tmp/out" && break; sleep 0.05; done
if grep -q 'ticker v1' "$tmp/out" && grep -q 'ticker v2' "$tmp/out" &&
   grep -q 'service dp:ticker restarts with its new revision' "$tmp/err"; then
  ok "the namespace's service restarts with the new code"
else bad "service restart: out: $(tr '\n' ' ' <"$tmp/out") err: $(grep ticker "$tmp/err")"; fi
http "after the deploy exec runs the new code" 200 '"result":"v2"' \
  -H "$A" -X POST http://x/v1/exec/dp:hello
http "an entry new in the revision runs" 200 '"result":"v2"' \
  -H "$A" -X POST http://x/v1/exec/dp:fresh
http "an entry the revision dropped is gone" 404 'dp:other' \
  -H "$A" -X POST http://x/v1/exec/dp:other
wait "$SLOW"
if grep -q '"result":"slow-v1"' "$tmp/slow1"; then
  ok "a process running across the deploy keeps its code"
else bad "running process: $(cat "$tmp/slow1")"; fi
http "a new process of that entry gets the new code" 200 '"result":"slow-v2"' \
  -H "$A" -X POST -d '{"args":["1ms"]}' http://x/v1/exec/dp:slow

# Deploys that fail half-way: nothing changes, every error is named.
mk_bad() { rm -rf "$tmp/bad"; cp -r "$DIR/v2" "$tmp/bad"; }
no_change() {
  http "$1: nothing changed (exec still runs revision 1)" 200 '"result":"v2"' \
    -H "$A" -X POST http://x/v1/exec/dp:hello
  if [ "$(ls "$tmp/deploys/dp" | tr '\n' ' ')" = "1 current " ] &&
     [ "$(cat "$tmp/deploys/dp/current")" = 1 ]; then
    ok "$1: no revision left on disk (current is still 1)"
  else bad "$1: revisions on disk: $(ls "$tmp/deploys/dp" | tr '\n' ' ')"; fi
}
mk_bad
echo 'return { main = function() return "v3" end' >"$tmp/bad/lib/hello.lua"
echo 'local x = = 1' >"$tmp/bad/slow.lua"
(cd "$tmp/bad" && tar cf "$tmp/bad.tar" .)
http "a syntax error in two sources is 422" 422 '"kind":"Invalid"' \
  -H "$A" -X PUT --data-binary @"$tmp/bad.tar" http://x/v1/apps/dp
body_has "the 422 names both sources with their lines" \
  '"errors":\[[^]]*lib/hello.lua:[0-9]+:[^]]*slow.lua:1:'
no_change "syntax errors"
mk_bad
sed -i 's/^  - name: fresh$/  - name: fresh\n    colour: blue/' "$tmp/bad/_index.yaml"
(cd "$tmp/bad" && tar cf "$tmp/bad.tar" .)
http "a manifest error is 422 naming _index.yaml:line:col" 422 \
  '_index.yaml:[0-9]+:[0-9]+: .*colour' \
  -H "$A" -X PUT --data-binary @"$tmp/bad.tar" http://x/v1/apps/dp
no_change "a manifest error"
mk_bad
printf '  - name: p\n    kind: security.policy\n    policy: {actions: nope.x, resources: "*", effect: allow}\n' >>"$tmp/bad/_index.yaml"
echo 'local x = = 1' >"$tmp/bad/slow.lua"
(cd "$tmp/bad" && tar cf "$tmp/bad.tar" .)
http "a bad policy and a syntax error: 422 naming both" 422 \
  '_index.yaml:[0-9]+:[0-9]+: action .nope.x.' \
  -H "$A" -X PUT --data-binary @"$tmp/bad.tar" http://x/v1/apps/dp
body_has "... and the source" 'slow.lua:1:'
no_change "a bad policy"
mk_bad
printf 'namespace: other\nentries:\n  - {name: x, kind: process.lua, source: "file://slow.lua", host: "sv:a", modules: [time]}\n' >"$tmp/bad/_index.yaml"
(cd "$tmp/bad" && tar cf "$tmp/bad.tar" .)
http "a revision of another namespace is 422" 422 "namespace 'other' in a deploy of 'dp'" \
  -H "$A" -X PUT --data-binary @"$tmp/bad.tar" http://x/v1/apps/dp

# Archives the gateway refuses before the broker sees them.
python3 - "$tmp" <<'PY'
import io, sys, tarfile
d = sys.argv[1]
def mk(name, members):
    with tarfile.open(f"{d}/{name}.tar", "w", format=tarfile.GNU_FORMAT) as t:
        for info, data in members:
            t.addfile(info, io.BytesIO(data) if data is not None else None)
def f(path, data=b"x"):
    i = tarfile.TarInfo(path); i.size = len(data); return (i, data)
idx = open(f"{d}/app/dp/_index.yaml", "rb").read()
mk("dotdot", [f("_index.yaml", idx), f("../escape.lua")])
mk("abs", [f("_index.yaml", idx), f("/tmp/abs.lua")])
l = tarfile.TarInfo("hello.lua"); l.type = tarfile.SYMTYPE; l.linkname = "/etc/passwd"
mk("symlink", [f("_index.yaml", idx), (l, None)])
h = tarfile.TarInfo("hard.lua"); h.type = tarfile.LNKTYPE; h.linkname = "_index.yaml"
mk("hardlink", [f("_index.yaml", idx), (h, None)])
mk("many", [f("_index.yaml", idx)] + [f(f"f{i}.lua") for i in range(300)])
mk("big", [f("_index.yaml", idx), f("big.lua", b"-" * (2 << 20))])
PY
http "a tar with '..' is 400" 400 'bad path' \
  -H "$A" -X PUT --data-binary @"$tmp/dotdot.tar" http://x/v1/apps/dp
http "a tar with an absolute path is 400" 400 'bad path' \
  -H "$A" -X PUT --data-binary @"$tmp/abs.tar" http://x/v1/apps/dp
http "a tar with a symlink is 400" 400 'links are refused' \
  -H "$A" -X PUT --data-binary @"$tmp/symlink.tar" http://x/v1/apps/dp
http "a tar with a hard link is 400" 400 'links are refused' \
  -H "$A" -X PUT --data-binary @"$tmp/hardlink.tar" http://x/v1/apps/dp
http "a tar with too many entries is 413" 413 'too many entries' \
  -H "$A" -X PUT --data-binary @"$tmp/many.tar" http://x/v1/apps/dp
http "an oversized tar is 413" 413 'too large' \
  -H "$A" -X PUT --data-binary @"$tmp/big.tar" http://x/v1/apps/dp
http "not a tar is 400" 400 'not a tar archive|malformed|Invalid' \
  -H "$A" -X PUT --data-binary 'hello' http://x/v1/apps/dp
no_change "refused archives"

# The deployed namespace is read from its revision by a reload, too.
http "a reload after a deploy keeps the deployed revision" 200 '"digest"' \
  -H "$A" -X POST http://x/v1/policies/reload
http "... and exec still runs it" 200 '"result":"v2"' \
  -H "$A" -X POST http://x/v1/exec/dp:fresh
if grep '"kind":"policy_load"' "$LOG" | grep -q '"via":"deploy"'; then
  ok "a deploy logs its policy set (policy_load, via deploy)"
else bad "no policy_load record of the deploy"; fi

# Many deploys: the broker keeps on disk the current revision and at most
# two before it, and in memory only what it may still ship (the current
# revision; an earlier one only while a service started from it runs).
# Each revision carries a source of about 600 KB, so that revisions held
# for ever show in the broker's memory.
rm -rf "$tmp/big"
cp -r "$DIR/v2" "$tmp/big"
python3 - "$tmp/big/pad.lua" <<'PY'
import sys
with open(sys.argv[1], "w") as f:
    for i in range(9000):
        f.write("-- padding line %05d %s\n" % (i, "x" * 50))
    f.write('return { main = function() return "pad" end }\n')
PY
printf '  - name: pad\n    kind: process.lua\n    source: file://pad.lua\n    host: sv:a\n' \
  >>"$tmp/big/_index.yaml"
(cd "$tmp/big" && tar cf "$tmp/big.tar" .)
revs() { find "$tmp/deploys/dp" -mindepth 1 -maxdepth 1 -type d | wc -l; }
rss() { awk '/^VmRSS:/ {print $2}' "/proc/$SERVER/status"; }
held() {
  curl -s -m 20 --unix-socket "$SOCK" -H "$A" http://x/metrics |
    sed -n 's/^ward_deploy_revisions_held \([0-9]*\)$/\1/p'
}
nok=0 maxrevs=0 rss5=
for i in $(seq 1 40); do
  code=$(curl -s -m 60 -o "$tmp/body" -w '%{http_code}' --unix-socket "$SOCK" \
    -H "$A" -X PUT --data-binary @"$tmp/big.tar" http://x/v1/apps/dp)
  [ "$code" = 200 ] && nok=$((nok + 1))
  n=$(revs)
  [ "$n" -gt "$maxrevs" ] && maxrevs=$n
  [ "$i" = 5 ] && rss5=$(rss)
done
rss40=$(rss)
if [ "$nok" = 40 ]; then ok "40 deploys in a row are each 200"
else bad "only $nok of 40 deploys answered 200: $(head -c 300 "$tmp/body")"; fi
last=$(grep -o '"revision":"[0-9]*"' "$tmp/body" | cut -d'"' -f4)
if [ "$maxrevs" -le 3 ] && [ -f "$tmp/deploys/dp/$last/pad.lua" ]; then
  ok "after each of 40 deploys at most 3 revisions of dp on disk (the current, $last, kept)"
else
  bad "revisions on disk: at most $maxrevs, now: $(ls "$tmp/deploys/dp" | tr '\n' ' ')"
fi
h=$(held)
if [ "${h:-x}" = 1 ]; then ok "after 40 deploys the broker holds 1 revision in memory"
else bad "ward_deploy_revisions_held is '${h:-absent}', want 1"; fi
http "the last revision runs" 200 '"result":"pad"' \
  -H "$A" -X POST http://x/v1/exec/dp:pad
# The broker's memory: 35 more revisions of 600 KB each held would add
# 20 MB or more; allow 12 MB for the allocator. An ASan build keeps what
# is freed in quarantine, so there the count above is the check.
if grep -qa __asan_init "$WARD"; then
  echo "note   broker RSS after 5 deploys ${rss5} kB, after 40 ${rss40} kB (ASan build: not judged)"
elif [ -n "$rss5" ] && [ -n "$rss40" ] && [ "$rss40" -lt $((rss5 + 12288)) ]; then
  ok "broker RSS after 40 deploys ${rss40} kB, after 5 ${rss5} kB (< +12 MB)"
else
  bad "broker RSS grew from ${rss5:-?} kB after 5 deploys to ${rss40:-?} kB after 40"
fi
kill "$SERVER" 2>/dev/null
wait "$SERVER" 2>/dev/null
SERVER=
if grep -q Sanitizer "$tmp/err"; then
  bad "a sanitizer report: $(grep -m1 -A3 Sanitizer "$tmp/err")"
else ok "ward ended with no sanitizer report (40 deploys)"; fi
if "$WARD" audit verify "$LOG" --key "$LOG.pub" >"$tmp/o" 2>&1; then
  ok "the audit log with its reloads and deploys verifies"
else bad "audit verify failed: $(head -c 300 "$tmp/o")"; fi
# }======

# {====== A restart on the same --deploy-dir ======
# ward serve comes up with each namespace's last deployed revision,
# checked whole as a deploy is; one that does not load is named on
# stderr and the app's own files serve that namespace.
start_server || { echo "$pass passed, $((fail+1)) failed"; exit 1; }
if grep -q "^ward: restored dp revision $last " "$tmp/err"; then
  ok "a restarted ward says it restored dp revision $last"
else bad "restart: no 'restored dp revision $last': $(head -c 400 "$tmp/err")"; fi
http "after a restart exec runs the last deployed revision" 200 '"result":"pad"' \
  -H "$A" -X POST http://x/v1/exec/dp:pad
http "... and its hello is v2, not the app directory's v1" 200 '"result":"v2"' \
  -H "$A" -X POST http://x/v1/exec/dp:hello
for i in $(seq 1 1200); do grep -q 'ticker v2' "$tmp/out" && break; sleep 0.05; done
if grep -q 'ticker v2' "$tmp/out" && ! grep -q 'ticker v1' "$tmp/out"; then
  ok "after a restart the service runs the restored revision's code"
else bad "restart service: out: $(tr '\n' ' ' <"$tmp/out" | head -c 300)"; fi
if "${CTL[@]}" deploy dp "$DIR/v2" >"$tmp/o" 2>&1 &&
   grep -Eq "^\{\"namespace\":\"dp\",\"revision\":\"$((last + 1))\"\}$" "$tmp/o"; then
  ok "the first deploy after a restart is revision $((last + 1))"
else bad "deploy after restart: $(head -c 300 "$tmp/o")"; fi
kill "$SERVER" 2>/dev/null
wait "$SERVER" 2>/dev/null
SERVER=
if grep -q Sanitizer "$tmp/err"; then
  bad "a sanitizer report: $(grep -m1 -A3 Sanitizer "$tmp/err")"
else ok "ward ended with no sanitizer report"; fi
cur=$((last + 1))
echo 'return { main = function() return "broken" end' >"$tmp/deploys/dp/$cur/lib/hello.lua"
start_server || { echo "$pass passed, $((fail+1)) failed"; exit 1; }
if grep -q "^ward: dp: cannot restore revision $cur " "$tmp/err" &&
   grep -q "lib/hello.lua:[0-9]*:" "$tmp/err" &&
   grep -q "serving the app's own files for dp" "$tmp/err"; then
  ok "a revision that no longer loads is named with its error at start"
else bad "broken restore: $(head -c 600 "$tmp/err")"; fi
http "... and the app's own files serve dp" 200 '"result":"v1"' \
  -H "$A" -X POST http://x/v1/exec/dp:hello
http "... (an entry only the revisions had is gone)" 404 'dp:fresh' \
  -H "$A" -X POST http://x/v1/exec/dp:fresh
if [ -d "$tmp/deploys/dp/$cur" ]; then ok "... and the revision is left on disk to look at"
else bad "the broken revision $cur was removed"; fi
kill "$SERVER" 2>/dev/null
wait "$SERVER" 2>/dev/null
SERVER=
if grep -q Sanitizer "$tmp/err"; then
  bad "a sanitizer report: $(grep -m1 -A3 Sanitizer "$tmp/err")"
else ok "ward ended with no sanitizer report"; fi
# }======

echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
