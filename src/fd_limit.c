/*
 * fd_limit: RLIMIT_NOFILE against max-conns (see fd_limit.h).
 */
#include "fd_limit.h"

#include <errno.h>
#include <sys/resource.h>

#include "log.h"

/* The process's own fds besides connections: stdio, the access log, the
 * stats port and its clients, epoll and eventfds, splice pipes in use. */
#define FD_MARGIN 64
/* Per worker: its event loop's epoll fd and wake-up eventfds, io_uring. */
#define FD_PER_WORKER 8

unsigned long long fd_limit_needed(const struct config *cfg, unsigned nworkers)
{
    unsigned long long n = 2ULL * cfg->max_conns + FD_MARGIN;

    for (size_t i = 0; i < cfg->npools; i++)
        n += cfg->pools[i].nservers;
    n += (unsigned long long)nworkers * (cfg->nlistens + FD_PER_WORKER);
    return n;
}

unsigned long long fd_limit_fit(const struct config *cfg, unsigned nworkers)
{
    unsigned long long need = fd_limit_needed(cfg, nworkers);
    struct rlimit rl;

    if (getrlimit(RLIMIT_NOFILE, &rl) < 0) {
        log_warn("getrlimit(RLIMIT_NOFILE)");
        return 0;
    }
    /* The hard limit first, when it is short and the process may raise it
     * (it fails with EPERM otherwise, or past fs.nr_open: then the hard
     * limit stays and the warning below says so). */
    if (rl.rlim_max != RLIM_INFINITY && rl.rlim_max < need) {
        struct rlimit more = { .rlim_cur = need, .rlim_max = need };
        if (setrlimit(RLIMIT_NOFILE, &more) == 0) {
            log_info("fd limit raised from %llu (hard %llu) to %llu for max-conns %u",
                     (unsigned long long)rl.rlim_cur, (unsigned long long)rl.rlim_max, need,
                     cfg->max_conns);
            return need;
        }
    }
    /* More than the need is harmless (the event loop is epoll, not
     * select), and leaves room for what the estimate misses. */
    if (rl.rlim_cur < rl.rlim_max) {
        struct rlimit up = { .rlim_cur = rl.rlim_max, .rlim_max = rl.rlim_max };
        if (setrlimit(RLIMIT_NOFILE, &up) == 0)
            rl.rlim_cur = rl.rlim_max;
    }
    if (rl.rlim_cur != RLIM_INFINITY && rl.rlim_cur < need)
        log_warnx("max-conns %u needs about %llu fds but the limit is %llu: clients and "
                  "health checks will fail with EMFILE before max-conns (raise the limit: "
                  "ulimit -n, systemd LimitNOFILE=; or lower max-conns)",
                  cfg->max_conns, need, (unsigned long long)rl.rlim_cur);
    return rl.rlim_cur;
}
