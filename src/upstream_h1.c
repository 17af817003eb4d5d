/*
 * upstream_h1: the server side of a txn for HTTP/1 servers - starting an
 * attempt on an idle or new server connection, writing the request from
 * the buffer the sink lends (raw HTTP/1: the client's bytes as they came,
 * head edited), reading the response into rin and editing its head in
 * place (1xx up to INTERIM_MAX, 101 for a tunnel, de-chunking for an
 * HTTP/1.0 client), its end (length, chunked, close, cut), and moving a
 * large body by splice(2) into the pipe the sink drains.
 *
 * It is the txn's txn_upstream_ops (upstream_h1_ops) and reports to the
 * txn through its events (txn_connected, txn_attempt_failed,
 * txn_respond_error, txn_response_head/body/end), which the txn passes on
 * to its sink; it knows nothing of the client's protocol beyond
 * SINK_RAW_H1 and SINK_SPLICE.
 */
#include "upstream_h1.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "conn.h"
#include "trailer_relay.h"
#include "log.h"
#include "metrics.h"
#include "sticky_txn.h"
#include "tls_ctx.h"
#include "upstream.h"
#include "worker_ctx.h"

/* ---- the txn's server side (txn_upstream_ops) -------------------------------------------------- */

static void server_io_cb(struct ev_loop *loop, ev_io *io, int revents);

/* The txn takes the connection's watcher over (an idle one keeps its
 * epoll registration; only the callback changes). */
static const struct sendq_ops up_sendq;

static void attach_upstream(struct txn *t)
{
    struct upstream_conn *up = t->up;
    ev_set_cb(&up->io, server_io_cb);
    up->io.data = t;
    xprt_set_owner(&up->x, &up_sendq, t);
}

/* sendq's hooks: request bytes went out, and a batched send finished so
 * the request can go on. */
static void up_sent(void *owner, size_t bytes)
{
    struct txn *t = owner;
    (void)bytes;
    t->sent_any = 1;
    t->last_activity = ev_now(t->w->loop);
}

static void up_woke(void *owner)
{
    struct txn *t = owner;
    t->sink->proceed(t->sink_ctx);
}

static const struct sendq_ops up_sendq = {up_sent, up_woke};

/* The pool's TLS to its servers in this request's generation. */
static struct upstream_tls pool_tls(const struct txn *t)
{
    struct upstream_tls tls = {0};
    size_t i = (size_t)(t->pool - t->rt->pools);
    if (t->rt->tls && i < t->rt->tls->npools && t->rt->tls->pool[i]) {
        tls.ctx = t->rt->tls->pool[i];
        tls.sni = t->pool->cfg->tls.sni;
        tls.verify = t->pool->cfg->tls.verify;
    }
    return tls;
}

/* send-proxy: the server takes the PROXY header as the client of the
 * whole connection, so a connection carries one client's requests only
 * and is never pooled (HAProxy marks such connections private).  Reusing
 * one for "the same client address" would give a second connection from
 * that address the first one's source port: behind a carrier-grade NAT
 * the port is what tells subscribers apart, and the backends' logs would
 * blame the wrong one.  The cost is one connect per request to servers
 * that asked for the header. */
static int send_proxy(const struct txn *t)
{
    return t->pool->cfg->send_proxy;
}

static int up_start(struct txn *t)
{

    /* A request that must not be replayed takes only a young idle
     * connection (upstream.h): the server's idle close cannot race it. */
    uint64_t max_idle = http_method_idempotent(t->method) ? UPSTREAM_ANY_AGE : upstream_reuse_window_ms(t->srv);
    struct upstream_tls tls = pool_tls(t);
    /* A connection idle from before a reload turned send-proxy on has
     * no header: never taken then either. */
    t->up = t->fresh_conn || send_proxy(t) ? NULL : upstream_take_idle(t->w, t->srv, max_idle, &tls);
    if (t->up) {
        attach_upstream(t);
        return 0;
    }
    t->up = upstream_connect(t->w, t->srv, &tls);
    if (!t->up)
        return -1;
    attach_upstream(t);
    return 1;
}

static void up_abort(struct txn *t)
{
    upstream_close(t->up);
    t->up = NULL;
}

static int up_may_have_reached(const struct txn *t)
{
    return t->sent_any || (t->up && xprt_send_pending(&t->up->x));
}

static void up_done(struct txn *t, int reuse)
{
    if (reuse && !send_proxy(t))
        upstream_park(t->up);
    else
        upstream_close(t->up);
    t->up = NULL;
}


/* ---- the server side --------------------------------------------------------------------- */

/* A server whose certificate does not verify fails every request the same
 * way: said once a second per worker, not per request. */
static void warn_tls_failure(const struct txn *t, const char *why)
{
    static _Thread_local double last;
    double now = ev_now(t->w->loop);
    if (now - last < 1.0)
        return;
    last = now;
    log_warnx("%s/%s %s", t->pool->cfg->name, t->srv->name, why);
}

static void up_read(struct txn *t);

/* The server will take no more of the request: what is queued for it is
 * cancelled, the rest counts as sent, and the client is closed after its
 * answer. */
static void drop_rest_of_request(struct txn *t)
{
    t->close_after = 1;
    xprt_cancel(&t->up->x);
    t->in_sent = t->in_fwd;
}

static void up_send(struct txn *t)
{
    if (!t->up || t->in_sent >= t->in_fwd)
        return;
    if (xprt_send(&t->up->x, t->reqbuf->data, &t->in_sent, t->in_fwd) < 0) {
        if (t->phase == TXN_TUNNEL) {
            /* The server ended the session (a WebSocket closed from its
             * side) while the client still sends: the tunnel's end, as its
             * end of stream is (up_eof), not a failure of the server's -
             * counted as one, three such sessions took it down.  What the
             * client sends now has nowhere to go. */
            t->in_sent = t->in_fwd;
            t->close_after = 1;
            return;
        }
        /* A server that answers early and closes with the request unread
         * resets the connection: the reset cuts this send, and its answer
         * may be waiting to be read.  Read before judging (not after a
         * TLS failure: its reason is the one to give). */
        if (!t->resp_any && t->sent_any && t->phase == TXN_FORWARD && !xprt_tls_failure(&t->up->x)) {
            up_read(t);
            if (!t->up || t->phase != TXN_FORWARD)
                return; /* nothing was there: up_read's end of stream failed the attempt */
        }
        if (t->resp_any && t->phase == TXN_FORWARD) {
            /* The server answered before the request's end and stopped
             * reading it (an early 413 or 401, then its close): not a
             * failure of the server's.  The rest of the request has
             * nowhere to go; the client is closed after the answer. */
            t->resp_keep_alive = 0;
            drop_rest_of_request(t);
            return;
        }
        /* A reused connection that fails on its first write was closed by
         * the server while idle: not the server's fault. */
        int race = t->up->reused && !t->sent_any;
        const char *tls_failure = xprt_tls_failure(&t->up->x);
        if (tls_failure)
            warn_tls_failure(t, tls_failure);
        txn_attempt_failed(t, race ? "idle connection closed" : tls_failure ? tls_failure : "write error", !race,
                           502);
    }
}

static unsigned response_fields_max(const struct config *cfg)
{
    return cfg->limit_headers > 256 ? cfg->limit_headers : 256;
}

/* A complete final response head at rin[base..base+len): edit it in place. */
static int forward_response_head(struct txn *t, size_t base, struct http_head *h)
{
    /* An HTTP/1.0 client does not know chunked: the body is decoded and
     * the connection close ends it.  A sink that frames the body itself
     * (HTTP/2: DATA frames) takes it decoded too. */
    t->dechunk = (t->http10 || !(t->sink->caps & SINK_RAW_H1)) && h->chunked && h->has_body;
    /* An answer before the request's body is all in (a server's early 413
     * or 401) closes the client after it (request_complete): said in the
     * head, or a keep-alive client sends its next request into the close
     * (RFC 9110 10.1.1). */
    int client_close = !t->client_keep_alive || h->body_to_eof || t->w->stopping || !t->req_done ||
                       (t->req_upgrade && h->status != 101) || t->dechunk || t->client_eof;
    h->drop_te = t->dechunk;
    /* A chunked body whose trailer section goes on: as it came (HTTP/1.1),
     * the section is kept apart and rewritten without its hop-by-hop
     * fields (response_body); decoded for a sink that frames it (HTTP/2),
     * the sink sends the kept fields.  Within the bound of a head, and
     * without the fields the head's Connection names, which are read from
     * the head here, before its edit drops them. */
    if (h->chunked && h->has_body && (!t->dechunk || !(t->sink->caps & SINK_RAW_H1)) &&
        http_msg_keep_trailers(&t->resp, (uint32_t)t->rt->cfg->limit_response_header_size, t->rin->data + base,
                               h) < 0)
        return -1;
    char extra[TXN_HSTS_MAX];
    size_t extra_len = txn_hsts_line(t, extra, sizeof extra);
    size_t out_len = http_rewrite_response_with(t->rin->data + base, h, client_close, t->http10, extra, extra_len,
                                                txn_scratch_out, txn_scratch_out_cap);
    out_len = sticky_response(t, txn_scratch_out, out_len, txn_scratch_out_cap);
    if (out_len == 0 || t->rin->len - h->len + out_len > t->rin->cap)
        return -1;
    memmove(t->rin->data + base + out_len, t->rin->data + base + h->len, t->rin->len - base - h->len);
    memcpy(t->rin->data + base, txn_scratch_out, out_len);
    t->rin->len = t->rin->len - h->len + out_len;
    t->rin_fwd = base + out_len;
    t->status = h->status;
    t->close_after = t->close_after || client_close;
    t->resp_keep_alive = h->keep_alive && !h->body_to_eof;
    t->resp_head_done = 1;
    t->resp_sized = h->has_body && !h->chunked && !h->body_to_eof && !t->dechunk;
    t->resp_to_close = h->has_body && (h->body_to_eof || t->dechunk) && (t->sink->caps & SINK_RAW_H1);
    return 0;
}

/* Moves rin's bytes to a buffer of at least cap bytes, unless a send
 * still points into it: 0, or -1 when rin stays as it is. */
static int move_rin(struct txn *t, size_t cap)
{
    if (t->rin->cap >= cap)
        return 0;
    if (xprt_send_pending(t->sink->xprt(t->sink_ctx)))
        return -1;
    return buf_grow(&t->rin, cap);
}

/* A body larger than a small buffer is coming: move to a large one, so it
 * flows in a quarter of the reads and writes (the small one works too,
 * only slower). */
static void grow_rin(struct txn *t)
{
    (void)move_rin(t, BUF_LARGE);
}

/* trailer_relay's busy for a response: a send to the client points into rin. */
/* trailer_relay's question before it moves a buffer: a send queued for
 * this loop round (sendq) still points into it.  Sent now, as far as the
 * socket takes it, the buffer is free to move: answering "busy" made a
 * valid trailer section that needed a larger buffer a cut request (or
 * response), nothing answered. */
static int settle_then_pending(struct xprt *x)
{
    if (!xprt_send_pending(x))
        return 0;
    xprt_settle(x);
    return xprt_send_pending(x);
}

static int client_sending(const void *txn)
{
    const struct txn *t = txn;
    return settle_then_pending(t->sink->xprt(t->sink_ctx));
}

int upstream_h1_sending(const void *txn)
{
    const struct txn *t = txn;
    return t->up && settle_then_pending(&t->up->x);
}

static void response_body(struct txn *t)
{
    size_t consumed;

    if (t->resp_done || t->rin_fwd >= t->rin->len)
        return;
    enum http_body_status rc;
    if (t->dechunk) {
        size_t produced;
        char *at = t->rin->data + t->rin_fwd;
        rc = http_msg_body_dechunk(&t->resp, at, t->rin->len - t->rin_fwd, &consumed, &produced);
        if (rc < 0) {
            /* The bytes decoded before the fault go to the client before
             * the cut; what follows them is never sent (consumed is 0
             * then: moving the rest behind the decoded bytes would write
             * past the buffer). */
            t->rin->len = t->rin_fwd + produced;
        } else {
            /* Close the gap the framing left between the decoded bytes and
             * whatever follows the consumed part. */
            memmove(at + produced, at + consumed, t->rin->len - t->rin_fwd - consumed);
            t->rin->len -= consumed - produced;
        }
        t->rscanned = 0;
        consumed = produced;
    } else if (t->resp.keep_trailers) {
        /* The body bytes before a faulty section (over the limit,
         * malformed) were valid: they go to the client before the cut,
         * the section does not. */
        rc = trailer_relay_section(&t->resp, &t->rin, t->rin_fwd, &consumed, client_sending, t, NULL);
        t->rscanned = 0; /* the section's bytes moved out of rin and back */
        if (rc == HTTP_BODY_NO_ROOM) {
            log_info("response from %s/%s: a trailer section that does not fit a buffer", t->pool->cfg->name,
                     t->srv->name);
            rc = HTTP_BODY_INVALID;
        }
    } else {
        rc = http_msg_body(&t->resp, t->rin->data + t->rin_fwd, t->rin->len - t->rin_fwd, &consumed);
    }
    t->rin_fwd += consumed;
    if (rc == HTTP_BODY_DONE) {
        txn_response_end(t);
    } else if (rc < 0) {
        /* Invalid framing after the head went out: cut the client off
         * after what was valid, and never reuse that server connection.
         * A trailer section over limit response-header-size is one, a
         * folded one (obs-fold) another, whatever the client speaks. */
        if (rc == HTTP_BODY_TOO_LARGE)
            log_info("response from %s/%s: trailers over %zu KiB (limit response-header-size)", t->pool->cfg->name,
                     t->srv->name, t->rt->cfg->limit_response_header_size / 1024);
        else if (rc == HTTP_BODY_FOLDED)
            log_info("response from %s/%s: a folded trailer line (obs-fold)", t->pool->cfg->name, t->srv->name);
        t->resp_keep_alive = 0;
        t->close_after = 1;
        t->resp_done = 1;
        txn_mark_cut(t, TXN_CUT_SERVER);
        if (trailer_relay_section_fault(rc))
            t->resp_to_close = 0; /* the body was whole: for a client taking it decoded, the close ends it rightly */
        atomic_fetch_add_explicit(&t->srv->failures, 1, memory_order_relaxed);
    }
}

/* Parses what the server sent: interim 1xx heads, the final head, then the
 * body, advancing rin_fwd over what may go to the client. */
static void process_response(struct txn *t)
{
    const struct config *cfg = t->rt->cfg;

    while (!t->resp_head_done) {
        size_t base = t->rin_fwd;
        size_t end = http_head_end(t->rin->data + base, t->rin->len - base,
                                   t->rscanned > base ? t->rscanned - base : 0);
        if (end == 0) {
            t->rscanned = t->rin->len;
            if (t->rin->len - base >= cfg->limit_response_header_size)
                goto too_large;
            if (t->rin->len + EDIT_SLACK >= t->rin->cap)
                goto invalid; /* a head larger than a buffer */
            return;
        }
        if (end > cfg->limit_response_header_size)
            goto too_large;
        struct http_head h;
        memset(&h, 0, sizeof h);
        if (txn_scratch_reserve(response_fields_max(cfg), t->rin->cap) < 0)
            goto invalid;
        h.fields = txn_scratch_fields;
        h.max_fields = response_fields_max(cfg);
        if (http_parse_response(&t->resp, t->rin->data + base, end, t->method == HTTP_HEAD, &h) < 0)
            goto invalid;
        t->rscanned = base + end;
        if (h.status >= 100 && h.status < 200 && h.status != 101) {
            /* 100 Continue and friends: pass on, wait for the final head.
             * A few are normal (100, 103); a server that keeps sending
             * them gets its client a 502 after the ones relayed. */
            if (++t->interim > INTERIM_MAX) {
                atomic_fetch_add_explicit(&metrics.interim_over_limit, 1, memory_order_relaxed);
                goto invalid;
            }
            if (t->http10) {
                /* Never to an HTTP/1.0 client (RFC 9110 15.2): dropped, the
                 * bytes after it moved up (none of them is queued yet). */
                memmove(t->rin->data + base, t->rin->data + base + end, t->rin->len - base - end);
                t->rin->len -= end;
                t->rscanned = base;
                continue;
            }
            t->rin_fwd = base + end;
            continue;
        }
        if (h.status == 101 && (!t->req_upgrade || http_upgrade_names_h2c(t->rin->data + base, &h)))
            goto invalid; /* unasked, or to h2c (a request may offer it beside another) */
        if (forward_response_head(t, base, &h) < 0)
            goto invalid;
        txn_response_head(t);
        if (h.status == 101) {
            t->phase = TXN_TUNNEL;
            /* A tunnel ends by the two sides' ends of stream, nothing else:
             * a client FIN that came before the 101 is passed on as a
             * half-close, and the server's bytes after it still go back. */
            t->close_after = 0;
            t->rin_fwd = t->rin->len;
            t->in_fwd = t->reqbuf->len;
            t->resp_keep_alive = 0;
            return;
        }
        if (!h.has_body)
            txn_response_end(t);
        else if (!h.content_length || h.content_length > BUF_SIZE)
            grow_rin(t);
    }
    if (t->phase == TXN_TUNNEL) {
        t->rin_fwd = t->rin->len;
        return;
    }
    if (!t->resp_done)
        response_body(t);
    return;
invalid:
    atomic_fetch_add_explicit(&t->srv->failures, 1, memory_order_relaxed);
    log_info("invalid response from %s/%s", t->pool->cfg->name, t->srv->name);
    txn_respond_error(t, 502); /* after the interim heads relayed, if any */
    return;
too_large:
    /* The server answered; its answer was too big: not a failure of its. */
    log_info("response from %s/%s: head over %zu KiB (limit response-header-size)", t->pool->cfg->name,
             t->srv->name, cfg->limit_response_header_size / 1024);
    txn_respond_error(t, 502);
}

static void up_eof(struct txn *t, int err)
{

    if (t->phase == TXN_TUNNEL) {
        /* The server's end of stream goes to the client as a half-close
         * once its bytes are through (the sink's driver), and the client may
         * still send; a reset ends the tunnel. */
        t->resp_done = 1;
        if (err)
            t->close_after = 1;
        return;
    }
    if (!t->resp_any) {
        /* Nothing came back.  A reused connection closed under us is the
         * keep-alive race, not a failure of the server. */
        int race = t->up->reused;
        txn_attempt_failed(t, race ? "idle connection closed" : (err ? "connection reset" : "connection closed"),
                           !race, 502);
        return;
    }
    /* A body delimited by the close ends with a FIN; a reset in its middle
     * (a server that crashed) is the only sign it was cut, and passing it
     * on as an end would hand the client, or a cache, a short body as
     * whole. */
    if (!err && t->resp_head_done && !t->resp_done && http_msg_eof(&t->resp)) {
        txn_response_end(t);
        t->resp_keep_alive = 0;
        return;
    }
    if (t->resp_done) {
        /* Closed, or reset, after a whole response (one that came before
         * the request's end: its rest left unread): no failure. */
        t->resp_keep_alive = 0;
        return;
    }
    /* Cut short: a 502 if the client has seen nothing, else a cut. */
    atomic_fetch_add_explicit(&t->srv->failures, 1, memory_order_relaxed);
    t->resp_keep_alive = 0;
    if (!t->resp_head_done) {
        txn_respond_error(t, 502);
        return;
    }
    t->resp_done = 1;
    t->req_done = 1;
    txn_mark_cut(t, TXN_CUT_SERVER);
    drop_rest_of_request(t);
}

static int splice_soon(const struct txn *t);

static void up_read(struct txn *t)
{
    /* A buffer that holds the largest head allowed, and room to edit it. */
    size_t want = t->rt->cfg->limit_response_header_size + EDIT_SLACK;
    if (!t->rin && !(t->rin = buf_get(want > BUF_SIZE ? want : BUF_SIZE))) {
        txn_respond_error(t, 502);
        return;
    }
    if (splice_soon(t))
        return;
    for (;;) {
        size_t space = txn_read_room(t->rin);
        if (space == 0)
            return;
        ssize_t n = xprt_recv(&t->up->x, t->rin->data + t->rin->len, space);
        if (n > 0) {
            t->rin->len += (size_t)n;
            t->resp_any = 1;
            t->last_activity = ev_now(t->w->loop);
            process_response(t);
            return;
        }
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
            return;
        up_eof(t, n < 0);
        return;
    }
}

static void splice_in(struct txn *t);

/* The client's address and the one it connected to (after a PROXY
 * header of its own, the ones that header gave). */
static int send_proxy_header(struct txn *t)
{
    const struct sockaddr *src = NULL, *dst = NULL;

    if (t->client) {
        src = (const struct sockaddr *)&t->client->peer;
        dst = conn_local_addr(t->client);
    }
    return upstream_send_proxy_header(t->up, send_proxy(t), src, dst);
}

static void server_io_cb(struct ev_loop *loop, ev_io *io, int revents)
{
    struct txn *t = io->data;
    (void)loop;

    revents = xprt_ready_events(&t->up->x, revents);
    if (t->phase == TXN_CONNECT) {
        int err = xprt_connect_error(&t->up->x);
        if (err) {
            char reason[96];
            snprintf(reason, sizeof reason, "connect error: %s", strerror(err));
            txn_attempt_failed(t, reason, 1, 502);
            t->sink->proceed(t->sink_ctx);
            return;
        }
        if (send_proxy(t) && send_proxy_header(t) < 0) {
            char reason[96];
            snprintf(reason, sizeof reason, "send-proxy: %s", strerror(errno));
            txn_attempt_failed(t, reason, 1, 502);
            t->sink->proceed(t->sink_ctx);
            return;
        }
        txn_connected(t);
    }
    int moving = t->phase == TXN_FORWARD || t->phase == TXN_TUNNEL;
    if ((revents & EV_WRITE) && moving)
        up_send(t);
    if ((revents & EV_READ) && t->up && (t->phase == TXN_FORWARD || t->phase == TXN_TUNNEL)) {
        if (t->splicing)
            splice_in(t);
        else
            up_read(t);
    }
    t->sink->proceed(t->sink_ctx); /* may free t */
}

/* ---- zero-copy bodies ----------------------------------------------------------------- */

/* Below this, the buffers move a body as cheaply as a pipe would. */
#define SPLICE_MIN (64 * 1024)

/* Set once if the kernel refuses splice on sockets; read by every worker. */
static atomic_int splice_disabled;

/* The rest of this response's body is large and framed by Content-Length
 * (llhttp counts down what is left of it): it can go by splice once the
 * buffered part has gone to the client. */
static int body_spliceable(const struct txn *t)
{
    return !atomic_load_explicit(&splice_disabled, memory_order_relaxed) && !t->splicing && t->resp_head_done && !t->resp_done &&
           t->resp_sized && t->rin && t->resp.parser.content_length >= SPLICE_MIN;
}

/* Reading more into the buffer meanwhile would put splicing off (a batched
 * send leaves the buffer unflushed until the end of the round, and the rest
 * of a 1 MiB body then went through user space, at 1.6x the CPU). */
static int splice_soon(const struct txn *t)
{
    return body_spliceable(t) && t->rin_sent < t->rin->len;
}

/* Switches a large Content-Length body to splice(2) once the buffered
 * part has gone out, and starts moving it. */
static void up_splice(struct txn *t)
{
    if (t->splicing || t->phase != TXN_FORWARD || !t->up || !(t->sink->caps & SINK_SPLICE) ||
        !body_spliceable(t) || !xprt_can_splice(&t->up->x, t->sink->xprt(t->sink_ctx)) ||
        t->rin_sent != t->rin->len || splice_pipe_get(&t->pipe) < 0)
        return;
    t->splicing = 1;
    t->splice_left = t->resp.parser.content_length;
    splice_in(t);
}

static void splice_failed(struct txn *t, int err)
{
    if (err == EINVAL && t->pipe.held == 0 && t->splice_left == t->resp.parser.content_length) {
        /* Nothing moved yet: go on with the buffers, and do not try again. */
        atomic_store_explicit(&splice_disabled, 1, memory_order_relaxed);
        t->splicing = 0;
        splice_pipe_put(&t->pipe);
        return;
    }
    atomic_fetch_add_explicit(&t->srv->failures, 1, memory_order_relaxed);
    t->resp_keep_alive = 0;
    t->phase = TXN_DONE;
    txn_mark_cut(t, TXN_CUT_SERVER); /* the server ended the body early */
    t->sink->reset(t->sink_ctx);
}

static void splice_in(struct txn *t)
{

    while (t->splice_left > 0) {
        ssize_t n = xprt_splice_in(&t->up->x, &t->pipe, t->splice_left);
        if (n > 0) {
            t->splice_left -= (uint64_t)n;
            t->last_activity = ev_now(t->w->loop);
            continue;
        }
        if (n < 0 && errno == EAGAIN)
            break;
        if (n < 0 && errno == EINTR)
            continue;
        /* The server closed before the body ended: a cut the client sees. */
        splice_failed(t, n < 0 ? errno : 0);
        return;
    }
    txn_response_body(t); /* the pipe holds body bytes */
}

/* ---- what the driver asks ---------------------------------------------------------------- */

/* What the server connection waits for next. */
static void up_want(struct txn *t)
{
    int uev = 0;

    if (!t->up)
        return;
    if (t->phase == TXN_CONNECT) {
        uev = EV_WRITE;
    } else if (t->phase == TXN_FORWARD || t->phase == TXN_TUNNEL) {
        if (t->splicing) {
            if (t->splice_left && t->pipe.held < t->pipe.cap)
                uev |= EV_READ;
        } else if (!t->resp_done && (!t->rin || t->rin->len + EDIT_SLACK < t->rin->cap) && !splice_soon(t)) {
            uev |= EV_READ;
        }
        if (t->in_sent < t->in_fwd && !xprt_send_pending(&t->up->x))
            uev |= EV_WRITE;
    }
    conn_io_want(t->w->loop, &t->up->io, &t->up->x, uev);
}

/* Tunnel: the client's half-close, once everything it sent went first. */
static void up_half_close(struct txn *t)
{
    if (!t->up_shut && t->in_sent == t->in_fwd && !xprt_send_pending(&t->up->x)) {
        xprt_shutdown_write(&t->up->x);
        t->up_shut = 1;
    }
}

const struct txn_upstream_ops upstream_h1_ops = {
    .start = up_start,
    .abort = up_abort,
    .may_have_reached = up_may_have_reached,
    .done = up_done,
    .send = up_send,
    .splice = up_splice,
    .half_close = up_half_close,
    .want = up_want,
};

