#!/usr/bin/env bash
# failover_standby_below.sh: `standby-below N` (CONTRACT.md sections 2, 5):
# the standby takes traffic only while fewer than N primaries are up.
# Three primaries, one standby, standby-below 2; primaries are failed by
# their health check (backend -f FAILFILE), interval 100ms, fall 1, rise 1.
#   3 up, then 2 up (not below 2): standby idle, gets no request
#   1 up (below 2): standby_active, the standby gets requests
#   2 up again: standby idle, gets no new request
set -u
. "${TOPSRC:-$(cd "$(dirname "$0")/../.." && pwd)}/tests/support/lib.sh"

P=$(free_port); S=$(free_port); B1=$(free_port); B2=$(free_port); B3=$(free_port); SP=$(free_port)
cat >"$TMPDIR/proxy.conf" <<CONF
workers 2
access-log off
listen 127.0.0.1:$P
stats 127.0.0.1:$S
pool web {
    balance round-robin
    check http /healthz
    interval 100ms
    check-timeout 500ms
    fall 1
    rise 1
    standby-below 2
    server p1 127.0.0.1:$B1
    server p2 127.0.0.1:$B2
    server p3 127.0.0.1:$B3
    standby spare 127.0.0.1:$SP
}
CONF
start_backend "$B1" p1 -f "$TMPDIR/p1.fail"
start_backend "$B2" p2 -f "$TMPDIR/p2.fail"
start_backend "$B3" p3 -f "$TMPDIR/p3.fail"
start_backend "$SP" spare
start_proxy "$TMPDIR/proxy.conf" "$P" "$S"

# "standby_active up-primaries"
pool_state() {
    stats_get "$S" 'str(j["pools"][0]["standby_active"]).lower(),
        sum(1 for s in j["pools"][0]["servers"] if s["role"] == "primary" and s["state"] == "up")'
}
state_is() { [ "$(pool_state)" = "$1" ]; }
# Answers of 20 requests on fresh connections, as "name=count ...".
spread() {
    local i
    for i in $(seq 20); do curl -s -m 2 "http://127.0.0.1:$P/r$i"; done | sort | uniq -c | awk '{ printf "%s=%s ", $2, $1 }'
}
# The number of checks p3 (never changed) has passed in a row.
p3_checks() {
    stats_get "$S" 'srv("web", "p3")["check"]["consecutive"]'
}
checks_past() { [ "$(p3_checks)" -ge "$1" ]; }
# Wait for the state, then for two more check rounds: the state must hold.
settle() { # WANT
    wait_for 5 state_is "$1" || fail "pool state $(pool_state), want '$1'"
    local c0; c0=$(p3_checks)
    wait_for 3 checks_past $((c0 + 2)) || fail "checks of p3 did not advance"
    state_is "$1" || fail "pool state changed to $(pool_state), want '$1'"
}

settle "false 3"
s=$(spread); echo "3 primaries up: $s"
case "$s" in *spare*) fail "the standby got requests with 3 primaries up: $s" ;; esac

: >"$TMPDIR/p1.fail"
settle "false 2"
s=$(spread); echo "2 primaries up (standby-below 2): $s"
case "$s" in *spare*) fail "the standby got requests with 2 primaries up and standby-below 2: $s" ;; esac

: >"$TMPDIR/p2.fail"
settle "true 1"
s=$(spread); echo "1 primary up: $s"
case "$s" in *spare=*) ;; *) fail "the standby got no request with 1 primary up and standby-below 2: $s" ;; esac

rm -f "$TMPDIR/p2.fail"
settle "false 2"
s=$(spread); echo "2 primaries up again: $s"
case "$s" in *spare*) fail "the standby still got requests with 2 primaries up again: $s" ;; esac
echo "PASS: standby-below 2 activates the standby below 2 primaries only"
