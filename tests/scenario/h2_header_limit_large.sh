#!/usr/bin/env bash
# h2_header_limit_large.sh: `limit header-size` above 16k holds for
# HTTP/2 as for HTTP/1.1: with 32k, a request with a 20 KiB cookie is
# served over both (before, HTTP/2 answered 431: each stream's header
# list was packed into a 16 KiB buffer whatever the limit), and one of
# 40 KiB is 431 over both.
set -u
. "${TOPSRC:-$(cd "$(dirname "$0")/../.." && pwd)}/tests/support/lib.sh"

P=$(free_port); B=$(free_port)
start_backend "$B" app
proxy_conf_basic "$TMPDIR/proxy.conf" "$P" "app 127.0.0.1:$B" "workers 1" "limit header-size 32k"
start_proxy "$TMPDIR/proxy.conf" "$P"

cookie() { printf 'Cookie: c=%s' "$(head -c "$1" /dev/zero | tr '\0' x)"; }
for proto in --http1.1 --http2-prior-knowledge; do
    code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 5 "$proto" -H "$(cookie 20000)" "http://127.0.0.1:$P/echo")
    [ "$code" = 200 ] || fail "$proto: a 20 KiB cookie under limit header-size 32k got $code, expected 200"
    code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 5 "$proto" -H "$(cookie 40000)" "http://127.0.0.1:$P/echo")
    [ "$code" = 431 ] || fail "$proto: a 40 KiB cookie over limit header-size 32k got $code, expected 431"
    echo "$proto: 20 KiB cookie 200, 40 KiB cookie 431"
done
kill -0 "$PROXY_PID" || fail "the proxy died"
echo "ok: limit header-size 32k holds alike for HTTP/1.1 and HTTP/2"
