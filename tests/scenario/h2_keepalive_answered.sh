#!/usr/bin/env bash
# h2_keepalive_answered.sh: an HTTP/2 connection whose request the proxy
# answers itself (no route takes it: 503) is idle afterwards for
# `timeout keep-alive` (3 s here), not for `timeout client` (1 s), the
# deadline a header block gets.  Before, a stream opened and answered in
# the same loop round left the connection on the idle list with the
# header block's deadline: GOAWAY 1 s after the answer.
set -u
. "${TOPSRC:-$(cd "$(dirname "$0")/../.." && pwd)}/tests/support/lib.sh"
need_python_h2

P=$(free_port); B=$(free_port)
start_backend "$B" app
cat >"$TMPDIR/proxy.conf" <<CONF
workers 1
access-log off
listen 127.0.0.1:$P
timeout client 1s
timeout keep-alive 3s
route path /api/ pool web
pool web {
    check off
    server app 127.0.0.1:$B
}
CONF
start_proxy "$TMPDIR/proxy.conf" "$P"
out=$("$PY" "$TOPSRC/tests/scenario/h2_abuse.py" "$P" answered-keepalive) || fail "$out"
echo "$out"
secs=$(echo "$out" | sed -n 's/.*GOAWAY \([0-9.]*\) s after.*/\1/p')
awk -v s="$secs" 'BEGIN { exit !(s >= 2.5 && s < 4.5) }' ||
    fail "the GOAWAY came ${secs}s after the proxy's answer, expected about 3 (timeout keep-alive)"
kill -0 "$PROXY_PID" || fail "the proxy died"
echo "ok: idle for timeout keep-alive after an answer of the proxy's own"
