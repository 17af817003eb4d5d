#!/usr/bin/env python3
"""h2_relay.py: frame-level HTTP/2 checks for h2_relay.sh, on python3-h2.

Each mode makes one request on a fresh prior-knowledge connection and
prints one line per event of its stream, in the order the frames came:

  "informational status=N [link=V ...]"   a HEADERS frame without END_STREAM
                                          before the final one (1xx)
  "response status=N end=0|1 [NAME=V ...]" the final HEADERS (end=1: it
                                          carried END_STREAM)
  "data bytes=N"                          the body's DATA, summed
  "trailers end=1 NAME=V ..."             a HEADERS frame after the body
  "ended" / "reset error=NAME"            how the stream ended

  h2_relay.py get PORT PATH        a GET
  h2_relay.py continue PORT SIZE   a POST of SIZE bytes with
                                   expect: 100-continue that sends its body
                                   only once the 100 came (or after 3 s,
                                   saying "no 100 within 3 s")
  h2_relay.py trailers PORT sized|chunked
                                   a POST of "hello" (with content-length:
                                   sized, without: chunked), te: trailers and
                                   content-type application/grpc as gRPC does,
                                   ended by a trailers HEADERS frame
                                   (x-checksum, grpc-timeout, and an
                                   authorization that must not go on)
  h2_relay.py hold PORT PATH SECS  a GET of PATH, read for SECS seconds
                                   while the connection stays open (prints
                                   "holding" once sent)
  h2_relay.py beside PORT BAD GOOD on one connection, a GET of GOOD and one
                                   of BAD at once (streams 1 and 3), then,
                                   once both are done, another GET of GOOD
                                   (stream 5); each line starts with
                                   "good:", "bad:" or "after:"
"""
import socket
import sys
import time

import h2.errors
import h2.events

sys.dont_write_bytecode = True  # the import below leaves no __pycache__ in the tree
from h2_client import connect  # noqa: E402  (a prior-knowledge connection, its preface sent)

SHOWN = ("link", "x-request-trailers", "x-body-length", "grpc-status", "x-checksum", "keep-alive",
         "content-length", "trailer")


def base_headers(port, method, path):
    return [(":method", method), (":path", path), (":scheme", "http"), (":authority", "127.0.0.1:%d" % port)]


def fields(hs, names=SHOWN):
    return " ".join("%s=%s" % (k, v) for k, v in hs if k in names)


class Stream:
    """Prints the events of one stream; `on_interim` runs at each 1xx."""

    def __init__(self, s, conn, sid, on_interim=None, tag=""):
        self.s, self.conn, self.sid, self.on_interim = s, conn, sid, on_interim
        self.tag = tag + ": " if tag else ""
        self.final = False
        self.data = 0
        self.done = False

    def out(self, line):
        print(self.tag + line)

    def flush_data(self):
        if self.data:
            self.out("data bytes=%d" % self.data)
            self.data = 0

    def handle(self, ev):
        if getattr(ev, "stream_id", None) != self.sid:
            return
        if isinstance(ev, h2.events.InformationalResponseReceived):
            status = dict(ev.headers)[":status"]
            self.out(("informational status=%s %s" % (status, fields(ev.headers))).rstrip())
            if self.on_interim:
                self.on_interim(status)
        elif isinstance(ev, h2.events.ResponseReceived):
            self.final = True
            end = 1 if ev.stream_ended else 0
            self.out("response status=%s end=%d %s" % (dict(ev.headers)[":status"], end, fields(ev.headers)))
        elif isinstance(ev, h2.events.DataReceived):
            self.data += len(ev.data)
            self.conn.acknowledge_received_data(ev.flow_controlled_length, self.sid)
        elif isinstance(ev, h2.events.TrailersReceived):
            self.flush_data()
            end = 1 if ev.stream_ended else 0
            self.out("trailers end=%d %s" % (end, " ".join("%s=%s" % (k, v) for k, v in ev.headers)))
        elif isinstance(ev, h2.events.StreamEnded):
            self.flush_data()
            self.out("ended")
            self.done = True
        elif isinstance(ev, h2.events.StreamReset):
            self.flush_data()
            self.out("reset error=%s" % h2.errors.ErrorCodes(ev.error_code).name)
            self.done = True

    def run(self, seconds, until=None):
        """Reads until the stream is done (or `until()` holds) or time is up."""
        deadline = time.time() + seconds
        while not self.done and time.time() < deadline and not (until and until()):
            self.s.settimeout(max(0.01, deadline - time.time()))
            try:
                data = self.s.recv(65536)
            except socket.timeout:
                break
            if not data:
                self.out("closed")
                return
            for ev in self.conn.receive_data(data):
                self.handle(ev)
            out = self.conn.data_to_send()
            if out:
                self.s.sendall(out)
        if not self.done and not (until and until()):
            self.out("timeout")


def mode_get(port, path):
    s, conn = connect(port)
    sid = conn.get_next_available_stream_id()
    conn.send_headers(sid, base_headers(port, "GET", path), end_stream=True)
    s.sendall(conn.data_to_send())
    Stream(s, conn, sid).run(10)


def mode_continue(port, size):
    s, conn = connect(port)
    sid = conn.get_next_available_stream_id()
    got = []
    st = Stream(s, conn, sid, on_interim=got.append)
    hs = base_headers(port, "POST", "/") + [("content-length", str(size)), ("expect", "100-continue")]
    conn.send_headers(sid, hs)
    s.sendall(conn.data_to_send())
    t0 = time.time()
    st.run(3, until=lambda: "100" in got)
    if "100" not in got:
        print("no 100 within 3 s")
    else:
        print("100 after %.0f ms" % ((time.time() - t0) * 1000))
    body = b"x" * size
    sent = 0
    while sent < size:
        n = min(16384, size - sent, conn.local_flow_control_window(sid), conn.max_outbound_frame_size)
        if n <= 0:
            st.run(2, until=lambda: conn.local_flow_control_window(sid) > 0)
            continue
        conn.send_data(sid, body[sent:sent + n], end_stream=sent + n == size)
        sent += n
        s.sendall(conn.data_to_send())
    st.run(10)


def mode_trailers(port, how):
    s, conn = connect(port)
    sid = conn.get_next_available_stream_id()
    hs = base_headers(port, "POST", "/") + [("te", "trailers"), ("content-type", "application/grpc")]
    if how == "sized":
        hs.append(("content-length", "5"))
    conn.send_headers(sid, hs)
    conn.send_data(sid, b"hello")
    conn.send_headers(sid, [("x-checksum", "42"), ("grpc-timeout", "1S"), ("authorization", "secret")],
                      end_stream=True)
    s.sendall(conn.data_to_send())
    Stream(s, conn, sid).run(10)


def mode_hold(port, path, secs):
    s, conn = connect(port)
    sid = conn.get_next_available_stream_id()
    conn.send_headers(sid, base_headers(port, "GET", path), end_stream=True)
    s.sendall(conn.data_to_send())
    print("holding", flush=True)
    Stream(s, conn, sid).run(secs)


def mode_beside(port, bad, good):
    s, conn = connect(port)
    streams = []
    for tag, path in (("good", good), ("bad", bad)):
        sid = conn.get_next_available_stream_id()
        conn.send_headers(sid, base_headers(port, "GET", path), end_stream=True)
        streams.append(Stream(s, conn, sid, tag=tag))
    s.sendall(conn.data_to_send())
    # One reader for both streams: each takes the events of its own.
    deadline = time.time() + 10
    while not all(st.done for st in streams) and time.time() < deadline:
        s.settimeout(max(0.01, deadline - time.time()))
        try:
            data = s.recv(65536)
        except socket.timeout:
            break
        if not data:
            print("closed")
            return
        for ev in conn.receive_data(data):
            for st in streams:
                st.handle(ev)
        out = conn.data_to_send()
        if out:
            s.sendall(out)
    for st in streams:
        if not st.done:
            st.out("timeout")
    sid = conn.get_next_available_stream_id()
    conn.send_headers(sid, base_headers(port, "GET", good), end_stream=True)
    s.sendall(conn.data_to_send())
    Stream(s, conn, sid, tag="after").run(10)


def main():
    mode, port = sys.argv[1], int(sys.argv[2])
    if mode == "get":
        mode_get(port, sys.argv[3])
    elif mode == "continue":
        mode_continue(port, int(sys.argv[3]))
    elif mode == "hold":
        mode_hold(port, sys.argv[3], float(sys.argv[4]))
    elif mode == "beside":
        mode_beside(port, sys.argv[3], sys.argv[4])
    elif mode == "trailers":
        mode_trailers(port, sys.argv[3])
    else:
        sys.exit("unknown mode " + mode)


if __name__ == "__main__":
    main()
