#!/usr/bin/python3
"""h2_abuse.py: the HTTP/2 abuse and conformance cases of h2_abuse.sh.

  h2_abuse.py PORT CASE    runs one case on a new connection to the proxy
                           and checks the frames it answers with (RFC 9113
                           error codes); prints "CASE: ok (what came)" and
                           exits 0, or "CASE: FAIL ..." and exits 1
  h2_abuse.py PORT get     one ordinary request on a new connection; ok
                           when it answers 200

Frames are written raw (hyperframe, hpack: they come with python3-h2),
since most cases break the protocol on purpose and h2's state machine
would refuse to send them.  The proxy's configuration is h2_abuse.sh's
(http2 max-streams 10, timeout server 2s).
"""
import fcntl
import json
import socket
import sys
import termios
import time
import urllib.request

import h2.errors
import hpack
import hyperframe.frame as hf

PREFACE = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"
MAX_STREAMS = 10


def name(code):
    try:
        return h2.errors.ErrorCodes(code).name
    except ValueError:
        return str(code)


class Raw:
    """One connection, frames written and read by hand."""

    def __init__(self, port, preface=True, settings=None, rcvbuf=None):
        self.port = port
        self.s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        if rcvbuf:
            self.s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
        self.s.settimeout(5)
        self.s.connect(("127.0.0.1", port))
        self.buf = b""
        self.enc = hpack.Encoder()
        self.goaway = None
        self.rst = {}
        self.closed = False
        self.got = []
        if preface:
            self.send_bytes(PREFACE + hf.SettingsFrame(0, settings=settings or {}).serialize())

    def send_bytes(self, data):
        try:
            self.s.sendall(data)
        except OSError:
            self.closed = True

    def send(self, *frames):
        self.send_bytes(b"".join(f.serialize() for f in frames))

    def request(self, sid, path="/", end_stream=True, method="GET", extra=()):
        f = hf.HeadersFrame(sid)
        f.data = self.enc.encode([(":method", method), (":path", path), (":scheme", "http"),
                                  (":authority", "127.0.0.1:%d" % self.port)] + list(extra))
        f.flags.add("END_HEADERS")
        if end_stream:
            f.flags.add("END_STREAM")
        return f

    def read(self, secs, until=None):
        """Reads frames for up to secs (until the proxy closes, or until(frame)
        is true); remembers the GOAWAY, the RST_STREAMs and the rest."""
        deadline = time.time() + secs
        while True:
            frame = self.parse(until)
            if frame is not None:
                return frame
            if time.time() >= deadline or self.closed:
                return None
            self.s.settimeout(max(0.01, deadline - time.time()))
            try:
                data = self.s.recv(1 << 20)
            except socket.timeout:
                return None
            except OSError:
                data = b""
            if not data:
                self.closed = True
            self.buf += data

    def parse(self, until):
        """The whole frames in buf; the first until(frame) is true for."""
        while len(self.buf) >= 9:
            frame, length = hf.Frame.parse_frame_header(memoryview(self.buf[:9]))
            if len(self.buf) < 9 + length:
                break
            frame.parse_body(memoryview(self.buf[9:9 + length]))
            self.buf = self.buf[9 + length:]
            self.got.append(frame)
            if isinstance(frame, hf.GoAwayFrame) and self.goaway is None:
                self.goaway = frame
            elif isinstance(frame, hf.RstStreamFrame):
                self.rst.setdefault(frame.stream_id, frame.error_code)
            if until and until(frame):
                return frame
        return None

    def what(self):
        parts = []
        if self.goaway is not None:
            parts.append("goaway %s last=%d" % (name(self.goaway.error_code), self.goaway.last_stream_id))
        for sid in sorted(self.rst)[:4]:
            parts.append("rst %d %s" % (sid, name(self.rst[sid])))
        if len(self.rst) > 4:
            parts.append("(%d rst in all)" % len(self.rst))
        parts.append("closed" if self.closed else "open")
        return ", ".join(parts)

    def settings_acked(self):
        """Reads the proxy's SETTINGS and answers with an ACK, then waits for
        the ACK of ours."""
        self.read(2, until=lambda f: isinstance(f, hf.SettingsFrame) and "ACK" not in f.flags)
        self.send(hf.SettingsFrame(0, flags=["ACK"]))
        self.read(2, until=lambda f: isinstance(f, hf.SettingsFrame) and "ACK" in f.flags)

    def streams_ended(self, secs, most):
        """The ids of the streams that ended (END_STREAM) within secs, reading
        until most of them did or the proxy closed."""
        done = set()
        deadline = time.time() + secs
        while len(done) < most and time.time() < deadline and not self.closed:
            f = self.read(deadline - time.time(), until=lambda f: "END_STREAM" in f.flags)
            if f is None:
                break
            done.add(f.stream_id)
        return done


def response_done(sid):
    return lambda f: f.stream_id == sid and "END_STREAM" in f.flags


def expect(case, conn, ok, want):
    """ok: whether what came is right; want: what was expected, for the failure."""
    if ok:
        print("%s: ok (%s)" % (case, conn.what()))
        return 0
    print("%s: FAIL: expected %s, got %s" % (case, want, conn.what()))
    return 1


def goaway_is(conn, *codes):
    return conn.goaway is not None and name(conn.goaway.error_code) in codes


def error_is(conn, sid, *codes):
    """A stream error on sid or a connection error, of one of codes."""
    return goaway_is(conn, *codes) or (sid in conn.rst and name(conn.rst[sid]) in codes)


# ---- the cases --------------------------------------------------------------------------------

def case_get(port):
    c = Raw(port)
    c.send(c.request(1))
    c.read(5, until=response_done(1))
    status = None
    dec = hpack.Decoder()
    for f in c.got:
        if isinstance(f, hf.HeadersFrame) and f.stream_id == 1:
            status = dict(dec.decode(f.data)).get(":status")
    if status == "200":
        print("get: ok (200)")
        return 0
    print("get: FAIL: status %s, %s" % (status, c.what()))
    return 1


def case_settings_flood(port):
    # 1000 SETTINGS frames, their ACKs read as they come: not nghttp2's
    # unread-answers guard but the proxy's count per 10 s.
    c = Raw(port)
    c.send(*[hf.SettingsFrame(0, settings={hf.SettingsFrame.ENABLE_PUSH: 0}) for _ in range(1000)])
    c.read(5)
    return expect("settings-flood", c, goaway_is(c, "ENHANCE_YOUR_CALM") and c.closed,
                  "GOAWAY ENHANCE_YOUR_CALM, then close")


def case_settings_entries(port):
    # One SETTINGS frame of 40 entries (unknown ids, which a receiver must
    # ignore, RFC 9113 6.5.2): more than nghttp2's 32, cut (ENHANCE_YOUR_CALM).
    c = Raw(port)
    body = b"".join((0x10 + i).to_bytes(2, "big") + (1).to_bytes(4, "big") for i in range(40))
    c.send_bytes(len(body).to_bytes(3, "big") + b"\x04\x00" + (0).to_bytes(4, "big") + body)
    c.read(3)
    return expect("settings-entries", c, goaway_is(c, "ENHANCE_YOUR_CALM") and c.closed,
                  "GOAWAY ENHANCE_YOUR_CALM, then close")


def case_settings_few(port):
    # An honest client's few SETTINGS (and a PING) are answered, not cut.
    c = Raw(port)
    c.send(*[hf.SettingsFrame(0, settings={hf.SettingsFrame.ENABLE_PUSH: 0}) for _ in range(20)])
    c.send(hf.PingFrame(0, opaque_data=b"abcdefgh"))
    c.read(2, until=lambda f: isinstance(f, hf.PingFrame))
    acks = sum(1 for f in c.got if isinstance(f, hf.SettingsFrame) and "ACK" in f.flags)
    # 21: the preface's SETTINGS is answered too.
    return expect("settings-few", c, c.goaway is None and acks == 21, "21 SETTINGS ACKs, no GOAWAY (%d)" % acks)


def serves(c, sid):
    """Sends a GET on stream sid and reads until its response is done (5 s
    at most); whether it was."""
    c.send(c.request(sid))
    c.read(5, until=response_done(sid))
    return any(response_done(sid)(f) for f in c.got)


def case_settings_limit(port):
    # The edge of the SETTINGS count (100 per 10 s, the preface's among
    # them): 99 more are all answered and the connection still serves; the
    # 101st in all gets GOAWAY ENHANCE_YOUR_CALM and the close.
    c = Raw(port)
    acked = lambda: sum(1 for f in c.got if isinstance(f, hf.SettingsFrame) and "ACK" in f.flags)
    for _ in range(9):
        c.send(*[hf.SettingsFrame(0, settings={hf.SettingsFrame.ENABLE_PUSH: 0}) for _ in range(11)])
    c.read(3, until=lambda f: acked() == 100)
    acks = acked()
    served = serves(c, 1)
    if c.goaway is not None or c.closed or acks != 100 or not served:
        return expect("settings-limit", c, False, "100 SETTINGS ACKs, no GOAWAY, stream 1 answered "
                      "(%d ACKs, stream 1 answered: %s)" % (acks, served))
    c.send(hf.SettingsFrame(0, settings={hf.SettingsFrame.ENABLE_PUSH: 0}))
    c.read(3)
    return expect("settings-limit", c, goaway_is(c, "ENHANCE_YOUR_CALM") and c.closed and acked() == 100,
                  "after 100 SETTINGS the 101st unanswered, GOAWAY ENHANCE_YOUR_CALM and close (%d ACKs)" % acked())


def case_ping_flood_read(port):
    # PINGs sent in small batches, each batch's answers read before the
    # next: nghttp2's unread-answers guard never trips, the proxy's count
    # per 10 s (100) does.
    c = Raw(port)
    sent = 0
    while sent < 1000 and not c.closed and c.goaway is None:
        c.send(*[hf.PingFrame(0, opaque_data=b"%08d" % (sent + i)) for i in range(10)])
        sent += 10
        c.read(0.5, until=lambda f, last=b"%08d" % (sent - 1): isinstance(f, hf.PingFrame) and f.opaque_data == last)
    c.read(3)
    acks = sum(1 for f in c.got if isinstance(f, hf.PingFrame) and "ACK" in f.flags)
    print("ping-flood-read: %d PINGs sent, %d answered" % (sent, acks))
    return expect("ping-flood-read", c, goaway_is(c, "ENHANCE_YOUR_CALM") and c.closed and 90 <= acks <= 100,
                  "90 to 100 PING ACKs, then GOAWAY ENHANCE_YOUR_CALM and close (%d ACKs)" % acks)


def pings_answered(c, first, count):
    """Sends PINGs first..first+count-1 in batches of 10, each batch's
    answers read before the next; returns how many of them were answered."""
    for i in range(first, first + count, 10):
        n = min(10, first + count - i)
        c.send(*[hf.PingFrame(0, opaque_data=b"%08d" % (i + k)) for k in range(n)])
        last = b"%08d" % (i + n - 1)
        c.read(2, until=lambda f: isinstance(f, hf.PingFrame) and "ACK" in f.flags and f.opaque_data == last)
    want = set(b"%08d" % i for i in range(first, first + count))
    return sum(1 for f in c.got if isinstance(f, hf.PingFrame) and "ACK" in f.flags and f.opaque_data in want)


def case_ping_limit(port):
    # The edge of the count (100 PINGs per 10 s): exactly 100 are all
    # answered and the connection still serves a request; the 101st, in
    # the same 10 s, gets GOAWAY ENHANCE_YOUR_CALM and the close.
    c = Raw(port)
    acks = pings_answered(c, 0, 100)
    served = serves(c, 1)
    if c.goaway is not None or c.closed or acks != 100 or not served:
        return expect("ping-limit", c, False, "100 PINGs answered, no GOAWAY, stream 1 answered "
                      "(%d answered, stream 1 answered: %s)" % (acks, served))
    over = pings_answered(c, 100, 1)
    c.read(3)
    print("ping-limit: 100 PINGs answered, then the 101st %s" % ("answered" if over else "not answered"))
    return expect("ping-limit", c, goaway_is(c, "ENHANCE_YOUR_CALM") and c.closed and over == 0,
                  "after 100 PINGs the 101st unanswered, GOAWAY ENHANCE_YOUR_CALM and close")


def case_flood_unread(port):
    # nghttp2's own guard (reason flood): 1000 answers queued and not yet
    # written.  The proxy holds PINGs and SETTINGS to 100 each per 10 s, so
    # a client reaches it only with its socket full (a large response it
    # never reads, its windows wide open) and 190 frames in each of six
    # windows: about 55 s, and only under a `timeout keep-alive` longer
    # than that.  Not run by h2_abuse.sh (its keep-alive is 5 s, and the
    # time): h2_flood_unread.bash runs it by hand, with the stats port as a
    # third argument, so that streams.goaway.flood is checked too.
    stats = int(sys.argv[3]) if len(sys.argv) > 3 else None
    floods = lambda: json.load(urllib.request.urlopen(
        "http://127.0.0.1:%d/api/stats" % stats, timeout=5))["streams"]["goaway"]["flood"]
    before = floods() if stats else None
    c = Raw(port, rcvbuf=4096, settings={hf.SettingsFrame.INITIAL_WINDOW_SIZE: 2**31 - 1})
    c.send(hf.WindowUpdateFrame(0, window_increment=2**31 - 1 - 65535))
    c.send(c.request(1, "/?size=268435456"))
    # The proxy's output is stuck once the bytes waiting here stop growing.
    waiting, still = -1, 0
    for _ in range(100):
        time.sleep(0.1)
        now = int.from_bytes(fcntl.ioctl(c.s, termios.FIONREAD, b"\0\0\0\0"), "little")
        still = still + 1 if now == waiting and now > 0 else 0
        waiting = now
        if still >= 5:
            break
    print("flood-unread: %d bytes unread, the proxy's output stuck: %s" % (waiting, still >= 5))
    for burst in range(6):
        t0 = time.monotonic()
        c.send(*[hf.PingFrame(0, opaque_data=b"%08d" % (burst * 100 + i)) for i in range(100)])
        c.send(*[hf.SettingsFrame(0) for _ in range(90)])
        if c.closed:
            break
        if burst < 5:
            time.sleep(max(0, 10.05 - (time.monotonic() - t0)))  # the next 10 s window
    c.read(10)  # drains what was sent until the close
    after = floods() if stats else None
    print("flood-unread: streams.goaway.flood %s -> %s" % (before, after))
    return expect("flood-unread", c, c.closed and (stats is None or after == before + 1),
                  "the connection closed after 1000 answers queued, counted as flood")


def case_unread_hold(port):
    # A client that reads nothing of the connection at all: a large
    # response it never reads, its windows wide open, held for argv[3]
    # seconds (h2_unread_client.sh checks what the proxy does meanwhile).
    hold = float(sys.argv[3]) if len(sys.argv) > 3 else 10
    c = Raw(port, rcvbuf=4096, settings={hf.SettingsFrame.INITIAL_WINDOW_SIZE: 2**31 - 1})
    c.send(hf.WindowUpdateFrame(0, window_increment=2**31 - 1 - 65535))
    c.send(c.request(1, "/?size=268435456"))
    time.sleep(hold)
    print("unread-hold: held %.0f s without reading" % hold)
    return 0


def case_unread_idle(port):
    # A client that asks for 16 KiB responses one at a time and reads none,
    # until the proxy's socket stops taking them: the last ones wait whole
    # in the proxy's output with their streams closed, the connection idle.
    # Holds it for argv[3] seconds, watching (ss) whether the proxy's end
    # of the connection is still established (h2_unread_client.sh: the
    # proxy must close it, past keep-alive and client timeouts).
    import subprocess
    hold = float(sys.argv[3]) if len(sys.argv) > 3 else 10
    c = Raw(port, rcvbuf=4096, settings={hf.SettingsFrame.INITIAL_WINDOW_SIZE: 2**31 - 1})
    c.send(hf.WindowUpdateFrame(0, window_increment=2**31 - 1 - 65535))
    me = c.s.getsockname()[1]
    def proxy_side():
        return subprocess.run(["ss", "-tnH", "state", "established", "( sport = :%d and dport = :%d )" % (port, me)],
                              capture_output=True, text=True).stdout.split()
    def proxy_side_open():
        return proxy_side() != []
    # One at a time until the kernel's send queue stops growing by a whole
    # response: the last one then sits in the proxy's own output, its
    # stream closed (more requests would leave streams open, which the
    # stalled-stream timeout handles).
    prev = -1
    for sid in range(1, 4000, 2):
        c.send(c.request(sid, "/?size=16384"))
        time.sleep(0.05)
        row = proxy_side()
        q = int(row[1]) if len(row) > 1 else -1
        if q >= 1 << 20 and prev >= 0 and q - prev < 16384:
            break
        prev = q
    sent = (sid + 1) // 2
    t0 = time.time()
    while time.time() - t0 < hold and proxy_side_open():
        time.sleep(0.2)
    open_now = proxy_side_open()
    print("unread-idle: %d responses asked for; %s" % (sent, "still open after %.0f s" % hold if open_now
                                                       else "closed by the proxy after %.1f s" % (time.time() - t0)))
    return 0


def case_answered_unread(port):
    # A POST whose body goes over limit body-size (queue_answered_waiter.sh:
    # while it waits in its pool's queue): the 413's HEADERS come, its DATA
    # cannot (the client's windows are shut), and the client holds the
    # stream open for argv[3] seconds.
    hold = float(sys.argv[3]) if len(sys.argv) > 3 else 3
    c = Raw(port, settings={hf.SettingsFrame.INITIAL_WINDOW_SIZE: 0})
    c.send(c.request(1, "/upload", end_stream=False, method="POST"))
    c.send(hf.DataFrame(1, data=b"x" * 2048))
    head = c.read(2, until=lambda f: isinstance(f, hf.HeadersFrame) and f.stream_id == 1)
    status = hpack.Decoder().decode(head.data) if head is not None else []
    print("answered-unread: %s" % dict(status).get(":status", "no answer"))
    time.sleep(hold)
    return 0


def case_upload_stall(port):
    # A POST that announces 1000 bytes and sends 3: after timeout server
    # (2 s) the stream is answered 408, the client's stall, not the
    # server's (h2_abuse.sh checks its failures stayed as they were).
    c = Raw(port)
    c.send(c.request(1, "/upload", end_stream=False, method="POST", extra=[("content-length", "1000")]))
    c.send(hf.DataFrame(1, data=b"abc"))
    head = c.read(5, until=lambda f: isinstance(f, hf.HeadersFrame) and f.stream_id == 1)
    status = dict(hpack.Decoder().decode(head.data)).get(":status") if head is not None else None
    return expect("upload-stall", c, status == "408", "408 on stream 1 (got %s)" % status)


def case_answered_keepalive(port):
    # A request the proxy answers itself (h2_keepalive_answered.sh: one no
    # route takes, 503) on a connection idle before it: the connection
    # is then idle for timeout keep-alive, not for timeout client (the
    # deadline of the header block that came).  Prints the seconds from
    # the answer to the GOAWAY.
    c = Raw(port)
    c.settings_acked()
    c.send(c.request(1, "/unrouted"))
    if c.read(3, until=response_done(1)) is None:
        return expect("answered-keepalive", c, False, "an answer on stream 1")
    t0 = time.monotonic()
    c.read(10, until=lambda f: isinstance(f, hf.GoAwayFrame))
    print("answered-keepalive: GOAWAY %.1f s after the answer" % (time.monotonic() - t0))
    return 0 if c.goaway is not None else expect("answered-keepalive", c, False, "a GOAWAY")


def case_ping_after_goaway(port):
    # The limits hold after a reload's GOAWAY too (h2_goaway.sh sends the
    # SIGHUP once "ready" is printed): a stream in flight keeps the
    # connection open, the notice's PING is answered, and once the final
    # GOAWAY came, 150 PINGs (the limit is 100 per 10 s) are cut.
    c = Raw(port)
    c.settings_acked()
    c.send(c.request(1, "/?delay=4000"))
    print("ready", flush=True)
    final = None
    deadline = time.time() + 5
    while final is None and time.time() < deadline and not c.closed:
        f = c.read(deadline - time.time(), until=lambda f: isinstance(f, (hf.GoAwayFrame, hf.PingFrame)))
        if isinstance(f, hf.PingFrame) and "ACK" not in f.flags:
            c.send(hf.PingFrame(0, flags=["ACK"], opaque_data=f.opaque_data))
        elif isinstance(f, hf.GoAwayFrame) and f.last_stream_id != 2**31 - 1:
            final = f
    if final is None:
        return expect("ping-after-goaway", c, False, "the reload's final GOAWAY")
    c.send(*[hf.PingFrame(0, opaque_data=b"%08d" % i) for i in range(150)])
    cut = c.read(3, until=lambda f: isinstance(f, hf.GoAwayFrame) and f.error_code != 0)
    print("ping-after-goaway: final GOAWAY last=%d, then %s" % (
        final.last_stream_id, "GOAWAY " + name(cut.error_code) if cut is not None else "no cut"))
    return expect("ping-after-goaway", c, cut is not None and name(cut.error_code) == "ENHANCE_YOUR_CALM",
                  "GOAWAY ENHANCE_YOUR_CALM after 150 PINGs")


def case_settings_ack(port):
    # The proxy acknowledges the client's SETTINGS, and sends its own:
    # max-streams and the stream window among them.
    c = Raw(port, settings={hf.SettingsFrame.INITIAL_WINDOW_SIZE: 100000})
    c.read(2, until=lambda f: isinstance(f, hf.SettingsFrame) and "ACK" in f.flags)
    ack = any(isinstance(f, hf.SettingsFrame) and "ACK" in f.flags for f in c.got)
    ours = [f for f in c.got if isinstance(f, hf.SettingsFrame) and "ACK" not in f.flags]
    limit = ours[0].settings.get(hf.SettingsFrame.MAX_CONCURRENT_STREAMS) if ours else None
    return expect("settings-ack", c, ack and limit == MAX_STREAMS and c.goaway is None,
                  "a SETTINGS ACK and SETTINGS with MAX_CONCURRENT_STREAMS %d (got %s)" % (MAX_STREAMS, limit))


def case_hpack_table(port):
    # A dynamic table size update to 65536, over the 4096 the proxy
    # advertises (SETTINGS_HEADER_TABLE_SIZE default): COMPRESSION_ERROR.
    c = Raw(port)
    f = hf.HeadersFrame(1)
    size = 65536 - 31
    update = bytearray([0x20 | 31])
    while size >= 128:
        update.append((size & 0x7F) | 0x80)
        size >>= 7
    update.append(size)
    f.data = bytes(update) + c.enc.encode([(":method", "GET"), (":path", "/"), (":scheme", "http"),
                                           (":authority", "x")])
    f.flags.add("END_HEADERS")
    f.flags.add("END_STREAM")
    c.send(f)
    c.read(3)
    return expect("hpack-table", c, goaway_is(c, "COMPRESSION_ERROR"), "GOAWAY COMPRESSION_ERROR")


def case_hpack_bomb(port):
    # Stream 1 puts a 4000-byte field in the dynamic table; stream 3's one
    # 16 KB HEADERS frame names it 16000 times (one byte each: 64 MB
    # decoded).  Past twice limit header-size decoded: GOAWAY
    # ENHANCE_YOUR_CALM at once, not a 431 after decoding it all.
    c = Raw(port)
    c.settings_acked()
    base = [(":method", "GET"), (":path", "/"), (":scheme", "http"), (":authority", "x")]
    f = hf.HeadersFrame(1)
    f.data = c.enc.encode(base + [("x-big", "a" * 4000)])
    f.flags.add("END_HEADERS")
    f.flags.add("END_STREAM")
    c.send(f)
    c.read(5, until=response_done(1))
    bombs = []
    for sid in range(3, 3 + 2 * 20, 2):
        g = hf.HeadersFrame(sid)
        g.data = c.enc.encode(base) + bytes([0x80 | 62]) * 16000  # 62: the newest dynamic entry
        g.flags.add("END_HEADERS")
        g.flags.add("END_STREAM")
        bombs.append(g)
    c.send(*bombs)
    c.read(3, until=lambda f: isinstance(f, hf.GoAwayFrame))
    return expect("hpack-bomb", c, goaway_is(c, "ENHANCE_YOUR_CALM") and c.goaway.last_stream_id <= 3,
                  "GOAWAY ENHANCE_YOUR_CALM at the first bomb (last stream 1 or 3)")


def case_zero_window(port):
    # The client's stream window is 0 from the start and never opens; the
    # connection stays lively (PINGs answered). The response is held for
    # timeout server (2s), then the stream is reset ENHANCE_YOUR_CALM.
    c = Raw(port, settings={hf.SettingsFrame.INITIAL_WINDOW_SIZE: 0})
    c.send(c.request(1, "/?size=1000000"))
    t0 = time.time()
    while time.time() - t0 < 6 and 1 not in c.rst and not c.closed:
        c.send(hf.PingFrame(0, opaque_data=b"stillhere"[:8]))
        c.read(0.4)
    after = time.time() - t0
    data = sum(len(f.data) for f in c.got if isinstance(f, hf.DataFrame))
    ok = c.rst.get(1) == h2.errors.ErrorCodes.ENHANCE_YOUR_CALM and 1.5 < after < 4.5 and data == 0
    print("zero-window: reset after %.1f s, %d DATA bytes" % (after, data))
    return expect("zero-window", c, ok, "RST_STREAM 1 ENHANCE_YOUR_CALM after about 2 s, no DATA")


def case_stream_reuse(port):
    # Stream 1 done, then HEADERS on stream 1 again: an id not greater than
    # every one before (RFC 9113 5.1.1): PROTOCOL_ERROR (or STREAM_CLOSED).
    c = Raw(port)
    c.send(c.request(1))
    c.read(5, until=response_done(1))
    c.send(c.request(1))
    c.read(3)
    return expect("stream-reuse", c, goaway_is(c, "PROTOCOL_ERROR", "STREAM_CLOSED"),
                  "GOAWAY PROTOCOL_ERROR or STREAM_CLOSED")


def case_data_closed(port):
    # DATA on a stream that both sides ended: STREAM_CLOSED (RFC 9113 5.1).
    c = Raw(port)
    c.send(c.request(1))
    c.read(5, until=response_done(1))
    d = hf.DataFrame(1, data=b"late")
    c.send(d)
    c.read(3)
    return expect("data-closed", c, error_is(c, 1, "STREAM_CLOSED"), "STREAM_CLOSED (RST_STREAM or GOAWAY)")


def case_max_streams_refused(port):
    # 15 slow streams at once, before the client took the proxy's SETTINGS:
    # the 11th and on are refused (REFUSED_STREAM, RFC 9113 5.1.2), the
    # first 10 served, the connection kept.
    c = Raw(port)
    c.send(*[c.request(2 * i + 1, "/?delay=300") for i in range(MAX_STREAMS + 5)])
    done = c.streams_ended(5, MAX_STREAMS)
    refused = sorted(sid for sid, code in c.rst.items() if name(code) == "REFUSED_STREAM")
    ok = c.goaway is None and refused == [2 * i + 1 for i in range(MAX_STREAMS, MAX_STREAMS + 5)] and \
        len(done) == MAX_STREAMS
    print("max-streams-refused: %d answered, refused %s" % (len(done), refused))
    return expect("max-streams-refused", c, ok, "streams 21 to 29 REFUSED_STREAM, 1 to 19 answered, no GOAWAY")


def case_max_streams_flood(port):
    # 40 at once: past 10 refusals the client is cut (GOAWAY
    # ENHANCE_YOUR_CALM), its queued refusals with it.
    c = Raw(port)
    c.send(*[c.request(2 * i + 1, "/?delay=300") for i in range(40)])
    c.read(4)
    return expect("max-streams-flood", c, goaway_is(c, "ENHANCE_YOUR_CALM") and c.closed,
                  "GOAWAY ENHANCE_YOUR_CALM, then close")


def case_max_streams_acked(port):
    # The same once the client acknowledged max-streams: the 11th stream
    # open at once is a connection error (nghttp2: PROTOCOL_ERROR, RFC 9113
    # 5.1.2).
    c = Raw(port)
    c.settings_acked()
    c.send(*[c.request(2 * i + 1, "/?delay=1000") for i in range(MAX_STREAMS + 1)])
    c.read(4, until=lambda f: isinstance(f, hf.GoAwayFrame))
    return expect("max-streams-acked", c, goaway_is(c, "PROTOCOL_ERROR", "REFUSED_STREAM", "ENHANCE_YOUR_CALM"),
                  "GOAWAY PROTOCOL_ERROR")


def case_max_streams_within(port):
    # Exactly max-streams at once is served, every one.
    c = Raw(port)
    c.settings_acked()
    c.send(*[c.request(2 * i + 1, "/?delay=200") for i in range(MAX_STREAMS)])
    done = c.streams_ended(6, MAX_STREAMS)
    return expect("max-streams-within", c, len(done) == MAX_STREAMS and c.goaway is None and not c.rst,
                  "%d streams answered (%d)" % (MAX_STREAMS, len(done)))


def case_frame_size(port):
    # A frame longer than SETTINGS_MAX_FRAME_SIZE (16384, the default the
    # proxy keeps): FRAME_SIZE_ERROR (RFC 9113 4.2).
    c = Raw(port)
    c.send(c.request(1, "/", end_stream=False, method="POST"))
    d = hf.DataFrame(1, data=b"x" * 16385)
    c.send(d)
    c.read(3)
    return expect("frame-size", c, goaway_is(c, "FRAME_SIZE_ERROR"), "GOAWAY FRAME_SIZE_ERROR")


def case_bad_preface(port):
    # Not the connection preface: no HTTP/2 (an HTTP/1 answer or a close),
    # never a hang.
    c = Raw(port, preface=False)
    c.send_bytes(b"PRI * HTTP/2.0\r\n\r\nXX\r\n\r\n" + hf.SettingsFrame(0).serialize())
    data = b""
    deadline = time.time() + 3
    while time.time() < deadline:
        try:
            chunk = c.s.recv(65536)
        except (socket.timeout, OSError):
            break
        if not chunk:
            c.closed = True
            break
        data += chunk
    ok = c.closed and (data == b"" or data.startswith(b"HTTP/1.1 4"))
    print("bad-preface: %r" % data[:40])
    return expect("bad-preface", c, ok, "an HTTP/1.1 4xx or a close")


def case_preface_no_settings(port):
    # The preface followed by a PING instead of SETTINGS: PROTOCOL_ERROR
    # (RFC 9113 3.4).
    c = Raw(port, preface=False)
    c.send_bytes(PREFACE + hf.PingFrame(0, opaque_data=b"12345678").serialize())
    c.read(3)
    return expect("preface-no-settings", c, goaway_is(c, "PROTOCOL_ERROR"), "GOAWAY PROTOCOL_ERROR")


def window_update(case, port, sid, increment, code):
    """A WINDOW_UPDATE of increment on the connection (sid 0: GOAWAY code)
    or on stream sid, opened first (RST_STREAM code, or a GOAWAY code)."""
    c = Raw(port)
    if sid == 0:
        c.send(hf.WindowUpdateFrame(0, window_increment=increment))
        c.read(3)
        return expect(case, c, goaway_is(c, code), "GOAWAY " + code)
    c.send(c.request(sid, "/?delay=500"))
    c.send(hf.WindowUpdateFrame(sid, window_increment=increment))
    c.read(3, until=lambda f: isinstance(f, (hf.RstStreamFrame, hf.GoAwayFrame)))
    return expect(case, c, error_is(c, sid, code), "RST_STREAM %d %s" % (sid, code))


def case_window_zero(port):
    # WINDOW_UPDATE with an increment of 0 on the connection: PROTOCOL_ERROR
    # (RFC 9113 6.9).
    return window_update("window-update-zero", port, 0, 0, "PROTOCOL_ERROR")


def case_window_zero_stream(port):
    # The same on an open stream: a stream error PROTOCOL_ERROR.
    return window_update("window-update-zero-stream", port, 1, 0, "PROTOCOL_ERROR")


def case_window_overflow(port):
    # A connection window past 2^31-1: FLOW_CONTROL_ERROR (RFC 9113 6.9.1).
    return window_update("window-overflow", port, 0, 0x7FFFFFFF, "FLOW_CONTROL_ERROR")


def case_window_overflow_stream(port):
    # A stream window past 2^31-1: RST_STREAM FLOW_CONTROL_ERROR.
    return window_update("window-overflow-stream", port, 1, 0x7FFFFFFF, "FLOW_CONTROL_ERROR")


def case_even_stream(port):
    # HEADERS on stream 2, an id only a server may open: PROTOCOL_ERROR
    # (RFC 9113 5.1.1).
    c = Raw(port)
    c.send(c.request(2))
    c.read(3)
    return expect("even-stream", c, goaway_is(c, "PROTOCOL_ERROR"), "GOAWAY PROTOCOL_ERROR")


def case_data_over_window(port):
    # A body sent past the stream's window (64 KiB, http2 window) without
    # waiting for WINDOW_UPDATE: FLOW_CONTROL_ERROR (RFC 9113 6.9.1).
    c = Raw(port)
    c.send(c.request(1, "/", end_stream=False, method="POST", extra=[("content-length", "200000")]))
    c.send(*[hf.DataFrame(1, data=b"x" * 16384) for _ in range(8)])
    c.read(3, until=lambda f: isinstance(f, (hf.RstStreamFrame, hf.GoAwayFrame)))
    return expect("data-over-window", c, error_is(c, 1, "FLOW_CONTROL_ERROR"), "FLOW_CONTROL_ERROR")


def case_data_idle(port):
    # DATA on a stream never opened (idle): PROTOCOL_ERROR (RFC 9113 5.1).
    c = Raw(port)
    c.send(hf.DataFrame(5, data=b"nobody"))
    c.read(3)
    return expect("data-idle", c, goaway_is(c, "PROTOCOL_ERROR"), "GOAWAY PROTOCOL_ERROR")


def made_you_reset(case, port, frames_for):
    # Streams the client makes the proxy reset, one after another, past
    # http2 max-resets (50 here): a rapid reset by other means (CVE-2025-8671,
    # "MadeYouReset"), cut the same way: GOAWAY ENHANCE_YOUR_CALM.
    c = Raw(port)
    c.settings_acked()
    for i in range(80):
        sid = 1 + 2 * i
        c.send(*frames_for(c, sid))
        # Each reset taken before the next stream: under max-streams.
        c.read(1, until=lambda f, sid=sid: f.stream_id == sid and isinstance(f, hf.RstStreamFrame))
        if c.goaway is not None or c.closed:
            break
    c.read(3, until=lambda f: isinstance(f, hf.GoAwayFrame))
    return expect(case, c, goaway_is(c, "ENHANCE_YOUR_CALM") and 50 <= len(c.rst) < 80,
                  "GOAWAY ENHANCE_YOUR_CALM after 50-79 stream resets")


def case_made_you_reset_length(port):
    # A DATA frame past the request's content-length: RST_STREAM PROTOCOL_ERROR.
    def frames(c, sid):
        return (c.request(sid, method="POST", end_stream=False, extra=[("content-length", "1")]),
                hf.DataFrame(sid, data=b"xx", flags=["END_STREAM"]))
    return made_you_reset("made-you-reset-length", port, frames)


def case_made_you_reset_window(port):
    # A WINDOW_UPDATE overflowing the stream's window: RST_STREAM FLOW_CONTROL_ERROR.
    def frames(c, sid):
        return (c.request(sid, "/?delay=200"), hf.WindowUpdateFrame(sid, window_increment=0x7FFFFFFF))
    return made_you_reset("made-you-reset-window", port, frames)


CASES = {
    "get": case_get,
    "made-you-reset-length": case_made_you_reset_length,
    "made-you-reset-window": case_made_you_reset_window,
    "settings-flood": case_settings_flood,
    "settings-entries": case_settings_entries,
    "settings-few": case_settings_few,
    "settings-limit": case_settings_limit,
    "settings-ack": case_settings_ack,
    "ping-flood-read": case_ping_flood_read,
    "ping-limit": case_ping_limit,
    "flood-unread": case_flood_unread,
    "unread-hold": case_unread_hold,
    "unread-idle": case_unread_idle,
    "answered-unread": case_answered_unread,
    "upload-stall": case_upload_stall,
    "answered-keepalive": case_answered_keepalive,
    "ping-after-goaway": case_ping_after_goaway,
    "hpack-table": case_hpack_table,
    "hpack-bomb": case_hpack_bomb,
    "zero-window": case_zero_window,
    "stream-reuse": case_stream_reuse,
    "data-closed": case_data_closed,
    "data-idle": case_data_idle,
    "max-streams-refused": case_max_streams_refused,
    "max-streams-flood": case_max_streams_flood,
    "max-streams-acked": case_max_streams_acked,
    "max-streams-within": case_max_streams_within,
    "frame-size": case_frame_size,
    "bad-preface": case_bad_preface,
    "preface-no-settings": case_preface_no_settings,
    "window-update-zero": case_window_zero,
    "window-update-zero-stream": case_window_zero_stream,
    "window-overflow": case_window_overflow,
    "window-overflow-stream": case_window_overflow_stream,
    "even-stream": case_even_stream,
    "data-over-window": case_data_over_window,
}

if __name__ == "__main__":
    port, case = int(sys.argv[1]), sys.argv[2]
    if case not in CASES:
        sys.exit("unknown case %s (one of %s)" % (case, " ".join(CASES)))
    sys.exit(CASES[case](port))
