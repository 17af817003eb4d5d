#!/usr/bin/env bash
# scenario: alone
# ops_defer_accept.sh: `listen ADDR defer-accept` (TCP_DEFER_ACCEPT).
#
#  - a client that connects and stays silent is not taken by the proxy on
#    a defer-accept listener (the kernel holds it for up to `timeout
#    client`, 2s): it holds no connection in the stats; its request, sent
#    a second later, is answered 200;
#  - a client that never sends is still cut: the kernel hands it over
#    once its defer time is out, and `timeout client` then closes it
#    (about 5 s in all: 3 s of SYN-ACK retries + 2 s), never left open;
#  - on a plain listener beside it, the same silent client is taken at
#    once (connections.active 1);
#  - a TLS listener with defer-accept does not take a silent client
#    either, and serves as usual (curl);
#  - a reload that takes defer-accept off the listener (the socket is kept)
#    makes a silent client taken at once again;
#  - "defer-accept" twice on one line is a configuration error with its
#    line.
set -u
. "${TOPSRC:-$(cd "$(dirname "$0")/../.." && pwd)}/tests/support/lib.sh"

P=$(free_port); Q=$(free_port); T=$(free_port); S=$(free_port); B=$(free_port)
C=$TMPDIR/certs
tls_site "$C"
start_backend "$B" app
write_conf() {  # DEFER: "defer-accept" or "" for the first listener
    cat >"$TMPDIR/proxy.conf" <<CONF
workers 1
access-log off
listen 127.0.0.1:$P $1
listen 127.0.0.1:$Q
listen 127.0.0.1:$T tls $C/site.pem defer-accept
stats 127.0.0.1:$S
timeout client 2s
pool web {
    check off
    server app 127.0.0.1:$B
}
CONF
}
write_conf defer-accept
start_proxy "$TMPDIR/proxy.conf" "$P" "$S"

active() { stats_get "$S" 'j["connections"]["active"]'; }

# silent PORT WAIT: connects, waits WAIT s in silence, then prints what the
# stats said meanwhile ("active N"), and what a GET then got: "closed" if
# the proxy had cut the connection, else the status line.
silent() {
    python3 - "$1" "$2" "$S" <<'PY'
import json, socket, sys, time, urllib.request
port, wait, stats = int(sys.argv[1]), float(sys.argv[2]), int(sys.argv[3])
s = socket.create_connection(("127.0.0.1", port), timeout=5)
time.sleep(0.3)
j = json.load(urllib.request.urlopen("http://127.0.0.1:%d/api/stats" % stats, timeout=5))
print("active", j["connections"]["active"])
time.sleep(wait)
try:
    s.sendall(b"GET / HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n")
    data = b""
    while True:
        chunk = s.recv(4096)
        if not chunk:
            break
        data += chunk
except OSError:
    data = b""
print(data.split(b"\r\n")[0].decode(errors="replace") if data else "closed")
PY
}

out=$(silent "$P" 1)
[ "$(echo "$out" | head -1)" = "active 0" ] || fail "defer-accept: a silent client was taken at once: $out"
[ "$(echo "$out" | tail -1)" = "HTTP/1.1 200 OK" ] || fail "defer-accept: its late request got: $out"
# mute PORT: connects and never sends; prints how the connection ended
# ("closed", "reset", or "open" if still open after 15 s) and when.
mute() {
    python3 - "$1" <<'PY'
import socket, sys, time
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=15)
t0 = time.monotonic()
try:
    what = "closed" if not s.recv(4096) else "data"
except socket.timeout:
    what = "open"
except OSError:
    what = "reset"
print("%s %.1f" % (what, time.monotonic() - t0))
PY
}
out=$(mute "$P")
case $out in
    closed\ *|reset\ *) ;;
    *) fail "defer-accept: a client that never sent was not cut: $out" ;;
esac
secs=${out#* }
awk -v s="$secs" 'BEGIN { exit !(s >= 2 && s <= 10) }' ||
    fail "defer-accept: the mute client was cut after ${secs}s (want 2-10 s: defer time + timeout client)"

out=$(silent "$Q" 0)
[ "$(echo "$out" | head -1)" = "active 1" ] || fail "plain listener: a silent client was not taken: $out"
[ "$(echo "$out" | tail -1)" = "HTTP/1.1 200 OK" ] || fail "plain listener: the request got: $out"

# The TLS listener's own defer-accept: a silent client is not taken there
# either (what its late plain-text request gets does not matter here).
out=$(silent "$T" 0)
[ "$(echo "$out" | head -1)" = "active 0" ] || fail "TLS listener with defer-accept: a silent client was taken at once: $out"
code=$(curl -s -o /dev/null -w '%{http_code}' --cacert "$C/ca.pem" --resolve "localhost:$T:127.0.0.1" \
    "https://localhost:$T/")
[ "$code" = 200 ] || fail "TLS listener with defer-accept: curl got $code"

write_conf ""
reload_proxy_and_wait() {
    local gen
    gen=$(stats_get "$S" 'j["generation"]')
    kill -HUP "$PROXY_PID"
    for _ in $(seq 50); do
        [ "$(stats_get "$S" 'j["generation"]')" != "$gen" ] && return 0
        sleep 0.1
    done
    fail "the reload did not take"
}
reload_proxy_and_wait
out=$(silent "$P" 0)
[ "$(echo "$out" | head -1)" = "active 1" ] || fail "after a reload without defer-accept the client waited: $out"

bad="$TMPDIR/bad.conf"
printf 'listen 127.0.0.1:%s defer-accept defer-accept\npool web {\n    server a 127.0.0.1:%s\n}\n' "$P" "$B" >"$bad"
msg=$("$PROXY" -t -c "$bad" 2>&1) && fail "defer-accept twice was accepted"
echo "$msg" | grep -q "bad.conf:1: listen: \"defer-accept\" given twice" || fail "defer-accept twice: $msg"
echo "ok: listen defer-accept"
