/*
 * test_fd_limit: the fd estimate for a configuration (fd_limit.c).
 */
#include <criterion/criterion.h>

#include "config.h"
#include "fd_limit.h"

Test(fd_limit, two_per_client_plus_servers_listeners_and_a_margin)
{
    struct config_pool pools[2] = { { .nservers = 3 }, { .nservers = 2 } };
    struct config cfg = { .max_conns = 25000, .pools = pools, .npools = 2, .nlistens = 2 };
    unsigned long long one = fd_limit_needed(&cfg, 1);

    /* 50000 for the clients and their servers, 5 checks, 2 listeners, the rest margin. */
    cr_assert_geq(one, 50000 + 5 + 2);
    cr_assert_leq(one, 50200);
    /* Each worker has its own listening sockets and event loop. */
    cr_assert_gt(fd_limit_needed(&cfg, 4), one + 3 * 2);
    cfg.max_conns = 25001;
    cr_assert_eq(fd_limit_needed(&cfg, 1), one + 2);
}
