#!/usr/bin/env bash
# scenario: alone
# h2_multiplex: streams of one HTTP/2 connection run at once, each its own
# request to the servers.
#   - nghttp sends 50 requests that each take 1 s on ONE connection: they
#     all finish within 3 s (in turn they would take 50);
#   - beside them, a stream routed to a pool with no live server gets its
#     503 at once, and the healthy streams still get their 200s;
#   - h2load -n 2000 -c 4 -m 10: every request succeeds; the proxy is alive
#     and streams.active is back to 0 after.
set -u
. "${TOPSRC:-$(cd "$(dirname "$0")/../.." && pwd)}/tests/support/lib.sh"
command -v nghttp >/dev/null || fail "nghttp is not installed (Debian package nghttp2-client)"
command -v h2load >/dev/null || fail "h2load is not installed (Debian package nghttp2-client)"

P=$(free_port); S=$(free_port); B=$(free_port); DEAD=$(free_port)
start_backend "$B" app
cat >"$TMPDIR/proxy.conf" <<CONF
workers 2
access-log stderr
listen 127.0.0.1:$P
stats 127.0.0.1:$S
route path /down pool dead
route default pool web
pool web {
    check off
    server app 127.0.0.1:$B
}
pool dead {
    check tcp
    interval 100ms
    fall 1
    server gone 127.0.0.1:$DEAD
}
CONF
start_proxy "$TMPDIR/proxy.conf" "$P" "$S"
wait_for 3 grep -q 'server-down pool=dead' "$TMPDIR/proxy.log" || fail "the dead pool's server was not marked down"

urls=()
for i in $(seq 50); do urls+=("http://127.0.0.1:$P/?delay=1000&n=$i"); done
urls+=("http://127.0.0.1:$P/down/x")
start=$(date +%s.%N)
out=$(nghttp -n -s "${urls[@]}" 2>&1) || fail "nghttp failed: $out"
took=$(awk "BEGIN { printf \"%.2f\", $(date +%s.%N) - $start }")
echo "$out"
ok=$(echo "$out" | grep -c ' 200 .*/?delay=1000&n=')
[ "$ok" = 50 ] || fail "$ok of 50 slow streams got a 200"
echo "$out" | grep -q ' 503 .*/down/x' || fail "the stream to the dead pool did not get its 503"
awk "BEGIN { exit !($took < 3.0) }" || fail "50 one-second streams on one connection took ${took}s (not multiplexed)"
conns=$(grep -c 'GET /?delay=1000&n=[0-9]* HTTP/2.0" 200' "$TMPDIR/proxy.log")
[ "$conns" = 50 ] || fail "the access log has $conns of the 50 slow HTTP/2 requests"

load=$(h2load -n 2000 -c 4 -m 10 "http://127.0.0.1:$P/" 2>&1)
echo "$load" | grep -E '^requests:|^status codes:'
echo "$load" | grep -q '^requests: 2000 total, 2000 started, 2000 done, 2000 succeeded, 0 failed, 0 errored, 0 timeout' ||
    fail "h2load: not every request succeeded: $load"
echo "$load" | grep -q '^status codes: 2000 2xx' || fail "h2load: not 2000 2xx: $load"
kill -0 "$PROXY_PID" || fail "the proxy died"
no_streams() { [ "$(stats_get "$S" 'j["streams"]["active"]')" = 0 ]; }
wait_for 3 no_streams || fail "streams.active did not come back to 0"
echo "h2_multiplex: 50 slow streams in ${took}s on one connection, 503 beside them, h2load 2000/2000"
