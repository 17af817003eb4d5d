# shellcheck shell=bash
# Sourced by tests/bench/bench.sh: the cases over TLS, their certificate and
# the TLS parts of the three proxies' configurations.
#
#   tls        as keepalive over TLS 1.3 (wrk -t1 -c50 https://, one handshake
#              per connection)
#   tlsfull    as churn over TLS 1.3: a new connection, so a new handshake,
#              per request (wrk resumes each new connection's TLS 1.3
#              session with the ticket the one before got)
#   tlsidle    as idle over TLS 1.3 (idleconns -s: full handshakes, then idle)
#   h2         HTTP/2 over TLS 1.3 (ALPN h2): h2load -t1 -c10 -m10 on /, ten
#              connections with ten streams in flight on each, for SECS
#              seconds; the proxies speak HTTP/1.1 to the backend as in
#              every case (ours: listen ... tls FILE alpn h2,http/1.1;
#              HAProxy: bind ... alpn h2,http/1.1; nginx: listen ... ssl
#              http2).  p99 is of h2load's per-request times (request sent
#              to response complete, from its --log-file); failures are its
#              "failed" requests (which include its "errored" ones).
#   The TLS cases: the same self-signed ECDSA P-256 certificate for all
#   three (made with openssl in the bench directory), TLS 1.3 only, the
#   suite TLS_AES_128_GCM_SHA256 (ours: tls protocols 1.3 1.3, tls
#   ciphersuites, and the alpn list on the listen line, whatever the
#   default list; HAProxy: bind ... ssl crt FILE ssl-min-ver TLSv1.3
#   ciphersuites; nginx: listen ... ssl, ssl_certificate, ssl_protocols
#   TLSv1.3, ssl_conf_command Ciphersuites), session tickets on (the
#   defaults of each).
#
# Uses from bench.sh: T (the bench directory), P_BACKEND, C_TLS and C_H2
# (set by case_setup: 1 when the case is over TLS, over HTTP/2), and for
# run_h2load the measurement helpers (alive, server_pids, cpu_ticks, R,
# FAIL, LABEL, PID, PORT, DURATION, TICKS, WRK_CPUS).

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
C_H2=0
H2_STREAMS=10   # h2load -m: streams in flight per connection

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
    # The ALPN list always set, whatever the default list is.
    if [ "$C_H2" = 1 ]; then printf ' alpn h2,http/1.1'; elif [ "$C_TLS" = 1 ]; then printf ' alpn http/1.1'; fi
}
tls_haproxy_bind() {  # after HAProxy's bind address
    [ "$C_TLS" = 1 ] && printf ' ssl crt %s ssl-min-ver TLSv1.3 ciphersuites %s' "$TLS_CERT" "$TLS_SUITE"
    [ "$C_H2" = 1 ] && printf ' alpn h2,http/1.1'
}
tls_nginx_listen() {  # after nginx's listen address
    [ "$C_TLS" = 1 ] && printf ' ssl'
    [ "$C_H2" = 1 ] && printf ' http2'
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
        h2) C_TLS=1; C_H2=1; C_CONNS=10; C_RUNNER=run_h2load
            C_LABEL="h2: h2load -t1 -c10 -m$H2_STREAMS, HTTP/2 over TLS 1.3" ;;
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
  h2 is HTTP/2 over that TLS (ALPN h2; ours \`listen ... tls FILE alpn
  h2,http/1.1\`, HAProxy \`bind ... alpn h2,http/1.1\`, nginx \`listen ...
  ssl http2\`), \`h2load -t1 -c$C_CONNS -m$H2_STREAMS -D SECS\` on \`/\`, HTTP/1.1
  with keep-alive to the backend as in every case; its p99 is of h2load's
  per-request times (request sent to response complete, its \`--log-file\`)
  and its failures are h2load's "failed" requests (errored ones included).
EOT
}

# run_h2load CASE PROXY [record]: the h2 case's runner (throughput calls it
# as it calls run_wrk for the others); the same figures into R and FAIL
run_h2load() {
    local case=$1 p=$2 record=${3:-1} dur=$DURATION pids t0 t1 out line reqs failed secs
    alive "$p" || return
    [ "$record" = 1 ] || dur=1
    pids=$(server_pids "${PID[$p]}")
    rm -f "$T/h2load-req.log"
    # shellcheck disable=SC2086
    t0=$(cpu_ticks $pids)
    out=$(${WRK_CPUS:+taskset -c "$WRK_CPUS"} timeout $(( dur + 30 )) \
        h2load -t1 -c"$C_CONNS" -m"$H2_STREAMS" -D "$dur" --log-file="$T/h2load-req.log" \
        "https://127.0.0.1:${PORT[$p]}$C_PATH" 2>&1)
    # shellcheck disable=SC2086
    t1=$(cpu_ticks $pids)
    printf '%s\n' "=== $case $p record=$record" "$out" >> "$T/wrk.log"
    alive "$p" || return
    [ "$record" = 1 ] || return
    # "finished in 3.00s, ..." then "requests: N total, N started, N done,
    # N succeeded, N failed, N errored, N timeout"
    secs=$(printf '%s\n' "$out" | awk '/^finished in / { sub(/s,$/, "", $3); print $3 }')
    line=$(printf '%s\n' "$out" | grep '^requests: ' | tail -n 1)
    if [ -z "$line" ] || [ -z "$secs" ] || ! printf '%s\n' "$out" | grep -q '^Application protocol: h2'; then
        log "bench: h2load gave no HTTP/2 result for ${LABEL[$p]} ($case): $(printf '%s' "$out" | tail -n 2 | tr '\n' ' ')"
        FAIL[$case:$p]=$(( ${FAIL[$case:$p]:-0} + 1 ))
        return
    fi
    reqs=$(printf '%s\n' "$line" | awk '{ print $6 }')
    failed=$(printf '%s\n' "$line" | awk '{ print $10 }')
    FAIL[$case:$p]=$(( ${FAIL[$case:$p]:-0} + failed ))
    [ "$reqs" -gt 0 ] || return
    R[$case:$p:rps]+="$(awk -v r="$reqs" -v d="$secs" 'BEGIN { printf "%.1f", r / d }') "
    R[$case:$p:p99]+="$(awk -F'\t' '{ print $3 }' "$T/h2load-req.log" | sort -n |
        awk '{ v[NR] = $1 } END { i = int(NR * 0.99); if (i < 1) i = 1; print v[i] + 0 }') "
    R[$case:$p:cpu]+="$(awk -v c=$(( t1 - t0 )) -v r="$reqs" -v hz="$TICKS" 'BEGIN { printf "%.3f", c / hz / r * 1e6 }') "
}
