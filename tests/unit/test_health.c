/*
 * Unit tests of health checking: the state machine with a fake clock (rise
 * and fall, passive failures, standby thresholds, slow start), then real
 * HTTP and TCP checks against loopback sockets on a private ev_loop, and
 * the notify program of events.
 */
#include <criterion/criterion.h>

#include <arpa/inet.h>
#include <errno.h>
#include <ev.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "event.h"
#include "health.h"
#include "health_state.h"
#include "log.h"

/* ---- fixtures: a pool of hand-made servers ------------------------------ */

#define T_MAX_SERVERS 8

struct t_pool {
    struct config_pool cfg;
    struct pool_shared shared;
    struct pool pool;
    struct server *servers[T_MAX_SERVERS];
};

static struct server *t_server(struct t_pool *tp, const char *name, enum server_role role,
                               unsigned weight, unsigned port)
{
    struct server *srv = aligned_alloc(CACHE_LINE, sizeof *srv);
    struct sockaddr_in *sin;

    cr_assert_not_null(srv);
    memset(srv, 0, sizeof *srv);
    /* Never freed through server_unref: the test owns it. */
    atomic_store(&srv->refs, 1000);
    snprintf(srv->name, sizeof srv->name, "%s", name);
    snprintf(srv->pool_name, sizeof srv->pool_name, "%s", tp->shared.name);
    srv->role = role;
    srv->pool = &tp->shared;
    atomic_store(&srv->weight, weight);
    sin = (struct sockaddr_in *)&srv->addr.sa;
    sin->sin_family = AF_INET;
    sin->sin_port = htons((uint16_t)port);
    sin->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    srv->addr.len = sizeof *sin;
    snprintf(srv->addr.text, sizeof srv->addr.text, "127.0.0.1:%u", port);
    tp->servers[tp->pool.nservers++] = srv;
    if (role == ROLE_PRIMARY)
        tp->pool.nprimaries++;
    return srv;
}

static void t_pool_init(struct t_pool *tp, const char *name, unsigned standby_below)
{
    memset(tp, 0, sizeof *tp);
    snprintf(tp->cfg.name, sizeof tp->cfg.name, "%s", name);
    snprintf(tp->shared.name, sizeof tp->shared.name, "%s", name);
    atomic_store(&tp->shared.refs, 1000);
    tp->cfg.check = CHECK_TCP;
    snprintf(tp->cfg.check_path, sizeof tp->cfg.check_path, "/healthz");
    tp->cfg.expect_lo = 200;
    tp->cfg.expect_hi = 399;
    tp->cfg.interval_ms = 2000;
    tp->cfg.check_timeout_ms = 1000;
    tp->cfg.rise = 2;
    tp->cfg.fall = 3;
    tp->cfg.standby_below = standby_below;
    tp->pool.cfg = &tp->cfg;
    tp->pool.shared = &tp->shared;
    tp->pool.servers = tp->servers;
}

static void t_pool_free(struct t_pool *tp)
{
    size_t i;

    for (i = 0; i < tp->pool.nservers; i++)
        free(tp->servers[i]);
}

/* A runtime of one pool, never freed by runtime_release (high refs). */
static void t_runtime(struct runtime *rt, struct t_pool *tp)
{
    memset(rt, 0, sizeof *rt);
    atomic_store(&rt->refs, 1000);
    rt->pools = &tp->pool;
    rt->npools = 1;
}

static void quiet(void)
{
    log_set_level(LOG_ERROR);
}

/* ---- rise / fall ----------------------------------------------------------- */

TestSuite(health_state, .init = quiet);

Test(health_state, servers_start_up_with_no_check_result)
{
    struct t_pool tp;
    struct server *s;

    t_pool_init(&tp, "web", 1);
    s = t_server(&tp, "app1", ROLE_PRIMARY, 1, 20001);
    cr_assert_eq(atomic_load(&s->state), SRV_UP);
    cr_assert_eq(s->check_status, CHECK_NONE);
    cr_assert_str_eq(health_check_status_name(s->check_status), "none");
    t_pool_free(&tp);
}

Test(health_state, fall_consecutive_failures_take_a_server_down)
{
    struct t_pool tp;
    struct server *s;

    t_pool_init(&tp, "web", 1);
    s = t_server(&tp, "app1", ROLE_PRIMARY, 1, 20001);
    cr_assert_eq(health_state_check_result(s, 0, 2, 3, 1000), HEALTH_SAME);
    cr_assert_eq(health_state_check_result(s, 0, 2, 3, 2000), HEALTH_SAME);
    cr_assert_eq(s->check_status, CHECK_FAIL);
    cr_assert_eq(s->check_consecutive, 2);
    /* A pass in between restarts the count: no flapping on one blip. */
    cr_assert_eq(health_state_check_result(s, 1, 2, 3, 3000), HEALTH_SAME);
    cr_assert_eq(s->check_consecutive, 1);
    cr_assert_eq(health_state_check_result(s, 0, 2, 3, 4000), HEALTH_SAME);
    cr_assert_eq(health_state_check_result(s, 0, 2, 3, 5000), HEALTH_SAME);
    cr_assert_eq(atomic_load(&s->state), SRV_UP);
    cr_assert_eq(health_state_check_result(s, 0, 2, 3, 6000), HEALTH_WENT_DOWN);
    cr_assert_eq(atomic_load(&s->state), SRV_DOWN);
    cr_assert_eq(health_state_check_result(s, 0, 2, 3, 7000), HEALTH_SAME);
    cr_assert_eq(s->check_consecutive, 4);
    t_pool_free(&tp);
}

Test(health_state, rise_consecutive_passes_bring_it_back_with_slow_start)
{
    struct t_pool tp;
    struct server *s;
    int i;

    t_pool_init(&tp, "web", 1);
    s = t_server(&tp, "app1", ROLE_PRIMARY, 1, 20001);
    for (i = 0; i < 3; i++)
        health_state_check_result(s, 0, 2, 3, 1000);
    cr_assert_eq(atomic_load(&s->state), SRV_DOWN);
    atomic_store(&s->passive_failures, 2);

    cr_assert_eq(health_state_check_result(s, 1, 2, 3, 5000), HEALTH_SAME);
    cr_assert_eq(atomic_load(&s->state), SRV_DOWN);
    cr_assert_eq(health_state_check_result(s, 0, 2, 3, 6000), HEALTH_SAME);
    cr_assert_eq(health_state_check_result(s, 1, 2, 3, 7000), HEALTH_SAME);
    cr_assert_eq(health_state_check_result(s, 1, 2, 3, 8000), HEALTH_WENT_UP);
    cr_assert_eq(atomic_load(&s->state), SRV_UP);
    cr_assert_eq(s->check_status, CHECK_PASS);
    cr_assert_eq(s->check_consecutive, 2);
    cr_assert_eq(atomic_load(&s->up_since_ms), 8000);
    cr_assert_eq(atomic_load(&s->passive_failures), 0);
    cr_assert_eq(health_state_check_result(s, 1, 2, 3, 9000), HEALTH_SAME);
    t_pool_free(&tp);
}

Test(health_state, rise_and_fall_of_one)
{
    struct t_pool tp;
    struct server *s;

    t_pool_init(&tp, "web", 1);
    s = t_server(&tp, "app1", ROLE_PRIMARY, 1, 20001);
    cr_assert_eq(health_state_check_result(s, 0, 1, 1, 1000), HEALTH_WENT_DOWN);
    cr_assert_eq(health_state_check_result(s, 1, 1, 1, 2000), HEALTH_WENT_UP);
    t_pool_free(&tp);
}

/* A shortage of ours is not the server's failure (issue 11 item 3). */
Test(health_state, local_errnos_are_told_from_the_servers)
{
    cr_assert(health_errno_local(EMFILE));
    cr_assert(health_errno_local(ENFILE));
    cr_assert(health_errno_local(ENOMEM));
    cr_assert(health_errno_local(ENOBUFS));
    cr_assert_not(health_errno_local(ECONNREFUSED));
    cr_assert_not(health_errno_local(ETIMEDOUT));
    cr_assert_not(health_errno_local(ECONNRESET));
    cr_assert_not(health_errno_local(0));
}

/* ---- passive failures ----------------------------------------------------- */

Test(health_state, fall_failures_on_traffic_mark_down_once)
{
    struct t_pool tp;
    struct server *s;

    t_pool_init(&tp, "web", 1);
    s = t_server(&tp, "app1", ROLE_PRIMARY, 1, 20001);
    cr_assert_eq(health_state_passive_failure(s, 3), 0);
    cr_assert_eq(health_state_passive_failure(s, 3), 0);
    cr_assert_eq(atomic_load(&s->state), SRV_UP);
    cr_assert_eq(health_state_passive_failure(s, 3), 1);
    cr_assert_eq(atomic_load(&s->state), SRV_DOWN);
    /* Only the failure that took it down reports it. */
    cr_assert_eq(health_state_passive_failure(s, 3), 0);
    t_pool_free(&tp);
}

Test(health_state, success_resets_the_failure_count)
{
    struct t_pool tp;
    struct server *s;

    t_pool_init(&tp, "web", 1);
    tp.cfg.fall = 3;
    s = t_server(&tp, "app1", ROLE_PRIMARY, 1, 20001);
    health_report_failure(&tp.pool, s, "connect refused");
    health_report_failure(&tp.pool, s, "connect refused");
    cr_assert_eq(atomic_load(&s->passive_failures), 2);
    health_report_success(s);
    cr_assert_eq(atomic_load(&s->passive_failures), 0);
    health_report_failure(&tp.pool, s, "reset");
    health_report_failure(&tp.pool, s, "reset");
    cr_assert_eq(atomic_load(&s->state), SRV_UP);
    health_report_failure(&tp.pool, s, "reset");
    cr_assert_eq(atomic_load(&s->state), SRV_DOWN);
    t_pool_free(&tp);
}

Test(health_state, passive_down_needs_rise_fresh_passes)
{
    struct t_pool tp;
    struct server *s;
    int i;

    t_pool_init(&tp, "web", 1);
    s = t_server(&tp, "app1", ROLE_PRIMARY, 1, 20001);
    for (i = 0; i < 10; i++)
        health_state_check_result(s, 1, 2, 3, 1000);
    cr_assert_eq(s->check_consecutive, 10);
    for (i = 0; i < 3; i++)
        health_state_passive_failure(s, 3);
    cr_assert_eq(atomic_load(&s->state), SRV_DOWN);
    /* The ten passes from before the failures do not count. */
    cr_assert_eq(health_state_check_result(s, 1, 2, 3, 2000), HEALTH_SAME);
    cr_assert_eq(atomic_load(&s->state), SRV_DOWN);
    cr_assert_eq(health_state_check_result(s, 1, 2, 3, 3000), HEALTH_WENT_UP);
    t_pool_free(&tp);
}

Test(health_state, sync_reports_a_worker_state_change_once)
{
    struct t_pool tp;
    struct server *s;

    t_pool_init(&tp, "web", 1);
    s = t_server(&tp, "app1", ROLE_PRIMARY, 1, 20001);
    cr_assert_eq(health_state_sync(s), 0);
    health_state_passive_failure(s, 1);
    cr_assert_eq(health_state_sync(s), 1);
    cr_assert_eq(health_state_sync(s), 0);
    t_pool_free(&tp);
}

/* ---- standbys ----------------------------------------------------------- */

Test(health_state, standby_below_one)
{
    struct t_pool tp;
    struct health_pool_view v;
    struct server *a, *b, *sb;

    t_pool_init(&tp, "web", 1);
    a = t_server(&tp, "app1", ROLE_PRIMARY, 1, 20001);
    b = t_server(&tp, "app2", ROLE_PRIMARY, 1, 20002);
    sb = t_server(&tp, "spare", ROLE_STANDBY, 1, 20003);

    health_state_pool_view(&tp.pool, &v);
    cr_assert_eq(v.primaries_usable, 2);
    cr_assert_eq(v.nstandbys, 1);
    cr_assert_not(v.standby_wanted);
    cr_assert_not(v.pool_down);

    atomic_store(&a->state, SRV_DOWN);
    health_state_pool_view(&tp.pool, &v);
    cr_assert_not(v.standby_wanted);

    atomic_store(&b->state, SRV_DOWN);
    health_state_pool_view(&tp.pool, &v);
    cr_assert(v.standby_wanted);
    cr_assert_not(v.pool_down);

    atomic_store(&sb->state, SRV_DOWN);
    health_state_pool_view(&tp.pool, &v);
    cr_assert(v.pool_down);

    atomic_store(&a->state, SRV_UP);
    health_state_pool_view(&tp.pool, &v);
    cr_assert_not(v.standby_wanted);
    cr_assert_not(v.pool_down);
    t_pool_free(&tp);
}

Test(health_state, standby_below_two_counts_drained_and_disabled_as_unusable)
{
    struct t_pool tp;
    struct health_pool_view v;
    struct server *a, *b;

    t_pool_init(&tp, "web", 2);
    a = t_server(&tp, "app1", ROLE_PRIMARY, 1, 20001);
    b = t_server(&tp, "app2", ROLE_PRIMARY, 1, 20002);
    t_server(&tp, "app3", ROLE_PRIMARY, 1, 20003);
    t_server(&tp, "spare", ROLE_STANDBY, 1, 20004);

    health_state_pool_view(&tp.pool, &v);
    cr_assert_not(v.standby_wanted);
    atomic_store(&a->state, SRV_DOWN);
    health_state_pool_view(&tp.pool, &v);
    cr_assert_not(v.standby_wanted); /* 2 of 3 up: not fewer than 2 */
    atomic_store(&b->admin, ADMIN_DRAIN);
    health_state_pool_view(&tp.pool, &v);
    cr_assert(v.standby_wanted);
    cr_assert_eq(v.primaries_usable, 1);
    atomic_store(&b->admin, ADMIN_DISABLE);
    health_state_pool_view(&tp.pool, &v);
    cr_assert(v.standby_wanted);
    atomic_store(&b->admin, ADMIN_NONE);
    health_state_pool_view(&tp.pool, &v);
    cr_assert_not(v.standby_wanted);
    t_pool_free(&tp);
}

Test(health_state, no_standby_is_never_wanted)
{
    struct t_pool tp;
    struct health_pool_view v;
    struct server *a;

    t_pool_init(&tp, "web", 1);
    a = t_server(&tp, "app1", ROLE_PRIMARY, 1, 20001);
    atomic_store(&a->state, SRV_DOWN);
    health_state_pool_view(&tp.pool, &v);
    cr_assert_not(v.standby_wanted);
    cr_assert(v.pool_down);
    t_pool_free(&tp);
}

/* ---- slow start ------------------------------------------------------------- */

Test(health_state, slow_start_ramps_linearly)
{
    struct t_pool tp;
    struct server *s;

    t_pool_init(&tp, "web", 1);
    s = t_server(&tp, "app1", ROLE_PRIMARY, 5, 20001);
    atomic_store(&s->up_since_ms, 100000);
    /* full 80, floor 80/20 = 4 */
    cr_assert_eq(health_effective_weight(s, 10000, 100000), 4);
    cr_assert_eq(health_effective_weight(s, 10000, 102500), 4 + 76 / 4);
    cr_assert_eq(health_effective_weight(s, 10000, 105000), 4 + 76 / 2);
    cr_assert_eq(health_effective_weight(s, 10000, 110000), 80);
    cr_assert_eq(health_effective_weight(s, 10000, 500000), 80);
    /* A clock read before up_since was stored: the start of the ramp. */
    cr_assert_eq(health_effective_weight(s, 10000, 99000), 4);
    t_pool_free(&tp);
}

Test(health_state, slow_start_floor_is_at_least_one)
{
    struct t_pool tp;
    struct server *s;

    t_pool_init(&tp, "web", 1);
    s = t_server(&tp, "app1", ROLE_PRIMARY, 1, 20001);
    atomic_store(&s->up_since_ms, 1000);
    cr_assert_eq(health_effective_weight(s, 1000, 1000), 1);
    cr_assert_eq(health_effective_weight(s, 1000, 1500), 1 + 15 / 2);
    cr_assert_eq(health_effective_weight(s, 1000, 2000), 16);
    t_pool_free(&tp);
}

Test(health_state, no_slow_start_means_full_weight)
{
    struct t_pool tp;
    struct server *s;

    t_pool_init(&tp, "web", 1);
    s = t_server(&tp, "app1", ROLE_PRIMARY, 3, 20001);
    atomic_store(&s->up_since_ms, 1000);
    cr_assert_eq(health_effective_weight(s, 0, 1000), 48);
    /* Up since start-up (up_since 0): not slow-started. */
    atomic_store(&s->up_since_ms, 0);
    cr_assert_eq(health_effective_weight(s, 10000, 5), 48);
    t_pool_free(&tp);
}

Test(health_state, mark_up_starts_slow_start)
{
    struct t_pool tp;
    struct server *s;

    t_pool_init(&tp, "web", 1);
    s = t_server(&tp, "app1", ROLE_PRIMARY, 5, 20001);
    health_state_check_result(s, 0, 1, 1, 1000);
    health_state_check_result(s, 1, 1, 1, 50000);
    cr_assert_eq(health_effective_weight(s, 10000, 50000), 4);
    cr_assert_eq(health_effective_weight(s, 10000, 55000), 42);
    cr_assert_eq(health_effective_weight(s, 10000, 60000), 80);
    t_pool_free(&tp);
}

/* ---- the checker on a private loop --------------------------------------- */

/* A loopback HTTP server driven by the test's loop: answers every request
 * with `status` (0: accept and never answer). */
struct t_backend {
    int lfd;
    int status;
    unsigned accepted;
    int hung[8];            /* connections of a hung server, closed at stop */
    unsigned nhung;
    ev_io accept_w;
};

static void t_backend_accept(struct ev_loop *loop, ev_io *w, int revents)
{
    struct t_backend *b = w->data;
    char buf[1024], resp[128];
    int fd, n;

    (void)loop;
    (void)revents;
    fd = accept(b->lfd, NULL, NULL);
    if (fd < 0)
        return;
    b->accepted++;
    if (b->status == 0) {
        if (b->nhung < 8)
            b->hung[b->nhung++] = fd;
        else
            close(fd);
        return;
    }
    /* The check's request is small and sent at once on loopback. */
    (void)!recv(fd, buf, sizeof buf, 0);
    n = snprintf(resp, sizeof resp, "HTTP/1.1 %d X\r\nContent-Length: 0\r\n\r\n", b->status);
    (void)!send(fd, resp, (size_t)n, MSG_NOSIGNAL);
    close(fd);
}

static int t_listen(unsigned port, int do_listen)
{
    struct sockaddr_in sin;
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    int one = 1;

    cr_assert_geq(fd, 0);
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    memset(&sin, 0, sizeof sin);
    sin.sin_family = AF_INET;
    sin.sin_port = htons((uint16_t)port);
    sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    cr_assert_eq(bind(fd, (struct sockaddr *)&sin, sizeof sin), 0, "bind %u: %s", port,
                 strerror(errno));
    if (do_listen)
        cr_assert_eq(listen(fd, 16), 0);
    return fd;
}

static void t_backend_start(struct ev_loop *loop, struct t_backend *b, unsigned port, int status)
{
    memset(b, 0, sizeof *b);
    b->status = status;
    b->lfd = t_listen(port, 1);
    ev_io_init(&b->accept_w, t_backend_accept, b->lfd, EV_READ);
    b->accept_w.data = b;
    ev_io_start(loop, &b->accept_w);
}

static void t_backend_stop(struct ev_loop *loop, struct t_backend *b)
{
    unsigned i;

    ev_io_stop(loop, &b->accept_w);
    close(b->lfd);
    for (i = 0; i < b->nhung; i++)
        close(b->hung[i]);
}

static void t_nothing(struct ev_loop *loop, ev_timer *w, int revents)
{
    (void)loop;
    (void)w;
    (void)revents;
}

/* Runs the loop until *status becomes `want` or `limit` seconds pass;
 * returns whether it did. */
static int t_run_until(struct ev_loop *loop, const int *status, int want, double limit)
{
    ev_timer guard;
    double end = ev_time() + limit;

    ev_timer_init(&guard, t_nothing, 0.01, 0.01);
    ev_timer_start(loop, &guard);
    while (*status != want && ev_time() < end)
        ev_run(loop, EVRUN_ONCE);
    ev_timer_stop(loop, &guard);
    return *status == want;
}

/* The same for an atomic (a server's state, a pool's standby flag). */
static int t_run_until_atomic(struct ev_loop *loop, atomic_int *value, int want, double limit)
{
    ev_timer guard;
    double end = ev_time() + limit;

    ev_timer_init(&guard, t_nothing, 0.01, 0.01);
    ev_timer_start(loop, &guard);
    while (atomic_load(value) != want && ev_time() < end)
        ev_run(loop, EVRUN_ONCE);
    ev_timer_stop(loop, &guard);
    return atomic_load(value) == want;
}

static int t_state(const struct server *s)
{
    return atomic_load(&s->state);
}

TestSuite(health_io, .init = quiet, .timeout = 10);

Test(health_io, http_check_passes_fails_and_recovers)
{
    struct ev_loop *loop = ev_loop_new(EVFLAG_AUTO);
    struct t_backend be;
    struct t_pool tp;
    struct runtime rt;
    struct server *s;

    t_backend_start(loop, &be, 20310, 200);
    t_pool_init(&tp, "web", 1);
    tp.cfg.check = CHECK_HTTP;
    tp.cfg.interval_ms = 30;
    tp.cfg.check_timeout_ms = 500;
    tp.cfg.rise = 2;
    tp.cfg.fall = 2;
    s = t_server(&tp, "app1", ROLE_PRIMARY, 1, 20310);
    t_runtime(&rt, &tp);

    cr_assert_eq(health_start(loop), 0);
    health_apply(&rt);
    cr_assert_not_null(s->check);
    cr_assert(t_run_until(loop, &s->check_status, CHECK_PASS, 2.0));
    cr_assert_eq(t_state(s), SRV_UP);
    cr_assert_geq(be.accepted, 1);

    be.status = 503;
    cr_assert(t_run_until(loop, &s->check_status, CHECK_FAIL, 2.0));
    cr_assert_eq(t_state(s), SRV_UP); /* fall 2: one failure is not enough */
    cr_assert(t_run_until_atomic(loop, &s->state, SRV_DOWN, 2.0));
    cr_assert_eq(s->check_status, CHECK_FAIL);
    cr_assert_eq(s->check_consecutive, 2);

    be.status = 204;
    cr_assert(t_run_until(loop, &s->check_status, CHECK_PASS, 2.0));
    cr_assert_eq(t_state(s), SRV_DOWN); /* rise 2 */
    cr_assert(t_run_until_atomic(loop, &s->state, SRV_UP, 2.0));
    cr_assert_eq(s->check_status, CHECK_PASS);
    cr_assert_eq(s->check_consecutive, 2);
    cr_assert_neq(atomic_load(&s->up_since_ms), 0);
    cr_assert_geq(s->check_last_ms, 0.0);

    health_stop();
    cr_assert_null(s->check);
    t_backend_stop(loop, &be);
    ev_loop_destroy(loop);
    t_pool_free(&tp);
}

Test(health_io, tcp_check_passes_and_refused_port_goes_down)
{
    struct ev_loop *loop = ev_loop_new(EVFLAG_AUTO);
    struct t_backend be;
    struct t_pool tp;
    struct runtime rt;
    struct server *good, *bad;
    int refusing;

    t_backend_start(loop, &be, 20320, 200);
    /* Bound but not listening: connects are refused, and no other process
     * can take the port meanwhile. */
    refusing = t_listen(20321, 0);
    t_pool_init(&tp, "web", 1);
    tp.cfg.check = CHECK_TCP;
    tp.cfg.interval_ms = 20;
    tp.cfg.check_timeout_ms = 500;
    tp.cfg.rise = 1;
    tp.cfg.fall = 1;
    good = t_server(&tp, "good", ROLE_PRIMARY, 1, 20320);
    bad = t_server(&tp, "bad", ROLE_PRIMARY, 1, 20321);
    t_runtime(&rt, &tp);

    cr_assert_eq(health_start(loop), 0);
    health_apply(&rt);
    cr_assert(t_run_until(loop, &good->check_status, CHECK_PASS, 2.0));
    cr_assert(t_run_until(loop, &bad->check_status, CHECK_FAIL, 2.0));
    cr_assert_eq(t_state(good), SRV_UP);
    cr_assert_eq(t_state(bad), SRV_DOWN);

    health_stop();
    close(refusing);
    t_backend_stop(loop, &be);
    ev_loop_destroy(loop);
    t_pool_free(&tp);
}

Test(health_io, http_check_times_out_on_a_hung_server)
{
    struct ev_loop *loop = ev_loop_new(EVFLAG_AUTO);
    struct t_backend be;
    struct t_pool tp;
    struct runtime rt;
    struct server *s;
    double t0;

    t_backend_start(loop, &be, 20330, 0);
    t_pool_init(&tp, "web", 1);
    tp.cfg.check = CHECK_HTTP;
    tp.cfg.interval_ms = 1000;
    tp.cfg.check_timeout_ms = 80;
    tp.cfg.fall = 1;
    s = t_server(&tp, "app1", ROLE_PRIMARY, 1, 20330);
    t_runtime(&rt, &tp);

    cr_assert_eq(health_start(loop), 0);
    t0 = ev_time();
    health_apply(&rt);
    cr_assert(t_run_until(loop, &s->check_status, CHECK_FAIL, 2.0));
    cr_assert_geq(ev_time() - t0, 0.07);
    cr_assert_eq(t_state(s), SRV_DOWN);
    cr_assert_geq(s->check_last_ms, 70.0);

    health_stop();
    t_backend_stop(loop, &be);
    ev_loop_destroy(loop);
    t_pool_free(&tp);
}

Test(health_io, passive_down_reaches_the_main_loop_and_activates_standby)
{
    struct ev_loop *loop = ev_loop_new(EVFLAG_AUTO);
    struct t_pool tp;
    struct runtime rt;
    struct server *a, *sb;

    t_pool_init(&tp, "web", 1);
    tp.cfg.check = CHECK_OFF;
    tp.cfg.interval_ms = 50;
    tp.cfg.fall = 2;
    a = t_server(&tp, "app1", ROLE_PRIMARY, 1, 20340);
    sb = t_server(&tp, "spare", ROLE_STANDBY, 1, 20341);
    t_runtime(&rt, &tp);

    cr_assert_eq(health_start(loop), 0);
    health_apply(&rt);
    cr_assert_eq(atomic_load(&tp.shared.standby_active), 0);
    health_report_failure(&tp.pool, a, "connect refused");
    health_report_failure(&tp.pool, a, "connect refused");
    cr_assert_eq(t_state(a), SRV_DOWN);
    cr_assert(t_run_until_atomic(loop, &tp.shared.standby_active, 1, 1.0));
    cr_assert_eq(a->check_seen_state, SRV_DOWN);
    /* check off: back after `interval`, and the standby goes idle. */
    cr_assert(t_run_until_atomic(loop, &tp.shared.standby_active, 0, 1.0));
    cr_assert_eq(t_state(a), SRV_UP);
    cr_assert_eq(t_state(sb), SRV_UP);

    health_stop();
    ev_loop_destroy(loop);
    t_pool_free(&tp);
}

Test(health_io, admin_disable_stops_checks_and_enable_rechecks_at_once)
{
    struct ev_loop *loop = ev_loop_new(EVFLAG_AUTO);
    struct t_backend be;
    struct t_pool tp;
    struct runtime rt;
    struct server *a;
    int never = 1;

    t_backend_start(loop, &be, 20350, 200);
    t_pool_init(&tp, "web", 1);
    tp.cfg.check = CHECK_TCP;
    tp.cfg.interval_ms = 5000;
    a = t_server(&tp, "app1", ROLE_PRIMARY, 1, 20350);
    t_server(&tp, "spare", ROLE_STANDBY, 1, 20351);
    t_runtime(&rt, &tp);

    cr_assert_eq(health_start(loop), 0);
    health_apply(&rt);
    /* Disabled before its first check (due at once): none happens. */
    health_server_admin(a, ADMIN_DISABLE);
    cr_assert_eq(atomic_load(&a->admin), ADMIN_DISABLE);
    cr_assert_eq(atomic_load(&tp.shared.standby_active), 1);
    cr_assert_not(t_run_until(loop, &never, 0, 0.1));
    cr_assert_eq(be.accepted, 0);
    cr_assert_eq(a->check_status, CHECK_NONE);

    health_server_admin(a, ADMIN_NONE);
    cr_assert_eq(atomic_load(&tp.shared.standby_active), 0);
    /* interval is 5 s: a pass within 1 s is the immediate re-check. */
    cr_assert(t_run_until(loop, &a->check_status, CHECK_PASS, 1.0));
    cr_assert_eq(be.accepted, 1);

    /* Drain: no new requests, but checks go on. */
    health_server_admin(a, ADMIN_DRAIN);
    cr_assert_eq(atomic_load(&tp.shared.standby_active), 1);

    health_stop();
    t_backend_stop(loop, &be);
    ev_loop_destroy(loop);
    t_pool_free(&tp);
}

Test(health_io, reload_adds_a_server_checked_at_once_and_removes_one)
{
    struct ev_loop *loop = ev_loop_new(EVFLAG_AUTO);
    struct t_backend be;
    struct t_pool tp;
    struct runtime rt1, rt2;
    struct server *a, *b;

    t_backend_start(loop, &be, 20360, 200);
    t_pool_init(&tp, "web", 1);
    tp.cfg.interval_ms = 5000;
    tp.cfg.slow_start_ms = 10000;
    a = t_server(&tp, "app1", ROLE_PRIMARY, 1, 20360);
    t_runtime(&rt1, &tp);
    cr_assert_eq(health_start(loop), 0);
    health_apply(&rt1);
    cr_assert_eq(atomic_load(&a->up_since_ms), 0);

    b = t_server(&tp, "app2", ROLE_PRIMARY, 1, 20360);
    t_runtime(&rt2, &tp);
    health_apply(&rt2);
    cr_assert_neq(atomic_load(&b->up_since_ms), 0);
    cr_assert(t_run_until(loop, &b->check_status, CHECK_PASS, 1.0));

    /* app1 leaves the pool. */
    tp.servers[0] = b;
    tp.pool.nservers = 1;
    health_apply(&rt1);
    cr_assert_null(a->check);
    cr_assert_not_null(b->check);
    tp.servers[1] = a; /* for t_pool_free */
    tp.pool.nservers = 2;

    health_stop();
    t_backend_stop(loop, &be);
    ev_loop_destroy(loop);
    t_pool_free(&tp);
}

/* ---- events ----------------------------------------------------------------- */

TestSuite(event, .init = quiet, .timeout = 10);

Test(event, kind_names)
{
    cr_assert_str_eq(event_kind_name(EVT_SERVER_DOWN), "server-down");
    cr_assert_str_eq(event_kind_name(EVT_SERVER_UP), "server-up");
    cr_assert_str_eq(event_kind_name(EVT_STANDBY_ACTIVE), "standby-active");
    cr_assert_str_eq(event_kind_name(EVT_STANDBY_IDLE), "standby-idle");
    cr_assert_str_eq(event_kind_name(EVT_POOL_DOWN), "pool-down");
    cr_assert_str_eq(event_kind_name(EVT_RELOAD_OK), "reload-ok");
    cr_assert_str_eq(event_kind_name(EVT_RELOAD_FAILED), "reload-failed");
}

static int t_file_ready(const char *path)
{
    struct stat st;

    return stat(path, &st) == 0 && st.st_size > 0;
}

Test(event, notify_program_gets_the_event_and_is_reaped)
{
    struct ev_loop *loop = ev_loop_new(EVFLAG_AUTO);
    char dir[] = "/tmp/proxy-event-XXXXXX";
    char script[64], out[64], tmp[64], body[1024], line[512];
    FILE *f;
    int ready = 0;
    double end;

    cr_assert_not_null(mkdtemp(dir));
    snprintf(script, sizeof script, "%s/notify.sh", dir);
    snprintf(out, sizeof out, "%s/out", dir);
    snprintf(tmp, sizeof tmp, "%s/out.tmp", dir);
    /* Written to a temporary name and renamed, so the test never reads a
     * half-written file. */
    snprintf(body, sizeof body,
             "#!/bin/sh\nenv | grep '^PROXY_' | sort > %s\n"
             "test -n \"$PATH\" && echo PATH_SET >> %s\nmv %s %s\n",
             tmp, tmp, tmp, out);
    f = fopen(script, "w");
    cr_assert_not_null(f);
    fputs(body, f);
    fclose(f);
    chmod(script, 0755);

    event_start(loop);
    event_set_notify(script);
    event_emit(EVT_SERVER_DOWN, "web", "app1", "check: connect refused");
    cr_assert_eq(event_children(), 1);
    end = ev_time() + 3.0;
    while (!ready && ev_time() < end) {
        usleep(10000);
        ready = t_file_ready(out);
    }
    cr_assert(ready, "notify program did not run");
    /* The reaper timer collects the child. */
    end = ev_time() + 3.0;
    while (event_children() > 0 && ev_time() < end)
        ev_run(loop, EVRUN_ONCE);
    cr_assert_eq(event_children(), 0);

    f = fopen(out, "r");
    cr_assert_not_null(f);
    body[0] = '\0';
    while (fgets(line, sizeof line, f))
        strncat(body, line, sizeof body - strlen(body) - 1);
    fclose(f);
    cr_assert_str_eq(body, "PROXY_DETAIL=check: connect refused\n"
                           "PROXY_EVENT=server-down\n"
                           "PROXY_POOL=web\n"
                           "PROXY_SERVER=app1\n"
                           "PATH_SET\n");

    event_set_notify("");
    event_emit(EVT_POOL_DOWN, "web", NULL, NULL);
    cr_assert_eq(event_children(), 0);
    event_stop();
    unlink(out);
    unlink(script);
    rmdir(dir);
    ev_loop_destroy(loop);
}

Test(event, missing_notify_program_is_only_logged)
{
    event_set_notify("/nonexistent/notify");
    event_emit(EVT_RELOAD_FAILED, NULL, NULL, "bad config");
    cr_assert_eq(event_children(), 0);
    event_set_notify("");
}

/* A server given by a host name that resolves to nothing has no address:
 * it is not checked (there is nothing to connect to).  When the resolver
 * gives it one (health_server_moved), it is checked at once - not at its
 * next interval, a minute away here - and comes up through its checks. */
Test(health_io, server_without_address_checked_once_it_has_one)
{
    struct ev_loop *loop = ev_loop_new(EVFLAG_AUTO);
    struct t_backend be;
    struct t_pool tp;
    struct runtime rt;
    struct server *s;
    struct config_addr addr;
    int never = 0;

    t_backend_start(loop, &be, 20370, 200);
    t_pool_init(&tp, "web", 1);
    tp.cfg.interval_ms = 60000;
    tp.cfg.rise = 1;
    s = t_server(&tp, "named", ROLE_PRIMARY, 1, 20370);
    addr = s->addr;
    memset(&s->addr, 0, sizeof s->addr);
    atomic_store(&s->state, SRV_DOWN);
    t_runtime(&rt, &tp);

    cr_assert_eq(health_start(loop), 0);
    health_apply(&rt); /* its first tick is due at once: skipped, no address */
    t_run_until(loop, &never, 1, 0.2);
    cr_assert_eq(be.accepted, 0, "no address, no check");
    cr_assert_eq(s->check_status, CHECK_NONE);
    cr_assert_eq(t_state(s), SRV_DOWN);

    s->addr = addr;
    health_server_moved(s, 0);
    cr_assert(t_run_until_atomic(loop, &s->state, SRV_UP, 2.0), "not checked at once");
    cr_assert_geq(be.accepted, 1);
    cr_assert_str_eq(s->check_detail, "connect ok");

    health_stop();
    t_backend_stop(loop, &be);
    ev_loop_destroy(loop);
    t_pool_free(&tp);
}

/* A worker marks a server down (passive, fall errors on traffic) a moment
 * before it queues its report; a check that ends in between must act on
 * that down - the server-down event, the standby - not just fold it into
 * its counters (the report, when it came, then found nothing new: the
 * down was never told, and the standby stayed idle while it served). */
Test(health_io, a_passive_down_seen_first_by_a_check_is_acted_on)
{
    struct ev_loop *loop = ev_loop_new(EVFLAG_AUTO);
    struct t_backend be, be_spare;
    struct t_pool tp;
    struct runtime rt;
    struct server *a;

    t_backend_start(loop, &be, 20390, 200);
    t_backend_start(loop, &be_spare, 20391, 200); /* no transition of its own to recompute the pool */
    t_pool_init(&tp, "web", 1);
    tp.cfg.check = CHECK_TCP;
    tp.cfg.interval_ms = 30;
    tp.cfg.rise = 50; /* stays down for the test's length */
    a = t_server(&tp, "app1", ROLE_PRIMARY, 1, 20390);
    t_server(&tp, "spare", ROLE_STANDBY, 1, 20391);
    t_runtime(&rt, &tp);

    cr_assert_eq(health_start(loop), 0);
    health_apply(&rt);
    cr_assert_eq(atomic_load(&tp.shared.standby_active), 0);
    /* What health_state_passive_failure does, the report not queued yet. */
    int up = SRV_UP;
    cr_assert(atomic_compare_exchange_strong(&a->state, &up, SRV_DOWN));
    cr_assert(t_run_until_atomic(loop, &tp.shared.standby_active, 1, 1.0),
              "the down a check saw first was not acted on: the standby stays idle");
    cr_assert_eq(t_state(a), SRV_DOWN);

    health_stop();
    t_backend_stop(loop, &be);
    t_backend_stop(loop, &be_spare);
    ev_loop_destroy(loop);
    t_pool_free(&tp);
}
