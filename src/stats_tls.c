/*
 * stats_tls: the listeners and certificates in /api/stats and /metrics
 * (CONTRACT 7 and 13): per listen address its connections and, for TLS,
 * its handshakes, whether it takes HTTP/2 and the HTTP/2 abuse cut on it
 * by reason; every certificate of the current generation with its
 * names, key type and expiry.
 */
#include "stats_tls.h"

#include <stdatomic.h>
#include <time.h>

#include "runtime.h"
#include "tls_certs.h"
#include "tls_ctx.h"

#define LOAD(x) atomic_load_explicit(&(x), memory_order_relaxed)

static void json_listener(struct stats_buf *b, const struct config_listen *l, const struct listener_counters *k)
{
    stats_buf_puts(b, "{\"address\":");
    stats_json_string(b, l->addr.text);
    stats_buf_printf(b, ",\"http2\":%s,\"http2_goaway\":{", config_listen_h2(l) ? "true" : "false");
    for (int r = 0; r < H2_ABUSE_REASONS; r++)
        stats_buf_printf(b, "%s\"%s\":%llu", r ? "," : "", metrics_h2_abuse_names[r],
                         k ? (unsigned long long)LOAD(k->h2_goaway[r]) : 0ull);
    stats_buf_printf(b, "},\"redirect_https\":%s", l->redirect_https ? "true" : "false");
    stats_buf_printf(b, ",\"connections\":{\"active\":%u,\"total\":%llu}", k ? LOAD(k->active) : 0u,
                     k ? (unsigned long long)LOAD(k->total) : 0ull);
    if (l->tls_path[0] && k)
        stats_buf_printf(b, ",\"tls\":{\"handshakes\":%llu,\"failed\":%llu,\"resumed\":%llu}",
                         (unsigned long long)LOAD(k->handshakes), (unsigned long long)LOAD(k->failed),
                         (unsigned long long)LOAD(k->resumed));
    else
        stats_buf_puts(b, ",\"tls\":null");
    stats_buf_puts(b, "}");
}

static void json_certificates(struct stats_buf *b, const struct runtime *rt, time_t now)
{
    const struct tls_set *set = rt->tls;
    int first = 1;
    stats_buf_puts(b, ",\"certificates\":[");
    for (size_t i = 0; set && i < set->nlistens; i++) {
        if (!set->stores[i])
            continue;
        for (size_t c = 0; c < tls_store_count(set->stores[i]); c++) {
            const struct tls_cert_info *ci = tls_store_info(set->stores[i], c);
            stats_buf_puts(b, first ? "{\"path\":" : ",{\"path\":");
            first = 0;
            stats_json_string(b, ci->path);
            stats_buf_puts(b, ",\"names\":[");
            for (size_t n = 0; n < ci->nnames; n++) {
                if (n)
                    stats_buf_puts(b, ",");
                stats_json_string(b, ci->names[n]);
            }
            stats_buf_puts(b, "],\"key_type\":");
            stats_json_string(b, ci->key_type);
            stats_buf_printf(b, ",\"not_after\":%lld,\"days_left\":%d}", (long long)ci->not_after,
                             tls_cert_days_left(ci, now));
        }
    }
    stats_buf_puts(b, "]");
}

void stats_json_listeners(struct stats_buf *b, const struct runtime *rt)
{
    /* days_left is wall-clock time, not the stats' monotonic now. */
    stats_buf_puts(b, ",\"listeners\":[");
    for (size_t i = 0; rt && rt->cfg && i < rt->cfg->nlistens; i++) {
        if (i)
            stats_buf_puts(b, ",");
        json_listener(b, &rt->cfg->listens[i], rt->tls && i < rt->tls->nlistens ? rt->tls->counters[i] : NULL);
    }
    stats_buf_puts(b, "]");
    if (rt)
        json_certificates(b, rt, time(NULL));
    else
        stats_buf_puts(b, ",\"certificates\":[]");
}

static void prom_handshakes(struct stats_buf *b, const char *address, const char *result, unsigned long long v)
{
    stats_buf_puts(b, "proxy_tls_handshakes_total{listener=\"");
    stats_prom_label(b, address);
    stats_buf_printf(b, "\",result=\"%s\"} %llu\n", result, v);
}

void stats_prom_listeners(struct stats_buf *b, const struct runtime *rt)
{
    const struct tls_set *set = rt ? rt->tls : NULL;
    if (!set)
        return;
    stats_prom_head(b, "proxy_listener_connections", "gauge", "Client connections open on a listen address.");
    for (size_t i = 0; i < set->nlistens; i++) {
        const struct listener_counters *k = set->counters[i];
        if (!k)
            continue;
        stats_buf_puts(b, "proxy_listener_connections{listener=\"");
        stats_prom_label(b, k->address);
        stats_buf_printf(b, "\"} %u\n", LOAD(k->active));
    }
    stats_prom_head(b, "proxy_tls_handshakes_total", "counter",
                    "TLS handshakes on a listener: ok (full), resumed, failed.");
    for (size_t i = 0; i < set->nlistens; i++) {
        const struct listener_counters *k = set->counters[i];
        if (!set->listen[i] || !k)
            continue;
        unsigned long long done = LOAD(k->handshakes), resumed = LOAD(k->resumed);
        prom_handshakes(b, k->address, "ok", done - (resumed < done ? resumed : done));
        prom_handshakes(b, k->address, "resumed", resumed);
        prom_handshakes(b, k->address, "failed", LOAD(k->failed));
    }
    stats_prom_head(b, "proxy_http2_goaway_total", "counter",
                    "HTTP/2 abuse cut on a listener, by reason: connections sent GOAWAY; for max_streams "
                    "and zero_window also the streams refused or reset.");
    for (size_t i = 0; rt->cfg && i < set->nlistens && i < rt->cfg->nlistens; i++) {
        const struct listener_counters *k = set->counters[i];
        if (!k || !config_listen_h2(&rt->cfg->listens[i]))
            continue;
        for (int r = 0; r < H2_ABUSE_REASONS; r++) {
            stats_buf_puts(b, "proxy_http2_goaway_total{listener=\"");
            stats_prom_label(b, k->address);
            stats_buf_printf(b, "\",reason=\"%s\"} %llu\n", metrics_h2_abuse_names[r],
                             (unsigned long long)LOAD(k->h2_goaway[r]));
        }
    }
    stats_prom_head(b, "proxy_tls_certificate_expiry_seconds", "gauge",
                    "When a certificate expires (Unix time), per file and name.");
    for (size_t i = 0; i < set->nlistens; i++) {
        if (!set->stores[i])
            continue;
        for (size_t c = 0; c < tls_store_count(set->stores[i]); c++) {
            const struct tls_cert_info *ci = tls_store_info(set->stores[i], c);
            for (size_t n = 0; n < ci->nnames; n++) {
                stats_buf_puts(b, "proxy_tls_certificate_expiry_seconds{path=\"");
                stats_prom_label(b, ci->path);
                stats_buf_puts(b, "\",name=\"");
                stats_prom_label(b, ci->names[n]);
                stats_buf_printf(b, "\"} %lld\n", (long long)ci->not_after);
            }
        }
    }
}
