/*
 * rehearse_verdict: SLO, knee, capacity and suggested settings (see
 * rehearse_verdict.h).
 *
 * The suggestions follow from where the pool stopped coping:
 *  - max-conns per server: the most requests the server had in flight at
 *    the knee (seen through --stats), since past that concurrency its
 *    latency turned: more in flight only queues inside the server;
 *  - limit rate: 90% of the capacity, so that one client address can
 *    never take all of it (10% headroom for the rest);
 *  - max-queue: what the capacity drains within the acceptable wait (the
 *    SLO's p99): a longer queue only holds requests that will be late.
 */
#include <math.h>
#include <string.h>

#include "rehearse_verdict.h"

int rh_step_held(const struct rh_step *s, double slo_p99_ms, double slo_errors)
{
    if (s->sent == 0)
        return 0;
    if (s->p99_ms > slo_p99_ms)
        return 0;
    return (double)s->errors <= slo_errors * (double)s->sent;
}

uint64_t rh_step_answered(const struct rh_step *s)
{
    uint64_t lost = s->err[RH_ERR_CONNECT] + s->err[RH_ERR_TIMEOUT] + s->err[RH_ERR_CLOSED] + s->err[RH_ERR_BAD];
    return s->done > lost ? s->done - lost : 0;
}

int rh_step_behind(const struct rh_step *s)
{
    return s->errors == 0 && s->achieved < 0.98 * (double)s->rate;
}

int rh_step_lagged(const struct rh_step *s, double slo_p99_ms)
{
    return s->lag_p99_ms > 1.0 && s->lag_p99_ms > 0.25 * slo_p99_ms;
}

int rh_knee(const struct rh_step *steps, int n)
{
    double low = 0;
    int knee = -1;
    for (int i = 0; i < n; i++) {
        const struct rh_step *s = &steps[i];
        if (!s->held)
            break;
        if (i == 0 || s->p99_ms < low)
            low = s->p99_ms;
        if (s->p99_ms > 2.0 * low && s->p99_ms > low + 5.0)
            break;
        knee = i;
    }
    return knee;
}

void rh_suggest(const struct rh_step *steps, int n, double slo_p99_ms, struct rh_suggest *out)
{
    memset(out, 0, sizeof *out);
    out->knee = rh_knee(steps, n);
    for (int i = 0; i < n && steps[i].held; i++)
        out->capacity = steps[i].rate;
    out->queue_wait_ms = slo_p99_ms;
    if (out->capacity == 0)
        return;
    out->limit_rate = (unsigned)floor(out->capacity * 0.9);
    if (out->limit_rate < 1)
        out->limit_rate = 1;
    out->limit_burst = out->limit_rate;
    out->max_queue = (unsigned)ceil(out->capacity * slo_p99_ms / 1000.0);
    if (out->max_queue < 1)
        out->max_queue = 1;

    const struct rh_step *k = &steps[out->knee >= 0 ? out->knee : 0];
    /* Little's law: requests in flight = rate x time in the system. */
    out->pool_conns = (unsigned)ceil(k->achieved * k->mean_ms / 1000.0);
    if (out->pool_conns < 1)
        out->pool_conns = 1;
    for (unsigned i = 0; i < k->nservers && i < RH_MAX_SERVERS; i++) {
        const struct rh_server_step *ss = &k->servers[i];
        struct rh_suggest_server *o = &out->servers[out->nservers++];
        memcpy(o->pool, ss->pool, sizeof o->pool);
        memcpy(o->name, ss->name, sizeof o->name);
        o->max_conns = ss->active_max ? ss->active_max : 1;
        o->current = ss->max_conns;
        o->limit_reached = ss->max_conns && ss->active_max >= ss->max_conns;
    }
}
