#!/usr/bin/env bash
# tls_resume_without_close_notify.sh: a peer that closes without
# close_notify still resumes its TLS session next time, both ways.
#
# OpenSSL 3 makes a close without close_notify an error, and an error
# takes the session out of the cache (or marks it not resumable):
# - clients (tls tickets off, the server-side cache) that close TCP
#   without close_notify never resumed: 0 of 5;
# - the proxy stopped resuming with a server that closes its idle
#   keep-alive connections without close_notify: every new connection to
#   it was a full handshake.
# And a Finished and a close_notify in one read count as a handshake, not
# a failure.
set -u
. "${TOPSRC:-$(cd "$(dirname "$0")/../.." && pwd)}/tests/support/lib.sh"

P=$(free_port); PP=$(free_port); S=$(free_port); B=$(free_port); T=$(free_port)
tls_site "$TMPDIR/certs"
start_backend "$B" app
# A TLS server that answers each request (saying whether the handshake
# resumed a session) and closes the idle connection 0.3 s later without
# close_notify.
python3 -c '
import sys, time
sys.path.insert(0, sys.argv[3])
from raw_http import serve
def handle(c, head, rest):
    body = b"reused=%s" % str(c.session_reused).encode()
    c.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n%s" % (len(body), body))
    time.sleep(0.3)  # then closed without close_notify
serve(int(sys.argv[1]), handle, cert=sys.argv[2])
' "$T" "$TMPDIR/certs/site.pem" "$TOPSRC/tests/scenario" &
track $!
wait_port "$T" 5 || fail "the TLS server did not start"
cat >"$TMPDIR/proxy.conf" <<CONF
workers 1
access-log off
tls tickets off
listen 127.0.0.1:$P tls $TMPDIR/certs/site.pem
listen 127.0.0.1:$PP
stats 127.0.0.1:$S
pool web {
    check off
    server app 127.0.0.1:$B
}
pool tlsapp {
    check off
    tls ca $TMPDIR/certs/ca.pem
    tls sni localhost
    server t1 127.0.0.1:$T
}
route path /to-tls pool tlsapp
route default pool web
CONF
start_proxy "$TMPDIR/proxy.conf" "$P" "$PP" "$S"

for v in TLSv1_2 TLSv1_3; do
    out=$(timeout 20 python3 -c '
import socket, ssl, sys
ctx = ssl.create_default_context(cafile=sys.argv[2])
ver = getattr(ssl.TLSVersion, sys.argv[3])
ctx.minimum_version = ctx.maximum_version = ver
sess, resumed = None, 0
for i in range(5):
    raw = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
    c = ctx.wrap_socket(raw, server_hostname="localhost", session=sess)
    c.sendall(b"GET / HTTP/1.1\r\nHost: localhost\r\n\r\n")
    got = b""
    while b"app" not in got:
        got += c.recv(4096)
    resumed += c.session_reused
    sess = c.session
    raw.close()  # under the TLS layer: no close_notify
print(resumed)
' "$P" "$TMPDIR/certs/ca.pem" "$v") || fail "the $v client failed: $out"
    echo "$v, tls tickets off, clients closing without close_notify: $out of 4 resumed"
    [ "$out" = 4 ] || fail "$v: $out of 4 reconnections resumed their session (tls tickets off, no close_notify)"
done

for i in 1 2 3; do
    got=$(curl -s --max-time 5 "http://127.0.0.1:$PP/to-tls")
    echo "request $i to the server closing without close_notify: $got"
    [ "$i" = 1 ] || [ "$got" = "reused=True" ] ||
        fail "request $i: the proxy did not resume its session with the server ($got)"
    sleep 0.6 # the server closes the idle connection: the next request makes a new one
done
echo "ok: sessions resume after closes without close_notify, from clients and from servers"

# A TLS 1.3 client whose Finished and close_notify go in one write.
before=$(stats_get "$S" 'j["listeners"][0]["tls"]["handshakes"], j["listeners"][0]["tls"]["failed"]')
for i in 1 2 3; do
    echo | timeout 5 openssl s_client -connect "127.0.0.1:$P" -servername localhost -tls1_3 \
        -CAfile "$TMPDIR/certs/ca.pem" -quiet >/dev/null 2>&1
done
wait_for 3 stats_is "$S" 'j["listeners"][0]["tls"]["handshakes"]' $((${before% *} + 3)) ||
    fail "3 complete handshakes closed at once: tls.handshakes, failed went from $before to $(stats_get "$S" 'j["listeners"][0]["tls"]["handshakes"], j["listeners"][0]["tls"]["failed"]')"
[ "$(stats_get "$S" 'j["listeners"][0]["tls"]["failed"]')" = "${before#* }" ] || fail "complete handshakes counted as failed"
echo "ok: handshakes closed at once count as handshakes"
