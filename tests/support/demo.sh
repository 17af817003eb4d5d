#!/usr/bin/env bash
# demo.sh: what `make demo` runs.  Starts four demo backends (app1-app3 on
# 127.0.0.1:9001-9003, standby spare1 on 9004) and the proxy with
# conf/demo.conf (clients on 8080, dashboard on 8404), says what to try, and
# stops everything it started on Ctrl-C.  kill -USR1 of this script restarts
# any demo backend that was stopped, so failover can be shown both ways.
#
# Environment: PROXY (default ./proxy), DEMO_CONF (default conf/demo.conf);
# for another config: DEMO_LISTEN, DEMO_STATS, DEMO_PORT_BASE (app1's port).
set -u
cd "$(dirname "$0")/../.." || exit 1
. tests/support/lib.sh      # port_open, wait_port, stop_pid
trap - EXIT                 # this script does its own stopping

CONF=${DEMO_CONF:-conf/demo.conf}
NAMES=(app1 app2 app3 spare1)
base=${DEMO_PORT_BASE:-9001}
PORTS=("$base" $((base + 1)) $((base + 2)) $((base + 3)))
LISTEN=${DEMO_LISTEN:-8080}
STATS=${DEMO_STATS:-8404}
declare -A PID_OF
PROXY_PID=

for f in "$PROXY" "$BACKEND"; do
    [ -x "$f" ] || { echo "demo: $f is missing; run make demo (it builds it)" >&2; exit 1; }
done
[ -r "$CONF" ] || { echo "demo: cannot read $CONF" >&2; exit 1; }
for p in "${PORTS[@]}" $LISTEN $STATS; do
    if port_open "$p"; then
        echo "demo: port $p on 127.0.0.1 is already in use (see: ss -ltnp 'sport = :$p');" \
            "stop what holds it and try again" >&2
        exit 1
    fi
done
DEMO_DIR=$(mktemp -d "${TMPDIR:-/tmp}/proxy-demo.XXXXXX")

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
if ! wait_port "$LISTEN" 5 "$PROXY_PID" || ! wait_port "$STATS" 5 "$PROXY_PID"; then
    echo "demo: the proxy did not start (see its messages above)" >&2
    stop_all 1
fi

cat <<EOF

=== proxy demo running (proxy pid $PROXY_PID, config $CONF) ===
servers: app1 :${PORTS[0]} (pid ${PID_OF[app1]})  app2 :${PORTS[1]} (pid ${PID_OF[app2]})
         app3 :${PORTS[2]} (pid ${PID_OF[app3]})  spare1 :${PORTS[3]} standby (pid ${PID_OF[spare1]})

Try, from another terminal:
  curl http://127.0.0.1:$LISTEN/              # answered by app1, app2 or app3 (the body says which)
  open http://127.0.0.1:$STATS/ in a browser   # the live dashboard
  curl http://127.0.0.1:$STATS/api/stats       # the same as JSON (also /metrics)
  wrk -c 20 -d 60s http://127.0.0.1:$LISTEN/  # some load to watch on the dashboard

Failover:
  kill ${PID_OF[app1]}                          # stop app1: it goes down, the others take its share
  kill ${PID_OF[app1]} ${PID_OF[app2]} ${PID_OF[app3]}            # no primary left: standby spare1 answers
  kill -USR1 $$                       # bring every stopped server back
  touch $DEMO_DIR/app2.down   # app2 fails its health check (rm the file to recover)

Admin (token demo-token):
  curl -X POST -H 'Authorization: Bearer demo-token' http://127.0.0.1:$STATS/api/pools/web/servers/app3/drain
  curl -X POST -H 'Authorization: Bearer demo-token' http://127.0.0.1:$STATS/api/pools/web/servers/app3/enable

Ctrl-C stops the demo.

EOF

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
