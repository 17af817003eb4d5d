#!/usr/bin/env bash
# fault_abandoned_request.sh: a request whose client left holds nothing.
# The server never answers (misbehave.py --mode hold) and takes 10 at a
# time (max-conns 10).  30 clients send a request and leave after 0.5 s,
# half with a FIN and half with a reset: the 10 server requests are
# aborted at once (the server sees its connections closed), their slots are
# free (active 0), the 20 queued requests leave the queue without ever
# reaching the server, and the stats count 30 abandoned requests.  With
# `ignore-client-abort on` the server requests keep going instead.
set -u
. "${TOPSRC:-$(cd "$(dirname "$0")/../.." && pwd)}/tests/support/lib.sh"

P=$(free_port); ST=$(free_port); B=$(free_port)
python3 "$TOPSRC/tests/scenario/misbehave.py" --port "$B" --mode hold --log "$TMPDIR/server.log" &
SPID=$!; track "$SPID"
wait_port "$B" 5 "$SPID" || fail "misbehave.py did not start"

stats() { curl -s "http://127.0.0.1:$ST/api/stats"; }
stats_field() {   # python expression over the stats JSON `j`
    stats | python3 -c "import json,sys; j=json.load(sys.stdin); print($1)"
}
leave_after() {   # COUNT SECONDS: COUNT clients send a request and leave
    python3 - "$P" "$1" "$2" <<'PY'
import socket, struct, sys, threading, time
port, n, wait = int(sys.argv[1]), int(sys.argv[2]), float(sys.argv[3])
socks = []
for i in range(n):
    s = socket.create_connection(("127.0.0.1", port))
    s.sendall(f"GET /r{i} HTTP/1.1\r\nHost: x\r\n\r\n".encode())
    socks.append(s)
time.sleep(wait)
for i, s in enumerate(socks):
    if i % 2:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    s.close()
PY
}

run() {   # IGNORE(on|off)
    cat >"$TMPDIR/proxy.conf" <<CONF
workers 2
access-log off
listen 127.0.0.1:$P
stats 127.0.0.1:$ST
timeout server 8s
timeout queue 8s
pool web {
    check off
    ignore-client-abort $1
    server app1 127.0.0.1:$B max-conns 10
}
CONF
    : >"$TMPDIR/server.log"
    start_proxy "$TMPDIR/proxy.conf" "$P"
    leave_after 30 0.5
    sleep 0.5
}

run off
closed=$(grep -c '^closed ' "$TMPDIR/server.log"); reached=$(grep -c '^GET ' "$TMPDIR/server.log")
act=$(stats_field 'j["pools"][0]["servers"][0]["active"]'); q=$(stats_field 'j["pools"][0]["queued"]')
ab=$(stats_field 'j["faults"]["requests_abandoned"]')
echo "0.5 s after 30 clients left: server requests reached=$reached closed=$closed, active=$act queued=$q abandoned=$ab"
[ "$reached" = 10 ] || fail "$reached requests reached the server (10 in flight expected; queued ones must not be sent)"
[ "$closed" = 10 ] || fail "only $closed of 10 server requests were aborted"
[ "$act" = 0 ] || fail "$act server slots still held"
[ "$q" = 0 ] || fail "$q requests of clients that left still queued"
[ "$ab" = 30 ] || fail "requests_abandoned=$ab, want 30"
stop_pid "$PROXY_PID"
sleep 0.3

run on
closed=$(grep -c '^closed ' "$TMPDIR/server.log"); act=$(stats_field 'j["pools"][0]["servers"][0]["active"]')
echo "ignore-client-abort on: server requests closed=$closed active=$act"
[ "$closed" = 0 ] || fail "ignore-client-abort on: $closed server requests were aborted"
[ "$act" = 10 ] || fail "ignore-client-abort on: active=$act, want 10 still running"
echo "PASS: abandoned requests were aborted and their slots and queue places freed at once"
