#!/usr/bin/env bash
# fault_server_cut_signalled.sh: a response the server cut short reaches
# the client as cut, never as whole, whatever frames it to the client;
# faults.cut_server counts each one.
#
# - A body with no length (delimited by the server's close) cut by a reset
#   (a server that crashed): the reset was taken as the body's end and the
#   client got a clean close (HTTP/1.1) or END_STREAM (HTTP/2).
# - A chunked body cut by the server's FIN, relayed un-chunked to an
#   HTTP/1.0 client, ended with a FIN (and over TLS a close_notify): the
#   client could not tell.  Now the client connection is reset.
# - faults.cut_server counted only HTTP/2 streams' cuts.
# - From a TLS server, a body with no length ended by a close without
#   close_notify (a truncation: RFC 9112 9.8) is cut; with close_notify it
#   is whole.
# And the control: a close-delimited body ended by a FIN is whole.
set -u
. "${TOPSRC:-$(cd "$(dirname "$0")/../.." && pwd)}/tests/support/lib.sh"

P=$(free_port); PT=$(free_port); B=$(free_port); S=$(free_port)
python3 -c '
import socket, struct, sys
sys.path.insert(0, sys.argv[2])
from raw_http import serve
def handle(c, head, rest):
    path = head.split(b" ")[1]
    if path.startswith(b"/nolen-rst"):
        c.sendall(b"HTTP/1.1 200 OK\r\n\r\n" + b"a" * 20)
        c.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    elif path.startswith(b"/chunk-cut"):
        c.sendall(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n")
    elif path.startswith(b"/nolen-fin"):
        c.sendall(b"HTTP/1.1 200 OK\r\n\r\n" + b"a" * 20)
serve(int(sys.argv[1]), handle)
' "$B" "$TOPSRC/tests/scenario" &
track $!
wait_port "$B" 5 || fail "the test server did not start"
tls_site "$TMPDIR/certs"
BT=$(free_port)
python3 -c '
import sys
sys.path.insert(0, sys.argv[3])
from raw_http import serve
def handle(c, head, rest):
    c.sendall(b"HTTP/1.1 200 OK\r\n\r\n" + b"t" * 20)
    if b"/tls-whole" in head:
        c.unwrap()  # close_notify, then the close
serve(int(sys.argv[1]), handle, cert=sys.argv[2])
' "$BT" "$TMPDIR/certs/site.pem" "$TOPSRC/tests/scenario" &
track $!
wait_port "$BT" 5 || fail "the TLS test server did not start"
proxy_conf_basic "$TMPDIR/proxy.conf" "$P" "app 127.0.0.1:$B" "workers 1" \
    "listen 127.0.0.1:$PT tls $TMPDIR/certs/site.pem" "stats 127.0.0.1:$S" \
    "pool tlsapp {" "check off" "tls ca $TMPDIR/certs/ca.pem" "tls sni localhost" \
    "server t1 127.0.0.1:$BT" "}" "route path /tls- pool tlsapp" "route path / pool web"
start_proxy "$TMPDIR/proxy.conf" "$P" "$PT" "$S"

# curl's exit status: 0 when it took the response as whole.
get() {
    timeout 10 curl -s -o /dev/null --cacert "$TMPDIR/certs/ca.pem" "$@"
    echo $?
}
cuts=0
expect_cut() {
    local what=$1 rc
    shift
    rc=$(get "$@")
    [ "$rc" != 0 ] || fail "$what: the client took a cut response as whole"
    echo "ok: $what: cut seen by the client (curl exit $rc)"
    cuts=$((cuts + 1))
}
expect_cut "HTTP/1.1, no length, server reset" "http://127.0.0.1:$P/nolen-rst"
expect_cut "HTTP/2, no length, server reset" --http2-prior-knowledge "http://127.0.0.1:$P/nolen-rst"
expect_cut "HTTP/1.0, chunked cut by a FIN" --http1.0 "http://127.0.0.1:$P/chunk-cut"
expect_cut "HTTP/1.1, chunked cut by a FIN" "http://127.0.0.1:$P/chunk-cut"
expect_cut "TLS HTTP/1.0, chunked cut by a FIN" --http1.0 "https://localhost:$PT/chunk-cut" \
    --resolve "localhost:$PT:127.0.0.1"
expect_cut "TLS HTTP/1.1, no length, server reset" --http1.1 "https://localhost:$PT/nolen-rst" \
    --resolve "localhost:$PT:127.0.0.1"
expect_cut "a TLS server's body with no length, closed without close_notify" "http://127.0.0.1:$P/tls-cut"
expect_cut "the same to HTTP/2" --http2-prior-knowledge "http://127.0.0.1:$P/tls-cut"
rc=$(get "http://127.0.0.1:$P/tls-whole")
[ "$rc" = 0 ] || fail "a TLS server's body with no length ended by close_notify was not whole (curl exit $rc)"
rc=$(get "http://127.0.0.1:$P/nolen-fin")
[ "$rc" = 0 ] || fail "a close-delimited body ended by the server's FIN was not whole (curl exit $rc)"
rc=$(get --http1.1 "https://localhost:$PT/nolen-fin" --resolve "localhost:$PT:127.0.0.1")
[ "$rc" = 0 ] || fail "over TLS, a close-delimited body ended by the server's FIN was not whole (curl exit $rc)"
echo "ok: a close-delimited body ended by a FIN is whole, plain and over TLS"

wait_for 3 stats_is "$S" 'j["faults"]["cut_server"]' "$cuts" ||
    fail "faults.cut_server is $(stats_get "$S" 'j["faults"]["cut_server"]'), not $cuts"
echo "ok: faults.cut_server counts the $cuts cuts"
kill -0 "$PROXY_PID" || fail "the proxy died"
