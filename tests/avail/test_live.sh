#!/usr/bin/env bash
# Liveness, deadlines and signals (issue 11, items 5, 11, 12): a host that
# stops answering is found by wall clock and killed; a request carried to a
# host has a deadline and a late answer is dropped; `ward test` kills only
# the timed-out test's host; SIGTERM and SIGINT shut ward down gracefully,
# SIGHUP does not end it. Each case runs the real ward. No case depends on
# speed: the test waits for what ward prints (every wait has a generous
# guard against hangs) and asserts outcomes only.
# Usage: test_live.sh WARD   (one line per case, then "N passed, N failed")
set -u
WARD=${1:?usage: test_live.sh WARD}
DIR=$(cd "$(dirname "$0")" && pwd)
APP=$DIR/live/app
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$DIR/lib.sh"
wpid=
cleanup() {
  [ -n "$wpid" ] && kill -KILL "$wpid" 2>/dev/null
  rm -rf "$tmp"
}
trap cleanup EXIT

# start CMD...: run ward in the background (stdout $out, stderr $err), with
# SIGINT at its default (a background job of a script ignores it).
start() {
  : >"$out"
  : >"$err"
  env --default-signal=INT,TERM,HUP "$@" >"$out" 2>"$err" &
  wpid=$!
}

# await FILE RE: wait (at most 60 s) until FILE has a line matching RE and
# ward still runs; 1 if it never does.
await() {
  local i
  for i in $(seq 600); do
    grep -Eqs -- "$2" "$1" && return 0
    kill -0 "$wpid" 2>/dev/null || { grep -Eqs -- "$2" "$1"; return; }
    sleep 0.1
  done
  return 1
}

# finish: wait (at most 60 s) for ward to exit; sets $st (124: it did not).
finish() {
  local i
  for i in $(seq 600); do
    if ! kill -0 "$wpid" 2>/dev/null; then
      wait "$wpid"
      st=$?
      wpid=
      return
    fi
    sleep 0.1
  done
  kill -KILL "$wpid" 2>/dev/null
  wait "$wpid"
  wpid=
  st=124
}

# hostpid ID: the OS pid of ward's host ID (a child of the ward under test).
hostpid() {
  pgrep -P "$wpid" -f "ward host $1\$"
}

# why NAME REASON: report case NAME failed, with what ward printed.
why() { bad "$1: $2; exit $st; stdout: $(head -c 400 "$out"); stderr: $(head -c 400 "$err")"; }

# {------ Item 5: liveness and request deadlines ------

# A host stopped while requests to it are in flight: the broker kills it
# at its liveness deadline (1s) and reports it like any dead host.
start "$WARD" run "$APP" lv:stopped
if await "$out" '^ready$' && p=$(hostpid lv:victim); then
  kill -STOP "$p"
  finish
  name="a stopped host is killed by liveness and reported"
  if [ "$st" -ne 0 ]; then why "$name" "ward run did not succeed"
  elif ! grep -Eq '^send failed: (Unavailable|Timeout): ' "$out"; then why "$name" "no send error"
  elif ! grep -Eq '^spawn failed: (Unavailable|Timeout): ' "$out"; then why "$name" "no spawn error"
  elif ! grep -q '^monitor: EXIT: host lv:victim died: unresponsive: no heartbeat for 1000 ms (liveness)' "$out"; then why "$name" "no EXIT naming the cause"
  elif ! grep -q '^other host: fine$' "$out"; then why "$name" "other hosts did not carry on"
  elif ! grep -q '^ward: host lv:victim: unresponsive: no heartbeat for 1000 ms (liveness)' "$err"; then why "$name" "no kill reason on stderr"
  else ok "$name"
  fi
else
  finish; why "stopped host" "not ready or no host process"
fi

# A request that passes its deadline fails with Timeout; the late answer
# is dropped (not taken for a forgery): the host lives and answers again.
start "$WARD" run "$APP" lv:late
if await "$out" '^ready$' && p=$(hostpid lv:slowpoke); then
  kill -STOP "$p"
  await "$out" '^request failed'
  kill -CONT "$p"
  finish
  name="a late answer is dropped and its host lives"
  if [ "$st" -ne 0 ]; then why "$name" "ward run did not succeed"
  elif ! grep -Eq '^request failed: Timeout: .*lv:slowpoke.*3000 ms' "$out"; then why "$name" "no Timeout error"
  elif ! grep -q '^answered again$' "$out" || ! grep -q '^exec: fine$' "$out"; then why "$name" "host did not answer again"
  elif grep -q 'lv:slowpoke: ' "$err"; then why "$name" "the host was killed"
  else ok "$name"
  fi
else
  finish; why "late answer" "not ready or no host process"
fi

# An answer for a caller whose host died meanwhile goes to nobody and is no
# forgery: its host lives. The test kills lv:caller's host once the broker
# has carried the request (the broker's audit record of it follows the
# host's own).
log=$tmp/orphan.log
start "$WARD" run --audit all --audit-log "$log" "$APP" lv:orphan
if await "$out" '^ready$' && p=$(hostpid lv:patient) && f=$(hostpid lv:flag); then
  kill -STOP "$p"
  kill -KILL "$f"
  for i in $(seq 600); do
    [ "$(grep -c '"topic":"orphan"' "$log")" -ge 2 ] && break
    sleep 0.1
  done
  c=$(hostpid lv:caller) && kill -KILL "$c"
  await "$out" '^caller died$'
  kill -CONT "$p"
  finish
  name="an answer for a dead caller is dropped and its host lives"
  if [ "$st" -ne 0 ]; then why "$name" "ward run did not succeed"
  elif ! grep -q '^patient answers$' "$out" || ! grep -q '^sleeper: process terminated' "$out"; then why "$name" "lv:patient did not live on"
  elif grep -q 'lv:patient: ' "$err"; then why "$name" "lv:patient was killed"
  else ok "$name"
  fi
else
  finish; why "orphan answer" "not ready or no host process"
fi

# An honest host busy in Lua for longer than its liveness is not killed.
start "$WARD" run "$APP" lv:busy_main
finish
if [ "$st" -eq 0 ] && grep -qx 'spun' "$out" && ! grep -q 'unresponsive' "$err"; then
  ok "a busy host is not killed by liveness"
else
  why "a busy host is not killed by liveness" "killed or failed"
fi

# A broker that was itself stopped (or starved) for longer than the hosts'
# liveness and request_timeout, then resumes: what the hosts sent meanwhile
# is read before anything is judged, so nothing fails and nobody is killed.
# (The 3 s pause is the scenario, not a bound: any longer pause is the same.)
start "$WARD" run "$APP" lv:pause
if await "$out" '^ready$'; then
  kill -STOP "$wpid"
  sleep 3
  kill -CONT "$wpid"
  kill -TERM "$wpid"
  finish
  name="a broker stopped for a while kills nobody and fails nothing"
  if [ "$st" -ne 0 ]; then why "$name" "ward run did not succeed"
  elif ! grep -q '^sends failed before CANCEL: 0 $' "$out"; then why "$name" "a send failed"
  elif grep -q 'unresponsive' "$err"; then why "$name" "a host was killed"
  else ok "$name"
  fi
else
  finish; why "stopped broker" "not ready"
fi

# }------

# {------ Item 11: a test time-out kills only its own host ------

start "$WARD" test --timeout 3 -v "$DIR/live/tests"
finish
name="a test time-out kills only the test's host"
if [ "$st" -ne 1 ]; then why "$name" "exit is not 1"
elif ! grep -q '^FAIL   lt:a_hang .*timed out after 3 s' "$out"; then why "$name" "the first test did not time out"
elif ! grep -q '^ok     lt:b_after' "$out"; then why "$name" "the second test failed"
elif ! grep -q '^1 passed, 1 failed$' "$out"; then why "$name" "wrong summary"
elif [ "$(grep -c 'host lt:h2 started' "$err")" -ne 1 ]; then why "$name" "lt:h2 was restarted"
else ok "$name"
fi

# }------

# {------ Item 12: signals ------

for sig in TERM INT; do
  start "$WARD" run "$APP" lv:cancelme
  if await "$out" '^ready$'; then
    kill -"$sig" "$wpid"
    finish
    name="SIG$sig: graceful shutdown (CANCEL, then exit)"
    if [ "$st" -ne 0 ]; then why "$name" "exit is not 0"
    elif ! grep -qx 'got CANCEL' "$out" || ! grep -qx 'cancelled' "$out"; then why "$name" "no CANCEL"
    else ok "$name"
    fi
  else
    finish; why "SIG$sig" "not ready"
  fi
done

# ward serve: SIGHUP is logged and ignored; SIGTERM ends it with a closing
# checkpoint, so the log verifies; host_death records carry the real pid.
log=$tmp/audit.log
start "$WARD" serve --audit all --audit-log "$log" "$DIR/live/serve"
if await "$log" '"kind":"host_start"'; then
  kill -HUP "$wpid"
  if await "$err" "SIGHUP" && kill -0 "$wpid" 2>/dev/null; then
    ok "SIGHUP does not end ward serve"
  else
    bad "SIGHUP does not end ward serve: $(head -c 300 "$err")"
  fi
  kill -TERM "$wpid" 2>/dev/null
  finish
  if [ "$st" -eq 0 ] && "$WARD" audit verify "$log" >"$tmp/v" 2>&1; then
    ok "SIGTERM ends ward serve with a verifiable log"
  else
    bad "SIGTERM ends ward serve with a verifiable log: exit $st; $(head -c 300 "$tmp/v")"
  fi
  spid=$(sed -n 's/.*"kind":"host_start".*"pid":"\([0-9]*\)".*/\1/p' "$log" | head -1)
  dpid=$(sed -n 's/.*"kind":"host_death".*"pid":"\([0-9]*\)".*/\1/p' "$log" | head -1)
  if [ -n "$spid" ] && [ "$spid" != 0 ] && [ "$spid" = "$dpid" ]; then
    ok "host_death carries the host's pid"
  else
    bad "host_death carries the host's pid: start $spid, death $dpid"
  fi
  # A log cut before its first checkpoint: verify names no line 0.
  head -n 2 "$log" >"$tmp/cut.log"
  "$WARD" audit verify --key "$log.pub" "$tmp/cut.log" >"$tmp/v" 2>&1
  vst=$?
  if [ "$vst" -eq 1 ] && grep -q 'no checkpoint at all' "$tmp/v" && ! grep -q 'line 0' "$tmp/v"; then
    ok "audit verify of a log without a checkpoint names no line 0"
  else
    bad "audit verify of a log without a checkpoint: exit $vst: $(head -c 300 "$tmp/v")"
  fi
else
  finish; bad "ward serve did not start: $(head -c 300 "$err")"
fi

# }------

summary
