#!/usr/bin/env bash
# Command-line behaviour of ward: output streams, exit statuses, messages.
# Usage: test_cli.sh WARD   (prints one line per case, then "N passed, N failed")
set -u
WARD=${1:?usage: test_cli.sh WARD}
DIR=$(cd "$(dirname "$0")" && pwd)
pass=0 fail=0
out=$(mktemp) err=$(mktemp)
trap 'rm -f "$out" "$err"' EXIT

# expect NAME STATUS STDOUT_REGEX STDERR_REGEX -- CMD...
expect() {
  local name=$1 want=$2 ore=$3 ere=$4; shift 5
  "$@" >"$out" 2>"$err"
  local got=$?
  if [ "$got" -ne "$want" ]; then
    echo "FAIL   $name: exit $got, want $want; stderr: $(head -c 300 "$err")"; fail=$((fail+1)); return
  fi
  if [ -n "$ore" ] && ! grep -Eq -- "$ore" "$out"; then
    echo "FAIL   $name: stdout does not match /$ore/: $(head -c 300 "$out")"; fail=$((fail+1)); return
  fi
  if [ -n "$ere" ] && ! grep -Eq -- "$ere" "$err"; then
    echo "FAIL   $name: stderr does not match /$ere/: $(head -c 300 "$err")"; fail=$((fail+1)); return
  fi
  echo "ok     $name"; pass=$((pass+1))
}

expect "version" 0 '^ward [0-9]+\.[0-9]+' '' -- "$WARD" --version
expect "help lists commands" 0 'run APPDIR ENTRY' '' -- "$WARD" --help
expect "run --help names options" 0 '--host HOST' '' -- "$WARD" run --help
expect "test --help names options" 0 '--junit FILE' '' -- "$WARD" test --help
expect "no command is usage error" 2 '' 'usage: ward' -- "$WARD"
expect "unknown command" 2 '' "unknown command 'frobnicate'" -- "$WARD" frobnicate
expect "unknown option" 2 '' "unknown option '--nope'" -- "$WARD" run --nope "$DIR/app" cli:hello
expect "missing entry arg" 2 '' 'APPDIR and ENTRY are required' -- "$WARD" run "$DIR/app"
expect "print reaches stdout, result printed" 0 '^printed	a	b$' '' -- "$WARD" run "$DIR/app" cli:hello a b
expect "result value rendered" 0 '^\{args = 2, first = "a"\}$' '' -- "$WARD" run "$DIR/app" cli:hello a b
expect "no diagnostics on stdout" 0 '' '' -- "$WARD" run "$DIR/app" cli:hello
if grep -q "ward:" "$out"; then echo "FAIL   stdout clean"; fail=$((fail+1)); else echo "ok     stdout clean"; pass=$((pass+1)); fi
expect "error() exits 1 with message" 1 '' 'cli:fails failed: .*fails.lua:5: exploded' -- "$WARD" run "$DIR/app" cli:fails
expect "returned false exits 1" 1 '' 'returned false' -- "$WARD" run "$DIR/app" cli:fails false
expect "nil, msg exits 1" 1 '' 'went wrong' -- "$WARD" run "$DIR/app" cli:fails nilerr
expect "nil, error object exits 1" 1 '' 'typed' -- "$WARD" run "$DIR/app" cli:fails errobj
expect "unknown entry is exit 2" 2 '' 'cli:nope: no process.lua entry' -- "$WARD" run "$DIR/app" cli:nope
expect "unknown host is exit 2" 2 '' 'host not found: cli:zz' -- "$WARD" run --host cli:zz "$DIR/app" cli:hello
expect "manifest error names file:line:col" 2 '' 'badapp/_index.yaml:7:5: .*unknown key .sorce.' -- "$WARD" run "$DIR/badapp" bad:x
expect "missing app dir" 2 '' 'nowhere' -- "$WARD" run "$DIR/nowhere" a:b
expect "actor and scope from the manifest" 0 '^from-manifest cli:g$' '' -- "$WARD" run "$DIR/app" cli:whoami
expect "--actor/--scope override" 0 '^alice cli:g,cli:trusted$' '' -- "$WARD" run --actor alice --scope cli:g --scope cli:trusted "$DIR/app" cli:whoami
# --actor/--scope are ENTRY's only: the auto-started service keeps its own
# actor and scope, so it can still register its name (the caller's scope
# does not allow that) and answer.
expect "--actor/--scope leave services alone" 0 '^alice sv:caller / svc-actor sv:svc$' '' -- "$WARD" run --shutdown-timeout 200ms --actor alice --scope sv:caller "$DIR/svcapp" sv:caller
# ps shows which host is which; no host outlives ward.
"$WARD" run --host t:a --shutdown-timeout 200ms "$DIR/../lua" t:sleeper 1s >/dev/null 2>&1 &
bg=$!
sleep 0.5
kids=$(pgrep -P "$bg" || true)
if [ -n "$kids" ] && ps -o args= -p $kids | grep -q "^ward host t:a"; then
  echo "ok     host command line names the host"; pass=$((pass+1))
else
  echo "FAIL   host command line names the host: $(ps -o pid=,args= -p ${kids:-0})"; fail=$((fail+1))
fi
wait $bg
left=""
for k in $kids; do kill -0 "$k" 2>/dev/null && left="$left $k"; done
if [ -n "$left" ]; then
  echo "FAIL   no host left after exit:$left"; fail=$((fail+1))
else
  echo "ok     no host left after exit"; pass=$((pass+1))
fi
# Audit log: denials are logged, the log verifies, tampering is caught.
ad=$(mktemp -d)
expect "denied call reported" 0 '^PermissionDenied: permission denied: process.spawn on cli:hello' '' -- "$WARD" run --shutdown-timeout 200ms --audit deny --audit-log "$ad/log" "$DIR/app" cli:audited
if grep -q '"action":"process.spawn"' "$ad/log" && grep -q '"effect":"deny"' "$ad/log"; then
  echo "ok     denial in the audit log"; pass=$((pass+1))
else
  echo "FAIL   denial in the audit log: $(head -c 400 "$ad/log")"; fail=$((fail+1))
fi
expect "audit log verifies" 0 '' '' -- "$WARD" audit verify "$ad/log"
line=$(grep -n '"action":"process.spawn"' "$ad/log" | head -1 | cut -d: -f1)
sed -i "${line}s/process.spawn/process.spaWn/" "$ad/log"
expect "tampered audit log fails" 1 "line $line" '' -- "$WARD" audit verify "$ad/log"
expect "audit all logs allows" 0 'all sent' '' -- "$WARD" run --shutdown-timeout 200ms --audit all --audit-log "$ad/log2" "$DIR/app" cli:loud 20
if grep -q '"effect":"allow"' "$ad/log2"; then echo "ok     allows in the audit log"; pass=$((pass+1)); else echo "FAIL   allows in the audit log"; fail=$((fail+1)); fi
expect "audit needs a log" 2 '' 'needs --audit-log' -- "$WARD" run --audit deny "$DIR/app" cli:hello
# Fail closed: once the log cannot be written, broker decisions are
# refused with Unavailable (here a file size limit stops the writes).
expect "fail closed when the log cannot be written" 0 '^Unavailable after' '' -- bash -c "ulimit -f 16; exec \"\$0\" run --shutdown-timeout 200ms --audit all --audit-log '$ad/log3' '$DIR/app' cli:loud 5000" "$WARD"
# The same for decisions a host makes alone (sends within one host): no
# effect before the broker has logged the decision.
expect "fail closed for decisions made in a host" 0 '^Unavailable after' '' -- bash -c "ulimit -f 16; exec \"\$0\" run --shutdown-timeout 200ms --audit all --audit-log '$ad/log4' '$DIR/app' cli:loud 5000 cli:h" "$WARD"
expect "denials in a host fail closed too" 0 '^Unavailable after' '' -- bash -c "ulimit -f 8; exec \"\$0\" run --shutdown-timeout 200ms --audit deny --audit-log '$ad/log5' '$DIR/app' cli:denier 5000" "$WARD"
expect "every denial logged" 0 '^all denied$' '' -- "$WARD" run --shutdown-timeout 200ms --audit deny --audit-log "$ad/log6" "$DIR/app" cli:denier 40
n=$(grep -c '"action":"process.spawn".*"effect":"deny"' "$ad/log6")
if [ "$n" = 40 ]; then echo "ok     40 denials, 40 records"; pass=$((pass+1)); else echo "FAIL   40 denials, $n records"; fail=$((fail+1)); fi
# Every checked call, in a host and across hosts, from pcall, a coroutine
# and __index, waits for its decision to be logged and then works; in a C
# call (a table.sort comparator) it cannot wait, so it is Unavailable.
expect "every call works with --audit all" 0 '^done$' '' -- "$WARD" run --shutdown-timeout 200ms --audit all --audit-log "$ad/log7" "$DIR/app" cli:everyop
missing=""
for act in process.spawn process.spawn.monitored process.spawn.linked process.host process.exec process.send process.monitor process.unmonitor process.link process.unlink process.cancel process.terminate process.context process.registry.register process.registry.unregister process.registry.lookup process.registry.foreign; do
  if ! grep -q "\"action\":\"$act\".*\"effect\":\"allow\"" "$ad/log7"; then missing="$missing $act"; fi
done
if [ -z "$missing" ]; then echo "ok     every action logged"; pass=$((pass+1)); else echo "FAIL   not logged:$missing"; fail=$((fail+1)); fi
expect "that log verifies" 0 '' '' -- "$WARD" audit verify "$ad/log7"
rm -rf "$ad"
# --audit-log must be a regular file, new or empty; a symlink is refused
# (O_NOFOLLOW), and so are a FIFO (start-up would block on it; the
# timeout turns a regression into a failure) and /dev/null (nothing kept).
# FILE.pub and --audit-key FILE are not waited on either.
al=$(mktemp -d)
ln -s "$al/target" "$al/link"
expect "audit log: a symlink is refused" 2 '' "$al/link: .*symbolic link" -- "$WARD" run --audit deny --audit-log "$al/link" "$DIR/app" cli:hello
if [ -e "$al/target" ]; then echo "FAIL   audit log: nothing written through the symlink"; fail=$((fail+1)); else echo "ok     audit log: nothing written through the symlink"; pass=$((pass+1)); fi
mkfifo "$al/fifo"
expect "audit log: a FIFO is refused" 2 '' "$al/fifo: .*not a regular file" -- timeout 10 "$WARD" run --audit deny --audit-log "$al/fifo" "$DIR/app" cli:hello
"$WARD" audit keygen "$al/k" >/dev/null 2>&1
expect "audit log: /dev/null is refused" 2 '' "/dev/null: .*not a regular file" -- "$WARD" run --audit deny --audit-key "$al/k/audit.key" --audit-log /dev/null "$DIR/app" cli:hello
mkfifo "$al/log2.pub"
expect "audit log: a FIFO as FILE.pub is refused" 2 '' "$al/log2.pub: .*not a regular file" -- timeout 10 "$WARD" run --audit deny --audit-log "$al/log2" "$DIR/app" cli:hello
mkfifo -m 600 "$al/key"
expect "audit log: a FIFO as --audit-key is refused" 2 '' "$al/key: .*regular file" -- timeout 10 "$WARD" run --audit deny --audit-key "$al/key" --audit-log "$al/log3" "$DIR/app" cli:hello
expect "audit log: a new file is accepted" 0 '^printed$' '' -- "$WARD" run --audit deny --audit-key "$al/k/audit.key" --audit-log "$al/log4" "$DIR/app" cli:hello
rm -rf "$al"
# Test-only switches are not in ward: WARD_TEST_HOST_ID/EXE (obeyed only
# by ward_testhooks, built with -DWD_TEST_HOOKS=ON for tests/link) do not
# change the program a host runs, and their names are not in the binary.
tk=$(mktemp -d)
printf '#!/bin/sh\ntouch "%s/marker"\n' "$tk" >"$tk/host.sh"
chmod +x "$tk/host.sh"
expect "WARD_TEST_HOST_ID/EXE are ignored" 0 '^printed	x$' '' -- env WARD_TEST_HOST_ID=cli:h WARD_TEST_HOST_EXE="$tk/host.sh" "$WARD" run "$DIR/app" cli:hello x
if [ -e "$tk/marker" ]; then echo "FAIL   the test host did not run"; fail=$((fail+1)); else echo "ok     the test host did not run"; pass=$((pass+1)); fi
n=$(LC_ALL=C grep -ac WARD_TEST_ "$WARD")
if [ "$n" = 0 ]; then echo "ok     no WARD_TEST_ name in the binary"; pass=$((pass+1)); else echo "FAIL   WARD_TEST_ names in the binary ($n)"; fail=$((fail+1)); fi
rm -rf "$tk"
# A host killed with SIGKILL: the watcher on another host gets EXIT and
# LINK_DOWN naming the signal.
wo=$(mktemp)
"$WARD" run --shutdown-timeout 200ms "$DIR/app" cli:watcher >"$wo" 2>/dev/null &
bg=$!
for _ in $(seq 50); do grep -q ready "$wo" && break; sleep 0.1; done
victim=""
for k in $(pgrep -P "$bg"); do
  ps -o args= -p "$k" | grep -q "^ward host cli:h2" && victim=$k
done
[ -n "$victim" ] && kill -9 "$victim"
wait $bg
if grep -q "pid.exit: host cli:h2 died: crashed: killed by signal 9" "$wo" &&
   grep -q "pid.link.down: host cli:h2 died: crashed: killed by signal 9" "$wo"; then
  echo "ok     SIGKILL of a host reaches watchers elsewhere"; pass=$((pass+1))
else
  echo "FAIL   SIGKILL of a host reaches watchers elsewhere: $(cat "$wo")"; fail=$((fail+1))
fi
rm -f "$wo"
# ward serve: starts the auto_start services, stops cleanly on SIGTERM,
# leaves no host behind.
se=$(mktemp)
"$WARD" serve -v --shutdown-timeout 300ms "$DIR/serveapp" 2>"$se" &
bg=$!
for _ in $(seq 50); do grep -q "host cli:h2 started" "$se" && break; sleep 0.1; done
kids=$(pgrep -P "$bg" || true)
kill -TERM "$bg"
wait $bg
st=$?
left=""
for k in $kids; do kill -0 "$k" 2>/dev/null && left="$left $k"; done
if [ "$st" -eq 0 ] && [ -n "$kids" ] && grep -q "host cli:h2 started" "$se" &&
   grep -q "shutting down" "$se" && [ -z "$left" ]; then
  echo "ok     serve starts services, stops on SIGTERM, leaves no host"; pass=$((pass+1))
else
  echo "FAIL   serve: status $st, kids '$kids', left '$left': $(cat "$se")"; fail=$((fail+1))
fi
rm -f "$se"
# ward test: closing line, junit report, exit status.
j=$(mktemp)
expect "ward test closing line" 0 '^1 passed, 0 failed$' '' -- "$WARD" test --filter test_identity --junit "$j" "$DIR/../lua"
if grep -q '<testcase name="t:test_identity"' "$j"; then echo "ok     junit report"; pass=$((pass+1)); else echo "FAIL   junit report"; fail=$((fail+1)); fi
rm -f "$j"
# ward test for CI (issue 15): --filter that matches nothing, --junit
# checked first, and the report's shape read back by an XML parser.
JA=$DIR/junitapp
jt=$(mktemp -d)
expect "ward test --filter matching nothing is exit 2" 2 '' "--filter 'nomatch' matches no test of" -- "$WARD" test --filter nomatch "$JA"
expect "ward test --junit into a missing directory is exit 2" 2 '' "--junit $jt/nodir/r.xml: directory $jt/nodir: No such file" -- "$WARD" test --junit "$jt/nodir/r.xml" "$JA"
if [ ! -s "$out" ]; then echo "ok     ward test --junit checked before any test runs"; pass=$((pass+1)); else echo "FAIL   ward test --junit checked first: $(head -c 200 "$out")"; fail=$((fail+1)); fi
expect "ward test --junit onto a directory is exit 2" 2 '' 'is a directory' -- "$WARD" test --junit "$jt" "$JA"
expect "ward test --junit: output still live on stdout" 1 '^alpha line 1$' '' -- "$WARD" test --junit "$jt/r.xml" "$JA"
if grep -q "$(printf '\036')" "$out"; then echo "FAIL   ward test --junit: marks leak to stdout"; fail=$((fail+1)); else echo "ok     ward test --junit: no marks on stdout"; pass=$((pass+1)); fi
if grep -q '^2 passed, 1 failed$' "$out" && grep -q '^FAIL   ju:test_b_fails' "$out"; then echo "ok     ward test --junit: summary and FAIL line"; pass=$((pass+1)); else echo "FAIL   ward test --junit summary: $(cat "$out")"; fail=$((fail+1)); fi
if python3 - "$jt/r.xml" <<'PY'
import re, sys, xml.etree.ElementTree as ET
root = ET.parse(sys.argv[1]).getroot()
assert root.tag == "testsuite", root.tag
for a in ("name", "tests", "failures", "errors", "skipped", "time", "timestamp"):
    assert a in root.attrib, a
assert root.get("tests") == "3" and root.get("failures") == "1", root.attrib
assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", root.get("timestamp")), root.attrib
cases = {c.get("name"): c for c in root.findall("testcase")}
assert sorted(cases) == ["ju:test_a_passes", "ju:test_b_fails", "ju:test_c_quiet"], cases
for c in cases.values():
    assert c.get("classname") == "ju", c.attrib
    float(c.get("time"))
a, b, q = cases["ju:test_a_passes"], cases["ju:test_b_fails"], cases["ju:test_c_quiet"]
assert a.find("failure") is None and q.find("failure") is None
assert a.find("system-out").text == 'alpha line 1\nalpha <xml> & "quotes"\n', a.find("system-out").text
assert b.find("system-out").text == "beta says hello\n", b.find("system-out").text
assert "beta broke" in b.find("failure").get("message"), b.find("failure").attrib
assert (q.find("system-out").text or "") == "", q.find("system-out").text
PY
then echo "ok     ward test --junit: the XML read back (classname, timestamp, system-out)"; pass=$((pass+1))
else echo "FAIL   ward test --junit XML: $(head -c 400 "$jt/r.xml")"; fail=$((fail+1)); fi
rm -rf "$jt"
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
