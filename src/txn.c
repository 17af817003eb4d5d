/*
 * txn: a request's lifetime and its access-log line (see txn.h).
 */
#include "txn.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "balance.h"
#include "log.h"
#include "slab.h"
#include "upstream.h"

/* Transactions come from a per-thread free list: one per request. */
#define TXN_CACHE_MAX 256
static _Thread_local struct txn *txn_cache;
static _Thread_local unsigned txn_cache_count;
/* Requests in flight on this thread: a burst of them ending is when the
 * worker gives memory back (mem_trim), as a flood of connections ending. */
static _Thread_local unsigned txn_live;
/* Requests live apart from the longer-lived objects of the heap (slab.h). */
static _Thread_local struct slab_pool txn_slabs = SLAB_POOL_INIT(struct txn);

unsigned txn_live_count(void)
{
    return txn_live;
}

struct txn *txn_cache_get(void)
{
    struct txn *t = txn_cache;
    if (t) {
        txn_cache = t->next_free;
        txn_cache_count--;
        memset(t, 0, sizeof *t);
    } else if (!(t = slab_alloc(&txn_slabs))) {
        return NULL;
    }
    txn_live++;
    return t;
}

static void txn_cache_put(struct txn *t)
{
    txn_live--;
    if (txn_cache_count >= TXN_CACHE_MAX) {
        slab_free(&txn_slabs, t);
        return;
    }
    t->next_free = txn_cache;
    txn_cache = t;
    txn_cache_count++;
}

void txn_cache_clear(void)
{
    while (txn_cache) {
        struct txn *t = txn_cache;
        txn_cache = t->next_free;
        slab_free(&txn_slabs, t);
    }
    txn_cache_count = 0;
    slab_release_spare(&txn_slabs);
}

void txn_end(struct txn *t)
{
    if (!t)
        return;
    if (t->qw.where != QW_NONE)
        balance_dequeue(t->pool->shared, &t->qw);
    if (t->up)
        upstream_close(t->up);
    if (t->srv)
        balance_release(t->srv);
    buf_put(t->rin);
    if (t->splicing)
        splice_pipe_put(&t->pipe);
    runtime_release(t->rt);
    txn_cache_put(t);
}

void txn_access_log(const struct txn *t, double end)
{
    char line[LOG_LINE_MAX + 512];
    char when[64];
    time_t now = time(NULL);
    struct tm tm;

    gmtime_r(&now, &tm);
    strftime(when, sizeof when, "%d/%b/%Y:%H:%M:%S +0000", &tm);
    int n = snprintf(line, sizeof line,
                     "%s [%s] \"%s\" %u %llu %s %s total=%.3fms connect=%.3fms response=%.3fms\n",
                     t->client_ip, when, t->line, t->status, (unsigned long long)t->bytes_out,
                     t->pool ? t->pool->cfg->name : "-", t->srv ? t->srv->name : "-",
                     (end - t->t_start) * 1000.0,
                     t->t_connected > 0 ? (t->t_connected - t->t_start) * 1000.0 : 0.0,
                     t->t_head > 0 ? (t->t_head - t->t_start) * 1000.0 : 0.0);
    if (n > 0)
        access_log_write(line, (size_t)n < sizeof line ? (size_t)n : sizeof line - 1);
}
