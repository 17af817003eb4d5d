#!/bin/bash
# `make bench`: our proxy side by side with HAProxy and nginx, on loopback.
#
# One nginx backend (one worker) answers `return 200` with a short body on /
# and a 1 MiB file on /big.  In front of it, each on its own port: ./proxy
# (cpu-yield auto, the default), ./proxy again with `cpu-yield off` (the A/B
# of that option, in every throughput case), HAProxy and nginx as a reverse
# proxy, all configured alike (least connections, keep-alive to the backend,
# no logging, X-Forwarded-For and X-Forwarded-Proto added, no health
# checks).  The proxies are started afresh for every case.  Cases (one worker
# / nbthread 1 / worker_processes 1 unless said otherwise):
#
#   keepalive  wrk -t1 -c50 keep-alive on /, nothing pinned
#   isolated   the same, the proxy alone on CPU 1, wrk and the backend on CPU 0
#   shared     the same, the proxy and the backend on CPU 1, wrk on CPU 0
#              (the placement every figure before issue 20 came from)
#   churn      wrk -t1 -c50 -H 'Connection: close': a new TCP connection per
#              request, nothing pinned
#   many       wrk -t1 -c5000 keep-alive (BENCH_MANY), nothing pinned
#   big        wrk -t1 -c10 on /big (1 MiB responses), placed as `shared`
#   workers2   workers 2 / nbthread 2 / worker_processes 2, wrk -t2 -c100,
#              nothing pinned (each proxy's default placement)
#   idle       RSS growth for 4000 idle keep-alive clients that arrived one
#              batch of 32 after another, one request each
#   burst      4000 clients connect, then all send a request at the same
#              moment, read the answer and sit idle: RSS growth per
#              connection, then RSS once they have closed, against RSS before
#              (what the burst left behind)
#   idle2, burst2  as idle and burst with the 2-worker servers (not default)
#   tls, tlsfull, tlsidle, h2  over TLS and HTTP/2: see tests/bench/bench_tls.sh
#
# Each throughput case runs ROUNDS rounds after a 1 s warm-up of each proxy;
# in each round the proxies take turns (the starting proxy rotates), wrk runs
# SECS seconds on each.  Reported: the median over rounds of requests/s (or
# bytes/s), wrk's p99 latency, and the proxy's CPU time per request
# (utime+stime from /proc/PID/stat over the run, all of its processes and
# threads, divided by the requests wrk completed).  Failures are wrk's socket
# errors plus non-2xx/3xx answers, summed over rounds.  RSS is VmRSS summed
# over the proxy's processes (nginx: master and workers).
#
# Environment: BENCH_ROUNDS (5), BENCH_SECS (3, seconds per proxy per round;
# BENCH_DURATION is the old name), BENCH_CASES (all default cases above, in
# that order), BENCH_IDLE (4000 connections for idle/burst), BENCH_MANY (5000),
# BENCH_PIN (1; 0: no case pins anything, isolated and shared become
# unpinned too), BENCH_RESULTS (tests/bench/results.md; empty: do not write),
# BENCH_AB (the directive of the A/B column, "cpu-yield off"; "surge off":
# the cost of surge detection, e.g. BENCH_AB="surge off" BENCH_CASES=keepalive).
# The default run takes about 8-9 minutes (498 s on a 2-core VM).
# Ports 22001 (backend) and 22080-22083 (proxy, HAProxy, nginx, proxy with
# cpu-yield off).
#
# If ./proxy does not start or does not answer through the backend, the
# report says so and still gives the peers' figures.

set -u
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
cd "$ROOT" || exit 1

ROUNDS=${BENCH_ROUNDS:-5}
DURATION=${BENCH_SECS:-${BENCH_DURATION:-3}}
IDLE_N=${BENCH_IDLE:-4000}
MANY_N=${BENCH_MANY:-5000}
PIN=${BENCH_PIN:-1}
RESULTS=${BENCH_RESULTS-tests/bench/results.md}
ALL_CASES="keepalive isolated shared churn many big workers2 idle burst tls tlsfull tlsidle h2"
CASES=${BENCH_CASES:-$ALL_CASES}
PROXY_BIN=${BENCH_PROXY:-./proxy}
COMMAND="${BENCH_COMMAND:-make bench}"
AB=${BENCH_AB:-cpu-yield off}
AB_COL="off/auto"; AB_SUM="cpu-yield off ÷ auto"
[ "$AB" = "cpu-yield off" ] || { AB_COL="$AB/default"; AB_SUM="$AB ÷ default"; }
for v in BENCH_ROUNDS BENCH_SECS BENCH_DURATION BENCH_CASES BENCH_IDLE BENCH_MANY BENCH_PIN BENCH_AB; do
    q=${!v:-}; [ "$q" = "${q// /}" ] || q="\"$q\""
    [ -n "$q" ] && COMMAND="$v=$q $COMMAND"
done
case "$ROUNDS$DURATION$IDLE_N$MANY_N" in
    *[!0-9]*) echo "bench: BENCH_ROUNDS, BENCH_SECS, BENCH_IDLE and BENCH_MANY must be whole numbers" >&2; exit 2 ;;
esac

P_BACKEND=22001
declare -A PORT=([ours]=22080 [haproxy]=22081 [nginx]=22082 [noyield]=22083)
PROXIES=(ours noyield haproxy nginx)
PEERS=(haproxy nginx)
declare -A LABEL=([ours]="proxy (ours)" [noyield]="ours, $AB" [haproxy]="HAProxy" [nginx]="nginx")

for tool in wrk h2load haproxy nginx curl taskset cc openssl; do
    command -v "$tool" >/dev/null 2>&1 || { echo "bench: $tool not found (run make bench)" >&2; exit 1; }
done

# Every process started here is stopped by pid on the way out.
T=$(mktemp -d /tmp/proxy-bench.XXXXXX)
STARTED=()
stop_pid() {  # pid: TERM, up to 3 s, then KILL
    local pid=$1 i
    kill -0 "$pid" 2>/dev/null || return 0
    kill -TERM "$pid" 2>/dev/null
    for i in $(seq 30); do
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.1
    done
    kill -KILL "$pid" 2>/dev/null
    wait "$pid" 2>/dev/null
    return 0
}
cleanup() {
    local pid
    for pid in "${STARTED[@]}"; do stop_pid "$pid"; done
    rm -rf "$T"
}
trap cleanup EXIT
trap 'echo "bench: interrupted" >&2; exit 130' INT TERM HUP

# Open-file limit for everything started from here: as high as allowed.
ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)" 2>/dev/null
NOFILE=$(ulimit -n)
MAXCONN=$(( NOFILE / 2 - 500 ))
[ "$MAXCONN" -gt 20000 ] && MAXCONN=20000
# nginx counts its upstream connections in worker_connections too
NGX_CONNS=$(( NOFILE - 100 ))
NEED=$IDLE_N
[ "$MANY_N" -gt "$NEED" ] && NEED=$MANY_N
if [ "$MAXCONN" -lt $(( NEED + 200 )) ]; then
    echo "bench: open-file limit $NOFILE is too low for $NEED connections (a proxy needs two descriptors per client)" >&2
    exit 1
fi

NCPU=$(nproc)
[ "$NCPU" -lt 2 ] && PIN=0
TICKS=$(getconf CLK_TCK)

cc -std=c11 -O2 -o "$T/idleconns" tests/bench/idleconns.c -lssl -lcrypto || exit 1
# the TLS cases: their certificate, configuration parts and case_setup
# shellcheck source=tests/bench/bench_tls.sh
. "$ROOT/tests/bench/bench_tls.sh"

log() { printf '%s\n' "$*" >&2; }

# ---------------------------------------------------------------- helpers ---
# pids of a server: the process and its direct children (nginx workers)
server_pids() {
    local pid=$1
    kill -0 "$pid" 2>/dev/null || return 0
    echo "$pid"
    pgrep -P "$pid" 2>/dev/null
}
# utime+stime in clock ticks, summed over the given pids (threads included)
cpu_ticks() {
    local sum=0 p v
    for p in "$@"; do
        v=$(awk '{ s = $0; sub(/^.*\) /, "", s); split(s, f, " "); print f[12] + f[13] }' \
            "/proc/$p/stat" 2>/dev/null) || continue
        sum=$(( sum + ${v:-0} ))
    done
    echo "$sum"
}
# VmRSS in KiB, summed over the given pids
rss_kib() {
    local sum=0 p v
    for p in "$@"; do
        v=$(awk '/^VmRSS:/ { print $2 }' "/proc/$p/status" 2>/dev/null)
        sum=$(( sum + ${v:-0} ))
    done
    echo "$sum"
}
# set_affinity CPULIST pid...: every thread of each pid and of its children
set_affinity() {
    local cpus=$1 p c
    shift
    for p in "$@"; do
        for c in $(server_pids "$p"); do
            taskset -a -p -c "$cpus" "$c" >/dev/null 2>&1
        done
    done
}
# wait_http PORT PATH SECONDS [PID]: until a 200 comes back (or PID exits);
# prints the last code
wait_http() {
    local port=$1 path=$2 secs=$3 pid=${4:-} code=000 i
    for i in $(seq $(( secs * 10 ))); do
        [ -n "$pid" ] && ! kill -0 "$pid" 2>/dev/null && break
        code=$(curl -sk -o /dev/null -m 2 -w '%{http_code}' "$(scheme "$port")://127.0.0.1:$port$path" 2>/dev/null)
        [ "$code" = 200 ] && break
        sleep 0.1
    done
    echo "$code"
}
median() {  # values on the command line -> median (empty when none)
    printf '%s\n' "$@" | grep -v '^$' | sort -g |
        awk '{ v[NR] = $1 } END { if (NR == 0) exit; if (NR % 2) print v[(NR + 1) / 2]; else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}

# ---------------------------------------------------------------- backend ---
mkdir -p "$T/www" "$T/nginx-backend" "$T/nginx-proxy"
chmod 755 "$T" "$T/www"   # nginx workers run as an unprivileged user
head -c 1048576 /dev/zero | tr '\0' 'x' > "$T/www/big"
chmod 644 "$T/www/big"
temp_paths() {  # nginx temp paths under a prefix directory
    local d=$1
    printf '    client_body_temp_path %s/client_body;\n    proxy_temp_path %s/proxy;\n' "$d" "$d"
    printf '    fastcgi_temp_path %s/fastcgi;\n    uwsgi_temp_path %s/uwsgi;\n    scgi_temp_path %s/scgi;\n' "$d" "$d" "$d"
}
cat > "$T/nginx-backend/nginx.conf" <<EOF
worker_processes 1;
pid $T/nginx-backend/nginx.pid;
error_log $T/nginx-backend/error.log warn;
worker_rlimit_nofile $NOFILE;
events { worker_connections $NGX_CONNS; }
http {
    access_log off;
$(temp_paths "$T/nginx-backend")
    keepalive_requests 10000000;
    keepalive_timeout 300s;
    sendfile on;
    default_type text/plain;
    server {
        listen 127.0.0.1:$P_BACKEND backlog=4096;
        location = / { return 200 "hello from the benchmark backend\n"; }
        location = /big { root $T/www; }
        location / { return 200 "hello from the benchmark backend\n"; }
    }
}
EOF
nginx -p "$T/nginx-backend" -e "$T/nginx-backend/error.log" -c "$T/nginx-backend/nginx.conf" \
    -g 'daemon off;' >"$T/nginx-backend/out.log" 2>&1 &
BACKEND_PID=$!
STARTED+=("$BACKEND_PID")
if [ "$(wait_http $P_BACKEND / 10 "$BACKEND_PID")" != 200 ]; then
    log "bench: the nginx backend did not start (port $P_BACKEND):"
    cat "$T/nginx-backend/out.log" "$T/nginx-backend/error.log" >&2 2>/dev/null
    exit 1
fi

# ---------------------------------------------------------------- proxies ---
declare -A PID STATUS CSTATUS
NOTES=()
# status: "ok", or why the proxy is not measured

# start_ours_as NAME WORKERS DIRECTIVE: our proxy as contender NAME
start_ours_as() {
    local p=$1 w=$2 yield=$3 conf="$T/$1.conf" code
    cat > "$conf" <<EOF
# generated by tests/bench/bench.sh
workers $w
max-conns $MAXCONN
$( [ "${yield#cpu-yield}" = "$yield" ] && echo "cpu-yield auto")
$yield
access-log off
log-level warn
$(tls_ours_globals)
listen 127.0.0.1:${PORT[$p]}$(tls_ours_listen)
pool web {
    balance least-conn
    check off
    server b1 127.0.0.1:$P_BACKEND
}
EOF
    if [ ! -x "$PROXY_BIN" ]; then
        STATUS[$p]="not built ($PROXY_BIN missing)"; PID[$p]=""; return
    fi
    "$PROXY_BIN" -c "$conf" >"$T/$p.log" 2>&1 &
    PID[$p]=$!
    STARTED+=("${PID[$p]}")
    code=$(wait_http "${PORT[$p]}" / 10 "${PID[$p]}")
    if ! kill -0 "${PID[$p]}" 2>/dev/null; then
        STATUS[$p]="failed to start: $(tail -n 3 "$T/$p.log" | tr '\n' ' ')"
        PID[$p]=""
    elif [ "$code" != 200 ]; then
        STATUS[$p]="started but does not proxy (GET / gave $code)"
        stop_pid "${PID[$p]}"; PID[$p]=""
    else
        STATUS[$p]=ok
    fi
}
start_ours() { start_ours_as ours "$1" "cpu-yield auto"; }
start_noyield() { start_ours_as noyield "$1" "$AB"; }

start_haproxy() {
    local w=$1 conf="$T/haproxy.cfg" code
    cat > "$conf" <<EOF
# generated by tests/bench/bench.sh
global
    nbthread $w
    maxconn $MAXCONN
defaults
    mode http
    maxconn $MAXCONN
    option http-keep-alive
    option forwardfor
    timeout connect 2s
    timeout client 30s
    timeout server 30s
    timeout http-request 10s
    timeout http-keep-alive 60s
    timeout queue 5s
frontend fe
    bind 127.0.0.1:${PORT[haproxy]}$(tls_haproxy_bind)
    http-request set-header X-Forwarded-Proto $(scheme "${PORT[haproxy]}")
    default_backend be
backend be
    balance leastconn
    http-reuse always
    server b1 127.0.0.1:$P_BACKEND
EOF
    haproxy -db -f "$conf" >"$T/haproxy.log" 2>&1 &
    PID[haproxy]=$!
    STARTED+=("${PID[haproxy]}")
    code=$(wait_http "${PORT[haproxy]}" / 10 "${PID[haproxy]}")
    if ! kill -0 "${PID[haproxy]}" 2>/dev/null || [ "$code" != 200 ]; then
        STATUS[haproxy]="failed to start: $(tail -n 3 "$T/haproxy.log" | tr '\n' ' ')"
        stop_pid "${PID[haproxy]}"; PID[haproxy]=""
    else
        STATUS[haproxy]=ok
    fi
}

start_nginx() {
    local w=$1 d="$T/nginx-proxy" code
    cat > "$d/nginx.conf" <<EOF
# generated by tests/bench/bench.sh
worker_processes $w;
pid $d/nginx.pid;
error_log $d/error.log warn;
worker_rlimit_nofile $NOFILE;
events { worker_connections $NGX_CONNS; }
http {
    access_log off;
$(temp_paths "$d")
    keepalive_requests 10000000;
    keepalive_timeout 60s;
    upstream be {
        least_conn;
        server 127.0.0.1:$P_BACKEND;
        keepalive 64;
        keepalive_requests 10000000;
    }
    server {
        listen 127.0.0.1:${PORT[nginx]}$(tls_nginx_listen) backlog=4096;
$(tls_nginx_server)
        location / {
            proxy_pass http://be;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
            proxy_set_header X-Forwarded-For \$proxy_add_x_forwarded_for;
            proxy_set_header X-Forwarded-Proto $(scheme "${PORT[nginx]}");
            proxy_buffers 16 64k;
            proxy_max_temp_file_size 0;
        }
    }
}
EOF
    nginx -p "$d" -e "$d/error.log" -c "$d/nginx.conf" -g 'daemon off;' >"$d/out.log" 2>&1 &
    PID[nginx]=$!
    STARTED+=("${PID[nginx]}")
    code=$(wait_http "${PORT[nginx]}" / 10 "${PID[nginx]}")
    if ! kill -0 "${PID[nginx]}" 2>/dev/null || [ "$code" != 200 ]; then
        STATUS[nginx]="failed to start: $(cat "$d/out.log" "$d/error.log" 2>/dev/null | tail -n 3 | tr '\n' ' ')"
        stop_pid "${PID[nginx]}"; PID[nginx]=""
    else
        STATUS[nginx]=ok
    fi
}

start_all() {  # workers; starts the contenders of the current case (C_PROXIES)
    local w=$1 p
    for p in "${C_PROXIES[@]}"; do
        "start_$p" "$w"
        if [ "${STATUS[$p]}" != ok ]; then
            log "bench: ${LABEL[$p]} with $w worker(s): ${STATUS[$p]}"
            NOTES+=("$CUR_CASE: ${LABEL[$p]} with $w worker(s): ${STATUS[$p]}")
        fi
    done
}
stop_all() {
    local p
    for p in "${PROXIES[@]}"; do
        [ -n "${PID[$p]:-}" ] && stop_pid "${PID[$p]}"
        PID[$p]=""
    done
    sleep 0.5
}
alive() {  # proxy: running and measured?
    local p=$1
    [ "${STATUS[$p]:-}" = ok ] || return 1
    if ! kill -0 "${PID[$p]}" 2>/dev/null; then
        STATUS[$p]="exited during the run: $(tail -n 3 "$T/$p.log" 2>/dev/null | tr '\n' ' ')"
        log "bench: ${LABEL[$p]} ${STATUS[$p]}"
        NOTES+=("$CUR_CASE: ${LABEL[$p]}: ${STATUS[$p]}")
        return 1
    fi
    return 0
}
ALL_CPUS=0-$(( NCPU - 1 ))
# place PLACEMENT: pin the backend, the running proxies and wrk (WRK_CPUS)
#   none      everything on every CPU (the scheduler places it)
#   shared    the proxy and the backend on CPU 1, wrk on CPU 0
#   isolated  the proxy alone on CPU 1, wrk and the backend on CPU 0
place() {
    local pl=$1 pcpus=$ALL_CPUS bcpus=$ALL_CPUS p
    WRK_CPUS=""
    case $pl in
        shared) pcpus=1; bcpus=1; WRK_CPUS=0 ;;
        isolated) pcpus=1; bcpus=0; WRK_CPUS=0 ;;
    esac
    set_affinity "$bcpus" "$BACKEND_PID"
    for p in "${PROXIES[@]}"; do
        [ -n "${PID[$p]:-}" ] && set_affinity "$pcpus" "${PID[$p]}"
    done
}
place_note() {
    case $1 in
        none) echo "nothing pinned" ;;
        shared) echo "proxy + backend on CPU 1, wrk on CPU 0" ;;
        isolated) echo "proxy alone on CPU 1, wrk + backend on CPU 0" ;;
    esac
}

# case_setup CASE: what the case runs (C_* variables); 1 when unknown
case_setup() {
    C_W=1; C_PLACE=none; C_THR=1; C_CONNS=50; C_PATH=/; C_HDR=""; C_KIND=rps; C_TLS=0; C_MEMTARGET="<=700B"
    C_H2=0; C_RUNNER=run_wrk
    C_PROXIES=("${PROXIES[@]}")
    case $1 in
        keepalive) C_LABEL="keepalive: wrk -t1 -c50" ;;
        isolated) C_PLACE=isolated; C_LABEL="isolated: wrk -t1 -c50" ;;
        shared) C_PLACE=shared; C_LABEL="shared: wrk -t1 -c50" ;;
        churn) C_HDR="Connection: close"; C_LABEL="churn: wrk -t1 -c50, Connection: close" ;;
        many) C_CONNS=$MANY_N; C_LABEL="many: wrk -t1 -c$MANY_N" ;;
        big) C_PLACE=shared; C_CONNS=10; C_PATH=/big; C_KIND=bps; C_LABEL="big: wrk -t1 -c10, 1 MiB body" ;;
        workers2) C_W=2; C_THR=2; C_CONNS=100; C_LABEL="workers2: 2 workers, wrk -t2 -c100" ;;
        idle|idle2) C_KIND=idle; C_PROXIES=(ours haproxy nginx); C_LABEL="idle: $IDLE_N clients one by one" ;;
        burst|burst2) C_KIND=burst; C_PROXIES=(ours haproxy nginx); C_LABEL="burst: $IDLE_N clients at once" ;;
        *) tls_case_setup "$1" || return 1 ;;
    esac
    case $1 in idle2|burst2) C_W=2; C_LABEL="${C_LABEL/: /2: 2 workers, }" ;; esac
    [ "$PIN" = 1 ] || C_PLACE=none
    return 0
}

# ------------------------------------------------------------ measurement ---
cat > "$T/report.lua" <<'EOF'
done = function(summary, latency, requests)
    local e = summary.errors
    io.write(string.format("RESULT %.0f %.0f %.0f %.0f %.0f %.0f %.0f %.0f %.0f\n",
        summary.requests, summary.duration, summary.bytes,
        e.connect, e.read, e.write, e.status, e.timeout,
        latency:percentile(99)))
end
EOF

declare -A R   # R[case:proxy:metric] = values, one per round
declare -A FAIL  # FAIL[case:proxy] = failures summed over rounds
WRK_CPUS=""

# run_wrk CASE PROXY [record]: wrk as the case says (C_*)
run_wrk() {
    local case=$1 p=$2 record=${3:-1} dur=$DURATION
    local pids t0 t1 out line hdr=()
    alive "$p" || return
    [ "$record" = 1 ] || dur=1
    [ -n "$C_HDR" ] && hdr=(-H "$C_HDR")
    pids=$(server_pids "${PID[$p]}")
    # shellcheck disable=SC2086
    t0=$(cpu_ticks $pids)
    out=$(${WRK_CPUS:+taskset -c "$WRK_CPUS"} timeout $(( dur + 30 )) \
        wrk -t"$C_THR" -c"$C_CONNS" -d"${dur}s" --latency "${hdr[@]}" -s "$T/report.lua" \
        "$(scheme "${PORT[$p]}")://127.0.0.1:${PORT[$p]}$C_PATH" 2>&1)
    # shellcheck disable=SC2086
    t1=$(cpu_ticks $pids)
    printf '%s\n' "=== $case $p record=$record" "$out" >> "$T/wrk.log"
    alive "$p" || return
    [ "$record" = 1 ] || return
    line=$(printf '%s\n' "$out" | grep '^RESULT ' | tail -n 1)
    if [ -z "$line" ]; then
        log "bench: wrk gave no result for ${LABEL[$p]} ($case): $(printf '%s' "$out" | tail -n 2 | tr '\n' ' ')"
        FAIL[$case:$p]=$(( ${FAIL[$case:$p]:-0} + 1 ))
        return
    fi
    # shellcheck disable=SC2086
    set -- $line
    local reqs=$2 dur_us=$3 bytes=$4 errs=$(( $5 + $6 + $7 + $8 + $9 )) p99=${10}
    FAIL[$case:$p]=$(( ${FAIL[$case:$p]:-0} + errs ))
    [ "$reqs" -gt 0 ] || return
    R[$case:$p:rps]+="$(awk -v r="$reqs" -v d="$dur_us" 'BEGIN { printf "%.1f", r / d * 1e6 }') "
    R[$case:$p:bps]+="$(awk -v b="$bytes" -v d="$dur_us" 'BEGIN { printf "%.0f", b / d * 1e6 }') "
    R[$case:$p:p99]+="$p99 "
    R[$case:$p:cpu]+="$(awk -v c=$(( t1 - t0 )) -v r="$reqs" -v hz="$TICKS" 'BEGIN { printf "%.3f", c / hz / r * 1e6 }') "
}

# throughput CASE: a warm-up, then ROUNDS rounds, the contenders taking turns
throughput() {
    local case=$1 round i k p n=${#C_PROXIES[@]}
    log "bench: $case: warm-up"
    for p in "${C_PROXIES[@]}"; do "$C_RUNNER" "$case" "$p" 0; done
    for round in $(seq "$ROUNDS"); do
        log "bench: $case: round $round/$ROUNDS"
        for i in $(seq 0 $(( n - 1 ))); do
            k=$(( (i + round - 1) % n ))
            "$C_RUNNER" "$case" "${C_PROXIES[$k]}" 1
        done
    done
}

# memory CASE MODE: RSS before, while IDLE_N clients are connected and idle
# (each having had one answer), and after they have closed; per proxy.
# MODE "" connects them 32 at a time, "-b" as a burst (see idleconns.c).
memory() {
    local case=$1 mode=$2 flag p pids before after closed out i ok ipid
    for p in "${C_PROXIES[@]}"; do
        alive "$p" || continue
        log "bench: $case: ${LABEL[$p]}: $IDLE_N connections${mode:+ (burst)}"
        pids=$(server_pids "${PID[$p]}")
        # "Before" is the settled process: past the first seconds' one-off
        # work (ours: the first surge tick maps libm's pages at 1 s).
        sleep 2
        # shellcheck disable=SC2086
        before=$(rss_kib $pids)
        # shellcheck disable=SC2086
        flag=$mode
        [ "$C_TLS" = 1 ] && flag=-s
        "$T/idleconns" $flag 127.0.0.1 "${PORT[$p]}" "$IDLE_N" 120 </dev/null >"$T/idle-$p.out" 2>&1 &
        ipid=$!
        STARTED+=("$ipid")
        ok=0
        for i in $(seq 600); do
            if grep -q '^ready' "$T/idle-$p.out" 2>/dev/null; then ok=1; break; fi
            kill -0 "$ipid" 2>/dev/null || break
            sleep 0.1
        done
        sleep 1
        # shellcheck disable=SC2086
        after=$(rss_kib $pids)
        out=$(head -n 1 "$T/idle-$p.out")
        stop_pid "$ipid"
        # the clients are gone: give the proxy a moment to close its side
        sleep 2
        # shellcheck disable=SC2086
        closed=$(rss_kib $pids)
        alive "$p" || continue
        R[$case:$p:rss0]=$before
        if [ "$ok" = 1 ] && [ "$out" = "ready $IDLE_N" ]; then
            R[$case:$p:mem]=$(( (after - before) * 1024 / IDLE_N ))
            R[$case:$p:left]=$(( closed - before ))
        else
            log "bench: ${LABEL[$p]}: $case connections failed: $(tr '\n' ' ' < "$T/idle-$p.out")"
            FAIL[$case:$p]=$(( ${FAIL[$case:$p]:-0} + 1 ))
        fi
    done
}

START_TIME=$(date +%s)
LOAD_BEFORE=$(cut -d' ' -f1 /proc/loadavg)
declare -A CPLACE CTIME
RUN_CASES=""
for case in $CASES; do
    CUR_CASE=$case
    if ! case_setup "$case"; then
        log "bench: unknown case $case (cases: $ALL_CASES idle2 burst2)"
        continue
    fi
    RUN_CASES+="$case "
    t_case=$(date +%s)
    # every case on freshly started proxies: nothing left over from the last
    log "bench: $case: starting the proxies with $C_W worker(s)"
    stop_all
    for p in "${PROXIES[@]}"; do STATUS[$p]="not in this case"; done
    start_all "$C_W"
    place "$C_PLACE"
    CPLACE[$case]=$C_PLACE
    for p in "${PROXIES[@]}"; do CSTATUS[$case:$p]=${STATUS[$p]}; done
    case $C_KIND in
        rps|bps) throughput "$case" ;;
        idle) memory "$case" "" ;;
        burst) memory "$case" -b ;;
    esac
    for p in "${PROXIES[@]}"; do
        [ "${STATUS[$p]}" = ok ] || CSTATUS[$case:$p]=${STATUS[$p]}
    done
    CTIME[$case]=$(( $(date +%s) - t_case ))
done
stop_all
place none
ELAPSED=$(( $(date +%s) - START_TIME ))
LOAD_AFTER=$(cut -d' ' -f1 /proc/loadavg)
# the benchmark itself keeps about 2 CPUs busy; more than that is someone else
BUSY=$(awk -v a="$LOAD_BEFORE" -v b="$LOAD_AFTER" -v n="$NCPU" 'BEGIN { print (a > 0.5 || b > n + 1) ? 1 : 0 }')

# ----------------------------------------------------------------- report ---
# fmt METRIC VALUE: display form
fmt() {
    local m=$1 v=$2
    [ -z "$v" ] && { echo "—"; return; }
    case $m in
        rps) awk -v v="$v" 'BEGIN { printf "%.0f", v }' ;;
        bps) awk -v v="$v" 'BEGIN { printf "%.0f MiB/s", v / 1048576 }' ;;
        p99) awk -v v="$v" 'BEGIN { printf "%.2f ms", v / 1000 }' ;;
        cpu) awk -v v="$v" 'BEGIN { printf "%.2f µs", v }' ;;
        mem) printf '%s B' "$v" ;;
        rss0) awk -v v="$v" 'BEGIN { printf "%.1f MiB", v / 1024 }' ;;
        left) awk -v v="$v" 'BEGIN { printf "%+.2f MiB", v / 1024 }' ;;
        *) echo "$v" ;;
    esac
}
ratio() {  # a b -> a/b as "1.23×", or "n/a"
    if [ -z "$1" ] || [ -z "$2" ]; then echo "n/a"; return; fi
    awk -v a="$1" -v b="$2" 'BEGIN { if (b == 0) print "n/a"; else printf "%.2f×", a / b }'
}
# medians CASE METRIC BETTER: MED[proxy] and BEST (best peer's median)
declare -A MED
medians() {
    local case=$1 m=$2 better=$3 p v
    BEST=""
    for p in "${PROXIES[@]}"; do
        # shellcheck disable=SC2086
        MED[$p]=$(median ${R[$case:$p:$m]:-})
    done
    for p in "${PEERS[@]}"; do
        v=${MED[$p]}
        [ -z "$v" ] && continue
        if [ -z "$BEST" ]; then BEST=$v
        elif [ "$better" = high ]; then BEST=$(awk -v a="$BEST" -v b="$v" 'BEGIN { print (b > a) ? b : a }')
        else BEST=$(awk -v a="$BEST" -v b="$v" 'BEGIN { print (b < a) ? b : a }')
        fi
    done
}
cell() {  # case proxy metric
    local v=${MED[$2]}
    if [ -n "$v" ]; then fmt "$3" "$v"
    elif [ "${CSTATUS[$1:$2]:-}" = "not in this case" ]; then echo "—"
    elif [ "${CSTATUS[$1:$2]:-}" != ok ]; then echo "not measured"
    else echo "—"
    fi
}
# row CASE METRIC LABEL BETTER(high|low|none) TARGET [TARGET_SHOWN]
# TARGET: ">=R" / "<=R" against the best peer, "<=NB" absolute (B, KiB)
row() {
    local case=$1 m=$2 label=$3 better=$4 target=$5 shown=${6:-} ours r="" ab="" verdict=""
    medians "$case" "$m" "$better"
    ours=${MED[ours]}
    if [ "$better" != none ]; then
        r=$(ratio "$ours" "$BEST")
        ab=$(ratio "${MED[noyield]}" "$ours")
        [ "$ab" = n/a ] && ab=""
        if [ -n "$target" ] && [ "$r" = n/a ] && [ "${target%B}" = "$target" ]; then
            verdict=n/a
        elif [ -n "$target" ] && [ -z "$ours" ]; then
            verdict=n/a
        else
            case $target in
                "<="*B) verdict=$(awk -v a="$ours" -v t="${target#<=}" 'BEGIN { print (a + 0 <= t + 0) ? "yes" : "NO" }') ;;
                ">="*) verdict=$(awk -v a="$ours" -v b="$BEST" -v t="${target#>=}" 'BEGIN { print (b > 0 && a / b >= t - 1e-9) ? "yes" : "NO" }') ;;
                "<="*) verdict=$(awk -v a="$ours" -v b="$BEST" -v t="${target#<=}" 'BEGIN { print (b > 0 && a / b <= t + 1e-9) ? "yes" : "NO" }') ;;
            esac
        fi
    fi
    [ -z "$shown" ] && { shown=${target/>=/≥ }; shown=${shown/<=/≤ }; }
    printf '| %s | %s | %s | %s | %s | %s | %s | %s | %s |\n' "$CASE_LABEL" "$label" \
        "$(cell "$case" ours "$m")" "$(cell "$case" noyield "$m")" \
        "$(cell "$case" haproxy "$m")" "$(cell "$case" nginx "$m")" \
        "$r" "$ab" "${target:+$shown ($verdict)}"
}
fail_row() {
    local case=$1 p cells=() bad=0 v
    for p in "${PROXIES[@]}"; do
        if [ "${CSTATUS[$case:$p]:-}" = "not in this case" ]; then
            cells+=("—"); continue
        fi
        if [ "${CSTATUS[$case:$p]:-}" != ok ] && [ -z "${R[$case:$p:rps]:-}${R[$case:$p:mem]:-}" ]; then
            cells+=("not measured"); continue
        fi
        v=${FAIL[$case:$p]:-0}
        cells+=("$v")
        [ "$p" = ours ] && [ "$v" != 0 ] && bad=1
    done
    local verdict=yes
    [ "$bad" = 1 ] && verdict=NO
    [ "${cells[0]}" = "not measured" ] && verdict=n/a
    printf '| %s | failures | %s | %s | %s | %s | | | 0 (%s) |\n' "$CASE_LABEL" \
        "${cells[0]}" "${cells[1]}" "${cells[2]}" "${cells[3]}" "$verdict"
}

HAPROXY_V=$(haproxy -v 2>/dev/null | head -n 1 | awk '{ print $3 }' | sed 's/-.*//')
NGINX_V=$(nginx -v 2>&1 | sed 's|.*nginx/||')
OURS_V=$("$PROXY_BIN" -V 2>/dev/null | head -n 1)
CPU_MODEL=$(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo)

# the detailed table: every metric of every case
{
    echo "| case | metric | ${LABEL[ours]} | ${LABEL[noyield]} | HAProxy $HAPROXY_V | nginx $NGINX_V | ours/best peer | $AB_COL | target |"
    echo "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | --- |"
    for case in $RUN_CASES; do
        case_setup "$case"
        CASE_LABEL="$C_LABEL ($(place_note "${CPLACE[$case]}"))"
        case $C_KIND in
            rps) row "$case" rps "requests/s" high ">=1.2"
                row "$case" cpu "CPU per request" low "<=0.8"
                row "$case" p99 "p99 latency" low "<=1.0"
                fail_row "$case" ;;
            bps) row "$case" bps "throughput" high ">=1.2"
                row "$case" cpu "CPU per response" low "<=0.8"
                row "$case" p99 "p99 latency" low "<=1.0"
                fail_row "$case" ;;
            idle) CASE_LABEL="$C_LABEL"
                row "$case" mem "memory per idle connection" low "$C_MEMTARGET"
                row "$case" left "RSS after they closed, minus before" low ""
                row "$case" rss0 "RSS before (all processes)" none "" ;;
            burst) CASE_LABEL="$C_LABEL"
                row "$case" mem "memory per idle connection" low "<=500B"
                row "$case" left "RSS after they closed, minus before" low "<=1024KiB" "≤ 1 MiB"
                row "$case" rss0 "RSS before (all processes)" none "" ;;
        esac
    done
} > "$T/table.md"

# the summary: one line per case, our figure and our ratio to the best peer
{
    echo "| case | placement | req/s (ours) | ÷ best peer | CPU/req (ours) | ÷ best peer | p99 (ours) | ÷ best peer | $AB_SUM: req/s, CPU/req | failures (ours) |"
    echo "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"
    for case in $RUN_CASES; do
        case_setup "$case"
        [ "$C_KIND" = rps ] || [ "$C_KIND" = bps ] || continue
        line="| $case | $(place_note "${CPLACE[$case]}")"
        for m in "$C_KIND" cpu p99; do
            medians "$case" "$m" "$( [ "$m" = cpu ] || [ "$m" = p99 ] && echo low || echo high)"
            line+=" | $(cell "$case" ours "$m") | $(ratio "${MED[ours]}" "$BEST")"
            eval "AB_$m=\$(ratio \"\${MED[noyield]}\" \"\${MED[ours]}\")"
        done
        # shellcheck disable=SC2154
        line+=" | $(eval echo "\$AB_$C_KIND"), $AB_cpu | ${FAIL[$case:ours]:-0} |"
        echo "$line"
    done
} > "$T/summary.md"
{
    echo "| case | memory per idle connection (ours) | ÷ best peer | HAProxy | nginx | RSS left after close (ours) | HAProxy | nginx |"
    echo "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"
    for case in $RUN_CASES; do
        case_setup "$case"
        [ "$C_KIND" = idle ] || [ "$C_KIND" = burst ] || continue
        medians "$case" mem low
        line="| $C_LABEL | $(cell "$case" ours mem) | $(ratio "${MED[ours]}" "$BEST") | $(cell "$case" haproxy mem) | $(cell "$case" nginx mem)"
        medians "$case" left low
        line+=" | $(cell "$case" ours left) | $(cell "$case" haproxy left) | $(cell "$case" nginx left) |"
        echo "$line"
    done
} > "$T/memsummary.md"
[ "$(wc -l < "$T/memsummary.md")" -gt 2 ] || : > "$T/memsummary.md"

{
    for n in "${NOTES[@]}"; do echo "- $n"; done
    if [ "$BUSY" = 1 ]; then
        echo "- WARNING: the machine was busy with other work (load average $LOAD_BEFORE before the run, $LOAD_AFTER after it); the figures are noisy."
    fi
} > "$T/notes.md"
# every round's figures, to show the spread behind the medians
{
    for case in $RUN_CASES; do
        for m in rps bps p99 cpu mem left; do
            [ "$case" = big ] && [ "$m" = rps ] && continue
            [ "$case" != big ] && [ "$m" = bps ] && continue
            for p in "${PROXIES[@]}"; do
                v=${R[$case:$p:$m]:-}
                [ -z "$v" ] && continue
                printf '| %s | %s | %s |' "$case" "$m" "${LABEL[$p]}"
                for x in $v; do printf ' %s' "$(fmt "$m" "$x")"; done
                printf ' |\n'
            done
        done
    done
} > "$T/raw.md"
TIMES=""
for case in $RUN_CASES; do TIMES+="$case ${CTIME[$case]} s, "; done
TIMES=${TIMES%, }

echo
echo "Benchmark: medians of $ROUNDS rounds of ${DURATION}s per proxy per case (took ${ELAPSED}s: $TIMES)"
echo
cat "$T/summary.md"
if [ -s "$T/memsummary.md" ]; then echo; cat "$T/memsummary.md"; fi
echo
cat "$T/table.md"
if [ -s "$T/notes.md" ]; then echo; cat "$T/notes.md"; fi
echo

if [ -n "$RESULTS" ]; then
    cat > "$RESULTS" <<EOF
# Benchmark results

Produced by \`$COMMAND\` (tests/bench/bench.sh) on $(date -u '+%Y-%m-%d %H:%M UTC').
Machine: nproc $NCPU, $CPU_MODEL, Linux $(uname -r), loopback only.
Versions: ${OURS_V:-proxy (version unknown)}, HAProxy $HAPROXY_V, nginx $NGINX_V, $(wrk -v 2>&1 | head -n 1 | awk '{ print "wrk " $2 }').

Medians of $ROUNDS rounds of ${DURATION} s per proxy per case; in each round the
proxies take turns, the first one rotating. "ours/best peer" divides our
figure (cpu-yield auto, the default) by the best of HAProxy and nginx
(highest requests/s or throughput, lowest latency, CPU time or memory);
"$AB_COL" divides the figure of our proxy with \`$AB\` by the
default's. Failures are wrk socket errors and non-2xx/3xx answers summed over
all rounds.

Summary (one line per case; the placement is where the figure comes from):

$(cat "$T/summary.md")
$( [ -s "$T/memsummary.md" ] && { echo; cat "$T/memsummary.md"; } )

Every metric:

$(cat "$T/table.md")
$( [ -s "$T/notes.md" ] && { echo; cat "$T/notes.md"; } )

How it is measured:
- Backend: one nginx, one worker process, \`return 200\` with a 33-byte body on
  \`/\`, a 1 MiB file on \`/big\`.
- The proxies are configured alike: least connections, keep-alive to the
  backend (\`http-reuse always\`; nginx \`keepalive 64\`, HTTP/1.1,
  \`Connection ""\`), no logging, no health checks, X-Forwarded-For and
  X-Forwarded-Proto added, keep-alive request limits lifted; nginx streams
  large bodies without temp files (\`proxy_max_temp_file_size 0\`). Connection
  limits: max-conns / maxconn $MAXCONN, nginx worker_connections $NGX_CONNS,
  open files $NOFILE. All are started afresh for every case.
- Cases: keepalive, isolated and shared run \`wrk -t1 -c50\` keep-alive on \`/\`
  with one worker, differing only in placement; churn adds
  \`-H 'Connection: close'\` (a new TCP connection per request); many runs
  \`wrk -t1 -c$MANY_N\`; big \`wrk -t1 -c10\` on \`/big\`; workers2 two workers /
  nbthread 2 / worker_processes 2 under \`wrk -t2 -c100\`.
$(tls_method)
- CPU placement (taskset on every thread, after start): "nothing pinned"
  leaves wrk, the backend and the proxy to the scheduler; "shared" puts the
  proxy and the backend on CPU 1 and wrk on CPU 0; "isolated" the proxy alone
  on CPU 1 and wrk and the backend on CPU 0. The proxies run with their
  default placement otherwise (no cpu-affinity / cpu-map /
  worker_cpu_affinity).
- CPU per request: user+system time of all the proxy's processes and threads
  (from /proc/PID/stat) over the wrk run, divided by the requests completed.
- Memory per idle connection: growth of the summed VmRSS of the proxy's
  processes (nginx: master and workers) while $IDLE_N clients, each having
  made one keep-alive request, stay connected and idle
  (tests/bench/idleconns.c), divided by $IDLE_N; "idle": the clients arrive 32
  at a time, each batch answered before the next; "burst": all $IDLE_N connect
  first, then all send their request at the same moment (\`idleconns -b\`).
  "RSS left after close": VmRSS 2 s after the clients closed, minus VmRSS
  before they came: what the load left behind.
- Load average before the run $LOAD_BEFORE, after it $LOAD_AFTER; the run took
  ${ELAPSED} s ($TIMES).

Every round's figures (rps = requests/s, bps = throughput, p99 = wrk's (h2: h2load's) 99th
percentile latency, cpu = CPU time per request, mem = bytes per idle
connection, left = RSS left after close):

| case | metric | server | rounds |
| --- | --- | --- | --- |
$(cat "$T/raw.md")
EOF
    echo
    echo "bench: written to $RESULTS"
fi
exit 0
