#!/usr/bin/env bash
# scenario: alone
# h2_limits: what CONTRACT 8 says of the http2 settings and of
# `limit header-size` on a stream (python3-h2, raw frames).
#   - a proxy with no `http2` line advertises the defaults in its SETTINGS:
#     MAX_CONCURRENT_STREAMS 100 (http2 max-streams 100) and
#     INITIAL_WINDOW_SIZE 65536 (http2 window 64k), and `limit header-size`
#     as MAX_HEADER_LIST_SIZE;
#   - `http2 window 1m` and `http2 max-streams 7` (a second proxy) are
#     what its SETTINGS say;
#   - a stream whose decoded header list is over `limit header-size` (one
#     2000-byte field, limit 1k) is answered 431 on that stream, nothing of
#     it reaches the server, and the next stream of the same connection
#     gets its 200;
#   - streams are retried and limited as HTTP/1.1 requests are: on one
#     connection to a proxy with `limit rate 1/m burst 2` and a pool whose
#     round-robin sends one of the first two streams to a closed port
#     (retries 1), streams 1 and 3 get the live server's 200, stream 5 a
#     429 with retry-after (about 60 s) and the `error-page 429` page as
#     text/html;
#   - and queued: streams to a server with max-conns 1 wait in its pool's
#     queue (two 300 ms requests at once: both 200, the second after the
#     first), and past `timeout queue` a waiting stream gets 503.
set -u
. "${TOPSRC:-$(cd "$(dirname "$0")/../.." && pwd)}/tests/support/lib.sh"
need_python_h2

P=$(free_port); Q=$(free_port); R=$(free_port); S=$(free_port); B=$(free_port); DEAD=$(free_port)
start_backend "$B" app
proxy_conf_basic "$TMPDIR/p.conf" "$P" "app 127.0.0.1:$B" "workers 1" "access-log stderr" "limit header-size 1k" \
    "stats 127.0.0.1:$S"
cat >"$TMPDIR/q.conf" <<CONF
workers 1
access-log off
http2 window 1m
http2 max-streams 7
limit headers 12
timeout queue 500ms
listen 127.0.0.1:$Q
route path /q/ pool one
route default pool web
pool web {
    check off
    server app 127.0.0.1:$B
}
pool one {
    check off
    server app1 127.0.0.1:$B max-conns 1
}
CONF
printf '<html><body>slow down</body></html>\n' >"$TMPDIR/busy.html"
cat >"$TMPDIR/r.conf" <<CONF
workers 1
access-log off
limit rate 1/m burst 2
error-page 429 busy.html
listen 127.0.0.1:$R
pool web {
    check off
    balance round-robin
    retries 1
    server gone 127.0.0.1:$DEAD
    server app 127.0.0.1:$B
}
CONF
start_proxy "$TMPDIR/p.conf" "$P" "$S"
P_PID=$PROXY_PID
"$PROXY" -c "$TMPDIR/q.conf" >"$TMPDIR/q.log" 2>&1 &
Q_PID=$!
track "$Q_PID"
wait_port "$Q" 5 "$Q_PID" || fail "the second proxy did not start: $(cat "$TMPDIR/q.log")"
"$PROXY" -c "$TMPDIR/r.conf" >"$TMPDIR/r.log" 2>&1 &
R_PID=$!
track "$R_PID"
wait_port "$R" 5 "$R_PID" || fail "the third proxy did not start: $(cat "$TMPDIR/r.log")"

H2LIM=("$PY" "$TOPSRC/tests/scenario/h2_limits.py")  # its modes: see its header

got=$("${H2LIM[@]}" settings "$P") || fail "settings: $got"
echo "measured: defaults: $got"
[ "$got" = "max_streams=100 window=65536 header_list=1024" ] ||
    fail "SETTINGS of a proxy with no http2 line: '$got', expected max_streams=100 window=65536 header_list=1024"
got=$("${H2LIM[@]}" settings "$Q") || fail "settings: $got"
echo "measured: http2 window 1m, max-streams 7: $got"
case "$got" in "max_streams=7 window=1048576 "*) ;; *)
    fail "SETTINGS with http2 window 1m and max-streams 7: '$got'" ;; esac

got=$("${H2LIM[@]}" big "$P") || fail "big: $got"
echo "measured: $(echo "$got" | tr '\n' ';')"
[ "$got" = $'stream 1 status=431\nstream 3 status=200' ] ||
    fail "a stream over limit header-size: got '$got', expected stream 1 status=431 and stream 3 status=200"
wait_for 3 grep -q '"GET /after HTTP/2.0" 200' "$TMPDIR/proxy.log" || fail "no access-log line for GET /after"
served=$(stats_get "$S" 'j["pools"][0]["servers"][0]["requests"]')
[ "$served" = 1 ] || fail "the server was sent $served requests, expected 1 (GET /after only)"

got=$("${H2LIM[@]}" early "$P") || fail "early: $got"
echo "measured: $(echo "$got" | tr '\n' ';')"
echo "$got" | grep -q '^stream 1 status=431 data=0 ended$' || fail "a HEAD over limit header-size: '$got', expected its 431 without DATA"
echo "$got" | grep -q '^stream 3 status=414 ' || fail "a :path alone over limit header-size: '$got', expected 414"
# limit headers 12 counts the HTTP/1.1 head's fields: Host, the stream's
# own, one Cookie however many crumbs (neither pseudo-headers nor crumbs).
for n_want in "10 200" "11 431"; do
    got=$("${H2LIM[@]}" fields "$Q" "${n_want% *}" 8) || fail "fields: $got"
    [ "$got" = "stream 1 status=${n_want#* }" ] ||
        fail "${n_want% *} fields and a cookie in 8 crumbs, limit headers 12: '$got', expected status=${n_want#* }"
done
echo "measured: limit headers 12: 10 fields + 8 crumbs served, 11 + 8 refused"

got=$("${H2LIM[@]}" seq "$R" 3) || fail "seq: $got"
echo "measured: $(echo "$got" | tr '\n' ';')"
echo "$got" | sed -n 1p | grep -q '^stream 1 status=200 .* body=app' || fail "stream 1 (retried or not): '$got'"
echo "$got" | sed -n 2p | grep -q '^stream 3 status=200 .* body=app' || fail "stream 3 (retried or not): '$got'"
echo "$got" | sed -n 3p | grep -Eq '^stream 5 status=429 retry-after=(5[0-9]|60) type=text/html body=<html><body>slow down</body></html>$' ||
    fail "stream 5 past limit rate: '$(echo "$got" | sed -n 3p)', expected 429, retry-after about 60, the error page"

# Queued: max-conns 1, two streams of 300 ms at once.
got=$("${H2LIM[@]}" par "$Q" 2 "/q/?delay=300") || fail "par: $got"
echo "measured: queued: $(echo "$got" | tr '\n' ';')"
read -r _ _ st1 ms1 _ _ st2 ms2 <<<"$(echo "$got" | tr '\n' ' ' | sed 's/status=//g; s/ms=//g')"
[ "$st1 $st2" = "200 200" ] || fail "two streams to a server with max-conns 1: '$got', expected both 200"
a=$ms1; [ "$ms2" -lt "$a" ] && a=$ms2; z=$((ms1 + ms2 - a))
[ "$z" -ge 550 ] || fail "the second stream ended after $z ms: it did not wait for the first (max-conns 1)"
# Past timeout queue (500 ms): three streams of 1500 ms, the first is
# served, the two waiting get 503.
got=$("${H2LIM[@]}" par "$Q" 3 "/q/?delay=1500") || fail "par: $got"
echo "measured: timeout queue: $(echo "$got" | tr '\n' ';')"
n200=$(echo "$got" | grep -c 'status=200'); n503=$(echo "$got" | grep -c 'status=503')
[ "$n200 $n503" = "1 2" ] || fail "three 1.5 s streams, max-conns 1, timeout queue 500ms: '$got', expected one 200 and two 503"

stop_pid "$R_PID"
stop_pid "$Q_PID"
stop_pid "$P_PID"
echo "PASS: http2 defaults and settings advertised, 431 on a stream over limit header-size, the next stream served, streams retried, limited and queued"
