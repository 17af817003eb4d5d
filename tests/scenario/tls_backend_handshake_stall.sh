#!/usr/bin/env bash
# tls_backend_handshake_stall.sh: a TLS server that accepts the TCP
# connection and never answers the ClientHello (overloaded, or a black
# hole behind another balancer) is a connect that timed out: timeout
# connect ends it and the request goes to another server, a POST too
# (nothing of it was sent).  It used to hold each request for timeout
# server, then answer 504 without trying the healthy server.
set -u
. "${TOPSRC:-$(cd "$(dirname "$0")/../.." && pwd)}/tests/support/lib.sh"

P=$(free_port); MUTE=$(free_port); GOOD=$(free_port)
tls_site "$TMPDIR/certs"
python3 "$TOPSRC/tests/scenario/tls_backend.py" "$GOOD" "$TMPDIR/certs/site.pem" >"$TMPDIR/good.log" 2>&1 &
track $!
python3 -c '
import sys
sys.path.insert(0, sys.argv[2])
from raw_http import mute
mute(int(sys.argv[1]))
' "$MUTE" "$TOPSRC/tests/scenario" &
track $!
wait_port "$GOOD" 5 || fail "the TLS server did not start"
wait_port "$MUTE" 5 || fail "the mute server did not start"
cat >"$TMPDIR/proxy.conf" <<CONF
workers 1
access-log $TMPDIR/access.log
timeout connect 1s
timeout server 6s
listen 127.0.0.1:$P
pool web {
    check off
    balance round-robin
    retries 1
    tls ca $TMPDIR/certs/ca.pem
    tls sni localhost
    server mute 127.0.0.1:$MUTE
    server good 127.0.0.1:$GOOD
}
CONF
start_proxy "$TMPDIR/proxy.conf" "$P"

for req in "GET" "POST"; do
    for i in 1 2; do
        args=()
        [ "$req" = POST ] && args=(-d "order=$i")
        out=$(timeout 20 curl -s -o "$TMPDIR/body" -w "%{http_code} %{time_total}" "${args[@]}" "http://127.0.0.1:$P/") ||
            fail "$req $i: curl failed: $out"
        echo "$req $i: $out"
        [ "${out% *}" = 200 ] || fail "$req $i: got ${out% *}, not the healthy server's 200"
        grep -q "tls-backend" "$TMPDIR/body" || fail "$req $i: not the healthy server's body"
        python3 -c 'import sys; sys.exit(0 if float(sys.argv[1]) < 4 else 1)' "${out#* }" ||
            fail "$req $i: took ${out#* } s: the stalled handshake was not ended by timeout connect (1s)"
    done
done
grep -q "TLS handshake timeout" "$TMPDIR/proxy.log" || fail "the log does not say: TLS handshake timeout"
echo "ok: a stalled TLS handshake ends at timeout connect and the request goes to the other server"
