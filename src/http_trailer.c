/*
 * http_trailer: the trailer fields that go on to a client (see
 * http_trailer.h).  Pure functions over the section as http_msg keeps it.
 */
#include "http_trailer.h"

#include <string.h>
#include <strings.h>

#include "http_hop.h"
#include "http_list.h"

static int name_eq(const char *name, size_t n, const char *lit)
{
    return strlen(lit) == n && strncasecmp(name, lit, n) == 0;
}

int http_trailer_forbidden(const char *name, size_t n)
{
    /* RFC 9110 6.5.1: framing, routing, authentication, controls and the
     * content's format are needed before the content, and may not come
     * after it. */
    static const char *const names[] = {"content-length", "host", "content-encoding", "content-type",
                                        "content-range", "authorization", "proxy-authorization",
                                        "www-authenticate", "proxy-authenticate", "set-cookie", "cookie",
                                        /* the proxy's own, after the head's: a server merging
                                         * trailers in would take the client's */
                                        "x-forwarded-for", "x-forwarded-proto"};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        if (name_eq(name, n, names[i]))
            return 1;
    return 0;
}

/* One "name:value\r\n" line of a kept section at p (p < end): its name and
 * value (the value's blanks trimmed); returns the next line, or NULL when
 * the line has no colon or no end. */
static const char *line_of(const char *p, const char *end, const char **name, size_t *nlen, const char **value,
                           size_t *vlen)
{
    const char *nl = memchr(p, '\n', (size_t)(end - p));
    const char *colon = nl ? memchr(p, ':', (size_t)(nl - p)) : NULL;
    if (!colon)
        return NULL;
    const char *v = colon + 1, *ve = nl > v && nl[-1] == '\r' ? nl - 1 : nl;
    while (v < ve && (*v == ' ' || *v == '\t'))
        v++;
    while (ve > v && (ve[-1] == ' ' || ve[-1] == '\t'))
        ve--;
    *name = p;
    *nlen = (size_t)(colon - p);
    *value = v;
    *vlen = (size_t)(ve - v);
    return nl + 1;
}

struct token_search {
    const char *name;
    size_t n;
    int found;
};

static void token_matches(const char *t, size_t len, void *arg)
{
    struct token_search *ts = arg;
    ts->found |= len == ts->n && strncasecmp(t, ts->name, len) == 0;
}

/* Whether the comma-separated list v[0..len) holds the token name[0..n). */
static int list_has(const char *v, size_t len, const char *name, size_t n)
{
    struct token_search ts = {name, n, 0};
    http_for_each_token(v, len, token_matches, &ts);
    return ts.found;
}

int http_trailer_conn_of(const char *section, size_t len, struct http_trailer_conn *conn)
{
    const char *p = section, *end = section + len;
    conn->n = 0;
    while (p < end) {
        const char *fn, *fv;
        size_t fnl, fvl;
        p = line_of(p, end, &fn, &fnl, &fv, &fvl);
        if (!p)
            break;
        if (!name_eq(fn, fnl, "connection"))
            continue;
        if (conn->n == HTTP_TRAILER_CONN_MAX)
            return -1;
        conn->value[conn->n] = fv;
        conn->len[conn->n++] = fvl;
    }
    return 0;
}

int http_trailer_forwarded(const char *name, size_t n, const struct http_trailer_conn *conn)
{
    if (http_hop_kind(name, n) != HF_OTHER || http_trailer_forbidden(name, n))
        return 0;
    for (unsigned i = 0; conn && i < conn->n; i++)
        if (list_has(conn->value[i], conn->len[i], name, n))
            return 0;
    return 1;
}

size_t http_trailer_write(const char *section, size_t len, char *out, size_t cap)
{
    struct http_trailer_conn conn;
    if (http_trailer_conn_of(section, len, &conn) < 0)
        return 0;
    const char *p = section, *end = section + len;
    size_t o = 0;
    while (p < end) {
        const char *name, *value;
        size_t nlen, vlen;
        p = line_of(p, end, &name, &nlen, &value, &vlen);
        if (!p)
            break; /* http_msg writes whole lines: nothing after one without an end */
        if (!http_trailer_forwarded(name, nlen, &conn))
            continue;
        if (cap - o < nlen + vlen + 4)
            return 0;
        memcpy(out + o, name, nlen);
        memcpy(out + o + nlen, ": ", 2);
        memcpy(out + o + nlen + 2, value, vlen);
        memcpy(out + o + nlen + 2 + vlen, "\r\n", 2);
        o += nlen + vlen + 4;
    }
    if (cap - o < 2)
        return 0;
    memcpy(out + o, "\r\n", 2);
    return o + 2;
}
