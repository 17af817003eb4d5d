/*
 * fuzz_chunked: the harnesses' own reading of a chunked body (RFC 9112
 * 7.1), written apart from llhttp and src/http.c so that a harness checks
 * the proxy against the book rather than against itself.
 */
#ifndef PROXY_FUZZ_CHUNKED_H
#define PROXY_FUZZ_CHUNKED_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

/* Past the rest of a line at p[*i]: 1 and *i after its CRLF, 0 when the
 * line's end has not arrived, -1 when it ends otherwise than in CRLF. */
static inline int line_end(const char *p, size_t len, size_t *i)
{
    while (*i < len && p[*i] != '\r' && p[*i] != '\n')
        (*i)++;
    if (*i + 2 > len)
        return 0;
    if (p[*i] != '\r' || p[*i + 1] != '\n')
        return -1;
    *i += 2;
    return 1;
}

/* A chunked body read by the book, independently of llhttp: each
 * chunk-size line, each chunk's data and each trailer line ends in CRLF
 * exactly (the extensions are taken as they come: anything but CR and
 * LF), and no trailer line starts with a blank (obs-fold, refused as in a
 * head: RFC 9112 5.2).  Returns the body's length, 0 when p[0..len) does
 * not hold all of it yet, -1 when it is not valid chunked framing. */
static inline long strict_chunked_end(const char *p, size_t len)
{
    size_t i = 0;
    for (;;) {
        size_t s = i, digits = 0;
        uint64_t size = 0;
        while (i < len && strchr("0123456789abcdefABCDEF", p[i]) && p[i]) {
            char c = p[i++];
            size = size * 16 + (uint64_t)(c <= '9' ? c - '0' : (c | 0x20) - 'a' + 10);
            if (size && ++digits > 15)
                return 0; /* leading zeros aside, larger than any input: never whole here */
        }
        if (i == len)
            return 0;
        if (i == s)
            return -1;
        int ended = line_end(p, len, &i);
        if (ended <= 0)
            return ended;
        if (size == 0)
            break;
        if (len - i < size + 2)
            return len - i >= size && p[i + size] != '\r' ? -1 : 0;
        i += size;
        if (p[i] != '\r' || p[i + 1] != '\n')
            return -1;
        i += 2;
    }
    /* The trailer section: field lines, then the empty line. */
    for (;;) {
        if (i < len && (p[i] == ' ' || p[i] == '\t'))
            return -1; /* a folded line */
        if (i + 2 > len)
            return 0;
        if (p[i] == '\r' && p[i + 1] == '\n')
            return (long)(i + 2);
        int ended = line_end(p, len, &i);
        if (ended <= 0)
            return ended;
    }
}

#endif
