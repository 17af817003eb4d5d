#!/usr/bin/env bash
# tls_backend.sh: TLS to servers (pool `tls ca|sni|cert`).  A Python `ssl`
# server with a certificate from a test CA (names localhost and 127.0.0.1)
# closes after each response, so every request is a new handshake:
#  - verified by name (tls sni) and by address (no sni): 200, and from the
#    second connection on the proxy resumes its TLS session with the server;
#  - a server given by host name (backend.test, from a hosts file of the
#    test's) and no `tls sni`: that name is sent as SNI and verified;
#  - against the wrong CA: 502 for the client with the reason in the log,
#    and (with checks on) the server marked down by its TLS health check
#    with "certificate verify failed" in the event;
#  - `tls ca none`: encrypted, not verified, served (and warned at start);
#  - a server that asks for a client certificate gets `tls cert`'s;
#  - a keep-alive TLS server: 30 requests in a row take one connection
#    (idle TLS connections are pooled; a TLS 1.3 session ticket arriving
#    while idle does not count as stray bytes).
set -u
. "${TOPSRC:-$(cd "$(dirname "$0")/../.." && pwd)}/tests/support/lib.sh"

C=$TMPDIR/certs
tls_ca "$C" testca
tls_ca "$C" otherca
tls_cert "$C/server-full.pem" "localhost,127.0.0.1,backend.test" ec 30 "$C/testca"
tls_cert "$C/client-full.pem" "proxy-client" ec 30 "$C/testca"

B=$(free_port); BC=$(free_port); BK=$(free_port); P=$(free_port); ST=$(free_port)
python3 "$TOPSRC/tests/scenario/tls_backend.py" "$B" "$C/server-full.pem" >"$TMPDIR/tlsb.log" 2>&1 &
track $!; TB=$!
python3 "$TOPSRC/tests/scenario/tls_backend.py" "$BC" "$C/server-full.pem" "$C/testca.pem" >"$TMPDIR/tlsbc.log" 2>&1 &
track $!; TBC=$!
python3 "$TOPSRC/tests/scenario/tls_backend.py" "$BK" "$C/server-full.pem" - keepalive >"$TMPDIR/tlsbk.log" 2>&1 &
track $!; TBK=$!
wait_port "$B" 5 "$TB" || fail "TLS backend did not start"
wait_port "$BK" 5 "$TBK" || fail "TLS backend (keep-alive) did not start"
wait_port "$BC" 5 "$TBC" || fail "TLS backend (client certificates) did not start"

# backend.test comes from this file alone (CARES_HOSTS in place of
# /etc/hosts; DNS pointed at a closed loopback port: nothing leaves).
echo "127.0.0.1 backend.test" >"$TMPDIR/hosts"
echo "nameserver 127.0.0.1" >"$TMPDIR/resolv.conf"
export CARES_HOSTS=$TMPDIR/hosts PROXY_RESOLV_CONF=$TMPDIR/resolv.conf PROXY_DNS_SERVERS=127.0.0.1:$(free_port)
cat >"$TMPDIR/proxy.conf" <<CONF
workers 1
listen 127.0.0.1:$P
stats 127.0.0.1:$ST
pool byname {
    check http /
    interval 200ms
    tls ca $C/testca.pem
    tls sni localhost
    server s1 127.0.0.1:$B
}
pool byaddr {
    check tcp
    interval 200ms
    tls ca $C/testca.pem
    server s1 127.0.0.1:$B
}
pool byhostname {
    check tcp
    interval 200ms
    tls ca $C/testca.pem
    server s1 backend.test:$B
}
pool wrongca {
    check off
    retries 0
    tls ca $C/otherca.pem
    tls sni localhost
    server s1 127.0.0.1:$B
}
pool wrongcheck {
    check http /
    interval 200ms
    tls ca $C/otherca.pem
    tls sni localhost
    server s1 127.0.0.1:$B
}
pool open {
    check off
    tls ca none
    server s1 127.0.0.1:$B
}
pool keepalive {
    check off
    tls ca $C/testca.pem
    tls sni localhost
    server s1 127.0.0.1:$BK
}
pool mtls {
    check off
    tls ca $C/testca.pem
    tls sni localhost
    tls cert $C/client-full.pem
    server s1 127.0.0.1:$BC
}
route path /byname pool byname
route path /byaddr pool byaddr
route path /byhostname pool byhostname
route path /wrongca pool wrongca
route path /wrongcheck pool wrongcheck
route path /mtls pool mtls
route path /keepalive pool keepalive
route default pool open
CONF
start_proxy "$TMPDIR/proxy.conf" "$P"
bad=0
get() { curl -s -o "$TMPDIR/body" -w '%{http_code}' --max-time 5 "http://127.0.0.1:$P$1"; }

wait_for 5 stats_is "$ST" 'next(p for p in j["pools"] if p["name"]=="byname")["servers"][0]["state"]' up ||
    { echo "FAIL: the TLS health check did not bring byname/s1 up"; bad=1; }

code=$(get /byname/1); b1=$(cat "$TMPDIR/body")
code2=$(get /byname/2); b2=$(cat "$TMPDIR/body")
echo "verified by name: $code '$b1', then $code2 '$b2'"
[ "$code" = 200 ] && [ "$code2" = 200 ] || { echo "FAIL: verified TLS server not served"; bad=1; }
case "$b1" in *"sni=localhost"*) ;; *) echo "FAIL: tls sni not sent"; bad=1 ;; esac
case "$b2" in *"reused=True"*) ;; *) echo "FAIL: the second connection did not resume the TLS session"; bad=1 ;; esac

code=$(get /byaddr); echo "verified by address: $code '$(cat "$TMPDIR/body")'"
[ "$code" = 200 ] || { echo "FAIL: server verified by its IP address not served"; bad=1; }
case "$(cat "$TMPDIR/body")" in *"sni=None"*|*"sni=-"*) ;; *) echo "FAIL: an SNI was sent for a literal address"; bad=1 ;; esac

wait_for 5 stats_is "$ST" 'next(p for p in j["pools"] if p["name"]=="byhostname")["servers"][0]["state"]' up ||
    { echo "FAIL: byhostname/s1 (backend.test) did not come up"; bad=1; }
code=$(get /byhostname); echo "by host name, no tls sni: $code '$(cat "$TMPDIR/body")'"
[ "$code" = 200 ] || { echo "FAIL: a server given by host name, verified against that name, not served"; bad=1; }
case "$(cat "$TMPDIR/body")" in *"sni=backend.test "*) ;; *) echo "FAIL: the server's host name was not sent as SNI"; bad=1 ;; esac

code=$(get /open); echo "tls ca none: $code"
[ "$code" = 200 ] || { echo "FAIL: tls ca none not served"; bad=1; }
grep -q 'pool open: tls ca none' "$TMPDIR/proxy.log" || { echo "FAIL: no warning for tls ca none"; bad=1; }

code=$(get /mtls); echo "client certificate: $code '$(cat "$TMPDIR/body")'"
[ "$code" = 200 ] || { echo "FAIL: tls cert not presented to a server that asks for one"; bad=1; }

for i in $(seq 30); do code=$(get /keepalive/$i); [ "$code" = 200 ] || break; done
body=$(cat "$TMPDIR/body"); stray=$(stats_get "$ST" 'j["faults"]["server_conns_stray"]')
echo "keep-alive TLS server, 30 requests: last $code '$body', stray connections $stray"
case "$body" in *" conns=1") ;; *) echo "FAIL: idle TLS connections to the server were not reused"; bad=1 ;; esac
[ "$stray" = 0 ] || { echo "FAIL: a TLS connection was counted as holding stray bytes"; bad=1; }

code=$(get /wrongca); echo "wrong CA: $code"
[ "$code" = 502 ] || { echo "FAIL: a server failing verification gave $code, not 502"; bad=1; }
wait_for 5 stats_is "$ST" 'next(p for p in j["pools"] if p["name"]=="wrongcheck")["servers"][0]["state"]' down ||
    { echo "FAIL: wrongcheck/s1 not marked down by its TLS check"; bad=1; }
grep -q 'server-down pool=wrongcheck server=s1: check: TLS: certificate verify failed' "$TMPDIR/proxy.log" ||
    { echo "FAIL: the down event does not say the certificate failed verification"; bad=1; }
grep -q 'wrongca/s1 TLS: certificate verify failed' "$TMPDIR/proxy.log" ||
    { echo "FAIL: the failed request's reason is not in the log"; bad=1; }

stop_pid "$PROXY_PID"
[ "$bad" = 0 ] || { tail -20 "$TMPDIR/proxy.log"; fail "TLS to servers"; }
echo "PASS: TLS servers verified by name and address, resumed, refused on the wrong CA, client certificate sent"
