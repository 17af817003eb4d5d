#!/usr/bin/env bash
# ops_access_log.sh: the access log goes to a file, one line per request
# with client, request line, status, bytes, pool, server and durations
# (proxy-made answers included); SIGUSR1 reopens it after a rotation (mv),
# so new lines go to the new file and none are lost; a second stop signal
# ends a graceful stop at once.
set -u
. "${TOPSRC:-$(cd "$(dirname "$0")/../.." && pwd)}/tests/support/lib.sh"

P=$(free_port); B1=$(free_port)
LOGF=$TMPDIR/access.log
cat >"$TMPDIR/proxy.conf" <<CONF
workers 2
log-level info
access-log $LOGF
listen 127.0.0.1:$P
pool web {
    check off
    server app1 127.0.0.1:$B1
}
CONF
start_backend "$B1" app1
start_proxy "$TMPDIR/proxy.conf" "$P"

for i in 1 2 3; do curl -s -o /dev/null "http://127.0.0.1:$P/page$i"; done
printf 'GET / HTTP/1.1\r\n\r\n' | timeout 2 bash -c "exec 3<>/dev/tcp/127.0.0.1/$P; cat >&3; cat <&3" >/dev/null
# Counted at each try (the 400's line can come a moment after its answer).
log_lines_at_least() { [ "$(wc -l <"$LOGF" 2>/dev/null || echo 0)" -ge "$1" ]; }
wait_for 3 log_lines_at_least 4 || fail "expected 4 access log lines, got: $(cat "$LOGF")"
line=$(grep '"GET /page2 HTTP/1.1"' "$LOGF") || fail "no line for /page2 in: $(cat "$LOGF")"
echo "a line: $line"
echo "$line" | grep -Eq '^127\.0\.0\.1 \[[0-9]{2}/[A-Z][a-z]{2}/[0-9]{4}:[0-9:]{8} \+0000\] "GET /page2 HTTP/1\.1" 200 [0-9]+ web app1 total=[0-9.]+ms connect=[0-9.]+ms response=[0-9.]+ms$' ||
    fail "access log line not in the documented format: $line"
grep -q '" 400 ' "$LOGF" || fail "the proxy-made 400 (no Host) is not in the access log"

mv "$LOGF" "$LOGF.1"
kill -USR1 "$PROXY_PID"
wait_for 3 test -e "$LOGF" || fail "SIGUSR1 did not reopen $LOGF"
curl -s -o /dev/null "http://127.0.0.1:$P/after"
wait_for 3 grep -q '"GET /after ' "$LOGF" || fail "the request after the rotation is not in the new file"
grep -q '"GET /after ' "$LOGF.1" && fail "the request after the rotation went to the rotated file"
grep -q 'access log reopened' "$TMPDIR/proxy.log" || fail "the reopen is not logged"
echo "rotation: $(wc -l <"$LOGF.1") lines in the old file, $(wc -l <"$LOGF") in the new one"

# A second stop signal during a graceful stop exits at once, with 0.
curl -s -o /dev/null "http://127.0.0.1:$P/?delay=5000" &
CURL=$!
sleep 0.3
t0=$(date +%s%N)
kill -TERM "$PROXY_PID"; sleep 0.2; kill -TERM "$PROXY_PID"
wait "$PROXY_PID"; rc=$?
ms=$(( ($(date +%s%N) - t0) / 1000000 ))
wait "$CURL" 2>/dev/null
[ "$rc" = 0 ] || fail "exit status $rc after a second TERM, want 0"
[ "$ms" -lt 2000 ] || fail "the second TERM took ${ms}ms to stop the proxy (a 5 s request was in flight)"
grep -q 'second stop signal' "$TMPDIR/proxy.log" || fail "the immediate stop is not logged"
echo "second TERM: exit 0 after ${ms}ms with a 5 s request in flight"
echo "PASS: access log to a file, rotation with SIGUSR1, immediate second stop"
