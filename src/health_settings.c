/*
 * health_settings: a check's settings from its pool's configuration (see
 * health_settings.h).
 */
#include "health_settings.h"

#include <openssl/ssl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "runtime.h"
#include "xprt.h"

void health_settings_free(struct check_settings *set)
{
    free(set->request);
    set->request = NULL;
    SSL_CTX_free(set->tls);
    set->tls = NULL;
}

int health_settings_from(struct check_settings *set, const struct config_pool *cp, SSL_CTX *tls,
                          const struct server *srv)
{
    const char *host = cp->check_host[0] ? cp->check_host : srv->addr.text;
    char named[CONFIG_HOST_MAX + 8];
    int n;

    if (!cp->check_host[0] && srv->host[0]) { /* the name, whatever it resolves to */
        snprintf(named, sizeof named, "%s:%u", srv->host, srv->port);
        host = named;
    }
    memset(set, 0, sizeof *set);
    set->kind = cp->check;
    set->expect_lo = cp->expect_lo;
    set->expect_hi = cp->expect_hi;
    set->interval_ms = cp->interval_ms ? cp->interval_ms : 2000;
    set->timeout_ms = cp->check_timeout_ms ? cp->check_timeout_ms : 1000;
    set->rise = cp->rise;
    set->fall = cp->fall;
    if (tls && SSL_CTX_up_ref(tls)) {
        set->tls = tls;
        set->verify = cp->tls.verify;
        /* As requests do: the pool's name, else the server's host name. */
        snprintf(set->sni, sizeof set->sni, "%s", cp->tls.sni[0] ? cp->tls.sni : srv->host);
    }
    set->send_proxy = cp->send_proxy;
    if (set->kind != CHECK_HTTP)
        return 0;
    n = asprintf(&set->request,
                 "GET %s HTTP/1.1\r\nHost: %s\r\nConnection: close\r\n"
                 "User-Agent: proxy-check\r\n\r\n",
                 cp->check_path[0] ? cp->check_path : "/", host);
    if (n < 0) {
        set->request = NULL;
        return -1;
    }
    set->request_len = (size_t)n;
    return 0;
}

/* A reload rebuilds every TLS context: two are the same settings when
 * they trust the same servers the same way (xprt.h), whatever their
 * address (compared by pointer, a TLS pool's checks restarted at every
 * reload, and reloads more often than `interval` kept them from ever
 * deciding). */
static uintptr_t tls_identity(const struct check_settings *s)
{
    return s->tls ? xprt_tls_ctx_fingerprint(s->tls) : 0;
}

int health_settings_equal(const struct check_settings *a, const struct check_settings *b)
{
    if (a->kind != b->kind || a->expect_lo != b->expect_lo || a->expect_hi != b->expect_hi ||
        a->interval_ms != b->interval_ms || a->timeout_ms != b->timeout_ms || a->rise != b->rise ||
        a->fall != b->fall || tls_identity(a) != tls_identity(b) || /* verify: in the fingerprint */
        strcmp(a->sni, b->sni) != 0 || a->send_proxy != b->send_proxy)
        return 0;
    if (!a->request || !b->request)
        return a->request == b->request;
    return strcmp(a->request, b->request) == 0;
}
