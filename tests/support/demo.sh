#!/usr/bin/env bash
# demo.sh: what `make demo` runs.  Starts four demo backends (app1-app3 on
# 127.0.0.1:9001-9003, standby spare1 on 9004) and the proxy with
# conf/demo.conf (clients on 8080, HTTPS on 8443, dashboard on 8404), says
# what to try, and
# stops everything it started on Ctrl-C or SIGTERM.  kill -USR1 of this
# script restarts any demo backend that was stopped, so failover can be
# shown both ways.
#
# Everything it writes is in a demo directory (mktemp, removed when it
# stops): the configuration it runs (conf/demo.conf on the chosen ports),
# the access log (access.log: kept off the terminal, where the instructions
# are), the files that fail a backend's health check, and the certificate
# of the HTTPS listener, made at start with openssl (demo-cert.pem: a
# self-signed ECDSA P-256 certificate for localhost and 127.0.0.1, its key
# after it; demo-cert.crt: the certificate alone, for curl --cacert).  The proxy's own
# messages (start-up, servers going down and up) stay on the terminal.
#
# Environment: PROXY (default ./proxy), DEMO_LISTEN (clients' port, 8080),
# DEMO_TLS (clients' HTTPS port, 8443), DEMO_STATS (the stats port, 8404),
# DEMO_PORT_BASE (app1's port, 9001; the others follow); `make demo
# DEMO_PORT=.. DEMO_TLS_PORT=.. DEMO_STATS_PORT=.. DEMO_BACKEND_PORT=..` sets
# them.  Without the openssl command the demo runs without HTTPS.  DEMO_CONF=FILE runs FILE as it is instead (the ports above
# must then be the ones it names; its access log goes where it says).
set -u
cd "$(dirname "$0")/../.." || exit 1
. tests/support/lib.sh      # port_open, wait_port, stop_pid
trap - EXIT                 # this script does its own stopping

NAMES=(app1 app2 app3 spare1)
base=${DEMO_PORT_BASE:-9001}
LISTEN=${DEMO_LISTEN:-8080}
TLS=${DEMO_TLS:-8443}
STATS=${DEMO_STATS:-8404}
for v in "$base" "$LISTEN" "$TLS" "$STATS"; do
    case $v in
    '' | *[!0-9]*) echo "demo: port '$v' is not a number" >&2; exit 1 ;;
    esac
    if [ "$v" -lt 1 ] || [ "$v" -gt 65532 ]; then
        echo "demo: port $v is out of range" >&2
        exit 1
    fi
done
PORTS=("$base" $((base + 1)) $((base + 2)) $((base + 3)))
declare -A PID_OF
PROXY_PID=

if [ "$(printf '%s\n' "${PORTS[@]}" "$LISTEN" "$TLS" "$STATS" | sort -u | wc -l)" -ne 7 ]; then
    echo "demo: the client ports ($LISTEN, HTTPS $TLS), the stats port ($STATS) and the four" \
        "backend ports (${PORTS[*]}) must all differ" >&2
    exit 1
fi

for f in "$PROXY" "$BACKEND"; do
    [ -x "$f" ] || { echo "demo: $f is missing; run make demo (it builds it)" >&2; exit 1; }
done
SRC_CONF=${DEMO_CONF:-conf/demo.conf}
[ -r "$SRC_CONF" ] || { echo "demo: cannot read $SRC_CONF" >&2; exit 1; }
for p in "${PORTS[@]}" "$LISTEN" "$TLS" "$STATS"; do
    if port_open "$p"; then
        echo "demo: port $p on 127.0.0.1 is already in use (see: ss -ltnp 'sport = :$p');" \
            "stop what holds it and try again, or pick other ports:" \
            "make demo DEMO_PORT=18080 DEMO_TLS_PORT=18443 DEMO_STATS_PORT=18404 DEMO_BACKEND_PORT=19001" >&2
        exit 1
    fi
done
DEMO_DIR=$(mktemp -d "${TMPDIR:-/tmp}/proxy-demo.XXXXXX") || exit 1
ACCESS_LOG=$DEMO_DIR/access.log

# The HTTPS listener's certificate, made for this demo (nothing to commit,
# nothing to trust beyond it): self-signed, ECDSA P-256, 30 days.
HTTPS=
if command -v openssl >/dev/null 2>&1 &&
    openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -sha256 -days 30 \
        -subj /CN=localhost -addext subjectAltName=DNS:localhost,IP:127.0.0.1 \
        -keyout "$DEMO_DIR/demo-cert.pem" -out "$DEMO_DIR/demo-cert.crt" >/dev/null 2>&1 &&
    cat "$DEMO_DIR/demo-cert.crt" >>"$DEMO_DIR/demo-cert.pem"; then
    HTTPS=1
else
    echo "demo: openssl could not make a certificate: going on without HTTPS" >&2
fi

# conf/demo.conf on the chosen ports, with the access log in DEMO_DIR.  Each
# line it rewrites must be there: a conf/demo.conf that lost one would run a
# demo on other ports than the ones printed.
if [ -n "${DEMO_CONF:-}" ]; then
    CONF=$DEMO_CONF
    ACCESS_LOG=
else
    CONF=$DEMO_DIR/demo.conf
    if ! awk -v listen="$LISTEN" -v tls="$TLS" -v https="$HTTPS" -v stats="$STATS" -v alog="$ACCESS_LOG" \
        -v ports="app1=${PORTS[0]} app2=${PORTS[1]} app3=${PORTS[2]} spare1=${PORTS[3]}" '
        BEGIN { n = split(ports, kv, " ")
                for (i = 1; i <= n; i++) { split(kv[i], a, "="); port[a[1]] = a[2] } }
        $1 == "listen" && $3 == "tls" { if (https == "") next
                             sub(/:[0-9]+/, ":" tls); seen["listen tls"] = 1; print; next }
        $1 == "listen"     { sub(/:[0-9]+/, ":" listen); seen["listen"] = 1 }
        $1 == "stats"      { sub(/:[0-9]+/, ":" stats); seen["stats"] = 1 }
        $1 == "access-log" { $0 = "access-log \"" alog "\""; seen["access-log"] = 1 }
        ($1 == "server" || $1 == "standby") && ($2 in port) { sub(/:[0-9]+/, ":" port[$2]); seen[$2] = 1 }
        { print }
        END { for (k in port) if (!(k in seen)) missing = missing " " k
              split("listen stats access-log", d, " ")
              if (https != "" && !("listen tls" in seen)) missing = missing " listen-tls"
              for (i in d) if (!(d[i] in seen)) missing = missing " " d[i]
              if (missing != "") { print "demo: conf/demo.conf has no line for:" missing > "/dev/stderr"; exit 1 } }
        ' "$SRC_CONF" >"$CONF"; then
        rm -rf "$DEMO_DIR"
        exit 1
    fi
fi

stop_all() {
    trap - INT TERM USR1
    echo
    echo "demo: stopping"
    # The proxy first, so it does not report every backend going down.
    [ -n "$PROXY_PID" ] && stop_pid "$PROXY_PID"
    local name
    for name in "${!PID_OF[@]}"; do
        kill -TERM "${PID_OF[$name]}" 2>/dev/null
    done
    for name in "${!PID_OF[@]}"; do
        stop_pid "${PID_OF[$name]}"
    done
    rm -rf "$DEMO_DIR"
    exit "${1:-0}"
}

# Start backend number I; a FILE named NAME.down makes its /healthz fail.
start_one() {
    local i=$1 name=${NAMES[$1]} port=${PORTS[$1]}
    "$BACKEND" -q -p "$port" -n "$name" -f "$DEMO_DIR/$name.down" &
    PID_OF[$name]=$!
    wait_port "$port" 5 "${PID_OF[$name]}" || { echo "demo: $name did not start" >&2; stop_all 1; }
}

# shellcheck disable=SC2317  # called from the USR1 trap
restart_dead() {
    local i name
    for i in "${!NAMES[@]}"; do
        name=${NAMES[$i]}
        if ! kill -0 "${PID_OF[$name]}" 2>/dev/null; then
            wait "${PID_OF[$name]}" 2>/dev/null
            start_one "$i"
            echo "demo: restarted $name (pid ${PID_OF[$name]})"
        fi
    done
}

trap 'stop_all 0' INT TERM
for i in "${!NAMES[@]}"; do
    start_one "$i"
done

"$PROXY" -c "$CONF" &
PROXY_PID=$!
if ! wait_port "$LISTEN" 5 "$PROXY_PID" || ! wait_port "$STATS" 5 "$PROXY_PID" ||
    { [ -n "$HTTPS" ] && ! wait_port "$TLS" 5 "$PROXY_PID"; }; then
    echo "demo: the proxy did not start (see its messages above)" >&2
    stop_all 1
fi

# One suggested command and what it shows, the comments in one column.
say() {
    printf '  %-46s # %s\n' "$1" "$2"
}

# A load generator only when one is installed (make demo installs wrk).
if command -v wrk >/dev/null 2>&1; then
    LOAD="wrk -c 20 -d 60s http://127.0.0.1:$LISTEN/"
elif command -v ab >/dev/null 2>&1; then
    LOAD="ab -q -c 20 -t 60 http://127.0.0.1:$LISTEN/"
elif command -v curl >/dev/null 2>&1; then
    LOAD="while curl -so /dev/null http://127.0.0.1:$LISTEN/; do :; done"
else
    LOAD=
fi

echo
echo "=== proxy demo running (proxy pid $PROXY_PID, config $CONF) ==="
echo "servers: app1 :${PORTS[0]} (pid ${PID_OF[app1]})  app2 :${PORTS[1]} (pid ${PID_OF[app2]})"
echo "         app3 :${PORTS[2]} (pid ${PID_OF[app3]})  spare1 :${PORTS[3]} standby (pid ${PID_OF[spare1]})"
echo "demo directory: $DEMO_DIR (removed when the demo stops)"
if [ -n "$ACCESS_LOG" ]; then
    echo "access log: $ACCESS_LOG"
else
    echo "access log: where $CONF says"
fi
echo
echo "Try, from another terminal:"
say "curl http://127.0.0.1:$LISTEN/" "answered by app1, app2 or app3 (the body says which)"
if [ -n "$HTTPS" ]; then
    say "curl --cacert $DEMO_DIR/demo-cert.crt https://localhost:$TLS/" "the same over TLS (a certificate made for this demo)"
fi
say "open http://127.0.0.1:$STATS/ in a browser" "the live dashboard"
say "curl http://127.0.0.1:$STATS/api/stats" "the same as JSON (also /metrics)"
[ -n "$ACCESS_LOG" ] && say "tail -f $ACCESS_LOG" "one line per request"
[ -n "$LOAD" ] && say "$LOAD" "some load to watch on the dashboard"
echo
echo "Failover, one step after the other:"
say "kill ${PID_OF[app1]}" "stop app1: it goes down, app2 and app3 take its share"
say "kill ${PID_OF[app2]} ${PID_OF[app3]}" "stop app2 and app3: no primary left, standby spare1 answers"
say "kill -USR1 $$" "bring every stopped server back (their new pids are printed)"
say "touch $DEMO_DIR/app2.down" "app2 fails its health check (rm the file to recover)"
echo
echo "Admin (token demo-token):"
echo "  curl -X POST -H 'Authorization: Bearer demo-token' http://127.0.0.1:$STATS/api/pools/web/servers/app3/drain"
echo "  curl -X POST -H 'Authorization: Bearer demo-token' http://127.0.0.1:$STATS/api/pools/web/servers/app3/enable"
echo
echo "Ctrl-C stops the demo."
echo

trap restart_dead USR1
# wait returns early whenever a trapped signal arrives: wait again until the
# proxy itself is gone.
while kill -0 "$PROXY_PID" 2>/dev/null; do
    wait "$PROXY_PID"
done
wait "$PROXY_PID"
echo "demo: the proxy exited (status $?)" >&2
PROXY_PID=
stop_all 1
