/*
 * resolve: servers' host names through c-ares on the main loop (see
 * resolve.h).
 *
 * c-ares tells which sockets it wants watched (ARES_OPT_SOCK_STATE_CB):
 * each gets an ev_io, and one ev_timer follows ares_timeout(), so the
 * queries advance with the loop and nothing ever waits for an answer.
 * A query holds a reference on its server; an answer for a server that a
 * reload removed meanwhile is dropped.
 */
#include "resolve.h"

#include <ares.h>
#include <arpa/inet.h>
#include <ev.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "event.h"
#include "health.h"
#include "health_state.h"
#include "log.h"

/* A socket c-ares asked us to watch. */
struct resolve_sock {
    ev_io io;
    struct resolve_sock *next;
};

static struct {
    struct ev_loop *loop;
    int ready;                  /* the channel exists */
    ares_channel channel;
    ev_timer timeout;           /* c-ares's next timeout */
    ev_timer every;             /* resolve interval */
    ev_timer settle;            /* resolve_settle's deadline */
    struct resolve_sock *socks;
    struct runtime *rt;         /* the generation last applied (counted reference) */
    unsigned pending;           /* queries without an answer yet */
    int serving;                /* resolve_settle is over: the proxy serves */
} res;

/* ---- c-ares on libev ------------------------------------------------------- */

static void timeout_arm(void)
{
    struct timeval tv, *t;

    ev_timer_stop(res.loop, &res.timeout);
    if (!res.ready || !(t = ares_timeout(res.channel, NULL, &tv)))
        return;
    ev_timer_set(&res.timeout, (double)t->tv_sec + (double)t->tv_usec / 1e6, 0.);
    ev_timer_start(res.loop, &res.timeout);
}

static void timeout_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
    (void)loop;
    (void)w;
    (void)revents;
    ares_process_fd(res.channel, ARES_SOCKET_BAD, ARES_SOCKET_BAD);
    timeout_arm();
}

static void io_cb(struct ev_loop *loop, ev_io *w, int revents)
{
    ares_socket_t fd = w->fd;

    (void)loop;
    /* May close the socket, and free `w` through sock_cb: not touched after. */
    ares_process_fd(res.channel, (revents & EV_READ) ? fd : ARES_SOCKET_BAD,
                    (revents & EV_WRITE) ? fd : ARES_SOCKET_BAD);
    timeout_arm();
}

static void sock_cb(void *data, ares_socket_t fd, int readable, int writable)
{
    struct resolve_sock **pp = &res.socks, *s;

    (void)data;
    while ((s = *pp) && s->io.fd != fd)
        pp = &s->next;
    if (!readable && !writable) {
        if (s) {
            ev_io_stop(res.loop, &s->io);
            *pp = s->next;
            free(s);
        }
        return;
    }
    if (!s) {
        /* Without a watcher the query ends at its timeout: no worse. */
        if (!(s = calloc(1, sizeof *s))) {
            log_warnx("resolve: out of memory for a socket watcher");
            return;
        }
        ev_io_init(&s->io, io_cb, fd, 0);
        s->next = res.socks;
        res.socks = s;
    }
    ev_io_stop(res.loop, &s->io);
    ev_io_set(&s->io, fd, (readable ? EV_READ : 0) | (writable ? EV_WRITE : 0));
    ev_io_start(res.loop, &s->io);
}

/* ---- answers ------------------------------------------------------------------ */

/* A node's address with the server's port, normalised as config_addr is
 * (zeroed padding, so that config_addr_equal compares addresses). */
static int node_addr(const struct ares_addrinfo_node *n, unsigned port, struct config_addr *out)
{
    char buf[INET6_ADDRSTRLEN];

    memset(out, 0, sizeof *out);
    if (n->ai_family == AF_INET && n->ai_addrlen >= (int)sizeof(struct sockaddr_in)) {
        struct sockaddr_in *sin = (struct sockaddr_in *)&out->sa;
        sin->sin_family = AF_INET;
        sin->sin_port = htons((uint16_t)port);
        sin->sin_addr = ((const struct sockaddr_in *)(const void *)n->ai_addr)->sin_addr;
        out->len = sizeof *sin;
        inet_ntop(AF_INET, &sin->sin_addr, buf, sizeof buf);
        snprintf(out->text, sizeof out->text, "%s:%u", buf, port);
        return 0;
    }
    if (n->ai_family == AF_INET6 && n->ai_addrlen >= (int)sizeof(struct sockaddr_in6)) {
        const struct sockaddr_in6 *from = (const struct sockaddr_in6 *)(const void *)n->ai_addr;
        struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&out->sa;
        sin6->sin6_family = AF_INET6;
        sin6->sin6_port = htons((uint16_t)port);
        sin6->sin6_addr = from->sin6_addr;
        sin6->sin6_scope_id = from->sin6_scope_id;
        out->len = sizeof *sin6;
        inet_ntop(AF_INET6, &sin6->sin6_addr, buf, sizeof buf);
        snprintf(out->text, sizeof out->text, "[%s]:%u", buf, port);
        return 0;
    }
    return -1;
}

/* The address to use of an answer: the one in use while it is still in it
 * (round-robin DNS must not move connections at every answer), else the
 * first IPv4, else the first IPv6.  -1 when there is none. */
static int pick(const struct server *srv, const struct ares_addrinfo *ai, struct config_addr *out)
{
    const struct ares_addrinfo_node *n, *v4 = NULL, *v6 = NULL;
    struct config_addr a;

    for (n = ai ? ai->nodes : NULL; n; n = n->ai_next) {
        if (node_addr(n, srv->port, &a) < 0)
            continue;
        if (srv->resolve_state == RESOLVE_OK && config_addr_equal(&a, &srv->addr)) {
            *out = a;
            return 0;
        }
        if (n->ai_family == AF_INET && !v4)
            v4 = n;
        else if (n->ai_family == AF_INET6 && !v6)
            v6 = n;
    }
    n = v4 ? v4 : v6;
    return n ? node_addr(n, srv->port, out) : -1;
}

/* Publishes srv's address (NULL: none): the main thread's view, then the
 * workers' one. */
static void set_address(struct server *srv, const struct config_addr *addr)
{
    if (addr)
        srv->addr = *addr;
    else
        memset(&srv->addr, 0, sizeof srv->addr);
    server_addr_store(&srv->target, addr ? (const struct sockaddr *)&addr->sa : NULL,
                      addr ? addr->len : 0);
}

/* Whether srv's pool checks its servers: under `check off` nothing but
 * an answer can bring one back. */
static int pool_checks(const struct server *srv)
{
    for (size_t i = 0; res.rt && i < res.rt->npools; i++)
        if (res.rt->pools[i].shared == srv->pool)
            return res.rt->pools[i].cfg->check != CHECK_OFF;
    return 0;
}

static void resolved(struct server *srv, const struct config_addr *addr)
{
    int had = srv->resolve_state == RESOLVE_OK;
    int first = srv->resolve_state == RESOLVE_PENDING;
    char detail[CONFIG_HOST_MAX + 96];

    srv->resolve_error = 0;
    if (had && config_addr_equal(&srv->addr, addr))
        return;
    if (had)
        log_info("server %s/%s: %s resolves to %s now (was %s): new connections go there",
                 srv->pool_name, srv->name, srv->host, addr->text, srv->addr.text);
    else
        log_info("server %s/%s: %s resolves to %s", srv->pool_name, srv->name, srv->host,
                 addr->text);
    set_address(srv, addr);
    srv->resolve_state = RESOLVE_OK;
    if (had)
        return; /* up or down as it was: only new connections see the change */
    snprintf(detail, sizeof detail, "resolve: %s: %s", srv->host, addr->text);
    snprintf(srv->check_detail, sizeof srv->check_detail, "%s", detail);
    if (first || !pool_checks(srv)) {
        /* Its first address puts it up, as a server given by IP starts (no
         * slow start before the proxy serves); otherwise its checks will. */
        health_state_mark_up(srv, res.serving ? now_ms() : 0);
        if (!first)
            event_emit(EVT_SERVER_UP, srv->pool_name, srv->name, detail);
    }
    health_server_moved(srv, 0);
}

/* No address from this answer (status says why). */
static void unresolved(struct server *srv, int status)
{
    char detail[CONFIG_HOST_MAX + 96];
    /* The name does not exist, or has no address: whatever it had is gone. */
    int gone = status == ARES_ENOTFOUND || status == ARES_ENODATA;
    int changed = srv->resolve_error != status;

    snprintf(detail, sizeof detail, "resolve: %s: %s", srv->host, ares_strerror(status));
    srv->resolve_error = status;
    if (srv->resolve_state == RESOLVE_OK && !gone) {
        if (changed)
            log_warnx("server %s/%s: %s; it keeps %s", srv->pool_name, srv->name, detail,
                      srv->addr.text);
        return;
    }
    snprintf(srv->check_detail, sizeof srv->check_detail, "%s", detail);
    if (srv->resolve_state == RESOLVE_FAILED) {
        if (changed)
            log_warnx("server %s/%s: %s", srv->pool_name, srv->name, detail);
        return;
    }
    int first = srv->resolve_state == RESOLVE_PENDING;
    int was_up = atomic_load(&srv->state) == SRV_UP;
    srv->resolve_state = RESOLVE_FAILED;
    /* Down first, then the address goes: a worker that still sees it up
     * meanwhile gets a connect error, never a stale address. */
    health_state_mark_down(srv);
    set_address(srv, NULL);
    srv->check_status = CHECK_FAIL;
    srv->check_consecutive = 0;
    if (was_up || first) /* else its checks said it already */
        event_emit(EVT_SERVER_DOWN, srv->pool_name, srv->name, detail);
    health_server_moved(srv, was_up);
}

static int gone_status(int status)
{
    return status == ARES_ENOTFOUND || status == ARES_ENODATA;
}

static int cancelled(const struct server *srv, int status)
{
    /* Shutting down, or a reload removed it meanwhile. */
    return status == ARES_EDESTRUCTION || status == ARES_ECANCELLED || atomic_load(&srv->removed);
}

/* The end of a query round for srv (its reference and the count of
 * queries in flight go). */
static void round_done(struct server *srv)
{
    srv->resolving = 0;
    res.pending--;
    server_unref(srv);
}

/* A server with an address got "no such name" or "no address" for both
 * families at once.  c-ares asks for A and AAAA together and reports the
 * status of whichever answered last: an A lookup that failed (SERVFAIL, a
 * timeout) behind an empty AAAA answer reads as "no address", and taking
 * that for gone would put a healthy server down for a resolver's hiccup.
 * So each family is asked on its own before the address goes. */
struct confirm {
    struct server *srv;
    int pending;
    int status[2];             /* AF_INET's, AF_INET6's */
    int picked[2];             /* addr[i] holds that family's pick */
    struct config_addr addr[2];
    struct confirm_query {
        struct confirm *c;
        int i;
    } q[2];                    /* each query's callback argument */
};

/* Both answers in: the address in use if still there, else IPv4's, else
 * IPv6's (as pick); with none, a failure of either keeps the address, and
 * only two answers of "none" take it. */
static void confirm_decide(const struct confirm *c)
{
    struct server *srv = c->srv;
    int use = c->picked[0] ? 0 : 1;
    if (c->picked[1] && config_addr_equal(&c->addr[1], &srv->addr))
        use = 1;
    if (c->picked[use])
        resolved(srv, &c->addr[use]);
    else if (!gone_status(c->status[0]) || !gone_status(c->status[1]))
        unresolved(srv, gone_status(c->status[0]) ? c->status[1] : c->status[0]);
    else
        unresolved(srv, c->status[0] == ARES_ENOTFOUND ? c->status[1] : c->status[0]);
}

static void confirm_end(struct confirm *c)
{
    if (!cancelled(c->srv, c->status[0]) && !cancelled(c->srv, c->status[1]))
        confirm_decide(c);
    round_done(c->srv);
    free(c);
}

static void on_confirm(void *arg, int status, int timeouts, struct ares_addrinfo *ai)
{
    struct confirm_query *q = arg;
    struct confirm *c = q->c;
    int i = q->i;
    (void)timeouts;
    c->status[i] = status;
    c->picked[i] = status == ARES_SUCCESS && pick(c->srv, ai, &c->addr[i]) == 0;
    if (status == ARES_SUCCESS && !c->picked[i])
        c->status[i] = ARES_ENODATA;
    if (ai)
        ares_freeaddrinfo(ai);
    if (--c->pending == 0)
        confirm_end(c);
}

/* Returns 0 when the confirmation is under way (it ends the round). */
static int confirm_start(struct server *srv)
{
    struct confirm *c = calloc(1, sizeof *c);
    if (!c)
        return -1;
    c->srv = srv;
    c->pending = 2;
    static const int families[2] = {AF_INET, AF_INET6};
    for (int i = 0; i < 2; i++)
        c->q[i] = (struct confirm_query){c, i};
    /* An answer may come before ares_getaddrinfo returns (the hosts file),
     * the last one freeing c: nothing of c is read after the last call. */
    for (int i = 0; i < 2; i++) {
        struct ares_addrinfo_hints hints = {
            .ai_flags = ARES_AI_ENVHOSTS | ARES_AI_NOSORT,
            .ai_family = families[i],
            .ai_socktype = SOCK_STREAM,
        };
        ares_getaddrinfo(res.channel, srv->host, NULL, &hints, on_confirm, &c->q[i]);
    }
    return 0;
}

static void on_answer(void *arg, int status, int timeouts, struct ares_addrinfo *ai)
{
    struct server *srv = arg;
    struct config_addr addr;
    int picked = status == ARES_SUCCESS && pick(srv, ai, &addr) == 0;

    (void)timeouts;
    if (ai)
        ares_freeaddrinfo(ai);
    if (status == ARES_SUCCESS && !picked)
        status = ARES_ENODATA;
    if (!cancelled(srv, status)) {
        if (picked)
            resolved(srv, &addr);
        else if (gone_status(status) && srv->resolve_state == RESOLVE_OK && confirm_start(srv) == 0)
            return; /* the round goes on */
        else
            unresolved(srv, status);
    }
    round_done(srv);
}

/* ---- queries ------------------------------------------------------------------ */

static void query(struct server *srv)
{
    /* ENVHOSTS: CARES_HOSTS, when set, is the hosts file (tests); NOSORT:
     * the answer's order, no probing of routes. */
    struct ares_addrinfo_hints hints = {
        .ai_flags = ARES_AI_ENVHOSTS | ARES_AI_NOSORT,
        .ai_family = AF_UNSPEC,
        .ai_socktype = SOCK_STREAM,
    };

    if (srv->resolving)
        return; /* the answer to the last one will do */
    if (!res.ready) {
        if (srv->resolve_state == RESOLVE_PENDING)
            unresolved(srv, ARES_ENOTINITIALIZED);
        return;
    }
    if (srv->resolve_state == RESOLVE_PENDING)
        snprintf(srv->check_detail, sizeof srv->check_detail, "resolve: %s: waiting for an answer",
                 srv->host);
    srv->resolving = 1;
    res.pending++;
    server_ref(srv);
    /* A hosts-file answer comes back before this returns. */
    ares_getaddrinfo(res.channel, srv->host, NULL, &hints, on_answer, srv);
}

static void resolve_all(void)
{
    const struct runtime *rt = res.rt;

    for (size_t i = 0; rt && i < rt->npools; i++)
        for (size_t j = 0; j < rt->pools[i].nservers; j++)
            if (rt->pools[i].servers[j]->host[0])
                query(rt->pools[i].servers[j]);
    timeout_arm();
}

static void every_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
    (void)loop;
    (void)w;
    (void)revents;
    resolve_all();
}

static int has_names(const struct runtime *rt)
{
    for (size_t i = 0; i < rt->npools; i++)
        for (size_t j = 0; j < rt->pools[i].nservers; j++)
            if (rt->pools[i].servers[j]->host[0])
                return 1;
    return 0;
}

void resolve_apply(struct runtime *rt)
{
    double every;

    if (!res.loop || !rt)
        return;
    runtime_ref(rt);
    if (res.rt)
        runtime_release(res.rt);
    res.rt = rt;
    ev_timer_stop(res.loop, &res.every);
    if (!has_names(rt))
        return;
    every = (double)rt->cfg->resolve_interval_ms / 1000.0;
    ev_timer_set(&res.every, every, every);
    ev_timer_start(res.loop, &res.every);
    resolve_all();
}

static void settle_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
    (void)loop;
    (void)w;
    (void)revents; /* only wakes the loop up */
}

void resolve_settle(unsigned max_ms)
{
    double deadline;

    if (!res.loop)
        return;
    deadline = ev_time() + (double)max_ms / 1000.0;
    ev_timer_init(&res.settle, settle_cb, (double)max_ms / 1000.0, 0.);
    ev_timer_start(res.loop, &res.settle);
    while (res.pending && ev_time() < deadline)
        ev_run(res.loop, EVRUN_ONCE);
    ev_timer_stop(res.loop, &res.settle);
    res.serving = 1;
}

/* ---- start and stop ------------------------------------------------------------ */

int resolve_start(struct ev_loop *loop)
{
    struct ares_options o;
    int mask = ARES_OPT_SOCK_STATE_CB, r;
    const char *conf = getenv("PROXY_RESOLV_CONF");
    const char *servers = getenv("PROXY_DNS_SERVERS");

    res.loop = loop;
    ev_timer_init(&res.timeout, timeout_cb, 0., 0.);
    ev_timer_init(&res.every, every_cb, 0., 0.);
    if ((r = ares_library_init(ARES_LIB_INIT_ALL)) != ARES_SUCCESS) {
        log_errorx("resolve: cannot start c-ares: %s", ares_strerror(r));
        return -1;
    }
    memset(&o, 0, sizeof o);
    o.sock_state_cb = sock_cb;
    if (conf && conf[0]) {
        o.resolvconf_path = (char *)conf;
        mask |= ARES_OPT_RESOLVCONF;
    }
    if ((r = ares_init_options(&res.channel, &o, mask)) != ARES_SUCCESS) {
        log_errorx("resolve: cannot start c-ares%s%s: %s", conf ? " with " : "", conf ? conf : "",
                   ares_strerror(r));
        ares_library_cleanup();
        return -1;
    }
    if (servers && servers[0] &&
        (r = ares_set_servers_ports_csv(res.channel, servers)) != ARES_SUCCESS) {
        log_errorx("resolve: PROXY_DNS_SERVERS \"%s\": %s", servers, ares_strerror(r));
        ares_destroy(res.channel);
        ares_library_cleanup();
        return -1;
    }
    res.ready = 1;
    return 0;
}

void resolve_stop(void)
{
    struct resolve_sock *s;

    if (!res.loop)
        return;
    ev_timer_stop(res.loop, &res.every);
    ev_timer_stop(res.loop, &res.timeout);
    if (res.ready) {
        ares_destroy(res.channel); /* each query's callback drops its server */
        ares_library_cleanup();
        res.ready = 0;
    }
    while ((s = res.socks)) {
        res.socks = s->next;
        ev_io_stop(res.loop, &s->io);
        free(s);
    }
    if (res.rt)
        runtime_release(res.rt);
    res.rt = NULL;
    res.loop = NULL;
}
