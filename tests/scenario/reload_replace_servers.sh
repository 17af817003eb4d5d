#!/usr/bin/env bash
# scenario: alone
# reload_replace_servers.sh: reloads that replace every server of a pool
# (its one server's address changes each time, to a second backend and
# back) under keep-alive load fail no request.
#
# A reload marks the servers it dropped as removed as soon as it is
# published; a worker takes the new generation within a loop round.  A
# request that arrived in between found none of its generation's servers
# usable: a 503 (39 of 750k requests over 20 such reloads).  Now it waits
# in the pool's queue for the switch, which wakes it, and goes to the new
# server.
set -u
. "${TOPSRC:-$(cd "$(dirname "$0")/../.." && pwd)}/tests/support/lib.sh"
command -v wrk >/dev/null || fail "wrk is not installed"

P=$(free_port); B1=$(free_port); B2=$(free_port)
start_backend "$B1" one
start_backend "$B2" two
write_conf() { proxy_conf_basic "$TMPDIR/proxy.conf" "$P" "app 127.0.0.1:$1"; }
write_conf "$B1"
start_proxy "$TMPDIR/proxy.conf" "$P"

wrk -t2 -c50 -d6s --timeout 3s "http://127.0.0.1:$P/" >"$TMPDIR/wrk.out" 2>&1 &
WRK=$!
track "$WRK"
sleep 0.5
for i in $(seq 20); do
    if [ $((i % 2)) = 1 ]; then write_conf "$B2"; else write_conf "$B1"; fi
    kill -HUP "$PROXY_PID"
    sleep 0.2
done
wait "$WRK"
cat "$TMPDIR/wrk.out"
grep -q "requests in" "$TMPDIR/wrk.out" || fail "wrk gave no result"
grep -E "Non-2xx|Socket errors" "$TMPDIR/wrk.out" && fail "requests failed across reloads that replace the pool's server"
kill -0 "$PROXY_PID" || fail "the proxy died"
echo "ok: 20 reloads replacing the pool's server, no failed request"
