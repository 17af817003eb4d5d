#!/usr/bin/env bash
# tunnel_server_ends.sh: a server that ends a tunnel (a WebSocket it
# closes: a kick, a deploy) while the client still sends is not a failing
# server.  Before, the proxy's next write to it failed and counted as a
# failure on traffic: after `fall` (3) such sessions the server was marked
# down and every client got 503.
set -u
. "${TOPSRC:-$(cd "$(dirname "$0")/../.." && pwd)}/tests/support/lib.sh"

P=$(free_port); B=$(free_port); S=$(free_port)
python3 -c '
import sys
sys.path.insert(0, sys.argv[2])
from raw_http import serve
def handle(c, head, rest):
    if b"upgrade: websocket" in head.lower():
        c.sendall(b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\nbye")
    else:
        c.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
serve(int(sys.argv[1]), handle)
' "$B" "$TOPSRC/tests/scenario" &
track $!
wait_port "$B" 5 || fail "the test server did not start"
proxy_conf_basic "$TMPDIR/proxy.conf" "$P" "ws 127.0.0.1:$B" "workers 1" "stats 127.0.0.1:$S"
start_proxy "$TMPDIR/proxy.conf" "$P" "$S"

python3 -c '
import socket, sys, time
sys.path.insert(0, sys.argv[2])
from raw_http import read_to_eof
for k in range(5):
    c = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=3)
    c.sendall(b"GET /ws HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n")
    try:
        for _ in range(5):
            time.sleep(0.1)
            c.sendall(b"client-frame")  # still talking after the server left
    except OSError:
        pass
    got, _ = read_to_eof(c)
    c.close()
    print("session", k, "got", got.endswith(b"bye"))
' "$P" "$TOPSRC/tests/scenario" || fail "the sessions failed"
state=$(stats_get "$S" "srv('web', 'ws')['state'], srv('web', 'ws')['failures']")
echo "after 5 sessions the server ended: state, failures: $state"
[ "$state" = "up 0" ] || fail "sessions the server ended counted as its failures: $state"
code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 3 "http://127.0.0.1:$P/")
[ "$code" = 200 ] || fail "a request after the sessions: $code"
echo "ok: a server ending its tunnels stays up"
