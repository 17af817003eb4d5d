/*
 * txn: one request in flight and what it holds - the generation it runs
 * on, its pool and server slot, its place in a queue, its server
 * connection, the response buffer - with the per-thread cache they come
 * from and the access-log line written when it ends.
 *
 * A txn is one allocation per request taken from a per-thread free list,
 * so a keep-alive connection between requests holds none.
 */
#ifndef PROXY_TXN_H
#define PROXY_TXN_H

#include <arpa/inet.h>
#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "http.h"
#include "runtime.h"
#include "splice_pipe.h"

struct session;
struct upstream_conn;

/* Servers one request may try (the first and its retries). */
#define MAX_TRIES 8
#define LOG_LINE_MAX 256

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

/* A zeroed txn from the calling thread's cache (or new); NULL when out of
 * memory. */
struct txn *txn_cache_get(void);
/* Frees the calling thread's cache (thread exit). */
void txn_cache_clear(void);
/* Requests in flight on the calling thread. */
unsigned txn_live_count(void);
/* Lets go of everything t holds (queue place, server connection, server
 * slot, buffers, generation) and gives it back to the cache.  NULL-safe. */
void txn_end(struct txn *t);
/* Writes t's access-log line, the request having ended at `end`
 * (ev_now seconds). */
void txn_access_log(const struct txn *t, double end);

#endif
