#!/usr/bin/env bash
# scenario: alone
# body_large.sh: large response bodies (relayed with splice(2) past 64 KiB
# of Content-Length) arrive byte for byte, the server connection is reused
# after them, chunked and close-delimited large bodies still go through the
# buffers, and a server that dies in the middle of a large body cuts the
# client off (never a short body presented as complete).
set -u
. "${TOPSRC:-$(cd "$(dirname "$0")/../.." && pwd)}/tests/support/lib.sh"

P=$(free_port); B1=$(free_port); CUT=$(free_port)
cat >"$TMPDIR/proxy.conf" <<CONF
workers 1
log-level info
access-log stderr
listen 127.0.0.1:$P
route path /cut pool cut
route default pool web
pool web {
    check off
    server app1 127.0.0.1:$B1
}
pool cut {
    check off
    retries 0
    server liar 127.0.0.1:$CUT
}
CONF
start_backend "$B1" app1
# A server that promises 1 MiB and closes after 200 KiB.
python3 - "$CUT" >"$TMPDIR/cut.log" 2>&1 <<'PY' &
import socket, sys
ls = socket.socket(); ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
ls.bind(("127.0.0.1", int(sys.argv[1]))); ls.listen(16)
while True:
    c, _ = ls.accept()
    c.recv(65536)
    c.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 1048576\r\n\r\n" + b"x" * 204800)
    c.close()
PY
track $!
wait_port "$CUT"
start_proxy "$TMPDIR/proxy.conf" "$P"

for size in 70000 1048576 5000000; do
    want=$(curl -s "http://127.0.0.1:$B1/?size=$size" | md5sum)
    got=$(curl -s "http://127.0.0.1:$P/?size=$size" | md5sum)
    [ "$want" = "$got" ] || fail "a $size-byte body differs through the proxy"
    want=$(curl -s "http://127.0.0.1:$B1/?size=$size&chunked=1" | md5sum)
    got=$(curl -s "http://127.0.0.1:$P/?size=$size&chunked=1" | md5sum)
    [ "$want" = "$got" ] || fail "a chunked $size-byte body differs through the proxy"
    got=$(curl -s "http://127.0.0.1:$P/?size=$size&close=1" | wc -c)
    [ "$got" = "$size" ] || fail "a close-delimited $size-byte body came as $got bytes"
done
echo "bodies of 70000, 1048576, 5000000 bytes (sized, chunked, to close): identical"

# Large then small on one client connection: the second answer comes on
# the same connection, through the same (reused) server connection.
python3 - "$P" <<'PY' || fail "keep-alive after a spliced body failed"
import http.client, sys
c = http.client.HTTPConnection("127.0.0.1", int(sys.argv[1]), timeout=5)
seqs = []
for path in ("/?size=3000000", "/", "/?size=200000", "/"):
    c.request("GET", path)
    r = c.getresponse()
    body = r.read()
    want = int(path.split("=")[1]) if "=" in path else len("app1\n")
    assert r.status == 200 and len(body) == want, (path, r.status, len(body))
    seqs.append(int(r.getheader("X-Conn-Seq")))
assert seqs == [1, 2, 3, 4], "server connection not reused: X-Conn-Seq %s" % seqs
print("keep-alive through spliced bodies: X-Conn-Seq", seqs)
PY

# The liar: the client must not get a complete-looking 1 MiB body.
got=$(curl -s -o "$TMPDIR/cut.body" -w '%{http_code} %{size_download}' "http://127.0.0.1:$P/cut"; echo " rc=$?")
echo "server cut mid-body: curl says: $got"
case "$got" in
    *"rc=0") fail "curl saw a complete response from a server that cut its body: $got" ;;
esac
[ "$(wc -c <"$TMPDIR/cut.body")" -lt 1048576 ] || fail "the cut body arrived whole?"
echo "PASS: large bodies relayed exactly; a cut body is a cut connection"
