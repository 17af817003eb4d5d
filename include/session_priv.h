/*
 * session_priv: what the two halves of an HTTP/1 session share - the client
 * side (session.c: reading requests, the driver, timeouts, h1_proto) and
 * the server side (session_server.c: choosing and connecting to a server,
 * retries, forwarding the request, editing and relaying the response).
 * The socket, watcher and timer are the conn's (conn.h), the request's
 * state the txn's (txn.h).  Private to those two files.
 */
#ifndef PROXY_SESSION_PRIV_H
#define PROXY_SESSION_PRIV_H

#include <arpa/inet.h>
#include <ev.h>
#include <netinet/in.h>
#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "config.h"
#include "conn.h"
#include "http.h"
#include "runtime.h"
#include "sendq.h"
#include "splice_pipe.h"
#include "txn.h"
#include "xprt.h"

struct worker;

/* Room kept free at the end of a buffer so an edited head (which may grow
 * by a few fields) fits in place. */
#define EDIT_SLACK 512
#define LINGER_MS 1000
/* Interim (1xx) responses relayed before the final one; more is a 502. */
#define INTERIM_MAX 8

/* The HTTP/1 connection's own states; where a request is (queued,
 * connecting, forwarding, tunnelling) is its txn's phase (txn.h). */
enum sess_state {
    SESS_IDLE,        /* keep-alive: waiting for a request; no buffers held (timeout keep-alive) */
    SESS_READ_HEAD,   /* receiving a request head (timeout client: 408) */
    SESS_REQUEST,     /* a request handed to its txn (whose phase times it) */
    SESS_ERROR,       /* sending a response made by the proxy, then closing */
    SESS_CLOSED,      /* freed at the end of the current callback */
};

/* A client connection speaking HTTP/1: the conn (transport, watcher,
 * timer, address) first, so a conn of h1_proto is a session. */
struct session {
    struct conn c;
    uint8_t state;
    unsigned client_eof : 1;
    unsigned lingering : 1;       /* error sent, write side shut: discarding input until EOF */
    struct buf *in;               /* request bytes; NULL while idle */
    size_t scanned;               /* in: searched for the end of the head */
    struct txn *t;
};

/* The head being parsed is split into this per-thread scratch: a head is
 * parsed and edited in one go, so no session needs its own. */
extern _Thread_local struct http_field *sess_scratch_fields;
extern _Thread_local unsigned sess_scratch_max;
extern _Thread_local char *sess_scratch_out;
extern _Thread_local size_t sess_scratch_out_cap;
int sess_scratch_reserve(unsigned fields, size_t out);

/* The session's request is in phase `phase` of its txn. */
static inline int sess_in(const struct session *s, int phase)
{
    return s->state == SESS_REQUEST && s->t->phase == phase;
}

/* session.c */
const struct config *sess_cfg(const struct session *s);
void sess_respond_error(struct session *s, int status);
extern const struct sendq_ops sess_client_sendq, sess_upstream_sendq;
void sess_step(struct session *s);
/* Marks the session finished: sess_step frees it (conn_free) at the
 * end of the current callback, never under one that still uses it. */
void sess_mark_closed(struct session *s);

/* session_server.c */
/* The server side of a txn for HTTP/1 servers (txn.h). */
extern const struct txn_upstream_ops sess_upstream_ops;
void sess_flush_upstream(struct session *s);
void sess_compact_in(struct session *s);
void sess_flush_client(struct session *s);
/* Switches a large Content-Length body to splice(2) once the buffered part
 * has gone out; then the two helpers below move it. */
void sess_try_splice(struct session *s);
int sess_splice_soon(const struct txn *t);
void sess_splice_in(struct session *s);
void sess_splice_out(struct session *s);

#endif
