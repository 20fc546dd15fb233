#!/usr/bin/env bash
# bench/mac_cost.sh: what the link's MAC costs across hosts (issue 5,
# "W2/W4 across hosts with the MAC on vs a build without it"; target: the
# MAC costs at most 15% of W4 across hosts).
#
#   bench/mac_cost.sh [--quick] [RUNS]     RUNS per build and workload (5)
#
# Builds ward in Release twice: build-bench/ (the normal, signed link) and
# build-bench-nomac/ (-DWD_BENCH_NOMAC=ON: sandbox/ipc.c built with
# WD_IPC_NOMAC, which writes a zero tag and skips the tag check but keeps
# the header, length and sequence checks). THE SECOND BINARY HAS AN
# UNAUTHENTICATED LINK: it exists only for this comparison.
# Runs W2 (ping-pong, int) and W4 (fan-in, 1 and 64 sends in flight per
# producer) with the other side on host bench:b, alternating the two
# binaries run by run, with all of ward under `taskset -c $PIN` (CPU 0 by
# default, like run.sh's "1 CPU" rows: unpinned figures depend on where the
# kernel places three processes). Prints the median (and range) of each,
# and the MAC's share (nomac - mac) / nomac of the median rates.
set -euo pipefail
SELF=$(readlink -f "$0")
cd "$(dirname "$SELF")/.."

QUICK=0 RUNS=5
while [ $# -gt 0 ]; do
  case $1 in
    --quick) QUICK=1 ;;
    -h|--help) sed -n '2,18p' "$SELF" | sed 's/^# \{0,1\}//'; exit 0 ;;
    [0-9]*) RUNS=$1 ;;
    *) echo "usage: bench/mac_cost.sh [--quick] [RUNS]" >&2; exit 2 ;;
  esac
  shift
done
if [ $QUICK = 1 ]; then
  N_PPX=20000 FAN_P=4 FAN_K=25000 FAN_KP=100000
else
  N_PPX=200000 FAN_P=4 FAN_K=250000 FAN_KP=250000
fi
PIPE=64
PIN=${PIN:-0}

. bench/cost_lib.sh
cost_build build-bench WD_BENCH_NOMAC OFF
cost_build build-bench-nomac WD_BENCH_NOMAC ON

TMP=$(mktemp -d /tmp/ward-maccost.XXXXXX)
trap 'rm -rf "$TMP"' EXIT
cost_policy

echo "== $RUNS runs per build and workload, all of ward on CPU $PIN (quick=$QUICK)" >&2
printf "%-34s %-7s %-29s %-29s %s\n" workload unit "MAC: median (min-max)" \
       "no MAC: median (min-max)" "MAC share"
m() { cost_measure "$1" "$2" build-bench build-bench-nomac "${@:3}"; }
m "W2 ping-pong int, 2 hosts" rt/s w2 bench:main $N_PPX bench:b int
m "W4 fan-in $FAN_P x $FAN_K, 2 hosts" msgs/s \
  w4 bench:main $FAN_P $FAN_K bench:b 1
m "W4 $FAN_P x $FAN_KP, $PIPE in flight each" msgs/s \
  w4 bench:main $FAN_P $FAN_KP bench:b $PIPE
echo
echo "MAC share = (no MAC - MAC) / no MAC of the medians; target (issue 5):"
echo "at most 15% of W4 across hosts."
