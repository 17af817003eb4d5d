#!/usr/bin/env bash
# scenario: alone
# surge_off.sh: `surge off` turns surge detection off: requests from
# several clients leave the traffic's anatomy empty (the workers skip it:
# no distinct clients, no top lists) and
# /api/stats says "detection":"off", and so does the dashboard's Traffic
# panel (headless Chromium); a reload with the line gone turns it
# on again and the same requests are counted.
set -u
. "${TOPSRC:-$(cd "$(dirname "$0")/../.." && pwd)}/tests/support/lib.sh"
trap cleanup EXIT

P=$(free_port); S=$(free_port); B=$(free_port)
write_conf() { # extra directive lines
    proxy_conf_basic "$TMPDIR/proxy.conf" "$P" "app 127.0.0.1:$B" "stats 127.0.0.1:$S" "$@"
}
write_conf "surge off"
start_backend "$B" app
start_proxy "$TMPDIR/proxy.conf" "$P" "$S"
requests() { # N requests from each of 127.0.0.2..4
    local n=$1 src i
    for src in 127.0.0.2 127.0.0.3 127.0.0.4; do
        for i in $(seq "$n"); do
            curl -s -o /dev/null -m 3 --interface "$src" "http://127.0.0.1:$P/page/$i" || fail "request from $src failed"
        done
    done
}
# Distinct clients come from shared sketches, at once; the top lists from
# the workers' summaries (handed over while traffic goes on).
anatomy() { stats_get "$S" '(j["traffic"]["detection"], int(j["traffic"]["clients"]["distinct_10s"]), j["traffic"]["top"]["requests"])'; }

requests 10
sleep 1.5
requests 5
sleep 1.5
off=$(anatomy); echo "off: detection, top clients, requests: $off"
[ "$off" = "off 0 0" ] || fail "with surge off the anatomy counted requests: $off"
[ "$(stats_get "$S" 'j["traffic"]["surge"]["active"]')" = False ] || fail "a surge with detection off"
# The dashboard's Traffic panel says so (headless Chromium, its DOM).
CHROMIUM=${CHROMIUM:-/usr/bin/chromium}
[ -x "$CHROMIUM" ] || fail "surge_off needs $CHROMIUM (Debian package chromium; make deps installs it)"
timeout 40 "$CHROMIUM" --headless --no-sandbox --disable-gpu --no-first-run --disable-dev-shm-usage \
    --disable-background-networking --disable-component-update --disable-sync \
    --user-data-dir="$(mktemp -d "$TMPDIR/chr.XXXX")" --virtual-time-budget=2500 \
    --dump-dom "http://127.0.0.1:$S/" >"$TMPDIR/dash.html" 2>>"$TMPDIR/chromium.log"
meta=$(grep -o '<span class="meta" id="traffic-meta">[^<]*</span>' "$TMPDIR/dash.html")
echo "dashboard: $meta"
echo "$meta" | grep -q '>surge detection off (surge off): no anatomy is kept<' || fail "the dashboard's traffic panel: '$meta'"

write_conf
kill -HUP "$PROXY_PID"
wait_for 5 stats_is "$S" "j['reloads']['ok']" 1 || fail "the reload failed: $(tail -3 "$TMPDIR/proxy.log")"
requests 10
counted() { set -- $(anatomy); [ "$1" = on ] && [ "$2" = 3 ]; }
wait_for 5 counted || fail "after turning detection on, the anatomy shows: $(anatomy)"
echo "on: detection, top clients, requests: $(anatomy)"
echo "PASS: surge off leaves the anatomy empty; a reload turns it on"
