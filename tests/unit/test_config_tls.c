/*
 * The TLS part of the configuration language (config_tls.c): the listen
 * line's options, the global `tls` settings and a pool's `tls` lines.
 * Whether the files hold usable certificates is tls_ctx.c's, tested with
 * real files in the TLS scenarios.
 */
#include <criterion/criterion.h>
#include <string.h>

#include "config.h"

#define POOL "\npool tail {\n server t1 127.0.0.1:9000\n}\n"

static struct config *parse(const char *text, struct config_errors *errs)
{
    return config_parse("/etc/proxy/t.conf", text, strlen(text), errs);
}

static struct config *parse_ok(const char *text)
{
    struct config_errors errs = {0};
    struct config *cfg = parse(text, &errs);
    for (size_t i = 0; i < errs.n; i++)
        cr_log_error("unexpected error: %s", errs.msgs[i]);
    cr_assert_not_null(cfg);
    config_errors_clear(&errs);
    return cfg;
}

static void expect_error(const char *text, const char *want)
{
    struct config_errors errs = {0};
    struct config *cfg = parse(text, &errs);
    cr_assert_null(cfg);
    cr_assert_geq(errs.n, 1);
    cr_assert_str_eq(errs.msgs[0], want);
    config_errors_clear(&errs);
}

Test(config_tls, defaults_are_mozilla_intermediate)
{
    struct config *cfg = parse_ok("listen 127.0.0.1:8443 tls certs/" POOL);
    cr_assert_eq(cfg->tls.min_version, 0x0303);
    cr_assert_eq(cfg->tls.max_version, 0x0304);
    cr_assert(strstr(cfg->tls.ciphers, "ECDHE-ECDSA-AES128-GCM-SHA256") == cfg->tls.ciphers);
    cr_assert_null(strstr(cfg->tls.ciphers, "CBC"));
    cr_assert_eq(cfg->tls.tickets, 1);
    cr_assert_eq(cfg->tls.hsts_ms, 0);
    /* A relative path is the configuration file's directory's. */
    cr_assert_str_eq(cfg->listens[0].tls_path, "/etc/proxy/certs/");
    cr_assert_str_eq(cfg->listens[0].alpn, "");
    config_free(cfg);
}

Test(config_tls, listen_options)
{
    struct config *cfg = parse_ok("listen 127.0.0.1:8443 tls /c/site.pem alpn h2,http/1.1 client-ca ca.pem\n"
                                  "listen 127.0.0.1:8080 redirect https" POOL);
    cr_assert_str_eq(cfg->listens[0].tls_path, "/c/site.pem");
    cr_assert_str_eq(cfg->listens[0].alpn, "h2,http/1.1");
    cr_assert_str_eq(cfg->listens[0].client_ca, "/etc/proxy/ca.pem");
    cr_assert_eq(cfg->listens[0].redirect_https, 0);
    cr_assert_eq(cfg->listens[1].redirect_https, 1);
    cr_assert_str_eq(cfg->listens[1].tls_path, "");
    config_free(cfg);
}

Test(config_tls, listen_option_errors)
{
    expect_error("listen 127.0.0.1:8443 tls" POOL,
                 "/etc/proxy/t.conf:1: listen: unexpected \"tls\" (expected tls PATH, alpn LIST, client-ca FILE, "
                 "proxy-protocol or redirect https)");
    expect_error("listen 127.0.0.1:8443 alpn http/1.1" POOL,
                 "/etc/proxy/t.conf:1: listen: alpn needs tls PATH on the same line");
    expect_error("listen 127.0.0.1:8443 tls a.pem alpn spdy/3" POOL,
                 "/etc/proxy/t.conf:1: listen alpn: unknown protocol \"spdy/3\" (expected h2 and/or http/1.1)");
    expect_error("listen 127.0.0.1:8443 tls a.pem redirect https" POOL,
                 "/etc/proxy/t.conf:1: listen: redirect https on a TLS listener would redirect to itself");
    expect_error("listen 127.0.0.1:8080 redirect http" POOL,
                 "/etc/proxy/t.conf:1: listen: unexpected \"redirect\" (expected tls PATH, alpn LIST, client-ca FILE, "
                 "proxy-protocol or redirect https)");
}

Test(config_tls, global_settings)
{
    struct config *cfg = parse_ok("tls protocols 1.3 1.3\ntls ciphers ECDHE-RSA-AES128-GCM-SHA256\n"
                                  "tls ciphersuites TLS_AES_128_GCM_SHA256\ntls tickets off\ntls hsts 180d\n"
                                  "listen 127.0.0.1:8443 tls a.pem" POOL);
    cr_assert_eq(cfg->tls.min_version, 0x0304);
    cr_assert_str_eq(cfg->tls.ciphers, "ECDHE-RSA-AES128-GCM-SHA256");
    cr_assert_str_eq(cfg->tls.ciphersuites, "TLS_AES_128_GCM_SHA256");
    cr_assert_eq(cfg->tls.tickets, 0);
    cr_assert_eq(cfg->tls.hsts_ms, 180ull * 86400 * 1000);
    config_free(cfg);
}

Test(config_tls, global_setting_errors)
{
    expect_error("tls protocols 1.1 1.3\nlisten 127.0.0.1:8080" POOL,
                 "/etc/proxy/t.conf:1: tls protocols: expected 1.2 or 1.3, got \"1.1\" (older versions are not "
                 "offered)");
    expect_error("tls protocols 1.3 1.2\nlisten 127.0.0.1:8080" POOL,
                 "/etc/proxy/t.conf:1: tls protocols: the lowest version 1.3 is above the highest 1.2");
    expect_error("tls tickets maybe\nlisten 127.0.0.1:8080" POOL,
                 "/etc/proxy/t.conf:1: tls tickets: expected on or off, got \"maybe\"");
    expect_error("tls ocsp on\nlisten 127.0.0.1:8080" POOL,
                 "/etc/proxy/t.conf:1: tls: unknown setting \"ocsp\" (expected protocols, ciphers, ciphersuites, "
                 "tickets or hsts)");
    expect_error("tls hsts 1.5d\nlisten 127.0.0.1:8080" POOL,
                 "/etc/proxy/t.conf:1: tls hsts: expected a duration, got \"1.5d\" (e.g. 250ms, 2s, 5m, 1h)");
}

Test(config_tls, pool_settings)
{
    struct config *cfg = parse_ok("listen 127.0.0.1:8080\npool api {\n tls ca /ca.pem\n tls sni api.internal\n"
                                  " tls cert client.pem\n server a 127.0.0.1:8443\n}\n"
                                  "pool open {\n tls ca none\n server b 127.0.0.1:8444\n}\n"
                                  "pool plain {\n server c 127.0.0.1:8080\n}\nroute default pool api\n");
    cr_assert_eq(cfg->pools[0].tls.on, 1);
    cr_assert_eq(cfg->pools[0].tls.verify, 1);
    cr_assert_str_eq(cfg->pools[0].tls.ca, "/ca.pem");
    cr_assert_str_eq(cfg->pools[0].tls.sni, "api.internal");
    cr_assert_str_eq(cfg->pools[0].tls.cert, "/etc/proxy/client.pem");
    cr_assert_eq(cfg->pools[1].tls.on, 1);
    cr_assert_eq(cfg->pools[1].tls.verify, 0);
    cr_assert_eq(cfg->pools[2].tls.on, 0);
    config_free(cfg);
}

Test(config_tls, pool_setting_errors)
{
    expect_error("listen 127.0.0.1:8080\npool api {\n tls verify off\n server a 127.0.0.1:8443\n}\n",
                 "/etc/proxy/t.conf:3: tls: unknown pool setting \"verify\" (expected ca, sni or cert)");
    expect_error("listen 127.0.0.1:8080\npool api {\n tls sni a\n tls sni b\n server a 127.0.0.1:8443\n}\n",
                 "/etc/proxy/t.conf:4: duplicate \"tls sni\" (first defined at line 3)");
}
