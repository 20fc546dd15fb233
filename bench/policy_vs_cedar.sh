#!/usr/bin/env bash
# bench/policy_vs_cedar.sh: ward's policy engine against Cedar (issue 4,
# "the same requests against Cedar ... with equivalent policies, and the
# ratio"; target: at 1,000 policies at least 100x Cedar's rate).
#
#   bench/policy_vs_cedar.sh [--raw]      --raw also prints both raw outputs
#
# Installs bench/cedar/node_modules with `npm ci` if it is missing (the
# version of @cedar-policy/cedar-wasm is pinned in bench/cedar/package.json),
# builds bench/bench_policy.c into a temporary directory (removed at the
# end), runs it, runs `node bench/cedar/bench.mjs` (the same policies and
# requests, replayed from bench_policy's random stream, in Cedar), and prints
# one line per scope size: ward uncached and cached ns/decision, Cedar
# ns/decision (statefulIsAuthorized on a preparsed policy set; Cedar has no
# decision cache), Cedar/ward ratios, and Cedar's isAuthorized, which parses
# the policy set on every call. The "allowed" shares of the two engines are
# compared as a check that the policies are equivalent. Needs cc, node, npm;
# about 2 minutes on 2 cores.
set -euo pipefail
SELF=$(readlink -f "$0")
cd "$(dirname "$SELF")/.."

RAW=0
case ${1:-} in
  --raw) RAW=1 ;;
  -h|--help) sed -n '2,18p' "$SELF" | sed 's/^# \{0,1\}//'; exit 0 ;;
  "") ;;
  *) echo "usage: bench/policy_vs_cedar.sh [--raw]" >&2; exit 2 ;;
esac

if [ ! -d bench/cedar/node_modules/@cedar-policy/cedar-wasm ]; then
  npm ci --prefix bench/cedar --no-audit --no-fund >&2
fi

TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
${CC:-cc} -O2 -D_GNU_SOURCE -Iinclude bench/bench_policy.c policy/[a-z]*.c \
  runtime/common.c runtime/buf.c runtime/node.c -o "$TMP/bench_policy"

echo "ward: bench_policy ..." >&2
"$TMP/bench_policy" >"$TMP/ward.txt"
echo "cedar: node bench/cedar/bench.mjs ..." >&2
node bench/cedar/bench.mjs >"$TMP/cedar.txt"
if [ $RAW = 1 ]; then cat "$TMP/ward.txt" "$TMP/cedar.txt"; echo; fi

grep '^# cedar' "$TMP/cedar.txt" | sed 's/^# //'
awk '
  FNR == 1 { file++ }
  /^[0-9]/ {
    if (file == 1) { w[$1, $2] = $3; wa[$1, $2] = $5 }
    else { c[$1, $2] = $3; ca[$1, $2] = $5 }
    if (!($1 in seen)) { seen[$1] = 1; order[++n] = $1 }
  }
  END {
    printf "%-9s %12s %12s %12s %12s %12s %14s  %s\n", "policies", \
      "ward unc ns", "ward cach ns", "cedar ns", "cedar/unc", "cedar/cach", \
      "cedar-parse ns", "allowed ward/cedar"
    for (i = 1; i <= n; i++) {
      s = order[i]
      if (!((s, "cedar") in c)) continue
      wu = w[s, "uncached"]; wc = w[s, "cached"]; cc = c[s, "cedar"]
      printf "%-9s %12.1f %12.1f %12.1f %11.0fx %11.0fx %14.1f  %s / %s\n", \
        s, wu, wc, cc, cc / wu, cc / wc, c[s, "cedar-parse"], \
        wa[s, "uncached"], ca[s, "cedar"]
    }
  }' "$TMP/ward.txt" "$TMP/cedar.txt"
echo "(cedar: statefulIsAuthorized, policy set preparsed; cedar-parse:" \
  "isAuthorized, parsed per call; ~: share over the first 512 requests)"
