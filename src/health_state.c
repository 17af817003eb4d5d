/*
 * health_state: rise/fall hysteresis, passive failure counting, standby
 * decisions and slow-start weights (see health_state.h).  Pure functions
 * over struct server / struct pool, so they are tested with a fake clock.
 */
#include "health_state.h"

#include <errno.h>


/* Counts a result of kind `status`: one more of the same, or the first of a
 * new run. */
static void count_result(struct server *srv, int status)
{
    if (srv->check_status == status) {
        srv->check_consecutive++;
    } else {
        srv->check_status = status;
        srv->check_consecutive = 1;
    }
}

int health_state_sync(struct server *srv)
{
    int state = atomic_load(&srv->state);

    if (state == srv->check_seen_state)
        return 0;
    /* Passes counted while the server was still up must not bring it back:
     * it needs `rise` passes after it went down. */
    srv->check_seen_state = state;
    srv->check_consecutive = 0;
    return 1;
}

void health_state_mark_up(struct server *srv, uint64_t now)
{
    atomic_store_explicit(&srv->passive_failures, 0, memory_order_relaxed);
    /* up_since before state, so a worker that sees the server up also sees
     * the start of its slow start. */
    atomic_store_explicit(&srv->up_since_ms, now, memory_order_release);
    atomic_store_explicit(&srv->state, SRV_UP, memory_order_release);
    srv->check_seen_state = SRV_UP;
}

void health_state_mark_down(struct server *srv)
{
    atomic_store_explicit(&srv->state, SRV_DOWN, memory_order_release);
    srv->check_seen_state = SRV_DOWN;
}

enum health_transition health_state_check_result(struct server *srv, int pass,
                                                 unsigned rise, unsigned fall,
                                                 uint64_t now)
{
    int state;

    health_state_sync(srv);
    state = atomic_load(&srv->state);
    if (rise < 1)
        rise = 1;
    if (fall < 1)
        fall = 1;

    if (pass) {
        count_result(srv, CHECK_PASS);
        if (state == SRV_DOWN && srv->check_consecutive >= rise) {
            health_state_mark_up(srv, now);
            return HEALTH_WENT_UP;
        }
    } else {
        count_result(srv, CHECK_FAIL);
        if (state == SRV_UP && srv->check_consecutive >= fall) {
            health_state_mark_down(srv);
            return HEALTH_WENT_DOWN;
        }
    }
    return HEALTH_SAME;
}

int health_state_passive_failure(struct server *srv, unsigned fall)
{
    int n = atomic_fetch_add_explicit(&srv->passive_failures, 1, memory_order_relaxed) + 1;
    int expected = SRV_UP;

    if (fall < 1)
        fall = 1;
    if ((unsigned)n < fall)
        return 0;
    /* Several workers may cross `fall` together: the exchange picks one. */
    return atomic_compare_exchange_strong(&srv->state, &expected, SRV_DOWN);
}

void health_state_passive_success(struct server *srv)
{
    if (atomic_load_explicit(&srv->passive_failures, memory_order_relaxed) != 0)
        atomic_store_explicit(&srv->passive_failures, 0, memory_order_relaxed);
}

int health_errno_local(int err)
{
    return err == EMFILE || err == ENFILE || err == ENOMEM || err == ENOBUFS;
}

int health_state_usable(const struct server *srv)
{
    return atomic_load_explicit(&srv->state, memory_order_acquire) == SRV_UP &&
           atomic_load_explicit(&srv->admin, memory_order_relaxed) == ADMIN_NONE;
}

void health_state_pool_view(const struct pool *pool, struct health_pool_view *out)
{
    size_t i;

    out->primaries_usable = 0;
    out->standbys_usable = 0;
    out->nstandbys = 0;
    for (i = 0; i < pool->nservers; i++) {
        const struct server *srv = pool->servers[i];
        int usable = health_state_usable(srv);

        if (i >= pool->nprimaries) { /* standbys come after the primaries */
            out->nstandbys++;
            out->standbys_usable += usable;
        } else {
            out->primaries_usable += usable;
        }
    }
    out->standby_wanted = out->nstandbys > 0 &&
                          out->primaries_usable < pool->cfg->standby_below;
    out->pool_down = out->primaries_usable + out->standbys_usable == 0;
}

unsigned health_effective_weight(const struct server *srv, uint64_t slow_start_ms, uint64_t now)
{
    unsigned full = 16 * atomic_load_explicit(&srv->weight, memory_order_relaxed);
    uint64_t since, elapsed;
    unsigned low;

    if (slow_start_ms == 0)
        return full;
    since = atomic_load_explicit(&srv->up_since_ms, memory_order_acquire);
    if (since == 0)
        return full;
    /* Another thread may have stored up_since after our `now` was taken. */
    elapsed = now > since ? now - since : 0;
    if (elapsed >= slow_start_ms)
        return full;
    low = full / 20;
    if (low < 1)
        low = 1;
    if (low >= full)
        return full;
    return low + (unsigned)((uint64_t)(full - low) * elapsed / slow_start_ms);
}
