/*
 * health: active checks and their scheduling on the main loop, the hand-off
 * of passive failures from workers, standby/pool-down events, admin
 * actions (see health.h).  The decisions themselves are in health_state.c.
 *
 * Owns one `struct health_check` per server of the current runtime (linked
 * from server->check), the ev_async that workers use to report passive
 * downs, and a reference on the runtime last applied.
 */
#include "health.h"

#include <errno.h>
#include <ev.h>
#include <openssl/ssl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "balance.h"
#include "clock.h"
#include "event.h"
#include "health_settings.h"
#include "health_state.h"
#include "log.h"
#include "proxy_proto.h"
#include "tls_ctx.h"
#include "xprt.h"

/* Enough for any status line worth reading; a longer first line is not
 * HTTP we can judge. */
#define CHECK_RESP_MAX 256

enum check_phase { PHASE_IDLE = 0, PHASE_CONNECTING, PHASE_HANDSHAKE, PHASE_SENDING, PHASE_RECEIVING };

struct health_check {
    struct server *srv;
    struct check_settings set;
    ev_timer tick;              /* next check (check off: the passive-down recovery) */
    ev_timer deadline;          /* check-timeout of the check in progress */
    ev_io io;
    int fd;                     /* -1 when no check is in progress */
    struct xprt x;              /* over fd when the pool speaks TLS (x.ssl set) */
    enum check_phase phase;
    unsigned char pp[PP_ENCODE_MAX]; /* send-proxy: the header this check sends first */
    size_t pp_len;
    size_t sent;                /* of pp, then of the request */
    char resp[CHECK_RESP_MAX];
    size_t resp_len;
    double started;             /* ev_time() at the start of the check */
    int seen;                   /* health_apply: still in the runtime */
    struct health_check *next;
};

/* A passive down reported by a worker, waiting for the main loop. */
struct passive_down {
    struct passive_down *next;
    struct server *srv;         /* counted reference */
    char detail[160];
};

static struct {
    struct ev_loop *loop;
    ev_async wake;
    atomic_int started;         /* read by workers in health_report_failure */
    struct runtime *rt;         /* the runtime last applied (counted reference); NULL
                                   before the first health_apply, so a server new to a
                                   non-NULL rt came with a reload */
    struct health_check *checks;
    pthread_mutex_t qlock;      /* guards queue */
    struct passive_down *queue;
    atomic_int lost;            /* a passive down could not be queued */
} health = { .qlock = PTHREAD_MUTEX_INITIALIZER };

static void check_tick_cb(struct ev_loop *loop, ev_timer *w, int revents);
static void check_deadline_cb(struct ev_loop *loop, ev_timer *w, int revents);
static void check_io_cb(struct ev_loop *loop, ev_io *w, int revents);

const char *health_check_status_name(int status)
{
    switch (status) {
    case CHECK_PASS: return "pass";
    case CHECK_FAIL: return "fail";
    default: return "none";
    }
}

/* ---- pools: standby state and pool-down -------------------------------- */

/* Sets the pool's standby state from its servers and emits the events of
 * any change. */
static void pool_recompute(const struct pool *pool)
{
    struct health_pool_view v;
    char detail[128];
    int was;

    health_state_pool_view(pool, &v);
    was = atomic_exchange(&pool->shared->standby_active, v.standby_wanted);
    if (was != v.standby_wanted) {
        snprintf(detail, sizeof detail, "%u of %zu primaries up, standby-below %u",
                 v.primaries_usable, pool->nprimaries, pool->cfg->standby_below);
        event_emit(v.standby_wanted ? EVT_STANDBY_ACTIVE : EVT_STANDBY_IDLE,
                   pool->shared->name, NULL, detail);
    }
    if (pool->shared->down_reported != v.pool_down) {
        pool->shared->down_reported = v.pool_down;
        if (v.pool_down)
            event_emit(EVT_POOL_DOWN, pool->shared->name, NULL, "no server available");
    }
    balance_wake_queue(pool);
}

static const struct pool *pool_of(const struct server *srv)
{
    size_t i;

    if (!health.rt)
        return NULL;
    for (i = 0; i < health.rt->npools; i++)
        if (health.rt->pools[i].shared == srv->pool)
            return &health.rt->pools[i];
    return NULL;
}

static void pool_recompute_of(const struct server *srv)
{
    const struct pool *pool = pool_of(srv);

    if (pool)
        pool_recompute(pool);
}

/* ---- passive failures: workers -> main loop ---------------------------- */

void health_report_failure(const struct pool *pool, struct server *srv, const char *reason)
{
    struct passive_down *pd;
    unsigned fall = pool && pool->cfg ? pool->cfg->fall : 3;

    if (atomic_load_explicit(&srv->removed, memory_order_relaxed))
        return;
    if (!health_state_passive_failure(srv, fall))
        return;
    if (!health.started)
        return;
    pd = calloc(1, sizeof *pd);
    if (!pd) {
        /* The main loop still notices the state change (see drain). */
        atomic_store(&health.lost, 1);
    } else {
        server_ref(srv);
        pd->srv = srv;
        snprintf(pd->detail, sizeof pd->detail, "%u consecutive errors on traffic (last: %s)",
                 fall, reason ? reason : "error");
        pthread_mutex_lock(&health.qlock);
        pd->next = health.queue;
        health.queue = pd;
        pthread_mutex_unlock(&health.qlock);
    }
    ev_async_send(health.loop, &health.wake);
}

void health_report_success(struct server *srv)
{
    health_state_passive_success(srv);
}

static void recovery_arm(struct health_check *hc);

static void (*server_down_hook)(void);

void health_on_server_down(void (*hook)(void))
{
    server_down_hook = hook;
}

static void server_went_down(void)
{
    if (server_down_hook)
        server_down_hook();
}

/* Emits the server-down of a passive down the main loop has not acted on
 * yet (health_state_sync says whether it has). */
static void passive_ack(struct server *srv, const char *detail)
{
    if (!srv->check || !health_state_sync(srv))
        return;
    event_emit(EVT_SERVER_DOWN, srv->pool_name, srv->name, detail);
    server_went_down();
    if (srv->check->set.kind == CHECK_OFF)
        recovery_arm(srv->check);
    pool_recompute_of(srv);
}

/* Main thread: handles every passive down reported so far.  Called from
 * the async watcher and before anything reads server states (a check
 * result, a reload), so that a check never folds a result into counters
 * that predate a passive down. */
static void passive_drain(void)
{
    struct passive_down *list, *pd;
    struct health_check *hc;

    pthread_mutex_lock(&health.qlock);
    list = health.queue;
    health.queue = NULL;
    pthread_mutex_unlock(&health.qlock);
    /* The queue is LIFO; order between servers does not matter. */
    while ((pd = list) != NULL) {
        list = pd->next;
        passive_ack(pd->srv, pd->detail);
        server_unref(pd->srv);
        free(pd);
    }
    if (atomic_exchange(&health.lost, 0))
        for (hc = health.checks; hc; hc = hc->next)
            passive_ack(hc->srv, "errors on traffic");
}

static void wake_cb(struct ev_loop *loop, ev_async *w, int revents)
{
    (void)loop;
    (void)w;
    (void)revents;
    passive_drain();
}

/* ---- active checks: I/O ------------------------------------------------ */

static double ms_to_s(uint64_t ms)
{
    return (double)ms / 1000.0;
}

static void check_close(struct health_check *hc)
{
    ev_io_stop(health.loop, &hc->io);
    ev_timer_stop(health.loop, &hc->deadline);
    if (hc->x.ssl)
        xprt_close(&hc->x); /* its fd too */
    else if (hc->fd >= 0)
        close(hc->fd);
    hc->fd = -1;
    hc->phase = PHASE_IDLE;
}

/* Ends the check in progress: records it and acts on any transition. */
static void check_done(struct health_check *hc, int pass, const char *detail)
{
    struct server *srv = hc->srv;
    enum health_transition t;
    char why[192];

    check_close(hc);
    srv->check_last_ms = (ev_time() - hc->started) * 1000.0;
    snprintf(srv->check_detail, sizeof srv->check_detail, "%s", detail);
    passive_drain();
    /* A worker may have marked it down and not queued its report yet:
     * acted on here (the report then finds nothing new), not folded
     * silently into the counters below. */
    passive_ack(srv, "errors on traffic");
    t = health_state_check_result(srv, pass, hc->set.rise, hc->set.fall, now_ms());
    log_debug("check pool=%s server=%s: %s (%s, %u in a row, %.1f ms)", srv->pool_name,
              srv->name, pass ? "pass" : "fail", detail, srv->check_consecutive,
              srv->check_last_ms);
    if (t == HEALTH_SAME)
        return;
    if (t == HEALTH_WENT_UP)
        snprintf(why, sizeof why, "check: %s, %u consecutive passes", detail,
                 srv->check_consecutive);
    else
        snprintf(why, sizeof why, "check: %s", detail);
    event_emit(t == HEALTH_WENT_UP ? EVT_SERVER_UP : EVT_SERVER_DOWN, srv->pool_name,
               srv->name, why);
    if (t == HEALTH_WENT_DOWN)
        server_went_down();
    pool_recompute_of(srv);
}

/* A warning about local check errors at most this often (they come from
 * every server at every interval while the shortage lasts). */
#define LOCAL_WARN_EVERY_S 10.0

/* The check could not be made for a reason of ours (out of fds, memory or
 * buffers): that says nothing about the server, so its counters and state
 * stay as they were - marking healthy servers down would turn a shortage
 * of the proxy into 503s that last until `rise` checks pass afterwards. */
static void check_local_error(struct health_check *hc, const char *what, int err)
{
    static double last_warn = -LOCAL_WARN_EVERY_S;
    static unsigned long long quiet; /* local errors not logged since the last warning */
    struct server *srv = hc->srv;
    double now = ev_time();

    check_close(hc);
    srv->check_local_errors++;
    if (now - last_warn < LOCAL_WARN_EVERY_S) {
        quiet++;
        return;
    }
    if (quiet)
        log_warnx("check pool=%s server=%s: %s: %s: a local error, not counted against the "
                  "server (and %llu more since the last such warning)",
                  srv->pool_name, srv->name, what, strerror(err), quiet);
    else
        log_warnx("check pool=%s server=%s: %s: %s: a local error, not counted against the "
                  "server", srv->pool_name, srv->name, what, strerror(err));
    last_warn = now;
    quiet = 0;
}

static void check_fail_errno(struct health_check *hc, const char *what, int err)
{
    char detail[128];

    if (health_errno_local(err)) {
        check_local_error(hc, what, err);
        return;
    }
    if (err == ECONNREFUSED)
        snprintf(detail, sizeof detail, "connect refused");
    else if (err == ECONNRESET)
        snprintf(detail, sizeof detail, "connection reset");
    else
        snprintf(detail, sizeof detail, "%s: %s", what, strerror(err));
    check_done(hc, 0, detail);
}

/* Judges the status line once it is complete (or the connection ended). */
static void check_judge_response(struct health_check *hc)
{
    const char *r = hc->resp;
    char detail[64];
    unsigned status;

    if (hc->resp_len < 12 || strncmp(r, "HTTP/1.", 7) != 0 || r[8] != ' ' ||
        r[9] < '1' || r[9] > '9' || r[10] < '0' || r[10] > '9' ||
        r[11] < '0' || r[11] > '9' || (hc->resp_len > 12 && r[12] != ' ' && r[12] != '\r')) {
        check_done(hc, 0, "invalid response");
        return;
    }
    status = (unsigned)(r[9] - '0') * 100 + (unsigned)(r[10] - '0') * 10 + (unsigned)(r[11] - '0');
    snprintf(detail, sizeof detail, "status %u", status);
    check_done(hc, status >= hc->set.expect_lo && status <= hc->set.expect_hi, detail);
}

/* TLS: the handshake, with the fd watched for what OpenSSL waits for. */
static void check_handshake(struct health_check *hc)
{
    int want = EV_READ;
    int r = xprt_tls_handshake(&hc->x, &want);
    if (r < 0) {
        check_done(hc, 0, xprt_tls_failure(&hc->x));
        return;
    }
    if (r == 0) {
        ev_io_stop(health.loop, &hc->io);
        ev_io_set(&hc->io, hc->fd, want);
        ev_io_start(health.loop, &hc->io);
        return;
    }
    if (hc->set.kind != CHECK_HTTP) {
        check_done(hc, 1, "TLS handshake ok");
        return;
    }
    hc->phase = PHASE_SENDING;
    hc->sent = 0;
    ev_io_stop(health.loop, &hc->io);
    ev_io_set(&hc->io, hc->fd, EV_WRITE);
    ev_io_start(health.loop, &hc->io);
}

/* send-proxy on the checks too, as HAProxy's check-send-proxy: a server
 * that expects the header refuses a connection without one.  There is no
 * client: v2 says LOCAL (the spec's own case of a proxy's health check),
 * v1, which has no LOCAL, gives the check connection's own endpoints (as
 * HAProxy does), so the server sees the real ones either way. */
static void check_proxy_header(struct health_check *hc)
{
    struct sockaddr_storage local;
    socklen_t len = sizeof local;
    const struct sockaddr *src = NULL, *dst = NULL;

    hc->pp_len = 0;
    if (!hc->set.send_proxy)
        return;
    if (hc->set.send_proxy == 1 && getsockname(hc->fd, (struct sockaddr *)&local, &len) == 0) {
        src = (const struct sockaddr *)&local;
        dst = (const struct sockaddr *)&hc->srv->addr.sa;
    }
    hc->pp_len = pp_encode(hc->set.send_proxy, hc->pp, sizeof hc->pp, src, dst);
}

static void check_on_connected(struct health_check *hc)
{
    check_proxy_header(hc);
    hc->sent = 0;
    if (hc->set.tls) {
        /* The PROXY header goes first, in clear, then the handshake.  A
         * few hundred bytes into a socket just connected: all at once. */
        if (hc->pp_len && send(hc->fd, hc->pp, hc->pp_len, MSG_NOSIGNAL) != (ssize_t)hc->pp_len) {
            check_fail_errno(hc, "send", errno ? errno : EAGAIN);
            return;
        }
        hc->pp_len = 0;
        char ip[CONFIG_ADDR_TEXT_MAX] = ""; /* without a name, the address is verified */
        if (!hc->set.sni[0])
            server_addr_ip(&hc->srv->addr.sa, ip, sizeof ip);
        if (xprt_tls_init_client(&hc->x, hc->fd, hc->set.tls, hc->set.sni, ip, hc->set.verify) < 0) {
            check_local_error(hc, "TLS", ENOMEM);
            return;
        }
        hc->phase = PHASE_HANDSHAKE;
        check_handshake(hc);
        return;
    }
    if (hc->set.kind != CHECK_HTTP && hc->pp_len == 0) {
        check_done(hc, 1, "connect ok");
        return;
    }
    hc->phase = PHASE_SENDING;
}

static void check_send(struct health_check *hc)
{
    size_t total = hc->pp_len + hc->set.request_len;
    ssize_t n;
    if (hc->x.ssl) {
        /* (the PROXY header went before the handshake) */
        size_t sent = hc->sent;
        n = xprt_send(&hc->x, hc->set.request, &sent, hc->set.request_len) < 0 ? -1 : (ssize_t)(sent - hc->sent);
        if (n == 0) {
            n = -1;
            errno = EAGAIN;
        }
    } else {
        const char *from = hc->sent < hc->pp_len ? (const char *)hc->pp + hc->sent
                                                  : hc->set.request + (hc->sent - hc->pp_len);
        size_t left = hc->sent < hc->pp_len ? hc->pp_len - hc->sent : total - hc->sent;
        n = send(hc->fd, from, left, MSG_NOSIGNAL);
    }

    if (n < 0) {
        if (hc->x.ssl && xprt_tls_failure(&hc->x)) {
            check_done(hc, 0, xprt_tls_failure(&hc->x));
            return;
        }
        if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
            check_fail_errno(hc, "send", errno);
        return;
    }
    hc->sent += (size_t)n;
    if (hc->sent < total)
        return;
    /* A TCP check passes once connected; the header was only owed. */
    if (hc->set.kind != CHECK_HTTP) {
        check_done(hc, 1, "connect ok");
        return;
    }
    hc->phase = PHASE_RECEIVING;
    hc->resp_len = 0;
    ev_io_stop(health.loop, &hc->io);
    ev_io_set(&hc->io, hc->fd, EV_READ);
    ev_io_start(health.loop, &hc->io);
}

static void check_receive(struct health_check *hc)
{
    size_t room = sizeof hc->resp - 1 - hc->resp_len;
    ssize_t n = hc->x.ssl ? xprt_recv(&hc->x, hc->resp + hc->resp_len, room)
                          : recv(hc->fd, hc->resp + hc->resp_len, room, 0);

    if (n < 0) {
        if (hc->x.ssl && xprt_tls_failure(&hc->x)) {
            check_done(hc, 0, xprt_tls_failure(&hc->x));
            return;
        }
        if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
            check_fail_errno(hc, "recv", errno);
        return;
    }
    if (n == 0) {
        if (hc->resp_len == 0)
            check_done(hc, 0, "connection closed");
        else
            check_judge_response(hc);
        return;
    }
    hc->resp_len += (size_t)n;
    hc->resp[hc->resp_len] = '\0';
    /* The status line is all we need; the rest of the response is not
     * read (Connection: close, and the socket is closed at once). */
    if (memchr(hc->resp, '\n', hc->resp_len) || hc->resp_len == sizeof hc->resp - 1)
        check_judge_response(hc);
}

static void check_io_cb(struct ev_loop *loop, ev_io *w, int revents)
{
    struct health_check *hc = w->data;
    int err = 0;
    socklen_t len = sizeof err;

    (void)loop;
    (void)revents;
    if (hc->phase == PHASE_CONNECTING) {
        if (getsockopt(hc->fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0)
            err = errno;
        if (err) {
            check_fail_errno(hc, "connect", err);
            return;
        }
        check_on_connected(hc);
        if (hc->phase != PHASE_SENDING || hc->x.ssl)
            return;
    }
    if (hc->phase == PHASE_HANDSHAKE)
        check_handshake(hc);
    else if (hc->phase == PHASE_SENDING)
        check_send(hc);
    else if (hc->phase == PHASE_RECEIVING)
        check_receive(hc);
}

static void check_deadline_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
    struct health_check *hc = w->data;

    (void)loop;
    (void)revents;
    check_done(hc, 0, "timeout");
}

/* Starts one check: a non-blocking connect, then (HTTP) the request. */
static void check_begin(struct health_check *hc)
{
    const struct config_addr *addr = &hc->srv->addr;
    int fd;

    hc->started = ev_time();
    fd = socket(addr->sa.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        check_fail_errno(hc, "socket", errno);
        return;
    }
    hc->fd = fd;
    hc->phase = PHASE_CONNECTING;
    ev_timer_set(&hc->deadline, ms_to_s(hc->set.timeout_ms), 0.);
    ev_timer_start(health.loop, &hc->deadline);
    if (connect(fd, (const struct sockaddr *)&addr->sa, addr->len) < 0 &&
        errno != EINPROGRESS) {
        check_fail_errno(hc, "connect", errno);
        return;
    }
    /* Writable = connected (or failed); also right after an immediate
     * connect, which keeps one path for both. */
    ev_io_set(&hc->io, fd, EV_WRITE);
    ev_io_start(health.loop, &hc->io);
}

/* check off: a passive-down server is put back after `interval`. */
static void recovery_fire(struct health_check *hc)
{
    struct server *srv = hc->srv;

    passive_drain();
    if (atomic_load(&srv->state) != SRV_DOWN || !srv->addr.len)
        return;
    health_state_mark_up(srv, now_ms());
    event_emit(EVT_SERVER_UP, srv->pool_name, srv->name, "check off: back after interval");
    pool_recompute_of(srv);
}

static void check_tick_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
    struct health_check *hc = w->data;

    (void)loop;
    (void)revents;
    /* A host name that resolves to nothing: nothing to check until it does. */
    if (atomic_load(&hc->srv->admin) == ADMIN_DISABLE || !hc->srv->addr.len)
        return;
    if (hc->set.kind == CHECK_OFF) {
        recovery_fire(hc);
        return;
    }
    /* A check slower than the interval: let it finish. */
    if (hc->fd >= 0)
        return;
    check_begin(hc);
}

/* ---- scheduling ---------------------------------------------------------- */

static void tick_stop(struct health_check *hc)
{
    ev_timer_stop(health.loop, &hc->tick);
    check_close(hc);
}

/* (Re)starts checking `after` seconds from now, then every interval. */
static void tick_start(struct health_check *hc, double after)
{
    tick_stop(hc);
    if (hc->set.kind == CHECK_OFF || atomic_load(&hc->srv->admin) == ADMIN_DISABLE)
        return;
    ev_timer_set(&hc->tick, after, ms_to_s(hc->set.interval_ms));
    ev_timer_start(health.loop, &hc->tick);
}

/* The tick fires once, `after` seconds from now (check off: the recovery). */
static void tick_once(struct health_check *hc, double after)
{
    ev_timer_stop(health.loop, &hc->tick);
    ev_timer_set(&hc->tick, after, 0.);
    ev_timer_start(health.loop, &hc->tick);
}

static void recovery_arm(struct health_check *hc)
{
    tick_once(hc, ms_to_s(hc->set.interval_ms));
}

static struct health_check *check_new(struct server *srv, struct check_settings *set)
{
    struct health_check *hc = calloc(1, sizeof *hc);

    if (!hc)
        return NULL;
    hc->srv = srv;
    hc->set = *set;
    hc->fd = -1;
    ev_timer_init(&hc->tick, check_tick_cb, 0., 0.);
    ev_timer_init(&hc->deadline, check_deadline_cb, 0., 0.);
    ev_io_init(&hc->io, check_io_cb, -1, EV_WRITE);
    hc->tick.data = hc->deadline.data = hc->io.data = hc;
    hc->next = health.checks;
    health.checks = hc;
    srv->check = hc;
    return hc;
}

static void check_free(struct health_check *hc)
{
    tick_stop(hc);
    hc->srv->check = NULL;
    health_settings_free(&hc->set);
    free(hc);
}

/* The first check of the i-th of n servers of a pool at start-up: spread
 * over the interval so that the servers are not all checked at once. */
static double stagger(const struct check_settings *set, size_t i, size_t n)
{
    return ms_to_s(set->interval_ms) * (double)i / (double)(n ? n : 1);
}

/* A server that is new to the checker: checked at once when a reload added
 * it (and slow-started), at a staggered time at start-up. */
static void apply_new(struct server *srv, struct check_settings *set, size_t i, size_t n)
{
    struct health_check *hc = check_new(srv, set);
    int reload = health.rt != NULL;

    if (!hc) {
        log_errorx("health: out of memory, server %s/%s is not checked", srv->pool_name,
                   srv->name);
        health_settings_free(set);
        return;
    }
    hc->seen = 1;
    srv->check_seen_state = atomic_load(&srv->state);
    if (reload && atomic_load(&srv->up_since_ms) == 0 && atomic_load(&srv->state) == SRV_UP)
        atomic_store(&srv->up_since_ms, now_ms());
    tick_start(hc, reload ? 0. : stagger(set, i, n));
    if (hc->set.kind == CHECK_OFF && atomic_load(&srv->state) == SRV_DOWN)
        recovery_arm(hc);
}

/* A server already checked: new settings restart its schedule. */
static void apply_existing(struct health_check *hc, struct check_settings *set, size_t i,
                           size_t n)
{
    hc->seen = 1;
    if (health_settings_equal(&hc->set, set)) {
        health_settings_free(set);
        return;
    }
    tick_stop(hc);
    health_settings_free(&hc->set);
    hc->set = *set;
    tick_start(hc, stagger(set, i, n));
    if (hc->set.kind == CHECK_OFF && atomic_load(&hc->srv->state) == SRV_DOWN)
        recovery_arm(hc);
}

static void apply_pool(const struct runtime *rt, const struct pool *pool)
{
    size_t i;
    size_t k = (size_t)(pool - rt->pools);
    SSL_CTX *tls = rt->tls && k < rt->tls->npools ? rt->tls->pool[k] : NULL;

    for (i = 0; i < pool->nservers; i++) {
        struct server *srv = pool->servers[i];
        struct check_settings set;

        if (health_settings_from(&set, pool->cfg, tls, srv) < 0) {
            log_errorx("health: out of memory, server %s/%s keeps its settings",
                       srv->pool_name, srv->name);
            if (srv->check)
                srv->check->seen = 1;
            continue;
        }
        if (srv->check)
            apply_existing(srv->check, &set, i, pool->nservers);
        else
            apply_new(srv, &set, i, pool->nservers);
    }
}

/* Frees the checks of servers the runtime no longer has. */
static void sweep_unseen(void)
{
    struct health_check **pp = &health.checks, *hc;

    while ((hc = *pp) != NULL) {
        if (hc->seen) {
            pp = &hc->next;
            continue;
        }
        *pp = hc->next;
        check_free(hc);
    }
}

void health_apply(struct runtime *rt)
{
    struct health_check *hc;
    size_t i;

    if (!health.started || !rt)
        return;
    passive_drain();
    for (hc = health.checks; hc; hc = hc->next)
        hc->seen = 0;
    for (i = 0; i < rt->npools; i++)
        apply_pool(rt, &rt->pools[i]);
    sweep_unseen();

    atomic_fetch_add(&rt->refs, 1);
    if (health.rt)
        runtime_release(health.rt);
    health.rt = rt;

    for (i = 0; i < rt->npools; i++)
        pool_recompute(&rt->pools[i]);
}

/* enable: check at once.  With check off nothing can check a down
 * server, so the operator's word is taken and it is put back up. */
static void admin_recheck(struct health_check *hc)
{
    if (hc->set.kind != CHECK_OFF) {
        tick_start(hc, 0.);
        return;
    }
    if (atomic_load(&hc->srv->state) == SRV_DOWN)
        tick_once(hc, 0.);
    else
        ev_timer_stop(health.loop, &hc->tick);
}

static void admin_resume(struct health_check *hc)
{
    if (hc->set.kind != CHECK_OFF)
        tick_start(hc, 0.);
    else if (atomic_load(&hc->srv->state) == SRV_DOWN)
        recovery_arm(hc);
}

void health_server_admin(struct server *srv, enum server_admin admin)
{
    struct health_check *hc = srv->check;

    atomic_store(&srv->admin, (int)admin);
    if (hc && admin == ADMIN_DISABLE)
        tick_stop(hc);
    else if (hc && admin == ADMIN_NONE)
        admin_recheck(hc);
    else if (hc && !ev_is_active(&hc->tick))
        admin_resume(hc); /* drain after disable: checks go on */
    pool_recompute_of(srv);
}

/* ---- the resolver's word (resolve.c) --------------------------------------- */

void health_server_moved(struct server *srv, int went_down)
{
    passive_drain();
    srv->check_seen_state = atomic_load(&srv->state); /* not a worker's passive down */
    if (srv->check && srv->addr.len)
        tick_start(srv->check, 0.); /* at its new address, at once */
    else if (srv->check)
        check_close(srv->check); /* a check of the old address says nothing now */
    if (went_down)
        server_went_down();
    pool_recompute_of(srv);
}

/* ---- start and stop ------------------------------------------------------- */

int health_start(struct ev_loop *main_loop)
{
    if (health.started)
        return -1;
    health.loop = main_loop;
    ev_async_init(&health.wake, wake_cb);
    ev_async_start(main_loop, &health.wake);
    /* The checker alone must not keep the loop running at shutdown. */
    ev_unref(main_loop);
    event_start(main_loop);
    health.started = 1;
    return 0;
}

void health_stop(void)
{
    struct health_check *hc;

    if (!health.started)
        return;
    passive_drain();
    while ((hc = health.checks) != NULL) {
        health.checks = hc->next;
        check_free(hc);
    }
    ev_ref(health.loop);
    ev_async_stop(health.loop, &health.wake);
    event_stop();
    if (health.rt)
        runtime_release(health.rt);
    health.rt = NULL;
    health.started = 0;
    health.loop = NULL;
}
