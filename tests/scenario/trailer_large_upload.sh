#!/usr/bin/env bash
# trailer_large_upload.sh: a chunked upload whose trailer section makes
# the rewritten request outgrow its buffer reaches the server whole, sent
# in one write by the client (the head, a 15,000-byte chunk and 400
# trailer lines).
#
# The rewrite needs a larger buffer; while the first bytes' send to the
# server was still queued for the loop round (io_uring batching) the
# buffer could not move, and the request was cut: no answer, the server
# got nothing.  The queued send is made at once now, and the buffer grows.
set -u
. "${TOPSRC:-$(cd "$(dirname "$0")/../.." && pwd)}/tests/support/lib.sh"

P=$(free_port); B=$(free_port)
python3 -c '
import sys
sys.path.insert(0, sys.argv[2])
from raw_http import serve
def handle(c, head, body):
    while not body.endswith(b"\r\n\r\n"):
        d = c.recv(65536)
        if not d:
            break
        body += d
    last = body.rstrip(b"\r\n").rsplit(b"\r\n", 1)[-1]
    reply = b"body %d last %s" % (len(body), last)
    c.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n" % len(reply) + reply)
serve(int(sys.argv[1]), handle)
' "$B" "$TOPSRC/tests/scenario" &
track $!
wait_port "$B" 5 || fail "the test server did not start"
proxy_conf_basic "$TMPDIR/proxy.conf" "$P" "app 127.0.0.1:$B" "workers 1"
start_proxy "$TMPDIR/proxy.conf" "$P"

out=$(python3 -c '
import socket, sys
sys.path.insert(0, sys.argv[2])
from raw_http import read_to_eof
n = 15000
trailers = b"".join(b"t%d:1\r\n" % k for k in range(400))
req = (b"POST /up HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n"
       + b"%x\r\n" % n + b"B" * n + b"\r\n0\r\n" + trailers + b"\r\n")
c = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=5)
c.sendall(req)
got, err = read_to_eof(c)
print(got.split(b"\r\n")[0].decode(), got.rsplit(b"\r\n\r\n", 1)[-1].decode(), err or "")
' "$P" "$TOPSRC/tests/scenario")
echo "upload with 400 trailer lines: $out"
case $out in "HTTP/1.1 200 OK body "*" last t399: 1 ") ;; *) fail "the upload was not relayed whole: '$out'" ;; esac
echo "ok: a trailer section that outgrows the buffer goes through"
