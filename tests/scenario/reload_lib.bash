# reload_lib.bash: helpers shared by tests/scenario/reload_*.sh (sourced;
# named .bash so run-scenarios.sh does not take it for a scenario).
#
# Sources tests/support/lib.sh (free_port, start_backend, start_proxy,
# field, fail, ...: see its header), then adds:
#   ports_free P...      fail unless every port P is unused
#   util ARGS...         tests/scenario/reload_util.py ARGS
#   stats_json           GET /api/stats (needs STATS set)
#   stat KEY             one /api/stats value: a dotted path (reloads.failed)
#                        or POOL/SERVER/FIELD ("absent": no such server, or one a
#                        reload removed that is only listed while its requests end)
#   fstat KEY            as stat, from the saved JSON file $STATS_FILE
#   gen                  the current generation
#   wait_gen GEN SECS    wait until the generation is >= GEN
#   hup_wait [SECS]      SIGHUP the proxy and wait for generation + 1
#   hup_fail             SIGHUP the proxy and wait for reloads.failed + 1
#   hits PORT N [PATH]   N keep-alive requests: "ok=N fail=N servers=a:N,..."
#   names LINE           the server names of a hits line: "a,b"
#   served NAME LINE     true when server NAME answered in a hits line
#   log_mark / log_since lines of proxy.log appended since the mark
#   ka_open PORT         open ONE kept client connection (reload_util.py
#                        keepalive, driven through a FIFO on fd 7)
#   ka_ask PATH          GET PATH on it: "PATH STATUS X-SERVER CLIENT-ADDR"
#                        ("PATH ERR ..." when the connection failed)
#   ka_close             close it
set -u
. "${TOPSRC:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}/tests/support/lib.sh"

UTIL="python3 $TOPSRC/tests/scenario/reload_util.py"
LOG=$TMPDIR/proxy.log
: >"$LOG"

ports_free() {
    local p
    for p in "$@"; do
        port_open "$p" && fail "port $p is already in use (another test running?)"
    done
    return 0
}

util() { $UTIL "$@"; }

# /api/stats is read with curl (python3 costs ~0.15s a start on a small
# machine, too slow for polling); values are picked with jq when installed,
# else by reload_util.py.
stats_json() { curl -s --max-time 2 "http://127.0.0.1:$STATS/api/stats"; }
stat() {
    local json
    json=$(stats_json) || { echo "error:stats-port"; return 1; }
    json_get "$json" "$1"
}
# fstat KEY: as stat, from the file $STATS_FILE
fstat() { json_get "$(cat "$STATS_FILE")" "$1"; }
json_get() {
    local json=$1
    shift
    if command -v jq >/dev/null 2>&1; then
        case $1 in
        */*/*)
            local p=${1%%/*} rest=${1#*/}
            echo "$json" | jq -rc --arg p "$p" --arg s "${rest%%/*}" --arg f "${rest#*/}" \
                '[.pools[] | select(.name == $p) | .servers[] | select(.name == $s and (.removed | not)) | getpath($f | split(".") | map(tonumber? // .))]
                 | if length == 0 then "absent" else .[0] end'
            ;;
        *) echo "$json" | jq -rc --arg k "$1" 'getpath($k | split(".") | map(tonumber? // .))' ;;
        esac
    else
        echo "$json" | $UTIL stat - "$1"
    fi
}
gen() { stats_json | grep -o '"generation": *[0-9]*' | grep -o '[0-9]*$'; }

# wait_gen GEN SECS: until generation >= GEN
wait_gen() {
    local want=$1 secs=$2 g i
    for i in $(seq $((secs * 200))); do
        g=$(gen)
        [ -n "$g" ] && [ "$g" -ge "$want" ] && return 0
        sleep 0.005
    done
    return 1
}

hup_wait() {
    local secs=${1:-5} g
    g=$(gen)
    [ -n "$g" ] || fail "stats port not answering before SIGHUP"
    kill -HUP "$PROXY_PID"
    wait_gen $((g + 1)) "$secs" ||
        fail "reload did not complete within ${secs}s (generation stays $(gen))"
}

hup_fail() {
    local f0 i
    f0=$(stat reloads.failed)
    kill -HUP "$PROXY_PID"
    for i in $(seq 100); do
        [ "$(stat reloads.failed)" -gt "$f0" ] && return 0
        sleep 0.05
    done
    fail "a SIGHUP with a broken file was not counted in reloads.failed within 5s"
}

hits() { $UTIL hits "$@"; }
served() { field servers "$2" | tr ',' '\n' | grep -q "^$1:"; }
names() { field servers "$1" | tr ',' '\n' | cut -d: -f1 | paste -sd, -; }

LOG_MARK=0
log_mark() { LOG_MARK=$(wc -l <"$LOG"); }
log_since() { tail -n +$((LOG_MARK + 1)) "$LOG"; }

KA_OUT=$TMPDIR/keepalive.out
ka_open() {
    local fifo=$TMPDIR/ka.ctl
    rm -f "$fifo"
    mkfifo "$fifo"
    : >"$KA_OUT"   # exists before ka_ask counts its lines
    $UTIL keepalive "$1" "$fifo" >>"$KA_OUT" 2>&1 &
    KA_PID=$!
    track $KA_PID
    exec 7<>"$fifo"   # read-write: never blocks on open
}
ka_ask() {
    local n i
    n=$(wc -l <"$KA_OUT")
    echo "$1" >&7
    for i in $(seq 100); do
        [ "$(wc -l <"$KA_OUT")" -gt "$n" ] && { tail -n 1 "$KA_OUT"; return 0; }
        sleep 0.05
    done
    echo "$1 ERR no-answer-within-5s"
}
ka_close() {
    echo quit >&7
    exec 7>&-
    wait "$KA_PID" 2>/dev/null
}
