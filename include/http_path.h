/*
 * http_path: the normalized form of a request path (RFC 3986 section 6),
 * on which routes match: percent-encoded unreserved characters decoded
 * (other escapes upper-cased, "%2F" stays an escape, not a separator),
 * dot-segments removed, repeated slashes merged.  So "/x/../admin/",
 * "/%61dmin/" and "//admin/" all meet a route on "/admin/".
 */
#ifndef PROXY_HTTP_PATH_H
#define PROXY_HTTP_PATH_H

#include <stddef.h>

enum {
    HTTP_PATH_OK = 0,
    HTTP_PATH_ABOVE_ROOT = -1, /* "/../x": a 400 */
    HTTP_PATH_TOO_LONG = -2,   /* over the caller's buffer: a 414 */
};

/* Whether target[0..len) (origin-form, query included) may change when
 * normalized: a cheap look for '%', "//" and "/." in its path. */
int http_path_may_change(const char *target, size_t len);

/* Writes the normalized form of target[0..len) into out (the query, after
 * '?', copied as it is).  A target that does not start with '/' ("*") is
 * copied unchanged.  Returns HTTP_PATH_OK with *out_len set, or an error. */
int http_path_normalize(const char *target, size_t len, char *out, size_t cap, size_t *out_len);

#endif
