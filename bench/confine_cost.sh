#!/usr/bin/env bash
# bench/confine_cost.sh [BUILD_DIR] [N]
# Host start cost of confinement: fork -> first Lua instruction, N times
# unconfined and N times confined (every layer: the pid namespace via
# clone, user/net/ipc/uts/mount namespaces with the empty root, rlimits,
# prctl, Landlock, seccomp). Uses ward_testhost (a test-only host that runs
# sandbox/confine.c, then one Lua chunk); both modes pay the same fork and
# exec, so the difference is what confinement costs. Also prints the
# median of wd_sbx_confine() alone. Target (issue 5): confined host ready
# in under 5 ms.
set -euo pipefail
cd "$(dirname "$0")/.."
B=${1:-build}
N=${2:-200}
if [ ! -x "$B/ward_testhost" ]; then
  cmake -S . -B "$B" >/dev/null
  cmake --build "$B" --target ward_testhost >/dev/null
fi
echo "confine_cost: $(uname -r), uid $(id -u), $N runs per mode"
"$B/ward_testhost" bench "$N"
