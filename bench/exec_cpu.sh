#!/usr/bin/env bash
# CPU per exec of ward serve's processes (issue 13, session 8): for each
# ward binary given, one `ward serve` of bench/apps/ingress (as
# bench/ingress.sh starts it); then RUNS rounds in which each server in
# turn gets SECS seconds of `POST /v1/exec/bench:add` over TCP from
# bench/httpload.c (64 connections). Each process's run time comes from
# /proc/PID/task/*/schedstat before and after (gateway, broker, host),
# divided by the requests served. Prints each run and the medians per
# binary. Other load on the machine changes the batching, so alternate
# and compare medians only.
#   bench/exec_cpu.sh RUNS SECS WARD [WARD...]
set -u
RUNS=${1:?usage: bench/exec_cpu.sh RUNS SECS WARD [WARD...]}; SECS=${2:?}; shift 2
cd "$(dirname "$0")/.."
tmp=$(mktemp -d)
PIDS=()
trap 'for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; done; wait 2>/dev/null; rm -rf "$tmp"' EXIT
cc -O2 -o "$tmp/httpload" bench/httpload.c || exit 1
SECRET=bench-secret-0123456789abcdef BODY='{"args":[1,2]}'
printf 'POST /v1/exec/bench:add HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nAuthorization: Bearer bench:%s\r\nContent-Length: %d\r\n\r\n%s' \
  "$SECRET" ${#BODY} "$BODY" >"$tmp/req"
i=0
for w in "$@"; do
  i=$((i + 1)); PORT[$i]=$((20000 + RANDOM % 30000))
  printf 'tokens:\n  - id: bench\n    secret_hash: %s\n    actor: {id: bench}\n    groups: [bench:callers]\n' \
    "$("$w" token hash "$SECRET")" >"$tmp/tokens$i.yaml"
  "$w" serve --listen "tcp:127.0.0.1:${PORT[$i]}" --tokens "$tmp/tokens$i.yaml" --max-conns 512 \
    --max-conns-per-token 256 bench/apps/ingress >/dev/null 2>"$tmp/err$i" &
  PIDS+=($!); SP[$i]=$!
done
rt() { local f s=0 a; for f in /proc/$1/task/*/schedstat; do read -r a _ <"$f"; s=$((s + a)); done; echo $s; }
for j in $(seq 1 $i); do # up, with its host started, and warm
  for k in $(seq 1 200); do curl -s -o /dev/null "http://127.0.0.1:${PORT[$j]}/healthz" && break; sleep 0.05; done
  "$tmp/httpload" "tcp:127.0.0.1:${PORT[$j]}" 64 1 "$tmp/req" >/dev/null
  GW[$j]=$(pgrep -P "${SP[$j]}" -f 'ward gateway'); HO[$j]=$(pgrep -P "${SP[$j]}" -x exe)
done
echo "load: $(cut -d' ' -f1-3 /proc/loadavg) on $(nproc) CPUs" >&2
for r in $(seq 1 "$RUNS"); do
  for j in $(seq 1 $i); do
    b0=$(rt "${SP[$j]}") g0=$(rt "${GW[$j]}") h0=$(rt "${HO[$j]}")
    out=$("$tmp/httpload" "tcp:127.0.0.1:${PORT[$j]}" 64 "$SECS" "$tmp/req")
    b1=$(rt "${SP[$j]}") g1=$(rt "${GW[$j]}") h1=$(rt "${HO[$j]}")
    n=$(echo "$out" | sed -n 's/^REQS \([0-9]*\).*/\1/p') rps=$(echo "$out" | sed -n 's/.*RPS \([0-9]*\).*/\1/p')
    awk -v j="$j" -v n="$n" -v r="$rps" -v g=$((g1 - g0)) -v b=$((b1 - b0)) -v h=$((h1 - h0)) 'BEGIN {
      printf "%d rps %d gateway %.3f broker %.3f host %.3f sum %.3f\n", j, r, g/n/1000, b/n/1000, h/n/1000, (g+b+h)/n/1000 }' |
      tee -a "$tmp/res" >&2
  done
done
echo "load: $(cut -d' ' -f1-3 /proc/loadavg)" >&2
printf '%-40s %8s %8s %8s %8s %8s   (us of CPU per exec, medians of %d)\n' binary req/s gateway broker host sum "$RUNS"
j=0
for w in "$@"; do
  j=$((j + 1))
  printf '%-40s' "$w"
  for f in 3 5 7 9 11; do
    grep "^$j " "$tmp/res" | awk -v f=$f '{ print $f }' | sort -n |
      awk '{ a[NR] = $1 } END { printf " %8s", a[int((NR + 1) / 2)] }'
  done
  echo
done
