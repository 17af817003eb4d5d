#!/usr/bin/env bash
# scenario: alone
# harden_emfile_checks.sh: health checks while the proxy is out of fds
# (issue 11 item 3).
#
# The proxy runs with 64 fds (a limit it cannot raise), two healthy servers
# checked every 300ms, fall 2, rise 3.  100 idle client connections take
# every fd for 3s: each check then fails at socket() with EMFILE, a failure
# of the proxy, not of the servers.  Such a check must neither count against
# a server nor change its state, and is counted as a local error.  So, once
# the clients are gone and the fds back:
#   - the first request is served (200), not a 503 while the servers wait
#     for `rise` passing checks (about 1s here);
#   - the stats JSON shows both servers up and check.local_errors > 0;
#   - no server-down event was logged, and the local errors were logged,
#     rate-limited (at most one line per 10s, not one per check).
set -u
. "${TOPSRC:-$(cd "$(dirname "$0")/../.." && pwd)}/tests/support/lib.sh"

P=$(free_port); S=$(free_port); B1=$(free_port); B2=$(free_port)
start_backend "$B1" app1
start_backend "$B2" app2

cat >"$TMPDIR/proxy.conf" <<CONF
workers 1
access-log off
listen 127.0.0.1:$P
stats 127.0.0.1:$S
timeout client 30s
timeout keep-alive 30s
pool web {
    check tcp
    interval 300ms
    check-timeout 250ms
    fall 2
    rise 3
    server app1 127.0.0.1:$B1
    server app2 127.0.0.1:$B2
}
CONF
PROXY_WRAP="nofile_exec 64 64" start_proxy "$TMPDIR/proxy.conf" "$P" "$S"

# server_field NAME FIELD...: a field of a server in the stats JSON
# (check.local_errors is `check local_errors`).
server_field() {
    stats_get "$S" 'dig(srv(sys.argv[1]), *sys.argv[2:])' "$@"
}
both_up() {
    [ "$(server_field app1 state)" = up ] && [ "$(server_field app2 state)" = up ]
}
wait_for 5 both_up || fail "servers not up at start"
code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 3 "http://127.0.0.1:$P/")
[ "$code" = 200 ] || fail "before the flood: got $code, expected 200"

# Holds 100 idle connections (more than the fds left) for HOLD seconds,
# then closes them and, as soon as the proxy has let go of their fds (its
# fd count is back near what it was), sends one request: its status shows
# whether the servers stayed up.
cat >"$TMPDIR/hold.py" <<'PY'
import os, socket, sys, time, urllib.request, urllib.error
port, pid, hold = int(sys.argv[1]), int(sys.argv[2]), float(sys.argv[3])
def nfd():
    return len(os.listdir("/proc/%d/fd" % pid))
rest = nfd()
socks = []
for _ in range(100):
    s = socket.socket()
    s.settimeout(2)
    try:
        s.connect(("127.0.0.1", port))
        socks.append(s)
    except OSError:
        s.close()
time.sleep(0.3)
print("held %d proxy-fds %d (at rest %d)" % (len(socks), nfd(), rest))
time.sleep(hold)
for s in socks:
    s.close()
t0 = time.time()
while nfd() > rest + 4 and time.time() - t0 < 3:
    time.sleep(0.02)
print("fds back after %.2fs: %d" % (time.time() - t0, nfd()))
try:
    code = urllib.request.urlopen("http://127.0.0.1:%d/" % port, timeout=2).status
except urllib.error.HTTPError as e:
    code = e.code
except OSError as e:
    code = "error %s" % e
print("first request after: %s" % code)
PY
out=$(python3 "$TMPDIR/hold.py" "$P" "$PROXY_PID" 3) || fail "hold.py failed: $out"
echo "$out" | sed 's/^/  /'
kill -0 "$PROXY_PID" 2>/dev/null || fail "proxy died while out of fds"
held_fds=$(echo "$out" | sed -n 's/.* proxy-fds \([0-9]*\) .*/\1/p')
[ "${held_fds:-0}" -ge 60 ] || fail "the clients did not use up the proxy's fds: $out"

state1=$(server_field app1 state); state2=$(server_field app2 state)
le1=$(server_field app1 check local_errors); le2=$(server_field app2 check local_errors)
echo "  after: app1 $state1 (local errors $le1), app2 $state2 (local errors $le2)"
echo "$out" | grep -q '^first request after: 200$' ||
    fail "the first request once fds were back did not get 200 (servers marked down by checks that failed with EMFILE?)"
[ "$state1" = up ] && [ "$state2" = up ] ||
    fail "servers not up right after the fds came back: app1 $state1, app2 $state2"
grep -q 'server-down' "$TMPDIR/proxy.log" &&
    fail "a server was marked down while only the proxy was out of fds: $(grep 'server-down' "$TMPDIR/proxy.log" | head -2)"
[ "$le1" != - ] && [ "$le1" -gt 0 ] && [ "$le2" -gt 0 ] ||
    fail "local check errors not counted in the stats JSON (check.local_errors: app1 $le1, app2 $le2)"
curl -s --max-time 2 "http://127.0.0.1:$S/metrics" |
    grep -q '^proxy_server_check_local_errors_total{pool="web",server="app1"} [1-9]' ||
    fail "no proxy_server_check_local_errors_total for app1 in /metrics"
n=$(grep -c 'a local error, not counted' "$TMPDIR/proxy.log")
[ "$n" -ge 1 ] && [ "$n" -le 2 ] ||
    fail "local check errors logged $n times in about 3s (expected 1, rate-limited)"
grep 'a local error, not counted' "$TMPDIR/proxy.log" | head -1 | sed 's/^/  log: /'
for _ in 1 2 3; do
    code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 2 "http://127.0.0.1:$P/")
    [ "$code" = 200 ] || fail "after the flood: got $code, expected 200"
done
stop_pid "$PROXY_PID"
echo "PASS"
