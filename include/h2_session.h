/*
 * h2_session: what proto_h2.c (the connection) and h2_stream.c (its
 * streams, each a txn) share.  Internal to those two files.
 */
#ifndef PROXY_H2_SESSION_H
#define PROXY_H2_SESSION_H

#include <ev.h>
#include <nghttp2/nghttp2.h>
#include <stdint.h>

#include "buf.h"
#include "metrics.h"

struct buf;
struct conn;
struct txn;

struct h2_session {
    struct conn *c;
    nghttp2_session *ng;
    struct buf *in;              /* bytes read before the hand-over, fed first */
    struct buf *out;             /* frames on their way to the client */
    size_t out_sent;
    const uint8_t *pend;         /* the rest of nghttp2's last output that did not fit in out */
    size_t pend_len;
    struct h2_stream *streams;   /* open streams */
    unsigned nstreams;
    unsigned busy;               /* entry points on the stack: flush and free at the outermost */
    unsigned dead : 1;           /* the connection failed or is finished: freed at the outermost */
    unsigned goaway : 1;         /* GOAWAY sent: no new streams, close when the last ends */
    unsigned counted : 1;        /* in metrics.connections_http2 */
    unsigned cut : 1;            /* ended for abuse or a protocol error, counted already (h2_abuse.c):
                                    one cut, one count (a reload's GOAWAY does not turn the limits off) */
    double resets_since;         /* the start of the current 10 s window of RST_STREAMs */
    unsigned resets;
    size_t block_bytes;          /* the header block being received, CONTINUATIONs included */
    unsigned block_frames;
    size_t block_decoded;        /* what the block decoded to so far (HPACK: far more than its bytes) */
    double settings_since;       /* the start of the current 10 s window of SETTINGS frames */
    unsigned settings;
    double notice_at;            /* a reload's or a stop's first GOAWAY and its PING went then (0: not yet);
                                    the final one follows, H2_NOTICE_MAX_MS later at the latest */
    double pings_since;          /* the start of the current 10 s window of PINGs (not ACKs) */
    unsigned pings;
    unsigned refused;            /* streams refused for opening past http2 max-streams */
    const void *rt_start;        /* the generation it started on: a reload sends GOAWAY */
    struct h2_session *round_next; /* queued to write at the end of the loop round */
    struct h2_session **round_link; /* where it is linked from; NULL when not queued */
    void (*leave)(struct h2_session *h); /* proto_h2.c's: see h2_session_leave */
};

/* Frames in the output buffer the socket has not taken yet. */
static inline int h2_out_unsent(const struct h2_session *h)
{
    return h->out && h->out_sent < h->out->len;
}

struct h2_stream {
    struct h2_session *h;
    struct h2_stream *prev, *next;
    int32_t id;
    double opened_at;            /* its HEADERS began (timeout client for the rest of the block) */
    struct txn *t;
    ev_timer timer;              /* the txn's deadline (stream_sink.arm) */
    struct buf *hdrs;            /* the request's fields as they came, packed */
    uint32_t nfields;
    size_t hdr_bytes;            /* the decoded header list's size (limit header-size) */
    struct buf *req;             /* the HTTP/1.1 request for the server: t->reqbuf */
    struct buf *trailers;        /* request trailer lines ("name: value\r\n") until the body ends */
    uint64_t body_bytes;         /* request body bytes received (limit body-size) */
    size_t unacked;              /* DATA bytes in req the client's stream window has not got back */
    size_t run;                  /* chunked: body bytes at req's end not yet framed as a chunk (seal_run) */
    unsigned chunked : 1;        /* the body goes chunked (no content-length) */
    unsigned end_recv : 1;       /* the client ended its side */
    unsigned head_submitted : 1; /* response HEADERS submitted */
    unsigned deferred : 1;       /* the data provider waits for body bytes */
    unsigned dirty : 1;          /* something to drive on the server side */
    unsigned too_large : 1;      /* its header list went over limit header-size */
    unsigned head_method : 1;    /* :method is HEAD (known before the head is built) */
    unsigned path_too_long : 1;  /* :path alone over limit header-size: 414 */
    unsigned end_pending : 1;    /* the client ended: the last chunk (and trailers) wait for room in req */
    unsigned window_cut : 1;     /* reset for a window kept shut (h2_abuse.c): counted once */
    double sent_at;              /* its response's last frame went (HEADERS or DATA) */
};

/* h2_stream.c: a stream's life, called from nghttp2's callbacks. */
struct h2_stream *h2_stream_new(struct h2_session *h, int32_t id);
void h2_stream_header(struct h2_stream *st, const uint8_t *name, size_t nlen, const uint8_t *value, size_t vlen);
void h2_stream_headers_done(struct h2_stream *st, int end_stream);
void h2_stream_data(struct h2_stream *st, const uint8_t *data, size_t len);
/* One field of the client's trailers (a HEADERS frame after DATA). */
void h2_stream_trailer(struct h2_stream *st, const uint8_t *name, size_t nlen, const uint8_t *value, size_t vlen);
void h2_stream_end(struct h2_stream *st);
void h2_stream_response_sent(struct h2_stream *st);
void h2_stream_closed(struct h2_stream *st, uint32_t error_code);
/* The proxy resets the stream (RST_STREAM code), cut on the client's
 * side: its txn lets its server go at once (txn_drop_server). */
void h2_stream_cut(struct h2_stream *st, uint32_t code);
/* Makes the server side move (send request bytes, wait for the right
 * events) after bytes arrived or left. */
void h2_stream_drive(struct h2_stream *st);
void h2_stream_server_down(struct h2_stream *st);
void h2_stream_cache_clear(void);

/* h2_abuse.c: the limits a client is held to on a connection (CONTRACT 8),
 * each counted by reason in the stats, in total and per listener. */
void h2_abuse_count(struct h2_session *h, enum h2_abuse why);
/* Counts, logs and cuts the connection with GOAWAY ENHANCE_YOUR_CALM. */
void h2_abuse_cut(struct h2_session *h, enum h2_abuse why, const char *what);
/* A frame begins (nghttp2's on_begin_frame): a header block's CONTINUATIONs,
 * the SETTINGS frames and the PINGs are counted.  -1 when that cut the connection. */
int h2_abuse_frame_begins(struct h2_session *h, const nghttp2_frame_hd *hd);
void h2_abuse_reset_received(struct h2_session *h);
/* A field of the header block being received, as decoded: -1 when the
 * block is an HPACK bomb (the connection cut). */
int h2_abuse_field_decoded(struct h2_session *h, size_t namelen, size_t valuelen);
/* A frame nghttp2 refused (on_invalid_frame_recv): streams past max-streams. */
void h2_abuse_invalid_frame(struct h2_session *h, const nghttp2_frame *frame, int lib_error_code);
/* A frame went to the client: GOAWAYs nghttp2 sent for bad HPACK. */
void h2_abuse_frame_sent(struct h2_session *h, const nghttp2_frame *frame);
/* Resets the streams whose responses a shut window held too long;
 * returns the seconds until the next look (0: no stream to watch). */
double h2_abuse_window_sweep(struct h2_session *h, double now);
/* The code to reset a stream with whose client took nothing for timeout
 * client: ENHANCE_YOUR_CALM, counted as zero_window, when a shut window
 * held its response; else INTERNAL_ERROR. */
uint32_t h2_abuse_stalled_code(struct h2_stream *st);
/* How long a response may wait on a shut window, in ms. */
uint64_t h2_abuse_window_limit_ms(const struct h2_session *h);

/* Entering and leaving the connection from outside its own watcher (a
 * stream's timer, a server connection's callback, the round's end): the
 * outermost leave writes what nghttp2 has and frees a finished one.  The
 * leave is proto_h2.c's, reached through h->leave, so that h2_stream.c and
 * h2_round.c, which proto_h2.c calls, do not call it back by name. */
static inline void h2_session_enter(struct h2_session *h)
{
    h->busy++;
}

static inline void h2_session_leave(struct h2_session *h)
{
    h->leave(h);
}

/* h2_round.c: one write per loop round.  h2_round_queue returns 1 when h
 * was queued for the round's end (its leave then only drives its streams),
 * 0 when it must write now; unqueue before a session is freed; clear at
 * the thread's end. */
int h2_round_queue(struct h2_session *h);
void h2_round_unqueue(struct h2_session *h);
void h2_round_clear(void);

#endif
