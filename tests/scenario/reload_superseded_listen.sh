#!/usr/bin/env bash
# reload_superseded_listen.sh: reloads that add listen addresses (X, then
# X and Y), then one that removes them, all before the worker took the
# first: both addresses must stop accepting.
#
# A worker takes a reload's listening sockets in its next loop round; two
# SIGHUPs handled by the main thread before that round left the worker
# only the second update, and the socket the first one bound (for an
# address the second dropped) was freed without being closed: it stayed
# bound, and clients connecting there waited in its backlog for an accept
# that never came.  The race is made on purpose: the worker thread is held
# stopped (ptrace, tests/scenario/thread_hold.py) across both reloads,
# while the main thread handles them.
set -u
. "${TOPSRC:-$(cd "$(dirname "$0")/../.." && pwd)}/tests/scenario/reload_lib.bash"

L=$(free_port); X=$(free_port); Y=$(free_port); STATS=$(free_port); A=$(free_port)
CONF=$TMPDIR/proxy.conf
write_conf() { # listen-ports...
    {
        echo "workers 1"
        echo "access-log off"
        for l in "$@"; do echo "listen 127.0.0.1:$l"; done
        echo "stats 127.0.0.1:$STATS"
        echo "pool web {"
        echo "    server a 127.0.0.1:$A"
        echo "}"
    } >"$CONF"
}

start_backend "$A" a
write_conf "$L"
start_proxy "$CONF" "$L"
wait_port "$STATS" 3 || fail "stats port $STATS not open"

python3 "$TOPSRC/tests/scenario/thread_hold.py" "$PROXY_PID" "worker 0" "$TMPDIR/release" 10 \
    >"$TMPDIR/hold.out" 2>&1 &
HOLD=$!
track "$HOLD"
wait_for 3 grep -q "^held" "$TMPDIR/hold.out" || fail "could not hold the worker thread: $(cat "$TMPDIR/hold.out")"
echo "worker thread $(cat "$TMPDIR/hold.out")"

write_conf "$L" "$X"
hup_wait
port_open "$X" || fail "the first reload did not bind $X"
write_conf "$L" "$X" "$Y"
hup_wait
port_open "$Y" || fail "the second reload did not bind $Y"
write_conf "$L"
hup_wait
echo "three reloads handled while the worker was held (generation $(gen))"

touch "$TMPDIR/release"
wait "$HOLD" || fail "thread_hold failed: $(cat "$TMPDIR/hold.out")"
r=$(hits "$L" 10)
echo "after the worker went on: $r"
[ "$r" = "ok=10 fail=0 servers=a:10" ] || fail "the kept listener does not serve: $r"
for p in "$X" "$Y"; do
    for i in $(seq 20); do port_open "$p" || break; sleep 0.05; done
    port_open "$p" && fail "$p still accepts connections after the reload that removed it (a superseded update's socket left open)"
done
echo "ok: $X and $Y refuse connections, $L serves"
