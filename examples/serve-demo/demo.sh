#!/usr/bin/env bash
# The serve demo (./make.sh demo): what ward is for, in under a minute.
# Two tenants, acme and globex, share one ward serve; each has a token,
# its own host (a confined OS process) and its own functions.
#   1. ward serve with the HTTP API on a unix socket, every decision audited
#   2. exec through the API as each tenant (curl and ward ctl)
#   3. a cross-tenant call denied: the 403, the logged denial, and
#      'ward policy explain' on it
#   4. globex's function wedges its host; the host is killed and restarted,
#      and acme's calls keep succeeding meanwhile
#   5. the operator deploys a new revision of the namespace: new calls get
#      the new code; a broken revision changes nothing
#   6. stop the server; 'ward audit verify' on the log
# Usage: examples/serve-demo/demo.sh [WARD]   (default: build/ward)
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
WARD=$(readlink -f "${1:-$HERE/../../build/ward}")
[ -x "$WARD" ] || { echo "demo: no ward binary at $WARD (./make.sh build)" >&2; exit 2; }
command -v curl >/dev/null || { echo "demo: needs curl (apt-get install curl)" >&2; exit 2; }
APP=$HERE
TMP=$(mktemp -d /tmp/ward-demo.XXXXXX)
SOCK=$TMP/ward.sock
LOG=$TMP/audit.log
SERVER=
LOOP=
cleanup() {
  [ -n "$LOOP" ] && kill "$LOOP" 2>/dev/null || true
  [ -n "$SERVER" ] && { kill "$SERVER" 2>/dev/null; wait "$SERVER" 2>/dev/null; } || true
  rm -rf "$TMP"
}
trap cleanup EXIT

ACME='acme:alice-acme-secret-0123456789'      # see tokens.yaml
GLOBEX='globex:bob-globex-secret-0123456789'
OPS='ops:ops-carol-secret-0123456789'
printf '%s\n' "$OPS" >"$TMP/ops.token"
printf '%s\n' "$ACME" >"$TMP/acme.token"
printf '%s\n' "$GLOBEX" >"$TMP/globex.token"
chmod 600 "$TMP"/*.token
step() { printf '\n== %s\n' "$*"; }
say() { printf '   %s\n' "$*"; }
# api TOKEN PATH JSON: POST through the unix socket; prints "HTTP <code> <body>"
api() {
  curl -s -m 10 -o "$TMP/body" -w '%{http_code}' --unix-socket "$SOCK" \
    -H "Authorization: Bearer $1" -d "$3" "http://ward$2" >"$TMP/code" || true
  printf 'HTTP %s %s\n' "$(cat "$TMP/code")" "$(cat "$TMP/body")"
}
ctl() { # TOKEN ARGS...: ward ctl through the unix socket
  local tok=$1; shift
  "$WARD" ctl --connect "unix:$SOCK" --token-file "$TMP/$tok.token" "$@"
}
t0=$(date +%s%N)

# {====== 1. Start ======
step "1. start: ward serve --listen unix:... --tokens tokens.yaml --audit all"
"$WARD" serve -v --audit all --audit-log "$LOG" --listen "unix:$SOCK" \
  --tokens "$APP/tokens.yaml" --deploy-dir "$TMP/deploys" "$APP" \
  >"$TMP/out" 2>"$TMP/err" &
SERVER=$!
for _ in $(seq 1 1200); do
  curl -s -m 1 --unix-socket "$SOCK" http://ward/healthz >/dev/null 2>&1 && break
  sleep 0.05
done
say "GET /healthz: $(curl -s -m 2 --unix-socket "$SOCK" http://ward/healthz)"
GW=$(grep -o 'gateway started (pid [0-9]*)' "$TMP/err" | grep -o '[0-9]*' | tail -1)
SC=$(awk '/^Seccomp:/ {print $2}' "/proc/$GW/status")
if [ "$SC" = 2 ]; then SCT="Seccomp: 2 (a seccomp filter is on)"
else SCT="Seccomp: $SC (no seccomp filter: a sanitizer build does not confine)"; fi
say "HTTP and JSON are parsed in a confined process: pid $GW, '$(ps -o args= -p "$GW")', $SCT"
say "socket $SOCK mode $(stat -c %a "$SOCK"); audit log $LOG"
# }======

# {====== 2. exec as each tenant ======
step "2. exec through the API, as each tenant"
say "acme   POST /v1/exec/demo:quote  (curl, token acme)"
say "  -> $(api "$ACME" /v1/exec/demo:quote '{"args":[[{"name":"widget","price":250,"qty":4},{"name":"bolt","price":30}],20]}')"
say "globex ward ctl exec demo:stats '[3,5,10]'  (token globex)"
say "  -> $(ctl globex exec demo:stats '[3,5,10]')"
say "each ran as a fresh process on its tenant's own host:"
for h in acme globex; do
  say "  host demo:$h: pid $(grep -o "host demo:$h started (pid [0-9]*)" "$TMP/err" | grep -o '[0-9]*' | tail -1)"
done
# }======

# {====== 3. A denied cross-tenant call ======
step "3. globex calls acme's function: denied, audited, explained"
say "globex POST /v1/exec/demo:quote"
say "  -> $(api "$GLOBEX" /v1/exec/demo:quote '{"args":[[]]}')"
sleep 0.2
say "ward audit show --denied LOG:"
"$WARD" audit show --denied "$LOG" 2>/dev/null | sed 's/^/     /'
N=$("$WARD" audit show --denied "$LOG" 2>/dev/null | awk '$6 == "process.exec" && $7 == "demo:quote" {print $1; exit}')
say "ward policy explain --from-log LOG:$N examples/serve-demo:"
"$WARD" policy explain --from-log "$LOG:$N" "$APP" 2>&1 | sed 's/^/     /' || true
# }======

# {====== 4. A crashing tenant is contained ======
step "4. globex's runaway function wedges its host; acme keeps answering"
# acme calls once every 100 ms while globex's host dies and comes back.
( ok=0 n=0
  while [ ! -e "$TMP/stop" ]; do
    n=$((n + 1))
    ctl acme exec demo:quote '[{"price":100}]' >/dev/null 2>&1 && ok=$((ok + 1))
    sleep 0.1
  done
  echo "$ok $n" >"$TMP/acme.count" ) &
LOOP=$!
sleep 0.3
hostpid() { grep -o "host demo:$1 started (pid [0-9]*)" "$TMP/err" | grep -o '[0-9]*' | tail -1; }
OLD=$(hostpid globex) ACME_PID=$(hostpid acme)
say "globex POST /v1/exec/demo:runaway  (host demo:globex pid $OLD)"
say "  -> $(api "$GLOBEX" /v1/exec/demo:runaway '{"args":[]}')"
say "globex again: $(api "$GLOBEX" /v1/exec/demo:stats '{"args":[[1,2]]}')"
NEW=$(hostpid globex)
sleep 0.5
touch "$TMP/stop"
wait "$LOOP" 2>/dev/null || true
LOOP=
read -r ok n <"$TMP/acme.count"
say "acme meanwhile: $ok of $n exec calls answered 200"
say "broker: $(grep 'host demo:globex: unresponsive' "$TMP/err" | sed 's/^ward: //' | head -1)"
say "broker: host demo:globex restarted (pid $OLD -> $NEW)"
if [ "$(hostpid acme)" = "$ACME_PID" ] && kill -0 "$ACME_PID" 2>/dev/null; then
  say "host demo:acme: the same process throughout (pid $ACME_PID)"
else say "host demo:acme: changed ($ACME_PID -> $(hostpid acme))"; fi
# }======

# {====== 5. Deploy ======
step "5. deploy: the operator sends a new revision of namespace demo (PUT /v1/apps/demo)"
mkdir -p "$TMP/rev2" "$TMP/rev3"
cp "$APP/_index.yaml" "$APP"/*.lua "$TMP/rev2/"
# The new revision: acme's quote says which version answers.
sed -i 's/items = #(items or {}) }/items = #(items or {}), version = 2 }/' "$TMP/rev2/quote.lua"
say "ward ctl deploy demo DIR  (token ops; needs ward.deploy on demo)"
say "  -> $(ctl ops deploy demo "$TMP/rev2" 2>&1 | tr -d '\n')"
say "acme's quote now: $(api "$ACME" /v1/exec/demo:quote '{"args":[[{"price":100}]],"host":"demo:acme"}')"
# A broken revision (a syntax error): checked whole, refused, nothing
# changes.
cp "$TMP/rev2"/* "$TMP/rev3/"
printf 'return { main = function( end }\n' >"$TMP/rev3/stats.lua"
say "a broken revision (stats.lua does not compile):"
say "  -> $(ctl ops deploy demo "$TMP/rev3" 2>&1 | tr -d '\n' | cut -c1-160)"
say "globex's stats still answer: $(api "$GLOBEX" /v1/exec/demo:stats '{"args":[[1,2]],"host":"demo:globex"}')"
say "acme's quote is still version 2: $(api "$ACME" /v1/exec/demo:quote '{"args":[[{"price":100}]],"host":"demo:acme"}')"
# }======

# {====== 6. Stop, verify the log ======
step "6. stop the server; ward audit verify on the log"
kill "$SERVER"; wait "$SERVER" 2>/dev/null || true
SERVER=
say "$(grep 'shutting down' "$TMP/err" | sed 's/^ward: //')"
say "log: $(grep -c '"kind":"decision"' "$LOG") decisions, $(grep -c '"effect":"deny"' "$LOG") denied," \
    "$(grep -c '"kind":"host_death".*unresponsive' "$LOG") host killed as unresponsive"
say "ward audit verify: $("$WARD" audit verify "$LOG" 2>&1 | tail -1)"
# }======

printf '\ndemo done in %s ms\n' $(( ($(date +%s%N) - t0) / 1000000 ))
