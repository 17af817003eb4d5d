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

/* Request rates: a ring of per-second counts.  It keeps the last
 * METRICS_RATE_HISTORY whole seconds (what the dashboard's chart draws) and
 * the second still filling; one 64-bit word per slot packs the second it
 * holds (high 32 bits, monotonic seconds) and its count (low 32 bits), so a
 * bump is exact and lock-free: one relaxed fetch_add, or a CAS when a new
 * second claims the slot.  The process has one ring (every request), each
 * pool one (struct pool_shared: the requests routed to it). */
#define METRICS_RATE_HISTORY 300
#define METRICS_RATE_SLOTS (METRICS_RATE_HISTORY + 2)

struct rate_ring {
    atomic_uint_fast64_t slot[METRICS_RATE_SLOTS];
};

/* A histogram of request durations (the proxy's receipt of the head to the
 * last byte of the response sent); cumulative counts are derived when
 * reported.  One per pool (struct pool_shared) and one for requests that
 * reached no pool, so /metrics can label every series with its pool and
 * the series still add up to every request once. */
struct latency_hist {
    atomic_uint_fast64_t count[METRICS_LATENCY_BUCKETS + 1]; /* last = +Inf */
    atomic_uint_fast64_t sum_us;
};

/* Counts one event in the second `sec` (monotonic seconds). */
void rate_ring_bump(struct rate_ring *r, uint64_t sec);
/* Events per second over the `window_s` whole seconds before the one
 * holding `now_ms` (which is still filling); window 0 or too long: 10. */
double rate_ring_rate(const struct rate_ring *r, uint64_t now_ms, unsigned window_s);
/* The counts of the `n` whole seconds before the one holding `now_ms`,
 * oldest first (n <= METRICS_RATE_HISTORY); a second nobody counted in is 0. */
void rate_ring_history(const struct rate_ring *r, uint64_t now_ms, uint32_t *out, unsigned n);

/* The HTTP/2 abuse the proxy cuts (CONTRACT 8), as counted per listener
 * (struct listener_counters) and in total (metrics.h2_goaway): for the
 * first five and ping a connection cut with GOAWAY, for max_streams a stream
 * refused (REFUSED_STREAM) or a connection cut for opening past the limit,
 * for zero_window a stream reset because its client kept its window shut. */
enum h2_abuse {
    H2_ABUSE_RESETS,       /* more than http2 max-resets RST_STREAMs in 10 s */
    H2_ABUSE_CONTINUATION, /* a header block in too many CONTINUATION frames */
    H2_ABUSE_FLOOD,        /* PINGs (nghttp2: answers queued and not read) */
    H2_ABUSE_SETTINGS,     /* SETTINGS frames over H2_SETTINGS_MAX per 10 s */
    H2_ABUSE_HPACK,        /* a bad header block: a table size over the advertised one (COMPRESSION_ERROR) */
    H2_ABUSE_MAX_STREAMS,  /* a stream over http2 max-streams */
    H2_ABUSE_ZERO_WINDOW,  /* a response held by a shut window for timeout server */
    H2_ABUSE_PING,         /* PINGs over H2_PINGS_MAX per 10 s, their answers read or not */
    H2_ABUSE_REASONS
};
/* Their names in the stats and /metrics, in enum order. */
extern const char *const metrics_h2_abuse_names[H2_ABUSE_REASONS];

struct metrics {
    atomic_uint_fast64_t connections_active;
    atomic_uint_fast64_t connections_total;
    atomic_uint_fast64_t idle_closed_for_room; /* keep-alive clients closed at max-conns / out of fds */
    atomic_uint_fast64_t connections_http2;    /* client connections speaking HTTP/2 now */
    atomic_uint_fast64_t connections_http2_total;
    atomic_uint_fast64_t h2_streams_active;    /* HTTP/2 streams open now */
    atomic_uint_fast64_t h2_streams_total;
    atomic_uint_fast64_t h2_goaway[H2_ABUSE_REASONS]; /* HTTP/2 abuse cut, by reason (every listener) */
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
    atomic_uint_fast64_t cut_client;           /* responses cut short: the client went away */
    atomic_uint_fast64_t cut_server;           /* ... the server ended or broke it */
    atomic_uint_fast64_t cut_shutdown;         /* ... timeout shutdown ended it */
    atomic_uint_fast64_t proxy_protocol_invalid; /* closed: no valid PROXY header (bad, too long, too slow) */
    uint64_t start_ms;                    /* monotonic, set once at start */

    /* Durations of requests no pool took (no route, a bad request). */
    struct latency_hist latency_no_pool;

    /* Requests per second, by the second they began in. */
    struct rate_ring rate;
};

extern struct metrics metrics;

/* Counts one request started at monotonic `now_ms`, and remembers (per
 * thread) that a request began in that second and is not yet counted at a
 * pool: the first pick of its pool counts it there with
 * metrics_pool_request, in the same second, so the process's rate and the
 * pools' rates agree. */
void metrics_request_started(uint64_t now_ms);
/* Called by the balancer at a request's first pick: counts it in `r` (its
 * pool's ring) in the second it started, once - a second pick of the same
 * request (the keep-alive race, balance.c) finds nothing to count.  Returns
 * 1 when it counted.  A pick with no request started on this thread (unit
 * tests) counts nothing. */
int metrics_pool_request(struct rate_ring *r);
/* Records a finished request's duration in h (its pool's, or
 * &metrics.latency_no_pool). */
void metrics_request_done(struct latency_hist *h, uint64_t duration_us);
/* Requests per second over the last `window_s` whole seconds before now. */
double metrics_rate(uint64_t now_ms, unsigned window_s);

#endif
