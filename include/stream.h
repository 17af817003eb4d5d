/*
 * stream: the sink a txn writes its response to - the client side of one
 * request, whatever the client's protocol: proto_h1.c for HTTP/1, and
 * h2_stream.c for each HTTP/2 stream.  The txn never touches the client's
 * socket, buffers or state otherwise.
 *
 * With SINK_RAW_H1 the client speaks HTTP/1 too: the server's response head
 * is edited in place in the txn's rin and its bytes go out as they are, so
 * send_head and send_data only say that rin holds more to flush.  A sink
 * without it (HTTP/2) gets the edited head and a decoded (never chunked)
 * body in rin, and encodes the head and frames the data itself.
 * SINK_SPLICE: the sink can take a body through a pipe (splice(2)) when
 * both transports allow it (xprt_can_splice with the one `xprt` gives).
 */
#ifndef PROXY_STREAM_H
#define PROXY_STREAM_H

#include <stdint.h>

struct xprt;

enum {
    SINK_RAW_H1 = 1u << 0,  /* the response head is edited in place in rin */
    SINK_SPLICE = 1u << 1,  /* a body may go server -> pipe -> client */
};

struct stream_sink {
    unsigned caps;
    void (*send_head)(void *ctx);              /* the final head is ready (rin, raw HTTP/1) */
    void (*send_data)(void *ctx);              /* more body is ready */
    void (*end)(void *ctx);                    /* the response is whole */
    void (*reset)(void *ctx);                  /* cut the stream off (the client or a timeout) */
    void (*respond_error)(void *ctx, int status); /* answer with a response of the proxy's own */
    void (*proceed)(void *ctx);                /* make progress now (after a wake from outside) */
    void (*arm)(void *ctx, uint64_t ms);       /* the txn's deadline: its timeout comes back as txn_timeout */
    struct xprt *(*xprt)(void *ctx);           /* the client's transport (splice, unsent bytes) */
};

#endif
