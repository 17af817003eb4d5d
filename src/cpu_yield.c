/*
 * cpu_yield: see cpu_yield.h.  The policy is pure (the clock comes in) so
 * that the tests can drive it; cpu_yield_round is the only part that
 * yields and reads the clock.
 */
#include "cpu_yield.h"

#include <sched.h>
#include <time.h>

#include "clock.h"
#include "log.h"

static void start_window(struct yield_policy *p)
{
    p->n = 0;
    p->took_us = 0;
    p->idle = 0;
}

int yield_policy_wants(const struct yield_policy *p, uint64_t now_us)
{
    return now_us >= p->paused_until_us;
}

enum yield_verdict yield_policy_record(struct yield_policy *p, uint64_t took_us, uint64_t now_us)
{
    if (p->pause_ms == 0)
        p->pause_ms = YIELD_PAUSE_MIN_MS;
    p->n++;
    p->took_us += took_us;
    p->idle += took_us < YIELD_IDLE_US;
    /* Costly: stop as soon as the window is condemned, so a probe beside a
     * busy neighbour costs a few slices, not a window of them. */
    if (p->took_us > (uint64_t)YIELD_WINDOW * YIELD_MEAN_MAX_US) {
        p->paused_until_us = now_us + (uint64_t)p->pause_ms * 1000;
        p->pause_ms = p->pause_ms >= YIELD_PAUSE_MAX_MS / 2 ? YIELD_PAUSE_MAX_MS : p->pause_ms * 2;
        start_window(p);
        return YIELD_PAUSED_COSTLY;
    }
    if (p->n < YIELD_WINDOW)
        return YIELD_GO_ON;
    int useless = p->idle == p->n;
    start_window(p);
    if (useless) {
        p->paused_until_us = now_us + (uint64_t)YIELD_PAUSE_MIN_MS * 1000;
        return YIELD_PAUSED_IDLE;
    }
    p->pause_ms = YIELD_PAUSE_MIN_MS; /* a clean window: the neighbour is gone */
    return YIELD_GO_ON;
}

static uint64_t monotonic_us(void)
{
    return now_ns() / 1000u;
}

void cpu_yield_round(struct yield_policy *p, int id)
{
    uint64_t t0 = monotonic_us();
    if (!yield_policy_wants(p, t0))
        return;
    uint32_t pause_ms = p->pause_ms ? p->pause_ms : YIELD_PAUSE_MIN_MS;
    unsigned n = p->n + 1u;
    sched_yield();
    uint64_t t1 = monotonic_us();
    if (yield_policy_record(p, t1 - t0, t1) == YIELD_PAUSED_COSTLY)
        log_debug("worker %d: %u yields took over %d ms (the CPU went to something slow); "
                  "not yielding for %u s", id, n, YIELD_WINDOW * YIELD_MEAN_MAX_US / 1000,
                  (unsigned)(pause_ms / 1000));
}
