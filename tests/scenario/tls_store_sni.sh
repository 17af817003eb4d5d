#!/usr/bin/env bash
# tls_store_sni: the certificate store chooses by SNI (CONTRACT 7).  NEEDS
# THE REAL CERTIFICATE STORE (src/tls_certs.c of the certs branch): with
# the one-file stand-in `listen ... tls DIRECTORY` does not load.
# A directory of certificates from the scenario's CA:
#   default.pem  default.test                      ECDSA
#   a.pem        www.example.test                  ECDSA
#   a-rsa.pem    www.example.test                  RSA (the same name)
#   wild.pem     *.example.test                    ECDSA
#   z.pem        api.example.test                  ECDSA (exact beats wildcard)
#   shop.crt + shop.key   shop.test                ECDSA
# and a second directory without default.pem (b1.pem, b2.pem).
#   - s_client -servername picks: the exact name, the wildcard for one
#     label, default.pem for a.b.example.test, example.test, an unknown name
#     and no SNI at all; NAME.crt + NAME.key; ECDSA for a client that takes
#     it, RSA for one that offers only RSA (TLS 1.3 sigalgs, TLS 1.2 suite);
#   - curl --resolve verifies each name against the CA;
#   - without default.pem: the first file in name order;
#   - /api/stats `certificates`: path, names, key_type, not_after (as
#     openssl reads it), days_left; /metrics
#     proxy_tls_certificate_expiry_seconds{path,name};
#   - SIGHUP after a new file lands in the directory and a.pem is replaced
#     (20 days): the new file is served for its name and listed, the new
#     a.pem is served and its days_left is 19.
set -u
. "${TOPSRC:-$(cd "$(dirname "$0")/../.." && pwd)}/tests/support/lib.sh"

P=$(free_port); Q=$(free_port); S=$(free_port); B=$(free_port)
C=$TMPDIR/ca
D=$TMPDIR/certs
E=$TMPDIR/certs2
tls_ca "$C"
mkdir -p "$D" "$E"
tls_cert "$D/default.pem" "default.test" ec 30 "$C/ca"
tls_cert "$D/a.pem" "www.example.test" ec 30 "$C/ca"
tls_cert "$D/a-rsa.pem" "www.example.test" rsa 30 "$C/ca"
tls_cert "$D/wild.pem" "*.example.test" ec 30 "$C/ca"
tls_cert "$D/z.pem" "api.example.test" ec 30 "$C/ca"
tls_cert "$TMPDIR/shop.pem" "shop.test" ec 30 "$C/ca"
openssl x509 -in "$TMPDIR/shop.pem" -out "$D/shop.crt"
openssl pkey -in "$TMPDIR/shop.pem" -out "$D/shop.key"
tls_cert "$E/b2.pem" "b2.test" ec 30 "$C/ca"
tls_cert "$E/b1.pem" "b1.test" ec 30 "$C/ca"
start_backend "$B" app
cat >"$TMPDIR/proxy.conf" <<CONF
workers 2
access-log off
listen 127.0.0.1:$P tls certs/
listen 127.0.0.1:$Q tls certs2/
stats 127.0.0.1:$S
pool web {
    check off
    server app 127.0.0.1:$B
}
CONF
start_proxy "$TMPDIR/proxy.conf" "$P" "$Q" "$S"

# served PORT [s_client args]: the fingerprint of the certificate served.
served() {
    local port=$1
    shift
    timeout 5 openssl s_client -connect "127.0.0.1:$port" "$@" </dev/null 2>/dev/null |
        openssl x509 -noout -fingerprint -sha256 2>/dev/null | cut -d= -f2
}
declare -A FP
for f in default a a-rsa wild z; do FP[$f]=$(tls_fingerprint "$D/$f.pem"); done
FP[shop]=$(tls_fingerprint "$D/shop.crt")
FP[b1]=$(tls_fingerprint "$E/b1.pem")
name_of() { local k; for k in "${!FP[@]}"; do [ "${FP[$k]}" = "$1" ] && { echo "$k"; return; }; done; echo "none(${1:0:11})"; }

bad=()
# expect WANT PORT ARGS...: the file whose certificate these s_client args get.
expect() {
    local want=$1 port=$2 got
    shift 2
    got=$(name_of "$(served "$port" "$@")")
    echo "  $* -> $got"
    [ "$got" = "$want" ] || bad+=("$* got $got, expected $want")
}
echo "measured: choices:"
expect a "$P" -servername www.example.test
expect a "$P" -servername WWW.Example.Test
expect wild "$P" -servername foo.example.test
expect z "$P" -servername api.example.test
expect default "$P" -servername a.b.example.test
expect default "$P" -servername example.test
expect default "$P" -servername unknown.test
expect default "$P" -noservername
expect shop "$P" -servername shop.test
expect a-rsa "$P" -servername www.example.test -tls1_3 -sigalgs 'rsa_pss_rsae_sha256:rsa_pkcs1_sha256'
expect a-rsa "$P" -servername www.example.test -tls1_2 -cipher ECDHE-RSA-AES128-GCM-SHA256
expect a "$P" -servername www.example.test -tls1_2
expect b1 "$Q" -noservername
expect b1 "$Q" -servername nothing.test

for n in www.example.test foo.example.test api.example.test shop.test default.test; do
    code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 5 --cacert "$C/ca.pem" \
        --resolve "$n:$P:127.0.0.1" "https://$n:$P/")
    [ "$code" = 200 ] || bad+=("curl https://$n (verified) got $code")
done

# /api/stats certificates.
js=$(stats_dump "$S")
want_end=$(date -d "$(openssl x509 -in "$D/a.pem" -noout -enddate | cut -d= -f2)" +%s)
certs=$(echo "$js" | stats_get - '" ".join(sorted(c["path"].rsplit("/", 1)[1] for c in j["certificates"]))') || certs=
echo "measured: certificates listed: $certs"
[ "$certs" = "a-rsa.pem a.pem b1.pem b2.pem default.pem shop.crt wild.pem z.pem" ] ||
    bad+=("certificates lists '$certs'")
rec=$(echo "$js" | stats_get - '[(",".join(c["names"]), c["key_type"], c["not_after"], c["days_left"]) for c in j["certificates"] if c["path"] == sys.argv[1]][0]' "$D/a.pem") || rec=
rsa=$(echo "$js" | stats_get - '[c["key_type"] for c in j["certificates"] if c["path"] == sys.argv[1]][0]' "$D/a-rsa.pem") || rsa=
wnames=$(echo "$js" | stats_get - '[c["names"] for c in j["certificates"] if c["path"] == sys.argv[1]][0]' "$D/wild.pem") || wnames=
echo "measured: a.pem: $rec (openssl: not_after $want_end); a-rsa.pem: $rsa; wild.pem: $wnames"
# days_left: whole days rounded down, 30 within the second the file was made.
case $rec in
"www.example.test ECDSA P-256 $want_end 29" | "www.example.test ECDSA P-256 $want_end 30") ;;
*) bad+=("a.pem in certificates: $rec") ;;
esac
[ "$rsa" = "RSA 2048" ] || bad+=("a-rsa.pem key_type: '$rsa'")
[ "$wnames" = "['*.example.test']" ] || bad+=("wild.pem names: $wnames")
m=$(curl -s --max-time 5 "http://127.0.0.1:$S/metrics" |
    grep -F "proxy_tls_certificate_expiry_seconds{path=\"$D/a.pem\",name=\"www.example.test\"}")
[ "${m##* }" = "$want_end" ] || bad+=("metrics expiry for a.pem: '$m'")

# A new file and a replaced one (20 days instead of 30), then SIGHUP.
tls_cert "$D/new.pem" "new.test" ec 30 "$C/ca"
tls_cert "$TMPDIR/a2.pem" "www.example.test" ec 20 "$C/ca"
mv "$TMPDIR/a2.pem" "$D/a.pem"
ok0=$(stats_get "$S" 'j["reloads"]["ok"]')
kill -HUP "$PROXY_PID"
wait_for 5 stats_is "$S" 'j["reloads"]["ok"]' $((ok0 + 1)) || bad+=("the reload after adding new.pem failed")
FP[new]=$(tls_fingerprint "$D/new.pem")
expect new "$P" -servername new.test
listed=$(stats_get "$S" 'any(c["path"] == sys.argv[1] for c in j["certificates"])' "$D/new.pem") || listed=
[ "$listed" = True ] || bad+=("new.pem not in /api/stats certificates after the reload")
FP[a]=$(tls_fingerprint "$D/a.pem")
expect a "$P" -servername www.example.test
a_days=$(stats_get "$S" '[c["days_left"] for c in j["certificates"] if c["path"] == sys.argv[1]][0]' "$D/a.pem") || a_days=
echo "measured: a.pem replaced by a 20-day certificate: days_left $a_days"
case $a_days in 19 | 20) ;; *) bad+=("a.pem's days_left after it was replaced and reloaded: '$a_days', expected 19") ;; esac

if [ ${#bad[@]} -gt 0 ]; then
    printf 'wrong: %s\n' "${bad[@]}" >&2
    fail "${#bad[@]} checks of the certificate store failed (this scenario needs the real store)"
fi
echo "PASS: SNI exact, wildcard, default.pem, first file, NAME.crt+key, RSA beside ECDSA; certificates in stats and metrics; a new file after SIGHUP"
