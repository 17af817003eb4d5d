/*
 * Unit tests of mem_trim: when a worker gives memory back (a flood ended)
 * and when it does not (ordinary ebb and flow).
 */
#include <criterion/criterion.h>

#include "mem_trim.h"

Test(mem_trim, a_large_fall_from_the_peak_trims_once)
{
    struct mem_trim m = {0};

    for (unsigned n = 0; n <= 3000; n += 100)
        mem_trim_note(&m, n);
    cr_assert_eq(mem_trim_check(&m, 3000), 0);
    cr_assert_eq(mem_trim_check(&m, 5), 1);
    cr_assert_eq(m.trims, 1);
    /* The peak starts again from what is left: no second trim for it. */
    cr_assert_eq(mem_trim_check(&m, 5), 0);
    cr_assert_eq(m.peak, 5);
}

Test(mem_trim, small_or_relative_small_falls_do_not_trim)
{
    struct mem_trim m = {0};

    mem_trim_note(&m, 300);
    cr_assert_eq(mem_trim_check(&m, 100), 0, "a fall of 200 connections");
    mem_trim_note(&m, 20000);
    cr_assert_eq(mem_trim_check(&m, 19000), 0, "a fall of 5%% of the peak");
    cr_assert_eq(m.trims, 0);
}
