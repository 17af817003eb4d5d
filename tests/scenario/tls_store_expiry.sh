#!/usr/bin/env bash
# tls_store_expiry: cert-expiring and cert-expired (CONTRACT 7: within 14
# days, with the path, names and days left).  NEEDS THE REAL CERTIFICATE
# STORE (src/tls_certs.c of the certs branch): the one-file stand-in loads
# no directory and reports no expiry.
# A directory: ok.pem (30 days), soon.pem (10 days), old.pem (expired a
# day ago).  notify appends PROXY_EVENT|PROXY_DETAIL to a file.
#   - at start: one cert-expiring for soon.pem (its path, its name, 9 or 10
#     days), one cert-expired for old.pem, nothing for ok.pem; each also a
#     warn line in the log;
#   - /api/stats days_left: soon 9 (10 within the second it was made),
#     old -1 or -2, ok 29 (30);
#   - a reload after soon2.pem (5 days) lands: cert-expiring for it.
set -u
. "${TOPSRC:-$(cd "$(dirname "$0")/../.." && pwd)}/tests/support/lib.sh"

P=$(free_port); S=$(free_port); B=$(free_port)
C=$TMPDIR/ca
D=$TMPDIR/certs
tls_ca "$C"
mkdir -p "$D"
tls_cert "$D/ok.pem" "ok.test" ec 30 "$C/ca"
tls_cert "$D/soon.pem" "soon.test,www.soon.test" ec 10 "$C/ca"
tls_cert "$D/old.pem" "old.test" ec -1 "$C/ca"
EV=$TMPDIR/events.txt
cat >"$TMPDIR/on-event" <<SH
#!/bin/sh
printf '%s|%s\n' "\$PROXY_EVENT" "\$PROXY_DETAIL" >>"$EV"
SH
chmod +x "$TMPDIR/on-event"
start_backend "$B" app
cat >"$TMPDIR/proxy.conf" <<CONF
workers 2
access-log off
notify $TMPDIR/on-event
listen 127.0.0.1:$P tls $D
stats 127.0.0.1:$S
pool web {
    check off
    server app 127.0.0.1:$B
}
CONF
start_proxy "$TMPDIR/proxy.conf" "$P" "$S"
got() { grep -q "^$1|.*$2" "$EV" 2>/dev/null; }
wait_for 5 got cert-expiring "$D/soon.pem"
wait_for 5 got cert-expired "$D/old.pem"
sleep 0.5
echo "measured: events at start:"; cat "$EV" 2>/dev/null
bad=()
soon=$(grep "^cert-expiring|.*$D/soon.pem" "$EV" 2>/dev/null)
old=$(grep "^cert-expired|.*$D/old.pem" "$EV" 2>/dev/null)
[ "$(printf '%s\n' "$soon" | grep -c .)" = 1 ] || bad+=("cert-expiring for soon.pem: $(printf '%s\n' "$soon" | grep -c .) events, expected 1")
printf '%s' "$soon" | grep -q 'soon\.test' || bad+=("cert-expiring does not name soon.test: $soon")
printf '%s' "$soon" | grep -Eq '\b(9|10) days' || bad+=("cert-expiring does not say 9 or 10 days: $soon")
[ "$(printf '%s\n' "$old" | grep -c .)" = 1 ] || bad+=("cert-expired for old.pem: $(printf '%s\n' "$old" | grep -c .) events, expected 1")
printf '%s' "$old" | grep -q 'old\.test' || bad+=("cert-expired does not name old.test: $old")
grep -q "ok.pem" "$EV" 2>/dev/null && bad+=("an event for ok.pem (30 days left)")
grep -E 'warn.*cert-expiring' "$TMPDIR/proxy.log" | grep -q soon.pem || bad+=("no warn log line for cert-expiring soon.pem")
grep -E 'warn.*cert-expired' "$TMPDIR/proxy.log" | grep -q old.pem || bad+=("no warn log line for cert-expired old.pem")

days=$(stats_get "$S" '" ".join("%s=%s" % (c["path"].rsplit("/", 1)[1], c["days_left"]) for c in sorted(j["certificates"], key=lambda c: c["path"]))') || days=
echo "measured: days_left: $days"
# Whole days rounded down: a certificate made in the same second as the
# check has exactly 30 (10) days left, one made a second before 29 (9).
# Each was made in a second of its own, so each is judged alone.
for want in "ok.pem=29|ok.pem=30" "old.pem=-1|old.pem=-2" "soon.pem=9|soon.pem=10"; do
    got=$(printf '%s\n' $days | grep -E "^(${want})\$") || got=
    [ -n "$got" ] || bad+=("days_left in /api/stats: '$days' (expected one of $want)")
done

tls_cert "$D/soon2.pem" "soon2.test" ec 5 "$C/ca"
kill -HUP "$PROXY_PID"
wait_for 5 got cert-expiring "$D/soon2.pem" || bad+=("no cert-expiring for soon2.pem after the reload")
grep "soon2" "$EV" 2>/dev/null

if [ ${#bad[@]} -gt 0 ]; then
    printf 'wrong: %s\n' "${bad[@]}" >&2
    fail "${#bad[@]} expiry checks failed (this scenario needs the real store)"
fi
echo "PASS: cert-expiring (10 days) and cert-expired (a day ago) through notify and the log, days_left in stats, a new expiring file seen at reload"
