#!/usr/bin/env bash
# ops_service_notify.sh: what a service manager sees.  The proxy starts
# with NOTIFY_SOCKET pointing at a datagram socket this test holds (as
# systemd does for Type=notify) and -p PIDFILE: it says READY=1 with a
# STATUS line once listening and writes its pid; around a SIGHUP it says
# RELOADING=1 with MONOTONIC_USEC, then READY=1 (also when the reload
# fails and the running configuration stays); on SIGTERM STOPPING=1, and
# the pid file is gone once it has exited.  The proxy is started and
# reloaded with conf/proxy.service's own command lines (its paths made this
# test's): Type=notify, ExecStartPre, ExecStart, and ExecReload in order,
# whose first line (`proxy -t`) refuses a broken configuration so that no
# SIGHUP is sent.  conf/proxy.service passes systemd-analyze verify (where
# systemd-analyze exists).
set -u
. "${TOPSRC:-$(cd "$(dirname "$0")/../.." && pwd)}/tests/support/lib.sh"

UNIT=$TOPSRC/conf/proxy.service
# unit_lines KEY: the unit's KEY= values, one a line, with this test's
# binary, configuration, pid file and main pid ($PROXY_PID once known).
unit_lines() {
    sed -n "s/^$1=//p" "$UNIT" | sed -e "s#/usr/sbin/proxy#$PROXY#g" -e "s#/etc/proxy/proxy.conf#$TMPDIR/proxy.conf#g" \
        -e "s#/run/proxy/proxy.pid#$TMPDIR/proxy.pid#g" -e "s#\\\$MAINPID#${PROXY_PID:-}#g"
}
# unit_run KEY: runs the unit's KEY= lines in order as systemd does (no
# shell), stopping at the first that fails; its status
unit_run() {
    local line words
    while IFS= read -r line; do
        read -ra words <<<"$line"
        "${words[@]}" >>"$TMPDIR/unit.log" 2>&1 || return 1
    done < <(unit_lines "$1")
}
[ "$(unit_lines Type)" = notify ] || fail "conf/proxy.service: Type=$(unit_lines Type), expected notify (READY=1 is how it says it started)"

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

unit_run ExecStartPre || fail "the unit's ExecStartPre failed: $(cat "$TMPDIR/unit.log")"
read -ra start <<<"$(unit_lines ExecStart)"
[ "${start[0]}" = "$PROXY" ] || fail "the unit's ExecStart does not start /usr/sbin/proxy: $(unit_lines ExecStart)"
NOTIFY_SOCKET=$SOCK "${start[@]}" >>"$TMPDIR/proxy.log" 2>&1 &
PROXY_PID=$!; track "$PROXY_PID"
wait_port "$P" 5 "$PROXY_PID" || fail "proxy did not start"
wait_for 5 grep -q '^READY=1' "$TMPDIR/notify.log" || fail "no READY=1: $(cat "$TMPDIR/notify.log")"
grep -q '^READY=1 | STATUS=generation 1, 1 of 1 servers up$' "$TMPDIR/notify.log" ||
    fail "READY without the expected STATUS: $(cat "$TMPDIR/notify.log")"
wait_for 2 test -s "$TMPDIR/proxy.pid" || fail "no pid file"
[ "$(cat "$TMPDIR/proxy.pid")" = "$PROXY_PID" ] || fail "pid file says $(cat "$TMPDIR/proxy.pid"), the proxy is $PROXY_PID"
echo "start: $(head -n1 "$TMPDIR/notify.log"); pid file $(cat "$TMPDIR/proxy.pid")"

unit_run ExecReload || fail "the unit's ExecReload failed: $(cat "$TMPDIR/unit.log")"
wait_for 5 sh -c "grep -c '^READY=1' '$TMPDIR/notify.log' | grep -qx 2" || fail "no READY=1 after the reload: $(cat "$TMPDIR/notify.log")"
sed -n 2p "$TMPDIR/notify.log" | grep -Eq '^RELOADING=1 \| MONOTONIC_USEC=[0-9]+$' ||
    fail "the reload did not start with RELOADING=1 and MONOTONIC_USEC: $(cat "$TMPDIR/notify.log")"
grep -q 'STATUS=generation 2, ' "$TMPDIR/notify.log" || fail "no generation 2 after the reload"
echo "reload: $(sed -n 2p "$TMPDIR/notify.log"), then $(sed -n 3p "$TMPDIR/notify.log")"

# A broken configuration: the unit's reload refuses it before any signal
# (systemctl reload fails, saying why); a SIGHUP sent anyway fails in the
# proxy, and READY=1 still follows.
echo "bogus directive" >>"$TMPDIR/proxy.conf"
n=$(wc -l <"$TMPDIR/notify.log")
! unit_run ExecReload || fail "the unit's ExecReload accepted a broken configuration"
grep -q 'bogus' "$TMPDIR/unit.log" || fail "the unit's refused reload did not say why: $(cat "$TMPDIR/unit.log")"
sleep 0.5
[ "$(wc -l <"$TMPDIR/notify.log")" = "$n" ] || fail "the unit's refused reload still signalled the proxy: $(tail -n2 "$TMPDIR/notify.log")"
echo "unit reload of a broken configuration: refused by ExecReload's proxy -t, no signal sent"
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
