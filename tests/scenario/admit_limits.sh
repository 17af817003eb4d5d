#!/usr/bin/env bash
# scenario: alone
# admit_limits.sh: the per-client limits of CONTRACT section 9 with many
# client addresses (127.0.0.2 ... 127.0.0.21) and 2 workers: `limit rate`
# gives each client exactly its burst then 429 with Retry-After, whichever
# worker its connections land on (one shared table); a trusted address is
# never limited; behind a trusted CDN peer the client is the last
# X-Forwarded-For address (limited, logged and forwarded as that), while a
# forged X-Forwarded-For from an untrusted peer changes nothing; `limit
# client-conns` closes a client's connection beyond N at once, counted
# across workers; the stats count it all.
set -u
. "${TOPSRC:-$(cd "$(dirname "$0")/../.." && pwd)}/tests/support/lib.sh"
CLIENTS="python3 $TOPSRC/tests/scenario/admit_clients.py"

P=$(free_port); B=$(free_port); ST=$(free_port)
start_backend "$B" app1
# One token a minute: nothing refills while the test runs, so each client
# gets exactly its burst of 5.
cat >"$TMPDIR/proxy.conf" <<CONF
workers 2
access-log $TMPDIR/access.log
listen 127.0.0.1:$P
stats 127.0.0.1:$ST
limit rate 1/m burst 5
limit client-conns 3
trust 127.0.0.40
client-ip header X-Forwarded-For from 127.0.0.50
pool web {
    check off
    server app1 127.0.0.1:$B
}
route path /echo pool web
route default pool web
CONF
start_proxy "$TMPDIR/proxy.conf" "$P" "$ST"

# ---- limit rate across workers: 20 clients, 8 requests each on new connections
$CLIENTS requests "$P" 2 21 8 >"$TMPDIR/rate.out" || fail "clients failed: $(cat "$TMPDIR/rate.out")"
bad=$(grep -v '^total' "$TMPDIR/rate.out" | grep -vc ' 200=5 429=3 retry_after=\(5[0-9]\|60\)$')
[ "$bad" = 0 ] || fail "not every client got exactly 5 x 200 then 3 x 429 with Retry-After ~60: $(cat "$TMPDIR/rate.out")"
grep -q '^total 200=100 429=60$' "$TMPDIR/rate.out" || fail "totals: $(tail -1 "$TMPDIR/rate.out")"
# (160 new connections over 2 workers: the least loaded takes each, so a
# client's requests land on both; the one table makes the count exact.)
echo "limit rate: 20 clients x (5 x 200, 3 x 429) over 2 workers"

# ---- trust: never limited
$CLIENTS requests "$P" 40 40 12 >"$TMPDIR/trust.out"
grep -q '^127.0.0.40 200=12 ' "$TMPDIR/trust.out" || fail "a trusted client was limited: $(cat "$TMPDIR/trust.out")"

# ---- client-ip: behind the trusted peer 127.0.0.50, the last XFF address is the client
$CLIENTS requests "$P" 50 50 7 /echo --header "X-Forwarded-For: 192.0.2.1, 198.51.100.7" >"$TMPDIR/xff1.out"
grep -q '^127.0.0.50 200=5 429=2 ' "$TMPDIR/xff1.out" || fail "198.51.100.7 via the CDN: $(cat "$TMPDIR/xff1.out")"
$CLIENTS requests "$P" 50 50 3 /echo --header "X-Forwarded-For: 198.51.100.8" >"$TMPDIR/xff2.out"
grep -q '^127.0.0.50 200=3 ' "$TMPDIR/xff2.out" || fail "another client behind the same CDN peer was limited: $(cat "$TMPDIR/xff2.out")"
grep -q '^198.51.100.7 .*"GET /echo HTTP/1.1" 429 ' "$TMPDIR/access.log" || fail "the access log does not show the real client 198.51.100.7"
# What the server sees: X-Forwarded-For ends with the real client.
xff=$(curl -s --interface 127.0.0.50 -H 'X-Forwarded-For: 198.51.100.9' "http://127.0.0.1:$P/echo" | tr -d '\r' | grep -i '^x-forwarded-for:')
[ "$xff" = "X-Forwarded-For: 198.51.100.9, 198.51.100.9" ] || fail "forwarded: $xff"

# ---- a forged X-Forwarded-For from an untrusted peer changes nothing
for i in 1 2 3 4 5 6 7 8 9 10; do
    curl -s -o /dev/null -w '%{http_code}\n' --interface 127.0.0.60 -H "X-Forwarded-For: 10.0.0.$i" "http://127.0.0.1:$P/"
done >"$TMPDIR/forged.out"
[ "$(tr '\n' ' ' <"$TMPDIR/forged.out")" = "200 200 200 200 200 429 429 429 429 429 " ] ||
    fail "forged X-Forwarded-For escaped the limit: $(tr '\n' ' ' <"$TMPDIR/forged.out")"
grep -q '^127.0.0.60 .* 429 ' "$TMPDIR/access.log" || fail "the access log shows a forged address"
echo "trust, client-ip and forged X-Forwarded-For: as expected"

# ---- limit client-conns 3, across workers
$CLIENTS conns "$P" 127.0.0.70 5 3 >"$TMPDIR/conns.out" &
CONNS_PID=$!
track "$CONNS_PID"
wait_for 10 grep -q opened "$TMPDIR/conns.out" || fail "conns helper said nothing"
grep -q '^opened=3 refused=2$' "$TMPDIR/conns.out" || fail "client-conns 3: $(cat "$TMPDIR/conns.out")"
# Another client is not affected meanwhile.
[ "$(curl -s -o /dev/null -w '%{http_code}' --interface 127.0.0.71 "http://127.0.0.1:$P/")" = 200 ] ||
    fail "another client was refused while 127.0.0.70 held its 3"
wait "$CONNS_PID"
# Once they are closed, the client may connect again.
wait_for 5 sh -c "$CLIENTS conns $P 127.0.0.70 1 0 | grep -q 'opened=1 refused=0'" ||
    fail "client-conns did not give the slots back"
echo "limit client-conns: 3 held, 2 closed at once, slots given back"

# ---- stats
limited=$(stats_get "$ST" "j['limits']['limited_total']")
[ "$limited" = $((60 + 2 + 5 + 2)) ] || fail "limits.limited_total $limited, want 69: $(stats_dump "$ST" | head -c 600)"
[ "$(stats_get "$ST" "j['limits']['limited']['client_conns']")" = 2 ] || fail "limited.client_conns"
tracked=$(stats_get "$ST" "j['limits']['clients_tracked']")
[ "$tracked" -ge 25 ] || fail "clients_tracked $tracked"
[ "$(stats_get "$ST" "[r['limited'] for r in j['routes'] if r['match'] == 'default'][0]")" = 65 ] ||
    fail "route default limited: $(stats_get "$ST" "j['routes']")"
[ "$(stats_get "$ST" "[r['limited'] for r in j['routes'] if r['match'] == 'path /echo'][0]")" = 2 ] ||
    fail "route /echo limited: $(stats_get "$ST" "j['routes']")"
# The most limited first: the forged-header client (5), then 3s (a tie).
[ "$(stats_get "$ST" "j['limits']['top_limited'][0]['client'], j['limits']['top_limited'][0]['limited'], j['limits']['top_limited'][1]['limited'], len(j['limits']['top_limited'])")" = "127.0.0.60 5 3 10" ] ||
    fail "top_limited: $(stats_get "$ST" "j['limits']['top_limited']")"
curl -s "http://127.0.0.1:$ST/metrics" >"$TMPDIR/metrics"
grep -q '^proxy_limited_total{route="default",reason="rate"} 65$' "$TMPDIR/metrics" || fail "metrics: $(grep limited "$TMPDIR/metrics")"
grep -q '^proxy_limited_total{route="",reason="client-conns"} 2$' "$TMPDIR/metrics" || fail "metrics client-conns"
grep -q '^proxy_clients_tracked [0-9]' "$TMPDIR/metrics" || fail "proxy_clients_tracked"

# ---- the dashboard shows the limited requests per route
CHROMIUM=${CHROMIUM:-/usr/bin/chromium}
[ -x "$CHROMIUM" ] || fail "needs $CHROMIUM for the dashboard check (make deps installs it)"
timeout 60 "$CHROMIUM" --headless --no-sandbox --disable-gpu --no-first-run --disable-background-networking \
    --disable-component-update --disable-sync --disable-dev-shm-usage \
    --user-data-dir="$(mktemp -d "$TMPDIR/chr.XXXX")" --virtual-time-budget=3000 --dump-dom \
    "http://127.0.0.1:$ST/" >"$TMPDIR/dom.html" 2>"$TMPDIR/chromium.log" || fail "chromium: $(tail -3 "$TMPDIR/chromium.log")"
tr -d '\n' <"$TMPDIR/dom.html" | grep -q '<tr class="route route-limited"><td>default</td><td>web</td><td>normal</td><td class="num">[0-9]*</td><td class="num route-limited-count">65</td></tr>' ||
    fail "the dashboard's routes table: $(grep -o '<table id="routes".*</table>' "$TMPDIR/dom.html" | head -c 600)"
grep -q 'id="limited-total">69<' "$TMPDIR/dom.html" || fail "the dashboard's limited card"
echo "dashboard: routes with their limited requests, limited total 69"
echo "PASS: limits across workers, trust, client-ip, client-conns and their stats"
