#!/usr/bin/env bash
# 'ward policy ...' and 'ward audit ...' as a user runs them: outputs, exit
# statuses, messages; the shipped policies/ and their policy tests; the
# audit log fixture verified, then tampered with.
# Usage: test_policy.sh WARD   (prints one line per case, then "N passed, N failed")
set -u
WARD=${1:?usage: test_policy.sh WARD}
DIR=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$DIR/../.." && pwd)
BASE=$ROOT/policies/baseline
EX=$ROOT/policies/examples/multitenant
pass=0 fail=0
T=$(mktemp -d)
out=$T/out err=$T/err
trap 'rm -rf "$T"' EXIT

# expect NAME STATUS STDOUT_REGEX STDERR_REGEX -- CMD...
expect() {
  local name=$1 want=$2 ore=$3 ere=$4; shift 5
  "$@" >"$out" 2>"$err"
  local got=$?
  if [ "$got" -ne "$want" ]; then
    echo "FAIL   $name: exit $got, want $want; stdout: $(head -c 300 "$out"); stderr: $(head -c 300 "$err")"; fail=$((fail+1)); return
  fi
  if [ -n "$ore" ] && ! grep -Eq -- "$ore" "$out"; then
    echo "FAIL   $name: stdout does not match /$ore/: $(head -c 300 "$out")"; fail=$((fail+1)); return
  fi
  if [ -n "$ere" ] && ! grep -Eq -- "$ere" "$err"; then
    echo "FAIL   $name: stderr does not match /$ere/: $(head -c 300 "$err")"; fail=$((fail+1)); return
  fi
  echo "ok     $name"; pass=$((pass+1))
}

# A request of tenant-a, with the options every eval below shares.
A=(--actor tenant-a --meta tenant=tenant-a --meta 'hosts=[tenant-a:processes]'
   --scope baseline:tenant --scope tenant-a:own
   --attr 'pid={tenant-a:processes|0x00001}' --attr host=tenant-a:processes)

# --- help and usage ----------------------------------------------------
expect "policy --help" 0 'check PATH' '' -- "$WARD" policy --help
expect "policy check --help" 0 '--strict' '' -- "$WARD" policy check --help
expect "policy eval --help" 0 '--resource R' '' -- "$WARD" policy eval --help
expect "policy explain --help" 0 'every policy in scope' '' -- "$WARD" policy explain --help
expect "policy test --help" 0 'expect: deny' '' -- "$WARD" policy test --help
expect "policy without command" 2 '' 'usage: ward policy' -- "$WARD" policy
expect "policy unknown command" 2 '' "unknown command 'frob'" -- "$WARD" policy frob
expect "audit --help" 0 'keygen DIR' '' -- "$WARD" audit --help
expect "audit keygen --help" 0 'audit.key' '' -- "$WARD" audit keygen --help
expect "audit verify --help" 0 '--key PUBFILE' '' -- "$WARD" audit verify --help
expect "audit without command" 2 '' 'usage: ward audit' -- "$WARD" audit
expect "audit unknown command" 2 '' "unknown command 'sign'" -- "$WARD" audit sign

# --- ward policy check -------------------------------------------------
expect "check shipped policies" 0 '^10 policies, 0 warnings$' '' -- "$WARD" policy check "$BASE" "$EX"
expect "check --strict clean" 0 '^10 policies' '' -- "$WARD" policy check --strict "$BASE" "$EX"
expect "check names unknown scope groups" 0 'warning: tenant-a.app:main: scope names .baseline:tenant.' '' -- "$WARD" policy check "$EX"
expect "check template file" 0 '^2 policies, 0 warnings$' '' -- "$WARD" policy check "$BASE/TENANT.yaml"
expect "check needs a path" 2 '' 'a PATH is required' -- "$WARD" policy check
expect "check unknown option" 2 '' "unknown option '--nope'" -- "$WARD" policy check --nope "$BASE"
expect "check missing path" 2 '' 'nowhere: No such file' -- "$WARD" policy check "$T/nowhere"
cat >"$T/bad.yaml" <<'EOF'
namespace: bad
entries:
  - name: p
    kind: security.policy
    policy:
      actions: process.send
      resources: "*"
      effect: allow
      conditions:
        - {field: actor.id, operator: like, value: x}
EOF
expect "check bad operator names file:line:col" 2 '' "bad.yaml:10:39: unknown operator 'like'" -- "$WARD" policy check "$T/bad.yaml"
sed 's/effect: allow/effect: permit/' "$T/bad.yaml" >"$T/bad2.yaml"
expect "check bad effect names file:line:col" 2 '' "bad2.yaml:8:15: policy.effect must be allow or deny" -- "$WARD" policy check "$T/bad2.yaml"
cat >"$T/lint.yaml" <<'EOF'
namespace: lint
entries:
  - name: allow_send
    kind: security.policy
    groups: [g]
    policy: {actions: process.send, resources: "*", effect: allow}
  - name: deny_send
    kind: security.policy
    groups: [g]
    policy: {actions: process.send, resources: "*", effect: deny}
  - name: never
    kind: security.policy
    groups: [g]
    policy:
      actions: process.spawn
      resources: "*"
      effect: allow
      conditions:
        - {field: actor.id, operator: eq, value: a}
        - {field: actor.id, operator: eq, value: b}
EOF
expect "check warns about a shadowed allow" 0 'lint.yaml:6:13: warning: lint:allow_send: allow is always overridden by unconditional deny .lint:deny_send.' '' -- "$WARD" policy check "$T/lint.yaml"
expect "check warns about a policy that never matches" 0 'lint.yaml:15:7: warning: lint:never: never matches' '' -- "$WARD" policy check "$T/lint.yaml"
expect "check counts warnings" 0 '^3 policies, 2 warnings$' '' -- "$WARD" policy check "$T/lint.yaml"
expect "check --strict fails on warnings" 1 '2 warnings' '' -- "$WARD" policy check --strict "$T/lint.yaml"
expect "check same id in two paths" 2 '' "policy 'lint:allow_send' is already defined \(first at" -- "$WARD" policy check "$T/lint.yaml" "$T/lint.yaml"

# --- a typo is a load error --------------------------------------------
# termapp: main may do everything but terminate (term:no_terminate). Each
# copy below puts one typo in it; before, each of them ran, and the first
# let the terminate through.
TA=$DIR/fixtures/termapp
RUN=("$WARD" run --shutdown-timeout 200ms)
typo() { # typo NAME SED-SCRIPT: a copy of termapp with one change
  mkdir -p "$T/$1" && cp "$TA"/*.lua "$T/$1/" && sed "$2" "$TA/_index.yaml" >"$T/$1/_index.yaml"
}
expect "run: the deny policy denies the terminate" 0 '^not terminated: PermissionDenied$' '' -- "${RUN[@]}" "$TA" term:main
expect "check: termapp is clean" 0 '^2 policies, 0 warnings$' '' -- "$WARD" policy check --strict "$TA"
typo act '32s/process.terminate/process.terminat/'
expect "run: misspelled action in a deny policy" 2 '' "act/_index.yaml:32:17: action 'process.terminat' matches no action ward asks \(did you mean 'process.terminate'\?\)" -- "${RUN[@]}" "$T/act" term:main
expect "check: misspelled action in a deny policy" 2 '' "act/_index.yaml:32:17: action 'process.terminat' matches no action" -- "$WARD" policy check --strict "$T/act"
expect "eval: misspelled action" 2 '' "act/_index.yaml:32:17: action 'process.terminat'" -- \
  "$WARD" policy eval "$T/act" --actor tester --scope term:app --action process.terminate --resource x
expect "explain: misspelled action" 2 '' "act/_index.yaml:32:17: action 'process.terminat'" -- \
  "$WARD" policy explain "$T/act" --actor tester --scope term:app --action process.terminate --resource x
printf 'policies: [.]\ncases:\n  - {name: x, actor: {id: a}, scope: [term:app], action: process.terminate, resource: r, expect: deny}\n' >"$T/act/t.yaml"
expect "policy test: misspelled action" 2 '' "act/(\./)?_index.yaml:32:17: action 'process.terminat'" -- "$WARD" policy test "$T/act/t.yaml"
typo pre '32s/process.terminate/proces.*/'
expect "check: a prefix that matches no action" 2 '' "pre/_index.yaml:32:17: action 'proces.\*' matches no action" -- "$WARD" policy check "$T/pre"
typo fld '36s/field: target_host/field: targt_host/'
expect "run: misspelled field" 2 '' "fld/_index.yaml:36:19: unknown field 'targt_host' \(did you mean 'target_host'\?\)" -- "${RUN[@]}" "$T/fld" term:main
expect "check: misspelled field" 2 '' "fld/_index.yaml:36:19: unknown field 'targt_host'" -- "$WARD" policy check "$T/fld"
typo meta '37s/actor.meta.role/actor.meta.anything/'
expect "run: actor.meta.anything loads" 0 '^terminated$' '' -- "${RUN[@]}" "$T/meta" term:main
expect "check: wildcards, actor.meta.*, every attribute" 0 '^2 policies, 0 warnings$' '' -- "$WARD" policy check --strict "$DIR/fixtures/names.yaml"
typo grp '19s/\[term:app\]/[term:ap]/'
expect "run: unknown group in an entry's security block" 2 '' "grp/_index.yaml:19:16: term:main: scope names 'term:ap', which is no policy or group" -- "${RUN[@]}" "$T/grp" term:main
expect "check: unknown group in an entry's security block" 0 "grp/_index.yaml:19:16: warning: term:main: scope names 'term:ap'" '' -- "$WARD" policy check "$T/grp"
typo bare '19s/\[term:app\]/[app]/'
expect "run: a bare group name is no group" 2 '' "bare/_index.yaml:19:16: term:main: scope names 'app', which is no policy or group \(names are used as written: did you mean 'term:app'\?\)" -- "${RUN[@]}" "$T/bare" term:main
expect "check: a bare group name warns" 0 "bare/_index.yaml:19:16: warning: term:main: scope names 'app', which is no policy or group \(names are used as written: did you mean 'term:app'\?\)" '' -- "$WARD" policy check "$T/bare"
typo ceil '12s/\[term:app\]/[term:app, term:nope]/'
expect "run: unknown id in a ceiling" 2 '' "ceil/_index.yaml:12:28: term:h: ceiling names 'term:nope', which is no policy or group" -- "${RUN[@]}" "$T/ceil" term:main
expect "check: unknown id in a ceiling warns" 0 "ceil/_index.yaml:12:28: warning: term:h: ceiling names 'term:nope'" '' -- "$WARD" policy check "$T/ceil"
expect "run: unknown --scope" 2 '' "^ward: --scope names 'term:nope', which is no policy or group" -- "${RUN[@]}" --scope term:nope "$TA" term:main
# A group of a --policy file: known once every policy is loaded.
typo ext '12s/\[term:app\]/[term:app, extra:g]/; 19s/\[term:app\]/[extra:g]/'
cat >"$T/extra.yaml" <<'EOF'
namespace: extra
entries:
  - name: all
    kind: security.policy
    groups: [g]
    policy: {actions: "*", resources: "*", effect: allow}
  - name: no_terminate
    kind: security.policy
    groups: [g]
    policy: {actions: process.terminate, resources: "*", effect: deny}
EOF
expect "run: a group only a --policy file has, without it" 2 '' "ext/_index.yaml:12:.*'extra:g', which is no policy or group" -- "${RUN[@]}" "$T/ext" term:main
expect "run: a group of a --policy file" 0 '^not terminated: PermissionDenied$' '' -- "${RUN[@]}" --policy "$T/extra.yaml" "$T/ext" term:main
expect "run: --scope of a --policy file" 0 '^not terminated: PermissionDenied$' '' -- "${RUN[@]}" --policy "$T/extra.yaml" --scope extra:g "$T/ext" term:main

# --- ward policy eval --------------------------------------------------
expect "eval allow names the policy" 0 '^allow: allowed by baseline:own_processes$' '' -- \
  "$WARD" policy eval "$BASE" "$EX" "${A[@]}" --action process.send \
  --resource '{tenant-a:processes|0x00002}' --attr target_host=tenant-a:processes
expect "eval deny: not permitted" 1 '^deny: not permitted \(no policy matched\)$' '' -- \
  "$WARD" policy eval "$BASE" "$EX" "${A[@]}" --action process.send \
  --resource '{tenant-b:processes|0x00002}' --attr target_host=tenant-b:processes
expect "eval deny: forbidden" 1 '^deny: forbidden by baseline:no_identity_change$' '' -- \
  "$WARD" policy eval "$BASE" "$EX" "${A[@]}" --action process.security --resource security
expect "eval without actor" 1 '^deny: not permitted \(no actor or scope\)$' '' -- \
  "$WARD" policy eval "$BASE" --scope baseline:tenant --action process.send --resource x
expect "eval without scope" 1 '^deny: not permitted \(no actor or scope\)$' '' -- \
  "$WARD" policy eval "$BASE" --actor a --action process.send --resource x
expect "eval needs action" 2 '' '--action and --resource are required' -- \
  "$WARD" policy eval "$BASE" --actor a --resource x
expect "eval unknown scope" 2 '' 'nope' -- \
  "$WARD" policy eval "$BASE" --actor a --scope nope --action a --resource x
expect "eval bad --meta" 2 '' "'tenant' is not KEY=VALUE" -- \
  "$WARD" policy eval "$BASE" --actor a --meta tenant --action a --resource x
expect "eval bad list" 2 '' 'not a list' -- \
  "$WARD" policy eval "$BASE" --actor a --meta 'hosts=[a' --action a --resource x
expect "eval option without value" 2 '' "'--action' needs a value" -- \
  "$WARD" policy eval "$BASE" --actor a --action

# --- ward policy explain -----------------------------------------------
expect "explain lists the matching policy" 0 '^  MATCH  allow  tenant-a:own_entries  \[.*tenant-a/_index.yaml:13:5\]$' '' -- \
  "$WARD" policy explain "$BASE" "$EX" "${A[@]}" --action process.spawn \
  --resource tenant-a.app:worker --attr target_host=tenant-a:processes
expect "explain says which condition failed" 1 'own_processes: condition 3 is false: target_host in actor.meta.hosts \(target_host is "tenant-b:processes"\)' '' -- \
  "$WARD" policy explain "$BASE" "$EX" "${A[@]}" --action process.send \
  --resource '{tenant-b:processes|0x00002}' --attr target_host=tenant-b:processes
expect "explain says which action did not match" 1 "own_hosts: action 'process.send' is not one of process.host" '' -- \
  "$WARD" policy explain "$BASE" "$EX" "${A[@]}" --action process.send \
  --resource '{tenant-b:processes|0x00002}'
expect "explain shows the scope size" 1 '^scope: +baseline:tenant, tenant-a:own \(5 policies\)$' '' -- \
  "$WARD" policy explain "$BASE" "$EX" "${A[@]}" --action process.send --resource x
expect "explain a missing field" 1 '\(target_host is missing\)' '' -- \
  "$WARD" policy explain "$BASE" "$EX" "${A[@]}" --action process.send --resource '{x|0x1}'

# --- ward policy permissions -------------------------------------------
PA=(--actor tenant-a --meta tenant=tenant-a --meta 'hosts=[tenant-a:processes]'
    --scope baseline:tenant --scope tenant-a:own)
PB=(--actor tenant-b --meta tenant=tenant-b --meta 'hosts=[tenant-b:processes]'
    --scope baseline:tenant --scope tenant-b:own)
expect "permissions --help" 0 'carve' '' -- "$WARD" policy permissions --help
expect "permissions: send needs own hosts, with the actor's value" 0 '^        target_host in actor.meta.hosts \(= \["tenant-a:processes"\]\)  \[line 39\]$' '' -- \
  "$WARD" policy permissions "$BASE" "$EX" "${PA[@]}"
expect "permissions: spawn allowed by own_entries with file:line" 0 '^  allow  tenant-a\*  by tenant-a:own_entries  \[.*multitenant/tenant-a/_index.yaml:17\]$' '' -- \
  "$WARD" policy permissions "$BASE" "$EX" "${PA[@]}"
expect "permissions: the regex condition that must hold" 0 'resource matches "\^tenant-a\\\\.\[\^.\]"  \[line 44\]' '' -- \
  "$WARD" policy permissions "$BASE" "$EX" "${PA[@]}"
expect "permissions: no allow for process.security" 0 '^process.security: nothing \(no allow applies\)$' '' -- \
  "$WARD" policy permissions "$BASE" "$EX" "${PA[@]}"
expect "permissions: b's exec is denied on every resource" 0 '^process.exec: nothing \(tenant-b:no_exec denies every resource\)$' '' -- \
  "$WARD" policy permissions "$BASE" "$EX" "${PB[@]}"
expect "permissions: a's exec is allowed" 0 '^process.exec:$' '' -- \
  "$WARD" policy permissions "$BASE" "$EX" "${PA[@]}"
expect "permissions: b's own_entries does not apply to a" 0 '' '' -- \
  sh -c '! "$@" | grep -q tenant-b:own_entries' sh "$WARD" policy permissions "$BASE" "$EX" "${PA[@]}" --scope tenant-b:own
expect "permissions: a deny carves an exception, with its condition" 0 '^  except \{\*  by ops:protect_control  \[.*ops/_index.yaml:27\]$' '' -- \
  "$WARD" policy permissions "$BASE" "$EX" --actor alice --meta role=support --scope ops:support
expect "permissions: the exception's condition" 0 '^        target_host eq "ops:control"  \[line 31\]$' '' -- \
  "$WARD" policy permissions "$BASE" "$EX" --actor alice --meta role=support --scope ops:support
expect "permissions: support without the role gets nothing" 0 '^process.terminate: nothing \(no allow applies\)$' '' -- \
  "$WARD" policy permissions "$BASE" "$EX" --actor bob --meta role=dev --scope ops:support
expect "permissions needs --actor and --scope" 2 '' '--actor and --scope are required' -- \
  "$WARD" policy permissions "$BASE" --actor a
expect "permissions refuses --action" 2 '' 'not options of this command' -- \
  "$WARD" policy permissions "$BASE" "${PA[@]}" --action process.send
expect "permissions unknown scope" 2 '' 'nope:g' -- \
  "$WARD" policy permissions "$BASE" --actor a --scope nope:g
"$WARD" policy permissions "$BASE" "$EX" "${PB[@]}" --json >"$T/perm.json" 2>&1
if python3 - "$T/perm.json" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
acts = {a["action"]: a for a in d["actions"]}
assert d["actor"] == {"id": "tenant-b", "meta": {"tenant": "tenant-b", "hosts": ["tenant-b:processes"]}}, d["actor"]
assert len(acts) == 22, len(acts)
ex = acts["process.exec"]
assert ex["denied_always_by"] == "tenant-b:no_exec", ex
assert [p["id"] for p in ex["allow"]] == ["tenant-b:own_entries"], ex
assert ex["allow"][0]["resources"] == [{"kind": "prefix", "pattern": "tenant-b"}], ex
c = ex["allow"][0]["conditions"]
assert len(c) == 1 and c[0]["field"] == "resource" and c[0]["operator"] == "matches", c
send = acts["process.send"]["allow"][0]
assert send["id"] == "baseline:own_processes" and send["line"] == 25, send
assert [x["value_from"] for x in send["conditions"]] == ["actor.meta.hosts"] * 2, send
assert acts["process.security"]["allow"] == [], acts["process.security"]
PY
then echo "ok     permissions --json shape"; pass=$((pass+1))
else echo "FAIL   permissions --json shape: $(head -c 300 "$T/perm.json")"; fail=$((fail+1)); fi

# --- ward policy diff --------------------------------------------------
D=$ROOT/policies/examples/diff
expect "diff --help" 0 'old -> new' '' -- "$WARD" policy diff --help
expect "diff: a widening change exits 1" 1 '^[0-9]+ requests for 1 actor and scope, 9 changes \(9 widen, 0 narrow\)$' '' -- "$WARD" policy diff "$D/old.yaml" "$D/widen.yaml"
expect "diff: the widened action, with both sides' policies" 1 '^anyone \{role: "support"\} \[ops:support\] process.cancel "\{other\|0x00002\}" \{\}: deny -> allow \(old: no policy matched; new: allowed by ops:support\)$' '' -- "$WARD" policy diff "$D/old.yaml" "$D/widen.yaml"
expect "diff: a lowered threshold (gte 2 -> gte 1) found at the boundary" 1 '^anyone \{level: 1\} \[ops:support\] process.registry.lookup "support.x" \{\}: deny -> allow' '' -- "$WARD" policy diff "$D/old.yaml" "$D/widen.yaml"
expect "diff: a narrowing change exits 1" 1 '^[0-9]+ requests for 1 actor and scope, 5 changes \(0 widen, 5 narrow\)$' '' -- "$WARD" policy diff "$D/old.yaml" "$D/narrow.yaml"
expect "diff: the narrowed request names the new deny" 1 '^anyone \{role: "support"\} \[ops:support\] process.monitor "\{other\|0x00002\}" \{target_host: "ops:control"\}: allow -> deny \(old: allowed by ops:support; new: forbidden by ops:protect_control\)$' '' -- "$WARD" policy diff "$D/old.yaml" "$D/narrow.yaml"
expect "diff: a change that changes nothing exits 0" 0 '^[0-9]+ requests for 1 actor and scope, 0 changes \(0 widen, 0 narrow\)$' '' -- "$WARD" policy diff "$D/old.yaml" "$D/same.yaml"
expect "diff: a set against itself exits 0" 0 ', 0 changes' '' -- "$WARD" policy diff "$D/old.yaml" "$D/old.yaml"
expect "diff: a regular expression makes the result a sample" 1 '^sample: .* for ops:support_names$' '' -- "$WARD" policy diff "$D/old.yaml" "$D/regex.yaml"
expect "diff: no sample note without one" 0 '' '' -- sh -c '! "$@" | grep -q "^sample"' sh "$WARD" policy diff "$D/old.yaml" "$D/same.yaml"
expect "diff: needs OLD and NEW" 2 '' 'OLD and NEW are required' -- "$WARD" policy diff "$D/old.yaml"
expect "diff: a bad policy is bad input" 2 '' "bad.yaml:10:39: unknown operator 'like'" -- "$WARD" policy diff "$D/old.yaml" "$T/bad.yaml"
expect "diff: a missing path is bad input" 2 '' 'nowhere' -- "$WARD" policy diff "$D/old.yaml" "$T/nowhere"
expect "diff: unknown option" 2 '' "unknown option '--nope'" -- "$WARD" policy diff --nope "$D/old.yaml" "$D/old.yaml"
expect "diff: a bad --app is bad input" 2 '' 'nowhere' -- "$WARD" policy diff --app "$T/nowhere" "$D/old.yaml" "$D/old.yaml"
# The multi-tenant example with its app's actors: dropping the baseline's
# target_host condition lets tenant-a reach tenant-b's processes.
mkdir -p "$T/dw" && cp -r "$BASE" "$T/dw/baseline"
sed -i '/field: target_host, operator: in, value_from: actor.meta.hosts/d' "$T/dw/baseline/_index.yaml"
expect "diff --app: multitenant unchanged exits 0" 0 '^[0-9]+ requests for 2 actors and scopes, 0 changes' '' -- \
  "$WARD" policy diff --app "$EX" --base "$EX" "$BASE" "$BASE"
expect "diff --app: a dropped condition lets a reach b" 1 '^tenant-a \{tenant: "tenant-a", hosts: \["tenant-a:processes"\]\} \[baseline:tenant, tenant-a:own\] process.send "\{tenant-b:processes\|0x00002\}" \{host: "tenant-a:processes", target_host: "tenant-b:processes"\}: deny -> allow \(old: no policy matched; new: allowed by baseline:own_processes\)$' '' -- \
  "$WARD" policy diff --app "$EX" --base "$EX" "$BASE" "$T/dw/baseline"
expect "diff --app: the tenant's regexes are sampled" 1 '^sample: .* tenant-a:own_entries, tenant-a:own_names' '' -- \
  "$WARD" policy diff --app "$EX" --base "$EX" "$BASE" "$T/dw/baseline"
"$WARD" policy diff --json "$D/old.yaml" "$D/narrow.yaml" >"$T/diff.json"
if [ $? -eq 1 ] && python3 - "$T/diff.json" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
assert d["changed"] == 5 and d["narrowed"] == 5 and d["widened"] == 0, d
c = d["changes"][0]
assert set(c) == {"actor", "scope", "action", "resource", "attrs", "old", "new", "old_by", "new_by"}, c
assert c["old"] == "allow" and c["new"] == "deny" and c["new_by"] == "forbidden by ops:protect_control", c
assert c["attrs"] == {"target_host": "ops:control"} and c["scope"] == ["ops:support"], c
assert d["sample_policies"] == [] and d["capped"] is False, d
PY
then echo "ok     diff --json shape"; pass=$((pass+1))
else echo "FAIL   diff --json shape: $(head -c 300 "$T/diff.json")"; fail=$((fail+1)); fi

# --- ward policy test --------------------------------------------------
expect "multitenant policy tests pass" 0 '^32 passed, 0 failed$' '' -- "$WARD" policy test "$EX/policy_test.yaml"
expect "one line per case" 0 '^ok     a may not spawn an entry of a look-alike namespace$' '' -- "$WARD" policy test "$EX/policy_test.yaml"
cp -r "$EX" "$T/mt"
cat >"$T/mt/wrong.yaml" <<'EOF'
policies: [../policies/baseline, .]
cases:
  - name: a wrongly expects to reach b
    actor: {id: tenant-a, meta: {tenant: tenant-a, hosts: [tenant-a:processes]}}
    scope: [baseline:tenant, tenant-a:own]
    action: process.send
    resource: "{tenant-b:processes|0x00002}"
    attrs: {pid: "{tenant-a:processes|0x1}", host: tenant-a:processes, target_host: tenant-b:processes}
    expect: allow
  - name: wrong deciding policy
    actor: {id: tenant-b, meta: {tenant: tenant-b, hosts: [tenant-b:processes]}}
    scope: [baseline:tenant, tenant-b:own]
    action: process.exec
    resource: tenant-b.app:worker
    attrs: {pid: "{tenant-b:processes|0x1}", host: tenant-b:processes, target_host: tenant-b:processes}
    expect: deny
    by: [baseline:no_identity_change]
  - name: right
    actor: {id: tenant-b, meta: {tenant: tenant-b, hosts: [tenant-b:processes]}}
    scope: [tenant-b:own]
    action: process.exec
    resource: tenant-b.app:worker
    expect: deny
EOF
ln -s "$ROOT/policies" "$T/policies" 2>/dev/null
expect "failing case exits 1" 1 '^1 passed, 2 failed$' '' -- "$WARD" policy test "$T/mt/wrong.yaml"
expect "failing case says what it got" 1 '^FAIL   a wrongly expects to reach b: got deny \(no policy matched\), expected allow' '' -- "$WARD" policy test "$T/mt/wrong.yaml"
expect "failing case names the deciding policy" 1 '^FAIL   wrong deciding policy: got deny \(forbidden by tenant-b:no_exec\), expected deny by baseline:no_identity_change' '' -- "$WARD" policy test "$T/mt/wrong.yaml"
cat >"$T/mt/bad.yaml" <<'EOF'
policies: [.]
cases:
  - name: typo
    actor: {id: a}
    action: process.send
    resorce: x
    expect: deny
EOF
expect "malformed test names file:line:col" 2 '' "bad.yaml:6:5: unknown key 'resorce'" -- "$WARD" policy test "$T/mt/bad.yaml"
printf 'policies: [.]\ncases:\n  - {name: x, action: a, resource: r, expect: maybe}\n' >"$T/mt/bad2.yaml"
expect "bad expect value" 2 '' "bad2.yaml:3:.*expect: allow' or 'expect: deny'" -- "$WARD" policy test "$T/mt/bad2.yaml"
printf 'policies: [.]\ncases:\n  - {name: x, scope: [nope:g], action: a, resource: r, expect: deny}\n' >"$T/mt/bad3.yaml"
expect "unknown scope in a case" 2 '' 'bad3.yaml:3:.*nope:g' -- "$WARD" policy test "$T/mt/bad3.yaml"
expect "missing test file" 2 '' 'nope.yaml' -- "$WARD" policy test "$T/nope.yaml"

# --- ward policy test: defaults, unknown actions, --coverage, --junit ---
expect "policy test: defaults, merged attrs" 0 '^5 passed, 0 failed$' '' -- "$WARD" policy test "$D/old_test.yaml"
expect "policy test: a case's attrs merge over the defaults (the deny needs target_host)" 0 '^ok     support may not terminate control processes$' '' -- "$WARD" policy test "$D/old_test.yaml"
expect "coverage names the untested condition with file:line" 0 '^  never false: ops:support_names condition 1: actor.meta.level gte 2 \[.*old.yaml:35\]$' '' -- "$WARD" policy test --coverage "$D/old_test.yaml"
expect "coverage counts policies and outcomes" 0 '^coverage: 3 of 3 policies reached, 5 of 6 condition outcomes' '' -- "$WARD" policy test --coverage "$D/old_test.yaml"
expect "coverage of multitenant names a policy no case reached" 0 '^  not reached: tenant-b:own_names: no case asks its actions on its resources \[.*tenant-b/_index.yaml:36\]$' '' -- "$WARD" policy test --coverage "$EX/policy_test.yaml"
expect "no coverage lines without --coverage" 0 '' '' -- sh -c '! "$@" | grep -q "^coverage"' sh "$WARD" policy test "$D/old_test.yaml"
mkdir -p "$T/pt"
cp "$D/old.yaml" "$T/pt/"
cat >"$T/pt/t.yaml" <<'EOF'
policies: [old.yaml]
defaults: {actor: {id: alice, meta: {role: support}}, scope: [ops:support]}
cases:
  - name: ok case
    action: process.monitor
    resource: "{a:b|0x1}"
    expect: allow
  - name: fails <on purpose> & "quoted"
    action: process.monitor
    resource: "{a:b|0x1}"
    expect: deny
EOF
expect "policy test: a failing case with defaults" 1 '^FAIL   fails <on purpose> & "quoted": got allow \(allowed by ops:support\), expected deny' '' -- "$WARD" policy test "$T/pt/t.yaml"
printf 'policies: [old.yaml]\ndefaults: {scope: [ops:support]}\ncases:\n  - name: typo\n    actor: a\n    action: process.sned\n    resource: x\n    expect: deny\n' >"$T/pt/act.yaml"
expect "policy test: an unknown action names file:line:col" 2 '' "act.yaml:6:13: case 'typo': unknown action 'process.sned'" -- "$WARD" policy test "$T/pt/act.yaml"
printf 'policies: [old.yaml]\ndefaults: {scope: [ops:support], atrs: {}}\ncases: []\n' >"$T/pt/def.yaml"
expect "policy test: an unknown key in defaults" 2 '' "def.yaml:2:.*unknown key 'atrs'" -- "$WARD" policy test "$T/pt/def.yaml"
expect "policy test --junit into a missing directory fails before running" 2 '' "--junit $T/nodir/r.xml: directory $T/nodir: No such file" -- "$WARD" policy test --junit "$T/nodir/r.xml" "$T/pt/t.yaml"
if [ ! -s "$out" ]; then echo "ok     policy test --junit: nothing ran"; pass=$((pass+1)); else echo "FAIL   policy test --junit: ran anyway: $(head -c 200 "$out")"; fail=$((fail+1)); fi
expect "policy test --junit onto a directory" 2 '' 'is a directory' -- "$WARD" policy test --junit "$T" "$T/pt/t.yaml"
expect "policy test --junit writes and still exits 1" 1 '^1 passed, 1 failed$' '' -- "$WARD" policy test --junit "$T/pt.xml" "$T/pt/t.yaml"
# The report read back by an XML parser: the JUnit shape CI tools read.
if python3 - "$T/pt.xml" "$T/pt/t.yaml" <<'PY'
import re, sys, xml.etree.ElementTree as ET
root = ET.parse(sys.argv[1]).getroot()
assert root.tag == "testsuite", root.tag
for a in ("name", "tests", "failures", "errors", "skipped", "time", "timestamp"):
    assert a in root.attrib, a
assert root.get("tests") == "2" and root.get("failures") == "1", root.attrib
assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", root.get("timestamp")), root.get("timestamp")
float(root.get("time"))
cases = root.findall("testcase")
assert [c.get("name") for c in cases] == ["ok case", 'fails <on purpose> & "quoted"'], cases
for c in cases:
    assert c.get("classname") == sys.argv[2], c.attrib
    float(c.get("time"))
    assert c.find("system-out") is not None
assert cases[0].find("failure") is None
assert cases[0].find("system-out").text == "ok     ok case\n"
f = cases[1].find("failure")
assert f is not None and "got allow (allowed by ops:support), expected deny" in f.get("message"), f.attrib
assert cases[1].find("system-out").text.startswith('FAIL   fails <on purpose> & "quoted"')
PY
then echo "ok     policy test --junit: the XML read back"; pass=$((pass+1))
else echo "FAIL   policy test --junit: $(head -c 400 "$T/pt.xml")"; fail=$((fail+1)); fi

# --- ward audit keygen / verify ----------------------------------------
expect "keygen writes a key pair" 0 'audit.key' '' -- "$WARD" audit keygen "$T/keys"
if [ "$(stat -c %a "$T/keys/audit.key")" = 600 ] && grep -Eq '^ward-audit\+[0-9a-f]{8}\+' "$T/keys/audit.pub" &&
   grep -q '^PRIVATE+KEY+ward-audit+' "$T/keys/audit.key"; then
  echo "ok     key files and modes"; pass=$((pass+1))
else
  echo "FAIL   key files and modes: $(ls -l "$T/keys")"; fail=$((fail+1))
fi
expect "keygen never replaces a key" 1 '' 'already exists' -- "$WARD" audit keygen "$T/keys"
expect "keygen bad name" 2 '' 'bad key name' -- "$WARD" audit keygen --name 'a b' "$T/keys2"
expect "keygen needs DIR" 2 '' 'DIR is required' -- "$WARD" audit keygen
LOG=$T/audit.log
cp "$DIR/fixtures/audit.log" "$LOG"
cp "$DIR/fixtures/audit.log.pub" "$LOG.pub"
expect "verify intact log" 0 'audit.log: ok: 12 records, 3 checkpoints, signed by ward-audit-fixture$' '' -- "$WARD" audit verify "$LOG"
expect "verify with --key" 0 'ok: 12 records' '' -- "$WARD" audit verify --key "$DIR/fixtures/audit.log.pub" "$LOG"
sed '3s/"actor":"tenant-a"/"actor":"tenant-b"/' "$DIR/fixtures/audit.log" >"$LOG"
expect "verify changed record" 1 'audit.log: line 3: record changed' '' -- "$WARD" audit verify "$LOG"
sed '4d' "$DIR/fixtures/audit.log" >"$LOG"
expect "verify removed record" 1 'line 4: sequence number 4, expected 3' '' -- "$WARD" audit verify "$LOG"
F=$DIR/fixtures/audit.log
{ sed -n 1,2p "$F"; sed -n 4p "$F"; sed -n 3p "$F"; sed -n '5,$p' "$F"; } >"$LOG"
expect "verify reordered records" 1 'line 3: sequence number 3, expected 2' '' -- "$WARD" audit verify "$LOG"
sed '3p' "$DIR/fixtures/audit.log" >"$LOG"
expect "verify inserted record" 1 'line 4: record inserted' '' -- "$WARD" audit verify "$LOG"
head -n 13 "$DIR/fixtures/audit.log" >"$LOG"
expect "verify truncated log" 1 'line 13: this and later records are not covered' '' -- "$WARD" audit verify "$LOG"
head -n 12 "$DIR/fixtures/audit.log" >"$LOG"
expect "verify log cut at a checkpoint" 1 'line 12: the log ends at a checkpoint that is not the closing one' '' -- "$WARD" audit verify "$LOG"
cp "$DIR/fixtures/audit.log" "$LOG"
expect "verify wrong key" 1 'line 6: checkpoint is not signed by key ward-audit\+' '' -- "$WARD" audit verify --key "$T/keys/audit.pub" "$LOG"
expect "verify unreadable log" 2 '' 'nope.log: No such file' -- "$WARD" audit verify --key "$LOG.pub" "$T/nope.log"
expect "verify missing default key" 2 '' 'nope.log.pub: No such file' -- "$WARD" audit verify "$T/nope.log"
expect "verify bad key file" 2 '' 'not a ward audit public key' -- "$WARD" audit verify --key "$LOG" "$LOG"
expect "verify needs FILE" 2 '' 'FILE is required' -- "$WARD" audit verify

echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
