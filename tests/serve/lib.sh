# shellcheck shell=bash
# tests/serve/lib.sh: what the serve scripts (test_*.sh here) share. Each
# sources it near its top: the counts 'pass' and 'fail', a temporary
# directory $tmp, $SERVER (the PID of the ward serve under test, or
# empty), an EXIT trap that ends the server and removes $tmp (a script
# with more to end defines 'cleanup_extra', which runs first), and the
# helpers below.

pass=0 fail=0
tmp=$(mktemp -d)
SERVER=
cleanup() {
  if declare -F cleanup_extra >/dev/null; then cleanup_extra; fi
  [ -n "$SERVER" ] && kill "$SERVER" 2>/dev/null && wait "$SERVER" 2>/dev/null
  rm -rf "$tmp"
}
trap cleanup EXIT

ok() { echo "ok     $1"; pass=$((pass+1)); }
bad() { echo "FAIL   $1"; fail=$((fail+1)); }
# check NAME SHELL-CONDITION [WHY]: ok when the condition holds.
check() { if eval "$2"; then ok "$1"; else bad "$1${3:+: $3}"; fi; }

# await_healthz SOCK: wait until the server on unix socket SOCK answers
# GET /healthz; 1 if it does not within a minute (a loaded machine is slow,
# and this returns as soon as it answers).
await_healthz() {
  local i
  for i in $(seq 1 1200); do
    curl -s -m 1 --unix-socket "$1" http://x/healthz >/dev/null 2>&1 && return 0
    sleep 0.05
  done
  return 1
}
