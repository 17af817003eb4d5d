#!/usr/bin/env python3
"""surge_clients.py: HTTP/1.1 keep-alive clients from many loopback source
addresses, at a paced total rate, for surge_anatomy.sh.

  surge_clients.py --port P --rate R --duration S (--sources A,B,... | --spread N)
                   [--hot PATH --hot-share F]

--spread N: N clients, each in a /24 of its own: 127.(1 + i % 250).(i // 250).2.
Requests go to the clients in turn; a share F of them ask for PATH (with a
query string, which the proxy's anatomy leaves out), the rest for
/page/<n>.  Prints "sent N errors E" at the end.
"""
import argparse
import http.client
import sys
import time


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--rate", type=float, required=True)
    ap.add_argument("--duration", type=float, required=True)
    ap.add_argument("--sources", default="")
    ap.add_argument("--spread", type=int, default=0)
    ap.add_argument("--hot", default="/")
    ap.add_argument("--hot-share", type=float, default=0.0)
    a = ap.parse_args()
    if a.spread:
        sources = ["127.%d.%d.2" % (1 + i % 250, i // 250) for i in range(a.spread)]
    else:
        sources = [s for s in a.sources.split(",") if s]
    conns = [None] * len(sources)
    sent = errors = 0
    start = time.monotonic()
    end = start + a.duration
    n = 0
    while True:
        now = time.monotonic()
        if now >= end:
            break
        due = start + n / a.rate
        if due > now:
            time.sleep(due - now)
        i = n % len(sources)
        hot = (n * 7919 % 1000) < a.hot_share * 1000
        path = "%s?item=%d" % (a.hot, n % 50) if hot else "/page/%d" % (n % 20)
        n += 1
        try:
            if conns[i] is None:
                conns[i] = http.client.HTTPConnection("127.0.0.1", a.port, timeout=3,
                                                      source_address=(sources[i], 0))
            conns[i].request("GET", path)
            r = conns[i].getresponse()
            r.read()
            sent += 1
            if r.status != 200:
                errors += 1
        except (OSError, http.client.HTTPException):
            errors += 1
            if conns[i] is not None:
                conns[i].close()
            conns[i] = None
    for c in conns:
        if c is not None:
            c.close()
    print("sent %d errors %d" % (sent, errors))
    return 0


if __name__ == "__main__":
    sys.exit(main())
