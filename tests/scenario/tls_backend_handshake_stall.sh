#!/usr/bin/env bash
# tls_backend_handshake_stall.sh: a TLS server that accepts the TCP
# connection and never answers the ClientHello (overloaded, or a black
# hole behind another balancer) is a connect that timed out: timeout
# connect ends it and the request goes to another server, a POST too
# (nothing of it was sent).  It used to hold each request for timeout
# server, then answer 504 without trying the healthy server.
set -u
. "${TOPSRC:-$(cd "$(dirname "$0")/../.." && pwd)}/tests/support/lib.sh"

P=$(free_port); MUTE=$(free_port); GOOD=$(free_port); S=$(free_port)
tls_site "$TMPDIR/certs"
python3 "$TOPSRC/tests/scenario/tls_backend.py" "$GOOD" "$TMPDIR/certs/site.pem" >"$TMPDIR/good.log" 2>&1 &
track $!
start_misbehave "$MUTE" hold # accepts, never answers (a TLS ClientHello is no request head: never read as one)
wait_port "$GOOD" 5 || fail "the TLS server did not start"
cat >"$TMPDIR/proxy.conf" <<CONF
workers 1
access-log $TMPDIR/access.log
timeout connect 1s
timeout server 6s
listen 127.0.0.1:$P
stats 127.0.0.1:$S
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
start_proxy "$TMPDIR/proxy.conf" "$P" "$S"

# A client that trickles its upload (8 KB at 1 KB/s) does not hold the
# stalled handshake open: its bytes are no progress of the handshake, which
# ends at timeout connect, not 1 s after the upload's end.
head -c 8000 /dev/zero | tr '\0' u >"$TMPDIR/slow.body"
timeout 20 curl -s -o "$TMPDIR/slow.out" -w '%{http_code}' --limit-rate 1k --data-binary @"$TMPDIR/slow.body" \
    "http://127.0.0.1:$P/" >"$TMPDIR/slow.code" &
slow=$!
track $slow
sleep 2.5
[ "$(stats_get "$S" 'srv("mute")["failures"]')" = 1 ] ||
    fail "2.5 s into a trickled upload the stalled handshake had not timed out (timeout connect 1s)"
wait "$slow"
[ "$(cat "$TMPDIR/slow.code")" = 200 ] && grep -q tls-backend "$TMPDIR/slow.out" ||
    fail "the trickled upload did not reach the healthy server: $(cat "$TMPDIR/slow.code")"
echo "ok: a trickled upload's stalled handshake ends at timeout connect; the upload goes to the other server"

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
