/*
 * rehearse_hist: log-linear latency buckets (see rehearse_hist.h).
 */
#include <string.h>

#include "rehearse_hist.h"

void rh_hist_reset(struct rh_hist *h)
{
    memset(h, 0, sizeof *h);
}

unsigned rh_hist_index(uint64_t us)
{
    if (us > RH_HIST_MAX_US)
        us = RH_HIST_MAX_US;
    if (us < RH_HIST_SUB)
        return (unsigned)us;
    /* shift: how many doublings above 1024 the value is, so that
     * us >> shift lands in [1024, 2048): its linear bucket in that range. */
    unsigned shift = (unsigned)(63 - __builtin_clzll(us)) - 10;
    return RH_HIST_SUB + (shift - 1) * RH_HIST_HALF + (unsigned)((us >> shift) - RH_HIST_HALF);
}

uint64_t rh_hist_bucket_top(unsigned idx)
{
    if (idx < RH_HIST_SUB)
        return idx;
    unsigned shift = (idx - RH_HIST_SUB) / RH_HIST_HALF + 1;
    uint64_t sub = (idx - RH_HIST_SUB) % RH_HIST_HALF + RH_HIST_HALF;
    return ((sub + 1) << shift) - 1;
}

void rh_hist_record(struct rh_hist *h, uint64_t us)
{
    h->buckets[rh_hist_index(us)]++;
    if (h->count == 0 || us < h->min_us)
        h->min_us = us;
    if (us > h->max_us)
        h->max_us = us;
    h->count++;
    h->sum_us += (double)us;
}

uint64_t rh_hist_percentile(const struct rh_hist *h, double p)
{
    if (h->count == 0)
        return 0;
    /* 99.9 has no exact binary form: 99.9 / 100 * 1000 comes out at
     * 999.0000000000001, and the ceiling below would take rank 1000 (one
     * rank high at every multiple of 1000 samples). The representation
     * error is shed before the ceiling. */
    double r = p / 100.0 * (double)h->count;
    r -= r * 1e-12;
    uint64_t rank = (uint64_t)r;
    if ((double)rank < r)
        rank++;
    if (rank < 1)
        rank = 1;
    uint64_t seen = 0;
    for (unsigned i = 0; i < RH_HIST_BUCKETS; i++) {
        seen += h->buckets[i];
        if (seen >= rank) {
            uint64_t top = rh_hist_bucket_top(i);
            /* The exact extremes are known: never report past them. */
            if (top > h->max_us)
                top = h->max_us;
            if (top < h->min_us)
                top = h->min_us;
            return top;
        }
    }
    return h->max_us;
}

double rh_hist_mean(const struct rh_hist *h)
{
    return h->count ? h->sum_us / (double)h->count : 0.0;
}
