/*
 * worker: event-loop threads, their listening sockets and the hand-over of
 * configuration generations from the main thread (see worker.h).
 */
#include "worker.h"

#include <errno.h>
#include <openssl/ssl.h>
#include <poll.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "balance.h"
#include "buf.h"
#include "cpu_yield.h"
#include "log.h"
#include "mem_trim.h"
#include "metrics.h"
#include "sendq.h"
#include "conn.h"
#include "conn_pp.h"
#include "proto_h1.h"
#include "proto_h2.h"
#include "txn.h"
#include "upstream.h"
#include "tls_ctx.h"
#include "traffic.h"

/* How long accepting pauses when out of file descriptors or at max-conns:
 * long enough not to spin, short enough that the backlog drains soon. */
#define ACCEPT_PAUSE_S 0.1
/* Idle server connections older than this are closed by the sweep. */
#define UPSTREAM_IDLE_MAX_MS 30000
/* Connections accepted per listener per loop round.  A plain one costs
 * tens of µs before its first request, so a batch is cheap; a TLS one
 * costs a handshake (about 300 µs of CPU), and 64 of them put ~20 ms of
 * work ahead of the requests already in flight in the same round: with
 * wrk -c50 and a new TLS connection per request, p99 was 29-38 ms at 64,
 * 10-13 ms at 1, at the same requests/s.  The rest wait in the listen
 * backlog for the next round (nginx, with multi_accept off, also takes
 * one per wake-up).  tests/scenario/ops_accept_batch.sh watches both in
 * the worker's accept4 calls. */
#define ACCEPT_BATCH 64
#define ACCEPT_BATCH_TLS 1
/* Idle connections another worker is asked to close when this one is at
 * max-conns with none of its own: a batch, as nginx drains up to 32
 * reusable connections at once, since the backlog may hold several. */
#define ROOM_BATCH 16

static struct worker *workers;
static unsigned nworkers;
/* Connections handed over and not yet taken: not in connections_active
 * yet, but they count against max-conns. */
static atomic_uint handoffs_pending;
static void (*main_notify)(void);

unsigned workers_count(void) { return nworkers; }

static void notify_worker(int id)
{
    ev_async_send(workers[id].loop, &workers[id].wake);
}

/* ---- accepting -------------------------------------------------------------- */

static void listeners_pause(struct worker *w)
{
    if (w->accept_paused)
        return;
    w->accept_paused = 1;
    for (size_t i = 0; i < w->nlisteners; i++)
        ev_io_stop(w->loop, &w->listeners[i].io);
    ev_timer_set(&w->accept_resume, ACCEPT_PAUSE_S, 0.);
    ev_timer_start(w->loop, &w->accept_resume);
}

static void listeners_resume(struct worker *w)
{
    if (w->stopping)
        return;
    w->accept_paused = 0;
    for (size_t i = 0; i < w->nlisteners; i++)
        ev_io_start(w->loop, &w->listeners[i].io);
}

static void accept_resume_cb(struct ev_loop *loop, ev_timer *tm, int revents)
{
    struct worker *w = tm->data;
    (void)loop;
    (void)revents;
    listeners_resume(w);
}

/* ---- spreading connections over workers -------------------------------------------------- */

static unsigned load_of(struct worker *w)
{
    return atomic_load_explicit(&w->nconns, memory_order_relaxed) +
           atomic_load_explicit(&w->incoming, memory_order_relaxed);
}

/* The worker that should take a connection w just accepted: w itself
 * unless another (not stopping) holds at least two fewer. */
static struct worker *least_loaded(struct worker *w)
{
    struct worker *best = w;
    unsigned best_load = load_of(w);

    for (unsigned k = 0; k < nworkers; k++) {
        struct worker *o = &workers[k];
        if (o == w || atomic_load_explicit(&o->stop_requested, memory_order_relaxed))
            continue;
        unsigned l = load_of(o);
        if (l + 1 < best_load) {
            best = o;
            best_load = l;
        }
    }
    return best;
}

/* Takes a new client connection: registered before its protocol starts
 * (which may read and even close it at once). */
static void accept_conn(struct worker *w, const struct listen_bind *bind, int fd, const struct sockaddr *addr,
                        socklen_t len)
{
    struct conn *c = conn_new(w, bind, fd, addr, len);
    if (c) {
        worker_conn_register(w, c);
        /* The PROXY header comes first on the wire, before anything a
         * transport (TLS) or the protocol reads. */
        if (c->proxy_protocol)
            conn_pp_start(c);
        else
            conn_start(c);
    }
    mem_trim_note(&w->trim, w->nconns);
}

/* Queues fd for worker `to` and wakes it.  Returns -1 if out of memory
 * (the caller keeps the connection). */
static int handoff_push(struct worker *to, const struct listener *l, int fd, const struct sockaddr_storage *ss,
                        socklen_t len)
{
    struct handoff *h = malloc(sizeof *h);
    if (!h)
        return -1;
    h->next = NULL;
    h->fd = fd;
    h->bind = l->bind; /* a copy: the listener may change with a reload meanwhile */
    /* ... and its generation go, with the TLS context the copy points to. */
    if (h->bind.tls)
        SSL_CTX_up_ref(h->bind.tls);
    h->len = len;
    memcpy(&h->addr, ss, sizeof h->addr);
    atomic_fetch_add_explicit(&to->incoming, 1, memory_order_relaxed);
    atomic_fetch_add_explicit(&handoffs_pending, 1, memory_order_relaxed);
    pthread_mutex_lock(&to->handoff_lock);
    if (to->handoff_tail)
        to->handoff_tail->next = h;
    else
        to->handoff_head = h;
    to->handoff_tail = h;
    pthread_mutex_unlock(&to->handoff_lock);
    notify_worker(to->id);
    return 0;
}

/* Takes the connections other workers handed over (after the loop ended,
 * closes them: nothing is left to serve them). */
static void handoff_drain(struct worker *w)
{
    pthread_mutex_lock(&w->handoff_lock);
    struct handoff *h = w->handoff_head;
    w->handoff_head = w->handoff_tail = NULL;
    pthread_mutex_unlock(&w->handoff_lock);
    while (h) {
        struct handoff *next = h->next;
        atomic_fetch_sub_explicit(&w->incoming, 1, memory_order_relaxed);
        if (w->exiting || !w->rt)
            close(h->fd);
        else
            accept_conn(w, &h->bind, h->fd, (struct sockaddr *)&h->addr, h->len);
        SSL_CTX_free(h->bind.tls); /* the connection holds its own reference */
        /* After the connection counts in connections_active, not before. */
        atomic_fetch_sub_explicit(&handoffs_pending, 1, memory_order_relaxed);
        free(h);
        h = next;
    }
}

/* ---- room for new clients ------------------------------------------------------ */

static int at_max_conns(const struct worker *w)
{
    return atomic_load_explicit(&metrics.connections_active, memory_order_relaxed) +
               atomic_load_explicit(&handoffs_pending, memory_order_relaxed) >=
           w->rt->cfg->max_conns;
}

/* True when a client waits in the listener's backlog: an idle connection
 * is closed only for someone. */
static int client_waiting(int listen_fd)
{
    struct pollfd p = {.fd = listen_fd, .events = POLLIN};
    return poll(&p, 1, 0) == 1 && (p.revents & POLLIN);
}

enum room { ROOM_MADE, ROOM_NOT_NEEDED, ROOM_NONE };

/* At max-conns or out of descriptors, with a client waiting: closes n of
 * this worker's longest-idle keep-alive connections (ROOM_MADE: accept now).
 * With none here, asks the worker that holds the most to close a batch
 * (ROOM_NONE: this one pauses, and finds the room when it resumes).  With
 * no client waiting yet, nothing (the listener stays watched: the next one
 * to arrive wakes it). */
static enum room make_room(struct worker *w, int listen_fd, unsigned n, int for_fds)
{
    if (!client_waiting(listen_fd))
        return ROOM_NOT_NEEDED;
    if (conn_close_longest_idle(w, n) > 0)
        return ROOM_MADE;
    struct worker *best = NULL;
    unsigned most = 0;
    for (unsigned k = 0; k < nworkers; k++) {
        struct worker *o = &workers[k];
        unsigned idle = atomic_load_explicit(&o->nidle, memory_order_relaxed);
        if (o != w && idle > most && !atomic_load_explicit(&o->stop_requested, memory_order_relaxed)) {
            best = o;
            most = idle;
        }
    }
    /* One wake per request outstanding: the batches add up meanwhile. */
    if (best && for_fds)
        atomic_store_explicit(&best->room_for_fds, 1, memory_order_relaxed);
    if (best && atomic_fetch_add_explicit(&best->room_wanted, ROOM_BATCH, memory_order_relaxed) == 0)
        notify_worker(best->id);
    return ROOM_NONE;
}

/* Another worker asked for room: closes what it asked for if the proxy is
 * still at max-conns (clients that left meanwhile made room already), or
 * when the asker was out of descriptors (which max-conns does not show:
 * the request was dropped, and its clients hung while this worker held
 * idle connections). */
static void room_requests_run(struct worker *w)
{
    unsigned n = atomic_exchange_explicit(&w->room_wanted, 0, memory_order_relaxed);
    int for_fds = atomic_exchange_explicit(&w->room_for_fds, 0, memory_order_relaxed);
    if (n && w->rt && !w->stopping && (for_fds || at_max_conns(w)))
        conn_close_longest_idle(w, n);
}

unsigned worker_connections(unsigned k)
{
    return k < nworkers ? atomic_load_explicit(&workers[k].nconns, memory_order_relaxed) : 0;
}

static void accept_cb(struct ev_loop *loop, ev_io *io, int revents)
{
    struct listener *l = io->data;
    struct worker *w = l->w;
    (void)loop;
    (void)revents;

    int batch = l->bind.tls ? ACCEPT_BATCH_TLS : ACCEPT_BATCH;
    for (int i = 0; i < batch; i++) {
        if (at_max_conns(w)) {
            enum room r = make_room(w, l->bind.fd, 1, 0);
            if (r == ROOM_NOT_NEEDED)
                return;
            if (r == ROOM_NONE) {
                listeners_pause(w); /* the listen backlog holds the rest */
                return;
            }
        }
        struct sockaddr_storage ss;
        socklen_t len = sizeof ss;
        int fd = accept4(l->bind.fd, (struct sockaddr *)&ss, &len, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd < 0) {
            if (errno == EINTR || errno == ECONNABORTED)
                continue;
            /* Two descriptors per idle client closed: the new client
             * needs one for its server connection too. */
            if ((errno == EMFILE || errno == ENFILE) && make_room(w, l->bind.fd, 2, 1) == ROOM_MADE)
                continue;
            if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM) {
                /* Once per episode, not at every retry. */
                if (!w->accept_warned)
                    log_warn("accept paused");
                w->accept_warned = 1;
                listeners_pause(w);
            }
            return;
        }
        w->accept_warned = 0;
        struct worker *to = nworkers > 1 ? least_loaded(w) : w;
        if (to == w || handoff_push(to, l, fd, &ss, len) < 0)
            accept_conn(w, &l->bind, fd, (struct sockaddr *)&ss, len);
    }
}

/* Watches exactly the sockets of binds[0..n); closes the ones it dropped. */
static void listeners_set(struct worker *w, const struct listen_bind *binds, size_t n)
{
    for (size_t i = 0; i < w->nlisteners; i++) {
        int stays = 0;
        for (size_t k = 0; k < n; k++)
            stays |= binds[k].fd == w->listeners[i].bind.fd;
        ev_io_stop(w->loop, &w->listeners[i].io);
        if (!stays)
            close(w->listeners[i].bind.fd);
    }
    w->nlisteners = n < MAX_LISTENERS ? n : MAX_LISTENERS;
    for (size_t i = 0; i < w->nlisteners; i++) {
        struct listener *l = &w->listeners[i];
        l->bind = binds[i];
        l->w = w;
        ev_io_init(&l->io, accept_cb, l->bind.fd, EV_READ);
        l->io.data = l;
        if (!w->accept_paused && !w->stopping)
            ev_io_start(w->loop, &l->io);
    }
}

/* ---- hand-over from the main thread -------------------------------------------- */

static int update_holds(const struct worker_update *u, int fd)
{
    for (size_t i = 0; i < u->nbinds; i++)
        if (u->binds[i].fd == fd)
            return 1;
    return 0;
}

static void update_free(struct worker_update *u)
{
    runtime_release(u->rt);
    free(u->orphans);
    free(u);
}

/* u supersedes prev, which its worker never took: prev's sockets that u
 * does not keep become u's orphans.  Returns -1 when out of memory (then
 * they stay open: a bound socket leaked, no fd closed twice). */
static int update_adopt_orphans(struct worker_update *u, const struct worker_update *prev)
{
    size_t most = prev->nbinds + prev->norphans;
    int *all = realloc(u->orphans, (u->norphans + most) * sizeof *all);
    if (!all)
        return -1;
    u->orphans = all;
    for (size_t i = 0; i < most; i++) {
        int fd = i < prev->nbinds ? prev->binds[i].fd : prev->orphans[i - prev->nbinds];
        int known = update_holds(u, fd);
        for (size_t k = 0; k < u->norphans && !known; k++)
            known = u->orphans[k] == fd;
        if (!known)
            u->orphans[u->norphans++] = fd;
    }
    return 0;
}

/* Closes u's orphans that w does not watch (listeners_set closes those it
 * does, being absent from u). */
static void close_orphans(struct worker *w, const struct worker_update *u)
{
    for (size_t k = 0; k < u->norphans; k++) {
        int watched = 0;
        for (size_t i = 0; i < w->nlisteners; i++)
            watched |= w->listeners[i].bind.fd == u->orphans[k];
        if (!watched)
            close(u->orphans[k]);
    }
}

static void apply_update(struct worker *w, struct worker_update *u)
{
    struct runtime *old = w->rt;

    w->rt = u->rt;
    close_orphans(w, u);
    listeners_set(w, u->binds, u->nbinds);
    if (old) {
        /* Idle connections to servers the new generation dropped. */
        upstream_sweep(w, old, UPSTREAM_IDLE_MAX_MS);
        /* The queues of pools it renamed or removed: their requests have
         * no server left, and no one else wakes them (503 now, not after
         * timeout queue). */
        for (size_t i = 0; i < old->npools; i++) {
            struct pool *now_pool = runtime_find_pool(w->rt, old->pools[i].cfg->name);
            if (!now_pool || now_pool->shared != old->pools[i].shared)
                balance_wake_queue(&old->pools[i]);
        }
        runtime_release(old);
        /* Servers the reload added have room for queued requests; the ones
         * this worker wakes now pick from the new generation. */
        for (size_t i = 0; i < w->rt->npools; i++)
            balance_wake_queue(&w->rt->pools[i]);
        /* Long-lived client connections (HTTP/2) move to the new
         * settings by reconnecting. */
        for (struct conn *c = w->conns, *next; c; c = next) {
            next = c->next;
            if (c->proto->drain)
                c->proto->drain(c);
        }
    }
    free(u->orphans);
    free(u);
}

static void begin_stop(struct worker *w)
{
    w->stopping = 1;
    for (size_t i = 0; i < w->nlisteners; i++) {
        ev_io_stop(w->loop, &w->listeners[i].io);
        close(w->listeners[i].bind.fd);
    }
    w->nlisteners = 0;
    ev_timer_stop(w->loop, &w->accept_resume);
    /* Idle connections close now; the others after their current response.
     * One whose next request is already in the socket is not idle: closed
     * with it unread, the kernel reset the connection and the request was
     * lost (it is served, with Connection: close). */
    for (struct conn *c = w->conns, *next; c; c = next) {
        next = c->next;
        if (conn_idle(c) && xprt_peek(&c->x) <= 0)
            conn_free(c);
        else if (c->proto->drain)
            c->proto->drain(c);
    }
    upstream_close_all_idle(w, w->rt);
    if (w->nconns == 0)
        ev_break(w->loop, EVBREAK_ALL);
}

static void wake_cb(struct ev_loop *loop, ev_async *a, int revents)
{
    struct worker *w = a->data;
    (void)loop;
    (void)revents;

    struct worker_update *u = atomic_exchange(&w->pending, NULL);
    if (u)
        apply_update(w, u);
    /* Before a stop begins: a handed-over client that already sent its
     * request is served like this worker's own (begin_stop closes only the
     * idle ones). */
    handoff_drain(w);
    room_requests_run(w);
    if (atomic_exchange(&w->servers_down, 0))
        for (struct conn *c = w->conns, *next; c; c = next) {
            next = c->next;
            conn_server_down(c);
        }
    balance_mailbox_run(w->id);
    if (atomic_load(&w->stop_requested) && !w->stopping)
        begin_stop(w);
    /* timeout shutdown: the loop ends now; what is still open is closed
     * (and logged as cut) on the way out of worker_main. */
    if (atomic_load(&w->stop_requested) > 1)
        ev_break(w->loop, EVBREAK_ALL);
}

void workers_server_down(void)
{
    for (unsigned i = 0; i < nworkers; i++) {
        atomic_store(&workers[i].servers_down, 1);
        notify_worker((int)i);
    }
}

void worker_conn_register(struct worker *w, struct conn *c)
{
    c->prev = NULL;
    c->next = w->conns;
    if (w->conns)
        w->conns->prev = c;
    w->conns = c;
    w->nconns++;
    atomic_fetch_add_explicit(&metrics.connections_active, 1, memory_order_relaxed);
    atomic_fetch_add_explicit(&metrics.connections_total, 1, memory_order_relaxed);
}

void worker_conn_unregister(struct conn *c)
{
    struct worker *w = c->w;

    if (c->prev)
        c->prev->next = c->next;
    else
        w->conns = c->next;
    if (c->next)
        c->next->prev = c->prev;
    atomic_fetch_sub_explicit(&metrics.connections_active, 1, memory_order_relaxed);
    w->nconns--;
    if (w->accept_paused && !w->stopping && !ev_is_active(&w->accept_resume))
        listeners_resume(w);
    if (w->stopping && w->nconns == 0)
        ev_break(w->loop, EVBREAK_ALL);
}

static void sweep_cb(struct ev_loop *loop, ev_timer *tm, int revents)
{
    struct worker *w = tm->data;
    (void)loop;
    (void)revents;
    upstream_sweep(w, w->rt, UPSTREAM_IDLE_MAX_MS);
    traffic_worker_tick();
    /* A burst of requests on connections that stay (keep-alive clients
     * that all asked at once) leaves their buffers' memory behind as a
     * flood of connections does. */
    if (!mem_trim_check(&w->trim, w->nconns, txn_cache_trim))
        mem_trim_check(&w->trim_requests, txn_live_count(), txn_cache_trim);
}

/* The round's sends must be out before we yield, so the readers they wake
 * are runnable: flushing here does not rely on the watchers' order (the
 * lowest priority makes this run after sendq's own flush, but a libev
 * built without priorities would run it first). */
static void yield_cb(struct ev_loop *loop, ev_prepare *p, int revents)
{
    struct worker *w = p->data;
    (void)loop;
    (void)revents;
    sendq_flush();
    if (sendq_take_round_sends() && w->rt && w->rt->cfg->cpu_yield)
        cpu_yield_round(&w->yield, w->id);
}

static void *worker_main(void *arg)
{
    struct worker *w = arg;

    int batched = sendq_thread_init(w->loop);
    if (w->id == 0)
        log_info("sends: %s", batched ? "batched per loop round (io_uring)"
                                      : "one send(2) each (io_uring unavailable or PROXY_IO_URING=0)");
    ev_prepare_init(&w->yield_prep, yield_cb);
    w->yield_prep.data = w;
    ev_set_priority(&w->yield_prep, EV_MINPRI);
    ev_prepare_start(w->loop, &w->yield_prep);
    ev_run(w->loop, 0);
    w->exiting = 1;
    handoff_drain(w); /* closes what came too late */
    if (w->rt)
        upstream_close_all_idle(w, w->rt);
    while (w->conns)
        conn_free(w->conns);
    conn_read_again_clear();
    sendq_thread_free();
    h1_cache_clear();
    proto_h2_cache_clear();
    upstream_cache_clear();
    buf_cache_clear();
    atomic_store(&w->exited, 1);
    if (main_notify)
        main_notify();
    return NULL;
}

/* ---- main-thread side ---------------------------------------------------------------- */

/* cpu-affinity auto: worker k runs on the k-th CPU the process may use.
 * Two workers then never share a CPU's caches and queues, and a worker
 * does not migrate under load (2 workers beside a busy backend and wrk:
 * +7-12% requests/s, -5-10% CPU per request, in an A/B).  Not the default:
 * where other busy processes share the CPUs, a pinned worker cannot move
 * to an idle CPU (the 2-worker p99 in `make bench` got worse, 1.28x the
 * best peer's in one run).  Only with 2+ workers and no more workers than
 * CPUs. */
int usable_cpus(cpu_set_t *set)
{
    cpu_set_t own;
    if (!set)
        set = &own;
    return sched_getaffinity(0, sizeof *set, set) == 0 ? CPU_COUNT(set) : 0;
}

static void pin_workers(unsigned n)
{
    cpu_set_t allowed;
    char list[256] = "";
    size_t len = 0;
    int ncpus;

    if (n < 2 || (ncpus = usable_cpus(&allowed)) == 0)
        return;
    if ((unsigned)ncpus < n) {
        log_info("cpu-affinity: %u workers on %d CPUs: not pinned", n, ncpus);
        return;
    }
    unsigned k = 0;
    for (int cpu = 0; cpu < CPU_SETSIZE && k < n; cpu++) {
        if (!CPU_ISSET(cpu, &allowed))
            continue;
        cpu_set_t one;
        CPU_ZERO(&one);
        CPU_SET(cpu, &one);
        int err = pthread_setaffinity_np(workers[k].thread, sizeof one, &one);
        if (err) {
            log_warnx("cpu-affinity: worker %u on CPU %d: %s", k, cpu, strerror(err));
            return;
        }
        if (len < sizeof list)
            len += (size_t)snprintf(list + len, sizeof list - len, "%s%d", k ? "," : "", cpu);
        k++;
    }
    log_info("cpu-affinity: workers 0-%u on CPUs %s", n - 1, list);
}

/* The listen line of cfg for addr says proxy-protocol (the set was
 * opened from that config: the line is there). */
static int listen_wants_proxy_protocol(const struct config *cfg, const struct config_addr *addr)
{
    for (size_t i = 0; i < cfg->nlistens; i++)
        if (config_addr_equal(&cfg->listens[i].addr, addr))
            return cfg->listens[i].proxy_protocol;
    return 0;
}

static struct worker_update *update_for(unsigned k, struct runtime *rt, const struct listen_set *set)
{
    struct worker_update *u = calloc(1, sizeof *u);
    if (!u)
        return NULL;
    runtime_ref(rt);
    u->rt = rt;
    for (size_t i = 0; i < set->naddrs && i < MAX_LISTENERS; i++) {
        struct listen_bind *b = &u->binds[u->nbinds++];
        b->fd = set->fds[i * nworkers + k];
        memcpy(b->address, set->addrs[i].text, sizeof b->address);
        b->proto = &h1_proto;
        if (rt->tls && i < rt->tls->nlistens) {
            b->tls = rt->tls->listen[i];
            b->counters = rt->tls->counters[i];
        }
        b->redirect_https = i < rt->cfg->nlistens && rt->cfg->listens[i].redirect_https;
        b->proxy_protocol = listen_wants_proxy_protocol(rt->cfg, &set->addrs[i]);
    }
    return u;
}

int workers_start(unsigned n, struct runtime *rt, const struct listen_set *set, void (*on_exit)(void))
{
    workers = calloc(n, sizeof *workers);
    if (!workers)
        return -1;
    nworkers = n;
    main_notify = on_exit;
    balance_set_notify(notify_worker);
    atomic_store(&metrics.workers, n);
    for (unsigned k = 0; k < n; k++) {
        struct worker *w = &workers[k];
        w->id = (int)k;
        w->nworkers = n;
        w->conn_closed = worker_conn_unregister;
        pthread_mutex_init(&w->handoff_lock, NULL);
        w->loop = ev_loop_new(EVFLAG_AUTO | EVFLAG_NOSIGMASK);
        if (!w->loop)
            return -1;
        ev_async_init(&w->wake, wake_cb);
        w->wake.data = w;
        ev_async_start(w->loop, &w->wake);
        ev_timer_init(&w->accept_resume, accept_resume_cb, ACCEPT_PAUSE_S, 0.);
        w->accept_resume.data = w;
        ev_timer_init(&w->sweep, sweep_cb, 1., 1.);
        w->sweep.data = w;
        ev_timer_start(w->loop, &w->sweep);
        struct worker_update *u = update_for(k, rt, set);
        if (!u)
            return -1;
        apply_update(w, u);
    }
    for (unsigned k = 0; k < n; k++) {
        if (pthread_create(&workers[k].thread, NULL, worker_main, &workers[k]) != 0) {
            log_error("cannot start worker %u", k);
            return -1;
        }
        /* For top -H, perf and /proc/PID/task/TID/comm. */
        char name[16];
        snprintf(name, sizeof name, "worker %u", k % (CONFIG_MAX_WORKERS + 1u)); /* bound for -Wformat-truncation */
        pthread_setname_np(workers[k].thread, name);
    }
    if (rt->cfg->cpu_affinity)
        pin_workers(n);
    return 0;
}

void workers_update(struct runtime *rt, const struct listen_set *set)
{
    for (unsigned k = 0; k < nworkers; k++) {
        struct worker_update *u = update_for(k, rt, set);
        if (!u) {
            log_errorx("worker %u: no memory for a configuration update", k);
            continue;
        }
        /* Taken back first, so that u is whole once the worker can see it:
         * only this thread stores a pending update. */
        struct worker_update *prev = atomic_exchange(&workers[k].pending, NULL);
        if (prev) {
            /* Superseded before the worker saw it (SIGHUP storm). */
            if (update_adopt_orphans(u, prev) < 0)
                log_errorx("worker %u: no memory to track the listening sockets a superseded update added", k);
            update_free(prev);
        }
        atomic_store(&workers[k].pending, u);
        notify_worker((int)k);
    }
}

void workers_stop(void)
{
    for (unsigned k = 0; k < nworkers; k++) {
        atomic_store(&workers[k].stop_requested, 1);
        notify_worker((int)k);
    }
}

void workers_stop_now(void)
{
    for (unsigned k = 0; k < nworkers; k++) {
        atomic_store(&workers[k].stop_requested, 2);
        notify_worker((int)k);
    }
}

int workers_all_exited(void)
{
    for (unsigned k = 0; k < nworkers; k++)
        if (!atomic_load(&workers[k].exited))
            return 0;
    return 1;
}

void workers_join(void)
{
    for (unsigned k = 0; k < nworkers; k++)
        pthread_join(workers[k].thread, NULL);
    for (unsigned k = 0; k < nworkers; k++) {
        /* A connection handed over while its worker was already leaving
         * (a stop racing an accept): closed, the worker being exiting. */
        handoff_drain(&workers[k]);
        pthread_mutex_destroy(&workers[k].handoff_lock);
        struct worker_update *u = atomic_exchange(&workers[k].pending, NULL);
        if (u)
            update_free(u);
        runtime_release(workers[k].rt);
        ev_loop_destroy(workers[k].loop);
    }
    free(workers);
    workers = NULL;
    nworkers = 0;
}
