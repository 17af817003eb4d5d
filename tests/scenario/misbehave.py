#!/usr/bin/env python3
"""misbehave.py: a small HTTP/1.1 server that misbehaves on purpose, for the
fault scenarios (tests/scenario/fault_*.sh).

    misbehave.py --port PORT --mode MODE [--log FILE] [--size BYTES] [--count N]

Every request it reads (whole, body included) is logged to --log as one line
"METHOD PATH SEQ", SEQ being the request's number on its TCP connection.
Modes:
  drop-fin, drop-rst, drop-rst-late
        the first request on a connection gets 200 "ok"; a later one (a
        reused keep-alive connection) is read whole and then the connection
        is closed (FIN), reset (RST), or reset a second later, unanswered.
  stray every response (body: the request's path, padded with '.' to
        --size bytes) is followed by an unrequested one,
        "HTTP/1.1 200 OK ... STRAY", in the same write.
  hold  never answers; logs "closed PATH" when the proxy closes the
        connection, so a test sees server requests aborted.
  interim
        --count interim responses (103 Early Hints with a 1 KB Link field),
        then 200 "final".
  cut-chunked
        a chunked 200 with one chunk ("hello"), then the connection closed
        before the last chunk (a body cut short).
  folded-trailer
        a chunked 200 with one chunk ("hello") and the last chunk, whose
        trailer section has a folded line (obs-fold: "X-Sum: 1" then
        "  folded"); then the next request on the connection, if any.
  early-413, early-413-unread
        answers 413 (Connection: close) as soon as it has the request's
        head (early-413) or its first 100 bytes (early-413-unread), reads
        none of the body and closes: the unread bytes make the close a
        reset, which cuts the proxy's upload to it.
Threads, one per connection: the tests need a server whose faults are
obvious, not a fast one.
"""
import argparse
import socket
import socketserver
import struct
import threading
import time

ARGS = None
LOG_LOCK = threading.Lock()


def log(line):
    if ARGS.log:
        with LOG_LOCK, open(ARGS.log, "a") as f:
            f.write(line + "\n")


def read_request(sock, pending):
    """Returns (method, path, rest) for one whole request, or None at EOF."""
    while b"\r\n\r\n" not in pending:
        data = sock.recv(65536)
        if not data:
            return None
        pending += data
    head, _, rest = pending.partition(b"\r\n\r\n")
    lines = head.split(b"\r\n")
    method, path = lines[0].split(b" ")[:2]
    length = 0
    for line in lines[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value.strip())
    while len(rest) < length:
        data = sock.recv(65536)
        if not data:
            return None
        rest += data
    return method.decode(), path.decode(), rest[length:]


def response(body, status="200 OK"):
    return (f"HTTP/1.1 {status}\r\nContent-Length: {len(body)}\r\n\r\n").encode() + body


def reset(sock):
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    sock.close()


class Handler(socketserver.BaseRequestHandler):
    def handle(self):
        try:
            self.serve(self.request)
        except OSError:
            pass  # the proxy closed or reset: what some tests do on purpose

    def serve(self, sock):
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        pending = b""
        seq = 0
        mode = ARGS.mode
        if mode.startswith("early-413"):
            while b"\r\n\r\n" not in pending and (mode == "early-413" or len(pending) < 100):
                data = sock.recv(100 if mode != "early-413" else 65536)
                if not data:
                    return
                pending += data
            log("early 413")
            sock.sendall(b"HTTP/1.1 413 Payload Too Large\r\nContent-Length: 9\r\nConnection: close\r\n\r\ntoo large")
            sock.close()
            return
        while True:
            req = read_request(sock, pending)
            if req is None:
                return
            method, path, pending = req
            seq += 1
            log(f"{method} {path} {seq}")
            if mode.startswith("drop") and seq > 1:
                if mode == "drop-fin":
                    sock.close()
                elif mode == "drop-rst":
                    reset(sock)
                else:
                    time.sleep(1)
                    reset(sock)
                return
            if mode.startswith("drop"):
                sock.sendall(response(b"ok"))
            elif mode == "stray":
                body = path.encode().ljust(ARGS.size, b".")
                sock.sendall(response(body) + response(b"STRAY"))
            elif mode == "hold":
                try:
                    while sock.recv(4096):
                        pass
                except OSError:
                    pass
                log(f"closed {path}")
                return
            elif mode == "cut-chunked":
                sock.sendall(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n")
                time.sleep(0.2)
                sock.close()
                return
            elif mode == "folded-trailer":
                sock.sendall(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n"
                             b"0\r\nX-Sum: 1\r\n  folded\r\n\r\n")
            elif mode == "interim":
                link = "Link: </style.css>; rel=preload; as=style; x=" + "y" * 1000 + "\r\n"
                for _ in range(ARGS.count):
                    sock.sendall(("HTTP/1.1 103 Early Hints\r\n" + link + "\r\n").encode())
                sock.sendall(response(b"final"))


class Server(socketserver.ThreadingTCPServer):
    allow_reuse_address = True
    daemon_threads = True
    request_queue_size = 128


def main():
    global ARGS
    p = argparse.ArgumentParser()
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--mode", required=True,
                   choices=["drop-fin", "drop-rst", "drop-rst-late", "stray", "hold", "interim", "cut-chunked",
                            "folded-trailer", "early-413", "early-413-unread"])
    p.add_argument("--log")
    p.add_argument("--size", type=int, default=0)
    p.add_argument("--count", type=int, default=20)
    ARGS = p.parse_args()
    with Server(("127.0.0.1", ARGS.port), Handler) as srv:
        srv.serve_forever()


if __name__ == "__main__":
    main()
