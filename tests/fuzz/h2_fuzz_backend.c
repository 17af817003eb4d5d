/*
 * h2_fuzz_backend: the servers behind the proxy in fuzz_h2_frames.c, in the
 * worker's own event loop: A takes each request by its framing (a
 * Content-Length or a chunked body, the field names in any case) and
 * answers it as the input's mode says; B closes at once, or answers
 * something that is not HTTP.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include "h2_fuzz.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#define BACKEND_CONNS 64

struct backend_conn {
    ev_io io;
    int fd;
    int behaviour;
    unsigned answered;
    char in[65536];
    size_t in_len;
    size_t need;        /* body bytes still to take before the next head */
    int chunked;        /* the request's body is chunked: it ends at 0 CRLF CRLF */
    char *out;
    size_t out_len, out_sent, out_cap;
    int close_after;    /* close once out is written */
};

static struct ev_loop *loop_;
static int listen_fd[2];
static ev_io listen_io[2];
static struct backend_conn *bconns[BACKEND_CONNS];
static int cur_behaviour;
static size_t cur_body;
static uint32_t cur_seed;

static void bconn_close(struct backend_conn *b)
{
    for (int i = 0; i < BACKEND_CONNS; i++)
        if (bconns[i] == b)
            bconns[i] = NULL;
    ev_io_stop(loop_, &b->io);
    close(b->fd);
    free(b->out);
    free(b);
}

static void out_add(struct backend_conn *b, const char *p, size_t n)
{
    b->out = h2_fuzz_append(b->out, &b->out_len, &b->out_cap, p, n);
}

static void out_str(struct backend_conn *b, const char *s)
{
    out_add(b, s, strlen(s));
}

static void out_body(struct backend_conn *b, size_t n)
{
    char chunk[1024];
    memset(chunk, 'x', sizeof chunk);
    while (n) {
        size_t k = n < sizeof chunk ? n : sizeof chunk;
        out_add(b, chunk, k);
        n -= k;
    }
}

/* One response, as the backend's behaviour says. */
static void respond(struct backend_conn *b)
{
    char line[128];
    unsigned k = b->answered++;

    switch (b->behaviour) {
    case 0:
        snprintf(line, sizeof line, "HTTP/1.1 200 OK\r\nContent-Length: %zu\r\n", cur_body);
        out_str(b, line);
        out_str(b, "X-Backend: a\r\nSet-Cookie: s=1; Path=/\r\nKeep-Alive: timeout=5\r\n\r\n");
        out_body(b, cur_body);
        break;
    case 1:
        out_str(b, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nConnection: keep-alive\r\n"
                   "Trailer: x-t\r\nX-Upper: Case\r\n\r\n");
        for (size_t left = cur_body; left;) {
            size_t n = left < 3000 ? left : 3000;
            snprintf(line, sizeof line, "%zx;ext=1\r\n", n);
            out_str(b, line);
            out_body(b, n);
            out_str(b, "\r\n");
            left -= n;
        }
        out_str(b, "0\r\nX-T: 1\r\n\r\n");
        break;
    case 2:
        if ((cur_seed & 3) == 1) /* two Content-Lengths: not HTTP a proxy may pass on */
            out_str(b, "HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\nhello");
        else if ((cur_seed & 3) == 2) /* the body cut short: the stream is reset mid-response */
            out_str(b, "HTTP/1.1 200 OK\r\nContent-Length: 100000\r\n\r\nnot all of it");
        else /* no status line */
            out_str(b, "HTTP/1.1 2000 Whatever\r\n\r\n");
        b->close_after = 1;
        break;
    default:
        if (k % 2 == 0) {
            out_str(b, "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 103 Early Hints\r\nLink: </s.css>\r\n\r\n"
                       "HTTP/1.1 204 No Content\r\nX-Empty: 1\r\n\r\n");
        } else {
            out_str(b, "HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\n\r\n");
            out_body(b, cur_body);
            b->close_after = 1;
        }
        break;
    }
}

static void bconn_write(struct backend_conn *b)
{
    while (b->out_sent < b->out_len) {
        ssize_t n = send(b->fd, b->out + b->out_sent, b->out_len - b->out_sent, MSG_NOSIGNAL);
        if (n > 0) {
            b->out_sent += (size_t)n;
            continue;
        }
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            ev_io_stop(loop_, &b->io);
            ev_io_set(&b->io, b->fd, EV_READ | EV_WRITE);
            ev_io_start(loop_, &b->io);
            return;
        }
        bconn_close(b);
        return;
    }
    b->out_len = b->out_sent = 0;
    if (b->close_after) {
        bconn_close(b);
        return;
    }
    ev_io_stop(loop_, &b->io);
    ev_io_set(&b->io, b->fd, EV_READ);
    ev_io_start(loop_, &b->io);
}

static const char *find(const char *p, size_t n, const char *lit)
{
    return memmem(p, n, lit, strlen(lit));
}

/* A field name in a head, in any case (an HTTP/2 client's come lowercase). */
static const char *find_field(const char *p, size_t n, const char *name)
{
    size_t k = strlen(name);
    for (size_t i = 0; i + k + 3 <= n; i++)
        if (p[i] == '\r' && p[i + 1] == '\n' && strncasecmp(p + i + 2, name, k) == 0 && p[i + 2 + k] == ':')
            return p + i + 3 + k;
    return NULL;
}

/* Takes the requests in b->in: each head, then its body by its framing
 * (the proxy sends a Content-Length or a chunked body), then answers. */
static void take_requests(struct backend_conn *b)
{
    size_t pos = 0;
    while (pos < b->in_len && !b->close_after) {
        if (b->need) {
            size_t k = b->in_len - pos < b->need ? b->in_len - pos : b->need;
            pos += k;
            b->need -= k;
            if (b->need == 0)
                respond(b);
            continue;
        }
        if (b->chunked) {
            const char *end = find(b->in + pos, b->in_len - pos, "\r\n0\r\n\r\n");
            if (!end) {
                /* keep the last bytes: the end may come split */
                if (b->in_len - pos > 7)
                    pos = b->in_len - 7;
                break;
            }
            pos = (size_t)(end - b->in) + 7;
            b->chunked = 0;
            respond(b);
            continue;
        }
        const char *end = find(b->in + pos, b->in_len - pos, "\r\n\r\n");
        if (!end)
            break;
        size_t head_len = (size_t)(end - (b->in + pos)) + 4;
        const char *head = b->in + pos;
        const char *cl = find_field(head, head_len, "content-length");
        const char *te = find_field(head, head_len, "transfer-encoding");
        if (te && strncasecmp(te, " chunked\r\n", 10) == 0) {
            b->chunked = 1;
            pos += head_len - 2; /* the chunks start with a size line: keep the CRLF before it */
            continue;
        }
        pos += head_len;
        b->need = cl ? strtoul(cl, NULL, 10) : 0;
        if (b->need == 0)
            respond(b);
    }
    memmove(b->in, b->in + pos, b->in_len - pos);
    b->in_len -= pos;
    if (b->in_len == sizeof b->in)
        b->in_len = 0; /* a head larger than we read: drop it, the proxy's limits are not ours */
}

static void bconn_cb(struct ev_loop *loop, ev_io *io, int revents)
{
    struct backend_conn *b = io->data;
    (void)loop;
    if (revents & EV_WRITE) {
        bconn_write(b);
        return;
    }
    ssize_t n = recv(b->fd, b->in + b->in_len, sizeof b->in - b->in_len, 0);
    if (n < 0 && (errno == EAGAIN || errno == EINTR))
        return;
    if (n <= 0) {
        bconn_close(b);
        return;
    }
    b->in_len += (size_t)n;
    take_requests(b);
    if (b->out_len)
        bconn_write(b);
}

static void accept_cb(struct ev_loop *loop, ev_io *io, int revents)
{
    int which = io == &listen_io[1];
    (void)loop;
    (void)revents;
    for (;;) {
        int fd = accept4(listen_fd[which], NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd < 0)
            return;
        int behaviour = which ? 2 : cur_behaviour;
        int slot = -1;
        for (int i = 0; i < BACKEND_CONNS && slot < 0; i++)
            if (!bconns[i])
                slot = i;
        if (slot < 0 || (behaviour == 2 && (which || (cur_seed & 3) == 0))) {
            close(fd); /* a server that closes at once */
            continue;
        }
        struct backend_conn *b = calloc(1, sizeof *b);
        CHECK(b != NULL);
        b->fd = fd;
        b->behaviour = behaviour;
        ev_io_init(&b->io, bconn_cb, fd, EV_READ);
        b->io.data = b;
        ev_io_start(loop_, &b->io);
        bconns[slot] = b;
    }
}

static int backend_listen(unsigned *port)
{
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof a;
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    CHECK(fd >= 0);
    CHECK(bind(fd, (struct sockaddr *)&a, sizeof a) == 0);
    CHECK(listen(fd, 128) == 0);
    CHECK(getsockname(fd, (struct sockaddr *)&a, &len) == 0);
    *port = ntohs(a.sin_port);
    return fd;
}

void backend_start(struct ev_loop *loop, unsigned ports[2])
{
    loop_ = loop;
    for (int i = 0; i < 2; i++) {
        listen_fd[i] = backend_listen(&ports[i]);
        ev_io_init(&listen_io[i], accept_cb, listen_fd[i], EV_READ);
        ev_io_start(loop, &listen_io[i]);
    }
}

void backend_set(int behaviour, size_t body, uint32_t seed)
{
    cur_behaviour = behaviour;
    cur_body = body;
    cur_seed = seed;
}

void backend_close_all(void)
{
    for (int i = 0; i < BACKEND_CONNS; i++)
        if (bconns[i])
            bconn_close(bconns[i]);
}
