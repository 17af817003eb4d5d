# shellcheck shell=bash
# lib.sh: shared bash helpers for tests/scenario/*.sh (and the demo).
#
# A scenario script sources it:
#     . "$TOPSRC/tests/support/lib.sh"
# and gets PROXY, BACKEND, TOPSRC (from the environment set by
# run-scenarios.sh, with defaults for running a script by hand), a cleanup
# trap that stops every process started through these helpers, and:
#
#   free_port                    print a free loopback TCP port
#   wait_port PORT [SECS] [PID]  wait until 127.0.0.1:PORT accepts (default 5s);
#                                fails early if PID dies meanwhile
#   start_backend PORT NAME [backend args...]
#                                start tests/support/backend -q, wait for it;
#                                sets BACKEND_PID; log in $TMPDIR/backend-NAME.log
#   start_proxy CONF PORT        start $PROXY -c CONF, wait for PORT;
#                                sets PROXY_PID; log in $TMPDIR/proxy.log
#   track PID                    have cleanup stop PID too
#   stop_pid PID                 TERM, then KILL after 2s, and reap it
#   wait_for SECS CMD [ARGS...]  retry CMD every 0.1s until it succeeds
#   nofile_exec SOFT HARD CMD [ARGS...]
#                                exec CMD with RLIMIT_NOFILE SOFT/HARD that it
#                                cannot raise past HARD (run it with `&`)
#   fail MSG                     print FAIL: MSG (and the proxy log tail), exit 1
#   field KEY FILE               the value of the first KEY=VALUE word in FILE
#
# Run as a command, it calls one helper:  bash lib.sh wait_port 8080
# (used by .vtc files, whose `shell` is /bin/sh without /dev/tcp).

TOPSRC=${TOPSRC:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}
PROXY=${PROXY:-$TOPSRC/proxy}
BACKEND=${BACKEND:-$TOPSRC/tests/support/backend}
TMPDIR=${TMPDIR:-/tmp}
export TOPSRC PROXY BACKEND TMPDIR

LIB_PIDS=()

fail() {
    echo "FAIL: $*" >&2
    if [ -s "$TMPDIR/proxy.log" ]; then
        echo "--- last lines of $TMPDIR/proxy.log:" >&2
        tail -n 20 "$TMPDIR/proxy.log" >&2
    fi
    exit 1
}

track() {
    LIB_PIDS+=("$1")
}

# Stop one process we started: politely, then firmly.
stop_pid() {
    local pid=$1 _
    kill -TERM "$pid" 2>/dev/null || { wait "$pid" 2>/dev/null; return 0; }
    for _ in $(seq 20); do
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.1
    done
    kill -KILL "$pid" 2>/dev/null
    wait "$pid" 2>/dev/null
    return 0
}

cleanup() {
    local pid
    for pid in "${LIB_PIDS[@]}"; do
        kill -TERM "$pid" 2>/dev/null
    done
    for pid in "${LIB_PIDS[@]}"; do
        stop_pid "$pid"
    done
    LIB_PIDS=()
}

# True when something accepts connections on 127.0.0.1:PORT.
port_open() {
    (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

wait_port() {
    local port=$1 secs=${2:-5} pid=${3:-} _
    for _ in $(seq $((secs * 20))); do
        port_open "$port" && return 0
        if [ -n "$pid" ] && ! kill -0 "$pid" 2>/dev/null; then
            echo "process $pid exited before port $port opened" >&2
            return 1
        fi
        sleep 0.05
    done
    echo "port $port did not open within ${secs}s" >&2
    return 1
}

# The kernel picks a free port for us; fall back to probing when python3 is
# missing.
free_port() {
    if command -v python3 >/dev/null 2>&1; then
        # Below the kernel's ephemeral range (32768-60999 here): a port the
        # kernel hands out could be taken by an outgoing connection before
        # the test binds it.
        python3 -c '
import random, socket
for _ in range(200):
    p = random.randrange(20000, 32000)
    s = socket.socket()
    try:
        s.bind(("127.0.0.1", p))
    except OSError:
        continue
    finally:
        s.close()
    print(p)
    break
'
        return
    fi
    local port
    while :; do
        port=$((20000 + RANDOM % 10000))
        port_open "$port" || { echo "$port"; return; }
    done
}

start_backend() {
    local port=$1 name=$2
    shift 2
    "$BACKEND" -q -p "$port" -n "$name" "$@" >"$TMPDIR/backend-$name.log" 2>&1 &
    BACKEND_PID=$!
    track "$BACKEND_PID"
    wait_port "$port" 5 "$BACKEND_PID" || fail "backend $name did not start on port $port"
}

start_proxy() {
    local conf=$1 port=$2
    "$PROXY" -c "$conf" >>"$TMPDIR/proxy.log" 2>&1 &
    PROXY_PID=$!
    track "$PROXY_PID"
    wait_port "$port" 5 "$PROXY_PID" || fail "proxy did not start on port $port"
}

# field KEY FILE: the value of the first KEY=VALUE word in FILE (the
# summary lines load generators and helper scripts print).
field() { grep -o "\b$1=[^ ]*" "$2" | head -n1 | cut -d= -f2; }

wait_for() {
    local secs=$1 _
    shift
    for _ in $(seq $((secs * 10))); do
        "$@" && return 0
        sleep 0.1
    done
    return 1
}

# The proxy raises its hard fd limit when it may (root): a test of a low
# limit drops CAP_SYS_RESOURCE so that `ulimit -Hn` holds.  exec, so that $!
# of `nofile_exec ... &` is the pid of CMD itself.
nofile_exec() {
    local soft=$1 hard=$2
    shift 2
    # Two calls: `ulimit -Hn H -Sn S` sets both limits to each value in turn.
    ulimit -Sn "$soft" && ulimit -Hn "$hard" || exit 1
    if [ "$(id -u)" = 0 ]; then
        exec setpriv --inh-caps=-sys_resource --bounding-set=-sys_resource -- "$@"
    fi
    exec "$@"
}

trap cleanup EXIT

# Executed rather than sourced: run the helper named by the first argument.
if [ "${BASH_SOURCE[0]}" = "$0" ] && [ $# -gt 0 ]; then
    "$@"
    exit $?
fi
