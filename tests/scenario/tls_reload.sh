#!/usr/bin/env bash
# tls_reload: SIGHUP reloads certificates (CONTRACT 7, issue 13 item 4).
#   - the certificate file is replaced (a new key too) and SIGHUP sent:
#     reloads.ok goes up, new connections get the new certificate, and a
#     keep-alive TLS connection opened before goes on being served, and a
#     handshake begun before a reload finishes after it with the old
#     certificate;
#   - a reload with a bad certificate fails, names the file in the log,
#     counts reloads.failed, and the previous certificate goes on being
#     served; `proxy -t` refuses the same file naming it.  Bad as: a file
#     that cannot be read (a dangling link), a key that does not match its
#     certificate, a chain that does not parse (a truncated PEM).
set -u
. "${TOPSRC:-$(cd "$(dirname "$0")/../.." && pwd)}/tests/support/lib.sh"

P=$(free_port); S=$(free_port); B=$(free_port)
C=$TMPDIR/certs
tls_ca "$C"
tls_cert "$C/a.pem" "localhost"
tls_cert "$C/b.pem" "localhost"
cp "$C/a.pem" "$C/site.pem"
start_backend "$B" app
cat >"$TMPDIR/proxy.conf" <<CONF
workers 2
access-log off
timeout keep-alive 30s
listen 127.0.0.1:$P tls certs/site.pem
stats 127.0.0.1:$S
pool web {
    check off
    server app 127.0.0.1:$B
}
CONF
start_proxy "$TMPDIR/proxy.conf" "$P" "$S"
FA=$(tls_fingerprint "$C/a.pem"); FB=$(tls_fingerprint "$C/b.pem")
# Two fingerprints that differ, or every "served X" check below holds for nothing.
[ -n "$FA" ] && [ -n "$FB" ] && [ "$FA" != "$FB" ] || fail "the fingerprints of a.pem and b.pem: '$FA', '$FB'"

# served: the fingerprint of the certificate a new connection gets.
served() {
    timeout 5 openssl s_client -connect "127.0.0.1:$P" -servername localhost </dev/null 2>/dev/null |
        openssl x509 -noout -fingerprint -sha256 2>/dev/null | cut -d= -f2
}
reloads() { stats_get "$S" 'j["reloads"]["ok"], j["reloads"]["failed"]'; }

[ "$(served)" = "$FA" ] || fail "the proxy does not serve a.pem at start"

# A keep-alive connection across the reload: a request, a pause, another.
cat >"$TMPDIR/kept.py" <<'PY'
import socket, ssl, sys, time
ctx = ssl.create_default_context(cafile=sys.argv[2])
s = ctx.wrap_socket(socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=10), server_hostname="localhost")
codes = []
for i in range(2):
    s.sendall(b"GET /kept HTTP/1.1\r\nHost: localhost\r\n\r\n")
    data = b""
    while b"\r\n\r\n" not in data:
        data += s.recv(4096)
    codes.append(data.split()[1].decode())
    if i == 0:
        print("first", flush=True)
        time.sleep(2)
print("codes=" + ",".join(codes), flush=True)
PY
python3 "$TMPDIR/kept.py" "$P" "$C/ca.pem" >"$TMPDIR/kept.out" 2>&1 &
KEPT=$!
track "$KEPT"
wait_for 5 grep -q first "$TMPDIR/kept.out" || fail "the kept connection got no first answer: $(cat "$TMPDIR/kept.out")"

read -r ok0 failed0 <<<"$(reloads)"
cp "$C/b.pem" "$C/site.pem"
kill -HUP "$PROXY_PID"
wait_for 5 stats_is "$S" 'j["reloads"]["ok"]' $((ok0 + 1)) || fail "the reload with b.pem did not succeed: $(reloads)"
wait_for 3 eval '[ "$(served)" = "$FB" ]'
now=$(served)
wait "$KEPT"
kept=$(cat "$TMPDIR/kept.out" | tail -n1)
echo "measured: after the reload with b.pem: served ${now:0:20}... (b: ${FB:0:20}...); kept connection: $kept"
[ "$now" = "$FB" ] || fail "new connections still get a.pem after the reload"
[ "$kept" = "codes=200,200" ] || fail "the keep-alive connection across the reload: $kept"
cpath=$(stats_get "$S" 'j["certificates"][0]["path"]') || cpath=
[ "$cpath" = "$C/site.pem" ] || fail "/api/stats certificates[0].path is '$cpath'"

# bad_reload LABEL: site.pem is bad now; the reload must fail naming it.
bad_reload() {
    local label=$1 ok1 failed1 out rc
    read -r ok0 failed0 <<<"$(reloads)"
    local lines0
    lines0=$(wc -l <"$TMPDIR/proxy.log")
    kill -HUP "$PROXY_PID"
    wait_for 5 stats_is "$S" 'j["reloads"]["failed"]' $((failed0 + 1))
    read -r ok1 failed1 <<<"$(reloads)"
    local logged
    logged=$(tail -n +$((lines0 + 1)) "$TMPDIR/proxy.log" | grep -v 'signal\|stopped' | head -n 6)
    out=$("$PROXY" -t -c "$TMPDIR/proxy.conf" 2>&1)
    rc=$?
    local still
    still=$(served)
    echo "measured: $label: reloads ok $ok0 -> $ok1, failed $failed0 -> $failed1; log: $logged; proxy -t exit $rc: $out; still serving b.pem: $([ "$still" = "$FB" ] && echo yes || echo no)"
    [ "$failed1" = $((failed0 + 1)) ] || fail "$label: reloads.failed went $failed0 -> $failed1"
    [ "$ok1" = "$ok0" ] || fail "$label: reloads.ok went $ok0 -> $ok1"
    printf '%s' "$logged" | grep -q "$C/site.pem" || fail "$label: the failed reload's log line does not name $C/site.pem: $logged"
    # The reload-failed event too (what a notify program gets).
    printf '%s' "$logged" | grep -q "event reload-failed.*$C/site.pem" ||
        fail "$label: the reload-failed event does not name $C/site.pem: $logged"
    [ "$still" = "$FB" ] || fail "$label: the previous certificate is no longer served after the failed reload"
    [ "$rc" != 0 ] || fail "$label: proxy -t accepted it"
    printf '%s' "$out" | grep -q "$C/site.pem" || fail "$label: proxy -t does not name $C/site.pem: $out"
    code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 5 --cacert "$C/ca.pem" "https://localhost:$P/")
    [ "$code" = 200 ] || fail "$label: a client after the failed reload got $code"
}
rm -f "$C/site.pem"
ln -s "$C/nowhere.pem" "$C/site.pem"
bad_reload "unreadable file"
rm -f "$C/site.pem"
# b's certificate with a's key.
{ openssl x509 -in "$C/b.pem"; openssl pkey -in "$C/a.pem"; } >"$C/site.pem" 2>/dev/null
bad_reload "key not matching its certificate"
head -c 300 "$C/b.pem" >"$C/site.pem"
bad_reload "truncated chain"
# Fixed again: the next reload succeeds, while a handshake is half done:
# the client has sent its ClientHello and holds the server's answer (b's
# certificate) unread until the reload is over, then finishes the
# handshake with the old certificate and makes a request.
cat >"$TMPDIR/midway.py" <<'PY'
import hashlib, os, socket, ssl, sys, time
port, ca, go = int(sys.argv[1]), sys.argv[2], sys.argv[3]
ctx = ssl.create_default_context(cafile=ca)
inc, out = ssl.MemoryBIO(), ssl.MemoryBIO()
tls = ctx.wrap_bio(inc, out, server_hostname="localhost")
s = socket.create_connection(("127.0.0.1", port), timeout=10)
def step():
    try:
        tls.do_handshake()
        return True
    except ssl.SSLWantReadError:
        pass
    data = out.read()
    if data:
        s.sendall(data)
    return False
step()                        # the ClientHello goes out
held = s.recv(65536)          # the server's flight, not read by TLS yet
print("hello-sent", flush=True)
while not os.path.exists(go):
    time.sleep(0.05)
inc.write(held)
while not step():
    inc.write(s.recv(65536))
fp = hashlib.sha256(tls.getpeercert(binary_form=True)).hexdigest()
tls.write(b"GET /midway HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
s.sendall(out.read())
resp = b""
while b"\r\n\r\n" not in resp:
    data = s.recv(65536)
    if not data:
        break
    inc.write(data)
    try:
        resp += tls.read(65536)
    except ssl.SSLWantReadError:
        pass
print("fp=%s status=%s" % (fp, resp.split(b" ")[1].decode() if resp else "none"), flush=True)
PY
python3 "$TMPDIR/midway.py" "$P" "$C/ca.pem" "$TMPDIR/go" >"$TMPDIR/midway.out" 2>&1 &
MID=$!
track "$MID"
wait_for 5 grep -q hello-sent "$TMPDIR/midway.out" || fail "the midway client did not start its handshake: $(cat "$TMPDIR/midway.out")"
cp "$C/a.pem" "$C/site.pem"
read -r ok0 failed0 <<<"$(reloads)"
kill -HUP "$PROXY_PID"
wait_for 5 stats_is "$S" 'j["reloads"]["ok"]' $((ok0 + 1)) || fail "the reload with a good file again did not succeed"
wait_for 3 eval '[ "$(served)" = "$FA" ]' || fail "a.pem is not served after the last reload"
sleep 0.5
touch "$TMPDIR/go"
wait "$MID"
mid=$(tail -n 1 "$TMPDIR/midway.out")
want_fp=$(echo "$FB" | tr -d ':' | tr 'A-F' 'a-f')
echo "measured: a handshake across the reload: $mid (b.pem: ${want_fp:0:16}...)"
[ "$mid" = "fp=$want_fp status=200" ] || fail "the handshake begun before the reload did not finish with the old certificate: $mid"
echo "PASS: a replaced certificate served after SIGHUP (kept connections unharmed); unreadable, mismatched and truncated files fail the reload naming the file, counted, the old certificate kept; proxy -t names them"
