#!/usr/bin/env bash
# scenario: alone
# rehearse_exit.sh: how `proxy rehearse` ends (CONTRACT 11): "Exit code 0
# when the top rate held, 3 when the SLO broke at some step", and "it stops
# at the first step that breaks the SLO and reports the last step that
# held".  Through the real proxy to the test backend, at 20-60 req/s (1 s
# steps, a generous p99 so that a busy machine does not break a step):
#   - 20:40:20 against a healthy server: exit 0, two steps, both held,
#     capacity 40 (the top rate);
#   - 20:60:20 against a server answering 500 (?status=500, errors=1%):
#     the first step breaks, exit 3, the report has that one step only (the
#     40 and 60 steps are not run), capacity 0;
#   - --paths "3 GET /a, 1 POST /b" at 40/s: the proxy's access log has
#     every request sent, in about that mix (/a 20-36 of 40, /b 4-20).
set -u
. "${TOPSRC:-$(cd "$(dirname "$0")/../.." && pwd)}/tests/support/lib.sh"

P=$(free_port); B=$(free_port)
start_backend "$B" app
cat >"$TMPDIR/proxy.conf" <<CONF
workers 1
access-log $TMPDIR/access.log
listen 127.0.0.1:$P
pool web {
    check off
    server app 127.0.0.1:$B
}
CONF
start_proxy "$TMPDIR/proxy.conf" "$P"

# rehearse NAME URL RATE [OPTION...]: runs it, sets rc and summary (capacity, the
# number of steps, their rates and held flags).
rehearse() {
    local dir=$TMPDIR/$1
    "$PROXY" rehearse "$2" --rate "$3" --step-time 1s --slo p99=2s,errors=1% --report "$dir" "${@:4}" \
        >"$TMPDIR/$1.out" 2>&1 &
    local rp=$!
    track "$rp"
    wait "$rp"
    rc=$?
    cat "$TMPDIR/$1.out"
    [ -s "$dir/report.json" ] || fail "$1: no report.json (exit $rc)"
    summary=$(python3 - "$dir/report.json" <<'PY'
import json, sys
j = json.load(open(sys.argv[1]))
print(j["capacity"], len(j["steps"]), ",".join("%d:%s" % (s["rate"], s["held"]) for s in j["steps"]))
PY
) || fail "$1: report.json does not parse"
    echo "measured: $1: exit $rc, capacity steps rate:held = $summary"
}

rehearse held "http://127.0.0.1:$P/" 20:40:20
[ "$rc" = 0 ] || fail "every step held but proxy rehearse exited $rc, expected 0"
[ "$summary" = "40 2 20:True,40:True" ] || fail "held run: '$summary', expected '40 2 20:True,40:True'"

rehearse broken "http://127.0.0.1:$P/?status=500" 20:60:20
[ "$rc" = 3 ] || fail "the SLO broke at the first step but proxy rehearse exited $rc, expected 3"
[ "$summary" = "0 1 20:False" ] ||
    fail "broken run: '$summary', expected '0 1 20:False' (stop at the first broken step, no capacity)"

printf '# the mix\n3 GET /a\n1 POST /b\n' >"$TMPDIR/paths"
rehearse mix "http://127.0.0.1:$P/" 40 --paths "$TMPDIR/paths"
[ "$rc" = 0 ] || fail "the mix run exited $rc"
sent=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["steps"][0]["sent"])' "$TMPDIR/mix/report.json")
wait_for 3 test "$(grep -c '"\(GET /a\|POST /b\) HTTP/1.1" 200' "$TMPDIR/access.log")" = "$sent"
a=$(grep -c '"GET /a HTTP/1.1" 200' "$TMPDIR/access.log"); b=$(grep -c '"POST /b HTTP/1.1" 200' "$TMPDIR/access.log")
echo "measured: --paths 3 GET /a, 1 POST /b: sent $sent, the proxy logged GET /a $a, POST /b $b"
[ $((a + b)) = "$sent" ] || fail "--paths: the proxy logged $a + $b requests of the mix, report.json says $sent sent"
[ "$a" -ge 20 ] && [ "$a" -le 36 ] && [ "$b" -ge 4 ] && [ "$b" -le 20 ] ||
    fail "--paths 3:1: GET /a $a, POST /b $b of $sent, not the weighted mix"

stop_pid "$PROXY_PID"
echo "PASS: exit 0 when the top rate held, 3 and no further step once the SLO broke, --paths sends its weighted mix"
