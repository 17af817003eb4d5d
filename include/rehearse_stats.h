/*
 * rehearse_stats: samples the proxy's /api/stats (--stats) each second
 * during a rehearsal, folding each server's `active`, its pool's `queued`,
 * its `failures` and `state` into the current step.
 */
#ifndef PROXY_REHEARSE_STATS_H
#define PROXY_REHEARSE_STATS_H

#include <ev.h>
#include <stddef.h>
#include <stdint.h>

#include "rehearse_types.h"

/* Each server's last failures counter, so that a step counts its own. */
struct rh_seen {
    char pool[RH_NAME_MAX], name[RH_NAME_MAX];
    uint64_t failures;
};

struct rh_stats {
    struct ev_loop *loop;
    const struct rh_opts *o;
    struct rh_step *step;    /* where samples go; NULL between steps */
    ev_timer tick;
    ev_io io;
    int fd;
    char *buf;
    size_t len, cap;
    unsigned nseen;
    struct rh_seen seen[RH_MAX_SERVERS];
    unsigned samples, failed;
};

/* Folds one /api/stats document into step (servers found or added by pool
 * and name), using and updating seen[0..*nseen).  0, or -1 when the text
 * is not the stats JSON. */
int rh_stats_apply(struct rh_step *step, struct rh_seen *seen, unsigned *nseen,
                   const char *json, size_t len);

void rh_stats_start(struct rh_stats *s, struct ev_loop *loop, const struct rh_opts *o);
void rh_stats_stop(struct rh_stats *s);

/* A blocking connect within timeout_ms: 0, or -1 with errno set. */
int rh_probe(const struct sockaddr_storage *addr, socklen_t len, int timeout_ms);

#endif
