#!/usr/bin/env bash
# scenario: alone
# ops_cpu_affinity.sh: `cpu-affinity auto` runs worker k on the k-th CPU the
# process may use; `cpu-affinity off` (the default) leaves every thread free;
# more workers than CPUs are not pinned; `workers auto` counts the cpuset.
# Read from the threads' Cpus_allowed_list in /proc, under a cpuset given
# with taskset.
set -u
. "${TOPSRC:-$(cd "$(dirname "$0")/../.." && pwd)}/tests/support/lib.sh"

NCPU=$(nproc)
[ "$NCPU" -ge 2 ] || fail "needs at least 2 CPUs (this machine has $NCPU)"
P=$(free_port); B1=$(free_port)
start_backend "$B1" app1

# run_with AFFINITY WORKERS CPUSET: start under taskset, print the sorted
# Cpus_allowed_list of every thread, stop.  Called in the script's own
# shell (its output to a file): in $(...) a fail only left the subshell.
run_with() {
    local affinity=()
    [ "$1" = default ] || affinity=("cpu-affinity $1")
    proxy_conf_basic "$TMPDIR/proxy.conf" "$P" "app1 127.0.0.1:$B1" "workers $2" "${affinity[@]}"
    PROXY_WRAP="taskset -c $3" start_proxy "$TMPDIR/proxy.conf" "$P"
    [ "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$P/")" = 200 ] || fail "request failed"
    for t in /proc/"$PROXY_PID"/task/*/status; do
        awk '/^Cpus_allowed_list/ { print $2 }' "$t"
    done | sort | tr '\n' ' '
    stop_pid "$PROXY_PID"
}

# The two highest CPUs, so "k-th allowed CPU" is not simply k.
LAST=$((NCPU - 1)); PREV=$((NCPU - 2))
run_with auto 2 "$PREV,$LAST" >"$TMPDIR/got"
got=$(cat "$TMPDIR/got")
[ -n "$got" ] || fail "no thread affinity read"
echo "cpu-affinity auto, 2 workers, cpuset $PREV,$LAST: $got"
# main thread free on the cpuset, one worker on each CPU
[ "$(echo "$got" | tr ' ' '\n' | grep -cx "$PREV")" = 1 ] || fail "no worker alone on CPU $PREV: $got"
[ "$(echo "$got" | tr ' ' '\n' | grep -cx "$LAST")" = 1 ] || fail "no worker alone on CPU $LAST: $got"
grep -q "cpu-affinity: workers 0-1 on CPUs $PREV,$LAST" "$TMPDIR/proxy.log" || fail "no cpu-affinity log line"

for mode in off default; do
    run_with $mode 2 "$PREV,$LAST" >"$TMPDIR/got"
    got=$(cat "$TMPDIR/got")
    [ -n "$got" ] || fail "no thread affinity read"
    echo "cpu-affinity $mode: $got"
    for c in $got; do
        [ "$c" = "$PREV-$LAST" ] || [ "$c" = "$PREV,$LAST" ] || fail "a thread was pinned with cpu-affinity $mode: $got"
    done
done

run_with auto $((NCPU + 1)) "0-$LAST" >"$TMPDIR/got"
got=$(cat "$TMPDIR/got")
[ -n "$got" ] || fail "no thread affinity read"
echo "$((NCPU + 1)) workers on $NCPU CPUs: $got"
for c in $got; do
    [ "$c" = "0-$LAST" ] || fail "a thread was pinned with more workers than CPUs: $got"
done
grep -q "cpu-affinity: $((NCPU + 1)) workers on $NCPU CPUs: not pinned" "$TMPDIR/proxy.log" ||
    fail "no log line saying why nothing was pinned"
# workers auto counts the cpuset, not every online CPU.
: >"$TMPDIR/proxy.log"
run_with off auto "$LAST" >/dev/null
grep -q "started: 1 workers" "$TMPDIR/proxy.log" ||
    fail "workers auto under a 1-CPU cpuset: $(grep started "$TMPDIR/proxy.log")"
echo "workers auto under taskset -c $LAST: 1 worker"
echo "PASS"
