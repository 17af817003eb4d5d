/*
 * Unit tests of the conn layer with a fake protocol over AF_UNIX socket
 * pairs: the protocol is started and driven by its table (io, timeout),
 * a deadline moved later still fires once and not early, closing runs the
 * protocol's release and the worker's hook and ends the stream, and the
 * idle list closes the longest idle first and never one with a request
 * waiting.  This is the seam an HTTP/2 protocol will plug into.
 */
#include <criterion/criterion.h>

#include <errno.h>
#include <ev.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "conn.h"
#include "sendq.h"
#include "worker.h"

struct fake {
    struct conn c;
    int idle;
};

static int started, ios, timeouts, released, closed;

static void f_start(struct conn *c)
{
    started++;
    conn_io_want(c->w->loop, &c->io, &c->x, EV_READ);
}

static void f_io(struct conn *c, int revents)
{
    char buf[16];
    (void)revents;
    ios++;
    (void)xprt_recv(&c->x, buf, sizeof buf);
    ev_break(c->w->loop, EVBREAK_ONE);
}

static void f_timeout(struct conn *c)
{
    timeouts++;
    ev_break(c->w->loop, EVBREAK_ONE);
}

static int f_idle(const struct conn *c)
{
    return ((const struct fake *)c)->idle;
}

static void f_server_down(struct conn *c)
{
    (void)c;
}

static void f_release(struct conn *c)
{
    (void)c;
    released++;
}

static const struct conn_proto fake_proto = {
    .name = "fake",
    .size = sizeof(struct fake),
    .start = f_start,
    .io = f_io,
    .timeout = f_timeout,
    .idle = f_idle,
    .server_down = f_server_down,
    .release = f_release,
};

static void on_closed(struct conn *c)
{
    (void)c;
    closed++;
}

static struct worker w;

static void setup(void)
{
    setenv("PROXY_IO_URING", "0", 1);
    memset(&w, 0, sizeof w);
    w.conn_closed = on_closed;
    w.loop = ev_loop_new(EVFLAG_AUTO);
    sendq_thread_init(w.loop);
    started = ios = timeouts = released = closed = 0;
}

static void teardown(void)
{
    sendq_thread_free();
    ev_loop_destroy(w.loop);
}

/* A conn over one end of a new socket pair, accepted on a listener whose
 * protocol is the fake one. */
static struct fake *fake_conn(int *peer)
{
    int sv[2];
    struct sockaddr_in6 addr = {.sin6_family = AF_INET6};
    struct listen_bind bind = {.fd = -1, .address = "127.0.0.1:1", .proto = &fake_proto};
    cr_assert_eq(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, sv), 0);
    struct conn *c = conn_new(&w, &bind, sv[0], (struct sockaddr *)&addr, sizeof addr);
    cr_assert_not_null(c);
    cr_assert_eq(c->proto, &fake_proto);
    *peer = sv[1];
    return (struct fake *)c;
}

TestSuite(conn, .init = setup, .fini = teardown);

Test(conn, the_protocol_is_started_and_driven_by_its_table)
{
    int peer;
    struct fake *f = fake_conn(&peer);
    char buf[4];

    conn_start(&f->c);
    cr_assert_eq(started, 1);
    cr_assert_eq(write(peer, "GET", 3), 3);
    ev_run(w.loop, 0);
    cr_assert_eq(ios, 1);
    conn_timer_set(&f->c, 5);
    ev_run(w.loop, 0);
    cr_assert_eq(timeouts, 1);
    conn_free(&f->c);
    cr_assert_eq(released, 1);
    cr_assert_eq(closed, 1);
    cr_assert_eq(read(peer, buf, sizeof buf), 0, "the client sees the end of stream");
    close(peer);
}

Test(conn, a_deadline_moved_later_fires_once_and_not_early)
{
    int peer;
    struct fake *f = fake_conn(&peer);

    conn_start(&f->c);
    ev_now_update(w.loop);
    double t0 = ev_now(w.loop);
    conn_timer_set(&f->c, 10);
    conn_timer_set(&f->c, 60); /* the timer stays armed for 10 ms and re-arms */
    ev_run(w.loop, 0);
    cr_assert_eq(timeouts, 1);
    cr_assert_geq((ev_now(w.loop) - t0) * 1000.0, 59.0);
    conn_free(&f->c);
    close(peer);
}

Test(conn, closing_for_room_takes_the_longest_idle_and_spares_a_waiting_request)
{
    int pa, pb, pc;
    struct fake *a = fake_conn(&pa), *b = fake_conn(&pb), *c = fake_conn(&pc);
    a->idle = b->idle = c->idle = 1;
    conn_idle_enter(&a->c);
    conn_idle_enter(&b->c);
    conn_idle_enter(&c->c);
    cr_assert_eq(w.nidle, 3);
    cr_assert_eq(write(pb, "G", 1), 1); /* b's next request has arrived */

    cr_assert_eq(conn_close_longest_idle(&w, 2), 2);
    cr_assert_eq(closed, 2);
    cr_assert_eq(w.nidle, 1);
    cr_assert_eq(w.idle_head, &b->c);
    cr_assert_eq(w.idle_tail, &b->c);
    conn_free(&b->c);
    cr_assert_eq(w.nidle, 0);
    cr_assert_null(w.idle_head);
    close(pa);
    close(pb);
    close(pc);
}

Test(conn, the_idle_list_keeps_the_order_connections_went_idle)
{
    int pa, pb;
    struct fake *a = fake_conn(&pa), *b = fake_conn(&pb);
    conn_idle_enter(&a->c);
    conn_idle_enter(&b->c);
    conn_idle_enter(&a->c); /* already listed: no change */
    cr_assert_eq(w.idle_head, &a->c);
    conn_idle_leave(&a->c); /* a request came */
    conn_idle_enter(&a->c); /* and was answered */
    cr_assert_eq(w.idle_head, &b->c);
    cr_assert_eq(w.idle_tail, &a->c);
    cr_assert_eq(w.nidle, 2);
    conn_free(&a->c);
    conn_free(&b->c);
    cr_assert_eq(w.nidle, 0);
    close(pa);
    close(pb);
}

/* The HTTP/2 preface decides once, on the first bytes: a prefix waits, the
 * whole preface picks HTTP/2 on plaintext, anything else is HTTP/1 for
 * good (a later preface-looking request is not looked at again). */
Test(conn, the_http2_preface_chooses_the_protocol_once)
{
    static const char preface[] = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";
    int peer;
    struct fake *f = fake_conn(&peer);

    cr_assert_eq(conn_choose_h2(&f->c, preface, 3), -1, "a prefix of the preface waits for more");
    cr_assert_eq(conn_choose_h2(&f->c, preface, 18), -1, "the preface's own CRLF CRLF is no HTTP/1 head");
    cr_assert_eq(conn_choose_h2(&f->c, preface, 24), 1);
    cr_assert_eq(conn_choose_h2(&f->c, preface, 24), 0, "decided once");
    conn_free(&f->c);
    close(peer);

    f = fake_conn(&peer);
    cr_assert_eq(conn_choose_h2(&f->c, "GET / HTTP/1.1\r\n", 16), 0);
    cr_assert_eq(conn_choose_h2(&f->c, preface, 24), 0, "HTTP/1 for good");
    conn_free(&f->c);
    close(peer);

    f = fake_conn(&peer);
    cr_assert_eq(conn_choose_h2(&f->c, "PRX", 3), 0, "a near miss is HTTP/1");
    conn_free(&f->c);
    close(peer);
}

Test(conn, no_http2_preface_on_a_redirect_https_listener)
{
    static const char preface[] = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";
    int peer;
    struct fake *f = fake_conn(&peer);
    f->c.redirect_https = 1;
    cr_assert_eq(conn_choose_h2(&f->c, preface, 24), 0);
    conn_free(&f->c);
    close(peer);
}
