#!/usr/bin/env bash
# failover_passive_down.sh: with active checks off, failures seen on live
# traffic put a server down (CONTRACT 5: they count too), `fall` of them
# in a row: a server that refuses connections, and one that accepts and
# never answers (timeout server).  Traffic goes on to the healthy server,
# and the down one gets no more requests.  (Every other failover test runs
# active checks or sets `fall 100`: nothing showed the wiring itself.)
set -u
. "${TOPSRC:-$(cd "$(dirname "$0")/../.." && pwd)}/tests/support/lib.sh"

P=$(free_port); S=$(free_port); B=$(free_port); REFUSE=$(free_port); MUTE=$(free_port)
start_backend "$B" good
start_misbehave "$MUTE" hold # reads the request, never answers
cat >"$TMPDIR/proxy.conf" <<CONF
workers 1
access-log off
timeout server 300ms
listen 127.0.0.1:$P
stats 127.0.0.1:$S
pool web {
    check off
    fall 2
    balance round-robin
    retries 2
    server good 127.0.0.1:$B
    server refuse 127.0.0.1:$REFUSE
    server mute 127.0.0.1:$MUTE
}
CONF
start_proxy "$TMPDIR/proxy.conf" "$P" "$S"

for i in $(seq 10); do
    code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 5 "http://127.0.0.1:$P/?n=$i")
    [ "$code" = 200 ] || [ "$code" = 504 ] || fail "request $i: $code"
done
for s in refuse mute; do
    wait_for 3 stats_is "$S" 'srv("'$s'")["state"]' down ||
        fail "$s is $(stats_get "$S" 'srv("'$s'")["state"]') after failing on traffic with checks off (fall 2)"
done
echo "ok: refuse and mute marked down by traffic alone"
before=$(stats_get "$S" 'srv("refuse")["requests"] + srv("mute")["requests"]')
for i in $(seq 10); do
    code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 5 "http://127.0.0.1:$P/?after=$i")
    [ "$code" = 200 ] || fail "request $i after both were down: $code"
done
after=$(stats_get "$S" 'srv("refuse")["requests"] + srv("mute")["requests"]')
[ "$before" = "$after" ] || fail "the down servers were sent $((after - before)) more requests"
echo "ok: the next 10 requests all went to good"
