#!/usr/bin/env bash
# scenario: alone
# stats_dashboard.sh: the stats port's dashboard (GET /) in a real browser.
#
# Loads the page in headless Chromium against a running proxy and reads the
# DOM the page's JavaScript built from /api/stats: every server appears with
# its role and coloured state, the counters match the traffic sent, and on
# the very first poll the chart already holds each pool's last 300 seconds
# (the proxy's rate_history) and the rates are numbers, the top one equal
# to the sum of the pools' (the JSON's too, second by second).  A pool whose
# only server is down carries an alarm.  At 1024 and 2560 px wide
# (screenshots kept in $TMPDIR) no button leaves its card, the pools'
# columns line up and nothing overflows (the page's #layout-check).  An
# admin action's result (401, 404, done) stays on the page through later
# polls until dismissed (Chromium driven over --remote-debugging-pipe).  A
# second load, while traffic flows and after a drain, shows the counters and
# the state updated and a non-zero rate.  A server a reload removed while a
# request was in flight on it stays listed, greyed, "removed, 1 in flight",
# until that request ends.  A server given by host name shows the name and
# the address it resolves to.  An HTTP/2 client holding a stream open shows
# in the summary as one HTTP/2 connection beside the HTTP/1.1 ones, with
# one HTTP/2 stream.
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
DEAD=$(free_port); B4=$(free_port); B5=$(free_port)
TOKEN=dash-token
# SLOW_SERVER: the server of pool "slow", replaced by a reload below.
write_conf() {
    cat >"$TMPDIR/proxy.conf" <<CONF
workers 2
access-log off
listen 127.0.0.1:$P
stats 127.0.0.1:$S token "$TOKEN"
route path /dead/ pool dead
route path /slow/ pool slow
route default pool web
pool web {
    check http /healthz
    interval 300ms
    sticky cookie SRV
    server app1 127.0.0.1:$B1
    server app2 127.0.0.1:$B2
    standby spare 127.0.0.1:$B3
}
pool dead {
    check http /healthz
    interval 300ms
    server gone 127.0.0.1:$DEAD
}
pool slow {
    check off
    $SLOW_SERVER
}
CONF
}
SLOW_SERVER="server old1 127.0.0.1:$B4"
write_conf
start_backend "$B1" app1; start_backend "$B2" app2; start_backend "$B3" spare
start_backend "$B4" old1; start_backend "$B5" new1
CARES_HOSTS=$TMPDIR/hosts start_proxy "$TMPDIR/proxy.conf" "$P"
wait_port "$S" 5 "$PROXY_PID" || fail "stats port $S not open"

# N requests to the web pool on one keep-alive connection; all must be 200.
send() {
    local args=() i
    for i in $(seq "$1"); do args+=(-o /dev/null "http://127.0.0.1:$P/r$i"); done
    [ "$(curl -s -w '%{http_code}\n' "${args[@]}" | sort -u)" = 200 ] || fail "traffic failed"
}

CHROMIUM_FLAGS=(--headless --no-sandbox --disable-gpu --disable-quic --no-first-run
                --disable-background-networking --disable-component-update --disable-sync
                --disable-dev-shm-usage)
# Renders the page WIDTH px wide (default 1280) for BUDGET ms of (virtual)
# time and writes the DOM to FILE.
dump() { # FILE BUDGET [WIDTH]
    timeout 60 "$CHROMIUM" "${CHROMIUM_FLAGS[@]}" --user-data-dir="$(mktemp -d "$TMPDIR/chr.XXXX")" \
        --window-size="${3:-1280},900" --virtual-time-budget="$2" --dump-dom "http://127.0.0.1:$S/" \
        >"$1" 2>>"$TMPDIR/chromium.log" || fail "chromium failed: $(tail -n 5 "$TMPDIR/chromium.log")"
    [ -s "$1" ] || fail "chromium dumped nothing"
}

# The same page as a PNG, WIDTH px wide.
screenshot() { # FILE WIDTH
    timeout 60 "$CHROMIUM" "${CHROMIUM_FLAGS[@]}" --user-data-dir="$(mktemp -d "$TMPDIR/chr.XXXX")" \
        --window-size="$2,900" --virtual-time-budget=3000 --screenshot="$1" "http://127.0.0.1:$S/" \
        >>"$TMPDIR/chromium.log" 2>&1 || fail "chromium screenshot failed: $(tail -n 5 "$TMPDIR/chromium.log")"
    [ -s "$1" ] && [ "$(head -c 4 "$1" | tail -c 3)" = PNG ] || fail "no PNG screenshot in $1"
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
        self.removed, self.alarms, self.pool_class, self.pool_rate = {}, {}, {}, {}
        self.pool_sticky = {}
        self.layout = {}
        self.row = None; self.cell = None; self.id = None; self.text = ""
        self.pool = None; self.span = None
    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        cls = a.get("class") or ""
        if tag == "tr" and ("data-server" in a or "data-removed-server" in a):
            rows = self.rows if "data-server" in a else self.removed
            key = a.get("data-server") or a.get("data-removed-server")
            self.row = rows.setdefault(key, {"data-state": a.get("data-state"), "class": cls})
        elif tag == "td" and self.row is not None:
            self.cell = cls; self.text = ""
        elif tag == "polyline":
            self.lines[a.get("data-pool")] = {"points": int(a.get("data-points") or 0),
                                              "last": a.get("data-last"),
                                              "sum": int(a.get("data-sum") or 0)}
        elif tag == "section" and "pool" in cls.split():
            self.pool = a.get("data-pool")
            self.pools.append(self.pool)
            self.pool_class[self.pool] = cls
        elif tag == "div" and "pool-alarm" in cls.split() and self.pool:
            self.alarms[self.pool] = True
        elif tag == "span" and cls in ("pool-rate", "pool-sticky") and self.pool:
            self.span = cls; self.text = ""
        elif tag == "div" and a.get("id") == "layout-check":
            self.layout = {k[5:]: v for k, v in a.items() if k.startswith("data-")}
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
        elif tag == "span" and self.span:
            (self.pool_rate if self.span == "pool-rate" else self.pool_sticky)[self.pool] = self.text.strip()
            self.span = None
        elif self.id and tag in ("span", "div"):
            self.ids[self.id]["text"] = self.text.strip(); self.id = None
    def handle_data(self, data):
        self.text += data

d = Dom(); d.feed(open(sys.argv[1]).read())
print(json.dumps({"ids": d.ids, "rows": d.rows, "lines": d.lines, "pools": d.pools,
                  "removed": d.removed, "alarms": d.alarms, "pool_class": d.pool_class,
                  "pool_rate": d.pool_rate, "pool_sticky": d.pool_sticky, "layout": d.layout}))
PY

# check FILE PYTHON-EXPRESSIONS...: each must be true of the parsed DOM `d`.
check() {
    local file=$1
    shift
    python3 - "$file" "$TMPDIR/dom.py" "$@" <<'PY' || fail "dashboard check failed for $file"
import json, subprocess, sys
d = json.loads(subprocess.check_output([sys.executable, sys.argv[2], sys.argv[1]]))
rows, ids, lines = d["rows"], d["ids"], d["lines"]
removed, alarms, layout, pool_rate = d["removed"], d["alarms"], d["layout"], d["pool_rate"]
pool_sticky = d["pool_sticky"]
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

# Drives the page over the DevTools protocol (--remote-debugging-pipe: no
# port, no extra package): clicks admin buttons and reads the notices.
cat >"$TMPDIR/cdp.py" <<'PY'
import json, os, subprocess, sys, tempfile, time
chromium, url, token, flags = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4:]
to_chr_r, to_chr_w = os.pipe()
from_chr_r, from_chr_w = os.pipe()
def child():
    # os.pipe() fds are close-on-exec, and may already be 3 or 4.
    r, w = os.dup(to_chr_r), os.dup(from_chr_w)
    os.dup2(r, 3); os.dup2(w, 4)
    os.set_inheritable(3, True); os.set_inheritable(4, True)
proc = subprocess.Popen([chromium] + flags + ["--remote-debugging-pipe", "--window-size=1280,900",
                        "--user-data-dir=" + tempfile.mkdtemp(dir=os.environ.get("TMPDIR")),
                        "about:blank"], preexec_fn=child, close_fds=False,
                        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
os.close(to_chr_r); os.close(from_chr_w)
buf, ids = b"", [0]
def call(method, params=None, session=None):
    global buf
    ids[0] += 1
    msg = {"id": ids[0], "method": method, "params": params or {}}
    if session: msg["sessionId"] = session
    os.write(to_chr_w, json.dumps(msg).encode() + b"\0")
    while True:
        while b"\0" not in buf:
            chunk = os.read(from_chr_r, 65536)
            if not chunk: raise SystemExit("chromium closed the pipe")
            buf += chunk
        raw, buf = buf.split(b"\0", 1)
        reply = json.loads(raw)
        if reply.get("id") == ids[0]:
            if "error" in reply: raise SystemExit("%s: %s" % (method, reply["error"]))
            return reply["result"]
try:
    target = call("Target.createTarget", {"url": "about:blank"})["targetId"]
    sess = call("Target.attachToTarget", {"targetId": target, "flatten": True})["sessionId"]
    call("Page.navigate", {"url": url}, sess)
    def js(expr):
        r = call("Runtime.evaluate", {"expression": expr, "returnByValue": True,
                                      "awaitPromise": True}, sess)
        if "exceptionDetails" in r: raise SystemExit("js error in %s: %s" % (expr, r["exceptionDetails"]))
        return r["result"].get("value")
    def wait(expr, secs=10):
        end = time.time() + secs
        while time.time() < end:
            v = js(expr)
            if v: return v
            time.sleep(0.1)
        raise SystemExit("timed out waiting for " + expr)
    notices = "Array.from(document.querySelectorAll('#notices .notice')).map(n => n.className + ' | ' + n.querySelector('.notice-text').textContent)"
    wait("!!document.querySelector('tr[data-server=\"web/app2\"] button.action-drain')")
    def click(server, action, count):
        js("document.querySelector('tr[data-server=\"%s\"] button.action-%s').click(); 1" % (server, action))
        wait("document.querySelectorAll('#notices .notice').length == %d" % count)
    # A wrong token: 401.
    js("document.getElementById('token').value = 'wrong'; 1")
    click("web/app2", "disable", 1)
    # The right token on a server the proxy no longer knows (as after a
    # reload the page has not shown yet: the page's request is pointed at
    # a name the proxy does not have): 404.
    js("document.getElementById('token').value = %s; 1" % json.dumps(token))
    js("var f = window.fetch; window.fetch = function (u, o) { if (o && o.method === 'POST')"
       " u = u.replace('/servers/spare/', '/servers/nosuch/'); return f.call(this, u, o); }; 1")
    click("web/spare", "disable", 2)
    # And on a live server: done.
    click("web/app1", "enable", 3)
    before = js(notices)
    time.sleep(3.5)   # three polls rebuild the tables and the status line
    after = js(notices)
    print(json.dumps({"before": before, "after": after}))
    js("document.querySelector('#notices .notice .notice-dismiss').click(); 1")
    print(json.dumps({"dismissed": js(notices)}))
finally:
    proc.kill(); proc.wait()
PY

# Wait for two check rounds so the check column shows "pass".
sleep 1
send 30
for i in 1 2 3 4 5; do curl -s -o /dev/null "http://127.0.0.1:$P/dead/$i"; done
# The history holds whole seconds: wait until the one of these requests ended.
wait_for 3 stats_is "$S" 'sum(j["requests"]["rate_history"])' 35 || fail "requests not in the history: $(stats_dump "$S")"
# One poll only (the next is 1 s later): what the page shows on first load.
dump "$TMPDIR/dom0.html" 300
check "$TMPDIR/dom0.html" \
    'ids["status"]["text"].startswith("updated")' \
    'lines["web"]["points"] == 300 and lines["web"]["sum"] == 30' \
    'lines["dead"]["points"] == 300 and lines["dead"]["sum"] == 5' \
    'num(ids["req-rate"]["text"]) > 0 and num(pool_rate["web"]) > 0' \
    'abs(num(ids["req-rate"]["text"]) - num(pool_rate["web"]) - num(pool_rate["dead"]) - num(pool_rate["slow"])) < 0.16' \
    'all(num(r["rate"]) >= 0 for r in rows.values())' \
    'num(rows["web/app1"]["rate"]) > 0'
# The proxy's own figures: the top rate and history are the pools' sums.
agree=$(stats_get "$S" 'abs(j["requests"]["rate"] - sum(p["rate"] for p in j["pools"])) < 1e-9 and [sum(x) for x in zip(*[p["rate_history"] for p in j["pools"]])] == j["requests"]["rate_history"]')
[ "$agree" = True ] || fail "top rate and pool rates disagree: $(stats_dump "$S")"

dump "$TMPDIR/dom1.html" 3000
check "$TMPDIR/dom1.html" \
    'd["pools"] == ["web", "dead", "slow"]' \
    'sorted(rows) == ["dead/gone", "slow/old1", "web/app1", "web/app2", "web/spare"]' \
    'ids["version"]["text"] == "0.1.0"' \
    'ids["status"]["class"] == "ok" and ids["status"]["text"].startswith("updated")' \
    'ids["req-total"]["text"] == "35"' \
    'all(r["state"] == "up" and "state-up" in r["state.class"] for k, r in rows.items() if k.startswith("web/"))' \
    'rows["web/app1"]["role"] == "primary" and rows["web/spare"]["role"] == "standby"' \
    'int(rows["web/app1"]["requests"]) + int(rows["web/app2"]["requests"]) == 30' \
    'int(rows["web/app1"]["requests"]) > 0 and int(rows["web/app2"]["requests"]) > 0' \
    'rows["web/spare"]["requests"] == "0"' \
    'int(rows["web/app1"]["r2xx"]) == int(rows["web/app1"]["requests"])' \
    'rows["web/app1"]["check"].startswith("pass") and "check-pass" in rows["web/app1"]["check.class"]' \
    'rows["dead/gone"]["state"] == "down"' \
    'alarms.get("dead") and "pool-down" in d["pool_class"]["dead"]' \
    'not alarms.get("web") and not alarms.get("slow")' \
    'pool_sticky == {"web": "sticky SRV: 0 hits, 0 re-sticks"}' \
    'lines["web"]["points"] == 300'

# The layout from 1024 to 2560 px: buttons in their cards, columns aligned.
for w in 1024 2560; do
    screenshot "$TMPDIR/dashboard-$w.png" "$w"
    dump "$TMPDIR/dom-$w.html" 3000 "$w"
    check "$TMPDIR/dom-$w.html" \
        "layout['width'] == '$w'" \
        'int(layout["buttons"]) >= 15' \
        'layout["buttons-outside"] == "0"' \
        'layout["columns-misaligned"] == "0"' \
        'layout["overflow-x"] == "0"'
done
echo "screenshots: $TMPDIR/dashboard-1024.png $TMPDIR/dashboard-2560.png"

# Admin results stay until dismissed.
python3 "$TMPDIR/cdp.py" "$CHROMIUM" "http://127.0.0.1:$S/" "$TOKEN" "${CHROMIUM_FLAGS[@]}" \
    >"$TMPDIR/cdp.out" 2>>"$TMPDIR/chromium.log" || fail "driving chromium failed: $(tail -n 3 "$TMPDIR/chromium.log")"
echo "admin notices: $(cat "$TMPDIR/cdp.out")"
python3 - "$TMPDIR/cdp.out" <<'PY' || fail "admin results not kept: $(cat "$TMPDIR/cdp.out")"
import json, sys
lines = [json.loads(l) for l in open(sys.argv[1])]
before, after, left = lines[0]["before"], lines[0]["after"], lines[1]["dismissed"]
assert len(before) == 3 and after == before, (before, after)
assert "notice-error" in after[0] and "disable web/app2: 401" in after[0], after[0]
assert "notice-error" in after[1] and "disable web/spare: 404" in after[1], after[1]
assert "notice-ok" in after[2] and "enable web/app1: 200 done" in after[2], after[2]
assert left == after[1:], left
PY
read -r app1_before app2_before < <(python3 "$TMPDIR/dom.py" "$TMPDIR/dom1.html" |
    python3 -c 'import json,sys; r=json.load(sys.stdin)["rows"]; print(r["web/app1"]["requests"], r["web/app2"]["requests"])')

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
# The chart's last point is the last whole second before the page's load:
# 2 s after wrk began, that second is one wrk ran through (after 0.5 s it
# could be the second before wrk, a zero: 1 run in about 10 under load).
sleep 2
dump "$TMPDIR/dom2.html" 4000
stop_pid "$TRAFFIC"
check "$TMPDIR/dom2.html" \
    'rows["web/app2"]["state"] == "draining" and "state-draining" in rows["web/app2"]["state.class"]' \
    'rows["web/app2"]["data-state"] == "draining"' \
    'rows["web/app1"]["state"] == "up"' \
    "int(rows['web/app1']['requests']) >= $app1_before + 20" \
    'int(ids["req-total"]["text"]) >= 50' \
    'num(rows["web/app1"]["rate"]) > 0' \
    "int(rows['web/app2']['requests']) == $app2_before" \
    'abs(num(ids["req-rate"]["text"]) - num(pool_rate["web"]) - num(pool_rate["dead"]) - num(pool_rate["slow"])) < 0.3' \
    'lines["web"]["points"] == 300 and num(lines["web"]["last"]) > 0'

# A reload removes slow/old1 while a request is in flight on it: listed,
# greyed, "removed, 1 in flight", until that request ends.
curl -s -o "$TMPDIR/slow.out" "http://127.0.0.1:$P/slow/x?delay=5000" &
SLOW=$!; track "$SLOW"
wait_for 5 stats_is "$S" 'srv("slow", "old1")["active"]' 1 || fail "the slow request did not reach old1"
# new1 by host name (from a hosts file of the test's, in place of
# /etc/hosts): its row shows the name and what it resolves to.
echo "127.0.0.1 new1.test" >"$TMPDIR/hosts"
SLOW_SERVER="server new1 new1.test:$B5"
write_conf
kill -HUP "$PROXY_PID"
wait_for 5 stats_is "$S" 'j["generation"]' 2 || fail "reload not applied"
removed=$(stats_get "$S" '[(s["name"], s["removed"], s["active"]) for p in j["pools"] if p["name"] == "slow" for s in p["servers"]]')
echo "slow pool after the reload: $removed"
[ "$removed" = "[('new1', False, 0), ('old1', True, 1)]" ] || fail "old1 not listed as removed, in flight: $removed"
dump "$TMPDIR/dom3.html" 1500
check "$TMPDIR/dom3.html" \
    '"slow/new1" in rows and "slow/old1" not in rows' \
    'removed["slow/old1"]["state"] == "removed, 1 in flight"' \
    '"removed" in removed["slow/old1"]["class"].split() and "state-removed" in removed["slow/old1"]["state.class"]'
wait "$SLOW"
[ "$(cat "$TMPDIR/slow.out")" != "" ] || fail "the slow request got no answer"
wait_for 5 stats_is "$S" '[s["name"] for p in j["pools"] if p["name"] == "slow" for s in p["servers"]]' "['new1']" ||
    fail "old1 still listed after its last request: $(stats_dump "$S")"
dump "$TMPDIR/dom4.html" 1500
check "$TMPDIR/dom4.html" 'not removed and "slow/new1" in rows' \
    "rows['slow/new1']['address'] == 'new1.test (127.0.0.1:$B5)'" \
    'rows["web/app1"]["address"].startswith("127.0.0.1:")'
# An HTTP/2 client holding a stream open (prior knowledge): the summary
# shows it beside the HTTP/1.1 connections, and its stream.
need_python_h2
PYH2=$PY
$PYH2 "$TOPSRC/tests/scenario/h2_relay.py" hold "$P" "/slow/h2?delay=6000" 8 >"$TMPDIR/h2hold.out" 2>&1 &
H2HOLD=$!; track "$H2HOLD"
wait_for 5 stats_is "$S" '(j["connections"]["http2"], j["streams"]["active"])' "1 1" ||
    fail "the HTTP/2 client's connection and stream are not counted: $(cat "$TMPDIR/h2hold.out")"
dump "$TMPDIR/dom5.html" 1500
check "$TMPDIR/dom5.html" \
    'ids["conn-h2"]["text"] == "1" and ids["h2-streams"]["text"] == "1"' \
    'int(ids["conn-h1"]["text"]) == int(ids["conn-active"]["text"]) - 1'
stop_pid "$H2HOLD"
echo "stats_dashboard: ok"
