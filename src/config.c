/*
 * config: what every directive handler builds on - the error list with
 * file and line, and the value readers whose messages say what was
 * expected (see config_parser.h).  The keyword tables live in their
 * modules' files and config_load.c runs them, so this file depends on none
 * of them.
 */
#include "config.h"
#include "config_parser.h"
#include "config_values.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- errors --------------------------------------------------------------- */

void config_errors_add(struct config_errors *errs, char *msg)
{
    char **msgs;

    if (!errs || !msg) {
        free(msg);
        return;
    }
    msgs = realloc(errs->msgs, (errs->n + 1) * sizeof(*msgs));
    if (!msgs) {
        free(msg);
        return;
    }
    errs->msgs = msgs;
    errs->msgs[errs->n++] = msg;
}

/* Records "FILE:LINE: message", or "FILE: message" for line 0 (the file as
 * a whole). */
void config_perr(struct config_parser *p, int line, const char *fmt, ...)
{
    char body[1024];
    char *msg;
    va_list ap;
    int n;

    va_start(ap, fmt);
    vsnprintf(body, sizeof(body), fmt, ap);
    va_end(ap);
    if (line > 0)
        n = asprintf(&msg, "%s:%d: %s", p->file, line, body);
    else
        n = asprintf(&msg, "%s: %s", p->file, body);
    p->nerrors++;
    config_errors_add(p->errs, n < 0 ? NULL : msg);
}

void config_errors_clear(struct config_errors *errs)
{
    if (!errs)
        return;
    for (size_t i = 0; i < errs->n; i++)
        free(errs->msgs[i]);
    free(errs->msgs);
    errs->msgs = NULL;
    errs->n = 0;
}

/* ---- values, with the message that says what was expected ---------------- */

int config_get_uint(struct config_parser *p, int line, const char *what, const char *w,
                    unsigned lo, unsigned hi, unsigned *out)
{
    uint64_t v;

    if (config_value_uint(w, lo, hi, &v) != CONFIG_VALUE_OK) {
        config_perr(p, line, "%s: expected a number %u-%u, got \"%s\"", what, lo, hi, w);
        return -1;
    }
    *out = (unsigned)v;
    return 0;
}

int config_get_duration(struct config_parser *p, int line, const char *what, const char *w,
                        uint64_t *out)
{
    switch (config_value_duration(w, out)) {
    case CONFIG_VALUE_OK:
        return 0;
    case CONFIG_VALUE_NO_UNIT:
        config_perr(p, line, "%s: missing unit in \"%s\" (expected e.g. 250ms, 2s, 5m, 1h)", what, w);
        break;
    case CONFIG_VALUE_BAD_UNIT:
        config_perr(p, line, "%s: unknown unit in \"%s\" (expected ms, s, m, h or d)", what, w);
        break;
    case CONFIG_VALUE_RANGE:
        config_perr(p, line, "%s: duration too large in \"%s\"", what, w);
        break;
    default:
        config_perr(p, line, "%s: expected a duration, got \"%s\" (e.g. 250ms, 2s, 5m, 1h)", what, w);
        break;
    }
    return -1;
}

int config_get_size(struct config_parser *p, int line, const char *what, const char *w,
                    uint64_t *out)
{
    int r = config_value_size(w, out);

    if (r == CONFIG_VALUE_OK)
        return 0;
    if (r == CONFIG_VALUE_RANGE)
        config_perr(p, line, "%s: size too large in \"%s\"", what, w);
    else
        config_perr(p, line, "%s: expected a size, got \"%s\" (e.g. 512, 16k, 1m, 1g)", what, w);
    return -1;
}

int config_get_addr(struct config_parser *p, int line, const char *w, struct config_addr *out)
{
    switch (config_value_addr(w, out)) {
    case CONFIG_VALUE_OK:
        return 0;
    case CONFIG_VALUE_PORT_RANGE:
        config_perr(p, line, "port out of range in \"%s\"", w);
        break;
    case CONFIG_VALUE_NO_PORT:
        config_perr(p, line, "missing port in \"%s\" (expected HOST:PORT)", w);
        break;
    case CONFIG_VALUE_HOSTNAME:
        config_perr(p, line, "host names are not resolved, in \"%s\" "
                    "(expected an IP address or localhost)", w);
        break;
    default:
        config_perr(p, line, "invalid address \"%s\" "
                    "(expected IPv4:PORT, *:PORT, localhost:PORT or [IPv6]:PORT)", w);
        break;
    }
    return -1;
}

int config_get_string(struct config_parser *p, int line, const char *what, const char *w,
                      char *dst, size_t dstsz)
{
    if (strlen(w) >= dstsz) {
        config_perr(p, line, "%s: too long (at most %zu characters)", what, dstsz - 1);
        return -1;
    }
    strcpy(dst, w);
    return 0;
}

/* Pool and server names appear in stats URLs and metric labels: keep them
 * to characters that need no escaping there. */
int config_get_name(struct config_parser *p, int line, const char *what, const char *w, char *dst)
{
    size_t n = strlen(w);

    if (n == 0 || n >= CONFIG_NAME_MAX || strspn(w, "abcdefghijklmnopqrstuvwxyz"
            "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.") != n) {
        config_perr(p, line, "%s: invalid name \"%s\" (expected 1-%d letters, digits, "
                    "'-', '_' or '.')", what, w, CONFIG_NAME_MAX - 1);
        return -1;
    }
    strcpy(dst, w);
    return 0;
}

int config_get_path(struct config_parser *p, int line, const char *what, const char *w,
                    char *dst, size_t dstsz)
{
    if (w[0] != '/') {
        config_perr(p, line, "%s: expected a path starting with \"/\", got \"%s\"", what, w);
        return -1;
    }
    return config_get_string(p, line, what, w, dst, dstsz);
}

/* Appends one zeroed element to a growing array; NULL when out of memory. */
void *config_append(struct config_parser *p, void *arrp, size_t *n, size_t size)
{
    void **arr = arrp;
    char *grown = realloc(*arr, (*n + 1) * size);

    if (!grown) {
        config_perr(p, 0, "out of memory");
        return NULL;
    }
    *arr = grown;
    memset(grown + *n * size, 0, size);
    return grown + (*n)++ * size;
}

struct config_pool *config_cur_pool(struct config_parser *p)
{
    return &p->cfg->pools[p->stack[p->depth - 1].pool];
}

/* ---- the public helpers of config.h: whether a value is good (config_values.c says why) ---- */

int config_parse_duration(const char *word, uint64_t *out_ms)
{
    return config_value_duration(word, out_ms) == CONFIG_VALUE_OK ? 0 : -1;
}

int config_parse_size(const char *word, uint64_t *out)
{
    return config_value_size(word, out) == CONFIG_VALUE_OK ? 0 : -1;
}

int config_parse_addr(const char *word, struct config_addr *out)
{
    return config_value_addr(word, out) == CONFIG_VALUE_OK ? 0 : -1;
}

int config_addr_equal(const struct config_addr *a, const struct config_addr *b)
{
    return a->len == b->len && memcmp(&a->sa, &b->sa, a->len) == 0;
}

/* The port, and whether the address is the family's wildcard. */
static unsigned addr_port(const struct config_addr *a, int *any)
{
    if (a->sa.ss_family == AF_INET) {
        const struct sockaddr_in *in = (const struct sockaddr_in *)&a->sa;
        *any = in->sin_addr.s_addr == htonl(INADDR_ANY);
        return ntohs(in->sin_port);
    }
    const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)&a->sa;
    *any = IN6_IS_ADDR_UNSPECIFIED(&in6->sin6_addr);
    return ntohs(in6->sin6_port);
}

int config_addr_overlaps(const struct config_addr *a, const struct config_addr *b)
{
    int a_any, b_any;
    if (a->sa.ss_family != b->sa.ss_family || addr_port(a, &a_any) != addr_port(b, &b_any))
        return 0; /* IPv6 sockets are IPV6_V6ONLY: the families never meet */
    return a_any || b_any || config_addr_equal(a, b);
}

const char *config_log_level_name(enum log_level level)
{
    static const char *names[] = { "error", "warn", "info", "debug" };
    return (unsigned)level < 4 ? names[level] : "unknown";
}

const char *config_balance_name(enum balance_algo algo)
{
    static const char *names[] = { "least-conn", "round-robin" };
    return (unsigned)algo < 2 ? names[algo] : "unknown";
}

const char *config_check_name(enum check_kind kind)
{
    static const char *names[] = { "tcp", "http", "off" };
    return (unsigned)kind < 3 ? names[kind] : "unknown";
}

const char *config_role_name(enum server_role role)
{
    static const char *names[] = { "primary", "standby" };
    return (unsigned)role < 2 ? names[role] : "unknown";
}
