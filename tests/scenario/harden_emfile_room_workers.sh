#!/usr/bin/env bash
# harden_emfile_room_workers.sh: out of descriptors, a worker with no idle
# connection of its own gets another worker to close some of its idle
# keep-alive ones, so new clients are answered.
#
# Under `ulimit -n 96` with 2 workers: idle keep-alive connections are
# left on worker 1 only (worker 0's are closed), then connections that
# send half a head fill the descriptors.  New clients must be answered
# (each within 3 s) while worker 1's idle connections make room.  Before,
# worker 1 was asked but acted only at max-conns - which the proxy was not
# at - so the clients landing on worker 0 hung until their timeouts.
set -u
. "${TOPSRC:-$(cd "$(dirname "$0")/../.." && pwd)}/tests/support/lib.sh"

P=$(free_port); S=$(free_port); B=$(free_port)
start_backend "$B" app
proxy_conf_basic "$TMPDIR/proxy.conf" "$P" "app 127.0.0.1:$B" "workers 2" "stats 127.0.0.1:$S" \
    "timeout client 30s" "timeout keep-alive 60s"
nofile_exec 96 96 "$PROXY" -c "$TMPDIR/proxy.conf" >>"$TMPDIR/proxy.log" 2>&1 &
PROXY_PID=$!
track "$PROXY_PID"
wait_port "$P" 5 "$PROXY_PID" || fail "proxy did not start"
wait_port "$S" 5 "$PROXY_PID" || fail "no stats port"

python3 -c '
import json, os, socket, sys, time, urllib.request
P, S, PID = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
def per_worker():
    return json.load(urllib.request.urlopen("http://127.0.0.1:%d/api/stats" % S))["connections"]["per_worker"]
def nfds():
    return len(os.listdir("/proc/%d/fd" % PID))
def get(s):
    s.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
    d = b""
    while b"\r\n\r\n" not in d:
        x = s.recv(4096)
        if not x:
            raise EOFError
        d += x
idle = {0: [], 1: []}
for i in range(24):
    before = per_worker()
    s = socket.create_connection(("127.0.0.1", P))
    get(s)
    time.sleep(0.05)
    idle[0 if per_worker()[0] > before[0] else 1].append(s)
for s in idle[0]:
    s.close()
time.sleep(0.3)
print("idle keep-alive connections left on worker 1: %d" % len(idle[1]))
if len(idle[1]) < 4:
    sys.exit("too few idle connections landed on worker 1")
busy = []
for i in range(80):
    n0 = nfds()
    s = socket.create_connection(("127.0.0.1", P))
    s.sendall(b"GET / HTTP/1.1\r\n")
    time.sleep(0.1)
    busy.append(s)
    if nfds() <= n0:
        break
print("descriptors full after %d half heads" % len(busy))
bad = 0
for k in range(8):
    s = socket.create_connection(("127.0.0.1", P))
    s.settimeout(3)
    t0 = time.time()
    try:
        get(s)
        r = "answered in %.2fs" % (time.time() - t0)
    except socket.timeout:
        r, bad = "NO ANSWER in 3s", bad + 1
    except (EOFError, OSError) as e:
        r, bad = "closed: %s" % e, bad + 1
    print("new client %d: %s" % (k, r))
    busy.append(s)  # kept: each answered client holds its descriptors
sys.exit(1 if bad else 0)
' "$P" "$S" "$PROXY_PID" || fail "new clients were not answered while another worker held idle connections"
kill -0 "$PROXY_PID" || fail "the proxy died"
echo "ok: out of descriptors, another worker's idle connections make room"
