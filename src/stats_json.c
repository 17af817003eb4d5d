/*
 * stats_json: the /api/stats JSON and /metrics Prometheus documents (see
 * stats_json.h).  Everything here reads relaxed atomics: a document is a
 * snapshot that may be a few requests out of step between fields, which is
 * what monitoring expects.
 */
#include "stats_json.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "balance.h"
#include "health.h"
#include "metrics.h"
#include "stats_admit.h"
#include "stats_surge.h"
#include "stats_tls.h"
#include "worker.h"

#define LOAD(x) atomic_load_explicit(&(x), memory_order_relaxed)

static const char *const status_class_names[STATUS_CLASSES] = {
    "1xx", "2xx", "3xx", "4xx", "5xx",
};

/* A number JSON can carry: NaN and infinities become 0. */
static double finite_or_zero(double v)
{
    return isfinite(v) ? v : 0.0;
}

/* ---- names --------------------------------------------------------------------- */

const char *stats_server_state(const struct server *srv)
{
    int admin = LOAD(srv->admin);

    if (admin == ADMIN_DISABLE)
        return "disabled";
    if (admin == ADMIN_DRAIN)
        return "draining";
    return LOAD(srv->state) == SRV_UP ? "up" : "down";
}

const char *stats_check_status(const struct server *srv)
{
    return health_check_status_name(srv->check_status);
}

/* A runtime's pools always have their config and shared part (runtime.c). */
static const char *pool_name(const struct pool *pool)
{
    return pool->shared->name;
}

static int pool_queued(const struct pool *pool)
{
    int n = LOAD(pool->shared->queued);
    return n > 0 ? n : 0;
}

static int pool_standby_active(const struct pool *pool)
{
    return LOAD(pool->shared->standby_active) != 0;
}

/* Faults the proxy absorbed (README, HTTP behaviour): `faults` in the JSON,
 * proxy_faults_total{kind} in Prometheus, one list for both. */
static const struct {
    const char *name;
    const atomic_uint_fast64_t *value;
} fault_counters[] = {
    { "server_conns_stray", &metrics.server_conns_stray },
    { "requests_not_replayed", &metrics.requests_not_replayed },
    { "requests_abandoned", &metrics.requests_abandoned },
    { "interim_over_limit", &metrics.interim_over_limit },
    { "cut_client", &metrics.cut_client },
    { "cut_server", &metrics.cut_server },
    { "cut_shutdown", &metrics.cut_shutdown },
    { "proxy_protocol_invalid", &metrics.proxy_protocol_invalid },
};

/* ---- JSON ------------------------------------------------------------------------ */

void stats_json_server(struct stats_buf *b, const struct server *srv, uint64_t now)
{
    stats_buf_puts(b, "{\"name\":");
    stats_json_string(b, srv->name);
    stats_buf_puts(b, ",\"address\":");
    stats_json_string(b, srv->addr.text); /* given by name: what it resolves to now, "" for nothing */
    stats_buf_printf(b, ",\"role\":\"%s\",\"state\":\"%s\"",
                     config_role_name(srv->role), stats_server_state(srv));
    stats_buf_printf(b, ",\"weight\":%u,\"active\":%d,\"max_conns\":%u",
                     LOAD(srv->weight), LOAD(srv->active), LOAD(srv->max_conns));
    stats_buf_printf(b, ",\"requests\":%llu,\"rate\":%.3f,\"responses\":{",
                     (unsigned long long)LOAD(srv->requests),
                     finite_or_zero(rate_ring_rate(&srv->rate, now, 10)));
    for (int i = 0; i < STATUS_CLASSES; i++)
        stats_buf_printf(b, "%s\"%s\":%llu", i ? "," : "", status_class_names[i],
                         (unsigned long long)LOAD(srv->responses[i]));
    stats_buf_printf(b, "},\"failures\":%llu",
                     (unsigned long long)LOAD(srv->failures));
    stats_buf_puts(b, ",\"host\":"); /* the name it is given by, "" when by IP */
    stats_json_string(b, srv->host);
    stats_buf_printf(b, ",\"check\":{\"status\":\"%s\",\"consecutive\":%u,\"last_ms\":%.3f",
                     stats_check_status(srv), srv->check_consecutive,
                     finite_or_zero(srv->check_last_ms));
    stats_buf_printf(b, ",\"local_errors\":%llu,\"detail\":", srv->check_local_errors);
    stats_json_string(b, srv->check_detail);
    stats_buf_puts(b, "}");
    stats_buf_printf(b, ",\"removed\":%s}", LOAD(srv->removed) ? "true" : "false");
}

/* `,"rate":R,"rate_history":[...]` of a ring at `now`: the requests/s of
 * the last 10 whole seconds and the counts of the last 300, oldest first. */
static void json_rate(struct stats_buf *b, const struct rate_ring *r, uint64_t now)
{
    uint32_t hist[METRICS_RATE_HISTORY];

    rate_ring_history(r, now, hist, METRICS_RATE_HISTORY);
    stats_buf_printf(b, ",\"rate\":%.3f,\"rate_history\":[", finite_or_zero(rate_ring_rate(r, now, 10)));
    for (unsigned i = 0; i < METRICS_RATE_HISTORY; i++)
        stats_buf_printf(b, "%s%u", i ? "," : "", hist[i]);
    stats_buf_puts(b, "]");
}

/* Whether any server of the pool can take a request now (balance.c's
 * notion: up, not drained or disabled). */
static int pool_usable(const struct pool *pool)
{
    for (size_t i = 0; i < pool->nservers; i++)
        if (server_usable(pool->servers[i]))
            return 1;
    return 0;
}

static void json_pool(struct stats_buf *b, const struct pool *pool, uint64_t now,
                      struct server *const *removed, size_t nremoved)
{
    stats_buf_puts(b, "{\"name\":");
    stats_json_string(b, pool_name(pool));
    stats_buf_printf(b, ",\"balance\":\"%s\",\"standby_active\":%s,\"queued\":%d",
                     config_balance_name(pool->cfg->balance),
                     pool_standby_active(pool) ? "true" : "false", pool_queued(pool));
    stats_buf_printf(b, ",\"usable\":%s,\"requests\":%llu", pool_usable(pool) ? "true" : "false",
                     (unsigned long long)LOAD(pool->shared->requests));
    json_rate(b, &pool->shared->rate, now);
    stats_buf_puts(b, ",\"servers\":[");
    for (size_t i = 0; i < pool->nservers; i++) {
        if (i)
            stats_buf_append(b, ",", 1);
        stats_json_server(b, pool->servers[i], now);
    }
    /* Servers a reload removed, listed until their last request ends. */
    size_t listed = pool->nservers;
    for (size_t i = 0; i < nremoved; i++) {
        if (removed[i]->pool != pool->shared)
            continue;
        if (listed++)
            stats_buf_append(b, ",", 1);
        stats_json_server(b, removed[i], now);
    }
    stats_buf_puts(b, "]");
    /* What its clients got, from its servers and from the proxy itself. */
    static const char *const sources[2] = { "server", "proxy" };
    stats_buf_puts(b, ",\"responses\":{");
    for (int src = 0; src < 2; src++) {
        stats_buf_printf(b, "%s\"%s\":{", src ? "," : "", sources[src]);
        for (int c = 0; c < STATUS_CLASSES; c++)
            stats_buf_printf(b, "%s\"%s\":%llu", c ? "," : "", status_class_names[c],
                             (unsigned long long)LOAD(pool->shared->responses[src][c]));
        stats_buf_puts(b, "}");
    }
    stats_buf_puts(b, "}");
    /* Sticky sessions: the cookie's name (null when off) and what came of
     * the requests that carried it. */
    stats_buf_puts(b, ",\"sticky\":{\"cookie\":");
    if (pool->cfg->sticky_cookie[0])
        stats_json_string(b, pool->cfg->sticky_cookie);
    else
        stats_buf_puts(b, "null");
    stats_buf_printf(b, ",\"hits\":%llu,\"resticks\":%llu}", (unsigned long long)LOAD(pool->shared->sticky_hits),
                     (unsigned long long)LOAD(pool->shared->sticky_resticks));
    stats_buf_puts(b, "}");
}

static double uptime_s(uint64_t now)
{
    return now > metrics.start_ms ? (double)(now - metrics.start_ms) / 1000.0 : 0.0;
}

int stats_json_render(struct stats_buf *b, const struct runtime *rt, uint64_t now)
{
    stats_buf_printf(b, "{\"version\":\"%s\",\"uptime_s\":%.3f,\"workers\":%u",
                     STATS_VERSION, uptime_s(now), LOAD(metrics.workers));
    stats_buf_printf(b, ",\"generation\":%llu",
                     (unsigned long long)LOAD(metrics.generation));
    stats_buf_printf(b, ",\"reloads\":{\"ok\":%llu,\"failed\":%llu}",
                     (unsigned long long)LOAD(metrics.reloads_ok),
                     (unsigned long long)LOAD(metrics.reloads_failed));
    stats_buf_printf(b, ",\"connections\":{\"active\":%llu,\"total\":%llu,\"per_worker\":[",
                     (unsigned long long)LOAD(metrics.connections_active),
                     (unsigned long long)LOAD(metrics.connections_total));
    for (unsigned k = 0; k < workers_count(); k++)
        stats_buf_printf(b, "%s%u", k ? "," : "", worker_connections(k));
    stats_buf_printf(b, "],\"idle_closed_for_room\":%llu,\"http2\":%llu,\"http2_total\":%llu}",
                     (unsigned long long)LOAD(metrics.idle_closed_for_room),
                     (unsigned long long)LOAD(metrics.connections_http2),
                     (unsigned long long)LOAD(metrics.connections_http2_total));
    stats_buf_printf(b, ",\"streams\":{\"active\":%llu,\"total\":%llu,", (unsigned long long)LOAD(metrics.h2_streams_active),
                     (unsigned long long)LOAD(metrics.h2_streams_total));
    stats_buf_puts(b, "\"goaway\":{");
    for (int r = 0; r < H2_ABUSE_REASONS; r++)
        stats_buf_printf(b, "%s\"%s\":%llu", r ? "," : "", metrics_h2_abuse_names[r],
                         (unsigned long long)LOAD(metrics.h2_goaway[r]));
    stats_buf_puts(b, "}}");
    stats_buf_puts(b, ",\"faults\":{");
    for (size_t i = 0; i < sizeof fault_counters / sizeof fault_counters[0]; i++)
        stats_buf_printf(b, "%s\"%s\":%llu", i ? "," : "", fault_counters[i].name,
                         (unsigned long long)LOAD(*fault_counters[i].value));
    stats_buf_puts(b, "}");
    stats_buf_printf(b, ",\"requests\":{\"total\":%llu",
                     (unsigned long long)LOAD(metrics.requests_total));
    json_rate(b, &metrics.rate, now);
    stats_buf_puts(b, "},\"pools\":[");
    size_t nremoved = 0;
    struct server *const *removed = runtime_removed_servers(&nremoved);
    for (size_t i = 0; rt && i < rt->npools; i++) {
        if (i)
            stats_buf_append(b, ",", 1);
        json_pool(b, &rt->pools[i], now, removed, nremoved);
    }
    stats_buf_puts(b, "]");
    stats_json_listeners(b, rt);
    stats_json_traffic(b);
    stats_admit_json(b, rt);
    stats_buf_puts(b, "}\n");
    return b->oom ? -1 : 0;
}

/* ---- Prometheus ------------------------------------------------------------------- */

/* `name{pool="P",server="S"` - the caller closes the labels. */
static void prom_server_labels(struct stats_buf *b, const char *name,
                               const struct pool *pool, const struct server *srv)
{
    stats_buf_printf(b, "%s{pool=\"", name);
    stats_prom_label(b, pool_name(pool));
    stats_buf_puts(b, "\",server=\"");
    stats_prom_label(b, srv->name);
    stats_buf_puts(b, "\"");
}

/* Reads one per-server value: a function per metric keeps the loop over
 * pools and servers in one place. */
typedef unsigned long long (*server_value_fn)(const struct server *srv);

static unsigned long long srv_up(const struct server *srv)
{
    return LOAD(srv->state) == SRV_UP;
}

static unsigned long long srv_active(const struct server *srv)
{
    int n = LOAD(srv->active);
    return n > 0 ? (unsigned long long)n : 0;
}

static unsigned long long srv_requests(const struct server *srv)
{
    return LOAD(srv->requests);
}

static unsigned long long srv_failures(const struct server *srv)
{
    return LOAD(srv->failures);
}

static unsigned long long srv_check_local_errors(const struct server *srv)
{
    return srv->check_local_errors;
}

static void prom_per_server(struct stats_buf *b, const struct runtime *rt,
                            const char *name, const char *type, const char *help,
                            server_value_fn value)
{
    stats_prom_head(b, name, type, help);
    for (size_t p = 0; rt && p < rt->npools; p++) {
        const struct pool *pool = &rt->pools[p];
        for (size_t s = 0; s < pool->nservers; s++) {
            prom_server_labels(b, name, pool, pool->servers[s]);
            stats_buf_printf(b, "} %llu\n", value(pool->servers[s]));
        }
    }
}

static void prom_responses(struct stats_buf *b, const struct runtime *rt)
{
    const char *name = "proxy_server_responses_total";

    stats_prom_head(b, name, "counter", "Responses from a server by status class.");
    for (size_t p = 0; rt && p < rt->npools; p++) {
        const struct pool *pool = &rt->pools[p];
        for (size_t s = 0; s < pool->nservers; s++) {
            const struct server *srv = pool->servers[s];
            for (int c = 0; c < STATUS_CLASSES; c++) {
                prom_server_labels(b, name, pool, srv);
                stats_buf_printf(b, ",code=\"%s\"} %llu\n", status_class_names[c],
                                 (unsigned long long)LOAD(srv->responses[c]));
            }
        }
    }
}

/* Every response clients got, per pool, class and who made it: a proxy
 * answering 503 for a dead pool shows here (not in the server counts). */
static void prom_pool_responses(struct stats_buf *b, const struct runtime *rt)
{
    static const char *const sources[2] = { "server", "proxy" };
    const char *name = "proxy_responses_total";

    stats_prom_head(b, name, "counter", "Responses clients got, by pool, status class and source (server or proxy).");
    for (size_t p = 0; rt && p < rt->npools; p++) {
        const struct pool *pool = &rt->pools[p];
        for (int src = 0; src < 2; src++)
            for (int c = 0; c < STATUS_CLASSES; c++) {
                stats_buf_printf(b, "%s{pool=\"", name);
                stats_prom_label(b, pool_name(pool));
                stats_buf_printf(b, "\",code=\"%s\",source=\"%s\"} %llu\n", status_class_names[c],
                                 sources[src], (unsigned long long)LOAD(pool->shared->responses[src][c]));
            }
    }
}

/* Per sticky pool: responses from the server the cookie named (hit) and
 * cookies set anew for a request that carried one (restick). */
static void prom_sticky(struct stats_buf *b, const struct runtime *rt)
{
    const char *name = "proxy_sticky_total";

    stats_prom_head(b, name, "counter", "Requests with a pool's sticky cookie: served by its server (hit) or given a new one (restick).");
    for (size_t p = 0; rt && p < rt->npools; p++) {
        const struct pool *pool = &rt->pools[p];
        if (!pool->cfg->sticky_cookie[0])
            continue;
        stats_buf_printf(b, "%s{pool=\"", name);
        stats_prom_label(b, pool_name(pool));
        stats_buf_printf(b, "\",result=\"hit\"} %llu\n", (unsigned long long)LOAD(pool->shared->sticky_hits));
        stats_buf_printf(b, "%s{pool=\"", name);
        stats_prom_label(b, pool_name(pool));
        stats_buf_printf(b, "\",result=\"restick\"} %llu\n", (unsigned long long)LOAD(pool->shared->sticky_resticks));
    }
}

static void prom_per_pool(struct stats_buf *b, const struct runtime *rt, const char *name,
                          const char *help, int (*value)(const struct pool *pool))
{
    stats_prom_head(b, name, "gauge", help);
    for (size_t p = 0; rt && p < rt->npools; p++) {
        stats_buf_printf(b, "%s{pool=\"", name);
        stats_prom_label(b, pool_name(&rt->pools[p]));
        stats_buf_printf(b, "\"} %d\n", value(&rt->pools[p]));
    }
}

/* A metric with one unlabelled sample. */
static void prom_scalar(struct stats_buf *b, const char *name, const char *type,
                        const char *help, unsigned long long value)
{
    stats_prom_head(b, name, type, help);
    stats_buf_printf(b, "%s %llu\n", name, value);
}

static void prom_process(struct stats_buf *b, uint64_t now)
{
    prom_scalar(b, "proxy_requests_total", "counter", "Requests received from clients.",
                LOAD(metrics.requests_total));
    prom_scalar(b, "proxy_connections_active", "gauge", "Client connections open now.",
                LOAD(metrics.connections_active));
    prom_scalar(b, "proxy_connections_total", "counter", "Client connections accepted.",
                LOAD(metrics.connections_total));
    prom_scalar(b, "proxy_connections_http2", "gauge", "Client connections speaking HTTP/2 now.",
                LOAD(metrics.connections_http2));
    prom_scalar(b, "proxy_http2_streams_active", "gauge", "HTTP/2 streams open now.",
                LOAD(metrics.h2_streams_active));
    /* proxy_http2_goaway_total is per listener (stats_tls.c): a label-less
     * total beside it would count every cut twice in one family. */
    prom_scalar(b, "proxy_idle_closed_for_room_total", "counter",
                "Idle keep-alive client connections closed to make room for new clients.",
                LOAD(metrics.idle_closed_for_room));
    stats_prom_head(b, "proxy_worker_connections", "gauge", "Client connections each worker thread holds.");
    for (unsigned k = 0; k < workers_count(); k++)
        stats_buf_printf(b, "proxy_worker_connections{worker=\"%u\"} %u\n", k, worker_connections(k));
    stats_prom_head(b, "proxy_config_reloads_total", "counter",
              "Configuration reloads by result.");
    stats_buf_printf(b, "proxy_config_reloads_total{result=\"ok\"} %llu\n",
                     (unsigned long long)LOAD(metrics.reloads_ok));
    stats_buf_printf(b, "proxy_config_reloads_total{result=\"failed\"} %llu\n",
                     (unsigned long long)LOAD(metrics.reloads_failed));
    prom_scalar(b, "proxy_config_generation", "gauge",
                "Configuration generation in use (+1 at each successful reload).",
                LOAD(metrics.generation));
    stats_prom_head(b, "proxy_faults_total", "counter",
              "Faults absorbed: stray server bytes, requests not replayed, abandoned requests, excess 1xx.");
    for (size_t i = 0; i < sizeof fault_counters / sizeof fault_counters[0]; i++)
        stats_buf_printf(b, "proxy_faults_total{kind=\"%s\"} %llu\n", fault_counters[i].name,
                         (unsigned long long)LOAD(*fault_counters[i].value));
    stats_prom_head(b, "proxy_uptime_seconds", "gauge", "Seconds since the proxy started.");
    stats_buf_printf(b, "proxy_uptime_seconds %.3f\n", uptime_s(now));
}

/* One pool's series (pool="" for requests no pool took). */
static void prom_latency(struct stats_buf *b, const char *pool, const struct latency_hist *h)
{
    const char *name = "proxy_request_duration_seconds";
    unsigned long long cumulative = 0;

    for (int i = 0; i <= METRICS_LATENCY_BUCKETS; i++) {
        cumulative += LOAD(h->count[i]);
        stats_buf_printf(b, "%s_bucket{pool=\"", name);
        stats_prom_label(b, pool);
        if (i < METRICS_LATENCY_BUCKETS)
            stats_buf_printf(b, "\",le=\"%g\"} %llu\n", metrics_latency_bounds[i], cumulative);
        else
            stats_buf_printf(b, "\",le=\"+Inf\"} %llu\n", cumulative);
    }
    stats_buf_printf(b, "%s_sum{pool=\"", name);
    stats_prom_label(b, pool);
    stats_buf_printf(b, "\"} %.6f\n", (double)LOAD(h->sum_us) / 1e6);
    stats_buf_printf(b, "%s_count{pool=\"", name);
    stats_prom_label(b, pool);
    stats_buf_printf(b, "\"} %llu\n", cumulative);
}

/* Every series carries a pool label, so sum() over them counts each
 * request once (an unlabelled total beside labelled ones would count it
 * twice). */
static void prom_histogram(struct stats_buf *b, const struct runtime *rt)
{
    stats_prom_head(b, "proxy_request_duration_seconds", "histogram",
                    "Time from a request's head to the last byte of its response, per pool (\"\": no pool).");
    for (size_t i = 0; rt && i < rt->npools; i++)
        prom_latency(b, pool_name(&rt->pools[i]), &rt->pools[i].shared->latency);
    prom_latency(b, "", &metrics.latency_no_pool);
}

int stats_prom_render(struct stats_buf *b, const struct runtime *rt, uint64_t now)
{
    prom_process(b, now);
    prom_per_server(b, rt, "proxy_server_up", "gauge",
                    "1 when health checks consider a server up.", srv_up);
    prom_per_server(b, rt, "proxy_server_active_requests", "gauge",
                    "Requests in flight on a server.", srv_active);
    prom_per_server(b, rt, "proxy_server_requests_total", "counter",
                    "Requests sent to a server.", srv_requests);
    prom_responses(b, rt);
    prom_pool_responses(b, rt);
    prom_sticky(b, rt);
    prom_per_server(b, rt, "proxy_server_failures_total", "counter",
                    "Connect errors, resets and timeouts on a server.", srv_failures);
    prom_per_server(b, rt, "proxy_server_check_local_errors_total", "counter",
                    "Health checks not made for a local reason (out of fds or memory).",
                    srv_check_local_errors);
    prom_per_pool(b, rt, "proxy_pool_queued_requests",
                  "Requests waiting in a pool's queue for a free server.", pool_queued);
    prom_per_pool(b, rt, "proxy_pool_standby_active",
                  "1 while a pool's standby servers take traffic.", pool_standby_active);
    prom_per_pool(b, rt, "proxy_pool_usable",
                  "1 while a pool has a server that takes requests (up, not drained or disabled).",
                  pool_usable);
    prom_histogram(b, rt);
    stats_prom_listeners(b, rt);
    stats_admit_prom(b, rt);
    stats_prom_traffic(b);
    return b->oom ? -1 : 0;
}
