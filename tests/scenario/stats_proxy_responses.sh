#!/usr/bin/env bash
# stats_proxy_responses.sh: responses the proxy made itself are counted.
# A pool whose only server refuses connections answers 502: 5 requests show
# as 5 in the pool's responses.proxy.5xx (/api/stats) and in
# proxy_responses_total{pool="dead",code="5xx",source="proxy"} (/metrics),
# while the server's own response counts stay 0; a healthy pool's 200s
# count as source="server"; the access log names the server tried last
# for a proxy-made 502 (not "-").
set -u
. "${TOPSRC:-$(cd "$(dirname "$0")/../.." && pwd)}/tests/support/lib.sh"

P=$(free_port); B=$(free_port); DEAD=$(free_port); ST=$(free_port)
start_backend "$B" app1
cat >"$TMPDIR/proxy.conf" <<CONF
workers 1
access-log $TMPDIR/access.log
listen 127.0.0.1:$P
stats 127.0.0.1:$ST
pool live {
    check off
    server app1 127.0.0.1:$B
}
pool dead {
    check off
    retries 0
    fall 100
    server gone1 127.0.0.1:$DEAD
}
route path /dead/ pool dead
route default pool live
CONF
start_proxy "$TMPDIR/proxy.conf" "$P" "$ST"
for i in 1 2 3 4 5; do
    c=$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$P/dead/$i")
    [ "$c" = 502 ] || fail "request $i to the dead pool got $c, want 502"
done
for i in 1 2; do curl -s -o /dev/null "http://127.0.0.1:$P/ok$i"; done
dead=$(stats_get "$ST" '[p for p in j["pools"] if p["name"] == "dead"][0]["responses"]["proxy"]["5xx"]')
live=$(stats_get "$ST" '[p for p in j["pools"] if p["name"] == "live"][0]["responses"]["server"]["2xx"]')
srv5=$(stats_get "$ST" 'srv("dead", "gone1")["responses"]["5xx"]')
echo "dead pool: responses.proxy.5xx=$dead (server's own 5xx: $srv5); live pool: responses.server.2xx=$live"
[ "$dead" = 5 ] || fail "the proxy's 502s counted $dead times in the pool, want 5"
[ "$live" = 2 ] || fail "the live pool's 200s counted $live times, want 2"
curl -s "http://127.0.0.1:$ST/metrics" >"$TMPDIR/metrics"
grep -qx 'proxy_responses_total{pool="dead",code="5xx",source="proxy"} 5' "$TMPDIR/metrics" ||
    fail "no proxy_responses_total for the proxy's 502s: $(grep proxy_responses_total "$TMPDIR/metrics" | head -4)"
grep -qx 'proxy_responses_total{pool="live",code="2xx",source="server"} 2' "$TMPDIR/metrics" || fail "no server-made 2xx in proxy_responses_total"
wait_for 3 grep -q '"GET /dead/5 HTTP/1.1" 502 ' "$TMPDIR/access.log" || fail "no access-log line for the 502"
grep '"GET /dead/5 HTTP/1.1" 502 ' "$TMPDIR/access.log" | grep -q ' dead gone1 ' ||
    fail "the access log does not name the server tried: $(grep '/dead/5' "$TMPDIR/access.log")"
echo "access log: $(grep '/dead/5' "$TMPDIR/access.log" | cut -c1-120)"
echo "PASS"
