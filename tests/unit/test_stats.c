/*
 * Unit tests of the stats port's documents (stats_json.c): the /api/stats
 * JSON (valid JSON, every field of CONTRACT.md section 6, escaping) and the
 * /metrics Prometheus text (every line well formed, every metric with HELP
 * and TYPE, label escaping, a cumulative histogram), from a runtime built
 * by hand.
 */
#include <criterion/criterion.h>

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "balance.h"
#include "config.h"
#include "fixtures.h"
#include "health.h"
#include "metrics.h"
#include "runtime.h"
#include "stats_json.h"

/* ---- a hand-built runtime: pool "web" (app1 up, app2 draining, spare
 * standby), pool "odd" with one server whose name needs escaping ---------- */

static struct server app1, app2, spare, odd_srv;
static struct pool_shared web_shared, odd_shared;
static struct config_pool web_cfg, odd_cfg;
static struct server *web_servers[3];
static struct server *odd_servers[1];
static struct pool pools[2];
static struct runtime rt;

static void server_init(struct server *s, const char *pool, const char *name,
                        const char *addr, enum server_role role)
{
    memset(s, 0, sizeof(*s));
    strcpy(s->pool_name, pool);
    strcpy(s->name, name);
    strcpy(s->addr.text, addr);
    s->role = role;
    atomic_store(&s->weight, 1);
}

static void build_runtime(void)
{
    memset(&metrics, 0, sizeof(metrics));
    server_init(&app1, "web", "app1", "127.0.0.1:9001", ROLE_PRIMARY);
    atomic_store(&app1.weight, 2);
    atomic_store(&app1.max_conns, 200);
    atomic_store(&app1.active, 1);
    atomic_store(&app1.requests, 600);
    atomic_store(&app1.responses[1], 590);
    atomic_store(&app1.responses[3], 5);
    atomic_store(&app1.responses[4], 5);
    app1.check_status = CHECK_PASS;
    app1.check_consecutive = 12;
    app1.check_last_ms = 0.4;

    server_init(&app2, "web", "app2", "127.0.0.1:9002", ROLE_PRIMARY);
    atomic_store(&app2.admin, ADMIN_DRAIN);
    atomic_store(&app2.requests, 400);
    atomic_store(&app2.failures, 3);
    app2.check_status = CHECK_FAIL;
    app2.check_consecutive = 2;
    app2.check_local_errors = 7;

    server_init(&spare, "web", "spare", "[::1]:9003", ROLE_STANDBY);
    atomic_store(&spare.state, SRV_DOWN);

    server_init(&odd_srv, "o\"d\\d\n", "s\"1\\x\ny\t", "127.0.0.1:9004", ROLE_PRIMARY);
    atomic_store(&odd_srv.admin, ADMIN_DISABLE);

    memset(&web_shared, 0, sizeof(web_shared));
    strcpy(web_shared.name, "web");
    atomic_store(&web_shared.queued, 4);
    memset(&odd_shared, 0, sizeof(odd_shared));
    strcpy(odd_shared.name, "o\"d\\d\n");
    atomic_store(&odd_shared.standby_active, 1);

    memset(&web_cfg, 0, sizeof(web_cfg));
    strcpy(web_cfg.name, "web");
    web_cfg.balance = BALANCE_LEAST_CONN;
    memset(&odd_cfg, 0, sizeof(odd_cfg));
    strcpy(odd_cfg.name, odd_shared.name);
    odd_cfg.balance = BALANCE_ROUND_ROBIN;

    web_servers[0] = &app1;
    web_servers[1] = &app2;
    web_servers[2] = &spare;
    odd_servers[0] = &odd_srv;
    pools[0] = (struct pool){ .cfg = &web_cfg, .shared = &web_shared,
                              .servers = web_servers, .nservers = 3, .nprimaries = 2 };
    pools[1] = (struct pool){ .cfg = &odd_cfg, .shared = &odd_shared,
                              .servers = odd_servers, .nservers = 1, .nprimaries = 1 };
    memset(&rt, 0, sizeof(rt));
    rt.generation = 3;
    rt.pools = pools;
    rt.npools = 2;

    metrics.start_ms = 1000;
    atomic_store(&metrics.workers, 2);
    atomic_store(&metrics.generation, 3);
    atomic_store(&metrics.reloads_ok, 2);
    atomic_store(&metrics.requests_not_replayed, 4);
    atomic_store(&metrics.server_conns_stray, 9);
    atomic_store(&metrics.reloads_failed, 1);
    atomic_store(&metrics.connections_active, 3);
    atomic_store(&metrics.connections_total, 120);
}

/* ---- a minimal JSON syntax checker (RFC 8259) -------------------------------- */

static const char *json_value(const char *p);

static const char *json_ws(const char *p)
{
    while (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r')
        p++;
    return p;
}

static const char *json_string(const char *p)
{
    if (*p++ != '"')
        return NULL;
    while (*p != '"') {
        if ((unsigned char)*p < 0x20)
            return NULL;
        if (*p == '\\') {
            p++;
            if (*p == 'u') {
                for (int i = 1; i <= 4; i++)
                    if (!isxdigit((unsigned char)p[i]))
                        return NULL;
                p += 4;
            } else if (!strchr("\"\\/bfnrt", *p) || !*p) {
                return NULL;
            }
        }
        p++;
    }
    return p + 1;
}

static const char *json_number(const char *p)
{
    const char *start = p;

    if (*p == '-')
        p++;
    if (!isdigit((unsigned char)*p))
        return NULL;
    if (*p == '0' && isdigit((unsigned char)p[1]))
        return NULL;
    while (isdigit((unsigned char)*p))
        p++;
    if (*p == '.') {
        p++;
        if (!isdigit((unsigned char)*p))
            return NULL;
        while (isdigit((unsigned char)*p))
            p++;
    }
    return p > start ? p : NULL;
}

static const char *json_members(const char *p, char close, int keyed)
{
    p = json_ws(p + 1);
    if (*p == close)
        return p + 1;
    for (;;) {
        if (keyed) {
            p = json_string(json_ws(p));
            if (!p)
                return NULL;
            p = json_ws(p);
            if (*p++ != ':')
                return NULL;
        }
        p = json_value(p);
        if (!p)
            return NULL;
        p = json_ws(p);
        if (*p == close)
            return p + 1;
        if (*p++ != ',')
            return NULL;
    }
}

static const char *json_value(const char *p)
{
    p = json_ws(p);
    switch (*p) {
    case '{': return json_members(p, '}', 1);
    case '[': return json_members(p, ']', 0);
    case '"': return json_string(p);
    case 't': return strncmp(p, "true", 4) == 0 ? p + 4 : NULL;
    case 'f': return strncmp(p, "false", 5) == 0 ? p + 5 : NULL;
    case 'n': return strncmp(p, "null", 4) == 0 ? p + 4 : NULL;
    default:  return json_number(p);
    }
}

static int json_valid(const char *text)
{
    const char *end = json_value(text);
    return end && *json_ws(end) == '\0';
}

static char *render_json(void)
{
    return fixture_render(stats_json_render, &rt, 13500);
}

TestSuite(stats, .init = build_runtime);

Test(stats, json_checker_rejects_bad_json)
{
    cr_assert(json_valid("{\"a\":[1,2.5,-3,true,false,null,\"x\\n\"]}"));
    cr_assert_not(json_valid("{\"a\":1,}"));
    cr_assert_not(json_valid("{\"a\":\"\n\"}"));
    cr_assert_not(json_valid("{\"a\":01}"));
    cr_assert_not(json_valid("{\"a\":1} x"));
}

Test(stats, json_is_valid)
{
    char *j = render_json();

    cr_assert(json_valid(j), "invalid JSON: %s", j);
    free(j);
}

Test(stats, json_process_fields)
{
    char *j = render_json();

    fixture_assert_has(j, "{\"version\":\"0.1.0\",\"uptime_s\":12.500,\"workers\":2,");
    fixture_assert_has(j, "\"generation\":3,");
    fixture_assert_has(j, "\"reloads\":{\"ok\":2,\"failed\":1}");
    fixture_assert_has(j, "\"connections\":{\"active\":3,\"total\":120,\"per_worker\":[],\"idle_closed_for_room\":0,"
                          "\"http2\":0,\"http2_total\":0}");
    fixture_assert_has(j, "\"streams\":{\"active\":0,\"total\":0,\"goaway\":{\"resets\":0,\"continuation\":0,\"flood\":0,"
                          "\"settings\":0,\"hpack\":0,\"max_streams\":0,\"zero_window\":0,\"ping\":0}}");
    fixture_assert_has(j, "\"faults\":{\"server_conns_stray\":9,\"requests_not_replayed\":4,"
                          "\"requests_abandoned\":0,\"interim_over_limit\":0,\"cut_client\":0,\"cut_server\":0,\"cut_shutdown\":0,\"proxy_protocol_invalid\":0}");
    fixture_assert_has(j, "\"requests\":{\"total\":0,\"rate\":0.000,\"rate_history\":[0,0,");
    fixture_assert_has(j, "\"pools\":[{\"name\":\"web\",\"balance\":\"least-conn\","
                          "\"standby_active\":false,\"queued\":4,\"usable\":true,\"requests\":0,"
                          "\"rate\":0.000,\"rate_history\":[0,0,");
    fixture_assert_has(j, ",0,0],\"servers\":[{\"name\":\"app1\"");
    free(j);
}

Test(stats, json_server_fields)
{
    char *j = render_json();

    fixture_assert_has(j, "{\"name\":\"app1\",\"address\":\"127.0.0.1:9001\",\"role\":\"primary\","
                          "\"state\":\"up\",\"weight\":2,\"active\":1,\"max_conns\":200,"
                          "\"requests\":600,\"rate\":0.000,\"responses\":{\"1xx\":0,\"2xx\":590,\"3xx\":0,"
                          "\"4xx\":5,\"5xx\":5},\"failures\":0,\"host\":\"\","
                          "\"check\":{\"status\":\"pass\",\"consecutive\":12,\"last_ms\":0.400,"
                          "\"local_errors\":0,\"detail\":\"\"},\"removed\":false}");
    fixture_assert_has(j, "\"name\":\"app2\",\"address\":\"127.0.0.1:9002\",\"role\":\"primary\","
                          "\"state\":\"draining\"");
    fixture_assert_has(j, "\"failures\":3,\"host\":\"\",\"check\":{\"status\":\"fail\",\"consecutive\":2,");
    fixture_assert_has(j, "\"consecutive\":2,\"last_ms\":0.000,\"local_errors\":7,\"detail\":\"\"},\"removed\":false}");
    fixture_assert_has(j, "\"name\":\"spare\",\"address\":\"[::1]:9003\",\"role\":\"standby\","
                          "\"state\":\"down\"");
    fixture_assert_has(j, "\"check\":{\"status\":\"none\",\"consecutive\":0,\"last_ms\":0.000,"
                          "\"local_errors\":0,\"detail\":\"\"}");
    free(j);
}

Test(stats, json_escapes_names)
{
    char *j = render_json();

    fixture_assert_has(j, "{\"name\":\"o\\\"d\\\\d\\n\",\"balance\":\"round-robin\","
                          "\"standby_active\":true,");
    fixture_assert_has(j, "\"name\":\"s\\\"1\\\\x\\ny\\t\",");
    fixture_assert_has(j, "\"state\":\"disabled\"");
    free(j);
}

Test(stats, json_escapes_control_characters)
{
    struct stats_buf b;

    stats_buf_init(&b);
    stats_json_string(&b, "a\001b\x7f\xc3\xa9");
    cr_assert_str_eq(b.data, "\"a\\u0001b\\u007f\xc3\xa9\"");
    stats_buf_free(&b);
}

Test(stats, json_without_runtime)
{
    struct stats_buf b;

    stats_buf_init(&b);
    cr_assert_eq(stats_json_render(&b, NULL, 500), 0);
    cr_assert(json_valid(b.data), "%s", b.data);
    fixture_assert_has(b.data, "\"uptime_s\":0.000,");
    fixture_assert_has(b.data, "\"pools\":[],\"listeners\":[],\"certificates\":[],\"traffic\":{");
    fixture_assert_has(b.data, "\"routes\":[]}");
    stats_buf_free(&b);
}

Test(stats, json_rate_over_ten_seconds)
{
    /* 50 requests in each of the seconds 100..109, then the current second
     * 110 (still filling, not counted). */
    for (uint64_t s = 100; s <= 110; s++)
        for (int i = 0; i < 50; i++)
            metrics_request_started(s * 1000 + 10);
    struct stats_buf b;
    stats_buf_init(&b);
    cr_assert_eq(stats_json_render(&b, &rt, 110500), 0);
    fixture_assert_has(b.data, "\"requests\":{\"total\":550,\"rate\":50.000,\"rate_history\":[0,");
    fixture_assert_has(b.data, ",0,50,50,50,50,50,50,50,50,50,50]},\"pools\"");
    stats_buf_free(&b);
}

/* ---- the per-second rings: the last 300 s, per pool ------------------------ */

static struct rate_ring ring;

Test(stats, ring_history_of_last_300_seconds)
{
    uint32_t h[METRICS_RATE_HISTORY];

    memset(&ring, 0, sizeof ring);
    /* Seconds 1000..1399: second s counts s % 7 + 1; now is 1400.2. */
    for (uint64_t s = 1000; s < 1400; s++)
        for (uint64_t i = 0; i < s % 7 + 1; i++)
            rate_ring_bump(&ring, s);
    rate_ring_bump(&ring, 1400); /* the current second: not in the history */
    rate_ring_history(&ring, 1400200, h, METRICS_RATE_HISTORY);
    for (unsigned i = 0; i < METRICS_RATE_HISTORY; i++)
        cr_assert_eq(h[i], (1100 + i) % 7 + 1, "second %u: %u", 1100 + i, h[i]);
    uint64_t last10 = 0;
    for (uint64_t s = 1390; s < 1400; s++)
        last10 += s % 7 + 1;
    cr_assert_float_eq(rate_ring_rate(&ring, 1400200, 10), (double)last10 / 10, 1e-9);
    /* 301 s later with nothing counted: every slot is of an older second. */
    rate_ring_history(&ring, 1701200, h, METRICS_RATE_HISTORY);
    for (unsigned i = 0; i < METRICS_RATE_HISTORY; i++)
        cr_assert_eq(h[i], 0, "slot %u kept %u", i, h[i]);
    /* Gaps read as 0, counts resume exactly. */
    rate_ring_bump(&ring, 1750);
    rate_ring_history(&ring, 1752000, h, 3);
    cr_assert(h[0] == 0 && h[1] == 1 && h[2] == 0, "%u %u %u", h[0], h[1], h[2]);
}

/* The pool counts a request once, at its first pick, in the second it
 * started: retries, a queued request's picks and the pick again after the
 * keep-alive race (ntried back to 0) do not count it again. */
static void pick_release(struct server *srv)
{
    if (srv)
        balance_release(srv);
}

Test(stats, pool_counts_each_request_once)
{
    struct pool *web = &pools[0];
    struct server *tried[1];
    int result;

    atomic_store(&web_shared.queued, 0);
    app1.pool = app2.pool = spare.pool = &web_shared; /* balance_release wakes its queue */
    for (int i = 0; i < 7; i++) {
        metrics_request_started(200999); /* second 200 */
        struct server *srv = balance_pick(web, 201001, tried, 0, 0, &result);
        cr_assert_not_null(srv);
        tried[0] = srv;
        balance_release(srv);
        /* A retry, a queued pick and the keep-alive race's second pick. */
        pick_release(balance_pick(web, 201002, tried, 1, 0, &result));
        pick_release(balance_pick(web, 201002, tried, 0, 1, &result));
        pick_release(balance_pick(web, 201003, tried, 0, 0, &result));
    }
    cr_assert_eq(atomic_load(&web_shared.requests), 7);
    /* A pick with no request started on this thread counts nothing. */
    pick_release(balance_pick(web, 201003, tried, 0, 0, &result));
    cr_assert_eq(atomic_load(&web_shared.requests), 7);

    struct stats_buf b;
    stats_buf_init(&b);
    cr_assert_eq(stats_json_render(&b, &rt, 210500), 0);
    cr_assert(json_valid(b.data), "%s", b.data);
    /* Second 200 (not 201, when the picks ran) for the process and the pool:
     * the same rate, the same history. */
    fixture_assert_has(b.data, "\"requests\":{\"total\":7,\"rate\":0.700,\"rate_history\":[");
    fixture_assert_has(b.data, "\"usable\":true,\"requests\":7,\"rate\":0.700,\"rate_history\":[");
    fixture_assert_has(b.data, ",0,7,0,0,0,0,0,0,0,0,0]},\"pools\"");
    fixture_assert_has(b.data, ",0,7,0,0,0,0,0,0,0,0,0],\"servers\"");
    /* A server's rate counts attempts (22 picks of app1 in second 201). */
    fixture_assert_has(b.data, "\"name\":\"app1\",\"address\":\"127.0.0.1:9001\",\"role\":\"primary\","
                               "\"state\":\"up\",\"weight\":2,\"active\":1,\"max_conns\":200,"
                               "\"requests\":600,\"rate\":2.200,");
    stats_buf_free(&b);
}

/* A pool none of whose servers can take a request says so (the dashboard's
 * pool alarm): "odd" has only a disabled server. */
Test(stats, pool_without_usable_server)
{
    char *j = render_json();

    fixture_assert_has(j, "\"name\":\"web\",\"balance\":\"least-conn\",\"standby_active\":false,"
                          "\"queued\":4,\"usable\":true,");
    fixture_assert_has(j, "\"standby_active\":true,\"queued\":0,\"usable\":false,");
    free(j);
    atomic_store(&app1.state, SRV_DOWN);
    j = render_json();
    fixture_assert_has(j, "\"queued\":4,\"usable\":false,");
    free(j);
}

/* A server a reload removed stays listed in its pool, "removed":true, while
 * requests are in flight on it, and goes when the last one ends. */
Test(stats, removed_server_listed_while_in_flight)
{
    struct runtime *r1 = fixture_runtime("listen 127.0.0.1:8080\npool web {\n check off\n server a 127.0.0.1:1\n"
                                         " server b 127.0.0.1:2\n}\n");
    runtime_publish(r1);
    struct server *b = pool_find_server(&r1->pools[0], "b");
    atomic_store(&b->active, 2);
    /* The reload: built on r1, as main.c does, so the pool's state is shared. */
    struct config_errors errs = { 0 };
    const char *text = "listen 127.0.0.1:8080\npool web {\n check off\n server a 127.0.0.1:1\n}\n";
    struct config *cfg = config_parse("t.conf", text, strlen(text), &errs);
    cr_assert_not_null(cfg);
    struct runtime *r2 = runtime_build(cfg, r1);
    cr_assert_not_null(r2);
    runtime_publish(r2); /* drops r1: b lives on through the removed list */

    struct stats_buf sb;
    stats_buf_init(&sb);
    cr_assert_eq(stats_json_render(&sb, r2, 5000), 0);
    cr_assert(json_valid(sb.data), "%s", sb.data);
    fixture_assert_has(sb.data, "\"name\":\"b\",\"address\":\"127.0.0.1:2\",\"role\":\"primary\","
                                "\"state\":\"up\",\"weight\":1,\"active\":2,");
    fixture_assert_has(sb.data, "\"removed\":true}],\"responses\":");
    atomic_store(&b->active, 1);
    stats_buf_reset(&sb);
    cr_assert_eq(stats_json_render(&sb, r2, 5000), 0);
    fixture_assert_has(sb.data, "\"name\":\"b\"");
    atomic_store(&b->active, 0); /* the last request ended (b is freed at the next look) */
    stats_buf_reset(&sb);
    cr_assert_eq(stats_json_render(&sb, r2, 5000), 0);
    fixture_assert_lacks(sb.data, "\"name\":\"b\"");
    fixture_assert_has(sb.data, "\"removed\":false}],\"responses\":");
    stats_buf_free(&sb);
    runtime_publish(NULL);
}

Test(stats, state_names)
{
    cr_assert_str_eq(stats_server_state(&app1), "up");
    atomic_store(&app1.state, SRV_DOWN);
    cr_assert_str_eq(stats_server_state(&app1), "down");
    atomic_store(&app1.admin, ADMIN_DRAIN);
    cr_assert_str_eq(stats_server_state(&app1), "draining");
    atomic_store(&app1.admin, ADMIN_DISABLE);
    cr_assert_str_eq(stats_server_state(&app1), "disabled");
    cr_assert_str_eq(stats_check_status(&app1), "pass");
    cr_assert_str_eq(stats_check_status(&spare), "none");
}

Test(stats, buffer_grows_for_long_output)
{
    struct stats_buf b;
    char big[5000];

    memset(big, 'x', sizeof(big) - 1);
    big[sizeof(big) - 1] = '\0';
    stats_buf_init(&b);
    stats_buf_printf(&b, "<%s>", big);
    stats_buf_printf(&b, "%d", 42);
    cr_assert_eq(b.len, sizeof(big) + 1 + 2);
    cr_assert_eq(b.data[0], '<');
    cr_assert_str_eq(b.data + sizeof(big), ">42");
    stats_buf_free(&b);
}

/* ---- Prometheus ----------------------------------------------------------------- */

static char *render_prom(void)
{
    return fixture_render(stats_prom_render, &rt, 13500);
}

static int name_char(char ch, int first)
{
    return isalpha((unsigned char)ch) || ch == '_' || ch == ':' ||
           (!first && isdigit((unsigned char)ch));
}

/* Checks one sample line `name{k="v",...} value`; copies the name out. */
static int prom_sample_valid(const char *line, char *name, size_t name_size)
{
    const char *p = line;
    size_t n = 0;

    if (!name_char(*p, 1))
        return 0;
    while (name_char(*p, 0) && n + 1 < name_size)
        name[n++] = *p++;
    name[n] = '\0';
    if (*p == '{') {
        p++;
        while (*p != '}') {
            if (!name_char(*p, 1))
                return 0;
            while (name_char(*p, 0))
                p++;
            if (*p++ != '=' || *p++ != '"')
                return 0;
            while (*p != '"') {
                if (*p == '\0' || *p == '\n')
                    return 0;
                if (*p == '\\') {
                    p++;
                    if (*p != '\\' && *p != '"' && *p != 'n')
                        return 0;
                }
                p++;
            }
            p++;
            if (*p == ',')
                p++;
            else if (*p != '}')
                return 0;
        }
        p++;
    }
    if (*p++ != ' ')
        return 0;
    char *end;
    strtod(p, &end);
    return end != p && *end == '\0';
}

Test(stats, prom_every_line_well_formed)
{
    char *text = render_prom();
    char *save = NULL;
    int lines = 0;

    cr_assert(text[strlen(text) - 1] == '\n');
    for (char *line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
        char name[128];
        lines++;
        if (line[0] == '#') {
            cr_assert(strncmp(line, "# HELP ", 7) == 0 || strncmp(line, "# TYPE ", 7) == 0,
                      "bad comment: %s", line);
            continue;
        }
        cr_assert(prom_sample_valid(line, name, sizeof(name)), "bad sample: %s", line);
    }
    cr_assert_gt(lines, 40);
    free(text);
}

Test(stats, prom_every_metric_has_help_and_type)
{
    static const char *const names[][2] = {
        { "proxy_requests_total", "counter" },
        { "proxy_connections_active", "gauge" },
        { "proxy_server_up", "gauge" },
        { "proxy_server_active_requests", "gauge" },
        { "proxy_server_requests_total", "counter" },
        { "proxy_server_responses_total", "counter" },
        { "proxy_server_failures_total", "counter" },
        { "proxy_server_check_local_errors_total", "counter" },
        { "proxy_pool_queued_requests", "gauge" },
        { "proxy_pool_standby_active", "gauge" },
        { "proxy_config_reloads_total", "counter" },
        { "proxy_request_duration_seconds", "histogram" },
    };
    char *text = render_prom();

    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
        char want[160];
        snprintf(want, sizeof(want), "\n# HELP %s ", names[i][0]);
        cr_assert(strstr(text, want) || strncmp(text, want + 1, strlen(want) - 1) == 0,
                  "no HELP for %s", names[i][0]);
        snprintf(want, sizeof(want), "# TYPE %s %s\n", names[i][0], names[i][1]);
        cr_assert(strstr(text, want), "no TYPE for %s", names[i][0]);
    }
    free(text);
}

Test(stats, prom_values)
{
    char *t = render_prom();

    fixture_assert_has(t, "\nproxy_connections_active 3\n");
    fixture_assert_has(t, "\nproxy_server_up{pool=\"web\",server=\"app1\"} 1\n");
    fixture_assert_has(t, "\nproxy_server_up{pool=\"web\",server=\"spare\"} 0\n");
    fixture_assert_has(t, "\nproxy_server_active_requests{pool=\"web\",server=\"app1\"} 1\n");
    fixture_assert_has(t, "\nproxy_server_requests_total{pool=\"web\",server=\"app2\"} 400\n");
    fixture_assert_has(t, "\nproxy_server_responses_total{pool=\"web\",server=\"app1\",code=\"2xx\"} 590\n");
    fixture_assert_has(t, "\nproxy_server_responses_total{pool=\"web\",server=\"app1\",code=\"5xx\"} 5\n");
    fixture_assert_has(t, "\nproxy_server_failures_total{pool=\"web\",server=\"app2\"} 3\n");
    fixture_assert_has(t, "\nproxy_server_check_local_errors_total{pool=\"web\",server=\"app2\"} 7\n");
    fixture_assert_has(t, "\nproxy_pool_queued_requests{pool=\"web\"} 4\n");
    fixture_assert_has(t, "\nproxy_pool_standby_active{pool=\"web\"} 0\n");
    fixture_assert_has(t, "\nproxy_config_reloads_total{result=\"ok\"} 2\n");
    fixture_assert_has(t, "\nproxy_config_reloads_total{result=\"failed\"} 1\n");
    fixture_assert_has(t, "\nproxy_faults_total{kind=\"server_conns_stray\"} 9\n");
    fixture_assert_has(t, "\nproxy_faults_total{kind=\"requests_not_replayed\"} 4\n");
    free(t);
}

Test(stats, prom_escapes_labels)
{
    char *t = render_prom();

    fixture_assert_has(t, "\nproxy_server_up{pool=\"o\\\"d\\\\d\\n\",server=\"s\\\"1\\\\x\\ny\t\"} 1\n");
    fixture_assert_has(t, "\nproxy_pool_standby_active{pool=\"o\\\"d\\\\d\\n\"} 1\n");
    free(t);
}

Test(stats, prom_histogram_is_cumulative)
{
    /* No pool: 1 ms, 30 ms, 30 ms, 20 s. */
    metrics_request_done(&metrics.latency_no_pool, 1000);
    metrics_request_done(&metrics.latency_no_pool, 30000);
    metrics_request_done(&metrics.latency_no_pool, 30000);
    metrics_request_done(&metrics.latency_no_pool, 20000000);
    char *t = render_prom();

    fixture_assert_has(t, "\nproxy_request_duration_seconds_bucket{pool=\"\",le=\"0.001\"} 1\n");
    fixture_assert_has(t, "\nproxy_request_duration_seconds_bucket{pool=\"\",le=\"0.025\"} 1\n");
    fixture_assert_has(t, "\nproxy_request_duration_seconds_bucket{pool=\"\",le=\"0.05\"} 3\n");
    fixture_assert_has(t, "\nproxy_request_duration_seconds_bucket{pool=\"\",le=\"10\"} 3\n");
    fixture_assert_has(t, "\nproxy_request_duration_seconds_bucket{pool=\"\",le=\"+Inf\"} 4\n");
    fixture_assert_has(t, "\nproxy_request_duration_seconds_sum{pool=\"\"} 20.061000\n");
    fixture_assert_has(t, "\nproxy_request_duration_seconds_count{pool=\"\"} 4\n");

    /* Bucket counts never decrease. */
    unsigned long long last = 0;
    int buckets = 0;
    for (const char *p = strstr(t, "proxy_request_duration_seconds_bucket{pool=\"\""); p;
         p = strstr(p + 1, "\nproxy_request_duration_seconds_bucket{pool=\"\"")) {
        unsigned long long v = strtoull(strchr(p, '}') + 2, NULL, 10);
        cr_assert_geq(v, last);
        last = v;
        buckets++;
    }
    cr_assert_eq(buckets, METRICS_LATENCY_BUCKETS + 1);
    free(t);
}

/* Issue 14: the histogram is per pool, and no series is a total of the
 * others (sum() over the series counts each request once). */
Test(stats, prom_histogram_per_pool)
{
    metrics_request_done(&rt.pools[0].shared->latency, 2000);
    metrics_request_done(&rt.pools[0].shared->latency, 2000);
    metrics_request_done(&metrics.latency_no_pool, 2000);
    char *t = render_prom();

    fixture_assert_has(t, "\nproxy_request_duration_seconds_count{pool=\"web\"} 2\n");
    fixture_assert_has(t, "\nproxy_request_duration_seconds_bucket{pool=\"web\",le=\"0.005\"} 2\n");
    fixture_assert_has(t, "\nproxy_request_duration_seconds_count{pool=\"\"} 1\n");
    fixture_assert_lacks(t, "\nproxy_request_duration_seconds_count ");
    fixture_assert_lacks(t, "\nproxy_request_duration_seconds_bucket{le=");
    free(t);
}

/* Every response a pool's clients got, by source: the proxy's own 503s
 * show up (issue 14: an outage answered by the proxy left the server 5xx
 * counts at 0). */
Test(stats, pool_responses_by_source)
{
    struct pool_shared *ps = rt.pools[0].shared;
    atomic_store(&ps->responses[RESP_FROM_SERVER][1], 40);
    atomic_store(&ps->responses[RESP_FROM_PROXY][4], 3);
    char *j = render_json();
    fixture_assert_has(j, "\"responses\":{\"server\":{\"1xx\":0,\"2xx\":40,\"3xx\":0,\"4xx\":0,\"5xx\":0},"
                          "\"proxy\":{\"1xx\":0,\"2xx\":0,\"3xx\":0,\"4xx\":0,\"5xx\":3}}");
    free(j);
    char *t = render_prom();
    fixture_assert_has(t, "\nproxy_responses_total{pool=\"web\",code=\"5xx\",source=\"proxy\"} 3\n");
    fixture_assert_has(t, "\nproxy_responses_total{pool=\"web\",code=\"2xx\",source=\"server\"} 40\n");
    free(t);
    atomic_store(&ps->responses[RESP_FROM_SERVER][1], 0);
    atomic_store(&ps->responses[RESP_FROM_PROXY][4], 0);
}

/* A server given by name shows the name in "host", and, before its name
 * resolves, no address, state down and why in its check's detail. */
Test(stats, server_given_by_name)
{
    struct runtime *r = fixture_runtime("listen 127.0.0.1:8080\npool web {\n server a app.test:8080\n}\n");
    struct server *a = pool_find_server(&r->pools[0], "a");
    struct stats_buf b;

    snprintf(a->check_detail, sizeof a->check_detail, "resolve: app.test: Domain name not found");
    stats_buf_init(&b);
    stats_json_server(&b, a, 1000);
    cr_assert(json_valid(b.data), "%s", b.data);
    fixture_assert_has(b.data, "{\"name\":\"a\",\"address\":\"\",\"role\":\"primary\",\"state\":\"down\",");
    fixture_assert_has(b.data, "\"host\":\"app.test\",\"check\":{");
    fixture_assert_has(b.data, "\"detail\":\"resolve: app.test: Domain name not found\"}");
    stats_buf_free(&b);
    runtime_release(r);
}

/* CONTRACT section 4: a server that stays across a reload (same pool, name
 * and address) keeps its state, health counters and statistics, whatever
 * else its line changes (weight); one whose address changed is a new server
 * (up, counters at 0), and so is a new name. */
Test(stats, reload_keeps_a_staying_server_and_its_counters)
{
    struct runtime *r1 = fixture_runtime("listen 127.0.0.1:8080\npool web {\n server a 127.0.0.1:1\n"
                                         " server b 127.0.0.1:2\n}\n");
    runtime_publish(r1);
    struct server *a = pool_find_server(&r1->pools[0], "a");
    struct server *b = pool_find_server(&r1->pools[0], "b");
    atomic_store(&a->state, SRV_DOWN);
    atomic_store(&a->requests, 600);
    atomic_store(&a->responses[1], 590);
    atomic_store(&a->failures, 5);
    a->check_status = CHECK_FAIL;
    a->check_consecutive = 4;
    atomic_store(&b->requests, 70);

    const char *text = "listen 127.0.0.1:8080\npool web {\n server a 127.0.0.1:1 weight 3\n"
                       " server b 127.0.0.1:3\n server c 127.0.0.1:4\n}\n";
    struct config *cfg = fixture_config("t.conf", text);
    struct runtime *r2 = runtime_build(cfg, r1);
    cr_assert_not_null(r2);
    runtime_publish(r2);

    struct server *a2 = pool_find_server(&r2->pools[0], "a");
    struct server *b2 = pool_find_server(&r2->pools[0], "b");
    struct server *c2 = pool_find_server(&r2->pools[0], "c");
    cr_assert_not_null(a2);
    cr_assert_eq(atomic_load(&a2->state), SRV_DOWN, "a kept server stays down");
    cr_assert_eq(atomic_load(&a2->requests), 600);
    cr_assert_eq(atomic_load(&a2->responses[1]), 590);
    cr_assert_eq(atomic_load(&a2->failures), 5);
    cr_assert_eq(a2->check_status, CHECK_FAIL);
    cr_assert_eq(a2->check_consecutive, 4);
    cr_assert_eq(atomic_load(&a2->weight), 3, "the new weight applies");
    cr_assert_not_null(b2);
    cr_assert_eq(atomic_load(&b2->requests), 0, "b moved to another address: a new server");
    cr_assert_eq(atomic_load(&b2->state), SRV_UP);
    cr_assert_not_null(c2);
    cr_assert_eq(atomic_load(&c2->requests), 0);
    cr_assert_eq(atomic_load(&c2->state), SRV_UP);

    char *j = fixture_render(stats_json_render, r2, 5000);
    fixture_assert_has(j, "\"name\":\"a\",\"address\":\"127.0.0.1:1\",\"role\":\"primary\","
                          "\"state\":\"down\",\"weight\":3,");
    fixture_assert_has(j, "\"requests\":600,");
    free(j);
    runtime_publish(NULL);
}
