/*
 * http_hop: HTTP/1.1's hop-by-hop fields, by name.  A header of its own so
 * that the pure converters (h2_headers.c, http_trailer.c) take the list
 * without the llhttp codec in http.c.
 */
#ifndef PROXY_HTTP_HOP_H
#define PROXY_HTTP_HOP_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "http.h" /* enum http_field_kind */

/* The n bytes at p (n <= 8) as a little word. */
static inline uint64_t http_word_of(const char *p, size_t n)
{
    uint64_t w = 0;
    memcpy(&w, p, n);
    return w;
}

/* Whether the token name[0..n) is the lowercase literal lit (letters and
 * '-') of length n, in any case.  Setting bit 0x20 of every byte
 * lowercases the letters and leaves '-' as it is; the only other byte it
 * maps onto one of the literal's is CR (onto '-'), and no token holds a CR
 * (the names come from llhttp, nghttp2 or a Connection list).  Two
 * overlapping words of at most 8 bytes cover any name up to 16 bytes, and
 * three up to 24 (the longest literal here is 17), so a compare is a handful of instructions (a call to
 * strncasecmp per candidate name was 40, a byte loop more). */
static inline int http_name_is(const char *name, const char *lit, size_t n)
{
    const uint64_t lower = 0x2020202020202020ull;
    if (n <= 8) {
        size_t k = n / 2 + (n & 1); /* two halves (at most 4 bytes), overlapping when n is odd */
        uint64_t m = (1ull << (8 * k)) - 1;
        return ((http_word_of(name, k) | (lower & m)) == http_word_of(lit, k)) &&
               ((http_word_of(name + n - k, k) | (lower & m)) == http_word_of(lit + n - k, k));
    }
    if ((http_word_of(name, 8) | lower) != http_word_of(lit, 8) ||
        (http_word_of(name + n - 8, 8) | lower) != http_word_of(lit + n - 8, 8))
        return 0;
    return n <= 16 || (http_word_of(name + 8, 8) | lower) == http_word_of(lit + 8, 8);
}

/* The one list of HTTP/1.1's hop-by-hop fields (CONTRACT 3, RFC 9110
 * 7.6.1), by name in any case: HF_CONNECTION, HF_UPGRADE (kept for a 101),
 * HF_TRANSFER_ENCODING (kept when the body goes on chunked), HF_HOP for
 * Keep-Alive, Proxy-Connection, TE and Trailer; HF_OTHER for any other
 * name.  Heads (http.c), trailer sections (http_trailer.c) and HTTP/2's
 * header lists (h2_headers.c) all leave out what it names.  Proxy-
 * Authenticate and Proxy-Authorization are not in it: forwarded in a head
 * (a gateway may pass credentials on, RFC 9110 11.7), they may not trail
 * a body (http_trailer.c).  Inline: it runs for every field of every head,
 * and most names are ruled out by their length alone (a call per field was
 * 170 instructions a keep-alive request). */
static inline uint8_t http_hop_kind(const char *name, size_t len)
{
    switch (len) {
    case 2:
        return http_name_is(name, "te", 2) ? HF_HOP : HF_OTHER;
    case 7:
        return http_name_is(name, "trailer", 7) ? HF_HOP : http_name_is(name, "upgrade", 7) ? HF_UPGRADE : HF_OTHER;
    case 10:
        return http_name_is(name, "connection", 10)   ? HF_CONNECTION
               : http_name_is(name, "keep-alive", 10) ? HF_HOP
                                                      : HF_OTHER;
    case 16:
        return http_name_is(name, "proxy-connection", 16) ? HF_HOP : HF_OTHER;
    case 17:
        return http_name_is(name, "transfer-encoding", 17) ? HF_TRANSFER_ENCODING : HF_OTHER;
    default:
        return HF_OTHER;
    }
}

#endif
