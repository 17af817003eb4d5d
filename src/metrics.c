/*
 * metrics: process-wide counters (see metrics.h).
 */
#include "metrics.h"

struct metrics metrics;

const double metrics_latency_bounds[METRICS_LATENCY_BUCKETS] = {
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 10.0,
};

void metrics_request_started(uint64_t now_ms)
{
    uint64_t sec = now_ms / 1000;
    unsigned slot = (unsigned)(sec % METRICS_RATE_SLOTS);

    atomic_fetch_add_explicit(&metrics.requests_total, 1, memory_order_relaxed);
    /* The first request of a new second claims the slot and resets it; a
     * lost race only misplaces a request or two between seconds. */
    uint64_t held = atomic_load_explicit(&metrics.rate_sec[slot], memory_order_relaxed);
    if (held != sec &&
        atomic_compare_exchange_strong(&metrics.rate_sec[slot], &held, sec))
        atomic_store_explicit(&metrics.rate_count[slot], 0, memory_order_relaxed);
    atomic_fetch_add_explicit(&metrics.rate_count[slot], 1, memory_order_relaxed);
}

void metrics_request_done(uint64_t duration_us)
{
    double s = (double)duration_us / 1e6;
    unsigned i = 0;

    while (i < METRICS_LATENCY_BUCKETS && s > metrics_latency_bounds[i])
        i++;
    atomic_fetch_add_explicit(&metrics.latency_count[i], 1, memory_order_relaxed);
    atomic_fetch_add_explicit(&metrics.latency_sum_us, duration_us, memory_order_relaxed);
}

double metrics_rate(uint64_t now_ms, unsigned window_s)
{
    uint64_t sec = now_ms / 1000;
    uint64_t total = 0;

    if (window_s == 0 || window_s >= METRICS_RATE_SLOTS)
        window_s = 10;
    /* Whole seconds before the current one, which is still filling. */
    for (unsigned k = 1; k <= window_s; k++) {
        if (sec < k)
            break;
        unsigned slot = (unsigned)((sec - k) % METRICS_RATE_SLOTS);
        if (atomic_load_explicit(&metrics.rate_sec[slot], memory_order_relaxed) == sec - k)
            total += atomic_load_explicit(&metrics.rate_count[slot], memory_order_relaxed);
    }
    return (double)total / window_s;
}
