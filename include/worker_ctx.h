/*
 * worker_ctx: the fields of a worker thread that the layers it runs read
 * (its loop, its generation, its registries and counters), as types
 * alone.  conn, the protocols, txn and upstream include this and not
 * worker.h: they run inside a worker and see its state, but never call
 * the worker's functions (the worker calls them), so that the calls point
 * one way, down.
 */
#ifndef PROXY_WORKER_CTX_H
#define PROXY_WORKER_CTX_H

#include <ev.h>
#include <pthread.h>
#include <sys/socket.h>
#include <stdatomic.h>

#include "cpu_yield.h"
#include "listen.h"
#include "mem_trim.h"
#include "runtime.h"

#define MAX_LISTENERS LISTEN_ADDRS_MAX

struct conn;
struct conn_proto;
struct ssl_ctx_st;
struct listener_counters;

/* One listening socket of a worker and its bind configuration, as the
 * listen line gave it.  A connection's protocol and transport are chosen
 * from this at accept (conn.c). */
struct listen_bind {
    int fd;
    char address[CONFIG_ADDR_TEXT_MAX];  /* normalised "0.0.0.0:8080" / "[::]:8080" */
    const struct conn_proto *proto;      /* spoken by its connections (HTTP/1) */
    struct ssl_ctx_st *tls;              /* the listen line's certificates (the generation's), or NULL */
    struct listener_counters *counters;  /* its connections and handshakes (tls_ctx.h) */
    int redirect_https;                  /* `listen ADDR redirect https` */
    int proxy_protocol;                  /* `listen ADDR proxy-protocol`: a PROXY header first */
};

/* What the main thread hands a worker: a generation (one reference for the
 * worker) and the listening sockets it must watch from now on. */
struct worker_update {
    struct runtime *rt;
    struct listen_bind binds[MAX_LISTENERS];
    size_t nbinds;
    /* Listening sockets of updates this one superseded before the worker
     * saw them, and not in binds: the worker closes those it does not
     * watch (a socket a superseded update added would stay bound, its
     * backlog filling with clients nobody accepts). */
    int *orphans;
    size_t norphans;
};

/* An accepted connection on its way to another worker. */
struct handoff {
    struct handoff *next;
    int fd;
    struct listen_bind bind;             /* of the listener it came through */
    socklen_t len;
    struct sockaddr_storage addr;
};

struct listener {
    ev_io io;
    struct listen_bind bind;
    struct worker *w;
};

struct worker {
    int id;
    unsigned nworkers;                   /* how many workers run, this one among them */
    struct ev_loop *loop;
    pthread_t thread;
    ev_async wake;                       /* updates, queue hand-offs, stop */
    struct runtime *rt;                  /* this worker's reference */
    _Atomic(struct worker_update *) pending;
    atomic_int stop_requested;
    int stopping;                        /* graceful stop under way */
    int exiting;                         /* the loop has ended */
    atomic_int exited;

    struct listener listeners[MAX_LISTENERS];
    size_t nlisteners;
    int accept_paused;
    int accept_warned;                   /* "accept paused" logged for this episode */
    ev_timer accept_resume;              /* after EMFILE or max-conns */

    struct conn *conns;                  /* the registry: every live client connection */
    void (*conn_closed)(struct conn *c); /* told by conn_free (worker_conn_unregister) */
    atomic_uint nconns;                  /* their number: written by the worker, read by all */
    struct conn *idle_head, *idle_tail;  /* idle keep-alive connections, longest idle first (conn.c) */
    atomic_uint nidle;                   /* their number: written by the worker, read by all */
    atomic_uint room_wanted;             /* idle connections other workers ask this one to close */
    atomic_int room_for_fds;             /* ... for an asker out of descriptors (not at max-conns) */
    atomic_uint incoming;                /* handed over by others, not yet taken */
    atomic_int servers_down;             /* a server went down since the worker last looked */
    pthread_mutex_t handoff_lock;
    struct handoff *handoff_head, *handoff_tail;
    ev_timer sweep;                      /* closes expired idle upstream connections */
    ev_prepare yield_prep;               /* cpu-yield, after the round's sends went out */
    struct yield_policy yield;
    struct mem_trim trim;                /* memory given back after a flood */
    struct mem_trim trim_requests;       /* ... and after a burst of requests */
};

#endif
