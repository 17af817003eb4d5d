#!/usr/bin/env bash
# tls_backend_slow_handshake.sh: a TLS server that answers its handshake
# late (0.3 s here: a slow or distant server) costs the proxy no CPU while
# it waits.  Before, the write of the ClientHello waited to read, the fd
# was polled for writing as well, and the proxy tried SSL_write in a busy
# loop for the whole wait: 0.89 s of CPU for three such connections.
set -u
. "${TOPSRC:-$(cd "$(dirname "$0")/../.." && pwd)}/tests/support/lib.sh"

C=$TMPDIR/certs
tls_ca "$C" testca
tls_cert "$C/server-full.pem" "localhost,127.0.0.1" ec 30 "$C/testca"
TB=$(free_port); P=$(free_port)
python3 "$TOPSRC/tests/scenario/tls_backend.py" "$TB" "$C/server-full.pem" - slow-handshake >"$TMPDIR/tlsb.log" 2>&1 &
TBP=$!
track "$TBP"
wait_port "$TB" 5 "$TBP" || fail "TLS backend did not start"
proxy_conf_basic "$TMPDIR/proxy.conf" "$P" "s1 127.0.0.1:$TB" "workers 1"
sed -i "s|^    check off|    check off\n    tls ca $C/testca.pem|" "$TMPDIR/proxy.conf"
start_proxy "$TMPDIR/proxy.conf" "$P"
ticks() { awk '{ print $14 + $15 }' "/proc/$PROXY_PID/stat"; }
t0=$(ticks)
for i in 1 2 3; do
    out=$(curl -s --max-time 5 "http://127.0.0.1:$P/")
    case $out in tls-backend*) ;; *) fail "request $i through the slow TLS server got '$out'" ;; esac
done
t1=$(ticks)
echo "three requests, each with a handshake answered 0.3 s late: $((t1 - t0)) CPU ticks of the proxy"
# 0.9 s of waiting in all; a busy loop spends most of it (89 ticks before),
# an idle wait next to nothing.  The bound leaves room for a loaded host.
[ $((t1 - t0)) -lt 20 ] || fail "the proxy spent $((t1 - t0)) ticks of CPU waiting on the server's handshake"
kill -0 "$PROXY_PID" || fail "the proxy died"
echo "ok: no CPU spent waiting on a server's TLS handshake"
