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

. bench/cost_lib.sh
cost_build build-bench-check WD_BENCH_NOCHECK OFF
cost_build build-bench-nocheck WD_BENCH_NOCHECK ON

TMP=$(mktemp -d /tmp/ward-checkcost.XXXXXX)
trap 'rm -rf "$TMP"' EXIT
cost_policy

echo "== $RUNS runs per build, all of ward on CPU $PIN (quick=$QUICK)" >&2
printf "%-34s %-7s %-29s %-29s %s\n" workload unit \
       "checked: median (min-max)" "unchecked: median (min-max)" "check share"
m() { cost_measure "$1" "$2" build-bench-check build-bench-nocheck "${@:3}"; }
m "W2 ping-pong int, one host" rt/s w2 bench:main "$N" bench:a int
m "W2 ping-pong table, one host" rt/s w2 bench:main "$N" bench:a table
echo
echo "check share = (unchecked - checked) / unchecked of the medians;"
echo "target (issue 4): at most 10% of W2 within a host."
