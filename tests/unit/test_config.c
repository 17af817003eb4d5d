/*
 * Unit tests of the configuration language: every directive, its defaults,
 * and every error message, asserted word for word (operators read them).
 */
#include <criterion/criterion.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "config.h"

/* A valid tail, for tests about one directive: errors then come only from
 * the lines under test, which are numbered from 1. */
#define TAIL "\nlisten 127.0.0.1:8080\npool tail {\n server t1 127.0.0.1:9000\n}\n"

static struct config *parse(const char *text, struct config_errors *errs)
{
    return config_parse("t.conf", text, strlen(text), errs);
}

static struct config *parse_ok(const char *text)
{
    struct config_errors errs = { 0 };
    struct config *cfg = parse(text, &errs);

    for (size_t i = 0; i < errs.n; i++)
        cr_log_error("unexpected error: %s", errs.msgs[i]);
    cr_assert_not_null(cfg);
    cr_assert_eq(errs.n, 0);
    config_errors_clear(&errs);
    return cfg;
}

/* Asserts that `text` fails with exactly the messages given, in order. */
static void expect_errors(const char *text, const char *const *want, size_t n)
{
    struct config_errors errs = { 0 };
    struct config *cfg = parse(text, &errs);

    cr_assert_null(cfg);
    for (size_t i = 0; i < errs.n; i++)
        cr_log_info("got: %s", errs.msgs[i]);
    cr_assert_eq(errs.n, n, "expected %zu errors, got %zu", n, errs.n);
    for (size_t i = 0; i < n; i++)
        cr_assert_str_eq(errs.msgs[i], want[i]);
    config_errors_clear(&errs);
}

static void expect_error(const char *text, const char *want)
{
    expect_errors(text, &want, 1);
}

/* ---- defaults and every directive ---------------------------------------- */

Test(config, defaults)
{
    struct config *cfg = parse_ok("listen 127.0.0.1:8080\npool web {\nserver a 127.0.0.1:9001\n}\n");

    cr_assert_str_eq(cfg->file, "t.conf");
    cr_assert_eq(cfg->workers, 0);
    cr_assert_eq(cfg->max_conns, 10000);
    cr_assert_eq(cfg->log_level, LOG_INFO);
    cr_assert_str_eq(cfg->access_log, "stderr");
    cr_assert_str_eq(cfg->notify, "");
    cr_assert_eq(cfg->has_stats, 0);
    cr_assert_str_eq(cfg->stats_token, "");
    cr_assert_eq(cfg->timeout_connect_ms, 2000);
    cr_assert_eq(cfg->timeout_client_ms, 10000);
    cr_assert_eq(cfg->timeout_keep_alive_ms, 60000);
    cr_assert_eq(cfg->timeout_server_ms, 30000);
    cr_assert_eq(cfg->timeout_queue_ms, 5000);
    cr_assert_eq(cfg->timeout_shutdown_ms, 30000);
    cr_assert_eq(cfg->limit_header_size, 16384);
    cr_assert_eq(cfg->limit_headers, 100);
    cr_assert_eq(cfg->limit_body_size, 0);
    /* The rest of README's configuration reference, default by default. */
    cr_assert_eq(cfg->cpu_affinity, 0);
    cr_assert_eq(cfg->cpu_yield, 1);
    cr_assert_eq(cfg->normalize_path, 0);
    cr_assert_str_eq(cfg->user, "");
    cr_assert_str_eq(cfg->sticky_secret, "");
    cr_assert_eq(cfg->resolve_interval_ms, 30000);
    cr_assert_eq(cfg->limit_response_header_size, 16384);
    cr_assert_eq(cfg->h2_max_streams, 100);
    cr_assert_eq(cfg->h2_window, 65536);
    cr_assert_eq(cfg->h2_max_resets, 200);
    cr_assert_eq(cfg->tls.min_version, 0x0303);
    cr_assert_eq(cfg->tls.max_version, 0x0304);
    cr_assert_str_eq(cfg->tls.ciphersuites, "", "TLS 1.3 suites: OpenSSL's");
    cr_assert_eq(cfg->tls.tickets, 1);
    cr_assert_eq(cfg->tls.hsts_ms, 0);
    cr_assert_eq(cfg->admit.rate_interval_ns, 0, "limit rate: off");
    cr_assert_eq(cfg->admit.client_conns, 0, "limit client-conns: off");
    cr_assert_eq(cfg->admit.clients, 65536, "limit clients");
    cr_assert_eq(cfg->admit.ntrust, 0);
    cr_assert_str_eq(cfg->admit.client_ip_header, "");
    cr_assert_eq(cfg->admit.nclient_ip_from, 0);
    for (int i = 0; i < CONFIG_ERROR_PAGES; i++)
        cr_assert_eq(cfg->admit.error_pages[i].status, 0, "no error page: the short text");
    cr_assert_eq(cfg->surge.enabled, 1);
    cr_assert_float_eq(cfg->surge.threshold, 3.0, 1e-9);
    cr_assert_eq(cfg->surge.hold_ms, 10000);
    cr_assert_float_eq(cfg->surge.min_rate, 20.0, 1e-9);
    cr_assert_eq(cfg->surge.baseline_ms, 1800000);
    cr_assert_eq(cfg->nlistens, 1);
    cr_assert_str_eq(cfg->listens[0].tls_path, "");
    cr_assert_str_eq(cfg->listens[0].alpn, "");
    cr_assert_eq(cfg->listens[0].redirect_https, 0);
    cr_assert_eq(cfg->listens[0].proxy_protocol, 0);
    cr_assert_eq(cfg->listens[0].defer_accept, 0);

    cr_assert_eq(cfg->npools, 1);
    struct config_pool *p = &cfg->pools[0];
    cr_assert_str_eq(p->name, "web");
    cr_assert_eq(p->line, 2);
    cr_assert_eq(p->balance, BALANCE_LEAST_CONN);
    cr_assert_eq(p->check, CHECK_TCP);
    cr_assert_str_eq(p->check_path, "/");
    cr_assert_str_eq(p->check_host, "");
    cr_assert_eq(p->expect_lo, 200);
    cr_assert_eq(p->expect_hi, 399);
    cr_assert_eq(p->interval_ms, 2000);
    cr_assert_eq(p->check_timeout_ms, 1000);
    cr_assert_eq(p->rise, 2);
    cr_assert_eq(p->fall, 3);
    cr_assert_eq(p->standby_below, 1);
    cr_assert_eq(p->slow_start_ms, 0);
    cr_assert_eq(p->retries, 2);
    cr_assert_eq(p->max_queue, 1000);
    cr_assert_eq(p->ignore_client_abort, 0);
    cr_assert_eq(p->on_down_shutdown, 0);
    cr_assert_str_eq(p->sticky_cookie, "");
    cr_assert_eq(p->sticky_max_age_ms, 0);
    cr_assert_eq(p->send_proxy, 0);
    cr_assert_eq(p->tls.on, 0, "no tls line: plaintext to the servers");
    cr_assert_eq(p->nservers, 1);
    cr_assert_str_eq(p->servers[0].name, "a");
    cr_assert_str_eq(p->servers[0].addr.text, "127.0.0.1:9001");
    cr_assert_eq(p->servers[0].role, ROLE_PRIMARY);
    cr_assert_eq(p->servers[0].weight, 1);
    cr_assert_eq(p->servers[0].max_conns, 0);
    cr_assert_eq(p->servers[0].line, 3);

    /* One pool and no route: one default route to it. */
    cr_assert_eq(cfg->nroutes, 1);
    cr_assert_eq(cfg->routes[0].is_default, 1);
    cr_assert_eq(cfg->routes[0].pool, 0);
    cr_assert_str_eq(cfg->routes[0].host, "");
    cr_assert_str_eq(cfg->routes[0].path, "");
    cr_assert_eq(cfg->routes[0].priority, PRIO_NORMAL);
    config_free(cfg);
}

Test(config, top_level_directives)
{
    struct config *cfg = parse_ok(
        "workers 4\n"
        "max-conns 500\n"
        "log-level debug\n"
        "access-log /var/log/proxy/access.log\n"
        "notify /usr/local/bin/on-event\n"
        "listen 127.0.0.1:8080\n"
        "listen [::1]:8081\n"
        "stats 127.0.0.1:8404 token \"s3cret token\"\n"
        "timeout connect 250ms\n"
        "timeout client 3s\n"
        "timeout keep-alive 5m\n"
        "timeout server 1h\n"
        "timeout queue 100ms\n"
        "timeout shutdown 0s\n"
        "limit header-size 8K\n"
        "limit headers 50\n"
        "limit body-size 1m\n"
        "pool web {\n server a 127.0.0.1:9001\n}\n");

    cr_assert_eq(cfg->workers, 4);
    cr_assert_eq(cfg->max_conns, 500);
    cr_assert_eq(cfg->log_level, LOG_DEBUG);
    cr_assert_str_eq(cfg->access_log, "/var/log/proxy/access.log");
    cr_assert_str_eq(cfg->notify, "/usr/local/bin/on-event");
    cr_assert_eq(cfg->nlistens, 2);
    cr_assert_str_eq(cfg->listens[0].addr.text, "127.0.0.1:8080");
    cr_assert_eq(cfg->listens[0].line, 6);
    cr_assert_str_eq(cfg->listens[1].addr.text, "[::1]:8081");
    cr_assert_eq(cfg->listens[1].addr.sa.ss_family, AF_INET6);
    cr_assert_eq(cfg->listens[1].addr.len, sizeof(struct sockaddr_in6));
    cr_assert_eq(cfg->has_stats, 1);
    cr_assert_str_eq(cfg->stats_addr.text, "127.0.0.1:8404");
    cr_assert_str_eq(cfg->stats_token, "s3cret token");
    cr_assert_eq(cfg->timeout_connect_ms, 250);
    cr_assert_eq(cfg->timeout_client_ms, 3000);
    cr_assert_eq(cfg->timeout_keep_alive_ms, 300000);
    cr_assert_eq(cfg->timeout_server_ms, 3600000);
    cr_assert_eq(cfg->timeout_queue_ms, 100);
    cr_assert_eq(cfg->timeout_shutdown_ms, 0);
    cr_assert_eq(cfg->limit_header_size, 8192);
    cr_assert_eq(cfg->limit_headers, 50);
    cr_assert_eq(cfg->limit_body_size, 1048576);
    config_free(cfg);
}

/* The auto|off directives: their default, both values, and the error for
 * anything else. */
Test(config, auto_off_directives)
{
    static const struct {
        const char *name;
        size_t field;
        int default_value;
    } cases[] = {
        { "cpu-affinity", offsetof(struct config, cpu_affinity), 0 },
        { "cpu-yield", offsetof(struct config, cpu_yield), 1 },
    };
    char text[128], msg[160];

    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct config *cfg = parse_ok("workers 2" TAIL);
        cr_assert_eq(*(int *)((char *)cfg + cases[i].field), cases[i].default_value, "%s default", cases[i].name);
        config_free(cfg);
        for (int on = 0; on <= 1; on++) {
            snprintf(text, sizeof text, "%s %s" TAIL, cases[i].name, on ? "auto" : "off");
            cfg = parse_ok(text);
            cr_assert_eq(*(int *)((char *)cfg + cases[i].field), on, "%s", text);
            config_free(cfg);
        }
        snprintf(text, sizeof text, "%s yes" TAIL, cases[i].name);
        snprintf(msg, sizeof msg, "t.conf:1: %s: expected auto or off, got \"yes\"", cases[i].name);
        expect_error(text, msg);
    }
}

Test(config, workers_auto_and_levels)
{
    static const char *levels[] = { "error", "warn", "info", "debug" };
    char text[256];

    for (int i = 0; i < 4; i++) {
        snprintf(text, sizeof(text), "workers auto\nlog-level %s\naccess-log off" TAIL,
                 levels[i]);
        struct config *cfg = parse_ok(text);
        cr_assert_eq(cfg->workers, 0);
        cr_assert_eq(cfg->log_level, (enum log_level)i);
        cr_assert_str_eq(cfg->access_log, "off");
        config_free(cfg);
    }
    struct config *cfg = parse_ok("workers 64\nstats 127.0.0.1:8404" TAIL);
    cr_assert_eq(cfg->workers, 64);
    cr_assert_eq(cfg->has_stats, 1);
    cr_assert_str_eq(cfg->stats_token, "");
    config_free(cfg);
}

Test(config, pool_directives)
{
    struct config *cfg = parse_ok(
        "listen 127.0.0.1:8080\n"
        "pool web {\n"
        "    balance round-robin\n"
        "    check http /healthz host app.internal\n"
        "    expect 200-204\n"
        "    interval 500ms\n"
        "    check-timeout 250ms\n"
        "    rise 5\n"
        "    fall 1\n"
        "    standby-below 2\n"
        "    slow-start 30s\n"
        "    retries 0\n"
        "    max-queue 0\n"
        "    ignore-client-abort on\n"
        "    on-down shutdown\n"
        "    server app1 127.0.0.1:9001 weight 2 max-conns 200\n"
        "    server app2 localhost:9002 max-conns 7 weight 256\n"
        "    standby spare1 127.0.0.1:9003\n"
        "    standby spare2 [::1]:9004 weight 3\n"
        "}\n");
    struct config_pool *p = &cfg->pools[0];

    cr_assert_eq(p->balance, BALANCE_ROUND_ROBIN);
    cr_assert_eq(p->check, CHECK_HTTP);
    cr_assert_str_eq(p->check_path, "/healthz");
    cr_assert_str_eq(p->check_host, "app.internal");
    cr_assert_eq(p->expect_lo, 200);
    cr_assert_eq(p->expect_hi, 204);
    cr_assert_eq(p->interval_ms, 500);
    cr_assert_eq(p->check_timeout_ms, 250);
    cr_assert_eq(p->rise, 5);
    cr_assert_eq(p->fall, 1);
    cr_assert_eq(p->standby_below, 2);
    cr_assert_eq(p->slow_start_ms, 30000);
    cr_assert_eq(p->retries, 0);
    cr_assert_eq(p->max_queue, 0);
    cr_assert_eq(p->ignore_client_abort, 1);
    cr_assert_eq(p->on_down_shutdown, 1);
    cr_assert_eq(p->nservers, 4);
    cr_assert_eq(p->servers[0].weight, 2);
    cr_assert_eq(p->servers[0].max_conns, 200);
    cr_assert_eq(p->servers[0].role, ROLE_PRIMARY);
    cr_assert_str_eq(p->servers[1].addr.text, "127.0.0.1:9002");
    cr_assert_eq(p->servers[1].weight, 256);
    cr_assert_eq(p->servers[1].max_conns, 7);
    cr_assert_str_eq(p->servers[2].name, "spare1");
    cr_assert_eq(p->servers[2].role, ROLE_STANDBY);
    cr_assert_eq(p->servers[2].weight, 1);
    cr_assert_eq(p->servers[3].role, ROLE_STANDBY);
    cr_assert_str_eq(p->servers[3].addr.text, "[::1]:9004");
    cr_assert_eq(p->servers[3].weight, 3);
    config_free(cfg);
}

Test(config, check_kinds_and_single_expect)
{
    struct config *cfg = parse_ok(
        "listen 127.0.0.1:8080\n"
        "pool a {\n check off\n server a 127.0.0.1:9001\n}\n"
        "pool b {\n check tcp\n server b 127.0.0.1:9001\n}\n"
        "pool c {\n check http /\n expect 204\n server c 127.0.0.1:9001\n}\n"
        "pool d {\n check http /x\n server d 127.0.0.1:9001\n}\n"
        "route default pool a\n");

    cr_assert_eq(cfg->pools[0].check, CHECK_OFF);
    cr_assert_eq(cfg->pools[1].check, CHECK_TCP);
    cr_assert_eq(cfg->pools[2].check, CHECK_HTTP);
    cr_assert_str_eq(cfg->pools[2].check_path, "/");
    cr_assert_eq(cfg->pools[2].expect_lo, 204);
    cr_assert_eq(cfg->pools[2].expect_hi, 204);
    cr_assert_str_eq(cfg->pools[3].check_path, "/x");
    cr_assert_str_eq(cfg->pools[3].check_host, "");
    config_free(cfg);
}

Test(config, routes_in_order)
{
    struct config *cfg = parse_ok(
        "listen 127.0.0.1:8080\n"
        "route host Shop.Example.com path /api/ pool api\n"
        "route path /static/ pool static\n"
        "route host www.example.com pool web\n"
        "route pool web\n"
        "route default pool web\n"
        "pool web {\n server a 127.0.0.1:9001\n}\n"
        "pool api {\n server b 127.0.0.1:9002\n}\n"
        "pool static {\n server c 127.0.0.1:9003\n}\n");

    cr_assert_eq(cfg->npools, 3);
    cr_assert_eq(cfg->nroutes, 5);
    cr_assert_str_eq(cfg->routes[0].host, "Shop.Example.com");
    cr_assert_str_eq(cfg->routes[0].path, "/api/");
    cr_assert_eq(cfg->routes[0].pool, 1);
    cr_assert_eq(cfg->routes[0].is_default, 0);
    cr_assert_eq(cfg->routes[0].line, 2);
    cr_assert_str_eq(cfg->routes[1].host, "");
    cr_assert_str_eq(cfg->routes[1].path, "/static/");
    cr_assert_eq(cfg->routes[1].pool, 2);
    cr_assert_str_eq(cfg->routes[2].host, "www.example.com");
    cr_assert_str_eq(cfg->routes[2].path, "");
    cr_assert_eq(cfg->routes[2].pool, 0);
    cr_assert_eq(cfg->routes[3].is_default, 0);
    cr_assert_eq(cfg->routes[4].is_default, 1);
    cr_assert_eq(cfg->routes[4].pool, 0);
    config_free(cfg);
}

Test(config, one_pool_with_routes_gets_no_extra_route)
{
    struct config *cfg = parse_ok("route path /a/ pool tail" TAIL);

    cr_assert_eq(cfg->nroutes, 1);
    cr_assert_eq(cfg->routes[0].is_default, 0);
    config_free(cfg);
}

/* ---- lexer ---------------------------------------------------------------- */

Test(config, quoting_comments_and_braces)
{
    struct config *cfg = parse_ok(
        "# a comment line\n"
        "   \t  \n"
        "listen 127.0.0.1:8080   # trailing comment\n"
        "stats 127.0.0.1:8404 token \"a \\\"quoted\\\" #not-a-comment \\\\ {}\"\n"
        "access-log \"/tmp/with space.log\"\r\n"
        "notify pre\"fix \"post\n"
        "pool web{\n"
        "  server a 127.0.0.1:9001 }\n"
        "pool \"api\" {server b 127.0.0.1:9002\n"
        "}\n"
        "route default pool web#comment right after a word\n");

    cr_assert_str_eq(cfg->stats_token, "a \"quoted\" #not-a-comment \\ {}");
    cr_assert_str_eq(cfg->access_log, "/tmp/with space.log");
    cr_assert_str_eq(cfg->notify, "prefix post");
    cr_assert_eq(cfg->npools, 2);
    cr_assert_str_eq(cfg->pools[0].name, "web");
    cr_assert_str_eq(cfg->pools[1].name, "api");
    cr_assert_eq(cfg->pools[1].nservers, 1);
    cr_assert_eq(cfg->pools[1].servers[0].line, 9);
    cr_assert_eq(cfg->routes[0].line, 11);
    config_free(cfg);
}

Test(config, brace_on_its_own_words)
{
    struct config *cfg = parse_ok("listen 127.0.0.1:8080\npool web {\n"
                                  "server a 127.0.0.1:9001\n  }   # done\n");
    cr_assert_eq(cfg->npools, 1);
    config_free(cfg);
}

Test(config, no_final_newline_and_empty_quoted_word)
{
    struct config *cfg = parse_ok("listen 127.0.0.1:8080\npool web { server a 127.0.0.1:9001 }");
    config_free(cfg);
    expect_error("stats 127.0.0.1:8404 token \"\"" TAIL,
                 "t.conf:1: stats: empty token (leave \"token\" out to disable admin actions)");
}

Test(config, unterminated_quote)
{
    expect_error("notify \"/bin/x\nworkers 2" TAIL,
                 "t.conf:1: unterminated quoted string (a quote must close on the same line)");
}

/* ---- value helpers -------------------------------------------------------- */

Test(config, durations)
{
    uint64_t ms;

    cr_assert_eq(config_parse_duration("250ms", &ms), 0);
    cr_assert_eq(ms, 250);
    cr_assert_eq(config_parse_duration("2s", &ms), 0);
    cr_assert_eq(ms, 2000);
    cr_assert_eq(config_parse_duration("5m", &ms), 0);
    cr_assert_eq(ms, 300000);
    cr_assert_eq(config_parse_duration("1h", &ms), 0);
    cr_assert_eq(ms, 3600000);
    cr_assert_eq(config_parse_duration("0s", &ms), 0);
    cr_assert_eq(ms, 0);
    cr_assert_eq(config_parse_duration("10", &ms), -1);
    cr_assert_eq(config_parse_duration("10x", &ms), -1);
    cr_assert_eq(config_parse_duration("1.5s", &ms), -1);
    cr_assert_eq(config_parse_duration("-1s", &ms), -1);
    cr_assert_eq(config_parse_duration("s", &ms), -1);
    cr_assert_eq(config_parse_duration("", &ms), -1);
    cr_assert_eq(config_parse_duration("99999999999999999999h", &ms), -1);
}

Test(config, sizes)
{
    uint64_t v;

    cr_assert_eq(config_parse_size("512", &v), 0);
    cr_assert_eq(v, 512);
    cr_assert_eq(config_parse_size("16k", &v), 0);
    cr_assert_eq(v, 16384);
    cr_assert_eq(config_parse_size("16K", &v), 0);
    cr_assert_eq(v, 16384);
    cr_assert_eq(config_parse_size("1m", &v), 0);
    cr_assert_eq(v, 1048576);
    cr_assert_eq(config_parse_size("2G", &v), 0);
    cr_assert_eq(v, 2147483648ULL);
    cr_assert_eq(config_parse_size("16kb", &v), -1);
    cr_assert_eq(config_parse_size("k", &v), -1);
    cr_assert_eq(config_parse_size("1t", &v), -1);
    cr_assert_eq(config_parse_size("", &v), -1);
    cr_assert_eq(config_parse_size("99999999999999999999g", &v), -1);
}

Test(config, addresses)
{
    struct config_addr a;

    cr_assert_eq(config_parse_addr("127.0.0.1:9001", &a), 0);
    cr_assert_str_eq(a.text, "127.0.0.1:9001");
    cr_assert_eq(a.sa.ss_family, AF_INET);
    cr_assert_eq(a.len, sizeof(struct sockaddr_in));
    cr_assert_eq(ntohs(((struct sockaddr_in *)&a.sa)->sin_port), 9001);

    cr_assert_eq(config_parse_addr("*:8080", &a), 0);
    cr_assert_str_eq(a.text, "0.0.0.0:8080");
    cr_assert_eq(config_parse_addr("0.0.0.0:8080", &a), 0);
    cr_assert_str_eq(a.text, "0.0.0.0:8080");
    cr_assert_eq(config_parse_addr("localhost:80", &a), 0);
    cr_assert_str_eq(a.text, "127.0.0.1:80");
    cr_assert_eq(config_parse_addr("[::]:8080", &a), 0);
    cr_assert_str_eq(a.text, "[::]:8080");
    cr_assert_eq(config_parse_addr("[0:0::1]:65535", &a), 0);
    cr_assert_str_eq(a.text, "[::1]:65535");
    cr_assert_eq(a.sa.ss_family, AF_INET6);
    cr_assert_eq(ntohs(((struct sockaddr_in6 *)&a.sa)->sin6_port), 65535);

    cr_assert_eq(config_parse_addr("127.0.0.1", &a), -1);
    cr_assert_eq(config_parse_addr("127.0.0.1:0", &a), -1);
    cr_assert_eq(config_parse_addr("127.0.0.1:65536", &a), -1);
    cr_assert_eq(config_parse_addr("127.0.0.1:http", &a), -1);
    cr_assert_eq(config_parse_addr("example.com:80", &a), -1);
    cr_assert_eq(config_parse_addr("::1:80", &a), -1);
    cr_assert_eq(config_parse_addr("[::1]80", &a), -1);
    cr_assert_eq(config_parse_addr("[::1", &a), -1);
    cr_assert_eq(config_parse_addr(":80", &a), -1);
    cr_assert_eq(config_parse_addr("256.1.1.1:80", &a), -1);
}

Test(config, names)
{
    cr_assert_str_eq(config_log_level_name(LOG_ERROR), "error");
    cr_assert_str_eq(config_log_level_name(LOG_WARN), "warn");
    cr_assert_str_eq(config_log_level_name(LOG_INFO), "info");
    cr_assert_str_eq(config_log_level_name(LOG_DEBUG), "debug");
    cr_assert_str_eq(config_balance_name(BALANCE_LEAST_CONN), "least-conn");
    cr_assert_str_eq(config_balance_name(BALANCE_ROUND_ROBIN), "round-robin");
    cr_assert_str_eq(config_check_name(CHECK_TCP), "tcp");
    cr_assert_str_eq(config_check_name(CHECK_HTTP), "http");
    cr_assert_str_eq(config_check_name(CHECK_OFF), "off");
    cr_assert_str_eq(config_role_name(ROLE_PRIMARY), "primary");
    cr_assert_str_eq(config_role_name(ROLE_STANDBY), "standby");
}

/* ---- errors: top level ---------------------------------------------------- */

Test(config_errors, unknown_directive)
{
    expect_error("lisen 127.0.0.1:8080" TAIL, "t.conf:1: unknown directive \"lisen\"");
}

Test(config_errors, missing_unit)
{
    expect_error("timeout client 10" TAIL,
                 "t.conf:1: timeout client: missing unit in \"10\" (expected e.g. 250ms, 2s, 5m, 1h)");
    expect_error("\n\ntimeout connect 10x" TAIL,
                 "t.conf:3: timeout connect: unknown unit in \"10x\" (expected ms, s, m, h or d)");
    expect_error("timeout server soon" TAIL,
                 "t.conf:1: timeout server: expected a duration, got \"soon\" (e.g. 250ms, 2s, 5m, 1h)");
    expect_error("timeout queue 99999999999999999999h" TAIL,
                 "t.conf:1: timeout queue: duration too large in \"99999999999999999999h\"");
    expect_error("timeout connect 0ms" TAIL, "t.conf:1: timeout connect: must be more than 0");
    expect_error("timeout idle 1s" TAIL,
                 "t.conf:1: timeout: unknown kind \"idle\" (expected connect, client, keep-alive, "
                 "server, queue or shutdown)");
}

Test(config_errors, workers)
{
    expect_error("workers 0" TAIL, "t.conf:1: workers: expected a number 1-64 or auto");
    expect_error("workers 65" TAIL, "t.conf:1: workers: expected a number 1-64 or auto");
    expect_error("workers many" TAIL, "t.conf:1: workers: expected a number 1-64 or auto");
}

Test(config_errors, numbers_and_keywords)
{
    expect_error("max-conns -1" TAIL,
                 "t.conf:1: max-conns: expected a number 1-10000000, got \"-1\"");
    expect_error("log-level verbose" TAIL,
                 "t.conf:1: log-level: expected error, warn, info or debug, got \"verbose\"");
    expect_error("access-log \"\"" TAIL, "t.conf:1: access-log: expected a file path, stderr or off");
    expect_error("notify \"\"" TAIL, "t.conf:1: notify: expected the path of a program");
    expect_error("limit header-size lots" TAIL,
                 "t.conf:1: limit header-size: expected a size, got \"lots\" (e.g. 512, 16k, 1m, 1g)");
    expect_error("limit header-size 16" TAIL,
                 "t.conf:1: limit header-size: expected a size 64-64m, got \"16\"");
    expect_error("limit body-size 99999999999999999999g" TAIL,
                 "t.conf:1: limit body-size: size too large in \"99999999999999999999g\"");
    expect_error("limit headers 0" TAIL,
                 "t.conf:1: limit headers: expected a number 1-10000, got \"0\"");
    expect_error("limit cookies 3" TAIL,
                 "t.conf:1: limit: unknown kind \"cookies\" (expected header-size, response-header-size, headers, body-size, rate, client-conns or clients)");
    expect_error("limit response-header-size 128k" TAIL,
                 "t.conf:1: limit response-header-size: expected a size 1k-64k, got \"128k\"");
}

Test(config_errors, wrong_argument_counts)
{
    expect_error("workers" TAIL,
                 "t.conf:1: workers: wrong number of arguments (expected \"workers N|auto\")");
    expect_error("listen" TAIL,
                 "t.conf:1: listen: wrong number of arguments (expected \"listen ADDR [tls PATH [alpn LIST] [client-ca FILE] | "
                 "redirect https] [proxy-protocol] [defer-accept]\")");
    expect_error("listen 127.0.0.1:1 127.0.0.1:2" TAIL,
                 "t.conf:1: listen: unexpected \"127.0.0.1:2\" (expected tls PATH, alpn LIST, client-ca FILE, "
                 "proxy-protocol, defer-accept or redirect https)");
    expect_error("timeout client" TAIL,
                 "t.conf:1: timeout: wrong number of arguments (expected \"timeout "
                 "connect|client|keep-alive|server|queue|shutdown DURATION\")");
    expect_error("stats 127.0.0.1:8404 token" TAIL,
                 "t.conf:1: stats: expected \"stats ADDR [token TOKEN]\"");
    expect_error("stats 127.0.0.1:8404 secret x y" TAIL,
                 "t.conf:1: stats: wrong number of arguments (expected \"stats ADDR [token TOKEN]\")");
    expect_error("route default" TAIL,
                 "t.conf:1: route: wrong number of arguments (expected \"route [host H] [path P] "
                 "pool NAME [priority high|normal|low] | route default pool NAME\")");
    expect_error("pool {\n}" TAIL,
                 "t.conf:1: pool: wrong number of arguments (expected \"pool NAME {\")");
    expect_error("pool tail {\n server t1 127.0.0.1:9000 weight\n server t2 127.0.0.1:9001\n}\n"
                 "listen 127.0.0.1:8080\n",
                 "t.conf:2: server weight: needs a value");
    expect_error("pool tail {\n server t1\n server t2 127.0.0.1:9001\n}\nlisten 127.0.0.1:8080\n",
                 "t.conf:2: server: wrong number of arguments (expected \"server NAME ADDR "
                 "[weight N] [max-conns N]\")");
    expect_error("pool tail {\n rise\n server t1 127.0.0.1:9000\n}\nlisten 127.0.0.1:8080\n",
                 "t.conf:2: rise: wrong number of arguments (expected \"rise N\")");
}

Test(config_errors, addresses)
{
    expect_error("listen 127.0.0.1:70000" TAIL, "t.conf:1: port out of range in \"127.0.0.1:70000\"");
    expect_error("listen 127.0.0.1:0" TAIL, "t.conf:1: port out of range in \"127.0.0.1:0\"");
    expect_error("listen 127.0.0.1" TAIL,
                 "t.conf:1: missing port in \"127.0.0.1\" (expected HOST:PORT)");
    expect_error("listen 1.2.3:80" TAIL,
                 "t.conf:1: invalid address \"1.2.3:80\" "
                 "(expected IPv4:PORT, *:PORT, localhost:PORT or [IPv6]:PORT)");
    expect_error("stats example.com:80" TAIL,
                 "t.conf:1: host names are not resolved, in \"example.com:80\" "
                 "(expected an IP address or localhost)");
    expect_error("listen 127.0.0.1:8080\nlisten 127.0.0.1:8080\n"
                 "pool tail {\n server t1 127.0.0.1:9000\n}\n",
                 "t.conf:2: duplicate listen address \"127.0.0.1:8080\" (first defined at line 1)");
    expect_error("listen [::0]:8080\nlisten [::]:8080" TAIL,
                 "t.conf:2: duplicate listen address \"[::]:8080\" (first defined at line 1)");
    expect_error("stats 127.0.0.1:8080" TAIL,
                 "t.conf:1: stats: address \"127.0.0.1:8080\" is also a listen address (line 2)");
    /* A wildcard takes the port on every address of its family: passed
     * by the check, the start failed with "Address already in use". */
    expect_error("listen 0.0.0.0:8090\nlisten 127.0.0.1:8090" TAIL,
                 "t.conf:2: listen \"127.0.0.1:8090\" takes the same port as listen \"0.0.0.0:8090\" (line 1): "
                 "a wildcard address listens on every address of its family");
    expect_error("listen [::1]:8080\nlisten [::]:8080" TAIL,
                 "t.conf:2: listen \"[::]:8080\" takes the same port as listen \"[::1]:8080\" (line 1): "
                 "a wildcard address listens on every address of its family");
    expect_error("stats 0.0.0.0:8080" TAIL,
                 "t.conf:1: stats: address \"0.0.0.0:8080\" takes the same port as listen \"127.0.0.1:8080\" (line 2)");
}

/* The families are apart (IPv6 sockets are IPV6_V6ONLY), and so are
 * other ports and other specific addresses. */
Test(config, listen_addresses_that_do_not_overlap)
{
    const char *text = "listen 0.0.0.0:8080\nlisten [::]:8080\nlisten 127.0.0.1:8081\nlisten 127.0.0.2:8081\n"
                       "stats 127.0.0.3:8081\npool p {\n server a 127.0.0.1:9000\n}\n";
    struct config *cfg = parse_ok(text);
    cr_assert_eq(cfg->nlistens, 4);
    config_free(cfg);
}

Test(config_errors, duplicates_of_single_settings)
{
    expect_error("workers 2\nworkers 3" TAIL, "t.conf:2: duplicate \"workers\" (first defined at line 1)");
    expect_error("timeout client 1s\ntimeout server 1s\ntimeout client 2s" TAIL,
                 "t.conf:3: duplicate \"timeout client\" (first defined at line 1)");
    expect_error("listen 127.0.0.1:8080\npool web {\n rise 2\n server a 127.0.0.1:1\n rise 3\n}\n",
                 "t.conf:5: duplicate \"rise\" (first defined at line 3)");
}

Test(config_errors, no_listen_no_pool)
{
    expect_error("pool tail {\n server t1 127.0.0.1:9000\n}\n",
                 "t.conf: no listen address (expected e.g. \"listen 0.0.0.0:8080\")");
    expect_error("listen 127.0.0.1:8080\n",
                 "t.conf: no pool defined (expected \"pool NAME { server NAME ADDR }\")");
    expect_error("listen 127.0.0.1:8080\npool a {\n server a 127.0.0.1:1\n}\n"
                 "pool b {\n server b 127.0.0.1:1\n}\n",
                 "t.conf: no route and several pools: add `route default pool NAME`");
}

Test(config_errors, empty_file)
{
    static const char *const want[] = {
        "t.conf: no listen address (expected e.g. \"listen 0.0.0.0:8080\")",
        "t.conf: no pool defined (expected \"pool NAME { server NAME ADDR }\")",
    };
    expect_errors("", want, 2);
    expect_errors("# only a comment\n\n", want, 2);
}

Test(config_errors, routes)
{
    expect_error("route pool api" TAIL, "t.conf:1: route: undefined pool \"api\"");
    expect_error("route default pool tail\nroute default pool tail" TAIL,
                 "t.conf:2: duplicate route default (first defined at line 1)");
    expect_error("route host a.com path /x" TAIL, "t.conf:1: route: missing \"pool NAME\"");
    expect_error("route host a.com pool" TAIL, "t.conf:1: route: \"pool\" needs a value");
    expect_error("route method GET pool tail" TAIL,
                 "t.conf:1: route: unexpected \"method\" (expected \"route [host H] [path P] "
                 "pool NAME [priority P]\" or \"route default pool NAME [priority P]\")");
    expect_error("route default host a pool tail" TAIL,
                 "t.conf:1: route: unexpected \"host\" (expected \"route [host H] [path P] "
                 "pool NAME [priority P]\" or \"route default pool NAME [priority P]\")");
    expect_error("route path api/ pool tail" TAIL,
                 "t.conf:1: route path: expected a path starting with \"/\", got \"api/\"");
    expect_error("route host \"\" pool tail" TAIL, "t.conf:1: route: empty host");
}

/* ---- errors: blocks and pools --------------------------------------------- */

Test(config_errors, duplicate_pool)
{
    expect_error("listen 127.0.0.1:8080\n"
                 "pool web {\n server a 127.0.0.1:1\n}\n"
                 "pool web {\n server a 127.0.0.1:1\n}\n"
                 "route default pool web\n",
                 "t.conf:5: duplicate pool \"web\" (first defined at line 2)");
}

Test(config_errors, duplicate_server_name_and_address)
{
    expect_error("listen 127.0.0.1:8080\npool web {\n"
                 "    server app1 127.0.0.1:9001\n"
                 "    server app2 127.0.0.1:9002\n"
                 "    server app1 127.0.0.1:9003\n}\n",
                 "t.conf:5: duplicate server \"app1\" in pool \"web\" (first defined at line 3)");
    expect_error("listen 127.0.0.1:8080\npool web {\n"
                 "    server app1 127.0.0.1:9001\n"
                 "    standby app1 127.0.0.1:9004\n}\n",
                 "t.conf:4: duplicate server \"app1\" in pool \"web\" (first defined at line 3)");
    expect_error("listen 127.0.0.1:8080\npool web {\n"
                 "    server app1 127.0.0.1:9001\n"
                 "    server app2 localhost:9001\n}\n",
                 "t.conf:4: duplicate address \"127.0.0.1:9001\" in pool \"web\" "
                 "(server \"app1\" at line 3)");
}

Test(config_errors, pool_without_server)
{
    expect_error("listen 127.0.0.1:8080\npool web {\n  balance round-robin\n}\n",
                 "t.conf:2: pool \"web\" has no server");
    /* A refused server line is the one error, not also "has no server". */
    expect_error("listen 127.0.0.1:8080\npool web {\n  server a 127.0.0.1:9001 backup\n}\n",
                 "t.conf:3: server: unknown option \"backup\" (a backup server is written \"standby NAME ADDR\")");
}

Test(config_errors, trailing_semicolon)
{
    expect_error("listen 127.0.0.1:8080\npool web {\n server a 127.0.0.1:9001;\n}\n",
                 "t.conf:3: server: the line ends with \";\": there is no \";\" in this language "
                 "(a directive ends with its line)");
    /* Quoted, a ';' is a character like any other. */
    struct config *cfg = parse_ok("listen 127.0.0.1:8080\nstats 127.0.0.1:8404 token \"a;\"\n"
                                  "pool web {\n server a 127.0.0.1:9001\n}\n");
    cr_assert_str_eq(cfg->stats_token, "a;");
    config_free(cfg);
}

Test(config, listen_port_alone_is_every_ipv4_address)
{
    struct config *cfg = parse_ok("listen 8080\nlisten :8081\npool web {\n server a 127.0.0.1:9001\n}\n");
    cr_assert_str_eq(cfg->listens[0].addr.text, "0.0.0.0:8080");
    cr_assert_str_eq(cfg->listens[1].addr.text, "0.0.0.0:8081");
    config_free(cfg);
}

Test(config_errors, route_host_wildcards)
{
    const char *pools = "listen 127.0.0.1:8080\npool web {\n server a 127.0.0.1:9001\n}\n";
    const char *bad[] = { "a.*.example.com", "*example.com", "*", "*.", "shop.*", "*.*.example.com" };
    char text[512], want[256];
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        snprintf(text, sizeof text, "%sroute host %s pool web\n", pools, bad[i]);
        snprintf(want, sizeof want, "t.conf:5: route host: \"%s\": a wildcard is \"*.NAME\" (any subdomain) "
                 "or \".NAME\" (NAME and any subdomain)", bad[i]);
        expect_error(text, want);
    }
    snprintf(text, sizeof text, "%sroute host *.example.com pool web\nroute host .example.org pool web\n", pools);
    config_free(parse_ok(text));
}

/* A host route with a port could never match (a request's port is not
 * compared): an error, not a route that passes -t and routes nothing.  A
 * fully qualified name loses its dot, as requests' names do. */
Test(config_errors, route_host_with_a_port)
{
    const char *pools = "listen 127.0.0.1:8080\npool web {\n server a 127.0.0.1:9001\n}\n";
    char text[512];
    snprintf(text, sizeof text, "%sroute host shop.example.com:8080 pool web\n", pools);
    expect_error(text, "t.conf:5: route host: \"shop.example.com:8080\": a host name without a port "
                       "(the port of a request's Host is not compared)");
    snprintf(text, sizeof text, "%sroute host shop.example.com. pool web\nroute host [::1] pool web\n", pools);
    struct config *cfg = parse_ok(text);
    cr_assert_str_eq(cfg->routes[0].host, "shop.example.com");
    cr_assert_str_eq(cfg->routes[1].host, "[::1]");
    config_free(cfg);
}

/* The ranges README's configuration reference gives, at their edges: the
 * last value taken and the first refused. */
Test(config, documented_range_edges)
{
    struct config *cfg = parse_ok("http2 max-resets 1000000\nsurge baseline 30d\nsurge hold 1h\n"
                                  "limit rate 1000000/s burst 1000000\nlimit client-conns 1000000\n"
                                  "timeout connect 1d\nlimit header-size 64M\nmax-conns 10000000" TAIL);
    cr_assert_eq(cfg->h2_max_resets, 1000000);
    cr_assert_eq(cfg->surge.baseline_ms, 30ull * 86400 * 1000);
    cr_assert_eq(cfg->surge.hold_ms, 3600000);
    cr_assert_eq(cfg->admit.rate_burst, 1000000);
    cr_assert_eq(cfg->admit.client_conns, 1000000);
    cr_assert_eq(cfg->timeout_connect_ms, 86400000, "d is a unit: days");
    cr_assert_eq(cfg->limit_header_size, 64u * 1024 * 1024, "size suffixes in either case");
    cr_assert_eq(cfg->max_conns, 10000000);
    config_free(cfg);

    expect_error("http2 max-resets 0" TAIL, "t.conf:1: http2 max-resets: expected a number 1-1000000, got \"0\"");
    expect_error("http2 max-resets 1000001" TAIL,
                 "t.conf:1: http2 max-resets: expected a number 1-1000000, got \"1000001\"");
    expect_error("http2 max-streams 10001" TAIL,
                 "t.conf:1: http2 max-streams: expected a number 1-10000, got \"10001\"");
    expect_error("surge baseline 31d" TAIL,
                 "t.conf:1: surge baseline: 31d is out of range (1s to 2592000s; the rate is looked at once a second)");
    expect_error("surge hold 61m" TAIL,
                 "t.conf:1: surge hold: 61m is out of range (1s to 3600s; the rate is looked at once a second)");
    expect_error("limit rate 1000001/s" TAIL,
                 "t.conf:1: limit rate: expected a rate such as 50/s or 600/m (1-1000000), got \"1000001/s\"");
    expect_error("limit client-conns 1000001" TAIL,
                 "t.conf:1: limit client-conns: expected a number 1-1000000, got \"1000001\"");
    expect_error("timeout connect 1.5s" TAIL,
                 "t.conf:1: timeout connect: expected a duration, got \"1.5s\" (e.g. 250ms, 2s, 5m, 1h)");
    expect_error("listen 127.0.0.1:8080\npool p {\n server s 127.0.0.1:9000\n check-timeout 0s\n}\n",
                 "t.conf:4: check-timeout: must be more than 0");
}

Test(config_errors, unclosed_block)
{
    expect_error("listen 127.0.0.1:8080\npool web {\n server a 127.0.0.1:1\n",
                 "t.conf:2: unclosed block \"pool web\" opened here");
}

Test(config_errors, unexpected_braces)
{
    expect_error("}" TAIL, "t.conf:1: unexpected \"}\"");
    expect_error("{\n workers 3\n}" TAIL, "t.conf:1: unexpected \"{\"");
    expect_error("listen 127.0.0.1:8081 {\n}" TAIL,
                 "t.conf:1: listen: unexpected \"{\" (expected \"listen ADDR [tls PATH [alpn LIST] [client-ca FILE] | "
                 "redirect https] [proxy-protocol] [defer-accept]\")");
    expect_error("pool web\n" TAIL,
                 "t.conf:1: pool: missing \"{\" at the end of the line (expected \"pool NAME {\")");
}

Test(config_errors, pool_block_errors)
{
    expect_error("pool tail {\n server t1 127.0.0.1:9000\n listen 127.0.0.1:1\n}\n"
                 "listen 127.0.0.1:8080\n",
                 "t.conf:3: unknown directive \"listen\" in pool \"tail\"");
    /* An unknown block inside a pool is skipped whole: one message. */
    expect_error("pool tail {\n server t1 127.0.0.1:9000\n backup {\n junk here\n }\n}\n"
                 "listen 127.0.0.1:8080\n",
                 "t.conf:3: unknown directive \"backup\" in pool \"tail\"");
    expect_error("pool \"a b\" {\n server t1 127.0.0.1:9000\n}" TAIL,
                 "t.conf:1: pool: invalid name \"a b\" (expected 1-63 letters, digits, '-', '_' or '.')");
}

Test(config_errors, pool_values)
{
#define POOL(line) "listen 127.0.0.1:8080\npool p {\n server s 127.0.0.1:9000\n" line "\n}\n"
    expect_error(POOL("check udp"),
                 "t.conf:4: check: unknown kind \"udp\" (expected http PATH [host NAME], tcp or off)");
    expect_error(POOL("check tcp /x"), "t.conf:4: check tcp: takes no argument");
    expect_error(POOL("check http healthz"),
                 "t.conf:4: check http: expected a path starting with \"/\", got \"healthz\"");
    expect_error(POOL("check http /h hostname x"),
                 "t.conf:4: check http: expected \"check http PATH [host NAME]\"");
    expect_error(POOL("check http /h host"),
                 "t.conf:4: check http: expected \"check http PATH [host NAME]\"");
    expect_error(POOL("rise 0"), "t.conf:4: rise: expected a number 1-1000, got \"0\"");
    expect_error(POOL("fall 0"), "t.conf:4: fall: expected a number 1-1000, got \"0\"");
    expect_error(POOL("expect 400-200"),
                 "t.conf:4: expect: range \"400-200\" is reversed (expected LO-HI with LO <= HI)");
    expect_error(POOL("expect 2xx"),
                 "t.conf:4: expect: expected a status code 100-599 or a range LO-HI, got \"2xx\"");
    expect_error(POOL("expect 200-700"),
                 "t.conf:4: expect: expected a status code 100-599 or a range LO-HI, got \"200-700\"");
    expect_error(POOL("balance random"),
                 "t.conf:4: balance: expected least-conn or round-robin, got \"random\"");
    expect_error(POOL("interval 2"),
                 "t.conf:4: interval: missing unit in \"2\" (expected e.g. 250ms, 2s, 5m, 1h)");
    expect_error(POOL("interval 0s"), "t.conf:4: interval: must be more than 0");
    expect_error(POOL("check-timeout 1"),
                 "t.conf:4: check-timeout: missing unit in \"1\" (expected e.g. 250ms, 2s, 5m, 1h)");
    expect_error(POOL("slow-start 30"),
                 "t.conf:4: slow-start: missing unit in \"30\" (expected e.g. 250ms, 2s, 5m, 1h)");
    expect_error(POOL("retries many"), "t.conf:4: retries: expected a number 0-100, got \"many\"");
    expect_error(POOL("max-queue -3"),
                 "t.conf:4: max-queue: expected a number 0-10000000, got \"-3\"");
    expect_error(POOL("ignore-client-abort yes"),
                 "t.conf:4: ignore-client-abort: expected on or off, got \"yes\"");
    expect_error(POOL("on-down kill"), "t.conf:4: on-down: expected shutdown or none, got \"kill\"");
    expect_error(POOL("standby-below x"),
                 "t.conf:4: standby-below: expected a number 0-100000, got \"x\"");
    expect_error(POOL("server s2 127.0.0.1:9001 weight 0"),
                 "t.conf:4: server weight: expected a number 1-256, got \"0\"");
    expect_error(POOL("standby s2 127.0.0.1:9001 weight 257"),
                 "t.conf:4: standby weight: expected a number 1-256, got \"257\"");
    expect_error(POOL("server s2 127.0.0.1:9001 max-conns x"),
                 "t.conf:4: server max-conns: expected a number 0-10000000, got \"x\"");
    expect_error(POOL("server s2 127.0.0.1:9001 backup 1"),
                 "t.conf:4: server: unknown option \"backup\" (a backup server is written \"standby NAME ADDR\")");
    expect_error(POOL("server s2 127.0.0.1:9001 fast 1"),
                 "t.conf:4: server: unknown option \"fast\" (expected weight N or max-conns N)");
    expect_error(POOL("check http"),
                 "t.conf:4: check http: missing PATH (expected \"check http PATH [host NAME]\", e.g. check http /healthz)");
    expect_error(POOL("server s2 0.0.0.0:9001"),
                 "t.conf:4: server: cannot connect to the wildcard address \"0.0.0.0:9001\"");
    expect_error(POOL("server s2 127.0.0.1:99999"), "t.conf:4: port out of range in \"127.0.0.1:99999\"");
    expect_error(POOL("server \"s 2\" 127.0.0.1:9001"),
                 "t.conf:4: server: invalid name \"s 2\" (expected 1-63 letters, digits, '-', '_' or '.')");
#undef POOL
}

Test(config_errors, every_error_in_one_pass)
{
    static const char *const want[] = {
        "t.conf:1: unknown directive \"lisen\"",
        "t.conf:2: timeout client: missing unit in \"10\" (expected e.g. 250ms, 2s, 5m, 1h)",
        "t.conf:3: workers: expected a number 1-64 or auto",
        "t.conf:5: port out of range in \"127.0.0.1:70000\"",
        "t.conf:8: duplicate server \"app1\" in pool \"web\" (first defined at line 7)",
        "t.conf:9: rise: expected a number 1-1000, got \"0\"",
        "t.conf:11: duplicate pool \"web\" (first defined at line 6)",
        "t.conf:13: unexpected \"}\"",
        "t.conf:11: pool \"web\" has no server",
        "t.conf:14: route: undefined pool \"api\"",
        "t.conf: no listen address (expected e.g. \"listen 0.0.0.0:8080\")",
    };
    expect_errors("lisen 127.0.0.1:8080\n"             /* 1 */
                  "timeout client 10\n"                /* 2 */
                  "workers lots\n"                     /* 3 */
                  "\n"                                 /* 4 */
                  "stats 127.0.0.1:70000\n"            /* 5 */
                  "pool web {\n"                       /* 6 */
                  "  server app1 127.0.0.1:9001\n"     /* 7 */
                  "  server app1 127.0.0.1:9002\n"     /* 8 */
                  "  rise 0\n"                         /* 9 */
                  "}\n"                                /* 10 */
                  "pool web {\n"                       /* 11 */
                  "}\n"                                /* 12 */
                  "}\n"                                /* 13 */
                  "route pool api\n",                  /* 14 */
                  want, sizeof(want) / sizeof(want[0]));
}

/* ---- files ---------------------------------------------------------------- */

Test(config_files, cannot_read)
{
    struct config_errors errs = { 0 };

    cr_assert_null(config_load("/nonexistent/proxy.conf", &errs));
    cr_assert_eq(errs.n, 1);
    cr_assert_str_eq(errs.msgs[0], "/nonexistent/proxy.conf: cannot read: No such file or directory");
    config_errors_clear(&errs);
    cr_assert_eq(errs.n, 0);
    cr_assert_null(errs.msgs);
    config_errors_clear(&errs);
    config_errors_clear(NULL);
    config_free(NULL);
}

Test(config_files, shipped_proxy_conf)
{
    struct config_errors errs = { 0 };
    struct config *cfg = config_load("conf/proxy.conf", &errs);

    for (size_t i = 0; i < errs.n; i++)
        cr_log_error("%s", errs.msgs[i]);
    cr_assert_not_null(cfg);
    cr_assert_str_eq(cfg->file, "conf/proxy.conf");
    cr_assert_str_eq(cfg->listens[0].addr.text, "0.0.0.0:8080");
    cr_assert_str_eq(cfg->stats_addr.text, "127.0.0.1:8404");
    cr_assert_str_neq(cfg->stats_token, "");
    cr_assert_geq(cfg->npools, 1);
    cr_assert_geq(cfg->nroutes, 1);
    int standbys = 0;
    for (size_t i = 0; i < cfg->npools; i++)
        for (size_t j = 0; j < cfg->pools[i].nservers; j++)
            standbys += cfg->pools[i].servers[j].role == ROLE_STANDBY;
    cr_assert_eq(standbys, 1);
    config_free(cfg);
    config_errors_clear(&errs);
}

Test(config_files, demo_conf)
{
    struct config_errors errs = { 0 };
    struct config *cfg = config_load("conf/demo.conf", &errs);

    for (size_t i = 0; i < errs.n; i++)
        cr_log_error("%s", errs.msgs[i]);
    cr_assert_not_null(cfg);
    cr_assert_eq(cfg->workers, 2);
    cr_assert_str_eq(cfg->access_log, "stderr");
    cr_assert_eq(cfg->nlistens, 2);
    cr_assert_str_eq(cfg->listens[0].addr.text, "127.0.0.1:8080");
    cr_assert_str_eq(cfg->listens[0].tls_path, "");
    cr_assert_str_eq(cfg->listens[1].addr.text, "127.0.0.1:8443");
    cr_assert_str_eq(cfg->listens[1].tls_path, "conf/demo-cert.pem", "next to the configuration file");
    cr_assert_str_eq(cfg->stats_addr.text, "127.0.0.1:8404");
    cr_assert_str_eq(cfg->stats_token, "demo-token");
    cr_assert_eq(cfg->npools, 1);
    struct config_pool *p = &cfg->pools[0];
    cr_assert_str_eq(p->name, "web");
    cr_assert_eq(p->check, CHECK_HTTP);
    cr_assert_str_eq(p->check_path, "/healthz");
    cr_assert_eq(p->interval_ms, 1000);
    cr_assert_eq(p->rise, 2);
    cr_assert_eq(p->fall, 2);
    cr_assert_eq(p->nservers, 4);
    cr_assert_str_eq(p->servers[2].name, "app3");
    cr_assert_str_eq(p->servers[2].addr.text, "127.0.0.1:9003");
    cr_assert_str_eq(p->servers[3].name, "spare1");
    cr_assert_eq(p->servers[3].role, ROLE_STANDBY);
    cr_assert_str_eq(p->servers[3].addr.text, "127.0.0.1:9004");
    cr_assert_eq(cfg->nroutes, 1);
    cr_assert_eq(cfg->routes[0].is_default, 1);
    config_free(cfg);
    config_errors_clear(&errs);
}

Test(config, normalize_path)
{
    struct config *cfg = parse_ok("listen 127.0.0.1:8080\npool web {\n server a 127.0.0.1:9001\n}\n");
    cr_assert_eq(cfg->normalize_path, 0, "off by default: the path goes as the client sent it");
    config_free(cfg);
    cfg = parse_ok("normalize-path on\nlisten 127.0.0.1:8080\npool web {\n server a 127.0.0.1:9001\n}\n");
    cr_assert_eq(cfg->normalize_path, 1);
    config_free(cfg);
    expect_error("normalize-path yes" TAIL, "t.conf:1: normalize-path: expected on or off, got \"yes\"");
}

Test(config, user)
{
    struct config *cfg = parse_ok("user proxy\nlisten 127.0.0.1:8080\npool web {\n server a 127.0.0.1:9001\n}\n");
    cr_assert_str_eq(cfg->user, "proxy");
    config_free(cfg);
    cfg = parse_ok("listen 127.0.0.1:8080\npool web {\n server a 127.0.0.1:9001\n}\n");
    cr_assert_str_eq(cfg->user, "", "no user: the proxy stays as it was started");
    config_free(cfg);
}

Test(config, limit_response_header_size)
{
    struct config *cfg = parse_ok("listen 127.0.0.1:8080\npool web {\n server a 127.0.0.1:9001\n}\n");
    cr_assert_eq(cfg->limit_response_header_size, 16 * 1024);
    config_free(cfg);
    cfg = parse_ok("limit response-header-size 64k\nlisten 127.0.0.1:8080\npool web {\n server a 127.0.0.1:9001\n}\n");
    cr_assert_eq(cfg->limit_response_header_size, 64 * 1024);
    config_free(cfg);
}

/* ---- servers given by host name, resolve interval ---------------------------- */

Test(config, server_host_names)
{
    struct config *cfg = parse_ok("listen 127.0.0.1:8080\npool web {\n"
                                  " server a app.example.com:8080 weight 3\n"
                                  " server b web_1:80\n"
                                  " standby c spare.internal.:9000\n"
                                  " server d 127.0.0.1:9001\n"
                                  " server e LOCALHOST:9002\n"
                                  " server f localhost:9003\n}\n");
    const struct config_server *s = cfg->pools[0].servers;

    cr_assert_eq(cfg->pools[0].nservers, 6);
    cr_assert_str_eq(s[0].host, "app.example.com");
    cr_assert_eq(s[0].port, 8080);
    cr_assert_eq(s[0].addr.len, 0, "a name is not resolved while parsing");
    cr_assert_eq(s[0].weight, 3);
    cr_assert_str_eq(s[1].host, "web_1", "Docker Compose service names may have '_'");
    cr_assert_eq(s[1].port, 80);
    cr_assert_str_eq(s[2].host, "spare.internal.");
    cr_assert_eq(s[2].role, ROLE_STANDBY);
    cr_assert_str_eq(s[3].host, "", "an IP address is used as it is");
    cr_assert_eq(s[3].port, 9001);
    cr_assert_str_eq(s[3].addr.text, "127.0.0.1:9001");
    cr_assert_str_eq(s[4].host, "LOCALHOST", "only \"localhost\" itself is the 127.0.0.1 shorthand");
    cr_assert_str_eq(s[5].host, "");
    cr_assert_str_eq(s[5].addr.text, "127.0.0.1:9003");
    config_free(cfg);
}

Test(config, resolve_interval)
{
    struct config *cfg = parse_ok("listen 127.0.0.1:8080\npool web {\n server a 127.0.0.1:9001\n}\n");
    cr_assert_eq(cfg->resolve_interval_ms, 30000, "default 30s");
    config_free(cfg);
    cfg = parse_ok("resolve interval 5s" TAIL);
    cr_assert_eq(cfg->resolve_interval_ms, 5000);
    config_free(cfg);
}

#define POOL_WITH(line) "listen 127.0.0.1:8080\npool web {\n " line "\n}\n"

Test(config_errors, server_host_names)
{
    const char *usage = "(expected NAME:PORT, NAME of dot-separated labels of letters, digits, "
                        "'-' and '_', at most 253 characters)";
    char want[512];

    snprintf(want, sizeof want, "t.conf:3: server: invalid host name in \"bad..name:80\" %s", usage);
    expect_error(POOL_WITH("server a bad..name:80"), want);
    snprintf(want, sizeof want, "t.conf:3: standby: invalid host name in \"-app.test:80\" %s", usage);
    expect_error(POOL_WITH("standby a -app.test:80"), want);
    snprintf(want, sizeof want, "t.conf:3: server: invalid host name in \"app-.test:80\" %s", usage);
    expect_error(POOL_WITH("server a app-.test:80"), want);
    snprintf(want, sizeof want, "t.conf:3: server: invalid host name in "
             "\"a234567890123456789012345678901234567890123456789012345678901234.test:80\" %s", usage);
    expect_error(POOL_WITH("server a a234567890123456789012345678901234567890123456789012345678901234.test:80"),
                 want);
    expect_error(POOL_WITH("server a app.test:70000"), "t.conf:3: port out of range in \"app.test:70000\"");
    expect_error(POOL_WITH("server a app.test"),
                 "t.conf:3: missing port in \"app.test\" (expected HOST:PORT)");
    expect_error(POOL_WITH("server a app.test:80\n server b APP.test:80"),
                 "t.conf:4: duplicate address \"APP.test:80\" in pool \"web\" (server \"a\" at line 3)");
    expect_error(POOL_WITH("server a app$.test:80"),
                 "t.conf:3: invalid address \"app$.test:80\" "
                 "(expected IPv4:PORT, *:PORT, localhost:PORT or [IPv6]:PORT)");
    /* Listening needs an address of this host: no name there. */
    expect_error("stats app.test:80" TAIL, "t.conf:1: host names are not resolved, in \"app.test:80\" "
                 "(expected an IP address or localhost)");
}

Test(config_errors, resolve_interval)
{
    expect_error("resolve interval 0s" TAIL, "t.conf:1: resolve interval: must be more than 0");
    expect_error("resolve interval 30" TAIL,
                 "t.conf:1: resolve interval: missing unit in \"30\" (expected e.g. 250ms, 2s, 5m, 1h)");
    expect_error("resolve every 30s" TAIL,
                 "t.conf:1: resolve: unknown setting \"every\" (expected \"resolve interval DURATION\")");
    expect_error("resolve interval" TAIL,
                 "t.conf:1: resolve: wrong number of arguments (expected \"resolve interval DURATION\")");
    expect_error("resolve interval 1s\nresolve interval 2s" TAIL,
                 "t.conf:2: duplicate \"resolve interval\" (first defined at line 1)");
}

/* ---- PROXY protocol: listen ADDR proxy-protocol, send-proxy v1|v2 ------------------- */

Test(config, listen_proxy_protocol_and_send_proxy)
{
    struct config *cfg = parse_ok(
        "listen 127.0.0.1:8080 proxy-protocol\n"
        "listen 127.0.0.1:8081\n"
        "pool a {\n    send-proxy v2\n    server a1 127.0.0.1:9001\n}\n"
        "pool b {\n    send-proxy v1\n    server b1 127.0.0.1:9002\n}\n"
        "pool c {\n    server c1 127.0.0.1:9003\n}\n"
        "route default pool a\n");
    cr_assert_eq(cfg->nlistens, 2);
    cr_assert_eq(cfg->listens[0].proxy_protocol, 1);
    cr_assert_eq(cfg->listens[0].line, 1);
    cr_assert_str_eq(cfg->listens[0].addr.text, "127.0.0.1:8080");
    cr_assert_eq(cfg->listens[1].proxy_protocol, 0);
    cr_assert_eq(cfg->pools[0].send_proxy, 2);
    cr_assert_eq(cfg->pools[1].send_proxy, 1);
    cr_assert_eq(cfg->pools[2].send_proxy, 0);
    config_free(cfg);
}

Test(config, listen_defer_accept)
{
    struct config *cfg = parse_ok("listen 127.0.0.1:8080 defer-accept\n"
                                  "listen 127.0.0.1:8081 proxy-protocol defer-accept\n"
                                  "listen 127.0.0.1:8082\n"
                                  "pool a {\n    server a1 127.0.0.1:9001\n}\n");
    cr_assert_eq(cfg->listens[0].defer_accept, 1);
    cr_assert_eq(cfg->listens[1].defer_accept, 1);
    cr_assert_eq(cfg->listens[1].proxy_protocol, 1);
    cr_assert_eq(cfg->listens[2].defer_accept, 0, "off unless asked for");
    config_free(cfg);
    expect_error("listen 127.0.0.1:8081 defer-accept defer-accept" TAIL,
                 "t.conf:1: listen: \"defer-accept\" given twice");
}

Test(config_errors, listen_options_and_send_proxy)
{
    expect_error("listen 127.0.0.1:8081 proxy" TAIL,
                 "t.conf:1: listen: unexpected \"proxy\" (expected tls PATH, alpn LIST, client-ca FILE, proxy-protocol, "
                 "defer-accept or redirect https)");
    expect_error("listen 127.0.0.1:8081 proxy-protocol proxy-protocol" TAIL,
                 "t.conf:1: listen: \"proxy-protocol\" given twice");
    expect_error("listen 127.0.0.1:8080\npool p {\n send-proxy v3\n server s 127.0.0.1:9000\n}\n",
                 "t.conf:3: send-proxy: expected v1 or v2, got \"v3\"");
    expect_error("listen 127.0.0.1:8080\npool p {\n send-proxy\n server s 127.0.0.1:9000\n}\n",
                 "t.conf:3: send-proxy: wrong number of arguments (expected \"send-proxy v1|v2\")");
}

Test(config, tls_protocols)
{
    struct config *cfg = parse_ok("tls protocols 1.3 1.3\nlisten 127.0.0.1:8080\npool web {\n server a 127.0.0.1:9001\n}\n");
    cr_assert_eq(cfg->tls.min_version, 0x0304u, "tls protocols LO HI: three words after tls");
    cr_assert_eq(cfg->tls.max_version, 0x0304u);
    config_free(cfg);
    cfg = parse_ok("tls protocols 1.2 1.3\nlisten 127.0.0.1:8080\npool web {\n server a 127.0.0.1:9001\n}\n");
    cr_assert_eq(cfg->tls.min_version, 0x0303u, "the contract's default, written out");
    config_free(cfg);
    expect_error("tls protocols 1.3 1.2" TAIL, "t.conf:1: tls protocols: the lowest version 1.3 is above the highest 1.2");
}
