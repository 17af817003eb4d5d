#!/usr/bin/env bash
# tls_bad_handshake: handshakes that stall or make no sense (issue 13, "Bad
# input"; CONTRACT 7: a handshake must finish within `timeout client`).
# With `timeout client 1s`:
#   - a client that connects and sends nothing is closed after about 1 s;
#   - a client that sends half a real ClientHello and stops is closed after
#     about 1 s;
#   - a garbage "ClientHello" (a handshake record of random bytes) and a
#     stream of zero bytes are closed at once;
#   - a TLS 1.2 client that asks to renegotiate gets no second handshake
#     (renegotiation is off), its connection is not served further and the
#     attempt counts in tls.failed (issue 13: "closed and counted");
#   - each counts in the listener's tls.failed (one each), but a port probe
#     (connected and closed without a byte) does not;
#   - 20 stalled handshakes at once do not hold up 8 new clients
#     (tls_client.py) on either worker: their 400 requests are answered
#     within 3 s, and the proxy is alive at the end.
set -u
. "${TOPSRC:-$(cd "$(dirname "$0")/../.." && pwd)}/tests/support/lib.sh"

P=$(free_port); S=$(free_port); B=$(free_port)
C=$TMPDIR/certs
tls_ca "$C"
tls_cert "$C/site.pem" "localhost"
start_backend "$B" app
cat >"$TMPDIR/proxy.conf" <<CONF
workers 2
access-log off
timeout client 1s
listen 127.0.0.1:$P tls $C/site.pem
stats 127.0.0.1:$S
pool web {
    check off
    server app 127.0.0.1:$B
}
CONF
start_proxy "$TMPDIR/proxy.conf" "$P" "$S"

# raw.py MODE [N]: N connections (1) that misbehave as MODE; prints, per
# connection, how many ms until the proxy closed it ("closed MS") or
# "open" when it was still open after 5 s.
cat >"$TMPDIR/raw.py" <<'PY'
import os, socket, ssl, sys, threading, time
mode, n, port = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
def client_hello():
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    inc, out = ssl.MemoryBIO(), ssl.MemoryBIO()
    obj = ctx.wrap_bio(inc, out, server_hostname="localhost")
    try:
        obj.do_handshake()
    except ssl.SSLWantReadError:
        pass
    return out.read()
payload = {
    "silent": b"",
    "half": client_hello()[:60],
    "garbage": b"\x16\x03\x01\x01\x00" + os.urandom(256),
    "zeros": b"\x00" * 4096,
}[mode]
res = [None] * n
def one(i):
    s = socket.create_connection(("127.0.0.1", port))
    t0 = time.time()
    if payload:
        s.sendall(payload)
    s.settimeout(5)
    try:
        while s.recv(4096):
            pass
        res[i] = "closed %d" % ((time.time() - t0) * 1000)
    except socket.timeout:
        res[i] = "open"
    except OSError:  # a reset is a close too
        res[i] = "closed %d" % ((time.time() - t0) * 1000)
    s.close()
ts = [threading.Thread(target=one, args=(i,)) for i in range(n)]
for t in ts: t.start()
for t in ts: t.join()
print("\n".join(res))
PY
failed() { stats_get "$S" 'j["listeners"][0]["tls"]["failed"]'; }
# check MODE LO_MS HI_MS: one connection closed within [LO, HI] ms and
# counted once.
check() {
    local mode=$1 lo=$2 hi=$3 f0 f1 out ms
    f0=$(failed)
    out=$(python3 "$TMPDIR/raw.py" "$mode" 1 "$P")
    wait_for 3 stats_is "$S" 'j["listeners"][0]["tls"]["failed"]' $((f0 + 1))
    f1=$(failed)
    echo "measured: $mode: $out, tls.failed $f0 -> $f1"
    case $out in "closed "*) ;; *) fail "$mode: the connection was not closed within 5 s ($out)" ;; esac
    ms=${out#closed }
    [ "$ms" -ge "$lo" ] && [ "$ms" -le "$hi" ] || fail "$mode: closed after $ms ms, expected $lo-$hi ms"
    [ "$f1" = $((f0 + 1)) ] || fail "$mode: tls.failed went $f0 -> $f1, expected one more"
}
check silent 800 3000
check half 800 3000
check garbage 0 500
check zeros 0 500

# A port probe (a balancer's TCP check): connected and closed without a
# byte.  Not a failed handshake: tls.failed stays as it was.
f0=$(failed)
for i in 1 2 3; do python3 -c 'import socket,sys; socket.create_connection(("127.0.0.1", int(sys.argv[1]))).close()' "$P"; done
wait_for 3 stats_is "$S" 'j["listeners"][0]["connections"]["active"]' 0 || fail "the probes' connections stayed open"
f1=$(failed)
echo "measured: 3 port probes: tls.failed $f0 -> $f1"
[ "$f1" = "$f0" ] || fail "a port probe counted as a failed handshake ($f0 -> $f1)"

# Renegotiation: s_client's "R" line asks for it on TLS 1.2.
f0=$(failed)
reneg=$( { printf 'GET / HTTP/1.1\r\nHost: localhost\r\n\r\n'; sleep 0.5; printf 'R\n'; sleep 1;
    printf 'GET / HTTP/1.1\r\nHost: localhost\r\n\r\n'; sleep 0.5; } |
    timeout 10 openssl s_client -connect "127.0.0.1:$P" -tls1_2 -CAfile "$C/ca.pem" -servername localhost 2>&1)
answers=$(printf '%s\n' "$reneg" | grep -c '^HTTP/1.1 200')
echo "measured: renegotiation: $(printf '%s\n' "$reneg" | grep -E 'RENEGOTIATING|alert|error' | head -n 3 | tr '\n' ' '); 200s: $answers"
printf '%s\n' "$reneg" | grep -q '^RENEGOTIATING' || fail "s_client did not try to renegotiate"
[ "$answers" -le 1 ] || fail "the connection was served after a renegotiation request ($answers answers)"
wait_for 3 stats_is "$S" 'j["listeners"][0]["tls"]["failed"]' $((f0 + 1))
f1=$(failed)
echo "measured: renegotiation: tls.failed $f0 -> $f1"
[ "$f1" = $((f0 + 1)) ] || fail "the renegotiation attempt was not counted in tls.failed ($f0 -> $f1)"

# Many stalled handshakes and garbage while other clients work: 20 half
# ClientHellos held (the client gives up after 5 s), and meanwhile 8 new
# TLS connections of 50 requests each, over both workers, must be served
# at once, not after the stalled ones are gone.
python3 "$TMPDIR/raw.py" half 20 "$P" >"$TMPDIR/stalled.out" &
HALF=$!
track "$HALF"
sleep 0.3
python3 "$TOPSRC/tests/scenario/tls_client.py" --port "$P" --ca "$C/ca.pem" --parallel 8 get:50 \
    >"$TMPDIR/ka.out" 2>&1
python3 "$TMPDIR/raw.py" garbage 20 "$P" >/dev/null
wait "$HALF"
stalled=$(awk '{ print $1 }' "$TMPDIR/stalled.out" | sort -u | tr '\n' ' ')
ka=$(cat "$TMPDIR/ka.out")
echo "measured: 20 stalled handshakes at once: $stalled; meanwhile 8 new connections: $ka"
[ "$stalled" = "closed " ] || fail "some of 20 stalled handshakes were not closed: $stalled"
[ "$(field ok "$ka")" = 400 ] || fail "the clients beside the stalled handshakes: $ka"
awk -v s="$(field secs "$ka")" 'BEGIN { exit !(s < 3) }' ||
    fail "the clients beside the stalled handshakes took $(field secs "$ka") s (a worker stuck on them?)"
kill -0 "$PROXY_PID" || fail "the proxy died"
code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 5 --cacert "$C/ca.pem" "https://localhost:$P/")
[ "$code" = 200 ] || fail "a new client after all that got $code"
echo "PASS: silent and half handshakes closed after timeout client, garbage at once, renegotiation refused, all counted; other clients unaffected"
