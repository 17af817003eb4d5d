#!/usr/bin/env bash
# fault_post_not_replayed.sh: an order is placed once.  The server answers
# the first request on each connection and reads a later one (on a reused
# keep-alive connection) whole before closing (FIN), resetting (RST), or
# resetting a second later, without answering.  A POST that went out on
# such a connection may have been acted on: the client gets 502 and the
# server sees the POST exactly once (no replay on a fresh connection).  A
# GET in the same spot is idempotent and is retried: the client gets 200.
# The stats count the requests not replayed.  The same again over HTTP/2.
set -u
. "${TOPSRC:-$(cd "$(dirname "$0")/../.." && pwd)}/tests/support/lib.sh"

P=$(free_port); ST=$(free_port)
bad=0
for mode in drop-fin drop-rst drop-rst-late; do
    B=$(free_port)
    : >"$TMPDIR/$mode.log"
    start_misbehave "$B" "$mode" --log "$TMPDIR/$mode.log"
    cat >"$TMPDIR/proxy.conf" <<CONF
workers 1
access-log off
listen 127.0.0.1:$P
stats 127.0.0.1:$ST
timeout server 5s
pool web {
    check off
    retries 2
    server app1 127.0.0.1:$B
}
CONF
    start_proxy "$TMPDIR/proxy.conf" "$P"
    # A GET leaves an idle server connection; the POST right after reuses it.
    w=$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$P/warm")
    post=$(curl -s -o /dev/null -w '%{http_code}' -m 10 -d 'item=42&qty=1' "http://127.0.0.1:$P/order")
    n=$(grep -c '^POST /order ' "$TMPDIR/$mode.log")
    echo "$mode: warm=$w post=$post, server saw the POST $n time(s)"
    [ "$w" = 200 ] || { echo "  FAIL: warm-up GET got $w"; bad=1; }
    [ "$n" = 1 ] || { echo "  FAIL: the POST reached the server $n times"; bad=1; }
    [ "$post" = 502 ] || { echo "  FAIL: the client got $post for a POST the server dropped, not 502"; bad=1; }
    # The same fault under a GET: replayed on a fresh connection.
    curl -s -o /dev/null "http://127.0.0.1:$P/warm"
    get=$(curl -s -o /dev/null -w '%{http_code}' -m 10 "http://127.0.0.1:$P/again")
    g=$(grep -c '^GET /again ' "$TMPDIR/$mode.log")
    echo "$mode: get=$get, server saw the GET $g time(s)"
    [ "$get" = 200 ] || { echo "  FAIL: an idempotent GET was not retried ($get)"; bad=1; }
    # The same over HTTP/2 (prior knowledge): each stream is a txn, and its
    # request is kept for a retry until its answer begins, as on HTTP/1.1.
    h2=(curl -s -o /dev/null -w '%{http_code}' -m 10 --http2-prior-knowledge)
    "${h2[@]}" "http://127.0.0.1:$P/warm" >/dev/null
    post2=$("${h2[@]}" -d 'item=43&qty=1' "http://127.0.0.1:$P/order2")
    n2=$(grep -c '^POST /order2 ' "$TMPDIR/$mode.log")
    echo "$mode: HTTP/2 post=$post2, server saw it $n2 time(s)"
    [ "$n2" = 1 ] || { echo "  FAIL: the HTTP/2 POST reached the server $n2 times"; bad=1; }
    [ "$post2" = 502 ] || { echo "  FAIL: the HTTP/2 client got $post2 for a POST the server dropped, not 502"; bad=1; }
    "${h2[@]}" "http://127.0.0.1:$P/warm" >/dev/null
    get2=$("${h2[@]}" "http://127.0.0.1:$P/again2")
    g2=$(grep -c '^GET /again2 ' "$TMPDIR/$mode.log")
    echo "$mode: HTTP/2 get=$get2, server saw it $g2 time(s)"
    [ "$get2" = 200 ] || { echo "  FAIL: an idempotent HTTP/2 GET was not retried ($get2)"; bad=1; }
    nr=$(stats_get "$ST" 'j["faults"]["requests_not_replayed"]')
    echo "$mode: stats faults.requests_not_replayed=$nr"
    [ "$nr" = 2 ] || { echo "  FAIL: requests_not_replayed is $nr, want 2 (a POST on each protocol)"; bad=1; }
    stop_pid "$PROXY_PID"; stop_pid "$MISBEHAVE_PID"
done
[ "$bad" = 0 ] || fail "a non-idempotent request was replayed or answered wrongly"
echo "PASS: every POST reached the server once and got 502; GETs were retried"
