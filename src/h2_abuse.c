/*
 * h2_abuse: the limits an HTTP/2 client is held to on one connection
 * (CONTRACT 8), beside nghttp2's own checks, and their counts by reason
 * (enum h2_abuse) in total (metrics.h2_goaway) and per listener
 * (struct listener_counters): each is what costs the proxy much and the
 * client little.
 *
 *   resets        more than `http2 max-resets` RST_STREAMs in 10 s (the
 *                 rapid reset, CVE-2023-44487): GOAWAY ENHANCE_YOUR_CALM;
 *   continuation  a header block in more CONTINUATION frames than
 *                 `limit header-size` needs (CVE-2024-27316): the same;
 *   flood         answers not read (nghttp2's guard, 1000 PING and
 *                 SETTINGS ACKs queued: proto_h2.c's feed; nghttp2 counts
 *                 no other frame there).  The ping and settings counts
 *                 cut a flood of either first, so this takes a client that
 *                 keeps under both for five 10 s windows with its socket
 *                 full (tests/scenario/h2_flood_unread.bash);
 *   ping          more than H2_PINGS_MAX PINGs in 10 s, their answers read
 *                 or not (a client that reads them is never flooded in
 *                 nghttp2's sense, yet each PING costs a read and an ACK):
 *                 GOAWAY ENHANCE_YOUR_CALM;
 *   settings      more than H2_SETTINGS_MAX SETTINGS frames in 10 s (each
 *                 costs an ACK and a settings pass), or one with
 *                 more than 32 entries (nghttp2's max_settings, counted as
 *                 its GOAWAY goes): GOAWAY ENHANCE_YOUR_CALM;
 *   hpack         a header block nghttp2 cannot decode, a dynamic table
 *                 size update over the advertised size among them: its
 *                 GOAWAY COMPRESSION_ERROR (RFC 9113 4.3), counted as sent;
 *   max_streams   a stream opened past `http2 max-streams`: before the
 *                 client acknowledged the setting nghttp2 refuses it
 *                 (RST_STREAM REFUSED_STREAM), after it nghttp2 cuts the
 *                 connection (GOAWAY PROTOCOL_ERROR, RFC 9113 5.1.2); a
 *                 client refused more than max-streams times (at least
 *                 H2_REFUSED_MIN) is cut with GOAWAY ENHANCE_YOUR_CALM;
 *   zero_window   a response that waits on a shut window (the stream's or
 *                 the connection's) with nothing sent for `timeout server`
 *                 (or `timeout client` when shorter): the stream is reset
 *                 (ENHANCE_YOUR_CALM), so a client that never opens its
 *                 window holds no server connection for long.  The txn's
 *                 own slow-client rule (timeout client, txn.c) may come
 *                 first: its reset is told the same way when the window is
 *                 what held the response (h2_abuse_stalled_code).
 */
#include <stdatomic.h>
#include <string.h>

#include "config.h"
#include "conn.h"
#include "h2_session.h"
#include "log.h"
#include "metrics.h"
#include "runtime.h"
#include "tls_ctx.h"
#include "txn.h"
#include "worker_ctx.h"

/* Counts are kept over windows of this length (CONTRACT 8: per 10 s).
 * The limits below are plain integer literals: the log texts that name
 * them are built from them (LIMIT_TEXT), so a text cannot say another
 * number than the one enforced. */
#define H2_ABUSE_WINDOW_S 10
/* Below nghttp2's own cut (8 CONTINUATIONs in Debian's 1.52). */
#define H2_CONTINUATIONS_MAX 6u
/* SETTINGS frames a client may send per 10 s: one at the start and a few
 * changes is what browsers and libraries send. */
#define H2_SETTINGS_MAX 100
/* PINGs a client may send per 10 s: a liveness or RTT probe every few
 * seconds is what browsers and libraries send. */
#define H2_PINGS_MAX 100
/* Refused streams a connection may collect before it is cut, whatever
 * max-streams is: a client that opens its first streams before it read
 * the setting may overshoot a small limit once. */
#define H2_REFUSED_MIN 10u

#define TEXT_OF_(x) #x
#define TEXT_OF(x) TEXT_OF_(x)
/* "more than N WHAT in W s from a client", N and W from the constants. */
#define LIMIT_TEXT(max, what) "more than " TEXT_OF(max) " " what " in " TEXT_OF(H2_ABUSE_WINDOW_S) " s from a client"

static const struct config *cfg_of(const struct h2_session *h)
{
    return h->c->w->rt->cfg;
}

void h2_abuse_count(struct h2_session *h, enum h2_abuse why)
{
    atomic_fetch_add_explicit(&metrics.h2_goaway[why], 1, memory_order_relaxed);
    if (h->c->listener)
        atomic_fetch_add_explicit(&h->c->listener->h2_goaway[why], 1, memory_order_relaxed);
}

static void cut(struct h2_session *h, const char *what)
{
    log_info("http2: %s: GOAWAY ENHANCE_YOUR_CALM", what);
    nghttp2_session_terminate_session(h->ng, NGHTTP2_ENHANCE_YOUR_CALM);
    h->goaway = 1;
    h->cut = 1;
}

void h2_abuse_cut(struct h2_session *h, enum h2_abuse why, const char *what)
{
    if (h->cut)
        return; /* already going: one cut, one count */
    h2_abuse_count(h, why);
    cut(h, what);
}

/* Twice the limit is no honest client's header list, nor its block. */
static size_t block_bytes_max(const struct h2_session *h)
{
    return 2 * cfg_of(h)->limit_header_size + 16384;
}

/* HPACK lets a field of the dynamic table be named in one byte: a 16 KiB
 * frame naming a 4000-byte entry 16000 times decodes to 64 MB, and every
 * field decoded is checked and handed over (10 ms of CPU a frame; two
 * such clients held a worker).  A list over limit header-size gets its
 * 431; one past twice that is no client's mistake. */
int h2_abuse_field_decoded(struct h2_session *h, size_t namelen, size_t valuelen)
{
    if (h->cut)
        return -1; /* going already: nothing more is decoded for it */
    h->block_decoded += namelen + valuelen + 32; /* RFC 9113 6.5.2's overhead per field */
    if (h->block_decoded <= block_bytes_max(h))
        return 0;
    log_info("http2: a header block decoding to over %zu bytes (an HPACK bomb)", block_bytes_max(h));
    h2_abuse_cut(h, H2_ABUSE_HPACK, "a header block that decodes to far more than limit header-size");
    return -1;
}

/* A header block's CONTINUATION frames, counted as they begin: nghttp2
 * (before 1.61) decodes every one of a block it already found too large,
 * so a client could make it work without end. */
static int continuation_begins(struct h2_session *h, const nghttp2_frame_hd *hd)
{
    if (hd->type == NGHTTP2_HEADERS) {
        h->block_bytes = hd->length;
        h->block_frames = 1;
        h->block_decoded = 0;
        return 0;
    }
    h->block_bytes += hd->length;
    h->block_frames++;
    /* HPACK may make a header list a little larger or much smaller than
     * its block: twice the limit is no honest client's, nor a block cut
     * in more frames than the limit needs at the 16 KiB frame size every
     * peer must take (nghttp2 stops at 8 with a PROTOCOL_ERROR: this
     * comes first, and says why). */
    size_t max_bytes = block_bytes_max(h);
    unsigned max_frames = (unsigned)(max_bytes / 16384) + 1;
    if (max_frames > H2_CONTINUATIONS_MAX)
        max_frames = H2_CONTINUATIONS_MAX;
    if ((h->block_bytes > max_bytes || h->block_frames > max_frames) && !h->cut) {
        log_info("http2: a header block in %u frames, %zu bytes", h->block_frames, h->block_bytes);
        h2_abuse_cut(h, H2_ABUSE_CONTINUATION, "a header block in too many CONTINUATION frames");
        return -1;
    }
    return 0;
}

/* One more event in a 10 s window that starts at *since: 1 when that makes
 * more than max in the window. */
static int over_in_window(struct h2_session *h, double *since, unsigned *n, unsigned max)
{
    double now = ev_now(h->c->w->loop);
    if (now - *since >= H2_ABUSE_WINDOW_S) {
        *since = now;
        *n = 0;
    }
    return ++*n > max;
}

/* A SETTINGS or PING frame from the client, of which max per 10 s are
 * allowed: nghttp2 answers each (an ACK, and for SETTINGS a settings pass)
 * and stops only when the answers pile up unread, so a client that reads
 * them could send them without end.  Their own ACKs (answers to ours) are
 * not counted. */
static int limited_frame(struct h2_session *h, const nghttp2_frame_hd *hd, double *since, unsigned *n, unsigned max,
                         enum h2_abuse why, const char *what)
{
    if (hd->flags & NGHTTP2_FLAG_ACK)
        return 0;
    if (over_in_window(h, since, n, max) && !h->cut) {
        h2_abuse_cut(h, why, what);
        return -1;
    }
    return 0;
}

int h2_abuse_frame_begins(struct h2_session *h, const nghttp2_frame_hd *hd)
{
    switch (hd->type) {
    case NGHTTP2_HEADERS:
    case NGHTTP2_CONTINUATION:
        return continuation_begins(h, hd);
    case NGHTTP2_SETTINGS:
        return limited_frame(h, hd, &h->settings_since, &h->settings, H2_SETTINGS_MAX, H2_ABUSE_SETTINGS,
                             LIMIT_TEXT(H2_SETTINGS_MAX, "SETTINGS frames"));
    case NGHTTP2_PING:
        return limited_frame(h, hd, &h->pings_since, &h->pings, H2_PINGS_MAX, H2_ABUSE_PING,
                             LIMIT_TEXT(H2_PINGS_MAX, "PINGs"));
    default:
        return 0;
    }
}

/* Rapid reset: a client that opens and cancels streams costs the proxy a
 * request each time and itself almost nothing (or makes the proxy reset
 * them: h2_abuse_frame_sent). */
void h2_abuse_reset_received(struct h2_session *h)
{
    if (over_in_window(h, &h->resets_since, &h->resets, cfg_of(h)->h2_max_resets) && !h->cut) {
        log_info("http2: more than %u stream resets in %d s", cfg_of(h)->h2_max_resets, H2_ABUSE_WINDOW_S);
        h2_abuse_cut(h, H2_ABUSE_RESETS, "a client resets streams faster than http2 max-resets");
    }
}

void h2_abuse_invalid_frame(struct h2_session *h, const nghttp2_frame *frame, int lib_error_code)
{
    unsigned max = cfg_of(h)->h2_max_streams;
    if (frame->hd.type != NGHTTP2_HEADERS || h->goaway)
        return;
    if (lib_error_code == NGHTTP2_ERR_REFUSED_STREAM) {
        /* Over the limit before the client took our SETTINGS: refused. */
        h2_abuse_count(h, H2_ABUSE_MAX_STREAMS);
        if (++h->refused > (max > H2_REFUSED_MIN ? max : H2_REFUSED_MIN))
            cut(h, "a client goes on opening streams past http2 max-streams");
    } else if (lib_error_code == NGHTTP2_ERR_PROTO && h->nstreams >= max) {
        /* Over the limit it acknowledged: nghttp2 ends the connection
         * with PROTOCOL_ERROR (RFC 9113 5.1.2) right after this. */
        log_info("http2: a client opened more than %u streams at once: GOAWAY PROTOCOL_ERROR", max);
        h2_abuse_count(h, H2_ABUSE_MAX_STREAMS);
        h->goaway = 1;
        h->cut = 1;
    }
}

/* The GOAWAYs nghttp2 decided on alone: told by their code and, for
 * ENHANCE_YOUR_CALM, by the reason nghttp2 writes in their debug data. */
void h2_abuse_frame_sent(struct h2_session *h, const nghttp2_frame *frame)
{
    if (frame->hd.type == NGHTTP2_RST_STREAM) {
        /* A stream the client made us reset (a DATA past its
         * content-length, a WINDOW_UPDATE overflowing the stream's window)
         * costs a request as a reset of its own does, and bypassed the
         * count ("MadeYouReset", CVE-2025-8671): counted alike.  Our own
         * resets (a server's cut, a refusal, a timeout) are not the
         * client's doing. */
        uint32_t code = frame->rst_stream.error_code;
        if (code == NGHTTP2_PROTOCOL_ERROR || code == NGHTTP2_FLOW_CONTROL_ERROR || code == NGHTTP2_STREAM_CLOSED ||
            code == NGHTTP2_FRAME_SIZE_ERROR)
            h2_abuse_reset_received(h);
        return;
    }
    if (frame->hd.type != NGHTTP2_GOAWAY)
        return;
    const nghttp2_goaway *g = &frame->goaway;
    if (g->error_code == NGHTTP2_COMPRESSION_ERROR) {
        log_info("http2: a header block that does not decode (HPACK): GOAWAY COMPRESSION_ERROR");
        h2_abuse_count(h, H2_ABUSE_HPACK);
    } else if (g->error_code == NGHTTP2_ENHANCE_YOUR_CALM && !h->cut && g->opaque_data_len >= 9 &&
               memcmp(g->opaque_data, "SETTINGS:", 9) == 0) {
        log_info("http2: %.*s: GOAWAY ENHANCE_YOUR_CALM", (int)g->opaque_data_len, (const char *)g->opaque_data);
        h2_abuse_count(h, H2_ABUSE_SETTINGS);
    }
}

/* ---- responses held by a shut window -------------------------------------------------------- */

uint64_t h2_abuse_window_limit_ms(const struct h2_session *h)
{
    const struct config *cfg = cfg_of(h);
    return cfg->timeout_server_ms < cfg->timeout_client_ms ? cfg->timeout_server_ms : cfg->timeout_client_ms;
}

/* Response bytes wait for the stream's window or the connection's. */
static int window_shut(const struct h2_session *h, const struct h2_stream *st)
{
    const struct txn *t = st->t;
    if (!t->rin || t->rin_sent >= t->rin_fwd)
        return 0;
    return nghttp2_session_get_stream_remote_window_size(h->ng, st->id) <= 0 ||
           nghttp2_session_get_remote_window_size(h->ng) <= 0;
}

static void window_counted(struct h2_session *h, struct h2_stream *st)
{
    st->window_cut = 1;
    h2_abuse_count(h, H2_ABUSE_ZERO_WINDOW);
}

uint32_t h2_abuse_stalled_code(struct h2_stream *st)
{
    if (!st->t || !st->head_submitted || st->window_cut || !window_shut(st->h, st))
        return NGHTTP2_INTERNAL_ERROR;
    log_info("http2: stream %d: its client took nothing of its response for timeout client, its window shut: "
             "RST_STREAM ENHANCE_YOUR_CALM", st->id);
    window_counted(st->h, st);
    return NGHTTP2_ENHANCE_YOUR_CALM;
}

double h2_abuse_window_sweep(struct h2_session *h, double now)
{
    double limit = (double)h2_abuse_window_limit_ms(h) / 1000.0, next = 0;
    for (struct h2_stream *st = h->streams; st; st = st->next) {
        if (!st->t || !st->head_submitted || st->window_cut)
            continue;
        double left = st->sent_at + limit - now;
        if (left <= 0) {
            if (window_shut(h, st)) {
                log_info("http2: stream %d: its response waited on a shut window for %.1f s: RST_STREAM "
                         "ENHANCE_YOUR_CALM", st->id, now - st->sent_at);
                window_counted(h, st);
                /* As h2_stream_cut (which calls this file, not the other way round). */
                txn_mark_cut(st->t, TXN_CUT_CLIENT);
                txn_drop_server(st->t);
                nghttp2_submit_rst_stream(h->ng, NGHTTP2_FLAG_NONE, st->id, NGHTTP2_ENHANCE_YOUR_CALM);
                continue;
            }
            left = limit / 4; /* waiting on its server, or the socket: look again */
        }
        if (next == 0 || left < next)
            next = left;
    }
    return next;
}
