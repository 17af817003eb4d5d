#!/usr/bin/env bash
# failover_all_down.sh: every server of a pool (two primaries and a standby)
# is down: requests get 503 with Retry-After at once, with no wait on
# `timeout connect` (2s here); each answer must come in well under it.
# Also: the pool-down event is logged.
set -u
. "${TOPSRC:-$(cd "$(dirname "$0")/../.." && pwd)}/tests/support/lib.sh"

P=$(free_port); B1=$(free_port); B2=$(free_port); S1=$(free_port)
cat >"$TMPDIR/proxy.conf" <<CONF
workers 2
log-level info
access-log stderr
listen 127.0.0.1:$P
timeout connect 2s
pool web {
    check http /healthz
    interval 300ms
    check-timeout 250ms
    fall 2
    rise 2
    server app1 127.0.0.1:$B1
    server app2 127.0.0.1:$B2
    standby spare1 127.0.0.1:$S1
}
CONF
start_backend "$B1" app1; PID1=$BACKEND_PID
start_backend "$B2" app2; PID2=$BACKEND_PID
start_backend "$S1" spare1; PID3=$BACKEND_PID
start_proxy "$TMPDIR/proxy.conf" "$P"
code=$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$P/")
[ "$code" = 200 ] || fail "before the kill: got $code, want 200"

kill_t=$(date +%s.%N)
{ kill -KILL "$PID1" "$PID2" "$PID3"; wait "$PID1" "$PID2" "$PID3"; } 2>/dev/null
# Wait until the checks have marked all three down (fall 2 x 300ms).
pool_down() { [ "$(grep -c 'server-down' "$TMPDIR/proxy.log")" -ge 3 ]; }
wait_for 5 pool_down || fail "the three servers were not all marked down within 5s"
down_t=$(date +%s.%N)
echo "all three marked down $(awk -v a="$kill_t" -v b="$down_t" 'BEGIN { printf "%d", (b - a) * 1000 }')ms after the kill"

worst=0 n503=0 nra=0 n=10
for i in $(seq $n); do
    out=$(curl -s -D "$TMPDIR/h$i" -o "$TMPDIR/b$i" -m 5 -w '%{http_code} %{time_total}' \
          "http://127.0.0.1:$P/page$i")
    code=${out% *}; t=${out#* }
    ms=$(awk -v t="$t" 'BEGIN { printf "%d", t * 1000 }')
    [ "$ms" -gt "$worst" ] && worst=$ms
    [ "$code" = 503 ] && n503=$((n503 + 1))
    grep -qi '^Retry-After: *[0-9]' "$TMPDIR/h$i" && nra=$((nra + 1))
    [ "$i" = 1 ] && { echo "--- first answer:"; tr -d '\r' <"$TMPDIR/h1"; cat "$TMPDIR/b1"; echo; }
done
# A POST too, with a body.
pout=$(curl -s -D "$TMPDIR/hp" -o /dev/null -m 5 -w '%{http_code} %{time_total}' \
       --data-binary 'hello=world' "http://127.0.0.1:$P/submit")
pcode=${pout% *}; pms=$(awk -v t="${pout#* }" 'BEGIN { printf "%d", t * 1000 }')
[ "$pms" -gt "$worst" ] && worst=$pms
echo "measured: GET 503=$n503/$n with-Retry-After=$nra/$n POST=$pcode slowest-answer=${worst}ms (timeout connect 2000ms)"
grep -E 'pool-down|server-down' "$TMPDIR/proxy.log"

[ "$n503" -eq "$n" ] || fail "only $n503 of $n GETs got 503 with every server down"
[ "$nra" -eq "$n" ] || fail "only $nra of $n 503s had Retry-After"
[ "$pcode" = 503 ] || fail "POST got $pcode with every server down, want 503"
grep -qi '^Retry-After: *[0-9]' "$TMPDIR/hp" || fail "the POST's 503 has no Retry-After"
[ "$worst" -lt 300 ] || fail "a 503 took ${worst}ms (want at once, < 300ms, well under timeout connect 2s)"
grep -q 'pool-down' "$TMPDIR/proxy.log" || fail "no pool-down event logged"
echo "PASS: everything down -> 503 + Retry-After at once"
