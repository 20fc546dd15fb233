# shellcheck shell=bash
# tests/avail/lib.sh: what the availability scripts (test_*.sh here)
# share. Each sources it once it has set WARD: the counts 'pass' and
# 'fail', a temporary directory $tmp (removed on exit; a script that sets
# its own EXIT trap removes it there), $out and $err in it, the helpers
# below, and 'summary' as the script's last command.

pass=0 fail=0
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
out=$tmp/out err=$tmp/err

ok() { echo "ok     $1"; pass=$((pass+1)); }
bad() { echo "FAIL   $1"; fail=$((fail+1)); }

# expect NAME STATUS STDOUT-RE STDERR-RE -- CMD...
expect() {
  local name=$1 want=$2 ore=$3 ere=$4; shift 5
  timeout 60 "$@" >"$out" 2>"$err"
  local got=$?
  if [ "$got" -ne "$want" ]; then
    bad "$name: exit $got, want $want; stderr: $(head -c 300 "$err")"; return
  fi
  if [ -n "$ore" ] && ! grep -Eq -- "$ore" "$out"; then
    bad "$name: stdout does not match /$ore/: $(head -c 300 "$out")"; return
  fi
  if [ -n "$ere" ] && ! grep -Eq -- "$ere" "$err"; then
    bad "$name: stderr does not match /$ere/: $(head -c 300 "$err")"; return
  fi
  ok "$name"
}

# summary: "N passed, N failed"; its status (the script's) is 0 only if
# no case failed.
summary() {
  echo "$pass passed, $fail failed"
  [ "$fail" -eq 0 ]
}
