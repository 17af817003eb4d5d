#!/usr/bin/env bash
# scenario: alone
# body_large_upload.sh: large request bodies over plain HTTP/1.1 stream
# through the proxy (CONTRACT section 3: "a large upload ... is never held
# whole in memory"); body_large.sh does the downloads, tls_bodies.sh and
# h2_bodies.sh the uploads over TLS and HTTP/2.  On one keep-alive
# connection: a 128 MiB upload with Content-Length, then a 128 MiB chunked
# one (1 MiB chunks), each read whole by the server (its X-Body-Length),
# each answered 200.  The proxy's RSS, sampled every 100 ms, grows by less
# than 32 MiB: a proxy that held a body whole would grow by 128 MiB.
set -u
. "${TOPSRC:-$(cd "$(dirname "$0")/../.." && pwd)}/tests/support/lib.sh"

P=$(free_port); B=$(free_port)
proxy_conf_basic "$TMPDIR/proxy.conf" "$P" "app1 127.0.0.1:$B" "workers 1" "timeout server 30s"
start_backend "$B" app1
start_proxy "$TMPDIR/proxy.conf" "$P"

cat >"$TMPDIR/upload.py" <<'PY'
# upload.py PORT MIB: a Content-Length upload then a chunked one, MIB MiB
# each, on one connection; prints one line per upload: status and the
# server's X-Body-Length.
import socket, sys
port, mib = int(sys.argv[1]), int(sys.argv[2])
block = bytes(range(256)) * 4096          # 1 MiB
s = socket.create_connection(("127.0.0.1", port), timeout=30)
f = s.makefile("rb")
def answer():
    status = f.readline().split()[1].decode()
    length = body_len = None
    while True:
        line = f.readline()
        if line in (b"\r\n", b""):
            break
        k, v = line.decode().split(":", 1)
        if k.lower() == "x-body-length":
            length = int(v)
        if k.lower() == "content-length":
            body_len = int(v)
    if body_len:
        f.read(body_len)
    return status, length
size = mib * len(block)
s.sendall(b"POST /up-cl HTTP/1.1\r\nHost: t\r\nContent-Length: %d\r\n\r\n" % size)
for _ in range(mib):
    s.sendall(block)
print("content-length %s %s" % answer())
s.sendall(b"POST /up-chunked HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n")
for _ in range(mib):
    s.sendall(b"%x\r\n" % len(block) + block + b"\r\n")
s.sendall(b"0\r\n\r\n")
print("chunked %s %s" % answer())
PY

MIB=128
python3 "$TMPDIR/upload.py" "$P" "$MIB" >"$TMPDIR/upload.out" 2>&1 &
peak_rss_while $!
rc=$PID_RC
out=$(cat "$TMPDIR/upload.out")
growth=$(((PEAK_RSS - RSS_START) / 1024))
echo "measured: $MIB MiB up with Content-Length, then chunked: $(echo "$out" | tr '\n' ';') (exit $rc); RSS $((RSS_START / 1024)) MiB, peak +$growth MiB"
[ "$rc" = 0 ] || fail "the uploads failed: $out"
want=$((MIB * 1024 * 1024))
[ "$(sed -n 1p "$TMPDIR/upload.out")" = "content-length 200 $want" ] || fail "Content-Length upload: $out"
[ "$(sed -n 2p "$TMPDIR/upload.out")" = "chunked 200 $want" ] || fail "chunked upload: $out"
# Not under AddressSanitizer: its quarantine keeps freed memory.
if proxy_has_asan; then
    echo "RSS not checked: $PROXY is built with AddressSanitizer"
else
    [ "$growth" -lt 32 ] || fail "the proxy's RSS grew by $growth MiB while streaming $MIB MiB uploads (held whole?)"
fi
echo "PASS: $MIB MiB uploads (Content-Length and chunked) streamed, RSS +$growth MiB"
