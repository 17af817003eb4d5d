/*
 * Unit tests of rehearse_report.c: report.json carries CONTRACT section
 * 11's fields with their values (read back with rehearse_json), and the
 * HTML report is self-contained.
 */
#include <criterion/criterion.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "rehearse_json.h"
#include "rehearse_opts.h"
#include "rehearse_report.h"

static struct rh_opts o;
static struct rh_step steps[2];
static struct rh_json_tok toks[4096];

static void setup_run(struct rh_run_info *ri, struct rh_suggest *sg)
{
    char err[256];
    char *argv[] = { "rehearse", "--slo", "p99=100ms,errors=0.5%", "http://127.0.0.1:8080/x",
                     NULL };
    cr_assert_eq(rh_opts_parse(&o, 4, argv, err, sizeof err), 0, "%s", err);
    memset(steps, 0, sizeof steps);
    steps[0] = (struct rh_step){ .rate = 100, .achieved = 100, .sent = 300, .p50_ms = 21,
                                 .p99_ms = 30, .mean_ms = 22, .held = 1, .nservers = 1 };
    strcpy(steps[0].servers[0].pool, "web");
    strcpy(steps[0].servers[0].name, "app\"1");
    steps[0].servers[0].active_max = 3;
    steps[0].servers[0].queued_max = 0;
    steps[0].servers[0].failures_base = 5;
    steps[0].servers[0].failures_last = 7;
    steps[1] = (struct rh_step){ .rate = 200, .achieved = 180, .sent = 600, .errors = 9,
                                 .p50_ms = 400, .p99_ms = 900, .held = 0 };
    steps[1].err[RH_ERR_TIMEOUT] = 9;
    rh_suggest(steps, 2, o.slo_p99_ms, sg);
    *ri = (struct rh_run_info){ .o = &o, .steps = steps, .n = 2, .nsteps_planned = 3,
                                .conns = 64, .sg = sg, .started = "2026-12-01T00:00:00Z" };
}

Test(rehearse_report, json_has_the_contract_fields)
{
    struct rh_run_info ri;
    struct rh_suggest sg;
    setup_run(&ri, &sg);
    char *text = rh_report_json(&ri);
    cr_assert_not_null(text);
    struct rh_json j;
    cr_assert_gt(rh_json_parse(&j, text, strlen(text), toks, 4096), 0, "%s", text);
    char buf[64];
    cr_assert_str_eq(rh_json_str(&j, rh_json_get(&j, 0, "url"), buf, sizeof buf),
                     "http://127.0.0.1:8080/x");
    int slo = rh_json_get(&j, 0, "slo");
    cr_assert_float_eq(rh_json_num(&j, rh_json_get(&j, slo, "p99_ms"), -1), 100, 1e-9);
    cr_assert_float_eq(rh_json_num(&j, rh_json_get(&j, slo, "errors"), -1), 0.005, 1e-9);
    cr_assert_float_eq(rh_json_num(&j, rh_json_get(&j, 0, "capacity"), -1), 100, 1e-9);
    int st = rh_json_get(&j, 0, "steps");
    int s0 = rh_json_first(&j, st), s1 = rh_json_after(&j, st, s0);
    const char *keys[] = { "rate", "achieved", "sent", "errors", "p50_ms", "p99_ms", "held",
                           "servers" };
    for (size_t k = 0; k < sizeof keys / sizeof keys[0]; k++)
        cr_assert_geq(rh_json_get(&j, s1, keys[k]), 0, "step without %s", keys[k]);
    cr_assert_eq(j.toks[rh_json_get(&j, s0, "held")].type, RJ_TRUE);
    cr_assert_eq(j.toks[rh_json_get(&j, s1, "held")].type, RJ_FALSE);
    cr_assert_float_eq(rh_json_num(&j, rh_json_get(&j, s1, "errors"), -1), 9, 1e-9);
    int srv = rh_json_first(&j, rh_json_get(&j, s0, "servers"));
    cr_assert_str_eq(rh_json_str(&j, rh_json_get(&j, srv, "pool"), buf, sizeof buf), "web");
    cr_assert_str_eq(rh_json_str(&j, rh_json_get(&j, srv, "name"), buf, sizeof buf), "app\\\"1",
                     "escaped");
    cr_assert_float_eq(rh_json_num(&j, rh_json_get(&j, srv, "active_max"), -1), 3, 1e-9);
    cr_assert_float_eq(rh_json_num(&j, rh_json_get(&j, srv, "queued_max"), -1), 0, 1e-9);
    cr_assert_float_eq(rh_json_num(&j, rh_json_get(&j, srv, "errors"), -1), 2, 1e-9);
    int sug = rh_json_get(&j, 0, "suggest");
    cr_assert_float_eq(rh_json_num(&j, rh_json_get(&j, sug, "max_queue"), -1), 10, 1e-9);
    free(text);
}

Test(rehearse_report, html_is_self_contained_with_its_charts)
{
    struct rh_run_info ri;
    struct rh_suggest sg;
    setup_run(&ri, &sg);
    char dir[] = "/tmp/rh_report_XXXXXX";
    cr_assert_not_null(mkdtemp(dir));
    cr_assert_eq(rh_report_write(dir, &ri), 0);
    char path[256];
    snprintf(path, sizeof path, "%s/report.html", dir);
    FILE *f = fopen(path, "r");
    cr_assert_not_null(f);
    static char html[1 << 20];
    size_t n = fread(html, 1, sizeof html - 1, f);
    html[n] = '\0';
    fclose(f);
    int svgs = 0;
    for (const char *p = html; (p = strstr(p, "<svg")); p++)
        svgs++;
    cr_assert_eq(svgs, 5, "latency, rate, errors, in flight, queue");
    cr_assert_null(strstr(html, "<script"), "no script");
    cr_assert_null(strstr(html, "src="), "nothing to fetch");
    cr_assert_null(strstr(html, "href="), "nothing to fetch");
    cr_assert(strstr(html, "Capacity found: <b>100 requests/s</b>"));
    cr_assert(strstr(html, "max-conns 3"));
    /* CONTRACT 11: the settings it suggests, limit rate among them (90%
     * of the capacity found). */
    char want[64];
    snprintf(want, sizeof want, "limit rate %u/s burst %u", sg.limit_rate, sg.limit_burst);
    cr_assert_eq(sg.limit_rate, 90);
    cr_assert(strstr(html, want), "no \"%s\" in report.html", want);
    cr_assert(strstr(html, "app&quot;1"), "names are escaped");
    unlink(path);
    snprintf(path, sizeof path, "%s/report.json", dir);
    unlink(path);
    rmdir(dir);
}
