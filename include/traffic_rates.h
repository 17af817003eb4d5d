/*
 * traffic_rates: how the request rate spreads over clients (CONTRACT 10,
 * traffic.clients.rates): a histogram of the clients by their request
 * count over a tumbling 10 s window, kept all the time in fixed memory.
 *
 * Per request: a count-min sketch (RATES_ROWS rows of RATES_WIDTH cells,
 * each cell a window stamp and a count, so a cell from an older window
 * reads as 0 and no one has to clear the sketch at the window's turn)
 * gives the client's count before and after the request; when the two
 * fall in different buckets (half octaves: 1, 2, 3, 4, 6, 8, 12, 16, ...)
 * the client moves from the one to the other (a client whose count was 0
 * is new).  The histogram, the largest count and the requests are the
 * thread's own (a slot written by one worker only, read and emptied by
 * the main thread once its window is over), so the shared cost of a
 * request is RATES_ROWS compare-and-swaps on the sketch, no lock.
 *
 * Accuracy: a sketch only over-counts, by other clients sharing all of a
 * client's cells: at 100,000 clients in a window 2% of them are counted
 * a bucket too high or not at all (tests/unit/test_traffic_rates.c), far
 * fewer at 30,000; the heavy clients'
 * counts are off by a few requests at most.  Two workers counting the
 * same client at the same instant may both move it across a bucket's
 * edge (it counts twice for that window).  Memory: 2 MiB for the sketch,
 * 30 KiB for the slots.
 */
#ifndef PROXY_TRAFFIC_RATES_H
#define PROXY_TRAFFIC_RATES_H

#include <stdint.h>

#define RATES_WINDOW_S 10
/* Counts up to 2^24 - 1 (1.6 million requests/s from one client): 48 buckets. */
#define RATES_BUCKETS 48
#define RATES_COUNT_MAX ((1u << 24) - 1)
#define RATES_ROWS 4
#define RATES_WIDTH (1u << 17)

/* The last complete window. */
struct traffic_rates {
    uint64_t window;         /* its number (monotonic ms / 10,000) + 1; 0: none complete yet */
    uint64_t clients;        /* clients in it */
    uint64_t requests;       /* requests counted in it */
    double p50, p90, p99;    /* clients' request rates (requests/s), interpolated within buckets */
    double max;              /* the heaviest client's rate */
    uint32_t bucket[RATES_BUCKETS]; /* clients per bucket (not cumulative) */
};

/* Bucket i holds the clients whose count is at most rates_bucket_count(i)
 * (and over the bucket before's): 1, 2, 3, 4, 6, 8, 12, 16, 24, ... */
uint32_t rates_bucket_count(unsigned i);
/* ... that is, whose rate is at most this (requests/s). */
double rates_bucket_le(unsigned i);
/* The bucket of a count >= 1. */
unsigned rates_bucket_of(uint32_t count);
/* The rate at quantile q (0..1) of `clients` clients in `bucket`: linear
 * within the bucket it falls in (over the counts that bucket holds),
 * at most `max_rate`. */
double rates_quantile(const uint32_t *bucket, uint64_t clients, double q, double max_rate);

/* Worker side: one request from the client of `hash` (sketch_hash of its
 * address) at monotonic now_ms. */
void rates_note(uint64_t hash, uint64_t now_ms);

/* Main thread, once a second: when a window is over, its histogram is
 * read (and its slots emptied for the window after next); *out is the
 * last complete window, or empty when the window before the current one
 * saw no request. */
void rates_tick(uint64_t now_ms, struct traffic_rates *out);

/* Forgets everything (tests). */
void rates_reset(void);

#endif
