/*
 * listen: listening sockets per address and worker (see listen.h).
 */
#include "listen.h"

#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "clock.h"
#include "log.h"

#define LISTEN_BACKLOG 4096
/* How often a start waiting for an address in use tries again. */
#define LISTEN_RETRY_MS 200

static int open_one(const struct config_addr *addr)
{
    int one = 1;
    int fd = socket(addr->sa.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);

    if (fd < 0)
        return -1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof one);
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    if (addr->sa.ss_family == AF_INET6)
        setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one);
    if (bind(fd, (const struct sockaddr *)&addr->sa, addr->len) < 0 || listen(fd, LISTEN_BACKLOG) < 0) {
        int saved = errno;
        close(fd);
        errno = saved;
        return -1;
    }
    return fd;
}

/* SO_REUSEPORT would let this process share a port that another process
 * (a second proxy started by mistake) already listens on, splitting the
 * traffic silently.  A probe bind without it fails in that case. */
static int address_taken(const struct config_addr *addr)
{
    int one = 1;
    int fd = socket(addr->sa.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return 0;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (addr->sa.ss_family == AF_INET6)
        setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one);
    int taken = bind(fd, (const struct sockaddr *)&addr->sa, addr->len) < 0 && errno == EADDRINUSE;
    close(fd);
    if (taken)
        errno = EADDRINUSE;
    return taken;
}

static const int *find_prev(const struct listen_set *prev, const struct config_addr *addr)
{
    if (!prev)
        return NULL;
    for (size_t i = 0; i < prev->naddrs; i++)
        if (config_addr_equal(&prev->addrs[i], addr))
            return &prev->fds[i * prev->nworkers];
    return NULL;
}

/* Opens address i's socket for every worker, or reuses prev's.  On failure
 * closes what it opened and returns -1 with errno set. */
static int open_addr(struct listen_set *set, size_t i, const struct config_addr *addr,
                     const struct listen_set *prev)
{
    const int *old = find_prev(prev, addr);
    unsigned nworkers = set->nworkers;
    int *fds = &set->fds[i * nworkers];

    if (!old && address_taken(addr))
        return -1;
    for (unsigned k = 0; k < nworkers; k++) {
        fds[k] = old ? old[k] : open_one(addr);
        if (fds[k] < 0) {
            int saved = errno;
            for (unsigned j = 0; j < k && !old; j++)
                close(fds[j]);
            errno = saved;
            return -1;
        }
    }
    return 0;
}

static void sleep_ms(unsigned ms)
{
    struct timespec ts = { .tv_sec = ms / 1000, .tv_nsec = (long)(ms % 1000) * 1000000L };

    while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
        ;
}

/* Opens address i, retrying while it is in use until `deadline` (now_ms()). */
static int open_addr_wait(struct listen_set *set, size_t i, const struct config_addr *addr,
                          const struct listen_set *prev, uint64_t deadline)
{
    uint64_t start = now_ms();
    int waited = 0;

    while (open_addr(set, i, addr, prev) < 0) {
        if (errno != EADDRINUSE)
            return -1;
        if (now_ms() >= deadline) {
            if (waited)
                log_warnx("listen %s: still in use after %.1fs, giving up", addr->text,
                          (double)(now_ms() - start) / 1000.0);
            errno = EADDRINUSE;
            return -1;
        }
        if (!waited)
            log_warnx("listen %s: address in use, waiting up to %.1fs for it to be released",
                      addr->text, (double)(deadline - start) / 1000.0);
        waited = 1;
        sleep_ms(LISTEN_RETRY_MS);
    }
    if (waited)
        log_info("listen %s: bound after waiting %.1fs", addr->text,
                 (double)(now_ms() - start) / 1000.0);
    return 0;
}

/* TCP_DEFER_ACCEPT on address i's sockets, or off (a reload may change
 * it on a socket kept).  The kernel answers the handshake but hands the
 * connection over only once its first bytes are in: accept and the first
 * read come in one wake-up, and a connection that never sends costs no
 * session.  One that stays silent for `timeout client` is then handed
 * over anyway (and answered 408 as any slow one). */
static void set_defer_accept(const struct listen_set *set, size_t i, const struct config *cfg)
{
    int secs = 0;
    if (cfg->listens[i].defer_accept)
        secs = (int)((cfg->timeout_client_ms + 999) / 1000);
    for (unsigned k = 0; k < set->nworkers; k++)
        if (setsockopt(set->fds[i * set->nworkers + k], IPPROTO_TCP, TCP_DEFER_ACCEPT, &secs, sizeof secs) < 0)
            log_warn("listen %s: defer-accept", cfg->listens[i].addr.text);
}

int listen_set_open(struct listen_set *set, const struct config *cfg, unsigned nworkers,
                    const struct listen_set *prev)
{
    return listen_set_open_wait(set, cfg, nworkers, prev, 0);
}

int listen_set_open_wait(struct listen_set *set, const struct config *cfg, unsigned nworkers,
                         const struct listen_set *prev, unsigned wait_ms)
{
    size_t n = cfg->nlistens;
    uint64_t deadline = now_ms() + wait_ms;

    if (n > LISTEN_ADDRS_MAX) {
        log_errorx("too many listen addresses (at most %d)", LISTEN_ADDRS_MAX);
        return -1;
    }
    memset(set, 0, sizeof *set);
    set->nworkers = nworkers;
    set->fds = malloc(n * nworkers * sizeof *set->fds + 1);
    if (!set->fds)
        return -1;
    for (size_t i = 0; i < n; i++) {
        const struct config_addr *addr = &cfg->listens[i].addr;
        set->addrs[i] = *addr;
        if (open_addr_wait(set, i, addr, prev, deadline) < 0) {
            log_error("%s:%d: listen %s", cfg->file ? cfg->file : "config", cfg->listens[i].line,
                      addr->text);
            /* Close what this call opened, keep what prev owns. */
            listen_set_close_unused(set, prev);
            listen_set_free(set);
            return -1;
        }
        set->naddrs = i + 1;
        set_defer_accept(set, i, cfg);
    }
    return 0;
}

static int holds(const struct listen_set *set, int fd)
{
    if (!set)
        return 0;
    for (size_t i = 0; i < set->naddrs * set->nworkers; i++)
        if (set->fds[i] == fd)
            return 1;
    return 0;
}

void listen_set_close_unused(const struct listen_set *old, const struct listen_set *now)
{
    if (!old)
        return;
    for (size_t i = 0; i < old->naddrs * old->nworkers; i++)
        if (!holds(now, old->fds[i]))
            close(old->fds[i]);
}

void listen_set_free(struct listen_set *set)
{
    free(set->fds);
    set->fds = NULL;
    set->naddrs = 0;
}
