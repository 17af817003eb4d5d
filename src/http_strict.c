/*
 * http_strict: the checks of a parsed head that llhttp leaves to us (see
 * http_strict.h).  Pure functions over the head's bytes and its view.
 */
#include "http_strict.h"

#include <string.h>
#ifdef __SSE2__
#include <emmintrin.h>
#endif

/* Each field name must be followed by its colon at once: "Host : x" is
 * read as a different field by different servers. */
int http_field_names_clean(const char *buf, const struct http_head *h)
{
    for (uint32_t i = 0; i < h->nfields; i++) {
        const struct http_field *f = &h->fields[i];
        /* llhttp checks the name's characters but lets a blank between the
         * name and the colon through, as part of the name. */
        char last = f->name_len ? buf[f->name_off + f->name_len - 1] : ' ';
        if (last == ' ' || last == '\t' || buf[f->name_off + f->name_len] != ':')
            return 0;
    }
    return 1;
}

/* The line ends of a head are clean: every LF follows a CR, no CR stands
 * alone (every CR is followed by an LF), no line starts with a blank
 * (obs-fold: servers disagree on it), and the head starts with its start
 * line, not a blank line.  llhttp ends a head at "\r" plus any byte, so a
 * lone CR could hide a second request inside the first.  This runs on
 * every head, both ways: 16 bytes at a time, as bit masks of where the CRs,
 * LFs and blanks are (a memchr per line for LFs and again for CRs was 880
 * instructions of the 13.1k of a keep-alive request). */
#ifdef __SSE2__
/* One 16-byte chunk at p, given whether the byte before it was a CR and
 * an LF (bit 0 of *cr_before, *lf_before), which it updates for the next. */
static int chunk_ends_clean(const char *p, uint32_t *cr_before, uint32_t *lf_before)
{
    __m128i v = _mm_loadu_si128((const __m128i *)(const void *)p);
    uint32_t cr = (uint32_t)_mm_movemask_epi8(_mm_cmpeq_epi8(v, _mm_set1_epi8('\r')));
    uint32_t lf = (uint32_t)_mm_movemask_epi8(_mm_cmpeq_epi8(v, _mm_set1_epi8('\n')));
    uint32_t blank = (uint32_t)_mm_movemask_epi8(
        _mm_or_si128(_mm_cmpeq_epi8(v, _mm_set1_epi8(' ')), _mm_cmpeq_epi8(v, _mm_set1_epi8('\t'))));
    /* Where the byte before is a CR must be exactly where the LFs are. */
    int clean = lf == (((cr << 1) | *cr_before) & 0xffffu) && !(blank & (((lf << 1) | *lf_before) & 0xffffu));
    *cr_before = cr >> 15;
    *lf_before = lf >> 15;
    return clean;
}

int http_line_ends_clean(const char *buf, size_t len)
{
    uint32_t cr_before = 0, lf_before = 0;
    size_t i = 0;

    if (len == 0 || buf[0] == '\r' || buf[0] == '\n')
        return 0;
    for (; i + 16 <= len; i += 16)
        if (!chunk_ends_clean(buf + i, &cr_before, &lf_before))
            return 0;
    if (i < len) {
        /* The tail padded with NULs: a CR that ends the head is then
         * followed by a byte that is not an LF. */
        char tail[16] = {0};
        memcpy(tail, buf + i, len - i);
        return chunk_ends_clean(tail, &cr_before, &lf_before);
    }
    return !cr_before;
}
#else
int http_line_ends_clean(const char *buf, size_t len)
{
    size_t lfs = 0, crs = 0;

    if (len == 0 || buf[0] == '\r' || buf[0] == '\n')
        return 0;
    for (const char *p = buf, *end = buf + len; (p = memchr(p, '\n', (size_t)(end - p))); p++) {
        if (p[-1] != '\r')
            return 0;
        if (p + 1 < end && (p[1] == ' ' || p[1] == '\t'))
            return 0;
        lfs++;
    }
    for (const char *p = buf, *end = buf + len; (p = memchr(p, '\r', (size_t)(end - p))); p++)
        crs++;
    return crs == lfs; /* with every LF after a CR: no CR alone */
}
#endif

/* The request target is visible ASCII only (no blank, no control), and
 * without a '#': a fragment is never sent (RFC 9112 3.2), and one would
 * let "/admin/#/../../" normalize to "/" here - past a route fencing
 * /admin/ - while the server, cutting at the '#', serves /admin/
 * (HAProxy answers 400 too since CVE-2023-45539). */
int http_target_clean(const char *buf, const struct http_head *h)
{
    for (uint32_t i = 0; i < h->uri_len; i++) {
        unsigned char c = (unsigned char)buf[h->uri_off + i];
        if (c <= 0x20 || c >= 0x7f || c == '#')
            return 0;
    }
    return h->uri_len > 0;
}

/* Two spaces in a row in the request line (servers split it differently).
 * The target was found clean (no blank), so only the stretches before and
 * after it are looked at (memmem over the whole line was 160 instructions
 * a request). */
int http_line_has_double_space(const char *buf, const struct http_head *h)
{
    size_t after = (size_t)h->uri_off + h->uri_len;
    for (size_t i = 1; i < h->uri_off; i++)
        if (buf[i] == ' ' && buf[i - 1] == ' ')
            return 1;
    for (size_t i = after + 1; i < h->line_len; i++)
        if (buf[i] == ' ' && buf[i - 1] == ' ')
            return 1;
    return 0;
}

int http_section_folded(const char *p, size_t len, char prev)
{
    if (len == 0)
        return 0;
    if (prev == '\n' && (p[0] == ' ' || p[0] == '\t'))
        return 1;
    for (const char *q = p, *end = p + len; (q = memchr(q, '\n', (size_t)(end - q))) && ++q < end;)
        if (*q == ' ' || *q == '\t')
            return 1;
    return 0;
}
