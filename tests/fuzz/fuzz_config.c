/*
 * fuzz_config: config_parse over arbitrary bytes.
 *
 * Besides the sanitizers (no crash, no read past the text, no leak once
 * config_free and config_errors_clear ran), it aborts when the result breaks
 * the contract of config.h: a config comes back exactly when no error was
 * collected, every message names the file, and a returned config is
 * complete and consistent (a listen address, pools with servers, routes that
 * point at pools, values within their documented ranges, strings
 * terminated).  Parsing is deterministic: the same text without an error
 * list gives the same verdict.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(c)                                                                              \
    do {                                                                                      \
        if (!(c)) {                                                                           \
            fprintf(stderr, "fuzz_config: invariant failed: %s (%s:%d)\n", #c, __FILE__,       \
                    __LINE__);                                                                \
            abort();                                                                          \
        }                                                                                     \
    } while (0)

#define TERMINATED(a) (memchr((a), 0, sizeof(a)) != NULL)

static void check_addr(const struct config_addr *a)
{
    CHECK(TERMINATED(a->text));
    CHECK(a->text[0] != 0);
    CHECK(a->len > 0 && a->len <= sizeof a->sa);
    CHECK(a->sa.ss_family == AF_INET || a->sa.ss_family == AF_INET6);
}

static void check_config(const struct config *cfg)
{
    CHECK(cfg->file && strcmp(cfg->file, "fuzz.conf") == 0);
    CHECK(cfg->workers <= CONFIG_MAX_WORKERS);
    CHECK(cfg->log_level <= LOG_DEBUG);
    CHECK(TERMINATED(cfg->access_log) && TERMINATED(cfg->notify));
    CHECK(cfg->nlistens >= 1 && cfg->listens);
    for (size_t i = 0; i < cfg->nlistens; i++)
        check_addr(&cfg->listens[i].addr);
    if (cfg->has_stats) {
        check_addr(&cfg->stats_addr);
        for (size_t i = 0; i < cfg->nlistens; i++)
            CHECK(strcmp(cfg->stats_addr.text, cfg->listens[i].addr.text) != 0);
    }
    CHECK(TERMINATED(cfg->stats_token));
    CHECK(cfg->limit_header_size > 0);
    CHECK(cfg->limit_headers > 0);
    CHECK(cfg->npools >= 1 && cfg->pools);
    for (size_t i = 0; i < cfg->npools; i++) {
        const struct config_pool *p = &cfg->pools[i];
        CHECK(TERMINATED(p->name) && p->name[0]);
        CHECK(TERMINATED(p->check_path) && TERMINATED(p->check_host));
        CHECK(p->balance <= BALANCE_ROUND_ROBIN);
        CHECK(p->check <= CHECK_OFF);
        CHECK(p->expect_lo <= p->expect_hi);
        CHECK(p->nservers >= 1 && p->servers);
        for (size_t j = 0; j < i; j++)
            CHECK(strcmp(cfg->pools[j].name, p->name) != 0);
        for (size_t j = 0; j < p->nservers; j++) {
            const struct config_server *s = &p->servers[j];
            CHECK(TERMINATED(s->name) && s->name[0]);
            CHECK(s->role == ROLE_PRIMARY || s->role == ROLE_STANDBY);
            CHECK(s->weight >= 1 && s->weight <= 256);
            /* A literal IP, or NAME:PORT for resolve.c, its address unset
             * until then (server_address). */
            CHECK(TERMINATED(s->host));
            if (s->host[0])
                CHECK(s->addr.len == 0 && s->port >= 1 && s->port <= 65535);
            else
                check_addr(&s->addr);
        }
    }
    CHECK(cfg->nroutes >= 1 && cfg->routes);
    for (size_t i = 0; i < cfg->nroutes; i++) {
        const struct config_route *r = &cfg->routes[i];
        CHECK(r->pool < cfg->npools);
        CHECK(TERMINATED(r->host) && TERMINATED(r->path));
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct config_errors errs = { NULL, 0 };
    /* An exact-size heap copy: a read past the text is caught by ASan. */
    char *text = malloc(size ? size : 1);

    CHECK(text != NULL);
    if (size)
        memcpy(text, data, size);
    struct config *cfg = config_parse("fuzz.conf", text, size, &errs);
    if (cfg) {
        CHECK(errs.n == 0);
        check_config(cfg);
    } else {
        CHECK(errs.n >= 1 && errs.msgs);
        for (size_t i = 0; i < errs.n; i++)
            CHECK(errs.msgs[i] && strncmp(errs.msgs[i], "fuzz.conf", 9) == 0);
    }
    config_free(cfg);
    config_errors_clear(&errs);
    CHECK(errs.n == 0 && errs.msgs == NULL);
    config_errors_clear(&errs); /* twice is harmless */

    /* Without an error list: the same verdict, nothing leaked. */
    struct config *again = config_parse("fuzz.conf", text, size, NULL);
    CHECK((again != NULL) == (cfg != NULL));
    config_free(again);
    free(text);
    return 0;
}
