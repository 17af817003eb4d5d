/*
 * fuzz_h2_frames: the HTTP/2 input mode of the request path - a client's
 * bytes into the proxy's own server-side HTTP/2 connection, end to end.
 *
 * Unlike fuzz_request.c (the HTTP/1.1 parsing functions called directly),
 * nothing here is called piecemeal: the input is the client-to-proxy byte
 * stream of one connection, written into a socket pair whose other end is
 * a real conn of a worker of ours (the HTTP/1 protocol first, which hands
 * the conn to proto_h2 on the preface, as on a plaintext listener).  Every
 * stream then goes the whole way: proto_h2.c's nghttp2 callbacks, the
 * CONTINUATION, rapid-reset and flood limits and GOAWAY, h2_stream.c's
 * streams as txns (the header conversion, routing, admission, limits),
 * upstream_h1 over loopback TCP to a backend this harness answers itself
 * in the same event loop, and the response back as HEADERS and DATA.
 *
 *   data[0]  bits 0-1  the backend: 0 = 200 with a Content-Length body,
 *                      1 = a chunked body with trailers, 2 = a server that
 *                      fails (data[1] & 3: closes at once, answers invalid
 *                      HTTP, cuts its body short, sends no status line),
 *                      3 = interim 1xx then 204, or a close-delimited 200
 *            bits 2-3  the configuration (configs[] below)
 *            bit 4     time passes after the input (1.1 s, then 10, 20, 31,
 *                      61 s more): every timeout of the proxy's fires - the
 *                      1 s linger, timeout client for a header block that
 *                      never ends, timeout server for a stream the client's
 *                      window holds, timeout keep-alive's GOAWAY
 *            bit 5     half-way through the input: a graceful stop (what
 *                      worker.c's begin_stop does: an idle connection is
 *                      closed, another gets GOAWAY); in the routes
 *                      configuration, server a marked down instead
 *                      (on-down shutdown); in the large one, a reload
 *                      (the worker moves to another generation: GOAWAY)
 *            bit 6     the client does not read until the end (a small
 *                      socket buffer: the proxy's output backs up)
 *            bit 7     the input arrives in one piece (else in pieces)
 *   data[1]  seed of the piece sizes; bits 6-7 also the body size
 *
 * The rest is the byte stream; when it does not start with the client
 * preface, the preface and an empty SETTINGS frame are sent before it, so
 * that most inputs are frames.
 *
 * Deterministic: the harness owns the clock (clock_gettime and
 * gettimeofday below: libev's and now_ms's time moves only when the harness
 * says, by whole seconds, so no timeout of the proxy's fires by chance);
 * the loop is run until it is quiet (an idle watcher runs only in a round
 * without another event) and loopback delivers each write before the
 * syscall returns.  Bounded: at most MAX_ROUNDS loop rounds per input.
 * The access log goes to /dev/null (its code runs, its lines go nowhere).  Besides the sanitizers, it
 * aborts when an invariant breaks:
 *
 *  - the proxy's output is HTTP/2: its SETTINGS first, only frame types a
 *    server sends, each on a stream of the right kind (odd, or 0), no
 *    frame over the 16 KiB every peer takes, header blocks whole (a
 *    CONTINUATION only after a HEADERS without END_HEADERS, on its stream);
 *  - every header block decodes (HPACK, in order); a response head has a
 *    three-digit :status first, lowercase names, no connection-specific
 *    field (connection, keep-alive, proxy-connection, transfer-encoding,
 *    upgrade); no HEADERS or DATA on a stream after its END_STREAM;
 *  - once the client has gone, nothing is left: no connection in the
 *    worker, no txn, no stream or HTTP/2 connection counted, no request
 *    in flight on a server.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <arpa/inet.h>
#include <errno.h>
#include <ev.h>
#include <netinet/in.h>
#include <nghttp2/nghttp2.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "config.h"
#include "conn.h"
#include "log.h"
#include "metrics.h"
#include "proto_h1.h"
#include "proto_h2.h"
#include "runtime.h"
#include "sendq.h"
#include "txn.h"
#include "upstream.h"
#include "worker.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAX_ROUNDS 100000  /* loop rounds per input: bounds its time */
#define QUIET_ROUNDS 3     /* rounds without an event: the loop has nothing left to do */
#define MAX_FRAME 16384    /* SETTINGS_MAX_FRAME_SIZE's floor: the proxy never sends more */
#define STREAMS_TRACKED 4096
#define BACKEND_CONNS 64

#define CHECK(c)                                                                              \
    do {                                                                                      \
        if (!(c)) {                                                                           \
            fprintf(stderr, "fuzz_h2_frames: invariant failed: %s (%s:%d)\n", #c, __FILE__,    \
                    __LINE__);                                                                \
            abort();                                                                          \
        }                                                                                     \
    } while (0)

static const char preface[] = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";
#define PREFACE_LEN (sizeof preface - 1)
static const uint8_t empty_settings[9] = {0, 0, 0, 4, 0, 0, 0, 0, 0};

/* ---- the clock ------------------------------------------------------------------------ */

/* How far the harness moved time on: added to the monotonic clocks (libev's
 * timers, now_ms) and to gettimeofday (libev's ev_now), not to
 * CLOCK_REALTIME, which libFuzzer times its runs with.  Only ever grows. */
static _Atomic int64_t clock_shift_ns;

int clock_gettime(clockid_t id, struct timespec *ts)
{
    long rc = syscall(SYS_clock_gettime, id, ts);
    if (rc == 0 && (id == CLOCK_MONOTONIC || id == CLOCK_MONOTONIC_COARSE || id == CLOCK_MONOTONIC_RAW ||
                    id == CLOCK_BOOTTIME)) {
        int64_t ns = (int64_t)ts->tv_nsec + atomic_load(&clock_shift_ns);
        ts->tv_sec += (time_t)(ns / 1000000000);
        ts->tv_nsec = (long)(ns % 1000000000);
    }
    return (int)rc;
}

int gettimeofday(struct timeval *restrict tv, void *restrict tz)
{
    long rc = syscall(SYS_gettimeofday, tv, tz);
    if (rc == 0) {
        int64_t us = (int64_t)tv->tv_usec + atomic_load(&clock_shift_ns) / 1000;
        tv->tv_sec += (time_t)(us / 1000000);
        tv->tv_usec = (suseconds_t)(us % 1000000);
    }
    return (int)rc;
}

/* ---- the configurations --------------------------------------------------------------- */

/* %1$u is the port of backend A (answers as the mode byte says), %2$u of
 * backend B (always fails). */
static const char *const configs[4] = {
    /* the defaults */
    "listen 127.0.0.1:1\n"
    "pool web {\n check off\n server a 127.0.0.1:%1$u\n}\n",
    /* every limit small: 431, 413, refused streams, resets, small windows */
    "listen 127.0.0.1:1\n"
    "limit header-size 1k\nlimit headers 8\nlimit body-size 100\n"
    "http2 max-streams 3\nhttp2 window 1k\nhttp2 max-resets 3\n"
    "pool web {\n check off\n server a 127.0.0.1:%1$u\n}\n",
    /* routing: a retry to the other server, sticky cookies, a normalised
     * path, a host route */
    "listen 127.0.0.1:1\nnormalize-path on\n"
    "pool web {\n check off\n balance round-robin\n retries 1\n on-down shutdown\n"
    " server a 127.0.0.1:%1$u\n server b 127.0.0.1:%2$u\n}\n"
    "pool api {\n check off\n sticky cookie SRV\n server a 127.0.0.1:%1$u\n}\n"
    "route host api.example path /api/ pool api\n"
    "route path /b/ pool web\n"
    "route default pool api\n",
    /* every limit large */
    "listen 127.0.0.1:1\n"
    "limit header-size 64k\nlimit headers 500\n"
    "http2 max-streams 1000\nhttp2 window 1m\nhttp2 max-resets 1000\n"
    "pool web {\n check off\n server a 127.0.0.1:%1$u\n}\n",
};

static const size_t body_sizes[4] = {0, 100, 20000, 70000};

/* ---- the process's state: a worker of ours, two backends ---------------------------------- */

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

static struct worker w;
static struct runtime *runtimes[4];
static int listen_fd[2];
static ev_io listen_io[2];
static ev_idle quiet_watcher;
static int quiet;
static struct backend_conn *bconns[BACKEND_CONNS];
static int cur_behaviour;
static size_t cur_body;
static uint32_t cur_seed;

static void on_quiet(struct ev_loop *loop, ev_idle *i, int revents)
{
    (void)loop;
    (void)i;
    (void)revents;
    quiet = 1;
}

/* ---- the backend ------------------------------------------------------------------------ */

static void bconn_close(struct backend_conn *b)
{
    for (int i = 0; i < BACKEND_CONNS; i++)
        if (bconns[i] == b)
            bconns[i] = NULL;
    ev_io_stop(w.loop, &b->io);
    close(b->fd);
    free(b->out);
    free(b);
}

static void out_add(struct backend_conn *b, const char *p, size_t n)
{
    if (b->out_len + n > b->out_cap) {
        size_t cap = b->out_cap ? b->out_cap : 4096;
        while (cap < b->out_len + n)
            cap *= 2;
        char *o = realloc(b->out, cap);
        CHECK(o != NULL);
        b->out = o;
        b->out_cap = cap;
    }
    memcpy(b->out + b->out_len, p, n);
    b->out_len += n;
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
            ev_io_stop(w.loop, &b->io);
            ev_io_set(&b->io, b->fd, EV_READ | EV_WRITE);
            ev_io_start(w.loop, &b->io);
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
    ev_io_stop(w.loop, &b->io);
    ev_io_set(&b->io, b->fd, EV_READ);
    ev_io_start(w.loop, &b->io);
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
        ev_io_start(w.loop, &b->io);
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

/* ---- the proxy's output, checked as a client reads it ----------------------------------------- */

enum { ST_OPEN = 0, ST_INTERIM, ST_FINAL, ST_ENDED };

struct client_view {
    uint8_t *buf;               /* bytes of frames not yet whole */
    size_t len, cap;
    unsigned frames;
    nghttp2_hd_inflater *inf;
    uint8_t *block;             /* a header block across its CONTINUATIONs */
    size_t block_len, block_cap;
    int32_t block_stream;       /* 0: no block open */
    int block_end_stream;
    int32_t ids[STREAMS_TRACKED];
    uint8_t state[STREAMS_TRACKED];
    int untracked;              /* more streams than tracked: stream states unchecked */
    int broken;                 /* the HPACK state is lost (a block cut at teardown) */
};

static struct client_view cv;
static int verbose; /* FUZZ_H2_VERBOSE=1: each frame the client reads, on stderr */

static uint8_t *stream_state(int32_t id)
{
    uint32_t h = ((uint32_t)id * 2654435761u) % STREAMS_TRACKED;
    for (unsigned i = 0; i < STREAMS_TRACKED; i++, h = (h + 1) % STREAMS_TRACKED) {
        if (cv.ids[h] == id)
            return &cv.state[h];
        if (cv.ids[h] == 0) {
            cv.ids[h] = id;
            cv.state[h] = ST_OPEN;
            return &cv.state[h];
        }
    }
    cv.untracked = 1;
    return NULL;
}

static int name_is(const nghttp2_nv *nv, const char *lit)
{
    return nv->namelen == strlen(lit) && memcmp(nv->name, lit, nv->namelen) == 0;
}

/* One whole header block: decoded, and a response head checked. */
static void check_block(void)
{
    uint8_t *st = stream_state(cv.block_stream);
    int first = 1, status = 0;
    size_t pos = 0;
    for (;;) {
        nghttp2_nv nv;
        int flags = 0;
        ssize_t n = nghttp2_hd_inflate_hd2(cv.inf, &nv, &flags, cv.block + pos, cv.block_len - pos, 1);
        CHECK(n >= 0);
        pos += (size_t)n;
        if (flags & NGHTTP2_HD_INFLATE_EMIT) {
            for (size_t i = 0; i < nv.namelen; i++)
                CHECK(nv.name[i] < 'A' || nv.name[i] > 'Z');
            CHECK(!name_is(&nv, "connection") && !name_is(&nv, "keep-alive") &&
                  !name_is(&nv, "proxy-connection") && !name_is(&nv, "transfer-encoding") &&
                  !name_is(&nv, "upgrade"));
            if (first && st && *st != ST_FINAL) {
                /* a response head: :status first, three digits */
                CHECK(name_is(&nv, ":status") && nv.valuelen == 3);
                for (int i = 0; i < 3; i++)
                    CHECK(nv.value[i] >= '0' && nv.value[i] <= '9');
                status = (nv.value[0] - '0') * 100 + (nv.value[1] - '0') * 10 + (nv.value[2] - '0');
                if (verbose)
                    fprintf(stderr, "  stream %d :status %d\n", cv.block_stream, status);
                CHECK(status >= 100);
            } else {
                CHECK(nv.namelen == 0 || nv.name[0] != ':');
            }
            first = 0;
        }
        if (flags & NGHTTP2_HD_INFLATE_FINAL) {
            nghttp2_hd_inflate_end_headers(cv.inf);
            break;
        }
        CHECK(n > 0 || (flags & NGHTTP2_HD_INFLATE_EMIT)); /* progress, or a block cut short */
    }
    if (st) {
        if (*st == ST_OPEN || *st == ST_INTERIM)
            *st = status >= 100 && status < 200 ? ST_INTERIM : ST_FINAL;
        if (cv.block_end_stream)
            *st = ST_ENDED;
    }
    cv.block_stream = 0;
    cv.block_len = 0;
}

static void block_add(const uint8_t *p, size_t n)
{
    if (cv.block_len + n > cv.block_cap) {
        size_t cap = cv.block_cap ? cv.block_cap : 4096;
        while (cap < cv.block_len + n)
            cap *= 2;
        uint8_t *b = realloc(cv.block, cap);
        CHECK(b != NULL);
        cv.block = b;
        cv.block_cap = cap;
    }
    memcpy(cv.block + cv.block_len, p, n);
    cv.block_len += n;
}

static void check_frame(const uint8_t *f, size_t len)
{
    uint8_t type = f[3], flags = f[4];
    int32_t id = (int32_t)(((uint32_t)(f[5] & 0x7f) << 24) | ((uint32_t)f[6] << 16) | ((uint32_t)f[7] << 8) | f[8]);
    const uint8_t *payload = f + 9;

    CHECK(len <= MAX_FRAME);
    if (verbose)
        fprintf(stderr, "frame type %u flags 0x%02x stream %d length %zu code %u\n", type, flags, id, len,
                type == NGHTTP2_RST_STREAM && len == 4 ? (unsigned)payload[3]
                : type == NGHTTP2_GOAWAY && len >= 8   ? (unsigned)payload[7]
                                                       : 0u);
    if (cv.frames++ == 0)
        CHECK(type == NGHTTP2_SETTINGS && id == 0 && !(flags & NGHTTP2_FLAG_ACK)); /* the server preface */
    if (cv.block_stream)
        CHECK(type == NGHTTP2_CONTINUATION && id == cv.block_stream);
    switch (type) {
    case NGHTTP2_DATA:
    case NGHTTP2_HEADERS: {
        CHECK(id > 0 && (id & 1));
        uint8_t *st = stream_state(id);
        CHECK(!st || *st != ST_ENDED);
        if (type == NGHTTP2_DATA) {
            CHECK(!st || *st == ST_FINAL);
            if (st && (flags & NGHTTP2_FLAG_END_STREAM))
                *st = ST_ENDED;
            break;
        }
        size_t off = 0, pad = 0;
        if (flags & NGHTTP2_FLAG_PADDED) {
            CHECK(len >= 1);
            pad = payload[0];
            off = 1;
        }
        if (flags & NGHTTP2_FLAG_PRIORITY)
            off += 5;
        CHECK(off + pad <= len);
        cv.block_stream = id;
        cv.block_end_stream = (flags & NGHTTP2_FLAG_END_STREAM) != 0;
        block_add(payload + off, len - off - pad);
        if (flags & NGHTTP2_FLAG_END_HEADERS)
            check_block();
        break;
    }
    case NGHTTP2_CONTINUATION:
        CHECK(cv.block_stream && id == cv.block_stream);
        block_add(payload, len);
        if (flags & NGHTTP2_FLAG_END_HEADERS)
            check_block();
        break;
    case NGHTTP2_RST_STREAM:
        CHECK(id > 0 && (id & 1) && len == 4);
        break;
    case NGHTTP2_SETTINGS:
        CHECK(id == 0 && len % 6 == 0);
        CHECK(!(flags & NGHTTP2_FLAG_ACK) || len == 0);
        break;
    case NGHTTP2_PING:
        CHECK(id == 0 && len == 8);
        break;
    case NGHTTP2_GOAWAY:
        CHECK(id == 0 && len >= 8);
        break;
    case NGHTTP2_WINDOW_UPDATE:
        CHECK(len == 4);
        CHECK(id == 0 || (id & 1));
        break;
    default:
        CHECK(!"a frame type a server does not send (PRIORITY, PUSH_PROMISE, unknown)");
    }
}

/* Bytes the client read: every whole frame in them checked. */
static void client_got(const uint8_t *p, size_t n)
{
    if (cv.len + n > cv.cap) {
        size_t cap = cv.cap ? cv.cap : 65536;
        while (cap < cv.len + n)
            cap *= 2;
        uint8_t *b = realloc(cv.buf, cap);
        CHECK(b != NULL);
        cv.buf = b;
        cv.cap = cap;
    }
    memcpy(cv.buf + cv.len, p, n);
    cv.len += n;
    size_t pos = 0;
    while (cv.len - pos >= 9) {
        size_t flen = ((size_t)cv.buf[pos] << 16) | ((size_t)cv.buf[pos + 1] << 8) | cv.buf[pos + 2];
        CHECK(flen <= MAX_FRAME);
        if (cv.len - pos < 9 + flen)
            break;
        check_frame(cv.buf + pos, flen);
        pos += 9 + flen;
    }
    memmove(cv.buf, cv.buf + pos, cv.len - pos);
    cv.len -= pos;
}

static void client_view_reset(void)
{
    free(cv.buf);
    free(cv.block);
    if (cv.inf)
        nghttp2_hd_inflate_del(cv.inf);
    memset(&cv, 0, sizeof cv);
    CHECK(nghttp2_hd_inflate_new(&cv.inf) == 0);
    /* whatever table size the input's SETTINGS allowed the proxy */
    CHECK(nghttp2_hd_inflate_change_table_size(cv.inf, UINT32_MAX) == 0);
}

/* ---- driving one input ------------------------------------------------------------------------ */

struct client {
    int fd;
    const uint8_t *p;   /* what the client sends */
    size_t len, sent;
    size_t limit;       /* sent up to here for now */
    uint32_t rng;
    int oneshot;
    int reads;          /* it reads what the proxy sends */
    int closed;         /* the proxy closed its side */
};

static uint32_t rnd(struct client *cl)
{
    uint32_t x = cl->rng ? cl->rng : 0x9e3779b9u;
    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    cl->rng = x;
    return x;
}

static void client_read(struct client *cl)
{
    uint8_t buf[65536];
    while (!cl->closed) {
        ssize_t n = recv(cl->fd, buf, sizeof buf, 0);
        if (n > 0) {
            client_got(buf, (size_t)n);
            continue;
        }
        if (n < 0 && errno == EINTR)
            continue;
        if (n == 0 || (errno != EAGAIN && errno != EWOULDBLOCK))
            cl->closed = 1;
        return;
    }
}

/* Runs the loop until it has nothing more to do (or the round budget is spent). */
static void settle(struct client *cl, unsigned *rounds)
{
    for (int q = 0; q < QUIET_ROUNDS && *rounds < MAX_ROUNDS; (*rounds)++) {
        quiet = 0;
        ev_run(w.loop, EVRUN_ONCE);
        q = quiet ? q + 1 : 0;
        if (cl->reads)
            client_read(cl);
    }
}

/* The next piece of the input into the socket: 0 when none went. */
static int client_send(struct client *cl)
{
    if (cl->sent >= cl->limit || cl->closed)
        return 0;
    size_t step = cl->limit - cl->sent;
    if (!cl->oneshot) {
        uint32_t r = rnd(cl);
        size_t s = (r & 3) == 0 ? 1 + (r >> 8) % 9 : 1 + (r >> 8) % 1500;
        step = step < s ? step : s;
    }
    ssize_t n = send(cl->fd, cl->p + cl->sent, step, MSG_NOSIGNAL);
    if (n <= 0)
        return 0; /* full (the proxy stopped reading) or gone */
    cl->sent += (size_t)n;
    return 1;
}

/* Half-way through the input: a graceful stop as worker.c's begin_stop
 * makes one, (routes) server a marked down with on-down shutdown, or
 * (large) a reload: the worker's generation changes under the
 * connection, whose streams keep theirs. */
static void half_way_event(int config)
{
    struct conn *c = w.conns;
    if (!c)
        return;
    if (config == 2) {
        struct server *a = runtimes[2]->pools[0].servers[0];
        atomic_store(&a->state, SRV_DOWN);
        conn_server_down(c);
        return;
    }
    if (config == 3) {
        /* worker.c's apply_update: the new generation, then drain */
        w.rt = runtimes[0];
        if (c->proto->drain)
            c->proto->drain(c);
        return;
    }
    w.stopping = 1;
    if (conn_idle(c))
        conn_free(c);
    else if (c->proto->drain)
        c->proto->drain(c);
}

static void on_conn_closed(struct conn *c)
{
    worker_conn_unregister(c);
}

static void setup_once(void)
{
    static int done;
    char text[2048];
    unsigned ports[2];

    if (done)
        return;
    done = 1;
    verbose = getenv("FUZZ_H2_VERBOSE") != NULL;
    signal(SIGPIPE, SIG_IGN);
    setenv("PROXY_IO_URING", "0", 1);
    log_set_level(verbose ? LOG_DEBUG : LOG_ERROR);
    CHECK(access_log_open(verbose ? "stderr" : "/dev/null") == 0);
    memset(&w, 0, sizeof w);
    w.loop = ev_loop_new(EVFLAG_AUTO);
    CHECK(w.loop != NULL);
    sendq_thread_init(w.loop);
    for (int i = 0; i < 2; i++) {
        listen_fd[i] = backend_listen(&ports[i]);
        ev_io_init(&listen_io[i], accept_cb, listen_fd[i], EV_READ);
        ev_io_start(w.loop, &listen_io[i]);
    }
    for (int i = 0; i < 4; i++) {
        struct config_errors errs = {0};
        int n = snprintf(text, sizeof text, configs[i], ports[0], ports[1]);
        CHECK(n > 0 && (size_t)n < sizeof text);
        struct config *cfg = config_parse("fuzz.conf", text, (size_t)n, &errs);
        for (size_t k = 0; k < errs.n; k++)
            fprintf(stderr, "fuzz_h2_frames: config %d: %s\n", i, errs.msgs[k]);
        CHECK(cfg != NULL);
        config_errors_clear(&errs);
        CHECK((runtimes[i] = runtime_build(cfg, NULL)) != NULL);
    }
    ev_idle_init(&quiet_watcher, on_quiet);
    ev_set_priority(&quiet_watcher, EV_MINPRI);
    ev_idle_start(w.loop, &quiet_watcher);
}

/* Nothing of the connection is left once it is gone. */
static void check_all_gone(uint64_t h2_before, uint64_t streams_before)
{
    CHECK(w.conns == NULL && w.nconns == 0 && w.nidle == 0);
    CHECK(txn_live_count() == 0);
    CHECK(atomic_load(&metrics.connections_http2) == h2_before);
    CHECK(atomic_load(&metrics.h2_streams_active) == streams_before);
    for (int i = 0; i < 4; i++)
        for (size_t p = 0; p < runtimes[i]->npools; p++)
            for (size_t s = 0; s < runtimes[i]->pools[p].nservers; s++)
                CHECK(atomic_load(&runtimes[i]->pools[p].servers[s]->active) == 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 2)
        return 0;
    setup_once();
    uint8_t mode = data[0];
    const uint8_t *in = data + 2;
    size_t in_len = size - 2;

    /* The byte stream: the preface and SETTINGS first unless it has them. */
    int has_preface = in_len >= PREFACE_LEN && memcmp(in, preface, PREFACE_LEN) == 0;
    size_t extra = has_preface ? 0 : PREFACE_LEN + sizeof empty_settings;
    uint8_t *stream = malloc(in_len + extra);
    CHECK(stream != NULL);
    if (!has_preface) {
        memcpy(stream, preface, PREFACE_LEN);
        memcpy(stream + PREFACE_LEN, empty_settings, sizeof empty_settings);
    }
    memcpy(stream + extra, in, in_len);

    cur_behaviour = mode & 3;
    cur_body = body_sizes[data[1] >> 6];
    cur_seed = data[1];
    w.rt = runtimes[(mode >> 2) & 3];
    w.stopping = 0;
    client_view_reset();
    uint64_t h2_before = atomic_load(&metrics.connections_http2);
    uint64_t streams_before = atomic_load(&metrics.h2_streams_active);

    int sv[2];
    CHECK(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, sv) == 0);
    struct client cl = {
        .fd = sv[1],
        .p = stream,
        .len = in_len + extra,
        .rng = 0x01000193u * (uint32_t)(data[1] + 1),
        .oneshot = (mode & 0x80) != 0,
        .reads = (mode & 0x40) == 0,
    };
    if (!cl.reads) {
        int small = 4096;
        setsockopt(sv[0], SOL_SOCKET, SO_SNDBUF, &small, sizeof small);
    }
    struct sockaddr_in peer = {.sin_family = AF_INET, .sin_port = htons(40000)};
    peer.sin_addr.s_addr = htonl(0xc0000201); /* 192.0.2.1 */
    struct listen_bind bind = {.fd = -1, .address = "127.0.0.1:1", .proto = &h1_proto};
    struct conn *c = conn_new(&w, &bind, sv[0], (struct sockaddr *)&peer, sizeof peer, on_conn_closed);
    CHECK(c != NULL);
    worker_conn_register(&w, c);
    conn_start(c);

    unsigned rounds = 0;
    /* A graceful stop (or a reload) half-way: what worker.c's begin_stop does. */
    cl.limit = (mode & 0x20) ? cl.len / 2 : cl.len;
    while (rounds < MAX_ROUNDS && w.conns) {
        if (cl.sent >= cl.limit) {
            if (cl.limit == cl.len)
                break;
            cl.limit = cl.len;
            half_way_event((mode >> 2) & 3);
            settle(&cl, &rounds);
            continue;
        }
        if (!client_send(&cl)) {
            settle(&cl, &rounds);
            if (!client_send(&cl))
                break; /* the proxy takes no more */
        }
        settle(&cl, &rounds);
    }
    settle(&cl, &rounds);
    if (mode & 0x10) {
        static const int64_t steps_ms[] = {1100, 10000, 20000, 31000, 61000};
        for (size_t i = 0; i < sizeof steps_ms / sizeof steps_ms[0] && w.conns; i++) {
            atomic_fetch_add(&clock_shift_ns, steps_ms[i] * 1000000);
            settle(&cl, &rounds);
        }
    }
    /* A client that did not read reads now, then goes away. */
    cl.reads = 1;
    client_read(&cl);
    settle(&cl, &rounds);
    close(sv[1]);
    cl.closed = 1;
    settle(&cl, &rounds);
    while (w.conns)
        conn_free(w.conns); /* still open (a stream waiting on its server): as a worker's exit does */
    for (int i = 0; i < BACKEND_CONNS; i++)
        if (bconns[i])
            bconn_close(bconns[i]);
    settle(&cl, &rounds);
    for (int i = 0; i < 4; i++)
        upstream_close_all_idle(&w, runtimes[i]);
    check_all_gone(h2_before, streams_before);
    atomic_store(&runtimes[2]->pools[0].servers[0]->state, SRV_UP);
    free(stream);
    return 0;
}
