#!/usr/bin/env python3
"""deploy_dns.py: a tiny authoritative DNS server on loopback (UDP), for
the host-name scenarios (deploy_host_names.sh).  Standard library only.

    deploy_dns.py --port PORT --zone FILE [--addr 127.0.0.1]

FILE is read again at every query, so a test changes the answers by
rewriting it (write a new file and rename it over the old one).  Each
line is "NAME ADDRESS" ('#' starts a comment): an IPv4 address is an A
record, an IPv6 one AAAA; a name may have several lines.  A name that is
not in the file gets NXDOMAIN; a name without an address of the type asked
gets an empty answer (NODATA).  TTL 0: nothing is cached.  A line
"NAME servfail:TYPE" (TYPE A or AAAA) answers that type SERVFAIL (a
resolver's failure), "NAME delay:TYPE:SECONDS" sends that type's answer
late (the others are not held up).

Prints "ready" once listening, then one line per query:
"query NAME TYPE -> ANSWER".
"""
import argparse
import ipaddress
import socket
import struct
import sys
import threading

TYPE_A, TYPE_AAAA = 1, 28
TYPES = {"A": TYPE_A, "AAAA": TYPE_AAAA}
RCODE_SERVFAIL, RCODE_NXDOMAIN = 2, 3


def read_zone(path):
    zone = {}
    try:
        with open(path, encoding="ascii") as fh:
            for line in fh:
                words = line.split("#", 1)[0].split()
                if len(words) != 2:
                    continue
                name = words[0].rstrip(".").lower()
                value = words[1]
                if value.startswith(("servfail:", "delay:")):
                    value = tuple(value.split(":"))
                else:
                    value = ipaddress.ip_address(value)
                zone.setdefault(name, []).append(value)
    except FileNotFoundError:
        pass
    return zone


def parse_question(msg):
    """(id, flags, qname, qtype, end of the question) of a query."""
    qid, flags, qdcount = struct.unpack("!HHH", msg[:6])
    if qdcount < 1:
        raise ValueError("no question")
    labels, i = [], 12
    while True:
        n = msg[i]
        if n == 0:
            i += 1
            break
        if n & 0xC0:
            raise ValueError("compressed question")
        labels.append(msg[i + 1:i + 1 + n].decode("ascii", "replace"))
        i += 1 + n
    qtype, _qclass = struct.unpack("!HH", msg[i:i + 4])
    return qid, flags, ".".join(labels).lower(), qtype, i + 4


def answer(msg, zone):
    qid, flags, qname, qtype, qend = parse_question(msg)
    question = msg[12:qend]
    addrs = zone.get(qname)
    rcode, records, delay = 0, [], 0.0
    if addrs is None:
        rcode = RCODE_NXDOMAIN
    else:
        want = 4 if qtype == TYPE_A else 6 if qtype == TYPE_AAAA else 0
        records = [a for a in addrs if not isinstance(a, tuple) and a.version == want]
        for rule in (a for a in addrs if isinstance(a, tuple) and TYPES.get(a[1]) == qtype):
            if rule[0] == "servfail":
                rcode, records = RCODE_SERVFAIL, []
            else:
                delay = float(rule[2])
    # QR, AA, RD as asked, RA.
    rflags = 0x8000 | 0x0400 | (flags & 0x0100) | 0x0080 | rcode
    out = struct.pack("!HHHHHH", qid, rflags, 1, len(records), 0, 0) + question
    for a in records:
        rdata = a.packed
        out += struct.pack("!HHHIH", 0xC00C, qtype, 1, 0, len(rdata)) + rdata
    shown = {RCODE_NXDOMAIN: "NXDOMAIN", RCODE_SERVFAIL: "SERVFAIL"}.get(rcode) or \
        (" ".join(str(a) for a in records) or "NODATA")
    return out, f"query {qname} {qtype} -> {shown}" + (f" (after {delay}s)" if delay else ""), delay


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--zone", required=True)
    ap.add_argument("--addr", default="127.0.0.1")
    args = ap.parse_args()
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind((args.addr, args.port))
    print("ready", flush=True)
    while True:
        msg, peer = sock.recvfrom(4096)
        try:
            out, line, delay = answer(msg, read_zone(args.zone))
        except (ValueError, IndexError, struct.error) as e:
            print(f"bad query from {peer}: {e}", flush=True)
            continue
        if delay:
            threading.Timer(delay, sock.sendto, (out, peer)).start()
        else:
            sock.sendto(out, peer)
        print(line, flush=True)


if __name__ == "__main__":
    sys.exit(main())
