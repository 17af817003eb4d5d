#!/usr/bin/env bash
# tls_one_file_two_listeners.sh: two listen lines on the same certificate
# file serve it on both ports, and /api/stats lists it once (the old build
# listed it once per line, and fired its expiry events twice).
set -u
. "${TOPSRC:-$(cd "$(dirname "$0")/../.." && pwd)}/tests/support/lib.sh"

P1=$(free_port); P2=$(free_port); S=$(free_port); B=$(free_port)
C=$TMPDIR/certs
tls_ca "$C"
tls_cert "$C/site.pem" "localhost"
start_backend "$B" app
cat >"$TMPDIR/proxy.conf" <<CONF
access-log off
listen 127.0.0.1:$P1 tls $C/site.pem
listen 127.0.0.1:$P2 tls $C/site.pem
stats 127.0.0.1:$S
pool web {
    server app 127.0.0.1:$B
}
CONF
start_proxy "$TMPDIR/proxy.conf" "$P1" "$P2"
for p in "$P1" "$P2"; do
    code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 5 --cacert "$C/ca.pem" "https://localhost:$p/")
    [ "$code" = 200 ] || fail "port $p: $code over TLS"
done
n=$(stats_get "$S" 'len(j["certificates"])')
echo "measured: certificates listed: $n"
[ "$n" = 1 ] || fail "one file on two listen lines is listed $n times in /api/stats"
stop_pid "$PROXY_PID"
echo "PASS: one certificate file on two listeners, served on both, listed once"
