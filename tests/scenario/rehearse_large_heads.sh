#!/usr/bin/env bash
# rehearse_large_heads.sh: `proxy rehearse` takes response heads up to
# 64 KiB, as the proxy does (limit response-header-size goes to 64k, 16k
# by default): a site whose answers carry a 12 KiB head (cookies, a long
# Content-Security-Policy) rehearsed as all `bad`, the SLO broken at the
# first step.  Heads over 64 KiB stay `bad`.
set -u
. "${TOPSRC:-$(cd "$(dirname "$0")/../.." && pwd)}/tests/support/lib.sh"

R=$(free_port)
python3 -c '
import sys
sys.path.insert(0, sys.argv[2])
from raw_http import serve
def handle(c, head, rest):
    size = 70000 if b" /huge" in head else 12000
    c.sendall(b"HTTP/1.1 200 OK\r\nSet-Cookie: s=" + b"c" * size + b"\r\nContent-Length: 2\r\n\r\nok")
    while c.recv(65536):  # keep-alive: the next request, or the end
        c.sendall(b"HTTP/1.1 200 OK\r\nSet-Cookie: s=" + b"c" * size + b"\r\nContent-Length: 2\r\n\r\nok")
serve(int(sys.argv[1]), handle)
' "$R" "$TOPSRC/tests/scenario" &
track $!
wait_port "$R" 5 || fail "the test server did not start"

step() {   # PATH NAME: one step of 20 requests/s, its answered and bad counts
    "$PROXY" rehearse "http://127.0.0.1:$R$1" --rate 20 --step-time 1s --report "$TMPDIR/$2" >"$TMPDIR/$2.out" 2>&1
    python3 -c 'import json, sys; s = json.load(open(sys.argv[1]))["steps"][0]
print(s["answered"], s["errors_by_kind"]["bad"])' "$TMPDIR/$2/report.json" ||
        fail "no report.json: $(tail -5 "$TMPDIR/$2.out")"
}
read -r answered bad <<<"$(step /large large)"
echo "12 KiB heads: answered $answered, bad $bad"
[ "$bad" = 0 ] && [ "$answered" -ge 15 ] || fail "12 KiB response heads: answered $answered, bad $bad"
read -r answered bad <<<"$(step /huge huge)"
echo "70 KB heads: answered $answered, bad $bad"
[ "$answered" = 0 ] && [ "$bad" -ge 15 ] || fail "heads over 64 KiB: answered $answered, bad $bad (expected all bad)"
echo "ok: response heads up to 64 KiB are answers"
