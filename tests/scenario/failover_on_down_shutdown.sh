#!/usr/bin/env bash
# failover_on_down_shutdown.sh: `on-down shutdown` ends the wait on a server
# marked down.  Two servers, round-robin: app1 accepts and never answers
# (a blackhole: misbehave.py --mode hold, its checks time out), app2 is
# healthy.  12 GETs and 4 POSTs are sent at once with timeout server 20s.
# When the checks mark app1 down (about 1 s), the GETs waiting on it are
# retried on app2 (200) and the POSTs that reached it get 502 at once: all
# is over within 5 s, where without on-down shutdown they wait 20 s.
set -u
. "${TOPSRC:-$(cd "$(dirname "$0")/../.." && pwd)}/tests/support/lib.sh"

P=$(free_port); B1=$(free_port); B2=$(free_port); ST=$(free_port)
start_misbehave "$B1" hold --log "$TMPDIR/hold.log"
start_backend "$B2" app2
cat >"$TMPDIR/proxy.conf" <<CONF
workers 2
access-log off
listen 127.0.0.1:$P
stats 127.0.0.1:$ST
timeout server 20s
pool web {
    balance round-robin
    check http /healthz
    interval 300ms
    check-timeout 200ms
    fall 2
    on-down shutdown
    server app1 127.0.0.1:$B1
    server app2 127.0.0.1:$B2
}
CONF
start_proxy "$TMPDIR/proxy.conf" "$P"
sleep 0.2

t0=$(date +%s.%N)
pids=()
for i in $(seq 12); do
    curl -s -o /dev/null -w '%{http_code}\n' -m 25 "http://127.0.0.1:$P/get$i" >"$TMPDIR/get$i" &
    pids+=($!)
done
for i in $(seq 4); do
    curl -s -o /dev/null -w '%{http_code}\n' -m 25 -d "order=$i" "http://127.0.0.1:$P/post$i" >"$TMPDIR/post$i" &
    pids+=($!)
done
for pid in "${pids[@]}"; do track "$pid"; done
wait "${pids[@]}"
secs=$(python3 -c "import time; print(f'{time.time() - $t0:.1f}')")
gets=$(cat "$TMPDIR"/get* | sort | uniq -c | tr '\n' ' ')
posts=$(cat "$TMPDIR"/post* | sort | uniq -c | tr '\n' ' ')
held=$(grep -c '^GET /get\|^POST /post' "$TMPDIR/hold.log")
heldpost=$(grep -c '^POST /post' "$TMPDIR/hold.log")
echo "all done in ${secs}s; GETs: $gets; POSTs: $posts; requests that reached app1: $held ($heldpost POSTs)"
python3 -c "import sys; sys.exit(0 if $secs < 5 else 1)" || fail "requests waited ${secs}s for a server marked down"
[ "$(grep -c 200 "$TMPDIR"/get* | awk -F: '{s+=$2} END {print s}')" = 12 ] || fail "not every GET got 200: $gets"
[ "$heldpost" -gt 0 ] || fail "no POST reached app1: the test did not test the 502 path"
n502=$(cat "$TMPDIR"/post* | grep -c 502)
[ "$n502" = "$heldpost" ] || fail "$heldpost POSTs reached app1 but $n502 got 502: $posts"
[ "$(grep -c '^POST' "$TMPDIR/hold.log")" = "$heldpost" ] || fail "a POST was sent twice"
echo "PASS: requests on the server marked down were retried (GETs) or answered 502 (POSTs) at once"
