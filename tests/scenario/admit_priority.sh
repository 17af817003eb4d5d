#!/usr/bin/env bash
# scenario: alone
# admit_priority.sh: `route ... priority` under a full pool.  The only
# server takes one request at a time (max-conns 1) and answers slowly; six
# browsing requests queue, then one checkout (priority high) and one feed
# request (priority low): when the slot frees, the checkout goes first,
# then the browsing ones in their order (FIFO within a class), the low one
# last.  2 workers: the queue is the pool's, shared by both.
set -u
. "${TOPSRC:-$(cd "$(dirname "$0")/../.." && pwd)}/tests/support/lib.sh"
CLIENTS="python3 $TOPSRC/tests/scenario/admit_clients.py"

P=$(free_port); B=$(free_port); ST=$(free_port)
start_backend "$B" app1
cat >"$TMPDIR/proxy.conf" <<CONF
workers 2
access-log off
listen 127.0.0.1:$P
stats 127.0.0.1:$ST
timeout queue 60s
pool web {
    check off
    server app1 127.0.0.1:$B max-conns 1
}
route path /checkout/ pool web priority high
route path /feed/ pool web priority low
route default pool web
CONF
start_proxy "$TMPDIR/proxy.conf" "$P" "$ST"
# curl and grep, not python: polled often on a loaded machine.
queued() { curl -s "http://127.0.0.1:$ST/api/stats" | grep -o '"queued":[0-9]*' | head -1 | cut -d: -f2; }
queued_is() { [ "$(queued)" = "$1" ]; }

: >"$TMPDIR/order"
$CLIENTS timed "$P" 127.0.0.2 "/hold?delay=12000" hold >>"$TMPDIR/order" &
track $!
wait_for 5 stats_is "$ST" "srv('app1')['active']" 1 || fail "the first request did not take the slot"
n=0
for i in 1 2 3 4 5 6; do
    $CLIENTS timed "$P" "127.0.0.$((10 + i))" "/browse/$i?delay=50" "browse$i" >>"$TMPDIR/order" &
    track $!
    n=$((n + 1))
    wait_for 10 queued_is "$n" || fail "browse$i did not queue ($(queued) queued)"
done
$CLIENTS timed "$P" 127.0.0.30 "/feed/x?delay=50" feed >>"$TMPDIR/order" &
track $!
wait_for 10 queued_is 7 || fail "feed did not queue"
$CLIENTS timed "$P" 127.0.0.31 "/checkout/pay?delay=50" checkout >>"$TMPDIR/order" &
track $!
wait_for 10 queued_is 8 || fail "checkout did not queue"
wait_for 40 sh -c "[ \$(wc -l <'$TMPDIR/order') -ge 9 ]" || fail "not every request ended: $(cat "$TMPDIR/order")"
grep -vq ' 200 ' "$TMPDIR/order" && fail "a request failed: $(cat "$TMPDIR/order")"
order=$(sort -k3 -n "$TMPDIR/order" | awk '{print $1}' | tr '\n' ' ')
[ "$order" = "hold checkout browse1 browse2 browse3 browse4 browse5 browse6 feed " ] ||
    fail "served in the order: $order"
echo "served: $order"
pri=$(stats_get "$ST" "[(r['match'], r['priority'], r['requests']) for r in j['routes']]")
echo "routes: $pri"
[ "$pri" = "[('path /checkout/', 'high', 1), ('path /feed/', 'low', 1), ('default', 'normal', 7)]" ] ||
    fail "routes in the stats: $pri"
echo "PASS: a full pool serves high, then normal in arrival order, then low"
