#!/usr/bin/env bash
# scenario: alone
# failover_keepalive_race.sh: the keep-alive race.  The only server closes
# idle keep-alive connections after 300 ms (backend -i 300).  GETs and POSTs
# (with bodies) are sent through the proxy on reused client connections,
# ~350 ms apart (the proxy's idle upstream connection is closed by then),
# then 300 +- 25 ms apart (the server closes it about when the proxy reuses
# it).  Zero failures: a reused idle connection the server closed is retried
# on a fresh one, for every method.  With a single server there is nowhere
# else to go, so only that retry can save the request.
set -u
. "${TOPSRC:-$(cd "$(dirname "$0")/../.." && pwd)}/tests/support/lib.sh"

LOAD="python3 $TOPSRC/tests/scenario/failover_load.py"

P=$(free_port); B1=$(free_port); ST=$(free_port)
cat >"$TMPDIR/proxy.conf" <<CONF
workers 2
log-level info
access-log off
listen 127.0.0.1:$P
stats 127.0.0.1:$ST
pool web {
    check http /healthz
    interval 1s
    fall 2
    rise 2
    server app1 127.0.0.1:$B1
}
CONF
start_backend "$B1" app1 -i 300
start_proxy "$TMPDIR/proxy.conf" "$P"

bad=0 summary="" reused=0
run_phase() {   # NAME GAP JITTER COUNT
    local name=$1 gap=$2 jit=$3 count=$4 m
    for m in GET POST; do
        $LOAD --port "$P" --conns 2 --count "$count" --duration 15 --gap "$gap" --jitter "$jit" \
            --method "$m" --body 3000 --log "$TMPDIR/$name-$m.tsv" >"$TMPDIR/$name-$m.out" 2>&1 &
        eval "pid_$m=\$!"; track "$!"
    done
    wait "$pid_GET" "$pid_POST"
    for m in GET POST; do
        local o=$TMPDIR/$name-$m.out
        echo "$name $m: $(head -n1 "$o")"; sed -n '2,$p' "$o"
        local out; out=$(<"$o")
        local f=$(( $(field non2xx "$out") + $(field errors "$out") ))
        local n; n=$(field requests "$out")
        summary="$summary $name-$m-failed=$f/$n"
        bad=$((bad + f))
        [ "$n" -eq $((2 * count)) ] || { echo "$name $m: only $n of $((2 * count)) requests sent"; bad=$((bad + 1)); }
        # The requests must have gone over the 2 reused client connections.
        [ "$(field conns_opened "$out")" = 2 ] || { echo "$name $m: the client connections were not reused (opened $(field conns_opened "$out"), want 2)"; bad=$((bad + 1)); }
        # Every POST body must have reached the server whole.
        if [ "$m" = POST ]; then
            local short; short=$(awk -F'\t' '$3 == 200 && $9 != 3000' "$TMPDIR/$name-$m.tsv" | wc -l)
            [ "$short" -eq 0 ] || { echo "$name POST: $short bodies did not arrive whole"; bad=$((bad + short)); }
        fi
        # Upstream connection reuse seen by the server (X-Conn-Seq > 1).
        reused=$((reused + $(awk -F'\t' '$6 > 1' "$TMPDIR/$name-$m.tsv" | wc -l)))
    done
}
# 2 connections x 10 requests per method and phase = 20 GETs + 20 POSTs each.
run_phase spaced 350 0 10
run_phase racy 300 25 10
# The race must not count against the server.
read -r state failures < <(stats_get "$ST" 'j["pools"][0]["servers"][0].get("state"), j["pools"][0]["servers"][0].get("failures")' ||
    echo unknown unknown)
echo "measured:$summary upstream-reused-answers=$reused app1-state=$state app1-failures=$failures"
grep -E 'server-down|server-up' "$TMPDIR/proxy.log"
[ "$bad" -eq 0 ] || fail "$bad failed requests through connections the server closed when idle (want 0)"
[ "$state" = up ] || fail "app1 is $state after the run (want up: the race is no server failure)"
[ "$failures" = 0 ] || fail "the stats count '$failures' failures for app1 (the keep-alive race must not count against the server)"
# The race was exercised: some answers came over reused server connections.
[ "$reused" -gt 0 ] || fail "no answer came over a reused server connection: the keep-alive race was never exercised"
echo "PASS: zero failed GETs or POSTs across idle-closed upstream connections"
