/*
 * Unit tests of rehearse_opts.c: defaults, every value it refuses (exit 1)
 * with the option named, and usage errors (exit 2).
 */
#include <criterion/criterion.h>

#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "rehearse_opts.h"

static struct rh_opts o;
static char err[512];

#define ARGS(...) (char *[]){ "rehearse", __VA_ARGS__, NULL }
#define NARGS(...) ((int)(sizeof((char *[]){ "rehearse", __VA_ARGS__ }) / sizeof(char *)))
#define PARSE(...) rh_opts_parse(&o, NARGS(__VA_ARGS__), ARGS(__VA_ARGS__), err, sizeof err)

Test(rehearse_opts, defaults_and_a_full_line)
{
    cr_assert_eq(PARSE("http://127.0.0.1:8080/shop?x=1"), 0, "%s", err);
    cr_assert_eq(o.rate_from, 50);
    cr_assert_eq(o.rate_to, 500);
    cr_assert_eq(o.step_ms, 20000);
    cr_assert_float_eq(o.slo_p99_ms, 300, 1e-9);
    cr_assert_float_eq(o.slo_errors, 0.001, 1e-12);
    cr_assert_str_eq(o.host, "127.0.0.1:8080");
    cr_assert_str_eq(o.path, "/shop?x=1");
    cr_assert_eq(PARSE("--rate", "100:300:100", "--step-time=3s", "--conns", "8", "--slo",
                       "p99=100ms,errors=1%", "--stats", "127.0.0.1:8404", "--header",
                       "X-Campaign: spring", "http://localhost:9/"), 0, "%s", err);
    cr_assert_eq(o.rate_from, 100);
    cr_assert_eq(o.rate_to, 300);
    cr_assert_eq(o.rate_step, 100);
    cr_assert_eq(o.step_ms, 3000);
    cr_assert_eq(o.conns, 8);
    cr_assert_float_eq(o.slo_p99_ms, 100, 1e-9);
    cr_assert_float_eq(o.slo_errors, 0.01, 1e-12);
    cr_assert(o.have_stats);
    cr_assert_eq(o.nheaders, 1);
    cr_assert_eq(PARSE("--rate", "250", "http://[::1]:8080"), 0, "%s", err);
    cr_assert_eq(o.rate_from, 250);
    cr_assert_eq(o.rate_to, 250);
    cr_assert_str_eq(o.path, "/");
    cr_assert_str_eq(o.port_text, "8080");
}

static void refused(int rc, const char *want)
{
    cr_assert_eq(rc, 1, "expected a refused value (%s), got %d: %s", want, rc, err);
    cr_assert(strstr(err, want), "message \"%s\" does not say \"%s\"", err, want);
}

Test(rehearse_opts, bad_values_exit_1_with_the_option_named)
{
    refused(PARSE("--rate", "x", "http://127.0.0.1/"), "--rate");
    refused(PARSE("--rate", "300:100:10", "http://127.0.0.1/"), "below FROM");
    refused(PARSE("--rate", "1:100000:1", "http://127.0.0.1/"), "more than");
    refused(PARSE("--rate", "0:10:1", "http://127.0.0.1/"), "--rate");
    refused(PARSE("--rate", "1:2:3:4", "http://127.0.0.1/"), "--rate");
    refused(PARSE("--step-time", "20", "http://127.0.0.1/"), "--step-time");
    refused(PARSE("--conns", "0", "http://127.0.0.1/"), "--conns");
    refused(PARSE("--rate", "1", "--step-time", "500ms", "http://127.0.0.1/"), "sends no request");
    refused(PARSE("--slo", "p99=fast", "http://127.0.0.1/"), "p99=");
    refused(PARSE("--slo", "errors=150%", "http://127.0.0.1/"), "errors=");
    refused(PARSE("--slo", "p50=10ms", "http://127.0.0.1/"), "unknown objective");
    refused(PARSE("--stats", "nowhere", "http://127.0.0.1/"), "--stats");
    refused(PARSE("--header", "NoColon", "http://127.0.0.1/"), "--header");
    refused(PARSE("--header", "Bad Name: x", "http://127.0.0.1/"), "field name");
    refused(PARSE("https://127.0.0.1/"), "not supported yet");
    refused(PARSE("ftp://127.0.0.1/"), "http://");
    refused(PARSE("http://127.0.0.1:99999/"), "bad port");
}

/* A TO that FROM + n x STEP misses is a step of its own, the last: the
 * top rate asked is tried (10:25:10 ran 10 and 20 only, and said the
 * capacity was at least 20). */
Test(rehearse_opts, the_top_rate_is_always_a_step)
{
    cr_assert_eq(PARSE("--rate", "10:25:10", "http://127.0.0.1:8080/"), 0, "%s", err);
    cr_assert_eq(rh_opts_nsteps(&o), 3);
    cr_assert_eq(rh_opts_step_rate(&o, 0), 10);
    cr_assert_eq(rh_opts_step_rate(&o, 1), 20);
    cr_assert_eq(rh_opts_step_rate(&o, 2), 25);
    cr_assert_eq(PARSE("--rate", "100:300:100", "http://127.0.0.1:8080/"), 0, "%s", err);
    cr_assert_eq(rh_opts_nsteps(&o), 3);
    cr_assert_eq(rh_opts_step_rate(&o, 2), 300);
    cr_assert_eq(PARSE("--rate", "40", "http://127.0.0.1:8080/"), 0, "%s", err);
    cr_assert_eq(rh_opts_nsteps(&o), 1);
    cr_assert_eq(rh_opts_step_rate(&o, 0), 40);
}

Test(rehearse_opts, usage_errors_exit_2)
{
    cr_assert_eq(PARSE("--rate", "1:2:1"), 2, "no URL");
    cr_assert_eq(PARSE("--frobnicate", "http://127.0.0.1/"), 2);
    cr_assert(strstr(err, "--frobnicate"), "%s", err);
    cr_assert_eq(PARSE("http://127.0.0.1/", "http://127.0.0.2/"), 2, "two URLs");
    cr_assert_eq(PARSE("http://127.0.0.1/", "--rate"), 2, "a missing value");
}

Test(rehearse_opts, default_conns_follow_the_top_rate)
{
    cr_assert_eq(PARSE("--rate", "100:20000:100", "http://127.0.0.1/"), 0);
    cr_assert_eq(rh_opts_conns(&o, 1 << 20), 12000, "20000/s x 2 x 300 ms");
    cr_assert_eq(rh_opts_conns(&o, 1024), 992, "within the fd limit");
    cr_assert_eq(PARSE("--rate", "10", "http://127.0.0.1/"), 0);
    cr_assert_eq(rh_opts_conns(&o, 1 << 20), 64, "never fewer than 64");
    cr_assert_eq(PARSE("--conns", "5", "http://127.0.0.1/"), 0);
    cr_assert_eq(rh_opts_conns(&o, 1 << 20), 5);
}

Test(rehearse_opts, paths_file_builds_the_mix)
{
    char path[] = "/tmp/rh_paths_XXXXXX";
    int fd = mkstemp(path);
    FILE *f = fdopen(fd, "w");
    fprintf(f, "# the campaign\n60 GET /\n30 GET /product/42\n\n10 POST /cart\n");
    fclose(f);
    cr_assert_eq(PARSE("--paths", path, "--header", "Cookie: a=b", "http://127.0.0.1:8080/"), 0);
    struct rh_entry *e;
    int n = rh_entries_load(&o, &e, err, sizeof err);
    cr_assert_eq(n, 3, "%s", err);
    cr_assert_eq(e[0].weight, 60);
    cr_assert_str_eq(e[2].method, "POST");
    cr_assert(strstr(e[1].req, "GET /product/42 HTTP/1.1\r\nHost: 127.0.0.1:8080\r\n"), "%s",
              e[1].req);
    cr_assert(strstr(e[1].req, "Cookie: a=b\r\n"));
    cr_assert(strstr(e[2].req, "Content-Length: 0\r\n\r\n"), "%s", e[2].req);
    rh_entries_free(e, n);

    f = fopen(path, "w");
    fprintf(f, "10 GET /\nfive GET /x\n");
    fclose(f);
    cr_assert_eq(rh_entries_load(&o, &e, err, sizeof err), -1);
    cr_assert(strstr(err, ":2: weight"), "%s", err);
    f = fopen(path, "w");
    fprintf(f, "10 FETCH /\n");
    fclose(f);
    cr_assert_eq(rh_entries_load(&o, &e, err, sizeof err), -1);
    cr_assert(strstr(err, ":1: unknown method"), "%s", err);
    unlink(path);
}
