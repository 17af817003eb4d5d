#!/usr/bin/env bash
# surge_quiet_after_burst.sh: a short burst of requests followed by quiet
# shows in the traffic's top lists within a few seconds.
#
# A worker hands its part of the top lists (clients, prefixes, paths) to
# the main thread when asked, once a second; it used to answer only at its
# next request, so the last requests before a quiet spell stayed out of
# the lists (here: all of them) until more came, or for good once they
# were older than the window.  The worker's once-a-second sweep answers
# now.
set -u
. "${TOPSRC:-$(cd "$(dirname "$0")/../.." && pwd)}/tests/support/lib.sh"

P=$(free_port); S=$(free_port); B=$(free_port)
proxy_conf_basic "$TMPDIR/proxy.conf" "$P" "app 127.0.0.1:$B" "stats 127.0.0.1:$S" "workers 2"
start_backend "$B" app
start_proxy "$TMPDIR/proxy.conf" "$P" "$S"
sleep 1.2 # past the first second's handover

urls=()
for i in $(seq 30); do urls+=("http://127.0.0.1:$P/burst/$i"); done
curl -s -o /dev/null -m 5 --interface 127.0.0.2 "${urls[@]}" || fail "the burst's requests failed"
top() { stats_get "$S" '(j["traffic"]["top"]["requests"], ",".join(c["client"] for c in j["traffic"]["top"]["clients"]), ",".join(p["path"] for p in j["traffic"]["top"]["paths"]))'; }
for i in $(seq 40); do
    t=$(top)
    [ "${t%% *}" -ge 30 ] 2>/dev/null && break
    sleep 0.1
done
echo "after a burst of 30 requests and quiet (${i}00 ms): top requests, clients, paths: $t"
[ "${t%% *}" = 30 ] || fail "4 s after a burst of 30 requests the top lists weigh ${t%% *} (a quiet worker kept its part)"
case $t in *" 127.0.0.2 "*) ;; *) fail "the burst's client is not in the top clients: $t" ;; esac
case $t in *"/burst/"*) ;; *) fail "the burst's path is not in the top paths: $t" ;; esac
echo "ok: a burst followed by quiet is in the top lists"
