#!/usr/bin/env bash
# tests/cli/test_audit.sh WARD: what an auditor reads (issue 15). A
# decision record carries the whole request (actor with meta, scope,
# action, resource, attributes), the deciding policies, the caller's entry
# and host, and the digest of the policy set; 'ward audit show' lists and
# filters records while checking the log, and stops at a tampered one.
WARD=${1:?usage: test_audit.sh WARD}
DIR=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=../avail/lib.sh
source "$DIR/../avail/lib.sh"
APP=$DIR/audit_app

run_app() { # LOG [APPDIR]
  "$WARD" run --shutdown-timeout 200ms --audit all --audit-log "$1" \
    "${2:-$APP}" aud:tenant >/dev/null 2>&1
}

log=$tmp/log
run_app "$log" || bad "the audit app runs"
# The denial of aud:secret, made in the host, as the log has it.
deny=$(grep '"resource":"aud:secret"' "$log" | head -1)
field() { # JSON-LINE KEY -> the value as JSON
  python3 -c 'import json,sys; print(json.dumps(json.loads(sys.argv[1]).get(sys.argv[2])))' "$1" "$2"
}
[ "$(field "$deny" actor)" = '"tenant-a"' ] && ok "record: actor" || bad "record: actor: $deny"
[ "$(field "$deny" meta)" = '{"tier": "gold"}' ] && ok "record: the actor's meta" || bad "record: meta: $deny"
[ "$(field "$deny" scope)" = '["aud:tenants"]' ] && ok "record: the scope" || bad "record: scope: $deny"
[ "$(field "$deny" entry)" = '"aud:tenant"' ] && ok "record: the caller's entry" || bad "record: entry: $deny"
[ "$(field "$deny" host)" = '"aud:h"' ] && ok "record: the caller's host" || bad "record: host: $deny"
[ "$(field "$deny" effect)" = '"deny"' ] && ok "record: the effect" || bad "record: effect: $deny"
digest=$(field "$deny" digest | tr -d '"')
[[ $digest =~ ^[0-9a-f]{64}$ ]] && ok "record: the policy set's digest" || bad "record: digest: $deny"
# Every decision, the host's and the broker's (a spawn on aud:h2 is
# decided in aud:h, then again in the broker), carries all of it.
if python3 - "$log" "$digest" <<'PY'
import json, sys
recs = [json.loads(l) for l in open(sys.argv[1])]
dec = [r for r in recs if r["kind"] == "decision"]
want = {"actor": "tenant-a", "meta": {"tier": "gold"}, "scope": ["aud:tenants"],
        "entry": "aud:tenant", "host": "aud:h", "digest": sys.argv[2]}
bad = [r for r in dec if any(r.get(k) != v for k, v in want.items())]
twice = [r for r in dec if r["action"] == "process.host" and r["resource"] == "aud:h2"]
sys.exit(1 if bad or len(dec) < 5 or len(twice) != 2 else 0)
PY
then
  ok "record: every decision, host's and broker's, carries the request, entry, host and digest"
else
  bad "record: a decision lacks part of the request: $(grep -c decision "$log") decisions"
fi
load=$(grep '"kind":"policy_load"' "$log")
[ "$(field "$load" digest | tr -d '"')" = "$digest" ] && ok "record: policy_load carries the digest" || bad "policy_load: $load"

# The digest: the same policies give the same digest (moved in the file,
# commented), a changed condition another.
run_app "$tmp/log2" || bad "the audit app runs again"
d2=$(grep -m1 '"kind":"decision"' "$tmp/log2")
[ "$(field "$d2" digest | tr -d '"')" = "$digest" ] && ok "digest: same policies, same digest" || bad "digest differs between two runs"
cp -r "$APP" "$tmp/moved"
python3 - "$tmp/moved/_index.yaml" <<'PY'
import sys
p = sys.argv[1]
s = open(p).read()
i = s.index("  - name: tenants")
j = s.index("  - name: ok")
block = s[i:j]
s = s[:i] + s[j:] + "# the policy, moved to the end\n" + block
open(p, "w").write(s)
PY
run_app "$tmp/log3" "$tmp/moved" || bad "the moved app runs"
d3=$(grep -m1 '"kind":"decision"' "$tmp/log3")
[ "$(field "$d3" digest | tr -d '"')" = "$digest" ] && ok "digest: a policy moved in its file keeps it" || bad "digest changed when a policy moved"
cp -r "$APP" "$tmp/changed"
sed -i 's/value: gold/value: silver/' "$tmp/changed/_index.yaml"
"$WARD" run --shutdown-timeout 200ms --audit all --audit-log "$tmp/log4" "$tmp/changed" aud:tenant >/dev/null 2>&1
d4=$(grep -m1 '"kind":"decision"' "$tmp/log4")
d4d=$(field "$d4" digest | tr -d '"')
[[ $d4d =~ ^[0-9a-f]{64}$ && $d4d != "$digest" ]] && ok "digest: a changed condition changes it" || bad "digest: changed policy: $d4d"

# ward audit show: one line per record, filters, JSON Lines.
expect "show: lists the records" 0 '^[0-9]+ [0-9T:.Z-]+ decision deny tenant-a process.spawn aud:secret \(no policy matched\) \[\] entry=aud:tenant$' '' -- "$WARD" audit show "$log"
nall=$("$WARD" audit show "$log" | wc -l)
nrec=$(grep -vc '"kind":"checkpoint"' "$log")
[ "$nall" -eq "$nrec" ] && ok "show: every record but checkpoints ($nall)" || bad "show: $nall lines for $nrec records"
expect "show --denied" 0 'decision deny' '' -- "$WARD" audit show --denied "$log"
if grep -q ' allow \| host_start ' "$out"; then bad "show --denied lists an allow"; else ok "show --denied lists denials only"; fi
expect "show --action" 0 'process.host aud:h2' '' -- "$WARD" audit show --action process.host "$log"
if grep -vq ' process.host ' "$out"; then bad "show --action lists another action"; else ok "show --action lists that action only"; fi
expect "show --actor (nobody)" 0 '' '' -- "$WARD" audit show --actor tenant-b "$log"
[ ! -s "$out" ] && ok "show --actor: another actor's records are not listed" || bad "show --actor tenant-b: $(head -2 "$out")"
first=$(grep -m1 '"kind":"decision"' "$log" | python3 -c 'import json,sys; print(json.loads(sys.stdin.read())["time"])')
expect "show --until before the first decision" 0 '' '' -- "$WARD" audit show --until "$first" --action process.spawn "$log"
[ ! -s "$out" ] && ok "show --until: nothing before the first decision" || bad "show --until: $(head -2 "$out")"
expect "show --since a day prefix" 0 'aud:secret' '' -- "$WARD" audit show --since "${first:0:10}" "$log"
expect "show --since the future" 0 '' '' -- "$WARD" audit show --since 2999-01-01 "$log"
[ ! -s "$out" ] && ok "show --since: nothing after the future" || bad "show --since 2999: $(head -2 "$out")"
expect "show --json" 0 '"kind":"decision"' '' -- "$WARD" audit show --json --denied "$log"
if python3 -c 'import json,sys; [json.loads(l) for l in open(sys.argv[1])]' "$out" 2>/dev/null; then
  ok "show --json: JSON Lines, one record each"
else
  bad "show --json: not JSON Lines"
fi
expect "show: bad usage" 2 '' 'unknown option' -- "$WARD" audit show --bogus "$log"
expect "show: no such log" 2 '' '' -- "$WARD" audit show "$tmp/nolog"

# A tampered log: the records before the changed one are listed, the
# changed one and what follows are not, and it is named.
cp "$log" "$tmp/t" && cp "$log.pub" "$tmp/t.pub"
line=$(grep -n '"resource":"aud:secret"' "$tmp/t" | head -1 | cut -d: -f1)
sed -i "${line}s/aud:secret/aud:public/" "$tmp/t"
expect "show: a changed record stops the listing" 1 '' "line $line: record changed" -- "$WARD" audit show "$tmp/t"
last=$(tail -1 "$out" | cut -d' ' -f1)
[ "$last" = "$((line-1))" ] && ok "show: listed up to the record before the changed one" || bad "show on a tampered log listed up to line $last, changed line $line"
grep -q 'aud:public' "$out" && bad "show listed the changed record" || ok "show: the changed record is not listed"
# A log not yet closed (its closing checkpoint missing): listed, with a
# warning.
head -n -1 "$log" > "$tmp/open" && cp "$log.pub" "$tmp/open.pub"
expect "show: a log not closed is listed with a warning" 0 'aud:secret' 'warning: .*checkpoint' -- "$WARD" audit show "$tmp/open"

# ward policy explain --from-log LOG:N: the record's request replayed.
n=$(grep -n '"resource":"aud:secret"' "$log" | head -1 | cut -d: -f1)
expect "explain --from-log: the same policies" 1 'policies: the set the record was decided with' '' -- "$WARD" policy explain --from-log "$log:$n" "$APP"
grep -q '^decision: the same$' "$out" && ok "explain --from-log: the same decision" || bad "explain --from-log: $(head -5 "$out")"
grep -q 'actor     tenant-a {tier: "gold"}' "$out" && grep -q 'scope:     aud:tenants' "$out" &&
  grep -q 'resource  aud:secret' "$out" && ok "explain --from-log: actor, meta, scope, resource from the record" ||
  bad "explain --from-log request: $(sed -n 4,9p "$out")"
cp -r "$APP" "$tmp/wider"
sed -i 's/resources: \["aud:ok"/resources: ["aud:ok", "aud:secret"/' "$tmp/wider/_index.yaml"
expect "explain --from-log: a wider set allows it now" 0 'NOT the set the record was decided with' '' -- "$WARD" policy explain --from-log "$log:$n" "$tmp/wider"
grep -q '^decision: CHANGED, allow now$' "$out" && ok "explain --from-log: says the decision changed" || bad "explain --from-log changed: $(head -4 "$out")"
expect "explain --from-log --policies OLD: the old set replays it exactly" 1 'policies: the set the record was decided with' '' -- "$WARD" policy explain --from-log "$log:$n" --policies "$APP"
expect "explain --from-log: not a decision" 2 '' 'a policy_load record, not a decision' -- "$WARD" policy explain --from-log "$log:1" "$APP"
expect "explain --from-log: no such line" 2 '' 'no line 9999' -- "$WARD" policy explain --from-log "$log:9999" "$APP"
expect "explain --from-log: not LOG:N" 2 '' 'not LOG:N' -- "$WARD" policy explain --from-log "$log" "$APP"
expect "explain --from-log: a record past a changed one" 2 '' "line $line: record changed" -- "$WARD" policy explain --from-log "$tmp/t:$((line+1))" "$APP"

summary
