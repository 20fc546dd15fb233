#!/usr/bin/env bash
# Availability (issue 11): what one tenant or one command line must never do
# to ward. Each case runs the real ward; no case depends on speed.
# Usage: test_avail.sh WARD   (one line per case, then "N passed, N failed")
set -u
WARD=${1:?usage: test_avail.sh WARD}
DIR=$(cd "$(dirname "$0")" && pwd)
APP=$DIR/app
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$DIR/lib.sh"

# Item 9: the broker encodes any number of arguments (it used to push them
# on a Lua stack without room: 50 crashed it).
expect "60 arguments" 0 '^60 1 60$' '' -- "$WARD" run "$APP" av:args $(seq 1 60)
expect "5000 arguments" 0 '^5000 1 5000$' '' -- "$WARD" run "$APP" av:args $(seq 1 5000)

# Item 8: describing a result is bounded: each table once, shared ones as
# <shared>; the host is not killed at its turn deadline.
expect "a DAG result is described at once" 0 'b = <shared>' '' -- "$WARD" run "$APP" av:dag
expect "a cycle in a result is described once" 0 'cyc = \{name = "c", self = <shared>\}' '' -- "$WARD" run "$APP" av:dag
n=$(wc -c <"$out")
if [ "$n" -gt 100 ] && [ "$n" -lt 70000 ]; then ok "the description is bounded ($(wc -c <"$out") bytes)"; else bad "description of $(wc -c <"$out") bytes"; fi

# Item 4: a watcher's end takes its monitors off their targets, on both
# sides: after 100 watchers on av:h monitored a target on av:h2 and ended,
# the broker holds no cross-host watch (their targets' host dropped them).
expect "monitor churn leaves no watch behind" 0 '^churned$' 'root process ended; the broker holds 0 cross-host watches' -- "$WARD" run -v --shutdown-timeout 200ms "$APP" av:churn

# Item 3: per-host quotas on names and cross-host watches (av:q: 50 names,
# 20 watches); a refused one is LimitExceeded naming the option, and the
# names of an ended process are released, so the quota is there again.
expect "name quota" 0 '^names: 50 LimitExceeded .*host.max_names' '' -- "$WARD" run --host av:q "$APP" av:quota names
expect "names of an ended process are released" 0 '^round 2: 50$' '' -- "$WARD" run "$APP" av:quota_main
expect "watch quota" 0 '^watches: 20 LimitExceeded .*host.max_watches' '' -- "$WARD" run --shutdown-timeout 200ms --host av:q "$APP" av:quota watches
if grep -qx 'monitored spawn: LimitExceeded' "$out" && grep -qx 'after unmonitor: 5' "$out"; then
  ok "monitored spawns count; room again after unmonitor"
else
  bad "watch quota details: $(head -c 300 "$out")"
fi

summary
