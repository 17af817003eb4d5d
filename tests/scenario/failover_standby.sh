#!/usr/bin/env bash
# scenario: alone
# failover_standby.sh: two primaries and a standby under keep-alive load.
# Both primaries are SIGKILLed: the standby must serve within fall x interval
# (+ slack) and at most a handful (5) of requests may fail in the switch.
# Then the primaries are restarted: after rise x interval (+ slack) the
# standby must get no new requests.  Checks every 300ms, fall 2, rise 2.
set -u
. "${TOPSRC:-$(cd "$(dirname "$0")/../.." && pwd)}/tests/support/lib.sh"

LOAD="python3 $TOPSRC/tests/scenario/failover_load.py"
ms() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%d", (b - a) * 1000 }'; }
INTERVAL_MS=300 FALL=2 RISE=2 SLACK_MS=900

P=$(free_port); B1=$(free_port); B2=$(free_port); S1=$(free_port)
cat >"$TMPDIR/proxy.conf" <<CONF
workers 2
log-level info
access-log off
listen 127.0.0.1:$P
pool web {
    balance least-conn
    check http /healthz
    interval ${INTERVAL_MS}ms
    check-timeout 250ms
    fall $FALL
    rise $RISE
    retries 2
    server app1 127.0.0.1:$B1
    server app2 127.0.0.1:$B2
    standby spare1 127.0.0.1:$S1
}
CONF
start_backend "$B1" app1; PID1=$BACKEND_PID
start_backend "$B2" app2; PID2=$BACKEND_PID
start_backend "$S1" spare1
start_proxy "$TMPDIR/proxy.conf" "$P"
sleep 0.7

$LOAD --port "$P" --conns 8 --duration 8 --log "$TMPDIR/load.tsv" >"$TMPDIR/load.out" 2>&1 &
LPID=$!; track "$LPID"
sleep 2
kill_t=$(date +%s.%N)
{ kill -KILL "$PID1" "$PID2"; wait "$PID1" "$PID2"; } 2>/dev/null
sleep 2.5
start_backend "$B1" app1
start_backend "$B2" app2
up_t=$(date +%s.%N)
wait "$LPID"
cat "$TMPDIR/load.out"
echo "--- proxy events:"; grep -E 'server-(down|up)|standby-|pool-down' "$TMPDIR/proxy.log"

L=$TMPDIR/load.tsv
total=$(field requests "$(<"$TMPDIR/load.out")")
before=$(awk -F'\t' -v k="$kill_t" '$8 + $2 / 1000 < k - 0.05 && $4 == "spare1"' "$L" | wc -l)
# The switch: failures from the kill until the restart.
switch_fail=$(awk -F'\t' -v k="$kill_t" -v u="$up_t" '$8 >= k - 0.5 && $8 < u && !($3 >= 200 && $3 < 300)' "$L" | wc -l)
all_fail=$(awk -F'\t' '!($3 >= 200 && $3 < 300)' "$L" | wc -l)
first_spare=$(awk -F'\t' -v k="$kill_t" '$8 >= k && $4 == "spare1" && $3 >= 200 && $3 < 300 { printf "%.4f\n", $8 + $2 / 1000; exit }' "$L")
# Standby answers to requests that started after the restart + rise x interval + slack.
cut_t=$(awk -v u="$up_t" -v r=$((RISE * INTERVAL_MS + SLACK_MS)) 'BEGIN { printf "%.4f", u + r / 1000 }')
late_spare=$(awk -F'\t' -v c="$cut_t" '$8 >= c && $4 == "spare1"' "$L" | wc -l)
last_spare=$(awk -F'\t' -v u="$up_t" '$8 >= u && $4 == "spare1" { t = $8 } END { if (t) printf "%.4f", t }' "$L")
first_prim=$(awk -F'\t' -v u="$up_t" '$8 >= u && ($4 == "app1" || $4 == "app2") { printf "%.4f", $8; exit }' "$L")
tail_total=$(awk -F'\t' -v c="$cut_t" '$8 >= c' "$L" | wc -l)

det=never; [ -n "$first_spare" ] && det=$(ms "$kill_t" "$first_spare")
idle=none; [ -n "$last_spare" ] && idle=$(ms "$up_t" "$last_spare")
back=never; [ -n "$first_prim" ] && back=$(ms "$up_t" "$first_prim")
echo "measured: requests=$total failed=$all_fail failed-in-switch=$switch_fail" \
     "standby-before-kill=$before standby-first-answer-after-kill=${det}ms (fall x interval = $((FALL * INTERVAL_MS))ms)" \
     "primaries-first-answer-after-restart=${back}ms last-standby-request-after-restart=${idle}ms (rise x interval = $((RISE * INTERVAL_MS))ms)" \
     "standby-requests-after-$((RISE * INTERVAL_MS + SLACK_MS))ms=$late_spare of $tail_total"

[ "$before" -eq 0 ] || fail "the standby got $before requests while both primaries were up"
[ "$det" != never ] || fail "the standby never served after the primaries died"
[ "$det" -le $((FALL * INTERVAL_MS + SLACK_MS)) ] || fail "the standby served only ${det}ms after the kill (want <= $((FALL * INTERVAL_MS + SLACK_MS))ms)"
[ "$switch_fail" -le 5 ] || fail "$switch_fail requests failed in the switch to the standby (want <= 5)"
[ "$back" != never ] || fail "the restarted primaries never served again"
[ "$tail_total" -gt 100 ] || fail "too little load after the restart ($tail_total requests)"
[ "$late_spare" -eq 0 ] || fail "the standby still got $late_spare new requests more than $((RISE * INTERVAL_MS + SLACK_MS))ms after the primaries came back"
[ "$all_fail" -le 5 ] || fail "$all_fail requests failed in all (want <= 5)"
echo "PASS: standby took over and went idle again"
