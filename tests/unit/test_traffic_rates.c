/*
 * The per-client request-rate histogram (traffic_rates.c), fed with
 * synthetic traffic on a fake clock and set against the exact per-client
 * counts: the half-octave buckets, the percentiles of a few heavy clients
 * among many light ones, a window's turn, 1e5 distinct clients (sketch
 * collisions bounded), stamps that do not come round again, two threads
 * at once, and traffic_note/traffic_tick carrying it into the view.
 */
#include <criterion/criterion.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "traffic.h"

/* Window 10,000 starts here (a 10 s window: its number is ms / 10,000). */
#define T0_MS (100000ull * 1000)

static uint64_t client_hash(unsigned i)
{
    char name[32];
    int n = snprintf(name, sizeof name, "10.%u.%u.%u", (i >> 16) & 255, (i >> 8) & 255, i & 255);
    return sketch_hash(name, (size_t)n);
}

/* `per_client` requests from each of clients [first, first + n), spread
 * over the window from t0_ms on, interleaved as real traffic is. */
static void feed(unsigned first, unsigned n, unsigned per_client, uint64_t t0_ms)
{
    for (unsigned k = 0; k < per_client; k++)
        for (unsigned i = 0; i < n; i++)
            rates_note(client_hash(first + i), t0_ms + (uint64_t)k * 9000 / per_client);
}

Test(traffic_rates, half_octave_buckets)
{
    static const uint32_t edges[] = { 1, 2, 3, 4, 6, 8, 12, 16, 24, 32, 48, 64 };
    for (unsigned i = 0; i < sizeof edges / sizeof edges[0]; i++)
        cr_assert_eq(rates_bucket_count(i), edges[i], "bucket %u: %u", i, rates_bucket_count(i));
    cr_assert_eq(rates_bucket_count(RATES_BUCKETS - 1), 1u << 24);
    cr_assert_float_eq(rates_bucket_le(4), 0.6, 1e-9);
    /* Closed above: a count is in the first bucket whose edge is >= it. */
    static const uint32_t counts[] = { 1, 2, 3, 4, 5, 6, 7, 8, 9, 12, 13, 16, 17, 2048, 2049, RATES_COUNT_MAX };
    static const unsigned want[] = { 0, 1, 2, 3, 4, 4, 5, 5, 6, 6, 7, 7, 8, 21, 22, RATES_BUCKETS - 1 };
    for (unsigned i = 0; i < sizeof counts / sizeof counts[0]; i++)
        cr_assert_eq(rates_bucket_of(counts[i]), want[i], "count %u: bucket %u", counts[i],
                     rates_bucket_of(counts[i]));
    for (uint32_t c = 1; c < 100000; c++) {
        unsigned b = rates_bucket_of(c);
        cr_assert(c <= rates_bucket_count(b) && (b == 0 || c > rates_bucket_count(b - 1)), "count %u", c);
    }
}

Test(traffic_rates, quantiles_interpolate_within_a_bucket)
{
    uint32_t bucket[RATES_BUCKETS] = { 0 };
    bucket[0] = 50;                 /* count 1 */
    bucket[rates_bucket_of(10)] = 50; /* counts 9..12 */
    cr_assert_float_eq(rates_quantile(bucket, 100, 0.25, 10.0), 0.1, 1e-9);
    cr_assert_float_eq(rates_quantile(bucket, 100, 0.5, 10.0), 0.1, 1e-9);
    /* Three quarters: half-way through counts 9..12. */
    cr_assert_float_eq(rates_quantile(bucket, 100, 0.75, 10.0), 1.05, 1e-9);
    cr_assert_float_eq(rates_quantile(bucket, 100, 1.0, 10.0), 1.2, 1e-9);
    cr_assert_float_eq(rates_quantile(bucket, 100, 1.0, 1.1), 1.1, 1e-9, "never above the max");
    cr_assert_float_eq(rates_quantile(bucket, 0, 0.5, 1.1), 0.0, 1e-9);
}

/* The heavy clients' rates, within their bucket; the light ones' too. */
Test(traffic_rates, a_few_heavy_clients_among_many_light_ones)
{
    struct traffic_rates r;
    rates_reset();
    rates_tick(T0_MS, &r);
    cr_assert_eq(r.clients, 0);
    /* 1000 clients at 1 request/s and 20 at 200/s over the window. */
    feed(0, 1000, 10, T0_MS);
    feed(5000, 20, 2000, T0_MS);
    rates_tick(T0_MS + 5000, &r);
    cr_assert_eq(r.clients, 0, "the window is not over yet");
    rates_tick(T0_MS + 10000, &r);
    cr_assert_eq(r.window, T0_MS / 10000 + 1);
    cr_assert_eq(r.clients, 1020);
    cr_assert_eq(r.requests, 1000 * 10 + 20 * 2000);
    cr_assert_eq(r.bucket[rates_bucket_of(10)], 1000);
    cr_assert_eq(r.bucket[rates_bucket_of(2000)], 20);
    /* p50 and p90: light clients, 1/s, within their bucket (0.9..1.2/s). */
    cr_assert(r.p50 >= 0.9 && r.p50 <= 1.2, "p50 %f", r.p50);
    cr_assert(r.p90 >= 0.9 && r.p90 <= 1.2, "p90 %f", r.p90);
    /* p99: the heavy 2%, within theirs (153.7..204.8/s); max: 200/s. */
    cr_assert(r.p99 >= 153.6 && r.p99 <= 200.0, "p99 %f", r.p99);
    cr_assert_float_eq(r.max, 200.0, 0.11, "max %f", r.max);
    /* The view stays for the next window... */
    feed(0, 3, 1, T0_MS + 10000);
    rates_tick(T0_MS + 15000, &r);
    cr_assert_eq(r.clients, 1020);
    /* ... whose own turn shows only its 3 clients; then an empty one, nothing. */
    rates_tick(T0_MS + 20000, &r);
    cr_assert_eq(r.clients, 3);
    cr_assert_eq(r.bucket[0], 3, "the old window's counts are gone: %u", r.bucket[0]);
    cr_assert_float_eq(r.max, 0.1, 1e-9);
    rates_tick(T0_MS + 30000, &r);
    cr_assert_eq(r.clients, 0);
    cr_assert_float_eq(r.max, 0.0, 1e-9);
    cr_assert_float_eq(r.p50, 0.0, 1e-9);
}

/* 1e5 distinct clients in one window: collisions move some light clients
 * up a bucket, no more; the heavy ones stay where they are. */
Test(traffic_rates, 1e5_clients_stay_within_the_bucket_resolution)
{
    struct traffic_rates r;
    rates_reset();
    rates_tick(T0_MS, &r);
    feed(0, 100000, 1, T0_MS);
    feed(200000, 10, 1000, T0_MS);
    rates_tick(T0_MS + 10000, &r);
    cr_log_info("1e5 clients: %llu counted, bucket 1: %u, 2: %u, 3: %u", (unsigned long long)r.clients,
                r.bucket[0], r.bucket[1], r.bucket[2]);
    cr_assert(r.clients > 90000 && r.clients <= 100010, "clients %llu", (unsigned long long)r.clients);
    cr_assert_gt(r.bucket[0], 85000, "exact for most: %u", r.bucket[0]);
    cr_assert_float_eq(r.p50, 0.1, 1e-9, "p50 %f", r.p50);
    cr_assert_leq(r.p90, 0.2, "p90 %f", r.p90);
    cr_assert_eq(r.bucket[rates_bucket_of(1000)], 10);
    cr_assert(r.max >= 100.0 && r.max <= 100.5, "max %f", r.max);
}

/* A cell's stamp is the window's low 8 bits: the sweep empties old
 * cells, so a client back 256 windows later starts from 0. */
Test(traffic_rates, old_cells_do_not_come_round_again)
{
    struct traffic_rates r;
    rates_reset();
    rates_tick(T0_MS, &r);
    feed(7, 1, 50, T0_MS);
    for (uint64_t s = 1; s <= 30; s++)
        rates_tick(T0_MS + s * 1000, &r);
    uint64_t later = T0_MS + 256 * 10000;
    rates_tick(later, &r);
    feed(7, 1, 1, later);
    rates_tick(later + 10000, &r);
    cr_assert_eq(r.clients, 1);
    cr_assert_eq(r.bucket[0], 1, "counted from 0 again");
    cr_assert_float_eq(r.max, 0.1, 1e-9);
}

static void *feed_thread(void *arg)
{
    feed(*(unsigned *)arg, 5000, 3, T0_MS);
    return NULL;
}

/* Each thread counts in its own slot; the window adds them up. */
Test(traffic_rates, threads_at_once)
{
    struct traffic_rates r;
    pthread_t t[2];
    unsigned first[2] = { 0, 5000 };
    rates_reset();
    rates_tick(T0_MS, &r);
    for (int i = 0; i < 2; i++)
        pthread_create(&t[i], NULL, feed_thread, &first[i]);
    for (int i = 0; i < 2; i++)
        pthread_join(t[i], NULL);
    rates_tick(T0_MS + 10000, &r);
    cr_assert_eq(r.clients, 10000);
    cr_assert_eq(r.requests, 30000);
    cr_assert_eq(r.bucket[rates_bucket_of(3)], 10000);
}

/* Through traffic_note and traffic_tick, as the workers and the main
 * thread use it. */
Test(traffic_rates, in_the_traffic_view)
{
    struct traffic_view v;
    traffic_reset();
    traffic_tick(T0_MS, &v);
    for (unsigned k = 0; k < 100; k++) {
        traffic_note("192.0.2.1", "/", 1, T0_MS + k * 90);
        if (k < 10)
            traffic_note("192.0.2.2", "/", 1, T0_MS + k * 900);
    }
    traffic_tick(T0_MS + 10000, &v);
    cr_assert_eq(v.rates.clients, 2);
    cr_assert_float_eq(v.rates.max, 10.0, 1e-9);
    cr_assert(v.rates.p50 >= 0.9 && v.rates.p50 <= 1.2, "p50 %f", v.rates.p50);
    /* traffic_tick starts each view afresh: the rates are carried over. */
    traffic_tick(T0_MS + 11000, &v);
    cr_assert_eq(v.rates.clients, 2);
}
