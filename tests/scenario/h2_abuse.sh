#!/usr/bin/env bash
# scenario: alone
# h2_abuse: the HTTP/2 abuse and conformance suite (CONTRACT 8, RFC 9113),
# python3-h2's hyperframe and hpack writing the frames (h2_abuse.py,
# h2_client.py).
#   - abuse, each cut and counted by reason in streams.goaway, in
#     listeners[].http2_goaway and in proxy_http2_goaway_total{listener,
#     reason}: an HPACK bomb (hpack: a block decoding to 64 MB, cut at
#     twice limit header-size), rapid reset (resets; also by streams the client makes the
#     proxy reset: a DATA past content-length, a stream WINDOW_UPDATE
#     overflow - CVE-2025-8671), a CONTINUATION flood (continuation),
#     PING floods whose answers are read and whose answers are never read
#     (ping: more than 100 in 10 s; 100 are all answered, the 101st is
#     cut and counted at once), a SETTINGS flood and
#     a SETTINGS frame of 40 entries (settings; 100 SETTINGS are all
#     answered, the 101st is cut), a dynamic table size
#     update over the advertised 4096 (hpack, GOAWAY COMPRESSION_ERROR), streams past http2 max-streams
#     (max_streams: REFUSED_STREAM, then GOAWAY ENHANCE_YOUR_CALM; after the
#     SETTINGS ACK nghttp2's GOAWAY PROTOCOL_ERROR), a stream whose client
#     keeps its window shut while answering PINGs (zero_window: reset after
#     timeout server, or timeout client when shorter, its server let go);
#   - conformance: stream id reuse, DATA on a closed and on an idle stream,
#     a frame over SETTINGS_MAX_FRAME_SIZE, the SETTINGS ACK, a bad preface
#     and a preface without SETTINGS, WINDOW_UPDATE of 0 and past 2^31-1 on
#     the connection and on a stream, HEADERS on an even stream id, DATA
#     past the stream window: each answered with the RFC 9113 error code;
#   - after every case a new connection is served (200), and the floods
#     leave the proxy's RSS within 20 MiB of where it was;
#   - a listener that takes no HTTP/2 (redirect https) says so and has no
#     series; /metrics passes promtool check metrics.
set -u
. "${TOPSRC:-$(cd "$(dirname "$0")/../.." && pwd)}/tests/support/lib.sh"
need_python_h2
command -v promtool >/dev/null || fail "promtool is missing (Debian package prometheus)"
ABUSE=("$PY" "$TOPSRC/tests/scenario/h2_abuse.py")
CLIENT=("$PY" "$TOPSRC/tests/scenario/h2_client.py")

P=$(free_port); R=$(free_port); S=$(free_port); B=$(free_port)
start_backend "$B" app
cat >"$TMPDIR/proxy.conf" <<CONF
workers 1
listen 127.0.0.1:$P
listen 127.0.0.1:$R redirect https
stats 127.0.0.1:$S
http2 max-streams 10
http2 max-resets 50
timeout server 2s
timeout keep-alive 5s
pool web {
    check off
    server app 127.0.0.1:$B
}
CONF
start_proxy "$TMPDIR/proxy.conf" "$P" "$S"

rss_kib() { awk '/^VmRSS/ { print $2 }' "/proc/$PROXY_PID/status"; }
alive() {
    "${ABUSE[@]}" "$P" get >/dev/null || fail "after $1 the proxy does not answer 200 on a new connection"
    kill -0 "$PROXY_PID" 2>/dev/null || fail "the proxy died after $1"
}
run_case() {
    local out
    out=$("${ABUSE[@]}" "$P" "$1") || fail "$out"
    echo "$out"
    alive "$1"
}
flood() {   # NAME COMMAND...: runs a flood, prints the RSS it left
    local name=$1 before after
    shift
    before=$(rss_kib)
    "$@"
    alive "$name"
    after=$(rss_kib)
    echo "$name: RSS ${before} -> ${after} KiB"
}

alive "the start"
# Warm: the buffers an ordinary connection takes are allocated once.
for _ in 1 2 3; do alive "a request"; done
rss0=$(rss_kib)

# ---- abuse ------------------------------------------------------------------------------------
client_flood() {   # MODE COUNT WANT WHAT: an h2_client.py flood; a line WANT (grep) must come back, else WHAT
    local out
    out=$("${CLIENT[@]}" "$1" "$P" "$2")
    echo "$1: $out"
    echo "$out" | grep -q "$3" || fail "$1: $4: $out"
}
flood "rapid reset" client_flood rapid-reset 200 '^goaway error=ENHANCE_YOUR_CALM' "no GOAWAY ENHANCE_YOUR_CALM"
flood "resets the proxy is made to send (content-length)" run_case made-you-reset-length
flood "resets the proxy is made to send (WINDOW_UPDATE)" run_case made-you-reset-window
flood "a CONTINUATION flood" client_flood continuation 100 '^goaway error=ENHANCE_YOUR_CALM' "no GOAWAY ENHANCE_YOUR_CALM"
flood "a PING flood" client_flood ping-flood 400000 '^closed$' "the connection stayed open"
flood "a PING flood, its answers read" run_case ping-flood-read
# The edge of the PING count, and its cut counted as ping at once.
pings_counted() { stats_get "$S" 'j["streams"]["goaway"]["ping"], j["listeners"][0]["http2_goaway"]["ping"]'; }
before=$(pings_counted)
run_case ping-limit
after=$(pings_counted)
[ "$after" = "$((${before% *} + 1)) $((${before#* } + 1))" ] ||
    fail "ping-limit: streams.goaway.ping, listeners[0].http2_goaway.ping went from $before to $after, expected one more each"
flood "a SETTINGS flood" run_case settings-flood
run_case settings-entries
run_case settings-few
run_case settings-limit
run_case hpack-table
flood "an HPACK bomb" run_case hpack-bomb
flood "streams past max-streams" run_case max-streams-flood
run_case max-streams-refused
run_case max-streams-acked
run_case max-streams-within
run_case zero-window
wait_for 3 stats_is "$S" 'j["streams"]["active"]' 0 || fail "the zero-window stream is still open"
wait_for 3 stats_is "$S" 'srv("app")["active"]' 0 || fail "the zero-window stream still holds its server"
failures=$(stats_get "$S" 'srv("app")["failures"]')
run_case upload-stall
[ "$(stats_get "$S" 'srv("app")["failures"]')" = "$failures" ] ||
    fail "upload-stall: a client's stalled upload counted as a failure of its server"
rss1=$(rss_kib)
echo "RSS over the floods: ${rss0} -> ${rss1} KiB"
[ $((rss1 - rss0)) -lt 20480 ] || fail "the floods grew the RSS by $((rss1 - rss0)) KiB (limit 20 MiB)"

# ---- conformance ------------------------------------------------------------------------------
for c in settings-ack stream-reuse data-closed data-idle frame-size bad-preface preface-no-settings \
    window-update-zero window-update-zero-stream window-overflow window-overflow-stream even-stream \
    data-over-window; do
    run_case "$c"
done

# ---- the counts -------------------------------------------------------------------------------
# settings: the flood, the 40 entries and the 101st; max_streams: 11 refusals before
# the cut, 5 refused, 1 cut after the ACK; ping: both PING floods and the
# 101st PING (the flood whose answers are never read meets the count of 100
# before nghttp2's 1000 unread answers, so flood stays 0: only
# h2_flood_unread.bash, by hand, reaches it).
want='{"resets": 3, "continuation": 1, "flood": 0, "settings": 3, "hpack": 2, "max_streams": 17, "zero_window": 1, "ping": 3}'
got=$(stats_get "$S" 'json.dumps(j["streams"]["goaway"])')
echo "streams.goaway: $got"
[ "$got" = "$want" ] || fail "streams.goaway is $got, expected $want"
got=$(stats_get "$S" 'json.dumps(j["listeners"][0]["http2_goaway"])')
[ "$got" = "$want" ] || fail "listeners[0].http2_goaway is $got, expected $want"
[ "$(stats_get "$S" 'j["listeners"][0]["http2"]')" = True ] || fail "listeners[0].http2 is not true"
[ "$(stats_get "$S" 'j["listeners"][1]["http2"]')" = False ] || fail "a redirect https listener says it takes HTTP/2"
[ "$(stats_get "$S" 'sum(j["listeners"][1]["http2_goaway"].values())')" = 0 ] ||
    fail "the redirect listener counts HTTP/2 abuse"

curl -s -m 3 "http://127.0.0.1:$S/metrics" >"$TMPDIR/metrics.txt" || fail "no /metrics"
lint=$(promtool check metrics <"$TMPDIR/metrics.txt" 2>&1) || fail "promtool check metrics: $lint"
for r in continuation zero_window; do
    grep -q "^proxy_http2_goaway_total{listener=\"127.0.0.1:$P\",reason=\"$r\"} 1$" "$TMPDIR/metrics.txt" ||
        fail "/metrics: no proxy_http2_goaway_total{listener=127.0.0.1:$P,reason=$r} 1"
done
for r in resets settings; do
    grep -q "^proxy_http2_goaway_total{listener=\"127.0.0.1:$P\",reason=\"$r\"} 3$" "$TMPDIR/metrics.txt" ||
        fail "/metrics: $r is not 3"
done
grep -q "^proxy_http2_goaway_total{listener=\"127.0.0.1:$P\",reason=\"hpack\"} 2$" "$TMPDIR/metrics.txt" ||
    fail "/metrics: hpack is not 2"
grep -q "^proxy_http2_goaway_total{listener=\"127.0.0.1:$P\",reason=\"ping\"} 3$" "$TMPDIR/metrics.txt" ||
    fail "/metrics: ping is not 3"
grep -q "^proxy_http2_goaway_total{listener=\"127.0.0.1:$P\",reason=\"max_streams\"} 17$" "$TMPDIR/metrics.txt" ||
    fail "/metrics: max_streams is not 17"
grep -q "^proxy_http2_goaway_total{listener=\"127.0.0.1:$R\"" "$TMPDIR/metrics.txt" &&
    fail "/metrics: series for a listener that takes no HTTP/2"
grep -q '^proxy_http2_goaway_total{reason=' "$TMPDIR/metrics.txt" && fail "/metrics: a label-less total beside the listeners'"
# The log says the limits that cut (100 of each per 10 s), numbers that
# come from the same constants the counts are held to.
for what in "100 PINGs" "100 SETTINGS frames"; do
    grep -q "http2: more than $what in 10 s from a client: GOAWAY ENHANCE_YOUR_CALM" "$TMPDIR/proxy.log" ||
        fail "the log does not say: more than $what in 10 s"
done
# The same stall with timeout client shorter than timeout server: the
# txn's slow-client rule resets it, told as zero_window the same way.
sed -i 's/^timeout server 2s$/timeout server 30s\ntimeout client 2s/' "$TMPDIR/proxy.conf"
kill -HUP "$PROXY_PID"
wait_for 5 stats_is "$S" 'j["generation"]' 2 || fail "the reload did not take"
run_case zero-window
got=$(stats_get "$S" 'j["streams"]["goaway"]["zero_window"], j["listeners"][0]["http2_goaway"]["zero_window"]')
[ "$got" = "2 2" ] || fail "zero_window after a stall under timeout client: $got, expected 2 2"
kill -0 "$PROXY_PID" || fail "the proxy died"
echo "h2_abuse: every abuse cut and counted by reason, every conformance case answered per RFC 9113"
