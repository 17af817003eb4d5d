#!/usr/bin/env bash
# tunnel_half_close.sh: a tunnel (after a 101) ends by the two sides' ends
# of stream, each passed on as a half-close after every byte that came
# before it.
#  1. The client shuts its write side: it still gets what the server sends
#     afterwards.  The server answers only once it sees the client's end of
#     stream, so the reply can only arrive if the half-close was passed on
#     (before, the proxy closed both sides at the client's FIN).
#  2. The same with the client's FIN sent before the server's 101 (before,
#     the tunnel ended right after the 101 and the reply was lost).
#  3. The mirror: the server shuts its write side; the client sees the end
#     of stream, and what it sends afterwards still reaches the server
#     (before, the server's FIN closed both sides).
set -u
. "${TOPSRC:-$(cd "$(dirname "$0")/../.." && pwd)}/tests/support/lib.sh"

P=$(free_port); B=$(free_port)
cat >"$TMPDIR/server.py" <<'PY'
import socket, sys, time
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
    if head.startswith(b"GET /late "):
        time.sleep(0.3)  # the client's FIN is at the proxy before the 101
    c.sendall(b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n")
    got = head.split(b"\r\n\r\n", 1)[1]
    if head.startswith(b"GET /bye "):
        c.sendall(b"bye")
        c.shutdown(socket.SHUT_WR)
        while True:
            chunk = c.recv(4096)
            if not chunk:
                break
            got += chunk
        print("server got [%s] after its end of stream" % got.decode(), flush=True)
        c.close()
        continue
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

proxy_conf_basic "$TMPDIR/proxy.conf" "$P" "ws 127.0.0.1:$B" "workers 1"
start_proxy "$TMPDIR/proxy.conf" "$P"

# The clients' common part: the upgrade request, reading to the end of
# stream, and the bytes after the 101 head.
cat >"$TMPDIR/ws.py" <<'PY'
import socket, sys

def upgrade(path, extra=b""):
    s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=5)
    s.sendall(b"GET " + path + b" HTTP/1.1\r\nHost: t\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
              b"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n" + extra)
    return s

def read_to_eof(s, data=b""):
    while True:
        chunk = s.recv(4096)
        if not chunk:
            return data
        data += chunk

def after_101(data):
    assert data.startswith(b"HTTP/1.1 101"), data
    return data.split(b"\r\n\r\n", 1)[1]
PY

cat >"$TMPDIR/client.py" <<'PY'
import socket
from ws import upgrade, read_to_eof, after_101
s = upgrade(b"/chat")
data = b""
while b"\r\n\r\n" not in data:
    chunk = s.recv(4096)
    if not chunk:
        break
    data += chunk
rest = after_101(data)
s.sendall(b"ping-1 ")
s.sendall(b"ping-2")
s.shutdown(socket.SHUT_WR)
print(read_to_eof(s, rest).decode())
PY
for i in 1 2 3 4 5; do
    out=$(timeout 10 python3 "$TMPDIR/client.py" "$P" 2>&1)
    [ "$out" = "got ping-1 ping-2 then your end of stream" ] ||
        fail "trial $i: the client got [$out] after its half-close"
done
echo "5/5 trials: the server saw the client's end of stream after all its bytes, and its reply came through"

# 2. The client's FIN before the 101.
cat >"$TMPDIR/early.py" <<'PY'
import socket
from ws import upgrade, read_to_eof, after_101
s = upgrade(b"/late", b"early-ping")
s.shutdown(socket.SHUT_WR)
print(after_101(read_to_eof(s)).decode())
PY
for i in 1 2 3; do
    out=$(timeout 10 python3 "$TMPDIR/early.py" "$P" 2>&1)
    [ "$out" = "got early-ping then your end of stream" ] ||
        fail "FIN before the 101, trial $i: the client got [$out]"
done
echo "3/3 trials: a FIN sent before the 101 went to the server as a half-close after the 101, and the reply came through"

# 3. The server's half-close.
cat >"$TMPDIR/late.py" <<'PY'
import socket
from ws import upgrade, read_to_eof, after_101
s = upgrade(b"/bye")
data = read_to_eof(s)  # to the server's end of stream, passed on
s.sendall(b"after-your-end")
s.shutdown(socket.SHUT_WR)
closed = s.recv(4096) == b""  # the proxy closes once both sides ended
print(after_101(data).decode(), "closed" if closed else "open")
PY
for i in 1 2 3; do
    out=$(timeout 10 python3 "$TMPDIR/late.py" "$P" 2>&1)
    [ "$out" = "bye closed" ] || fail "server half-close, trial $i: the client got [$out]"
done
wait_for 3 sh -c "[ \$(grep -c 'server got \[after-your-end\] after its end of stream' '$TMPDIR/server.out') = 3 ]" ||
    fail "the server did not get the client's bytes sent after its half-close: $(cat "$TMPDIR/server.out")"
echo "3/3 trials: the server's half-close reached the client after its bytes, and the client's later bytes reached the server"
# The tunnel is gone once the server closed: nothing left open.
wait_for 3 sh -c "! ss -Htn state established '( sport = :$P )' | grep -q ." ||
    fail "client connections still open on the proxy: $(ss -Htn state established "( sport = :$P )")"
echo "PASS"
