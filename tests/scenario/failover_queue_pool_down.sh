#!/usr/bin/env bash
# failover_queue_pool_down.sh: requests waiting in a pool's queue get their
# 503 as soon as the pool goes down, as a new request does, not when the
# request in flight ends or `timeout queue` runs out.
#
# app has max-conns 1 and is busy with a 4 s request; two more requests
# queue (timeout queue 10s).  Then app's check fails (fall 1): the pool is
# down.  Before, the queue was woken only for room on usable servers -
# none - so the two waited 3.5 s more for the slow request to end.
set -u
. "${TOPSRC:-$(cd "$(dirname "$0")/../.." && pwd)}/tests/support/lib.sh"

P=$(free_port); B=$(free_port)
start_backend "$B" app -f "$TMPDIR/app.fail"
cat >"$TMPDIR/proxy.conf" <<CONF
workers 2
access-log off
listen 127.0.0.1:$P
timeout queue 10s
timeout server 10s
pool web {
    check http /healthz
    interval 100ms
    fall 1
    server app 127.0.0.1:$B max-conns 1
}
CONF
start_proxy "$TMPDIR/proxy.conf" "$P"

curl -s -o /dev/null -m 10 "http://127.0.0.1:$P/?delay=4000" &
SLOW=$!
track "$SLOW"
sleep 0.3
for i in 1 2; do
    curl -s -o /dev/null -m 10 -w "%{http_code} %{time_total}\n" "http://127.0.0.1:$P/q$i" >"$TMPDIR/q$i.out" &
    track $!
done
sleep 0.3
t0=$(date +%s.%N)
touch "$TMPDIR/app.fail"
wait_for 3 grep -q "event pool-down pool=web" "$TMPDIR/proxy.log" || fail "the pool did not go down"
for i in 1 2; do
    wait_for 5 test -s "$TMPDIR/q$i.out" || fail "queued request $i has no answer"
done
took=$(python3 -c 'import sys, time; print("%.2f" % (time.time() - float(sys.argv[1])))' "$t0")
echo "queued requests: $(cat "$TMPDIR/q1.out") / $(cat "$TMPDIR/q2.out"); answered ${took}s after the check began to fail"
for i in 1 2; do
    [ "$(cut -d' ' -f1 "$TMPDIR/q$i.out")" = 503 ] || fail "queued request $i: $(cat "$TMPDIR/q$i.out"), want 503"
done
python3 -c 'import sys; sys.exit(0 if float(sys.argv[1]) < 1.5 else 1)' "$took" ||
    fail "the queued requests got their 503 ${took}s after the pool went down (they waited for the request in flight)"
echo "ok: the queue is answered 503 when its pool goes down"
