/*
 * rehearse_sched: the open-loop schedule of one step (see rehearse_sched.h).
 *
 * Due times are computed from the request's index, not by adding an
 * interval to the previous one, so rounding never accumulates over a
 * 20-second step of 20k requests/s.
 */
#include "rehearse_sched.h"

void rh_sched_init(struct rh_sched *s, uint64_t start_ns, double rate, uint64_t step_ms)
{
    s->start_ns = start_ns;
    s->rate = rate;
    s->total = (uint64_t)(rate * (double)step_ms / 1000.0 + 0.5);
    s->issued = 0;
}

uint64_t rh_sched_due(const struct rh_sched *s, uint64_t i)
{
    return s->start_ns + (uint64_t)((double)i * 1e9 / s->rate);
}

uint64_t rh_sched_due_count(const struct rh_sched *s, uint64_t now_ns)
{
    if (now_ns < s->start_ns)
        return 0;
    uint64_t n = (uint64_t)((double)(now_ns - s->start_ns) * s->rate / 1e9) + 1;
    /* Float rounding may put a request due exactly now one either way. */
    while (n > 0 && rh_sched_due(s, n - 1) > now_ns)
        n--;
    while (n < s->total && rh_sched_due(s, n) <= now_ns)
        n++;
    return n > s->total ? s->total : n;
}

int rh_sched_next(struct rh_sched *s, uint64_t now_ns, uint64_t *due_ns)
{
    if (s->issued >= s->total)
        return 0;
    uint64_t due = rh_sched_due(s, s->issued);
    if (due > now_ns)
        return 0;
    *due_ns = due;
    s->issued++;
    return 1;
}

uint64_t rh_sched_next_due(const struct rh_sched *s)
{
    return s->issued >= s->total ? UINT64_MAX : rh_sched_due(s, s->issued);
}
