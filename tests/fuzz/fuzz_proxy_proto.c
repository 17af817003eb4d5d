/*
 * fuzz_proxy_proto: the PROXY protocol header parser (proxy_proto.c), as
 * the listener's stage feeds it (conn_pp.c): the whole of what arrived so
 * far, again and again as more comes.  The input is the first bytes of a
 * connection.  Besides the sanitizers, it aborts when an invariant breaks:
 *
 *  - every prefix is parsed from a heap copy of exactly its bytes (ASan
 *    sees a read past them);
 *  - the answers along the prefixes are NEED_MORE ... then at most one
 *    change, to INVALID or DONE, which then holds for every longer prefix,
 *    with the same header length and addresses (more bytes never change
 *    what a header was, so a reader can stop at the first answer);
 *  - NEED_MORE is never given once PP_HEADER_MAX bytes are there (no
 *    header makes a reader wait for more than that); a v1 header is at
 *    most 107 bytes, a header never longer than the bytes given;
 *  - INVALID always says why;
 *  - an accepted header with addresses, encoded again in its version by
 *    pp_encode, parses back to the same addresses.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "proxy_proto.h"

#define INPUT_MAX (PP_HEADER_MAX + 64)

static int same_header(const struct pp_header *a, const struct pp_header *b)
{
    return a->version == b->version && a->local == b->local && a->len == b->len &&
           memcmp(&a->src, &b->src, sizeof a->src) == 0 && memcmp(&a->dst, &b->dst, sizeof a->dst) == 0;
}

static void check_round_trip(const struct pp_header *h)
{
    unsigned char out[PP_ENCODE_MAX];
    struct pp_header back;

    if (h->local)
        return;
    size_t n = pp_encode(h->version, out, sizeof out, (const struct sockaddr *)&h->src,
                         (const struct sockaddr *)&h->dst);
    if (n == 0 || pp_parse(out, n, &back) != PP_DONE || back.len != n || back.local ||
        memcmp(&back.src, &h->src, sizeof h->src) != 0 || memcmp(&back.dst, &h->dst, sizeof h->dst) != 0)
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct pp_header first, h;
    enum pp_status settled = PP_NEED_MORE;

    if (size > INPUT_MAX)
        size = INPUT_MAX;
    memset(&first, 0, sizeof first);
    for (size_t n = 0; n <= size; n++) {
        unsigned char *copy = malloc(n ? n : 1);
        if (!copy)
            return 0;
        memcpy(copy, data, n);
        enum pp_status st = pp_parse(copy, n, &h);
        free(copy);
        if (st == PP_NEED_MORE) {
            if (settled != PP_NEED_MORE || n >= PP_HEADER_MAX)
                abort();
            continue;
        }
        if (st == PP_INVALID) {
            if (settled == PP_DONE || !h.error)
                abort();
            settled = PP_INVALID;
            continue;
        }
        if (settled == PP_INVALID || h.len == 0 || h.len > n || h.len > PP_HEADER_MAX ||
            (h.version == 1 && h.len > PP_V1_MAX) || (h.version != 1 && h.version != 2))
            abort();
        if (settled == PP_NEED_MORE) {
            first = h;
            settled = PP_DONE;
            check_round_trip(&h);
        } else if (!same_header(&first, &h)) {
            abort();
        }
    }
    return 0;
}
