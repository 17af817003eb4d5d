#!/usr/bin/env python3
"""harden_flood.py: rounds of slowloris connections against the proxy, and
the proxy's RSS after each (used by harden_flood_rss.sh).

    harden_flood.py PROXY_PID PORT N ROUNDS SETTLE_S

Each round opens N connections to 127.0.0.1:PORT, sends a partial request
head on each (no blank line: the proxy holds an input buffer for every one),
waits until the proxy holds them all (its open fds), reads its VmRSS (peak),
closes them all, waits until the proxy has closed them, then SETTLE_S
seconds, and reads VmRSS again.  One line per round:

    round=K peak_kb=P after_kb=A

Exits 1 when a round could not open its connections.
"""
import os
import socket
import sys
import time


def rss_kb(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return -1


def nfds(pid):
    return len(os.listdir(f"/proc/{pid}/fd"))


def wait_fds(pid, pred, secs):
    end = time.monotonic() + secs
    while time.monotonic() < end:
        if pred(nfds(pid)):
            return True
        time.sleep(0.05)
    return False


def one_round(pid, port, n):
    base = nfds(pid)
    socks = []
    head = b"GET /slow HTTP/1.1\r\nHost: flood\r\nX-Pad: " + b"x" * 200 + b"\r\n"
    for i in range(n):
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.settimeout(5)
        s.connect(("127.0.0.1", port))
        s.sendall(head)
        socks.append(s)
        if i % 256 == 255:
            # Let the proxy accept before the backlog overflows.
            wait_fds(pid, lambda k, want=base + i + 1 - 64: k >= want, 5)
    ok = wait_fds(pid, lambda k: k >= base + n, 10)
    peak = rss_kb(pid)
    for s in socks:
        s.close()
    wait_fds(pid, lambda k: k <= base + 2, 10)
    return ok, peak


def main():
    pid, port, n, rounds = (int(a) for a in sys.argv[1:5])
    settle = float(sys.argv[5])
    for r in range(1, rounds + 1):
        ok, peak = one_round(pid, port, n)
        if not ok:
            print(f"error: round {r}: the proxy did not take {n} connections", flush=True)
            return 1
        time.sleep(settle)
        print(f"round={r} peak_kb={peak} after_kb={rss_kb(pid)}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
