#!/usr/bin/env bash
# scenario: alone
# harden_idle.sh: thousands of idle keep-alive clients never delay an active
# one (issue 5 item 3, "How it is shown": 3000+ idle connections).
#
# tests/bench/idleconns (compiled into TMPDIR) opens 3000 keep-alive client
# connections through the proxy, one request each, and holds them idle.
# Meanwhile fresh requests (curl, new connections) must be answered at once:
# each time_total is printed, and asserted < 1 s (it is normally a few ms;
# the margin is for a loaded machine).  The proxy's RSS growth per idle
# connection is printed and asserted < 1 KiB, and none of the idle
# connections may have been closed by the proxy while held.
set -u
. "${TOPSRC:-$(cd "$(dirname "$0")/../.." && pwd)}/tests/support/lib.sh"

N=${IDLE_CONNS:-3000}
P=$(free_port); B=$(free_port)

cc -O2 -o "$TMPDIR/idleconns" "$TOPSRC/tests/bench/idleconns.c" -lssl -lcrypto 2>"$TMPDIR/cc.log" ||
    fail "cannot compile idleconns: $(cat "$TMPDIR/cc.log")"

start_backend "$B" app
proxy_conf_basic "$TMPDIR/proxy.conf" "$P" "app 127.0.0.1:$B" "timeout keep-alive 60s"
start_proxy "$TMPDIR/proxy.conf" "$P"

rss_kib() { awk '/^VmRSS:/ {print $2}' "/proc/$PROXY_PID/status"; }
req_time() { curl -s -o /dev/null -w '%{http_code} %{time_total}' --max-time 5 "http://127.0.0.1:$P/"; }

# Warm up: a few requests so that per-thread caches and the server pool exist.
for _ in $(seq 20); do req_time >/dev/null; done
rss0=$(rss_kib)

# idleconns holds the connections until its stdin (a fifo we keep open)
# reaches end of file, or for at most 25 s.
mkfifo "$TMPDIR/hold"
"$TMPDIR/idleconns" 127.0.0.1 "$P" "$N" 25 <"$TMPDIR/hold" >"$TMPDIR/idle.out" 2>&1 &
IDLE_PID=$!
track "$IDLE_PID"
exec 7>"$TMPDIR/hold"
wait_for 15 grep -q '^ready' "$TMPDIR/idle.out" ||
    fail "idleconns not ready within 15s: $(cat "$TMPDIR/idle.out")"
ready=$(grep '^ready' "$TMPDIR/idle.out")
echo "  idleconns: $ready"
[ "$ready" = "ready $N" ] || fail "not every idle connection got a 2xx answer: $ready"
sleep 0.5
rss1=$(rss_kib)
active=$(ls "/proc/$PROXY_PID/fd" | wc -l)
echo "  proxy fds while held: $active"

worst=0 codes=""
for i in $(seq 10); do
    r=$(req_time)
    codes="$codes ${r%% *}"
    t=${r#* }
    echo "  fresh request $i with $N idle: ${r%% *} in ${t}s"
    worst=$(python3 -c 'import sys; print(max(float(sys.argv[1]), float(sys.argv[2])))' "$worst" "$t")
done
[ "$codes" = "$(printf ' 200%.0s' $(seq 10))" ] || fail "fresh requests with $N idle connections: codes$codes"
python3 -c 'import sys; sys.exit(0 if float(sys.argv[1]) < 1.0 else 1)' "$worst" ||
    fail "a fresh request took ${worst}s with $N idle connections (must be < 1s)"
echo "  slowest fresh request: ${worst}s"

per=$(python3 -c 'import sys; print("%.0f" % ((int(sys.argv[2]) - int(sys.argv[1])) * 1024 / int(sys.argv[3])))' "$rss0" "$rss1" "$N")
echo "  proxy RSS: ${rss0} KiB at rest, ${rss1} KiB with $N idle connections: ${per} bytes per idle connection"

# Let idleconns go; it reports how many connections the proxy closed.
exec 7>&-
for _ in $(seq 100); do kill -0 "$IDLE_PID" 2>/dev/null || break; sleep 0.1; done
wait "$IDLE_PID" 2>/dev/null
cat "$TMPDIR/idle.out" | sed 's/^/  idleconns: /'
closed=$(sed -n 's/.*closed-by-server \([0-9]*\).*/\1/p' "$TMPDIR/idle.out")
[ "${closed:-0}" = 0 ] || fail "the proxy closed $closed idle connections while held (timeout keep-alive is 60s)"
[ "$per" -lt 1024 ] || fail "RSS grows ${per} bytes per idle connection (must be < 1 KiB)"
kill -0 "$PROXY_PID" 2>/dev/null || fail "proxy died"
echo "PASS"
