#!/usr/bin/env bash
# scenario: alone
# h2_limits: what CONTRACT 8 says of the http2 settings and of
# `limit header-size` on a stream (python3-h2, raw frames).
#   - a proxy with no `http2` line advertises the defaults in its SETTINGS:
#     MAX_CONCURRENT_STREAMS 100 (http2 max-streams 100) and
#     INITIAL_WINDOW_SIZE 65536 (http2 window 64k), and `limit header-size`
#     as MAX_HEADER_LIST_SIZE;
#   - `http2 window 1m` and `http2 max-streams 7` (a second proxy) are
#     what its SETTINGS say;
#   - a stream whose decoded header list is over `limit header-size` (one
#     2000-byte field, limit 1k) is answered 431 on that stream, nothing of
#     it reaches the server, and the next stream of the same connection
#     gets its 200;
#   - streams are retried and limited as HTTP/1.1 requests are: on one
#     connection to a proxy with `limit rate 1/m burst 2` and a pool whose
#     round-robin sends one of the first two streams to a closed port
#     (retries 1), streams 1 and 3 get the live server's 200, stream 5 a
#     429 with retry-after (about 60 s) and the `error-page 429` page as
#     text/html;
#   - and queued: streams to a server with max-conns 1 wait in its pool's
#     queue (two 300 ms requests at once: both 200, the second after the
#     first), and past `timeout queue` a waiting stream gets 503.
set -u
. "${TOPSRC:-$(cd "$(dirname "$0")/../.." && pwd)}/tests/support/lib.sh"
need_python_h2

P=$(free_port); Q=$(free_port); R=$(free_port); S=$(free_port); B=$(free_port); DEAD=$(free_port)
start_backend "$B" app
cat >"$TMPDIR/p.conf" <<CONF
workers 1
access-log stderr
limit header-size 1k
listen 127.0.0.1:$P
stats 127.0.0.1:$S
pool web {
    check off
    server app 127.0.0.1:$B
}
CONF
cat >"$TMPDIR/q.conf" <<CONF
workers 1
access-log off
http2 window 1m
http2 max-streams 7
timeout queue 500ms
listen 127.0.0.1:$Q
route path /q/ pool one
route default pool web
pool web {
    check off
    server app 127.0.0.1:$B
}
pool one {
    check off
    server app1 127.0.0.1:$B max-conns 1
}
CONF
printf '<html><body>slow down</body></html>\n' >"$TMPDIR/busy.html"
cat >"$TMPDIR/r.conf" <<CONF
workers 1
access-log off
limit rate 1/m burst 2
error-page 429 busy.html
listen 127.0.0.1:$R
pool web {
    check off
    balance round-robin
    retries 1
    server gone 127.0.0.1:$DEAD
    server app 127.0.0.1:$B
}
CONF
start_proxy "$TMPDIR/p.conf" "$P" "$S"
P_PID=$PROXY_PID
"$PROXY" -c "$TMPDIR/q.conf" >"$TMPDIR/q.log" 2>&1 &
Q_PID=$!
track "$Q_PID"
wait_port "$Q" 5 "$Q_PID" || fail "the second proxy did not start: $(cat "$TMPDIR/q.log")"
"$PROXY" -c "$TMPDIR/r.conf" >"$TMPDIR/r.log" 2>&1 &
R_PID=$!
track "$R_PID"
wait_port "$R" 5 "$R_PID" || fail "the third proxy did not start: $(cat "$TMPDIR/r.log")"

# settings PORT: prints the server's first SETTINGS as "max_streams=N
# window=N header_list=N".  big PORT: stream 1 with a 2000-byte field,
# stream 3 a plain GET; prints "stream ID status=N" or "stream ID reset=NAME".
# par PORT N PATH: N GETs of PATH at once on one connection; prints "stream
# ID status=N ms=M" for each in stream order (M since they were sent).
# seq PORT N: N GETs one after the other on one connection; prints "stream
# ID status=N retry-after=V type=V body=B" for each.
cat >"$TMPDIR/h2lim.py" <<'PY'
import socket, sys, time
import h2.config, h2.connection, h2.events, h2.settings

def connect(port):
    s = socket.create_connection(("127.0.0.1", port), timeout=5)
    c = h2.connection.H2Connection(h2.config.H2Configuration(client_side=True, header_encoding="utf-8"))
    c.initiate_connection()
    s.sendall(c.data_to_send())
    return s, c

def pump(s, c, until, secs=5):
    deadline = time.time() + secs
    while time.time() < deadline and not until():
        s.settimeout(max(0.01, deadline - time.time()))
        try:
            data = s.recv(65536)
        except socket.timeout:
            break
        if not data:
            break
        for ev in c.receive_data(data):
            yield ev
        out = c.data_to_send()
        if out:
            s.sendall(out)

def req(port, path, extra=()):
    return [(":method", "GET"), (":path", path), (":scheme", "http"),
            (":authority", "127.0.0.1:%d" % port)] + list(extra)

cmd, port = sys.argv[1], int(sys.argv[2])
s, c = connect(port)
if cmd == "settings":
    got = {}
    for ev in pump(s, c, lambda: bool(got)):
        if isinstance(ev, h2.events.RemoteSettingsChanged):
            got = {k: v.new_value for k, v in ev.changed_settings.items()}
    S = h2.settings.SettingCodes
    print("max_streams=%s window=%s header_list=%s" % (got.get(S.MAX_CONCURRENT_STREAMS),
          got.get(S.INITIAL_WINDOW_SIZE), got.get(S.MAX_HEADER_LIST_SIZE)))
elif cmd == "big":
    # Sent at once, before the server's SETTINGS are read: the client does
    # not hold itself to MAX_HEADER_LIST_SIZE, the proxy must.
    c.send_headers(1, req(port, "/big", [("x-big", "b" * 2000)]), end_stream=True)
    c.send_headers(3, req(port, "/after"), end_stream=True)
    s.sendall(c.data_to_send())
    done = {}
    for ev in pump(s, c, lambda: len(done) == 2):
        if isinstance(ev, h2.events.ResponseReceived):
            done[ev.stream_id] = "status=" + dict(ev.headers).get(":status", "?")
        elif isinstance(ev, h2.events.StreamReset):
            done[ev.stream_id] = "reset=" + getattr(ev.error_code, "name", str(ev.error_code))
        elif isinstance(ev, h2.events.ConnectionTerminated):
            done.setdefault(1, "goaway"); done.setdefault(3, "goaway")
    for sid in (1, 3):
        print("stream %d %s" % (sid, done.get(sid, "nothing")))
elif cmd == "par":
    n, path = int(sys.argv[3]), sys.argv[4]
    t0 = time.time()
    for i in range(n):
        c.send_headers(1 + 2 * i, req(port, "%s&n=%d" % (path, i)), end_stream=True)
    s.sendall(c.data_to_send())
    got = {}
    for ev in pump(s, c, lambda: len(got) == n, 10):
        if isinstance(ev, h2.events.ResponseReceived):
            got[ev.stream_id] = "status=%s ms=%d" % (dict(ev.headers).get(":status"), (time.time() - t0) * 1000)
        elif isinstance(ev, h2.events.DataReceived):
            c.acknowledge_received_data(ev.flow_controlled_length, ev.stream_id)
    for i in range(n):
        print("stream %d %s" % (1 + 2 * i, got.get(1 + 2 * i, "nothing")))
elif cmd == "seq":
    for i in range(int(sys.argv[3])):
        sid = 1 + 2 * i
        c.send_headers(sid, req(port, "/r%d" % i), end_stream=True)
        s.sendall(c.data_to_send())
        head, body, ended = {}, b"", []
        for ev in pump(s, c, lambda: bool(ended)):
            if isinstance(ev, h2.events.ResponseReceived):
                head = dict(ev.headers)
            elif isinstance(ev, h2.events.DataReceived):
                body += ev.data
                c.acknowledge_received_data(ev.flow_controlled_length, ev.stream_id)
            elif isinstance(ev, (h2.events.StreamEnded, h2.events.StreamReset, h2.events.ConnectionTerminated)):
                ended.append(ev)
        print("stream %d status=%s retry-after=%s type=%s body=%s" % (sid, head.get(":status"),
              head.get("retry-after", "-"), head.get("content-type", "-"), body.decode().strip()))
s.close()
PY

got=$("$PY" "$TMPDIR/h2lim.py" settings "$P") || fail "settings: $got"
echo "measured: defaults: $got"
[ "$got" = "max_streams=100 window=65536 header_list=1024" ] ||
    fail "SETTINGS of a proxy with no http2 line: '$got', expected max_streams=100 window=65536 header_list=1024"
got=$("$PY" "$TMPDIR/h2lim.py" settings "$Q") || fail "settings: $got"
echo "measured: http2 window 1m, max-streams 7: $got"
case "$got" in "max_streams=7 window=1048576 "*) ;; *)
    fail "SETTINGS with http2 window 1m and max-streams 7: '$got'" ;; esac

got=$("$PY" "$TMPDIR/h2lim.py" big "$P") || fail "big: $got"
echo "measured: $(echo "$got" | tr '\n' ';')"
[ "$got" = $'stream 1 status=431\nstream 3 status=200' ] ||
    fail "a stream over limit header-size: got '$got', expected stream 1 status=431 and stream 3 status=200"
wait_for 3 grep -q '"GET /after HTTP/2.0" 200' "$TMPDIR/proxy.log" || fail "no access-log line for GET /after"
served=$(stats_get "$S" 'j["pools"][0]["servers"][0]["requests"]')
[ "$served" = 1 ] || fail "the server was sent $served requests, expected 1 (GET /after only)"

got=$("$PY" "$TMPDIR/h2lim.py" seq "$R" 3) || fail "seq: $got"
echo "measured: $(echo "$got" | tr '\n' ';')"
echo "$got" | sed -n 1p | grep -q '^stream 1 status=200 .* body=app' || fail "stream 1 (retried or not): '$got'"
echo "$got" | sed -n 2p | grep -q '^stream 3 status=200 .* body=app' || fail "stream 3 (retried or not): '$got'"
echo "$got" | sed -n 3p | grep -Eq '^stream 5 status=429 retry-after=(5[0-9]|60) type=text/html body=<html><body>slow down</body></html>$' ||
    fail "stream 5 past limit rate: '$(echo "$got" | sed -n 3p)', expected 429, retry-after about 60, the error page"

# Queued: max-conns 1, two streams of 300 ms at once.
got=$("$PY" "$TMPDIR/h2lim.py" par "$Q" 2 "/q/?delay=300") || fail "par: $got"
echo "measured: queued: $(echo "$got" | tr '\n' ';')"
read -r _ _ st1 ms1 _ _ st2 ms2 <<<"$(echo "$got" | tr '\n' ' ' | sed 's/status=//g; s/ms=//g')"
[ "$st1 $st2" = "200 200" ] || fail "two streams to a server with max-conns 1: '$got', expected both 200"
a=$ms1; [ "$ms2" -lt "$a" ] && a=$ms2; z=$((ms1 + ms2 - a))
[ "$z" -ge 550 ] || fail "the second stream ended after $z ms: it did not wait for the first (max-conns 1)"
# Past timeout queue (500 ms): three streams of 1500 ms, the first is
# served, the two waiting get 503.
got=$("$PY" "$TMPDIR/h2lim.py" par "$Q" 3 "/q/?delay=1500") || fail "par: $got"
echo "measured: timeout queue: $(echo "$got" | tr '\n' ';')"
n200=$(echo "$got" | grep -c 'status=200'); n503=$(echo "$got" | grep -c 'status=503')
[ "$n200 $n503" = "1 2" ] || fail "three 1.5 s streams, max-conns 1, timeout queue 500ms: '$got', expected one 200 and two 503"

stop_pid "$R_PID"
stop_pid "$Q_PID"
stop_pid "$P_PID"
echo "PASS: http2 defaults and settings advertised, 431 on a stream over limit header-size, the next stream served, streams retried, limited and queued"
