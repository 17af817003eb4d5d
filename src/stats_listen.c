/*
 * stats_listen: the stats port's listening socket (see stats_listen.h).
 */
#include "stats_listen.h"

#include <errno.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

#include "log.h"

#define STATS_ACCEPT_BATCH 32
#define STATS_BACKOFF_S 0.5 /* pause accepting after EMFILE and the like */

struct stats_listener {
    int fd;
    ev_io io;
    ev_timer backoff;
    struct config_addr addr;
    struct ev_loop *loop;
    stats_accept_fn on_conn;
};

static void on_backoff(struct ev_loop *loop, ev_timer *w, int revents)
{
    struct stats_listener *l = w->data;

    (void)revents;
    ev_io_start(loop, &l->io);
}

static void on_accept(struct ev_loop *loop, ev_io *w, int revents)
{
    struct stats_listener *l = w->data;

    (void)revents;
    for (int i = 0; i < STATS_ACCEPT_BATCH; i++) {
        int fd = accept4(l->fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd < 0) {
            if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR ||
                errno == ECONNABORTED)
                return;
            /* Out of descriptors or memory: retrying at once would spin. */
            log_warn("stats: accept on %s", l->addr.text);
            ev_io_stop(loop, &l->io);
            ev_timer_set(&l->backoff, STATS_BACKOFF_S, 0.);
            ev_timer_start(loop, &l->backoff);
            return;
        }
        l->on_conn(fd);
    }
}

struct stats_listener *stats_listener_open(struct ev_loop *loop, const struct config_addr *addr, int quiet,
                                           stats_accept_fn on_conn)
{
    struct stats_listener *l = calloc(1, sizeof(*l));
    int one = 1, saved;

    if (!l) {
        log_errorx("stats: out of memory");
        return NULL;
    }
    l->addr = *addr;
    l->loop = loop;
    l->on_conn = on_conn;
    l->fd = socket(addr->sa.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (l->fd < 0)
        goto fail;
    setsockopt(l->fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    if (addr->sa.ss_family == AF_INET6)
        setsockopt(l->fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
    if (bind(l->fd, (const struct sockaddr *)&addr->sa, addr->len) < 0 ||
        listen(l->fd, 128) < 0)
        goto fail;
    ev_io_init(&l->io, on_accept, l->fd, EV_READ);
    ev_timer_init(&l->backoff, on_backoff, STATS_BACKOFF_S, 0.);
    l->io.data = l->backoff.data = l;
    ev_io_start(loop, &l->io);
    log_info("stats: serving on %s", addr->text);
    return l;

fail:
    saved = errno;
    if (!quiet)
        log_error("stats: cannot listen on %s", addr->text);
    if (l->fd >= 0)
        close(l->fd);
    free(l);
    errno = saved;
    return NULL;
}

void stats_listener_close(struct stats_listener *l)
{
    if (!l)
        return;
    ev_io_stop(l->loop, &l->io);
    ev_timer_stop(l->loop, &l->backoff);
    close(l->fd);
    free(l);
}

int stats_listener_move(struct stats_listener **cur, struct ev_loop *loop, const struct config *cfg,
                        stats_accept_fn on_conn)
{
    struct stats_listener *l, *listener = *cur;

    if (!cfg->has_stats) {
        if (listener)
            log_info("stats: no longer serving on %s", listener->addr.text);
        stats_listener_close(listener);
        *cur = NULL;
        return 0;
    }
    if (listener && config_addr_equal(&listener->addr, &cfg->stats_addr))
        return 0;
    /* Bind the new address first: when it fails the old one keeps serving. */
    l = stats_listener_open(loop, &cfg->stats_addr, listener != NULL, on_conn);
    if (!l && errno == EADDRINUSE && listener && config_addr_overlaps(&listener->addr, &cfg->stats_addr)) {
        /* The old socket is what holds the port (127.0.0.1:P moving to
         * 0.0.0.0:P): let it go, and take it back if the new one fails.
         * Only then: a port another process holds leaves it alone (its
         * backlog would be lost). */
        struct config_addr old = listener->addr;
        stats_listener_close(listener);
        listener = *cur = NULL;
        l = stats_listener_open(loop, &cfg->stats_addr, 0, on_conn);
        if (!l) {
            if (!(*cur = stats_listener_open(loop, &old, 0, on_conn)))
                log_error("stats: cannot listen on %s again: the stats port is closed", old.text);
            return -1;
        }
    }
    if (!l) {
        if (listener)
            log_error("stats: cannot listen on %s, still on %s",
                      cfg->stats_addr.text, listener->addr.text);
        return -1;
    }
    if (listener)
        log_info("stats: moved from %s to %s", listener->addr.text, l->addr.text);
    stats_listener_close(listener);
    *cur = l;
    return 0;
}
