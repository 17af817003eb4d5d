#!/usr/bin/env python3
"""admit_clients.py: clients from many loopback addresses, for the admission
scenarios (tests/scenario/admit_*.sh).  Every request or connection binds its
source to an address of 127.0.0.0/8 (all of it is local on Linux), so one
machine plays many clients.

  admit_clients.py requests PORT FIRST LAST N [PATH] [--header 'Name: value']
      from each address 127.0.0.FIRST .. 127.0.0.LAST, N requests, each on a
      new connection (so they spread over the proxy's workers); prints one
      line per address: "127.0.0.7 200=5 429=3 retry_after=60" (the last
      Retry-After seen), then "total 200=.. 429=..".
  admit_clients.py conns PORT ADDR N HOLD_S
      opens N connections from ADDR one after the other and keeps them open;
      a connection the proxy closed at once is "refused"; prints
      "opened=N refused=N", then holds the others HOLD_S seconds.
  admit_clients.py timed PORT ADDR PATH LABEL
      one request; prints "LABEL STATUS END_TIME" (monotonic seconds).
"""
import http.client
import socket
import sys
import time


def request(port, src, path, headers):
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=30, source_address=(src, 0))
    try:
        c.request("GET", path, headers=headers)
        r = c.getresponse()
        r.read()
        return r.status, r.getheader("Retry-After")
    finally:
        c.close()


def cmd_requests(args):
    port, first, last, n = int(args[0]), int(args[1]), int(args[2]), int(args[3])
    rest = args[4:]
    path = "/"
    headers = {}
    i = 0
    while i < len(rest):
        if rest[i] == "--header":
            name, value = rest[i + 1].split(":", 1)
            headers[name.strip()] = value.strip()
            i += 2
        else:
            path = rest[i]
            i += 1
    totals = {}
    for host in range(first, last + 1):
        src = "127.0.0.%d" % host
        counts = {}
        retry = "-"
        for _ in range(n):
            try:
                status, ra = request(port, src, path, headers)
            except (OSError, http.client.HTTPException):
                status, ra = "err", None
            counts[status] = counts.get(status, 0) + 1
            totals[status] = totals.get(status, 0) + 1
            if ra:
                retry = ra
        print(src, " ".join("%s=%d" % (k, v) for k, v in sorted(counts.items(), key=str)),
              "retry_after=%s" % retry, flush=True)
    print("total", " ".join("%s=%d" % (k, v) for k, v in sorted(totals.items(), key=str)), flush=True)


def closed_at_once(s):
    """True when the peer closed the connection (EOF or reset) within 0.5 s."""
    s.settimeout(0.5)
    try:
        return s.recv(1) == b""
    except socket.timeout:
        return False
    except OSError:
        return True


def cmd_conns(args):
    port, src, n, hold = int(args[0]), args[1], int(args[2]), float(args[3])
    kept, refused = [], 0
    for _ in range(n):
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.bind((src, 0))
        s.connect(("127.0.0.1", port))
        if closed_at_once(s):
            refused += 1
            s.close()
        else:
            kept.append(s)
    print("opened=%d refused=%d" % (len(kept), refused), flush=True)
    time.sleep(hold)
    for s in kept:
        s.close()


def cmd_timed(args):
    port, src, path, label = int(args[0]), args[1], args[2], args[3]
    try:
        status, _ = request(port, src, path, {})
    except (OSError, http.client.HTTPException):
        status = "err"
    print(label, status, "%.6f" % time.monotonic(), flush=True)


def main():
    cmds = {"requests": cmd_requests, "conns": cmd_conns, "timed": cmd_timed}
    if len(sys.argv) < 2 or sys.argv[1] not in cmds:
        sys.exit(__doc__)
    cmds[sys.argv[1]](sys.argv[2:])


if __name__ == "__main__":
    main()
