#!/usr/bin/env bash
# scenario: alone
# reload_storm.sh: a storm of reloads under steady keep-alive load.
# wrk -t2 -c20 -d8s against servers a, b (always kept) and c (added and
# removed by turns); each response is delayed 2ms by the backend, so
# requests are in flight on c when it is removed.  10 SIGHUPs in ~3 s, each
# waited for (generation + 1) and 250ms apart.
# Wants: zero failed requests (no non-2xx, no socket errors), c served while
# present, and the request counters of a and b never decrease across the
# reloads (kept servers keep their statistics); in-flight counters back to
# 0 at the end.
# Ports 25130-25139.
set -u
. "${TOPSRC:-$(cd "$(dirname "$0")/../.." && pwd)}/tests/scenario/reload_lib.bash"

P=25130 STATS=25131 A=25132 B=25133 C=25134
ports_free $P $STATS $A $B $C
CONF=$TMPDIR/proxy.conf
command -v wrk >/dev/null || fail "wrk is not installed"

write_conf() { # server lines...
    {
        echo "workers 2"
        echo "access-log off"
        echo "listen 127.0.0.1:$P"
        echo "stats 127.0.0.1:$STATS"
        echo "pool web {"
        echo "    check http /healthz"
        echo "    interval 1s"
        for s in "$@"; do echo "    server $s"; done
        echo "}"
    } >"$CONF"
}

start_backend $A a
start_backend $B b
start_backend $C c
write_conf "a 127.0.0.1:$A" "b 127.0.0.1:$B"
start_proxy "$CONF" $P
wait_port $STATS 3 || fail "stats port $STATS not open"
g0=$(gen)

wrk -t2 -c20 -d8s --timeout 3s "http://127.0.0.1:$P/?delay=${DELAY_MS:-2}" >"$TMPDIR/wrk.out" 2>&1 &
WPID=$!
track $WPID
sleep 1.5

# The reloads are driven by one python3 process (reload_util.py
# reload-loop; forking curl and jq for each poll is too slow under full
# load on 2 cores); it saves /api/stats after each reload and 200ms later.
SAMPLES=$TMPDIR/samples
mkdir "$TMPDIR/json"
stats_json >"$TMPDIR/json/00-before"
write_conf "a 127.0.0.1:$A" "b 127.0.0.1:$B" "c 127.0.0.1:$C"; cp "$CONF" "$TMPDIR/conf1"
write_conf "a 127.0.0.1:$A" "b 127.0.0.1:$B"; cp "$CONF" "$TMPDIR/conf0"
t0=$(date +%s.%N)
$UTIL reload-loop "$PROXY_PID" $STATS - 10 "$CONF" "$TMPDIR/conf0" "$TMPDIR/conf1" 8 250 "$TMPDIR/json" >"$TMPDIR/loop.out" 2>&1
t1=$(date +%s.%N)
cat "$TMPDIR/loop.out"
grep -q '^error' "$TMPDIR/loop.out" && fail "$(grep '^error' "$TMPDIR/loop.out")"
wait $WPID
stats_json >"$TMPDIR/json/99-end"
for f in "$TMPDIR"/json/*; do
    STATS_FILE=$f
    echo "${f##*/[0-9][0-9]-} a=$(fstat web/a/requests) b=$(fstat web/b/requests) c=$(fstat web/c/requests)"
done >"$SAMPLES"
cat "$TMPDIR/wrk.out"
echo "--- counters (a and b kept, c added at odd reloads, removed at even ones):"
cat "$SAMPLES"

secs=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.2f", b - a }')
total=$(awk '/requests in/ { print $1; exit }' "$TMPDIR/wrk.out")
non2xx=$(awk '/Non-2xx/ { print $NF; exit }' "$TMPDIR/wrk.out")
sockerr=$(awk '/Socket errors/ { n = 0; for (i = 1; i <= NF; i++) if ($i ~ /^[0-9]+,?$/) n += $i + 0; print n; exit }' "$TMPDIR/wrk.out")
non2xx=${non2xx:-0} sockerr=${sockerr:-0}
g1=$(gen)
echo "measured: reloads=$((g1 - g0)) in ${secs}s requests=$total non2xx=$non2xx socket_errors=$sockerr failed=$((non2xx + sockerr))"

[ -n "$total" ] && [ "$total" -gt 1000 ] || fail "too little load: $total requests"
awk -v s="$secs" 'BEGIN { exit !(s < 6) }' || fail "the 10 reloads took ${secs}s, not within the load (want < 6s)"
[ $((g1 - g0)) -eq 10 ] || fail "generation moved by $((g1 - g0)), want 10"
[ "$non2xx" -eq 0 ] || fail "$non2xx non-2xx responses during the reload storm"
[ "$sockerr" -eq 0 ] || fail "$sockerr socket errors during the reload storm"
# kept counters never decrease
for s in a b; do
    awk -v s=$s '{ v = $0; sub(".*" s "=", "", v); sub(" .*", "", v); v += 0
                   if (NR > 1 && v < last) { print "decrease of " s ": " last " -> " v " at " $1; bad = 1 }
                   last = v }
                 END { exit bad }' "$SAMPLES" || fail "the request counter of kept server $s went down across a reload"
done
grep -E '^(reload|after)-[13579] ' "$SAMPLES" | grep -q 'c=[1-9]' || fail "c never served while it was in the configuration"
grep -E '^(reload|after)-(2|4|6|8|10) ' "$SAMPLES" | grep -qv 'c=absent' && fail "c still listed after its removal"
sleep 0.3
act="a=$(stat web/a/active) b=$(stat web/b/active) queued=$(stat pools.0.queued)"
conns=$(stat connections.active)
for _ in $(seq 20); do
    [ "$conns" = 0 ] && break
    sleep 0.1
    conns=$(stat connections.active)
done
echo "in flight after the load: $act (client connections.active=$conns)"
[ "$act" = "a=0 b=0 queued=0" ] || fail "in-flight counters of kept servers not back to 0 after the storm: $act"
# wrk closes its connections with requests outstanding (a FIN while the
# request is in flight): each is closed at once, not at timeout keep-alive.
[ "$conns" = 0 ] || fail "$conns client connections still counted active 2 s after wrk closed them"
ea=$(grep '^end ' "$SAMPLES" | sed 's/.* a=\([0-9]*\).*/\1/'); ba=$(grep '^before ' "$SAMPLES" | sed 's/.* a=\([0-9]*\).*/\1/')
[ "$ea" -gt "$ba" ] || fail "a served nothing during the storm"
echo "PASS: 10 reloads in ${secs}s under load, 0 failed requests of $total, kept counters monotonic"
