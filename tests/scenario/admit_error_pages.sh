#!/usr/bin/env bash
# admit_error_pages.sh: `error-page STATUS FILE` end to end.  The shipped
# waiting room (conf/busy.html) is the body of the proxy's own 503 (no
# server up: text/html, Retry-After: 1) and 429 (Retry-After: seconds to
# the next token); a status without a page keeps the short text.  `proxy
# -t` names FILE:LINE for a page that cannot be read or is over 64k; a
# reload with such a page fails and keeps the old pages; a reload with a
# changed page serves the new one.
set -u
. "${TOPSRC:-$(cd "$(dirname "$0")/../.." && pwd)}/tests/support/lib.sh"

P=$(free_port); DEAD=$(free_port); ST=$(free_port)
cp "$TOPSRC/conf/busy.html" "$TMPDIR/busy.html"
write_conf() {  # $1: the 503 page
    cat >"$TMPDIR/proxy.conf" <<CONF
workers 2
access-log off
listen 127.0.0.1:$P
stats 127.0.0.1:$ST
limit rate 1/m burst 1
error-page 503 $1
error-page 429 busy.html
pool web {
    check tcp
    interval 200ms
    fall 1
    server gone 127.0.0.1:$DEAD
}
CONF
}
write_conf busy.html
"$PROXY" -t -c "$TMPDIR/proxy.conf" >/dev/null || fail "the shipped page does not pass proxy -t"
start_proxy "$TMPDIR/proxy.conf" "$P" "$ST"
wait_for 5 stats_is "$ST" "srv('gone')['state']" down || fail "the server was not marked down"

get() {  # $1: source address; writes $TMPDIR/head and $TMPDIR/body, prints the status
    curl -s --interface "$1" -D "$TMPDIR/head" -o "$TMPDIR/body" -w '%{http_code}' "http://127.0.0.1:$P/"
}
hdr() { tr -d '\r' <"$TMPDIR/head" | grep -i "^$1:" | cut -d' ' -f2-; }

# ---- 503: the waiting room
[ "$(get 127.0.0.2)" = 503 ] || fail "no 503 with the server down"
cmp -s "$TMPDIR/body" "$TOPSRC/conf/busy.html" || fail "503 body is not conf/busy.html: $(head -c 200 "$TMPDIR/body")"
[ "$(hdr Content-Type)" = text/html ] || fail "503 Content-Type: $(hdr Content-Type)"
[ "$(hdr Retry-After)" = 1 ] || fail "503 Retry-After: $(hdr Retry-After)"
[ "$(hdr Content-Length)" = "$(wc -c <"$TOPSRC/conf/busy.html")" ] || fail "503 Content-Length $(hdr Content-Length)"
echo "503: the waiting room, text/html, Retry-After 1"

# ---- 429: the same page, Retry-After until the next token (one a minute)
[ "$(get 127.0.0.3)" = 503 ] || fail "the first request of 127.0.0.3 was limited"
[ "$(get 127.0.0.3)" = 429 ] || fail "no 429 for the second request within the minute"
cmp -s "$TMPDIR/body" "$TOPSRC/conf/busy.html" || fail "429 body is not conf/busy.html"
[ "$(hdr Content-Type)" = text/html ] || fail "429 Content-Type: $(hdr Content-Type)"
ra=$(hdr Retry-After)
[ "$ra" -ge 55 ] && [ "$ra" -le 60 ] || fail "429 Retry-After $ra, want about 60"
echo "429: the waiting room, Retry-After $ra"

# ---- a status without a page: the short text
printf 'GET / HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n' >"$TMPDIR/bad.req"
resp=$(python3 -c 'import socket,sys
s=socket.create_connection(("127.0.0.1",int(sys.argv[1])),source_address=("127.0.0.4",0))
s.sendall(open(sys.argv[2],"rb").read()); d=b""
while True:
    b=s.recv(4096)
    if not b: break
    d+=b
sys.stdout.write(d.decode())' "$P" "$TMPDIR/bad.req")
case $resp in
"HTTP/1.1 400 Bad Request"*"Content-Type: text/plain"*"bad request") ;;
*) fail "400 without a page: $resp" ;;
esac

# ---- proxy -t: unreadable and oversized pages are FILE:LINE errors
write_conf missing.html
out=$("$PROXY" -t -c "$TMPDIR/proxy.conf" 2>&1) && fail "proxy -t accepted a missing page"
echo "$out" | grep -q "proxy.conf:6: error-page 503: cannot read \"$TMPDIR/missing.html\": No such file" ||
    fail "proxy -t for a missing page: $out"
head -c 70000 /dev/zero | tr '\0' x >"$TMPDIR/big.html"
write_conf big.html
out=$("$PROXY" -t -c "$TMPDIR/proxy.conf" 2>&1) && fail "proxy -t accepted a page over 64k"
echo "$out" | grep -q "proxy.conf:6: error-page 503: \"$TMPDIR/big.html\" is over 64k" || fail "proxy -t for a big page: $out"

# ---- reload: a bad page fails and keeps the old one; a good one is served
kill -HUP "$PROXY_PID"
wait_for 5 stats_is "$ST" "j['reloads']['failed']" 1 || fail "the reload with a page over 64k did not fail"
[ "$(get 127.0.0.5)" = 503 ] && cmp -s "$TMPDIR/body" "$TOPSRC/conf/busy.html" || fail "the old page is gone after a failed reload"
printf '<p>new page</p>\n' >"$TMPDIR/new.html"
write_conf new.html
kill -HUP "$PROXY_PID"
wait_for 5 stats_is "$ST" "j['reloads']['ok']" 1 || fail "the reload with a new page failed: $(tail -3 "$TMPDIR/proxy.log")"
[ "$(get 127.0.0.6)" = 503 ] || fail "no 503 after the reload"
[ "$(cat "$TMPDIR/body")" = "<p>new page</p>" ] || fail "the reloaded page is not served: $(cat "$TMPDIR/body")"
echo "PASS: error pages served as text/html with Retry-After, checked by -t, kept by a failed reload, replaced by a good one"
