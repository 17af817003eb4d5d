#!/usr/bin/env bash
# scenario: alone
# failover_slow_start.sh: two servers, least-conn, slow-start 3s.  app2 is
# killed under load (marked down), then restarted: once it is up again, its
# share of the requests over successive 1 s windows must grow, and in the
# first window be clearly below half (a recovered server is not flooded).
# Without slow start, least-conn would give it about 50% at once.
set -u
. "${TOPSRC:-$(cd "$(dirname "$0")/../.." && pwd)}/tests/support/lib.sh"

LOAD="python3 $TOPSRC/tests/scenario/failover_load.py"

P=$(free_port); B1=$(free_port); B2=$(free_port)
cat >"$TMPDIR/proxy.conf" <<CONF
workers 2
log-level info
access-log off
listen 127.0.0.1:$P
pool web {
    balance least-conn
    check http /healthz
    interval 300ms
    check-timeout 250ms
    fall 2
    rise 2
    slow-start 3s
    server app1 127.0.0.1:$B1
    server app2 127.0.0.1:$B2
}
CONF
start_backend "$B1" app1
start_backend "$B2" app2; PID2=$BACKEND_PID
start_proxy "$TMPDIR/proxy.conf" "$P"
sleep 0.7

# Requests that take 2 ms each, 8 connections: a few are in flight at once,
# so least-conn's choice depends on the weights.
$LOAD --port "$P" --conns 8 --duration 8 --path '/?delay=2' --log "$TMPDIR/load.tsv" >"$TMPDIR/load.out" 2>&1 &
LPID=$!; track "$LPID"
sleep 1
{ kill -KILL "$PID2"; wait "$PID2"; } 2>/dev/null
app2_down() { grep -q 'server-down.*app2' "$TMPDIR/proxy.log"; }
wait_for 3 app2_down || fail "app2 was not marked down within 3s of its kill"
sleep 0.3
start_backend "$B2" app2
restart_t=$(date +%s.%N)
wait "$LPID"
cat "$TMPDIR/load.out"
grep -E 'server-(down|up)' "$TMPDIR/proxy.log"

L=$TMPDIR/load.tsv
# t_up: the first request app2 answered after its restart.
t_up=$(awk -F'\t' -v r="$restart_t" '$8 >= r && $4 == "app2" { print $8; exit }' "$L")
[ -n "$t_up" ] || fail "app2 answered nothing after its restart"
echo "app2 served again $(awk -v a="$restart_t" -v b="$t_up" 'BEGIN { printf "%d", (b - a) * 1000 }')ms after its restart"
shares=$(awk -F'\t' -v u="$t_up" '
    $8 >= u && $3 >= 200 && $3 < 300 {
        w = int($8 - u); if (w > 3) next
        n[w]++; if ($4 == "app2") a[w]++
    }
    END { for (w = 0; w <= 3; w++) printf "%d %d %d\n", w, a[w] + 0, n[w] + 0 }' "$L")
echo "measured: app2 share per 1s window after it came back (slow-start 3s):"
printf '%s\n' "$shares" | awk '{ printf "  window %d: %d of %d = %.1f%%\n", $1, $2, $3, ($3 ? 100 * $2 / $3 : 0) }'
load=$(<"$TMPDIR/load.out")
failed=$(( $(field non2xx "$load") + $(field errors "$load") ))
first=$(printf '%s\n' "$shares" | awk '$1 == 0 { printf "%d", ($3 ? 1000 * $2 / $3 : -1) }')
last=$(printf '%s\n' "$shares" | awk '$1 == 3 { printf "%d", ($3 ? 1000 * $2 / $3 : -1) }')
n_last=$(printf '%s\n' "$shares" | awk '$1 == 3 { print $3 }')
echo "measured: first-window=$((first / 10)).$((first % 10))% last-window=$((last / 10)).$((last % 10))% failed-requests=$failed"

[ "$n_last" -gt 200 ] || fail "too few requests in the last window ($n_last)"
[ "$first" -lt 350 ] || fail "app2's share in its first second back is $((first / 10))% (want clearly below 50%, < 35%)"
[ "$first" -lt "$last" ] || fail "app2's share did not grow: first window $first/1000, last $last/1000"
[ "$last" -gt 350 ] || fail "app2's share after the slow start is only $((last / 10))% (want near 50%)"
[ "$failed" -le 2 ] || fail "$failed requests failed (a kill with retries should cost none, allow 2)"
echo "PASS: the restarted server's share ramped up"
