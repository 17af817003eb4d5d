/*
 * rehearse_client: keep-alive HTTP/1.1 client connections for the
 * rehearsal (see rehearse_client.h).
 *
 * Responses are framed with the project's own parser (http.h): the head
 * is collected in the connection's buffer, then llhttp frames the body,
 * which is counted and dropped.  One request at a time per connection (no
 * pipelining): that is how browsers and most clients talk to a proxy.
 */
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "clock.h"
#include "http.h"
#include "rehearse_client.h"

#define RH_HEAD_MAX 8192       /* a head's room in each connection */
#define RH_HEAD_LARGE 65536    /* the largest taken, in a buffer of its own (the proxy's limit response-header-size goes to 64k) */
#define RH_FIELDS_MAX 128
/* Handshakes in flight at once.  Past it, requests wait for a connection
 * rather than start a storm of connects that a struggling server (or its
 * accept queue) answers slower still. */
#define RH_CONNECTING_MAX 256

enum { RC_CONNECTING, RC_IDLE, RC_BUSY };

struct rh_conn {
    ev_io io;
    struct rh_client *c;
    int fd, state;
    unsigned slot, idle_slot;
    struct rh_req req;
    size_t wrote;
    unsigned served;         /* responses so far: a reused connection */
    unsigned got_bytes : 1;  /* some of the current response arrived */
    unsigned head_done : 1;
    unsigned to_eof : 1;     /* the body ends when the server closes */
    unsigned keep : 1;       /* the response allows another request */
    unsigned writing : 1;    /* EV_WRITE is on */
    unsigned warm : 1;       /* opened ahead, no request yet */
    int status;
    struct http_msg msg;
    size_t hlen, scanned;
    char *head;              /* buf, or a larger one for heads over RH_HEAD_MAX */
    size_t head_cap;
    char buf[RH_HEAD_MAX];
};

static struct http_field scratch_fields[RH_FIELDS_MAX];

uint64_t rh_now_ns(void)
{
    return now_ns();
}

static void conn_cb(struct ev_loop *loop, ev_io *w, int revents);
static void dispatch(struct rh_client *c, struct rh_req req);

int rh_client_init(struct rh_client *c, struct ev_loop *loop, const struct rh_opts *o,
                   const struct rh_entry *entries, int nentries, unsigned max_conns)
{
    memset(c, 0, sizeof *c);
    c->loop = loop;
    c->o = o;
    c->entries = entries;
    c->nentries = nentries;
    for (int i = 0; i < nentries; i++)
        c->weight_total += entries[i].weight;
    c->rng = 0x9e3779b97f4a7c15ull; /* fixed: the same mix on every run */
    c->timeout_ns = o->timeout_ms * 1000000ull;
    c->max_conns = max_conns;
    c->all = calloc(max_conns, sizeof *c->all);
    c->idle = calloc(max_conns, sizeof *c->idle);
    c->wq_cap = 1024;
    c->waitq = malloc(c->wq_cap * sizeof *c->waitq);
    return c->all && c->idle && c->waitq ? 0 : -1;
}

static uint32_t pick_entry(struct rh_client *c)
{
    if (c->nentries == 1)
        return 0;
    /* xorshift64: cheap, and deterministic for a reproducible mix. */
    c->rng ^= c->rng << 13;
    c->rng ^= c->rng >> 7;
    c->rng ^= c->rng << 17;
    uint64_t r = c->rng % c->weight_total;
    for (int i = 0; i < c->nentries; i++) {
        if (r < c->entries[i].weight)
            return (uint32_t)i;
        r -= c->entries[i].weight;
    }
    return 0;
}

/* ---- the wait queue ------------------------------------------------------------ */

static int wq_push(struct rh_client *c, struct rh_req r)
{
    if (c->wq_len == c->wq_cap) {
        struct rh_req *n = malloc(2 * c->wq_cap * sizeof *n);
        if (!n)
            return -1;
        for (size_t i = 0; i < c->wq_len; i++)
            n[i] = c->waitq[(c->wq_head + i) % c->wq_cap];
        free(c->waitq);
        c->waitq = n;
        c->wq_head = 0;
        c->wq_cap *= 2;
    }
    c->waitq[(c->wq_head + c->wq_len++) % c->wq_cap] = r;
    return 0;
}

static struct rh_req wq_pop(struct rh_client *c)
{
    struct rh_req r = c->waitq[c->wq_head];
    c->wq_head = (c->wq_head + 1) % c->wq_cap;
    c->wq_len--;
    return r;
}

/* ---- outcomes ------------------------------------------------------------------- */

static void req_error(struct rh_client *c, int kind)
{
    c->acc->err[kind]++;
    c->acc->errors++;
    c->acc->done++;
    /* A request that timed out took --timeout at least: left out of the
     * latencies, a step whose slow requests all timed out showed the fast
     * ones' p99 (and one where all did, 0 ms). */
    if (kind == RH_ERR_TIMEOUT)
        rh_hist_record(&c->acc->lat, c->timeout_ns / 1000);
}

static void req_answered(struct rh_client *c, const struct rh_req *r, int status, uint64_t now)
{
    rh_hist_record(&c->acc->lat, now > r->due_ns ? (now - r->due_ns) / 1000 : 0);
    c->acc->done++;
    if (status >= 500) {
        c->acc->err[RH_ERR_5XX]++;
        c->acc->errors++;
    } else if (status >= 400) {
        c->acc->err[RH_ERR_4XX]++;
        c->acc->errors++;
    }
}

/* ---- connections ------------------------------------------------------------------ */

static void idle_remove(struct rh_client *c, struct rh_conn *k)
{
    struct rh_conn *last = c->idle[--c->nidle];
    c->idle[k->idle_slot] = last;
    last->idle_slot = k->idle_slot;
}

static void conn_close(struct rh_conn *k)
{
    struct rh_client *c = k->c;
    if (k->state == RC_IDLE)
        idle_remove(c, k);
    if (k->state == RC_CONNECTING)
        c->nconnecting--;
    ev_io_stop(c->loop, &k->io);
    close(k->fd);
    struct rh_conn *last = c->all[--c->nconns];
    c->all[k->slot] = last;
    last->slot = k->slot;
    if (k->head != k->buf)
        free(k->head);
    free(k);
}

static void conn_events(struct rh_conn *k, int writing)
{
    if (k->writing == (unsigned)writing)
        return;
    k->writing = (unsigned)writing;
    ev_io_stop(k->c->loop, &k->io);
    ev_io_set(&k->io, k->fd, EV_READ | (writing ? EV_WRITE : 0));
    ev_io_start(k->c->loop, &k->io);
}

static struct rh_conn *conn_open(struct rh_client *c)
{
    const struct rh_opts *o = c->o;
    int fd = socket(o->addr.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return NULL;
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    if (connect(fd, (const struct sockaddr *)&o->addr, o->addr_len) < 0 && errno != EINPROGRESS) {
        close(fd);
        return NULL;
    }
    struct rh_conn *k = malloc(sizeof *k);
    if (!k) {
        close(fd);
        return NULL;
    }
    memset(k, 0, offsetof(struct rh_conn, buf));
    k->c = c;
    k->fd = fd;
    k->head = k->buf;
    k->head_cap = sizeof k->buf;
    k->state = RC_CONNECTING;
    c->nconnecting++;
    k->slot = c->nconns;
    c->all[c->nconns++] = k;
    k->writing = 1;
    ev_io_init(&k->io, conn_cb, fd, EV_READ | EV_WRITE);
    ev_io_start(c->loop, &k->io);
    return k;
}

/* Serves waiting requests while a connection is free or may be opened. */
static int may_open(const struct rh_client *c)
{
    return c->nconns < c->max_conns && c->nconnecting < RH_CONNECTING_MAX;
}

static void pump(struct rh_client *c)
{
    while (c->wq_len && (c->nidle || may_open(c)))
        dispatch(c, wq_pop(c));
}

static void send_more(struct rh_conn *k)
{
    const struct rh_entry *e = &k->c->entries[k->req.entry];
    while (k->wrote < e->req_len) {
        ssize_t n = write(k->fd, e->req + k->wrote, e->req_len - k->wrote);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && errno == EAGAIN) {
            conn_events(k, 1);
            return;
        }
        if (n < 0) {
            /* A kept connection the server closed meanwhile: send again. */
            struct rh_client *c = k->c;
            struct rh_req r = k->req;
            int again = k->served && !r.retried;
            conn_close(k);
            if (again) {
                r.retried = 1;
                c->acc->retried++;
                dispatch(c, r);
            } else {
                req_error(c, RH_ERR_CLOSED);
                pump(c);
            }
            return;
        }
        k->wrote += (size_t)n;
    }
    conn_events(k, 0);
}

static void start_request(struct rh_conn *k, struct rh_req r)
{
    struct rh_client *c = k->c;
    uint64_t now = rh_now_ns();
    k->req = r;
    k->state = RC_BUSY;
    k->wrote = 0;
    k->got_bytes = k->head_done = k->to_eof = k->keep = 0;
    k->hlen = k->scanned = 0;
    if (!r.retried) {
        c->acc->sent++;
        if (now < c->acc->window_end_ns)
            c->acc->sent_in_window++;
    }
    send_more(k);
}

static void dispatch(struct rh_client *c, struct rh_req r)
{
    if (c->nidle) {
        struct rh_conn *k = c->idle[--c->nidle];
        start_request(k, r);
        return;
    }
    if (may_open(c)) {
        struct rh_conn *k = conn_open(c);
        if (!k) {
            req_error(c, RH_ERR_CONNECT);
            return;
        }
        k->req = r;
        return;
    }
    c->acc->conn_waits += r.retried ? 0 : 1;
    if (wq_push(c, r) < 0)
        req_error(c, RH_ERR_CONNECT);
}

void rh_client_issue(struct rh_client *c, uint64_t due_ns)
{
    struct rh_req r = { .due_ns = due_ns, .entry = pick_entry(c), .retried = 0 };
    /* The generator's own lateness, apart from any wait for a connection:
     * what says whether it kept to the schedule. */
    uint64_t now = rh_now_ns();
    rh_hist_record(&c->acc->lag, now > due_ns ? (now - due_ns) / 1000 : 0);
    c->acc->issued++;
    dispatch(c, r);
}

void rh_client_preconnect(struct rh_client *c, unsigned n)
{
    while (n-- && c->nconns < c->max_conns) {
        struct rh_conn *k = conn_open(c);
        if (!k)
            return;
        k->warm = 1;
    }
}

unsigned rh_client_connecting(const struct rh_client *c)
{
    return c->nconnecting;
}

/* The response is complete: count it, then reuse or close the connection. */
static void finish(struct rh_conn *k, int reusable)
{
    struct rh_client *c = k->c;
    req_answered(c, &k->req, k->status, rh_now_ns());
    k->served++;
    if (reusable && k->keep && !k->to_eof) {
        k->state = RC_IDLE;
        if (c->wq_len) {
            start_request(k, wq_pop(c));
            return;
        }
        k->idle_slot = c->nidle;
        c->idle[c->nidle++] = k;
        return;
    }
    conn_close(k);
    pump(c);
}

/* The connection failed under a request: retry once if it was a kept
 * connection that closed before any answer (the keep-alive race every
 * client meets), else count the error. */
static void conn_failed(struct rh_conn *k, int kind)
{
    struct rh_client *c = k->c;
    struct rh_req r = k->req;
    int state = k->state;
    int again = state == RC_BUSY && k->served && !k->got_bytes && !r.retried;
    conn_close(k);
    if (state == RC_IDLE) {
        pump(c);
        return;
    }
    if (again) {
        r.retried = 1;
        c->acc->retried++;
        dispatch(c, r);
        return;
    }
    req_error(c, kind);
    pump(c);
}

/* Bytes after a parsed head: frame them; 1 when the message is complete,
 * 0 for more, -1 invalid.  *extra: bytes past the message's end. */
static int body_bytes(struct rh_conn *k, const char *p, size_t n, int *extra)
{
    size_t used = 0;
    *extra = 0;
    if (k->to_eof)
        return 0;
    enum http_body_status rc = http_msg_body(&k->msg, p, n, &used);
    if (rc < 0)
        return -1;
    if (rc == HTTP_BODY_DONE && used < n)
        *extra = 1;
    return rc;
}

/* A head is in buf[0..end): parse it and start on what follows. */
static int on_head(struct rh_conn *k, size_t end)
{
    struct http_head h = { .fields = scratch_fields, .max_fields = RH_FIELDS_MAX };
    int is_head = strcmp(k->c->entries[k->req.entry].method, "HEAD") == 0;
    if (http_parse_response(&k->msg, k->head, end, is_head, &h) < 0)
        return -1;
    size_t rest = k->hlen - end;
    if (h.status < 200 && h.status != 101) {
        /* An interim response: the real one follows. */
        memmove(k->head, k->head + end, rest);
        k->hlen = rest;
        k->scanned = 0;
        return 0;
    }
    k->head_done = 1;
    k->status = h.status;
    k->keep = h.keep_alive && h.status != 101;
    if (!h.has_body) {
        finish(k, rest == 0);
        return 1;
    }
    if (h.body_to_eof) {
        k->to_eof = 1;
        return 0;
    }
    int extra;
    int rc = body_bytes(k, k->head + end, rest, &extra);
    if (rc == 1)
        finish(k, !extra);
    return rc;
}

static void on_readable(struct rh_conn *k)
{
    char tmp[65536];
    for (;;) {
        if (!k->head_done && k->hlen == k->head_cap && k->head == k->buf) {
            /* A head past 8 KiB (cookies, a long CSP): room for 64 KiB. */
            char *large = malloc(RH_HEAD_LARGE);
            if (large) {
                memcpy(large, k->buf, k->hlen);
                k->head = large;
                k->head_cap = RH_HEAD_LARGE;
            }
        }
        char *dst = k->head_done ? tmp : k->head + k->hlen;
        size_t cap = k->head_done ? sizeof tmp : k->head_cap - k->hlen;
        if (cap == 0) {
            conn_failed(k, RH_ERR_BAD); /* a head larger than we take */
            return;
        }
        ssize_t n = read(k->fd, dst, cap);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && errno == EAGAIN)
            return;
        if (n <= 0) {
            /* A body delimited by the close ends at a close, not at a
             * reset (which cut it short). */
            if (n == 0 && k->state == RC_BUSY && k->head_done && k->to_eof) {
                finish(k, 0);
                return;
            }
            conn_failed(k, RH_ERR_CLOSED);
            return;
        }
        if (k->state != RC_BUSY) {
            conn_failed(k, RH_ERR_BAD); /* bytes nobody asked for */
            return;
        }
        k->got_bytes = 1;
        int rc, extra = 0;
        if (k->head_done) {
            rc = body_bytes(k, tmp, (size_t)n, &extra);
            if (rc == 1)
                finish(k, !extra);
        } else {
            k->hlen += (size_t)n;
            rc = 0;
            size_t end;
            while (rc == 0 && !k->head_done &&
                   (end = http_head_end(k->head, k->hlen, k->scanned)) > 0)
                rc = on_head(k, end);
            if (rc == 0 && !k->head_done)
                k->scanned = k->hlen;
        }
        if (rc < 0) {
            conn_failed(k, RH_ERR_BAD);
            return;
        }
        if (rc == 1)
            return; /* finished: k may be closed or serving the next request */
        if ((size_t)n < cap)
            return; /* drained: epoll (level-triggered) says when more comes */
    }
}

static void on_connected(struct rh_conn *k)
{
    int err = 0;
    socklen_t len = sizeof err;
    getsockopt(k->fd, SOL_SOCKET, SO_ERROR, &err, &len);
    struct rh_client *c = k->c;
    if (err && k->warm) {
        conn_close(k);
        return;
    }
    if (err) {
        conn_failed(k, RH_ERR_CONNECT);
        return;
    }
    c->nconnecting--;
    k->state = RC_BUSY; /* no longer connecting, whatever comes next */
    if (k->warm) {
        k->warm = 0;
        k->state = RC_IDLE;
        conn_events(k, 0);
        k->idle_slot = c->nidle;
        c->idle[c->nidle++] = k;
        pump(c);
        return;
    }
    start_request(k, k->req);
    pump(c); /* the connect slot it held may let a waiting request open one */
}

static void conn_cb(struct ev_loop *loop, ev_io *w, int revents)
{
    (void)loop;
    struct rh_conn *k = (struct rh_conn *)w;
    if (k->state == RC_CONNECTING) {
        if (revents & (EV_WRITE | EV_READ))
            on_connected(k);
        return;
    }
    if ((revents & EV_WRITE) && k->state == RC_BUSY && k->wrote < k->c->entries[k->req.entry].req_len) {
        send_more(k);
        return; /* readable data will be signalled again */
    }
    if (revents & EV_READ)
        on_readable(k);
}

uint64_t rh_client_outstanding(const struct rh_client *c)
{
    uint64_t n = c->wq_len;
    for (unsigned i = 0; i < c->nconns; i++)
        n += c->all[i]->state != RC_IDLE && !c->all[i]->warm;
    return n;
}

void rh_client_sweep(struct rh_client *c, uint64_t now_ns)
{
    while (c->wq_len && c->waitq[c->wq_head].due_ns + c->timeout_ns < now_ns) {
        wq_pop(c);
        req_error(c, RH_ERR_TIMEOUT);
    }
    for (unsigned i = 0; i < c->nconns;) {
        struct rh_conn *k = c->all[i];
        if (k->state != RC_IDLE && !k->warm && k->req.due_ns + c->timeout_ns < now_ns) {
            k->req.retried = 1; /* a timeout is not retried */
            k->served = 0;
            conn_failed(k, RH_ERR_TIMEOUT); /* k's slot now holds another */
            continue;
        }
        i++;
    }
}

void rh_client_free(struct rh_client *c)
{
    while (c->nconns)
        conn_close(c->all[c->nconns - 1]);
    free(c->all);
    free(c->idle);
    free(c->waitq);
}
