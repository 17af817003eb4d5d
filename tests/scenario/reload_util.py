#!/usr/bin/env python3
"""reload_util.py: small HTTP helpers for the reload scenarios
(tests/scenario/reload_*.sh).  Standard library only.

    reload_util.py hits PORT N [PATH]
        N requests on one keep-alive connection (a new one after an error);
        prints "ok=N fail=N servers=a:N,b:N" (ok = 2xx, servers from X-Server).
    reload_util.py stat STATS_PORT|- KEY
        one value of GET /api/stats (or of the JSON on stdin for "-"): KEY is a dotted path (generation,
        reloads.failed, ...) or POOL/SERVER/FIELD for a server's field
        (prints "absent" when there is no such server, or only one a reload
        removed that is listed while its last requests end).
    reload_util.py servers STATS_PORT
        "pool/server=requests" for every server, one per line.
    reload_util.py wait-gen STATS_PORT GEN SECS
        waits until generation >= GEN; exit 1 on timeout (prints the last).
    reload_util.py probe PORT SECS [GAP_MS]
        for SECS seconds, a NEW connection for every GET / (GAP_MS apart,
        default 10); prints "ok=N fail=N first_errors=..." at the end (ok =
        2xx).  Shows that a listener never stopped accepting.
    reload_util.py reload-loop PID STATS_PORT PROXY_PORT N CONF FILE0 FILE1 SECS
        N reloads: copy FILE1 (odd) / FILE0 (even) to CONF, SIGHUP PID,
        wait for generation + 1 (3 s at most each), 5ms pause; every 10 reloads GET /,
        /api/x and /static/y through PROXY_PORT; every 100 prints
        "reloads=I secs=T rss_kb=R fds=N generation=G failed=F"; stops early
        (exit 1, "error: ...") past SECS or on a reload not completing.
    reload_util.py keepalive PORT CTL_FIFO
        opens ONE client connection, then for every line "PATH" read from
        CTL_FIFO sends GET PATH on it and prints "PATH STATUS X-SERVER
        SOCKNAME"; a line "quit" ends.  Used to prove a connection opened
        before a reload stays open and follows the new routes.
"""
import http.client
import json
import sys
import time


def get_stats(port, timeout=2.0):
    c = http.client.HTTPConnection("127.0.0.1", int(port), timeout=timeout)
    try:
        c.request("GET", "/api/stats")
        r = c.getresponse()
        body = r.read()
        if r.status != 200:
            raise RuntimeError("GET /api/stats: %d" % r.status)
        return json.loads(body)
    finally:
        c.close()


def stat_value(st, key):
    if "/" in key:
        pool, server, field = key.split("/", 2)
        for p in st.get("pools", []):
            if p.get("name") != pool:
                continue
            for s in p.get("servers", []):
                # A server a reload removed is listed ("removed": true) only
                # until its requests end: it is not in the pool any more.
                if s.get("name") == server and not s.get("removed"):
                    v = s
                    for k in field.split("."):
                        v = v[k]
                    return v
        return "absent"
    v = st
    for k in key.split("."):
        v = v[int(k)] if isinstance(v, list) else v[k]
    return v


def cmd_hits(port, n, path="/"):
    ok = fail = 0
    servers = {}
    conn = None
    for _ in range(int(n)):
        try:
            if conn is None:
                conn = http.client.HTTPConnection("127.0.0.1", int(port), timeout=3)
            conn.request("GET", path)
            r = conn.getresponse()
            r.read()
            if 200 <= r.status < 300:
                ok += 1
                name = r.getheader("X-Server", "?")
                servers[name] = servers.get(name, 0) + 1
            else:
                fail += 1
            if (r.getheader("Connection") or "").lower() == "close":
                conn.close()
                conn = None
        except Exception:
            fail += 1
            if conn is not None:
                conn.close()
            conn = None
    if conn is not None:
        conn.close()
    print("ok=%d fail=%d servers=%s" % (
        ok, fail, ",".join("%s:%d" % kv for kv in sorted(servers.items()))))


def cmd_probe(port, secs, gap_ms="10"):
    ok = fail = 0
    errors = []
    deadline = time.monotonic() + float(secs)
    while time.monotonic() < deadline:
        c = http.client.HTTPConnection("127.0.0.1", int(port), timeout=2)
        try:
            c.request("GET", "/", headers={"Connection": "close"})
            r = c.getresponse()
            r.read()
            if 200 <= r.status < 300:
                ok += 1
            else:
                fail += 1
                errors.append("%.3f:status-%d" % (time.time(), r.status))
        except Exception as e:  # noqa: BLE001
            fail += 1
            errors.append("%.3f:%s" % (time.time(), type(e).__name__))
        finally:
            c.close()
        time.sleep(float(gap_ms) / 1000)
    print("ok=%d fail=%d first_errors=%s" % (ok, fail, ",".join(errors[:5]) or "-"), flush=True)


class Stats:
    """GET /api/stats, on one kept connection when the port allows it."""

    def __init__(self, port):
        self.port = int(port)
        self.conn = None

    def get(self):
        for attempt in range(2):
            try:
                if self.conn is None:
                    self.conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=2)
                self.conn.request("GET", "/api/stats")
                r = self.conn.getresponse()
                body = r.read()
                if r.will_close:
                    self.conn.close()
                    self.conn = None
                return json.loads(body)
            except Exception:  # noqa: BLE001
                if self.conn is not None:
                    self.conn.close()
                self.conn = None
                if attempt:
                    raise
        return None


def rss_kb(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return -1


def cmd_reload_loop(pid, stats_port, port, n, conf, file0, file1, secs, gap_ms="5",
                    samples=None):
    import os
    import signal
    pid, n = int(pid), int(n)
    nsample = [0]

    def sample(label, st_json):
        if samples:
            nsample[0] += 1
            with open(os.path.join(samples, "%02d-%s" % (nsample[0], label)), "w") as f:
                json.dump(st_json, f)
    texts = [open(file0).read(), open(file1).read()]
    st = Stats(stats_port)
    g0 = st.get()["generation"]
    t0 = time.monotonic()
    failed = 0
    proxy = None
    for i in range(1, n + 1):
        if time.monotonic() - t0 > float(secs):
            print("error: only %d reloads in %ss" % (i - 1, secs), flush=True)
            sys.exit(1)
        with open(conf + ".tmp", "w") as f:
            f.write(texts[i % 2])
        os.replace(conf + ".tmp", conf)
        os.kill(pid, signal.SIGHUP)
        deadline = time.monotonic() + 3
        while True:
            cur = st.get()
            g = cur["generation"]
            if g >= g0 + i:
                sample("reload-%d" % i, cur)
                break
            if time.monotonic() > deadline:
                print("error: reload %d did not complete within 3s (generation %d)" % (i, g),
                      flush=True)
                sys.exit(1)
            time.sleep(0.001)
        time.sleep(float(gap_ms) / 1000)  # let checks and workers run
        if samples:
            sample("after-%d" % i, st.get())
        if i % 10 == 0 and port != "-":
            for path in ("/", "/api/x", "/static/y"):
                try:
                    if proxy is None:
                        proxy = http.client.HTTPConnection("127.0.0.1", int(port), timeout=2)
                    proxy.request("GET", path)
                    r = proxy.getresponse()
                    r.read()
                    if not 200 <= r.status < 300:
                        failed += 1
                        print("reload %d: GET %s -> %d" % (i, path, r.status), flush=True)
                    if r.will_close:
                        proxy.close()
                        proxy = None
                except Exception as e:  # noqa: BLE001
                    failed += 1
                    print("reload %d: GET %s -> %s" % (i, path, type(e).__name__), flush=True)
                    if proxy is not None:
                        proxy.close()
                    proxy = None
        if i % 100 == 0 or i == n:
            print("reloads=%d secs=%.1f rss_kb=%d fds=%d generation=%d failed=%d" % (
                i, time.monotonic() - t0, rss_kb(pid), len(os.listdir("/proc/%d/fd" % pid)), g,
                failed), flush=True)


def cmd_keepalive(port, ctl):
    conn = http.client.HTTPConnection("127.0.0.1", int(port), timeout=5)
    conn.connect()
    sockname = "%s:%d" % conn.sock.getsockname()[:2]
    with open(ctl) as f:
        for line in f:
            path = line.strip()
            if not path:
                continue
            if path == "quit":
                break
            try:
                if conn.sock is None:
                    # http.client would silently reconnect: that must not
                    # happen here, the point is the SAME connection.
                    print("%s ERR connection-closed-by-proxy %s" % (path, sockname), flush=True)
                    continue
                conn.request("GET", path)
                r = conn.getresponse()
                r.read()
                now = "%s:%d" % conn.sock.getsockname()[:2] if conn.sock else "closed"
                print("%s %d %s %s" % (path, r.status, r.getheader("X-Server", "-"), now),
                      flush=True)
                if r.will_close:
                    conn.close()
            except Exception as e:  # noqa: BLE001
                print("%s ERR %s %s" % (path, type(e).__name__, sockname), flush=True)
                conn.close()
    conn.close()


def main():
    if len(sys.argv) < 2:
        print(__doc__, file=sys.stderr)
        sys.exit(2)
    cmd, a = sys.argv[1], sys.argv[2:]
    if cmd == "hits":
        cmd_hits(*a)
    elif cmd == "stat":
        try:
            st = json.load(sys.stdin) if a[0] == "-" else get_stats(a[0])
            v = stat_value(st, a[1])
        except Exception as e:  # noqa: BLE001
            print("error:%s" % type(e).__name__)
            sys.exit(1)
        if isinstance(v, bool):
            v = str(v).lower()
        print(json.dumps(v, separators=(",", ":")) if isinstance(v, (dict, list)) else v)
    elif cmd == "servers":
        st = get_stats(a[0])
        for p in st.get("pools", []):
            for s in p.get("servers", []):
                print("%s/%s=%d" % (p["name"], s["name"], s["requests"]))
    elif cmd == "wait-gen":
        want, deadline = int(a[1]), time.monotonic() + float(a[2])
        last = None
        while time.monotonic() < deadline:
            try:
                last = get_stats(a[0])["generation"]
                if last >= want:
                    print(last)
                    return
            except Exception:  # noqa: BLE001
                pass
            time.sleep(0.002)
        print(last)
        sys.exit(1)
    elif cmd == "probe":
        cmd_probe(*a)
    elif cmd == "reload-loop":
        cmd_reload_loop(*a)
    elif cmd == "keepalive":
        cmd_keepalive(*a)
    else:
        print(__doc__, file=sys.stderr)
        sys.exit(2)


if __name__ == "__main__":
    main()
