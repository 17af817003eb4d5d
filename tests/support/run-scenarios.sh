#!/usr/bin/env bash
# run-scenarios.sh: runs the load and fault scenarios in tests/scenario.
#
#   tests/support/run-scenarios.sh PROXY_BINARY [SCRIPT.sh ...]
#
# Each tests/scenario/*.sh (or each script named) runs with bash under
# `timeout`, with the environment PROXY, BACKEND, TOPSRC and a fresh TMPDIR.
# Exit 0 is a pass.  A script that says `# scenario: alone` on a line of its
# own (it puts real load on the machine, or measures time, CPU or memory)
# runs with nothing beside it, after the others; the others run
# SCENARIO_JOBS at a time (most of them wait on timers and sockets, not on
# a CPU).  Prints PASS/FAIL per script as it ends (with the output's tail for
# a failure), then "N passed, N failed"; exits 1 when any failed.
# Environment: SCENARIO_TIMEOUT (seconds, default 120), SCENARIO_JOBS
# (default 3; 1 runs every script alone).
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
jobs=${SCENARIO_JOBS:-3}
case $jobs in '' | *[!0-9]* | 0) echo "run-scenarios: SCENARIO_JOBS must be a number from 1" >&2; exit 2 ;; esac

# Scripts running side by side must not be handed the same port before
# either binds it: lib.sh's free_port notes what it gave in this one file.
shared=$(mktemp -d "${TMPDIR:-/tmp}/scenarios.XXXXXX")
trap 'rm -rf "$shared"' EXIT

shared_scripts=() alone_scripts=()
for script in "${scripts[@]}"; do
    if grep -qx '# scenario: alone' "$script"; then alone_scripts+=("$script"); else shared_scripts+=("$script"); fi
done

passed=0 failed=0
declare -A NAME=() DIR=() START=()

start_one() {
    local script=$1 name dir tpid
    name=$(basename "$script" .sh)
    dir=$(mktemp -d "${TMPDIR:-/tmp}/scenario-$name.XXXXXX")
    # timeout makes itself a process-group leader and signals the whole
    # group when time runs out; after the script ends we also signal that
    # group, so a forgotten background process cannot outlive its scenario.
    PROXY=$proxy BACKEND=$backend TOPSRC=$topsrc TMPDIR=$dir PORTS_GIVEN=$shared/ports-given \
        timeout -k 5 "$limit" bash "$script" >"$dir/output.log" 2>&1 </dev/null &
    tpid=$!
    NAME[$tpid]=$name DIR[$tpid]=$dir START[$tpid]=$SECONDS
}

# finish_one PID RC: the report of a script that ended
finish_one() {
    local tpid=$1 rc=$2 name=${NAME[$1]} dir=${DIR[$1]} secs why
    kill -TERM -- "-$tpid" 2>/dev/null
    secs=$((SECONDS - START[$tpid]))
    unset "NAME[$tpid]" "DIR[$tpid]" "START[$tpid]"
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
}

# wait_any: waits for one running script and reports it
wait_any() {
    local done_pid rc
    wait -n -p done_pid "${!NAME[@]}"
    rc=$?
    finish_one "$done_pid" "$rc"
}

# run_all MAX SCRIPT...: the scripts, at most MAX at a time
run_all() {
    local max=$1 script
    shift
    for script in "$@"; do
        while [ ${#NAME[@]} -ge "$max" ]; do wait_any; done
        start_one "$script"
    done
    while [ ${#NAME[@]} -gt 0 ]; do wait_any; done
}

run_all "$jobs" "${shared_scripts[@]}"
run_all 1 "${alone_scripts[@]}"
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
