#!/usr/bin/env bash
# scenario: alone
# surge_anatomy.sh: surge detection and the traffic's anatomy with real
# clients from many loopback source addresses (surge_clients.py).
#   quiet:        5 clients, 10 requests/s (the baseline learns it)
#   broad surge:  400 clients, each in its own /24, 400 requests/s, 90% on
#                 /checkout?item=N -> surge-start with shape broad, ~400
#                 distinct clients, nearly all new, /checkout on top
#   its end:      back to quiet -> surge-end after 6 holds
#   concentrated: 2 clients (127.0.0.2, 127.0.0.3), 300 requests/s ->
#                 surge-start with shape concentrated, 127.0.0.0/24 on top
# The notify program's environment, the warn log, /api/stats (traffic) and
# /metrics (proxy_surge_active, proxy_traffic_shape, ...) all say so.
# The per-client rate distribution (traffic.clients.rates, over the last
# complete 10 s window, and the proxy_client_request_rate histogram, which
# promtool checks): for the first complete window with the broad surge in
# it, p99 stays low (every client near 1/s); for one with the flood in it
# the max is far above p50.
# The dashboard, in headless Chromium during each surge, shows the banner
# with the anatomy and the requests/s per client (checked by their text).
# Small `surge hold` and `surge baseline` keep it under a minute (the quiet
# period outlasts the baseline's warm-up, a time constant).
set -u
. "${TOPSRC:-$(cd "$(dirname "$0")/../.." && pwd)}/tests/support/lib.sh"
trap cleanup EXIT

P=$(free_port); S=$(free_port); B=$(free_port)
EV=$TMPDIR/surge-events.txt
NOTIFY=$TMPDIR/on-event
cat >"$NOTIFY" <<SH
#!/bin/sh
printf '%s|%s\n' "\$PROXY_EVENT" "\$PROXY_DETAIL" >>"$EV"
SH
chmod +x "$NOTIFY"
cat >"$TMPDIR/proxy.conf" <<CONF
workers 2
access-log off
notify $NOTIFY
listen 127.0.0.1:$P
stats 127.0.0.1:$S
surge threshold 3x
surge hold 2s
surge min-rate 20/s
surge baseline 10s
pool shop {
    check off
    server app 127.0.0.1:$B
}
CONF
start_backend "$B" app
start_proxy "$TMPDIR/proxy.conf" "$P" "$S"
CLIENTS="python3 $TOPSRC/tests/scenario/surge_clients.py --port $P"

CHROMIUM=${CHROMIUM:-/usr/bin/chromium}
[ -x "$CHROMIUM" ] || fail "surge_anatomy needs $CHROMIUM (Debian package chromium; make deps installs it)"
# The dashboard's DOM after 2.5 s of (virtual) time, into FILE.
dashboard() { # FILE
    timeout 40 "$CHROMIUM" --headless --no-sandbox --disable-gpu --no-first-run --disable-dev-shm-usage \
        --disable-background-networking --disable-component-update --disable-sync \
        --user-data-dir="$(mktemp -d "$TMPDIR/chr.XXXX")" --window-size=1280,900 --virtual-time-budget=2500 \
        --dump-dom "http://127.0.0.1:$S/" >"$1" 2>>"$TMPDIR/chromium.log"
}
banner() { # FILE: the banner's text, "" when hidden
    python3 - "$1" <<'PY'
import re, sys, html
d = open(sys.argv[1], encoding="utf-8", errors="replace").read()
m = re.search(r'<div id="surge-banner"([^>]*)>(.*?)</div>', d, re.S)
print("" if not m or "hidden" in m.group(1) else html.unescape(m.group(2)).strip())
PY
}
metric() { curl -s -m 3 "http://127.0.0.1:$S/metrics" | awk -v m="$1" '$1 == m { print $2 }'; }
events() { cat "$EV" 2>/dev/null | grep -c "^$1|"; }
traffic() { stats_get "$S" "$1"; }

# Quiet traffic all along, from 5 clients in 5 prefixes.
$CLIENTS --rate 10 --duration 90 --sources 127.20.0.9,127.21.0.9,127.22.0.9,127.23.0.9,127.24.0.9 \
    >"$TMPDIR/quiet.out" 2>&1 &
QUIET=$!; track $QUIET
sleep 10
[ "$(events surge-start)" = 0 ] || fail "a surge in quiet traffic: $(cat "$EV")"
base=$(traffic 'j["traffic"]["baseline"]')
echo "quiet: baseline $base/s, rate $(traffic 'j["traffic"]["rate"]')/s"

# ---- a broad surge ----
$CLIENTS --rate 400 --duration 9 --spread 400 --hot /checkout --hot-share 0.9 >"$TMPDIR/broad.out" 2>&1 &
BROAD=$!; track $BROAD
surge_on() { [ "$(traffic 'j["traffic"]["surge"]["active"]')" = True ]; }
wait_for 8 surge_on || fail "no surge within 8s of 400 requests/s over a baseline of $base/s"
started=$(grep '^surge-start|' "$EV" | head -n1)
echo "start event: $started"
dashboard "$TMPDIR/dash-broad.html" & DASH=$!; track $DASH
sleep 2
doc=$(stats_dump "$S")
echo "during the broad surge: $(echo "$doc" | stats_get - 'j["traffic"]')"
m_active=$(metric proxy_surge_active); m_broad=$(metric 'proxy_traffic_shape{shape="broad"}')
m_distinct=$(metric proxy_clients_distinct); m_new=$(metric proxy_clients_new_ratio)
m_base=$(metric proxy_request_rate_baseline)
echo "metrics: active $m_active broad $m_broad distinct $m_distinct new $m_new baseline $m_base"
wait $BROAD; echo "broad clients: $(cat "$TMPDIR/broad.out")"
wait $DASH; b_banner=$(banner "$TMPDIR/dash-broad.html"); echo "dashboard: $b_banner"
# The distribution covers whole 10 s windows: the first one to hold most of
# the broad surge (its 400 clients) is over at most 20 s after its start.
rates() { traffic '(lambda r: (r["clients"], r["p50"], r["p99"], r["max"]))(j["traffic"]["clients"]["rates"])'; }
broad_window() { set -- $(rates); [ "$1" -ge 300 ]; }
wait_for 14 broad_window || fail "no complete window with the broad surge's clients: rates $(rates)"
b_rates=$(rates); echo "broad surge's window: clients p50 p99 max: $b_rates"

# ---- its end: 6 holds (12 s) under half the threshold ----
surge_off() { [ "$(events surge-end)" -ge 1 ]; }
wait_for 20 surge_off || fail "the broad surge did not end within 20s of quiet"
ended=$(grep '^surge-end|' "$EV" | head -n1)
echo "end event: $ended"
m_after=$(metric proxy_surge_active)

# ---- a concentrated surge: two clients ----
$CLIENTS --rate 300 --duration 16 --sources 127.0.0.2,127.0.0.3 --hot /login --hot-share 1 \
    >"$TMPDIR/flood.out" 2>&1 &
FLOOD=$!; track $FLOOD
second() { [ "$(events surge-start)" -ge 2 ]; }
wait_for 8 second || fail "no second surge-start for the two-client flood"
flood_ev=$(grep '^surge-start|' "$EV" | sed -n 2p)
echo "flood event: $flood_ev"
dashboard "$TMPDIR/dash-flood.html" & DASH=$!; track $DASH
sleep 1.5
fdoc=$(stats_dump "$S")
echo "during the flood: $(echo "$fdoc" | stats_get - 'j["traffic"]')"
m_conc=$(metric 'proxy_traffic_shape{shape="concentrated"}'); m_active2=$(metric proxy_surge_active)
flood_window() { set -- $(rates); awk -v p="$2" -v m="$4" 'BEGIN { exit !(m >= 50) }'; }
wait_for 12 flood_window || fail "no complete window with the flood in it: rates $(rates)"
f_rates=$(rates); echo "flood's window: clients p50 p99 max: $f_rates"
curl -s -m 3 "http://127.0.0.1:$S/metrics" >"$TMPDIR/metrics.txt"
lint=$(promtool check metrics <"$TMPDIR/metrics.txt" 2>&1) || fail "promtool check metrics: $lint"
m_rate_count=$(awk '$1 == "proxy_client_request_rate_count" { print $2 }' "$TMPDIR/metrics.txt")
m_rate_inf=$(awk '$1 == "proxy_client_request_rate_bucket{le=\"+Inf\"}" { print $2 }' "$TMPDIR/metrics.txt")
echo "proxy_client_request_rate: count $m_rate_count, le=+Inf $m_rate_inf"
wait $FLOOD; echo "flood clients: $(cat "$TMPDIR/flood.out")"
wait $DASH; f_banner=$(banner "$TMPDIR/dash-flood.html"); echo "dashboard: $f_banner"
stop_pid "$QUIET"

# ---- what they all said ----
detail=${started#surge-start|}
echo "$detail" | grep -q 'shape broad' || fail "broad surge-start detail lacks 'shape broad': $detail"
echo "$detail" | grep -q '; paths /checkout [0-9]*%' || fail "broad surge-start: /checkout (no query) not the top path: $detail"
clients=$(echo "$detail" | sed -n 's/.*; \([0-9]*\) clients in 10s, \([0-9]*\)% new;.*/\1 \2/p')
[ -n "$clients" ] || fail "no 'N clients in 10s, P% new' in: $detail"
set -- $clients
[ "$1" -ge 300 ] && [ "$1" -le 440 ] || fail "surge-start counted $1 distinct clients (400 surge + 5 quiet)"
[ "$2" -ge 80 ] || fail "surge-start says only $2% of the clients are new"
echo "$detail" | grep -Eq 'baseline [0-9.]+/s \([0-9.]+x\)' || fail "no baseline and ratio in: $detail"
echo "$detail" | grep -Eq '; per-client rate p50 [0-9.]+/s, p99 [0-9.]+/s, max [0-9.]+/s$' ||
    fail "broad surge-start detail lacks the per-client rates: $detail"

s_shape=$(echo "$doc" | stats_get - 'j["traffic"]["surge"]["shape"]')
s_distinct=$(echo "$doc" | stats_get - 'j["traffic"]["clients"]["distinct_10s"]')
s_new=$(echo "$doc" | stats_get - 'j["traffic"]["clients"]["new_share"]')
s_path=$(echo "$doc" | stats_get - 'j["traffic"]["top"]["paths"][0]["path"]')
s_since=$(echo "$doc" | stats_get - 'j["traffic"]["surge"]["since"]')
s_ratio=$(echo "$doc" | stats_get - 'j["traffic"]["surge"]["ratio"]')
[ "$s_shape" = broad ] || fail "/api/stats shape during the broad surge: $s_shape"
awk -v d="$s_distinct" 'BEGIN { exit !(d >= 350 && d <= 440) }' || fail "/api/stats distinct_10s $s_distinct"
awk -v n="$s_new" 'BEGIN { exit !(n > 0.5) }' || fail "/api/stats new_share $s_new"
[ "$s_path" = /checkout ] || fail "/api/stats top path $s_path"
awk -v r="$s_ratio" 'BEGIN { exit !(r > 3) }' || fail "/api/stats ratio $s_ratio during the surge"
now=$(date +%s)
[ "$s_since" -gt $((now - 60)) ] && [ "$s_since" -le "$now" ] || fail "/api/stats since $s_since (now $now)"
[ "$m_active" = 1 ] && [ "$m_broad" = 1 ] || fail "metrics during the broad surge: active $m_active broad $m_broad"
awk -v d="$m_distinct" 'BEGIN { exit !(d >= 350) }' || fail "proxy_clients_distinct $m_distinct"
awk -v n="$m_new" 'BEGIN { exit !(n > 0.5) }' || fail "proxy_clients_new_ratio $m_new"
awk -v b="$m_base" -v q="$base" 'BEGIN { exit !(b > 5 && b < 25) }' || fail "proxy_request_rate_baseline $m_base"

echo "$ended" | grep -q 'lasted [0-9]*s' || fail "surge-end detail says nothing of how long: $ended"
[ "$m_after" = 0 ] || fail "proxy_surge_active $m_after after the end"

fdetail=${flood_ev#surge-start|}
echo "$fdetail" | grep -q 'shape concentrated' || fail "flood surge-start not concentrated: $fdetail"
echo "$fdetail" | grep -q '; prefixes 127.0.0.0/24 [0-9]*%' || fail "flood: 127.0.0.0/24 not the top prefix: $fdetail"
echo "$fdetail" | grep -Eq '; clients 127\.0\.0\.[23] [0-9]+%, 127\.0\.0\.[23] ' || fail "flood: the two clients not on top: $fdetail"
f_shape=$(echo "$fdoc" | stats_get - 'j["traffic"]["surge"]["shape"]')
f_top=$(echo "$fdoc" | stats_get - 'round(sum(c["share"] for c in j["traffic"]["top"]["clients"][:2]), 2)')
[ "$f_shape" = concentrated ] || fail "/api/stats shape during the flood: $f_shape"
awk -v s="$f_top" 'BEGIN { exit !(s > 0.7) }' || fail "the two flooders hold only $f_top of the requests"
[ "$m_conc" = 1 ] && [ "$m_active2" = 1 ] || fail "metrics during the flood: concentrated $m_conc active $m_active2"
echo "$fdetail" | grep -Eq '; per-client rate p50 [0-9.]+/s, p99 [0-9.]+/s, max [0-9.]+/s$' ||
    fail "flood surge-start detail lacks the per-client rates: $fdetail"
set -- $b_rates
awk -v p99="$3" -v m="$4" 'BEGIN { exit !(p99 < 5 && m < 5) }' ||
    fail "broad surge: every client sends about 1/s, yet p99 $3/s, max $4/s"
set -- $f_rates
awk -v p50="$2" -v m="$4" 'BEGIN { exit !(m >= 50 && m > 10 * p50) }' ||
    fail "flood: the max ($4/s) is not far above p50 ($2/s)"
[ -n "$m_rate_count" ] && [ "$m_rate_count" = "$m_rate_inf" ] ||
    fail "proxy_client_request_rate: count '$m_rate_count', le=+Inf '$m_rate_inf'"
awk -v c="$m_rate_count" 'BEGIN { exit !(c >= 2) }' || fail "proxy_client_request_rate_count $m_rate_count during the flood"

echo "$b_banner" | grep -Eq '^Surge: [0-9.]+x baseline, [0-9,]+ clients, [0-9]+% new, broad: looks like a campaign$' ||
    fail "dashboard banner during the broad surge: '$b_banner'"
echo "$f_banner" | grep -Eq '^Surge: [0-9.]+x baseline, [0-9,]+ clients, [0-9]+% new, concentrated: 2 clients send [0-9]+%: looks like a flood$' ||
    fail "dashboard banner during the flood: '$f_banner'"
grep -q 'id="top-paths"><tr><td class="key">/checkout</td>' "$TMPDIR/dash-broad.html" ||
    fail "the dashboard's top paths do not start with /checkout"
grep -q 'id="baseline-line"' "$TMPDIR/dash-broad.html" || fail "no baseline line under the rate chart"
rates_text() { # FILE: the requests/s per client summary and its first bar
    python3 - "$1" <<'PY'
import re, sys, html
d = open(sys.argv[1], encoding="utf-8", errors="replace").read()
m = re.search(r'<p id="rates-summary"[^>]*>(.*?)</p>', d, re.S)
bar = re.search(r'<tr data-le="([0-9.]+)" data-clients="([0-9]+)"><td class="key">(.*?)</td>', d)
print(html.unescape(m.group(1)).strip() if m else "", "|", html.unescape(bar.group(3)) if bar else "")
PY
}
f_dash_rates=$(rates_text "$TMPDIR/dash-flood.html"); echo "dashboard, requests/s per client: $f_dash_rates"
echo "$f_dash_rates" | grep -Eq '^p50 [0-9.]+, p90 [0-9.]+, p99 [0-9.]+, max [0-9.]+ \([0-9,]+ clients, 10 s\) \| ≤ [0-9.]+/s$' ||
    fail "the dashboard's requests/s per client: '$f_dash_rates'"

grep -E 'event surge-start' "$TMPDIR/proxy.log" | head -n1 | grep -qiw warn || fail "surge-start not logged at warn"
grep -qE 'event surge-end' "$TMPDIR/proxy.log" || fail "surge-end not in the log"
echo "PASS: a broad surge, its end and a concentrated one, told by events, notify, stats and metrics"
