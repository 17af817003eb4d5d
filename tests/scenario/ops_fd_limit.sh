#!/usr/bin/env bash
# ops_fd_limit.sh: RLIMIT_NOFILE against max-conns (issue 11 item 3).
#
# Each client connection takes two fds, so max-conns N needs about 2N fds
# plus the proxy's own.  At start the proxy raises its soft limit to the
# hard one, and the hard one when it may (root), or logs a warning with the
# numbers when the limit stays short; a reload that needs more does the
# same.
#
# Part 1: hard limit 1024 that the proxy may not raise, max-conns 5000: it
#         starts, and logs "max-conns 5000 needs about N fds but the limit
#         is 1024".
# Part 2: soft 256, hard 4096, max-conns 1000 (about 2100 fds): the soft
#         limit is raised to 4096 (/proc/PID/limits), and no warning.
# Part 3: a reload to max-conns 5000 under that hard limit: the warning.
# Part 4 (only with CAP_SYS_RESOURCE, which root in a container may lack):
#         limits 1024/1024 that the proxy may raise, max-conns 5000: both
#         limits are raised to at least 10000, and no warning.
set -u
. "${TOPSRC:-$(cd "$(dirname "$0")/../.." && pwd)}/tests/support/lib.sh"

P=$(free_port); B=$(free_port)
start_backend "$B" app

write_conf() { # $1: max-conns
    proxy_conf_basic "$TMPDIR/proxy.conf" "$P" "app 127.0.0.1:$B" "max-conns $1"
}
# start_limited SOFT HARD [raise]: the proxy under those limits; with
# `raise`, allowed to raise its hard limit (plain ulimit, root keeps
# CAP_SYS_RESOURCE).
start_limited() {
    : >"$TMPDIR/proxy.log"
    if [ "${3:-}" = raise ]; then
        bash -c 'ulimit -Sn "$1" && ulimit -Hn "$2" && exec "$3" -c "$4"' _ "$1" "$2" \
            "$PROXY" "$TMPDIR/proxy.conf" >>"$TMPDIR/proxy.log" 2>&1 &
    else
        nofile_exec "$1" "$2" "$PROXY" -c "$TMPDIR/proxy.conf" >>"$TMPDIR/proxy.log" 2>&1 &
    fi
    PROXY_PID=$!
    track "$PROXY_PID"
    wait_port "$P" 5 "$PROXY_PID" || fail "proxy did not start under limits $1/$2"
    [ "$(curl -s -o /dev/null -w '%{http_code}' --max-time 3 "http://127.0.0.1:$P/")" = 200 ] ||
        fail "no 200 under limits $1/$2"
}
# limits: "SOFT HARD" of the proxy's open files.
limits() {
    awk '/^Max open files/ { print $4, $5 }' "/proc/$PROXY_PID/limits"
}

# ---- part 1: a limit the proxy cannot raise: the warning ----
write_conf 5000
start_limited 1024 1024
echo "  part 1: limits $(limits)"
[ "$(limits)" = "1024 1024" ] || fail "part 1: limits $(limits), expected 1024 1024"
line=$(grep 'max-conns 5000 needs about' "$TMPDIR/proxy.log") ||
    fail "part 1: no warning that max-conns 5000 needs more fds than the limit of 1024"
echo "  part 1: $line"
need=$(echo "$line" | sed -n 's/.*needs about \([0-9]*\) fds but the limit is 1024.*/\1/p')
[ -n "$need" ] && [ "$need" -ge 10000 ] && [ "$need" -le 10500 ] ||
    fail "part 1: warning without the numbers (or an odd estimate): $line"
stop_pid "$PROXY_PID"

# ---- part 2: soft below hard: raised to the hard limit ----
write_conf 1000
start_limited 256 4096
echo "  part 2: limits $(limits)"
[ "$(limits)" = "4096 4096" ] || fail "part 2: limits $(limits), expected the soft one raised to 4096"
grep -q 'needs about' "$TMPDIR/proxy.log" && fail "part 2: a warning although 4096 fds are enough"

# ---- part 3: a reload that needs more than the limit ----
write_conf 5000
kill -HUP "$PROXY_PID"
wait_for 5 grep -q 'reload done' "$TMPDIR/proxy.log" || fail "part 3: reload not done"
line=$(grep 'max-conns 5000 needs about' "$TMPDIR/proxy.log") ||
    fail "part 3: no warning at the reload to max-conns 5000 under a limit of 4096"
echo "  part 3: $line"
echo "$line" | grep -q 'but the limit is 4096' || fail "part 3: warning without the limit: $line"
stop_pid "$PROXY_PID"

# ---- part 4: a privileged proxy raises the hard limit too ----
cap_eff=$(awk '/^CapEff:/ { print $2 }' /proc/self/status)
if (( (0x${cap_eff:-0} >> 24) & 1 )); then # CAP_SYS_RESOURCE is capability 24
    write_conf 5000
    start_limited 1024 1024 raise
    read -r soft hard <<<"$(limits)"
    echo "  part 4 (CAP_SYS_RESOURCE): limits $soft $hard"
    [ "$soft" -ge 10000 ] && [ "$hard" -ge 10000 ] ||
        fail "part 4: with CAP_SYS_RESOURCE and max-conns 5000, limits stay $soft/$hard (expected >= 10000)"
    grep -q 'needs about' "$TMPDIR/proxy.log" && fail "part 4: a warning although the limit was raised"
    stop_pid "$PROXY_PID"
else
    echo "  part 4 skipped: no CAP_SYS_RESOURCE to raise a hard limit with"
fi
echo "PASS"
