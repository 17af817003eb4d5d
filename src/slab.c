/*
 * slab: fixed-size objects in mapped slabs (see slab.h).
 */
#include "slab.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#if defined(__SANITIZE_ADDRESS__)
/* Under AddressSanitizer each object is a heap block of its own, so that a
 * use after free or an overflow of one is still caught (slabs would hide
 * them from it). */
void *slab_alloc(struct slab_pool *pool)
{
    return calloc(1, pool->size);
}

void slab_free(struct slab_pool *pool, void *obj)
{
    (void)pool;
    free(obj);
}

void slab_release_spare(struct slab_pool *pool)
{
    (void)pool;
}
#else

/* A slab is SLAB_BYTES aligned on SLAB_BYTES, so an object finds its slab
 * by masking its address. */
#define SLAB_BYTES ((size_t)64 * 1024)
#define SLAB_ALIGN 16

struct slab {
    struct slab *next, *prev;   /* pool->partial, while it has a free object */
    void *free;                 /* freed objects, linked through their first word */
    char *base;                 /* the first object */
    unsigned nobj;              /* objects it holds */
    unsigned nfree;             /* of them free (carved or not) */
    unsigned carved;            /* objects handed out at least once: the pages
                                   beyond are not touched until needed */
};

static size_t stride(const struct slab_pool *pool)
{
    size_t n = pool->size < sizeof(void *) ? sizeof(void *) : pool->size;
    return (n + SLAB_ALIGN - 1) / SLAB_ALIGN * SLAB_ALIGN;
}

static struct slab *slab_of(const void *obj)
{
    return (struct slab *)((uintptr_t)obj & ~(uintptr_t)(SLAB_BYTES - 1));
}

static struct slab *slab_map(struct slab_pool *pool)
{
    /* Twice the size, then the unaligned ends are given back. */
    char *raw = mmap(NULL, 2 * SLAB_BYTES, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (raw == MAP_FAILED)
        return NULL;
    char *start = (char *)(((uintptr_t)raw + SLAB_BYTES - 1) & ~(uintptr_t)(SLAB_BYTES - 1));
    if (start > raw)
        munmap(raw, (size_t)(start - raw));
    size_t tail = (size_t)(raw + 2 * SLAB_BYTES - (start + SLAB_BYTES));
    if (tail)
        munmap(start + SLAB_BYTES, tail);

    struct slab *s = (struct slab *)start;
    size_t head = (sizeof *s + SLAB_ALIGN - 1) / SLAB_ALIGN * SLAB_ALIGN;
    s->base = start + head;
    s->nobj = (unsigned)((SLAB_BYTES - head) / stride(pool));
    s->nfree = s->nobj;
    pool->slabs++;
    return s;
}

static void slab_unmap(struct slab_pool *pool, struct slab *s)
{
    munmap(s, SLAB_BYTES);
    pool->slabs--;
}

static void partial_push(struct slab_pool *pool, struct slab *s)
{
    s->prev = NULL;
    s->next = pool->partial;
    if (pool->partial)
        pool->partial->prev = s;
    pool->partial = s;
}

static void partial_unlink(struct slab_pool *pool, struct slab *s)
{
    if (s->prev)
        s->prev->next = s->next;
    else
        pool->partial = s->next;
    if (s->next)
        s->next->prev = s->prev;
    s->next = s->prev = NULL;
}

void *slab_alloc(struct slab_pool *pool)
{
    struct slab *s = pool->partial;
    void *obj;

    if (!s) {
        s = pool->spare;
        pool->spare = NULL;
        if (!s && !(s = slab_map(pool)))
            return NULL;
        partial_push(pool, s);
    }
    if (s->free) {
        obj = s->free;
        s->free = *(void **)obj;
    } else {
        obj = s->base + (size_t)s->carved++ * stride(pool);
    }
    if (--s->nfree == 0)
        partial_unlink(pool, s); /* full: found again when an object comes back */
    memset(obj, 0, pool->size);
    return obj;
}

void slab_free(struct slab_pool *pool, void *obj)
{
    if (!obj)
        return;
    struct slab *s = slab_of(obj);
    *(void **)obj = s->free;
    s->free = obj;
    if (s->nfree++ == 0)
        partial_push(pool, s);
    if (s->nfree < s->nobj)
        return;
    /* Empty: keep one for the next burst, give the rest back. */
    partial_unlink(pool, s);
    if (!pool->spare)
        pool->spare = s;
    else
        slab_unmap(pool, s);
}

void slab_release_spare(struct slab_pool *pool)
{
    if (pool->spare) {
        slab_unmap(pool, pool->spare);
        pool->spare = NULL;
    }
}
#endif
