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
 * next burst to start without calling malloc. */
#define MEM_TRIM_KEEP_BUFS 16

int mem_trim_check(struct mem_trim *m, unsigned conns)
{
    if (conns > m->peak)
        m->peak = conns;
    if (m->peak - conns < MEM_TRIM_DROP || m->peak - conns < m->peak / 4)
        return 0;
    log_debug("memory: %u -> %u connections, giving memory back", m->peak, conns);
    m->peak = conns;
    m->trims++;
    buf_cache_trim(MEM_TRIM_KEEP_BUFS);
    malloc_trim(0);
    return 1;
}
