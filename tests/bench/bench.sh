#!/bin/bash
# `make bench`: our proxy side by side with HAProxy and nginx, on loopback.
#
# One nginx backend (one worker) answers `return 200` with a short body on /
# and a 1 MiB file on /big.  In front of it, each on its own port: ./proxy,
# HAProxy and nginx as a reverse proxy, all three configured alike (least
# connections, keep-alive to the backend, no logging, X-Forwarded-For and
# X-Forwarded-Proto added, no health checks).  Cases:
#
#   small-1   workers 1 / nbthread 1 / worker_processes 1, wrk -t1 -c50 on /
#   big-1     the same servers, wrk -t1 -c10 on /big (1 MiB responses)
#   idle-1    RSS growth for 4000 idle keep-alive clients (one request each)
#   small-2   workers 2 / nbthread 2 / worker_processes 2, wrk -t2 -c100 on /
#   idle-2    as idle-1 with the 2-worker servers
#
# Each throughput case runs ROUNDS rounds; in each round the three proxies
# take turns (the starting proxy rotates), wrk runs DURATION seconds on each.
# Reported: the median over rounds of requests/s (or bytes/s), wrk's p99
# latency, and the proxy's CPU time per request (utime+stime from
# /proc/PID/stat over the run, all of its processes and threads, divided by
# the requests wrk completed).  Failures are wrk's socket errors plus non-2xx/3xx
# answers, summed over rounds.
#
# CPU placement: on a machine with at least 2 CPUs, in the 1-worker cases wrk
# is pinned to CPU 0 and the backend and the proxy under test to CPU 1 (the
# same for all three proxies).  In the 2-worker case nothing is pinned: the
# three run with their defaults (no cpu-affinity / cpu-map /
# worker_cpu_affinity) and the bench leaves their threads where they are.
# BENCH_PIN=0 turns the bench's own pinning off.
#
# Environment: BENCH_ROUNDS (5), BENCH_DURATION (3, seconds), BENCH_IDLE (4000
# connections), BENCH_PIN (1), BENCH_RESULTS (tests/bench/results.md; empty:
# do not write), BENCH_CASES ("idle-1 small-1 big-1 idle-2 small-2").
# Ports 22001 (backend) and 22080-22082 (proxy, HAProxy, nginx).
#
# If ./proxy does not start or does not answer through the backend, the
# report says so and still gives the peers' figures.

set -u
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
cd "$ROOT" || exit 1

ROUNDS=${BENCH_ROUNDS:-5}
DURATION=${BENCH_DURATION:-3}
IDLE_N=${BENCH_IDLE:-4000}
PIN=${BENCH_PIN:-1}
RESULTS=${BENCH_RESULTS-tests/bench/results.md}
CASES=${BENCH_CASES:-"idle-1 small-1 big-1 idle-2 small-2"}
PROXY_BIN=${BENCH_PROXY:-./proxy}

P_BACKEND=22001
declare -A PORT=([ours]=22080 [haproxy]=22081 [nginx]=22082)
PROXIES=(ours haproxy nginx)
declare -A LABEL=([ours]="proxy (ours)" [haproxy]="HAProxy" [nginx]="nginx")

for tool in wrk haproxy nginx curl taskset cc; do
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
if [ "$MAXCONN" -lt $(( IDLE_N + 200 )) ]; then
    echo "bench: open-file limit $NOFILE is too low for $IDLE_N idle connections" >&2
    exit 1
fi

NCPU=$(nproc)
[ "$NCPU" -lt 2 ] && PIN=0
TICKS=$(getconf CLK_TCK)

cc -std=c11 -O2 -o "$T/idleconns" tests/bench/idleconns.c || exit 1

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
        code=$(curl -s -o /dev/null -m 2 -w '%{http_code}' "http://127.0.0.1:$port$path" 2>/dev/null)
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
events { worker_connections $MAXCONN; }
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

start_ours() {
    local w=$1 conf="$T/ours.conf" code
    cat > "$conf" <<EOF
# generated by tests/bench/bench.sh
workers $w
max-conns $MAXCONN
access-log off
log-level warn
listen 127.0.0.1:${PORT[ours]}
pool web {
    balance least-conn
    check off
    server b1 127.0.0.1:$P_BACKEND
}
EOF
    if [ ! -x "$PROXY_BIN" ]; then
        STATUS[ours]="not built ($PROXY_BIN missing)"; PID[ours]=""; return
    fi
    "$PROXY_BIN" -c "$conf" >"$T/ours.log" 2>&1 &
    PID[ours]=$!
    STARTED+=("${PID[ours]}")
    code=$(wait_http "${PORT[ours]}" / 10 "${PID[ours]}")
    if ! kill -0 "${PID[ours]}" 2>/dev/null; then
        STATUS[ours]="failed to start: $(tail -n 3 "$T/ours.log" | tr '\n' ' ')"
        PID[ours]=""
    elif [ "$code" != 200 ]; then
        STATUS[ours]="started but does not proxy (GET / gave $code)"
        stop_pid "${PID[ours]}"; PID[ours]=""
    else
        STATUS[ours]=ok
    fi
}

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
    bind 127.0.0.1:${PORT[haproxy]}
    http-request set-header X-Forwarded-Proto http
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
events { worker_connections $MAXCONN; }
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
        listen 127.0.0.1:${PORT[nginx]} backlog=4096;
        location / {
            proxy_pass http://be;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
            proxy_set_header X-Forwarded-For \$proxy_add_x_forwarded_for;
            proxy_set_header X-Forwarded-Proto http;
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

start_all() {  # workers
    local w=$1 p
    for p in "${PROXIES[@]}"; do
        "start_$p" "$w"
        if [ "${STATUS[$p]}" != ok ]; then
            log "bench: ${LABEL[$p]} with $w worker(s): ${STATUS[$p]}"
            NOTES+=("${LABEL[$p]} with $w worker(s): ${STATUS[$p]}")
        fi
    done
    CUR_WORKERS=$w
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
    [ "${STATUS[$p]}" = ok ] || return 1
    if ! kill -0 "${PID[$p]}" 2>/dev/null; then
        STATUS[$p]="exited during the run: $(tail -n 3 "$T/$p.log" 2>/dev/null | tr '\n' ' ')"
        log "bench: ${LABEL[$p]} ${STATUS[$p]}"
        NOTES+=("${LABEL[$p]} with $CUR_WORKERS worker(s): ${STATUS[$p]}")
        return 1
    fi
    return 0
}
pin_servers() {  # cpu list, or "": the backend back on every CPU and the
                 # proxies left where they put their own workers
    local cpus=${1:-0-$(( NCPU - 1 ))} p
    set_affinity "$cpus" "$BACKEND_PID"
    [ -n "$1" ] || return 0
    for p in "${PROXIES[@]}"; do
        [ -n "${PID[$p]:-}" ] && set_affinity "$cpus" "${PID[$p]}"
    done
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

# run_wrk CASE PROXY THREADS CONNS PATH [record]
run_wrk() {
    local case=$1 p=$2 thr=$3 conns=$4 path=$5 record=${6:-1} dur=$DURATION
    local pids t0 t1 out line
    alive "$p" || return
    [ "$record" = 1 ] || dur=1
    pids=$(server_pids "${PID[$p]}")
    # shellcheck disable=SC2086
    t0=$(cpu_ticks $pids)
    out=$(${WRK_CPUS:+taskset -c "$WRK_CPUS"} timeout $(( dur + 20 )) \
        wrk -t"$thr" -c"$conns" -d"${dur}s" --latency -s "$T/report.lua" \
        "http://127.0.0.1:${PORT[$p]}$path" 2>&1)
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

# throughput CASE THREADS CONNS PATH
throughput() {
    local case=$1 thr=$2 conns=$3 path=$4 round i k p
    log "bench: $case: warm-up"
    for p in "${PROXIES[@]}"; do run_wrk "$case" "$p" "$thr" "$conns" "$path" 0; done
    for round in $(seq "$ROUNDS"); do
        log "bench: $case: round $round/$ROUNDS"
        for i in 0 1 2; do
            k=$(( (i + round - 1) % 3 ))
            run_wrk "$case" "${PROXIES[$k]}" "$thr" "$conns" "$path" 1
        done
    done
}

# idle CASE: RSS before and after IDLE_N idle keep-alive clients, per proxy
idle() {
    local case=$1 p pids before after out i ok
    for p in "${PROXIES[@]}"; do
        alive "$p" || continue
        log "bench: $case: ${LABEL[$p]}: $IDLE_N idle connections"
        pids=$(server_pids "${PID[$p]}")
        sleep 0.5
        # shellcheck disable=SC2086
        before=$(rss_kib $pids)
        "$T/idleconns" 127.0.0.1 "${PORT[$p]}" "$IDLE_N" 60 </dev/null >"$T/idle-$p.out" 2>&1 &
        local ipid=$!
        STARTED+=("$ipid")
        ok=0
        for i in $(seq 300); do
            if grep -q '^ready' "$T/idle-$p.out" 2>/dev/null; then ok=1; break; fi
            kill -0 "$ipid" 2>/dev/null || break
            sleep 0.1
        done
        sleep 1
        # shellcheck disable=SC2086
        after=$(rss_kib $pids)
        out=$(head -n 1 "$T/idle-$p.out")
        stop_pid "$ipid"
        sleep 0.5
        alive "$p" || continue
        if [ "$ok" = 1 ] && [ "$out" = "ready $IDLE_N" ]; then
            R[$case:$p:mem]=$(( (after - before) * 1024 / IDLE_N ))
            R[$case:$p:rss0]=$before
        else
            log "bench: ${LABEL[$p]}: idle connections failed: $(tr '\n' ' ' < "$T/idle-$p.out")"
            FAIL[$case:$p]=$(( ${FAIL[$case:$p]:-0} + 1 ))
            R[$case:$p:rss0]=$before
        fi
    done
}

START_TIME=$(date +%s)
LOAD_BEFORE=$(cut -d' ' -f1 /proc/loadavg)
CUR_WORKERS=0
for case in $CASES; do
    w=${case##*-}
    if [ "$CUR_WORKERS" != "$w" ]; then
        [ "$CUR_WORKERS" != 0 ] && stop_all
        log "bench: starting the proxies with $w worker(s)"
        start_all "$w"
        if [ "$PIN" = 1 ] && [ "$w" = 1 ]; then
            pin_servers 1; WRK_CPUS=0
        else
            pin_servers ""; WRK_CPUS=""
        fi
    fi
    for p in "${PROXIES[@]}"; do CSTATUS[$case:$p]=${STATUS[$p]}; done
    case $case in
        small-1) throughput "$case" 1 50 / ;;
        big-1) throughput "$case" 1 10 /big ;;
        small-2) throughput "$case" 2 100 / ;;
        idle-*) idle "$case" ;;
        *) log "bench: unknown case $case" ;;
    esac
    for p in "${PROXIES[@]}"; do
        [ "${STATUS[$p]}" = ok ] || CSTATUS[$case:$p]=${STATUS[$p]}
    done
done
stop_all
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
        *) echo "$v" ;;
    esac
}
# row CASE METRIC LABEL BETTER(high|low|none) TARGET
row() {
    local case=$1 m=$2 label=$3 better=$4 target=$5 p v ours best="" cell verdict=""
    local cells=()
    declare -A med
    for p in "${PROXIES[@]}"; do
        # shellcheck disable=SC2086
        v=$(median ${R[$case:$p:$m]:-})
        med[$p]=$v
        if [ -n "$v" ]; then
            cells+=("$(fmt "$m" "$v")")
        elif [ "${CSTATUS[$case:$p]:-}" != ok ]; then
            cells+=("not measured")
        else
            cells+=("—")
        fi
    done
    ours=${med[ours]}
    for p in haproxy nginx; do
        v=${med[$p]}
        [ -z "$v" ] && continue
        if [ -z "$best" ]; then best=$v
        elif [ "$better" = high ]; then best=$(awk -v a="$best" -v b="$v" 'BEGIN { print (b > a) ? b : a }')
        else best=$(awk -v a="$best" -v b="$v" 'BEGIN { print (b < a) ? b : a }')
        fi
    done
    if [ -n "$ours" ] && [ -n "$best" ] && [ "$better" != none ]; then
        cell=$(awk -v a="$ours" -v b="$best" 'BEGIN { if (b == 0) print "—"; else printf "%.2f×", a / b }')
        case $target in
            ">="*) verdict=$(awk -v a="$ours" -v b="$best" -v t="${target#>=}" 'BEGIN { print (b > 0 && a / b >= t) ? "yes" : "NO" }') ;;
            "<="*B) verdict=$(awk -v a="$ours" -v t="${target#<=}" 'BEGIN { print (a + 0 <= t + 0) ? "yes" : "NO" }') ;;
            "<="*) verdict=$(awk -v a="$ours" -v b="$best" -v t="${target#<=}" 'BEGIN { print (b > 0 && a / b <= t + 1e-9) ? "yes" : "NO" }') ;;
        esac
    elif [ "$better" = none ]; then
        cell=""
    else
        cell="n/a"
        [ -n "$target" ] && verdict="n/a"
    fi
    target=${target/>=/≥ }; target=${target/<=/≤ }
    printf '| %s | %s | %s | %s | %s | %s | %s |\n' "$CASE_LABEL" "$label" \
        "${cells[0]}" "${cells[1]}" "${cells[2]}" "$cell" "${target:+$target ($verdict)}"
}
fail_row() {
    local case=$1 p cells=() bad=0 v
    for p in "${PROXIES[@]}"; do
        if [ "${CSTATUS[$case:$p]:-}" != ok ] && [ -z "${R[$case:$p:rps]:-}${R[$case:$p:mem]:-}" ]; then
            cells+=("not measured")
            continue
        fi
        v=${FAIL[$case:$p]:-0}
        cells+=("$v")
        [ "$p" = ours ] && [ "$v" != 0 ] && bad=1
    done
    local verdict=yes
    [ "$bad" = 1 ] && verdict=NO
    [ "${cells[0]}" = "not measured" ] && verdict=n/a
    printf '| %s | failures | %s | %s | %s | | 0 (%s) |\n' "$CASE_LABEL" "${cells[0]}" "${cells[1]}" "${cells[2]}" "$verdict"
}

HAPROXY_V=$(haproxy -v 2>/dev/null | head -n 1 | awk '{ print $3 }' | sed 's/-.*//')
NGINX_V=$(nginx -v 2>&1 | sed 's|.*nginx/||')
OURS_V=$("$PROXY_BIN" -V 2>/dev/null | head -n 1)
CPU_MODEL=$(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo)
if [ "$PIN" = 1 ]; then
    PIN_NOTE="1-worker cases: wrk pinned to CPU 0, backend and proxy to CPU 1 (all three alike); 2-worker case unpinned (each proxy's default placement)."
else
    PIN_NOTE="no CPU pinning."
fi

{
    echo "| case | metric | ${LABEL[ours]} | HAProxy $HAPROXY_V | nginx $NGINX_V | ours/best | target |"
    echo "| --- | --- | ---: | ---: | ---: | ---: | --- |"
    for case in $CASES; do
        case $case in
            small-1) CASE_LABEL="1 worker, wrk -t1 -c50, small body"
                row "$case" rps "requests/s" high ">=1.2"
                row "$case" p99 "p99 latency" low "<=1.0"
                row "$case" cpu "CPU per request" low "<=0.8"
                fail_row "$case" ;;
            big-1) CASE_LABEL="1 worker, wrk -t1 -c10, 1 MiB body"
                row "$case" bps "throughput" high ""
                row "$case" p99 "p99 latency" low ""
                row "$case" cpu "CPU per response" low ""
                fail_row "$case" ;;
            small-2) CASE_LABEL="2 workers, wrk -t2 -c100, small body"
                row "$case" rps "requests/s" high ">=1.2"
                row "$case" p99 "p99 latency" low "<=1.0"
                row "$case" cpu "CPU per request" low "<=0.8"
                fail_row "$case" ;;
            idle-*) w=${case##*-}; CASE_LABEL="$w worker$( [ "$w" = 1 ] || echo s ), $IDLE_N idle keep-alive clients"
                row "$case" mem "memory per idle connection" low "<=700B"
                row "$case" rss0 "RSS before (all processes)" none "" ;;
        esac
    done
} > "$T/table.md"

{
    for n in "${NOTES[@]}"; do echo "- $n"; done
    if [ "$BUSY" = 1 ]; then
        echo "- WARNING: the machine was busy with other work (load average $LOAD_BEFORE before the run, $LOAD_AFTER after it); the figures are noisy."
    fi
} > "$T/notes.md"
# every round's figures, to show the spread behind the medians
{
    for case in $CASES; do
        for m in rps bps p99 cpu mem; do
            for p in "${PROXIES[@]}"; do
                v=${R[$case:$p:$m]:-}
                [ -z "$v" ] && continue
                [ "$case" = "${case#big}" ] && [ "$m" = bps ] && continue
                [ "$case" != "${case#big}" ] && [ "$m" = rps ] && continue
                printf '| %s | %s | %s |' "$case" "$m" "${LABEL[$p]}"
                for x in $v; do printf ' %s' "$(fmt "$m" "$x")"; done
                printf ' |\n'
            done
        done
    done
} > "$T/raw.md"

echo
echo "Benchmark: medians of $ROUNDS rounds of ${DURATION}s per proxy per case (took ${ELAPSED}s)"
echo
cat "$T/table.md"
if [ -s "$T/notes.md" ]; then echo; cat "$T/notes.md"; fi
echo

if [ -n "$RESULTS" ]; then
    cat > "$RESULTS" <<EOF
# Benchmark results

Produced by \`make bench\` (tests/bench/bench.sh) on $(date -u '+%Y-%m-%d %H:%M UTC').
Machine: $NCPU × $CPU_MODEL, Linux $(uname -r), loopback only.
Versions: ${OURS_V:-proxy (version unknown)}, HAProxy $HAPROXY_V, nginx $NGINX_V, $(wrk -v 2>&1 | head -n 1 | awk '{ print "wrk " $2 }').

Medians of $ROUNDS rounds of ${DURATION} s per proxy per case; in each round the
three proxies take turns, the first one rotating. "ours/best" divides our figure
by the best of HAProxy and nginx (highest requests/s or throughput, lowest
latency, CPU time or memory). Failures are wrk socket errors and non-2xx/3xx
answers summed over all rounds.

$(cat "$T/table.md")
$( [ -s "$T/notes.md" ] && { echo; cat "$T/notes.md"; } )

How it is measured:
- Backend: one nginx, one worker process, \`return 200\` with a 33-byte body on
  \`/\`, a 1 MiB file on \`/big\`.
- The three proxies are configured alike: least connections, keep-alive to the
  backend (\`http-reuse always\`; nginx \`keepalive 64\`, HTTP/1.1,
  \`Connection ""\`), no logging, no health checks, X-Forwarded-For and
  X-Forwarded-Proto added, keep-alive request limits lifted; nginx streams
  large bodies without temp files (\`proxy_max_temp_file_size 0\`).
- CPU per request: user+system time of all the proxy's processes and threads
  (from /proc/PID/stat) over the wrk run, divided by the requests completed.
- Memory per idle connection: growth of the summed VmRSS of the proxy's
  processes while $IDLE_N clients, each having made one keep-alive request,
  stay connected and idle (tests/bench/idleconns.c), divided by $IDLE_N. The
  proxies are freshly started for it, so nothing freed by earlier load is reused.
- CPU placement: $PIN_NOTE
- Load average before the run $LOAD_BEFORE, after it $LOAD_AFTER; the run took ${ELAPSED} s.

Every round's figures (rps = requests/s, bps = throughput, p99 = wrk's 99th
percentile latency, cpu = CPU time per request, mem = bytes per idle connection):

| case | metric | server | rounds |
| --- | --- | --- | --- |
$(cat "$T/raw.md")
EOF
    echo
    echo "bench: written to $RESULTS"
fi
exit 0
