/*
 * Unit tests of the txn seam: a request driven through a fake stream sink
 * (recording the error statuses it is told to answer) and a fake server
 * side (recording each attempt's server), with no sockets: a failed
 * attempt goes to the other server, a request that is not idempotent and
 * may have reached its server gets 502 and is never sent again, a full
 * server queues the request until timeout queue gives 503 and takes it out
 * of the queue, and no server up gives 503 (CONTRACT section 3).  This is
 * the seam an HTTP/2 stream will plug into.
 */
#include <criterion/criterion.h>

#include <arpa/inet.h>
#include <errno.h>
#include <ev.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>

#include "balance.h"
#include "clock.h"
#include "fixtures.h"
#include "mem_trim.h"
#include "router.h"
#include "runtime.h"
#include "traffic.h"
#include "txn.h"
#include "worker.h"

/* ---- the fake sink ---------------------------------------------------------------- */

static int errors[MAX_TRIES];
static int nerrors, resets, proceeds, arms;
static uint64_t last_arm_ms;

static void f_ready(void *ctx)
{
    (void)ctx;
}

static void f_reset(void *ctx)
{
    (void)ctx;
    resets++;
}

static void f_respond_error(void *ctx, int status)
{
    (void)ctx;
    if (nerrors < MAX_TRIES)
        errors[nerrors++] = status;
}

static void f_proceed(void *ctx)
{
    (void)ctx;
    proceeds++;
}

static void f_arm(void *ctx, uint64_t ms)
{
    (void)ctx;
    arms++;
    last_arm_ms = ms;
}

/* No client transport: these cases never reach the forwarding timeouts. */
static struct xprt *f_xprt(void *ctx)
{
    (void)ctx;
    return NULL;
}

static const struct stream_sink fake_sink = {
    .caps = 0,
    .send_head = f_ready,
    .send_data = f_ready,
    .end = f_ready,
    .reset = f_reset,
    .respond_error = f_respond_error,
    .proceed = f_proceed,
    .arm = f_arm,
    .xprt = f_xprt,
};

/* ---- the fake server side ------------------------------------------------------------ */

static struct server *attempts[MAX_TRIES];
static int nattempts;
static int start_rc = 1;       /* what start returns: 1 connecting, 0 connected, -1 refused */
static int reached;            /* may_have_reached's answer */

static int u_start(struct txn *t)
{
    if (nattempts < MAX_TRIES)
        attempts[nattempts++] = t->srv;
    if (start_rc < 0)
        errno = ECONNREFUSED;
    return start_rc;
}

static void u_abort(struct txn *t)
{
    t->up = NULL;
}

static int u_may_have_reached(const struct txn *t)
{
    (void)t;
    return reached;
}

static void u_done(struct txn *t, int reuse)
{
    (void)reuse;
    t->up = NULL;
}

static const struct txn_upstream_ops fake_upstream = {
    .start = u_start,
    .abort = u_abort,
    .may_have_reached = u_may_have_reached,
    .done = u_done,
};

/* ---- fixtures ------------------------------------------------------------------------ */

static struct runtime *rt;
static struct worker w;

static void fx_setup(const char *pool_body)
{
    char text[1024];
    snprintf(text, sizeof text, "listen 127.0.0.1:8080\npool web {\n    check off\n%s}\n", pool_body);
    rt = fixture_runtime(text);
    memset(&w, 0, sizeof w);
    w.loop = ev_default_loop(0);
    w.rt = rt;
    memset(errors, 0, sizeof errors);
    memset(attempts, 0, sizeof attempts);
    nerrors = resets = proceeds = arms = nattempts = reached = 0;
    start_rc = 1;
}

static struct pool *web(void)
{
    struct pool *p = runtime_find_pool(rt, "web");
    cr_assert_not_null(p);
    return p;
}

/* A request, parsed and routed to pool web, as proto_h1 hands it over. */
static struct txn *fx_txn(uint8_t method)
{
    struct txn *t = txn_open(&w, &fake_sink, NULL, &fake_upstream);
    cr_assert_not_null(t);
    cr_assert_eq(t->rt, rt);
    t->pool = web();
    t->method = method;
    return t;
}

static void fx_teardown(struct txn *t)
{
    txn_end(t);
    runtime_release(rt);
    rt = NULL;
}

/* ---- cases ------------------------------------------------------------------------------ */

Test(txn, failed_attempt_retried_on_other_server)
{
    fx_setup("    retries 2\n    server a 127.0.0.1:1\n    server b 127.0.0.1:2\n");
    struct txn *t = fx_txn(HTTP_GET);

    txn_start_server(t);
    cr_assert_eq(nattempts, 1);
    cr_assert_eq(t->phase, TXN_CONNECT);
    cr_assert_eq(arms, 1, "the connect timeout is armed through the sink");
    cr_assert_eq(last_arm_ms, rt->cfg->timeout_connect_ms);

    txn_attempt_failed(t, "connect error", 1, 502);
    cr_assert_eq(nattempts, 2, "the request goes to another server");
    cr_assert_neq(attempts[1], attempts[0]);
    cr_assert_eq(t->srv, attempts[1]);
    cr_assert_eq(nerrors, 0, "no error while an attempt is left");
    cr_assert_eq(atomic_load(&attempts[0]->failures), 1);

    txn_connected(t);
    cr_assert_eq(t->phase, TXN_FORWARD);
    fx_teardown(t);
}

Test(txn, refused_at_once_retried_then_502)
{
    fx_setup("    retries 1\n    server a 127.0.0.1:1\n    server b 127.0.0.1:2\n");
    struct txn *t = fx_txn(HTTP_GET);

    start_rc = -1; /* every server refuses at once */
    txn_start_server(t);
    cr_assert_eq(nattempts, 2, "tried on both servers");
    cr_assert_neq(attempts[1], attempts[0]);
    cr_assert_eq(nerrors, 1);
    cr_assert_eq(errors[0], 502);
    cr_assert_eq(t->phase, TXN_DONE);
    fx_teardown(t);
}

/* `retries N` bounds the attempts to 1 + N even when more servers are left
 * untried: with three servers refusing, retries 1 is two attempts and
 * retries 0 is one, then 502. */
static void expect_attempts_of(int retries)
{
    char conf[160];
    snprintf(conf, sizeof conf,
             "    retries %d\n    server a 127.0.0.1:1\n    server b 127.0.0.1:2\n    server c 127.0.0.1:3\n", retries);
    fx_setup(conf);
    struct txn *t = fx_txn(HTTP_GET);
    start_rc = -1;
    txn_start_server(t);
    cr_assert_eq(nattempts, 1 + retries, "retries %d: %d attempts, not %d", retries, nattempts, 1 + retries);
    cr_assert_eq(nerrors, 1);
    cr_assert_eq(errors[0], 502);
    fx_teardown(t);
}

Test(txn, retries_bound_the_attempts_with_servers_left)
{
    expect_attempts_of(1);
    expect_attempts_of(0);
}

Test(txn, sent_post_not_replayed)
{
    fx_setup("    retries 2\n    server a 127.0.0.1:1\n    server b 127.0.0.1:2\n");
    struct txn *t = fx_txn(HTTP_POST);

    txn_start_server(t);
    txn_connected(t);
    reached = 1; /* some of it went to the server */
    t->sent_any = 1;
    txn_attempt_failed(t, "connection reset", 1, 502);
    cr_assert_eq(nattempts, 1, "never sent again");
    cr_assert_eq(nerrors, 1);
    cr_assert_eq(errors[0], 502);
    cr_assert_null(t->srv, "the server slot is given back");
    fx_teardown(t);
}

Test(txn, unsent_post_retried)
{
    fx_setup("    retries 2\n    server a 127.0.0.1:1\n    server b 127.0.0.1:2\n");
    struct txn *t = fx_txn(HTTP_POST);

    txn_start_server(t);
    txn_attempt_failed(t, "connect error", 1, 502); /* nothing of it left */
    cr_assert_eq(nattempts, 2);
    cr_assert_eq(nerrors, 0);
    fx_teardown(t);
}

Test(txn, full_server_queues_then_503)
{
    fx_setup("    max-queue 10\n    server a 127.0.0.1:1 max-conns 1\n");
    struct pool *p = web();
    int result;
    struct server *busy = balance_pick(p, now_ms(), NULL, 0, 0, &result);
    cr_assert_not_null(busy, "another request holds the only slot");
    struct txn *t = fx_txn(HTTP_GET);

    txn_start_server(t);
    cr_assert_eq(t->phase, TXN_QUEUED);
    cr_assert_eq(nattempts, 0);
    cr_assert_eq(atomic_load(&p->shared->queued), 1);
    cr_assert_eq(t->qw.where, QW_QUEUED);
    cr_assert_eq(last_arm_ms, rt->cfg->timeout_queue_ms, "timeout queue armed through the sink");

    txn_timeout(t);
    cr_assert_eq(nerrors, 1);
    cr_assert_eq(errors[0], 503);
    cr_assert_eq(atomic_load(&p->shared->queued), 0, "out of the queue");
    cr_assert_eq(t->qw.where, QW_NONE);
    cr_assert_eq(nattempts, 0);

    balance_release(busy);
    fx_teardown(t);
}

Test(txn, no_server_up_503)
{
    fx_setup("    server a 127.0.0.1:1\n    server b 127.0.0.1:2\n");
    struct pool *p = web();
    atomic_store(&pool_find_server(p, "a")->state, SRV_DOWN);
    atomic_store(&pool_find_server(p, "b")->state, SRV_DOWN);
    struct txn *t = fx_txn(HTTP_GET);

    txn_start_server(t);
    cr_assert_eq(nattempts, 0);
    cr_assert_eq(nerrors, 1);
    cr_assert_eq(errors[0], 503);
    fx_teardown(t);
}

/* ---- admission: the step between the route and the pick ---------------------------------- */

/* Routes and admits one request from `peer` through txn_route_admit,
 * as proto_h1 does; returns txn_admit's answer (the txn in *out). */
static int fx_admit(const char *peer, const char *req, struct txn **out)
{
    struct http_field fields[16];
    struct http_head h;
    struct http_msg m;
    struct route_result route;
    char path[256];
    struct sockaddr_in sa = {.sin_family = AF_INET};
    struct txn *t = txn_open(&w, &fake_sink, NULL, &fake_upstream);

    cr_assert_not_null(t);
    cr_assert_eq(inet_pton(AF_INET, peer, &sa.sin_addr), 1);
    snprintf(t->client_ip, sizeof t->client_ip, "%s", peer);
    memset(&h, 0, sizeof h);
    memset(&m, 0, sizeof m);
    h.fields = fields;
    h.max_fields = 16;
    cr_assert_eq(http_parse_request(&m, req, strlen(req), &h), 0);
    *out = t;
    return txn_route_admit(t, &sa, req, &h, path, sizeof path, &route);
}

Test(txn, admission_priority_client_ip_and_limit_rate)
{
    rt = fixture_runtime("listen 127.0.0.1:8080\nlimit rate 1/m burst 2\n"
                         "client-ip header X-Forwarded-For from 10.0.0.0/8\n"
                         "pool web {\n check off\n server a 127.0.0.1:1\n}\n"
                         "route path /checkout/ pool web priority high\nroute default pool web\n");
    memset(&w, 0, sizeof w);
    w.loop = ev_default_loop(0);
    w.rt = rt;
    const char *checkout = "GET /checkout/pay HTTP/1.1\r\nHost: a\r\nX-Forwarded-For: 1.1.1.1, 198.51.100.4\r\n\r\n";
    const char *browse = "GET /p HTTP/1.1\r\nHost: a\r\nX-Forwarded-For: 198.51.100.4\r\n\r\n";
    struct txn *t;

    cr_assert_eq(fx_admit("10.0.0.1", checkout, &t), 0);
    cr_assert_eq(t->qw.priority, PRIO_HIGH, "the route's priority goes to the queue");
    cr_assert_str_eq(t->client_ip, "198.51.100.4", "the client the trusted peer named");
    txn_end(t);
    cr_assert_eq(fx_admit("10.0.0.2", browse, &t), 0, "another CDN node, the same client: its second token");
    cr_assert_eq(t->qw.priority, PRIO_NORMAL);
    txn_end(t);
    cr_assert_eq(fx_admit("10.0.0.1", browse, &t), 429, "the burst of 2 is spent");
    cr_assert(t->retry_after >= 59 && t->retry_after <= 60, "Retry-After %u", t->retry_after);
    txn_end(t);
    /* The peer itself, without the header, is another client. */
    cr_assert_eq(fx_admit("10.0.0.1", "GET /p HTTP/1.1\r\nHost: a\r\n\r\n", &t), 0);
    cr_assert_str_eq(t->client_ip, "10.0.0.1");
    txn_end(t);
    cr_assert_eq(atomic_load(&rt->routes[0].requests), 1);
    cr_assert_eq(atomic_load(&rt->routes[1].requests), 3);
    cr_assert_eq(atomic_load(&rt->routes[1].limited), 1);
    cr_assert_eq(atomic_load(&rt->routes[0].limited), 0);
    runtime_release(rt);
    rt = NULL;
}

/* Behind a trusted CDN, the traffic's anatomy (surge detection) counts
 * the clients the CDN names, not the CDN: it saw the peer before, and
 * every surge through a CDN looked like one client's flood. */
Test(txn, the_traffic_anatomy_counts_the_client_a_trusted_proxy_names)
{
    rt = fixture_runtime("listen 127.0.0.1:8080\n"
                         "client-ip header X-Forwarded-For from 10.0.0.0/8\n"
                         "pool web {\n check off\n server a 127.0.0.1:1\n}\n");
    memset(&w, 0, sizeof w);
    w.loop = ev_default_loop(0);
    w.rt = rt;
    cr_assert(rt->cfg->surge.enabled, "surge detection is on by default");
    traffic_reset();
    for (unsigned i = 0; i < 31; i++) {
        char req[160];
        struct txn *t;
        /* The worker hands its top lists over at its next request. */
        if (i == 30)
            traffic_handover();
        snprintf(req, sizeof req, "GET /p HTTP/1.1\r\nHost: a\r\nX-Forwarded-For: 198.51.100.%u\r\n\r\n", 1 + i);
        cr_assert_eq(fx_admit("10.0.0.9", req, &t), 0);
        txn_end(t);
    }
    struct traffic_view v;
    traffic_tick(now_ms() + 1000, &v);
    cr_assert_gt(v.nclients, 0, "nothing reached the anatomy");
    for (unsigned i = 0; i < v.nclients; i++)
        cr_assert_str_neq(v.clients[i].key, "10.0.0.9", "the CDN's address counted as a client");
    cr_assert_gt(v.distinct, 25, "distinct clients %.1f, not the 30 the CDN named", v.distinct);
    runtime_release(rt);
    rt = NULL;
}

#if !defined(__SANITIZE_ADDRESS__) /* there, a txn is a heap block, not in a slab */
/* How many of the 64 KiB slabs that held txns[0..n) are still mapped:
 * mincore fails with ENOMEM on an unmapped page. */
static unsigned slabs_mapped(struct txn **txns, unsigned n)
{
    uintptr_t seen[64];
    unsigned nseen = 0, mapped = 0;
    unsigned char vec;

    for (unsigned i = 0; i < n; i++) {
        uintptr_t s = (uintptr_t)txns[i] & ~(uintptr_t)0xffff;
        unsigned k = 0;
        while (k < nseen && seen[k] != s)
            k++;
        if (k < nseen || nseen == 64)
            continue;
        seen[nseen++] = s;
        if (mincore((void *)s, 4096, &vec) == 0)
            mapped++;
    }
    return mapped;
}

/* A burst of requests ends: the txns the cache kept pinned the slabs they
 * sit in (one each for every 61), until the trim a worker does after a
 * burst gives them back; then every slab empties and only the pool's one
 * spare stays mapped. */
Test(txn, trim_after_a_burst_unmaps_its_slabs)
{
    enum { BURST = 1000 };
    static struct txn *txns[BURST];

    for (unsigned i = 0; i < BURST; i++)
        cr_assert_not_null(txns[i] = txn_cache_get());
    for (unsigned i = 0; i < BURST; i++)
        txn_end(txns[i]);
    unsigned before = slabs_mapped(txns, BURST);
    cr_assert_geq(before, 4, "the cached txns keep their slabs (%u mapped)", before);
    /* What the worker's sweep does once the burst has ended. */
    struct mem_trim m = {0};
    mem_trim_note(&m, BURST);
    cr_assert_eq(mem_trim_check(&m, 0, txn_cache_trim), 1);
    unsigned after = slabs_mapped(txns, BURST);
    cr_assert_leq(after, 1, "after the trim only the spare slab stays (%u mapped)", after);
    cr_assert_eq(txn_live_count(), 0);
    txn_cache_clear();
}
#endif

/* A read keeps EDIT_SLACK free, and once an edited head grew into the
 * slack it may add nothing (the unsigned room does not wrap around). */
Test(txn, read_room_keeps_the_slack_and_never_wraps)
{
    struct buf b = {.cap = BUF_SIZE};
    b.len = 0;
    cr_assert_eq(txn_read_room(&b), BUF_SIZE - EDIT_SLACK);
    b.len = BUF_SIZE - EDIT_SLACK - 1;
    cr_assert_eq(txn_read_room(&b), 1);
    b.len = BUF_SIZE - EDIT_SLACK;
    cr_assert_eq(txn_read_room(&b), 0);
    b.len = BUF_SIZE - EDIT_SLACK + 40; /* an edit added 40 bytes past it */
    cr_assert_eq(txn_read_room(&b), 0);
}
