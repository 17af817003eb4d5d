/*
 * runtime: the live objects built from a `struct config` - pools, servers,
 * routes - and the generation swap of a reload.
 *
 * A `struct runtime` is one configuration generation.  It is immutable once
 * published, reference counted, and pinned by each request for its lifetime,
 * so a request finishes on the generation it began with.  Servers and the
 * shared part of pools are separate reference-counted objects that a reload
 * carries over (matched by pool name and server name + address, or + host
 * name and port for a server given by name), so state,
 * health counters, statistics and idle connections survive a reload.
 *
 * Threads: workers read servers' atomics and take per-worker idle
 * connections; the main thread runs health checks, the stats port and
 * reloads.  Fields marked (main) are touched only by the main thread.
 */
#ifndef PROXY_RUNTIME_H
#define PROXY_RUNTIME_H

#include <stdatomic.h>
#include <stdint.h>

#include "config.h"
#include "metrics.h"
#include "server_addr.h"
#include "xprt.h"

#define MAX_WORKERS 64
#define CACHE_LINE 64

/* Server health state, written by the health checker (and passive failure
 * detection), read by every worker. */
enum server_state { SRV_UP = 0, SRV_DOWN };

/* Operator's administrative state from the stats port. */
enum server_admin { ADMIN_NONE = 0, ADMIN_DRAIN, ADMIN_DISABLE };

/* Response status classes counted per server: 1xx..5xx. */
#define STATUS_CLASSES 5

/* A list of idle keep-alive connections to a server, owned by one worker. */
struct idle_list {
    struct upstream_conn *head;
    unsigned count;
    unsigned low;       /* the fewest it held since the last sweep (upstream.c) */
};

struct pool_shared;

struct server {
    /* Hot: read and written by every worker on every request. */
    _Alignas(CACHE_LINE) atomic_int active;  /* requests in flight */
    atomic_int state;                        /* enum server_state */
    atomic_int admin;                        /* enum server_admin */
    atomic_uint weight;                      /* configured weight, 1..256 */
    atomic_uint max_conns;                   /* 0 = unlimited */
    atomic_int passive_failures;             /* consecutive failures on traffic */
    atomic_uint_fast64_t up_since_ms;        /* monotonic ms when it last came up (slow start) */

    /* Statistics (relaxed atomics). */
    _Alignas(CACHE_LINE) atomic_uint_fast64_t requests;
    atomic_uint_fast64_t responses[STATUS_CLASSES];
    atomic_uint_fast64_t failures;           /* connect errors, resets, timeouts */
    atomic_uint idle_close_min_ms;           /* shortest idle time after which it closed a
                                                kept-alive connection, 0 = none seen */
    struct rate_ring rate;                   /* attempts per second (balance_pick) */

    /* Cold, set at creation. */
    _Alignas(CACHE_LINE) atomic_int refs;    /* runtimes + upstream connections */
    char name[CONFIG_NAME_MAX];
    char pool_name[CONFIG_NAME_MAX];
    char host[CONFIG_HOST_MAX];              /* the host name it is given by (resolve.c
                                                resolves it), "" when given by IP: e.g.
                                                the default TLS SNI */
    unsigned port;
    struct server_addr target;               /* where workers connect (server_addr.h):
                                                read with server_addr_load */
    enum server_role role;
    atomic_int removed;                      /* no longer in the current runtime */
    struct pool_shared *pool;                /* its pool's shared state (counted ref) */

    /* The address now (main): as written, or what `host` resolves to
     * (len 0 and text "" while it resolves to nothing).  Health checks
     * connect to it and the stats show it; workers use `target`. */
    struct config_addr addr;
    int resolve_state;                       /* enum resolve_state of resolve.h (main) */
    int resolve_error;                       /* the last c-ares status, 0 = none (main) */
    int resolving;                           /* a query is in flight (main) */

    /* Health checking (main). */
    struct health_check *check;              /* owned by health.c, NULL when none */
    int check_status;                        /* enum check_status of health.h */
    unsigned check_consecutive;              /* consecutive results of the same kind */
    double check_last_ms;                    /* duration of the last check */
    char check_detail[CONFIG_HOST_MAX + 96]; /* what the last check (or resolution) said */
    unsigned long long check_local_errors;   /* checks that failed for a local reason
                                                (EMFILE...): not counted as results */
    int check_seen_state;                    /* state as health.c last acted on it: a
                                                differing state is a worker's passive down */

    /* Idle keep-alive connections, one list per worker, each touched only
     * by its worker. */
    struct idle_list idle[MAX_WORKERS];
    /* TLS servers: the last session each worker got from the server, to
     * resume the next connection with (an abbreviated handshake costs the
     * server and us a fraction of a full one).  Each touched only by its
     * worker; freed with the server. */
    struct tls_session_slot tls_session[MAX_WORKERS];
};

/* A queued request waiting for a free server slot (struct txn embeds it). */
struct queue_waiter {
    struct queue_waiter *next, *prev;
    int worker;                   /* the worker to wake */
    int where;                    /* QW_NONE, QW_QUEUED, QW_MAILBOX (under the queue lock) */
    uint64_t ticket;              /* arrival order in the pool's queue (kept when requeued) */
    uint8_t priority;             /* enum route_priority: higher classes are served first */
    void (*wake)(struct queue_waiter *w); /* called on that worker's thread */
};

/* The part of a pool that lives across generations (matched by name). */
struct pool_shared {
    atomic_int refs;
    char name[CONFIG_NAME_MAX];
    atomic_uint rr;                      /* rotation for ties and round-robin */
    atomic_int standby_active;           /* standbys currently take traffic */
    atomic_int queued;                   /* waiters in the queue */
    int down_reported;                   /* (main) pool-down emitted, not yet recovered */
    struct queue_waiter qhead;           /* FIFO sentinel, under balance.c's queue lock */
    uint64_t next_ticket;                /* under the queue lock */
    /* Requests routed to the pool, each counted once at its first pick
     * (balance.c), not per attempt: a total and the per-second ring the
     * dashboard's chart draws (relaxed atomics). */
    atomic_uint_fast64_t requests;
    struct rate_ring rate;
    /* Responses the clients got, by who made them (RESP_FROM_*) and class
     * (1xx..5xx): the proxy's own 502/503/504 count here, so an outage
     * answered by the proxy shows in the 5xx a monitor alerts on. */
    atomic_uint_fast64_t responses[2][STATUS_CLASSES];
    struct latency_hist latency;         /* durations of its requests */
    /* Sticky sessions (sticky.c): responses from the server the request's
     * cookie named, and cookies set anew for a request that carried one
     * (stale, forged, or its server did not take it). */
    atomic_uint_fast64_t sticky_hits;
    atomic_uint_fast64_t sticky_resticks;
};

enum { RESP_FROM_SERVER = 0, RESP_FROM_PROXY = 1 };

/* A pool as one generation sees it. */
struct pool {
    const struct config_pool *cfg;       /* settings of this generation */
    struct pool_shared *shared;
    struct server **servers;             /* primaries then standbys, file order */
    size_t nservers;
    size_t nprimaries;
    char *sticky_ids;                    /* with `sticky cookie`: each server's cookie value,
                                            STICKY_ID_LEN + 1 bytes apiece (sticky.h, made by runtime_build); else NULL */
};

struct route {
    const struct config_route *cfg;
    struct pool *pool;
    /* Requests it matched and those refused by limit rate (relaxed
     * atomics), carried over a reload to the route with the same match
     * and pool. */
    atomic_uint_fast64_t requests;
    atomic_uint_fast64_t limited;
};

struct runtime {
    atomic_int refs;
    uint64_t generation;
    struct config *cfg;                  /* owned */
    struct tls_set *tls;                 /* owned: its OpenSSL contexts (tls_ctx.h), NULL without TLS */
    struct pool *pools;
    size_t npools;
    struct route *routes;
    size_t nroutes;
};

struct tls_set;
struct ssl_session_st;

/* Builds a runtime from `cfg` (taking ownership of it).  Servers and pool
 * states found in `prev` (may be NULL) by name are shared, not recreated.
 * Returns NULL on allocation failure (cfg is then freed). */
struct runtime *runtime_build(struct config *cfg, const struct runtime *prev);

/* The current generation (main thread: it is the one that swaps it). */
struct runtime *runtime_current(void);
/* Takes a reference on the current generation: main thread only (workers
 * are handed theirs by worker.c and take references with runtime_ref). */
struct runtime *runtime_acquire(void);
void runtime_ref(struct runtime *rt);
void runtime_release(struct runtime *rt);
/* Publishes `rt` as current (main thread); marks servers of the old one that
 * are not in the new one as removed, and drops the old one's reference. */
void runtime_publish(struct runtime *rt);

/* Servers that reloads removed while requests were in flight on them, for
 * the stats to list until the last one ends (main thread).  runtime_publish
 * keeps a reference on each; this drops those with nothing in flight any
 * more, then returns the rest (*n of them). */
struct server *const *runtime_removed_servers(size_t *n);

struct pool *runtime_find_pool(const struct runtime *rt, const char *name);
struct server *pool_find_server(const struct pool *pool, const char *name);

void server_ref(struct server *srv);
void server_unref(struct server *srv);

#endif
