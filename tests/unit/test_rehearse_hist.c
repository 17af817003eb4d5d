/*
 * Unit tests of rehearse_hist.c: bucket boundaries, and percentiles
 * against the exact ones of the same values (within 3 significant digits).
 */
#include <criterion/criterion.h>

#include <stdlib.h>

#include "rehearse_hist.h"

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

static uint64_t exact_percentile(const uint64_t *sorted, size_t n, double p)
{
    double r = p / 100.0 * (double)n;
    r -= r * 1e-12; /* as rh_hist_percentile: 99.9% of 1000 is rank 999 */
    size_t rank = (size_t)r;
    if ((double)rank < r)
        rank++;
    return sorted[rank < 1 ? 0 : rank - 1];
}

Test(rehearse_hist, buckets_are_exact_below_2048_and_within_a_thousandth_above)
{
    for (uint64_t v = 0; v < 2048; v++)
        cr_assert_eq(rh_hist_bucket_top(rh_hist_index(v)), v);
    for (uint64_t v = 2048; v < RH_HIST_MAX_US; v = v * 1.01 + 1) {
        unsigned i = rh_hist_index(v);
        uint64_t top = rh_hist_bucket_top(i);
        cr_assert_geq(top, v, "value %lu in bucket %u topping at %lu", v, i, top);
        cr_assert_leq((double)(top - v), (double)v / 1000.0, "value %lu, top %lu", v, top);
        cr_assert_lt(i, RH_HIST_BUCKETS);
    }
    cr_assert_lt(rh_hist_index(RH_HIST_MAX_US * 10), RH_HIST_BUCKETS, "clamped at 60 s");
}

Test(rehearse_hist, percentiles_match_exact_ones_to_three_digits)
{
    enum { N = 100000 };
    static uint64_t v[N];
    static struct rh_hist h;
    rh_hist_reset(&h);
    srand(7);
    for (size_t i = 0; i < N; i++) {
        /* A latency-like spread: mostly 1-50 ms, a tail up to ~10 s. */
        double u = (double)rand() / RAND_MAX;
        v[i] = (uint64_t)(1000 + 49000 * u * u) + (rand() % 100 == 0 ? (uint64_t)rand() % 10000000 : 0);
        rh_hist_record(&h, v[i]);
    }
    qsort(v, N, sizeof v[0], cmp_u64);
    const double ps[] = { 1, 10, 50, 90, 99, 99.9, 99.99, 100 };
    for (size_t i = 0; i < sizeof ps / sizeof ps[0]; i++) {
        uint64_t want = exact_percentile(v, N, ps[i]), got = rh_hist_percentile(&h, ps[i]);
        cr_assert_geq(got, want, "p%g: %lu < exact %lu", ps[i], got, want);
        cr_assert_leq((double)(got - want), (double)want / 1000.0 + 1, "p%g: %lu vs exact %lu",
                      ps[i], got, want);
    }
    cr_assert_eq(rh_hist_percentile(&h, 100), v[N - 1], "the max is exact");
    cr_assert_eq(h.count, N);
}

Test(rehearse_hist, small_counts_and_empty)
{
    struct rh_hist *h = malloc(sizeof *h);
    rh_hist_reset(h);
    cr_assert_eq(rh_hist_percentile(h, 99), 0);
    rh_hist_record(h, 5);
    rh_hist_record(h, 7);
    cr_assert_eq(rh_hist_percentile(h, 50), 5);
    cr_assert_eq(rh_hist_percentile(h, 50.1), 7);
    cr_assert_eq(rh_hist_percentile(h, 99), 7);
    cr_assert_float_eq(rh_hist_mean(h), 6.0, 1e-9);
    free(h);
}

Test(rehearse_hist, p999_of_a_thousand_is_rank_999)
{
    struct rh_hist *h = malloc(sizeof *h);
    rh_hist_reset(h);
    for (uint64_t v = 1; v <= 1000; v++)
        rh_hist_record(h, v);
    cr_assert_eq(rh_hist_percentile(h, 99.9), 999, "rank 999 of 1000, not the max");
    cr_assert_eq(rh_hist_percentile(h, 99), 990);
    cr_assert_eq(rh_hist_percentile(h, 100), 1000);
    for (uint64_t v = 1001; v <= 3000; v++)
        rh_hist_record(h, v);
    cr_assert_eq(rh_hist_percentile(h, 99.9), 2997);
    free(h);
}
