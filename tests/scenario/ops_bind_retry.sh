#!/usr/bin/env bash
# ops_bind_retry.sh: a listen address still held at start (issue 11 item 10).
#
# After kill -9 and a restart, the old process may not be gone yet and its
# port still held; failing the start at once then leaves the service down.
# The proxy retries the bind (EADDRINUSE) for up to 5s, saying so once in the
# log, before it gives up with the error.
#
# Part 1: a python listener holds the port and lets go after 1s: the proxy
#         logs that it waits for that address, then starts and serves; a
#         SIGHUP and a SIGUSR1 sent while it waits are acted on once it
#         has started (they killed it before).
# Part 2: the port stays held for longer than the retry window: the start
#         fails (exit 1) after about 5s, not at once and not later than 8s,
#         with "Address already in use" and the address in the log.
set -u
. "${TOPSRC:-$(cd "$(dirname "$0")/../.." && pwd)}/tests/support/lib.sh"

P=$(free_port); B=$(free_port)
start_backend "$B" app
proxy_conf_basic "$TMPDIR/proxy.conf" "$P" "app 127.0.0.1:$B"

# hold_port PORT SECS: a plain listener (no SO_REUSEPORT) on PORT for SECS;
# returns once it listens.  Sets HOLDER_PID.
hold_port() {
    rm -f "$TMPDIR/held"
    python3 -c '
import socket, sys, time
s = socket.socket()
s.bind(("127.0.0.1", int(sys.argv[1])))
s.listen(16)
open(sys.argv[3], "w").close()
time.sleep(float(sys.argv[2]))
s.close()
' "$1" "$2" "$TMPDIR/held" &
    HOLDER_PID=$!
    track "$HOLDER_PID"
    wait_for 5 test -e "$TMPDIR/held" || fail "the port holder did not start"
}
# The proxy, started while the port is held (start_proxy would take the
# holder's listener for the proxy's).
launch() {
    : >"$TMPDIR/proxy.log"
    "$PROXY" -c "$TMPDIR/proxy.conf" >>"$TMPDIR/proxy.log" 2>&1 &
    PROXY_PID=$!
    track "$PROXY_PID"
}

# ---- part 1: released after 1s ----
hold_port "$P" 1
launch
# A SIGHUP and a SIGUSR1 while it waits (logrotate, a deploy's reload):
# they killed it by their default action; now they wait for the start and
# are acted on then.
wait_for 3 grep -q "address in use, waiting" "$TMPDIR/proxy.log" || fail "part 1: no 'waiting' in the log"
kill -HUP "$PROXY_PID"
kill -USR1 "$PROXY_PID"
started_or_gone() { grep -q 'started' "$TMPDIR/proxy.log" || ! kill -0 "$PROXY_PID" 2>/dev/null; }
wait_for 8 started_or_gone
kill -0 "$PROXY_PID" 2>/dev/null || fail "part 1: the proxy exited instead of waiting for the port"
grep -q 'started' "$TMPDIR/proxy.log" ||
    fail "part 1: the proxy did not start once the port was released after 1s"
wait "$HOLDER_PID" 2>/dev/null
n=$(grep -c "listen 127.0.0.1:$P: address in use, waiting" "$TMPDIR/proxy.log")
[ "$n" = 1 ] || fail "part 1: 'address in use, waiting' logged $n times, expected once"
grep "listen 127.0.0.1:$P" "$TMPDIR/proxy.log" | sed 's/^/  part 1: /'
code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 3 "http://127.0.0.1:$P/")
[ "$code" = 200 ] || fail "part 1: got $code from the proxy, expected 200"
wait_for 3 grep -q "reload done: generation 2" "$TMPDIR/proxy.log" ||
    fail "part 1: the SIGHUP sent during the start was not acted on once started"
grep -q "access log reopened" "$TMPDIR/proxy.log" || fail "part 1: the SIGUSR1 sent during the start was not acted on"
echo "  part 1: SIGHUP and SIGUSR1 during the start: a reload and a reopen once started"
stop_pid "$PROXY_PID"

# ---- part 2: held for longer than the retry window ----
hold_port "$P" 15
t0=$(date +%s.%N)
launch
end=$((SECONDS + 12))
while kill -0 "$PROXY_PID" 2>/dev/null && [ "$SECONDS" -lt "$end" ]; do
    sleep 0.1
done
kill -0 "$PROXY_PID" 2>/dev/null && fail "part 2: the proxy still runs 12s after its start on a held port"
wait "$PROXY_PID"
rc=$?
took=$(python3 -c 'import sys, time; print("%.1f" % (time.time() - float(sys.argv[1])))' "$t0")
echo "  part 2: exit $rc after ${took}s"
grep "listen" "$TMPDIR/proxy.log" | sed 's/^/  part 2: /'
[ "$rc" = 1 ] || fail "part 2: exit status $rc, expected 1"
python3 -c 'import sys; sys.exit(0 if 4.5 <= float(sys.argv[1]) <= 8 else 1)' "$took" ||
    fail "part 2: gave up after ${took}s, expected about 5s"
grep -q "listen 127.0.0.1:$P: Address already in use" "$TMPDIR/proxy.log" ||
    fail "part 2: no clear error naming the address"
stop_pid "$HOLDER_PID"
echo "PASS"
