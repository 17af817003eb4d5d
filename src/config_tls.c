/*
 * config_tls: the TLS part of the configuration language (CONTRACT 7): the
 * global `tls` settings, a listen line's options (`tls PATH [alpn LIST]
 * [client-ca FILE]`, `redirect https`, and `proxy-protocol` beside them)
 * and a pool's `tls ca|sni|cert`.
 *
 * Only words are checked here; whether the files hold usable certificates
 * is tls_ctx.c's question, asked by `proxy -t`, at start and at reload, so
 * that a bad certificate fails the same way on each path.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config_parser.h"

#define TLS_V12 0x0303u
#define TLS_V13 0x0304u

/* Mozilla's "intermediate" TLS 1.2 suites (ssl-config.mozilla.org, v5.7):
 * forward secrecy and AEAD only. */
#define TLS_DEFAULT_CIPHERS                                                                        \
    "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:ECDHE-ECDSA-AES256-GCM-SHA384:"     \
    "ECDHE-RSA-AES256-GCM-SHA384:ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305:"       \
    "DHE-RSA-AES128-GCM-SHA256:DHE-RSA-AES256-GCM-SHA384:DHE-RSA-CHACHA20-POLY1305"

void config_tls_defaults(struct config_tls *tls)
{
    tls->min_version = TLS_V12;
    tls->max_version = TLS_V13;
    snprintf(tls->ciphers, sizeof tls->ciphers, "%s", TLS_DEFAULT_CIPHERS);
    tls->ciphersuites[0] = '\0';
    tls->tickets = 1;
    tls->hsts_ms = 0;
}

/* A file named relative to the configuration file's directory, as an
 * operator reading the file expects (the proxy's working directory under
 * systemd is /). */
static int get_file(struct config_parser *p, int line, const char *what, const char *w, char *dst,
                    size_t cap)
{
    const char *slash = strrchr(p->file, '/');
    int n;

    if (w[0] == '\0') {
        config_perr(p, line, "%s: expected a file or directory path", what);
        return -1;
    }
    if (w[0] == '/' || !slash)
        n = snprintf(dst, cap, "%s", w);
    else
        n = snprintf(dst, cap, "%.*s/%s", (int)(slash - p->file), p->file, w);
    if (n < 0 || (size_t)n >= cap) {
        config_perr(p, line, "%s: path too long (at most %zu characters)", what, cap - 1);
        return -1;
    }
    return 0;
}

static int get_version(struct config_parser *p, int line, const char *w, unsigned *out)
{
    if (strcmp(w, "1.2") == 0)
        *out = TLS_V12;
    else if (strcmp(w, "1.3") == 0)
        *out = TLS_V13;
    else {
        config_perr(p, line, "tls protocols: expected 1.2 or 1.3, got \"%s\" (older versions are not offered)", w);
        return -1;
    }
    return 0;
}

static int get_on_off(struct config_parser *p, int line, const char *what, const char *w, int *out)
{
    if (strcmp(w, "on") == 0)
        *out = 1;
    else if (strcmp(w, "off") == 0)
        *out = 0;
    else {
        config_perr(p, line, "%s: expected on or off, got \"%s\"", what, w);
        return -1;
    }
    return 0;
}

int config_do_tls(struct config_parser *p, int line, int argc, char **argv)
{
    struct config_tls *tls = &p->cfg->tls;
    const char *key = argv[1];

    if (strcmp(key, "protocols") == 0) {
        unsigned lo, hi;
        if (argc != 4) {
            config_perr(p, line, "tls protocols: expected \"tls protocols LO HI\" (e.g. 1.2 1.3)");
            return -1;
        }
        if (get_version(p, line, argv[2], &lo) < 0 || get_version(p, line, argv[3], &hi) < 0)
            return -1;
        if (lo > hi) {
            config_perr(p, line, "tls protocols: the lowest version %s is above the highest %s", argv[2], argv[3]);
            return -1;
        }
        tls->min_version = lo;
        tls->max_version = hi;
        return 0;
    }
    if (argc != 3) {
        config_perr(p, line, "tls %s: expected one value", key);
        return -1;
    }
    if (strcmp(key, "ciphers") == 0)
        return config_get_string(p, line, "tls ciphers", argv[2], tls->ciphers, sizeof tls->ciphers);
    if (strcmp(key, "ciphersuites") == 0)
        return config_get_string(p, line, "tls ciphersuites", argv[2], tls->ciphersuites,
                                 sizeof tls->ciphersuites);
    if (strcmp(key, "tickets") == 0)
        return get_on_off(p, line, "tls tickets", argv[2], &tls->tickets);
    if (strcmp(key, "hsts") == 0) {
        if (config_get_duration(p, line, "tls hsts", argv[2], &tls->hsts_ms) < 0)
            return -1;
        /* max-age counts whole seconds: under one would be sent as
         * max-age=0, which tells browsers to forget HSTS, not to keep it. */
        if (tls->hsts_ms > 0 && tls->hsts_ms < 1000) {
            config_perr(p, line, "tls hsts: %s is under a second (max-age=0 would clear HSTS); give 1s or more, or 0s "
                        "for none", argv[2]);
            return -1;
        }
        return 0;
    }
    config_perr(p, line, "tls: unknown setting \"%s\" (expected protocols, ciphers, ciphersuites, tickets or hsts)",
                key);
    return -1;
}

int config_do_pool_tls(struct config_parser *p, int line, int argc, char **argv)
{
    struct config_pool_tls *tls = &config_cur_pool(p)->tls;
    const char *key = argv[1];

    (void)argc;
    if (!tls->on) {
        /* A pool that speaks TLS verifies its servers (against the
         * system's bundle unless `tls ca` names one) until told not to. */
        tls->on = 1;
        tls->verify = 1;
        tls->line = line;
    }
    if (strcmp(key, "ca") == 0) {
        if (strcmp(argv[2], "none") == 0) {
            tls->verify = 0;
            tls->ca[0] = '\0';
            return 0;
        }
        tls->verify = 1;
        return get_file(p, line, "tls ca", argv[2], tls->ca, sizeof tls->ca);
    }
    if (strcmp(key, "sni") == 0)
        return config_get_string(p, line, "tls sni", argv[2], tls->sni, sizeof tls->sni);
    if (strcmp(key, "cert") == 0)
        return get_file(p, line, "tls cert", argv[2], tls->cert, sizeof tls->cert);
    config_perr(p, line, "tls: unknown pool setting \"%s\" (expected ca, sni or cert)", key);
    return -1;
}

/* "h2,http/1.1": each a protocol this build can speak over TLS. */
static int get_alpn(struct config_parser *p, int line, const char *w, char *dst, size_t cap)
{
    char copy[CONFIG_ALPN_MAX];
    if (config_get_string(p, line, "listen alpn", w, copy, sizeof copy) < 0)
        return -1;
    for (char *save = NULL, *tok = strtok_r(copy, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
        if (strcmp(tok, "http/1.1") != 0 && strcmp(tok, "h2") != 0) {
            config_perr(p, line, "listen alpn: unknown protocol \"%s\" (expected h2 and/or http/1.1)", tok);
            return -1;
        }
    }
    snprintf(dst, cap, "%s", w);
    return 0;
}

int config_listen_options(struct config_parser *p, int line, struct config_listen *l, int argc, char **argv)
{
    for (int i = 0; i < argc; i++) {
        const char *w = argv[i];
        const char *next = i + 1 < argc ? argv[i + 1] : NULL;
        if (strcmp(w, "tls") == 0 && next) {
            if (get_file(p, line, "listen tls", next, l->tls_path, sizeof l->tls_path) < 0)
                return -1;
        } else if (strcmp(w, "alpn") == 0 && next) {
            if (get_alpn(p, line, next, l->alpn, sizeof l->alpn) < 0)
                return -1;
        } else if (strcmp(w, "client-ca") == 0 && next) {
            if (get_file(p, line, "listen client-ca", next, l->client_ca, sizeof l->client_ca) < 0)
                return -1;
        } else if (strcmp(w, "redirect") == 0 && next && strcmp(next, "https") == 0) {
            l->redirect_https = 1;
        } else if (strcmp(w, "proxy-protocol") == 0) {
            if (l->proxy_protocol) {
                config_perr(p, line, "listen: \"proxy-protocol\" given twice");
                return -1;
            }
            l->proxy_protocol = 1;
            continue; /* a flag: no value follows */
        } else if (strcmp(w, "defer-accept") == 0) {
            if (l->defer_accept) {
                config_perr(p, line, "listen: \"defer-accept\" given twice");
                return -1;
            }
            l->defer_accept = 1;
            continue;
        } else {
            config_perr(p, line, "listen: unexpected \"%s\" (expected tls PATH, alpn LIST, client-ca FILE, "
                                 "proxy-protocol, defer-accept or redirect https)",
                        w);
            return -1;
        }
        i++;
    }
    if ((l->alpn[0] || l->client_ca[0]) && !l->tls_path[0]) {
        config_perr(p, line, "listen: %s needs tls PATH on the same line", l->alpn[0] ? "alpn" : "client-ca");
        return -1;
    }
    if (l->redirect_https && l->tls_path[0]) {
        config_perr(p, line, "listen: redirect https on a TLS listener would redirect to itself");
        return -1;
    }
    /* CONTRACT 7: HTTP/2 first, HTTP/1.1 for the clients that lack it
     * (as nginx's `http2 on` and HAProxy's `alpn h2,http/1.1`). */
    if (l->tls_path[0] && !l->alpn[0])
        snprintf(l->alpn, sizeof l->alpn, "%s", CONFIG_ALPN_DEFAULT);
    return 0;
}

int config_listen_h2(const struct config_listen *l)
{
    if (l->redirect_https)
        return 0; /* every request answered 308 over HTTP/1.1 (conn_choose_h2) */
    return !l->tls_path[0] || strstr(l->alpn, "h2") != NULL;
}
