#!/usr/bin/env bash
# prometheus_alerts.sh: conf/prometheus/alerts.yml is valid (promtool check
# rules), its unit tests pass (promtool test rules alerts_test.yml), and a
# live proxy's /metrics - with traffic, a TLS listener's certificate
# metrics aside - passes `promtool check metrics` and names every metric
# the rules use.
set -u
. "${TOPSRC:-$(cd "$(dirname "$0")/../.." && pwd)}/tests/support/lib.sh"
trap cleanup EXIT
command -v promtool >/dev/null || fail "promtool is missing (Debian package prometheus)"

RULES=$TOPSRC/conf/prometheus
promtool check rules "$RULES/alerts.yml" || fail "promtool check rules alerts.yml"
(cd "$RULES" && promtool test rules alerts_test.yml) || fail "promtool test rules alerts_test.yml"

P=$(free_port); S=$(free_port); B=$(free_port)
proxy_conf_basic "$TMPDIR/proxy.conf" "$P" "app 127.0.0.1:$B" "stats 127.0.0.1:$S token t0ken"
start_backend "$B" app
start_proxy "$TMPDIR/proxy.conf" "$P" "$S"
for _ in 1 2 3 4 5; do curl -s -o /dev/null "http://127.0.0.1:$P/x?y=1"; done
sleep 1.2
curl -s -m 3 "http://127.0.0.1:$S/metrics" >"$TMPDIR/metrics.txt" || fail "no /metrics"
lint=$(promtool check metrics <"$TMPDIR/metrics.txt" 2>&1); rc=$?
echo "promtool check metrics: rc $rc ${lint:-(no findings)}"
[ "$rc" = 0 ] || fail "promtool check metrics: $lint"
# Every metric the rules name is one the proxy serves (the TLS one only
# with a TLS listener: checked by name in stats_tls.c instead).
for m in $(grep -o 'proxy_[a-z_]*' "$RULES/alerts.yml" | sort -u); do
    [ "$m" = proxy_tls_certificate_expiry_seconds ] && { grep -q "\"$m\"" "$TOPSRC/src/stats_tls.c" || fail "$m not in stats_tls.c"; continue; }
    grep -q "^# TYPE $m " "$TMPDIR/metrics.txt" || fail "alerts.yml uses $m, which /metrics does not serve"
done
# ProxyPoolDown's metric: a pool whose only server is disabled serves
# nobody while its checks pass (proxy_server_up stays 1).
usable() { curl -s -m 3 "http://127.0.0.1:$S/metrics" | awk '$1 == "proxy_pool_usable{pool=\"web\"}" { print $2 }'; }
[ "$(usable)" = 1 ] || fail "proxy_pool_usable of a pool with its server up: $(usable)"
code=$(curl -s -o /dev/null -w '%{http_code}' -X POST -H 'Authorization: Bearer t0ken' \
    "http://127.0.0.1:$S/api/pools/web/servers/app/disable")
[ "$code" = 200 ] || fail "disable: $code"
[ "$(usable)" = 0 ] || fail "proxy_pool_usable with its only server disabled: $(usable)"
[ "$(curl -s -m 3 "http://127.0.0.1:$S/metrics" | awk '$1 == "proxy_server_up{pool=\"web\",server=\"app\"}" { print $2 }')" = 1 ] ||
    fail "proxy_server_up of the disabled server (its checks pass)"
echo "a disabled pool: proxy_pool_usable 0, proxy_server_up 1"
echo "PASS: alert rules valid and tested, /metrics passes promtool and serves what the rules use"
