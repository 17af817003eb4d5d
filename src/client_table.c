/*
 * client_table: the shared per-client table (see client_table.h).
 */
#include "client_table.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "hash_mix.h"
#include "token_bucket.h"

#define CT_NIL UINT32_MAX
/* Entries looked at from the LRU end for one holding no connection before
 * the least recently seen is evicted anyway (its count is then lost: the
 * bound on memory wins). */
#define CT_EVICT_SCAN 8

/* Requests of a client seen again within this long of its last move to
 * the front leave the LRU list alone: a busy client costs no writes to its
 * neighbours' entries, and the eviction order is exact to this much. */
#define CT_RELINK_MS 1000

/* 40 bytes: a client's state, its hash chain and its place in the LRU. */
struct ct_entry {
    uint64_t key;
    uint64_t tat;          /* token bucket (token_bucket.h) */
    uint32_t limited;      /* refusals (saturating) */
    uint32_t conns;        /* connections held */
    uint32_t hnext;        /* hash chain */
    uint32_t lru_prev, lru_next; /* towards the most / least recently seen */
    uint32_t seen_ms;      /* when last moved to the front (wrapping ms) */
};

struct ct_shard {
    _Alignas(64) pthread_spinlock_t lock;
    uint32_t used;         /* entries[0..used) have been used once */
    uint32_t cap;
    uint32_t mask;         /* buckets - 1 */
    uint32_t lru_head, lru_tail; /* most / least recently seen */
    uint64_t evictions;
    uint32_t *buckets;
    struct ct_entry *e;
};

struct client_table {
    uint64_t seed;
    unsigned nshards;
    unsigned shard_shift;
    struct ct_shard *shards;
};

/* A keyed mix of the key (the murmur3 finaliser over key ^ seed): the top
 * bits pick the shard, the low ones the bucket. */
static uint64_t ct_hash(const struct client_table *ct, uint64_t key)
{
    return hash_mix64(key ^ ct->seed);
}

struct client_table *client_table_new(size_t capacity, unsigned shards, uint64_t seed)
{
    if (shards == 0 || shards > 256 || (shards & (shards - 1)) || capacity == 0)
        return NULL;
    struct client_table *ct = calloc(1, sizeof *ct);
    if (!ct)
        return NULL;
    ct->seed = seed;
    ct->nshards = shards;
    ct->shard_shift = 64;
    for (unsigned s = shards; s > 1; s >>= 1)
        ct->shard_shift--;
    if (!(ct->shards = aligned_alloc(64, sizeof(struct ct_shard) * shards)))
        goto fail;
    memset(ct->shards, 0, sizeof(struct ct_shard) * shards);
    size_t per = (capacity + shards - 1) / shards;
    if (per > CT_NIL / 2)
        per = CT_NIL / 2;
    uint32_t nb = 1;
    while (nb < per)
        nb <<= 1;
    for (unsigned i = 0; i < shards; i++) {
        struct ct_shard *sh = &ct->shards[i];
        pthread_spin_init(&sh->lock, PTHREAD_PROCESS_PRIVATE);
        sh->cap = (uint32_t)per;
        sh->mask = nb - 1;
        sh->lru_head = sh->lru_tail = CT_NIL;
        sh->buckets = malloc(sizeof(uint32_t) * nb);
        sh->e = calloc(per, sizeof(struct ct_entry));
        if (!sh->buckets || !sh->e)
            goto fail;
        memset(sh->buckets, 0xff, sizeof(uint32_t) * nb);
    }
    return ct;
fail:
    client_table_free(ct);
    return NULL;
}

void client_table_free(struct client_table *ct)
{
    if (!ct)
        return;
    for (unsigned i = 0; ct->shards && i < ct->nshards; i++) {
        free(ct->shards[i].buckets);
        free(ct->shards[i].e);
        pthread_spin_destroy(&ct->shards[i].lock);
    }
    free(ct->shards);
    free(ct);
}

/* ---- one shard, under its lock ----------------------------------------------------- */

static void lru_unlink(struct ct_shard *sh, uint32_t i)
{
    struct ct_entry *e = &sh->e[i];
    if (e->lru_prev != CT_NIL)
        sh->e[e->lru_prev].lru_next = e->lru_next;
    else
        sh->lru_head = e->lru_next;
    if (e->lru_next != CT_NIL)
        sh->e[e->lru_next].lru_prev = e->lru_prev;
    else
        sh->lru_tail = e->lru_prev;
}

static void lru_push_front(struct ct_shard *sh, uint32_t i)
{
    struct ct_entry *e = &sh->e[i];
    e->lru_prev = CT_NIL;
    e->lru_next = sh->lru_head;
    if (sh->lru_head != CT_NIL)
        sh->e[sh->lru_head].lru_prev = i;
    sh->lru_head = i;
    if (sh->lru_tail == CT_NIL)
        sh->lru_tail = i;
}

static void chain_unlink(struct ct_shard *sh, uint32_t bucket, uint32_t i)
{
    uint32_t *pp = &sh->buckets[bucket];
    while (*pp != CT_NIL && *pp != i)
        pp = &sh->e[*pp].hnext;
    if (*pp == i)
        *pp = sh->e[i].hnext;
}

/* The entry to reuse: a never used one, else the least recently seen
 * holding no connection among the last few, else the least recently seen. */
static uint32_t take_slot(const struct client_table *ct, struct ct_shard *sh)
{
    if (sh->used < sh->cap)
        return sh->used++;
    uint32_t victim = sh->lru_tail;
    uint32_t i = sh->lru_tail;
    for (int n = 0; n < CT_EVICT_SCAN && i != CT_NIL; n++, i = sh->e[i].lru_prev)
        if (sh->e[i].conns == 0) {
            victim = i;
            break;
        }
    chain_unlink(sh, (uint32_t)ct_hash(ct, sh->e[victim].key) & sh->mask, victim);
    lru_unlink(sh, victim);
    sh->evictions++;
    return victim;
}

/* How a lookup moves the entry in the LRU order. */
enum ct_touch {
    CT_TOUCH_TIMED,   /* a request at now_ms: to the front unless moved within CT_RELINK_MS */
    CT_TOUCH_ALWAYS,  /* a connection opens: to the front */
    CT_TOUCH_NEVER,   /* a connection closes: where it is */
};

/* The entry of `key` (made when missing and `create`, at the front),
 * moved as `touch` says; CT_NIL when missing and not made. */
static uint32_t lookup(const struct client_table *ct, struct ct_shard *sh, uint64_t key, uint64_t h, int create,
                       enum ct_touch touch, uint32_t now_ms)
{
    uint32_t bucket = (uint32_t)h & sh->mask;
    for (uint32_t i = sh->buckets[bucket]; i != CT_NIL; i = sh->e[i].hnext) {
        struct ct_entry *e = &sh->e[i];
        if (e->key == key) {
            int move = touch == CT_TOUCH_ALWAYS ||
                       (touch == CT_TOUCH_TIMED && now_ms - e->seen_ms >= CT_RELINK_MS);
            if (move && sh->lru_head != i) {
                lru_unlink(sh, i);
                lru_push_front(sh, i);
            }
            if (move && touch == CT_TOUCH_TIMED)
                e->seen_ms = now_ms;
            return i;
        }
    }
    if (!create)
        return CT_NIL;
    uint32_t i = take_slot(ct, sh);
    struct ct_entry *e = &sh->e[i];
    memset(e, 0, sizeof *e);
    e->key = key;
    e->seen_ms = now_ms;
    e->hnext = sh->buckets[bucket];
    sh->buckets[bucket] = i;
    lru_push_front(sh, i);
    return i;
}

static struct ct_shard *shard_of(struct client_table *ct, uint64_t h)
{
    return &ct->shards[ct->nshards > 1 ? h >> ct->shard_shift : 0];
}

/* ---- the operations ------------------------------------------------------------- */

uint64_t client_table_rate(struct client_table *ct, uint64_t key, uint64_t now_ns, uint64_t interval_ns,
                           uint64_t burst)
{
    uint64_t h = ct_hash(ct, key);
    struct ct_shard *sh = shard_of(ct, h);

    pthread_spin_lock(&sh->lock);
    struct ct_entry *e = &sh->e[lookup(ct, sh, key, h, 1, CT_TOUCH_TIMED, (uint32_t)(now_ns / 1000000))];
    uint64_t wait = token_bucket_take(&e->tat, now_ns, interval_ns, burst);
    if (wait && e->limited < UINT32_MAX)
        e->limited++;
    pthread_spin_unlock(&sh->lock);
    return wait;
}

int client_table_conn_open(struct client_table *ct, uint64_t key, unsigned max)
{
    uint64_t h = ct_hash(ct, key);
    struct ct_shard *sh = shard_of(ct, h);
    int rc = 0;

    pthread_spin_lock(&sh->lock);
    struct ct_entry *e = &sh->e[lookup(ct, sh, key, h, 1, CT_TOUCH_ALWAYS, 0)];
    if (e->conns >= max) {
        if (e->limited < UINT32_MAX)
            e->limited++;
        rc = -1;
    } else {
        e->conns++;
    }
    pthread_spin_unlock(&sh->lock);
    return rc;
}

void client_table_conn_close(struct client_table *ct, uint64_t key)
{
    uint64_t h = ct_hash(ct, key);
    struct ct_shard *sh = shard_of(ct, h);

    pthread_spin_lock(&sh->lock);
    uint32_t i = lookup(ct, sh, key, h, 0, CT_TOUCH_NEVER, 0);
    if (i != CT_NIL && sh->e[i].conns > 0)
        sh->e[i].conns--;
    pthread_spin_unlock(&sh->lock);
}

unsigned client_table_conns(struct client_table *ct, uint64_t key)
{
    uint64_t h = ct_hash(ct, key);
    struct ct_shard *sh = shard_of(ct, h);
    unsigned n = 0;

    pthread_spin_lock(&sh->lock);
    /* A look, not a visit: the LRU order stays. */
    for (uint32_t i = sh->buckets[(uint32_t)h & sh->mask]; i != CT_NIL; i = sh->e[i].hnext)
        if (sh->e[i].key == key) {
            n = sh->e[i].conns;
            break;
        }
    pthread_spin_unlock(&sh->lock);
    return n;
}

void client_table_stats(struct client_table *ct, struct client_table_stats *out)
{
    memset(out, 0, sizeof *out);
    for (unsigned s = 0; s < ct->nshards; s++) {
        struct ct_shard *sh = &ct->shards[s];
        pthread_spin_lock(&sh->lock);
        out->tracked += sh->used;
        out->capacity += sh->cap;
        out->evictions += sh->evictions;
        pthread_spin_unlock(&sh->lock);
    }
}

/* Keeps top[0..*n) sorted, most first, at most max long. */
static void top_insert(struct client_top *top, size_t *n, size_t max, uint64_t key, uint64_t limited)
{
    if (*n == max && top[max - 1].limited >= limited)
        return;
    size_t i = *n < max ? (*n)++ : max - 1;
    while (i > 0 && top[i - 1].limited < limited) {
        top[i] = top[i - 1];
        i--;
    }
    top[i].key = key;
    top[i].limited = limited;
}

size_t client_table_top_limited(struct client_table *ct, struct client_top *top, size_t max)
{
    size_t n = 0;
    if (max == 0)
        return 0;
    for (unsigned s = 0; s < ct->nshards; s++) {
        struct ct_shard *sh = &ct->shards[s];
        pthread_spin_lock(&sh->lock);
        for (uint32_t i = 0; i < sh->used; i++)
            if (sh->e[i].limited)
                top_insert(top, &n, max, sh->e[i].key, sh->e[i].limited);
        pthread_spin_unlock(&sh->lock);
    }
    return n;
}
