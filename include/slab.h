/*
 * slab: fixed-size objects carved from mapped 64 KiB slabs of their own,
 * one pool per object kind and thread.
 *
 * Why not malloc: a burst leaves short-lived objects (requests) freed
 * between long-lived ones (idle server connections) on the same heap pages,
 * and those pages stay resident however much is free around them.  Kept
 * apart, a kind's slabs empty together, and an empty slab is unmapped
 * (one is kept for the next burst), so memory follows the live objects.
 * A pool is used only by the thread that owns it.
 */
#ifndef PROXY_SLAB_H
#define PROXY_SLAB_H

#include <stddef.h>

struct slab;

struct slab_pool {
    size_t size;             /* object size, set by the owner */
    struct slab *partial;    /* slabs with a free object */
    struct slab *spare;      /* one empty slab kept mapped */
    unsigned slabs;          /* slabs mapped, the spare included */
};

#define SLAB_POOL_INIT(type) { .size = sizeof(type) }

/* A zeroed object, or NULL when no memory could be mapped. */
void *slab_alloc(struct slab_pool *pool);
/* Gives an object of this pool back (NULL-safe). */
void slab_free(struct slab_pool *pool, void *obj);
/* Unmaps the spare slab (at thread exit, or to give memory back). */
void slab_release_spare(struct slab_pool *pool);

#endif
