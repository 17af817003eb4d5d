#!/usr/bin/env bash
# stats_readyz.sh: /readyz on the stats port (what keepalived or a load
# balancer in front should track): 200 "ready" while every pool has a
# usable server; 503 naming the pool once its only server is marked down;
# 200 again once it is back.  /healthz stays 200 throughout.
set -u
. "${TOPSRC:-$(cd "$(dirname "$0")/../.." && pwd)}/tests/support/lib.sh"

P=$(free_port); B=$(free_port); ST=$(free_port)
start_backend "$B" app1
cat >"$TMPDIR/proxy.conf" <<CONF
workers 1
access-log off
listen 127.0.0.1:$P
stats 127.0.0.1:$ST
pool web {
    check tcp
    interval 200ms
    fall 1
    rise 1
    server app1 127.0.0.1:$B
}
CONF
start_proxy "$TMPDIR/proxy.conf" "$P" "$ST"
code() { curl -s -o "$TMPDIR/body" -w '%{http_code}' "http://127.0.0.1:$ST$1"; }
[ "$(code /readyz)" = 200 ] && [ "$(cat "$TMPDIR/body")" = ready ] || fail "/readyz with a server up: $(cat "$TMPDIR/body")"
stop_pid "$BACKEND_PID"
wait_for 5 sh -c "[ \"\$(curl -s -o /dev/null -w '%{http_code}' http://127.0.0.1:$ST/readyz)\" = 503 ]" ||
    fail "/readyz did not turn 503 with the only server down"
code /readyz >/dev/null
grep -q 'not ready: pool web has no usable server' "$TMPDIR/body" || fail "the 503 does not name the pool: $(cat "$TMPDIR/body")"
[ "$(code /healthz)" = 200 ] || fail "/healthz is not 200 while a pool is down"
echo "server down: /readyz 503 ($(cat "$TMPDIR/body")), /healthz 200"
start_backend "$B" app1
wait_for 5 sh -c "[ \"\$(curl -s -o /dev/null -w '%{http_code}' http://127.0.0.1:$ST/readyz)\" = 200 ]" ||
    fail "/readyz did not come back"
echo "PASS: /readyz follows the pools' usable servers"
