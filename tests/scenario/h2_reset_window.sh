#!/usr/bin/env bash
# scenario: alone
# h2_reset_window: `http2 max-resets N` counts stream resets per 10 s
# (CONTRACT 8), not over a connection's life: a long-lived connection
# whose client cancels streams now and then (a browser leaving pages) is
# never cut for it.  With http2 max-resets 20, on one connection
# (python3-h2):
#   - 20 streams opened and reset: no GOAWAY, a new stream gets its 200;
#   - 10.5 s later, 20 more: still no GOAWAY (40 in the connection's life,
#     20 in the window), and a stream after them gets its 200;
#   - then 1 more in the same window: GOAWAY ENHANCE_YOUR_CALM, counted in
#     streams.goaway.resets.
set -u
. "${TOPSRC:-$(cd "$(dirname "$0")/../.." && pwd)}/tests/support/lib.sh"
need_python_h2

P=$(free_port); S=$(free_port); B=$(free_port)
start_backend "$B" app
cat >"$TMPDIR/proxy.conf" <<CONF
workers 1
access-log off
http2 max-resets 20
listen 127.0.0.1:$P
stats 127.0.0.1:$S
pool web {
    check off
    server app 127.0.0.1:$B
}
CONF
start_proxy "$TMPDIR/proxy.conf" "$P" "$S"

# Prints one line per phase: "batch N goaway=NAME|none ok=STATUS|-".
cat >"$TMPDIR/resets.py" <<'PY'
import socket, sys, time
import h2.config, h2.connection, h2.events, h2.errors, h2.exceptions

port = int(sys.argv[1])
s = socket.create_connection(("127.0.0.1", port), timeout=5)
c = h2.connection.H2Connection(h2.config.H2Configuration(client_side=True, header_encoding="utf-8"))
c.initiate_connection()
s.sendall(c.data_to_send())
goaway = [None]

def head(path):
    return [(":method", "GET"), (":path", path), (":scheme", "http"), (":authority", "127.0.0.1:%d" % port)]

def pump(until, secs):
    deadline = time.time() + secs
    while time.time() < deadline and not until():
        s.settimeout(max(0.01, deadline - time.time()))
        try:
            data = s.recv(65536)
        except socket.timeout:
            break
        except OSError:
            return
        if not data:
            return
        for ev in c.receive_data(data):
            if isinstance(ev, h2.events.ConnectionTerminated):
                goaway[0] = h2.errors.ErrorCodes(ev.error_code).name
            yield ev
        out = c.data_to_send()
        if out:
            s.sendall(out)

def batch(n, check):
    try:
        return send_batch(n, check)
    except (OSError, h2.exceptions.ProtocolError):
        return "closed"

def send_batch(n, check):
    for _ in range(n):
        sid = c.get_next_available_stream_id()
        c.send_headers(sid, head("/cancelled"), end_stream=True)
        c.reset_stream(sid)
    s.sendall(c.data_to_send())
    status = ["-"]
    if check:
        sid = c.get_next_available_stream_id()
        c.send_headers(sid, head("/after"), end_stream=True)
        s.sendall(c.data_to_send())
        for ev in pump(lambda: status[0] != "-" or goaway[0], 5):
            if isinstance(ev, h2.events.ResponseReceived) and ev.stream_id == sid:
                status[0] = dict(ev.headers).get(":status")
    else:
        for _ in pump(lambda: goaway[0], 2):
            pass
    return status[0]

ok = batch(20, True)
print("batch 1 goaway=%s ok=%s" % (goaway[0] or "none", ok))
sys.stdout.flush()
# Wait out the window, answering the proxy's frames meanwhile.
for _ in pump(lambda: goaway[0], 10.5):
    pass
ok = batch(20, True)
print("batch 2 goaway=%s ok=%s" % (goaway[0] or "none", ok))
ok = batch(1, False)
print("batch 3 goaway=%s ok=%s" % (goaway[0] or "none", ok))
PY

r0=$(stats_get "$S" 'j["streams"]["goaway"]["resets"]')
out=$("$PY" "$TMPDIR/resets.py" "$P") || fail "resets.py: $out"
r1=$(stats_get "$S" 'j["streams"]["goaway"]["resets"]')
echo "measured: $(echo "$out" | tr '\n' ';') streams.goaway.resets $r0 -> $r1"
want=$'batch 1 goaway=none ok=200\nbatch 2 goaway=none ok=200\nbatch 3 goaway=ENHANCE_YOUR_CALM ok=-'
[ "$out" = "$want" ] || fail "http2 max-resets 20 per 10 s: got '$out', expected '$want'"
[ "$r1" = $((r0 + 1)) ] || fail "streams.goaway.resets went from $r0 to $r1, expected one more"
stop_pid "$PROXY_PID"
echo "PASS: resets counted per 10 s: 20 and 20 more after the window pass, the 21st within it is cut"
