/*
 * stats_listen: the stats port's listening socket on the main loop:
 * opened at start, moved by a reload to a new address (the old one serves
 * on when the new one cannot be bound), closed at the stop.  Accepts in
 * batches and hands each connection to the stats server's callback; backs
 * off for a moment after EMFILE and the like rather than spin.
 */
#ifndef PROXY_STATS_LISTEN_H
#define PROXY_STATS_LISTEN_H

#include <ev.h>

#include "config.h"

struct stats_listener;
typedef void (*stats_accept_fn)(int fd);

/* Opens a listening socket on addr; NULL (errno set) after logging why,
 * unless quiet. */
struct stats_listener *stats_listener_open(struct ev_loop *loop, const struct config_addr *addr, int quiet,
                                           stats_accept_fn on_conn);
void stats_listener_close(struct stats_listener *l);
/* *l for cfg's stats address: kept when the address stays, else a new
 * socket (the old one closed), NULL without `stats`.  -1 when the new
 * address cannot be bound; *l then serves on. */
int stats_listener_move(struct stats_listener **l, struct ev_loop *loop, const struct config *cfg,
                        stats_accept_fn on_conn);

#endif
