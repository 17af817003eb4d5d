#!/usr/bin/env bash
# reload_role_change.sh: a reload that turns a `server` into a `standby`
# (or back) keeps the server: its state, health counters and statistics
# (CONTRACT 4 matches servers by pool, name and address).
#
# Before, a changed role made it a new server: a1, down on its checks,
# came back up at once as a standby and took traffic until `fall` more
# checks failed; its request count started from zero.
set -u
. "${TOPSRC:-$(cd "$(dirname "$0")/../.." && pwd)}/tests/scenario/reload_lib.bash"

P=$(free_port); STATS=$(free_port); A1=$(free_port); B=$(free_port)
CONF=$TMPDIR/proxy.conf
start_backend "$A1" a1 -f "$TMPDIR/a1.fail"
start_backend "$B" b
write_conf() { # a1's role: server or standby
    cat >"$CONF" <<CONF
workers 2
access-log off
listen 127.0.0.1:$P
stats 127.0.0.1:$STATS
pool web {
    balance round-robin
    check http /healthz
    interval 100ms
    fall 2
    rise 2
    standby-below 1
    $1 a1 127.0.0.1:$A1
    server b 127.0.0.1:$B
}
CONF
}
write_conf server
start_proxy "$CONF" "$P" "$STATS"
r=$(hits "$P" 20)
echo "both primaries: $r"
served a1 "$r" || fail "a1 took no request while up: $r"
before=$(stat web/a1/requests)

touch "$TMPDIR/a1.fail"
for i in $(seq 50); do [ "$(stat web/a1/state)" = down ] && break; sleep 0.1; done
[ "$(stat web/a1/state)" = down ] || fail "a1 did not go down on its checks"
echo "a1 down on its checks ($(stat web/a1/requests) requests)"

write_conf standby
hup_wait
role=$(stat web/a1/role) state=$(stat web/a1/state) reqs=$(stat web/a1/requests)
echo "a1 now a standby: role $role, state $state, requests $reqs"
[ "$role" = standby ] || fail "the role did not change: $role"
[ "$state" = down ] || fail "a1 came back $state when it became a standby (a new server)"
[ "$reqs" -ge "$before" ] && [ "$reqs" -gt 0 ] || fail "a1's statistics started over: $reqs requests (had $before)"
r=$(hits "$P" 20)
echo "after the reload: $r"
served a1 "$r" && fail "a1 (down) took requests after the role change: $r"

rm -f "$TMPDIR/a1.fail"
write_conf server
hup_wait
for i in $(seq 50); do [ "$(stat web/a1/state)" = up ] && break; sleep 0.1; done
[ "$(stat web/a1/state) $(stat web/a1/role)" = "up primary" ] || fail "a1 back as a primary: $(stat web/a1/state) $(stat web/a1/role)"
r=$(hits "$P" 20)
served a1 "$r" || fail "a1, up and a primary again, took no request: $r"
echo "ok: a role change keeps the server's state and statistics"
