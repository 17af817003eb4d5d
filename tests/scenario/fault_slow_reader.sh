#!/usr/bin/env bash
# scenario: alone
# fault_slow_reader.sh: a slow but steady reader is not cut; a stalled one
# is, by timeout client.  timeout server is 6s, timeout client 1s.  A client
# reads a 50 MB body at about 100 KB/s for 8 s (eight times timeout client):
# it must still be receiving, for a body that is spliced and one that goes
# through the buffers (chunked).  A client that reads nothing after the
# first bytes is closed about timeout client later (its connection leaves
# the stats' active count within 2.5 s; the old build waited for timeout
# server, as if the server were the one not sending).
set -u
. "${TOPSRC:-$(cd "$(dirname "$0")/../.." && pwd)}/tests/support/lib.sh"

P=$(free_port); B=$(free_port); ST=$(free_port)
start_backend "$B" app1
cat >"$TMPDIR/proxy.conf" <<CONF
workers 1
access-log off
listen 127.0.0.1:$P
stats 127.0.0.1:$ST
timeout server 6s
timeout client 1s
pool web {
    check off
    server app1 127.0.0.1:$B
}
CONF
start_proxy "$TMPDIR/proxy.conf" "$P"

reader() {   # QUERY: reads at 100 KB/s for 8 s; prints "BYTES eof|open"
    python3 - "$P" "$1" <<'PY'
import socket, sys, time
port, query = int(sys.argv[1]), sys.argv[2]
s = socket.create_connection(("127.0.0.1", port))
s.sendall(f"GET /?{query} HTTP/1.1\r\nHost: x\r\n\r\n".encode())
got, state, t0 = 0, "open", time.time()
s.settimeout(3)
while time.time() - t0 < 8:
    try:
        chunk = s.recv(1000)
    except OSError:
        state = "error"
        break
    if not chunk:
        state = "eof"
        break
    got += len(chunk)
    time.sleep(0.01)
print(got, state)
PY
}

# The proxy's socket buffer (MiBs on loopback) fills at once; after that the
# socket is writable again only once a third of it is free: 10 s and more at
# this rate, during which the proxy writes nothing.
for q in "size=50000000" "size=50000000&chunked=1"; do
    out=$(reader "$q")
    echo "slow reader ($q) after 8 s: $out"
    set -- $out
    [ "$2" = open ] && [ "$1" -gt 300000 ] || fail "the slow reader ($q) was cut: $out"
done

# A client that stops reading: closed after about timeout client.
python3 - "$P" "$TMPDIR/stalled" <<'PY' &
import socket, sys, time
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 8192)
s.connect(("127.0.0.1", int(sys.argv[1])))
s.sendall(b"GET /?size=5000000 HTTP/1.1\r\nHost: x\r\n\r\n")
s.recv(100)
open(sys.argv[2], "w").close()  # from here on it reads nothing
time.sleep(12)
PY
track $!
active() { stats_get "$ST" 'j["connections"]["active"]'; }
wait_for 5 test -e "$TMPDIR/stalled" || fail "the stalled reader did not get its first bytes"
a=$(active); echo "stalled reader: connections active=$a"
[ "$a" = 1 ] || fail "the stalled reader's connection is not open ($a)"
wait_for 2 stats_is "$ST" 'j["connections"]["active"]' 0 ||
    fail "a client that reads nothing was not closed within 2.4 s (timeout client 1s)"
echo "stalled reader closed; active=$(active)"
echo "PASS: slow readers kept receiving; a stalled one was closed"
