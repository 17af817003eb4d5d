/*
 * stats: the stats port's HTTP server, routing and admin actions (see
 * stats.h).
 *
 * It runs on the main loop, beside the health checker and reloads, so it
 * reads runtime state the way the checker writes it.  Each connection owns
 * a fixed input buffer, an llhttp parser in strict mode and an output
 * buffer; a request is parsed as bytes arrive (nothing of a head is kept
 * but the few fields routing needs), and parsing pauses at the end of each
 * request so pipelined requests are answered one at a time, in order.
 * Memory per connection is therefore bounded, and so is the number of
 * connections.
 */
#include "stats.h"

#include "balance.h"
#include "clock.h"

#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#include <llhttp.h>

#include "health.h"
#include "http.h"
#include "log.h"
#include "stats_admin.h"
#include "metrics.h"
#include "runtime.h"
#include "stats_json.h"
#include "stats_listen.h"

#define STATS_MAX_CONNS 512      /* beyond it one that waits makes room */
#define STATS_IN_SIZE 4096       /* one read; unparsed pipelined bytes wait here */
#define STATS_URL_MAX 1024       /* longer targets cannot name a route: 404 */
#define STATS_AUTH_MAX 512
#define STATS_FIELD_MAX 32       /* longer header names are not ones we read */
#define STATS_BODY_MAX 65536     /* admin actions take no body: a bound, not a use */
#define STATS_OUT_KEEP 65536     /* larger output buffers are freed after use */
#define STATS_LINGER_S 1.0       /* reading what a refused client still sends */
#define STATS_LINGER_MAX 262144  /* bytes discarded while lingering, at most */

/* What a connection is doing; the timer's meaning follows it. */
enum conn_phase {
    PHASE_IDLE = 0, /* between requests: keep-alive timeout */
    PHASE_REQUEST,  /* a request is arriving: client timeout */
    PHASE_WRITE,    /* answering: client timeout, reset on progress */
    PHASE_LINGER,   /* answered and shut down for writing: discarding input
                       until the client closes, so that closing with unread
                       bytes does not reset the connection before the client
                       read the answer */
};

/* The header fields routing needs. */
enum header_kind { HDR_OTHER = 0, HDR_AUTH, HDR_HOST };

/* What is kept of one request: zeroed when the next one begins. */
struct stats_req {
    char url[STATS_URL_MAX];
    size_t url_len;
    int url_long;
    char field[STATS_FIELD_MAX];
    size_t field_len;
    enum header_kind header;
    char auth[STATS_AUTH_MAX];
    size_t auth_len;
    unsigned auth_count;
    unsigned host_count;
    size_t head_bytes;
    unsigned nheaders;
    uint64_t body_bytes;
    int reject;                   /* status to answer when a callback refuses */
    const char *value_end;        /* end of the header value's last piece */
    int value_at_buf_end;         /* ... which was the end of the input */
};

struct stats_conn {
    struct stats_conn *next, *prev;
    int fd;
    ev_io rio, wio;
    ev_timer timer;
    enum conn_phase phase;
    unsigned requests;            /* answered on this connection */

    llhttp_t parser;
    char in[STATS_IN_SIZE];
    size_t in_len;                /* unparsed bytes at in[0] */

    struct stats_req req;         /* the request being parsed */
    size_t lingered;              /* bytes discarded in PHASE_LINGER */

    struct stats_buf out;
    size_t out_off;
    int close_after;
};

/* What the server needs from the configuration, copied so that a reload
 * may free the config it came from.  The parser guarantees the timeouts
 * and the header limit are above 0. */
struct stats_settings {
    char token[sizeof(((struct config *)0)->stats_token)];
    size_t token_len;
    double timeout_client_s;
    double timeout_keep_alive_s;
    size_t limit_header_size;
    unsigned limit_headers;
};

static struct ev_loop *stats_loop;
static struct stats_settings settings;
static struct stats_listener *listener;
static struct stats_conn conns = { .next = &conns, .prev = &conns };
static unsigned nconns;
static llhttp_settings_t parser_settings;
static struct stats_buf scratch;  /* documents are rendered here, then copied */

/* ---- settings --------------------------------------------------------------- */

static void settings_take(const struct config *cfg)
{
    memcpy(settings.token, cfg->stats_token, sizeof(settings.token));
    settings.token[sizeof(settings.token) - 1] = '\0';
    settings.token_len = strlen(settings.token);
    settings.timeout_client_s = (double)cfg->timeout_client_ms / 1000.0;
    settings.timeout_keep_alive_s = (double)cfg->timeout_keep_alive_ms / 1000.0;
    settings.limit_header_size = cfg->limit_header_size;
    settings.limit_headers = cfg->limit_headers;
}

/* ---- connections: lifetime and timer ------------------------------------------ */

static void stats_conn_set_timer(struct stats_conn *c, double seconds)
{
    ev_timer_stop(stats_loop, &c->timer);
    ev_timer_set(&c->timer, seconds, 0.);
    ev_timer_start(stats_loop, &c->timer);
}

/* Stops every watcher and frees `c`: callers return at once after it. */
static void stats_conn_close(struct stats_conn *c)
{
    ev_io_stop(stats_loop, &c->rio);
    ev_io_stop(stats_loop, &c->wio);
    ev_timer_stop(stats_loop, &c->timer);
    close(c->fd);
    c->prev->next = c->next;
    c->next->prev = c->prev;
    nconns--;
    stats_buf_free(&c->out);
    free(c);
}

/* Room at STATS_MAX_CONNS: closes the oldest connection kept alive after an answer, else the oldest
 * yet to send (all of) a request, never one being answered: no flood locks monitoring out.  0: none. */
static int stats_conn_make_room(void)
{
    struct stats_conn *slow = NULL, *c;
    for (c = conns.next; c != &conns; c = c->next) { /* oldest first */
        if ((c->phase == PHASE_IDLE && c->requests > 0) || c->phase == PHASE_LINGER)
            break; /* kept alive after an answer */
        if (c->phase != PHASE_WRITE && !slow)
            slow = c; /* a new one, or one whose request is still arriving */
    }
    if (c == &conns && !(c = slow))
        return 0;
    stats_conn_close(c);
    return 1;
}

/* ---- llhttp callbacks: collect what routing needs, enforce the limits ------ */

static struct stats_conn *stats_conn_of(llhttp_t *p)
{
    return p->data;
}

/* Refuses the request with `status` (the parser then stops with an error). */
static int refuse(struct stats_conn *c, int status)
{
    c->req.reject = status;
    return -1;
}

static int head_grow(struct stats_conn *c, size_t len)
{
    c->req.head_bytes += len;
    if (c->req.head_bytes > settings.limit_header_size)
        return refuse(c, 431);
    return 0;
}

static int on_message_begin(llhttp_t *p)
{
    struct stats_conn *c = stats_conn_of(p);

    memset(&c->req, 0, sizeof(c->req));
    /* The first request's clock started at accept; later ones start now. */
    if (c->phase == PHASE_IDLE && c->requests > 0)
        stats_conn_set_timer(c, settings.timeout_client_s);
    c->phase = PHASE_REQUEST;
    return 0;
}

static int on_url(llhttp_t *p, const char *at, size_t len)
{
    struct stats_conn *c = stats_conn_of(p);

    if (c->req.url_len + len > settings.limit_header_size)
        return refuse(c, 414);
    if (c->req.url_len + len >= sizeof(c->req.url)) {
        c->req.url_long = 1;
    } else {
        memcpy(c->req.url + c->req.url_len, at, len);
        c->req.url[c->req.url_len + len] = '\0';
    }
    c->req.url_len += len;
    return head_grow(c, len);
}

static int on_header_field(llhttp_t *p, const char *at, size_t len)
{
    struct stats_conn *c = stats_conn_of(p);

    if (c->req.field_len + len < sizeof(c->req.field))
        memcpy(c->req.field + c->req.field_len, at, len);
    c->req.field_len += len;
    return head_grow(c, len);
}

static int on_header_field_complete(llhttp_t *p)
{
    struct stats_conn *c = stats_conn_of(p);

    c->req.header = HDR_OTHER;
    if (c->req.field_len < sizeof(c->req.field)) {
        c->req.field[c->req.field_len] = '\0';
        if (strcasecmp(c->req.field, "authorization") == 0) {
            c->req.header = HDR_AUTH;
            c->req.auth_count++;
            c->req.auth_len = 0;
        } else if (strcasecmp(c->req.field, "host") == 0) {
            c->req.header = HDR_HOST;
            c->req.host_count++;
        }
    }
    c->req.field_len = 0;
    if (++c->req.nheaders > settings.limit_headers)
        return refuse(c, 431);
    return 0;
}

/* llhttp 8 accepts obs-fold, reporting the folded line as a second piece
 * of the value after a gap (the CRLF).  A value split by a read ends one
 * buffer and starts the next; any other gap is a fold, which the contract
 * answers with 400 (RFC 9112 5.2 allows it). */
static int value_is_folded(const struct stats_conn *c, const char *at)
{
    if (!c->req.value_end)
        return 0;
    return at != c->req.value_end && !(c->req.value_at_buf_end && at == c->in);
}

static int on_header_value(llhttp_t *p, const char *at, size_t len)
{
    struct stats_conn *c = stats_conn_of(p);

    if (value_is_folded(c, at))
        return refuse(c, 400);
    c->req.value_end = at + len;
    c->req.value_at_buf_end = at + len == c->in + c->in_len;
    if (c->req.header == HDR_AUTH) {
        /* An overlong value is kept truncated: it cannot match the token,
         * whose length is below STATS_AUTH_MAX. */
        size_t room = sizeof(c->req.auth) - 1 - c->req.auth_len;
        size_t n = len < room ? len : room;
        memcpy(c->req.auth + c->req.auth_len, at, n);
        c->req.auth_len += n;
        c->req.auth[c->req.auth_len] = '\0';
    }
    return head_grow(c, len);
}

static int on_header_value_complete(llhttp_t *p)
{
    struct stats_conn *c = stats_conn_of(p);

    c->req.value_end = NULL;
    /* ": " and CRLF of the line, so the limit counts roughly what was sent. */
    return head_grow(c, 4);
}

static int on_headers_complete(llhttp_t *p)
{
    struct stats_conn *c = stats_conn_of(p);

    /* RFC 9112 3.2: exactly one Host in HTTP/1.1. */
    if (c->req.host_count > 1 || (c->req.host_count == 0 && p->http_major == 1 && p->http_minor >= 1))
        return refuse(c, 400);
    return 0;
}

static int on_body(llhttp_t *p, const char *at, size_t len)
{
    struct stats_conn *c = stats_conn_of(p);

    (void)at;
    c->req.body_bytes += len;
    if (c->req.body_bytes > STATS_BODY_MAX)
        return refuse(c, 413);
    return 0;
}

static int on_message_complete(llhttp_t *p)
{
    (void)p;
    /* Stop here: the request is answered before the next one is parsed. */
    return HPE_PAUSED;
}

static void parser_settings_init(void)
{
    llhttp_settings_init(&parser_settings);
    parser_settings.on_message_begin = on_message_begin;
    parser_settings.on_url = on_url;
    parser_settings.on_header_field = on_header_field;
    parser_settings.on_header_field_complete = on_header_field_complete;
    parser_settings.on_header_value = on_header_value;
    parser_settings.on_header_value_complete = on_header_value_complete;
    parser_settings.on_headers_complete = on_headers_complete;
    parser_settings.on_body = on_body;
    parser_settings.on_message_complete = on_message_complete;
}

/* ---- responses ------------------------------------------------------------------ */

/* Queues a whole response in c->out.  `extra` is "" or header lines, each
 * ending in CRLF.  HEAD gets the headers of the GET answer only. */
static void reply(struct stats_conn *c, int status, const char *ctype,
                  const char *body, size_t len, const char *extra)
{
    int head_only = c->req.reject == 0 && llhttp_get_method(&c->parser) == HTTP_HEAD;
    const char *connection = "";

    if (c->close_after)
        connection = "Connection: close\r\n";
    else if (c->parser.http_major == 1 && c->parser.http_minor == 0)
        connection = "Connection: keep-alive\r\n"; /* 1.0 closes unless told */

    stats_buf_reset(&c->out);
    stats_buf_printf(&c->out,
                     "HTTP/1.1 %d %s\r\nContent-Type: %s\r\nContent-Length: %zu\r\n"
                     "Cache-Control: no-store\r\n%s%s\r\n",
                     status, http_reason(status), ctype, len, extra, connection);
    if (!head_only)
        stats_buf_append(&c->out, body, len);
    c->out_off = 0;
}

static void reply_text(struct stats_conn *c, int status, const char *text, const char *extra)
{
    reply(c, status, "text/plain; charset=utf-8", text, strlen(text), extra);
}

/* Answers a request the parser refused, and closes after it. */
static void reply_refused(struct stats_conn *c, int status)
{
    c->req.reject = status;
    c->close_after = 1;
    reply_text(c, status, http_error_body(status), "");
}

/* Sends the scratch document, or a 500 if rendering ran out of memory. */
static void reply_scratch(struct stats_conn *c, int rendered, const char *ctype)
{
    if (rendered < 0) {
        reply_text(c, 500, "out of memory\n", "");
        return;
    }
    reply(c, 200, ctype, scratch.data, scratch.len, "");
    /* A big document (many servers) should not pin its memory forever. */
    if (scratch.cap > STATS_OUT_KEEP)
        stats_buf_free(&scratch);
    else
        stats_buf_reset(&scratch);
}

/* The first pool of rt without a usable server (primary or standby), or
 * NULL when every pool has one. */
static const char *stats_pool_without_server(const struct runtime *rt)
{
    for (size_t i = 0; rt && i < rt->npools; i++) {
        const struct pool *pool = &rt->pools[i];
        size_t k = 0;
        while (k < pool->nservers && !server_usable(pool->servers[k]))
            k++;
        if (k == pool->nservers)
            return pool->cfg->name;
    }
    return NULL;
}

/* ---- routes ------------------------------------------------------------------------ */

static int method_is_get(const struct stats_conn *c)
{
    int m = llhttp_get_method((llhttp_t *)&c->parser);
    return m == HTTP_GET || m == HTTP_HEAD;
}

static void route_get(struct stats_conn *c, const char *path)
{
    if (strcmp(path, "/") == 0) {
        reply(c, 200, "text/html; charset=utf-8", stats_dashboard_html,
              stats_dashboard_len, "");
    } else if (strcmp(path, "/healthz") == 0) {
        reply_text(c, 200, "ok\n", "");
    } else if (strcmp(path, "/readyz") == 0) {
        /* For keepalived and load balancers in front: this proxy can serve
         * every pool (a pool with no usable server makes it not ready). */
        struct runtime *rt = runtime_acquire();
        const char *down = stats_pool_without_server(rt);
        char body[CONFIG_NAME_MAX + 64];
        if (down)
            snprintf(body, sizeof body, "not ready: pool %s has no usable server\n", down);
        if (rt)
            runtime_release(rt);
        if (down)
            reply_text(c, 503, body, "");
        else
            reply_text(c, 200, "ready\n", "");
    } else {
        struct runtime *rt = runtime_acquire();
        int rc;
        const char *ctype;

        stats_buf_reset(&scratch);
        if (strcmp(path, "/api/stats") == 0) {
            rc = stats_json_render(&scratch, rt, now_ms());
            ctype = "application/json";
        } else {
            rc = stats_prom_render(&scratch, rt, now_ms());
            ctype = "text/plain; version=0.0.4";
        }
        if (rt)
            runtime_release(rt);
        reply_scratch(c, rc, ctype);
    }
}

/* Checks "Authorization: Bearer TOKEN" against the stats line's token. */
static int authorized(const struct stats_conn *c)
{
    return c->req.auth_count == 1 && stats_bearer_matches(c->req.auth, settings.token, settings.token_len);
}

/* Applies `admin` to POOL/SERVER of the current generation and answers
 * with the server's JSON, or 404. */
static void admin_apply(struct stats_conn *c, const char *pool_name,
                        const char *server_name, const char *action,
                        enum server_admin admin)
{
    struct runtime *rt = runtime_acquire();
    struct pool *pool = rt ? runtime_find_pool(rt, pool_name) : NULL;
    struct server *srv = pool ? pool_find_server(pool, server_name) : NULL;

    if (!srv) {
        if (rt)
            runtime_release(rt);
        reply_text(c, 404, pool ? "no such server\n" : "no such pool\n", "");
        return;
    }
    health_server_admin(srv, admin);
    log_info("stats: %s of server %s/%s requested on the stats port", action, pool_name, server_name);
    stats_buf_reset(&scratch);
    stats_json_server(&scratch, srv, now_ms());
    stats_buf_puts(&scratch, "\n");
    runtime_release(rt);
    reply_scratch(c, scratch.oom ? -1 : 0, "application/json");
}

/* `path` is modified. */
static void route_admin(struct stats_conn *c, char *path)
{
    char *pool, *server, *action;
    enum server_admin admin;

    if (stats_admin_path_split(path, &pool, &server, &action) < 0 || stats_admin_action(action, &admin) < 0) {
        reply_text(c, 404, "not found\n", "");
    } else if (llhttp_get_method(&c->parser) != HTTP_POST) {
        reply_text(c, 405, "method not allowed: use POST\n", "Allow: POST\r\n");
    } else if (settings.token_len == 0) {
        reply_text(c, 403, "admin actions are off: no token on the stats line\n", "");
    } else if (!authorized(c)) {
        reply_text(c, 401, "missing or wrong bearer token\n",
                   "WWW-Authenticate: Bearer realm=\"proxy\"\r\n");
    } else {
        admin_apply(c, pool, server, action, admin);
    }
}

/* The path of the request target, without query; "" when unusable. */
static char *target_path(struct stats_conn *c)
{
    char *path = c->req.url;

    if (c->req.url_long) {
        c->req.url[0] = '\0';
        return c->req.url;
    }
    /* Absolute form (RFC 9112 3.2.2): skip scheme and authority. */
    if (strncasecmp(path, "http://", 7) == 0) {
        path = strchr(path + 7, '/');
        if (!path)
            return "/";
    }
    path[strcspn(path, "?#")] = '\0';
    return path;
}

static void route(struct stats_conn *c)
{
    char *path = target_path(c);
    static const char *const get_paths[] = { "/", "/healthz", "/readyz", "/api/stats", "/metrics" };

    for (size_t i = 0; i < sizeof(get_paths) / sizeof(get_paths[0]); i++) {
        if (strcmp(path, get_paths[i]) != 0)
            continue;
        if (method_is_get(c))
            route_get(c, path);
        else
            reply_text(c, 405, "method not allowed: use GET\n", "Allow: GET, HEAD\r\n");
        return;
    }
    if (strncmp(path, "/api/pools/", 11) == 0)
        route_admin(c, path);
    else
        reply_text(c, 404, "not found\n", "");
}

/* ---- parsing and writing ------------------------------------------------------------ */

/* Feeds the buffered input to the parser.  On a complete request the rest
 * stays buffered and the answer is queued (phase WRITE). */
static void stats_conn_parse(struct stats_conn *c)
{
    llhttp_errno_t err = llhttp_execute(&c->parser, c->in, c->in_len);

    if (err == HPE_OK) {
        c->in_len = 0;
        return;
    }
    if (err == HPE_PAUSED || err == HPE_PAUSED_UPGRADE) {
        const char *pos = llhttp_get_error_pos(&c->parser);
        size_t used = pos ? (size_t)(pos - c->in) : c->in_len;

        memmove(c->in, c->in + used, c->in_len - used);
        c->in_len -= used;
        /* An upgrade is not served here: answer, then close. */
        c->close_after = err == HPE_PAUSED_UPGRADE || c->parser.upgrade ||
                         !llhttp_should_keep_alive(&c->parser);
        llhttp_resume(&c->parser);
        route(c);
    } else {
        c->in_len = 0;
        reply_refused(c, c->req.reject ? c->req.reject : 400);
    }
    c->phase = PHASE_WRITE;
    c->requests++;
    stats_conn_set_timer(c, settings.timeout_client_s);
}

/* Writes what it can.  Returns 1 when all is written, 0 when the socket
 * is full, -1 on error. */
static int stats_conn_flush(struct stats_conn *c)
{
    while (c->out_off < c->out.len) {
        ssize_t n = send(c->fd, c->out.data + c->out_off, c->out.len - c->out_off,
                         MSG_NOSIGNAL);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return errno == EAGAIN || errno == EWOULDBLOCK ? 0 : -1;
        }
        c->out_off += (size_t)n;
    }
    return 1;
}

/* A response went out: back to reading, the next request on keep-alive. */
static void stats_conn_written(struct stats_conn *c)
{
    if (c->out.cap > STATS_OUT_KEEP)
        stats_buf_free(&c->out);
    else
        stats_buf_reset(&c->out);
    c->out_off = 0;
    c->phase = PHASE_IDLE;
    stats_conn_set_timer(c, settings.timeout_keep_alive_s);
}

/* The answer is out and the connection ends: stop writing, and read (and
 * drop) what the client still sends for a moment before closing. */
static void stats_conn_linger(struct stats_conn *c)
{
    ev_io_stop(stats_loop, &c->wio);
    stats_buf_free(&c->out);
    c->in_len = 0;
    c->phase = PHASE_LINGER;
    if (shutdown(c->fd, SHUT_WR) < 0) {
        stats_conn_close(c);
        return;
    }
    stats_conn_set_timer(c, STATS_LINGER_S);
    ev_io_start(stats_loop, &c->rio);
}

/* Moves a connection along until it waits for the socket.  May free `c`. */
static void stats_conn_drive(struct stats_conn *c)
{
    for (;;) {
        if (c->phase == PHASE_WRITE) {
            int rc = stats_conn_flush(c);
            if (rc < 0) {
                stats_conn_close(c);
                return;
            }
            if (rc == 1 && c->close_after) {
                stats_conn_linger(c);
                return;
            }
            if (rc == 0) {
                ev_io_stop(stats_loop, &c->rio);
                ev_io_start(stats_loop, &c->wio);
                return;
            }
            ev_io_stop(stats_loop, &c->wio);
            stats_conn_written(c);
        }
        if (c->in_len == 0) {
            ev_io_start(stats_loop, &c->rio);
            return;
        }
        stats_conn_parse(c);
        if (c->phase != PHASE_WRITE) {
            ev_io_start(stats_loop, &c->rio);
            return;
        }
    }
}

static void on_conn_read(struct ev_loop *loop, ev_io *w, int revents)
{
    struct stats_conn *c = w->data;
    ssize_t n;

    (void)loop;
    (void)revents;
    /* Only reached outside PHASE_WRITE, where everything read was parsed. */
    n = recv(c->fd, c->in, sizeof(c->in), 0);
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
        return;
    if (n <= 0) {
        stats_conn_close(c);
        return;
    }
    if (c->phase == PHASE_LINGER) {
        c->lingered += (size_t)n;
        if (c->lingered > STATS_LINGER_MAX)
            stats_conn_close(c);
        return;
    }
    c->in_len = (size_t)n;
    stats_conn_drive(c);
}

static void on_conn_write(struct ev_loop *loop, ev_io *w, int revents)
{
    struct stats_conn *c = w->data;

    (void)loop;
    (void)revents;
    stats_conn_set_timer(c, settings.timeout_client_s);
    stats_conn_drive(c);
}

static void on_conn_timer(struct ev_loop *loop, ev_timer *w, int revents)
{
    struct stats_conn *c = w->data;

    (void)loop;
    (void)revents;
    if (c->phase != PHASE_REQUEST) {
        stats_conn_close(c);
        return;
    }
    /* A request head or body that did not arrive in time: say so, then close. */
    ev_io_stop(stats_loop, &c->rio);
    reply_refused(c, 408);
    c->phase = PHASE_WRITE;
    c->in_len = 0;
    stats_conn_set_timer(c, settings.timeout_client_s);
    stats_conn_drive(c);
}

static void stats_conn_new(int fd)
{
    struct stats_conn *c = calloc(1, sizeof(*c));
    int one = 1;

    if (!c) {
        log_warnx("stats: out of memory for a connection");
        close(fd);
        return;
    }
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    c->fd = fd;
    llhttp_init(&c->parser, HTTP_REQUEST, &parser_settings);
    c->parser.data = c;
    stats_buf_init(&c->out);
    ev_io_init(&c->rio, on_conn_read, fd, EV_READ);
    ev_io_init(&c->wio, on_conn_write, fd, EV_WRITE);
    ev_timer_init(&c->timer, on_conn_timer, settings.timeout_client_s, 0.);
    c->rio.data = c->wio.data = c->timer.data = c;
    c->next = &conns;
    c->prev = conns.prev;
    conns.prev->next = c;
    conns.prev = c;
    nconns++;
    ev_io_start(stats_loop, &c->rio);
    ev_timer_start(stats_loop, &c->timer);
}

/* The listener hands each accepted connection over (stats_listen.c). */
static void stats_accepted(int fd)
{
    if (nconns >= STATS_MAX_CONNS && !stats_conn_make_room()) {
        close(fd);
        return;
    }
    stats_conn_new(fd);
}

/* ---- public ------------------------------------------------------------------------------ */

int stats_start(struct ev_loop *loop, const struct config *cfg)
{
    stats_loop = loop;
    parser_settings_init();
    stats_buf_init(&scratch);
    settings_take(cfg);
    if (!cfg->has_stats)
        return 0;
    listener = stats_listener_open(loop, &cfg->stats_addr, 0, stats_accepted);
    return listener ? 0 : -1;
}

int stats_apply(const struct config *cfg)
{
    if (!stats_loop || stats_listener_move(&listener, stats_loop, cfg, stats_accepted) < 0)
        return -1;
    settings_take(cfg);
    return 0;
}

void stats_stop(void)
{
    if (!stats_loop)
        return;
    stats_listener_close(listener);
    listener = NULL;
    while (conns.next != &conns)
        stats_conn_close(conns.next);
    stats_buf_free(&scratch);
}
