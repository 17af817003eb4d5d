# shellcheck shell=bash
# Sourced by tests/bench/bench.sh: the cases over TLS, their certificate and
# the TLS parts of the three proxies' configurations.
#
#   tls        as keepalive over TLS 1.3 (wrk -t1 -c50 https://, one handshake
#              per connection)
#   tlsfull    as churn over TLS 1.3: a new connection, so a new handshake,
#              per request (wrk resumes about half of its sessions: it keeps
#              the last one on its reused SSL object)
#   tlsidle    as idle over TLS 1.3 (idleconns -s: full handshakes, then idle)
#   The TLS cases: the same self-signed ECDSA P-256 certificate for all
#   three (made with openssl in the bench directory), TLS 1.3 only, the
#   suite TLS_AES_128_GCM_SHA256 (ours: tls protocols 1.3 1.3, tls
#   ciphersuites; HAProxy: bind ... ssl crt FILE ssl-min-ver TLSv1.3
#   ciphersuites; nginx: listen ... ssl, ssl_certificate, ssl_protocols
#   TLSv1.3, ssl_conf_command Ciphersuites), session tickets on (the
#   defaults of each).
#
# Uses from bench.sh: T (the bench directory), P_BACKEND, C_TLS (set by
# case_setup: 1 when the case is over TLS).

# The TLS cases' certificate: one file (chain then key) for all three.
TLS_CERT=$T/tls.pem
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -sha256 -days 7 \
    -subj /CN=localhost -addext subjectAltName=DNS:localhost,IP:127.0.0.1 \
    -keyout "$T/tls.key" -out "$T/tls.crt" >/dev/null 2>&1 && cat "$T/tls.crt" "$T/tls.key" >"$TLS_CERT" || {
    echo "bench: openssl could not make the TLS certificate" >&2
    exit 1
}
TLS_SUITE=TLS_AES_128_GCM_SHA256
C_TLS=0

# scheme PORT: https for a proxy's port in a TLS case, http otherwise (the
# backend is always plain)
scheme() {
    if [ "$C_TLS" = 1 ] && [ "$1" != "$P_BACKEND" ]; then echo https; else echo http; fi
}

# The TLS parts of each configuration, empty outside the TLS cases.
tls_ours_globals() {  # lines before ours' listen line
    [ "$C_TLS" = 1 ] && printf 'tls protocols 1.3 1.3\ntls ciphersuites "%s"\n' "$TLS_SUITE"
}
tls_ours_listen() {  # after ours' listen address
    [ "$C_TLS" = 1 ] && printf ' tls %s' "$TLS_CERT"
}
tls_haproxy_bind() {  # after HAProxy's bind address
    [ "$C_TLS" = 1 ] && printf ' ssl crt %s ssl-min-ver TLSv1.3 ciphersuites %s' "$TLS_CERT" "$TLS_SUITE"
}
tls_nginx_listen() {  # after nginx's listen address
    [ "$C_TLS" = 1 ] && echo ' ssl'
}
tls_nginx_server() {  # lines in nginx's server block
    [ "$C_TLS" = 1 ] && printf '        ssl_certificate %s;\n        ssl_certificate_key %s;\n        ssl_protocols TLSv1.3;\n        ssl_conf_command Ciphersuites %s;\n' "$TLS_CERT" "$TLS_CERT" "$TLS_SUITE"
}

# tls_case_setup CASE: the C_* variables of a TLS case (case_setup set the
# defaults); 1 when CASE is not one of them
tls_case_setup() {
    case $1 in
        tls) C_TLS=1; C_LABEL="tls: wrk -t1 -c50, TLS 1.3 keep-alive" ;;
        tlsfull) C_TLS=1; C_HDR="Connection: close"; C_LABEL="tlsfull: wrk -t1 -c50, TLS 1.3, Connection: close" ;;
        tlsidle) C_TLS=1; C_KIND=idle; C_PROXIES=(ours haproxy nginx); C_MEMTARGET=""
            C_LABEL="tlsidle: $IDLE_N TLS 1.3 clients one by one" ;;
        *) return 1 ;;
    esac
    return 0
}

# tls_method: the TLS cases in results.md's "How it is measured"
tls_method() {
    cat <<EOT
  tls, tlsfull and tlsidle are keepalive, churn and idle over TLS 1.3
  (https:// for wrk, \`idleconns -s\`): one self-signed ECDSA P-256 certificate for all three,
  TLS 1.3 only, the suite $TLS_SUITE (ours \`tls protocols 1.3 1.3\` and
  \`tls ciphersuites\`; HAProxy \`bind ... ssl crt FILE ssl-min-ver TLSv1.3
  ciphersuites\`; nginx \`listen ... ssl\`, \`ssl_certificate\`,
  \`ssl_protocols TLSv1.3\`, \`ssl_conf_command Ciphersuites\`), tickets on.
  tlsfull makes a TCP connection and a TLS handshake per request; wrk keeps
  the last session on its reused SSL object, so about half of those
  handshakes are resumptions, alike for all three.
EOT
}
