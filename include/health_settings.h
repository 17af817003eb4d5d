/*
 * health_settings: what a server's health check does, copied from its
 * pool's configuration so that it outlives that generation: the kind, the
 * HTTP request, expectations and timings, TLS and the PROXY header.
 * Main thread (health.c).
 */
#ifndef PROXY_HEALTH_SETTINGS_H
#define PROXY_HEALTH_SETTINGS_H

#include <stddef.h>
#include <stdint.h>

#include "config.h"

struct server;
struct ssl_ctx_st;

/* A pool's check settings, copied so that they outlive its config. */
struct check_settings {
    enum check_kind kind;
    char *request;              /* CHECK_HTTP: the whole request, else NULL */
    size_t request_len;
    unsigned expect_lo, expect_hi;
    uint64_t interval_ms;
    uint64_t timeout_ms;
    unsigned rise, fall;
    /* A pool that speaks TLS is checked over TLS: a TCP check passes when
     * the handshake (verification included) does. */
    struct ssl_ctx_st *tls;     /* a reference on the generation's context, or NULL */
    char sni[256];
    int verify;
    int send_proxy;             /* the pool's send-proxy version, 0 = none */
};

/* Fills *set from the pool's configuration for srv (tls: the pool's TLS
 * context in this generation, referenced, or NULL).  -1 when out of memory. */
int health_settings_from(struct check_settings *set, const struct config_pool *cp, struct ssl_ctx_st *tls,
                          const struct server *srv);
void health_settings_free(struct check_settings *set);
/* Whether a check made with a is the one b makes (a reload changed nothing). */
int health_settings_equal(const struct check_settings *a, const struct check_settings *b);

#endif
