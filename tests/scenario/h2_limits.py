#!/usr/bin/env python3
"""h2_limits.py: python3-h2 clients for h2_limits.sh and h2_reset_window.sh
(on h2_client.py's connection and event reader).

  h2_limits.py settings PORT    prints the server's first SETTINGS as
                                "max_streams=N window=N header_list=N"
  h2_limits.py big PORT         stream 1 with a 2000-byte field, stream 3 a
                                plain GET, sent at once; prints "stream ID
                                status=N" or "stream ID reset=NAME" for each
  h2_limits.py early PORT       stream 1 a HEAD with a 2000-byte field,
                                stream 3 a GET of a 1100-byte :path; prints
                                "stream ID status=N data=D ended" for each
  h2_limits.py fields PORT N C  a GET with N fields and a cookie in C
                                crumbs; prints "stream 1 status=N"
  h2_limits.py par PORT N PATH  N GETs of PATH&n=I at once on one connection;
                                prints "stream ID status=N ms=M" for each in
                                stream order (M since they were sent)
  h2_limits.py seq PORT N       N GETs one after the other on one connection;
                                prints "stream ID status=N retry-after=V
                                type=V body=B" for each
  h2_limits.py resets PORT      20 streams opened and reset at once, then a
                                GET; 10.5 s later the same; then 1 more
                                reset; prints "batch N goaway=NAME|none
                                ok=STATUS|-" after each
"""
import sys
import time

import h2.errors
import h2.events
import h2.exceptions
import h2.settings

from h2_client import connect, events, headers


def until(s, conn, done, secs):
    """h2_client.events for at most secs, ending once done() holds."""
    if done():
        return
    for ev in events(s, conn, time.time() + secs):
        yield ev
        if done():
            return


def settings(port):
    s, c = connect(port)
    got = {}
    for ev in until(s, c, lambda: bool(got), 5):
        if isinstance(ev, h2.events.RemoteSettingsChanged):
            got = {k: v.new_value for k, v in ev.changed_settings.items()}
    codes = h2.settings.SettingCodes
    print("max_streams=%s window=%s header_list=%s" % (got.get(codes.MAX_CONCURRENT_STREAMS),
          got.get(codes.INITIAL_WINDOW_SIZE), got.get(codes.MAX_HEADER_LIST_SIZE)))


def big(port):
    s, c = connect(port)
    # Sent at once, before the server's SETTINGS are read: the client does
    # not hold itself to MAX_HEADER_LIST_SIZE, the proxy must.
    c.send_headers(1, headers(port, "/big") + [("x-big", "b" * 2000)], end_stream=True)
    c.send_headers(3, headers(port, "/after"), end_stream=True)
    s.sendall(c.data_to_send())
    done = {}
    for ev in until(s, c, lambda: len(done) == 2, 5):
        if isinstance(ev, h2.events.ResponseReceived):
            done[ev.stream_id] = "status=" + dict(ev.headers).get(":status", "?")
        elif isinstance(ev, h2.events.StreamReset):
            done[ev.stream_id] = "reset=" + getattr(ev.error_code, "name", str(ev.error_code))
        elif isinstance(ev, h2.events.ConnectionTerminated) or ev == "closed":
            done.setdefault(1, "goaway")
            done.setdefault(3, "goaway")
    for sid in (1, 3):
        print("stream %d %s" % (sid, done.get(sid, "nothing")))


def answers(s, c, sids, secs=5):
    """{sid: "status=N data=D ended"} or "reset=NAME" for each of sids."""
    got, data = {}, {}
    for ev in until(s, c, lambda: all(got.get(sid, "").endswith("ended") or got.get(sid, "").startswith("reset=")
                                      for sid in sids), secs):
        if isinstance(ev, h2.events.ResponseReceived):
            got[ev.stream_id] = "status=" + dict(ev.headers).get(":status", "?")
        elif isinstance(ev, h2.events.DataReceived):
            data[ev.stream_id] = data.get(ev.stream_id, 0) + len(ev.data)
            c.acknowledge_received_data(ev.flow_controlled_length, ev.stream_id)
        elif isinstance(ev, h2.events.StreamEnded):
            data.setdefault(ev.stream_id, 0)
            got[ev.stream_id] = got.get(ev.stream_id, "status=?") + " data=%d ended" % data[ev.stream_id]
        elif isinstance(ev, h2.events.StreamReset):
            got[ev.stream_id] = "reset=" + getattr(ev.error_code, "name", str(ev.error_code))
            data.setdefault(ev.stream_id, 0)
        elif isinstance(ev, h2.events.ConnectionTerminated) or ev == "closed":
            break
    return got


def early(port):
    # The proxy's own answers before a head is built: a HEAD's 431 carries
    # no DATA (a body after a HEAD is a PROTOCOL_ERROR to the client: h2
    # raised it for the connection), and a :path alone over limit
    # header-size is a 414, as on HTTP/1.1.
    s, c = connect(port)
    c.send_headers(1, [(":method", "HEAD")] + headers(port, "/big")[1:] + [("x-big", "b" * 2000)],
                   end_stream=True)
    c.send_headers(3, headers(port, "/" + "p" * 1100), end_stream=True)
    s.sendall(c.data_to_send())
    got = answers(s, c, (1, 3))
    for sid in (1, 3):
        print("stream %d %s" % (sid, got.get(sid, "nothing")))


def fields(port, n, crumbs):
    # A GET with n fields of its own and a cookie in `crumbs` crumbs (as
    # browsers split it, RFC 9113 8.2.3): counted against limit headers as
    # its HTTP/1.1 head is (Host, the n fields, one Cookie).
    s, c = connect(port)
    extra = [("x-f%d" % i, "v") for i in range(n)] + [("cookie", "c%d=v" % i) for i in range(crumbs)]
    c.send_headers(1, headers(port, "/fields") + extra, end_stream=True)
    s.sendall(c.data_to_send())
    print("stream 1 %s" % answers(s, c, (1,)).get(1, "nothing").split(" ")[0])


def par(port, n, path):
    s, c = connect(port)
    t0 = time.time()
    for i in range(n):
        c.send_headers(1 + 2 * i, headers(port, "%s&n=%d" % (path, i)), end_stream=True)
    s.sendall(c.data_to_send())
    got = {}
    for ev in until(s, c, lambda: len(got) == n, 10):
        if isinstance(ev, h2.events.ResponseReceived):
            got[ev.stream_id] = "status=%s ms=%d" % (dict(ev.headers).get(":status"), (time.time() - t0) * 1000)
        elif isinstance(ev, h2.events.DataReceived):
            c.acknowledge_received_data(ev.flow_controlled_length, ev.stream_id)
    for i in range(n):
        print("stream %d %s" % (1 + 2 * i, got.get(1 + 2 * i, "nothing")))


def seq(port, n):
    s, c = connect(port)
    for i in range(n):
        sid = 1 + 2 * i
        c.send_headers(sid, headers(port, "/r%d" % i), end_stream=True)
        s.sendall(c.data_to_send())
        head, body, ended = {}, b"", []
        for ev in until(s, c, lambda: bool(ended), 5):
            if isinstance(ev, h2.events.ResponseReceived):
                head = dict(ev.headers)
            elif isinstance(ev, h2.events.DataReceived):
                body += ev.data
                c.acknowledge_received_data(ev.flow_controlled_length, ev.stream_id)
            elif ev == "closed" or isinstance(ev, (h2.events.StreamEnded, h2.events.StreamReset,
                                                   h2.events.ConnectionTerminated)):
                ended.append(ev)
        print("stream %d status=%s retry-after=%s type=%s body=%s" % (sid, head.get(":status"),
              head.get("retry-after", "-"), head.get("content-type", "-"), body.decode().strip()))


def resets(port):
    s, c = connect(port)
    goaway = [None]

    def watch(done, secs):
        for ev in until(s, c, lambda: done() or goaway[0], secs):
            if isinstance(ev, h2.events.ConnectionTerminated):
                goaway[0] = h2.errors.ErrorCodes(ev.error_code).name
            yield ev

    def batch(n, check):
        try:
            for _ in range(n):
                sid = c.get_next_available_stream_id()
                c.send_headers(sid, headers(port, "/cancelled"), end_stream=True)
                c.reset_stream(sid)
            s.sendall(c.data_to_send())
            status = ["-"]
            if check:
                sid = c.get_next_available_stream_id()
                c.send_headers(sid, headers(port, "/after"), end_stream=True)
                s.sendall(c.data_to_send())
                for ev in watch(lambda: status[0] != "-", 5):
                    if isinstance(ev, h2.events.ResponseReceived) and ev.stream_id == sid:
                        status[0] = dict(ev.headers).get(":status")
            else:
                for _ in watch(lambda: False, 2):
                    pass
            return status[0]
        except (OSError, h2.exceptions.ProtocolError):
            return "closed"

    ok = batch(20, True)
    print("batch 1 goaway=%s ok=%s" % (goaway[0] or "none", ok), flush=True)
    for _ in watch(lambda: False, 10.5):  # the window passes; the proxy's frames answered
        pass
    ok = batch(20, True)
    print("batch 2 goaway=%s ok=%s" % (goaway[0] or "none", ok))
    ok = batch(1, False)
    print("batch 3 goaway=%s ok=%s" % (goaway[0] or "none", ok))


if __name__ == "__main__":
    cmd, port = sys.argv[1], int(sys.argv[2])
    if cmd == "settings":
        settings(port)
    elif cmd == "big":
        big(port)
    elif cmd == "early":
        early(port)
    elif cmd == "fields":
        fields(port, int(sys.argv[3]), int(sys.argv[4]))
    elif cmd == "par":
        par(port, int(sys.argv[3]), sys.argv[4])
    elif cmd == "seq":
        seq(port, int(sys.argv[3]))
    elif cmd == "resets":
        resets(port)
    else:
        sys.exit("h2_limits.py: unknown mode %s" % cmd)
