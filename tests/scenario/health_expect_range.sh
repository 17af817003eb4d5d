#!/usr/bin/env bash
# health_expect_range.sh: `expect LOW-HIGH` decides which check answers pass
# (CONTRACT.md section 2).  One backend, three pools checking it:
#   strict:  check http /hc?status=302, expect 200-204 -> 302 fails: down, 503
#   default: check http /hc?status=302, no expect (200-399) -> stays up, 200
#   nocont:  check http /hc?status=204, expect 200-204 -> stays up, 200
set -u
. "${TOPSRC:-$(cd "$(dirname "$0")/../.." && pwd)}/tests/support/lib.sh"

P=$(free_port); S=$(free_port); B1=$(free_port)
cat >"$TMPDIR/proxy.conf" <<CONF
workers 2
access-log off
listen 127.0.0.1:$P
stats 127.0.0.1:$S
pool strict {
    check http /hc?status=302
    expect 200-204
    interval 150ms
    check-timeout 500ms
    fall 2
    server s1 127.0.0.1:$B1
}
pool default {
    check http /hc?status=302
    interval 150ms
    check-timeout 500ms
    fall 2
    server d1 127.0.0.1:$B1
}
pool nocont {
    check http /hc?status=204
    expect 200-204
    interval 150ms
    check-timeout 500ms
    fall 2
    server n1 127.0.0.1:$B1
}
route path /strict/ pool strict
route path /nocont/ pool nocont
route default pool default
CONF
start_backend "$B1" app1
start_proxy "$TMPDIR/proxy.conf" "$P" "$S"

# server POOL NAME -> "state check.status check.consecutive"
server() {
    stats_get "$S" 'srv(*sys.argv[1:])["state"], srv(*sys.argv[1:])["check"]["status"],
        srv(*sys.argv[1:])["check"]["consecutive"]' "$1" "$2"
}
strict_down() { set -- $(server strict s1); [ "$1" = down ]; }
checked() { # POOL NAME: at least 4 consecutive passing checks
    set -- $(server "$1" "$2"); [ "$2" = pass ] && [ "$3" -ge 4 ]
}
wait_for 5 strict_down || fail "a server answering 302 to its check, expect 200-204, is not down: $(server strict s1)"
wait_for 5 checked default d1 || fail "302 with the default expect (200-399) did not pass: $(server default d1)"
wait_for 5 checked nocont n1 || fail "204 with expect 200-204 did not pass: $(server nocont n1)"
echo "strict s1: $(server strict s1); default d1: $(server default d1); nocont n1: $(server nocont n1)"
[ "$(server default d1 | cut -d' ' -f1)" = up ] || fail "default d1 not up"
[ "$(server nocont n1 | cut -d' ' -f1)" = up ] || fail "nocont n1 not up"
set -- $(server strict s1)
[ "$2" = fail ] || fail "strict s1 check status '$2', want fail"

code() { curl -s -o /dev/null -m 3 -w '%{http_code}' "http://127.0.0.1:$P$1"; }
[ "$(code /strict/x)" = 503 ] || fail "the pool whose only server fails its check (302) answered $(code /strict/x), want 503"
[ "$(code /other)" = 200 ] || fail "default pool answered $(code /other), want 200"
[ "$(code /nocont/x)" = 200 ] || fail "nocont pool answered $(code /nocont/x), want 200"
echo "PASS: expect 200-204 marks a 302 down; the default range and a 204 pass"
