#!/usr/bin/env bash
# scenario: alone
# balance_workers.sh: client connections are spread evenly over the worker
# threads.  Each worker has its own SO_REUSEPORT socket and the kernel picks
# one by a hash, uneven by chance; a worker that accepts while another holds
# at least two fewer connections hands the new one over.
#
# 4 workers, 120 keep-alive clients opened one after another, each making a
# request and staying open: every worker must hold 30 +/- 1 of them
# (`connections.per_worker` in /api/stats), and every request must have
# been answered.  Without the hand-over, a 4-way hash split of 120 lands
# within +/-1 of 30 on all four workers in well under 1% of runs.
# Then the clients close and every worker is back to 0.
set -u
. "${TOPSRC:-$(cd "$(dirname "$0")/../.." && pwd)}/tests/support/lib.sh"

P=$(free_port); S=$(free_port); B1=$(free_port)
proxy_conf_basic "$TMPDIR/proxy.conf" "$P" "app1 127.0.0.1:$B1" "workers 4" "stats 127.0.0.1:$S"
start_backend "$B1" app1
start_proxy "$TMPDIR/proxy.conf" "$P" "$S"

per_worker() {
    stats_get "$S" '" ".join(map(str, j["connections"]["per_worker"]))'
}

# The clients: open, one request each, hold until stdin closes.
mkfifo "$TMPDIR/hold"
cat >"$TMPDIR/clients.py" <<'PY'
import socket, sys
port, n = int(sys.argv[1]), int(sys.argv[2])
socks, ok = [], 0
for i in range(n):
    s = socket.create_connection(("127.0.0.1", port), timeout=5)
    s.sendall(b"GET /c%d HTTP/1.1\r\nHost: t\r\n\r\n" % i)
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = s.recv(4096)
        if not chunk:
            break
        data += chunk
    ok += data.startswith(b"HTTP/1.1 200")
    socks.append(s)
print("answered", ok, flush=True)
sys.stdin.read()
for s in socks:
    s.close()
PY
python3 "$TMPDIR/clients.py" "$P" 120 <"$TMPDIR/hold" >"$TMPDIR/clients.out" 2>&1 &
CLIENTS=$!
track "$CLIENTS"
exec 3>"$TMPDIR/hold"

wait_for 10 grep -q answered "$TMPDIR/clients.out" || fail "the clients did not finish: $(cat "$TMPDIR/clients.out")"
grep -q "answered 120" "$TMPDIR/clients.out" || fail "not every request was answered: $(cat "$TMPDIR/clients.out")"
wait_for 3 stats_is "$S" 'sum(j["connections"]["per_worker"])' 120 ||
    fail "the workers do not hold 120 connections: $(per_worker)"
counts=$(per_worker)
echo "connections per worker with 120 clients: $counts"
for c in $counts; do
    [ "$c" -ge 29 ] && [ "$c" -le 31 ] || fail "uneven spread over the workers: $counts"
done
[ "$(echo "$counts" | wc -w)" = 4 ] || fail "per_worker should list 4 workers: $counts"
curl -s "http://127.0.0.1:$S/metrics" | grep -q '^proxy_worker_connections{worker="3"} ' ||
    fail "/metrics has no proxy_worker_connections for worker 3"

exec 3>&-   # the clients close their connections
wait "$CLIENTS"
wait_for 5 stats_is "$S" 'sum(j["connections"]["per_worker"])' 0 ||
    fail "connections not released: $(per_worker)"
echo "after the clients closed: $(per_worker)"
echo "PASS"
