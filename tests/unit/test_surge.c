/*
 * Surge detection (surge.c) and its configuration (config_surge.c): the
 * baseline, the start after `surge hold`, the end after six holds under
 * half the threshold, no flapping at the threshold, all with a fake clock
 * (a rate is handed in per second).
 */
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "config.h"
#include "fixtures.h"
#include "metrics.h"
#include "stats_json.h"
#include "stats_surge.h"
#include "surge.h"

#define POOL "\npool tail {\n server t1 127.0.0.1:9000\n}\n"

/* Messages name the file as an installed proxy's would. */
#define CONF "/etc/proxy/t.conf"

Test(config_surge, defaults)
{
    struct config *cfg = fixture_config(CONF, "listen 127.0.0.1:8080" POOL);
    cr_assert_float_eq(cfg->surge.threshold, 3.0, 1e-9);
    cr_assert_eq(cfg->surge.hold_ms, 10000);
    cr_assert_float_eq(cfg->surge.min_rate, 20.0, 1e-9);
    cr_assert_eq(cfg->surge.baseline_ms, 1800000);
    cr_assert_eq(cfg->surge.enabled, 1, "detection is on unless turned off");
    config_free(cfg);
}

Test(config_surge, values)
{
    struct config *cfg = fixture_config(CONF, "listen 127.0.0.1:8080\nsurge threshold 2.5x\nsurge hold 3s\n"
                                  "surge min-rate 5/s\nsurge baseline 20s" POOL);
    cr_assert_float_eq(cfg->surge.threshold, 2.5, 1e-9);
    cr_assert_eq(cfg->surge.hold_ms, 3000);
    cr_assert_float_eq(cfg->surge.min_rate, 5.0, 1e-9);
    cr_assert_eq(cfg->surge.baseline_ms, 20000);
    config_free(cfg);
    /* The factor's "x" may be left out. */
    cfg = fixture_config(CONF, "listen 127.0.0.1:8080\nsurge threshold 4" POOL);
    cr_assert_float_eq(cfg->surge.threshold, 4.0, 1e-9);
    config_free(cfg);
    /* Off, its other settings kept for when it is on again. */
    cfg = fixture_config(CONF, "listen 127.0.0.1:8080\nsurge off\nsurge threshold 5x" POOL);
    cr_assert_eq(cfg->surge.enabled, 0);
    cr_assert_float_eq(cfg->surge.threshold, 5.0, 1e-9);
    config_free(cfg);
}

Test(config_surge, errors)
{
    fixture_config_error(CONF, "surge threshold abc" POOL,
                 "/etc/proxy/t.conf:1: surge threshold: expected a factor such as 3x, got \"abc\"");
    fixture_config_error(CONF, "surge threshold 1x" POOL,
                 "/etc/proxy/t.conf:1: surge threshold: 1x is out of range (more than 1x, at most 1000x)");
    fixture_config_error(CONF, "\nsurge min-rate 20" POOL,
                 "/etc/proxy/t.conf:2: surge min-rate: expected requests per second such as 20/s, got \"20\"");
    fixture_config_error(CONF, "surge min-rate 0/s" POOL,
                 "/etc/proxy/t.conf:1: surge min-rate: 0/s is out of range (more than 0/s, at most 10000000/s)");
    fixture_config_error(CONF, "surge hold 500ms" POOL,
                 "/etc/proxy/t.conf:1: surge hold: 500ms is out of range (1s to 3600s; the rate is looked at "
                 "once a second)");
    fixture_config_error(CONF, "surge baseline ten" POOL,
                 "/etc/proxy/t.conf:1: surge baseline: expected a duration, got \"ten\" (e.g. 250ms, 2s, 5m, 1h)");
    fixture_config_error(CONF, "surge often 3x" POOL,
                 "/etc/proxy/t.conf:1: surge: unknown setting \"often\" (expected off, threshold, hold, min-rate "
                 "or baseline)");
    fixture_config_error(CONF, "surge hold 2s\nsurge hold 3s" POOL,
                 "/etc/proxy/t.conf:2: duplicate \"surge hold\" (first defined at line 1)");
    fixture_config_error(CONF, "surge hold" POOL,
                 "/etc/proxy/t.conf:1: surge: wrong number of arguments (expected "
                 "\"surge off | threshold FACTORx | hold DURATION | min-rate N/s | baseline DURATION\")");
    fixture_config_error(CONF, "surge" POOL,
                 "/etc/proxy/t.conf:1: surge: wrong number of arguments (expected "
                 "\"surge off | threshold FACTORx | hold DURATION | min-rate N/s | baseline DURATION\")");
    fixture_config_error(CONF, "surge off 3x" POOL,
                 "/etc/proxy/t.conf:1: surge off: takes no value, got \"3x\" (detection is on unless turned off)");
    fixture_config_error(CONF, "surge off\nsurge off" POOL,
                 "/etc/proxy/t.conf:2: duplicate \"surge off\" (first defined at line 1)");
}

/* ---- the detector ------------------------------------------------------------------------------ */

static const struct config_surge test_cfg = {
    .threshold = 3.0, .hold_ms = 10000, .min_rate = 20.0, .baseline_ms = 60000, .enabled = 1,
};

/* `n` seconds at `rate` from second *sec on; returns the changes seen
 * (+1 per start, +100 per end). */
static int run(struct surge_detector *d, double rate, unsigned n, uint64_t *sec)
{
    int changes = 0;
    for (unsigned i = 0; i < n; i++, (*sec)++) {
        enum surge_change c = surge_detector_step(d, rate, *sec * 1000);
        changes += c == SURGE_STARTED ? 1 : c == SURGE_ENDED ? 100 : 0;
    }
    return changes;
}

Test(surge, baseline_starts_at_min_rate_and_follows_the_rate)
{
    struct surge_detector d;
    uint64_t sec = 1;
    surge_detector_init(&d, &test_cfg);
    cr_assert_float_eq(d.baseline, 20.0, 1e-9);
    /* Warm-up: the mean of min-rate and the rates so far. */
    cr_assert_eq(run(&d, 50.0, 58, &sec), 0);
    cr_assert_float_eq(d.baseline, (20.0 + 58 * 50.0) / 59, 1e-6);
    cr_assert_eq(run(&d, 50.0, 600, &sec), 0);
    cr_assert_float_eq(d.baseline, 50.0, 0.01);
    /* Then a moving average: one time constant at 80/s goes 63% of the
     * way from 50 to 80. */
    cr_assert_eq(run(&d, 80.0, 60, &sec), 0);
    cr_assert_float_eq(d.baseline, 50.0 + 30.0 * (1.0 - exp(-1.0)), 0.05);
    /* Quiet: it falls too (and a quiet site never surges below min-rate). */
    cr_assert_eq(run(&d, 2.0, 600, &sec), 0);
    cr_assert_lt(d.baseline, 3.0);
    cr_assert_eq(run(&d, 15.0, 100, &sec), 0, "under min-rate: no surge whatever the ratio");
}

Test(surge, a_busy_site_is_no_surge_at_start)
{
    struct surge_detector d;
    uint64_t sec = 1;
    surge_detector_init(&d, &test_cfg);
    cr_assert_eq(run(&d, 500.0, 30, &sec), 0);
    cr_assert_gt(d.baseline, 400.0);
    cr_assert_eq(run(&d, 500.0, 600, &sec), 0);
    cr_assert_float_eq(d.baseline, 500.0, 1.0);
    cr_assert_eq(run(&d, 2000.0, 10, &sec), 1, "and after the warm-up a surge is one");
}

Test(surge, starts_after_hold_and_freezes_the_baseline)
{
    struct surge_detector d;
    uint64_t sec = 1;
    surge_detector_init(&d, &test_cfg);
    run(&d, 100.0, 900, &sec);
    double base = d.baseline;
    cr_assert_float_eq(base, 100.0, 0.01);
    /* 9 seconds above 3x: not yet. */
    cr_assert_eq(run(&d, 400.0, 9, &sec), 0);
    cr_assert_not(d.active);
    cr_assert_float_eq(d.baseline, base, 1e-9, "no baseline creep while a surge may be starting");
    cr_assert_eq(run(&d, 400.0, 1, &sec), 1);
    cr_assert(d.active);
    cr_assert_eq(d.since_ms, (sec - 1) * 1000);
    cr_assert_float_eq(d.ratio, 4.0, 0.01);
    /* A long surge does not become the baseline. */
    cr_assert_eq(run(&d, 400.0, 3600, &sec), 0);
    cr_assert_float_eq(d.baseline, base, 1e-9);
    cr_assert(d.active);
}

Test(surge, a_dip_restarts_the_hold)
{
    struct surge_detector d;
    uint64_t sec = 1;
    surge_detector_init(&d, &test_cfg);
    run(&d, 100.0, 900, &sec);
    for (int i = 0; i < 20; i++) {
        cr_assert_eq(run(&d, 400.0, 9, &sec), 0);
        cr_assert_eq(run(&d, 250.0, 1, &sec), 0);
    }
    cr_assert_not(d.active);
}

Test(surge, ends_after_six_holds_under_half_the_threshold)
{
    struct surge_detector d;
    uint64_t sec = 1;
    surge_detector_init(&d, &test_cfg);
    run(&d, 100.0, 900, &sec);
    cr_assert_eq(run(&d, 500.0, 10, &sec), 1);
    /* Under 3x but over 1.5x: still a surge. */
    cr_assert_eq(run(&d, 200.0, 600, &sec), 0);
    cr_assert(d.active);
    cr_assert_eq(run(&d, 140.0, 59, &sec), 0);
    cr_assert(d.active);
    cr_assert_eq(run(&d, 140.0, 1, &sec), 100);
    cr_assert_not(d.active);
}

Test(surge, no_flapping_at_the_threshold)
{
    struct surge_detector d;
    uint64_t sec = 1;
    surge_detector_init(&d, &test_cfg);
    run(&d, 100.0, 900, &sec);
    cr_assert_eq(run(&d, 320.0, 10, &sec), 1);
    /* A rate wavering about the threshold (and dipping under half of it
     * now and then, for less than six holds) stays one surge. */
    int changes = 0;
    for (int i = 0; i < 200; i++) {
        changes += run(&d, 310.0, 3, &sec);
        changes += run(&d, 290.0, 3, &sec);
        changes += run(&d, 120.0, 40, &sec);
    }
    cr_assert_eq(changes, 0);
    cr_assert(d.active);
    /* And once over, the same wavering does not start one again and again:
     * each start needs a full hold above the threshold. */
    cr_assert_eq(run(&d, 120.0, 60, &sec), 100);
    changes = 0;
    for (int i = 0; i < 200; i++) {
        changes += run(&d, 310.0, 5, &sec);
        changes += run(&d, 290.0, 5, &sec);
    }
    cr_assert_eq(changes, 0);
}

Test(surge, reconfigure_keeps_the_state)
{
    struct surge_detector d;
    uint64_t sec = 1;
    surge_detector_init(&d, &test_cfg);
    run(&d, 100.0, 900, &sec);
    run(&d, 500.0, 10, &sec);
    cr_assert(d.active);
    struct config_surge c = test_cfg;
    c.hold_ms = 2000;
    surge_detector_configure(&d, &c);
    cr_assert(d.active);
    cr_assert_float_eq(d.baseline, 100.0, 0.01);
    cr_assert_eq(run(&d, 100.0, 11, &sec), 0);
    cr_assert_eq(run(&d, 100.0, 1, &sec), 100, "six holds of 2 s");
}

/* ---- the process's detector on the request counter ----------------------------------------- */

Test(surge, tick_reads_the_process_rate)
{
    struct config_surge c = { .threshold = 3.0, .hold_ms = 2000, .min_rate = 5.0, .baseline_ms = 10000,
                              .enabled = 1 };
    uint64_t sec = 5000;
    surge_reset();
    traffic_reset();
    for (; sec < 5030; sec++) {
        for (int i = 0; i < 10; i++)
            rate_ring_bump(&metrics.rate, sec);
        surge_tick(&c, (sec + 1) * 1000, (time_t)sec);
    }
    cr_assert_not(surge_status()->det.active);
    cr_assert_float_eq(surge_status()->det.baseline, 10.0, 0.5);
    for (int k = 0; k < 2; k++, sec++) {
        for (int i = 0; i < 100; i++)
            rate_ring_bump(&metrics.rate, sec);
        surge_tick(&c, (sec + 1) * 1000, (time_t)sec);
    }
    cr_assert(surge_status()->det.active);
    cr_assert_eq(surge_status()->since, (time_t)(sec - 1));
    cr_assert_float_eq(surge_status()->det.rate, 100.0, 1e-9);
    char text[600];
    surge_describe(surge_status(), text, sizeof text);
    cr_assert(strstr(text, "rate 100/s, baseline ") == text, "%s", text);
    /* No client was noted: no window measured, not a rate of 0/s. */
    cr_assert(strstr(text, "; per-client rate not known yet (no complete 10 s window)"), "%s", text);
    /* Two ticks in one second count it once; a late one catches up. */
    uint64_t below = surge_status()->det.below_s;
    surge_tick(&c, sec * 1000 + 400, (time_t)sec);
    surge_tick(&c, sec * 1000 + 900, (time_t)sec);
    cr_assert_eq(surge_status()->det.below_s, below);
    surge_tick(&c, (sec + 3) * 1000 + 100, (time_t)(sec + 3));
    cr_assert_eq(surge_status()->det.below_s, below + 3, "seconds %llu..%llu were quiet",
                 (unsigned long long)sec, (unsigned long long)sec + 2);
    sec += 3;
}

/* `surge off`: whatever the rate, no surge, and the stats say so. */
Test(surge, off_declares_nothing)
{
    struct config_surge on = { .threshold = 3.0, .hold_ms = 2000, .min_rate = 5.0, .baseline_ms = 10000,
                               .enabled = 1 };
    struct config_surge off = on;
    off.enabled = 0;
    uint64_t sec = 9000;
    surge_reset();
    traffic_reset();
    struct stats_buf b;
    stats_buf_init(&b);
    stats_json_traffic(&b);
    cr_assert(strstr(b.data, ",\"threshold\":0,\"detection\":\"on\","), "before the first tick: %s", b.data);
    for (; sec < 9030; sec++) {
        for (int i = 0; i < (sec < 9020 ? 10 : 500); i++)
            rate_ring_bump(&metrics.rate, sec);
        surge_tick(sec < 9020 ? &on : &off, (sec + 1) * 1000, (time_t)sec);
        cr_assert_not(surge_status()->det.active, "second %llu", (unsigned long long)sec);
    }
    stats_buf_reset(&b);
    stats_json_traffic(&b);
    cr_assert(strstr(b.data, ",\"detection\":\"off\","), "%s", b.data);
    cr_assert(strstr(b.data, "\"surge\":{\"active\":false,"), "%s", b.data);
    cr_assert_float_eq(surge_status()->det.rate, 0.0, 1e-9, "not measured");
    /* Turned on again (a reload): it measures from there, warming up
     * afresh. */
    for (; sec < 9033; sec++) {
        for (int i = 0; i < 500; i++)
            rate_ring_bump(&metrics.rate, sec);
        surge_tick(&on, (sec + 1) * 1000, (time_t)sec);
    }
    cr_assert_float_eq(surge_status()->det.rate, 500.0, 1e-9);
    cr_assert_eq(surge_status()->det.samples, 3);
    stats_buf_reset(&b);
    stats_json_traffic(&b);
    cr_assert(strstr(b.data, ",\"detection\":\"on\","), "%s", b.data);
    stats_buf_free(&b);
}

/* ---- /api/stats and /metrics ------------------------------------------------------------------ */

Test(surge, stats_and_metrics_tell_the_surge)
{
    struct config_surge c = { .threshold = 3.0, .hold_ms = 2000, .min_rate = 5.0, .baseline_ms = 10000,
                              .enabled = 1 };
    uint64_t sec = 7000;
    surge_reset();
    traffic_reset();
    for (; sec < 7030; sec++) {
        for (int i = 0; i < 10; i++) {
            rate_ring_bump(&metrics.rate, sec);
            traffic_note("192.0.2.10", "/", 1, sec * 1000 + (uint64_t)i);
        }
        surge_tick(&c, (sec + 1) * 1000, (time_t)sec);
        traffic_handover();
    }
    struct stats_buf b;
    stats_buf_init(&b);
    stats_json_traffic(&b);
    cr_assert(strstr(b.data, ",\"traffic\":{\"rate\":10.0,\"baseline\":") == b.data, "%s", b.data);
    cr_assert(strstr(b.data, "\"surge\":{\"active\":false,\"since\":null,"), "%s", b.data);
    stats_buf_reset(&b);
    stats_prom_traffic(&b);
    cr_assert(strstr(b.data, "\nproxy_surge_active 0\n"), "%s", b.data);
    /* A flood from two clients. */
    for (int k = 0; k < 3; k++, sec++) {
        for (int i = 0; i < 200; i++) {
            rate_ring_bump(&metrics.rate, sec);
            traffic_note(i % 2 ? "203.0.113.7" : "203.0.113.8", "/login?u=x", 10, sec * 1000 + (uint64_t)i);
        }
        surge_tick(&c, (sec + 1) * 1000, (time_t)sec);
        traffic_handover();
    }
    cr_assert(surge_status()->det.active);
    stats_buf_reset(&b);
    stats_json_traffic(&b);
    char want[128];
    snprintf(want, sizeof want, "\"surge\":{\"active\":true,\"since\":%llu,", (unsigned long long)(sec - 2));
    cr_assert(strstr(b.data, want), "%s", b.data);
    cr_assert(strstr(b.data, ",\"shape\":\"concentrated\"}"), "%s", b.data);
    cr_assert(strstr(b.data, "\"clients\":{\"distinct_10s\":3,"), "%s", b.data);
    /* The last 10 s: 7 quiet seconds at 10/s and 3 at 200/s over 3
     * clients; the top one well above the mean. */
    cr_assert(strstr(b.data, ",\"mean_rate\":"), "%s", b.data);
    double mean = 0, top = 0;
    const char *mr = strstr(b.data, "\"mean_rate\":"), *tr = strstr(b.data, "\"top_rate\":");
    cr_assert(mr && tr && sscanf(mr, "\"mean_rate\":%lf", &mean) == 1 && sscanf(tr, "\"top_rate\":%lf", &top) == 1);
    cr_assert_float_eq(mean, (7 * 10.0 + 3 * 200.0) / 10.0 / 3.0, 0.01, "%f", mean);
    cr_assert_float_eq(top, surge_status()->view.clients[0].share * 67.0, 0.1, "%f", top);
    cr_assert_gt(top, 15.0, "%f", top);
    cr_assert(strstr(b.data, "\"prefixes\":[{\"prefix\":\"203.0.113.0/24\",\"requests\":"), "%s", b.data);
    cr_assert(strstr(b.data, "\"paths\":[{\"path\":\"/login\","), "%s", b.data);
    stats_buf_reset(&b);
    stats_prom_traffic(&b);
    cr_assert(strstr(b.data, "\nproxy_surge_active 1\n"), "%s", b.data);
    cr_assert(strstr(b.data, "\nproxy_traffic_shape{shape=\"concentrated\"} 1\n"), "%s", b.data);
    cr_assert(strstr(b.data, "\nproxy_request_rate 200\n"), "%s", b.data);
    cr_assert(strstr(b.data, "\nproxy_request_rate_baseline "), "%s", b.data);
    cr_assert(strstr(b.data, "\nproxy_clients_distinct 3\n"), "%s", b.data);
    cr_assert(strstr(b.data, "\nproxy_clients_new_ratio "), "%s", b.data);
    /* The rates: the last complete window (7020..7029) was the one quiet
     * client at 10/s. */
    stats_buf_reset(&b);
    stats_json_traffic(&b);
    cr_assert(strstr(b.data, ",\"top_rate\":"), "%s", b.data);
    cr_assert(strstr(b.data, ",\"rates\":{\"window_s\":10,\"clients\":1,\"p50\":10.00,\"p90\":10.00,"
                             "\"p99\":10.00,\"max\":10.00,\"buckets\":[{\"le\":12.8,\"clients\":1}]}}"),
              "%s", b.data);
    /* The flood goes on to the window's end: 7030..7039, the two clients
     * at 100/s each (1000 requests: bucket 769..1024, where the
     * percentiles interpolate, up to the max). */
    for (; sec < 7040; sec++) {
        for (int i = 0; i < 200; i++) {
            rate_ring_bump(&metrics.rate, sec);
            traffic_note(i % 2 ? "203.0.113.7" : "203.0.113.8", "/login", 6, sec * 1000 + (uint64_t)i);
        }
        surge_tick(&c, (sec + 1) * 1000, (time_t)sec);
        traffic_handover();
    }
    stats_buf_reset(&b);
    stats_json_traffic(&b);
    cr_assert(strstr(b.data, ",\"rates\":{\"window_s\":10,\"clients\":2,\"p50\":89.65,\"p90\":99.85,"
                             "\"p99\":100.00,\"max\":100.00,\"buckets\":[{\"le\":102.4,\"clients\":2}]}}"),
              "%s", b.data);
    stats_buf_reset(&b);
    stats_prom_traffic(&b);
    cr_assert(strstr(b.data, "\n# TYPE proxy_client_request_rate histogram\n"
                             "proxy_client_request_rate_bucket{le=\"0.1\"} 0\n"), "%s", b.data);
    cr_assert(strstr(b.data, "\nproxy_client_request_rate_bucket{le=\"76.8\"} 0\n"
                             "proxy_client_request_rate_bucket{le=\"102.4\"} 2\n"), "%s", b.data);
    cr_assert(strstr(b.data, "\nproxy_client_request_rate_bucket{le=\"1677721.6\"} 2\n"
                             "proxy_client_request_rate_bucket{le=\"+Inf\"} 2\n"
                             "proxy_client_request_rate_sum 200.0\n"
                             "proxy_client_request_rate_count 2\n"), "%s", b.data);
    char text[1400];
    surge_describe(surge_status(), text, sizeof text);
    cr_assert(strstr(text, "; per-client rate p50 89.7/s, p99 100.0/s, max 100.0/s"), "%s", text);
    stats_buf_free(&b);
}
