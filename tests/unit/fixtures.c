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
