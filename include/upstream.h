/*
 * upstream: connections to servers - non-blocking connect, and the pool of
 * idle keep-alive connections each worker keeps per server, reused across
 * clients.
 */
#ifndef PROXY_UPSTREAM_H
#define PROXY_UPSTREAM_H

#include <ev.h>
#include <stdint.h>

#include "runtime.h"
#include "sendq.h"

struct worker;

struct upstream_conn {
    int fd;
    ev_io io;
    struct server *srv;                  /* counted reference */
    struct upstream_conn *prev, *next;   /* the idle list of (srv, worker) */
    struct worker *w;
    struct sendq_conn q;                 /* its sends (owner: the session using it) */
    uint64_t idle_since_ms;
    unsigned reused : 1;                 /* came from the idle pool */
};

/* An idle connection to srv (most recently used first), its watcher
 * stopped, or NULL. */
struct upstream_conn *upstream_take_idle(struct worker *w, struct server *srv);
/* Starts a non-blocking connect to srv.  Returns the connection (writable
 * when connected), or NULL with errno set. */
struct upstream_conn *upstream_connect(struct worker *w, struct server *srv);
/* Puts a connection whose exchange finished cleanly into the idle pool; it
 * is closed when the server closes it, when it has been idle too long, or
 * when the pool of idle connections to that server is full. */
void upstream_park(struct upstream_conn *uc);
void upstream_close(struct upstream_conn *uc);
/* Closes idle connections idle for longer than max_idle_ms, and those to
 * servers removed by a reload. */
void upstream_sweep(struct worker *w, const struct runtime *rt, uint64_t max_idle_ms);
/* Closes every idle connection of the worker (shutdown). */
void upstream_close_all_idle(struct worker *w, const struct runtime *rt);

#endif
