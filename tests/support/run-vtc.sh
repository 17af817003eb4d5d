#!/usr/bin/env bash
# run-vtc.sh: runs the varnishtest suite in tests/vtc against a proxy binary.
#
#   tests/support/run-vtc.sh PROXY_BINARY [FILE.vtc ...]
#
# Every tests/vtc/*.vtc (or just the files named) runs under varnishtest, two
# at a time, each with its own timeout, with the macros ${proxy}, ${backend}
# and ${topsrc}.  Prints one line per failed test with the tail of its log,
# then "N passed, N failed"; exits 1 when any failed or none were found.
# Environment: VTC_JOBS (default 2), VTC_TIMEOUT (seconds, default 60).
#
# VALGRIND=1: every proxy the tests start runs under
#     valgrind --error-exitcode=99 --leak-check=full
#              --errors-for-leak-kinds=definite -q
# (${proxy} is then a generated wrapper script that execs valgrind on the
# real binary), VTC_TIMEOUT defaults to 300 and VTC_JOBS to 1.  Valgrind's
# reports go to one file per process; a test whose proxy reported anything
# fails, and its reports are printed with the failure.
set -u

# One test: run by xargs below; leaves its log and a verdict file behind.
if [ "${1:-}" = "--one" ]; then
    out=$2 file=$3
    base=$(basename "$file" .vtc)
    proxy_cmd=$VTC_PROXY
    if [ -n "${VALGRIND:-}" ] && [ "$VALGRIND" != 0 ]; then
        # A wrapper per test, so that valgrind's reports name the test.
        proxy_cmd=$out/$base.valgrind-proxy
        cat >"$proxy_cmd" <<WRAP
#!/bin/sh
exec valgrind --error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite -q \\
    --log-file='$out/$base.%p.vg' '$VTC_PROXY' "\$@"
WRAP
        chmod +x "$proxy_cmd"
    fi
    # Not -q: without it varnishtest writes a failed test's whole log.
    if varnishtest -t "$VTC_TIMEOUT" -Dproxy="$proxy_cmd" -Dbackend="$VTC_BACKEND" \
        -Dtopsrc="$VTC_TOPSRC" "$file" >"$out/$base.log" 2>&1; then
        result=pass
    else
        result=fail
    fi
    if [ "$proxy_cmd" != "$VTC_PROXY" ]; then
        # With -q valgrind writes only errors: a non-empty report fails the
        # test even when varnishtest did not look at the exit status.
        for vg in "$out/$base".*.vg; do
            [ -s "$vg" ] || continue
            result=fail
            { echo "---- valgrind report ${vg##*/}:"; cat "$vg"; } >>"$out/$base.log"
        done
    fi
    echo "$result" >"$out/$base.result"
    [ "$result" = pass ] || echo "FAIL $file"
    exit 0
fi

if [ $# -lt 1 ]; then
    echo "usage: $0 PROXY_BINARY [FILE.vtc ...]" >&2
    exit 2
fi
topsrc=$(cd "$(dirname "$0")/../.." && pwd)
proxy=$(realpath -e "$1" 2>/dev/null) || { echo "run-vtc: no proxy binary at $1" >&2; exit 1; }
shift
backend=$topsrc/tests/support/backend
[ -x "$backend" ] || { echo "run-vtc: $backend is not built (make tests/support/backend)" >&2; exit 1; }
command -v varnishtest >/dev/null || { echo "run-vtc: varnishtest not found (apt-get install varnish)" >&2; exit 1; }

if [ $# -gt 0 ]; then
    files=("$@")
else
    shopt -s nullglob
    files=("$topsrc"/tests/vtc/*.vtc)
fi
if [ ${#files[@]} -eq 0 ]; then
    echo "run-vtc: no .vtc files in $topsrc/tests/vtc"
    echo "0 passed, 0 failed"
    exit 1
fi

out=$(mktemp -d "${TMPDIR:-/tmp}/run-vtc.XXXXXX")
trap 'rm -rf "$out"' EXIT
export VTC_PROXY=$proxy VTC_BACKEND=$backend VTC_TOPSRC=$topsrc
jobs=${VTC_JOBS:-2}
if [ -n "${VALGRIND:-}" ] && [ "$VALGRIND" != 0 ]; then
    command -v valgrind >/dev/null || { echo "run-vtc: valgrind not found (apt-get install valgrind)" >&2; exit 1; }
    export VALGRIND VTC_TIMEOUT=${VTC_TIMEOUT:-300}
    jobs=${VTC_JOBS:-1}
    echo "run-vtc: every proxy runs under valgrind"
fi
export VTC_TIMEOUT=${VTC_TIMEOUT:-60}
echo "running ${#files[@]} vtc files against $proxy"
printf '%s\0' "${files[@]}" | xargs -0 -n 1 -P "$jobs" bash "$0" --one "$out"

passed=0 failed=0
for file in "${files[@]}"; do
    base=$(basename "$file" .vtc)
    if [ "$(cat "$out/$base.result" 2>/dev/null)" = pass ]; then
        passed=$((passed + 1))
    else
        failed=$((failed + 1))
        echo "==== $file FAILED; the failures (----) and the log's last lines:"
        grep -a -- '^----' "$out/$base.log" 2>/dev/null
        echo "...."
        tail -n "${VTC_TAIL:-40}" "$out/$base.log" 2>/dev/null
    fi
done
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
