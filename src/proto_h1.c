/*
 * proto_h1: the HTTP/1 protocol over a client connection (h1_proto, chosen
 * by conn.c) - request heads, pipelining, keep-alive, the lingering close
 * after an error, the tunnel after a 101, writing the response to the
 * client (and splicing a body out of the pipe) - and the txn's stream sink
 * for HTTP/1 clients (raw HTTP/1: the response goes out as rin holds it).
 * One state machine per client connection; a `struct txn` holds what one
 * request in flight needs, so an idle keep-alive connection costs only a
 * small `struct h1_session` and no buffers.
 *
 * Data flow: request bytes are read into s->in, the head is edited in place
 * and s->in is lent to the txn (t->reqbuf), whose server side writes
 * everything up to the end of the request (as llhttp frames it) from that
 * same buffer; response bytes are read into t->rin, edited in place, and
 * written to the client from it.  Bytes are forwarded, never rebuilt.
 *
 * Every watcher callback ends in h1_step(), the one place that works out
 * what each socket must wait for next and frees a finished session, so
 * nothing is freed under a callback that still uses it.
 */
#include "proto_h1.h"

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

#include "buf.h"
#include "clock.h"
#include "error_page.h"
#include "http.h"
#include "log.h"
#include "metrics.h"
#include "proto_h2.h"
#include "router.h"
#include "sendq.h"
#include "sticky_txn.h"
#include "trailer_relay.h"
#include "txn.h"
#include "upstream_h1.h"
#include "worker_ctx.h"
#include "xprt.h"

#define LINGER_MS 1000

/* The HTTP/1 connection's own states; where a request is (queued,
 * connecting, forwarding, tunnelling) is its txn's phase (txn.h). */
enum h1_state {
    H1_IDLE,        /* keep-alive: waiting for a request; no buffers held (timeout keep-alive) */
    H1_READ_HEAD,   /* receiving a request head (timeout client: 408) */
    H1_REQUEST,     /* a request handed to its txn (whose phase times it) */
    H1_ERROR,       /* sending a response made by the proxy, then closing */
    H1_CLOSED,      /* freed at the end of the current callback */
};

/* A client connection speaking HTTP/1: the conn (transport, watcher,
 * timer, address) first, so a conn of h1_proto is a session. */
struct h1_session {
    struct conn c;
    uint8_t state;
    unsigned client_eof : 1;
    unsigned lingering : 1;       /* answered, write side shut: discarding input until EOF */
    uint32_t scanned;             /* in: searched for the end of the head (in is at most BUF_LARGE) */
    struct buf *in;               /* request bytes; NULL while idle */
    struct txn *t;
};

/* The session's request is in phase `phase` of its txn. */
static inline int h1_in(const struct h1_session *s, int phase)
{
    return s->state == H1_REQUEST && s->t->phase == phase;
}

static void h1_step(struct h1_session *s);
static void h1_splice_out(struct h1_session *s);

static void request_complete(struct h1_session *s);
static const struct stream_sink h1_sink;
/* ---- helpers ------------------------------------------------------------------ */

static const struct config *h1_cfg(const struct h1_session *s)
{
    return s->t && s->t->rt ? s->t->rt->cfg : s->c.w->rt->cfg;
}

#define ROUTE_PATH_MAX 8192

void h1_cache_clear(void)
{
    txn_cache_clear();
    splice_pipe_cache_clear();
}

/* ---- lifecycle --------------------------------------------------------------- */

static void h1_mark_closed(struct h1_session *s)
{
    s->state = H1_CLOSED;
}

/* A cut response (also the sink's reset): a reset, not an end, if resp_to_close. */
static void h1_close_cut(void *ctx)
{
    struct h1_session *s = ctx;
    if (s->t && s->t->resp_to_close)
        xprt_abort_on_close(&s->c.x);
    h1_mark_closed(s);
}

/* h1_proto.release: what the session holds beyond its conn. */
static void h1_release(struct conn *c)
{
    struct h1_session *s = (struct h1_session *)c;

    /* A request that ends here (an error, a cut) is logged too; a response
     * not delivered whole says why (the server's cut was marked where it
     * happened). */
    struct txn *t = s->t;
    if (t && (t->status || (c->w->exiting && t->line[0]))) { /* a stop's cut before any answer: status "-" */
        int unsent = !t->resp_done || (t->rin && t->rin_sent < t->rin_fwd) || (t->splicing && t->pipe.held);
        if (t->aborted || unsent)
            txn_mark_cut(t, c->w->exiting ? TXN_CUT_SHUTDOWN : TXN_CUT_CLIENT);
        if (unsent && t->resp_to_close)
            xprt_abort_on_close(&c->x); /* a stop's cut: a FIN would end the body as whole */
        if (access_log_enabled())
            txn_access_log(t, ev_now(c->w->loop));
    }
    /* Bytes queued this round still go (the peer may have only half-closed,
     * as it did when each send was made at once), before rin goes. */
    xprt_settle(&c->x);
    txn_end(s->t);
    s->t = NULL;
    buf_put(s->in);
    s->in = NULL;
}

/* ---- proxy-made responses ------------------------------------------------------------ */

/* Answers the current request with `status` (a redirect to `location`
 * when given) and closes the client after (keeping the connection after an
 * error the server side caused is possible, but a client that just got a
 * 4xx from us may be out of sync).  Nothing more is read from the client. */
static void h1_respond(struct h1_session *s, int status, const char *location, size_t location_len)
{
    struct txn *t = s->t;

    if (!t || t->resp_head_done) {
        h1_close_cut(s); /* part of a response already went out: all we can do is close */
        return;
    }
    txn_leave_queue(t); /* a body over its limit while queued */
    if (t->up)
        t->uops->abort(t);
    xprt_settle(&s->c.x); /* a queued interim response goes before rin is rewritten */
    if (!t->rin && !(t->rin = buf_get(BUF_SIZE))) {
        h1_mark_closed(s);
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
    char hsts[TXN_HSTS_MAX];
    txn_hsts_line(t, hsts, sizeof hsts);
    size_t n = location ? http_redirect_response(status, location, location_len, t->rin->data + keep,
                                                 t->rin->cap - keep)
                        : error_page_write_with(h1_cfg(s), status, t->retry_after, hsts, &t->rin, keep);
    if (n == 0) {
        h1_mark_closed(s);
        return;
    }
    t->rin->len = keep + n;
    t->rin_fwd = t->rin->len;
    t->status = (uint16_t)status;
    t->proxy_made = 1;
    t->resp_any = t->resp_head_done = t->resp_done = 1;
    t->close_after = 1;
    t->phase = TXN_DONE;
    s->state = H1_ERROR;
    if (t->srv && status >= 500)
        atomic_fetch_add_explicit(&t->srv->responses[4], 1, memory_order_relaxed);
    conn_timer_set(&s->c, h1_cfg(s)->timeout_client_ms);
}

static void h1_respond_error(struct h1_session *s, int status)
{
    h1_respond(s, status, NULL, 0);
}

/* `listen ADDR redirect https`: every request goes to its https:// URL. */
static void respond_https_redirect(struct h1_session *s, const struct http_head *h)
{
    char location[ROUTE_PATH_MAX + 300];
    size_t n = http_https_location(s->in->data + h->host_off, h->host_len, s->in->data + h->uri_off, h->uri_len,
                                   location, sizeof location);
    if (n == 0) /* a URL over the buffer (414), or no host name ("Host: :") */
        h1_respond_error(s, h->host_len + h->uri_len + sizeof "https://" >= sizeof location ? 414 : 400);
    else
        h1_respond(s, 308, location, n);
}

/* ---- writing ------------------------------------------------------------------------ */

/* sendq's hooks: bytes went out (to the client / to the server), and a
 * batched send finished, so the session can go on. */
static void client_sent(void *owner, size_t bytes)
{
    struct h1_session *s = owner;
    struct txn *t = s->t;
    if (t) {
        t->bytes_out += bytes;
        t->last_activity = ev_now(s->c.w->loop);
        txn_client_progress(t, t->last_activity);
    }
}

static void sendq_woke(void *owner)
{
    h1_step(owner);
}

static const struct sendq_ops h1_client_sendq = {client_sent, sendq_woke};

/* ---- the response to the client ------------------------------------------------------------- */

/* Makes room in s->in while a request body streams through it.  Dropping
 * bytes already sent means the request can no longer be replayed. */
static void h1_compact_in(struct h1_session *s)
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
static void compact_rin(struct h1_session *s)
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

static void h1_flush_client(struct h1_session *s)
{
    struct txn *t = s->t;
    if (t && t->splicing) {
        h1_splice_out(s);
        return;
    }
    if (!t || !t->rin)
        return;
    if (xprt_send(&s->c.x, t->rin->data, &t->rin_sent, t->rin_fwd) < 0) {
        h1_mark_closed(s);
        return;
    }
    /* Also after a batched send finished, which wrote outside this call. */
    compact_rin(s);
}

static void h1_splice_out(struct h1_session *s)
{
    struct txn *t = s->t;

    while (t->pipe.held > 0) {
        ssize_t n = xprt_splice_out(&s->c.x, &t->pipe);
        if (n > 0) {
            t->bytes_out += (uint64_t)n;
            t->last_activity = ev_now(s->c.w->loop);
            txn_client_progress(t, t->last_activity);
            continue;
        }
        if (n < 0 && errno == EAGAIN)
            break;
        if (n < 0 && errno == EINTR)
            continue;
        h1_mark_closed(s); /* the client is gone */
        return;
    }
    if (t->splice_left == 0 && t->pipe.held == 0)
        t->resp_done = 1;
}

/* ---- request head ---------------------------------------------------------------------- */

static size_t in_capacity(const struct config *cfg)
{
    size_t want = cfg->limit_header_size + EDIT_SLACK;
    return want > BUF_SIZE ? want : BUF_SIZE;
}

static void txn_new(struct h1_session *s)
{
    struct txn *t = txn_open(s->c.w, &h1_sink, s, &upstream_h1_ops);
    if (!t) {
        h1_mark_closed(s);
        return;
    }
    s->t = t;
    t->client = &s->c;
    t->client_tls = xprt_is_tls(&s->c.x); /* the proxy's early errors carry HSTS too */
}

/* An error before a txn exists (bad head, timeouts while reading it). */
static void respond_early_error(struct h1_session *s, int status)
{
    if (!s->t) {
        txn_new(s);
        if (!s->t)
            return;
        conn_peer_ip(&s->c, s->t->client_ip, sizeof s->t->client_ip);
        snprintf(s->t->line, sizeof s->t->line, "-");
    }
    h1_respond_error(s, status);
}

/* Replaces the head at the front of s->in by its edited form. */
static int edit_request_head(struct h1_session *s, const struct http_head *h)
{
    struct txn *t = s->t;
    size_t out_len = http_rewrite_request(s->in->data, h, t->client_ip, t->client_tls, txn_scratch_out,
                                          txn_scratch_out_cap);
    if (out_len == 0 || s->in->len - h->len + out_len > s->in->cap)
        return -1;
    memmove(s->in->data + out_len, s->in->data + h->len, s->in->len - h->len);
    memcpy(s->in->data, txn_scratch_out, out_len);
    s->in->len = s->in->len - h->len + out_len;
    t->in_fwd = out_len;
    return 0;
}

static void parse_request_body(struct h1_session *s);

static void handle_head(struct h1_session *s)
{
    const struct config *cfg = s->c.w->rt->cfg;
    size_t limit = cfg->limit_header_size;

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
        s->scanned = (uint32_t)s->in->len;
        if (s->in->len >= limit)
            respond_early_error(s, http_too_large_status(s->in->data, s->in->len, limit));
        return;
    }
    if (end > limit) {
        respond_early_error(s, http_too_large_status(s->in->data, end, limit));
        return;
    }
    s->scanned = 0;
    txn_new(s);
    if (!s->t)
        return;
    struct txn *t = s->t;
    t->reqbuf = s->in;
    conn_peer_ip(&s->c, t->client_ip, sizeof t->client_ip);
    if (txn_scratch_reserve(cfg->limit_headers, limit + EDIT_SLACK) < 0) {
        h1_respond_error(s, 503);
        return;
    }
    memset(&h, 0, sizeof h);
    h.fields = txn_scratch_fields;
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
        h1_respond_error(s, bad);
        return;
    }
    t->method = h.method;
    t->http10 = h.major == 1 && h.minor == 0;
    t->client_keep_alive = h.keep_alive;
    t->req_upgrade = h.upgrade;
    t->req_done = !h.has_body;
    metrics_request_started(now_ms());
    if (s->c.redirect_https) {
        respond_https_redirect(s, &h);
        return;
    }

    char path_buf[ROUTE_PATH_MAX]; /* like nginx's 8k: a longer target that needs normalizing is a 414 */
    struct route_result route;
    int status = txn_route_admit(t, &s->c.peer, s->in->data, &h, path_buf, sizeof path_buf, &route);
    if (status) {
        h1_respond_error(s, status);
        return;
    }
    /* A trailer section goes on without hop-by-hop fields, those the head's
     * Connection lists included: read here, before the head's edits.  The
     * names over a buffer are the head's excess (431); no buffer for them
     * is the proxy's want of resources (503), as for the scratch above. */
    int kept = h.chunked && h.has_body ? http_msg_keep_trailers(&t->req, (uint32_t)limit, s->in->data, &h) : 0;
    if (kept < 0) {
        h1_respond_error(s, kept == -2 ? 503 : 431);
        return;
    }
    sticky_request(t, s->in->data, &s->in->len, &h); /* the pool's sticky cookie: noted, stripped */
    if (cfg->normalize_path && route.path == path_buf) {
        h.target_out = route.path;
        h.target_out_len = (uint32_t)route.path_len;
    }
    if (edit_request_head(s, &h) < 0) {
        h1_respond_error(s, 431);
        return;
    }
    if (!t->req_done)
        parse_request_body(s);
    if (s->state == H1_ERROR || s->state == H1_CLOSED)
        return;
    s->state = H1_REQUEST;
    txn_start_server(t);
}

/* Advances t->in_fwd over the body bytes that have arrived (a trailer
 * section held back until whole, then rewritten: trailer_relay). */
static void parse_request_body(struct h1_session *s)
{
    struct txn *t = s->t;
    size_t consumed;

    if (t->req_done || t->in_fwd >= s->in->len)
        return;
    int in_section;
    enum http_body_status rc = trailer_relay_body(&t->req, &s->in, t->in_fwd, &consumed, upstream_h1_sending, t, &in_section);
    t->reqbuf = s->in; /* moved when a trailer section's rewrite did not fit */
    if (in_section && trailer_relay_section_fault(rc) && txn_request_cut(t)) {
        h1_mark_closed(s); /* the section over limit header-size, folded, or without room: the client's fault */
        return;
    }
    t->in_fwd += consumed;
    if (rc == HTTP_BODY_DONE)
        t->req_done = 1;
    else if (rc == HTTP_BODY_TOO_LARGE && !in_section)
        h1_respond_error(s, 413);
    else if (rc < 0)
        h1_respond_error(s, 400);
}

/* ---- the end of a request ---------------------------------------------------------------- */

/* A close with the client still sending is a reset that can destroy the answer. */
static void linger_close(struct h1_session *s)
{
    s->lingering = 1;
    xprt_shutdown_write(&s->c.x);
    conn_timer_set(&s->c, LINGER_MS);
}

/* After an error response: read and drop until the client closes. */
static void linger_read(struct h1_session *s)
{
    char sink[4096];
    for (int i = 0; i < 16; i++) {
        ssize_t n = xprt_recv(&s->c.x, sink, sizeof sink);
        if (n > 0)
            continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
            return;
        h1_mark_closed(s);
        return;
    }
}

/* The response went out whole: account, give the server connection back
 * or close it, and go on with the next request or close. */
static void request_complete(struct h1_session *s)
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
    int body_coming = !t->req_done;
    /* A keep-alive client may be sending its next request: closing now would
     * reset the answer away (one that asked for the close: closed at once). */
    int may_send = (t->client_keep_alive && !s->client_eof) || (s->in && s->in->len > 0);
    int cut = t->aborted == TXN_CUT_SERVER && t->resp_to_close; /* a FIN would end it as whole */
    if (cut)
        xprt_abort_on_close(&s->c.x);
    txn_end(t);
    s->t = NULL;
    if (close_client && !cut && (body_coming || may_send)) {
        s->state = H1_ERROR; /* answered before the request ended (a server's early 413), or lingering */
        linger_close(s);
        return;
    }
    if (close_client || cut) {
        h1_mark_closed(s);
        return;
    }
    if (s->in && s->in->len > 0) {
        /* A pipelined request is already here. */
        s->state = H1_READ_HEAD;
        conn_timer_set(&s->c, h1_cfg(s)->timeout_client_ms);
        handle_head(s);
        return;
    }
    buf_put(s->in);
    s->in = NULL;
    s->state = H1_IDLE;
    conn_idle_enter(&s->c);
    conn_timer_set(&s->c, h1_cfg(s)->timeout_keep_alive_ms);
}

/* ---- the client side ----------------------------------------------------------------------- */

/* The client closed its side (`reset`: with a reset).  In a tunnel, or
 * before the 101 of an upgrade, a FIN is a half-close passed on to the
 * server (h1_step) while its bytes keep flowing back; otherwise the
 * client has left and its request is abandoned, unless the pool keeps
 * such requests going (ignore-client-abort). */
static void client_eof(struct h1_session *s, int reset)
{
    struct txn *t = s->t;
    s->client_eof = 1;
    if (t)
        t->client_eof = 1;
    if (h1_in(s, TXN_TUNNEL))
        return;
    int in_flight = t && s->state == H1_REQUEST;
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
    h1_mark_closed(s);
}

static void client_read(struct h1_session *s)
{
    const struct config *cfg = h1_cfg(s);

    if (s->lingering) {
        linger_read(s);
        return;
    }
    if (!s->in && !(s->in = buf_get(in_capacity(cfg)))) {
        h1_mark_closed(s);
        return;
    }
    for (;;) {
        size_t space = txn_read_room(s->in);
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
        if (n < 0 && h1_in(s, TXN_TUNNEL))
            h1_mark_closed(s); /* a reset, not a half-close: nothing to pass on */
        else
            client_eof(s, n < 0);
        return;
    }
    switch (s->state) {
    case H1_IDLE:
        conn_idle_leave(&s->c);
        s->state = H1_READ_HEAD;
        conn_timer_set(&s->c, cfg->timeout_client_ms);
        handle_head(s);
        break;
    case H1_READ_HEAD:
        if (!s->c.proto_fixed && !s->t) {
            int h2 = conn_choose_h2(&s->c, s->in->data, s->in->len);
            if (h2 < 0)
                break; /* a prefix of the HTTP/2 preface: wait for the rest */
            if (h2 > 0) {
                struct buf *in = s->in;
                s->in = NULL;
                proto_h2_adopt(&s->c, in); /* s is no longer ours */
                return;
            }
        }
        handle_head(s);
        break;
    case H1_REQUEST: {
        /* Only this request's bytes are progress (timeout server), not a pipelined one's. */
        int to_server = s->t->phase == TXN_TUNNEL || !s->t->req_done;
        if (s->t->phase == TXN_TUNNEL)
            s->t->in_fwd = s->in->len;
        else
            parse_request_body(s);
        if (to_server)
            s->t->last_activity = ev_now(s->c.w->loop);
        break;
    }
    default:
        break;
    }
}

/* h1_proto.io */
static void h1_io(struct conn *c, int revents)
{
    struct h1_session *s = (struct h1_session *)c;

    if (revents & EV_READ)
        client_read(s);
    if (c->proto != &h1_proto)
        return; /* handed over to HTTP/2 */
    if ((revents & EV_WRITE) && s->state != H1_CLOSED)
        h1_flush_client(s);
    h1_step(s);
}

/* h1_proto.timeout: the deadline of the session's state (or its txn's phase) passed. */
static void h1_timeout(struct conn *c)
{
    struct h1_session *s = (struct h1_session *)c;

    switch (s->state) {
    case H1_IDLE:
        h1_mark_closed(s);
        break;
    case H1_READ_HEAD:
        if (s->in && s->in->len > 0)
            respond_early_error(s, 408);
        else
            h1_mark_closed(s);
        break;
    case H1_REQUEST:
        txn_timeout(s->t);
        break;
    default:
        h1_mark_closed(s);
        break;
    }
    h1_step(s);
}

/* ---- the driver ------------------------------------------------------------------------------ */

static int in_has_space(const struct h1_session *s)
{
    return !s->client_eof && (!s->in || s->in->len + EDIT_SLACK < s->in->cap);
}

static void update_interest(struct h1_session *s)
{
    struct txn *t = s->t;
    int cev = 0;

    switch (s->state) {
    case H1_IDLE:
    case H1_READ_HEAD:
        if (in_has_space(s))
            cev |= EV_READ;
        break;
    case H1_ERROR:
        if (s->lingering)
            cev |= EV_READ;
        break;
    case H1_REQUEST:
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
    conn_io_want(s->c.w->loop, &s->c.io, &s->c.x, cev);

    if (t && t->up && s->state == H1_REQUEST)
        t->uops->want(t);
}

/* Makes every bit of progress possible without waiting, then sets what each
 * socket waits for.  Frees the session when it is finished. */
static void h1_step(struct h1_session *s)
{
    for (int guard = 0; guard < 64; guard++) {
        struct txn *t = s->t;
        if (s->state == H1_CLOSED)
            break;
        if (t && (h1_in(s, TXN_FORWARD) || h1_in(s, TXN_TUNNEL))) {
            t->uops->send(t);
            if (s->state == H1_CLOSED || s->t != t || !t->up)
                continue;
            h1_compact_in(s);
            if (h1_in(s, TXN_TUNNEL) && t->in_sent == t->in_fwd && s->in && t->in_sent) {
                s->in->len = 0;
                t->in_sent = t->in_fwd = 0;
            }
            if (h1_in(s, TXN_TUNNEL) && s->client_eof)
                t->uops->half_close(t); /* once everything the client sent went first */
        }
        h1_flush_client(s);
        if (s->state == H1_CLOSED)
            break;
        t = s->t;
        if (!t)
            break;
        if (!t->splicing && h1_in(s, TXN_FORWARD)) {
            t->uops->splice(t);
            if (s->state == H1_CLOSED)
                break;
        }
        int flushed = (!t->rin || t->rin_sent >= t->rin_fwd) && (!t->splicing || t->pipe.held == 0);
        if (s->state == H1_ERROR && flushed && !s->lingering)
            linger_close(s);
        if (h1_in(s, TXN_TUNNEL) && flushed && t->resp_done && !t->client_shut) {
            xprt_shutdown_write(&s->c.x); /* the server's half-close, after its bytes */
            t->client_shut = 1;
        }
        if (h1_in(s, TXN_TUNNEL) && flushed && (t->close_after || (t->client_shut && t->up_shut))) {
            h1_mark_closed(s);
            break;
        }
        if (h1_in(s, TXN_FORWARD) && t->resp_done && flushed &&
            (t->in_sent >= t->in_fwd || !t->req_done || t->close_after)) {
            if (!t->req_done)
                t->close_after = 1; /* answered before the request ended */
            request_complete(s);
            continue;
        }
        break;
    }
    if (s->state == H1_CLOSED) {
        conn_free(&s->c);
        return;
    }
    update_interest(s);
}

/* ---- the stream sink (stream.h) -------------------------------------------------------------- */

/* Raw HTTP/1: the response's bytes are in rin already, edited in place;
 * the driver (h1_step) flushes them before its callback returns. */
static void h1_sink_ready(void *ctx)
{
    (void)ctx;
}

/* Body bytes wait in the pipe (splice): take them out now. */
static void h1_sink_send_data(void *ctx)
{
    struct h1_session *s = ctx;
    if (s->t && s->t->splicing)
        h1_splice_out(s);
}

static void h1_sink_respond_error(void *ctx, int status)
{
    h1_respond_error(ctx, status);
}

static void h1_sink_proceed(void *ctx)
{
    h1_step(ctx);
}

/* One lazy timer per connection: a deadline set later than the armed one
 * costs no timer heap operation (conn_timer_set). */
static void h1_sink_arm(void *ctx, uint64_t ms)
{
    struct h1_session *s = ctx;
    conn_timer_set(&s->c, ms);
}

static struct xprt *h1_sink_xprt(void *ctx)
{
    struct h1_session *s = ctx;
    return &s->c.x;
}

static const struct stream_sink h1_sink = {
    .caps = SINK_RAW_H1 | SINK_SPLICE,
    .send_head = h1_sink_ready,
    .send_data = h1_sink_send_data,
    .end = h1_sink_ready,
    .reset = h1_close_cut,
    .respond_error = h1_sink_respond_error,
    .proceed = h1_sink_proceed,
    .arm = h1_sink_arm,
    .xprt = h1_sink_xprt,
};

/* h1_proto.server_down */
static void h1_server_down(struct conn *c)
{
    struct h1_session *s = (struct h1_session *)c;
    if (s->state == H1_REQUEST)
        txn_server_down(s->t);
}

/* ---- the conn's protocol ------------------------------------------------------------------- */

/* h1_proto.start: a new connection; data usually arrives with it (or
 * right after), so reading now saves a trip through the loop. */
static void h1_start(struct conn *c)
{
    struct h1_session *s = (struct h1_session *)c;

    s->state = H1_READ_HEAD;
    conn_timer_set(c, c->w->rt->cfg->timeout_client_ms);
    client_read(s);
    if (c->proto == &h1_proto)
        h1_step(s);
}

/* h1_proto.idle: between requests, or connected with nothing sent yet. */
static int h1_idle(const struct conn *c)
{
    const struct h1_session *s = (const struct h1_session *)c;
    return s->state == H1_IDLE || (s->state == H1_READ_HEAD && (!s->in || s->in->len == 0));
}

/* A conn switches to HTTP/2 in place (proto_h2_adopt). */
_Static_assert(sizeof(struct h2_conn) <= sizeof(struct h1_session), "an h2_conn fits in an h1_session");

const struct conn_proto h1_proto = {
    .name = "http/1.1",
    .size = sizeof(struct h1_session),
    .sendq = &h1_client_sendq,
    .start = h1_start,
    .io = h1_io,
    .timeout = h1_timeout,
    .idle = h1_idle,
    .server_down = h1_server_down,
    .release = h1_release,
};
