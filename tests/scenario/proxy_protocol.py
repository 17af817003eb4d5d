#!/usr/bin/env python3
"""PROXY protocol helpers for the proxy_protocol_*.sh scenarios.

    proxy_protocol.py server PORT LOG [ADDR]
        A raw server: for each connection it records, as one JSON line in
        LOG, the PROXY header it started with (its exact bytes in hex and
        what they say) and the first line of what followed, then answers an
        HTTP request with 200 "ok" (Connection: close), or just closes when
        nothing follows the header (a TCP health check).

    proxy_protocol.py send PORT KIND [PATH]
        Connects to 127.0.0.1:PORT (or [::1] when KIND ends in "@6"), sends
        the header KIND (v1-tcp4, v1-tcp6, v1-unknown, v2-tcp4, v2-tcp6,
        v2-local, v2-tlv) then GET PATH (default /echo), and prints the
        status and the X-Forwarded-For the backend's /echo saw:
        "status=200 xff=ADDR".

    proxy_protocol.py abuse PORT N SECONDS
        N connections at once of each bad kind (garbage, a v2 header with a
        65535-byte length, a header that never ends, a header trickled
        byte by byte slower than timeout client, a header cut by a close),
        held for up to SECONDS; prints "closed=K of=M" (how many the proxy
        closed without sending a byte) and "answered=A" (any byte back).
"""
import json
import socket
import struct
import sys
import threading
import time

SIG = b"\r\n\r\n\x00\r\nQUIT\n"


def v1(proto, src, dst, sport, dport):
    return ("PROXY %s %s %s %d %d\r\n" % (proto, src, dst, sport, dport)).encode()


def v2(ver_cmd, fam, block):
    return SIG + bytes([ver_cmd, fam]) + struct.pack("!H", len(block)) + block


def inet(src, dst, sport, dport):
    return socket.inet_aton(src) + socket.inet_aton(dst) + struct.pack("!HH", sport, dport)


def inet6(src, dst, sport, dport):
    return (socket.inet_pton(socket.AF_INET6, src) + socket.inet_pton(socket.AF_INET6, dst)
            + struct.pack("!HH", sport, dport))


HEADERS = {
    "v1-tcp4": v1("TCP4", "198.51.100.9", "203.0.113.1", 1234, 443),
    "v1-tcp6": v1("TCP6", "2001:db8::9", "2001:db8::1", 1234, 443),
    "v1-unknown": b"PROXY UNKNOWN\r\n",
    "v2-tcp4": v2(0x21, 0x11, inet("192.0.2.77", "203.0.113.1", 40000, 80)),
    "v2-tcp6": v2(0x21, 0x21, inet6("2001:db8::77", "2001:db8::1", 40000, 80)),
    "v2-local": v2(0x20, 0x00, b""),
    "v2-tlv": v2(0x21, 0x11, inet("192.0.2.78", "203.0.113.1", 40000, 80)
                 + b"\x01\x00\x02h2" + b"\x04\x00\x10" + bytes(16)),
}


def parse_header(buf):
    """(length, description) of the PROXY header at the start of buf,
    (0, None) when more bytes are needed, (-1, why) when it is not one."""
    if buf.startswith(b"PROXY "):
        end = buf.find(b"\r\n")
        if end < 0:
            return (0, None) if len(buf) < 107 else (-1, "v1 without CRLF")
        words = buf[:end].decode("ascii", "replace").split(" ")
        if words[1] == "UNKNOWN":
            return end + 2, {"version": 1, "proto": "UNKNOWN"}
        if len(words) != 6:
            return -1, "v1 with %d words" % len(words)
        return end + 2, {"version": 1, "proto": words[1], "src": words[2], "dst": words[3],
                         "sport": int(words[4]), "dport": int(words[5])}
    if len(buf) < 16:
        return (0, None) if SIG.startswith(buf[:12]) or buf[:12] == SIG else (-1, "not a header")
    if buf[:12] != SIG:
        return -1, "not a header"
    n = struct.unpack("!H", buf[14:16])[0]
    if len(buf) < 16 + n:
        return 0, None
    cmd, fam, block = buf[12], buf[13], buf[16:16 + n]
    d = {"version": 2, "command": "LOCAL" if cmd == 0x20 else "PROXY" if cmd == 0x21 else hex(cmd),
         "family": hex(fam)}
    if cmd == 0x21 and fam == 0x11:
        d.update(src=socket.inet_ntoa(block[0:4]), dst=socket.inet_ntoa(block[4:8]),
                 sport=struct.unpack("!H", block[8:10])[0], dport=struct.unpack("!H", block[10:12])[0])
    elif cmd == 0x21 and fam == 0x21:
        d.update(src=socket.inet_ntop(socket.AF_INET6, block[0:16]),
                 dst=socket.inet_ntop(socket.AF_INET6, block[16:32]),
                 sport=struct.unpack("!H", block[32:34])[0], dport=struct.unpack("!H", block[34:36])[0])
    return 16 + n, d


def serve_one(conn, peer, log, lock):
    conn.settimeout(5)
    buf = b""
    rec = {"peer": peer[0], "peer_port": peer[1]}
    try:
        while True:
            n, d = parse_header(buf)
            if n != 0:
                break
            chunk = conn.recv(4096)
            if not chunk:
                n, d = -1, "closed before a header"
                break
            buf += chunk
        if n < 0:
            rec.update(error=d, first=buf[:120].hex())
        else:
            rec.update(header=d, hex=buf[:n].hex())
            rest = buf[n:]
            while b"\r\n\r\n" not in rest:
                chunk = conn.recv(4096)
                if not chunk:
                    break
                rest += chunk
            rec["then"] = rest.split(b"\r\n", 1)[0].decode("latin-1") if rest else ""
            if rest:
                conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok")
    except OSError as e:
        rec["error"] = str(e)
    finally:
        conn.close()
    with lock:
        log.write(json.dumps(rec) + "\n")
        log.flush()


def server(port, path, addr="127.0.0.1"):
    fam = socket.AF_INET6 if ":" in addr else socket.AF_INET
    s = socket.socket(fam, socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind((addr, port))
    s.listen(128)
    lock = threading.Lock()
    with open(path, "a") as log:
        while True:
            conn, peer = s.accept()
            threading.Thread(target=serve_one, args=(conn, peer, log, lock), daemon=True).start()


def send(port, kind, path="/echo"):
    v6 = kind.endswith("@6")
    kind = kind.split("@")[0]
    c = socket.create_connection(("::1" if v6 else "127.0.0.1", port), timeout=5)
    c.sendall(HEADERS[kind] + b"GET " + path.encode() + b" HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n")
    data = b""
    while True:
        chunk = c.recv(65536)
        if not chunk:
            break
        data += chunk
    c.close()
    xff = "-"
    for line in data.split(b"\r\n"):
        if line.lower().startswith(b"x-forwarded-for:"):
            xff = line.split(b":", 1)[1].strip().decode()
    status = data.split(b" ", 2)[1].decode() if data.startswith(b"HTTP/") else "none"
    print("status=%s xff=%s" % (status, xff))


ABUSE = {
    "garbage": [b"GET / HTTP/1.1\r\nHost: a\r\n\r\n"],
    "huge-length": [SIG + b"\x21\x11\xff\xff" + bytes(12)],
    "endless-v1": [b"PROXY UNKNOWN " + b"x" * 200],
    "trickle": [bytes([b]) for b in HEADERS["v1-tcp4"]],
    "cut": [HEADERS["v2-tcp4"][:20], None],
}


def abuse_one(port, kind, seconds, out, lock):
    got = "held"
    try:
        c = socket.create_connection(("127.0.0.1", port), timeout=seconds + 2)
        deadline = time.time() + seconds
        pieces = ABUSE[kind]
        gap = seconds / len(pieces) if kind == "trickle" else 0
        for p in pieces:
            if p is None:
                c.close()
                got = "closed"
                break
            try:
                c.sendall(p)
            except OSError:
                got = "closed"
                break
            if gap:
                c.settimeout(gap)
                try:
                    data = c.recv(1)
                    got = "answered" if data else "closed"
                    break
                except socket.timeout:
                    continue
                except ConnectionResetError:
                    # closed with our peeked bytes unread: the kernel resets
                    got = "closed"
                    break
        if got == "held":
            c.settimeout(max(0.1, deadline - time.time()))
            try:
                data = c.recv(1)
                got = "answered" if data else "closed"
            except socket.timeout:
                got = "held"
            except ConnectionResetError:
                got = "closed"
            c.close()
    except OSError as e:
        got = "error:" + str(e)
    with lock:
        out.append((kind, got))


def abuse(port, n, seconds):
    out, lock, threads = [], threading.Lock(), []
    for kind in ABUSE:
        for _ in range(n):
            t = threading.Thread(target=abuse_one, args=(port, kind, seconds, out, lock))
            t.start()
            threads.append(t)
    for t in threads:
        t.join()
    for kind in ABUSE:
        got = [g for k, g in out if k == kind]
        print("kind=%s closed=%d answered=%d held=%d of=%d" % (
            kind, got.count("closed"), got.count("answered"), got.count("held"), len(got)))


def main():
    cmd = sys.argv[1]
    if cmd == "server":
        server(int(sys.argv[2]), sys.argv[3], *(sys.argv[4:5]))
    elif cmd == "send":
        send(int(sys.argv[2]), sys.argv[3], *(sys.argv[4:5]))
    elif cmd == "abuse":
        abuse(int(sys.argv[2]), int(sys.argv[3]), float(sys.argv[4]))
    else:
        sys.exit("unknown command " + cmd)


if __name__ == "__main__":
    main()
