/*
 * conn: one client connection - its transport, its watcher and timer, the
 * client's address and the listener it came through - and the choice of
 * the protocol that speaks over it: HTTP/1 first, HTTP/2 when the first
 * bytes are its preface (on TLS, after ALPN chose h2: conn_choose_h2), the
 * HTTP/1 protocol then handing the conn over in place (proto_h2_adopt).
 * The protocol's own per-connection
 * state is one allocation with the struct conn at its front
 * (conn_proto.size), so a connection is still one calloc.
 *
 * Below the worker, above the protocols: the worker owns the registry of
 * connections and is told of a close through the hook it passed to
 * conn_new; a protocol is driven through its conn_proto table.  Nothing
 * here knows HTTP.
 */
#ifndef PROXY_CONN_H
#define PROXY_CONN_H

#include <ev.h>
#include <netinet/in.h>
#include <stdint.h>
#include <sys/socket.h>

#include "xprt.h"

struct conn;
struct listen_bind;
struct listener_counters;
struct worker;

/* What a protocol does with a connection it was given. */
struct conn_proto {
    const char *name;
    size_t size;                                 /* its state, a struct conn first */
    const struct sendq_ops *sendq;               /* told of the client sends' progress */
    void (*start)(struct conn *c);               /* set up; bytes may already be waiting */
    void (*io)(struct conn *c, int revents);     /* the client socket is ready */
    void (*timeout)(struct conn *c);             /* the deadline (conn_timer_set) passed */
    int (*idle)(const struct conn *c);           /* nothing in flight: a graceful stop may close it */
    void (*server_down)(struct conn *c);         /* a server was marked down (on-down shutdown) */
    /* A graceful stop or a reload began: take no new requests here and let
     * the ones in flight finish (HTTP/2: GOAWAY).  NULL: nothing to do
     * (HTTP/1 closes after its current response). */
    void (*drain)(struct conn *c);
    /* Lets go of the protocol's state (a request cut short is logged):
     * the transport and the memory are the conn's to free after. */
    void (*release)(struct conn *c);
    /* Records read ahead by TLS come back in the next loop round, after the
     * other clients' (conn_read_next_round), not in this one: a connection
     * of many streams could be read to its end first (HTTP/2).  HTTP/1
     * reads one request at a time: at once costs a round less. */
    unsigned tls_reads_next_round : 1;
};

/* One per client connection, so its size is most of what an idle
 * keep-alive client costs (4000 of them: 4000 times it): fields are
 * ordered to leave no holes, and what only some connections need (the
 * local address behind a PROXY header) is allocated when they need it. */
struct conn {
    struct worker *w;
    const struct conn_proto *proto;
    struct conn *prev, *next;      /* the worker's registry (worker_conn_register) */
    struct conn *idle_prev, *idle_next; /* the worker's idle list, longest idle first */
    struct xprt x;
    struct listener_counters *listener; /* of the listen address it came through (may be NULL) */
    ev_io io;
    ev_timer timer;
    double deadline;               /* when the current state times out */
    /* The address the client connected to: the PROXY header's destination,
     * else looked up when first asked (conn_local_addr); NULL until then. */
    struct sockaddr_in6 *local;
    uint64_t client_key;           /* counted by limit client-conns (admit.h), or CLIENT_KEY_NONE */
    struct sockaddr_in6 peer;      /* the client's address (v4 or v6); behind a PROXY
                                      protocol header, the header's source */
    unsigned idle_listed : 1;
    unsigned redirect_https : 1;   /* came through `listen ADDR redirect https` */
    unsigned proxy_protocol : 1;   /* its listener wants a PROXY header first */
    unsigned proto_fixed : 1;      /* its first bytes chose the protocol (conn_choose_h2) */
    unsigned read_again : 1;       /* listed by conn_read_next_round */
};

/* A connection for a socket accepted on a listener with bind
 * configuration `bind`, with the protocol chosen for it; not started.
 * Takes fd (closed on failure: NULL).  When it is freed, w->conn_closed
 * (if set: the worker's registry) is told first. */
struct conn *conn_new(struct worker *w, const struct listen_bind *bind, int fd, const struct sockaddr *addr,
                      socklen_t len);
/* Hands the connection to its protocol, which may read at once (and may
 * close it before returning).  A connection whose listener wants a PROXY
 * header (c->proxy_protocol) goes through conn_pp_start instead: the
 * accept path chooses, so that this file knows nothing of that stage. */
void conn_start(struct conn *c);
/* A stage before the protocol (the PROXY header, conn_pp.c) ended: the
 * watchers are the conn's again and the protocol starts. */
void conn_stage_done(struct conn *c);
/* Records the address the client connected to (a PROXY header's
 * destination).  Returns 0, or -1 when out of memory. */
int conn_set_local_addr(struct conn *c, const struct sockaddr_in6 *addr);
/* The address the client connected to (see struct conn.local), or NULL
 * if the socket cannot say. */
const struct sockaddr *conn_local_addr(struct conn *c);
/* The client's address as text (X-Forwarded-For, the access log), cap >=
 * INET6_ADDRSTRLEN. */
void conn_peer_ip(const struct conn *c, char *out, size_t cap);
/* Whether the first bytes a client sent, data[0..len), make the
 * connection HTTP/2: the connection preface on a plaintext listener (prior
 * knowledge), or on TLS when ALPN chose h2.  1 yes (the HTTP/1 protocol
 * hands the conn to proto_h2_adopt), 0 HTTP/1 from now on, -1 too few
 * bytes to tell (a prefix of the preface).  Decided once per connection. */
int conn_choose_h2(struct conn *c, const char *data, size_t len);
/* Frees the connection now: only outside its own watchers' callbacks. */
void conn_free(struct conn *c);
/* Has the connection's read event come again in the loop's next round,
 * after the sockets that are ready now: for a connection that stopped
 * reading with more waiting (on the socket, or read ahead by TLS), so it
 * does not keep the worker from the others.  ev_feed_event from inside a
 * callback is run in the same round (libev runs what is fed while it
 * invokes), before any other socket is polled. */
void conn_read_next_round(struct conn *c);
void conn_read_again_clear(void);

/* Sets the deadline; the timer is moved only when it comes earlier than
 * the one armed (a timer that fires early re-arms itself), so most
 * requests cost no timer heap operation. */
void conn_timer_set(struct conn *c, uint64_t ms);
/* Sets the deadline to ms from now only if the current one is later or
 * no timer runs: a multiplexed connection's streams (HTTP/2) each bring
 * a deadline, and the soonest wins. */
void conn_timer_at_most(struct conn *c, uint64_t ms);
/* Changes what a watcher over transport x waits for (no epoll call when
 * the mask is unchanged).  Bytes TLS already holds are delivered as a
 * readiness of their own, since the fd will not show them. */
void conn_io_want(struct ev_loop *loop, ev_io *io, struct xprt *x, int events);

/* The worker's idle list: connections idle between requests, in the order
 * they went idle, so the longest idle is found at once when room is
 * needed. */
void conn_idle_enter(struct conn *c);
void conn_idle_leave(struct conn *c);
/* Closes up to n of the worker's longest-idle connections (not one with a
 * request already arrived), counting them in metrics.idle_closed_for_room.
 * Returns how many it closed.  Not from a connection's own callback. */
unsigned conn_close_longest_idle(struct worker *w, unsigned n);

static inline int conn_idle(const struct conn *c)
{
    return c->proto->idle(c);
}

static inline void conn_server_down(struct conn *c)
{
    c->proto->server_down(c);
}

#endif
