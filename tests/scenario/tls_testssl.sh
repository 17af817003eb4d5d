#!/usr/bin/env bash
# scenario: alone
# tls_testssl: testssl.sh (the Debian package's `testssl`) against the HTTPS
# listener of the demo (issue 13: "no finding rated HIGH or CRITICAL").
# tests/support/demo.sh runs as `make demo` runs it, on free ports, with
# the certificate it makes (self-signed ECDSA P-256) and conf/demo.conf's
# TLS settings (the defaults).  testssl runs offline on loopback (no DNS
# lookups, no OCSP/CRL: --phone-out is off by default) and only the protocol,
# cipher-category, forward-secrecy and vulnerability sections (--fast);
# its JSON must hold the protocol findings (so it really ran) and none
# rated HIGH or CRITICAL.  SSLv2/SSLv3/TLS 1.0/1.1 not offered, TLS 1.2
# and 1.3 offered are checked by id as well.
set -u
. "${TOPSRC:-$(cd "$(dirname "$0")/../.." && pwd)}/tests/support/lib.sh"
command -v testssl >/dev/null || fail "testssl is not installed (Debian package testssl.sh)"

port_free() { python3 -c '
import socket, sys
s = socket.socket()
try:
    s.bind(("127.0.0.1", int(sys.argv[1])))
except OSError:
    sys.exit(1)
' "$1"; }
L=$(free_port); T=$(free_port); S=$(free_port)
while [ "$T" = "$L" ]; do T=$(free_port); done
while [ "$S" = "$L" ] || [ "$S" = "$T" ]; do S=$(free_port); done
B=
for _ in $(seq 50); do
    b=$(free_port)
    ok=1
    for p in "$b" $((b + 1)) $((b + 2)) $((b + 3)); do
        { [ "$p" != "$L" ] && [ "$p" != "$S" ] && [ "$p" != "$T" ] && port_free "$p"; } || { ok=0; break; }
    done
    [ "$ok" = 1 ] && { B=$b; break; }
done
[ -n "$B" ] || fail "found no four consecutive free ports"

OUT=$TMPDIR/demo.out
DEMO_LISTEN=$L DEMO_TLS=$T DEMO_STATS=$S DEMO_PORT_BASE=$B bash "$TOPSRC/tests/support/demo.sh" >"$OUT" 2>&1 </dev/null &
DEMO_PID=$!
track "$DEMO_PID"
wait_for 30 grep -q 'Ctrl-C stops the demo' "$OUT" || { cat "$OUT"; fail "the demo did not start"; }
CA=$(grep -oE 'curl --cacert [^ ]+ https://localhost:[0-9]+/' "$OUT" | head -n1 | awk '{ print $3 }')
[ -r "$CA" ] || { cat "$OUT"; fail "the demo printed no curl --cacert line with a readable certificate"; }
code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 5 --cacert "$CA" "https://localhost:$T/")
[ "$code" = 200 ] || fail "the demo's HTTPS port $T answered $code"

J=$TMPDIR/testssl.json
t0=$SECONDS
timeout 170 testssl --quiet --color 0 --warnings off --nodns none --fast --connect-timeout 5 --openssl-timeout 10 \
    -p -s -f -U --jsonfile "$J" "127.0.0.1:$T" >"$TMPDIR/testssl.out" 2>&1
rc=$?
secs=$((SECONDS - t0))
echo "measured: testssl exit $rc in ${secs}s"
[ -s "$J" ] || { tail -n 30 "$TMPDIR/testssl.out"; fail "testssl wrote no JSON (exit $rc)"; }
report=$(python3 - "$J" <<'PY'
import json, sys
from collections import Counter
j = json.load(open(sys.argv[1]))
by_id = {x["id"]: x for x in j}
print("severities:", dict(Counter(x["severity"] for x in j)))
bad = [x for x in j if x["severity"] in ("HIGH", "CRITICAL")]
for x in bad:
    print("BAD %s %s: %s" % (x["severity"], x["id"], x["finding"]))
want = {"SSLv2": "not offered", "SSLv3": "not offered", "TLS1": "not offered",
        "TLS1_1": "not offered", "TLS1_2": "offered", "TLS1_3": "offered"}
for k, v in want.items():
    f = by_id.get(k, {}).get("finding", "missing")
    if not f.startswith(v):
        print("BAD protocol %s: %s (expected %s)" % (k, f, v))
for k in ("heartbleed", "CCS", "ticketbleed", "ROBOT", "secure_client_renego", "CRIME_TLS",
          "POODLE_SSL", "fallback_SCSV", "SWEET32", "FREAK", "DROWN", "LOGJAM", "BEAST", "LUCKY13"):
    if k not in by_id:
        print("BAD missing vulnerability check %s" % k)
for x in j:
    if x["id"] in ("TLS1_2", "TLS1_3", "FS", "cipherlist_AVERAGE", "cipherlist_3DES_IDEA", "cipherlist_OBSOLETED"):
        print("  %s: %s" % (x["id"], x["finding"]))
PY
)
echo "$report"
if printf '%s\n' "$report" | grep -q '^BAD'; then
    grep -E 'HIGH|CRITICAL|NOT ok|VULNERABLE' "$TMPDIR/testssl.out" | head -n 20
    fail "testssl found problems on the demo's TLS listener"
fi
[ "$secs" -lt 170 ] || fail "testssl took ${secs}s"
kill -TERM "$DEMO_PID"
wait_for 10 eval '! kill -0 "$DEMO_PID" 2>/dev/null' || fail "the demo did not stop"
echo "PASS: testssl on the demo's HTTPS listener: no HIGH or CRITICAL finding, TLS 1.2 and 1.3 only, every vulnerability check run (${secs}s)"
