#!/usr/bin/env bash
# Noisy neighbours (issue 11): a victim tenant's echo round trips, p50/p99,
# on the host where an attacker tenant's load runs ("same") and between
# two hosts that carry no load ("other"), unloaded and under each load:
# busy loop, pcall loop, sort-comparator loop, gsub-callback loop (on the
# victim's host), 1 MiB flood, print flood, name flood, spawn+monitor
# churn (between two other hosts of the attacker). One line per load with
# the targets and MET/MISSED, then the kernel's floor (bench/sched_floor.c,
# the same measurement without ward), then the loads that missed "other"
# again with the attacker's hosts at nice 19.
#
#   bench/neighbours.sh            about 2-4 minutes on 2 cores
#   bench/neighbours.sh --quick    under a minute (no nice-19 pass)
#
# Targets: same host p99 <= 2 x slice + unloaded same p99; other host
# p99 <= 2 x unloaded other p99 + 5 ms. Builds ward in Release into
# build-bench/ like bench/run.sh. See bench/README.md, "Noisy neighbours".
set -euo pipefail
SELF=$(readlink -f "$0")
cd "$(dirname "$SELF")/.."
ROOT=$PWD

QUICK=0
case "${1:-}" in
  --quick) QUICK=1 ;;
  "") ;;
  -h|--help) sed -n '2,17p' "$SELF" | sed 's/^# \{0,1\}//'; exit 0 ;;
  *) echo "usage: bench/neighbours.sh [--quick]" >&2; exit 2 ;;
esac

# N round trips per pinger, GAP apart, for at most SECS seconds (a load
# that slows the victim gets fewer: the line shows how many).
if [ $QUICK = 1 ]; then
  N=200 SECS=1 FLOOR_N=300
else
  N=2000 SECS=10 FLOOR_N=2000
fi
GAP=1ms GAP_US=1000
SLICE_MS=10 # the host's default slice (the app sets none)
# LOADS=... in the environment runs only those loads.
LOADS="${LOADS:-busy pcall sort gsub flood1m print names churn}"
APP=bench/apps/neighbours

# {====== Build ======
echo "== building ward (Release) into build-bench/" >&2
cmake -S . -B build-bench -DCMAKE_BUILD_TYPE=Release -DWD_WERROR=OFF >/dev/null
cmake --build build-bench -j2 >/dev/null 2>build-bench.log || {
  grep -E "error" build-bench.log >&2 || cat build-bench.log >&2
  echo "bench: the build failed (see build-bench.log)" >&2
  exit 1
}
rm -f build-bench.log
WARD=$ROOT/build-bench/ward
TMP=$(mktemp -d /tmp/ward-neighbours.XXXXXX)
RUN_PID=""
cleanup() {
  if [ -n "$RUN_PID" ]; then
    kill "$RUN_PID" 2>/dev/null || true
    wait "$RUN_PID" 2>/dev/null || true
  fi
  rm -rf "$TMP"
}
trap cleanup EXIT
${CC:-cc} -O2 -Wall -o "$TMP/sched_floor" bench/sched_floor.c
# }======

# {====== One ward run ======
# The PIDs of the host processes HOST... of the ward run under 'timeout'
# TPID, every thread of each (a host's nice level is per thread).
host_tids() {
  local tpid=$1 w p h
  shift
  for w in $(pgrep -P "$tpid" 2>/dev/null); do
    for p in $(pgrep -P "$w" 2>/dev/null); do
      for h in "$@"; do
        if tr '\0' ' ' <"/proc/$p/cmdline" 2>/dev/null | grep -q "host $h *$"; then
          ls "/proc/$p/task" 2>/dev/null
        fi
      done
    done
  done
}

# run_load LOAD TAG [NICE_HOSTS]: runs the app once. ward's stdout goes
# to /dev/null (the print flood writes hundreds of MB/s there); the app
# returns its FIGURE/NOTE/DIED lines as its failure message, which ward
# writes to stderr (so ward exits 1). Leaves those lines in $TMP/TAG.out
# and the rest of stderr in $TMP/TAG.err. With NICE_HOSTS (e.g.
# "nb:a1 nb:a2") those hosts are reniced to 19 as soon as they exist
# (before the load starts: the app warms up first).
run_load() {
  local load=$1 tag=$2 nice_hosts=${3:-} i tids st=0
  timeout -k 5 $((SECS + 45)) "$WARD" run --shutdown-timeout 500ms "$APP" \
    nb:main "$load" "$N" "$SECS" "$GAP" error >/dev/null 2>"$TMP/$tag.raw" &
  RUN_PID=$!
  if [ -n "$nice_hosts" ]; then
    tids=""
    for i in $(seq 1 150); do
      tids=$(host_tids "$RUN_PID" $nice_hosts)
      [ "$(echo "$tids" | grep -c .)" -ge "$(echo $nice_hosts | wc -w)" ] && break
      sleep 0.02
    done
    if [ -n "$tids" ]; then
      renice -n 19 -p $tids >/dev/null 2>&1 || true
    else
      echo "NOTE could not renice $nice_hosts" >>"$TMP/$tag.raw"
    fi
  fi
  wait "$RUN_PID" || st=$?
  RUN_PID=""
  [ "$st" != 1 ] && echo "NOTE ward exited with status $st" >>"$TMP/$tag.raw"
  sed 's/^ward: nb:main failed: //' "$TMP/$tag.raw" |
    grep -a -E '^(FIGURE|NOTE|DIED) ' >"$TMP/$tag.out" || true
  grep -a -v -E '^(ward: nb:main failed: )?(FIGURE|NOTE|DIED) ' \
    "$TMP/$tag.raw" >"$TMP/$tag.err" || true
  rm -f "$TMP/$tag.raw"
}

# field TAG WHICH COL: column COL (2 n, 3 p50, 4 p99, 5 max, 6 wake) of the
# FIGURE line for WHICH (same/other), or "-".
field() {
  local v
  v=$(awk -v w="$2" -v c="$3" '$1 == "FIGURE" && $2 == w { print $(c + 1) }' \
      "$TMP/$1.out" | tail -1)
  echo "${v:--}"
}
# Why WHICH has no figure (a DIED line), or nothing.
died() {
  sed -n "s/^DIED $2 //p" "$TMP/$1.out" | tail -1
}
# }======

# {====== Report ======
hdr() {
  printf "%-17s %5s %8s %8s %8s   %5s %8s %8s %8s   %8s %8s  %-6s %-6s\n" \
    "" "same" "p50" "p99" "wake99" "other" "p50" "p99" "wake99" "target" \
    "target" "same" "other"
  printf "%-17s %5s %8s %8s %8s   %5s %8s %8s %8s   %8s %8s  %-6s %-6s\n" \
    load n ms ms ms n ms ms ms same other "" ""
}

# verdict P99 TARGET -> MET / MISSED / "-"
verdict() {
  if [ "$1" = - ] || [ "$2" = - ]; then echo "-"; return; fi
  awk -v p="$1" -v t="$2" 'BEGIN { print (p <= t) ? "MET" : "MISSED" }'
}

MISSED_SAME=0 MISSED_OTHER=0 MET_SAME=0 MET_OTHER=0
KILLED=""
NICE_CANDIDATES=""
# row TAG LABEL JUDGE(0/1): one line, then the load's notes indented.
row() {
  local tag=$1 label=$2 judge=$3 w why v vs vo s_n s_p50 s_p99 s_wk o_n \
        o_p50 o_p99 o_wk
  s_n=$(field "$tag" same 2) s_p50=$(field "$tag" same 3)
  s_p99=$(field "$tag" same 4) s_wk=$(field "$tag" same 6)
  o_n=$(field "$tag" other 2) o_p50=$(field "$tag" other 3)
  o_p99=$(field "$tag" other 4) o_wk=$(field "$tag" other 6)
  vs=-; vo=-
  # judge 1: both columns count; 2 (the nice pass): "other" only. No
  # figure at all (a pinger, its host or ward did not come back) is a miss.
  if [ "$judge" != 0 ]; then
    for w in same other; do
      [ "$judge" = 2 ] && [ $w = same ] && continue
      if [ $w = same ]; then v=$(verdict "$s_p99" "$T_SAME")
      else v=$(verdict "$o_p99" "$T_OTHER"); fi
      if [ "$(field "$tag" $w 4)" = - ]; then
        v=MISSED
        [ "$judge" = 1 ] && KILLED="$KILLED $label($w)"
      fi
      [ $w = same ] && vs=$v || vo=$v
    done
  fi
  if [ "$judge" = 1 ]; then
    case $vs in MET) MET_SAME=$((MET_SAME + 1)) ;; MISSED) MISSED_SAME=$((MISSED_SAME + 1)) ;; esac
    case $vo in MET) MET_OTHER=$((MET_OTHER + 1)) ;; MISSED) MISSED_OTHER=$((MISSED_OTHER + 1)); NICE_CANDIDATES="$NICE_CANDIDATES $label" ;; esac
  fi
  printf "%-17s %5s %8s %8s %8s   %5s %8s %8s %8s   %8s %8s  %-6s %-6s\n" \
    "$label" "$s_n" "$s_p50" "$s_p99" "$s_wk" "$o_n" "$o_p50" "$o_p99" \
    "$o_wk" "${T_SAME:--}" "${T_OTHER:--}" "$vs" "$vo"
  for w in same other; do
    why=$(died "$tag" $w)
    if [ -n "$why" ]; then
      echo "    $w: no figure: $why"
    elif [ "$(field "$tag" $w 4)" = - ]; then
      echo "    $w: no figure (no line from the app)"
    fi
  done
  # A load's end by its host's death is in ward's own line about the host;
  # a victim host's death is in the "no figure" line.
  sed -n '/^NOTE load .* ended: host .* died/d; s/^NOTE /    note: /p' \
    "$TMP/$tag.out" | sort -u
  grep -a -E '^ward: host .*(killed|died|unresponsive)' "$TMP/$tag.err" \
      2>/dev/null | grep -v '^ward: host nb:v[123]:' | sed 's/^/    /' |
    sort -u | head -4 || true
  return 0
}
# }======

echo "== noisy neighbours (quick=$QUICK): up to $N round trips per pinger," \
     "$GAP apart, at most ${SECS}s per load" >&2
# Unloaded, before and after the loads: the targets use the larger p99 of
# the two, so that one quiet run does not make them stricter than the
# machine is.
echo "== none" >&2
run_load none none1
for l in $LOADS; do
  echo "== $l" >&2
  run_load "$l" "$l"
done
echo "== none (after)" >&2
run_load none none2
max() { awk -v a="$1" -v b="$2" 'BEGIN { if (a == "-") print b; else if (b == "-") print a; else print (a > b) ? a : b }'; }
US=$(max "$(field none1 same 4)" "$(field none2 same 4)")
UO=$(max "$(field none1 other 4)" "$(field none2 other 4)")
T_SAME=- T_OTHER=-
if [ "$US" != - ] && [ "$UO" != - ]; then
  T_SAME=$(awk -v u="$US" -v s="$SLICE_MS" 'BEGIN { printf "%.3f", 2 * s + u }')
  T_OTHER=$(awk -v u="$UO" 'BEGIN { printf "%.3f", 2 * u + 5 }')
else
  echo "bench: no unloaded figure; no targets" >&2
fi

echo "same: pinger and echo on nb:v1, where the CPU hogs run; other: nb:v3 -> nb:v2, no load on either"
echo "n: round trips measured (at most $N, for at most ${SECS}s); wake99: p99 of how long the pinger's time.sleep($GAP) between two took"
hdr
row none1 "none" 0
row none2 "none (after)" 0
for l in $LOADS; do row "$l" "$l" 1; done

# {====== The kernel's floor ======
# The same measurement (one round trip at a time, $GAP apart) between bare
# processes over socketpairs, through a relay as ward's broker relays
# between hosts, while spinners burn CPU. "other": unpinned, like ward's
# processes; "same CPU": the pair and one spinner all on CPU 0, which is
# what the kernel does where ward's same-host scheduler does its work.
floor() { # LABEL SPINNERS NICE RELAY CPU
  local f
  f=$("$TMP/sched_floor" "$FLOOR_N" "$GAP_US" "$2" "$3" "$4" "$5" |
      sed -n 's/^FIGURE //p')
  [ -z "$f" ] && f="- - -"
  set -- "$1" $f
  printf "  %-44s %8s %8s %8s\n" "$1" "$2" "$3" "$4"
}
echo
echo "kernel floor (bench/sched_floor.c, $FLOOR_N round trips, $GAP_US us apart)"
printf "  %-44s %8s %8s %8s\n" "" "p50 ms" "p99 ms" "max ms"
floor "other: relay, no spinner" 0 0 1 -1
floor "other: relay, 1 spinner (a CPU hog)" 1 0 1 -1
floor "other: relay, 3 spinners (a flood)" 3 0 1 -1
floor "other: relay, 3 spinners at nice 19" 3 19 1 -1
floor "same CPU: pair + 1 spinner, all on CPU 0" 1 0 0 0
floor "same CPU: the same, spinner at nice 19" 1 19 0 0
# }======

# {====== What Linux offers per host: nice 19 for the attacker's hosts ======
if [ -n "$NICE_CANDIDATES" ] && [ $QUICK = 1 ]; then
  echo
  echo "(--quick: the loads that missed 'other' are not run again at nice 19)"
elif [ -n "$NICE_CANDIDATES" ]; then
  echo
  echo "== again with nice 19:$NICE_CANDIDATES" >&2
  echo "missed 'other' again, with the attacker's hosts at nice 19 (for CPU hogs that is nb:v1, which also holds the 'same' pair: 'same' not judged)"
  hdr
  for l in $NICE_CANDIDATES; do
    case $l in
      busy|pcall|sort|gsub) run_load "$l" "$l.nice" "nb:v1" ;;
      *) run_load "$l" "$l.nice" "nb:a1 nb:a2" ;;
    esac
    row "$l.nice" "$l, nice 19" 2
  done
fi
# }======

echo
echo "summary: same host $MET_SAME met, $MISSED_SAME missed; other host $MET_OTHER met, $MISSED_OTHER missed (of $(echo $LOADS | wc -w) loads)"
echo "targets: same p99 <= 2 x ${SLICE_MS} ms slice + unloaded same p99 ($US ms) = $T_SAME ms;" \
     "other p99 <= 2 x unloaded other p99 ($UO ms) + 5 ms = $T_OTHER ms"
[ -n "$KILLED" ] && echo "no figure (a pinger or its host did not come back):$KILLED"
exit 0
