#!/usr/bin/env bash
# tls_hsts_proxy_responses: `tls hsts 180d` puts Strict-Transport-Security
# on every response to a TLS client (CONTRACT 7), the ones the proxy makes
# itself too: a 502 when the server refuses, a 503 when no route matches,
# a 400 for a bad request, as well as the server's 200.  A browser whose
# first visit meets an error page must still learn the policy.
set -u
. "${TOPSRC:-$(cd "$(dirname "$0")/../.." && pwd)}/tests/support/lib.sh"

P=$(free_port); B=$(free_port); DEAD=$(free_port); OWN=$(free_port)
C=$TMPDIR/certs
tls_ca "$C"
tls_cert "$C/site.pem" "localhost"
start_backend "$B" app
# A server with a policy of its own (max-age=0 would turn HSTS off).
python3 -c '
import http.server, sys
class H(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    def do_GET(self):
        self.send_response(200)
        self.send_header("Strict-Transport-Security", "max-age=0")
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"ok")
    def log_message(self, *a):
        pass
http.server.HTTPServer(("127.0.0.1", int(sys.argv[1])), H).serve_forever()
' "$OWN" &
track $!
wait_port "$OWN" 5 || fail "the server with its own HSTS did not start"
cat >"$TMPDIR/proxy.conf" <<CONF
workers 1
access-log off
tls hsts 180d
listen 127.0.0.1:$P tls $C/site.pem
route path /app pool web
route path /dead pool dead
route path /own pool own
pool web {
    check off
    server app 127.0.0.1:$B
}
pool own {
    check off
    server own 127.0.0.1:$OWN
}
pool dead {
    check off
    retries 0
    server gone 127.0.0.1:$DEAD
}
CONF
start_proxy "$TMPDIR/proxy.conf" "$P"

# hsts_of CURL_ARGS...: "STATUS HSTS-VALUE" of one response
hsts_of() {
    curl -s -D - -o /dev/null --max-time 5 --cacert "$C/ca.pem" "$@" |
        tr -d '\r' | awk 'NR == 1 { s = $2 } tolower($1) == "strict-transport-security:" { h = $2 } END { print s, (h ? h : "none") }'
}
ok=$(hsts_of "https://localhost:$P/app")
bad502=$(hsts_of "https://localhost:$P/dead")
bad503=$(hsts_of "https://localhost:$P/nowhere")
# HTTP/1.1: over HTTP/2 (ALPN's default) a bad content-length is a
# malformed stream, reset before any status.
bad400=$(hsts_of --http1.1 -H 'Content-Length: x' "https://localhost:$P/app")
# Over HTTP/1.1, an error before the request is whole (a head over the
# limit): it had no HSTS, over HTTP/2 it had.
bad431=$(hsts_of --http1.1 -H "X-Big: $(head -c 20000 /dev/zero | tr '\0' a)" "https://localhost:$P/app")
# The server's own policy: the proxy's replaces it (both went out, the
# server's first: the one browsers heed).
own=$(curl -s -D - -o /dev/null --max-time 5 --cacert "$C/ca.pem" "https://localhost:$P/own" | tr -d '\r' |
    awk 'tolower($1) == "strict-transport-security:" { printf "%s%s", n++ ? "," : "", $2 }')
echo "measured: server 200: $ok; proxy 502: $bad502; proxy 503 (no route): $bad503; proxy 400: $bad400; proxy 431: $bad431; server with its own: $own"
bad=()
[ "$ok" = "200 max-age=15552000" ] || bad+=("the server's 200: $ok")
[ "$bad502" = "502 max-age=15552000" ] || bad+=("the proxy's 502: $bad502")
[ "$bad503" = "503 max-age=15552000" ] || bad+=("the proxy's 503 (no route): $bad503")
[ "$bad400" = "400 max-age=15552000" ] || bad+=("the proxy's 400: $bad400")
[ "$bad431" = "431 max-age=15552000" ] || bad+=("the proxy's 431 over HTTP/1.1: $bad431")
[ "$own" = "max-age=15552000" ] || bad+=("a server's own Strict-Transport-Security beside the proxy's: $own")
if [ ${#bad[@]} -gt 0 ]; then
    printf 'wrong: %s\n' "${bad[@]}" >&2
    fail "Strict-Transport-Security missing from ${#bad[@]} responses to a TLS client"
fi
echo "PASS: HSTS on the server's responses (replacing a server's own) and on the proxy's own 502, 503, 400 and 431 over TLS"
