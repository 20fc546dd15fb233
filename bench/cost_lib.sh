# bench/cost_lib.sh: shared by bench/mac_cost.sh and bench/check_cost.sh,
# which compare a normal Release ward with a bench-only build lacking one
# layer (sourced, not run). The caller sets PIN, RUNS and TMP, and runs
# from the repository root.

# cost_build DIR OPTION VALUE: configure and build ward in DIR with the
# CMake option -DOPTION=VALUE (and nothing else), and check it took.
cost_build() {
  local dir=$1 opt=$2 val=$3
  echo "== building ward (Release, $opt=$val) into $dir/" >&2
  cmake -S . -B "$dir" -DCMAKE_BUILD_TYPE=Release -DWD_WERROR=OFF \
        -D"$opt"="$val" >/dev/null 2>"$dir.cmake.log" || {
    cat "$dir.cmake.log" >&2; exit 1; }
  cmake --build "$dir" --target ward -j2 >/dev/null 2>"$dir.log" || {
    grep -E "error" "$dir.log" >&2 || cat "$dir.log" >&2
    echo "bench: the build in $dir failed (see $dir.log)" >&2
    exit 1
  }
  rm -f "$dir.log" "$dir.cmake.log"
  grep -q "^$opt:BOOL=$val\$" "$dir/CMakeCache.txt" || {
    echo "bench: $dir is not configured with $opt=$val" >&2; exit 1; }
}

# Spawning a named entry needs a policy that allows it; the bench apps
# declare none, so grant the bench namespace what W2 and W4 do. Both
# builds of a comparison run with the same policy.
cost_policy() {
  cat >"$TMP/policy.yaml" <<'EOP'
namespace: benchpol
entries:
  - name: all
    kind: security.policy
    groups: [bench]
    policy:
      actions: [process.spawn, process.host, process.send]
      resources: ["bench*", "{bench*"]
      effect: allow
EOP
  COST_POLICY=(--policy "$TMP/policy.yaml" --actor bench --scope benchpol:bench)
}

# cost_fig BUILD_DIR APP ARGS...: the app's FIGURE, or "-"
cost_fig() {
  local b=$1 app=$2 out; shift 2
  out=$(timeout 150 taskset -c "$PIN" "$b/ward" run "${COST_POLICY[@]}" \
        "bench/apps/$app" "$@" \
        2>"$TMP/err" | sed -n 's/^FIGURE //p' | tail -1) || true
  if [ -z "$out" ]; then
    echo "bench: $b $app $*: $(tail -2 "$TMP/err" | tr '\n' ' ')" >&2
    out=-
  fi
  echo "$out"
}

# median, min and max of the numbers on stdin ("-" ignored)
cost_stats() {
  grep -v '^-$' | sort -n | awk '{ v[NR] = $1 }
    END { if (NR == 0) { print "- - -"; exit }
          m = (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2
          printf "%.0f %.0f %.0f\n", m, v[1], v[NR] }'
}

cost_commas() { printf "%s" "$1" | sed ':a;s/\B[0-9]\{3\}\>/,&/;ta'; }

# cost_measure NAME UNIT WITH_DIR WITHOUT_DIR APP ARGS...: RUNS runs per
# build, alternating which goes first so that drift of the machine falls
# on both; prints one row: medians (ranges) and the layer's share
# (without - with) / without of the medians.
cost_measure() {
  local name=$1 unit=$2 bw=$3 bo=$4 i m a b n ms ns share; shift 4
  : >"$TMP/with" ; : >"$TMP/without"
  for i in $(seq 1 "$RUNS"); do
    if [ $((i % 2)) = 1 ]; then
      cost_fig "$bw" "$@" >>"$TMP/with"
      cost_fig "$bo" "$@" >>"$TMP/without"
    else
      cost_fig "$bo" "$@" >>"$TMP/without"
      cost_fig "$bw" "$@" >>"$TMP/with"
    fi
  done
  read -r m a b < <(cost_stats <"$TMP/with")
  ms="$(cost_commas "$m") ($(cost_commas "$a")-$(cost_commas "$b"))"
  read -r n a b < <(cost_stats <"$TMP/without")
  ns="$(cost_commas "$n") ($(cost_commas "$a")-$(cost_commas "$b"))"
  share=-
  if [ "$m" != - ] && [ "$n" != - ] && [ "$n" != 0 ]; then
    share=$(awk -v m="$m" -v n="$n" 'BEGIN { printf "%.1f%%", 100 * (n - m) / n }')
  fi
  printf "%-34s %-7s %-29s %-29s %s\n" "$name" "$unit" "$ms" "$ns" "$share"
}
