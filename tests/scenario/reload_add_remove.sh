#!/usr/bin/env bash
# reload_add_remove.sh: servers added, removed and moved by SIGHUP, with
# real requests after each step (who answered: the X-Server header).
#   1. servers a, b: both serve.
#   2. add c + SIGHUP: generation +1, c gets requests, a's counter survives.
#   3. remove b + SIGHUP: b gets no new request.
#   3b. requests in flight on the removed server (and the others) finish;
#      the removed server is no longer checked (killed: no server-down).
#   4. move a to another port + SIGHUP: the new address serves, the old not;
#      a's counter starts again (an address change makes a new server).
#   5. c killed and marked down; a reload (adding d) keeps c down.
#   6. a dead server e added: checked at once, down within 1s.
#   7. d drained through the stats API stays drained across a reload.
# retries 0 and fall 1: a server wrongly taken as up shows as a failure.
# Ports 25100-25109.
set -u
. "${TOPSRC:-$(cd "$(dirname "$0")/../.." && pwd)}/tests/scenario/reload_lib.bash"

P=25100 STATS=25101 A=25102 B=25103 C=25104 A2=25105 D=25106 E=25107
ports_free $P $STATS $A $B $C $A2 $D $E
CONF=$TMPDIR/proxy.conf
TOKEN=reload-test

write_conf() { # server lines...
    {
        echo "workers 2"
        echo "log-level info"
        echo "access-log off"
        echo "listen 127.0.0.1:$P"
        echo "stats 127.0.0.1:$STATS token \"$TOKEN\""
        echo "pool web {"
        echo "    balance round-robin"
        echo "    check http /healthz"
        echo "    interval ${INTERVAL:-500ms}"
        echo "    fall 1"
        echo "    retries 0"
        for s in "$@"; do echo "    server $s"; done
        echo "}"
    } >"$CONF"
}

start_backend $A a
start_backend $B b; BPID=$BACKEND_PID
start_backend $C c; CPID=$BACKEND_PID
start_backend $D d
start_backend $A2 a-moved
write_conf "a 127.0.0.1:$A" "b 127.0.0.1:$B"
start_proxy "$CONF" $P
wait_port $STATS 3 || fail "stats port $STATS not open"

# 1. a and b
r=$(hits $P 40); echo "step 1 (a,b): $r"
[ "$(field fail "$r")" = 0 ] || fail "step 1: failed requests: $r"
served a "$r" && served b "$r" || fail "step 1: a and b should both serve: $r"
g1=$(gen); a1=$(stat web/a/requests)
echo "generation=$g1 a.requests=$a1"

# 2. add c
write_conf "a 127.0.0.1:$A" "b 127.0.0.1:$B" "c 127.0.0.1:$C"
hup_wait
g2=$(gen)
r=$(hits $P 60); echo "step 2 (+c): $r generation $g1 -> $g2"
[ "$g2" -eq $((g1 + 1)) ] || fail "step 2: generation $g1 -> $g2, want +1"
[ "$(field fail "$r")" = 0 ] || fail "step 2: failed requests: $r"
served c "$r" || fail "step 2: c got no request after it was added: $r"
a2=$(stat web/a/requests); c2=$(stat web/c/requests)
echo "a.requests $a1 -> $a2, c.requests=$c2"
[ "$a2" -ge "$a1" ] || fail "step 2: a's request counter went back from $a1 to $a2 (a kept server lost its statistics)"
[ "$c2" -ge 1 ] || fail "step 2: stats show c.requests=$c2"

# 3. remove b, with slow requests in flight on a, b and c: all finish
for i in 1 2 3 4 5 6; do
    curl -s -o /dev/null -w '%{http_code} %header{x-server}\n' --max-time 8 \
        "http://127.0.0.1:$P/slow?delay=1000" >"$TMPDIR/slow.$i" 2>&1 &
    track $!
    SLOW_PIDS[$i]=$!
done
sleep 0.4
write_conf "a 127.0.0.1:$A" "c 127.0.0.1:$C"
hup_wait
g3=$(gen)
wait "${SLOW_PIDS[@]}"
slow=$(cat "$TMPDIR"/slow.* | sort | uniq -c | awk '{ printf "%s%s x%s", sep, $2 " " $3, $1; sep = ", " }')
echo "step 3: slow requests in flight across b's removal: $slow"
cat "$TMPDIR"/slow.* | grep -q '^200 b$' || fail "step 3: no slow request was on b (test setup): $slow"
[ "$(cat "$TMPDIR"/slow.* | grep -vc '^200 ')" = 0 ] || fail "step 3: a request in flight failed across the reload: $slow"
r=$(hits $P 60); echo "step 3 (-b): $r generation $g3"
[ "$(field fail "$r")" = 0 ] || fail "step 3: failed requests: $r"
served b "$r" && fail "step 3: b still got requests after it was removed: $r"
served a "$r" && served c "$r" || fail "step 3: a and c should both serve: $r"
[ "$(stat web/b/requests)" = absent ] || fail "step 3: b still listed in /api/stats after its removal"
# b is gone from the configuration: its checks must stop too (fall 1, 500ms:
# a check still running would log server-down for b within 1.5s)
log_mark
{ kill -KILL "$BPID"; wait "$BPID"; } 2>/dev/null
sleep 1.5
log_since | grep -E 'server-down' | grep -q 'server=b\b' &&
    fail "step 3: removed server b is still health-checked: $(log_since | grep server-down | grep 'server=b')"
echo "step 3: b killed after its removal: no server-down event for b in 1.5s (its checks stopped)"

# 4. move a to port A2 (backend there answers X-Server: a-moved)
write_conf "a 127.0.0.1:$A2" "c 127.0.0.1:$C"
hup_wait
g4=$(gen)
r=$(hits $P 60); echo "step 4 (a moved to :$A2): $r generation $g4"
[ "$(field fail "$r")" = 0 ] || fail "step 4: failed requests: $r"
served a-moved "$r" || fail "step 4: the new address of a does not serve: $r"
served a "$r" && fail "step 4: the old address of a still serves: $r"
addr=$(stat web/a/address)
areq=$(stat web/a/requests)
echo "step 4: a at $addr, requests=$areq (a new server: counted from 0)"
[ "$areq" -le 60 ] || fail "step 4: a's counter ($areq) was carried over although its address changed (a new server)"
[ "$addr" = "127.0.0.1:$A2" ] || fail "step 4: /api/stats shows a at $addr, want 127.0.0.1:$A2"
[ "$g4" -eq $((g1 + 3)) ] || fail "generation after 3 reloads is $g4, want $((g1 + 3))"

# 5. a kept server keeps its health state: c goes down, a reload that adds
#    a server must not bring c back up (nor reset it to a fresh state)
{ kill -KILL "$CPID"; wait "$CPID"; } 2>/dev/null
c_down() { [ "$(stat web/c/state)" = down ]; }
wait_for 5 c_down ||
    fail "step 5: c not marked down within 5s of its death (state $(stat web/c/state))"
echo "step 5: c killed: state $(stat web/c/state), check $(stat web/c/check)"
write_conf "a 127.0.0.1:$A2" "c 127.0.0.1:$C" "d 127.0.0.1:$D"
hup_wait
st=$(stat web/c/state)
r=$(hits $P 30); echo "step 5: reload adding d, c stays: c state=$st; $r"
[ "$st" = down ] || fail "step 5: the reload reset dead server c to '$st' (a kept server keeps its state)"
[ "$(field fail "$r")" = 0 ] || fail "step 5: requests failed after the reload (c taken as up again?): $r"
served c "$r" && fail "step 5: dead c got requests: $r"

# 6. a new server is checked at once: e (dead port) added with a 10s
#    interval and fall 1 must be down long before its first interval
INTERVAL=10s
write_conf "a 127.0.0.1:$A2" "d 127.0.0.1:$D" "e 127.0.0.1:$E"
hup_wait
sleep 1
st=$(stat web/e/state)
echo "step 6: dead server e added (interval 10s, fall 1): state after 1s: $st"
[ "$st" = down ] || fail "step 6: new server e, dead, is '$st' 1s after the reload (not checked at once?)"
r=$(hits $P 20); echo "step 6: $r"
[ "$(field fail "$r")" = 0 ] || fail "step 6: requests failed: $r"

# 7. a drained server stays drained across a reload that keeps it
code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 2 -X POST -H "Authorization: Bearer $TOKEN" \
    "http://127.0.0.1:$STATS/api/pools/web/servers/d/drain")
[ "$code" = 200 ] || fail "step 7: POST drain of d: $code"
r=$(hits $P 10); echo "step 7: d drained: $r"
write_conf "a 127.0.0.1:$A2" "d 127.0.0.1:$D" "e 127.0.0.1:$E" "c 127.0.0.1:$C"
hup_wait
st=$(stat web/d/state)
r=$(hits $P 20); echo "step 7: after a reload keeping d: d state=$st; $r"
[ "$st" = draining ] || fail "step 7: the reload reset drained server d to '$st' (a kept server keeps its state)"
served d "$r" && fail "step 7: drained d got requests after the reload: $r"

echo "reloads: $(stat reloads)"
echo "PASS: add, remove and move of servers by SIGHUP"
