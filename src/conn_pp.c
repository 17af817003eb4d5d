/*
 * conn_pp: the PROXY protocol header before anything else (see conn_pp.h).
 *
 * Nothing past the header may be taken from the socket, so the header is
 * looked at with recv(MSG_PEEK) and only its own bytes are consumed once
 * it is whole: the next layer then reads the socket as if the header had
 * never been there.  No buffer is held between reads (a stack copy of at
 * most PP_HEADER_MAX bytes is parsed again each time), so a connection
 * trickling its header costs no memory.  While the header is incomplete,
 * SO_RCVLOWAT is set one past what is already there: peeked bytes stay
 * readable, and without it the level-triggered watcher would fire again
 * at once, forever; with it the kernel wakes us only when more arrives
 * (or the peer closes).
 *
 * The header is below any transport (a TLS ClientHello follows it on the
 * wire), so this stage reads the fd itself rather than through the xprt.
 */
#include "conn_pp.h"

#include <errno.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include "conn.h"
#include "log.h"
#include "metrics.h"
#include "proxy_proto.h"
#include "worker_ctx.h"

static void pp_fail(struct conn *c, const char *why)
{
    atomic_fetch_add_explicit(&metrics.proxy_protocol_invalid, 1, memory_order_relaxed);
    /* Debug only: a scanner or a misconfigured balancer would flood the log. */
    log_debug("proxy-protocol: connection closed: %s", why);
    conn_free(c);
}

/* The header took h->len bytes: consume exactly those, take the
 * addresses, and hand on. */
static void pp_finish(struct conn *c, const struct pp_header *h, int lowat_set)
{
    unsigned char sink[PP_HEADER_MAX];
    ssize_t n;

    do
        n = recv(c->x.fd, sink, h->len, 0);
    while (n < 0 && errno == EINTR);
    /* The bytes were peeked: they are in the socket and nobody else reads it. */
    if (n != (ssize_t)h->len) {
        pp_fail(c, "header bytes vanished");
        return;
    }
    if (lowat_set) {
        int one = 1;
        setsockopt(c->x.fd, SOL_SOCKET, SO_RCVLOWAT, &one, sizeof one);
    }
    /* LOCAL / UNKNOWN / UNSPEC: the balancer's own connection (a health
     * check): the peer and the local address stay the socket's. */
    if (!h->local) {
        c->peer = h->src;
        if (conn_set_local_addr(c, &h->dst) < 0) {
            pp_fail(c, "out of memory");
            return;
        }
    }
    ev_timer_stop(c->w->loop, &c->timer);
    conn_stage_done(c);
}

/* lowat_maybe_set: an earlier read may have left SO_RCVLOWAT raised. */
static void pp_read(struct conn *c, int lowat_maybe_set)
{
    unsigned char buf[PP_HEADER_MAX];
    struct pp_header h;
    ssize_t n;

    do
        n = recv(c->x.fd, buf, sizeof buf, MSG_PEEK);
    while (n < 0 && errno == EINTR);
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
        return;
    if (n == 0) {
        /* Peeked bytes would still be there: the peer sent nothing at all
         * and left, as an L4 balancer's TCP health check does.  Not a
         * fault. */
        conn_free(c);
        return;
    }
    if (n < 0) {
        pp_fail(c, "read error");
        return;
    }
    switch (pp_parse(buf, (size_t)n, &h)) {
    case PP_DONE:
        pp_finish(c, &h, lowat_maybe_set);
        return;
    case PP_INVALID:
        pp_fail(c, h.error);
        return;
    case PP_NEED_MORE:
        break;
    }
    /* Woken with no more than last time (SO_RCVLOWAT is still above it):
     * the peer closed (or the connection broke) after part of a header,
     * and would wake us again and again. */
    int lowat = 1;
    socklen_t optlen = sizeof lowat;
    if (lowat_maybe_set && getsockopt(c->x.fd, SOL_SOCKET, SO_RCVLOWAT, &lowat, &optlen) == 0 && lowat > n) {
        pp_fail(c, "closed before the header ended");
        return;
    }
    /* Wake only when more than what is there has come. */
    lowat = (int)n + 1;
    if (setsockopt(c->x.fd, SOL_SOCKET, SO_RCVLOWAT, &lowat, sizeof lowat) < 0)
        pp_fail(c, "cannot wait for the rest of the header");
}

static void pp_io_cb(struct ev_loop *loop, ev_io *io, int revents)
{
    (void)loop;
    (void)revents;
    pp_read(io->data, 1);
}

static void pp_timer_cb(struct ev_loop *loop, ev_timer *tm, int revents)
{
    struct conn *c = tm->data;
    (void)revents;

    if (ev_now(loop) < c->deadline) {
        ev_timer_set(&c->timer, c->deadline - ev_now(loop), 0.);
        ev_timer_start(loop, &c->timer);
        return;
    }
    pp_fail(c, "timeout client before the header ended");
}

void conn_pp_start(struct conn *c)
{
    ev_set_cb(&c->io, pp_io_cb);
    ev_set_cb(&c->timer, pp_timer_cb);
    conn_timer_set(c, c->w->rt->cfg->timeout_client_ms);
    conn_io_want(c->w->loop, &c->io, &c->x, EV_READ);
    /* The header usually arrives with the connection. */
    pp_read(c, 0);
}
