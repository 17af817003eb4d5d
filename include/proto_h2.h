/*
 * proto_h2: HTTP/2 with clients over a conn (h2_proto), framed, HPACKed
 * and flow-controlled by libnghttp2; each stream is a txn (h2_stream.c)
 * served over HTTP/1.1 like any other request.  A connection starts as
 * HTTP/1 and is handed over when it turns out to speak HTTP/2 (ALPN h2,
 * or the connection preface on a plaintext listener: conn_choose_h2).
 */
#ifndef PROXY_PROTO_H2_H
#define PROXY_PROTO_H2_H

#include "conn.h"

struct buf;

/* A conn of h2_proto: the HTTP/2 state is its own allocation, so a conn
 * that began as HTTP/1 switches in place (it is no larger than an HTTP/1
 * session). */
struct h2_conn {
    struct conn c;
    struct h2_session *h;
};

extern const struct conn_proto h2_proto;

/* Takes c over as HTTP/2, with the bytes already read from it (`in`,
 * taken; may be NULL).  It goes on from the loop's next round: the
 * caller returns at once and no longer touches c as its own. */
void proto_h2_adopt(struct conn *c, struct buf *in);

/* Frees the calling thread's HTTP/2 scratch (thread exit). */
void proto_h2_cache_clear(void);

#endif
