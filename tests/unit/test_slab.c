/* slab: fixed-size objects in mapped slabs that are given back when empty. */
#include <criterion/criterion.h>
#include <stdint.h>
#include <string.h>

#include "slab.h"

struct thing {
    char bytes[200];
};

#define N 2000

Test(slab, objects_are_zeroed_distinct_and_reused)
{
    struct slab_pool pool = SLAB_POOL_INIT(struct thing);
    static struct thing *t[N];

    for (int i = 0; i < N; i++) {
        t[i] = slab_alloc(&pool);
        cr_assert_not_null(t[i]);
        for (size_t k = 0; k < sizeof t[i]->bytes; k++)
            cr_assert_eq(t[i]->bytes[k], 0);
        cr_assert_eq((uintptr_t)t[i] % 16, 0, "objects are 16-byte aligned");
        memset(t[i]->bytes, 0xab, sizeof t[i]->bytes);
    }
    for (int i = 1; i < N; i++)
        cr_assert(t[i] + 1 <= t[i - 1] || t[i - 1] + 1 <= t[i], "objects %d and %d overlap", i - 1, i);
    slab_free(&pool, t[7]);
    struct thing *again = slab_alloc(&pool);
#if !defined(__SANITIZE_ADDRESS__) /* there, every object is a heap block */
    cr_assert_eq(again, t[7], "a freed object is handed out first");
#endif
    cr_assert_eq(again->bytes[0], 0, "and zeroed");
    t[7] = again;
    for (int i = 0; i < N; i++)
        slab_free(&pool, t[i]);
    slab_free(&pool, NULL);
#if !defined(__SANITIZE_ADDRESS__)
    /* Empty slabs are unmapped but one. */
    cr_assert_eq(pool.slabs, 1);
    cr_assert_not_null(pool.spare);
    cr_assert_null(pool.partial);
#endif
    slab_release_spare(&pool);
    cr_assert_eq(pool.slabs, 0);
}

Test(slab, a_slab_filled_and_emptied_in_any_order)
{
    struct slab_pool pool = SLAB_POOL_INIT(struct thing);
    static struct thing *t[N];

    for (int round = 0; round < 3; round++) {
        for (int i = 0; i < N; i++)
            cr_assert_not_null(t[i] = slab_alloc(&pool));
        /* Odd ones first, then even ones: slabs go from full to partial
         * to empty in an interleaved order. */
        for (int i = 1; i < N; i += 2)
            slab_free(&pool, t[i]);
        for (int i = 0; i < N; i += 2)
            slab_free(&pool, t[i]);
#if !defined(__SANITIZE_ADDRESS__)
        cr_assert_eq(pool.slabs, 1, "round %d: %u slabs left", round, pool.slabs);
#endif
    }
    slab_release_spare(&pool);
}
