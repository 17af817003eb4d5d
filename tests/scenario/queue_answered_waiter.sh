#!/usr/bin/env bash
# queue_answered_waiter.sh: a request answered by the proxy while it waits
# in its pool's queue (its body went over limit body-size: 413) leaves the
# queue then, and the slot freed after it goes to the request queued
# behind it.
#
# The pool's one server takes one request at a time (max-conns 1): A holds
# it for 0.8 s; B, a POST, queues and sends 2 KiB of body (limit body-size
# 1k): 413; C queues behind B.  When A ends, C is served at once.  Over
# HTTP/1.1 (B's connection closes soon after its 413) this held before
# too.  Over HTTP/2, B's stream lives on until its 413 is sent, which its
# client's shut window holds back: before, B stayed in the queue, the slot
# A freed woke B, which had nothing left to send, and nobody else, so C
# waited out timeout queue (503 after 6 s).
set -u
. "${TOPSRC:-$(cd "$(dirname "$0")/../.." && pwd)}/tests/support/lib.sh"
need_python_h2

P=$(free_port); B=$(free_port)
start_backend "$B" app
proxy_conf_basic "$TMPDIR/proxy.conf" "$P" "app 127.0.0.1:$B max-conns 1" "workers 1" \
    "limit body-size 1k" "timeout queue 6s"
start_proxy "$TMPDIR/proxy.conf" "$P"

# B over HTTP/1.1: the head, then 2 KiB of chunks; reads its answer, then
# goes on sending for 2 s.
cat >"$TMPDIR/b1.py" <<'PY'
import socket, sys, time
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=5)
s.sendall(b"POST /upload HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n")
for _ in range(8):
    s.sendall(b"100\r\n" + b"x" * 256 + b"\r\n")
time.sleep(0.1)
print(s.recv(200).split(b"\r\n")[0].decode())
# More body, a chunk every 50 ms: the proxy takes and drops what follows
# an early answer for a while before it closes.
try:
    for _ in range(40):
        s.sendall(b"10\r\n" + b"y" * 16 + b"\r\n")
        time.sleep(0.05)
except OSError:
    pass
PY

# answered_waiter WHAT B_WANT B_COMMAND...: A holds the slot for 0.8 s, B
# (the command, its output in $TMPDIR/b.out, which must hold B_WANT) queues
# and is answered, C queues behind B and must be served within 2 s.
answered_waiter() {
    local what=$1 want=$2 a b t0 code secs
    shift 2
    curl -s -o /dev/null -w '%{http_code}' --max-time 10 "http://127.0.0.1:$P/?delay=800" >"$TMPDIR/a.code" &
    a=$!
    track "$a"
    sleep 0.2
    "$@" >"$TMPDIR/b.out" 2>&1 &
    b=$!
    track "$b"
    sleep 0.3
    t0=$(date +%s.%N)
    code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 10 "http://127.0.0.1:$P/") || true
    secs=$(echo "$(date +%s.%N) - $t0" | bc)
    wait "$a"
    wait "$b"
    echo "$what: A: $(cat "$TMPDIR/a.code"); B: $(cat "$TMPDIR/b.out"); C: $code after ${secs}s"
    [ "$(cat "$TMPDIR/a.code")" = 200 ] || fail "$what: A got $(cat "$TMPDIR/a.code"), expected 200"
    grep -q "$want" "$TMPDIR/b.out" || fail "$what: B got $(cat "$TMPDIR/b.out"), expected a 413 while queued"
    [ "$code" = 200 ] || fail "$what: C, queued behind the answered B, got $code after ${secs}s, expected 200"
    awk -v s="$secs" 'BEGIN { exit !(s < 2) }' || fail "$what: C took ${secs}s: A's slot freed at about 0.5s"
}
answered_waiter HTTP/1.1 "^HTTP/1.1 413" python3 "$TMPDIR/b1.py" "$P"
# Over HTTP/2 the answered stream lives on until its 413 is sent, which
# its client's shut window holds back (before, C got 503 after 6 s).
answered_waiter HTTP/2 "answered-unread: 413" "$PY" "$TOPSRC/tests/scenario/h2_abuse.py" "$P" answered-unread 3
kill -0 "$PROXY_PID" || fail "the proxy died"
echo "ok: a waiter answered in the queue left it; the next one took the slot"
