#!/usr/bin/env bash
# tls_basic: HTTPS with curl (CONTRACT 7, issue 13).  A TLS listener with
# a certificate from the scenario's own CA (tls_ca/tls_cert), `tls hsts 180d`,
# and a plaintext listener with `redirect https`:
#   - curl --cacert verifies the certificate (for a name, with --resolve)
#     and gets the backend's answer;
#   - the backend sees X-Forwarded-Proto: https, once, even when the client
#     sent its own X-Forwarded-Proto: http;
#   - TLS responses carry Strict-Transport-Security: max-age=15552000; the
#     plaintext redirect does not;
#   - the access log names the TLS version and cipher (tls=... cipher=...);
#   - a plaintext request on the TLS port gets a plaintext 400 at once (not a
#     hang) and counts as a failed handshake;
#   - `listen ... redirect https` answers 308 with Location
#     https://HOST/PATH?QUERY, the plaintext port dropped;
#   - /api/stats lists both listeners, `tls` counts on the TLS one only,
#     and /metrics has proxy_tls_handshakes_total for it (ok, and failed as
#     many as tls.failed).
set -u
. "${TOPSRC:-$(cd "$(dirname "$0")/../.." && pwd)}/tests/support/lib.sh"

P=$(free_port); R=$(free_port); S=$(free_port); B=$(free_port)
C=$TMPDIR/certs
tls_ca "$C"
tls_cert "$C/site.pem" "localhost,www.example.test"
start_backend "$B" app
# The certificate is named relative to the configuration file's directory.
cat >"$TMPDIR/proxy.conf" <<CONF
workers 2
access-log stderr
timeout client 5s
tls hsts 180d
listen 127.0.0.1:$P tls certs/site.pem
listen 127.0.0.1:$R redirect https
stats 127.0.0.1:$S
pool web {
    check off
    server app 127.0.0.1:$B
}
CONF
start_proxy "$TMPDIR/proxy.conf" "$P" "$R" "$S"
# start_proxy's port probes connect and close without a byte: a base line.
f0=$(stats_get "$S" 'j["listeners"][0]["tls"]["failed"]') || f0=0

CURL=(curl -s --max-time 5 --cacert "$C/ca.pem")
body=$("${CURL[@]}" "https://localhost:$P/hello") || body="curl failed: $?"
named=$("${CURL[@]}" --resolve "www.example.test:$P:127.0.0.1" "https://www.example.test:$P/") || named="curl failed: $?"
# Without the CA, curl must refuse the certificate (so verification was real).
"${CURL[@]/--cacert/}" -o /dev/null "https://localhost:$P/" 2>/dev/null
nocacode=$?
echo=$("${CURL[@]}" -H 'X-Forwarded-Proto: http' "https://localhost:$P/echo") || echo=
headers=$("${CURL[@]}" -D - -o /dev/null "https://localhost:$P/")
hsts=$(printf '%s' "$headers" | tr -d '\r' | sed -n 's/^[Ss]trict-[Tt]ransport-[Ss]ecurity: //p')
xfp=$(printf '%s' "$echo" | tr -d '\r' | grep -i '^X-Forwarded-Proto:' | tr '\n' ';')
echo "measured: body '$body', by name '$named', without the CA curl exit $nocacode, backend saw '$xfp', HSTS '$hsts'"
[ "$body" = app ] || fail "GET https://localhost:$P/hello: '$body'"
[ "$named" = app ] || fail "GET https://www.example.test:$P/ (--resolve): '$named'"
[ "$nocacode" = 60 ] || fail "curl without --cacert exited $nocacode, expected 60 (certificate not verified)"
[ "$xfp" = "X-Forwarded-Proto: https;" ] || fail "the backend saw X-Forwarded-Proto '$xfp', expected https once"
[ "$hsts" = "max-age=15552000" ] || fail "Strict-Transport-Security '$hsts', expected max-age=15552000 (tls hsts 180d)"

# The access log: version and cipher of the TLS request.
wait_for 3 grep -q 'GET /hello .*tls=TLSv1\.[23] cipher=[A-Z0-9_-]' "$TMPDIR/proxy.log" ||
    fail "no access-log line with tls=VERSION cipher=NAME for GET /hello"
grep 'GET /hello ' "$TMPDIR/proxy.log" | head -n1

# Plaintext HTTP to the TLS port: a plaintext 400, at once.
t0=$(date +%s%N)
plain=$(curl -s --max-time 5 -i "http://127.0.0.1:$P/") || plain="curl failed: $?"
plain_ms=$((($(date +%s%N) - t0) / 1000000))
status=$(printf '%s' "$plain" | head -n1 | tr -d '\r')
echo "measured: plaintext on the TLS port: '$status' in ${plain_ms} ms"
[ "$status" = "HTTP/1.1 400 Bad Request" ] || fail "plaintext request on the TLS port got: ${plain:0:200}"
[ "$plain_ms" -lt 2000 ] || fail "the plaintext 400 took ${plain_ms} ms"

# The redirect listener.
loc=$(curl -s --max-time 5 -o /dev/null -w '%{http_code} %header{location}' \
    -H "Host: www.example.test:$R" "http://127.0.0.1:$R/a/b?x=1&y=2") || loc="curl failed: $?"
rhead=$(curl -s --max-time 5 -D - -o /dev/null "http://127.0.0.1:$R/")
echo "measured: redirect: '$loc'"
[ "$loc" = "308 https://www.example.test/a/b?x=1&y=2" ] ||
    fail "redirect https answered '$loc', expected '308 https://www.example.test/a/b?x=1&y=2'"
printf '%s' "$rhead" | grep -qi '^strict-transport-security' && fail "HSTS sent on a plaintext response: $rhead"
# No host name to redirect to: 400 (a port alone was a 414, "URI too long").
noname=$(curl -s --max-time 5 -o /dev/null -w '%{http_code}' -H "Host: :$R" "http://127.0.0.1:$R/a")
[ "$noname" = 400 ] || fail "redirect https with a Host of a port alone answered $noname, expected 400"
long=$(curl -s --max-time 5 -o /dev/null -w '%{http_code}' -H "Host: www.example.test" "http://127.0.0.1:$R/$(head -c 9000 /dev/zero | tr '\0' a)")
[ "$long" = 414 ] || fail "redirect https of a URL over 8k answered $long, expected 414"
# Following it lands on the TLS listener (the test's port, not 443).
follow=$("${CURL[@]}" -L --connect-to "localhost:443:127.0.0.1:$P" -H "Host: localhost:$R" \
    "http://127.0.0.1:$R/x") || follow="curl failed: $?"
[ "$follow" = app ] || fail "following the redirect to the TLS port: '$follow'"

# Stats: per listener; the plaintext 400 is a failed handshake.
js=$(stats_dump "$S")
tls_tls=$(echo "$js" | stats_get - 'j["listeners"][0]["address"], j["listeners"][0]["tls"]["handshakes"], j["listeners"][0]["tls"]["failed"]') || tls_tls=
tls_red=$(echo "$js" | stats_get - 'j["listeners"][1]["address"], j["listeners"][1]["tls"], j["listeners"][1]["redirect_https"]') || tls_red=
echo "measured: listeners: [$tls_tls] [$tls_red] (failed before the requests: $f0)"
read -r addr hs failed <<<"$tls_tls"
[ "$addr" = "127.0.0.1:$P" ] || fail "listeners[0] is '$addr'"
[ "${hs:-0}" -ge 5 ] || fail "listeners[0].tls.handshakes is '$hs', expected 5 or more (5 verified requests)"
[ "${failed:-0}" -ge $((f0 + 2)) ] || fail "listeners[0].tls.failed went from $f0 to '$failed': the plaintext request and the unverified curl were not counted"
[ "$tls_red" = "127.0.0.1:$R None True" ] || fail "listeners[1] (redirect): '$tls_red'"
metrics=$(curl -s --max-time 5 "http://127.0.0.1:$S/metrics")
printf '%s\n' "$metrics" | grep -q "^proxy_tls_handshakes_total{listener=\"127.0.0.1:$P\",result=\"ok\"} [1-9]" ||
    fail "no proxy_tls_handshakes_total{listener=\"127.0.0.1:$P\",result=\"ok\"} in /metrics"
# The failed handshakes too, the same count as listeners[0].tls.failed.
mfailed=$(printf '%s\n' "$metrics" | sed -n "s/^proxy_tls_handshakes_total{listener=\"127.0.0.1:$P\",result=\"failed\"} //p")
[ "$mfailed" = "$failed" ] ||
    fail "proxy_tls_handshakes_total{listener=\"127.0.0.1:$P\",result=\"failed\"} is '$mfailed', listeners[0].tls.failed $failed"
printf '%s\n' "$metrics" | grep -q "^proxy_tls_handshakes_total{listener=\"127.0.0.1:$R\"" &&
    fail "proxy_tls_handshakes_total for the plaintext listener"
echo "PASS: curl over TLS verified, X-Forwarded-Proto https, HSTS, tls= in the access log, plaintext 400, 308 redirect, listener stats"
