/*
 * router: request -> pool (see router.h).
 */
#include "router.h"

#include "http.h"

#include <string.h>
#include <strings.h>

/* The host name without a port ("shop.example.com:8080" -> 9 chars...),
 * keeping an IPv6 literal's brackets whole. */
static size_t host_name_len(const char *host, size_t len)
{
    if (len && host[0] == '[') {
        const char *close = memchr(host, ']', len);
        return close ? (size_t)(close - host) + 1 : len;
    }
    const char *colon = memchr(host, ':', len);
    return colon ? (size_t)(colon - host) : len;
}

/* The path of a target: absolute-form "http://h/p?q" gives "/p?q". */
static const char *target_path(const char *target, size_t len, size_t *path_len)
{
    const char *auth, *rest;
    size_t auth_len;

    if (http_target_absolute(target, len, &auth, &auth_len, &rest, path_len))
        return rest;
    *path_len = len;
    return target;
}

struct pool *router_match(const struct runtime *rt, const char *host, size_t host_len,
                          const char *target, size_t target_len)
{
    size_t name_len = host_name_len(host, host_len);
    size_t path_len;
    const char *path = target_path(target, target_len, &path_len);

    for (size_t i = 0; i < rt->nroutes; i++) {
        const struct config_route *r = rt->routes[i].cfg;
        if (r->is_default)
            return rt->routes[i].pool;
        if (r->host[0] && (strlen(r->host) != name_len || strncasecmp(r->host, host, name_len) != 0))
            continue;
        size_t plen = strlen(r->path);
        if (plen && (path_len < plen || memcmp(path, r->path, plen) != 0))
            continue;
        return rt->routes[i].pool;
    }
    return NULL;
}
