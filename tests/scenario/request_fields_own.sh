#!/usr/bin/env bash
# request_fields_own.sh: what the proxy says of a request is its own.
#
# - X_Forwarded_Proto / X_Forwarded_For (underscores: CGI and WSGI servers
#   read them as X-Forwarded-Proto) went on beside the proxy's own, and
#   Python's wsgiref gave the application "https,http" for a plain-HTTP
#   client: now replaced like the hyphenated names.
# - The same fields in a chunked request's trailer section went on after
#   the head (a server merging trailers in would take the client's): now
#   dropped there.
# - An answer before the request body is all in (a server's early 413)
#   closes the client after it, and now says so (Connection: close):
#   a keep-alive client sent its next request into the close.
set -u
. "${TOPSRC:-$(cd "$(dirname "$0")/../.." && pwd)}/tests/support/lib.sh"

P=$(free_port); B=$(free_port)
python3 -c '
import sys, time
sys.path.insert(0, sys.argv[2])
from raw_http import serve
def handle(c, head, rest):
    if b" /early" in head:
        c.sendall(b"HTTP/1.1 413 Payload Too Large\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
        return
    data = rest
    if b"chunked" in head.lower():
        c.settimeout(3)
        while not data.endswith(b"\r\n\r\n") or b"\r\n0\r\n" not in b"\r\n" + data:
            d = c.recv(65536)
            if not d:
                break
            data += d
    open(sys.argv[3], "ab").write(head + data + b"\n=====\n")
    c.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
serve(int(sys.argv[1]), handle)
' "$B" "$TOPSRC/tests/scenario" "$TMPDIR/seen" &
track $!
wait_port "$B" 5 || fail "the test server did not start"
proxy_conf_basic "$TMPDIR/proxy.conf" "$P" "app 127.0.0.1:$B" "workers 1"
start_proxy "$TMPDIR/proxy.conf" "$P"

out=$(timeout 20 python3 -c '
import socket, sys
port = int(sys.argv[1])
def exchange(req):
    c = socket.create_connection(("127.0.0.1", port))
    c.settimeout(5)
    c.sendall(req)
    got = b""
    while b"\r\n\r\n" not in got:
        d = c.recv(65536)
        if not d:
            break
        got += d
    return c, got
c, got = exchange(b"GET /under HTTP/1.1\r\nHost: x\r\nX_Forwarded_Proto: https\r\nX_forwarded_for: 6.6.6.6\r\n\r\n")
print("under:", got.split(b"\r\n")[0].decode())
c, got = exchange(b"POST /trailer HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
                  b"2\r\nhi\r\n0\r\nX-Forwarded-Proto: https\r\nX-Forwarded-For: 6.6.6.6\r\nX-Sum: 7\r\n\r\n")
print("trailer:", got.split(b"\r\n")[0].decode())
c, got = exchange(b"POST /early HTTP/1.1\r\nHost: x\r\nContent-Length: 1000000\r\n\r\n" + b"b" * 1000)
print("early:", got.split(b"\r\n")[0].decode(), "close" if b"\r\nconnection: close\r\n" in got.lower() else "no-close")
' "$P") || fail "the client failed: $out"
echo "$out"
echo "$out" | grep -q '^under: HTTP/1.1 200' || fail "the request with underscore fields was not served"
echo "$out" | grep -q '^trailer: HTTP/1.1 200' || fail "the request with trailers was not served"
echo "$out" | grep -q '^early: HTTP/1.1 413 .* close$' || fail "an early 413 does not say the connection closes: $out"
under=$(awk '/GET \/under/,/=====/' "$TMPDIR/seen")
echo "$under" | grep -qi '^x_forwarded' && fail "the client's underscore fields reached the server as they were: $under"
echo "$under" | grep -qi '^x.forwarded.proto: https' && fail "the client's X_Forwarded_Proto reached the server: $under"
echo "$under" | grep -q '^X-Forwarded-Proto: http' || fail "no X-Forwarded-Proto of the proxy's: $under"
# X_Forwarded_For is the client's X-Forwarded-For: the proxy's address
# appended to it, in one field, as for the hyphenated name.
[ "$(echo "$under" | grep -ci '^x.forwarded.for:')" = 1 ] || fail "more than one X-Forwarded-For: $under"
trailer=$(awk '/POST \/trailer/,/=====/' "$TMPDIR/seen")
body=${trailer#*$'\r\n\r\n'}
echo "$body" | grep -qi 'forwarded' && fail "the client's X-Forwarded-* trailers reached the server: $body"
echo "$body" | grep -q '^X-Sum: 7' || fail "an ordinary trailer field did not reach the server: $body"
echo "ok: the proxy's forwarding fields cannot be spoofed by spelling or trailers; an early 413 says it closes"
