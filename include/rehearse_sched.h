/*
 * rehearse_sched: when each request of a step is due (open loop).
 *
 * The i-th request of a step at `rate` requests/s is due at
 * start + i / rate, whatever happened to the ones before it: a slow server
 * does not slow the schedule down, so its queue shows in the latencies
 * (measured from these due times) instead of hiding in fewer requests.
 */
#ifndef PROXY_REHEARSE_SCHED_H
#define PROXY_REHEARSE_SCHED_H

#include <stdint.h>

struct rh_sched {
    uint64_t start_ns;  /* monotonic */
    double rate;        /* requests per second */
    uint64_t total;     /* requests in the step: rate * step time */
    uint64_t issued;    /* requests handed out so far */
};

void rh_sched_init(struct rh_sched *s, uint64_t start_ns, double rate, uint64_t step_ms);
/* Due time of the i-th request (0-based). */
uint64_t rh_sched_due(const struct rh_sched *s, uint64_t i);
/* How many requests are due at `now_ns` (never more than total). */
uint64_t rh_sched_due_count(const struct rh_sched *s, uint64_t now_ns);
/* Hands out the next request due by now_ns: 1 with *due_ns set, 0 when
 * none is due yet or the step has sent all of its requests. */
int rh_sched_next(struct rh_sched *s, uint64_t now_ns, uint64_t *due_ns);
/* When the next request is due, or UINT64_MAX when the step has no more. */
uint64_t rh_sched_next_due(const struct rh_sched *s);

#endif
