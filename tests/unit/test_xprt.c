/*
 * Unit tests of the plain transport (xprt_plain) over AF_UNIX socket pairs:
 * reads, would-block and end of stream, sends made at once and batched per
 * round, peeking without consuming, the half-close, the send-queue reading,
 * splice through a pipe, closing, and the splice capability check.
 */
#include <criterion/criterion.h>

#include <errno.h>
#include <ev.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "sendq.h"
#include "splice_pipe.h"
#include "xprt.h"

static size_t progressed;
static int wakes;

static void on_progress(void *o, size_t bytes)
{
    (void)o;
    progressed += bytes;
}

static void on_wake(void *o)
{
    (void)o;
    wakes++;
}

static const struct sendq_ops ops = {on_progress, on_wake};
static struct ev_loop *loop;
static int sv[2];
static struct xprt x;

static void pair_up(void)
{
    cr_assert_eq(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, sv), 0);
    progressed = 0;
    wakes = 0;
    xprt_plain_init(&x, sv[0], &ops, &x);
}

static void plain_setup(void)
{
    setenv("PROXY_IO_URING", "0", 1);
    loop = ev_loop_new(EVFLAG_AUTO);
    cr_assert_eq(sendq_thread_init(loop), 0);
    pair_up();
}

static void batched_setup(void)
{
    unsetenv("PROXY_IO_URING");
    loop = ev_loop_new(EVFLAG_AUTO);
    if (!sendq_thread_init(loop))
        cr_skip_test("io_uring is not available on this kernel");
    pair_up();
}

static void teardown(void)
{
    sendq_forget(&x);
    xprt_cancel(&x);
    xprt_close(&x);
    close(sv[1]);
    sendq_thread_free();
    ev_loop_destroy(loop);
}

TestSuite(xprt_plain, .init = plain_setup, .fini = teardown);

Test(xprt_plain, reads_what_the_peer_wrote_and_tells_would_block_and_eof)
{
    char buf[16];
    cr_assert_eq(xprt_recv(&x, buf, sizeof buf), -1);
    cr_assert(errno == EAGAIN || errno == EWOULDBLOCK);
    cr_assert_eq(write(sv[1], "hello", 5), 5);
    cr_assert_eq(xprt_recv(&x, buf, sizeof buf), 5);
    cr_assert_eq(memcmp(buf, "hello", 5), 0);
    shutdown(sv[1], SHUT_WR);
    cr_assert_eq(xprt_recv(&x, buf, sizeof buf), 0);
}

Test(xprt_plain, sends_at_once_without_batching)
{
    const char msg[] = "GET / HTTP/1.1\r\n\r\n";
    size_t sent = 0;
    char buf[64];
    cr_assert_eq(xprt_send(&x, msg, &sent, sizeof msg - 1), 0);
    cr_assert_eq(sent, sizeof msg - 1);
    cr_assert_not(xprt_send_pending(&x));
    cr_assert_eq(progressed, sizeof msg - 1);
    cr_assert_eq(read(sv[1], buf, sizeof buf), (ssize_t)(sizeof msg - 1));
}

Test(xprt_plain, peek_does_not_consume)
{
    char buf[8];
    cr_assert_eq(xprt_peek(&x), -1);
    cr_assert(errno == EAGAIN || errno == EWOULDBLOCK);
    cr_assert_eq(write(sv[1], "x", 1), 1);
    cr_assert_eq(xprt_peek(&x), 1);
    cr_assert_eq(xprt_peek(&x), 1);
    cr_assert_eq(xprt_recv(&x, buf, sizeof buf), 1);
    close(sv[1]);
    sv[1] = -1;
    cr_assert_eq(xprt_peek(&x), 0);
}

Test(xprt_plain, half_close_reaches_the_peer_and_reading_goes_on)
{
    char buf[8];
    xprt_shutdown_write(&x);
    cr_assert_eq(read(sv[1], buf, sizeof buf), 0);
    cr_assert_eq(write(sv[1], "ok", 2), 2);
    cr_assert_eq(xprt_recv(&x, buf, sizeof buf), 2);
}

Test(xprt_plain, unsent_and_connect_error_read_the_socket)
{
    size_t sent = 0;
    cr_assert_geq(xprt_unsent(&x), 0);
    cr_assert_eq(xprt_send(&x, "abc", &sent, 3), 0);
    cr_assert_geq(xprt_unsent(&x), 0);
    cr_assert_eq(xprt_connect_error(&x), 0);
}

Test(xprt_plain, close_ends_the_stream_once)
{
    char buf[4];
    xprt_close(&x);
    cr_assert_eq(x.fd, -1);
    cr_assert_eq(read(sv[1], buf, sizeof buf), 0);
    xprt_close(&x); /* a second close is harmless */
}

Test(xprt_plain, splices_from_one_transport_to_another)
{
    int other[2];
    struct xprt to;
    struct splice_pipe p;
    char buf[64];

    cr_assert_eq(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, other), 0);
    xprt_plain_init(&to, other[0], &ops, &to);
    cr_assert(xprt_can_splice(&x, &to));
    if (splice_pipe_get(&p) < 0)
        cr_skip_test("no pipes");
    cr_assert_eq(write(sv[1], "body bytes", 10), 10);
    ssize_t in = xprt_splice_in(&x, &p, 64);
    if (in < 0 && errno == EINVAL) {
        splice_pipe_put(&p);
        xprt_close(&to);
        close(other[1]);
        cr_skip_test("splice refused on unix sockets here");
    }
    cr_assert_eq(in, 10);
    cr_assert_eq(p.held, 10);
    cr_assert_eq(xprt_splice_out(&to, &p), 10);
    cr_assert_eq(p.held, 0);
    cr_assert_eq(read(other[1], buf, sizeof buf), 10);
    cr_assert_eq(memcmp(buf, "body bytes", 10), 0);
    splice_pipe_put(&p);
    xprt_close(&to);
    close(other[1]);
    splice_pipe_cache_clear();
}

/* A transport without the capability (as TLS will be) is never spliced. */
Test(xprt_plain, splice_needs_both_ends_capable)
{
    struct xprt_ops no_splice = xprt_plain_ops;
    struct xprt other = x;
    no_splice.caps &= ~XPRT_CAN_SPLICE;
    other.ops = &no_splice;
    cr_assert(xprt_can_splice(&x, &x));
    cr_assert_not(xprt_can_splice(&x, &other));
    cr_assert_not(xprt_can_splice(&other, &x));
}

TestSuite(xprt_batched, .init = batched_setup, .fini = teardown);

Test(xprt_batched, send_is_queued_until_the_round_ends)
{
    const char msg[] = "response bytes";
    size_t sent = 0;
    char buf[64];
    cr_assert_eq(xprt_send(&x, msg, &sent, sizeof msg - 1), 0);
    cr_assert(xprt_send_pending(&x));
    cr_assert_eq(sent, 0);
    cr_assert_eq(read(sv[1], buf, sizeof buf), -1);
    sendq_flush();
    cr_assert_not(xprt_send_pending(&x));
    cr_assert_eq(sent, sizeof msg - 1);
    cr_assert_eq(progressed, sizeof msg - 1);
    cr_assert_eq(wakes, 1);
    cr_assert_eq(read(sv[1], buf, sizeof buf), (ssize_t)(sizeof msg - 1));
}

Test(xprt_batched, settle_sends_the_queued_bytes_now)
{
    size_t sent = 0;
    char buf[8];
    cr_assert_eq(xprt_send(&x, "abc", &sent, 3), 0);
    cr_assert(xprt_send_pending(&x));
    xprt_settle(&x);
    cr_assert_not(xprt_send_pending(&x));
    cr_assert_eq(read(sv[1], buf, sizeof buf), 3);
}
