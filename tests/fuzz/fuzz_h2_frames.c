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
 *   data[1]  seed of the piece sizes; bits 6-7 also the body size; bit 5:
 *            the rest is a program of client operations (h2_fuzz_ops.c)
 *            rather than bytes, made into well-formed frames with marks
 *            between them (time passes, the proxy answers, the event of
 *            data[0] bit 5, which then comes where the program says)
 *
 * The rest is the byte stream; when it does not start with the client
 * preface, the preface and an empty SETTINGS frame are sent before it, so
 * that most inputs are frames.
 *
 * Deterministic: the harness owns the clock (clock_gettime and
 * gettimeofday below: libev's and now_ms's time moves only when the harness
 * says, in steps far longer than a run takes, so no timeout of the proxy's
 * fires by chance); the loop is run until it is quiet (an idle watcher runs
 * only in a round without another event) and loopback delivers each write
 * before the syscall returns.  Bounded: at most MAX_ROUNDS loop rounds per
 * input.  The access log goes to /dev/null (its code runs, its lines go
 * nowhere).  Besides the sanitizers, it aborts when an invariant breaks:
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
 *    in flight on a server, nothing still mapped (buf.c's buffers and
 *    slab.c's objects are mmap'ed pages LeakSanitizer does not see:
 *    counted here).
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
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "buf.h"
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

#include "h2_fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAX_ROUNDS 100000  /* loop rounds per input: bounds its time */
#define QUIET_ROUNDS 3     /* rounds without an event: the loop has nothing left to do */

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

/* ---- buffers ------------------------------------------------------------------------------------ */

/* The proxy's I/O buffers (buf.c) and its txns and server connections
 * (slab.c) live in pages mapped for themselves, which LeakSanitizer does
 * not see: the bytes mapped through mmap(2) and not yet unmapped are
 * counted here (slab.c trims its mappings: bytes, not calls), so that a
 * buffer or object a stream or connection forgets is found - with every
 * free list and spare slab given back first (drop_caches). */
static _Atomic long long mapped_bytes;

void *mmap(void *addr, size_t len, int prot, int flags, int fd, off_t off)
{
    void *p = (void *)syscall(SYS_mmap, addr, len, prot, flags, fd, off);
    if (p != MAP_FAILED)
        atomic_fetch_add(&mapped_bytes, (long long)len);
    return p;
}

int munmap(void *addr, size_t len)
{
    int rc = (int)syscall(SYS_munmap, addr, len);
    if (rc == 0)
        atomic_fetch_sub(&mapped_bytes, (long long)len);
    return rc;
}

static void drop_caches(void)
{
    h1_cache_clear(); /* the txn cache and spare slab, the splice pipes */
    proto_h2_cache_clear(); /* nghttp2's callbacks, the field list (and where streams have a slab, its spare) */
    upstream_cache_clear();
    buf_cache_clear();
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
    /* routing: a retry to the other server, sticky cookies (a fixed
     * secret: the same cookie in every run), a normalised path, a host
     * route */
    "listen 127.0.0.1:1\nnormalize-path on\nsticky secret fuzz-fixed-secret\n"
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

/* ---- the process's state: a worker of ours ---------------------------------------------------- */

static struct worker w;
static struct runtime *runtimes[4];
static ev_idle quiet_watcher;
static int quiet;

static void on_quiet(struct ev_loop *loop, ev_idle *i, int revents)
{
    (void)loop;
    (void)i;
    (void)revents;
    quiet = 1;
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
            view_got(buf, (size_t)n);
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
    view_verbose = getenv("FUZZ_H2_VERBOSE") != NULL;
    signal(SIGPIPE, SIG_IGN);
    setenv("PROXY_IO_URING", "0", 1);
    log_set_level(view_verbose ? LOG_DEBUG : LOG_ERROR);
    CHECK(access_log_open(view_verbose ? "stderr" : "/dev/null") == 0);
    memset(&w, 0, sizeof w);
    w.loop = ev_loop_new(EVFLAG_AUTO);
    w.conn_closed = on_conn_closed;
    CHECK(w.loop != NULL);
    sendq_thread_init(w.loop);
    backend_start(w.loop, ports);
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
static void check_all_gone(uint64_t h2_before, uint64_t streams_before, long long mapped_before)
{
    drop_caches();
    CHECK(atomic_load(&mapped_bytes) == mapped_before); /* no buffer, txn or server connection left behind */
    CHECK(w.conns == NULL && w.nconns == 0 && w.nidle == 0);
    CHECK(txn_live_count() == 0);
    CHECK(atomic_load(&metrics.connections_http2) == h2_before);
    CHECK(atomic_load(&metrics.h2_streams_active) == streams_before);
    for (int i = 0; i < 4; i++)
        for (size_t p = 0; p < runtimes[i]->npools; p++)
            for (size_t s = 0; s < runtimes[i]->pools[p].nservers; s++)
                CHECK(atomic_load(&runtimes[i]->pools[p].servers[s]->active) == 0);
}

/* The time steps after the input with data[0] bit 4: past the 1 s linger,
 * timeout client (10 s), timeout server (30 s), timeout keep-alive (60 s). */
static const unsigned end_steps_ms[] = {1100, 10000, 20000, 31000, 61000};

/* What the client does, from the input: the raw byte stream (preface and
 * SETTINGS first unless it has them) or the structured program; then the
 * mode byte's marks. */
static void make_program(const uint8_t *data, size_t size, struct h2_program *pr)
{
    uint8_t mode = data[0];
    const uint8_t *in = data + 2;
    size_t in_len = size - 2;
    int structured = (data[1] & 0x20) != 0;
    /* (a program's bytes are operations, whatever they look like) */
    int has_preface = !structured && in_len >= PREFACE_LEN && memcmp(in, preface, PREFACE_LEN) == 0;

    memset(pr, 0, sizeof *pr);
    pr->cap = 4096 + in_len;
    pr->bytes = malloc(pr->cap);
    CHECK(pr->bytes != NULL);
    if (!has_preface) {
        memcpy(pr->bytes, preface, PREFACE_LEN);
        memcpy(pr->bytes + PREFACE_LEN, empty_settings, sizeof empty_settings);
        pr->len = PREFACE_LEN + sizeof empty_settings;
    }
    if (structured) {
        CHECK(h2_ops_compile(in, in_len, pr) == 0);
    } else {
        memcpy(pr->bytes + pr->len, in, in_len);
        pr->len += in_len;
        if (mode & 0x20)
            pr->marks[pr->nmarks++] = (struct h2_mark){pr->len / 2, H2_MARK_EVENT, 0};
    }
    for (size_t i = 0; (mode & 0x10) && i < sizeof end_steps_ms / sizeof end_steps_ms[0]; i++)
        if (pr->nmarks < H2_MARKS_MAX)
            pr->marks[pr->nmarks++] = (struct h2_mark){pr->len, H2_MARK_TIME, end_steps_ms[i]};
}

/* A mark's action, once the bytes before it went. */
static void act(const struct h2_mark *m, int config)
{
    if (m->action == H2_MARK_TIME)
        atomic_fetch_add(&clock_shift_ns, (int64_t)m->arg * 1000000);
    else if (m->action == H2_MARK_EVENT)
        half_way_event(config);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 2)
        return 0;
    setup_once();
    uint8_t mode = data[0];

    struct h2_program pr;
    make_program(data, size, &pr);

    backend_set(mode & 3, body_sizes[data[1] >> 6], data[1]);
    w.rt = runtimes[(mode >> 2) & 3];
    w.stopping = 0;
    view_reset();
    uint64_t h2_before = atomic_load(&metrics.connections_http2);
    uint64_t streams_before = atomic_load(&metrics.h2_streams_active);
    drop_caches();
    long long mapped_before = atomic_load(&mapped_bytes);

    int sv[2];
    CHECK(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, sv) == 0);
    struct client cl = {
        .fd = sv[1],
        .p = pr.bytes,
        .len = pr.len,
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
    struct conn *c = conn_new(&w, &bind, sv[0], (struct sockaddr *)&peer, sizeof peer);
    CHECK(c != NULL);
    worker_conn_register(&w, c);
    conn_start(c);

    unsigned rounds = 0;
    int next_mark = 0;
    cl.limit = pr.nmarks ? pr.marks[0].at : cl.len;
    while (rounds < MAX_ROUNDS && w.conns) {
        if (cl.sent >= cl.limit) {
            /* the bytes before the next mark went (or could not): its action */
            if (next_mark == pr.nmarks)
                break;
            act(&pr.marks[next_mark++], (mode >> 2) & 3);
            cl.limit = next_mark < pr.nmarks ? pr.marks[next_mark].at : cl.len;
            settle(&cl, &rounds);
            continue;
        }
        if (!client_send(&cl)) {
            settle(&cl, &rounds);
            if (!client_send(&cl))
                cl.limit = cl.sent; /* the proxy takes no more: on to the marks */
        }
        settle(&cl, &rounds);
    }
    settle(&cl, &rounds);
    /* A client that did not read reads now, then goes away. */
    cl.reads = 1;
    client_read(&cl);
    settle(&cl, &rounds);
    close(sv[1]);
    cl.closed = 1;
    settle(&cl, &rounds);
    while (w.conns)
        conn_free(w.conns); /* still open (a stream waiting on its server): as a worker's exit does */
    backend_close_all();
    settle(&cl, &rounds);
    for (int i = 0; i < 4; i++)
        upstream_close_all_idle(&w, runtimes[i]);
    check_all_gone(h2_before, streams_before, mapped_before);
    atomic_store(&runtimes[2]->pools[0].servers[0]->state, SRV_UP);
    free(pr.bytes);
    return 0;
}
