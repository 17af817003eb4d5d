#!/usr/bin/env bash
# h2_unread_client.sh: an HTTP/2 client that reads nothing of its
# connection at all (a large response asked for, its windows wide open,
# its socket never read) holds neither its server's slot nor the
# connection past `timeout client`.
#
# The pool's one server takes one request at a time (max-conns 1).  The
# stalled stream fills the proxy's output; after timeout client (2 s) the
# proxy resets the stream and, since not even the reset can be written,
# closes the connection: its server connection and slot go at once, so a
# request queued behind it (timeout queue 15s) is served within a few
# seconds.  Before, the reset waited behind the unwritten frames forever:
# the slot stayed held and the queued request got a 503 after 15 s.
# Part 2: the same with the streams done, the connection idle.
set -u
. "${TOPSRC:-$(cd "$(dirname "$0")/../.." && pwd)}/tests/support/lib.sh"
need_python_h2

P=$(free_port); S=$(free_port); B=$(free_port)
start_backend "$B" app
proxy_conf_basic "$TMPDIR/proxy.conf" "$P" "app 127.0.0.1:$B max-conns 1" "workers 1" \
    "stats 127.0.0.1:$S" "log-level info" "timeout client 2s" "timeout queue 15s" "timeout server 30s"
start_proxy "$TMPDIR/proxy.conf" "$P" "$S"

"$PY" "$TOPSRC/tests/scenario/h2_abuse.py" "$P" unread-hold 12 >"$TMPDIR/hold.out" 2>&1 &
HOLD=$!
track "$HOLD"
slot_held() { [ "$(stats_get "$S" 'j["pools"][0]["servers"][0]["active"]')" = 1 ]; }
wait_for 5 slot_held ||
    fail "the stalled stream does not hold the server's slot: $(stats_dump "$S" | head -c 600)"

t0=$(date +%s.%N)
code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 20 "http://127.0.0.1:$P/") || true
secs=$(echo "$(date +%s.%N) - $t0" | bc)
echo "queued request: $code after ${secs}s"
[ "$code" = 200 ] || fail "the request queued behind the stalled stream got $code after ${secs}s, expected 200"
awk -v s="$secs" 'BEGIN { exit !(s < 8) }' ||
    fail "the request queued behind the stalled stream took ${secs}s (timeout client is 2s)"
grep -q "took nothing of the connection for timeout client: closing it" "$TMPDIR/proxy.log" ||
    fail "the proxy did not say it closed the stalled connection: $(tail -n 5 "$TMPDIR/proxy.log")"
http2=$(stats_get "$S" 'j["connections"]["http2"]')
[ "$http2" = 0 ] || fail "connections.http2 is $http2 with the stalled client cut, expected 0"
kill -0 "$HOLD" 2>/dev/null || fail "the stalled client ended early: $(cat "$TMPDIR/hold.out")"
stop_pid "$HOLD"
kill -0 "$PROXY_PID" || fail "the proxy died"
echo "ok: the stalled HTTP/2 connection let go of its server after timeout client and was closed"

# Part 2: the same client with its streams done - their responses whole in
# the proxy's output, which the client never reads - is an idle connection
# that still has output.  Its keep-alive GOAWAY cannot go out either: it
# is closed timeout client later (about 13 s here).  Before, it stayed
# open for good, holding its max-conns slot.  timeout client 12s: its
# streams, asked for one at a time until the proxy's socket is full (about
# 9 s), never stall for that long.
stop_pid "$PROXY_PID"
P=$(free_port)
proxy_conf_basic "$TMPDIR/proxy.conf" "$P" "app 127.0.0.1:$B" "workers 1" "stats 127.0.0.1:$S" \
    "timeout client 12s" "timeout keep-alive 1s"
: >"$TMPDIR/proxy.log"
start_proxy "$TMPDIR/proxy.conf" "$P" "$S"
idle=$("$PY" "$TOPSRC/tests/scenario/h2_abuse.py" "$P" unread-idle 20 2>&1)
echo "$idle"
case $idle in *"closed by the proxy"*) ;; *) fail "an idle HTTP/2 connection whose output never drains stayed open: $idle" ;; esac
wait_for 3 stats_is "$S" 'j["connections"]["active"]' 0 ||
    fail "connections.active is $(stats_get "$S" 'j["connections"]["active"]') after the idle stalled client was closed"
echo "ok: an idle HTTP/2 connection whose output never drains is closed"
