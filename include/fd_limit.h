/*
 * fd_limit: fits RLIMIT_NOFILE to what a configuration needs.
 *
 * Every client connection takes two fds (its own and one to a server), so
 * `max-conns 25000` under a limit of 20000 cannot be honoured: accept(2)
 * and health checks would fail with EMFILE long before max-conns.  At start
 * (and at a reload that needs more) the soft limit is raised to the hard
 * one, the hard one too when the process may (root, CAP_SYS_RESOURCE), and
 * a warning gives the numbers when that is still not enough.
 */
#ifndef PROXY_FD_LIMIT_H
#define PROXY_FD_LIMIT_H

#include "config.h"

/* About how many fds cfg needs with nworkers workers: two per client
 * connection, one per server (its check), one per listen address and
 * worker, and a margin for the process's own (logs, stats port, event
 * loops, pipes). */
unsigned long long fd_limit_needed(const struct config *cfg, unsigned nworkers);

/* Raises RLIMIT_NOFILE towards fd_limit_needed(), or warns when it cannot
 * reach it.  Returns the soft limit in force afterwards. */
unsigned long long fd_limit_fit(const struct config *cfg, unsigned nworkers);

#endif
