/*
 * Unit tests of the balancer: least-connections relative to weight, ties,
 * max-conns, standbys, weighted round-robin, and the pool queue with its
 * worker mailboxes (CONTRACT section 3).  Pools are built from a config
 * text with config_parse() + runtime_build(); no sockets, no threads.
 */
#include <criterion/criterion.h>

#include <stdio.h>
#include <string.h>

#include "balance.h"
#include "clock.h"
#include "config.h"
#include "runtime.h"
#include "fixtures.h"

/* ---- fixtures --------------------------------------------------------------- */

/* One pool "web" whose body is `pool_body`. */
static struct runtime *b_web(const char *pool_body)
{
    char text[4096];
    snprintf(text, sizeof text, "listen 127.0.0.1:8080\npool web {\n%s}\n", pool_body);
    return fixture_runtime(text);
}

static struct pool *b_pool(struct runtime *rt)
{
    struct pool *p = runtime_find_pool(rt, "web");
    cr_assert_not_null(p);
    return p;
}

static struct server *b_srv(struct pool *p, const char *name)
{
    struct server *s = pool_find_server(p, name);
    cr_assert_not_null(s, "no server %s", name);
    return s;
}

static int active(struct server *s)
{
    return atomic_load(&s->active);
}

/* Picks a new request's server, asserting success. */
static struct server *pick_ok(struct pool *p)
{
    int result = -1;
    struct server *s = balance_pick(p, now_ms(), NULL, 0, 0, &result);
    cr_assert_not_null(s, "pick failed with result %d", result);
    cr_assert_eq(result, PICK_OK);
    return s;
}

static void pick_fails(struct pool *p, int want)
{
    int result = -1;
    struct server *s = balance_pick(p, now_ms(), NULL, 0, 0, &result);
    cr_assert_null(s, "picked %s", s ? s->name : "");
    cr_assert_eq(result, want, "result %d, want %d", result, want);
}

/* Index of s in the pool, for counting. */
static size_t idx(struct pool *p, struct server *s)
{
    for (size_t i = 0; i < p->nservers; i++)
        if (p->servers[i] == s)
            return i;
    cr_assert_fail("server not in pool");
    return 0;
}

/* ---- server_usable ---------------------------------------------------------- */

Test(balance, server_usable_states)
{
    struct runtime *rt = b_web("server a 127.0.0.1:9001\n");
    struct server *a = b_srv(b_pool(rt), "a");

    cr_assert(server_usable(a));
    atomic_store(&a->state, SRV_DOWN);
    cr_assert_not(server_usable(a));
    atomic_store(&a->state, SRV_UP);
    atomic_store(&a->admin, ADMIN_DRAIN);
    cr_assert_not(server_usable(a));
    atomic_store(&a->admin, ADMIN_DISABLE);
    cr_assert_not(server_usable(a));
    atomic_store(&a->admin, ADMIN_NONE);
    atomic_store(&a->removed, 1);
    cr_assert_not(server_usable(a));
    runtime_release(rt);
}

/* ---- least-conn --------------------------------------------------------------- */

Test(balance_least_conn, picks_the_fewest_active_and_takes_a_slot)
{
    struct runtime *rt = b_web("server a 127.0.0.1:9001\nserver b 127.0.0.1:9002\nserver c 127.0.0.1:9003\n");
    struct pool *p = b_pool(rt);
    struct server *a = b_srv(p, "a"), *b = b_srv(p, "b"), *c = b_srv(p, "c");

    atomic_store(&a->active, 2);
    atomic_store(&b->active, 0);
    atomic_store(&c->active, 1);
    for (int i = 0; i < 5; i++) { /* whatever the rotation */
        struct server *s = pick_ok(p);
        cr_assert_eq(s, b, "round %d picked %s", i, s->name);
        cr_assert_eq(active(b), 1);
        balance_release(s);
        cr_assert_eq(active(b), 0);
    }
    runtime_release(rt);
}

Test(balance_least_conn, relative_to_weight)
{
    struct runtime *rt = b_web("server a 127.0.0.1:9001 weight 2\nserver b 127.0.0.1:9002\n");
    struct pool *p = b_pool(rt);
    struct server *a = b_srv(p, "a"), *b = b_srv(p, "b");

    /* (2+1)/2 = 1.5 < (1+1)/1 = 2: a, though it has more in flight. */
    atomic_store(&a->active, 2);
    atomic_store(&b->active, 1);
    for (int i = 0; i < 4; i++) {
        struct server *s = pick_ok(p);
        cr_assert_eq(s, a, "round %d picked %s", i, s->name);
        balance_release(s);
    }
    /* (3+1)/2 = 2 > (0+1)/1 = 1: b. */
    atomic_store(&a->active, 3);
    atomic_store(&b->active, 0);
    for (int i = 0; i < 4; i++) {
        struct server *s = pick_ok(p);
        cr_assert_eq(s, b, "round %d picked %s", i, s->name);
        balance_release(s);
    }
    runtime_release(rt);
}

Test(balance_least_conn, ties_rotate_across_servers)
{
    struct runtime *rt = b_web("server a 127.0.0.1:9001\nserver b 127.0.0.1:9002\nserver c 127.0.0.1:9003\n");
    struct pool *p = b_pool(rt);
    unsigned count[3] = { 0 };

    for (int i = 0; i < 300; i++) {
        struct server *s = pick_ok(p);
        count[idx(p, s)]++;
        balance_release(s);
    }
    for (int i = 0; i < 3; i++)
        cr_assert(count[i] >= 90 && count[i] <= 110, "server %d picked %u times of 300", i, count[i]);
    runtime_release(rt);
}

Test(balance_least_conn, consecutive_ties_go_to_different_servers)
{
    struct runtime *rt = b_web("server a 127.0.0.1:9001\nserver b 127.0.0.1:9002\n");
    struct pool *p = b_pool(rt);

    for (int i = 0; i < 10; i++) {
        struct server *s1 = pick_ok(p);
        balance_release(s1);
        struct server *s2 = pick_ok(p);
        balance_release(s2);
        cr_assert_neq(s1, s2, "round %d: %s twice in a row", i, s1->name);
    }
    runtime_release(rt);
}

Test(balance_least_conn, held_slots_spread_evenly)
{
    struct runtime *rt = b_web("server a 127.0.0.1:9001\nserver b 127.0.0.1:9002\nserver c 127.0.0.1:9003\n");
    struct pool *p = b_pool(rt);

    for (int i = 0; i < 30; i++)
        pick_ok(p);
    cr_assert_eq(active(b_srv(p, "a")), 10);
    cr_assert_eq(active(b_srv(p, "b")), 10);
    cr_assert_eq(active(b_srv(p, "c")), 10);
    runtime_release(rt);
}

Test(balance_least_conn, weights_2_to_1_when_slots_are_held)
{
    struct runtime *rt = b_web("server a 127.0.0.1:9001 weight 2\nserver b 127.0.0.1:9002\n");
    struct pool *p = b_pool(rt);

    for (int i = 0; i < 300; i++)
        pick_ok(p);
    int a = active(b_srv(p, "a")), b = active(b_srv(p, "b"));
    cr_assert_eq(a + b, 300);
    cr_assert(a >= 198 && a <= 202, "a=%d b=%d", a, b);
    runtime_release(rt);
}

Test(balance_least_conn, server_at_max_conns_is_skipped)
{
    struct runtime *rt = b_web("server a 127.0.0.1:9001 max-conns 1\nserver b 127.0.0.1:9002\n");
    struct pool *p = b_pool(rt);
    struct server *a = b_srv(p, "a"), *b = b_srv(p, "b");

    for (int i = 0; i < 10; i++)
        pick_ok(p);
    cr_assert_eq(active(a), 1);
    cr_assert_eq(active(b), 9);
    runtime_release(rt);
}

Test(balance_least_conn, all_full_is_null_with_pick_full)
{
    struct runtime *rt = b_web("server a 127.0.0.1:9001 max-conns 2\nserver b 127.0.0.1:9002 max-conns 1\n");
    struct pool *p = b_pool(rt);
    struct server *a = b_srv(p, "a"), *b = b_srv(p, "b");

    for (int i = 0; i < 3; i++)
        pick_ok(p);
    cr_assert_eq(active(a), 2);
    cr_assert_eq(active(b), 1);
    pick_fails(p, PICK_FULL);
    cr_assert_eq(active(a), 2);
    cr_assert_eq(active(b), 1);
    /* A released slot is usable again. */
    balance_release(b);
    cr_assert_eq(pick_ok(p), b);
    runtime_release(rt);
}

Test(balance_least_conn, all_down_is_pick_none)
{
    struct runtime *rt = b_web("server a 127.0.0.1:9001\nserver b 127.0.0.1:9002\n");
    struct pool *p = b_pool(rt);

    atomic_store(&b_srv(p, "a")->state, SRV_DOWN);
    atomic_store(&b_srv(p, "b")->state, SRV_DOWN);
    pick_fails(p, PICK_NONE);
    runtime_release(rt);
}

Test(balance_least_conn, down_and_full_is_pick_full_only_for_the_full_one)
{
    struct runtime *rt = b_web("server a 127.0.0.1:9001 max-conns 1\nserver b 127.0.0.1:9002\n");
    struct pool *p = b_pool(rt);

    atomic_store(&b_srv(p, "b")->state, SRV_DOWN);
    cr_assert_eq(pick_ok(p), b_srv(p, "a"));
    pick_fails(p, PICK_FULL);
    atomic_store(&b_srv(p, "a")->state, SRV_DOWN);
    pick_fails(p, PICK_NONE);
    runtime_release(rt);
}

Test(balance_least_conn, drained_and_disabled_are_skipped)
{
    struct runtime *rt = b_web("server a 127.0.0.1:9001\nserver b 127.0.0.1:9002\nserver c 127.0.0.1:9003\n");
    struct pool *p = b_pool(rt);
    struct server *c = b_srv(p, "c");

    atomic_store(&b_srv(p, "a")->admin, ADMIN_DRAIN);
    atomic_store(&b_srv(p, "b")->admin, ADMIN_DISABLE);
    for (int i = 0; i < 10; i++)
        cr_assert_eq(pick_ok(p), c);
    cr_assert_eq(active(c), 10);
    atomic_store(&c->admin, ADMIN_DRAIN);
    pick_fails(p, PICK_NONE);
    runtime_release(rt);
}

Test(balance_least_conn, tried_servers_are_avoided)
{
    struct runtime *rt = b_web("server a 127.0.0.1:9001\nserver b 127.0.0.1:9002\nserver c 127.0.0.1:9003\n");
    struct pool *p = b_pool(rt);
    struct server *a = b_srv(p, "a"), *b = b_srv(p, "b"), *c = b_srv(p, "c");
    struct server *tried[3] = { a, b, c };
    int result;

    /* a is the least loaded, but it was tried. */
    atomic_store(&b->active, 5);
    atomic_store(&c->active, 5);
    for (int i = 0; i < 5; i++) {
        struct server *s = balance_pick(p, now_ms(), tried, 1, 0, &result);
        cr_assert_not_null(s);
        cr_assert_neq(s, a);
        balance_release(s);
    }
    for (int i = 0; i < 5; i++) {
        struct server *s = balance_pick(p, now_ms(), tried, 2, 0, &result);
        cr_assert_eq(s, c);
        balance_release(s);
    }
    cr_assert_null(balance_pick(p, now_ms(), tried, 3, 0, &result));
    cr_assert_neq(result, PICK_OK);
    runtime_release(rt);
}

/* ---- standbys ---------------------------------------------------------------- */

#define STANDBY_POOL(below)                                                       \
    "standby-below " below "\n"                                                   \
    "server p1 127.0.0.1:9001\nserver p2 127.0.0.1:9002\n"                        \
    "standby s1 127.0.0.1:9003\nstandby s2 127.0.0.1:9004\n"

Test(balance_standby, standbys_unused_while_enough_primaries_are_up)
{
    struct runtime *rt = b_web(STANDBY_POOL("1"));
    struct pool *p = b_pool(rt);

    cr_assert_eq(p->nprimaries, 2);
    cr_assert_eq(p->nservers, 4);
    for (int i = 0; i < 40; i++)
        pick_ok(p);
    cr_assert_eq(active(b_srv(p, "s1")), 0);
    cr_assert_eq(active(b_srv(p, "s2")), 0);
    cr_assert_eq(active(b_srv(p, "p1")) + active(b_srv(p, "p2")), 40);

    /* One primary down is still not fewer than 1 up. */
    atomic_store(&b_srv(p, "p1")->state, SRV_DOWN);
    for (int i = 0; i < 10; i++)
        cr_assert_eq(pick_ok(p), b_srv(p, "p2"));
    runtime_release(rt);
}

Test(balance_standby, standbys_take_over_when_every_primary_is_down)
{
    struct runtime *rt = b_web(STANDBY_POOL("1"));
    struct pool *p = b_pool(rt);

    atomic_store(&b_srv(p, "p1")->state, SRV_DOWN);
    atomic_store(&b_srv(p, "p2")->state, SRV_DOWN);
    for (int i = 0; i < 20; i++)
        pick_ok(p);
    cr_assert_eq(active(b_srv(p, "s1")), 10);
    cr_assert_eq(active(b_srv(p, "s2")), 10);

    /* A primary back: standbys take no new request. */
    atomic_store(&b_srv(p, "p1")->state, SRV_UP);
    for (int i = 0; i < 5; i++)
        cr_assert_eq(pick_ok(p), b_srv(p, "p1"));
    runtime_release(rt);
}

Test(balance_standby, drained_primaries_count_as_not_usable)
{
    struct runtime *rt = b_web(STANDBY_POOL("1"));
    struct pool *p = b_pool(rt);

    atomic_store(&b_srv(p, "p1")->admin, ADMIN_DRAIN);
    atomic_store(&b_srv(p, "p2")->admin, ADMIN_DISABLE);
    struct server *s = pick_ok(p);
    cr_assert(s == b_srv(p, "s1") || s == b_srv(p, "s2"));
    runtime_release(rt);
}

Test(balance_standby, below_2_with_one_primary_up_uses_it_and_the_standbys)
{
    struct runtime *rt = b_web(STANDBY_POOL("2"));
    struct pool *p = b_pool(rt);

    atomic_store(&b_srv(p, "p2")->state, SRV_DOWN);
    for (int i = 0; i < 30; i++)
        pick_ok(p);
    cr_assert_eq(active(b_srv(p, "p1")), 10);
    cr_assert_eq(active(b_srv(p, "p2")), 0);
    cr_assert_eq(active(b_srv(p, "s1")), 10);
    cr_assert_eq(active(b_srv(p, "s2")), 10);

    /* Both primaries up: 2 is not fewer than 2. */
    atomic_store(&b_srv(p, "p2")->state, SRV_UP);
    for (int i = 0; i < 20; i++)
        pick_ok(p);
    cr_assert_eq(active(b_srv(p, "s1")), 10);
    cr_assert_eq(active(b_srv(p, "s2")), 10);
    runtime_release(rt);
}

Test(balance_standby, all_standbys_down_too_is_pick_none)
{
    struct runtime *rt = b_web(STANDBY_POOL("1"));
    struct pool *p = b_pool(rt);

    for (size_t i = 0; i < p->nservers; i++)
        atomic_store(&p->servers[i]->state, SRV_DOWN);
    pick_fails(p, PICK_NONE);
    runtime_release(rt);
}

/* ---- round-robin ----------------------------------------------------------- */

Test(balance_round_robin, equal_weights_alternate)
{
    struct runtime *rt = b_web("balance round-robin\nserver a 127.0.0.1:9001\nserver b 127.0.0.1:9002\n"
                               "server c 127.0.0.1:9003\n");
    struct pool *p = b_pool(rt);
    unsigned count[3] = { 0 };

    cr_assert_eq(p->cfg->balance, BALANCE_ROUND_ROBIN);
    for (int i = 0; i < 300; i++) {
        struct server *s = pick_ok(p);
        count[idx(p, s)]++;
        balance_release(s);
    }
    for (int i = 0; i < 3; i++)
        cr_assert_eq(count[i], 100, "server %d: %u of 300", i, count[i]);
    runtime_release(rt);
}

Test(balance_round_robin, weights_3_to_1)
{
    struct runtime *rt = b_web("balance round-robin\nserver a 127.0.0.1:9001 weight 3\n"
                               "server b 127.0.0.1:9002\n");
    struct pool *p = b_pool(rt);
    unsigned count[2] = { 0 };

    for (int i = 0; i < 400; i++) {
        struct server *s = pick_ok(p);
        count[idx(p, s)]++;
        balance_release(s);
    }
    cr_assert(count[0] >= 297 && count[0] <= 303, "a=%u b=%u", count[0], count[1]);
    runtime_release(rt);
}

Test(balance_round_robin, does_not_depend_on_active)
{
    /* Unlike least-conn, a loaded server still gets its turn. */
    struct runtime *rt = b_web("balance round-robin\nserver a 127.0.0.1:9001\nserver b 127.0.0.1:9002\n");
    struct pool *p = b_pool(rt);
    unsigned count[2] = { 0 };

    atomic_store(&b_srv(p, "a")->active, 50);
    for (int i = 0; i < 100; i++) {
        struct server *s = pick_ok(p);
        count[idx(p, s)]++;
        balance_release(s);
    }
    cr_assert_eq(count[0], 50);
    cr_assert_eq(count[1], 50);
    runtime_release(rt);
}

Test(balance_round_robin, full_and_down_servers_are_skipped)
{
    struct runtime *rt = b_web("balance round-robin\nserver a 127.0.0.1:9001 max-conns 1\n"
                               "server b 127.0.0.1:9002\nserver c 127.0.0.1:9003\n");
    struct pool *p = b_pool(rt);
    struct server *a = b_srv(p, "a"), *b = b_srv(p, "b"), *c = b_srv(p, "c");

    atomic_store(&a->active, 1);
    atomic_store(&c->state, SRV_DOWN);
    for (int i = 0; i < 10; i++) {
        struct server *s = pick_ok(p);
        cr_assert_eq(s, b);
        balance_release(s);
    }
    atomic_store(&b->max_conns, 1);
    atomic_store(&b->active, 1);
    pick_fails(p, PICK_FULL);
    atomic_store(&a->state, SRV_DOWN);
    atomic_store(&b->state, SRV_DOWN);
    pick_fails(p, PICK_NONE);
    runtime_release(rt);
}

Test(balance_round_robin, tried_servers_are_avoided)
{
    struct runtime *rt = b_web("balance round-robin\nserver a 127.0.0.1:9001\nserver b 127.0.0.1:9002\n");
    struct pool *p = b_pool(rt);
    struct server *a = b_srv(p, "a");
    struct server *tried[1] = { a };
    int result;

    for (int i = 0; i < 10; i++) {
        struct server *s = balance_pick(p, now_ms(), tried, 1, 0, &result);
        cr_assert_eq(s, b_srv(p, "b"));
        balance_release(s);
    }
    runtime_release(rt);
}

/* ---- the queue ---------------------------------------------------------------- */

#define MAX_EVENTS 32

static int notified[MAX_EVENTS];
static int nnotified;
static struct queue_waiter *woken[MAX_EVENTS];
static int nwoken;

static void t_notify(int worker)
{
    cr_assert_lt(nnotified, MAX_EVENTS);
    notified[nnotified++] = worker;
}

static void t_wake(struct queue_waiter *w)
{
    cr_assert_lt(nwoken, MAX_EVENTS);
    woken[nwoken++] = w;
}

static void t_waiter(struct queue_waiter *w, int worker)
{
    memset(w, 0, sizeof *w);
    w->worker = worker;
    w->wake = t_wake;
}

static void queue_setup(void)
{
    nnotified = nwoken = 0;
    balance_set_notify(t_notify);
}

TestSuite(balance_queue, .init = queue_setup);

Test(balance_queue, release_wakes_the_queued_waiter)
{
    struct runtime *rt = b_web("server a 127.0.0.1:9001 max-conns 1\n");
    struct pool *p = b_pool(rt);
    struct server *a = b_srv(p, "a");
    struct queue_waiter w;
    int result;

    cr_assert_eq(pick_ok(p), a);
    pick_fails(p, PICK_FULL);
    t_waiter(&w, 3);
    cr_assert_geq(balance_queue(p->shared, &w, 10, 0), 0);
    cr_assert_eq(w.where, QW_QUEUED);
    cr_assert_eq(atomic_load(&p->shared->queued), 1);

    balance_release(a);
    cr_assert_eq(active(a), 0);
    cr_assert_eq(atomic_load(&p->shared->queued), 0);
    cr_assert_eq(nnotified, 1);
    cr_assert_eq(notified[0], 3);
    cr_assert_eq(w.where, QW_MAILBOX);
    cr_assert_eq(nwoken, 0, "wake() runs on the worker, not in release");

    balance_mailbox_run(2); /* another worker's mailbox: nothing */
    cr_assert_eq(nwoken, 0);
    balance_mailbox_run(3);
    cr_assert_eq(nwoken, 1);
    cr_assert_eq(woken[0], &w);
    cr_assert_eq(w.where, QW_NONE);
    balance_mailbox_run(3);
    cr_assert_eq(nwoken, 1);

    /* The woken waiter takes the freed slot. */
    cr_assert_eq(balance_pick(p, now_ms(), NULL, 0, 1, &result), a);
    cr_assert_eq(result, PICK_OK);
    runtime_release(rt);
}

Test(balance_queue, release_without_waiters_notifies_nobody)
{
    struct runtime *rt = b_web("server a 127.0.0.1:9001\n");
    struct pool *p = b_pool(rt);
    struct server *a = pick_ok(p);

    balance_release(a);
    cr_assert_eq(active(a), 0);
    cr_assert_eq(nnotified, 0);
    runtime_release(rt);
}

Test(balance_queue, new_requests_do_not_overtake_queued_ones)
{
    struct runtime *rt = b_web("server a 127.0.0.1:9001 max-conns 1\nserver b 127.0.0.1:9002\n");
    struct pool *p = b_pool(rt);
    struct queue_waiter w;
    int result;

    t_waiter(&w, 0);
    cr_assert_geq(balance_queue(p->shared, &w, 10, 0), 0);
    /* b has room, but someone is waiting: a new request queues behind. */
    pick_fails(p, PICK_FULL);
    /* The queued one itself may pick. */
    struct server *s = balance_pick(p, now_ms(), NULL, 0, 1, &result);
    cr_assert_not_null(s);
    cr_assert_eq(result, PICK_OK);
    balance_dequeue(p->shared, &w);
    cr_assert_eq(atomic_load(&p->shared->queued), 0);
    /* Queue empty again: new requests pick. */
    pick_ok(p);
    runtime_release(rt);
}

/* "no usable server: 503 at once" (balance.h): a queued waiter must not make
 * a request to a pool whose servers are all down wait for `timeout queue`. */
Test(balance_queue, no_usable_server_is_pick_none_even_with_waiters)
{
    struct runtime *rt = b_web("server a 127.0.0.1:9001 max-conns 1\n");
    struct pool *p = b_pool(rt);
    struct queue_waiter w;

    t_waiter(&w, 0);
    cr_assert_geq(balance_queue(p->shared, &w, 10, 0), 0);
    atomic_store(&b_srv(p, "a")->state, SRV_DOWN);
    pick_fails(p, PICK_NONE);
    balance_dequeue(p->shared, &w);
    runtime_release(rt);
}

Test(balance_queue, max_queue_exceeded_is_minus_1)
{
    struct runtime *rt = b_web("server a 127.0.0.1:9001\n");
    struct pool *p = b_pool(rt);
    struct queue_waiter w[3];

    for (int i = 0; i < 3; i++)
        t_waiter(&w[i], 0);
    cr_assert_geq(balance_queue(p->shared, &w[0], 2, 0), 0);
    cr_assert_geq(balance_queue(p->shared, &w[1], 2, 0), 0);
    cr_assert_eq(balance_queue(p->shared, &w[2], 2, 0), -1);
    cr_assert_eq(atomic_load(&p->shared->queued), 2);
    cr_assert_neq(w[2].where, QW_QUEUED);
    balance_dequeue(p->shared, &w[0]);
    cr_assert_geq(balance_queue(p->shared, &w[2], 2, 0), 0);
    balance_dequeue(p->shared, &w[1]);
    balance_dequeue(p->shared, &w[2]);
    cr_assert_eq(atomic_load(&p->shared->queued), 0);
    runtime_release(rt);
}

Test(balance_queue, max_queue_zero_refuses_every_waiter)
{
    struct runtime *rt = b_web("server a 127.0.0.1:9001\n");
    struct pool *p = b_pool(rt);
    struct queue_waiter w;

    t_waiter(&w, 0);
    cr_assert_eq(balance_queue(p->shared, &w, 0, 0), -1);
    cr_assert_eq(atomic_load(&p->shared->queued), 0);
    runtime_release(rt);
}

Test(balance_queue, fifo_order)
{
    struct runtime *rt = b_web("server a 127.0.0.1:9001 max-conns 3\n");
    struct pool *p = b_pool(rt);
    struct server *a = b_srv(p, "a");
    struct queue_waiter w[3];

    for (int i = 0; i < 3; i++)
        pick_ok(p);
    for (int i = 0; i < 3; i++) {
        t_waiter(&w[i], 1);
        cr_assert_geq(balance_queue(p->shared, &w[i], 10, 0), 0);
    }
    /* Three releases before the worker runs: its mailbox holds all three. */
    for (int i = 0; i < 3; i++)
        balance_release(a);
    cr_assert_eq(nnotified, 3);
    balance_mailbox_run(1);
    cr_assert_eq(nwoken, 3);
    for (int i = 0; i < 3; i++)
        cr_assert_eq(woken[i], &w[i], "woken[%d] is not w[%d]", i, i);
    runtime_release(rt);
}

Test(balance_queue, fifo_order_one_release_at_a_time)
{
    struct runtime *rt = b_web("server a 127.0.0.1:9001 max-conns 1\n");
    struct pool *p = b_pool(rt);
    struct server *a = b_srv(p, "a");
    struct queue_waiter w[3];
    int result;

    pick_ok(p);
    for (int i = 0; i < 3; i++) {
        t_waiter(&w[i], i); /* each on its own worker */
        cr_assert_geq(balance_queue(p->shared, &w[i], 10, 0), 0);
    }
    for (int i = 0; i < 3; i++) {
        balance_release(a);
        cr_assert_eq(notified[i], i);
        balance_mailbox_run(i);
        cr_assert_eq(nwoken, i + 1);
        cr_assert_eq(woken[i], &w[i]);
        cr_assert_eq(balance_pick(p, now_ms(), NULL, 0, 1, &result), a);
    }
    runtime_release(rt);
}

/* The protocol txn_start_server follows against a lost wake-up: a slot
 * freed between a request's FULL pick and its queueing finds the queue
 * empty and wakes nobody, so after queueing the request picks once more. */
Test(balance_queue, a_slot_freed_before_the_queueing_is_found_by_the_second_pick)
{
    struct runtime *rt = b_web("server a 127.0.0.1:9001 max-conns 1\n");
    struct pool *p = b_pool(rt);
    struct server *a = b_srv(p, "a");
    struct queue_waiter w;
    int result;

    pick_ok(p);
    pick_fails(p, PICK_FULL);
    balance_release(a); /* before the waiter is in the queue */
    cr_assert_eq(nnotified, 0);
    t_waiter(&w, 0);
    cr_assert_eq(balance_queue(p->shared, &w, 10, 0), 1, "first in the queue: it may pick again");
    cr_assert_eq(balance_pick(p, now_ms(), NULL, 0, 1, &result), a, "the second pick missed the free slot");
    balance_dequeue(p->shared, &w);
    cr_assert_eq(atomic_load(&p->shared->queued), 0);
    cr_assert_eq(w.where, QW_NONE);
    runtime_release(rt);
}

/* Only the first in the queue picks again: a new request queued behind a
 * waiter must not take the slot freed for the oldest one, already woken. */
Test(balance_queue, only_the_first_waiter_may_pick_again)
{
    struct runtime *rt = b_web("server a 127.0.0.1:9001 max-conns 1\n");
    struct pool *p = b_pool(rt);
    struct server *a = b_srv(p, "a");
    struct queue_waiter w1, w2, n;

    pick_ok(p);
    t_waiter(&w1, 0);
    t_waiter(&w2, 0);
    t_waiter(&n, 1);
    cr_assert_eq(balance_queue(p->shared, &w1, 10, 0), 1);
    cr_assert_eq(balance_queue(p->shared, &w2, 10, 0), 0);
    balance_release(a); /* the slot is w1's: w1 to its mailbox, w2 first */
    cr_assert_eq(w1.where, QW_MAILBOX);
    pick_fails(p, PICK_FULL); /* a new request: w2 waits, so it queues */
    cr_assert_eq(balance_queue(p->shared, &n, 10, 0), 0, "a request behind w2 was allowed a second pick");
    balance_mailbox_run(0);
    cr_assert_eq(nwoken, 1);
    int result;
    cr_assert_eq(balance_pick(p, now_ms(), NULL, 0, 1, &result), a, "w1 lost its slot");
    balance_dequeue(p->shared, &w2);
    balance_dequeue(p->shared, &n);
    runtime_release(rt);
}

/* A woken waiter that lost the slot to a race goes back ahead of the ones
 * that came after it. */
Test(balance_queue, a_requeued_waiter_goes_back_ahead_of_later_ones)
{
    struct runtime *rt = b_web("server a 127.0.0.1:9001 max-conns 1\n");
    struct pool *p = b_pool(rt);
    struct server *a = b_srv(p, "a");
    struct queue_waiter w1, w2;

    pick_ok(p);
    t_waiter(&w1, 0);
    t_waiter(&w2, 0);
    cr_assert_geq(balance_queue(p->shared, &w1, 10, 0), 0);
    balance_release(a); /* w1 to the mailbox */
    pick_ok(p);         /* a new request takes the slot first */
    cr_assert_geq(balance_queue(p->shared, &w2, 10, 0), 0);
    balance_mailbox_run(0);
    cr_assert_eq(nwoken, 1);
    cr_assert_geq(balance_queue(p->shared, &w1, 10, 1), 0); /* lost the race */
    balance_release(a);
    balance_mailbox_run(0);
    cr_assert_eq(nwoken, 2);
    cr_assert_eq(woken[1], &w1);
    balance_dequeue(p->shared, &w2);
    runtime_release(rt);
}

/* Several woken together, all losing: they go back in arrival order (each
 * going to the head in turn would reverse them). */
Test(balance_queue, requeued_waiters_keep_their_order)
{
    struct runtime *rt = b_web("server a 127.0.0.1:9001 max-conns 3\n");
    struct pool *p = b_pool(rt);
    struct server *a = b_srv(p, "a");
    struct queue_waiter w[4];

    for (int i = 0; i < 3; i++)
        pick_ok(p);
    for (int i = 0; i < 4; i++) {
        t_waiter(&w[i], 1);
        cr_assert_geq(balance_queue(p->shared, &w[i], 10, 0), 0);
    }
    for (int i = 0; i < 3; i++)
        balance_release(a); /* w0-w2 to the mailbox */
    int result;
    for (int i = 0; i < 3; i++) /* others take the three slots first */
        cr_assert_eq(balance_pick(p, now_ms(), NULL, 0, 1, &result), a);
    balance_mailbox_run(1);
    cr_assert_eq(nwoken, 3);
    for (int i = 0; i < 3; i++) /* each retries, oldest first, and loses */
        cr_assert_geq(balance_queue(p->shared, woken[i], 10, 1), 0);
    for (int i = 0; i < 3; i++)
        balance_release(a);
    balance_mailbox_run(1);
    cr_assert_eq(nwoken, 6);
    for (int i = 0; i < 3; i++)
        cr_assert_eq(woken[3 + i], &w[i], "woken after the requeue: [%d] is not w[%d]", i, i);
    cr_assert_eq(w[3].where, QW_QUEUED, "w3 came last and stays last");
    balance_dequeue(p->shared, &w[3]);
    runtime_release(rt);
}

Test(balance_queue, dequeue_removes_from_the_queue)
{
    struct runtime *rt = b_web("server a 127.0.0.1:9001 max-conns 1\n");
    struct pool *p = b_pool(rt);
    struct server *a = b_srv(p, "a");
    struct queue_waiter w1, w2, w3;

    pick_ok(p);
    t_waiter(&w1, 0);
    t_waiter(&w2, 0);
    t_waiter(&w3, 0);
    cr_assert_geq(balance_queue(p->shared, &w1, 10, 0), 0);
    cr_assert_geq(balance_queue(p->shared, &w2, 10, 0), 0);
    cr_assert_geq(balance_queue(p->shared, &w3, 10, 0), 0);
    balance_dequeue(p->shared, &w2); /* from the middle */
    cr_assert_eq(w2.where, QW_NONE);
    balance_dequeue(p->shared, &w1); /* the head */
    cr_assert_eq(atomic_load(&p->shared->queued), 1);
    balance_dequeue(p->shared, &w2); /* twice: harmless */
    cr_assert_eq(atomic_load(&p->shared->queued), 1);
    balance_release(a);
    balance_mailbox_run(0);
    cr_assert_eq(nwoken, 1);
    cr_assert_eq(woken[0], &w3);
    runtime_release(rt);
}

Test(balance_queue, dequeue_removes_from_the_mailbox)
{
    struct runtime *rt = b_web("server a 127.0.0.1:9001 max-conns 2\n");
    struct pool *p = b_pool(rt);
    struct server *a = b_srv(p, "a");
    struct queue_waiter w1, w2;

    pick_ok(p);
    pick_ok(p);
    t_waiter(&w1, 5);
    t_waiter(&w2, 5);
    cr_assert_geq(balance_queue(p->shared, &w1, 10, 0), 0);
    cr_assert_geq(balance_queue(p->shared, &w2, 10, 0), 0);
    balance_release(a);
    balance_release(a);
    cr_assert_eq(w1.where, QW_MAILBOX);
    cr_assert_eq(w2.where, QW_MAILBOX);
    /* w1 timed out meanwhile: it leaves the mailbox; w2 is still woken. */
    balance_dequeue(p->shared, &w1);
    cr_assert_eq(w1.where, QW_NONE);
    balance_mailbox_run(5);
    cr_assert_eq(nwoken, 1);
    cr_assert_eq(woken[0], &w2);
    runtime_release(rt);
}

Test(balance_queue, release_with_no_notify_function_still_moves_the_waiter)
{
    struct runtime *rt = b_web("server a 127.0.0.1:9001 max-conns 1\n");
    struct pool *p = b_pool(rt);
    struct queue_waiter w;

    balance_set_notify(NULL);
    pick_ok(p);
    t_waiter(&w, 0);
    cr_assert_geq(balance_queue(p->shared, &w, 10, 0), 0);
    balance_release(b_srv(p, "a"));
    cr_assert_eq(nnotified, 0);
    balance_mailbox_run(0);
    cr_assert_eq(nwoken, 1);
    runtime_release(rt);
}

/* A server coming up (or standbys joining, or a reload) adds room: as many
 * queued requests as there are free slots go and pick again at once,
 * oldest first, instead of waiting for a slot of the full server. */
Test(balance_queue, a_server_coming_up_wakes_as_many_waiters_as_it_has_room)
{
    struct runtime *rt = b_web("server a 127.0.0.1:9001 max-conns 1\n"
                               "server b 127.0.0.1:9002 max-conns 2\n");
    struct pool *p = b_pool(rt);
    struct server *b = b_srv(p, "b");
    struct queue_waiter w[3];

    atomic_store(&b->state, SRV_DOWN);
    cr_assert_eq(pick_ok(p), b_srv(p, "a"));
    for (int i = 0; i < 3; i++) {
        t_waiter(&w[i], i);
        cr_assert_geq(balance_queue(p->shared, &w[i], 10, 0), 0);
    }
    balance_wake_queue(p); /* nothing changed: a is full, b is down */
    cr_assert_eq(nnotified, 0);
    cr_assert_eq(atomic_load(&p->shared->queued), 3);

    atomic_store(&b->state, SRV_UP);
    balance_wake_queue(p);
    cr_assert_eq(atomic_load(&p->shared->queued), 1, "b has room for 2 of the 3");
    cr_assert_eq(nnotified, 2);
    cr_assert_eq(notified[0], 0);
    cr_assert_eq(notified[1], 1);
    cr_assert_eq(w[0].where, QW_MAILBOX);
    cr_assert_eq(w[1].where, QW_MAILBOX);
    cr_assert_eq(w[2].where, QW_QUEUED, "the youngest still waits");
    balance_mailbox_run(0);
    balance_mailbox_run(1);
    cr_assert_eq(nwoken, 2);
    cr_assert_eq(woken[0], &w[0]);
    cr_assert_eq(woken[1], &w[1]);
    balance_dequeue(p->shared, &w[2]);
    runtime_release(rt);
}

Test(balance_queue, a_server_without_max_conns_coming_up_wakes_every_waiter)
{
    struct runtime *rt = b_web("server a 127.0.0.1:9001 max-conns 1\nserver b 127.0.0.1:9002\n");
    struct pool *p = b_pool(rt);
    struct queue_waiter w[4];

    atomic_store(&b_srv(p, "b")->state, SRV_DOWN);
    pick_ok(p);
    for (int i = 0; i < 4; i++) {
        t_waiter(&w[i], 1);
        cr_assert_geq(balance_queue(p->shared, &w[i], 10, 0), 0);
    }
    atomic_store(&b_srv(p, "b")->state, SRV_UP);
    balance_wake_queue(p);
    cr_assert_eq(atomic_load(&p->shared->queued), 0);
    cr_assert_eq(nnotified, 1, "one wake-up per worker");
    balance_mailbox_run(1);
    cr_assert_eq(nwoken, 4);
    for (int i = 0; i < 4; i++)
        cr_assert_eq(woken[i], &w[i], "oldest first");
    runtime_release(rt);
}

/* ---- priorities (route ... priority): higher classes first, FIFO within one ---- */

/* Queues waiters of the given priorities in that order (all on worker 1),
 * then releases one slot at a time: returns through order[] the index of
 * each waiter in the order they were woken. */
static void wake_order(const uint8_t *prios, int n, int *order)
{
    struct runtime *rt = b_web("server a 127.0.0.1:9001 max-conns 1\n");
    struct pool *p = b_pool(rt);
    struct server *a = b_srv(p, "a");
    struct queue_waiter w[16];
    int result;

    cr_assert_leq(n, 16);
    pick_ok(p);
    for (int i = 0; i < n; i++) {
        t_waiter(&w[i], 1);
        w[i].priority = prios[i];
        cr_assert_geq(balance_queue(p->shared, &w[i], 100, 0), 0);
    }
    for (int i = 0; i < n; i++) {
        balance_release(a);
        balance_mailbox_run(1);
        cr_assert_eq(nwoken, i + 1);
        order[i] = (int)(woken[i] - w);
        cr_assert_eq(balance_pick(p, now_ms(), NULL, 0, 1, &result), a);
    }
    runtime_release(rt);
}

Test(balance_queue, higher_priority_first_fifo_within_one)
{
    /* normal, low, high, normal, high, low */
    static const uint8_t prios[] = { PRIO_NORMAL, PRIO_LOW, PRIO_HIGH, PRIO_NORMAL, PRIO_HIGH, PRIO_LOW };
    static const int want[] = { 2, 4, 0, 3, 1, 5 };
    int order[6];
    wake_order(prios, 6, order);
    for (int i = 0; i < 6; i++)
        cr_assert_eq(order[i], want[i], "woken %d: waiter %d, want %d", i, order[i], want[i]);
}

Test(balance_queue, a_checkout_behind_many_browsing_requests_goes_next)
{
    uint8_t prios[16];
    int order[16];
    for (int i = 0; i < 15; i++)
        prios[i] = PRIO_NORMAL;
    prios[15] = PRIO_HIGH;
    wake_order(prios, 16, order);
    cr_assert_eq(order[0], 15, "the high one came last and goes first");
    for (int i = 1; i < 16; i++)
        cr_assert_eq(order[i], i - 1, "the normal ones keep their order");
}

Test(balance_queue, a_requeued_waiter_keeps_its_place_within_its_class)
{
    struct runtime *rt = b_web("server a 127.0.0.1:9001 max-conns 1\n");
    struct pool *p = b_pool(rt);
    struct queue_waiter w[4];
    static const uint8_t prios[] = { PRIO_HIGH, PRIO_HIGH, PRIO_NORMAL, PRIO_LOW };

    for (int i = 0; i < 4; i++) {
        t_waiter(&w[i], 1);
        w[i].priority = prios[i];
        cr_assert_geq(balance_queue(p->shared, &w[i], 100, 0), 0);
    }
    /* The first high one was woken and lost its slot: back before the
     * second high one, not behind the normal and low ones. */
    balance_dequeue(p->shared, &w[0]);
    cr_assert_eq(balance_queue(p->shared, &w[0], 100, 1), 1, "first again");
    cr_assert_eq(p->shared->qhead.next, &w[0]);
    cr_assert_eq(w[0].next, &w[1]);
    cr_assert_eq(w[1].next, &w[2]);
    cr_assert_eq(w[2].next, &w[3]);
    for (int i = 0; i < 4; i++)
        balance_dequeue(p->shared, &w[i]);
    runtime_release(rt);
}
