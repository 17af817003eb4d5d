#!/usr/bin/env bash
# tls_sclient: versions, ALPN and session resumption with `openssl s_client`
# (CONTRACT 7, issue 13).  One certificate (any store: no SNI here).
#   - the defaults (`tls protocols 1.2 1.3`): -tls1_2 and -tls1_3 connect
#     and verify against the scenario's CA; -tls1_1 (offered with
#     @SECLEVEL=0, so that the client really sends it) is refused with a
#     protocol_version alert and counted as a failed handshake;
#   - TLS 1.2 uses a forward-secret AEAD suite of the default list; no
#     Strict-Transport-Security with the default `tls hsts 0s`;
#   - ALPN (the default list, h2,http/1.1): `-alpn http/1.1` gets http/1.1,
#     `-alpn h2,http/1.1` and `-alpn http/1.1,h2` get h2 (the listener's
#     preference), an unknown protocol alone gets no ALPN but a working
#     connection;
#   - resumption: a session saved with -sess_out is resumed with -sess_in
#     (TLS 1.3 and TLS 1.2), six times each, so over both workers; the
#     listener's `tls.resumed` counts each; with `tls tickets off` the
#     session cache shared by the workers resumes them just the same;
#   - TLS 1.3 tickets used once, as clients should: five connections, each
#     resuming with the ticket the one before got, all resume (a
#     resumption brings a new ticket), with tickets on and off; a full
#     TLS 1.3 handshake brings one ticket, not OpenSSL's default two;
#   - `tls protocols 1.3 1.3` refuses -tls1_2; `tls ciphers` limits TLS 1.2 to
#     the suite named, `tls ciphersuites` TLS 1.3 to the one named.
set -u
. "${TOPSRC:-$(cd "$(dirname "$0")/../.." && pwd)}/tests/support/lib.sh"

B=$(free_port)
C=$TMPDIR/certs
tls_ca "$C"
tls_cert "$C/site.pem" "localhost"
start_backend "$B" app

# conf FILE PORT STATS [DIRECTIVE...]
conf() {
    local file=$1 port=$2 stats=$3 d
    shift 3
    {
        echo "workers 2"
        echo "access-log off"
        for d in "$@"; do echo "$d"; done
        echo "listen 127.0.0.1:$port tls $C/site.pem"
        echo "stats 127.0.0.1:$stats"
        echo "pool web {"
        echo "    check off"
        echo "    server app 127.0.0.1:$B"
        echo "}"
    } >"$file"
}

REQ=$'GET / HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n'
# sc PORT ARGS...: one request through s_client, its whole output.
sc() {
    local port=$1
    shift
    printf '%s' "$REQ" | timeout 10 openssl s_client -connect "127.0.0.1:$port" -servername localhost \
        -CAfile "$C/ca.pem" -verify_return_error -ign_eof "$@" 2>&1
}
proto() { sed -n 's/^ *Protocol *: *//p' | head -n1; }
failed() { stats_get "$1" 'j["listeners"][0]["tls"]["failed"]'; }

P=$(free_port); S=$(free_port)
conf "$TMPDIR/proxy.conf" "$P" "$S"
start_proxy "$TMPDIR/proxy.conf" "$P" "$S"

v12=$(sc "$P" -tls1_2); v13=$(sc "$P" -tls1_3)
f0=$(failed "$S")
v11=$(sc "$P" -tls1_1 -cipher 'DEFAULT:@SECLEVEL=0')
wait_for 3 stats_is "$S" 'j["listeners"][0]["tls"]["failed"]' $((f0 + 1))
f1=$(failed "$S")
echo "measured: -tls1_2 '$(echo "$v12" | proto)' $(echo "$v12" | grep -o 'Cipher is [^ ]*'), -tls1_3 '$(echo "$v13" | proto)', -tls1_1: $(echo "$v11" | grep -o 'alert [a-z ]*' | head -n1), failed $f0 -> $f1"
[ "$(echo "$v12" | proto)" = TLSv1.2 ] || fail "-tls1_2 did not connect: $(echo "$v12" | tail -n 5)"
[ "$(echo "$v13" | proto)" = TLSv1.3 ] || fail "-tls1_3 did not connect: $(echo "$v13" | tail -n 5)"
for v in "$v12" "$v13"; do
    echo "$v" | grep -q 'Verify return code: 0 (ok)' || fail "the certificate did not verify: $(echo "$v" | grep 'Verify')"
    echo "$v" | grep -q '^HTTP/1.1 200 OK' || fail "no 200 through s_client"
    # The default `tls hsts 0s`: no Strict-Transport-Security at all.
    echo "$v" | grep -qi '^strict-transport-security' && fail "HSTS sent with the default tls hsts 0s: $(echo "$v" | grep -i '^strict')"
done
echo "$v12" | grep -Eq 'Cipher is ECDHE-(ECDSA|RSA)-(AES(128|256)-GCM-SHA(256|384)|CHACHA20-POLY1305)' ||
    fail "TLS 1.2 cipher is not a forward-secret AEAD one: $(echo "$v12" | grep -o 'Cipher is.*')"
echo "$v11" | grep -q 'alert protocol version' || fail "-tls1_1 was not refused with protocol_version: $(echo "$v11" | head -n 3)"
[ "$f1" = $((f0 + 1)) ] || fail "the refused TLS 1.1 handshake was not counted as failed ($f0 -> $f1)"

# ALPN
a1=$(sc "$P" -alpn http/1.1 | grep -E '^(ALPN protocol|No ALPN)')
a2=$(sc "$P" -alpn h2,http/1.1 | grep -E '^(ALPN protocol|No ALPN)')
a2r=$(sc "$P" -alpn http/1.1,h2 | grep -E '^(ALPN protocol|No ALPN)')
a3=$(sc "$P" -alpn spdy/3)
echo "measured: ALPN http/1.1 -> '$a1', h2,http/1.1 -> '$a2', http/1.1,h2 -> '$a2r', spdy/3 -> '$(echo "$a3" | grep -E '^(ALPN protocol|No ALPN)')'"
[ "$a1" = "ALPN protocol: http/1.1" ] || fail "-alpn http/1.1: '$a1'"
[ "$a2" = "ALPN protocol: h2" ] || fail "-alpn h2,http/1.1: '$a2' (the default alpn list is h2,http/1.1)"
[ "$a2r" = "ALPN protocol: h2" ] || fail "-alpn http/1.1,h2: '$a2r' (the listener's preference, h2, must win)"
echo "$a3" | grep -q '^No ALPN negotiated' || fail "-alpn spdy/3 negotiated something"
echo "$a3" | grep -q '^HTTP/1.1 200 OK' || fail "-alpn spdy/3: the connection did not work"

# resume PORT STATS LABEL ARGS...: one full handshake saving its session,
# then six resumed ones; checks s_client's "Reused" and the resumed count.
resume() {
    local port=$1 stats=$2 label=$3 r0 r1 out reused=0 i
    shift 3
    r0=$(stats_get "$stats" 'j["listeners"][0]["tls"]["resumed"]')
    out=$(sc "$port" -sess_out "$TMPDIR/sess" "$@")
    echo "$out" | grep -q '^New, TLSv1' || fail "$label: the first handshake was not a new session: $(echo "$out" | grep -E '^(New|Reused)')"
    [ -s "$TMPDIR/sess" ] || fail "$label: s_client saved no session (-sess_out)"
    for i in 1 2 3 4 5 6; do
        out=$(sc "$port" -sess_in "$TMPDIR/sess" "$@")
        echo "$out" | grep -q '^HTTP/1.1 200 OK' || fail "$label: resumed connection $i got no 200"
        echo "$out" | grep -q '^Reused, TLSv1' && reused=$((reused + 1))
    done
    wait_for 3 stats_is "$stats" 'j["listeners"][0]["tls"]["resumed"]' $((r0 + reused))
    r1=$(stats_get "$stats" 'j["listeners"][0]["tls"]["resumed"]')
    echo "measured: $label: $reused of 6 reused, tls.resumed $r0 -> $r1"
    [ "$reused" = 6 ] || fail "$label: only $reused of 6 connections resumed the session"
    [ "$r1" = $((r0 + 6)) ] || fail "$label: tls.resumed went $r0 -> $r1, expected +6"
    rm -f "$TMPDIR/sess"
}
# chain PORT LABEL ARGS...: TLS 1.3 tickets are used once (RFC 8446 C.4):
# each of five connections resumes with the ticket the one before it got,
# so a resumption must bring a new ticket (s_client writes -sess_out when
# one arrives) or the next connection is a full handshake (issue 20).
chain() {
    local port=$1 label=$2 out i
    shift 2
    rm -f "$TMPDIR"/chain.*
    out=$(sc "$port" -sess_out "$TMPDIR/chain.0" "$@")
    [ -s "$TMPDIR/chain.0" ] || fail "$label: the full handshake brought no ticket"
    for i in 1 2 3 4 5; do
        out=$(sc "$port" -sess_in "$TMPDIR/chain.$((i - 1))" -sess_out "$TMPDIR/chain.$i" "$@")
        echo "$out" | grep -q '^Reused, TLSv1.3' || fail "$label: connection $i did not resume with the previous one's ticket"
        echo "$out" | grep -q '^HTTP/1.1 200 OK' || fail "$label: connection $i got no 200"
        [ -s "$TMPDIR/chain.$i" ] || fail "$label: resumed connection $i brought no new ticket (the next one would be a full handshake)"
    done
    echo "measured: $label: 5 of 5 resumed, each with a new ticket"
}
# tickets PORT LABEL: a full TLS 1.3 handshake brings one ticket (not
# OpenSSL's default two: issue 20).
tickets() {
    local n
    n=$(sc "$1" -tls1_3 -msg | grep -c '<<< TLS 1.3, Handshake.*NewSessionTicket')
    echo "measured: $2: $n ticket(s) after a full handshake"
    [ "$n" = 1 ] || fail "$2: $n tickets after a full handshake, expected 1"
}
resume "$P" "$S" "tickets, TLS 1.3" -tls1_3
resume "$P" "$S" "tickets, TLS 1.2" -tls1_2
chain "$P" "tickets, TLS 1.3, a ticket used once" -tls1_3
tickets "$P" "tickets on"
m=$(curl -s --max-time 5 "http://127.0.0.1:$S/metrics" | grep "^proxy_tls_handshakes_total{listener=\"127.0.0.1:$P\",result=\"resumed\"}")
[ "${m##* }" -ge 12 ] || fail "proxy_tls_handshakes_total resumed: '$m'"
stop_pid "$PROXY_PID"

# tickets off: the shared session cache.
P=$(free_port); S=$(free_port)
conf "$TMPDIR/proxy2.conf" "$P" "$S" "tls tickets off"
start_proxy "$TMPDIR/proxy2.conf" "$P" "$S"
resume "$P" "$S" "tickets off (session cache), TLS 1.3" -tls1_3
resume "$P" "$S" "tickets off (session cache), TLS 1.2" -tls1_2
chain "$P" "tickets off (session cache), TLS 1.3, a ticket used once" -tls1_3
tickets "$P" "tickets off (session cache)"
stop_pid "$PROXY_PID"

# tls protocols 1.3 1.3, and tls ciphers.
P=$(free_port); S=$(free_port)
conf "$TMPDIR/proxy3.conf" "$P" "$S" "tls protocols 1.3 1.3"
start_proxy "$TMPDIR/proxy3.conf" "$P" "$S"
o12=$(sc "$P" -tls1_2); o13=$(sc "$P" -tls1_3)
echo "measured: tls protocols 1.3 1.3: -tls1_2 $(echo "$o12" | grep -o 'alert [a-z ]*' | head -n1), -tls1_3 '$(echo "$o13" | proto)'"
echo "$o12" | grep -q 'alert protocol version' || fail "tls protocols 1.3 1.3 accepted TLS 1.2: $(echo "$o12" | proto)"
[ "$(echo "$o13" | proto)" = TLSv1.3 ] || fail "tls protocols 1.3 1.3 refused TLS 1.3"
stop_pid "$PROXY_PID"

P=$(free_port); S=$(free_port)
conf "$TMPDIR/proxy4.conf" "$P" "$S" 'tls ciphers "ECDHE-ECDSA-CHACHA20-POLY1305"'
start_proxy "$TMPDIR/proxy4.conf" "$P" "$S"
c1=$(sc "$P" -tls1_2 | grep -o 'Cipher is [^ ]*')
c2=$(sc "$P" -tls1_2 -cipher ECDHE-ECDSA-AES128-GCM-SHA256)
echo "measured: tls ciphers CHACHA20 only: '$c1'; a client offering only AES128-GCM: $(echo "$c2" | grep -o 'alert [a-z ]*' | head -n1)"
[ "$c1" = "Cipher is ECDHE-ECDSA-CHACHA20-POLY1305" ] || fail "tls ciphers: got '$c1'"
echo "$c2" | grep -q '^HTTP/1.1 200' && fail "tls ciphers: a suite outside the list was accepted"
stop_pid "$PROXY_PID"

# tls ciphersuites: TLS 1.3's own list (the client offers OpenSSL's three
# by default, AES-256-GCM first).
P=$(free_port); S=$(free_port)
conf "$TMPDIR/proxy5.conf" "$P" "$S" 'tls ciphersuites "TLS_CHACHA20_POLY1305_SHA256"'
start_proxy "$TMPDIR/proxy5.conf" "$P" "$S"
c1=$(sc "$P" -tls1_3 | grep -o 'Cipher is [^ ]*')
c2=$(sc "$P" -tls1_3 -ciphersuites TLS_AES_128_GCM_SHA256)
echo "measured: tls ciphersuites CHACHA20 only: '$c1'; a client offering only TLS_AES_128_GCM_SHA256: $(echo "$c2" | grep -o 'alert [a-z ]*' | head -n1)"
[ "$c1" = "Cipher is TLS_CHACHA20_POLY1305_SHA256" ] || fail "tls ciphersuites: got '$c1'"
echo "$c2" | grep -q '^HTTP/1.1 200' && fail "tls ciphersuites: a TLS 1.3 suite outside the list was accepted"
echo "PASS: TLS 1.2 and 1.3 accepted, 1.1 refused and counted, ALPN http/1.1, resumption by ticket and by the shared cache counted, a TLS 1.3 resumption renews its ticket, one ticket per full handshake, tls protocols, tls ciphers and tls ciphersuites obeyed"
