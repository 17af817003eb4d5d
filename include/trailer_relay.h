/*
 * trailer_relay: a chunked body's trailer section relayed by HTTP/1.1 as
 * it came, but without the fields that may not go on (http_trailer.h,
 * CONTRACT 3).  While the section arrives its bytes are held back from the
 * buffer the body streams through (http_msg keeps them); once the body
 * ends they go back in rewritten.  One mechanism for both directions: a
 * server's response (upstream_h1.c, rin) and a client's request
 * (proto_h1.c, the session's input).
 */
#ifndef PROXY_TRAILER_RELAY_H
#define PROXY_TRAILER_RELAY_H

#include <stddef.h>

#include "buf.h"
#include "http.h"

/* Whether a send still points into the buffer, so that it may not move
 * (asked only when a rewrite needs a larger one). */
typedef int (*trailer_relay_busy)(const void *owner);

/* The body of a message with kept trailers (trailer_relay_body). */
enum http_body_status trailer_relay_section(struct http_msg *m, struct buf **b, size_t from, size_t *consumed,
                                            trailer_relay_busy busy, const void *owner, int *in_section);

/* A fault of the trailer section itself (over its limit, folded, or no
 * room for its rewrite), as against the body's framing. */
static inline int trailer_relay_section_fault(enum http_body_status rc)
{
    return rc == HTTP_BODY_TOO_LARGE || rc == HTTP_BODY_NO_ROOM || rc == HTTP_BODY_FOLDED;
}

/* http_msg_body over (*b)->data[from..len), for a message parsed with
 * keep_trailers (http_msg_keep_trailers) or not (then only that: inline,
 * so a body without a section to hold costs no more than before).
 * *consumed is what may go on: the body bytes, and once the body ended
 * its rewritten section; after a fault, the valid body bytes before it.
 * Bytes after the message stay after it.  A rewrite longer than the room
 * left moves *b to a larger buffer, unless busy(owner).  Returns as
 * http_msg_body, or HTTP_BODY_NO_ROOM when the rewrite does not fit;
 * *in_section (when not NULL) tells whether the trailer section had begun,
 * so whether a fault was the section's. */
static inline enum http_body_status trailer_relay_body(struct http_msg *m, struct buf **b, size_t from, size_t *consumed,
                                     trailer_relay_busy busy, const void *owner, int *in_section)
{
    if (m->keep_trailers)
        return trailer_relay_section(m, b, from, consumed, busy, owner, in_section);
    if (in_section)
        *in_section = 0;
    return http_msg_body(m, (*b)->data + from, (*b)->len - from, consumed);
}

#endif
