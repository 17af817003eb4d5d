/*
 * router: which pool a request goes to (CONTRACT section 2: routes by Host
 * and path prefix, first match wins, `route default`).
 */
#ifndef PROXY_ROUTER_H
#define PROXY_ROUTER_H

#include <stddef.h>

#include "runtime.h"

/* Where a request goes.  Routes match the normalized path (http_path.h). */
struct route_result {
    struct pool *pool;     /* NULL when no route matches (503) */
    struct route *route;   /* the route that matched (NULL when none) */
    int status;            /* 400 for a path above the root, 414 for one too long
                              to normalize in the caller's buffer; 0 otherwise */
    const char *path;      /* the normalized origin-form target (in the caller's
                              buffer, or the target's own path when unchanged) */
    size_t path_len;
};

/* `host` is the Host field value (a port is ignored), `target` the request
 * target (origin-form or absolute-form), `buf` room for its normalized
 * form. */
void router_resolve(const struct runtime *rt, const char *host, size_t host_len, const char *target,
                    size_t target_len, char *buf, size_t cap, struct route_result *res);

/* The pool alone (NULL for no route or a path refused). */
struct pool *router_match(const struct runtime *rt, const char *host, size_t host_len,
                          const char *target, size_t target_len);

#endif
