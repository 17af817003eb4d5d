#!/usr/bin/env bash
# scenario: alone
# h2_reset_window: `http2 max-resets N` counts stream resets per 10 s
# (CONTRACT 8), not over a connection's life: a long-lived connection
# whose client cancels streams now and then (a browser leaving pages) is
# never cut for it.  With http2 max-resets 20, on one connection
# (python3-h2):
#   - 20 streams opened and reset: no GOAWAY, a new stream gets its 200;
#   - 10.5 s later, 20 more: still no GOAWAY (40 in the connection's life,
#     20 in the window), and a stream after them gets its 200;
#   - then 1 more in the same window: GOAWAY ENHANCE_YOUR_CALM, counted in
#     streams.goaway.resets.
set -u
. "${TOPSRC:-$(cd "$(dirname "$0")/../.." && pwd)}/tests/support/lib.sh"
need_python_h2

P=$(free_port); S=$(free_port); B=$(free_port)
start_backend "$B" app
proxy_conf_basic "$TMPDIR/proxy.conf" "$P" "app 127.0.0.1:$B" "workers 1" "http2 max-resets 20" "stats 127.0.0.1:$S"
start_proxy "$TMPDIR/proxy.conf" "$P" "$S"


r0=$(stats_get "$S" 'j["streams"]["goaway"]["resets"]')
out=$("$PY" "$TOPSRC/tests/scenario/h2_limits.py" resets "$P") || fail "h2_limits.py resets: $out"
r1=$(stats_get "$S" 'j["streams"]["goaway"]["resets"]')
echo "measured: $(echo "$out" | tr '\n' ';') streams.goaway.resets $r0 -> $r1"
want=$'batch 1 goaway=none ok=200\nbatch 2 goaway=none ok=200\nbatch 3 goaway=ENHANCE_YOUR_CALM ok=-'
[ "$out" = "$want" ] || fail "http2 max-resets 20 per 10 s: got '$out', expected '$want'"
[ "$r1" = $((r0 + 1)) ] || fail "streams.goaway.resets went from $r0 to $r1, expected one more"
stop_pid "$PROXY_PID"
echo "PASS: resets counted per 10 s: 20 and 20 more after the window pass, the 21st within it is cut"
