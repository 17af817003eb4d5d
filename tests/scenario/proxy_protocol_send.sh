#!/usr/bin/env bash
# proxy_protocol_send.sh: send-proxy v1 and v2 as servers see them (issue 18
# item 4), recorded byte for byte by a raw test server (proxy_protocol.py).
#
#  - send-proxy v1: a client from 127.0.0.5 -> "PROXY TCP4 127.0.0.5
#    127.0.0.1 <its port> <listen port>\r\n" and then its request; an IPv6
#    client -> "PROXY TCP6 ::1 ::1 ..."; the pool's HTTP checks start with
#    the check connection's own endpoints (v1 has no LOCAL; HAProxy does the
#    same) and then GET /health.
#  - send-proxy v2: a client from 127.0.0.6 -> the 28-byte v2 PROXY TCP4
#    header; the pool's TCP checks send v2 LOCAL (16 bytes) and close.
#  - a listener with proxy-protocol in front: the header the proxy sends on
#    is the one its own client's header gave (source and destination).
#  - two requests on one client connection open two server connections
#    (never pooled), each with its header.
set -u
. "${TOPSRC:-$(cd "$(dirname "$0")/../.." && pwd)}/tests/support/lib.sh"

P=$(free_port); P6=$(free_port); PP=$(free_port); A=$(free_port); B=$(free_port)
python3 "$TOPSRC/tests/scenario/proxy_protocol.py" server "$A" "$TMPDIR/v1.log" &
track $!
python3 "$TOPSRC/tests/scenario/proxy_protocol.py" server "$B" "$TMPDIR/v2.log" &
track $!
wait_port "$A" 5 && wait_port "$B" 5 || fail "raw servers did not start"
# (wait_port's own probes are logged too: start the logs afresh)
sleep 0.3
: >"$TMPDIR/v1.log"
: >"$TMPDIR/v2.log"
cat >"$TMPDIR/proxy.conf" <<CONF
workers 2
access-log off
listen 127.0.0.1:$P
listen [::1]:$P6
listen 127.0.0.1:$PP proxy-protocol
pool v1 {
    check http /health
    interval 300ms
    send-proxy v1
    server a 127.0.0.1:$A
}
pool v2 {
    check tcp
    interval 300ms
    send-proxy v2
    server b 127.0.0.1:$B
}
route path /v1 pool v1
route path /v2 pool v2
CONF
start_proxy "$TMPDIR/proxy.conf" "$P" "$PP"
# Checks run at once and then every 300ms: a few of each by now.
sleep 1

out=$(curl -s --max-time 5 --interface 127.0.0.5 "http://127.0.0.1:$P/v1/a") || fail "curl /v1 failed"
[ "$out" = ok ] || fail "/v1 answered '$out'"
out=$(curl -s --max-time 5 -g "http://[::1]:$P6/v1/six") || fail "curl /v1 over IPv6 failed"
[ "$out" = ok ] || fail "/v1 over IPv6 answered '$out'"
out=$(curl -s --max-time 5 --interface 127.0.0.6 "http://127.0.0.1:$P/v2/a" "http://127.0.0.1:$P/v2/b") ||
    fail "curl /v2 failed"
[ "$out" = okok ] || fail "/v2 answered '$out'"
out=$(python3 "$TOPSRC/tests/scenario/proxy_protocol.py" send "$PP" v1-tcp4 /v1/behind)
case $out in "status=200 "*) ;; *) fail "through the proxy-protocol listener: $out" ;; esac
# (the raw server has no /echo: it answers "ok", so xff is not shown)
sleep 0.2

python3 - "$TMPDIR/v1.log" "$TMPDIR/v2.log" "$P" "$P6" "$PP" "$A" "$B" <<'PY' || fail "headers not as expected"
import json, sys
v1log, v2log, P, P6, PP, A, B = sys.argv[1], sys.argv[2], *map(int, sys.argv[3:])
def load(p):
    return [json.loads(l) for l in open(p)]
v1, v2 = load(v1log), load(v2log)
bad = [r for r in v1 + v2 if "error" in r]
assert not bad, "connections without a valid header: %r" % bad

def req(recs, path):
    return [r for r in recs if r["then"].startswith("GET " + path)]

r = req(v1, "/v1/a ")
assert len(r) == 1, r
h = r[0]["header"]
want = "PROXY TCP4 127.0.0.5 127.0.0.1 %d %d\r\n" % (h["sport"], P)
assert bytes.fromhex(r[0]["hex"]).decode() == want, (r[0]["hex"], want)
assert h["sport"] != r[0]["peer_port"], "the source port is the client's, not the proxy's"
print("v1 client:", want.strip())

r = req(v1, "/v1/six ")
assert len(r) == 1, r
h = r[0]["header"]
want = "PROXY TCP6 ::1 ::1 %d %d\r\n" % (h["sport"], P6)
assert bytes.fromhex(r[0]["hex"]).decode() == want, (r[0]["hex"], want)
print("v1 client over IPv6:", want.strip())

r = req(v1, "/health ")
assert len(r) >= 2, "checks with v1: %r" % r
for c in r:
    h = c["header"]
    assert h["proto"] == "TCP4" and h["src"] == "127.0.0.1" and h["dst"] == "127.0.0.1", h
    assert h["sport"] == c["peer_port"] and h["dport"] == A, "a check gives its own endpoints: %r" % c
print("v1 checks:", len(r), "e.g.", bytes.fromhex(r[0]["hex"]).decode().strip())

r = req(v1, "/v1/behind ")
assert len(r) == 1, r
want = "PROXY TCP4 198.51.100.9 203.0.113.1 1234 443\r\n"
assert bytes.fromhex(r[0]["hex"]).decode() == want, r
print("behind a proxy-protocol listener:", want.strip())

for path in ("/v2/a ", "/v2/b "):
    r = req(v2, path)
    assert len(r) == 1, (path, r)
    raw = bytes.fromhex(r[0]["hex"])
    h = r[0]["header"]
    assert len(raw) == 28 and raw[12] == 0x21 and raw[13] == 0x11, r
    assert h["src"] == "127.0.0.6" and h["dst"] == "127.0.0.1" and h["dport"] == P, h
a, b = req(v2, "/v2/a ")[0], req(v2, "/v2/b ")[0]
assert a["peer_port"] != b["peer_port"], "two requests, two server connections"
assert a["header"]["sport"] == b["header"]["sport"], "one client connection: one source port"
print("v2 client:", raw.hex())

checks = [r for r in v2 if r["then"] == ""]
assert len(checks) >= 2, "tcp checks with v2: %r" % checks
for c in checks:
    assert c["hex"] == "0d0a0d0a000d0a515549540a20000000", c
print("v2 checks:", len(checks), "LOCAL", checks[0]["hex"])
PY
echo "PASS"
