/*
 * runtime: pools, servers and routes built from a config, and the
 * generation swap of a reload (see runtime.h).
 *
 * Lifetimes: a runtime holds a reference on each of its servers and pool
 * states; an upstream connection holds one on its server.  A reload shares
 * the objects that stay, so their counters and idle connections carry over.
 */
#include "runtime.h"

#include <openssl/ssl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "log.h"
#include "sticky.h"
#include "tls_ctx.h"

static _Atomic(struct runtime *) current;

void server_ref(struct server *srv)
{
    atomic_fetch_add_explicit(&srv->refs, 1, memory_order_relaxed);
}

static void pool_shared_unref(struct pool_shared *ps)
{
    if (ps && atomic_fetch_sub_explicit(&ps->refs, 1, memory_order_acq_rel) == 1) {
        free(ps);
    }
}

void server_unref(struct server *srv)
{
    if (srv && atomic_fetch_sub_explicit(&srv->refs, 1, memory_order_acq_rel) == 1) {
        for (size_t i = 0; i < MAX_WORKERS; i++)
            SSL_SESSION_free(srv->tls_session[i].session);
        pool_shared_unref(srv->pool);
        free(srv);
    }
}

static struct pool_shared *pool_shared_new(const char *name)
{
    struct pool_shared *ps = calloc(1, sizeof *ps);

    if (!ps)
        return NULL;
    atomic_init(&ps->refs, 1);
    snprintf(ps->name, sizeof ps->name, "%s", name);
    ps->qhead.next = ps->qhead.prev = &ps->qhead;
    return ps;
}

/* Whether `srv` is at the address `cs` gives: the same literal IP, or the
 * same host name and port (whatever it resolves to now). */
static int same_address(const struct server *srv, const struct config_server *cs)
{
    if (srv->host[0] || cs->host[0])
        return strcasecmp(srv->host, cs->host) == 0 && srv->port == cs->port;
    return config_addr_equal(&srv->addr, &cs->addr);
}

/* The server of `prev` that `cs` continues: same pool, name and address
 * (CONTRACT 4), whatever its role: `server` becoming `standby` or back
 * keeps its state, health counters and statistics (it had started over
 * as a new server, up at once however its checks stood). */
static struct server *find_previous(const struct pool *prev_pool, const struct config_server *cs)
{
    if (!prev_pool)
        return NULL;
    struct server *old = pool_find_server(prev_pool, cs->name);
    if (old && same_address(old, cs))
        return old;
    return NULL;
}

static struct server *server_new(const struct config_server *cs, struct pool_shared *ps)
{
    struct server *srv = aligned_alloc(CACHE_LINE, (sizeof *srv + CACHE_LINE - 1) / CACHE_LINE * CACHE_LINE);

    if (!srv)
        return NULL;
    memset(srv, 0, sizeof *srv);
    atomic_init(&srv->refs, 1);
    /* A server given by name takes no traffic until it resolves (resolve.c
     * puts it up then, as a server given by IP starts). */
    atomic_init(&srv->state, cs->host[0] ? SRV_DOWN : SRV_UP);
    /* 0: no slow start at process start; health_apply sets it for servers
     * a reload adds and servers that come back up. */
    atomic_init(&srv->up_since_ms, 0);
    snprintf(srv->name, sizeof srv->name, "%s", cs->name);
    snprintf(srv->pool_name, sizeof srv->pool_name, "%s", ps->name);
    snprintf(srv->host, sizeof srv->host, "%s", cs->host);
    srv->port = cs->port;
    if (!cs->host[0]) {
        srv->addr = cs->addr;
        server_addr_store(&srv->target, (const struct sockaddr *)&cs->addr.sa, cs->addr.len);
    }
    srv->role = cs->role;
    srv->pool = ps;
    atomic_fetch_add(&ps->refs, 1);
    return srv;
}

static int pool_build(struct pool *pool, const struct config_pool *cp, const struct runtime *prev)
{
    const struct pool *prev_pool = prev ? runtime_find_pool(prev, cp->name) : NULL;

    pool->cfg = cp;
    if (prev_pool) {
        pool->shared = prev_pool->shared;
        atomic_fetch_add(&pool->shared->refs, 1);
    } else if (!(pool->shared = pool_shared_new(cp->name))) {
        return -1;
    }
    pool->servers = calloc(cp->nservers ? cp->nservers : 1, sizeof *pool->servers);
    if (!pool->servers)
        return -1;
    /* Primaries first, then standbys: the balancer scans them in this order. */
    for (int pass = 0; pass < 2; pass++) {
        for (size_t i = 0; i < cp->nservers; i++) {
            const struct config_server *cs = &cp->servers[i];
            if ((pass == 0) != (cs->role == ROLE_PRIMARY))
                continue;
            struct server *srv = find_previous(prev_pool, cs);
            if (srv)
                server_ref(srv);
            else if (!(srv = server_new(cs, pool->shared)))
                return -1;
            atomic_store(&srv->weight, cs->weight);
            atomic_store(&srv->max_conns, cs->max_conns);
            atomic_store(&srv->removed, 0);
            /* Read by the main thread only (stats); workers and the pool
             * view go by the server's place in its generation's pool. */
            srv->role = cs->role;
            pool->servers[pool->nservers++] = srv;
            if (pass == 0)
                pool->nprimaries++;
        }
    }
    return 0;
}

/* A route keeps its counts over a reload when one with the same match
 * and pool was there (requests still ending on the old generation after
 * the copy are not carried: a few at most). */
static void route_carry_counts(struct route *r, const struct runtime *prev)
{
    for (size_t i = 0; prev && i < prev->nroutes; i++) {
        const struct route *o = &prev->routes[i];
        if (o->cfg->is_default == r->cfg->is_default && strcmp(o->cfg->host, r->cfg->host) == 0 &&
            strcmp(o->cfg->path, r->cfg->path) == 0 && strcmp(o->pool->cfg->name, r->pool->cfg->name) == 0) {
            atomic_init(&r->requests, atomic_load_explicit(&o->requests, memory_order_relaxed));
            atomic_init(&r->limited, atomic_load_explicit(&o->limited, memory_order_relaxed));
            return;
        }
    }
}

/* The ids of pool's servers when its configuration has `sticky cookie`
 * (sticky.h), under cfg's secret or the process's random one: computed
 * once per generation, so a request only compares 16 bytes per server.
 * 0, or -1 when out of memory or without randomness. */
static int pool_sticky_ids(struct pool *pool, const struct config *cfg)
{
    size_t key_len;
    const void *key;

    pool->sticky_ids = NULL;
    if (!pool->cfg->sticky_cookie[0])
        return 0;
    if (!(key = sticky_key(cfg->sticky_secret, &key_len)))
        return -1;
    pool->sticky_ids = malloc((pool->nservers ? pool->nservers : 1) * (STICKY_ID_LEN + 1));
    if (!pool->sticky_ids)
        return -1;
    for (size_t i = 0; i < pool->nservers; i++)
        sticky_id_make(key, key_len, pool->cfg->name, pool->servers[i]->name,
                       pool->sticky_ids + i * (STICKY_ID_LEN + 1));
    return 0;
}

static void runtime_free(struct runtime *rt)
{
    if (!rt)
        return;
    for (size_t i = 0; i < rt->npools; i++) {
        struct pool *pool = &rt->pools[i];
        for (size_t j = 0; j < pool->nservers; j++)
            server_unref(pool->servers[j]);
        free(pool->servers);
        free(pool->sticky_ids);
        pool_shared_unref(pool->shared);
    }
    free(rt->pools);
    free(rt->routes);
    tls_set_free(rt->tls);
    config_free(rt->cfg);
    free(rt);
}

struct runtime *runtime_build(struct config *cfg, const struct runtime *prev)
{
    struct runtime *rt = calloc(1, sizeof *rt);

    if (!rt) {
        config_free(cfg);
        return NULL;
    }
    atomic_init(&rt->refs, 1);
    rt->cfg = cfg;
    rt->generation = prev ? prev->generation + 1 : 1;
    rt->pools = calloc(cfg->npools ? cfg->npools : 1, sizeof *rt->pools);
    rt->routes = calloc(cfg->nroutes ? cfg->nroutes : 1, sizeof *rt->routes);
    if (!rt->pools || !rt->routes)
        goto fail;
    for (size_t i = 0; i < cfg->npools; i++) {
        rt->npools++;
        if (pool_build(&rt->pools[i], &cfg->pools[i], prev) < 0 || pool_sticky_ids(&rt->pools[i], cfg) < 0)
            goto fail;
    }
    for (size_t i = 0; i < cfg->nroutes; i++) {
        rt->routes[i].cfg = &cfg->routes[i];
        rt->routes[i].pool = &rt->pools[cfg->routes[i].pool];
        route_carry_counts(&rt->routes[i], prev);
    }
    rt->nroutes = cfg->nroutes;
    return rt;
fail:
    runtime_free(rt);
    return NULL;
}

struct runtime *runtime_current(void)
{
    return atomic_load_explicit(&current, memory_order_acquire);
}

/* Main thread only: the main thread is the one that swaps `current`, so the
 * generation cannot be freed between the load and the increment.  Workers
 * get their generation through worker.c's hand-over instead. */
struct runtime *runtime_acquire(void)
{
    struct runtime *rt = atomic_load_explicit(&current, memory_order_acquire);

    if (rt)
        atomic_fetch_add_explicit(&rt->refs, 1, memory_order_relaxed);
    return rt;
}

void runtime_ref(struct runtime *rt)
{
    atomic_fetch_add_explicit(&rt->refs, 1, memory_order_relaxed);
}

void runtime_release(struct runtime *rt)
{
    if (rt && atomic_fetch_sub_explicit(&rt->refs, 1, memory_order_acq_rel) == 1)
        runtime_free(rt);
}

static int runtime_has_server(const struct runtime *rt, const struct server *srv)
{
    for (size_t i = 0; i < rt->npools; i++)
        for (size_t j = 0; j < rt->pools[i].nservers; j++)
            if (rt->pools[i].servers[j] == srv)
                return 1;
    return 0;
}

/* (main) Removed servers with requests in flight, each holding a ref. */
static struct server **removed_list;
static size_t removed_n, removed_cap;

static void removed_prune(void)
{
    size_t k = 0;

    for (size_t i = 0; i < removed_n; i++) {
        if (atomic_load_explicit(&removed_list[i]->active, memory_order_acquire) > 0)
            removed_list[k++] = removed_list[i];
        else
            server_unref(removed_list[i]);
    }
    removed_n = k;
    if (!removed_n) {
        free(removed_list);
        removed_list = NULL;
        removed_cap = 0;
    }
}

/* Keeps srv listed while its requests end; without memory it is just not
 * listed (nothing else depends on the list). */
static void removed_keep(struct server *srv)
{
    for (size_t i = 0; i < removed_n; i++)
        if (removed_list[i] == srv)
            return;
    if (removed_n == removed_cap) {
        size_t cap = removed_cap ? removed_cap * 2 : 8;
        struct server **p = realloc(removed_list, cap * sizeof *p);
        if (!p)
            return;
        removed_list = p;
        removed_cap = cap;
    }
    server_ref(srv);
    removed_list[removed_n++] = srv;
}

struct server *const *runtime_removed_servers(size_t *n)
{
    removed_prune();
    *n = removed_n;
    return removed_list;
}

void runtime_publish(struct runtime *rt)
{
    struct runtime *old = atomic_exchange_explicit(&current, rt, memory_order_acq_rel);

    if (old && rt) {
        for (size_t i = 0; i < old->npools; i++)
            for (size_t j = 0; j < old->pools[i].nservers; j++) {
                struct server *srv = old->pools[i].servers[j];
                if (!runtime_has_server(rt, srv)) {
                    atomic_store(&srv->removed, 1);
                    if (atomic_load(&srv->active) > 0)
                        removed_keep(srv);
                }
            }
    }
    removed_prune();
    runtime_release(old);
}

struct pool *runtime_find_pool(const struct runtime *rt, const char *name)
{
    for (size_t i = 0; i < rt->npools; i++)
        if (strcmp(rt->pools[i].cfg->name, name) == 0)
            return &rt->pools[i];
    return NULL;
}

struct server *pool_find_server(const struct pool *pool, const char *name)
{
    for (size_t i = 0; i < pool->nservers; i++)
        if (strcmp(pool->servers[i]->name, name) == 0)
            return pool->servers[i];
    return NULL;
}
