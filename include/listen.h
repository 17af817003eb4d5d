/*
 * listen: the listening sockets, one per listen address and worker (each
 * with SO_REUSEPORT, so the kernel spreads connections over the workers),
 * kept across reloads for addresses that stay.
 */
#ifndef PROXY_LISTEN_H
#define PROXY_LISTEN_H

#include <stddef.h>

#include "config.h"

/* Listen addresses one configuration may have. */
#define LISTEN_ADDRS_MAX 32

struct listen_set {
    size_t naddrs;
    unsigned nworkers;
    struct config_addr addrs[LISTEN_ADDRS_MAX];
    int *fds; /* fds[i * nworkers + k]: address i, worker k */
};

/* Opens the sockets for cfg's listen lines, reusing those of `prev` (may be
 * NULL) for addresses that stay.  Returns 0, or -1 after logging which
 * address failed and why (nothing of prev is closed then). */
int listen_set_open(struct listen_set *set, const struct config *cfg, unsigned nworkers,
                    const struct listen_set *prev);
/* The same, but an address in use (EADDRINUSE: the previous process not
 * yet gone, or any other holder) is tried again every 200ms for up to
 * wait_ms in all, saying so in the log once, before giving up.  For the
 * start: a reload must not block the main loop. */
int listen_set_open_wait(struct listen_set *set, const struct config *cfg, unsigned nworkers,
                         const struct listen_set *prev, unsigned wait_ms);
/* Closes the sockets of `old` that `now` does not hold (NULL: all). */
void listen_set_close_unused(const struct listen_set *old, const struct listen_set *now);
void listen_set_free(struct listen_set *set);

#endif
