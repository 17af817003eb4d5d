/*
 * The TLS part of the configuration language (config_tls.c): the listen
 * line's options, the global `tls` settings and a pool's `tls` lines.
 * Whether the files hold usable certificates is tls_ctx.c's, tested with
 * real files in the TLS scenarios.
 */
#include <criterion/criterion.h>
#include <string.h>

#include "config.h"
#include "fixtures.h"

#define POOL "\npool tail {\n server t1 127.0.0.1:9000\n}\n"

/* Messages name the file as an installed proxy's would. */
#define CONF "/etc/proxy/t.conf"

Test(config_tls, defaults_are_mozilla_intermediate)
{
    struct config *cfg = fixture_config(CONF, "listen 127.0.0.1:8443 tls certs/" POOL);
    cr_assert_eq(cfg->tls.min_version, 0x0303);
    cr_assert_eq(cfg->tls.max_version, 0x0304);
    cr_assert(strstr(cfg->tls.ciphers, "ECDHE-ECDSA-AES128-GCM-SHA256") == cfg->tls.ciphers);
    cr_assert_null(strstr(cfg->tls.ciphers, "CBC"));
    cr_assert_eq(cfg->tls.tickets, 1);
    cr_assert_eq(cfg->tls.hsts_ms, 0);
    /* A relative path is the configuration file's directory's. */
    cr_assert_str_eq(cfg->listens[0].tls_path, "/etc/proxy/certs/");
    /* CONTRACT 7: h2 first once HTTP/2 exists. */
    cr_assert_str_eq(cfg->listens[0].alpn, "h2,http/1.1");
    config_free(cfg);
}

Test(config_tls, listen_options)
{
    struct config *cfg = fixture_config(CONF, "listen 127.0.0.1:8443 tls /c/site.pem alpn h2,http/1.1 client-ca ca.pem\n"
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
    fixture_config_error(CONF, "listen 127.0.0.1:8443 tls" POOL,
                 "/etc/proxy/t.conf:1: listen: unexpected \"tls\" (expected tls PATH, alpn LIST, client-ca FILE, "
                 "proxy-protocol, defer-accept or redirect https)");
    fixture_config_error(CONF, "listen 127.0.0.1:8443 alpn http/1.1" POOL,
                 "/etc/proxy/t.conf:1: listen: alpn needs tls PATH on the same line");
    fixture_config_error(CONF, "listen 127.0.0.1:8443 tls a.pem alpn spdy/3" POOL,
                 "/etc/proxy/t.conf:1: listen alpn: unknown protocol \"spdy/3\" (expected h2 and/or http/1.1)");
    fixture_config_error(CONF, "listen 127.0.0.1:8443 tls a.pem redirect https" POOL,
                 "/etc/proxy/t.conf:1: listen: redirect https on a TLS listener would redirect to itself");
    fixture_config_error(CONF, "listen 127.0.0.1:8080 redirect http" POOL,
                 "/etc/proxy/t.conf:1: listen: unexpected \"redirect\" (expected tls PATH, alpn LIST, client-ca FILE, "
                 "proxy-protocol, defer-accept or redirect https)");
}

Test(config_tls, global_settings)
{
    struct config *cfg = fixture_config(CONF, "tls protocols 1.3 1.3\ntls ciphers ECDHE-RSA-AES128-GCM-SHA256\n"
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
    fixture_config_error(CONF, "tls protocols 1.1 1.3\nlisten 127.0.0.1:8080" POOL,
                 "/etc/proxy/t.conf:1: tls protocols: expected 1.2 or 1.3, got \"1.1\" (older versions are not "
                 "offered)");
    fixture_config_error(CONF, "tls protocols 1.3 1.2\nlisten 127.0.0.1:8080" POOL,
                 "/etc/proxy/t.conf:1: tls protocols: the lowest version 1.3 is above the highest 1.2");
    fixture_config_error(CONF, "tls tickets maybe\nlisten 127.0.0.1:8080" POOL,
                 "/etc/proxy/t.conf:1: tls tickets: expected on or off, got \"maybe\"");
    fixture_config_error(CONF, "tls ocsp on\nlisten 127.0.0.1:8080" POOL,
                 "/etc/proxy/t.conf:1: tls: unknown setting \"ocsp\" (expected protocols, ciphers, ciphersuites, "
                 "tickets or hsts)");
    fixture_config_error(CONF, "tls hsts 1.5d\nlisten 127.0.0.1:8080" POOL,
                 "/etc/proxy/t.conf:1: tls hsts: expected a duration, got \"1.5d\" (e.g. 250ms, 2s, 5m, 1h)");
    fixture_config_error(CONF, "tls hsts 500ms\nlisten 127.0.0.1:8080" POOL,
                 "/etc/proxy/t.conf:1: tls hsts: 500ms is under a second (max-age=0 would clear HSTS); give 1s or "
                 "more, or 0s for none");
}

Test(config_tls, pool_settings)
{
    struct config *cfg = fixture_config(CONF, "listen 127.0.0.1:8080\npool api {\n tls ca /ca.pem\n tls sni api.internal\n"
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
    fixture_config_error(CONF, "listen 127.0.0.1:8080\npool api {\n tls verify off\n server a 127.0.0.1:8443\n}\n",
                 "/etc/proxy/t.conf:3: tls: unknown pool setting \"verify\" (expected ca, sni or cert)");
    fixture_config_error(CONF, "listen 127.0.0.1:8080\npool api {\n tls sni a\n tls sni b\n server a 127.0.0.1:8443\n}\n",
                 "/etc/proxy/t.conf:4: duplicate \"tls sni\" (first defined at line 3)");
}
