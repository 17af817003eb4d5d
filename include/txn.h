/*
 * txn: one request in flight, whatever the client's protocol - the
 * generation it runs on, its pool and server slot, its place in a queue,
 * its server connection, the response buffer - and what it decides: the
 * route, picking, queueing and retrying on another server, its timeouts
 * (queue, connect, server, and the client that stops reading), the
 * accounting when it ends and its access-log line.
 *
 * It talks to the client side only through its stream sink (stream.h) and
 * to the server side only through a txn_upstream_ops table, which reports
 * back through the txn_* events below (connected, attempt failed); the
 * server side writes the response into rin and tells the sink.  Tests
 * drive a txn with a fake of each (tests/unit/test_txn.c).
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
#include "sticky.h"
#include "stream.h"

struct conn;
struct upstream_conn;
struct worker;
struct txn;

/* Where a request is, for the txn's timeouts and events. */
enum txn_phase {
    TXN_NEW,      /* parsed, no server asked yet */
    TXN_QUEUED,   /* waiting in the pool's queue for a server slot (timeout queue: 503) */
    TXN_CONNECT,  /* connecting to the chosen server (timeout connect) */
    TXN_FORWARD,  /* request to the server, response to the client (timeout server: 504) */
    TXN_TUNNEL,   /* after a 101: bytes both ways until one side closes */
    TXN_DONE,     /* answered by the proxy (respond_error) or cut */
};

/* The server side as the txn sees it (upstream_h1 for HTTP/1 servers). */
struct txn_upstream_ops {
    /* Starts an attempt on t->srv, on an idle connection or a new one
     * (t->up): 0 when it can forward at once (an idle connection), 1 while
     * connecting (txn_connected or txn_attempt_failed follow), -1 when it
     * failed at once (errno says why). */
    int (*start)(struct txn *t);
    void (*abort)(struct txn *t);                /* closes t->up */
    int (*may_have_reached)(const struct txn *t); /* some request byte is or may be at the server */
    void (*done)(struct txn *t, int reuse);      /* the response is whole: park t->up (reuse) or close it */
    /* What the sink's driver asks on each turn (forward or tunnel): */
    void (*send)(struct txn *t);                 /* write what reqbuf holds of the request */
    void (*splice)(struct txn *t);               /* move a large body by splice(2) when it can */
    void (*half_close)(struct txn *t);           /* tunnel: pass the client's half-close on */
    void (*want)(struct txn *t);                 /* set what the server connection waits for */
};

/* Room kept free at the end of a buffer so an edited head (which may grow
 * by a few fields) fits in place. */
#define EDIT_SLACK 512

/* What a read may add to b and keep EDIT_SLACK free: 0 once an edited head
 * reached into the slack (cap - EDIT_SLACK - len would wrap around). */
static inline size_t txn_read_room(const struct buf *b)
{
    return b->len + EDIT_SLACK < b->cap ? b->cap - EDIT_SLACK - b->len : 0;
}
/* Interim (1xx) responses relayed before the final one; more is a 502. */
#define INTERIM_MAX 8

/* Servers one request may try (the first and its retries). */
#define MAX_TRIES 8
#define LOG_LINE_MAX 256

/* One request in flight. */
/* A response that did not reach its client whole, and why (access log
 * aborted=..., faults.cut_*). */
enum txn_cut { TXN_CUT_NONE = 0, TXN_CUT_CLIENT, TXN_CUT_SERVER, TXN_CUT_SHUTDOWN };

struct txn {
    const struct stream_sink *sink;   /* the client side */
    void *sink_ctx;
    const struct txn_upstream_ops *uops; /* the server side */
    struct worker *w;
    struct conn *client;          /* the client connection, for its addresses (send-proxy); may be NULL */
    struct txn *next_free;        /* the per-thread free list */
    struct runtime *rt;           /* the generation this request runs on */
    struct pool *pool;
    struct route *route;          /* the route it matched (admission counts it there) */
    struct server *srv;           /* holds a slot (active + 1) while set */
    struct upstream_conn *up;
    struct buf *reqbuf;           /* the request's bytes, lent by the sink (raw HTTP/1: its input) */
    struct http_msg req;          /* frames the request body */
    struct http_msg resp;         /* frames the response */
    struct buf *rin;              /* response bytes to the client */
    size_t in_sent, in_fwd;       /* s->in: written to the server / known to be this request's */
    size_t rin_sent, rin_fwd;     /* rin: written to the client / known to be this response's */
    size_t rscanned;              /* rin: searched for the end of the response head */
    uint8_t method;
    uint8_t phase;                /* enum txn_phase */
    unsigned http10 : 1;
    unsigned client_keep_alive : 1;
    unsigned req_upgrade : 1;
    unsigned req_done : 1;        /* every byte of the request is in s->in */
    uint8_t aborted;              /* enum txn_cut: how a response was cut short */
    unsigned aborted_counted : 1; /* the cut was counted */
    unsigned proxy_made : 1;      /* the client's response is one the proxy made */
    unsigned replayable : 1;      /* s->in still holds the request from its first byte */
    unsigned sent_any : 1;        /* some request byte reached the server */
    unsigned resp_any : 1;        /* some response byte came back from the server */
    unsigned resp_head_done : 1;
    unsigned resp_done : 1;
    unsigned resp_keep_alive : 1; /* the server connection may be reused */
    unsigned close_after : 1;     /* close the client after this response */
    unsigned dechunk : 1;         /* chunked response to an HTTP/1.0 client: decode it */
    unsigned resp_sized : 1;      /* the response body is framed by Content-Length */
    unsigned resp_to_close : 1;   /* an HTTP/1 client's copy of the body ends at the close */
    unsigned splicing : 1;        /* the rest of the body goes server -> pipe -> client */
    unsigned fresh_conn : 1;      /* the next attempt opens a new server connection */
    unsigned up_shut : 1;         /* tunnel: the client's half-close was passed to the server */
    unsigned client_shut : 1;     /* tunnel: the server's half-close was passed to the client */
    unsigned client_eof : 1;      /* the client ended its side: no keep-alive after this */
    unsigned client_tls : 1;      /* the request came over TLS (X-Forwarded-Proto, HSTS, Secure) */
    uint8_t sticky_seen;          /* the request carried its pool's sticky cookie, valid or not */
    struct server *sticky_srv;    /* the server that cookie names, for the first pick; else NULL */
    char sticky_id[STICKY_ID_LEN + 1]; /* the cookie's value when it names a server, else "" */
    uint8_t attempts;
    uint8_t ntried;
    uint8_t interim;              /* 1xx heads relayed */
    struct server *tried[MAX_TRIES];
    struct queue_waiter qw;
    uint16_t status;
    uint32_t retry_after;         /* Retry-After of a 429 (seconds until a token is there) */
    uint16_t last_failure;        /* status a failed attempt would give (502/504), 0 = none */
    uint64_t bytes_out;
    uint64_t splice_left;         /* body bytes still to take from the server */
    struct splice_pipe pipe;      /* while splicing */
    double t_start, t_connected, t_head;
    double deadline;              /* when the current phase times out (armed through the sink) */
    double last_activity;         /* a byte moved either way: for timeout server, checked lazily */
    double client_progress_at;    /* when the client last took response bytes (timeout client) */
    int outq_seen;                /* client socket's unsent bytes at the last check, -1 = none */
    char client_ip[INET6_ADDRSTRLEN];
    char last_server[CONFIG_NAME_MAX]; /* the server tried last (access log) */
    char line[LOG_LINE_MAX];      /* request line, for the access log */
};

/* `tls hsts`: the Strict-Transport-Security line every response to a TLS
 * client carries, written into out (cap >= TXN_HSTS_MAX); its length, 0
 * for a plaintext client or with hsts off ("" in out). */
#define TXN_HSTS_MAX 64
size_t txn_hsts_line(const struct txn *t, char *out, size_t cap);

/* A zeroed txn from the calling thread's cache (or new); NULL when out of
 * memory. */
struct txn *txn_cache_get(void);
/* A new request on worker w, answered through `sink` (its context
 * `sink_ctx`), served by the server side `uops`: on w's generation, with
 * its start time; NULL when out of memory. */
struct txn *txn_open(struct worker *w, const struct stream_sink *sink, void *sink_ctx,
                     const struct txn_upstream_ops *uops);
/* Frees the calling thread's cache and scratch (thread exit). */
void txn_cache_clear(void);
/* Gives the calling thread's cached txns back to their slabs, after a
 * burst: the last ones freed (up to 256) are spread over the burst's slabs,
 * and cached they kept every one of those slabs mapped. */
void txn_cache_trim(void);
/* Requests in flight on the calling thread. */
unsigned txn_live_count(void);
/* Records that t's response was cut short for `why` (the first reason
 * given wins; counted once in faults.cut_*). */
void txn_mark_cut(struct txn *t, enum txn_cut why);
/* A fault of the client's in a request body under way (a trailer section
 * over the limit): 0 while none of the request reached a server (the
 * caller answers it, 400); else 1, after closing the server side (its
 * server holds the start of a request that will never end well) and
 * counting the cut as the client's: the caller closes the client. */
int txn_request_cut(struct txn *t);
/* The request is answered while it waits in its pool's queue: its place
 * goes now (it counts against max-queue, and a wake-up given to it would
 * be a slot nobody takes). */
void txn_leave_queue(struct txn *t);
/* The client's side is cut by the proxy (a stream reset): its queue place,
 * server connection and server slot go now, not when the cut reaches the
 * client (a client that reads nothing would hold them); the rest stays
 * for txn_end.  Leaves t done. */
void txn_drop_server(struct txn *t);
/* Lets go of everything t holds (queue place, server connection, server
 * slot, buffers, generation) and gives it back to the cache.  NULL-safe. */
void txn_end(struct txn *t);
/* A head is parsed and edited in one go, into this per-thread scratch (its
 * fields and the edited copy), so no request needs its own. */
extern _Thread_local struct http_field *txn_scratch_fields;
extern _Thread_local unsigned txn_scratch_max;
extern _Thread_local char *txn_scratch_out;
extern _Thread_local size_t txn_scratch_out_cap;
int txn_scratch_reserve(unsigned fields, size_t out);

/* Sets the deadline of t's phase, `ms` from now, through its sink. */
void txn_arm(struct txn *t, uint64_t ms);
/* How often a forwarding txn's timer looks at both sides: a client that
 * stops taking the response is seen within a quarter of timeout client. */
uint64_t txn_forward_check_ms(const struct config *cfg);
/* Whether the client's connection is TLS: sticky cookies get `Secure`.
 * The client side sets t->client_tls when it opens the txn (0 until a TLS
 * transport exists to say so). */
static inline int txn_client_is_tls(const struct txn *t)
{
    return t->client_tls;
}

/* The client took response bytes: progress for timeout client. */
static inline void txn_client_progress(struct txn *t, double now)
{
    t->client_progress_at = now;
    t->outq_seen = -1;
}

/* Works out who the client is, before the route (whose traffic anatomy
 * counts it) and the admission: the peer (a struct sockaddr), or the
 * address a trusted proxy put in the `client-ip header` of the head (buf,
 * h), which then replaces t->client_ip for the anatomy, the log and
 * X-Forwarded-For.  *client is for txn_admit. */
void txn_client(struct txn *t, const void *peer, const char *buf, const struct http_head *h,
                struct in6_addr *client);
/* Routes t by its Host and target (router_resolve, on the normalized
 * path, normalized into path_buf): sets t->pool and *route; returns 0, or
 * the status to answer (400, 414, 503 for no route). */
struct route_result;
int txn_route(struct txn *t, const char *host, size_t host_len, const char *target, size_t target_len,
              char *path_buf, size_t cap, struct route_result *route);
/* The admission step, after the route (admit.h): counts the request at
 * its route, gives it the route's queue priority, and applies `limit
 * rate` to client (txn_client's).  Returns 0, or 429 (with t->retry_after
 * set) to answer. */
int txn_admit(struct txn *t, const struct in6_addr *client, const struct route_result *route);
/* The three in their order, for a parsed request head in buf: 0, or the
 * status to answer. */
int txn_route_admit(struct txn *t, const void *peer, const char *buf, const struct http_head *h, char *path_buf,
                    size_t cap, struct route_result *route);
/* Picks a server and starts the attempt on it (t->uops->start), or queues
 * the request, or answers 503 (or how the last attempt failed). */
void txn_start_server(struct txn *t);
/* Events from the server side.  The attempt's connection is ready. */
void txn_connected(struct txn *t);
/* The attempt on t->srv failed before any response byte: `counts` says
 * whether it is the server's fault (a reused connection the server had
 * closed is not).  Tries another server when allowed - never again for a
 * request that is not idempotent and may have reached the server - else
 * answers `status`. */
void txn_attempt_failed(struct txn *t, const char *reason, int counts, int status);
/* The final response head is ready (for SINK_RAW_H1: edited in place in
 * rin, up to rin_fwd), more of the body is (in rin, or in the pipe while
 * splicing), the response is whole: stamped and passed on to the sink. */
void txn_response_head(struct txn *t);
void txn_response_body(struct txn *t);
void txn_response_end(struct txn *t);
/* Answers the request with an error of the proxy's own (t->sink). */
void txn_respond_error(struct txn *t, int status);
/* A server was marked down: in pools with `on-down shutdown` a request on
 * it with no response byte yet goes to another server when it may be
 * retried, else gets 502.  Drives the sink when it acted. */
void txn_server_down(struct txn *t);
/* The deadline armed by txn_arm passed (queued: 503, connect: another
 * server or 504, forwarding: timeout server or a client that stopped
 * reading). */
void txn_timeout(struct txn *t);
/* The response went out whole: the server's and the process's accounting,
 * and the server connection parked or closed (t->uops->done). */
void txn_complete(struct txn *t, double now);

/* Writes t's access-log line, the request having ended at `end`
 * (ev_now seconds). */
void txn_access_log(const struct txn *t, double end);

#endif
