/*
 * fuzz_request: the proxy's message path, bytes in -> bytes forwarded out.
 *
 * The input is one connection's stream, preceded by two control bytes:
 *
 *   data[0]  bit 0     0 = client side (requests), 1 = server side (responses)
 *            bits 1-2  request body limit: 0, 16, 1024, 1 MiB
 *            bit 3     requests: IPv6 client address; responses: the request was HEAD
 *            bit 4     responses: the request asked for an upgrade
 *            bit 5     responses: the client keeps its connection open
 *            bit 6     responses: the client speaks HTTP/1.0
 *            bit 7     the stream arrives in one piece (else in random pieces)
 *   data[1]  seed of the piece sizes
 *
 * Each message goes through what proto_h1.c and upstream_h1.c do with it: http_head_end as
 * bytes arrive (with the bare-LF check on each new piece), the strict parse,
 * the rewrite, then the body through http_msg_body.  Besides the sanitizers,
 * it aborts when an invariant breaks:
 *
 *  - the head end found piece by piece is the first CRLF CRLF of the stream;
 *  - an accepted head is unambiguous: one Host (HTTP/1.1), at most one
 *    Content-Length, never both Content-Length and Transfer-Encoding, no
 *    Transfer-Encoding on HTTP/1.0, no bare LF, no NUL or control character;
 *  - the rewritten head ends in its first CRLF CRLF, keeps the start line,
 *    is exactly the kept fields of the original in order plus one
 *    X-Forwarded-For (ending in the client address), one X-Forwarded-Proto
 *    and the Connection field the proxy adds (upgrade / keep-alive / close),
 *    and carries no hop-by-hop field;
 *  - the rewritten head, parsed again by a second parser, gives the same
 *    method, target, Host, version, status and framing (Content-Length,
 *    chunked, body to EOF, upgrade), and the body bytes that follow end at
 *    the same byte for both parsers (the anti-smuggling invariant), and a
 *    chunked body at the byte where a reader by the book ends it
 *    (strict_chunked_end, fuzz_chunked.h: CRLF after each chunk-size
 *    line, each chunk's data and each trailer line, no folded trailer
 *    line), since the server may be that reader;
 *  - taking a sticky cookie (SRV) out of a request head in place
 *    (sticky_head_strip) leaves no SRV pair in any Cookie field, moves the
 *    bytes after the head intact, leaves offsets that a second parse of
 *    the shorter head agrees with, and the same message (method, target,
 *    Host, version, framing);
 *  - consumed bytes never exceed what was given; a Content-Length body is
 *    exactly that long; a too-small output buffer makes the rewrite fail
 *    cleanly instead of overflowing.
 *
 * Every buffer handed to the code under test is a heap copy of exactly the
 * bytes it may read, so that ASan sees any read past them.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "buf.h"
#include "http.h"
#include "sticky_cookie.h"
#include "fuzz_chunked.h"
#include "fuzz_list.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define HEAD_LIMIT 16384 /* the default `limit header-size` */
#define REQ_FIELDS 100   /* the default `limit headers` */
#define RESP_FIELDS 256  /* upstream_h1.c: response_fields_max() */
#define MAX_MESSAGES 8   /* per input, keeps one run short */
#define MAX_LINES 512

#define CHECK(c)                                                                              \
    do {                                                                                      \
        if (!(c)) {                                                                           \
            fprintf(stderr, "fuzz_request: invariant failed: %s (%s:%d)\n", #c, __FILE__,      \
                    __LINE__);                                                                \
            abort();                                                                          \
        }                                                                                     \
    } while (0)

/* ---- input delivery ------------------------------------------------------------- */

struct feed {
    const char *p;  /* the whole stream */
    size_t len;
    size_t avail;   /* bytes "received" so far */
    uint32_t rng;
    int oneshot;
};

static uint32_t rnd(struct feed *f)
{
    /* xorshift32: deterministic for a given input */
    uint32_t x = f->rng ? f->rng : 0x9e3779b9u;
    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    f->rng = x;
    return x;
}

/* One more read from the socket; 0 at EOF. */
static int feed_more(struct feed *f)
{
    if (f->avail >= f->len)
        return 0;
    size_t step;
    if (f->oneshot) {
        step = f->len;
    } else {
        uint32_t r = rnd(f);
        step = (r & 3) == 0 ? 1 + (r >> 8) % 8 : 1 + (r >> 8) % 600;
    }
    f->avail = f->len - f->avail < step ? f->len : f->avail + step;
    return 1;
}

static char *dup_bytes(const char *p, size_t n)
{
    char *c = malloc(n ? n : 1);
    CHECK(c != NULL);
    if (n)
        memcpy(c, p, n);
    return c;
}

/* ---- an independent reading of a head: CRLF-separated lines ----------------------- */

struct line {
    const char *p;
    size_t len;     /* CRLF excluded */
    size_t name_len; /* up to ':' (fields only) */
};

/* Splits head[0..len) (ending in CRLF CRLF) into its lines; returns how many, or
 * -1 when a line is not "name:value" or a CR stands alone. */
static int split_lines(const char *head, size_t len, struct line *lines, int max)
{
    int n = 0;
    size_t i = 0;
    CHECK(len >= 4 && memcmp(head + len - 4, "\r\n\r\n", 4) == 0);
    while (i < len - 2) {
        const char *cr = memchr(head + i, '\r', len - 2 - i);
        CHECK(cr != NULL);
        if (cr[1] != '\n' || n >= max)
            return -1;
        lines[n].p = head + i;
        lines[n].len = (size_t)(cr - (head + i));
        const char *colon = memchr(lines[n].p, ':', lines[n].len);
        lines[n].name_len = colon ? (size_t)(colon - lines[n].p) : 0;
        if (n > 0 && !colon)
            return -1;
        n++;
        i = (size_t)(cr - head) + 2;
    }
    return n;
}

static int name_is(const struct line *l, const char *lit)
{
    return strlen(lit) == l->name_len && strncasecmp(l->p, lit, l->name_len) == 0;
}

/* The value of a field line, without the OWS around it. */
static void line_value(const struct line *l, const char **v, size_t *vlen)
{
    const char *s = l->p + l->name_len + 1, *e = l->p + l->len;
    while (s < e && (*s == ' ' || *s == '\t'))
        s++;
    while (e > s && (e[-1] == ' ' || e[-1] == '\t'))
        e--;
    *v = s;
    *vlen = (size_t)(e - s);
}

static int value_is(const struct line *l, const char *lit)
{
    const char *v;
    size_t n;
    line_value(l, &v, &n);
    return strlen(lit) == n && strncasecmp(v, lit, n) == 0;
}

/* How many "chunked" elements the Transfer-Encoding lines among
 * lines[1..n) list (a walk of its own, not the proxy's list helper). */
static int chunked_elements(const struct line *lines, int n)
{
    int count = 0;
    for (int i = 1; i < n; i++) {
        if (!name_is(&lines[i], "transfer-encoding"))
            continue;
        const char *v;
        size_t len, at = 0;
        line_value(&lines[i], &v, &len);
        while (at < len) {
            size_t end = at;
            while (end < len && v[end] != ',')
                end++;
            size_t s = at, e = end;
            while (s < e && (v[s] == ' ' || v[s] == '\t'))
                s++;
            while (e > s && (v[e - 1] == ' ' || v[e - 1] == '\t'))
                e--;
            count += e - s == 7 && strncasecmp(v + s, "chunked", 7) == 0;
            at = end + 1;
        }
    }
    return count;
}

/* True when the Connection fields among lines[1..n) name `name`. */
static int connection_names(const struct line *lines, int n, const char *name, size_t name_len)
{
    for (int i = 1; i < n; i++) {
        if (!name_is(&lines[i], "connection"))
            continue;
        const char *v;
        size_t vlen;
        line_value(&lines[i], &v, &vlen);
        if (fuzz_list_names(v, vlen, name, name_len))
            return 1;
    }
    return 0;
}

static int is_hop_name(const struct line *l)
{
    return name_is(l, "connection") || name_is(l, "keep-alive") || name_is(l, "proxy-connection") ||
           name_is(l, "te") || name_is(l, "trailer");
}

/* Fields a Connection header may not remove: they frame or route the message. */
static int is_protected_name(const struct line *l)
{
    return name_is(l, "host") || name_is(l, "content-length") || name_is(l, "transfer-encoding") ||
           name_is(l, "expect") || name_is(l, "upgrade") || name_is(l, "x-forwarded-for") ||
           name_is(l, "x-forwarded-proto");
}

/* What the rewrite must drop from the original head, in the proxy's rules. */
static int dropped(const struct line *lines, int n, int i, int request, int keep_upgrade)
{
    const struct line *l = &lines[i];
    if (is_hop_name(l))
        return 1;
    if (request && (name_is(l, "x-forwarded-for") || name_is(l, "x-forwarded-proto")))
        return 1;
    if (name_is(l, "upgrade"))
        return !keep_upgrade;
    return !is_protected_name(l) && connection_names(lines, n, l->p, l->name_len);
}

/* A control character (HTAB included) or DEL in the request line. */
static int line_has_ctl(const char *head, size_t line_len)
{
    for (size_t i = 0; i + 2 < line_len; i++)
        if ((unsigned char)head[i] < 0x20 || head[i] == 0x7f)
            return 1;
    return 0;
}

/* No NUL, no control character but HTAB (none in the request line), no
 * DEL: CR and LF only as CRLF. */
static void check_clean_bytes(const char *head, size_t len, size_t line_len)
{
    CHECK(!line_has_ctl(head, line_len));
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)head[i];
        if (c == '\r') {
            CHECK(i + 1 < len && head[i + 1] == '\n');
        } else if (c == '\n') {
            CHECK(i > 0 && head[i - 1] == '\r');
        } else {
            CHECK(c == '\t' || (c >= 0x20 && c != 0x7f));
        }
    }
}

/* The parser's fields are the head's lines: same names, same values. */
static void check_fields_match(const char *head, const struct http_head *h, const struct line *lines, int n)
{
    CHECK((int)h->nfields == n - 1);
    for (int i = 1; i < n; i++) {
        const struct http_field *f = &h->fields[i - 1];
        const char *v, *pv = head + f->value_off;
        size_t vlen, pvlen = f->value_len;
        CHECK(head + f->name_off == lines[i].p && f->name_len == lines[i].name_len);
        line_value(&lines[i], &v, &vlen);
        while (pvlen && (pv[pvlen - 1] == ' ' || pv[pvlen - 1] == '\t'))
            pvlen--;
        while (pvlen && (*pv == ' ' || *pv == '\t'))
            pv++, pvlen--;
        CHECK(vlen == pvlen && memcmp(v, pv, vlen) == 0);
    }
}

/* The first CRLF CRLF, by the book. */
static size_t ref_head_end(const char *p, size_t len)
{
    for (size_t i = 0; i + 4 <= len; i++)
        if (memcmp(p + i, "\r\n\r\n", 4) == 0)
            return i + 4;
    return 0;
}

/* Every field offset of a parsed head lies inside it. */
static void check_head_bounds(const struct http_head *h, size_t len)
{
    CHECK(h->len == len);
    CHECK(h->line_len > 0 && h->line_len <= len);
    CHECK((uint64_t)h->uri_off + h->uri_len <= len);
    CHECK((uint64_t)h->host_off + h->host_len <= len);
    CHECK(h->nfields <= h->max_fields);
    for (uint32_t i = 0; i < h->nfields; i++) {
        const struct http_field *f = &h->fields[i];
        CHECK(f->name_off >= h->line_len);
        CHECK((uint64_t)f->name_off + f->name_len <= len);
        CHECK((uint64_t)f->value_off + f->value_len <= len);
        CHECK(f->value_off >= f->name_off + f->name_len);
        if (i > 0)
            CHECK(f->name_off > h->fields[i - 1].name_off);
    }
}

/* Reading the head piece by piece as the session does.  Returns the head
 * length, or 0 when the connection ends (incomplete, too large, bare LF). */
static size_t read_head(struct feed *f, size_t pos)
{
    size_t scanned = 0;

    for (;;) {
        size_t have = f->avail > pos ? f->avail - pos : 0;
        if (have > 0) {
            char *buf = dup_bytes(f->p + pos, have);
            size_t end = http_head_end(buf, have, scanned);
            int bare = end == 0 && http_has_bare_lf(buf, scanned, have);
            free(buf);
            if (end) {
                CHECK(end <= have);
                CHECK(end == ref_head_end(f->p + pos, f->len - pos));
                return end > HEAD_LIMIT ? 0 : end;
            }
            if (bare)
                return 0; /* 400 */
            scanned = have;
            if (have >= HEAD_LIMIT)
                return 0; /* 431 / 414 */
        }
        if (!feed_more(f)) {
            CHECK(ref_head_end(f->p + pos, f->len - pos) == 0);
            return 0;
        }
    }
}

/* Feeds the body after a head through two parsers that must agree on where
 * it ends.  Returns the stream offset after the message, or 0 when the
 * connection ends (invalid body, EOF). */
static size_t read_body(struct feed *f, size_t fwd, struct http_msg *m, struct http_msg *m2,
                        const struct http_head *h, int request)
{
    uint64_t total = 0;
    const size_t start = fwd;

    for (;;) {
        if (fwd >= f->avail) {
            if (!feed_more(f)) {
                int e1 = http_msg_eof(m), e2 = http_msg_eof(m2);
                CHECK(e1 == e2);
                if (request)
                    CHECK(e1 == 0); /* a request body never ends at EOF */
                else if (h->body_to_eof)
                    CHECK(e1 == 1);
                return 0;
            }
            continue;
        }
        size_t n = f->avail - fwd, c1 = (size_t)-1, c2 = (size_t)-1;
        char *buf = dup_bytes(f->p + fwd, n);
        enum http_body_status rc1 = http_msg_body(m, buf, n, &c1);
        enum http_body_status rc2 = http_msg_body(m2, buf, n, &c2);
        free(buf);
        /* NO_ROOM is trailer_relay's alone; a folded trailer line only a
         * chunked body has. */
        CHECK(rc1 != HTTP_BODY_NO_ROOM && (rc1 != HTTP_BODY_FOLDED || h->chunked));
        CHECK(rc1 >= HTTP_BODY_FOLDED && rc1 <= HTTP_BODY_DONE);
        CHECK(rc1 == rc2 && c1 == c2);
        CHECK(c1 <= n);
        if (rc1 == HTTP_BODY_MORE)
            CHECK(c1 == n);
        if (rc1 == HTTP_BODY_TOO_LARGE)
            CHECK((request && h->chunked && m->body_limit) || (!request && h->chunked && m->keep_trailers));
        if (rc1 < 0)
            return 0;
        fwd += c1;
        total += c1;
        if (!h->chunked && !h->body_to_eof)
            CHECK(total <= h->content_length);
        if (rc1 == HTTP_BODY_DONE) {
            CHECK(!h->body_to_eof);
            if (!h->chunked)
                CHECK(total == h->content_length);
            else if (m->body_limit)
                CHECK(m->chunk_total <= m->body_limit);
            /* A chunked body whose end a reader by the book puts elsewhere
             * (or nowhere) smuggles: the server may be that reader. */
            if (h->chunked)
                CHECK(strict_chunked_end(f->p + start, f->len - start) == (long)(fwd - start));
            return fwd;
        }
    }
}

/* The rewrite must never write past a buffer that is too small. */
static void check_small_caps(struct feed *f, size_t out_len,
                             size_t (*rewrite)(const void *, size_t, char *, size_t), const void *arg)
{
    size_t caps[2] = { out_len - 1, rnd(f) % out_len };
    for (int i = 0; i < 2; i++) {
        char *small = malloc(caps[i] ? caps[i] : 1);
        CHECK(small != NULL);
        CHECK(rewrite(arg, 0, small, caps[i]) == 0);
        free(small);
    }
}


/* The target the server must get: an absolute-form one in origin-form
 * (RFC 9112 3.2.1: path, "/" when empty, then the query). */
static void expected_target(const char *uri, size_t len, char *out, size_t *out_len)
{
    size_t skip = 0;
    if (len > 7 && strncasecmp(uri, "http://", 7) == 0)
        skip = 7;
    else if (len > 8 && strncasecmp(uri, "https://", 8) == 0)
        skip = 8;
    if (!skip) {
        memcpy(out, uri, len);
        *out_len = len;
        return;
    }
    size_t i = skip;
    while (i < len && uri[i] != '/' && uri[i] != '?')
        i++;
    size_t n = 0;
    if (i == len || uri[i] == '?')
        out[n++] = '/';
    memcpy(out + n, uri + i, len - i);
    *out_len = n + len - i;
}

/* ---- requests ------------------------------------------------------------------- */

struct req_rewrite {
    const char *head;
    const struct http_head *h;
    const char *ip;
};

static size_t do_rewrite_request(const void *arg, size_t unused, char *out, size_t cap)
{
    const struct req_rewrite *r = arg;
    (void)unused;
    return http_rewrite_request(r->head, r->h, r->ip, 0, out, cap);
}

/* The forwarded head, line by line, against what the original said. */
static void check_request_rewrite(const char *head, size_t len, const struct http_head *h,
                                  const char *out, size_t out_len, const char *ip)
{
    static struct line in[MAX_LINES], ol[MAX_LINES];
    int n = split_lines(head, len, in, MAX_LINES);
    int on = split_lines(out, out_len, ol, MAX_LINES);
    CHECK(n >= 1 && on >= 1);
    /* The start line, with the target in origin-form. */
    static char line[HEAD_LIMIT + 8];
    size_t tlen, l = h->uri_off;
    memcpy(line, head, l);
    expected_target(head + h->uri_off, h->uri_len, line + l, &tlen);
    l += tlen;
    memcpy(line + l, head + h->uri_off + h->uri_len, in[0].len - h->uri_off - h->uri_len);
    l += in[0].len - h->uri_off - h->uri_len;
    CHECK(l == ol[0].len && memcmp(line, ol[0].p, l) == 0);

    /* An accepted head is unambiguous. */
    int ncl = 0, nte = 0, nhost = 0;
    for (int i = 1; i < n; i++) {
        ncl += name_is(&in[i], "content-length");
        nte += name_is(&in[i], "transfer-encoding");
        nhost += name_is(&in[i], "host");
    }
    CHECK(ncl <= 1);
    CHECK(!(ncl && nte));
    CHECK(nte == 0 || (h->chunked && !(h->major == 1 && h->minor == 0)));
    CHECK(nhost <= 1);
    if (h->major == 1 && h->minor >= 1)
        CHECK(nhost == 1);
    check_fields_match(head, h, in, n);

    int k = 1;
    for (int i = 1; i < n; i++) {
        if (dropped(in, n, i, 1, h->upgrade))
            continue;
        CHECK(k < on);
        CHECK(ol[k].len == in[i].len && memcmp(ol[k].p, in[i].p, in[i].len) == 0);
        k++;
    }
    /* Then exactly what the proxy adds. */
    CHECK(k < on && name_is(&ol[k], "x-forwarded-for"));
    const char *v;
    size_t vlen, iplen = strlen(ip);
    line_value(&ol[k], &v, &vlen);
    CHECK(vlen >= iplen && memcmp(v + vlen - iplen, ip, iplen) == 0);
    k++;
    CHECK(k < on && name_is(&ol[k], "x-forwarded-proto") && value_is(&ol[k], "http"));
    k++;
    if (h->upgrade) {
        CHECK(k < on && name_is(&ol[k], "connection") && value_is(&ol[k], "upgrade"));
        k++;
    } else if (h->major == 1 && h->minor == 0) {
        CHECK(k < on && name_is(&ol[k], "connection") && value_is(&ol[k], "keep-alive"));
        k++;
    }
    CHECK(k == on);

    int nxff = 0, nconn = 0;
    for (int i = 1; i < on; i++) {
        CHECK(!name_is(&ol[i], "keep-alive") && !name_is(&ol[i], "te") &&
              !name_is(&ol[i], "trailer") && !name_is(&ol[i], "proxy-connection"));
        if (!h->upgrade)
            CHECK(!name_is(&ol[i], "upgrade"));
        nxff += name_is(&ol[i], "x-forwarded-for");
        nconn += name_is(&ol[i], "connection");
    }
    CHECK(nxff == 1);
    CHECK(nconn <= 1);
}

/* The forwarded head read by a second parser: the same message. */
static void check_request_reparse(const struct http_head *h, const char *head, struct http_msg *m2,
                                  const char *out, size_t out_len, struct http_head *h2)
{
    int rc = http_parse_request(m2, out, out_len, h2);
    CHECK(rc == 0);
    check_head_bounds(h2, out_len);
    CHECK(h2->method == h->method);
    CHECK(h2->major == h->major && h2->minor == h->minor);
    static char target[HEAD_LIMIT + 8];
    size_t tlen;
    expected_target(head + h->uri_off, h->uri_len, target, &tlen);
    CHECK(h2->uri_len == tlen && memcmp(out + h2->uri_off, target, tlen) == 0);
    CHECK(h2->nhost == h->nhost);
    CHECK(h2->host_len == h->host_len &&
          memcmp(out + h2->host_off, head + h->host_off, h->host_len) == 0);
    CHECK(h2->has_body == h->has_body);
    CHECK(h2->chunked == h->chunked);
    CHECK(h2->content_length == h->content_length);
    CHECK(h2->body_to_eof == h->body_to_eof);
    CHECK(h2->upgrade == h->upgrade);
    CHECK(h2->expect_continue == h->expect_continue);
    if (!h->upgrade)
        CHECK(h2->keep_alive); /* the server connection can be reused */
    for (uint32_t i = 0; i < h2->nfields; i++)
        CHECK(h2->fields[i].kind != HF_HOP);
}

/* Sticky sessions: the head with the SRV cookie taken out in place
 * (sticky_cookie.c), followed by bytes that must move with it. */
static void check_sticky_strip(const char *head, size_t end, const struct http_head *h, uint64_t body_limit)
{
    static const char tail[] = "TAIL";
    static struct http_field fields[REQ_FIELDS], fields2[REQ_FIELDS + 32];
    struct http_head hs = *h, h2;
    struct http_msg m2;
    char found[17];
    int present, had = 0, empty_before = 0, empty_after = 0;

    for (uint32_t i = 0; i < h->nfields; i++) {
        const struct http_field *fl = &h->fields[i];
        const char *v;
        size_t vl;
        if (fl->name_len != 6 || strncasecmp(head + fl->name_off, "cookie", 6) != 0)
            continue;
        if (sticky_cookie_find(head + fl->value_off, fl->value_len, "SRV", &v, &vl))
            had = 1;
        empty_before += fl->value_len == 0;
    }
    memcpy(fields, h->fields, h->nfields * sizeof fields[0]);
    hs.fields = fields;
    char *buf = malloc(end + sizeof tail - 1);
    CHECK(buf != NULL);
    memcpy(buf, head, end);
    memcpy(buf + end, tail, sizeof tail - 1);
    size_t len = sticky_head_strip(buf, end + sizeof tail - 1, &hs, "SRV", found, sizeof found, &present);
    CHECK(present == had);
    CHECK(len == hs.len + sizeof tail - 1 && hs.len <= end);
    CHECK(memcmp(buf + hs.len, tail, sizeof tail - 1) == 0);
    CHECK(hs.len >= 4 && memcmp(buf + hs.len - 4, "\r\n\r\n", 4) == 0);
    CHECK(http_head_end(buf, hs.len, 0) == hs.len);
    if (!had)
        CHECK(hs.len == end && memcmp(buf, head, end) == 0);

    memset(&m2, 0, sizeof m2);
    memset(&h2, 0, sizeof h2);
    h2.fields = fields2;
    h2.max_fields = REQ_FIELDS + 32;
    m2.body_limit = body_limit;
    CHECK(http_parse_request(&m2, buf, hs.len, &h2) == 0);
    CHECK(h2.method == h->method && h2.major == h->major && h2.minor == h->minor);
    CHECK(h2.uri_len == h->uri_len && memcmp(buf + h2.uri_off, head + h->uri_off, h->uri_len) == 0);
    CHECK(h2.host_len == hs.host_len && h2.host_off == hs.host_off);
    CHECK(h2.host_len == h->host_len && memcmp(buf + h2.host_off, head + h->host_off, h->host_len) == 0);
    CHECK(h2.has_body == h->has_body && h2.chunked == h->chunked &&
          h2.content_length == h->content_length && h2.upgrade == h->upgrade);
    CHECK(h2.nfields == hs.nfields);
    for (uint32_t i = 0; i < h2.nfields; i++) {
        const struct http_field *a = &hs.fields[i], *b = &h2.fields[i];
        CHECK(a->name_off == b->name_off && a->name_len == b->name_len && a->kind == b->kind);
        CHECK(a->value_off == b->value_off);
        const char *v;
        size_t vl;
        if (b->name_len == 6 && strncasecmp(buf + b->name_off, "cookie", 6) == 0) {
            CHECK(!sticky_cookie_find(buf + b->value_off, b->value_len, "SRV", &v, &vl));
            empty_after += b->value_len == 0;
        }
    }
    /* A field the strip emptied is dropped, not left behind. */
    CHECK(empty_after == empty_before);
    free(buf);
}

/* One request: returns the stream offset of the next one, or 0 at the end. */
static size_t one_request(struct feed *f, size_t pos, uint64_t body_limit, const char *ip)
{
    static struct http_field fields[REQ_FIELDS], fields2[REQ_FIELDS + 32];
    struct http_msg m, m2;
    struct http_head h, h2;

    size_t end = read_head(f, pos);
    if (end == 0)
        return 0;

    char *head = dup_bytes(f->p + pos, end);
    memset(&m, 0, sizeof m);
    memset(&h, 0, sizeof h);
    h.fields = fields;
    h.max_fields = REQ_FIELDS;
    m.body_limit = body_limit;
    int bad = http_parse_request(&m, head, end, &h);
    CHECK(bad == 0 || bad == 400 || bad == 413 || bad == 431);
    if (bad) {
        free(head);
        return 0;
    }
    check_head_bounds(&h, end);
    check_clean_bytes(head, end, h.line_len);
    CHECK(h.major == 1 && h.minor <= 1);
    CHECK(!(h.has_body && h.upgrade));
    CHECK(!h.body_to_eof);
    if (body_limit && !h.chunked)
        CHECK(h.content_length <= body_limit);

    size_t cap = 2 * (size_t)end + 256;
    char *out = malloc(cap);
    CHECK(out != NULL);
    size_t out_len = http_rewrite_request(head, &h, ip, 0, out, cap);
    CHECK(out_len > 0 && out_len <= cap);
    char *fwd = dup_bytes(out, out_len);
    free(out);
    CHECK(out_len >= 4 && memcmp(fwd + out_len - 4, "\r\n\r\n", 4) == 0);
    CHECK(http_head_end(fwd, out_len, 0) == out_len);
    CHECK(ref_head_end(fwd, out_len) == out_len);
    CHECK(!http_has_bare_lf(fwd, 0, out_len));
    check_request_rewrite(head, end, &h, fwd, out_len, ip);
    struct req_rewrite rw = { head, &h, ip };
    check_small_caps(f, out_len, do_rewrite_request, &rw);

    memset(&m2, 0, sizeof m2);
    memset(&h2, 0, sizeof h2);
    h2.fields = fields2;
    h2.max_fields = REQ_FIELDS + 32;
    m2.body_limit = body_limit;
    check_request_reparse(&h, head, &m2, fwd, out_len, &h2);
    check_sticky_strip(head, end, &h, body_limit);
    free(fwd);
    free(head);

    if (h.upgrade)
        return 0; /* a tunnel once the server agrees */
    if (!h.has_body)
        return pos + end;
    return read_body(f, pos + end, &m, &m2, &h, 1);
}

/* ---- responses ------------------------------------------------------------------ */

struct resp_rewrite {
    const char *head;
    const struct http_head *h;
    int client_close, client_http10;
};

static size_t do_rewrite_response(const void *arg, size_t unused, char *out, size_t cap)
{
    const struct resp_rewrite *r = arg;
    (void)unused;
    return http_rewrite_response(r->head, r->h, r->client_close, r->client_http10, out, cap);
}

/* An HTTP/1.0 server's response going to an HTTP/1.1 client that stays
 * open is sent as HTTP/1.1 (http_rewrite_response). */
static int sent_as_http11(const char *head, const struct http_head *h, int client_close, int http10)
{
    return !http10 && !client_close && h->major == 1 && h->minor == 0 && h->line_len > 8 &&
           memcmp(head, "HTTP/1.0", 8) == 0;
}

static void check_response_rewrite(const char *head, size_t len, const struct http_head *h,
                                   const char *out, size_t out_len, int client_close, int http10)
{
    static struct line in[MAX_LINES], ol[MAX_LINES];
    int n = split_lines(head, len, in, MAX_LINES);
    int on = split_lines(out, out_len, ol, MAX_LINES);
    CHECK(n >= 1 && on >= 1);
    /* The status line goes as it came, but for an HTTP/1.0 server's
     * response to an HTTP/1.1 client kept open, which says HTTP/1.1. */
    CHECK(in[0].len == ol[0].len);
    if (sent_as_http11(head, h, client_close, http10))
        CHECK(memcmp(ol[0].p, "HTTP/1.1", 8) == 0 && memcmp(in[0].p + 8, ol[0].p + 8, in[0].len - 8) == 0);
    else
        CHECK(memcmp(in[0].p, ol[0].p, in[0].len) == 0);
    check_fields_match(head, h, in, n);

    int ncl = 0, nte = 0;
    for (int i = 1; i < n; i++) {
        ncl += name_is(&in[i], "content-length");
        nte += name_is(&in[i], "transfer-encoding");
    }
    CHECK(ncl <= 1);
    CHECK(!(ncl && nte));
    /* Nor chunked twice, nor a Transfer-Encoding from an HTTP/1.0 server. */
    CHECK(chunked_elements(in, n) <= 1);
    CHECK(!(nte && h->minor == 0));

    int k = 1;
    for (int i = 1; i < n; i++) {
        if (dropped(in, n, i, 0, h->status == 101))
            continue;
        CHECK(k < on);
        CHECK(ol[k].len == in[i].len && memcmp(ol[k].p, in[i].p, in[i].len) == 0);
        k++;
    }
    if (h->status == 101) {
        CHECK(k < on && name_is(&ol[k], "connection") && value_is(&ol[k], "upgrade"));
        k++;
    } else if (client_close) {
        CHECK(k < on && name_is(&ol[k], "connection") && value_is(&ol[k], "close"));
        k++;
    } else if (http10) {
        CHECK(k < on && name_is(&ol[k], "connection") && value_is(&ol[k], "keep-alive"));
        k++;
    }
    CHECK(k == on);
    for (int i = 1; i < on; i++) {
        CHECK(!name_is(&ol[i], "keep-alive") && !name_is(&ol[i], "te") &&
              !name_is(&ol[i], "trailer") && !name_is(&ol[i], "proxy-connection"));
        if (h->status != 101)
            CHECK(!name_is(&ol[i], "upgrade"));
    }
}

static size_t one_response(struct feed *f, size_t pos, int head_request, int req_upgrade,
                           int client_keep_alive, int http10)
{
    static struct http_field fields[RESP_FIELDS], fields2[RESP_FIELDS + 32];
    struct http_msg m, m2;
    struct http_head h, h2;

    size_t end = read_head(f, pos);
    if (end == 0)
        return 0;
    char *head = dup_bytes(f->p + pos, end);
    memset(&m, 0, sizeof m);
    memset(&h, 0, sizeof h);
    h.fields = fields;
    h.max_fields = RESP_FIELDS;
    int rc = http_parse_response(&m, head, end, head_request, &h);
    CHECK(rc == 0 || rc == -1);
    if (rc < 0) {
        free(head);
        return 0; /* 502 */
    }
    check_head_bounds(&h, end);
    CHECK(h.status >= 100 && h.status <= 999);
    if (h.status >= 100 && h.status < 200 && h.status != 101) {
        free(head);
        return pos + end; /* interim: forwarded as is, the final head follows */
    }
    if (h.status == 101 && !req_upgrade) {
        free(head);
        return 0; /* 502 */
    }
    if ((head_request && h.status != 101) || h.status == 204 || h.status == 304)
        CHECK(!h.has_body);
    if (h.chunked && h.has_body)
        CHECK(!h.body_to_eof);

    int client_close = !client_keep_alive || h.body_to_eof || (req_upgrade && h.status != 101);
    size_t cap = 2 * (size_t)end + 256;
    char *out = malloc(cap);
    CHECK(out != NULL);
    size_t out_len = http_rewrite_response(head, &h, client_close, http10, out, cap);
    CHECK(out_len > 0 && out_len <= cap);
    char *fwd = dup_bytes(out, out_len);
    free(out);
    CHECK(out_len >= 4 && memcmp(fwd + out_len - 4, "\r\n\r\n", 4) == 0);
    CHECK(http_head_end(fwd, out_len, 0) == out_len);
    CHECK(ref_head_end(fwd, out_len) == out_len);
    check_response_rewrite(head, end, &h, fwd, out_len, client_close, http10);
    struct resp_rewrite rw = { head, &h, client_close, http10 };
    check_small_caps(f, out_len, do_rewrite_response, &rw);

    /* The client reads the forwarded head as the proxy read the original. */
    memset(&m2, 0, sizeof m2);
    memset(&h2, 0, sizeof h2);
    h2.fields = fields2;
    h2.max_fields = RESP_FIELDS + 32;
    CHECK(http_parse_response(&m2, fwd, out_len, head_request, &h2) == 0);
    check_head_bounds(&h2, out_len);
    CHECK(h2.status == h.status && h2.major == h.major &&
          h2.minor == (sent_as_http11(head, &h, client_close, http10) ? 1 : h.minor));
    /* A 101 turns the connection into a tunnel whatever its framing says. */
    if (h.status != 101)
        CHECK(h2.has_body == h.has_body && h2.chunked == h.chunked && h2.body_to_eof == h.body_to_eof);
    CHECK(h2.content_length == h.content_length);
    CHECK(h2.upgrade == h.upgrade);
    if (client_close && h.status != 101)
        CHECK(!h2.keep_alive);
    /* (A field named "close" is named by the proxy's own Connection: close.) */
    for (uint32_t i = 0; i < h2.nfields; i++)
        CHECK(h2.fields[i].kind != HF_HOP ||
              (client_close && http_token_eq(fwd + h2.fields[i].name_off, h2.fields[i].name_len, "close")));
    free(fwd);
    free(head);

    if (h.status == 101)
        return 0; /* tunnel */
    if (!h.has_body)
        return client_close ? 0 : pos + end;
    /* Trailers kept as for an HTTP/2 client: the framing must not change. */
    m.keep_trailers = m2.keep_trailers = 1;
    size_t next = read_body(f, pos + end, &m, &m2, &h, 0);
    CHECK(!m.trailers == !m2.trailers);
    if (m.trailers) {
        CHECK(h.chunked && m.trailers->len == m2.trailers->len && m.trailers->len <= m.trailers->cap &&
              memcmp(m.trailers->data, m2.trailers->data, m.trailers->len) == 0);
        buf_put(m.trailers);
        buf_put(m2.trailers);
    }
    return client_close || !h.keep_alive ? 0 : next;
}

/* A response the proxy makes itself is valid HTTP framed by its length. */
static void check_error_response(int status, int close)
{
    static struct http_field fields[16];
    char out[512];
    struct http_msg m;
    struct http_head h;

    size_t n = http_error_response(status, close, out, sizeof out);
    CHECK(n > 0 && n < sizeof out);
    size_t end = http_head_end(out, n, 0);
    CHECK(end > 0);
    char *head = dup_bytes(out, end);
    memset(&m, 0, sizeof m);
    memset(&h, 0, sizeof h);
    h.fields = fields;
    h.max_fields = 16;
    CHECK(http_parse_response(&m, head, end, 0, &h) == 0);
    CHECK(h.status == status);
    CHECK(!h.chunked && !h.body_to_eof);
    CHECK(h.content_length == n - end);
    CHECK(h.keep_alive == !close);
    free(head);
    char small[8];
    CHECK(http_error_response(status, close, small, sizeof small) == 0);
}

/* ---- entry ------------------------------------------------------------------------ */

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const uint64_t limits[4] = { 0, 16, 1024, 1u << 20 };

    if (size < 2)
        return 0;
    uint8_t mode = data[0];
    struct feed f = {
        .p = (const char *)data + 2,
        .len = size - 2,
        .avail = 0,
        .rng = 0x01000193u * (uint32_t)(data[1] + 1),
        .oneshot = (mode & 0x80) != 0,
    };
    size_t pos = 0;

    if ((mode & 1) == 0) {
        const char *ip = (mode & 0x08) ? "2001:db8::1" : "192.0.2.1";
        for (int i = 0; i < MAX_MESSAGES && pos < f.len; i++) {
            size_t next = one_request(&f, pos, limits[(mode >> 1) & 3], ip);
            if (next == 0)
                break;
            CHECK(next > pos && next <= f.len);
            pos = next;
        }
    } else {
        for (int i = 0; i < MAX_MESSAGES && pos < f.len; i++) {
            size_t next = one_response(&f, pos, (mode >> 3) & 1, (mode >> 4) & 1, (mode >> 5) & 1,
                                       (mode >> 6) & 1);
            if (next == 0)
                break;
            CHECK(next > pos && next <= f.len);
            pos = next;
        }
        check_error_response(400 + (data[1] * 2 + (mode >> 7)) % 200, (mode >> 5) & 1);
    }
    return 0;
}
