#!/usr/bin/env bash
# reload_listen.sh: listen and stats addresses changed by SIGHUP.
#   1. listen L1: a probe opens a new connection to L1 every 10ms for the
#      whole of steps 2 and 3: it must never fail (L1 never stops accepting).
#   2. add listen L2 + SIGHUP: L2 accepts.
#   3. a client keep-alive connection is opened on L1.
#   3b. a listen line whose address is busy + SIGHUP: the reload fails as a
#      whole (logged, counted), both listeners keep serving.
#   4. remove L1 + SIGHUP: L1 refuses connections, L2 serves, and the kept
#      connection accepted on L1 still works (client connections stay).
#   5. stats S1 -> S2 + SIGHUP: S2 answers, S1 refuses.
#   6. stats S2 -> a busy address + SIGHUP: the reload fails, S2 keeps
#      answering on the same socket.
# Ports 25140-25149.
set -u
. "${TOPSRC:-$(cd "$(dirname "$0")/../.." && pwd)}/tests/scenario/reload_lib.bash"

L1=25140 L2=25141 S1=25142 S2=25143 A=25144
ports_free $L1 $L2 $S1 $S2 $A
STATS=$S1
CONF=$TMPDIR/proxy.conf

write_conf() { # stats-port listen-ports...
    local s=$1
    shift
    {
        echo "workers 2"
        echo "access-log off"
        for l in "$@"; do echo "listen 127.0.0.1:$l"; done
        echo "stats 127.0.0.1:$s"
        echo "pool web {"
        echo "    server a 127.0.0.1:$A"
        echo "}"
    } >"$CONF"
}

start_backend $A a
write_conf $S1 $L1
start_proxy "$CONF" $L1
wait_port $S1 3 || fail "stats port $S1 not open"
port_open $L2 && fail "L2 open before it was configured"

$UTIL probe $L1 2.5 >"$TMPDIR/probe.out" 2>&1 &
PRPID=$!
track $PRPID
sleep 0.5

# 2. add L2
write_conf $S1 $L1 $L2
hup_wait
wait_port $L2 2 || fail "2. the new listen address $L2 does not accept after the reload"
r=$(hits $L2 20); echo "2. L2 ($L2) after it was added: $r"
[ "$r" = "ok=20 fail=0 servers=a:20" ] || fail "2. requests on the new listener failed: $r"
sleep 0.3
# a second reload with the same listeners, still probing L1
hup_wait
sleep 0.5
wait $PRPID
probe=$(cat "$TMPDIR/probe.out")
echo "2. probe of L1 ($L1), new connection every 10ms across 2 reloads: $probe"
[ "$(field fail "$probe")" = 0 ] || fail "2. L1 stopped accepting during a reload: $probe"
[ "$(field ok "$probe")" -gt 20 ] || fail "2. the probe made too few requests: $probe"

# 3. a kept connection on L1
ka_open $L1
k1=$(ka_ask /); echo "3. kept connection on L1: $k1"
[ "$(echo "$k1" | awk '{print $2}')" = 200 ] || fail "3. kept connection: $k1"

# 3b. a listen address that cannot be bound (the backend holds it): the
#     whole reload fails, logged; L1 and L2 stay
write_conf $S1 $L1 $L2 $A
g=$(gen)
log_mark
hup_fail
sleep 0.1
echo "--- log of the reload with a busy listen address:"; log_since
log_since | grep -q "$A" || fail "3b. the log does not name the address that could not be bound ($A)"
[ "$(gen)" = "$g" ] || fail "3b. generation moved although a listen address could not be bound"
for l in $L1 $L2; do
    r=$(hits $l 10)
    [ "$r" = "ok=10 fail=0 servers=a:10" ] || fail "3b. listener $l after the failed reload: $r"
done
k1b=$(ka_ask /)
[ "$(echo "$k1b" | awk '{print $2}')" = 200 ] || fail "3b. kept connection after the failed reload: $k1b"
echo "3b. busy listen address: reload failed (reloads.failed=$(stat reloads.failed)), L1 and L2 still serve"

# 4. remove L1
write_conf $S1 $L2
log_mark
hup_wait
for i in $(seq 20); do port_open $L1 || break; sleep 0.1; done
port_open $L1 && fail "4. L1 ($L1) still accepts 2s after its listen line was removed"
out=$(curl -s -o /dev/null -w '%{http_code}' --max-time 2 "http://127.0.0.1:$L1/" 2>&1); rc=$?
echo "4. L1 after its removal: curl exit $rc (7 = connection refused), http '$out'"
[ "$rc" = 7 ] || fail "4. a connection to the removed L1 was not refused (curl exit $rc)"
r=$(hits $L2 20); echo "4. L2 after L1's removal: $r"
[ "$r" = "ok=20 fail=0 servers=a:20" ] || fail "4. L2 does not serve after L1's removal: $r"
k2=$(ka_ask /); echo "4. the kept connection accepted on L1: $k2"
[ "$(echo "$k2" | awk '{print $2, $4}')" = "200 $(echo "$k1" | awk '{print $4}')" ] ||
    fail "4. the client connection accepted on the removed listener was closed or failed: $k2 (contract 4: reload does not close client connections)"
ka_close

# 5. move the stats port
write_conf $S2 $L2
g=$(gen)
kill -HUP "$PROXY_PID"
wait_port $S2 3 "$PROXY_PID" || fail "5. the stats port did not move to $S2"
STATS=$S2
wait_gen $((g + 1)) 3 || fail "5. generation did not move to $((g + 1))"
for i in $(seq 20); do port_open $S1 || break; sleep 0.1; done
port_open $S1 && fail "5. the old stats port $S1 still accepts"
echo "5. stats moved $S1 -> $S2: generation $(gen), healthz $(curl -s --max-time 2 http://127.0.0.1:$S2/healthz), old port refuses"
r=$(hits $L2 10)
[ "$r" = "ok=10 fail=0 servers=a:10" ] || fail "5. L2 does not serve after the stats move: $r"

# 6. stats moved to a busy address (the backend's): the reload fails as a
#    whole (as for a listen address), and the stats port stays where it is
#    on the same socket (it was closed and opened again, its backlog lost,
#    and the reload counted as a success)
write_conf $A $L2
stats_ino() { ss -Hltne "sport = :$S2" | grep -o 'ino:[0-9]*'; }
ino0=$(stats_ino)
[ -n "$ino0" ] || fail "6. no listening socket on $S2"
ok0=$(stat reloads.ok) f0=$(stat reloads.failed)
log_mark
kill -HUP "$PROXY_PID"
sleep 0.5
echo "--- log of the stats move to a busy address:"; log_since
port_open $S2 || fail "6. the stats port $S2 closed although the new address $A is busy"
ok1=$(stat reloads.ok) f1=$(stat reloads.failed)
echo "6. stats to busy $A: reloads.ok $ok0 -> $ok1, failed $f0 -> $f1; stats still on $S2 ($ino0 -> $(stats_ino))"
[ "$ok1 $f1" = "$ok0 $((f0 + 1))" ] || fail "6. the reload was not counted as failed"
[ "$(stats_ino)" = "$ino0" ] || fail "6. the stats socket on $S2 was closed and opened again"
log_since | grep -q "reload failed: stats: cannot listen on 127.0.0.1:$A" || fail "6. the failed reload does not name the stats address"
r=$(hits $L2 10)
[ "$r" = "ok=10 fail=0 servers=a:10" ] || fail "6. L2 does not serve: $r"

echo "reloads: $(stat reloads)"
echo "PASS: listeners added and removed, the stats port moved, L1 never refused while configured"
