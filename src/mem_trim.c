/*
 * mem_trim: giving memory back after a flood (see mem_trim.h).
 */
#include "mem_trim.h"

#include <malloc.h>

#include "buf.h"
#include "log.h"

/* A fall of at least this many connections, and of a quarter of the peak,
 * is a flood ending; the ordinary ebb and flow of clients is not worth a
 * walk over the arenas. */
#define MEM_TRIM_DROP 256
/* Spare buffers of each size a worker keeps through a trim: enough for the
 * next requests to start without a mmap call.  Each is 5 or 17 pages: 16 of
 * them kept 320 KiB resident after a burst of 4000 requests. */
#define MEM_TRIM_KEEP_BUFS 4

int mem_trim_check(struct mem_trim *m, unsigned conns, void (*release)(void))
{
    if (conns > m->peak)
        m->peak = conns;
    if (m->peak - conns < MEM_TRIM_DROP || m->peak - conns < m->peak / 4)
        return 0;
    log_debug("memory: %u -> %u connections, giving memory back", m->peak, conns);
    m->peak = conns;
    m->trims++;
    buf_cache_trim(MEM_TRIM_KEEP_BUFS);
    /* The burst's cached requests kept its request slabs mapped (384 KiB
     * after 4000 at once): given back, those slabs empty and go. */
    if (release)
        release();
    malloc_trim(0);
    return 1;
}
