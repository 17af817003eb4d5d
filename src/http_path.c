/*
 * http_path: request path normalization (see http_path.h).
 */
#include "http_path.h"

#include <string.h>

static size_t path_part(const char *target, size_t len)
{
    const char *q = memchr(target, '?', len);
    return q ? (size_t)(q - target) : len;
}

int http_path_may_change(const char *target, size_t len)
{
    size_t n = path_part(target, len);
    for (size_t i = 0; i < n; i++) {
        if (target[i] == '%')
            return 1;
        if (target[i] == '/' && i + 1 < n && (target[i + 1] == '/' || target[i + 1] == '.'))
            return 1;
    }
    return 0;
}

static int hex_value(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

static int unreserved(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
           c == '.' || c == '_' || c == '~';
}

/* Percent-decoding of unreserved characters, upper-case hex for the other
 * escapes (RFC 3986 6.2.2.1 and 6.2.2.2).  Never longer than its input. */
static size_t decode_unreserved(const char *in, size_t len, char *out)
{
    size_t d = 0;
    for (size_t i = 0; i < len; i++) {
        int hi, lo;
        if (in[i] == '%' && i + 2 < len && (hi = hex_value(in[i + 1])) >= 0 &&
            (lo = hex_value(in[i + 2])) >= 0) {
            unsigned char c = (unsigned char)(hi * 16 + lo);
            if (unreserved(c)) {
                out[d++] = (char)c;
            } else {
                out[d++] = '%';
                out[d++] = "0123456789ABCDEF"[hi];
                out[d++] = "0123456789ABCDEF"[lo];
            }
            i += 2;
            continue;
        }
        out[d++] = in[i];
    }
    return d;
}

/* Removes dot-segments and empty segments in place (RFC 3986 5.2.4, and
 * "//" merged); a trailing "/", "/." or "/.." leaves a trailing slash.
 * Returns the new length, or 0 for a path that climbs above the root. */
static size_t remove_dot_segments(char *p, size_t n)
{
    size_t r = 0, w = 0;
    while (r < n) {
        size_t s = r + 1, e = s; /* p[r] is '/' */
        while (e < n && p[e] != '/')
            e++;
        size_t seg = e - s;
        int last = e >= n;
        if (seg == 0 || (seg == 1 && p[s] == '.')) {
            if (last)
                p[w++] = '/';
        } else if (seg == 2 && p[s] == '.' && p[s + 1] == '.') {
            if (w == 0)
                return 0;
            while (w > 0 && p[w - 1] != '/')
                w--;
            if (w > 0)
                w--; /* the '/' before the segment dropped */
            if (last)
                p[w++] = '/';
        } else {
            p[w++] = '/';
            memmove(p + w, p + s, seg);
            w += seg;
        }
        r = e;
    }
    if (w == 0)
        p[w++] = '/';
    return w;
}

int http_path_normalize(const char *target, size_t len, char *out, size_t cap, size_t *out_len)
{
    if (len > cap)
        return HTTP_PATH_TOO_LONG;
    if (len == 0 || target[0] != '/') {
        memcpy(out, target, len);
        *out_len = len;
        return HTTP_PATH_OK;
    }
    size_t path = path_part(target, len);
    size_t n = decode_unreserved(target, path, out);
    n = remove_dot_segments(out, n);
    if (n == 0)
        return HTTP_PATH_ABOVE_ROOT;
    memcpy(out + n, target + path, len - path); /* the query: out never grew past len */
    *out_len = n + len - path;
    return HTTP_PATH_OK;
}
