#!/usr/bin/env python3
"""harden_idle_room.py: idle keep-alive clients at max-conns, then new ones
(used by harden_idle_room.sh).

    harden_idle_room.py PORT IDLE NEW TIMEOUT_S

Opens IDLE keep-alive connections to 127.0.0.1:PORT one after the other,
each sending one GET and reading its whole response, and keeps them open.
Then NEW clients at once (threads), each on a new connection: GET, read
the response within TIMEOUT_S, and stay open too.  Prints one line per new
client ("new K status=200 secs=0.004" or "new K error ..."), then
"idle-closed C" (how many of the IDLE connections the proxy has closed,
oldest first expected: "idle-closed-order" lists their indexes).
"""
import socket
import sys
import threading
import time


def get(port, timeout):
    s = socket.create_connection(("127.0.0.1", port), timeout=timeout)
    s.settimeout(timeout)
    s.sendall(b"GET / HTTP/1.1\r\nHost: room\r\n\r\n")
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = s.recv(4096)
        if not chunk:
            raise OSError("closed before the response head")
        data += chunk
    head, body = data.split(b"\r\n\r\n", 1)
    length = 0
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value)
    while len(body) < length:
        chunk = s.recv(4096)
        if not chunk:
            raise OSError("closed in the body")
        body += chunk
    return s, int(head.split(b" ")[1])


def closed_by_peer(s):
    s.setblocking(False)
    try:
        return s.recv(1) == b""
    except BlockingIOError:
        return False
    except OSError:
        return True


def main():
    port, nidle, nnew = (int(a) for a in sys.argv[1:4])
    timeout = float(sys.argv[4])
    idle = []
    for _ in range(nidle):
        s, status = get(port, 5)
        if status != 200:
            print(f"error: idle client got {status}", flush=True)
            return 1
        idle.append(s)
        time.sleep(0.01)  # distinct idle ages
    time.sleep(0.3)
    results = [None] * nnew
    held = []

    def client(k):
        t0 = time.monotonic()
        try:
            s, status = get(port, timeout)
            held.append(s)
            results[k] = f"new {k} status={status} secs={time.monotonic() - t0:.3f}"
        except OSError as e:
            results[k] = f"new {k} error {e!r} after {time.monotonic() - t0:.3f}s"

    threads = [threading.Thread(target=client, args=(k,)) for k in range(nnew)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for r in results:
        print(r, flush=True)
    time.sleep(0.2)
    order = [i for i, s in enumerate(idle) if closed_by_peer(s)]
    print(f"idle-closed {len(order)}", flush=True)
    print("idle-closed-order " + " ".join(map(str, order)), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
