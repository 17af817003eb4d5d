#!/usr/bin/env bash
# fault_close_delimited_pipelined.sh: a keep-alive client that sends its
# next request while a close-delimited response (no Content-Length) is
# still coming gets the whole response, then the close.
#
# The proxy must close after such a response; it closed at once, and the
# client's next request, arriving at a closed socket (or still unread in
# it), made the kernel reset the connection - throwing away the part of
# the response still queued for the client (50 KB of 1 MB arrived).  Now
# it shuts its write side and drains the client's input for a moment
# (the lingering close), as after an early answer.
set -u
. "${TOPSRC:-$(cd "$(dirname "$0")/../.." && pwd)}/tests/support/lib.sh"

P=$(free_port); B=$(free_port)
python3 -c '
import sys
sys.path.insert(0, sys.argv[2])
from raw_http import serve
def handle(c, head, rest):
    c.sendall(b"HTTP/1.1 200 OK\r\n\r\n" + b"z" * 1000000)
serve(int(sys.argv[1]), handle)
' "$B" "$TOPSRC/tests/scenario" &
track $!
wait_port "$B" 5 || fail "the test server did not start"
proxy_conf_basic "$TMPDIR/proxy.conf" "$P" "big 127.0.0.1:$B" "workers 1"
start_proxy "$TMPDIR/proxy.conf" "$P"

python3 -c '
import socket, sys, time
sys.path.insert(0, sys.argv[2])
from raw_http import read_to_eof
port = int(sys.argv[1])
bad = 0
for npipe, delay in ((0, 0), (1, 0.1), (1, 0.5), (200, 0)):
    c = socket.create_connection(("127.0.0.1", port))
    c.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 32768)
    c.settimeout(5)
    first = b"GET /first HTTP/1.1\r\nHost: x\r\n\r\n"
    extra = (b"GET /next HTTP/1.1\r\nHost: x\r\nX-Pad: " + b"p" * 400 + b"\r\n\r\n") * npipe
    if delay:
        c.sendall(first)
        time.sleep(delay)
        c.sendall(extra)
    else:
        c.sendall(first + extra)
    time.sleep(0.3)
    got, err = read_to_eof(c)
    body = got.split(b"\r\n\r\n", 1)[1] if b"\r\n\r\n" in got else b""
    ok = len(body) == 1000000 and err is None
    bad += not ok
    print(f"next request(s) {npipe} ({len(extra)} bytes, after {delay}s): body {len(body)} of 1000000, error {err}")
    c.close()
sys.exit(1 if bad else 0)
' "$P" "$TOPSRC/tests/scenario" || fail "a close-delimited response was cut when the client sent its next request"
kill -0 "$PROXY_PID" || fail "the proxy died"
echo "ok: whole close-delimited responses with the client's next requests arriving"
