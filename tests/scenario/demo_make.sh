#!/usr/bin/env bash
# scenario: alone
# demo_make: `make demo` on ports given on the make line, as a new user runs
# it (issue 14, item 10).  Started in the background with DEMO_PORT,
# DEMO_STATS_PORT and DEMO_BACKEND_PORT on free ports, it must:
#   - answer clients through the proxy on DEMO_PORT, and the stats port on
#     DEMO_STATS_PORT (/healthz, /api/stats);
#   - serve HTTPS on DEMO_TLS_PORT with a certificate it made, and print a
#     `curl --cacert FILE https://localhost:PORT/` line that works as printed
#     (issue 13, item 7);
#   - write the access log to the file it prints ("access log: PATH"), and
#     keep it off the terminal (its own output);
#   - print `kill` lines that name each live process once (the failover
#     steps follow each other: a pid already killed is not named again);
#   - stop everything it started when its script gets SIGTERM (pid from the
#     printed `kill -USR1 PID` line).
# Every check is made and each failure listed, so that a run on the old
# demo shows all that was wrong.  The proxy is $PROXY (demo.sh reads it);
# make is told not to rebuild (-o), so the binary under test is the one run.
set -u
. "${TOPSRC:-$(cd "$(dirname "$0")/../.." && pwd)}/tests/support/lib.sh"

command -v make >/dev/null || fail "make is not installed"

# Four consecutive free ports for the backends, and two more.
port_free() { python3 -c '
import socket, sys
s = socket.socket()
try:
    s.bind(("127.0.0.1", int(sys.argv[1])))
except OSError:
    sys.exit(1)
' "$1"; }
L=$(free_port)
S=$(free_port)
while [ "$S" = "$L" ]; do S=$(free_port); done
T=$(free_port)
while [ "$T" = "$L" ] || [ "$T" = "$S" ]; do T=$(free_port); done
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
echo "ports: client $L, HTTPS $T, stats $S, backends $B-$((B + 3))"

OUT=$TMPDIR/demo.out
# A make of `make test` passes its jobserver in MAKEFLAGS: not to this one.
env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL \
    make --no-print-directory -C "$TOPSRC" -o proxy -o tests/support/backend demo \
    DEMO_PORT="$L" DEMO_TLS_PORT="$T" DEMO_STATS_PORT="$S" DEMO_BACKEND_PORT="$B" >"$OUT" 2>&1 </dev/null &
MAKE_PID=$!
track "$MAKE_PID"

if ! wait_for 30 grep -q 'Ctrl-C stops the demo' "$OUT"; then
    cat "$OUT"
    fail "make demo printed no instructions within 30 s"
fi
# The demo script's pid (to stop it), and what the banner names.
DEMO_PID=$(sed -n 's/^ *kill -USR1 \([0-9][0-9]*\).*/\1/p' "$OUT" | head -n1)
PROXY_PID=$(sed -n 's/.*proxy demo running (proxy pid \([0-9][0-9]*\).*/\1/p' "$OUT" | head -n1)
read -r -a BACKEND_PIDS <<<"$(grep -o '(pid [0-9]*)' "$OUT" | tr -dc '0-9 \n' | tr '\n' ' ')"
for p in $DEMO_PID $PROXY_PID "${BACKEND_PIDS[@]}"; do track "$p"; done
echo "--- make demo printed:"
cat "$OUT"
echo "---"

bad=()

# Clients through the proxy, on the port of the make line.
TAG=demo-make-check-$$-$RANDOM
body=$(curl -s --max-time 5 "http://127.0.0.1:$L/$TAG") || body=
case $body in
*app1* | *app2* | *app3*) ;;
*) bad+=("the proxy does not answer on DEMO_PORT $L (got: '${body:0:80}')") ;;
esac
# One request per server at least, so the access log has lines of each.
for _ in 1 2 3 4 5 6; do curl -s -o /dev/null --max-time 5 "http://127.0.0.1:$L/$TAG"; done

# HTTPS: the printed curl line, run as printed (its words, no shell).
read -r -a TLS_CURL <<<"$(grep -oE 'curl --cacert [^ ]+ https://localhost:[0-9]+/' "$OUT" | head -n1)"
if [ ${#TLS_CURL[@]} -ne 4 ]; then
    bad+=("no 'curl --cacert FILE https://localhost:PORT/' line printed")
else
    [ "${TLS_CURL[3]}" = "https://localhost:$T/" ] || bad+=("the curl --cacert line names ${TLS_CURL[3]}, not DEMO_TLS_PORT $T")
    body=$("${TLS_CURL[@]}" -s --max-time 5) || body="curl exit $?"
    case $body in
    *app1* | *app2* | *app3*) echo "HTTPS as printed: $body" ;;
    *) bad+=("the printed curl --cacert line did not get an answer (got: '${body:0:80}')") ;;
    esac
    key=$(openssl x509 -in "${TLS_CURL[2]}" -noout -text 2>/dev/null | grep -o 'ASN1 OID: prime256v1')
    [ -n "$key" ] || bad+=("the demo certificate ${TLS_CURL[2]} is not ECDSA P-256")
fi

# The stats port of the make line.
code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 5 "http://127.0.0.1:$S/healthz") || code=000
[ "$code" = 200 ] || bad+=("the stats port $S: /healthz gave $code")
pools=$(stats_get "$S" 'j["pools"][0]["name"]' 2>/dev/null) || pools=
[ "$pools" = web ] || bad+=("the stats port $S: /api/stats has no pool web (got '$pools')")

# The access log: in the printed file, not on the terminal.
ALOG=$(sed -n 's/^access log: \(\/.*\)$/\1/p' "$OUT" | head -n1)
if [ -z "$ALOG" ]; then
    bad+=("no 'access log: PATH' line in the output")
elif ! wait_for 5 grep -q "GET /$TAG " "$ALOG"; then
    bad+=("the access log $ALOG has no line for GET /$TAG")
else
    echo "access log $ALOG: $(grep -c "/$TAG" "$ALOG") lines for /$TAG"
fi
sleep 0.5
n=$(grep -c "GET /$TAG" "$OUT")
[ "$n" -eq 0 ] || bad+=("$n access-log lines on the terminal (make demo's output)")

# The kill lines: each pid once, each a live process of the demo.
kill_pids=$(grep -E '^ *kill ' "$OUT" | sed 's/#.*//' | grep -oE '\b[0-9]+\b')
echo "pids on the kill lines: $(echo "$kill_pids" | tr '\n' ' ')"
[ -n "$kill_pids" ] || bad+=("no kill line printed")
dups=$(echo "$kill_pids" | sort | uniq -d | tr '\n' ' ')
[ -z "$dups" ] || bad+=("pids named twice on the kill lines: $dups")
for p in $kill_pids; do
    kill -0 "$p" 2>/dev/null || bad+=("kill line names pid $p, which is not running")
done

# A suggested load command must be installed.
load=$(grep -E '^ *(wrk|ab|hey|siege|oha) ' "$OUT" | awk '{print $1}' | head -n1)
if [ -n "$load" ] && ! command -v "$load" >/dev/null; then
    bad+=("the load command $load is suggested but not installed")
fi

# Stop it by the demo script's pid: everything it started must go.
gone() { ! kill -0 "$1" 2>/dev/null; }
if [ -n "$DEMO_PID" ]; then
    kill -TERM "$DEMO_PID"
    wait_for 15 gone "$MAKE_PID" || bad+=("make demo still runs 15 s after SIGTERM to the demo")
    for p in $PROXY_PID "${BACKEND_PIDS[@]}"; do
        kill -0 "$p" 2>/dev/null && bad+=("pid $p still runs after the demo stopped")
    done
    if [ -n "$ALOG" ] && [ -e "$(dirname "$ALOG")" ]; then
        bad+=("the demo directory $(dirname "$ALOG") is left behind")
    fi
else
    bad+=("no 'kill -USR1 PID' line: cannot stop the demo by its pid")
fi

if [ ${#bad[@]} -gt 0 ]; then
    printf 'wrong: %s\n' "${bad[@]}" >&2
    fail "${#bad[@]} checks of make demo failed"
fi
echo "PASS: make demo on ports $L/$T/$S/$B-$((B + 3)): proxy, HTTPS as printed and stats answer, access log in $ALOG only, kill lines name each live pid once, stopped by pid"
