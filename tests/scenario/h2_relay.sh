#!/usr/bin/env bash
# h2_relay: what an HTTP/2 stream relays besides a head and a body
# (CONTRACT 8, issue 17), over prior knowledge and over TLS on a listener
# with no alpn given (the default list, h2,http/1.1):
#   - a 103 Early Hints and its Link fields arrive as a HEADERS frame
#     without END_STREAM, before the final response and as soon as the
#     server sent it (the final one comes 300 ms later);
#   - expect: 100-continue: the 100 comes back at once (the client sends
#     its body only then), and the body reaches the server whole;
#   - a chunked response's trailers arrive as a HEADERS frame with
#     END_STREAM after the DATA (also after 300 kB of body), names
#     lowercased, without the Keep-Alive and Content-Length the server put
#     there nor the field its head's Connection names; a HEAD of it ends
#     with the HEADERS frame;
#   - request trailers (te: trailers, gRPC style): the server gets them in
#     its chunked body's trailer section (not the authorization field,
#     which may not trail); with content-length they are dropped;
#   - nine 103s from a server: the eight allowed are relayed, then the
#     proxy's 502 as the final response of that stream; a server's 101
#     never reaches the client (502);
#   - a chunked body the server cuts short resets the stream
#     (INTERNAL_ERROR) instead of ending it as if whole;
#   - so does a trailer section with a folded line (obs-fold): its body
#     arrives, not its trailer fields; a stream beside it on the same
#     connection ends whole, with its trailers, and the connection takes
#     another stream after;
#   - an HTTP/1.1 client gets the same 103 and trailers;
#   - the access log writes HTTP/2.0 for these streams, plaintext and TLS.
set -u
. "${TOPSRC:-$(cd "$(dirname "$0")/../.." && pwd)}/tests/support/lib.sh"
command -v nghttp >/dev/null || fail "nghttp is not installed (Debian package nghttp2-client)"
need_python_h2
H2="$PY $TOPSRC/tests/scenario/h2_relay.py"

P=$(free_port); T=$(free_port); B=$(free_port); MI=$(free_port); MC=$(free_port); MF=$(free_port)
C=$TMPDIR/certs
mkdir -p "$C"
tls_site "$C"
start_backend "$B" app
start_misbehave "$MI" interim --count 9
start_misbehave "$MC" cut-chunked
start_misbehave "$MF" folded-trailer
cat >"$TMPDIR/proxy.conf" <<CONF
workers 1
access-log stderr
listen 127.0.0.1:$P
listen 127.0.0.1:$T tls $C/site.pem
route path /interim/ pool interim
route path /cut/ pool cut
route path /fold/ pool fold
route default pool web
pool web {
    check off
    server app 127.0.0.1:$B
}
pool interim {
    check off
    server mis 127.0.0.1:$MI
}
pool cut {
    check off
    retries 0
    server mis 127.0.0.1:$MC
}
pool fold {
    check off
    retries 0
    server mis 127.0.0.1:$MF
}
CONF
start_proxy "$TMPDIR/proxy.conf" "$P" "$T"
CURL=(curl -s --max-time 10 --cacert "$C/ca.pem")

# ---- 103 Early Hints -----------------------------------------------------------------------
out=$($H2 get "$P" '/?hints=1&delay=300')
echo "$out"
first=$(echo "$out" | sed -n 1p)
[ "$first" = "informational status=103 link=</style.css>; rel=preload; as=style link=</app.js>; rel=preload; as=script" ] ||
    fail "the 103 and its Link fields did not come first: $out"
echo "$out" | sed -n 2p | grep -q '^response status=200 end=0' || fail "no final 200 after the 103: $out"
# Frame by frame (nghttp -v): the 103's HEADERS has END_HEADERS only
# (flags 0x04), and it came well before the final one (delay=300).
frames=$(nghttp -v "http://127.0.0.1:$P/?hints=1&delay=300" | grep -E 'recv (HEADERS|DATA) frame')
echo "$frames"
t103=$(echo "$frames" | sed -n 1p | sed -n 's/^\[ *\([0-9.]*\)\] recv HEADERS frame <.*flags=0x04,.*/\1/p')
t200=$(echo "$frames" | sed -n 2p | sed -n 's/^\[ *\([0-9.]*\)\] recv HEADERS frame .*/\1/p')
[ -n "$t103" ] && [ -n "$t200" ] || fail "nghttp did not see a HEADERS frame without END_STREAM, then another: $frames"
awk -v a="$t103" -v b="$t200" 'BEGIN { exit !(b - a >= 0.2) }' ||
    fail "the 103 waited for the final response (103 at ${t103}s, 200 at ${t200}s)"
# Over TLS with curl's defaults (ALPN picks h2), and to an HTTP/1.1 client.
h=$("${CURL[@]}" -D - -o /dev/null "https://localhost:$T/?hints=1" | tr -d '\r')
echo "$h" | sed -n 1p | grep -q '^HTTP/2 103' || fail "curl over TLS (default ALPN) got no HTTP/2 103 first: $h"
echo "$h" | grep -q '^link: </app.js>; rel=preload; as=script$' || fail "the 103's Link fields are missing over TLS: $h"
echo "$h" | grep -q '^HTTP/2 200' || fail "no final HTTP/2 200 over TLS: $h"
h=$("${CURL[@]}" --http1.1 -D - -o /dev/null "http://127.0.0.1:$P/?hints=1" | tr -d '\r')
echo "$h" | sed -n 1p | grep -q '^HTTP/1.1 103 Early Hints' || fail "an HTTP/1.1 client lost the 103: $h"

# Nine 103s: eight relayed (INTERIM_MAX), then the proxy's 502.
out=$($H2 get "$P" /interim/x)
echo "$out" | sed 's/link=.*/link=.../'
[ "$(echo "$out" | grep -c '^informational status=103 link=</style.css>')" = 8 ] || fail "not eight 103s relayed: $out"
echo "$out" | grep -q '^response status=502 ' || fail "no 502 after the ninth 103: $out"

# A 101 is never relayed on HTTP/2 (no upgrade there): the client gets 502.
out=$($H2 get "$P" '/?status=101')
echo "$out"
[ "$(echo "$out" | sed -n 1p | cut -d' ' -f1-2)" = "response status=502" ] || fail "a server's 101 reached an HTTP/2 client: $out"

# ---- 100 Continue ------------------------------------------------------------------------------
out=$($H2 continue "$P" 200000)
echo "$out"
echo "$out" | sed -n 1p | grep -q '^informational status=100$' || fail "no 100 Continue on the stream: $out"
ms=$(echo "$out" | sed -n 's/^100 after \([0-9]*\) ms$/\1/p')
[ -n "$ms" ] && [ "$ms" -lt 1000 ] || fail "the 100 Continue did not come at once: $out"
echo "$out" | grep -q '^response status=200 end=0 x-body-length=200000' || fail "the body did not reach the server whole: $out"
# curl waits up to 1 s for the 100 before sending (the old build: 1.01 s).
head -c 200000 /dev/urandom >"$TMPDIR/up.bin"
r=$("${CURL[@]}" --http2-prior-knowledge -H 'Expect: 100-continue' --data-binary @"$TMPDIR/up.bin" -D - -o /dev/null \
    -w 'took=%{time_total}\n' "http://127.0.0.1:$P/" | tr -d '\r')
echo "$r" | grep -E '^(HTTP|took|x-body)'
echo "$r" | sed -n 1p | grep -q '^HTTP/2 100' || fail "curl got no HTTP/2 100: $r"
echo "$r" | grep -q '^x-body-length: 200000$' || fail "curl's upload after the 100 did not arrive whole: $r"
took=$(echo "$r" | sed -n 's/^took=//p')
awk -v t="$took" 'BEGIN { exit !(t < 0.9) }' || fail "curl waited ${took}s for a 100 Continue it should have had at once"

# ---- response trailers ---------------------------------------------------------------------------
for q in 'chunked=1&trailers=1' 'size=300000&chunked=1&trailers=1'; do
    out=$($H2 get "$P" "/?$q")
    echo "$out"
    want_bytes=$([ "${q#size=}" != "$q" ] && echo 300000 || echo 4)
    echo "$out" | grep -q "^data bytes=$want_bytes$" || fail "$q: the body did not arrive whole: $out"
    echo "$out" | grep -q '^trailers end=1 grpc-status=0 x-checksum=app-sum$' ||
        fail "$q: no trailers HEADERS (END_STREAM; grpc-status and x-checksum only): $out"
    [ "$(echo "$out" | tail -n 1)" = ended ] || fail "$q: the stream did not end after its trailers: $out"
done
frames=$(nghttp -v "http://127.0.0.1:$P/?chunked=1&trailers=1" | grep -E 'recv (HEADERS|DATA) frame')
echo "$frames"
echo "$frames" | tail -n 1 | grep -q 'recv HEADERS frame <.*flags=0x05,' ||
    fail "the last frame is not a HEADERS with END_STREAM|END_HEADERS: $frames"
echo "$frames" | grep 'recv DATA' | grep -q 'flags=0x01' && fail "a DATA frame ended the stream before the trailers: $frames"
h=$("${CURL[@]}" -D - -o /dev/null "https://localhost:$T/?chunked=1&trailers=1" | tr -d '\r')
echo "$h" | grep -q '^grpc-status: 0$' || fail "curl over TLS got no grpc-status trailer: $h"
echo "$h" | grep -qi '^keep-alive\|^content-length: 12' && fail "a hop-by-hop or framing trailer went through: $h"
v=$("${CURL[@]}" --http2-prior-knowledge -I -o /dev/null -w '%{http_code} %{size_download}' \
    "http://127.0.0.1:$P/?chunked=1&trailers=1")
[ "$v" = "200 0" ] || fail "HEAD of a chunked response with trailers: '$v'"
h=$("${CURL[@]}" --http1.1 -D - -o /dev/null "http://127.0.0.1:$P/?chunked=1&trailers=1" | tr -d '\r')
echo "$h" | grep -q '^Grpc-Status: 0$' || fail "an HTTP/1.1 client lost the trailers: $h"
echo "$h" | grep -qi '^x-backend-private' && fail "an HTTP/1.1 client got a trailer the head's Connection names: $h"

# A chunked body cut short by the server: the stream is reset, not ended.
out=$($H2 get "$P" /cut/x)
echo "$out"
echo "$out" | grep -q '^response status=200 end=0' || fail "the cut response's head did not arrive: $out"
[ "$(echo "$out" | tail -n 1)" = "reset error=INTERNAL_ERROR" ] ||
    fail "a body cut short by the server ended its stream as if whole: $out"

# A folded line (obs-fold) in the trailer section: the stream is reset
# after the body, the folded field never sent; the stream beside it (300 kB
# and trailers from the app server) and the connection are not hurt.
out=$($H2 beside "$P" /fold/x '/?size=300000&chunked=1&trailers=1')
echo "$out"
echo "$out" | grep -q '^bad: response status=200 end=0' || fail "the folded response's head did not arrive: $out"
echo "$out" | grep -q '^bad: data bytes=5$' || fail "the folded response's body did not arrive: $out"
echo "$out" | grep -q '^bad: trailers' && fail "a folded trailer section reached the HTTP/2 client: $out"
echo "$out" | grep -qi 'x-sum\|folded' && fail "the folded field reached the HTTP/2 client: $out"
[ "$(echo "$out" | grep '^bad: ' | tail -n 1)" = "bad: reset error=INTERNAL_ERROR" ] ||
    fail "a folded trailer section ended its stream as if whole: $out"
echo "$out" | grep -q '^good: data bytes=300000$' || fail "the stream beside the folded one lost its body: $out"
echo "$out" | grep -q '^good: trailers end=1 grpc-status=0 x-checksum=app-sum$' ||
    fail "the stream beside the folded one lost its trailers: $out"
[ "$(echo "$out" | grep '^good: ' | tail -n 1)" = "good: ended" ] || fail "the stream beside the folded one did not end: $out"
[ "$(echo "$out" | grep '^after: ' | tail -n 1)" = "after: ended" ] ||
    fail "the connection did not take a stream after the folded one: $out"
grep -q 'response from fold/mis: a folded trailer line (obs-fold)' "$TMPDIR/proxy.log" ||
    fail "the folded trailer line is not logged as the server's fault"

# ---- request trailers -----------------------------------------------------------------------------
out=$($H2 trailers "$P" chunked)
echo "$out"
echo "$out" | grep -q '^response status=200 end=0 x-body-length=5 x-request-trailers=x-checksum: 42 | grpc-timeout: 1S content-length' ||
    fail "the server did not get the request trailers in its chunked body (or got authorization): $out"
out=$($H2 trailers "$P" sized)
echo "$out"
echo "$out" | grep -q '^response status=200 end=0 x-body-length=5 content-length' ||
    fail "a sized body with trailers did not reach the server as 5 bytes without trailers: $out"

# ---- the access log --------------------------------------------------------------------------------
grep -q '"GET /?hints=1&delay=300 HTTP/2.0" 200' "$TMPDIR/proxy.log" || fail "no HTTP/2.0 line for the 103 request"
grep -q '"GET /?hints=1 HTTP/2.0" 200 .* tls=TLSv1.3' "$TMPDIR/proxy.log" || fail "no HTTP/2.0 line for the TLS stream"
grep -q '"POST / HTTP/2.0" 200' "$TMPDIR/proxy.log" || fail "no HTTP/2.0 line for the uploads"
grep -q '"GET /?hints=1 HTTP/1.1" 200' "$TMPDIR/proxy.log" || fail "the HTTP/1.1 request is not logged as HTTP/1.1"
echo "h2_relay: 103 and 100 relayed before the final response, trailers both ways (a folded section reset), HTTP/2.0 in the access log"
