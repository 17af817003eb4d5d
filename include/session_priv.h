/*
 * session_priv: what the two halves of a session share - the client side
 * (session.c: reading requests, the driver, lifecycle, timeouts) and the
 * server side (session_server.c: choosing and connecting to a server,
 * retries, forwarding the request, editing and relaying the response).
 * Private to those two files.
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
#include "http.h"
#include "runtime.h"
#include "sendq.h"
#include "splice_pipe.h"

struct worker;

/* Room kept free at the end of a buffer so an edited head (which may grow
 * by a few fields) fits in place. */
#define EDIT_SLACK 512
#define MAX_TRIES 8
#define LOG_LINE_MAX 256
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

/* One request in flight. */
struct txn {
    struct session *s;
    struct txn *next_free;        /* the per-thread free list */
    struct runtime *rt;           /* the generation this request runs on */
    struct pool *pool;
    struct server *srv;           /* holds a slot (active + 1) while set */
    struct upstream_conn *up;
    struct http_msg req;          /* frames the request body */
    struct http_msg resp;         /* frames the response */
    struct buf *rin;              /* response bytes to the client */
    size_t in_sent, in_fwd;       /* s->in: written to the server / known to be this request's */
    size_t rin_sent, rin_fwd;     /* rin: written to the client / known to be this response's */
    size_t rscanned;              /* rin: searched for the end of the response head */
    uint8_t method;
    unsigned http10 : 1;
    unsigned client_keep_alive : 1;
    unsigned req_upgrade : 1;
    unsigned req_done : 1;        /* every byte of the request is in s->in */
    unsigned replayable : 1;      /* s->in still holds the request from its first byte */
    unsigned sent_any : 1;        /* some request byte reached the server */
    unsigned resp_any : 1;        /* some response byte came back from the server */
    unsigned resp_head_done : 1;
    unsigned resp_done : 1;
    unsigned resp_keep_alive : 1; /* the server connection may be reused */
    unsigned close_after : 1;     /* close the client after this response */
    unsigned dechunk : 1;         /* chunked response to an HTTP/1.0 client: decode it */
    unsigned resp_sized : 1;      /* the response body is framed by Content-Length */
    unsigned splicing : 1;        /* the rest of the body goes server -> pipe -> client */
    unsigned fresh_conn : 1;      /* the next attempt opens a new server connection */
    unsigned up_shut : 1;         /* tunnel: the client's half-close was passed to the server */
    unsigned client_shut : 1;     /* tunnel: the server's half-close was passed to the client */
    uint8_t attempts;
    uint8_t ntried;
    uint8_t interim;              /* 1xx heads relayed */
    struct server *tried[MAX_TRIES];
    struct queue_waiter qw;
    uint16_t status;
    uint16_t last_failure;        /* status a failed attempt would give (502/504), 0 = none */
    uint64_t bytes_out;
    uint64_t splice_left;         /* body bytes still to take from the server */
    struct splice_pipe pipe;      /* while splicing */
    double t_start, t_connected, t_head;
    char client_ip[INET6_ADDRSTRLEN];
    char line[LOG_LINE_MAX];      /* request line, for the access log */
};

struct session {
    struct worker *w;
    struct session *prev, *next;  /* the worker's list */
    int fd;
    uint8_t state;
    unsigned client_eof : 1;
    unsigned lingering : 1;       /* error sent, write side shut: discarding input until EOF */
    unsigned idle_listed : 1;     /* on the worker's idle list (session_idle.c) */
    ev_io io;
    ev_timer timer;
    struct sendq_conn q;          /* sends to the client */
    double last_activity;         /* for timeout server, checked lazily */
    double client_progress_at;    /* when the client last took response bytes (timeout client) */
    int outq_seen;                /* client socket's unsent bytes at the last check, -1 = none */
    double deadline;              /* when the current state times out */
    double timer_at;              /* when the libev timer is armed to fire */
    struct buf *in;               /* request bytes; NULL while idle */
    size_t scanned;               /* in: searched for the end of the head */
    struct txn *t;
    struct sockaddr_in6 peer;     /* the client's address (v4 or v6) */
    struct session *idle_prev, *idle_next; /* the worker's idle list, longest idle first */
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
void sess_timer_set(struct session *s, uint64_t ms);
void sess_respond_error(struct session *s, int status);
extern const struct sendq_ops sess_client_sendq, sess_upstream_sendq;
void session_step(struct session *s);
void session_close(struct session *s);
/* Frees a session now: only outside its own watchers' callbacks. */
void session_free(struct session *s);

/* session_idle.c: the worker's keep-alive sessions in the order they went
 * idle, so the longest idle is found at once when room is needed. */
void sess_idle_enter(struct session *s);
void sess_idle_leave(struct session *s);

/* session_server.c */
void sess_start_server(struct session *s);
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
