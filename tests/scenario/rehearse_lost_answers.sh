#!/usr/bin/env bash
# rehearse_lost_answers.sh: requests that get no whole answer count
# against the SLO in `proxy rehearse` (CONTRACT 11), straight against two
# test servers:
#   - timeouts: 2 of every 50 requests take 3 s against --timeout 1s.  They
#     count in the latencies at the timeout (left out before, the step's
#     p99 was the fast requests' 3 ms, it held, exit 0): p99 >= 1000 ms,
#     the step breaks (exit 3), and report.json's "answered" leaves them
#     out (it counted every request);
#   - a body delimited by the close and cut by a reset is an error
#     ("closed"), not an answer.
set -u
. "${TOPSRC:-$(cd "$(dirname "$0")/../.." && pwd)}/tests/support/lib.sh"

B=$(free_port); R=$(free_port)
start_backend "$B" app
python3 -c '
import sys
sys.path.insert(0, sys.argv[2])
from raw_http import serve
import socket, struct
def handle(c, head, rest):
    c.sendall(b"HTTP/1.1 200 OK\r\n\r\npartial body")
    c.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
serve(int(sys.argv[1]), handle)
' "$R" "$TOPSRC/tests/scenario" &
track $!
wait_port "$R" 5 || fail "the resetting server did not start"

printf '48 GET /\n2 GET /?delay=3000\n' >"$TMPDIR/mix"
"$PROXY" rehearse "http://127.0.0.1:$B/" --paths "$TMPDIR/mix" --rate 50 --step-time 2s --timeout 1s \
    --slo p99=300ms,errors=10% --report "$TMPDIR/slow" >"$TMPDIR/slow.out" 2>&1
rc=$?
j=$(python3 -c 'import json, sys; s = json.load(open(sys.argv[1]))["steps"][0]
print(s["errors_by_kind"]["timeout"], s["p99_ms"], s["held"], s["answered"], s["sent"])' "$TMPDIR/slow/report.json") ||
    fail "no report.json: $(tail -5 "$TMPDIR/slow.out")"
read -r timeouts p99 held answered sent <<<"$j"
echo "slow requests: exit $rc; timeouts $timeouts, p99 ${p99} ms, held $held, answered $answered of $sent"
[ "$timeouts" -ge 1 ] || fail "no timeout counted"
python3 -c 'import sys; sys.exit(0 if float(sys.argv[1]) >= 1000 else 1)' "$p99" ||
    fail "p99 ${p99} ms with $timeouts requests timed out at 1 s (they were left out of the latencies)"
[ "$held" = False ] || fail "the step held with $timeouts timeouts taking its p99 past the SLO"
[ "$rc" = 3 ] || fail "exit $rc, expected 3 (the SLO broke)"
[ "$answered" -le $((sent - timeouts)) ] || fail "answered $answered of $sent counts the $timeouts timeouts"

"$PROXY" rehearse "http://127.0.0.1:$R/" --rate 10 --step-time 1s --report "$TMPDIR/reset" >"$TMPDIR/reset.out" 2>&1
rc=$?
closed=$(python3 -c 'import json, sys; print(json.load(open(sys.argv[1]))["steps"][0]["errors_by_kind"]["closed"])' \
    "$TMPDIR/reset/report.json") || fail "no report.json: $(tail -5 "$TMPDIR/reset.out")"
echo "bodies cut by a reset: exit $rc, closed errors $closed"
[ "$closed" -ge 5 ] || fail "bodies cut by a reset counted as answers (closed errors: $closed)"
[ "$rc" = 3 ] || fail "exit $rc with every body cut by a reset, expected 3"
echo "ok: timeouts and reset bodies count against the SLO"
