#!/usr/bin/env bash
# scenario: alone
# proxy_protocol_listen.sh: `listen ADDR proxy-protocol` behind an L4
# balancer (issue 15 item 3 and its "Bad input"), with a python client.
#
#  - v1 TCP4 / TCP6 / UNKNOWN and v2 TCP4 / TCP6 / LOCAL / with TLVs, over
#    IPv4 and IPv6 listeners: the backend's X-Forwarded-For is the header's
#    source, or the peer's own address for UNKNOWN and LOCAL.
#  - abuse, 100 connections of each kind at once, twice: garbage, a v2
#    header announcing 65535 bytes, a v1 line that never ends, a header
#    trickled slower than `timeout client` (1s), a header cut by a close.
#    Each is closed without a byte of answer and counted in
#    faults.proxy_protocol_invalid (and /metrics); no request reaches the
#    backend; RSS does not grow from one round to the next; and the proxy
#    does not spin on the peeked bytes of headers still incomplete (its CPU
#    time over a round stays small).
set -u
. "${TOPSRC:-$(cd "$(dirname "$0")/../.." && pwd)}/tests/support/lib.sh"

PPY="$TOPSRC/tests/scenario/proxy_protocol.py"
P=$(free_port); P6=$(free_port); S=$(free_port); B=$(free_port)
N=100
start_backend "$B" app
cat >"$TMPDIR/proxy.conf" <<CONF
workers 2
access-log off
listen 127.0.0.1:$P proxy-protocol
listen [::1]:$P6 proxy-protocol
stats 127.0.0.1:$S
timeout client 1s
pool web {
    check off
    server app 127.0.0.1:$B
}
CONF
start_proxy "$TMPDIR/proxy.conf" "$P" "$S"
# wait_port's probe sent nothing: not a fault (an L4 balancer's TCP check looks the same)
[ "$(stats_get "$S" 'j["faults"]["proxy_protocol_invalid"]')" = 0 ] || fail "a connection that sent nothing was counted"

good=0
expect_xff() {   # PORT KIND WANT
    local out
    out=$(python3 "$PPY" send "$1" "$2") || fail "$2: client failed"
    [ "$out" = "status=200 xff=$3" ] || fail "$2: got '$out', want xff=$3"
    echo "$2: $out"
    good=$((good + 1))
}
expect_xff "$P" v1-tcp4 198.51.100.9
expect_xff "$P" v1-tcp6 2001:db8::9
expect_xff "$P" v1-unknown 127.0.0.1
expect_xff "$P" v2-tcp4 192.0.2.77
expect_xff "$P" v2-tcp6 2001:db8::77
expect_xff "$P" v2-local 127.0.0.1
expect_xff "$P" v2-tlv 192.0.2.78
expect_xff "$P6" v2-tcp4@6 192.0.2.77
expect_xff "$P6" v1-unknown@6 ::1
expect_xff "$P6" v2-local@6 ::1

cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$PROXY_PID/stat"; }
rss_kb() { awk '/^VmRSS/ { print $2 }' "/proc/$PROXY_PID/status"; }
round() {   # prints the abuse lines; fails unless every connection was closed unanswered
    local out
    out=$(python3 "$PPY" abuse "$P" "$N" 3) || fail "abuse client failed"
    echo "$out"
    echo "$out" | grep -v "closed=$N answered=0 held=0 of=$N\$" && fail "not every bad connection was closed unanswered"
    return 0
}
hz=$(getconf CLK_TCK)
t0=$(cpu_ticks)
round
t1=$(cpu_ticks)
rss1=$(rss_kb)
round
rss2=$(rss_kb)
cpu_ms=$(( (t1 - t0) * 1000 / hz ))
invalid=$(stats_get "$S" 'j["faults"]["proxy_protocol_invalid"]')
prom=$(curl -s "http://127.0.0.1:$S/metrics" | sed -n 's/^proxy_faults_total{kind="proxy_protocol_invalid"} //p')
requests=$(stats_get "$S" 'j["requests"]["total"]')
echo "measured: invalid=$invalid prometheus=$prom requests=$requests cpu_ms_round1=$cpu_ms rss_kb=$rss1->$rss2"
[ "$invalid" = $((2 * 5 * N)) ] && [ "$prom" = "$invalid" ] ||
    fail "proxy_protocol_invalid is $invalid (prometheus $prom), want $((2 * 5 * N))"
[ "$requests" = "$good" ] || fail "$requests requests reached the proxy's txn layer, want only the $good good ones"
# 500 connections take a few ms; spinning on a partial header would take
# the whole second of timeout client for each trickled or cut one.
[ "$cpu_ms" -lt 500 ] || fail "the proxy used ${cpu_ms}ms of CPU for one round of bad headers"
[ $((rss2 - rss1)) -lt 2048 ] || fail "RSS grew from ${rss1} to ${rss2} KiB between two rounds"
kill -0 "$PROXY_PID" 2>/dev/null || fail "the proxy died"
echo "PASS"
