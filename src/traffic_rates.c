/*
 * traffic_rates: the per-client request-rate histogram (see
 * traffic_rates.h).  Owns the stamped count-min sketch, the threads'
 * slots and the last complete window's figures.
 */
#include "traffic_rates.h"

#include <stdatomic.h>
#include <string.h>

#include "config.h"

#define RELAXED memory_order_relaxed
#define WINDOW_MS ((uint64_t)RATES_WINDOW_S * 1000)
#define CELLS (RATES_ROWS * RATES_WIDTH)
#define COUNT_BITS 24
#define COUNT_MASK ((1u << COUNT_BITS) - 1)
/* Workers, plus a few other threads (tests), as traffic.c's shards. */
#define RATE_SLOTS (CONFIG_MAX_WORKERS + 8)

/* A cell: the window's number (its low 8 bits) over a 24-bit count.  A
 * stamp from another window means 0; the main thread empties cells older
 * than the window before, a tenth of the sketch each second, so a stamp
 * never comes round again (that takes 256 windows). */
static atomic_uint cells[CELLS];

/* One thread's share of a window: written by its thread (plain load and
 * store: it is the only writer), read and emptied by the main thread once
 * the window is over.  A bucket may go below 0 here (a client counted in
 * by one thread moves on in another); only the sum over slots means
 * anything. */
struct rate_slot {
    _Alignas(64) atomic_int hist[2][RATES_BUCKETS];
    atomic_uint max[2];                  /* the largest count reached */
    _Atomic uint64_t requests[2];
};

static struct rate_slot slots[RATE_SLOTS];
static atomic_uint slots_claimed;
static _Thread_local struct rate_slot *my_slot;
static _Thread_local int my_slot_tried;

/* Main thread only. */
static int started;
static uint64_t current_window;      /* of the last tick */
static uint64_t slot_window[2];      /* the window (+1) each half of the slots counts */
static unsigned sweep_next;          /* the next cell the sweep looks at */
static struct traffic_rates published;

/* ---- buckets -------------------------------------------------------------------------------- */

uint32_t rates_bucket_count(unsigned i)
{
    if (i == 0)
        return 1;
    unsigned k = (i + 1) / 2;
    return i & 1 ? 1u << k : 3u << (k - 1);
}

double rates_bucket_le(unsigned i)
{
    return (double)rates_bucket_count(i) / RATES_WINDOW_S;
}

/* The bucket whose lower edge (inclusive) is x >= 1: 1 -> 0, 2 -> 1, 3 -> 2,
 * 4..5 -> 3, 6..7 -> 4, 8..11 -> 5, ... */
static unsigned bucket_from_below(uint32_t x)
{
    if (x < 2)
        return 0;
    unsigned k = 31u - (unsigned)__builtin_clz(x);
    return 2 * k - 1 + (x >= (3u << (k - 1)));
}

unsigned rates_bucket_of(uint32_t count)
{
    if (count <= 1)
        return 0;
    /* Buckets are closed above: the one of count is the one count - 1 is
     * the floor of, plus one. */
    unsigned i = bucket_from_below(count - 1) + 1;
    return i < RATES_BUCKETS ? i : RATES_BUCKETS - 1;
}

double rates_quantile(const uint32_t *bucket, uint64_t clients, double q, double max_rate)
{
    if (clients == 0)
        return 0.0;
    double rank = q * (double)clients, below = 0.0;
    for (unsigned i = 0; i < RATES_BUCKETS; i++) {
        if (bucket[i] == 0)
            continue;
        if (below + bucket[i] >= rank || i == RATES_BUCKETS - 1) {
            double lo = i ? rates_bucket_count(i - 1) + 1.0 : 1.0, hi = rates_bucket_count(i);
            double f = (rank - below) / bucket[i];
            f = f < 0.0 ? 0.0 : f > 1.0 ? 1.0 : f;
            double rate = (lo + f * (hi - lo)) / RATES_WINDOW_S;
            return rate < max_rate ? rate : max_rate;
        }
        below += bucket[i];
    }
    return max_rate;
}

/* ---- the worker side ---------------------------------------------------------------------------- */

static struct rate_slot *slot(void)
{
    if (!my_slot && !my_slot_tried) {
        my_slot_tried = 1;
        unsigned i = atomic_fetch_add_explicit(&slots_claimed, 1, RELAXED);
        if (i < RATE_SLOTS)
            my_slot = &slots[i];
    }
    return my_slot;
}

/* Adds one to a cell for window `stamp`; returns its count before. */
static uint32_t cell_bump(atomic_uint *cell, uint32_t stamp)
{
    unsigned v = atomic_load_explicit(cell, RELAXED);
    for (;;) {
        uint32_t old = v >> COUNT_BITS == stamp ? v & COUNT_MASK : 0;
        if (old == COUNT_MASK) /* saturated: it stays */
            return old;
        unsigned next = stamp << COUNT_BITS | (old + 1);
        if (atomic_compare_exchange_weak_explicit(cell, &v, next, RELAXED, RELAXED))
            return old;
    }
}

static void own_add(atomic_int *c, int d)
{
    atomic_store_explicit(c, atomic_load_explicit(c, RELAXED) + d, RELAXED);
}

void rates_note(uint64_t hash, uint64_t now_ms)
{
    uint64_t window = now_ms / WINDOW_MS;
    uint32_t stamp = (uint32_t)(window & 0xff);
    /* Row r's cell from two halves of the one hash (Kirsch and
     * Mitzenmacher's double hashing: as good as r independent hashes). */
    uint32_t h1 = (uint32_t)hash, h2 = (uint32_t)(hash >> 32) | 1u;
    uint32_t before = COUNT_MASK;
    atomic_uint *cell[RATES_ROWS];

    /* The rows' cells are far apart: ask for all their lines first, so
     * the misses overlap instead of waiting one locked update each. */
    for (uint32_t r = 0; r < RATES_ROWS; r++) {
        cell[r] = &cells[r * RATES_WIDTH + ((h1 + r * h2) & (RATES_WIDTH - 1))];
        __builtin_prefetch(cell[r], 1);
    }
    for (uint32_t r = 0; r < RATES_ROWS; r++) {
        uint32_t old = cell_bump(cell[r], stamp);
        if (old < before)
            before = old;
    }
    struct rate_slot *s = slot();
    if (!s)
        return;
    unsigned half = (unsigned)(window & 1);
    uint32_t after = before < COUNT_MASK ? before + 1 : before;
    atomic_store_explicit(&s->requests[half], atomic_load_explicit(&s->requests[half], RELAXED) + 1, RELAXED);
    if (before == 0) {
        own_add(&s->hist[half][0], 1);
    } else {
        unsigned from = rates_bucket_of(before), to = rates_bucket_of(after);
        if (from != to) {
            own_add(&s->hist[half][from], -1);
            own_add(&s->hist[half][to], 1);
        }
    }
    if (after > atomic_load_explicit(&s->max[half], RELAXED))
        atomic_store_explicit(&s->max[half], after, RELAXED);
}

/* ---- the main thread ------------------------------------------------------------------------------ */

static void slots_clear(unsigned half)
{
    for (unsigned i = 0; i < RATE_SLOTS; i++) {
        for (unsigned b = 0; b < RATES_BUCKETS; b++)
            atomic_store_explicit(&slots[i].hist[half][b], 0, RELAXED);
        atomic_store_explicit(&slots[i].max[half], 0, RELAXED);
        atomic_store_explicit(&slots[i].requests[half], 0, RELAXED);
    }
}

/* The figures of the window `window` from its half of the slots (or none
 * when that half counted another window). */
static void publish(uint64_t window, unsigned half, int valid)
{
    int64_t sum[RATES_BUCKETS] = { 0 };
    uint32_t max = 0;
    uint64_t requests = 0;

    memset(&published, 0, sizeof published);
    published.window = window + 1;
    if (!valid)
        return;
    for (unsigned i = 0; i < RATE_SLOTS; i++) {
        for (unsigned b = 0; b < RATES_BUCKETS; b++)
            sum[b] += atomic_load_explicit(&slots[i].hist[half][b], RELAXED);
        uint32_t m = atomic_load_explicit(&slots[i].max[half], RELAXED);
        max = m > max ? m : max;
        requests += atomic_load_explicit(&slots[i].requests[half], RELAXED);
    }
    for (unsigned b = 0; b < RATES_BUCKETS; b++) {
        /* Below 0 only by a race at a bucket's edge. */
        published.bucket[b] = sum[b] > 0 ? (uint32_t)sum[b] : 0;
        published.clients += published.bucket[b];
    }
    published.requests = requests;
    published.max = (double)max / RATES_WINDOW_S;
    published.p50 = rates_quantile(published.bucket, published.clients, 0.50, published.max);
    published.p90 = rates_quantile(published.bucket, published.clients, 0.90, published.max);
    published.p99 = rates_quantile(published.bucket, published.clients, 0.99, published.max);
}

/* Empties a tenth of the sketch's cells that belong to neither this
 * window nor the one before (a cell that changed meanwhile is left). */
static void sweep(uint64_t window)
{
    uint32_t now = (uint32_t)(window & 0xff), before = (uint32_t)((window - 1) & 0xff);
    unsigned n = CELLS / RATES_WINDOW_S + 1;

    for (unsigned i = 0; i < n; i++, sweep_next = (sweep_next + 1) % CELLS) {
        unsigned v = atomic_load_explicit(&cells[sweep_next], RELAXED);
        uint32_t stamp = v >> COUNT_BITS;
        if (v != 0 && stamp != now && stamp != before)
            atomic_compare_exchange_strong_explicit(&cells[sweep_next], &v, 0, RELAXED, RELAXED);
    }
}

void rates_tick(uint64_t now_ms, struct traffic_rates *out)
{
    uint64_t window = now_ms / WINDOW_MS;

    if (!started && window > 0) {
        /* All zero at start: the halves are valid for this window and the
         * one before (what was noted before the first tick). */
        slot_window[window & 1] = window + 1;
        slot_window[(window - 1) & 1] = window;
        current_window = window - 1;
        started = 1;
    }
    if (started && window > current_window) {
        unsigned done = (unsigned)((window - 1) & 1);
        publish(window - 1, done, slot_window[done] == window);
        /* Its half counts the window after this one next. */
        slots_clear(done);
        slot_window[done] = window + 2;
        if (slot_window[window & 1] != window + 1) {
            /* Ticks missed a whole window: this half holds an old one. */
            slots_clear((unsigned)(window & 1));
            slot_window[window & 1] = window + 1;
        }
        current_window = window;
    }
    if (started)
        sweep(window);
    *out = published;
}

void rates_reset(void)
{
    for (unsigned i = 0; i < CELLS; i++)
        atomic_store_explicit(&cells[i], 0, RELAXED);
    memset(slots, 0, sizeof slots);
    atomic_store(&slots_claimed, 0);
    my_slot = NULL;
    my_slot_tried = 0;
    started = 0;
    current_window = 0;
    slot_window[0] = slot_window[1] = 0;
    sweep_next = 0;
    memset(&published, 0, sizeof published);
}
