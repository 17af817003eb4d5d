#!/usr/bin/env bash
# counts.sh: deterministic costs per request of a running proxy, for a
# machine too busy for timings.  While wrk runs a fixed number of seconds
# against URL, `perf stat` counts the system calls, context switches and
# CPU migrations of PID and its child processes (nginx workers); each count
# is divided by the requests wrk reports.  Counts of zero are left out.
#
#   tests/bench/counts.sh PID URL [SECONDS] [WRK ARGS...]
#   e.g. tests/bench/counts.sh "$(pgrep -o haproxy)" http://127.0.0.1:22081/ 5
#
# WRK ARGS default to -t1 -c50 (the keepalive case of bench.sh).  Needs
# perf with the syscalls tracepoints (root, or perf_event_paranoid <= 1).
set -u
[ $# -ge 2 ] || { echo "usage: $0 PID URL [SECONDS] [WRK ARGS...]" >&2; exit 2; }
pid=$1 url=$2 secs=${3:-5}
shift $(( $# >= 3 ? 3 : 2 ))
wrk_args=("$@")
[ ${#wrk_args[@]} -gt 0 ] || wrk_args=(-t1 -c50)
kill -0 "$pid" 2>/dev/null || { echo "counts: no process $pid" >&2; exit 1; }
tp=/sys/kernel/tracing/events/syscalls
[ -d "$tp" ] || tp=/sys/kernel/debug/tracing/events/syscalls
[ -d "$tp" ] || { echo "counts: no syscalls tracepoints (tracefs not mounted?)" >&2; exit 1; }

out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
kids=$(pgrep -d, -P "$pid")
events=$(find "$tp" -maxdepth 1 -name 'sys_enter_*' -printf 'syscalls:%f\n' | sort | paste -sd,)
perf stat -x, -e "$events,context-switches,cpu-migrations,task-clock" -p "$pid${kids:+,$kids}" \
    -o "$out/stat" &
perf_pid=$!
sleep 0.5 # perf attaches
wrk "${wrk_args[@]}" -d"${secs}s" "$url" >"$out/wrk"
kill -INT "$perf_pid"
wait "$perf_pid" 2>/dev/null
reqs=$(awk '/requests in/ { print $1 }' "$out/wrk")
[ -n "$reqs" ] && [ "$reqs" -gt 0 ] || { echo "counts: wrk answered no request" >&2; cat "$out/wrk" >&2; exit 1; }
echo "$reqs requests ($(grep -E 'Non-2xx|Socket errors' "$out/wrk" | tr -s ' ' | paste -sd' ' -))"
# task-clock is in ms: printed in µs per request (a timing: noisy on a busy machine)
awk -F, -v r="$reqs" '
    $1 ~ /^[0-9.]+$/ && $1 + 0 > 0 {
        n = $3; sub("^syscalls:sys_enter_", "", n)
        if (n == "task-clock") { printf "  %-20s %9.2f us/req (timing)\n", n, $1 * 1000 / r; next }
        if (n != "context-switches" && n != "cpu-migrations") all += $1
        printf "  %-20s %9.3f /req\n", n, $1 / r
    }
    END { printf "  %-20s %9.3f /req\n", "syscalls in all", all / r }' "$out/stat"
