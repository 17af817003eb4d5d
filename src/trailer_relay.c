/*
 * trailer_relay: a trailer section held back and put back rewritten (see
 * trailer_relay.h).
 */
#include "trailer_relay.h"

#include <string.h>

#include "http_trailer.h"
#include "txn.h" /* the thread's scratch buffer, EDIT_SLACK */

/* Where the trailer section begins in the bytes of the last http_msg_body
 * call: at 0 when it began in an earlier call (began_before), or -1 when
 * not in them (all body). */
static long section_start(const struct http_msg *m, int began_before)
{
    return began_before ? 0 : m->trailer_here ? (long)m->trailer_off : -1;
}

/* The section's bytes in at[keep..*consumed) (kept in m->trailers by now)
 * out of *b; once done, the rewritten section in their place. */
static int rewrite(struct http_msg *m, struct buf **b, char *at, size_t keep, size_t *consumed, int done,
                   trailer_relay_busy busy, const void *owner)
{
    struct buf *in = *b;
    size_t held = *consumed - keep;
    size_t after = (size_t)(in->data + in->len - (at + *consumed));
    memmove(at + keep, at + *consumed, after);
    in->len -= held;
    *consumed = keep;
    if (!done)
        return 0;
    const struct buf *tr = m->trailers;
    size_t tl = tr ? tr->len : 0;
    /* The rewritten section is never longer than the kept lines plus a
     * blank after each colon and the final CRLF. */
    if (txn_scratch_reserve(0, 2 * tl + 2) < 0)
        return -1;
    size_t n = http_trailer_write(tr ? tr->data : "", tl, txn_scratch_out, txn_scratch_out_cap);
    if (n == 0)
        return -1;
    if (n > in->cap - in->len) {
        /* The rewrite is longer than what it replaces (a blank after each
         * colon, the section's earlier reads put back) and the buffer is
         * full of body bytes the peer has not taken: a larger one, kept
         * for the rest of the message.  Offsets, not pointers, cross the
         * move. */
        size_t at_off = (size_t)(at - in->data);
        if (busy(owner) || buf_grow(b, in->len + n + EDIT_SLACK) < 0)
            return -1;
        in = *b;
        at = in->data + at_off;
    }
    memmove(at + keep + n, at + keep, after); /* the peer's bytes after the message, if any */
    memcpy(at + keep, txn_scratch_out, n);
    in->len += n;
    *consumed = keep + n;
    return 0;
}

enum http_body_status trailer_relay_section(struct http_msg *m, struct buf **b, size_t from, size_t *consumed,
                                            trailer_relay_busy busy, const void *owner, int *in_section)
{
    char *at = (*b)->data + from;
    int began_before = http_msg_trailers_begun(m);
    enum http_body_status rc = http_msg_body(m, at, (*b)->len - from, consumed);
    long start = section_start(m, began_before);
    if (in_section)
        *in_section = start >= 0;
    if (rc < 0) {
        *consumed = start > 0 ? (size_t)start : 0;
        return rc;
    }
    if (start >= 0 && rewrite(m, b, at, (size_t)start, consumed, rc == HTTP_BODY_DONE, busy, owner) < 0)
        return HTTP_BODY_NO_ROOM;
    return rc;
}
