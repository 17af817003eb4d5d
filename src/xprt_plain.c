/*
 * xprt_plain: the transport for plain TCP sockets (see xprt.h): recv(2),
 * sends through sendq (batched per round over io_uring, or send(2)), and
 * splice(2) for large bodies.
 */
#include "xprt.h"

#include <errno.h>
#include <linux/sockios.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include "splice_pipe.h"

static ssize_t plain_recv(struct xprt *x, char *buf, size_t len)
{
    return recv(x->fd, buf, len, 0);
}

static int plain_send(struct xprt *x, const char *buf, size_t *sent, size_t end)
{
    return sendq_write(&x->q, x->fd, buf, sent, end);
}

static void plain_shutdown_write(struct xprt *x)
{
    shutdown(x->fd, SHUT_WR);
}

static int plain_peek(struct xprt *x)
{
    char c;
    ssize_t n = recv(x->fd, &c, 1, MSG_PEEK | MSG_DONTWAIT);
    return n > 0 ? 1 : n == 0 ? 0 : -1;
}

int xprt_fd_unsent(struct xprt *x)
{
    int outq = 0;
    return ioctl(x->fd, SIOCOUTQ, &outq) == 0 ? outq : -1;
}

void xprt_abort_on_close(struct xprt *x)
{
    struct linger hard = { .l_onoff = 1, .l_linger = 0 };
    if (x->fd >= 0)
        (void)setsockopt(x->fd, SOL_SOCKET, SO_LINGER, &hard, sizeof hard);
    x->tls_flags |= XPRT_ABORT_ON_CLOSE;
}

int xprt_fd_connect_error(struct xprt *x)
{
    int err = 0;
    socklen_t len = sizeof err;
    if (getsockopt(x->fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0)
        err = errno;
    return err;
}

static ssize_t plain_splice_in(struct xprt *x, struct splice_pipe *p, size_t max)
{
    return splice_pipe_fill(p, x->fd, max);
}

static ssize_t plain_splice_out(struct xprt *x, struct splice_pipe *p)
{
    return splice_pipe_drain(p, x->fd);
}

static void plain_close(struct xprt *x)
{
    if (x->fd < 0)
        return;
    close(x->fd);
    x->fd = -1;
}

const struct xprt_ops xprt_plain_ops = {
    .name = "plain",
    .caps = XPRT_CAN_SPLICE | XPRT_CAN_BATCH,
    .recv = plain_recv,
    .send = plain_send,
    .shutdown_write = plain_shutdown_write,
    .peek = plain_peek,
    .unsent = xprt_fd_unsent,
    .connect_error = xprt_fd_connect_error,
    .splice_in = plain_splice_in,
    .splice_out = plain_splice_out,
    .close = plain_close,
};

void xprt_plain_init(struct xprt *x, int fd, const struct sendq_ops *sops, void *owner)
{
    x->ops = &xprt_plain_ops;
    x->fd = fd;
    x->q = (struct sendq_conn){.ops = sops, .owner = owner};
    x->ssl = NULL;
    x->tls_flags = 0;
    x->tls_state = 0;
}
