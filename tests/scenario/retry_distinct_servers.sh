#!/usr/bin/env bash
# retry_distinct_servers.sh: a retry goes to a server not tried yet, even
# with more retries than a request can remember servers (8): ten servers
# that each read the request and close unanswered, retries 12.  A GET was
# sent 13 times, 4 of them to one server.  Now at most 8, each to another.
set -u
. "${TOPSRC:-$(cd "$(dirname "$0")/../.." && pwd)}/tests/support/lib.sh"

P=$(free_port)
ports=()
for _ in $(seq 10); do ports+=("$(free_port)"); done
python3 -c '
import socket, sys, threading
log = open(sys.argv[1], "a")
def serve(i, port):
    l = socket.socket()
    l.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    l.bind(("127.0.0.1", port))
    l.listen(16)
    while True:
        c, _ = l.accept()
        data = b""
        while b"\r\n\r\n" not in data:
            d = c.recv(4096)
            if not d:
                break
            data += d
        if data:
            log.write("s%d\n" % i)
            log.flush()
        c.close()  # read, unanswered
for i, port in enumerate(sys.argv[2:]):
    threading.Thread(target=serve, args=(i, int(port)), daemon=True).start()
threading.Event().wait()
' "$TMPDIR/seen.log" "${ports[@]}" &
track $!
for port in "${ports[@]}"; do wait_port "$port" 5 || fail "test server $port did not start"; done
{
    echo "workers 1"
    echo "access-log off"
    echo "listen 127.0.0.1:$P"
    echo "pool web {"
    echo "    check off"
    echo "    fall 100"
    echo "    retries 12"
    i=0
    for port in "${ports[@]}"; do echo "    server s$i 127.0.0.1:$port"; i=$((i + 1)); done
    echo "}"
} >"$TMPDIR/proxy.conf"
start_proxy "$TMPDIR/proxy.conf" "$P"

code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 10 "http://127.0.0.1:$P/")
[ "$code" = 502 ] || fail "expected 502 once every try failed, got $code"
sleep 0.3
sent=$(wc -l <"$TMPDIR/seen.log")
distinct=$(sort -u "$TMPDIR/seen.log" | wc -l)
echo "the GET was sent $sent times, to $distinct servers: $(sort "$TMPDIR/seen.log" | uniq -c | tr -s ' \n' ' ')"
[ "$sent" = "$distinct" ] || fail "a retry went back to a server already tried ($sent sends, $distinct servers)"
[ "$sent" = 8 ] || fail "sent $sent times, expected 8 (the servers a request remembers)"
echo "ok: each retry to a server not tried yet"
