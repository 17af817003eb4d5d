#!/usr/bin/env bash
# rehearse_stats_samples.sh: `proxy rehearse --stats` reads /api/stats of a
# proxy with many pools, and says so when it cannot read the stats port.
#   - 60 pools (one server each): every sample is read and the steps list
#     their servers (a fixed 16,384 JSON tokens were too few past about 45
#     pools: every sample failed, and the report's "servers" were empty);
#   - --stats pointing at something else (the backend): a warning naming
#     it and the samples that failed (nothing was said before).
set -u
. "${TOPSRC:-$(cd "$(dirname "$0")/../.." && pwd)}/tests/support/lib.sh"

P=$(free_port); S=$(free_port); B=$(free_port)
start_backend "$B" app
{
    echo "workers 1"
    echo "access-log off"
    echo "listen 127.0.0.1:$P"
    echo "stats 127.0.0.1:$S"
    for i in $(seq 60); do
        printf 'pool p%s {\n    check off\n    server s%s 127.0.0.1:%s\n}\n' "$i" "$i" "$B"
    done
    echo "route default pool p1"
} >"$TMPDIR/proxy.conf"
start_proxy "$TMPDIR/proxy.conf" "$P" "$S"

"$PROXY" rehearse "http://127.0.0.1:$P/" --rate 20 --step-time 2s --stats "127.0.0.1:$S" \
    --report "$TMPDIR/many" >"$TMPDIR/many.out" 2>&1
n=$(python3 -c 'import json, sys; print(len(json.load(open(sys.argv[1]))["steps"][0]["servers"]))' \
    "$TMPDIR/many/report.json") || fail "no report: $(tail -5 "$TMPDIR/many.out")"
echo "60 pools: the step lists $n servers"
[ "$n" -ge 60 ] || fail "with 60 pools the step lists $n servers (the stats samples failed): $(grep -i stats "$TMPDIR/many.out")"
grep -q "could not be read" "$TMPDIR/many.out" && fail "stats samples failed with 60 pools: $(grep -i stats "$TMPDIR/many.out")"

"$PROXY" rehearse "http://127.0.0.1:$P/" --rate 20 --step-time 2s --stats "127.0.0.1:$B" >"$TMPDIR/wrong.out" 2>&1
grep "could not be read" "$TMPDIR/wrong.out" || fail "--stats at the backend: no warning: $(tail -5 "$TMPDIR/wrong.out")"
grep -q -- "--stats 127.0.0.1:$B: .* samples could not be read" "$TMPDIR/wrong.out" || fail "the warning does not name --stats"
echo "ok: many pools read, a wrong stats port said"
