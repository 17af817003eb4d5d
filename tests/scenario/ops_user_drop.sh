#!/usr/bin/env bash
# ops_user_drop.sh: `user NAME`.  Started as root with `user nobody` and a
# listen port under 1024, the proxy binds it, then every thread runs as
# nobody (all four uids and gids in /proc/PID/task/*/status, no
# supplementary groups) and serves through the privileged port.  A reload
# that adds another port under 1024 fails with a message saying why, and
# the running listeners keep serving.  A user that does not exist is a
# start-up error (exit 1), never silently root.  Skipped unless root.
set -u
. "${TOPSRC:-$(cd "$(dirname "$0")/../.." && pwd)}/tests/support/lib.sh"

[ "$(id -u)" = 0 ] || { echo "SKIP: needs root"; exit 0; }
P=$(free_port 700 1000); P2=$(free_port 700 1000); B=$(free_port)
while [ "$P2" = "$P" ]; do P2=$(free_port 700 1000); done
[ -n "$P" ] && [ -n "$P2" ] || fail "no free port under 1024"
start_backend "$B" app1
proxy_conf_basic "$TMPDIR/proxy.conf" "$P" "app1 127.0.0.1:$B" "user nobody"
# A reload reads the file as the user: it must be able to.
chmod 755 "$TMPDIR"; chmod 644 "$TMPDIR/proxy.conf"
start_proxy "$TMPDIR/proxy.conf" "$P"
uid=$(id -u nobody); gid=$(id -g nobody)
for st in /proc/"$PROXY_PID"/task/*/status; do
    u=$(awk '/^Uid:/{print $2, $3, $4, $5}' "$st"); g=$(awk '/^Gid:/{print $2, $3, $4, $5}' "$st")
    grp=$(awk '/^Groups:/{$1=""; print $0}' "$st" | xargs)
    [ "$u" = "$uid $uid $uid $uid" ] || fail "thread $st runs with uids $u, not nobody's $uid"
    [ "$g" = "$gid $gid $gid $gid" ] || fail "thread $st runs with gids $g, not $gid"
    [ "$grp" = "$gid" ] || [ -z "$grp" ] || fail "thread $st keeps supplementary groups: $grp"
done
echo "every thread ($(ls /proc/$PROXY_PID/task | wc -l)) runs as nobody ($uid:$gid)"
code=$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$P/")
[ "$code" = 200 ] || fail "no answer through port $P after the drop ($code)"
grep -q 'running as user nobody' "$TMPDIR/proxy.log" || fail "the drop was not logged"

echo "listen 127.0.0.1:$P2" >>"$TMPDIR/proxy.conf"
kill -HUP "$PROXY_PID"
wait_for 5 grep -q 'reload failed' "$TMPDIR/proxy.log" || fail "a reload adding port $P2 did not fail"
grep -q 'running as user nobody: a new listen address on a port under 1024 cannot be bound' "$TMPDIR/proxy.log" ||
    fail "the failed reload does not say why: $(tail -n3 "$TMPDIR/proxy.log")"
code=$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$P/")
[ "$code" = 200 ] || fail "port $P stopped serving after the failed reload ($code)"
echo "a reload adding port $P2 failed with the reason; port $P still serves"
stop_pid "$PROXY_PID"

# With a pid file in a directory of root's (/run, as README's Operations
# shows it): written before the switch to the user (the start failed with
# "pid file ...: Permission denied" after the switch).
mkdir -m 755 "$TMPDIR/run"
P3=$(free_port)
proxy_conf_basic "$TMPDIR/pid.conf" "$P3" "app1 127.0.0.1:$B" "user nobody"
chmod 644 "$TMPDIR/pid.conf"
"$PROXY" -c "$TMPDIR/pid.conf" -p "$TMPDIR/run/proxy.pid" >"$TMPDIR/pid.log" 2>&1 &
PID3=$!
track "$PID3"
wait_port "$P3" 5 "$PID3" || fail "user nobody with -p in a root-owned directory: no start: $(tail -3 "$TMPDIR/pid.log")"
wait_for 3 test -s "$TMPDIR/run/proxy.pid" || fail "no pid file"
[ "$(cat "$TMPDIR/run/proxy.pid")" = "$PID3" ] || fail "the pid file says $(cat "$TMPDIR/run/proxy.pid"), not $PID3"
code=$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$P3/")
[ "$code" = 200 ] || fail "user nobody with -p: $code"
stop_pid "$PID3"
echo "user nobody with -p in a root-owned directory: started, pid file $(cat "$TMPDIR/run/proxy.pid" 2>/dev/null || echo removed)"

proxy_conf_basic "$TMPDIR/bad.conf" "$(free_port)" "app1 127.0.0.1:$B" "user no-such-user-here"
"$PROXY" -c "$TMPDIR/bad.conf" >"$TMPDIR/bad.log" 2>&1; rc=$?
[ "$rc" = 1 ] || fail "an unknown user: exit $rc, want 1"
grep -q "$TMPDIR/bad.conf:4: user no-such-user-here: no such user" "$TMPDIR/bad.log" ||
    fail "an unknown user is not named with its file and line: $(cat "$TMPDIR/bad.log")"
grep -q "listening on" "$TMPDIR/bad.log" && fail "an unknown user was found out only after the listeners opened"
out=$("$PROXY" -t -c "$TMPDIR/bad.conf" 2>&1) && fail "proxy -t passed an unknown user: $out"
echo "$out" | grep -q "$TMPDIR/bad.conf:4: user no-such-user-here: no such user" || fail "proxy -t on an unknown user said: $out"
echo "an unknown user: exit 1 with FILE:LINE and the reason, before binding; proxy -t says so too"
echo "PASS"
