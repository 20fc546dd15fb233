#!/usr/bin/env bash
# Ingress (issue 13): exec of a trivial entry over HTTP, a fresh process
# per request, against nginx with the Lua module and Redis FCALL of the
# same function, in the same run. Prints req/s, p50, p99 per row (the
# median of ROUNDS alternating runs) and the ratios against the targets
# (>= 0.5x nginx+Lua, >= 1x Redis FCALL requests/s).
#
#   bench/ingress.sh [--quick]     (ROUNDS=3 DUR=5 by default; --quick 1 x 3s)
#   env: ROUNDS, DUR (seconds per run), CONNS (64), WARD (a ward binary;
#        default: build-bench/ward, built in Release here)
#
# Rows: ward serve over TCP loopback with wrk (the like-for-like row),
# over its unix socket with bench/httpload.c (wrk has no unix sockets;
# the same client over TCP is shown to compare the two clients), nginx
# (nginx-light + libnginx-mod-http-lua, one worker, content_by_lua_block
# doing the same work: check the bearer token, decode the JSON body, sum
# the args, encode the answer) from a config in a temp dir on a loopback
# port, and Redis FUNCTION LOAD + FCALL with redis-benchmark. Then where
# ward's time goes: GET /healthz (the gateway alone) and an exec the
# policy denies (gateway + broker + policy decision, no host process).
# Needs Debian's wrk nginx-light libnginx-mod-http-lua lua-cjson
# redis-server redis-tools (installed when missing if run as root).
set -euo pipefail
SELF=$(readlink -f "$0")
cd "$(dirname "$SELF")/.."
ROOT=$PWD
ROUNDS=${ROUNDS:-3} DUR=${DUR:-5} CONNS=${CONNS:-64}
case "${1:-}" in
  --quick) ROUNDS=1 DUR=3 ;;
  "") ;;
  -h|--help) sed -n '2,23p' "$SELF" | sed 's/^# \{0,1\}//'; exit 0 ;;
  *) echo "usage: bench/ingress.sh [--quick]" >&2; exit 2 ;;
esac

# {====== Packages ======
PKGS="wrk nginx-light libnginx-mod-http-lua lua-cjson redis-server redis-tools curl"
missing=()
for p in $PKGS; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" -ne 0 ]; then
    echo "ingress: missing packages; run as root:" >&2
    echo "  apt-get update && apt-get install -y ${missing[*]}" >&2
    exit 2
  fi
  echo "ingress: installing ${missing[*]} (the peers and the load generators)" >&2
  # (Debian's redis-server package may start a system redis on 6379; this
  # script uses its own on a temporary port and leaves that one alone.)
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq && apt-get install -y -qq "${missing[@]}" >/dev/null
fi
# }======

# {====== Build, temp dir, cleanup ======
if [ -z "${WARD:-}" ]; then
  echo "== building ward (Release) into build-bench/" >&2
  cmake -S . -B build-bench -DCMAKE_BUILD_TYPE=Release -DWD_WERROR=OFF >/dev/null
  cmake --build build-bench --target ward -j2 >/dev/null
  WARD=$ROOT/build-bench/ward
fi
TMP=$(mktemp -d /tmp/ward-ingress.XXXXXX)
PIDS=()
cleanup() {
  local p
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
  for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null || true; done
  rm -rf "$TMP"
}
trap cleanup EXIT
cc -O2 -Wall -o "$TMP/httpload" bench/httpload.c
port() { # a free loopback port
  local p
  while :; do
    p=$((20000 + RANDOM % 30000))
    (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null || { echo "$p"; return; }
  done
}
wait_http() { # URL [curl args]: until it answers
  local i
  for i in $(seq 1 200); do curl -s -m 1 -o /dev/null "$@" && return 0; sleep 0.05; done
  echo "ingress: nothing answers at $*" >&2; return 1
}
SECRET=bench-secret-0123456789abcdef
TOKEN="bench:$SECRET"
BODY='{"args":[1,2]}'
# }======

# {====== ward serve ======
WPORT=$(port)
WSOCK=$TMP/ward.sock
printf 'tokens:\n  - id: bench\n    secret_hash: %s\n    actor: {id: bench}\n    groups: [bench:callers]\n' \
  "$("$WARD" token hash "$SECRET")" >"$TMP/tokens.yaml"
"$WARD" serve --listen "tcp:127.0.0.1:$WPORT" --listen "unix:$WSOCK" --tokens "$TMP/tokens.yaml" \
  --max-conns 512 --max-conns-per-token 256 bench/apps/ingress >"$TMP/ward.out" 2>"$TMP/ward.err" &
PIDS+=($!)
wait_http "http://127.0.0.1:$WPORT/healthz" || { cat "$TMP/ward.err" >&2; exit 1; }
# }======

# {====== nginx + Lua ======
NPORT=$(port)
mkdir -p "$TMP/nginx"
cat >"$TMP/nginx/nginx.conf" <<NGX
load_module /usr/lib/nginx/modules/ndk_http_module.so;
load_module /usr/lib/nginx/modules/ngx_http_lua_module.so;
worker_processes 1;
daemon off;
pid $TMP/nginx/nginx.pid;
error_log $TMP/nginx/error.log warn;
events { worker_connections 1024; }
http {
  access_log off;
  client_body_temp_path $TMP/nginx/body;
  proxy_temp_path $TMP/nginx/proxy;
  fastcgi_temp_path $TMP/nginx/fastcgi;
  lua_package_cpath "/usr/lib/x86_64-linux-gnu/lua/5.1/?.so;;";
  server {
    listen 127.0.0.1:$NPORT;
    location /v1/exec/ {
      content_by_lua_block {
        local cjson = require "cjson"
        ngx.header.content_type = "application/json"
        if ngx.var.http_authorization ~= "Bearer $TOKEN" then
          ngx.status = 401
          return ngx.print('{"error":{"kind":"PermissionDenied","message":"no token"}}')
        end
        ngx.req.read_body()
        local ok, req = pcall(cjson.decode, ngx.req.get_body_data() or "")
        if not ok or type(req) ~= "table" then
          ngx.status = 400
          return ngx.print('{"error":{"kind":"Invalid","message":"bad JSON"}}')
        end
        local s = 0
        for _, v in ipairs(req.args or {}) do s = s + v end
        ngx.print(cjson.encode({result = s}))
      }
    }
  }
}
NGX
nginx -p "$TMP/nginx" -c "$TMP/nginx/nginx.conf" 2>"$TMP/nginx/stderr" &
PIDS+=($!)
wait_http "http://127.0.0.1:$NPORT/" || { cat "$TMP/nginx/stderr" "$TMP/nginx/error.log" >&2; exit 1; }
# }======

# {====== Redis FCALL ======
RPORT=$(port)
redis-server --port "$RPORT" --bind 127.0.0.1 --save '' --appendonly no --dir "$TMP" \
  --logfile "$TMP/redis.log" &
PIDS+=($!)
for _ in $(seq 1 100); do redis-cli -p "$RPORT" ping >/dev/null 2>&1 && break; sleep 0.05; done
redis-cli -p "$RPORT" FUNCTION LOAD "#!lua name=bench
redis.register_function('add', function(keys, args)
  local s = 0
  for _, v in ipairs(args) do s = s + tonumber(v) end
  return s
end)" >/dev/null
# }======

# {====== Check that each answers 3 ======
A="Authorization: Bearer $TOKEN"
w=$(curl -s -H "$A" -d "$BODY" "http://127.0.0.1:$WPORT/v1/exec/bench:add")
u=$(curl -s --unix-socket "$WSOCK" -H "$A" -d "$BODY" "http://x/v1/exec/bench:add")
n=$(curl -s -H "$A" -d "$BODY" "http://127.0.0.1:$NPORT/v1/exec/bench:add")
r=$(redis-cli -p "$RPORT" FCALL add 0 1 2)
d=$(curl -s -o /dev/null -w '%{http_code}' -H "$A" -d "$BODY" "http://127.0.0.1:$WPORT/v1/exec/bench:nope")
if [ "$w" != '{"result":3}' ] || [ "$u" != "$w" ] || [ "$n" != "$w" ] || [ "$r" != 3 ] || [ "$d" != 403 ]; then
  echo "ingress: the peers do not agree: ward tcp '$w' unix '$u' nginx '$n' redis '$r' denied $d" >&2
  exit 1
fi
# }======

# {====== Load generators ======
# Each prints: REQS n NON2XX n ERRORS n SECS s RPS r P50US us P99US us
cat >"$TMP/post.lua" <<LUA
wrk.method = "${METHOD:-POST}"
wrk.body = '$BODY'
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer $TOKEN"
function done(s, lat, req)
  local e = s.errors
  io.write(string.format("REQS %d NON2XX %d ERRORS %d SECS %.2f RPS %.0f P50US %d P99US %d\n",
    s.requests, e.status, e.connect + e.read + e.write + e.timeout, s.duration / 1e6,
    s.requests / (s.duration / 1e6), lat:percentile(50), lat:percentile(99)))
end
LUA
sed 's/^wrk.method = .*/wrk.method = "GET"/; /^wrk.body/d' "$TMP/post.lua" >"$TMP/get.lua"
printf 'POST /v1/exec/bench:add HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nAuthorization: Bearer %s\r\nContent-Length: %d\r\n\r\n%s' \
  "$TOKEN" ${#BODY} "$BODY" >"$TMP/req"
run_wrk() { # SCRIPT URL
  wrk -t1 -c"$CONNS" -d"${DUR}s" --timeout 10s -s "$1" "$2" 2>&1 | grep '^REQS' || echo "REQS 0 NON2XX 0 ERRORS 1 SECS 0 RPS 0 P50US 0 P99US 0"
}
run_redis() {
  local n=$((DUR * ${REDIS_RATE:-40000}))
  redis-benchmark -p "$RPORT" -c "$CONNS" -n "$n" --csv FCALL add 0 1 2 2>/dev/null |
    tr -d '"' | awk -F, 'NR == 2 { printf "REQS 0 NON2XX 0 ERRORS 0 SECS 0 RPS %.0f P50US %.0f P99US %.0f\n", $2, $5 * 1000, $7 * 1000 }'
}
ROWS=(ward_tcp ward_unix ward_tcp_hl nginx redis healthz denied)
declare -A LABEL=(
  [ward_tcp]="ward exec, TCP loopback (wrk)"
  [ward_unix]="ward exec, unix socket (httpload)"
  [ward_tcp_hl]="ward exec, TCP loopback (httpload)"
  [nginx]="nginx+Lua, 1 worker (wrk)"
  [redis]="Redis FCALL (redis-benchmark)"
  [healthz]="ward GET /healthz: gateway alone (wrk)"
  [denied]="ward exec denied 403: gateway+broker (wrk)")
measure() {
  case $1 in
    ward_tcp) run_wrk "$TMP/post.lua" "http://127.0.0.1:$WPORT/v1/exec/bench:add" ;;
    ward_unix) "$TMP/httpload" "unix:$WSOCK" "$CONNS" "$DUR" "$TMP/req" ;;
    ward_tcp_hl) "$TMP/httpload" "tcp:127.0.0.1:$WPORT" "$CONNS" "$DUR" "$TMP/req" ;;
    nginx) run_wrk "$TMP/post.lua" "http://127.0.0.1:$NPORT/v1/exec/bench:add" ;;
    redis) run_redis ;;
    healthz) run_wrk "$TMP/get.lua" "http://127.0.0.1:$WPORT/healthz" ;;
    denied) run_wrk "$TMP/post.lua" "http://127.0.0.1:$WPORT/v1/exec/bench:nope" ;;
  esac
}
field() { sed -n "s/.* $1 \([0-9.]*\).*/\1/p"; }
median() { sort -n | awk '{ a[NR] = $1 } END { if (NR) print a[int((NR + 1) / 2)]; else print 0 }'; }
# }======

echo "== ingress: $CONNS connections, ${DUR}s per run, $ROUNDS rounds (rows alternate; medians)" >&2
echo "   load: $(cut -d' ' -f1-3 /proc/loadavg) on $(nproc) CPUs" >&2
for round in $(seq 1 "$ROUNDS"); do
  for row in "${ROWS[@]}"; do
    out=$(measure "$row")
    echo "   round $round $row: $out" >&2
    echo "$row $out" >>"$TMP/results"
    # A row whose answers were not 200 (the denied row aside) is no figure.
    if [ "$row" != denied ] && [ "$(echo "$out" | field NON2XX)" != 0 ]; then
      echo "ingress: $row: answers other than 200: $out" >&2
    fi
  done
done
declare -A RPS P50 P99
for row in "${ROWS[@]}"; do
  RPS[$row]=$(grep "^$row " "$TMP/results" | field RPS | median)
  P50[$row]=$(grep "^$row " "$TMP/results" | field P50US | median)
  P99[$row]=$(grep "^$row " "$TMP/results" | field P99US | median)
done
printf '\n%-44s %10s %10s %10s\n' "ingress ($CONNS connections)" "req/s" "p50 ms" "p99 ms"
for row in "${ROWS[@]}"; do
  printf '%-44s %10s %10.2f %10.2f\n' "${LABEL[$row]}" "${RPS[$row]}" \
    "$(echo "${P50[$row]} / 1000" | bc -l)" "$(echo "${P99[$row]} / 1000" | bc -l)"
done
ratio() { # ROW PEER TARGET: the ratio of the medians, and the median of
  # each round's ratio (the two rows of a round ran seconds apart)
  local r pr
  r=$(echo "${RPS[$1]} / ${RPS[$2]}" | bc -l)
  pr=$(paste <(grep "^$1 " "$TMP/results" | field RPS) <(grep "^$2 " "$TMP/results" | field RPS) |
       awk '$2 > 0 { printf "%.4f\n", $1 / $2 }' | median)
  printf '%-44s %6.2fx (per round %4.2fx)  target >= %sx: %s\n' "${LABEL[$1]%% (*} / ${LABEL[$2]%% (*}" \
    "$r" "$pr" "$3" "$(echo "$r >= $3" | bc -l | sed 's/1/met/; s/0/MISSED/')"
}
echo
ratio ward_tcp nginx 0.5
ratio ward_tcp redis 1
ratio ward_unix nginx 0.5
ratio ward_unix redis 1
