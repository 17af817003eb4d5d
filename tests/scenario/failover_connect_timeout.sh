#!/usr/bin/env bash
# failover_connect_timeout.sh: a server whose connects hang (its accept
# queue is full, so the kernel drops the SYNs) costs a request `timeout
# connect` and then the request goes to another server; with no other
# server to try, the client gets 504 after that one timeout.
set -u
. "${TOPSRC:-$(cd "$(dirname "$0")/../.." && pwd)}/tests/support/lib.sh"

P=$(free_port); B1=$(free_port); HANG=$(free_port)
python3 - "$HANG" >"$TMPDIR/hang.log" 2>&1 <<'PY' &
import socket, sys, time
port = int(sys.argv[1])
ls = socket.socket(); ls.bind(("127.0.0.1", port)); ls.listen(0)
fill = []  # never accepted: the queue stays full, later SYNs are dropped
for _ in range(3):
    c = socket.socket(); c.setblocking(False)
    try:
        c.connect(("127.0.0.1", port))
    except BlockingIOError:
        pass
    fill.append(c)
time.sleep(120)
PY
track $!
sleep 0.5
cat >"$TMPDIR/proxy.conf" <<CONF
workers 1
access-log stderr
listen 127.0.0.1:$P
timeout connect 300ms
route path /only-hang pool hang
route default pool web
pool web {
    check off
    balance round-robin
    retries 1
    fall 100
    server hang 127.0.0.1:$HANG
    server app1 127.0.0.1:$B1
}
pool hang {
    check off
    retries 1
    fall 100
    server hang 127.0.0.1:$HANG
}
CONF
start_backend "$B1" app1
start_proxy "$TMPDIR/proxy.conf" "$P"

slow=0
for i in 1 2 3 4; do
    out=$(curl -s -o "$TMPDIR/body" -w '%{http_code} %{time_total}' "http://127.0.0.1:$P/x$i")
    code=${out% *}; t=${out#* }
    [ "$code" = 200 ] || fail "request $i: got $code, want 200 from app1 after the hung connect"
    [ "$(cat "$TMPDIR/body")" = app1 ] || fail "request $i answered by $(cat "$TMPDIR/body")"
    awk -v t="$t" 'BEGIN { exit !(t > 0.25) }' && slow=$((slow + 1))
    echo "request $i: $code in ${t}s"
done
[ "$slow" -ge 1 ] || fail "no request waited for the hung connect: round-robin never picked it?"

out=$(curl -s -o /dev/null -w '%{http_code} %{time_total}' "http://127.0.0.1:$P/only-hang")
code=${out% *}; t=${out#* }
echo "pool with only the hung server: $code in ${t}s (timeout connect 300ms)"
[ "$code" = 504 ] || fail "only a hung server: got $code, want 504"
awk -v t="$t" 'BEGIN { exit !(t >= 0.25 && t < 2.0) }' || fail "504 after ${t}s, want about 0.3s (timeout connect)"
echo "PASS: hung connects time out after timeout connect and are retried elsewhere; 504 when nothing else"
