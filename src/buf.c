/*
 * buf: I/O buffers and their per-thread free lists (see buf.h).
 */
#include "buf.h"

#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

/* Enough spare buffers to absorb a burst without holding memory forever. */
#define BUF_CACHE_MAX 256

/* Two size classes are pooled: BUF_SIZE (heads, small bodies) and
 * BUF_LARGE (response bodies, where fewer larger reads and writes move the
 * same bytes with a quarter of the system calls). */
struct buf_cache {
    struct buf *head;
    unsigned count;
};

static _Thread_local struct buf_cache caches[2];

/* Buffers are mapped pages of their own, not heap chunks: on the heap a
 * burst's freed 16 KiB buffers sat between small structures that stayed
 * (sessions, server connections) and malloc_trim could not give their pages
 * back (after 4000 clients asked at once and went idle, 12 MiB stayed
 * resident once they had all closed).  A mapping goes back whole when it is
 * unmapped; the free lists keep the mmap calls off the common path. */
static size_t map_len(size_t cap)
{
    size_t page = (size_t)sysconf(_SC_PAGESIZE);
    return (sizeof(struct buf) + cap + page - 1) / page * page;
}

static struct buf *buf_map(size_t cap)
{
    void *p = mmap(NULL, map_len(cap), PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED)
        return NULL;
    struct buf *b = p;
    b->cap = cap;
    return b;
}

static void buf_unmap(struct buf *b)
{
    munmap(b, map_len(b->cap));
}

static struct buf_cache *cache_for(size_t cap)
{
    if (cap == BUF_SIZE)
        return &caches[0];
    if (cap == BUF_LARGE)
        return &caches[1];
    return NULL;
}

struct buf *buf_get(size_t cap)
{
    struct buf *b;

    if (cap < BUF_SIZE)
        cap = BUF_SIZE;
    else if (cap > BUF_SIZE && cap < BUF_LARGE)
        cap = BUF_LARGE;
    struct buf_cache *c = cache_for(cap);
    if (c && c->head) {
        b = c->head;
        c->head = b->next_free;
        c->count--;
    } else {
        b = buf_map(cap);
        if (!b)
            return NULL;
    }
    b->next_free = NULL;
    b->len = 0;
    return b;
}

void buf_put(struct buf *b)
{
    if (!b)
        return;
    struct buf_cache *c = cache_for(b->cap);
    if (c && c->count < BUF_CACHE_MAX) {
        b->next_free = c->head;
        c->head = b;
        c->count++;
        return;
    }
    buf_unmap(b);
}

int buf_grow(struct buf **b, size_t cap)
{
    if ((*b)->cap >= cap)
        return 0;
    struct buf *big = buf_get(cap);
    if (!big)
        return -1;
    memcpy(big->data, (*b)->data, (*b)->len);
    big->len = (*b)->len;
    buf_put(*b);
    *b = big;
    return 0;
}

void buf_consume(struct buf *b, size_t n)
{
    if (n >= b->len) {
        b->len = 0;
        return;
    }
    memmove(b->data, b->data + n, b->len - n);
    b->len -= n;
}

/* Keeps the `keep` most recently returned (cache-warm) buffers of each
 * size and frees the rest. */
void buf_cache_trim(unsigned keep)
{
    for (size_t i = 0; i < sizeof caches / sizeof caches[0]; i++) {
        struct buf **link = &caches[i].head;
        for (unsigned k = 0; k < keep && *link; k++)
            link = &(*link)->next_free;
        struct buf *b = *link;
        *link = NULL;
        while (b) {
            struct buf *next = b->next_free;
            buf_unmap(b);
            caches[i].count--;
            b = next;
        }
    }
}

void buf_cache_clear(void)
{
    buf_cache_trim(0);
}
