#!/usr/bin/env bash
# tls_client_ca: `listen ADDR tls PATH client-ca FILE` (CONTRACT 7): clients
# must present a certificate from that CA.
#   - curl with a certificate signed by the client CA: 200 (TLS 1.3 and 1.2);
#   - curl with no certificate, with one from another CA, and with a
#     self-signed one: no answer, each counted in tls.failed;
#   - a listener of the same proxy without client-ca still takes clients
#     without a certificate;
#   - `proxy -t` refuses a client-ca file that is not a CA bundle, naming it.
set -u
. "${TOPSRC:-$(cd "$(dirname "$0")/../.." && pwd)}/tests/support/lib.sh"

P=$(free_port); Q=$(free_port); S=$(free_port); B=$(free_port)
C=$TMPDIR/certs
tls_ca "$C"
tls_cert "$C/site.pem" "localhost"
tls_ca "$C" clients
tls_cert "$C/alice.pem" "alice" ec 30 "$C/clients"
tls_ca "$C" other
tls_cert "$C/mallory.pem" "mallory" ec 30 "$C/other"
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 5 -subj /CN=selfie \
    -keyout "$C/selfie.pem" -out "$C/selfie.crt" >/dev/null 2>&1 && cat "$C/selfie.crt" >>"$C/selfie.pem"
start_backend "$B" app
cat >"$TMPDIR/proxy.conf" <<CONF
workers 2
access-log off
listen 127.0.0.1:$P tls certs/site.pem client-ca certs/clients.pem
listen 127.0.0.1:$Q tls certs/site.pem
stats 127.0.0.1:$S
pool web {
    check off
    server app 127.0.0.1:$B
}
CONF
start_proxy "$TMPDIR/proxy.conf" "$P" "$Q" "$S"
failed() { stats_get "$S" 'j["listeners"][0]["tls"]["failed"]'; }

# get PORT CURL_ARGS...: "CODE" of GET / (000 when refused)
get() {
    local port=$1
    shift
    curl -s -o /dev/null -w '%{http_code}' --max-time 5 --cacert "$C/ca.pem" "$@" "https://localhost:$port/"
}
ok13=$(get "$P" --cert "$C/alice.pem" --key "$C/alice.pem")
ok12=$(get "$P" --tls-max 1.2 --cert "$C/alice.pem" --key "$C/alice.pem")
f0=$(failed)
none=$(get "$P")
wrong=$(get "$P" --cert "$C/mallory.pem" --key "$C/mallory.pem")
selfie=$(get "$P" --cert "$C/selfie.pem" --key "$C/selfie.pem")
wait_for 3 stats_is "$S" 'j["listeners"][0]["tls"]["failed"]' $((f0 + 3))
f1=$(failed)
other=$(get "$Q")
echo "measured: client CA cert: TLS 1.3 $ok13, TLS 1.2 $ok12; no cert $none, other CA $wrong, self-signed $selfie; tls.failed $f0 -> $f1; listener without client-ca: $other"
[ "$ok13" = 200 ] || fail "a client certificate from the client CA got $ok13 (TLS 1.3)"
[ "$ok12" = 200 ] || fail "a client certificate from the client CA got $ok12 (TLS 1.2)"
[ "$none" = 000 ] || fail "a client without a certificate got $none"
[ "$wrong" = 000 ] || fail "a client certificate from another CA got $wrong"
[ "$selfie" = 000 ] || fail "a self-signed client certificate got $selfie"
[ "$f1" = $((f0 + 3)) ] || fail "the three refused clients: tls.failed $f0 -> $f1, expected +3"
[ "$other" = 200 ] || fail "the listener without client-ca refused a client without a certificate ($other)"

# proxy -t: a client-ca that holds no certificate.
echo "not a certificate" >"$C/junk.pem"
sed "s|client-ca certs/clients.pem|client-ca certs/junk.pem|" "$TMPDIR/proxy.conf" >"$TMPDIR/bad.conf"
out=$("$PROXY" -t -c "$TMPDIR/bad.conf" 2>&1)
rc=$?
echo "measured: proxy -t with a junk client-ca: exit $rc: $out"
[ "$rc" != 0 ] || fail "proxy -t accepted a client-ca file with no certificate"
printf '%s' "$out" | grep -q "$C/junk.pem" || fail "proxy -t did not name the bad client-ca file: $out"
echo "PASS: client-ca: its certificates accepted, none, other-CA and self-signed refused and counted; proxy -t names a bad client-ca"
