/*
 * proxy_proto: PROXY protocol v1/v2 parsing and encoding (see
 * proxy_proto.h).  Strict where the spec is: v1 is one line of printable
 * characters ending in CRLF within 107 bytes, single spaces, addresses
 * that inet_pton takes whole, ports without leading zeros; v2 has its
 * 12-byte signature, version 2, a known command and family, a length
 * bounded by PP_V2_LEN_MAX that covers the family's addresses, and TLVs
 * that tile the rest exactly (their contents are skipped).
 */
#include "proxy_proto.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>

static const unsigned char v2_sig[12] = { 0x0D, 0x0A, 0x0D, 0x0A, 0x00, 0x0D, 0x0A, 0x51, 0x55, 0x49, 0x54, 0x0A };
static const char v1_sig[] = "PROXY ";
#define V1_SIG_LEN (sizeof v1_sig - 1)

/* v2 byte 13: version (high nibble) and command (low). */
#define V2_VERSION 0x20
#define V2_CMD_LOCAL 0x0
#define V2_CMD_PROXY 0x1
/* v2 byte 14: family (high nibble) and transport (low). */
#define V2_FAM_UNSPEC 0x00
#define V2_TCP4 0x11
#define V2_UDP4 0x12
#define V2_TCP6 0x21
#define V2_UDP6 0x22
#define V2_UNIX_STREAM 0x31
#define V2_UNIX_DGRAM 0x32
#define V2_INET_ADDRS 12   /* src, dst (4 bytes each), two ports */
#define V2_INET6_ADDRS 36  /* src, dst (16 bytes each), two ports */
#define V2_UNIX_ADDRS 216  /* two 108-byte paths */

static enum pp_status invalid(struct pp_header *h, const char *why)
{
    h->error = why;
    return PP_INVALID;
}

/* ---- v1 ---------------------------------------------------------------------------- */

/* The next space-separated field of line[*at..end): exactly one space
 * after it unless it is the last (then end follows).  Copies it into out
 * (cap bytes with its NUL); -1 when empty or too long. */
static int v1_field(const char *line, size_t end, size_t *at, int last, char *out, size_t cap)
{
    size_t start = *at, i = start;

    while (i < end && line[i] != ' ')
        i++;
    if (i == start || i - start >= cap)
        return -1;
    if (last ? i != end : (i == end || i + 1 == end))
        return -1;
    memcpy(out, line + start, i - start);
    out[i - start] = '\0';
    *at = last ? i : i + 1;
    return 0;
}

/* A port: 1 to 5 digits, no leading zero (but "0"), at most 65535. */
static int v1_port(const char *s, uint16_t *out)
{
    size_t n = strlen(s);
    unsigned long v = 0;

    if (n == 0 || n > 5 || (s[0] == '0' && n > 1))
        return -1;
    for (size_t i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return -1;
        v = v * 10 + (unsigned long)(s[i] - '0');
    }
    if (v > 65535)
        return -1;
    *out = (uint16_t)v;
    return 0;
}

static int v1_addr(int family, const char *text, uint16_t port, struct sockaddr_in6 *out)
{
    memset(out, 0, sizeof *out);
    if (family == AF_INET) {
        struct sockaddr_in *sin = (struct sockaddr_in *)out;
        sin->sin_family = AF_INET;
        sin->sin_port = htons(port);
        return inet_pton(AF_INET, text, &sin->sin_addr) == 1 ? 0 : -1;
    }
    out->sin6_family = AF_INET6;
    out->sin6_port = htons(port);
    return inet_pton(AF_INET6, text, &out->sin6_addr) == 1 ? 0 : -1;
}

/* line[0..end) is the line without its CRLF, starting with "PROXY ". */
static enum pp_status v1_line(const char *line, size_t end, struct pp_header *h)
{
    char proto[8], src[INET6_ADDRSTRLEN], dst[INET6_ADDRSTRLEN], sport[8], dport[8];
    size_t at = V1_SIG_LEN;
    uint16_t sp, dp;
    int family;

    /* UNKNOWN: whatever follows it up to the CRLF is ignored (spec 2.1). */
    if (end - at >= 7 && memcmp(line + at, "UNKNOWN", 7) == 0 && (end - at == 7 || line[at + 7] == ' ')) {
        h->local = 1;
        return PP_DONE;
    }
    if (v1_field(line, end, &at, 0, proto, sizeof proto) < 0)
        return invalid(h, "v1: bad protocol field");
    if (strcmp(proto, "TCP4") == 0)
        family = AF_INET;
    else if (strcmp(proto, "TCP6") == 0)
        family = AF_INET6;
    else
        return invalid(h, "v1: protocol is not TCP4, TCP6 or UNKNOWN");
    if (v1_field(line, end, &at, 0, src, sizeof src) < 0 || v1_field(line, end, &at, 0, dst, sizeof dst) < 0 ||
        v1_field(line, end, &at, 0, sport, sizeof sport) < 0 || v1_field(line, end, &at, 1, dport, sizeof dport) < 0)
        return invalid(h, "v1: expected source, destination, source port, destination port");
    if (v1_port(sport, &sp) < 0 || v1_port(dport, &dp) < 0)
        return invalid(h, "v1: bad port");
    if (v1_addr(family, src, sp, &h->src) < 0 || v1_addr(family, dst, dp, &h->dst) < 0)
        return invalid(h, family == AF_INET ? "v1: bad IPv4 address" : "v1: bad IPv6 address");
    return PP_DONE;
}

static enum pp_status v1_parse(const unsigned char *buf, size_t len, struct pp_header *h)
{
    size_t i;

    h->version = 1;
    /* Every byte before the CR must be printable: garbage is refused as it
     * comes, not after 107 bytes.  The CR may be at index 105 at most (the
     * LF then ends the 107th byte). */
    for (i = V1_SIG_LEN; i < len && i < PP_V1_MAX - 1; i++) {
        if (buf[i] == '\r')
            break;
        if (buf[i] < 0x20 || buf[i] > 0x7e)
            return invalid(h, "v1: a control or non-ASCII byte in the line");
    }
    if (i == PP_V1_MAX - 1)
        return invalid(h, "v1: no CRLF within 107 bytes");
    if (i == len || i + 1 == len)
        return PP_NEED_MORE;
    if (buf[i + 1] != '\n')
        return invalid(h, "v1: CR not followed by LF");
    h->len = i + 2;
    return v1_line((const char *)buf, i, h);
}

/* ---- v2 ------------------------------------------------------------------------------ */

/* The TLVs of buf[0..len) tile it exactly (type, 16-bit length, value). */
static int v2_tlvs_ok(const unsigned char *buf, size_t len)
{
    size_t at = 0;

    while (at < len) {
        if (len - at < 3)
            return 0;
        size_t vlen = (size_t)buf[at + 1] << 8 | buf[at + 2];
        if (vlen > len - at - 3)
            return 0;
        at += 3 + vlen;
    }
    return 1;
}

static void v2_inet(const unsigned char *a, struct pp_header *h)
{
    struct sockaddr_in *src = (struct sockaddr_in *)&h->src, *dst = (struct sockaddr_in *)&h->dst;

    memset(&h->src, 0, sizeof h->src);
    memset(&h->dst, 0, sizeof h->dst);
    src->sin_family = dst->sin_family = AF_INET;
    memcpy(&src->sin_addr, a, 4);
    memcpy(&dst->sin_addr, a + 4, 4);
    memcpy(&src->sin_port, a + 8, 2);
    memcpy(&dst->sin_port, a + 10, 2);
}

static void v2_inet6(const unsigned char *a, struct pp_header *h)
{
    memset(&h->src, 0, sizeof h->src);
    memset(&h->dst, 0, sizeof h->dst);
    h->src.sin6_family = h->dst.sin6_family = AF_INET6;
    memcpy(&h->src.sin6_addr, a, 16);
    memcpy(&h->dst.sin6_addr, a + 16, 16);
    memcpy(&h->src.sin6_port, a + 32, 2);
    memcpy(&h->dst.sin6_port, a + 34, 2);
}

static enum pp_status v2_parse(const unsigned char *buf, size_t len, struct pp_header *h)
{
    size_t need_addrs;

    h->version = 2;
    if (len > 12 && (buf[12] & 0xF0) != V2_VERSION)
        return invalid(h, "v2: version is not 2");
    if (len > 12 && (buf[12] & 0x0F) > V2_CMD_PROXY)
        return invalid(h, "v2: unknown command");
    if (len > 13) {
        switch (buf[13]) {
        case V2_FAM_UNSPEC: case V2_TCP4: case V2_UDP4: case V2_TCP6: case V2_UDP6:
        case V2_UNIX_STREAM: case V2_UNIX_DGRAM:
            break;
        default:
            return invalid(h, "v2: unknown address family or transport");
        }
    }
    if (len < PP_V2_FIXED)
        return PP_NEED_MORE;
    size_t blen = (size_t)buf[14] << 8 | buf[15];
    if (blen > PP_V2_LEN_MAX)
        return invalid(h, "v2: header longer than 552 bytes");
    switch (buf[13]) {
    case V2_TCP4: case V2_UDP4: need_addrs = V2_INET_ADDRS; break;
    case V2_TCP6: case V2_UDP6: need_addrs = V2_INET6_ADDRS; break;
    case V2_UNIX_STREAM: case V2_UNIX_DGRAM: need_addrs = V2_UNIX_ADDRS; break;
    default: need_addrs = 0; break;
    }
    int cmd_local = (buf[12] & 0x0F) == V2_CMD_LOCAL;
    /* LOCAL: the block (family included) is discarded whatever it holds. */
    if (!cmd_local && blen < need_addrs)
        return invalid(h, "v2: length too short for the address family");
    if (len < PP_V2_FIXED + blen)
        return PP_NEED_MORE;
    h->len = PP_V2_FIXED + blen;
    const unsigned char *block = buf + PP_V2_FIXED;
    if (cmd_local) {
        h->local = 1;
        return PP_DONE;
    }
    if (!v2_tlvs_ok(block + need_addrs, blen - need_addrs))
        return invalid(h, "v2: malformed TLV");
    /* UNSPEC, and what this proxy does not take (UNIX sockets, datagrams):
     * the spec's receiver falls back to UNSPEC, the real endpoints. */
    if (buf[13] == V2_TCP4)
        v2_inet(block, h);
    else if (buf[13] == V2_TCP6)
        v2_inet6(block, h);
    else
        h->local = 1;
    return PP_DONE;
}

enum pp_status pp_parse(const unsigned char *buf, size_t len, struct pp_header *h)
{
    memset(h, 0, sizeof *h);
    if (len == 0)
        return PP_NEED_MORE;
    if (buf[0] == v1_sig[0]) {
        size_t n = len < V1_SIG_LEN ? len : V1_SIG_LEN;
        if (memcmp(buf, v1_sig, n) != 0)
            return invalid(h, "not a PROXY protocol header");
        return len <= V1_SIG_LEN ? PP_NEED_MORE : v1_parse(buf, len, h);
    }
    size_t n = len < sizeof v2_sig ? len : sizeof v2_sig;
    if (memcmp(buf, v2_sig, n) != 0)
        return invalid(h, "not a PROXY protocol header");
    return len <= sizeof v2_sig ? PP_NEED_MORE : v2_parse(buf, len, h);
}

/* ---- encoding ------------------------------------------------------------------------ */

static int same_inet_family(const struct sockaddr *src, const struct sockaddr *dst)
{
    return src && dst && src->sa_family == dst->sa_family &&
           (src->sa_family == AF_INET || src->sa_family == AF_INET6);
}

static size_t encode_v1(char *out, size_t cap, const struct sockaddr *src, const struct sockaddr *dst)
{
    char s[INET6_ADDRSTRLEN], d[INET6_ADDRSTRLEN];
    unsigned sp, dp;
    int n;

    if (!same_inet_family(src, dst)) {
        n = snprintf(out, cap, "PROXY UNKNOWN\r\n");
    } else if (src->sa_family == AF_INET) {
        const struct sockaddr_in *a = (const struct sockaddr_in *)src, *b = (const struct sockaddr_in *)dst;
        inet_ntop(AF_INET, &a->sin_addr, s, sizeof s);
        inet_ntop(AF_INET, &b->sin_addr, d, sizeof d);
        sp = ntohs(a->sin_port);
        dp = ntohs(b->sin_port);
        n = snprintf(out, cap, "PROXY TCP4 %s %s %u %u\r\n", s, d, sp, dp);
    } else {
        const struct sockaddr_in6 *a = (const struct sockaddr_in6 *)src, *b = (const struct sockaddr_in6 *)dst;
        inet_ntop(AF_INET6, &a->sin6_addr, s, sizeof s);
        inet_ntop(AF_INET6, &b->sin6_addr, d, sizeof d);
        sp = ntohs(a->sin6_port);
        dp = ntohs(b->sin6_port);
        n = snprintf(out, cap, "PROXY TCP6 %s %s %u %u\r\n", s, d, sp, dp);
    }
    return n > 0 && (size_t)n < cap ? (size_t)n : 0;
}

static size_t encode_v2(unsigned char *out, size_t cap, const struct sockaddr *src, const struct sockaddr *dst)
{
    size_t blen = 0;

    if (same_inet_family(src, dst))
        blen = src->sa_family == AF_INET ? V2_INET_ADDRS : V2_INET6_ADDRS;
    if (cap < PP_V2_FIXED + blen)
        return 0;
    memcpy(out, v2_sig, sizeof v2_sig);
    out[12] = V2_VERSION | (blen ? V2_CMD_PROXY : V2_CMD_LOCAL);
    out[13] = V2_FAM_UNSPEC;
    out[14] = (unsigned char)(blen >> 8);
    out[15] = (unsigned char)blen;
    unsigned char *a = out + PP_V2_FIXED;
    if (blen == V2_INET_ADDRS) {
        const struct sockaddr_in *s = (const struct sockaddr_in *)src, *d = (const struct sockaddr_in *)dst;
        out[13] = V2_TCP4;
        memcpy(a, &s->sin_addr, 4);
        memcpy(a + 4, &d->sin_addr, 4);
        memcpy(a + 8, &s->sin_port, 2);
        memcpy(a + 10, &d->sin_port, 2);
    } else if (blen == V2_INET6_ADDRS) {
        const struct sockaddr_in6 *s = (const struct sockaddr_in6 *)src, *d = (const struct sockaddr_in6 *)dst;
        out[13] = V2_TCP6;
        memcpy(a, &s->sin6_addr, 16);
        memcpy(a + 16, &d->sin6_addr, 16);
        memcpy(a + 32, &s->sin6_port, 2);
        memcpy(a + 34, &d->sin6_port, 2);
    }
    return PP_V2_FIXED + blen;
}

size_t pp_encode(int version, unsigned char *out, size_t cap, const struct sockaddr *src,
                 const struct sockaddr *dst)
{
    if (version == 1)
        return encode_v1((char *)out, cap, src, dst);
    if (version == 2)
        return encode_v2(out, cap, src, dst);
    return 0;
}
