#!/usr/bin/env bash
# failover_events.sh: events reach the log and the `notify` program.
# notify is a small script (written into TMPDIR) that appends PROXY_EVENT,
# PROXY_POOL, PROXY_SERVER, PROXY_DETAIL to a file, then sleeps 1.5 s (the
# proxy must not wait for it).  Killing a server -> server-down with the pool
# and server names (and a warn log line with the reason); restarting it ->
# server-up.  The notify children are reaped (no zombies left).
set -u
. "${TOPSRC:-$(cd "$(dirname "$0")/../.." && pwd)}/tests/support/lib.sh"

P=$(free_port); B1=$(free_port); B2=$(free_port)
EV=$TMPDIR/events.txt
NOTIFY=$TMPDIR/on-event
cat >"$NOTIFY" <<SH
#!/bin/sh
printf '%s|%s|%s|%s\n' "\$PROXY_EVENT" "\$PROXY_POOL" "\$PROXY_SERVER" "\$PROXY_DETAIL" >>"$EV"
sleep 1.5
SH
chmod +x "$NOTIFY"
cat >"$TMPDIR/proxy.conf" <<CONF
workers 2
log-level info
access-log off
notify $NOTIFY
listen 127.0.0.1:$P
pool shop {
    check http /healthz
    interval 300ms
    check-timeout 250ms
    fall 2
    rise 2
    server alpha 127.0.0.1:$B1
    server beta 127.0.0.1:$B2
}
CONF
start_backend "$B1" alpha
start_backend "$B2" beta; PIDB=$BACKEND_PID
start_proxy "$TMPDIR/proxy.conf" "$P"
sleep 0.7

kill_t=$(date +%s.%N)
{ kill -KILL "$PIDB"; wait "$PIDB"; } 2>/dev/null
got_down() { grep -q '^server-down|shop|beta|' "$EV" 2>/dev/null; }
wait_for 5 got_down || { cat "$EV" 2>/dev/null; fail "notify did not get server-down|shop|beta within 5s"; }
down_t=$(date +%s.%N)
# The proxy answers at once while the notify program is still sleeping.
t=$(curl -s -o /dev/null -m 3 -w '%{http_code} %{time_total}' "http://127.0.0.1:$P/")
busy_code=${t% *}; busy_ms=$(awk -v t="${t#* }" 'BEGIN { printf "%d", t * 1000 }')

start_backend "$B2" beta
up_t0=$(date +%s.%N)
got_up() { grep -q '^server-up|shop|beta|' "$EV" 2>/dev/null; }
wait_for 5 got_up || { cat "$EV"; fail "notify did not get server-up|shop|beta within 5s"; }
up_t=$(date +%s.%N)
echo "--- notify file:"; cat "$EV"
echo "--- proxy log events:"; grep -E 'server-(down|up)|pool-down|standby' "$TMPDIR/proxy.log"

sleep 1.8   # let the notify programs finish, then look for zombies
zombies=$(ps -o stat= --ppid "$PROXY_PID" | grep -c '^Z')
kids=$(ps -o pid=,stat=,args= --ppid "$PROXY_PID")
echo "measured: server-down notified $(awk -v a="$kill_t" -v b="$down_t" 'BEGIN { printf "%d", (b - a) * 1000 }')ms after the kill," \
     "server-up notified $(awk -v a="$up_t0" -v b="$up_t" 'BEGIN { printf "%d", (b - a) * 1000 }')ms after the restart;" \
     "request during a running notify: $busy_code in ${busy_ms}ms; zombie children: $zombies"

downline=$(grep -E 'server-down' "$TMPDIR/proxy.log" | grep beta | head -n1)
[ -n "$downline" ] || fail "no server-down line for beta in the proxy log"
printf '%s\n' "$downline" | grep -qiw 'warn' || fail "server-down is not logged at warn: $downline"
printf '%s\n' "$downline" | grep -q 'shop' || fail "the server-down log line does not name the pool: $downline"
printf '%s\n' "$downline" | grep -Eqi 'refused|connect|reset|status|timeout|errors' || \
    fail "the server-down log line gives no reason: $downline"
grep -E 'server-up' "$TMPDIR/proxy.log" | grep beta | grep -qiw warn || fail "no server-up warn line for beta"
detail=$(grep '^server-down|shop|beta|' "$EV" | head -n1 | cut -d'|' -f4)
[ -n "$detail" ] || fail "PROXY_DETAIL empty for server-down"
[ "$busy_code" = 200 ] || fail "request during a running notify got $busy_code"
[ "$busy_ms" -lt 500 ] || fail "request during a running notify took ${busy_ms}ms (the proxy waited for notify?)"
grep -q '^server-down|shop|alpha|' "$EV" && fail "alpha reported down, it never was"
[ "$zombies" -eq 0 ] || fail "$zombies notify children left as zombies: $kids"
echo "PASS: server-down and server-up reached the log and the notify program"
