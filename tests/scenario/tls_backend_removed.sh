#!/usr/bin/env bash
# tls_backend_removed.sh: a TLS server's session slots survive its
# handshakes: after requests over new TLS connections to it (full and
# resumed handshakes), a reload that removes it frees its sessions, and
# the proxy goes on serving and stops cleanly.
#
# Before, a finished handshake to a server took the connection's session
# slot for a listener's counters and counted into it: the session pointers
# of other workers' slots went up by one each handshake, and freeing them
# when the server was dropped crashed the proxy.
set -u
. "${TOPSRC:-$(cd "$(dirname "$0")/../.." && pwd)}/tests/support/lib.sh"

C=$TMPDIR/certs
tls_ca "$C" testca
tls_cert "$C/server-full.pem" "localhost,127.0.0.1" ec 30 "$C/testca"
TB=$(free_port); B=$(free_port); P=$(free_port)
python3 "$TOPSRC/tests/scenario/tls_backend.py" "$TB" "$C/server-full.pem" >"$TMPDIR/tlsb.log" 2>&1 &
TBP=$!
track "$TBP"
wait_port "$TB" 5 "$TBP" || fail "TLS backend did not start"
start_backend "$B" plain
write_conf() {   # SERVER-LINE [TLS-LINE]
    cat >"$TMPDIR/proxy.conf" <<CONF
workers 1
access-log off
listen 127.0.0.1:$P
pool web {
    check off
    $2
    server $1
}
CONF
}
write_conf "s1 127.0.0.1:$TB" "tls ca $C/testca.pem"
start_proxy "$TMPDIR/proxy.conf" "$P"
for i in 1 2 3 4 5 6; do
    out=$(curl -s --max-time 5 "http://127.0.0.1:$P/")
    case $out in tls-backend*) ;; *) fail "request $i through the TLS server got '$out'" ;; esac
done
echo "through the TLS server: $out"
write_conf "plain 127.0.0.1:$B"
kill -HUP "$PROXY_PID"
for _ in $(seq 50); do
    code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 2 "http://127.0.0.1:$P/healthz") || true
    kill -0 "$PROXY_PID" 2>/dev/null || fail "the proxy died after the reload that removed the TLS server"
    [ "$code" = 200 ] && grep -q "generation 2" "$TMPDIR/proxy.log" && break
    sleep 0.1
done
[ "$code" = 200 ] || fail "after the reload: $code"
kill -TERM "$PROXY_PID"
wait "$PROXY_PID"
rc=$?
[ "$rc" = 0 ] || fail "the proxy exited with $rc after the TLS server was removed"
echo "ok: the TLS server's sessions freed at its removal, a clean stop"
