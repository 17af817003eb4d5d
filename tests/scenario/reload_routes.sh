#!/usr/bin/env bash
# reload_routes.sh: routes changed by SIGHUP.
#   Before: everything goes to pool web (server a).
#   After:  route path /api/ pool api (server b), default web.
# A client keep-alive connection opened before the reload (python3
# http.client, one socket) must stay open, and its next request must follow
# the new routes.  A slow request in flight across the reload must finish
# (200, on the generation it began with: server a).
# Then the route and pool api are removed (a slow request in flight on it
# must finish): the same connection goes back to web.
# Ports 25110-25119.
set -u
. "${TOPSRC:-$(cd "$(dirname "$0")/../.." && pwd)}/tests/scenario/reload_lib.bash"

P=25110 STATS=25111 A=25112 B=25113
ports_free $P $STATS $A $B
CONF=$TMPDIR/proxy.conf

write_conf() { # route lines...
    {
        echo "workers 2"
        echo "access-log off"
        echo "listen 127.0.0.1:$P"
        echo "stats 127.0.0.1:$STATS"
        echo "timeout keep-alive 30s"
        echo "pool web {"
        echo "    server a 127.0.0.1:$A"
        echo "}"
        if [ "${NO_API:-}" != 1 ]; then
            echo "pool api {"
            echo "    server b 127.0.0.1:$B"
            echo "}"
        fi
        for r in "$@"; do echo "route $r"; done
    } >"$CONF"
}

start_backend $A a
start_backend $B b
write_conf "default pool web"
start_proxy "$CONF" $P
wait_port $STATS 3 || fail "stats port $STATS not open"

ka_open $P

r1=$(ka_ask /api/users); echo "before reload: $r1"
r2=$(ka_ask /); echo "before reload: $r2"
sock=$(echo "$r1" | awk '{print $4}')
[ "$(echo "$r1" | awk '{print $2, $3}')" = "200 a" ] || fail "before the reload /api/users should go to a: $r1"

# A slow request in flight across the reload.
curl -s -o /dev/null -w '%{http_code} %header{x-server}\n' --max-time 10 \
    "http://127.0.0.1:$P/api/slow?delay=1500" >"$TMPDIR/slow.out" 2>&1 &
CPID=$!
track $CPID
sleep 0.3

write_conf "path /api/ pool api" "default pool web"
hup_wait
echo "reloaded: generation $(gen)"

r3=$(ka_ask /api/users); echo "after reload:  $r3"
r4=$(ka_ask /); echo "after reload:  $r4"
wait $CPID
slow=$(cat "$TMPDIR/slow.out")
echo "slow request in flight across the reload: $slow"

for r in "$r3" "$r4"; do
    echo "$r" | grep -q ' ERR ' && fail "the kept connection failed after the reload: $r"
    [ "$(echo "$r" | awk '{print $4}')" = "$sock" ] || fail "not the same client connection any more: $r (was $sock)"
done
[ "$(echo "$r3" | awk '{print $2, $3}')" = "200 b" ] || fail "after the reload /api/users on the kept connection should go to pool api (b): $r3"
[ "$(echo "$r4" | awk '{print $2, $3}')" = "200 a" ] || fail "after the reload / should still go to web (a): $r4"
[ "$slow" = "200 a" ] || fail "the request in flight across the reload got '$slow', want '200 a'"

# New connections follow the new routes too.
r=$(hits $P 10 /api/x); echo "new connections, /api/x: $r"
[ "$r" = "ok=10 fail=0 servers=b:10" ] || fail "new connections: /api/x should all go to b: $r"

# And back: drop the route and the whole pool api, while a slow request is
# in flight on it (it must finish on b).
curl -s -o /dev/null -w '%{http_code} %header{x-server}\n' --max-time 10 \
    "http://127.0.0.1:$P/api/slow?delay=1500" >"$TMPDIR/slow2.out" 2>&1 &
CPID=$!
track $CPID
sleep 0.3
NO_API=1 write_conf "default pool web"
hup_wait
r5=$(ka_ask /api/users); echo "route and pool api removed: $r5"
wait $CPID
slow=$(cat "$TMPDIR/slow2.out")
echo "slow request in flight on the removed pool: $slow"
[ "$slow" = "200 b" ] || fail "the request in flight on the removed pool api got '$slow', want '200 b'"
[ "$(echo "$r5" | awk '{print $2, $3, $4}')" = "200 a $sock" ] || fail "after removing the route the kept connection should go to a: $r5"

ka_close
echo "PASS: kept connection survived 2 reloads and followed the new routes"
