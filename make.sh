#!/usr/bin/env bash
# ward's one entry point for set-up, demo and tests on a Debian machine.
#   ./make.sh demo    install what is missing, build, run the serve demo
#                     (examples/serve-demo/demo.sh: two tenants behind
#                     ward serve's HTTP API, under a minute)
#   ./make.sh test    install what is missing, build, run the whole suite
#   ./make.sh build   install what is missing and build only
set -euo pipefail
cd "$(dirname "$0")"

PKGS="build-essential cmake pkg-config liblua5.4-dev libuv1-dev libsodium-dev
libseccomp-dev libcmocka-dev libyaml-dev valgrind clang libclang-rt-14-dev procps
erlang-base libjansson-dev libarchive-dev node-llhttp curl tmux jq"

need_pkgs() {
  local missing=()
  for p in $PKGS; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" ||
      missing+=("$p")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  if [ "$(id -u)" -ne 0 ]; then
    echo "ward: missing packages; run as root:" >&2
    echo "  apt-get update && apt-get install -y ${missing[*]}" >&2
    exit 2
  fi
  echo "ward: installing ${missing[*]}" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq "${missing[@]}" >/dev/null
}

build() { # build DIR [cmake args...]
  local dir=$1; shift
  cmake -S . -B "$dir" -DWD_WERROR=ON "$@" >/dev/null
  cmake --build "$dir" -j"$(nproc)" 2>&1 | grep -E "error:|warning:|Error [0-9]" || true
  test -x "$dir/ward"
}

cmd=${1:-}
case "$cmd" in
  build)
    need_pkgs
    build build -DCMAKE_BUILD_TYPE=RelWithDebInfo
    ;;
  demo)
    need_pkgs
    build build -DCMAKE_BUILD_TYPE=RelWithDebInfo
    exec examples/serve-demo/demo.sh build/ward
    ;;
  test)
    need_pkgs
    echo "== build (warnings are errors)"
    # WD_TEST_HOOKS adds the test binary ward_testhooks for the link
    # attacks; build/ward itself is the same as without it.
    build build -DCMAKE_BUILD_TYPE=RelWithDebInfo -DWD_TEST_HOOKS=ON
    echo "== unit and Lua tests"
    (cd build && ctest --output-on-failure)
    echo "== ASan+UBSan build: unit, Lua, CLI, policy, escape and availability tests"
    # (The link attacks, the fuzzers and the fault suite run once, in the
    # build above; the fuzzers are built with ASan+UBSan anyway.)
    build build-asan -DCMAKE_BUILD_TYPE=Debug -DWD_ASAN=ON -DWD_TEST_HOOKS=ON
    # A 32 MiB quarantine (ASan's default is 256 MiB): freed memory held
    # there counts in the process's RSS, which tests/avail/test_queue.sh
    # bounds ("stopped host": the broker must not grow with a flood).
    (cd build-asan && ASAN_OPTIONS=detect_leaks=1:quarantine_size_mb=32 \
      ctest --output-on-failure -LE "link|fuzz|fault")
    echo "== unit tests under valgrind"
    for t in build/test_*; do
      [ -x "$t" ] || continue
      valgrind -q --error-exitcode=1 --leak-check=full "$t" >/dev/null 2>&1 ||
        { echo "valgrind failed: $t" >&2; valgrind -q --leak-check=full "$t" | tail -20; exit 1; }
      echo "valgrind clean: $(basename "$t")"
    done
    echo "== Lua suite (closing line)"
    # The same per-test time-out as ctest's lua.suite: a loaded machine
    # is slow, and a test timed out kills its host, which the tests after
    # it share.
    build/ward test --timeout 120 tests/lua
    ;;
  *)
    echo "usage: ./make.sh demo|test|build" >&2
    exit 2
    ;;
esac
