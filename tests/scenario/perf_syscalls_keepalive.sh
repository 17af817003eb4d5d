#!/usr/bin/env bash
# scenario: alone
# perf_syscalls_keepalive.sh: the keep-alive request path costs few system
# calls.  One client sends 300 requests, one after the other, on one
# keep-alive connection through a 1-worker proxy, under `strace -c`; the
# syscalls the proxy made per request are counted (deterministic: each
# request waits for the previous response, so every round is alike).
#  - recv family (recvfrom, recvmsg, read): at most 2.2 per request, the
#    request's and the response's reads; a reused server connection is not
#    peeked at when epoll has already vouched for it (the peek made 3.0).
#  - all syscalls: at most 9 per request (no per-request setsockopt,
#    epoll_ctl or timer syscalls).
set -u
. "${TOPSRC:-$(cd "$(dirname "$0")/../.." && pwd)}/tests/support/lib.sh"

command -v strace >/dev/null || fail "strace is not installed"
N=300
P=$(free_port); B=$(free_port)
start_backend "$B" app1
proxy_conf_basic "$TMPDIR/proxy.conf" "$P" "app1 127.0.0.1:$B" "workers 1" "cpu-yield off"
start_proxy "$TMPDIR/proxy.conf" "$P"

# Warm up: the server connection is open and pooled before counting.
curl -s -o /dev/null "http://127.0.0.1:$P/warm" || fail "warm-up request failed"

strace -f -c -q -o "$TMPDIR/strace.out" -p "$PROXY_PID" &
STRACE_PID=$!
track "$STRACE_PID"
# strace is attached once the proxy's threads show it as their tracer
wait_for 5 sh -c "grep -q '^TracerPid:[[:space:]]*$STRACE_PID\$' /proc/$PROXY_PID/status" ||
    fail "strace did not attach"
sleep 0.3

ok=$(/usr/bin/python3 - "$P" "$N" <<'PY'
import http.client, sys
port, n = int(sys.argv[1]), int(sys.argv[2])
conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
ok = 0
for i in range(n):
    conn.request("GET", f"/r{i}")
    r = conn.getresponse()
    r.read()
    ok += r.status == 200
print(ok)
PY
)
sleep 0.3
kill -INT "$STRACE_PID"
wait "$STRACE_PID" 2>/dev/null
[ "$ok" = "$N" ] || fail "only $ok of $N requests answered 200"

# strace -c: "% time seconds usecs/call calls errors syscall", then a total line
# strace -c: "% time, seconds, usecs/call, calls, [errors,] syscall", a total line
read -r recvs total <<<"$(awk '
    $NF == "total" { t = $4 }
    $NF ~ /^(recvfrom|recvmsg|read)$/ { r += $4 }
    END { print r + 0, t + 0 }' "$TMPDIR/strace.out")"
cat "$TMPDIR/strace.out"
per() { awk -v a="$1" -v n="$N" 'BEGIN { printf "%.2f", a / n }'; }
echo "per request: $(per "$recvs") recv-family calls, $(per "$total") syscalls in all"
awk -v a="$recvs" -v n="$N" 'BEGIN { exit !(a / n <= 2.2) }' ||
    fail "$(per "$recvs") recv-family syscalls per request (at most 2.2)"
awk -v a="$total" -v n="$N" 'BEGIN { exit !(a / n <= 9) }' ||
    fail "$(per "$total") syscalls per request (at most 9)"
echo "PASS"
