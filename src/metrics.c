/*
 * metrics: process-wide counters (see metrics.h).
 */
#include "metrics.h"

struct metrics metrics;

const char *const metrics_h2_abuse_names[H2_ABUSE_REASONS] = {
    "resets", "continuation", "flood", "settings", "hpack", "max_streams", "zero_window", "ping",
};

const double metrics_latency_bounds[METRICS_LATENCY_BUCKETS] = {
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 10.0,
};

/* The second (+1; 0: none) of the request this worker thread started last
 * and has not yet counted at a pool. */
static _Thread_local uint64_t pending_pool_sec;

#define RING_SEC(v) ((uint64_t)(v) >> 32)
#define RING_COUNT(v) ((uint64_t)(v) & 0xffffffffu)

void rate_ring_bump(struct rate_ring *r, uint64_t sec)
{
    atomic_uint_fast64_t *slot = &r->slot[sec % METRICS_RATE_SLOTS];
    uint_fast64_t v = atomic_load_explicit(slot, memory_order_relaxed);

    /* The slot of another second (METRICS_RATE_SLOTS seconds ago, or never
     * used): the first bump of this second claims it with a count of 1. */
    while (RING_SEC(v) != (sec & 0xffffffffu)) {
        uint_fast64_t claimed = (uint_fast64_t)(sec & 0xffffffffu) << 32 | 1;
        if (atomic_compare_exchange_weak_explicit(slot, &v, claimed, memory_order_relaxed,
                                                  memory_order_relaxed))
            return;
    }
    atomic_fetch_add_explicit(slot, 1, memory_order_relaxed);
}

/* The count of second `sec` in r, 0 when the slot holds another second. */
static uint64_t ring_count(const struct rate_ring *r, uint64_t sec)
{
    uint_fast64_t v = atomic_load_explicit(&r->slot[sec % METRICS_RATE_SLOTS], memory_order_relaxed);

    return RING_SEC(v) == (sec & 0xffffffffu) ? RING_COUNT(v) : 0;
}

double rate_ring_rate(const struct rate_ring *r, uint64_t now_ms, unsigned window_s)
{
    uint64_t sec = now_ms / 1000;
    uint64_t total = 0;

    if (window_s == 0 || window_s > METRICS_RATE_HISTORY)
        window_s = 10;
    /* Whole seconds before the current one, which is still filling. */
    for (unsigned k = 1; k <= window_s && k <= sec; k++)
        total += ring_count(r, sec - k);
    return (double)total / window_s;
}

void rate_ring_history(const struct rate_ring *r, uint64_t now_ms, uint32_t *out, unsigned n)
{
    uint64_t sec = now_ms / 1000;

    if (n > METRICS_RATE_HISTORY)
        n = METRICS_RATE_HISTORY;
    for (unsigned i = 0; i < n; i++) {
        uint64_t back = n - i; /* out[n - 1] is the last whole second */
        out[i] = back <= sec ? (uint32_t)ring_count(r, sec - back) : 0;
    }
}

void metrics_request_started(uint64_t now_ms)
{
    uint64_t sec = now_ms / 1000;

    atomic_fetch_add_explicit(&metrics.requests_total, 1, memory_order_relaxed);
    rate_ring_bump(&metrics.rate, sec);
    pending_pool_sec = sec + 1;
}

int metrics_pool_request(struct rate_ring *r)
{
    if (!pending_pool_sec)
        return 0;
    rate_ring_bump(r, pending_pool_sec - 1);
    pending_pool_sec = 0;
    return 1;
}

void metrics_request_done(struct latency_hist *h, uint64_t duration_us)
{
    double s = (double)duration_us / 1e6;
    unsigned i = 0;

    while (i < METRICS_LATENCY_BUCKETS && s > metrics_latency_bounds[i])
        i++;
    atomic_fetch_add_explicit(&h->count[i], 1, memory_order_relaxed);
    atomic_fetch_add_explicit(&h->sum_us, duration_us, memory_order_relaxed);
}

double metrics_rate(uint64_t now_ms, unsigned window_s)
{
    return rate_ring_rate(&metrics.rate, now_ms, window_s);
}
