#!/usr/bin/env bash
# Attacks on the signed broker<->host link. For each attack, `ward run`
# runs tests/link/app with host lk:evil played by ward_evilhost (through
# the switch WARD_TEST_HOST_ID/WARD_TEST_HOST_EXE, which only the test
# binary ward_testhooks has: build with -DWD_TEST_HOOKS=ON), and the test
# checks that:
#   - the evil host's first, valid frame was accepted (its LOG line shows),
#   - the broker killed it and logged the exact reason
#     ("ward: host lk:evil: <reason>"), and the spawn waiting on it failed
#     with "host lk:evil died: <reason>",
#   - the other tenant (lk:main on lk:good, pinging canaries on lk:good and,
#     through the broker, on lk:peer) was answered before, during and after
#     the attack, and `ward run` exited 0.
# The forged-event cases also check what lk:main received, the credit
# cases (msgflood, msgbytes, msgsmall, msgown) what the processes on
# lk:far took, and a control runs tests/link/races (honest hosts only) to
# see that no honest host is taken for a forger.
# The broker gives a host no environment (but ASAN_/UBSAN_/LSAN_ in a
# sanitizer build), so each case runs a small wrapper script that sets
# WARD_EVIL_MODE (and friends) and execs ward_evilhost.
# The flip case covers every byte of the frame, with all bits flipped
# (mask 0xff), plus a one-bit flip on a sample of bytes; FLIP=sample runs
# only the sample.
# Usage: test_link.sh WARD_TESTHOOKS EVILHOST  (prints one line per case,
# then "N passed, N failed")
set -u
WARD=${1:?usage: test_link.sh WARD EVILHOST}
EVIL=${2:?usage: test_link.sh WARD EVILHOST}
DIR=$(cd "$(dirname "$0")" && pwd)
APP=$DIR/app
pass=0 fail=0 skip=0
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
out=$tmp/out err=$tmp/err

ok() { echo "ok     $1"; pass=$((pass+1)); }
bad() { echo "FAIL   $1"; fail=$((fail+1)); }

# run MODE [VAR=VALUE...]: run the app with lk:evil attacking in MODE;
# sets $st, fills $out and $err.
run() {
  local mode=$1 exe=$tmp/evil.sh; shift
  {
    echo '#!/bin/sh'
    printf "export WARD_EVIL_MODE='%s'\n" "$mode"
    for kv in "$@"; do printf "export %s='%s'\n" "${kv%%=*}" "${kv#*=}"; done
    printf "exec '%s' \"\$@\"\n" "$EVIL"
  } >"$exe"
  chmod +x "$exe"
  # shellcheck disable=SC2086 # RUN_ARGS: words meant
  WARD_TEST_HOST_ID=lk:evil WARD_TEST_HOST_EXE=$exe timeout 60 \
    "$WARD" run --shutdown-timeout 200ms ${RUN_ARGS:-} "$APP" lk:main "$mode" \
    >"$out" 2>"$err"
  st=$?
}

# What went wrong with the good tenant's side, or nothing.
tenant_problem() {
  local n
  [ "$st" -eq 0 ] || { echo "ward exited $st"; return; }
  grep -qx "pings before: 5" "$out" || { echo "no pings before"; return; }
  n=$(sed -n 's/^pings during: \([0-9]*\)$/\1/p' "$out")
  [ "${n:-0}" -ge 1 ] || { echo "no pings during"; return; }
  grep -qx "pings after: 20" "$out" || { echo "no pings after"; return; }
}

# attack NAME MODE REASON [VAR=VALUE...]: the evil host must be killed
# with exactly REASON logged while the tenant carries on.
attack() {
  local name=$1 mode=$2 reason=$3 p; shift 3
  run "$mode" "$@"
  if ! grep -qxF "ward: host lk:evil: evil host lk:evil up, mode $mode" "$err"; then
    bad "$name: the evil host's valid first frame was not accepted; stderr: $(head -c 400 "$err")"
  elif ! grep -qxF "ward: host lk:evil: $reason" "$err"; then
    bad "$name: stderr lacks 'ward: host lk:evil: $reason': $(grep -v 'evil host lk:evil up' "$err" | head -c 400)"
  elif ! grep -qxF "evil spawn: error: host lk:evil died: $reason" "$out"; then
    bad "$name: the spawn on lk:evil did not fail with the reason: $(grep '^evil spawn' "$out")"
  elif grep '^ward: host ' "$err" | grep -qv '^ward: host lk:evil: '; then
    bad "$name: other hosts were reported: $(grep '^ward: host ' "$err" | grep -v '^ward: host lk:evil: ' | head -c 400)"
  elif p=$(tenant_problem) && [ -n "$p" ]; then
    bad "$name: the other tenant suffered: $p; stdout: $(head -c 300 "$out") stderr: $(head -c 300 "$err")"
  else
    ok "$name: killed ($reason), tenant served ($(grep '^pings during' "$out"))"
  fi
}

# Control: no attack, nobody is killed.
run none
if p=$(tenant_problem) && [ -z "$p" ] && grep -q '^evil spawn: ok ' "$out" &&
   ! grep -q 'killed\|died' "$err"; then
  ok "none: no attack, nobody killed"
else
  bad "none: $p; stdout: $(head -c 300 "$out") stderr: $(head -c 300 "$err")"
fi
# Sources: a host gets only the code it may run. lk:evil holds lk:victim
# (pinned to it); the other tenant's entries, pinned elsewhere or not
# pinned at all (lk:canary, lk:answer), never reach it.
shipped=$(sed -n 's/^evilhost: lk:evil: entries: //p' "$err")
if [ "$shipped" = "lk:victim" ]; then
  ok "sources: lk:evil was shipped only lk:victim"
else
  bad "sources: lk:evil was shipped '$shipped', want 'lk:victim'"
fi

# Flip: every byte of a valid frame. The expected code follows from the
# order of wd_ipc_open's checks (fixed fields, length bound, length, tag).
read -r flen hlen plen tlen < <("$EVIL" layout)
if [ -z "${flen:-}" ] || [ "$flen" -ne $((hlen + plen + tlen)) ]; then
  bad "flip: ward_evilhost layout printed '${flen:-} ${hlen:-} ${plen:-} ${tlen:-}'"
  flen=0
fi
MAXP=$((512 << 10)) # WD_LINK_MAX_PAYLOAD
flip_reason() { # BYTE MASK
  local i=$1 m=$2 n
  if [ "$i" -le 2 ] || { [ "$i" -ge 4 ] && [ "$i" -le 7 ]; } ||
     { [ "$i" -ge 20 ] && [ "$i" -le 23 ]; }; then
    echo "bad frame (malformed frame): killed"      # magic, version, flags, reserved
  elif [ "$i" -ge 16 ] && [ "$i" -le 19 ]; then
    n=$((plen ^ (m << (8 * (i - 16)))))              # the length field
    if [ "$n" -gt "$MAXP" ]; then echo "bad frame (too big): killed"
    else echo "bad frame (malformed frame): killed"; fi
  else
    echo "bad frame (bad frame signature): killed"  # type, seq, payload, tag
  fi
}
sample="0 2 3 4 8 15 16 17 18 19 20 23 $hlen $((hlen + plen - 1)) $((hlen + plen)) $((flen - 1))"
if [ "${FLIP:-all}" = sample ]; then bytes=$sample; else bytes=$(seq 0 $((flen - 1))); fi
for i in $bytes; do
  attack "flip byte $i ^0xff" flip "$(flip_reason "$i" 255)" WARD_EVIL_BYTE="$i" \
    WARD_EVIL_MASK=0xff WARD_EVIL_DELAY_MS=100
done
for i in $sample; do
  attack "flip byte $i ^0x01" flip "$(flip_reason "$i" 1)" WARD_EVIL_BYTE="$i" \
    WARD_EVIL_MASK=0x01 WARD_EVIL_DELAY_MS=100
done

# Sequence numbers.
attack "replay a frame" replay "bad frame (frame out of sequence): killed"
attack "drop a frame" drop "bad frame (frame out of sequence): killed"
attack "reorder two frames" reorder "bad frame (frame out of sequence): killed"
# Lengths.
attack "truncate by one byte" truncate "bad frame (malformed frame): killed"
attack "frame in the old format (BLAKE2b tag)" oldmac "bad frame (malformed frame): killed"
attack "shorter than a header" short "bad frame (malformed frame): killed"
attack "stray byte after the tag" trailing "bad frame (malformed frame): killed"
attack "length field over the maximum" toobig "bad frame (too big): killed"
# A datagram larger than the receive buffer. The kernel may refuse to
# carry one (Linux: at most about 4 MiB + 68 KiB per unix datagram).
run huge
if grep -q "^evilhost: lk:evil: send of .* bytes" "$err"; then
  echo "skip   datagram over the maximum: the kernel refused it ($(grep -o 'send of.*' "$err"))"
  skip=$((skip+1))
else
  attack "datagram over the maximum" huge "bad frame (frame larger than the maximum): killed"
fi
# A zero-length datagram reads as end of file: the broker reports the host
# as having closed its link (and kills it).
attack "empty datagram" empty "closed its link: killed"
# Types and records.
attack "second unsigned keys frame" keys "bad frame (malformed frame): killed"
attack "unknown frame type" type "bad frame (unknown frame type): killed"
attack "unknown record type" rtype "bad frame (bad record): killed"
attack "broker-only record from a host" rdir "bad frame (bad record): killed"
attack "record longer than the payload" badrec "bad frame (malformed record): killed"
attack "string longer than the record" badbody "bad frame (bad record): killed"
# Fragments (wd_proto.h WD_F_FRAG): a big record's stream must be whole,
# in order, one at a time, and within the host's bound.
attack "fragment out of order" fragorder "bad frame (fragment out of order): killed"
attack "fragment stream past the bound" fragbound "bad frame (fragmented record over the maximum): killed"
attack "fragment of a stream never started" fragnostart "bad frame (fragment of a stream never started): killed"
attack "second stream while one is open" fragmix "bad frame (fragment stream opened while another is open): killed"
# Claims the broker checks.
attack "actor outside the ceiling" ceiling "actor 'root' is outside the host's ceiling"
attack "scope outside the ceiling" scope "scope name 'lk:admin' is outside the host's ceiling"
attack "NUL in the scope" nulscope "malformed actor or scope"
attack "sender PID of another host" forge "message with a sender PID not of this host"
attack "spawn parent of another host" forgespawn "spawn request with a parent PID not of this host"
attack "registry caller of another host" forgereg "registry request from a PID not of this host"
attack "send to a reserved topic" topic "message to a reserved topic"
attack "reply to a request never sent" reply "reply to a request it was never sent"
# Sends without a round trip (MSG, CREDIT, DIED: wd_proto.h).
attack "message (MSG) with another host's sender PID" msgforge "message with a sender PID not of this host"
attack "message (MSG) to a reserved topic" msgtopic "malformed message record"
attack "message (MSG) to its own host" msgself "malformed message record"
attack "credit for another host's process" credit "credit for a PID not of this host"
attack "credit to no such host" creditpeer "bad frame (bad record): killed"
attack "DIED for another host's process" died "DIED for a PID not of this host"

# A reply to a request the broker sent to ANOTHER host: only lk:evil dies;
# the request stays pending and is answered by its real target.
run steal WARD_EVIL_DELAY_MS=200
if [ "$st" -eq 0 ] && grep -qxF "ward: host lk:evil: reply to a request it was never sent" "$err" &&
   ! grep '^ward: host ' "$err" | grep -qv '^ward: host lk:evil: ' &&
   grep -qx "helper's request to lk:peer: answered" "$out" && grep -qx "pings after: 20" "$out"; then
  ok "reply to another host's request"
else
  bad "reply to another host's request: $(grep "^helper's request" "$out"); $(grep '^ward: host ' "$err")"
fi

# Forged events. The broker passes an event only along a watch it
# recorded itself (a monitor, link or exec wait of the receiver on the
# sender); anything else kills the sender's host.
# (a) EXITs by the thousand to a process that never monitored the sender.
attack "EXIT flood without a monitor" exitflood "forged event: EXIT without a monitor"
if grep -qx "events seen: 0" "$out"; then
  ok "EXIT flood without a monitor: the victim saw no EXIT"
else
  bad "EXIT flood without a monitor: the victim saw $(grep '^events seen' "$out")"
fi
# other_hosts: hosts other than lk:evil that the broker reported on.
other_hosts() { grep '^ward: host ' "$err" | grep -v '^ward: host lk:evil: '; }
# (b) An exec result to a process waiting in process.exec for its child on
# lk:peer, before the child's PID is known to it.
run exectheft WARD_EVIL_DELAY_MS=20
r="forged event: exec result without an exec wait"
if [ "$st" -eq 0 ] && grep -qxF "ward: host lk:evil: $r" "$err" &&
   [ -z "$(other_hosts)" ] && grep -qx "exec result: real" "$out" &&
   grep -qx "pings after: 20" "$out"; then
  ok "exec result to another host's exec: killed ($r), the caller got its child's"
else
  bad "exec result to another host's exec: ward exited $st; $(grep '^exec result' "$out"); $(grep '^ward: host ' "$err" | head -c 300)"
fi
# (c) A real monitor and EXIT, then the same EXIT again: the first used
# the watch up.
run exittwice
r="forged event: EXIT without a monitor"
if [ "$st" -eq 0 ] && grep -qxF "ward: host lk:evil: $r" "$err" &&
   [ -z "$(other_hosts)" ] && grep -qx "monitor: true" "$out" &&
   grep -qx "events seen: 1" "$out" && grep -qx "pings after: 20" "$out"; then
  ok "second EXIT for one monitor: killed ($r), one EXIT delivered"
else
  bad "second EXIT for one monitor: ward exited $st; $(grep '^monitor\|^events seen' "$out" | tr '\n' ' '); $(grep '^ward: host ' "$err" | head -c 300)"
fi

# Credit (SECURITY.md V22). lk:evil answers its spawn, then floods
# processes on lk:far (a mailbox of 16; a link_queue of 8 MiB, so each of
# MESH's 5 peers, the 4 hosts and the front door, may have 1.6 MiB in
# flight to it) with messages (MSG) past the
# credit it was given, ten times over. The broker counts what each host
# has in flight to each process and each host and kills the liar at the
# first message past either; what the sinks took is then at most their
# mailboxes and one window: the honest host is not made to hold the rest.
# The kill is audited; lk:far and the other tenant carry on.
# flood NAME MODE REASON_RE MAX: REASON_RE is an extended regular
# expression for the reason after "ward: host lk:evil: ".
flood() {
  local name=$1 mode=$2 reason=$3 max=$4 n p
  rm -f "$tmp/audit.log"
  RUN_ARGS="--audit deny --audit-log $tmp/audit.log" run "$mode"
  n=$(sed -n 's/^flood arrived: \([0-9]*\)$/\1/p' "$out")
  if ! grep -qxE "ward: host lk:evil: $reason" "$err"; then
    bad "$name: stderr lacks 'ward: host lk:evil: $reason': $(grep -v 'evil host lk:evil up' "$err" | head -c 400)"
  elif ! grep -q '"kind":"host_death","reason":"message past its credit: .*"host":"lk:evil"' "$tmp/audit.log"; then
    bad "$name: no host_death record for lk:evil naming the credit: $(grep host_death "$tmp/audit.log" | head -c 400)"
  elif [ -n "$(other_hosts)" ]; then
    bad "$name: other hosts were reported: $(other_hosts | head -c 400)"
  elif [ -z "$n" ] || [ "$n" -gt "$max" ]; then
    bad "$name: the sinks on lk:far took ${n:-nothing}, more than $max (mailboxes and one window)"
  elif [ "$st" -ne 0 ] || ! grep -qx "pings after: 20" "$out" ||
       ! grep -q "^pings while flooded: [1-9]" "$out"; then
    bad "$name: the other tenant suffered: ward exited $st; $(tr '\n' ' ' <"$out" | head -c 300)"
  else
    ok "$name: killed, the sinks took $n (at most $max), tenant served ($(grep '^pings while' "$out"))"
  fi
}
# 40,960 messages of 5 bytes to one process: the window per destination
# is 4,096 messages; the sink takes at most 4,096 + 16.
flood "messages past the credit for one process" msgflood \
  'message past its credit: 4096 messages in flight to \{lk:far\|0x[0-9a-f]+\}' 4112
# 640 messages of 32 KiB (32,774 bytes with the codec's 6, each counting
# 128 more: WD_FLOW_MSG_COST) in turn to two processes, 10 MiB each
# (under their own window of 16 MiB): past the window towards lk:far,
# 8 MiB / 5 = 1,677,721 bytes, all destinations together, past each
# process's own 64 KiB (WD_FLOW_DEST_OWN). In flight at most 54
# ((1,677,721 + 2 * 65,536) / 32,902), plus 2 mailboxes of 16.
flood "bytes past the credit towards a host" msgbytes \
  'message past its credit: [0-9]+ bytes in flight to host lk:far, 32902 more \(window 1677721\)' 86
# 40,960 messages of 5 bytes (each counting 133) in turn to four
# processes: past the window towards lk:far at 14,585 in flight
# ((1,677,721 + 4 * 65,536) / 133), before any process's 4,096; plus 4
# mailboxes of 16. (Counting payload bytes alone, 4,096 to each of them
# went.)
flood "small messages past the credit towards a host" msgsmall \
  'message past its credit: [0-9]+ bytes in flight to host lk:far, 133 more \(window 1677721\)' 14649
# 16 small messages then one of 63,280 bytes (64 KiB of cost in all) to
# each of 40 processes in turn: nothing past any process's own share, but
# the own shares have a window of their own (1,677,721 bytes, 25
# processes' 64 KiB): killed at the 26th or 27th process (as the credit
# for what entered the mailboxes comes back), the sinks took at most 40
# mailboxes of 16 and 26 of the large ones.
flood "own shares past their window towards a host" msgown \
  'message past its credit: [0-9]+ bytes in flight to host lk:far within its processes. own shares, [0-9]+ more \(window 1677721\)' 666

# Messages the broker drops are said on stderr counted, at most once a
# second per host and cause: lk:evil sends lk:main 5,000 messages the
# policies refuse (a lie: its own check would have refused them), in
# bursts over 3 s. It is not killed for that; every one is counted.
run msgdeny WARD_EVIL_COUNT=5000
lines=$(grep -c '^ward: host lk:evil: .*dropped' "$err")
sum=$(sed -n 's/^ward: host lk:evil: \([0-9]*\) messages\{0,1\} dropped.*/\1/p' "$err" |
      awk '{ s += $1 } END { print s + 0 }')
if [ "$st" -eq 0 ] && grep -qx "evil's last message: arrived" "$out" &&
   grep -qx "pings after: 20" "$out" && [ "$lines" -ge 1 ] && [ "$lines" -le 12 ] &&
   [ "$sum" -eq 5000 ] && [ -z "$(other_hosts)" ]; then
  ok "refused messages: said in $lines lines, 5000 counted"
else
  bad "refused messages: ward exited $st, $lines lines counting $sum (want 1..12 lines, 5000): $(grep dropped "$err" | head -c 400)"
fi

# Honest hosts racing those checks (tests/link/races: a linked pair that
# fails at once on two hosts, trapped links, unmonitor and unlink racing
# an exit, execs both ways, watchers that end first, link and unlink by
# name, 1200 watches at once): no host is killed, every event arrives.
timeout 120 "$WARD" run "$DIR/races" r:main >"$out" 2>"$err"
st=$?
want='S1 pairs: 100
S2 trapped: 200
S3 unmonitors: 200
S4 unlinks: 200
S5 execs: 240
S6 watchers: 50
S7 named: 50
S8 exits: 600, link downs: 300
true'
if [ "$st" -eq 0 ] && [ "$(cat "$out")" = "$want" ] && ! grep -q '^ward: host ' "$err"; then
  ok "honest races with the event checks: nobody killed, every event arrived"
else
  bad "honest races with the event checks: ward exited $st; $(tr '\n' ' ' <"$out" | head -c 300); $(head -c 300 "$err")"
fi

# No evil host outlives its broker.
if pgrep -f -- "$EVIL host lk:evil" >/dev/null; then
  bad "an evil host is still running: $(pgrep -af -- "$EVIL host lk:evil")"
else
  ok "no evil host left running"
fi

echo "$pass passed, $fail failed ($skip skipped)"
[ "$fail" -eq 0 ]
