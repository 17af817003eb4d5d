/*
 * health_state: the pure part of health checking - rise/fall hysteresis,
 * passive failure counting, standby and pool-down decisions.  No I/O, no
 * clock of its own (callers pass `now`), no events: health.c does those,
 * and the unit tests drive these functions with a fake clock.
 */
#ifndef PROXY_HEALTH_STATE_H
#define PROXY_HEALTH_STATE_H

#include <stdint.h>

#include "runtime.h"

/* Result of the last active check, stored in server->check_status. */
enum check_status { CHECK_NONE = 0, CHECK_PASS, CHECK_FAIL };

enum health_transition { HEALTH_SAME = 0, HEALTH_WENT_UP, HEALTH_WENT_DOWN };

/* Main thread: folds one active check result into srv's counters
 * (check_status, check_consecutive) and state.  `rise` consecutive passes
 * bring a down server up, `fall` consecutive failures take an up one down. */
enum health_transition health_state_check_result(struct server *srv, int pass,
                                                 unsigned rise, unsigned fall,
                                                 uint64_t now);

/* Main thread: acknowledges a state change made by a worker (passive down)
 * by restarting the consecutive count, so that coming back needs `rise`
 * fresh passes.  Returns 1 when there was such a change, else 0. */
int health_state_sync(struct server *srv);

/* Any thread: counts one failure on traffic.  Returns 1 when this call took
 * srv from up to down (exactly one caller gets 1), else 0. */
int health_state_passive_failure(struct server *srv, unsigned fall);

/* Any thread: resets the passive failure count. */
void health_state_passive_success(struct server *srv);

/* Main thread: marks srv up now (slow start begins, passive count reset). */
void health_state_mark_up(struct server *srv, uint64_t now);

/* Main thread: marks srv down now (the resolver: no address). */
void health_state_mark_down(struct server *srv);

/* Is `err` (an errno from socket(), connect() or the like) a shortage of
 * this process or host - out of fds, memory or buffers - rather than
 * something the server did?  Such a failure says nothing about the server:
 * it must neither count against it nor change its state. */
int health_errno_local(int err);

/* May srv take new requests: up and neither draining nor disabled. */
int health_state_usable(const struct server *srv);

/* Any thread, hot path (no locks, no syscalls): srv's weight at `now`,
 * scaled by 16.  Full weight w gives 16*w; for slow_start_ms after
 * srv->up_since_ms it ramps linearly from max(1, 16*w/20) to 16*w.  A server
 * with up_since_ms 0 (up since start-up) has full weight. */
unsigned health_effective_weight(const struct server *srv, uint64_t slow_start_ms, uint64_t now);

/* What a pool's servers say about the pool. */
struct health_pool_view {
    unsigned primaries_usable;
    unsigned standbys_usable;
    unsigned nstandbys;
    int standby_wanted;   /* fewer than standby_below primaries usable, and there are standbys */
    int pool_down;        /* no server at all usable */
};

void health_state_pool_view(const struct pool *pool, struct health_pool_view *out);

#endif
