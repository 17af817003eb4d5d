#!/usr/bin/env bash
# scenario: alone
# harden_flood_rss.sh: memory comes back after floods (issue 11 item 7).
#
# Four rounds of 3000 slowloris connections (a partial request head each, so
# the proxy holds an input buffer for every one; harden_flood.py), each
# closed by the client.  The proxy's VmRSS after warm-up is the baseline;
# after each round, once the proxy has closed the connections and 2 s
# more (its workers check once a second), VmRSS must be back within 4 MiB
# of the baseline, and the last round must not end more than 1 MiB above
# the first (no growth round over round).  Before the fix the rounds ended
# 3 to 16 MiB above the baseline, more each round (runs differ); after it,
# about +0.6 MiB each.
set -u
. "${TOPSRC:-$(cd "$(dirname "$0")/../.." && pwd)}/tests/support/lib.sh"

N=${FLOOD_CONNS:-3000}
ROUNDS=${FLOOD_ROUNDS:-4}
LIMIT_KB=4096
GROWTH_KB=1024
ulimit -n $((N * 2 + 256)) 2>/dev/null || ulimit -n "$(ulimit -Hn)"
[ "$(ulimit -n)" -gt $((N + 128)) ] || fail "cannot raise the fd limit to hold $N connections"

P=$(free_port); B=$(free_port)
start_backend "$B" app
proxy_conf_basic "$TMPDIR/proxy.conf" "$P" "app 127.0.0.1:$B" \
    "log-level warn" "max-conns $((N + 100))" "timeout client 60s"
start_proxy "$TMPDIR/proxy.conf" "$P"

rss_kib() { awk '/^VmRSS:/ {print $2}' "/proc/$PROXY_PID/status"; }
# Warm up: per-thread caches and the server pool exist before the baseline.
for _ in $(seq 20); do curl -s -o /dev/null --max-time 5 "http://127.0.0.1:$P/"; done
sleep 1.2
rss0=$(rss_kib)
echo "  baseline VmRSS ${rss0} KiB"

python3 "$TOPSRC/tests/scenario/harden_flood.py" "$PROXY_PID" "$P" "$N" "$ROUNDS" 2 | tee "$TMPDIR/flood.out"
grep -q '^error' "$TMPDIR/flood.out" && fail "$(grep '^error' "$TMPDIR/flood.out")"
[ "$(grep -c '^round=' "$TMPDIR/flood.out")" = "$ROUNDS" ] || fail "not every round ran"
kill -0 "$PROXY_PID" 2>/dev/null || fail "the proxy died"

first="" worst=0
while read -r line; do
    after=$(sed -n 's/.*after_kb=\([0-9]*\).*/\1/p' <<<"$line")
    [ -n "$first" ] || first=$after
    over=$((after - rss0))
    [ "$over" -gt "$worst" ] && worst=$over
    echo "  ${line%% *}: $over KiB over the baseline after the flood"
done < <(grep '^round=' "$TMPDIR/flood.out")
growth=$((after - first))
echo "measured: baseline=${rss0}KiB worst-after-round=+${worst}KiB last-minus-first=${growth}KiB" \
     "(limits +${LIMIT_KB}KiB, ${GROWTH_KB}KiB)"
[ "$worst" -le "$LIMIT_KB" ] || fail "VmRSS stayed ${worst} KiB above the baseline after a flood (limit ${LIMIT_KB} KiB)"
[ "$growth" -le "$GROWTH_KB" ] || fail "VmRSS grew ${growth} KiB from the first round to the last (limit ${GROWTH_KB} KiB)"
r=$(curl -s -o /dev/null -w '%{http_code}' --max-time 5 "http://127.0.0.1:$P/")
[ "$r" = 200 ] || fail "a request after the floods got $r"
echo "PASS"
