/*
 * backend: a small HTTP/1.1 server for the proxy's tests and its demo.
 *
 * One thread, one libev loop, non-blocking sockets and a hand-written
 * request parser (the tests want a server whose behaviour is obvious, not a
 * second copy of the proxy's parser).  This file owns: listening, reading
 * requests (Content-Length and chunked bodies, pipelining, 100-continue),
 * the canned endpoints and the query knobs below, and closing idle
 * keep-alive connections on purpose to reproduce the keep-alive race.
 *
 *   backend -p PORT [-a ADDR] [-n NAME] [-i IDLE_CLOSE_MS] [-f FAILFILE] [-q]
 *
 *   /healthz      200 "ok\n"; 503 while FAILFILE exists
 *   /echo         200, body = the request head bytes as received
 *   /ws           with Upgrade: websocket: 101, then echoes every byte
 *   anything else 200 "NAME\n"
 *   query knobs   status=N delay=MS size=BYTES chunked=1 close=1
 *                 hints=1     a 103 Early Hints (two Link fields) as soon
 *                             as the head is read, before any 100 Continue
 *                 trailers=1  with chunked=1: trailer fields after the
 *                             last chunk (Grpc-Status, X-Checksum, and a
 *                             Keep-Alive and a Content-Length that must
 *                             not trail, and X-Backend-Private, which
 *                             the head's Connection field names)
 *
 * Every response carries X-Server: NAME, X-Conn-Seq (the request's number
 * on its TCP connection, so tests can see connection reuse) and
 * X-Body-Length (request body bytes read); a request whose chunked body
 * had trailer fields gets them back in X-Request-Trailers ("name: value"
 * joined with " | ").
 */

#include <ev.h>

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#define IN_INIT      4096
#define IN_MAX       (64 * 1024)    /* largest request head we accept */
#define GEN_CHUNK    (16 * 1024)    /* generated bodies go out in these */
#define TUNNEL_HIGH  (256 * 1024)   /* stop reading a tunnel beyond this */
#define LINGER_S     2.0            /* wait for the peer's FIN after ours */
#define TARGET_MAX   256

/* Where a connection is in its request/response cycle. */
enum conn_state {
    ST_HEAD,    /* reading a request head */
    ST_BODY,    /* reading (and discarding) the request body */
    ST_DELAY,   /* request read, ?delay timer running */
    ST_WRITE,   /* sending the response */
    ST_TUNNEL,  /* after 101: echo everything */
    ST_LINGER,  /* our side shut down; drain until the peer closes */
};

enum chunk_state { CH_SIZE, CH_DATA, CH_DATA_END, CH_TRAILER };

enum endpoint { EP_NAME, EP_HEALTHZ, EP_ECHO, EP_WS };

struct request {
    char method[16];
    char target[TARGET_MAX];
    enum endpoint endpoint;
    int http10, keep_alive, is_head;
    int chunked, expect_continue, upgrade_ws, conn_upgrade;
    long long content_length;       /* -1: none */
    /* query knobs */
    int status;                     /* 0: default */
    long delay_ms;
    long long size;                 /* -1: default body */
    int resp_chunked, resp_close;
    int hints, resp_trailers;
    /* body reading */
    enum chunk_state ch;
    unsigned long long body_left, chunk_left, body_read;
    char *echo;                     /* /echo: copy of the head */
    size_t echo_len;
    char trailers[512];             /* the request's trailer lines, " | " between */
    size_t trailers_len;
};

/* Outgoing bytes: data[off..len) is still to be written. */
struct outbuf {
    char *data;
    size_t len, off, cap;
};

struct conn {
    int fd;
    ev_io rio, wio;
    ev_timer timer;                 /* idle close, ?delay, or linger */
    enum conn_state state;
    char *in;
    size_t in_len, in_cap;
    struct outbuf out;
    unsigned long long gen_left;    /* generated body bytes still to queue */
    int gen_chunked;
    int gen_trailers;               /* ?trailers=1: the last chunk carries trailer fields */
    int close_after;
    unsigned seq;
    struct request req;
};

static struct {
    const char *addr, *name, *fail_file;
    int port, quiet;
    double idle_s;
} opt = { "127.0.0.1", "backend", NULL, 0, 0, 0.0 };

static struct ev_loop *loop;
static ev_io accept_watcher;
static ev_timer accept_retry;
static unsigned long long served;
static char name_body[256];
static char pattern[GEN_CHUNK];

static int conn_advance(struct conn *c);
static int last_chunk(struct conn *c);

/* ---- small helpers ------------------------------------------------------ */

static void die(const char *what)
{
    fprintf(stderr, "backend: %s: %s\n", what, strerror(errno));
    exit(1);
}

static int out_append(struct outbuf *o, const void *p, size_t n)
{
    if (o->off == o->len)
        o->off = o->len = 0;
    if (o->len + n > o->cap) {
        size_t cap = o->cap ? o->cap : 1024;
        while (cap < o->len + n)
            cap *= 2;
        char *d = realloc(o->data, cap);
        if (!d)
            return -1;
        o->data = d;
        o->cap = cap;
    }
    memcpy(o->data + o->len, p, n);
    o->len += n;
    return 0;
}

static int out_printf(struct outbuf *o, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static int out_printf(struct outbuf *o, const char *fmt, ...)
{
    char tmp[1024];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(tmp, sizeof tmp, fmt, ap);
    va_end(ap);
    if (n < 0 || (size_t)n >= sizeof tmp)
        return -1;
    return out_append(o, tmp, (size_t)n);
}

static size_t out_pending(const struct outbuf *o)
{
    return o->len - o->off;
}

/* Case-insensitive search for TOKEN in a comma-separated header value. */
static int has_token(const char *v, size_t n, const char *token)
{
    size_t tl = strlen(token);
    size_t i = 0;
    while (i < n) {
        while (i < n && (v[i] == ' ' || v[i] == '\t' || v[i] == ','))
            i++;
        size_t start = i;
        while (i < n && v[i] != ',')
            i++;
        size_t end = i;
        while (end > start && (v[end - 1] == ' ' || v[end - 1] == '\t'))
            end--;
        if (end - start == tl && strncasecmp(v + start, token, tl) == 0)
            return 1;
    }
    return 0;
}

static const char *reason(int status)
{
    switch (status) {
    case 100: return "Continue";
    case 101: return "Switching Protocols";
    case 200: return "OK";
    case 201: return "Created";
    case 204: return "No Content";
    case 301: return "Moved Permanently";
    case 302: return "Found";
    case 304: return "Not Modified";
    case 400: return "Bad Request";
    case 401: return "Unauthorized";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 408: return "Request Timeout";
    case 413: return "Payload Too Large";
    case 431: return "Request Header Fields Too Large";
    case 500: return "Internal Server Error";
    case 502: return "Bad Gateway";
    case 503: return "Service Unavailable";
    case 504: return "Gateway Timeout";
    default:  return "Status";
    }
}

/* ---- connection life ---------------------------------------------------- */

static void conn_close(struct conn *c)
{
    ev_io_stop(loop, &c->rio);
    ev_io_stop(loop, &c->wio);
    ev_timer_stop(loop, &c->timer);
    close(c->fd);
    free(c->in);
    free(c->out.data);
    free(c->req.echo);
    free(c);
}

static void set_reading(struct conn *c, int on)
{
    if (on)
        ev_io_start(loop, &c->rio);
    else
        ev_io_stop(loop, &c->rio);
}

static void timer_arm(struct conn *c, double secs)
{
    ev_timer_stop(loop, &c->timer);
    ev_timer_set(&c->timer, secs, 0.0);
    ev_timer_start(loop, &c->timer);
}

static void consume(struct conn *c, size_t n)
{
    memmove(c->in, c->in + n, c->in_len - n);
    c->in_len -= n;
}

/* Queue the next piece of a generated (?size=) body. */
static int gen_refill(struct conn *c)
{
    size_t n = c->gen_left < GEN_CHUNK ? (size_t)c->gen_left : GEN_CHUNK;
    if (c->gen_chunked && out_printf(&c->out, "%zx\r\n", n) < 0)
        return -1;
    if (out_append(&c->out, pattern, n) < 0)
        return -1;
    c->gen_left -= n;
    if (c->gen_chunked && (out_append(&c->out, "\r\n", 2) < 0 || (c->gen_left == 0 && last_chunk(c) < 0)))
        return -1;
    return 0;
}

/* Write what is queued (generating body bytes as they are needed).
 * Returns 1 when everything went out, 0 when the socket is full (the write
 * watcher will call back), -1 when the connection was closed. */
static int conn_flush(struct conn *c)
{
    for (;;) {
        if (out_pending(&c->out) == 0) {
            if (c->gen_left == 0)
                break;
            if (gen_refill(c) < 0) {
                conn_close(c);
                return -1;
            }
        }
        ssize_t n = write(c->fd, c->out.data + c->out.off, out_pending(&c->out));
        if (n < 0) {
            if (errno == EINTR)
                continue;
            if (errno == EAGAIN || errno == EWOULDBLOCK) {
                ev_io_start(loop, &c->wio);
                return 0;
            }
            conn_close(c);
            return -1;
        }
        c->out.off += (size_t)n;
    }
    ev_io_stop(loop, &c->wio);
    return 1;
}

/* Half-close and wait for the peer's FIN: a plain close() with unread bytes
 * would send a RST that can destroy the response we just sent. */
static int start_linger(struct conn *c)
{
    shutdown(c->fd, SHUT_WR);
    c->state = ST_LINGER;
    c->in_len = 0;
    set_reading(c, 1);
    timer_arm(c, LINGER_S);
    return 0;
}

/* ---- responses ---------------------------------------------------------- */

/* The end of a chunked body, with ?trailers=1 its trailer section: two
 * fields a client should get, three a proxy must drop (the last one named
 * by the head's Connection field). */
static int last_chunk(struct conn *c)
{
    if (!c->gen_trailers)
        return out_append(&c->out, "0\r\n\r\n", 5);
    return out_printf(&c->out, "0\r\nGrpc-Status: 0\r\nX-Checksum: %s-sum\r\nKeep-Alive: timeout=5\r\n"
                               "Content-Length: 12\r\nX-Backend-Private: secret\r\n\r\n", opt.name);
}

static void log_request(const struct conn *c, int status)
{
    served++;
    if (!opt.quiet)
        printf("%s %s %s %d\n", opt.name, c->req.method, c->req.target, status);
}

/* A response the backend makes on a broken request; always closes. */
static int send_error(struct conn *c, int status)
{
    const char *r = reason(status);
    c->close_after = 1;
    c->gen_left = 0;
    if (out_printf(&c->out,
                   "HTTP/1.1 %d %s\r\nX-Server: %s\r\nContent-Type: text/plain\r\n"
                   "Content-Length: %zu\r\nConnection: close\r\n\r\n%s\n",
                   status, r, opt.name, strlen(r) + 1, r) < 0) {
        conn_close(c);
        return -1;
    }
    c->state = ST_WRITE;
    set_reading(c, 0);
    return 1;
}

static int build_response(struct conn *c)
{
    struct request *r = &c->req;
    const char *body = name_body;
    size_t blen = strlen(name_body);
    int status = 200;

    if (r->endpoint == EP_HEALTHZ) {
        int failing = opt.fail_file && access(opt.fail_file, F_OK) == 0;
        status = failing ? 503 : 200;
        body = failing ? "failing\n" : "ok\n";
        blen = strlen(body);
    } else if (r->endpoint == EP_ECHO) {
        body = r->echo;
        blen = r->echo_len;
    }
    if (r->status)
        status = r->status;
    int gen = r->endpoint == EP_NAME && r->size >= 0;
    int no_body = status < 200 || status == 204 || status == 304;
    int close_it = !r->keep_alive || r->resp_close;
    int chunked = r->resp_chunked && !r->resp_close && !no_body;
    unsigned long long total = gen ? (unsigned long long)r->size : blen;
    struct outbuf *o = &c->out;

    log_request(c, status);
    int e = out_printf(o, "HTTP/1.1 %d %s\r\nX-Server: %s\r\nX-Conn-Seq: %u\r\n"
                       "X-Body-Length: %llu\r\nContent-Type: text/plain\r\n",
                       status, reason(status), opt.name, c->seq, r->body_read);
    if (r->trailers_len)
        e |= out_printf(o, "X-Request-Trailers: %.*s\r\n", (int)r->trailers_len, r->trailers);
    if (chunked && r->resp_trailers)
        e |= out_printf(o, "Trailer: Grpc-Status, X-Checksum\r\nConnection: X-Backend-Private\r\n");
    if (no_body || r->resp_close)
        ;   /* no framing header: none needed, or close-delimited */
    else if (chunked)
        e |= out_printf(o, "Transfer-Encoding: chunked\r\n");
    else
        e |= out_printf(o, "Content-Length: %llu\r\n", total);
    if (close_it)
        e |= out_printf(o, "Connection: close\r\n");
    else if (r->http10)
        e |= out_printf(o, "Connection: keep-alive\r\n");
    e |= out_append(o, "\r\n", 2);

    c->gen_left = 0;
    c->gen_chunked = chunked;
    c->gen_trailers = chunked && r->resp_trailers;
    if (!no_body && !r->is_head) {
        if (gen && total > 0)
            c->gen_left = total;
        else if (chunked && total > 0)
            e |= out_printf(o, "%zx\r\n", blen) | out_append(o, body, blen) | out_append(o, "\r\n", 2) |
                 last_chunk(c);
        else if (chunked)
            e |= last_chunk(c);
        else
            e |= out_append(o, body, blen);
    }
    if (e) {
        conn_close(c);
        return -1;
    }
    c->close_after = close_it;
    c->state = ST_WRITE;
    return 1;
}

/* The 101 answer to a WebSocket upgrade; the connection becomes an echo. */
static int start_tunnel(struct conn *c)
{
    log_request(c, 101);
    if (out_printf(&c->out, "HTTP/1.1 101 Switching Protocols\r\nX-Server: %s\r\n"
                   "Upgrade: websocket\r\nConnection: Upgrade\r\n\r\n",
                   opt.name) < 0) {
        conn_close(c);
        return -1;
    }
    c->state = ST_TUNNEL;
    return 1;
}

/* The whole request is in: answer now, or after ?delay. */
static int request_complete(struct conn *c)
{
    struct request *r = &c->req;
    set_reading(c, 0);
    if (r->endpoint == EP_WS && r->upgrade_ws && r->conn_upgrade)
        return start_tunnel(c);
    if (r->delay_ms > 0) {
        c->state = ST_DELAY;
        timer_arm(c, (double)r->delay_ms / 1000.0);
        return 0;
    }
    return build_response(c);
}

static int response_done(struct conn *c)
{
    free(c->req.echo);
    memset(&c->req, 0, sizeof c->req);
    if (c->close_after)
        return start_linger(c);
    c->state = ST_HEAD;
    return 1;
}

/* ---- request parsing ---------------------------------------------------- */

static void parse_query(struct request *r, const char *q, size_t n)
{
    while (n > 0) {
        const char *amp = memchr(q, '&', n);
        size_t len = amp ? (size_t)(amp - q) : n;
        char kv[64];
        size_t kl = len < sizeof kv - 1 ? len : sizeof kv - 1;
        memcpy(kv, q, kl);
        kv[kl] = '\0';
        char *eq = strchr(kv, '=');
        if (eq) {
            *eq++ = '\0';
            if (strcmp(kv, "status") == 0) {
                long s = strtol(eq, NULL, 10);
                if (s >= 100 && s <= 999)
                    r->status = (int)s;
            } else if (strcmp(kv, "delay") == 0) {
                r->delay_ms = strtol(eq, NULL, 10);
            } else if (strcmp(kv, "size") == 0) {
                r->size = strtoll(eq, NULL, 10);
            } else if (strcmp(kv, "chunked") == 0) {
                r->resp_chunked = atoi(eq) != 0;
            } else if (strcmp(kv, "close") == 0) {
                r->resp_close = atoi(eq) != 0;
            } else if (strcmp(kv, "hints") == 0) {
                r->hints = atoi(eq) != 0;
            } else if (strcmp(kv, "trailers") == 0) {
                r->resp_trailers = atoi(eq) != 0;
            }
        }
        if (!amp)
            break;
        n -= len + 1;
        q = amp + 1;
    }
}

/* "METHOD TARGET HTTP/1.x" */
static int parse_request_line(struct request *r, const char *p, size_t n)
{
    const char *sp1 = memchr(p, ' ', n);
    if (!sp1 || sp1 == p || (size_t)(sp1 - p) >= sizeof r->method)
        return -1;
    const char *t = sp1 + 1;
    const char *sp2 = memchr(t, ' ', n - (size_t)(t - p));
    if (!sp2 || sp2 == t)
        return -1;
    size_t vlen = n - (size_t)(sp2 + 1 - p);
    if (vlen != 8 || strncmp(sp2 + 1, "HTTP/1.", 7) != 0 ||
        (sp2[8] != '0' && sp2[8] != '1'))
        return -1;
    r->http10 = sp2[8] == '0';
    memcpy(r->method, p, (size_t)(sp1 - p));
    r->method[sp1 - p] = '\0';
    r->is_head = strcmp(r->method, "HEAD") == 0;

    size_t tlen = (size_t)(sp2 - t);
    size_t copy = tlen < TARGET_MAX - 1 ? tlen : TARGET_MAX - 1;
    memcpy(r->target, t, copy);
    r->target[copy] = '\0';
    const char *q = memchr(t, '?', tlen);
    size_t plen = q ? (size_t)(q - t) : tlen;
    if (q)
        parse_query(r, q + 1, tlen - plen - 1);
    if (plen == 8 && memcmp(t, "/healthz", 8) == 0)
        r->endpoint = EP_HEALTHZ;
    else if (plen == 5 && memcmp(t, "/echo", 5) == 0)
        r->endpoint = EP_ECHO;
    else if (plen == 3 && memcmp(t, "/ws", 3) == 0)
        r->endpoint = EP_WS;
    return 0;
}

static int parse_header(struct request *r, const char *p, size_t n, int *conn_close_tok,
                        int *conn_ka_tok)
{
    if (p[0] == ' ' || p[0] == '\t')
        return -1;  /* obs-fold */
    const char *colon = memchr(p, ':', n);
    if (!colon || colon == p)
        return -1;
    size_t nl = (size_t)(colon - p);
    const char *v = colon + 1;
    size_t vl = n - nl - 1;
    while (vl && (*v == ' ' || *v == '\t'))
        v++, vl--;
    while (vl && (v[vl - 1] == ' ' || v[vl - 1] == '\t'))
        vl--;

#define IS(name) (nl == sizeof(name) - 1 && strncasecmp(p, name, nl) == 0)
    if (IS("content-length")) {
        char num[32];
        if (vl == 0 || vl >= sizeof num)
            return -1;
        memcpy(num, v, vl);
        num[vl] = '\0';
        for (size_t i = 0; i < vl; i++)
            if (!isdigit((unsigned char)num[i]))
                return -1;
        long long cl = strtoll(num, NULL, 10);
        if (r->content_length >= 0 && r->content_length != cl)
            return -1;
        r->content_length = cl;
    } else if (IS("transfer-encoding")) {
        if (!has_token(v, vl, "chunked"))
            return -1;
        r->chunked = 1;
    } else if (IS("connection")) {
        *conn_close_tok |= has_token(v, vl, "close");
        *conn_ka_tok |= has_token(v, vl, "keep-alive");
        r->conn_upgrade |= has_token(v, vl, "upgrade");
    } else if (IS("upgrade")) {
        r->upgrade_ws |= has_token(v, vl, "websocket");
    } else if (IS("expect")) {
        r->expect_continue = vl == 12 && strncasecmp(v, "100-continue", 12) == 0;
    }
#undef IS
    return 0;
}

/* Parse the head in c->in[0..hl).  Returns 0, or -1 when it is malformed. */
static int parse_head(struct conn *c, size_t hl)
{
    struct request *r = &c->req;
    const char *p = c->in, *end = c->in + hl - 2;   /* before the final CRLF */
    int close_tok = 0, ka_tok = 0;

    memset(r, 0, sizeof *r);
    r->content_length = -1;
    r->size = -1;
    strcpy(r->method, "-");
    strcpy(r->target, "-");
    for (int first = 1; p < end; first = 0) {
        const char *eol = memmem(p, (size_t)(end - p), "\r\n", 2);
        size_t n = (size_t)(eol - p);
        if (n == 0)
            return -1;
        if (first ? parse_request_line(r, p, n) : parse_header(r, p, n, &close_tok, &ka_tok))
            return -1;
        p = eol + 2;
    }
    if (r->chunked && r->content_length >= 0)
        return -1;
    r->keep_alive = r->http10 ? ka_tok && !close_tok : !close_tok;
    if (r->endpoint == EP_ECHO) {
        r->echo = malloc(hl);
        if (!r->echo)
            return -1;
        memcpy(r->echo, c->in, hl);
        r->echo_len = hl;
    }
    r->ch = CH_SIZE;
    r->body_left = r->content_length > 0 ? (unsigned long long)r->content_length : 0;
    return 0;
}

/* ---- the per-connection driver ----------------------------------------- */

static int head_step(struct conn *c)
{
    char *end = memmem(c->in, c->in_len, "\r\n\r\n", 4);
    if (!end) {
        if (c->in_len >= IN_MAX)
            return send_error(c, 431);
        set_reading(c, 1);
        /* Only a connection with nothing pending between requests is idle. */
        if (c->in_len == 0 && opt.idle_s > 0)
            timer_arm(c, opt.idle_s);
        else
            ev_timer_stop(loop, &c->timer);
        return 0;
    }
    ev_timer_stop(loop, &c->timer);
    size_t hl = (size_t)(end - c->in) + 4;
    c->seq++;
    int bad = parse_head(c, hl);
    consume(c, hl);
    if (bad)
        return send_error(c, 400);
    int has_body = c->req.chunked || c->req.content_length > 0;
    if (c->req.hints) {
        log_request(c, 103);
        if (out_printf(&c->out, "HTTP/1.1 103 Early Hints\r\nLink: </style.css>; rel=preload; as=style\r\n"
                                "Link: </app.js>; rel=preload; as=script\r\n\r\n") < 0) {
            conn_close(c);
            return -1;
        }
        if (conn_flush(c) < 0)
            return -1;
    }
    if (c->req.expect_continue && has_body) {
        if (out_append(&c->out, "HTTP/1.1 100 Continue\r\n\r\n", 25) < 0) {
            conn_close(c);
            return -1;
        }
        if (conn_flush(c) < 0)
            return -1;
    }
    c->state = ST_BODY;
    return 1;
}

/* Read one chunk-size or trailer line; returns its length (without the
 * line end) and sets *used, or -1 when the line is not complete yet. */
static long take_line(struct conn *c, size_t *used)
{
    char *nl = memchr(c->in, '\n', c->in_len);
    if (!nl)
        return -1;
    size_t n = (size_t)(nl - c->in);
    *used = n + 1;
    return n && c->in[n - 1] == '\r' ? (long)n - 1 : (long)n;
}

/* Discard body bytes.  Returns 1 when the body is complete, 0 for more. */
static int body_consume_chunked(struct conn *c, int *bad)
{
    struct request *r = &c->req;
    for (;;) {
        size_t used;
        long n;
        switch (r->ch) {
        case CH_SIZE: {
            if ((n = take_line(c, &used)) < 0) {
                *bad = c->in_len > 1024;
                return 0;
            }
            unsigned long long size = 0;
            long i = 0;
            for (; i < n && isxdigit((unsigned char)c->in[i]); i++) {
                if (size >> 56) {
                    *bad = 1;
                    return 0;
                }
                char ch = c->in[i];
                size = size * 16 + (unsigned)(isdigit((unsigned char)ch) ? ch - '0'
                                              : tolower((unsigned char)ch) - 'a' + 10);
            }
            if (i == 0 || (i < n && c->in[i] != ';' && c->in[i] != ' ')) {
                *bad = 1;
                return 0;
            }
            consume(c, used);
            r->chunk_left = size;
            r->ch = size ? CH_DATA : CH_TRAILER;
            break;
        }
        case CH_DATA: {
            size_t take = c->in_len < r->chunk_left ? c->in_len : (size_t)r->chunk_left;
            consume(c, take);
            r->chunk_left -= take;
            r->body_read += take;
            if (r->chunk_left)
                return 0;
            r->ch = CH_DATA_END;
            break;
        }
        case CH_DATA_END:
            if ((n = take_line(c, &used)) < 0)
                return 0;
            if (n != 0) {
                *bad = 1;
                return 0;
            }
            consume(c, used);
            r->ch = CH_SIZE;
            break;
        case CH_TRAILER:
            if ((n = take_line(c, &used)) < 0)
                return 0;
            if (n > 0) {
                size_t room = sizeof r->trailers - r->trailers_len;
                int w = snprintf(r->trailers + r->trailers_len, room, "%s%.*s", r->trailers_len ? " | " : "",
                                 (int)n, c->in);
                if (w > 0)
                    r->trailers_len += (size_t)w < room ? (size_t)w : room - 1;
            }
            consume(c, used);
            if (n == 0)
                return 1;
            break;
        }
    }
}

static int body_step(struct conn *c)
{
    struct request *r = &c->req;
    int done, bad = 0;
    if (r->chunked) {
        done = body_consume_chunked(c, &bad);
    } else {
        size_t take = c->in_len < r->body_left ? c->in_len : (size_t)r->body_left;
        consume(c, take);
        r->body_left -= take;
        r->body_read += take;
        done = r->body_left == 0;
    }
    if (bad)
        return send_error(c, 400);
    if (!done) {
        set_reading(c, 1);
        return 0;
    }
    return request_complete(c);
}

static int tunnel_step(struct conn *c)
{
    if (c->in_len) {
        if (out_append(&c->out, c->in, c->in_len) < 0) {
            conn_close(c);
            return -1;
        }
        c->in_len = 0;
    }
    int r = conn_flush(c);
    if (r < 0)
        return -1;
    set_reading(c, out_pending(&c->out) < TUNNEL_HIGH);
    return 0;
}

/* Drive the connection as far as the buffered bytes allow.  Returns -1 when
 * the connection was closed and freed: the caller must not touch it. */
static int conn_advance(struct conn *c)
{
    for (;;) {
        int r;
        switch (c->state) {
        case ST_HEAD:   r = head_step(c); break;
        case ST_BODY:   r = body_step(c); break;
        case ST_DELAY:  return 0;
        case ST_TUNNEL: return tunnel_step(c);
        case ST_LINGER: c->in_len = 0; return 0;
        case ST_WRITE:
            r = conn_flush(c);
            if (r == 1)
                r = response_done(c);
            break;
        default:        return 0;
        }
        if (r <= 0)
            return r;
    }
}

/* ---- watchers ----------------------------------------------------------- */

static void read_cb(struct ev_loop *l, ev_io *w, int revents)
{
    struct conn *c = w->data;
    (void)l;
    (void)revents;
    if (c->in_len == c->in_cap) {
        if (c->in_cap >= IN_MAX) {
            set_reading(c, 0);
            return;
        }
        char *n = realloc(c->in, c->in_cap * 2);
        if (!n) {
            conn_close(c);
            return;
        }
        c->in = n;
        c->in_cap *= 2;
    }
    ssize_t n = read(c->fd, c->in + c->in_len, c->in_cap - c->in_len);
    if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR)) {
        conn_close(c);
        return;
    }
    if (n < 0)
        return;
    c->in_len += (size_t)n;
    conn_advance(c);
}

static void write_cb(struct ev_loop *l, ev_io *w, int revents)
{
    struct conn *c = w->data;
    (void)l;
    (void)revents;
    if (conn_flush(c) == 1)
        conn_advance(c);
}

static void timer_cb(struct ev_loop *l, ev_timer *w, int revents)
{
    struct conn *c = w->data;
    (void)l;
    (void)revents;
    switch (c->state) {
    case ST_DELAY:
        if (build_response(c) > 0)
            conn_advance(c);
        break;
    default:    /* idle keep-alive connection, or linger over */
        conn_close(c);
        break;
    }
}

static void conn_new(int fd)
{
    struct conn *c = calloc(1, sizeof *c);
    if (!c || !(c->in = malloc(IN_INIT))) {
        free(c);
        close(fd);
        return;
    }
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    c->fd = fd;
    c->in_cap = IN_INIT;
    ev_io_init(&c->rio, read_cb, fd, EV_READ);
    ev_io_init(&c->wio, write_cb, fd, EV_WRITE);
    ev_init(&c->timer, timer_cb);
    c->rio.data = c->wio.data = c->timer.data = c;
    c->state = ST_HEAD;
    conn_advance(c);
}

static void accept_retry_cb(struct ev_loop *l, ev_timer *w, int revents)
{
    (void)w;
    (void)revents;
    ev_io_start(l, &accept_watcher);
}

static void accept_cb(struct ev_loop *l, ev_io *w, int revents)
{
    (void)revents;
    for (int i = 0; i < 64; i++) {
        int fd = accept4(w->fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd >= 0) {
            conn_new(fd);
            continue;
        }
        if (errno == EINTR || errno == ECONNABORTED)
            continue;
        if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM) {
            /* Out of descriptors: back off instead of spinning on accept. */
            ev_io_stop(l, w);
            ev_timer_set(&accept_retry, 0.1, 0.0);
            ev_timer_start(l, &accept_retry);
        }
        return;
    }
}

static void signal_cb(struct ev_loop *l, ev_signal *w, int revents)
{
    (void)l;
    (void)w;
    (void)revents;
    if (!opt.quiet) {
        fflush(stdout);
        fprintf(stderr, "backend %s: served %llu requests\n", opt.name, served);
    }
    exit(0);
}

/* ---- start-up ----------------------------------------------------------- */

static int listen_on(const char *addr, int port)
{
    struct addrinfo hints = { .ai_flags = AI_PASSIVE | AI_NUMERICHOST,
                              .ai_socktype = SOCK_STREAM };
    struct addrinfo *ai;
    char ps[16];
    snprintf(ps, sizeof ps, "%d", port);
    int e = getaddrinfo(addr, ps, &hints, &ai);
    if (e) {
        fprintf(stderr, "backend: bad address %s: %s\n", addr, gai_strerror(e));
        exit(2);
    }
    int fd = socket(ai->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0)
        die("socket");
    int one = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (bind(fd, ai->ai_addr, ai->ai_addrlen) < 0) {
        fprintf(stderr, "backend: cannot listen on %s:%d: %s\n", addr, port,
                strerror(errno));
        exit(1);
    }
    if (listen(fd, 4096) < 0)
        die("listen");
    freeaddrinfo(ai);
    return fd;
}

/* 4000 concurrent connections need more than the usual 1024 descriptors. */
static void raise_nofile(void)
{
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
        rl.rlim_cur = rl.rlim_max;
        setrlimit(RLIMIT_NOFILE, &rl);
    }
}

static void usage(int code)
{
    fprintf(code ? stderr : stdout,
            "usage: backend -p PORT [-a ADDR] [-n NAME] [-i IDLE_CLOSE_MS] [-f FAILFILE] [-q]\n"
            "  -p PORT   port to listen on (required)\n"
            "  -a ADDR   address to listen on (default 127.0.0.1)\n"
            "  -n NAME   server name: the default body and X-Server (default backend)\n"
            "  -i MS     close keep-alive connections idle for MS ms\n"
            "  -f FILE   /healthz answers 503 while FILE exists\n"
            "  -q        quiet: no per-request lines\n");
    exit(code);
}

int main(int argc, char **argv)
{
    int ch;
    while ((ch = getopt(argc, argv, "p:a:n:i:f:qh")) != -1) {
        switch (ch) {
        case 'p': opt.port = atoi(optarg); break;
        case 'a': opt.addr = optarg; break;
        case 'n': opt.name = optarg; break;
        case 'i': opt.idle_s = atof(optarg) / 1000.0; break;
        case 'f': opt.fail_file = optarg; break;
        case 'q': opt.quiet = 1; break;
        case 'h': usage(0); break;
        default:  usage(2);
        }
    }
    if (opt.port <= 0 || opt.port > 65535 || optind != argc)
        usage(2);
    snprintf(name_body, sizeof name_body, "%s\n", opt.name);
    for (size_t i = 0; i < sizeof pattern; i++)
        pattern[i] = (i % 64 == 63) ? '\n' : (char)('a' + i % 26);

    signal(SIGPIPE, SIG_IGN);
    setvbuf(stdout, NULL, _IOLBF, 0);
    raise_nofile();
    int lfd = listen_on(opt.addr, opt.port);

    loop = EV_DEFAULT;
    ev_io_init(&accept_watcher, accept_cb, lfd, EV_READ);
    ev_io_start(loop, &accept_watcher);
    ev_init(&accept_retry, accept_retry_cb);
    ev_signal sigterm, sigint;
    ev_signal_init(&sigterm, signal_cb, SIGTERM);
    ev_signal_init(&sigint, signal_cb, SIGINT);
    ev_signal_start(loop, &sigterm);
    ev_signal_start(loop, &sigint);
    if (!opt.quiet)
        fprintf(stderr, "backend %s listening on %s:%d\n", opt.name, opt.addr, opt.port);
    ev_run(loop, 0);
    return 0;
}
