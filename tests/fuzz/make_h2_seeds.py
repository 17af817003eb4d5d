#!/usr/bin/python3
"""Writes the hand-made seed inputs of corpus/h2_frames (files named seed-*).

    /usr/bin/python3 tests/fuzz/make_h2_seeds.py     (or: make fuzz-h2-seeds)

Each input is two control bytes (see fuzz_h2_frames.c) and then the bytes a
client sends on one connection; the harness sends the client preface and an
empty SETTINGS frame first unless the input starts with the preface.  The
frames are made here byte by byte (malformed ones included) and the header
blocks with hpack's encoder (Debian's python3-h2 brings it: /usr/bin/python3).
Inputs the fuzzer added later are named by their SHA-1 and are not touched.
"""
import os
import struct

from hpack import Encoder

HERE = os.path.dirname(os.path.abspath(__file__))
DIR = os.path.join(HERE, "corpus", "h2_frames")

PREFACE = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"

# byte 0: the backend (bits 0-1), the configuration (bits 2-3), the options
B_LENGTH, B_CHUNKED, B_FAILS, B_INTERIM = 0, 1, 2, 3
C_DEFAULT, C_SMALL, C_ROUTES, C_LARGE = 0 << 2, 1 << 2, 2 << 2, 3 << 2
TIMER = 0x10
DRAIN = 0x20
NO_READ = 0x40
ONESHOT = 0x80
# byte 1: the piece seed; bits 6-7 the backend's body size (0, 100, 20000, 70000);
# bit 5 the structured input (h2_fuzz_ops.c), clear in the raw seeds
BODY0, BODY100, BODY20K, BODY70K = 0x00, 0x40, 0x80, 0xC0
STRUCTURED = 0x20

DATA, HEADERS, PRIORITY, RST, SETTINGS, PUSH, PING, GOAWAY, WINDOW, CONT = range(10)
END_STREAM, ACK, END_HEADERS, PADDED, PRIO = 0x1, 0x1, 0x4, 0x8, 0x20

# SETTINGS identifiers
TABLE_SIZE, ENABLE_PUSH, MAX_STREAMS, INITIAL_WINDOW, MAX_FRAME, MAX_LIST = range(1, 7)


def frame(ftype, flags, stream, payload=b"", length=None):
    n = len(payload) if length is None else length
    return struct.pack(">I", n)[1:] + bytes([ftype, flags]) + struct.pack(">I", stream & 0x7FFFFFFF) + payload


def settings(*pairs, ack=False):
    return frame(SETTINGS, ACK if ack else 0, 0, b"".join(struct.pack(">HI", k, v) for k, v in pairs))


def window(stream, inc):
    return frame(WINDOW, 0, stream, struct.pack(">I", inc))


def rst(stream, code=8):
    return frame(RST, 0, stream, struct.pack(">I", code))


def ping(data=b"12345678", ack=False):
    return frame(PING, ACK if ack else 0, 0, data)


def goaway(last, code=0, debug=b""):
    return frame(GOAWAY, 0, 0, struct.pack(">II", last, code) + debug)


def priority(stream, dep, weight=16, exclusive=False):
    return frame(PRIORITY, 0, stream, struct.pack(">IB", dep | (0x80000000 if exclusive else 0), weight))


def data(stream, body, end=True, pad=None):
    if pad is None:
        return frame(DATA, END_STREAM if end else 0, stream, body)
    return frame(DATA, (END_STREAM if end else 0) | PADDED, stream, bytes([pad]) + body + b"\0" * pad)


def req(method="GET", path="/", authority="example.com", extra=(), scheme="http"):
    fields = [(":method", method), (":scheme", scheme), (":path", path), (":authority", authority)]
    return fields + list(extra)


class Client:
    """One connection's header compression state: blocks encoded in order."""

    def __init__(self):
        self.enc = Encoder()

    def block(self, fields):
        return self.enc.encode(fields)

    def headers(self, stream, fields, end=True, pad=None, prio=None):
        blk = self.block(fields)
        flags = END_HEADERS | (END_STREAM if end else 0)
        payload = blk
        if prio is not None:
            flags |= PRIO
            payload = struct.pack(">IB", prio, 15) + payload
        if pad is not None:
            flags |= PADDED
            payload = bytes([pad]) + payload + b"\0" * pad
        return frame(HEADERS, flags, stream, payload)

    def split_headers(self, stream, fields, pieces, end=True):
        """A header block in a HEADERS frame and CONTINUATIONs."""
        blk = self.block(fields)
        step = max(1, (len(blk) + pieces - 1) // pieces)
        parts = [blk[i:i + step] for i in range(0, len(blk), step)] or [b""]
        out = frame(HEADERS, END_STREAM if end else 0, stream, parts[0])
        for i, p in enumerate(parts[1:]):
            out += frame(CONT, END_HEADERS if i == len(parts) - 2 else 0, stream, p)
        if len(parts) == 1:
            out = frame(HEADERS, (END_STREAM if end else 0) | END_HEADERS, stream, parts[0])
        return out


def simple(fields_list, end=True):
    c = Client()
    return b"".join(c.headers(1 + 2 * i, f, end) for i, f in enumerate(fields_list))


def seeds():
    s = {}
    c = Client()
    get = c.headers(1, req())

    # ordinary traffic, every backend
    s["get"] = (B_LENGTH, BODY100 | 1, get)
    s["get-chunked-20k"] = (B_CHUNKED, BODY20K | 2, Client().headers(1, req(path="/c")))
    s["get-server-fails"] = (B_FAILS, BODY0 | 3, Client().headers(1, req()))
    s["get-server-invalid"] = (B_FAILS, BODY0 | 4, Client().headers(1, req()))
    s["get-interim-204"] = (B_INTERIM, BODY0, Client().headers(1, req()))
    s["get-oneshot"] = (B_LENGTH | ONESHOT, BODY100, Client().headers(1, req()))
    c = Client()
    s["head"] = (B_LENGTH, BODY100 | 5, c.headers(1, req("HEAD", "/h")))
    c = Client()
    s["get-70k-window-updates"] = (B_LENGTH, BODY70K | 6,
                                   settings((INITIAL_WINDOW, 1000)) + c.headers(1, req()) +
                                   window(0, 100000) + window(1, 30000) + window(1, 50000))
    c = Client()
    s["get-70k-max-frame"] = (B_CHUNKED | C_LARGE, BODY70K | 7,
                              settings((MAX_FRAME, 1 << 20), (INITIAL_WINDOW, 1 << 20)) + c.headers(1, req()))
    # POST with DATA: sized, chunked to the server (no content-length), padded, trailers
    c = Client()
    s["post-sized"] = (B_LENGTH, BODY100 | 8,
                       c.headers(1, req("POST", "/up", extra=[("content-length", "11"),
                                                              ("content-type", "text/plain")]), end=False) +
                       data(1, b"hello world"))
    c = Client()
    s["post-chunked"] = (B_LENGTH, BODY100 | 9,
                         c.headers(1, req("POST", "/up"), end=False) + data(1, b"abc", end=False) +
                         data(1, b"defgh", end=False) + data(1, b"", end=True))
    c = Client()
    s["post-padded"] = (B_CHUNKED, BODY100 | 10,
                        c.headers(1, req("PUT", "/p"), end=False, pad=10) + data(1, b"x" * 50, end=False, pad=20) +
                        data(1, b"y", pad=0))
    c = Client()
    s["post-trailers"] = (B_LENGTH, BODY0 | 11,
                          c.headers(1, req("POST", "/t", extra=[("te", "trailers")]), end=False) +
                          data(1, b"body", end=False) + c.headers(1, [("x-checksum", "abc")], end=True))
    c = Client()
    s["post-body-too-large"] = (B_LENGTH | C_SMALL, BODY0 | 12,
                                c.headers(1, req("POST", "/big"), end=False) + data(1, b"z" * 200, end=False) +
                                data(1, b"z" * 200, end=True))
    c = Client()
    s["post-content-length-mismatch"] = (B_LENGTH, BODY0 | 13,
                                         c.headers(1, req("POST", "/", extra=[("content-length", "3")]), end=False) +
                                         data(1, b"too long a body"))
    c = Client()
    s["post-window-exceeded"] = (B_LENGTH | C_SMALL, BODY0 | 14,
                                 c.headers(1, req("POST", "/"), end=False) + data(1, b"w" * 3000, end=False) +
                                 data(1, b"w" * 3000))
    c = Client()
    s["post-100-continue"] = (B_INTERIM, BODY100 | 15,
                              c.headers(1, req("POST", "/", extra=[("expect", "100-continue"),
                                                                   ("content-length", "4")]), end=False) +
                              data(1, b"data"))
    # several streams on one connection
    c = Client()
    many = b"".join(c.headers(1 + 2 * i, req(path="/s%d" % i)) for i in range(12))
    s["streams-12"] = (B_LENGTH, BODY100 | 16, many)
    c = Client()
    s["streams-interleaved-bodies"] = (B_CHUNKED, BODY20K | 17,
                                       c.headers(1, req("POST", "/a"), end=False) +
                                       c.headers(3, req("POST", "/b"), end=False) +
                                       data(1, b"1" * 100, end=False) + data(3, b"3" * 100, end=False) +
                                       c.headers(5, req()) + data(3, b"", end=True) + data(1, b"", end=True))
    c = Client()
    s["streams-over-max"] = (B_LENGTH | C_SMALL, BODY100 | 18,
                             b"".join(c.headers(1 + 2 * i, req(path="/m%d" % i)) for i in range(6)))
    c = Client()
    s["streams-backend-interim"] = (B_INTERIM, BODY100 | 19,
                                    b"".join(c.headers(1 + 2 * i, req(path="/i%d" % i)) for i in range(4)))
    # routing config: host route, sticky cookie, a retry to the failing server
    c = Client()
    s["routes"] = (B_LENGTH | C_ROUTES, BODY100 | 20,
                   c.headers(1, req(path="/api/x", authority="api.example")) +
                   c.headers(3, req(path="/b/../b/./y", authority="api.example",
                                    extra=[("cookie", "SRV=zzz"), ("cookie", "a=1")])) +
                   c.headers(5, req(path="/b/1")) + c.headers(7, req(path="/b/2")) +
                   c.headers(9, req(path="/%2e%2e/etc", authority="other")))
    # CONTINUATION: a block in pieces; too many pieces; one never ended; interleaved
    big = [("x-long-%d" % i, "v" * 200) for i in range(20)]
    c = Client()
    s["continuation"] = (B_LENGTH, BODY100 | 21, c.split_headers(1, req(extra=big), 4))
    c = Client()
    s["continuation-flood"] = (B_LENGTH, BODY0 | 22,
                               c.split_headers(1, req(extra=[("x-%d" % i, "y" * 60) for i in range(200)]), 40))
    c = Client()
    blk = c.block(req())
    s["continuation-never-ends"] = (B_LENGTH | TIMER, BODY0 | 23,
                                    frame(HEADERS, 0, 1, blk[:5]) + frame(CONT, 0, 1, blk[5:]))
    s["continuation-other-stream"] = (B_LENGTH, BODY0 | 24,
                                      frame(HEADERS, 0, 1, blk[:5]) + frame(CONT, END_HEADERS, 3, blk[5:]))
    s["continuation-without-headers"] = (B_LENGTH, BODY0 | 25, frame(CONT, END_HEADERS, 1, blk))
    c = Client()
    s["continuation-then-ping"] = (B_LENGTH, BODY0 | 26,
                                   frame(HEADERS, 0, 1, c.block(req())) + ping())
    # RST_STREAM: a cancel mid-response, rapid reset over max-resets, on idle and stream 0
    c = Client()
    s["rst-mid-response"] = (B_CHUNKED, BODY70K | 27, c.headers(1, req()) + rst(1, 8) + c.headers(3, req()))
    c = Client()
    s["rst-rapid"] = (B_LENGTH | C_SMALL, BODY100 | 28,
                      b"".join(c.headers(1 + 2 * i, req()) + rst(1 + 2 * i) for i in range(10)))
    s["rst-idle-stream"] = (B_LENGTH, BODY0 | 29, rst(5))
    s["rst-stream-0"] = (B_LENGTH, BODY0 | 30, rst(0))
    s["rst-bad-length"] = (B_LENGTH, BODY0 | 31, Client().headers(1, req(), end=False) +
                           frame(RST, 0, 1, b"\0\0\0\x08\0"))
    # PING: answered, a flood the client does not read, bad ones
    s["ping"] = (B_LENGTH, BODY0 | 32, ping() + ping(b"abcdefgh", ack=True))
    s["ping-flood"] = (B_LENGTH | NO_READ, BODY0 | 33, ping() * 8000)
    s["ping-bad-length"] = (B_LENGTH, BODY0 | 34, frame(PING, 0, 0, b"1234567"))
    s["ping-on-stream"] = (B_LENGTH, BODY0 | 35, frame(PING, 0, 1, b"12345678"))
    # SETTINGS: values, an ACK, a flood, bad ones
    c = Client()
    s["settings-values"] = (B_LENGTH, BODY20K | 36,
                            settings((TABLE_SIZE, 0), (ENABLE_PUSH, 0), (MAX_STREAMS, 10), (INITIAL_WINDOW, 100),
                                     (MAX_FRAME, 16384), (MAX_LIST, 1000), (0x99, 7)) +
                            settings(ack=True) + c.headers(1, req()))
    s["settings-flood"] = (B_LENGTH | NO_READ, BODY0 | 37, settings((INITIAL_WINDOW, 65535)) * 9000)
    s["settings-bad-length"] = (B_LENGTH, BODY0 | 38, frame(SETTINGS, 0, 0, b"\0\1\0\0\0"))
    s["settings-ack-with-payload"] = (B_LENGTH, BODY0 | 39, frame(SETTINGS, ACK, 0, struct.pack(">HI", 1, 0)))
    s["settings-bad-values"] = (B_LENGTH, BODY0 | 40, settings((ENABLE_PUSH, 2)) + settings((MAX_FRAME, 100)) +
                                settings((INITIAL_WINDOW, 0x80000000)))
    s["settings-on-stream"] = (B_LENGTH, BODY0 | 41, frame(SETTINGS, 0, 1, b""))
    # zero-window: the response waits for a WINDOW_UPDATE that never comes; then comes
    c = Client()
    s["window-zero-stall"] = (B_LENGTH | TIMER, BODY20K | 42, settings((INITIAL_WINDOW, 0)) + c.headers(1, req()))
    c = Client()
    s["window-zero-then-open"] = (B_CHUNKED, BODY20K | 43, settings((INITIAL_WINDOW, 0)) + c.headers(1, req()) +
                                  settings((INITIAL_WINDOW, 65535)) + window(1, 1))
    # WINDOW_UPDATE: zero increment, overflow, bad length, idle stream
    s["window-zero-increment"] = (B_LENGTH, BODY0 | 44, window(0, 0))
    s["window-overflow"] = (B_LENGTH, BODY0 | 45, window(0, 0x7FFFFFFF) + window(0, 0x7FFFFFFF))
    c = Client()
    s["window-stream-overflow"] = (B_LENGTH, BODY0 | 46, c.headers(1, req(), end=False) + window(1, 0x7FFFFFFF))
    s["window-bad-length"] = (B_LENGTH, BODY0 | 47, frame(WINDOW, 0, 0, b"\0\0\1"))
    s["window-idle-stream"] = (B_LENGTH, BODY0 | 48, window(7, 10))
    # PRIORITY: valid, on itself, in a HEADERS frame, bad length
    c = Client()
    s["priority"] = (B_LENGTH, BODY100 | 49, priority(3, 0, 200) + priority(5, 3, 1, True) +
                     c.headers(1, req(), prio=3) + priority(1, 1))
    s["priority-bad-length"] = (B_LENGTH, BODY0 | 50, frame(PRIORITY, 0, 1, b"\0\0\0"))
    s["priority-stream-0"] = (B_LENGTH, BODY0 | 51, priority(0, 1))
    # GOAWAY from the client, with streams open and after
    c = Client()
    s["goaway-client"] = (B_LENGTH, BODY100 | 52, c.headers(1, req()) + goaway(0, 0, b"bye") + c.headers(3, req()))
    s["goaway-bad"] = (B_LENGTH, BODY0 | 53, frame(GOAWAY, 0, 0, b"\0\0\0") + goaway(1, 0xFFFF))
    # the proxy's own GOAWAY: a graceful stop with streams in flight; keep-alive timeout
    c = Client()
    s["drain-with-streams"] = (B_CHUNKED | DRAIN, BODY20K | 54,
                               b"".join(c.headers(1 + 2 * i, req(path="/d%d" % i)) for i in range(6)))
    s["idle-timeout"] = (B_LENGTH | TIMER, BODY0 | 55, ping())
    c = Client()
    s["reload-with-streams"] = (B_CHUNKED | C_LARGE | DRAIN, BODY20K | 20,
                                b"".join(c.headers(1 + 2 * i, req(path="/r%d" % i)) for i in range(6)))
    c = Client()
    s["server-down-with-streams"] = (B_INTERIM | C_ROUTES | DRAIN, BODY20K | 21,
                                     b"".join(c.headers(1 + 2 * i, req(path="/b/%d" % i), end=False) +
                                              data(1 + 2 * i, b"x" * 10, end=False) for i in range(6)))
    c = Client()
    s["answered-early-linger"] = (B_LENGTH | C_SMALL | TIMER, BODY0 | 22,
                                  c.headers(1, req("POST", "/big"), end=False) + data(1, b"z" * 200, end=False))
    c = Client()
    s["server-timeout-upload"] = (B_LENGTH | TIMER, BODY0 | 23,
                                  c.headers(1, req("POST", "/slow", extra=[("content-length", "100")]), end=False) +
                                  data(1, b"only part", end=False))
    # padding: too long a pad, a DATA pad on a padded HEADERS
    c = Client()
    s["pad-too-long"] = (B_LENGTH, BODY0 | 56, frame(HEADERS, END_HEADERS | END_STREAM | PADDED, 1,
                                                     bytes([250]) + c.block(req())))
    c = Client()
    s["pad-data-too-long"] = (B_LENGTH, BODY0 | 57, c.headers(1, req("POST"), end=False) +
                              frame(DATA, PADDED | END_STREAM, 1, bytes([9]) + b"abc"))
    # malformed lengths and frames
    s["frame-too-large"] = (B_LENGTH, BODY0 | 58, frame(DATA, 0, 1, b"q" * 20000))
    s["frame-length-lies"] = (B_LENGTH, BODY0 | 59, frame(HEADERS, END_HEADERS, 1, b"\x82\x84", length=40))
    s["frame-unknown-type"] = (B_LENGTH, BODY100 | 60, frame(0x42, 0xFF, 1, b"ext") + Client().headers(1, req()))
    s["push-promise-from-client"] = (B_LENGTH, BODY0 | 61, frame(PUSH, END_HEADERS, 1, b"\0\0\0\2\x82"))
    s["data-idle-stream"] = (B_LENGTH, BODY0 | 62, data(1, b"hi"))
    s["data-stream-0"] = (B_LENGTH, BODY0 | 63, data(0, b"hi"))
    c = Client()
    s["data-closed-stream"] = (B_LENGTH, BODY100, c.headers(1, req()) + data(1, b"after end"))
    c = Client()
    s["stream-id-reuse"] = (B_LENGTH, BODY100 | 1, c.headers(3, req()) + c.headers(3, req()) + c.headers(1, req()))
    s["stream-id-even"] = (B_LENGTH, BODY0 | 2, Client().headers(2, req()))
    s["headers-stream-0"] = (B_LENGTH, BODY0 | 3, Client().headers(0, req()))
    s["no-settings-after-preface"] = (B_LENGTH, BODY0 | 4, PREFACE + Client().headers(1, req()))
    c = Client()
    s["preface-own-settings"] = (B_LENGTH, BODY100 | 5,
                                 PREFACE + settings((INITIAL_WINDOW, 1 << 20)) + c.headers(1, req()))
    s["preface-then-http1"] = (B_LENGTH, BODY0 | 6, b"GET / HTTP/1.1\r\nHost: a\r\n\r\n")
    # HPACK: dynamic table size updates, indexed fields, a bad index, an update over the limit
    c = Client()
    c.enc.header_table_size = 256
    s["hpack-table-update"] = (B_LENGTH, BODY100 | 7,
                               c.headers(1, req(extra=[("x-a", "1")])) + c.headers(3, req(extra=[("x-a", "1")])))
    s["hpack-update-over-limit"] = (B_LENGTH, BODY0 | 8,
                                    frame(HEADERS, END_HEADERS | END_STREAM, 1, b"\x3f\xe1\xff\x03\x82\x84\x86"))
    s["hpack-update-mid-block"] = (B_LENGTH, BODY0 | 9, frame(HEADERS, END_HEADERS | END_STREAM, 1,
                                                             b"\x82\x20\x84\x86"))
    s["hpack-bad-index"] = (B_LENGTH, BODY0 | 10, frame(HEADERS, END_HEADERS | END_STREAM, 1, b"\x82\xff\x7f"))
    s["hpack-truncated"] = (B_LENGTH, BODY0 | 11, frame(HEADERS, END_HEADERS | END_STREAM, 1, b"\x82\x44\x0a/"))
    s["hpack-bad-huffman"] = (B_LENGTH, BODY0 | 12, frame(HEADERS, END_HEADERS | END_STREAM, 1,
                                                         b"\x82\x84\x86\x41\x83\xff\xff\xff"))
    c = Client()
    s["hpack-reuse-across-streams"] = (B_LENGTH, BODY0 | 13,
                                       b"".join(c.headers(1 + 2 * i, req(extra=[("cookie", "k=%d" % (i % 2)),
                                                                                ("user-agent", "fuzz")]))
                                                for i in range(5)))
    # huge header lists: over limit header-size, over limit headers, one huge value, a zero-table client
    c = Client()
    s["headers-over-size"] = (B_LENGTH | C_SMALL, BODY0 | 14, c.split_headers(1, req(extra=[("x-big", "b" * 1500)]), 2))
    c = Client()
    s["headers-over-count"] = (B_LENGTH | C_SMALL, BODY0 | 15,
                               c.headers(1, req(extra=[("x-%d" % i, "v") for i in range(20)])) + c.headers(3, req()))
    c = Client()
    s["headers-huge-default"] = (B_LENGTH, BODY0 | 16,
                                 c.split_headers(1, req(extra=[("x-h%d" % i, "h" * 900) for i in range(30)]), 3))
    c = Client()
    s["headers-large-ok"] = (B_LENGTH | C_LARGE, BODY100 | 17,
                             c.split_headers(1, req(extra=[("x-l%d" % i, "l" * 400) for i in range(100)]), 4))
    # malformed requests: the stream is reset or answered, the others go on
    bad = [
        req(extra=[("connection", "keep-alive")]),
        req(extra=[("X-Upper", "1")]),
        [(":method", "GET"), (":scheme", "http"), (":authority", "a")],
        req(extra=[(":fake", "1")]),
        req(extra=[("x-nl", "a\r\nb")]),
        [(":method", "CONNECT"), (":authority", "a:443")],
        req(extra=[("host", "other.example")]),
        req(path="*", method="OPTIONS"),
        req(authority=""),
        req(extra=[("content-length", "x")]),
        req(extra=[("transfer-encoding", "chunked")]),
        req(extra=[("upgrade", "websocket")]),
        req(extra=[("te", "gzip")]),
    ]
    c = Client()
    s["malformed-requests"] = (B_LENGTH, BODY100 | 18,
                               b"".join(c.headers(1 + 2 * i, f) for i, f in enumerate(bad)) + c.headers(99, req()))
    c = Client()
    s["cookies-split"] = (B_LENGTH, BODY0 | 19, c.headers(1, req(extra=[("cookie", "a=1"), ("cookie", "b=2"),
                                                                         ("cookie", "c=3")])))
    return s


def op(code, a=0, *e):
    """One operation of the structured input (see h2_fuzz_ops.c)."""
    return bytes([code << 4 | a]) + bytes(e)


# the structured inputs: (mode, byte 1 without STRUCTURED, operations)
OPS = {
    "ops-get": (B_LENGTH, BODY100, op(0, 4, 0)),
    "ops-post-body-trailers": (B_CHUNKED, BODY20K,
                               op(0, 1, 16) + op(1, 0, 50) + op(9) + op(1, 0, 200) + op(7, 0)),
    "ops-many-streams-bodies": (B_LENGTH | C_LARGE, BODY20K,
                                b"".join(op(0, 1, 4 | (i & 3)) for i in range(8)) +
                                b"".join(op(1, 8 | i, 0) for i in range(8)) + op(3, 8, 255)),
    "ops-window-dance": (B_CHUNKED, BODY70K,
                         op(4, 4, 0) + op(0, 4, 0) + op(0, 4, 1) + op(9) + op(3, 0, 3) + op(3, 8, 10) + op(9) +
                         op(4, 4, 6) + op(3, 1, 100)),
    "ops-reset-mid-body": (B_CHUNKED, BODY70K, op(0, 4, 0) + op(9) + op(2, 0) + op(0, 4, 0) + op(9) + op(2, 8)),
    "ops-time-slow-upload": (B_LENGTH, BODY0, op(0, 1, 4) + op(1, 0, 0) + op(8, 3) + op(1, 8, 0) + op(8, 4) + op(8, 5)),
    "ops-time-zero-window": (B_LENGTH, BODY20K, op(4, 4, 0) + op(0, 4, 0) + op(8, 1) + op(8, 3) + op(3, 0, 1) +
                             op(8, 4) + op(8, 5)),
    "ops-drain-mid": (B_CHUNKED, BODY20K, op(0, 4, 0) + op(0, 1, 0) + op(11) + op(1, 8, 10) + op(0, 4, 0)),
    "ops-reload-mid": (B_CHUNKED | C_LARGE, BODY20K, op(0, 4, 0) + op(0, 1, 0) + op(11) + op(1, 8, 10)),
    "ops-server-down": (B_INTERIM | C_ROUTES, BODY100, op(0, 1, 1) + op(0, 5, 1) + op(11) + op(1, 8, 3)),
    "ops-routes-cookies": (B_LENGTH | C_ROUTES, BODY100, op(0, 4, 2 | 8 | 64) + op(0, 4, 3) + op(0, 4, 1)),
    "ops-continuation-big": (B_LENGTH | C_SMALL, BODY0, op(0, 4, 32 | 128) + op(0, 4, 128)),
    "ops-hpack-sizes": (B_LENGTH, BODY0, op(14, 0) + op(0, 4, 8) + op(14, 3) + op(0, 4, 8) + op(14, 1) + op(0, 4, 8)),
    "ops-rapid-reset": (B_LENGTH | C_SMALL, BODY0, b"".join(op(0, 4, 0) + op(2, 0) for _ in range(6))),
    "ops-reuse-even": (B_LENGTH, BODY0, op(0, 4, 0) + op(13, 0) + op(13, 8)),
    "ops-padded-priority-ping": (B_LENGTH, BODY100, op(0, 1, 0) + op(15, 8, 40) + op(6, 3, 1) + op(5) + op(5, 1) +
                                 op(4, 0, 0)),
    "ops-settings-values": (B_CHUNKED, BODY20K,
                            op(4, 1, 0) + op(4, 2, 0) + op(4, 3, 13) + op(4, 5, 8) + op(4, 6, 2) + op(0, 4, 0)),
    "ops-goaway-client": (B_LENGTH, BODY100, op(0, 4, 0) + op(10, 1) + op(0, 4, 0)),
    "ops-raw-garbage": (B_LENGTH, BODY0, op(0, 4, 0) + op(12, 3, 0, 0, 9, 0)),
    "ops-head-100-continue": (B_INTERIM, BODY100, op(0, 2 | 4, 0) + op(0, 1, 4) + op(1, 8, 0)),
}


def main():
    os.makedirs(DIR, exist_ok=True)
    for n in os.listdir(DIR):
        if n.startswith("seed-"):
            os.remove(os.path.join(DIR, n))
    for name, (mode, seed, stream) in seeds().items():
        with open(os.path.join(DIR, "seed-" + name), "wb") as f:
            f.write(bytes([mode, seed & ~STRUCTURED]) + stream)
    for name, (mode, seed, ops) in OPS.items():
        with open(os.path.join(DIR, "seed-" + name), "wb") as f:
            f.write(bytes([mode, seed | STRUCTURED]) + ops)


if __name__ == "__main__":
    main()
