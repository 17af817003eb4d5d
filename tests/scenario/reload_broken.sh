#!/usr/bin/env bash
# reload_broken.sh: SIGHUP with a file that is broken, gone, or not a file.
#   1. servers a, b serving.
#   2. broken file (adds server c, but has an unknown directive, a
#      duration without unit and a port out of range) + SIGHUP: every error logged as FILE:LINE:,
#      reloads.failed == 1, generation unchanged, still serving with a, b only.
#   3. file renamed away + SIGHUP: logged (names the file), failed == 2,
#      still serving.  (chmod 000 does not stop root, so rename instead.)
#   4. a directory where the file was + SIGHUP: logged, failed == 3, serving.
#   4b. an access-log path that cannot be opened: proxy -t and the reload
#      name FILE:LINE and the reason, failed == 4, serving.
#   5. fixed file (with c) + SIGHUP: reload succeeds, c serves.
# Ports 25120-25129.
set -u
. "${TOPSRC:-$(cd "$(dirname "$0")/../.." && pwd)}/tests/scenario/reload_lib.bash"

P=25120 STATS=25121 A=25122 B=25123 C=25124
ports_free $P $STATS $A $B $C
CONF=$TMPDIR/proxy.conf

good_conf() { # server lines...
    {
        echo "workers 2"
        echo "access-log off"
        echo "listen 127.0.0.1:$P"
        echo "stats 127.0.0.1:$STATS"
        echo "pool web {"
        echo "    balance round-robin"
        for s in "$@"; do echo "    server $s"; done
        echo "}"
    } >"$CONF"
}

serving_ab() { # step name
    local r
    r=$(hits $P 30); echo "$1: $r"
    [ "$(field fail "$r")" = 0 ] || fail "$1: requests failed: $r"
    [ "$(names "$r")" = "a,b" ] || fail "$1: want the old configuration (a and b only): $r"
}

start_backend $A a
start_backend $B b
start_backend $C c
good_conf "a 127.0.0.1:$A" "b 127.0.0.1:$B"
start_proxy "$CONF" $P
wait_port $STATS 3 || fail "stats port $STATS not open"
serving_ab "1. start"
g0=$(gen)

# 2. broken file: line 4 unknown directive, line 5 a duration without unit,
#    line 12 a port out of range
cat >"$CONF" <<CONF
workers 2
access-log off
listen 127.0.0.1:$P
frobnicate yes
timeout connect 2
stats 127.0.0.1:$STATS
pool web {
    balance round-robin
    server a 127.0.0.1:$A
    server b 127.0.0.1:$B
    server c 127.0.0.1:$C
    server d 127.0.0.1:70000
}
CONF
log_mark
hup_fail
sleep 0.2
echo "--- log of the failed reload:"; log_since
log_since | grep -q "$CONF:4:" || fail "2. the unknown directive is not logged as $CONF:4: ..."
log_since | grep -q "$CONF:5:" || fail "2. the duration without unit is not logged as $CONF:5: ... (every error must be logged)"
log_since | grep -q "$CONF:12:" || fail "2. the port out of range is not logged as $CONF:12: ... (every error must be logged)"
[ "$(stat reloads.failed)" = 1 ] || fail "2. reloads.failed=$(stat reloads.failed), want 1"
[ "$(stat reloads.ok)" = 0 ] || fail "2. reloads.ok=$(stat reloads.ok), want 0"
[ "$(gen)" = "$g0" ] || fail "2. generation moved from $g0 to $(gen) on a failed reload"
[ "$(stat web/c/requests)" = absent ] || fail "2. server c of the broken file appeared in /api/stats"
serving_ab "2. after the broken reload"

# 3. the file vanished
mv "$CONF" "$CONF.away"
log_mark
hup_fail
sleep 0.2
echo "--- log of the reload with no file:"; log_since
log_since | grep -q "$CONF" || fail "3. the log does not name the missing file $CONF"
[ "$(stat reloads.failed)" = 2 ] || fail "3. reloads.failed=$(stat reloads.failed), want 2"
[ "$(gen)" = "$g0" ] || fail "3. generation moved on a failed reload"
kill -0 "$PROXY_PID" 2>/dev/null || fail "3. the proxy died on a missing file"
serving_ab "3. after the reload with no file"

# 4. a directory in its place (unreadable as a file even for root)
mkdir "$CONF"
log_mark
hup_fail
sleep 0.2
echo "--- log of the reload with a directory:"; log_since
log_since | grep -q "$CONF" || fail "4. the log does not name $CONF"
[ "$(stat reloads.failed)" = 3 ] || fail "4. reloads.failed=$(stat reloads.failed), want 3"
kill -0 "$PROXY_PID" 2>/dev/null || fail "4. the proxy died on a directory"
serving_ab "4. after the reload with a directory"
rmdir "$CONF"

# 4b. an access log that cannot be opened (its directory is missing): the
#     reload fails as a whole, named by file and line (it counted as a
#     success before, the log going on into the old file for good, and
#     `proxy -t` passed it)
good_conf "a 127.0.0.1:$A" "b 127.0.0.1:$B" "c 127.0.0.1:$C"
sed -i "s|^access-log off|access-log $TMPDIR/no-such-dir/access.log|" "$CONF"
out=$("$PROXY" -t -c "$CONF" 2>&1) && fail "4b. proxy -t passed an access log it cannot open: $out"
echo "4b. proxy -t: $out"
echo "$out" | grep -q "$CONF:2: access-log $TMPDIR/no-such-dir/access.log: No such file or directory" ||
    fail "4b. proxy -t does not say which line and why: $out"
log_mark
hup_fail
sleep 0.2
echo "--- log of the reload with an access log that cannot be opened:"; log_since
log_since | grep -q "$CONF:2: access-log .*No such file or directory" || fail "4b. the log does not name $CONF:2 and the reason"
[ "$(stat reloads.failed)" = 4 ] || fail "4b. reloads.failed=$(stat reloads.failed), want 4"
[ "$(stat reloads.ok)" = 0 ] || fail "4b. reloads.ok=$(stat reloads.ok): the reload counted as a success"
[ "$(gen)" = "$g0" ] || fail "4b. generation moved on a failed reload"
serving_ab "4b. after the reload with an access log that cannot be opened"

# 5. fixed
rm -f "$CONF.away"
good_conf "a 127.0.0.1:$A" "b 127.0.0.1:$B" "c 127.0.0.1:$C"
log_mark
hup_wait
echo "--- log of the good reload:"; log_since
r=$(hits $P 30); echo "5. fixed: $r"
[ "$(field ok "$r")" = 30 ] && [ "$(names "$r")" = "a,b,c" ] || fail "5. after the fix a, b and c should share the load: $r"
[ "$(gen)" = $((g0 + 1)) ] || fail "5. generation $(gen), want $((g0 + 1))"
echo "reloads: $(stat reloads)"
[ "$(stat reloads.ok)" = 1 ] || fail "5. reloads.ok=$(stat reloads.ok), want 1"
[ "$(stat reloads.failed)" = 4 ] || fail "5. reloads.failed=$(stat reloads.failed), want 4"
echo "PASS: broken, missing and unreadable files leave the proxy serving; the fix reloads"
