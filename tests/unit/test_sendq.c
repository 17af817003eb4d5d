/*
 * Unit tests of batched sends (sendq): bytes leave only when the round is
 * flushed, each owner is told of progress and woken once, a queued send
 * is never doubled or reordered, cancel, settle and forget, a full socket, a dead
 * peer, owners that queue again while being woken, and the plain mode
 * (PROXY_IO_URING=0) sending at once.  Sockets are AF_UNIX pairs.
 */
#include <criterion/criterion.h>

#include <errno.h>
#include <ev.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "sendq.h"

struct owner {
    size_t progressed;
    int wakes;
    /* what the wake hook does: queue this (if set) on conn, forget that */
    struct sendq_conn *requeue_conn;
    int requeue_fd;
    const char *requeue_buf;
    size_t *requeue_sent;
    size_t requeue_end;
    void *forget;
};

static void on_progress(void *o, size_t bytes)
{
    ((struct owner *)o)->progressed += bytes;
}

static void on_wake(void *o)
{
    struct owner *ow = o;
    ow->wakes++;
    if (ow->forget)
        sendq_forget(ow->forget);
    if (ow->requeue_conn) {
        struct sendq_conn *c = ow->requeue_conn;
        ow->requeue_conn = NULL;
        cr_assert_eq(sendq_write(c, ow->requeue_fd, ow->requeue_buf, ow->requeue_sent, ow->requeue_end), 0);
    }
}

static const struct sendq_ops ops = {on_progress, on_wake};
static struct ev_loop *loop;

static void batched_setup(void)
{
    unsetenv("PROXY_IO_URING");
    loop = ev_loop_new(EVFLAG_AUTO);
    if (!sendq_thread_init(loop))
        cr_skip_test("io_uring is not available on this kernel");
}

static void plain_setup(void)
{
    setenv("PROXY_IO_URING", "0", 1);
    loop = ev_loop_new(EVFLAG_AUTO);
    cr_assert_eq(sendq_thread_init(loop), 0);
}

static void teardown(void)
{
    sendq_thread_free();
    ev_loop_destroy(loop);
}

static void pair(int sv[2])
{
    cr_assert_eq(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, sv), 0);
}

/* Everything readable on fd now, as a string. */
static char *drain(int fd)
{
    static char got[1 << 16];
    size_t len = 0;
    ssize_t n;
    while (len < sizeof got - 1 && (n = recv(fd, got + len, sizeof got - 1 - len, MSG_DONTWAIT)) > 0)
        len += (size_t)n;
    got[len] = 0;
    return got;
}

TestSuite(sendq, .init = batched_setup, .fini = teardown);

Test(sendq, bytes_leave_when_the_round_is_flushed)
{
    int sv[2];
    struct owner ow = {0};
    struct sendq_conn c = {.ops = &ops, .owner = &ow};
    const char *msg = "GET / HTTP/1.1\r\n\r\n";
    size_t sent = 0;

    pair(sv);
    cr_assert(sendq_batching());
    cr_assert_eq(sendq_write(&c, sv[0], msg, &sent, strlen(msg)), 0);
    cr_assert(sendq_pending(&c));
    cr_assert_eq(sent, 0);
    cr_assert_str_eq(drain(sv[1]), "", "nothing may leave before the flush");

    sendq_flush();
    cr_assert_not(sendq_pending(&c));
    cr_assert_eq(sent, strlen(msg));
    cr_assert_eq(ow.progressed, strlen(msg));
    cr_assert_eq(ow.wakes, 1);
    cr_assert_str_eq(drain(sv[1]), msg);
    close(sv[0]);
    close(sv[1]);
}

Test(sendq, the_loop_flushes_before_it_polls)
{
    int sv[2];
    struct owner ow = {0};
    struct sendq_conn c = {.ops = &ops, .owner = &ow};
    size_t sent = 0;

    pair(sv);
    cr_assert_eq(sendq_write(&c, sv[0], "ping", &sent, 4), 0);
    ev_run(loop, EVRUN_NOWAIT);
    cr_assert_eq(sent, 4);
    cr_assert_str_eq(drain(sv[1]), "ping");
    close(sv[0]);
    close(sv[1]);
}

Test(sendq, one_wake_per_owner_and_a_pending_send_is_not_queued_twice)
{
    int a[2], b[2];
    struct owner ow = {0};
    struct sendq_conn ca = {.ops = &ops, .owner = &ow}, cb = {.ops = &ops, .owner = &ow};
    char buf[] = "0123456789";
    size_t sa = 0, sb = 0;

    pair(a);
    pair(b);
    cr_assert_eq(sendq_write(&ca, a[0], buf, &sa, 4), 0);
    /* More bytes arrive for the same socket before the flush: they wait
     * for the queued ones rather than overtake or repeat them. */
    cr_assert_eq(sendq_write(&ca, a[0], buf, &sa, 10), 0);
    cr_assert_eq(sendq_write(&cb, b[0], buf, &sb, 10), 0);
    sendq_flush();
    cr_assert_eq(ow.wakes, 1, "woken %d times", ow.wakes);
    cr_assert_eq(sa, 4);
    cr_assert_eq(sb, 10);
    cr_assert_eq(ow.progressed, 14);
    cr_assert_str_eq(drain(a[1]), "0123");
    cr_assert_eq(sendq_write(&ca, a[0], buf, &sa, 10), 0);
    sendq_flush();
    cr_assert_eq(sa, 10);
    cr_assert_str_eq(drain(a[1]), "456789");
    close(a[0]);
    close(a[1]);
    close(b[0]);
    close(b[1]);
}

Test(sendq, a_cancelled_send_never_leaves_and_wakes_nobody)
{
    int sv[2];
    struct owner ow = {0};
    struct sendq_conn c = {.ops = &ops, .owner = &ow};
    size_t sent = 0;

    pair(sv);
    cr_assert_eq(sendq_write(&c, sv[0], "gone", &sent, 4), 0);
    sendq_cancel(&c);
    cr_assert_not(sendq_pending(&c));
    sendq_flush();
    cr_assert_eq(sent, 0);
    cr_assert_eq(ow.wakes, 0);
    cr_assert_str_eq(drain(sv[1]), "");
    close(sv[0]);
    close(sv[1]);
}

Test(sendq, settle_sends_the_queued_bytes_at_once)
{
    int sv[2];
    struct owner ow = {0};
    struct sendq_conn c = {.ops = &ops, .owner = &ow};
    size_t sent = 0;

    pair(sv);
    cr_assert_eq(sendq_write(&c, sv[0], "last words", &sent, 10), 0);
    sendq_settle(&c); /* as before a close */
    cr_assert_not(sendq_pending(&c));
    cr_assert_eq(sent, 10);
    cr_assert_eq(ow.progressed, 10);
    cr_assert_str_eq(drain(sv[1]), "last words");
    sendq_flush();
    cr_assert_eq(ow.wakes, 0, "nothing was left for the round");
    cr_assert_str_eq(drain(sv[1]), "", "and nothing goes twice");
    close(sv[0]);
    close(sv[1]);
}

Test(sendq, a_forgotten_owner_is_not_woken)
{
    int a[2], b[2];
    struct owner first = {0}, second = {0};
    struct sendq_conn ca = {.ops = &ops, .owner = &first}, cb = {.ops = &ops, .owner = &second};
    size_t sa = 0, sb = 0;

    pair(a);
    pair(b);
    first.forget = &second; /* as if waking the first freed the second */
    cr_assert_eq(sendq_write(&ca, a[0], "a", &sa, 1), 0);
    cr_assert_eq(sendq_write(&cb, b[0], "b", &sb, 1), 0);
    sendq_flush();
    cr_assert_eq(first.wakes, 1);
    cr_assert_eq(second.wakes, 0);
    cr_assert_eq(sb, 1, "its bytes still went out before the wake-ups");
    close(a[0]);
    close(a[1]);
    close(b[0]);
    close(b[1]);
}

Test(sendq, sends_queued_while_waking_go_out_in_the_same_flush)
{
    int sv[2];
    struct owner ow = {0};
    struct sendq_conn c = {.ops = &ops, .owner = &ow};
    const char *buf = "headbody";
    size_t sent = 0;

    pair(sv);
    ow.requeue_conn = &c;
    ow.requeue_fd = sv[0];
    ow.requeue_buf = buf;
    ow.requeue_sent = &sent;
    ow.requeue_end = 8;
    cr_assert_eq(sendq_write(&c, sv[0], buf, &sent, 4), 0);
    sendq_flush();
    cr_assert_eq(sent, 8);
    cr_assert_eq(ow.wakes, 2);
    cr_assert_str_eq(drain(sv[1]), "headbody");
    close(sv[0]);
    close(sv[1]);
}

Test(sendq, a_full_socket_leaves_the_rest_for_a_plain_send_later)
{
    int sv[2];
    struct owner ow = {0};
    struct sendq_conn c = {.ops = &ops, .owner = &ow};
    static char big[1 << 20];
    size_t sent = 0;

    pair(sv);
    memset(big, 'z', sizeof big);
    cr_assert_eq(sendq_write(&c, sv[0], big, &sent, sizeof big), 0);
    sendq_flush();
    cr_assert_gt(sent, 0);
    cr_assert_lt(sent, sizeof big, "a unix socket does not take 1 MiB at once");
    cr_assert_eq(ow.progressed, sent);
    cr_assert_eq(ow.wakes, 1);
    /* The socket is full: the next write is tried plainly, not queued. */
    size_t before = sent;
    cr_assert_eq(sendq_write(&c, sv[0], big, &sent, sizeof big), 0);
    cr_assert_not(sendq_pending(&c));
    cr_assert_eq(sent, before);
    /* The reader catches up; the rest goes out, every byte once. */
    size_t got = 0;
    while (sent < sizeof big) {
        char sink[65536];
        ssize_t n;
        while ((n = recv(sv[1], sink, sizeof sink, MSG_DONTWAIT)) > 0)
            got += (size_t)n;
        cr_assert_eq(sendq_write(&c, sv[0], big, &sent, sizeof big), 0);
        sendq_flush();
    }
    char sink[65536];
    ssize_t n;
    while ((n = recv(sv[1], sink, sizeof sink, MSG_DONTWAIT)) > 0)
        got += (size_t)n;
    cr_assert_eq(got, sizeof big);
    cr_assert_eq(ow.progressed, sizeof big);
    close(sv[0]);
    close(sv[1]);
}

Test(sendq, a_dead_peer_is_reported_by_the_next_write)
{
    int sv[2];
    struct owner ow = {0};
    struct sendq_conn c = {.ops = &ops, .owner = &ow};
    size_t sent = 0;

    pair(sv);
    close(sv[1]);
    cr_assert_eq(sendq_write(&c, sv[0], "lost", &sent, 4), 0);
    sendq_flush();
    cr_assert_eq(ow.wakes, 1);
    cr_assert_eq(sent, 0);
    errno = 0;
    cr_assert_eq(sendq_write(&c, sv[0], "lost", &sent, 4), -1);
    cr_assert_eq(errno, EPIPE);
    close(sv[0]);
}

Test(sendq_plain, sends_at_once_without_io_uring, .init = plain_setup, .fini = teardown)
{
    int sv[2];
    struct owner ow = {0};
    struct sendq_conn c = {.ops = &ops, .owner = &ow};
    size_t sent = 0;

    pair(sv);
    cr_assert_not(sendq_batching());
    cr_assert_eq(sendq_write(&c, sv[0], "now", &sent, 3), 0);
    cr_assert_not(sendq_pending(&c));
    cr_assert_eq(sent, 3);
    cr_assert_eq(ow.progressed, 3);
    cr_assert_str_eq(drain(sv[1]), "now");
    close(sv[1]);
    cr_assert_eq(sendq_write(&c, sv[0], "x", &sent, 4), -1);
    cr_assert_eq(errno, EPIPE);
    close(sv[0]);
}

/* cpu-yield asks whether a round sent anything, batched or plain. */
static void counts_the_round_sends(void)
{
    int sv[2];
    struct sendq_conn a = {0}, b = {0};
    size_t sa = 0, sb = 0, done = 2;

    pair(sv);
    (void)sendq_take_round_sends(); /* whatever set-up sent */
    cr_assert_eq(sendq_take_round_sends(), 0);
    cr_assert_eq(sendq_write(&a, sv[0], "ab", &done, 2), 0); /* nothing to send */
    cr_assert_eq(sendq_take_round_sends(), 0, "an empty write counted as a send");
    cr_assert_eq(sendq_write(&a, sv[0], "ab", &sa, 2), 0);
    cr_assert_eq(sendq_write(&b, sv[0], "cd", &sb, 2), 0);
    sendq_flush();
    cr_assert_str_eq(drain(sv[1]), "abcd");
    cr_assert_eq(sendq_take_round_sends(), 2);
    cr_assert_eq(sendq_take_round_sends(), 0, "the count was not reset");
    close(sv[0]);
    close(sv[1]);
}

Test(sendq, counts_the_round_sends_for_cpu_yield)
{
    counts_the_round_sends();
}

Test(sendq_plain, counts_the_round_sends_for_cpu_yield, .init = plain_setup, .fini = teardown)
{
    counts_the_round_sends();
}
