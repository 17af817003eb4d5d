/*
 * router: which pool a request goes to (CONTRACT section 2: routes by Host
 * and path prefix, first match wins, `route default`).
 */
#ifndef PROXY_ROUTER_H
#define PROXY_ROUTER_H

#include <stddef.h>

#include "runtime.h"

/* `host` is the Host field value (a port is ignored), `target` the request
 * target (origin-form or absolute-form).  Returns NULL when no route
 * matches. */
struct pool *router_match(const struct runtime *rt, const char *host, size_t host_len,
                          const char *target, size_t target_len);

#endif
