/*
 * fixtures: helpers shared by the unit tests (see fixtures.h).
 */
#include "fixtures.h"

#include <criterion/criterion.h>
#include <criterion/logging.h>
#include <openssl/ssl.h>
#include <string.h>
#include <time.h>

#include "config.h"
#include "stats_buf.h"
#include "tls_fixtures.h"
#include "tls_tickets.h"

struct runtime *fixture_runtime(const char *text)
{
    struct config_errors errs = { 0 };
    struct config *cfg = config_parse("t.conf", text, strlen(text), &errs);

    for (size_t i = 0; i < errs.n; i++)
        cr_log_error("config error: %s", errs.msgs[i]);
    cr_assert_not_null(cfg);
    config_errors_clear(&errs);
    struct runtime *rt = runtime_build(cfg, NULL);
    cr_assert_not_null(rt);
    return rt;
}

struct config *fixture_config(const char *file, const char *text)
{
    struct config_errors errs = { 0 };
    struct config *cfg = config_parse(file, text, strlen(text), &errs);

    for (size_t i = 0; i < errs.n; i++)
        cr_log_error("unexpected error: %s", errs.msgs[i]);
    cr_assert_not_null(cfg);
    config_errors_clear(&errs);
    return cfg;
}

void fixture_config_error(const char *file, const char *text, const char *want)
{
    struct config_errors errs = { 0 };
    struct config *cfg = config_parse(file, text, strlen(text), &errs);

    cr_assert_null(cfg);
    cr_assert_geq(errs.n, 1);
    cr_assert_str_eq(errs.msgs[0], want);
    config_errors_clear(&errs);
}

char *fixture_render(int (*render)(struct stats_buf *, const struct runtime *, uint64_t), const struct runtime *rt,
                     uint64_t now)
{
    struct stats_buf b;

    stats_buf_init(&b);
    cr_assert_eq(render(&b, rt, now), 0);
    cr_assert_not_null(b.data);
    return b.data;
}

size_t fixture_count(const char *text, const char *needle)
{
    size_t n = 0, len = strlen(needle);

    cr_assert_gt(len, 0);
    for (const char *p = text; (p = strstr(p, needle)); p += len)
        n++;
    return n;
}

SSL_CTX *fixture_tls_server_with_tickets(void)
{
    SSL_CTX *ctx = tlsfx_server_ctx();
    EVP_PKEY *key = tlsfx_key_ec("prime256v1");
    const char *const sans[] = { "DNS:shop.example", NULL };
    X509 *cert = tlsfx_cert(key, "shop.example", sans, time(NULL) + 86400);
    cr_assert(ctx && key && cert);
    cr_assert_eq(SSL_CTX_use_certificate(ctx, cert), 1);
    cr_assert_eq(SSL_CTX_use_PrivateKey(ctx, key), 1);
    X509_free(cert);
    EVP_PKEY_free(key);
    cr_assert_eq(tls_tickets_init(), 0);
    tls_tickets_attach(ctx);
    return ctx;
}
