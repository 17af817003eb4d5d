/*
 * upstream: connections to servers - non-blocking connect, and the pool of
 * idle keep-alive connections each worker keeps per server, reused across
 * clients.
 */
#ifndef PROXY_UPSTREAM_H
#define PROXY_UPSTREAM_H

#include <ev.h>
#include <stdint.h>
#include <sys/socket.h>

#include "runtime.h"
#include "xprt.h"

struct worker;

struct ssl_ctx_st;

/* How a pool's servers are spoken to: TLS settings of the generation. */
struct upstream_tls {
    struct ssl_ctx_st *ctx; /* NULL: plaintext */
    const char *sni;        /* sent and verified; NULL/"" = none (the address is verified instead) */
    int verify;
};

struct upstream_conn {
    struct xprt x;                       /* its transport; x.q's owner: the txn using it */
    ev_io io;
    struct server *srv;                  /* counted reference */
    struct upstream_conn *prev, *next;   /* the idle list of (srv, worker) */
    struct worker *w;
    uint64_t idle_since_ms;
    unsigned addr_version;               /* of srv->target when it connected */
    /* ev_iteration() when parked, its low byte: all upstream_take_idle asks
     * is whether it is this round's, and a match by wrap-around only costs
     * a peek (a whole unsigned made the struct 152 bytes, not 144). */
    uint8_t idle_iter;
    unsigned reused : 1;                 /* came from the idle pool */
};

/* Requests that must not be replayed (POST, ...) go on an idle connection
 * only while it is young: a server closes idle connections after its own
 * keep-alive timeout, and a request sent just as it does would be lost
 * without knowing whether the server acted on it.  The window is at most
 * this, and half of the shortest idle close seen from the server. */
#define REUSE_WINDOW_MAX_MS 1000
#define UPSTREAM_ANY_AGE UINT64_MAX
uint64_t upstream_reuse_window_ms(const struct server *srv);

/* An idle connection to srv (most recently used first) idle for at most
 * max_idle_ms (UPSTREAM_ANY_AGE: any), or NULL.  Connections found closed
 * by the server, or holding bytes it sent beyond its last response, are
 * closed on the way. */
struct upstream_conn *upstream_take_idle(struct worker *w, struct server *srv, uint64_t max_idle_ms,
                                         const struct upstream_tls *tls);
/* Starts a non-blocking connect to srv (TLS over it when tls->ctx: the
 * handshake goes with the first request bytes).  Returns the connection
 * (writable when connected), or NULL with errno set. */
struct upstream_conn *upstream_connect(struct worker *w, struct server *srv, const struct upstream_tls *tls);
/* Puts a connection whose exchange finished cleanly into the idle pool; it
 * is closed when the server closes it, when it has been idle too long, or
 * when the pool of idle connections to that server is full. */
void upstream_park(struct upstream_conn *uc);
/* send-proxy: writes the PROXY protocol header of `version` (1, 2) for a
 * client from src to dst (NULL: none to tell of, see pp_encode) on a
 * connection that has just connected, before any other byte.  Returns 0,
 * or -1 with errno. */
int upstream_send_proxy_header(struct upstream_conn *uc, int version, const struct sockaddr *src,
                               const struct sockaddr *dst);
void upstream_close(struct upstream_conn *uc);
/* Gives back the calling thread's spare memory for connections (thread exit). */
void upstream_cache_clear(void);
/* Closes idle connections idle for longer than max_idle_ms (beyond the
 * 128 most recently used of a server and untaken since the last sweep,
 * for longer than 2 s: a burst's surplus), those to servers removed by a reload, and those to an address
 * the server's host name no longer resolves to (the workers' sweep runs
 * every second). */
void upstream_sweep(struct worker *w, const struct runtime *rt, uint64_t max_idle_ms);
/* Closes every idle connection of the worker (shutdown). */
void upstream_close_all_idle(struct worker *w, const struct runtime *rt);

#endif
