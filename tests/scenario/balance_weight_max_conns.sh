#!/usr/bin/env bash
# balance_weight_max_conns.sh: least-conn with weights and a per-server
# max-conns, under real concurrent traffic through two workers
# (CONTRACT.md section 3 "Least-connections", section 2 `weight`, `max-conns`).
#
# Pool w: app1 weight 3, app2 weight 1.  12 slow requests (1.5 s) arrive one
#   after the other and are all in flight together: least-conn by in-flight
#   requests relative to weight gives app1 9 and app2 3 (+-1 for the order
#   in which ties rotate).  Unweighted it would be 6/6.
# Pool m: m1 weight 10 max-conns 2, m2 weight 1.  6 slow requests in flight
#   together: m1's weight would give it nearly all of them, but it is skipped
#   once it holds 2, so m1 gets exactly 2 and m2 4; /api/stats shows m1
#   with active 2 and max_conns 2 meanwhile.
set -u
. "${TOPSRC:-$(cd "$(dirname "$0")/../.." && pwd)}/tests/support/lib.sh"

P=$(free_port); S=$(free_port); B1=$(free_port); B2=$(free_port); B3=$(free_port); B4=$(free_port)
cat >"$TMPDIR/proxy.conf" <<CONF
workers 2
access-log off
listen 127.0.0.1:$P
stats 127.0.0.1:$S
pool w {
    balance least-conn
    check off
    server app1 127.0.0.1:$B1 weight 3
    server app2 127.0.0.1:$B2
}
pool m {
    balance least-conn
    check off
    server m1 127.0.0.1:$B3 weight 10 max-conns 2
    server m2 127.0.0.1:$B4
}
route path /m/ pool m
route default pool w
CONF
start_backend "$B1" app1; start_backend "$B2" app2
start_backend "$B3" m1; start_backend "$B4" m2
start_proxy "$TMPDIR/proxy.conf" "$P" "$S"

# burst N PATH DIR: N concurrent requests (new connections, 30 ms apart so
# each is in flight before the next arrives); writes each X-Server to DIR.
burst() {
    local n=$1 path=$2 dir=$3 i pids=()
    mkdir -p "$dir"
    for i in $(seq "$n"); do
        curl -s -m 6 -D "$dir/h$i" -o /dev/null "http://127.0.0.1:$P$path" &
        pids+=($!)
        sleep 0.03
    done
    echo "${pids[@]}" >"$dir/pids"
}
servers_of() { cat "$1"/h* | tr -d '\r' | sed -n 's/^X-Server: //Ip' | sort | uniq -c | awk '{ printf "%s=%s ", $2, $1 }'; }
count() { cat "$1"/h* | tr -d '\r' | grep -ci "^X-Server: $2\$"; }
codes_ok() { [ "$(cat "$1"/h* | tr -d '\r' | grep -c '^HTTP/1.1 200')" = "$2" ]; }

# ---- weights ----
burst 12 "/w?delay=1500" "$TMPDIR/w"
wait $(cat "$TMPDIR/w/pids")
codes_ok "$TMPDIR/w" 12 || fail "weighted pool: not 12 answers of 200: $(grep -h '^HTTP' "$TMPDIR"/w/h*)"
echo "weighted (3:1), 12 in flight together: $(servers_of "$TMPDIR/w")"
a1=$(count "$TMPDIR/w" app1)
[ "$a1" -ge 8 ] && [ "$a1" -le 10 ] || fail "app1 (weight 3) got $a1 of 12 concurrent requests, want 9 (+-1)"

# ---- per-server max-conns ----
burst 6 "/m/x?delay=1500" "$TMPDIR/m"
sleep 0.5   # the 6 requests are in flight for 1.5 s; read the stats meanwhile
mstat=$(stats_get "$S" 'srv("m", "m1")["active"], srv("m", "m1")["max_conns"]')
wait $(cat "$TMPDIR/m/pids")
codes_ok "$TMPDIR/m" 6 || fail "max-conns pool: not 6 answers of 200: $(grep -h '^HTTP' "$TMPDIR"/m/h*)"
echo "m1 weight 10 max-conns 2, 6 in flight together: $(servers_of "$TMPDIR/m"); m1 active/max_conns while in flight: $mstat"
[ "$(count "$TMPDIR/m" m1)" = 2 ] || fail "m1 (max-conns 2) got $(count "$TMPDIR/m" m1) of 6 concurrent requests, want exactly 2"
[ "$mstat" = "2 2" ] || fail "/api/stats m1 active/max_conns while full: $mstat, want '2 2'"
echo "PASS: weights shape least-conn; a server at max-conns is skipped"
