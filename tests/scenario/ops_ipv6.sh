#!/usr/bin/env bash
# ops_ipv6.sh: `listen [::1]:PORT` accepts IPv6 clients, and their address
# is what X-Forwarded-For gets.  Skipped (PASS with a note) when the machine
# has no IPv6 loopback.
set -u
. "${TOPSRC:-$(cd "$(dirname "$0")/../.." && pwd)}/tests/support/lib.sh"

if ! python3 -c 'import socket; s=socket.socket(socket.AF_INET6); s.bind(("::1", 0))' 2>/dev/null; then
    echo "SKIP: no IPv6 loopback here"; exit 0
fi
P=$(free_port); B1=$(free_port)
cat >"$TMPDIR/proxy.conf" <<CONF
workers 1
access-log stderr
listen [::1]:$P
pool web {
    check off
    server app1 127.0.0.1:$B1
}
CONF
start_backend "$B1" app1
"$PROXY" -c "$TMPDIR/proxy.conf" >>"$TMPDIR/proxy.log" 2>&1 &
PROXY_PID=$!
track "$PROXY_PID"
wait_for 5 curl -s -g -o /dev/null "http://[::1]:$P/" || fail "the proxy does not answer on [::1]:$P"
xff=$(curl -s -g "http://[::1]:$P/echo" | tr -d '\r' | grep '^X-Forwarded-For:')
[ "$xff" = "X-Forwarded-For: ::1" ] || fail "IPv6 client: got '$xff', want 'X-Forwarded-For: ::1'"
grep -q 'listening on \[::1\]:' "$TMPDIR/proxy.log" || fail "the listen address is not logged in IPv6 form"
echo "PASS: IPv6 listen, client address ::1 forwarded"
