/*
 * router: request -> pool (see router.h).
 */
#include "router.h"

#include "host_match.h"
#include "http.h"
#include "http_path.h"

#include <string.h>

/* The host name without a port ("shop.example.com:8080" -> 16 chars),
 * keeping an IPv6 literal's brackets whole, and without the trailing dot
 * of a fully qualified name ("shop.example.com." is that host, as nginx
 * takes it). */
static size_t host_name_len(const char *host, size_t len)
{
    if (len && host[0] == '[') {
        const char *close = memchr(host, ']', len);
        return close ? (size_t)(close - host) + 1 : len;
    }
    const char *colon = memchr(host, ':', len);
    size_t n = colon ? (size_t)(colon - host) : len;
    if (n > 1 && host[n - 1] == '.')
        n--;
    return n;
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

static int route_matches(const struct config_route *r, const char *host, size_t name_len,
                         const char *path, size_t path_len)
{
    if (r->host[0] && !host_matches(r->host, host, name_len))
        return 0;
    size_t plen = strlen(r->path);
    return !plen || (path_len >= plen && memcmp(path, r->path, plen) == 0);
}

void router_resolve(const struct runtime *rt, const char *host, size_t host_len, const char *target,
                    size_t target_len, char *buf, size_t cap, struct route_result *res)
{
    size_t name_len = host_name_len(host, host_len);
    size_t path_len;
    const char *path = target_path(target, target_len, &path_len);

    memset(res, 0, sizeof *res);
    if (http_path_may_change(path, path_len)) {
        size_t n;
        int rc = http_path_normalize(path, path_len, buf, cap, &n);
        if (rc != HTTP_PATH_OK) {
            res->status = rc == HTTP_PATH_ABOVE_ROOT ? 400 : 414;
            return;
        }
        path = buf;
        path_len = n;
    }
    res->path = path;
    res->path_len = path_len;
    for (size_t i = 0; i < rt->nroutes; i++) {
        const struct config_route *r = rt->routes[i].cfg;
        if (r->is_default) {
            res->route = &rt->routes[i];
            res->pool = res->route->pool;
            return;
        }
        if (!route_matches(r, host, name_len, path, path_len))
            continue;
        res->route = &rt->routes[i];
        res->pool = res->route->pool;
        /* Exact names before wildcards (as nginx's server_name): a later
         * route naming this host exactly wins over a wildcard one. */
        if (r->host[0] && host_pattern_wild(r->host))
            for (size_t j = i + 1; j < rt->nroutes; j++) {
                const struct config_route *e = rt->routes[j].cfg;
                if (!e->is_default && e->host[0] && !host_pattern_wild(e->host) &&
                    route_matches(e, host, name_len, path, path_len)) {
                    res->route = &rt->routes[j];
                    res->pool = res->route->pool;
                    break;
                }
            }
        return;
    }
}

struct pool *router_match(const struct runtime *rt, const char *host, size_t host_len,
                          const char *target, size_t target_len)
{
    char buf[4096];
    struct route_result res;
    router_resolve(rt, host, host_len, target, target_len, buf, sizeof buf, &res);
    return res.status ? NULL : res.pool;
}
