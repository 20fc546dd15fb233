#!/usr/bin/env bash
# bench/check_cost.sh: what the policy check costs on the message path
# (issue 4: "the policy check adds at most 10% to W2 ping-pong within a
# host").
#
#   bench/check_cost.sh [--quick] [RUNS]     RUNS per build (7)
#
# Builds ward in Release twice: build-bench-check/ (every call checked)
# and build-bench-nocheck/ (-DWD_BENCH_NOCHECK=ON: the hosts skip the check
# and allow everything). THE SECOND BINARY ENFORCES NO POLICY: it exists
# only for this comparison. Runs W2 ping-pong within one host (integers and
# small tables), alternating the two binaries run by run, pinned with
# `taskset -c $PIN` (CPU 0 by default). Prints the median (and range) of
# each, and the check's share (nocheck - check) / nocheck of the medians.
set -euo pipefail
SELF=$(readlink -f "$0")
cd "$(dirname "$SELF")/.."

QUICK=0 RUNS=7
while [ $# -gt 0 ]; do
  case $1 in
    --quick) QUICK=1 ;;
    -h|--help) sed -n '2,15p' "$SELF" | sed 's/^# \{0,1\}//'; exit 0 ;;
    [0-9]*) RUNS=$1 ;;
    *) echo "usage: bench/check_cost.sh [--quick] [RUNS]" >&2; exit 2 ;;
  esac
  shift
done
N=300000
[ $QUICK = 1 ] && N=50000
PIN=${PIN:-0}

build() { # DIR NOCHECK
  echo "== building ward (Release, WD_BENCH_NOCHECK=$2) into $1/" >&2
  cmake -S . -B "$1" -DCMAKE_BUILD_TYPE=Release -DWD_WERROR=OFF \
        -DWD_BENCH_NOCHECK="$2" >/dev/null 2>"$1.cmake.log" || {
    cat "$1.cmake.log" >&2; exit 1; }
  cmake --build "$1" --target ward -j2 >/dev/null 2>"$1.log" || {
    grep -E "error" "$1.log" >&2 || cat "$1.log" >&2
    echo "check_cost: the build in $1 failed (see $1.log)" >&2
    exit 1
  }
  rm -f "$1.log" "$1.cmake.log"
  grep -q "^WD_BENCH_NOCHECK:BOOL=$2\$" "$1/CMakeCache.txt" || {
    echo "check_cost: $1 is not configured with WD_BENCH_NOCHECK=$2" >&2; exit 1; }
}
build build-bench-check OFF
build build-bench-nocheck ON

TMP=$(mktemp -d /tmp/ward-checkcost.XXXXXX)
trap 'rm -rf "$TMP"' EXIT
# W2 in a host with a real scope: the checked build decides every send.
cat >"$TMP/policy.yaml" <<'EOP'
namespace: benchpol
entries:
  - name: all
    kind: security.policy
    groups: [bench]
    policy:
      actions: [process.spawn, process.host, process.send]
      resources: ["bench*", "{bench*"]
      effect: allow
EOP
POLICY=(--policy "$TMP/policy.yaml" --actor bench --scope benchpol:bench)

fig() { # BUILD_DIR ARGS... -> W2's FIGURE, or "-"
  local b=$1 out; shift
  out=$(timeout 150 taskset -c "$PIN" "$b/ward" run "${POLICY[@]}" \
        bench/apps/w2 bench:main "$@" 2>"$TMP/err" |
        sed -n 's/^FIGURE //p' | tail -1) || true
  if [ -z "$out" ]; then
    echo "check_cost: $b $*: $(tail -2 "$TMP/err" | tr '\n' ' ')" >&2
    out=-
  fi
  echo "$out"
}

stats() { # median min max of the numbers on stdin ("-" ignored)
  grep -v '^-$' | sort -n | awk '{ v[NR] = $1 }
    END { if (NR == 0) { print "- - -"; exit }
          m = (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2
          printf "%.0f %.0f %.0f\n", m, v[1], v[NR] }'
}

measure() { # NAME ARGS...
  local name=$1 i m a b n x y share; shift
  : >"$TMP/check"; : >"$TMP/nocheck"
  for i in $(seq 1 "$RUNS"); do
    if [ $((i % 2)) = 1 ]; then
      fig build-bench-check "$@" >>"$TMP/check"
      fig build-bench-nocheck "$@" >>"$TMP/nocheck"
    else
      fig build-bench-nocheck "$@" >>"$TMP/nocheck"
      fig build-bench-check "$@" >>"$TMP/check"
    fi
  done
  read -r m a b < <(stats <"$TMP/check")
  read -r n x y < <(stats <"$TMP/nocheck")
  share=-
  if [ "$m" != - ] && [ "$n" != - ] && [ "$n" != 0 ]; then
    share=$(awk -v m="$m" -v n="$n" 'BEGIN { printf "%.1f%%", 100 * (n - m) / n }')
  fi
  printf "%-30s %-24s %-24s %s\n" "$name" "$m ($a-$b)" "$n ($x-$y)" "$share"
}

echo "== $RUNS runs per build, all of ward on CPU $PIN (quick=$QUICK)" >&2
printf "%-30s %-24s %-24s %s\n" "workload (rt/s)" "checked: median (range)" \
       "unchecked: median (range)" "check share"
measure "W2 ping-pong int, one host" "$N" bench:a int
measure "W2 ping-pong table, one host" "$N" bench:a table
echo
echo "check share = (unchecked - checked) / unchecked of the medians;"
echo "target (issue 4): at most 10% of W2 within a host."
