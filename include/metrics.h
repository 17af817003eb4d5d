/*
 * metrics: process-wide counters that the stats port reports and every
 * worker bumps.  Per-server counters live in struct server (runtime.h).
 * All fields are relaxed atomics: monitoring needs totals, not ordering.
 */
#ifndef PROXY_METRICS_H
#define PROXY_METRICS_H

#include <stdatomic.h>
#include <stdint.h>

/* Upper bounds (seconds) of the request duration histogram buckets. */
#define METRICS_LATENCY_BUCKETS 12
extern const double metrics_latency_bounds[METRICS_LATENCY_BUCKETS];

/* Request rate: one slot per second over a ring of this many seconds. */
#define METRICS_RATE_SLOTS 16

struct metrics {
    atomic_uint_fast64_t connections_active;
    atomic_uint_fast64_t connections_total;
    atomic_uint_fast64_t idle_closed_for_room; /* keep-alive clients closed at max-conns / out of fds */
    atomic_uint_fast64_t requests_total;
    atomic_uint_fast64_t reloads_ok;
    atomic_uint_fast64_t reloads_failed;
    atomic_uint_fast64_t generation;
    atomic_uint workers;
    /* Faults absorbed (section "faults" of the stats). */
    atomic_uint_fast64_t server_conns_stray;   /* server connections closed: bytes beyond a response */
    atomic_uint_fast64_t requests_not_replayed; /* 502 instead of sending a request twice */
    atomic_uint_fast64_t requests_abandoned;   /* the client left before its response: server request aborted */
    atomic_uint_fast64_t interim_over_limit;   /* 502: too many 1xx heads before the final one */
    uint64_t start_ms;                    /* monotonic, set once at start */

    /* Histogram of request durations (proxy receipt of head -> last byte
     * of response sent): cumulative counts are derived when reported. */
    atomic_uint_fast64_t latency_count[METRICS_LATENCY_BUCKETS + 1]; /* last = +Inf */
    atomic_uint_fast64_t latency_sum_us;

    /* Requests per second: slot (second % SLOTS) counts the requests that
     * began in that second; slot_sec says which second a slot holds. */
    atomic_uint_fast64_t rate_count[METRICS_RATE_SLOTS];
    atomic_uint_fast64_t rate_sec[METRICS_RATE_SLOTS];
};

extern struct metrics metrics;

/* Counts one request started at monotonic `now_ms`. */
void metrics_request_started(uint64_t now_ms);
/* Records a finished request's duration. */
void metrics_request_done(uint64_t duration_us);
/* Requests per second over the last `window_s` whole seconds before now. */
double metrics_rate(uint64_t now_ms, unsigned window_s);

#endif
