/*
 * txn: a request's lifetime, its choice of server (pick, queue, retry),
 * its timeouts, its accounting and its access-log line (see txn.h).
 */
#include "txn.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "admit.h"
#include "balance.h"
#include "clock.h"
#include "health.h"
#include "log.h"
#include "metrics.h"
#include "router.h"
#include "sendq.h"
#include "slab.h"
#include "token_bucket.h"
#include "traffic.h"
#include "upstream.h"
#include "worker_ctx.h"
#include "xprt.h"

/* Transactions come from a per-thread free list: one per request. */
#define TXN_CACHE_MAX 256
static _Thread_local struct txn *txn_cache;
static _Thread_local unsigned txn_cache_count;
/* Requests in flight on this thread: a burst of them ending is when the
 * worker gives memory back (mem_trim), as a flood of connections ending. */
static _Thread_local unsigned txn_live;
/* Requests live apart from the longer-lived objects of the heap (slab.h). */
static _Thread_local struct slab_pool txn_slabs = SLAB_POOL_INIT(struct txn);

_Thread_local struct http_field *txn_scratch_fields;
_Thread_local unsigned txn_scratch_max;
_Thread_local char *txn_scratch_out;
_Thread_local size_t txn_scratch_out_cap;

int txn_scratch_reserve(unsigned fields, size_t out)
{
    if (txn_scratch_max < fields) {
        struct http_field *f = realloc(txn_scratch_fields, fields * sizeof *f);
        if (!f)
            return -1;
        txn_scratch_fields = f;
        txn_scratch_max = fields;
    }
    if (txn_scratch_out_cap < out) {
        char *o = realloc(txn_scratch_out, out);
        if (!o)
            return -1;
        txn_scratch_out = o;
        txn_scratch_out_cap = out;
    }
    return 0;
}

unsigned txn_live_count(void)
{
    return txn_live;
}

struct txn *txn_cache_get(void)
{
    struct txn *t = txn_cache;
    if (t) {
        txn_cache = t->next_free;
        txn_cache_count--;
        memset(t, 0, sizeof *t);
    } else if (!(t = slab_alloc(&txn_slabs))) {
        return NULL;
    }
    txn_live++;
    return t;
}

struct txn *txn_open(struct worker *w, const struct stream_sink *sink, void *sink_ctx,
                     const struct txn_upstream_ops *uops)
{
    struct txn *t = txn_cache_get();
    if (!t)
        return NULL;
    t->sink = sink;
    t->sink_ctx = sink_ctx;
    t->uops = uops;
    t->w = w;
    mem_trim_note(&w->trim_requests, txn_live_count());
    t->t_start = ev_now(w->loop);
    t->rt = w->rt;
    runtime_ref(t->rt);
    t->replayable = 1;
    t->qw.worker = w->id;
    t->qw.where = QW_NONE;
    return t;
}

static void txn_cache_put(struct txn *t)
{
    txn_live--;
    if (txn_cache_count >= TXN_CACHE_MAX) {
        slab_free(&txn_slabs, t);
        return;
    }
    t->next_free = txn_cache;
    txn_cache = t;
    txn_cache_count++;
}

void txn_cache_trim(void)
{
    while (txn_cache) {
        struct txn *t = txn_cache;
        txn_cache = t->next_free;
        slab_free(&txn_slabs, t);
    }
    txn_cache_count = 0;
}

void txn_cache_clear(void)
{
    txn_cache_trim();
    slab_release_spare(&txn_slabs);
    free(txn_scratch_fields);
    txn_scratch_fields = NULL;
    txn_scratch_max = 0;
    free(txn_scratch_out);
    txn_scratch_out = NULL;
    txn_scratch_out_cap = 0;
}

static int status_class(unsigned status);

void txn_end(struct txn *t)
{
    if (!t)
        return;
    /* Every response a client got, once, in its pool (a request that never
     * reached a pool - a bad head - has none). */
    if (t->pool && t->status)
        atomic_fetch_add_explicit(&t->pool->shared->responses[t->proxy_made ? RESP_FROM_PROXY : RESP_FROM_SERVER]
                                                                [status_class(t->status)],
                                  1, memory_order_relaxed);
    txn_leave_queue(t);
    if (t->up)
        upstream_close(t->up);
    if (t->srv)
        balance_release(t->srv);
    buf_put(t->rin);
    buf_put(t->resp.trailers);
    buf_put(t->req.trailers); /* a chunked request's Connection names or section, if any */
    if (t->splicing)
        splice_pipe_put(&t->pipe);
    runtime_release(t->rt);
    /* Its server send may have finished in the round being woken: a txn
     * ended by an owner woken before it (its client's connection cut) must
     * not be woken after, as the next txn in its memory. */
    sendq_forget(t);
    txn_cache_put(t);
}

void txn_mark_cut(struct txn *t, enum txn_cut why)
{
    static atomic_uint_fast64_t *const counters[] = {
        [TXN_CUT_CLIENT] = &metrics.cut_client,
        [TXN_CUT_SERVER] = &metrics.cut_server,
        [TXN_CUT_SHUTDOWN] = &metrics.cut_shutdown,
    };
    if (!t->aborted)
        t->aborted = (uint8_t)why;
    if (t->aborted_counted || t->aborted == TXN_CUT_NONE)
        return;
    t->aborted_counted = 1;
    atomic_fetch_add_explicit(counters[t->aborted], 1, memory_order_relaxed);
}

int txn_request_cut(struct txn *t)
{
    if (!t->uops->may_have_reached(t))
        return 0;
    txn_mark_cut(t, TXN_CUT_CLIENT);
    if (t->up)
        t->uops->abort(t);
    return 1;
}

void txn_leave_queue(struct txn *t)
{
    if (t->qw.where != QW_NONE)
        balance_dequeue(t->pool->shared, &t->qw);
}

void txn_drop_server(struct txn *t)
{
    txn_leave_queue(t);
    if (t->up)
        t->uops->abort(t);
    if (t->srv)
        balance_release(t->srv);
    t->srv = NULL;
    t->phase = TXN_DONE;
}

/* The server that answered, or for the proxy's own error the one tried
 * last ("-": none was). */
static const char *txn_server_name(const struct txn *t)
{
    if (t->srv)
        return t->srv->name;
    return t->last_server[0] ? t->last_server : "-";
}

size_t txn_hsts_line(const struct txn *t, char *out, size_t cap)
{
    uint64_t hsts_ms = t->rt->cfg->tls.hsts_ms;
    out[0] = '\0';
    if (!t->client_tls || !hsts_ms)
        return 0;
    int n = snprintf(out, cap, "Strict-Transport-Security: max-age=%llu\r\n", (unsigned long long)(hsts_ms / 1000));
    return n > 0 && (size_t)n < cap ? (size_t)n : 0;
}

void txn_access_log(const struct txn *t, double end)
{
    char line[LOG_LINE_MAX + 512];
    char when[64];
    time_t now = time(NULL);
    struct tm tm;

    gmtime_r(&now, &tm);
    strftime(when, sizeof when, "%d/%b/%Y:%H:%M:%S +0000", &tm);
    static const char *const cut_names[] = { "", " aborted=client", " aborted=server", " aborted=shutdown" };
    char tls[96] = "";
    if (t->client_tls) {
        const struct xprt *x = t->sink->xprt(t->sink_ctx);
        snprintf(tls, sizeof tls, " tls=%s cipher=%s", xprt_tls_version(x), xprt_tls_cipher(x));
    }
    char status[8] = "-"; /* none: cut by a stop before any answer */
    if (t->status)
        snprintf(status, sizeof status, "%u", t->status);
    int n = snprintf(line, sizeof line,
                     "%s [%s] \"%s\" %s %llu %s %s total=%.3fms connect=%.3fms response=%.3fms%s%s\n",
                     t->client_ip, when, t->line, status, (unsigned long long)t->bytes_out,
                     t->pool ? t->pool->cfg->name : "-", txn_server_name(t),
                     (end - t->t_start) * 1000.0,
                     t->t_connected > 0 ? (t->t_connected - t->t_start) * 1000.0 : 0.0,
                     t->t_head > 0 ? (t->t_head - t->t_start) * 1000.0 : 0.0,
                     cut_names[t->aborted < 4 ? t->aborted : 0], tls);
    if (n > 0)
        access_log_write(line, (size_t)n < sizeof line ? (size_t)n : sizeof line - 1);
}

/* ---- timers ------------------------------------------------------------------------------ */

static const struct config *txn_cfg(const struct txn *t)
{
    return t->rt->cfg;
}

void txn_arm(struct txn *t, uint64_t ms)
{
    t->deadline = ev_now(t->w->loop) + (double)ms / 1000.0;
    t->sink->arm(t->sink_ctx, ms);
}

uint64_t txn_forward_check_ms(const struct config *cfg)
{
    uint64_t quarter = cfg->timeout_client_ms / 4 ? cfg->timeout_client_ms / 4 : 1;
    return quarter < cfg->timeout_server_ms ? quarter : cfg->timeout_server_ms;
}

/* ---- the route and the choice of a server --------------------------------------------------- */

int txn_route(struct txn *t, const char *host, size_t host_len, const char *target, size_t target_len,
              char *path_buf, size_t cap, struct route_result *route)
{
    router_resolve(t->rt, host, host_len, target, target_len, path_buf, cap, route);
    /* Every request that names a path feeds the traffic's anatomy (surge
     * detection), whatever becomes of it - unless `surge off`. */
    if (t->rt->cfg->surge.enabled)
        traffic_note(t->client_ip, route->path ? route->path : target,
                     route->path ? route->path_len : target_len, now_ms());
    t->pool = route->pool;
    if (route->status || !t->pool)
        return route->status ? route->status : 503;
    return 0;
}

void txn_client(struct txn *t, const void *peer, const char *buf, const struct http_head *h,
                struct in6_addr *client)
{
    struct in6_addr peer_addr;

    client_addr_from_sockaddr(peer, &peer_addr);
    if (admit_client_of(txn_cfg(t), &peer_addr, buf, h, client))
        client_addr_format(client, t->client_ip, sizeof t->client_ip);
}

int txn_admit(struct txn *t, const struct in6_addr *client, const struct route_result *route)
{
    const struct config *cfg = txn_cfg(t);

    t->route = route->route;
    t->qw.priority = t->route ? (uint8_t)t->route->cfg->priority : PRIO_NORMAL;
    if (t->route)
        atomic_fetch_add_explicit(&t->route->requests, 1, memory_order_relaxed);
    /* The request's start (ev_now, already read): no clock call per
     * request; the bucket copes with a wall clock set back. */
    uint64_t wait = admit_rate(cfg, client, (uint64_t)(t->t_start * 1e9));
    if (!wait)
        return 0;
    t->retry_after = token_bucket_retry_after_s(wait);
    if (t->route)
        atomic_fetch_add_explicit(&t->route->limited, 1, memory_order_relaxed);
    return 429;
}

int txn_route_admit(struct txn *t, const void *peer, const char *buf, const struct http_head *h, char *path_buf,
                    size_t cap, struct route_result *route)
{
    struct in6_addr client;
    txn_client(t, peer, buf, h, &client);
    int status = txn_route(t, buf + h->host_off, h->host_len, buf + h->uri_off, h->uri_len, path_buf, cap, route);
    return status ? status : txn_admit(t, &client, route);
}

void txn_respond_error(struct txn *t, int status)
{
    t->phase = TXN_DONE;
    t->sink->respond_error(t->sink_ctx, status);
}

/* 503 when no server could take the request; after failed attempts the
 * client learns how the last one failed (502, or 504 for a timeout). */
static void fail_no_server(struct txn *t)
{
    txn_respond_error(t, t->last_failure ? t->last_failure : 503);
}

static void queue_wake(struct queue_waiter *qw);

void txn_start_server(struct txn *t)
{
    const struct config_pool *pc = t->pool->cfg;
    struct worker *w = t->w;
    int result;
    uint64_t now = now_ms(); /* the clock of up_since_ms (slow start) */
    int was_queued = t->phase == TXN_QUEUED;

    /* A reload while it waited, or before this retry: pick among the
     * pool's servers as they are now (the queue is the pool's, shared by
     * the generations). */
    if (t->rt != w->rt) {
        struct pool *now_pool = runtime_find_pool(w->rt, t->pool->cfg->name);
        if (now_pool && now_pool->shared == t->pool->shared) {
            runtime_ref(w->rt);
            runtime_release(t->rt);
            t->rt = w->rt;
            t->pool = now_pool;
            pc = now_pool->cfg;
        }
        t->sticky_srv = NULL; /* of the generation it queued on */
    }

    /* A sticky cookie's server first (a retry balances: it failed there). */
    t->srv = NULL;
    if (t->sticky_srv && t->ntried == 0 && !was_queued)
        t->srv = balance_pick_sticky(t->pool, t->sticky_srv, now);
    result = PICK_OK;
    if (!t->srv)
        t->srv = balance_pick(t->pool, now, t->tried, t->ntried, was_queued, &result);
    /* A reload published a generation this worker has yet to take (it does
     * within a loop round, and wakes the queue then: apply_update) and none
     * of this one's servers is usable any more (the reload replaced them):
     * the request waits in the queue for the switch, not a 503. */
    /* Until the worker takes it: a request of a pool that generation
     * renamed or removed stays on its own (runtime_find_pool found none)
     * and must not wait for a switch already made (it waited for timeout
     * queue, then 503). */
    const struct runtime *published = t->srv ? NULL : runtime_current(); /* looked at only when no pick */
    int switching = published && published != t->rt && published != w->rt;
    if (!t->srv && (result == PICK_FULL || switching)) {
        t->qw.wake = queue_wake;
        int first = balance_queue(t->pool->shared, &t->qw, pc->max_queue, was_queued);
        if (first < 0) {
            fail_no_server(t);
            return;
        }
        /* A slot freed since the pick may have woken nobody. */
        if (first)
            t->srv = balance_pick(t->pool, now, t->tried, t->ntried, 1, &result);
        if (!t->srv && (result == PICK_FULL || switching)) {
            if (!was_queued) {
                t->phase = TXN_QUEUED;
                txn_arm(t, txn_cfg(t)->timeout_queue_ms);
            }
            return;
        }
        balance_dequeue(t->pool->shared, &t->qw); /* served now, or by nobody */
    }
    if (!t->srv) {
        fail_no_server(t);
        return;
    }
    atomic_fetch_add_explicit(&t->srv->requests, 1, memory_order_relaxed);
    t->attempts++;
    if (t->ntried < MAX_TRIES)
        t->tried[t->ntried++] = t->srv;
    /* Its name, for the access log of a proxy-made error after it failed
     * (the server itself may be gone by then, after a reload). */
    if (access_log_enabled())
        memcpy(t->last_server, t->srv->name, sizeof t->last_server);

    t->phase = TXN_CONNECT;
    int rc = t->uops->start(t);
    if (rc == 0) {
        txn_connected(t);
    } else if (rc > 0) {
        txn_arm(t, txn_cfg(t)->timeout_connect_ms);
    } else if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM) {
        /* Out of descriptors or memory here: not the server's fault, and
         * no other server would fare better. */
        log_warn("connecting to %s/%s", t->pool->cfg->name, t->srv->name);
        txn_respond_error(t, 503);
    } else {
        /* Immediate refusal: try elsewhere like an asynchronous one. */
        txn_attempt_failed(t, "connect error", 1, 502);
    }
}

static void queue_wake(struct queue_waiter *qw)
{
    struct txn *t = (struct txn *)((char *)qw - offsetof(struct txn, qw));

    if (t->phase != TXN_QUEUED) {
        /* Answered while its wake-up was on its way: the slot it was
         * woken for goes to the next waiter, or nobody would take it. */
        balance_pass_wake(t->pool->shared);
        return;
    }
    txn_start_server(t);
    t->sink->proceed(t->sink_ctx);
}

void txn_connected(struct txn *t)
{
    double now = ev_now(t->w->loop);
    t->t_connected = now;
    t->phase = TXN_FORWARD;
    t->last_activity = now;
    txn_client_progress(t, now);
    uint64_t check = txn_forward_check_ms(txn_cfg(t));
    if (t->up && xprt_is_tls(&t->up->x) && check > txn_cfg(t)->timeout_connect_ms)
        check = txn_cfg(t)->timeout_connect_ms + 1; /* its handshake: forward_timeout */
    txn_arm(t, check);
}

void txn_attempt_failed(struct txn *t, const char *reason, int counts, int status)
{
    struct server *srv = t->srv;
    int retry_same = !counts;
    /* A send still queued may yet reach the server: it counts as sent. */
    int may_have_reached = t->uops->may_have_reached(t);

    if (t->up)
        t->uops->abort(t);
    if (counts) {
        atomic_fetch_add_explicit(&srv->failures, 1, memory_order_relaxed);
        health_report_failure(t->pool, srv, reason);
    }
    /* Whatever the cause (the keep-alive race included), a request that
     * is not idempotent and may have reached the server is never sent
     * again: the server may have acted on it (an order placed twice). */
    int idempotent = http_method_idempotent(t->method);
    int may_replay = t->replayable && !t->resp_any && (idempotent || !may_have_reached);
    balance_release(srv);
    t->srv = NULL;
    if (!idempotent && may_have_reached && !t->resp_any) {
        atomic_fetch_add_explicit(&metrics.requests_not_replayed, 1, memory_order_relaxed);
        log_info("%s/%s %s; not retrying a %s request that may have reached it", t->pool->cfg->name,
                 srv->name, reason, llhttp_method_name((llhttp_method_t)t->method));
    }
    if (may_replay && retry_same) {
        /* The keep-alive race: not an attempt of its own, and the next try
         * opens a fresh connection (other idle ones may be stale too). */
        if (t->ntried && t->tried[t->ntried - 1] == srv)
            t->ntried--;
        t->attempts--;
        t->fresh_conn = 1;
    } else if (!may_replay || t->attempts > t->pool->cfg->retries || t->ntried >= MAX_TRIES) {
        /* (A request remembers MAX_TRIES servers: past them, a retry could
         * go back to one that failed it.) */
        log_debug("request failed on %s/%s: %s", t->pool->cfg->name, srv->name, reason);
        txn_respond_error(t, status);
        return;
    }
    t->in_sent = 0;
    t->sent_any = 0;
    t->last_failure = (uint16_t)status;
    t->phase = TXN_FORWARD; /* not QUEUED: a retry does not wait behind the queue */
    txn_start_server(t);
}

void txn_server_down(struct txn *t)
{
    if (!t->srv || t->resp_any || !t->pool->cfg->on_down_shutdown ||
        (t->phase != TXN_CONNECT && t->phase != TXN_FORWARD) ||
        atomic_load_explicit(&t->srv->state, memory_order_acquire) != SRV_DOWN)
        return;
    /* Another server if the request may go twice (or never left), else
     * 502 now rather than at timeout server. */
    txn_attempt_failed(t, "server marked down", 1, 502);
    t->sink->proceed(t->sink_ctx);
}

/* ---- the response ---------------------------------------------------------------------------- */

void txn_response_head(struct txn *t)
{
    t->t_head = ev_now(t->w->loop);
    t->sink->send_head(t->sink_ctx);
}

void txn_response_body(struct txn *t)
{
    t->sink->send_data(t->sink_ctx);
}

void txn_response_end(struct txn *t)
{
    t->resp_done = 1;
    t->sink->end(t->sink_ctx);
}

/* ---- timeouts -------------------------------------------------------------------------------- */

/* Response bytes are waiting for the client's socket to take them. */
static int waiting_on_client(const struct txn *t)
{
    return xprt_send_pending(t->sink->xprt(t->sink_ctx)) || (t->rin && t->rin_sent < t->rin_fwd) ||
           (t->splicing && t->pipe.held > 0);
}

/* The request's body is still to come, and its server has every byte of
 * it that came: the server waits on the client, not the other way round.
 * A 100 Continue relayed is no answer yet: the client that stalls after
 * it gets 408, its server is not blamed (it got a 504 and a failure). */
static int waiting_on_request_body(const struct txn *t)
{
    int answered = t->resp_any && !(t->interim && !t->resp_head_done);
    return !t->req_done && !answered && t->in_sent >= t->in_fwd && !(t->up && xprt_send_pending(&t->up->x));
}

/* Whether the client has taken nothing for timeout client.  A slow reader
 * empties its socket's send queue a little at a time without the socket
 * ever becoming writable (the kernel wakes a writer only once a third of
 * the buffer is free): the queue's shrinking, sampled at each check, is
 * progress too, not only the proxy's writes. */
static int client_stalled(struct txn *t, double now)
{
    int outq = xprt_unsent(t->sink->xprt(t->sink_ctx));
    if (outq >= 0) {
        if (t->outq_seen >= 0 && outq < t->outq_seen)
            t->client_progress_at = now;
        t->outq_seen = outq;
    }
    return (now - t->client_progress_at) * 1000.0 >= (double)txn_cfg(t)->timeout_client_ms;
}

static void forward_timeout(struct txn *t)
{
    const struct config *cfg = txn_cfg(t);
    uint64_t limit = cfg->timeout_server_ms;
    double now = ev_now(t->w->loop);
    double idle = now - t->last_activity;

    if (waiting_on_client(t)) {
        /* Not the server's turn: only timeout client applies. */
        if (!client_stalled(t, now)) {
            txn_arm(t, txn_forward_check_ms(cfg));
            return;
        }
        log_debug("client took nothing of its response for %llu ms: closing",
                  (unsigned long long)cfg->timeout_client_ms);
        t->phase = TXN_DONE;
        t->sink->reset(t->sink_ctx);
        return;
    }
    t->outq_seen = -1;
    /* A TLS server's handshake is part of connecting (nginx counts it in
     * proxy_connect_timeout): timeout connect bounds it, and its end is a
     * connect timeout, retried elsewhere - nothing of the request went. */
    int handshaking = t->up && xprt_is_tls(&t->up->x) && t->up->x.tls_state != XPRT_TLS_ESTABLISHED;
    if (handshaking) {
        limit = cfg->timeout_connect_ms;
        idle = now - t->t_connected; /* from the TCP connect: a client's upload bytes are no progress of it */
    }
    if (idle * 1000.0 < (double)limit) {
        uint64_t left = (uint64_t)((double)limit - idle * 1000.0) + 1;
        uint64_t check = txn_forward_check_ms(cfg);
        txn_arm(t, left < check ? left : check);
        return;
    }
    if (handshaking) {
        txn_attempt_failed(t, "TLS handshake timeout", 1, 504);
        return;
    }
    if (t->phase == TXN_TUNNEL) {
        t->phase = TXN_DONE;
        t->sink->reset(t->sink_ctx);
        return;
    }
    if (waiting_on_request_body(t)) {
        /* Not the server's failure: a client that stalls its uploads
         * would mark healthy servers down.  408, as nginx's
         * client_body_timeout answers. */
        log_info("%s/%s: the client sent nothing more of its request body for %llu ms: 408", t->pool->cfg->name,
                 t->srv->name, (unsigned long long)limit);
        txn_mark_cut(t, TXN_CUT_CLIENT);
        txn_respond_error(t, 408);
        return;
    }
    atomic_fetch_add_explicit(&t->srv->failures, 1, memory_order_relaxed);
    if (!t->resp_any)
        health_report_failure(t->pool, t->srv, "timeout waiting for the response");
    else if (t->resp_head_done)
        txn_mark_cut(t, TXN_CUT_SERVER); /* the server stalled in its body: its cut, not the client's */
    txn_respond_error(t, 504);
}

void txn_timeout(struct txn *t)
{
    switch (t->phase) {
    case TXN_QUEUED:
        balance_dequeue(t->pool->shared, &t->qw);
        txn_respond_error(t, 503);
        break;
    case TXN_CONNECT:
        txn_attempt_failed(t, "connect timeout", 1, 504);
        break;
    case TXN_FORWARD:
    case TXN_TUNNEL:
        forward_timeout(t);
        break;
    default:
        t->phase = TXN_DONE;
        t->sink->reset(t->sink_ctx);
        break;
    }
}

/* ---- the end ---------------------------------------------------------------------------------- */

static int status_class(unsigned status)
{
    if (status < 100 || status > 599)
        return 4;
    return (int)(status / 100) - 1;
}

void txn_complete(struct txn *t, double now)
{
    if (t->srv) {
        atomic_fetch_add_explicit(&t->srv->responses[status_class(t->status)], 1, memory_order_relaxed);
        if (t->status < 500)
            health_report_success(t->srv);
    }
    metrics_request_done(t->pool ? &t->pool->shared->latency : &metrics.latency_no_pool,
                         (uint64_t)((now - t->t_start) * 1e6));
    if (t->up) {
        int beyond = t->rin && t->rin_fwd < t->rin->len; /* bytes past the response's end */
        int clean = t->resp_keep_alive && t->req_done && t->in_sent == t->in_fwd && t->rin && !beyond;
        if (beyond && t->resp_done)
            atomic_fetch_add_explicit(&metrics.server_conns_stray, 1, memory_order_relaxed);
        t->uops->done(t, clean);
    }
    t->phase = TXN_DONE;
}
