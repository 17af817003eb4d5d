/*
 * mem_trim: gives memory back to the system after a flood of connections.
 *
 * Each worker thread allocates from its own glibc arena.  When thousands of
 * connections close, their sessions and buffers become free chunks between
 * the few that stay live; free() returns memory only from the top of a
 * heap, so the holes stay resident, and the next flood fragments the heap
 * differently: RSS grew with every round (issue 11: 62 -> 169 MB over six
 * rounds of 10,500 slowloris connections, 10 MB of it in use).
 * malloc_trim(0) walks every arena and releases the whole free pages inside
 * them too.  A worker calls it, after dropping its spare buffers, when its
 * connection count has fallen well below the peak it saw since the last
 * trim - a flood has ended - at most once per check (the 1 s sweep timer).
 */
#ifndef PROXY_MEM_TRIM_H
#define PROXY_MEM_TRIM_H

struct mem_trim {
    unsigned peak;      /* most connections held since the last trim */
    unsigned trims;     /* trims done (for the tests and the log) */
};

/* Records the worker's connection count after an accept. */
static inline void mem_trim_note(struct mem_trim *m, unsigned conns)
{
    if (conns > m->peak)
        m->peak = conns;
}

/* From the worker's thread, periodically: trims when the count has fallen
 * far enough below the peak.  Before the arenas are walked, `release` (if
 * not NULL) gives back what a layer above caches for the burst (the
 * worker passes txn_cache_trim): a hook, so that this file, below every
 * layer, calls none of them.  Returns 1 if it trimmed. */
int mem_trim_check(struct mem_trim *m, unsigned conns, void (*release)(void));

#endif
