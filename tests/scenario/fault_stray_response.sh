#!/usr/bin/env bash
# fault_stray_response.sh: every client gets its own response.  The server
# follows each response with an unrequested one ("STRAY").  With the
# response's body large (spliced: the stray bytes stay in the socket) and
# small (read with the response), 20 keep-alive clients send 60 requests
# each, every path unique; each response body must start with its own
# path.  The proxy closes a server connection holding bytes beyond a
# response instead of pooling it, and checks an idle one for pending bytes
# before reusing it, so no response crosses to another request.
set -u
. "${TOPSRC:-$(cd "$(dirname "$0")/../.." && pwd)}/tests/support/lib.sh"

P=$(free_port); ST=$(free_port)
bad=0
for size in 100000 64; do
    B=$(free_port)
    start_misbehave "$B" stray --size "$size"
    cat >"$TMPDIR/proxy.conf" <<CONF
workers 2
access-log off
listen 127.0.0.1:$P
stats 127.0.0.1:$ST
pool web {
    check off
    server app1 127.0.0.1:$B
}
CONF
    start_proxy "$TMPDIR/proxy.conf" "$P"
    out=$(python3 - "$P" <<'PY'
import http.client, sys, threading
port = int(sys.argv[1])
res = {"ok": 0, "mismatch": 0, "error": 0}
lock = threading.Lock()
def client(k):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    for i in range(60):
        path = f"/c{k}/r{i}/"
        try:
            conn.request("GET", path)
            body = conn.getresponse().read()
            key = "ok" if body.startswith(path.encode() + b".") or body == path.encode() else "mismatch"
        except Exception:
            key = "error"
            conn.close()
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        with lock:
            res[key] += 1
ts = [threading.Thread(target=client, args=(k,)) for k in range(20)]
[t.start() for t in ts]; [t.join() for t in ts]
print(f"ok={res['ok']} mismatch={res['mismatch']} error={res['error']}")
PY
)
    stray=$(stats_get "$ST" 'j.get("faults", {}).get("server_conns_stray")')
    echo "body $size bytes: $out; stats faults.server_conns_stray=$stray"
    case "$out" in "ok=1200 mismatch=0 error=0") ;; *) bad=1 ;; esac
    [ "${stray:-0}" != None ] && [ "${stray:-0}" -gt 0 ] || { echo "  FAIL: no stray connection counted"; bad=1; }
    stop_pid "$PROXY_PID"; stop_pid "$MISBEHAVE_PID"
done
[ "$bad" = 0 ] || fail "a response went to the wrong request, or a request failed"
echo "PASS: every response reached its own request"
