/*
 * traffic_sketch: HyperLogLog, the seen table and space-saving heavy
 * hitters (see traffic_sketch.h).
 */
#include "traffic_sketch.h"

#include <math.h>
#include <string.h>

#include "hash_mix.h"

#define RELAXED memory_order_relaxed

/* FNV-1a over the bytes (keys are short: an address, a path), then mixed. */
uint64_t sketch_hash(const void *data, size_t len)
{
    const unsigned char *p = data;
    uint64_t h = 0xcbf29ce484222325ull;

    for (size_t i = 0; i < len; i++)
        h = (h ^ p[i]) * 0x100000001b3ull;
    return hash_mix64(h ^ len);
}

/* ---- HyperLogLog ---------------------------------------------------------------------------- */

#define HLL_Q (64 - HLL_P) /* bits left for the rank */

/* Writes only the registers that are set: a page of registers never
 * written stays unbacked (the ring of per-second HLLs is cleared ahead of
 * time, and writing all of it made 512 KiB resident in the first 16 s
 * whatever the traffic). */
void hll_clear(struct hll *h)
{
    for (unsigned i = 0; i < HLL_REGISTERS; i++)
        if (atomic_load_explicit(&h->reg[i], RELAXED))
            atomic_store_explicit(&h->reg[i], 0, RELAXED);
}

void hll_add(struct hll *h, uint64_t hash)
{
    unsigned idx = (unsigned)(hash >> HLL_Q);
    uint64_t rest = hash << HLL_P;
    unsigned char rank = rest ? (unsigned char)(__builtin_clzll(rest) + 1) : HLL_Q + 1;
    unsigned char cur = atomic_load_explicit(&h->reg[idx], RELAXED);

    /* Almost always a read only: a register grows a few times at most. */
    while (rank > cur && !atomic_compare_exchange_weak_explicit(&h->reg[idx], &cur, rank, RELAXED, RELAXED))
        ;
}

void hll_merge(struct hll *dst, const struct hll *src)
{
    for (unsigned i = 0; i < HLL_REGISTERS; i++) {
        unsigned char s = atomic_load_explicit(&src->reg[i], RELAXED);
        if (s > atomic_load_explicit(&dst->reg[i], RELAXED))
            atomic_store_explicit(&dst->reg[i], s, RELAXED);
    }
}

static double ertl_sigma(double x)
{
    if (x == 1.0)
        return INFINITY;
    double y = 1.0, z = x, prev;
    do {
        x *= x;
        prev = z;
        z += x * y;
        y += y;
    } while (z != prev);
    return z;
}

static double ertl_tau(double x)
{
    if (x == 0.0 || x == 1.0)
        return 0.0;
    double y = 1.0, z = 1.0 - x, prev;
    do {
        x = sqrt(x);
        prev = z;
        y *= 0.5;
        z -= (1.0 - x) * (1.0 - x) * y;
    } while (z != prev);
    return z / 3.0;
}

double hll_estimate(const struct hll *h)
{
    unsigned c[HLL_Q + 2] = { 0 };
    const double m = HLL_REGISTERS;

    for (unsigned i = 0; i < HLL_REGISTERS; i++)
        c[atomic_load_explicit(&h->reg[i], RELAXED)]++;
    double z = m * ertl_tau(1.0 - c[HLL_Q + 1] / m);
    for (int k = HLL_Q; k >= 1; k--) {
        z += c[k];
        z *= 0.5;
    }
    z += m * ertl_sigma(c[0] / m);
    return isinf(z) ? 0.0 : m * m / (2.0 * log(2.0)) / z;
}

/* ---- the seen table --------------------------------------------------------------------------- */

int seen_check_and_mark(struct seen_table *t, uint64_t hash, uint64_t now_s, unsigned window_s)
{
    /* Cells from a second mix, so which clients collide here does not
     * depend on the bits the HLL ranks them by. */
    uint64_t h = hash_mix64(hash ^ 0x9e3779b97f4a7c15ull);
    _Atomic uint16_t *cells[2] = { &t->cell[h & (SEEN_CELLS - 1)], &t->cell[(h >> 32) & (SEEN_CELLS - 1)] };
    uint16_t stamp = (uint16_t)(now_s / SEEN_UNIT_S);
    uint16_t window = (uint16_t)(window_s / SEEN_UNIT_S);
    int seen = 1;

    if (stamp == 0) /* 0 means never: one period in 65536 borrows the next one's stamp */
        stamp = 1;
    for (int i = 0; i < 2; i++) {
        uint16_t v = atomic_load_explicit(cells[i], RELAXED);
        if (v == 0 || (uint16_t)(stamp - v) > window)
            seen = 0;
        /* A cell is written once per period and client, not per request. */
        if (v != stamp)
            atomic_store_explicit(cells[i], stamp, RELAXED);
    }
    return seen;
}

/* ---- space-saving heavy hitters ----------------------------------------------------------------- */

void topk_init(struct topk *t, unsigned capacity)
{
    t->capacity = capacity > TOPK_MAX ? TOPK_MAX : capacity ? capacity : 1;
    t->n = 0;
    t->total = 0;
}

/* Counts `weight` (over by at most `err`) for key: an existing entry
 * grows; a new key takes a free entry, or the lightest one, inheriting its
 * count as its possible error (the space-saving step). */
static void topk_count(struct topk *t, const char *key, size_t len, uint64_t hash, uint32_t weight,
                       uint32_t err)
{
    unsigned lightest = 0;

    for (unsigned i = 0; i < t->n; i++) {
        if (t->hash[i] == hash) {
            t->count[i] += weight;
            t->err[i] += err;
            return;
        }
        if (t->count[i] < t->count[lightest])
            lightest = i;
    }
    unsigned i = lightest;
    uint32_t base = 0;
    if (t->n < t->capacity)
        i = t->n++;
    else
        base = t->count[i];
    if (len >= TOPK_KEY)
        len = TOPK_KEY - 1;
    memcpy(t->key[i], key, len);
    t->key[i][len] = '\0';
    t->hash[i] = hash;
    t->count[i] = base + weight;
    t->err[i] = base + err;
}

void topk_add(struct topk *t, const char *key, size_t len, uint64_t hash, uint32_t weight)
{
    topk_count(t, key, len, hash, weight, 0);
    t->total += weight;
}

void topk_merge(struct topk *dst, const struct topk *src)
{
    for (unsigned j = 0; j < src->n; j++)
        topk_count(dst, src->key[j], strlen(src->key[j]), src->hash[j], src->count[j], src->err[j]);
    dst->total += src->total;
}

unsigned topk_top(const struct topk *t, struct topk_item *out, unsigned max)
{
    unsigned char used[TOPK_MAX] = { 0 };
    unsigned n = 0;

    /* A selection of the few heaviest: max is 10 at most in practice. */
    while (n < max && n < t->n) {
        int best = -1;
        for (unsigned i = 0; i < t->n; i++)
            if (!used[i] && (best < 0 || t->count[i] - t->err[i] > t->count[best] - t->err[best]))
                best = (int)i;
        /* A key whose whole count may be other keys' says nothing. */
        if (t->count[best] == t->err[best])
            break;
        used[best] = 1;
        out[n].key = t->key[best];
        out[n].count = t->count[best] - t->err[best];
        out[n].share = t->total ? (double)out[n].count / (double)t->total : 0.0;
        n++;
    }
    return n;
}
