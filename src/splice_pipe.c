/*
 * splice_pipe: pipes for zero-copy body relay (see splice_pipe.h).
 */
#include "splice_pipe.h"

#include <errno.h>
#include <fcntl.h>
#include <unistd.h>

/* 256 KiB per pipe: a quarter of the splice calls of the default 64 KiB
 * for large bodies, and pipes are only held while a body flows. */
#define PIPE_WANT (256 * 1024)
#define PIPE_CACHE_MAX 16

static _Thread_local struct splice_pipe cache[PIPE_CACHE_MAX];
static _Thread_local unsigned cached;

int splice_pipe_get(struct splice_pipe *p)
{
    int fds[2];

    if (cached) {
        *p = cache[--cached];
        return 0;
    }
    if (pipe2(fds, O_NONBLOCK | O_CLOEXEC) < 0)
        return -1;
    int cap = fcntl(fds[1], F_SETPIPE_SZ, PIPE_WANT);
    if (cap < 0)
        cap = fcntl(fds[1], F_GETPIPE_SZ);
    if (cap <= 0) {
        close(fds[0]);
        close(fds[1]);
        return -1;
    }
    p->rd = fds[0];
    p->wr = fds[1];
    p->cap = (size_t)cap;
    p->held = 0;
    return 0;
}

void splice_pipe_put(struct splice_pipe *p)
{
    if (p->held == 0 && cached < PIPE_CACHE_MAX) {
        cache[cached++] = *p;
    } else {
        close(p->rd);
        close(p->wr);
    }
    p->rd = p->wr = -1;
}

void splice_pipe_cache_clear(void)
{
    while (cached) {
        cached--;
        close(cache[cached].rd);
        close(cache[cached].wr);
    }
}

ssize_t splice_pipe_fill(struct splice_pipe *p, int from, size_t max)
{
    size_t room = p->cap - p->held;
    if (max > room)
        max = room;
    if (max == 0) {
        errno = EAGAIN;
        return -1;
    }
    ssize_t n = splice(from, NULL, p->wr, NULL, max, SPLICE_F_MOVE | SPLICE_F_NONBLOCK);
    if (n > 0)
        p->held += (size_t)n;
    return n;
}

ssize_t splice_pipe_drain(struct splice_pipe *p, int to)
{
    if (p->held == 0)
        return 0;
    ssize_t n = splice(p->rd, NULL, to, NULL, p->held, SPLICE_F_MOVE | SPLICE_F_NONBLOCK);
    if (n > 0)
        p->held -= (size_t)n;
    return n;
}
