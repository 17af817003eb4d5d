#!/usr/bin/env python3
"""failover_load.py: a small keep-alive HTTP/1.1 load client for the
failover scenarios (tests/scenario/failover_*.sh).

    failover_load.py --port PORT [--conns N] [--duration S] [--count N]
                     [--method GET|POST|MIX] [--body BYTES] [--gap MS] [--jitter MS]
                     [--path /] [--timeout S] [--log FILE]

N threads, each holding one client connection open (keep-alive) and sending
requests one after another (optionally --gap MS +- --jitter MS apart,
start to start) until --duration
seconds have passed or each has sent --count requests.  A request counts as
ok when it got a 2xx; anything else is a failure: a non-2xx status, or an
error (refused, reset, closed without a response, timeout).  After an error
the connection is dropped and a new one opened (that is what a client does).

Every request is logged to --log as a tab-separated line:
    start_s  latency_ms  status  x_server  error  conn_seq  method  epoch_s  body_len
(conn_seq and body_len: the test backend's X-Conn-Seq and X-Body-Length;
 start_s relative to the client's start, epoch_s the same instant as Unix
time, to compare with `date +%s.%N` in the script; status 0 on an error), so a script
can cut the run into time windows.  At the end it prints one summary line:
    requests=N ok=N non2xx=N errors=N conns_opened=N servers=a:N,b:N
and the first few failures.  Exit status 0 unless the arguments are wrong.
"""
import argparse
import random
import http.client
import socket
import sys
import threading
import time


opened = [0]  # client connections opened, all threads


def worker(idx, args, t0, deadline, out, lock):
    conn = None
    body = b"x" * args.body
    sent = 0
    while True:
        now = time.monotonic()
        if now >= deadline or (args.count and sent >= args.count):
            break
        if args.method == "MIX":
            method = "POST" if sent % 2 else "GET"
        else:
            method = args.method
        if conn is None:
            conn = http.client.HTTPConnection("127.0.0.1", args.port, timeout=args.timeout)
            with lock:
                opened[0] += 1
        start = time.monotonic()
        wall = time.time()
        status, server, err, seq, blen = 0, "", "", "", ""
        try:
            headers = {"Host": "failover.test"}
            if method == "POST":
                headers["Content-Type"] = "application/octet-stream"
                conn.request("POST", args.path, body=body, headers=headers)
            else:
                conn.request(method, args.path, headers=headers)
            resp = conn.getresponse()
            resp.read()
            status = resp.status
            server = resp.getheader("X-Server", "") or ""
            seq = resp.getheader("X-Conn-Seq", "") or ""
            blen = resp.getheader("X-Body-Length", "") or ""
            if resp.getheader("Retry-After") is not None:
                err = "retry-after=" + resp.getheader("Retry-After")
            if resp.will_close:
                conn.close()
                conn = None
        except (OSError, http.client.HTTPException) as e:
            err = type(e).__name__ + ":" + str(e).replace("\t", " ").replace("\n", " ")[:80]
            try:
                conn.close()
            except Exception:
                pass
            conn = None
        end = time.monotonic()
        sent += 1
        with lock:
            out.append((start - t0, (end - start) * 1000.0, status, server, err, seq, method, wall, blen))
        if args.gap > 0:
            gap = args.gap + random.uniform(-args.jitter, args.jitter)
            rest = gap / 1000.0 - (time.monotonic() - start)
            if rest > 0:
                time.sleep(rest)
    if conn is not None:
        conn.close()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--conns", type=int, default=10)
    ap.add_argument("--duration", type=float, default=5.0)
    ap.add_argument("--count", type=int, default=0, help="requests per connection (0: until --duration)")
    ap.add_argument("--method", default="GET", choices=["GET", "POST", "MIX", "HEAD"])
    ap.add_argument("--body", type=int, default=64, help="POST body bytes")
    ap.add_argument("--gap", type=float, default=0, help="ms between the starts of requests on one connection")
    ap.add_argument("--jitter", type=float, default=0, help="+- ms of random jitter on --gap")
    ap.add_argument("--path", default="/")
    ap.add_argument("--timeout", type=float, default=10.0)
    ap.add_argument("--log", default="")
    args = ap.parse_args()

    out, lock = [], threading.Lock()
    t0 = time.monotonic()
    deadline = t0 + args.duration
    threads = [threading.Thread(target=worker, args=(i, args, t0, deadline, out, lock), daemon=True)
               for i in range(args.conns)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(args.duration + args.timeout + 5)

    out.sort()
    ok = sum(1 for r in out if 200 <= r[2] < 300)
    non2xx = sum(1 for r in out if r[2] and not 200 <= r[2] < 300)
    errors = sum(1 for r in out if r[2] == 0)
    servers = {}
    for r in out:
        if r[3]:
            servers[r[3]] = servers.get(r[3], 0) + 1
    if args.log:
        with open(args.log, "w") as f:
            for r in out:
                f.write("%.4f\t%.2f\t%d\t%s\t%s\t%s\t%s\t%.4f\t%s\n" % r)
    print("requests=%d ok=%d non2xx=%d errors=%d conns_opened=%d servers=%s" % (
        len(out), ok, non2xx, errors, opened[0],
        ",".join("%s:%d" % kv for kv in sorted(servers.items())) or "-"))
    shown = 0
    for r in out:
        if not 200 <= r[2] < 300 and shown < 10:
            print("  failure at %.3fs (%.1f ms) %s: status=%d server=%s %s" % (r[0], r[1], r[6], r[2], r[3] or "-", r[4]))
            shown += 1
    sys.stdout.flush()


if __name__ == "__main__":
    main()
