#!/usr/bin/env bash
# Issue 3's two targets, measured PAIRS times each, ward and Erlang (+S 1)
# alternating, one line per pair with its ratio, then the median ratio.
# One pair of single runs (what bench/run.sh prints) moves by several
# percent between runs on this machine; the median of several pairs is
# what to compare with the target.
#
#   bench/lifecycle.sh [PAIRS]     (default 7; a few seconds per pair)
#
#   spawn_monitored+EXIT in one host, N_MON round trips: ward/Erlang rate,
#     target >= 0.5
#   link cascade through N_CASCADE processes: ward/Erlang time,
#     target <= 2
# Environment: N_MON (100000), N_CASCADE (10000). Builds like run.sh.
set -euo pipefail
SELF=$(readlink -f "$0")
cd "$(dirname "$SELF")/.."
case "${1:-}" in
  -h|--help) sed -n '2,14p' "$SELF" | sed 's/^# \{0,1\}//'; exit 0 ;;
esac
PAIRS=${1:-7}
N_MON=${N_MON:-100000}
N_CASCADE=${N_CASCADE:-10000}
case "$PAIRS" in
  ''|*[!0-9]*|0) echo "usage: bench/lifecycle.sh [PAIRS]" >&2; exit 2 ;;
esac

echo "== building ward (Release) into build-bench/" >&2
cmake -S . -B build-bench -DCMAKE_BUILD_TYPE=Release -DWD_WERROR=OFF >/dev/null
cmake --build build-bench -j2 >/dev/null
TMP=$(mktemp -d /tmp/ward-lifecycle.XXXXXX)
trap 'rm -rf "$TMP"' EXIT
erlc -o "$TMP" bench/erl/bench_util.erl bench/erl/lc_monitor.erl \
  bench/erl/lc_cascade.erl

figure() { sed -n 's/^FIGURE //p' | tail -1; }
ward_fig() { build-bench/ward run bench/apps/lifecycle "$@" 2>/dev/null | figure; }
erl_fig() {
  erl +S 1 -noshell -pa "$TMP" -s "$1" main "$2" -s init stop 2>&1 | figure
}

# One workload: PAIRS lines with both figures and their ratio (ward /
# Erlang: of rates for the spawns, of times for the cascade), then the
# median. $1 label, $2 ward entry, $3 Erlang module, $4 size.
measure() {
  local label=$1 entry=$2 mod=$3 n=$4 i w e
  echo "$label"
  : >"$TMP/ratios"
  for i in $(seq "$PAIRS"); do
    w=$(ward_fig "$entry" "$n")
    e=$(erl_fig "$mod" "$n")
    if [ -z "$w" ] || [ -z "$e" ]; then
      echo "  pair $i: no figure (ward '$w', erlang '$e')" >&2
      continue
    fi
    awk -v w="$w" -v e="$e" -v i="$i" \
      'BEGIN { r = w / e; printf "  pair %d: ward %s  erlang %s  ratio %.3f\n", i, w, e, r; print r > "/dev/stderr" }' \
      2>>"$TMP/ratios"
  done
  sort -n "$TMP/ratios" | awk '{ r[NR] = $1 } END {
    if (NR == 0) { print "  median: -"; exit }
    m = NR % 2 ? r[(NR + 1) / 2] : (r[NR / 2] + r[NR / 2 + 1]) / 2
    printf "  median ratio %.3f (range %.3f-%.3f, %d pairs)\n", m, r[1], r[NR], NR }'
}

measure "spawn_monitored+EXIT, one host, $N_MON round trips (rt/s; target >= 0.5)" \
  bench:monitor lc_monitor "$N_MON"
measure "link cascade, $N_CASCADE processes (ms; target <= 2)" \
  bench:cascade lc_cascade "$N_CASCADE"
