#!/usr/bin/env bash
# scenario: alone
# harden_slow_client.sh: slow and idle clients (issue 5 item 3).
#
# One proxy with `timeout server 1s`, `timeout client 1s`,
# `timeout keep-alive 500ms`:
#  1. slow reader: a client asks for a 50 MB body (?size=) and stops reading
#     after 64 KiB.  The proxy must cut it after about 1 s without progress
#     (its socket for that client is gone within 4 s), must not buffer the
#     body (RSS growth, sampled every 100 ms, < 4 MiB), and when the client
#     reads again it gets EOF or a reset long before 50 MB.
#  2. slowloris: a client sends its request head one byte per 300 ms; it gets
#     408 (with Connection: close) 1-2.5 s after it started, then EOF, and
#     the backend never sees the request.
#  3. keep-alive: after a response, an idle client connection is closed after
#     500 ms (between 0.3 and 2 s); one that makes its second request after
#     200 ms is still served on the same connection.
set -u
. "${TOPSRC:-$(cd "$(dirname "$0")/../.." && pwd)}/tests/support/lib.sh"

P=$(free_port); B=$(free_port)
start_backend "$B" app
proxy_conf_basic "$TMPDIR/proxy.conf" "$P" "app 127.0.0.1:$B" "access-log $TMPDIR/access.log" \
    "timeout server 1s" "timeout client 1s" "timeout keep-alive 500ms"
start_proxy "$TMPDIR/proxy.conf" "$P"
for _ in 1 2 3 4 5; do curl -s -o /dev/null --max-time 2 "http://127.0.0.1:$P/"; done

cat >"$TMPDIR/helper.py" <<'PY'
import os, select, socket, subprocess, sys, time

mode, port, pid = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])

def rss_kib():
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])

def proxy_has_peer(local_port):
    """Does the proxy still hold a socket connected to our local_port?"""
    out = subprocess.run(["ss", "-tanp", "dst", "127.0.0.1:%d" % local_port],
                         capture_output=True, text=True).stdout
    return ("pid=%d," % pid) in out

def recv_until(s, pred, secs):
    data = b""
    end = time.time() + secs
    while time.time() < end and not pred(data):
        r, _, _ = select.select([s], [], [], max(0, end - time.time()))
        if not r:
            break
        try:
            d = s.recv(65536)
        except ConnectionResetError:
            return data, "reset"
        if not d:
            return data, "eof"
        data += d
    return data, None

if mode == "slowreader":
    rss0 = rss_kib()
    s = socket.socket()
    # a small receive buffer, so that the proxy's writes block early
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 65536)
    s.connect(("127.0.0.1", port))
    lport = s.getsockname()[1]
    s.sendall(b"GET /?size=50000000 HTTP/1.1\r\nHost: x\r\n\r\n")
    got = 0
    while got < 65536:
        d = s.recv(65536)
        if not d:
            break
        got += len(d)
    t0 = time.time()
    print("read %d bytes, then stopped reading" % got)
    cut = None
    rss_max = rss0
    while time.time() - t0 < 6:
        rss_max = max(rss_max, rss_kib())
        if not proxy_has_peer(lport):
            cut = time.time() - t0
            break
        time.sleep(0.1)
    print("cut %s" % ("%.2f" % cut if cut is not None else "never"))
    print("rss_growth_kib %d" % (rss_max - rss0))
    # read again: the rest must end in EOF or a reset, far short of 50 MB
    total, how = got, None
    end = time.time() + 5
    s.settimeout(1)
    while time.time() < end:
        try:
            d = s.recv(1 << 20)
        except ConnectionResetError:
            how = "reset"
            break
        except socket.timeout:
            how = "stalled"
            break
        if not d:
            how = "eof"
            break
        total += len(d)
    print("end %s after %d bytes" % (how, total))

elif mode == "slowloris":
    head = b"GET /slowloris HTTP/1.1\r\nHost: x\r\nX-Slow: abcdefghijklmnopqrstuvwxyz\r\n\r\n"
    s = socket.create_connection(("127.0.0.1", port))
    t0 = time.time()
    data = b""
    sent = 0
    how = None
    while time.time() - t0 < 5 and sent < len(head):
        try:
            s.send(head[sent:sent + 1])
            sent += 1
        except OSError:
            break
        r, _, _ = select.select([s], [], [], 0.3)
        if r:
            try:
                d = s.recv(65536)
            except ConnectionResetError:
                how = "reset"
                break
            if not d:
                how = "eof"
                break
            data += d
            if b"\r\n\r\n" in data:
                break
    t_answer = time.time() - t0
    rest, how2 = recv_until(s, lambda d: False, 3)
    data += rest
    print("sent %d of %d bytes" % (sent, len(head)))
    print("answer after %.2f s: %r" % (t_answer, data.split(b"\r\n", 1)[0]))
    print("connection-close %d" % (b"\r\nconnection: close\r\n" in data.lower()))
    print("then %s" % (how or how2))

elif mode == "keepalive":
    req = b"GET / HTTP/1.1\r\nHost: x\r\n\r\n"
    def one(s):
        s.sendall(req)
        data, how = recv_until(s, lambda d: b"\r\n\r\n" in d and d.endswith(b"\n"), 3)
        return data
    # second request 200 ms after the first: same connection
    s = socket.create_connection(("127.0.0.1", port))
    a = one(s)
    time.sleep(0.2)
    b = one(s)
    print("after-200ms %r %r" % (a.split(b"\r\n", 1)[0], b.split(b"\r\n", 1)[0]))
    seq = [l for l in b.split(b"\r\n") if l.lower().startswith(b"x-conn-seq")]
    print("second-on-same %d" % (b.startswith(b"HTTP/1.1 200") and b"\r\n\r\n" in b))
    # then idle: the proxy must close
    t0 = time.time()
    data, how = recv_until(s, lambda d: False, 4)
    print("idle-closed %s after %.2f s" % (how, time.time() - t0))
PY

num_between() { python3 -c 'import sys; v=float(sys.argv[1]); sys.exit(0 if float(sys.argv[2]) <= v <= float(sys.argv[3]) else 1)' "$@"; }

# ---- 1. slow reader ----
out=$(python3 "$TMPDIR/helper.py" slowreader "$P" "$PROXY_PID" 2>&1) || fail "helper (slowreader) failed: $out"
echo "$out" | sed 's/^/  slow reader: /'
cut=$(echo "$out" | sed -n 's/^cut //p')
[ "$cut" != never ] || fail "the proxy did not cut a client that stopped reading (timeout server 1s) within 6s"
num_between "$cut" 0.5 4 || fail "slow reader cut after ${cut}s, expected about 1s (0.5-4)"
growth=$(echo "$out" | sed -n 's/^rss_growth_kib //p')
[ "$growth" -lt 4096 ] || fail "RSS grew ${growth} KiB while a client was not reading (the body is buffered?)"
echo "$out" | grep -q '^end \(eof\|reset\) after' || fail "after the cut, reading did not end in EOF or reset"
total=$(echo "$out" | sed -n 's/^end .* after \([0-9]*\) bytes/\1/p')
[ "$total" -lt 40000000 ] || fail "the client got ${total} bytes after the cut: the proxy buffered the body"
kill -0 "$PROXY_PID" 2>/dev/null || fail "proxy died"

# ---- 2. slowloris ----
out=$(python3 "$TMPDIR/helper.py" slowloris "$P" "$PROXY_PID" 2>&1) || fail "helper (slowloris) failed: $out"
echo "$out" | sed 's/^/  slowloris: /'
echo "$out" | grep -q "^answer after .*'HTTP/1.1 408" || fail "slowloris: no 408"
t=$(echo "$out" | sed -n 's/^answer after \([0-9.]*\) s.*/\1/p')
num_between "$t" 0.9 2.5 || fail "slowloris: 408 after ${t}s, expected 1-2.5s (timeout client 1s)"
echo "$out" | grep -q '^connection-close 1' || fail "slowloris: the 408 has no Connection: close"
echo "$out" | grep -q '^then \(eof\|reset\)' || fail "slowloris: connection not closed after the 408"
grep -q slowloris "$TMPDIR/backend-app.log" && fail "slowloris: the backend saw the request"
if grep -q ' 408 ' "$TMPDIR/access.log" 2>/dev/null; then echo "  slowloris: 408 in the access log"; fi

# ---- 3. keep-alive timeout ----
out=$(python3 "$TMPDIR/helper.py" keepalive "$P" "$PROXY_PID" 2>&1) || fail "helper (keepalive) failed: $out"
echo "$out" | sed 's/^/  keep-alive: /'
echo "$out" | grep -q '^second-on-same 1' || fail "keep-alive: second request after 200ms not served on the same connection"
echo "$out" | grep -q '^idle-closed \(eof\|reset\) after' || fail "keep-alive: idle connection not closed within 4s (timeout keep-alive 500ms)"
t=$(echo "$out" | sed -n 's/^idle-closed [a-z]* after \([0-9.]*\) s/\1/p')
num_between "$t" 0.3 2 || fail "keep-alive: idle connection closed after ${t}s, expected about 0.5s (0.3-2)"
kill -0 "$PROXY_PID" 2>/dev/null || fail "proxy died"
echo "PASS"
