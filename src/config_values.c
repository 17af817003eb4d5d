/*
 * config_values: the value syntaxes of the configuration language -
 * durations, sizes, socket addresses - and the enum names.  Kept apart from
 * the parser (config.c) because stats and tests use them too.
 *
 * The config_value_* functions say *why* a value is bad (enum config_value)
 * so the parser can tell the operator what was expected; the config_parse_*
 * wrappers of config.h (in config.c, which calls down to these) only say
 * whether it is.
 */
#include "config_values.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>

/* Reads a run of decimal digits into *out; returns the first byte after it,
 * or NULL when there is no digit or the number overflows. */
static const char *read_digits(const char *w, uint64_t *out, int *overflow)
{
    uint64_t v = 0;
    const char *s = w;

    *overflow = 0;
    for (; *s >= '0' && *s <= '9'; s++) {
        unsigned d = (unsigned)(*s - '0');
        if (v > (UINT64_MAX - d) / 10)
            *overflow = 1;
        else
            v = v * 10 + d;
    }
    if (s == w)
        return NULL;
    *out = v;
    return s;
}

static int mul_checked(uint64_t v, uint64_t factor, uint64_t *out)
{
    if (factor && v > UINT64_MAX / factor)
        return CONFIG_VALUE_RANGE;
    *out = v * factor;
    return CONFIG_VALUE_OK;
}

int config_value_uint(const char *w, uint64_t lo, uint64_t hi, uint64_t *out)
{
    uint64_t v;
    int overflow;
    const char *end = read_digits(w, &v, &overflow);

    if (!end || *end)
        return CONFIG_VALUE_BAD;
    if (overflow || v < lo || v > hi)
        return CONFIG_VALUE_RANGE;
    *out = v;
    return CONFIG_VALUE_OK;
}

int config_value_duration(const char *w, uint64_t *out_ms)
{
    static const struct { const char *unit; uint64_t ms; } units[] = {
        { "ms", 1 }, { "s", 1000 }, { "m", 60000 }, { "h", 3600000 }, { "d", 86400000 },
    };
    uint64_t v;
    int overflow;
    const char *unit = read_digits(w, &v, &overflow);

    if (!unit)
        return CONFIG_VALUE_BAD;
    if (*unit == '\0')
        return CONFIG_VALUE_NO_UNIT;
    if (!isalpha((unsigned char)*unit))
        return CONFIG_VALUE_BAD; /* "1.5s", "10-s": not a unit problem */
    for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++)
        if (strcmp(unit, units[i].unit) == 0)
            return overflow ? CONFIG_VALUE_RANGE : mul_checked(v, units[i].ms, out_ms);
    return CONFIG_VALUE_BAD_UNIT;
}

int config_value_size(const char *w, uint64_t *out)
{
    uint64_t v, factor;
    int overflow;
    const char *suffix = read_digits(w, &v, &overflow);

    if (!suffix)
        return CONFIG_VALUE_BAD;
    switch (tolower((unsigned char)suffix[0])) {
    case '\0': factor = 1; break;
    case 'k': factor = 1024; break;
    case 'm': factor = 1024 * 1024; break;
    case 'g': factor = 1024 * 1024 * 1024; break;
    default: return CONFIG_VALUE_BAD;
    }
    if (suffix[0] && suffix[1])
        return CONFIG_VALUE_BAD;
    return overflow ? CONFIG_VALUE_RANGE : mul_checked(v, factor, out);
}

/* "65535" -> 65535; anything but 1..65535 in digits is refused. */
static int parse_port(const char *s, unsigned *port)
{
    uint64_t v;
    int r = config_value_uint(s, 1, 65535, &v);

    if (r == CONFIG_VALUE_OK)
        *port = (unsigned)v;
    return r == CONFIG_VALUE_RANGE ? CONFIG_VALUE_PORT_RANGE : r;
}

static int fill_v4(const char *host, unsigned port, struct config_addr *out)
{
    struct sockaddr_in *sin = (struct sockaddr_in *)&out->sa;
    char buf[INET_ADDRSTRLEN];

    sin->sin_family = AF_INET;
    sin->sin_port = htons((uint16_t)port);
    if (strcmp(host, "*") == 0)
        host = "0.0.0.0";
    else if (strcmp(host, "localhost") == 0)
        host = "127.0.0.1"; /* no resolver: a reload must never block on DNS */
    if (inet_pton(AF_INET, host, &sin->sin_addr) != 1)
        return CONFIG_VALUE_BAD;
    out->len = sizeof(*sin);
    inet_ntop(AF_INET, &sin->sin_addr, buf, sizeof(buf));
    snprintf(out->text, sizeof(out->text), "%s:%u", buf, port);
    return CONFIG_VALUE_OK;
}

static int fill_v6(const char *host, unsigned port, struct config_addr *out)
{
    struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&out->sa;
    char buf[INET6_ADDRSTRLEN];

    sin6->sin6_family = AF_INET6;
    sin6->sin6_port = htons((uint16_t)port);
    if (inet_pton(AF_INET6, host, &sin6->sin6_addr) != 1)
        return CONFIG_VALUE_BAD;
    out->len = sizeof(*sin6);
    inet_ntop(AF_INET6, &sin6->sin6_addr, buf, sizeof(buf));
    snprintf(out->text, sizeof(out->text), "[%s]:%u", buf, port);
    return CONFIG_VALUE_OK;
}

/* A host that is neither an address nor a keyword is a name: servers
 * take one (config_value_host), listen and stats do not; telling the
 * operator so beats "invalid address".  '_' is in: Docker Compose service
 * names have it, and its DNS answers for them. */
static int looks_like_name(const char *host)
{
    int alpha = 0;

    for (const char *s = host; *s; s++) {
        if (isalpha((unsigned char)*s))
            alpha = 1;
        else if (!isdigit((unsigned char)*s) && *s != '.' && *s != '-' && *s != '_')
            return 0;
    }
    return alpha;
}

/* Labels of 1-63 characters that neither start nor end with '-', 253 at
 * most in all (RFC 1035; one final '.' of a fully qualified name is
 * allowed). */
static int host_name_valid(const char *name)
{
    size_t n = strlen(name), label = 0;

    if (n && name[n - 1] == '.')
        n--;
    if (n == 0 || n > 253)
        return 0;
    for (size_t i = 0; i <= n; i++) {
        if (i == n || name[i] == '.') {
            if (label == 0 || label > 63 || name[i - 1] == '-')
                return 0;
            label = 0;
        } else if (label++ == 0 && name[i] == '-') {
            return 0;
        }
    }
    return 1;
}

int config_value_host(const char *w, char *host, size_t cap, unsigned *port)
{
    const char *colon = strrchr(w, ':');
    size_t hlen;
    char name[CONFIG_HOST_MAX + 1];
    int r;

    if (w[0] == '[' || !colon)
        return CONFIG_VALUE_BAD;
    hlen = (size_t)(colon - w);
    if (hlen == 0 || hlen >= sizeof name)
        return hlen ? CONFIG_VALUE_HOSTNAME : CONFIG_VALUE_BAD;
    memcpy(name, w, hlen);
    name[hlen] = '\0';
    if (!looks_like_name(name) || strcmp(name, "localhost") == 0)
        return CONFIG_VALUE_BAD;
    if (!host_name_valid(name) || hlen >= cap)
        return CONFIG_VALUE_HOSTNAME;
    if ((r = parse_port(colon + 1, port)) != CONFIG_VALUE_OK)
        return r;
    memcpy(host, name, hlen + 1);
    return CONFIG_VALUE_OK;
}

int config_value_addr(const char *w, struct config_addr *out)
{
    char host[CONFIG_ADDR_TEXT_MAX];
    const char *colon, *port_text;
    size_t hlen;
    unsigned port = 0;
    int v6 = 0, r;

    memset(out, 0, sizeof(*out));
    if (w[0] == '[') {
        const char *close = strchr(w, ']');
        if (!close)
            return CONFIG_VALUE_BAD;
        if (close[1] != ':')
            return close[1] ? CONFIG_VALUE_BAD : CONFIG_VALUE_NO_PORT;
        w++;
        hlen = (size_t)(close - w);
        port_text = close + 2;
        v6 = 1;
    } else {
        if (!(colon = strrchr(w, ':')))
            return CONFIG_VALUE_NO_PORT;
        hlen = (size_t)(colon - w);
        port_text = colon + 1;
    }
    if (hlen == 0 || hlen >= sizeof(host))
        return CONFIG_VALUE_BAD;
    memcpy(host, w, hlen);
    host[hlen] = '\0';
    if (!v6 && strchr(host, ':'))
        return CONFIG_VALUE_BAD; /* IPv6 needs its brackets */
    if ((r = parse_port(port_text, &port)) != CONFIG_VALUE_OK)
        return r;
    if (v6)
        return fill_v6(host, port, out);
    r = fill_v4(host, port, out);
    if (r != CONFIG_VALUE_OK && looks_like_name(host))
        return CONFIG_VALUE_HOSTNAME;
    return r;
}

int config_addr_is_wildcard(const struct config_addr *a)
{
    if (a->sa.ss_family == AF_INET) {
        const struct sockaddr_in *sin = (const struct sockaddr_in *)&a->sa;
        return sin->sin_addr.s_addr == htonl(INADDR_ANY);
    }
    if (a->sa.ss_family == AF_INET6) {
        const struct sockaddr_in6 *sin6 = (const struct sockaddr_in6 *)&a->sa;
        return IN6_IS_ADDR_UNSPECIFIED(&sin6->sin6_addr);
    }
    return 0;
}
