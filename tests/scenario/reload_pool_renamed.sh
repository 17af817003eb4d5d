#!/usr/bin/env bash
# reload_pool_renamed.sh: requests waiting in the queue of a pool a reload
# renames (a new pool, CONTRACT 4: servers are matched by pool and name)
# are answered at once - the old pool has no server left for them - not
# after `timeout queue`.
#
# Before, such a request stayed on its old generation and waited for a
# switch its worker had already made: 503 after timeout queue (5 s), and
# no one woke the old pool's queue.  A request queued in a pool the reload
# keeps is served as before.
set -u
. "${TOPSRC:-$(cd "$(dirname "$0")/../.." && pwd)}/tests/support/lib.sh"

P=$(free_port); B=$(free_port)
start_backend "$B" app
write_conf() { # pool name
    cat >"$TMPDIR/proxy.conf" <<CONF
workers 1
access-log off
listen 127.0.0.1:$P
timeout queue 5s
pool $1 {
    check off
    max-queue 100
    server s1 127.0.0.1:$B max-conns 1
}
route default pool $1
CONF
}
write_conf a
start_proxy "$TMPDIR/proxy.conf" "$P"

curl -s -o /dev/null -m 10 "http://127.0.0.1:$P/?delay=2000" &
track $!
sleep 0.3
for i in 1 2 3; do
    curl -s -o /dev/null -m 10 -w "%{http_code} %{time_total}\n" "http://127.0.0.1:$P/q$i" >"$TMPDIR/q$i.out" &
    track $!
done
sleep 0.3
write_conf b
kill -HUP "$PROXY_PID"
for i in 1 2 3; do
    wait_for 8 test -s "$TMPDIR/q$i.out" || fail "queued request $i: no answer"
done
for i in 1 2 3; do
    read -r code secs <"$TMPDIR/q$i.out"
    echo "queued request $i: $code after ${secs}s"
    python3 -c 'import sys; sys.exit(0 if float(sys.argv[1]) < 2.0 else 1)' "$secs" ||
        fail "queued request $i in the renamed pool took ${secs}s ($code): it waited for timeout queue"
done
code=$(curl -s -o /dev/null -w '%{http_code}' -m 5 "http://127.0.0.1:$P/after")
[ "$code" = 200 ] || fail "a request after the reload: $code"
echo "ok: a renamed pool's queue is answered at once, the new pool serves"
