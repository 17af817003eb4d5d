/*
 * worker: the event-loop threads.  Each worker has its own libev loop, its
 * own SO_REUSEPORT listening sockets (the kernel spreads connections), its
 * client connections and its idle upstream connections, so no lock sits on the
 * request path.  The kernel's spread is a hash, uneven by chance (42/58 of
 * 100 keep-alive clients was seen); a worker that accepts while another
 * holds fewer connections hands the new one over, so each worker serves
 * its share for the connection's whole life.  The main thread hands it configuration generations and
 * listening sockets, and asks it to stop, through one ev_async.
 */
#ifndef PROXY_WORKER_H
#define PROXY_WORKER_H

#include <ev.h>
#include <pthread.h>
#include <sched.h>
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

/* Main thread: creates and starts n workers, each handed `rt` (a reference
 * is taken for each) and its share of the listening sockets (set->fds[i*n
 * + k] is listen address i's socket for worker k) with their addresses. */
int workers_start(unsigned n, struct runtime *rt, const struct listen_set *set, void (*on_exit)(void));
/* Main thread: hands a new generation and listener set to every worker.
 * Sockets a worker no longer gets are closed by that worker. */
void workers_update(struct runtime *rt, const struct listen_set *set);
/* Main thread: graceful stop (stop accepting, close idle connections,
 * finish in-flight requests). */
void workers_stop(void);
/* timeout shutdown: each worker ends its loop at once and closes what is
 * still open (requests in flight are logged as cut). */
void workers_stop_now(void);
/* Main thread: a server was marked down; each worker ends or moves its
 * requests waiting on it in pools with `on-down shutdown`. */
void workers_server_down(void);
/* Main thread: true when every worker has finished. */
int workers_all_exited(void);
void workers_join(void);
unsigned workers_count(void);
/* The CPUs this process may run on (a container's cpuset, taskset), into
 * *set if given.  Returns their number, or 0 if unknown. */
int usable_cpus(cpu_set_t *set);
/* Client connections worker k holds now (any thread; for the stats). */
unsigned worker_connections(unsigned k);

/* The registry of client connections: a connection is registered before
 * it starts and unregistered by its close hook (counts, the accept pause,
 * the end of a graceful stop). */
void worker_conn_register(struct worker *w, struct conn *c);
void worker_conn_unregister(struct conn *c);

#endif
