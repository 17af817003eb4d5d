/*
 * conn: client connections under their protocol (see conn.h), and the
 * worker's list of idle ones: closing the longest idle to make room for new
 * clients at max-conns or out of descriptors.
 *
 * Without that list, idle keep-alive connections held every slot for up to
 * `timeout keep-alive` while new clients waited in the listen backlog.
 * Closing a connection idle between requests is safe by HTTP semantics: a
 * client whose reused connection is closed retries on a new one (RFC 9112
 * 9.3.1); nginx drains its reusable connections the same way.
 */
#include "conn.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "admit.h"
#include "metrics.h"
#include "worker.h"

static void conn_io_cb(struct ev_loop *loop, ev_io *io, int revents)
{
    struct conn *c = io->data;
    (void)loop;
    c->proto->io(c, revents);
}

static void conn_timer_cb(struct ev_loop *loop, ev_timer *tm, int revents)
{
    struct conn *c = tm->data;
    (void)revents;

    if (ev_now(loop) < c->deadline) {
        /* Armed for an earlier deadline that has since moved. */
        ev_timer_set(&c->timer, c->deadline - ev_now(loop), 0.);
        c->timer_at = c->deadline;
        ev_timer_start(loop, &c->timer);
        return;
    }
    c->proto->timeout(c);
}

/* The protocol a new connection speaks: the listener's (HTTP/1 for now).
 * With TLS the ALPN choice among the listener's list is made here, after
 * the handshake; on plaintext the HTTP/2 preface would decide. */
static const struct conn_proto *choose_proto(const struct listen_bind *bind)
{
    return bind->proto;
}

struct conn *conn_new(struct worker *w, const struct listen_bind *bind, int fd, const struct sockaddr *addr,
                      socklen_t len, conn_closed_fn on_closed)
{
    const struct conn_proto *proto = choose_proto(bind);
    uint64_t client;
    /* limit client-conns: refused before anything is allocated for it. */
    if (admit_conn_open(w->rt, addr, &client) < 0) {
        close(fd);
        return NULL;
    }
    struct conn *c = calloc(1, proto->size);

    if (!c) {
        admit_conn_close(client);
        close(fd);
        return NULL;
    }
    c->client_key = client;
    c->w = w;
    c->proto = proto;
    c->on_closed = on_closed;
    xprt_plain_init(&c->x, fd, proto->sendq, c);
    memcpy(&c->peer, addr, len < sizeof c->peer ? len : sizeof c->peer);
    ev_io_init(&c->io, conn_io_cb, fd, EV_READ);
    c->io.data = c;
    ev_timer_init(&c->timer, conn_timer_cb, 0., 0.);
    c->timer.data = c;
    return c;
}

void conn_start(struct conn *c)
{
    c->proto->start(c);
}

void conn_free(struct conn *c)
{
    struct ev_loop *loop = c->w->loop;

    c->proto->release(c);
    /* Bytes queued this round still go (the peer may have only
     * half-closed, as it did when each send was made at once). */
    xprt_settle(&c->x);
    sendq_forget(c);
    conn_idle_leave(c);
    ev_io_stop(loop, &c->io);
    ev_timer_stop(loop, &c->timer);
    xprt_close(&c->x);
    admit_conn_close(c->client_key);
    c->on_closed(c);
    free(c);
}

void conn_timer_set(struct conn *c, uint64_t ms)
{
    struct ev_loop *loop = c->w->loop;
    double now = ev_now(loop);
    c->deadline = now + (double)ms / 1000.0;
    if (ev_is_active(&c->timer) && c->timer_at <= c->deadline)
        return;
    ev_timer_stop(loop, &c->timer);
    ev_timer_set(&c->timer, c->deadline - now, 0.);
    c->timer_at = c->deadline;
    ev_timer_start(loop, &c->timer);
}

/* ev_io_modify (not ev_io_set) keeps libev from re-registering the fd with
 * epoll when the mask is unchanged: epoll_ctl calls were the largest
 * avoidable cost per request. */
void conn_io_want(struct ev_loop *loop, ev_io *io, int events)
{
    if (ev_is_active(io)) {
        if ((io->events & (EV_READ | EV_WRITE)) == events)
            return;
        ev_io_stop(loop, io);
    }
    ev_io_modify(io, events);
    if (events)
        ev_io_start(loop, io);
}

/* ---- the idle list ------------------------------------------------------------ */

void conn_idle_enter(struct conn *c)
{
    struct worker *w = c->w;

    if (c->idle_listed)
        return;
    c->idle_next = NULL;
    c->idle_prev = w->idle_tail;
    if (w->idle_tail)
        w->idle_tail->idle_next = c;
    else
        w->idle_head = c;
    w->idle_tail = c;
    c->idle_listed = 1;
    atomic_fetch_add_explicit(&w->nidle, 1, memory_order_relaxed);
}

void conn_idle_leave(struct conn *c)
{
    struct worker *w = c->w;

    if (!c->idle_listed)
        return;
    if (c->idle_prev)
        c->idle_prev->idle_next = c->idle_next;
    else
        w->idle_head = c->idle_next;
    if (c->idle_next)
        c->idle_next->idle_prev = c->idle_prev;
    else
        w->idle_tail = c->idle_prev;
    c->idle_prev = c->idle_next = NULL;
    c->idle_listed = 0;
    atomic_fetch_sub_explicit(&w->nidle, 1, memory_order_relaxed);
}

/* Looks at a few more than it closes, so that connections with a request
 * just arrived cannot make a call walk the whole list. */
#define IDLE_SCAN_EXTRA 8

unsigned conn_close_longest_idle(struct worker *w, unsigned n)
{
    unsigned closed = 0, looked = 0;
    struct conn *c = w->idle_head;

    while (c && closed < n && looked < n + IDLE_SCAN_EXTRA) {
        struct conn *next = c->idle_next;
        looked++;
        /* A request the loop has not read yet makes it busy, not idle:
         * closing it would drop that request. */
        if (conn_idle(c) && xprt_peek(&c->x) <= 0) {
            conn_free(c);
            closed++;
        }
        c = next;
    }
    if (closed)
        atomic_fetch_add_explicit(&metrics.idle_closed_for_room, closed, memory_order_relaxed);
    return closed;
}
