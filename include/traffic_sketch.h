/*
 * traffic_sketch: the bounded-memory summaries behind the traffic anatomy
 * (CONTRACT 10): a HyperLogLog for distinct counts, a table of when a
 * client was last seen (a time-stamped Bloom filter) for "new" clients,
 * and a space-saving heavy-hitters summary for the top lists.
 *
 * Pure data structures: no clock, no threads of their own.  The HLL and
 * the seen table are relaxed atomics so every worker can add to one shared
 * copy without a lock (a register or a cell changes rarely once traffic
 * has been seen, so their cache lines stay shared); a topk belongs to one
 * thread at a time (traffic.c hands them over).
 */
#ifndef PROXY_TRAFFIC_SKETCH_H
#define PROXY_TRAFFIC_SKETCH_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

/* A 64-bit hash of `len` bytes, well mixed in every bit. */
uint64_t sketch_hash(const void *data, size_t len);

/* HyperLogLog with 2^14 registers: a standard error of 0.8%, so estimates
 * stay within 2% (Ertl's estimator, "New cardinality estimation algorithms
 * for HyperLogLog sketches", 2017: no bias correction tables, exact-ish for
 * small counts too).  16 KiB. */
#define HLL_P 14
#define HLL_REGISTERS (1u << HLL_P)

struct hll {
    atomic_uchar reg[HLL_REGISTERS];
};

void hll_clear(struct hll *h);
void hll_add(struct hll *h, uint64_t hash);
/* dst |= src, register by register (dst must be one thread's). */
void hll_merge(struct hll *dst, const struct hll *src);
double hll_estimate(const struct hll *h);

/* When clients were last seen: SEEN_CELLS 16-bit cells holding the
 * SEEN_UNIT_S-second period of the last sighting, two cells per client.  A
 * client counts as seen within a window when both its cells were stamped
 * in it; other clients sharing both cells make a new client look seen
 * (1% of the time at 40,000 clients in the window, 3% at 100,000).  2 MiB. */
#define SEEN_CELLS (1u << 20)
#define SEEN_UNIT_S 10

struct seen_table {
    _Atomic uint16_t cell[SEEN_CELLS];
};

/* 1 when the client `hash` was seen in the `window_s` seconds before
 * `now_s` (to SEEN_UNIT_S), else 0; either way it is seen now. */
int seen_check_and_mark(struct seen_table *t, uint64_t hash, uint64_t now_s, unsigned window_s);

/* Space-saving heavy hitters (Metwally, Agrawal, El Abbadi, 2005): at most
 * TOPK_MAX keys with a count and the most that count can be over
 * (`err`); any key with more than total/capacity of the weight is in.
 * Keys longer than TOPK_KEY - 1 bytes are cut (and counted as one). */
#define TOPK_MAX 64
#define TOPK_KEY 64

struct topk {
    unsigned capacity, n;
    uint64_t total;
    uint64_t hash[TOPK_MAX];
    uint32_t count[TOPK_MAX];
    uint32_t err[TOPK_MAX];
    char key[TOPK_MAX][TOPK_KEY];
};

struct topk_item {
    const char *key;
    uint32_t count; /* at least this many: count - err of the summary */
    double share;   /* of the total */
};

/* An empty summary of `capacity` (<= TOPK_MAX) keys. */
void topk_init(struct topk *t, unsigned capacity);
void topk_add(struct topk *t, const char *key, size_t len, uint64_t hash, uint32_t weight);
/* Adds every key of src to dst (weighted), and its total. */
void topk_merge(struct topk *dst, const struct topk *src);
/* Up to `max` keys, heaviest first by their guaranteed count (none whose
 * guaranteed count is 0); returns how many.  Keys point into t. */
unsigned topk_top(const struct topk *t, struct topk_item *out, unsigned max);

#endif
