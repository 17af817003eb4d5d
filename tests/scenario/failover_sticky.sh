#!/usr/bin/env bash
# failover_sticky.sh: sticky sessions with real clients (curl cookie jars)
# through drain, disable and a killed server (CONTRACT section 12).
#   1. a client's jar gets the cookie; every later request goes to that
#      server (the backend's name in the body), the cookie names neither
#      server nor address, and the backend never sees it (/echo);
#   2. that server is drained through the admin API: the jar's requests
#      still go there (its cart finishes), new clients never do;
#   3. it is disabled: the jar's next request goes to the other server and
#      gets a new cookie, the ones after stay there without one;
#   4. re-enabled, then its backend killed: a jar stuck to it is balanced
#      to the other server and re-stuck (its cookie rewritten);
#   4b. a SIGHUP reload keeps the cookies valid (the process's random key
#      stays);
#   5. /api/stats counts exactly the hits and re-sticks the clients saw,
#      and /metrics has them as proxy_sticky_total;
#   6. max-conns: a sticky request whose server is full is balanced to the
#      other server at once and re-stuck (it does not wait for its server).
set -u
. "${TOPSRC:-$(cd "$(dirname "$0")/../.." && pwd)}/tests/support/lib.sh"

P=$(free_port); S=$(free_port); B1=$(free_port); B2=$(free_port); B3=$(free_port); B4=$(free_port)
TOKEN=t0k-sticky
cat >"$TMPDIR/proxy.conf" <<CONF
workers 2
access-log off
listen 127.0.0.1:$P
stats 127.0.0.1:$S token "$TOKEN"
pool web {
    check http /healthz
    interval 300ms
    check-timeout 250ms
    fall 2
    rise 2
    sticky cookie SRV max-age 1h
    server app1 127.0.0.1:$B1
    server app2 127.0.0.1:$B2
}
pool shop {
    check off
    sticky cookie SRV
    server shop1 127.0.0.1:$B3 max-conns 1
    server shop2 127.0.0.1:$B4 max-conns 1
}
route path /shop/ pool shop
route default pool web
CONF
start_backend "$B1" app1; PID1=$BACKEND_PID
start_backend "$B2" app2; PID2=$BACKEND_PID
start_backend "$B3" shop1
start_backend "$B4" shop2
start_proxy "$TMPDIR/proxy.conf" "$P" "$S"

# req JAR [PATH]: one request with the cookie jar JAR (created if need be);
# prints "SERVER SETCOOKIE" (SETCOOKIE 1 when the response set SRV) and
# notes in $TMPDIR/seen what the client saw (req runs in a subshell): a
# request that carried the cookie is a hit when nothing was set, a
# re-stick when a new one was.
req() {
    local jar=$1 had=0 out set=0
    grep -q 'SRV' "$jar" 2>/dev/null && had=1
    out=$(curl -s --max-time 5 -D "$jar.h" -c "$jar" -b "$jar" "http://127.0.0.1:$P${2:-/}") || out=ERR
    grep -qi '^Set-Cookie: SRV=' "$jar.h" && set=1
    if [ "$had" = 1 ]; then
        if [ "$set" = 1 ]; then echo restick; else echo hit; fi >>"$TMPDIR/seen${SEEN:-}"
    fi
    echo "$out $set"
}
cookie() { awk '$6 == "SRV" { print $7 }' "$1"; }
admin() {
    curl -s -o /dev/null -w '%{http_code}' --max-time 2 -X POST -H "Authorization: Bearer $TOKEN" \
        "http://127.0.0.1:$S/api/pools/web/servers/$1/$2"
}
other() { [ "$1" = app1 ] && echo app2 || echo app1; }

# 1. stick
read -r X set <<<"$(req "$TMPDIR/a.jar")"
[ "$set" = 1 ] || fail "step 1: the first response set no cookie"
Y=$(other "$X")
value=$(cookie "$TMPDIR/a.jar")
echo "step 1: client a stuck to $X with SRV=$value"
[ ${#value} -eq 16 ] || fail "step 1: cookie value '$value' is not 16 characters"
case "$value" in *app*|*127*|*"$B1"*|*"$B2"*) fail "step 1: the cookie '$value' shows a name or address" ;; esac
for i in $(seq 10); do
    read -r got set <<<"$(req "$TMPDIR/a.jar")"
    [ "$got" = "$X" ] && [ "$set" = 0 ] || fail "step 1: request $i with the cookie went to $got (set=$set), not $X"
done
echo=$(curl -s --max-time 5 -b "$TMPDIR/a.jar" -b "other=1" "http://127.0.0.1:$P/echo")
grep -qi '^cookie:' <<<"$echo" || fail "step 1: the client's other cookie did not reach the server: $echo"
grep -q 'SRV=' <<<"$echo" && fail "step 1: the server saw the sticky cookie: $echo"
echo hit >>"$TMPDIR/seen"
cp "$TMPDIR/a.jar" "$TMPDIR/c.jar" # another shopper on $X, for step 4

# 2. drain: the stuck client stays, new clients go elsewhere
[ "$(admin "$X" drain)" = 200 ] || fail "step 2: drain of $X refused"
for i in $(seq 10); do
    read -r got set <<<"$(req "$TMPDIR/a.jar")"
    [ "$got" = "$X" ] && [ "$set" = 0 ] || fail "step 2: sticky request $i went to $got (set=$set) while $X drains"
done
for i in $(seq 10); do
    read -r got set <<<"$(req "$TMPDIR/new$i.jar")"
    [ "$got" = "$Y" ] && [ "$set" = 1 ] || fail "step 2: new client $i went to $got (set=$set) while $X drains"
done
read -r got set <<<"$(req "$TMPDIR/new1.jar")"
[ "$got" = "$Y" ] && [ "$set" = 0 ] || fail "step 2: a new client did not stick to $Y: $got set=$set"
echo "step 2: $X draining: client a still on $X, 10 new clients on $Y"

# 3. disable: balanced elsewhere, cookie rewritten once
[ "$(admin "$X" disable)" = 200 ] || fail "step 3: disable of $X refused"
read -r got set <<<"$(req "$TMPDIR/a.jar")"
[ "$got" = "$Y" ] && [ "$set" = 1 ] || fail "step 3: with $X disabled, client a went to $got (set=$set)"
[ "$(cookie "$TMPDIR/a.jar")" != "$value" ] || fail "step 3: the cookie was not rewritten"
for i in $(seq 5); do
    read -r got set <<<"$(req "$TMPDIR/a.jar")"
    [ "$got" = "$Y" ] && [ "$set" = 0 ] || fail "step 3: re-stuck request $i went to $got (set=$set)"
done
echo "step 3: $X disabled: client a re-stuck to $Y"

# 4. enabled again, then killed: the shopper on it goes elsewhere
[ "$(admin "$X" enable)" = 200 ] || fail "step 4: enable of $X refused"
wait_for 5 stats_is "$S" 'srv("'"$X"'")["state"]' up || fail "step 4: $X not up after enable"
read -r got set <<<"$(req "$TMPDIR/c.jar")"
[ "$got" = "$X" ] && [ "$set" = 0 ] || fail "step 4: client c did not go back to $X: $got set=$set"
if [ "$X" = app1 ]; then KILL=$PID1; else KILL=$PID2; fi
{ kill -KILL "$KILL"; wait "$KILL"; } 2>/dev/null
read -r got set <<<"$(req "$TMPDIR/c.jar")"
[ "$got" = "$Y" ] && [ "$set" = 1 ] || fail "step 4: with $X killed, client c got '$got' (set=$set)"
wait_for 5 stats_is "$S" 'srv("'"$X"'")["state"]' down || fail "step 4: $X never marked down"
for i in $(seq 5); do
    read -r got set <<<"$(req "$TMPDIR/c.jar")"
    [ "$got" = "$Y" ] && [ "$set" = 0 ] || fail "step 4: client c request $i went to $got (set=$set)"
done
echo "step 4: $X killed: client c re-stuck to $Y"

# 4b. a reload (SIGHUP) keeps the random key: the cookies clients hold stay valid
kill -HUP "$PROXY_PID"
wait_for 5 stats_is "$S" 'j["generation"]' 2 || fail "step 4b: the reload did not happen"
for jar in a c; do
    read -r got set <<<"$(req "$TMPDIR/$jar.jar")"
    [ "$got" = "$Y" ] && [ "$set" = 0 ] || fail "step 4b: after a reload client $jar went to $got (set=$set)"
done
echo "step 4b: after a reload clients a and c still stuck to $Y"

# 5. the counts
HITS=$(grep -c '^hit$' "$TMPDIR/seen"); RESTICKS=$(grep -c '^restick$' "$TMPDIR/seen")
pool_counts() { stats_get "$S" '[(p["sticky"]["hits"], p["sticky"]["resticks"]) for p in j["pools"] if p["name"] == sys.argv[1]][0]' "$1"; }
st=$(pool_counts web)
metrics=$(curl -s --max-time 2 "http://127.0.0.1:$S/metrics" | grep '^proxy_sticky_total')
echo "measured: clients saw hits=$HITS resticks=$RESTICKS; /api/stats sticky hits resticks = $st"
echo "$metrics"
[ "$st" = "$HITS $RESTICKS" ] || fail "step 5: /api/stats says '$st', the clients saw '$HITS $RESTICKS'"
grep -qx "proxy_sticky_total{pool=\"web\",result=\"hit\"} $HITS" <<<"$metrics" || fail "step 5: metrics hit"
grep -qx "proxy_sticky_total{pool=\"web\",result=\"restick\"} $RESTICKS" <<<"$metrics" || fail "step 5: metrics restick"
# 6. a full server: balanced elsewhere at once, re-stuck
SEEN=.shop
read -r F set <<<"$(req "$TMPDIR/s.jar" /shop/)"
G=shop1; [ "$F" = shop1 ] && G=shop2
req "$TMPDIR/s.jar" "/shop/?delay=1500" >"$TMPDIR/slow.out" &
SLOW=$!; track "$SLOW"
wait_for 3 stats_is "$S" 'srv("shop", "'"$F"'")["active"]' 1 || fail "step 6: the slow request is not on $F"
t0=$(date +%s%N)
cp "$TMPDIR/s.jar" "$TMPDIR/s2.jar"
read -r got set <<<"$(req "$TMPDIR/s2.jar" /shop/)"
ms=$(( ($(date +%s%N) - t0) / 1000000 ))
wait "$SLOW"
read -r slow_got slow_set <"$TMPDIR/slow.out"
echo "measured: with $F at max-conns 1 the sticky request went to $got (set=$set) in ${ms}ms; the slow one on $slow_got"
[ "$slow_got" = "$F" ] && [ "$slow_set" = 0 ] || fail "step 6: the slow sticky request went to $slow_got (set=$slow_set)"
[ "$got" = "$G" ] && [ "$set" = 1 ] || fail "step 6: with $F full the sticky request went to $got (set=$set), want $G re-stuck"
[ "$ms" -lt 1000 ] || fail "step 6: the request waited ${ms}ms for its full server"
HITS=$(grep -c '^hit$' "$TMPDIR/seen.shop"); RESTICKS=$(grep -c '^restick$' "$TMPDIR/seen.shop")
st=$(pool_counts shop)
[ "$st" = "$HITS $RESTICKS" ] || fail "step 6: /api/stats says '$st' for shop, the clients saw '$HITS $RESTICKS'"
echo "PASS: sticky cookie through drain (kept), disable and kill (re-stuck), a full server (re-stuck at once), counted in stats"
