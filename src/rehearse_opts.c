/*
 * rehearse_opts: the command line of `proxy rehearse` and the request mix.
 *
 * Values are checked here, with a message naming the option, so that a
 * run never starts with a setting it would misread (exit 1); an unknown
 * option or a missing URL is a usage error (exit 2).
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <netdb.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "config_values.h"
#include "rehearse_opts.h"

#define RH_MAX_RATE 1000000u

static int bad(char *err, size_t len, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int bad(char *err, size_t len, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, len, fmt, ap);
    va_end(ap);
    return -1;
}

void rh_usage(FILE *out)
{
    fprintf(out,
            "usage: proxy rehearse URL [--rate FROM:TO:STEP] [--step-time 20s] [--conns N]\n"
            "                      [--paths FILE] [--slo p99=300ms,errors=0.1%%]\n"
            "                      [--stats ADDR:PORT] [--report DIR] [--header 'Name: value']...\n"
            "                      [--timeout 10s] [--quiet]\n"
            "  Sends requests open loop (at the step's rate whatever the answers) from FROM\n"
            "  to TO requests/s by STEP (default 50:500:50), each step for --step-time, and\n"
            "  stops at the first step whose p99 or error ratio breaks --slo.\n"
            "  Exit: 0 every step held, 3 the SLO broke, 1 error, 2 usage.\n");
}

static int parse_uint(const char *s, unsigned lo, unsigned hi, unsigned *out)
{
    char *end;
    errno = 0;
    if (!isdigit((unsigned char)*s))
        return -1;
    unsigned long v = strtoul(s, &end, 10);
    if (errno || *end || v < lo || v > hi)
        return -1;
    *out = (unsigned)v;
    return 0;
}

int rh_opts_rate(struct rh_opts *o, const char *s, char *err, size_t errlen)
{
    char buf[64], *parts[3] = { 0 };
    int n = 0;
    if (strlen(s) >= sizeof buf)
        return bad(err, errlen, "--rate: expected FROM:TO:STEP (e.g. 100:1000:100), got \"%s\"", s);
    strcpy(buf, s);
    for (char *p = buf, *c; n < 3; p = c + 1) {
        parts[n++] = p;
        if (n == 3 || !(c = strchr(p, ':')))
            break; /* a third colon stays in STEP, to be refused */
        *c = '\0';
    }
    unsigned v[3];
    for (int i = 0; i < n; i++)
        if (parse_uint(parts[i], 1, RH_MAX_RATE, &v[i]) < 0)
            return bad(err, errlen,
                       "--rate: \"%s\" is not a rate in requests/s (1 to %u) in \"%s\"; "
                       "expected FROM:TO:STEP", parts[i], RH_MAX_RATE, s);
    if (strchr(parts[n - 1], ':'))
        return bad(err, errlen, "--rate: expected FROM:TO:STEP, got \"%s\"", s);
    o->rate_from = v[0];
    o->rate_to = n > 1 ? v[1] : v[0];
    o->rate_step = n > 2 ? v[2] : v[0];
    if (o->rate_to < o->rate_from)
        return bad(err, errlen, "--rate: TO (%u) is below FROM (%u)", o->rate_to, o->rate_from);
    if (rh_opts_nsteps(o) > RH_MAX_STEPS)
        return bad(err, errlen, "--rate: \"%s\" makes more than %d steps", s, RH_MAX_STEPS);
    return 0;
}

int rh_opts_nsteps(const struct rh_opts *o)
{
    unsigned span = o->rate_to - o->rate_from;
    return (int)(span / o->rate_step + (span % o->rate_step != 0)) + 1;
}

unsigned rh_opts_step_rate(const struct rh_opts *o, int k)
{
    unsigned long long r = o->rate_from + (unsigned long long)k * o->rate_step;
    return r < o->rate_to ? (unsigned)r : o->rate_to;
}

static int parse_percent(const char *s, double *out)
{
    char *end;
    double v = strtod(s, &end);
    if (end == s || v < 0)
        return -1;
    if (*end == '%') {
        v /= 100.0;
        end++;
    }
    if (*end || v > 1.0)
        return -1;
    *out = v;
    return 0;
}

int rh_opts_slo(struct rh_opts *o, const char *s, char *err, size_t errlen)
{
    char buf[128];
    if (strlen(s) >= sizeof buf)
        return bad(err, errlen, "--slo: too long");
    strcpy(buf, s);
    char *save = NULL;
    for (char *item = strtok_r(buf, ",", &save); item; item = strtok_r(NULL, ",", &save)) {
        char *eq = strchr(item, '=');
        if (!eq)
            return bad(err, errlen, "--slo: \"%s\" is not NAME=VALUE (p99=300ms, errors=0.1%%)",
                       item);
        *eq++ = '\0';
        if (strcmp(item, "p99") == 0) {
            uint64_t ms;
            if (config_parse_duration(eq, &ms) < 0 || ms == 0)
                return bad(err, errlen, "--slo: p99=\"%s\" is not a duration (e.g. 300ms, 1s)", eq);
            o->slo_p99_ms = (double)ms;
        } else if (strcmp(item, "errors") == 0) {
            if (parse_percent(eq, &o->slo_errors) < 0)
                return bad(err, errlen,
                           "--slo: errors=\"%s\" is not a share (e.g. 0.1%% or 0.001)", eq);
        } else {
            return bad(err, errlen, "--slo: unknown objective \"%s\" (expected p99 or errors)",
                       item);
        }
    }
    return 0;
}

/* http://HOST[:PORT][/PATH]: HOST a name, an IPv4 or a [IPv6] address. */
static int parse_url(struct rh_opts *o, const char *url, char *err, size_t errlen)
{
    if (strncasecmp(url, "https://", 8) == 0)
        return bad(err, errlen, "%s: https is not supported yet (TLS lands later); "
                   "rehearse the plain http listener", url);
    if (strncasecmp(url, "http://", 7) != 0)
        return bad(err, errlen, "%s: expected an http:// URL", url);
    const char *auth = url + 7, *slash = strchr(auth, '/');
    size_t alen = slash ? (size_t)(slash - auth) : strlen(auth);
    if (alen == 0 || alen >= sizeof o->host)
        return bad(err, errlen, "%s: no host in the URL", url);
    memcpy(o->host, auth, alen);
    o->host[alen] = '\0';
    snprintf(o->path, sizeof o->path, "%s", slash ? slash : "/");

    char name[256];
    const char *port = "80", *colon;
    if (o->host[0] == '[') {
        const char *close = strchr(o->host, ']');
        if (!close)
            return bad(err, errlen, "%s: unterminated [IPv6] address", url);
        snprintf(name, sizeof name, "%.*s", (int)(close - o->host - 1), o->host + 1);
        if (close[1] == ':')
            port = close + 2;
        else if (close[1])
            return bad(err, errlen, "%s: unexpected \"%s\" after the address", url, close + 1);
    } else if ((colon = strrchr(o->host, ':'))) {
        snprintf(name, sizeof name, "%.*s", (int)(colon - o->host), o->host);
        port = colon + 1;
    } else {
        snprintf(name, sizeof name, "%s", o->host);
    }
    unsigned pv;
    if (parse_uint(port, 1, 65535, &pv) < 0)
        return bad(err, errlen, "%s: bad port \"%s\"", url, port);
    snprintf(o->port_text, sizeof o->port_text, "%u", pv);

    struct addrinfo hints = { .ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM }, *res;
    int rc = getaddrinfo(name, o->port_text, &hints, &res);
    if (rc != 0)
        return bad(err, errlen, "%s: cannot resolve \"%s\": %s", url, name, gai_strerror(rc));
    memcpy(&o->addr, res->ai_addr, res->ai_addrlen);
    o->addr_len = res->ai_addrlen;
    freeaddrinfo(res);
    return 0;
}

static int parse_header(const char *h, char *err, size_t errlen)
{
    const char *colon = strchr(h, ':');
    if (!colon || colon == h || strpbrk(h, "\r\n"))
        return bad(err, errlen, "--header: expected 'Name: value', got \"%s\"", h);
    for (const char *p = h; p < colon; p++)
        if (!isalnum((unsigned char)*p) && !strchr("!#$%&'*+-.^_`|~", *p))
            return bad(err, errlen, "--header: \"%.*s\" is not a field name", (int)(colon - h), h);
    return 0;
}

/* The option names that take a value, in one table. */
enum { O_RATE, O_STEP_TIME, O_CONNS, O_PATHS, O_SLO, O_STATS, O_REPORT, O_HEADER, O_TIMEOUT };
static const char *const opt_names[] = {
    "--rate", "--step-time", "--conns", "--paths", "--slo", "--stats", "--report", "--header",
    "--timeout",
};

static int set_option(struct rh_opts *o, int which, const char *v, char *err, size_t errlen)
{
    uint64_t ms;
    struct config_addr a;
    switch (which) {
    case O_RATE: return rh_opts_rate(o, v, err, errlen);
    case O_STEP_TIME:
        if (config_parse_duration(v, &ms) < 0 || ms < 100)
            return bad(err, errlen, "--step-time: \"%s\" is not a duration of 100ms or more "
                       "(e.g. 20s)", v);
        o->step_ms = ms;
        return 0;
    case O_TIMEOUT:
        if (config_parse_duration(v, &ms) < 0 || ms == 0 || ms > 60000)
            return bad(err, errlen, "--timeout: \"%s\" is not a duration up to 60s (e.g. 10s)", v);
        o->timeout_ms = ms;
        return 0;
    case O_CONNS:
        if (parse_uint(v, 1, 1000000, &o->conns) < 0)
            return bad(err, errlen, "--conns: \"%s\" is not a number of connections (1 or more)", v);
        return 0;
    case O_PATHS: o->paths_file = v; return 0;
    case O_SLO: return rh_opts_slo(o, v, err, errlen);
    case O_STATS:
        if (config_parse_addr(v, &a) < 0 || config_addr_is_wildcard(&a))
            return bad(err, errlen, "--stats: \"%s\" is not ADDR:PORT of the proxy's stats port "
                       "(e.g. 127.0.0.1:8404)", v);
        memcpy(&o->stats_addr, &a.sa, sizeof a.sa);
        o->stats_addr_len = a.len;
        snprintf(o->stats_text, sizeof o->stats_text, "%s", a.text);
        o->have_stats = 1;
        return 0;
    case O_REPORT: o->report_dir = v; return 0;
    case O_HEADER:
        if (o->nheaders >= RH_MAX_HEADERS)
            return bad(err, errlen, "--header: at most %d", RH_MAX_HEADERS);
        if (parse_header(v, err, errlen) < 0)
            return -1;
        o->headers[o->nheaders++] = v;
        return 0;
    }
    return -1;
}

static void opts_defaults(struct rh_opts *o)
{
    memset(o, 0, sizeof *o);
    o->rate_from = 50;
    o->rate_to = 500;
    o->rate_step = 50;
    o->step_ms = 20000;
    o->timeout_ms = 10000;
    o->slo_p99_ms = 300;
    o->slo_errors = 0.001;
}

int rh_opts_parse(struct rh_opts *o, int argc, char **argv, char *err, size_t errlen)
{
    opts_defaults(o);
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
            bad(err, errlen, "help");
            return 2;
        }
        if (strcmp(a, "--quiet") == 0 || strcmp(a, "-q") == 0) {
            o->quiet = 1;
            continue;
        }
        if (a[0] != '-') {
            if (o->url) {
                bad(err, errlen, "unexpected argument \"%s\" (one URL only)", a);
                return 2;
            }
            o->url = a;
            continue;
        }
        /* --name=value and --name value */
        const char *eq = strchr(a, '='), *v = NULL;
        size_t nlen = eq ? (size_t)(eq - a) : strlen(a);
        int which = -1;
        for (size_t k = 0; k < sizeof opt_names / sizeof opt_names[0]; k++)
            if (strlen(opt_names[k]) == nlen && strncmp(opt_names[k], a, nlen) == 0)
                which = (int)k;
        if (which < 0) {
            bad(err, errlen, "unknown option \"%.*s\"", (int)nlen, a);
            return 2;
        }
        if (eq) {
            v = eq + 1;
        } else if (i + 1 < argc) {
            v = argv[++i];
        } else {
            bad(err, errlen, "%s needs a value", opt_names[which]);
            return 2;
        }
        if (set_option(o, which, v, err, errlen) < 0)
            return 1;
    }
    if (!o->url) {
        bad(err, errlen, "no URL to rehearse (e.g. http://127.0.0.1:8080/)");
        return 2;
    }
    if ((double)o->rate_from * (double)o->step_ms < 1000.0) {
        bad(err, errlen, "--step-time: %.1fs at %u req/s sends no request; make it longer",
            (double)o->step_ms / 1000.0, o->rate_from);
        return 1;
    }
    return parse_url(o, o->url, err, errlen) < 0 ? 1 : 0;
}

unsigned rh_opts_conns(const struct rh_opts *o, unsigned long long nofile)
{
    /* Enough that the schedule holds until latency is well past the SLO:
     * in flight = rate x latency (Little's law). */
    double hold_s = o->slo_p99_ms * 2 / 1000.0 > 0.5 ? o->slo_p99_ms * 2 / 1000.0 : 0.5;
    unsigned long long n = o->conns ? o->conns : (unsigned long long)(o->rate_to * hold_s);
    if (!o->conns) {
        if (n < 64)
            n = 64;
        if (n > 20000)
            n = 20000;
    }
    /* Leave room for stdio, the loop, the stats connection and reports. */
    if (nofile > 64 && n > nofile - 32)
        n = nofile - 32;
    return (unsigned)n;
}

/* ---- the request mix --------------------------------------------------------- */

static char *read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    size_t cap = 4096, n = 0;
    char *buf = malloc(cap);
    size_t r;
    while (buf && (r = fread(buf + n, 1, cap - n, f)) > 0) {
        n += r;
        if (n == cap) {
            char *nb = realloc(buf, cap *= 2);
            if (!nb) {
                free(buf);
                buf = NULL;
            }
            buf = nb;
        }
    }
    fclose(f);
    if (buf)
        *len = n;
    return buf;
}

static int has_header(const struct rh_opts *o, const char *name)
{
    size_t n = strlen(name);
    for (unsigned i = 0; i < o->nheaders; i++)
        if (strncasecmp(o->headers[i], name, n) == 0 && o->headers[i][n] == ':')
            return 1;
    return 0;
}

static int build_request(const struct rh_opts *o, struct rh_entry *e, const char *body,
                         size_t body_len)
{
    size_t cap = 512 + strlen(e->path) + body_len + strlen(o->host);
    for (unsigned i = 0; i < o->nheaders; i++)
        cap += strlen(o->headers[i]) + 2;
    e->req = malloc(cap);
    if (!e->req)
        return -1;
    size_t n = (size_t)snprintf(e->req, cap, "%s %s HTTP/1.1\r\n", e->method, e->path);
    if (!has_header(o, "Host"))
        n += (size_t)snprintf(e->req + n, cap - n, "Host: %s\r\n", o->host);
    if (!has_header(o, "User-Agent"))
        n += (size_t)snprintf(e->req + n, cap - n, "User-Agent: proxy-rehearse\r\n");
    for (unsigned i = 0; i < o->nheaders; i++)
        n += (size_t)snprintf(e->req + n, cap - n, "%s\r\n", o->headers[i]);
    if (body || strcmp(e->method, "POST") == 0 || strcmp(e->method, "PUT") == 0)
        n += (size_t)snprintf(e->req + n, cap - n, "Content-Length: %zu\r\n", body_len);
    n += (size_t)snprintf(e->req + n, cap - n, "\r\n");
    if (body_len)
        memcpy(e->req + n, body, body_len);
    e->req_len = n + body_len;
    return 0;
}

static int valid_method(const char *m)
{
    static const char *const ok[] = { "GET", "HEAD", "POST", "PUT", "DELETE", "PATCH", "OPTIONS" };
    for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++)
        if (strcmp(m, ok[i]) == 0)
            return 1;
    return 0;
}

/* One "WEIGHT METHOD PATH [BODYFILE]" line into e.  0 or -1. */
static int parse_path_line(const struct rh_opts *o, char *line, int lineno, struct rh_entry *e,
                           char *err, size_t errlen)
{
    char *save = NULL, *w = strtok_r(line, " \t", &save), *m = strtok_r(NULL, " \t", &save);
    char *p = strtok_r(NULL, " \t", &save), *bodyf = strtok_r(NULL, " \t", &save);
    const char *f = o->paths_file;
    if (!w || !m || !p || strtok_r(NULL, " \t", &save))
        return bad(err, errlen, "%s:%d: expected WEIGHT METHOD PATH [BODYFILE]", f, lineno);
    if (parse_uint(w, 1, 1000000, &e->weight) < 0)
        return bad(err, errlen, "%s:%d: weight \"%s\" is not a number from 1", f, lineno, w);
    if (!valid_method(m))
        return bad(err, errlen, "%s:%d: unknown method \"%s\"", f, lineno, m);
    if (p[0] != '/')
        return bad(err, errlen, "%s:%d: path \"%s\" does not start with /", f, lineno, p);
    snprintf(e->method, sizeof e->method, "%s", m);
    e->path = strdup(p);
    char *body = NULL;
    size_t blen = 0;
    if (bodyf && !(body = read_file(bodyf, &blen)))
        return bad(err, errlen, "%s:%d: cannot read body file %s: %s", f, lineno, bodyf,
                   strerror(errno));
    int rc = e->path ? build_request(o, e, body, blen) : -1;
    free(body);
    return rc < 0 ? bad(err, errlen, "out of memory") : 0;
}

int rh_entries_load(const struct rh_opts *o, struct rh_entry **out, char *err, size_t errlen)
{
    struct rh_entry *e = NULL;
    int n = 0;
    if (!o->paths_file) {
        e = calloc(1, sizeof *e);
        if (!e)
            return bad(err, errlen, "out of memory");
        e->weight = 1;
        strcpy(e->method, "GET");
        e->path = strdup(o->path);
        if (!e->path || build_request(o, e, NULL, 0) < 0) {
            rh_entries_free(e, 1);
            return bad(err, errlen, "out of memory");
        }
        *out = e;
        return 1;
    }
    FILE *f = fopen(o->paths_file, "r");
    if (!f)
        return bad(err, errlen, "--paths: cannot open %s: %s", o->paths_file, strerror(errno));
    char line[4096];
    int lineno = 0;
    while (fgets(line, sizeof line, f)) {
        lineno++;
        line[strcspn(line, "\r\n")] = '\0';
        char *s = line + strspn(line, " \t");
        if (*s == '\0' || *s == '#')
            continue;
        struct rh_entry *ne = realloc(e, (size_t)(n + 1) * sizeof *e);
        if (!ne)
            break;
        e = ne;
        memset(&e[n], 0, sizeof e[n]);
        if (parse_path_line(o, s, lineno, &e[n++], err, errlen) < 0) {
            fclose(f);
            rh_entries_free(e, n);
            return -1;
        }
    }
    fclose(f);
    if (n == 0) {
        rh_entries_free(e, n);
        return bad(err, errlen, "--paths: %s has no WEIGHT METHOD PATH line", o->paths_file);
    }
    *out = e;
    return n;
}

void rh_entries_free(struct rh_entry *e, int n)
{
    if (!e)
        return;
    for (int i = 0; i < n; i++) {
        free(e[i].path);
        free(e[i].req);
    }
    free(e);
}
