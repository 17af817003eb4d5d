/*
 * Unit tests of rehearse_sched.c: open-loop due times, whatever the caller
 * does between requests.
 */
#include <criterion/criterion.h>

#include "rehearse_sched.h"

Test(rehearse_sched, due_times_are_start_plus_i_over_rate)
{
    struct rh_sched s;
    rh_sched_init(&s, 1000000000ull, 200, 3000);
    cr_assert_eq(s.total, 600);
    cr_assert_eq(rh_sched_due(&s, 0), 1000000000ull);
    cr_assert_eq(rh_sched_due(&s, 1), 1005000000ull);
    cr_assert_eq(rh_sched_due(&s, 599), 1000000000ull + 599 * 5000000ull);
}

Test(rehearse_sched, no_drift_over_a_long_step)
{
    struct rh_sched s;
    rh_sched_init(&s, 0, 30000, 20000); /* 600000 requests at 33.3 us */
    cr_assert_eq(s.total, 600000);
    uint64_t last = rh_sched_due(&s, s.total - 1);
    /* 599999 / 30000 s, to the nanosecond (no accumulated rounding). */
    cr_assert_leq(last > 19999966666ull ? last - 19999966666ull : 19999966666ull - last, 1);
}

Test(rehearse_sched, a_late_caller_gets_every_request_due_and_no_more)
{
    struct rh_sched s;
    uint64_t due;
    rh_sched_init(&s, 0, 100, 1000); /* every 10 ms, 100 requests */
    cr_assert_eq(rh_sched_next(&s, 0, &due), 1);
    cr_assert_eq(due, 0);
    cr_assert_eq(rh_sched_next(&s, 9999999, &due), 0, "the next is due at 10 ms");
    /* The loop was busy for 55 ms: requests 1..5 are due, at their own times. */
    for (int i = 1; i <= 5; i++) {
        cr_assert_eq(rh_sched_next(&s, 55000000, &due), 1);
        cr_assert_eq(due, (uint64_t)i * 10000000ull);
    }
    cr_assert_eq(rh_sched_next(&s, 55000000, &due), 0);
    cr_assert_eq(rh_sched_next_due(&s), 60000000ull);
    cr_assert_eq(rh_sched_due_count(&s, 55000000), 6);
    cr_assert_eq(rh_sched_due_count(&s, 60000000), 7, "one due exactly now counts");
}

Test(rehearse_sched, the_step_ends_after_its_total)
{
    struct rh_sched s;
    uint64_t due;
    int n = 0;
    rh_sched_init(&s, 0, 50, 200); /* 10 requests */
    while (rh_sched_next(&s, UINT64_MAX / 2, &due))
        n++;
    cr_assert_eq(n, 10);
    cr_assert_eq(rh_sched_next_due(&s), UINT64_MAX);
    cr_assert_eq(rh_sched_due_count(&s, UINT64_MAX / 2), 10);
}
