#!/usr/bin/env bash
# ctest demo.run: runs examples/serve-demo/demo.sh (what ./make.sh demo
# shows) and checks its key lines, so the demo cannot rot.
# Usage: test_demo.sh WARD
set -u
WARD=${1:?usage: test_demo.sh WARD}
DIR=$(cd "$(dirname "$0")/../.." && pwd)
out=$(mktemp)
trap 'rm -f "$out"' EXIT
pass=0 fail=0
t0=$(date +%s)
timeout 120 "$DIR/examples/serve-demo/demo.sh" "$WARD" >"$out" 2>&1
rc=$?
secs=$(( $(date +%s) - t0 ))
check() { # NAME EXTENDED-REGEX
  if grep -Eq -- "$2" "$out"; then echo "ok     $1"; pass=$((pass+1))
  else echo "FAIL   $1: no line matching /$2/"; fail=$((fail+1)); fi
}
[ "$rc" -eq 0 ] && { echo "ok     the demo exits 0"; pass=$((pass+1)); } ||
  { echo "FAIL   the demo exits $rc"; fail=$((fail+1)); }
echo "info   the demo took ${secs} s (not asserted: speed is benchmarks' business)"
check "the server answers /healthz" '^   GET /healthz: ok$'
# A sanitizer build (WD_ASAN) applies no seccomp filter (sandbox/confine.c).
if ldd "$WARD" 2>/dev/null | grep -q libasan; then
  check "the gateway runs as 'ward gateway' (ASan build: no seccomp)" "'ward gateway [0-9]+', Seccomp: 0"
else
  check "the gateway is confined" "'ward gateway [0-9]+', Seccomp: 2"
fi
check "acme's exec answers 200 with its result" 'HTTP 200 \{"result":\{.*"total":1236'
check "globex's exec through ward ctl" '^     -> \{"result":\{.*"sum":18'
check "the cross-tenant call is 403" 'HTTP 403 .*"kind":"PermissionDenied".*demo:quote'
check "audit show --denied lists it" '^     [0-9]+ .* decision deny bob process.exec demo:quote'
check "policy explain replays the logged denial" '^     decision: the same$'
check "... naming the policy that did not match" "demo:globex-exec: resource 'demo:quote' is not one of"
check "globex's runaway kills only its host" 'HTTP 422 .*host demo:globex died: unresponsive'
check "globex's host comes back" '^   globex again: HTTP 200'
check "acme answered every call meanwhile" '^   acme meanwhile: ([0-9]+) of \1 exec calls answered 200$'
check "acme's host is the same process" '^   host demo:acme: the same process throughout'
check "the deploy step" '^== 5\. deploy'
check "the operator's deploy answers its revision" '"namespace":"demo","revision":"1"'
check "new calls get the new code" "acme's quote now: HTTP 200 .*\"version\":2"
check "a broken revision is refused, naming the file" 'stats.lua:1'
check "a refused deploy changes nothing" "globex's stats still answer: HTTP 200"
check "... and the code deployed before stays" "still version 2: HTTP 200 .*\"version\":2"
check "the server shuts down cleanly" '^   Terminated: shutting down$'
check "the audit log verifies" '^   ward audit verify: .*: ok: [0-9]+ records'
if [ "$fail" -ne 0 ]; then echo "--- demo output:"; cat "$out"; fi
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
