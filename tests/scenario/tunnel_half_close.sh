#!/usr/bin/env bash
# tunnel_half_close.sh: after a 101 (WebSocket), a client that shuts its
# write side still gets what the server sends afterwards.  The proxy passes
# the half-close on to the server (after every byte the client sent) and
# keeps relaying the other way until the server closes.
#
# The server here answers only once it sees the client's end of stream, so
# the reply can only arrive if the half-close was passed on: before, the
# proxy closed both sides at the client's FIN and the reply was lost.
set -u
. "${TOPSRC:-$(cd "$(dirname "$0")/../.." && pwd)}/tests/support/lib.sh"

P=$(free_port); B=$(free_port)
cat >"$TMPDIR/server.py" <<'PY'
import socket, sys
srv = socket.socket()
srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
srv.bind(("127.0.0.1", int(sys.argv[1])))
srv.listen(8)
print("ready", flush=True)
while True:
    c, _ = srv.accept()
    c.settimeout(5)
    head = b""
    while b"\r\n\r\n" not in head:
        chunk = c.recv(4096)
        if not chunk:
            break
        head += chunk
    if b"upgrade: websocket" not in head.lower():
        c.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
        c.close()
        continue
    c.sendall(b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n")
    got = head.split(b"\r\n\r\n", 1)[1]
    while True:
        chunk = c.recv(4096)
        if not chunk:
            break
        got += chunk
    # The client's stream ended: answer with what came, then close.
    c.sendall(b"got " + got + b" then your end of stream")
    c.close()
PY
python3 "$TMPDIR/server.py" "$B" >"$TMPDIR/server.out" 2>&1 &
track $!
wait_port "$B" 5 || fail "test server did not start"

cat >"$TMPDIR/proxy.conf" <<CONF
workers 1
access-log off
listen 127.0.0.1:$P
pool web {
    check off
    server ws 127.0.0.1:$B
}
CONF
start_proxy "$TMPDIR/proxy.conf" "$P"

cat >"$TMPDIR/client.py" <<'PY'
import socket, sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=5)
s.sendall(b"GET /chat HTTP/1.1\r\nHost: t\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
          b"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n")
data = b""
while b"\r\n\r\n" not in data:
    chunk = s.recv(4096)
    if not chunk:
        break
    data += chunk
assert data.startswith(b"HTTP/1.1 101"), data
rest = data.split(b"\r\n\r\n", 1)[1]
s.sendall(b"ping-1 ")
s.sendall(b"ping-2")
s.shutdown(socket.SHUT_WR)
while True:
    chunk = s.recv(4096)
    if not chunk:
        break
    rest += chunk
print(rest.decode())
PY
for i in 1 2 3 4 5; do
    out=$(timeout 10 python3 "$TMPDIR/client.py" "$P" 2>&1)
    [ "$out" = "got ping-1 ping-2 then your end of stream" ] ||
        fail "trial $i: the client got [$out] after its half-close"
done
echo "5/5 trials: the server saw the client's end of stream after all its bytes, and its reply came through"
# The tunnel is gone once the server closed: nothing left open.
wait_for 3 sh -c "! ss -Htn state established '( sport = :$P )' | grep -q ." ||
    fail "client connections still open on the proxy: $(ss -Htn state established "( sport = :$P )")"
echo "PASS"
