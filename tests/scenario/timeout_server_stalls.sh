#!/usr/bin/env bash
# timeout_server_stalls.sh: timeout server ends a server that stalls, and
# says whose fault it was.
#
# - A client that sent its whole request and then trickles the bytes of a
#   pipelined next one kept its server's timeout from ever firing (each
#   byte counted as progress of the exchange): the request held its server
#   (and its max-conns slot) for as long as the client went on.  Now a 504
#   at timeout server.
# - A server that stalls in a body with no length: the cut was logged
#   aborted=client and counted in faults.cut_client, and the client got a
#   clean close, a short body looking whole.  Now aborted=server,
#   faults.cut_server, and a reset.
set -u
. "${TOPSRC:-$(cd "$(dirname "$0")/../.." && pwd)}/tests/support/lib.sh"

P=$(free_port); B=$(free_port); S=$(free_port)
python3 -c '
import sys, time
sys.path.insert(0, sys.argv[2])
from raw_http import serve
def handle(c, head, rest):
    if b" /stall" in head:
        c.sendall(b"HTTP/1.1 200 OK\r\n\r\n" + b"s" * 10)
    time.sleep(30)
serve(int(sys.argv[1]), handle)
' "$B" "$TOPSRC/tests/scenario" &
track $!
wait_port "$B" 5 || fail "the test server did not start"
proxy_conf_basic "$TMPDIR/proxy.conf" "$P" "app 127.0.0.1:$B max-conns 1" "workers 1" \
    "stats 127.0.0.1:$S" "timeout server 1s" "timeout client 5s" "access-log $TMPDIR/access.log"
start_proxy "$TMPDIR/proxy.conf" "$P" "$S"

out=$(timeout 20 python3 -c '
import socket, sys, time
c = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
c.sendall(b"GET /hold HTTP/1.1\r\nHost: x\r\n\r\n")
nxt = b"GET /next HTTP/1.1\r\nHost: x\r\nX-Pad: " + b"p" * 100
t0 = time.time()
c.settimeout(0.2)
got = b""
for i in range(len(nxt)):
    try:
        got += c.recv(4096)
    except socket.timeout:
        pass
    if b"\r\n\r\n" in got or time.time() - t0 > 8:
        break
    c.sendall(nxt[i:i + 1])
print("%s after %.1f s" % (got.split(b"\r\n")[0].decode() or "nothing", time.time() - t0))
' "$P") || fail "the trickling client failed: $out"
echo "trickling client: $out"
case $out in
"HTTP/1.1 504"*) ;;
*) fail "a server that never answered was not ended by timeout server while the client trickled: $out" ;;
esac
secs=${out##* after }
secs=${secs%% s}
python3 -c 'import sys; sys.exit(0 if float(sys.argv[1]) < 4 else 1)' "$secs" ||
    fail "the 504 came after $secs s (timeout server 1s)"
echo "ok: 504 at timeout server with the client trickling its next request"

rc=0
timeout 10 curl -s -o /dev/null "http://127.0.0.1:$P/stall" || rc=$?
[ "$rc" != 0 ] || fail "a body with no length the server stalled in reached the client as whole"
echo "ok: the stalled body with no length ends with a reset (curl exit $rc)"
wait_for 3 grep -q '"GET /stall HTTP/1.1" 200 .*aborted=server' "$TMPDIR/access.log" ||
    fail "the access log does not say aborted=server: $(cat "$TMPDIR/access.log")"
got=$(stats_get "$S" 'j["faults"]["cut_server"], j["faults"]["cut_client"]')
[ "$got" = "1 0" ] || fail "faults cut_server, cut_client are $got, expected 1 0"
echo "ok: logged aborted=server, counted in faults.cut_server"
kill -0 "$PROXY_PID" || fail "the proxy died"
