/*
 * sendq: see sendq.h.  One ring per worker thread; a round is built while
 * callbacks run and submitted by an ev_prepare watcher, just before the
 * loop polls.  Sends carry MSG_DONTWAIT, so the kernel finishes each one
 * inside the submitting call (sent, partly sent, EAGAIN or an error) and
 * never keeps a request in flight: after sendq_flush() returns, no buffer
 * or descriptor is referenced by the kernel any more.  sendq_thread_init
 * checks that this kernel behaves so before batching is turned on.
 */
#include "sendq.h"

#include <errno.h>
#include <liburing.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "log.h"

/* Sends per round; a send beyond it goes out plainly at once. */
#define SENDQ_MAX 256
/* Rounds submitted back to back when waking owners queues more sends. */
#define SENDQ_ROUNDS 8
#define SEND_FLAGS (MSG_NOSIGNAL | MSG_DONTWAIT)

struct sendq_entry {
    struct sendq_conn *c; /* NULL: cancelled */
    int fd;
    const char *buf;
    size_t len;
    size_t *sent;
};

struct waker {
    void *owner;
    const struct sendq_ops *ops;
};

static _Thread_local struct {
    int on;               /* batching (the ring works) */
    int ring_up;          /* the ring and watchers exist (to free at exit) */
    int flushing;
    struct ev_loop *loop;
    struct io_uring ring;
    ev_prepare prepare;
    ev_idle idle;
    unsigned round_sends; /* sends queued or made with bytes out, since the last take */
    unsigned n;
    struct sendq_entry q[SENDQ_MAX];
    unsigned nwake;
    struct waker wake[SENDQ_MAX];
} sq;

int sendq_batching(void)
{
    return sq.on;
}

unsigned sendq_take_round_sends(void)
{
    unsigned n = sq.round_sends;
    sq.round_sends = 0;
    return n;
}

static int plain_send(struct sendq_conn *c, int fd, const char *buf, size_t *sent, size_t end)
{
    while (*sent < end) {
        ssize_t n = send(fd, buf + *sent, end - *sent, MSG_NOSIGNAL);
        if (n > 0) {
            sq.round_sends++;
            *sent += (size_t)n;
            if (c->ops)
                c->ops->progress(c->owner, (size_t)n);
            continue;
        }
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
            return 0;
        return -1;
    }
    c->blocked = 0;
    return 0;
}

int sendq_write(struct sendq_conn *c, int fd, const char *buf, size_t *sent, size_t end)
{
    if (*sent >= end)
        return 0;
    if (c->err) {
        errno = c->err;
        return -1;
    }
    if (c->slot)
        return 0; /* its earlier bytes go first, at the end of the round */
    /* A socket that was full is retried plainly: queueing would only learn
     * EAGAIN again at the end of the round, with the owner still waiting. */
    if (!sq.on || c->blocked || sq.n == SENDQ_MAX)
        return plain_send(c, fd, buf, sent, end);
    sq.round_sends++;
    struct sendq_entry *e = &sq.q[sq.n++];
    e->c = c;
    e->fd = fd;
    e->buf = buf + *sent;
    e->len = end - *sent;
    e->sent = sent;
    c->slot = (uint16_t)sq.n;
    return 0;
}

void sendq_cancel(struct sendq_conn *c)
{
    if (!c->slot)
        return;
    sq.q[c->slot - 1].c = NULL;
    c->slot = 0;
}

/* Takes a queued entry out of the round and sends it plainly, now.
 * Returns its connection. */
static struct sendq_conn *send_entry_now(struct sendq_entry *e)
{
    struct sendq_conn *c = e->c;
    size_t done = 0;

    e->c = NULL;
    c->slot = 0;
    if (plain_send(c, e->fd, e->buf, &done, e->len) < 0)
        c->err = errno;
    *e->sent += done;
    return c;
}

void sendq_settle(struct sendq_conn *c)
{
    if (c->slot)
        send_entry_now(&sq.q[c->slot - 1]);
}

void sendq_forget(void *owner)
{
    if (!sq.flushing)
        return;
    for (unsigned i = 0; i < sq.nwake; i++)
        if (sq.wake[i].owner == owner)
            sq.wake[i].owner = NULL;
}

/* Records what the kernel did with one queued send. */
static void apply(struct sendq_entry *e, int res)
{
    struct sendq_conn *c = e->c;

    if (!c)
        return;
    c->slot = 0;
    if (res > 0) {
        *e->sent += (size_t)res;
        if (c->ops)
            c->ops->progress(c->owner, (size_t)res);
        if ((size_t)res < e->len)
            c->blocked = 1;
    } else if (res == -EAGAIN) {
        c->blocked = 1;
    } else if (res < 0) {
        c->err = -res;
    }
    if (c->ops)
        sq.wake[sq.nwake++] = (struct waker){c->owner, c->ops};
}

/* Sends one entry plainly, now (the ring could not take it). */
static void send_entry_plainly(struct sendq_entry *e)
{
    struct sendq_conn *c = send_entry_now(e);
    if (c->ops)
        sq.wake[sq.nwake++] = (struct waker){c->owner, c->ops};
}

/* Hands the SQ to the kernel; normally one call takes all n and every send
 * completes inside it.  Returns 0, or -1 if the kernel kept refusing. */
static int enter_ring(unsigned n)
{
    int rc, tries = 0;

    do {
        rc = io_uring_submit_and_wait(&sq.ring, n);
    } while (rc == -EINTR);
    if (rc == (int)n)
        return 0;
    /* Part or none was taken (a request allocation failed, the CQ is
     * full...): the rest is still in the SQ; offer it again a few times. */
    unsigned taken = rc > 0 ? (unsigned)rc : 0;
    while (taken < n && tries++ < 16) {
        rc = io_uring_submit(&sq.ring);
        if (rc > 0)
            taken += (unsigned)rc;
        else if (rc != 0 && rc != -EINTR && rc != -EAGAIN && rc != -EBUSY)
            break;
    }
    if (taken == n)
        return 0;
    log_warn("io_uring took %u of %u sends (%s): sending without batching", taken, n,
             rc < 0 ? strerror(-rc) : "short submit");
    return -1;
}

/* Submits the queued sends in one call and applies the results. */
static void submit_round(void)
{
    unsigned n = sq.n;

    sq.nwake = 0;
    for (unsigned i = 0; i < n; i++) {
        struct io_uring_sqe *sqe = io_uring_get_sqe(&sq.ring); /* the SQ holds SENDQ_MAX */
        struct sendq_entry *e = &sq.q[i];
        if (!sqe) { /* cannot happen: a failed round never leaves entries behind */
            n = i;
            break;
        }
        if (e->c)
            io_uring_prep_send(sqe, e->fd, e->buf, e->len, SEND_FLAGS);
        else
            io_uring_prep_nop(sqe);
        sqe->user_data = i;
    }
    int failed = enter_ring(n) < 0;
    unsigned head, seen = 0;
    struct io_uring_cqe *cqe;
    io_uring_for_each_cqe(&sq.ring, head, cqe) {
        if (cqe->user_data < sq.n)
            apply(&sq.q[cqe->user_data], cqe->res);
        seen++;
    }
    io_uring_cq_advance(&sq.ring, seen);
    if (failed) {
        /* What the kernel did not take stays unsent in the SQ; the ring is
         * never entered again, so it never goes out from there. */
        sq.on = 0;
    }
    /* Whatever has no completion (the kernel did not take it, or past a
     * missing SQE) goes out plainly, in order. */
    for (unsigned i = 0; i < sq.n; i++) {
        struct sendq_entry *e = &sq.q[i];
        if (e->c && e->c->slot == i + 1)
            send_entry_plainly(e);
    }
    sq.n = 0;
}

/* Wakes each owner of the round once; owners freed meanwhile are skipped
 * (sendq_forget). */
static void wake_owners(void)
{
    for (unsigned i = 0; i < sq.nwake; i++) {
        void *owner = sq.wake[i].owner;
        if (!owner)
            continue;
        for (unsigned j = i + 1; j < sq.nwake; j++)
            if (sq.wake[j].owner == owner)
                sq.wake[j].owner = NULL;
        sq.wake[i].ops->wake(owner);
    }
    sq.nwake = 0;
}

void sendq_flush(void)
{
    if (sq.flushing || !sq.on)
        return;
    sq.flushing = 1;
    for (int round = 0; round < SENDQ_ROUNDS && sq.n > 0 && sq.on; round++) {
        submit_round();
        wake_owners();
    }
    sq.flushing = 0;
    /* Owners kept queueing: poll without blocking and flush again. */
    if (sq.n > 0 && !ev_is_active(&sq.idle))
        ev_idle_start(sq.loop, &sq.idle);
}

static void prepare_cb(struct ev_loop *loop, ev_prepare *w, int revents)
{
    (void)loop;
    (void)w;
    (void)revents;
    sendq_flush();
}

static void idle_cb(struct ev_loop *loop, ev_idle *w, int revents)
{
    (void)revents;
    if (sq.n == 0)
        ev_idle_stop(loop, w);
}

/* Does a send with MSG_DONTWAIT to a full socket complete at once with
 * EAGAIN?  (Kernels that instead park it until the socket drains would keep
 * buffers in use after the round.) */
static int dontwait_completes_inline(struct io_uring *ring)
{
    int sv[2], ok = 0;
    char chunk[4096];
    struct io_uring_cqe *cqe;

    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, sv) < 0)
        return 0;
    memset(chunk, 'x', sizeof chunk);
    for (int i = 0; i < 4096 && send(sv[0], chunk, sizeof chunk, SEND_FLAGS) > 0; i++)
        ;
    struct io_uring_sqe *sqe = io_uring_get_sqe(ring);
    io_uring_prep_send(sqe, sv[0], chunk, sizeof chunk, SEND_FLAGS);
    if (io_uring_submit(ring) == 1) {
        if (io_uring_peek_cqe(ring, &cqe) == 0) {
            ok = cqe->res == -EAGAIN;
            io_uring_cqe_seen(ring, cqe);
        } else {
            /* Parked: drain the other end so it completes, then give up. */
            while (read(sv[1], chunk, sizeof chunk) > 0)
                ;
            if (io_uring_wait_cqe(ring, &cqe) == 0)
                io_uring_cqe_seen(ring, cqe);
        }
    }
    close(sv[0]);
    close(sv[1]);
    return ok;
}

int sendq_thread_init(struct ev_loop *loop)
{
    const char *env = getenv("PROXY_IO_URING");
    static const unsigned flag_sets[] = {
        IORING_SETUP_SUBMIT_ALL | IORING_SETUP_SINGLE_ISSUER | IORING_SETUP_DEFER_TASKRUN,
        IORING_SETUP_SUBMIT_ALL,
    };

    sq.loop = loop;
    sq.on = 0;
    sq.n = 0;
    if (env && strcmp(env, "0") == 0)
        return 0;
    int rc = -EINVAL;
    for (size_t i = 0; i < sizeof flag_sets / sizeof flag_sets[0]; i++) {
        struct io_uring_params p;
        memset(&p, 0, sizeof p);
        p.flags = flag_sets[i];
        rc = io_uring_queue_init_params(SENDQ_MAX, &sq.ring, &p);
        if (rc == 0)
            break;
    }
    if (rc < 0) {
        log_debug("io_uring unavailable (%s): sends are not batched", strerror(-rc));
        return 0;
    }
    if (!dontwait_completes_inline(&sq.ring)) {
        log_debug("io_uring keeps non-blocking sends in flight here: sends are not batched");
        io_uring_queue_exit(&sq.ring);
        return 0;
    }
    ev_prepare_init(&sq.prepare, prepare_cb);
    ev_prepare_start(loop, &sq.prepare);
    ev_unref(loop); /* the watcher alone does not keep the loop running */
    ev_idle_init(&sq.idle, idle_cb);
    sq.on = 1;
    sq.ring_up = 1;
    return 1;
}

void sendq_thread_free(void)
{
    if (!sq.ring_up)
        return;
    ev_ref(sq.loop);
    ev_prepare_stop(sq.loop, &sq.prepare);
    ev_idle_stop(sq.loop, &sq.idle);
    io_uring_queue_exit(&sq.ring);
    sq.on = 0;
    sq.ring_up = 0;
    sq.n = 0;
}
