#!/usr/bin/env bash
# Fault and load suite (issue 11): the app in app/ runs a victim tenant's
# numbered cross-host traffic and a chaos tenant's floods under ward while
# this script kills -9 a restart:true host every few seconds, stops hosts
# with SIGSTOP and measures the broker's and every host's RSS and fds.
# The Lua side prints "@" requests (done here, answered by killing the
# bell host) and "@count" lines, reconciled here exactly. Nothing here
# depends on speed: every wait has a generous guard. See README.md.
# Usage: run.sh WARD [--long]   (one line per case, then "N passed, N failed")
set -u
WARD=${1:?usage: run.sh WARD [--long]}
MODE=short
[ "${2:-}" = "--long" ] && MODE=long
DIR=$(cd "$(dirname "$0")" && pwd)
case $WARD in /*) ;; *) WARD=$PWD/$WARD ;; esac
tmp=$(mktemp -d)
BROKER=
KILLER=
cleanup() {
  [ -n "$KILLER" ] && kill "$KILLER" 2>/dev/null
  [ -n "$BROKER" ] && kill -9 "$BROKER" 2>/dev/null
  rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# Hard guard on the whole run: the harness's own guards end well before.
if [ "$MODE" = long ]; then LIMIT=3600; else LIMIT=280; fi
HOSTS="ctl src sink frozen nap work chaos fan"
MIB=1024          # kB
RSS_ADD=$((50 * MIB))  # RSS may grow by 50 MiB or by half, whichever is more
FD_SLACK=4

pass=0 fail=0
ok() { echo "ok     $1"; pass=$((pass + 1)); }
bad() { echo "FAIL   $1"; fail=$((fail + 1)); }
info() { echo "       $1"; }

# {====== The app, with a liveness deadline when this ward has one ======
APP=$tmp/app
cp -r "$DIR/app" "$APP"
probe() {
  mkdir -p "$tmp/probe"
  printf 'namespace: p\nentries:\n  - name: h\n    kind: process.host\n%s\n' \
    "$1" >"$tmp/probe/_index.yaml"
  "$WARD" policy check "$tmp/probe" >/dev/null 2>&1
}
LIVENESS=none
if probe '    host: {liveness: 5s}'; then LIVENESS='    host: {liveness: 5s}'
elif probe '    liveness: 5s'; then LIVENESS='    liveness: 5s'
fi
if [ "$LIVENESS" != none ]; then
  awk -v add="$LIVENESS" '
    { print }
    /^  - name: (frozen|nap) / { want = 1 }
    want && /^    kind: process.host/ { print add; want = 0 }
  ' "$DIR/app/_index.yaml" >"$APP/_index.yaml"
fi
# }======

# {====== Processes and measurements ======
host_pid() { pgrep -P "$BROKER" -xf "ward host $1" | head -1; }

# kB of resident memory and open fds of process $1: "rss fds".
usage_of() {
  local rss fds
  rss=$(awk '/^VmRSS:/ { print $2 }' "/proc/$1/status" 2>/dev/null)
  fds=$(ls "/proc/$1/fd" 2>/dev/null | wc -l)
  echo "${rss:--1} ${fds:--1}"
}

# Record "tag name pid rss fds" for the broker and every host.
measure() {
  local n p
  for n in broker $HOSTS; do
    if [ "$n" = broker ]; then p=$BROKER; else p=$(host_pid "fault:$n"); fi
    if [ -n "$p" ]; then
      echo "$1 $n $p $(usage_of "$p")" >>"$tmp/measure"
    else
      echo "$1 $n none -1 -1" >>"$tmp/measure"
    fi
  done
}

# Answer the harness: kill the bell host (it watches its one process).
ring() {
  local p i
  for i in $(seq 1 200); do
    p=$(host_pid fault:bell)
    if [ -n "$p" ] && kill -9 "$p" 2>/dev/null; then return 0; fi
    sleep 0.05
  done
  echo "run.sh: no bell host to ring" >&2
}

# kill -9 host $1 every $2 seconds until $tmp/stop.$1 exists.
killer() {
  local p
  while :; do
    sleep "$2"
    [ -e "$tmp/stop.$1" ] && exit 0
    p=$(host_pid "$1")
    if [ -n "$p" ] && kill -9 "$p" 2>/dev/null; then echo "$p" >>"$tmp/kills.$1"; fi
  done
}

do_request() {
  local p
  set -- $1
  case $1 in
    @baseline) measure base; ring ;;
    @end) measure end; ring ;;
    @sample) measure "sample-$2"; echo "$3" >"$tmp/held-$2"; ring ;;
    @kill-on)
      rm -f "$tmp/stop.$2"
      killer "$2" "$3" &
      KILLER=$!
      ring ;;
    @kill-off)
      touch "$tmp/stop.$2"
      wait "$KILLER"
      KILLER=
      ring ;;
    @stop)
      p=$(host_pid "$2")
      [ -n "$p" ] && kill -STOP "$p" && echo "$p" >"$tmp/stopped.$2"
      ring ;;
    @cont)
      [ -e "$tmp/stopped.$2" ] && kill -CONT "$(cat "$tmp/stopped.$2")" 2>/dev/null
      echo cont >>"$tmp/conts.$2"
      ring ;;
    @stopcont)
      p=$(host_pid "$2")
      if [ -n "$p" ]; then
        kill -STOP "$p"
        sleep "$3"
        kill -CONT "$p"
        echo "$p" >"$tmp/stopcont.$2"
      fi
      ring ;;
  esac
}
# }======

# {====== Run ======
OUT=$tmp/out ERR=$tmp/err
: >"$OUT"
: >"$tmp/measure"
start=$(date +%s)
echo "fault suite ($MODE), liveness option: $( [ "$LIVENESS" = none ] && echo 'not in this ward' || echo "$LIVENESS" | tr -s ' ')"
( "$WARD" run "$APP" fault:main "$MODE" >"$OUT" 2>"$ERR" &
  echo $! >"$tmp/broker"
  wait $!
  echo $? >"$tmp/rc" ) &
RUNNER=$!
while [ ! -s "$tmp/broker" ]; do sleep 0.01; done
BROKER=$(cat "$tmp/broker")
exec 3<"$OUT"
partial=
timed_out=0
while :; do
  if IFS= read -r line <&3; then
    line=$partial$line
    partial=
    case $line in
      @baseline*|@end*|@sample*|@kill-on*|@kill-off*|@stop*|@cont*) do_request "$line" ;;
    esac
    continue
  fi
  partial=$partial$line
  if [ -e "$tmp/rc" ]; then
    # Gone: whatever it wrote is in the file already.
    while IFS= read -r line <&3; do :; done
    break
  fi
  if [ $(($(date +%s) - start)) -gt "$LIMIT" ]; then
    timed_out=1
    # Let nothing stay stopped, then end it.
    for f in "$tmp"/stopped.*; do [ -e "$f" ] && kill -CONT "$(cat "$f")" 2>/dev/null; done
    kill -9 "$BROKER" 2>/dev/null
  fi
  sleep 0.05
done
wait "$RUNNER"
rc=$(cat "$tmp/rc" 2>/dev/null || echo 137)
BROKER=
if [ -n "$KILLER" ]; then touch "$tmp"/stop.*; kill "$KILLER" 2>/dev/null; KILLER=; fi
took=$(($(date +%s) - start))
# }======

# {====== Reconcile ======
declare -A F
parse() {
  local kv
  F=()
  for kv in $1; do F[${kv%%=*}]=${kv#*=}; done
}
counts() { grep "^@count $1 " "$OUT" | sed "s/^@count $1 //"; }
num() { echo "${F[$1]:--1}"; }

[ "$timed_out" = 0 ] && [ "$rc" = 0 ] && grep -q '^@done' "$OUT" &&
  ok "ward run finished the suite (exit 0, ${took} s)" ||
  bad "ward run: exit $rc after ${took} s$( [ "$timed_out" = 1 ] && echo ", killed after the ${LIMIT} s guard"), done: $(grep -c '^@done' "$OUT"); stderr: $(grep -v '^ward: host' "$ERR" | tail -3 | tr '\n' ' ' | head -c 400)"

# Failures the Lua side saw (guards, protocol).
while IFS= read -r l; do
  set -- $l
  bad "$2: $(echo "$l" | cut -d' ' -f3- | tr '_' ' ')"
done < <(grep '^@fail ' "$OUT")

# Numbered traffic: accepted = received + lost with a notified EXIT.
check_traffic() { # case line-prefix what
  local line n=0 acc=0 rec=0 lost=0 ref=0 deaths=0 errs=""
  while IFS= read -r line; do
    parse "$line"
    n=$((n + 1))
    acc=$((acc + $(num accepted)))
    rec=$((rec + $(num received)))
    lost=$((lost + $(num lost)))
    ref=$((ref + $(num refused)))
    deaths=$((deaths + $(num deaths)))
    [ "$(num accepted)" -eq $(($(num received) + $(num lost))) ] ||
      errs="$errs [${F[p]:-}: accepted $(num accepted) != received $(num received) + lost $(num lost)]"
    for k in unnotified bad mismatch other_exit stray; do
      [ "$(num $k)" = 0 ] || errs="$errs [$k=$(num $k)]"
    done
  done < <(counts "$1")
  if [ "$n" = 0 ]; then bad "$1: no counts reported"; return; fi
  LAST_DEATHS=$deaths
  if [ -z "$errs" ]; then
    ok "$1: $2: $acc accepted = $rec received + $lost lost with their receiver (EXIT to the sender each time: $deaths), in order per sender; $ref refused$(kinds "$1")"
  else
    bad "$1: $2:$errs"
  fi
}

# Linked, monitored children: one EXIT each, LINK_DOWN exactly for failures.
check_churn() { # case what (one line per round; summed)
  local line errs="" n=0 k
  declare -A T=()
  while IFS= read -r line; do
    parse "$line"
    n=$((n + 1))
    [ "$(num exits)" = "$(num spawned)" ] || errs="$errs [exits $(num exits) != spawned $(num spawned)]"
    for k in missing dupexit dupdown down_mismatch wrong stray; do
      [ "$(num $k)" = 0 ] || errs="$errs [$k=$(num $k)]"
    done
    [ "$(num spawned)" -gt 0 ] || errs="$errs [nothing spawned]"
    for k in spawned spawnfail failed hostdied ok; do T[$k]=$((${T[$k]:-0} + $(num $k))); done
    T[secs]="${T[secs]:+${T[secs]}+}$(num secs)"
  done < <(counts "$1")
  if [ "$n" = 0 ]; then bad "$1: no counts reported"; return; fi
  if [ -z "$errs" ]; then
    ok "$1: $2: ${T[spawned]} children in ${T[secs]} s, one EXIT each, LINK_DOWN for the ${T[failed]} failures (${T[hostdied]} by host death), none for the ${T[ok]} others"
  else
    bad "$1: $2:$errs (spawned ${T[spawned]}, spawn failures ${T[spawnfail]})"
  fi
}

# " (Kind: n, ...)" summed over the refused_kinds of every line of case $1.
kinds() {
  counts "$1" | grep -o 'refused_kinds=[^ ]*' | cut -d= -f2 | tr ',' '\n' |
    awk -F: '$2 != "" { n[$1] += $2 } END { s = ""; for (k in n) s = s (s ? ", " : "") k ": " n[k]; if (s) print " (" s ")" }'
}

check_fanin() { # case (4 lines per round)
  local line errs="" acc=0 ref=0 n=0
  while IFS= read -r line; do
    parse "$line"
    n=$((n + 1))
    acc=$((acc + $(num accepted)))
    ref=$((ref + $(num refused)))
    [ "$(num accepted)" = "$(num got)" ] && [ "$(num sum)" = "$(num gsum)" ] &&
      [ "$(num sq)" = "$(num gsq)" ] && [ "$(num bad)" = 0 ] ||
      errs="$errs [round $(num round) producer $(num p): accepted $(num accepted) sum $(num sum) sq $(num sq); consumer got $(num got) sum $(num gsum) sq $(num gsq), out of order $(num bad)]"
  done < <(counts "$1")
  if [ "$n" = 0 ] || [ $((n % 4)) != 0 ]; then bad "$1: $n producers reported (4 a round)$errs"; return; fi
  if [ -z "$errs" ]; then
    ok "$1: naive fan-in, $((n / 4)) round(s) of 4 producers: $acc accepted = received (count, sum, sum of squares per sender), in order; $ref refused$(kinds "$1")"
  else
    bad "$1: naive fan-in:$errs"
  fi
}

check_mchurn() { # case
  local line errs=""
  line=$(counts "$1" | head -1)
  if [ -z "$line" ]; then bad "$1: no counts reported"; return; fi
  parse "$line"
  [ "$(num exits)" = "$(num watchers)" ] || errs="$errs [EXITs $(num exits) != watchers $(num watchers)]"
  [ "$(num watchers)" = "$(num wanted)" ] || errs="$errs [$(num watchers) of $(num wanted) watchers before the churn's guard passed]"
  for k in missing stray; do [ "$(num $k)" = 0 ] || errs="$errs [$k=$(num $k)]"; done
  [ "$(num long_one)" = "$(num long)" ] || errs="$errs [long watchers told exactly once of each target: $(num long_one) of $(num long) ($(num long_counts))]"
  [ "$(num target_exits)" = "$(num targets)" ] || errs="$errs [EXITs of the targets: $(num target_exits) of $(num targets)]"
  if [ -z "$errs" ]; then
    ok "$1: monitor churn: $(num watchers) watchers made $(num monitors) monitors of $(num targets) targets and ended, one EXIT each; the $(num long) long watchers told once of each target's end (monitors refused: $(num monitor_refused))"
  else
    bad "$1: monitor churn:$errs"
  fi
}

check_names() { # prefix
  local line held
  check_churn "${1}names" "the victim's linked, monitored spawns (own names) on fault:work during the chaos names flood"
  while IFS= read -r line; do
    parse "$line"
    info "${1}flood $(num k): chaos registered $(num registered) names, $(num refused) refused ($(num refused_kinds))"
  done < <(counts "${1}flood")
}

for pre in warm- ""; do
  check_traffic "${pre}crossload" "kill -9 of fault:sink every few seconds under traffic"
  if [ -z "$pre" ]; then
    kills=$(cat "$tmp/kills.fault:sink" 2>/dev/null | wc -l)
    # A kill shows as signal 9, or as a closed link when the broker could
    # not reap the host within its 50 ms (a loaded machine).
    died=$(grep -Ec '^ward: host fault:sink: (crashed: killed by signal 9|closed its link: killed)' "$ERR")
    if [ "$kills" -gt 0 ] && [ "$died" = "$kills" ] && [ "${LAST_DEATHS:-0}" -gt 0 ]; then
      ok "kills: $kills kill -9 of fault:sink, each one seen by the broker; $LAST_DEATHS receivers lost with it"
    else
      bad "kills: $kills kill -9 of fault:sink; the broker saw $died deaths; receivers lost with their host: ${LAST_DEATHS:-0}"
    fi
  fi
  check_churn "${pre}spawnchurn" "linked, monitored spawns on fault:sink$( [ -z "$pre" ] && echo ' while it is killed')"
  check_traffic "${pre}stopcont" "SIGSTOP of fault:nap for a while, then SIGCONT"
  check_traffic "${pre}stop" "SIGSTOP of fault:frozen, left to the broker"
  if [ -z "$pre" ]; then
    parse "$(counts stop | head -1)"
    if [ "$(num answered)" = 1 ]; then
      ok "stop: the sender blocked on stopped fault:frozen was answered after $(num waited_ms) ms"
    else
      bad "stop: a sender blocked on fault:frozen (SIGSTOP) got no answer within $(num guard_s) s: nothing ends a stopped host (no wall-clock liveness deadline); the script sent SIGCONT"
    fi
  fi
  check_names "$pre"
  check_fanin "${pre}fanin"
  check_mchurn "${pre}mchurn"
done

parse "$(counts harness | head -1)"
[ "$(num stray_events)" = 0 ] &&
  ok "harness: no stray event (a late duplicate, or from a PID it never started)" ||
  bad "harness: $(num stray_events) stray events (late duplicates, or from PIDs it never started)"

# Hosts that died other than by this script's hand.
unexpected=$(grep '^ward: host ' "$ERR" | grep -v ': restarted$' |
  grep -Ev '^ward: host fault:(sink|bell): (crashed: killed by signal 9|closed its link: killed)' |
  grep -v '^ward: host fault:frozen: ' | sort | uniq -c | head -5)
[ -z "$unexpected" ] && ok "no host died but those this script killed" ||
  bad "hosts died unexpectedly: $(echo "$unexpected" | tr -s ' ' | tr '\n' ';')"

# Resources: the flood's peak and the end against the baseline.
mb() { awk -v k="$1" 'BEGIN { printf "%.1f", k / 1024 }'; }
limit_of() { local a=$(($1 + RSS_ADD)) b=$(($1 * 3 / 2)); [ $a -gt $b ] && echo $a || echo $b; }
row() { awk -v t="$1" -v n="$2" '$1 == t && $2 == n { print $3, $4, $5 }' "$tmp/measure" | tail -1; }
if ! grep -q '^base ' "$tmp/measure"; then
  bad "resources: no baseline was measured"
else
  # The broker at each round's flood peak: the largest against the limit.
  read -r _ brss _ <<<"$(row base broker)"
  lim=$(limit_of "$brss")
  top=0 held=0 rounds=0
  for tag in $(awk '$1 ~ /^sample-/ { print $1 }' "$tmp/measure" | sort -u); do
    read -r _ srss _ <<<"$(row "$tag" broker)"
    rounds=$((rounds + 1))
    if [ "$srss" -gt "$top" ]; then
      top=$srss
      held=$(cat "$tmp/held-${tag#sample-}" 2>/dev/null)
    fi
  done
  if [ "$rounds" = 0 ]; then
    bad "names flood: the broker was never measured at a flood's peak"
  elif [ "$top" -le "$lim" ]; then
    ok "names flood: broker RSS at most $(mb "$top") MiB while tenant chaos held $held names ($rounds round(s); baseline $(mb "$brss"), limit $(mb "$lim"))"
  else
    bad "names flood: broker RSS $(mb "$top") MiB while tenant chaos held $held names, over the limit $(mb "$lim") MiB (baseline $(mb "$brss"), $rounds round(s)): names per tenant are not bounded"
  fi
  for n in broker $HOSTS; do
    read -r bp brss bfd <<<"$(row base "$n")"
    read -r ep erss efd <<<"$(row end "$n")"
    if [ -z "${ep:-}" ] || [ "$ep" = none ] || [ "$bp" = none ]; then
      bad "resources: $n: not running at the $( [ "$bp" = none ] && echo baseline || echo end)"
      continue
    fi
    lim=$(limit_of "$brss")
    d=$((efd - bfd)); [ $d -lt 0 ] && d=$((-d))
    what="RSS $(mb "$brss") -> $(mb "$erss") MiB (limit $(mb "$lim")), fds $bfd -> $efd$( [ "$bp" != "$ep" ] && echo ', restarted')"
    if [ "$erss" -le "$lim" ] && [ "$d" -le "$FD_SLACK" ]; then
      ok "resources: $n back to its baseline: $what"
    else
      bad "resources: $n not back to its baseline: $what"
    fi
  done
fi
# }======

info "ran $took s; kills of fault:sink: $(cat "$tmp/kills.fault:sink" 2>/dev/null | wc -l); $(grep '^@note' "$OUT" | cut -c7- | tr '\n' ' ')"
if [ "$fail" -gt 0 ] || [ -n "${FAULT_VERBOSE:-}" ]; then
  info "ward's standard error (last lines, host restarts and kills left out):"
  grep -Ev '^ward: host fault:(sink|bell): (crashed: killed by signal 9|closed its link: killed|restarted)' "$ERR" | tail -8 | sed 's/^/         /'
fi
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
