#!/usr/bin/env bash
# reload_add_remove.sh: servers added, removed and moved by SIGHUP, with
# real requests after each step (who answered: the X-Server header).
#   1. servers a, b: both serve.
#   2. add c + SIGHUP: generation +1, c gets requests, a's counter survives.
#   3. remove b + SIGHUP: b gets no new request.
#   4. move a to another port + SIGHUP: the new address serves, the old not.
# Ports 25100-25109.
set -u
. "${TOPSRC:-$(cd "$(dirname "$0")/../.." && pwd)}/tests/scenario/reload_lib.bash"

P=25100 STATS=25101 A=25102 B=25103 C=25104 A2=25105
ports_free $P $STATS $A $B $C $A2
CONF=$TMPDIR/proxy.conf

write_conf() { # server lines...
    {
        echo "workers 2"
        echo "log-level info"
        echo "access-log off"
        echo "listen 127.0.0.1:$P"
        echo "stats 127.0.0.1:$STATS"
        echo "pool web {"
        echo "    balance round-robin"
        echo "    check http /healthz"
        echo "    interval 500ms"
        for s in "$@"; do echo "    server $s"; done
        echo "}"
    } >"$CONF"
}

start_backend $A a
start_backend $B b
start_backend $C c
start_backend $A2 a-moved
write_conf "a 127.0.0.1:$A" "b 127.0.0.1:$B"
start_proxy "$CONF" $P
wait_port $STATS 3 || fail "stats port $STATS not open"

# 1. a and b
r=$(hits $P 40); echo "step 1 (a,b): $r"
[ "$(field fail "$r")" = 0 ] || fail "step 1: failed requests: $r"
echo "$r" | grep -q 'a:' && echo "$r" | grep -q 'b:' || fail "step 1: a and b should both serve: $r"
g1=$(gen); a1=$(stat web/a/requests)
echo "generation=$g1 a.requests=$a1"

# 2. add c
write_conf "a 127.0.0.1:$A" "b 127.0.0.1:$B" "c 127.0.0.1:$C"
hup_wait
g2=$(gen)
r=$(hits $P 60); echo "step 2 (+c): $r generation $g1 -> $g2"
[ "$g2" -eq $((g1 + 1)) ] || fail "step 2: generation $g1 -> $g2, want +1"
[ "$(field fail "$r")" = 0 ] || fail "step 2: failed requests: $r"
echo "$r" | grep -q 'c:' || fail "step 2: c got no request after it was added: $r"
a2=$(stat web/a/requests); c2=$(stat web/c/requests)
echo "a.requests $a1 -> $a2, c.requests=$c2"
[ "$a2" -ge "$a1" ] || fail "step 2: a's request counter went back from $a1 to $a2 (a kept server lost its statistics)"
[ "$c2" -ge 1 ] || fail "step 2: stats show c.requests=$c2"

# 3. remove b
write_conf "a 127.0.0.1:$A" "c 127.0.0.1:$C"
hup_wait
g3=$(gen)
r=$(hits $P 60); echo "step 3 (-b): $r generation $g3"
[ "$(field fail "$r")" = 0 ] || fail "step 3: failed requests: $r"
echo "$r" | grep -q 'b:' && fail "step 3: b still got requests after it was removed: $r"
echo "$r" | grep -q 'a:' && echo "$r" | grep -q 'c:' || fail "step 3: a and c should both serve: $r"
[ "$(stat web/b/requests)" = absent ] || fail "step 3: b still listed in /api/stats after its removal"

# 4. move a to port A2 (backend there answers X-Server: a-moved)
write_conf "a 127.0.0.1:$A2" "c 127.0.0.1:$C"
hup_wait
g4=$(gen)
r=$(hits $P 60); echo "step 4 (a moved to :$A2): $r generation $g4"
[ "$(field fail "$r")" = 0 ] || fail "step 4: failed requests: $r"
echo "$r" | grep -q 'a-moved:' || fail "step 4: the new address of a does not serve: $r"
echo "$r" | grep -qE '(^|[=,])a:' && fail "step 4: the old address of a still serves: $r"
addr=$(stat web/a/address)
[ "$addr" = "127.0.0.1:$A2" ] || fail "step 4: /api/stats shows a at $addr, want 127.0.0.1:$A2"
[ "$g4" -eq $((g1 + 3)) ] || fail "generation after 3 reloads is $g4, want $((g1 + 3))"
echo "reloads: $(stat reloads)"
echo "PASS: add, remove and move of servers by SIGHUP"
