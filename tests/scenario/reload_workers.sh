#!/usr/bin/env bash
# scenario: alone
# reload_workers.sh: a change of `workers` by SIGHUP is kept for the next
# start (the documented choice), with a warning in the log saying so; the
# rest of the file is applied (server c added) and the proxy keeps serving
# with the workers it has (/api/stats "workers" unchanged).
#   workers 2 -> 1 + add c: warning, c serves, workers still 2.
#   workers 1 -> 4:         warning again, serving.
#   workers 4 -> 2:         back to what runs: no warning.
# Ports 25160-25169.
set -u
. "${TOPSRC:-$(cd "$(dirname "$0")/../.." && pwd)}/tests/scenario/reload_lib.bash"

P=25160 STATS=25161 A=25162 C=25163
ports_free $P $STATS $A $C
CONF=$TMPDIR/proxy.conf

write_conf() { # workers server-lines...
    local w=$1
    shift
    {
        echo "workers $w"
        echo "access-log off"
        echo "listen 127.0.0.1:$P"
        echo "stats 127.0.0.1:$STATS"
        echo "pool web {"
        echo "    balance round-robin"
        for s in "$@"; do echo "    server $s"; done
        echo "}"
    } >"$CONF"
}

start_backend $A a
start_backend $C c
write_conf 2 "a 127.0.0.1:$A"
start_proxy "$CONF" $P
wait_port $STATS 3 || fail "stats port $STATS not open"
[ "$(stat workers)" = 2 ] || fail "workers=$(stat workers) at start, want 2"

# wrk-free steady load: a probe with new connections all along
$UTIL probe $P 2.5 5 >"$TMPDIR/probe.out" 2>&1 &
PRPID=$!
track $PRPID
sleep 0.3

# 2 -> 1, and c added
write_conf 1 "a 127.0.0.1:$A" "c 127.0.0.1:$C"
log_mark
hup_wait
sleep 0.1
echo "--- log of workers 2 -> 1:"; log_since
warn=$(log_since | grep -i 'workers' | grep -iE 'warn' | grep -iE 'next start|restart')
[ -n "$warn" ] || fail "no warning that the workers change takes effect at the next start"
r=$(hits $P 20); echo "after workers 2 -> 1 (+c): $r; /api/stats workers=$(stat workers)"
[ "$(field fail "$r")" = 0 ] || fail "requests failed after the reload: $r"
[ "$(names "$r")" = "a,c" ] || fail "the rest of the file was not applied (c added): $r"
[ "$(stat workers)" = 2 ] || fail "/api/stats workers=$(stat workers), want the 2 that run"

# 1 -> 4
write_conf 4 "a 127.0.0.1:$A" "c 127.0.0.1:$C"
log_mark
hup_wait
sleep 0.1
echo "--- log of workers 1 -> 4:"; log_since
log_since | grep -i 'workers' | grep -iE 'next start|restart' | grep -q 4 ||
    fail "no warning naming the new value 4"
[ "$(stat workers)" = 2 ] || fail "/api/stats workers=$(stat workers), want the 2 that run"

# 4 -> 2: what runs; no warning expected
write_conf 2 "a 127.0.0.1:$A" "c 127.0.0.1:$C"
log_mark
hup_wait
sleep 0.1
echo "--- log of workers 4 -> 2:"; log_since
log_since | grep -i 'workers' | grep -iqE 'next start|restart' &&
    fail "a warning about workers although the file asks for the 2 that run"

wait $PRPID
probe=$(cat "$TMPDIR/probe.out")
echo "probe, a new connection every 5ms across the 3 reloads: $probe"
[ "$(field fail "$probe")" = 0 ] || fail "requests failed across the workers reloads: $probe"
echo "measured: warning='${warn#* warn }' workers-running=$(stat workers) generation=$(gen)"
echo "PASS: a workers change is kept for the next start, with a warning; serving throughout"
