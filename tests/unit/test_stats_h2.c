/*
 * The HTTP/2 parts of the listeners in /api/stats and /metrics
 * (stats_tls.c, read in the whole documents): whether each listener takes
 * HTTP/2, and the abuse cut on it by reason (CONTRACT 8), one Prometheus
 * series per listener and reason, never a label-less total beside them.
 */
#include <criterion/criterion.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "fixtures.h"
#include "metrics.h"
#include "runtime.h"
#include "stats_json.h"
#include "tls_ctx.h"

static struct config cfg;
static struct config_listen listens[4];
static struct listener_counters counters[4];
static struct listener_counters *counter_ptrs[4];
static struct ssl_ctx_st *ctxs[4];
static const struct tls_store *stores[4];
static struct tls_set set;
static struct runtime rt;

static void listener(int i, const char *addr, const char *tls, const char *alpn, int redirect)
{
    snprintf(listens[i].addr.text, sizeof listens[i].addr.text, "%s", addr);
    snprintf(listens[i].tls_path, sizeof listens[i].tls_path, "%s", tls);
    snprintf(listens[i].alpn, sizeof listens[i].alpn, "%s", alpn);
    listens[i].redirect_https = redirect;
    snprintf(counters[i].address, sizeof counters[i].address, "%s", addr);
    counter_ptrs[i] = &counters[i];
}

static void build(void)
{
    memset(listens, 0, sizeof listens);
    memset(counters, 0, sizeof counters);
    listener(0, "127.0.0.1:8080", "", "", 0);                    /* prior knowledge */
    listener(1, "127.0.0.1:8443", "/etc/c.pem", "http/1.1", 0);  /* TLS without h2 */
    listener(2, "127.0.0.1:9443", "/etc/c.pem", "http/1.1,h2", 0);
    listener(3, "127.0.0.1:8081", "", "", 1);                    /* redirect https */
    atomic_store(&counters[0].h2_goaway[H2_ABUSE_SETTINGS], 2);
    atomic_store(&counters[2].h2_goaway[H2_ABUSE_ZERO_WINDOW], 5);
    atomic_store(&counters[2].h2_goaway[H2_ABUSE_PING], 3);
    memset(&cfg, 0, sizeof cfg);
    cfg.listens = listens;
    cfg.nlistens = 4;
    set = (struct tls_set){.nlistens = 4, .listen = ctxs, .counters = counter_ptrs, .stores = stores};
    memset(&rt, 0, sizeof rt);
    rt.cfg = &cfg;
    rt.tls = &set;
}

TestSuite(stats_h2, .init = build);

Test(stats_h2, listeners_say_whether_they_take_http2)
{
    char *j = fixture_render(stats_json_render, &rt, 1000);
    fixture_assert_has(j, "{\"address\":\"127.0.0.1:8080\",\"http2\":true,\"http2_goaway\":{\"resets\":0,"
                          "\"continuation\":0,\"flood\":0,\"settings\":2,\"hpack\":0,\"max_streams\":0,"
                          "\"zero_window\":0,\"ping\":0},\"redirect_https\":false");
    fixture_assert_has(j, "{\"address\":\"127.0.0.1:8443\",\"http2\":false,");
    fixture_assert_has(j, "{\"address\":\"127.0.0.1:9443\",\"http2\":true,");
    fixture_assert_has(j, "\"zero_window\":5,\"ping\":3},\"redirect_https\":false");
    fixture_assert_has(j, "{\"address\":\"127.0.0.1:8081\",\"http2\":false,");
    free(j);
}

Test(stats_h2, goaway_series_per_listener_and_reason)
{
    char *t = fixture_render(stats_prom_render, &rt, 1000);
    fixture_assert_has(t, "# TYPE proxy_http2_goaway_total counter\n");
    fixture_assert_has(t, "proxy_http2_goaway_total{listener=\"127.0.0.1:8080\",reason=\"settings\"} 2\n");
    fixture_assert_has(t, "proxy_http2_goaway_total{listener=\"127.0.0.1:9443\",reason=\"zero_window\"} 5\n");
    fixture_assert_has(t, "proxy_http2_goaway_total{listener=\"127.0.0.1:9443\",reason=\"ping\"} 3\n");
    fixture_assert_has(t, "proxy_http2_goaway_total{listener=\"127.0.0.1:8080\",reason=\"hpack\"} 0\n");
    /* Listeners that take no HTTP/2 have no series, nor is there a total. */
    fixture_assert_lacks(t, "proxy_http2_goaway_total{listener=\"127.0.0.1:8443\"");
    fixture_assert_lacks(t, "proxy_http2_goaway_total{listener=\"127.0.0.1:8081\"");
    fixture_assert_lacks(t, "proxy_http2_goaway_total{reason=");
    size_t n = fixture_count(t, "\nproxy_http2_goaway_total{");
    cr_assert_eq(n, 2 * H2_ABUSE_REASONS, "%zu series", n);
    free(t);
}

/* CONTRACT 8 and 13: the HTTP/2 figures and each listener's connections,
 * under their names in both documents (a renamed field breaks dashboards). */
Test(stats_h2, http2_connections_streams_and_listener_connections_in_both_documents)
{
    uint64_t h2 = atomic_load(&metrics.connections_http2), streams = atomic_load(&metrics.h2_streams_active);
    atomic_store(&metrics.connections_http2, 3);
    atomic_store(&metrics.h2_streams_active, 7);
    atomic_store(&counters[2].active, 4);
    atomic_store(&counters[2].total, 9);
    char *j = fixture_render(stats_json_render, &rt, 1000);
    char *t = fixture_render(stats_prom_render, &rt, 1000);
    atomic_store(&metrics.connections_http2, h2);
    atomic_store(&metrics.h2_streams_active, streams);
    fixture_assert_has(j, "\"http2\":3,");
    fixture_assert_has(j, "\"streams\":{\"active\":7,");
    fixture_assert_has(j, "\"connections\":{\"active\":4,\"total\":9}");
    fixture_assert_has(t, "\nproxy_connections_http2 3\n");
    fixture_assert_has(t, "\nproxy_http2_streams_active 7\n");
    fixture_assert_has(t, "\nproxy_listener_connections{listener=\"127.0.0.1:9443\"} 4\n");
    free(j);
    free(t);
}
