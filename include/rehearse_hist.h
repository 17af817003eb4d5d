/*
 * rehearse_hist: an HDR-style latency histogram for `proxy rehearse`.
 *
 * Log-linear buckets from 1 us to 60 s with 3 significant digits: values
 * under 2048 us have a bucket each, above that every power of two is cut
 * into 1024 linear buckets, so a bucket is never wider than 1/1024 of its
 * value.  Percentiles come from every recorded value, not from a sample,
 * and recording is one increment (no allocation on the request path).
 */
#ifndef PROXY_REHEARSE_HIST_H
#define PROXY_REHEARSE_HIST_H

#include <stdint.h>

#define RH_HIST_MAX_US 60000000ULL /* 60 s: larger values are clamped */
#define RH_HIST_SUB 2048           /* linear buckets below the first doubling */
#define RH_HIST_HALF 1024
#define RH_HIST_DOUBLINGS 15       /* 2048 us << 15 > 60 s */
#define RH_HIST_BUCKETS (RH_HIST_SUB + RH_HIST_DOUBLINGS * RH_HIST_HALF)

struct rh_hist {
    uint64_t count;
    uint64_t max_us;   /* exact, not bucketed */
    uint64_t min_us;
    double sum_us;     /* for the mean (Little's law) */
    uint32_t buckets[RH_HIST_BUCKETS];
};

void rh_hist_reset(struct rh_hist *h);
void rh_hist_record(struct rh_hist *h, uint64_t us);
/* The value at percentile p (0..100]: the highest value that the bucket
 * holding the ceil(p/100 * count)-th smallest recording stands for (within
 * 0.1% of the exact one).  0 when empty. */
uint64_t rh_hist_percentile(const struct rh_hist *h, double p);
double rh_hist_mean(const struct rh_hist *h);

/* The bucket index of a value, and the highest value of a bucket. */
unsigned rh_hist_index(uint64_t us);
uint64_t rh_hist_bucket_top(unsigned idx);

#endif
