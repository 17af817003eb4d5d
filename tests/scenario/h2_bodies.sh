#!/usr/bin/env bash
# scenario: alone
# h2_bodies: large bodies both ways over HTTP/2, streamed under flow control.
#   - downloads of 5 MB framed by Content-Length, chunked and delimited by
#     the server's close arrive byte for byte (md5) as DATA frames, over
#     plaintext and TLS, and several at once on one connection;
#   - uploads of 3 MB with and without content-length (curl -T - sends
#     none: the proxy sends it chunked) reach the server whole
#     (X-Body-Length), over plaintext and TLS;
#   - `http2 window 16k` (a small stream window) still moves them, and
#     takes what a client sends in the default window before our SETTINGS
#     (a large cookie beside, or in 8-byte DATA frames);
#   - a stream whose client never reads it (its window shut) does not hold
#     up another stream of the same connection;
#   - the worker's memory stays bounded: nothing buffers a body whole.
set -u
. "${TOPSRC:-$(cd "$(dirname "$0")/../.." && pwd)}/tests/support/lib.sh"
need_python_h2

P=$(free_port); T=$(free_port); B=$(free_port)
C=$TMPDIR/certs
tls_site "$C"
start_backend "$B" app
cat >"$TMPDIR/proxy.conf" <<CONF
workers 1
access-log stderr
http2 window 16k
listen 127.0.0.1:$P
listen 127.0.0.1:$T tls $C/site.pem alpn h2,http/1.1
pool web {
    check off
    server app 127.0.0.1:$B
}
CONF
start_proxy "$TMPDIR/proxy.conf" "$P" "$T"

CURL=(curl -s --max-time 20)
for q in "size=5000000" "size=5000000&chunked=1" "size=5000000&close=1"; do
    want=$("${CURL[@]}" "http://127.0.0.1:$B/?$q" | md5sum)
    got=$("${CURL[@]}" --http2-prior-knowledge "http://127.0.0.1:$P/?$q" | md5sum)
    [ "$want" = "$got" ] || fail "download $q differs over HTTP/2 (plaintext)"
    got=$("${CURL[@]}" --http2 --cacert "$C/ca.pem" "https://localhost:$T/?$q" | md5sum)
    [ "$want" = "$got" ] || fail "download $q differs over HTTP/2 (TLS)"
done
# Four large bodies interleaved on one connection (curl multiplexes
# parallel transfers over HTTP/2).
want=$("${CURL[@]}" "http://127.0.0.1:$B/?size=3000000" | md5sum)
"${CURL[@]}" --http2-prior-knowledge --parallel --parallel-immediate \
    -o "$TMPDIR/p1" "http://127.0.0.1:$P/?size=3000000&a" -o "$TMPDIR/p2" "http://127.0.0.1:$P/?size=3000000&chunked=1&b" \
    -o "$TMPDIR/p3" "http://127.0.0.1:$P/?size=3000000&c" -o "$TMPDIR/p4" "http://127.0.0.1:$P/?size=3000000&close=1&d" ||
    fail "curl --parallel failed"
for f in p1 p2 p3 p4; do
    [ "$(md5sum <"$TMPDIR/$f")" = "$want" ] || fail "concurrent stream $f did not arrive whole"
done

# A stream whose client never opens its window does not hold up another
# stream of the same connection.
out=$($PY "$TOPSRC/tests/scenario/h2_client.py" stalled-stream "$P")
echo "$out"
echo "$out" | grep -q '^stream 3 bytes=100000 ended$' || fail "a stalled stream held up its neighbour: $out"

# Uploads sent before the client has our SETTINGS, in the protocol's
# default window (65535, more than `http2 window 16k`): with a 1.5 kB
# cookie, and in 8-byte DATA frames (framed one chunk per frame they
# overflowed the stream's buffer): each was reset FLOW_CONTROL_ERROR.
for args in "16384 60000 1500" "8 60000"; do
    # shellcheck disable=SC2086 # FRAME TOTAL [COOKIE]
    out=$($PY "$TOPSRC/tests/scenario/h2_client.py" early-upload "$P" $args)
    echo "early upload ($args): $out"
    echo "$out" | grep -q '^status=200 body-length=60000$' || fail "an upload within the client's window was refused: $out"
done

head -c 3000000 /dev/urandom >"$TMPDIR/up.bin"
for how in sized chunked; do
    for url in "http://127.0.0.1:$P/" "https://localhost:$T/"; do
        if [ "$how" = sized ]; then
            r=$("${CURL[@]}" --http2-prior-knowledge --cacert "$C/ca.pem" -X POST --data-binary @"$TMPDIR/up.bin" \
                -D - -o /dev/null "$url")
        else
            r=$("${CURL[@]}" --http2-prior-knowledge --cacert "$C/ca.pem" -X POST -T - -D - -o /dev/null \
                "$url" <"$TMPDIR/up.bin")
        fi
        echo "$r" | grep -q '^HTTP/2 200' || fail "upload ($how) to $url: not an HTTP/2 200: $r"
        echo "$r" | grep -qi $'^x-body-length: 3000000\r$' || fail "upload ($how) to $url did not arrive whole: $r"
    done
done
rss=$(awk '/VmRSS/ { print $2 }' "/proc/$PROXY_PID/status")
echo "proxy RSS after the transfers: ${rss} KiB"
[ "$rss" -lt 100000 ] || fail "the proxy holds ${rss} KiB after moving bodies (buffered whole?)"
grep -q '"POST / HTTP/2.0" 200' "$TMPDIR/proxy.log" || fail "the uploads are not in the access log as HTTP/2.0"
echo "h2_bodies: 5 MB downloads (length, chunked, close) and 3 MB uploads (sized, chunked) whole over h2"
