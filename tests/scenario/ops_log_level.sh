#!/usr/bin/env bash
# ops_log_level.sh: `log-level` filters what goes to stderr (CONTRACT.md
# section 2: error | warn | info | debug).  The same run under each level:
# start, a request, SIGUSR1 (access log reopened: info), a server failing its
# health check (server-down: warn), SIGTERM (graceful stop: info).
#   debug: debug, info and warn lines
#   info:  info and warn lines, no debug
#   warn:  warn lines (server-down), no info, no debug
#   error: none of warn, info, debug
set -u
. "${TOPSRC:-$(cd "$(dirname "$0")/../.." && pwd)}/tests/support/lib.sh"

P=$(free_port); B1=$(free_port); B2=$(free_port)
start_backend "$B1" app1
start_backend "$B2" app2 -f "$TMPDIR/app2.fail"

run_level() { # LEVEL -> log in $TMPDIR/log-LEVEL
    local level=$1 log=$TMPDIR/log-$1 rc
    rm -f "$TMPDIR/app2.fail"
    cat >"$TMPDIR/proxy.conf" <<CONF
workers 1
log-level $level
access-log $TMPDIR/access-$level.log
listen 127.0.0.1:$P
pool web {
    check http /healthz
    interval 100ms
    check-timeout 500ms
    fall 1
    server app1 127.0.0.1:$B1
    server app2 127.0.0.1:$B2
}
CONF
    "$PROXY" -c "$TMPDIR/proxy.conf" >"$log" 2>&1 &
    PROXY_PID=$!; track "$PROXY_PID"
    wait_port "$P" 5 "$PROXY_PID" || { cat "$log"; fail "log-level $level: proxy did not start"; }
    [ "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$P/")" = 200 ] || fail "log-level $level: request failed"
    kill -USR1 "$PROXY_PID"
    wait_for 3 test -s "$TMPDIR/access-$level.log" || fail "log-level $level: no access log line"
    # app2 fails its checks: the server-down event (warn).  Its access log
    # line shows the reopen was done too; wait for the check to have run.
    : >"$TMPDIR/app2.fail"
    curl -s -o /dev/null "http://127.0.0.1:$P/mark-$level"
    wait_for 3 curl_down || fail "log-level $level: app2 never failed its checks"
    kill -TERM "$PROXY_PID"; wait "$PROXY_PID"; rc=$?
    [ "$rc" = 0 ] || fail "log-level $level: exit $rc"
    echo "--- log-level $level: $(grep -c . "$log") lines:"; sed 's/^/    /' "$log"
}
# app2 is down once the proxy sends it nothing: 6 requests all to app1.
curl_down() {
    local i
    for i in 1 2 3 4 5 6; do
        [ "$(curl -s "http://127.0.0.1:$P/")" = app1 ] || return 1
    done
}
has() { grep -Eq "^[0-9T:.-]+Z $2 " "$TMPDIR/log-$1"; }

for level in debug info warn error; do run_level "$level"; done

has debug debug || fail "log-level debug: no debug line"
has debug info || fail "log-level debug: no info line"
has debug warn || fail "log-level debug: no warn line"
has info info || fail "log-level info: no info line"
has info warn || fail "log-level info: no warn line"
has info debug && fail "log-level info: debug lines written"
has warn warn || fail "log-level warn: the server-down warn line is missing"
grep -q 'server-down' "$TMPDIR/log-warn" || fail "log-level warn: no server-down event"
has warn info && fail "log-level warn: info lines written"
has warn debug && fail "log-level warn: debug lines written"
has error warn && fail "log-level error: warn lines written"
has error info && fail "log-level error: info lines written"
has error debug && fail "log-level error: debug lines written"
echo "PASS: log-level filters stderr lines by level"
