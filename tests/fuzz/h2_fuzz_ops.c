/*
 * h2_fuzz_ops: the structured input of fuzz_h2_frames.c (data[1] bit 5):
 * the bytes are a program of client operations, each turned here into
 * well-formed frames with a real HPACK encoder (nghttp2's deflater), so
 * that the fuzzer explores the states of the proxy's streams - many of
 * them, bodies, trailers, resets, window updates, settings, time passing
 * between them - rather than spending itself on framing errors, which the
 * raw mode covers.  Each operation is one byte, op = b >> 4 and a small
 * argument a = b & 15, sometimes followed by one more byte e:
 *
 *   0  HEADERS of a new stream: method GET/POST/HEAD/PUT (a & 3), END_STREAM
 *      (a & 4), e: the path (e & 3), content-length 10 (e & 4), two
 *      cookies (e & 8), te: trailers (e & 16), a 2 KiB field (e & 32),
 *      authority api.example (e & 64), cut into CONTINUATIONs (e & 128)
 *   1  DATA of e * 37 bytes on one of the last 8 streams (a & 7), END_STREAM (a & 8)
 *   2  RST_STREAM (CANCEL, or NO_ERROR with a & 8) on one of them
 *   3  WINDOW_UPDATE of (e + 1) KiB (e 255: 2^31 - 1) on the connection
 *      (a & 8) or a stream
 *   4  SETTINGS: identifier a & 7 (0: an ACK) with value values[e & 15]
 *   5  PING (an ACK with a & 1)
 *   6  PRIORITY on a stream, depending on stream e
 *   7  trailers (HEADERS with END_STREAM) on a stream
 *   8  time passes (steps_ms[a % 6])
 *   9  the proxy answers before anything more comes (the loop settles)
 *  10  GOAWAY from the client (last stream a)
 *  11  the half-way event of the mode byte (a graceful stop, ...)
 *  12  a + 1 raw bytes from the input, as they are
 *  13  HEADERS again on an open stream (a & 7), or on an even id (a & 8)
 *  14  an HPACK table size update in the next block (0, 256, 4096, 65536)
 *  15  padded DATA (e bytes of padding) on a stream, END_STREAM (a & 8)
 */
#include "h2_fuzz.h"

#include <nghttp2/nghttp2.h>
#include <string.h>

#define PROGRAM_MAX (1u << 18) /* bytes a program may make: bounds the time of one input */
#define IDS_MAX 256

struct ops {
    struct h2_program *pr;
    nghttp2_hd_deflater *def;
    int32_t ids[IDS_MAX];
    unsigned nids;
    int32_t next_id;
};

static void emit(struct h2_program *pr, const void *p, size_t n)
{
    if (pr->len + n <= PROGRAM_MAX)
        pr->bytes = h2_fuzz_append(pr->bytes, &pr->len, &pr->cap, p, n);
}

static void frame_head(struct h2_program *pr, size_t len, uint8_t type, uint8_t flags, int32_t id)
{
    uint8_t h[9] = {(uint8_t)(len >> 16), (uint8_t)(len >> 8), (uint8_t)len, type, flags,
                    (uint8_t)((uint32_t)id >> 24 & 0x7f), (uint8_t)(id >> 16), (uint8_t)(id >> 8), (uint8_t)id};
    emit(pr, h, sizeof h);
}

static void frame(struct h2_program *pr, uint8_t type, uint8_t flags, int32_t id, const void *p, size_t n)
{
    frame_head(pr, n, type, flags, id);
    emit(pr, p, n);
}

static void be32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
}

static void mark(struct h2_program *pr, int action, unsigned arg)
{
    if (pr->nmarks < H2_MARKS_MAX)
        pr->marks[pr->nmarks++] = (struct h2_mark){pr->len, action, arg};
}

/* One of the last 8 streams opened (1 when none was). */
static int32_t pick(const struct ops *o, unsigned k)
{
    return o->nids ? o->ids[o->nids - 1 - k % (o->nids < 8 ? o->nids : 8)] : 1;
}

#define NV(n, v) {(uint8_t *)(n), (uint8_t *)(v), sizeof(n) - 1, strlen(v), NGHTTP2_NV_FLAG_NONE}

/* A header block for stream id: HEADERS, or HEADERS and CONTINUATIONs. */
static void headers(struct ops *o, int32_t id, const nghttp2_nv *nv, size_t n, int end, int split)
{
    size_t bound = nghttp2_hd_deflate_bound(o->def, nv, n);
    uint8_t *blk = malloc(bound);
    CHECK(blk != NULL);
    ssize_t len = nghttp2_hd_deflate_hd(o->def, blk, bound, nv, n);
    CHECK(len >= 0);
    uint8_t es = end ? NGHTTP2_FLAG_END_STREAM : 0;
    if (!split || len < 3) {
        frame(o->pr, NGHTTP2_HEADERS, NGHTTP2_FLAG_END_HEADERS | es, id, blk, (size_t)len);
    } else {
        size_t third = (size_t)len / 3;
        frame(o->pr, NGHTTP2_HEADERS, es, id, blk, third);
        frame(o->pr, NGHTTP2_CONTINUATION, 0, id, blk + third, third);
        frame(o->pr, NGHTTP2_CONTINUATION, NGHTTP2_FLAG_END_HEADERS, id, blk + 2 * third, (size_t)len - 2 * third);
    }
    free(blk);
}

static void request(struct ops *o, int32_t id, unsigned a, unsigned e)
{
    static const char *const methods[4] = {"GET", "POST", "HEAD", "PUT"};
    static const char *const paths[4] = {"/", "/b/x", "/api/x?q=1", "/a/../b/./c"};
    static char big[2048];
    nghttp2_nv nv[12] = {
        NV(":method", methods[a & 3]),
        NV(":scheme", "http"),
        NV(":path", paths[e & 3]),
        NV(":authority", (e & 64) ? "api.example" : "example.com"),
    };
    size_t n = 4;
    if (e & 4)
        nv[n++] = (nghttp2_nv)NV("content-length", "10");
    if (e & 8) {
        nv[n++] = (nghttp2_nv)NV("cookie", "SRV=x");
        nv[n++] = (nghttp2_nv)NV("cookie", "b=2");
    }
    if (e & 16)
        nv[n++] = (nghttp2_nv)NV("te", "trailers");
    if (e & 32) {
        memset(big, 'h', sizeof big - 1);
        nv[n++] = (nghttp2_nv)NV("x-big", big);
    }
    headers(o, id, nv, n, (a & 4) != 0, (e & 128) != 0);
}

static void data(struct ops *o, int32_t id, size_t len, int end, int pad)
{
    static const uint8_t body[9435 + 256];
    uint8_t flags = end ? NGHTTP2_FLAG_END_STREAM : 0;
    if (pad < 0) {
        frame(o->pr, NGHTTP2_DATA, flags, id, body, len);
        return;
    }
    uint8_t padlen = (uint8_t)pad;
    frame_head(o->pr, len + 1 + padlen, NGHTTP2_DATA, flags | NGHTTP2_FLAG_PADDED, id);
    emit(o->pr, &padlen, 1);
    emit(o->pr, body, len + padlen);
}

int h2_ops_compile(const uint8_t *in, size_t len, struct h2_program *pr)
{
    static const uint32_t values[16] = {0,     1,     100,     4096,      16383,      16384,      65535,      65536,
                                        1 << 20, 16777215, 16777216, 0x7fffffff, 0x80000000, 3, 10, 1000};
    static const unsigned steps_ms[6] = {100, 1100, 5000, 10100, 30100, 61000};
    static const size_t table_sizes[4] = {0, 256, 4096, 65536};
    struct ops o = {.pr = pr, .next_id = 1};
    uint8_t p[8];

    if (nghttp2_hd_deflate_new(&o.def, 4096) != 0)
        return -1;
    for (size_t i = 0; i < len && pr->len < PROGRAM_MAX;) {
        unsigned op = in[i] >> 4, a = in[i] & 15;
        unsigned e = i + 1 < len ? in[i + 1] : 0;
        i++;
        switch (op) {
        case 0:
            i++;
            if (o.nids < IDS_MAX)
                o.ids[o.nids++] = o.next_id;
            request(&o, o.next_id, a, e);
            o.next_id += 2;
            break;
        case 1:
            i++;
            data(&o, pick(&o, a & 7), e * 37u, (a & 8) != 0, -1);
            break;
        case 2:
            be32(p, (a & 8) ? NGHTTP2_NO_ERROR : NGHTTP2_CANCEL);
            frame(pr, NGHTTP2_RST_STREAM, 0, pick(&o, a & 7), p, 4);
            break;
        case 3:
            i++;
            be32(p, e == 255 ? 0x7fffffffu : (e + 1) * 1024u);
            frame(pr, NGHTTP2_WINDOW_UPDATE, 0, (a & 8) ? 0 : pick(&o, a & 7), p, 4);
            break;
        case 4:
            i++;
            if ((a & 7) == 0) {
                frame(pr, NGHTTP2_SETTINGS, NGHTTP2_FLAG_ACK, 0, NULL, 0);
                break;
            }
            p[0] = 0;
            p[1] = (uint8_t)(a & 7);
            be32(p + 2, values[e & 15]);
            frame(pr, NGHTTP2_SETTINGS, 0, 0, p, 6);
            break;
        case 5:
            frame(pr, NGHTTP2_PING, (a & 1) ? NGHTTP2_FLAG_ACK : 0, 0, "pingpong", 8);
            break;
        case 6:
            i++;
            be32(p, e);
            p[4] = (uint8_t)(a * 16);
            frame(pr, NGHTTP2_PRIORITY, 0, pick(&o, a & 7), p, 5);
            break;
        case 7: {
            nghttp2_nv nv[1] = {NV("x-trailer", "t")};
            headers(&o, pick(&o, a & 7), nv, 1, 1, 0);
            break;
        }
        case 8:
            mark(pr, H2_MARK_TIME, steps_ms[a % 6]);
            break;
        case 9:
            mark(pr, H2_MARK_SETTLE, 0);
            break;
        case 10:
            be32(p, a);
            be32(p + 4, NGHTTP2_NO_ERROR);
            frame(pr, NGHTTP2_GOAWAY, 0, 0, p, 8);
            break;
        case 11:
            mark(pr, H2_MARK_EVENT, 0);
            break;
        case 12: {
            size_t n = a + 1u < len - i ? a + 1u : len - i;
            emit(pr, in + i, n);
            i += n;
            break;
        }
        case 13:
            request(&o, (a & 8) ? 2 * (int32_t)(a & 7) + 2 : pick(&o, a & 7), 0, 0);
            break;
        case 14:
            nghttp2_hd_deflate_change_table_size(o.def, table_sizes[a & 3]);
            break;
        default:
            i++;
            data(&o, pick(&o, a & 7), 100, (a & 8) != 0, (int)e);
            break;
        }
    }
    nghttp2_hd_deflate_del(o.def);
    return 0;
}
