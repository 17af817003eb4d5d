#!/usr/bin/env bash
# h2_flood_unread.bash: the `flood` reason of streams.goaway (nghttp2's
# guard: 1000 PING and SETTINGS ACKs queued and not yet written), which no
# scenario of `make test` reaches: the proxy holds PINGs and SETTINGS to
# 100 each per 10 s, so it takes a client that never reads a large
# response, and six 10 s windows (about 55 s), on a connection whose
# `timeout keep-alive` is longer than that.  Named .bash, so the runner does
# not take it for a scenario; run it by hand when touching that path:
#     tests/support/run-scenarios.sh ./proxy tests/scenario/h2_flood_unread.bash
# It passes when the connection is closed and streams.goaway.flood went up
# by one (h2_abuse.py flood-unread).
set -u
. "${TOPSRC:-$(cd "$(dirname "$0")/../.." && pwd)}/tests/support/lib.sh"
need_python_h2

P=$(free_port); S=$(free_port); B=$(free_port)
start_backend "$B" app
cat >"$TMPDIR/proxy.conf" <<CONF
workers 1
access-log off
listen 127.0.0.1:$P
stats 127.0.0.1:$S
timeout keep-alive 120s
pool web {
    check off
    server app 127.0.0.1:$B
}
CONF
start_proxy "$TMPDIR/proxy.conf" "$P" "$S"
out=$("$PY" "$TOPSRC/tests/scenario/h2_abuse.py" "$P" flood-unread "$S") || fail "$out"
echo "$out"
got=$(stats_get "$S" 'j["streams"]["goaway"]["flood"], j["streams"]["goaway"]["ping"], j["streams"]["goaway"]["settings"]')
[ "$got" = "1 0 0" ] || fail "streams.goaway flood, ping, settings are $got, expected 1 0 0 (the counts of 100 must not cut first)"
kill -0 "$PROXY_PID" || fail "the proxy died"
echo "ok: 1000 answers queued unread: cut and counted as flood"
