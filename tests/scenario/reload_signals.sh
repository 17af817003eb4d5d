#!/usr/bin/env bash
# reload_signals.sh: signals around a reload end in a sane state.
#   1. SIGHUP then SIGTERM at once (gaps 0, 2ms, 20ms), a slow request in
#      flight: the request finishes (200), the proxy exits 0, log "stopped".
#   2. SIGTERM first, then SIGHUP during the graceful stop (a slow request
#      keeps it stopping): the SIGHUP is ignored and logged, exit 0.
#   3. Two SIGHUPs back to back (file changed between them): one or two
#      reloads, generation delta == reloads.ok delta, the LAST file is what
#      serves.
#   4. Five SIGHUPs in a burst, same check.
# Ports 25170-25179.
set -u
. "${TOPSRC:-$(cd "$(dirname "$0")/../.." && pwd)}/tests/scenario/reload_lib.bash"

P=25170 STATS=25171 A=25172 C=25173 D=25174
ports_free $P $STATS $A $C $D
CONF=$TMPDIR/proxy.conf

# written beside and renamed: the proxy may read the file at any moment
# here (a truncated file would rightly fail to load)
write_conf() { # server lines...
    {
        echo "workers 2"
        echo "access-log off"
        echo "listen 127.0.0.1:$P"
        echo "stats 127.0.0.1:$STATS"
        echo "timeout shutdown 5s"
        echo "pool web {"
        echo "    balance round-robin"
        for s in "$@"; do echo "    server $s"; done
        echo "}"
    } >"$CONF.new"
    mv -f "$CONF.new" "$CONF"
}

# wait for the proxy to exit (max 8s); sets rc to its exit status
# (not in $(...): only this shell can reap it)
wait_exit() {
    local i
    for i in $(seq 80); do
        kill -0 "$PROXY_PID" 2>/dev/null || break
        sleep 0.1
    done
    if kill -0 "$PROXY_PID" 2>/dev/null; then
        rc=still-running
        return
    fi
    wait "$PROXY_PID"
    rc=$?
}

slow_request() { # -> $TMPDIR/slow.out: "CODE SERVER"
    curl -s -o /dev/null -w '%{http_code} %header{x-server}\n' --max-time 8 \
        "http://127.0.0.1:$P/slow?delay=$1" >"$TMPDIR/slow.out" 2>&1 &
    SLOW_PID=$!
    track $SLOW_PID
}

start_backend $A a
start_backend $C c
start_backend $D d

# 1. SIGHUP then SIGTERM
for gap in 0 0.002 0.02; do
    write_conf "a 127.0.0.1:$A"
    : >"$LOG"
    start_proxy "$CONF" $P
    wait_port $STATS 3 || fail "stats port $STATS not open"
    slow_request 600
    sleep 0.2
    write_conf "a 127.0.0.1:$A" "c 127.0.0.1:$C"
    kill -HUP "$PROXY_PID"
    [ "$gap" = 0 ] || sleep "$gap"
    kill -TERM "$PROXY_PID"
    wait_exit
    wait "$SLOW_PID"
    slow=$(cat "$TMPDIR/slow.out")
    echo "1. SIGHUP, ${gap}s, SIGTERM: exit $rc; request in flight: $slow; log: $(grep -oE 'reload done.*|graceful stop|SIGHUP during.*|stopped' "$LOG" | paste -sd'|' -)"
    [ "$rc" = 0 ] || fail "1. (gap ${gap}s) exit status $rc after SIGHUP+SIGTERM, want 0"
    [ "$slow" = "200 a" ] || fail "1. (gap ${gap}s) the request in flight got '$slow', want '200 a'"
    grep -q 'stopped' "$LOG" || fail "1. (gap ${gap}s) no 'stopped' in the log"
    grep -qiE 'error|abort|assert' "$LOG" && fail "1. (gap ${gap}s) errors in the log"
    port_open $P && fail "1. something still listens on $P after the exit"
done

# 2. SIGTERM, then SIGHUP while stopping
write_conf "a 127.0.0.1:$A"
: >"$LOG"
start_proxy "$CONF" $P
wait_port $STATS 3 || fail "stats port $STATS not open"
slow_request 1000
sleep 0.2
kill -TERM "$PROXY_PID"
sleep 0.1
write_conf "a 127.0.0.1:$A" "c 127.0.0.1:$C"
kill -HUP "$PROXY_PID" 2>/dev/null || fail "2. the proxy exited before its request in flight finished"
wait_exit
wait "$SLOW_PID"
slow=$(cat "$TMPDIR/slow.out")
echo "2. SIGTERM, then SIGHUP while stopping: exit $rc; request in flight: $slow; log: $(grep -oE 'reload done.*|graceful stop|SIGHUP during.*|stopped' "$LOG" | paste -sd'|' -)"
[ "$rc" = 0 ] || fail "2. exit status $rc, want 0"
[ "$slow" = "200 a" ] || fail "2. the request in flight got '$slow', want '200 a'"
grep -q 'SIGHUP during a graceful stop' "$LOG" || grep -qi 'sighup.*ignored\|ignor.*sighup' "$LOG" ||
    fail "2. the SIGHUP during the stop was not logged as ignored"
grep -q 'reload done' "$LOG" && fail "2. a reload ran during the graceful stop"

# 3 and 4: SIGHUPs back to back
write_conf "a 127.0.0.1:$A"
: >"$LOG"
start_proxy "$CONF" $P
wait_port $STATS 3 || fail "stats port $STATS not open"

burst() { # label count
    local g0 ok0 g1 ok1 i r last
    g0=$(gen); ok0=$(stat reloads.ok)
    for i in $(seq "$2"); do
        if [ $((i % 2)) = 1 ]; then
            write_conf "a 127.0.0.1:$A" "c 127.0.0.1:$C"; last=a,c
        else
            write_conf "a 127.0.0.1:$A" "d 127.0.0.1:$D"; last=a,d
        fi
        kill -HUP "$PROXY_PID"
    done
    sleep 0.5
    wait_gen $((g0 + 1)) 3 || fail "$1: no reload at all after $2 SIGHUPs"
    sleep 0.3
    g1=$(gen); ok1=$(stat reloads.ok)
    r=$(hits $P 30)
    echo "$1: $2 SIGHUPs -> generation $g0 -> $g1, reloads.ok $ok0 -> $ok1, failed $(stat reloads.failed); last file has $last; serving: $r"
    kill -0 "$PROXY_PID" 2>/dev/null || fail "$1: the proxy died"
    [ $((g1 - g0)) -ge 1 ] && [ $((g1 - g0)) -le "$2" ] || fail "$1: generation moved by $((g1 - g0)) for $2 SIGHUPs"
    [ $((g1 - g0)) = $((ok1 - ok0)) ] || fail "$1: generation delta $((g1 - g0)) != reloads.ok delta $((ok1 - ok0))"
    [ "$(field fail "$r")" = 0 ] || fail "$1: requests failed: $r"
    [ "$(names "$r")" = "$last" ] || fail "$1: serving $(names "$r"), want the last file's servers $last"
}
burst "3. back to back" 2
burst "4. burst" 5
burst "4. burst" 6
[ "$(stat reloads.failed)" = 0 ] || fail "reloads failed: $(stat reloads.failed)"
grep -qiE ' error ' "$LOG" && fail "errors in the log"
echo "PASS: SIGHUP+SIGTERM exits 0 with the request finished; SIGHUP bursts end on the last file"
