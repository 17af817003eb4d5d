#!/usr/bin/env bash
# scenario: alone
# harden_emfile.sh: running out of file descriptors, and max-conns
# (issue 5 item 5; CONTRACT.md section 2 `max-conns`).
#
# Part 1: the proxy runs under `ulimit -Hn 64 -Sn 64` (both limits: the proxy
# raises its soft limit to the hard one at start, and as root the hard one
# too, which nofile_exec takes away).  100 idle client
# connections are opened, more than it can hold; accept(2) then fails with
# EMFILE.  The proxy must not crash, must not spin (its CPU time over 2 s of
# that state, utime+stime from /proc/PID/stat, stays under 0.3 s), and once
# those connections close it answers requests again.  Then the same with 100
# connections that each send a request (a connection accepted while fds are
# short also needs one for the server): every answer is a well-formed HTTP
# response and afterwards the proxy serves again.
#
# Part 2: `max-conns 20`, 40 connections each sending a request that takes
# 1 s to answer: 20 are answered, the other 20 wait in the listen backlog
# (no answer, not reset) and are answered once the first 20 are done (idle
# keep-alive connections are closed to make room at max-conns: issue 11
# item 4, harden_idle_room.sh; busy ones are not).
set -u
. "${TOPSRC:-$(cd "$(dirname "$0")/../.." && pwd)}/tests/support/lib.sh"

P=$(free_port); B=$(free_port); P2=$(free_port)
start_backend "$B" app

cat >"$TMPDIR/helper.py" <<'PY'
import os, socket, sys, time

def cpu_secs(pid):
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    # fields[0] is field 3 (state); utime is field 14, stime field 15
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

def alive(pid):
    try:
        with open("/proc/%d/stat" % pid) as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False

def connect_many(port, n):
    socks = []
    for _ in range(n):
        s = socket.socket()
        s.settimeout(2)
        try:
            s.connect(("127.0.0.1", port))
        except OSError as e:
            print("connect failed: %s" % e)
            s.close()
            continue
        socks.append(s)
    return socks

REQ = b"GET / HTTP/1.1\r\nHost: x\r\n\r\n"

def read_answers(socks, secs):
    """Reads from every socket for secs; returns {sock: bytes}."""
    import select
    got = {s: b"" for s in socks}
    eof = set()
    end = time.time() + secs
    while time.time() < end:
        live = [s for s in socks if s not in eof]
        if not live:
            break
        r, _, _ = select.select(live, [], [], max(0, end - time.time()))
        for s in r:
            try:
                d = s.recv(65536)
            except OSError:
                d = b""
            if not d:
                eof.add(s)
            got[s] += d
    return got, eof

def answered(data):
    return b"\r\n\r\n" in data

def status(data):
    try:
        return int(data.split(b" ", 2)[1])
    except Exception:
        return None

mode, port, pid = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])

if mode == "idle":
    socks = connect_many(port, 100)
    print("opened %d" % len(socks))
    time.sleep(0.5)
    c0 = cpu_secs(pid)
    time.sleep(2)
    c1 = cpu_secs(pid)
    print("cpu %.3f" % (c1 - c0))
    print("alive %d" % alive(pid))
    nfd = len(os.listdir("/proc/%d/fd" % pid))
    print("proxy-fds %d" % nfd)
    for s in socks:
        s.close()

elif mode == "requests":
    # Each answer takes 1s (?delay), so when the clients close after 2s
    # some of them are still in the listen backlog, request and FIN queued.
    socks = connect_many(port, 100)
    for s in socks:
        try:
            s.sendall(b"GET /?delay=1000 HTTP/1.1\r\nHost: x\r\n\r\n")
        except OSError:
            pass
    c0 = cpu_secs(pid)
    got, eof = read_answers(socks, 2.0)
    c1 = cpu_secs(pid)
    ans = [d for d in got.values() if answered(d)]
    codes = sorted(set(status(d) for d in ans))
    bad = [d[:80] for d in ans if status(d) not in (200, 502, 503, 504)]
    print("opened %d answered %d codes %s eof %d cpu %.3f" %
          (len(socks), len(ans), codes, len(eof), c1 - c0))
    for b in bad:
        print("malformed %r" % b)
    print("alive %d" % alive(pid))
    for s in socks:
        s.close()

elif mode == "sendclose":
    # Clients that send a request and close at once, without reading.
    for _ in range(20):
        s = socket.create_connection(("127.0.0.1", port), timeout=2)
        s.sendall(REQ)
        s.close()
    print("sent 20")

elif mode == "maxconns":
    socks = connect_many(port, 40)
    for s in socks:
        s.sendall(b"GET /?delay=1000 HTTP/1.1\r\nHost: x\r\n\r\n")
    got, eof = read_answers(socks, 1.5)
    first = [s for s in socks if answered(got[s])]
    rest = [s for s in socks if not answered(got[s])]
    print("phase1 opened %d answered %d waiting %d eof %d" %
          (len(socks), len(first), len(rest), len(eof & set(rest))))
    for s in first:
        s.close()
    got2, eof2 = read_answers(rest, 4.0)
    later = [s for s in rest if answered(got[s] + got2[s])]
    codes = sorted(set(status(got[s] + got2[s]) for s in later))
    print("phase2 answered %d of %d codes %s" % (len(later), len(rest), codes))
    for s in rest:
        s.close()
PY

# The proxy's fds, less its connections to the backend (an idle pool of
# server connections is legitimate).
fd_count() {
    local all up
    all=$(ls "/proc/$PROXY_PID/fd" 2>/dev/null | wc -l)
    up=$(ss -tanp state established dst "127.0.0.1:$B" 2>/dev/null | grep -c "pid=$PROXY_PID,")
    echo $((all - up))
}
# fds_settle SECS MAX: wait until the proxy holds at most MAX fds.
fds_settle() {
    local end=$((SECONDS + $1))
    while [ "$SECONDS" -lt "$end" ]; do
        [ "$(fd_count)" -le "$2" ] && return 0
        sleep 0.2
    done
    [ "$(fd_count)" -le "$2" ]
}
# served_within SECS PORT: a request gets 200 within SECS (time-bounded).
served_within() {
    local end=$((SECONDS + $1))
    while [ "$SECONDS" -lt "$end" ]; do
        [ "$(curl -s -o /dev/null -w '%{http_code}' --max-time 1 "http://127.0.0.1:$2/")" = 200 ] && return 0
        sleep 0.1
    done
    return 1
}
cpu_ok() { python3 -c 'import sys; sys.exit(0 if float(sys.argv[1]) < 0.3 else 1)' "$1"; }

# ---- part 2 (run first, it does not need the fd limit): max-conns ----
proxy_conf_basic "$TMPDIR/maxconns.conf" "$P2" "app 127.0.0.1:$B" \
    "max-conns 20" "timeout client 30s" "timeout keep-alive 30s"
start_proxy "$TMPDIR/maxconns.conf" "$P2"
# wait_port opened (and closed) a connection; let it go away
sleep 0.3
out=$(python3 "$TMPDIR/helper.py" maxconns "$P2" "$PROXY_PID") || fail "helper (maxconns) failed: $out"
echo "$out" | sed 's/^/  max-conns: /'
echo "$out" | grep -q '^phase1 opened 40 answered 20 waiting 20 eof 0$' ||
    fail "max-conns 20 with 40 connections: expected 20 answered and 20 waiting"
echo "$out" | grep -q '^phase2 answered 20 of 20 codes \[200\]$' ||
    fail "the 20 waiting connections were not all served after the first 20 closed"
kill -0 "$PROXY_PID" 2>/dev/null || fail "proxy died"
stop_pid "$PROXY_PID"

# ---- part 1: EMFILE ----
proxy_conf_basic "$TMPDIR/emfile.conf" "$P" "app 127.0.0.1:$B" "timeout client 30s" "timeout keep-alive 30s"
PROXY_WRAP="nofile_exec 64 64" start_proxy "$TMPDIR/emfile.conf" "$P"
grep -q 'Max open files *64 *64' "/proc/$PROXY_PID/limits" ||
    fail "fd limit not applied: $(grep 'Max open files' "/proc/$PROXY_PID/limits")"
code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 3 "http://127.0.0.1:$P/")
[ "$code" = 200 ] || fail "before the flood: got $code, expected 200"
sleep 0.2
fds0=$(fd_count)
echo "  proxy fds at rest: $fds0"

# Not EMFILE yet: 20 clients send a request and close without reading.  The
# proxy must let go of their sockets once the answer fails to go out or the
# EOF is seen, not keep them until timeout keep-alive (30s here): while fds
# are short, every such socket is one connection fewer the proxy can accept.
python3 "$TMPDIR/helper.py" sendclose "$P" "$PROXY_PID" >/dev/null || fail "helper (sendclose) failed"
if fds_settle 3 $((fds0 + 2)); then
    echo "  send-and-close clients: fds released"
else
    echo "  BUG: 3s after 20 clients sent a request and closed, the proxy holds $(fd_count) fds besides server connections (at rest: $fds0)"
    bug_sendclose=1
fi

out=$(python3 "$TMPDIR/helper.py" idle "$P" "$PROXY_PID") || fail "helper (idle) failed: $out"
echo "$out" | sed 's/^/  idle: /'
kill -0 "$PROXY_PID" 2>/dev/null || fail "proxy died while out of file descriptors"
echo "$out" | grep -q '^alive 1' || fail "proxy not alive during the flood"
cpu=$(echo "$out" | sed -n 's/^cpu //p')
cpu_ok "$cpu" || fail "proxy busy-loops while out of fds: ${cpu}s CPU in 2s"
grep -q 'accept paused' "$TMPDIR/proxy.log" || echo "  note: no 'accept paused' in the log"
served_within 5 "$P" || fail "after the idle connections closed, no 200 within 5s"
echo "  idle flood: served again after close"

out=$(python3 "$TMPDIR/helper.py" requests "$P" "$PROXY_PID") || fail "helper (requests) failed: $out"
echo "$out" | sed 's/^/  requests: /'
kill -0 "$PROXY_PID" 2>/dev/null || fail "proxy died while out of file descriptors (with requests)"
echo "$out" | grep -q '^malformed' && fail "malformed answers while out of fds"
cpu=$(echo "$out" | sed -n 's/.* cpu //p')
cpu_ok "$cpu" || fail "proxy busy-loops while out of fds with requests: ${cpu}s CPU in 2s"
# Every client has closed: within a few seconds (timeout keep-alive is 30s)
# the proxy must be back near its fd count at rest, not hold sessions whose
# client is gone until they time out.
fds_settle 5 $((fds0 + 8)) ||
    fail "proxy still holds $(fd_count) fds besides server connections (at rest: $fds0) 5s after every client closed: sessions of closed clients kept until timeout keep-alive"
served_within 5 "$P" || fail "after the request flood closed, no 200 within 5s"
echo "  request flood: served again after close"
codes=$(for _ in 1 2 3 4 5; do curl -s -o /dev/null -w '%{http_code} ' --max-time 2 "http://127.0.0.1:$P/"; done)
[ "$codes" = "200 200 200 200 200 " ] || fail "after the flood, 5 requests: $codes"
stop_pid "$PROXY_PID"
[ "${bug_sendclose:-0}" = 0 ] ||
    fail "clients that sent a request and closed kept their sessions (and fds) until timeout keep-alive (see above)"
echo "PASS"
