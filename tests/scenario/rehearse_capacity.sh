#!/usr/bin/env bash
# scenario: alone
# rehearse_capacity.sh: `proxy rehearse` finds a pool's capacity through the
# real proxy (CONTRACT.md section 11).
#
# One server (the test backend, 20 ms a request) held by the proxy to
# max-conns 4: it answers about 4 / 20 ms = 200 requests/s, and beyond that
# requests wait in the proxy's queue.  Rehearsing 40, 140, 240 req/s with
# an SLO of p99 <= 100 ms must:
#   - hold at 40/s, break by 240/s (capacity 100..199 as the issue asks:
#     here 140, the last step under 200), exit 3;
#   - show the queue in the broken step's p99 (open loop: far over the SLO;
#     a closed-loop tool would have slowed down and shown ~20-40 ms);
#   - see through --stats that the server reached its 4 in flight;
#   - write a report.html that headless Chromium renders with its charts.
set -u
. "${TOPSRC:-$(cd "$(dirname "$0")/../.." && pwd)}/tests/support/lib.sh"

P=$(free_port); S=$(free_port); B=$(free_port)
cat >"$TMPDIR/proxy.conf" <<CONF
workers 1
access-log off
listen 127.0.0.1:$P
stats 127.0.0.1:$S
timeout queue 30s
pool web {
    check off
    max-queue 10000
    server app 127.0.0.1:$B max-conns 4
}
CONF
start_backend "$B" app
start_proxy "$TMPDIR/proxy.conf" "$P" "$S"

R=$TMPDIR/report

# One rehearsal; sets rc and the figures read from report.json.
rehearse() {
    "$PROXY" rehearse "http://127.0.0.1:$P/?delay=20" --rate 40:240:100 --step-time 3s \
        --slo p99=100ms,errors=0.1% --stats "127.0.0.1:$S" --report "$R" \
        >"$TMPDIR/rehearse.out" 2>&1 &
    local rp=$!
    track "$rp"
    wait "$rp"
    rc=$?
    cat "$TMPDIR/rehearse.out"
    [ -s "$R/report.json" ] || fail "no report.json (exit $rc)"
    [ -s "$R/report.html" ] || fail "no report.html"
    read -r capacity broken_rate broken_p99 slo active_max held0 <<<"$(python3 - "$R/report.json" <<'PY'
import json, sys
j = json.load(open(sys.argv[1]))
for k in ("url", "slo", "capacity", "steps"):
    assert k in j, k
for s in j["steps"]:
    for k in ("rate", "achieved", "sent", "errors", "p50_ms", "p99_ms", "held", "servers"):
        assert k in s, k
    for v in s["servers"]:
        for k in ("pool", "name", "active_max", "queued_max", "errors"):
            assert k in v, k
broken = ([s for s in j["steps"] if not s["held"]] or [{"rate": 0, "p99_ms": 0}])[0]
amax = max([v["active_max"] for s in j["steps"] for v in s["servers"]] or [0])
print(j["capacity"], broken["rate"], broken["p99_ms"], j["slo"]["p99_ms"], amax,
      j["steps"][0]["held"])
PY
)" || fail "report.json does not have CONTRACT 11's fields"
    echo "measured: exit=$rc capacity=$capacity broken_rate=$broken_rate broken_p99_ms=$broken_p99 active_max=$active_max"
}

# A 2-core machine shared with other work can stall the backend or the
# proxy for tens of milliseconds, enough to break a 140/s step (70% of the
# server's capacity) by chance: one more rehearsal before failing.
for attempt in 1 2; do
    rehearse
    [ "$rc" = 3 ] && [ "$held0" = True ] && [ "$capacity" -ge 100 ] && [ "$capacity" -lt 200 ] && break
    [ "$attempt" = 1 ] && echo "retrying once: load average $(cut -d' ' -f1 /proc/loadavg)"
done

[ "$rc" = 3 ] || fail "proxy rehearse exited $rc, expected 3 (the SLO broke)"
[ "$held0" = True ] || fail "the 40/s step did not hold"
[ "$capacity" -ge 100 ] && [ "$capacity" -lt 200 ] || fail "capacity $capacity, expected 100..199"
python3 -c "import sys; sys.exit(0 if float('$broken_p99') > 3 * float('$slo') else 1)" ||
    fail "the broken step's p99 ($broken_p99 ms) does not show the queue (SLO $slo ms)"
[ "$active_max" -ge 4 ] || fail "active_max $active_max, expected the server's max-conns 4"
grep -q "max-conns" "$R/report.html" || fail "report.html suggests no max-conns"

# The report renders on its own (no network, no script): its charts are
# there in the DOM that Chromium built.
PROFILE=$(mktemp -d "$TMPDIR/chromium.XXXXXX")
timeout 40 chromium --headless --no-sandbox --disable-gpu --disable-background-networking \
    --disable-component-update --disable-sync --no-first-run --user-data-dir="$PROFILE" \
    --dump-dom "file://$R/report.html" >"$TMPDIR/dom.html" 2>"$TMPDIR/chromium.log" &
CP=$!
track "$CP"
wait "$CP"
svgs=$(grep -o "<svg" "$TMPDIR/dom.html" | wc -l)
polylines=$(grep -o "<polyline" "$TMPDIR/dom.html" | wc -l)
echo "measured: rendered svg=$svgs polyline=$polylines"
[ "$svgs" -ge 4 ] || fail "headless Chromium shows $svgs charts, expected 4 (see $TMPDIR/chromium.log)"
[ "$polylines" -ge 6 ] || fail "the charts have $polylines lines, expected 6 or more"
grep -q "Capacity found" "$TMPDIR/dom.html" || fail "the rendered report does not state the capacity"

echo "PASS: capacity $capacity req/s found through the proxy, broken step p99 ${broken_p99} ms, active_max $active_max, report rendered"
