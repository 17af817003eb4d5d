#!/usr/bin/env bash
# failover_queue_wake.sh: requests waiting in a pool's queue go to a server
# as soon as one comes up, not when the full server frees a slot.
#
# app1 has max-conns 1 and is busy with a 4 s request; app2 is down (its
# health check fails).  Three more requests queue (timeout queue 10s).  Then
# app2's check passes: within rise x interval (2 x 100ms) plus a little,
# the three queued requests are answered by app2 - long before app1's slow
# request ends (before, they waited for app1's slot and were served one by
# one after it).  Part 2: the same with a reload that adds a server: the
# queued requests (and one arriving after the reload) go to the new server.
set -u
. "${TOPSRC:-$(cd "$(dirname "$0")/../.." && pwd)}/tests/support/lib.sh"

P=$(free_port); B1=$(free_port); B2=$(free_port)
: >"$TMPDIR/app2.fail"
start_backend "$B1" app1
start_backend "$B2" app2 -f "$TMPDIR/app2.fail"
cat >"$TMPDIR/proxy.conf" <<CONF
workers 2
access-log off
listen 127.0.0.1:$P
timeout queue 10s
timeout server 10s
pool web {
    check http /healthz
    interval 100ms
    rise 2
    fall 1
    server app1 127.0.0.1:$B1 max-conns 1
    server app2 127.0.0.1:$B2
}
CONF
start_proxy "$TMPDIR/proxy.conf" "$P"
# app2 starts up and must be seen down first.
wait_for 5 sh -c "for i in 1 2 3 4; do curl -s 'http://127.0.0.1:$P/?delay=1' | grep -q app2 && exit 1; done; exit 0" ||
    fail "app2 never went down"
sleep 0.3

curl -s -o "$TMPDIR/slow.out" -w '%{http_code}' "http://127.0.0.1:$P/slow?delay=4000" >"$TMPDIR/slow.code" &
track $!
sleep 0.3   # app1's only slot is taken
T0=$(date +%s.%N)
for i in 1 2 3; do
    curl -s -o "$TMPDIR/q$i.out" -w '%{http_code} %{time_total}' "http://127.0.0.1:$P/q$i" >"$TMPDIR/q$i.code" &
    track $!
done
sleep 0.5   # they are queued now
rm -f "$TMPDIR/app2.fail"
for i in 1 2 3; do
    wait_for 3 test -s "$TMPDIR/q$i.code" || fail "queued request $i not answered 3 s after app2 came back"
done
T1=$(date +%s.%N)
for i in 1 2 3; do
    [ "$(cut -d' ' -f1 "$TMPDIR/q$i.code")" = 200 ] || fail "queued request $i: $(cat "$TMPDIR/q$i.code")"
    grep -q app2 "$TMPDIR/q$i.out" || fail "queued request $i was served by $(cat "$TMPDIR/q$i.out")"
done
[ -s "$TMPDIR/slow.code" ] && fail "the slow request ended already: the test proves nothing"
echo "3 queued requests answered by app2 $(python3 -c "print('%.2f' % ($T1 - $T0))") s after queueing (app2 back after 0.5 s; app1 busy for 4 s)"

# ---- part 2: a reload adds the server ----
stop_pid "$PROXY_PID"
P2=$(free_port); B3=$(free_port)
start_backend "$B3" app3
write_pool() { # extra server line
    cat >"$TMPDIR/reload.conf" <<CONF
workers 2
access-log off
listen 127.0.0.1:$P2
timeout queue 10s
timeout server 10s
pool web {
    check off
    server app1 127.0.0.1:$B1 max-conns 1
$1
}
CONF
}
write_pool ""
start_proxy "$TMPDIR/reload.conf" "$P2"
curl -s -o /dev/null "http://127.0.0.1:$P2/slow?delay=4000" &
track $!
sleep 0.3
for i in 1 2 3; do
    rm -f "$TMPDIR/r$i.code"
    curl -s -o "$TMPDIR/r$i.out" -w '%{http_code}' "http://127.0.0.1:$P2/r$i" >"$TMPDIR/r$i.code" &
    track $!
done
sleep 0.5
write_pool "    server app3 127.0.0.1:$B3"
kill -HUP "$PROXY_PID"
for i in 1 2 3; do
    wait_for 2 test -s "$TMPDIR/r$i.code" || fail "queued request $i not answered 2 s after the reload added app3"
    grep -q app3 "$TMPDIR/r$i.out" || fail "queued request $i was served by $(cat "$TMPDIR/r$i.out") after the reload"
done
t=$(curl -s -o "$TMPDIR/late.out" -w '%{time_total}' "http://127.0.0.1:$P2/late")
grep -q app3 "$TMPDIR/late.out" || fail "a request after the reload went to $(cat "$TMPDIR/late.out")"
python3 -c "import sys; sys.exit(0 if float('$t') < 1.0 else 1)" || fail "a request after the reload waited $t s"
echo "after the reload: 3 queued requests and a new one served by app3 (the new one in $t s)"
echo "PASS"
