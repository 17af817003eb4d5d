#!/usr/bin/env bash
# deploy_host_names.sh: servers given by host name (CONTRACT section 12).
# A DNS server of the test's on loopback (deploy_dns.py, pointed at with
# PROXY_DNS_SERVERS) answers for app.test and later.test; a hosts file of
# the test's (CARES_HOSTS, in place of /etc/hosts, which stays untouched)
# has hosts.test.  Backend A listens on 127.0.0.2:B, backend B on
# 127.0.0.3:B, so a name moves between them by its answer alone.
#  - `proxy -t` passes with a name that does not resolve, asking no one;
#  - app.test -> A: traffic goes to A; stats show the address and the name;
#  - later.test (no such name): its server is down from the start, the
#    reason in its check status, a server-down event;
#  - hosts.test comes from the hosts file;
#  - app.test -> B: nothing moves under `resolve interval 1h` until a
#    reload resolves again; then traffic goes to B and the idle
#    connections to A are closed;
#  - `resolve interval 1s` (reloaded): a new answer is taken within it;
#    later.test appears: its server comes up through its checks;
#  - app.test vanishes (NXDOMAIN): down, with the reason and an event;
#    it resolves again: back up;
#  - A answered SERVFAIL while AAAA is empty: the address stays (a
#    resolver's failure); no address of either family: down.
set -u
. "${TOPSRC:-$(cd "$(dirname "$0")/../.." && pwd)}/tests/support/lib.sh"

P=$(free_port); ST=$(free_port); B=$(free_port); DNS=$(free_port)
ZONE=$TMPDIR/zone; CONF=$TMPDIR/proxy.conf; LOG=$TMPDIR/proxy.log

zone() {   # the DNS answers from now on (renamed over: never half-written)
    printf '%s\n' "$@" >"$ZONE.new" && mv "$ZONE.new" "$ZONE"
}

for who in A:127.0.0.2 B:127.0.0.3; do
    "$BACKEND" -q -p "$B" -a "${who#*:}" -n "${who%%:*}" >"$TMPDIR/backend-${who%%:*}.log" 2>&1 &
    track $!
    wait_for 5 bash -c "exec 3<>/dev/tcp/${who#*:}/$B" 2>/dev/null || fail "backend ${who%%:*} did not start"
done
zone "app.test 127.0.0.2"
python3 "$TOPSRC/tests/scenario/deploy_dns.py" --port "$DNS" --zone "$ZONE" >"$TMPDIR/dns.log" 2>&1 &
track $!
wait_for 5 grep -q '^ready' "$TMPDIR/dns.log" || fail "the test DNS server did not start"
printf 'nameserver 127.0.0.1\noptions timeout:1 attempts:2\n' >"$TMPDIR/resolv.conf"
echo "127.0.0.3 hosts.test" >"$TMPDIR/hosts"
export PROXY_DNS_SERVERS=127.0.0.1:$DNS PROXY_RESOLV_CONF=$TMPDIR/resolv.conf CARES_HOSTS=$TMPDIR/hosts

write_conf() {   # resolve interval
    cat >"$CONF" <<EOF
workers 2
access-log off
listen 127.0.0.1:$P
stats 127.0.0.1:$ST
resolve interval $1
pool web {
    check tcp
    interval 200ms
    fall 1
    server app app.test:$B
}
pool late {
    check tcp
    interval 200ms
    server later later.test:$B
}
pool local {
    check tcp
    interval 200ms
    server h hosts.test:$B
}
route host later.example pool late
route host hosts.example pool local
route default pool web
EOF
}

# Who answers N requests: "A A A ..." squeezed to the distinct names.
answers() {
    local i
    for i in $(seq "${2:-10}"); do curl -s --max-time 2 -H "Host: ${1:-x.example}" "http://127.0.0.1:$P/"; done |
        sort -u | tr '\n' ' ' | sed 's/ $//'
}
# The proxy's established connections to IP:B (its side, by its pid).
conns_to() {
    ss -Htnp state established dst "$1:$B" 2>/dev/null | grep -c "pid=$PROXY_PID,"
}
app() { stats_get "$ST" "srv('web', 'app')$1"; }

write_conf 1h
out=$("$PROXY" -t -c "$CONF" 2>&1) || fail "proxy -t failed on a name that does not resolve: $out"
echo "$out" | grep -q "configuration OK" || fail "proxy -t said: $out"
! grep -q '^query' "$TMPDIR/dns.log" || fail "proxy -t asked the DNS: $(cat "$TMPDIR/dns.log")"
echo "proxy -t: configuration OK, no DNS query"

start_proxy "$CONF" "$P" "$ST"
[ "$(answers)" = A ] || fail "app.test -> 127.0.0.2: answers from '$(answers)', not A"
[ "$(app "['address'], srv('web', 'app')['host'], srv('web', 'app')['state']")" = "127.0.0.2:$B app.test up" ] ||
    fail "stats of app: $(app '')"
echo "app.test -> A: traffic to A; stats address 127.0.0.2:$B host app.test"

later() { stats_get "$ST" "srv('late', 'later')$1"; }
[ "$(later "['state'], srv('late', 'later')['check']['status'], repr(srv('late', 'later')['address'])")" = "down fail ''" ] ||
    fail "later.test (no such name) is not down: $(later '')"
[ "$(later "['check']['detail']")" = "resolve: later.test: Domain name not found" ] ||
    fail "later.test's check detail: $(later "['check']['detail']")"
grep -q "event server-down pool=late server=later: resolve: later.test: Domain name not found" "$LOG" ||
    fail "no server-down event for later.test"
echo "later.test (NXDOMAIN): down from the start, 'resolve: later.test: Domain name not found', server-down event"

[ "$(stats_get "$ST" "srv('local', 'h')['address'], srv('local', 'h')['state']")" = "127.0.0.3:$B up" ] ||
    fail "hosts.test from the hosts file: $(stats_get "$ST" "srv('local', 'h')")"
[ "$(answers hosts.example 3)" = B ] || fail "hosts.test should reach B"
echo "hosts.test: from the hosts file (CARES_HOSTS) -> B"

idle_a=$(conns_to 127.0.0.2)
[ "$idle_a" -ge 1 ] || fail "no idle connection to A kept after the requests"

zone "app.test 127.0.0.3"
sleep 1.5
[ "$(answers)" = A ] || fail "resolve interval 1h: the address moved without a reload: $(answers)"
kill -HUP "$PROXY_PID"
wait_for 5 stats_is "$ST" "srv('web', 'app')['address']" "127.0.0.3:$B" ||
    fail "the reload did not resolve app.test again: $(app "['address']")"
# Before any request: the workers' sweep closes them, not the next use.
wait_for 3 bash -c "[ \$(ss -Htnp state established dst 127.0.0.2:$B | grep -c pid=$PROXY_PID,) = 0 ]" ||
    fail "$(conns_to 127.0.0.2) idle connections to A (the old address) stay open"
[ "$(answers)" = B ] || fail "app.test -> 127.0.0.3: answers from '$(answers)', not B"
grep -q "server web/app: app.test resolves to 127.0.0.3:$B now (was 127.0.0.2:$B)" "$LOG" ||
    fail "the change of address is not logged"
[ "$(app "['requests']")" -ge 20 ] || fail "the server did not carry over the reload: $(app "['requests']") requests"
echo "app.test -> B: no move under 'resolve interval 1h' until the reload; then B, and the $idle_a idle connection(s) to A closed"

write_conf 1s
kill -HUP "$PROXY_PID"
wait_for 5 stats_is "$ST" "j['generation']" 3 || fail "the second reload did not happen"
zone "app.test 127.0.0.2" "later.test 127.0.0.2"
wait_for 5 stats_is "$ST" "srv('web', 'app')['address']" "127.0.0.2:$B" ||
    fail "resolve interval 1s: app.test not resolved again: $(app "['address']")"
[ "$(answers)" = A ] || fail "app.test back to 127.0.0.2: answers from '$(answers)'"
wait_for 5 stats_is "$ST" "srv('late', 'later')['state']" up || fail "later.test resolves now, its server stays $(later "['state']")"
grep -q "event server-up pool=late server=later: check: " "$LOG" || fail "no server-up event for later (through its checks)"
[ "$(answers later.example 3)" = A ] || fail "later.example should reach A"
echo "resolve interval 1s: app.test -> A again; later.test appears: up through its checks, traffic to A"

zone "later.test 127.0.0.2"
wait_for 5 stats_is "$ST" "srv('web', 'app')['state']" down || fail "app.test vanished, its server stays $(app "['state']")"
[ "$(app "['check']['detail']")" = "resolve: app.test: Domain name not found" ] ||
    fail "the reason: $(app "['check']['detail']")"
[ "$(app "['address']")" = "" ] || fail "an address that no longer is: $(app "['address']")"
grep -q "event server-down pool=web server=app: resolve: app.test: Domain name not found" "$LOG" ||
    fail "no server-down event for app.test's NXDOMAIN"
[ "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$P/")" = 503 ] || fail "a pool without a server should answer 503"
echo "app.test vanishes: down, 'resolve: app.test: Domain name not found', server-down event, 503"

zone "app.test 127.0.0.3" "later.test 127.0.0.2"
wait_for 5 stats_is "$ST" "srv('web', 'app')['state']" up || fail "app.test resolves again, its server stays down"
[ "$(answers)" = B ] || fail "app.test -> 127.0.0.3 again: answers from '$(answers)'"
echo "app.test resolves again: up, traffic to B"

# A resolver's failure is not an answer.  c-ares asks for A and AAAA at
# once and reports the status of the last to answer: a SERVFAIL for A
# behind an empty AAAA answer read as "no address", and the server went
# down (503) for a hiccup of the resolver.  Each family is asked again on
# its own before an address goes.
downs=$(grep -c "event server-down pool=web server=app" "$LOG")
zone "app.test servfail:A" "app.test delay:AAAA:0.3" "later.test 127.0.0.2"
wait_for 5 grep -q "app.test: .*; it keeps 127.0.0.3:$B" "$LOG" ||
    fail "A SERVFAIL + AAAA NODATA: the server did not keep its address: $(app "['state']") $(app "['address']")"
sleep 1.2 # another round or two of the same answers
grep -q "query app.test 1 -> SERVFAIL" "$TMPDIR/dns.log" || fail "the DNS server was not asked for app.test's A"
[ "$(app "['state']") $(app "['address']")" = "up 127.0.0.3:$B" ] ||
    fail "A SERVFAIL + AAAA NODATA: app is $(app "['state']") at '$(app "['address']")'"
[ "$(grep -c "event server-down pool=web server=app" "$LOG")" = "$downs" ] || fail "a server-down event for a SERVFAIL"
[ "$(answers)" = B ] || fail "during the SERVFAIL: answers from '$(answers)', not B"
echo "A SERVFAIL behind an empty AAAA answer: app keeps 127.0.0.3, up, traffic to B"

# A name left with no address of either family is gone, as before.
zone "app.test delay:AAAA:0.3" "later.test 127.0.0.2"
wait_for 5 stats_is "$ST" "srv('web', 'app')['state']" down || fail "app.test has no address, its server stays $(app "['state']")"
[ "$(app "['address']")" = "" ] || fail "an address that no longer is: $(app "['address']")"
echo "no A and no AAAA (NODATA for both): down"
echo "PASS: servers given by host name follow their names"
