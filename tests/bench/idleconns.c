/*
 * idleconns: hold many idle keep-alive client connections open.
 *
 *   idleconns [-b | -s] HOST PORT N SECONDS [PATH]
 *
 * Opens N TCP connections to HOST:PORT (numeric IPv4 or IPv6), sends one
 * "GET PATH HTTP/1.1" (PATH defaults to /) on each and reads the whole
 * response (Content-Length or chunked), keeping the connection open.  When
 * every connection has had its answer it prints "ready N" (or "ready N
 * failed F" when some did not get a 2xx answer) on stdout and holds them idle
 * for SECONDS, until stdin reaches end of file (only when stdin is a pipe),
 * or until SIGTERM/SIGINT.  On the way out it says how many connections the
 * server closed while they were idle ("closed-by-server K").
 *
 * Connections are made 32 at a time, each batch in parallel, so that
 * the listen backlog is never overrun and a proxy needs only a few server
 * connections to answer them.  Each step is bounded in
 * time: a connection that takes longer than 10 s to be answered counts as
 * failed.
 *
 * -b (burst): all N connections are made first (32 at a time, each batch
 * waited for until connected, none sending anything), then every one of them
 * sends its request at the same moment (one send() after another, in a
 * loop), and the answers are read all together (within 30 s): the server
 * meets N requests at once, as in a flash crowd, and has to hold what it
 * took for them while the clients then sit idle.  Exit status: 0 when all N were answered with 2xx, 1 otherwise,
 * 2 on bad usage.
 *
 *
 * -s (TLS): the same as the default mode over TLS 1.3 (no certificate
 * check, no session resumption: every connection makes a full handshake),
 * to measure what a server holds per idle TLS keep-alive client.  Session
 * tickets and other records a server sends while the clients are idle are
 * read and are no close.
 *
 * Written for the benchmark (tests/bench/bench.sh): the memory a server
 * spends per idle client connection is its RSS growth while this runs.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/ssl.h>

#define BATCH 32
#define RESP_MAX_ONE 65536    /* one by one: room for any small answer */
#define RESP_MAX_BURST 4096   /* burst: N buffers at once, small answers */
#define STEP_TIMEOUT_MS 10000
#define BURST_TIMEOUT_MS 30000

static size_t resp_max = RESP_MAX_ONE;
#define RESP_MAX resp_max

struct conn {
    int fd;
    int state;          /* 0 connecting/sending, 1 reading, 2 done, 3 failed */
    size_t sent;
    size_t len;         /* bytes of response held in buf */
    char *buf;
    short ev;           /* what poll waits for in state 0/1 */
    SSL *ssl;           /* -s: the connection's TLS */
};

static SSL_CTX *tls_ctx;  /* -s */

static volatile sig_atomic_t stop_flag;

static void on_signal(int sig)
{
    (void)sig;
    stop_flag = 1;
}

static long long now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Is the response in c->buf complete?  1 yes (2xx), -1 complete but not 2xx
 * or malformed, 0 need more. */
static int response_complete(struct conn *c)
{
    char *end = memmem(c->buf, c->len, "\r\n\r\n", 4);
    if (!end)
        return c->len >= RESP_MAX ? -1 : 0;
    size_t head = (size_t)(end - c->buf) + 4;
    int status = 0;
    if (c->len < 12 || strncmp(c->buf, "HTTP/1.", 7) != 0)
        return -1;
    status = atoi(c->buf + 9);
    int ok = status >= 200 && status < 300;

    /* find Content-Length or Transfer-Encoding: chunked in the head */
    long long clen = -1;
    int chunked = 0;
    char *line = memchr(c->buf, '\n', head);
    while (line && line + 1 < c->buf + head) {
        line++;
        char *eol = memchr(line, '\n', (size_t)(c->buf + head - line));
        if (!eol)
            break;
        size_t l = (size_t)(eol - line);
        if (l > 15 && strncasecmp(line, "content-length:", 15) == 0)
            clen = atoll(line + 15);
        else if (l > 18 && strncasecmp(line, "transfer-encoding:", 18) == 0 &&
                 memmem(line, l, "chunked", 7))
            chunked = 1;
        line = eol;
    }
    if (status == 204 || status == 304 || (status >= 100 && status < 200))
        clen = 0;
    if (chunked) {
        /* good enough for a benchmark: the last chunk ends the body */
        if (c->len - head >= 5 && memcmp(c->buf + c->len - 5, "0\r\n\r\n", 5) == 0)
            return ok ? 1 : -1;
        return c->len >= RESP_MAX ? -1 : 0;
    }
    if (clen < 0)
        return -1;      /* close-delimited: cannot stay keep-alive */
    if ((long long)(c->len - head) >= clen)
        return ok ? 1 : -1;
    if (head + (size_t)clen > RESP_MAX)
        return -1;
    return 0;
}

static int open_conn(struct conn *c, const struct addrinfo *ai)
{
    c->fd = socket(ai->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (c->fd < 0)
        return -1;
    if (connect(c->fd, ai->ai_addr, ai->ai_addrlen) < 0 && errno != EINPROGRESS) {
        close(c->fd);
        c->fd = -1;
        return -1;
    }
    c->state = 0;
    c->sent = 0;
    c->len = 0;
    c->ev = POLLOUT;
    if (tls_ctx) {
        if (!(c->ssl = SSL_new(tls_ctx)) || !SSL_set_fd(c->ssl, c->fd)) {
            close(c->fd);
            c->fd = -1;
            return -1;
        }
        SSL_set_connect_state(c->ssl);
    }
    return 0;
}

/* -s: what an SSL call that did not complete waits for; 0 on a failure. */
static short tls_wait(struct conn *c, int ret)
{
    int e = SSL_get_error(c->ssl, ret);
    ERR_clear_error();
    return e == SSL_ERROR_WANT_READ ? POLLIN : e == SSL_ERROR_WANT_WRITE ? POLLOUT : 0;
}

/* Sends what is left of the request; -1 on a failure. */
static int send_some(struct conn *c, const char *req, size_t reqlen)
{
    if (!c->ssl) {
        ssize_t w = send(c->fd, req + c->sent, reqlen - c->sent, MSG_NOSIGNAL);
        if (w < 0)
            return errno == EAGAIN || errno == EINTR ? 0 : -1;
        c->sent += (size_t)w;
        return 0;
    }
    int r = SSL_write(c->ssl, req + c->sent, (int)(reqlen - c->sent)); /* handshakes first */
    if (r > 0) {
        c->sent += (size_t)r;
        return 0;
    }
    return (c->ev = tls_wait(c, r)) ? 0 : -1;
}

/* Reads some of the response: bytes read, 0 at EOF, -1 on a failure,
 * -2 for nothing yet. */
static ssize_t recv_some(struct conn *c)
{
    if (!c->ssl) {
        ssize_t rd = recv(c->fd, c->buf + c->len, RESP_MAX - c->len, 0);
        return rd < 0 && (errno == EAGAIN || errno == EINTR) ? -2 : rd;
    }
    int r = SSL_read(c->ssl, c->buf + c->len, (int)(RESP_MAX - c->len));
    if (r > 0)
        return r;
    if (SSL_get_error(c->ssl, r) == SSL_ERROR_ZERO_RETURN)
        return 0;
    return (c->ev = tls_wait(c, r)) ? -2 : -1;
}

/* Run one batch [from, to) until every connection is done or failed. */
static void run_batch(struct conn *cs, int from, int to, const char *req,
                      size_t reqlen, int timeout_ms)
{
    struct pollfd *pfd = calloc((size_t)(to - from) + 1, sizeof *pfd);
    int *idx = calloc((size_t)(to - from) + 1, sizeof *idx);
    long long deadline = now_ms() + timeout_ms;

    if (!pfd || !idx) {
        fprintf(stderr, "idleconns: out of memory\n");
        exit(1);
    }

    for (;;) {
        int n = 0;
        for (int i = from; i < to; i++) {
            struct conn *c = &cs[i];
            if (c->state >= 2)
                continue;
            pfd[n].fd = c->fd;
            pfd[n].events = c->ev;
            pfd[n].revents = 0;
            idx[n++] = i;
        }
        if (n == 0 || stop_flag)
            break;
        long long left = deadline - now_ms();
        if (left <= 0) {
            for (int k = 0; k < n; k++)
                cs[idx[k]].state = 3;
            break;
        }
        int r = poll(pfd, (nfds_t)n, (int)left);
        if (r < 0) {
            if (errno == EINTR)
                continue;
            perror("poll");
            exit(1);
        }
        for (int k = 0; k < n; k++) {
            struct conn *c = &cs[idx[k]];
            if (!pfd[k].revents)
                continue;
            if (c->state == 0) {
                int err = 0;
                socklen_t el = sizeof err;
                getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &el);
                if (err) {
                    c->state = 3;
                    continue;
                }
                if (send_some(c, req, reqlen) < 0) {
                    c->state = 3;
                    continue;
                }
                if (c->sent == reqlen) {
                    c->state = 1;
                    c->ev = POLLIN;
                }
            } else {
                ssize_t rd = recv_some(c);
                if (rd == -2)
                    continue;
                if (rd < 0) {
                    c->state = 3;
                    continue;
                }
                if (rd == 0) {
                    c->state = 3;
                    continue;
                }
                c->len += (size_t)rd;
                int done = response_complete(c);
                if (done == 1)
                    c->state = 2;
                else if (done < 0)
                    c->state = 3;
            }
        }
    }
    free(pfd);
    free(idx);
}

/* Burst mode, first step: connect [from, to) and wait until each is
 * connected (or failed), sending nothing. */
static void connect_batch(struct conn *cs, int from, int to)
{
    struct pollfd pfd[BATCH];
    int idx[BATCH];
    long long deadline = now_ms() + STEP_TIMEOUT_MS;

    for (;;) {
        int n = 0;
        for (int i = from; i < to; i++) {
            if (cs[i].state != 0 || cs[i].sent != 0)
                continue;       /* failed, or connected (sent = 1 marks it) */
            pfd[n].fd = cs[i].fd;
            pfd[n].events = POLLOUT;
            pfd[n].revents = 0;
            idx[n++] = i;
        }
        if (n == 0 || stop_flag)
            break;
        long long left = deadline - now_ms();
        if (left <= 0) {
            for (int k = 0; k < n; k++)
                cs[idx[k]].state = 3;
            break;
        }
        int r = poll(pfd, (nfds_t)n, (int)left);
        if (r < 0) {
            if (errno == EINTR)
                continue;
            perror("poll");
            exit(1);
        }
        for (int k = 0; k < n; k++) {
            if (!pfd[k].revents)
                continue;
            int err = 0;
            socklen_t el = sizeof err;
            getsockopt(cs[idx[k]].fd, SOL_SOCKET, SO_ERROR, &err, &el);
            if (err)
                cs[idx[k]].state = 3;
            else
                cs[idx[k]].sent = 1;
        }
    }
    for (int i = from; i < to; i++)
        cs[i].sent = 0;
}

int main(int argc, char **argv)
{
    int burst = 0;
    if (argc > 1 && strcmp(argv[1], "-b") == 0) {
        burst = 1;
        resp_max = RESP_MAX_BURST;
        argv++;
        argc--;
    } else if (argc > 1 && strcmp(argv[1], "-s") == 0) {
        if (!(tls_ctx = SSL_CTX_new(TLS_client_method())) ||
            !SSL_CTX_set_min_proto_version(tls_ctx, TLS1_3_VERSION)) {
            fprintf(stderr, "idleconns: no TLS 1.3 client context\n");
            return 1;
        }
        SSL_CTX_set_verify(tls_ctx, SSL_VERIFY_NONE, NULL);
        SSL_CTX_set_session_cache_mode(tls_ctx, SSL_SESS_CACHE_OFF);
        argv++;
        argc--;
    }
    if (argc < 5 || argc > 6) {
        fprintf(stderr, "usage: idleconns [-b | -s] HOST PORT N SECONDS [PATH]\n");
        return 2;
    }
    const char *host = argv[1], *port = argv[2];
    int n = atoi(argv[3]);
    int secs = atoi(argv[4]);
    const char *path = argc == 6 ? argv[5] : "/";
    if (n <= 0 || secs < 0) {
        fprintf(stderr, "idleconns: N must be > 0 and SECONDS >= 0\n");
        return 2;
    }

    struct rlimit rl;
    rlim_t want = (rlim_t)n + 64;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < want) {
        if (rl.rlim_max != RLIM_INFINITY && rl.rlim_max < want) {
            struct rlimit up = { want, want };  /* root may raise the hard limit */
            if (setrlimit(RLIMIT_NOFILE, &up) == 0)
                rl = up;
            else
                rl.rlim_cur = rl.rlim_max;
        } else {
            rl.rlim_cur = want;
        }
        setrlimit(RLIMIT_NOFILE, &rl);
        getrlimit(RLIMIT_NOFILE, &rl);
        if (rl.rlim_cur < want) {
            fprintf(stderr, "idleconns: open-file limit %llu too low for %d connections\n",
                    (unsigned long long)rl.rlim_cur, n);
            return 1;
        }
    }

    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);

    struct addrinfo hints, *ai;
    memset(&hints, 0, sizeof hints);
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_NUMERICHOST | AI_NUMERICSERV;
    int gr = getaddrinfo(host, port, &hints, &ai);
    if (gr != 0) {
        fprintf(stderr, "idleconns: %s:%s: %s\n", host, port, gai_strerror(gr));
        return 2;
    }

    char req[512];
    int reqlen = snprintf(req, sizeof req, "GET %s HTTP/1.1\r\nHost: x\r\n\r\n", path);

    struct conn *cs = calloc((size_t)n, sizeof *cs);
    char *bufs = malloc(RESP_MAX * (size_t)(burst ? n : BATCH));
    if (!cs || !bufs) {
        fprintf(stderr, "idleconns: out of memory\n");
        return 1;
    }

    int failed = 0;
    if (burst) {
        for (int from = 0; from < n && !stop_flag; from += BATCH) {
            int to = from + BATCH < n ? from + BATCH : n;
            for (int i = from; i < to; i++) {
                cs[i].buf = bufs + (size_t)i * RESP_MAX;
                if (open_conn(&cs[i], ai) < 0) {
                    if (!failed++)
                        perror("idleconns: connect");
                    cs[i].state = 3;
                }
            }
            connect_batch(cs, from, to);
        }
        failed = 0;
        /* every request at the same moment */
        for (int i = 0; i < n && !stop_flag; i++) {
            if (cs[i].state != 0)
                continue;
            ssize_t w = send(cs[i].fd, req, (size_t)reqlen, MSG_NOSIGNAL);
            if (w < 0 && errno != EAGAIN && errno != EINTR) {
                cs[i].state = 3;
                continue;
            }
            if (w > 0)
                cs[i].sent = (size_t)w;
            if (cs[i].sent == (size_t)reqlen)
                cs[i].state = 1;
        }
        run_batch(cs, 0, n, req, (size_t)reqlen, BURST_TIMEOUT_MS);
        for (int i = 0; i < n; i++) {
            cs[i].buf = NULL;
            if (cs[i].state != 2) {
                failed++;
                if (cs[i].fd >= 0) {
                    close(cs[i].fd);
                    cs[i].fd = -1;
                }
            }
        }
    }
    for (int from = 0; from < n && !stop_flag && !burst; from += BATCH) {
        int to = from + BATCH < n ? from + BATCH : n;
        for (int i = from; i < to; i++) {
            cs[i].buf = bufs + (size_t)(i - from) * RESP_MAX;
            if (open_conn(&cs[i], ai) < 0) {
                if (!failed)
                    perror("idleconns: connect");
                cs[i].state = 3;
            }
        }
        run_batch(cs, from, to, req, (size_t)reqlen, STEP_TIMEOUT_MS);
        for (int i = from; i < to; i++) {
            cs[i].buf = NULL;
            if (cs[i].state != 2) {
                failed++;
                if (cs[i].fd >= 0) {
                    close(cs[i].fd);
                    cs[i].fd = -1;
                }
            }
        }
    }
    free(bufs);
    freeaddrinfo(ai);
    if (stop_flag)
        return 1;

    if (failed)
        printf("ready %d failed %d\n", n - failed, failed);
    else
        printf("ready %d\n", n);
    fflush(stdout);

    /* Hold: watch every connection for a close by the server, and stdin
     * when it is a pipe. */
    struct stat st;
    int watch_stdin = fstat(0, &st) == 0 && S_ISFIFO(st.st_mode);
    struct pollfd *pfd = calloc((size_t)n + 1, sizeof *pfd);
    int m = 0;
    if (watch_stdin) {
        pfd[m].fd = 0;
        pfd[m++].events = POLLIN;
    }
    int first = m;
    for (int i = 0; i < n; i++) {
        if (cs[i].state == 2) {
            pfd[m].fd = cs[i].fd;
            pfd[m++].events = POLLIN | POLLRDHUP;
        }
    }
    int closed = 0;
    long long deadline = now_ms() + (long long)secs * 1000;
    while (!stop_flag) {
        long long left = deadline - now_ms();
        if (left <= 0)
            break;
        int r = poll(pfd, (nfds_t)m, (int)left);
        if (r < 0) {
            if (errno == EINTR)
                continue;
            break;
        }
        if (watch_stdin && pfd[0].revents) {
            char b[256];
            ssize_t rd = read(0, b, sizeof b);
            if (rd <= 0)
                break;
        }
        for (int k = first; k < m; k++) {
            if (pfd[k].fd >= 0 && pfd[k].revents) {
                struct conn *c = NULL;
                for (int i = 0; tls_ctx && i < n && !c; i++)
                    c = cs[i].fd == pfd[k].fd ? &cs[i] : NULL;
                if (c && c->ssl && !(pfd[k].revents & (POLLRDHUP | POLLHUP | POLLERR))) {
                    char b[256];
                    int r = SSL_read(c->ssl, b, sizeof b);
                    if (r > 0 || tls_wait(c, r) == POLLIN)
                        continue; /* a ticket or a stray record, no close */
                }
                closed++;
                close(pfd[k].fd);
                pfd[k].fd = -1;         /* poll ignores negative fds */
            }
        }
    }
    printf("closed-by-server %d\n", closed);
    fflush(stdout);
    return failed ? 1 : 0;
}
