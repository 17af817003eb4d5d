#!/usr/bin/env bash
# stats_api.sh: the stats port against real traffic (CONTRACT.md section 6).
#
# Sends a known number of requests through the proxy, then checks that
# /api/stats has every field with the right type and counters that add up,
# that /metrics parses line by line with every metric named in the contract
# and the same totals, /healthz, and the admin actions: 401/403/404/405,
# drain (no new requests; one in flight finishes), disable, enable.  Ends
# with reloads that remove the token (403) and move the stats port.
set -u
. "${TOPSRC:-$(cd "$(dirname "$0")/../.." && pwd)}/tests/support/lib.sh"

P=$(free_port); S=$(free_port); S2=$(free_port)
B1=$(free_port); B2=$(free_port); B3=$(free_port); B4=$(free_port)
TOKEN='s3cret-T0ken'
write_conf() { # $1: the stats line
    cat >"$TMPDIR/proxy.conf" <<CONF
workers 2
access-log off
listen 127.0.0.1:$P
$1
pool web {
    check http /healthz
    interval 300ms
    check-timeout 250ms
    server app1 127.0.0.1:$B1 weight 2 max-conns 50
    server app2 127.0.0.1:$B2
    standby spare 127.0.0.1:$B3
}
pool api {
    balance round-robin
    server a1 127.0.0.1:$B4
}
route path /api/ pool api
route default pool web
CONF
}
write_conf "stats 127.0.0.1:$S token \"$TOKEN\""
start_backend "$B1" app1; start_backend "$B2" app2; start_backend "$B3" spare
start_backend "$B4" a1
start_proxy "$TMPDIR/proxy.conf" "$P"
wait_port "$S" 5 "$PROXY_PID" || fail "stats port $S not open"
STATS=http://127.0.0.1:$S

# curl [OPTION...] URL... -> one status code per line; the URLs share one
# keep-alive connection.
codes() {
    local args=() a
    for a in "$@"; do
        case "$a" in http://*) args+=(-o /dev/null "$a") ;; *) args+=("$a") ;; esac
    done
    curl -s -w '%{http_code}\n' "${args[@]}"
}
# The request counter of POOL/SERVER.
server_requests() {
    stats_get "$STATS" 'srv(*sys.argv[1:])["requests"]' "$1" "$2"
}
server_field() { # POOL SERVER FIELD [SUBFIELD]
    stats_get "$STATS" 'srv(*sys.argv[1:3])[sys.argv[3]][sys.argv[4]] if len(sys.argv) > 4
        else srv(*sys.argv[1:3])[sys.argv[3]]' "$@"
}
state_is() { [ "$(server_field "$1" "$2" state)" = "$3" ]; }
generation_is() { # URL N
    stats_is "$1" 'j["generation"]' "$2"
}
all_checks_pass() {
    [ "$(server_field web app1 check status)" = pass ] &&
    [ "$(server_field web app2 check status)" = pass ] &&
    [ "$(server_field web spare check status)" = pass ]
}
wait_for 5 all_checks_pass || fail "active checks never passed: $(stats_dump "$STATS")"

# ---- traffic: 40 to web (4 answered 404, 3 answered 500), 20 to api --------
urls=()
for i in $(seq 33); do urls+=("http://127.0.0.1:$P/page$i"); done
for i in $(seq 4); do urls+=("http://127.0.0.1:$P/missing$i?status=404"); done
for i in $(seq 3); do urls+=("http://127.0.0.1:$P/broken$i?status=500"); done
got=$(codes "${urls[@]}" | sort | uniq -c | tr -s ' ' | tr '\n' ';')
[ "$got" = " 33 200; 4 404; 3 500;" ] || fail "web traffic answered: $got"
urls=()
for i in $(seq 20); do urls+=("http://127.0.0.1:$P/api/item$i"); done
got=$(codes "${urls[@]}" | sort | uniq -c | tr -s ' ' | tr '\n' ';')
[ "$got" = " 20 200;" ] || fail "api traffic answered: $got"
sleep 1.2   # the rate counts whole seconds only

# ---- /api/stats: schema and counters ---------------------------------------------
curl -s -D "$TMPDIR/stats.head" -o "$TMPDIR/stats.json" "$STATS/api/stats" || fail "GET /api/stats"
grep -qi '^content-type: application/json' "$TMPDIR/stats.head" || fail "/api/stats content type"
python3 - "$TMPDIR/stats.json" <<'PY' || fail "/api/stats: $(cat "$TMPDIR/stats.json")"
import json, sys
d = json.load(open(sys.argv[1]))
num = (int, float)
def expect(cond, what):
    if not cond:
        sys.exit("bad /api/stats: " + what)
def keys(obj, names, where):
    expect(isinstance(obj, dict), where + " is not an object")
    for k in names:
        expect(k in obj, "%s has no %r" % (where, k))
def is_int(v):
    return isinstance(v, int) and not isinstance(v, bool) and v >= 0

keys(d, ["version", "uptime_s", "workers", "generation", "reloads", "connections",
         "requests", "pools"], "document")
expect(d["version"] == "0.1.0", "version")
expect(isinstance(d["uptime_s"], num) and d["uptime_s"] > 0, "uptime_s")
expect(d["workers"] == 2, "workers")
expect(d["generation"] == 1, "generation")
keys(d["reloads"], ["ok", "failed"], "reloads")
expect(d["reloads"] == {"ok": 0, "failed": 0}, "reloads counters")
keys(d["connections"], ["active", "total"], "connections")
expect(is_int(d["connections"]["active"]), "connections.active")
expect(d["connections"]["total"] >= 2, "connections.total")
keys(d["requests"], ["total", "rate"], "requests")
expect(d["requests"]["total"] == 60, "requests.total %r" % d["requests"]["total"])
expect(abs(d["requests"]["rate"] * 10 - 60) < 0.01, "requests.rate %r" % d["requests"]["rate"])
pools = {p["name"]: p for p in d["pools"]}
expect(sorted(pools) == ["api", "web"], "pool names")
want = {"web": (40, 33, 4, 3, "least-conn"), "api": (20, 20, 0, 0, "round-robin")}
for name, p in pools.items():
    keys(p, ["name", "balance", "standby_active", "queued", "servers"], "pool " + name)
    expect(p["balance"] == want[name][4], "balance of " + name)
    expect(p["standby_active"] is False, "standby_active of " + name)
    expect(p["queued"] == 0, "queued of " + name)
    total = ok = c4 = c5 = 0
    for s in p["servers"]:
        where = "server %s/%s" % (name, s.get("name"))
        keys(s, ["name", "address", "role", "state", "weight", "active", "max_conns",
                 "requests", "responses", "failures", "check"], where)
        expect(s["role"] in ("primary", "standby"), where + " role")
        expect(s["state"] == "up", where + " state")
        for k in ("weight", "active", "max_conns", "requests", "failures"):
            expect(is_int(s[k]), where + " " + k)
        expect(s["active"] == 0 and s["failures"] == 0, where + " active/failures")
        expect(sorted(s["responses"]) == ["1xx", "2xx", "3xx", "4xx", "5xx"], where + " responses")
        expect(all(is_int(v) for v in s["responses"].values()), where + " response counts")
        expect(sum(s["responses"].values()) == s["requests"], where + " responses != requests")
        keys(s["check"], ["status", "consecutive", "last_ms"], where + " check")
        expect(s["check"]["status"] in ("pass", "fail", "none"), where + " check.status")
        expect(is_int(s["check"]["consecutive"]), where + " check.consecutive")
        expect(isinstance(s["check"]["last_ms"], num), where + " check.last_ms")
        total += s["requests"]; ok += s["responses"]["2xx"]
        c4 += s["responses"]["4xx"]; c5 += s["responses"]["5xx"]
    expect((total, ok, c4, c5) == want[name][:4],
           "%s counters %r, want %r" % (name, (total, ok, c4, c5), want[name][:4]))
web = {s["name"]: s for s in pools["web"]["servers"]}
expect(web["app1"]["weight"] == 2 and web["app1"]["max_conns"] == 50, "app1 weight/max_conns")
expect(web["app1"]["role"] == "primary" and web["spare"]["role"] == "standby", "roles")
expect(web["spare"]["requests"] == 0, "the standby took traffic")
expect(web["app1"]["check"]["status"] == "pass", "app1 check status")
PY

# ---- /metrics ---------------------------------------------------------------------
python3 - "$STATS/metrics" <<'PY' || fail "/metrics"
import re, sys, time, urllib.request

SAMPLE = re.compile(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$')
LABEL = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\\n]|\\[\\"n])*)"(,|$)')
REQUIRED = {
    "proxy_requests_total": "counter", "proxy_connections_active": "gauge",
    "proxy_server_up": "gauge", "proxy_server_active_requests": "gauge",
    "proxy_server_requests_total": "counter", "proxy_server_responses_total": "counter",
    "proxy_server_failures_total": "counter", "proxy_pool_queued_requests": "gauge",
    "proxy_pool_standby_active": "gauge", "proxy_config_reloads_total": "counter",
    "proxy_request_duration_seconds": "histogram",
}

def scrape():
    with urllib.request.urlopen(sys.argv[1]) as r:
        ctype = r.headers["Content-Type"]
        if not ctype.startswith("text/plain; version=0.0.4"):
            sys.exit("content type " + ctype)
        return r.read().decode()

def parse(text):
    helps, types, samples = set(), {}, []
    if not text.endswith("\n"):
        sys.exit("no final newline")
    for line in text.splitlines():
        if line.startswith("# HELP "):
            helps.add(line.split()[2])
            continue
        if line.startswith("# TYPE "):
            _, _, name, kind = line.split(" ", 3)
            if name in types:
                sys.exit("TYPE twice for " + name)
            types[name] = kind
            continue
        m = SAMPLE.match(line)
        if not m:
            sys.exit("bad line: %r" % line)
        name, labeltext, value = m.groups()
        labels = {}
        if labeltext:
            pos = 0
            while pos < len(labeltext):
                lm = LABEL.match(labeltext, pos)
                if not lm:
                    sys.exit("bad labels: %r" % line)
                labels[lm.group(1)] = lm.group(2)
                pos = lm.end()
        family = re.sub(r'_(bucket|sum|count)$', '', name) if name not in types else name
        if family not in types or family not in helps:
            sys.exit("no HELP/TYPE before " + line)
        samples.append((name, labels, float(value)))
    return helps, types, samples

def total(samples, name, **want):
    return sum(v for n, l, v in samples
               if n == name and all(l.get(k) == x for k, x in want.items()))

# The histogram counts a request when its last byte is sent: allow a moment.
for attempt in range(30):
    helps, types, samples = parse(scrape())
    if total(samples, "proxy_request_duration_seconds_count") == 60:
        break
    time.sleep(0.1)
for name, kind in REQUIRED.items():
    if types.get(name) != kind or name not in helps:
        sys.exit("%s: TYPE %r" % (name, types.get(name)))
checks = [
    ("proxy_requests_total", {}, 60),
    ("proxy_server_requests_total", {}, 60),
    ("proxy_server_requests_total", {"pool": "web"}, 40),
    ("proxy_server_requests_total", {"pool": "web", "server": "spare"}, 0),
    ("proxy_server_responses_total", {"code": "2xx"}, 53),
    ("proxy_server_responses_total", {"code": "4xx"}, 4),
    ("proxy_server_responses_total", {"pool": "web", "code": "5xx"}, 3),
    ("proxy_server_failures_total", {}, 0),
    ("proxy_server_up", {}, 4),
    ("proxy_server_active_requests", {}, 0),
    ("proxy_pool_queued_requests", {"pool": "web"}, 0),
    ("proxy_pool_standby_active", {}, 0),
    ("proxy_config_reloads_total", {"result": "ok"}, 0),
    ("proxy_config_reloads_total", {"result": "failed"}, 0),
    ("proxy_request_duration_seconds_count", {}, 60),
]
for name, labels, want in checks:
    got = total(samples, name, **labels)
    if got != want:
        sys.exit("%s%r = %r, want %r" % (name, labels, got, want))
# One histogram per pool (pool="" for requests no pool took): each
# cumulative, and their +Inf buckets add up to every request once.
series = {}
for n, l, v in samples:
    if n == "proxy_request_duration_seconds_bucket":
        if "pool" not in l:
            sys.exit("a duration series without a pool label: %r" % (l,))
        series.setdefault(l["pool"], []).append((l["le"], v))
if "web" not in series:
    sys.exit("no duration histogram for pool web: %r" % sorted(series))
for pool, buckets in series.items():
    if buckets[-1][0] != "+Inf":
        sys.exit("pool %r: last bucket %r" % (pool, buckets[-1]))
    if any(b[1] > a[1] for a, b in zip(buckets[1:], buckets)):
        sys.exit("pool %r: buckets not cumulative: %r" % (pool, buckets))
if sum(b[-1][1] for b in series.values()) != 60:
    sys.exit("+Inf buckets add up to %r, want 60" % sum(b[-1][1] for b in series.values()))
if total(samples, "proxy_request_duration_seconds_sum") <= 0:
    sys.exit("histogram sum")
PY

# ---- /healthz, unknown paths, methods ------------------------------------------------
[ "$(curl -s "$STATS/healthz")" = ok ] || fail "/healthz body"
[ "$(codes "$STATS/nope")" = 404 ] || fail "unknown path is not 404"
[ "$(codes -X DELETE "$STATS/api/stats")" = 405 ] || fail "DELETE /api/stats is not 405"

# ---- admin actions ---------------------------------------------------------------------
A=$STATS/api/pools
post() { curl -s -o "$TMPDIR/post.out" -D "$TMPDIR/post.head" -w '%{http_code}' -X POST "$@"; }
auth=(-H "Authorization: Bearer $TOKEN")
[ "$(post "$A/web/servers/app1/drain")" = 401 ] || fail "drain without a token is not 401"
grep -qi '^www-authenticate: bearer' "$TMPDIR/post.head" || fail "401 without WWW-Authenticate"
[ "$(post -H 'Authorization: Bearer wrong' "$A/web/servers/app1/drain")" = 401 ] ||
    fail "drain with a wrong token is not 401"
[ "$(post -H "Authorization: Bearer ${TOKEN}x" "$A/web/servers/app1/drain")" = 401 ] ||
    fail "drain with a longer token is not 401"
[ "$(post "${auth[@]}" "$A/nopool/servers/app1/drain")" = 404 ] || fail "unknown pool is not 404"
[ "$(post "${auth[@]}" "$A/web/servers/nope/drain")" = 404 ] || fail "unknown server is not 404"
[ "$(post "${auth[@]}" "$A/web/servers/app1/explode")" = 404 ] || fail "unknown action is not 404"
[ "$(codes "${auth[@]}" "$A/web/servers/app1/drain")" = 405 ] || fail "GET on an action is not 405"
[ "$(server_field web app1 state)" = up ] || fail "a refused action changed app1"

# Drain app1 while a slow request is in flight on it: that request finishes,
# and no new request goes to app1.  The request lasts 5 s: finding its
# server takes readings that a loaded machine (make test beside other
# work) stretched past an earlier 1.5 s, and the drain then found it done.
curl -s -o "$TMPDIR/slow.out" -w '%{http_code}' "http://127.0.0.1:$P/slow?delay=5000" \
    >"$TMPDIR/slow.code" &
SLOW=$!
# The server with the slow request is the one that holds one request for
# two readings 200 ms apart: an earlier request still finishing (a loaded
# machine) shows as active for a moment only.
slow_server() {
    case "$(server_field web app1 active)$(server_field web app2 active)" in
    10) echo app1 ;; 01) echo app2 ;;
    esac
}
slow_srv=
slow_settled() { local a b; a=$(slow_server); sleep 0.2; b=$(slow_server); [ -n "$a" ] && [ "$a" = "$b" ] && slow_srv=$a; }
wait_for 3 slow_settled || fail "the slow request never started (or not on one server)"
[ "$(post "${auth[@]}" "$A/web/servers/$slow_srv/drain")" = 200 ] || fail "drain is not 200"
python3 -c '
import json, sys
s = json.load(open(sys.argv[1]))
assert s["name"] == sys.argv[2] and s["state"] == "draining" and s["active"] == 1, s' \
    "$TMPDIR/post.out" "$slow_srv" || fail "drain answer: $(cat "$TMPDIR/post.out")"
other=app2; [ "$slow_srv" = app2 ] && other=app1
b_slow=$(server_requests web "$slow_srv"); b_other=$(server_requests web "$other")
urls=(); for i in $(seq 20); do urls+=("http://127.0.0.1:$P/after-drain$i"); done
got=$(codes "${urls[@]}" | sort | uniq -c | tr -s ' ' | tr '\n' ';')
[ "$got" = " 20 200;" ] || fail "traffic during the drain answered: $got"
[ "$(server_requests web "$slow_srv")" = "$b_slow" ] || fail "the drained $slow_srv took new requests"
[ "$(server_requests web "$other")" = $((b_other + 20)) ] || fail "$other did not take the traffic"
wait "$SLOW"
[ "$(cat "$TMPDIR/slow.code")" = 200 ] || fail "the request in flight on the drained server failed"
[ "$(cat "$TMPDIR/slow.out")" = "$slow_srv" ] || fail "the slow request was answered by $(cat "$TMPDIR/slow.out")"
curl -s "$STATS/metrics" | grep -q "^proxy_server_up{pool=\"web\",server=\"$slow_srv\"} 1$" ||
    fail "a draining server is reported down in /metrics"

# Enable it again: it takes requests.
[ "$(post "${auth[@]}" "$A/web/servers/$slow_srv/enable")" = 200 ] || fail "enable is not 200"
wait_for 3 state_is web "$slow_srv" up || fail "enable did not bring $slow_srv up"
b_slow=$(server_requests web "$slow_srv")
got=$(codes "${urls[@]}" | sort | uniq -c | tr -s ' ' | tr '\n' ';')
[ "$got" = " 20 200;" ] || fail "traffic after enable answered: $got"
[ "$(server_requests web "$slow_srv")" -gt "$b_slow" ] || fail "the enabled $slow_srv takes no requests"

# Disable app2: state disabled, no requests; enable restores it.
[ "$(post "${auth[@]}" "$A/web/servers/app2/disable")" = 200 ] || fail "disable is not 200"
[ "$(server_field web app2 state)" = disabled ] || fail "app2 not disabled"
b2=$(server_requests web app2)
got=$(codes "${urls[@]}" | sort | uniq -c | tr -s ' ' | tr '\n' ';')
[ "$got" = " 20 200;" ] || fail "traffic with app2 disabled answered: $got"
[ "$(server_requests web app2)" = "$b2" ] || fail "the disabled app2 took requests"
[ "$(post "${auth[@]}" "$A/web/servers/app2/enable")" = 200 ] || fail "enable app2 is not 200"
wait_for 3 state_is web app2 up || fail "app2 not back up after enable"

# ---- reloads: no token -> 403; a moved stats port ----------------------------------------
write_conf "stats 127.0.0.1:$S"
kill -HUP "$PROXY_PID"
wait_for 5 generation_is "$STATS" 2 || fail "reload without the token not applied"
[ "$(post "${auth[@]}" "$A/web/servers/app1/drain")" = 403 ] || fail "no token configured is not 403"
[ "$(server_requests web app2)" -gt 0 ] || fail "counters lost across the reload"

write_conf "stats 127.0.0.1:$S2 token \"$TOKEN\""
kill -HUP "$PROXY_PID"
wait_port "$S2" 5 "$PROXY_PID" || fail "the stats port did not move to $S2"
wait_for 5 generation_is "http://127.0.0.1:$S2" 3 || fail "second reload not applied"
wait_for 3 bash -c "! (exec 3<>/dev/tcp/127.0.0.1/$S) 2>/dev/null" || fail "old stats port $S still open"
STATS=http://127.0.0.1:$S2; A=$STATS/api/pools
[ "$(post "${auth[@]}" "$A/web/servers/app1/drain")" = 200 ] || fail "token not restored by the reload"
echo "stats_api: ok"
