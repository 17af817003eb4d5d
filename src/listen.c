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
#include <unistd.h>

#include "log.h"

#define LISTEN_BACKLOG 4096

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

int listen_set_open(struct listen_set *set, const struct config *cfg, unsigned nworkers,
                    const struct listen_set *prev)
{
    size_t n = cfg->nlistens;

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
        const int *old = find_prev(prev, addr);
        set->addrs[i] = *addr;
        set->naddrs = i + 1;
        int taken = !old && address_taken(addr);
        for (unsigned k = 0; k < nworkers; k++) {
            set->fds[i * nworkers + k] = old ? old[k] : taken ? -1 : open_one(addr);
            if (set->fds[i * nworkers + k] < 0) {
                log_error("%s:%d: listen %s", cfg->file ? cfg->file : "config", cfg->listens[i].line,
                          addr->text);
                /* Close what this call opened, keep what prev owns. */
                for (unsigned j = 0; j < k; j++)
                    if (!old)
                        close(set->fds[i * nworkers + j]);
                set->naddrs = i;
                listen_set_close_unused(set, prev);
                listen_set_free(set);
                return -1;
            }
        }
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
