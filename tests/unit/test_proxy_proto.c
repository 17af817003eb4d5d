/*
 * Unit tests of the PROXY protocol parser and encoder (proxy_proto.c),
 * case by case from haproxy.org's proxy-protocol.txt: v1 TCP4, TCP6 and
 * UNKNOWN lines, the 107-byte bound, CRLF, single spaces, address and
 * port syntax; v2 signature, version, commands LOCAL and PROXY, every
 * family/transport byte, the length bound, TLVs; incremental parsing (a
 * header byte by byte is "need more" until its last byte); and the
 * encoder's bytes, parsed back.
 */
#include <criterion/criterion.h>

#include <arpa/inet.h>
#include <string.h>

#include "proxy_proto.h"

static enum pp_status parse_str(const char *s, struct pp_header *h)
{
    return pp_parse((const unsigned char *)s, strlen(s), h);
}

static void expect_v4(const struct sockaddr_in6 *sa, const char *ip, unsigned port)
{
    const struct sockaddr_in *sin = (const struct sockaddr_in *)sa;
    char text[INET_ADDRSTRLEN];
    cr_assert_eq(sin->sin_family, AF_INET);
    inet_ntop(AF_INET, &sin->sin_addr, text, sizeof text);
    cr_assert_str_eq(text, ip);
    cr_assert_eq(ntohs(sin->sin_port), port);
}

static void expect_v6(const struct sockaddr_in6 *sa, const char *ip, unsigned port)
{
    char text[INET6_ADDRSTRLEN];
    cr_assert_eq(sa->sin6_family, AF_INET6);
    inet_ntop(AF_INET6, &sa->sin6_addr, text, sizeof text);
    cr_assert_str_eq(text, ip);
    cr_assert_eq(ntohs(sa->sin6_port), port);
}

/* Every proper prefix of a valid header is "need more"; the whole is done. */
static void expect_incremental(const unsigned char *buf, size_t len)
{
    struct pp_header h;
    for (size_t n = 0; n < len; n++)
        cr_assert_eq(pp_parse(buf, n, &h), PP_NEED_MORE, "prefix of %zu bytes: %s", n,
                     h.error ? h.error : "-");
    cr_assert_eq(pp_parse(buf, len, &h), PP_DONE);
    cr_assert_eq(h.len, len);
}

/* ---- v1 ------------------------------------------------------------------------------- */

Test(proxy_proto_v1, tcp4)
{
    struct pp_header h;
    const char *s = "PROXY TCP4 192.168.0.1 192.168.0.11 56324 443\r\nGET / HTTP/1.1\r\n";
    cr_assert_eq(parse_str(s, &h), PP_DONE);
    cr_assert_eq(h.version, 1);
    cr_assert_eq(h.local, 0);
    cr_assert_eq(h.len, strlen("PROXY TCP4 192.168.0.1 192.168.0.11 56324 443\r\n"));
    expect_v4(&h.src, "192.168.0.1", 56324);
    expect_v4(&h.dst, "192.168.0.11", 443);
}

Test(proxy_proto_v1, tcp6)
{
    struct pp_header h;
    cr_assert_eq(parse_str("PROXY TCP6 2001:db8::1 ::1 65535 0\r\n", &h), PP_DONE);
    expect_v6(&h.src, "2001:db8::1", 65535);
    expect_v6(&h.dst, "::1", 0);
}

Test(proxy_proto_v1, unknown_and_what_follows_it_is_ignored)
{
    struct pp_header h;
    cr_assert_eq(parse_str("PROXY UNKNOWN\r\n", &h), PP_DONE);
    cr_assert_eq(h.local, 1);
    cr_assert_eq(h.len, 15);
    cr_assert_eq(parse_str("PROXY UNKNOWN ffff:f...f:ffff ffff:f...f:ffff 65535 65535\r\n", &h), PP_DONE);
    cr_assert_eq(h.local, 1);
    cr_assert_eq(parse_str("PROXY UNKNOWNX\r\n", &h), PP_INVALID);
}

Test(proxy_proto_v1, longest_line_is_107_bytes)
{
    struct pp_header h;
    const char *worst = "PROXY TCP6 ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff "
                        "65535 65535\r\n";
    cr_assert_eq(strlen(worst), 104);
    cr_assert_eq(parse_str(worst, &h), PP_DONE);
    /* UNKNOWN padded to exactly 107 bytes: taken; one more: refused. */
    char line[128];
    memset(line, 'x', sizeof line);
    memcpy(line, "PROXY UNKNOWN ", 14);
    memcpy(line + 105, "\r\n", 2);
    cr_assert_eq(pp_parse((unsigned char *)line, 107, &h), PP_DONE);
    cr_assert_eq(h.len, 107);
    memset(line, 'x', sizeof line);
    memcpy(line, "PROXY UNKNOWN ", 14);
    memcpy(line + 106, "\r\n", 2);
    cr_assert_eq(pp_parse((unsigned char *)line, 108, &h), PP_INVALID);
    /* Refused as soon as the 106th byte is not the CR, without waiting. */
    cr_assert_eq(pp_parse((unsigned char *)line, 106, &h), PP_INVALID);
    cr_assert_eq(pp_parse((unsigned char *)line, 105, &h), PP_NEED_MORE);
}

Test(proxy_proto_v1, incremental)
{
    const char *s = "PROXY TCP4 10.1.2.3 10.0.0.1 1234 80\r\n";
    expect_incremental((const unsigned char *)s, strlen(s));
    const char *u = "PROXY UNKNOWN\r\n";
    expect_incremental((const unsigned char *)u, strlen(u));
}

Test(proxy_proto_v1, crlf_exactly)
{
    struct pp_header h;
    cr_assert_eq(parse_str("PROXY TCP4 1.2.3.4 5.6.7.8 1 2\n", &h), PP_INVALID);
    cr_assert_eq(parse_str("PROXY TCP4 1.2.3.4 5.6.7.8 1 2\rX", &h), PP_INVALID);
    cr_assert_eq(parse_str("PROXY TCP4 1.2.3.4 5.6.7.8 1 2\r", &h), PP_NEED_MORE);
    cr_assert_eq(parse_str("PROXY TCP4 1.2.3.4 5.6.7.8 1 2\r\n", &h), PP_DONE);
}

Test(proxy_proto_v1, fields_and_spaces)
{
    struct pp_header h;
    const char *bad[] = {
        "PROXY  TCP4 1.2.3.4 5.6.7.8 1 2\r\n",     /* two spaces */
        "PROXY TCP4  1.2.3.4 5.6.7.8 1 2\r\n",
        "PROXY TCP4 1.2.3.4 5.6.7.8 1 2 \r\n",     /* trailing space */
        "PROXY TCP4 1.2.3.4 5.6.7.8 1\r\n",        /* a field missing */
        "PROXY TCP4 1.2.3.4 5.6.7.8 1 2 3\r\n",    /* one too many */
        "PROXY TCP4\r\n",
        "PROXY \r\n",
        "PROXY tcp4 1.2.3.4 5.6.7.8 1 2\r\n",      /* case matters */
        "PROXY TCP5 1.2.3.4 5.6.7.8 1 2\r\n",
        "PROXY UDP4 1.2.3.4 5.6.7.8 1 2\r\n",
        "PROXY\tTCP4 1.2.3.4 5.6.7.8 1 2\r\n",     /* a tab: not the signature */
        "proxy TCP4 1.2.3.4 5.6.7.8 1 2\r\n",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        cr_assert_eq(parse_str(bad[i], &h), PP_INVALID, "accepted: %s", bad[i]);
}

Test(proxy_proto_v1, address_syntax)
{
    struct pp_header h;
    const char *bad[] = {
        "PROXY TCP4 1.2.3 5.6.7.8 1 2\r\n",
        "PROXY TCP4 1.2.3.256 5.6.7.8 1 2\r\n",
        "PROXY TCP4 01.2.3.4 5.6.7.8 1 2\r\n",     /* leading zero */
        "PROXY TCP4 ::1 5.6.7.8 1 2\r\n",          /* v6 in a TCP4 line */
        "PROXY TCP6 1.2.3.4 ::1 1 2\r\n",          /* v4 in a TCP6 line */
        "PROXY TCP6 ::g ::1 1 2\r\n",
        "PROXY TCP6 [::1] ::1 1 2\r\n",
        "PROXY TCP4 localhost 5.6.7.8 1 2\r\n",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        cr_assert_eq(parse_str(bad[i], &h), PP_INVALID, "accepted: %s", bad[i]);
    cr_assert_eq(parse_str("PROXY TCP6 ::ffff:1.2.3.4 ::1 1 2\r\n", &h), PP_DONE);
}

Test(proxy_proto_v1, port_syntax)
{
    struct pp_header h;
    const char *bad[] = {
        "PROXY TCP4 1.2.3.4 5.6.7.8 65536 2\r\n",
        "PROXY TCP4 1.2.3.4 5.6.7.8 080 2\r\n",
        "PROXY TCP4 1.2.3.4 5.6.7.8 -1 2\r\n",
        "PROXY TCP4 1.2.3.4 5.6.7.8 +1 2\r\n",
        "PROXY TCP4 1.2.3.4 5.6.7.8 1 2a\r\n",
        "PROXY TCP4 1.2.3.4 5.6.7.8 1 999999\r\n",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        cr_assert_eq(parse_str(bad[i], &h), PP_INVALID, "accepted: %s", bad[i]);
    cr_assert_eq(parse_str("PROXY TCP4 1.2.3.4 5.6.7.8 0 65535\r\n", &h), PP_DONE);
}

Test(proxy_proto_v1, garbage_is_refused_early)
{
    struct pp_header h;
    cr_assert_eq(parse_str("GET / HTTP/1.1\r\n", &h), PP_INVALID);
    cr_assert_eq(parse_str("PRX", &h), PP_INVALID);
    cr_assert_eq(parse_str("PROX", &h), PP_NEED_MORE);
    cr_assert_eq(parse_str("PROXY TCP4 1.2.\001", &h), PP_INVALID);
    cr_assert_eq(pp_parse((const unsigned char *)"PROXY TCP4 \xff", 12, &h), PP_INVALID);
    cr_assert_not_null(h.error);
    cr_assert_eq(pp_parse((const unsigned char *)"\0", 1, &h), PP_INVALID);
}

/* ---- v2 ------------------------------------------------------------------------------- */

static const unsigned char sig[12] = { 0x0D, 0x0A, 0x0D, 0x0A, 0x00, 0x0D, 0x0A, 0x51, 0x55, 0x49, 0x54, 0x0A };

/* A v2 header: fixed part then `blen` bytes of block (copied from block). */
static size_t v2(unsigned char *out, unsigned char ver_cmd, unsigned char fam, const unsigned char *block, size_t blen,
                 unsigned announced)
{
    memcpy(out, sig, 12);
    out[12] = ver_cmd;
    out[13] = fam;
    out[14] = (unsigned char)(announced >> 8);
    out[15] = (unsigned char)announced;
    if (blen)
        memcpy(out + 16, block, blen);
    return 16 + blen;
}

static const unsigned char inet_block[12] = { 10, 0, 0, 1, 10, 0, 0, 2, 0x1F, 0x90, 0x00, 0x50 };

Test(proxy_proto_v2, proxy_tcp4)
{
    unsigned char b[64];
    struct pp_header h;
    size_t n = v2(b, 0x21, 0x11, inet_block, 12, 12);
    memcpy(b + n, "GET", 3);
    cr_assert_eq(pp_parse(b, n + 3, &h), PP_DONE);
    cr_assert_eq(h.version, 2);
    cr_assert_eq(h.local, 0);
    cr_assert_eq(h.len, 28);
    expect_v4(&h.src, "10.0.0.1", 8080);
    expect_v4(&h.dst, "10.0.0.2", 80);
    expect_incremental(b, n);
}

Test(proxy_proto_v2, proxy_tcp6)
{
    unsigned char block[36] = { 0x20, 0x01, 0x0d, 0xb8 };
    block[15] = 1;
    block[31] = 1; /* dst ::1 */
    block[32] = 0x30; block[33] = 0x39; /* 12345 */
    block[34] = 0x01; block[35] = 0xBB; /* 443 */
    unsigned char b[64];
    struct pp_header h;
    size_t n = v2(b, 0x21, 0x21, block, 36, 36);
    cr_assert_eq(pp_parse(b, n, &h), PP_DONE);
    expect_v6(&h.src, "2001:db8::1", 12345);
    expect_v6(&h.dst, "::1", 443);
    expect_incremental(b, n);
}

Test(proxy_proto_v2, local_keeps_the_connection_endpoints)
{
    unsigned char b[64];
    struct pp_header h;
    size_t n = v2(b, 0x20, 0x00, NULL, 0, 0);
    cr_assert_eq(pp_parse(b, n, &h), PP_DONE);
    cr_assert_eq(h.local, 1);
    cr_assert_eq(h.len, 16);
    /* LOCAL discards its block, whatever family it names. */
    n = v2(b, 0x20, 0x11, inet_block, 4, 4);
    cr_assert_eq(pp_parse(b, n, &h), PP_DONE);
    cr_assert_eq(h.local, 1);
    cr_assert_eq(h.len, 20);
}

Test(proxy_proto_v2, unspec_and_unsupported_families_fall_back_to_the_endpoints)
{
    unsigned char block[216] = { 0 };
    unsigned char b[300];
    struct pp_header h;
    const unsigned char fams[] = { 0x00, 0x12, 0x22, 0x31, 0x32 };
    const size_t lens[] = { 0, 12, 36, 216, 216 };
    for (size_t i = 0; i < sizeof fams; i++) {
        size_t n = v2(b, 0x21, fams[i], block, lens[i], (unsigned)lens[i]);
        cr_assert_eq(pp_parse(b, n, &h), PP_DONE, "family 0x%02x", fams[i]);
        cr_assert_eq(h.local, 1, "family 0x%02x", fams[i]);
    }
}

Test(proxy_proto_v2, bad_version_command_family)
{
    unsigned char b[64];
    struct pp_header h;
    size_t n = v2(b, 0x11, 0x11, inet_block, 12, 12); /* version 1 in a v2 header */
    cr_assert_eq(pp_parse(b, n, &h), PP_INVALID);
    cr_assert_eq(pp_parse(b, 13, &h), PP_INVALID, "refused at its 13th byte");
    n = v2(b, 0x31, 0x11, inet_block, 12, 12);
    cr_assert_eq(pp_parse(b, n, &h), PP_INVALID);
    n = v2(b, 0x22, 0x11, inet_block, 12, 12); /* command 2 */
    cr_assert_eq(pp_parse(b, n, &h), PP_INVALID);
    n = v2(b, 0x2F, 0x11, inet_block, 12, 12);
    cr_assert_eq(pp_parse(b, n, &h), PP_INVALID);
    const unsigned char badfam[] = { 0x01, 0x10, 0x13, 0x23, 0x33, 0x40, 0x41, 0xFF };
    for (size_t i = 0; i < sizeof badfam; i++) {
        n = v2(b, 0x21, badfam[i], inet_block, 12, 12);
        cr_assert_eq(pp_parse(b, n, &h), PP_INVALID, "family 0x%02x", badfam[i]);
        cr_assert_eq(pp_parse(b, 14, &h), PP_INVALID, "family 0x%02x at its 14th byte", badfam[i]);
    }
}

Test(proxy_proto_v2, signature)
{
    unsigned char b[64];
    struct pp_header h;
    size_t n = v2(b, 0x21, 0x11, inet_block, 12, 12);
    for (size_t i = 0; i < 12; i++) {
        unsigned char c[64];
        memcpy(c, b, n);
        c[i] ^= 0x40;
        cr_assert_eq(pp_parse(c, n, &h), PP_INVALID, "byte %zu", i);
        cr_assert_eq(pp_parse(c, i + 1, &h), PP_INVALID, "refused at byte %zu", i);
    }
}

Test(proxy_proto_v2, length_bounds)
{
    unsigned char b[PP_HEADER_MAX + 16];
    struct pp_header h;
    /* Too short for the family's addresses: refused once the length is known. */
    size_t n = v2(b, 0x21, 0x11, inet_block, 11, 11);
    cr_assert_eq(pp_parse(b, n, &h), PP_INVALID);
    cr_assert_eq(pp_parse(b, 16, &h), PP_INVALID);
    n = v2(b, 0x21, 0x21, inet_block, 12, 12);
    cr_assert_eq(pp_parse(b, 16, &h), PP_INVALID);
    /* A huge length is refused with the 16 bytes alone: nothing is awaited. */
    v2(b, 0x21, 0x11, NULL, 0, 0xFFFF);
    cr_assert_eq(pp_parse(b, 16, &h), PP_INVALID);
    v2(b, 0x20, 0x00, NULL, 0, PP_V2_LEN_MAX + 1);
    cr_assert_eq(pp_parse(b, 16, &h), PP_INVALID);
    /* The longest accepted: addresses and one TLV filling PP_V2_LEN_MAX. */
    unsigned char block[PP_V2_LEN_MAX] = { 0 };
    memcpy(block, inet_block, 12);
    size_t tlv = PP_V2_LEN_MAX - 12 - 3;
    block[12] = 0x04; /* PP2_TYPE_NOOP */
    block[13] = (unsigned char)(tlv >> 8);
    block[14] = (unsigned char)tlv;
    n = v2(b, 0x21, 0x11, block, PP_V2_LEN_MAX, PP_V2_LEN_MAX);
    cr_assert_eq(n, PP_HEADER_MAX);
    cr_assert_eq(pp_parse(b, n - 1, &h), PP_NEED_MORE);
    cr_assert_eq(pp_parse(b, n, &h), PP_DONE);
    cr_assert_eq(h.len, PP_HEADER_MAX);
    expect_v4(&h.src, "10.0.0.1", 8080);
}

Test(proxy_proto_v2, tlvs_are_skipped_and_checked)
{
    unsigned char block[64];
    unsigned char b[128];
    struct pp_header h;
    memcpy(block, inet_block, 12);
    /* ALPN "h2" then an AUTHORITY "a.example" */
    const unsigned char tlvs[] = { 0x01, 0x00, 0x02, 'h', '2', 0x02, 0x00, 0x09, 'a', '.', 'e', 'x', 'a', 'm', 'p', 'l', 'e' };
    memcpy(block + 12, tlvs, sizeof tlvs);
    size_t blen = 12 + sizeof tlvs;
    size_t n = v2(b, 0x21, 0x11, block, blen, (unsigned)blen);
    cr_assert_eq(pp_parse(b, n, &h), PP_DONE);
    cr_assert_eq(h.len, n);
    expect_v4(&h.src, "10.0.0.1", 8080);
    /* A TLV running past the block, and a stray byte after the last one. */
    block[12 + 1] = 0x00;
    block[12 + 2] = 0x03; /* ALPN claims 3 bytes where the block has 2 */
    n = v2(b, 0x21, 0x11, block, 12 + 5, 12 + 5);
    cr_assert_eq(pp_parse(b, n, &h), PP_INVALID);
    block[12 + 2] = 0x02;
    n = v2(b, 0x21, 0x11, block, 12 + 6, 12 + 6);
    cr_assert_eq(pp_parse(b, n, &h), PP_INVALID);
}

/* ---- encoding ------------------------------------------------------------------------- */

static struct sockaddr_in v4(const char *ip, unsigned port)
{
    struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
    inet_pton(AF_INET, ip, &a.sin_addr);
    return a;
}

static struct sockaddr_in6 v6(const char *ip, unsigned port)
{
    struct sockaddr_in6 a = { .sin6_family = AF_INET6, .sin6_port = htons((uint16_t)port) };
    inet_pton(AF_INET6, ip, &a.sin6_addr);
    return a;
}

Test(proxy_proto_encode, v1_lines)
{
    unsigned char out[PP_ENCODE_MAX];
    struct sockaddr_in s = v4("203.0.113.7", 51000), d = v4("10.0.0.1", 8080);
    size_t n = pp_encode(1, out, sizeof out, (struct sockaddr *)&s, (struct sockaddr *)&d);
    cr_assert_eq(n, strlen("PROXY TCP4 203.0.113.7 10.0.0.1 51000 8080\r\n"));
    cr_assert_eq(memcmp(out, "PROXY TCP4 203.0.113.7 10.0.0.1 51000 8080\r\n", n), 0);

    struct sockaddr_in6 s6 = v6("2001:db8::7", 1), d6 = v6("::1", 443);
    n = pp_encode(1, out, sizeof out, (struct sockaddr *)&s6, (struct sockaddr *)&d6);
    cr_assert_eq(memcmp(out, "PROXY TCP6 2001:db8::7 ::1 1 443\r\n", n), 0);

    n = pp_encode(1, out, sizeof out, NULL, NULL);
    cr_assert_eq(n, 15);
    cr_assert_eq(memcmp(out, "PROXY UNKNOWN\r\n", 15), 0);
    /* Mixed families cannot be said in one line. */
    n = pp_encode(1, out, sizeof out, (struct sockaddr *)&s, (struct sockaddr *)&d6);
    cr_assert_eq(memcmp(out, "PROXY UNKNOWN\r\n", n), 0);
}

Test(proxy_proto_encode, v2_bytes)
{
    unsigned char out[PP_ENCODE_MAX];
    struct sockaddr_in s = v4("10.0.0.1", 8080), d = v4("10.0.0.2", 80);
    size_t n = pp_encode(2, out, sizeof out, (struct sockaddr *)&s, (struct sockaddr *)&d);
    unsigned char want[28];
    v2(want, 0x21, 0x11, inet_block, 12, 12);
    cr_assert_eq(n, 28);
    cr_assert_eq(memcmp(out, want, 28), 0);

    n = pp_encode(2, out, sizeof out, NULL, NULL);
    v2(want, 0x20, 0x00, NULL, 0, 0);
    cr_assert_eq(n, 16);
    cr_assert_eq(memcmp(out, want, 16), 0);
}

Test(proxy_proto_encode, round_trip)
{
    unsigned char out[PP_ENCODE_MAX];
    struct pp_header h;
    struct sockaddr_in6 s6 = v6("ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", 65535);
    struct sockaddr_in6 d6 = v6("ffff:ffff:ffff:ffff:ffff:ffff:ffff:fffe", 65534);
    for (int version = 1; version <= 2; version++) {
        size_t n = pp_encode(version, out, sizeof out, (struct sockaddr *)&s6, (struct sockaddr *)&d6);
        cr_assert_gt(n, 0);
        cr_assert_eq(pp_parse(out, n, &h), PP_DONE);
        cr_assert_eq(h.version, version);
        cr_assert_eq(h.len, n);
        expect_v6(&h.src, "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", 65535);
        expect_v6(&h.dst, "ffff:ffff:ffff:ffff:ffff:ffff:ffff:fffe", 65534);
    }
}

Test(proxy_proto_encode, small_buffer_and_bad_version)
{
    unsigned char out[PP_ENCODE_MAX];
    struct sockaddr_in s = v4("10.0.0.1", 1), d = v4("10.0.0.2", 2);
    cr_assert_eq(pp_encode(1, out, 10, (struct sockaddr *)&s, (struct sockaddr *)&d), 0);
    cr_assert_eq(pp_encode(2, out, 20, (struct sockaddr *)&s, (struct sockaddr *)&d), 0);
    cr_assert_eq(pp_encode(3, out, sizeof out, (struct sockaddr *)&s, (struct sockaddr *)&d), 0);
}
