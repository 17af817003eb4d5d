#!/usr/bin/env bash
# ops_service_notify.sh: what a service manager sees.  The proxy starts
# with NOTIFY_SOCKET pointing at a datagram socket this test holds (as
# systemd does for Type=notify) and -p PIDFILE: it says READY=1 with a
# STATUS line once listening and writes its pid; around a SIGHUP it says
# RELOADING=1 with MONOTONIC_USEC, then READY=1 (also when the reload
# fails and the running configuration stays); on SIGTERM STOPPING=1, and
# the pid file is gone once it has exited.  conf/proxy.service passes
# systemd-analyze verify (where systemd-analyze exists).
set -u
. "${TOPSRC:-$(cd "$(dirname "$0")/../.." && pwd)}/tests/support/lib.sh"

P=$(free_port); B=$(free_port)
start_backend "$B" app1
proxy_conf_basic "$TMPDIR/proxy.conf" "$P" "app1 127.0.0.1:$B"
SOCK=$TMPDIR/notify.sock
python3 - "$SOCK" "$TMPDIR/notify.log" <<'PY' &
import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sys.argv[1])
with open(sys.argv[2], "a", buffering=1) as log:
    while True:
        msg = s.recv(4096).decode()
        log.write(msg.replace("\n", " | ") + "\n")
PY
track $!
wait_for 5 test -S "$SOCK" || fail "the notify socket did not appear"

NOTIFY_SOCKET=$SOCK "$PROXY" -c "$TMPDIR/proxy.conf" -p "$TMPDIR/proxy.pid" >>"$TMPDIR/proxy.log" 2>&1 &
PROXY_PID=$!; track "$PROXY_PID"
wait_port "$P" 5 "$PROXY_PID" || fail "proxy did not start"
wait_for 5 grep -q '^READY=1' "$TMPDIR/notify.log" || fail "no READY=1: $(cat "$TMPDIR/notify.log")"
grep -q '^READY=1 | STATUS=generation 1, 1 of 1 servers up$' "$TMPDIR/notify.log" ||
    fail "READY without the expected STATUS: $(cat "$TMPDIR/notify.log")"
wait_for 2 test -s "$TMPDIR/proxy.pid" || fail "no pid file"
[ "$(cat "$TMPDIR/proxy.pid")" = "$PROXY_PID" ] || fail "pid file says $(cat "$TMPDIR/proxy.pid"), the proxy is $PROXY_PID"
echo "start: $(head -n1 "$TMPDIR/notify.log"); pid file $(cat "$TMPDIR/proxy.pid")"

kill -HUP "$PROXY_PID"
wait_for 5 sh -c "grep -c '^READY=1' '$TMPDIR/notify.log' | grep -qx 2" || fail "no READY=1 after the reload: $(cat "$TMPDIR/notify.log")"
sed -n 2p "$TMPDIR/notify.log" | grep -Eq '^RELOADING=1 \| MONOTONIC_USEC=[0-9]+$' ||
    fail "the reload did not start with RELOADING=1 and MONOTONIC_USEC: $(cat "$TMPDIR/notify.log")"
grep -q 'STATUS=generation 2, ' "$TMPDIR/notify.log" || fail "no generation 2 after the reload"
echo "reload: $(sed -n 2p "$TMPDIR/notify.log"), then $(sed -n 3p "$TMPDIR/notify.log")"

# A broken configuration: the reload fails, READY=1 still follows.
echo "bogus directive" >>"$TMPDIR/proxy.conf"
kill -HUP "$PROXY_PID"
wait_for 5 sh -c "grep -c '^READY=1' '$TMPDIR/notify.log' | grep -qx 3" || fail "no READY=1 after a failed reload"
grep -q 'STATUS=generation 2, ' <(tail -n1 "$TMPDIR/notify.log") || fail "a failed reload changed the generation"
echo "failed reload: $(tail -n1 "$TMPDIR/notify.log")"

kill -TERM "$PROXY_PID"
wait_for 5 grep -q '^STOPPING=1' "$TMPDIR/notify.log" || fail "no STOPPING=1"
wait "$PROXY_PID"; rc=$?
[ "$rc" = 0 ] || fail "the proxy exited $rc"
[ ! -e "$TMPDIR/proxy.pid" ] || fail "the pid file is still there after the exit"
echo "stop: STOPPING=1, exit 0, pid file removed"

if command -v systemd-analyze >/dev/null; then
    sed "s#/usr/sbin/proxy#$PROXY#g" "$TOPSRC/conf/proxy.service" >"$TMPDIR/proxy.service"
    out=$(systemd-analyze verify "$TMPDIR/proxy.service" 2>&1 | grep -v 'man proxy(8)')
    [ -z "$out" ] || fail "systemd-analyze verify conf/proxy.service: $out"
    echo "conf/proxy.service: systemd-analyze verify is clean"
fi
echo "PASS"
