/*
 * h2_fuzz_view: the proxy's output in fuzz_h2_frames.c read as a client
 * reads it, every frame checked (see the invariants at the top of
 * fuzz_h2_frames.c): frame types, stream ids and sizes, header blocks
 * decoded in order with nghttp2's HPACK inflater, stream states.
 */
#include "h2_fuzz.h"

#include <nghttp2/nghttp2.h>
#include <string.h>

#define MAX_FRAME 16384    /* SETTINGS_MAX_FRAME_SIZE's floor: the proxy never sends more */
#define STREAMS_TRACKED 4096

enum { ST_OPEN = 0, ST_INTERIM, ST_FINAL, ST_ENDED };

struct client_view {
    uint8_t *buf;               /* bytes of frames not yet whole */
    size_t len, cap;
    unsigned frames;
    nghttp2_hd_inflater *inf;
    uint8_t *block;             /* a header block across its CONTINUATIONs */
    size_t block_len, block_cap;
    int32_t block_stream;       /* 0: no block open */
    int block_end_stream;
    int32_t ids[STREAMS_TRACKED];
    uint8_t state[STREAMS_TRACKED];
    int untracked;              /* more streams than tracked: stream states unchecked */
    int broken;                 /* the HPACK state is lost (a block cut at teardown) */
};

static struct client_view cv;
int view_verbose;

static uint8_t *stream_state(int32_t id)
{
    uint32_t h = ((uint32_t)id * 2654435761u) % STREAMS_TRACKED;
    for (unsigned i = 0; i < STREAMS_TRACKED; i++, h = (h + 1) % STREAMS_TRACKED) {
        if (cv.ids[h] == id)
            return &cv.state[h];
        if (cv.ids[h] == 0) {
            cv.ids[h] = id;
            cv.state[h] = ST_OPEN;
            return &cv.state[h];
        }
    }
    cv.untracked = 1;
    return NULL;
}

static int name_is(const nghttp2_nv *nv, const char *lit)
{
    return nv->namelen == strlen(lit) && memcmp(nv->name, lit, nv->namelen) == 0;
}

/* One whole header block: decoded, and a response head checked. */
static void check_block(void)
{
    uint8_t *st = stream_state(cv.block_stream);
    int first = 1, status = 0;
    size_t pos = 0;
    for (;;) {
        nghttp2_nv nv;
        int flags = 0;
        ssize_t n = nghttp2_hd_inflate_hd2(cv.inf, &nv, &flags, cv.block + pos, cv.block_len - pos, 1);
        CHECK(n >= 0);
        pos += (size_t)n;
        if (flags & NGHTTP2_HD_INFLATE_EMIT) {
            if (view_verbose)
                fprintf(stderr, "  %.*s: %.*s\n", (int)nv.namelen, nv.name, (int)nv.valuelen, nv.value);
            for (size_t i = 0; i < nv.namelen; i++)
                CHECK(nv.name[i] < 'A' || nv.name[i] > 'Z');
            CHECK(!name_is(&nv, "connection") && !name_is(&nv, "keep-alive") &&
                  !name_is(&nv, "proxy-connection") && !name_is(&nv, "transfer-encoding") &&
                  !name_is(&nv, "upgrade"));
            if (first && st && *st != ST_FINAL) {
                /* a response head: :status first, three digits */
                CHECK(name_is(&nv, ":status") && nv.valuelen == 3);
                for (int i = 0; i < 3; i++)
                    CHECK(nv.value[i] >= '0' && nv.value[i] <= '9');
                status = (nv.value[0] - '0') * 100 + (nv.value[1] - '0') * 10 + (nv.value[2] - '0');
                if (view_verbose)
                    fprintf(stderr, "  stream %d :status %d\n", cv.block_stream, status);
                CHECK(status >= 100);
            } else {
                CHECK(nv.namelen == 0 || nv.name[0] != ':');
            }
            first = 0;
        }
        if (flags & NGHTTP2_HD_INFLATE_FINAL) {
            nghttp2_hd_inflate_end_headers(cv.inf);
            break;
        }
        CHECK(n > 0 || (flags & NGHTTP2_HD_INFLATE_EMIT)); /* progress, or a block cut short */
    }
    if (st) {
        if (*st == ST_OPEN || *st == ST_INTERIM)
            *st = status >= 100 && status < 200 ? ST_INTERIM : ST_FINAL;
        if (cv.block_end_stream)
            *st = ST_ENDED;
    }
    cv.block_stream = 0;
    cv.block_len = 0;
}

static void block_add(const uint8_t *p, size_t n)
{
    cv.block = h2_fuzz_append(cv.block, &cv.block_len, &cv.block_cap, p, n);
}

static void check_frame(const uint8_t *f, size_t len)
{
    uint8_t type = f[3], flags = f[4];
    int32_t id = (int32_t)(((uint32_t)(f[5] & 0x7f) << 24) | ((uint32_t)f[6] << 16) | ((uint32_t)f[7] << 8) | f[8]);
    const uint8_t *payload = f + 9;

    CHECK(len <= MAX_FRAME);
    if (view_verbose)
        fprintf(stderr, "frame type %u flags 0x%02x stream %d length %zu code %u\n", type, flags, id, len,
                type == NGHTTP2_RST_STREAM && len == 4 ? (unsigned)payload[3]
                : type == NGHTTP2_GOAWAY && len >= 8   ? (unsigned)payload[7]
                                                       : 0u);
    if (cv.frames++ == 0)
        CHECK(type == NGHTTP2_SETTINGS && id == 0 && !(flags & NGHTTP2_FLAG_ACK)); /* the server preface */
    if (cv.block_stream)
        CHECK(type == NGHTTP2_CONTINUATION && id == cv.block_stream);
    switch (type) {
    case NGHTTP2_DATA:
    case NGHTTP2_HEADERS: {
        CHECK(id > 0 && (id & 1));
        uint8_t *st = stream_state(id);
        CHECK(!st || *st != ST_ENDED);
        if (type == NGHTTP2_DATA) {
            CHECK(!st || *st == ST_FINAL);
            if (st && (flags & NGHTTP2_FLAG_END_STREAM))
                *st = ST_ENDED;
            break;
        }
        size_t off = 0, pad = 0;
        if (flags & NGHTTP2_FLAG_PADDED) {
            CHECK(len >= 1);
            pad = payload[0];
            off = 1;
        }
        if (flags & NGHTTP2_FLAG_PRIORITY)
            off += 5;
        CHECK(off + pad <= len);
        cv.block_stream = id;
        cv.block_end_stream = (flags & NGHTTP2_FLAG_END_STREAM) != 0;
        block_add(payload + off, len - off - pad);
        if (flags & NGHTTP2_FLAG_END_HEADERS)
            check_block();
        break;
    }
    case NGHTTP2_CONTINUATION:
        CHECK(cv.block_stream && id == cv.block_stream);
        block_add(payload, len);
        if (flags & NGHTTP2_FLAG_END_HEADERS)
            check_block();
        break;
    case NGHTTP2_RST_STREAM:
        CHECK(id > 0 && (id & 1) && len == 4);
        break;
    case NGHTTP2_SETTINGS:
        CHECK(id == 0 && len % 6 == 0);
        CHECK(!(flags & NGHTTP2_FLAG_ACK) || len == 0);
        break;
    case NGHTTP2_PING:
        CHECK(id == 0 && len == 8);
        break;
    case NGHTTP2_GOAWAY:
        CHECK(id == 0 && len >= 8);
        break;
    case NGHTTP2_WINDOW_UPDATE:
        CHECK(len == 4);
        CHECK(id == 0 || (id & 1));
        break;
    default:
        CHECK(!"a frame type a server does not send (PRIORITY, PUSH_PROMISE, unknown)");
    }
}

/* Bytes the client read: every whole frame in them checked. */
void view_got(const uint8_t *p, size_t n)
{
    cv.buf = h2_fuzz_append(cv.buf, &cv.len, &cv.cap, p, n);
    size_t pos = 0;
    while (cv.len - pos >= 9) {
        size_t flen = ((size_t)cv.buf[pos] << 16) | ((size_t)cv.buf[pos + 1] << 8) | cv.buf[pos + 2];
        CHECK(flen <= MAX_FRAME);
        if (cv.len - pos < 9 + flen)
            break;
        check_frame(cv.buf + pos, flen);
        pos += 9 + flen;
    }
    memmove(cv.buf, cv.buf + pos, cv.len - pos);
    cv.len -= pos;
}

void view_reset(void)
{
    free(cv.buf);
    free(cv.block);
    if (cv.inf)
        nghttp2_hd_inflate_del(cv.inf);
    memset(&cv, 0, sizeof cv);
    CHECK(nghttp2_hd_inflate_new(&cv.inf) == 0);
    /* whatever table size the input's SETTINGS allowed the proxy */
    CHECK(nghttp2_hd_inflate_change_table_size(cv.inf, UINT32_MAX) == 0);
}