#!/usr/bin/env bash
# ward benchmarks: every workload in ward and the same workload in Erlang
# (+S 1) in one command, one line per workload with the ratio and target.
#
#   bench/run.sh            full sizes (under 5 minutes on 2 cores)
#   bench/run.sh --quick    smaller sizes (under a minute)
#   MAC=1 bench/run.sh      then bench/mac_cost.sh --quick 3 (the MAC's
#                           share of W4 across hosts), in the same run
#
# Builds ward in Release into build-bench/, bench/sockpair.c, bench/star.c
# and the Erlang modules of bench/erl/ into a temporary directory. Needs erl/erlc
# (Debian's erlang-base), cmake, a C compiler and taskset (util-linux).
# Each figure is a single run; the machine drifts between runs, so compare
# ward with Erlang within one run. See bench/README.md.
set -euo pipefail
SELF=$(readlink -f "$0")
cd "$(dirname "$SELF")/.."
ROOT=$PWD

QUICK=0
case "${1:-}" in
  --quick) QUICK=1 ;;
  "") ;;
  -h|--help) sed -n '2,14p' "$SELF" | sed 's/^# \{0,1\}//'; exit 0 ;;
  *) echo "usage: bench/run.sh [--quick]" >&2; exit 2 ;;
esac

if [ $QUICK = 1 ]; then
  N_SPAWN=20000 N_IDLE=20000 N_PP=200000 N_PPX=20000 RING_N=1000 RING_M=200
  FAN_P=4 FAN_K=50000 FAN_KX=5000 N_SOCK=50000 N_MON=20000 N_MONX=2000
  N_CASCADE=2000 PAUSE=1s
else
  N_SPAWN=100000 N_IDLE=100000 N_PP=1000000 N_PPX=200000 RING_N=1000
  RING_M=1000 FAN_P=4 FAN_K=250000 FAN_KX=250000 N_SOCK=200000 N_MON=100000
  N_MONX=10000 N_CASCADE=10000 PAUSE=2s
fi
# Across hosts a round trip is latency bound (tens of microseconds on a
# 2-vCPU VM), so W2 across hosts runs N_PPX round trips, not 1,000,000: the
# rate is steady after a few thousand.
# Across hosts, a producer that keeps this many sends in flight (one
# coroutine each) shows what the link carries when not latency bound.
PIPE=64

# {====== Build ======
echo "== building ward (Release) into build-bench/" >&2
# Warnings are not errors here: some appear only at -O2/-O3, and the test
# build (make.sh) is the one that refuses them.
cmake -S . -B build-bench -DCMAKE_BUILD_TYPE=Release -DWD_WERROR=OFF >/dev/null
cmake --build build-bench -j2 >/dev/null 2>build-bench.log || {
  grep -E "error" build-bench.log >&2 || cat build-bench.log >&2
  echo "bench: the build failed (see build-bench.log)" >&2
  exit 1
}
rm -f build-bench.log
WARD=$ROOT/build-bench/ward
TMP=$(mktemp -d /tmp/ward-bench.XXXXXX)
ERLB_PID=""
cleanup() {
  if [ -n "$ERLB_PID" ]; then
    kill "$ERLB_PID" 2>/dev/null || true
    wait "$ERLB_PID" 2>/dev/null || true
  fi
  rm -rf "$TMP"
}
trap cleanup EXIT
cc -O2 -Wall -o "$TMP/sockpair" bench/sockpair.c
cc -O2 -Wall -o "$TMP/star" bench/star.c
mkdir -p "$TMP/erl"
erlc -o "$TMP/erl" bench/erl/*.erl
# }======

# {====== Running one workload ======
# Each prints "FIGURE <number>" on stdout; these print the number or "-".
figure() { sed -n 's/^FIGURE //p' | tail -1; }

ward_fig() { # APP ENTRY ARGS...
  local app=$1; shift
  local out
  local pin=()
  [ -n "${PIN:-}" ] && pin=(taskset -c "$PIN")
  out=$(timeout 150 "${pin[@]}" "$WARD" run "bench/apps/$app" "$@" \
        2>"$TMP/ward.err" | figure) || true
  if [ -z "$out" ]; then
    echo "bench: ward $app $*: $(tail -2 "$TMP/ward.err" | tr '\n' ' ')" >&2
    out=-
  fi
  echo "$out"
}

erl_fig() { # MOD ARGS...  (one scheduler, like ward's one loop per host)
  local out
  out=$(timeout 150 erl +S 1 -noshell -pa "$TMP/erl" -s "$1" main "${@:2}" \
        -s init stop 2>&1 | figure) || true
  [ -z "$out" ] && { echo "bench: erl $*: no figure" >&2; out=-; }
  echo "$out"
}

# Distributed Erlang, the counterpart of "across two hosts": a second node
# (one scheduler) that the measuring node spawns its processes on. No epmd:
# the second node listens on a fixed port and the measuring node, which
# does not listen, connects there.
ERL_NODE=""
ERL_PORT=$(( 40000 + RANDOM % 20000 ))
ERL_DIST=(-setcookie wardbench -start_epmd false -erl_epmd_port "$ERL_PORT")
erl_node_start() {
  erl +S 1 -sname wardbenchb "${ERL_DIST[@]}" -noshell -pa "$TMP/erl" \
      >/dev/null 2>&1 &
  ERLB_PID=$!
  ERL_NODE=wardbenchb@$(hostname -s)
}

erl_dist_fig() { # MOD ARGS...
  local out
  out=$(timeout 150 erl +S 1 -sname wardbencha "${ERL_DIST[@]}" \
        -dist_listen false -noshell -pa "$TMP/erl" -s "$1" main "${@:2}" \
        "$ERL_NODE" -s init stop 2>&1 | figure) || true
  [ -z "$out" ] && { echo "bench: erl (distributed) $*: no figure" >&2; out=-; }
  echo "$out"
}

# W1 idle: the host's VmRSS at the app's BASE and READY markers.
host_rss() { # WARD_PID HOST_ID -> bytes
  local p
  for p in $(pgrep -P "$1" 2>/dev/null); do
    if tr '\0' ' ' <"/proc/$p/cmdline" 2>/dev/null | grep -q "host $2 *$"; then
      # kB to bytes in the shell: mawk's printf %d stops at 2^31 - 1.
      echo $(( $(awk '/^VmRSS:/ { print $2 }' "/proc/$p/status") * 1024 ))
      return
    fi
  done
  echo 0
}

wait_marker() { # FILE MARKER
  local i
  for i in $(seq 1 600); do
    grep -q "^$2\$" "$1" 2>/dev/null && return 0
    sleep 0.1
  done
  return 1
}

ward_idle() { # N -> bytes per idle actor
  local n=$1 out=$TMP/idle.out pid r0 r1
  : >"$out"
  "$WARD" run bench/apps/w1 bench:idle "$n" "$PAUSE" >"$out" 2>"$TMP/ward.err" &
  pid=$!
  if wait_marker "$out" BASE; then
    r0=$(host_rss "$pid" bench:a)
    if wait_marker "$out" READY; then
      r1=$(host_rss "$pid" bench:a)
      wait "$pid" || true
      [ "$r0" -gt 0 ] && [ "$r1" -gt 0 ] && { echo $(( (r1 - r0) / n )); return; }
    fi
  fi
  kill "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
  echo "bench: ward idle: no RSS figure" >&2
  echo -
}
# }======

# {====== Report ======
ROWS=()
fmt() { # number with thousands separators (integers), or as is
  case $1 in
    -) echo - ;;
    *.*) printf "%s" "$1" ;;
    *) printf "%s" "$1" | sed ':a;s/\B[0-9]\{3\}\>/,&/;ta' ;;
  esac
}

# row NAME UNIT WARD OTHER RATIO_KIND TARGET_TEXT CHECK
#   RATIO_KIND: "hi" (ratio ward/other, higher is better) or "lo" (lower
#   is better); CHECK: an awk condition on w (ward), o (other), r (ratio),
#   or "" for no target.
row() {
  local name=$1 unit=$2 w=$3 o=$4 kind=$5 ttext=$6 check=$7 ratio=- met=-
  if [ "$w" != - ] && [ "$o" != - ] && [ "$o" != 0 ]; then
    ratio=$(awk -v w="$w" -v o="$o" 'BEGIN { printf "%.2f", w / o }')
  fi
  if [ -n "$check" ]; then
    if [ "$w" = - ] || { [ "$o" = - ] && printf "%s" "$check" | grep -q '[or]'; }; then
      met="n/a"
    else
      met=$(awk -v w="$w" -v o="$o" -v r="$ratio" \
            "BEGIN { if ($check) print \"yes\"; else print \"NO\" }")
    fi
  fi
  local line
  line=$(printf "%-34s %-9s %13s %13s %7s  %-24s %s" "$name" "$unit" \
         "$(fmt "$w")" "$(fmt "$o")" "$ratio" "$ttext" "$met")
  ROWS+=("$line")
  echo "$line"
}

header() {
  printf "%-34s %-9s %13s %13s %7s  %-24s %s\n" workload unit ward \
         erlang ratio target met
}
# }======

echo "== running (quick=$QUICK); one line per workload as it finishes" >&2
header

# W1
row "W1 spawn+run+exit" spawns/s "$(ward_fig w1 bench:spawn $N_SPAWN)" \
    "$(erl_fig w1_spawn $N_SPAWN)" hi ">= 200,000/s" "w >= 200000"
row "W1 idle actor memory (RSS)" bytes "$(ward_idle $N_IDLE)" \
    "$(erl_fig w1_idle $N_IDLE)" lo "<= 12 KiB" "w <= 12288"

# W2
row "W2 ping-pong, one host, int" rt/s \
    "$(ward_fig w2 bench:main $N_PP bench:a int)" \
    "$(erl_fig w2_pingpong $N_PP int)" hi ">= Erlang" "r >= 1"
row "W2 ping-pong, one host, table" rt/s \
    "$(ward_fig w2 bench:main $N_PP bench:a table)" \
    "$(erl_fig w2_pingpong $N_PP table)" hi ">= Erlang" "r >= 1"

# W3, W4 within a host
row "W3 ring 1000 x $RING_M" hops/s \
    "$(ward_fig w3 bench:main $RING_N $RING_M)" \
    "$(erl_fig w3_ring $RING_N $RING_M)" hi ">= Erlang" "r >= 1"
row "W4 fan-in $FAN_P x $FAN_K, one host" msgs/s \
    "$(ward_fig w4 bench:main $FAN_P $FAN_K bench:a)" \
    "$(erl_fig w4_fanin $FAN_P $FAN_K)" hi ">= 0.5 x Erlang" "r >= 0.5"

# Across hosts. The bare socketpair is measured with both ends on one CPU
# (every hand-off a local wake-up) and on two CPUs (every hand-off wakes
# the other CPU, which is slow on VMs); ward across hosts runs as it comes
# (unpinned) and with all of its processes on one CPU (taskset), to be
# compared with the first.
erl_node_start
SOCK1=$("$TMP/sockpair" $N_SOCK 0 0 | figure)
SOCK2=$("$TMP/sockpair" $(( N_SOCK / 10 )) 0 1 | figure)
row "socketpair 64 B, one CPU" rt/s "$SOCK1" - hi "(baseline)" ""
row "socketpair 64 B, two CPUs" rt/s "$SOCK2" - hi "(baseline)" ""
W2X=$(ward_fig w2 bench:main $N_PPX bench:b int)
W2X1=$(PIN=0 ward_fig w2 bench:main $N_PPX bench:b int)
E2X=$(erl_dist_fig w2_pingpong $N_PPX int)
row "W2 ping-pong, 2 hosts" rt/s "$W2X" "$E2X" hi ">= 1/4 sockpair(2 CPU)" \
    "w >= $SOCK2 / 4"
row "  the same, against dist. Erlang" rt/s "$W2X" "$E2X" hi ">= 0.75 x Erlang" \
    "r >= 0.75"
# The star's floor: 64 bytes A -> relay -> B -> relay -> A over bare
# socketpairs, the relay spinning as ward's broker does (bench/star.c), in
# the Erlang column to show ward's share of it; and the floor against
# distributed Erlang (the Erlang column) on the next line.
STARX=$("$TMP/star" $N_PPX 100 | figure)
row "  the star's floor (bench/star.c)" rt/s "$W2X" "$STARX" hi "(ward / floor)" ""
row "  the floor against dist. Erlang" rt/s "$STARX" "$E2X" hi "(floor / Erlang)" ""
row "W2 ping-pong, 2 hosts, 1 CPU" rt/s "$W2X1" - hi ">= 1/4 sockpair(1 CPU)" \
    "w >= $SOCK1 / 4"
W4X=$(ward_fig w4 bench:main $FAN_P $FAN_KX bench:b 1)
E4X=$(erl_dist_fig w4_fanin $FAN_P $FAN_KX)
row "W4 fan-in $FAN_P x $FAN_KX, 2 hosts" msgs/s "$W4X" "$E4X" hi \
    ">= 1,000,000/s" "w >= 1000000"
row "  the same, against 5 x distributed Erlang" msgs/s "$W4X" "$E4X" hi \
    ">= 5 x Erlang" "r >= 5"
# Issue 14: the naive fan-in (plain sends, a consumer that works a little,
# default limits): every message arrives. LOST and REFUSED are printed by
# the app; the row is its figure.
FANIN_OUT=$(timeout 300 "$WARD" run bench/apps/fanin bench:main $FAN_P $FAN_KX \
            bench:b 2>&1 || true)
row "naive fan-in $FAN_P x $FAN_KX, default limits" msgs/s \
    "$(echo "$FANIN_OUT" | figure)" - hi "0 lost, finishes" \
    "$(echo "$FANIN_OUT" | grep -q '^LOST 0 REFUSED 0$' && echo 1 || echo 0)"
row "W4 fan-in 2 hosts, 1 CPU" msgs/s \
    "$(PIN=0 ward_fig w4 bench:main $FAN_P $FAN_KX bench:b 1)" \
    - hi ">= 1,000,000/s" "w >= 1000000"
row "W4 same, $PIPE sends in flight each" msgs/s \
    "$(ward_fig w4 bench:main $FAN_P $FAN_K bench:b $PIPE)" \
    - hi ">= 1,000,000/s" "w >= 1000000"
# Issue 14: large messages across hosts (bench/apps/bigmsg).
row "1 MiB messages, 2 hosts" MB/s \
    "$(ward_fig bigmsg bench:main mib $([ $QUICK = 1 ] && echo 100 || echo 300))" \
    - hi ">= 400 MB/s" "w >= 400"
row "small rt p99, 2 hosts, 64 MiB crossing" ms \
    "$(ward_fig bigmsg bench:main p99 3 | awk '{ print $2 }')" \
    - lo "<= 5 ms" "w <= 5"

# Issue 3 (lifecycle), only when this ward has it.
if grep -q '"spawn_monitored"' runtime/lua/lprocess.c 2>/dev/null; then
  E_MON=$(erl_fig lc_monitor $N_MON)
  row "spawn_monitored+EXIT, one host" rt/s \
      "$(ward_fig lifecycle bench:monitor $N_MON bench:a)" \
      "$E_MON" hi ">= 0.5 x Erlang" "r >= 0.5"
  # What a spawn would cost at least if every actor got a new lua_State:
  # making and closing an empty state, Lua's own work
  # (bench/bench_newstate.c). ward reuses the states of ended actors
  # (runtime/lua/lstate.c), so its spawn row can beat this one.
  ${CC:-cc} -O2 bench/bench_newstate.c -o "$TMP/bench_newstate" \
    $(pkg-config --cflags --libs lua5.4) 2>/dev/null &&
    row "  new state each: newstate+close" states/s \
        "$(taskset -c 0 "$TMP/bench_newstate" | awk '/^FIGURE/ { print $2 }')" \
        "$E_MON" hi "" "" ||
    echo "bench: bench/bench_newstate.c did not build" >&2
  row "spawn_monitored+EXIT, 2 hosts" rt/s \
      "$(ward_fig lifecycle bench:monitor $N_MONX bench:b)" \
      "$(erl_dist_fig lc_monitor $N_MONX)" hi "" ""
  row "link cascade, $N_CASCADE processes" ms \
      "$(ward_fig lifecycle bench:cascade $N_CASCADE)" \
      "$(erl_fig lc_cascade $N_CASCADE)" lo "<= 2 x Erlang time" "r <= 2"
else
  echo "(issue 3 workloads skipped: this ward has no process.spawn_monitored)" >&2
fi

echo
echo "ward/erlang ratio: above 1 means ward is faster (for bytes and ms, lower is better)."
echo "Across hosts the erlang column is distributed Erlang (two nodes, +S 1 each)."
if [ "${MAC:-0}" = 1 ]; then
  echo
  bench/mac_cost.sh --quick 3
fi
