#!/usr/bin/env bash
# fault_early_answer.sh: a server that answers an upload before its end
# (413 as soon as it has the head, or its first 100 bytes) and closes
# without reading the body: the client gets the server's 413, and the
# server is not counted as failing nor marked down.
#
# The close with unread bytes is a reset, which cuts the proxy's send of
# the body.  Before: when the answer had been read first, the write error
# still counted as a failure of the server, so three such uploads marked
# it down (then 503 for everyone); when the reset came first, the answer
# waiting in the socket was never read: 502.  Now a write error reads
# what the server sent before judging, and one after an answer is the
# server's end of the request, not a failure.
set -u
. "${TOPSRC:-$(cd "$(dirname "$0")/../.." && pwd)}/tests/support/lib.sh"

P=$(free_port); S=$(free_port)
head -c 8000000 /dev/zero >"$TMPDIR/upload.bin"
for mode in early-413 early-413-unread; do
    B=$(free_port)
    start_misbehave "$B" "$mode"
    proxy_conf_basic "$TMPDIR/proxy-$mode.conf" "$P" "app 127.0.0.1:$B" "workers 1" "stats 127.0.0.1:$S"
    start_proxy "$TMPDIR/proxy-$mode.conf" "$P" "$S"
    codes=""
    for _ in 1 2 3 4 5 6; do
        codes="$codes $(curl -s -o /dev/null -w '%{http_code}' --max-time 10 -H 'Expect:' \
            --data-binary @"$TMPDIR/upload.bin" "http://127.0.0.1:$P/upload")"
    done
    echo "$mode: six 8 MB uploads:$codes"
    [ "$codes" = " 413 413 413 413 413 413" ] || fail "$mode: six uploads answered early got$codes, expected 413 each"
    got=$(stats_get "$S" 'srv("app")["failures"], srv("app")["state"]')
    [ "$got" = "0 up" ] || fail "$mode: the server's failures and state are '$got', expected '0 up'"
    kill -0 "$PROXY_PID" || fail "$mode: the proxy died"
    stop_pid "$PROXY_PID"
    stop_pid "$MISBEHAVE_PID"
done
echo "ok: early answers relayed, the server neither failing nor down"
