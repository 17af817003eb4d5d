#!/usr/bin/env bash
# ops_graceful_shutdown.sh: `timeout shutdown` and the graceful stop
# (CONTRACT.md section 1, signals).
#
# Part 1, SIGTERM, `timeout shutdown 1s`, a request in flight that takes 5 s
# and an idle keep-alive client connection: the idle connection is closed by
# the proxy at once (well before the in-flight request ends), the listener
# stops accepting, and the proxy exits 0 about 1 s after the signal: not
# before (the request had that long to finish), not after 2.5 s (it does not
# wait for the 5 s request).  The cut request never looks complete.
#
# Part 2, SIGINT, `timeout shutdown 3s`, a request in flight that takes
# 600 ms: its response arrives whole (200, full body), and the proxy exits 0
# once it is done, well before the 3 s.
set -u
. "${TOPSRC:-$(cd "$(dirname "$0")/../.." && pwd)}/tests/support/lib.sh"

P=$(free_port); B1=$(free_port)
write_conf() { # SHUTDOWN
    proxy_conf_basic "$TMPDIR/proxy.conf" "$P" "app1 127.0.0.1:$B1" "timeout shutdown $1"
}
start_backend "$B1" app1

cat >"$TMPDIR/client.py" <<'PY'
# client.py PORT PROXY_PID SIGNAL SLOW_MS OUT: an idle keep-alive connection
# and a slow request in flight, then SIGNAL to the proxy; writes what it saw.
import os, signal, socket, sys, time
port, pid, sig, slow_ms, out = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3], int(sys.argv[4]), sys.argv[5]
res = {}
def conn():
    s = socket.create_connection(("127.0.0.1", port), timeout=10)
    return s
def read_response(s):
    data = b""
    while b"\r\n\r\n" not in data:
        d = s.recv(65536)
        if not d:
            return None
        data += d
    head, body = data.split(b"\r\n\r\n", 1)
    cl = [int(l.split(b":", 1)[1]) for l in head.split(b"\r\n") if l.lower().startswith(b"content-length:")]
    want = cl[0] if cl else 0
    while len(body) < want:
        d = s.recv(65536)
        if not d:
            return (head, body, False)
        body += d
    return (head, body, True)
idle = conn()
idle.sendall(b"GET /first HTTP/1.1\r\nHost: t\r\n\r\n")
r = read_response(idle)
assert r and r[0].startswith(b"HTTP/1.1 200"), r
slow = conn()
slow.sendall(b"GET /slow?delay=%d HTTP/1.1\r\nHost: t\r\n\r\n" % slow_ms)
time.sleep(0.3)
t0 = time.time()
os.kill(pid, getattr(signal, sig))
res["t_signal"] = t0
# The idle keep-alive connection: EOF (or reset) expected promptly.
idle.settimeout(3)
try:
    d = idle.recv(100)
    res["idle"] = "eof" if d == b"" else "data:%r" % d
except socket.timeout:
    res["idle"] = "open"
except ConnectionResetError:
    res["idle"] = "eof"
res["idle_ms"] = int((time.time() - t0) * 1000)
# The listener: no new connection is accepted (refused, or closed at once).
try:
    n = socket.create_connection(("127.0.0.1", port), timeout=1)
    n.sendall(b"GET /new HTTP/1.1\r\nHost: t\r\n\r\n")
    n.settimeout(1)
    try:
        d = n.recv(100)
        res["new"] = "answered" if d else "closed"
    except (socket.timeout, ConnectionResetError):
        res["new"] = "closed"
except OSError:
    res["new"] = "refused"
# The slow request.
slow.settimeout(8)
try:
    r = read_response(slow)
    if r is None:
        res["slow"] = "cut-before-head"
    else:
        res["slow"] = "%s %s %d" % (r[0].split(b"\r\n")[0].decode(), "complete" if r[2] else "cut", len(r[1]))
except (socket.timeout, ConnectionResetError) as e:
    res["slow"] = "error-" + type(e).__name__
with open(out, "w") as f:
    for k, v in res.items():
        f.write("%s=%s\n" % (k, v))
PY
get() { sed -n "s/^$1=//p" "$2"; }

# ---- part 1: SIGTERM, timeout shutdown 1s, a 5 s request in flight --------
write_conf 1s
start_proxy "$TMPDIR/proxy.conf" "$P"
python3 "$TMPDIR/client.py" "$P" "$PROXY_PID" SIGTERM 5000 "$TMPDIR/r1" &
CPID=$!; track "$CPID"
wait "$PROXY_PID"; rc=$?
t_exit=$(date +%s.%N)
wait "$CPID" || fail "client (part 1) failed"
cat "$TMPDIR/r1"
ms=$(awk -v a="$(get t_signal "$TMPDIR/r1")" -v b="$t_exit" 'BEGIN { printf "%d", (b - a) * 1000 }')
echo "part 1: exit $rc ${ms}ms after SIGTERM (timeout shutdown 1s, a 5 s request in flight)"
[ "$rc" = 0 ] || fail "exit status $rc after SIGTERM, want 0"
[ "$ms" -ge 850 ] || fail "the proxy exited ${ms}ms after SIGTERM: before timeout shutdown (1s) let the in-flight request finish"
[ "$ms" -lt 2500 ] || fail "the proxy exited ${ms}ms after SIGTERM, want about timeout shutdown (1s)"
[ "$(get idle "$TMPDIR/r1")" = eof ] || fail "the idle keep-alive connection was not closed at the stop: $(get idle "$TMPDIR/r1")"
[ "$(get idle_ms "$TMPDIR/r1")" -lt 800 ] || fail "the idle keep-alive connection was closed only $(get idle_ms "$TMPDIR/r1")ms after SIGTERM"
[ "$(get new "$TMPDIR/r1")" != answered ] || fail "a new connection was answered after SIGTERM"
case "$(get slow "$TMPDIR/r1")" in
    *complete*) fail "the 5 s request got a complete answer although the proxy stopped after 1 s: $(get slow "$TMPDIR/r1")" ;;
esac

# ---- part 2: SIGINT, timeout shutdown 3s, a 600 ms request in flight ------
: >"$TMPDIR/proxy.log"
write_conf 3s
start_proxy "$TMPDIR/proxy.conf" "$P"
python3 "$TMPDIR/client.py" "$P" "$PROXY_PID" SIGINT 600 "$TMPDIR/r2" &
CPID=$!; track "$CPID"
wait "$PROXY_PID"; rc=$?
t_exit=$(date +%s.%N)
wait "$CPID" || fail "client (part 2) failed"
cat "$TMPDIR/r2"
ms=$(awk -v a="$(get t_signal "$TMPDIR/r2")" -v b="$t_exit" 'BEGIN { printf "%d", (b - a) * 1000 }')
echo "part 2: exit $rc ${ms}ms after SIGINT (timeout shutdown 3s, a 600 ms request in flight, 300 ms of it before the signal)"
[ "$rc" = 0 ] || fail "exit status $rc after SIGINT, want 0"
[ "$(get slow "$TMPDIR/r2")" = "HTTP/1.1 200 OK complete 5" ] || fail "the in-flight request did not finish whole: $(get slow "$TMPDIR/r2")"
[ "$(get idle "$TMPDIR/r2")" = eof ] || fail "SIGINT: the idle keep-alive connection was not closed: $(get idle "$TMPDIR/r2")"
[ "$ms" -lt 2000 ] || fail "the proxy exited ${ms}ms after SIGINT: it waited past the end of the last request"
echo "PASS: graceful stop honours timeout shutdown (TERM) and ends with the last request (INT)"
