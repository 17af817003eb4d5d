#!/usr/bin/env python3
"""tls_client.py: an HTTP/1.1 client over Python's ssl module, for the tls_*
scenarios (a real TLS stack other than curl's and s_client's).

  tls_client.py --port P --ca CA.pem [--name localhost] STEP...

Each STEP runs in order on ONE TLS connection (keep-alive throughout):
  get:N             N GETs of /, each must be 200
  upload:BYTES      POST /upload with a BYTES body sent in 64 KiB writes; the
                    backend's X-Body-Length must be BYTES
  download:BYTES    GET /?size=BYTES; the body must be the test backend's
                    pattern (16 KiB blocks of a-z lines), length and SHA-256
--parallel K runs K such connections at once (threads).
Prints one line: ok=N failed=N conns=K bytes_up=N bytes_down=N version=V
cipher=C secs=S, and the first error on stderr.  Exit 0 when all went well.
"""
import argparse
import hashlib
import socket
import ssl
import sys
import threading
import time

GEN_CHUNK = 16 * 1024
PATTERN = bytes(10 if i % 64 == 63 else 97 + i % 26 for i in range(GEN_CHUNK))


def expected_sha(size):
    h = hashlib.sha256()
    full, rest = divmod(size, GEN_CHUNK)
    for _ in range(full):
        h.update(PATTERN)
    h.update(PATTERN[:rest])
    return h.hexdigest()


class Conn:
    def __init__(self, args):
        ctx = ssl.create_default_context(cafile=args.ca)
        raw = socket.create_connection(("127.0.0.1", args.port), timeout=30)
        self.s = ctx.wrap_socket(raw, server_hostname=args.name)
        self.buf = b""
        self.name = args.name

    def _fill(self):
        data = self.s.recv(256 * 1024)
        if not data:
            raise EOFError("the proxy closed the connection")
        self.buf += data

    def response(self, sink=None):
        """Reads one response; returns (status, headers, body length)."""
        while b"\r\n\r\n" not in self.buf:
            self._fill()
        head, self.buf = self.buf.split(b"\r\n\r\n", 1)
        lines = head.decode("latin-1").split("\r\n")
        status = int(lines[0].split()[1])
        headers = {}
        for line in lines[1:]:
            k, _, v = line.partition(":")
            headers[k.strip().lower()] = v.strip()
        left = int(headers.get("content-length", "0"))
        got = 0
        while left > 0:
            if not self.buf:
                self._fill()
            take = self.buf[:left]
            self.buf = self.buf[len(take):]
            if sink:
                sink(take)
            got += len(take)
            left -= len(take)
        return status, headers, got

    def send_head(self, method, path, extra=""):
        self.s.sendall(f"{method} {path} HTTP/1.1\r\nHost: {self.name}\r\n{extra}\r\n".encode())


def run_one(args, result, lock):
    ok = failed = up = down = 0
    err = None
    version = cipher = "-"
    try:
        c = Conn(args)
        version, cipher = c.s.version(), c.s.cipher()[0]
        for step in args.steps:
            kind, _, n = step.partition(":")
            n = int(n)
            if kind == "get":
                for i in range(n):
                    c.send_head("GET", f"/ka/{i}")
                    st, _, _ = c.response()
                    if st == 200:
                        ok += 1
                    else:
                        failed += 1
                        err = err or f"GET /ka/{i}: {st}"
            elif kind == "upload":
                c.send_head("POST", "/upload", f"Content-Length: {n}\r\n")
                block = b"u" * 65536
                left = n
                while left:
                    chunk = block[:min(left, len(block))]
                    c.s.sendall(chunk)
                    left -= len(chunk)
                st, h, _ = c.response()
                up += n
                if st == 200 and h.get("x-body-length") == str(n):
                    ok += 1
                else:
                    failed += 1
                    err = err or f"upload {n}: status {st}, X-Body-Length {h.get('x-body-length')}"
            elif kind == "download":
                sha = hashlib.sha256()
                c.send_head("GET", f"/big?size={n}")
                st, _, got = c.response(sha.update)
                down += got
                if st == 200 and got == n and sha.hexdigest() == expected_sha(n):
                    ok += 1
                else:
                    failed += 1
                    err = err or f"download {n}: status {st}, {got} bytes, sha256 {'ok' if sha.hexdigest() == expected_sha(n) else 'WRONG'}"
            else:
                raise ValueError(f"unknown step {step}")
        c.s.close()
    except Exception as e:  # a closed or reset connection is the failure shown
        failed += 1
        err = err or f"{type(e).__name__}: {e}"
    with lock:
        for k, v in (("ok", ok), ("failed", failed), ("up", up), ("down", down)):
            result[k] += v
        result["version"], result["cipher"] = version, cipher
        if err and not result["err"]:
            result["err"] = err


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--ca", required=True)
    ap.add_argument("--name", default="localhost")
    ap.add_argument("--parallel", type=int, default=1)
    ap.add_argument("steps", nargs="+")
    args = ap.parse_args()
    result = {"ok": 0, "failed": 0, "up": 0, "down": 0, "version": "-", "cipher": "-", "err": None}
    lock = threading.Lock()
    t0 = time.time()
    threads = [threading.Thread(target=run_one, args=(args, result, lock)) for _ in range(args.parallel)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    print(f"ok={result['ok']} failed={result['failed']} conns={args.parallel} bytes_up={result['up']} "
          f"bytes_down={result['down']} version={result['version']} cipher={result['cipher']} "
          f"secs={time.time() - t0:.2f}")
    if result["err"]:
        print(f"first error: {result['err']}", file=sys.stderr)
    sys.exit(0 if result["failed"] == 0 else 1)


if __name__ == "__main__":
    main()
