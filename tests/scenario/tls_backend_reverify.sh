#!/usr/bin/env bash
# tls_backend_reverify.sh: a reload that changes whom a pool trusts (here
# from `tls ca none` to a CA that did not sign the server's certificate,
# then to the one that did) applies to the next request: neither a saved
# TLS session nor an idle connection from before carries the old trust.
#
# Before, a server that stayed over the reload kept its saved sessions and
# idle connections, and only TLS on/off was compared: a resumed handshake
# checks no certificate, so the proxy went on talking to a server the new
# settings refuse (every request 200, the server saw resumptions).
#   1. a server that closes after each response (each request a new
#      handshake, resumed from the saved session);
#   2. a keep-alive server (the request goes over the idle connection).
set -u
. "${TOPSRC:-$(cd "$(dirname "$0")/../.." && pwd)}/tests/support/lib.sh"

C=$TMPDIR/certs
tls_ca "$C" good
tls_ca "$C" other
tls_cert "$C/server.pem" "localhost" ec 30 "$C/good"
P=$(free_port)

write_conf() { # PORT TLS-CA
    cat >"$TMPDIR/proxy.conf" <<CONF
workers 1
access-log off
listen 127.0.0.1:$P
pool web {
    check off
    tls ca $2
    tls sni localhost
    server s1 127.0.0.1:$1
}
CONF
}
get() { curl -s -o "$TMPDIR/body" -w '%{http_code}' --max-time 5 "http://127.0.0.1:$P/"; }
hup() { # the generation the reload must reach
    kill -HUP "$PROXY_PID"
    wait_for 5 grep -q "generation $1" "$TMPDIR/proxy.log" || fail "reload to generation $1 not done"
}

gen=1
for mode in close keepalive; do
    TB=$(free_port)
    python3 "$TOPSRC/tests/scenario/tls_backend.py" "$TB" "$C/server.pem" - \
        "$([ $mode = keepalive ] && echo keepalive)" >"$TMPDIR/tlsb-$mode.log" 2>&1 &
    TBP=$!
    track "$TBP"
    wait_port "$TB" 5 "$TBP" || fail "TLS backend did not start"
    write_conf "$TB" none
    if [ $mode = close ]; then
        start_proxy "$TMPDIR/proxy.conf" "$P"
    else
        gen=$((gen + 1)); hup $gen
    fi
    for i in 1 2 3; do
        code=$(get)
        [ "$code" = 200 ] || fail "$mode: request $i with tls ca none: $code"
    done
    echo "$mode: tls ca none: 200, $(cat "$TMPDIR/body")"

    write_conf "$TB" "$C/other.pem"
    gen=$((gen + 1)); hup $gen
    for i in 1 2; do
        code=$(get)
        [ "$code" = 502 ] || fail "$mode: request $i after the reload to a CA that did not sign the server: $code $(cat "$TMPDIR/body") (a session or connection from before the reload was used)"
    done
    echo "$mode: tls ca other.pem: 502"

    write_conf "$TB" "$C/good.pem"
    gen=$((gen + 1)); hup $gen
    code=$(get)
    [ "$code" = 200 ] || fail "$mode: after the reload to the CA that signed the server: $code"
    code=$(get)
    body=$(cat "$TMPDIR/body")
    [ "$code" = 200 ] || fail "$mode: second request with the right CA: $code"
    if [ $mode = close ]; then
        # An unchanged trust keeps resumption.
        case $body in *reused=True*) ;; *) fail "close: the second request with the right CA did not resume: $body" ;; esac
    fi
    echo "$mode: tls ca good.pem: 200, $body"
    stop_pid "$TBP"
done
echo "ok: a change of the pool's CA applies to the next request, sessions and idle connections included"
