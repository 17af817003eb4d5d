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

enum sess_state {
    SESS_IDLE,        /* keep-alive: waiting for a request; no buffers held (timeout keep-alive) */
    SESS_READ_HEAD,   /* receiving a request head (timeout client: 408) */
    SESS_QUEUED,      /* waiting in the pool's queue for a server slot (timeout queue: 503) */
    SESS_CONNECT,     /* connecting to the chosen server (timeout connect) */
    SESS_FORWARD,     /* request to the server, response to the client (timeout server: 504) */
    SESS_TUNNEL,      /* after a 101: bytes both ways until one side closes */
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
    double last_activity;         /* for timeout server, checked lazily */
    double client_progress_at;    /* when the client last took response bytes (timeout client) */
    int outq_seen;                /* client socket's unsent bytes at the last check, -1 = none */
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

/* session.c */
const struct config *sess_cfg(const struct session *s);
/* The client took response bytes: progress for timeout client. */
void sess_client_progress(struct session *s);
/* How often a forwarding session's timer looks at both sides. */
uint64_t sess_forward_check_ms(const struct config *cfg);
void sess_respond_error(struct session *s, int status);
extern const struct sendq_ops sess_client_sendq, sess_upstream_sendq;
void sess_step(struct session *s);
/* Marks the session finished: sess_step frees it (conn_free) at the
 * end of the current callback, never under one that still uses it. */
void sess_mark_closed(struct session *s);

/* session_server.c */
void sess_start_server(struct session *s);
/* h1_proto.server_down: a server was marked down; in pools with `on-down
 * shutdown` a request on it with no response byte yet goes to another
 * server when it may be retried, else gets 502. */
void sess_server_down(struct conn *c);
/* h1_proto.server_down: a server was marked down; in pools with `on-down
 * shutdown` a request on it with no response byte yet goes to another
 * server when it may be retried, else gets 502. */
void sess_server_down(struct conn *c);
void sess_attempt_failed(struct session *s, const char *reason, int counts, int status);
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
