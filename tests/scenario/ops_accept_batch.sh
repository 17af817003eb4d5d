#!/usr/bin/env bash
# scenario: alone
# ops_accept_batch.sh: a worker accepts one connection per loop round on a
# TLS listener (each costs a handshake before its first request), up to 64
# on a plain one (worker.c, ACCEPT_BATCH_TLS and ACCEPT_BATCH).  Seen in
# the worker's accept4 calls, under strace, while 8 clients connect to
# each listener of a 1-worker proxy:
#  - TLS: 8 accepts, each after an epoll_wait of its own, and never the
#    accept4 that finds the backlog empty (EAGAIN): the round stops after
#    one, so nothing is left to find it empty;
#  - plain: 8 accepts, and the EAGAIN that ends a batch (which also shows
#    that the trace would catch one on the TLS listener).
set -u
. "${TOPSRC:-$(cd "$(dirname "$0")/../.." && pwd)}/tests/support/lib.sh"

command -v strace >/dev/null || fail "strace is not installed"
N=8
P=$(free_port); T=$(free_port); B=$(free_port)
C=$TMPDIR/certs
tls_site "$C"
start_backend "$B" app
cat >"$TMPDIR/proxy.conf" <<CONF
workers 1
access-log off
listen 127.0.0.1:$P
listen 127.0.0.1:$T tls $C/site.pem
pool web {
    check off
    server app 127.0.0.1:$B
}
CONF
start_proxy "$TMPDIR/proxy.conf" "$P" "$T"

# -yy names each socket by its addresses (the listener's is
# TCP:[127.0.0.1:PORT]); -ff writes each thread's calls to a file of its
# own (strace.out.TID), whole lines that no other thread's interrupt.
strace -ff -q -yy -e trace=accept4,epoll_wait,epoll_pwait -o "$TMPDIR/strace.out" -p "$PROXY_PID" &
STRACE_PID=$!
track "$STRACE_PID"
# attached once every thread of the proxy shows strace as its tracer
wait_for 5 sh -c "[ -z \"\$(grep -L '^TracerPid:[[:space:]]*$STRACE_PID\$' /proc/$PROXY_PID/task/*/status)\" ]" ||
    fail "strace did not attach to every thread"

# N connections to each listener, as fast as they can be made (several
# wait in the backlog at once, mostly), held a moment; the trace is read
# once the proxy took them all.
python3 - "$P" "$T" "$N" <<'PY' || fail "the clients could not connect"
import socket, sys, time
p, t, n = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
socks = [socket.create_connection(("127.0.0.1", port), timeout=5) for port in (p, t) for _ in range(n)]
time.sleep(0.2)
PY

# accepted PORT: "ACCEPTED EAGAIN BACK_TO_BACK" for the listener on PORT:
# accepts that returned a connection, accepts that found none, and
# accepts of a connection right after another by the same thread with no
# epoll_wait between.
accepted() {
    awk -v l="<TCP:[127.0.0.1:$1]>," '
        /epoll_(p)?wait\(/ { waited[FILENAME] = 1; next }
        !index($0, "accept4(") { next }
        !index($0, l) { prev_ok[FILENAME] = 0; next }
        / = -1 EAGAIN/ { eagain++; prev_ok[FILENAME] = 0; next }
        / = [0-9]+</ {
            ok++
            if (prev_ok[FILENAME] && !waited[FILENAME]) back++
            prev_ok[FILENAME] = 1; waited[FILENAME] = 0
        }
        END { print ok + 0, eagain + 0, back + 0 }' "$TMPDIR"/strace.out.*
}
all_accepted() {
    local plain tls
    read -r plain _ <<<"$(accepted "$P")"
    read -r tls _ <<<"$(accepted "$T")"
    [ "$plain" -ge "$N" ] && [ "$tls" -ge "$N" ]
}
wait_for 5 all_accepted || echo "not every connection accepted within 5 s"
kill -INT "$STRACE_PID"
wait "$STRACE_PID" 2>/dev/null

read -r tls_ok tls_eagain tls_back <<<"$(accepted "$T")"
read -r plain_ok plain_eagain _ <<<"$(accepted "$P")"
echo "TLS listener: $tls_ok accepted, $tls_eagain EAGAIN, $tls_back right after another"
echo "plain listener: $plain_ok accepted, $plain_eagain EAGAIN"
[ "$plain_ok" = "$N" ] || fail "the plain listener accepted $plain_ok of $N (the trace missed them?)"
[ "$plain_eagain" -ge 1 ] || fail "the plain listener's batch never ended on EAGAIN (the trace would miss it on TLS)"
[ "$tls_ok" = "$N" ] || fail "the TLS listener accepted $tls_ok of $N"
[ "$tls_eagain" = 0 ] || fail "the TLS listener's accept went on to an empty backlog $tls_eagain times: more than one per round"
[ "$tls_back" = 0 ] || fail "the TLS listener accepted $tls_back connections right after another in one round"
kill -0 "$PROXY_PID" || fail "the proxy died"
echo "ok: one accept per round on a TLS listener, a batch on a plain one"
