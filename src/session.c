/*
 * session: the client side of the proxy.  One state machine per client
 * connection; a `struct txn` holds what one request in flight needs, so an
 * idle keep-alive connection costs only a small `struct session` and no
 * buffers.
 *
 * Data flow: request bytes are read into s->in, the head is edited in place
 * and everything up to the end of the request (as llhttp frames it) is
 * written to the server from that same buffer; response bytes are read into
 * t->rin, edited in place, and written to the client from it.  Bytes are
 * forwarded, never rebuilt.
 *
 * Every watcher callback ends in sess_step(), the one place that works
 * out what each socket must wait for next and frees a finished session, so
 * nothing is freed under a callback that still uses it.
 *
 * This file is the client half and the driver; session_server.c is the
 * server half (see session_priv.h).
 */
#include "session.h"

#include <arpa/inet.h>
#include <stddef.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "balance.h"
#include "buf.h"
#include "health.h"
#include "http.h"
#include "log.h"
#include "metrics.h"
#include "router.h"
#include "upstream.h"
#include "worker.h"
#include "session_priv.h"

/* The request head's fields are parsed into this per-thread scratch: a
 * head is parsed and edited in one go, so no session needs its own. */
_Thread_local struct http_field *sess_scratch_fields;
_Thread_local unsigned sess_scratch_max;
_Thread_local char *sess_scratch_out;
_Thread_local size_t sess_scratch_out_cap;

static void request_complete(struct session *s);
static const struct stream_sink h1_sink;

/* ---- helpers ------------------------------------------------------------------ */

const struct config *sess_cfg(const struct session *s)
{
    return s->t && s->t->rt ? s->t->rt->cfg : s->c.w->rt->cfg;
}

int sess_scratch_reserve(unsigned fields, size_t out)
{
    if (sess_scratch_max < fields) {
        struct http_field *f = realloc(sess_scratch_fields, fields * sizeof *f);
        if (!f)
            return -1;
        sess_scratch_fields = f;
        sess_scratch_max = fields;
    }
    if (sess_scratch_out_cap < out) {
        char *o = realloc(sess_scratch_out, out);
        if (!o)
            return -1;
        sess_scratch_out = o;
        sess_scratch_out_cap = out;
    }
    return 0;
}

/* Dotted-quad by hand: inet_ntop goes through sprintf, and this runs for
 * every request (X-Forwarded-For). */
static void format_ipv4(const unsigned char *a, char *out)
{
    for (int i = 0; i < 4; i++) {
        unsigned v = a[i];
        if (v >= 100)
            *out++ = (char)('0' + v / 100);
        if (v >= 10)
            *out++ = (char)('0' + v / 10 % 10);
        *out++ = (char)('0' + v % 10);
        *out++ = i < 3 ? '.' : '\0';
    }
}

static void peer_ip(const struct session *s, char *out, size_t cap)
{
    const struct sockaddr_in6 *sa6 = &s->c.peer;
    if (sa6->sin6_family == AF_INET)
        format_ipv4((const unsigned char *)&((const struct sockaddr_in *)sa6)->sin_addr, out);
    else if (IN6_IS_ADDR_V4MAPPED(&sa6->sin6_addr))
        format_ipv4(&sa6->sin6_addr.s6_addr[12], out);
    else
        inet_ntop(AF_INET6, &sa6->sin6_addr, out, (socklen_t)cap);
}

#define ROUTE_PATH_MAX 8192

void sess_cache_clear(void)
{
    txn_cache_clear();
    free(sess_scratch_fields);
    sess_scratch_fields = NULL;
    sess_scratch_max = 0;
    free(sess_scratch_out);
    sess_scratch_out = NULL;
    sess_scratch_out_cap = 0;
    splice_pipe_cache_clear();
}

/* 414 when the request line alone is over the limit, else 431. */
static int too_large_status(const char *buf, size_t len, size_t limit)
{
    const char *eol = memchr(buf, '\n', len < limit ? len : limit);
    return eol ? 431 : 414;
}

/* ---- lifecycle --------------------------------------------------------------- */


void sess_mark_closed(struct session *s)
{
    s->state = SESS_CLOSED;
}

/* h1_proto.release: what the session holds beyond its conn. */
static void h1_release(struct conn *c)
{
    struct session *s = (struct session *)c;

    /* A request that ends here (an error, a cut) is logged too. */
    if (s->t && s->t->status && access_log_enabled())
        txn_access_log(s->t, ev_now(c->w->loop));
    /* Bytes queued this round still go (the peer may have only half-closed,
     * as it did when each send was made at once), before rin goes. */
    xprt_settle(&c->x);
    txn_end(s->t);
    s->t = NULL;
    buf_put(s->in);
    s->in = NULL;
}


/* ---- proxy-made responses ------------------------------------------------------------ */

/* Answers the current request with `status` and closes the client after
 * (keeping the connection after an error the server side caused is
 * possible, but a client that just got a 4xx from us may be out of sync).
 * Nothing more is read from the client. */
void sess_respond_error(struct session *s, int status)
{
    struct txn *t = s->t;

    if (!t || t->resp_head_done) {
        /* Part of a response already went out: all we can do is close. */
        sess_mark_closed(s);
        return;
    }
    if (t->up) {
        upstream_close(t->up);
        t->up = NULL;
    }
    xprt_settle(&s->c.x); /* a queued interim response goes before rin is rewritten */
    if (!t->rin && !(t->rin = buf_get(BUF_SIZE))) {
        sess_mark_closed(s);
        return;
    }
    /* Before the final head, rin[0, rin_fwd) holds only interim (1xx)
     * heads relayed or being relayed: the error follows them. */
    if (t->rin_sent > 0 && !xprt_send_pending(&s->c.x)) {
        buf_consume(t->rin, t->rin_sent);
        t->rin_fwd -= t->rin_sent;
        t->rin_sent = 0;
    }
    size_t keep = t->rin_fwd;
    size_t n = http_error_response(status, 1, t->rin->data + keep, t->rin->cap - keep);
    if (n == 0) {
        sess_mark_closed(s);
        return;
    }
    t->rin->len = keep + n;
    t->rin_fwd = t->rin->len;
    t->status = (uint16_t)status;
    t->resp_any = t->resp_head_done = t->resp_done = 1;
    t->close_after = 1;
    t->phase = TXN_DONE;
    s->state = SESS_ERROR;
    if (t->srv && status >= 500)
        atomic_fetch_add_explicit(&t->srv->responses[4], 1, memory_order_relaxed);
    conn_timer_set(&s->c, sess_cfg(s)->timeout_client_ms);
}

/* ---- writing ------------------------------------------------------------------------ */

/* sendq's hooks: bytes went out (to the client / to the server), and a
 * batched send finished, so the session can go on. */
static void client_sent(void *owner, size_t bytes)
{
    struct session *s = owner;
    struct txn *t = s->t;
    if (t) {
        t->bytes_out += bytes;
        t->last_activity = ev_now(s->c.w->loop);
        txn_client_progress(t, t->last_activity);
    }
}

static void upstream_sent(void *owner, size_t bytes)
{
    struct session *s = owner;
    (void)bytes;
    if (s->t) {
        s->t->sent_any = 1;
        s->t->last_activity = ev_now(s->c.w->loop);
    }
}

static void sendq_woke(void *owner)
{
    sess_step(owner);
}

const struct sendq_ops sess_client_sendq = {client_sent, sendq_woke};
const struct sendq_ops sess_upstream_sendq = {upstream_sent, sendq_woke};

/* ---- request head ---------------------------------------------------------------------- */

static size_t head_limit(const struct config *cfg)
{
    return cfg->limit_header_size;
}

static size_t in_capacity(const struct config *cfg)
{
    size_t want = head_limit(cfg) + EDIT_SLACK;
    return want > BUF_SIZE ? want : BUF_SIZE;
}

static void txn_new(struct session *s)
{
    struct txn *t = txn_cache_get();
    if (!t) {
        sess_mark_closed(s);
        return;
    }
    s->t = t;
    t->sink = &h1_sink;
    t->sink_ctx = s;
    t->uops = &sess_upstream_ops;
    t->w = s->c.w;
    mem_trim_note(&s->c.w->trim_requests, txn_live_count());
    t->t_start = ev_now(s->c.w->loop);
    t->rt = s->c.w->rt;
    runtime_ref(t->rt);
    t->replayable = 1;
    t->qw.worker = s->c.w->id;
    t->qw.where = QW_NONE;
}

/* An error before a txn exists (bad head, timeouts while reading it). */
static void respond_early_error(struct session *s, int status)
{
    if (!s->t) {
        txn_new(s);
        if (!s->t)
            return;
        peer_ip(s, s->t->client_ip, sizeof s->t->client_ip);
        snprintf(s->t->line, sizeof s->t->line, "-");
    }
    sess_respond_error(s, status);
}

/* Replaces the head at the front of s->in by its edited form. */
static int edit_request_head(struct session *s, const struct http_head *h)
{
    struct txn *t = s->t;
    size_t out_len = http_rewrite_request(s->in->data, h, t->client_ip, sess_scratch_out, sess_scratch_out_cap);
    if (out_len == 0 || s->in->len - h->len + out_len > s->in->cap)
        return -1;
    memmove(s->in->data + out_len, s->in->data + h->len, s->in->len - h->len);
    memcpy(s->in->data, sess_scratch_out, out_len);
    s->in->len = s->in->len - h->len + out_len;
    t->in_fwd = out_len;
    return 0;
}

static void parse_request_body(struct session *s);

static void handle_head(struct session *s)
{
    const struct config *cfg = s->c.w->rt->cfg;
    size_t limit = head_limit(cfg);

    /* Empty lines before a request line are ignored (RFC 9112 2.2), e.g.
     * a CRLF a client added after a body. */
    while (s->in->len >= 2 && s->in->data[0] == '\r' && s->in->data[1] == '\n') {
        buf_consume(s->in, 2);
        s->scanned = 0;
    }
    size_t end = http_head_end(s->in->data, s->in->len, s->scanned);
    struct http_head h;

    if (end == 0) {
        if (http_has_bare_lf(s->in->data, s->scanned, s->in->len)) {
            respond_early_error(s, 400);
            return;
        }
        s->scanned = s->in->len;
        if (s->in->len >= limit)
            respond_early_error(s, too_large_status(s->in->data, s->in->len, limit));
        return;
    }
    if (end > limit) {
        respond_early_error(s, too_large_status(s->in->data, end, limit));
        return;
    }
    s->scanned = 0;
    txn_new(s);
    if (!s->t)
        return;
    struct txn *t = s->t;
    peer_ip(s, t->client_ip, sizeof t->client_ip);
    if (sess_scratch_reserve(cfg->limit_headers, limit + EDIT_SLACK) < 0) {
        sess_respond_error(s, 503);
        return;
    }
    memset(&h, 0, sizeof h);
    h.fields = sess_scratch_fields;
    h.max_fields = cfg->limit_headers;
    t->req.body_limit = cfg->limit_body_size;
    int bad = http_parse_request(&t->req, s->in->data, end, &h);
    if (access_log_enabled()) {
        size_t n = h.line_len >= 2 ? h.line_len - 2 : 0;
        if (bad || n == 0) {
            const char *eol = memchr(s->in->data, '\r', end);
            n = eol ? (size_t)(eol - s->in->data) : 0;
        }
        if (n >= sizeof t->line)
            n = sizeof t->line - 1;
        memcpy(t->line, s->in->data, n);
        t->line[n] = 0;
    }
    if (bad) {
        sess_respond_error(s, bad);
        return;
    }
    t->method = h.method;
    t->http10 = h.major == 1 && h.minor == 0;
    t->client_keep_alive = h.keep_alive;
    t->req_upgrade = h.upgrade;
    t->req_done = !h.has_body;
    metrics_request_started(now_ms());

    char path_buf[ROUTE_PATH_MAX]; /* like nginx's 8k: a longer target that needs normalizing is a 414 */
    struct route_result route;
    int status = txn_route(t, s->in->data + h.host_off, h.host_len, s->in->data + h.uri_off, h.uri_len,
                           path_buf, sizeof path_buf, &route);
    if (status) {
        sess_respond_error(s, status);
        return;
    }
    if (cfg->normalize_path && route.path == path_buf) {
        h.target_out = route.path;
        h.target_out_len = (uint32_t)route.path_len;
    }
    if (edit_request_head(s, &h) < 0) {
        sess_respond_error(s, 431);
        return;
    }
    if (!t->req_done)
        parse_request_body(s);
    if (s->state == SESS_ERROR || s->state == SESS_CLOSED)
        return;
    s->state = SESS_REQUEST;
    txn_start_server(t);
}

/* Advances t->in_fwd over the body bytes that have arrived. */
static void parse_request_body(struct session *s)
{
    struct txn *t = s->t;
    size_t consumed;

    if (t->req_done || t->in_fwd >= s->in->len)
        return;
    int rc = http_msg_body(&t->req, s->in->data + t->in_fwd, s->in->len - t->in_fwd, &consumed);
    t->in_fwd += consumed;
    if (rc == 1)
        t->req_done = 1;
    else if (rc == -2)
        sess_respond_error(s, 413);
    else if (rc < 0)
        sess_respond_error(s, 400);
}

/* ---- the end of a request ---------------------------------------------------------------- */

/* The response went out whole: account, give the server connection back
 * or close it, and go on with the next request or close. */
static void request_complete(struct session *s)
{
    struct txn *t = s->t;
    double now = ev_now(s->c.w->loop);

    txn_complete(t, now);
    if (access_log_enabled())
        txn_access_log(t, now);
    int close_client = t->close_after || !t->client_keep_alive || s->c.w->stopping || !t->req_done ||
                       s->client_eof;
    if (s->in)
        buf_consume(s->in, t->req_done ? t->in_fwd : s->in->len);
    txn_end(t);
    s->t = NULL;
    if (close_client) {
        sess_mark_closed(s);
        return;
    }
    if (s->in && s->in->len > 0) {
        /* A pipelined request is already here. */
        s->state = SESS_READ_HEAD;
        conn_timer_set(&s->c, sess_cfg(s)->timeout_client_ms);
        handle_head(s);
        return;
    }
    buf_put(s->in);
    s->in = NULL;
    s->state = SESS_IDLE;
    conn_idle_enter(&s->c);
    conn_timer_set(&s->c, sess_cfg(s)->timeout_keep_alive_ms);
}

/* ---- the client side ----------------------------------------------------------------------- */

/* The client closed its side (`reset`: with a reset).  In a tunnel, or
 * before the 101 of an upgrade, a FIN is a half-close passed on to the
 * server (session_step) while its bytes keep flowing back; otherwise the
 * client has left and its request is abandoned, unless the pool keeps
 * such requests going (ignore-client-abort). */
static void client_eof(struct session *s, int reset)
{
    struct txn *t = s->t;
    s->client_eof = 1;
    if (sess_in(s, TXN_TUNNEL))
        return;
    int in_flight = t && s->state == SESS_REQUEST;
    /* An upgrade's FIN is a tunnel half-close that came before the 101:
     * passed on once the tunnel is up (a reset still ends it). */
    int keeps = t && t->req_done && (t->pool->cfg->ignore_client_abort || (t->req_upgrade && !reset));
    if (in_flight && keeps) {
        t->close_after = 1; /* finish it on the server, answer if the client still reads */
        return;
    }
    if (in_flight) {
        /* Abandoned (like nginx, a FIN counts: HTTP clients do not
         * half-close to wait for an answer).  Closing the session closes
         * the server connection (never pooled), frees its server slot and
         * takes a queued request out of the queue. */
        atomic_fetch_add_explicit(&metrics.requests_abandoned, 1, memory_order_relaxed);
        if (!t->resp_head_done)
            t->status = 499; /* the access log's word for it, as nginx's */
        log_debug("client left before its response: aborting its request on %s/%s", t->pool->cfg->name,
                  t->srv ? t->srv->name : "-");
    }
    sess_mark_closed(s);
}

/* After an error response: read and drop until the client closes. */
static void linger_read(struct session *s)
{
    char sink[4096];
    for (int i = 0; i < 16; i++) {
        ssize_t n = xprt_recv(&s->c.x, sink, sizeof sink);
        if (n > 0)
            continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
            return;
        sess_mark_closed(s);
        return;
    }
}

static void client_read(struct session *s)
{
    const struct config *cfg = sess_cfg(s);

    if (s->lingering) {
        linger_read(s);
        return;
    }
    if (!s->in && !(s->in = buf_get(in_capacity(cfg)))) {
        sess_mark_closed(s);
        return;
    }
    for (;;) {
        size_t space = s->in->cap - EDIT_SLACK - s->in->len;
        if (space == 0)
            return;
        ssize_t n = xprt_recv(&s->c.x, s->in->data + s->in->len, space);
        if (n > 0) {
            s->in->len += (size_t)n;
            break;
        }
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            if (s->in->len == 0 && !s->t) {
                buf_put(s->in); /* nothing came: hold no buffer while waiting */
                s->in = NULL;
            }
            return;
        }
        if (n < 0 && sess_in(s, TXN_TUNNEL))
            sess_mark_closed(s); /* a reset, not a half-close: nothing to pass on */
        else
            client_eof(s, n < 0);
        return;
    }
    switch (s->state) {
    case SESS_IDLE:
        conn_idle_leave(&s->c);
        s->state = SESS_READ_HEAD;
        conn_timer_set(&s->c, cfg->timeout_client_ms);
        handle_head(s);
        break;
    case SESS_READ_HEAD:
        handle_head(s);
        break;
    case SESS_REQUEST:
        if (s->t->phase == TXN_TUNNEL)
            s->t->in_fwd = s->in->len;
        else
            parse_request_body(s);
        s->t->last_activity = ev_now(s->c.w->loop);
        break;
    default:
        break;
    }
}

/* h1_proto.io */
static void h1_io(struct conn *c, int revents)
{
    struct session *s = (struct session *)c;

    if (revents & EV_READ)
        client_read(s);
    if ((revents & EV_WRITE) && s->state != SESS_CLOSED)
        sess_flush_client(s);
    sess_step(s);
}

/* h1_proto.timeout: the deadline of the session's state passed. */
static void h1_timeout(struct conn *c)
{
    struct session *s = (struct session *)c;

    switch (s->state) {
    case SESS_IDLE:
        sess_mark_closed(s);
        break;
    case SESS_READ_HEAD:
        if (s->in && s->in->len > 0)
            respond_early_error(s, 408);
        else
            sess_mark_closed(s);
        break;
    case SESS_REQUEST:
        txn_timeout(s->t);
        break;
    default:
        sess_mark_closed(s);
        break;
    }
    sess_step(s);
}

/* ---- the driver ------------------------------------------------------------------------------ */

static int in_has_space(const struct session *s)
{
    return !s->client_eof && (!s->in || s->in->len + EDIT_SLACK < s->in->cap);
}

static void update_interest(struct session *s)
{
    struct txn *t = s->t;
    int cev = 0, uev = 0;

    switch (s->state) {
    case SESS_IDLE:
    case SESS_READ_HEAD:
        if (in_has_space(s))
            cev |= EV_READ;
        break;
    case SESS_ERROR:
        if (s->lingering)
            cev |= EV_READ;
        break;
    case SESS_REQUEST:
        /* Reading on after the request keeps the fd's epoll registration
         * unchanged between requests and notices a client that leaves;
         * pipelined bytes wait in s->in (in a tunnel they go on). */
        if (in_has_space(s))
            cev |= EV_READ;
        break;
    default:
        break;
    }
    /* A queued send is not waiting for the socket: no EV_WRITE for it. */
    if (t && ((t->rin && t->rin_sent < t->rin_fwd && !xprt_send_pending(&s->c.x)) ||
              (t->splicing && t->pipe.held)))
        cev |= EV_WRITE;
    conn_io_want(s->c.w->loop, &s->c.io, cev);

    if (!t || !t->up || s->state != SESS_REQUEST)
        return;
    if (t->phase == TXN_CONNECT) {
        uev = EV_WRITE;
    } else if (t->phase == TXN_FORWARD || t->phase == TXN_TUNNEL) {
        if (t->splicing) {
            if (t->splice_left && t->pipe.held < t->pipe.cap)
                uev |= EV_READ;
        } else if (!t->resp_done && (!t->rin || t->rin->len + EDIT_SLACK < t->rin->cap) &&
                   !sess_splice_soon(t)) {
            uev |= EV_READ;
        }
        if (t->in_sent < t->in_fwd && !xprt_send_pending(&t->up->x))
            uev |= EV_WRITE;
    }
    conn_io_want(s->c.w->loop, &t->up->io, uev);
}

/* Makes every bit of progress possible without waiting, then sets what each
 * socket waits for.  Frees the session when it is finished. */
void sess_step(struct session *s)
{
    for (int guard = 0; guard < 64; guard++) {
        struct txn *t = s->t;
        if (s->state == SESS_CLOSED)
            break;
        if (t && (sess_in(s, TXN_FORWARD) || sess_in(s, TXN_TUNNEL))) {
            sess_flush_upstream(s);
            if (s->state == SESS_CLOSED || s->t != t || !t->up)
                continue;
            sess_compact_in(s);
            if (sess_in(s, TXN_TUNNEL) && t->in_sent == t->in_fwd && s->in && t->in_sent) {
                s->in->len = 0;
                t->in_sent = t->in_fwd = 0;
            }
            if (sess_in(s, TXN_TUNNEL) && s->client_eof && !t->up_shut &&
                t->in_sent == t->in_fwd && !xprt_send_pending(&t->up->x)) {
                xprt_shutdown_write(&t->up->x); /* everything the client sent went first */
                t->up_shut = 1;
            }
        }
        sess_flush_client(s);
        if (s->state == SESS_CLOSED)
            break;
        t = s->t;
        if (!t)
            break;
        if (!t->splicing && sess_in(s, TXN_FORWARD)) {
            sess_try_splice(s);
            if (t->splicing)
                sess_splice_in(s);
            if (s->state == SESS_CLOSED)
                break;
        }
        int flushed = (!t->rin || t->rin_sent >= t->rin_fwd) && (!t->splicing || t->pipe.held == 0);
        if (s->state == SESS_ERROR && flushed && !s->lingering) {
            /* Closing at once while the client still sends would reset the
             * connection and could destroy the response before it is read:
             * shut the write side and discard what comes for a moment. */
            s->lingering = 1;
            xprt_shutdown_write(&s->c.x);
            conn_timer_set(&s->c, LINGER_MS);
        }
        if (sess_in(s, TXN_TUNNEL) && flushed && t->resp_done && !t->client_shut) {
            xprt_shutdown_write(&s->c.x); /* the server's half-close, after its bytes */
            t->client_shut = 1;
        }
        if (sess_in(s, TXN_TUNNEL) && flushed && (t->close_after || (t->client_shut && t->up_shut))) {
            sess_mark_closed(s);
            break;
        }
        if (sess_in(s, TXN_FORWARD) && t->resp_done && flushed &&
            (t->in_sent >= t->in_fwd || !t->req_done || t->close_after)) {
            if (!t->req_done)
                t->close_after = 1; /* answered before the request ended */
            request_complete(s);
            continue;
        }
        break;
    }
    if (s->state == SESS_CLOSED) {
        conn_free(&s->c);
        return;
    }
    update_interest(s);
}

/* ---- the stream sink (stream.h) -------------------------------------------------------------- */

/* Raw HTTP/1: the response's bytes are in rin already, edited in place;
 * the driver (sess_step) flushes them before its callback returns. */
static void h1_sink_ready(void *ctx)
{
    (void)ctx;
}

static void h1_sink_reset(void *ctx)
{
    sess_mark_closed(ctx);
}

static void h1_sink_respond_error(void *ctx, int status)
{
    sess_respond_error(ctx, status);
}

static void h1_sink_proceed(void *ctx)
{
    sess_step(ctx);
}

/* One lazy timer per connection: a deadline set later than the armed one
 * costs no timer heap operation (conn_timer_set). */
static void h1_sink_arm(void *ctx, uint64_t ms)
{
    struct session *s = ctx;
    conn_timer_set(&s->c, ms);
}

static struct xprt *h1_sink_xprt(void *ctx)
{
    struct session *s = ctx;
    return &s->c.x;
}

static const struct stream_sink h1_sink = {
    .caps = SINK_RAW_H1 | SINK_SPLICE,
    .send_head = h1_sink_ready,
    .send_data = h1_sink_ready,
    .end = h1_sink_ready,
    .reset = h1_sink_reset,
    .respond_error = h1_sink_respond_error,
    .proceed = h1_sink_proceed,
    .arm = h1_sink_arm,
    .xprt = h1_sink_xprt,
};

/* h1_proto.server_down */
static void h1_server_down(struct conn *c)
{
    struct session *s = (struct session *)c;
    if (s->state == SESS_REQUEST)
        txn_server_down(s->t);
}

/* ---- the conn's protocol ------------------------------------------------------------------- */

/* h1_proto.start: a new connection; data usually arrives with it (or
 * right after), so reading now saves a trip through the loop. */
static void h1_start(struct conn *c)
{
    struct session *s = (struct session *)c;

    s->state = SESS_READ_HEAD;
    conn_timer_set(c, c->w->rt->cfg->timeout_client_ms);
    client_read(s);
    sess_step(s);
}

/* h1_proto.idle: between requests, or connected with nothing sent yet. */
static int h1_idle(const struct conn *c)
{
    const struct session *s = (const struct session *)c;
    return s->state == SESS_IDLE || (s->state == SESS_READ_HEAD && (!s->in || s->in->len == 0));
}

const struct conn_proto h1_proto = {
    .name = "http/1.1",
    .size = sizeof(struct session),
    .sendq = &sess_client_sendq,
    .start = h1_start,
    .io = h1_io,
    .timeout = h1_timeout,
    .idle = h1_idle,
    .server_down = h1_server_down,
    .release = h1_release,
};
