#!/usr/bin/env bash
# stats_timeout_counts: a server that never answers gets a 504 after
# `timeout server`, over HTTP/1.1 and over HTTP/2 alike: each counted once
# in the server's responses.5xx and once in its failures, and once in the
# pool's responses.proxy.5xx (an HTTP/2 stream's 504 counted twice in the
# server's 5xx before).
set -u
. "${TOPSRC:-$(cd "$(dirname "$0")/../.." && pwd)}/tests/support/lib.sh"

P=$(free_port); S=$(free_port); B=$(free_port)
start_misbehave "$B" hold
cat >"$TMPDIR/proxy.conf" <<CONF
workers 1
access-log off
listen 127.0.0.1:$P
stats 127.0.0.1:$S
timeout server 1s
pool web {
    check off
    retries 0
    server hold 127.0.0.1:$B
}
CONF
start_proxy "$TMPDIR/proxy.conf" "$P" "$S"

h1=$(curl -s -o /dev/null -w '%{http_code}' --max-time 5 "http://127.0.0.1:$P/one")
h2=$(curl -s -o /dev/null -w '%{http_code}' --max-time 5 --http2-prior-knowledge "http://127.0.0.1:$P/two")
[ "$h1 $h2" = "504 504" ] || fail "a server that never answers: HTTP/1.1 $h1, HTTP/2 $h2 (expected 504 504)"
got=$(stats_get "$S" 'j["pools"][0]["servers"][0]["requests"], j["pools"][0]["servers"][0]["responses"]["5xx"], j["pools"][0]["servers"][0]["failures"], j["pools"][0]["responses"]["proxy"]["5xx"]')
echo "server requests, responses.5xx, failures; pool responses.proxy.5xx: $got"
[ "$got" = "2 2 2 2" ] || fail "two 504s counted as '$got' (requests, server 5xx, failures, pool proxy 5xx), expected '2 2 2 2'"
curl -s "http://127.0.0.1:$S/metrics" | grep -qx 'proxy_server_responses_total{pool="web",server="hold",code="5xx"} 2' ||
    fail "/metrics does not count the two 504s once each"
echo "stats_timeout_counts: each 504 counted once"
