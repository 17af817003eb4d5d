/*
 * The `http2` directives (config_h2.c): defaults, values, and every error.
 */
#include <criterion/criterion.h>
#include <string.h>

#include "config.h"

#define POOL "\npool web {\n server a 127.0.0.1:9000\n}\n"

static struct config *parse(const char *text, struct config_errors *errs)
{
    return config_parse("t.conf", text, strlen(text), errs);
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

Test(config_h2, defaults)
{
    struct config_errors errs = {0};
    struct config *cfg = parse("listen 127.0.0.1:8080" POOL, &errs);
    cr_assert_not_null(cfg);
    cr_assert_eq(cfg->h2_max_streams, 100);
    cr_assert_eq(cfg->h2_window, 65536);
    cr_assert_eq(cfg->h2_max_resets, 200);
    config_free(cfg);
}

Test(config_h2, values)
{
    struct config_errors errs = {0};
    struct config *cfg = parse("listen 127.0.0.1:8080\nhttp2 max-streams 250\nhttp2 window 1m\nhttp2 max-resets 50\n" POOL, &errs);
    cr_assert_not_null(cfg);
    cr_assert_eq(cfg->h2_max_streams, 250);
    cr_assert_eq(cfg->h2_window, 1024 * 1024);
    cr_assert_eq(cfg->h2_max_resets, 50);
    config_free(cfg);
}

Test(config_h2, errors)
{
    expect_error("http2 streams 5" POOL,
                 "t.conf:1: http2: unknown setting \"streams\" (expected max-streams, window or max-resets)");
    expect_error("http2 window 512" POOL, "t.conf:1: http2 window: 512 is out of range (1k to 2147483647 bytes)");
    expect_error("http2 window 4g" POOL, "t.conf:1: http2 window: 4g is out of range (1k to 2147483647 bytes)");
    expect_error("http2 window lots" POOL,
                 "t.conf:1: http2 window: expected a size, got \"lots\" (e.g. 512, 16k, 1m, 1g)");
    expect_error("http2 max-streams 0" POOL, "t.conf:1: http2 max-streams: expected a number 1-10000, got \"0\"");
    expect_error("http2 max-streams 5\nhttp2 max-streams 6" POOL, "t.conf:2: duplicate \"http2 max-streams\" (first defined at line 1)");
    expect_error("http2 window" POOL, "t.conf:1: http2: wrong number of arguments (expected \"http2 max-streams N | window SIZE | max-resets N\")");
}
