/*
 * stats_admit: admission figures in /api/stats and /metrics (see
 * stats_admit.h).
 */
#include "stats_admit.h"

#include <stdio.h>

#include "admit.h"
#include "client_addr.h"

#define LOAD(x) atomic_load_explicit(&(x), memory_order_relaxed)

void stats_route_match(const struct config_route *r, char *out, size_t cap)
{
    if (r->is_default)
        snprintf(out, cap, "default");
    else if (r->host[0] && r->path[0])
        snprintf(out, cap, "host %s path %s", r->host, r->path);
    else if (r->host[0])
        snprintf(out, cap, "host %s", r->host);
    else if (r->path[0])
        snprintf(out, cap, "path %s", r->path);
    else
        snprintf(out, cap, "any");
}

static void json_limits(struct stats_buf *b, const struct runtime *rt)
{
    struct client_table *ct = admit_table_peek();
    struct client_table_stats st = {0};
    struct client_top top[STATS_TOP_LIMITED];
    size_t ntop = 0;
    uint64_t rate = LOAD(admit_counters.limited_rate), conns = LOAD(admit_counters.limited_conns);

    st.capacity = rt && rt->cfg ? rt->cfg->admit.clients : 0; /* what a table will hold once a limit makes one */
    if (ct) {
        client_table_stats(ct, &st);
        ntop = client_table_top_limited(ct, top, STATS_TOP_LIMITED);
    }
    stats_buf_printf(b,
                     ",\"limits\":{\"clients_tracked\":%llu,\"capacity\":%llu,\"evictions\":%llu,"
                     "\"limited_total\":%llu,\"limited\":{\"rate\":%llu,\"client_conns\":%llu},\"top_limited\":[",
                     (unsigned long long)st.tracked, (unsigned long long)st.capacity,
                     (unsigned long long)st.evictions, (unsigned long long)(rate + conns),
                     (unsigned long long)rate, (unsigned long long)conns);
    for (size_t i = 0; i < ntop; i++) {
        char text[CLIENT_TEXT_MAX];
        client_key_format(top[i].key, text, sizeof text);
        stats_buf_printf(b, "%s{\"client\":", i ? "," : "");
        stats_json_string(b, text);
        stats_buf_printf(b, ",\"limited\":%llu}", (unsigned long long)top[i].limited);
    }
    stats_buf_puts(b, "]}");
}

static void json_routes(struct stats_buf *b, const struct runtime *rt)
{
    stats_buf_puts(b, ",\"routes\":[");
    for (size_t i = 0; rt && i < rt->nroutes; i++) {
        const struct route *r = &rt->routes[i];
        char match[CONFIG_PATH_MAX + 300];
        stats_route_match(r->cfg, match, sizeof match);
        stats_buf_printf(b, "%s{\"match\":", i ? "," : "");
        stats_json_string(b, match);
        stats_buf_puts(b, ",\"pool\":");
        stats_json_string(b, r->pool->cfg->name);
        stats_buf_printf(b, ",\"priority\":\"%s\",\"requests\":%llu,\"limited\":%llu}",
                         config_priority_name(r->cfg->priority), (unsigned long long)LOAD(r->requests),
                         (unsigned long long)LOAD(r->limited));
    }
    stats_buf_puts(b, "]");
}

void stats_admit_json(struct stats_buf *b, const struct runtime *rt)
{
    json_limits(b, rt);
    json_routes(b, rt);
}

void stats_admit_prom(struct stats_buf *b, const struct runtime *rt)
{
    struct client_table *ct = admit_table_peek();
    struct client_table_stats st = {0};
    if (ct)
        client_table_stats(ct, &st);

    stats_buf_puts(b, "# HELP proxy_limited_total Requests and connections refused by a per-client limit, "
                      "by route (\"\" for connections, refused before any route) and reason.\n"
                      "# TYPE proxy_limited_total counter\n");
    for (size_t i = 0; rt && i < rt->nroutes; i++) {
        char match[CONFIG_PATH_MAX + 300];
        stats_route_match(rt->routes[i].cfg, match, sizeof match);
        stats_buf_puts(b, "proxy_limited_total{route=\"");
        stats_prom_label(b, match);
        stats_buf_printf(b, "\",reason=\"rate\"} %llu\n", (unsigned long long)LOAD(rt->routes[i].limited));
    }
    stats_buf_printf(b, "proxy_limited_total{route=\"\",reason=\"client-conns\"} %llu\n",
                     (unsigned long long)LOAD(admit_counters.limited_conns));
    stats_buf_printf(b,
                     "# HELP proxy_clients_tracked Clients (IPv4 addresses, IPv6 /64s) in the shared client table.\n"
                     "# TYPE proxy_clients_tracked gauge\nproxy_clients_tracked %llu\n"
                     "# HELP proxy_client_evictions_total Clients evicted from the full client table "
                     "(least recently seen first).\n"
                     "# TYPE proxy_client_evictions_total counter\nproxy_client_evictions_total %llu\n",
                     (unsigned long long)st.tracked, (unsigned long long)st.evictions);
}
