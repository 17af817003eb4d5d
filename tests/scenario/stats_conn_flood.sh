#!/usr/bin/env bash
# stats_conn_flood: the stats port's 512 connections, all held by idle or
# slow clients, do not lock monitoring out: a new client gets /api/stats
# and /metrics at once (the oldest idle connection makes room, then the
# oldest still sending a request), and a connection being answered is never
# the one closed.  Before, a new connection was closed at once until the
# flood's connections timed out (timeout client).
set -u
. "${TOPSRC:-$(cd "$(dirname "$0")/../.." && pwd)}/tests/support/lib.sh"

P=$(free_port); S=$(free_port); B=$(free_port)
start_backend "$B" app
proxy_conf_basic "$TMPDIR/proxy.conf" "$P" "app 127.0.0.1:$B" "workers 1" "stats 127.0.0.1:$S" \
    "timeout client 30s" "timeout keep-alive 30s"
start_proxy "$TMPDIR/proxy.conf" "$P" "$S"

# MODE idle: connections that send nothing; slow: each sends half a request.
flood() {   # MODE: holds 600 connections open, checks a new client, prints the result
    python3 - "$S" "$1" <<'PYEOF'
import socket, subprocess, sys, time
port, mode = int(sys.argv[1]), sys.argv[2]
socks = [socket.create_connection(("127.0.0.1", port)) for _ in range(600)]
if mode == "slow":
    for s in socks:
        s.sendall(b"GET /api/stats HTTP/1.1\r\nHost: x\r\n")
time.sleep(0.5)
for path in ("/api/stats", "/metrics"):
    r = subprocess.run(["curl", "-s", "-o", "/dev/null", "-w", "%{http_code}", "--max-time", "3",
                        "http://127.0.0.1:%d%s" % (port, path)], capture_output=True, text=True)
    print("%s %s" % (path, r.stdout))
# The newest of the flood are still open: only the oldest made room.
for s in socks[-100:]:
    s.setblocking(False)
    try:
        alive = s.recv(1) != b""
    except BlockingIOError:
        alive = True
    except OSError:
        alive = False
    if not alive:
        print("a new connection was closed")
        break
for s in socks:
    s.close()
PYEOF
}
for mode in idle slow; do
    out=$(flood "$mode")
    echo "$mode: $(echo "$out" | tr '\n' ' ')"
    echo "$out" | grep -q '^/api/stats 200$' || fail "$mode flood: /api/stats did not answer: $out"
    echo "$out" | grep -q '^/metrics 200$' || fail "$mode flood: /metrics did not answer: $out"
    echo "$out" | grep -q 'a new connection was closed' && fail "$mode flood: a recent connection was closed: $out"
done
echo "stats_conn_flood: monitoring gets through idle and slow floods"
