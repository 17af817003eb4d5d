# shellcheck shell=bash
# lib.sh: shared bash helpers for tests/scenario/*.sh (and the demo).
#
# A scenario script sources it:
#     . "$TOPSRC/tests/support/lib.sh"
# and gets PROXY, BACKEND, TOPSRC (from the environment set by
# run-scenarios.sh, with defaults for running a script by hand), a cleanup
# trap that stops every process started through these helpers, and:
#
#   free_port [LO HI]            print a free loopback TCP port (in [LO, HI))
#   wait_port PORT [SECS] [PID]  wait until 127.0.0.1:PORT accepts (default 5s);
#                                fails early if PID dies meanwhile
#   start_backend PORT NAME [backend args...]
#                                start tests/support/backend -q, wait for it;
#                                sets BACKEND_PID; log in $TMPDIR/backend-NAME.log
#   start_proxy CONF PORT [PORT...]
#                                start $PROXY -c CONF, wait for each PORT (the
#                                listener, then e.g. the stats port);
#                                sets PROXY_PID; log in $TMPDIR/proxy.log.
#                                PROXY_WRAP="CMD ARGS" start_proxy ...: run it
#                                under CMD (taskset -c 0, nofile_exec 64 64)
#   track PID                    have cleanup stop PID too
#   stop_pid PID                 TERM, then KILL after 2s, and reap it
#   wait_for SECS CMD [ARGS...]  retry CMD every 0.1s until it succeeds
#   nofile_exec SOFT HARD CMD [ARGS...]
#                                exec CMD with RLIMIT_NOFILE SOFT/HARD that it
#                                cannot raise past HARD (run it with `&`)
#   fail MSG                     print FAIL: MSG (and the proxy log tail), exit 1
#   proxy_rss                    the VmRSS of PROXY_PID, in KiB
#   peak_rss_while PID           track PID (started with &) and wait for it,
#                                sampling proxy_rss every 0.1 s: sets
#                                RSS_START, PEAK_RSS (KiB) and PID_RC
#   proxy_has_asan               true when $PROXY is built with
#                                AddressSanitizer (whose quarantine keeps
#                                freed memory: RSS bounds do not hold)
#   proxy_conf_basic FILE PORT SERVER [DIRECTIVE...]
#                                write the simplest configuration: workers 2,
#                                access-log off, listen 127.0.0.1:PORT, the
#                                DIRECTIVEs (each one argument; a `workers` or
#                                `access-log` one replaces the default), and
#                                pool web { check off; server SERVER }
#                                (SERVER: "NAME ADDR:PORT")
#   start_misbehave PORT MODE [misbehave.py args...]
#                                start tests/scenario/misbehave.py --mode MODE,
#                                wait for it; sets MISBEHAVE_PID
#   field NAME TEXT              the value of the first NAME=VALUE word in TEXT
#                                (the summary lines of failover_load.py and
#                                reload_util.py hits); "$(<FILE)" for a file
#   stats_dump PORT              GET /api/stats of a proxy's stats port
#   stats_get PORT EXPR [ARGS...]
#                                print the python expression EXPR over the
#                                /api/stats JSON (PORT "-": the JSON on stdin)
#   stats_is PORT EXPR WANT      true when stats_get PORT EXPR prints WANT
#                                (for wait_for)
#   tls_ca DIR [NAME]            make a test CA with the openssl CLI:
#                                DIR/NAME.pem and DIR/NAME.key (NAME: ca)
#   tls_cert OUT.pem SANS [ec|rsa] [DAYS] [CA]
#                                a leaf certificate signed by CA (DIR/ca of
#                                OUT's directory unless given as DIR/NAME),
#                                for the DNS names SANS ("a.test,*.b.test";
#                                the first is also the CN; an IPv4 address
#                                is an IP entry), ECDSA P-256 (ec,
#                                the default) or RSA 2048, valid DAYS (30;
#                                negative: expired that many days ago);
#                                OUT.pem holds the certificate then its key
#   tls_site DIR                 tls_ca DIR, then DIR/site.pem for localhost
#   tls_fingerprint PEM          the SHA-256 fingerprint of PEM's first
#                                certificate (to tell served certificates apart)
#
# stats_get: in EXPR, `j` is the parsed JSON, `sys.argv[1:]` are ARGS,
# `srv(NAME)` / `srv(POOL, NAME)` is the first server NAME (of pool POOL),
# and `dig(VALUE, KEY...)` walks nested objects, giving "-" for a key that
# is missing.  A tuple prints its items separated by spaces, like
# print(a, b).  Nothing is printed and the status is 1 when the port does
# not answer or EXPR fails (a missing server, a missing key).
# PORT may be a whole base URL too (http://127.0.0.1:PORT).
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

# need_python_h2: PY names a python3 that has the h2 module (Debian's
# python3-h2 is for /usr/bin/python3, which need not be first on PATH).
need_python_h2() {
    PY=python3
    "$PY" -c 'import h2' 2>/dev/null || PY=/usr/bin/python3
    "$PY" -c 'import h2' 2>/dev/null || fail "python3-h2 is not installed"
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
    [ -n "${PORTS_GIVEN:-}" ] || rm -f "${TMPDIR:-/tmp}/ports-given.$$"
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

# A port that is free now and not handed out before in this scenario (the
# list in $TMPDIR/ports-given): a test asks for all its ports before it
# binds any, and two of them had once come out the same.  The runner sets
# PORTS_GIVEN, one list for the scenarios it runs side by side.  Falls back
# to probing when python3 is missing.
free_port() {   # [LO HI]: a port in [LO, HI) (e.g. under 1024 for a root test)
    local given=${PORTS_GIVEN:-${TMPDIR:-/tmp}/ports-given.$$}
    if command -v python3 >/dev/null 2>&1; then
        # Below the kernel's ephemeral range (32768-60999 here): a port the
        # kernel hands out could be taken by an outgoing connection before
        # the test binds it.
        python3 - "${1:-20000}" "${2:-32000}" "$given" <<'PY'
import random, socket, sys
lo, hi, given = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
try:
    taken = set(int(x) for x in open(given).read().split())
except OSError:
    taken = set()
for _ in range(200):
    p = random.randrange(lo, hi)
    # 25100-25199: the fixed ports of the reload_* scenarios, which check
    # them free before they start (another test running beside them had
    # been handed one).
    if p in taken or 25100 <= p < 25200:
        continue
    s = socket.socket()
    try:
        s.bind(("127.0.0.1", p))
    except OSError:
        continue
    finally:
        s.close()
    with open(given, "a") as f:
        f.write("%d\n" % p)
    print(p)
    break
PY
        return
    fi
    local port
    while :; do
        port=$((20000 + RANDOM % 10000))
        [ "$port" -ge 25100 ] && [ "$port" -lt 25200 ] && continue
        grep -qx "$port" "$given" 2>/dev/null && continue
        port_open "$port" || { echo "$port" >>"$given"; echo "$port"; return; }
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
    shift 2
    local under=${PROXY_WRAP:+ (under $PROXY_WRAP)}
    # shellcheck disable=SC2086 # PROXY_WRAP is a command and its words
    ${PROXY_WRAP:-} "$PROXY" -c "$conf" >>"$TMPDIR/proxy.log" 2>&1 &
    PROXY_PID=$!
    track "$PROXY_PID"
    wait_port "$port" 5 "$PROXY_PID" || fail "proxy did not start on port $port$under"
    for port in "$@"; do
        wait_port "$port" 5 "$PROXY_PID" || fail "proxy did not open port $port$under"
    done
}

proxy_conf_basic() {
    local file=$1 port=$2 server=$3 d workers="workers 2" alog="access-log off"
    local extra=()
    shift 3
    for d in "$@"; do
        case $d in
        "workers "*) workers=$d ;;
        "access-log "*) alog=$d ;;
        *) extra+=("$d") ;;
        esac
    done
    {
        echo "$workers"
        echo "$alog"
        echo "listen 127.0.0.1:$port"
        for d in "${extra[@]}"; do echo "$d"; done
        echo "pool web {"
        echo "    check off"
        echo "    server $server"
        echo "}"
    } >"$file"
}

proxy_rss() {
    awk '/^VmRSS:/ { print $2 }' "/proc/$PROXY_PID/status"
}

peak_rss_while() {
    local pid=$1 r
    track "$pid"
    RSS_START=$(proxy_rss)
    PEAK_RSS=$RSS_START
    while kill -0 "$pid" 2>/dev/null; do
        r=$(proxy_rss)
        [ "${r:-0}" -gt "$PEAK_RSS" ] && PEAK_RSS=$r
        sleep 0.1
    done
    wait "$pid"
    PID_RC=$?
}

proxy_has_asan() {
    ldd "$PROXY" 2>/dev/null | grep -q libasan
}

start_misbehave() {
    local port=$1 mode=$2
    shift 2
    python3 "$TOPSRC/tests/scenario/misbehave.py" --port "$port" --mode "$mode" "$@" &
    MISBEHAVE_PID=$!
    track "$MISBEHAVE_PID"
    wait_port "$port" 5 "$MISBEHAVE_PID" || fail "misbehave.py did not start"
}

field() {
    echo "$2" | grep -o "\b$1=[^ ]*" | head -n1 | cut -d= -f2
}

stats_url() {
    case $1 in
    *://*) echo "$1/api/stats" ;;
    *) echo "http://127.0.0.1:$1/api/stats" ;;
    esac
}

stats_dump() {
    curl -s --max-time "${STATS_TIMEOUT:-5}" "$(stats_url "$1")"
}

# The python side of stats_get: argv[1] is EXPR, the rest its ARGS.
LIB_STATS_PY='
import json, sys
expr = sys.argv.pop(1)
j = json.load(sys.stdin)
def srv(a, b=None):
    pool, name = (None, a) if b is None else (a, b)
    return [s for p in j["pools"] if pool is None or p["name"] == pool
            for s in p["servers"] if s["name"] == name][0]
def dig(v, *keys):
    for k in keys:
        v = v.get(k, "-") if isinstance(v, dict) else "-"
    return v
v = eval("(" + expr + "\n)")   # parenthesized: EXPR may span lines
if isinstance(v, tuple):
    print(*v)
else:
    print(v)
'

stats_get() {
    local port=$1 expr=$2
    shift 2
    if [ "$port" = - ]; then
        python3 -c "$LIB_STATS_PY" "$expr" "$@"
    else
        stats_dump "$port" | python3 -c "$LIB_STATS_PY" "$expr" "$@"
    fi
}

stats_is() {
    [ "$(stats_get "$1" "$2")" = "$3" ]
}

# Test certificates, made with the openssl CLI (quietly: its progress
# output would bury a scenario's own).  A CA of its own per scenario, so
# that curl --cacert and s_client -CAfile verify exactly what it made.
tls_ca() {
    local dir=$1 name=${2:-ca}
    command -v openssl >/dev/null || fail "openssl is not installed"
    mkdir -p "$dir"
    openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -sha256 -days 60 \
        -subj "/CN=proxy test CA $name" -addext basicConstraints=critical,CA:TRUE \
        -addext keyUsage=critical,keyCertSign,cRLSign \
        -keyout "$dir/$name.key" -out "$dir/$name.pem" >/dev/null 2>&1 ||
        fail "tls_ca: openssl could not make $dir/$name.pem"
}

tls_cert() {
    local out=$1 sans=$2 kind=${3:-ec} days=${4:-30} ca=${5:-} san="" n key csr
    [ -n "$ca" ] || ca=$(dirname "$out")/ca
    local IFS=,
    # A name is DNS:, an IPv4 address IP: (a server verified by address).
    for n in $sans; do
        case $n in *[!0-9.]*) san+="${san:+,}DNS:$n" ;; *) san+="${san:+,}IP:$n" ;; esac
    done
    unset IFS
    key=$out.key.tmp csr=$out.csr.tmp
    case $kind in
    ec) openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$key" >/dev/null 2>&1 ;;
    rsa) openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$key" >/dev/null 2>&1 ;;
    *) fail "tls_cert: key type $kind (expected ec or rsa)" ;;
    esac || fail "tls_cert: openssl could not make a $kind key"
    # -days -N: notAfter N days before now, an expired certificate.
    openssl req -new -key "$key" -subj "/CN=${sans%%,*}" -out "$csr" >/dev/null 2>&1 &&
        openssl x509 -req -in "$csr" -CA "$ca.pem" -CAkey "$ca.key" -CAcreateserial -sha256 \
            -days "$days" -out "$out" \
            -extfile <(printf 'subjectAltName=%s\nbasicConstraints=CA:FALSE\n' "$san") >/dev/null 2>&1 ||
        fail "tls_cert: openssl could not sign $out"
    cat "$key" >>"$out"
    rm -f "$key" "$csr"
}

# A CA of its own in DIR and a certificate for localhost signed by it, in
# DIR/site.pem (key appended): what most TLS scenarios serve.
tls_site() {
    tls_ca "$1"
    tls_cert "$1/site.pem" localhost
}

tls_fingerprint() {
    openssl x509 -in "$1" -noout -fingerprint -sha256 2>/dev/null | cut -d= -f2
}

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
