#!/usr/bin/env bash
# scenario: alone
# reload_rss.sh: 1000 reloads do not leak.
# Three pools, routes, checks; every reload alternately adds and removes a
# server (so generations differ and servers are dropped), each reload waited
# for (generation + 1 on /api/stats), 3 requests through the proxy every 10
# reloads (reload_util.py reload-loop).  VmRSS of the proxy is read after reload 100 and after 1000:
# growth must stay under 2 MiB; open descriptors must not grow either.  Ports 25150-25159.
set -u
. "${TOPSRC:-$(cd "$(dirname "$0")/../.." && pwd)}/tests/scenario/reload_lib.bash"

P=25150 STATS=25151 A=25152 B=25153 C=25154
ports_free $P $STATS $A $B $C
CONF=$TMPDIR/proxy.conf
N=${RELOADS:-1000}
LIMIT_KB=2048

make_conf() { # with-c(0|1)
    cat <<CONF
workers 2
log-level warn
access-log off
listen 127.0.0.1:$P
stats 127.0.0.1:$STATS
pool web {
    check http /healthz
    interval 200ms
    server a 127.0.0.1:$A
    server b 127.0.0.1:$B
$( [ "$1" = 1 ] && echo "    server c 127.0.0.1:$C" )
}
pool api {
    balance round-robin
    server b 127.0.0.1:$B
$( [ "$1" = 1 ] && echo "    standby c 127.0.0.1:$C" )
}
pool static {
    check tcp
    server a 127.0.0.1:$A weight 2
}
route path /api/ pool api
route path /static/ pool static
route default pool web
CONF
}
CONF0=$(make_conf 0)
CONF1=$(make_conf 1)

rss_kb() { awk '/^VmRSS:/ { print $2 }' "/proc/$PROXY_PID/status"; }

start_backend $A a
start_backend $B b
start_backend $C c
printf '%s\n' "$CONF0" >"$CONF"
start_proxy "$CONF" $P
wait_port $STATS 3 || fail "stats port $STATS not open"
printf '%s\n' "$CONF0" >"$TMPDIR/conf0"
printf '%s\n' "$CONF1" >"$TMPDIR/conf1"
g0=$(gen)
rss0=$(rss_kb)
echo "start: VmRSS ${rss0}kB generation $g0"
# The loop runs in python (one process: a fork per poll is too slow here).
$UTIL reload-loop "$PROXY_PID" $STATS $P "$N" "$CONF" "$TMPDIR/conf0" "$TMPDIR/conf1" 32 | tee "$TMPDIR/loop.out"
grep -q '^error' "$TMPDIR/loop.out" && fail "$(grep '^error' "$TMPDIR/loop.out")"
kill -0 "$PROXY_PID" 2>/dev/null || fail "the proxy died"
r=$(hits $P 30 /); echo "after the loop: $r"
[ "$(field fail "$r")" = 0 ] || fail "requests fail after $N reloads: $r"
line() { grep "^reloads=$1 " "$TMPDIR/loop.out"; }
rss100=$(field rss_kb "$(line 100)")
rss1000=$(field rss_kb "$(line "$N")")
fails=$(field failed "$(line "$N")")
secs=$(field secs "$(line "$N")")
g1=$(gen)
[ -n "$rss100" ] && [ -n "$rss1000" ] || fail "no RSS figures"
growth=$((rss1000 - rss100))
fds100=$(field fds "$(line 100)")
fds1000=$(field fds "$(line "$N")")
echo "measured: reloads=$((g1 - g0)) in ${secs}s failed-requests=$fails" \
     "VmRSS start=${rss0}kB after-100=${rss100}kB after-$N=${rss1000}kB growth=${growth}kB (limit ${LIMIT_KB}kB)" \
     "open fds after-100=$fds100 after-$N=$fds1000"
echo "reloads: $(stat reloads)"
[ "$((g1 - g0))" = "$N" ] || fail "generation moved by $((g1 - g0)), want $N"
[ "$fails" = 0 ] || fail "$fails requests failed between the reloads"
[ "$growth" -lt "$LIMIT_KB" ] || fail "RSS grew by ${growth}kB between reload 100 and $N (limit ${LIMIT_KB}kB): a leak per generation?"
[ "$fds1000" -le $((fds100 + 5)) ] || fail "open file descriptors grew from $fds100 to $fds1000 over the reloads (a descriptor leak per generation?)"
echo "PASS: $N reloads, RSS growth ${growth}kB after reload 100"
