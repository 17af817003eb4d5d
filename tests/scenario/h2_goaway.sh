#!/usr/bin/env bash
# h2_goaway: how the proxy ends HTTP/2 connections (python3-h2, nghttp).
#   - rapid reset: a client that opens and cancels more than
#     `http2 max-resets` streams in 10 s gets GOAWAY ENHANCE_YOUR_CALM,
#     counted in streams.goaway.resets and /metrics; one under the limit
#     does not; the proxy keeps serving;
#   - a CONTINUATION flood gets GOAWAY ENHANCE_YOUR_CALM, counted in
#     streams.goaway.continuation; so does a PING flood whose answers
#     are never read (more than 100 in 10 s: streams.goaway.ping); a
#     header block that never ends has its stream reset (CANCEL) after
#     `timeout client`;
#   - `timeout keep-alive`: an idle connection gets GOAWAY NO_ERROR;
#   - a reload sends GOAWAY at once to a connection with a stream in
#     flight, and that stream still finishes; the GOAWAY is a notice (last
#     stream 2^31-1) with a PING, and a stream the client sent before it
#     read them is served; the final GOAWAY follows the PING's ACK; past
#     it the abuse limits still hold (150 PINGs: cut, counted);
#   - a graceful stop: the same, then the proxy exits.
set -u
. "${TOPSRC:-$(cd "$(dirname "$0")/../.." && pwd)}/tests/support/lib.sh"
command -v nghttp >/dev/null || fail "nghttp is not installed (Debian package nghttp2-client)"
need_python_h2
CLIENT=("$PY" "$TOPSRC/tests/scenario/h2_client.py")

P=$(free_port); S=$(free_port); B=$(free_port)
start_backend "$B" app
cat >"$TMPDIR/proxy.conf" <<CONF
workers 1
access-log stderr
listen 127.0.0.1:$P
stats 127.0.0.1:$S
http2 max-resets 50
timeout keep-alive 1s
timeout client 2s
pool web {
    check off
    server app 127.0.0.1:$B
}
CONF
start_proxy "$TMPDIR/proxy.conf" "$P" "$S"

out=$("${CLIENT[@]}" rapid-reset "$P" 40)
echo "under the limit: $out"
echo "$out" | grep -q 'ENHANCE_YOUR_CALM' && fail "40 resets (limit 50) were cut: $out"
out=$("${CLIENT[@]}" rapid-reset "$P" 200)
echo "over the limit: $out"
echo "$out" | grep -q '^goaway error=ENHANCE_YOUR_CALM' || fail "200 resets (limit 50): no GOAWAY ENHANCE_YOUR_CALM: $out"
n=$(stats_get "$S" 'j["streams"]["goaway"]["resets"]')
[ "$n" = 1 ] || fail "streams.goaway.resets is $n, expected 1"
curl -s "http://127.0.0.1:$S/metrics" | grep -q "^proxy_http2_goaway_total{listener=\"127.0.0.1:$P\",reason=\"resets\"} 1$" ||
    fail "/metrics does not count the GOAWAY"
v=$(curl -s --max-time 5 --http2-prior-knowledge -o /dev/null -w '%{http_code}' "http://127.0.0.1:$P/")
[ "$v" = 200 ] || fail "the proxy does not serve after a rapid reset ($v)"

# A header block cut into more CONTINUATION frames than limit header-size
# needs (CVE-2024-27316): GOAWAY ENHANCE_YOUR_CALM, counted.
out=$("${CLIENT[@]}" continuation "$P" 100)
echo "continuation flood: $out"
echo "$out" | grep -q '^goaway error=ENHANCE_YOUR_CALM' || fail "CONTINUATION flood: no GOAWAY ENHANCE_YOUR_CALM: $out"
n=$(stats_get "$S" 'j["streams"]["goaway"]["continuation"]')
[ "$n" = 1 ] || fail "streams.goaway.continuation is $n, expected 1"
# PINGs whose answers the client never reads: cut at the 101st in 10 s,
# before nghttp2's flood guard (1000 answers unread), and counted as ping.
# (The GOAWAY itself may not reach a client that reads nothing: it waits
# behind the answers in a full socket, so the count is what is checked.)
out=$("${CLIENT[@]}" ping-flood "$P" 400000)
echo "ping flood: $out"
echo "$out" | grep -q '^closed$' || fail "PING flood: the connection stayed open: $out"
echo "$out" | grep -q '^goaway error=' && ! echo "$out" | grep -q '^goaway error=ENHANCE_YOUR_CALM' &&
    fail "PING flood: the wrong GOAWAY: $out"
n=$(stats_get "$S" 'j["streams"]["goaway"]["ping"], j["streams"]["goaway"]["flood"]')
[ "$n" = "1 0" ] || fail "streams.goaway ping, flood are $n, expected 1 0"
# A header block that never ends (slowloris): its stream is reset after
# timeout client.
out=$("${CLIENT[@]}" slow-headers "$P" 3.5)
echo "slow headers: $out"
echo "$out" | grep -Eq '^rst stream=1 error=CANCEL after=(1\.9|2\.[0-9])' || fail "a header block that never ends: $out"

out=$("${CLIENT[@]}" idle "$P" 4)
echo "idle: $out"
echo "$out" | grep -Eq '^goaway error=NO_ERROR after=(0\.9|1\.[0-9])' || fail "timeout keep-alive 1s: $out"

# A reload, then a graceful stop, while a stream is in flight: its GOAWAY
# comes at once, before the stream (1.5 s) ends, and the stream finishes.
stream_across() {   # SIGNAL WHAT: sends SIGNAL to the proxy 0.4 s into a stream; output in $TMPDIR/SIGNAL.out
    local out=$TMPDIR/$1.out ng goaway_at
    nghttp -v "http://127.0.0.1:$P/?delay=1500&size=100000" >"$out" 2>&1 &
    ng=$!
    track "$ng"
    sleep 0.4
    kill -"$1" "$PROXY_PID"
    wait "$ng" || fail "nghttp failed across $2: $(cat "$out")"
    goaway_at=$(sed -n 's/^\[ *\([0-9.]*\)\] recv GOAWAY.*/\1/p' "$out" | head -1)
    [ -n "$goaway_at" ] || fail "no GOAWAY on $2: $(cat "$out")"
    awk "BEGIN { exit !($goaway_at < 1.2) }" || fail "$2's GOAWAY came at ${goaway_at}s, after the stream"
    grep -q ':status: 200' "$out" || fail "the stream in flight did not finish across $2"
}
stream_across HUP "the reload"
grep -q 'error_code=NO_ERROR' "$TMPDIR/HUP.out" || fail "the reload's GOAWAY is not NO_ERROR"
# Two GOAWAYs (RFC 9113 6.8): the first names no last stream, the final one
# the stream that was in flight.
goaways_of() {   # SIGNAL: the GOAWAYs nghttp got across it, "LAST CODE " each
    grep -A1 'recv GOAWAY' "$TMPDIR/$1.out" | sed -n 's/.*(last_stream_id=\([0-9]*\), error_code=\([A-Z_]*\).*/\1 \2/p' | tr '\n' ' '
}
goaways=$(goaways_of HUP)
[ "$goaways" = "2147483647 NO_ERROR 13 NO_ERROR " ] ||
    fail "the reload's GOAWAYs (last stream, code) are '$goaways', expected the notice (2^31-1), then stream 13"

# A stream the client sent before it read the reload's GOAWAY is served,
# not refused: the notice comes with a PING, and the final GOAWAY waits for
# its ACK (1 s at most).
reload_race() {   # [noack]: the client's output in $TMPDIR/race$1.out, set in $RACE
    RACE=$TMPDIR/race${1:-}.out
    "${CLIENT[@]}" reload-race "$P" ${1:-} >"$RACE" 2>&1 &
    local race=$!
    track "$race"
    wait_for 5 grep -q '^ready$' "$RACE" || fail "reload-race ${1:-}: no first response: $(cat "$RACE")"
    kill -HUP "$PROXY_PID"
    wait "$race"
    echo "reload race ${1:-}: $(tr '\n' ' ' <"$RACE")"
    grep -q '^goaway error=NO_ERROR last=2147483647$' "$RACE" || fail "reload-race ${1:-}: no notice GOAWAY"
    grep -q '^ping$' "$RACE" || fail "reload-race ${1:-}: the notice came without a PING"
    grep -q '^goaway error=NO_ERROR last=3$' "$RACE" || fail "reload-race ${1:-}: the final GOAWAY does not name stream 3"
    grep -q '^stream 3 served$' "$RACE" || fail "reload-race ${1:-}: the stream in flight was not served"
    grep -q '^closed$' "$RACE" || fail "reload-race ${1:-}: the connection was not closed after its last stream"
}
reload_race
grep -Eq '^final goaway after=0\.[0-4]$' "$RACE" || fail "reload-race: the final GOAWAY did not follow the PING's ACK"
reload_race noack
grep -Eq '^final goaway after=(0\.9|1\.[0-4])$' "$RACE" ||
    fail "reload-race noack: the final GOAWAY did not come 1 s after the notice"
# The abuse limits hold on a connection past its reload's GOAWAY (before,
# the GOAWAY turned them off: a stream in flight kept a connection open for
# PINGs and SETTINGS without limit).
pings=$(stats_get "$S" 'j["streams"]["goaway"]["ping"]')
"$PY" "$TOPSRC/tests/scenario/h2_abuse.py" "$P" ping-after-goaway >"$TMPDIR/pag.out" 2>&1 &
pag=$!
track "$pag"
wait_for 5 grep -q '^ready$' "$TMPDIR/pag.out" || fail "ping-after-goaway: not ready: $(cat "$TMPDIR/pag.out")"
kill -HUP "$PROXY_PID"
wait "$pag" || fail "$(tr '\n' ' ' <"$TMPDIR/pag.out")"
grep ping-after-goaway: "$TMPDIR/pag.out"
[ "$(stats_get "$S" 'j["streams"]["goaway"]["ping"]')" = $((pings + 1)) ] ||
    fail "ping-after-goaway: streams.goaway.ping did not go up by one"
stream_across TERM "a graceful stop"
goaways=$(goaways_of TERM)
[ "$goaways" = "2147483647 NO_ERROR 13 NO_ERROR " ] ||
    fail "the graceful stop's GOAWAYs (last stream, code) are '$goaways', expected the notice (2^31-1), then stream 13"
for _ in $(seq 30); do kill -0 "$PROXY_PID" 2>/dev/null || break; sleep 0.1; done
kill -0 "$PROXY_PID" 2>/dev/null && fail "the proxy did not exit after its last stream"
echo "h2_goaway: rapid reset cut, keep-alive, reload and stop GOAWAYs ok"
