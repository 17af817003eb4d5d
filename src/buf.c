/*
 * buf: I/O buffers and their per-thread free list (see buf.h).
 */
#include "buf.h"

#include <stdlib.h>
#include <string.h>

/* Enough spare buffers to absorb a burst without holding memory forever. */
#define BUF_CACHE_MAX 256

static _Thread_local struct buf *cache;
static _Thread_local unsigned cache_count;

struct buf *buf_get(size_t cap)
{
    struct buf *b;

    if (cap <= BUF_SIZE && cache) {
        b = cache;
        cache = b->next_free;
        cache_count--;
    } else {
        if (cap < BUF_SIZE)
            cap = BUF_SIZE;
        b = malloc(sizeof *b + cap);
        if (!b)
            return NULL;
        b->cap = cap;
    }
    b->next_free = NULL;
    b->len = 0;
    return b;
}

void buf_put(struct buf *b)
{
    if (!b)
        return;
    if (b->cap == BUF_SIZE && cache_count < BUF_CACHE_MAX) {
        b->next_free = cache;
        cache = b;
        cache_count++;
        return;
    }
    free(b);
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

void buf_cache_clear(void)
{
    while (cache) {
        struct buf *b = cache;
        cache = b->next_free;
        free(b);
    }
    cache_count = 0;
}
