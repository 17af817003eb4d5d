/*
 * balance: choosing a server of a pool (least connections relative to
 * weight, or weighted round-robin), per-server max-conns, standby use, and
 * the pool's queue of requests waiting for a free slot (higher `route
 * priority` first, FIFO within one).
 *
 * The in-flight counters are the servers' shared atomics, so every worker
 * sees the whole process without a lock.  The queue is rare and takes one
 * mutex.
 */
#ifndef PROXY_BALANCE_H
#define PROXY_BALANCE_H

#include <stddef.h>
#include <stdint.h>

#include "runtime.h"

enum pick_result {
    PICK_OK = 0,
    PICK_FULL,  /* usable servers exist but all are at max-conns: queue */
    PICK_NONE,  /* no usable server: 503 at once */
};

enum { QW_NONE = 0, QW_QUEUED, QW_MAILBOX };

/* True when srv may take new requests: up, not drained or disabled, still
 * in the configuration. */
int server_usable(const struct server *srv);

/* Picks a server for one request and takes a slot on it (active + 1).
 * Servers in tried[0..ntried) are avoided (retries).  `queued_first` is set
 * for a request that waited in the queue, which new arrivals must not
 * overtake.  Returns the server, or NULL with *result saying why. */
struct server *balance_pick(struct pool *pool, uint64_t now, struct server *const *tried,
                            size_t ntried, int queued_first, int *result);

/* Sticky sessions: takes a slot on `srv`, the server a request's cookie
 * names, when it still takes such requests: up and not disabled - a
 * draining one does (its shoppers' carts finish) -, still configured, a
 * standby only while the pool uses its standbys, below its max-conns, and
 * nobody waiting in the pool's queue (a full server, like a down one,
 * means balancing normally and a new cookie, rather than waiting for it).
 * Counts the request at the pool as balance_pick's first pick does.
 * Returns srv, or NULL: then the caller balances with balance_pick. */
struct server *balance_pick_sticky(struct pool *pool, struct server *srv, uint64_t now);

/* Gives a slot back; hands it to the first queued request of the pool
 * (the oldest of the highest priority). */
void balance_release(struct server *srv);

/* Queues w after the waiters of its priority (w->priority) and above, or,
 * with `requeue` (a woken waiter that lost its slot to a race), back in its
 * place by priority and arrival.  Returns -1 when the queue
 * already holds max_queue requests, 1 when w is first in the queue, else 0.
 * After a 1 the caller picks once more (queued_first): a slot freed between
 * its first pick and the queueing found the queue empty and woke nobody.
 * Only the first may: a later one would take the slot of an older waiter
 * already woken. */
int balance_queue(struct pool_shared *ps, struct queue_waiter *w, unsigned max_queue, int requeue);
/* Takes w out of the queue or a worker's mailbox, wherever it is. */
void balance_dequeue(struct pool_shared *ps, struct queue_waiter *w);
/* A woken waiter that will not pick (answered, or gone, meanwhile) hands
 * its wake-up to the next one in the queue, if any. */
void balance_pass_wake(struct pool_shared *ps);

/* Worker side: `notify(worker)` wakes a worker's loop (an ev_async); the
 * worker then calls balance_mailbox_run to call the wake() of its waiters. */
void balance_set_notify(void (*notify)(int worker));
/* Capacity may have grown (a server came up, standbys joined, a reload):
 * wakes as many queued requests as the pool's usable servers have free
 * slots, so they do not wait for a slot of a server that was full. */
void balance_wake_queue(const struct pool *pool);
void balance_mailbox_run(int worker);

#endif
