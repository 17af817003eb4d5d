/*
 * client_addr: client addresses, keys and CIDR ranges (see client_addr.h).
 */
#include "client_addr.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#define V4_KEY_TAG 0xffffffff00000000ull

static int is_v4_mapped(const struct in6_addr *a)
{
    return IN6_IS_ADDR_V4MAPPED(a);
}

static void v4_to_mapped(const struct in_addr *v4, struct in6_addr *out)
{
    memset(out, 0, sizeof *out);
    out->s6_addr[10] = 0xff;
    out->s6_addr[11] = 0xff;
    memcpy(&out->s6_addr[12], v4, 4);
}

/* Parses an address with no blanks, brackets or port into out. */
static int parse_bare(const char *s, size_t len, struct in6_addr *out)
{
    char text[INET6_ADDRSTRLEN + 1];
    struct in_addr v4;

    if (len == 0 || len >= sizeof text)
        return -1;
    memcpy(text, s, len);
    text[len] = '\0';
    if (inet_pton(AF_INET, text, &v4) == 1) {
        v4_to_mapped(&v4, out);
        return 0;
    }
    return inet_pton(AF_INET6, text, out) == 1 ? 0 : -1;
}

int cidr_parse(const char *text, struct cidr *out)
{
    const char *slash = strchr(text, '/');
    size_t alen = slash ? (size_t)(slash - text) : strlen(text);
    struct in6_addr a;

    if (parse_bare(text, alen, &a) < 0)
        return -1;
    int v4 = is_v4_mapped(&a) && memchr(text, ':', alen) == NULL;
    unsigned max = v4 ? 32 : 128, bits = max;
    if (slash) {
        char *end;
        if (!slash[1] || slash[1] < '0' || slash[1] > '9')
            return -1;
        unsigned long b = strtoul(slash + 1, &end, 10);
        if (*end || b > max)
            return -1;
        bits = (unsigned)b;
    }
    if (v4)
        bits += 96;
    /* Bits beyond the prefix must be zero. */
    for (unsigned i = bits; i < 128; i++)
        if (a.s6_addr[i / 8] & (0x80u >> (i % 8)))
            return -1;
    out->net = a;
    out->bits = (uint8_t)bits;
    return 0;
}

int cidr_contains(const struct cidr *c, const struct in6_addr *a)
{
    unsigned whole = c->bits / 8, rest = c->bits % 8;

    if (memcmp(c->net.s6_addr, a->s6_addr, whole) != 0)
        return 0;
    if (rest == 0)
        return 1;
    unsigned mask = (0xffu << (8 - rest)) & 0xffu;
    return (a->s6_addr[whole] & mask) == c->net.s6_addr[whole];
}

int cidr_list_contains(const struct cidr *list, size_t n, const struct in6_addr *a)
{
    for (size_t i = 0; i < n; i++)
        if (cidr_contains(&list[i], a))
            return 1;
    return 0;
}

void client_addr_from_sockaddr(const void *sa, struct in6_addr *out)
{
    const struct sockaddr *s = sa;
    if (s->sa_family == AF_INET)
        v4_to_mapped(&((const struct sockaddr_in *)sa)->sin_addr, out);
    else if (s->sa_family == AF_INET6)
        *out = ((const struct sockaddr_in6 *)sa)->sin6_addr;
    else
        memset(out, 0, sizeof *out);
}

static int blank(char c)
{
    return c == ' ' || c == '\t';
}

int client_addr_parse(const char *s, size_t len, struct in6_addr *out)
{
    while (len && blank(*s)) {
        s++;
        len--;
    }
    while (len && blank(s[len - 1]))
        len--;
    if (len && s[0] == '[') {
        /* "[v6]" or "[v6]:port" */
        const char *close = memchr(s, ']', len);
        if (!close)
            return -1;
        size_t after = len - (size_t)(close - s) - 1;
        if (after && close[1] != ':')
            return -1;
        if (parse_bare(s + 1, (size_t)(close - s) - 1, out) < 0 || is_v4_mapped(out))
            return -1;
        return 0;
    }
    const char *colon = memchr(s, ':', len);
    if (colon && !memchr(colon + 1, ':', len - (size_t)(colon - s) - 1)) {
        /* One colon: "a.b.c.d:port". */
        if (parse_bare(s, (size_t)(colon - s), out) < 0 || !is_v4_mapped(out))
            return -1;
        return 0;
    }
    return parse_bare(s, len, out);
}

int client_addr_last_of_list(const char *value, size_t len, struct in6_addr *out)
{
    size_t start = len;
    while (start > 0 && value[start - 1] != ',')
        start--;
    return client_addr_parse(value + start, len - start, out);
}

void client_addr_format(const struct in6_addr *a, char *out, size_t cap)
{
    if (is_v4_mapped(a))
        inet_ntop(AF_INET, &a->s6_addr[12], out, (socklen_t)cap);
    else
        inet_ntop(AF_INET6, a, out, (socklen_t)cap);
}

uint64_t client_key(const struct in6_addr *a)
{
    uint64_t k = 0;
    if (is_v4_mapped(a)) {
        for (int i = 12; i < 16; i++)
            k = k << 8 | a->s6_addr[i];
        return V4_KEY_TAG | k;
    }
    for (int i = 0; i < 8; i++)
        k = k << 8 | a->s6_addr[i];
    return k;
}

void client_key_format(uint64_t key, char *out, size_t cap)
{
    struct in6_addr a;
    memset(&a, 0, sizeof a);
    if ((key & V4_KEY_TAG) == V4_KEY_TAG) {
        for (int i = 0; i < 4; i++)
            a.s6_addr[12 + i] = (uint8_t)(key >> (24 - 8 * i));
        a.s6_addr[10] = a.s6_addr[11] = 0xff;
        client_addr_format(&a, out, cap);
        return;
    }
    for (int i = 0; i < 8; i++)
        a.s6_addr[i] = (uint8_t)(key >> (56 - 8 * i));
    char text[INET6_ADDRSTRLEN];
    inet_ntop(AF_INET6, &a, text, sizeof text);
    snprintf(out, cap, "%s/64", text);
}
