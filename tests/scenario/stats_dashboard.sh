#!/usr/bin/env bash
# stats_dashboard.sh: the stats port's dashboard (GET /) in a real browser.
#
# Loads the page in headless Chromium against a running proxy and reads the
# DOM the page's JavaScript built from /api/stats: every server appears with
# its role and coloured state, the counters match the traffic sent, the
# rates computed from successive polls are numbers, and the chart has a line
# per pool.  A second load, while traffic flows and after a drain, shows the
# counters and the state updated and a non-zero rate - computed within one
# page load from successive fetches, without reloading.
#
# Needs /usr/bin/chromium (`make deps` installs it); without it the test
# fails (a skip would hide a dashboard that is never tested in CI).
set -u
. "${TOPSRC:-$(cd "$(dirname "$0")/../.." && pwd)}/tests/support/lib.sh"

CHROMIUM=${CHROMIUM:-/usr/bin/chromium}
if [ ! -x "$CHROMIUM" ]; then
    fail "stats_dashboard needs $CHROMIUM (Debian package chromium; make deps installs it)"
fi

P=$(free_port); S=$(free_port); B1=$(free_port); B2=$(free_port); B3=$(free_port)
TOKEN=dash-token
cat >"$TMPDIR/proxy.conf" <<CONF
workers 2
access-log off
listen 127.0.0.1:$P
stats 127.0.0.1:$S token "$TOKEN"
pool web {
    check http /healthz
    interval 300ms
    server app1 127.0.0.1:$B1
    server app2 127.0.0.1:$B2
    standby spare 127.0.0.1:$B3
}
CONF
start_backend "$B1" app1; start_backend "$B2" app2; start_backend "$B3" spare
start_proxy "$TMPDIR/proxy.conf" "$P"
wait_port "$S" 5 "$PROXY_PID" || fail "stats port $S not open"

# N requests to the web pool on one keep-alive connection; all must be 200.
send() {
    local args=() i
    for i in $(seq "$1"); do args+=(-o /dev/null "http://127.0.0.1:$P/r$i"); done
    [ "$(curl -s -w '%{http_code}\n' "${args[@]}" | sort -u)" = 200 ] || fail "traffic failed"
}

# Renders the page for BUDGET ms of (virtual) time and writes the DOM to FILE.
dump() { # FILE BUDGET
    timeout 60 "$CHROMIUM" --headless --no-sandbox --disable-gpu --disable-quic \
        --no-first-run --disable-background-networking --disable-component-update \
        --disable-sync --disable-dev-shm-usage --user-data-dir="$TMPDIR/chr" \
        --virtual-time-budget="$2" --dump-dom "http://127.0.0.1:$S/" \
        >"$1" 2>>"$TMPDIR/chromium.log" || fail "chromium failed: $(tail -n 5 "$TMPDIR/chromium.log")"
    [ -s "$1" ] || fail "chromium dumped nothing"
}

# Reads a dumped DOM and prints it as JSON: the summary ids, each server row
# (by data-server) and each chart line (by data-pool).
cat >"$TMPDIR/dom.py" <<'PY'
import json, sys
from html.parser import HTMLParser

class Dom(HTMLParser):
    def __init__(self):
        super().__init__()
        self.ids, self.rows, self.lines, self.pools = {}, {}, {}, []
        self.row = None; self.cell = None; self.id = None; self.text = ""
    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "tr" and "data-server" in a:
            self.row = self.rows.setdefault(a["data-server"], {"data-state": a.get("data-state")})
        elif tag == "td" and self.row is not None:
            self.cell = a.get("class", ""); self.text = ""
        elif tag == "polyline":
            self.lines[a.get("data-pool")] = {"points": int(a.get("data-points") or 0),
                                              "last": a.get("data-last")}
        elif tag == "section" and "pool" in a.get("class", "").split():
            self.pools.append(a.get("data-pool"))
        elif "id" in a and self.cell is None:
            self.id = a["id"]; self.text = ""; self.ids[self.id] = {"class": a.get("class")}
    def handle_endtag(self, tag):
        if tag == "td" and self.cell is not None:
            name = self.cell.split()[0]
            self.row[name] = self.text.strip()
            self.row[name + ".class"] = self.cell
            self.cell = None
        elif tag == "tr":
            self.row = None
        elif self.id and tag in ("span", "div"):
            self.ids[self.id]["text"] = self.text.strip(); self.id = None
    def handle_data(self, data):
        self.text += data

d = Dom(); d.feed(open(sys.argv[1]).read())
print(json.dumps({"ids": d.ids, "rows": d.rows, "lines": d.lines, "pools": d.pools}))
PY

# check FILE PYTHON-EXPRESSIONS...: each must be true of the parsed DOM `d`.
check() {
    local file=$1
    shift
    python3 - "$file" "$TMPDIR/dom.py" "$@" <<'PY' || fail "dashboard check failed for $file"
import json, subprocess, sys
d = json.loads(subprocess.check_output([sys.executable, sys.argv[2], sys.argv[1]]))
rows, ids, lines = d["rows"], d["ids"], d["lines"]
def num(s):
    return float(s)
for expr in sys.argv[3:]:
    try:
        ok = eval(expr)
    except Exception as e:
        ok = False; print("error in %s: %r" % (expr, e))
    if not ok:
        print("false: " + expr)
        print(json.dumps(d, indent=1))
        sys.exit(1)
PY
}

# Wait for two check rounds so the check column shows "pass".
sleep 1
send 30
dump "$TMPDIR/dom1.html" 3000
check "$TMPDIR/dom1.html" \
    'd["pools"] == ["web"]' \
    'sorted(rows) == ["web/app1", "web/app2", "web/spare"]' \
    'ids["version"]["text"] == "0.1.0"' \
    'ids["status"]["class"] == "ok" and ids["status"]["text"].startswith("updated")' \
    'ids["req-total"]["text"] == "30"' \
    'all(r["state"] == "up" and "state-up" in r["state.class"] for r in rows.values())' \
    'rows["web/app1"]["role"] == "primary" and rows["web/spare"]["role"] == "standby"' \
    'int(rows["web/app1"]["requests"]) + int(rows["web/app2"]["requests"]) == 30' \
    'int(rows["web/app1"]["requests"]) > 0 and int(rows["web/app2"]["requests"]) > 0' \
    'rows["web/spare"]["requests"] == "0"' \
    'int(rows["web/app1"]["r2xx"]) == int(rows["web/app1"]["requests"])' \
    'rows["web/app1"]["check"].startswith("pass") and "check-pass" in rows["web/app1"]["check.class"]' \
    'all(num(r["rate"]) >= 0 for r in rows.values())' \
    'lines["web"]["points"] >= 2'
app1_before=$(python3 "$TMPDIR/dom.py" "$TMPDIR/dom1.html" |
              python3 -c 'import json,sys; print(json.load(sys.stdin)["rows"]["web/app1"]["requests"])')

# Drain app2, then load the page again while traffic flows.
code=$(curl -s -o /dev/null -w '%{http_code}' -X POST -H "Authorization: Bearer $TOKEN" \
       "http://127.0.0.1:$S/api/pools/web/servers/app2/drain")
[ "$code" = 200 ] || fail "drain answered $code"
send 20
# Steady traffic without gaps: under --virtual-time-budget the page's polls
# are only milliseconds apart in real time, and a loop of curl processes
# (a fork and exec between batches) could leave such a gap with no request
# in it - a zero rate that says nothing about the dashboard.
command -v wrk >/dev/null || fail "stats_dashboard needs wrk (make deps installs it)"
wrk -t1 -c2 -d60s "http://127.0.0.1:$P/" >"$TMPDIR/wrk.log" 2>&1 &
TRAFFIC=$!; track "$TRAFFIC"
sleep 0.5
dump "$TMPDIR/dom2.html" 4000
stop_pid "$TRAFFIC"
check "$TMPDIR/dom2.html" \
    'rows["web/app2"]["state"] == "draining" and "state-draining" in rows["web/app2"]["state.class"]' \
    'rows["web/app2"]["data-state"] == "draining"' \
    'rows["web/app1"]["state"] == "up"' \
    "int(rows['web/app1']['requests']) >= $app1_before + 20" \
    'int(ids["req-total"]["text"]) >= 50' \
    'num(rows["web/app1"]["rate"]) > 0' \
    'num(rows["web/app2"]["rate"]) == 0' \
    'lines["web"]["points"] >= 2 and num(lines["web"]["last"]) > 0'
echo "stats_dashboard: ok"
