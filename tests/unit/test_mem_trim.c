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
    cr_assert_eq(mem_trim_check(&m, 3000, NULL), 0);
    cr_assert_eq(mem_trim_check(&m, 5, NULL), 1);
    cr_assert_eq(m.trims, 1);
    /* The peak starts again from what is left: no second trim for it. */
    cr_assert_eq(mem_trim_check(&m, 5, NULL), 0);
    cr_assert_eq(m.peak, 5);
}

Test(mem_trim, small_or_relative_small_falls_do_not_trim)
{
    struct mem_trim m = {0};

    mem_trim_note(&m, 300);
    cr_assert_eq(mem_trim_check(&m, 100, NULL), 0, "a fall of 200 connections");
    mem_trim_note(&m, 20000);
    cr_assert_eq(mem_trim_check(&m, 19000, NULL), 0, "a fall of 5%% of the peak");
    cr_assert_eq(m.trims, 0);
}

static unsigned releases;
static void count_release(void) { releases++; }

Test(mem_trim, the_release_hook_runs_with_each_trim_only)
{
    struct mem_trim m = {0};

    releases = 0;
    mem_trim_note(&m, 3000);
    cr_assert_eq(mem_trim_check(&m, 2900, count_release), 0);
    cr_assert_eq(releases, 0, "no trim, nothing released");
    cr_assert_eq(mem_trim_check(&m, 5, count_release), 1);
    cr_assert_eq(releases, 1, "the trim gave the layer above its cache back first");
}
