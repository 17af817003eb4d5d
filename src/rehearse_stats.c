/*
 * rehearse_stats: one GET /api/stats per second on the rehearsal's loop
 * (see rehearse_stats.h).  A fresh connection each time: one request a
 * second costs nothing, and a proxy that restarts or reloads meanwhile
 * needs no reconnect logic.  A sample still running when the next is due
 * is abandoned (a stats port that slow is itself a finding: counted).
 */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "http.h"
#include "rehearse_json.h"
#include "rehearse_stats.h"

#define RH_STATS_TOKS 16384 /* to start with; grown for a larger document */

static struct rh_server_step *step_server(struct rh_step *st, const char *pool, const char *name)
{
    for (unsigned i = 0; i < st->nservers; i++)
        if (strcmp(st->servers[i].pool, pool) == 0 && strcmp(st->servers[i].name, name) == 0)
            return &st->servers[i];
    if (st->nservers >= RH_MAX_SERVERS)
        return NULL;
    struct rh_server_step *s = &st->servers[st->nservers++];
    memset(s, 0, sizeof *s);
    snprintf(s->pool, sizeof s->pool, "%s", pool);
    snprintf(s->name, sizeof s->name, "%s", name);
    return s;
}

static struct rh_seen *seen_server(struct rh_seen *seen, unsigned *nseen, const char *pool,
                                   const char *name, uint64_t failures)
{
    for (unsigned i = 0; i < *nseen; i++)
        if (strcmp(seen[i].pool, pool) == 0 && strcmp(seen[i].name, name) == 0)
            return &seen[i];
    if (*nseen >= RH_MAX_SERVERS)
        return NULL;
    struct rh_seen *s = &seen[(*nseen)++];
    snprintf(s->pool, sizeof s->pool, "%s", pool);
    snprintf(s->name, sizeof s->name, "%s", name);
    s->failures = failures;
    return s;
}

static void note_state(struct rh_server_step *s, const char *state)
{
    if (strcmp(s->state, state) == 0)
        return;
    snprintf(s->state, sizeof s->state, "%s", state);
    size_t n = strlen(s->states);
    if (n + strlen(state) + 2 < sizeof s->states)
        snprintf(s->states + n, sizeof s->states - n, "%s%s", n ? ">" : "", state);
}

static void apply_server(struct rh_step *step, struct rh_seen *seen, unsigned *nseen,
                         const struct rh_json *j, int srv, const char *pool, unsigned queued)
{
    char name[RH_NAME_MAX], state[16];
    rh_json_str(j, rh_json_get(j, srv, "name"), name, sizeof name);
    rh_json_str(j, rh_json_get(j, srv, "state"), state, sizeof state);
    double active = rh_json_num(j, rh_json_get(j, srv, "active"), 0);
    uint64_t failures = (uint64_t)rh_json_num(j, rh_json_get(j, srv, "failures"), 0);
    struct rh_server_step *s = step_server(step, pool, name);
    struct rh_seen *sn = seen_server(seen, nseen, pool, name, failures);
    if (!s || !sn)
        return;
    if (s->samples == 0)
        s->failures_base = sn->failures <= failures ? sn->failures : failures;
    s->failures_last = failures;
    sn->failures = failures;
    s->samples++;
    s->active_sum += active;
    if (active > s->active_max)
        s->active_max = (unsigned)active;
    if (queued > s->queued_max)
        s->queued_max = queued;
    s->max_conns = (unsigned)rh_json_num(j, rh_json_get(j, srv, "max_conns"), 0);
    note_state(s, state[0] ? state : "?");
}

int rh_stats_apply(struct rh_step *step, struct rh_seen *seen, unsigned *nseen,
                   const char *json, size_t len)
{
    /* Every token takes a byte of the text at least: len / 2 + 2 of them
     * always do (a proxy with 46 pools made 19,000, over a fixed 16,384,
     * and every sample failed). */
    static struct rh_json_tok *toks;
    static size_t ntoks;
    size_t want = len / 2 + 2 > RH_STATS_TOKS ? len / 2 + 2 : RH_STATS_TOKS;
    if (want > ntoks) {
        struct rh_json_tok *more = realloc(toks, want * sizeof *toks);
        if (!more)
            return -1;
        toks = more;
        ntoks = want;
    }
    struct rh_json j;
    if (ntoks > (size_t)INT32_MAX || rh_json_parse(&j, json, len, toks, (int)ntoks) < 0)
        return -1;
    int pools = rh_json_get(&j, 0, "pools");
    if (pools < 0 || j.toks[pools].type != RJ_ARRAY)
        return -1;
    for (int p = rh_json_first(&j, pools); p >= 0; p = rh_json_after(&j, pools, p)) {
        char pool[RH_NAME_MAX];
        rh_json_str(&j, rh_json_get(&j, p, "name"), pool, sizeof pool);
        unsigned queued = (unsigned)rh_json_num(&j, rh_json_get(&j, p, "queued"), 0);
        int servers = rh_json_get(&j, p, "servers");
        for (int s = rh_json_first(&j, servers); s >= 0; s = rh_json_after(&j, servers, s))
            apply_server(step, seen, nseen, &j, s, pool, queued);
    }
    return 0;
}

/* ---- the sampler -------------------------------------------------------------- */

static void sample_end(struct rh_stats *s)
{
    if (s->fd >= 0) {
        ev_io_stop(s->loop, &s->io);
        close(s->fd);
        s->fd = -1;
    }
}

/* The whole answer is in buf: fold its body in. */
static void sample_done(struct rh_stats *s)
{
    size_t end = http_head_end(s->buf, s->len, 0);
    struct http_field fields[64];
    struct http_head h = { .fields = fields, .max_fields = 64 };
    struct http_msg m = { 0 };
    if (end && http_parse_response(&m, s->buf, end, 0, &h) == 0 && h.status == 200 && s->step &&
        rh_stats_apply(s->step, s->seen, &s->nseen, s->buf + end, s->len - end) == 0)
        s->samples++;
    else
        s->failed++;
    sample_end(s);
}

/* Complete when Content-Length bytes of body are in (or at EOF). */
static int sample_complete(struct rh_stats *s)
{
    size_t end = http_head_end(s->buf, s->len, 0);
    if (!end)
        return 0;
    const char *cl = memmem(s->buf, end, "\r\nContent-Length:", 17);
    if (!cl)
        cl = memmem(s->buf, end, "\r\ncontent-length:", 17);
    return cl && s->len - end >= strtoull(cl + 17, NULL, 10);
}

static void stats_io_cb(struct ev_loop *loop, ev_io *w, int revents)
{
    (void)loop;
    struct rh_stats *s = (struct rh_stats *)((char *)w - offsetof(struct rh_stats, io));
    if (revents & EV_WRITE) {
        static const char req[] = "GET /api/stats HTTP/1.1\r\nHost: stats\r\n"
                                  "User-Agent: proxy-rehearse\r\nConnection: close\r\n\r\n";
        if (write(s->fd, req, sizeof req - 1) != (ssize_t)(sizeof req - 1)) {
            s->failed++;
            sample_end(s);
            return;
        }
        ev_io_stop(s->loop, &s->io);
        ev_io_set(&s->io, s->fd, EV_READ);
        ev_io_start(s->loop, &s->io);
        return;
    }
    for (;;) {
        if (s->cap - s->len < 4096) {
            char *nb = realloc(s->buf, s->cap * 2);
            if (!nb) {
                s->failed++;
                sample_end(s);
                return;
            }
            s->buf = nb;
            s->cap *= 2;
        }
        ssize_t n = read(s->fd, s->buf + s->len, s->cap - s->len);
        if (n < 0 && (errno == EAGAIN || errno == EINTR))
            return;
        if (n <= 0) {
            sample_done(s);
            return;
        }
        s->len += (size_t)n;
        if (sample_complete(s)) {
            sample_done(s);
            return;
        }
    }
}

static void stats_tick_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
    (void)loop;
    (void)revents;
    struct rh_stats *s = (struct rh_stats *)((char *)w - offsetof(struct rh_stats, tick));
    if (s->fd >= 0) {
        s->failed++;
        sample_end(s);
    }
    if (!s->step)
        return;
    int fd = socket(s->o->stats_addr.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return;
    if (connect(fd, (const struct sockaddr *)&s->o->stats_addr, s->o->stats_addr_len) < 0 &&
        errno != EINPROGRESS) {
        close(fd);
        s->failed++;
        return;
    }
    s->fd = fd;
    s->len = 0;
    ev_io_init(&s->io, stats_io_cb, fd, EV_WRITE);
    ev_io_start(s->loop, &s->io);
}

void rh_stats_start(struct rh_stats *s, struct ev_loop *loop, const struct rh_opts *o)
{
    memset(s, 0, sizeof *s);
    s->loop = loop;
    s->o = o;
    s->fd = -1;
    s->cap = 65536;
    s->buf = malloc(s->cap);
    ev_timer_init(&s->tick, stats_tick_cb, 0.2, 1.0);
    ev_timer_start(loop, &s->tick);
}

void rh_stats_stop(struct rh_stats *s)
{
    if (!s->loop)
        return;
    ev_timer_stop(s->loop, &s->tick);
    sample_end(s);
    free(s->buf);
    s->buf = NULL;
}

int rh_probe(const struct sockaddr_storage *addr, socklen_t len, int timeout_ms)
{
    int fd = socket(addr->ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -1;
    int rc = connect(fd, (const struct sockaddr *)addr, len);
    if (rc < 0 && errno == EINPROGRESS) {
        struct pollfd p = { .fd = fd, .events = POLLOUT };
        int err = 0;
        socklen_t el = sizeof err;
        if (poll(&p, 1, timeout_ms) <= 0)
            err = ETIMEDOUT;
        else
            getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &el);
        rc = err ? -1 : 0;
        errno = err;
    }
    int saved = errno;
    close(fd);
    errno = saved;
    return rc;
}
