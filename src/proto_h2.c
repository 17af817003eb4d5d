/*
 * proto_h2: an HTTP/2 client connection (h2_proto) - nghttp2's server
 * session fed from the conn's transport and written back through it, the
 * connection's settings, its keep-alive, GOAWAY on a graceful stop or a
 * reload.  The streams themselves, each a txn, are h2_stream.c's; the
 * abuse limits (rapid reset, floods, ...) h2_abuse.c's.
 *
 * nghttp2 is used in its memory style (mem_recv / mem_send): the proxy
 * owns the socket and the event loop, and output goes through one bounded
 * buffer of ours, because a batched send (sendq) needs its bytes to stay
 * put until the end of the round while nghttp2's own buffer is only valid
 * until the next mem_send.
 *
 * Re-entry: a stream's events come from its server connection, its timer
 * and the queue, not only from this conn's watcher.  Each entry point
 * brackets itself with h2_session_enter/leave; the outermost leave writes
 * what nghttp2 has to say and frees a finished connection, so nothing is
 * freed under a caller that still uses it.
 *
 * One write per round (h2_round.c): a leave inside the loop's round only
 * drives the streams and queues the session; its frames reach the socket
 * just before the loop waits.
 */
#include "proto_h2.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "config.h"
#include "h2_session.h"
#include "log.h"
#include "metrics.h"
#include "runtime.h"
#include "slab.h"
#include "worker_ctx.h"
#include "xprt.h"

/* The connection window: large enough that one upload is not held to the
 * 64 KiB stream window per round trip on the whole connection. */
#define H2_CONN_WINDOW (1 << 20)
#define H2_READ_CHUNK 16384
/* How long the final GOAWAY of a reload or a stop waits for the ACK of the
 * notice's PING (a client that never answers still gets it). */
#define H2_NOTICE_MAX_MS 1000

/* The notice's PING: its ACK says the client has read the notice. */
static const uint8_t notice_ping[8] = {'g', 'o', 'a', 'w', 'a', 'y', '?', '!'};
static void send_goaway(struct h2_session *h);

static struct h2_session *sess(const struct conn *c)
{
    return ((const struct h2_conn *)c)->h;
}

static const struct config *h2_cfg(const struct h2_session *h)
{
    return h->c->w->rt->cfg;
}

/* ---- nghttp2's callbacks --------------------------------------------------------------------- */

static struct h2_stream *stream_of(nghttp2_session *ng, int32_t id)
{
    return id ? nghttp2_session_get_stream_user_data(ng, id) : NULL;
}

static int on_begin_headers(nghttp2_session *ng, const nghttp2_frame *frame, void *user)
{
    struct h2_session *h = user;
    if (frame->hd.type != NGHTTP2_HEADERS || frame->headers.cat != NGHTTP2_HCAT_REQUEST)
        return 0;
    struct h2_stream *st = h2_stream_new(h, frame->hd.stream_id);
    if (!st)
        return NGHTTP2_ERR_TEMPORAL_CALLBACK_FAILURE; /* out of memory: this stream is refused */
    nghttp2_session_set_stream_user_data(ng, frame->hd.stream_id, st);
    return 0;
}

static int on_begin_frame(nghttp2_session *ng, const nghttp2_frame_hd *hd, void *user)
{
    (void)ng;
    return h2_abuse_frame_begins(user, hd) < 0 ? NGHTTP2_ERR_CALLBACK_FAILURE : 0;
}

static int on_invalid_frame_recv(nghttp2_session *ng, const nghttp2_frame *frame, int lib_error_code, void *user)
{
    (void)ng;
    h2_abuse_invalid_frame(user, frame, lib_error_code);
    return 0;
}

static int on_header(nghttp2_session *ng, const nghttp2_frame *frame, const uint8_t *name, size_t namelen,
                     const uint8_t *value, size_t valuelen, uint8_t flags, void *user)
{
    (void)flags;
    if (h2_abuse_field_decoded(user, namelen, valuelen) < 0)
        return NGHTTP2_ERR_CALLBACK_FAILURE;
    struct h2_stream *st = stream_of(ng, frame->hd.stream_id);
    if (!st || frame->hd.type != NGHTTP2_HEADERS)
        return 0;
    if (frame->headers.cat == NGHTTP2_HCAT_REQUEST)
        h2_stream_header(st, name, namelen, value, valuelen);
    else if (frame->headers.cat == NGHTTP2_HCAT_HEADERS)
        h2_stream_trailer(st, name, namelen, value, valuelen); /* trailers (nghttp2 checked END_STREAM) */
    return 0;
}

static int on_frame_recv(nghttp2_session *ng, const nghttp2_frame *frame, void *user)
{
    struct h2_session *h = user;
    struct h2_stream *st = stream_of(ng, frame->hd.stream_id);
    int end = (frame->hd.flags & NGHTTP2_FLAG_END_STREAM) != 0;

    switch (frame->hd.type) {
    case NGHTTP2_HEADERS:
        if (!st)
            break;
        if (frame->headers.cat == NGHTTP2_HCAT_REQUEST)
            h2_stream_headers_done(st, end);
        else if (end)
            h2_stream_end(st); /* trailers end the body */
        break;
    case NGHTTP2_DATA:
        if (st && end)
            h2_stream_end(st);
        break;
    case NGHTTP2_RST_STREAM:
        h2_abuse_reset_received(h);
        break;
    case NGHTTP2_PING:
        /* The client has read the notice: whatever it sent before is in. */
        if ((frame->hd.flags & NGHTTP2_FLAG_ACK) && h->notice_at > 0 &&
            memcmp(frame->ping.opaque_data, notice_ping, sizeof notice_ping) == 0)
            send_goaway(h);
        break;
    default:
        break;
    }
    return 0;
}

static int on_data_chunk_recv(nghttp2_session *ng, uint8_t flags, int32_t id, const uint8_t *data, size_t len,
                              void *user)
{
    (void)flags;
    (void)user;
    /* The connection window goes back at once: a stream's own window
     * bounds what it buffers, and one slow server must not stall the
     * others' uploads. */
    nghttp2_session_consume_connection(ng, len);
    struct h2_stream *st = stream_of(ng, id);
    if (st)
        h2_stream_data(st, data, len);
    else
        nghttp2_session_consume_stream(ng, id, len);
    return 0;
}

static int on_frame_send(nghttp2_session *ng, const nghttp2_frame *frame, void *user)
{
    struct h2_session *h = user;
    struct h2_stream *st = stream_of(ng, frame->hd.stream_id);
    h2_abuse_frame_sent(h, frame);
    if (!st || (frame->hd.type != NGHTTP2_HEADERS && frame->hd.type != NGHTTP2_DATA))
        return 0;
    if (frame->hd.flags & NGHTTP2_FLAG_END_STREAM) {
        h2_stream_response_sent(st);
        return 0;
    }
    /* More of the response to come: watched for a window kept shut. */
    st->sent_at = ev_now(h->c->w->loop);
    conn_timer_at_most(h->c, h2_abuse_window_limit_ms(h));
    return 0;
}

static int on_stream_close(nghttp2_session *ng, int32_t id, uint32_t error_code, void *user)
{
    (void)user;
    struct h2_stream *st = stream_of(ng, id);
    if (st) {
        nghttp2_session_set_stream_user_data(ng, id, NULL);
        h2_stream_closed(st, error_code);
    }
    return 0;
}

static _Thread_local nghttp2_session_callbacks *cbs;

static nghttp2_session_callbacks *callbacks(void)
{
    if (!cbs && nghttp2_session_callbacks_new(&cbs) == 0) {
        nghttp2_session_callbacks_set_on_begin_frame_callback(cbs, on_begin_frame);
        nghttp2_session_callbacks_set_on_begin_headers_callback(cbs, on_begin_headers);
        nghttp2_session_callbacks_set_on_header_callback(cbs, on_header);
        nghttp2_session_callbacks_set_on_invalid_frame_recv_callback(cbs, on_invalid_frame_recv);
        nghttp2_session_callbacks_set_on_frame_recv_callback(cbs, on_frame_recv);
        nghttp2_session_callbacks_set_on_data_chunk_recv_callback(cbs, on_data_chunk_recv);
        nghttp2_session_callbacks_set_on_frame_send_callback(cbs, on_frame_send);
        nghttp2_session_callbacks_set_on_stream_close_callback(cbs, on_stream_close);
    }
    return cbs;
}

/* ---- nghttp2's memory ---------------------------------------------------------------------------
 * nghttp2 takes about four blocks from its allocator per stream (the
 * stream, its outbound items, copies of the response fields) and gives
 * them back as the stream ends.  They come from the worker's slabs by size
 * class rather than the general heap: a slab pop and push is a fraction of
 * malloc and free, and a burst's blocks leave no holes between longer-lived
 * heap objects.  A header before each block keeps its class; blocks over
 * the largest class (the session's frame buffer, HPACK tables) are heap
 * blocks.  Sessions live and die on their worker's thread, as the pools. */
#define H2_MEM_HEADER 16 /* keeps the block 16-byte aligned */
#define H2_MEM_CLASSES 6 /* 64 to 2048 bytes, header included */
#define H2_MEM_HEAP 0xff

static _Thread_local struct slab_pool mem_pools[H2_MEM_CLASSES] = {
    {.size = 64}, {.size = 128}, {.size = 256}, {.size = 512}, {.size = 1024}, {.size = 2048},
};

static unsigned mem_class(size_t size)
{
    if (size > 2048 - H2_MEM_HEADER)
        return H2_MEM_HEAP;
    unsigned c = 0;
    while (mem_pools[c].size - H2_MEM_HEADER < size)
        c++;
    return c;
}

static void *mem_block(size_t size, int zeroed)
{
    if (size > SIZE_MAX - H2_MEM_HEADER)
        return NULL;
    unsigned c = mem_class(size);
    unsigned char *p;
    if (c != H2_MEM_HEAP)
        p = slab_alloc(&mem_pools[c]); /* zeroed by the slab */
    else
        p = zeroed ? calloc(1, size + H2_MEM_HEADER) : malloc(size + H2_MEM_HEADER);
    if (!p)
        return NULL;
    p[0] = (unsigned char)c;
    return p + H2_MEM_HEADER;
}

static void *mem_malloc(size_t size, void *mem_user_data)
{
    (void)mem_user_data;
    return mem_block(size, 0);
}

static void mem_free(void *ptr, void *mem_user_data)
{
    (void)mem_user_data;
    if (!ptr)
        return;
    unsigned char *p = (unsigned char *)ptr - H2_MEM_HEADER;
    if (p[0] == H2_MEM_HEAP)
        free(p);
    else
        slab_free(&mem_pools[p[0]], p);
}

static void *mem_calloc(size_t n, size_t size, void *mem_user_data)
{
    (void)mem_user_data;
    if (size && n > SIZE_MAX / size)
        return NULL;
    return mem_block(n * size, 1);
}

static void *mem_realloc(void *ptr, size_t size, void *mem_user_data)
{
    if (!ptr)
        return mem_malloc(size, mem_user_data);
    unsigned char *p = (unsigned char *)ptr - H2_MEM_HEADER;
    if (p[0] == H2_MEM_HEAP) {
        /* A heap block stays one, whatever its new size. */
        if (size > SIZE_MAX - H2_MEM_HEADER || !(p = realloc(p, size + H2_MEM_HEADER)))
            return NULL;
        return p + H2_MEM_HEADER;
    }
    size_t room = mem_pools[p[0]].size - H2_MEM_HEADER;
    if (size <= room)
        return ptr;
    void *bigger = mem_block(size, 0);
    if (!bigger)
        return NULL;
    memcpy(bigger, ptr, room);
    mem_free(ptr, mem_user_data);
    return bigger;
}

static nghttp2_mem session_mem = {
    .malloc = mem_malloc, .free = mem_free, .calloc = mem_calloc, .realloc = mem_realloc,
};

void proto_h2_cache_clear(void)
{
    h2_round_clear();
    nghttp2_session_callbacks_del(cbs);
    cbs = NULL;
    h2_stream_cache_clear();
    for (unsigned c = 0; c < H2_MEM_CLASSES; c++)
        slab_release_spare(&mem_pools[c]);
}

/* ---- output ------------------------------------------------------------------------------------ */

/* Moves nghttp2's output into out and out to the socket, as far as each
 * takes it.  A batched send keeps out's bytes in place until it is done. */
static void flush(struct h2_session *h)
{
    struct xprt *x = &h->c->x;

    for (int round = 0; round < 16 && !h->dead; round++) {
        if (xprt_send_pending(x))
            return; /* sendq wakes us (h2_sendq) when it went */
        if (!h->out && !(h->out = buf_get(BUF_LARGE))) {
            h->dead = 1;
            return;
        }
        if (h->out_sent == h->out->len)
            h->out->len = h->out_sent = 0;
        while (h->out->len < h->out->cap) {
            if (h->pend_len == 0) {
                ssize_t n = nghttp2_session_mem_send(h->ng, &h->pend);
                if (n < 0) {
                    h->dead = 1;
                    return;
                }
                if (n == 0)
                    break;
                h->pend_len = (size_t)n;
            }
            size_t room = h->out->cap - h->out->len;
            size_t take = h->pend_len < room ? h->pend_len : room;
            memcpy(h->out->data + h->out->len, h->pend, take);
            h->out->len += take;
            h->pend += take;
            h->pend_len -= take;
        }
        if (h->out_sent == h->out->len)
            return;
        if (xprt_send(x, h->out->data, &h->out_sent, h->out->len) < 0) {
            h->dead = 1;
            return;
        }
        if (h->out_sent < h->out->len)
            return; /* the socket is full, or the send is queued */
    }
}

static int output_waiting(const struct h2_session *h)
{
    return h2_out_unsent(h) || h->pend_len > 0 || nghttp2_session_want_write(h->ng);
}

static void send_goaway(struct h2_session *h)
{
    if (h->goaway)
        return;
    h->goaway = 1;
    nghttp2_submit_goaway(h->ng, NGHTTP2_FLAG_NONE, nghttp2_session_get_last_proc_stream_id(h->ng),
                          NGHTTP2_NO_ERROR, NULL, 0);
}

/* A reload or a graceful stop, in two steps (RFC 9113 6.8): a GOAWAY with
 * the largest stream id and a PING first, so that the streams the client
 * sent before it read them are still served, not refused (a client that
 * does not retry would see them fail); the GOAWAY with the real last
 * stream id when the PING's ACK comes back, one round trip later, or
 * after H2_NOTICE_MAX_MS. */
static void begin_goaway(struct h2_session *h)
{
    if (h->goaway || h->notice_at > 0)
        return;
    if (nghttp2_submit_shutdown_notice(h->ng) != 0 ||
        nghttp2_submit_ping(h->ng, NGHTTP2_FLAG_NONE, notice_ping) != 0) {
        send_goaway(h);
        return;
    }
    h->notice_at = ev_now(h->c->w->loop);
    conn_timer_at_most(h->c, H2_NOTICE_MAX_MS);
}

/* Milliseconds until the notice's final GOAWAY is due (0: it is), or -1
 * when none waits. */
static int64_t notice_left_ms(const struct h2_session *h)
{
    if (h->notice_at == 0 || h->goaway)
        return -1;
    double left = h->notice_at + H2_NOTICE_MAX_MS / 1000.0 - ev_now(h->c->w->loop);
    return left > 0 ? (int64_t)(left * 1000.0) + 1 : 0;
}

/* ---- the driver ------------------------------------------------------------------------------- */

static void drive_streams(struct h2_session *h)
{
    for (struct h2_stream *st = h->streams, *next; st; st = next) {
        next = st->next;
        if (st->dirty) {
            st->dirty = 0;
            h2_stream_drive(st);
        }
    }
}

/* h->leave: the outermost leave writes and frees (h2_session.h). */
static void session_leave(struct h2_session *h)
{
    struct conn *c = h->c;

    if (--h->busy > 0)
        return;
    h->busy = 1; /* nghttp2's callbacks run below: they must not get here again */
    /* A graceful stop, or a reload: the client opens no more streams here
     * and comes back on a new connection (to the new settings). */
    if (!h->goaway && (c->w->stopping || (const void *)c->w->rt != h->rt_start))
        begin_goaway(h);
    if (!h->dead && h2_round_queue(h)) {
        /* The server side moves in this round; the frames, the idle and
         * the watcher's events are the round's end's (h2_round.c). */
        drive_streams(h);
        h->busy = 0;
        if (!h->dead)
            return;
        h2_round_unqueue(h);
        h->busy = 1;
    }
    h2_round_unqueue(h);
    for (int i = 0; i < 4 && !h->dead; i++) {
        flush(h);
        drive_streams(h);
        if (!nghttp2_session_want_write(h->ng) && !h->pend_len)
            break;
    }
    h->busy = 0;
    int out_idle = !h2_out_unsent(h) && !h->pend_len && !xprt_send_pending(&c->x);
    if (out_idle && h->out) {
        /* An idle connection holds no output buffer (DESIGN: memory). */
        buf_put(h->out);
        h->out = NULL;
        h->out_sent = 0;
    }
    if (!h->dead && out_idle && !nghttp2_session_want_read(h->ng) && !nghttp2_session_want_write(h->ng))
        h->dead = 1;
    if (!h->dead && out_idle && h->goaway && h->nstreams == 0 && !nghttp2_session_want_write(h->ng))
        h->dead = 1;
    if (h->dead) {
        conn_free(c);
        return;
    }
    if (h->nstreams == 0 && !c->idle_listed) {
        conn_idle_enter(c);
        conn_timer_set(c, h2_cfg(h)->timeout_keep_alive_ms);
        int64_t notice_ms = notice_left_ms(h);
        if (notice_ms >= 0)
            conn_timer_at_most(c, (uint64_t)notice_ms);
    } else if (h->nstreams > 0) {
        conn_idle_leave(c);
    }
    int ev = 0;
    if (nghttp2_session_want_read(h->ng))
        ev |= EV_READ;
    /* More than one turn's worth of frames waits: go on when the socket
     * takes more (a queued send wakes us by itself). */
    if ((h2_out_unsent(h) || h->pend_len || nghttp2_session_want_write(h->ng)) &&
        !xprt_send_pending(&c->x))
        ev |= EV_WRITE;
    conn_io_want(c->w->loop, &c->io, &c->x, ev);
}

static void feed(struct h2_session *h, const char *data, size_t len)
{
    ssize_t n = nghttp2_session_mem_recv(h->ng, (const uint8_t *)data, len);
    if (n < 0) {
        log_debug("http2: %s: closing the connection", nghttp2_strerror((int)n));
        /* Answers the client does not read: nghttp2 counts the PING and
         * SETTINGS ACKs queued (1000 at most); a flood of either is cut
         * before, by its own count in h2_abuse.c. */
        if (n == NGHTTP2_ERR_FLOODED)
            h2_abuse_cut(h, H2_ABUSE_FLOOD, "a client floods the connection with PINGs and SETTINGS to answer");
        /* nghttp2 queued a GOAWAY for most errors: let it out, then close. */
        if (!h->goaway)
            nghttp2_session_terminate_session(h->ng, NGHTTP2_PROTOCOL_ERROR);
        h->goaway = 1;
        flush(h);
        h->dead = 1;
    }
}

static void client_read(struct h2_session *h)
{
    char buf[H2_READ_CHUNK];

    for (int i = 0; i < 8 && !h->dead && nghttp2_session_want_read(h->ng); i++) {
        ssize_t n = xprt_recv(&h->c->x, buf, sizeof buf);
        if (n > 0) {
            feed(h, buf, (size_t)n);
            continue;
        }
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
            return;
        h->dead = 1; /* the client closed: its open streams are cut (h2_release) */
        return;
    }
    /* More may wait: come back in the next round rather than starve others. */
    if (!h->dead && nghttp2_session_want_read(h->ng))
        conn_read_next_round(h->c);
}

/* ---- the conn's protocol ------------------------------------------------------------------------ */

static void h2_io(struct conn *c, int revents)
{
    struct h2_session *h = sess(c);

    if (!h) {
        conn_free(c); /* proto_h2_adopt ran out of memory */
        return;
    }
    h2_session_enter(h);
    if (h->in) {
        struct buf *in = h->in;
        h->in = NULL;
        feed(h, in->data, in->len);
        buf_put(in);
    }
    if ((revents & EV_READ) && !h->dead)
        client_read(h);
    session_leave(h);
}

static void h2_timeout(struct conn *c)
{
    struct h2_session *h = sess(c);

    if (!h) {
        conn_free(c);
        return;
    }
    h2_session_enter(h);
    if (h->nstreams == 0 && h->goaway && output_waiting(h)) {
        /* Its GOAWAY and what was before it did not get out within timeout
         * client: a client that reads nothing.  Closed: its output would
         * never drain, the connection outlived every timeout and held its
         * max-conns slot (an idle one with output waiting is not closed
         * for room either). */
        h->dead = 1;
    } else if (h->nstreams == 0) {
        /* timeout keep-alive: nothing asked for that long (or a notice's
         * PING not answered in time).  The GOAWAY gets timeout client to
         * go out. */
        send_goaway(h);
        conn_timer_set(c, h2_cfg(h)->timeout_client_ms);
    } else {
        int64_t notice_ms = notice_left_ms(h);
        if (notice_ms == 0)
            send_goaway(h); /* the notice's PING not answered in time */
        /* timeout client for a header block still coming (a slowloris on
         * HTTP/2 holds a stream open with a HEADERS frame that never
         * ends); a stream with its request is timed by its txn. */
        double now = ev_now(c->w->loop), limit = (double)h2_cfg(h)->timeout_client_ms / 1000.0, next = 0;
        for (struct h2_stream *st = h->streams; st; st = st->next) {
            if (!st->hdrs)
                continue;
            if (now - st->opened_at >= limit) {
                nghttp2_submit_rst_stream(h->ng, NGHTTP2_FLAG_NONE, st->id, NGHTTP2_CANCEL);
                continue;
            }
            double left = st->opened_at + limit - now;
            if (next == 0 || left < next)
                next = left;
        }
        double window_next = h2_abuse_window_sweep(h, now);
        if (window_next > 0 && (next == 0 || window_next < next))
            next = window_next;
        if (notice_ms > 0 && (next == 0 || notice_ms / 1000.0 < next))
            next = notice_ms / 1000.0;
        if (next > 0)
            conn_timer_set(c, (uint64_t)(next * 1000.0) + 1);
    }
    session_leave(h);
}

static int h2_idle(const struct conn *c)
{
    const struct h2_session *h = sess(c);
    return !h || (h->nstreams == 0 && !output_waiting(h));
}

static void h2_server_down(struct conn *c)
{
    struct h2_session *h = sess(c);

    if (!h)
        return;
    h2_session_enter(h);
    for (struct h2_stream *st = h->streams, *next; st; st = next) {
        next = st->next;
        h2_stream_server_down(st);
    }
    session_leave(h);
}

static void h2_drain(struct conn *c)
{
    struct h2_session *h = sess(c);

    if (!h)
        return;
    h2_session_enter(h);
    begin_goaway(h);
    session_leave(h);
}

static void h2_release(struct conn *c)
{
    struct h2_session *h = sess(c);

    if (!h)
        return;
    /* Closed by us while idle (at a stop, or for room): say so with a
     * GOAWAY rather than a bare FIN, as far as the socket takes it now. */
    if (!h->dead && h->nstreams == 0) {
        send_goaway(h);
        h->busy = 1;
        flush(h);
    }
    while (h->streams) {
        struct h2_stream *st = h->streams;
        nghttp2_session_set_stream_user_data(h->ng, st->id, NULL);
        h2_stream_closed(st, NGHTTP2_CANCEL);
    }
    h2_round_unqueue(h);
    xprt_settle(&c->x); /* frames queued this round still go, before out goes */
    nghttp2_session_del(h->ng);
    buf_put(h->in);
    buf_put(h->out);
    if (h->counted)
        atomic_fetch_sub_explicit(&metrics.connections_http2, 1, memory_order_relaxed);
    free(h);
    ((struct h2_conn *)c)->h = NULL;
}

static void h2_sent(void *owner, size_t bytes)
{
    (void)owner;
    (void)bytes;
}

static void h2_woke(void *owner)
{
    struct h2_session *h = sess(owner);
    h2_session_enter(h);
    session_leave(h);
}

static const struct sendq_ops h2_sendq = {h2_sent, h2_woke};

/* Never started directly: a conn becomes HTTP/2 through proto_h2_adopt. */
static void h2_start(struct conn *c)
{
    h2_io(c, EV_READ);
}

const struct conn_proto h2_proto = {
    .name = "h2",
    .size = sizeof(struct h2_conn),
    .sendq = &h2_sendq,
    .start = h2_start,
    .io = h2_io,
    .timeout = h2_timeout,
    .idle = h2_idle,
    .server_down = h2_server_down,
    .drain = h2_drain,
    .release = h2_release,
    .tls_reads_next_round = 1,
};

static int session_setup(struct h2_session *h, const struct config *cfg)
{
    nghttp2_option *opt;
    if (!callbacks() || nghttp2_option_new(&opt) != 0)
        return -1;
    /* Stream windows go back as the bytes reach the server (h2_stream.c),
     * which is how a slow server slows its client's upload. */
    nghttp2_option_set_no_auto_window_update(opt, 1);
    int rc = nghttp2_session_server_new3(&h->ng, callbacks(), h, opt, &session_mem);
    nghttp2_option_del(opt);
    if (rc != 0)
        return -1;
    nghttp2_settings_entry iv[] = {
        {NGHTTP2_SETTINGS_MAX_CONCURRENT_STREAMS, cfg->h2_max_streams},
        {NGHTTP2_SETTINGS_INITIAL_WINDOW_SIZE, (uint32_t)cfg->h2_window},
        {NGHTTP2_SETTINGS_MAX_HEADER_LIST_SIZE, (uint32_t)cfg->limit_header_size},
    };
    if (nghttp2_submit_settings(h->ng, NGHTTP2_FLAG_NONE, iv, sizeof iv / sizeof iv[0]) != 0 ||
        nghttp2_session_set_local_window_size(h->ng, NGHTTP2_FLAG_NONE, 0, H2_CONN_WINDOW) != 0)
        return -1;
    return 0;
}

void proto_h2_adopt(struct conn *c, struct buf *in)
{
    struct h2_conn *hc = (struct h2_conn *)c;
    struct h2_session *h = calloc(1, sizeof *h);

    c->proto = &h2_proto;
    hc->h = h;
    xprt_set_owner(&c->x, &h2_sendq, c);
    if (!h || session_setup(h, c->w->rt->cfg) < 0) {
        if (h) {
            if (h->ng)
                nghttp2_session_del(h->ng);
            free(h);
        }
        hc->h = NULL;
        buf_put(in);
        /* No state to run it: the next readiness finds none and closes. */
        ev_feed_event(c->w->loop, &c->io, EV_READ);
        return;
    }
    h->c = c;
    h->leave = session_leave;
    h->in = in;
    h->rt_start = c->w->rt;
    h->counted = 1;
    atomic_fetch_add_explicit(&metrics.connections_http2, 1, memory_order_relaxed);
    atomic_fetch_add_explicit(&metrics.connections_http2_total, 1, memory_order_relaxed);
    /* Go on from the loop, not under the HTTP/1 code that handed it over. */
    ev_feed_event(c->w->loop, &c->io, EV_READ);
}
