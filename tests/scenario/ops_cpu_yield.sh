#!/usr/bin/env bash
# scenario: alone
# ops_cpu_yield.sh: `cpu-yield auto` (the default) gives the CPU up after a
# round that sent, and stops doing so while that hands the CPU to something
# slow.  Two busy loops share CPU 0 with a 1-worker proxy; the backend and
# wrk run on CPU 1.  With auto the proxy logs that it paused yielding, and
# every request is answered; with off it never yields, so it never pauses.
set -u
. "${TOPSRC:-$(cd "$(dirname "$0")/../.." && pwd)}/tests/support/lib.sh"

[ "$(nproc)" -ge 2 ] || fail "needs at least 2 CPUs (this machine has $(nproc))"
command -v wrk >/dev/null || fail "wrk is not installed"
P=$(free_port); B1=$(free_port)
taskset -c 1 true || fail "taskset cannot use CPU 1"

start_backend "$B1" app1
taskset -a -p -c 1 "$BACKEND_PID" >/dev/null

for _ in 1 2; do
    taskset -c 0 sh -c 'while :; do :; done' &
    track $!
done

# run MODE: 3 s of wrk through a proxy with cpu-yield MODE; prints
# "<pauses logged> <requests> <non-2xx> <socket errors>".
run() {
    : >"$TMPDIR/proxy.log"
    proxy_conf_basic "$TMPDIR/proxy.conf" "$P" "app1 127.0.0.1:$B1" "workers 1" "cpu-yield $1" "log-level debug"
    PROXY_WRAP="taskset -c 0" start_proxy "$TMPDIR/proxy.conf" "$P"
    taskset -c 1 wrk -t1 -c10 -d3s --timeout 3s "http://127.0.0.1:$P/" >"$TMPDIR/wrk.out" 2>&1
    stop_pid "$PROXY_PID"
    local pauses total non2xx sockerr
    pauses=$(grep -c "not yielding for" "$TMPDIR/proxy.log")
    total=$(awk '/requests in/ { print $1; exit }' "$TMPDIR/wrk.out")
    non2xx=$(awk '/Non-2xx/ { print $NF; exit }' "$TMPDIR/wrk.out")
    sockerr=$(awk '/Socket errors/ { n = 0; for (i = 1; i <= NF; i++) if ($i ~ /^[0-9]+,?$/) n += $i + 0; print n; exit }' "$TMPDIR/wrk.out")
    echo "$pauses ${total:-0} ${non2xx:-0} ${sockerr:-0}"
}

read -r pauses total non2xx sockerr <<<"$(run auto)"
auto_total=$total
echo "cpu-yield auto beside two busy loops: $pauses pauses logged, $total requests, $non2xx non-2xx, $sockerr socket errors"
grep -m1 "not yielding for" "$TMPDIR/proxy.log"
[ "$total" -gt 0 ] || fail "no request answered (cpu-yield auto)"
[ "$non2xx" = 0 ] && [ "$sockerr" = 0 ] || fail "failed requests with cpu-yield auto"
[ "$pauses" -ge 1 ] || fail "yields to busy loops were not noticed (no pause logged)"

read -r pauses total non2xx sockerr <<<"$(run off)"
echo "cpu-yield off beside two busy loops: $pauses pauses logged, $total requests, $non2xx non-2xx, $sockerr socket errors"
[ "$total" -gt 0 ] || fail "no request answered (cpu-yield off)"
[ "$non2xx" = 0 ] && [ "$sockerr" = 0 ] || fail "failed requests with cpu-yield off"
[ "$pauses" = 0 ] || fail "cpu-yield off still yielded ($pauses pauses logged)"
# Pausing is what keeps auto from handing the busy loops a slice per round
# (without it: a twentieth of off's requests in review).
[ $((auto_total * 2)) -ge "$total" ] ||
    fail "cpu-yield auto served $auto_total requests, under half of off's $total: yields are not paused"
echo "PASS"
