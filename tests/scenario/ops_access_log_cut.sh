#!/usr/bin/env bash
# ops_access_log_cut.sh: a response cut short says so.  The access log line
# of a download the client abandoned ends with aborted=client, one the
# server cut (it closed before its Content-Length) with aborted=server, and
# one that `timeout shutdown` ended with aborted=shutdown (the line is
# still written, with status "-" for a request not yet answered, and the
# stop's warning says how many were cut); each is
# counted in faults.cut_client / cut_server / cut_shutdown.  A whole
# response has no flag.
set -u
. "${TOPSRC:-$(cd "$(dirname "$0")/../.." && pwd)}/tests/support/lib.sh"

P=$(free_port); B=$(free_port); M=$(free_port); ST=$(free_port)
start_backend "$B" app1
# A server that announces 100000 bytes, sends 10 and closes.
python3 - "$M" <<'PY' &
import socket, sys
ls = socket.socket(); ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
ls.bind(("127.0.0.1", int(sys.argv[1]))); ls.listen(8)
while True:
    c, _ = ls.accept()
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = c.recv(4096)
        if not chunk:
            break
        data += chunk
    c.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 100000\r\n\r\n0123456789")
    c.close()
PY
track $!
wait_port "$M" 5 || fail "the cutting server did not start"
cat >"$TMPDIR/proxy.conf" <<CONF
workers 1
access-log $TMPDIR/access.log
listen 127.0.0.1:$P
stats 127.0.0.1:$ST
timeout shutdown 1s
pool web {
    check off
    server app1 127.0.0.1:$B
}
pool cut {
    check off
    server cutter 127.0.0.1:$M
}
route path /cut pool cut
route default pool web
CONF
start_proxy "$TMPDIR/proxy.conf" "$P" "$ST"

curl -s -o /dev/null "http://127.0.0.1:$P/whole"
# The client leaves after the first bytes of a slow 5 MB body.
python3 - "$P" <<'PY'
import socket, sys, time
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
s.sendall(b"GET /client?size=5000000 HTTP/1.1\r\nHost: x\r\n\r\n")
s.recv(1000); time.sleep(0.3); s.close()
PY
curl -s -o /dev/null "http://127.0.0.1:$P/cut"
wait_for 5 grep -q '"GET /cut ' "$TMPDIR/access.log" || fail "no line for the server's cut"
wait_for 5 grep -q '"GET /client' "$TMPDIR/access.log" || fail "no line for the client's leaving"
grep '"GET /whole ' "$TMPDIR/access.log" | grep -q 'aborted=' && fail "a whole response is flagged"
grep '"GET /client' "$TMPDIR/access.log" | grep -q ' aborted=client$' || fail "client: $(grep '/client' "$TMPDIR/access.log")"
grep '"GET /cut ' "$TMPDIR/access.log" | grep -q ' aborted=server$' || fail "server: $(grep '/cut' "$TMPDIR/access.log")"
echo "client and server cuts flagged"

# A download still running at the stop: timeout shutdown ends it.  And
# one whose body ends at the close (HTTP/1.0, the chunked body decoded for
# it): cut by the stop, it ends with a reset, never a FIN that would make
# it look whole.
python3 - "$P" "$TMPDIR/cut10" <<'PY' &
import socket, sys, time
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
s.sendall(b"GET /shutdown10?size=50000000&chunked=1 HTTP/1.0\r\nHost: x\r\n\r\n")
s.recv(1000)
end = "fin"
try:
    while s.recv(65536):
        time.sleep(0.05)
except ConnectionResetError:
    end = "reset"
open(sys.argv[2], "w").write(end)
PY
track $!
python3 - "$P" "$TMPDIR/started" <<'PY' &
import socket, sys, time
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
s.sendall(b"GET /shutdown?size=50000000 HTTP/1.1\r\nHost: x\r\n\r\n")
s.recv(1000); open(sys.argv[2], "w").close()
while s.recv(100):
    time.sleep(0.05)
PY
track $!
wait_for 5 test -e "$TMPDIR/started" || fail "the long download did not start"
# And two requests still waiting for their server's answer, HTTP/1.1 and
# HTTP/2: no line and no count before (an HTTP/2 one was a 499, the
# client's word), now status "-" and aborted=shutdown.
curl -s -o /dev/null --max-time 10 "http://127.0.0.1:$P/wait-h1?delay=20000" &
track $!
curl -s -o /dev/null --max-time 10 --http2-prior-knowledge "http://127.0.0.1:$P/wait-h2?delay=20000" &
track $!
wait_for 5 stats_is "$ST" 'srv("web", "app1")["active"]' 4 || fail "the waiting requests did not reach the server"
faults=$(stats_get "$ST" 'j["faults"]["cut_client"], j["faults"]["cut_server"]')
kill -TERM "$PROXY_PID"
wait "$PROXY_PID"
grep '"GET /shutdown' "$TMPDIR/access.log" | grep -q ' aborted=shutdown$' ||
    fail "no access-log line with aborted=shutdown: $(tail -n2 "$TMPDIR/access.log")"
for w in "GET /wait-h1?delay=20000 HTTP/1.1" "GET /wait-h2?delay=20000 HTTP/2.0"; do
    grep -F "\"$w\" - 0 web app1 " "$TMPDIR/access.log" | grep -q ' aborted=shutdown$' ||
        fail "no line with status - and aborted=shutdown for $w: $(grep wait- "$TMPDIR/access.log")"
done
wait_for 5 test -s "$TMPDIR/cut10" || fail "the HTTP/1.0 download did not end"
[ "$(cat "$TMPDIR/cut10")" = reset ] || fail "an HTTP/1.0 body cut by the stop ended with a FIN: taken as whole"
grep -q 'graceful stop: 4 requests cut short at timeout shutdown' "$TMPDIR/proxy.log" ||
    fail "the stop does not say how many were cut: $(tail -n3 "$TMPDIR/proxy.log")"
[ "$faults" = "1 1" ] || fail "faults.cut_client, cut_server = $faults, want 1 1"
echo "shutdown cut flagged and counted; faults cut_client/cut_server: $faults"
echo "PASS"
