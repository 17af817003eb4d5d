/*
 * rehearse_client: the connections and requests of `proxy rehearse`, on
 * one libev loop.
 *
 * A request is handed in when it is due.  It goes out at once on an idle
 * keep-alive connection, or on a new one while fewer than max_conns are
 * open; otherwise it waits in a FIFO for the next free connection.  Its
 * latency is measured from the due time in every case, so neither a slow
 * server nor a lack of connections hides time from the histogram.
 */
#ifndef PROXY_REHEARSE_CLIENT_H
#define PROXY_REHEARSE_CLIENT_H

#include <ev.h>
#include <stdint.h>

#include "rehearse_types.h"

/* What the requests of the current step added up to. */
struct rh_acc {
    struct rh_hist lat;      /* due time -> complete response, us */
    struct rh_hist lag;      /* due time -> handed to a connection or the wait queue, us */
    uint64_t issued;         /* requests due in the step, handed to the client */
    uint64_t sent, sent_in_window, done, errors; /* sent: written to a connection */
    uint64_t err[RH_ERR_KINDS];
    uint64_t conn_waits, retried;
    uint64_t window_end_ns;  /* "sent in window": before the step's end */
};

struct rh_req {
    uint64_t due_ns;
    uint32_t entry;
    uint32_t retried;
};

struct rh_conn;

struct rh_client {
    struct ev_loop *loop;
    const struct rh_opts *o;
    const struct rh_entry *entries;
    int nentries;
    uint64_t weight_total, rng;
    uint64_t timeout_ns;
    struct rh_acc *acc;

    unsigned max_conns, nconns, nidle, nconnecting;
    struct rh_conn **all;    /* open connections, [0..nconns) */
    struct rh_conn **idle;   /* idle ones, [0..nidle) */

    struct rh_req *waitq;    /* a ring of requests waiting for a connection */
    size_t wq_head, wq_len, wq_cap;
};

/* Takes nothing over: opts and entries must outlive the client. */
int rh_client_init(struct rh_client *c, struct ev_loop *loop, const struct rh_opts *o,
                   const struct rh_entry *entries, int nentries, unsigned max_conns);
/* A request of the mix is due at due_ns: send it or queue it. */
void rh_client_issue(struct rh_client *c, uint64_t due_ns);
/* Opens up to n connections ahead of the first step, so that its first
 * requests do not all pay for a TCP handshake; and how many are still
 * connecting. */
void rh_client_preconnect(struct rh_client *c, unsigned n);
unsigned rh_client_connecting(const struct rh_client *c);
/* Requests sent and not answered, plus those waiting for a connection. */
uint64_t rh_client_outstanding(const struct rh_client *c);
/* Fails every request older than the timeout (from its due time). */
void rh_client_sweep(struct rh_client *c, uint64_t now_ns);
void rh_client_free(struct rh_client *c);

uint64_t rh_now_ns(void);

#endif
