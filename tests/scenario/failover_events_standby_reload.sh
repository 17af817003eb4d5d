#!/usr/bin/env bash
# failover_events_standby_reload.sh: the events failover_events.sh does not
# reach get to the log (warn) and the `notify` program too (CONTRACT
# section 5): standby-active and standby-idle, reload-ok, reload-failed.
#   1. pool shop: primary alpha, standby spare, standby-below 1.  alpha is
#      killed: standby-active|shop|| (no server), the standby serves.
#   2. alpha restarted: standby-idle|shop||, alpha serves again.
#   3. SIGHUP with a good file: reload-ok, detail "generation 2".
#   4. SIGHUP with a broken file: reload-failed, whose PROXY_DETAIL names
#      the file and line of the first error (a notify program has no log
#      to look "above" in), and the running configuration stays.
# The notify program's path has a blank in it: it runs only if it is not
# given to a shell (CONTRACT: "not through a shell").
set -u
. "${TOPSRC:-$(cd "$(dirname "$0")/../.." && pwd)}/tests/support/lib.sh"

P=$(free_port); B1=$(free_port); B2=$(free_port)
EV=$TMPDIR/events.txt
NOTIFY="$TMPDIR/on event"
cat >"$NOTIFY" <<SH
#!/bin/sh
printf '%s|%s|%s|%s\n' "\$PROXY_EVENT" "\$PROXY_POOL" "\$PROXY_SERVER" "\$PROXY_DETAIL" >>"$EV"
SH
chmod +x "$NOTIFY"
CONF=$TMPDIR/proxy.conf
write_conf() { # [EXTRA LINE]
    cat >"$CONF.new" <<CONF
workers 2
log-level info
access-log off
notify "$NOTIFY"
listen 127.0.0.1:$P
pool shop {
    check http /healthz
    interval 300ms
    check-timeout 250ms
    fall 2
    rise 2
    standby-below 1
    server alpha 127.0.0.1:$B1
    standby spare 127.0.0.1:$B2
}
${1:-}
CONF
    mv "$CONF.new" "$CONF"
}
write_conf
start_backend "$B1" alpha; PIDA=$BACKEND_PID
start_backend "$B2" spare
start_proxy "$CONF" "$P"
sleep 0.7
who() { curl -s -m 3 "http://127.0.0.1:$P/" | grep -o 'alpha\|spare' | head -n1; }
[ "$(who)" = alpha ] || fail "before: the primary alpha does not serve"
has() { grep -q "$1" "$EV" 2>/dev/null; }

# 1. the primary dies: the standby takes over
{ kill -KILL "$PIDA"; wait "$PIDA"; } 2>/dev/null
wait_for 5 has '^standby-active|shop||' || { cat "$EV" 2>/dev/null; fail "notify did not get standby-active|shop|| within 5s"; }
has '^standby-active|shop||.*primar' || fail "standby-active gives no detail: $(grep standby-active "$EV")"
[ "$(who)" = spare ] || fail "with alpha down, the standby does not serve"
grep -E 'event standby-active' "$TMPDIR/proxy.log" | grep -qiw warn || fail "standby-active is not logged at warn"
has '^pool-down|' && fail "pool-down with the standby up"

# 2. the primary is back: the standby goes idle
start_backend "$B1" alpha
wait_for 5 has '^standby-idle|shop||' || { cat "$EV"; fail "notify did not get standby-idle|shop|| within 5s"; }
grep -E 'event standby-idle' "$TMPDIR/proxy.log" | grep -qiw warn || fail "standby-idle is not logged at warn"
wait_for 3 sh -c "curl -s -m 3 http://127.0.0.1:$P/ | grep -q alpha" || fail "alpha does not serve after coming back"

# 3. a good reload
write_conf "# reloaded"
kill -HUP "$PROXY_PID"
wait_for 5 has '^reload-ok|||generation 2$' || { cat "$EV"; fail "notify did not get reload-ok|||generation 2 within 5s"; }
grep -E 'event reload-ok' "$TMPDIR/proxy.log" | grep -qiw warn || fail "reload-ok is not logged at warn"

# 4. a broken reload: line 16 is the first error
write_conf "bogus-directive 1
timeout client 10"
kill -HUP "$PROXY_PID"
wait_for 5 has '^reload-failed|' || { cat "$EV"; fail "notify did not get reload-failed within 5s"; }
detail=$(grep '^reload-failed|' "$EV" | head -n1 | cut -d'|' -f4-)
echo "reload-failed detail: $detail"
case "$detail" in
    *"proxy.conf:16: unknown directive \"bogus-directive\""*) ;;
    *) fail "the reload-failed PROXY_DETAIL does not name the file, line and error: \"$detail\"" ;;
esac
grep -E 'event reload-failed' "$TMPDIR/proxy.log" | grep -qiw warn || fail "reload-failed is not logged at warn"
[ "$(who)" = alpha ] || fail "after the failed reload the running configuration does not serve"
has '^reload-ok|||generation 3' && fail "a reload-ok for the broken file"

echo "--- notify file:"; cat "$EV"
echo "PASS: standby-active, standby-idle, reload-ok and reload-failed reached the log (warn) and the notify program"
