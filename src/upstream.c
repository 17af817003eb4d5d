/*
 * upstream: server connections and the per-worker idle pools (see
 * upstream.h).
 */
#include "upstream.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

#include "metrics.h"
#include "proxy_proto.h"
#include "slab.h"
#include "worker_ctx.h"

/* Idle connections kept per server and worker: as many as the worker can
 * have requests in flight (its share of max-conns; at least 128), so that
 * a crowd of keep-alive clients does not open a server connection per
 * request (with a fixed 128, 5000 concurrent clients did: 0.97 connects
 * per request).  The sweep closes those idle for 30 s, so a burst's
 * connections do not stay (its surplus goes sooner: SURPLUS_IDLE_MS). */
#define IDLE_MIN_PER_SERVER 128
/* A burst of requests opens a server connection for each (4000 clients
 * asking at once: 3800), and they are not worth keeping for the full 30 s
 * when the next seconds need none of them (their memory, and the
 * server's).  An idle connection is surplus when it is beyond the
 * IDLE_MIN_PER_SERVER most recently used and was not taken since the last
 * sweep: the list is a stack (taken from and parked at its head), so the
 * `low` connections at its bottom - the fewest it held meanwhile - were
 * not touched.  A surplus one idle for this long goes.  Under a load that
 * comes and goes, the list's low mark stays under what the peaks take,
 * and they keep their connections (closing by idle time alone made 2000
 * clients reconnect 0.07 times a request). */
#define SURPLUS_IDLE_MS 2000

/* Server connections outlive the requests that opened them (idle in the
 * pool): on the heap they pinned the pages of a burst's freed requests. */
static _Thread_local struct slab_pool conn_slabs = SLAB_POOL_INIT(struct upstream_conn);

static unsigned idle_cap(const struct worker *w)
{
    unsigned n = w->nworkers ? w->nworkers : 1;
    unsigned share = w->rt->cfg->max_conns / n;
    return share > IDLE_MIN_PER_SERVER ? share : IDLE_MIN_PER_SERVER;
}

static void idle_unlink(struct upstream_conn *uc)
{
    struct idle_list *list = &uc->srv->idle[uc->w->id];
    if (uc->prev)
        uc->prev->next = uc->next;
    else
        list->head = uc->next;
    if (uc->next)
        uc->next->prev = uc->prev;
    uc->prev = uc->next = NULL;
    list->count--;
    if (list->count < list->low)
        list->low = list->count;
}

/* The server closed an idle connection after `idle_ms`: the shortest such
 * time seen is how long this server keeps connections open, and bounds
 * the reuse window for requests that must not be replayed. */
static void learn_idle_close(struct server *srv, uint64_t idle_ms)
{
    unsigned ms = idle_ms > UINT_MAX ? UINT_MAX : (unsigned)idle_ms;
    unsigned seen = atomic_load_explicit(&srv->idle_close_min_ms, memory_order_relaxed);
    while ((seen == 0 || ms < seen) &&
           !atomic_compare_exchange_weak_explicit(&srv->idle_close_min_ms, &seen, ms,
                                                  memory_order_relaxed, memory_order_relaxed))
        ;
}

/* Whether an idle connection can carry a request: nothing pending on it.
 * A byte waiting is one the server sent beyond its last response (another
 * client's request must never read it), an end of stream is the server's
 * close; one non-blocking peek tells, before epoll gets to say so. */
static int idle_usable(struct upstream_conn *uc, uint64_t now)
{
    int n = xprt_peek(&uc->x);
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
        return 1;
    if (n > 0)
        atomic_fetch_add_explicit(&metrics.server_conns_stray, 1, memory_order_relaxed);
    else if (n == 0)
        learn_idle_close(uc->srv, now > uc->idle_since_ms ? now - uc->idle_since_ms : 0);
    return 0;
}

/* Whether epoll has already answered for a plaintext idle connection:
 * parked before the loop last polled (its EV_READ was registered then, so
 * bytes or a close that arrived by that poll are reported) and no event of
 * it is waiting to be handled.  Then the peek is skipped: it was one
 * syscall per reused request (3 of the 3.2 syscalls per keep-alive
 * request were recvs), and what it could still see is only what came in
 * since the poll, a window the keep-alive race retry covers anyway.  A
 * connection parked in this same round (a stray byte right behind a
 * response may still be on its way in) and TLS ones are peeked. */
static int epoll_vouches_idle(struct upstream_conn *uc)
{
    return !xprt_is_tls(&uc->x) && uc->idle_iter != (uint8_t)ev_iteration(uc->w->loop) &&
           ev_is_active(&uc->io) && !ev_is_pending(&uc->io);
}

/* The server's host name resolves to another address now: a connection
 * to the old one is not reused (it may be a server being retired). */
static int addr_changed(const struct upstream_conn *uc)
{
    return uc->addr_version != server_addr_version(&uc->srv->target);
}

uint64_t upstream_reuse_window_ms(const struct server *srv)
{
    unsigned learned = atomic_load_explicit(&srv->idle_close_min_ms, memory_order_relaxed);
    uint64_t window = REUSE_WINDOW_MAX_MS;
    if (learned && learned / 2 < window)
        window = learned / 2;
    return window;
}

struct upstream_conn *upstream_take_idle(struct worker *w, struct server *srv, uint64_t max_idle_ms,
                                         const struct upstream_tls *tls)
{
    uint64_t now = (uint64_t)(ev_now(w->loop) * 1000);
    struct upstream_conn *uc;

    while ((uc = srv->idle[w->id].head)) {
        /* Most recently used first: when the head is too old, all are. */
        if (max_idle_ms != UPSTREAM_ANY_AGE && now - uc->idle_since_ms > max_idle_ms)
            return NULL;
        idle_unlink(uc);
        /* After a reload that turned the pool's TLS on or off, or changed
         * whom it trusts (its CA, SNI, verify, client certificate), a
         * connection made under the old settings is not this pool's any
         * more: it was verified by rules that no longer hold. */
        if (xprt_tls_fingerprint(&uc->x) != (tls->ctx ? xprt_tls_ctx_fingerprint(tls->ctx) : 0)) {
            upstream_close(uc);
            continue;
        }
        if (addr_changed(uc) || (!epoll_vouches_idle(uc) && !idle_usable(uc, now))) {
            upstream_close(uc);
            continue;
        }
        /* The watcher stays started: its new owner changes the callback,
         * and the fd's epoll registration is left as it is. */
        uc->reused = 1;
        return uc;
    }
    return NULL;
}

struct upstream_conn *upstream_connect(struct worker *w, struct server *srv, const struct upstream_tls *tls)
{
    struct upstream_conn *uc;
    struct sockaddr_storage ss;
    socklen_t len;
    int one = 1;
    unsigned version = server_addr_load(&srv->target, &ss, &len);

    if (len == 0) {
        errno = EHOSTUNREACH; /* a host name that resolves to nothing now */
        return NULL;
    }
    int fd = socket(ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return NULL;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    if (connect(fd, (const struct sockaddr *)&ss, len) < 0 && errno != EINPROGRESS) {
        int saved = errno;
        close(fd);
        errno = saved;
        return NULL;
    }
    uc = slab_alloc(&conn_slabs);
    if (!uc) {
        close(fd);
        errno = ENOMEM;
        return NULL;
    }
    if (tls->ctx) {
        /* The name to ask for and verify: the pool's `tls sni`, else the
         * server's host name; with neither, the address connected to. */
        char ip[CONFIG_ADDR_TEXT_MAX] = "";
        const char *sni = tls->sni && tls->sni[0] ? tls->sni : srv->host[0] ? srv->host : NULL;
        if (!sni)
            server_addr_ip(&ss, ip, sizeof ip);
        if (xprt_tls_init_client(&uc->x, fd, tls->ctx, sni, ip, tls->verify) < 0) {
            close(fd);
            slab_free(&conn_slabs, uc);
            errno = ENOMEM;
            return NULL;
        }
        xprt_tls_resume_from(&uc->x, &srv->tls_session[w->id]);
    } else {
        xprt_plain_init(&uc->x, fd, NULL, NULL);
    }
    uc->w = w;
    uc->srv = srv;
    uc->addr_version = version;
    ev_io_init(&uc->io, NULL, fd, 0);
    server_ref(srv);
    return uc;
}

void upstream_close(struct upstream_conn *uc)
{
    if (!uc)
        return;
    xprt_cancel(&uc->x);
    ev_io_stop(uc->w->loop, &uc->io);
    xprt_close(&uc->x);
    server_unref(uc->srv);
    slab_free(&conn_slabs, uc);
}

void upstream_cache_clear(void)
{
    slab_release_spare(&conn_slabs);
}

/* An idle connection became readable: the server closed it (or sent
 * bytes nobody asked for); either way it cannot be reused. */
static void idle_cb(struct ev_loop *loop, ev_io *io, int revents)
{
    struct upstream_conn *uc = io->data;
    (void)revents;
    /* TLS servers send records that carry no data (a TLS 1.3 session
     * ticket, after the response): taken by the peek, the connection stays. */
    int usable = idle_usable(uc, (uint64_t)(ev_now(loop) * 1000)); /* counts and learns what it was */
    if (usable && xprt_is_tls(&uc->x))
        return;
    idle_unlink(uc);
    upstream_close(uc);
}

void upstream_park(struct upstream_conn *uc)
{
    struct idle_list *list = &uc->srv->idle[uc->w->id];

    if (list->count >= idle_cap(uc->w) || atomic_load(&uc->srv->removed) || uc->w->stopping ||
        xprt_send_pending(&uc->x) || xprt_send_failed(&uc->x)) {
        upstream_close(uc);
        return;
    }
    /* Readable while idle means closed (or garbage): either way it goes. */
    ev_set_cb(&uc->io, idle_cb);
    uc->io.data = uc;
    xprt_set_owner(&uc->x, NULL, NULL); /* nobody to tell of progress while idle */
    if (!ev_is_active(&uc->io) || (uc->io.events & (EV_READ | EV_WRITE)) != EV_READ) {
        ev_io_stop(uc->w->loop, &uc->io);
        ev_io_modify(&uc->io, EV_READ);
        ev_io_start(uc->w->loop, &uc->io);
    }
    uc->idle_since_ms = (uint64_t)(ev_now(uc->w->loop) * 1000);
    uc->idle_iter = (uint8_t)ev_iteration(uc->w->loop);
    uc->prev = NULL;
    uc->next = list->head;
    if (list->head)
        list->head->prev = uc;
    list->head = uc;
    list->count++;
}

/* The header goes on the socket itself, not through the transport: it
 * precedes whatever the transport says (a TLS ClientHello follows it on
 * the wire), and it goes at once, before the request is queued behind it.
 * A socket that just connected has its whole send buffer free, so the
 * few bytes are taken in one call; anything less is a failed attempt. */
int upstream_send_proxy_header(struct upstream_conn *uc, int version, const struct sockaddr *src,
                               const struct sockaddr *dst)
{
    unsigned char hdr[PP_ENCODE_MAX];
    size_t len = pp_encode(version, hdr, sizeof hdr, src, dst);
    ssize_t n;

    if (len == 0) {
        errno = EINVAL;
        return -1;
    }
    do
        n = send(uc->x.fd, hdr, len, MSG_NOSIGNAL);
    while (n < 0 && errno == EINTR);
    if (n == (ssize_t)len)
        return 0;
    if (n >= 0)
        errno = EAGAIN;
    return -1;
}

/* The list is most recently used first; the surplus (SURPLUS_IDLE_MS) is
 * past both the first IDLE_MIN_PER_SERVER and the untouched bottom. */
static void sweep_server(struct worker *w, struct server *srv, uint64_t cutoff, uint64_t surplus_cutoff, int all)
{
    struct idle_list *list = &srv->idle[w->id];
    struct upstream_conn *uc = list->head;
    unsigned untouched_from = list->count - (list->low < list->count ? list->low : list->count);
    unsigned rank = 0;
    if (untouched_from < IDLE_MIN_PER_SERVER)
        untouched_from = IDLE_MIN_PER_SERVER;
    while (uc) {
        struct upstream_conn *next = uc->next;
        uint64_t before = rank++ < untouched_from ? cutoff : surplus_cutoff;
        if (all || atomic_load(&srv->removed) || uc->idle_since_ms < before || addr_changed(uc)) {
            idle_unlink(uc);
            upstream_close(uc);
        }
        uc = next;
    }
    list->low = list->count;
}

/* Closes rt's servers' idle connections that expired, whose server a
 * reload removed, or whose server's name resolves elsewhere now.  A
 * removed server is only in older generations, so a worker calls this
 * with the generation it is leaving (worker.c), and the connections'
 * references were the last ones keeping the server. */
void upstream_sweep(struct worker *w, const struct runtime *rt, uint64_t max_idle_ms)
{
    uint64_t now = (uint64_t)(ev_now(w->loop) * 1000);
    uint64_t cutoff = now > max_idle_ms ? now - max_idle_ms : 0;
    uint64_t surplus = max_idle_ms < SURPLUS_IDLE_MS ? max_idle_ms : SURPLUS_IDLE_MS;
    uint64_t surplus_cutoff = now > surplus ? now - surplus : 0;

    for (size_t i = 0; i < rt->npools; i++)
        for (size_t j = 0; j < rt->pools[i].nservers; j++)
            sweep_server(w, rt->pools[i].servers[j], cutoff, surplus_cutoff, 0);
}

void upstream_close_all_idle(struct worker *w, const struct runtime *rt)
{
    for (size_t i = 0; i < rt->npools; i++)
        for (size_t j = 0; j < rt->pools[i].nservers; j++)
            sweep_server(w, rt->pools[i].servers[j], 0, 0, 1);
}
