/*
 * buf: I/O buffers and a per-thread free list of them.
 *
 * A connection holds a buffer only while bytes are in flight; an idle
 * keep-alive connection gives its buffers back, so thousands of idle
 * clients cost no buffer memory (HAProxy releases buffers the same way).
 */
#ifndef PROXY_BUF_H
#define PROXY_BUF_H

#include <stddef.h>

/* 16 KiB of payload plus room for the proxy's in-place head edits, so the
 * default `limit header-size 16k` fits a pooled buffer. */
#define BUF_SIZE (16384 + 1024)
#define BUF_LARGE (65536 + 1024)

struct buf {
    struct buf *next_free;
    size_t cap;
    size_t len; /* bytes held in data[0..len) */
    char data[];
};

/* A buffer of at least `cap` bytes (BUF_SIZE and BUF_LARGE ones come from
 * the calling thread's free lists; a size in between is rounded up to
 * BUF_LARGE).  Returns NULL when memory is exhausted. */
struct buf *buf_get(size_t cap);
/* Gives a buffer back (NULL-safe). */
void buf_put(struct buf *b);
/* Moves *b's bytes to a buffer of at least cap bytes, unless it has that
 * room already (nothing may point into the old one: the caller knows).
 * Returns 0, or -1 when memory is exhausted (*b left as it was). */
int buf_grow(struct buf **b, size_t cap);
/* Drops the first n bytes, moving the rest to the front. */
void buf_consume(struct buf *b, size_t n);
/* Frees the calling thread's spare buffers beyond `keep` of each size
 * (after a flood, so the allocator can give the memory back). */
void buf_cache_trim(unsigned keep);
/* Frees the calling thread's free list (at thread exit). */
void buf_cache_clear(void);

#endif
