#!/usr/bin/env bash
# h2_basic: HTTP/2 to clients (CONTRACT 8, issue 17, first stage).
#   - plaintext, prior knowledge: curl --http2-prior-knowledge speaks HTTP/2
#     (the preface picks it) while HTTP/1.1 keeps working on the same port;
#   - TLS: curl --http2 gets h2 by ALPN on a listener whose alpn list holds
#     h2 and on one with no alpn given (the default, h2,http/1.1), and
#     HTTP/1.1 on a TLS listener whose list leaves h2 out;
#   - the server gets an HTTP/1.1 request: Host from :authority, the
#     cookies joined with "; ", X-Forwarded-For and X-Forwarded-Proto;
#   - response fields arrive lowercased without Connection or
#     Transfer-Encoding; HEAD, 204 and 304 end without a DATA frame;
#   - hop-by-hop request fields reset their stream (PROTOCOL_ERROR),
#     CONNECT gets 501, and the connection's other streams go on;
#   - limit body-size answers 413 on the stream, sized body or not;
#   - the access log writes "HTTP/2.0"; /api/stats counts connections.http2
#     and streams, /metrics has proxy_connections_http2.
set -u
. "${TOPSRC:-$(cd "$(dirname "$0")/../.." && pwd)}/tests/support/lib.sh"
command -v nghttp >/dev/null || fail "nghttp is not installed (Debian package nghttp2-client)"
need_python_h2

P=$(free_port); T=$(free_port); T1=$(free_port); T2=$(free_port); S=$(free_port); B=$(free_port)
C=$TMPDIR/certs
tls_site "$C"
start_backend "$B" app
cat >"$TMPDIR/proxy.conf" <<CONF
workers 2
access-log stderr
limit body-size 1m
listen 127.0.0.1:$P
listen 127.0.0.1:$T tls $C/site.pem alpn h2,http/1.1
listen 127.0.0.1:$T1 tls $C/site.pem alpn http/1.1
listen 127.0.0.1:$T2 tls $C/site.pem
stats 127.0.0.1:$S
pool web {
    check off
    server app 127.0.0.1:$B
}
CONF
start_proxy "$TMPDIR/proxy.conf" "$P" "$T" "$T1" "$T2" "$S"

CURL=(curl -s --max-time 5)
v=$("${CURL[@]}" --http2-prior-knowledge -o /dev/null -w '%{http_version} %{http_code}' "http://127.0.0.1:$P/a")
[ "$v" = "2 200" ] || fail "prior knowledge on plaintext: got '$v', expected '2 200'"
v=$("${CURL[@]}" -o /dev/null -w '%{http_version} %{http_code}' "http://127.0.0.1:$P/b")
[ "$v" = "1.1 200" ] || fail "HTTP/1.1 beside HTTP/2 on the plaintext port: got '$v'"
v=$("${CURL[@]}" --http2 --cacert "$C/ca.pem" -o /dev/null -w '%{http_version} %{http_code}' "https://localhost:$T/c")
[ "$v" = "2 200" ] || fail "ALPN h2 on the TLS listener listing h2: got '$v'"
v=$("${CURL[@]}" --http2 --cacert "$C/ca.pem" -o /dev/null -w '%{http_version} %{http_code}' "https://localhost:$T1/d")
[ "$v" = "1.1 200" ] || fail "a TLS listener without h2 in its alpn list must stay HTTP/1.1: got '$v'"
v=$("${CURL[@]}" --cacert "$C/ca.pem" -o /dev/null -w '%{http_version} %{http_code}' "https://localhost:$T2/d2")
[ "$v" = "2 200" ] || fail "a TLS listener with no alpn given offers h2 first (CONTRACT 7): got '$v'"
v=$("${CURL[@]}" --http1.1 --cacert "$C/ca.pem" -o /dev/null -w '%{http_version} %{http_code}' "https://localhost:$T/e")
[ "$v" = "1.1 200" ] || fail "HTTP/1.1 by ALPN on the h2 listener: got '$v'"

# What the server receives (/echo sends the request head back).
echo=$("${CURL[@]}" --http2-prior-knowledge -H 'cookie: a=1' -H 'cookie: b=2' "http://127.0.0.1:$P/echo?x=1")
echo "$echo" | grep -q $'^GET /echo?x=1 HTTP/1.1\r$' || fail "request line to the server: $echo"
echo "$echo" | grep -q $'^Host: 127.0.0.1:'"$P"$'\r$' || fail ":authority did not become Host: $echo"
echo "$echo" | grep -q $'^Cookie: a=1; b=2\r$' || fail "cookies not joined with '; ': $echo"
echo "$echo" | grep -qi $'^X-Forwarded-For: 127.0.0.1\r$' || fail "no X-Forwarded-For: $echo"
tls_echo=$("${CURL[@]}" --http2 --cacert "$C/ca.pem" "https://localhost:$T/echo")
echo "$tls_echo" | grep -qi $'^X-Forwarded-Proto: https\r$' || fail "no X-Forwarded-Proto https over h2: $tls_echo"

# The response head: lowercased, no hop-by-hop fields (the backend sends
# Transfer-Encoding: chunked and Connection: close here).
head=$("${CURL[@]}" --http2-prior-knowledge -D - -o /dev/null "http://127.0.0.1:$P/?chunked=1&close=1&size=100")
echo "$head" | grep -q '^x-server: app' || fail "response fields are not lowercased: $head"
echo "$head" | grep -qi '^transfer-encoding\|^connection' && fail "hop-by-hop fields in an HTTP/2 response: $head"

# HEAD, 204, 304: HEADERS with END_STREAM, no DATA frame.
for url in "/?status=204" "/?status=304"; do
    out=$(nghttp -v "http://127.0.0.1:$P$url" 2>&1)
    echo "$out" | grep -q ":status: ${url##*=}" || fail "$url: no :status ${url##*=}: $out"
    echo "$out" | grep -q 'recv DATA' && fail "$url: a DATA frame was sent: $out"
done
out=$(nghttp -v -H ':method: HEAD' "http://127.0.0.1:$P/?size=1000" 2>&1)
echo "$out" | grep -q ':status: 200' || fail "HEAD: no 200: $out"
echo "$out" | grep -q 'recv DATA' && fail "HEAD: a DATA frame was sent: $out"

# Malformed requests are reset on their own stream, CONNECT is refused,
# and the connection goes on.
out=$($PY "$TOPSRC/tests/scenario/h2_client.py" malformed "$P")
want=$'stream 1 status=501\nstream 3 reset=PROTOCOL_ERROR\nstream 5 reset=PROTOCOL_ERROR\nstream 7 status=200'
[ "$out" = "$want" ] || fail "malformed requests: got '$out', expected '$want'"

# limit body-size on a stream: 413 whether the body is sized or not, and
# the client gets it (the rest of its upload is taken and dropped).
head -c 2000000 /dev/zero >"$TMPDIR/2m.bin"
v=$("${CURL[@]}" --http2-prior-knowledge -X POST --data-binary @"$TMPDIR/2m.bin" -o /dev/null -w '%{http_code}' "http://127.0.0.1:$P/")
[ "$v" = 413 ] || fail "a 2 MB upload (limit body-size 1m) got '$v', expected 413"
v=$("${CURL[@]}" --http2-prior-knowledge -X POST -T - -o /dev/null -w '%{http_code}' "http://127.0.0.1:$P/" <"$TMPDIR/2m.bin")
[ "$v" = 413 ] || fail "a 2 MB upload without content-length got '$v', expected 413"
v=$(head -c 100000 /dev/zero | "${CURL[@]}" --http2-prior-knowledge -X POST -T - -o /dev/null -w '%{http_code}' "http://127.0.0.1:$P/")
[ "$v" = 200 ] || fail "a 100 kB upload got '$v'"

grep -q '"GET /a HTTP/2.0" 200' "$TMPDIR/proxy.log" || fail "the access log does not say HTTP/2.0"
grep -q '"GET /b HTTP/1.1" 200' "$TMPDIR/proxy.log" || fail "the access log lost the HTTP/1.1 request"
total=$(stats_get "$S" 'j["connections"]["http2_total"]')
[ "$total" -ge 8 ] || fail "connections.http2_total is $total, expected at least 8"
active=$(stats_get "$S" 'j["streams"]["active"]')
[ "$active" = 0 ] || fail "streams.active is $active with nothing in flight"
# listeners[].http2: plaintext (prior knowledge), alpn h2,http/1.1, alpn
# http/1.1, the default list.
l=$(stats_get "$S" '" ".join("yes" if l["http2"] else "no" for l in j["listeners"])')
[ "$l" = "yes yes no yes" ] || fail "listeners[].http2 is '$l', expected 'yes yes no yes'"
curl -s "http://127.0.0.1:$S/metrics" | grep -q '^proxy_connections_http2 ' || fail "no proxy_connections_http2 in /metrics"
echo "h2_basic: prior knowledge, ALPN, conversions, HEAD/204/304 and stats ok (http2 connections: $total)"
