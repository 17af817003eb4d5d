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

#include <sched.h>

#include "listen.h"
#include "runtime.h"
#include "worker_ctx.h"

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
