#!/usr/bin/env bash
# run-scenarios.sh: runs the load and fault scenarios in tests/scenario.
#
#   tests/support/run-scenarios.sh PROXY_BINARY [SCRIPT.sh ...]
#
# Each tests/scenario/*.sh (or each script named) runs with bash, one at a
# time (they put real load on the machine), under `timeout`, with the
# environment PROXY, BACKEND, TOPSRC and a fresh TMPDIR.  Exit 0 is a pass.
# Prints PASS/FAIL per script (with the output's tail for a failure), then
# "N passed, N failed"; exits 1 when any failed.
# Environment: SCENARIO_TIMEOUT (seconds, default 120).
set -u

if [ $# -lt 1 ]; then
    echo "usage: $0 PROXY_BINARY [SCRIPT.sh ...]" >&2
    exit 2
fi
topsrc=$(cd "$(dirname "$0")/../.." && pwd)
proxy=$(realpath -e "$1" 2>/dev/null) || { echo "run-scenarios: no proxy binary at $1" >&2; exit 1; }
shift
backend=$topsrc/tests/support/backend
[ -x "$backend" ] || { echo "run-scenarios: $backend is not built (make tests/support/backend)" >&2; exit 1; }

if [ $# -gt 0 ]; then
    scripts=("$@")
else
    shopt -s nullglob
    scripts=("$topsrc"/tests/scenario/*.sh)
fi
if [ ${#scripts[@]} -eq 0 ]; then
    echo "no scenario tests"
    exit 0
fi

limit=${SCENARIO_TIMEOUT:-120}
passed=0 failed=0
for script in "${scripts[@]}"; do
    name=$(basename "$script" .sh)
    dir=$(mktemp -d "${TMPDIR:-/tmp}/scenario-$name.XXXXXX")
    start=$SECONDS
    # timeout makes itself a process-group leader and signals the whole
    # group when time runs out; after the script ends we also signal that
    # group, so a forgotten background process cannot outlive its scenario.
    PROXY=$proxy BACKEND=$backend TOPSRC=$topsrc TMPDIR=$dir \
        timeout -k 5 "$limit" bash "$script" >"$dir/output.log" 2>&1 </dev/null &
    tpid=$!
    wait "$tpid"
    rc=$?
    kill -TERM -- "-$tpid" 2>/dev/null
    secs=$((SECONDS - start))
    if [ "$rc" -eq 0 ]; then
        passed=$((passed + 1))
        echo "PASS $name (${secs}s)"
        rm -rf "$dir"
    else
        failed=$((failed + 1))
        [ "$rc" -eq 124 ] && why="timed out after ${limit}s" || why="exit $rc"
        echo "FAIL $name ($why, ${secs}s); files kept in $dir; last lines of its output:"
        tail -n "${SCENARIO_TAIL:-30}" "$dir/output.log" | sed 's/^/    /'
    fi
done
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
