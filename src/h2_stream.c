/*
 * h2_stream: one HTTP/2 stream as a txn, and the txn's stream sink for it.
 *
 * The request: the stream's header list becomes an HTTP/1.1 head
 * (h2_headers.c), which then goes through the same steps as an HTTP/1
 * one - parsed, routed, admitted, sticky cookie, X-Forwarded-* - and sits
 * in the stream's request buffer (t->reqbuf) with the body DATA frames
 * bring (chunked when the client gave no content-length).  A stream's
 * window goes back to the client only as its bytes leave for the server,
 * so an upload never outruns its server by more than one window.
 *
 * The response: upstream_h1 parses and edits the server's head in rin as
 * for any client (decoding a chunked body, since this sink has no
 * SINK_RAW_H1); the head is turned into HEADERS here and the body is
 * pulled from rin by nghttp2's data provider as the client's window
 * allows - rin full stops reading from the server, never the other
 * streams.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "clock.h"
#include "config.h"
#include "conn.h"
#include "error_page.h"
#include "h2_headers.h"
#include "h2_session.h"
#include "http.h"
#include "log.h"
#include "metrics.h"
#include "slab.h"
#include "router.h"
#include "sticky_txn.h"
#include "txn.h"
#include "upstream.h"
#include "upstream_h1.h"
#include "worker_ctx.h"

#define ROUTE_PATH_MAX 8192
#define H2_RESPONSE_FIELDS_MAX 256
/* Room for the framing of a chunk around a run of body bytes (seal_run). */
#define CHUNK_FRAMING 16
/* How long the rest of a request body answered early is taken and dropped. */
#define H2_LINGER_S 1.0

static const struct stream_sink h2_sink;

static const struct config *st_cfg(const struct h2_stream *st)
{
    return st->t && st->t->rt ? st->t->rt->cfg : st->h->c->w->rt->cfg;
}

static void stream_reset(struct h2_stream *st, uint32_t code)
{
    nghttp2_submit_rst_stream(st->h->ng, NGHTTP2_FLAG_NONE, st->id, code);
}

static void timer_cb(struct ev_loop *loop, ev_timer *tm, int revents)
{
    struct h2_stream *st = tm->data;
    struct h2_session *h = st->h;
    (void)loop;
    (void)revents;
    h2_session_enter(h);
    if (st->t)
        txn_timeout(st->t);
    else
        stream_reset(st, NGHTTP2_NO_ERROR); /* answered, and the client still sends after LINGER */
    st->dirty = 1;
    h2_session_leave(h);
}

/* Streams come and go with every request: from the worker's own slab,
 * not the general heap (no malloc/free per stream; a burst's streams do
 * not pin heap pages between longer-lived objects). */
static _Thread_local struct slab_pool stream_slabs = SLAB_POOL_INIT(struct h2_stream);

struct h2_stream *h2_stream_new(struct h2_session *h, int32_t id)
{
    struct h2_stream *st = slab_alloc(&stream_slabs);
    if (!st)
        return NULL;
    /* Room for every field limit header-size lets through: packed, a
     * field takes 8 bytes beside its name and value, the limit counts 32. */
    size_t hdrs_cap = h->c->w->rt->cfg->limit_header_size + 32 * 16;
    if (!(st->hdrs = buf_get(hdrs_cap > BUF_SIZE ? hdrs_cap : BUF_SIZE))) {
        slab_free(&stream_slabs, st);
        return NULL;
    }
    st->h = h;
    st->id = id;
    st->opened_at = ev_now(h->c->w->loop);
    conn_timer_at_most(h->c, h->c->w->rt->cfg->timeout_client_ms); /* its header block's deadline */
    /* Busy now, even if the stream ends in this round (an answer of the
     * proxy's own): the round's end lists it idle again, for timeout
     * keep-alive, not with the header block's deadline. */
    conn_idle_leave(h->c);
    ev_timer_init(&st->timer, timer_cb, 0., 0.);
    st->timer.data = st;
    st->next = h->streams;
    if (h->streams)
        h->streams->prev = st;
    h->streams = st;
    h->nstreams++;
    atomic_fetch_add_explicit(&metrics.h2_streams_active, 1, memory_order_relaxed);
    atomic_fetch_add_explicit(&metrics.h2_streams_total, 1, memory_order_relaxed);
    return st;
}

/* Fields are packed as they come: name length, value length, name, value. */
void h2_stream_header(struct h2_stream *st, const uint8_t *name, size_t nlen, const uint8_t *value, size_t vlen)
{
    const struct config *cfg = st_cfg(st);
    if (nlen && name[0] == ':') {
        if (nlen == 7 && vlen == 4 && memcmp(name, ":method", 7) == 0 && memcmp(value, "HEAD", 4) == 0)
            st->head_method = 1;
        else if (nlen == 5 && memcmp(name, ":path", 5) == 0 && vlen >= cfg->limit_header_size)
            st->path_too_long = 1;
    }
    /* RFC 9113 6.5.2 counts 32 bytes of overhead per field. */
    st->hdr_bytes += nlen + vlen + 32;
    if (st->too_large || st->hdr_bytes > cfg->limit_header_size + 32 * 16 || st->nfields >= 2 * cfg->limit_headers + 8) {
        st->too_large = 1;
        return;
    }
    size_t need = 2 * sizeof(uint32_t) + nlen + vlen;
    if (st->hdrs->cap - st->hdrs->len < need) {
        st->too_large = 1;
        return;
    }
    uint32_t lens[2] = {(uint32_t)nlen, (uint32_t)vlen};
    char *p = st->hdrs->data + st->hdrs->len;
    memcpy(p, lens, sizeof lens);
    memcpy(p + sizeof lens, name, nlen);
    memcpy(p + sizeof lens + nlen, value, vlen);
    st->hdrs->len += need;
    st->nfields++;
}

/* ---- the request ---------------------------------------------------------------------------- */

static void answer(struct h2_stream *st, int status);
static long relay_interim(struct h2_stream *st);

/* The field list of the head being converted: per thread, grown as needed. */
static _Thread_local struct h2_field *req_fields;
static _Thread_local size_t req_fields_max;

void h2_stream_cache_clear(void)
{
    free(req_fields);
    req_fields = NULL;
    req_fields_max = 0;
    slab_release_spare(&stream_slabs);
}

/* A txn for an error found before the head could be routed. */
static int open_txn(struct h2_stream *st)
{
    struct conn *c = st->h->c;
    struct txn *t = txn_open(c->w, &h2_sink, st, &upstream_h1_ops);
    if (!t)
        return -1;
    st->t = t;
    t->client = c;
    t->client_tls = xprt_is_tls(&c->x);
    t->client_keep_alive = 1;
    conn_peer_ip(c, t->client_ip, sizeof t->client_ip);
    snprintf(t->line, sizeof t->line, "-");
    return 0;
}

static size_t request_capacity(const struct config *cfg, int body)
{
    size_t head = cfg->limit_header_size + EDIT_SLACK;
    if (head < BUF_SIZE)
        head = BUF_SIZE;
    /* With a body: one whole window of it beside the head, framing included.
     * Until the client takes our SETTINGS it may send the protocol's
     * default window, 65535 (curl, browsers and h2load do). */
    size_t window = cfg->h2_window > 65535 ? cfg->h2_window : 65535;
    return body ? head + window + window / 8 + 4096 : head;
}

/* The request line for the access log, as HTTP/2.0. */
static void log_line(struct txn *t, const char *head)
{
    /* Copied, not formatted: snprintf here was 700 instructions a request. */
    static const char proto[] = " HTTP/2.0";
    const char *sp = strstr(head, " HTTP/1.1\r\n");
    size_t n = sp ? (size_t)(sp - head) : 0;
    if (n > sizeof t->line - sizeof proto)
        n = sizeof t->line - sizeof proto;
    memcpy(t->line, head, n);
    memcpy(t->line + n, proto, sizeof proto);
}

/* Builds, parses and edits the HTTP/1.1 head into st->req, routes and
 * admits it: 0 to go on, else the status to answer (-1: a reset sent). */
/* The proxy's own answer before the head is built: a HEAD's gets no
 * body (a body after a HEAD's 431 is a PROTOCOL_ERROR to the client), and
 * a target alone over the limit is a 414, as on HTTP/1.1. */
static int early_answer_status(struct h2_stream *st, int status)
{
    if (st->head_method)
        st->t->method = HTTP_HEAD;
    return status == 431 && st->path_too_long ? 414 : status;
}

static int prepare_request(struct h2_stream *st, int end_stream)
{
    const struct config *cfg = st_cfg(st);
    struct txn *t = st->t;

    if (st->too_large)
        return early_answer_status(st, 431);
    if (req_fields_max < st->nfields + 1) {
        struct h2_field *f = realloc(req_fields, (st->nfields + 1) * sizeof *f);
        if (!f)
            return 503;
        req_fields = f;
        req_fields_max = st->nfields + 1;
    }
    const char *p = st->hdrs->data;
    int content_length = 0;
    for (uint32_t i = 0; i < st->nfields; i++) {
        uint32_t lens[2];
        memcpy(lens, p, sizeof lens);
        req_fields[i] = (struct h2_field){p + sizeof lens, lens[0], p + sizeof lens + lens[0], lens[1]};
        if (lens[0] == 14 && memcmp(req_fields[i].name, "content-length", 14) == 0)
            content_length = 1;
        p += sizeof lens + lens[0] + lens[1];
    }
    st->chunked = !end_stream && !content_length;
    if (!(st->req = buf_get(request_capacity(cfg, !end_stream))))
        return 503;
    if (txn_scratch_reserve(cfg->limit_headers + 8, cfg->limit_header_size + 2 * EDIT_SLACK) < 0)
        return 503;
    /* The head is written and its parsed view filled in one pass: parsing
     * again what was just written was 2,450 instructions a request. */
    struct http_head h;
    memset(&h, 0, sizeof h);
    h.fields = txn_scratch_fields;
    h.max_fields = cfg->limit_headers + 8;
    size_t len;
    int rc = h2_request_view(req_fields, st->nfields, st->chunked, st->req->data, st->req->cap - EDIT_SLACK, &len,
                             &h);
    int early = rc == H2_HEAD_CONNECT ? 501
                : rc == H2_HEAD_TOO_LARGE || (rc >= 0 && (len > cfg->limit_header_size || h.nfields > cfg->limit_headers))
                    ? 431
                : rc == H2_HEAD_BAD ? 400 : 0;
    if (early)
        early = early_answer_status(st, early);
    buf_put(st->hdrs);
    st->hdrs = NULL;
    if (rc == H2_HEAD_MALFORMED) {
        stream_reset(st, NGHTTP2_PROTOCOL_ERROR);
        return -1;
    }
    if (early)
        return early;
    st->req->len = len;
    st->req->data[len < st->req->cap ? len : 0] = '\0';
    log_line(t, st->req->data);
    t->reqbuf = st->req;

    t->method = h.method; /* before its answer: a HEAD's has no body */
    int bad = http_check_built_request(st->req->data, &h, cfg->limit_body_size);
    if (bad)
        return bad;
    t->req_done = end_stream;
    metrics_request_started(now_ms());
    char path_buf[ROUTE_PATH_MAX];
    struct route_result route;
    int status = txn_route_admit(t, &st->h->c->peer, st->req->data, &h, path_buf, sizeof path_buf, &route);
    if (status)
        return status;
    sticky_request(t, st->req->data, &st->req->len, &h);
    if (cfg->normalize_path && route.path == path_buf) {
        h.target_out = route.path;
        h.target_out_len = (uint32_t)route.path_len;
    }
    size_t out_len = http_rewrite_request(st->req->data, &h, t->client_ip, t->client_tls, txn_scratch_out,
                                          txn_scratch_out_cap);
    if (out_len == 0 || out_len + EDIT_SLACK > st->req->cap)
        return 431;
    memcpy(st->req->data, txn_scratch_out, out_len);
    st->req->len = out_len;
    t->in_fwd = out_len;
    return 0;
}

void h2_stream_headers_done(struct h2_stream *st, int end_stream)
{
    if (st->t || open_txn(st) < 0) {
        stream_reset(st, NGHTTP2_INTERNAL_ERROR);
        return;
    }
    st->end_recv = end_stream;
    int status = prepare_request(st, end_stream);
    if (status < 0)
        return;
    if (status) {
        answer(st, status);
        return;
    }
    txn_start_server(st->t);
    st->dirty = 1;
}

static void append(struct buf *b, const void *p, size_t n)
{
    memcpy(b->data + b->len, p, n);
    b->len += n;
}

void h2_stream_data(struct h2_stream *st, const uint8_t *data, size_t len)
{
    struct txn *t = st->t;
    if (!t || t->phase == TXN_DONE || !st->req || t->req_done) {
        /* Answered already (or refused): the body goes nowhere. */
        nghttp2_session_consume_stream(st->h->ng, st->id, len);
        return;
    }
    st->body_bytes += len;
    if (st_cfg(st)->limit_body_size && st->body_bytes > st_cfg(st)->limit_body_size) {
        nghttp2_session_consume_stream(st->h->ng, st->id, len);
        answer(st, 413);
        return;
    }
    if (len == 0)
        return; /* an empty DATA frame (its padding only): an empty chunk would end the body */
    /* Room for the bytes, and for one chunk's framing when they start a
     * run (seal_run frames a run once, however many frames made it). */
    size_t framing = st->chunked && st->run == 0 ? CHUNK_FRAMING : 0;
    if (st->req->cap - EDIT_SLACK - st->req->len < len + framing) {
        stream_reset(st, NGHTTP2_FLOW_CONTROL_ERROR); /* more than the window allows */
        return;
    }
    append(st->req, data, len);
    st->unacked += len;
    if (st->chunked) {
        st->run += len;
        t->last_activity = ev_now(st->h->c->w->loop);
        st->dirty = 1;
        return;
    }
    t->in_fwd = st->req->len;
    t->last_activity = ev_now(st->h->c->w->loop);
    st->dirty = 1;
}

/* Request trailers go to the server as the chunked body's trailer
 * section; a body sent with the client's content-length has none in
 * HTTP/1.1, and they are dropped (as nginx and HAProxy do). */
void h2_stream_trailer(struct h2_stream *st, const uint8_t *name, size_t nlen, const uint8_t *value, size_t vlen)
{
    struct txn *t = st->t;
    if (!t || !st->req || t->req_done || !st->chunked || t->phase == TXN_DONE)
        return;
    struct h2_field f = {(const char *)name, nlen, (const char *)value, vlen};
    if (!h2_request_trailer_ok(&f))
        return;
    size_t max = st_cfg(st)->limit_header_size;
    if (!st->trailers && !(st->trailers = buf_get(BUF_SIZE))) {
        answer(st, 503);
        return;
    }
    if (max > st->trailers->cap)
        max = st->trailers->cap;
    if (st->trailers->len + nlen + vlen + 4 > max) {
        answer(st, 431); /* a reset if the response began */
        return;
    }
    append(st->trailers, name, nlen);
    append(st->trailers, ": ", 2);
    append(st->trailers, value, vlen);
    append(st->trailers, "\r\n", 2);
}

/* The body bytes that came since the last send become one chunk: a chunk
 * per DATA frame cost its framing per frame (8-byte frames took 60% more
 * room than their window, and the stream was reset). */
static void seal_run(struct h2_stream *st)
{
    if (st->run == 0)
        return;
    char size[24];
    size_t n = (size_t)snprintf(size, sizeof size, "%zx\r\n", st->run);
    char *at = st->req->data + st->req->len - st->run;
    memmove(at + n, at, st->run);
    memcpy(at, size, n);
    st->req->len += n;
    append(st->req, "\r\n", 2);
    st->run = 0;
    st->t->in_fwd = st->req->len;
}

/* The end of the request into req: the last chunk, the trailers and the
 * empty line of a chunked body, when there is room (else after the next
 * compact_request). */
static void finish_request(struct h2_stream *st)
{
    struct txn *t = st->t;
    seal_run(st);
    size_t tl = st->trailers ? st->trailers->len : 0;
    size_t need = st->chunked ? 5 + tl : 0;
    if (st->req->cap - st->req->len < need) {
        st->end_pending = 1;
        return;
    }
    if (st->chunked) {
        append(st->req, "0\r\n", 3);
        if (tl)
            append(st->req, st->trailers->data, tl);
        append(st->req, "\r\n", 2);
    }
    buf_put(st->trailers);
    st->trailers = NULL;
    st->end_pending = 0;
    t->in_fwd = st->req->len;
    t->req_done = 1;
    st->dirty = 1;
}

void h2_stream_end(struct h2_stream *st)
{
    struct txn *t = st->t;
    st->end_recv = 1;
    if (!t || !st->req || t->req_done || t->phase == TXN_DONE)
        return;
    finish_request(st);
}

/* Once every byte of req went to the server: the buffer starts over and
 * the client gets its window back.  The request can then no longer be
 * sent again to another server. */
static void compact_request(struct h2_stream *st)
{
    struct txn *t = st->t;
    /* A whole request stays until its answer begins: a server that drops
     * it unanswered (a stale keep-alive connection) gets it replayed on
     * another connection when it is idempotent (CONTRACT 3), as on HTTP/1. */
    if (!st->req || t->req_done || t->in_sent == 0 || t->in_sent < st->req->len || !t->up ||
        xprt_send_pending(&t->up->x))
        return;
    st->req->len = 0;
    t->in_sent = t->in_fwd = 0;
    t->replayable = 0;
    if (st->unacked) {
        nghttp2_session_consume_stream(st->h->ng, st->id, st->unacked);
        st->unacked = 0;
    }
}

void h2_stream_drive(struct h2_stream *st)
{
    struct txn *t = st->t;
    if (!t)
        return;
    if (t->phase == TXN_FORWARD && t->up) {
        seal_run(st);
        t->uops->send(t);
        if (st->t != t)
            return;
        if (t->up)
            compact_request(st);
        if (st->end_pending)
            finish_request(st);
    }
    /* A 100 Continue or 103 Early Hints goes out as it comes, not with
     * the final head (which may be long in coming). */
    if (!t->resp_head_done && !st->head_submitted && t->rin && t->rin_sent < t->rin_fwd && relay_interim(st) < 0)
        return;
    if (t->up && (t->phase == TXN_FORWARD || t->phase == TXN_CONNECT))
        t->uops->want(t);
    if (st->deferred && t->rin && (t->rin_sent < t->rin_fwd || t->resp_done)) {
        st->deferred = 0;
        nghttp2_session_resume_data(st->h->ng, st->id);
    }
}

void h2_stream_server_down(struct h2_stream *st)
{
    if (st->t && (st->t->phase == TXN_CONNECT || st->t->phase == TXN_FORWARD))
        txn_server_down(st->t);
}

/* ---- the response ------------------------------------------------------------------------------ */

static void rin_consume(struct txn *t)
{
    if (!t->rin || t->rin_sent == 0)
        return;
    if (t->rin_sent < t->rin->len && t->rin_sent < t->rin->cap / 2)
        return;
    buf_consume(t->rin, t->rin_sent);
    t->rin_fwd -= t->rin_sent;
    t->rscanned = t->rscanned > t->rin_sent ? t->rscanned - t->rin_sent : 0;
    t->rin_sent = 0;
}

/* The body's last DATA frame: END_STREAM on it, or on the trailers'
 * HEADERS frame when the server sent trailer fields (nghttp2 lets the
 * data source submit them from here). */
static int body_end(struct h2_stream *st, uint32_t *flags)
{
    static _Thread_local struct h2_field fields[H2_RESPONSE_FIELDS_MAX];
    static _Thread_local nghttp2_nv nv[H2_RESPONSE_FIELDS_MAX];
    struct buf *tr = st->t->resp.trailers;

    /* A body the server cut short (closed mid-chunk, bad framing) must not
     * look whole: on HTTP/1.1 the client connection closes, here the
     * stream is reset (nghttp2: RST_STREAM INTERNAL_ERROR). */
    if (st->t->aborted == TXN_CUT_SERVER)
        return NGHTTP2_ERR_TEMPORAL_CALLBACK_FAILURE;
    *flags |= NGHTTP2_DATA_FLAG_EOF;
    if (!tr || tr->len == 0)
        return 0;
    int n = h2_trailer_fields(tr->data, tr->len, fields, H2_RESPONSE_FIELDS_MAX);
    for (int i = 0; i < n; i++)
        nv[i] = (nghttp2_nv){(uint8_t *)fields[i].name, (uint8_t *)fields[i].value, fields[i].name_len,
                             fields[i].value_len, NGHTTP2_NV_FLAG_NONE};
    if (n > 0 && nghttp2_submit_trailer(st->h->ng, st->id, nv, (size_t)n) == 0)
        *flags |= NGHTTP2_DATA_FLAG_NO_END_STREAM;
    tr->len = 0;
    return 0;
}

static ssize_t read_body(nghttp2_session *ng, int32_t id, uint8_t *buf, size_t length, uint32_t *flags,
                         nghttp2_data_source *source, void *user)
{
    /* By the stream's id, not source->ptr: a stream we let go of (the
     * connection closing) is no longer there to point to. */
    struct h2_stream *st = nghttp2_session_get_stream_user_data(ng, id);
    (void)source;
    (void)user;
    if (!st)
        return NGHTTP2_ERR_TEMPORAL_CALLBACK_FAILURE;
    struct txn *t = st->t;
    if (!t) {
        *flags |= NGHTTP2_DATA_FLAG_EOF;
        return 0;
    }
    size_t avail = t->rin ? t->rin_fwd - t->rin_sent : 0;
    if (avail == 0) {
        if (t->resp_done)
            return body_end(st, flags);
        st->deferred = 1;
        return NGHTTP2_ERR_DEFERRED;
    }
    size_t n = avail < length ? avail : length;
    memcpy(buf, t->rin->data + t->rin_sent, n);
    t->rin_sent += n;
    t->bytes_out += n;
    t->last_activity = ev_now(st->h->c->w->loop);
    txn_client_progress(t, t->last_activity);
    if (t->rin_sent == t->rin_fwd && t->resp_done && t->aborted != TXN_CUT_SERVER)
        body_end(st, flags); /* a cut one is reset by the next call */
    rin_consume(t);
    st->dirty = 1; /* room in rin: the server may be read again */
    return (ssize_t)n;
}

/* The head at head[0..len) as nghttp2 fields into nv (":status" first,
 * its digits in status_text): their count, -1 when it is not a response. */
static int head_fields(char *head, size_t len, unsigned *status, char status_text[4], nghttp2_nv *nv,
                       int *zero_length)
{
    static _Thread_local struct h2_field fields[H2_RESPONSE_FIELDS_MAX];
    int n = h2_response_fields(head, len, status, fields, H2_RESPONSE_FIELDS_MAX);
    if (n < 0 || *status < 100 || *status > 999)
        return -1;
    status_text[0] = (char)('0' + *status / 100); /* three digits (not snprintf: 700 instructions) */
    status_text[1] = (char)('0' + *status / 10 % 10);
    status_text[2] = (char)('0' + *status % 10);
    status_text[3] = '\0';
    nv[0] = (nghttp2_nv){(uint8_t *)":status", (uint8_t *)status_text, 7, 3, NGHTTP2_NV_FLAG_NONE};
    *zero_length = 0;
    for (int i = 0; i < n; i++) {
        nv[i + 1] = (nghttp2_nv){(uint8_t *)fields[i].name, (uint8_t *)fields[i].value, fields[i].name_len,
                                 fields[i].value_len, NGHTTP2_NV_FLAG_NONE};
        if (fields[i].name_len == 14 && memcmp(fields[i].name, "content-length", 14) == 0 &&
            fields[i].value_len == 1 && fields[i].value[0] == '0')
            *zero_length = 1;
    }
    return n + 1;
}

/* The interim (1xx) heads at rin[rin_sent..) before the final one, each
 * a HEADERS frame without END_STREAM (RFC 9113 8.1): a 100 Continue for
 * a client that sent `expect: 100-continue`, a 103 Early Hints with its
 * Link fields - as an HTTP/1.1 client gets them, in order, before the
 * final response.  upstream_h1 lets no 101 through here (HTTP/2 has no
 * upgrade) and caps them at INTERIM_MAX.  Stops at the final head or at
 * rin_fwd: the final head's length when it is there (its fields are left
 * to submit_head: converting them here too was 1.2k instructions a
 * response), else 0; -1 when a head could not be sent (the stream is
 * reset). */
static long relay_interim(struct h2_stream *st)
{
    struct txn *t = st->t;
    static _Thread_local nghttp2_nv nv[H2_RESPONSE_FIELDS_MAX + 1];
    char status_text[4];

    while (t->rin && t->rin_sent < t->rin_fwd) {
        char *head = t->rin->data + t->rin_sent;
        size_t hl = http_head_end(head, t->rin_fwd - t->rin_sent, 0);
        unsigned status = 0;
        int zero_length;
        if (hl == 0)
            return 0;
        if (h2_response_status(head, hl, &status) < 0) {
            stream_reset(st, NGHTTP2_INTERNAL_ERROR);
            return -1;
        }
        if (status >= 200)
            return (long)hl; /* the final head: submit_head's */
        int n = head_fields(head, hl, &status, status_text, nv, &zero_length);
        if (n < 0 || (status != 101 && nghttp2_submit_headers(st->h->ng, NGHTTP2_FLAG_NONE, st->id, NULL, nv,
                                                              (size_t)n, NULL) != 0)) {
            stream_reset(st, NGHTTP2_INTERNAL_ERROR);
            return -1;
        }
        t->bytes_out += hl;
        t->rin_sent += hl;
        st->dirty = 1;
    }
    rin_consume(t);
    return 0;
}

/* Turns the final head at rin[rin_sent..rin_fwd), after the interim ones
 * still there, into HEADERS. */
static void submit_head(struct h2_stream *st)
{
    struct txn *t = st->t;
    static _Thread_local nghttp2_nv nv[H2_RESPONSE_FIELDS_MAX + 1];
    char status_text[4];
    unsigned status = 0;
    int zero_length = 0, n = -1;

    long hl = relay_interim(st);
    if (hl < 0)
        return;
    size_t pos = t->rin_sent;
    if (hl > 0)
        n = head_fields(t->rin->data + pos, (size_t)hl, &status, status_text, nv, &zero_length);
    if (n < 0 || status < 200) {
        stream_reset(st, NGHTTP2_INTERNAL_ERROR);
        return;
    }
    pos += (size_t)hl;
    nghttp2_data_provider prd = {.source.ptr = st, .read_callback = read_body};
    int bodiless = h2_response_bodiless(status, t->method == HTTP_HEAD) || zero_length;
    st->head_submitted = 1;
    /* A chunked body's trailer fields go out as a HEADERS frame of their
     * own after the DATA (read_body): llhttp keeps them as it decodes
     * (asked for with the head, upstream_h1.c), unless no body goes. */
    if (bodiless)
        t->resp.keep_trailers = 0;
    /* nghttp2 copies the fields: rin may move after this, not before. */
    if (nghttp2_submit_response(st->h->ng, st->id, nv, (size_t)n, bodiless ? NULL : &prd) != 0)
        stream_reset(st, NGHTTP2_INTERNAL_ERROR);
    t->bytes_out += pos - t->rin_sent;
    t->rin_sent = pos; /* the head bytes are not the client's: HEADERS carries them */
    if (bodiless)
        t->rin_sent = t->rin_fwd; /* nothing of a body goes (a HEAD's) */
    rin_consume(t);
}

/* A response of the proxy's own on this stream only. */
static void answer(struct h2_stream *st, int status)
{
    struct txn *t = st->t;
    if (st->head_submitted) {
        /* Too late for an answer: the stream is reset, and its server
         * goes now, not once the reset is written. */
        txn_drop_server(t);
        stream_reset(st, NGHTTP2_INTERNAL_ERROR);
        return;
    }
    /* A body over its limit while queued: the place in the queue goes
     * now (a wake-up given to it would be a slot nobody takes). */
    txn_leave_queue(t);
    /* Interim heads the server sent before it failed go first, as on
     * HTTP/1.1. */
    if (!t->resp_head_done && relay_interim(st) < 0)
        return;
    if (t->up)
        t->uops->abort(t);
    if (!t->rin && !(t->rin = buf_get(BUF_SIZE))) {
        stream_reset(st, NGHTTP2_INTERNAL_ERROR);
        return;
    }
    t->rin->len = 0;
    t->rin_sent = t->rin_fwd = t->rscanned = 0;
    char hsts[TXN_HSTS_MAX];
    txn_hsts_line(t, hsts, sizeof hsts);
    size_t n = error_page_write_with(st_cfg(st), status, t->retry_after, hsts, &t->rin, 0);
    if (n == 0) {
        stream_reset(st, NGHTTP2_INTERNAL_ERROR);
        return;
    }
    t->rin->len = n;
    t->rin_fwd = n;
    t->status = (uint16_t)status;
    t->proxy_made = 1;
    t->resp_any = t->resp_head_done = t->resp_done = 1;
    t->phase = TXN_DONE;
    /* Counted in its server's responses once sent, by txn_complete. */
    submit_head(st);
}

/* The response went out whole (END_STREAM sent): the txn is done. */
void h2_stream_response_sent(struct h2_stream *st)
{
    struct txn *t = st->t;
    if (!t)
        return;
    double now = ev_now(st->h->c->w->loop);
    txn_complete(t, now);
    if (access_log_enabled())
        txn_access_log(t, now);
    txn_end(t);
    st->t = NULL;
    ev_timer_stop(st->h->c->w->loop, &st->timer);
    if (!st->end_recv) {
        /* Answered before the request ended (a 413, an early error): the
         * rest of the body is taken and dropped for a moment, since some
         * clients (curl 7.88) drop a response whose stream is reset while
         * they upload; then RST_STREAM NO_ERROR (RFC 9113 8.1). */
        ev_timer_set(&st->timer, H2_LINGER_S, 0.);
        ev_timer_start(st->h->c->w->loop, &st->timer);
    }
}

void h2_stream_closed(struct h2_stream *st, uint32_t error_code)
{
    struct h2_session *h = st->h;
    struct txn *t = st->t;
    (void)error_code;
    if (t) {
        /* Reset by the client, or the connection ended, mid-response; or
         * cut by the stop's timeout shutdown (no status yet: "-"). */
        if (h->c->w->exiting)
            txn_mark_cut(t, TXN_CUT_SHUTDOWN);
        else if (!t->resp_head_done && !t->status)
            t->status = 499;
        else
            txn_mark_cut(t, TXN_CUT_CLIENT);
        if (!t->resp_head_done && !h->c->w->exiting)
            atomic_fetch_add_explicit(&metrics.requests_abandoned, 1, memory_order_relaxed);
        if (access_log_enabled() && t->line[0])
            txn_access_log(t, ev_now(h->c->w->loop));
        txn_end(t);
    }
    ev_timer_stop(h->c->w->loop, &st->timer);
    buf_put(st->hdrs);
    buf_put(st->req);
    buf_put(st->trailers);
    if (st->prev)
        st->prev->next = st->next;
    else
        h->streams = st->next;
    if (st->next)
        st->next->prev = st->prev;
    h->nstreams--;
    atomic_fetch_sub_explicit(&metrics.h2_streams_active, 1, memory_order_relaxed);
    slab_free(&stream_slabs, st);
}

/* ---- the stream sink (stream.h) ------------------------------------------------------------------ */

static void sink_send_head(void *ctx)
{
    submit_head(ctx);
}

static void sink_more(void *ctx)
{
    struct h2_stream *st = ctx;
    st->dirty = 1;
    if (st->deferred) {
        st->deferred = 0;
        nghttp2_session_resume_data(st->h->ng, st->id);
    }
}

void h2_stream_cut(struct h2_stream *st, uint32_t code)
{
    if (st->t) {
        txn_mark_cut(st->t, TXN_CUT_CLIENT);
        txn_drop_server(st->t);
    }
    stream_reset(st, code);
}

/* The client took nothing of this stream's response for timeout client
 * (forward_timeout). */
static void sink_reset(void *ctx)
{
    struct h2_stream *st = ctx;
    struct h2_session *h = st->h;
    h2_stream_cut(st, h2_abuse_stalled_code(st)); /* a shut window: zero_window */
    /* Frames the socket has not taken while its queue did not shrink for
     * that long: the client reads nothing of the connection at all, and
     * would never read the RST_STREAM either.  Closed, as HTTP/1.1's. */
    if (h2_out_unsent(h)) {
        log_info("http2: the client took nothing of the connection for timeout client: closing it");
        h->dead = 1;
    }
}

static void sink_respond_error(void *ctx, int status)
{
    answer(ctx, status);
}

static void sink_proceed(void *ctx)
{
    struct h2_stream *st = ctx;
    struct h2_session *h = st->h;
    h2_session_enter(h);
    st->dirty = 1;
    h2_session_leave(h);
}

static void sink_arm(void *ctx, uint64_t ms)
{
    struct h2_stream *st = ctx;
    struct ev_loop *loop = st->h->c->w->loop;
    ev_timer_stop(loop, &st->timer);
    ev_timer_set(&st->timer, (double)ms / 1000.0, 0.);
    ev_timer_start(loop, &st->timer);
}

static struct xprt *sink_xprt(void *ctx)
{
    struct h2_stream *st = ctx;
    return &st->h->c->x;
}

/* No SINK_RAW_H1: upstream_h1 decodes a chunked body for it. */
static const struct stream_sink h2_sink = {
    .caps = 0,
    .send_head = sink_send_head,
    .send_data = sink_more,
    .end = sink_more,
    .reset = sink_reset,
    .respond_error = sink_respond_error,
    .proceed = sink_proceed,
    .arm = sink_arm,
    .xprt = sink_xprt,
};
