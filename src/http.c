/*
 * http: parsing message heads with llhttp, and the header edits made before
 * forwarding (see http.h).
 */
#include "http.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "buf.h"
#include "http_hop.h"
#include "http_list.h"
#include "http_strict.h"

/* ---- llhttp callbacks ----------------------------------------------------- */

static struct http_msg *msg_of(llhttp_t *p) { return (struct http_msg *)p->data; }

static int on_url(llhttp_t *p, const char *at, size_t len)
{
    struct http_msg *m = msg_of(p);
    if (!m->h)
        return 0;
    if (m->h->uri_len == 0)
        m->h->uri_off = (uint32_t)(at - m->base);
    m->h->uri_len += (uint32_t)len;
    return 0;
}

/* Trailer fields (the head is parsed by then: m->h is NULL) are copied as
 * they come, since a decoded body's bytes move over them. */
static int trailer_put(struct http_msg *m, const char *at, size_t len)
{
    if (!m->keep_trailers || m->h)
        return 0;
    if (!m->trailers && !(m->trailers = buf_get(BUF_SIZE)))
        return -1;
    struct buf *b = m->trailers;
    /* trailers_max bounds the section, not the head's names before it. */
    size_t max = m->trailers_max && m->trailers_head + m->trailers_max < b->cap ? m->trailers_head + m->trailers_max
                                                                                : b->cap;
    if (len > max - b->len) {
        m->over_limit = 1;
        return -1;
    }
    memcpy(b->data + b->len, at, len);
    b->len += len;
    return 0;
}

static int on_trailer_name_end(llhttp_t *p)
{
    return trailer_put(msg_of(p), ":", 1);
}

static int on_trailer_value_end(llhttp_t *p)
{
    return trailer_put(msg_of(p), "\r\n", 2);
}

static int on_header_field(llhttp_t *p, const char *at, size_t len)
{
    struct http_msg *m = msg_of(p);
    struct http_head *h = m->h;

    if (!h) {
        if (!m->in_section) {
            m->in_section = 1;
            m->section_off = (uint32_t)(at - m->base);
        }
        /* The section's first byte: its first field's name. */
        if (m->keep_trailers && !m->trailer_here && !http_msg_trailers_begun(m)) {
            m->trailer_here = 1;
            m->trailer_off = (uint32_t)(at - m->base);
        }
        return trailer_put(m, at, len);
    }
    if (h->nfields >= h->max_fields) {
        m->too_many = 1;
        return -1;
    }
    struct http_field *f = &h->fields[h->nfields++];
    f->name_off = (uint32_t)(at - m->base);
    f->name_len = (uint16_t)len;
    /* An empty value gets no callback: point it just after the name. */
    f->value_off = f->name_off + (uint32_t)len;
    f->value_len = 0;
    f->kind = HF_OTHER;
    return 0;
}

static int on_header_value(llhttp_t *p, const char *at, size_t len)
{
    struct http_msg *m = msg_of(p);
    if (!m->h)
        return trailer_put(m, at, len);
    if (m->h->nfields == 0)
        return 0;
    struct http_field *f = &m->h->fields[m->h->nfields - 1];
    f->value_off = (uint32_t)(at - m->base);
    f->value_len = (uint32_t)len;
    return 0;
}

static int on_headers_complete(llhttp_t *p)
{
    struct http_msg *m = msg_of(p);
    if (p->type != HTTP_RESPONSE)
        return 0;
    /* A response to HEAD, a 204, a 304 and an interim 1xx have no body
     * whatever their heads say (llhttp would read a Content-Length one). */
    if (m->head_request && p->status_code >= 200)
        return 1;
    if (p->status_code == 204 || p->status_code == 304 ||
        (p->status_code >= 100 && p->status_code < 200 && p->status_code != 101))
        return 1;
    return 0;
}

static int on_body(llhttp_t *p, const char *at, size_t len)
{
    struct http_msg *m = msg_of(p);
    if (m->h) {
        /* Body bytes inside what should be the head: llhttp ended the
         * head earlier than its CRLF CRLF. */
        m->head_overrun = 1;
        return -1;
    }
    if (m->dechunk) {
        /* The decoded bytes are never longer than what carried them, so
         * they can move towards the front of the same buffer. */
        memmove(m->dechunk_dst, at, len);
        m->dechunk_dst += len;
    }
    return 0;
}

static int on_chunk_header(llhttp_t *p)
{
    struct http_msg *m = msg_of(p);
    if (m->h) {
        m->head_overrun = 1;
        return -1;
    }
    m->chunk_total += p->content_length;
    if (m->body_limit && m->chunk_total > m->body_limit) {
        m->over_limit = 1;
        return -1;
    }
    return 0;
}

/* Pausing at the end of each message leaves the bytes after it (a
 * pipelined request, garbage from a server) unparsed for the caller. */
static int on_message_complete(llhttp_t *p)
{
    (void)p;
    return HPE_PAUSED;
}

static const llhttp_settings_t settings = {
    .on_url = on_url,
    .on_header_field = on_header_field,
    .on_header_value = on_header_value,
    .on_header_field_complete = on_trailer_name_end,
    .on_header_value_complete = on_trailer_value_end,
    .on_headers_complete = on_headers_complete,
    .on_body = on_body,
    .on_chunk_header = on_chunk_header,
    .on_message_complete = on_message_complete,
};

/* ---- field classification ------------------------------------------------ */

int http_token_eq(const char *s, size_t len, const char *lit)
{
    return strlen(lit) == len && strncasecmp(s, lit, len) == 0;
}

/* The name as CGI and WSGI servers read it: '_' and '-' alike, so that
 * X_Forwarded_Proto is the proxy's field too (replaced, not passed on
 * beside the proxy's own for the application to take first). */
static int name_is_as_cgi(const char *name, const char *lit, size_t n)
{
    if (http_name_is(name, lit, n))
        return 1;
    if (!memchr(name, '_', n))
        return 0;
    for (size_t i = 0; i < n; i++) {
        char c = (char)tolower((unsigned char)name[i]);
        if ((c == '_' ? '-' : c) != lit[i])
            return 0;
    }
    return 1;
}

static uint8_t classify(const char *name, size_t len)
{
    uint8_t hop = http_hop_kind(name, len);
    if (hop != HF_OTHER)
        return hop;
    switch (len) {
    case 4:
        return http_name_is(name, "host", 4) ? HF_HOST : HF_OTHER;
    case 6:
        return http_name_is(name, "expect", 6) ? HF_EXPECT : HF_OTHER;
    case 14:
        return http_name_is(name, "content-length", 14) ? HF_CONTENT_LENGTH : HF_OTHER;
    case 15:
        return name_is_as_cgi(name, "x-forwarded-for", 15) ? HF_XFF : HF_OTHER;
    case 17:
        return name_is_as_cgi(name, "x-forwarded-proto", 17) ? HF_XFP : HF_OTHER;
    case 25:
        return http_name_is(name, "strict-transport-security", 25) ? HF_HSTS : HF_OTHER;
    default:
        return HF_OTHER;
    }
}

struct conn_tokens {
    const char *buf;
    struct http_head *h;
};

/* A field named in Connection is hop-by-hop too, except those that frame
 * the message or route it: dropping them would let a client make the proxy
 * and the server read the message differently. */
static void mark_named_hop(const char *tok, size_t len, void *arg)
{
    struct conn_tokens *ct = arg;
    for (uint32_t i = 0; i < ct->h->nfields; i++) {
        struct http_field *f = &ct->h->fields[i];
        if (f->kind == HF_OTHER && f->name_len == len &&
            strncasecmp(ct->buf + f->name_off, tok, len) == 0)
            f->kind = HF_HOP;
    }
}

static void classify_fields(const char *buf, struct http_head *h)
{
    for (uint32_t i = 0; i < h->nfields; i++) {
        struct http_field *f = &h->fields[i];
        f->kind = classify(buf + f->name_off, f->name_len);
        if (f->kind == HF_HOST) {
            if (h->nhost < 3)
                h->nhost++;
            h->host_off = f->value_off;
            h->host_len = f->value_len;
            /* The value without its trailing blanks (llhttp keeps them):
             * "shop.example.com " is that host, for the routes and a
             * redirect's Location. */
            while (h->host_len && (buf[h->host_off + h->host_len - 1] == ' ' ||
                                   buf[h->host_off + h->host_len - 1] == '\t'))
                h->host_len--;
        } else if (f->kind == HF_EXPECT && http_token_eq(buf + f->value_off, f->value_len, "100-continue")) {
            h->expect_continue = 1;
        }
    }
    struct conn_tokens ct = { buf, h };
    for (uint32_t i = 0; i < h->nfields; i++) {
        const struct http_field *f = &h->fields[i];
        /* "keep-alive", nearly every server's value, names a field that
         * is hop-by-hop anyway: no list to walk (150 instructions a
         * response).  The compare is safe on a value: the one byte it
         * would take for '-' besides '-' is CR, which llhttp refuses. */
        if (f->kind == HF_CONNECTION &&
            !(f->value_len == 10 && http_name_is(buf + f->value_off, "keep-alive", 10)))
            http_for_each_token(buf + f->value_off, f->value_len, mark_named_hop, &ct);
    }
}

/* The tokens of a head's Upgrade fields: which kinds it offers. */
enum { UPGRADE_H2C = 1, UPGRADE_OTHER = 2 };

static void note_upgrade_token(const char *tok, size_t len, void *arg)
{
    *(unsigned *)arg |= http_token_eq(tok, len, "h2c") ? UPGRADE_H2C : UPGRADE_OTHER;
}

static unsigned upgrade_tokens(const char *buf, const struct http_head *h)
{
    unsigned kinds = 0;
    for (uint32_t i = 0; i < h->nfields; i++)
        if (h->fields[i].kind == HF_UPGRADE)
            http_for_each_token(buf + h->fields[i].value_off, h->fields[i].value_len, note_upgrade_token, &kinds);
    return kinds;
}

int http_upgrade_names_h2c(const char *buf, const struct http_head *h)
{
    return (upgrade_tokens(buf, h) & UPGRADE_H2C) != 0;
}

/* ---- parsing ---------------------------------------------------------------- */

int http_too_large_status(const char *buf, size_t len, size_t limit)
{
    return memchr(buf, '\n', len < limit ? len : limit) ? 431 : 414;
}

size_t http_head_end(const char *buf, size_t len, size_t scanned)
{
    size_t from = scanned > 3 ? scanned - 3 : 0;
    if (len < 4)
        return 0;
    const char *p = buf + from;
    const char *end = buf + len;
    while ((p = memchr(p, '\r', (size_t)(end - p))) != NULL) {
        if (end - p < 4)
            return 0;
        if (p[1] == '\n' && p[2] == '\r' && p[3] == '\n')
            return (size_t)(p - buf) + 4;
        p++;
    }
    return 0;
}

static void msg_begin(struct http_msg *m, llhttp_type_t type, const char *buf, struct http_head *h)
{
    struct http_field *fields = h->fields;
    uint32_t max_fields = h->max_fields;
    uint64_t limit = m->body_limit;

    memset(h, 0, sizeof *h);
    h->fields = fields;
    h->max_fields = max_fields;
    llhttp_init(&m->parser, type, &settings);
    m->parser.data = m;
    m->h = h;
    m->base = buf;
    m->body_limit = limit;
    m->chunk_total = 0;
    m->chunked = 0;
    m->too_many = 0;
    m->over_limit = 0;
    m->head_overrun = 0;
    m->last_byte = 0;
    m->keep_trailers = 0;
    m->trailers_head = 0;
    m->in_section = 0;
    if (m->trailers)
        m->trailers->len = 0;
}

/* Runs the head through llhttp; fills in what the parser learnt. */
static llhttp_errno_t msg_head(struct http_msg *m, const char *buf, size_t head_len)
{
    struct http_head *h = m->h;
    llhttp_errno_t err = llhttp_execute(&m->parser, buf, head_len);

    h->len = (uint32_t)head_len;
    if (err == HPE_OK || err == HPE_PAUSED || err == HPE_PAUSED_UPGRADE) {
        const char *eol = memchr(buf, '\n', head_len);
        h->line_len = eol ? (uint32_t)(eol - buf + 1) : 0;
        h->major = llhttp_get_http_major(&m->parser);
        h->minor = llhttp_get_http_minor(&m->parser);
        h->method = llhttp_get_method(&m->parser);
        h->status = (uint16_t)llhttp_get_status_code(&m->parser);
        h->keep_alive = llhttp_should_keep_alive(&m->parser) ? 1 : 0;
        /* The completion callback pauses first, so an upgrade shows in the
         * parser's flag rather than in HPE_PAUSED_UPGRADE. */
        h->upgrade = err == HPE_PAUSED_UPGRADE || (err == HPE_PAUSED && m->parser.upgrade);
        h->chunked = (m->parser.flags & F_CHUNKED) ? 1 : 0;
        m->chunked = h->chunked;
        h->has_body = err == HPE_OK;
        h->body_to_eof = h->has_body && llhttp_message_needs_eof(&m->parser);
        if (m->parser.flags & F_CONTENT_LENGTH)
            h->content_length = h->has_body ? m->parser.content_length : 0;
        classify_fields(buf, h);
        /* An upgrade that offers only h2c is no upgrade here (RFC 9113 3.1
         * drops it; CONTRACT 8: HTTP/2 on plaintext is by prior knowledge).
         * Passed on, a server that took it tunnelled HTTP/2 past every
         * route and limit (h2c smuggling), and the client's keep-alive and
         * pipelined requests were lost.  Its Upgrade field then goes as any
         * unrequested one does. */
        if (h->upgrade && m->parser.type == HTTP_REQUEST && m->parser.method != HTTP_CONNECT &&
            upgrade_tokens(buf, h) == UPGRADE_H2C)
            h->upgrade = 0;
    }
    m->h = NULL;
    m->base = NULL;
    return err;
}

/* llhttp stopped exactly at the end of the head. */
static int head_consumed_exactly(const struct http_msg *m, const char *buf, size_t head_len,
                                 llhttp_errno_t err)
{
    if (m->head_overrun)
        return 0;
    if (err == HPE_PAUSED || err == HPE_PAUSED_UPGRADE)
        return llhttp_get_error_pos(&m->parser) == buf + head_len;
    return 1;
}

static int has_transfer_encoding(const struct http_head *h)
{
    for (uint32_t i = 0; i < h->nfields; i++)
        if (h->fields[i].kind == HF_TRANSFER_ENCODING)
            return 1;
    return 0;
}

static void count_chunked(const char *token, size_t n, void *arg)
{
    if (n == 7 && strncasecmp(token, "chunked", 7) == 0)
        ++*(unsigned *)arg;
}

/* How many times chunked is applied, over every Transfer-Encoding field. */
static unsigned chunked_codings(const char *buf, const struct http_head *h)
{
    unsigned n = 0;
    for (uint32_t i = 0; i < h->nfields; i++)
        if (h->fields[i].kind == HF_TRANSFER_ENCODING)
            http_for_each_token(buf + h->fields[i].value_off, h->fields[i].value_len, count_chunked, &n);
    return n;
}

int http_has_bare_lf(const char *buf, size_t from, size_t len)
{
    const char *p = buf + from;
    const char *end = buf + len;
    while ((p = memchr(p, '\n', (size_t)(end - p))) != NULL) {
        if (p == buf || p[-1] != '\r')
            return 1;
        p++;
    }
    return 0;
}

/* An absolute-form target ("http://host:port/path") names the host
 * itself; when it disagrees with Host the proxy and the server could route
 * the request differently. */
int http_target_absolute(const char *uri, size_t len, const char **auth, size_t *auth_len,
                         const char **rest, size_t *rest_len)
{
    size_t skip;

    if (len > 7 && strncasecmp(uri, "http://", 7) == 0)
        skip = 7;
    else if (len > 8 && strncasecmp(uri, "https://", 8) == 0)
        skip = 8;
    else
        return 0;
    const char *a = uri + skip, *end = uri + len, *p = a;
    while (p < end && *p != '/' && *p != '?')
        p++;
    *auth = a;
    *auth_len = (size_t)(p - a);
    *rest = p;
    *rest_len = (size_t)(end - p);
    return 1;
}

/* A target is origin-form ("/path"), "*" (OPTIONS), or absolute-form with
 * http(s) whose host agrees with Host: otherwise the proxy and the server
 * could route the request differently. */
/* RFC 9112 3.2: Host is uri-host [":" port] - a reg-name, an IPv4
 * address or an IP-literal - or empty.  "a, b" is two hosts, "u@a" a
 * userinfo, "a b" no host at all: a server MUST answer 400. */
static int host_value_valid(const char *v, size_t n)
{
    size_t i = 0;
    if (n && v[0] == '[') {
        while (i < n && v[i] != ']')
            i++;
        if (i == n)
            return 0;
        for (size_t k = 1; k < i; k++)
            if (!isxdigit((unsigned char)v[k]) && v[k] != ':' && v[k] != '.')
                return 0;
        i++;
    } else {
        for (; i < n && v[i] != ':'; i++)
            if (!isalnum((unsigned char)v[i]) && !strchr("-._~%!$&'()*+;=", v[i]))
                return 0;
    }
    if (i == n)
        return 1;
    if (v[i] != ':')
        return 0;
    for (i++; i < n; i++)
        if (!isdigit((unsigned char)v[i]))
            return 0;
    return 1;
}

static int target_acceptable(const char *buf, const struct http_head *h)
{
    const char *uri = buf + h->uri_off, *auth, *rest;
    size_t auth_len, rest_len;

    if (h->nhost == 1 && !host_value_valid(buf + h->host_off, h->host_len))
        return 0;
    if (uri[0] == '/')
        return 1;
    if (h->uri_len == 1 && uri[0] == '*')
        return h->method == HTTP_OPTIONS; /* the asterisk form is OPTIONS' alone (RFC 9112 3.2.4) */
    if (!http_target_absolute(uri, h->uri_len, &auth, &auth_len, &rest, &rest_len))
        return 0;
    return h->nhost == 1 && auth_len == h->host_len &&
           strncasecmp(auth, buf + h->host_off, auth_len) == 0;
}

int http_parse_request(struct http_msg *m, const char *buf, size_t head_len, struct http_head *h)
{
    msg_begin(m, HTTP_REQUEST, buf, h);
    llhttp_errno_t err = msg_head(m, buf, head_len);

    if (m->too_many)
        return 431;
    /* A request whose Transfer-Encoding does not end in chunked has no
     * length to read: 400 and close (RFC 9112 6.3, CONTRACT section 3). */
    if (err == HPE_INVALID_TRANSFER_ENCODING)
        return 400;
    if (err != HPE_OK && err != HPE_PAUSED && err != HPE_PAUSED_UPGRADE)
        return 400;
    if (!http_line_ends_clean(buf, head_len) || !head_consumed_exactly(m, buf, head_len, err) ||
        !http_target_clean(buf, h))
        return 400;
    if (err == HPE_OK && h->body_to_eof)
        return 400; /* a request body cannot run to EOF */
    /* PRI whatever its version: llhttp takes "PRI / HTTP/1.0" for the
     * start of an HTTP/2 preface and waits for its "SM" as if for a body,
     * and refuses the same line once the head has a field. */
    if (h->major != 1 || h->minor > 1 || h->method == HTTP_PRI)
        return 400; /* HTTP/0.9 lines, HTTP/2 prefaces: not ours to guess */
    if (http_line_has_double_space(buf, h) || !http_field_names_clean(buf, h))
        return 400;
    if (!target_acceptable(buf, h))
        return 400;
    /* HTTP/1.1 needs exactly one Host; HTTP/1.0 at most one. */
    if (h->nhost > 1 || (h->nhost == 0 && h->major == 1 && h->minor >= 1))
        return 400;
    /* Transfer-Encoding did not exist in HTTP/1.0: reading it there would
     * let the proxy and the server disagree on where the body ends. */
    if (has_transfer_encoding(h) && h->major == 1 && h->minor == 0)
        return 400;
    /* llhttp lets an upgrade through before checking its coding: any
     * Transfer-Encoding must end in chunked, which the proxy can frame. */
    if (has_transfer_encoding(h) && !h->chunked)
        return 400;
    if (m->body_limit && h->content_length > m->body_limit)
        return 413;
    if (h->upgrade && h->method == HTTP_CONNECT)
        return 400; /* no CONNECT tunnels through a reverse proxy */
    return 0;
}

int http_check_built_request(const char *buf, struct http_head *h, uint64_t body_limit)
{
    classify_fields(buf, h);
    if (!http_target_clean(buf, h) || !target_acceptable(buf, h))
        return 400;
    if (h->nhost != 1)
        return 400;
    if (has_transfer_encoding(h) && !h->chunked)
        return 400;
    if (body_limit && h->content_length > body_limit)
        return 413;
    return 0;
}

int http_parse_response(struct http_msg *m, const char *buf, size_t head_len, int head_request,
                        struct http_head *h)
{
    msg_begin(m, HTTP_RESPONSE, buf, h);
    m->head_request = (uint8_t)head_request;
    m->body_limit = 0;
    llhttp_errno_t err = msg_head(m, buf, head_len);

    if (m->too_many)
        return -1;
    if (err != HPE_OK && err != HPE_PAUSED && err != HPE_PAUSED_UPGRADE)
        return -1;
    if (h->major != 1 || !http_field_names_clean(buf, h) ||
        !http_line_ends_clean(buf, head_len) || !head_consumed_exactly(m, buf, head_len, err) ||
        h->status < 100)
        return -1;
    /* A Transfer-Encoding the client could frame otherwise than llhttp
     * did, 502: beside a Content-Length (an empty one too, which llhttp
     * frames by the length; RFC 9112 6.3), in an HTTP/1.0 response (faulty
     * framing, RFC 9112 6.1, as in a request), or with chunked twice
     * (llhttp decodes it once, a client might twice).  One walk of the
     * fields for a response without one. */
    if (has_transfer_encoding(h) &&
        ((m->parser.flags & F_CONTENT_LENGTH) || h->minor == 0 || chunked_codings(buf, h) > 1))
        return -1;
    /* llhttp reports a 101 as an upgrade only when the headers agree. */
    if (h->status == 101)
        h->upgrade = 1;
    return 0;
}

/* Whether the trailer section's bytes among those llhttp read in this
 * call (data[0..len), up to where it stopped on an error) have a folded
 * line.  llhttp joins one to the field before it (it refuses a fold only
 * on the section's first line), so the section would go on with it, or its
 * fields be read differently by the next hop.  The section's bytes are
 * never under a decoded body's: they come after its last chunk.  Called
 * only once the section has begun: no cost on any other body bytes. */
static int section_folded(const struct http_msg *m, int began_before, char prev, const char *data, size_t len,
                          llhttp_errno_t err)
{
    const char *pos = err == HPE_OK ? NULL : llhttp_get_error_pos(&m->parser);
    size_t stop = !pos || pos < data || pos > data + len ? len : (size_t)(pos - data);
    size_t from = began_before ? 0 : m->section_off;
    return from < stop && http_section_folded(data + from, stop - from, began_before ? prev : 0);
}

enum http_body_status http_msg_body(struct http_msg *m, const char *data, size_t len, size_t *consumed)
{
    m->trailer_here = 0;
    m->base = data; /* for trailer_off, section_off */
    int began_before = m->in_section;
    /* Before llhttp runs: a decoded body's bytes move over the data. */
    char prev = m->last_byte, last = len ? data[len - 1] : prev;
    llhttp_errno_t err = llhttp_execute(&m->parser, data, len);
    m->base = NULL;
    m->last_byte = last;

    if (m->in_section && section_folded(m, began_before, prev, data, len, err)) {
        *consumed = 0;
        return HTTP_BODY_FOLDED;
    }
    if (err == HPE_OK) {
        *consumed = len;
        return HTTP_BODY_MORE;
    }
    if (err == HPE_PAUSED || err == HPE_PAUSED_UPGRADE) {
        size_t n = (size_t)(llhttp_get_error_pos(&m->parser) - data);
        /* llhttp, even strict, ends a chunked body's last line (the empty
         * one after the trailer section) at a bare LF: a server that ends
         * lines at CRLF only reads on, into what follows (smuggling).  By
         * the head's framing: a Transfer-Encoding trailer field changes
         * llhttp's flags. */
        if (m->chunked && n > 0 && (n >= 2 ? data[n - 2] : prev) != '\r') {
            *consumed = 0;
            return HTTP_BODY_INVALID;
        }
        *consumed = n;
        return HTTP_BODY_DONE;
    }
    *consumed = 0;
    return m->over_limit ? HTTP_BODY_TOO_LARGE : HTTP_BODY_INVALID;
}

enum http_body_status http_msg_body_dechunk(struct http_msg *m, char *data, size_t len, size_t *consumed,
                                            size_t *produced)
{
    m->dechunk = 1;
    m->dechunk_dst = data;
    enum http_body_status rc = http_msg_body(m, data, len, consumed);
    *produced = (size_t)(m->dechunk_dst - data);
    m->dechunk = 0;
    return rc;
}

int http_msg_trailers_begun(const struct http_msg *m)
{
    return m->trailers && m->trailers->len > m->trailers_head;
}

struct named_copy {
    struct http_msg *m;
    int failed;
};

/* One name a head's Connection field lists, onto the kept line; those that
 * are hop-by-hop anyway and "close" (the usual ones) take no buffer. */
static void copy_named(const char *tok, size_t len, void *arg)
{
    struct named_copy *nc = arg;
    struct http_msg *m = nc->m;
    if (nc->failed || http_hop_kind(tok, len) != HF_OTHER || http_token_eq(tok, len, "close"))
        return;
    if (!m->trailers && !(m->trailers = buf_get(BUF_SIZE))) {
        nc->failed = -2;
        return;
    }
    struct buf *b = m->trailers;
    const char *lead = b->len ? ", " : "connection:";
    size_t ll = strlen(lead);
    if (b->cap - b->len < ll + len + 2) { /* and the line's CRLF */
        nc->failed = -1;
        return;
    }
    memcpy(b->data + b->len, lead, ll);
    memcpy(b->data + b->len + ll, tok, len);
    b->len += ll + len;
}

int http_msg_keep_trailers(struct http_msg *m, uint32_t max, const char *buf, const struct http_head *h)
{
    m->keep_trailers = 1;
    m->trailers_max = max;
    m->trailers_head = 0;
    if (m->trailers)
        m->trailers->len = 0;
    struct named_copy nc = {m, 0};
    for (uint32_t i = 0; i < h->nfields; i++)
        if (h->fields[i].kind == HF_CONNECTION)
            http_for_each_token(buf + h->fields[i].value_off, h->fields[i].value_len, copy_named, &nc);
    if (nc.failed)
        return nc.failed;
    if (m->trailers && m->trailers->len) {
        memcpy(m->trailers->data + m->trailers->len, "\r\n", 2);
        m->trailers->len += 2;
        m->trailers_head = (uint32_t)m->trailers->len;
    }
    return 0;
}

int http_msg_eof(struct http_msg *m)
{
    /* The completion callback pauses, which is what ends the message here. */
    llhttp_errno_t err = llhttp_finish(&m->parser);
    return err == HPE_OK || err == HPE_PAUSED;
}

int http_method_idempotent(uint8_t method)
{
    switch (method) {
    case HTTP_GET: case HTTP_HEAD: case HTTP_OPTIONS: case HTTP_PUT: case HTTP_DELETE: case HTTP_TRACE:
        return 1;
    default:
        return 0;
    }
}
