#!/usr/bin/env python3
"""h2_client.py: HTTP/2 clients for the h2_* scenarios, on python3-h2.

  h2_client.py rapid-reset PORT N   open and cancel N streams at once; prints
                                    "goaway error=NAME last=ID" (or "no goaway")
                                    and "reset-streams-answered=K"
  h2_client.py idle PORT SECS       say nothing after the preface; prints
                                    "goaway error=NAME after=S" or "no goaway"
  h2_client.py inflight PORT PATH   one request; prints "started" once it is
                                    sent (the test then stops the proxy), then
                                    "goaway error=NAME last=ID" and
                                    "response status=N bytes=B" as they come,
                                    and "closed" when the proxy closes
  h2_client.py malformed PORT       on one connection: CONNECT, a request
                                    with "connection: close", one with
                                    "te: gzip", then a good one; prints one
                                    line per stream: "stream ID status=N" or
                                    "stream ID reset=NAME"
  h2_client.py continuation PORT N  one HEADERS frame, then N CONTINUATION
                                    frames of 4 KB each that never end the
                                    block; prints the frames the proxy sent
                                    back ("goaway error=NAME", "rst ...")
  h2_client.py stalled-stream PORT  stream 1 asks for 5 MB and is never
                                    read (its window stays shut), stream 3
                                    asks for 100 kB; prints "stream 3
                                    bytes=N ended" and "stream 1 bytes=N"
  h2_client.py early-upload PORT FRAME TOTAL [COOKIE]
                                    a POST of TOTAL bytes without
                                    content-length sent right after the
                                    preface in the default window, in DATA
                                    frames of FRAME bytes (with a cookie of
                                    COOKIE bytes); prints "status=N
                                    body-length=L" (the backend's
                                    X-Body-Length) or "reset=NAME"
  h2_client.py ping-flood PORT N     N PINGs, reading nothing until they are
                                    all sent; prints what came back
  h2_client.py reload-race PORT [noack]
                                    a request served, then "ready" (the test
                                    reloads the proxy); when the first GOAWAY
                                    comes, stream 3 is sent as if it had left
                                    before the GOAWAY arrived, then the PING is
                                    answered; prints each GOAWAY ("goaway
                                    error=NAME last=ID"), "ping" for a PING,
                                    "stream 3 served" or "stream 3 not
                                    served", then "closed" or "still open";
                                    "final goaway after=S" (S from the first);
                                    noack: the PING is never answered
  h2_client.py slow-headers PORT S  a HEADERS frame without END_HEADERS, then
                                    nothing for S seconds; prints the same
"""
import socket
import sys
import time

import h2.config
import h2.connection
import h2.events


def connect(port):
    s = socket.create_connection(("127.0.0.1", port), timeout=5)
    conn = h2.connection.H2Connection(h2.config.H2Configuration(client_side=True, header_encoding="utf-8"))
    conn.initiate_connection()
    s.sendall(conn.data_to_send())
    return s, conn


def headers(port, path):
    return [(":method", "GET"), (":path", path), (":scheme", "http"), (":authority", "127.0.0.1:%d" % port)]


def error_name(code):
    try:
        return h2.errors.ErrorCodes(code).name
    except ValueError:
        return str(code)


def events(s, conn, deadline):
    """Yields h2 events until the deadline, then None; "closed" at EOF."""
    while time.time() < deadline:
        s.settimeout(max(0.01, deadline - time.time()))
        try:
            data = s.recv(65536)
        except socket.timeout:
            break
        except ConnectionResetError:
            yield "closed"
            return
        if not data:
            yield "closed"
            return
        try:
            evs = conn.receive_data(data)
        except h2.exceptions.ProtocolError as e:
            print("protocol-error %s" % e)
            yield "closed"
            return
        out = conn.data_to_send()
        if out:
            try:
                s.sendall(out)
            except OSError:
                pass
        for ev in evs:
            yield ev


def rapid_reset(port, n):
    s, conn = connect(port)
    for _ in range(n):
        sid = conn.get_next_available_stream_id()
        conn.send_headers(sid, headers(port, "/?delay=500"), end_stream=True)
        conn.reset_stream(sid)
    try:
        s.sendall(conn.data_to_send())
    except OSError:
        pass
    answered = 0
    goaway = None
    for ev in events(s, conn, time.time() + 5):
        if ev == "closed":
            break
        if isinstance(ev, h2.events.ConnectionTerminated):
            goaway = ev
        if isinstance(ev, h2.events.ResponseReceived):
            answered += 1
    if goaway:
        print("goaway error=%s last=%d" % (error_name(goaway.error_code), goaway.last_stream_id))
    else:
        print("no goaway")
    print("reset-streams-answered=%d" % answered)


def idle(port, secs):
    s, conn = connect(port)
    t0 = time.time()
    for ev in events(s, conn, t0 + secs):
        if isinstance(ev, h2.events.ConnectionTerminated):
            print("goaway error=%s after=%.1f" % (error_name(ev.error_code), time.time() - t0))
            return
        if ev == "closed":
            break
    print("no goaway")


def inflight(port, path):
    s, conn = connect(port)
    sid = conn.get_next_available_stream_id()
    conn.send_headers(sid, headers(port, path), end_stream=True)
    s.sendall(conn.data_to_send())
    print("started", flush=True)
    status, size = None, 0
    for ev in events(s, conn, time.time() + 10):
        if ev == "closed":
            print("closed", flush=True)
            return
        if isinstance(ev, h2.events.ConnectionTerminated):
            print("goaway error=%s last=%d" % (error_name(ev.error_code), ev.last_stream_id), flush=True)
        elif isinstance(ev, h2.events.ResponseReceived):
            status = dict(ev.headers).get(":status")
        elif isinstance(ev, h2.events.DataReceived):
            size += len(ev.data)
            conn.acknowledge_received_data(ev.flow_controlled_length, ev.stream_id)
        elif isinstance(ev, h2.events.StreamEnded):
            print("response status=%s bytes=%d" % (status, size), flush=True)
    print("timeout", flush=True)


def malformed(port):
    s = socket.create_connection(("127.0.0.1", port), timeout=5)
    cfg = h2.config.H2Configuration(client_side=True, header_encoding="utf-8", validate_outbound_headers=False,
                                    normalize_outbound_headers=False)
    conn = h2.connection.H2Connection(cfg)
    conn.initiate_connection()
    base = headers(port, "/")
    conn.send_headers(1, [(":method", "CONNECT"), (":authority", "example.com:443")], end_stream=True)
    conn.send_headers(3, base + [("connection", "close")], end_stream=True)
    conn.send_headers(5, base + [("te", "gzip")], end_stream=True)
    conn.send_headers(7, base, end_stream=True)
    s.sendall(conn.data_to_send())
    seen = {}
    for ev in events(s, conn, time.time() + 3):
        if ev == "closed":
            break
        if isinstance(ev, h2.events.ResponseReceived):
            seen[ev.stream_id] = "status=%s" % dict(ev.headers).get(":status")
        elif isinstance(ev, h2.events.StreamReset):
            seen[ev.stream_id] = "reset=%s" % error_name(ev.error_code)
        if len(seen) == 4:
            break
    for sid in sorted(seen):
        print("stream %d %s" % (sid, seen[sid]))


def raw_read(s, deadline, size=65536):
    """Yields the frames the proxy sends on a raw connection until the
    deadline, then "closed" if it closed first."""
    import hyperframe.frame as hf
    buf = b""
    while time.time() < deadline:
        s.settimeout(max(0.01, deadline - time.time()))
        try:
            data = s.recv(size)
        except socket.timeout:
            return
        except OSError:
            data = b""
        if not data:
            yield "closed"
            return
        buf += data
        while len(buf) >= 9:
            frame, length = hf.Frame.parse_frame_header(memoryview(buf[:9]))
            if len(buf) < 9 + length:
                break
            frame.parse_body(memoryview(buf[9:9 + length]))
            buf = buf[9 + length:]
            yield frame


def raw_frames(s, deadline):
    """Prints what the proxy sends on a raw connection until it closes."""
    import hyperframe.frame as hf
    for frame in raw_read(s, deadline):
        if frame == "closed":
            print("closed after=%.1f" % (time.time() - T0))
            return
        if isinstance(frame, hf.GoAwayFrame):
            print("goaway error=%s after=%.1f" % (error_name(frame.error_code), time.time() - T0))
        elif isinstance(frame, hf.RstStreamFrame):
            print("rst stream=%d error=%s after=%.1f" % (frame.stream_id, error_name(frame.error_code),
                                                        time.time() - T0))
    print("still open")


def open_block(port):
    import hpack
    import hyperframe.frame as hf
    s = socket.create_connection(("127.0.0.1", port), timeout=5)
    s.sendall(b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n" + hf.SettingsFrame(0).serialize())
    enc = hpack.Encoder()
    block = enc.encode(headers(port, "/"))
    f = hf.HeadersFrame(1)
    f.data = block
    f.flags.add("END_STREAM")
    s.sendall(f.serialize())
    return s, enc


def continuation(port, n):
    import hpack
    import hyperframe.frame as hf
    s, enc = open_block(port)
    pad = enc.encode([hpack.NeverIndexedHeaderTuple("x-pad", "a" * 4000)])
    try:
        for _ in range(n):
            c = hf.ContinuationFrame(1)
            c.data = pad
            s.sendall(c.serialize())
    except OSError:
        pass
    raw_frames(s, time.time() + 3)


def slow_headers(port, secs):
    s, _ = open_block(port)
    raw_frames(s, time.time() + secs)


def stalled_stream(port):
    s, conn = connect(port)
    conn.send_headers(1, headers(port, "/?size=5000000"), end_stream=True)
    conn.send_headers(3, headers(port, "/?size=100000"), end_stream=True)
    s.sendall(conn.data_to_send())
    got = {1: 0, 3: 0}
    ended = False
    for ev in events(s, conn, time.time() + 5):
        if ev == "closed":
            break
        if isinstance(ev, h2.events.DataReceived):
            got[ev.stream_id] += len(ev.data)
            # The connection's window always goes back; stream 1's never.
            conn.increment_flow_control_window(ev.flow_controlled_length)
            if ev.stream_id == 3:
                try:
                    conn.increment_flow_control_window(ev.flow_controlled_length, stream_id=3)
                except h2.exceptions.StreamClosedError:
                    pass  # its END_STREAM came in the same read
            s.sendall(conn.data_to_send())
        elif isinstance(ev, h2.events.StreamEnded) and ev.stream_id == 3:
            ended = True
            break
    print("stream 3 bytes=%d%s" % (got[3], " ended" if ended else ""))
    print("stream 1 bytes=%d" % got[1])


def early_upload(port, frame, total, cookie):
    # As browsers and curl may: HEADERS and the body right after the
    # preface, in the protocol's default window (65535), before the proxy's
    # SETTINGS are in; no content-length (the body goes chunked), in DATA
    # frames of `frame` bytes; then on as the windows allow.
    s, conn = connect(port)
    extra = [("cookie", "c=" + "v" * cookie)] if cookie else []
    conn.send_headers(1, [(":method", "POST"), (":path", "/up"), (":scheme", "http"),
                          (":authority", "127.0.0.1:%d" % port)] + extra)
    sent = 0

    def send_more():
        nonlocal sent
        while sent < total and min(conn.local_flow_control_window(1), conn.max_outbound_frame_size) >= 1:
            n = min(frame, total - sent, conn.local_flow_control_window(1))
            conn.send_data(1, b"u" * n, end_stream=sent + n == total)
            sent += n
        s.sendall(conn.data_to_send())
    send_more()
    print("sent before reading: %d" % sent)
    status = length = None
    for ev in events(s, conn, time.time() + 10):
        if ev == "closed":
            break
        if isinstance(ev, h2.events.ResponseReceived):
            hs = dict(ev.headers)
            status, length = hs.get(":status"), hs.get("x-body-length")
        elif isinstance(ev, h2.events.StreamReset):
            print("reset=%s" % error_name(ev.error_code))
            return
        elif isinstance(ev, h2.events.StreamEnded):
            break
        elif isinstance(ev, (h2.events.WindowUpdated, h2.events.RemoteSettingsChanged)):
            send_more()
    print("status=%s body-length=%s" % (status, length))


def ping_flood(port, n):
    import hyperframe.frame as hf
    s = socket.create_connection(("127.0.0.1", port), timeout=5)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    s.sendall(b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n" + hf.SettingsFrame(0).serialize())
    batch = b"".join(hf.PingFrame(0, opaque_data=b"12345678").serialize() for _ in range(1000))
    try:
        for _ in range(n // 1000):
            s.sendall(batch)
    except OSError:
        pass
    raw_frames_last(s, time.time() + 5)


def reload_race(port, ack=True):
    import hyperframe.frame as hf
    from h2_abuse import Raw, response_done
    c = Raw(port)
    c.settings_acked()
    c.send(c.request(1))
    if c.read(5, until=response_done(1)) is None:
        print("stream 1 not served: %s" % c.what())
        return
    print("ready", flush=True)
    first = c.read(10, until=lambda f: isinstance(f, hf.GoAwayFrame))
    if first is None:
        print("no goaway: %s" % c.what())
        return
    # A request already on its way when the GOAWAY came: a client reads
    # the GOAWAY only after it sent it.
    c.send(c.request(3))
    t_notice = time.time()
    seen = len(c.got)
    final_after = None

    def answer(f):
        if isinstance(f, hf.PingFrame) and "ACK" not in f.flags and ack:
            c.send(hf.PingFrame(0, opaque_data=f.opaque_data, flags=["ACK"]))

    for f in list(c.got):  # the PING may have come before the GOAWAY
        answer(f)
    deadline = t_notice + 5
    while not c.closed and time.time() < deadline:
        f = c.read(deadline - time.time(), until=lambda f: isinstance(f, (hf.PingFrame, hf.GoAwayFrame)))
        answer(f)
        if isinstance(f, hf.GoAwayFrame) and final_after is None:
            final_after = time.time() - t_notice
    if final_after is not None:
        print("final goaway after=%.1f" % final_after)
    served = False
    for f in c.got:
        if isinstance(f, hf.GoAwayFrame):
            print("goaway error=%s last=%d" % (error_name(f.error_code), f.last_stream_id))
        elif isinstance(f, hf.PingFrame) and "ACK" not in f.flags:
            print("ping")
        elif f.stream_id == 3 and "END_STREAM" in f.flags and 3 not in c.rst:
            served = True
    print("stream 3 served" if served else "stream 3 not served (%d frames after the first GOAWAY)" % (len(c.got) - seen))
    print("closed" if c.closed else "still open")


def raw_frames_last(s, deadline):
    """Reads until the proxy closes; prints its GOAWAY (not the PING ACKs),
    which may be lost when the proxy closes a socket the client left full,
    then "closed" or "still open"."""
    import hyperframe.frame as hf
    goaway, closed = None, False
    for frame in raw_read(s, deadline, size=1 << 20):
        if frame == "closed":
            closed = True
        elif isinstance(frame, hf.GoAwayFrame):
            goaway = frame
    print("goaway error=%s" % error_name(goaway.error_code) if goaway else "no goaway")
    print("closed" if closed else "still open")


T0 = time.time()


if __name__ == "__main__":
    cmd, port = sys.argv[1], int(sys.argv[2])
    if cmd == "rapid-reset":
        rapid_reset(port, int(sys.argv[3]))
    elif cmd == "idle":
        idle(port, float(sys.argv[3]))
    elif cmd == "continuation":
        continuation(port, int(sys.argv[3]))
    elif cmd == "stalled-stream":
        stalled_stream(port)
    elif cmd == "ping-flood":
        ping_flood(port, int(sys.argv[3]))
    elif cmd == "early-upload":
        early_upload(port, int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5]) if len(sys.argv) > 5 else 0)
    elif cmd == "slow-headers":
        slow_headers(port, float(sys.argv[3]))
    elif cmd == "malformed":
        malformed(port)
    elif cmd == "reload-race":
        reload_race(port, ack=len(sys.argv) < 4 or sys.argv[3] != "noack")
    elif cmd == "inflight":
        inflight(port, sys.argv[3])
    else:
        sys.exit("unknown command " + cmd)
