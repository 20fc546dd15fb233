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

# {====== Build ======
build() { # DIR NOMAC
  echo "== building ward (Release, WD_BENCH_NOMAC=$2) into $1/" >&2
  cmake -S . -B "$1" -DCMAKE_BUILD_TYPE=Release -DWD_WERROR=OFF \
        -DWD_BENCH_NOMAC="$2" >/dev/null 2>"$1.cmake.log" || {
    cat "$1.cmake.log" >&2; exit 1; }
  cmake --build "$1" --target ward -j2 >/dev/null 2>"$1.log" || {
    grep -E "error" "$1.log" >&2 || cat "$1.log" >&2
    echo "mac_cost: the build in $1 failed (see $1.log)" >&2
    exit 1
  }
  rm -f "$1.log" "$1.cmake.log"
  grep -q "^WD_BENCH_NOMAC:BOOL=$2\$" "$1/CMakeCache.txt" || {
    echo "mac_cost: $1 is not configured with WD_BENCH_NOMAC=$2" >&2; exit 1; }
}
build build-bench OFF
build build-bench-nomac ON
# }======

TMP=$(mktemp -d /tmp/ward-maccost.XXXXXX)
trap 'rm -rf "$TMP"' EXIT
# Spawning a named entry needs a policy that allows it (since the escape
# corpus work); the bench apps declare none, so grant the bench namespace
# what W2 and W4 do. Both builds run with the same policy.
cat >"$TMP/policy.yaml" <<'EOF'
namespace: benchpol
entries:
  - name: all
    kind: security.policy
    groups: [bench]
    policy:
      actions: [process.spawn, process.host, process.send]
      resources: ["bench*", "{bench*"]
      effect: allow
EOF
POLICY=(--policy "$TMP/policy.yaml" --actor bench --scope benchpol:bench)

fig() { # BUILD_DIR APP ARGS... -> the app's FIGURE, or "-"
  local b=$1 app=$2 out; shift 2
  out=$(timeout 150 taskset -c "$PIN" "$b/ward" run "${POLICY[@]}" \
        "bench/apps/$app" "$@" \
        2>"$TMP/err" | sed -n 's/^FIGURE //p' | tail -1) || true
  if [ -z "$out" ]; then
    echo "mac_cost: $b $app $*: $(tail -2 "$TMP/err" | tr '\n' ' ')" >&2
    out=-
  fi
  echo "$out"
}

# median, min and max of the numbers on stdin ("-" ignored)
stats() {
  grep -v '^-$' | sort -n | awk '{ v[NR] = $1 }
    END { if (NR == 0) { print "- - -"; exit }
          m = (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2
          printf "%.0f %.0f %.0f\n", m, v[1], v[NR] }'
}

commas() { printf "%s" "$1" | sed ':a;s/\B[0-9]\{3\}\>/,&/;ta'; }

# measure NAME UNIT APP ARGS...: RUNS runs per build, alternating which
# build goes first so that drift of the machine falls on both.
ROWS=()
measure() {
  local name=$1 unit=$2 i a b m n ms ns share; shift 2
  : >"$TMP/mac" ; : >"$TMP/nomac"
  for i in $(seq 1 "$RUNS"); do
    if [ $((i % 2)) = 1 ]; then
      fig build-bench "$@" >>"$TMP/mac"
      fig build-bench-nomac "$@" >>"$TMP/nomac"
    else
      fig build-bench-nomac "$@" >>"$TMP/nomac"
      fig build-bench "$@" >>"$TMP/mac"
    fi
  done
  read -r m a b < <(stats <"$TMP/mac")
  ms="$(commas "$m") ($(commas "$a")-$(commas "$b"))"
  read -r n a b < <(stats <"$TMP/nomac")
  ns="$(commas "$n") ($(commas "$a")-$(commas "$b"))"
  share=-
  if [ "$m" != - ] && [ "$n" != - ] && [ "$n" != 0 ]; then
    share=$(awk -v m="$m" -v n="$n" 'BEGIN { printf "%.1f%%", 100 * (n - m) / n }')
  fi
  printf "%-34s %-7s %-29s %-29s %s\n" "$name" "$unit" "$ms" "$ns" "$share"
}

echo "== $RUNS runs per build and workload, all of ward on CPU $PIN (quick=$QUICK)" >&2
printf "%-34s %-7s %-29s %-29s %s\n" workload unit "MAC: median (min-max)" \
       "no MAC: median (min-max)" "MAC share"
measure "W2 ping-pong int, 2 hosts" rt/s w2 bench:main $N_PPX bench:b int
measure "W4 fan-in $FAN_P x $FAN_K, 2 hosts" msgs/s \
        w4 bench:main $FAN_P $FAN_K bench:b 1
measure "W4 $FAN_P x $FAN_KP, $PIPE in flight each" msgs/s \
        w4 bench:main $FAN_P $FAN_KP bench:b $PIPE
echo
echo "MAC share = (no MAC - MAC) / no MAC of the medians; target (issue 5):"
echo "at most 15% of W4 across hosts."
