/*
 * config_directives: one handler per keyword of the configuration language
 * and the keyword tables (nginx ngx_command_t style) that config.c looks
 * statements up in.  A handler gets the statement's words (argv[0] is the
 * keyword, the argument count already checked against the table), fills the
 * config, and returns 0, or -1 after recording what was expected.
 */
#include "config.h"
#include "config_parser.h"
#include "host_match.h"
#include "config_values.h"

#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* A duration for `what`; 0 only when `zero_ok`. */
static int get_duration_arg(struct config_parser *p, int line, const char *what, const char *w,
                            int zero_ok, uint64_t *dst)
{
    uint64_t ms;

    if (config_get_duration(p, line, what, w, &ms) < 0)
        return -1;
    if (ms == 0 && !zero_ok) {
        config_perr(p, line, "%s: must be more than 0", what);
        return -1;
    }
    *dst = ms;
    return 0;
}

/* ---- top-level directives ------------------------------------------------- */

static int do_workers(struct config_parser *p, int line, int argc, char **argv)
{
    (void)argc;
    if (strcmp(argv[1], "auto") == 0) {
        p->cfg->workers = 0;
        return 0;
    }
    uint64_t v;
    if (config_value_uint(argv[1], 1, CONFIG_MAX_WORKERS, &v) != CONFIG_VALUE_OK) {
        config_perr(p, line, "workers: expected a number 1-%d or auto", CONFIG_MAX_WORKERS);
        return -1;
    }
    p->cfg->workers = (unsigned)v;
    return 0;
}

/* auto|off into *flag (1|0); `name` for the error. */
static int parse_auto_off(struct config_parser *p, int line, const char *name, const char *arg, int *flag)
{
    if (strcmp(arg, "auto") == 0 || strcmp(arg, "off") == 0) {
        *flag = strcmp(arg, "auto") == 0;
        return 0;
    }
    config_perr(p, line, "%s: expected auto or off, got \"%s\"", name, arg);
    return -1;
}

static int do_cpu_affinity(struct config_parser *p, int line, int argc, char **argv)
{
    (void)argc;
    return parse_auto_off(p, line, "cpu-affinity", argv[1], &p->cfg->cpu_affinity);
}

static int do_cpu_yield(struct config_parser *p, int line, int argc, char **argv)
{
    (void)argc;
    return parse_auto_off(p, line, "cpu-yield", argv[1], &p->cfg->cpu_yield);
}

static int do_normalize_path(struct config_parser *p, int line, int argc, char **argv)
{
    (void)argc;
    if (strcmp(argv[1], "on") == 0 || strcmp(argv[1], "off") == 0) {
        p->cfg->normalize_path = strcmp(argv[1], "on") == 0;
        return 0;
    }
    config_perr(p, line, "normalize-path: expected on or off, got \"%s\"", argv[1]);
    return -1;
}

static int do_max_conns(struct config_parser *p, int line, int argc, char **argv)
{
    (void)argc;
    return config_get_uint(p, line, "max-conns", argv[1], 1, 10000000, &p->cfg->max_conns);
}

static int do_log_level(struct config_parser *p, int line, int argc, char **argv)
{
    (void)argc;
    for (enum log_level l = LOG_ERROR; l <= LOG_DEBUG; l++) {
        if (strcmp(argv[1], config_log_level_name(l)) == 0) {
            p->cfg->log_level = l;
            return 0;
        }
    }
    config_perr(p, line, "log-level: expected error, warn, info or debug, got \"%s\"", argv[1]);
    return -1;
}

static int do_access_log(struct config_parser *p, int line, int argc, char **argv)
{
    (void)argc;
    if (argv[1][0] == '\0') {
        config_perr(p, line, "access-log: expected a file path, stderr or off");
        return -1;
    }
    p->cfg->access_log_line = line;
    return config_get_string(p, line, "access-log", argv[1], p->cfg->access_log,
                             sizeof(p->cfg->access_log));
}

static int do_user(struct config_parser *p, int line, int argc, char **argv)
{
    (void)argc;
    p->cfg->user_line = line;
    return config_get_string(p, line, "user", argv[1], p->cfg->user, sizeof(p->cfg->user));
}

/* sticky secret STRING: the key of the sticky cookies' values, so that
 * balancers sharing it (and restarts) agree on them.  Short keys are
 * refused: the values must not be guessable from the server names. */
#define STICKY_SECRET_MIN 16
static int do_sticky_secret(struct config_parser *p, int line, int argc, char **argv)
{
    (void)argc;
    if (strcmp(argv[1], "secret") != 0) {
        config_perr(p, line, "sticky: expected \"sticky secret STRING\" here (\"sticky cookie NAME\" "
                    "goes in a pool)");
        return -1;
    }
    if (strlen(argv[2]) < STICKY_SECRET_MIN) {
        config_perr(p, line, "sticky secret: at least %d characters (e.g. from openssl rand -hex 16)",
                    STICKY_SECRET_MIN);
        return -1;
    }
    return config_get_string(p, line, "sticky secret", argv[2], p->cfg->sticky_secret,
                             sizeof(p->cfg->sticky_secret));
}

static int do_notify(struct config_parser *p, int line, int argc, char **argv)
{
    (void)argc;
    if (argv[1][0] == '\0') {
        config_perr(p, line, "notify: expected the path of a program");
        return -1;
    }
    return config_get_string(p, line, "notify", argv[1], p->cfg->notify, sizeof(p->cfg->notify));
}

/* "listen 80" and "listen :80" (HAProxy's and nginx's ways to say every
 * IPv4 address) are "0.0.0.0:80"; anything else is taken as written. */
static const char *listen_word(const char *w, char *buf, size_t cap)
{
    const char *port = w[0] == ':' ? w + 1 : w;
    if (!*port || strspn(port, "0123456789") != strlen(port))
        return w;
    snprintf(buf, cap, "0.0.0.0:%s", port);
    return buf;
}

static int do_listen(struct config_parser *p, int line, int argc, char **argv)
{
    struct config *cfg = p->cfg;
    struct config_addr addr;
    char any[32];
    struct config_listen *l, opts = { .line = line };

    if (config_get_addr(p, line, listen_word(argv[1], any, sizeof any), &addr) < 0)
        return -1;
    if (config_listen_options(p, line, &opts, argc - 2, argv + 2) < 0)
        return -1;
    for (size_t i = 0; i < cfg->nlistens; i++) {
        if (strcmp(cfg->listens[i].addr.text, addr.text) == 0) {
            config_perr(p, line, "duplicate listen address \"%s\" (first defined at line %d)",
                        addr.text, cfg->listens[i].line);
            return -1;
        }
        if (config_addr_overlaps(&cfg->listens[i].addr, &addr)) {
            config_perr(p, line, "listen \"%s\" takes the same port as listen \"%s\" (line %d): "
                        "a wildcard address listens on every address of its family",
                        addr.text, cfg->listens[i].addr.text, cfg->listens[i].line);
            return -1;
        }
    }
    if (!(l = config_append(p, &cfg->listens, &cfg->nlistens, sizeof(*l))))
        return -1;
    *l = opts;
    l->addr = addr;
    return 0;
}

static int do_stats(struct config_parser *p, int line, int argc, char **argv)
{
    struct config *cfg = p->cfg;

    if (argc != 2 && (argc != 4 || strcmp(argv[2], "token") != 0)) {
        config_perr(p, line, "stats: expected \"stats ADDR [token TOKEN]\"");
        return -1;
    }
    if (config_get_addr(p, line, argv[1], &cfg->stats_addr) < 0)
        return -1;
    if (argc == 4) {
        if (argv[3][0] == '\0') {
            config_perr(p, line, "stats: empty token (leave \"token\" out to disable admin actions)");
            return -1;
        }
        if (config_get_string(p, line, "stats token", argv[3], cfg->stats_token,
                              sizeof(cfg->stats_token)) < 0)
            return -1;
    }
    cfg->has_stats = 1;
    p->stats_line = line;
    return 0;
}

static int do_timeout(struct config_parser *p, int line, int argc, char **argv)
{
    static const struct { const char *name; size_t off; int zero_ok; } kinds[] = {
        { "connect", offsetof(struct config, timeout_connect_ms), 0 },
        { "client", offsetof(struct config, timeout_client_ms), 0 },
        { "keep-alive", offsetof(struct config, timeout_keep_alive_ms), 0 },
        { "server", offsetof(struct config, timeout_server_ms), 0 },
        { "queue", offsetof(struct config, timeout_queue_ms), 0 },
        { "shutdown", offsetof(struct config, timeout_shutdown_ms), 1 },
    };
    char what[64];

    (void)argc;
    for (size_t i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++) {
        if (strcmp(argv[1], kinds[i].name) != 0)
            continue;
        snprintf(what, sizeof(what), "timeout %s", kinds[i].name);
        return get_duration_arg(p, line, what, argv[2], kinds[i].zero_ok,
                                (uint64_t *)((char *)p->cfg + kinds[i].off));
    }
    config_perr(p, line, "timeout: unknown kind \"%s\" (expected connect, client, keep-alive, "
                "server, queue or shutdown)", argv[1]);
    return -1;
}

static int do_limit(struct config_parser *p, int line, int argc, char **argv)
{
    struct config *cfg = p->cfg;
    uint64_t v;

    if (strcmp(argv[1], "rate") == 0)
        return config_do_limit_rate(p, line, argc, argv);
    if (strcmp(argv[1], "client-conns") == 0)
        return config_do_limit_client_conns(p, line, argc, argv);
    if (strcmp(argv[1], "clients") == 0)
        return config_do_limit_clients(p, line, argc, argv);
    if (argc != 3) {
        config_perr(p, line, "limit %s: expected one value", argv[1]);
        return -1;
    }
    if (strcmp(argv[1], "header-size") == 0) {
        if (config_get_size(p, line, "limit header-size", argv[2], &v) < 0)
            return -1;
        if (v < 64 || v > 64 * 1024 * 1024) {
            config_perr(p, line, "limit header-size: expected a size 64-64m, got \"%s\"", argv[2]);
            return -1;
        }
        cfg->limit_header_size = (size_t)v;
        return 0;
    }
    if (strcmp(argv[1], "response-header-size") == 0) {
        if (config_get_size(p, line, "limit response-header-size", argv[2], &v) < 0)
            return -1;
        if (v < 1024 || v > 64 * 1024) {
            config_perr(p, line, "limit response-header-size: expected a size 1k-64k, got \"%s\"", argv[2]);
            return -1;
        }
        cfg->limit_response_header_size = (size_t)v;
        return 0;
    }
    if (strcmp(argv[1], "headers") == 0)
        return config_get_uint(p, line, "limit headers", argv[2], 1, 10000, &cfg->limit_headers);
    if (strcmp(argv[1], "body-size") == 0)
        return config_get_size(p, line, "limit body-size", argv[2], &cfg->limit_body_size);
    config_perr(p, line, "limit: unknown kind \"%s\" (expected header-size, response-header-size, headers, body-size, "
                "rate, client-conns or clients)",
                argv[1]);
    return -1;
}

static void pool_defaults(struct config_pool *pool)
{
    pool->balance = BALANCE_LEAST_CONN;
    pool->check = CHECK_TCP;
    strcpy(pool->check_path, "/");
    pool->expect_lo = 200;
    pool->expect_hi = 399;
    pool->interval_ms = 2000;
    pool->check_timeout_ms = 1000;
    pool->rise = 2;
    pool->fall = 3;
    pool->standby_below = 1;
    pool->slow_start_ms = 0;
    pool->retries = 2;
    pool->max_queue = 1000;
}

static int do_pool(struct config_parser *p, int line, int argc, char **argv)
{
    struct config *cfg = p->cfg;
    struct config_pool *pool;
    char name[CONFIG_NAME_MAX];

    (void)argc;
    if (config_get_name(p, line, "pool", argv[1], name) < 0)
        return -1;
    for (size_t i = 0; i < cfg->npools; i++)
        if (strcmp(cfg->pools[i].name, name) == 0)
            config_perr(p, line, "duplicate pool \"%s\" (first defined at line %d)",
                        name, cfg->pools[i].line);
    /* A duplicate is still parsed, so errors inside it are reported too. */
    if (!(pool = config_append(p, &cfg->pools, &cfg->npools, sizeof(*pool))))
        return -1;
    pool_defaults(pool);
    strcpy(pool->name, name);
    pool->line = line;
    p->stack[p->depth].kind = CFG_BLOCK_POOL;
    p->stack[p->depth].line = line;
    p->stack[p->depth].pool = cfg->npools - 1;
    p->depth++;
    p->npool_seen = 0;
    return 0;
}

/* route [host H] [path P] pool NAME | route default pool NAME */
static int do_route(struct config_parser *p, int line, int argc, char **argv)
{
    struct config *cfg = p->cfg;
    struct config_route r = { .line = line, .priority = PRIO_NORMAL };
    const char *pool = NULL;
    int has_priority = 0;
    char (*names)[CONFIG_NAME_MAX];
    int i = 1;

    if (strcmp(argv[1], "default") == 0) {
        r.is_default = 1;
        i = 2;
    }
    for (; i < argc; i += 2) {
        const char *key = argv[i];
        if (i + 1 >= argc) {
            config_perr(p, line, "route: \"%s\" needs a value", key);
            return -1;
        }
        if (!r.is_default && strcmp(key, "host") == 0 && !r.host[0]) {
            if (argv[i + 1][0] == '\0') {
                config_perr(p, line, "route: empty host");
                return -1;
            }
            if (config_get_string(p, line, "route host", argv[i + 1], r.host, sizeof(r.host)) < 0)
                return -1;
            if (!host_pattern_valid(r.host)) {
                config_perr(p, line, "route host: \"%s\": a wildcard is \"*.NAME\" (any subdomain) "
                            "or \".NAME\" (NAME and any subdomain)", r.host);
                return -1;
            }
            /* The port of a request's Host is not compared: a pattern with
             * one could never match. */
            if (r.host[0] != '[' && strchr(r.host, ':')) {
                config_perr(p, line, "route host: \"%s\": a host name without a port (the port of a "
                            "request's Host is not compared)", r.host);
                return -1;
            }
            /* A fully qualified name's dot: requests are matched without it. */
            size_t n = strlen(r.host);
            if (n > 1 && r.host[n - 1] == '.')
                r.host[n - 1] = '\0';
        } else if (!r.is_default && strcmp(key, "path") == 0 && !r.path[0]) {
            if (config_get_path(p, line, "route path", argv[i + 1], r.path, sizeof(r.path)) < 0)
                return -1;
        } else if (strcmp(key, "pool") == 0 && !pool) {
            pool = argv[i + 1];
        } else if (strcmp(key, "priority") == 0 && !has_priority) {
            if (config_route_priority(p, line, argv[i + 1], &r.priority) < 0)
                return -1;
            has_priority = 1;
        } else {
            config_perr(p, line, "route: unexpected \"%s\" (expected \"route [host H] [path P] "
                        "pool NAME [priority P]\" or \"route default pool NAME [priority P]\")", key);
            return -1;
        }
    }
    if (!pool) {
        config_perr(p, line, "route: missing \"pool NAME\"");
        return -1;
    }
    for (size_t k = 0; r.is_default && k < cfg->nroutes; k++) {
        if (cfg->routes[k].is_default) {
            config_perr(p, line, "duplicate route default (first defined at line %d)",
                        cfg->routes[k].line);
            return -1;
        }
    }
    names = realloc(p->route_pools, (cfg->nroutes + 1) * sizeof(*names));
    if (!names) {
        config_perr(p, line, "out of memory");
        return -1;
    }
    p->route_pools = names;
    snprintf(names[cfg->nroutes], CONFIG_NAME_MAX, "%s", pool);
    struct config_route *slot = config_append(p, &cfg->routes, &cfg->nroutes, sizeof(*slot));
    if (!slot)
        return -1;
    *slot = r;
    return 0;
}

/* ---- pool directives ------------------------------------------------------ */

static int do_balance(struct config_parser *p, int line, int argc, char **argv)
{
    (void)argc;
    for (enum balance_algo a = BALANCE_LEAST_CONN; a <= BALANCE_ROUND_ROBIN; a++) {
        if (strcmp(argv[1], config_balance_name(a)) == 0) {
            config_cur_pool(p)->balance = a;
            return 0;
        }
    }
    config_perr(p, line, "balance: expected least-conn or round-robin, got \"%s\"", argv[1]);
    return -1;
}

/* check http [PATH [host NAME]] | check tcp | check off */
static int do_check(struct config_parser *p, int line, int argc, char **argv)
{
    struct config_pool *pool = config_cur_pool(p);
    const char *kind = argv[1];

    if (strcmp(kind, "tcp") == 0 || strcmp(kind, "off") == 0) {
        if (argc != 2) {
            config_perr(p, line, "check %s: takes no argument", kind);
            return -1;
        }
        pool->check = kind[0] == 't' ? CHECK_TCP : CHECK_OFF;
        return 0;
    }
    if (strcmp(kind, "http") != 0) {
        config_perr(p, line, "check: unknown kind \"%s\" (expected http PATH [host NAME], tcp or off)",
                    kind);
        return -1;
    }
    if (argc == 2) {
        config_perr(p, line, "check http: missing PATH (expected \"check http PATH [host NAME]\", "
                    "e.g. check http /healthz)");
        return -1;
    }
    if (argc == 4 || (argc == 5 && strcmp(argv[3], "host") != 0)) {
        config_perr(p, line, "check http: expected \"check http PATH [host NAME]\"");
        return -1;
    }
    if (argc >= 3 && config_get_path(p, line, "check http", argv[2], pool->check_path,
                                     sizeof(pool->check_path)) < 0)
        return -1;
    if (argc == 5 && argv[4][0] == '\0') {
        config_perr(p, line, "check http: empty host");
        return -1;
    }
    if (argc == 5 && config_get_string(p, line, "check http host", argv[4], pool->check_host,
                                       sizeof(pool->check_host)) < 0)
        return -1;
    pool->check = CHECK_HTTP;
    return 0;
}

/* expect LO-HI | expect CODE */
static int do_expect(struct config_parser *p, int line, int argc, char **argv)
{
    struct config_pool *pool = config_cur_pool(p);
    char lo_text[16], *dash;
    uint64_t lo, hi;

    (void)argc;
    snprintf(lo_text, sizeof(lo_text), "%s", argv[1]);
    dash = strchr(lo_text, '-');
    if (dash)
        *dash = '\0';
    if (strlen(argv[1]) >= sizeof(lo_text) ||
        config_value_uint(lo_text, 100, 599, &lo) != CONFIG_VALUE_OK ||
        config_value_uint(dash ? dash + 1 : lo_text, 100, 599, &hi) != CONFIG_VALUE_OK) {
        config_perr(p, line, "expect: expected a status code 100-599 or a range LO-HI, got \"%s\"",
                    argv[1]);
        return -1;
    }
    if (lo > hi) {
        config_perr(p, line, "expect: range \"%s\" is reversed (expected LO-HI with LO <= HI)",
                    argv[1]);
        return -1;
    }
    pool->expect_lo = (unsigned)lo;
    pool->expect_hi = (unsigned)hi;
    return 0;
}

/* interval, check-timeout, slow-start: one duration each. */
static int do_pool_duration(struct config_parser *p, int line, int argc, char **argv)
{
    static const struct { const char *name; size_t off; int zero_ok; } kinds[] = {
        { "interval", offsetof(struct config_pool, interval_ms), 0 },
        { "check-timeout", offsetof(struct config_pool, check_timeout_ms), 0 },
        { "slow-start", offsetof(struct config_pool, slow_start_ms), 1 },
    };

    (void)argc;
    for (size_t i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++)
        if (strcmp(argv[0], kinds[i].name) == 0)
            return get_duration_arg(p, line, argv[0], argv[1], kinds[i].zero_ok,
                                    (uint64_t *)((char *)config_cur_pool(p) + kinds[i].off));
    return -1; /* not reached: the keyword table names only these */
}

/* rise, fall, standby-below, retries, max-queue: one number each. */
static int do_pool_uint(struct config_parser *p, int line, int argc, char **argv)
{
    static const struct { const char *name; unsigned lo, hi; size_t off; } kinds[] = {
        { "rise", 1, 1000, offsetof(struct config_pool, rise) },
        { "fall", 1, 1000, offsetof(struct config_pool, fall) },
        { "standby-below", 0, 100000, offsetof(struct config_pool, standby_below) },
        { "retries", 0, 100, offsetof(struct config_pool, retries) },
        { "max-queue", 0, 10000000, offsetof(struct config_pool, max_queue) },
    };

    (void)argc;
    for (size_t i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++)
        if (strcmp(argv[0], kinds[i].name) == 0)
            return config_get_uint(p, line, argv[0], argv[1], kinds[i].lo, kinds[i].hi,
                                   (unsigned *)((char *)config_cur_pool(p) + kinds[i].off));
    return -1; /* not reached */
}

/* ignore-client-abort on|off, on-down none|shutdown: a choice of two words
 * into an int flag of the pool. */
static int do_pool_choice(struct config_parser *p, int line, int argc, char **argv)
{
    static const struct { const char *name, *off_word, *on_word; size_t off; } kinds[] = {
        { "ignore-client-abort", "off", "on", offsetof(struct config_pool, ignore_client_abort) },
        { "on-down", "none", "shutdown", offsetof(struct config_pool, on_down_shutdown) },
    };

    (void)argc;
    for (size_t i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++) {
        if (strcmp(argv[0], kinds[i].name) != 0)
            continue;
        int *flag = (int *)((char *)config_cur_pool(p) + kinds[i].off);
        if (strcmp(argv[1], kinds[i].off_word) == 0 || strcmp(argv[1], kinds[i].on_word) == 0) {
            *flag = strcmp(argv[1], kinds[i].on_word) == 0;
            return 0;
        }
        config_perr(p, line, "%s: expected %s or %s, got \"%s\"", argv[0], kinds[i].on_word,
                    kinds[i].off_word, argv[1]);
        return -1;
    }
    return -1; /* not reached */
}

/* sticky cookie NAME [max-age DURATION] */
static int do_sticky(struct config_parser *p, int line, int argc, char **argv)
{
    struct config_pool *pool = config_cur_pool(p);

    if (strcmp(argv[1], "cookie") != 0 || argc == 4 || (argc == 5 && strcmp(argv[3], "max-age") != 0)) {
        config_perr(p, line, "sticky: expected \"sticky cookie NAME [max-age DURATION]\"");
        return -1;
    }
    if (config_get_name(p, line, "sticky cookie", argv[2], pool->sticky_cookie) < 0)
        return -1;
    if (argc == 5) {
        uint64_t ms;
        if (config_get_duration(p, line, "sticky cookie max-age", argv[4], &ms) < 0)
            return -1;
        /* Max-Age counts whole seconds. */
        if (ms < 1000) {
            pool->sticky_cookie[0] = '\0';
            config_perr(p, line, "sticky cookie max-age: at least 1s, got \"%s\"", argv[4]);
            return -1;
        }
        pool->sticky_max_age_ms = ms;
    }
    return 0;
}

/* Options after "server NAME ADDR": weight N, max-conns N, in any order. */
/* send-proxy v1|v2: the PROXY protocol header servers of the pool get first. */
static int do_send_proxy(struct config_parser *p, int line, int argc, char **argv)
{
    (void)argc;
    if (strcmp(argv[1], "v1") == 0 || strcmp(argv[1], "v2") == 0) {
        config_cur_pool(p)->send_proxy = argv[1][1] - '0';
        return 0;
    }
    config_perr(p, line, "send-proxy: expected v1 or v2, got \"%s\"", argv[1]);
    return -1;
}

static int server_options(struct config_parser *p, int line, int argc, char **argv,
                          struct config_server *s)
{
    char what[32];

    for (int i = 3; i < argc; i += 2) {
        snprintf(what, sizeof(what), "%s %s", argv[0], argv[i]);
        if (strcmp(argv[i], "backup") == 0) {
            config_perr(p, line, "%s: unknown option \"backup\" (a backup server is written "
                        "\"standby NAME ADDR\")", argv[0]);
            return -1;
        }
        if (strcmp(argv[i], "weight") != 0 && strcmp(argv[i], "max-conns") != 0) {
            config_perr(p, line, "%s: unknown option \"%s\" (expected weight N or max-conns N)",
                        argv[0], argv[i]);
            return -1;
        }
        if (i + 1 >= argc) {
            config_perr(p, line, "%s: needs a value", what);
            return -1;
        }
        if (argv[i][0] == 'w' ? config_get_uint(p, line, what, argv[i + 1], 1, 256, &s->weight)
                                                : config_get_uint(p, line, what, argv[i + 1], 0, 10000000,
                                                &s->max_conns))
            return -1;
    }
    return 0;
}

/* A server's ADDR: a literal IP address, or NAME:PORT, a host name that
 * resolve.c resolves (no resolution here: a parse never waits on DNS, and
 * a name that does not resolve yet is no configuration error). */
static int server_address(struct config_parser *p, int line, const char *kw, const char *w,
                          struct config_server *s)
{
    switch (config_value_host(w, s->host, sizeof s->host, &s->port)) {
    case CONFIG_VALUE_OK:
        return 0;
    case CONFIG_VALUE_HOSTNAME:
        config_perr(p, line, "%s: invalid host name in \"%s\" (expected NAME:PORT, NAME of "
                    "dot-separated labels of letters, digits, '-' and '_', at most 253 characters)",
                    kw, w);
        return -1;
    case CONFIG_VALUE_PORT_RANGE:
        config_perr(p, line, "port out of range in \"%s\"", w);
        return -1;
    default:
        break;
    }
    s->host[0] = '\0';
    if (config_get_addr(p, line, w, &s->addr) < 0)
        return -1;
    if (config_addr_is_wildcard(&s->addr)) {
        config_perr(p, line, "%s: cannot connect to the wildcard address \"%s\"", kw, w);
        return -1;
    }
    s->port = ntohs(((const struct sockaddr_in *)&s->addr.sa)->sin_port); /* same place in v6 */
    return 0;
}

/* resolve interval DURATION */
static int do_resolve(struct config_parser *p, int line, int argc, char **argv)
{
    (void)argc;
    if (strcmp(argv[1], "interval") != 0) {
        config_perr(p, line, "resolve: unknown setting \"%s\" (expected \"resolve interval DURATION\")",
                    argv[1]);
        return -1;
    }
    return get_duration_arg(p, line, "resolve interval", argv[2], 0, &p->cfg->resolve_interval_ms);
}

/* server NAME ADDR [weight N] [max-conns N], and the same for standby. */
static int do_server(struct config_parser *p, int line, int argc, char **argv)
{
    struct config_pool *pool = config_cur_pool(p);
    struct config_server s = { .weight = 1, .line = line };
    int bad = 0;

    s.role = strcmp(argv[0], "standby") == 0 ? ROLE_STANDBY : ROLE_PRIMARY;
    bad |= config_get_name(p, line, argv[0], argv[1], s.name);
    bad |= server_address(p, line, argv[0], argv[2], &s);
    bad |= server_options(p, line, argc, argv, &s);
    for (size_t i = 0; i < pool->nservers; i++) {
        const struct config_server *o = &pool->servers[i];
        if (s.name[0] && strcmp(o->name, s.name) == 0) {
            config_perr(p, line, "duplicate server \"%s\" in pool \"%s\" (first defined at line %d)",
                        s.name, pool->name, o->line);
            bad = -1;
        } else if (s.addr.len && strcmp(o->addr.text, s.addr.text) == 0) {
            config_perr(p, line, "duplicate address \"%s\" in pool \"%s\" (server \"%s\" at line %d)",
                        s.addr.text, pool->name, o->name, o->line);
            bad = -1;
        } else if (s.host[0] && strcasecmp(o->host, s.host) == 0 && o->port == s.port) {
            config_perr(p, line, "duplicate address \"%s:%u\" in pool \"%s\" (server \"%s\" at line %d)",
                        s.host, s.port, pool->name, o->name, o->line);
            bad = -1;
        }
    }
    if (bad)
        return -1;
    struct config_server *slot = config_append(p, &pool->servers, &pool->nservers, sizeof(*slot));
    if (!slot)
        return -1;
    *slot = s;
    return 0;
}

/* ---- keyword tables ------------------------------------------------------- */

const struct config_command config_top_commands[] = {
    { "workers", 1, 1, "workers N|auto", 0, do_workers },
    { "cpu-affinity", 1, 1, "cpu-affinity auto|off", 0, do_cpu_affinity },
    { "cpu-yield", 1, 1, "cpu-yield auto|off", 0, do_cpu_yield },
    { "normalize-path", 1, 1, "normalize-path on|off", 0, do_normalize_path },
    { "max-conns", 1, 1, "max-conns N", 0, do_max_conns },
    { "log-level", 1, 1, "log-level error|warn|info|debug", 0, do_log_level },
    { "access-log", 1, 1, "access-log PATH|stderr|off", 0, do_access_log },
    { "notify", 1, 1, "notify PATH", 0, do_notify },
    { "user", 1, 1, "user NAME", 0, do_user },
    { "sticky", 2, 2, "sticky secret STRING", 0, do_sticky_secret },
    { "listen", 1, 9, "listen ADDR [tls PATH [alpn LIST] [client-ca FILE] | redirect https] [proxy-protocol] [defer-accept]",
      CFG_CMD_REPEAT, do_listen },
    { "tls", 2, 3, "tls protocols LO HI | ciphers LIST | ciphersuites LIST | tickets on|off | hsts DURATION",
      CFG_CMD_KEYED, config_do_tls },
    { "stats", 1, 3, "stats ADDR [token TOKEN]", 0, do_stats },
    { "timeout", 2, 2, "timeout connect|client|keep-alive|server|queue|shutdown DURATION",
      CFG_CMD_KEYED, do_timeout },
    { "limit", 2, 4, "limit header-size SIZE | response-header-size SIZE | headers N | body-size SIZE | "
      "rate R/s [burst B] | client-conns N | clients N",
      CFG_CMD_KEYED, do_limit },
    { "resolve", 2, 2, "resolve interval DURATION", CFG_CMD_KEYED, do_resolve },
    { "surge", 1, 2, SURGE_USAGE,
      CFG_CMD_KEYED, config_do_surge },
    { "pool", 1, 1, "pool NAME {", CFG_CMD_BLOCK | CFG_CMD_REPEAT, do_pool },
    { "route", 2, 8, "route [host H] [path P] pool NAME [priority high|normal|low] | route default pool NAME",
      CFG_CMD_REPEAT, do_route },
    { NULL, 0, 0, NULL, 0, NULL },
};

const struct config_command config_pool_commands[] = {
    { "balance", 1, 1, "balance least-conn|round-robin", 0, do_balance },
    { "tls", 2, 2, "tls ca FILE|none | sni NAME | cert FILE", CFG_CMD_KEYED, config_do_pool_tls },
    { "check", 1, 4, "check http PATH [host NAME] | check tcp | check off", 0, do_check },
    { "expect", 1, 1, "expect LO-HI", 0, do_expect },
    { "interval", 1, 1, "interval DURATION", 0, do_pool_duration },
    { "check-timeout", 1, 1, "check-timeout DURATION", 0, do_pool_duration },
    { "rise", 1, 1, "rise N", 0, do_pool_uint },
    { "fall", 1, 1, "fall N", 0, do_pool_uint },
    { "standby-below", 1, 1, "standby-below N", 0, do_pool_uint },
    { "slow-start", 1, 1, "slow-start DURATION", 0, do_pool_duration },
    { "retries", 1, 1, "retries N", 0, do_pool_uint },
    { "max-queue", 1, 1, "max-queue N", 0, do_pool_uint },
    { "ignore-client-abort", 1, 1, "ignore-client-abort on|off", 0, do_pool_choice },
    { "on-down", 1, 1, "on-down none|shutdown", 0, do_pool_choice },
    { "sticky", 2, 4, "sticky cookie NAME [max-age DURATION]", 0, do_sticky },
    { "send-proxy", 1, 1, "send-proxy v1|v2", 0, do_send_proxy },
    { "server", 2, 6, "server NAME ADDR [weight N] [max-conns N]", CFG_CMD_REPEAT, do_server },
    { "standby", 2, 6, "standby NAME ADDR [weight N] [max-conns N]", CFG_CMD_REPEAT, do_server },
    { NULL, 0, 0, NULL, 0, NULL },
};
