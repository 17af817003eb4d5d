/*
 * upstream: server connections and the per-worker idle pools (see
 * upstream.h).
 */
#include "upstream.h"

#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

#include "worker.h"

/* Idle connections kept per server and worker: enough for the usual
 * concurrency, bounded so a burst does not pin thousands of sockets. */
#define IDLE_MAX_PER_SERVER 128

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
}

struct upstream_conn *upstream_take_idle(struct worker *w, struct server *srv)
{
    struct upstream_conn *uc = srv->idle[w->id].head;
    if (!uc)
        return NULL;
    idle_unlink(uc);
    /* The watcher stays started: its new owner changes the callback, and
     * the fd's epoll registration is left as it is. */
    uc->reused = 1;
    return uc;
}

struct upstream_conn *upstream_connect(struct worker *w, struct server *srv)
{
    struct upstream_conn *uc;
    int one = 1;
    int fd = socket(srv->addr.sa.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);

    if (fd < 0)
        return NULL;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    if (connect(fd, (const struct sockaddr *)&srv->addr.sa, srv->addr.len) < 0 &&
        errno != EINPROGRESS) {
        int saved = errno;
        close(fd);
        errno = saved;
        return NULL;
    }
    uc = calloc(1, sizeof *uc);
    if (!uc) {
        close(fd);
        errno = ENOMEM;
        return NULL;
    }
    uc->fd = fd;
    uc->w = w;
    uc->srv = srv;
    ev_io_init(&uc->io, NULL, fd, 0);
    server_ref(srv);
    return uc;
}

void upstream_close(struct upstream_conn *uc)
{
    if (!uc)
        return;
    sendq_cancel(&uc->q);
    ev_io_stop(uc->w->loop, &uc->io);
    close(uc->fd);
    server_unref(uc->srv);
    free(uc);
}

/* An idle connection became readable: the server closed it (or sent
 * bytes nobody asked for); either way it cannot be reused. */
static void idle_cb(struct ev_loop *loop, ev_io *io, int revents)
{
    struct upstream_conn *uc = io->data;
    (void)loop;
    (void)revents;
    idle_unlink(uc);
    upstream_close(uc);
}

void upstream_park(struct upstream_conn *uc)
{
    struct idle_list *list = &uc->srv->idle[uc->w->id];

    if (list->count >= IDLE_MAX_PER_SERVER || atomic_load(&uc->srv->removed) || uc->w->stopping ||
        sendq_pending(&uc->q) || uc->q.err) {
        upstream_close(uc);
        return;
    }
    /* Readable while idle means closed (or garbage): either way it goes. */
    ev_set_cb(&uc->io, idle_cb);
    uc->io.data = uc;
    uc->q.ops = NULL;
    uc->q.owner = NULL;
    if (!ev_is_active(&uc->io) || (uc->io.events & (EV_READ | EV_WRITE)) != EV_READ) {
        ev_io_stop(uc->w->loop, &uc->io);
        ev_io_modify(&uc->io, EV_READ);
        ev_io_start(uc->w->loop, &uc->io);
    }
    uc->idle_since_ms = (uint64_t)(ev_now(uc->w->loop) * 1000);
    uc->prev = NULL;
    uc->next = list->head;
    if (list->head)
        list->head->prev = uc;
    list->head = uc;
    list->count++;
}

static void sweep_server(struct worker *w, struct server *srv, uint64_t cutoff, int all)
{
    struct upstream_conn *uc = srv->idle[w->id].head;
    while (uc) {
        struct upstream_conn *next = uc->next;
        if (all || atomic_load(&srv->removed) || uc->idle_since_ms < cutoff) {
            idle_unlink(uc);
            upstream_close(uc);
        }
        uc = next;
    }
}

/* Closes rt's servers' idle connections that expired or whose server a
 * reload removed.  A removed server is only in older generations, so a
 * worker calls this with the generation it is leaving (worker.c), and the
 * connections' references were the last ones keeping the server. */
void upstream_sweep(struct worker *w, const struct runtime *rt, uint64_t max_idle_ms)
{
    uint64_t now = (uint64_t)(ev_now(w->loop) * 1000);
    uint64_t cutoff = now > max_idle_ms ? now - max_idle_ms : 0;

    for (size_t i = 0; i < rt->npools; i++)
        for (size_t j = 0; j < rt->pools[i].nservers; j++)
            sweep_server(w, rt->pools[i].servers[j], cutoff, 0);
}

void upstream_close_all_idle(struct worker *w, const struct runtime *rt)
{
    for (size_t i = 0; i < rt->npools; i++)
        for (size_t j = 0; j < rt->pools[i].nservers; j++)
            sweep_server(w, rt->pools[i].servers[j], 0, 1);
}
