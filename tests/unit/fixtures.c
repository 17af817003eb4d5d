/*
 * fixtures: helpers shared by the unit tests (see fixtures.h).
 */
#include "fixtures.h"

#include <criterion/criterion.h>
#include <criterion/logging.h>
#include <string.h>

#include "config.h"

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
