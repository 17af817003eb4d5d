/*
 * stats_surge: the traffic and its surges in /api/stats and /metrics
 * (CONTRACT 10 and 13): the rate, its baseline, the surge if one is on,
 * distinct and new clients over the last 10 s, how the rate spreads over
 * clients (traffic.clients.rates, proxy_client_request_rate), the top
 * prefixes, paths and clients.  Read from surge_status(), which the main thread - the stats
 * port's thread - updates once a second.
 */
#include "stats_surge.h"

#include <math.h>

#include "surge.h"

/* "list":[{"name":KEY,"requests":N,"share":S},...] */
static void json_top(struct stats_buf *b, const char *list, const char *name, const struct traffic_top *top,
                     unsigned n)
{
    stats_buf_printf(b, "\"%s\":[", list);
    for (unsigned i = 0; i < n; i++) {
        stats_buf_printf(b, "%s{\"%s\":", i ? "," : "", name);
        stats_json_string(b, top[i].key);
        stats_buf_printf(b, ",\"requests\":%u,\"share\":%.4f}", top[i].count, top[i].share);
    }
    stats_buf_puts(b, "]");
}

/* ,"rates":{"window_s":10,"clients":N,"p50":R,...,"buckets":[{"le":R,"clients":N},...]}: the buckets
 * from the first to the last that holds a client. */
static void json_rates(struct stats_buf *b, const struct traffic_rates *r)
{
    int first = -1, last = -1;

    for (int i = 0; i < RATES_BUCKETS; i++)
        if (r->bucket[i]) {
            first = first < 0 ? i : first;
            last = i;
        }
    stats_buf_printf(b, ",\"rates\":{\"window_s\":%d,\"clients\":%llu,\"p50\":%.2f,\"p90\":%.2f,\"p99\":%.2f,"
                     "\"max\":%.2f,\"buckets\":[",
                     RATES_WINDOW_S, (unsigned long long)r->clients, r->p50, r->p90, r->p99, r->max);
    for (int i = first; first >= 0 && i <= last; i++)
        stats_buf_printf(b, "%s{\"le\":%.1f,\"clients\":%u}", i > first ? "," : "", rates_bucket_le((unsigned)i),
                         r->bucket[i]);
    stats_buf_puts(b, "]}");
}

void stats_json_traffic(struct stats_buf *b)
{
    const struct surge_status *st = surge_status();
    const struct surge_detector *d = &st->det;
    const struct traffic_view *v = &st->view;

    stats_buf_printf(b, ",\"traffic\":{\"rate\":%.1f,\"baseline\":%.2f,\"threshold\":%g,\"detection\":\"%s\"",
                     d->rate, d->baseline, d->cfg.threshold, st->off ? "off" : "on");
    stats_buf_printf(b, ",\"surge\":{\"active\":%s", d->active ? "true" : "false");
    if (d->active)
        stats_buf_printf(b, ",\"since\":%lld", (long long)st->since);
    else
        stats_buf_puts(b, ",\"since\":null");
    stats_buf_printf(b, ",\"ratio\":%.2f,\"shape\":\"%s\"}", d->ratio, traffic_shape_name(v->shape));
    /* How the rate spreads over clients: the mean, and the heaviest one
     * (a campaign: both low; a flood: a top rate far above the mean). */
    double mean_rate = v->distinct >= 1 ? st->rate_10s / v->distinct : 0.0;
    /* The heaviest client's share (the summaries lag a second or two) of
     * the current rate, so both figures are on the same seconds. */
    double top_rate = v->nclients ? v->clients[0].share * st->rate_10s : 0.0;
    stats_buf_printf(b, ",\"clients\":{\"distinct_10s\":%.0f,\"new_share\":%.4f,\"top10_share\":%.4f,"
                     "\"mean_rate\":%.2f,\"top_rate\":%.1f",
                     v->distinct, v->new_share, v->top_clients_share, mean_rate, top_rate);
    json_rates(b, &v->rates);
    stats_buf_puts(b, "}");
    stats_buf_printf(b, ",\"top\":{\"requests\":%llu,", (unsigned long long)v->requests);
    json_top(b, "prefixes", "prefix", v->prefixes, v->nprefixes);
    stats_buf_puts(b, ",");
    json_top(b, "paths", "path", v->paths, v->npaths);
    stats_buf_puts(b, ",");
    json_top(b, "clients", "client", v->clients, v->nclients);
    stats_buf_puts(b, "}}");
}

static void prom_gauge(struct stats_buf *b, const char *name, const char *help, double value)
{
    stats_prom_head(b, name, "gauge", help);
    stats_buf_printf(b, "%s %.6g\n", name, value);
}

void stats_prom_traffic(struct stats_buf *b)
{
    const struct surge_status *st = surge_status();
    const struct surge_detector *d = &st->det;
    const struct traffic_view *v = &st->view;

    prom_gauge(b, "proxy_surge_active", "1 while a traffic surge is on (rate over surge threshold x baseline).",
               d->active);
    stats_prom_head(b, "proxy_traffic_shape", "gauge",
                    "1 for the shape of the last 10 s of traffic: broad (a campaign) or concentrated (a flood).");
    stats_buf_printf(b, "proxy_traffic_shape{shape=\"broad\"} %d\n", v->shape == TRAFFIC_BROAD);
    stats_buf_printf(b, "proxy_traffic_shape{shape=\"concentrated\"} %d\n", v->shape == TRAFFIC_CONCENTRATED);
    prom_gauge(b, "proxy_request_rate", "Requests in the last whole second, every worker.", d->rate);
    prom_gauge(b, "proxy_request_rate_baseline", "The request rate's slow moving average (surge baseline).",
               d->baseline);
    prom_gauge(b, "proxy_clients_distinct", "Distinct client addresses over the last 10 s (estimate).",
               floor(v->distinct + 0.5));
    prom_gauge(b, "proxy_clients_new_ratio",
               "Share of the last 10 s's clients not seen in the 30 minutes before.", v->new_share);
    /* Every bucket, empty or not, so a series keeps its labels from one
     * scrape to the next. */
    const struct traffic_rates *r = &v->rates;
    stats_prom_head(b, "proxy_client_request_rate", "histogram",
                    "Clients by their request rate (requests/s) over the last complete 10 s window.");
    uint64_t below = 0;
    for (unsigned i = 0; i < RATES_BUCKETS; i++) {
        below += r->bucket[i];
        stats_buf_printf(b, "proxy_client_request_rate_bucket{le=\"%.1f\"} %llu\n", rates_bucket_le(i),
                         (unsigned long long)below);
    }
    stats_buf_printf(b, "proxy_client_request_rate_bucket{le=\"+Inf\"} %llu\n", (unsigned long long)r->clients);
    stats_buf_printf(b, "proxy_client_request_rate_sum %.1f\n", (double)r->requests / RATES_WINDOW_S);
    stats_buf_printf(b, "proxy_client_request_rate_count %llu\n", (unsigned long long)r->clients);
}
