/*
 * fuzz_trailer: a server's response read the way upstream_h1.c reads it,
 * above all a chunked body's trailer section - parsed and kept by http.c,
 * held back from the client, filtered and rewritten by http_trailer.c
 * (hop-by-hop fields, the names the section's Connection fields list) -
 * and what each kind of client then gets.
 *
 * upstream_h1.c is compiled into this harness (included below, its own
 * object left out of the link): the code that holds the section back and
 * puts it back rewritten is its static response_body and
 * trailers_rewritten, which no other seam reaches without sockets.  The
 * harness drives its process_response and up_eof with a txn of its own
 * (the real txn.c events, a sink that records what it is told) as up_read
 * does: the server's bytes arrive in rin piece by piece, and a client
 * takes what rin_fwd says is ready, compacting rin as proto_h1.c does.
 * rin is a large buffer from the start (as grow_rin makes it for a chunked
 * body) on the heap, where ASan sees what is read or written past it.
 *
 *   data[0]  bits 0-1  the client: 0 = HTTP/1.1 kept open, 1 = HTTP/1.0
 *                      (the body decoded), 2 = an HTTP/2 stream (decoded,
 *                      the trailer fields kept for a HEADERS frame),
 *                      3 = HTTP/1.1 that closes after this response
 *            bits 2-3  limit response-header-size: 16k, 512, 2k, 64k
 *            bit 4     the request was HEAD
 *            bit 5     the server closes after its last byte (else it
 *                      goes quiet)
 *            bit 6     the client reads only when rin is full or at the
 *                      end (the proxy's buffer backs up)
 *            bit 7     the server's bytes arrive in one piece
 *   data[1]  seed of the piece sizes
 *
 * The rest is what the server sends; when it does not start with "HTTP/",
 * a chunked 200 head is sent before it, so that most inputs are bodies.
 * Besides the sanitizers, it aborts when an invariant breaks:
 *
 *  - a 502 only before any head went to the client;
 *  - an HTTP/1.1 client reads an edited head, then the same body (the
 *    bytes a reference parse of the server's message decodes) and, when
 *    the response ended, exactly the server's trailer fields that go on,
 *    in order: none hop-by-hop, none that may not trail a body (RFC 9110
 *    6.5.1), none a Connection field of the section or of the head names;
 *    the message ends at the last byte it gets (nothing of what a server
 *    sends after its message);
 *  - a response cut short never looks whole to that client, and no byte
 *    of a trailer section reaches it before the section is complete;
 *  - an HTTP/1.0 client or an HTTP/2 stream gets a prefix of the decoded
 *    body (all of it once the response ended), no framing; the HTTP/2
 *    stream's trailer fields are among those that go on, in order;
 *  - a complete message with no trailer section and room to flow always
 *    ends (never cut for nothing);
 *  - a chunked response ends, for any client, only when a reader by the
 *    book (strict_chunked_end, fuzz_chunked.h) finds its body whole and
 *    valid: a folded trailer line (obs-fold) among others is a cut.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <ev.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* The code under test, its static functions included. */
#include "../../src/upstream_h1.c"

#include "h2_headers.h"
#include "log.h"
#include "fuzz_chunked.h"
#include "fuzz_list.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(c)                                                                              \
    do {                                                                                      \
        if (!(c)) {                                                                           \
            fprintf(stderr, "fuzz_trailer: invariant failed: %s (%s:%d)\n", #c, __FILE__,      \
                    __LINE__);                                                                \
            abort();                                                                          \
        }                                                                                     \
    } while (0)

enum { CLIENT_H11, CLIENT_H10, CLIENT_H2, CLIENT_H11_CLOSE };

static const char default_head[] = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n";

#define MAX_LINES 20000 /* a 64 KiB section of "a:" lines */
#define H2_FIELDS 128

/* ---- the txn's surroundings ----------------------------------------------------------- */

static struct config cfg;
static struct runtime rt;
static struct config_pool pool_cfg;
static struct pool pool;
static struct server srv;
static struct worker worker;
static struct upstream_conn up;
static struct xprt client_xprt; /* never anything pending: the client's socket takes all */

/* What the sink was told. */
static struct {
    int client;
    int heads, ends, error;
} sk;

static void sink_send_head(void *ctx)
{
    struct txn *t = ctx;
    sk.heads++;
    if (sk.client == CLIENT_H2) {
        /* h2_stream.c's submit_head: a decoded body's trailer fields are
         * kept (upstream_h1.c asked for them with the head) for the
         * HEADERS frame after the DATA, unless no body goes. */
        int bodiless = t->method == HTTP_HEAD || t->status == 204 || t->status == 304;
        if (bodiless)
            t->resp.keep_trailers = 0;
    }
}

static void sink_nothing(void *ctx)
{
    (void)ctx;
}

static void sink_end(void *ctx)
{
    (void)ctx;
    sk.ends++;
}

static void sink_respond_error(void *ctx, int status)
{
    (void)ctx;
    sk.error = status;
}

static void sink_arm(void *ctx, uint64_t ms)
{
    (void)ctx;
    (void)ms;
}

static struct xprt *sink_xprt(void *ctx)
{
    (void)ctx;
    return &client_xprt;
}

static struct stream_sink sink = {
    .send_head = sink_send_head,
    .send_data = sink_nothing,
    .end = sink_end,
    .reset = sink_nothing,
    .respond_error = sink_respond_error,
    .proceed = sink_nothing,
    .arm = sink_arm,
    .xprt = sink_xprt,
};

static void setup_once(void)
{
    static int done;
    if (done)
        return;
    done = 1;
    log_set_level(LOG_ERROR); /* the cuts' log_info lines go nowhere */
    worker.loop = ev_loop_new(EVFLAG_AUTO);
    CHECK(worker.loop != NULL);
    rt.cfg = &cfg;
    worker.rt = &rt;
    pool.cfg = &pool_cfg;
    snprintf(pool_cfg.name, sizeof pool_cfg.name, "p");
    snprintf(srv.name, sizeof srv.name, "s");
    cfg.limit_headers = 100;
}

/* ---- bytes ----------------------------------------------------------------------------- */

struct bytes {
    char *p;
    size_t len, cap;
};

static void bytes_add(struct bytes *b, const char *p, size_t n)
{
    if (b->len + n > b->cap) {
        size_t cap = b->cap ? b->cap : 4096;
        while (cap < b->len + n)
            cap *= 2;
        b->p = realloc(b->p, cap);
        CHECK(b->p != NULL);
        b->cap = cap;
    }
    if (n)
        memcpy(b->p + b->len, p, n);
    b->len += n;
}

static char *dup_bytes(const char *p, size_t n)
{
    char *c = malloc(n ? n : 1);
    CHECK(c != NULL);
    if (n)
        memcpy(c, p, n);
    return c;
}

static uint32_t rnd(uint32_t *s)
{
    uint32_t x = *s ? *s : 0x9e3779b9u;
    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    return *s = x;
}

/* ---- trailer fields, read independently ------------------------------------------------------ */

struct field {
    const char *name, *value;
    size_t nlen, vlen;
};

/* The "name:value\r\n" lines of a kept section (http_msg's form), values
 * without their blanks.  Returns how many. */
static int fields_of(const char *p, size_t len, struct field *f, int max)
{
    if (len == 0)
        return 0; /* p may be NULL then */
    const char *end = p + len;
    int n = 0;
    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        CHECK(nl != NULL && nl > p && nl[-1] == '\r');
        const char *colon = memchr(p, ':', (size_t)(nl - p));
        CHECK(colon != NULL);
        const char *v = colon + 1, *ve = nl - 1;
        while (v < ve && (*v == ' ' || *v == '\t'))
            v++;
        while (ve > v && (ve[-1] == ' ' || ve[-1] == '\t'))
            ve--;
        CHECK(n < max);
        f[n++] = (struct field){p, v, (size_t)(colon - p), (size_t)(ve - v)};
        p = nl + 1;
    }
    return n;
}

static int name_is(const struct field *f, const char *lit)
{
    return strlen(lit) == f->nlen && strncasecmp(f->name, lit, f->nlen) == 0;
}

static int same_name(const struct field *a, const struct field *b)
{
    return a->nlen == b->nlen && strncasecmp(a->name, b->name, a->nlen) == 0;
}

static int hop_by_hop(const struct field *f)
{
    return name_is(f, "connection") || name_is(f, "keep-alive") || name_is(f, "proxy-connection") ||
           name_is(f, "transfer-encoding") || name_is(f, "te") || name_is(f, "trailer") || name_is(f, "upgrade");
}

/* What may not trail a body (RFC 9110 6.5.1): framing, routing,
 * authentication, controls, the content's format. */
static int forbidden(const struct field *f)
{
    static const char *const names[] = {"content-length", "host", "content-encoding", "content-type",
                                        "content-range", "authorization", "proxy-authorization",
                                        "www-authenticate", "proxy-authenticate", "set-cookie", "cookie"};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        if (name_is(f, names[i]))
            return 1;
    return 0;
}

/* Whether a Connection field among f[0..n) lists the name of g. */
static int named_by_connection(const struct field *f, int n, const struct field *g)
{
    for (int i = 0; i < n; i++) {
        if (!name_is(&f[i], "connection"))
            continue;
        if (fuzz_list_names(f[i].value, f[i].vlen, g->name, g->nlen))
            return 1;
    }
    return 0;
}

/* The fields of the server's section that go on, in order: not
 * hop-by-hop, not forbidden, not named by a Connection field of the
 * section or of the head (head[0..nhead): its Connection fields; a
 * "close" there is the connection's, not a field's name). */
static int forwarded_of(const struct field *f, int n, const struct field *head, int nhead, struct field *out)
{
    static const struct field close_field = {"close", "", 5, 0};
    int k = 0;
    for (int i = 0; i < n; i++)
        if (!hop_by_hop(&f[i]) && !forbidden(&f[i]) && !named_by_connection(f, n, &f[i]) &&
            (same_name(&f[i], &close_field) || !named_by_connection(head, nhead, &f[i])))
            out[k++] = f[i];
    return k;
}

static int same_field(const struct field *a, const char *name, size_t nlen, const char *value, size_t vlen,
                      int any_case)
{
    if (a->nlen != nlen || a->vlen != vlen || memcmp(a->value, value, vlen) != 0)
        return 0;
    return any_case ? strncasecmp(a->name, name, nlen) == 0 : memcmp(a->name, name, nlen) == 0;
}

/* ---- the reference: the server's message parsed in one go ------------------------------------ */

struct reference {
    int head_ok;          /* a final head was found and parsed */
    int status, chunked, has_body, body_to_eof;
    uint64_t content_length;
    size_t body_off;      /* where the final head's body begins */
    int rc;               /* http_msg_body's over the whole body (chunked) */
    struct bytes body;    /* the decoded body */
    struct bytes trailers; /* the kept section ("name:value\r\n" lines) */
    struct bytes head_conn; /* the final head's Connection fields, as such lines */
};

/* keep: the trailer section is kept, within limit, as it is for every
 * client but HTTP/1.0 (which gets none of it). */
static void reference_of(const char *s, size_t len, int head_request, int keep, size_t limit, struct reference *r)
{
    static struct http_field fields[256];
    memset(r, 0, sizeof *r);
    size_t pos = 0;
    for (;;) {
        size_t end = http_head_end(s + pos, len - pos, 0);
        if (end == 0 || end > limit)
            return;
        char *head = dup_bytes(s + pos, end);
        struct http_msg m;
        struct http_head h;
        memset(&m, 0, sizeof m);
        memset(&h, 0, sizeof h);
        h.fields = fields;
        h.max_fields = 256;
        int rc = http_parse_response(&m, head, end, head_request, &h);
        free(head);
        if (rc < 0)
            return;
        if (h.status >= 100 && h.status < 200 && h.status != 101) {
            pos += end;
            continue;
        }
        for (uint32_t i = 0; i < h.nfields; i++) {
            const struct http_field *hf = &h.fields[i];
            if (hf->name_len != 10 || strncasecmp(s + pos + hf->name_off, "connection", 10) != 0)
                continue;
            bytes_add(&r->head_conn, "connection:", 11);
            bytes_add(&r->head_conn, s + pos + hf->value_off, hf->value_len);
            bytes_add(&r->head_conn, "\r\n", 2);
        }
        r->head_ok = 1;
        r->status = h.status;
        r->chunked = h.chunked;
        r->has_body = h.has_body;
        r->body_to_eof = h.body_to_eof;
        r->content_length = h.content_length;
        pos += end;
        r->body_off = pos;
        if (!h.has_body || h.status == 101)
            return;
        if (!h.chunked) {
            size_t n = len - pos;
            if (!h.body_to_eof && h.content_length < n)
                n = (size_t)h.content_length;
            bytes_add(&r->body, s + pos, n);
            return;
        }
        m.keep_trailers = (uint8_t)keep;
        m.trailers_max = (uint32_t)limit;
        char *body = dup_bytes(s + pos, len - pos);
        size_t consumed = 0, produced = 0;
        r->rc = http_msg_body_dechunk(&m, body, len - pos, &consumed, &produced);
        bytes_add(&r->body, body, produced);
        free(body);
        if (m.trailers) {
            bytes_add(&r->trailers, m.trailers->data, m.trailers->len);
            buf_put(m.trailers);
        }
        return;
    }
}

/* ---- the client ---------------------------------------------------------------------------- */

/* Takes what rin has ready, then compacts it as the client's side does
 * (proto_h1.c's compact_rin; h2_stream.c's rin_consume). */
static void client_take(struct txn *t, struct bytes *out)
{
    if (!t->rin)
        return;
    CHECK(t->rin_sent <= t->rin_fwd && t->rin_fwd <= t->rin->len && t->rin->len <= t->rin->cap);
    bytes_add(out, t->rin->data + t->rin_sent, t->rin_fwd - t->rin_sent);
    t->rin_sent = t->rin_fwd;
    if (t->rin_sent == 0)
        return;
    if (sk.client == CLIENT_H2) {
        if (t->rin_sent < t->rin->len && t->rin_sent < t->rin->cap / 2)
            return;
    } else if (t->rin_sent < t->rin->len && t->rin->len + EDIT_SLACK < t->rin->cap) {
        return;
    }
    buf_consume(t->rin, t->rin_sent);
    t->rin_fwd -= t->rin_sent;
    t->rscanned = t->rscanned > t->rin_sent ? t->rscanned - t->rin_sent : 0;
    t->rin_sent = 0;
}

static int is_prefix(const struct bytes *a, const char *p, size_t n)
{
    return n <= a->len && (n == 0 || memcmp(a->p, p, n) == 0);
}

/* What an HTTP/1.1 client reads of a chunked body relayed as it came. */
static void check_h11_chunked(const struct reference *r, const char *body, size_t blen, int ended,
                              struct http_msg *cm)
{
    static struct field sf[MAX_LINES], hf[MAX_LINES], fwd[MAX_LINES], cf[MAX_LINES];
    cm->keep_trailers = 1;
    cm->trailers_max = 0;
    char *copy = dup_bytes(body, blen);
    size_t consumed = 0, produced = 0;
    int rc = http_msg_body_dechunk(cm, copy, blen, &consumed, &produced);
    if (ended) {
        /* The whole message, ending at the last byte given. */
        CHECK(rc == 1 && consumed == blen);
        CHECK(r->rc == 1);
        CHECK(produced == r->body.len && is_prefix(&r->body, copy, produced));
        int sn = fields_of(r->trailers.p, r->trailers.len, sf, MAX_LINES);
        int hn = fields_of(r->head_conn.p, r->head_conn.len, hf, MAX_LINES);
        int fn = forwarded_of(sf, sn, hf, hn, fwd);
        int cn = cm->trailers ? fields_of(cm->trailers->data, cm->trailers->len, cf, MAX_LINES) : 0;
        CHECK(cn == fn);
        for (int i = 0; i < cn; i++)
            CHECK(same_field(&fwd[i], cf[i].name, cf[i].nlen, cf[i].value, cf[i].vlen, 0));
        for (int i = 0; i < cn; i++)
            CHECK(!hop_by_hop(&cf[i]) && !forbidden(&cf[i]) && !named_by_connection(cf, cn, &cf[i]));
    } else {
        /* A cut: never whole, the body so far, no trailer field yet. */
        CHECK(rc != 1);
        CHECK(is_prefix(&r->body, copy, produced));
        CHECK(!cm->trailers || cm->trailers->len == 0);
    }
    buf_put(cm->trailers);
    cm->trailers = NULL;
    free(copy);
}

/* What the client got, against the reference. */
static void check_client(const struct reference *r, const struct bytes *out, const struct txn *t, int head_request,
                         int ended)
{
    static struct http_field fields[300];
    if (!t->resp_head_done) {
        CHECK(!ended);
        return;
    }
    CHECK(r->head_ok);
    /* Interim heads first, then the final one. */
    size_t pos = 0, hl;
    struct http_msg m;
    struct http_head h;
    for (;;) {
        hl = http_head_end(out->p + pos, out->len - pos, 0);
        CHECK(hl > 0);
        char *head = dup_bytes(out->p + pos, hl);
        memset(&m, 0, sizeof m);
        memset(&h, 0, sizeof h);
        h.fields = fields;
        h.max_fields = 300;
        CHECK(http_parse_response(&m, head, hl, head_request, &h) == 0);
        free(head);
        pos += hl;
        if (!(h.status >= 100 && h.status < 200 && h.status != 101))
            break;
    }
    CHECK(h.status == r->status);
    if (h.status == 101 || !r->has_body) {
        CHECK(ended || h.status == 101);
        return;
    }
    const char *body = out->p + pos;
    size_t blen = out->len - pos;
    if (!r->chunked) {
        CHECK(!h.chunked);
        CHECK(is_prefix(&r->body, body, blen));
        if (ended && !r->body_to_eof)
            CHECK(blen == r->body.len);
        return;
    }
    if (sk.client == CLIENT_H11 || sk.client == CLIENT_H11_CLOSE) {
        CHECK(h.chunked);
        check_h11_chunked(r, body, blen, ended, &m);
        return;
    }
    /* Decoded: the body's bytes alone, framed by the close (HTTP/1.0) or
     * by DATA frames (HTTP/2). */
    CHECK(!h.chunked);
    CHECK(is_prefix(&r->body, body, blen));
    if (ended) {
        CHECK(r->rc == 1 && blen == r->body.len);
        if (sk.client == CLIENT_H2 && t->resp.trailers && t->resp.trailers->len) {
            static struct field sf[MAX_LINES], cf[MAX_LINES], fwd[MAX_LINES];
            static struct h2_field hf[H2_FIELDS];
            int sn = fields_of(r->trailers.p, r->trailers.len, sf, MAX_LINES);
            int cn = fields_of(r->head_conn.p, r->head_conn.len, cf, MAX_LINES);
            int fn = forwarded_of(sf, sn, cf, cn, fwd);
            char *tr = dup_bytes(t->resp.trailers->data, t->resp.trailers->len);
            int n = h2_trailer_fields(tr, t->resp.trailers->len, hf, H2_FIELDS);
            /* Those that go on, in order (HTTP/2 leaves out a few more). */
            for (int i = 0, k = 0; i < n; i++) {
                while (k < fn && !same_field(&fwd[k], hf[i].name, hf[i].name_len, hf[i].value, hf[i].value_len, 1))
                    k++;
                CHECK(k < fn);
                k++;
            }
            free(tr);
        }
    }
}

/* ---- entry ---------------------------------------------------------------------------------- */

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const size_t limits[4] = {16384, 512, 2048, 65536};
    if (size < 2)
        return 0;
    setup_once();
    uint8_t mode = data[0];
    uint32_t seed = 0x01000193u * (uint32_t)(data[1] + 1);
    int head_request = (mode >> 4) & 1, server_closes = (mode >> 5) & 1, slow = (mode >> 6) & 1,
        oneshot = (mode >> 7) & 1;

    /* The server's bytes. */
    struct bytes s = {0};
    const char *in = (const char *)data + 2;
    size_t in_len = size - 2;
    if (in_len < 5 || memcmp(in, "HTTP/", 5) != 0)
        bytes_add(&s, default_head, sizeof default_head - 1);
    bytes_add(&s, in, in_len);

    memset(&sk, 0, sizeof sk);
    sk.client = mode & 3;
    cfg.limit_response_header_size = limits[(mode >> 2) & 3];
    worker.stopping = 0;
    memset(&up, 0, sizeof up);
    sink.caps = sk.client == CLIENT_H2 ? 0 : SINK_RAW_H1;

    static struct txn txn;
    struct txn *t = &txn;
    memset(t, 0, sizeof *t);
    t->sink = &sink;
    t->sink_ctx = t;
    t->w = &worker;
    t->rt = &rt;
    t->pool = &pool;
    t->srv = &srv;
    t->up = &up;
    t->method = head_request ? HTTP_HEAD : HTTP_GET;
    t->http10 = sk.client == CLIENT_H10;
    t->client_keep_alive = sk.client == CLIENT_H11 || sk.client == CLIENT_H2;
    t->phase = TXN_FORWARD;

    /* rin as a chunked body has it (grow_rin: a large buffer), on the
     * heap rather than buf.c's mapped pages, so that ASan sees a byte
     * written or read past it; grow_rin leaves a large one alone. */
    t->rin = malloc(sizeof(struct buf) + BUF_LARGE);
    CHECK(t->rin != NULL);
    memset(t->rin, 0, sizeof(struct buf));
    t->rin->cap = BUF_LARGE;

    struct bytes out = {0};
    size_t fed = 0;
    int stalled = 0;
    while (fed < s.len && !t->resp_done && !sk.error) {
        size_t space = t->rin->cap - EDIT_SLACK - t->rin->len;
        if (space == 0) {
            client_take(t, &out);
            space = t->rin->cap - EDIT_SLACK - t->rin->len;
            if (space == 0) {
                stalled = 1; /* nothing to give the client, no room to read */
                break;
            }
        }
        size_t step = s.len - fed;
        if (!oneshot) {
            uint32_t x = rnd(&seed);
            step = (x & 3) == 0 ? 1 + (x >> 8) % 8 : 1 + (x >> 8) % 600;
        }
        if (step > s.len - fed)
            step = s.len - fed;
        if (step > space)
            step = space;
        memcpy(t->rin->data + t->rin->len, s.p + fed, step);
        t->rin->len += step;
        fed += step;
        t->resp_any = 1;
        process_response(t);
        if (!slow)
            client_take(t, &out);
    }
    if (!t->resp_done && !sk.error && !stalled && t->resp_any && server_closes) {
        up_eof(t, 0);
    }
    client_take(t, &out);

    /* What the proxy decided. */
    CHECK(sk.heads <= 1 && sk.ends <= 1);
    if (sk.error) {
        CHECK(sk.error == 502);
        CHECK(!t->resp_head_done && sk.heads == 0);
    }
    CHECK(sk.heads == (int)t->resp_head_done);
    int ended = sk.ends == 1 && t->aborted == TXN_CUT_NONE;
    if (t->aborted)
        CHECK(t->resp_done && sk.ends == 0);

    struct reference r;
    reference_of(s.p, s.len, head_request, sk.client != CLIENT_H10, cfg.limit_response_header_size, &r);
    if (!sk.error)
        check_client(&r, &out, t, head_request, ended);
    /* Never cut for nothing: a whole chunked message with no trailer
     * section, read with room to spare, ends. */
    if (r.head_ok && r.chunked && r.has_body && r.status != 101 && r.rc == 1 && r.trailers.len == 0 && !slow &&
        t->resp_head_done)
        CHECK(ended);
    /* Never whole for the proxy when not for the book. */
    if (ended && r.head_ok && r.chunked && r.has_body && r.status != 101)
        CHECK(strict_chunked_end(s.p + r.body_off, s.len - r.body_off) > 0);

    buf_put(t->resp.trailers);
    free(t->rin);
    free(s.p);
    free(out.p);
    free(r.body.p);
    free(r.trailers.p);
    free(r.head_conn.p);
    return 0;
}
