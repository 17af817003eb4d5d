/*
 * Unit tests of rehearse_json.c: the reader over /api/stats-like text,
 * nesting and skipping, and refusal of invalid JSON.
 */
#include <criterion/criterion.h>

#include <string.h>

#include "rehearse_json.h"

static struct rh_json_tok toks[256];

static int parse(struct rh_json *j, const char *s)
{
    return rh_json_parse(j, s, strlen(s), toks, 256);
}

Test(rehearse_json, reads_objects_arrays_numbers_strings)
{
    struct rh_json j;
    const char *s = " {\"version\":\"0.1.0\",\"uptime_s\":12.5,\"nested\":{\"a\":[1,{\"b\":2}],"
                    "\"c\":null},\"pools\":[{\"name\":\"web\",\"queued\":3,\"servers\":["
                    "{\"name\":\"app1\",\"state\":\"up\",\"active\":4,\"failures\":0},"
                    "{\"name\":\"app2\",\"state\":\"down\",\"active\":0,\"failures\":17}]},"
                    "{\"name\":\"empty\",\"queued\":0,\"servers\":[]}],\"ok\":true} ";
    cr_assert_gt(parse(&j, s), 0);
    char buf[32];
    cr_assert_str_eq(rh_json_str(&j, rh_json_get(&j, 0, "version"), buf, sizeof buf), "0.1.0");
    cr_assert_float_eq(rh_json_num(&j, rh_json_get(&j, 0, "uptime_s"), -1), 12.5, 1e-9);
    cr_assert_eq(j.toks[rh_json_get(&j, 0, "ok")].type, RJ_TRUE);
    cr_assert_eq(rh_json_get(&j, 0, "missing"), -1);
    int pools = rh_json_get(&j, 0, "pools");
    int p = rh_json_first(&j, pools);
    cr_assert_str_eq(rh_json_str(&j, rh_json_get(&j, p, "name"), buf, sizeof buf), "web");
    cr_assert_float_eq(rh_json_num(&j, rh_json_get(&j, p, "queued"), -1), 3, 1e-9);
    int srvs = rh_json_get(&j, p, "servers");
    int s1 = rh_json_first(&j, srvs), s2 = rh_json_after(&j, srvs, s1);
    cr_assert_float_eq(rh_json_num(&j, rh_json_get(&j, s1, "active"), -1), 4, 1e-9);
    cr_assert_str_eq(rh_json_str(&j, rh_json_get(&j, s2, "state"), buf, sizeof buf), "down");
    cr_assert_float_eq(rh_json_num(&j, rh_json_get(&j, s2, "failures"), -1), 17, 1e-9);
    cr_assert_eq(rh_json_after(&j, srvs, s2), -1);
    int p2 = rh_json_after(&j, pools, p);
    cr_assert_str_eq(rh_json_str(&j, rh_json_get(&j, p2, "name"), buf, sizeof buf), "empty");
    cr_assert_eq(rh_json_first(&j, rh_json_get(&j, p2, "servers")), -1);
    cr_assert_eq(rh_json_after(&j, pools, p2), -1);
    /* A key inside a nested object is not a member of the outer one. */
    cr_assert_eq(rh_json_get(&j, 0, "b"), -1);
}

Test(rehearse_json, strings_with_escapes_and_wrong_types)
{
    struct rh_json j;
    cr_assert_gt(parse(&j, "{\"a\\\"b\":\"x\\\\y\",\"n\":\"5\"}"), 0);
    char buf[16];
    cr_assert_str_eq(rh_json_str(&j, rh_json_get(&j, 0, "n"), buf, sizeof buf), "5");
    cr_assert_float_eq(rh_json_num(&j, rh_json_get(&j, 0, "n"), -1), -1, 1e-9, "not a number");
    cr_assert_str_eq(rh_json_str(&j, -1, buf, sizeof buf), "");
}

Test(rehearse_json, refuses_invalid_json)
{
    struct rh_json j;
    const char *bad[] = { "", "{", "{\"a\":}", "{\"a\" 1}", "[1,2", "[1 2]", "{\"a\":1,}x",
                          "\"unterminated", "{\"a\":tru}", "{} {}", "{\"a\":\"\x01\"}" };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        cr_assert_eq(parse(&j, bad[i]), -1, "accepted: %s", bad[i]);
    char deep[200];
    memset(deep, '[', 100);
    memset(deep + 100, ']', 100);
    cr_assert_eq(rh_json_parse(&j, deep, 200, toks, 256), -1, "nesting over 64");
    cr_assert_eq(rh_json_parse(&j, "[1,2,3,4]", 9, toks, 3), -1, "more tokens than room");
}
