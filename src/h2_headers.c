/*
 * h2_headers: HTTP/2 header lists to HTTP/1.1 heads and back (see
 * h2_headers.h).  Pure functions: everything they touch is passed in.
 */
#include "h2_headers.h"

#include <string.h>
#include <strings.h>

#include "http_hop.h"
#include "http_trailer.h"

static int name_is(const struct h2_field *f, const char *name)
{
    size_t n = strlen(name);
    return f->name_len == n && memcmp(f->name, name, n) == 0;
}

/* HTTP/1.1 connection-specific fields: meaningless and forbidden in
 * HTTP/2 (RFC 9113 8.2.2): the hop-by-hop list but for Trailer, which
 * HTTP/2 keeps end to end; `te` is allowed with "trailers" only. */
static int hop_by_hop_request(const struct h2_field *f)
{
    if (http_hop_kind(f->name, f->name_len) == HF_OTHER || name_is(f, "trailer"))
        return 0;
    if (name_is(f, "te"))
        return !(f->value_len == 8 && strncasecmp(f->value, "trailers", 8) == 0);
    return 1;
}

/* No byte that would end a line or the head early in HTTP/1.1 (nghttp2
 * checks this too; the head must be safe whatever the caller). */
static int text_ok(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)s[i] <= '\r' && (s[i] == '\r' || s[i] == '\n' || s[i] == '\0'))
            return 0; /* one comparison for nearly every byte */
    return 1;
}

struct out {
    char *p;
    size_t len, cap;
    int over;
};

static void put(struct out *o, const char *s, size_t n)
{
    if (o->over || o->cap - o->len < n) {
        o->over = 1;
        return;
    }
    memcpy(o->p + o->len, s, n);
    o->len += n;
}

/* Inlined so that strlen of a literal is folded (a call per piece was
 * 280 instructions a request). */
static inline __attribute__((always_inline)) void puts_(struct out *o, const char *s)
{
    put(o, s, strlen(s));
}

/* What each byte may be, in one table so that a field's bytes are looked
 * at once (two loops per field were 700 instructions a request): a token
 * character (a field name, RFC 9110), a byte llhttp takes in a value (HTAB,
 * visible, obs-text: no other control byte, no DEL), a byte that would
 * break an HTTP/1.1 line (CR, LF, NUL: a malformed stream). */
enum { B_TOKEN = 1, B_VALUE = 2, B_BREAK = 4, B_T = B_TOKEN | B_VALUE };
static const unsigned char byte_kind[256] = {
    [0] = B_BREAK, ['\t'] = B_VALUE, ['\n'] = B_BREAK, ['\r'] = B_BREAK,
    [' '] = B_VALUE, ['!'] = B_T, ['"'] = B_VALUE, ['#' ... '\''] = B_T, ['(' ... ')'] = B_VALUE,
    ['*' ... '+'] = B_T, [','] = B_VALUE, ['-' ... '.'] = B_T, ['/'] = B_VALUE, ['0' ... '9'] = B_T,
    [':' ... '@'] = B_VALUE, ['A' ... 'Z'] = B_T, ['[' ... ']'] = B_VALUE, ['^' ... 'z'] = B_T,
    ['{'] = B_VALUE, ['|'] = B_T, ['}'] = B_VALUE, ['~'] = B_T, [0x80 ... 0xff] = B_VALUE,
};

/* -1 when s[0..n) has a line-breaking byte, else whether every byte has
 * the `want` kind (1) or not (0). */
static int bytes_are(const char *s, size_t n, unsigned want)
{
    unsigned any = 0, all = want;
    for (size_t i = 0; i < n; i++) {
        unsigned k = byte_kind[(unsigned char)s[i]];
        any |= k;
        all &= k;
    }
    return (any & B_BREAK) ? -1 : all == want;
}

/* llhttp's method number for an HTTP/1.1 request line, or -1. */
static int method_of(const char *s, size_t n)
{
    if (n == 3 && memcmp(s, "GET", 3) == 0)
        return HTTP_GET; /* nearly every request: no walk through the table */
#define METHOD_IS(num, name, string)                                                                         \
    if (n == sizeof #string - 1 && memcmp(s, #string, n) == 0)                                               \
        return num;
    HTTP_METHOD_MAP(METHOD_IS)
#undef METHOD_IS
    return -1;
}

/* Content-Length as llhttp reads it: digits only, no overflow. */
static int content_length_of(const char *s, size_t n, uint64_t *v)
{
    uint64_t x = 0;
    if (n == 0)
        return -1;
    for (size_t i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9' || x > (UINT64_MAX - 9) / 10)
            return -1;
        x = x * 10 + (uint64_t)(s[i] - '0');
    }
    *v = x;
    return 0;
}

/* The view's entry for the field line just written at name_off: offsets
 * as llhttp gives them (the value without its leading blanks). */
static int view_field(struct http_head *h, size_t name_off, size_t name_len, const char *value, size_t value_len)
{
    if (!h)
        return 0;
    if (h->nfields >= h->max_fields)
        return -1;
    size_t skip = 0;
    while (skip < value_len && (value[skip] == ' ' || value[skip] == '\t'))
        skip++;
    struct http_field *hf = &h->fields[h->nfields++];
    hf->name_off = (uint32_t)name_off;
    hf->name_len = (uint16_t)name_len;
    hf->value_len = (uint32_t)(value_len - skip);
    /* llhttp gives a blank value as an empty one where the next line
     * starts. */
    hf->value_off = (uint32_t)(name_off + name_len + 2 + (hf->value_len ? skip : value_len + 2));
    hf->kind = HF_OTHER;
    return 0;
}

/* One "Name: value\r\n" line, with its view entry. */
static int put_field(struct out *o, struct http_head *h, const char *name, size_t nlen, const char *value, size_t vlen)
{
    size_t at = o->len;
    put(o, name, nlen);
    puts_(o, ": ");
    put(o, value, vlen);
    puts_(o, "\r\n");
    return o->over ? 0 : view_field(h, at, nlen, value, vlen);
}

int h2_request_view(const struct h2_field *f, size_t n, int body_unsized, char *out, size_t cap, size_t *len,
                    struct http_head *h)
{
    const struct h2_field *method = NULL, *path = NULL, *authority = NULL, *scheme = NULL, *host = NULL;
    const struct h2_field *clen = NULL;
    int cookies = 0, bad = 0;

    for (size_t i = 0; i < n; i++) {
        int name_ok = bytes_are(f[i].name, f[i].name_len, B_TOKEN);
        int value_ok = bytes_are(f[i].value, f[i].value_len, B_VALUE);
        if (name_ok < 0 || value_ok < 0 || f[i].name_len == 0)
            return H2_HEAD_MALFORMED;
        if (f[i].name[0] == ':') {
            const struct h2_field **slot = name_is(&f[i], ":method")      ? &method
                                           : name_is(&f[i], ":path")      ? &path
                                           : name_is(&f[i], ":authority") ? &authority
                                           : name_is(&f[i], ":scheme")    ? &scheme
                                                                          : NULL;
            if (!slot || *slot)
                return H2_HEAD_MALFORMED; /* unknown or repeated pseudo-header */
            *slot = &f[i];
            if (slot == &authority && !value_ok)
                bad = 1; /* the Host value */
            continue;
        }
        if (hop_by_hop_request(&f[i]))
            return H2_HEAD_MALFORMED;
        if (name_is(&f[i], "host") && !host)
            host = &f[i];
        if (name_is(&f[i], "cookie"))
            cookies++;
        if (!name_ok || !value_ok)
            bad = 1; /* what llhttp refuses in an HTTP/1.1 head: 400, not a stream error */
        if (h && name_is(&f[i], "content-length")) {
            if (clen)
                bad = 1; /* llhttp refuses a repeated Content-Length */
            clen = &f[i];
        }
    }
    if (method && method->value_len == 7 && memcmp(method->value, "CONNECT", 7) == 0)
        return H2_HEAD_CONNECT;
    if (!method || !path || !scheme || path->value_len == 0 || method->value_len == 0)
        return H2_HEAD_MALFORMED;
    if (!authority)
        authority = host;
    if (authority && authority->value_len == 0)
        authority = NULL;

    if (h) {
        struct http_field *fields = h->fields;
        uint32_t max_fields = h->max_fields;
        memset(h, 0, sizeof *h);
        h->fields = fields;
        h->max_fields = max_fields;
    }
    struct out o = {out, 0, cap, 0};
    put(&o, method->value, method->value_len);
    puts_(&o, " ");
    put(&o, path->value, path->value_len);
    puts_(&o, " HTTP/1.1\r\n");
    size_t line_len = o.len;
    int view_over = 0;
    if (authority)
        view_over |= put_field(&o, h, "Host", 4, authority->value, authority->value_len);
    for (size_t i = 0; i < n; i++) {
        if (f[i].name[0] == ':' || name_is(&f[i], "host") || name_is(&f[i], "te") || name_is(&f[i], "cookie"))
            continue;
        view_over |= put_field(&o, h, f[i].name, f[i].name_len, f[i].value, f[i].value_len);
    }
    if (cookies) {
        /* HTTP/2 clients split cookies into one field each (better HPACK
         * hits); an HTTP/1.1 server expects one line (RFC 9113 8.2.3). */
        size_t at = o.len;
        const char *sep = "Cookie: ";
        for (size_t i = 0; i < n; i++) {
            if (!name_is(&f[i], "cookie"))
                continue;
            puts_(&o, sep);
            put(&o, f[i].value, f[i].value_len);
            sep = "; ";
        }
        puts_(&o, "\r\n");
        if (!o.over)
            view_over |= view_field(h, at, 6, o.p + at + 8, o.len - at - 10);
    }
    if (body_unsized)
        view_over |= put_field(&o, h, "Transfer-Encoding", 17, "chunked", 7);
    puts_(&o, "\r\n");
    if (o.over || view_over)
        return H2_HEAD_TOO_LARGE;
    *len = o.len;
    if (!h)
        return H2_HEAD_OK;

    int m = method_of(method->value, method->value_len);
    uint64_t content_length = 0;
    if (bad || m < 0 || (clen && content_length_of(clen->value, clen->value_len, &content_length) < 0))
        return H2_HEAD_BAD;
    h->len = (uint32_t)o.len;
    h->line_len = (uint32_t)line_len;
    h->uri_off = (uint32_t)method->value_len + 1;
    h->uri_len = (uint32_t)path->value_len;
    h->method = (uint8_t)m;
    h->major = 1;
    h->minor = 1;
    h->keep_alive = 1; /* no Connection field in HTTP/2 */
    h->chunked = body_unsized ? 1 : 0;
    /* A Content-Length with transfer coding is framed by the coding, as
     * llhttp reads it (and nghttp2 holds the DATA to the length anyway). */
    h->has_body = body_unsized || content_length > 0;
    h->content_length = body_unsized ? 0 : content_length;
    return H2_HEAD_OK;
}

int h2_request_head(const struct h2_field *f, size_t n, int body_unsized, char *out, size_t cap, size_t *len)
{
    return h2_request_view(f, n, body_unsized, out, cap, len, NULL);
}

/* Lowercase ASCII letters; every other byte as it is. */
static unsigned char lower_of(unsigned char c)
{
    return (unsigned char)(c >= 'A' && c <= 'Z' ? c + ('a' - 'A') : c);
}

/* The "name: value" lines at p[0..end) up to an empty line or the end:
 * names lowercased in place, values without their surrounding blanks,
 * hop-by-hop fields (and, for trailers, those the section's Connection
 * names and the ones that may not trail) left out.  Returns how many went into out, -1 for a line without a name or
 * more than max.  One pass per line: the name is lowercased on the way to
 * its colon, and the line's end is found from the value on (two memchr
 * and a second walk over the name were 1.2k instructions a response). */
static int fields_of_lines(char *p, char *end, int trailers, struct h2_field *out, size_t max)
{
    int n = 0;
    struct http_trailer_conn conn;
    if (trailers && http_trailer_conn_of(p, (size_t)(end - p), &conn) < 0)
        return -1;
    while (p < end) {
        char *name = p;
        while (p < end && *p != ':' && *p != '\n') {
            *p = (char)lower_of((unsigned char)*p);
            p++;
        }
        if (p == end)
            return -1;
        if (*p == '\n') {
            if (p == name || (p == name + 1 && name[0] == '\r'))
                break; /* the empty line that ends the head */
            return -1; /* a line without a colon */
        }
        size_t name_len = (size_t)(p - name);
        if (name_len == 0)
            return -1;
        char *v = p + 1;
        char *nl = memchr(v, '\n', (size_t)(end - v));
        if (!nl)
            return -1;
        char *ve = nl > v && nl[-1] == '\r' ? nl - 1 : nl;
        while (v < ve && (*v == ' ' || *v == '\t'))
            v++;
        while (ve > v && (ve[-1] == ' ' || ve[-1] == '\t'))
            ve--;
        int goes = trailers ? http_trailer_forwarded(name, name_len, &conn)
                            : http_hop_kind(name, name_len) == HF_OTHER;
        if (goes) {
            if ((size_t)n >= max)
                return -1;
            out[n++] = (struct h2_field){name, name_len, v, (size_t)(ve - v)};
        }
        p = nl + 1;
    }
    return n;
}

int h2_response_status(const char *head, size_t len, unsigned *status)
{
    if (len < 12 || memcmp(head, "HTTP/1.", 7) != 0 || head[8] != ' ')
        return -1;
    unsigned st = 0;
    for (int i = 9; i < 12; i++) {
        if (head[i] < '0' || head[i] > '9')
            return -1;
        st = st * 10 + (unsigned)(head[i] - '0');
    }
    *status = st;
    return 0;
}

int h2_response_fields(char *head, size_t len, unsigned *status, struct h2_field *out, size_t max)
{
    char *eol = memchr(head, '\n', len);

    if (!eol || h2_response_status(head, len, status) < 0)
        return -1;
    int n = fields_of_lines(eol + 1, head + len, 0, out, max);
    if (n > 0 && (*status < 200 || *status == 204)) {
        /* RFC 9110 8.6: no Content-Length on a 1xx or a 204.  HTTP/1.1
         * clients let a server's pass; HTTP/2 ones (nghttp2) refuse the
         * stream as malformed. */
        int kept = 0;
        for (int i = 0; i < n; i++)
            if (!(out[i].name_len == 14 && memcmp(out[i].name, "content-length", 14) == 0))
                out[kept++] = out[i];
        n = kept;
    }
    return n;
}

int h2_trailer_fields(char *block, size_t len, struct h2_field *out, size_t max)
{
    return fields_of_lines(block, block + len, 1, out, max);
}

int h2_request_trailer_ok(const struct h2_field *f)
{
    if (f->name_len == 0 || f->name[0] == ':' || !text_ok(f->name, f->name_len) || !text_ok(f->value, f->value_len))
        return 0;
    return http_trailer_forwarded(f->name, f->name_len, NULL);
}

int h2_response_bodiless(unsigned status, int head)
{
    return head || (status >= 100 && status < 200) || status == 204 || status == 304;
}
