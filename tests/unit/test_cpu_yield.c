/* The cpu-yield policy: when a worker yields after a round, and when it
 * stops for a while.  Driven with a fake clock (µs). */
#include <criterion/criterion.h>

#include "cpu_yield.h"

#define SEC 1000000ull

/* Records n yields of `each` µs, one per 10 ms from *now; returns the
 * verdict of the last one and stops at the first pause. */
static enum yield_verdict yields(struct yield_policy *p, uint64_t *now, unsigned n, uint64_t each)
{
    enum yield_verdict v = YIELD_GO_ON;
    for (unsigned i = 0; i < n && v == YIELD_GO_ON; i++) {
        cr_assert(yield_policy_wants(p, *now), "yield %u refused at %llu", i, (unsigned long long)*now);
        *now += 10000;
        v = yield_policy_record(p, each, *now);
    }
    return v;
}

Test(cpu_yield, short_yields_to_peers_go_on_for_ever)
{
    struct yield_policy p = { 0 };
    uint64_t now = SEC;
    /* 900 µs on average is under the 1 ms limit: never paused. */
    cr_assert_eq(yields(&p, &now, 50 * YIELD_WINDOW, 900), YIELD_GO_ON);
    cr_assert(yield_policy_wants(&p, now));
}

Test(cpu_yield, costly_yields_pause_at_once_not_at_the_window_end)
{
    struct yield_policy p = { 0 };
    uint64_t now = SEC;
    /* 4 ms each (a busy neighbour's slice): the 64 ms budget is spent by
     * the 17th yield. */
    for (unsigned i = 0; i < 16; i++) {
        now += 10000;
        cr_assert_eq(yield_policy_record(&p, 4000, now), YIELD_GO_ON, "paused early, at yield %u", i);
    }
    now += 10000;
    cr_assert_eq(yield_policy_record(&p, 4000, now), YIELD_PAUSED_COSTLY);
    cr_assert_not(yield_policy_wants(&p, now));
    cr_assert_not(yield_policy_wants(&p, now + YIELD_PAUSE_MIN_MS * 1000ull - 1));
    cr_assert(yield_policy_wants(&p, now + YIELD_PAUSE_MIN_MS * 1000ull));
}

Test(cpu_yield, costly_pauses_double_up_to_the_cap_and_a_clean_window_starts_over)
{
    struct yield_policy p = { 0 };
    uint64_t now = SEC;
    uint64_t expect_ms = YIELD_PAUSE_MIN_MS;
    for (int k = 0; k < 10; k++) {
        cr_assert_eq(yields(&p, &now, YIELD_WINDOW, 5000), YIELD_PAUSED_COSTLY);
        uint64_t paused_ms = (p.paused_until_us - now) / 1000;
        cr_assert_eq(paused_ms, expect_ms, "pause %d: %llu ms, expected %llu", k,
                     (unsigned long long)paused_ms, (unsigned long long)expect_ms);
        now = p.paused_until_us;
        expect_ms = expect_ms * 2 > YIELD_PAUSE_MAX_MS ? YIELD_PAUSE_MAX_MS : expect_ms * 2;
    }
    cr_assert_eq(expect_ms, YIELD_PAUSE_MAX_MS);
    /* The neighbour went away: one clean window, and the next pause is
     * short again. */
    cr_assert_eq(yields(&p, &now, YIELD_WINDOW, 100), YIELD_GO_ON);
    cr_assert_eq(yields(&p, &now, YIELD_WINDOW, 5000), YIELD_PAUSED_COSTLY);
    cr_assert_eq((p.paused_until_us - now) / 1000, YIELD_PAUSE_MIN_MS);
}

Test(cpu_yield, the_budget_is_per_window)
{
    struct yield_policy p = { 0 };
    uint64_t now = SEC;
    /* 15 slow yields (60 ms) then fast ones fill each window: under the
     * 64 ms budget, window after window. */
    for (int w = 0; w < 20; w++) {
        cr_assert_eq(yields(&p, &now, 15, 4000), YIELD_GO_ON, "window %d", w);
        cr_assert_eq(yields(&p, &now, YIELD_WINDOW - 15, 10), YIELD_GO_ON, "window %d", w);
        cr_assert_eq(p.n, 0, "window %d did not end after %d yields", w, YIELD_WINDOW);
    }
}

Test(cpu_yield, a_window_of_useless_yields_pauses_for_the_minimum)
{
    struct yield_policy p = { 0 };
    uint64_t now = SEC;
    /* Nothing else wanted the CPU: each yield came straight back. */
    cr_assert_eq(yields(&p, &now, YIELD_WINDOW, 1), YIELD_PAUSED_IDLE);
    cr_assert_eq((p.paused_until_us - now) / 1000, YIELD_PAUSE_MIN_MS);
    /* Idle pauses do not grow. */
    now = p.paused_until_us;
    cr_assert_eq(yields(&p, &now, YIELD_WINDOW, 1), YIELD_PAUSED_IDLE);
    cr_assert_eq((p.paused_until_us - now) / 1000, YIELD_PAUSE_MIN_MS);
}

Test(cpu_yield, one_yield_that_ran_someone_keeps_the_window_useful)
{
    struct yield_policy p = { 0 };
    uint64_t now = SEC;
    cr_assert_eq(yields(&p, &now, YIELD_WINDOW - 1, 1), YIELD_GO_ON);
    now += 10000;
    cr_assert_eq(yield_policy_record(&p, 50, now), YIELD_GO_ON);
    cr_assert(yield_policy_wants(&p, now));
}
