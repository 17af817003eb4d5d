/*
 * fuzz_h2_headers: the HTTP/2 <-> HTTP/1.1 head conversions (h2_headers.c)
 * with the field lists and heads a hostile client or server could make.
 * The first byte picks the direction and the output room; the rest is
 * split into lines, each a field "name:value" (a name may start with ':',
 * a pseudo-header; its first ':' after that ends it).  Besides the
 * sanitizers, it aborts when an invariant breaks:
 *
 *  - request: an accepted head fits the room given, ends with the one
 *    empty line, starts with a request line, and holds no CR or LF other
 *    than its line ends (no field can smuggle a second request); a result
 *    is one of the documented ones;
 *  - response: every field points inside the head, names have no upper
 *    case left, none is hop-by-hop, and the count never exceeds the room.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "h2_headers.h"

#define FIELDS_MAX 64

static void check_request(const uint8_t *data, size_t size, size_t cap)
{
    struct h2_field f[FIELDS_MAX];
    size_t n = 0;
    const char *p = (const char *)data, *end = p + size;
    while (p < end && n < FIELDS_MAX) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        const char *line_end = nl ? nl : end;
        const char *colon = line_end > p ? memchr(p + 1, ':', (size_t)(line_end - p - 1)) : NULL;
        if (colon)
            f[n++] = (struct h2_field){p, (size_t)(colon - p), colon + 1, (size_t)(line_end - colon - 1)};
        else
            f[n++] = (struct h2_field){p, (size_t)(line_end - p), "", 0};
        p = nl ? nl + 1 : end;
    }
    char *out = malloc(cap ? cap : 1);
    size_t len = 0;
    int rc = h2_request_head(f, n, size & 1, out, cap, &len);
    if (rc != H2_HEAD_OK && rc != H2_HEAD_MALFORMED && rc != H2_HEAD_TOO_LARGE && rc != H2_HEAD_CONNECT)
        abort();
    if (rc == H2_HEAD_OK) {
        if (len > cap || len < 4 || memcmp(out + len - 4, "\r\n\r\n", 4) != 0)
            abort();
        if (!memchr(out, ' ', len))
            abort();
        for (size_t i = 0; i < len; i++) {
            if (out[i] == '\n' && (i == 0 || out[i - 1] != '\r'))
                abort();
            if (out[i] == '\r' && (i + 1 >= len || out[i + 1] != '\n'))
                abort();
            /* An empty line only at the very end. */
            if (i + 4 < len && memcmp(out + i, "\r\n\r\n", 4) == 0)
                abort();
        }
    }
    free(out);
}

/* A response head (trailers: a trailer block as http_msg keeps it). */
static void check_response(const uint8_t *data, size_t size, size_t max, int trailers)
{
    char *head = malloc(size ? size : 1);
    memcpy(head, data, size);
    struct h2_field f[FIELDS_MAX];
    unsigned status = 0;
    int n = trailers ? h2_trailer_fields(head, size, f, max) : h2_response_fields(head, size, &status, f, max);
    if (n > (int)max)
        abort();
    for (int i = 0; i < n; i++) {
        if (f[i].name < head || f[i].name + f[i].name_len > head + size || f[i].value < head ||
            f[i].value + f[i].value_len > head + size)
            abort();
        for (size_t k = 0; k < f[i].name_len; k++)
            if (f[i].name[k] >= 'A' && f[i].name[k] <= 'Z')
                abort();
        if ((f[i].name_len == 10 && memcmp(f[i].name, "connection", 10) == 0) ||
            (f[i].name_len == 17 && memcmp(f[i].name, "transfer-encoding", 17) == 0))
            abort();
        if (trailers && f[i].name_len == 14 && memcmp(f[i].name, "content-length", 14) == 0)
            abort();
    }
    free(head);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size == 0)
        return 0;
    uint8_t mode = data[0];
    if (mode & 0x80)
        check_response(data + 1, size - 1, (size_t)(mode & 0x1f) + 1, (mode & 0x40) != 0);
    else
        check_request(data + 1, size - 1, (size_t)(mode & 0x7f) * 64);
    return 0;
}
