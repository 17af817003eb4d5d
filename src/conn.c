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

#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "admit.h"
#include "log.h"
#include "metrics.h"
#include "tls_ctx.h"
#include "worker_ctx.h"

static void conn_io_cb(struct ev_loop *loop, ev_io *io, int revents)
{
    struct conn *c = io->data;
    (void)loop;
    c->proto->io(c, xprt_ready_events(&c->x, revents));
}

static void conn_timer_cb(struct ev_loop *loop, ev_timer *tm, int revents)
{
    struct conn *c = tm->data;
    (void)revents;

    if (ev_now(loop) < c->deadline) {
        /* Armed for an earlier deadline that has since moved. */
        ev_timer_set(&c->timer, c->deadline - ev_now(loop), 0.);
        ev_timer_start(loop, &c->timer);
        return;
    }
    c->proto->timeout(c);
}

/* The protocol a new connection starts with: the listener's (HTTP/1).
 * Whether it is HTTP/2 shows only in its first bytes, after the TLS
 * handshake and its ALPN choice: conn_choose_h2, asked by HTTP/1's first
 * read. */
static const struct conn_proto *choose_proto(const struct listen_bind *bind)
{
    return bind->proto;
}

/* RFC 9113 3.4: what every HTTP/2 client sends first. */
static const char h2_preface[] = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";
#define H2_PREFACE_LEN (sizeof h2_preface - 1)

/* Dotted-quad by hand: inet_ntop goes through sprintf, and this runs for
 * every request (X-Forwarded-For). */
static void format_ipv4(const unsigned char *a, char *out)
{
    for (int i = 0; i < 4; i++) {
        unsigned v = a[i];
        if (v >= 100)
            *out++ = (char)('0' + v / 100);
        if (v >= 10)
            *out++ = (char)('0' + v / 10 % 10);
        *out++ = (char)('0' + v % 10);
        *out++ = i < 3 ? '.' : '\0';
    }
}

void conn_peer_ip(const struct conn *c, char *out, size_t cap)
{
    const struct sockaddr_in6 *sa6 = &c->peer;
    if (sa6->sin6_family == AF_INET)
        format_ipv4((const unsigned char *)&((const struct sockaddr_in *)sa6)->sin_addr, out);
    else if (IN6_IS_ADDR_V4MAPPED(&sa6->sin6_addr))
        format_ipv4(&sa6->sin6_addr.s6_addr[12], out);
    else
        inet_ntop(AF_INET6, &sa6->sin6_addr, out, (socklen_t)cap);
}

int conn_choose_h2(struct conn *c, const char *data, size_t len)
{
    if (c->proto_fixed)
        return 0;
    size_t n = len < H2_PREFACE_LEN ? len : H2_PREFACE_LEN;
    if (memcmp(data, h2_preface, n) != 0 || c->redirect_https) {
        c->proto_fixed = 1;
        return 0;
    }
    if (len < H2_PREFACE_LEN)
        return -1;
    c->proto_fixed = 1;
    /* Over TLS only when the handshake agreed on it (the listener offers
     * h2 in its alpn list). */
    return !xprt_is_tls(&c->x) || xprt_tls_alpn_h2(&c->x);
}

struct conn *conn_new(struct worker *w, const struct listen_bind *bind, int fd, const struct sockaddr *addr,
                      socklen_t len)
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
    if (bind->tls) {
        if (xprt_tls_init_server(&c->x, fd, bind->tls, bind->counters, proto->sendq, c) < 0) {
            admit_conn_close(client); /* as when calloc fails, above */
            close(fd);
            free(c);
            return NULL;
        }
    } else {
        xprt_plain_init(&c->x, fd, proto->sendq, c);
    }
    c->redirect_https = bind->redirect_https;
    if ((c->listener = bind->counters)) {
        atomic_fetch_add_explicit(&c->listener->active, 1, memory_order_relaxed);
        atomic_fetch_add_explicit(&c->listener->total, 1, memory_order_relaxed);
    }
    memcpy(&c->peer, addr, len < sizeof c->peer ? len : sizeof c->peer);
    c->proxy_protocol = bind->proxy_protocol;
    ev_io_init(&c->io, conn_io_cb, fd, EV_READ);
    c->io.data = c;
    ev_timer_init(&c->timer, conn_timer_cb, 0., 0.);
    c->timer.data = c;
    return c;
}

void conn_stage_done(struct conn *c)
{
    ev_set_cb(&c->io, conn_io_cb);
    ev_set_cb(&c->timer, conn_timer_cb);
    /* The PROXY header named the client: `limit client-conns` counted the
     * balancer at the accept, and counts the client from now on. */
    if (c->proxy_protocol && admit_conn_repeer(c->w->rt, &c->peer, &c->client_key) < 0) {
        log_debug("limit client-conns: connection closed after its PROXY header");
        conn_free(c);
        return;
    }
    c->proto->start(c);
}

void conn_start(struct conn *c)
{
    c->proto->start(c);
}

int conn_set_local_addr(struct conn *c, const struct sockaddr_in6 *addr)
{
    if (!c->local && !(c->local = malloc(sizeof *c->local)))
        return -1;
    *c->local = *addr;
    return 0;
}

/* Asked only for `send-proxy` servers: the 28 bytes are not worth
 * keeping in every connection. */
const struct sockaddr *conn_local_addr(struct conn *c)
{
    if (!c->local) {
        struct sockaddr_in6 a = {0};
        socklen_t len = sizeof a;
        if (getsockname(c->x.fd, (struct sockaddr *)&a, &len) < 0 || conn_set_local_addr(c, &a) < 0)
            return NULL;
    }
    return (const struct sockaddr *)c->local;
}

/* ---- reads put off to the next round ---------------------------------------------------- */

/* An idle watcher of the highest priority runs once each round, after the
 * poll, whatever else is pending; while it is active the loop polls
 * without waiting. */
static _Thread_local struct {
    struct ev_loop *loop;
    ev_idle idle;
    struct conn **list;
    size_t n, cap;
} again;

static void read_again_cb(struct ev_loop *loop, ev_idle *w, int revents)
{
    (void)revents;
    size_t n = again.n;
    again.n = 0;
    ev_idle_stop(loop, w);
    for (size_t i = 0; i < n; i++) {
        struct conn *c = again.list[i];
        c->read_again = 0;
        ev_feed_event(loop, &c->io, EV_READ);
    }
}

static int grow_again_list(void)
{
    size_t cap = again.cap ? again.cap * 2 : 64;
    struct conn **l = realloc(again.list, cap * sizeof *l);
    if (!l)
        return 0;
    again.list = l;
    again.cap = cap;
    return 1;
}

void conn_read_next_round(struct conn *c)
{
    struct ev_loop *loop = c->w->loop;
    if (c->read_again)
        return;
    if (again.loop != loop && again.n == 0) {
        again.loop = loop;
        ev_idle_init(&again.idle, read_again_cb);
        ev_set_priority(&again.idle, EV_MAXPRI);
    }
    if (again.loop != loop || (again.n == again.cap && !grow_again_list())) {
        ev_feed_event(loop, &c->io, EV_READ); /* at once, as before */
        return;
    }
    again.list[again.n++] = c;
    c->read_again = 1;
    ev_idle_start(loop, &again.idle);
}

static void read_again_forget(struct conn *c)
{
    for (size_t i = 0; i < again.n; i++)
        if (again.list[i] == c) {
            again.list[i] = again.list[--again.n];
            break;
        }
    c->read_again = 0;
}

void conn_read_again_clear(void)
{
    if (again.loop)
        ev_idle_stop(again.loop, &again.idle);
    free(again.list);
    memset(&again, 0, sizeof again);
}

void conn_free(struct conn *c)
{
    struct ev_loop *loop = c->w->loop;

    if (c->read_again)
        read_again_forget(c);

    c->proto->release(c);
    /* Bytes queued this round still go (the peer may have only
     * half-closed, as it did when each send was made at once). */
    xprt_settle(&c->x);
    sendq_forget(c);
    conn_idle_leave(c);
    ev_io_stop(loop, &c->io);
    ev_timer_stop(loop, &c->timer);
    xprt_close(&c->x);
    if (c->listener)
        atomic_fetch_sub_explicit(&c->listener->active, 1, memory_order_relaxed);
    admit_conn_close(c->client_key);
    if (c->w->conn_closed)
        c->w->conn_closed(c);
    free(c->local);
    free(c);
}

void conn_timer_at_most(struct conn *c, uint64_t ms)
{
    if (!ev_is_active(&c->timer) || c->deadline > ev_now(c->w->loop) + (double)ms / 1000.0)
        conn_timer_set(c, ms);
}

void conn_timer_set(struct conn *c, uint64_t ms)
{
    struct ev_loop *loop = c->w->loop;
    double now = ev_now(loop);
    c->deadline = now + (double)ms / 1000.0;
    /* When the armed timer fires: libev knows, no need to keep it here. */
    if (ev_is_active(&c->timer) && now + ev_timer_remaining(loop, &c->timer) <= c->deadline)
        return;
    ev_timer_stop(loop, &c->timer);
    ev_timer_set(&c->timer, c->deadline - now, 0.);
    ev_timer_start(loop, &c->timer);
}

/* ev_io_modify (not ev_io_set) keeps libev from re-registering the fd with
 * epoll when the mask is unchanged: epoll_ctl calls were the largest
 * avoidable cost per request. */
void conn_io_want(struct ev_loop *loop, ev_io *io, struct xprt *x, int events)
{
    int wanted = events;
    events = xprt_poll_events(x, events);
    if (ev_is_active(io) && (io->events & (EV_READ | EV_WRITE)) == events) {
        /* unchanged */
    } else {
        if (ev_is_active(io))
            ev_io_stop(loop, io);
        ev_io_modify(io, events);
        if (events)
            ev_io_start(loop, io);
    }
    if ((wanted & EV_READ) && xprt_is_tls(x) && xprt_tls_has_pending(x)) {
        /* Records read ahead wait in OpenSSL, which the poll cannot see:
         * read now, or in the next round for a protocol that asks it. */
        if (io->cb == conn_io_cb && ((struct conn *)io->data)->proto->tls_reads_next_round)
            conn_read_next_round(io->data);
        else
            ev_feed_event(loop, io, EV_READ);
    }
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
