#!/usr/bin/env bash
# health_tls_reloads.sh: a TLS pool's health checks go on across reloads
# that change nothing in them: a server that dies while SIGHUPs come more
# often than `interval` is still found down.
#
# A reload builds every TLS context anew, and the checks compared theirs by
# pointer: each reload counted as new check settings and restarted every
# check of the pool, the second and third servers' first one staggered
# past the next reload - never checked while the reloads went on (a dead
# server stayed up).  The settings compare by what the context trusts now.
set -u
. "${TOPSRC:-$(cd "$(dirname "$0")/../.." && pwd)}/tests/support/lib.sh"

C=$TMPDIR/certs
tls_ca "$C" testca
tls_cert "$C/server.pem" "localhost,127.0.0.1" ec 30 "$C/testca"
P=$(free_port)
declare -A TB TBP
for n in t1 t2 t3; do
    TB[$n]=$(free_port)
    python3 "$TOPSRC/tests/scenario/tls_backend.py" "${TB[$n]}" "$C/server.pem" >"$TMPDIR/$n.log" 2>&1 &
    TBP[$n]=$!
    track "${TBP[$n]}"
    wait_port "${TB[$n]}" 5 "${TBP[$n]}" || fail "TLS backend $n did not start"
done
cat >"$TMPDIR/proxy.conf" <<CONF
workers 1
access-log off
listen 127.0.0.1:$P
pool web {
    tls ca $C/testca.pem
    check tcp
    interval 2s
    fall 1
    server t1 127.0.0.1:${TB[t1]}
    server t2 127.0.0.1:${TB[t2]}
    server t3 127.0.0.1:${TB[t3]}
}
CONF
start_proxy "$TMPDIR/proxy.conf" "$P"
code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 5 "http://127.0.0.1:$P/")
[ "$code" = 200 ] || fail "through the TLS pool: $code"

stop_pid "${TBP[t3]}"
t0=$SECONDS
for i in $(seq 12); do
    kill -HUP "$PROXY_PID"
    sleep 0.5
done
grep -q "event server-down pool=web server=t3" "$TMPDIR/proxy.log" ||
    fail "t3 died and 12 reloads 0.5 s apart later (interval 2s, fall 1) it was not found down"
echo "t3 found down during the reloads: $(grep "event server-down pool=web server=t3" "$TMPDIR/proxy.log" | head -1 | cut -c1-140)"
[ "$(grep -c 'reload done' "$TMPDIR/proxy.log")" -ge 10 ] || fail "the reloads did not happen"
echo "ok: a TLS pool's checks carry on across reloads that change nothing in them"
