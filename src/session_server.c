/*
 * session_server: the server half of a session - choosing a server (or
 * queueing), connecting, retrying on another server, forwarding the
 * request from the client's buffer, and reading, editing and relaying the
 * response (see session_priv.h).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "balance.h"
#include "health.h"
#include "log.h"
#include "metrics.h"
#include "session.h"
#include "session_priv.h"
#include "upstream.h"
#include "worker.h"

/* ---- choosing and connecting to a server --------------------------------------------------- */

static void queue_wake(struct queue_waiter *qw);

/* 503 when no server could take the request; after failed attempts the
 * client learns how the last one failed (502, or 504 for a timeout). */
static void fail_no_server(struct session *s)
{
    sess_respond_error(s, s->t->last_failure ? s->t->last_failure : 503);
}

static void server_io_cb(struct ev_loop *loop, ev_io *io, int revents);

/* The session takes the connection's watcher over (an idle one keeps its
 * epoll registration; only the callback changes). */
static void attach_upstream(struct session *s)
{
    struct upstream_conn *up = s->t->up;
    ev_set_cb(&up->io, server_io_cb);
    up->io.data = s;
    xprt_set_owner(&up->x, &sess_upstream_sendq, s);
}

/* The server connection is established: forward the request. */
static void upstream_connected(struct session *s)
{
    struct txn *t = s->t;
    t->t_connected = ev_now(s->c.w->loop);
    s->state = SESS_FORWARD;
    s->last_activity = ev_now(s->c.w->loop);
    sess_client_progress(s);
    conn_timer_set(&s->c, sess_forward_check_ms(sess_cfg(s)));
}

/* Picks a server and starts talking to it, or queues, or answers 503. */
void sess_start_server(struct session *s)
{
    struct txn *t = s->t;
    const struct config_pool *pc = t->pool->cfg;
    int result;
    uint64_t now = now_ms(); /* the clock of up_since_ms (slow start) */
    int was_queued = s->state == SESS_QUEUED;

    /* A reload while it waited: pick among the pool's servers as they are
     * now (the queue is the pool's, shared by the generations). */
    if (was_queued && t->rt != s->c.w->rt) {
        struct pool *now_pool = runtime_find_pool(s->c.w->rt, t->pool->cfg->name);
        if (now_pool && now_pool->shared == t->pool->shared) {
            runtime_ref(s->c.w->rt);
            runtime_release(t->rt);
            t->rt = s->c.w->rt;
            t->pool = now_pool;
            pc = now_pool->cfg;
        }
    }

    t->srv = balance_pick(t->pool, now, t->tried, t->ntried, was_queued, &result);
    if (!t->srv && result == PICK_FULL) {
        t->qw.wake = queue_wake;
        int first = balance_queue(t->pool->shared, &t->qw, pc->max_queue, was_queued);
        if (first < 0) {
            fail_no_server(s);
            return;
        }
        /* A slot freed since the pick may have woken nobody. */
        if (first)
            t->srv = balance_pick(t->pool, now, t->tried, t->ntried, 1, &result);
        if (!t->srv && result == PICK_FULL) {
            if (!was_queued) {
                s->state = SESS_QUEUED;
                conn_timer_set(&s->c, sess_cfg(s)->timeout_queue_ms);
            }
            return;
        }
        balance_dequeue(t->pool->shared, &t->qw); /* served now, or by nobody */
    }
    if (!t->srv) {
        fail_no_server(s);
        return;
    }
    atomic_fetch_add_explicit(&t->srv->requests, 1, memory_order_relaxed);
    t->attempts++;
    if (t->ntried < MAX_TRIES)
        t->tried[t->ntried++] = t->srv;

    /* A request that must not be replayed takes only a young idle
     * connection (upstream.h): the server's idle close cannot race it. */
    uint64_t max_idle = http_method_idempotent(t->method) ? UPSTREAM_ANY_AGE : upstream_reuse_window_ms(t->srv);
    t->up = t->fresh_conn ? NULL : upstream_take_idle(s->c.w, t->srv, max_idle);
    if (t->up) {
        attach_upstream(s);
        upstream_connected(s);
    } else {
        t->up = upstream_connect(s->c.w, t->srv);
        if (!t->up) {
            if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM) {
                /* Out of descriptors or memory here: not the server's fault,
                 * and no other server would fare better. */
                log_warn("connecting to %s/%s", t->pool->cfg->name, t->srv->name);
                sess_respond_error(s, 503);
                return;
            }
            /* Immediate refusal: try elsewhere like an asynchronous one. */
            s->state = SESS_CONNECT;
            return; /* sess_step notices up == NULL */
        }
        attach_upstream(s);
        s->state = SESS_CONNECT;
        conn_timer_set(&s->c, sess_cfg(s)->timeout_connect_ms);
    }
}

static void queue_wake(struct queue_waiter *qw)
{
    struct txn *t = (struct txn *)((char *)qw - offsetof(struct txn, qw));
    struct session *s = t->s;

    if (s->state != SESS_QUEUED)
        return;
    sess_start_server(s);
    sess_step(s);
}

/* Called when the attempt on t->srv failed before any response byte.
 * `counts` says whether it is the server's fault (a reused connection the
 * server had closed is not).  Tries another server when allowed. */
void sess_attempt_failed(struct session *s, const char *reason, int counts, int status)
{
    struct txn *t = s->t;
    struct server *srv = t->srv;
    int retry_same = !counts;
    /* A send still queued may yet reach the server: it counts as sent. */
    int may_have_reached = t->sent_any || (t->up && xprt_send_pending(&t->up->x));

    if (t->up) {
        upstream_close(t->up);
        t->up = NULL;
    }
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
        t->ntried--;
        t->attempts--;
        t->fresh_conn = 1;
    } else if (!may_replay || t->attempts > t->pool->cfg->retries) {
        log_debug("request failed on %s/%s: %s", t->pool->cfg->name, srv->name, reason);
        sess_respond_error(s, status);
        return;
    }
    t->in_sent = 0;
    t->sent_any = 0;
    t->last_failure = (uint16_t)status;
    s->state = SESS_FORWARD; /* not QUEUED: a retry does not wait behind the queue */
    sess_start_server(s);
}

void sess_server_down(struct conn *c)
{
    struct session *s = (struct session *)c;
    struct txn *t = s->t;

    if (!t || !t->srv || t->resp_any || !t->pool->cfg->on_down_shutdown ||
        (s->state != SESS_CONNECT && s->state != SESS_FORWARD) ||
        atomic_load_explicit(&t->srv->state, memory_order_acquire) != SRV_DOWN)
        return;
    /* Another server if the request may go twice (or never left), else
     * 502 now rather than at timeout server. */
    sess_attempt_failed(s, "server marked down", 1, 502);
    sess_step(s);
}

/* ---- the server side --------------------------------------------------------------------- */

void sess_flush_upstream(struct session *s)
{
    struct txn *t = s->t;

    if (!t->up || t->in_sent >= t->in_fwd)
        return;
    if (xprt_send(&t->up->x, s->in->data, &t->in_sent, t->in_fwd) < 0) {
        /* A reused connection that fails on its first write was closed by
         * the server while idle: not the server's fault. */
        int race = t->up->reused && !t->sent_any;
        sess_attempt_failed(s, race ? "idle connection closed" : "write error", !race, 502);
    }
}

/* Makes room in s->in while a request body streams through it.  Dropping
 * bytes already sent means the request can no longer be replayed. */
void sess_compact_in(struct session *s)
{
    struct txn *t = s->t;
    if (!s->in || t->req_done || t->in_sent == 0 || t->in_sent < t->in_fwd)
        return;
    if (s->in->len + EDIT_SLACK < s->in->cap && t->in_sent < s->in->cap / 2)
        return;
    buf_consume(s->in, t->in_sent);
    t->in_fwd -= t->in_sent;
    t->in_sent = 0;
    t->replayable = 0;
}

/* Same on the response side, once the client took what was sent (and not
 * while a queued send points into the buffer). */
static void compact_rin(struct session *s)
{
    struct txn *t = s->t;
    if (!t->rin || t->rin_sent == 0 || xprt_send_pending(&s->c.x))
        return;
    if (t->rin_sent < t->rin->len && t->rin->len + EDIT_SLACK < t->rin->cap)
        return;
    buf_consume(t->rin, t->rin_sent);
    t->rin_fwd -= t->rin_sent;
    t->rscanned = t->rscanned > t->rin_sent ? t->rscanned - t->rin_sent : 0;
    t->rin_sent = 0;
}

void sess_flush_client(struct session *s)
{
    struct txn *t = s->t;
    if (t && t->splicing) {
        sess_splice_out(s);
        return;
    }
    if (!t || !t->rin)
        return;
    if (xprt_send(&s->c.x, t->rin->data, &t->rin_sent, t->rin_fwd) < 0) {
        sess_mark_closed(s);
        return;
    }
    /* Also after a batched send finished, which wrote outside this call. */
    compact_rin(s);
}

static unsigned response_fields_max(const struct config *cfg)
{
    return cfg->limit_headers > 256 ? cfg->limit_headers : 256;
}

/* A complete final response head at rin[base..base+len): edit it in place. */
static int forward_response_head(struct session *s, size_t base, struct http_head *h)
{
    struct txn *t = s->t;
    /* An HTTP/1.0 client does not know chunked: the body is decoded and
     * the connection close ends it. */
    t->dechunk = t->http10 && h->chunked && h->has_body;
    int client_close = !t->client_keep_alive || h->body_to_eof || s->c.w->stopping ||
                       (t->req_upgrade && h->status != 101) || t->dechunk || s->client_eof;
    h->drop_te = t->dechunk;
    size_t out_len = http_rewrite_response(t->rin->data + base, h, client_close, t->http10,
                                           sess_scratch_out, sess_scratch_out_cap);
    if (out_len == 0 || t->rin->len - h->len + out_len > t->rin->cap)
        return -1;
    memmove(t->rin->data + base + out_len, t->rin->data + base + h->len, t->rin->len - base - h->len);
    memcpy(t->rin->data + base, sess_scratch_out, out_len);
    t->rin->len = t->rin->len - h->len + out_len;
    t->rin_fwd = base + out_len;
    t->status = h->status;
    t->close_after = t->close_after || client_close;
    t->resp_keep_alive = h->keep_alive && !h->body_to_eof;
    t->resp_head_done = 1;
    t->resp_sized = h->has_body && !h->chunked && !h->body_to_eof && !t->dechunk;
    t->t_head = ev_now(s->c.w->loop);
    return 0;
}

/* A body larger than a small buffer is coming: move to a large one, so it
 * flows in a quarter of the reads and writes. */
static void grow_rin(struct session *s)
{
    struct txn *t = s->t;
    if (t->rin->cap >= BUF_LARGE || xprt_send_pending(&s->c.x))
        return;
    struct buf *big = buf_get(BUF_LARGE);
    if (!big)
        return; /* the small one works, only slower */
    memcpy(big->data, t->rin->data, t->rin->len);
    big->len = t->rin->len;
    buf_put(t->rin);
    t->rin = big;
}

static void response_body(struct session *s)
{
    struct txn *t = s->t;
    size_t consumed;

    if (t->resp_done || t->rin_fwd >= t->rin->len)
        return;
    int rc;
    if (t->dechunk) {
        size_t produced;
        char *at = t->rin->data + t->rin_fwd;
        rc = http_msg_body_dechunk(&t->resp, at, t->rin->len - t->rin_fwd, &consumed, &produced);
        /* Close the gap the framing left between the decoded bytes and
         * whatever follows the consumed part. */
        memmove(at + produced, at + consumed, t->rin->len - t->rin_fwd - consumed);
        t->rin->len -= consumed - produced;
        t->rscanned = 0;
        consumed = produced;
    } else {
        rc = http_msg_body(&t->resp, t->rin->data + t->rin_fwd, t->rin->len - t->rin_fwd, &consumed);
    }
    t->rin_fwd += consumed;
    if (rc == 1) {
        t->resp_done = 1;
    } else if (rc < 0) {
        /* Invalid framing after the head went out: cut the client off
         * after what was valid, and never reuse that server connection. */
        t->resp_keep_alive = 0;
        t->close_after = 1;
        t->resp_done = 1;
        atomic_fetch_add_explicit(&t->srv->failures, 1, memory_order_relaxed);
    }
}

/* Parses what the server sent: interim 1xx heads, the final head, then the
 * body, advancing rin_fwd over what may go to the client. */
static void sess_process_response(struct session *s)
{
    struct txn *t = s->t;
    const struct config *cfg = sess_cfg(s);

    while (!t->resp_head_done) {
        size_t base = t->rin_fwd;
        size_t end = http_head_end(t->rin->data + base, t->rin->len - base,
                                   t->rscanned > base ? t->rscanned - base : 0);
        if (end == 0) {
            t->rscanned = t->rin->len;
            if (t->rin->len + EDIT_SLACK >= t->rin->cap)
                goto invalid; /* a head larger than a buffer */
            return;
        }
        struct http_head h;
        memset(&h, 0, sizeof h);
        if (sess_scratch_reserve(response_fields_max(cfg), t->rin->cap) < 0)
            goto invalid;
        h.fields = sess_scratch_fields;
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
            t->rin_fwd = base + end;
            continue;
        }
        if (h.status == 101 && !t->req_upgrade)
            goto invalid;
        if (forward_response_head(s, base, &h) < 0)
            goto invalid;
        if (h.status == 101) {
            s->state = SESS_TUNNEL;
            /* A tunnel ends by the two sides' ends of stream, nothing else:
             * a client FIN that came before the 101 is passed on as a
             * half-close, and the server's bytes after it still go back. */
            t->close_after = 0;
            t->rin_fwd = t->rin->len;
            t->in_fwd = s->in->len;
            t->resp_keep_alive = 0;
            return;
        }
        if (!h.has_body)
            t->resp_done = 1;
        else if (!h.content_length || h.content_length > BUF_SIZE)
            grow_rin(s);
    }
    if (s->state == SESS_TUNNEL) {
        t->rin_fwd = t->rin->len;
        return;
    }
    if (!t->resp_done)
        response_body(s);
    return;
invalid:
    atomic_fetch_add_explicit(&t->srv->failures, 1, memory_order_relaxed);
    log_info("invalid response from %s/%s", t->pool->cfg->name, t->srv->name);
    sess_respond_error(s, 502); /* after the interim heads relayed, if any */
}

static void sess_upstream_eof(struct session *s, int err)
{
    struct txn *t = s->t;

    if (s->state == SESS_TUNNEL) {
        /* The server's end of stream goes to the client as a half-close
         * once its bytes are through (sess_step), and the client may
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
        sess_attempt_failed(s, race ? "idle connection closed" : (err ? "connection reset" : "connection closed"),
                       !race, 502);
        return;
    }
    if (t->resp_head_done && !t->resp_done && http_msg_eof(&t->resp)) {
        t->resp_done = 1; /* a body delimited by the close */
        t->resp_keep_alive = 0;
        return;
    }
    /* Cut short: a 502 if the client has seen nothing, else a cut. */
    atomic_fetch_add_explicit(&t->srv->failures, 1, memory_order_relaxed);
    t->resp_keep_alive = 0;
    if (!t->resp_head_done) {
        sess_respond_error(s, 502);
        return;
    }
    t->close_after = 1;
    t->resp_done = 1;
    t->req_done = 1;
    xprt_cancel(&t->up->x); /* the rest of the request has nowhere to go */
    t->in_sent = t->in_fwd;
}

static void sess_upstream_read(struct session *s)
{
    struct txn *t = s->t;

    if (!t->rin && !(t->rin = buf_get(BUF_SIZE))) {
        sess_respond_error(s, 502);
        return;
    }
    if (sess_splice_soon(t))
        return;
    for (;;) {
        size_t space = t->rin->cap - EDIT_SLACK - t->rin->len;
        if (space == 0)
            return;
        ssize_t n = xprt_recv(&t->up->x, t->rin->data + t->rin->len, space);
        if (n > 0) {
            t->rin->len += (size_t)n;
            t->resp_any = 1;
            s->last_activity = ev_now(s->c.w->loop);
            sess_process_response(s);
            return;
        }
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
            return;
        sess_upstream_eof(s, n < 0);
        return;
    }
}

static void server_io_cb(struct ev_loop *loop, ev_io *io, int revents)
{
    struct session *s = io->data;
    struct txn *t = s->t;
    (void)loop;

    if (s->state == SESS_CONNECT) {
        int err = xprt_connect_error(&t->up->x);
        if (err) {
            char reason[96];
            snprintf(reason, sizeof reason, "connect error: %s", strerror(err));
            sess_attempt_failed(s, reason, 1, 502);
            sess_step(s);
            return;
        }
        upstream_connected(s);
    }
    if ((revents & EV_WRITE) && (s->state == SESS_FORWARD || s->state == SESS_TUNNEL))
        sess_flush_upstream(s);
    if ((revents & EV_READ) && s->t && s->t->up && (s->state == SESS_FORWARD || s->state == SESS_TUNNEL)) {
        if (s->t->splicing)
            sess_splice_in(s);
        else
            sess_upstream_read(s);
    }
    sess_step(s);
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
int sess_splice_soon(const struct txn *t)
{
    return body_spliceable(t) && t->rin_sent < t->rin->len;
}

void sess_try_splice(struct session *s)
{
    struct txn *t = s->t;

    if (!t || s->state != SESS_FORWARD || !t->up || !body_spliceable(t) || !xprt_can_splice(&t->up->x, &s->c.x) ||
        t->rin_sent != t->rin->len || splice_pipe_get(&t->pipe) < 0)
        return;
    t->splicing = 1;
    t->splice_left = t->resp.parser.content_length;
}

static void splice_failed(struct session *s, int err)
{
    struct txn *t = s->t;
    if (err == EINVAL && t->pipe.held == 0 && t->splice_left == t->resp.parser.content_length) {
        /* Nothing moved yet: go on with the buffers, and do not try again. */
        atomic_store_explicit(&splice_disabled, 1, memory_order_relaxed);
        t->splicing = 0;
        splice_pipe_put(&t->pipe);
        return;
    }
    atomic_fetch_add_explicit(&t->srv->failures, 1, memory_order_relaxed);
    t->resp_keep_alive = 0;
    sess_mark_closed(s);
}

void sess_splice_in(struct session *s)
{
    struct txn *t = s->t;

    while (t->splice_left > 0) {
        ssize_t n = xprt_splice_in(&t->up->x, &t->pipe, t->splice_left);
        if (n > 0) {
            t->splice_left -= (uint64_t)n;
            s->last_activity = ev_now(s->c.w->loop);
            continue;
        }
        if (n < 0 && errno == EAGAIN)
            break;
        if (n < 0 && errno == EINTR)
            continue;
        /* The server closed before the body ended: a cut the client sees. */
        splice_failed(s, n < 0 ? errno : 0);
        return;
    }
    sess_splice_out(s);
}

void sess_splice_out(struct session *s)
{
    struct txn *t = s->t;

    while (t->pipe.held > 0) {
        ssize_t n = xprt_splice_out(&s->c.x, &t->pipe);
        if (n > 0) {
            t->bytes_out += (uint64_t)n;
            s->last_activity = ev_now(s->c.w->loop);
            sess_client_progress(s);
            continue;
        }
        if (n < 0 && errno == EAGAIN)
            break;
        if (n < 0 && errno == EINTR)
            continue;
        sess_mark_closed(s); /* the client is gone */
        return;
    }
    if (t->splice_left == 0 && t->pipe.held == 0)
        t->resp_done = 1;
}
