#!/usr/bin/env bash
# scenario: alone
# ha_keepalived.sh: a balancer pair.  In network namespaces this test makes
# (and removes): a LAN bridge, a client, two balancers A and B each running
# the proxy and keepalived with conf/keepalived.conf (A priority 150, B 100),
# and a backend, on 192.0.2.0/24 (TEST-NET-1, only inside the namespaces).
# The client requests the virtual address 192.0.2.100 every 50 ms; A's
# proxy is killed (kill -9); keepalived's track_script sees its /healthz
# fail and the address moves to B; requests resume.  Prints the seconds
# without service and the failed requests; fails if the address did not
# move or service did not come back within 8 s.  Skipped without root or
# keepalived.
set -u
. "${TOPSRC:-$(cd "$(dirname "$0")/../.." && pwd)}/tests/support/lib.sh"

[ "$(id -u)" = 0 ] || { echo "SKIP: needs root for network namespaces"; exit 0; }
command -v keepalived >/dev/null || { echo "SKIP: keepalived not installed (make deps installs it)"; exit 0; }
ip netns add "pxha$$probe" 2>/dev/null || { echo "SKIP: cannot create network namespaces here"; exit 0; }
ip netns del "pxha$$probe"

N=pxha$$                      # namespace prefix, unique to this run
NSS="lan c a b s"
netns_cleanup() {
    cleanup
    for n in $NSS; do ip netns del "$N-$n" 2>/dev/null; done
}
trap netns_cleanup EXIT

ip netns add "$N-lan"
ip -n "$N-lan" link add br0 type bridge
ip -n "$N-lan" link set br0 up
addr_c=192.0.2.30 addr_a=192.0.2.11 addr_b=192.0.2.12 addr_s=192.0.2.20 VIP=192.0.2.100
for n in c a b s; do
    ip netns add "$N-$n"
    ip link add "$N$n" type veth peer name eth0 netns "$N-$n"
    ip link set "$N$n" netns "$N-lan"
    ip -n "$N-lan" link set "$N$n" master br0 up
    eval "ip -n \"$N-$n\" addr add \$addr_$n/24 dev eth0"
    ip -n "$N-$n" link set eth0 up
    ip -n "$N-$n" link set lo up
done
# In the foreground only: a function run with & is a subshell, and its pid
# is not the process's (the background ones below call ip directly, which
# execs into the program, so $! is the program's pid).
in_ns() { local n=$1; shift; ip netns exec "$N-$n" "$@"; }

ip netns exec "$N-s" "$BACKEND" -q -a "$addr_s" -p 8000 -n app1 >"$TMPDIR/backend.log" 2>&1 &
track $!
for n in a b; do
    cat >"$TMPDIR/proxy-$n.conf" <<CONF
workers 1
access-log off
listen 0.0.0.0:8080
stats 127.0.0.1:8404
pool web {
    check tcp
    interval 500ms
    server app1 $addr_s:8000
}
CONF
    ip netns exec "$N-$n" "$PROXY" -c "$TMPDIR/proxy-$n.conf" >"$TMPDIR/proxy-$n.log" 2>&1 &
    eval "PROXY_$n=\$!"; track $!
    prio=150; [ "$n" = b ] && prio=100
    sed -e "s/priority 150/priority $prio/" -e "s#/usr/bin/curl#$(command -v curl)#" \
        "$TOPSRC/conf/keepalived.conf" >"$TMPDIR/ka-$n.conf"
    ip netns exec "$N-$n" keepalived -n -l -P -f "$TMPDIR/ka-$n.conf" -p "$TMPDIR/ka-$n.pid" -r "$TMPDIR/vrrp-$n.pid" \
        >"$TMPDIR/ka-$n.log" 2>&1 &
    track $!
done
has_vip() { ip -n "$N-$1" -4 addr show dev eth0 | grep -q "$VIP/"; }
wait_for 15 has_vip a || fail "the virtual address never came to A: $(tail -n5 "$TMPDIR/ka-a.log")"
in_ns c curl -s -m 2 -o /dev/null -w '%{http_code}' "http://$VIP:8080/" | grep -qx 200 || fail "no answer through the virtual address"
echo "the virtual address is on A and answers"

# The client: a request every 50 ms for 14 s, each line "epoch code".
ip netns exec "$N-c" python3 - "$VIP" "$TMPDIR/client.log" <<'PY' &
import http.client, sys, time
vip, out = sys.argv[1], open(sys.argv[2], "w", buffering=1)
end = time.time() + 14
while time.time() < end:
    t = time.time()
    try:
        c = http.client.HTTPConnection(vip, 8080, timeout=0.5)
        c.request("GET", "/")
        code = c.getresponse().status
        c.close()
    except Exception:
        code = 0
    out.write(f"{t:.3f} {code}\n")
    time.sleep(max(0, 0.05 - (time.time() - t)))
PY
CPID=$!; track $CPID
sleep 3
kill_at=$(date +%s.%N)
kill -KILL "$PROXY_a"
wait_for 10 has_vip b || fail "the address did not move to B: $(tail -n5 "$TMPDIR/ka-b.log")"
moved_at=$(date +%s.%N)
wait "$CPID"
python3 - "$TMPDIR/client.log" "$kill_at" "$moved_at" >"$TMPDIR/figures" <<'PY'
import sys
rows = [l.split() for l in open(sys.argv[1])]
kill_at, moved_at = float(sys.argv[2]), float(sys.argv[3])
failed = [float(t) for t, c in rows if c != "200"]
after = [float(t) for t, c in rows if c == "200" and float(t) > kill_at]
gap = (after[0] - kill_at) if after else -1
last_ok = all(c == "200" for t, c in rows[-20:])
print(f"requests={len(rows)} failed={len(failed)} gap_s={gap:.2f} moved_s={moved_at - kill_at:.2f} "
      f"last20_ok={int(last_ok)}")
PY
figures=$(cat "$TMPDIR/figures")
echo "after kill -9 of A's proxy: $figures"
gap=$(field gap_s "$figures"); last=$(field last20_ok "$figures")
[ "$last" = 1 ] || fail "requests did not resume on B: $figures"
python3 -c "import sys; sys.exit(0 if 0 <= $gap < 8 else 1)" || fail "service was back only after ${gap}s"
echo "PASS: the address moved to B in $(field moved_s "$figures") s; ${gap} s without service"
