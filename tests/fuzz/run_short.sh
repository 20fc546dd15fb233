#!/usr/bin/env bash
# A short run of each libFuzzer target in tests/fuzz/: builds it with clang
# (libFuzzer + ASan + UBSan, the sources under test instrumented too) into
# a temporary directory, runs it for FUZZ_SECONDS (default 20) on a copy of
# its seed corpus tests/fuzz/corpus/<name>/, and fails on any crash, leak,
# timeout or sanitizer report. Prints one line per target with its
# executions, then "N passed, N failed". On a failure the work directory
# (logs, crash-* inputs) is kept and named. See tests/fuzz/README.md.
# Usage: tests/fuzz/run_short.sh [TARGET...]   (default: all seven)
# Environment: FUZZ_SECONDS (default 20), FUZZ_CC (default clang);
# FUZZ_BUILD_ONLY=DIR builds the targets into DIR, keeps them, runs none
# (for a long run: tests/fuzz/README.md).
set -u
cd "$(dirname "$0")/../.."
SECS=${FUZZ_SECONDS:-20}
CC=${FUZZ_CC:-clang}
pass=0 fail=0
work=$(mktemp -d "${TMPDIR:-/tmp}/ward-fuzz.XXXXXX")
only=${FUZZ_BUILD_ONLY:-}
if [ -n "$only" ]; then mkdir -p "$only" && only=$(cd "$only" && pwd) || exit 2; fi

# The sources each target needs (as in each target's header).
sources() {
  case $1 in
    frame) echo "sandbox/ipc.c sandbox/link.c runtime/buf.c runtime/common.c" \
      "-lsodium -luv" ;;
    payload) echo "runtime/lua/lcodec.c runtime/lua/lerrors.c runtime/codec.c" \
      "runtime/common.c runtime/buf.c $(pkg-config --cflags --libs lua5.4) -lm" ;;
    manifest) echo "runtime/manifest.c runtime/yaml.c runtime/node.c runtime/pid.c" \
      "runtime/duration.c runtime/common.c runtime/buf.c -lyaml -lm" ;;
    policy) echo "$(echo policy/[a-z]*.c) runtime/common.c runtime/buf.c" \
      "runtime/node.c" ;;
    spawn) echo "runtime/wire.c runtime/buf.c runtime/common.c policy/value.c -lm" ;;
    http) echo "sandbox/gateway_json.c sandbox/gateway_wire.c sandbox/link.c" \
      "sandbox/gateway_sse.c sandbox/gateway_status.c sandbox/gateway_deploy.c" \
      "sandbox/params.c -larchive" \
      "sandbox/ipc.c runtime/codec.c runtime/duration.c runtime/buf.c" \
      "runtime/common.c /usr/share/llhttp/api.c /usr/share/llhttp/http.c" \
      "/usr/share/llhttp/llhttp.c -I/usr/share/include/llhttp -luv -ljansson" \
      "-lsodium -lm" ;;
    # flow.c with a window of 4 messages and 256 bytes: waits for credit
    # come within reach of a short input (fuzz_flow.c).
    flow) echo "-Iruntime -DWD_FLOW_WIN_MSGS=4 -DWD_FLOW_WIN_BYTES=256 -DWD_FLOW_PEER_MIN=64" \
      "-DWD_FLOW_MSG_COST=16 -DWD_FLOW_DEST_OWN=48 -DWD_MAILBOX_OWN=160" \
      "$(echo runtime/[a-z]*.c policy/[a-z]*.c) -luv -lyaml -lm" ;;
  esac
}

targets=${*:-frame payload manifest policy spawn http flow}
for name in $targets; do
  bin=${only:-$work}/fuzz_$name log=$work/$name.log corpus=$work/corpus_$name
  # shellcheck disable=SC2046 # word splitting of the source list is meant
  if ! "$CC" -g -O1 -fsanitize=fuzzer,address,undefined \
      -fno-sanitize-recover=undefined -D_GNU_SOURCE -Iinclude \
      "tests/fuzz/fuzz_$name.c" $(sources "$name") -o "$bin" >"$log" 2>&1; then
    echo "FAIL   fuzz_$name: build failed: $(head -c 400 "$log")"
    fail=$((fail+1))
    continue
  fi
  if [ -n "$only" ]; then
    echo "ok     fuzz_$name: built $bin"; pass=$((pass+1))
    continue
  fi
  mkdir -p "$corpus"
  cp tests/fuzz/corpus/"$name"/* "$corpus"/ 2>/dev/null
  seeds=$(find "$corpus" -type f | wc -l)
  "$bin" -max_total_time="$SECS" -timeout=10 -rss_limit_mb=2048 \
    -print_final_stats=1 -artifact_prefix="$work/$name-" "$corpus" >>"$log" 2>&1
  st=$?
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
  grown=$(find "$corpus" -type f | wc -l)
  if [ "$st" -eq 0 ] && [ -n "$execs" ] &&
     ! grep -q "ERROR: \(AddressSanitizer\|LeakSanitizer\|libFuzzer\)\|runtime error:" "$log"; then
    echo "ok     fuzz_$name: $execs executions in ${SECS}s, corpus $seeds -> $grown, no crash"
    pass=$((pass+1))
  else
    art=$(ls "$work/$name-"* 2>/dev/null | head -1)
    echo "FAIL   fuzz_$name: exit $st after ${execs:-?} executions; input: ${art:-none}; $(grep -m1 "ERROR\|runtime error:" "$log")"
    fail=$((fail+1))
  fi
done

if [ "$fail" -eq 0 ]; then rm -rf "$work"; else echo "logs and inputs kept in $work"; fi
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
